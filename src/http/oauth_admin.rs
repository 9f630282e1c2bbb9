//! Admin routes for the authorization server (same `ADMIN_TOKEN` as the API keys):
//!
//! - `POST   /admin/services/<s>/users`            `{"username", "password", "attributes"?}` -> 201
//! - `GET    /admin/services/<s>/users`            -> `{"users": [{username, disabled, ...}]}`
//! - `PATCH  /admin/services/<s>/users/<u>`        `{"password"?, "disabled"?, "attributes"?}` -> 200 (a reset or disable ends the user's grants, codes and open consents now)
//! - `DELETE /admin/services/<s>/users/<u>`        -> 204 (ends the user's grants now)
//! - `POST   /admin/services/<s>/clients`          `{"client_name", "redirect_uris", "public"?}` -> 201 with `client_secret` (shown once)
//! - `GET    /admin/services/<s>/clients`          -> `{"clients": [...]}`
//! - `DELETE /admin/services/<s>/clients/<id>`     -> 204 (ends its grants now)
//! - `GET    /admin/clients`                       every stored client, dynamically registered ones included
//! - `DELETE /admin/clients/<id>`                  any client, dynamic ones included -> 204
//! - `PUT    /admin/services/<s>/login`            `{"url"}` -> 200 with the assertion `secret` (shown once)
//! - `GET|DELETE /admin/services/<s>/login`        the custom login URL, or back to the built-in form
//! - `/admin/services/<s>/metadata-clients[/allow]` metadata-document clients: see `oauth_document_clients`

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::oauth::{load_client, ready, store_client};
use super::{Env, HttpRequest, HttpResponse};
use crate::config::Config;
use crate::oauth::client::{self, ClientRecord, AUTH_BASIC, AUTH_NONE};
use crate::oauth::custom_login::{self, LoginConfig};
use crate::oauth::grants::Command;
use crate::oauth::password::{self, UserRecord};
use crate::oauth::registration;

fn body<T: for<'de> Deserialize<'de>>(request: &HttpRequest) -> Result<T, HttpResponse> {
    serde_json::from_slice(&request.body)
        .map_err(|e| HttpResponse::error(400, "invalid_request", format!("the body must be JSON: {e}")))
}

fn storage(e: String) -> HttpResponse {
    HttpResponse::error(503, "storage_unavailable", e)
}

/// Routes under `/admin/services/<service>/{users,clients,login}` and `/admin/clients/<id>`;
/// `None` when the path is not one of them.
pub async fn handle(request: &HttpRequest, rest: &[&str], config: &Config, env: &Env<'_>) -> Option<HttpResponse> {
    let method = request.method.as_str();
    let response = match rest {
        ["clients"] if method == "GET" => list_all_clients(env).await,
        ["clients", id] => match method {
            "GET" => match load_client(env, id).await {
                Ok(Some(c)) => HttpResponse::json(200, &summary(&c)),
                Ok(None) => HttpResponse::error(404, "unknown_client", format!("no client {id:?}")),
                Err(e) => storage(e),
            },
            "DELETE" => delete_client(env, config, None, id).await,
            _ => not_allowed(),
        },
        ["services", service, kind, tail @ ..]
            if matches!(*kind, "users" | "clients" | "login" | "metadata-clients") =>
        {
            if config.service(service).is_none() {
                return Some(HttpResponse::error(404, "unknown_service", format!("no service named {service:?}")));
            }
            match (*kind, method, tail) {
                ("metadata-clients", _, _) => super::oauth_document_clients::handle(request, env, service, tail).await,
                ("users", "POST", []) => create_user(request, env, service).await,
                ("users", "GET", []) => list_users(env, service).await,
                ("users", "PATCH" | "PUT", [name]) => update_user(request, env, service, name).await,
                ("users", "DELETE", [name]) => delete_user(env, service, name).await,
                ("clients", "POST", []) => create_client(request, env, service).await,
                ("clients", "GET", []) => list_clients(env, service).await,
                ("clients", "DELETE", [id]) => delete_client(env, config, Some(service), id).await,
                ("login", "PUT" | "POST", []) => set_login(request, env, service).await,
                ("login", "GET", []) => match env.kv.get(&custom_login::config_key(service)).await {
                    Ok(Some(text)) => {
                        let config: LoginConfig = serde_json::from_str(&text).unwrap_or(LoginConfig {
                            url: String::new(),
                            kid: String::new(),
                            nonce: String::new(),
                            created_ms: 0,
                        });
                        HttpResponse::json(
                            200,
                            &json!({"service": service, "url": config.url, "created_ms": config.created_ms}),
                        )
                    }
                    Ok(None) => HttpResponse::json(200, &json!({"service": service, "url": null})),
                    Err(e) => storage(e),
                },
                ("login", "DELETE", []) => match env.kv.delete(&custom_login::config_key(service)).await {
                    Ok(()) => HttpResponse::new(204),
                    Err(e) => storage(e),
                },
                _ => not_allowed(),
            }
        }
        _ => return None,
    };
    Some(response)
}

fn not_allowed() -> HttpResponse {
    HttpResponse::error(405, "method_not_allowed", "that method is not supported on this admin route")
}

async fn grants(env: &Env<'_>, service: &str, command: Command) -> Result<(), HttpResponse> {
    let (oauth, _) = ready(env).map_err(|e| HttpResponse::error(503, "oauth_unavailable", e))?;
    oauth.grants.run(service, &command).await.map(|_| ()).map_err(storage)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    password: String,
    attributes: Option<Json>,
}

/// Attributes as sent, checked (`None`: not sent).
fn attributes(value: Option<&Json>) -> Result<Option<serde_json::Map<String, Json>>, HttpResponse> {
    value.map(crate::rows::validate_attributes).transpose().map_err(|e| HttpResponse::error(400, "invalid_request", e))
}

async fn create_user(request: &HttpRequest, env: &Env<'_>, service: &str) -> HttpResponse {
    let input: NewUser = match body(request) {
        Ok(input) => input,
        Err(r) => return r,
    };
    let username = match password::normalize_username(&input.username) {
        Ok(u) => u,
        Err(e) => return HttpResponse::error(400, "invalid_request", e),
    };
    if let Err(e) = password::check_password_rules(&input.password) {
        return HttpResponse::error(400, "invalid_request", e);
    }
    let attributes = match attributes(input.attributes.as_ref()) {
        Ok(a) => a.unwrap_or_default(),
        Err(r) => return r,
    };
    let Some(oauth) = env.oauth else { return HttpResponse::error(503, "oauth_unavailable", "OAuth is not available") };
    let key = password::user_key(service, &username);
    match env.kv.get(&key).await {
        Ok(Some(_)) => {
            return HttpResponse::error(
                409,
                "user_exists",
                format!("service {service:?} already has a user {username:?}"),
            )
        }
        Ok(None) => {}
        Err(e) => return storage(e),
    }
    let hash = match password::hash(oauth.hasher, &input.password).await {
        Ok(h) => h,
        Err(e) => return HttpResponse::error(503, "unavailable", e),
    };
    let record = UserRecord {
        username: username.clone(),
        password: hash,
        disabled: false,
        created_ms: env.now_ms,
        updated_ms: env.now_ms,
        attributes,
    };
    if let Err(r) = save_user(env, service, &record).await {
        return r;
    }
    // A user of the same name deleted earlier was blocked; this one starts fresh.
    if let Err(r) = grants(env, service, Command::UnblockUser { sub: username.clone() }).await {
        return r;
    }
    HttpResponse::json(201, &user_summary(service, &record))
}

fn user_summary(service: &str, u: &UserRecord) -> Json {
    json!({"service": service, "username": u.username, "disabled": u.disabled, "created_ms": u.created_ms, "updated_ms": u.updated_ms, "attributes": u.attributes})
}

async fn save_user(env: &Env<'_>, service: &str, record: &UserRecord) -> Result<(), HttpResponse> {
    let text = serde_json::to_string(record).unwrap_or_default();
    let meta = json!({"disabled": record.disabled, "created_ms": record.created_ms});
    env.kv.put(&password::user_key(service, &record.username), &text, Some(meta)).await.map_err(storage)
}

async fn list_users(env: &Env<'_>, service: &str) -> HttpResponse {
    let prefix = password::user_key(service, "");
    match env.kv.list(&prefix).await {
        Ok(entries) => {
            let users: Vec<Json> = entries
                .into_iter()
                .map(|(key, meta)| {
                    let meta = meta.unwrap_or(Json::Null);
                    json!({"username": &key[prefix.len()..], "disabled": meta.get("disabled").cloned().unwrap_or(json!(false)), "created_ms": meta.get("created_ms")})
                })
                .collect();
            HttpResponse::json(200, &json!({"service": service, "users": users}))
        }
        Err(e) => storage(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserChange {
    password: Option<String>,
    disabled: Option<bool>,
    /// Replaces every attribute (`{}` clears them).
    attributes: Option<Json>,
}

async fn load_user(env: &Env<'_>, service: &str, name: &str) -> Result<UserRecord, HttpResponse> {
    let username = password::normalize_username(name).map_err(|e| HttpResponse::error(404, "unknown_user", e))?;
    match env.kv.get(&password::user_key(service, &username)).await {
        Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| storage(e.to_string())),
        Ok(None) => {
            Err(HttpResponse::error(404, "unknown_user", format!("service {service:?} has no user {username:?}")))
        }
        Err(e) => Err(storage(e)),
    }
}

async fn update_user(request: &HttpRequest, env: &Env<'_>, service: &str, name: &str) -> HttpResponse {
    let change: UserChange = match body(request) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let new_attributes = match attributes(change.attributes.as_ref()) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut user = match load_user(env, service, name).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Some(new_attributes) = new_attributes {
        user.attributes = new_attributes;
    }
    let Some(oauth) = env.oauth else { return HttpResponse::error(503, "oauth_unavailable", "OAuth is not available") };
    if let Some(new_password) = &change.password {
        if let Err(e) = password::check_password_rules(new_password) {
            return HttpResponse::error(400, "invalid_request", e);
        }
        user.password = match password::hash(oauth.hasher, new_password).await {
            Ok(h) => h,
            Err(e) => return HttpResponse::error(503, "unavailable", e),
        };
    }
    if let Some(disabled) = change.disabled {
        user.disabled = disabled;
    }
    user.updated_ms = env.now_ms;
    // Disabling, or a password reset, ends what was granted, issued or opened before (the grant
    // store first: a sign-in that still reads the old record from KV is then refused as stale).
    if user.disabled || change.password.is_some() {
        let command =
            Command::RevokeUser { sub: user.username.clone(), block: user.disabled, changed_ms: user.updated_ms };
        if let Err(r) = grants(env, service, command).await {
            return r;
        }
    }
    if !user.disabled {
        if let Err(r) = grants(env, service, Command::UnblockUser { sub: user.username.clone() }).await {
            return r;
        }
    }
    if let Err(r) = save_user(env, service, &user).await {
        return r;
    }
    HttpResponse::json(200, &user_summary(service, &user))
}

async fn delete_user(env: &Env<'_>, service: &str, name: &str) -> HttpResponse {
    let user = match load_user(env, service, name).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    // The grant store first: if ending the grants fails, the user stays (and the deletion can be
    // tried again); deleting the record first would leave grants no later call could find.
    let revoke = Command::RevokeUser { sub: user.username.clone(), block: true, changed_ms: env.now_ms };
    if let Err(r) = grants(env, service, revoke).await {
        return r;
    }
    if let Err(e) = env.kv.delete(&password::user_key(service, &user.username)).await {
        return storage(e);
    }
    HttpResponse::new(204)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
    client_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    /// A public client (PKCE only, no secret); default false.
    #[serde(default)]
    public: bool,
}

async fn create_client(request: &HttpRequest, env: &Env<'_>, service: &str) -> HttpResponse {
    let input: NewClient = match body(request) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(oauth) = env.oauth else { return HttpResponse::error(503, "oauth_unavailable", "OAuth is not available") };
    let checked = registration::check_redirect_uris(input.redirect_uris)
        .and_then(|uris| Ok((uris, registration::check_name(input.client_name.as_deref())?)));
    let (redirect_uris, client_name) = match checked {
        Ok(v) => v,
        Err(e) => return HttpResponse::error(400, e.code, e.description),
    };
    let (secret, secret_hash) = if input.public {
        (None, None)
    } else {
        match client::new_secret() {
            Ok((s, h)) => (Some(s), Some(h)),
            Err(e) => return HttpResponse::error(503, "unavailable", e),
        }
    };
    let client_id = match client::new_client_id() {
        Ok(id) => id,
        Err(e) => return HttpResponse::error(503, "unavailable", e),
    };
    let record = ClientRecord {
        client_id,
        client_name,
        redirect_uris,
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        token_endpoint_auth_method: if input.public { AUTH_NONE.into() } else { AUTH_BASIC.into() },
        secret_hash,
        created_ms: env.now_ms,
        dynamic: false,
        service: Some(service.to_string()),
        last_used_ms: None,
    };
    let record = match registration::check_record(record) {
        Ok(record) => record,
        Err(e) => return HttpResponse::error(400, e.code, e.description),
    };
    if let Err(e) = store_client(oauth, &record).await {
        return storage(e);
    }
    if let Err(e) = env
        .kv
        .put(&client::service_index_key(service, &record.client_id), &record.client_id, Some(summary(&record)))
        .await
    {
        return storage(e);
    }
    let mut out = summary(&record);
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
        out["note"] = json!("Store the client secret now: it is shown only once. The client may send it as client_secret_basic or client_secret_post.");
    }
    HttpResponse::json(201, &out).with_header("cache-control", "no-store")
}

fn summary(c: &ClientRecord) -> Json {
    json!({
        "client_id": c.client_id, "client_name": c.client_name, "redirect_uris": c.redirect_uris,
        "token_endpoint_auth_method": c.token_endpoint_auth_method, "dynamic": c.dynamic, "service": c.service,
        "created_ms": c.created_ms,
    })
}

async fn list_clients(env: &Env<'_>, service: &str) -> HttpResponse {
    match env.kv.list(&client::service_index_key(service, "")).await {
        Ok(entries) => HttpResponse::json(
            200,
            &json!({"service": service, "clients": entries.into_iter().filter_map(|(_, m)| m).collect::<Vec<_>>()}),
        ),
        Err(e) => storage(e),
    }
}

/// Stored clients listed at most (each costs a KV read; dynamic clients expire when idle).
const MAX_LISTED_CLIENTS: usize = 200;

/// Every stored client (registered through `/register` or created here), newest first.
/// Metadata-document clients are not stored: each service lists its own (`oauth_document_clients`).
async fn list_all_clients(env: &Env<'_>) -> HttpResponse {
    let entries = match env.kv.list(&client::record_key("")).await {
        Ok(e) => e,
        Err(e) => return storage(e),
    };
    let total = entries.len();
    let mut clients = Vec::new();
    for (key, _) in entries.into_iter().take(MAX_LISTED_CLIENTS) {
        match load_client(env, &key[client::record_key("").len()..]).await {
            Ok(Some(record)) => clients.push(summary(&record)),
            Ok(None) => {} // deleted or expired since the listing
            Err(e) => return storage(e),
        }
    }
    crate::sort::sort_by_key(&mut clients, |c| std::cmp::Reverse(c["created_ms"].as_u64().unwrap_or(0)));
    HttpResponse::json(200, &json!({"clients": clients, "total": total, "listed_at_most": MAX_LISTED_CLIENTS}))
}

/// Deletes a client and ends its grants at once (in every service it may have been used with).
async fn delete_client(env: &Env<'_>, config: &Config, service: Option<&str>, id: &str) -> HttpResponse {
    let record = match load_client(env, id).await {
        Ok(Some(r)) if service.is_none() || r.service.as_deref() == service => r,
        Ok(_) => {
            return HttpResponse::error(
                404,
                "unknown_client",
                format!("no client {id:?}{}", service.map(|s| format!(" for service {s:?}")).unwrap_or_default()),
            )
        }
        Err(e) => return storage(e),
    };
    // Tombstones first: a /token in flight that rewrites the record (its last use) checks them
    // after its write and undoes it, so the deletion below cannot be undone.
    let services: Vec<String> = match &record.service {
        Some(s) => vec![s.clone()],
        None => config.services.keys().cloned().collect(),
    };
    for s in services {
        if let Err(r) = grants(env, &s, Command::RevokeClient { client_id: id.to_string() }).await {
            return r;
        }
    }
    if let Err(e) = env.kv.delete(&client::record_key(id)).await {
        return storage(e);
    }
    if let Some(s) = &record.service {
        let _ = env.kv.delete(&client::service_index_key(s, id)).await;
    }
    HttpResponse::new(204)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginUrl {
    url: String,
}

async fn set_login(request: &HttpRequest, env: &Env<'_>, service: &str) -> HttpResponse {
    let input: LoginUrl = match body(request) {
        Ok(i) => i,
        Err(r) => return r,
    };
    if let Err(e) = custom_login::check_url(&input.url) {
        return HttpResponse::error(400, "invalid_request", format!("url {e}"));
    }
    let keys = match ready(env) {
        Ok((_, keys)) => keys,
        Err(e) => return HttpResponse::error(503, "oauth_unavailable", e),
    };
    let nonce = match crate::auth::random_token(16) {
        Ok(n) => n,
        Err(e) => return HttpResponse::error(503, "unavailable", e),
    };
    let config = LoginConfig { url: input.url, kid: keys.current_kid().to_string(), nonce, created_ms: env.now_ms };
    let Some(secret) = custom_login::secret(keys, service, &config) else {
        return HttpResponse::error(503, "unavailable", "no signing key");
    };
    if let Err(e) =
        env.kv.put(&custom_login::config_key(service), &serde_json::to_string(&config).unwrap_or_default(), None).await
    {
        return storage(e);
    }
    HttpResponse::json(
        200,
        &json!({
            "service": service, "url": config.url, "secret": custom_login::secret_text(&secret),
            "note": "Store the secret now: it is shown only once. Your login page verifies the request handle (HS256) and signs the assertion (HS256) with the 32 bytes this base64url string encodes.",
        }),
    )
    .with_header("cache-control", "no-store")
}
