//! `get_table_fields`: just the columns of one table, compact.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value as Json};

use super::get_table_schema::{table_only_schema, TableInput};
use super::{object_schema, parse_args, Annotations, ToolContext, ToolResult, ToolSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_table_fields",
    title: "List a table's fields",
    description: "List the columns (fields) of one table: name, type, nullable, default, primary key position \
                  and whether the database fills it in (auto_increment).",
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
            "fields": { "type": "array", "items": { "type": "object", "properties": {
                "name": { "type": "string" }, "type": { "type": "string" }, "nullable": { "type": "boolean" }
            }, "required": ["name", "type", "nullable"] } }
        }),
        &["table", "fields"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: TableInput = parse_args(args)?;
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        Ok(json!({ "table": table.name, "fields": table.columns }))
    })
}
