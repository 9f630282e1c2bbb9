//! `/admin`: API key management, authenticated with the `ADMIN_TOKEN` secret.
//!
//! - `POST   /admin/services/<name>/keys`        `{"label"?, "scopes"?, "attributes"?, "rate_limit_per_minute"?}`
//!   -> 201 `{"id", "key", ...}`
//! - `GET    /admin/services/<name>/keys`        -> 200 `{"keys": [...]}` (never the key itself;
//!   each with its `rate_limit_per_minute`, `null` when the service's limit applies)
//! - `DELETE /admin/services/<name>/keys/<id>`   -> 204, or 404 for an unknown id
//!
//! - `GET    /admin/services`                    -> 200 `{"services": [...]}` (for the console)
//!
//! OAuth users, clients and custom login URLs: see `oauth_admin`; custom tools: `admin_tools`. The operator console (the page,
//! its session cookie and CSRF rules): see `console`.

use serde::Deserialize;
use serde_json::json;

use super::console;
use super::{Env, HttpRequest, HttpResponse};
use crate::auth::{self, constant_time_eq, SCOPE_READ, SCOPE_WRITE};
use crate::config::Config;

const MAX_LABEL_CHARS: usize = 100;

/// The admin token as a Bearer credential, or the operator console's session cookie (with its
/// CSRF header, and our Origin on changes; see `console`).
async fn check_admin(request: &HttpRequest, env: &Env<'_>) -> Result<(), HttpResponse> {
    if console::uses_cookie(request) {
        return console::check_cookie(request, env).await.map(|_| ());
    }
    let Some(expected) = env.admin_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(HttpResponse::error(
            503,
            "admin_disabled",
            "the admin API is disabled: set the ADMIN_TOKEN secret",
        ));
    };
    let presented = request
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(HttpResponse::error(401, "invalid_token", "wrong admin token").with_header(
            "www-authenticate",
            super::challenge::Challenge::bearer()
                .param("realm", "dbmcp-admin")
                .param("error", "invalid_token")
                .header_value(),
        )),
        None => Err(HttpResponse::error(401, "unauthorized", "send Authorization: Bearer <ADMIN_TOKEN>").with_header(
            "www-authenticate",
            super::challenge::Challenge::bearer().param("realm", "dbmcp-admin").header_value(),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewKeyRequest {
    label: Option<String>,
    scopes: Option<Vec<String>>,
    /// Values for row policies (`{user.<attr>}`); see `rows::validate_attributes`.
    attributes: Option<serde_json::Value>,
    /// This key's own limit, beating the service's `rate_limits.api_key_per_minute`.
    rate_limit_per_minute: Option<serde_json::Value>,
}

pub async fn handle(request: &HttpRequest, rest: &[&str], config: &Config, env: &Env<'_>) -> HttpResponse {
    console::harden(route(request, rest, config, env).await)
}

async fn route(request: &HttpRequest, rest: &[&str], config: &Config, env: &Env<'_>) -> HttpResponse {
    if let Some(response) = console::public_route(request, rest, env).await {
        return response;
    }
    if let Err(response) = check_admin(request, env).await {
        return response;
    }
    if let (["services"], "GET" | "HEAD") = (rest, request.method.as_str()) {
        return console::services(request, config);
    }
    if let Some(response) = super::admin_logs::handle(request, rest, config, env).await {
        return response;
    }
    if let Some(response) = super::oauth_admin::handle(request, rest, config, env).await {
        return response;
    }
    if let Some(response) = super::admin_tools::handle(request, rest, config, env).await {
        return response;
    }
    let (service, key_id) = match rest {
        ["services", service, "keys"] => (*service, None),
        ["services", service, "keys", id] if !id.is_empty() => (*service, Some(*id)),
        _ => {
            return HttpResponse::error(
                404,
                "not_found",
                "admin routes: /admin/services, /admin/services/<name>/{keys,users,clients,login,logs,tools}[/<id>], /admin/clients[/<id>], /admin/session, /admin (the console)",
            )
        }
    };
    if config.service(service).is_none() {
        return HttpResponse::error(404, "unknown_service", format!("no service named {service:?}"));
    }
    let ledger = env.key_ledger();
    let ledger = ledger.as_ref().map(|l| l as &dyn auth::KeyLedger);
    match (request.method.as_str(), key_id) {
        ("POST", None) => create_key(request, service, env).await,
        ("GET", None) => match auth::list_keys(env.kv, ledger, service).await {
            Ok(keys) => HttpResponse::json(200, &json!({ "service": service, "keys": keys })),
            Err(e) => HttpResponse::error(503, "storage_unavailable", e),
        },
        ("DELETE", Some(id)) => match auth::revoke_key(env.kv, ledger, service, id).await {
            Ok(true) => HttpResponse::new(204),
            Ok(false) => {
                HttpResponse::error(404, "unknown_key", format!("service {service:?} has no key with id {id:?}"))
            }
            Err(e) => HttpResponse::error(503, "storage_unavailable", e),
        },
        (method, _) => {
            HttpResponse::error(405, "method_not_allowed", format!("{method} is not supported on this admin route"))
        }
    }
}

async fn create_key(request: &HttpRequest, service: &str, env: &Env<'_>) -> HttpResponse {
    let input: NewKeyRequest = if request.body.iter().all(u8::is_ascii_whitespace) {
        NewKeyRequest::default()
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(input) => input,
            Err(e) => {
                return HttpResponse::error(
                    400,
                    "invalid_request",
                    format!("body must be JSON like {{\"label\": \"laptop\"}}: {e}"),
                )
            }
        }
    };
    let label = input.label.map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > MAX_LABEL_CHARS) {
        return HttpResponse::error(
            400,
            "invalid_request",
            format!("label is limited to {MAX_LABEL_CHARS} characters"),
        );
    }
    let scopes = input.scopes.unwrap_or_else(|| vec![SCOPE_READ.into(), SCOPE_WRITE.into()]);
    if scopes.is_empty() || scopes.iter().any(|s| s != SCOPE_READ && s != SCOPE_WRITE) {
        return HttpResponse::error(
            400,
            "invalid_scope",
            "scopes must be a non-empty list of \"mcp:read\" and \"mcp:write\"",
        );
    }
    let attributes = match input.attributes.as_ref().map(crate::rows::validate_attributes).transpose() {
        Ok(attributes) => attributes.unwrap_or_default(),
        Err(e) => return HttpResponse::error(400, "invalid_request", e),
    };
    let rate_limit_per_minute = match input.rate_limit_per_minute.as_ref().map(crate::rate_limit::per_minute) {
        None => None,
        Some(Ok(limit)) => Some(limit),
        Some(Err(why)) => return HttpResponse::error(400, "invalid_request", format!("rate_limit_per_minute: {why}")),
    };
    let mut new = match auth::mint_key(service, label, scopes, env.now_ms) {
        Ok(new) => new,
        Err(e) => return HttpResponse::error(503, "unavailable", e),
    };
    new.record.attributes = attributes;
    new.record.rate_limit_per_minute = rate_limit_per_minute;
    if let Err(e) = auth::store_key(env.kv, &new).await {
        return HttpResponse::error(503, "storage_unavailable", e);
    }
    let r = &new.record;
    HttpResponse::json(
        201,
        &json!({
            "id": r.id, "key": new.key, "prefix": r.prefix, "label": r.label, "scopes": r.scopes,
            "attributes": r.attributes,
            "created_ms": r.created_ms, "service": service, "rate_limit_per_minute": r.rate_limit_per_minute,
            "note": "Store this key now: it is shown only once.",
        }),
    )
    .with_header("cache-control", "no-store")
}
