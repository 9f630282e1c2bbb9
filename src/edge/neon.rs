//! PostgreSQL over Neon's SQL-over-HTTP protocol, behind the `Database` trait. The protocol
//! itself (bodies, headers, type conversion, errors) lives in `crate::postgres`; this file only
//! sends the request, enforces the timeout and the response cap, and reports transport faults.
//!
//! Every request is a transaction that starts with `SET LOCAL statement_timeout` (see
//! `postgres::statement_timeout`): the timeout holds inside PostgreSQL too, so a query the worker
//! stopped waiting for does not go on running there.
//!
//! The database credential is the service's own connection string; the MCP client's credential
//! never leaves the worker.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Fetch, Headers};

use super::outgoing::{self, Outgoing};

use crate::db::{Database, DbError, QueryResult, Statement};
use crate::postgres;
use crate::sql::Dialect;

pub struct Neon {
    pub endpoint: String,
    pub connection_string: String,
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
    /// Every statement runs inside a read-only transaction (read-only services and credentials).
    pub read_only: bool,
    /// Who is asking, sent as `Dbmcp-Caller`: the project's proxy shares connections fairly among
    /// callers (Neon ignores it).
    pub caller: String,
}

impl Neon {
    async fn post(&self, body: String) -> Result<String, DbError> {
        let headers = Headers::new();
        let set = |name: &str, value: &str| headers.set(name, value).map_err(|e| DbError::new(e.to_string()));
        set("Neon-Connection-String", &self.connection_string)?;
        set("Content-Type", "application/json")?;
        set("Dbmcp-Caller", &self.caller)?;
        for (name, value) in postgres::headers(self.read_only) {
            set(name, value)?;
        }
        let with = Outgoing { headers: Some(&headers), body: Some(&body), ..Default::default() };
        let request = outgoing::request("POST", &self.endpoint, with).map_err(|e| DbError::new(e.to_string()))?;

        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let sending = Box::pin(fetch.send_with_signal(&signal));
        let deadline = Delay::from(Duration::from_millis(self.timeout_ms));
        let mut response = match select(sending, deadline).await {
            Either::Left((Ok(response), _)) => response,
            Either::Left((Err(e), _)) => {
                return Err(DbError::new(format!("could not reach the Postgres endpoint {}: {e}", self.endpoint)))
            }
            Either::Right(_) => {
                controller.abort();
                return Err(DbError {
                    message: format!("the query timed out after {} ms; nothing further was read", self.timeout_ms),
                    code: Some("57014".into()),
                    hint: Some("narrow the query (filter, limit) or raise database.timeout_ms".into()),
                });
            }
        };
        let declared = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_response_bytes) {
            return Err(too_large(self.max_response_bytes));
        }
        let text =
            response.text().await.map_err(|e| DbError::new(format!("could not read the Postgres response: {e}")))?;
        if text.len() as u64 > self.max_response_bytes {
            return Err(too_large(self.max_response_bytes));
        }
        match response.status_code() {
            200 => Ok(text),
            status => Err(postgres::parse_error(status, &text)),
        }
    }
}

fn too_large(cap: u64) -> DbError {
    DbError {
        message: format!("the result is larger than this service's cap of {cap} bytes"),
        code: None,
        hint: Some("ask for fewer rows (limit) or fewer columns (fields)".into()),
    }
}

#[async_trait(?Send)]
impl Database for Neon {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        // Only a transaction can carry the statement timeout (and be made read-only), so one
        // statement travels as a batch too.
        let mut results = self.batch(std::slice::from_ref(statement)).await?;
        results.pop().ok_or_else(|| DbError::new("the Postgres endpoint returned no result"))
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        if statements.is_empty() {
            return Ok(vec![]);
        }
        let body = self.post(postgres::bounded_batch_body(statements, self.timeout_ms)).await?;
        postgres::parse_bounded_batch(&body)
    }
}
