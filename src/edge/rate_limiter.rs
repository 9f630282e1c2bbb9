//! Rate limit buckets in Durable Objects: one object per bucket (named `<service>:key:<id>`,
//! `<service>:client:<id>` or `<service>:user:<name>`), its TAT in one SQLite row. The math is
//! `crate::rate_limit::apply`; the object runs one command at a time and SQLite calls here are
//! synchronous, so parallel requests are counted one after another: no overshoot.

use std::cell::Cell;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value as Json;
use worker::{durable_object, DurableObject, Env, Method, ObjectNamespace, Request, RequestInit, Response, State};

use crate::rate_limit::{apply, Command, Limiter, Verdict};

/// An idle bucket (its TAT in the past, so it is full) is deleted by an alarm this long after
/// its first use in an instance; a busy one is looked at again as long after.
const SWEEP_MS: u64 = 3600 * 1000;

#[derive(Deserialize)]
struct TatRow {
    tat_us: i64,
}

#[durable_object]
pub struct RateLimiter {
    state: State,
    /// The TAT as last written (this object is its only writer); `None` until read.
    tat_us: Cell<Option<u64>>,
    sweep_scheduled: Cell<bool>,
    /// The table exists (`delete_all` in the alarm drops it with everything else).
    table_ready: Cell<bool>,
}

const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS bucket (id INTEGER PRIMARY KEY CHECK (id = 1), tat_us INTEGER NOT NULL)";

impl RateLimiter {
    fn ensure_table(&self) -> worker::Result<()> {
        if !self.table_ready.get() {
            self.state.storage().sql().exec(CREATE_TABLE, None)?;
            self.table_ready.set(true);
        }
        Ok(())
    }

    fn stored_tat(&self) -> worker::Result<u64> {
        if let Some(tat) = self.tat_us.get() {
            return Ok(tat);
        }
        self.ensure_table()?;
        let rows =
            self.state.storage().sql().exec("SELECT tat_us FROM bucket WHERE id = 1", None)?.to_array::<TatRow>()?;
        let tat = rows.first().map_or(0, |r| r.tat_us.max(0) as u64);
        self.tat_us.set(Some(tat));
        Ok(tat)
    }
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter { state, tat_us: Cell::new(None), sweep_scheduled: Cell::new(false), table_ready: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let command: Command =
            match req.text().await.and_then(|t| serde_json::from_str(&t).map_err(worker::Error::from)) {
                Ok(command) => command,
                Err(e) => return Response::error(format!("bad rate limit command: {e}"), 400),
            };
        let now_us = super::now_ms() * 1000;
        let tat = self.stored_tat()?;
        let (new_tat, verdict) = apply(tat, now_us, command);
        if new_tat != tat {
            self.ensure_table()?;
            self.state.storage().sql().exec(
                "INSERT OR REPLACE INTO bucket (id, tat_us) VALUES (1, ?)",
                vec![worker::SqlStorageValue::Integer(new_tat as i64)],
            )?;
            self.tat_us.set(Some(new_tat));
        }
        if !self.sweep_scheduled.get() {
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none() {
                storage.set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
            }
            self.sweep_scheduled.set(true);
        }
        Response::from_json(&verdict)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if self.stored_tat()? <= super::now_ms() * 1000 {
            // Full again: the same as a bucket never used.
            self.state.storage().delete_all().await?;
            self.tat_us.set(Some(0));
            self.table_ready.set(false);
            self.sweep_scheduled.set(false);
        } else {
            self.state.storage().set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
        }
        Response::empty()
    }
}

/// The worker side: one stub per bucket.
pub struct DurableLimiter {
    namespace: Result<ObjectNamespace, String>,
}

impl DurableLimiter {
    pub fn new(namespace: worker::Result<ObjectNamespace>) -> Self {
        DurableLimiter {
            namespace: namespace
                .map_err(|_| "no Durable Object binding named \"RATE_LIMITER\"; see wrangler.toml".to_string()),
        }
    }
}

#[async_trait(?Send)]
impl Limiter for DurableLimiter {
    async fn run(&self, bucket: &str, command: Command) -> Result<Verdict, String> {
        let namespace = self.namespace.as_ref().map_err(Clone::clone)?;
        let stub = namespace.id_from_name(bucket).and_then(|i| i.get_stub()).map_err(|e| e.to_string())?;
        let body = serde_json::to_string(&command).map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init("https://rate-limiter.internal/", &init).map_err(|e| e.to_string())?;
        let mut response = stub.fetch_with_request(request).await.map_err(|e| format!("rate limiter: {e}"))?;
        let text = response.text().await.map_err(|e| e.to_string())?;
        if response.status_code() != 200 {
            return Err(format!("rate limiter answered {}: {text}", response.status_code()));
        }
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }

    fn log(&self, line: &Json) {
        worker::console_error!("{line}");
    }
}
