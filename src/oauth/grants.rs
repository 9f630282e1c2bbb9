//! Grants, authorization codes and refresh tokens: the rules, run inside one Durable Object per
//! service so that every step is strongly consistent (a code is redeemed once; a refresh token
//! rotates once even under 100 concurrent requests; revocation is immediate).
//!
//! [`apply`] runs one [`Command`] against a synchronous [`RecordStore`]; at the edge that store is
//! the object's SQLite storage, whose calls are synchronous, so a command runs without
//! interleaving. Only hashes of codes and refresh tokens are stored.
//!
//! Records (key -> JSON value, expiry):
//! - `code:<sha256>`            [`CodeRecord`], until the code expires (kept after use to detect replay)
//! - `grant:<id>`               [`GrantRecord`], until its newest refresh token expires
//! - `refresh:<sha256>`         [`RefreshRecord`], until it expires (kept after use to detect reuse)
//! - `client_grant:<client>:<grant>`, `user_grant:<sub>:<grant>`  indexes for revocation
//! - `deleted_client:<client>`  tombstone, for the refresh token lifetime
//! - `blocked_client:<client>`  a metadata-document client blocked by the operator (ms), until allowed
//! - `blocked_user:<sub>`       a disabled user, until re-enabled
//! - `rate:<bucket>`            [`Bucket`], until its window ends
//! - `once:<id>`                a single-use handle already used, until it expires
//! - `secret:<name>`            a random server secret made on first use (`_global` shard)
//! - `user_state:<sub>`         [`UserState`]: the user's epoch, bumped by reset/disable/delete
//! - `key_used:<id>`            when an API key was last used (ms)
//! - `revoked_key:<id>`         tombstone of a revoked API key, for [`KEY_TOMBSTONE_MS`]

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::document_clients;
use super::login_limit::{self, LoginLimits};
use super::{pkce, scope, CODE_SECONDS, REFRESH_TOKEN_SECONDS};

/// How long a revoked key's tombstone outlives the revocation: far beyond KV's ~60 s of stale
/// reads, after which no request can still find the key to record a use of it.
pub const KEY_TOMBSTONE_MS: u64 = 30 * 24 * 3600 * 1000;

/// Synchronous key-value storage with expiry, as a Durable Object's SQLite provides.
pub trait RecordStore {
    /// The value, unless absent or expired.
    fn get(&self, key: &str) -> Option<String>;
    fn put(&mut self, key: &str, value: &str, expires_ms: Option<u64>);
    fn delete(&mut self, key: &str);
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String>;
}

/// Sends commands to the grant store of a shard (a service name, or `_global`).
#[async_trait(?Send)]
pub trait GrantStore {
    async fn run(&self, shard: &str, command: &Command) -> Result<Reply, String>;
}

pub const GLOBAL_SHARD: &str = "_global";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub id: String,
    pub client_id: String,
    pub sub: String,
    pub scope: String,
    pub resource: String,
    pub created_ms: u64,
    /// False until the code is redeemed.
    pub active: bool,
    pub revoked: bool,
    /// The user's epoch when they signed in; a grant of an older epoch yields nothing.
    #[serde(default)]
    pub epoch: u64,
    /// When a token was last issued from it (0 until the code is redeemed).
    #[serde(default)]
    pub last_used_ms: u64,
}

/// Per user: bumped whenever a reset, disable or delete must end everything issued before it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    pub epoch: u64,
    /// `updated_ms` of the user record the last change wrote: a sign-in that read an older
    /// record (KV is eventually consistent) checked a password that is no longer valid.
    pub changed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub grant_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_ms: u64,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub grant_id: String,
    pub expires_ms: u64,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub count: u32,
    pub reset_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged ({"variant": {...}}), not `tag = ...`: an internally tagged enum is parsed
// through serde's buffered `Content`, which cost about 13 KB of the gzip bundle. Only the worker
// and its Durable Objects (one build) read this JSON.
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// After consent: a pending grant and its code.
    IssueCode {
        code_hash: String,
        grant_id: String,
        client_id: String,
        sub: String,
        scope: String,
        resource: String,
        redirect_uri: String,
        code_challenge: String,
        /// The user's epoch at sign-in (see [`UserState`]).
        #[serde(default)]
        epoch: u64,
    },
    /// `/token` with `authorization_code`: redeems the code and stores the first refresh token.
    ExchangeCode {
        code_hash: String,
        client_id: String,
        redirect_uri: Option<String>,
        code_verifier: String,
        resource: Option<String>,
        refresh_hash: String,
    },
    /// `/token` with `refresh_token`: rotates.
    Refresh {
        refresh_hash: String,
        client_id: String,
        new_refresh_hash: String,
        scope: Option<String>,
        resource: Option<String>,
    },
    /// `/revoke` of a refresh token (ends its grant); ignored when it belongs to another client.
    RevokeRefresh {
        refresh_hash: String,
        client_id: String,
    },
    RevokeGrant {
        grant_id: String,
        client_id: String,
    },
    /// A deleted client: its grants end now, and nothing more is issued to it.
    RevokeClient {
        client_id: String,
    },
    /// A reset, disabled or deleted user: grants, codes and open consents end now (the epoch
    /// moves on); `block` keeps new ones from being issued.
    RevokeUser {
        sub: String,
        block: bool,
        /// `updated_ms` of the user record as the change wrote it.
        #[serde(default)]
        changed_ms: u64,
    },
    /// The user's current [`UserState`].
    UserEpoch {
        sub: String,
    },
    /// Before a password is checked: counts the attempt in every login bucket at once, or
    /// refuses when one is full. Also answers the user's state (read before the password).
    ReserveLogin {
        user: String,
        address: String,
        limits: LoginLimits,
    },
    /// A sign-in succeeded: its reservation is given back.
    ReleaseLogin {
        user: String,
        address: String,
    },
    /// An API key was used: records when, unless the key was revoked.
    KeyUsed {
        id: String,
    },
    /// Revokes an API key for good: tombstone, and its use record goes.
    RevokeKey {
        id: String,
    },
    /// When each API key of the shard was last used.
    KeysUsed,
    /// Whether a client was deleted (its tombstone exists) or, a metadata-document client,
    /// blocked.
    ClientDeleted {
        client_id: String,
    },
    // The next three are newtype variants, not `{field}` ones: each struct variant costs a serde
    // struct deserializer in the bundle.
    /// Metadata-document clients with live grants, and blocked ones (at most this many).
    DocumentClients(usize),
    /// Ends every grant of a metadata-document client (its URL) and refuses it until
    /// [`Command::AllowClient`]; `Revoked { revoked: false }` (nothing written) when it has no
    /// grants and is not blocked.
    BlockClient(String),
    /// Lifts a block; `Revoked { revoked: false }` when there was none.
    AllowClient(String),
    UnblockUser {
        sub: String,
    },
    /// Counts one attempt in a fixed window; refused once `limit` is reached.
    Hit {
        bucket: String,
        limit: u32,
        window_ms: u64,
    },
    /// Marks a single-use handle as used; `false` when it already was.
    ConsumeOnce {
        id: String,
        expires_ms: u64,
    },
    /// The secret named `name`; the first caller's `candidate` (random) becomes it, for good.
    Secret {
        name: String,
        candidate: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Externally tagged ({"variant": {...}}), not `tag = ...`: an internally tagged enum is parsed
// through serde's buffered `Content`, which cost about 13 KB of the gzip bundle. Only the worker
// and its Durable Objects (one build) read this JSON.
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Done,
    /// A token may be issued for this grant.
    Granted {
        grant_id: String,
        client_id: String,
        sub: String,
        scope: String,
        resource: String,
    },
    /// An OAuth error for the token endpoint (`invalid_grant`, `invalid_target`, `invalid_scope`).
    Refused {
        error: String,
        description: String,
    },
    Limited {
        allowed: bool,
        retry_after_s: u64,
    },
    Consumed {
        first: bool,
    },
    Epoch {
        epoch: u64,
        changed_ms: u64,
    },
    LoginReserved {
        allowed: bool,
        retry_after_s: u64,
        epoch: u64,
        changed_ms: u64,
    },
    /// Whether the key or client named was revoked / deleted.
    Revoked {
        revoked: bool,
    },
    KeysUsed {
        last_used_ms: std::collections::BTreeMap<String, u64>,
    },
    Secret {
        value: String,
    },
    /// `{"clients": [DocumentClient...], "truncated"}` as JSON, which the worker passes on
    /// without a deserializer of its own (bundle size); `truncated` when some were left out.
    DocumentClients(serde_json::Value),
}

fn refused(error: &str, description: impl Into<String>) -> Reply {
    Reply::Refused { error: error.into(), description: description.into() }
}

pub(super) fn read<T: for<'de> Deserialize<'de>>(store: &dyn RecordStore, key: &str) -> Option<T> {
    store.get(key).and_then(|v| serde_json::from_str(&v).ok())
}

fn write<T: Serialize>(store: &mut dyn RecordStore, key: &str, value: &T, expires_ms: Option<u64>) {
    store.put(key, &serde_json::to_string(value).unwrap_or_default(), expires_ms);
}

pub(super) fn grant_key(id: &str) -> String {
    format!("grant:{id}")
}

/// Ends a grant: its refresh tokens stop working at once.
fn revoke(store: &mut dyn RecordStore, mut grant: GrantRecord, now_ms: u64) {
    grant.revoked = true;
    // Keep the record for a refresh token lifetime, so a late refresh is told it was revoked.
    write(store, &grant_key(&grant.id), &grant, Some(now_ms + REFRESH_TOKEN_SECONDS * 1000));
    store.delete(&format!("client_grant:{}:{}", grant.client_id, grant.id));
    store.delete(&format!("user_grant:{}:{}", grant.sub, grant.id));
}

fn client_index_prefix(client_id: &str) -> String {
    format!("client_grant:{client_id}:")
}

/// Index keys `<prefix><grant id>` of exactly this prefix: a client id that is a URL may contain
/// `:`, so `client_grant:https://a/x:` also starts the keys of `https://a/x:y` (grant ids never
/// contain `:`).
pub(super) fn index_keys(store: &dyn RecordStore, prefix: &str) -> Vec<String> {
    let mut keys = store.keys_with_prefix(prefix);
    keys.retain(|k| !k[prefix.len()..].contains(':'));
    keys
}

fn revoke_by_index(store: &mut dyn RecordStore, prefix: &str, now_ms: u64) {
    for key in index_keys(store, prefix) {
        let grant_id = key[prefix.len()..].to_string();
        if let Some(grant) = read::<GrantRecord>(store, &grant_key(&grant_id)) {
            revoke(store, grant, now_ms);
        }
        store.delete(&key);
    }
}

fn user_state_key(sub: &str) -> String {
    format!("user_state:{sub}")
}

pub fn user_state(store: &dyn RecordStore, sub: &str) -> UserState {
    read(store, &user_state_key(sub)).unwrap_or_default()
}

/// Why a grant may not (any longer) yield tokens.
pub(super) fn grant_blocked(store: &dyn RecordStore, grant: &GrantRecord) -> Option<&'static str> {
    if grant.revoked {
        Some("the grant was revoked")
    } else if store.get(&format!("deleted_client:{}", grant.client_id)).is_some() {
        Some("the client was deleted")
    } else if document_clients::is_blocked(store, &grant.client_id) {
        Some("the client was blocked on this service by its administrator")
    } else if store.get(&format!("blocked_user:{}", grant.sub)).is_some() {
        Some("the user is disabled")
    } else if grant.epoch < user_state(store, &grant.sub).epoch {
        Some("the user's password was reset or the account changed after this sign-in")
    } else {
        None
    }
}

fn granted(grant: &GrantRecord, scope: String) -> Reply {
    Reply::Granted {
        grant_id: grant.id.clone(),
        client_id: grant.client_id.clone(),
        sub: grant.sub.clone(),
        scope,
        resource: grant.resource.clone(),
    }
}

fn store_refresh(store: &mut dyn RecordStore, hash: &str, grant: &GrantRecord, now_ms: u64) {
    let expires_ms = now_ms + REFRESH_TOKEN_SECONDS * 1000;
    write(
        store,
        &format!("refresh:{hash}"),
        &RefreshRecord { grant_id: grant.id.clone(), expires_ms, used: false },
        Some(expires_ms),
    );
    let used = GrantRecord { last_used_ms: now_ms, ..grant.clone() };
    write(store, &grant_key(&grant.id), &used, Some(expires_ms));
    store.put(&format!("client_grant:{}:{}", grant.client_id, grant.id), "", Some(expires_ms));
    store.put(&format!("user_grant:{}:{}", grant.sub, grant.id), "", Some(expires_ms));
}

pub fn apply(store: &mut dyn RecordStore, now_ms: u64, command: Command) -> Reply {
    match command {
        Command::IssueCode {
            code_hash,
            grant_id,
            client_id,
            sub,
            scope,
            resource,
            redirect_uri,
            code_challenge,
            epoch,
        } => {
            let expires_ms = now_ms + CODE_SECONDS * 1000;
            let grant = GrantRecord {
                id: grant_id,
                client_id,
                sub,
                scope,
                resource,
                created_ms: now_ms,
                active: false,
                revoked: false,
                epoch,
                last_used_ms: 0,
            };
            if let Some(why) = grant_blocked(store, &grant) {
                return refused("access_denied", why);
            }
            write(store, &grant_key(&grant.id), &grant, Some(expires_ms));
            let code = CodeRecord { grant_id: grant.id, redirect_uri, code_challenge, expires_ms, used: false };
            write(store, &format!("code:{code_hash}"), &code, Some(expires_ms));
            Reply::Done
        }
        Command::ExchangeCode { code_hash, client_id, redirect_uri, code_verifier, resource, refresh_hash } => {
            let key = format!("code:{code_hash}");
            let Some(mut code) = read::<CodeRecord>(store, &key) else {
                return refused("invalid_grant", "the authorization code is unknown or expired");
            };
            let Some(grant) = read::<GrantRecord>(store, &grant_key(&code.grant_id)) else {
                return refused("invalid_grant", "the authorization code is unknown or expired");
            };
            if code.used {
                // A replayed code may mean it was stolen: end everything issued from it.
                revoke(store, grant, now_ms);
                return refused(
                    "invalid_grant",
                    "the authorization code was already used; the tokens issued from it are revoked",
                );
            }
            if grant.client_id != client_id {
                return refused("invalid_grant", "the authorization code was issued to another client");
            }
            // Any failed attempt burns the code: whoever holds it gets one try.
            code.used = true;
            write(store, &key, &code, Some(code.expires_ms));
            if now_ms >= code.expires_ms {
                return refused("invalid_grant", "the authorization code has expired");
            }
            if redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
                return refused("invalid_grant", "redirect_uri does not match the one of the authorization request");
            }
            if !pkce::verify(&code_verifier, &code.code_challenge) {
                return refused("invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)");
            }
            if resource.as_deref().is_some_and(|r| r != grant.resource) {
                return refused("invalid_target", "resource differs from the one of the authorization request");
            }
            if let Some(why) = grant_blocked(store, &grant) {
                return refused("invalid_grant", why);
            }
            let mut grant = grant;
            grant.active = true;
            store_refresh(store, &refresh_hash, &grant, now_ms);
            let scope = grant.scope.clone();
            granted(&grant, scope)
        }
        Command::Refresh { refresh_hash, client_id, new_refresh_hash, scope: requested, resource } => {
            let key = format!("refresh:{refresh_hash}");
            let Some(mut token) = read::<RefreshRecord>(store, &key) else {
                return refused("invalid_grant", "the refresh token is unknown, expired or revoked");
            };
            let Some(grant) = read::<GrantRecord>(store, &grant_key(&token.grant_id)) else {
                return refused("invalid_grant", "the refresh token is unknown, expired or revoked");
            };
            if grant.client_id != client_id {
                return refused("invalid_grant", "the refresh token was issued to another client");
            }
            if token.used {
                revoke(store, grant, now_ms);
                return refused("invalid_grant", "the refresh token was already used; the grant is revoked");
            }
            if let Some(why) = grant_blocked(store, &grant) {
                return refused("invalid_grant", why);
            }
            if resource.as_deref().is_some_and(|r| r != grant.resource) {
                return refused("invalid_target", "resource differs from the one the grant is for");
            }
            let scope = match scope::narrow(&grant.scope, requested.as_deref()) {
                Ok(scope) => scope,
                Err(why) => return refused("invalid_scope", why),
            };
            token.used = true;
            write(store, &key, &token, Some(token.expires_ms));
            store_refresh(store, &new_refresh_hash, &grant, now_ms);
            granted(&grant, scope)
        }
        Command::RevokeRefresh { refresh_hash, client_id } => {
            if let Some(token) = read::<RefreshRecord>(store, &format!("refresh:{refresh_hash}")) {
                if let Some(grant) =
                    read::<GrantRecord>(store, &grant_key(&token.grant_id)).filter(|g| g.client_id == client_id)
                {
                    revoke(store, grant, now_ms);
                }
            }
            Reply::Done
        }
        Command::RevokeGrant { grant_id, client_id } => {
            if let Some(grant) = read::<GrantRecord>(store, &grant_key(&grant_id)).filter(|g| g.client_id == client_id)
            {
                revoke(store, grant, now_ms);
            }
            Reply::Done
        }
        Command::RevokeClient { client_id } => {
            revoke_by_index(store, &client_index_prefix(&client_id), now_ms);
            store.put(&format!("deleted_client:{client_id}"), "", Some(now_ms + REFRESH_TOKEN_SECONDS * 1000));
            Reply::Done
        }
        Command::RevokeUser { sub, block, changed_ms } => {
            revoke_by_index(store, &format!("user_grant:{sub}:"), now_ms);
            if block {
                store.put(&format!("blocked_user:{sub}"), "", None);
            }
            // Codes not yet redeemed and consent pages still open carry the old epoch.
            let old = user_state(store, &sub);
            let state = UserState { epoch: old.epoch + 1, changed_ms: changed_ms.max(old.changed_ms) };
            write(store, &user_state_key(&sub), &state, None);
            Reply::Done
        }
        Command::UserEpoch { sub } => {
            let UserState { epoch, changed_ms } = user_state(store, &sub);
            Reply::Epoch { epoch, changed_ms }
        }
        Command::ReserveLogin { user, address, limits } => {
            let UserState { epoch, changed_ms } = user_state(store, &user);
            let (allowed, retry_after_s) = login_limit::reserve(store, now_ms, &user, &address, &limits);
            Reply::LoginReserved { allowed, retry_after_s, epoch, changed_ms }
        }
        Command::ReleaseLogin { user, address } => {
            login_limit::release(store, now_ms, &user, &address);
            Reply::Done
        }
        Command::KeyUsed { id } => {
            if store.get(&format!("revoked_key:{id}")).is_some() {
                return Reply::Revoked { revoked: true };
            }
            store.put(&format!("key_used:{id}"), &now_ms.to_string(), None);
            Reply::Revoked { revoked: false }
        }
        Command::RevokeKey { id } => {
            store.put(&format!("revoked_key:{id}"), "", Some(now_ms + KEY_TOMBSTONE_MS));
            store.delete(&format!("key_used:{id}"));
            Reply::Done
        }
        Command::KeysUsed => {
            let last_used_ms = store
                .keys_with_prefix("key_used:")
                .into_iter()
                .filter_map(|key| {
                    let ms = store.get(&key)?.parse().ok()?;
                    Some((key["key_used:".len()..].to_string(), ms))
                })
                .collect();
            Reply::KeysUsed { last_used_ms }
        }
        Command::ClientDeleted { client_id } => Reply::Revoked {
            revoked: store.get(&format!("deleted_client:{client_id}")).is_some()
                || document_clients::is_blocked(store, &client_id),
        },
        Command::DocumentClients(limit) => {
            let (clients, truncated) = document_clients::list(store, limit);
            Reply::DocumentClients(serde_json::json!({"clients": clients, "truncated": truncated}))
        }
        Command::BlockClient(client_id) => {
            let found = document_clients::is_blocked(store, &client_id)
                || !index_keys(store, &client_index_prefix(&client_id)).is_empty();
            if found {
                revoke_by_index(store, &client_index_prefix(&client_id), now_ms);
                document_clients::block(store, &client_id, now_ms);
            }
            Reply::Revoked { revoked: found }
        }
        Command::AllowClient(client_id) => Reply::Revoked { revoked: document_clients::allow(store, &client_id) },
        Command::UnblockUser { sub } => {
            store.delete(&format!("blocked_user:{sub}"));
            Reply::Done
        }
        Command::Hit { bucket, limit, window_ms } => {
            let key = format!("rate:{bucket}");
            let mut b = read::<Bucket>(store, &key)
                .filter(|b| now_ms < b.reset_ms)
                .unwrap_or(Bucket { count: 0, reset_ms: now_ms + window_ms });
            let retry_after_s = b.reset_ms.saturating_sub(now_ms).div_ceil(1000);
            if b.count >= limit {
                return Reply::Limited { allowed: false, retry_after_s };
            }
            b.count += 1;
            write(store, &key, &b, Some(b.reset_ms));
            Reply::Limited { allowed: true, retry_after_s }
        }
        Command::ConsumeOnce { id, expires_ms } => {
            let key = format!("once:{id}");
            if store.get(&key).is_some() {
                return Reply::Consumed { first: false };
            }
            store.put(&key, "", Some(expires_ms.max(now_ms + 1)));
            Reply::Consumed { first: true }
        }
        Command::Secret { name, candidate } => {
            let key = format!("secret:{name}");
            if let Some(value) = store.get(&key) {
                return Reply::Secret { value };
            }
            store.put(&key, &candidate, None);
            Reply::Secret { value: candidate }
        }
    }
}

/// API key uses and revocations, kept in each service's grant store (see [`crate::auth::KeyLedger`]).
pub struct GrantKeyLedger<'a>(pub &'a dyn GrantStore);

#[async_trait(?Send)]
impl crate::auth::KeyLedger for GrantKeyLedger<'_> {
    async fn record_use(&self, service: &str, id: &str) -> Result<bool, String> {
        match self.0.run(service, &Command::KeyUsed { id: id.into() }).await? {
            Reply::Revoked { revoked } => Ok(!revoked),
            other => Err(format!("unexpected answer from the grant store: {other:?}")),
        }
    }
    async fn revoke(&self, service: &str, id: &str) -> Result<(), String> {
        self.0.run(service, &Command::RevokeKey { id: id.into() }).await.map(|_| ())
    }
    async fn last_used(&self, service: &str) -> Result<std::collections::BTreeMap<String, u64>, String> {
        match self.0.run(service, &Command::KeysUsed).await? {
            Reply::KeysUsed { last_used_ms } => Ok(last_used_ms),
            other => Err(format!("unexpected answer from the grant store: {other:?}")),
        }
    }
}

/// An in-memory [`RecordStore`] (native tests, and a reference for the edge's SQLite one).
#[derive(Default)]
pub struct MemoryStore {
    pub now_ms: u64,
    pub records: std::collections::BTreeMap<String, (String, Option<u64>)>,
}

impl RecordStore for MemoryStore {
    fn get(&self, key: &str) -> Option<String> {
        self.records.get(key).filter(|(_, exp)| exp.is_none_or(|e| e > self.now_ms)).map(|(v, _)| v.clone())
    }
    fn put(&mut self, key: &str, value: &str, expires_ms: Option<u64>) {
        self.records.insert(key.to_string(), (value.to_string(), expires_ms));
    }
    fn delete(&mut self, key: &str) {
        self.records.remove(key);
    }
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.records
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// A [`GrantStore`] over in-memory shards, for native tests of the HTTP layer.
#[derive(Default)]
pub struct MemoryGrants {
    pub shards: std::cell::RefCell<std::collections::BTreeMap<String, MemoryStore>>,
    pub now_ms: std::cell::Cell<u64>,
}

#[async_trait(?Send)]
impl GrantStore for MemoryGrants {
    async fn run(&self, shard: &str, command: &Command) -> Result<Reply, String> {
        let mut shards = self.shards.borrow_mut();
        let store = shards.entry(shard.to_string()).or_default();
        store.now_ms = self.now_ms.get();
        Ok(apply(store, self.now_ms.get(), command.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn issue(store: &mut MemoryStore, code: &str, grant: &str) {
        assert_eq!(issue_at(store, code, grant, 0), Reply::Done);
    }

    fn exchange(store: &mut MemoryStore, now: u64, code: &str, verifier: &str, redirect: &str, refresh: &str) -> Reply {
        store.now_ms = now;
        apply(
            store,
            now,
            Command::ExchangeCode {
                code_hash: code.into(),
                client_id: "c1".into(),
                redirect_uri: Some(redirect.into()),
                code_verifier: verifier.into(),
                resource: Some("https://h/mcp/demo".into()),
                refresh_hash: refresh.into(),
            },
        )
    }

    fn refresh(store: &mut MemoryStore, old: &str, new: &str) -> Reply {
        apply(
            store,
            10,
            Command::Refresh {
                refresh_hash: old.into(),
                client_id: "c1".into(),
                new_refresh_hash: new.into(),
                scope: None,
                resource: None,
            },
        )
    }

    fn error_of(reply: &Reply) -> (&str, &str) {
        match reply {
            Reply::Refused { error, description } => (error, description),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_code_is_redeemed_once_and_replay_revokes() {
        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        assert!(matches!(exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1"), Reply::Granted { .. }));
        let again = exchange(&mut s, 2, "h1", VERIFIER, "https://a/cb", "r2");
        assert_eq!(
            error_of(&again).1,
            "the authorization code was already used; the tokens issued from it are revoked"
        );
        assert_eq!(error_of(&refresh(&mut s, "r1", "r3")).1, "the grant was revoked");
    }

    #[test]
    fn code_checks_redirect_verifier_expiry_and_burns_on_failure() {
        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        let r = exchange(&mut s, 1, "h1", "wrong-verifier-wrong-verifier-wrong-verifier", "https://a/cb", "r1");
        assert_eq!(error_of(&r).1, "code_verifier does not match the code_challenge (PKCE S256)");
        issue(&mut s, "h2", "g2");
        let r = exchange(&mut s, 1, "h2", VERIFIER, "https://a/other", "r1");
        assert_eq!(error_of(&r).1, "redirect_uri does not match the one of the authorization request");
        issue(&mut s, "h3", "g3");
        let r = exchange(&mut s, CODE_SECONDS * 1000 + 1, "h3", VERIFIER, "https://a/cb", "r1");
        assert_eq!(error_of(&r).1, "the authorization code is unknown or expired");
        let r = exchange(&mut s, 1, "nope", VERIFIER, "https://a/cb", "r1");
        assert_eq!(error_of(&r).0, "invalid_grant");
    }

    #[test]
    fn refresh_rotates_and_reuse_revokes_the_grant() {
        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        assert!(matches!(refresh(&mut s, "r1", "r2"), Reply::Granted { .. }));
        assert_eq!(
            error_of(&refresh(&mut s, "r1", "r3")).1,
            "the refresh token was already used; the grant is revoked"
        );
        assert_eq!(error_of(&refresh(&mut s, "r2", "r4")).1, "the grant was revoked");
    }

    #[test]
    fn one_of_many_concurrent_refreshes_wins() {
        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        let wins =
            (0..100).filter(|i| matches!(refresh(&mut s, "r1", &format!("n{i}")), Reply::Granted { .. })).count();
        assert_eq!(wins, 1);
    }

    #[test]
    fn deleting_clients_and_blocking_users_stop_refresh_at_once() {
        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        apply(&mut s, 5, Command::RevokeClient { client_id: "c1".into() });
        assert_eq!(error_of(&refresh(&mut s, "r1", "r2")).1, "the grant was revoked");
        let again = apply(
            &mut s,
            6,
            Command::IssueCode {
                code_hash: "h2".into(),
                grant_id: "g2".into(),
                client_id: "c1".into(),
                sub: "alice".into(),
                scope: "mcp:read".into(),
                resource: "https://h/mcp/demo".into(),
                redirect_uri: "https://a/cb".into(),
                code_challenge: CHALLENGE.into(),
                epoch: 0,
            },
        );
        assert_eq!(error_of(&again).1, "the client was deleted");

        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        apply(&mut s, 5, Command::RevokeUser { sub: "alice".into(), block: true, changed_ms: 5 });
        assert_eq!(error_of(&refresh(&mut s, "r1", "r2")).0, "invalid_grant");
        apply(&mut s, 5, Command::UnblockUser { sub: "alice".into() });
        // A new sign-in carries the epoch the block moved to.
        assert_eq!(issue_at(&mut s, "h2", "g2", 1), Reply::Done);
        assert!(matches!(exchange(&mut s, 6, "h2", VERIFIER, "https://a/cb", "r3"), Reply::Granted { .. }));
    }

    #[test]
    fn rate_limits_and_single_use_handles() {
        let mut s = MemoryStore::default();
        let hit =
            |s: &mut MemoryStore, now| apply(s, now, Command::Hit { bucket: "b".into(), limit: 2, window_ms: 1000 });
        assert!(matches!(hit(&mut s, 0), Reply::Limited { allowed: true, .. }));
        assert!(matches!(hit(&mut s, 1), Reply::Limited { allowed: true, .. }));
        assert_eq!(hit(&mut s, 2), Reply::Limited { allowed: false, retry_after_s: 1 });
        assert!(matches!(hit(&mut s, 1000), Reply::Limited { allowed: true, .. }));
        assert_eq!(
            apply(&mut s, 0, Command::ConsumeOnce { id: "x".into(), expires_ms: 50 }),
            Reply::Consumed { first: true }
        );
        assert_eq!(
            apply(&mut s, 0, Command::ConsumeOnce { id: "x".into(), expires_ms: 50 }),
            Reply::Consumed { first: false }
        );
    }

    #[test]
    fn a_named_secret_is_made_once_and_kept() {
        let mut s = MemoryStore::default();
        let secret = |s: &mut MemoryStore, candidate: &str| match apply(
            s,
            0,
            Command::Secret { name: "confirm".into(), candidate: candidate.into() },
        ) {
            Reply::Secret { value } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(secret(&mut s, "first"), "first");
        assert_eq!(secret(&mut s, "second"), "first", "a later candidate never replaces the secret");
    }

    #[test]
    fn refresh_may_narrow_scope_and_checks_the_resource() {
        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        let r = apply(
            &mut s,
            2,
            Command::Refresh {
                refresh_hash: "r1".into(),
                client_id: "c1".into(),
                new_refresh_hash: "r2".into(),
                scope: Some("mcp:read".into()),
                resource: None,
            },
        );
        assert!(matches!(r, Reply::Granted { ref scope, .. } if scope == "mcp:read"));
        let r = apply(
            &mut s,
            2,
            Command::Refresh {
                refresh_hash: "r2".into(),
                client_id: "c1".into(),
                new_refresh_hash: "r3".into(),
                scope: None,
                resource: Some("https://h/mcp/other".into()),
            },
        );
        assert_eq!(error_of(&r).0, "invalid_target");
        let r = apply(
            &mut s,
            2,
            Command::Refresh {
                refresh_hash: "r2".into(),
                client_id: "c2".into(),
                new_refresh_hash: "r3".into(),
                scope: None,
                resource: None,
            },
        );
        assert_eq!(error_of(&r).1, "the refresh token was issued to another client");
    }

    fn issue_at(store: &mut MemoryStore, code: &str, grant: &str, epoch: u64) -> Reply {
        apply(
            store,
            0,
            Command::IssueCode {
                code_hash: code.into(),
                grant_id: grant.into(),
                client_id: "c1".into(),
                sub: "alice".into(),
                scope: "mcp:read mcp:write".into(),
                resource: "https://h/mcp/demo".into(),
                redirect_uri: "https://a/cb".into(),
                code_challenge: CHALLENGE.into(),
                epoch,
            },
        )
    }

    fn epoch_of(store: &mut MemoryStore, sub: &str) -> (u64, u64) {
        match apply(store, 0, Command::UserEpoch { sub: sub.into() }) {
            Reply::Epoch { epoch, changed_ms } => (epoch, changed_ms),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reset_ends_codes_and_consents_issued_before_it() {
        let mut s = MemoryStore::default();
        assert_eq!(epoch_of(&mut s, "alice"), (0, 0));
        // A code issued before the reset, not yet redeemed (a pending grant, in no index).
        assert_eq!(issue_at(&mut s, "h1", "g1", 0), Reply::Done);
        apply(&mut s, 5, Command::RevokeUser { sub: "alice".into(), block: false, changed_ms: 77 });
        assert_eq!(epoch_of(&mut s, "alice"), (1, 77));
        let r = exchange(&mut s, 6, "h1", VERIFIER, "https://a/cb", "r1");
        assert_eq!(
            error_of(&r),
            ("invalid_grant", "the user's password was reset or the account changed after this sign-in")
        );
        // A consent page opened before the reset carries epoch 0: no code.
        assert_eq!(error_of(&issue_at(&mut s, "h2", "g2", 0)).0, "access_denied");
        // A sign-in after the reset works, and other users are untouched.
        assert_eq!(issue_at(&mut s, "h3", "g3", 1), Reply::Done);
        assert!(matches!(exchange(&mut s, 7, "h3", VERIFIER, "https://a/cb", "r3"), Reply::Granted { .. }));
        assert_eq!(epoch_of(&mut s, "bob"), (0, 0));
    }

    #[test]
    fn a_grant_of_an_older_epoch_stops_refreshing_even_outside_the_index() {
        let mut s = MemoryStore::default();
        issue_at(&mut s, "h1", "g1", 0);
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        // Even if the index entry were lost, the epoch alone ends the grant.
        s.delete("user_grant:alice:g1");
        apply(&mut s, 5, Command::RevokeUser { sub: "alice".into(), block: false, changed_ms: 5 });
        assert_eq!(error_of(&refresh(&mut s, "r1", "r2")).0, "invalid_grant");
    }

    #[test]
    fn a_revoked_key_stays_revoked_and_its_use_is_not_recorded() {
        let mut s = MemoryStore::default();
        assert_eq!(apply(&mut s, 10, Command::KeyUsed { id: "k1".into() }), Reply::Revoked { revoked: false });
        apply(&mut s, 20, Command::KeyUsed { id: "k2".into() });
        let used = |s: &mut MemoryStore| match apply(s, 30, Command::KeysUsed) {
            Reply::KeysUsed { last_used_ms } => last_used_ms,
            other => panic!("{other:?}"),
        };
        assert_eq!(used(&mut s).into_iter().collect::<Vec<_>>(), [("k1".to_string(), 10), ("k2".to_string(), 20)]);
        apply(&mut s, 40, Command::RevokeKey { id: "k1".into() });
        // A use racing the revocation finds the tombstone: refused, nothing written back.
        assert_eq!(apply(&mut s, 41, Command::KeyUsed { id: "k1".into() }), Reply::Revoked { revoked: true });
        assert_eq!(used(&mut s).into_keys().collect::<Vec<_>>(), ["k2"]);
    }

    #[test]
    fn a_deleted_client_is_known_as_deleted() {
        let mut s = MemoryStore::default();
        let deleted = |s: &mut MemoryStore| apply(s, 1, Command::ClientDeleted { client_id: "c1".into() });
        assert_eq!(deleted(&mut s), Reply::Revoked { revoked: false });
        apply(&mut s, 1, Command::RevokeClient { client_id: "c1".into() });
        assert_eq!(deleted(&mut s), Reply::Revoked { revoked: true });
    }
}
