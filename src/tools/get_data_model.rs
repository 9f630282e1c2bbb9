//! `get_data_model`: the whole database on one page: every table with its key, columns, row
//! count and foreign keys, junction tables marked. The best first call for a model.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{object_schema, parse_args, row_counts, Annotations, ToolContext, ToolResult, ToolSpec};
use crate::relations::is_junction;
use crate::schema::TableKind;

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_data_model",
    title: "Show the data model",
    description: "One compact overview of the whole database, the best first call: every table and view with \
                  its primary key, columns (name and type), row count, and foreign keys \
                  (\"customer_id -> customers.id\"), with junction tables marked.",
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
    #[serde(default = "super::default_true")]
    include_counts: bool,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "include_counts": { "type": "boolean", "default": true, "description": "Count the rows of each table." }
        },
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "tables": { "type": "array", "items": { "type": "object", "properties": {
                "name": { "type": "string" },
                "type": { "type": "string" },
                "primary_key": { "type": "array", "items": { "type": "string" } },
                "columns": { "type": "array", "items": { "type": "string" } },
                "references": { "type": "array", "items": { "type": "string" } },
                "junction": { "type": "boolean" },
                "row_count": { "type": "integer" }
            }, "required": ["name", "type", "primary_key", "columns", "references", "junction"] } }
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
                let columns: Vec<String> = t
                    .columns
                    .iter()
                    .map(|c| {
                        let mut text =
                            format!("{} {}", c.name, if c.data_type.is_empty() { "any" } else { &c.data_type });
                        if !c.nullable {
                            text.push_str(" not null");
                        }
                        text
                    })
                    .collect();
                let references: Vec<String> = t
                    .foreign_keys
                    .iter()
                    .map(|fk| format!("{} -> {}.{}", fk.columns.join(", "), fk.ref_table, fk.ref_columns.join(", ")))
                    .collect();
                let mut entry = json!({
                    "name": t.name,
                    "type": if t.kind == TableKind::View { "view" } else { "table" },
                    "primary_key": t.primary_key().iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                    "columns": columns,
                    "references": references,
                    "junction": is_junction(t),
                });
                if let Some(count) = count {
                    entry["row_count"] = count;
                }
                if let Some(comment) = &t.comment {
                    entry["comment"] = json!(comment);
                }
                entry
            })
            .collect();
        Ok(json!({ "tables": tables }))
    })
}
