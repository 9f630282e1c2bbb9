//! The database as one tool call sees it. Every tool runs against a [`CallGuard`], which
//!
//! - counts the round trips (a query or a batch) the call makes and refuses any beyond the
//!   service's `max_queries_per_call`, so no single call can queue an unbounded number of queries
//!   on a shared database (D1 itself allows 50 per Worker invocation on the free plan, 1,000 on
//!   paid);
//! - removes hidden table and view names from every database error (message and hint), since
//!   engines name the relations and constraints a statement touched.
//!
//! Only database errors are scrubbed: messages a tool writes itself echo the caller's own words
//! and list visible names only, and scrubbing those would tell a caller which names are hidden.

use std::cell::Cell;

use async_trait::async_trait;

use super::scrub::scrub_hidden_names;
use crate::db::{Database, DbError, QueryResult, Statement};
use crate::raw_records::RecordsText;
use crate::sql::Dialect;

pub struct CallGuard<'a> {
    inner: &'a dyn Database,
    limit: u64,
    used: Cell<u64>,
    hidden_names: Vec<String>,
    scope: BudgetScope,
    /// Round trips allowed beyond `limit` without being the caller's: a request's budget leaves
    /// room for the one schema lookup (a single batch on both engines) its calls may need.
    allowance: u64,
}

/// What one budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BudgetScope {
    ToolCall,
    /// A whole HTTP request, which is one Worker invocation: D1 counts its limit per invocation,
    /// so the calls of a JSON-RPC batch share one budget.
    Request,
}

impl<'a> CallGuard<'a> {
    pub fn new(inner: &'a dyn Database, limit: u64, hidden_names: Vec<String>) -> Self {
        CallGuard { inner, limit, used: Cell::new(0), hidden_names, scope: BudgetScope::ToolCall, allowance: 0 }
    }

    /// The budget of a whole request (every message of a batch), plus the schema lookup, which is
    /// the server's own and not counted against a call; scrubbing is left to the guard of each
    /// tool call inside it.
    pub fn per_request(inner: &'a dyn Database, limit: u64) -> Self {
        CallGuard { inner, limit, used: Cell::new(0), hidden_names: vec![], scope: BudgetScope::Request, allowance: 1 }
    }

    /// Round trips made (or refused) so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }

    fn spend(&self) -> Result<(), DbError> {
        let used = self.used.get().saturating_add(1);
        self.used.set(used);
        if used > self.limit.saturating_add(self.allowance) {
            return Err(DbError::new(match self.scope {
                BudgetScope::ToolCall => format!(
                    "query budget exhausted: one tool call may make at most {} database queries on this service \
                     (max_queries_per_call); ask for less in one call (fewer related names, a smaller limit, fewer ids) \
                     and page through the rest",
                    self.limit
                ),
                BudgetScope::Request => format!(
                    "query budget exhausted: one request may make at most {} database queries on this service \
                     (max_queries_per_call), and the calls of a JSON-RPC batch share it; send the remaining calls \
                     in separate requests",
                    self.limit
                ),
            }));
        }
        Ok(())
    }

    fn scrub(&self, mut error: DbError) -> DbError {
        if !self.hidden_names.is_empty() {
            error.message = scrub_hidden_names(&error.message, &self.hidden_names);
            error.hint = error.hint.map(|hint| scrub_hidden_names(&hint, &self.hidden_names));
        }
        error
    }
}

#[async_trait(?Send)]
impl Database for CallGuard<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        self.spend()?;
        self.inner.query(statement).await.map_err(|e| self.scrub(e))
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        self.spend()?;
        self.inner.batch(statements).await.map_err(|e| self.scrub(e))
    }

    async fn query_records(&self, statement: &Statement, max_rows: usize) -> Result<RecordsText, DbError> {
        self.spend()?;
        self.inner.query_records(statement, max_rows).await.map_err(|e| self.scrub(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what reaches it; fails every statement whose SQL is `FAIL`, as an engine naming a
    /// table in its message and hint would.
    struct Engine(Cell<u64>);

    #[async_trait(?Send)]
    impl Database for Engine {
        fn dialect(&self) -> Dialect {
            Dialect::Postgres
        }
        async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
            self.0.set(self.0.get() + 1);
            if statement.sql == "FAIL" {
                return Err(DbError {
                    message: "Key (customer_id)=(9) is not present in table \"customers\".".into(),
                    code: Some("23503".into()),
                    hint: Some("see public.customers".into()),
                });
            }
            Ok(QueryResult::default())
        }
        async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
            self.0.set(self.0.get() + 1);
            Ok(vec![QueryResult::default(); statements.len()])
        }
    }

    #[test]
    fn a_guard_lets_its_budget_through_and_refuses_the_rest() {
        let engine = Engine(Cell::new(0));
        let guard = CallGuard::new(&engine, 3, vec![]);
        let statement = Statement::new("SELECT 1", vec![]);
        futures_executor::block_on(async {
            assert!(guard.query(&statement).await.is_ok());
            assert!(guard.batch(&[statement.clone(), statement.clone()]).await.is_ok());
            assert!(guard.query(&statement).await.is_ok());
            for _ in 0..5 {
                let err = guard.query(&statement).await.unwrap_err();
                assert!(err.message.contains("at most 3 database queries"), "{}", err.message);
                assert!(guard.batch(std::slice::from_ref(&statement)).await.is_err());
            }
        });
        assert_eq!(engine.0.get(), 3, "nothing beyond the budget reaches the engine");
        assert_eq!(guard.used(), 13);
        assert_eq!(guard.dialect(), Dialect::Postgres);
    }

    #[test]
    fn a_request_budget_is_shared_by_every_call_inside_it() {
        let engine = Engine(Cell::new(0));
        let request = CallGuard::per_request(&engine, 3);
        let statement = Statement::new("SELECT 1", vec![]);
        futures_executor::block_on(async {
            // The schema lookup of the request, outside any call's budget.
            assert!(request.batch(std::slice::from_ref(&statement)).await.is_ok());
            // Two tool calls of one batch, each with a budget of its own that would allow 3.
            let first = CallGuard::new(&request, 3, vec![]);
            assert!(first.query(&statement).await.is_ok());
            assert!(first.query(&statement).await.is_ok());
            let second = CallGuard::new(&request, 3, vec![]);
            assert!(second.query(&statement).await.is_ok());
            let err = second.query(&statement).await.unwrap_err();
            assert!(err.message.contains("one request may make at most 3"), "{}", err.message);
            assert!(err.message.contains("separate requests"));
        });
        assert_eq!(engine.0.get(), 4, "three queries of the calls and the one schema lookup");
    }

    #[test]
    fn database_errors_lose_hidden_names_and_keep_the_rest() {
        let engine = Engine(Cell::new(0));
        let fail = Statement::new("FAIL", vec![]);
        let hiding = CallGuard::new(&engine, 10, vec!["customers".into()]);
        let err = futures_executor::block_on(hiding.query(&fail)).unwrap_err();
        assert_eq!(err.message, "Key (customer_id)=(9) is not present in table [hidden].");
        assert_eq!(err.hint.as_deref(), Some("see [hidden]"));
        assert_eq!(err.code.as_deref(), Some("23503"));
        let open = CallGuard::new(&engine, 10, vec![]);
        let err = futures_executor::block_on(open.query(&fail)).unwrap_err();
        assert!(err.message.contains("\"customers\""));
    }
}
