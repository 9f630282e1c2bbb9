//! Signed tokens: EdDSA access tokens (JWT, RFC 9068 shape) that the MCP endpoint verifies
//! without any storage read, and HS256 handles for our own short-lived browser state.
//!
//! Keys come from the `OAUTH_SIGNING_KEY` secret: `kid:seed[,kid:seed...]`, each seed 32 random
//! bytes in base64url. The first key signs; all verify (rotation: prepend a new key, drop the old
//! one after an hour, the longest access token lifetime). Generate one with
//! `node -e "console.log('k1:'+require('crypto').randomBytes(32).toString('base64url'))"`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_compact::{KeyPair, Seed};
use hmac::{Hmac, Mac};
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::Sha256;

/// Clock skew tolerated between the worker's isolates.
const LEEWAY_SECONDS: i64 = 30;

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    seed: [u8; 32],
    pair: KeyPair,
}

#[derive(Clone)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
    /// Access tokens whose signature these keys verified, with their claims: the same bytes
    /// verify the same way every time, so a token seen again skips the Ed25519 check (expiry,
    /// issuer and audience are still checked on every use). Shared by clones, dropped with the keys.
    verified: std::rc::Rc<std::cell::RefCell<std::collections::HashMap<String, AccessClaims>>>,
}

/// Verified access tokens remembered before the memory starts over.
const REMEMBERED_TOKENS: usize = 1_000;

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        write!(f, "SigningKeys({kids:?})")
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    /// The MCP endpoint URL the token is for (RFC 8707 `resource`).
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    /// The grant this token came from (lets `/revoke` end the grant).
    pub gid: String,
    #[serde(skip)]
    pub exp: u64,
}

fn time(seconds: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds as i64, 0).unwrap_or_default()
}

fn options(now_s: u64) -> TimeOptions<impl Fn() -> DateTime<Utc>> {
    TimeOptions::new(chrono::Duration::seconds(LEEWAY_SECONDS), move || time(now_s))
}

impl SigningKeys {
    pub fn parse(secret: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for entry in secret.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, seed) = entry.split_once(':').ok_or("OAUTH_SIGNING_KEY entries must look like kid:seed")?;
            let kid = kid.trim();
            if kid.is_empty()
                || kid.len() > 64
                || !kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err("OAUTH_SIGNING_KEY: a kid must be 1-64 letters, digits, - or _".into());
            }
            let bytes = URL_SAFE_NO_PAD
                .decode(seed.trim().trim_end_matches('='))
                .or_else(|_| STANDARD.decode(seed.trim()))
                .map_err(|_| format!("OAUTH_SIGNING_KEY: the seed of {kid:?} is not base64"))?;
            let seed: [u8; 32] =
                bytes.try_into().map_err(|_| format!("OAUTH_SIGNING_KEY: the seed of {kid:?} must be 32 bytes"))?;
            let pair = KeyPair::from_seed(Seed::new(seed));
            keys.push(SigningKey { kid: kid.to_string(), seed, pair });
        }
        if keys.is_empty() {
            return Err("OAUTH_SIGNING_KEY is empty".into());
        }
        Ok(SigningKeys { keys, verified: Default::default() })
    }

    pub fn current_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// A secret for one purpose, derived from a key's seed (HMAC-SHA256 with the label), so that
    /// one wrangler secret is enough for every signature the worker makes.
    pub fn derive(&self, kid: Option<&str>, label: &str) -> Option<[u8; 32]> {
        let key = match kid {
            None => &self.keys[0],
            Some(kid) => self.keys.iter().find(|k| k.kid == kid)?,
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.seed).expect("any key length");
        mac.update(label.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }

    pub fn issue_access(&self, claims: &AccessClaims, now_s: u64) -> Result<String, String> {
        let key = &self.keys[0];
        let header = Header::empty().with_key_id(key.kid.clone()).with_token_type("at+jwt");
        let mut full = Claims::new(claims.clone());
        full.issued_at = Some(time(now_s));
        full.expiration = Some(time(claims.exp));
        Ed25519.token(&header, &full, &key.pair.sk).map_err(|e| format!("signing failed: {e}"))
    }

    /// Verifies signature, algorithm (only EdDSA), issuer, audience and (unless `allow_expired`)
    /// expiry. The error text says what is wrong without echoing the token.
    pub fn verify_access(
        &self,
        token: &str,
        issuer: &str,
        audience: Option<&str>,
        now_s: u64,
        allow_expired: bool,
    ) -> Result<AccessClaims, String> {
        let remembered = self.verified.borrow().get(token).cloned();
        let custom = match remembered {
            // Clearly unexpired (no leeway needed), or expiry not checked: the signature is known good.
            Some(claims) if allow_expired || now_s < claims.exp => claims,
            _ => {
                let claims = self.verify_signed_access(token, now_s, allow_expired)?;
                let mut verified = self.verified.borrow_mut();
                if verified.len() >= REMEMBERED_TOKENS {
                    verified.clear();
                }
                verified.insert(token.to_string(), claims.clone());
                claims
            }
        };
        if custom.iss != issuer {
            return Err("the access token was issued by another server".into());
        }
        if let Some(audience) = audience {
            if custom.aud != audience {
                return Err(format!("the access token is for {}, not this endpoint ({audience})", custom.aud));
            }
        }
        Ok(custom)
    }

    /// Signature, algorithm, key and (unless `allow_expired`) expiry of an access token.
    fn verify_signed_access(&self, token: &str, now_s: u64, allow_expired: bool) -> Result<AccessClaims, String> {
        let untrusted =
            UntrustedToken::new(token).map_err(|_| "the access token is not a well-formed JWT".to_string())?;
        if untrusted.algorithm() != "EdDSA" {
            return Err(format!("access tokens are signed with EdDSA, not {:?}", untrusted.algorithm()));
        }
        let key = match untrusted.header().key_id.as_deref() {
            Some(kid) => {
                self.keys.iter().find(|k| k.kid == kid).ok_or("the access token was signed with an unknown key")?
            }
            None => &self.keys[0],
        };
        let verified = Ed25519
            .validator::<AccessClaims>(&key.pair.pk)
            .validate(&untrusted)
            .map_err(|_| "the access token's signature is invalid".to_string())?;
        let claims = verified.claims();
        if !allow_expired {
            claims.validate_expiration(&options(now_s)).map_err(|_| "the access token has expired".to_string())?;
        }
        let mut custom = claims.custom.clone();
        custom.exp = claims.expiration.map(|t| t.timestamp().max(0) as u64).unwrap_or(0);
        Ok(custom)
    }

    /// The public keys as a JWK Set (for resource servers that want to verify tokens themselves).
    pub fn jwks(&self) -> Json {
        let keys: Vec<Json> = self
            .keys
            .iter()
            .map(|k| json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid, "x": URL_SAFE_NO_PAD.encode(k.pair.pk.as_ref())}))
            .collect();
        json!({ "keys": keys })
    }
}

/// Signs `claims` with HS256 under `key`, valid until `exp_s`.
pub fn hs256_sign<T: Serialize>(key: &[u8], claims: T, now_s: u64, exp_s: u64) -> Result<String, String> {
    let mut full = Claims::new(claims);
    full.issued_at = Some(time(now_s));
    full.expiration = Some(time(exp_s));
    Hs256.token(&Header::empty(), &full, &Hs256Key::new(key)).map_err(|e| format!("signing failed: {e}"))
}

/// Verifies an HS256 token signed under `key`; it must carry an expiry that has not passed.
pub fn hs256_verify<T: DeserializeOwned + Clone>(key: &[u8], token: &str, now_s: u64) -> Result<(T, u64), String> {
    let untrusted = UntrustedToken::new(token).map_err(|_| "not a well-formed signed token".to_string())?;
    let verified = Hs256
        .validator::<T>(&Hs256Key::new(key))
        .validate(&untrusted)
        .map_err(|_| "the signature is invalid".to_string())?;
    let claims = verified.claims();
    if claims.expiration.is_none() {
        return Err("the token carries no expiry".into());
    }
    claims.validate_expiration(&options(now_s)).map_err(|_| "the token has expired".to_string())?;
    let exp = claims.expiration.map(|t| t.timestamp().max(0) as u64).unwrap_or(0);
    Ok((claims.custom.clone(), exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const TEST_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn claims(exp: u64) -> AccessClaims {
        AccessClaims {
            iss: "https://h".into(),
            sub: "alice".into(),
            aud: "https://h/mcp/demo".into(),
            client_id: "c1".into(),
            scope: "mcp:read".into(),
            jti: "j".into(),
            gid: "g".into(),
            exp,
        }
    }

    #[test]
    fn issues_and_verifies_access_tokens() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = keys.issue_access(&claims(2_000), 1_000).unwrap();
        let header: Json =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "EdDSA", "kid": "k1", "typ": "at+jwt"}));
        let got = keys.verify_access(&token, "https://h", Some("https://h/mcp/demo"), 1_500, false).unwrap();
        assert_eq!(got, claims(2_000));
        assert_eq!(
            keys.verify_access(&token, "https://h", Some("https://h/mcp/other"), 1_500, false).unwrap_err(),
            "the access token is for https://h/mcp/demo, not this endpoint (https://h/mcp/other)"
        );
        assert_eq!(
            keys.verify_access(&token, "https://h", None, 2_100, false).unwrap_err(),
            "the access token has expired"
        );
        assert!(keys.verify_access(&token, "https://h", None, 2_100, true).is_ok());
        assert!(keys.verify_access(&token, "https://other", None, 1_500, false).is_err());
    }

    #[test]
    fn a_token_seen_again_is_checked_from_memory_but_still_expires_and_keeps_its_audience() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = keys.issue_access(&claims(2_000), 1_000).unwrap();
        assert!(keys.verify_access(&token, "https://h", Some("https://h/mcp/demo"), 1_500, false).is_ok());
        // A clone (the edge clones the keys per request) shares the memory.
        let clone = keys.clone();
        assert_eq!(clone.verified.borrow().len(), 1);
        assert!(clone.verify_access(&token, "https://h", Some("https://h/mcp/demo"), 1_999, false).is_ok());
        assert!(clone.verify_access(&token, "https://h", Some("https://h/mcp/other"), 1_600, false).is_err());
        assert!(clone.verify_access(&token, "https://other", None, 1_600, false).is_err());
        assert_eq!(
            clone.verify_access(&token, "https://h", None, 2_100, false).unwrap_err(),
            "the access token has expired"
        );
        // Other keys do not share it.
        let other = SigningKeys::parse("k1:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        assert!(other.verify_access(&token, "https://h", None, 1_500, false).is_err());
    }

    #[test]
    fn refuses_tampered_unsigned_and_foreign_tokens() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = keys.issue_access(&claims(2_000), 1_000).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: Json = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["scope"] = json!("mcp:read mcp:write");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
        assert_eq!(
            keys.verify_access(&tampered, "https://h", None, 1_500, false).unwrap_err(),
            "the access token's signature is invalid"
        );
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert!(keys.verify_access(&unsigned, "https://h", None, 1_500, false).unwrap_err().contains("EdDSA"));
        let hs = hs256_sign(b"guess", claims(2_000), 1_000, 2_000).unwrap();
        assert!(keys.verify_access(&hs, "https://h", None, 1_500, false).is_err());
        let other = SigningKeys::parse("k1:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        assert!(other.verify_access(&token, "https://h", None, 1_500, false).is_err());
    }

    #[test]
    fn rotates_keys_and_derives_purpose_secrets() {
        let old = SigningKeys::parse(TEST_KEY).unwrap();
        let token = old.issue_access(&claims(2_000), 1_000).unwrap();
        let rotated =
            SigningKeys::parse(&format!("k2:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8,{TEST_KEY}")).unwrap();
        assert!(rotated.verify_access(&token, "https://h", None, 1_500, false).is_ok());
        assert_eq!(rotated.current_kid(), "k2");
        assert_ne!(rotated.derive(None, "csrf"), old.derive(None, "csrf"));
        assert_eq!(rotated.derive(Some("k1"), "x"), old.derive(None, "x"));
        assert!(SigningKeys::parse("nokid").is_err());
        assert!(SigningKeys::parse("k1:c2hvcnQ").is_err());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn hs256_handles_expire() {
        let t = hs256_sign(b"key", json!({"a": 1}), 100, 200).unwrap();
        assert_eq!(hs256_verify::<Json>(b"key", &t, 150).unwrap().0, json!({"a": 1}));
        assert!(hs256_verify::<Json>(b"key", &t, 300).is_err());
        assert!(hs256_verify::<Json>(b"other", &t, 150).is_err());
    }
}
