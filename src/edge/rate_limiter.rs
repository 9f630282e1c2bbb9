//! Rate limit buckets in Durable Objects: one object per bucket (named `<service>:key:<id>`,
//! `<service>:client:<id>` or `<service>:user:<name>`), its TAT under one storage key of the
//! object's SQLite-backed storage. The math is `crate::rate_limit::apply`; an object handles one
//! request at a time and its storage calls hold other requests back (input gates), so parallel
//! requests are counted one after another: no overshoot. The TAT is also kept in memory, as this
//! object is its only writer.

use std::cell::Cell;

use async_trait::async_trait;
use serde_json::Value as Json;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::rate_limit::{apply, Command, Limiter, Verdict};

const TAT_KEY: &str = "tat_us";
/// An idle bucket (its TAT in the past, so it is full) is deleted by an alarm this long after
/// its first use in an instance; a busy one is looked at again as long after.
const SWEEP_MS: u64 = 3600 * 1000;

#[durable_object]
pub struct RateLimiter {
    state: State,
    /// The TAT as last written; `None` until read.
    tat_us: Cell<Option<u64>>,
    sweep_scheduled: Cell<bool>,
}

impl RateLimiter {
    async fn stored_tat(&self) -> worker::Result<u64> {
        if let Some(tat) = self.tat_us.get() {
            return Ok(tat);
        }
        let tat: Option<u64> = self.state.storage().get(TAT_KEY).await?;
        let tat = tat.unwrap_or(0);
        self.tat_us.set(Some(tat));
        Ok(tat)
    }
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter { state, tat_us: Cell::new(None), sweep_scheduled: Cell::new(false) }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let url = req.url()?;
        let command = match Command::from_query(url.query().unwrap_or("")) {
            Ok(command) => command,
            Err(e) => return Response::error(format!("bad rate limit command: {e}"), 400),
        };
        let now_us = super::now_ms() * 1000;
        let tat = self.stored_tat().await?;
        let (new_tat, verdict) = apply(tat, now_us, command);
        if new_tat != tat {
            // Memory first: the next request sees this one counted whatever the write's timing.
            self.tat_us.set(Some(new_tat));
            self.state.storage().put(TAT_KEY, new_tat).await?;
        }
        if !self.sweep_scheduled.get() {
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none() {
                storage.set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
            }
            self.sweep_scheduled.set(true);
        }
        Response::ok(verdict.to_text())
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if self.stored_tat().await? <= super::now_ms() * 1000 {
            // Full again: the same as a bucket never used.
            self.state.storage().delete_all().await?;
            self.tat_us.set(Some(0));
            self.sweep_scheduled.set(false);
        } else {
            self.state.storage().set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
        }
        Response::empty()
    }
}

/// The worker side: one stub per bucket.
pub struct DurableLimiter<'a>(pub &'a Env);

#[async_trait(?Send)]
impl Limiter for DurableLimiter<'_> {
    async fn run(&self, bucket: &str, command: Command) -> Result<Verdict, String> {
        let stub = super::stub(self.0, "RATE_LIMITER", bucket)?;
        let url = format!("https://rate-limiter.internal/?{}", command.to_query());
        let request = super::outgoing::request("POST", &url, Default::default()).map_err(|e| e.to_string())?;
        let mut response = stub.fetch_with_request(request).await.map_err(|e| format!("rate limiter: {e}"))?;
        let text = response.text().await.map_err(|e| e.to_string())?;
        if response.status_code() != 200 {
            return Err(format!("rate limiter answered {}: {text}", response.status_code()));
        }
        Verdict::from_text(&text)
    }

    fn log(&self, line: &Json) {
        worker::console_error!("{line}");
    }
}
