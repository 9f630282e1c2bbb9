//! Users of a service (KV `oauth_user:<service>:<username>`) and their passwords: PBKDF2-SHA256
//! with 100,000 iterations (the most Workers' WebCrypto allows), a 16-byte random salt, stored as
//! `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64url). The edge derives through WebCrypto
//! (native code, a few ms of CPU); tests use the pure-Rust `pbkdf2` crate with the same output.

use crate::b64::URL_SAFE_NO_PAD;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::auth::constant_time_eq;

pub const ITERATIONS: u32 = 100_000;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[async_trait(?Send)]
pub trait PasswordHasher {
    /// PBKDF2-HMAC-SHA256, 32 bytes of output.
    async fn pbkdf2(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, String>;
}

pub struct NativeHasher;

#[async_trait(?Send)]
impl PasswordHasher for NativeHasher {
    async fn pbkdf2(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; 32];
        pbkdf2::pbkdf2::<hmac::Hmac<sha2::Sha256>>(password, salt, iterations, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub username: String,
    pub password: String,
    pub disabled: bool,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// Values for row policies (`{user.<attr>}`), set through the admin API.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

pub fn user_key(service: &str, username: &str) -> String {
    format!("oauth_user:{service}:{username}")
}

/// Usernames are case-insensitive: stored lower-cased, 1-64 of `a-z 0-9 . _ @ -`.
pub fn normalize_username(name: &str) -> Result<String, String> {
    let name = name.trim().to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if ok {
        Ok(name)
    } else {
        Err("a username is 1-64 letters, digits, '.', '_', '@' or '-'".into())
    }
}

pub fn check_password_rules(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(format!("a password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"))
    }
}

pub async fn hash(hasher: &dyn PasswordHasher, password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness available: {e}"))?;
    let derived = hasher.pbkdf2(password.as_bytes(), &salt, ITERATIONS).await?;
    Ok(format!("pbkdf2-sha256${ITERATIONS}${}${}", URL_SAFE_NO_PAD.encode(salt), URL_SAFE_NO_PAD.encode(derived)))
}

/// Whether `password` matches `stored`. With `stored = None` (unknown user) a dummy derivation
/// still runs, so response time does not reveal which usernames exist.
pub async fn verify(hasher: &dyn PasswordHasher, stored: Option<&str>, password: &str) -> Result<bool, String> {
    let dummy =
        format!("pbkdf2-sha256${ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let text = stored.unwrap_or(&dummy);
    let parts: Vec<&str> = text.split('$').collect();
    let [alg, iterations, salt, expected] = parts.as_slice() else { return Err("malformed password hash".into()) };
    let iterations: u32 = iterations.parse().map_err(|_| "malformed password hash".to_string())?;
    if *alg != "pbkdf2-sha256" {
        return Err(format!("unknown password hash {alg}"));
    }
    let salt = URL_SAFE_NO_PAD.decode(salt).map_err(|_| "malformed password hash".to_string())?;
    let expected = URL_SAFE_NO_PAD.decode(expected).map_err(|_| "malformed password hash".to_string())?;
    let derived = hasher.pbkdf2(password.as_bytes(), &salt, iterations).await?;
    Ok(stored.is_some() && constant_time_eq(&derived, &expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    #[test]
    fn hashes_and_verifies() {
        let stored = block_on(hash(&NativeHasher, "correct horse")).unwrap();
        assert!(stored.starts_with("pbkdf2-sha256$100000$"));
        assert!(block_on(verify(&NativeHasher, Some(&stored), "correct horse")).unwrap());
        assert!(!block_on(verify(&NativeHasher, Some(&stored), "wrong horse")).unwrap());
        assert!(!block_on(verify(&NativeHasher, None, "correct horse")).unwrap());
        let again = block_on(hash(&NativeHasher, "correct horse")).unwrap();
        assert_ne!(stored, again, "salted");
    }

    #[test]
    fn matches_the_rfc_7914_test_vector() {
        // PBKDF2-HMAC-SHA256("passwd", "salt", 1) from RFC 7914 section 11.
        let out = block_on(NativeHasher.pbkdf2(b"passwd", b"salt", 1)).unwrap();
        assert_eq!(out[..8], [0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f]);
    }

    #[test]
    fn usernames_and_password_rules() {
        assert_eq!(normalize_username(" Alice@Example.com ").unwrap(), "alice@example.com");
        assert!(normalize_username("a:b").is_err());
        assert!(normalize_username("").is_err());
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules("long enough").is_ok());
    }
}
