//! The `Database` trait: the one seam between the tools and an engine.
//!
//! Tools build [`Statement`]s with the SQL builder and hand them here; an engine binding (D1,
//! Postgres over HTTP, or real SQLite in native tests) runs them. Values always travel as bound
//! parameters, never inside the SQL text.

use async_trait::async_trait;
use serde_json::Value as Json;

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

/// Counts the round trips (a query or a batch) one tool call makes and refuses any beyond its
/// limit, so no single call can queue an unbounded number of queries on a shared database (D1
/// itself allows 50 per Worker invocation on the free plan, 1,000 on paid).
pub struct QueryBudget<'a> {
    inner: &'a dyn Database,
    limit: u64,
    used: std::cell::Cell<u64>,
}

impl<'a> QueryBudget<'a> {
    pub fn new(inner: &'a dyn Database, limit: u64) -> Self {
        QueryBudget { inner, limit, used: std::cell::Cell::new(0) }
    }

    /// Round trips made (or refused) so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    fn spend(&self) -> Result<(), DbError> {
        let used = self.used.get().saturating_add(1);
        self.used.set(used);
        if used > self.limit {
            return Err(DbError::new(format!(
                "query budget exhausted: one tool call may make at most {} database queries on this service \
                 (max_queries_per_call); ask for less in one call (fewer related names, a smaller limit, fewer ids) \
                 and page through the rest",
                self.limit
            )));
        }
        Ok(())
    }
}

#[async_trait(?Send)]
impl Database for QueryBudget<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        self.spend()?;
        self.inner.query(statement).await
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        self.spend()?;
        self.inner.batch(statements).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every statement with an empty result and counts what reached it.
    struct Counting(std::cell::Cell<u64>);

    #[async_trait(?Send)]
    impl Database for Counting {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        async fn query(&self, _: &Statement) -> Result<QueryResult, DbError> {
            self.0.set(self.0.get() + 1);
            Ok(QueryResult::default())
        }
        async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
            self.0.set(self.0.get() + 1);
            Ok(vec![QueryResult::default(); statements.len()])
        }
    }

    #[test]
    fn a_budget_lets_its_limit_through_and_refuses_the_rest() {
        let engine = Counting(std::cell::Cell::new(0));
        let budget = QueryBudget::new(&engine, 3);
        let statement = Statement::new("SELECT 1", vec![]);
        futures_executor::block_on(async {
            assert!(budget.query(&statement).await.is_ok());
            assert!(budget.batch(&[statement.clone(), statement.clone()]).await.is_ok());
            assert!(budget.query(&statement).await.is_ok());
            for _ in 0..5 {
                let err = budget.query(&statement).await.unwrap_err();
                assert!(err.message.contains("at most 3 database queries"), "{}", err.message);
                assert!(budget.batch(&[statement.clone()]).await.is_err());
            }
        });
        assert_eq!(engine.0.get(), 3, "nothing beyond the budget reaches the engine");
        assert_eq!(budget.dialect(), Dialect::Sqlite);
    }
}
