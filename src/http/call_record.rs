//! Records `tools/call`, `resources/read` and `prompts/get` in the execution log, in both eras
//! (single messages, batches and streamed answers all pass through [`CallSite::finish`]).

use serde_json::Value as Json;

use super::{Env, HttpRequest};
use crate::auth::Principal;
use crate::calllog::entry::{trace_id, Caller, FinishedCall};
use crate::calllog::{is_logged, CallLog};
use crate::config::ServiceConfig;
use crate::mcp::jsonrpc::{Request, RequestId, RpcError};

/// Who is calling, from where: built once per HTTP request.
pub(super) struct CallSite<'a> {
    log: &'a dyn CallLog,
    service: &'a str,
    caller: Caller,
    era: &'static str,
    trace_id: Option<String>,
}

impl<'a> CallSite<'a> {
    /// `None` when the log is not wired or the service turned it off.
    pub(super) fn new(
        http: &HttpRequest,
        env: &Env<'a>,
        service: &'a ServiceConfig,
        principal: &Principal,
        client_info: &Json,
        era: &'static str,
    ) -> Option<CallSite<'a>> {
        let log = env.call_log.filter(|_| service.log.enabled)?;
        Some(CallSite {
            log,
            service: &service.name,
            caller: Caller::new(&principal.id, principal.key_label.as_deref(), client_info),
            era,
            trace_id: trace_id(http.header("traceparent")),
        })
    }

    /// The start time of a call the log records, `None` for other methods.
    pub(super) fn start(&self, method: &str) -> Option<u64> {
        is_logged(method).then(|| self.log.now_ms())
    }

    pub(super) fn finish(&self, request: &Request, started_ms: u64, result: Result<&Json, &RpcError>) {
        let entry = FinishedCall {
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
            result: result.map_err(|e| e.message.clone()),
            started_ms,
            duration_ms: self.log.now_ms().saturating_sub(started_ms),
        }
        .into_entry();
        self.log.record(entry);
    }
}

/// Runs one dispatch and records it when the site logs its method.
pub(super) async fn logged<F>(site: Option<&CallSite<'_>>, request: &Request, run: F) -> Result<Json, RpcError>
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
