//! Credentials: API keys (stored only as SHA-256 hashes in KV) and, beside them, OAuth access
//! tokens (see `crate::oauth`). Whatever the credential, authentication yields a [`Principal`].

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

pub const SCOPE_READ: &str = "mcp:read";
pub const SCOPE_WRITE: &str = "mcp:write";
pub const KEY_PREFIX: &str = "mcp_";
/// How stale a key's `last_used` may get before it is written again (KV allows few writes).
pub const LAST_USED_RESOLUTION_MS: u64 = 5 * 60 * 1000;

/// Who is calling, as far as sessions and tools care.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Stable identity a session is bound to, e.g. `key:Ab12...` or `anonymous`.
    pub id: String,
    pub scopes: Vec<String>,
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal { id: "anonymous".into(), scopes: vec![SCOPE_READ.into(), SCOPE_WRITE.into()] }
    }
    pub fn may_write(&self) -> bool {
        self.scopes.iter().any(|s| s == SCOPE_WRITE)
    }
    /// An OAuth access token (`oauth:<client>:<user>`), whose holder can step up its scopes.
    pub fn is_oauth(&self) -> bool {
        self.id.starts_with("oauth:")
    }
}

/// A key-value store (Workers KV at the edge).
#[async_trait(?Send)]
pub trait KvStore {
    async fn get(&self, key: &str) -> Result<Option<String>, String>;
    async fn put(&self, key: &str, value: &str, metadata: Option<Json>) -> Result<(), String>;
    async fn delete(&self, key: &str) -> Result<(), String>;
    /// Every key under `prefix` with its metadata.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, Option<Json>)>, String>;
}

/// KV writes that expire (Workers KV `expirationTtl`, at least 60 s): unused OAuth clients.
#[async_trait(?Send)]
pub trait ExpiringKv {
    async fn put_expiring(
        &self,
        key: &str,
        value: &str,
        metadata: Option<Json>,
        ttl_seconds: Option<u64>,
    ) -> Result<(), String>;
}

/// What `apikey:<hash>` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub service: String,
    pub label: Option<String>,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_ms: u64,
    #[serde(default)]
    pub last_used_ms: Option<u64>,
}

/// What the listing shows of a key (the metadata of `apikeys:<service>:<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub prefix: String,
    pub label: Option<String>,
    pub scopes: Vec<String>,
    pub created_ms: u64,
    pub last_used_ms: Option<u64>,
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn record_key(hash: &str) -> String {
    format!("apikey:{hash}")
}

pub fn index_key(service: &str, id: &str) -> String {
    format!("apikeys:{service}:{id}")
}

pub fn random_token(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Compares secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A newly minted key: the secret (shown once) and what is stored.
pub struct NewKey {
    pub key: String,
    pub record: ApiKeyRecord,
}

pub fn mint_key(service: &str, label: Option<String>, scopes: Vec<String>, now_ms: u64) -> Result<NewKey, String> {
    let key = format!("{KEY_PREFIX}{}", random_token(32)?);
    let id = random_token(9)?;
    let prefix: String = key.chars().take(12).collect();
    Ok(NewKey {
        record: ApiKeyRecord {
            id,
            service: service.into(),
            label,
            prefix,
            scopes,
            created_ms: now_ms,
            last_used_ms: None,
        },
        key,
    })
}

pub async fn store_key(kv: &dyn KvStore, new: &NewKey) -> Result<(), String> {
    let hash = sha256_hex(&new.key);
    let r = &new.record;
    kv.put(&record_key(&hash), &serde_json::to_string(r).map_err(|e| e.to_string())?, None).await?;
    let info = ApiKeyInfo {
        id: r.id.clone(),
        prefix: r.prefix.clone(),
        label: r.label.clone(),
        scopes: r.scopes.clone(),
        created_ms: r.created_ms,
        last_used_ms: None,
    };
    kv.put(&index_key(&r.service, &r.id), &hash, Some(serde_json::to_value(info).map_err(|e| e.to_string())?)).await
}

pub async fn list_keys(kv: &dyn KvStore, service: &str) -> Result<Vec<ApiKeyInfo>, String> {
    let entries = kv.list(&format!("apikeys:{service}:")).await?;
    Ok(entries.into_iter().filter_map(|(_, meta)| serde_json::from_value(meta?).ok()).collect())
}

/// Deletes a key. `Ok(false)` when the service has no key with that id.
pub async fn revoke_key(kv: &dyn KvStore, service: &str, id: &str) -> Result<bool, String> {
    let index = index_key(service, id);
    let Some(hash) = kv.get(&index).await? else { return Ok(false) };
    kv.delete(&record_key(&hash)).await?;
    kv.delete(&index).await?;
    Ok(true)
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    Missing,
    Invalid(String),
    Unavailable(String),
}

/// Looks an API key up for `service`. A key of another service is as good as unknown.
pub async fn authenticate_key(kv: &dyn KvStore, service: &str, key: &str, now_ms: u64) -> Result<Principal, AuthError> {
    if !key.starts_with(KEY_PREFIX) {
        return Err(AuthError::Invalid("the credential is not an API key of this server".into()));
    }
    let hash = sha256_hex(key);
    let stored = kv.get(&record_key(&hash)).await.map_err(AuthError::Unavailable)?;
    let record: ApiKeyRecord = match stored.as_deref().map(serde_json::from_str) {
        Some(Ok(record)) => record,
        _ => return Err(AuthError::Invalid("unknown or revoked API key".into())),
    };
    if record.service != service {
        return Err(AuthError::Invalid("unknown or revoked API key".into()));
    }
    if record.last_used_ms.is_none_or(|t| now_ms.saturating_sub(t) >= LAST_USED_RESOLUTION_MS) {
        // Best effort: a failed bookkeeping write must not refuse a valid key.
        let _ = touch_key(kv, &hash, record.clone(), now_ms).await;
    }
    Ok(Principal { id: format!("key:{}", record.id), scopes: record.scopes })
}

async fn touch_key(kv: &dyn KvStore, hash: &str, mut record: ApiKeyRecord, now_ms: u64) -> Result<(), String> {
    record.last_used_ms = Some(now_ms);
    kv.put(&record_key(hash), &serde_json::to_string(&record).map_err(|e| e.to_string())?, None).await?;
    let info = ApiKeyInfo {
        id: record.id.clone(),
        prefix: record.prefix,
        label: record.label,
        scopes: record.scopes,
        created_ms: record.created_ms,
        last_used_ms: Some(now_ms),
    };
    kv.put(&index_key(&record.service, &record.id), hash, Some(serde_json::to_value(info).map_err(|e| e.to_string())?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_prefixed() {
        let a = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        let b = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        assert!(a.key.starts_with("mcp_"));
        assert_eq!(a.key.len(), 4 + 43, "32 random bytes in base64url");
        assert_ne!(a.key, b.key);
        assert_eq!(a.record.prefix, a.key[..12]);
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn compares_in_constant_time() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
    }
}
