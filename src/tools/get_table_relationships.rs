//! `get_table_relationships`: foreign keys in both directions, and many-to-many through junctions.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value as Json};

use super::get_table_schema::{table_only_schema, TableInput};
use super::{object_schema, parse_args, Annotations, ToolContext, ToolResult, ToolSpec};
use crate::relations::relations_of;

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_table_relationships",
    title: "Show a table's relationships",
    description: "Show how a table relates to others: belongs_to (its foreign keys), has_many (tables whose \
                  foreign keys point at it) and many_many (through a junction table). Pass a relationship's \
                  name to get_table_data's `related` to embed the related rows.",
    writes: false,
    returns_data: false,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema: table_only_schema,
    output_schema,
    run,
};

fn output_schema() -> Json {
    object_schema(
        json!({
            "table": { "type": "string" },
            "relationships": { "type": "array", "items": { "type": "object", "properties": {
                "name": { "type": "string" },
                "kind": { "type": "string", "enum": ["belongs_to", "has_many", "many_many"] },
                "columns": { "type": "array", "items": { "type": "string" } },
                "ref_table": { "type": "string" },
                "ref_columns": { "type": "array", "items": { "type": "string" } }
            }, "required": ["name", "kind", "columns", "ref_table", "ref_columns"] } }
        }),
        &["table", "relationships"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: TableInput = parse_args(args)?;
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        Ok(json!({ "table": table.name, "relationships": relations_of(&schema, table) }))
    })
}
