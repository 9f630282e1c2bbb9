//! The browser side of one authorization: the checked request travels between the login and
//! consent pages in a signed, short-lived handle (HS256 under a key derived from the signing
//! key), bound to a random nonce in a `__Host-` cookie. A POST must carry the cookie (SameSite=Lax
//! keeps it off cross-site POSTs) and a CSRF token that is an HMAC of that nonce.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::authorize::AuthorizationRequest;
use super::tokens::{hs256_sign, hs256_verify, SigningKeys};
use super::FLOW_SECONDS;
use crate::auth::constant_time_eq;

pub const COOKIE: &str = "__Host-dbmcp_flow";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stage {
    Login,
    Consent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub request: AuthorizationRequest,
    pub nonce: String,
    pub stage: Stage,
    /// The signed-in user (consent stage).
    pub sub: Option<String>,
    /// Unique per handle, for single use.
    pub jti: String,
}

fn key(keys: &SigningKeys, purpose: &str) -> Result<[u8; 32], String> {
    keys.derive(None, purpose).ok_or_else(|| "no signing key".to_string())
}

pub fn seal(keys: &SigningKeys, flow: &Flow, now_s: u64) -> Result<String, String> {
    hs256_sign(&key(keys, "dbmcp flow v1")?, flow, now_s, now_s + FLOW_SECONDS)
}

/// The flow and its expiry (seconds).
pub fn open(keys: &SigningKeys, handle: &str, now_s: u64) -> Result<(Flow, u64), String> {
    hs256_verify(&key(keys, "dbmcp flow v1")?, handle, now_s)
        .map_err(|e| format!("this sign-in page is no longer valid ({e}); start again from the application"))
}

pub fn csrf_token(keys: &SigningKeys, nonce: &str) -> Result<String, String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(keys, "dbmcp csrf v1")?).expect("any key length");
    mac.update(nonce.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The checks every form POST of the flow passes.
pub fn check_post(
    keys: &SigningKeys,
    flow: &Flow,
    cookie_nonce: Option<&str>,
    csrf: Option<&str>,
) -> Result<(), String> {
    let Some(cookie_nonce) = cookie_nonce else {
        return Err(
            "the sign-in cookie is missing: cookies must be enabled, and the form must be sent from this site".into()
        );
    };
    if !constant_time_eq(cookie_nonce.as_bytes(), flow.nonce.as_bytes()) {
        return Err("this form belongs to another sign-in in this browser; start again from the application".into());
    }
    let expected = csrf_token(keys, cookie_nonce)?;
    match csrf {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err("the form's security token is invalid (possible cross-site request forgery)".into()),
    }
}

pub fn set_cookie(nonce: &str) -> String {
    format!("{COOKIE}={nonce}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}")
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie(header: Option<&str>, name: &str) -> Option<String> {
    header?.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SigningKeys {
        SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap()
    }

    fn flow() -> Flow {
        Flow {
            request: AuthorizationRequest {
                client_id: "c".into(),
                redirect_uri: "https://a/cb".into(),
                state: None,
                code_challenge: "x".into(),
                scope: vec!["mcp:read".into()],
                resource: "https://h/mcp/demo".into(),
                service: "demo".into(),
            },
            nonce: "n1".into(),
            stage: Stage::Login,
            sub: None,
            jti: "j".into(),
        }
    }

    #[test]
    fn seals_and_checks_posts() {
        let k = keys();
        let handle = seal(&k, &flow(), 100).unwrap();
        assert_eq!(open(&k, &handle, 200).unwrap().0, flow());
        assert!(open(&k, &handle, 100 + FLOW_SECONDS + 60).is_err());
        let csrf = csrf_token(&k, "n1").unwrap();
        assert!(check_post(&k, &flow(), Some("n1"), Some(&csrf)).is_ok());
        assert!(check_post(&k, &flow(), None, Some(&csrf)).unwrap_err().contains("cookie"));
        assert!(check_post(&k, &flow(), Some("n2"), Some(&csrf_token(&k, "n2").unwrap())).is_err());
        assert!(check_post(&k, &flow(), Some("n1"), Some("forged")).unwrap_err().contains("forgery"));
        assert_eq!(cookie(Some("a=1; __Host-dbmcp_flow=n1; b=2"), COOKIE).as_deref(), Some("n1"));
    }
}
