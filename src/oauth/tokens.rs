//! Signed tokens: EdDSA access tokens (JWT, RFC 9068 shape) that the MCP endpoint verifies
//! without any storage read, and HS256 handles for our own short-lived browser state.
//!
//! Keys come from the `OAUTH_SIGNING_KEY` secret: `kid:seed[,kid:seed...]`, each seed 32 random
//! bytes in base64url. The first key signs; all verify (rotation: prepend a new key, drop the old
//! one after an hour, the longest access token lifetime). Generate one with
//! `node -e "console.log('k1:'+require('crypto').randomBytes(32).toString('base64url'))"`.
//!
//! Ed25519 itself (signing, verifying, public key derivation) goes through an [`Ed25519Signer`]
//! (the runtime's WebCrypto at the edge, see `signer`); the token format and its checks are here.

use crate::b64::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sha2::Sha256;

pub use super::signer::Ed25519Signer;

/// Clock skew tolerated between the worker's isolates.
const LEEWAY_SECONDS: i64 = 30;

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    seed: [u8; 32],
    public: [u8; 32],
}

#[derive(Clone)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
    /// Access tokens whose signature these keys verified, with their claims: the same bytes
    /// verify the same way every time, so a token seen again skips the Ed25519 check (expiry,
    /// issuer and audience are still checked on every use). Shared by clones, dropped with the keys.
    verified: std::rc::Rc<std::cell::RefCell<std::collections::HashMap<String, AccessClaims>>>,
}

/// Why an access token was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessError {
    /// The token is not good (HTTP 401 `invalid_token`); the text says why.
    Invalid(String),
    /// Its signature could not be checked at all (a fault of the runtime): the token may be fine.
    Unavailable(String),
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccessError::Invalid(why) | AccessError::Unavailable(why) => f.write_str(why),
        }
    }
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

/// The `kid:seed` entries of `OAUTH_SIGNING_KEY`, in order.
fn parse_seeds(secret: &str) -> Result<Vec<(String, [u8; 32])>, String> {
    let mut seeds = Vec::new();
    for entry in secret.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (kid, seed) = entry.split_once(':').ok_or("OAUTH_SIGNING_KEY entries must look like kid:seed")?;
        let kid = kid.trim();
        if kid.is_empty() || kid.len() > 64 || !kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("OAUTH_SIGNING_KEY: a kid must be 1-64 letters, digits, - or _".into());
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(seed.trim().trim_end_matches('='))
            .or_else(|_| STANDARD.decode(seed.trim()))
            .map_err(|_| format!("OAUTH_SIGNING_KEY: the seed of {kid:?} is not base64"))?;
        let seed: [u8; 32] =
            bytes.try_into().map_err(|_| format!("OAUTH_SIGNING_KEY: the seed of {kid:?} must be 32 bytes"))?;
        if seed == [0; 32] {
            return Err(format!("OAUTH_SIGNING_KEY: the seed of {kid:?} is all zeros; use 32 random bytes"));
        }
        seeds.push((kid.to_string(), seed));
    }
    if seeds.is_empty() {
        return Err("OAUTH_SIGNING_KEY is empty".into());
    }
    Ok(seeds)
}

/// The JOSE header of an access token, fields in the order jwt-compact writes them.
#[derive(Serialize)]
struct AccessHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

impl SigningKeys {
    /// Parses `OAUTH_SIGNING_KEY` and derives each key's public key with `signer`.
    pub async fn load(secret: &str, signer: &dyn Ed25519Signer) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (kid, seed) in parse_seeds(secret)? {
            let public = signer
                .public_key(&seed)
                .await
                .map_err(|e| format!("OAUTH_SIGNING_KEY: the public key of {kid:?} could not be derived: {e}"))?;
            keys.push(SigningKey { kid, seed, public });
        }
        Ok(SigningKeys { keys, verified: Default::default() })
    }

    /// [`Self::load`] with ed25519-compact, synchronously (native code and tests).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn parse(secret: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for (kid, seed) in parse_seeds(secret)? {
            let public = super::signer::CompactSigner::public_key_now(&seed)?;
            keys.push(SigningKey { kid, seed, public });
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

    /// A signed access token for `claims`, issued at `now_s`, signed by `signer` with the first key.
    /// The signature is checked here before the token is handed out.
    pub async fn issue_access(
        &self,
        claims: &AccessClaims,
        now_s: u64,
        signer: &dyn Ed25519Signer,
    ) -> Result<String, String> {
        let key = &self.keys[0];
        let header = AccessHeader { alg: "EdDSA", kid: &key.kid, typ: "at+jwt" };
        let mut full = Claims::new(claims.clone());
        full.issued_at = Some(time(now_s));
        full.expiration = Some(time(claims.exp));
        let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        let payload = serde_json::to_vec(&full).map_err(|e| e.to_string())?;
        let mut token = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let signature = signer.sign(&key.seed, token.as_bytes()).await?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        self.verify_signed_access(&token, now_s, true, signer)
            .await
            .map_err(|e| format!("the new token does not verify with the key's public key ({e})"))?;
        Ok(token)
    }

    /// Verifies signature (with `verifier`, only for a token not seen before), algorithm (only
    /// EdDSA), issuer, audience and (unless `allow_expired`) expiry. The error text says what is
    /// wrong without echoing the token.
    pub async fn verify_access(
        &self,
        token: &str,
        issuer: &str,
        audience: Option<&str>,
        now_s: u64,
        allow_expired: bool,
        verifier: &dyn Ed25519Signer,
    ) -> Result<AccessClaims, AccessError> {
        let remembered = self.verified.borrow().get(token).cloned();
        let custom = match remembered {
            // Clearly unexpired (no leeway needed), or expiry not checked: the signature is known good.
            Some(claims) if allow_expired || now_s < claims.exp => claims,
            _ => {
                let claims = self.verify_signed_access(token, now_s, allow_expired, verifier).await?;
                let mut verified = self.verified.borrow_mut();
                if verified.len() >= REMEMBERED_TOKENS {
                    verified.clear();
                }
                verified.insert(token.to_string(), claims.clone());
                claims
            }
        };
        if custom.iss != issuer {
            return Err(AccessError::Invalid("the access token was issued by another server".into()));
        }
        if let Some(audience) = audience {
            if custom.aud != audience {
                return Err(AccessError::Invalid(format!(
                    "the access token is for {}, not this endpoint ({audience})",
                    custom.aud
                )));
            }
        }
        Ok(custom)
    }

    /// Signature, algorithm, key and (unless `allow_expired`) expiry of an access token.
    async fn verify_signed_access(
        &self,
        token: &str,
        now_s: u64,
        allow_expired: bool,
        verifier: &dyn Ed25519Signer,
    ) -> Result<AccessClaims, AccessError> {
        let invalid = |why: &str| AccessError::Invalid(why.to_string());
        let untrusted = UntrustedToken::new(token).map_err(|_| invalid("the access token is not a well-formed JWT"))?;
        if untrusted.algorithm() != "EdDSA" {
            return Err(AccessError::Invalid(format!(
                "access tokens are signed with EdDSA, not {:?}",
                untrusted.algorithm()
            )));
        }
        let key = match untrusted.header().key_id.as_deref() {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid == kid)
                .ok_or_else(|| invalid("the access token was signed with an unknown key"))?,
            None => &self.keys[0],
        };
        // What jwt-compact's Ed25519 validator checked, in its order: a 64-byte signature, claims
        // that parse, then the signature over `header.claims` (by the runtime, not in the wasm).
        let bad_signature = || invalid("the access token's signature is invalid");
        let signature: &[u8; 64] = untrusted.signature_bytes().try_into().map_err(|_| bad_signature())?;
        let claims = untrusted.deserialize_claims_unchecked::<AccessClaims>().map_err(|_| bad_signature())?;
        let (signed_data, _) = token.rsplit_once('.').ok_or_else(bad_signature)?;
        let genuine = verifier
            .verify(&key.public, signed_data.as_bytes(), signature)
            .await
            .map_err(|e| AccessError::Unavailable(format!("the access token's signature could not be checked: {e}")))?;
        if !genuine {
            return Err(bad_signature());
        }
        if !allow_expired {
            claims.validate_expiration(&options(now_s)).map_err(|_| invalid("the access token has expired"))?;
        }
        let mut custom = claims.custom;
        custom.exp = claims.expiration.map(|t| t.timestamp().max(0) as u64).unwrap_or(0);
        Ok(custom)
    }

    /// The public keys as a JWK Set (for resource servers that want to verify tokens themselves).
    pub fn jwks(&self) -> Json {
        let keys: Vec<Json> = self
            .keys
            .iter()
            .map(|k| json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid, "x": URL_SAFE_NO_PAD.encode(k.public)}))
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
    use crate::oauth::signer::CompactSigner;
    use futures_executor::block_on;

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

    fn issue(keys: &SigningKeys, claims: &AccessClaims, now_s: u64) -> String {
        block_on(keys.issue_access(claims, now_s, &CompactSigner)).unwrap()
    }

    fn verify(
        keys: &SigningKeys,
        token: &str,
        issuer: &str,
        audience: Option<&str>,
        now_s: u64,
        allow_expired: bool,
    ) -> Result<AccessClaims, String> {
        block_on(keys.verify_access(token, issuer, audience, now_s, allow_expired, &CompactSigner))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn issues_and_verifies_access_tokens() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&keys, &claims(2_000), 1_000);
        let header: Json =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "EdDSA", "kid": "k1", "typ": "at+jwt"}));
        let got = verify(&keys, &token, "https://h", Some("https://h/mcp/demo"), 1_500, false).unwrap();
        assert_eq!(got, claims(2_000));
        assert_eq!(
            verify(&keys, &token, "https://h", Some("https://h/mcp/other"), 1_500, false).unwrap_err(),
            "the access token is for https://h/mcp/demo, not this endpoint (https://h/mcp/other)"
        );
        assert_eq!(verify(&keys, &token, "https://h", None, 2_100, false).unwrap_err(), "the access token has expired");
        assert!(verify(&keys, &token, "https://h", None, 2_100, true).is_ok());
        assert!(verify(&keys, &token, "https://other", None, 1_500, false).is_err());
    }

    #[test]
    fn a_token_seen_again_is_checked_from_memory_but_still_expires_and_keeps_its_audience() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&keys, &claims(2_000), 1_000);
        assert!(verify(&keys, &token, "https://h", Some("https://h/mcp/demo"), 1_500, false).is_ok());
        // A clone (the edge clones the keys per request) shares the memory.
        let clone = keys.clone();
        assert_eq!(clone.verified.borrow().len(), 1);
        assert!(verify(&clone, &token, "https://h", Some("https://h/mcp/demo"), 1_999, false).is_ok());
        assert!(verify(&clone, &token, "https://h", Some("https://h/mcp/other"), 1_600, false).is_err());
        assert!(verify(&clone, &token, "https://other", None, 1_600, false).is_err());
        assert_eq!(
            verify(&clone, &token, "https://h", None, 2_100, false).unwrap_err(),
            "the access token has expired"
        );
        // Other keys do not share it.
        let other = SigningKeys::parse("k1:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        assert!(verify(&other, &token, "https://h", None, 1_500, false).is_err());
    }

    #[test]
    fn refuses_tampered_unsigned_and_foreign_tokens() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&keys, &claims(2_000), 1_000);
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: Json = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["scope"] = json!("mcp:read mcp:write");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
        assert_eq!(
            verify(&keys, &tampered, "https://h", None, 1_500, false).unwrap_err(),
            "the access token's signature is invalid"
        );
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert!(verify(&keys, &unsigned, "https://h", None, 1_500, false).unwrap_err().contains("EdDSA"));
        let hs = hs256_sign(b"guess", claims(2_000), 1_000, 2_000).unwrap();
        assert!(verify(&keys, &hs, "https://h", None, 1_500, false).is_err());
        let other = SigningKeys::parse("k1:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        assert!(verify(&other, &token, "https://h", None, 1_500, false).is_err());
    }

    #[test]
    fn rotates_keys_and_derives_purpose_secrets() {
        let old = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&old, &claims(2_000), 1_000);
        let rotated =
            SigningKeys::parse(&format!("k2:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8,{TEST_KEY}")).unwrap();
        assert!(verify(&rotated, &token, "https://h", None, 1_500, false).is_ok());
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

    /// Signs with a fixed answer or fails, like a broken runtime would.
    struct FixedSigner(Result<[u8; 64], String>);

    #[async_trait::async_trait(?Send)]
    impl Ed25519Signer for FixedSigner {
        async fn public_key(&self, seed: &[u8; 32]) -> Result<[u8; 32], String> {
            self.0.as_ref().map_err(Clone::clone)?;
            CompactSigner.public_key(seed).await
        }
        async fn sign(&self, _: &[u8; 32], _: &[u8]) -> Result<[u8; 64], String> {
            self.0.clone()
        }
        async fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String> {
            CompactSigner.verify(public_key, message, signature).await
        }
    }

    #[test]
    fn access_tokens_are_byte_for_byte_what_jwt_compact_signs_deterministically() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&keys, &claims(2_000), 1_000);
        // jwt-compact's own Ed25519 (the former signer): same header and claims bytes.
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(keys.keys[0].seed));
        let header = Header::empty().with_key_id("k1").with_token_type("at+jwt");
        let mut full = Claims::new(claims(2_000));
        full.issued_at = Some(time(1_000));
        full.expiration = Some(time(2_000));
        let reference = jwt_compact::alg::Ed25519.token(&header, &full, &pair.sk).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(input, reference.rsplit_once('.').unwrap().0);
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(input.split('.').nth(1).unwrap()).unwrap()).unwrap(),
            r#"{"exp":2000,"iat":1000,"iss":"https://h","sub":"alice","aud":"https://h/mcp/demo","client_id":"c1","scope":"mcp:read","jti":"j","gid":"g"}"#
        );
        // The signature is plain RFC 8032 (what WebCrypto makes): deterministic, no noise.
        assert_eq!(signature, URL_SAFE_NO_PAD.encode(*pair.sk.sign(input, None)));
        assert_eq!(issue(&keys, &claims(2_000), 1_000), token);
        // jwt-compact's token (hedged signature, different bytes) verifies too, and vice versa.
        assert_ne!(reference, token);
        assert_eq!(verify(&keys, &reference, "https://h", None, 1_500, false).unwrap(), claims(2_000));
        let untrusted = UntrustedToken::new(&token).unwrap();
        assert!(jwt_compact::alg::Ed25519.validator::<AccessClaims>(&pair.pk).validate(&untrusted).is_ok());
        // The JWK Set publishes the same public key.
        assert_eq!(keys.jwks()["keys"][0]["x"], json!(URL_SAFE_NO_PAD.encode(*pair.pk)));
    }

    /// Ed25519 by ed25519-compact, counting the verifications it is asked for (or failing them).
    #[derive(Default)]
    struct CountingVerifier {
        verifications: std::cell::Cell<usize>,
        broken: bool,
    }

    #[async_trait::async_trait(?Send)]
    impl Ed25519Signer for CountingVerifier {
        async fn public_key(&self, seed: &[u8; 32]) -> Result<[u8; 32], String> {
            CompactSigner.public_key(seed).await
        }
        async fn sign(&self, seed: &[u8; 32], message: &[u8]) -> Result<[u8; 64], String> {
            CompactSigner.sign(seed, message).await
        }
        async fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String> {
            self.verifications.set(self.verifications.get() + 1);
            if self.broken {
                return Err("OperationError".into());
            }
            CompactSigner.verify(public_key, message, signature).await
        }
    }

    #[test]
    fn the_verifier_is_asked_once_per_token_and_only_for_a_signature_of_64_bytes() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&keys, &claims(2_000), 1_000);
        let counting = CountingVerifier::default();
        let check = |token: &str| block_on(keys.verify_access(token, "https://h", None, 1_500, false, &counting));
        for _ in 0..3 {
            assert_eq!(check(&token).unwrap(), claims(2_000));
        }
        assert_eq!(counting.verifications.get(), 1, "a token seen again is not verified again");
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let invalid = Err(AccessError::Invalid("the access token's signature is invalid".into()));
        for bytes in [&signature[..63], &signature[..0], &[&signature[..], &[0]].concat()[..]] {
            assert_eq!(check(&format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))), invalid);
        }
        assert_eq!(counting.verifications.get(), 1, "a signature of the wrong length is refused before verifying");
        let mut flipped = signature.clone();
        flipped[10] ^= 0x20;
        let flipped = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&flipped));
        assert_eq!(check(&flipped), invalid);
        assert_eq!(check(&flipped), invalid, "a refused token is not remembered");
        assert_eq!(counting.verifications.get(), 3);
    }

    #[test]
    fn a_verifier_that_cannot_run_makes_the_token_unchecked_not_invalid_nor_valid() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let token = issue(&keys, &claims(2_000), 1_000);
        let broken = CountingVerifier { broken: true, ..Default::default() };
        assert_eq!(
            block_on(keys.verify_access(&token, "https://h", None, 1_500, false, &broken)),
            Err(AccessError::Unavailable("the access token's signature could not be checked: OperationError".into()))
        );
        assert!(keys.verified.borrow().is_empty(), "nothing is remembered");
        assert!(verify(&keys, &token, "https://h", None, 1_500, false).is_ok());
    }

    #[test]
    fn a_signer_failure_or_a_wrong_signature_is_an_error_not_a_token() {
        let keys = SigningKeys::parse(TEST_KEY).unwrap();
        let failing = FixedSigner(Err("Ed25519 is not supported".into()));
        assert_eq!(
            block_on(keys.issue_access(&claims(2_000), 1_000, &failing)).unwrap_err(),
            "Ed25519 is not supported"
        );
        let wrong = FixedSigner(Ok([7; 64]));
        assert!(block_on(keys.issue_access(&claims(2_000), 1_000, &wrong))
            .unwrap_err()
            .starts_with("the new token does not verify"));
    }

    #[test]
    fn loading_derives_public_keys_through_the_signer() {
        let parsed = SigningKeys::parse(&format!("k2:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8,{TEST_KEY}")).unwrap();
        let loaded = block_on(SigningKeys::load(
            &format!("k2:BwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8,{TEST_KEY}"),
            &CompactSigner,
        ))
        .unwrap();
        assert_eq!(loaded.jwks(), parsed.jwks());
        let failing = FixedSigner(Err("no WebCrypto".into()));
        assert_eq!(
            block_on(SigningKeys::load(TEST_KEY, &failing)).unwrap_err(),
            r#"OAUTH_SIGNING_KEY: the public key of "k1" could not be derived: no WebCrypto"#
        );
        // A bad secret is refused before any derivation.
        assert!(block_on(SigningKeys::load("nokid", &failing)).unwrap_err().contains("kid:seed"));
        // All-zero seeds are refused (ed25519-compact would panic on one).
        assert!(SigningKeys::parse("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .unwrap_err()
            .contains("all zeros"));
    }
}
