//! Dynamic Client Registration (RFC 7591): validates a registration request into a
//! [`ClientRecord`]. Unknown metadata is ignored (never stored); unknown scope strings are
//! tolerated. Every field is capped, lists hold known values once, and the stored record as a
//! whole is capped ([`check_record`], shared with administrator-created clients).

use serde_json::{json, Map, Value as Json};

use super::client::{self, ClientRecord, AUTH_METHODS, AUTH_NONE};
use super::{redirect, OAuthError};

pub const MAX_REDIRECT_URIS: usize = 20;
pub const MAX_NAME_CHARS: usize = 200;
/// Entries allowed in `grant_types` or `response_types` (before duplicates are dropped).
pub const MAX_LIST_ITEMS: usize = 10;
/// Characters allowed in any other string field (`scope`, `token_endpoint_auth_method`, ...).
pub const MAX_FIELD_CHARS: usize = 1000;
/// A stored client record (JSON) is at most this many bytes.
pub const MAX_RECORD_BYTES: usize = 16 * 1024;
const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_client_metadata", description)
}

fn invalid_redirect(description: impl Into<String>) -> OAuthError {
    OAuthError::new(400, "invalid_redirect_uri", description)
}

/// A list of at most `max_items` strings of at most `max_chars` characters each.
fn string_list(
    body: &Map<String, Json>,
    field: &str,
    max_items: usize,
    max_chars: usize,
) -> Result<Option<Vec<String>>, OAuthError> {
    let items = match body.get(field) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{field} must be an array of strings"))),
    };
    if items.len() > max_items {
        return Err(invalid(format!("at most {max_items} {field}")));
    }
    items
        .iter()
        .map(|v| match v.as_str() {
            Some(s) if s.chars().count() <= max_chars => Ok(s.to_string()),
            Some(_) => Err(invalid(format!("each entry of {field} is limited to {max_chars} characters"))),
            None => Err(invalid(format!("{field} must be an array of strings"))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A string of at most `max_chars` characters, when present.
fn optional_string<'b>(
    body: &'b Map<String, Json>,
    field: &str,
    max_chars: usize,
) -> Result<Option<&'b str>, OAuthError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.chars().count() <= max_chars => Ok(Some(s)),
        Some(Json::String(_)) => Err(invalid(format!("{field} is limited to {max_chars} characters"))),
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

/// `items` without repeats, first occurrence kept.
fn unique(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|item| seen.insert(item.clone())).collect()
}

/// The last check before a client is stored, for every way a client is created: known grant types
/// only, each once, redirect URIs each once, and the whole record within [`MAX_RECORD_BYTES`].
pub fn check_record(mut record: ClientRecord) -> Result<ClientRecord, OAuthError> {
    if let Some(bad) = record.grant_types.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
        return Err(invalid(format!("grant type {bad:?} is not supported; use authorization_code and refresh_token")));
    }
    record.grant_types =
        GRANT_TYPES.iter().filter(|g| record.grant_types.iter().any(|r| r == *g)).map(|g| g.to_string()).collect();
    record.redirect_uris = unique(std::mem::take(&mut record.redirect_uris));
    let size = client::stored_size(&record);
    if size > MAX_RECORD_BYTES {
        return Err(invalid(format!(
            "the registration is too large to store ({size} bytes, at most {MAX_RECORD_BYTES}); use fewer or shorter redirect_uris"
        )));
    }
    Ok(record)
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
        redirect::validate(uri).map_err(|why| invalid_redirect(format!("redirect URI {:?} {why}", shortened(uri))))?;
    }
    Ok(unique(uris))
}

/// A value quoted back in an error, cut so an error never echoes a huge input.
fn shortened(value: &str) -> String {
    const SHOWN: usize = 100;
    if value.chars().count() <= SHOWN {
        value.to_string()
    } else {
        format!("{}...", value.chars().take(SHOWN).collect::<String>())
    }
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
    // Bidirectional overrides would reorder the consent page's text around the name.
    if name
        .chars()
        .any(|c| matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(invalid("client_name must not contain bidirectional formatting characters"));
    }
    Ok(Some(name.to_string()))
}

/// A registration's record, and the secret (shown once) for confidential clients.
pub fn register(body: &Json, now_ms: u64) -> Result<(ClientRecord, Option<String>), OAuthError> {
    let body = body.as_object().ok_or_else(|| invalid("the registration request must be a JSON object"))?;
    // Length checks here are loose (the URI rules are stricter); the count is checked below.
    let redirect_uris = check_redirect_uris(
        string_list(body, "redirect_uris", MAX_REDIRECT_URIS, redirect::MAX_URI_CHARS)
            .map_err(|e| invalid_redirect(e.description))?,
    )?;

    // RFC 7591 2: the default method is client_secret_basic.
    let method = optional_string(body, "token_endpoint_auth_method", MAX_FIELD_CHARS)?.unwrap_or(client::AUTH_BASIC);
    if !AUTH_METHODS.contains(&method) {
        return Err(invalid(format!(
            "token_endpoint_auth_method {:?} is not supported; use one of {}",
            shortened(method),
            AUTH_METHODS.join(", ")
        )));
    }
    let grant_types = string_list(body, "grant_types", MAX_LIST_ITEMS, MAX_FIELD_CHARS)?
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(bad) = grant_types.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
        return Err(invalid(format!(
            "grant type {:?} is not supported; use authorization_code and refresh_token",
            shortened(bad)
        )));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(invalid("grant_types must include authorization_code"));
    }
    let response_types =
        string_list(body, "response_types", MAX_LIST_ITEMS, MAX_FIELD_CHARS)?.unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|r| r != "code") || response_types.is_empty() {
        return Err(invalid("response_types may only contain \"code\""));
    }
    let client_name = check_name(optional_string(body, "client_name", MAX_NAME_CHARS)?)?;
    // `scope` must be a string when present; its words may be anything (tolerated, not granted).
    optional_string(body, "scope", MAX_FIELD_CHARS)?;
    for field in ["client_uri", "logo_uri", "tos_uri", "policy_uri"] {
        if let Some(uri) = optional_string(body, field, redirect::MAX_URI_CHARS)? {
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
    Ok((check_record(record)?, secret))
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
        assert!(with("client_name", json!("Claude\u{202e}moc.live")).description.contains("bidirectional"));
        assert_eq!(with("scope", json!(["mcp:read"])).code, "invalid_client_metadata");
        assert_eq!(with("client_uri", json!("javascript:alert(1)")).code, "invalid_client_metadata");
        assert_eq!(err(json!([1])).code, "invalid_client_metadata");
    }

    #[test]
    fn lists_hold_known_values_once_and_every_field_is_capped() {
        // Issue 7.6: 40,000 alternating grant types were stored (dedup only dropped neighbours).
        let alternating: Vec<&str> = ["refresh_token", "authorization_code"].repeat(3).into_iter().collect();
        let record =
            ok(json!({"redirect_uris": ["https://a.example/cb", "https://b.example/cb", "https://a.example/cb"],
                               "grant_types": alternating}));
        assert_eq!(record.grant_types, vec!["authorization_code", "refresh_token"]);
        assert_eq!(record.redirect_uris, vec!["https://a.example/cb", "https://b.example/cb"]);

        let good = || json!({"redirect_uris": ["https://a.example/cb"]});
        let with = |field: &str, value: Json| {
            let mut body = good();
            body[field] = value;
            err(body)
        };
        let many = with("grant_types", json!(vec!["authorization_code"; 40_000]));
        assert_eq!(many.description, "at most 10 grant_types");
        assert_eq!(with("response_types", json!(vec!["code"; 11])).description, "at most 10 response_types");
        assert!(with("scope", json!("s ".repeat(600))).description.contains("limited to 1000"));
        assert_eq!(
            with("client_name", json!("n".repeat(5000))).description,
            "client_name is limited to 200 characters"
        );
        assert!(with("client_uri", json!(format!("https://a.example/{}", "p".repeat(5000))))
            .description
            .contains("2000"));
        assert!(with("token_endpoint_auth_method", json!("x".repeat(5000))).description.len() < 300);
        assert!(with("grant_types", json!(["x".repeat(1001)])).description.contains("limited to 1000"));
        let uris: Vec<String> = (0..21).map(|i| format!("https://a.example/{i}")).collect();
        assert_eq!(with("redirect_uris", json!(uris)).code, "invalid_redirect_uri");
    }

    #[test]
    fn the_stored_record_as_a_whole_is_capped() {
        // 20 URIs of 1,900 characters each pass one by one but not together.
        let uris: Vec<String> = (0..20).map(|i| format!("https://a.example/{i}/{}", "p".repeat(1890))).collect();
        let e = err(json!({"redirect_uris": uris}));
        assert!(e.description.contains("too large to store"), "{e:?}");
        let fits: Vec<String> = uris.into_iter().take(5).collect();
        let record = ok(json!({"redirect_uris": fits, "client_name": "n".repeat(200)}));
        assert!(client::stored_size(&record) <= MAX_RECORD_BYTES);
    }
}
