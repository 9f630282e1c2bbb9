//! Custom login URL: a service can hand sign-in to its own page.
//!
//! 1. The worker redirects the browser to `<url>?request=<handle>`. The handle is an HS256 JWT
//!    signed with the service's login secret, valid 10 minutes: `{iss: <worker>, aud: <service>,
//!    jti, typ: "dbmcp-login-request", client_name, scope, return_to, flow}` (`flow` is opaque).
//! 2. The page signs the user in its own way, then sends the browser to `return_to` (GET) with
//!    `request=<the same handle>&assertion=<jwt>`, the assertion an HS256 JWT with the same secret:
//!    `{iss: <service>, aud: <worker issuer>, sub: <username>, request: <handle jti>, exp: <= 5 min}`.
//! 3. The worker checks both signatures, the binding of the assertion to the handle, the flow
//!    cookie, and uses each handle once; then shows its consent page for that user.
//!
//! The secret is never stored: it is derived from the signing key (`kid` recorded) and a random
//! nonce kept in KV `oauth_login:<service>`, so a KV leak alone does not reveal it.

use crate::b64::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::tokens::{hs256_sign, hs256_verify, SigningKeys};
use super::FLOW_SECONDS;

pub const REQUEST_TYPE: &str = "dbmcp-login-request";
pub const MAX_ASSERTION_SECONDS: u64 = 300;

pub fn config_key(service: &str) -> String {
    format!("oauth_login:{service}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginConfig {
    pub url: String,
    pub kid: String,
    pub nonce: String,
    pub created_ms: u64,
}

pub fn secret(keys: &SigningKeys, service: &str, config: &LoginConfig) -> Option<[u8; 32]> {
    keys.derive(Some(&config.kid), &format!("dbmcp custom login v1|{service}|{}", config.nonce))
}

/// The secret as handed to the service's administrator (base64url of 32 bytes).
pub fn secret_text(secret: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(secret)
}

pub fn check_url(url: &str) -> Result<(), String> {
    super::redirect::validate(url)?;
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err("must be an http(s) URL".into())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub iss: String,
    pub aud: String,
    pub jti: String,
    pub typ: String,
    pub client_name: String,
    pub scope: String,
    pub return_to: String,
    pub flow: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assertion {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub request: String,
}

pub fn sign_request(secret: &[u8], request: &LoginRequest, now_s: u64) -> Result<String, String> {
    hs256_sign(secret, request, now_s, now_s + FLOW_SECONDS)
}

/// The service a handle claims to be for (unverified: only to find which secret to check with).
pub fn claimed_service(handle: &str) -> Option<String> {
    let payload = handle.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("aud")?.as_str().map(str::to_string)
}

/// Checks a returned handle and its assertion; the signed-in user and the handle on success.
pub fn verify_return(
    secret: &[u8],
    service: &str,
    issuer: &str,
    handle: &str,
    assertion: &str,
    now_s: u64,
) -> Result<(LoginRequest, String, u64), String> {
    let (request, request_exp) = hs256_verify::<LoginRequest>(secret, handle, now_s)
        .map_err(|e| format!("the login request handle is not valid: {e}"))?;
    if request.typ != REQUEST_TYPE || request.aud != service || request.iss != issuer {
        return Err("the login request handle is not one this server issued for this service".into());
    }
    let (claims, exp) = hs256_verify::<Assertion>(secret, assertion, now_s)
        .map_err(|e| format!("the login assertion is not valid: {e}"))?;
    if exp > now_s + MAX_ASSERTION_SECONDS + 30 {
        return Err(format!("the login assertion must expire within {MAX_ASSERTION_SECONDS} seconds"));
    }
    if claims.aud != issuer || claims.iss != service {
        return Err("the login assertion is addressed to another server or comes from another service".into());
    }
    if claims.request != request.jti {
        return Err("the login assertion answers another login request".into());
    }
    let sub = super::password::normalize_username(&claims.sub)
        .map_err(|e| format!("the login assertion's sub is not a valid username: {e}"))?;
    Ok((request, sub, request_exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> ([u8; 32], LoginRequest) {
        let keys = SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let config =
            LoginConfig { url: "https://login.example/sso".into(), kid: "k1".into(), nonce: "n".into(), created_ms: 0 };
        let secret = secret(&keys, "demo", &config).unwrap();
        let request = LoginRequest {
            iss: "https://h".into(),
            aud: "demo".into(),
            jti: "req1".into(),
            typ: REQUEST_TYPE.into(),
            client_name: "Claude".into(),
            scope: "mcp:read".into(),
            return_to: "https://h/authorize/callback".into(),
            flow: "opaque".into(),
        };
        (secret, request)
    }

    fn assertion(secret: &[u8], sub: &str, request: &str, exp: u64) -> String {
        hs256_sign(
            secret,
            Assertion { iss: "demo".into(), aud: "https://h".into(), sub: sub.into(), request: request.into() },
            100,
            exp,
        )
        .unwrap()
    }

    #[test]
    fn login_urls_are_web_addresses_with_ascii_hosts() {
        assert_eq!(check_url("https://login.example/sso"), Ok(()));
        assert_eq!(check_url("https://xn--bcher-kva.example/sso"), Ok(()));
        assert!(check_url("https://bücher.example/sso").unwrap_err().contains("ASCII"));
        assert!(check_url("https://b%C3%BCcher.example/sso").unwrap_err().contains("not a valid URI"));
        assert!(check_url("cursor://login").unwrap_err().contains("http(s)"));
    }

    #[test]
    fn accepts_a_matching_assertion() {
        let (secret, request) = setup();
        let handle = sign_request(&secret, &request, 100).unwrap();
        assert_eq!(claimed_service(&handle).as_deref(), Some("demo"));
        let (back, sub, _) =
            verify_return(&secret, "demo", "https://h", &handle, &assertion(&secret, "Alice", "req1", 200), 150)
                .unwrap();
        assert_eq!((back.jti.as_str(), sub.as_str()), ("req1", "alice"));
    }

    #[test]
    fn refuses_forged_mismatched_or_long_assertions() {
        let (secret, request) = setup();
        let handle = sign_request(&secret, &request, 100).unwrap();
        let check = |a: &str| verify_return(&secret, "demo", "https://h", &handle, a, 150).unwrap_err();
        assert!(check(&assertion(b"wrong secret", "alice", "req1", 200)).contains("not valid"));
        assert!(check(&assertion(&secret, "alice", "req2", 200)).contains("another login request"));
        assert!(check(&assertion(&secret, "alice", "req1", 100 + 3600)).contains("within"));
        assert!(check(&assertion(&secret, "a:b", "req1", 200)).contains("sub"));
        assert!(verify_return(&secret, "other", "https://h", &handle, &assertion(&secret, "alice", "req1", 200), 150)
            .is_err());
    }
}
