//! The rate limit gate of `/mcp/<service>`: after authentication and JSON parsing, before the
//! era is chosen, so both eras (and every method) pass through it once per POST. It asks the
//! limiter only when the service limits the caller's kind of credential: a service without
//! `rate_limits` pays nothing.

use serde_json::Value as Json;

use super::mcp_endpoint::{rpc_response, Reply};
use super::{Env, HttpResponse};
use crate::auth::Principal;
use crate::config::ServiceConfig;
use crate::mcp::jsonrpc::{self, RequestId};
use crate::rate_limit::{self, Refusal};

/// `Some(429 answer)` when a bucket of the caller has no room. A POST counts as many requests as
/// it carries messages (a batch of n costs n, capped at the limit so a batch can always pass an
/// idle bucket); a refused batch is refused whole.
pub(super) async fn gate(
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
        Json::Array(items) => items.len().max(1) as u64,
        _ => 1,
    };
    let refused = rate_limit::check(limiter, &buckets, cost).await?;
    Some(refusal(&refused, body, reply))
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
