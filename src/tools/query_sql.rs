//! `query_sql`: one read-only SELECT written by the model, for services that turn it on
//! (`"query_sql": true`). The SQL is checked and re-printed by [`crate::sql::readonly`]; what runs
//! is that canonical text wrapped in the row cap, with the caller's values bound as parameters.
//! On PostgreSQL the transaction is also made read-only first, so a write that got past the
//! checks would still fail inside the database.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{parse_args, Annotations, ToolContext, ToolError, ToolResult, ToolSpec};
use crate::db::{SqlValue, Statement};
use crate::schema::Table;
use crate::sql::readonly::{self, Visibility, MAX_PARAMS};
use crate::sql::Dialect;

pub const SPEC: ToolSpec = ToolSpec {
    name: "query_sql",
    title: "Run a read-only SQL query",
    description: "Run one read-only SQL query (SELECT, WITH ... SELECT or VALUES) on the tables get_tables \
                  lists, in the database's own dialect. Values go in params and are referenced as ? or ?1 \
                  (SQLite/D1) or $1 (PostgreSQL). Only common aggregate, string, math, date and JSON functions \
                  are allowed; table functions, writes, locks, recursive CTEs and system catalogs are refused. \
                  Name columns explicitly on tables with hidden or masked columns. The service caps the rows \
                  returned (truncated: true when it cut the result); prefer get_table_data for plain reads.",
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
    sql: String,
    #[serde(default)]
    params: Vec<Json>,
}

fn input_schema() -> Json {
    json!({
        "type": "object",
        "properties": {
            "sql": { "type": "string", "description": "One SELECT statement.", "maxLength": readonly::MAX_SQL_BYTES },
            "params": { "type": "array", "maxItems": MAX_PARAMS, "description": "Values for the placeholders, in order." }
        },
        "required": ["sql"],
        "additionalProperties": false
    })
}

fn output_schema() -> Json {
    super::custom::rows_output_schema()
}

/// Whether `query_sql` may read this table: not one with a row policy, which a free-form query
/// could read around (refused, saying where the policy does apply).
pub fn table_allowed(table: &Table) -> Result<(), String> {
    match table.rows {
        crate::rows::RowAccess::Open => Ok(()),
        _ => Err(format!(
            "table {:?} has a row policy, which query_sql does not apply; read it with get_table_data or \
             aggregate_table_data, which do",
            table.name
        )),
    }
}

fn run<'a>(ctx: &'a ToolContext<'a>, args: Json) -> LocalBoxFuture<'a, ToolResult> {
    Box::pin(async move {
        if !ctx.service.query_sql {
            return Err(ToolError::new("query_sql is not enabled for this service"));
        }
        let input: Input = parse_args(args)?;
        if input.params.len() > MAX_PARAMS {
            return Err(ToolError(format!("at most {MAX_PARAMS} params; got {}", input.params.len())));
        }
        let schema = ctx.schema().await?;
        let dialect = ctx.db.dialect();
        let cap = ctx.service.max_rows;
        let visibility = Visibility::of_service(&schema, ctx.service, &table_allowed);
        let query = readonly::validate(dialect, &input.sql, &visibility, cap + 1).map_err(ToolError)?;
        if query.params_needed != input.params.len() {
            return Err(ToolError(format!(
                "the SQL has placeholders for {} parameter(s) but params holds {}",
                query.params_needed,
                input.params.len()
            )));
        }
        let params: Vec<SqlValue> = input.params.iter().map(SqlValue::from_json).collect();
        run_checked(ctx, Statement::new(query.wrapped, params), cap).await
    })
}

/// Runs a validated, wrapped query (read-only transaction on PostgreSQL) and shapes its rows;
/// shared with the custom tools.
pub async fn run_checked(ctx: &ToolContext<'_>, statement: Statement, cap: u64) -> ToolResult {
    let result = match ctx.db.dialect() {
        Dialect::Sqlite => ctx.db.query(&statement).await?,
        Dialect::Postgres => {
            let mut results = ctx.db.batch(&[read_only_transaction(), statement]).await?;
            results.pop().ok_or_else(|| ToolError::new("the database returned no result"))?
        }
    };
    rows_result(result, cap)
}

/// PostgreSQL: the rest of this transaction is read-only, whatever the service's setting (going
/// read-only is allowed at any point of a transaction; going back is not).
pub fn read_only_transaction() -> Statement {
    Statement::new("SELECT set_config('transaction_read_only', 'on', true)", vec![])
}

fn rows_result(result: crate::db::QueryResult, cap: u64) -> ToolResult {
    let mut seen = std::collections::BTreeSet::new();
    if let Some(duplicate) = result.columns.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(ToolError(format!(
            "two result columns are named {duplicate:?}; give them distinct aliases (AS ...)"
        )));
    }
    let columns = result.columns.clone();
    let mut records = result.into_objects();
    let truncated = records.len() as u64 > cap;
    records.truncate(cap as usize);
    let mut out = json!({ "columns": columns, "returned": records.len(), "limit": cap, "truncated": truncated });
    out["records"] = Json::Array(records.into_iter().map(Json::Object).collect());
    Ok(out)
}
