//! `get_stored_procedures`: the database's stored procedures with their signatures.

use futures_util::future::LocalBoxFuture;
use serde_json::Value as Json;

use super::routines::{self, Kind, NoInput};
use super::{parse_args, Annotations, ToolContext, ToolResult, ToolSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_stored_procedures",
    title: "List stored procedures",
    description: "List the database's stored procedures with their arguments (name, type, mode) and return type. \
                  SQLite (D1) has none and says so.",
    writes: false,
    returns_data: false,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema: routines::empty_input_schema,
    output_schema: routines::list_output_schema,
    run,
};

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let _: NoInput = parse_args(args)?;
        routines::list(ctx, Kind::Procedure).await
    })
}
