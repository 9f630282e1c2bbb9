//! `create_records`: insert one or many records, atomically by default.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::confirm::{self, Action, Gate};
use super::values::check_record;
use super::{
    object_schema, parse_args, table_param, Annotations, ToolContext, ToolError, ToolResult, ToolSpec,
    MAX_RECORDS_PER_WRITE,
};
use crate::schema::{Table, TableKind};
use crate::sql;

pub const SPEC: ToolSpec = ToolSpec {
    name: "create_records",
    title: "Create records",
    description: "Insert records into a table and return them as stored (with generated keys and defaults). \
                  All records are written in one atomic batch: if any fails, none is written. Set atomic to \
                  false to write each record on its own and get a per-record error report instead. \
                  Check required fields with get_table_fields first. Where the service confirms writes, the first \
                  call answers confirmation_required with a preview: show the person, and call again with \
                  `confirm` only if they agree.",
    writes: true,
    returns_data: true,
    annotations: Annotations { read_only: false, destructive: false, idempotent: false },
    input_schema,
    output_schema,
    run,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    table: String,
    records: Vec<Map<String, Json>>,
    #[serde(default = "super::default_true")]
    atomic: bool,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "table": table_param(),
            "records": { "type": "array", "minItems": 1, "maxItems": MAX_RECORDS_PER_WRITE, "items": { "type": "object" },
                         "description": "Records as objects of column: value." },
            "atomic": { "type": "boolean", "default": true, "description": "All or nothing (default). False: write what can be written and report the failures." },
            "confirm": confirm::input_property()
        },
        "required": ["table", "records"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    confirm::with_output_properties(object_schema(
        json!({
            "table": { "type": "string" },
            "created": { "type": "array", "items": { "type": "object" } },
            "failed": { "type": "array", "items": { "type": "object", "properties": {
                "index": { "type": "integer" }, "error": { "type": "string" } } } }
        }),
        &["table", "created"],
    ))
}

/// Checks a record against the table before anything is sent to the database.
pub(super) fn check_new_record(
    ctx: &ToolContext<'_>,
    table: &Table,
    record: &Map<String, Json>,
) -> Result<Map<String, Json>, String> {
    let checked = check_record(ctx.db.dialect(), table, record)?;
    super::values::refuse_read_only(table, &checked, &[])?;
    let missing: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| !c.nullable && c.default.is_none() && !c.auto_increment && !checked.contains_key(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        let read_only: Vec<&str> = missing.iter().copied().filter(|c| table.policy.is_read_only(c)).collect();
        if !read_only.is_empty() {
            return Err(format!(
                "missing required column(s): {}; {} read-only under this service's column policy, so records \
                 cannot be created in {:?} here",
                missing.join(", "),
                read_only.join(", "),
                table.name
            ));
        }
        return Err(format!("missing required column(s): {}", missing.join(", ")));
    }
    Ok(checked)
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: Input = parse_args(args)?;
        if input.records.is_empty() {
            return Err(ToolError::new("records is empty; give at least one record"));
        }
        if input.records.len() > MAX_RECORDS_PER_WRITE {
            return Err(ToolError::new(format!(
                "{} records given; at most {MAX_RECORDS_PER_WRITE} per call, split them into several calls",
                input.records.len()
            )));
        }
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        if table.kind == TableKind::View {
            return Err(ToolError::new(format!("{:?} is a view; records can only be created in tables", table.name)));
        }
        // Checked before asking, so the person is never asked to confirm records that cannot be written.
        if input.atomic && ctx.service.confirm_writes {
            for (i, record) in input.records.iter().enumerate() {
                check_new_record(ctx, table, record)
                    .map_err(|message| ToolError::new(format!("record {i}: {message}. Nothing was written.")))?;
            }
        }
        if let Gate::Ask(result) = confirm::gate_records(ctx, Action::Create, table, &input.records).await? {
            return Ok(result);
        }
        let dialect = ctx.db.dialect();

        let mut statements = Vec::with_capacity(input.records.len());
        let mut failed = Vec::new();
        for (i, record) in input.records.iter().enumerate() {
            let built = check_new_record(ctx, table, record)
                .and_then(|checked| sql::insert(dialect, table, &checked).map_err(|e| e.message));
            match built {
                Ok(statement) => statements.push((i, statement)),
                Err(message) if input.atomic => {
                    return Err(ToolError::new(format!("record {i}: {message}. Nothing was written.")))
                }
                Err(message) => failed.push(json!({ "index": i, "error": message })),
            }
        }

        let mut created = Vec::new();
        if input.atomic {
            let only: Vec<_> = statements.into_iter().map(|(_, s)| s).collect();
            let results = ctx.db.batch(&only).await.map_err(|e| {
                ToolError::new(format!("database error: {e}. Nothing was written (the batch is atomic)."))
            })?;
            for result in results {
                created.extend(result.into_objects().into_iter().map(Json::Object));
            }
        } else {
            for (i, statement) in statements {
                match ctx.db.query(&statement).await {
                    Ok(result) => created.extend(result.into_objects().into_iter().map(Json::Object)),
                    Err(e) => failed.push(json!({ "index": i, "error": format!("database error: {e}") })),
                }
            }
        }
        for record in created.iter_mut().filter_map(Json::as_object_mut) {
            table.policy.mask_record(record);
        }
        let mut out = json!({ "table": table.name, "created": created });
        if !input.atomic {
            out["failed"] = json!(failed);
        }
        Ok(out)
    })
}
