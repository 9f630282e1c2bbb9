//! `get_database_resources`: an overview of the service: engine, limits, tables, views, resources.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value as Json};

use super::{object_schema, parse_args, Annotations, ToolContext, ToolResult, ToolSpec};
use crate::schema::TableKind;
use crate::sql::Dialect;

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_database_resources",
    title: "Describe the database service",
    description: "Overview of this database service: engine, whether it is read-only, the row cap per read, \
                  its tables and views, and the MCP resource URIs holding each table's schema.",
    writes: false,
    returns_data: false,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {}

fn input_schema() -> Json {
    json!({ "type": "object", "properties": {}, "additionalProperties": false })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "service": { "type": "string" },
            "label": { "type": "string" },
            "description": { "type": "string" },
            "engine": { "type": "string" },
            "read_only": { "type": "boolean" },
            "max_rows": { "type": "integer" },
            "tables": { "type": "array", "items": { "type": "string" } },
            "views": { "type": "array", "items": { "type": "string" } },
            "resources": { "type": "array", "items": { "type": "string" } }
        }),
        &["service", "engine", "read_only", "max_rows", "tables", "views", "resources"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let _: Input = parse_args(args)?;
        let schema = ctx.schema().await?;
        let names = |kind: TableKind| -> Vec<String> {
            schema.tables.iter().filter(|t| t.kind == kind).map(|t| t.name.clone()).collect()
        };
        let service = &ctx.service.name;
        Ok(json!({
            "service": service,
            "label": ctx.service.label,
            "description": ctx.service.description,
            "engine": match ctx.db.dialect() { Dialect::Sqlite => "SQLite (Cloudflare D1)", Dialect::Postgres => "PostgreSQL" },
            "read_only": !ctx.can_write,
            "max_rows": ctx.service.max_rows,
            "tables": names(TableKind::Table),
            "views": names(TableKind::View),
            "resources": schema.tables.iter().map(|t| crate::mcp::resources::table_uri(service, &t.name)).collect::<Vec<_>>(),
        }))
    })
}
