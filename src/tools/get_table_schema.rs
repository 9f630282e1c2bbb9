//! `get_table_schema`: everything about one table: columns, keys, indexes and relationships.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{object_schema, parse_args, table_param, Annotations, ToolContext, ToolResult, ToolSpec};
use crate::relations::relations_of;

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_table_schema",
    title: "Describe a table",
    description: "Describe one table or view: columns with types, nullability, defaults and primary key, \
                  foreign keys, indexes, and relationships in both directions (their names can be passed \
                  to get_table_data's `related`).",
    writes: false,
    returns_data: false,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TableInput {
    pub table: String,
}

pub(super) fn table_only_schema() -> Json {
    json!({
        "type": "object",
        "properties": { "table": table_param() },
        "required": ["table"],
        "additionalProperties": false
    })
}

fn input_schema() -> Json {
    table_only_schema()
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "name": { "type": "string" },
            "type": { "type": "string" },
            "columns": { "type": "array", "items": { "type": "object" } },
            "primary_key": { "type": "array", "items": { "type": "string" } },
            "foreign_keys": { "type": "array", "items": { "type": "object" } },
            "indexes": { "type": "array", "items": { "type": "object" } },
            "relationships": { "type": "array", "items": { "type": "object" } }
        }),
        &["name", "type", "columns", "primary_key", "foreign_keys", "indexes", "relationships"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: TableInput = parse_args(args)?;
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        let mut out = serde_json::to_value(table).map_err(|e| super::ToolError::new(e.to_string()))?;
        out["type"] = out["kind"].take();
        if let Some(obj) = out.as_object_mut() {
            obj.remove("kind");
        }
        out["primary_key"] = json!(table.primary_key().iter().map(|c| c.name.clone()).collect::<Vec<_>>());
        out["relationships"] = json!(relations_of(&schema, table));
        Ok(out)
    })
}
