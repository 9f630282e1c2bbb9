//! The authorization server's machine-facing endpoints: discovery (`/.well-known/*`),
//! registration (`/register`), tokens (`/token`), revocation (`/revoke`). The browser-facing
//! `/authorize` pages are in `oauth_authorize`.

use serde_json::{json, Value as Json};

use super::challenge::Challenge;
use super::oauth_clients::find_client;
use super::{Env, HttpRequest, HttpResponse};
use crate::auth::{random_token, sha256_hex, ExpiringKv};
use crate::config::{AuthMode, Config};
use crate::oauth::cimd::{self, DocumentCache, DocumentFetcher};
use crate::oauth::client::{self, ClientRecord};
use crate::oauth::form::Params;
use crate::oauth::grants::{Command, GrantStore, Reply, GLOBAL_SHARD};
use crate::oauth::password::PasswordHasher;
use crate::oauth::record_viewer;
use crate::oauth::tokens::{AccessClaims, AccessError, Ed25519Signer, SigningKeys};
use crate::oauth::{
    self, metadata, registration, service_of_token, OAuthError, ACCESS_TOKEN_SECONDS, CODE_PREFIX, REFRESH_TOKEN_PREFIX,
};

/// Registrations allowed per caller IP and hour unless `OAUTH_REGISTRATIONS_PER_HOUR` says otherwise.
pub const DEFAULT_REGISTRATIONS_PER_HOUR: u32 = 60;
/// A client's `last_used_ms` (and KV expiry) is refreshed at most this often.
const CLIENT_TOUCH_MS: u64 = 24 * 3600 * 1000;

/// What the authorization server needs besides the request.
pub struct OAuthEnv<'a> {
    /// Parsed `OAUTH_SIGNING_KEY`, or why it is unusable.
    pub keys: Result<SigningKeys, String>,
    /// Signs access tokens (the runtime's WebCrypto at the edge).
    pub signer: &'a dyn Ed25519Signer,
    pub grants: &'a dyn GrantStore,
    pub hasher: &'a dyn PasswordHasher,
    pub expiring_kv: &'a dyn ExpiringKv,
    pub registrations_per_hour: u32,
    /// Fetches Client ID Metadata Documents (`client_id` = an https URL) ...
    pub client_documents: &'a dyn DocumentFetcher,
    /// ... and keeps the valid ones for their cache lifetime.
    pub document_cache: &'a DocumentCache,
}

impl OAuthEnv<'_> {
    pub fn keys(&self) -> Result<&SigningKeys, String> {
        self.keys
            .as_ref()
            .map_err(|e| format!("OAuth is not configured: {e} (set the OAUTH_SIGNING_KEY secret; see README)"))
    }
}

/// The OAuth environment with usable keys, or the 503 to answer.
pub fn ready<'e>(env: &'e Env<'_>) -> Result<(&'e OAuthEnv<'e>, &'e SigningKeys), String> {
    let oauth = env.oauth.ok_or_else(|| "OAuth is not available in this deployment".to_string())?;
    let keys = oauth.keys()?;
    Ok((oauth, keys))
}

pub fn oauth_error(e: &OAuthError) -> HttpResponse {
    let mut response =
        HttpResponse::error(e.status, e.code, e.description.clone()).with_header("cache-control", "no-store");
    if e.status == 401 {
        response = response.with_header("www-authenticate", Challenge::basic().param("realm", "dbmcp").header_value());
    }
    response
}

fn unavailable(why: impl Into<String>) -> OAuthError {
    OAuthError::new(503, "temporarily_unavailable", why)
}

/// The caller's address (for rate limits).
pub fn client_ip(request: &HttpRequest) -> String {
    request.header("cf-connecting-ip").unwrap_or("unknown").to_string()
}

/// A stored client (registered, or created by an administrator). OAuth requests look clients up
/// with `oauth_clients::find_client`, which also knows metadata document clients.
pub async fn load_client(env: &Env<'_>, client_id: &str) -> Result<Option<ClientRecord>, String> {
    if client_id.is_empty() || client_id.len() > 128 {
        return Ok(None);
    }
    Ok(env.kv.get(&client::record_key(client_id)).await?.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Stores a client; dynamic ones expire after a period without use.
pub async fn store_client(oauth: &OAuthEnv<'_>, record: &ClientRecord) -> Result<(), String> {
    let ttl = record.dynamic.then_some(oauth::DYNAMIC_CLIENT_IDLE_SECONDS);
    let text = serde_json::to_string(record).map_err(|e| e.to_string())?;
    // Creation already refused larger records (`registration::check_record`); this keeps any
    // other path from storing one.
    if text.len() > registration::MAX_RECORD_BYTES {
        return Err(format!("the client record is too large to store ({} bytes)", text.len()));
    }
    oauth.expiring_kv.put_expiring(&client::record_key(&record.client_id), &text, None, ttl).await
}

pub async fn handle(request: &HttpRequest, segments: &[&str], config: &Config, env: &Env<'_>) -> HttpResponse {
    match (request.method.as_str(), segments) {
        ("GET" | "HEAD", [".well-known", "oauth-protected-resource", "mcp", service]) => {
            match config.service(service) {
                Some(s) if s.auth == AuthMode::Required => cacheable_if_pinned(
                    config,
                    HttpResponse::json(200, &metadata::protected_resource(&request.origin, &s.name, &s.label)),
                ),
                Some(_) => HttpResponse::error(
                    404,
                    "not_found",
                    format!("service {service:?} is open: it needs no authorization"),
                ),
                None => HttpResponse::error(404, "unknown_service", format!("no service named {service:?}")),
            }
        }
        ("GET" | "HEAD", [".well-known", "oauth-protected-resource"]) => {
            // Each service is its own protected resource; there is none at the origin.
            let urls: Vec<String> =
                config.services.keys().map(|s| metadata::resource_metadata_url(&request.origin, s)).collect();
            HttpResponse::json(
                404,
                &json!({"error": "not_found", "error_description": "each MCP endpoint has its own metadata", "resource_metadata": urls}),
            )
        }
        ("GET" | "HEAD", [".well-known", "oauth-authorization-server"]) => {
            cacheable_if_pinned(config, HttpResponse::json(200, &metadata::authorization_server(&request.origin)))
        }
        ("GET" | "HEAD", [".well-known", "openid-configuration"]) => HttpResponse::json(
            404,
            &json!({"error": "not_found", "error_description": "this is an OAuth 2.1 authorization server, not an OpenID Provider",
                    "authorization_server_metadata": format!("{}/.well-known/oauth-authorization-server", metadata::issuer(&request.origin))}),
        ),
        ("GET" | "HEAD", [".well-known", "jwks.json"]) => match ready(env) {
            Ok((_, keys)) => cacheable(HttpResponse::json(200, &keys.jwks())),
            Err(why) => oauth_error(&unavailable(why)),
        },
        ("POST", ["register"]) => register(request, env).await.unwrap_or_else(|e| oauth_error(&e)),
        ("POST", ["token"]) => token(request, config, env).await.unwrap_or_else(|e| oauth_error(&e)),
        ("POST", ["revoke"]) => revoke(request, config, env).await.unwrap_or_else(|e| oauth_error(&e)),
        (_, [".well-known", ..]) if request.method != "GET" => {
            HttpResponse::error(405, "method_not_allowed", "use GET").with_header("allow", "GET")
        }
        (_, ["register" | "token" | "revoke"]) => {
            HttpResponse::error(405, "method_not_allowed", "use POST").with_header("allow", "POST")
        }
        _ => HttpResponse::error(404, "not_found", format!("nothing at {}", request.path)),
    }
}

/// Discovery documents are cacheable when their URLs are pinned by PUBLIC_ORIGIN; without it they
/// follow the request's Host, so no cache may keep one.
fn cacheable_if_pinned(config: &Config, response: HttpResponse) -> HttpResponse {
    if config.public_origin.is_some() {
        cacheable(response)
    } else {
        response.with_header("cache-control", "no-store")
    }
}

fn cacheable(response: HttpResponse) -> HttpResponse {
    response.with_header("cache-control", "public, max-age=300")
}

async fn register(request: &HttpRequest, env: &Env<'_>) -> Result<HttpResponse, OAuthError> {
    let (oauth, _) = ready(env).map_err(unavailable)?;
    // Counted like sign-in attempts: an IPv6 caller rotating addresses inside its /64 is one caller.
    let bucket = format!("register:{}", crate::oauth::login_limit::address_bucket(&client_ip(request)));
    let limit = Command::Hit { bucket, limit: oauth.registrations_per_hour, window_ms: 3600 * 1000 };
    if let Reply::Limited { allowed: false, retry_after_s } =
        oauth.grants.run(GLOBAL_SHARD, &limit).await.map_err(unavailable)?
    {
        return Ok(oauth_error(&OAuthError::new(
            429,
            "too_many_requests",
            "too many client registrations from this address; try again later",
        ))
        .with_header("retry-after", retry_after_s.to_string()));
    }
    let body: Json = serde_json::from_slice(&request.body)
        .map_err(|e| OAuthError::new(400, "invalid_client_metadata", format!("the body must be a JSON object: {e}")))?;
    let (record, secret) = registration::register(&body, env.now_ms)?;
    store_client(oauth, &record).await.map_err(unavailable)?;
    Ok(HttpResponse::json(201, &registration::response(&record, secret.as_deref()))
        .with_header("cache-control", "no-store"))
}

fn form_of(request: &HttpRequest) -> Result<Params, OAuthError> {
    if let Some(ct) = request.header("content-type") {
        if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
        }
    }
    let text = std::str::from_utf8(&request.body).map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
    Ok(Params::from_text(text))
}

/// The authenticated client of a token or revocation request.
async fn authenticated_client(request: &HttpRequest, form: &Params, env: &Env<'_>) -> Result<ClientRecord, OAuthError> {
    let presented = client::presented(request.header("authorization"), form)?;
    let issuer = metadata::issuer(&request.origin);
    let record = find_client(env, &issuer, &presented.client_id).await.map_err(|e| e.oauth())?;
    client::authenticate(record.as_ref(), &presented)?;
    Ok(record.expect("authenticated"))
}

fn param<'p>(form: &'p Params, name: &str) -> Result<Option<&'p str>, OAuthError> {
    form.get(name).map_err(OAuthError::invalid_request)
}

fn required<'p>(form: &'p Params, name: &str) -> Result<&'p str, OAuthError> {
    param(form, name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

fn refused(reply: Reply) -> OAuthError {
    match reply {
        Reply::Refused { error, description } => {
            let code = match error.as_str() {
                "invalid_target" => "invalid_target",
                "invalid_scope" => "invalid_scope",
                _ => "invalid_grant",
            };
            OAuthError::new(400, code, description)
        }
        other => unavailable(format!("unexpected answer from the grant store: {other:?}")),
    }
}

pub(crate) async fn token(request: &HttpRequest, config: &Config, env: &Env<'_>) -> Result<HttpResponse, OAuthError> {
    let (oauth, keys) = ready(env).map_err(unavailable)?;
    let form = form_of(request)?;
    let grant_type = required(&form, "grant_type")?;
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            format!("grant_type {grant_type:?} is not supported; use authorization_code or refresh_token"),
        ));
    }
    let client = authenticated_client(request, &form, env).await?;
    let service_exists = |s: &str| config.service(s).is_some_and(|s| s.auth == AuthMode::Required);
    let new_refresh = format!("{REFRESH_TOKEN_PREFIX}.{{service}}.{}", random_token(32).map_err(unavailable)?);

    let (service, reply, refresh_token) = if grant_type == "authorization_code" {
        let code = required(&form, "code")?;
        let verifier = required(&form, "code_verifier")?;
        let service = service_of_token(code, CODE_PREFIX)
            .filter(|s| service_exists(s))
            .ok_or_else(|| OAuthError::invalid_grant("the authorization code is unknown or expired"))?;
        let refresh_token = new_refresh.replace("{service}", service);
        let command = Command::ExchangeCode {
            code_hash: sha256_hex(code),
            client_id: client.client_id.clone(),
            redirect_uri: param(&form, "redirect_uri")?.map(str::to_string),
            code_verifier: verifier.to_string(),
            resource: param(&form, "resource")?.map(str::to_string),
            refresh_hash: sha256_hex(&refresh_token),
        };
        (service, oauth.grants.run(service, &command).await.map_err(unavailable)?, refresh_token)
    } else {
        if !client.allows_refresh() {
            return Err(OAuthError::new(
                400,
                "unauthorized_client",
                "this client did not register the refresh_token grant type",
            ));
        }
        let old = required(&form, "refresh_token")?;
        let service = service_of_token(old, REFRESH_TOKEN_PREFIX)
            .filter(|s| service_exists(s))
            .ok_or_else(|| OAuthError::invalid_grant("the refresh token is unknown, expired or revoked"))?;
        let refresh_token = new_refresh.replace("{service}", service);
        let command = Command::Refresh {
            refresh_hash: sha256_hex(old),
            client_id: client.client_id.clone(),
            new_refresh_hash: sha256_hex(&refresh_token),
            scope: param(&form, "scope")?.map(str::to_string),
            resource: param(&form, "resource")?.map(str::to_string),
        };
        (service, oauth.grants.run(service, &command).await.map_err(unavailable)?, refresh_token)
    };
    let Reply::Granted { grant_id, client_id, sub, scope, resource } = reply else { return Err(refused(reply)) };
    let now_s = env.now_ms / 1000;
    let claims = AccessClaims {
        iss: metadata::issuer(&request.origin),
        sub,
        aud: resource,
        client_id,
        scope: scope.clone(),
        jti: random_token(16).map_err(unavailable)?,
        gid: grant_id,
        exp: now_s + ACCESS_TOKEN_SECONDS,
    };
    debug_assert!(claims.aud.ends_with(&format!("/mcp/{service}")));
    let access_token = keys
        .issue_access(&claims, now_s, oauth.signer)
        .await
        .map_err(|e| OAuthError::new(500, "server_error", format!("the access token could not be signed: {e}")))?;
    let allows_refresh = client.allows_refresh();
    touch_client(oauth, env.kv, env.now_ms, service, client).await;
    let mut body = json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS, "scope": scope });
    if allows_refresh {
        body["refresh_token"] = json!(refresh_token);
    }
    Ok(HttpResponse::json(200, &body).with_header("cache-control", "no-store").with_header("pragma", "no-cache"))
}

/// Keeps a used dynamic client from expiring (coarsely: KV allows few writes per key). This
/// rewrites the whole record, so it must never outlive a deletion racing it: a deletion writes
/// its tombstone to the grant store before deleting the record, and this write looks for the
/// tombstone after it landed and, if there is one, deletes the record again.
async fn touch_client(
    oauth: &OAuthEnv<'_>,
    kv: &dyn crate::auth::KvStore,
    now_ms: u64,
    service: &str,
    mut client: ClientRecord,
) {
    // A metadata document client is fetched, never stored; the record pages' client is built in.
    if cimd::is_document_client_id(&client.client_id) || record_viewer::is_record_viewer(&client.client_id) {
        return;
    }
    if client.last_used_ms.is_some_and(|t| now_ms.saturating_sub(t) < CLIENT_TOUCH_MS) {
        return;
    }
    client.last_used_ms = Some(now_ms);
    // Best effort: bookkeeping must not fail a token request.
    if store_client(oauth, &client).await.is_err() {
        return;
    }
    let check = Command::ClientDeleted { client_id: client.client_id.clone() };
    if let Ok(Reply::Revoked { revoked: true }) = oauth.grants.run(service, &check).await {
        let _ = kv.delete(&client::record_key(&client.client_id)).await;
    }
}

async fn revoke(request: &HttpRequest, config: &Config, env: &Env<'_>) -> Result<HttpResponse, OAuthError> {
    let (oauth, keys) = ready(env).map_err(unavailable)?;
    let form = form_of(request)?;
    let token = required(&form, "token")?;
    let client = authenticated_client(request, &form, env).await?;
    let issuer = metadata::issuer(&request.origin);
    // RFC 7009 2.2: unknown, invalid or foreign tokens get the same 200.
    if let Some(service) = service_of_token(token, REFRESH_TOKEN_PREFIX).filter(|s| config.service(s).is_some()) {
        let command = Command::RevokeRefresh { refresh_hash: sha256_hex(token), client_id: client.client_id.clone() };
        oauth.grants.run(service, &command).await.map_err(unavailable)?;
    } else {
        match keys.verify_access(token, &issuer, None, env.now_ms / 1000, true, oauth.signer).await {
            Ok(claims) => {
                // An access token cannot be recalled (it is checked without storage); its grant
                // ends, so it is not renewed, and it dies within its lifetime.
                let service = crate::oauth::authorize::service_of_resource(&issuer, &claims.aud).map(str::to_string);
                if let Some(service) = service.filter(|s| config.service(s).is_some()) {
                    let command = Command::RevokeGrant { grant_id: claims.gid, client_id: client.client_id.clone() };
                    oauth.grants.run(&service, &command).await.map_err(unavailable)?;
                }
            }
            Err(AccessError::Invalid(_)) => {}
            // Not checked: a 200 would tell the client that a grant ended which may not have.
            Err(AccessError::Unavailable(why)) => return Err(unavailable(why)),
        }
    }
    Ok(HttpResponse::new(200).with_header("cache-control", "no-store"))
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::auth::{KvStore, MemoryKv};
    use crate::oauth::grants::MemoryGrants;
    use crate::oauth::password::NativeHasher;

    fn dynamic_client() -> ClientRecord {
        ClientRecord {
            client_id: "c-race".into(),
            client_name: None,
            redirect_uris: vec!["https://app.example/cb".into()],
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: "none".into(),
            secret_hash: None,
            created_ms: 1,
            dynamic: true,
            service: None,
            last_used_ms: None,
        }
    }

    /// Stored clients only: no document is ever fetched here.
    struct NoDocuments;

    #[async_trait(?Send)]
    impl crate::oauth::cimd::DocumentFetcher for NoDocuments {
        async fn fetch(
            &self,
            url: &str,
            _max_bytes: usize,
            _timeout_ms: u64,
        ) -> Result<crate::oauth::cimd::FetchedDocument, crate::oauth::cimd::FetchError> {
            panic!("no document fetch expected, got {url}")
        }
    }

    /// The authorization server's parts these tests share: memory stores, native hashing, one
    /// registration an hour, no metadata documents.
    fn test_oauth<'a>(
        keys: Result<SigningKeys, String>,
        signer: &'a dyn Ed25519Signer,
        grants: &'a MemoryGrants,
        kv: &'a MemoryKv,
        document_cache: &'a crate::oauth::cimd::DocumentCache,
    ) -> OAuthEnv<'a> {
        OAuthEnv {
            keys,
            signer,
            grants,
            hasher: &NativeHasher,
            expiring_kv: kv,
            registrations_per_hour: 1,
            client_documents: &NoDocuments,
            document_cache,
        }
    }

    fn touch(kv: &MemoryKv, grants: &MemoryGrants, client: ClientRecord) {
        let document_cache = Default::default();
        let oauth =
            test_oauth(Err("not needed".into()), &crate::oauth::signer::CompactSigner, grants, kv, &document_cache);
        futures_executor::block_on(touch_client(&oauth, kv, 10_000, "demo", client));
    }

    #[test]
    fn a_deletion_landing_while_token_is_in_flight_is_not_undone() {
        // /token read the client, then the whole deletion ran (tombstones, then the record went),
        // then /token's last-use rewrite lands: it must not bring the client back.
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let client = dynamic_client();
        let key = client::record_key(&client.client_id);
        futures_executor::block_on(async {
            kv.put(&key, &serde_json::to_string(&client).unwrap(), None).await.unwrap();
            grants.run("demo", &Command::RevokeClient { client_id: client.client_id.clone() }).await.unwrap();
            kv.delete(&key).await.unwrap();
        });
        touch(&kv, &grants, client);
        assert_eq!(kv.0.borrow().get(&key), None, "the deleted client was written back");
    }

    #[test]
    fn a_live_client_gets_its_last_use_recorded() {
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let client = dynamic_client();
        touch(&kv, &grants, client.clone());
        let stored: ClientRecord =
            serde_json::from_str(&kv.0.borrow()[&client::record_key(&client.client_id)]).unwrap();
        assert_eq!(stored.last_used_ms, Some(10_000));
    }

    /// Signs nothing: a runtime whose WebCrypto fails (a fault no real request can cause).
    struct BrokenSigner;

    #[async_trait(?Send)]
    impl Ed25519Signer for BrokenSigner {
        async fn public_key(&self, _: &[u8; 32]) -> Result<[u8; 32], String> {
            Err("unused".into())
        }
        async fn sign(&self, _: &[u8; 32], _: &[u8]) -> Result<[u8; 64], String> {
            Err("WebCrypto could not sign: OperationError".into())
        }
        async fn verify(&self, _: &[u8; 32], _: &[u8], _: &[u8; 64]) -> Result<bool, String> {
            Err("unused".into())
        }
    }

    /// `/token` needs neither sessions nor databases.
    struct Unused;

    #[async_trait(?Send)]
    impl super::super::SessionStore for Unused {
        async fn create(&self, _: &crate::mcp::session::Session, _: u64) -> Result<(), String> {
            unreachable!()
        }
        async fn touch(&self, _: &str, _: u64) -> Result<Option<crate::mcp::session::Session>, String> {
            unreachable!()
        }
        async fn save(&self, _: &crate::mcp::session::Session) -> Result<(), String> {
            unreachable!()
        }
        async fn delete(&self, _: &str) -> Result<(), String> {
            unreachable!()
        }
    }

    impl super::super::DatabaseOpener for Unused {
        fn open(
            &self,
            _: &crate::config::ServiceConfig,
            _: bool,
            _: &str,
        ) -> Result<std::rc::Rc<dyn crate::db::Database>, String> {
            unreachable!()
        }
    }

    /// Redeems a fresh authorization code at `/token` with `signer` signing the access token.
    fn exchange_code(signer: &dyn Ed25519Signer) -> HttpResponse {
        let services = json!({ "demo": { "database": { "kind": "d1", "binding": "DB" } } });
        let raw = crate::config::RawConfig { services: Some(&services), ..Default::default() };
        let config = crate::config::parse(raw).unwrap();
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        grants.now_ms.set(10_000);
        let client = dynamic_client();
        let code = format!("{CODE_PREFIX}.demo.{}", "c".repeat(32));
        futures_executor::block_on(async {
            kv.put(&client::record_key(&client.client_id), &serde_json::to_string(&client).unwrap(), None)
                .await
                .unwrap();
            let issue = Command::IssueCode {
                code_hash: sha256_hex(&code),
                grant_id: "g1".into(),
                client_id: client.client_id.clone(),
                sub: "alice".into(),
                scope: "mcp:read".into(),
                resource: "https://db.example.com/mcp/demo".into(),
                redirect_uri: "https://app.example/cb".into(),
                code_challenge: crate::oauth::pkce::challenge_of("v".repeat(43).as_str()),
                epoch: 0,
            };
            assert!(matches!(grants.run("demo", &issue).await.unwrap(), Reply::Done));
        });
        let document_cache = Default::default();
        let keys = SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
        let oauth = test_oauth(keys, signer, &grants, &kv, &document_cache);
        let schema_cache = Default::default();
        let env =
            Env { oauth: Some(&oauth), ..Env::required(Ok(&config), &Unused, &kv, &Unused, &schema_cache, 10_000) };
        let body = format!(
            "grant_type=authorization_code&code={code}&code_verifier={}&client_id=c-race&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
            "v".repeat(43)
        );
        let request = HttpRequest {
            method: "POST".into(),
            origin: "https://db.example.com".into(),
            path: "/token".into(),
            query: String::new(),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: body.into_bytes(),
        };
        futures_executor::block_on(handle(&request, &["token"], &config, &env))
    }

    #[test]
    fn a_signing_failure_at_the_token_endpoint_is_a_500_json_error() {
        let response = exchange_code(&BrokenSigner);
        assert_eq!(response.status, 500, "{}", String::from_utf8_lossy(&response.body));
        let body: Json = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "server_error");
        assert_eq!(
            body["error_description"],
            "the access token could not be signed: WebCrypto could not sign: OperationError"
        );
        assert!(!String::from_utf8_lossy(&response.body).contains("AAECAwQF"), "the seed must not leak");
        // The same exchange with a working signer answers a token: the failure came from signing.
        let response = exchange_code(&crate::oauth::signer::CompactSigner);
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        let body: Json = serde_json::from_slice(&response.body).unwrap();
        assert!(body["access_token"].as_str().unwrap().starts_with("eyJ"));
    }

    /// Signs with ed25519-compact; its verifications cannot run (a runtime fault no request can cause).
    struct VerifierDown;

    #[async_trait(?Send)]
    impl Ed25519Signer for VerifierDown {
        async fn public_key(&self, seed: &[u8; 32]) -> Result<[u8; 32], String> {
            crate::oauth::signer::CompactSigner.public_key(seed).await
        }
        async fn sign(&self, seed: &[u8; 32], message: &[u8]) -> Result<[u8; 64], String> {
            crate::oauth::signer::CompactSigner.sign(seed, message).await
        }
        async fn verify(&self, _: &[u8; 32], _: &[u8], _: &[u8; 64]) -> Result<bool, String> {
            Err("WebCrypto could not verify: OperationError".into())
        }
    }

    /// Sends `request` to the worker with signatures checked by `verifier` (client `c-race` registered).
    fn send(verifier: &dyn Ed25519Signer, request: HttpRequest) -> HttpResponse {
        let services = json!({ "demo": { "database": { "kind": "d1", "binding": "DB" } } });
        let raw = crate::config::RawConfig { services: Some(&services), ..Default::default() };
        let config = crate::config::parse(raw).unwrap();
        let kv = MemoryKv::default();
        let client = dynamic_client();
        futures_executor::block_on(kv.put(
            &client::record_key(&client.client_id),
            &serde_json::to_string(&client).unwrap(),
            None,
        ))
        .unwrap();
        let grants = MemoryGrants::default();
        let document_cache = Default::default();
        let keys = SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
        let oauth = test_oauth(keys, verifier, &grants, &kv, &document_cache);
        let schema_cache = Default::default();
        let env =
            Env { oauth: Some(&oauth), ..Env::required(Ok(&config), &Unused, &kv, &Unused, &schema_cache, 10_000_000) };
        futures_executor::block_on(super::super::handle(request, &env))
    }

    /// POSTs `initialize` to `/mcp/demo` with `token`, signatures checked by `verifier`.
    fn call_mcp(verifier: &dyn Ed25519Signer, token: &str) -> HttpResponse {
        let request = HttpRequest {
            method: "POST".into(),
            origin: "https://db.example.com".into(),
            path: "/mcp/demo".into(),
            query: String::new(),
            headers: vec![
                ("authorization".into(), format!("Bearer {token}")),
                ("content-type".into(), "application/json".into()),
                ("accept".into(), "application/json, text/event-stream".into()),
            ],
            body: br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#.to_vec(),
        };
        send(verifier, request)
    }

    /// POSTs `token` to `/revoke` as the public client `c-race`, signatures checked by `verifier`.
    fn revoke_token(verifier: &dyn Ed25519Signer, token: &str) -> HttpResponse {
        let request = HttpRequest {
            method: "POST".into(),
            origin: "https://db.example.com".into(),
            path: "/revoke".into(),
            query: String::new(),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: format!("token={token}&client_id=c-race").into_bytes(),
        };
        send(verifier, request)
    }

    /// An access token for `/mcp/demo` at https://db.example.com, valid at the tests' clock.
    fn demo_access_token() -> String {
        let claims = AccessClaims {
            iss: "https://db.example.com".into(),
            sub: "alice".into(),
            aud: "https://db.example.com/mcp/demo".into(),
            client_id: "c1".into(),
            scope: "mcp:read".into(),
            jti: "j".into(),
            gid: "g".into(),
            exp: 10_000 + ACCESS_TOKEN_SECONDS,
        };
        let keys = SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        futures_executor::block_on(keys.issue_access(&claims, 10_000, &crate::oauth::signer::CompactSigner)).unwrap()
    }

    #[test]
    fn a_verifier_that_cannot_run_is_a_503_at_the_mcp_endpoint_not_a_401() {
        let token = demo_access_token();
        let response = call_mcp(&VerifierDown, &token);
        assert_eq!(response.status, 503, "{}", String::from_utf8_lossy(&response.body));
        let body: Json = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
        assert_eq!(
            body["error_description"],
            "the access token's signature could not be checked: WebCrypto could not verify: OperationError"
        );
        // A working verifier refusing a bad signature is what answers 401.
        let (input, _) = token.rsplit_once('.').unwrap();
        let forged = format!("{input}.{}", "A".repeat(86));
        let response = call_mcp(&crate::oauth::signer::CompactSigner, &forged);
        assert_eq!(response.status, 401, "{}", String::from_utf8_lossy(&response.body));
        let body: Json = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(body["error_description"], "the access token's signature is invalid");
    }

    #[test]
    fn a_verifier_that_cannot_run_makes_revoke_a_503_not_a_200() {
        let token = demo_access_token();
        let response = revoke_token(&VerifierDown, &token);
        assert_eq!(response.status, 503, "{}", String::from_utf8_lossy(&response.body));
        let body: Json = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
        // Checked, genuine or not, the answer is 200 (RFC 7009).
        assert_eq!(revoke_token(&crate::oauth::signer::CompactSigner, &token).status, 200);
        let (input, _) = token.rsplit_once('.').unwrap();
        let forged = format!("{input}.{}", "A".repeat(86));
        assert_eq!(revoke_token(&crate::oauth::signer::CompactSigner, &forged).status, 200);
    }
}
