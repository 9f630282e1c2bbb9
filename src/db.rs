//! The `Database` trait: the one seam between the tools and an engine.
//!
//! Tools build [`Statement`]s with the SQL builder and hand them here; an engine binding (D1,
//! Postgres over HTTP, or real SQLite in native tests) runs them. Values always travel as bound
//! parameters, never inside the SQL text.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::raw_records::RecordsText;
use crate::sql::Dialect;

/// A value bound to a `?`/`$n` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bool(bool),
    Integer(i64),
    Real(f64),
    Text(String),
    /// JSON to be stored as text (objects and arrays a client sends as a column value).
    Json(Json),
}

impl SqlValue {
    /// Converts a JSON value from a client into a bindable value. Integers that do not fit `i64`
    /// stay as text so nothing is rounded on the way in.
    pub fn from_json(value: &Json) -> SqlValue {
        match value {
            Json::Null => SqlValue::Null,
            Json::Bool(b) => SqlValue::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => SqlValue::Integer(i),
                None => match n.as_f64() {
                    Some(f) if n.is_f64() => SqlValue::Real(f),
                    _ => SqlValue::Text(n.to_string()),
                },
            },
            Json::String(s) => SqlValue::Text(s.clone()),
            other => SqlValue::Json(other.clone()),
        }
    }
}

/// One SQL statement with its bound parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, params: Vec<SqlValue>) -> Self {
        Statement { sql: sql.into(), params }
    }
}

/// Rows as the engine returned them, columns in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// Rows changed by an INSERT/UPDATE/DELETE, when the engine reports it.
    pub rows_affected: Option<u64>,
}

impl QueryResult {
    /// Rows as JSON objects keyed by column name, in column order.
    pub fn into_objects(self) -> Vec<serde_json::Map<String, Json>> {
        let columns = self.columns;
        self.rows.into_iter().map(|row| columns.iter().cloned().zip(row).collect()).collect()
    }
}

/// An engine error, kept close to what the engine said so a model can act on it.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError {
    pub message: String,
    /// SQLSTATE or engine error code, when there is one.
    pub code: Option<String>,
    pub hint: Option<String>,
}

impl DbError {
    pub fn new(message: impl Into<String>) -> Self {
        DbError { message: message.into(), code: None, hint: None }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " (code {code})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, ". Hint: {hint}")?;
        }
        Ok(())
    }
}

/// A database engine. `?Send` because Workers are single-threaded and JS handles are not `Send`.
#[async_trait(?Send)]
pub trait Database {
    fn dialect(&self) -> Dialect;

    /// Runs one statement.
    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError>;

    /// Runs statements as one atomic unit: either every statement takes effect or none does.
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError>;

    /// Runs one query and returns its first `max_rows` rows as the JSON text of an array of
    /// objects (see [`crate::raw_records`]). Engines that read rows as text (D1) write it without
    /// building values; the default goes through [`Database::query`].
    async fn query_records(&self, statement: &Statement, max_rows: usize) -> Result<RecordsText, DbError> {
        Ok(RecordsText::from_result(self.query(statement).await?, max_rows))
    }
}

/// Stands in for a database that could not be opened (a missing binding or secret), so the
/// session keeps working and every tool that needs data says why it cannot have it.
pub struct Unavailable {
    pub dialect: Dialect,
    pub reason: String,
}

#[async_trait(?Send)]
impl Database for Unavailable {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    async fn query(&self, _: &Statement) -> Result<QueryResult, DbError> {
        Err(DbError::new(format!("the database is unavailable: {}", self.reason)))
    }

    async fn batch(&self, _: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        Err(DbError::new(format!("the database is unavailable: {}", self.reason)))
    }
}
