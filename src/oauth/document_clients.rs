//! Metadata-document clients (`client_id` an https URL, see [`super::cimd`]) as one service's
//! grant store knows them: they are fetched, never stored as client records, so the operator sees
//! them through their live grants, and blocks them (per service, until allowed again) here.
//!
//! Records, next to those of [`super::grants`]: `blocked_client:<url>` -> when it was blocked (ms).

use serde::Serialize;

use super::cimd::is_document_client_id;
use super::grants::{grant_blocked, grant_key, read, GrantRecord, RecordStore};

/// Index entries (`client_grant:...`) read at most per listing, so a listing stays bounded.
pub const MAX_SCANNED_GRANTS: usize = 10_000;
/// User names listed per client (`user_count` counts them all).
pub const MAX_LISTED_USERS: usize = 50;

const INDEX_PREFIX: &str = "client_grant:";
const BLOCKED_PREFIX: &str = "blocked_client:";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentClient {
    pub client_id: String,
    /// Users with a live grant, by name (at most [`MAX_LISTED_USERS`]).
    pub users: Vec<String>,
    pub user_count: usize,
    pub grants: usize,
    /// When its oldest live grant was made (0 for a blocked client without grants).
    pub first_seen_ms: u64,
    /// When a token was last issued to it.
    pub last_used_ms: u64,
    pub blocked: bool,
    pub blocked_ms: Option<u64>,
}

fn blocked_key(client_id: &str) -> String {
    format!("{BLOCKED_PREFIX}{client_id}")
}

pub fn is_blocked(store: &dyn RecordStore, client_id: &str) -> bool {
    store.get(&blocked_key(client_id)).is_some()
}

/// Blocks for good (no expiry): the operator lifts it with [`allow`].
pub fn block(store: &mut dyn RecordStore, client_id: &str, now_ms: u64) {
    store.put(&blocked_key(client_id), &now_ms.to_string(), None);
}

/// Whether there was a block to lift.
pub fn allow(store: &mut dyn RecordStore, client_id: &str) -> bool {
    let was = is_blocked(store, client_id);
    store.delete(&blocked_key(client_id));
    was
}

/// Blocked clients first (so the operator can always allow them again), then those with live
/// grants; at most `limit`. `true` when some were left out. (Vectors searched linearly rather
/// than maps and sorts: `limit` is small, and each new map or sort type costs bundle size.)
pub fn list(store: &dyn RecordStore, limit: usize) -> (Vec<DocumentClient>, bool) {
    let mut clients: Vec<DocumentClient> = Vec::new();
    let mut truncated = false;
    for key in store.keys_with_prefix(BLOCKED_PREFIX) {
        if clients.len() >= limit {
            truncated = true;
            break;
        }
        let blocked_ms = store.get(&key).and_then(|v| v.parse().ok()).unwrap_or(0);
        clients.push(empty(key[BLOCKED_PREFIX.len()..].to_string(), Some(blocked_ms)));
    }
    // `client_grant:http` starts both `https://` and (local tests only) `http://` client ids.
    let index = store.keys_with_prefix(&format!("{INDEX_PREFIX}http"));
    truncated |= index.len() > MAX_SCANNED_GRANTS;
    for key in index.into_iter().take(MAX_SCANNED_GRANTS) {
        let Some((client_id, grant_id)) = key[INDEX_PREFIX.len()..].rsplit_once(':') else { continue };
        if !is_document_client_id(client_id) {
            continue;
        }
        let Some(grant) = read::<GrantRecord>(store, &grant_key(grant_id)) else { continue };
        if grant.client_id != client_id || grant_blocked(store, &grant).is_some() {
            continue;
        }
        let at = match clients.iter().position(|c| c.client_id == client_id) {
            Some(at) => at,
            None if clients.len() >= limit => {
                truncated = true;
                continue;
            }
            None => {
                clients.push(empty(client_id.to_string(), None));
                clients.len() - 1
            }
        };
        let client = &mut clients[at];
        client.grants += 1;
        client.first_seen_ms =
            if client.first_seen_ms == 0 { grant.created_ms } else { client.first_seen_ms.min(grant.created_ms) };
        client.last_used_ms = client.last_used_ms.max(grant.last_used_ms.max(grant.created_ms));
        if !client.users.contains(&grant.sub) {
            client.users.push(grant.sub);
        }
    }
    for client in &mut clients {
        client.user_count = client.users.len();
        client.users.truncate(MAX_LISTED_USERS);
    }
    (clients, truncated)
}

fn empty(client_id: String, blocked_ms: Option<u64>) -> DocumentClient {
    DocumentClient {
        client_id,
        users: vec![],
        user_count: 0,
        grants: 0,
        first_seen_ms: 0,
        last_used_ms: 0,
        blocked: blocked_ms.is_some(),
        blocked_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::super::grants::{apply, Command, MemoryStore, Reply};
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const APP: &str = "https://app.example.com/client.json";

    fn issue(s: &mut MemoryStore, now: u64, client: &str, sub: &str, n: u32) -> Reply {
        s.now_ms = now;
        apply(
            s,
            now,
            Command::IssueCode {
                code_hash: format!("code{n}"),
                grant_id: format!("g{n}"),
                client_id: client.into(),
                sub: sub.into(),
                scope: "mcp:read".into(),
                resource: "https://h/mcp/demo".into(),
                redirect_uri: "https://app.example.com/cb".into(),
                code_challenge: CHALLENGE.into(),
                epoch: 0,
            },
        )
    }

    fn exchange(s: &mut MemoryStore, now: u64, client: &str, n: u32) -> Reply {
        s.now_ms = now;
        apply(
            s,
            now,
            Command::ExchangeCode {
                code_hash: format!("code{n}"),
                client_id: client.into(),
                redirect_uri: Some("https://app.example.com/cb".into()),
                code_verifier: VERIFIER.into(),
                resource: None,
                refresh_hash: format!("r{n}"),
            },
        )
    }

    /// A grant with a live refresh token `r<n>`.
    fn sign_in(s: &mut MemoryStore, now: u64, client: &str, sub: &str, n: u32) {
        assert_eq!(issue(s, now, client, sub, n), Reply::Done);
        assert!(matches!(exchange(s, now + 1, client, n), Reply::Granted { .. }));
    }

    fn refresh(s: &mut MemoryStore, now: u64, client: &str, old: &str, new: &str) -> Reply {
        s.now_ms = now;
        apply(
            s,
            now,
            Command::Refresh {
                refresh_hash: old.into(),
                client_id: client.into(),
                new_refresh_hash: new.into(),
                scope: None,
                resource: None,
            },
        )
    }

    fn listed(s: &mut MemoryStore, limit: usize) -> (Vec<DocumentClient>, bool) {
        let now = s.now_ms;
        // Through the command, as the worker sees it, and straight from `list`.
        match apply(s, now, Command::DocumentClients(limit)) {
            Reply::DocumentClients(listing) => {
                let direct = list(s, limit);
                assert_eq!(listing, serde_json::json!({"clients": direct.0, "truncated": direct.1}));
                direct
            }
            other => panic!("{other:?}"),
        }
    }

    fn refusal(reply: Reply) -> String {
        match reply {
            Reply::Refused { error, description } => format!("{error}: {description}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn lists_document_clients_by_url_with_users_and_times_and_not_stored_clients() {
        let mut s = MemoryStore::default();
        sign_in(&mut s, 100, APP, "alice", 1);
        sign_in(&mut s, 200, APP, "bob", 2);
        sign_in(&mut s, 300, APP, "alice", 3);
        sign_in(&mut s, 400, "https://other.example.org/c.json", "carol", 4);
        sign_in(&mut s, 500, "StoredClientId123", "dave", 5);
        // A code never redeemed is no live grant.
        assert_eq!(issue(&mut s, 600, "https://pending.example.org/c.json", "erin", 6), Reply::Done);
        assert!(matches!(refresh(&mut s, 700, APP, "r1", "r1b"), Reply::Granted { .. }));

        let (clients, truncated) = listed(&mut s, 200);
        assert!(!truncated);
        let ids: Vec<&str> = clients.iter().map(|c| c.client_id.as_str()).collect();
        assert_eq!(ids, [APP, "https://other.example.org/c.json"], "in the index's (URL) order");
        let app = &clients[0];
        assert_eq!((app.grants, app.user_count), (3, 2));
        assert_eq!(app.users, ["alice", "bob"]);
        assert_eq!((app.first_seen_ms, app.last_used_ms), (100, 700));
        assert!(!app.blocked);
        assert_eq!(listed(&mut s, 1), (vec![clients[0].clone()], true));
    }

    #[test]
    fn a_block_ends_grants_and_pending_codes_and_refuses_new_ones_until_allowed() {
        let mut s = MemoryStore::default();
        sign_in(&mut s, 100, APP, "alice", 1);
        sign_in(&mut s, 100, "https://other.example.org/c.json", "alice", 2);
        assert_eq!(issue(&mut s, 150, APP, "bob", 3), Reply::Done);
        assert_eq!(apply(&mut s, 200, Command::BlockClient(APP.into())), Reply::Revoked { revoked: true });

        let blocked = "the client was blocked on this service by its administrator";
        assert_eq!(refusal(refresh(&mut s, 210, APP, "r1", "r1b")), "invalid_grant: the grant was revoked");
        assert_eq!(refusal(exchange(&mut s, 210, APP, 3)), format!("invalid_grant: {blocked}"));
        assert_eq!(refusal(issue(&mut s, 220, APP, "carol", 4)), format!("access_denied: {blocked}"));
        assert_eq!(
            apply(&mut s, 220, Command::ClientDeleted { client_id: APP.into() }),
            Reply::Revoked { revoked: true }
        );
        // Other clients are untouched.
        assert!(matches!(refresh(&mut s, 230, "https://other.example.org/c.json", "r2", "r2b"), Reply::Granted { .. }));

        let (clients, _) = listed(&mut s, 200);
        assert_eq!(clients[0].client_id, APP, "blocked clients come first, even without grants");
        assert_eq!((clients[0].blocked, clients[0].blocked_ms, clients[0].grants), (true, Some(200), 0));
        assert!(!clients[1].blocked);

        assert_eq!(apply(&mut s, 300, Command::AllowClient(APP.into())), Reply::Revoked { revoked: true });
        assert_eq!(apply(&mut s, 300, Command::AllowClient(APP.into())), Reply::Revoked { revoked: false });
        sign_in(&mut s, 310, APP, "carol", 5);
        assert_eq!(listed(&mut s, 200).0.iter().filter(|c| c.blocked).count(), 0);
    }

    #[test]
    fn blocking_an_unknown_client_writes_nothing_and_a_url_prefix_is_not_its_sibling() {
        let mut s = MemoryStore::default();
        let unknown = apply(&mut s, 1, Command::BlockClient(APP.into()));
        assert_eq!(unknown, Reply::Revoked { revoked: false });
        assert!(s.records.is_empty());
        // `https://a/x` must not reach the grants of `https://a/x:y`.
        sign_in(&mut s, 10, "https://a.example/x:y", "alice", 1);
        sign_in(&mut s, 10, "https://a.example/x", "bob", 2);
        let r = apply(&mut s, 20, Command::BlockClient("https://a.example/x".into()));
        assert_eq!(r, Reply::Revoked { revoked: true });
        assert!(matches!(refresh(&mut s, 30, "https://a.example/x:y", "r1", "r1b"), Reply::Granted { .. }));
        assert_eq!(
            refusal(refresh(&mut s, 30, "https://a.example/x", "r2", "r2b")),
            "invalid_grant: the grant was revoked"
        );
    }
}
