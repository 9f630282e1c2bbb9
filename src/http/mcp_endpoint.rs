//! `/mcp/<service>`: MCP over Streamable HTTP (revisions 2025-03-26 to 2025-11-25).
//!
//! Order of checks: body size (413, before anything else, in `http::handle` and at the edge while
//! reading), authentication (401), method (405), media types (406/415),
//! JSON (400 -32700), rate limit (429, POST only; `http::rate_limit`), session (400 missing / 404
//! unknown), protocol version (400), dispatch.
//! A POST with 2026-07-28 `_meta` and no session, and a GET or DELETE naming 2026-07-28, go to
//! `mcp_modern` after authentication (and, for POST, media types and JSON).

use serde_json::Value as Json;

use super::call_record::{self, CallSite};
use super::challenge::Challenge;
use super::{mcp_modern, oauth, Env, HttpRequest, HttpResponse};
use crate::auth::{self, AuthError, Principal};
use crate::oauth::tokens::AccessError;
use crate::oauth::{metadata, scope};
use std::rc::Rc;

use crate::config::{AuthMode, Config, DatabaseConfig, ServiceConfig};
use crate::db::{Database, Unavailable};
use crate::mcp::batch;
use crate::mcp::jsonrpc::{self, Message, Request, RequestId, RpcError, INVALID_REQUEST, PARSE_ERROR};
use crate::mcp::progress::Notify;
use crate::mcp::server::{self, InitializeParams};
use crate::mcp::session::{is_supported, Session};
use crate::mcp::strict_json;
use crate::raw_records::RawRecords;
use crate::sql::Dialect;
use crate::tools::confirm::{Confirm, ConfirmStore, GrantConfirmStore};
use crate::tools::guard::CallGuard;
use crate::tools::ToolContext;

pub async fn handle(request: &HttpRequest, service: &ServiceConfig, config: &Config, env: &Env<'_>) -> HttpResponse {
    let principal = match authenticate(request, service, env).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    if let Some(response) = mcp_modern::bodyless(request) {
        return response;
    }
    match request.method.as_str() {
        "POST" => post(request, service, config, env, &principal).await,
        "DELETE" => delete(request, service, env, &principal).await,
        // No server-initiated messages yet, so no standalone SSE stream.
        "GET" => HttpResponse::error(
            405,
            "method_not_allowed",
            "this server does not offer a GET event stream; POST JSON-RPC messages",
        )
        .with_header("allow", "POST, DELETE"),
        other => HttpResponse::error(405, "method_not_allowed", format!("{other} is not supported here; use POST"))
            .with_header("allow", "POST, DELETE"),
    }
}

/// The Bearer challenge: where the protected resource metadata is (when OAuth is set up), the
/// scopes to ask for, and the error (absent when no credential was sent, per RFC 6750 3.1).
fn challenge(request: &HttpRequest, service: &ServiceConfig, env: &Env<'_>, error: Option<(&str, &str)>) -> String {
    let mut challenge = Challenge::bearer();
    if oauth::ready(env).is_ok() {
        challenge = challenge
            .param("resource_metadata", metadata::resource_metadata_url(&request.origin, &service.name))
            .param("scope", scope::SUPPORTED.join(" "));
    } else {
        challenge = challenge.param("realm", "dbmcp");
    }
    if let Some((code, description)) = error {
        challenge = challenge.param("error", code).param("error_description", description);
    }
    challenge.header_value()
}

fn unauthorized(
    request: &HttpRequest,
    service: &ServiceConfig,
    env: &Env<'_>,
    error: Option<&str>,
    description: &str,
) -> HttpResponse {
    let challenge = challenge(request, service, env, error.map(|code| (code, description)));
    HttpResponse::error(401, error.unwrap_or("unauthorized"), description).with_header("www-authenticate", challenge)
}

/// The attributes of the user an access token was issued to, read when the service has a row
/// policy (so an administrator's change applies to tokens already issued, within KV's
/// propagation). A user signed in by a custom login has no record here, hence no attributes.
async fn user_attributes(
    service: &ServiceConfig,
    env: &Env<'_>,
    sub: &str,
) -> Result<serde_json::Map<String, Json>, HttpResponse> {
    if service.rows.is_empty() {
        return Ok(Default::default());
    }
    let Ok(username) = crate::oauth::password::normalize_username(sub) else { return Ok(Default::default()) };
    match env.kv.get(&crate::oauth::password::user_key(&service.name, &username)).await {
        Ok(Some(text)) => Ok(serde_json::from_str::<crate::oauth::password::UserRecord>(&text)
            .map(|user| user.attributes)
            .unwrap_or_default()),
        Ok(None) => Ok(Default::default()),
        Err(why) => Err(HttpResponse::error(
            503,
            "temporarily_unavailable",
            format!("could not read the user's attributes: {why}"),
        )),
    }
}

/// A JWT (three base64url parts) rather than an API key.
fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}

pub(super) async fn authenticate(
    request: &HttpRequest,
    service: &ServiceConfig,
    env: &Env<'_>,
) -> Result<Principal, HttpResponse> {
    if service.auth == AuthMode::None {
        return Ok(Principal::anonymous());
    }
    let Some(header) = request.header("authorization") else {
        return Err(unauthorized(
            request,
            service,
            env,
            None,
            "this service needs a credential: sign in with OAuth, or send Authorization: Bearer <API key>",
        ));
    };
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
        _ => {
            return Err(unauthorized(
                request,
                service,
                env,
                Some("invalid_request"),
                "the Authorization header must be: Bearer <credential>",
            ))
        }
    };
    if looks_like_jwt(token) {
        // Access tokens are verified from their signature alone: no storage read.
        let Ok((oauth, keys)) = oauth::ready(env) else {
            return Err(unauthorized(
                request,
                service,
                env,
                Some("invalid_token"),
                "this server does not accept OAuth access tokens (OAuth is not configured)",
            ));
        };
        let audience = metadata::resource_url(&request.origin, &service.name);
        return match keys
            .verify_access(
                token,
                &metadata::issuer(&request.origin),
                Some(&audience),
                env.now_ms / 1000,
                false,
                oauth.signer,
            )
            .await
        {
            Ok(claims) => {
                let attributes = user_attributes(service, env, &claims.sub).await?;
                let mut principal = Principal::oauth(&claims.client_id, &claims.sub, scope::split(&claims.scope));
                principal.caller.attributes = attributes;
                Ok(principal)
            }
            Err(AccessError::Invalid(why)) => Err(unauthorized(request, service, env, Some("invalid_token"), &why)),
            Err(AccessError::Unavailable(why)) => Err(HttpResponse::error(503, "temporarily_unavailable", why)),
        };
    }
    let ledger = env.key_ledger();
    let ledger = ledger.as_ref().map(|l| l as &dyn auth::KeyLedger);
    match auth::authenticate_key(env.kv, ledger, &service.name, token, env.now_ms).await {
        Ok(principal) => Ok(principal),
        Err(AuthError::Missing) => Err(unauthorized(request, service, env, None, "a credential is required")),
        Err(AuthError::Invalid(why)) => Err(unauthorized(request, service, env, Some("invalid_token"), &why)),
        Err(AuthError::Unavailable(why)) => {
            Err(HttpResponse::error(503, "temporarily_unavailable", format!("could not check the credential: {why}")))
        }
    }
}

/// An OAuth token without `mcp:write` calling a write tool: HTTP 403 `insufficient_scope`, so the
/// client can step up (ask the user for more). API keys cannot step up, so they keep getting the
/// JSON-RPC error from dispatch; so does a read-only service, where no scope would help.
pub(super) fn insufficient_scope(
    request: &HttpRequest,
    service: &ServiceConfig,
    principal: &Principal,
    body: &Json,
) -> Option<HttpResponse> {
    if !principal.is_oauth() || principal.may_write() || service.read_only {
        return None;
    }
    let is_call = body.get("method").and_then(Json::as_str) == Some("tools/call");
    let name = body.get("params").and_then(|p| p.get("name")).and_then(Json::as_str)?;
    let writes = crate::tools::find(name).is_some_and(|t| t.writes);
    if !(is_call && writes) {
        return None;
    }
    let description = format!("the tool {name:?} needs the scope mcp:write");
    let challenge = Challenge::bearer()
        .param("error", "insufficient_scope")
        .param("scope", scope::SUPPORTED.join(" "))
        .param("resource_metadata", metadata::resource_metadata_url(&request.origin, &service.name))
        .param("error_description", &description);
    Some(
        HttpResponse::error(403, "insufficient_scope", description)
            .with_header("www-authenticate", challenge.header_value()),
    )
}

/// How the client wants answers: JSON, or one SSE event when it accepts only event streams.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Reply {
    Json,
    EventStream,
}

fn negotiate_reply(request: &HttpRequest) -> Result<Reply, HttpResponse> {
    let Some(accept) = request.header("accept") else { return Ok(Reply::Json) };
    let accept = accept.to_ascii_lowercase();
    if accept.trim().is_empty()
        || accept.contains("application/json")
        || accept.contains("*/*")
        || accept.contains("application/*")
    {
        Ok(Reply::Json)
    } else if accept.contains("text/event-stream") {
        Ok(Reply::EventStream)
    } else {
        Err(HttpResponse::error(406, "not_acceptable", "Accept must include application/json or text/event-stream"))
    }
}

pub(super) fn rpc_response(status: u16, body: &Json, reply: Reply) -> HttpResponse {
    rpc_response_with(status, body, reply, &RawRecords::default())
}

/// [`rpc_response`] with the records `raw_records` holds put in place of their markers.
pub(super) fn rpc_response_with(status: u16, body: &Json, reply: Reply, raw_records: &RawRecords) -> HttpResponse {
    let text = serde_json::to_string(body).unwrap_or_default();
    let text = if raw_records.is_empty() { text } else { raw_records.splice_body(text) };
    match reply {
        Reply::Json => HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: text.into_bytes(),
        },
        Reply::EventStream => HttpResponse {
            status,
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            body: format!("event: message\ndata: {text}\n\n").into_bytes(),
        },
    }
}

fn rpc_error_response(status: u16, id: Option<&RequestId>, error: RpcError, reply: Reply) -> HttpResponse {
    rpc_response(status, &jsonrpc::error(id, &error), reply)
}

async fn post(
    request: &HttpRequest,
    service: &ServiceConfig,
    config: &Config,
    env: &Env<'_>,
    principal: &Principal,
) -> HttpResponse {
    let reply = match negotiate_reply(request) {
        Ok(reply) => reply,
        Err(response) => return response,
    };
    if let Some(content_type) = request.header("content-type") {
        if !content_type.to_ascii_lowercase().starts_with("application/json") {
            return HttpResponse::error(415, "unsupported_media_type", "Content-Type must be application/json");
        }
    }
    // Strict: a key given twice in one object is refused, never silently resolved to the last.
    let body: Json = match strict_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(e) => {
            return rpc_error_response(
                400,
                None,
                RpcError::new(PARSE_ERROR, format!("parse error: the body is not valid JSON ({e})")),
                reply,
            )
        }
    };

    // Counted once per POST, whichever era answers it.
    if let Some(response) = super::rate_limit::gate(request, service, principal, env, &body, reply).await {
        return response;
    }

    // Requests with 2026-07-28 `_meta` (and no session) are served statelessly.
    if mcp_modern::is_modern(request, &body) {
        return mcp_modern::post(request, service, env, principal, body, reply).await;
    }

    // Initialize opens a session; everything else needs one.
    if let Json::Object(obj) = &body {
        if obj.get("method").and_then(Json::as_str) == Some("initialize") {
            return initialize(body, service, config, env, principal, reply).await;
        }
    }

    // Errors answered before the message is classified still name its id when it can be read.
    let request_id = jsonrpc::peek_id(&body);
    let mut session = match load_session(request, service, env, principal, request_id.as_ref()).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if let Some(response) = insufficient_scope(request, service, principal, &body) {
        return response;
    }
    if let Some(version) = request.header("mcp-protocol-version") {
        if !is_supported(version) {
            return rpc_error_response(
                400,
                request_id.as_ref(),
                RpcError::invalid_request(format!(
                    "unsupported MCP-Protocol-Version {version:?}; supported: 2025-03-26, 2025-06-18, 2025-11-25"
                )),
                reply,
            );
        }
        if version != session.protocol_version {
            return rpc_error_response(
                400,
                request_id.as_ref(),
                RpcError::invalid_request(format!(
                    "MCP-Protocol-Version {version:?} does not match the version negotiated for this session ({})",
                    session.protocol_version
                )),
                reply,
            );
        }
    }

    let tools = RequestTools::open(service, env, principal);
    let tools = if body.is_array() { tools } else { tools.with_raw_records() };
    let request_budget = tools.budget(service);
    let ctx = tools.context(&request_budget, service, env, principal, &request.origin);
    let before = session.clone();
    let client_info = session.client_info.clone();
    let site = call_record::site(request, env, service, principal, &client_info, "2025");

    let (status, response) = match body {
        Json::Array(items) => {
            if !session.allows_batches() {
                return rpc_error_response(
                    400,
                    None,
                    RpcError::invalid_request("JSON-RPC batches are only allowed for sessions negotiated at protocol 2025-03-26; send one message per POST"),
                    reply,
                );
            }
            if let Err(error) = batch::check_size(items.len()) {
                return rpc_error_response(400, None, error, reply);
            }
            let mut budget = batch::ResponseBudget::default();
            let mut answers = Vec::new();
            for item in items {
                let message = jsonrpc::classify(item);
                let answer = if budget.exhausted() {
                    budget.refusal(&message)
                } else {
                    process(message, &mut session, &ctx, None, site.as_ref()).await
                };
                if let Some(answer) = answer {
                    budget.record(&answer);
                    answers.push(answer);
                }
            }
            if answers.is_empty() {
                (202, None)
            } else {
                (200, Some(Json::Array(answers)))
            }
        }
        single => {
            let classified = jsonrpc::classify(single);
            let is_malformed = classified.is_err();
            let events = match &classified {
                Ok(Message::Request(call)) => super::sse::progress_events(request, env, call),
                _ => None,
            };
            match process(classified, &mut session, &ctx, events.map(|e| e as &dyn Notify), site.as_ref()).await {
                Some(answer) if is_malformed => (400, Some(answer)),
                Some(answer) => (200, Some(answer)),
                None => (202, None),
            }
        }
    };

    // Progress opened the response stream: the answer is its last event.
    let reply = if env.streaming.is_some_and(|s| s.events.is_open()) { Reply::EventStream } else { reply };
    if session != before {
        if let Err(e) = env.sessions.save(&session).await {
            return HttpResponse::error(503, "session_store_unavailable", e);
        }
    }
    match response {
        None => HttpResponse::new(202),
        Some(answer) => rpc_response_with(status, &answer, reply, &tools.raw_records),
    }
}

/// What one MCP request's tools run against, the same in both eras: the service's database (one
/// that failed to open answers every query with the reason) and where confirmations are sealed.
pub(super) struct RequestTools<'e> {
    database: Rc<dyn Database>,
    confirm_store: Option<GrantConfirmStore<'e>>,
    can_write: bool,
    /// Rows the tools leave as JSON text until the body is written (see [`crate::raw_records`]).
    pub(super) raw_records: RawRecords,
}

impl<'e> RequestTools<'e> {
    pub(super) fn open(service: &ServiceConfig, env: &'e Env<'_>, principal: &Principal) -> Self {
        let can_write = !service.read_only && principal.may_write();
        let database = env.databases.open(service, !can_write, &principal.id).unwrap_or_else(|reason| {
            let dialect = match service.database {
                DatabaseConfig::D1 { .. } => Dialect::Sqlite,
                DatabaseConfig::Postgres { .. } => Dialect::Postgres,
            };
            Rc::new(Unavailable { dialect, reason }) as Rc<dyn Database>
        });
        RequestTools { database, confirm_store: env.confirm_store(), can_write, raw_records: RawRecords::default() }
    }

    /// For one message whose answer [`rpc_response_with`] writes: its rows may stay JSON text.
    pub(super) fn with_raw_records(mut self) -> Self {
        self.raw_records = RawRecords::accepting();
        self
    }

    /// One request is one Worker invocation, whose database limits (D1: 50 queries on the free
    /// plan) every message of a batch shares; each tool call also has the same budget of its own.
    pub(super) fn budget(&self, service: &ServiceConfig) -> CallGuard<'_> {
        CallGuard::per_request(self.database.as_ref(), service.max_queries_per_call)
    }

    pub(super) fn context<'a>(
        &'a self,
        budget: &'a CallGuard<'a>,
        service: &'a ServiceConfig,
        env: &'a Env<'_>,
        principal: &'a Principal,
        origin: &'a str,
    ) -> ToolContext<'a> {
        ToolContext {
            db: budget,
            service,
            schema_cache: env.schema_cache,
            now_ms: env.now_ms,
            can_write: self.can_write,
            principal: &principal.id,
            confirm: Confirm { store: self.confirm_store.as_ref().map(|s| s as &dyn ConfirmStore), call: None },
            caller: &principal.caller,
            origin,
            // A batch or a record page takes values: no text built only to be parsed again.
            raw_records: Some(&self.raw_records).filter(|holder| holder.accepts()),
        }
    }
}

/// Handles one classified message; `None` for notifications and responses (they get 202).
async fn process(
    classified: Result<Message, (Option<RequestId>, RpcError)>,
    session: &mut Session,
    ctx: &ToolContext<'_>,
    notify: Option<&dyn Notify>,
    site: Option<&CallSite<'_>>,
) -> Option<Json> {
    match classified {
        Err((id, error)) => Some(jsonrpc::error(id.as_ref(), &error)),
        Ok(Message::Response) => None,
        Ok(Message::Notification(n)) => {
            if n.method == "notifications/initialized" {
                session.initialized = true;
            }
            None
        }
        Ok(Message::Request(Request { id, method, .. })) if method == "initialize" => Some(jsonrpc::error(
            Some(&id),
            &RpcError::invalid_request("initialize must be sent alone, not inside a batch"),
        )),
        Ok(Message::Request(request)) => Some(
            match call_record::logged(site, &request, server::handle_streaming(&request, session, ctx, notify)).await {
                Ok(result) => jsonrpc::success(&request.id, result),
                Err(error) => jsonrpc::error(Some(&request.id), &error),
            },
        ),
    }
}

async fn initialize(
    body: Json,
    service: &ServiceConfig,
    config: &Config,
    env: &Env<'_>,
    principal: &Principal,
    reply: Reply,
) -> HttpResponse {
    let request = match jsonrpc::classify(body) {
        Ok(Message::Request(request)) => request,
        Ok(_) => {
            return rpc_error_response(
                400,
                None,
                RpcError::invalid_request("initialize must be a request with an id"),
                reply,
            )
        }
        Err((id, error)) => return rpc_error_response(400, id.as_ref(), error, reply),
    };
    let params: InitializeParams = match server::parse_params("initialize", request.params.as_ref()) {
        Ok(params) => params,
        Err(error) => return rpc_error_response(200, Some(&request.id), error, reply),
    };
    let (version, result) = server::initialize(&params, service);
    let id = match auth::random_token(32) {
        Ok(id) => id,
        Err(e) => return HttpResponse::error(503, "unavailable", e),
    };
    let session = Session {
        id: id.clone(),
        service: service.name.clone(),
        protocol_version: version.to_string(),
        client_info: params.client_info,
        client_capabilities: params.capabilities,
        log_level: "info".into(),
        principal: principal.id.clone(),
        created_ms: env.now_ms,
        last_seen_ms: env.now_ms,
        initialized: false,
    };
    if let Err(e) = env.sessions.create(&session, config.session_idle_seconds * 1000).await {
        return HttpResponse::error(503, "session_store_unavailable", e);
    }
    rpc_response(200, &jsonrpc::success(&request.id, result), reply).with_header("mcp-session-id", id)
}

fn session_error(status: u16, message: String, request_id: Option<&RequestId>) -> HttpResponse {
    HttpResponse::json(status, &jsonrpc::error(request_id, &RpcError::new(INVALID_REQUEST, message)))
}

/// The caller's session, or the answer the spec prescribes: 400 without an id, 404 for an id that
/// is unknown, expired, deleted, or belongs to another principal or service.
async fn load_session(
    request: &HttpRequest,
    service: &ServiceConfig,
    env: &Env<'_>,
    principal: &Principal,
    request_id: Option<&RequestId>,
) -> Result<Session, HttpResponse> {
    let Some(id) = request.header("mcp-session-id").map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(session_error(
            400,
            "Mcp-Session-Id header is required; send initialize first to open a session".into(),
            request_id,
        ));
    };
    let not_found = || {
        session_error(
            404,
            "session not found: it expired, was deleted, or never existed; send initialize to start a new one".into(),
            request_id,
        )
    };
    if id.len() > 128 || !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(not_found());
    }
    let session = match env.sessions.touch(id, env.now_ms).await {
        Ok(Some(session)) => session,
        Ok(None) => return Err(not_found()),
        Err(e) => return Err(HttpResponse::error(503, "session_store_unavailable", e)),
    };
    // A session is bound to who created it and where: anyone else finds nothing.
    if session.principal != principal.id || session.service != service.name {
        return Err(not_found());
    }
    Ok(session)
}

async fn delete(request: &HttpRequest, service: &ServiceConfig, env: &Env<'_>, principal: &Principal) -> HttpResponse {
    let session = match load_session(request, service, env, principal, None).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match env.sessions.delete(&session.id).await {
        Ok(()) => HttpResponse::new(204),
        Err(e) => HttpResponse::error(503, "session_store_unavailable", e),
    }
}
