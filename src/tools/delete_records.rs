//! `delete_records`: delete rows chosen by ids and/or a filter; never everything.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::confirm::{self, Action, Gate};
use super::{
    object_schema, parse_args, parse_filter, table_param, Annotations, IdList, ToolContext, ToolError, ToolResult,
    ToolSpec,
};
use crate::schema::TableKind;
use crate::sql::{self, RowFilter};

pub const SPEC: ToolSpec = ToolSpec {
    name: "delete_records",
    title: "Delete records",
    description: "Delete rows chosen by `ids` (primary key values) and/or `filter`. Refuses to run with \
                  neither, so it can never empty a table by accident. Returns the keys of the deleted rows. A delete \
                  by filter over the service's row limit (or any delete where the service confirms writes) first \
                  answers confirmation_required with the count and a preview: show the person, and call again \
                  with `confirm` only if they agree.",
    writes: true,
    returns_data: true,
    annotations: Annotations { read_only: false, destructive: true, idempotent: true },
    input_schema,
    output_schema,
    run,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    table: String,
    ids: Option<IdList>,
    filter: Option<String>,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "table": table_param(),
            "ids": { "description": "Primary key values of the rows to delete.", "anyOf": [ { "type": "array" }, { "type": "string" }, { "type": "integer" } ] },
            "filter": { "type": "string", "description": "Filter choosing the rows to delete (same language as get_table_data)." },
            "confirm": confirm::input_property()
        },
        "required": ["table"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    confirm::with_output_properties(object_schema(
        json!({
            "table": { "type": "string" },
            "deleted": { "type": "integer" },
            "keys": {
                "type": "array",
                "description": "Primary key of each deleted row: the value for a one-column key, an object of the key columns otherwise (at most max_rows).",
                "items": {
                    "anyOf": [
                        { "type": ["integer", "number", "string", "null"] },
                        { "type": "object", "additionalProperties": { "type": ["integer", "number", "string", "boolean", "null"] } }
                    ]
                }
            },
            "truncated": { "type": "boolean" }
        }),
        &["table", "deleted", "keys"],
    ))
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: Input = parse_args(args)?;
        let filter = parse_filter(input.filter.as_deref())?;
        let ids = input.ids.map(IdList::into_vec);
        if filter.is_none() && ids.as_ref().is_none_or(Vec::is_empty) {
            return Err(ToolError::new(
                "delete_records needs ids or a filter; refusing to delete every row of the table",
            ));
        }
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        if table.kind == TableKind::View {
            return Err(ToolError::new(format!("{:?} is a view; only tables have rows to delete", table.name)));
        }
        let by_filter = filter.is_some();
        let rows = RowFilter { filter, ids, column_in: None };
        let guard = match confirm::gate_rows(ctx, Action::Delete, table, &rows, by_filter, None).await? {
            Gate::Proceed(guard) => guard,
            Gate::Ask(result) => return Ok(result),
        };
        let statement = sql::delete_expecting(ctx.db.dialect(), table, &rows, guard.expect())?;
        let deleted = ctx.db.query(&statement).await?.into_objects();
        let count = deleted.len();
        if let Some(result) = confirm::after_rows(ctx, Action::Delete, table, &rows, guard, count, None).await? {
            return Ok(result);
        }
        let pk: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
        let cap = ctx.service.max_rows as usize;
        let keys: Vec<Json> = deleted
            .into_iter()
            .take(cap)
            .map(|mut row| {
                table.policy.mask_record(&mut row);
                match pk.as_slice() {
                    [only] => row.get(only).cloned().unwrap_or(Json::Null),
                    _ => Json::Object(row),
                }
            })
            .collect();
        Ok(json!({ "table": table.name, "deleted": count, "keys": keys, "truncated": count > cap }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_schema_types_the_keys() {
        let schema = output_schema();
        let items = &schema["properties"]["keys"]["items"];
        assert_eq!(items["anyOf"][0]["type"], json!(["integer", "number", "string", "null"]));
        assert_eq!(items["anyOf"][1]["type"], json!("object"));
    }
}
