//! PostgreSQL over Neon's "SQL over HTTP" protocol: request bodies, headers, and the conversion
//! of responses and errors. The edge binding only moves the bytes (see `edge/neon.rs`), so all of
//! this is tested natively.

pub mod array;
pub mod values;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::db::{DbError, QueryResult, SqlValue, Statement};

/// Neon's endpoint for a connection string: the host's first label replaced by `api`, path `/sql`
/// (`ep-x-1.us-east-2.aws.neon.tech` -> `https://api.us-east-2.aws.neon.tech/sql`).
pub fn derive_endpoint(connection_string: &str) -> Result<String, String> {
    let host = connection_host(connection_string)?;
    match host.split_once('.') {
        Some((_, rest)) if !rest.is_empty() => Ok(format!("https://api.{rest}/sql")),
        _ => Err(format!("cannot derive a Neon endpoint from host {host:?}; set database.endpoint explicitly")),
    }
}

/// The host of `postgres://user:pass@host:port/db?...`.
pub fn connection_host(connection_string: &str) -> Result<String, String> {
    let rest = connection_string
        .strip_prefix("postgresql://")
        .or_else(|| connection_string.strip_prefix("postgres://"))
        .ok_or("the connection string must start with postgres:// or postgresql://")?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or("").to_string()
    };
    if host.is_empty() {
        return Err("the connection string has no host".into());
    }
    Ok(host)
}

/// A bound value as Neon expects it: text or null.
pub fn param(value: &SqlValue) -> Json {
    match value {
        SqlValue::Null => Json::Null,
        SqlValue::Bool(b) => json!(b.to_string()),
        SqlValue::Integer(i) => json!(i.to_string()),
        SqlValue::Real(f) => json!(f.to_string()),
        SqlValue::Text(s) => json!(s),
        SqlValue::Json(v) => json!(v.to_string()),
    }
}

fn query_body(statement: &Statement) -> Json {
    json!({ "query": statement.sql, "params": statement.params.iter().map(param).collect::<Vec<_>>() })
}

/// Body of a one-statement request.
pub fn single_body(statement: &Statement) -> String {
    query_body(statement).to_string()
}

/// Body of a transaction (run between BEGIN and COMMIT by the server).
pub fn batch_body(statements: &[Statement]) -> String {
    json!({ "queries": statements.iter().map(query_body).collect::<Vec<_>>() }).to_string()
}

/// The first statement of every transaction the worker sends: PostgreSQL itself cancels any later
/// statement of that transaction running longer than `timeout_ms` (`set_config(..., true)` is
/// `SET LOCAL`, so the setting ends with the transaction and never leaks into a pooled
/// connection). Without it a query the worker gave up on would keep its backend busy.
pub fn statement_timeout(timeout_ms: u64) -> Statement {
    Statement::new("SELECT set_config('statement_timeout', $1, true)", vec![SqlValue::Text(timeout_ms.to_string())])
}

/// Body of a transaction bounded by `timeout_ms` inside PostgreSQL; read its answer with
/// [`parse_bounded_batch`].
pub fn bounded_batch_body(statements: &[Statement], timeout_ms: u64) -> String {
    let queries: Vec<Json> =
        std::iter::once(&statement_timeout(timeout_ms)).chain(statements).map(query_body).collect();
    json!({ "queries": queries }).to_string()
}

/// Parses the answer to [`bounded_batch_body`]: the results of the caller's statements.
pub fn parse_bounded_batch(body: &str) -> Result<Vec<QueryResult>, DbError> {
    let mut results = parse_batch(body)?;
    if results.is_empty() {
        return Err(DbError::new("the Postgres endpoint returned no result for the statement timeout"));
    }
    results.remove(0);
    Ok(results)
}

/// Headers every request carries, besides the connection string.
pub fn headers(read_only_batch: bool) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![("Neon-Raw-Text-Output", "true"), ("Neon-Array-Mode", "true")];
    if read_only_batch {
        headers.push(("Neon-Batch-Read-Only", "true"));
    }
    headers
}

#[derive(Deserialize)]
struct Field {
    name: String,
    #[serde(rename = "dataTypeID")]
    data_type_id: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResult {
    #[serde(default)]
    fields: Vec<Field>,
    #[serde(default)]
    rows: Vec<Json>,
    #[serde(default)]
    row_count: Option<u64>,
}

fn convert(raw: RawResult) -> Result<QueryResult, DbError> {
    let columns: Vec<String> = raw.fields.iter().map(|f| f.name.clone()).collect();
    let mut rows = Vec::with_capacity(raw.rows.len());
    for row in raw.rows {
        let cells = match row {
            Json::Array(cells) => cells,
            // Object mode (Neon-Array-Mode ignored by a server): keep the field order.
            Json::Object(mut map) => raw.fields.iter().map(|f| map.remove(&f.name).unwrap_or(Json::Null)).collect(),
            _ => return Err(DbError::new("the Postgres endpoint returned a malformed row")),
        };
        if cells.len() != raw.fields.len() {
            return Err(DbError::new("the Postgres endpoint returned a row of the wrong width"));
        }
        rows.push(
            cells
                .into_iter()
                .zip(&raw.fields)
                .map(|(cell, field)| match cell {
                    Json::String(text) => values::text_to_json(field.data_type_id, &text),
                    other => other,
                })
                .collect(),
        );
    }
    Ok(QueryResult { columns, rows, rows_affected: raw.row_count })
}

/// Parses a 200 answer to a single query.
pub fn parse_single(body: &str) -> Result<QueryResult, DbError> {
    let raw: RawResult = serde_json::from_str(body)
        .map_err(|e| DbError::new(format!("the Postgres endpoint returned unreadable JSON: {e}")))?;
    convert(raw)
}

/// Parses a 200 answer to a transaction.
pub fn parse_batch(body: &str) -> Result<Vec<QueryResult>, DbError> {
    #[derive(Deserialize)]
    struct Batch {
        results: Vec<RawResult>,
    }
    let batch: Batch = serde_json::from_str(body)
        .map_err(|e| DbError::new(format!("the Postgres endpoint returned unreadable JSON: {e}")))?;
    batch.results.into_iter().map(convert).collect()
}

/// Turns a non-200 answer into an error a model can act on: the Postgres message, its SQLSTATE,
/// and the detail and hint when there are any.
pub fn parse_error(status: u16, body: &str) -> DbError {
    match status {
        413 => return DbError::new("the request is too large for the Postgres endpoint"),
        507 => {
            return DbError {
                message: "the result is too large; ask for fewer rows or columns".into(),
                code: None,
                hint: Some("use limit, fields or a narrower filter".into()),
            }
        }
        _ => {}
    }
    let parsed: Option<Map<String, Json>> = serde_json::from_str(body).ok();
    let text = |key: &str| {
        parsed.as_ref().and_then(|m| m.get(key)).and_then(Json::as_str).map(str::to_string).filter(|s| !s.is_empty())
    };
    let message = match (text("message"), text("detail")) {
        (Some(m), Some(d)) => format!("{m} ({d})"),
        (Some(m), None) => m,
        _ => {
            let snippet: String = body.chars().take(200).collect();
            format!("the Postgres endpoint answered HTTP {status}: {snippet}")
        }
    };
    let code = text("code");
    // 57014: cancelled by the statement timeout this worker sets (or by the proxy's deadline).
    let hint = text("hint").or_else(|| {
        (code.as_deref() == Some("57014")).then(|| {
            "the query ran past this service's time limit; narrow it (filter, limit) or raise database.timeout_ms"
                .to_string()
        })
    });
    DbError { message, code, hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_neon_endpoints_and_refuses_what_it_cannot() {
        assert_eq!(
            derive_endpoint("postgresql://u:p@ep-cool-1.us-east-2.aws.neon.tech/db?sslmode=require").unwrap(),
            "https://api.us-east-2.aws.neon.tech/sql"
        );
        assert_eq!(connection_host("postgres://u:p@localhost:5432/db").unwrap(), "localhost");
        assert_eq!(connection_host("postgres://u:p%40x@h.example:1/db").unwrap(), "h.example");
        assert!(derive_endpoint("postgres://u@localhost/db").is_err());
        assert!(derive_endpoint("mysql://x").is_err());
    }

    #[test]
    fn binds_values_as_text() {
        assert_eq!(param(&SqlValue::Integer(9007199254740993)), json!("9007199254740993"));
        assert_eq!(param(&SqlValue::Bool(true)), json!("true"));
        assert_eq!(param(&SqlValue::Null), Json::Null);
        assert_eq!(param(&SqlValue::Json(json!({"a": 1}))), json!("{\"a\":1}"));
        let body = single_body(&Statement::new("SELECT $1", vec![SqlValue::Real(1.5)]));
        assert_eq!(body, r#"{"query":"SELECT $1","params":["1.5"]}"#);
    }

    #[test]
    fn every_transaction_starts_with_a_bound_statement_timeout() {
        let body = bounded_batch_body(&[Statement::new("SELECT slow_query($1)", vec![SqlValue::Integer(30)])], 1500);
        let parsed: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            json!({ "queries": [
                { "query": "SELECT set_config('statement_timeout', $1, true)", "params": ["1500"] },
                { "query": "SELECT slow_query($1)", "params": ["30"] }
            ] })
        );
        let answer = r#"{"results":[
            {"fields":[{"name":"set_config","dataTypeID":25}],"rows":[["1500"]],"rowCount":1},
            {"fields":[{"name":"n","dataTypeID":23}],"rows":[["1"]],"rowCount":1}]}"#;
        let results = parse_bounded_batch(answer).unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].rows, vec![vec![json!(1)]]);
        assert!(parse_bounded_batch(r#"{"results":[]}"#).is_err());
    }

    #[test]
    fn converts_results_by_type() {
        let body = r#"{"rowAsArray":true,"command":"SELECT","rowCount":2,
          "fields":[{"name":"id","dataTypeID":20},{"name":"ok","dataTypeID":16},{"name":"n","dataTypeID":1700}],
          "rows":[["9007199254740993","t","1.50"],["2",null,"3"]]}"#;
        let result = parse_single(body).unwrap();
        assert_eq!(result.columns, vec!["id", "ok", "n"]);
        assert_eq!(
            result.rows,
            vec![vec![json!("9007199254740993"), json!(true), json!(1.5)], vec![json!(2), Json::Null, json!(3)]]
        );
        assert_eq!(result.rows_affected, Some(2));
        let batch = parse_batch(r#"{"results":[{"fields":[],"rows":[],"rowCount":1,"command":"INSERT"}]}"#).unwrap();
        assert_eq!(batch[0].rows_affected, Some(1));
        assert!(parse_single("not json").is_err());
        assert!(parse_single(r#"{"fields":[{"name":"a","dataTypeID":23}],"rows":[["1","2"]]}"#).is_err());
    }

    #[test]
    fn keeps_postgres_error_details() {
        let e = parse_error(
            400,
            r#"{"message":"duplicate key value violates unique constraint \"customers_email_key\"","code":"23505",
               "detail":"Key (email)=(a@b.c) already exists.","hint":null,"severity":"ERROR"}"#,
        );
        assert_eq!(e.code.as_deref(), Some("23505"));
        assert!(e.message.contains("customers_email_key") && e.message.contains("already exists"));
        let e = parse_error(
            400,
            r#"{"message":"relation \"nope\" does not exist","code":"42P01","hint":"Check the name."}"#,
        );
        assert_eq!(e.to_string(), "relation \"nope\" does not exist (code 42P01). Hint: Check the name.");
        assert!(parse_error(507, "").message.contains("too large"));
        let e = parse_error(400, r#"{"message":"canceling statement due to statement timeout","code":"57014"}"#);
        assert!(e.hint.unwrap().contains("database.timeout_ms"));
        assert!(parse_error(502, "<html>bad gateway</html>").message.contains("HTTP 502"));
    }
}
