//! The rate limit gate of `/mcp/<service>`: after authentication and JSON parsing, before the
//! era is chosen, so both eras (and every method) pass through it once per POST. It asks the
//! limiter only when the service limits the caller's kind of credential: a service without
//! `rate_limits` pays nothing.

use serde_json::Value as Json;

use super::mcp_endpoint::{rpc_response, Reply};
use super::{call_record, mcp_modern, Env, HttpRequest, HttpResponse};
use crate::auth::Principal;
use crate::config::ServiceConfig;
use crate::mcp::jsonrpc::{self, RequestId};
use crate::rate_limit::{self, Refusal};

/// `Some(429 answer)` when a bucket of the caller has no room. A POST counts as many requests as
/// it carries messages (a batch of n costs n, capped at the limit so a batch can always pass an
/// idle bucket); a refused batch is refused whole.
pub(super) async fn gate(
    request: &HttpRequest,
    service: &ServiceConfig,
    principal: &Principal,
    env: &Env<'_>,
    body: &Json,
    reply: Reply,
) -> Option<HttpResponse> {
    let buckets = rate_limit::buckets(&service.name, &service.rate_limits, &principal.credential);
    if buckets.is_empty() {
        return None;
    }
    let limiter = env.rate_limiter?;
    let cost = match body {
        // A batch dispatch refuses anyway (empty or too big) costs nothing and logs nothing here:
        // a 1 MiB batch of tiny calls must not become thousands of log entries.
        Json::Array(items) if crate::mcp::batch::check_size(items.len()).is_err() => return None,
        Json::Array(items) => items.len() as u64,
        _ => 1,
    };
    let refused = rate_limit::check(limiter, &buckets, cost).await?;
    record_refused(request, service, principal, env, body, &refused);
    Some(refusal(&refused, body, reply))
}

/// Puts every logged call of a refused POST in the execution log as `rate_limited`. The session
/// is not loaded for a refused request, so a 2025 client's `clientInfo` is not known here; a
/// 2026 request names its own in `_meta`.
fn record_refused(
    request: &HttpRequest,
    service: &ServiceConfig,
    principal: &Principal,
    env: &Env<'_>,
    body: &Json,
    refused: &Refusal,
) {
    let modern = mcp_modern::is_modern(request, body);
    let client_info = if modern {
        body.pointer("/params/_meta")
            .and_then(|meta| meta.get(crate::mcp::modern::META_CLIENT_INFO))
            .cloned()
            .unwrap_or(Json::Null)
    } else {
        Json::Null
    };
    let era = if modern { "2026" } else { "2025" };
    let Some(site) = call_record::site(request, env, service, principal, &client_info, era) else {
        return;
    };
    let message = refused.rpc_error().message;
    let items = match body {
        Json::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    for item in items {
        if let Ok(jsonrpc::Message::Request(call)) = jsonrpc::classify(item.clone()) {
            site.refused(&call, crate::calllog::Outcome::RateLimited, &message);
        }
    }
}

/// The answer to a refused POST, in one place (the execution log records this): HTTP 429,
/// `Retry-After` in whole seconds rounded up, and the JSON-RPC error -32000 echoing the request
/// id; for a batch, one error per request in it (ids echoed; notifications get none).
pub(super) fn refusal(refused: &Refusal, body: &Json, reply: Reply) -> HttpResponse {
    let error = refused.rpc_error();
    let answer = match body {
        Json::Array(items) => {
            let ids: Vec<RequestId> =
                items.iter().filter(|item| item.get("method").is_some()).filter_map(jsonrpc::peek_id).collect();
            if ids.is_empty() {
                jsonrpc::error(None, &error)
            } else {
                Json::Array(ids.iter().map(|id| jsonrpc::error(Some(id), &error)).collect())
            }
        }
        single => jsonrpc::error(jsonrpc::peek_id(single).as_ref(), &error),
    };
    rpc_response(429, &answer, reply).with_header("retry-after", refused.retry_after_seconds().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_limit::Scope;
    use serde_json::json;

    fn refused() -> Refusal {
        Refusal { scope: Scope::ApiKey, limit_per_minute: 5, retry_after_ms: 11_500 }
    }

    fn body(response: &HttpResponse) -> Json {
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn a_refusal_is_a_429_with_retry_after_and_the_request_id() {
        let response =
            refusal(&refused(), &json!({ "jsonrpc": "2.0", "id": "call-7", "method": "tools/list" }), Reply::Json);
        assert_eq!(response.status, 429);
        assert_eq!(response.header("retry-after"), Some("12"));
        assert_eq!(
            body(&response),
            json!({ "jsonrpc": "2.0", "id": "call-7", "error": {
                "code": -32000,
                "message": "rate limit exceeded: 5 requests per minute for this API key; retry after 12 s",
                "data": { "retry_after_seconds": 12, "limit_per_minute": 5, "scope": "api_key" } } })
        );
    }

    #[test]
    fn a_refused_batch_gets_one_error_per_request() {
        let batch = json!([
            { "jsonrpc": "2.0", "id": 1, "method": "tools/list" },
            { "jsonrpc": "2.0", "method": "notifications/initialized" },
            { "jsonrpc": "2.0", "id": "b", "method": "ping" }
        ]);
        let answer = body(&refusal(&refused(), &batch, Reply::Json));
        let ids: Vec<&Json> = answer.as_array().unwrap().iter().map(|a| &a["id"]).collect();
        assert_eq!(ids, vec![&json!(1), &json!("b")]);
        assert!(answer.as_array().unwrap().iter().all(|a| a["error"]["code"] == -32000));
        // Only notifications: one error without an id.
        let only = body(&refusal(&refused(), &json!([{ "jsonrpc": "2.0", "method": "notifications/x" }]), Reply::Json));
        assert_eq!(only["id"], Json::Null);
        assert_eq!(only["error"]["data"]["scope"], "api_key");
    }

    #[test]
    fn an_event_stream_client_gets_the_error_as_an_event() {
        let response = refusal(&refused(), &json!({ "jsonrpc": "2.0", "id": 3, "method": "ping" }), Reply::EventStream);
        assert_eq!(response.status, 429);
        assert_eq!(response.header("content-type"), Some("text/event-stream"));
        let text = String::from_utf8(response.body).unwrap();
        assert!(text.starts_with("event: message\ndata: {") && text.contains("\"code\":-32000"), "{text}");
    }
}
