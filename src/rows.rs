//! Row policy per service and table (`rows = { orders = "customer_id = {user.customer_id}" }`):
//! a condition in the filter language whose `{user.<attr>}` placeholders are filled from the
//! caller's identity (attributes an administrator sets on API keys and users; `{user.id}` and
//! `{user.name}` are built in). The SQL builder ANDs it, as a parsed tree with the values bound as
//! parameters, into every statement that reads or changes rows of the table, and refuses a
//! written row that would fall outside it. A caller lacking an attribute a policy needs gets an
//! error for that table: no rows, no writes (fail closed).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::db::SqlValue;
use crate::filter::{CompareOp, Expr, Literal};
use crate::schema::{Column, Schema, TableKind};
use crate::sql::{Dialect, SqlError};

/// Attributes one key or user may carry.
pub const MAX_ATTRIBUTES: usize = 32;
/// Characters of an attribute name.
pub const MAX_ATTRIBUTE_NAME: usize = 64;
/// Characters of a text attribute value.
pub const MAX_ATTRIBUTE_TEXT: usize = 256;

/// Marks a placeholder inside the policy text handed to the filter parser (as a string literal):
/// the parser then places it exactly where a value may stand. NUL never occurs in a policy
/// written in the configuration (refused when parsing it).
const PLACEHOLDER_MARK: &str = "\u{0}dbmcp:";

/// Who calls, as far as row policies are concerned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// `{user.id}`: the API key's id or the OAuth user's name; `None` when anonymous.
    pub id: Option<String>,
    /// `{user.name}`: the API key's label or the OAuth user's name.
    pub name: Option<String>,
    /// `{user.<attr>}`: the attributes an administrator set.
    pub attributes: Map<String, Json>,
}

/// Checks attributes as an administrator sends them: a flat JSON object of at most
/// [`MAX_ATTRIBUTES`] names (`[A-Za-z_][A-Za-z0-9_]*`, not `id` or `name`) to strings, integers,
/// numbers or booleans.
pub fn validate_attributes(value: &Json) -> Result<Map<String, Json>, String> {
    let Some(map) = value.as_object() else {
        return Err(format!("attributes must be a JSON object like {{\"customer_id\": 42}}, got {value}"));
    };
    if map.len() > MAX_ATTRIBUTES {
        return Err(format!("attributes: at most {MAX_ATTRIBUTES} names, got {}", map.len()));
    }
    for (name, value) in map {
        if !is_attribute_name(name) {
            return Err(format!(
                "attributes: invalid name {name:?}; use 1-{MAX_ATTRIBUTE_NAME} letters, digits and _, not starting with a digit"
            ));
        }
        if name == "id" || name == "name" {
            return Err(format!("attributes: {name:?} is built in ({{user.{name}}}) and cannot be set"));
        }
        match value {
            Json::String(s) if s.chars().count() > MAX_ATTRIBUTE_TEXT => {
                return Err(format!("attributes.{name}: text is limited to {MAX_ATTRIBUTE_TEXT} characters"))
            }
            Json::String(s) if s.contains('\0') => return Err(format!("attributes.{name}: text must not contain NUL")),
            Json::String(_) | Json::Bool(_) => {}
            Json::Number(n) if n.is_i64() || n.as_f64().is_some_and(f64::is_finite) => {}
            other => return Err(format!("attributes.{name}: must be a string, a number or a boolean, got {other}")),
        }
    }
    Ok(map.clone())
}

fn is_attribute_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_ATTRIBUTE_NAME
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// One table's policy as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPolicy {
    /// As written, for messages.
    pub text: String,
    /// Parsed, placeholders still unfilled.
    pub expr: Expr,
}

/// The `rows` setting: table name -> policy.
pub type RowPolicies = BTreeMap<String, RowPolicy>;

/// What the builder may do with a table's rows for the current caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum RowAccess {
    /// No row policy.
    #[default]
    Open,
    /// A policy whose placeholders are not filled yet (the schema shared by every caller); the
    /// builder refuses it, so a path that forgot to bind the caller fails closed.
    Unbound(RowPolicy),
    /// The caller's rows: the policy with its placeholders filled.
    Bound { text: String, expr: Expr },
    /// The caller lacks what the policy needs: every statement on the table is refused.
    Denied(String),
}

impl RowAccess {
    /// The condition every statement on the table must AND in; an error when none may run.
    pub fn condition(&self, table: &str) -> Result<Option<&Expr>, SqlError> {
        match self {
            RowAccess::Open => Ok(None),
            RowAccess::Bound { expr, .. } => Ok(Some(expr)),
            RowAccess::Denied(why) => Err(SqlError::new(why.clone())),
            RowAccess::Unbound(_) => Err(SqlError::new(format!(
                "the row policy of table \"{table}\" was not applied to this caller; refusing to run"
            ))),
        }
    }

    pub fn is_denied(&self) -> bool {
        matches!(self, RowAccess::Denied(_) | RowAccess::Unbound(_))
    }
}

/// Parses the `rows` setting; problems are reported with their path below `rows`.
pub fn parse(value: &Json) -> Result<RowPolicies, Vec<String>> {
    let Some(tables) = value.as_object() else {
        return Err(vec![format!(
            "rows: must be a table of table = \"condition\", e.g. {{ orders = \"customer_id = {{user.customer_id}}\" }}, got {value}"
        )]);
    };
    let mut errors = Vec::new();
    let mut out = RowPolicies::new();
    for (table, text) in tables {
        let Some(text) = text.as_str() else {
            errors.push(format!("rows.{table}: must be a condition (a string), got {text}"));
            continue;
        };
        match parse_policy(text) {
            Ok(expr) => {
                out.insert(table.clone(), RowPolicy { text: text.to_string(), expr });
            }
            Err(why) => errors.push(format!("rows.{table}: {why}")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parses one policy: `{user.<attr>}` placeholders outside quotes become marked string literals.
fn parse_policy(text: &str) -> Result<Expr, String> {
    if text.trim().is_empty() {
        return Err("the condition is empty".into());
    }
    if text.contains('\0') {
        return Err("the condition must not contain NUL".into());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(close) => {
                if c == close {
                    quote = None;
                }
                if c == '{' && close == '\'' && chars[i..].iter().collect::<String>().starts_with("{user.") {
                    return Err("write placeholders without quotes: customer_id = {user.customer_id}".into());
                }
                out.push(c);
            }
            None if c == '{' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| i + p)
                    .ok_or_else(|| format!("unclosed placeholder at character {i}; write {{user.<attribute>}}"))?;
                let inner: String = chars[i + 1..end].iter().collect();
                let attribute =
                    inner.trim().strip_prefix("user.").filter(|a| is_attribute_name(a)).ok_or_else(|| {
                        format!(
                            "invalid placeholder {{{inner}}}; write {{user.<attribute>}}, e.g. {{user.customer_id}}"
                        )
                    })?;
                out.push('\'');
                out.push_str(PLACEHOLDER_MARK);
                out.push_str(attribute);
                out.push('\'');
                i = end + 1;
                continue;
            }
            None => {
                quote = match c {
                    '\'' | '"' | '`' => Some(c),
                    '[' => Some(']'),
                    _ => None,
                };
                out.push(c);
            }
        }
        i += 1;
    }
    let expr = crate::filter::parse(&out).map_err(|e| e.message)?;
    check_placeholder_positions(&expr)?;
    Ok(expr)
}

/// A placeholder in a LIKE pattern would let an attribute's `%` widen the policy: refused.
fn check_placeholder_positions(expr: &Expr) -> Result<(), String> {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            check_placeholder_positions(a)?;
            check_placeholder_positions(b)
        }
        Expr::Not(a) => check_placeholder_positions(a),
        Expr::Like { pattern, .. } if pattern.contains(PLACEHOLDER_MARK) => {
            Err("a placeholder cannot be a LIKE pattern; use =, IN, BETWEEN, CONTAINS or STARTS WITH".into())
        }
        _ => Ok(()),
    }
}

/// Every column a condition names.
fn columns_of(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            columns_of(a, out);
            columns_of(b, out);
        }
        Expr::Not(a) => columns_of(a, out),
        Expr::Compare { column, .. }
        | Expr::In { column, .. }
        | Expr::Like { column, .. }
        | Expr::Text { column, .. }
        | Expr::IsNull { column, .. }
        | Expr::Between { column, .. } => out.push(column.clone()),
        Expr::FullText { columns, .. } => out.extend(columns.iter().cloned()),
    }
}

/// Views (and other relations whose rows come from elsewhere) that read a table with a row
/// policy and have none of their own: they would hand out every row, so they are hidden. Views
/// whose reads are unknown, or that read what they cannot name, go too whenever a policy exists.
pub fn views_to_hide(schema: &Schema, policies: &RowPolicies) -> Vec<String> {
    if policies.is_empty() {
        return vec![];
    }
    let policied = |name: &str| policies.keys().any(|p| crate::columns::names_table(p, name));
    schema
        .tables
        .iter()
        .filter(|t| (t.kind == TableKind::View || schema.view_reads.contains_key(&t.name)) && !policied(&t.name))
        .filter(|t| match schema.view_reads.get(&t.name) {
            None => true,
            Some(reads) => reads.reads_any_table || reads.relations.iter().any(|r| policied(r)),
        })
        .map(|t| t.name.clone())
        .collect()
}

/// Records the policies on the tables of a loaded schema (hidden tables and columns already
/// gone). A policy naming a table or a column the service does not see, or a masked column, is
/// an error: no tool runs until the configuration is fixed.
pub fn apply(mut schema: Schema, policies: &RowPolicies) -> Result<Schema, String> {
    let mut problems = Vec::new();
    for (configured, policy) in policies {
        let Some(table) = schema.tables.iter_mut().find(|t| crate::columns::names_table(configured, &t.name)) else {
            problems.push(format!("table {configured:?} (unknown or hidden)"));
            continue;
        };
        let mut named = Vec::new();
        columns_of(&policy.expr, &mut named);
        for column in named {
            match table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&column)) {
                None => problems.push(format!("column {column:?} of table {configured:?} (unknown or hidden)")),
                Some(c) if table.policy.is_masked(&c.name) => {
                    problems.push(format!("column {column:?} of table {configured:?} (masked)"))
                }
                Some(_) => {}
            }
        }
        table.rows = RowAccess::Unbound(policy.clone());
    }
    if !problems.is_empty() {
        return Err(format!(
            "this service's row policy (setting `rows`) names what it cannot use: {}. Fix the \
             configuration; until then no tool runs",
            problems.join(", ")
        ));
    }
    Ok(schema)
}

/// The schema as `caller` may use it: each policy bound to the caller's values, or denied.
pub fn bind(schema: &Schema, caller: &Caller) -> Schema {
    let mut schema = schema.clone();
    for table in &mut schema.tables {
        if let RowAccess::Unbound(policy) = &table.rows {
            table.rows = match fill(&policy.expr, caller) {
                Ok(expr) => RowAccess::Bound { text: policy.text.clone(), expr },
                Err(missing) => RowAccess::Denied(format!(
                    "table \"{}\" has a row policy that needs {{user.{missing}}}, and this credential has no \
                     attribute {missing:?}: no rows of it are read or written. An administrator sets \
                     attributes on the API key (POST /admin/services/<service>/keys) or the user \
                     (PATCH /admin/services/<service>/users/<name>)",
                    table.name
                )),
            };
        }
    }
    schema
}

/// The policy with its placeholders replaced by the caller's values; `Err(name)` names the
/// first missing one.
fn fill(expr: &Expr, caller: &Caller) -> Result<Expr, String> {
    let value = |literal: &Literal| -> Result<Literal, String> {
        match literal {
            Literal::Text(text) => match text.strip_prefix(PLACEHOLDER_MARK) {
                Some(name) => lookup(caller, name).ok_or_else(|| name.to_string()),
                None => Ok(literal.clone()),
            },
            other => Ok(other.clone()),
        }
    };
    let text = |text: &String| -> Result<String, String> {
        match value(&Literal::Text(text.clone()))? {
            Literal::Text(t) => Ok(t),
            Literal::Integer(i) => Ok(i.to_string()),
            Literal::Number(f) => Ok(f.to_string()),
            Literal::Bool(b) => Ok(b.to_string()),
            Literal::BigNumber(s) => Ok(s),
            Literal::Null => Err("null".into()),
        }
    };
    Ok(match expr {
        Expr::And(a, b) => Expr::And(Box::new(fill(a, caller)?), Box::new(fill(b, caller)?)),
        Expr::Or(a, b) => Expr::Or(Box::new(fill(a, caller)?), Box::new(fill(b, caller)?)),
        Expr::Not(a) => Expr::Not(Box::new(fill(a, caller)?)),
        Expr::Compare { column, op, value: v } => Expr::Compare { column: column.clone(), op: *op, value: value(v)? },
        Expr::In { column, values, negated } => Expr::In {
            column: column.clone(),
            values: values.iter().map(value).collect::<Result<_, _>>()?,
            negated: *negated,
        },
        Expr::Between { column, low, high, negated } => {
            Expr::Between { column: column.clone(), low: value(low)?, high: value(high)?, negated: *negated }
        }
        Expr::Text { column, mode, text: t } => Expr::Text { column: column.clone(), mode: *mode, text: text(t)? },
        other => other.clone(),
    })
}

fn lookup(caller: &Caller, name: &str) -> Option<Literal> {
    let json = match name {
        "id" => caller.id.clone().map(Json::String),
        "name" => caller.name.clone().map(Json::String),
        other => caller.attributes.get(other).cloned(),
    }?;
    match json {
        Json::String(s) => Some(Literal::Text(s)),
        Json::Bool(b) => Some(Literal::Bool(b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Some(Literal::Integer(i)),
            None => n.as_f64().map(Literal::Number),
        },
        _ => None,
    }
}

fn same_value(a: &SqlValue, b: &SqlValue) -> bool {
    match (a, b) {
        (SqlValue::Integer(i), SqlValue::Real(f)) | (SqlValue::Real(f), SqlValue::Integer(i)) => *i as f64 == *f,
        _ => a == b,
    }
}

/// Which write a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Insert,
    Update,
}

/// Refuses a written row that would fall outside the policy. The values are the record's,
/// resolved to real columns and adapted to their types. Decidable: conditions `column = value`
/// joined by AND. An insert must give every such column its value; an update may leave them
/// out (the rows it changes are inside the policy already) or set the same value. A policy with
/// other conditions refuses inserts, and updates that set a column those conditions name.
pub fn check_write(
    d: Dialect,
    table: &crate::schema::Table,
    values: &[(&Column, SqlValue)],
    write: Write,
) -> Result<(), SqlError> {
    let (text, expr) = match &table.rows {
        RowAccess::Open => return Ok(()),
        RowAccess::Bound { text, expr } => (text, expr),
        other => return other.condition(&table.name).map(|_| ()),
    };
    let mut equalities: Vec<(String, &Literal)> = Vec::new();
    let mut undecided: Vec<String> = Vec::new();
    let mut conjuncts = vec![expr];
    while let Some(e) = conjuncts.pop() {
        match e {
            Expr::And(a, b) => conjuncts.extend([a.as_ref(), b.as_ref()]),
            Expr::Compare { column, op: CompareOp::Eq, value } if *value != Literal::Null => {
                equalities.push((column.clone(), value))
            }
            other => columns_of(other, &mut undecided),
        }
    }
    let refuse = |why: String| {
        Err(SqlError::new(format!("refused by the row policy of table \"{}\" ({text}): {why}", table.name)))
    };
    if write == Write::Insert && !undecided.is_empty() {
        return refuse(
            "a new row cannot be checked against it (only conditions `column = value` joined by AND can), so no rows are created"
                .into(),
        );
    }
    for (column, _) in values {
        if undecided.iter().any(|u| u.eq_ignore_ascii_case(&column.name)) {
            return refuse(format!(
                "column \"{}\" cannot be written: the policy's condition on it cannot be checked for a written value",
                column.name
            ));
        }
    }
    for (name, literal) in equalities {
        let Some(column) = table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&name)) else {
            return refuse(format!("the policy names the unknown column \"{name}\""));
        };
        let required = crate::sql::bind::column_value(d, column, crate::sql::literal_value(literal));
        match values.iter().find(|(c, _)| c.name == column.name) {
            Some((_, given)) if same_value(given, &required) => {}
            Some((_, given)) => {
                return refuse(format!(
                    "column \"{}\" must be {} for your rows, not {}",
                    column.name,
                    shown(&required),
                    shown(given)
                ))
            }
            None if write == Write::Insert => {
                return refuse(format!("give column \"{}\" the value {} (your rows)", column.name, shown(&required)))
            }
            None => {}
        }
    }
    Ok(())
}

fn shown(value: &SqlValue) -> String {
    match value {
        SqlValue::Null => "null".into(),
        SqlValue::Bool(b) => b.to_string(),
        SqlValue::Integer(i) => i.to_string(),
        SqlValue::Real(f) => f.to_string(),
        SqlValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
        SqlValue::Json(j) => j.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller(attributes: Json) -> Caller {
        Caller {
            id: Some("k1".into()),
            name: Some("laptop".into()),
            attributes: attributes.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn placeholders_parse_where_values_stand_and_fill_from_the_caller() {
        let policy = parse_policy(
            "customer_id = {user.customer_id} and (region in ({user.region}, 'all') or owner = {user.id})",
        )
        .unwrap();
        let filled = fill(&policy, &caller(json!({ "customer_id": 7, "region": "eu" }))).unwrap();
        let expected = crate::filter::parse("customer_id = 7 and (region in ('eu', 'all') or owner = 'k1')").unwrap();
        assert_eq!(filled, expected);
        assert_eq!(fill(&policy, &caller(json!({ "customer_id": 7 }))).unwrap_err(), "region");
        // A value with quotes or SQL text is one literal, never spliced into the condition.
        let sneaky = fill(&policy, &caller(json!({ "customer_id": "1' or '1'='1", "region": "x" }))).unwrap();
        let Expr::And(left, _) = sneaky else { panic!() };
        assert_eq!(
            *left,
            Expr::Compare {
                column: "customer_id".into(),
                op: CompareOp::Eq,
                value: Literal::Text("1' or '1'='1".into())
            }
        );
    }

    #[test]
    fn bad_policies_are_refused_with_their_path() {
        let errors = parse(&json!({
            "a": "customer_id = {customer_id}",
            "b": "customer_id = '{user.customer_id}'",
            "c": "email like {user.pattern}",
            "d": "customer_id = {user.customer_id",
            "e": 42,
            "f": "",
            "g": "{user.x} = 1",
        }))
        .unwrap_err()
        .join("\n");
        for expected in [
            "rows.a: invalid placeholder {customer_id}",
            "rows.b: write placeholders without quotes",
            "rows.c: a placeholder cannot be a LIKE pattern",
            "rows.d: unclosed placeholder",
            "rows.e: must be a condition (a string), got 42",
            "rows.f: the condition is empty",
            "rows.g: ",
        ] {
            assert!(errors.contains(expected), "{expected}\n{errors}");
        }
        assert!(parse(&json!("x")).unwrap_err()[0].starts_with("rows: must be a table"));
        // Braces inside quotes are text, not placeholders.
        assert!(parse(&json!({ "t": "note = '{curly}' and \"{odd}\" = 1" })).is_ok());
    }

    #[test]
    fn attributes_are_flat_small_and_typed() {
        assert!(validate_attributes(&json!({ "customer_id": 7, "region": "eu", "vip": true, "w": 1.5 })).is_ok());
        for (bad, expected) in [
            (json!([1]), "must be a JSON object"),
            (json!({ "a": { "b": 1 } }), "attributes.a: must be a string, a number or a boolean"),
            (json!({ "a": null }), "attributes.a: must be a string"),
            (json!({ "a": [1] }), "attributes.a: must be a string"),
            (json!({ "1a": 1 }), "invalid name \"1a\""),
            (json!({ "a-b": 1 }), "invalid name \"a-b\""),
            (json!({ "id": "x" }), "\"id\" is built in"),
            (json!({ "a": "x".repeat(257) }), "limited to 256 characters"),
            (json!({ "a": "x\u{0}" }), "must not contain NUL"),
        ] {
            let error = validate_attributes(&bad).unwrap_err();
            assert!(error.contains(expected), "{bad}: {error}");
        }
        let many: Map<String, Json> = (0..33).map(|i| (format!("a{i}"), json!(i))).collect();
        assert!(validate_attributes(&Json::Object(many)).unwrap_err().contains("at most 32"));
    }
}
