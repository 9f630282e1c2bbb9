//! HTTP routing, independent of the Workers runtime: the edge turns a `worker::Request` into an
//! [`HttpRequest`], calls [`handle`], and turns the [`HttpResponse`] back.

mod admin;
mod admin_logs;
mod admin_tools;
pub mod body;
mod call_record;
mod challenge;
mod console;
mod cors;
mod login;
mod mcp_endpoint;
pub mod mcp_listen;
mod mcp_modern;
pub mod oauth;
mod oauth_admin;
mod oauth_authorize;
mod oauth_clients;
mod oauth_document_clients;
mod pages;
mod rate_limit;
mod record_signin;
mod records;
pub mod request_url;
pub mod session_cache;
pub mod sse;

pub use oauth::OAuthEnv;

use std::rc::Rc;

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use crate::auth::KvStore;
use crate::config::{Config, ConfigErrors, ServiceConfig};
use crate::db::Database;
use crate::mcp::session::Session;
use crate::tools::SchemaCache;

pub use body::MAX_BODY_BYTES;
pub use console::files::StaticAssets;

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// `scheme://host[:port]` of the URL the request was sent to.
    pub origin: String,
    pub path: String,
    /// The query string without `?` (`""` when absent).
    pub query: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn new(status: u16) -> Self {
        HttpResponse { status, headers: vec![], body: vec![] }
    }
    pub fn json(status: u16, body: &Json) -> Self {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }
    pub fn html(status: u16, body: String) -> Self {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.into_bytes(),
        }
    }
    /// A plain JSON error: `{"error": code, "error_description": message}`.
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::json(status, &json!({ "error": code, "error_description": message.into() }))
    }
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Where sessions live (a Durable Object per session at the edge).
#[async_trait(?Send)]
pub trait SessionStore {
    /// Stores a new session that expires after `idle_ms` without use.
    async fn create(&self, session: &Session, idle_ms: u64) -> Result<(), String>;
    /// The session, marked as seen now; `None` when unknown, expired or deleted.
    async fn touch(&self, id: &str, now_ms: u64) -> Result<Option<Session>, String>;
    async fn save(&self, session: &Session) -> Result<(), String>;
    async fn delete(&self, id: &str) -> Result<(), String>;
}

/// Opens the database of a service (the edge looks the binding up). With `read_only`, engines
/// that can (PostgreSQL) run every statement in a read-only transaction. `principal_id` names who
/// is asking; the PostgreSQL opener turns it into [`caller_label`], which the proxy uses to share
/// its connections fairly (D1 needs no label, so none is computed for it).
pub trait DatabaseOpener {
    fn open(&self, service: &ServiceConfig, read_only: bool, principal_id: &str) -> Result<Rc<dyn Database>, String>;
}

/// One label per service and credential, opaque (a hash: the proxy learns no key id or user name).
pub fn caller_label(service: &str, principal_id: &str) -> String {
    let mut hex = crate::auth::sha256_hex(&format!("{service}\n{principal_id}"));
    hex.truncate(32);
    hex
}

/// Everything a request may use besides itself.
pub struct Env<'a> {
    pub config: Result<&'a Config, &'a ConfigErrors>,
    pub sessions: &'a dyn SessionStore,
    pub kv: &'a dyn KvStore,
    pub databases: &'a dyn DatabaseOpener,
    pub schema_cache: &'a SchemaCache,
    pub admin_token: Option<String>,
    pub now_ms: u64,
    /// The authorization server's storage and keys; `None` where OAuth is not wired (then only
    /// API keys authenticate and the OAuth routes answer 503).
    pub oauth: Option<&'a OAuthEnv<'a>>,
    /// Streamed answers (progress, subscriptions/listen); `None` where the host cannot stream.
    pub streaming: Option<sse::Streaming<'a>>,
    /// Where per-credential rate limits are counted; `None`: no limits are enforced.
    pub rate_limiter: Option<&'a dyn crate::rate_limit::Limiter>,
    /// Where calls are recorded (the execution log); `None`: nothing is recorded.
    pub call_log: Option<&'a dyn crate::calllog::CallLog>,
    /// Where the admin API reads the execution log; `None`: its routes answer 503.
    pub log_store: Option<&'a dyn crate::calllog::LogStore>,
    /// The console page's files (Workers Static Assets); `None`: `/admin` answers 503.
    pub assets: Option<&'a dyn StaticAssets>,
}

impl<'a> Env<'a> {
    /// The parts every request needs; nothing optional wired (no OAuth, streaming, rate limits,
    /// call log, log store, console assets or admin token). Hosts and tests add what they have.
    pub fn required(
        config: Result<&'a Config, &'a ConfigErrors>,
        sessions: &'a dyn SessionStore,
        kv: &'a dyn KvStore,
        databases: &'a dyn DatabaseOpener,
        schema_cache: &'a SchemaCache,
        now_ms: u64,
    ) -> Self {
        Env {
            config,
            sessions,
            kv,
            databases,
            schema_cache,
            admin_token: None,
            now_ms,
            oauth: None,
            streaming: None,
            rate_limiter: None,
            call_log: None,
            log_store: None,
            assets: None,
        }
    }
}

impl Env<'_> {
    /// Where API key uses and revocations are recorded (the grant store), when OAuth is wired.
    pub fn key_ledger(&self) -> Option<crate::oauth::grants::GrantKeyLedger<'_>> {
        self.oauth.map(|o| crate::oauth::grants::GrantKeyLedger(o.grants))
    }

    /// Where confirmations are sealed and used up (the grant store; the key from
    /// OAUTH_SIGNING_KEY, else the store's own secret). `None`: writes needing one are refused.
    pub fn confirm_store(&self) -> Option<crate::tools::confirm::GrantConfirmStore<'_>> {
        self.oauth.map(|o| crate::tools::confirm::GrantConfirmStore { grants: o.grants, keys: o.keys.as_ref().ok() })
    }
}

pub async fn handle(mut request: HttpRequest, env: &Env<'_>) -> HttpResponse {
    // The edge stops reading at the cap; this holds the rule for any other caller too.
    if request.body.len() > MAX_BODY_BYTES {
        return body::too_large();
    }
    // With PUBLIC_ORIGIN set, every URL the worker emits and every token it issues or accepts
    // uses that origin: the Host a request names changes nothing.
    if let Ok(Config { public_origin: Some(origin), .. }) = env.config {
        request.origin = origin.clone();
    }
    if cors::is_public_oauth_path(&request.path) {
        return cors::decorate_public(route(&request, env).await);
    }
    let allowed_origin = match cors::check_origin(&request, env.config.ok()) {
        Ok(origin) => origin,
        Err(response) => return response,
    };
    if let Some(streaming) = env.streaming {
        // A stream's head goes out before `route` returns, so it gets its CORS headers here.
        streaming.events.set_cors_origin(allowed_origin.clone());
    }
    let response = route(&request, env).await;
    cors::decorate(response, allowed_origin.as_deref())
}

async fn route(request: &HttpRequest, env: &Env<'_>) -> HttpResponse {
    let path = request.path.as_str();
    if request.method == "OPTIONS" {
        return cors::preflight();
    }
    if path == "/health" {
        return pages::health(request, env);
    }
    let config = match env.config {
        Ok(config) => config,
        Err(errors) => return pages::config_error(errors),
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [""] if request.method == "GET" || request.method == "HEAD" => pages::home(request, config),
        ["mcp", name] | ["mcp", name, ""] => match config.service(name) {
            Some(service) => {
                // Tools added through the admin API, from a per-isolate copy (`tools::stored`).
                let merged = crate::tools::stored::service_with_stored(service, env.kv, env.now_ms).await;
                mcp_endpoint::handle(request, merged.as_deref().unwrap_or(service), config, env).await
            }
            None => unknown_service(name, config),
        },
        ["mcp", name, "info"] if request.method == "GET" => match config.service(name) {
            Some(service) => pages::service_info(request, service),
            None => unknown_service(name, config),
        },
        ["mcp", name, "records", action @ ("signin" | "callback" | "signout")] => match config.service(name) {
            Some(service) => record_signin::handle(request, action, service, config, env).await,
            None => unknown_service(name, config),
        },
        ["mcp", name, "records", table, key] => match config.service(name) {
            Some(service) => records::handle(request, service, table, key, env).await,
            None => unknown_service(name, config),
        },
        ["admin", rest @ ..] => admin::handle(request, rest, config, env).await,
        [".well-known", ..] | ["register"] | ["token"] | ["revoke"] => {
            oauth::handle(request, &segments, config, env).await
        }
        ["authorize", ..] => oauth_authorize::handle(request, &segments, config, env).await,
        _ => HttpResponse::error(404, "not_found", format!("nothing at {path}; MCP endpoints are at /mcp/<service>")),
    }
}

fn unknown_service(name: &str, config: &Config) -> HttpResponse {
    let names: Vec<&str> = config.services.keys().map(String::as_str).collect();
    HttpResponse::json(
        404,
        &json!({
            "error": "unknown_service",
            "error_description": format!("no service named {name:?}; services are: {}", names.join(", ")),
        }),
    )
}
