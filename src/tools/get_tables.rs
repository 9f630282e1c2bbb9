//! `get_tables`: the tables and views a model may use, the natural first call.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{object_schema, parse_args, row_counts, Annotations, ToolContext, ToolResult, ToolSpec};
use crate::schema::TableKind;

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_tables",
    title: "List tables",
    description: "List the tables and views of the database with their primary keys and column counts. \
                  Start here. Set include_counts to also get each table's row count.",
    writes: false,
    returns_data: false,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    include_counts: bool,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "include_counts": { "type": "boolean", "description": "Also count the rows of each table (slower).", "default": false }
        },
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "tables": { "type": "array", "items": { "type": "object", "properties": {
                "name": { "type": "string" },
                "type": { "type": "string", "enum": ["table", "view"] },
                "primary_key": { "type": "array", "items": { "type": "string" } },
                "columns": { "type": "integer" },
                "row_count": { "type": "integer" }
            }, "required": ["name", "type", "primary_key", "columns"] } }
        }),
        &["tables"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: Input = parse_args(args)?;
        let schema = ctx.schema().await?;
        let counts = row_counts(ctx, &schema, input.include_counts).await?;
        let tables: Vec<Json> = schema
            .tables
            .iter()
            .zip(counts)
            .map(|(t, count)| {
                let mut entry = json!({
                    "name": t.name,
                    "type": if t.kind == TableKind::View { "view" } else { "table" },
                    "primary_key": t.primary_key().iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                    "columns": t.columns.len(),
                });
                if let Some(schema_name) = &t.schema {
                    entry["schema"] = json!(schema_name);
                }
                if let Some(count) = count {
                    entry["row_count"] = count;
                }
                entry
            })
            .collect();
        Ok(json!({ "tables": tables }))
    })
}
