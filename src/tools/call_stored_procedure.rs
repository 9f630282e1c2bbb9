//! `call_stored_procedure`: call a stored procedure with named, bound arguments.

use futures_util::future::LocalBoxFuture;
use serde_json::Value as Json;

use super::routines::{self, CallInput, Kind};
use super::{parse_args, Annotations, ToolContext, ToolResult, ToolSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "call_stored_procedure",
    title: "Call a stored procedure",
    description: "Call a stored procedure by name with arguments given by parameter name (see \
                  get_stored_procedures). SQLite (D1) has none and says so.",
    // Listed on read-only services too: the Postgres driver runs calls from read-only callers in
    // a read-only transaction, so a routine that writes fails instead of writing.
    writes: false,
    returns_data: true,
    annotations: Annotations { read_only: false, destructive: true, idempotent: false },
    input_schema,
    output_schema: routines::call_output_schema,
    run,
};

fn input_schema() -> Json {
    routines::call_input_schema("procedure")
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: CallInput = parse_args(args)?;
        routines::call(ctx, Kind::Procedure, input).await
    })
}
