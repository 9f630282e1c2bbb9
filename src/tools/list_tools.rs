//! `list_tools`: the tools this caller may use, in one compact list (for clients that do not show
//! tools/list to the model).

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value as Json};

use super::routines::{self, NoInput};
use super::{object_schema, parse_args, visible, Annotations, ToolContext, ToolResult, ToolSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "list_tools",
    title: "List available tools",
    description: "List the tools available on this service for this credential, with one line each.",
    writes: false,
    returns_data: false,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema: routines::empty_input_schema,
    output_schema,
    run,
};

fn output_schema() -> Json {
    object_schema(
        json!({ "tools": { "type": "array", "items": { "type": "object", "properties": {
            "name": { "type": "string" }, "title": { "type": "string" }, "read_only": { "type": "boolean" }
        } } } }),
        &["tools"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let _: NoInput = parse_args(args)?;
        let tools: Vec<Json> = visible(ctx.service, ctx.can_write)
            .map(|t| json!({ "name": t.name, "title": t.title, "read_only": t.annotations.read_only, "description": t.description }))
            .chain(super::custom_visible(ctx.service, ctx.can_write).map(
                |t| json!({ "name": t.name, "title": t.title, "read_only": t.write.is_none(), "description": t.description }),
            ))
            .collect();
        Ok(json!({ "tools": tools }))
    })
}
