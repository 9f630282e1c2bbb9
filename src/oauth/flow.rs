//! The browser side of one authorization: the checked request travels between the login and
//! consent pages (and through a service's custom login page) in a sealed, short-lived handle,
//! bound to a random nonce in a `__Host-` cookie. A POST must carry the cookie (SameSite=Lax
//! keeps it off cross-site POSTs) and a CSRF token that is an HMAC of that nonce.
//!
//! Sealed means encrypted and authenticated (XChaCha20-Poly1305 under a key derived from the
//! signing key, a random 192-bit nonce per handle): whoever sees a handle, in a URL, a log or the
//! custom login page, learns nothing of it, in particular not the cookie's nonce, and cannot
//! change it.

use crate::b64::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::authorize::AuthorizationRequest;
use super::tokens::SigningKeys;
use super::FLOW_SECONDS;
use crate::auth::constant_time_eq;

pub const COOKIE: &str = "__Host-dbmcp_flow";
/// Bound into every seal: a handle cannot be opened as anything else.
const SEAL_CONTEXT: &[u8] = b"dbmcp flow v2";
const NONCE_BYTES: usize = 24;

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
    /// The user's epoch when they signed in (consent stage): a reset or disable since then
    /// makes the consent worthless.
    #[serde(default)]
    pub epoch: u64,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    exp: u64,
    flow: Flow,
}

fn key(keys: &SigningKeys, purpose: &str) -> Result<[u8; 32], String> {
    keys.derive(None, purpose).ok_or_else(|| "no signing key".to_string())
}

fn cipher(keys: &SigningKeys) -> Result<XChaCha20Poly1305, String> {
    Ok(XChaCha20Poly1305::new(&key(keys, "dbmcp flow seal v2")?.into()))
}

pub fn seal(keys: &SigningKeys, flow: &Flow, now_s: u64) -> Result<String, String> {
    let plain =
        serde_json::to_vec(&Sealed { exp: now_s + FLOW_SECONDS, flow: flow.clone() }).map_err(|e| e.to_string())?;
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).map_err(|e| format!("no randomness available: {e}"))?;
    let sealed = cipher(keys)?
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad: SEAL_CONTEXT })
        .map_err(|_| "sealing the sign-in flow failed".to_string())?;
    Ok(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
}

/// The flow and its expiry (seconds).
pub fn open(keys: &SigningKeys, handle: &str, now_s: u64) -> Result<(Flow, u64), String> {
    let invalid = |why: &str| format!("this sign-in page is no longer valid ({why}); start again from the application");
    let bytes = URL_SAFE_NO_PAD.decode(handle.as_bytes()).map_err(|_| invalid("malformed"))?;
    if bytes.len() <= NONCE_BYTES {
        return Err(invalid("malformed"));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    let plain = cipher(keys)?
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: SEAL_CONTEXT })
        .map_err(|_| invalid("not issued by this server, or altered"))?;
    let Sealed { exp, flow } = serde_json::from_slice(&plain).map_err(|_| invalid("malformed"))?;
    if now_s >= exp {
        return Err(invalid("expired"));
    }
    Ok((flow, exp))
}

pub fn csrf_token(keys: &SigningKeys, nonce: &str) -> Result<String, String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key(keys, "dbmcp csrf v1")?).expect("any key length");
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
            epoch: 0,
        }
    }

    #[test]
    fn seals_and_checks_posts() {
        let k = keys();
        let handle = seal(&k, &flow(), 100).unwrap();
        assert_eq!(open(&k, &handle, 200).unwrap().0, flow());
        assert!(open(&k, &handle, 100 + FLOW_SECONDS).unwrap_err().contains("expired"));
        let csrf = csrf_token(&k, "n1").unwrap();
        assert!(check_post(&k, &flow(), Some("n1"), Some(&csrf)).is_ok());
        assert!(check_post(&k, &flow(), None, Some(&csrf)).unwrap_err().contains("cookie"));
        assert!(check_post(&k, &flow(), Some("n2"), Some(&csrf_token(&k, "n2").unwrap())).is_err());
        assert!(check_post(&k, &flow(), Some("n1"), Some("forged")).unwrap_err().contains("forgery"));
        assert_eq!(cookie(Some("a=1; __Host-dbmcp_flow=n1; b=2"), COOKIE).as_deref(), Some("n1"));
    }

    #[test]
    fn a_sealed_handle_reveals_nothing_and_cannot_be_altered() {
        let k = keys();
        let mut secret = flow();
        secret.nonce = "cookie-nonce-Zq81".into();
        let handle = seal(&k, &secret, 100).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&handle).unwrap();
        let raw = String::from_utf8_lossy(&bytes);
        for visible in ["cookie-nonce-Zq81", "https://a/cb", "demo", "nonce"] {
            assert!(!handle.contains(visible) && !raw.contains(visible), "{visible} shows in the handle");
        }
        // Two seals of the same flow differ (fresh nonce each time).
        assert_ne!(seal(&k, &secret, 100).unwrap(), handle);
        // Every altered byte is detected.
        for i in [0, NONCE_BYTES, bytes.len() - 1] {
            let mut changed = bytes.clone();
            changed[i] ^= 1;
            assert!(open(&k, &URL_SAFE_NO_PAD.encode(&changed), 101).unwrap_err().contains("altered"));
        }
        let other = SigningKeys::parse("k2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4").unwrap();
        assert!(open(&other, &handle, 101).is_err());
        assert!(open(&k, "e30.e30.", 101).is_err());
        assert!(open(&k, "", 101).is_err());
    }
}
