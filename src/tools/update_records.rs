//! `update_records`: change rows chosen by ids or a filter, or apply per-record changes keyed by
//! primary key. Every change is checked against the schema first; multi-record changes are atomic.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::confirm::{self, Action, Gate};
use super::values::check_record;
use super::{
    object_schema, parse_args, parse_filter, table_param, Annotations, IdList, ToolContext, ToolError, ToolResult,
    ToolSpec, MAX_RECORDS_PER_WRITE,
};
use crate::schema::{Table, TableKind};
use crate::sql::{self, RowFilter};

pub const SPEC: ToolSpec = ToolSpec {
    name: "update_records",
    title: "Update records",
    description: "Update rows. Either give `patch` (column: new value) with `ids` and/or `filter` to choose the \
                  rows, or give `records`, each holding its primary key plus the columns to change. Refuses to \
                  run without ids, filter or records. Returns the updated rows; all changes are atomic. An update by \
                  filter over the service's row limit (or any update where the service confirms writes) first \
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
    patch: Option<Map<String, Json>>,
    ids: Option<IdList>,
    filter: Option<String>,
    records: Option<Vec<Map<String, Json>>>,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "table": table_param(),
            "patch": { "type": "object", "description": "Columns to set on every chosen row." },
            "ids": { "description": "Primary key values of the rows to change.", "anyOf": [ { "type": "array" }, { "type": "string" }, { "type": "integer" } ] },
            "filter": { "type": "string", "description": "Filter choosing the rows to change (same language as get_table_data)." },
            "records": { "type": "array", "maxItems": MAX_RECORDS_PER_WRITE, "items": { "type": "object" },
                         "description": "Per-record changes: each object holds the primary key and the columns to change." },
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
            "updated": { "type": "integer", "description": "Rows changed." },
            "records": { "type": "array", "items": { "type": "object" } },
            "truncated": { "type": "boolean" }
        }),
        &["table", "updated", "records"],
    ))
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: Input = parse_args(args)?;
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        if table.kind == TableKind::View {
            return Err(ToolError::new(format!("{:?} is a view; only tables can be updated", table.name)));
        }
        match (input.patch, input.records) {
            (Some(_), Some(_)) => Err(ToolError::new("give either patch (with ids/filter) or records, not both")),
            (None, None) => {
                Err(ToolError::new("nothing to update: give patch with ids or filter, or records keyed by primary key"))
            }
            (Some(patch), None) => update_matching(ctx, table, patch, input.ids, input.filter).await,
            (None, Some(records)) => {
                if input.ids.is_some() || input.filter.is_some() {
                    return Err(ToolError::new("records carry their own primary keys; drop ids/filter or use patch"));
                }
                update_each(ctx, table, records).await
            }
        }
    })
}

async fn update_matching(
    ctx: &ToolContext<'_>,
    table: &Table,
    patch: Map<String, Json>,
    ids: Option<IdList>,
    filter: Option<String>,
) -> ToolResult {
    if patch.is_empty() {
        return Err(ToolError::new("patch is empty; give at least one column to change"));
    }
    let patch = check_record(ctx.db.dialect(), table, &patch).map_err(ToolError::new)?;
    super::values::refuse_read_only(table, &patch, &[]).map_err(ToolError::new)?;
    let filter = parse_filter(filter.as_deref())?;
    let ids = ids.map(IdList::into_vec);
    if filter.is_none() && ids.as_ref().is_none_or(Vec::is_empty) {
        return Err(ToolError::new(
            "update_records needs ids or a filter to choose rows; refusing to update every row",
        ));
    }
    let by_filter = filter.is_some();
    let rows = RowFilter { filter, ids, column_in: None };
    let guard = match confirm::gate_rows(ctx, Action::Update, table, &rows, by_filter, Some(&patch)).await? {
        Gate::Proceed(guard) => guard,
        Gate::Ask(result) => return Ok(result),
    };
    let statement = sql::update_expecting(ctx.db.dialect(), table, &patch, &rows, guard.expect())?;
    let updated = ctx.db.query(&statement).await?.into_objects();
    let count = updated.len();
    if let Some(result) = confirm::after_rows(ctx, Action::Update, table, &rows, guard, count, Some(&patch)).await? {
        return Ok(result);
    }
    Ok(summarize(ctx, table, updated))
}

fn summarize(ctx: &ToolContext<'_>, table: &Table, mut records: Vec<Map<String, Json>>) -> Json {
    let updated = records.len();
    let cap = ctx.service.max_rows as usize;
    let truncated = records.len() > cap;
    records.truncate(cap);
    for record in &mut records {
        table.policy.mask_record(record);
    }
    json!({ "table": table.name, "updated": updated, "records": records, "truncated": truncated })
}

async fn update_each(ctx: &ToolContext<'_>, table: &Table, records: Vec<Map<String, Json>>) -> ToolResult {
    if records.is_empty() {
        return Err(ToolError::new("records is empty"));
    }
    if records.len() > MAX_RECORDS_PER_WRITE {
        return Err(ToolError::new(format!("at most {MAX_RECORDS_PER_WRITE} records per call")));
    }
    let pk: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
    if pk.is_empty() {
        return Err(ToolError::new(format!("table {:?} has no primary key; use patch with a filter", table.name)));
    }
    for (i, record) in records.iter().enumerate() {
        super::values::refuse_read_only(table, record, &pk).map_err(|m| ToolError::new(format!("record {i}: {m}")))?;
    }
    if let Gate::Ask(result) = confirm::gate_records(ctx, Action::Update, table, &records).await? {
        return Ok(result);
    }
    let dialect = ctx.db.dialect();
    let mut statements = Vec::new();
    let mut keys = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let record = check_record(dialect, table, record).map_err(|m| ToolError::new(format!("record {i}: {m}")))?;
        let mut key = Map::new();
        let mut patch = Map::new();
        for (name, value) in record {
            if pk.contains(&name) {
                key.insert(name, value);
            } else {
                patch.insert(name, value);
            }
        }
        if key.len() != pk.len() {
            return Err(ToolError::new(format!("record {i}: missing primary key column(s) {}", pk.join(", "))));
        }
        if patch.is_empty() {
            return Err(ToolError::new(format!("record {i}: nothing to change besides the primary key")));
        }
        let id = if pk.len() == 1 { key.values().next().cloned().unwrap_or(Json::Null) } else { Json::Object(key) };
        let rows = RowFilter { filter: None, ids: Some(vec![id.clone()]), column_in: None };
        statements.push(sql::update(dialect, table, &patch, &rows)?);
        keys.push(id);
    }
    let results = ctx
        .db
        .batch(&statements)
        .await
        .map_err(|e| ToolError::new(format!("database error: {e}. Nothing was changed (the batch is atomic).")))?;
    let missing: Vec<String> =
        results.iter().zip(&keys).filter(|(r, _)| r.rows.is_empty()).map(|(_, k)| k.to_string()).collect();
    let updated: Vec<Map<String, Json>> = results.into_iter().flat_map(|r| r.into_objects()).collect();
    let mut out = summarize(ctx, table, updated);
    if !missing.is_empty() {
        out["not_found"] = json!(missing);
    }
    Ok(out)
}
