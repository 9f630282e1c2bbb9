//! Recording around dispatch: [`logged`] times one JSON-RPC request and records it when its
//! method is one the log keeps. The HTTP layer builds one [`CallSite`] per request, in both eras.

use serde_json::Value as Json;

use super::entry::{cap_chars, Caller, FinishedCall, LogEntry, Outcome, MAX_ERROR_CHARS};
use super::{is_logged, CallLog};
use crate::mcp::jsonrpc::{Request, RequestId, RpcError};

/// Who is calling, from where, and where the entries go.
pub struct CallSite<'a> {
    pub log: &'a dyn CallLog,
    pub service: &'a str,
    pub caller: Caller,
    /// `2025` or `2026`.
    pub era: &'static str,
    pub trace_id: Option<String>,
}

impl CallSite<'_> {
    /// The start time of a call the log records, `None` for other methods.
    pub fn start(&self, method: &str) -> Option<u64> {
        is_logged(method).then(|| self.log.now_ms())
    }

    pub fn finish(&self, request: &Request, started_ms: u64, result: Result<&Json, &RpcError>) {
        let duration_ms = self.log.now_ms().saturating_sub(started_ms);
        let entry = self.entry(request, started_ms, duration_ms, result.map_err(|e| e.message.clone()));
        self.log.record(entry);
    }

    fn entry(&self, request: &Request, started_ms: u64, duration_ms: u64, result: Result<&Json, String>) -> LogEntry {
        FinishedCall {
            service: self.service,
            caller: &self.caller,
            era: self.era,
            trace_id: self.trace_id.as_deref(),
            request_id: match &request.id {
                RequestId::Number(n) => n.to_string(),
                RequestId::Text(t) => t.clone(),
            },
            method: &request.method,
            params: request.params.as_ref(),
            result,
            started_ms,
            duration_ms,
        }
        .into_entry()
    }

    /// Records a call refused before it ran (e.g. [`Outcome::RateLimited`]), taking 0 ms.
    pub fn refused(&self, request: &Request, outcome: Outcome, message: &str) {
        if !is_logged(&request.method) {
            return;
        }
        let mut entry = self.entry(request, self.log.now_ms(), 0, Err(message.to_string()));
        entry.outcome = outcome;
        entry.error = Some(cap_chars(message, MAX_ERROR_CHARS));
        self.log.record(entry);
    }
}

/// Runs one dispatch and records it when the site logs its method.
pub async fn logged<F>(site: Option<&CallSite<'_>>, request: &Request, run: F) -> Result<Json, RpcError>
where
    F: std::future::Future<Output = Result<Json, RpcError>>,
{
    let started = site.and_then(|s| s.start(&request.method));
    let result = run.await;
    if let (Some(site), Some(started)) = (site, started) {
        site.finish(request, started, result.as_ref());
    }
    result
}
