//! D1 behind the `Database` trait.
//!
//! Single queries use `raw({columnNames: true})`, which keeps column order and duplicate names
//! (worker's `raw()` takes no options, hence the small extern block). Batches are atomic: D1 runs
//! a batch in one transaction.

use async_trait::async_trait;
use serde_json::Value as Json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::db::{Database, DbError, QueryResult, SqlValue, Statement};
use crate::raw_records::{records_from_arrays, RecordsText};
use crate::sql::Dialect;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Object)]
    type RawStatement;

    #[wasm_bindgen(method, catch, js_name = raw)]
    fn raw_with_options(this: &RawStatement, options: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// Integers JS numbers hold exactly.
const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

pub struct D1 {
    db: worker::D1Database,
}

impl D1 {
    pub fn new(db: worker::D1Database) -> Self {
        D1 { db }
    }

    fn prepare(&self, statement: &Statement) -> Result<worker::D1PreparedStatement, DbError> {
        let params: Vec<JsValue> = statement.params.iter().map(to_js).collect();
        self.db.prepare(statement.sql.as_str()).bind(&params).map_err(|e| worker_error(&e))
    }

    /// The rows as arrays, the column names first.
    async fn raw_rows(&self, statement: &Statement) -> Result<JsValue, DbError> {
        let prepared = self.prepare(statement)?;
        let raw: &RawStatement = prepared.inner().unchecked_ref();
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"columnNames".into(), &JsValue::TRUE)
            .map_err(|_| DbError::new("could not build D1 options"))?;
        let promise = raw.raw_with_options(&options).map_err(|e| js_error(&e))?;
        JsFuture::from(promise).await.map_err(|e| js_error(&e))
    }
}

fn to_js(value: &SqlValue) -> JsValue {
    match value {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Bool(b) => JsValue::from(*b as i32),
        // Beyond 2^53 a JS number would round; SQLite turns the text back into an integer for
        // columns of INTEGER affinity and compares it numerically.
        SqlValue::Integer(i) if i.unsigned_abs() <= MAX_SAFE_INTEGER as u64 => JsValue::from_f64(*i as f64),
        SqlValue::Integer(i) => JsValue::from_str(&i.to_string()),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
        SqlValue::Json(v) => JsValue::from_str(&v.to_string()),
    }
}

/// D1 messages look like `D1_ERROR: UNIQUE constraint failed: customers.email: SQLITE_CONSTRAINT`.
fn db_error(message: &str) -> DbError {
    // Only the first line: the rest is a JS stack trace.
    let mut text = message.lines().next().unwrap_or_default().trim();
    for prefix in ["Error: ", "D1_ERROR: ", "D1_EXEC_ERROR: "] {
        text = text.strip_prefix(prefix).unwrap_or(text);
    }
    let (text, code) = match text.split_once(": SQLITE_") {
        Some((rest, code)) => {
            let code: String = code.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (rest, Some(format!("SQLITE_{code}")))
        }
        None => (text, None),
    };
    DbError { message: text.to_string(), code, hint: None }
}

/// Rows cross from JS as one JSON text: a single `JSON.stringify` inside the engine and one
/// serde_json parse cost far less than converting value by value across the boundary. D1's rows
/// hold only what JSON holds (numbers, strings, null; a BLOB is an array of byte values), and
/// integers beyond 2^53 are already text (see the SQL builder), so nothing is lost on the way.
fn from_js(value: JsValue) -> Result<Json, DbError> {
    let text = stringify(value)?;
    serde_json::from_str(&text).map_err(|e| DbError::new(format!("could not read D1 result: {e}")))
}

fn stringify(value: JsValue) -> Result<String, DbError> {
    let text = js_sys::JSON::stringify(&value).map_err(|e| js_error(&e))?;
    text.as_string().ok_or_else(|| DbError::new("could not read D1 result: not JSON"))
}

#[async_trait(?Send)]
impl Database for D1 {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        let Json::Array(mut rows) = from_js(self.raw_rows(statement).await?)? else {
            return Err(DbError::new("D1 returned something other than rows"));
        };
        if rows.is_empty() {
            return Ok(QueryResult::default());
        }
        let columns: Vec<String> = match rows.remove(0) {
            Json::Array(names) => names.into_iter().map(|n| n.as_str().unwrap_or_default().to_string()).collect(),
            _ => return Err(DbError::new("D1 returned no column names")),
        };
        let rows = rows
            .into_iter()
            .map(|row| match row {
                Json::Array(cells) => cells,
                other => vec![other],
            })
            .collect();
        Ok(QueryResult { columns, rows, rows_affected: None })
    }

    async fn query_records(&self, statement: &Statement, max_rows: usize) -> Result<RecordsText, DbError> {
        let text = stringify(self.raw_rows(statement).await?)?;
        records_from_arrays(&text, max_rows)
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        if statements.is_empty() {
            return Ok(vec![]);
        }
        let prepared = statements.iter().map(|s| self.prepare(s)).collect::<Result<Vec<_>, _>>()?;
        let results = self.db.batch(prepared).await.map_err(|e| worker_error(&e))?;
        results
            .into_iter()
            .map(|result| {
                if let Some(error) = result.error() {
                    return Err(db_error(&error));
                }
                let objects: Vec<serde_json::Map<String, Json>> =
                    result.results().map_err(|e| DbError::new(format!("could not read D1 result: {e}")))?;
                let columns: Vec<String> = objects.first().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                let rows = objects.into_iter().map(|o| o.into_iter().map(|(_, v)| v).collect()).collect();
                let rows_affected = result.meta().ok().flatten().and_then(|m| m.changes).map(|c| c as u64);
                Ok(QueryResult { columns, rows, rows_affected })
            })
            .collect()
    }
}

fn worker_error(error: &worker::Error) -> DbError {
    match error {
        worker::Error::D1(e) => db_error(&e.cause()),
        worker::Error::JsError(message) => db_error(message),
        other => db_error(&other.to_string()),
    }
}

fn js_error(value: &JsValue) -> DbError {
    let message = value
        .dyn_ref::<js_sys::Error>()
        .map(|e| {
            let cause = e.cause();
            match cause.dyn_ref::<js_sys::Error>() {
                Some(c) => String::from(c.message()),
                None => String::from(e.message()),
            }
        })
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown D1 error".to_string());
    db_error(&message)
}
