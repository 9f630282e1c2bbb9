//! Dynamic Client Registration (RFC 7591): validates a registration request into a
//! [`ClientRecord`]. Unknown metadata is ignored; unknown scope strings are tolerated.

use serde_json::{json, Map, Value as Json};

use super::client::{self, ClientRecord, AUTH_METHODS, AUTH_NONE};
use super::{redirect, OAuthError};

pub const MAX_REDIRECT_URIS: usize = 20;
pub const MAX_NAME_CHARS: usize = 200;

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_client_metadata", description)
}

fn invalid_redirect(description: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_redirect_uri", description)
}

fn string_list(body: &Map<String, Json>, field: &str) -> Result<Option<Vec<String>>, OAuthError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| invalid(format!("{field} must be an array of strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid(format!("{field} must be an array of strings"))),
    }
}

fn optional_string<'b>(body: &'b Map<String, Json>, field: &str) -> Result<Option<&'b str>, OAuthError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

/// Checks redirect URIs (shared with administrator-created clients).
pub fn check_redirect_uris(uris: Option<Vec<String>>) -> Result<Vec<String>, OAuthError> {
    let uris = uris.ok_or_else(|| invalid_redirect("redirect_uris is required"))?;
    if uris.is_empty() {
        return Err(invalid_redirect("redirect_uris must name at least one URI"));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(invalid_redirect(format!("at most {MAX_REDIRECT_URIS} redirect_uris")));
    }
    for uri in &uris {
        redirect::validate(uri).map_err(|why| invalid_redirect(format!("redirect URI {uri:?} {why}")))?;
    }
    let mut unique = uris;
    unique.dedup();
    Ok(unique)
}

/// Checks a client name: optional, at most 200 characters, no control characters.
pub fn check_name(name: Option<&str>) -> Result<Option<String>, OAuthError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!("client_name is limited to {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("client_name must not contain control characters"));
    }
    Ok(Some(name.to_string()))
}

/// A registration's record, and the secret (shown once) for confidential clients.
pub fn register(body: &Json, now_ms: u64) -> Result<(ClientRecord, Option<String>), OAuthError> {
    let body = body.as_object().ok_or_else(|| invalid("the registration request must be a JSON object"))?;
    let redirect_uris =
        check_redirect_uris(string_list(body, "redirect_uris").map_err(|e| invalid_redirect(e.description))?)?;

    // RFC 7591 2: the default method is client_secret_basic.
    let method = optional_string(body, "token_endpoint_auth_method")?.unwrap_or(client::AUTH_BASIC);
    if !AUTH_METHODS.contains(&method) {
        return Err(invalid(format!(
            "token_endpoint_auth_method {method:?} is not supported; use one of {}",
            AUTH_METHODS.join(", ")
        )));
    }
    let grant_types = string_list(body, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(bad) = grant_types.iter().find(|g| *g != "authorization_code" && *g != "refresh_token") {
        return Err(invalid(format!("grant type {bad:?} is not supported; use authorization_code and refresh_token")));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(invalid("grant_types must include authorization_code"));
    }
    let response_types = string_list(body, "response_types")?.unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|r| r != "code") || response_types.is_empty() {
        return Err(invalid("response_types may only contain \"code\""));
    }
    let client_name = check_name(optional_string(body, "client_name")?)?;
    // `scope` must be a string when present; its words may be anything (tolerated, not granted).
    optional_string(body, "scope")?;
    for field in ["client_uri", "logo_uri", "tos_uri", "policy_uri"] {
        if let Some(uri) = optional_string(body, field)? {
            if uri.chars().count() > redirect::MAX_URI_CHARS
                || !(uri.starts_with("https://") || uri.starts_with("http://"))
            {
                return Err(invalid(format!(
                    "{field} must be an http(s) URL of at most {} characters",
                    redirect::MAX_URI_CHARS
                )));
            }
        }
    }

    let mut grant_types = grant_types;
    grant_types.dedup();
    let (secret, secret_hash) = if method == AUTH_NONE {
        (None, None)
    } else {
        let (secret, hash) = client::new_secret().map_err(|e| OAuthError::new(503, "temporarily_unavailable", e))?;
        (Some(secret), Some(hash))
    };
    let record = ClientRecord {
        client_id: client::new_client_id().map_err(|e| OAuthError::new(503, "temporarily_unavailable", e))?,
        client_name,
        redirect_uris,
        grant_types,
        token_endpoint_auth_method: method.to_string(),
        secret_hash,
        created_ms: now_ms,
        dynamic: true,
        service: None,
        last_used_ms: None,
    };
    Ok((record, secret))
}

/// The registration response (RFC 7591 3.2.1).
pub fn response(record: &ClientRecord, secret: Option<&str>) -> Json {
    let mut out = json!({
        "client_id": record.client_id,
        "client_id_issued_at": record.created_ms / 1000,
        "redirect_uris": record.redirect_uris,
        "grant_types": record.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": record.token_endpoint_auth_method,
    });
    if let Some(name) = &record.client_name {
        out["client_name"] = json!(name);
    }
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
        out["client_secret_expires_at"] = json!(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: Json) -> ClientRecord {
        register(&body, 1_000).unwrap_or_else(|e| panic!("{body}: {e:?}")).0
    }

    fn err(body: Json) -> OAuthError {
        register(&body, 1_000).map(|_| ()).unwrap_err()
    }

    #[test]
    fn accepts_real_client_registrations() {
        let claude = ok(json!({
            "client_name": "Claude", "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "none", "scope": "claudeai"
        }));
        assert!(claude.is_public());
        let cursor = ok(json!({
            "client_name": "Cursor", "redirect_uris": [
                "cursor://anysphere.cursor-mcp/oauth/callback",
                "https://www.cursor.com/agents/mcp/oauth/callback",
                "http://localhost:8787/callback"],
            "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]
        }));
        assert_eq!(cursor.redirect_uris.len(), 3);
        let (confidential, secret) = register(
            &json!({"redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"], "x-unknown": 1}),
            1,
        )
        .unwrap();
        assert_eq!(confidential.token_endpoint_auth_method, "client_secret_basic");
        assert!(secret.is_some() && confidential.secret_hash.is_some());
        assert_ne!(confidential.secret_hash.as_deref(), secret.as_deref(), "only the hash is stored");
    }

    #[test]
    fn refuses_each_invalid_field() {
        assert_eq!(err(json!({})).code, "invalid_redirect_uri");
        assert_eq!(err(json!({"redirect_uris": []})).code, "invalid_redirect_uri");
        assert_eq!(err(json!({"redirect_uris": "https://a.example/cb"})).code, "invalid_redirect_uri");
        assert_eq!(err(json!({"redirect_uris": ["http://evil.example/cb"]})).code, "invalid_redirect_uri");
        assert_eq!(err(json!({"redirect_uris": ["https://a.example/cb#x"]})).code, "invalid_redirect_uri");
        let good = || json!({"redirect_uris": ["https://a.example/cb"]});
        let with = |field: &str, value: Json| {
            let mut body = good();
            body[field] = value;
            err(body)
        };
        assert_eq!(with("token_endpoint_auth_method", json!("private_key_jwt")).code, "invalid_client_metadata");
        assert_eq!(with("grant_types", json!(["client_credentials"])).code, "invalid_client_metadata");
        assert_eq!(with("grant_types", json!(["refresh_token"])).code, "invalid_client_metadata");
        assert_eq!(with("response_types", json!(["token"])).code, "invalid_client_metadata");
        assert_eq!(with("client_name", json!("x".repeat(201))).code, "invalid_client_metadata");
        assert_eq!(with("client_name", json!(5)).code, "invalid_client_metadata");
        assert_eq!(with("scope", json!(["mcp:read"])).code, "invalid_client_metadata");
        assert_eq!(with("client_uri", json!("javascript:alert(1)")).code, "invalid_client_metadata");
        assert_eq!(err(json!([1])).code, "invalid_client_metadata");
    }
}
