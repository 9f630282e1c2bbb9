//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client whose
//! `client_id` is an https URL publishes its registration as a JSON document at that URL; the
//! authorization server fetches it when the client shows up, instead of the client registering.
//!
//! The rules, all decided here in plain Rust:
//! - The URL ([`check_url`]): `https`, written in its canonical form (so no `.`/`..` segments,
//!   default port, upper-case host...), a path other than `/`, no credentials, no fragment, at most
//!   [`MAX_CLIENT_ID_CHARS`] characters, a DNS name (never an IP literal, `localhost`, a single label
//!   or a local-only suffix), and never this server itself. Only when the worker itself runs on
//!   loopback (local tests) may a document live on a loopback host, over http or https.
//! - The fetch ([`resolve`], through a [`DocumentFetcher`]): no redirects followed, status 200 only,
//!   at most [`MAX_DOCUMENT_BYTES`], within [`FETCH_TIMEOUT_MS`].
//! - The document ([`client_from_document`]): a JSON object whose `client_id` equals the URL exactly;
//!   redirect URIs under the registration rules; `token_endpoint_auth_method` `none` (the default
//!   here) or `private_key_jwt` with a `jwks_uri`/`jwks` (accepted as a public client that uses
//!   `none`, as this server verifies no client assertions); shared-secret methods and
//!   `client_secret` refused; `client_name` required (MCP), names and URIs capped as in
//!   registration; unknown fields ignored.
//! - The cache ([`DocumentCache`], [`cache_seconds`]): valid documents only, for the lifetime their
//!   `Cache-Control` gives (minus `Age`), at most [`MAX_CACHE_SECONDS`], [`DEFAULT_CACHE_SECONDS`]
//!   without one; `no-store`, `no-cache` or `max-age=0` keep nothing.

use std::cell::RefCell;
use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{Map, Value as Json};
use url::{Host, Url};

use super::client::{ClientRecord, AUTH_NONE};
use super::{redirect, registration};

/// Longer URLs are refused: the client id travels in grants, tokens and storage keys.
pub const MAX_CLIENT_ID_CHARS: usize = 512;
/// The draft's recommended cap on a document's size.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// The whole fetch (connection, headers and body) must finish within this.
pub const FETCH_TIMEOUT_MS: u64 = 5_000;
/// Cache lifetime of a document served without `Cache-Control`.
pub const DEFAULT_CACHE_SECONDS: u64 = 3600;
/// No document is kept longer than this, whatever its headers say.
pub const MAX_CACHE_SECONDS: u64 = 24 * 3600;
/// Documents kept per isolate; beyond this the one expiring first makes room.
pub const MAX_CACHED_DOCUMENTS: usize = 256;

const SECRET_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];
const PRIVATE_KEY_JWT: &str = "private_key_jwt";
/// Name suffixes that only resolve inside a network (RFC 6761, 6762, 8375, ICANN's .internal).
const LOCAL_SUFFIXES: [&str; 5] = [".localhost", ".local", ".internal", ".home.arpa", ".lan"];

/// Whether a `client_id` names a metadata document (and is never looked up among stored clients).
/// Generated client ids are random base64url, so they never start like this.
pub fn is_document_client_id(client_id: &str) -> bool {
    let lower = client_id.get(..8).unwrap_or(client_id).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(name) => *name == "localhost" || name.ends_with(".localhost"),
    }
}

/// Whether the worker serves `issuer` on a loopback host (local development and tests): the only
/// case where documents on loopback hosts may be fetched.
pub fn issuer_is_loopback(issuer: &str) -> bool {
    Url::parse(issuer).ok().is_some_and(|u| u.host().is_some_and(|h| is_loopback_host(&h)))
}

/// Checks a document URL `client_id` for the worker serving `issuer`.
pub fn check_url(client_id: &str, issuer: &str) -> Result<Url, String> {
    if client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(format!("is longer than {MAX_CLIENT_ID_CHARS} characters"));
    }
    if !client_id.bytes().all(|b| b.is_ascii_graphic()) || client_id.contains('\\') {
        return Err("must be printable ASCII without spaces or backslashes (an international host in its \
                    punycode form, xn--...)"
            .into());
    }
    if client_id.contains('#') {
        return Err("must not contain a fragment (#)".into());
    }
    let url = Url::parse(client_id).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials (user:password@)".into());
    }
    // One spelling only: what is fetched, compared, stored and shown is the URL as written.
    if url.as_str() != client_id {
        return Err(format!(
            "must be written in its normal form, {:?} (no . or .. segments, default port, upper-case \
             scheme or host, or percent-encoded host)",
            url.as_str()
        ));
    }
    let host = url.host().ok_or("needs a host")?;
    let local_worker = issuer_is_loopback(issuer);
    let loopback_allowed = local_worker && is_loopback_host(&host);
    match url.scheme() {
        "https" => {}
        "http" if loopback_allowed => {}
        "http" => return Err("must use https".into()),
        other => return Err(format!("must use https, not {other}:")),
    }
    if !loopback_allowed {
        check_public_host(&host)?;
    }
    if url.path() == "/" {
        return Err("needs a path naming the document, e.g. https://app.example/oauth/client.json".into());
    }
    if Url::parse(issuer).is_ok_and(|i| i.origin() == url.origin()) {
        return Err("names this server itself".into());
    }
    Ok(url)
}

/// A host the public Internet can reach: a DNS name with a dot and no local-only suffix. IP
/// literals are refused outright (private, loopback, link-local and every other special-use range
/// with them); names that resolve to private addresses are unreachable from Workers.
fn check_public_host(host: &Host<&str>) -> Result<(), String> {
    match host {
        Host::Ipv4(_) | Host::Ipv6(_) => {
            let kind = if is_loopback_host(host) { "a loopback" } else { "an IP" };
            Err(format!("must name its host by a public DNS name, not {kind} address"))
        }
        Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            if name == "localhost" || LOCAL_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                Err(format!("must name a public host, not the local-only {name:?}"))
            } else if !name.contains('.') {
                Err(format!("must name a public host by its full DNS name, not {name:?}"))
            } else {
                Ok(())
            }
        }
    }
}

/// The host shown on the consent page as the client's identity, for document clients.
pub fn identity_host(client_id: &str) -> Option<String> {
    if !is_document_client_id(client_id) {
        return None;
    }
    Url::parse(client_id).ok().and_then(|u| u.host_str().map(str::to_string))
}

fn string_field<'d>(doc: &'d Map<String, Json>, field: &str, max_chars: usize) -> Result<Option<&'d str>, String> {
    match doc.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.chars().count() <= max_chars => Ok(Some(s)),
        Some(Json::String(_)) => Err(format!("{field} is longer than {max_chars} characters")),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

fn string_list(doc: &Map<String, Json>, field: &str, max_items: usize) -> Result<Option<Vec<String>>, String> {
    let items = match doc.get(field) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(format!("{field} must be an array of strings")),
    };
    if items.len() > max_items {
        return Err(format!("{field} has more than {max_items} entries"));
    }
    items
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| format!("{field} must be an array of strings")))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Validates a fetched document into the client it describes.
pub fn client_from_document(client_id: &str, body: &[u8], now_ms: u64) -> Result<ClientRecord, String> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!("is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    let json: Json = serde_json::from_slice(body).map_err(|e| format!("is not JSON ({e})"))?;
    let doc = json.as_object().ok_or("must be a JSON object")?;
    match doc.get("client_id") {
        Some(Json::String(id)) if id == client_id => {}
        Some(Json::String(_)) => return Err("has a client_id that differs from its URL".into()),
        _ => return Err("must contain client_id, equal to its URL".into()),
    }
    if doc.contains_key("client_secret") || doc.contains_key("client_secret_expires_at") {
        return Err("must not contain client_secret: a published document cannot hold a secret".into());
    }
    let method = string_field(doc, "token_endpoint_auth_method", registration::MAX_FIELD_CHARS)?.unwrap_or(AUTH_NONE);
    match method {
        AUTH_NONE => {}
        PRIVATE_KEY_JWT => {
            let jwks_uri = string_field(doc, "jwks_uri", redirect::MAX_URI_CHARS)?;
            let has_keys =
                jwks_uri.is_some_and(|u| u.starts_with("https://")) || doc.get("jwks").is_some_and(Json::is_object);
            if !has_keys {
                return Err("uses private_key_jwt without an https jwks_uri (or jwks)".into());
            }
        }
        m if SECRET_METHODS.contains(&m) => {
            return Err(format!(
                "must not use token_endpoint_auth_method {m:?}: a published document cannot share a secret; use none"
            ))
        }
        other => {
            return Err(format!(
                "uses token_endpoint_auth_method {:?}, which this server does not support; use none",
                other.chars().take(100).collect::<String>()
            ))
        }
    }
    let uris = string_list(doc, "redirect_uris", registration::MAX_REDIRECT_URIS)?;
    let redirect_uris = registration::check_redirect_uris(uris).map_err(|e| e.description)?;
    // The document describes the client to every server it uses: grant types this one does not
    // offer are left out rather than refused.
    let listed = string_list(doc, "grant_types", registration::MAX_LIST_ITEMS)?
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if !listed.iter().any(|g| g == "authorization_code") {
        return Err("grant_types must include authorization_code".into());
    }
    let grant_types: Vec<String> = ["authorization_code", "refresh_token"]
        .iter()
        .filter(|g| listed.iter().any(|l| l == *g))
        .map(|g| g.to_string())
        .collect();
    if let Some(types) = string_list(doc, "response_types", registration::MAX_LIST_ITEMS)? {
        if !types.iter().any(|t| t == "code") {
            return Err("response_types must include code".into());
        }
    }
    let name = string_field(doc, "client_name", registration::MAX_NAME_CHARS)?;
    // MCP requires a name in every document; the consent page shows it beside the host.
    let client_name = registration::check_name(name).map_err(|e| e.description)?;
    if client_name.is_none() {
        return Err("must contain client_name".into());
    }
    for field in ["client_uri", "logo_uri", "tos_uri", "policy_uri"] {
        if let Some(uri) = string_field(doc, field, redirect::MAX_URI_CHARS)? {
            if !(uri.starts_with("https://") || uri.starts_with("http://")) {
                return Err(format!("{field} must be an http(s) URL"));
            }
        }
    }
    // `application_type` ("web", "native"), `scope`, `jwks_uri` and the rest: accepted, not used.
    let record = ClientRecord {
        client_id: client_id.to_string(),
        client_name,
        redirect_uris,
        grant_types,
        token_endpoint_auth_method: AUTH_NONE.to_string(),
        secret_hash: None,
        created_ms: now_ms,
        dynamic: false,
        service: None,
        last_used_ms: None,
    };
    registration::check_record(record).map_err(|e| e.description)
}

/// Seconds a valid document may be kept, from its `Cache-Control` and `Age`; 0 keeps nothing.
pub fn cache_seconds(cache_control: Option<&str>, age: Option<&str>) -> u64 {
    let Some(cache_control) = cache_control else { return DEFAULT_CACHE_SECONDS };
    let mut max_age = None;
    for directive in cache_control.split(',') {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return 0,
            // A malformed max-age counts as stale (RFC 9111 4.2.1).
            "max-age" => max_age = Some(value.trim().trim_matches('"').parse::<u64>().unwrap_or(0)),
            _ => {}
        }
    }
    let Some(max_age) = max_age else { return DEFAULT_CACHE_SECONDS };
    let age = age.and_then(|a| a.trim().parse::<u64>().ok()).unwrap_or(0);
    max_age.saturating_sub(age).min(MAX_CACHE_SECONDS)
}

/// A fetched response, as far as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedDocument {
    pub status: u16,
    pub cache_control: Option<String>,
    pub age: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    TimedOut,
    /// The body (or its declared length) passed the cap; the rest was not read.
    TooLarge,
    Failed(String),
}

/// Fetches a document: GET, redirects not followed, `max_bytes` read at most, everything within
/// `timeout_ms`.
#[async_trait(?Send)]
pub trait DocumentFetcher {
    async fn fetch(&self, url: &str, max_bytes: usize, timeout_ms: u64) -> Result<FetchedDocument, FetchError>;
}

/// Why a document client could not be used.
#[derive(Debug, Clone, PartialEq)]
pub enum CimdError {
    /// The URL or the document breaks a rule, or the server answered something other than 200:
    /// the client must fix its document.
    Refused(String),
    /// The document could not be fetched now (network error, time-out, server error): try later.
    Unreachable(String),
}

impl CimdError {
    pub fn message(&self) -> &str {
        match self {
            CimdError::Refused(m) | CimdError::Unreachable(m) => m,
        }
    }
}

/// Valid documents by URL, each until its lifetime ends (per isolate at the edge).
#[derive(Default)]
pub struct DocumentCache {
    entries: RefCell<HashMap<String, (u64, ClientRecord)>>,
}

impl DocumentCache {
    pub fn get(&self, url: &str, now_ms: u64) -> Option<ClientRecord> {
        let mut entries = self.entries.borrow_mut();
        match entries.get(url) {
            Some((expires_ms, record)) if *expires_ms > now_ms => Some(record.clone()),
            Some(_) => {
                entries.remove(url);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, url: &str, record: ClientRecord, expires_ms: u64, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_CACHED_DOCUMENTS && !entries.contains_key(url) {
            entries.retain(|_, (expires, _)| *expires > now_ms);
            if entries.len() >= MAX_CACHED_DOCUMENTS {
                let first = entries.iter().min_by_key(|(_, (expires, _))| *expires).map(|(k, _)| k.clone());
                if let Some(key) = first {
                    entries.remove(&key);
                }
            }
        }
        entries.insert(url.to_string(), (expires_ms, record));
    }

    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The client a document URL describes: checked, then from the cache or fetched and validated.
pub async fn resolve(
    fetcher: &dyn DocumentFetcher,
    cache: &DocumentCache,
    client_id: &str,
    issuer: &str,
    now_ms: u64,
) -> Result<ClientRecord, CimdError> {
    let refused = |why: String| CimdError::Refused(format!("The client ID metadata document URL {why}."));
    check_url(client_id, issuer).map_err(|why| refused(format!("{client_id:?} {why}")))?;
    if let Some(record) = cache.get(client_id, now_ms) {
        return Ok(record);
    }
    let fetched = match fetcher.fetch(client_id, MAX_DOCUMENT_BYTES, FETCH_TIMEOUT_MS).await {
        Ok(fetched) => fetched,
        Err(FetchError::TooLarge) => {
            return Err(refused(format!("{client_id:?} serves a document larger than {MAX_DOCUMENT_BYTES} bytes")))
        }
        Err(FetchError::TimedOut) => {
            return Err(CimdError::Unreachable(format!(
                "The client ID metadata document at {client_id:?} did not arrive within {} seconds.",
                FETCH_TIMEOUT_MS / 1000
            )))
        }
        Err(FetchError::Failed(why)) => {
            return Err(CimdError::Unreachable(format!(
                "The client ID metadata document at {client_id:?} could not be fetched: {why}."
            )))
        }
    };
    match fetched.status {
        200 => {}
        300..=399 => {
            return Err(refused(format!(
                "{client_id:?} answered with a redirect ({}); the document must be served at its URL itself, with 200",
                fetched.status
            )))
        }
        // Server trouble or rate limiting: worth trying again later.
        status @ (429 | 500..=599) => {
            return Err(CimdError::Unreachable(format!(
                "The client ID metadata document at {client_id:?} could not be fetched: its server answered {status}."
            )))
        }
        status => return Err(refused(format!("{client_id:?} answered {status}, not 200"))),
    }
    let record = client_from_document(client_id, &fetched.body, now_ms)
        .map_err(|why| CimdError::Refused(format!("The client ID metadata document at {client_id:?} {why}.")))?;
    let keep = cache_seconds(fetched.cache_control.as_deref(), fetched.age.as_deref());
    if keep > 0 {
        cache.put(client_id, record.clone(), now_ms + keep * 1000, now_ms);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::Cell;

    const PUBLIC: &str = "https://db.example.com";
    const LOCAL: &str = "http://127.0.0.1:8787";
    const URL: &str = "https://app.example.com/oauth/client.json";

    fn doc(extra: Json) -> Vec<u8> {
        let mut d = json!({
            "client_id": URL, "client_name": "Example", "redirect_uris": ["https://app.example.com/cb"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "none"
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                d.as_object_mut().unwrap().remove(k);
            } else {
                d[k] = v.clone();
            }
        }
        serde_json::to_vec(&d).unwrap()
    }

    #[test]
    fn only_url_client_ids_are_documents() {
        assert!(is_document_client_id(URL));
        assert!(is_document_client_id("HTTPS://APP.example.com/x"));
        assert!(is_document_client_id("http://127.0.0.1/x"));
        assert!(!is_document_client_id("Zx3f_9aQ1bC7dE2fG4hJ5k"));
        assert!(!is_document_client_id("https"));
        assert!(!is_document_client_id(""));
    }

    #[test]
    fn accepts_real_client_urls() {
        for url in [
            "https://claude.ai/oauth/claude-code-client-metadata",
            "https://vscode.dev/oauth/client-metadata.json",
            "https://chatgpt.com/oauth/client.json",
            "https://app.example.com:8443/client.json?v=2",
            "https://xn--80ak6aa92e.com/client.json",
        ] {
            assert!(check_url(url, PUBLIC).is_ok(), "{url}: {:?}", check_url(url, PUBLIC));
        }
    }

    #[test]
    fn refuses_urls_outside_the_rules() {
        let cases = [
            ("http://app.example.com/client.json", "must use https"),
            ("ftp://app.example.com/client.json", "must use https"),
            ("https://app.example.com/", "needs a path"),
            ("https://app.example.com", "normal form"),
            ("https://app.example.com/a/../client.json", "normal form"),
            ("https://app.example.com/a/./client.json", "normal form"),
            ("https://app.example.com/a/%2e%2e/client.json", "normal form"),
            ("https://APP.example.com/client.json", "normal form"),
            ("https://app.example.com:443/client.json", "normal form"),
            ("https://app%2Eexample.com/client.json", "normal form"),
            ("https://app.example.com/client.json#x", "fragment"),
            ("https://user:pw@app.example.com/client.json", "credentials"),
            ("https://app.example.com\\@evil.example/client.json", "backslash"),
            ("https://аpp.example.com/client.json", "ASCII"),
            ("https://b%C3%BCcher.example/client.json", "not a valid URL (invalid international domain name)"),
            ("https://app.example.com/client json", "ASCII"),
            ("https:///client.json", "normal form"),
            ("https://db.example.com/client.json", "this server itself"),
        ];
        for (url, why) in cases {
            let err = check_url(url, PUBLIC).unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
        let long = format!("https://app.example.com/{}", "a".repeat(MAX_CLIENT_ID_CHARS));
        assert!(check_url(&long, PUBLIC).unwrap_err().contains("longer than"));
    }

    #[test]
    fn refuses_private_loopback_link_local_and_local_names() {
        for url in [
            "https://127.0.0.1/client.json",
            "https://10.0.0.7/client.json",
            "https://172.16.3.4/client.json",
            "https://192.168.1.1/client.json",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/client.json",
            "https://0.0.0.0/client.json",
            "https://[::1]/client.json",
            "https://[fe80::1]/client.json",
            "https://[fd00::1]/client.json",
            "https://[::ffff:a00:1]/client.json",
            "https://93.184.216.34/client.json",
        ] {
            let err = check_url(url, PUBLIC).unwrap_err();
            assert!(err.contains("not a loopback address") || err.contains("not an IP address"), "{url}: {err}");
        }
        for url in [
            "https://localhost/client.json",
            "https://app.localhost/client.json",
            "https://printer.local/client.json",
            "https://metadata.google.internal/client.json",
            "https://router.home.arpa/client.json",
            "https://intranet/client.json",
            "https://localhost./client.json",
        ] {
            let err = check_url(url, PUBLIC).unwrap_err();
            assert!(err.contains("public host"), "{url}: {err}");
        }
    }

    #[test]
    fn loopback_documents_only_for_a_worker_on_loopback() {
        let local_doc = "http://127.0.0.1:4567/client.json";
        assert!(check_url(local_doc, LOCAL).is_ok());
        assert!(check_url("http://localhost:4567/client.json", "http://localhost:8787").is_ok());
        assert!(check_url("https://[::1]:4567/client.json", LOCAL).is_ok());
        // The same URL on a public worker (PUBLIC_ORIGIN=https://...) is refused.
        assert!(check_url(local_doc, PUBLIC).unwrap_err().contains("must use https"));
        assert!(check_url("https://127.0.0.1:4567/client.json", PUBLIC).unwrap_err().contains("loopback"));
        // A local worker still refuses http for any other host, and private addresses.
        assert!(check_url("http://app.example.com/client.json", LOCAL).unwrap_err().contains("https"));
        assert!(check_url("http://10.0.0.1/client.json", LOCAL).is_err());
        assert!(check_url("https://10.0.0.1/client.json", LOCAL).is_err());
        // Not the worker's own origin, even locally.
        assert!(check_url("http://127.0.0.1:8787/x.json", LOCAL).unwrap_err().contains("itself"));
        assert!(issuer_is_loopback("http://127.0.0.1:8787") && issuer_is_loopback("http://[::1]:1"));
        assert!(!issuer_is_loopback(PUBLIC) && !issuer_is_loopback("http://127.0.0.1.example.com"));
    }

    #[test]
    fn reads_a_valid_document() {
        let record = client_from_document(URL, &doc(json!({"application_type": "native", "x-extra": [1]})), 7).unwrap();
        assert_eq!(record.client_id, URL);
        assert_eq!(record.client_name.as_deref(), Some("Example"));
        assert_eq!(record.redirect_uris, vec!["https://app.example.com/cb"]);
        assert!(record.is_public() && record.allows_refresh() && record.secret_hash.is_none());
        assert!(!record.dynamic && record.service.is_none());
        // Minimal document: grant type defaults to authorization_code, method to none.
        let minimal = json!({"client_id": URL, "client_name": "M", "redirect_uris": ["http://127.0.0.1/cb"]});
        let record = client_from_document(URL, &serde_json::to_vec(&minimal).unwrap(), 0).unwrap();
        assert!(record.is_public() && !record.allows_refresh());
        // Grant types this server does not offer are left out, not refused.
        let many = doc(json!({"grant_types": ["authorization_code", "client_credentials", "refresh_token"],
                              "application_type": "web", "response_types": ["code", "token"]}));
        assert_eq!(
            client_from_document(URL, &many, 0).unwrap().grant_types,
            vec!["authorization_code", "refresh_token"]
        );
    }

    #[test]
    fn private_key_jwt_clients_are_accepted_as_public_clients() {
        let jwt =
            doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://app.example.com/jwks"}));
        let record = client_from_document(URL, &jwt, 0).unwrap();
        assert_eq!(record.token_endpoint_auth_method, "none");
        let inline = doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}}));
        assert!(client_from_document(URL, &inline, 0).is_ok());
        let keyless = doc(json!({"token_endpoint_auth_method": "private_key_jwt"}));
        assert!(client_from_document(URL, &keyless, 0).unwrap_err().contains("jwks_uri"));
        let http_keys =
            doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://app.example.com/j"}));
        assert!(client_from_document(URL, &http_keys, 0).is_err());
        // Offering private_key_jwt while using none: none.
        let both = doc(json!({"jwks_uri": "https://app.example.com/jwks"}));
        assert!(client_from_document(URL, &both, 0).unwrap().is_public());
    }

    #[test]
    fn refuses_bad_documents() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"<html>hi</html>".to_vec(), "is not JSON"),
            (b"[1,2]".to_vec(), "JSON object"),
            (b"".to_vec(), "is not JSON"),
            (doc(json!({"client_id": "https://app.example.com/oauth/client.json/"})), "differs from its URL"),
            (doc(json!({"client_id": "https://APP.example.com/oauth/client.json"})), "differs from its URL"),
            (doc(json!({"client_id": null})), "must contain client_id"),
            (doc(json!({"client_id": 5})), "must contain client_id"),
            (doc(json!({"redirect_uris": null})), "redirect_uris is required"),
            (doc(json!({"redirect_uris": []})), "at least one"),
            (doc(json!({"redirect_uris": "https://app.example.com/cb"})), "array of strings"),
            (doc(json!({"redirect_uris": ["http://evil.example/cb"]})), "loopback"),
            (doc(json!({"redirect_uris": ["javascript:alert(1)"]})), "javascript"),
            (doc(json!({"token_endpoint_auth_method": "client_secret_basic"})), "cannot share a secret"),
            (doc(json!({"token_endpoint_auth_method": "client_secret_post"})), "cannot share a secret"),
            (doc(json!({"token_endpoint_auth_method": "client_secret_jwt"})), "cannot share a secret"),
            (doc(json!({"token_endpoint_auth_method": "tls_client_auth"})), "does not support"),
            (doc(json!({"token_endpoint_auth_method": 1})), "must be a string"),
            (doc(json!({"client_secret": "s3cret"})), "client_secret"),
            (doc(json!({"grant_types": ["refresh_token"]})), "authorization_code"),
            (doc(json!({"response_types": ["token"]})), "include code"),
            (doc(json!({"client_name": "x".repeat(201)})), "longer than 200"),
            (doc(json!({"client_name": null})), "must contain client_name"),
            (doc(json!({"client_name": "  "})), "must contain client_name"),
            (doc(json!({"client_name": "Claude\u{202e}moc.live"})), "bidirectional"),
            (doc(json!({"logo_uri": "javascript:alert(1)"})), "http(s) URL"),
            (doc(json!({"client_uri": "x".repeat(2001)})), "longer than 2000"),
        ];
        for (body, why) in cases {
            let err = client_from_document(URL, &body, 0).unwrap_err();
            assert!(err.contains(why), "{}: {err}", String::from_utf8_lossy(&body));
        }
        // Nesting deeper than serde_json's recursion limit is an error, not a stack overflow.
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(2000), "]".repeat(2000));
        assert!(client_from_document(URL, deep.as_bytes(), 0).unwrap_err().contains("is not JSON"));
        let huge = doc(json!({"client_name": "n", "padding": "p".repeat(MAX_DOCUMENT_BYTES)}));
        assert!(client_from_document(URL, &huge, 0).unwrap_err().contains("larger than"));
    }

    #[test]
    fn cache_lifetime_follows_the_headers_within_bounds() {
        assert_eq!(cache_seconds(None, None), DEFAULT_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("public"), None), DEFAULT_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("public, max-age=600"), None), 600);
        assert_eq!(cache_seconds(Some("Max-Age=\"120\""), None), 120);
        assert_eq!(cache_seconds(Some("max-age=600"), Some("550")), 50);
        assert_eq!(cache_seconds(Some("max-age=600"), Some("900")), 0);
        assert_eq!(cache_seconds(Some("max-age=31536000, immutable"), None), MAX_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("max-age=0"), None), 0);
        assert_eq!(cache_seconds(Some("max-age=junk"), None), 0);
        assert_eq!(cache_seconds(Some("no-store"), None), 0);
        assert_eq!(cache_seconds(Some("max-age=600, no-cache"), None), 0);
        assert_eq!(cache_seconds(Some("private, NO-STORE"), None), 0);
    }

    #[test]
    fn the_cache_is_bounded_and_expires() {
        let cache = DocumentCache::default();
        let record = client_from_document(URL, &doc(json!({})), 0).unwrap();
        cache.put(URL, record.clone(), 1_000, 0);
        assert_eq!(cache.get(URL, 999), Some(record.clone()));
        assert_eq!(cache.get(URL, 1_000), None);
        assert!(cache.is_empty(), "expired entries are dropped");
        for i in 0..MAX_CACHED_DOCUMENTS + 50 {
            cache.put(&format!("{URL}?{i}"), record.clone(), 10_000 + i as u64, 0);
        }
        assert_eq!(cache.len(), MAX_CACHED_DOCUMENTS);
        assert!(cache.get(&format!("{URL}?0"), 1).is_none(), "the entry expiring first made room");
        assert!(cache.get(&format!("{URL}?{}", MAX_CACHED_DOCUMENTS + 49), 1).is_some());
    }

    /// Serves one fixed answer and counts fetches (the e2e tests use a real server).
    struct Fixed {
        answer: Result<FetchedDocument, FetchError>,
        fetches: Cell<u32>,
    }

    #[async_trait(?Send)]
    impl DocumentFetcher for Fixed {
        async fn fetch(&self, _url: &str, _max: usize, _timeout: u64) -> Result<FetchedDocument, FetchError> {
            self.fetches.set(self.fetches.get() + 1);
            self.answer.clone()
        }
    }

    fn serving(status: u16, cache_control: Option<&str>, body: Vec<u8>) -> Fixed {
        let answer = Ok(FetchedDocument { status, cache_control: cache_control.map(str::to_string), age: None, body });
        Fixed { answer, fetches: Cell::new(0) }
    }

    fn run(
        fetcher: &Fixed,
        cache: &DocumentCache,
        url: &str,
        issuer: &str,
        now_ms: u64,
    ) -> Result<ClientRecord, CimdError> {
        futures_executor::block_on(resolve(fetcher, cache, url, issuer, now_ms))
    }

    #[test]
    fn resolves_and_caches_valid_documents_only() {
        let cache = DocumentCache::default();
        let fetcher = serving(200, Some("max-age=60"), doc(json!({})));
        assert!(run(&fetcher, &cache, URL, PUBLIC, 0).is_ok());
        assert!(run(&fetcher, &cache, URL, PUBLIC, 59_000).is_ok());
        assert_eq!(fetcher.fetches.get(), 1, "served from the cache");
        assert!(run(&fetcher, &cache, URL, PUBLIC, 60_000).is_ok());
        assert_eq!(fetcher.fetches.get(), 2, "fetched again once stale");

        let uncached = DocumentCache::default();
        let no_store = serving(200, Some("no-store"), doc(json!({})));
        run(&no_store, &uncached, URL, PUBLIC, 0).unwrap();
        run(&no_store, &uncached, URL, PUBLIC, 1).unwrap();
        assert_eq!(no_store.fetches.get(), 2);

        let invalid = serving(200, None, doc(json!({"client_id": "https://other.example/x"})));
        assert!(matches!(run(&invalid, &uncached, URL, PUBLIC, 0), Err(CimdError::Refused(_))));
        assert!(uncached.is_empty(), "invalid documents are not cached");
    }

    #[test]
    fn fetch_failures_are_refused_or_unreachable() {
        let cache = DocumentCache::default();
        let redirect = serving(302, None, vec![]);
        let err = run(&redirect, &cache, URL, PUBLIC, 0).unwrap_err();
        assert!(matches!(&err, CimdError::Refused(m) if m.contains("redirect")), "{err:?}");
        let missing = serving(404, None, vec![]);
        assert!(matches!(run(&missing, &cache, URL, PUBLIC, 0), Err(CimdError::Refused(m)) if m.contains("404")));
        for status in [429, 500, 503] {
            let broken = serving(status, None, vec![]);
            assert!(matches!(run(&broken, &cache, URL, PUBLIC, 0), Err(CimdError::Unreachable(_))), "{status}");
        }
        let forbidden = serving(403, None, vec![]);
        assert!(matches!(run(&forbidden, &cache, URL, PUBLIC, 0), Err(CimdError::Refused(_))));
        let big = Fixed { answer: Err(FetchError::TooLarge), fetches: Cell::new(0) };
        assert!(
            matches!(run(&big, &cache, URL, PUBLIC, 0), Err(CimdError::Refused(m)) if m.contains("larger than 5120"))
        );
        let slow = Fixed { answer: Err(FetchError::TimedOut), fetches: Cell::new(0) };
        assert!(
            matches!(run(&slow, &cache, URL, PUBLIC, 0), Err(CimdError::Unreachable(m)) if m.contains("5 seconds"))
        );
        // A URL that breaks the rules is never fetched.
        let never = serving(200, None, doc(json!({"client_id": "https://10.0.0.1/c.json"})));
        assert!(run(&never, &cache, "https://10.0.0.1/c.json", PUBLIC, 0).is_err());
        assert_eq!(never.fetches.get(), 0);
        assert!(cache.is_empty());
    }

    #[test]
    fn shows_the_document_host() {
        assert_eq!(identity_host(URL).as_deref(), Some("app.example.com"));
        assert_eq!(identity_host("http://127.0.0.1:4567/c.json").as_deref(), Some("127.0.0.1"));
        assert_eq!(identity_host("Zx3f_9aQ1bC7dE2fG4hJ5k"), None);
    }
}
