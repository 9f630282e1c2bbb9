//! HTTP glue for `subscriptions/listen` (2026-07-28 only): checks, the per-credential limit, then
//! the core loop ([`subscriptions::listen`]) writing to the request's own event stream.
//!
//! Wiring: the modern request path (`mcp_modern::post`) calls [`respond`] for
//! `subscriptions/listen` after its version, `_meta`, header and scope checks.

use super::{sse, Env, HttpRequest, HttpResponse};
use crate::auth::Principal;
use crate::config::ServiceConfig;
use crate::mcp::jsonrpc::{self, Request, RpcError};
use crate::mcp::subscriptions::{self, Slot, Subscription};
use crate::tools::stored::StoredToolWatch;

fn error(status: u16, id: Option<&jsonrpc::RequestId>, error: RpcError) -> HttpResponse {
    HttpResponse::json(status, &jsonrpc::error(id, &error))
}

/// Answers one `subscriptions/listen` request (already checked as a 2026-07-28 request): a JSON
/// error, or an event stream that lasts until the client closes it or the service's bound ends it.
pub async fn respond(
    request: &HttpRequest,
    listen: &Request,
    service: &ServiceConfig,
    env: &Env<'_>,
    principal: &Principal,
) -> HttpResponse {
    let id = Some(&listen.id);
    if !sse::accepts_event_stream(request.header("accept")) {
        return error(
            406,
            id,
            RpcError::invalid_request(
                "subscriptions/listen answers with an event stream: Accept must include text/event-stream",
            ),
        );
    }
    let honored = match subscriptions::parse_filter(listen.params.as_ref()) {
        Ok(honored) => honored,
        Err(e) => return error(400, id, e),
    };
    let Some(streaming) = env.streaming else {
        return error(501, id, RpcError::new(jsonrpc::INTERNAL_ERROR, "this host cannot hold event streams open"));
    };
    let settings = service.listen;
    let now = streaming.timer.now_ms();
    // The stream ends by its bound; a minute's margin covers a slow last check.
    let expires = now + settings.max_seconds * 1000 + 60_000;
    let slot = match Slot::acquire(&service.name, &principal.id, settings.max_streams, now, expires) {
        Ok(slot) => slot,
        Err(e) => return error(429, id, e).with_header("retry-after", "5"),
    };
    // Reads only: the fingerprint query.
    let db = match env.databases.open(service, true, &principal.id) {
        Ok(db) => db,
        Err(reason) => {
            return error(
                503,
                id,
                RpcError::new(jsonrpc::INTERNAL_ERROR, format!("the database is unavailable: {reason}")),
            )
        }
    };
    // `service` may already carry the stored tools: the watch starts from the configured one.
    let configured = env.config.ok().and_then(|c| c.service(&service.name)).unwrap_or(service);
    let watch = StoredToolWatch { configured, kv: env.kv };
    streaming.events.open(sse::head());
    let subscription = Subscription {
        id: &listen.id,
        honored: &honored,
        settings: &settings,
        query_budget: service.max_queries_per_call,
        hidden: &service.hidden_tables,
        // Only a build with custom tools has a tool list that changes (the constant lets the
        // build without them drop the watch).
        tools: if cfg!(feature = "query-sql") { Some(&watch) } else { None },
    };
    subscriptions::listen(subscription, streaming.events, streaming.timer, db.as_ref()).await;
    drop(slot);
    // Everything, the closing result included, is already on the stream.
    HttpResponse::new(200)
}
