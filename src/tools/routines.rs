//! What the four stored-routine tools share: listing routines with their signatures, and calling
//! one with named arguments checked against its signature, every value bound. SQLite (D1) has no
//! stored routines, and the tools say so plainly instead of pretending.

use serde_json::{json, Map, Value as Json};

use super::{ToolContext, ToolError};
use crate::config::RoutinePolicy;
use crate::db::{SqlValue, Statement};
use crate::introspect::postgres::{load_routines, Routine};
use crate::sql::bind::typed_value;
use crate::sql::Dialect;

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Procedure,
    Function,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Procedure => "stored procedures",
            Kind::Function => "stored functions",
        }
    }
    fn singular(self) -> &'static str {
        match self {
            Kind::Procedure => "procedure",
            Kind::Function => "function",
        }
    }
}

pub fn none_on_sqlite(kind: Kind) -> String {
    format!(
        "This service's database is SQLite (Cloudflare D1), which has no {}. Use get_table_data and the write tools instead.",
        kind.plural()
    )
}

/// The routines the service exposes (its `routines` setting): the only ones listed or callable.
async fn routines(ctx: &ToolContext<'_>, kind: Kind) -> Result<Vec<Routine>, ToolError> {
    if ctx.service.routines == RoutinePolicy::None {
        return Ok(vec![]);
    }
    let mut all = load_routines(ctx.db, kind == Kind::Procedure)
        .await
        .map_err(|e| ToolError::new(format!("could not list {}: {e}", kind.plural())))?;
    all.retain(|r| ctx.service.routines.allows(&r.name));
    Ok(all)
}

/// The listing result: the routines, or on SQLite none with the reason.
pub async fn list(ctx: &ToolContext<'_>, kind: Kind) -> Result<Json, ToolError> {
    match ctx.db.dialect() {
        Dialect::Sqlite => Ok(json!({ "routines": [], "note": none_on_sqlite(kind) })),
        Dialect::Postgres => {
            if ctx.service.routines == RoutinePolicy::None {
                return Ok(json!({ "routines": [], "note": format!("This service exposes no {}.", kind.plural()) }));
            }
            Ok(json!({ "routines": routines(ctx, kind).await? }))
        }
    }
}

/// Calls a routine by name.
pub async fn call(ctx: &ToolContext<'_>, kind: Kind, input: CallInput) -> Result<Json, ToolError> {
    if ctx.db.dialect() == Dialect::Sqlite {
        return Err(ToolError::new(none_on_sqlite(kind)));
    }
    let all = routines(ctx, kind).await?;
    let arguments = input.arguments.unwrap_or_default();
    let routine = choose(&all, &input.name, &arguments, kind)?;
    let action = match kind {
        Kind::Procedure => super::confirm::Action::Procedure,
        Kind::Function => super::confirm::Action::Function,
    };
    if let super::confirm::Gate::Ask(result) = super::confirm::gate_call(ctx, action, &routine.name, &arguments).await?
    {
        return Ok(result);
    }
    let cap = ctx.service.max_rows;
    let statement = call_statement(routine, kind, &arguments, cap)?;
    let result = ctx.db.query(&statement).await?;
    let mut records = result.into_objects();
    let truncated = records.len() as u64 > cap;
    records.truncate(cap as usize);
    Ok(json!({ "name": routine.name, "returned": records.len(), "truncated": truncated, "records": records }))
}

fn signature(routine: &Routine) -> String {
    let args: Vec<String> = routine
        .arguments
        .iter()
        .filter(|a| a.mode != "table")
        .map(|a| {
            let mode = if a.mode == "in" { String::new() } else { format!("{} ", a.mode.to_ascii_uppercase()) };
            let default = if a.has_default { " = default" } else { "" };
            format!("{mode}{} {}{default}", a.name, a.data_type)
        })
        .collect();
    format!("{}({})", routine.name, args.join(", "))
}

/// Picks the routine (and overload) the call means.
fn choose<'r>(
    all: &'r [Routine],
    name: &str,
    arguments: &Map<String, Json>,
    kind: Kind,
) -> Result<&'r Routine, ToolError> {
    let mut named: Vec<&Routine> = all.iter().filter(|r| r.name == name).collect();
    if named.is_empty() {
        named = all.iter().filter(|r| r.name.eq_ignore_ascii_case(name)).collect();
    }
    if named.is_empty() {
        let known: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        return Err(ToolError::new(format!(
            "unknown {} {name:?}; {} are: {}",
            kind.singular(),
            kind.plural(),
            if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
        )));
    }
    let fitting: Vec<&Routine> = named.iter().copied().filter(|r| check_arguments(r, arguments).is_ok()).collect();
    match fitting.as_slice() {
        [one] => Ok(one),
        [] if named.len() == 1 => Err(ToolError::new(format!(
            "{}. Signature: {}",
            check_arguments(named[0], arguments).unwrap_err(),
            signature(named[0])
        ))),
        [] => Err(ToolError::new(format!(
            "no overload of {name:?} takes these arguments; signatures: {}",
            named.iter().map(|r| signature(r)).collect::<Vec<_>>().join("; ")
        ))),
        many => Err(ToolError::new(format!(
            "the arguments fit several overloads of {name:?}; name more arguments. Signatures: {}",
            many.iter().map(|r| signature(r)).collect::<Vec<_>>().join("; ")
        ))),
    }
}

fn check_arguments(routine: &Routine, arguments: &Map<String, Json>) -> Result<(), String> {
    if routine.arguments.iter().any(|a| a.is_input() && a.name.is_empty()) {
        return Err(format!("{} has unnamed parameters, which cannot be passed by name", routine.name));
    }
    for key in arguments.keys() {
        if !routine.arguments.iter().any(|a| a.is_input() && a.name == *key) {
            let inputs: Vec<&str> =
                routine.arguments.iter().filter(|a| a.is_input()).map(|a| a.name.as_str()).collect();
            return Err(format!(
                "unknown argument {key:?}; {} takes: {}",
                routine.name,
                if inputs.is_empty() { "no arguments".to_string() } else { inputs.join(", ") }
            ));
        }
    }
    let missing: Vec<&str> = routine
        .arguments
        .iter()
        .filter(|a| matches!(a.mode.as_str(), "in" | "variadic") && !a.has_default && !arguments.contains_key(&a.name))
        .map(|a| a.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing argument(s): {}", missing.join(", ")));
    }
    Ok(())
}

/// `CALL s.p(a => $1::integer, out_arg => NULL)` or `SELECT * FROM s.f(a => $1::integer) LIMIT $2`.
fn call_statement(
    routine: &Routine,
    kind: Kind,
    arguments: &Map<String, Json>,
    cap: u64,
) -> Result<Statement, ToolError> {
    let d = Dialect::Postgres;
    let mut params = Vec::new();
    let mut parts = Vec::new();
    for arg in &routine.arguments {
        let given = arguments.get(&arg.name);
        match (arg.mode.as_str(), given) {
            ("in" | "inout" | "variadic", Some(value)) => {
                // JSON arrays for array arguments become array literals (see sql::bind).
                params.push(typed_value(d, &arg.data_type, SqlValue::from_json(value)));
                // The type comes from the catalog, never from the caller.
                parts.push(format!(
                    "{} => {}::{}",
                    d.quote_ident(&arg.name),
                    d.placeholder(params.len()),
                    arg.data_type
                ));
            }
            // Procedures take OUT (and omitted INOUT) parameters as NULL placeholders.
            ("out", None) | ("inout", None) if kind == Kind::Procedure && !arg.has_default => {
                parts.push(format!("{} => NULL", d.quote_ident(&arg.name)));
            }
            _ => {}
        }
    }
    let target = format!("{}.{}", d.quote_ident(&routine.schema), d.quote_ident(&routine.bare_name));
    let sql = match kind {
        Kind::Procedure => format!("CALL {target}({})", parts.join(", ")),
        Kind::Function => {
            params.push(SqlValue::Integer(cap as i64 + 1));
            format!("SELECT * FROM {target}({}) LIMIT {}", parts.join(", "), d.placeholder(params.len()))
        }
    };
    Ok(Statement::new(sql, params))
}

pub fn list_output_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "routines": { "type": "array", "items": { "type": "object", "properties": {
                "name": { "type": "string" },
                "arguments": { "type": "array", "items": { "type": "object" } },
                "returns": { "type": "string" },
                "returns_set": { "type": "boolean" },
                "comment": { "type": "string" }
            } } },
            "note": { "type": "string" }
        },
        "required": ["routines"]
    })
}

pub fn call_input_schema(what: &str) -> Json {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": format!("Name of the {what}, as listed (schema.name outside public).") },
            "arguments": { "type": "object", "description": "Arguments by parameter name; values are bound, never spliced." },
            "confirm": super::confirm::input_property()
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

pub fn call_output_schema() -> Json {
    super::confirm::with_output_properties(json!({
        "type": "object",
        "properties": {
            "name": { "type": "string" },
            "returned": { "type": "integer" },
            "truncated": { "type": "boolean" },
            "records": { "type": "array", "items": { "type": "object" } }
        },
        "required": ["name", "records"]
    }))
}

pub fn empty_input_schema() -> Json {
    json!({ "type": "object", "properties": {}, "additionalProperties": false })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallInput {
    pub name: String,
    pub arguments: Option<Map<String, Json>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::introspect::postgres::Argument;

    fn arg(name: &str, ty: &str, mode: &str, has_default: bool) -> Argument {
        Argument { name: name.into(), data_type: ty.into(), mode: mode.into(), has_default }
    }

    fn restock() -> Routine {
        Routine {
            name: "restock".into(),
            schema: "public".into(),
            bare_name: "restock".into(),
            arguments: vec![
                arg("p_product_id", "integer", "in", false),
                arg("p_amount", "integer", "in", false),
                arg("new_stock", "integer", "inout", true),
            ],
            returns: "".into(),
            returns_set: false,
            comment: None,
        }
    }

    fn top_customers() -> Routine {
        Routine {
            name: "top_customers".into(),
            schema: "public".into(),
            bare_name: "top_customers".into(),
            arguments: vec![
                arg("p_limit", "integer", "in", true),
                arg("customer_id", "integer", "table", false),
                arg("name", "text", "table", false),
            ],
            returns: "TABLE(customer_id integer, name text)".into(),
            returns_set: true,
            comment: None,
        }
    }

    fn args(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn builds_calls_with_named_bound_arguments() {
        let s =
            call_statement(&restock(), Kind::Procedure, &args(json!({"p_product_id": 1, "p_amount": 5})), 100).unwrap();
        assert_eq!(s.sql, r#"CALL "public"."restock"("p_product_id" => $1::integer, "p_amount" => $2::integer)"#);
        assert_eq!(s.params, vec![SqlValue::Integer(1), SqlValue::Integer(5)]);
        let s = call_statement(&top_customers(), Kind::Function, &args(json!({"p_limit": 3})), 100).unwrap();
        assert_eq!(s.sql, r#"SELECT * FROM "public"."top_customers"("p_limit" => $1::integer) LIMIT $2"#);
        assert_eq!(s.params, vec![SqlValue::Integer(3), SqlValue::Integer(101)]);
        let s = call_statement(&top_customers(), Kind::Function, &Map::new(), 10).unwrap();
        assert_eq!(s.sql, r#"SELECT * FROM "public"."top_customers"() LIMIT $1"#);
    }

    #[test]
    fn checks_arguments_against_the_signature() {
        let all = vec![restock()];
        let err = choose(&all, "restock", &args(json!({"p_product_id": 1})), Kind::Procedure).unwrap_err();
        assert!(err.0.contains("missing argument(s): p_amount"), "{}", err.0);
        assert!(
            err.0.contains(
                "Signature: restock(p_product_id integer, p_amount integer, INOUT new_stock integer = default)"
            ),
            "{}",
            err.0
        );
        let err = choose(&all, "restock", &args(json!({"p_product_id": 1, "p_amount": 1, "x": 2})), Kind::Procedure)
            .unwrap_err();
        assert!(err.0.contains("unknown argument \"x\""), "{}", err.0);
        let err = choose(&all, "nope", &Map::new(), Kind::Procedure).unwrap_err();
        assert!(err.0.contains("unknown procedure \"nope\"; stored procedures are: restock"), "{}", err.0);
        assert!(choose(&all, "RESTOCK", &args(json!({"p_product_id": 1, "p_amount": 1})), Kind::Procedure).is_ok());
    }
}
