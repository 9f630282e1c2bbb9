//! Edge pieces of the authorization server: KV writes with an expiry, and PBKDF2 through
//! WebCrypto (native code: far cheaper in CPU time than hashing in wasm).

use async_trait::async_trait;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde_json::Value as Json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::auth::ExpiringKv;
use crate::oauth::password::PasswordHasher;

pub struct OAuthKv {
    inner: Result<worker::KvStore, String>,
}

impl OAuthKv {
    pub fn new(store: worker::Result<worker::KvStore>) -> Self {
        OAuthKv {
            inner: store.map_err(|_| "no KV binding named \"DBMCP_KV\"; add it under [[kv_namespaces]]".to_string()),
        }
    }
}

#[async_trait(?Send)]
impl ExpiringKv for OAuthKv {
    async fn put_expiring(
        &self,
        key: &str,
        value: &str,
        metadata: Option<Json>,
        ttl_seconds: Option<u64>,
    ) -> Result<(), String> {
        let store = self.inner.as_ref().map_err(Clone::clone)?;
        let mut put = store.put(key, value).map_err(|e| e.to_string())?;
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

#[async_trait(?Send)]
impl PasswordHasher for WebCryptoHasher {
    async fn pbkdf2(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, String> {
        let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(js_error)?;
        let subtle = Reflect::get(&crypto, &"subtle".into()).map_err(js_error)?;
        let args = Array::of5(
            &"raw".into(),
            &Uint8Array::from(password).into(),
            &"PBKDF2".into(),
            &JsValue::FALSE,
            &Array::of1(&"deriveBits".into()).into(),
        );
        let promise: Promise = method(&subtle, "importKey")?.apply(&subtle, &args).map_err(js_error)?.unchecked_into();
        let key = JsFuture::from(promise).await.map_err(js_error)?;
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
