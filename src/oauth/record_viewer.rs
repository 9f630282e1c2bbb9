//! The record pages' own sign-in: a person who opens a `search`/`fetch` link in a browser (from
//! ChatGPT, say) has no `Authorization` header to send, so the page signs them in through this
//! server's authorization flow, as a built-in public client, and keeps the access token in a
//! cookie that only the record pages read.
//!
//! - The client is `dbmcp-records:<service>`: bound to that one service, its only redirect URI is
//!   `<issuer>/mcp/<service>/records/callback`, PKCE, authorization code only (no refresh token),
//!   scope `read`. It is never stored, so it cannot be registered, changed or deleted.
//! - Between the start and the callback the PKCE verifier, the `state`, and the record to return
//!   to travel in a short-lived cookie, signed with a key derived from the signing key.
//! - The token cookie is `__Host-`, HttpOnly, SameSite=Lax (a top-level link from another site
//!   carries it; no cross-site subrequest does) and lives as long as the token. The MCP endpoint
//!   never reads cookies, so the cookie cannot be replayed against it by another site.

use crate::b64::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::client::{ClientRecord, AUTH_NONE};
use super::tokens::SigningKeys;
use super::ACCESS_TOKEN_SECONDS;
use crate::auth::constant_time_eq;

pub const CLIENT_PREFIX: &str = "dbmcp-records:";
/// How long a person has between leaving a record page and coming back signed in.
pub const FLOW_SECONDS: u64 = 600;
const FLOW_COOKIE: &str = "__Host-dbmcp_records_flow";
const SIGNING_LABEL: &str = "dbmcp record viewer flow v1";

pub fn client_id(service: &str) -> String {
    format!("{CLIENT_PREFIX}{service}")
}

pub fn is_record_viewer(client_id: &str) -> bool {
    client_id.starts_with(CLIENT_PREFIX)
}

pub fn callback_url(issuer: &str, service: &str) -> String {
    format!("{issuer}/mcp/{service}/records/callback")
}

/// The built-in client named `client_id`, when it is one (`service_exists` says whether the
/// service it names is on this server).
pub fn client_record(issuer: &str, client_id: &str, service_exists: impl Fn(&str) -> bool) -> Option<ClientRecord> {
    let service = client_id.strip_prefix(CLIENT_PREFIX)?;
    if !service_exists(service) {
        return None;
    }
    Some(ClientRecord {
        client_id: client_id.to_string(),
        client_name: Some("Record pages of this server".into()),
        redirect_uris: vec![callback_url(issuer, service)],
        grant_types: vec!["authorization_code".into()],
        token_endpoint_auth_method: AUTH_NONE.into(),
        secret_hash: None,
        created_ms: 0,
        dynamic: false,
        service: Some(service.to_string()),
        last_used_ms: None,
    })
}

/// Where a sign-in may return to: a record page of the same service, a path of this origin.
pub fn valid_return_path(service: &str, path: &str) -> bool {
    let Some(rest) = path.strip_prefix(&format!("/mcp/{service}/records/")) else { return false };
    let mut parts = rest.split('/');
    let (Some(table), Some(key), None) = (parts.next(), parts.next(), parts.next()) else { return false };
    !table.is_empty()
        && !key.is_empty()
        && path.len() <= 2048
        && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'"' && b != b'<' && b != b'>')
}

/// The token cookie of one service's record pages.
pub fn token_cookie_name(service: &str) -> String {
    format!("__Host-dbmcp_records_{service}")
}

pub fn set_token_cookie(service: &str, token: &str) -> String {
    format!(
        "{}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={}",
        token_cookie_name(service),
        ACCESS_TOKEN_SECONDS - 60
    )
}

pub fn clear_token_cookie(service: &str) -> String {
    format!("{}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0", token_cookie_name(service))
}

/// What the sign-in remembers between its start and the callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub service: String,
    pub return_to: String,
    pub verifier: String,
    pub state: String,
    pub exp: u64,
}

fn mac(keys: &SigningKeys, payload: &str) -> Result<Hmac<Sha256>, String> {
    let key = keys.derive(None, SIGNING_LABEL).ok_or("no signing key")?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length");
    mac.update(payload.as_bytes());
    Ok(mac)
}

pub fn set_flow_cookie(keys: &SigningKeys, pending: &PendingSignIn) -> Result<String, String> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(pending).map_err(|e| e.to_string())?);
    let signature = URL_SAFE_NO_PAD.encode(mac(keys, &payload)?.finalize().into_bytes());
    Ok(format!("{FLOW_COOKIE}={payload}.{signature}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={FLOW_SECONDS}"))
}

pub fn clear_flow_cookie() -> String {
    format!("{FLOW_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The pending sign-in of this browser, checked against the callback's `state`; `Err` says why
/// in words for the page.
pub fn open_flow_cookie(
    keys: &SigningKeys,
    cookie_header: Option<&str>,
    service: &str,
    state: &str,
    now_s: u64,
) -> Result<PendingSignIn, String> {
    let again = |why: &str| format!("{why}; open the record link again to sign in");
    let value = super::flow::cookie(cookie_header, FLOW_COOKIE)
        .ok_or_else(|| again("this browser has no sign-in in progress (cookies must be enabled)"))?;
    let (payload, signature) = value.split_once('.').ok_or_else(|| again("the sign-in cookie is malformed"))?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| again("the sign-in cookie is malformed"))?;
    mac(keys, payload)?
        .verify_slice(&signature)
        .map_err(|_| again("the sign-in cookie was not issued by this server"))?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| again("the sign-in cookie is malformed"))?;
    let pending: PendingSignIn =
        serde_json::from_slice(&bytes).map_err(|_| again("the sign-in cookie is malformed"))?;
    if now_s >= pending.exp {
        return Err(again("the sign-in took too long"));
    }
    if pending.service != service {
        return Err(again("the sign-in in progress is for another service"));
    }
    if !constant_time_eq(pending.state.as_bytes(), state.as_bytes()) {
        return Err(again("this answer belongs to another sign-in in this browser"));
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SigningKeys {
        SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap()
    }

    fn pending() -> PendingSignIn {
        PendingSignIn {
            service: "shop".into(),
            return_to: "/mcp/shop/records/orders/17".into(),
            verifier: "v".repeat(43),
            state: "s1".into(),
            exp: 1_000,
        }
    }

    fn cookie_header(set_cookie: &str) -> String {
        set_cookie.split(';').next().unwrap().to_string()
    }

    #[test]
    fn the_client_is_bound_to_its_service_and_its_callback() {
        let record = client_record("https://h", "dbmcp-records:shop", |s| s == "shop").unwrap();
        assert_eq!(record.redirect_uris, vec!["https://h/mcp/shop/records/callback".to_string()]);
        assert_eq!(record.service.as_deref(), Some("shop"));
        assert!(record.is_public() && !record.allows_refresh());
        assert!(client_record("https://h", "dbmcp-records:gone", |s| s == "shop").is_none());
        assert!(client_record("https://h", "shop", |_| true).is_none());
    }

    #[test]
    fn only_record_pages_of_the_same_service_are_return_paths() {
        assert!(valid_return_path("shop", "/mcp/shop/records/orders/17"));
        assert!(valid_return_path("shop", "/mcp/shop/records/order%20items/a%2Fb"));
        for bad in [
            "https://evil.example/mcp/shop/records/orders/17",
            "//evil.example/mcp/shop/records/orders/17",
            "/mcp/other/records/orders/17",
            "/mcp/shop/records/orders",
            "/mcp/shop/records/orders/17/x",
            "/mcp/shop/records//17",
            "/mcp/shop/records/orders/1\r\nset-cookie:x",
            "/mcp/shop/records/orders/\"><script>",
            "/mcp/shop/records/orders/1 7",
        ] {
            assert!(!valid_return_path("shop", bad), "{bad}");
        }
    }

    #[test]
    fn the_flow_cookie_round_trips_and_refuses_tampering() {
        let set = set_flow_cookie(&keys(), &pending()).unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.starts_with("__Host-"));
        let header = cookie_header(&set);
        assert_eq!(open_flow_cookie(&keys(), Some(&header), "shop", "s1", 999).unwrap(), pending());
        assert!(open_flow_cookie(&keys(), Some(&header), "shop", "s2", 999).unwrap_err().contains("another sign-in"));
        assert!(open_flow_cookie(&keys(), Some(&header), "shop", "s1", 1_000).unwrap_err().contains("too long"));
        assert!(open_flow_cookie(&keys(), Some(&header), "other", "s1", 999).unwrap_err().contains("another service"));
        assert!(open_flow_cookie(&keys(), None, "shop", "s1", 999).unwrap_err().contains("no sign-in"));

        // A changed return path with the old signature is refused.
        let (name_payload, signature) = header.split_once('.').unwrap();
        let payload = name_payload.split_once('=').unwrap().1;
        let mut forged: PendingSignIn = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        forged.return_to = "/mcp/shop/records/secrets/1".into();
        let forged =
            format!("{FLOW_COOKIE}={}.{signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()));
        assert!(open_flow_cookie(&keys(), Some(&forged), "shop", "s1", 999).unwrap_err().contains("not issued"));

        let other_keys = SigningKeys::parse("k2:HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo").unwrap();
        assert!(open_flow_cookie(&other_keys, Some(&header), "shop", "s1", 999).unwrap_err().contains("not issued"));
    }

    #[test]
    fn the_token_cookie_is_host_only_http_only_and_lax() {
        let set = set_token_cookie("shop", "tok");
        assert!(set.starts_with("__Host-dbmcp_records_shop=tok;"));
        for part in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(set.contains(part), "{set}");
        }
        assert!(!set.contains("Domain"));
        assert!(clear_token_cookie("shop").contains("Max-Age=0"));
    }
}
