//! `/mcp/<service>` for MCP 2026-07-28: stateless, one JSON-RPC request per POST, answered with
//! one JSON object. Authentication, body caps, CORS and strict JSON were applied before this
//! (`mcp_endpoint`), the same as for the legacy era.
//!
//! Order of checks (a request failing several gets the first): JSON-RPC shape (no batches, no
//! responses: 400 -32600), version header vs `_meta` (400 -32020), version served (400 -32022),
//! `_meta` envelope (400 -32602), mirrored headers (400 -32020), method (404 -32601), `Mcp-Param-*`
//! headers of the tool's `x-mcp-header` parameters (400 -32020), scope (403), client capabilities
//! (400 -32021), dispatch (200, errors in-band).

use serde_json::Value as Json;

use super::mcp_endpoint::{insufficient_scope, rpc_response, rpc_response_with, Reply, RequestTools};
use super::{Env, HttpRequest, HttpResponse};
use crate::auth::Principal;
use crate::config::ServiceConfig;
use crate::mcp::jsonrpc::{self, Message, Request, RequestId, RpcError};
use crate::mcp::modern::{self, MirroredHeaders, ModernError, RequestMeta, Route};
use crate::mcp::server;
use crate::mcp::session::Session;

/// Whether this POST belongs to the modern era (see [`modern::is_modern_request`]).
pub fn is_modern(request: &HttpRequest, body: &Json) -> bool {
    modern::is_modern_request(request.header("mcp-session-id"), request.header("mcp-protocol-version"), body)
}

/// GET (the removed standalone stream) and DELETE (no sessions) from a modern client: 405.
pub fn bodyless(request: &HttpRequest) -> Option<HttpResponse> {
    let bodyless = matches!(request.method.as_str(), "GET" | "DELETE");
    if !bodyless
        || !modern::is_modern_bodyless(request.header("mcp-session-id"), request.header("mcp-protocol-version"))
    {
        return None;
    }
    Some(
        HttpResponse::error(
            405,
            "method_not_allowed",
            format!("MCP 2026-07-28 has no {} on the endpoint: POST each request", request.method),
        )
        .with_header("allow", "POST"),
    )
}

fn error_response(error: &ModernError, id: Option<&RequestId>, reply: Reply) -> HttpResponse {
    rpc_response(error.status, &jsonrpc::error(id, &error.error), reply)
}

pub async fn post(
    request: &HttpRequest,
    service: &ServiceConfig,
    env: &Env<'_>,
    principal: &Principal,
    body: Json,
    reply: Reply,
) -> HttpResponse {
    let id = jsonrpc::peek_id(&body);
    if body.is_array() {
        let error = ModernError {
            status: 400,
            error: RpcError::invalid_request(
                "JSON-RPC batches are not allowed in MCP 2026-07-28: send one request per POST",
            ),
        };
        return error_response(&error, None, reply);
    }
    let scope_check = insufficient_scope(request, service, principal, &body);
    let request_message = match jsonrpc::classify(body) {
        Ok(Message::Request(r)) => r,
        // Client notifications carry nothing this server acts on (cancellation is closing the
        // stream); accept them as the transport requires.
        Ok(Message::Notification(_)) => return HttpResponse::new(202),
        Ok(Message::Response) => {
            let error = ModernError {
                status: 400,
                error: RpcError::invalid_request("MCP 2026-07-28 clients send no JSON-RPC responses"),
            };
            return error_response(&error, id.as_ref(), reply);
        }
        Err((id, error)) => return error_response(&ModernError { status: 400, error }, id.as_ref(), reply),
    };
    let headers = MirroredHeaders {
        protocol_version: request.header("mcp-protocol-version"),
        method: request.header("mcp-method"),
        name: request.header("mcp-name"),
    };
    let meta = match validate(&request_message, &headers).and_then(|meta| {
        check_param_headers(request, &request_message)?;
        Ok(meta)
    }) {
        Ok(meta) => meta,
        Err(error) => return error_response(&error, Some(&request_message.id), reply),
    };
    if let Some(response) = scope_check {
        return response;
    }
    if modern::route(&request_message.method) == Route::Listen {
        return super::mcp_listen::respond(request, &request_message, service, env, principal).await;
    }
    let tools = RequestTools::open(service, env, principal).with_raw_records();
    let answer = dispatch(request, &request_message, &meta, service, env, principal, &tools).await;
    // Progress opened the response stream: the answer is its last event.
    let reply = if env.streaming.is_some_and(|s| s.events.is_open()) { Reply::EventStream } else { reply };
    let status = match &answer {
        Ok(_) => 200,
        Err(error) => error.status,
    };
    let body = match answer {
        Ok(result) => jsonrpc::success(&request_message.id, modern::decorate(&request_message.method, result, service)),
        Err(error) => jsonrpc::error(Some(&request_message.id), &error.error),
    };
    rpc_response_with(status, &body, reply, &tools.raw_records)
}

/// The version, envelope and header rules, then the method registry.
fn validate(request: &Request, headers: &MirroredHeaders<'_>) -> Result<RequestMeta, ModernError> {
    let params = request.params.as_ref();
    modern::check_version(headers, params)?;
    let meta = modern::parse_meta(params)?;
    modern::check_headers(headers, &request.method, params)?;
    if modern::route(&request.method) == Route::NotFound {
        return Err(modern::method_not_found(&request.method));
    }
    Ok(meta)
}

/// `Mcp-Param-*` headers of a `tools/call`, against the `x-mcp-header` parameters of the tool.
fn check_param_headers(http: &HttpRequest, request: &Request) -> Result<(), ModernError> {
    if request.method != "tools/call" {
        return Ok(());
    }
    let params = request.params.as_ref();
    let Some(name) = params.and_then(|p| p.get("name")).and_then(Json::as_str) else { return Ok(()) };
    let Some(schema) = tool_input_schema(name) else { return Ok(()) };
    let header = |name: &str| http.header(name).map(str::to_string);
    modern::check_param_headers(&schema, params.and_then(|p| p.get("arguments")), &header)
}

fn tool_input_schema(name: &str) -> Option<Json> {
    // None of the database tools declares x-mcp-header today; learn that once per isolate
    // instead of building a schema on every call, and still check any tool that starts to.
    static DECLARES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if let Some(spec) = crate::tools::find(name) {
        let declares = *DECLARES.get_or_init(|| {
            crate::tools::catalog().iter().any(|t| (t.input_schema)().to_string().contains("\"x-mcp-header\""))
        });
        return declares.then(|| (spec.input_schema)());
    }
    #[cfg(feature = "conformance-fixtures")]
    return crate::mcp::fixtures::tool_input_schema(name);
    #[cfg(not(feature = "conformance-fixtures"))]
    None
}

async fn dispatch(
    http: &HttpRequest,
    request: &Request,
    meta: &RequestMeta,
    service: &ServiceConfig,
    env: &Env<'_>,
    principal: &Principal,
    tools: &RequestTools<'_>,
) -> Result<Json, ModernError> {
    if modern::route(&request.method) == Route::Discover {
        return Ok(modern::discover(service));
    }
    let request_budget = tools.budget(service);
    let ctx = tools.context(&request_budget, service, env, principal, &http.origin);
    // The shared dispatch takes a session for the legacy-only methods (logging/setLevel), which
    // never reach it from here; this one lives for the request and is never stored.
    let mut session = Session {
        id: String::new(),
        service: service.name.clone(),
        protocol_version: meta.protocol_version.clone(),
        client_info: meta.client_info.clone().unwrap_or(Json::Null),
        client_capabilities: Json::Object(meta.client_capabilities.clone()),
        log_level: meta.log_level.clone().unwrap_or_default(),
        principal: principal.id.clone(),
        created_ms: env.now_ms,
        last_seen_ms: env.now_ms,
        initialized: true,
    };
    let events = super::sse::progress_events(http, env, request);
    let notify = events.map(|e| e as &dyn crate::mcp::progress::Notify);
    let client_info = meta.client_info.clone().unwrap_or(Json::Null);
    let site = super::call_record::site(http, env, service, principal, &client_info, "2026");
    let run = server::handle_streaming(request, &mut session, &ctx, notify);
    super::call_record::logged(site.as_ref(), request, run).await.map_err(|error| {
        let error = modern::modernize_error(error);
        ModernError { status: modern::http_status(&error), error }
    })
}
