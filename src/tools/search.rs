//! `search`: records whose text columns contain the query's words, ranked, as OpenAI's connector
//! contract wants them (`{results: [{id, title, url}]}`), for ChatGPT and any other client.
//!
//! Matching is bounded pattern matching on every engine: one `col LIKE ? ESCAPE '\'` (PostgreSQL:
//! `ILIKE`) per word and column, the words escaped and bound, through the same statement builder
//! as `get_table_data` (so every row and column policy applies), at most
//! [`search::rows_per_table`] matching rows per table (in primary key order), all tables in one
//! batch. Those rows are ranked by words matched, then by word-column matches, and capped.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Map, Value as Json};

use super::{object_schema, only_string_arg, Annotations, ToolContext, ToolError, ToolResult, ToolSpec};
use crate::filter::{Expr, TextMatch};
use crate::search;
use crate::sql::{self, Direction, OrderBy, RowFilter, SelectSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "search",
    title: "Search records",
    description: "Search the database's text for records matching a query (words matched anywhere in the \
                  searchable text columns, ignoring case). Returns up to the service's max results as \
                  {results: [{id, title, url}]}, best matches first; pass an id to fetch for the whole record.",
    writes: false,
    returns_data: true,
    annotations: Annotations { read_only: true, destructive: false, idempotent: true },
    input_schema,
    output_schema,
    run,
};

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "query": { "type": "string", "description": "Words to search for, e.g. \"refund Oslo\". The first 500 characters and 8 words are used." }
        },
        "required": ["query"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    object_schema(
        json!({
            "results": { "type": "array", "items": { "type": "object", "properties": {
                "id": { "type": "string", "description": "<table>:<primary key>, for fetch." },
                "title": { "type": "string" },
                "url": { "type": "string", "description": "A page showing the record to a signed-in person." }
            }, "required": ["id", "title", "url"] } }
        }),
        &["results"],
    )
}

/// One matching row before ranking.
struct Hit {
    score: (usize, usize),
    table_order: usize,
    row_order: usize,
    result: Json,
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        let query = only_string_arg(&args, "query")?;
        let terms = search::terms(&query).map_err(ToolError)?;
        let schema = ctx.schema().await?;
        let dialect = ctx.db.dialect();
        let settings = &ctx.service.search;
        let mut plans = search::plans(dialect, &schema, settings).map_err(ToolError)?;
        plans.retain(|plan| !plan.columns.is_empty());
        if plans.is_empty() {
            return Ok(json!({ "results": [] }));
        }
        let mut statements = Vec::with_capacity(plans.len());
        for plan in &plans {
            let table = &schema.tables[plan.table];
            let used = &terms[..search::terms_for(plan.columns.len(), terms.len())];
            let columns = &plan.columns[..plan.columns.len().min(search::MAX_CONDITIONS)];
            let filter = any_match(columns, used).ok_or_else(|| ToolError::new("nothing to search in"))?;
            let mut fields: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
            for name in columns.iter().chain(plan.title.iter()) {
                if !fields.contains(name) {
                    fields.push(name.clone());
                }
            }
            let order = table
                .primary_key()
                .iter()
                .map(|c| OrderBy { column: c.name.clone(), direction: Direction::Asc })
                .collect();
            let spec = SelectSpec {
                fields: Some(fields),
                rows: RowFilter { filter: Some(filter), ids: None, column_in: None },
                order,
                limit: Some(search::rows_per_table(settings.max_results)),
                offset: 0,
            };
            statements.push(sql::select(dialect, table, &spec)?);
        }
        let results = ctx.db.batch(&statements).await?;

        let mut hits = Vec::new();
        for (table_order, (plan, result)) in plans.iter().zip(results).enumerate() {
            let table = &schema.tables[plan.table];
            for (row_order, mut record) in result.into_objects().into_iter().enumerate() {
                let score = search::score(&record, &plan.columns, &terms);
                let key = search::key_text(table, &record);
                table.policy.mask_record(&mut record);
                hits.push(Hit { score, table_order, row_order, result: result_entry(ctx, table, plan, &key, &record) });
            }
        }
        hits.sort_by(|a, b| {
            b.score.cmp(&a.score).then(a.table_order.cmp(&b.table_order)).then(a.row_order.cmp(&b.row_order))
        });
        hits.truncate(settings.max_results as usize);
        Ok(json!({ "results": hits.into_iter().map(|h| h.result).collect::<Vec<_>>() }))
    })
}

/// `c1 LIKE '%t1%' OR c2 LIKE '%t1%' OR ... OR cn LIKE '%tm%'`, ignoring case.
fn any_match(columns: &[String], terms: &[String]) -> Option<Expr> {
    let mut conditions = terms.iter().flat_map(|term| {
        columns.iter().map(move |column| Expr::Text {
            column: column.clone(),
            mode: TextMatch::ContainsAnyCase,
            text: term.clone(),
        })
    });
    let first = conditions.next()?;
    Some(conditions.fold(first, |all, next| Expr::Or(Box::new(all), Box::new(next))))
}

fn result_entry(
    ctx: &ToolContext<'_>,
    table: &crate::schema::Table,
    plan: &search::TablePlan,
    key: &str,
    record: &Map<String, Json>,
) -> Json {
    json!({
        "id": search::record_id(table, key),
        "title": search::title(table, key, plan.title.as_ref().and_then(|t| record.get(t))),
        "url": search::record_url(ctx.origin, &ctx.service.name, &table.name, key),
    })
}
