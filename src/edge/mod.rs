//! The Workers edge: turns runtime objects into the core's plain types and back. Thin on purpose:
//! every decision is made in the core, which `cargo test` covers natively.

mod assets;
mod cimd_fetch;
mod d1;
mod execution_log;
mod grants;
mod kv;
mod neon;
mod oauth_support;
mod outgoing;
mod rate_limiter;
mod sessions;
mod stream;

use std::rc::Rc;

use serde_json::Value as Json;
use worker::{event, Context, Env, Request, Response, ResponseBuilder};

use crate::config::{self, Config, ConfigErrors, DatabaseConfig, RawConfig, ServiceConfig};
use crate::db::Database;
use crate::http::{self, DatabaseOpener, HttpRequest, HttpResponse, MAX_BODY_BYTES};
use crate::tools::SchemaCache;

thread_local! {
    /// Schemas survive across requests served by the same isolate (see `SCHEMA_TTL_MS`).
    static SCHEMA_CACHE: Rc<SchemaCache> = Rc::new(SchemaCache::default());
    /// Valid Client ID Metadata Documents, each kept for its bounded cache lifetime.
    static CLIENT_DOCUMENTS: Rc<crate::oauth::cimd::DocumentCache> = Rc::default();
    /// Sessions this isolate has seen (bounds in `http::session_cache`).
    static SESSION_CACHE: Rc<http::session_cache::SessionCache> = Rc::default();
}

pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

fn string_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).or_else(|| env.secret(name).ok().map(|s| s.to_string()))
}

/// `DBMCP_KV`, looked up when a request uses it (most requests use no binding but the database's).
fn kv_store(env: &Env) -> Result<worker::KvStore, String> {
    env.kv("DBMCP_KV").map_err(|_| "no KV binding named \"DBMCP_KV\"; add it under [[kv_namespaces]]".to_string())
}

/// The stub of the Durable Object `name` in the namespace bound as `binding`, looked up when used.
fn stub(env: &Env, binding: &str, name: &str) -> Result<worker::Stub, String> {
    let namespace = env
        .durable_object(binding)
        .map_err(|_| format!("no Durable Object binding named {binding:?}; see wrangler.toml"))?;
    namespace.id_from_name(name).and_then(|id| id.get_stub()).map_err(|e| e.to_string())
}

thread_local! {
    /// The parsed configuration. Variables and secrets are fixed for the life of an isolate (a new
    /// deployment or a changed secret starts new isolates), so SERVICES is parsed and checked once
    /// per isolate, not on every request.
    static CONFIG: std::cell::OnceCell<Rc<Result<Config, ConfigErrors>>> = const { std::cell::OnceCell::new() };
}

fn config(env: &Env) -> Rc<Result<Config, ConfigErrors>> {
    CONFIG.with(|cell| Rc::clone(cell.get_or_init(|| Rc::new(load_config(env)))))
}

/// The other variables and secrets every request reads, fixed per isolate like the configuration.
struct IsolateVars {
    admin_token: Option<String>,
    signing_key: Option<String>,
    registrations_per_hour: u32,
}

thread_local! {
    static VARS: std::cell::OnceCell<Rc<IsolateVars>> = const { std::cell::OnceCell::new() };
}

fn isolate_vars(env: &Env) -> Rc<IsolateVars> {
    VARS.with(|cell| {
        Rc::clone(cell.get_or_init(|| {
            Rc::new(IsolateVars {
                admin_token: string_var(env, "ADMIN_TOKEN"),
                signing_key: string_var(env, "OAUTH_SIGNING_KEY"),
                registrations_per_hour: string_var(env, "OAUTH_REGISTRATIONS_PER_HOUR")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(http::oauth::DEFAULT_REGISTRATIONS_PER_HOUR),
            })
        }))
    })
}

fn load_config(env: &Env) -> Result<Config, ConfigErrors> {
    // SERVICES is a table in wrangler.toml; a JSON string (e.g. from a secret) works too.
    let services: Option<Json> = match env.object_var::<Json>("SERVICES") {
        Ok(Json::String(text)) => Some(serde_json::from_str(&text).unwrap_or(Json::String(text))),
        Ok(other) => Some(other),
        // A plain string (wrangler dev --var, or a secret) is not an object binding.
        Err(_) => string_var(env, "SERVICES").map(|text| serde_json::from_str(&text).unwrap_or(Json::String(text))),
    };
    let idle = string_var(env, "SESSION_IDLE_SECONDS");
    let origins = string_var(env, "ALLOWED_ORIGINS");
    let public_origin = string_var(env, "PUBLIC_ORIGIN");
    let mask_secret = string_var(env, "MASK_KEY");
    config::parse_with_origin(
        RawConfig {
            services: services.as_ref(),
            session_idle_seconds: idle.as_deref(),
            allowed_origins: origins.as_deref(),
            mask_secret: mask_secret.as_deref(),
        },
        public_origin.as_deref(),
    )
}

struct Databases<'a> {
    env: &'a Env,
}

impl DatabaseOpener for Databases<'_> {
    fn open(&self, service: &ServiceConfig, read_only: bool, principal_id: &str) -> Result<Rc<dyn Database>, String> {
        match &service.database {
            DatabaseConfig::D1 { binding } => {
                self.env.d1(binding).map(|db| Rc::new(d1::D1::new(db)) as Rc<dyn Database>).map_err(|_| {
                    format!("no D1 binding named {binding:?}; add it under [[d1_databases]] in wrangler.toml")
                })
            }
            DatabaseConfig::Postgres { connection_string_secret, endpoint, timeout_ms, max_response_bytes } => {
                let connection_string = string_var(self.env, connection_string_secret).ok_or_else(|| {
                    format!("the secret {connection_string_secret:?} holding the connection string is not set (wrangler secret put {connection_string_secret})")
                })?;
                let endpoint = match endpoint {
                    Some(endpoint) => endpoint.clone(),
                    None => crate::postgres::derive_endpoint(&connection_string)?,
                };
                Ok(Rc::new(neon::Neon {
                    endpoint,
                    connection_string,
                    timeout_ms: *timeout_ms,
                    max_response_bytes: *max_response_bytes,
                    read_only,
                    caller: http::caller_label(&service.name, principal_id),
                }))
            }
        }
    }
}

async fn to_core_request(mut req: Request) -> worker::Result<Result<HttpRequest, HttpResponse>> {
    let url_text = req.inner().url();
    let (origin, path, query) = match http::request_url::split(&url_text) {
        Some(url) => (url.origin.to_string(), url.path.to_string(), url.query.to_string()),
        None => {
            let url = req.url()?;
            (url.origin().ascii_serialization(), url.path().to_string(), url.query().unwrap_or("").to_string())
        }
    };
    let headers: Vec<(String, String)> = req.headers().entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    let method = req.method().to_string();
    let body = if method == "GET" || method == "HEAD" || method == "OPTIONS" {
        vec![]
    } else {
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match read_capped_body(&mut req, header("content-length"), header("transfer-encoding").is_some()).await {
            Ok(body) => body,
            Err(response) => return Ok(Err(response)),
        }
    };
    Ok(Ok(HttpRequest { method, origin, path, query, headers, body }))
}

/// Reads the body chunk by chunk and stops at the cap, whatever `Content-Length` claims (a
/// chunked body has none), so an oversized body is never buffered.
async fn read_capped_body(
    req: &mut Request,
    content_length: Option<&str>,
    chunked: bool,
) -> Result<Vec<u8>, HttpResponse> {
    use futures_util::StreamExt;
    let mut body = http::body::CappedBody::new(MAX_BODY_BYTES);
    if body.check_declared(content_length).is_err() {
        return Err(http::body::too_large());
    }
    if req.inner().body().is_none() {
        return Ok(vec![]);
    }
    // A declared length within the cap and no other framing: HTTP delivers exactly that many
    // bytes, so the body is read in one call (the chunk-by-chunk reader costs several JS calls per
    // request); the bytes are counted again all the same.
    if content_length.is_some_and(|v| v.trim().parse::<u64>().is_ok()) && !chunked {
        let buffer =
            wasm_bindgen_futures::JsFuture::from(req.inner().array_buffer().map_err(|e| unreadable_body(&e.into()))?)
                .await
                .map_err(|e| unreadable_body(&e.into()))?;
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        return if bytes.len() > MAX_BODY_BYTES { Err(http::body::too_large()) } else { Ok(bytes) };
    }
    let mut stream = req.stream().map_err(|e| unreadable_body(&e))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| unreadable_body(&e))?;
        if body.push(&chunk).is_err() {
            return Err(http::body::too_large());
        }
    }
    Ok(body.into_bytes())
}

fn unreadable_body(error: &worker::Error) -> HttpResponse {
    HttpResponse::error(400, "invalid_request", format!("the request body could not be read: {error}"))
}

/// Response headers; `set-cookie` may repeat (a sign-in sets one cookie and clears another).
pub(crate) fn headers_of(pairs: &[(String, String)]) -> worker::Result<worker::Headers> {
    let headers = worker::Headers::new();
    for (name, value) in pairs {
        if name == "set-cookie" {
            headers.append(name, value)?;
        } else {
            headers.set(name, value)?;
        }
    }
    Ok(headers)
}

fn to_worker_response(response: HttpResponse) -> worker::Result<Response> {
    let builder = ResponseBuilder::new().with_status(response.status).with_headers(headers_of(&response.headers)?);
    if response.body.is_empty() {
        Ok(builder.empty())
    } else {
        Ok(builder.fixed(response.body))
    }
}

thread_local! {
    /// Deriving the Ed25519 public keys takes WebCrypto calls; do it once per isolate and secret.
    static SIGNING_KEYS: std::cell::RefCell<Option<(String, crate::oauth::tokens::SigningKeys)>> =
        const { std::cell::RefCell::new(None) };
}

async fn signing_keys(secret: Option<&str>) -> Result<crate::oauth::tokens::SigningKeys, String> {
    let secret = secret.ok_or_else(|| "the OAUTH_SIGNING_KEY secret is not set".to_string())?;
    let cached = SIGNING_KEYS.with(|cache| {
        cache.borrow().as_ref().filter(|(cached_secret, _)| cached_secret == secret).map(|(_, keys)| keys.clone())
    });
    if let Some(keys) = cached {
        return Ok(keys);
    }
    let keys = crate::oauth::tokens::SigningKeys::load(secret, &oauth_support::WebCryptoSigner).await?;
    SIGNING_KEYS.with(|cache| *cache.borrow_mut() = Some((secret.to_string(), keys.clone())));
    Ok(keys)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let request = match to_core_request(req).await? {
        Ok(request) => request,
        Err(response) => return to_worker_response(response),
    };
    // Only the console's pages read the assets binding.
    let serves_console = request.path.trim_start_matches('/').starts_with("admin");
    // The request owns everything it uses, so it can outlive this function as a streamed body.
    let events = Rc::new(crate::http::sse::EventStream::default());
    let stream_events = Rc::clone(&events);
    let run = async move {
        let config = config(&env);
        let vars = isolate_vars(&env);
        let kv = kv::Kv(&env);
        let durable_sessions = sessions::DurableSessions(&env);
        let session_cache = SESSION_CACHE.with(Rc::clone);
        let sessions = http::session_cache::CachedSessions {
            inner: &durable_sessions,
            cache: &session_cache,
            idle_ms: config.as_ref().as_ref().map_or(0, |c| c.session_idle_seconds.saturating_mul(1000)),
        };
        let schema_cache = SCHEMA_CACHE.with(Rc::clone);
        let grants = grants::DurableGrants(&env);
        let oauth_kv = oauth_support::OAuthKv(&env);
        let document_cache = CLIENT_DOCUMENTS.with(Rc::clone);
        // Only a handle: no Durable Object is reached unless a service limits the caller.
        let limiter = rate_limiter::DurableLimiter(&env);
        let log_store = execution_log::DurableLog::new(&env);
        let assets = if serves_console { assets::Assets::bound(&env) } else { None };
        let oauth = http::OAuthEnv {
            keys: signing_keys(vars.signing_key.as_deref()).await,
            signer: &oauth_support::WebCryptoSigner,
            grants: &grants,
            hasher: &oauth_support::WebCryptoHasher,
            expiring_kv: &oauth_kv,
            registrations_per_hour: vars.registrations_per_hour,
            client_documents: &cimd_fetch::WorkerFetcher,
            document_cache: &document_cache,
        };
        let env_core = http::Env {
            config: Result::as_ref(&config),
            sessions: &sessions,
            kv: &kv,
            databases: &Databases { env: &env },
            schema_cache: &schema_cache,
            admin_token: vars.admin_token.clone(),
            now_ms: now_ms(),
            oauth: Some(&oauth),
            streaming: Some(http::sse::Streaming { events: &stream_events, timer: &stream::WorkerTimer }),
            rate_limiter: Some(&limiter),
            call_log: Some(&execution_log::IsolateCallLog),
            log_store: Some(&log_store),
            assets: assets.as_ref().map(|a| a as &dyn http::StaticAssets),
        };
        let response = http::handle(request, &env_core).await;
        // Entries this request recorded are written after the response (streamed ones too: this
        // runs when the stream's last event has been produced).
        execution_log::schedule_flush(&ctx, &env);
        response
    };
    stream::respond(Box::pin(run), events).await
}
