//! What the four stored-routine tools share. SQLite (D1) has neither stored procedures nor
//! functions, and the tools say so plainly instead of pretending.

use serde_json::{json, Value as Json};

use super::ToolError;
use crate::sql::Dialect;

#[derive(Clone, Copy)]
pub enum Routine {
    Procedure,
    Function,
}

impl Routine {
    fn plural(self) -> &'static str {
        match self {
            Routine::Procedure => "stored procedures",
            Routine::Function => "stored functions",
        }
    }
}

pub fn none_on_sqlite(routine: Routine) -> String {
    format!(
        "This service's database is SQLite (Cloudflare D1), which has no {}. Use get_table_data and the write tools instead.",
        routine.plural()
    )
}

/// The listing result: empty on SQLite, with the reason.
pub fn list(dialect: Dialect, routine: Routine) -> Result<Json, ToolError> {
    match dialect {
        Dialect::Sqlite => Ok(json!({ "routines": [], "note": none_on_sqlite(routine) })),
        Dialect::Postgres => Err(ToolError::new(format!("{} are not available in this build", routine.plural()))),
    }
}

/// The call result: an error naming why nothing can be called.
pub fn call(dialect: Dialect, routine: Routine) -> Result<Json, ToolError> {
    match dialect {
        Dialect::Sqlite => Err(ToolError::new(none_on_sqlite(routine))),
        Dialect::Postgres => Err(ToolError::new(format!("{} are not available in this build", routine.plural()))),
    }
}

pub fn list_output_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "routines": { "type": "array", "items": { "type": "object" } },
            "note": { "type": "string" }
        },
        "required": ["routines"]
    })
}

pub fn call_input_schema(what: &str) -> Json {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": format!("Name of the {what}, as listed.") },
            "arguments": { "type": "object", "description": "Arguments by parameter name." }
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

pub fn call_output_schema() -> Json {
    json!({
        "type": "object",
        "properties": { "name": { "type": "string" }, "records": { "type": "array", "items": { "type": "object" } } },
        "required": ["name"]
    })
}

pub fn empty_input_schema() -> Json {
    json!({ "type": "object", "properties": {}, "additionalProperties": false })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallInput {
    #[allow(dead_code)]
    pub name: String,
    #[allow(dead_code)]
    pub arguments: Option<serde_json::Map<String, Json>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}
