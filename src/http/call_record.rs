//! The execution log's [`CallSite`] for an HTTP request: who calls (principal, clientInfo),
//! the era, and the W3C trace id.

use serde_json::Value as Json;

use super::{Env, HttpRequest};
use crate::auth::Principal;
use crate::calllog::entry::{trace_id, Caller};
pub(super) use crate::calllog::site::{logged, CallSite};
use crate::config::ServiceConfig;

/// `None` when the log is not wired or the service turned it off.
pub(super) fn site<'a>(
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
