//! Custom tools: per-service, operator-defined queries (`tools = { name = {...} }`), read-only
//! unless the tool says `writes = true` on a writable service.
//!
//! Each tool is one SELECT (or, when it writes, one INSERT, UPDATE or DELETE checked by
//! [`crate::sql::write_check`]) with named placeholders (`:country`, and `:user.<attr>` filled from the
//! caller's identity). At configuration time the placeholders are rewritten, token by token, to the
//! dialect's numbered ones (`?1` / `$1`), never by putting a value into the text, and the statement
//! is parsed as a read query. At call time the arguments are checked against the declared
//! parameters before any SQL runs, and the SQL goes through the same checks as `query_sql`
//! (visible tables and columns, allow-listed functions, no table with a row policy).
//!
//! The configuration types are always compiled (so a service can refuse `tools` without the
//! feature); parsing and running need the cargo feature `query-sql` (the SQL parser).
#![cfg_attr(not(feature = "query-sql"), allow(dead_code))]

use serde_json::{json, Map, Value as Json};

/// One operator-defined tool, as configured and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomTool {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The SQL with its named placeholders rewritten to the dialect's numbered ones.
    pub sql: String,
    /// What each numbered placeholder binds, in number order (`?1` is `binds[0]`).
    pub binds: Vec<Bind>,
    /// The declared parameters, in name order.
    pub parameters: Vec<(String, Param)>,
    pub required: Vec<String>,
    pub enabled: bool,
    /// `Some` for a tool that writes (`writes = true`): what its statement does.
    pub write: Option<WriteKind>,
    /// Hints the operator may add (`annotations`); the rest are derived from the statement.
    pub hints: Hints,
}

/// The annotations an operator may set. `readOnlyHint` always follows `writes`, and
/// `destructiveHint` may only be raised: a hint never claims a tool is safer than its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hints {
    /// `destructiveHint: true` on an INSERT (e.g. one that fires triggers).
    pub destructive: bool,
    /// `idempotentHint: true` on a write (reads always are).
    pub idempotent: bool,
    /// `openWorldHint` (default false: the tool reaches only this database).
    pub open_world: bool,
}

impl Hints {
    /// Parses `annotations = { idempotentHint = true, ... }` for a tool whose statement is
    /// `write` (`None`: a read).
    pub fn parse(value: &Json, write: Option<WriteKind>) -> Result<Hints, String> {
        let Some(object) = value.as_object() else {
            return Err(format!("annotations: must be an object like {{ idempotentHint = true }}, got {value}"));
        };
        let mut hints = Hints::default();
        for (key, value) in object {
            let Some(flag) = value.as_bool() else {
                return Err(format!("annotations.{key}: must be true or false, got {value}"));
            };
            match key.as_str() {
                "readOnlyHint" if flag == write.is_none() => {}
                "readOnlyHint" => {
                    return Err("annotations.readOnlyHint: follows writes (true for a read, false for a write); \
                                leave it out"
                        .into())
                }
                "destructiveHint" => match write {
                    None if flag => return Err("annotations.destructiveHint: a read is never destructive".into()),
                    Some(kind) if !flag && kind.destructive() => {
                        return Err(
                            "annotations.destructiveHint: an UPDATE, DELETE or upsert can change existing rows, \
                             so it stays true"
                                .into(),
                        )
                    }
                    _ => hints.destructive = flag,
                },
                "idempotentHint" => match write {
                    None if !flag => return Err("annotations.idempotentHint: a read is always idempotent".into()),
                    _ => hints.idempotent = flag,
                },
                "openWorldHint" => hints.open_world = flag,
                other => {
                    return Err(format!(
                        "annotations.{other}: unknown; hints are readOnlyHint, destructiveHint, idempotentHint, \
                         openWorldHint (the title is the tool's title)"
                    ))
                }
            }
        }
        Ok(hints)
    }
}

/// What a tool that writes does, from its statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Insert,
    /// `INSERT ... ON CONFLICT ... DO UPDATE`: may overwrite rows.
    Upsert,
    Update,
    Delete,
}

impl WriteKind {
    /// Whether the write can change or remove existing rows (an INSERT only adds).
    pub fn destructive(self) -> bool {
        self != WriteKind::Insert
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// An argument of the call (`:name`).
    Argument(String),
    /// An attribute of the caller (`:user.<attr>`; `id` and `name` included).
    Caller(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
}

impl ParamType {
    fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub kind: ParamType,
    pub description: Option<String>,
    pub max_length: Option<u64>,
    pub allowed: Option<Vec<String>>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub default: Option<Json>,
}

/// Tools one service may define.
pub const MAX_TOOLS: usize = 50;
/// Parameters one tool may declare.
pub const MAX_PARAMETERS: usize = 20;

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

impl Param {
    /// Checks one value against the declaration; `Err` says why, naming the parameter.
    pub fn check(&self, name: &str, value: &Json) -> Result<(), String> {
        let wrong = || format!("parameter {name:?} must be {} {}, got {value}", article(self.kind), self.kind.name());
        match self.kind {
            ParamType::String => {
                let Some(text) = value.as_str() else { return Err(wrong()) };
                if let Some(max) = self.max_length {
                    if text.chars().count() as u64 > max {
                        return Err(format!("parameter {name:?} is longer than its maxLength of {max}"));
                    }
                }
                if let Some(allowed) = &self.allowed {
                    if !allowed.iter().any(|a| a == text) {
                        return Err(format!("parameter {name:?} must be one of: {}", allowed.join(", ")));
                    }
                }
                Ok(())
            }
            ParamType::Boolean => value.as_bool().map(|_| ()).ok_or_else(wrong),
            ParamType::Integer | ParamType::Number => {
                let number = match self.kind {
                    ParamType::Integer => value.as_i64().map(|n| n as f64),
                    _ => value.as_f64(),
                };
                let Some(number) = number else { return Err(wrong()) };
                if let Some(min) = self.minimum {
                    if number < min {
                        return Err(format!("parameter {name:?} must be at least {min}, got {value}"));
                    }
                }
                if let Some(max) = self.maximum {
                    if number > max {
                        return Err(format!("parameter {name:?} must be at most {max}, got {value}"));
                    }
                }
                Ok(())
            }
        }
    }

    fn to_schema(&self) -> Json {
        let mut schema = Map::new();
        schema.insert("type".into(), json!(self.kind.name()));
        if let Some(d) = &self.description {
            schema.insert("description".into(), json!(d));
        }
        if let Some(m) = self.max_length {
            schema.insert("maxLength".into(), json!(m));
        }
        if let Some(a) = &self.allowed {
            schema.insert("enum".into(), json!(a));
        }
        if let Some(m) = self.minimum {
            schema.insert("minimum".into(), number_json(m));
        }
        if let Some(m) = self.maximum {
            schema.insert("maximum".into(), number_json(m));
        }
        if let Some(d) = &self.default {
            schema.insert("default".into(), d.clone());
        }
        Json::Object(schema)
    }
}

fn article(kind: ParamType) -> &'static str {
    if kind == ParamType::Integer {
        "an"
    } else {
        "a"
    }
}

/// Whole bounds print as integers (`1`, not `1.0`) in the input schema.
fn number_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

impl CustomTool {
    /// The `Tool` object of `tools/list`.
    pub fn to_json(&self) -> Json {
        let mut properties: Map<String, Json> =
            self.parameters.iter().map(|(name, param)| (name.clone(), param.to_schema())).collect();
        if let Some(kind) = self.write {
            // A write may need the person's confirmation (services with confirm_writes).
            properties.insert(super::confirm::ARGUMENT.into(), super::confirm::input_property());
            return json!({
                "name": self.name,
                "title": self.title,
                "description": self.description,
                "inputSchema": {
                    "type": "object",
                    "properties": properties,
                    "required": self.required,
                    "additionalProperties": false
                },
                "outputSchema": write_output_schema(),
                "annotations": {
                    "title": self.title,
                    "readOnlyHint": false,
                    "destructiveHint": kind.destructive() || self.hints.destructive,
                    "idempotentHint": self.hints.idempotent,
                    "openWorldHint": self.hints.open_world,
                },
            });
        }
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": {
                "type": "object",
                "properties": properties,
                "required": self.required,
                "additionalProperties": false
            },
            "outputSchema": rows_output_schema(),
            "annotations": {
                "title": self.title,
                "readOnlyHint": true,
                "destructiveHint": false,
                "idempotentHint": true,
                "openWorldHint": self.hints.open_world,
            },
        })
    }

    /// The values to bind, in placeholder order, from the call's arguments and the caller;
    /// every problem is found before any SQL runs.
    pub fn bind_values(&self, args: &Json, caller: &crate::rows::Caller) -> Result<Vec<Json>, String> {
        let empty = Map::new();
        let args = match args {
            Json::Null => &empty,
            Json::Object(map) => map,
            other => return Err(format!("invalid arguments: expected an object, got {other}")),
        };
        if let Some(unknown) = args.keys().find(|k| !self.parameters.iter().any(|(name, _)| name == *k)) {
            let names: Vec<&str> = self.parameters.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "unknown parameter {unknown:?}; {} takes: {}",
                self.name,
                if names.is_empty() { "no parameters".to_string() } else { names.join(", ") }
            ));
        }
        if let Some(missing) = self.required.iter().find(|r| args.get(*r).is_none_or(Json::is_null)) {
            return Err(format!("missing required parameter {missing:?}"));
        }
        // Every argument is checked before the caller's attributes are looked at.
        for (name, value) in args.iter().filter(|(_, v)| !v.is_null()) {
            if let Some((_, param)) = self.parameters.iter().find(|(n, _)| n == name) {
                param.check(name, value)?;
            }
        }
        let mut values = Vec::with_capacity(self.binds.len());
        for bind in &self.binds {
            values.push(match bind {
                Bind::Argument(name) => {
                    let (_, param) = self.parameters.iter().find(|(n, _)| n == name).expect("checked at config time");
                    match args.get(name).filter(|v| !v.is_null()).or(param.default.as_ref()) {
                        Some(value) => {
                            param.check(name, value)?;
                            value.clone()
                        }
                        None => Json::Null,
                    }
                }
                Bind::Caller(attr) => caller_value(caller, attr).ok_or_else(|| {
                    format!(
                        "this tool needs the caller's {attr:?} attribute, which this credential does not have; \
                         ask an administrator to set it"
                    )
                })?,
            });
        }
        Ok(values)
    }
}

fn caller_value(caller: &crate::rows::Caller, attr: &str) -> Option<Json> {
    match attr {
        "id" => caller.id.clone().map(Json::String),
        "name" => caller.name.clone().map(Json::String),
        other => caller.attributes.get(other).filter(|v| !v.is_null()).cloned(),
    }
}

/// The result of a tool that writes (or of its confirmation request).
fn write_output_schema() -> Json {
    super::confirm::with_output_properties(super::object_schema(
        json!({
            "tool": { "type": "string" },
            "table": { "type": "string" },
            "rows_written": { "type": "integer", "description": "Rows the statement inserted, updated or deleted." }
        }),
        &["rows_written"],
    ))
}

/// Configuration errors of a service's tools that need the service's settings: a tool that
/// writes on a read-only service.
pub fn service_problems(service: &str, read_only: bool, tools: &[CustomTool]) -> Vec<String> {
    tools
        .iter()
        .filter(|t| t.write.is_some() && read_only)
        .map(|t| {
            format!(
                "tools.{}: writes = true, but the service {service:?} is read-only (read_only is true unless the service sets read_only = false)",
                t.name
            )
        })
        .collect()
}

/// The result shape, shared with `query_sql`.
pub fn rows_output_schema() -> Json {
    super::object_schema(
        json!({
            "columns": { "type": "array", "items": { "type": "string" } },
            "records": { "type": "array", "items": { "type": "object" } },
            "returned": { "type": "integer" },
            "limit": { "type": "integer" },
            "truncated": { "type": "boolean", "description": "True when the service's row cap cut the result." }
        }),
        &["columns", "records", "returned", "limit", "truncated"],
    )
}

#[cfg(feature = "query-sql")]
pub use with_parser::{parse, rewrite_placeholders, run, write_table_allowed};

#[cfg(feature = "query-sql")]
mod with_parser {
    use std::collections::BTreeMap;

    use serde_json::Value as Json;
    use sqlparser::dialect::{PostgreSqlDialect, SQLiteDialect};
    use sqlparser::tokenizer::{Token, Tokenizer};

    use super::{valid_name, Bind, CustomTool, Param, ParamType, MAX_PARAMETERS, MAX_TOOLS};
    use crate::db::{SqlValue, Statement};
    use crate::sql::readonly::{self, Visibility};
    use crate::sql::{write_check, Dialect};
    use crate::tools::{ToolContext, ToolError, ToolResult};

    /// Rewrites `:name` and `:user.attr` to the dialect's numbered placeholders, found on the
    /// token stream (string literals, quoted names and comments are other tokens, left alone);
    /// every other character of the text is kept as written. Returns the new SQL and what each
    /// number binds; the same name reuses its number.
    pub fn rewrite_placeholders(dialect: Dialect, sql: &str) -> Result<(String, Vec<Bind>), String> {
        let tokens = match dialect {
            Dialect::Sqlite => Tokenizer::new(&SQLiteDialect {}, sql).tokenize_with_location(),
            Dialect::Postgres => Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location(),
        }
        .map_err(|e| format!("could not parse the SQL: {e}"))?;
        let offsets = LineOffsets::of(sql);
        let word = |i: usize| match tokens.get(i).map(|t| &t.token) {
            Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.clone()),
            _ => None,
        };
        let mut out = String::with_capacity(sql.len());
        let mut copied = 0;
        let mut binds: Vec<Bind> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match (&tokens[i].token, word(i + 1)) {
                (Token::Colon, Some(name)) => {
                    let (bind, used) = if name.eq_ignore_ascii_case("user") {
                        match (tokens.get(i + 2).map(|t| &t.token), word(i + 3)) {
                            (Some(Token::Period), Some(attr)) if valid_name(&attr) => (Bind::Caller(attr), 4),
                            _ => return Err("`:user` must be followed by an attribute, as in :user.customer_id".into()),
                        }
                    } else if valid_name(&name) {
                        (Bind::Argument(name), 2)
                    } else {
                        return Err(format!("invalid parameter name {name:?}"));
                    };
                    let number = match binds.iter().position(|b| *b == bind) {
                        Some(index) => index + 1,
                        None => {
                            binds.push(bind);
                            binds.len()
                        }
                    };
                    let start = offsets.byte(sql, tokens[i].span.start.line, tokens[i].span.start.column)?;
                    let last = &tokens[i + used - 1].span.end;
                    let end = offsets.byte(sql, last.line, last.column)?;
                    out.push_str(&sql[copied..start]);
                    out.push_str(&match dialect {
                        Dialect::Sqlite => format!("?{number}"),
                        Dialect::Postgres => format!("${number}"),
                    });
                    copied = end;
                    i += used;
                }
                (Token::Placeholder(p), _) => {
                    return Err(format!("use named parameters (:name) in a custom tool, not {p}"));
                }
                _ => i += 1,
            }
        }
        out.push_str(&sql[copied..]);
        Ok((out, binds))
    }

    /// Byte offsets of line starts, to turn the tokenizer's (line, column) into a byte index.
    struct LineOffsets(Vec<usize>);

    impl LineOffsets {
        fn of(sql: &str) -> LineOffsets {
            let starts = std::iter::once(0).chain(sql.match_indices('\n').map(|(i, _)| i + 1)).collect();
            LineOffsets(starts)
        }

        /// Line and column from 1; the column counts characters.
        fn byte(&self, sql: &str, line: u64, column: u64) -> Result<usize, String> {
            let start = *self.0.get((line as usize).wrapping_sub(1)).ok_or("the SQL could not be tokenized")?;
            let rest = &sql[start..];
            let skip = (column as usize).saturating_sub(1);
            Ok(start + rest.char_indices().nth(skip).map(|(i, _)| i).unwrap_or(rest.len()))
        }
    }

    /// Parses the `tools` setting of a service on `dialect`; every problem, each naming its field.
    pub fn parse(value: &Json, dialect: Dialect) -> Result<Vec<CustomTool>, Vec<String>> {
        let mut errors = Vec::new();
        let Some(map) = value.as_object() else {
            return Err(vec![format!("tools: must be an object of tool name to definition, got {value}")]);
        };
        if map.len() > MAX_TOOLS {
            errors.push(format!("tools: at most {MAX_TOOLS} tools, got {}", map.len()));
        }
        let mut tools = Vec::new();
        for (name, definition) in map {
            let at = format!("tools.{name}");
            match parse_tool(name, definition, dialect) {
                Ok(tool) => tools.push(tool),
                Err(problems) => errors.extend(problems.into_iter().map(|p| format!("{at}: {p}"))),
            }
        }
        // Listed by name, whatever order the configuration's object kept.
        crate::sort::sort_by(&mut tools, |a, b| a.name.cmp(&b.name));
        if errors.is_empty() {
            Ok(tools)
        } else {
            Err(errors)
        }
    }

    fn parse_tool(name: &str, value: &Json, dialect: Dialect) -> Result<CustomTool, Vec<String>> {
        let one = |m: String| vec![m];
        if !valid_name(name) {
            return Err(one("a tool name is letters, digits and _ (at most 64), starting with a letter or _".into()));
        }
        if crate::tools::find(name).is_some() || name == "query_sql" {
            return Err(one(format!("{name:?} is the name of a built-in tool; choose another name")));
        }
        let Some(object) = value.as_object() else { return Err(one(format!("must be an object, got {value}"))) };
        const FIELDS: [&str; 8] =
            ["title", "description", "sql", "parameters", "required", "enabled", "writes", "annotations"];
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(one(format!("unknown field {unknown:?}; fields are: {}", FIELDS.join(", "))));
        }
        let text = |field: &str| object.get(field).and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty());
        let writes = match object.get("writes") {
            None => false,
            Some(Json::Bool(b)) => *b,
            Some(other) => return Err(one(format!("writes: must be true or false, got {other}"))),
        };
        let Some(sql) = text("sql") else {
            return Err(one(if writes {
                "sql: missing; give one INSERT, UPDATE or DELETE statement".into()
            } else {
                "sql: missing; give one SELECT statement".into()
            }));
        };
        let Some(description) = text("description") else {
            return Err(one("description: missing; say what the tool returns, for the model".into()));
        };
        let enabled = match object.get("enabled") {
            None => true,
            Some(Json::Bool(b)) => *b,
            Some(other) => return Err(one(format!("enabled: must be true or false, got {other}"))),
        };
        if sql.len() > readonly::MAX_SQL_BYTES {
            return Err(one(format!("sql: at most {} bytes", readonly::MAX_SQL_BYTES)));
        }
        let (rewritten, binds) = rewrite_placeholders(dialect, sql).map_err(|e| one(format!("sql: {e}")))?;
        let write = if writes {
            Some(write_check::check_shape(dialect, &rewritten).map_err(|e| one(format!("sql: {e}")))?)
        } else {
            readonly::check_syntax(dialect, &rewritten).map_err(|e| {
                let hint = if write_check::check_shape(dialect, &rewritten).is_ok() {
                    " (a tool that writes must say writes = true)"
                } else {
                    ""
                };
                one(format!("sql: {e}{hint}"))
            })?;
            None
        };

        let mut errors = Vec::new();
        let hints = match object.get("annotations").map(|value| super::Hints::parse(value, write)) {
            None => super::Hints::default(),
            Some(Ok(hints)) => hints,
            Some(Err(problem)) => {
                errors.push(problem);
                super::Hints::default()
            }
        };
        let parameters = match object.get("parameters") {
            None => BTreeMap::new(),
            Some(Json::Object(map)) => {
                if map.len() > MAX_PARAMETERS {
                    errors.push(format!("parameters: at most {MAX_PARAMETERS}"));
                }
                let mut parameters = BTreeMap::new();
                for (param, spec) in map {
                    if !valid_name(param) || param.eq_ignore_ascii_case("user") {
                        errors.push(format!("parameters.{param}: invalid name (letters, digits, _; not `user`)"));
                        continue;
                    }
                    if writes && param == super::super::confirm::ARGUMENT {
                        errors.push(format!(
                            "parameters.{param}: a tool that writes takes `confirm` for confirmations; rename it"
                        ));
                        continue;
                    }
                    match parse_param(spec) {
                        Ok(p) => {
                            parameters.insert(param.clone(), p);
                        }
                        Err(e) => errors.push(format!("parameters.{param}: {e}")),
                    }
                }
                parameters
            }
            Some(other) => return Err(one(format!("parameters: must be an object, got {other}"))),
        };
        let required: Vec<String> = match object.get("required") {
            None => vec![],
            Some(Json::Array(items)) if items.iter().all(Json::is_string) => {
                items.iter().filter_map(Json::as_str).map(str::to_string).collect()
            }
            Some(other) => return Err(one(format!("required: must be a list of parameter names, got {other}"))),
        };
        for r in &required {
            if !parameters.contains_key(r) {
                errors.push(format!("required: {r:?} is not a declared parameter"));
            }
        }
        for bind in &binds {
            if let Bind::Argument(used) = bind {
                if !parameters.contains_key(used) {
                    errors.push(format!("sql: uses :{used}, which is not a declared parameter"));
                }
            }
        }
        for declared in parameters.keys() {
            if !binds.contains(&Bind::Argument(declared.clone())) {
                errors.push(format!("parameters.{declared}: declared but not used in the SQL (as :{declared})"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CustomTool {
            name: name.to_string(),
            title: text("title").unwrap_or(name).to_string(),
            description: description.to_string(),
            sql: rewritten,
            binds,
            parameters: parameters.into_iter().collect(),
            required,
            enabled,
            write,
            hints,
        })
    }

    fn parse_param(spec: &Json) -> Result<Param, String> {
        let Some(object) = spec.as_object() else { return Err(format!("must be an object, got {spec}")) };
        const FIELDS: [&str; 7] = ["type", "description", "maxLength", "enum", "minimum", "maximum", "default"];
        if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!("unknown field {unknown:?}; fields are: {}", FIELDS.join(", ")));
        }
        let kind = match object.get("type").and_then(Json::as_str) {
            Some("string") => ParamType::String,
            Some("integer") => ParamType::Integer,
            Some("number") => ParamType::Number,
            Some("boolean") => ParamType::Boolean,
            _ => return Err("type: must be \"string\", \"integer\", \"number\" or \"boolean\"".into()),
        };
        let numeric = matches!(kind, ParamType::Integer | ParamType::Number);
        let bound = |field: &str| -> Result<Option<f64>, String> {
            match object.get(field) {
                None => Ok(None),
                Some(v) if numeric => v.as_f64().map(Some).ok_or_else(|| format!("{field}: must be a number")),
                Some(_) => Err(format!("{field}: only for integer and number parameters")),
            }
        };
        let max_length = match object.get("maxLength") {
            None => None,
            Some(v) if kind == ParamType::String => {
                Some(v.as_u64().ok_or("maxLength: must be a non-negative integer".to_string())?)
            }
            Some(_) => return Err("maxLength: only for string parameters".into()),
        };
        let allowed = match object.get("enum") {
            None => None,
            Some(Json::Array(items)) if kind == ParamType::String && items.iter().all(Json::is_string) => {
                Some(items.iter().filter_map(Json::as_str).map(str::to_string).collect())
            }
            Some(_) => return Err("enum: must be a list of strings, on a string parameter".into()),
        };
        let param = Param {
            kind,
            description: object.get("description").and_then(Json::as_str).map(str::to_string),
            max_length,
            allowed,
            minimum: bound("minimum")?,
            maximum: bound("maximum")?,
            default: object.get("default").cloned(),
        };
        if let Some(default) = &param.default {
            param.check("default", default)?;
        }
        Ok(param)
    }

    /// Runs a custom tool: arguments checked, the SQL checked against the caller's schema as
    /// `query_sql` checks it, then run with the row cap and every value bound.
    pub async fn run(ctx: &ToolContext<'_>, tool: &CustomTool, args: Json) -> ToolResult {
        if tool.write.is_some() {
            return run_write(ctx, tool, args).await;
        }
        let values = tool.bind_values(&args, ctx.caller).map_err(ToolError)?;
        let schema = ctx.schema().await?;
        let dialect = ctx.db.dialect();
        let cap = ctx.service.max_rows;
        let visibility = Visibility::of_service(&schema, ctx.service, &crate::tools::query_sql::table_allowed);
        let query = readonly::validate(dialect, &tool.sql, &visibility, cap + 1).map_err(ToolError)?;
        if query.params_needed != values.len() {
            return Err(ToolError::new("this tool's SQL and its parameters disagree; check its configuration"));
        }
        let params: Vec<SqlValue> = values.iter().map(SqlValue::from_json).collect();
        crate::tools::query_sql::run_checked(ctx, Statement::new(query.wrapped, params), cap).await
    }

    /// Whether a tool that writes may write this table: not one with a row policy, which a
    /// free-form statement could write around (refused, saying where the policy does apply).
    pub fn write_table_allowed(table: &crate::schema::Table) -> Result<(), String> {
        match table.rows {
            crate::rows::RowAccess::Open => Ok(()),
            _ => Err(format!(
                "table {:?} has a row policy, which custom tools do not apply; write it with create_records, \
                 update_records or delete_records, which do",
                table.name
            )),
        }
    }

    /// Runs a tool that writes: the service and credential may write, the arguments are checked,
    /// the statement is checked against the caller's schema, the person confirms when the service
    /// asks for it, then the one statement runs (atomic; on PostgreSQL under the statement timeout
    /// every transaction gets) and the result says how many rows it wrote.
    async fn run_write(ctx: &ToolContext<'_>, tool: &CustomTool, args: Json) -> ToolResult {
        if ctx.service.read_only || !ctx.can_write {
            return Err(ToolError(format!(
                "{} writes, and {}",
                tool.name,
                if ctx.service.read_only { "this service is read-only" } else { "this credential may only read" }
            )));
        }
        let values = tool.bind_values(&args, ctx.caller).map_err(ToolError)?;
        let schema = ctx.schema().await?;
        let dialect = ctx.db.dialect();
        let visibility = Visibility::of_service(&schema, ctx.service, &write_table_allowed);
        let checked = write_check::validate(dialect, &tool.sql, &visibility).map_err(ToolError)?;
        if checked.params_needed != values.len() {
            return Err(ToolError::new("this tool's SQL and its parameters disagree; check its configuration"));
        }
        let shown = match &args {
            Json::Object(map) => map.clone(),
            _ => Default::default(),
        };
        let action = crate::tools::confirm::Action::Custom;
        if let crate::tools::confirm::Gate::Ask(result) =
            crate::tools::confirm::gate_call(ctx, action, &tool.name, &shown).await?
        {
            return Ok(result);
        }
        let params: Vec<SqlValue> = values.iter().map(SqlValue::from_json).collect();
        // A batch of one: D1 reports the rows changed only for batches; it is one transaction.
        let mut results = ctx.db.batch(&[Statement::new(checked.sql, params)]).await?;
        let written = results
            .pop()
            .and_then(|r| r.rows_affected)
            .ok_or_else(|| ToolError::new("the statement ran, but the database did not say how many rows it wrote"))?;
        Ok(serde_json::json!({ "tool": tool.name, "table": checked.table, "rows_written": written }))
    }
}
