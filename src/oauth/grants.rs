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
//! - `blocked_user:<sub>`       a disabled user, until re-enabled
//! - `rate:<bucket>`            [`Bucket`], until its window ends
//! - `once:<id>`                a single-use handle already used, until it expires

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{pkce, scope, CODE_SECONDS, REFRESH_TOKEN_SECONDS};

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
#[serde(tag = "op", rename_all = "snake_case")]
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
    /// A disabled (or deleted) user: grants end now; `block` keeps new ones from being issued.
    RevokeUser {
        sub: String,
        block: bool,
    },
    UnblockUser {
        sub: String,
    },
    /// Counts one attempt in a fixed window; refused once `limit` is reached.
    Hit {
        bucket: String,
        limit: u32,
        window_ms: u64,
    },
    /// Whether a bucket is below `limit`, without counting.
    Check {
        bucket: String,
        limit: u32,
    },
    /// Marks a single-use handle as used; `false` when it already was.
    ConsumeOnce {
        id: String,
        expires_ms: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
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
}

fn refused(error: &str, description: impl Into<String>) -> Reply {
    Reply::Refused { error: error.into(), description: description.into() }
}

fn read<T: for<'de> Deserialize<'de>>(store: &dyn RecordStore, key: &str) -> Option<T> {
    store.get(key).and_then(|v| serde_json::from_str(&v).ok())
}

fn write<T: Serialize>(store: &mut dyn RecordStore, key: &str, value: &T, expires_ms: Option<u64>) {
    store.put(key, &serde_json::to_string(value).unwrap_or_default(), expires_ms);
}

fn grant_key(id: &str) -> String {
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

fn revoke_by_index(store: &mut dyn RecordStore, prefix: &str, now_ms: u64) {
    for key in store.keys_with_prefix(prefix) {
        let grant_id = key.rsplit(':').next().unwrap_or_default().to_string();
        if let Some(grant) = read::<GrantRecord>(store, &grant_key(&grant_id)) {
            revoke(store, grant, now_ms);
        }
        store.delete(&key);
    }
}

/// Why a grant may not (any longer) yield tokens.
fn grant_blocked(store: &dyn RecordStore, grant: &GrantRecord) -> Option<&'static str> {
    if grant.revoked {
        Some("the grant was revoked")
    } else if store.get(&format!("deleted_client:{}", grant.client_id)).is_some() {
        Some("the client was deleted")
    } else if store.get(&format!("blocked_user:{}", grant.sub)).is_some() {
        Some("the user is disabled")
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
    write(store, &grant_key(&grant.id), grant, Some(expires_ms));
    store.put(&format!("client_grant:{}:{}", grant.client_id, grant.id), "", Some(expires_ms));
    store.put(&format!("user_grant:{}:{}", grant.sub, grant.id), "", Some(expires_ms));
}

pub fn apply(store: &mut dyn RecordStore, now_ms: u64, command: Command) -> Reply {
    match command {
        Command::IssueCode { code_hash, grant_id, client_id, sub, scope, resource, redirect_uri, code_challenge } => {
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
            revoke_by_index(store, &format!("client_grant:{client_id}:"), now_ms);
            store.put(&format!("deleted_client:{client_id}"), "", Some(now_ms + REFRESH_TOKEN_SECONDS * 1000));
            Reply::Done
        }
        Command::RevokeUser { sub, block } => {
            revoke_by_index(store, &format!("user_grant:{sub}:"), now_ms);
            if block {
                store.put(&format!("blocked_user:{sub}"), "", None);
            }
            Reply::Done
        }
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
        Command::Check { bucket, limit } => {
            match read::<Bucket>(store, &format!("rate:{bucket}")).filter(|b| now_ms < b.reset_ms) {
                Some(b) if b.count >= limit => {
                    Reply::Limited { allowed: false, retry_after_s: b.reset_ms.saturating_sub(now_ms).div_ceil(1000) }
                }
                _ => Reply::Limited { allowed: true, retry_after_s: 0 },
            }
        }
        Command::ConsumeOnce { id, expires_ms } => {
            let key = format!("once:{id}");
            if store.get(&key).is_some() {
                return Reply::Consumed { first: false };
            }
            store.put(&key, "", Some(expires_ms.max(now_ms + 1)));
            Reply::Consumed { first: true }
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
        let reply = apply(
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
            },
        );
        assert_eq!(reply, Reply::Done);
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
            },
        );
        assert_eq!(error_of(&again).1, "the client was deleted");

        let mut s = MemoryStore::default();
        issue(&mut s, "h1", "g1");
        exchange(&mut s, 1, "h1", VERIFIER, "https://a/cb", "r1");
        apply(&mut s, 5, Command::RevokeUser { sub: "alice".into(), block: true });
        assert_eq!(error_of(&refresh(&mut s, "r1", "r2")).0, "invalid_grant");
        apply(&mut s, 5, Command::UnblockUser { sub: "alice".into() });
        issue(&mut s, "h2", "g2");
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
        assert_eq!(
            apply(&mut s, 2, Command::Check { bucket: "b".into(), limit: 2 }),
            Reply::Limited { allowed: false, retry_after_s: 1 }
        );
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
}
