//! Signing a person in to the record pages (see `crate::oauth::record_viewer` for the rules):
//!
//! - `GET /mcp/<service>/records/signin?next=<record path>`  starts this server's authorization
//!   flow as the built-in client `dbmcp-records:<service>` (PKCE S256, scope `mcp:read`)
//! - `GET /mcp/<service>/records/callback`  exchanges the code, keeps the access token in the
//!   service's record cookie, and returns to the record
//! - `GET /mcp/<service>/records/signout`   forgets the cookie

use super::oauth::{ready, token};
use super::{Env, HttpRequest, HttpResponse};
use crate::auth::{random_token, SCOPE_READ};
use crate::config::{AuthMode, Config, ServiceConfig};
use crate::oauth::form::{encode, Params};
use crate::oauth::record_viewer::{self, PendingSignIn};
use crate::oauth::{metadata, pkce};

/// Whether a person can sign in to this service's record pages with a browser.
pub fn available(service: &ServiceConfig, env: &Env<'_>) -> bool {
    service.auth == AuthMode::Required && ready(env).is_ok()
}

/// Where a record page sends a browser that has no (or an expired) credential.
pub fn start_url(service: &ServiceConfig, record_path: &str) -> String {
    format!("/mcp/{}/records/signin?next={}", service.name, encode(record_path))
}

fn redirect(location: &str) -> HttpResponse {
    HttpResponse::new(302).with_header("location", location).with_header("cache-control", "no-store")
}

fn page(status: u16, heading: &str, message: &str) -> HttpResponse {
    super::records::message_page(status, heading, message)
}

pub async fn handle(
    request: &HttpRequest,
    action: &str,
    service: &ServiceConfig,
    config: &Config,
    env: &Env<'_>,
) -> HttpResponse {
    if request.method != "GET" {
        return HttpResponse::error(405, "method_not_allowed", "this page is opened with GET")
            .with_header("allow", "GET");
    }
    if service.auth != AuthMode::Required {
        return page(404, "No sign-in here", "this service is open: its records need no sign-in");
    }
    match action {
        "signin" => start(request, service, env),
        "callback" => callback(request, service, config, env).await,
        _ => signed_out(service),
    }
}

fn start(request: &HttpRequest, service: &ServiceConfig, env: &Env<'_>) -> HttpResponse {
    let Ok((_, keys)) = ready(env) else {
        return page(503, "Sign-in is unavailable", "OAuth is not configured on this server (no signing key)");
    };
    let params = Params::from_text(&request.query);
    let next = params.get("next").ok().flatten().unwrap_or_default();
    if !record_viewer::valid_return_path(&service.name, next) {
        return page(400, "Bad sign-in link", "next must be the path of a record page of this service");
    }
    let (Ok(verifier), Ok(state)) = (random_token(32), random_token(16)) else {
        return page(503, "Sign-in is unavailable", "no randomness available");
    };
    let pending = PendingSignIn {
        service: service.name.clone(),
        return_to: next.to_string(),
        verifier,
        state,
        exp: env.now_ms / 1000 + record_viewer::FLOW_SECONDS,
    };
    let Ok(cookie) = record_viewer::set_flow_cookie(keys, &pending) else {
        return page(503, "Sign-in is unavailable", "the sign-in could not be signed");
    };
    let issuer = metadata::issuer(&request.origin);
    let location = format!(
        "{issuer}/authorize?response_type=code&client_id={}&redirect_uri={}&code_challenge={}\
         &code_challenge_method=S256&state={}&scope={}&resource={}",
        encode(&record_viewer::client_id(&service.name)),
        encode(&record_viewer::callback_url(&issuer, &service.name)),
        pkce::challenge_of(&pending.verifier),
        pending.state,
        encode(SCOPE_READ),
        encode(&metadata::resource_url(&issuer, &service.name)),
    );
    redirect(&location).with_header("set-cookie", cookie)
}

async fn callback(request: &HttpRequest, service: &ServiceConfig, config: &Config, env: &Env<'_>) -> HttpResponse {
    let Ok((_, keys)) = ready(env) else {
        return page(503, "Sign-in is unavailable", "OAuth is not configured on this server (no signing key)");
    };
    let params = Params::from_text(&request.query);
    let get = |name: &str| params.get(name).ok().flatten().unwrap_or_default().to_string();
    let issuer = metadata::issuer(&request.origin);
    if !get("error").is_empty() {
        let why = match get("error_description") {
            d if d.is_empty() => get("error"),
            d => d,
        };
        return page(403, "Sign-in was not completed", &why)
            .with_header("set-cookie", record_viewer::clear_flow_cookie());
    }
    let iss = get("iss");
    if !iss.is_empty() && iss != issuer {
        return page(400, "Sign-in was not completed", "the answer came from another authorization server");
    }
    let pending = match record_viewer::open_flow_cookie(
        keys,
        request.header("cookie"),
        &service.name,
        &get("state"),
        env.now_ms / 1000,
    ) {
        Ok(pending) => pending,
        Err(why) => return page(400, "Sign-in was not completed", &why),
    };
    // The code is exchanged in-process, through the token endpoint's own checks (PKCE,
    // redirect URI, resource, single use), as the client itself would.
    let form = format!(
        "grant_type=authorization_code&code={}&code_verifier={}&client_id={}&redirect_uri={}&resource={}",
        encode(&get("code")),
        encode(&pending.verifier),
        encode(&record_viewer::client_id(&service.name)),
        encode(&record_viewer::callback_url(&issuer, &service.name)),
        encode(&metadata::resource_url(&issuer, &service.name)),
    );
    let exchange = HttpRequest {
        method: "POST".into(),
        origin: request.origin.clone(),
        path: "/token".into(),
        query: String::new(),
        headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
        body: form.into_bytes(),
    };
    let access_token = match token(&exchange, config, env).await {
        Ok(response) => serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|body| body["access_token"].as_str().map(str::to_string)),
        Err(e) => return page(400, "Sign-in was not completed", &e.description),
    };
    let Some(access_token) = access_token else {
        return page(503, "Sign-in was not completed", "the token endpoint gave no access token");
    };
    redirect(&pending.return_to)
        .with_header("set-cookie", record_viewer::set_token_cookie(&service.name, &access_token))
        .with_header("set-cookie", record_viewer::clear_flow_cookie())
}

fn signed_out(service: &ServiceConfig) -> HttpResponse {
    page(200, "Signed out", &format!("This browser no longer shows records of {}.", service.label))
        .with_header("set-cookie", record_viewer::clear_token_cookie(&service.name))
}
