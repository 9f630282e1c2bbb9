//! The operator console at `/admin`: a static page (HTML, plain JS and CSS in `assets/admin/`,
//! uploaded beside the Worker as static assets; see `files`) that drives the admin API with a
//! short-lived session cookie instead of the admin token.
//!
//! - `GET  /admin`, `/admin/`, `/admin/console.js`, `/admin/console.css`  the page (no credential needed)
//! - `POST /admin/session` `{"token"}`  -> 200 `{"csrf_token", "expires_ms"}` and the cookie
//! - `DELETE /admin/session`            signs out (the session id is remembered until expiry)
//! - `GET  /admin/services`             the configured services (admin credential needed)
//!
//! With the cookie, every admin call also needs `X-CSRF-Token` (handed out at sign-in, bound to
//! the session), and changes need `Origin` equal to the worker's own origin.

pub mod files;
pub mod session;

use serde::Deserialize;
use serde_json::{json, Value as Json};
use sha2::Digest;

use super::{Env, HttpRequest, HttpResponse};
use crate::auth::constant_time_eq;
use crate::config::{AuthMode, Config, DatabaseConfig, ServiceConfig};
use crate::oauth::grants::{Command, Reply, GLOBAL_SHARD};
use crate::oauth::login_limit::{self, LIMITS};
use session::{ConsoleSession, SESSION_SECONDS};

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The login limiter's "user" for console sign-ins (in the global shard, which no service uses).
const SIGNIN_BUCKET_USER: &str = "admin-console";

/// Headers every console answer carries (the page, its files, and its API answers).
pub fn harden(response: HttpResponse) -> HttpResponse {
    response
        .with_header("content-security-policy", CSP)
        .with_header("x-frame-options", "DENY")
        .with_header("referrer-policy", "no-referrer")
        .with_header("x-content-type-options", "nosniff")
}

/// The routes that need no admin credential: the page, its files, signing in and out. The caller
/// (`admin::handle`) adds the [`harden`] headers to every answer.
pub async fn public_route(request: &HttpRequest, rest: &[&str], env: &Env<'_>) -> Option<HttpResponse> {
    if matches!(request.method.as_str(), "GET" | "HEAD") {
        if let Some(file) = files::file_for(rest) {
            return Some(files::serve(file, env.assets).await);
        }
    }
    Some(match rest {
        ["session"] => match request.method.as_str() {
            "POST" => sign_in(request, env).await,
            "DELETE" => sign_out(request, env).await,
            "GET" => resume(request, env).await,
            _ => HttpResponse::error(405, "method_not_allowed", "POST signs in, GET resumes, DELETE signs out"),
        },
        _ => return None,
    })
}

fn admin_token<'e>(env: &'e Env<'_>) -> Result<&'e str, HttpResponse> {
    env.admin_token.as_deref().filter(|t| !t.is_empty()).ok_or_else(|| {
        HttpResponse::error(503, "admin_disabled", "the admin API is disabled: set the ADMIN_TOKEN secret")
    })
}

fn same_origin(request: &HttpRequest) -> bool {
    request.header("origin").is_some_and(|o| o.trim().eq_ignore_ascii_case(&request.origin))
}

fn ended(why: &str) -> HttpResponse {
    HttpResponse::error(401, "console_session_ended", format!("the console session has ended ({why}); sign in again"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    token: String,
}

async fn sign_in(request: &HttpRequest, env: &Env<'_>) -> HttpResponse {
    let expected = match admin_token(env) {
        Ok(t) => t,
        Err(r) => return r,
    };
    // Nobody else's page may sign a browser in (nor learn from our answers whether a token is right).
    if request.header("origin").is_some() && !same_origin(request) {
        return HttpResponse::error(403, "forbidden_origin", "sign in from the console's own page");
    }
    let input: SignIn = match serde_json::from_slice(&request.body) {
        Ok(i) => i,
        Err(e) => {
            return HttpResponse::error(
                400,
                "invalid_request",
                format!("body must be JSON like {{\"token\": \"...\"}}: {e}"),
            )
        }
    };
    let Some(oauth) = env.oauth else {
        return HttpResponse::error(503, "unavailable", "the sign-in limiter (grant store) is not available");
    };
    // Counted before the token is compared, atomically: parallel guesses cannot outrun the count.
    let address = login_limit::address_bucket(&super::oauth::client_ip(request));
    let reserve = Command::ReserveLogin { user: SIGNIN_BUCKET_USER.into(), address: address.clone(), limits: LIMITS };
    match oauth.grants.run(GLOBAL_SHARD, &reserve).await {
        Ok(Reply::LoginReserved { allowed: false, retry_after_s, .. }) => {
            return HttpResponse::error(429, "too_many_attempts", "too many sign-in attempts; wait a few minutes")
                .with_header("retry-after", retry_after_s.to_string())
        }
        Ok(Reply::LoginReserved { .. }) => {}
        Ok(other) => return HttpResponse::error(503, "unavailable", format!("unexpected answer {other:?}")),
        Err(e) => return HttpResponse::error(503, "storage_unavailable", e),
    }
    // Digests of equal length, so the comparison's time does not depend on the token's length either.
    let digest = |t: &str| sha2::Sha256::digest(t.as_bytes());
    if !constant_time_eq(&digest(input.token.trim()), &digest(expected)) {
        return HttpResponse::error(401, "invalid_token", "wrong admin token");
    }
    let release = Command::ReleaseLogin { user: SIGNIN_BUCKET_USER.into(), address };
    if let Err(e) = oauth.grants.run(GLOBAL_SHARD, &release).await {
        return HttpResponse::error(503, "storage_unavailable", e);
    }
    let id = match crate::auth::random_token(18) {
        Ok(id) => id,
        Err(e) => return HttpResponse::error(503, "unavailable", e),
    };
    let session = ConsoleSession { id, expires_ms: env.now_ms + SESSION_SECONDS * 1000 };
    HttpResponse::json(200, &json!({"csrf_token": session.csrf(expected), "expires_ms": session.expires_ms}))
        .with_header("set-cookie", session.set_cookie(env.now_ms, expected))
        .with_header("cache-control", "no-store")
}

async fn sign_out(request: &HttpRequest, env: &Env<'_>) -> HttpResponse {
    let session = match check_cookie(request, env).await {
        Ok(s) => s,
        Err(r) => return r.with_header("set-cookie", session::clear_cookie()),
    };
    let Some(oauth) = env.oauth else {
        return HttpResponse::error(503, "unavailable", "sign-out needs the KV store");
    };
    // Remembered until the cookie would have expired anyway (KV's shortest TTL is 60 s).
    let ttl = (session.expires_ms.saturating_sub(env.now_ms) / 1000).max(60);
    if let Err(e) = oauth.expiring_kv.put_expiring(&session::signed_out_key(&session.id), "1", None, Some(ttl)).await {
        return HttpResponse::error(503, "storage_unavailable", e);
    }
    HttpResponse::new(204).with_header("set-cookie", session::clear_cookie())
}

/// `GET /admin/session`: this browser's session again (its CSRF token), so reloading the console
/// keeps it signed in. The token is only as secret as the page that reads it must be: the cookie
/// is SameSite=Strict and no other origin may read our answers (no credentialed CORS), and a
/// fetch another site starts is refused by its `Sec-Fetch-Site`.
async fn resume(request: &HttpRequest, env: &Env<'_>) -> HttpResponse {
    let expected = match admin_token(env) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if request.header("sec-fetch-site").is_some_and(|site| !site.eq_ignore_ascii_case("same-origin")) {
        return HttpResponse::error(403, "forbidden_origin", "only the console's own page may resume its session");
    }
    let session = match open_session(request, env, expected).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    HttpResponse::json(200, &json!({"csrf_token": session.csrf(expected), "expires_ms": session.expires_ms}))
        .with_header("cache-control", "no-store")
}

/// The unexpired, not signed-out session of the request's cookie.
async fn open_session(request: &HttpRequest, env: &Env<'_>, expected: &str) -> Result<ConsoleSession, HttpResponse> {
    let value = request.header("cookie").and_then(session::cookie_value).ok_or_else(|| ended("no session cookie"))?;
    not_signed_out(ConsoleSession::open(value, expected, env.now_ms).map_err(ended)?, env).await
}

async fn not_signed_out(session: ConsoleSession, env: &Env<'_>) -> Result<ConsoleSession, HttpResponse> {
    match env.kv.get(&session::signed_out_key(&session.id)).await {
        Ok(None) => Ok(session),
        Ok(Some(_)) => Err(ended("signed out")),
        Err(e) => Err(HttpResponse::error(503, "storage_unavailable", e)),
    }
}

/// Whether the request carries the console cookie (and no Authorization header, which wins).
pub fn uses_cookie(request: &HttpRequest) -> bool {
    request.header("authorization").is_none() && request.header("cookie").and_then(session::cookie_value).is_some()
}

/// Accepts a console request: a valid, unexpired, not signed-out session cookie, the matching
/// CSRF header, and for changes our own Origin.
pub async fn check_cookie(request: &HttpRequest, env: &Env<'_>) -> Result<ConsoleSession, HttpResponse> {
    let expected = admin_token(env)?;
    let value = request.header("cookie").and_then(session::cookie_value).ok_or_else(|| ended("no session cookie"))?;
    let session = ConsoleSession::open(value, expected, env.now_ms).map_err(ended)?;
    let csrf = request.header("x-csrf-token").unwrap_or("");
    if !session.csrf_matches(expected, csrf) {
        return Err(HttpResponse::error(403, "csrf_failed", "missing or wrong X-CSRF-Token header"));
    }
    if !matches!(request.method.as_str(), "GET" | "HEAD") && !same_origin(request) {
        return Err(HttpResponse::error(
            403,
            "forbidden_origin",
            "changes need an Origin header equal to this worker's origin",
        ));
    }
    not_signed_out(session, env).await
}

/// `GET /admin/services`: what the console shows of each service.
pub fn services(request: &HttpRequest, config: &Config) -> HttpResponse {
    let services: Vec<Json> = config.services.values().map(|s| service_view(request, s)).collect();
    HttpResponse::json(200, &json!({ "services": services }))
}

fn service_view(request: &HttpRequest, s: &ServiceConfig) -> Json {
    json!({
        "name": s.name,
        "label": s.label,
        "description": s.description,
        "engine": match s.database { DatabaseConfig::D1 { .. } => "d1", DatabaseConfig::Postgres { .. } => "postgres" },
        "read_only": s.read_only,
        "max_rows": s.max_rows,
        "hidden_tables": s.hidden_tables,
        "auth": match s.auth { AuthMode::Required => "required", AuthMode::None => "none" },
        "mcp_endpoint": super::pages::mcp_url(request, &s.name),
        "rate_limits": rate_limits_view(&s.rate_limits),
    })
}

/// The limits a service sets, per minute; `{}` when it sets none.
fn rate_limits_view(limits: &crate::rate_limit::RateLimits) -> Json {
    let set = [
        ("api_key_per_minute", limits.api_key_per_minute),
        ("oauth_client_per_minute", limits.oauth_client_per_minute),
        ("user_per_minute", limits.user_per_minute),
    ];
    Json::Object(set.into_iter().filter_map(|(name, limit)| Some((name.to_string(), json!(limit?)))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Only the tests read the files (the wasm does not carry them).
    const INDEX_HTML: &str = include_str!("../../../assets/admin/index.html");
    const CONSOLE_JS: &str = include_str!("../../../assets/admin/console.js");

    #[test]
    fn the_page_loads_nothing_inline_and_only_its_own_files() {
        assert!(!INDEX_HTML.contains("<style") && !INDEX_HTML.contains(" style="));
        assert!(!INDEX_HTML.contains("onclick") && !INDEX_HTML.contains("<script>"));
        assert!(INDEX_HTML.contains("src=\"/admin/console.js\"") && INDEX_HTML.contains("href=\"/admin/console.css\""));
        // Text from the database or clients is never parsed as HTML by the script.
        assert!(!CONSOLE_JS.contains("innerHTML") && !CONSOLE_JS.contains("insertAdjacentHTML"));
        assert!(!CONSOLE_JS.contains("eval(") && !CONSOLE_JS.contains("new Function"));
    }

    #[test]
    fn services_show_engine_policy_and_the_endpoint_at_the_public_origin() {
        let declared = json!({
            "shop": {"label": "Shop", "database": {"kind": "d1", "binding": "DB"}, "read_only": true, "max_rows": 7, "hidden_tables": ["secrets"],
                     "rate_limits": {"api_key_per_minute": 60, "user_per_minute": 9}},
            "pg": {"label": "PG", "database": {"kind": "postgres", "connection_string_secret": "PG_URL"}, "auth": "none"},
        });
        let raw = crate::config::RawConfig {
            services: Some(&declared),
            session_idle_seconds: None,
            allowed_origins: None,
            mask_secret: None,
        };
        let config = crate::config::parse_with_origin(raw, Some("https://db.example.com")).unwrap();
        let request = HttpRequest {
            method: "GET".into(),
            origin: "https://db.example.com".into(),
            path: "/admin/services".into(),
            query: String::new(),
            headers: vec![],
            body: vec![],
        };
        let body: Json = serde_json::from_slice(&services(&request, &config).body).unwrap();
        let list = body["services"].as_array().unwrap();
        let pg = list.iter().find(|s| s["name"] == "pg").unwrap();
        let shop = list.iter().find(|s| s["name"] == "shop").unwrap();
        assert_eq!((pg["engine"].as_str(), pg["auth"].as_str()), (Some("postgres"), Some("none")));
        assert_eq!(shop["engine"], "d1");
        assert_eq!(shop["auth"], "required");
        assert_eq!(shop["read_only"], true);
        assert_eq!(shop["max_rows"], 7);
        assert_eq!(shop["hidden_tables"], json!(["secrets"]));
        assert_eq!(shop["mcp_endpoint"], "https://db.example.com/mcp/shop");
        assert_eq!(shop["rate_limits"], json!({"api_key_per_minute": 60, "user_per_minute": 9}));
        assert_eq!(pg["rate_limits"], json!({}));
        // Secrets' names and connection details are not shown.
        assert!(!String::from_utf8_lossy(&services(&request, &config).body).contains("PG_URL"));
    }

    #[test]
    fn every_console_answer_forbids_framing_and_sniffing() {
        let r = harden(HttpResponse::new(200));
        assert!(r.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
        assert!(r.header("content-security-policy").unwrap().contains("script-src 'self'"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
}
