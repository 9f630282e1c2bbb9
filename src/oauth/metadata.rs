//! Discovery documents: Protected Resource Metadata (RFC 9728) per service and Authorization
//! Server Metadata (RFC 8414). The issuer is the worker's origin, so the AS metadata lives at
//! `/.well-known/oauth-authorization-server` and the endpoints at the origin's root (where very
//! old clients look for them without metadata).

use serde_json::{json, Value as Json};

use super::client::AUTH_METHODS;
use super::scope::SUPPORTED;

pub fn issuer(origin: &str) -> String {
    origin.trim_end_matches('/').to_string()
}

pub fn resource_url(origin: &str, service: &str) -> String {
    format!("{}/mcp/{service}", issuer(origin))
}

pub fn resource_metadata_url(origin: &str, service: &str) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp/{service}", issuer(origin))
}

pub fn protected_resource(origin: &str, service: &str, label: &str) -> Json {
    json!({
        "resource": resource_url(origin, service),
        "authorization_servers": [issuer(origin)],
        "scopes_supported": SUPPORTED,
        "bearer_methods_supported": ["header"],
        "resource_name": label,
    })
}

pub fn authorization_server(origin: &str) -> Json {
    let iss = issuer(origin);
    json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "registration_endpoint": format!("{iss}/register"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "scopes_supported": SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "authorization_response_iss_parameter_supported": true,
        // A client may use the URL of its metadata document as its client_id (`cimd`).
        "client_id_metadata_document_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_identical_in_both_documents() {
        let prm = protected_resource("https://db.example.com", "demo", "Demo");
        let asm = authorization_server("https://db.example.com");
        assert_eq!(prm["authorization_servers"][0], asm["issuer"]);
        assert_eq!(prm["resource"], "https://db.example.com/mcp/demo");
        assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(asm["client_id_metadata_document_supported"], json!(true));
        assert!(asm["registration_endpoint"].is_string(), "registration stays for older clients");
        assert_eq!(
            asm["token_endpoint_auth_methods_supported"],
            json!(["none", "client_secret_post", "client_secret_basic"])
        );
    }
}
