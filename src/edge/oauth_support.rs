//! Edge pieces of the authorization server: KV writes with an expiry, and PBKDF2 and Ed25519
//! through WebCrypto (native code: far cheaper in CPU time than hashing in wasm, and Ed25519
//! there keeps all of ed25519-compact out of the wasm).

use async_trait::async_trait;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde_json::Value as Json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::auth::ExpiringKv;
use crate::oauth::password::PasswordHasher;
use crate::oauth::signer::Ed25519Signer;

/// `DBMCP_KV`, looked up when used.
pub struct OAuthKv<'a>(pub &'a worker::Env);

#[async_trait(?Send)]
impl ExpiringKv for OAuthKv<'_> {
    async fn put_expiring(
        &self,
        key: &str,
        value: &str,
        metadata: Option<Json>,
        ttl_seconds: Option<u64>,
    ) -> Result<(), String> {
        let mut put = super::kv_store(self.0)?.put(key, value).map_err(|e| e.to_string())?;
        if let Some(metadata) = metadata {
            put = put.metadata(metadata).map_err(|e| e.to_string())?;
        }
        if let Some(ttl) = ttl_seconds {
            put = put.expiration_ttl(ttl.max(60));
        }
        put.execute().await.map_err(|e| e.to_string())
    }
}

pub struct WebCryptoHasher;

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()))
        .unwrap_or_else(|| format!("{e:?}"))
}

fn method(target: &JsValue, name: &str) -> Result<Function, String> {
    Reflect::get(target, &name.into())
        .map_err(js_error)?
        .dyn_into::<Function>()
        .map_err(|_| format!("crypto.subtle.{name} is missing"))
}

fn subtle() -> Result<JsValue, String> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(js_error)?;
    Reflect::get(&crypto, &"subtle".into()).map_err(js_error)
}

/// Calls `crypto.subtle.<name>(...args)` and waits for its promise.
async fn call_subtle(subtle: &JsValue, name: &str, args: &Array) -> Result<JsValue, String> {
    let promise: Promise = method(subtle, name)?.apply(subtle, args).map_err(js_error)?.unchecked_into();
    JsFuture::from(promise).await.map_err(js_error)
}

#[async_trait(?Send)]
impl PasswordHasher for WebCryptoHasher {
    async fn pbkdf2(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, String> {
        let subtle = subtle()?;
        let args = Array::of5(
            &"raw".into(),
            &Uint8Array::from(password).into(),
            &"PBKDF2".into(),
            &JsValue::FALSE,
            &Array::of1(&"deriveBits".into()).into(),
        );
        let key = call_subtle(&subtle, "importKey", &args).await?;
        let params = Object::new();
        for (name, value) in [
            ("name", JsValue::from("PBKDF2")),
            ("hash", JsValue::from("SHA-256")),
            ("salt", Uint8Array::from(salt).into()),
            ("iterations", JsValue::from(iterations)),
        ] {
            Reflect::set(&params, &name.into(), &value).map_err(js_error)?;
        }
        let promise: Promise = method(&subtle, "deriveBits")?
            .call3(&subtle, &params, &key, &JsValue::from(256))
            .map_err(js_error)?
            .unchecked_into();
        let bits = JsFuture::from(promise).await.map_err(js_error)?;
        Ok(Uint8Array::new(&bits).to_vec())
    }
}

/// Ed25519 through WebCrypto (RFC 8032, deterministic: the same bytes ed25519-compact makes).
/// The seed is imported for each call and never leaves the isolate.
pub struct WebCryptoSigner;

/// PKCS #8 DER of an Ed25519 private key up to its 32-byte seed (RFC 8410).
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

async fn import_seed(subtle: &JsValue, seed: &[u8; 32], extractable: bool) -> Result<JsValue, String> {
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(seed);
    let key_data = Uint8Array::from(der.as_slice());
    let args = Array::of5(
        &"pkcs8".into(),
        &key_data,
        &"Ed25519".into(),
        &JsValue::from_bool(extractable),
        &Array::of1(&"sign".into()),
    );
    let key = call_subtle(subtle, "importKey", &args).await;
    // Do not leave a copy of the seed in the JS heap longer than needed.
    key_data.fill(0, 0, key_data.length());
    key.map_err(|e| format!("WebCrypto refused the Ed25519 key: {e}"))
}

#[async_trait(?Send)]
impl Ed25519Signer for WebCryptoSigner {
    async fn public_key(&self, seed: &[u8; 32]) -> Result<[u8; 32], String> {
        let subtle = subtle()?;
        // WebCrypto has no "public key of" call: export the private JWK and read its `x`.
        let key = import_seed(&subtle, seed, true).await?;
        let jwk = call_subtle(&subtle, "exportKey", &Array::of2(&"jwk".into(), &key)).await?;
        let x = Reflect::get(&jwk, &"x".into()).map_err(js_error)?.as_string().ok_or("the exported key has no x")?;
        let bytes = crate::b64::URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| "the exported public key is not base64url".to_string())?;
        bytes.try_into().map_err(|_| "the exported public key is not 32 bytes".to_string())
    }

    async fn sign(&self, seed: &[u8; 32], message: &[u8]) -> Result<[u8; 64], String> {
        let subtle = subtle()?;
        let key = import_seed(&subtle, seed, false).await?;
        let args = Array::of3(&"Ed25519".into(), &key, &Uint8Array::from(message));
        let signature =
            call_subtle(&subtle, "sign", &args).await.map_err(|e| format!("WebCrypto could not sign: {e}"))?;
        Uint8Array::new(&signature).to_vec().try_into().map_err(|_| "the signature is not 64 bytes".to_string())
    }

    async fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String> {
        let subtle = subtle()?;
        let key = verifying_key(&subtle, public_key).await?;
        let args = Array::of4(&"Ed25519".into(), &key, &Uint8Array::from(&signature[..]), &Uint8Array::from(message));
        let genuine =
            call_subtle(&subtle, "verify", &args).await.map_err(|e| format!("WebCrypto could not verify: {e}"))?;
        genuine.as_bool().ok_or_else(|| "WebCrypto's verify did not answer true or false".to_string())
    }
}

thread_local! {
    /// Public keys imported into WebCrypto, once per isolate (a handful: one per `kid`).
    static VERIFYING_KEYS: std::cell::RefCell<Vec<([u8; 32], JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keys remembered before the memory starts over (secret changes within one isolate are rare).
const REMEMBERED_VERIFYING_KEYS: usize = 16;

/// `public_key` as a WebCrypto verifying key, imported the first time this isolate needs it.
async fn verifying_key(subtle: &JsValue, public_key: &[u8; 32]) -> Result<JsValue, String> {
    let cached =
        VERIFYING_KEYS.with(|keys| keys.borrow().iter().find(|(raw, _)| raw == public_key).map(|(_, key)| key.clone()));
    if let Some(key) = cached {
        return Ok(key);
    }
    let args = Array::of5(
        &"raw".into(),
        &Uint8Array::from(&public_key[..]),
        &"Ed25519".into(),
        &JsValue::FALSE,
        &Array::of1(&"verify".into()),
    );
    let key = call_subtle(subtle, "importKey", &args)
        .await
        .map_err(|e| format!("WebCrypto refused the Ed25519 public key: {e}"))?;
    VERIFYING_KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() >= REMEMBERED_VERIFYING_KEYS {
            keys.clear();
        }
        keys.push((*public_key, key.clone()));
    });
    Ok(key)
}
