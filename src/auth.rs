//! Credentials: API keys (stored only as SHA-256 hashes in KV) and, beside them, OAuth access
//! tokens (see `crate::oauth`). Whatever the credential, authentication yields a [`Principal`].

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use crate::b64::URL_SAFE_NO_PAD;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

pub const SCOPE_READ: &str = "mcp:read";
pub const SCOPE_WRITE: &str = "mcp:write";
pub const KEY_PREFIX: &str = "mcp_";
/// How long a worker instance (isolate) trusts a key it has verified without asking again: a use
/// is recorded in the [`KeyLedger`] (which refuses a revoked key) at most this often per key and
/// isolate, and in between the key is served from the isolate's memory without a KV read. So a
/// key revoked elsewhere is refused everywhere within this bound (the ledger is strongly
/// consistent; KV's own edge cache no longer matters), and at once where it was revoked.
pub const KEY_RECHECK_MS: u64 = 30_000;
/// Verified keys remembered per isolate before the memory starts over.
const REMEMBERED_KEYS: usize = 1_000;

/// Who is calling, as far as sessions and tools care.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Stable identity a session is bound to, e.g. `key:Ab12...` or `anonymous`.
    pub id: String,
    pub scopes: Vec<String>,
    /// Identity and attributes for row policies (`{user.<attr>}`); empty when anonymous.
    pub caller: crate::rows::Caller,
    /// The credential behind `id`, in parts (what rate limits count).
    pub credential: Credential,
    /// The API key's label, for the execution log.
    pub key_label: Option<String>,
}

/// The credential a request was authenticated with.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// A service with `auth = "none"`.
    Anonymous,
    /// An API key, with its own limit when it was created with one.
    ApiKey { id: String, rate_limit_per_minute: Option<u64> },
    /// An OAuth access token: the client it was issued to and the user (`sub`).
    OAuth { client_id: String, user: String },
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal {
            id: "anonymous".into(),
            scopes: vec![SCOPE_READ.into(), SCOPE_WRITE.into()],
            credential: Credential::Anonymous,
            key_label: None,
            caller: Default::default(),
        }
    }
    /// The principal of a verified OAuth access token.
    pub fn oauth(client_id: &str, user: &str, scopes: Vec<String>) -> Self {
        Principal {
            id: format!("oauth:{client_id}:{user}"),
            scopes,
            credential: Credential::OAuth { client_id: client_id.into(), user: user.into() },
            key_label: None,
            // Attributes are the user's, read where a row policy needs them (`mcp_endpoint`).
            caller: crate::rows::Caller {
                id: Some(user.into()),
                name: Some(user.into()),
                attributes: Default::default(),
            },
        }
    }
    /// The principal of a verified API key.
    pub fn api_key(record: ApiKeyRecord) -> Self {
        let caller = crate::rows::Caller {
            id: Some(record.id.clone()),
            name: record.label.clone(),
            attributes: record.attributes,
        };
        Principal {
            id: format!("key:{}", record.id),
            scopes: record.scopes,
            credential: Credential::ApiKey { id: record.id, rate_limit_per_minute: record.rate_limit_per_minute },
            key_label: record.label,
            caller,
        }
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

/// A KV namespace in memory (no expiry, no metadata kept), for native tests of the HTTP layer and
/// the tools; unused by the worker, so the wasm build leaves it out.
#[derive(Default)]
pub struct MemoryKv(pub RefCell<BTreeMap<String, String>>);

#[async_trait(?Send)]
impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.borrow().get(key).cloned())
    }
    async fn put(&self, key: &str, value: &str, _: Option<Json>) -> Result<(), String> {
        self.0.borrow_mut().insert(key.into(), value.into());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), String> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str) -> Result<Vec<(String, Option<Json>)>, String> {
        Ok(self.0.borrow().keys().filter(|k| k.starts_with(prefix)).map(|k| (k.clone(), None)).collect())
    }
}

#[async_trait(?Send)]
impl ExpiringKv for MemoryKv {
    async fn put_expiring(&self, key: &str, value: &str, metadata: Option<Json>, _: Option<u64>) -> Result<(), String> {
        self.put(key, value, metadata).await
    }
}

/// Where API key uses and revocations are recorded, strongly consistently (the service's grant
/// store, a Durable Object, at the edge). A key's KV records are written once, at creation, and
/// deleted at revocation; nothing else writes them, so no racing write can bring a key back.
#[async_trait(?Send)]
pub trait KeyLedger {
    /// Records a use now; `Ok(false)` when the key was revoked.
    async fn record_use(&self, service: &str, id: &str) -> Result<bool, String>;
    /// Marks the key revoked for good (before its KV records go).
    async fn revoke(&self, service: &str, id: &str) -> Result<(), String>;
    /// When each key of the service was last used.
    async fn last_used(&self, service: &str) -> Result<BTreeMap<String, u64>, String>;
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
    /// Values for row policies (`{user.<attr>}`), set when the key is created.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Json>,
    /// Written by earlier versions only; uses are now recorded in the [`KeyLedger`].
    #[serde(default)]
    pub last_used_ms: Option<u64>,
    /// This key's own limit, beating the service's `rate_limits.api_key_per_minute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u64>,
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
    /// The key's own limit (`null`: the service's `rate_limits.api_key_per_minute`, if any).
    #[serde(default)]
    pub rate_limit_per_minute: Option<u64>,
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
            attributes: Map::new(),
            last_used_ms: None,
            rate_limit_per_minute: None,
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
        rate_limit_per_minute: r.rate_limit_per_minute,
    };
    kv.put(&index_key(&r.service, &r.id), &hash, Some(serde_json::to_value(info).map_err(|e| e.to_string())?)).await
}

pub async fn list_keys(
    kv: &dyn KvStore,
    ledger: Option<&dyn KeyLedger>,
    service: &str,
) -> Result<Vec<ApiKeyInfo>, String> {
    let entries = kv.list(&format!("apikeys:{service}:")).await?;
    let used = match ledger {
        Some(ledger) => ledger.last_used(service).await?,
        None => BTreeMap::new(),
    };
    Ok(entries
        .into_iter()
        .filter_map(|(_, meta)| serde_json::from_value::<ApiKeyInfo>(meta?).ok())
        .map(|mut info| {
            info.last_used_ms = used.get(&info.id).copied().or(info.last_used_ms);
            info
        })
        .collect())
}

/// Revokes a key: the ledger's tombstone first (a use racing this is then refused and not
/// recorded), then its KV records. `Ok(false)` when the service has no key with that id.
pub async fn revoke_key(
    kv: &dyn KvStore,
    ledger: Option<&dyn KeyLedger>,
    service: &str,
    id: &str,
) -> Result<bool, String> {
    let index = index_key(service, id);
    let Some(hash) = kv.get(&index).await? else { return Ok(false) };
    if let Some(ledger) = ledger {
        ledger.revoke(service, id).await?;
    }
    // Forgotten once the tombstone is written and again once the records are gone: a lookup in
    // flight meanwhile sees the epoch move and does not remember what it read.
    forget_key(&hash);
    kv.delete(&record_key(&hash)).await?;
    kv.delete(&index).await?;
    forget_key(&hash);
    Ok(true)
}

/// A key this isolate verified: its record, and when the ledger last confirmed it unrevoked.
struct VerifiedKey {
    record: ApiKeyRecord,
    confirmed_ms: u64,
}

thread_local! {
    /// Keys verified by this isolate, by the SHA-256 of the key (see [`KEY_RECHECK_MS`]).
    static VERIFIED_KEYS: RefCell<HashMap<String, VerifiedKey>> = RefCell::new(HashMap::new());
    /// Moves on every revocation in this isolate; a lookup remembers a key only if it did not move
    /// while the lookup was in flight.
    static REVOCATION_EPOCH: Cell<u64> = const { Cell::new(0) };
}

fn verified_key(hash: &str, now_ms: u64) -> Option<ApiKeyRecord> {
    VERIFIED_KEYS.with(|m| {
        m.borrow()
            .get(hash)
            .filter(|v| now_ms.saturating_sub(v.confirmed_ms) < KEY_RECHECK_MS && now_ms >= v.confirmed_ms)
            .map(|v| v.record.clone())
    })
}

fn remember_key(hash: String, record: ApiKeyRecord, now_ms: u64, epoch: u64) {
    if REVOCATION_EPOCH.with(Cell::get) != epoch {
        return;
    }
    VERIFIED_KEYS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= REMEMBERED_KEYS {
            m.clear();
        }
        m.insert(hash, VerifiedKey { record, confirmed_ms: now_ms });
    });
}

/// Drops a key from this isolate's memory (it was revoked here or the ledger refused it).
fn forget_key(hash: &str) {
    REVOCATION_EPOCH.with(|e| e.set(e.get().wrapping_add(1)));
    VERIFIED_KEYS.with(|m| m.borrow_mut().remove(hash));
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    Missing,
    Invalid(String),
    Unavailable(String),
}

/// Looks an API key up for `service`. A key of another service is as good as unknown. A key
/// this isolate confirmed within [`KEY_RECHECK_MS`] is served from memory; otherwise its KV
/// record is read and the use recorded in the ledger, which refuses a revoked key (KV may still
/// serve a deleted record for ~60 s elsewhere). Without a ledger nothing is remembered.
pub async fn authenticate_key(
    kv: &dyn KvStore,
    ledger: Option<&dyn KeyLedger>,
    service: &str,
    key: &str,
    now_ms: u64,
) -> Result<Principal, AuthError> {
    if !key.starts_with(KEY_PREFIX) {
        return Err(AuthError::Invalid("the credential is not an API key of this server".into()));
    }
    let hash = sha256_hex(key);
    let unknown = || AuthError::Invalid("unknown or revoked API key".into());
    if let Some(record) = verified_key(&hash, now_ms) {
        if record.service != service {
            return Err(unknown());
        }
        return Ok(Principal::api_key(record));
    }
    let epoch = REVOCATION_EPOCH.with(Cell::get);
    let stored = kv.get(&record_key(&hash)).await.map_err(AuthError::Unavailable)?;
    let record: ApiKeyRecord = match stored.as_deref().map(serde_json::from_str) {
        Some(Ok(record)) => record,
        _ => return Err(unknown()),
    };
    if record.service != service {
        return Err(unknown());
    }
    if let Some(ledger) = ledger {
        match ledger.record_use(service, &record.id).await {
            Ok(true) => remember_key(hash, record.clone(), now_ms, epoch),
            Ok(false) => {
                forget_key(&hash);
                return Err(unknown());
            }
            // Best effort: failed bookkeeping must not refuse a valid key (nor is it remembered).
            Err(_) => {}
        }
    }
    Ok(Principal::api_key(record))
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

    use crate::oauth::grants::{GrantKeyLedger, MemoryGrants};
    use std::cell::Cell;

    /// KV in memory. A read of `apikey:*` yields once after reading, so that another request
    /// can run exactly between a key's lookup and what follows it.
    #[derive(Default)]
    struct MemoryKv {
        map: RefCell<BTreeMap<String, (String, Option<Json>)>>,
        writes: Cell<usize>,
        reads: Cell<usize>,
    }

    struct YieldOnce(bool);

    impl std::future::Future for YieldOnce {
        type Output = ();
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
            if self.0 {
                return std::task::Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }

    #[async_trait(?Send)]
    impl KvStore for MemoryKv {
        async fn get(&self, key: &str) -> Result<Option<String>, String> {
            let value = self.map.borrow().get(key).map(|(v, _)| v.clone());
            self.reads.set(self.reads.get() + 1);
            if key.starts_with("apikey:") {
                YieldOnce(false).await;
            }
            Ok(value)
        }
        async fn put(&self, key: &str, value: &str, metadata: Option<Json>) -> Result<(), String> {
            self.writes.set(self.writes.get() + 1);
            self.map.borrow_mut().insert(key.into(), (value.into(), metadata));
            Ok(())
        }
        async fn delete(&self, key: &str) -> Result<(), String> {
            self.map.borrow_mut().remove(key);
            Ok(())
        }
        async fn list(&self, prefix: &str) -> Result<Vec<(String, Option<Json>)>, String> {
            Ok(self
                .map
                .borrow()
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, (_, m))| (k.clone(), m.clone()))
                .collect())
        }
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        futures_executor::block_on(f)
    }

    #[test]
    fn a_revocation_racing_the_first_use_is_final() {
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let ledger = GrantKeyLedger(&grants);
        let new = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        run(store_key(&kv, &new)).unwrap();
        let writes_at_creation = kv.writes.get();
        // The first use reads the key; the revocation runs to completion before the use goes on.
        let (racing, revoked) = run(futures_util::future::join(
            authenticate_key(&kv, Some(&ledger), "demo", &new.key, 10_000_000),
            revoke_key(&kv, Some(&ledger), "demo", &new.record.id),
        ));
        assert_eq!(revoked, Ok(true));
        // The in-flight use is refused (the ledger knows), and writes nothing back.
        assert_eq!(racing, Err(AuthError::Invalid("unknown or revoked API key".into())));
        assert_eq!(kv.writes.get(), writes_at_creation, "no KV write after creation");
        for now in [10_000_001, 20_000_000, 90_000_000] {
            assert!(run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, now)).is_err());
        }
        assert!(run(list_keys(&kv, Some(&ledger), "demo")).unwrap().is_empty());
    }

    #[test]
    fn uses_are_recorded_in_the_ledger_not_in_kv() {
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let ledger = GrantKeyLedger(&grants);
        let new = mint_key("svc1", None, vec![SCOPE_READ.into()], 1).unwrap();
        run(store_key(&kv, &new)).unwrap();
        let writes = kv.writes.get();
        assert!(run(list_keys(&kv, Some(&ledger), "svc1")).unwrap()[0].last_used_ms.is_none());
        grants.now_ms.set(5_000);
        run(authenticate_key(&kv, Some(&ledger), "svc1", &new.key, 5_000)).unwrap();
        assert_eq!(run(list_keys(&kv, Some(&ledger), "svc1")).unwrap()[0].last_used_ms, Some(5_000));
        // Within the resolution, this instance does not record again.
        grants.now_ms.set(6_000);
        run(authenticate_key(&kv, Some(&ledger), "svc1", &new.key, 6_000)).unwrap();
        assert_eq!(run(list_keys(&kv, Some(&ledger), "svc1")).unwrap()[0].last_used_ms, Some(5_000));
        assert_eq!(kv.writes.get(), writes);
        // A key of another service is unknown here.
        assert!(run(authenticate_key(&kv, Some(&ledger), "other", &new.key, 7_000)).is_err());
    }

    #[test]
    fn a_verified_key_is_served_from_memory_until_the_recheck_is_due() {
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let ledger = GrantKeyLedger(&grants);
        let new = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        run(store_key(&kv, &new)).unwrap();
        grants.now_ms.set(1_000);
        let first = run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000)).unwrap();
        let reads = kv.reads.get();
        // Within the bound: no KV read, no ledger write, the same principal.
        grants.now_ms.set(1_000 + KEY_RECHECK_MS - 1);
        let again = run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000 + KEY_RECHECK_MS - 1)).unwrap();
        assert_eq!(again, first);
        assert_eq!(kv.reads.get(), reads, "served from memory");
        assert_eq!(run(list_keys(&kv, Some(&ledger), "demo")).unwrap()[0].last_used_ms, Some(1_000));
        // Another service still does not accept it, even from memory.
        assert!(run(authenticate_key(&kv, Some(&ledger), "other", &new.key, 2_000)).is_err());
        // Once due, KV and the ledger are asked again (and the use recorded).
        let due = 1_000 + KEY_RECHECK_MS;
        grants.now_ms.set(due);
        run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, due)).unwrap();
        assert!(kv.reads.get() > reads);
        assert_eq!(run(list_keys(&kv, Some(&ledger), "demo")).unwrap()[0].last_used_ms, Some(due));
    }

    #[test]
    fn a_revocation_in_this_isolate_is_immediate() {
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let ledger = GrantKeyLedger(&grants);
        let new = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        run(store_key(&kv, &new)).unwrap();
        run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000)).unwrap();
        assert_eq!(run(revoke_key(&kv, Some(&ledger), "demo", &new.record.id)), Ok(true));
        assert!(run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_001)).is_err());
    }

    #[test]
    fn a_key_revoked_through_another_isolate_is_refused_within_the_bound() {
        let kv = MemoryKv::default();
        let grants = MemoryGrants::default();
        let ledger = GrantKeyLedger(&grants);
        let new = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        run(store_key(&kv, &new)).unwrap();
        run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000)).unwrap();
        // Another isolate revokes: the ledger's tombstone is written, but this isolate's memory is
        // not told, and KV elsewhere may still serve the record (it is kept here).
        run(ledger.revoke("demo", &new.record.id)).unwrap();
        assert!(run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000 + KEY_RECHECK_MS - 1)).is_ok());
        assert_eq!(
            run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000 + KEY_RECHECK_MS)),
            Err(AuthError::Invalid("unknown or revoked API key".into()))
        );
        // And it stays refused (the refusal was not remembered as a success).
        assert!(run(authenticate_key(&kv, Some(&ledger), "demo", &new.key, 1_000 + KEY_RECHECK_MS + 1)).is_err());
    }

    #[test]
    fn without_a_ledger_nothing_is_remembered() {
        let kv = MemoryKv::default();
        let new = mint_key("demo", None, vec![SCOPE_READ.into()], 1).unwrap();
        run(store_key(&kv, &new)).unwrap();
        run(authenticate_key(&kv, None, "demo", &new.key, 1_000)).unwrap();
        kv.map.borrow_mut().clear();
        assert!(run(authenticate_key(&kv, None, "demo", &new.key, 1_001)).is_err());
    }
}
