//! `search`: records whose text columns contain the query's words, ranked, as OpenAI's connector
//! contract wants them (`{results: [{id, title, url}]}`), for ChatGPT and any other client.
//!
//! Every table's query goes through the same statement builder as `get_table_data` (so every row
//! and column policy applies), all tables in one batch, at most [`search::rows_per_table`] rows
//! each; the rows are then merged across tables, best first, and capped.
//!
//! - PostgreSQL: full-text search ([`Expr::FullText`]): the searched columns' text, joined, matches
//!   any word of the query or a word it starts, under the service's text search configuration;
//!   the best rows by `ts_rank` are read (SQL orders them) and merged by that rank.
//! - SQLite/D1: bounded pattern matching, one `col LIKE ? ESCAPE '\'` per word and column (the words
//!   escaped and bound), the first matching rows in primary key order, ranked here by words
//!   matched, then by word-column matches.

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Map, Value as Json};

use super::{object_schema, only_string_arg, Annotations, ToolContext, ToolError, ToolResult, ToolSpec};
use crate::filter::{Expr, TextMatch};
use crate::search;
use crate::sql::{self, Dialect, Direction, OrderBy, RowFilter, SelectSpec};

pub const SPEC: ToolSpec = ToolSpec {
    name: "search",
    title: "Search records",
    description: "Search the database's text for records matching a query's words, ignoring case (PostgreSQL: \
                  full-text search, a word matches whole words and words it begins; other databases: \
                  anywhere in the searchable text columns). Returns up to the service's max results as \
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
    /// PostgreSQL's `ts_rank` (0 on SQLite).
    rank: f64,
    /// Words and word-column pairs matched (SQLite; (0, 0) on PostgreSQL).
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
        // A table whose row policy refuses this caller is left out, not the whole search failed.
        plans.retain(|plan| !plan.columns.is_empty() && !schema.tables[plan.table].rows.is_denied());
        if plans.is_empty() {
            return Ok(json!({ "results": [] }));
        }
        let mut statements = Vec::with_capacity(plans.len());
        let mut rank_aliases = Vec::with_capacity(plans.len());
        for plan in &plans {
            let table = &schema.tables[plan.table];
            let columns = &plan.columns[..plan.columns.len().min(search::MAX_CONDITIONS)];
            let filter = match dialect {
                Dialect::Postgres => Expr::FullText {
                    columns: columns.to_vec(),
                    language: settings.language().to_string(),
                    words: terms.clone(),
                },
                Dialect::Sqlite => {
                    let used = &terms[..search::terms_for(plan.columns.len(), terms.len())];
                    any_match(columns, used).ok_or_else(|| ToolError::new("nothing to search in"))?
                }
            };
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
            statements.push(match dialect {
                Dialect::Postgres => {
                    let alias = rank_alias(table);
                    let statement = sql::select_ranked(dialect, table, &spec, &alias)?;
                    rank_aliases.push(Some(alias));
                    statement
                }
                Dialect::Sqlite => {
                    rank_aliases.push(None);
                    sql::select(dialect, table, &spec)?
                }
            });
        }
        let results = ctx.db.batch(&statements).await?;

        let mut hits = Vec::new();
        for (table_order, ((plan, result), alias)) in plans.iter().zip(results).zip(&rank_aliases).enumerate() {
            let table = &schema.tables[plan.table];
            for (row_order, mut record) in result.into_objects().into_iter().enumerate() {
                let (rank, score) = match alias {
                    Some(alias) => (record.remove(alias).as_ref().map_or(0.0, rank_value), (0, 0)),
                    None => (0.0, search::score(&record, &plan.columns, &terms)),
                };
                let key = search::key_text(table, &record);
                table.policy.mask_record(&mut record);
                let result = result_entry(ctx, table, plan, &key, &record);
                hits.push(Hit { rank, score, table_order, row_order, result });
            }
        }
        crate::sort::sort_by(&mut hits, |a, b| {
            b.rank
                .total_cmp(&a.rank)
                .then(b.score.cmp(&a.score))
                .then(a.table_order.cmp(&b.table_order))
                .then(a.row_order.cmp(&b.row_order))
        });
        hits.truncate(settings.max_results as usize);
        Ok(json!({ "results": hits.into_iter().map(|h| h.result).collect::<Vec<_>>() }))
    })
}

/// A name for the rank column that is none of the table's columns.
fn rank_alias(table: &crate::schema::Table) -> String {
    let mut alias = String::from("search_rank");
    while table.column(&alias).is_some() {
        alias.push('_');
    }
    alias
}

/// `ts_rank` as the database returned it: a number, or its text.
fn rank_value(value: &Json) -> f64 {
    match value {
        Json::String(text) => crate::float_text::parse(text).unwrap_or(0.0),
        other => other.as_f64().unwrap_or(0.0),
    }
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
