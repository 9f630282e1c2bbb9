//! Registered clients (KV `oauth_client:<id>`) and how the token endpoint authenticates them.

use crate::b64::STANDARD;
use serde::{Deserialize, Serialize};

use super::form::Params;
use super::OAuthError;
use crate::auth::{constant_time_eq, sha256_hex};

pub const AUTH_NONE: &str = "none";
pub const AUTH_POST: &str = "client_secret_post";
pub const AUTH_BASIC: &str = "client_secret_basic";
pub const AUTH_METHODS: [&str; 3] = [AUTH_NONE, AUTH_POST, AUTH_BASIC];

pub fn record_key(client_id: &str) -> String {
    format!("oauth_client:{client_id}")
}

/// Index of the clients an administrator created for a service (value: client id, metadata: summary).
pub fn service_index_key(service: &str, client_id: &str) -> String {
    format!("oauth_clients:{service}:{client_id}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    /// SHA-256 (hex) of the secret; `None` for public clients. Secrets are 32 random bytes, so a
    /// fast hash is enough: there is nothing to guess.
    pub secret_hash: Option<String>,
    pub created_ms: u64,
    /// Registered through `/register` (expires when unused) rather than by an administrator.
    pub dynamic: bool,
    /// Administrator-created clients belong to one service; dynamic ones may ask for any.
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub last_used_ms: Option<u64>,
}

impl ClientRecord {
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == AUTH_NONE
    }
    pub fn allows_refresh(&self) -> bool {
        self.grant_types.iter().any(|g| g == "refresh_token")
    }
    pub fn display_name(&self) -> &str {
        self.client_name.as_deref().filter(|n| !n.is_empty()).unwrap_or("An unnamed application")
    }
}

/// Bytes the record takes in KV (its JSON).
pub fn stored_size(record: &ClientRecord) -> usize {
    serde_json::to_string(record).map(|text| text.len()).unwrap_or(usize::MAX)
}

/// A new secret and its hash.
pub fn new_secret() -> Result<(String, String), String> {
    let secret = crate::auth::random_token(32)?;
    let hash = sha256_hex(&secret);
    Ok((secret, hash))
}

pub fn new_client_id() -> Result<String, String> {
    crate::auth::random_token(18)
}

/// What the caller presented at the token or revocation endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub via_basic: bool,
}

/// Reads client credentials from `Authorization: Basic` or the form (never both).
pub fn presented(authorization: Option<&str>, form: &Params) -> Result<Presented, OAuthError> {
    let form_id = form.get("client_id").map_err(OAuthError::invalid_request)?;
    let form_secret = form.get("client_secret").map_err(OAuthError::invalid_request)?;
    let basic = authorization.and_then(|h| h.split_once(' ')).filter(|(s, _)| s.eq_ignore_ascii_case("basic"));
    if let Some((_, encoded)) = basic {
        if form_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not Basic and client_secret both",
            ));
        }
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let (id, secret) =
            decoded.split_once(':').ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        // RFC 6749 2.3.1: both parts are form-urlencoded before Base64.
        let id = super::form::parse(&format!("v={id}")).remove(0).1;
        let secret = super::form::parse(&format!("v={secret}")).remove(0).1;
        if form_id.is_some_and(|f| f != id) {
            return Err(OAuthError::invalid_request("client_id in the body differs from the Basic credentials"));
        }
        return Ok(Presented { client_id: id, secret: Some(secret), via_basic: true });
    }
    let client_id = form_id.ok_or_else(|| OAuthError::invalid_client("client authentication failed: no client_id"))?;
    Ok(Presented { client_id: client_id.to_string(), secret: form_secret.map(str::to_string), via_basic: false })
}

/// Authenticates per the client's registered method. Confidential clients may send their secret
/// by either secret method (clients configured by hand do not always know which one we expect).
pub fn authenticate(record: Option<&ClientRecord>, presented: &Presented) -> Result<(), OAuthError> {
    let unknown = || OAuthError::invalid_client("client authentication failed: unknown client or wrong secret");
    let record = record.ok_or_else(unknown)?;
    match (&record.secret_hash, &presented.secret) {
        (None, None) => Ok(()),
        (None, Some(_)) => {
            Err(OAuthError::invalid_client("this public client was registered without a secret; do not send one"))
        }
        (Some(_), None) => Err(OAuthError::invalid_client("this client must authenticate with its client_secret")),
        (Some(hash), Some(secret)) if constant_time_eq(sha256_hex(secret).as_bytes(), hash.as_bytes()) => Ok(()),
        (Some(_), Some(_)) => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(secret_hash: Option<String>) -> ClientRecord {
        ClientRecord {
            client_id: "c1".into(),
            client_name: None,
            redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: if secret_hash.is_some() { AUTH_BASIC.into() } else { AUTH_NONE.into() },
            secret_hash,
            created_ms: 0,
            dynamic: true,
            service: None,
            last_used_ms: None,
        }
    }

    #[test]
    fn reads_basic_and_form_credentials() {
        let basic = format!("Basic {}", STANDARD.encode("c%201:s%3Ax"));
        let p = presented(Some(&basic), &Params::from_text("grant_type=x")).unwrap();
        assert_eq!(p, Presented { client_id: "c 1".into(), secret: Some("s:x".into()), via_basic: true });
        let p = presented(None, &Params::from_text("client_id=c1&client_secret=s")).unwrap();
        assert_eq!(p.secret.as_deref(), Some("s"));
        assert_eq!(presented(None, &Params::from_text("")).unwrap_err().code, "invalid_client");
        assert_eq!(presented(Some(&basic), &Params::from_text("client_secret=s")).unwrap_err().code, "invalid_request");
    }

    #[test]
    fn authenticates_per_method() {
        let (secret, hash) = new_secret().unwrap();
        let confidential = record(Some(hash));
        let ok = Presented { client_id: "c1".into(), secret: Some(secret), via_basic: false };
        assert!(authenticate(Some(&confidential), &ok).is_ok());
        let wrong = Presented { secret: Some("nope".into()), ..ok.clone() };
        assert_eq!(authenticate(Some(&confidential), &wrong).unwrap_err().status, 401);
        let none = Presented { secret: None, ..ok.clone() };
        assert!(authenticate(Some(&confidential), &none).is_err());
        assert!(authenticate(Some(&record(None)), &none).is_ok());
        assert!(authenticate(Some(&record(None)), &ok).is_err());
        assert!(authenticate(None, &none).is_err());
    }
}
