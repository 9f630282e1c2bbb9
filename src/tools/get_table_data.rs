//! `get_table_data`: read rows with fields, filter, order, paging, ids, counts and related rows.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::related::attach_related;
use super::{
    object_schema, parse_args, parse_filter, table_param, Annotations, IdList, NameList, ToolContext, ToolError,
    ToolResult, ToolSpec,
};
use crate::sql::{self, RowFilter, SelectSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "get_table_data",
    title: "Query table rows",
    description: "Read rows from a table or view. Options: fields (columns to return), filter (e.g. \
                  \"status = 'paid' AND total > 100\", \"name LIKE 'J%'\", \"city IN ('Paris','Oslo')\", \
                  \"email CONTAINS 'example'\", \"shipped_at IS NULL\", \"total BETWEEN 10 AND 20\"), \
                  order (\"total DESC, id ASC\"), limit and offset for paging (the service caps rows per call; \
                  a capped result says truncated: true and gives next_offset), ids (primary key values), \
                  include_count (total matching rows), count_only, and related (relationship names from \
                  get_table_relationships, e.g. \"customers_by_customer_id\", to embed related rows).",
    writes: false,
    returns_data: true,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    table: String,
    fields: Option<NameList>,
    filter: Option<String>,
    order: Option<String>,
    limit: Option<u64>,
    #[serde(default)]
    offset: u64,
    ids: Option<IdList>,
    #[serde(default)]
    include_count: bool,
    #[serde(default)]
    count_only: bool,
    related: Option<NameList>,
}

fn string_or_list(description: &str) -> Json {
    json!({
        "description": description,
        "anyOf": [ { "type": "string" }, { "type": "array", "items": { "type": "string" } } ]
    })
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "table": table_param(),
            "fields": string_or_list("Columns to return, as an array or a comma-separated string. Default: all."),
            "filter": { "type": "string", "description": "Filter expression: comparisons (= != > >= < <=), IN, NOT IN, LIKE, CONTAINS, STARTS WITH, ENDS WITH, IS NULL, IS NOT NULL, BETWEEN, combined with AND, OR, NOT and parentheses. Strings in single quotes." },
            "order": { "type": "string", "description": "Sort order, e.g. \"created_at DESC, id ASC\"." },
            "limit": { "type": "integer", "minimum": 1, "description": "Rows to return (capped by the service's max rows)." },
            "offset": { "type": "integer", "minimum": 0, "description": "Rows to skip, for paging." },
            "ids": { "description": "Primary key values to fetch.", "anyOf": [ { "type": "array" }, { "type": "string" }, { "type": "integer" } ] },
            "include_count": { "type": "boolean", "description": "Also return the number of rows matching the filter." },
            "count_only": { "type": "boolean", "description": "Return only the count, no rows." },
            "related": string_or_list("Relationship names to embed, from get_table_relationships.")
        },
        "required": ["table"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "table": { "type": "string" },
            "records": { "type": "array", "items": { "type": "object" } },
            "count": { "type": "integer", "description": "Rows matching the filter (include_count/count_only)." },
            "returned": { "type": "integer" },
            "offset": { "type": "integer" },
            "limit": { "type": "integer" },
            "truncated": { "type": "boolean", "description": "True when the service's row cap cut the result." },
            "next_offset": { "type": "integer", "description": "Offset of the next page, when more rows match." }
        }),
        &["table"],
    )
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let input: Input = parse_args(args)?;
        let (schema, index) = ctx.table(&input.table).await?;
        let table = &schema.tables[index];
        let dialect = ctx.db.dialect();

        let filter = parse_filter(input.filter.as_deref())?;
        let ids = input.ids.map(IdList::into_vec);
        if ids.as_ref().is_some_and(Vec::is_empty) {
            return Err(ToolError::new("ids is empty; give at least one primary key value or leave ids out"));
        }
        let rows = RowFilter { filter, ids, column_in: None };

        if input.count_only {
            let count = count_rows(ctx, table, &rows).await?;
            return Ok(json!({ "table": table.name, "count": count }));
        }

        let cap = ctx.service.max_rows;
        if input.limit == Some(0) {
            return Err(ToolError::new("limit must be at least 1"));
        }
        let limit = input.limit.unwrap_or(cap).min(cap);
        let requested_fields = input.fields.map(NameList::into_vec).filter(|f| !f.is_empty());
        let requested_fields = match requested_fields {
            Some(f) => Some(sql::resolve_fields(&f, table)?),
            None => None,
        };
        let related = input.related.map(NameList::into_vec).unwrap_or_default();
        let order = match input.order.as_deref().map(str::trim) {
            None | Some("") => default_order(table),
            Some(text) => sql::parse_order(text, table)?,
        };

        // Related rows are matched on key columns, which the query needs even if not asked for.
        let relations = super::related::resolve(&schema, table, &related)?;
        let mut query_fields = requested_fields.clone();
        let mut added: Vec<String> = Vec::new();
        if let Some(fields) = query_fields.as_mut() {
            for relation in &relations {
                for column in &relation.columns {
                    if !fields.contains(column) {
                        fields.push(column.clone());
                        added.push(column.clone());
                    }
                }
            }
        }

        let spec = SelectSpec { fields: query_fields, rows, order, limit: Some(limit + 1), offset: input.offset };
        let statement = sql::select(dialect, table, &spec)?;
        // Rows that nothing changes (no masked column, no related rows) go out as the engine's
        // text, never read into values (see crate::raw_records).
        if let (Some(holder), true) = (ctx.raw_records, relations.is_empty() && table.policy.masked.is_empty()) {
            let records = ctx.db.query_records(&statement, limit as usize).await?;
            let more = records.more;
            let mut out = summary(&table.name, records.rows, input.offset, limit, more, input.limit, cap);
            out["records"] = match holder.put(records) {
                Ok(marker) => marker,
                Err(text) => serde_json::from_str(&text).map_err(|e| ToolError::new(e.to_string()))?,
            };
            return finish(ctx, table, &spec.rows, out, more, input.offset, limit, input.include_count).await;
        }
        let result = ctx.db.query(&statement).await?;
        let mut records: Vec<Map<String, Json>> = result.into_objects();
        let more = records.len() as u64 > limit;
        records.truncate(limit as usize);

        attach_related(ctx, &schema, &relations, &mut records).await?;
        for record in &mut records {
            for column in &added {
                record.shift_remove(column);
            }
            table.policy.mask_record(record);
        }

        let mut out = summary(&table.name, records.len(), input.offset, limit, more, input.limit, cap);
        // Moved in, not through `json!`, which would copy every row (it serializes what it embeds).
        out["records"] = Json::Array(records.into_iter().map(Json::Object).collect());
        finish(ctx, table, &spec.rows, out, more, input.offset, limit, input.include_count).await
    })
}

/// The result's fields before `records`.
fn summary(table: &str, returned: usize, offset: u64, limit: u64, more: bool, asked: Option<u64>, cap: u64) -> Json {
    json!({
        "table": table,
        "returned": returned,
        "offset": offset,
        "limit": limit,
        "truncated": more && asked.is_none_or(|asked| asked > cap),
    })
}

/// The fields after `records`: where the next page starts, and the count when asked for.
#[allow(clippy::too_many_arguments)]
async fn finish(
    ctx: &ToolContext<'_>,
    table: &crate::schema::Table,
    rows: &RowFilter,
    mut out: Json,
    more: bool,
    offset: u64,
    limit: u64,
    include_count: bool,
) -> ToolResult {
    if more {
        out["next_offset"] = json!(offset.saturating_add(limit));
    }
    if include_count {
        out["count"] = json!(count_rows(ctx, table, rows).await?);
    }
    Ok(out)
}

/// Primary key order, so paging is stable when the caller gives none.
fn default_order(table: &crate::schema::Table) -> Vec<sql::OrderBy> {
    table
        .primary_key()
        .iter()
        .map(|c| sql::OrderBy { column: c.name.clone(), direction: sql::Direction::Asc })
        .collect()
}

async fn count_rows(ctx: &ToolContext<'_>, table: &crate::schema::Table, rows: &RowFilter) -> Result<Json, ToolError> {
    let statement = sql::count(ctx.db.dialect(), table, rows)?;
    let result = ctx.db.query(&statement).await?;
    let count = result.rows.first().and_then(|r| r.first()).cloned().unwrap_or(json!(0));
    // Postgres returns COUNT(*) as text (int8); a count always fits a JSON integer here.
    Ok(match &count {
        Json::String(s) => s.parse::<u64>().map(|n| json!(n)).unwrap_or(count),
        _ => count,
    })
}
