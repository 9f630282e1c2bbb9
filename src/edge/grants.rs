//! OAuth grants, codes and refresh tokens in a Durable Object: one object per service (plus
//! `_global` for registration rate limits), its records in one SQLite table. The rules are
//! `crate::oauth::grants::apply`; SQLite calls in a Durable Object are synchronous, so one command
//! runs start to finish without another request interleaving: a refresh token rotates once.

use std::cell::{Cell, RefCell};

use async_trait::async_trait;
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, SqlStorageValue, State};

use crate::oauth::grants::{apply, Command, GrantStore, RecordStore, Reply};

/// Expired records are swept this often (reads already ignore them).
const SWEEP_MS: u64 = 3600 * 1000;

struct SqlRecords<'a> {
    sql: &'a SqlStorage,
    now_ms: u64,
    /// The first storage error; the command's reply is then discarded.
    error: RefCell<Option<String>>,
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
}

#[derive(Deserialize)]
struct KeyRow {
    key: String,
}

impl SqlRecords<'_> {
    fn fail(&self, e: worker::Error) {
        self.error.borrow_mut().get_or_insert(e.to_string());
    }
}

fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(n as i64)
}

impl RecordStore for SqlRecords<'_> {
    fn get(&self, key: &str) -> Option<String> {
        let rows = self
            .sql
            .exec(
                "SELECT value FROM records WHERE key = ? AND (expires_ms IS NULL OR expires_ms > ?)",
                vec![key.into(), int(self.now_ms)],
            )
            .and_then(|c| c.to_array::<ValueRow>());
        match rows {
            Ok(rows) => rows.into_iter().next().map(|r| r.value),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn put(&mut self, key: &str, value: &str, expires_ms: Option<u64>) {
        let expires = expires_ms.map(int).unwrap_or(SqlStorageValue::Null);
        if let Err(e) = self.sql.exec(
            "INSERT OR REPLACE INTO records (key, value, expires_ms) VALUES (?, ?, ?)",
            vec![key.into(), value.into(), expires],
        ) {
            self.fail(e);
        }
    }

    fn delete(&mut self, key: &str) {
        if let Err(e) = self.sql.exec("DELETE FROM records WHERE key = ?", vec![key.into()]) {
            self.fail(e);
        }
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let rows = self
            .sql
            .exec("SELECT key FROM records WHERE substr(key, 1, ?) = ?", vec![int(prefix.len() as u64), prefix.into()])
            .and_then(|c| c.to_array::<KeyRow>());
        match rows {
            Ok(rows) => rows.into_iter().map(|r| r.key).collect(),
            Err(e) => {
                self.fail(e);
                vec![]
            }
        }
    }
}

#[durable_object]
pub struct OAuthGrants {
    state: State,
    sweep_scheduled: Cell<bool>,
}

impl DurableObject for OAuthGrants {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        // Errors surface on first use instead (`fetch` reports them).
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_ms INTEGER)",
            None,
        );
        OAuthGrants { state, sweep_scheduled: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        // From the text with serde_json, not `req.json()` (serde_wasm_bindgen): the command enums then
        // need no second deserializer compiled in, and JSON text parses faster than a JS object walk.
        let command: Command =
            match req.text().await.and_then(|t| serde_json::from_str(&t).map_err(worker::Error::from)) {
                Ok(command) => command,
                Err(e) => return Response::error(format!("bad grant command: {e}"), 400),
            };
        let sql = self.state.storage().sql();
        let now_ms = super::now_ms();
        let mut records = SqlRecords { sql: &sql, now_ms, error: RefCell::new(None) };
        let reply = apply(&mut records, now_ms, command);
        if let Some(e) = records.error.into_inner() {
            return Response::error(format!("grant storage failed: {e}"), 500);
        }
        if !self.sweep_scheduled.get() {
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none() {
                storage.set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
            }
            self.sweep_scheduled.set(true);
        }
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM records WHERE expires_ms IS NOT NULL AND expires_ms <= ?", vec![int(super::now_ms())])?;
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let left = sql.exec("SELECT count(*) AS n FROM records", None)?.one::<Count>()?.n;
        if left > 0 {
            self.state.storage().set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
        } else {
            self.sweep_scheduled.set(false);
        }
        Response::empty()
    }
}

/// The worker side: one stub per shard (service name).
pub struct DurableGrants<'a>(pub &'a Env);

#[async_trait(?Send)]
impl GrantStore for DurableGrants<'_> {
    async fn run(&self, shard: &str, command: &Command) -> Result<Reply, String> {
        let stub = super::stub(self.0, "OAUTH_GRANTS", shard)?;
        let body = serde_json::to_string(command).map_err(|e| e.to_string())?;
        let request = super::outgoing::post("https://grants.internal/", &body).map_err(|e| e.to_string())?;
        let mut response = stub.fetch_with_request(request).await.map_err(|e| format!("grant store: {e}"))?;
        if response.status_code() != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(format!("grant store answered {}: {text}", response.status_code()));
        }
        response.json().await.map_err(|e| e.to_string())
    }
}
