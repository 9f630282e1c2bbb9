//! The OAuth 2.1 authorization server's rules in plain Rust (no `worker` types), so `cargo test`
//! covers them natively: metadata, client registration, redirect URI matching, PKCE, scopes,
//! authorization requests, access tokens, grants and refresh rotation, custom login, CSRF, and
//! clients identified by a metadata document URL (`cimd`).
//!
//! The HTTP glue lives in `crate::http::oauth*` and `crate::http::login`; storage is behind the
//! [`grants::GrantStore`] (a Durable Object at the edge) and KV traits.

pub mod authorize;
pub mod cimd;
pub mod client;
pub mod custom_login;
pub mod document_clients;
pub mod flow;
pub mod form;
pub mod grants;
pub mod login_limit;
pub mod metadata;
pub mod password;
pub mod pkce;
pub mod record_viewer;
pub mod redirect;
pub mod registration;
pub mod scope;
pub mod signer;
pub mod tokens;

/// Lifetime of an access token (a JWT checked without storage, so it cannot be recalled early).
pub const ACCESS_TOKEN_SECONDS: u64 = 3600;
/// Lifetime of an authorization code (OAuth 2.1 recommends at most 10 minutes).
pub const CODE_SECONDS: u64 = 300;
/// Lifetime of a refresh token; each rotation issues a new one with a fresh lifetime.
pub const REFRESH_TOKEN_SECONDS: u64 = 30 * 24 * 3600;
/// How long the login and consent pages of one authorization stay valid.
pub const FLOW_SECONDS: u64 = 600;
/// A dynamically registered client that is never used expires from KV after this long.
pub const DYNAMIC_CLIENT_IDLE_SECONDS: u64 = 30 * 24 * 3600;

/// Prefixes that tell our opaque tokens apart (and carry the service whose Durable Object holds
/// them): `dbmcp_rt.<service>.<random>` and `dbmcp_ac.<service>.<random>`.
pub const REFRESH_TOKEN_PREFIX: &str = "dbmcp_rt";
pub const CODE_PREFIX: &str = "dbmcp_ac";

/// `<prefix>.<service>.<random>` -> the service, when the token has that shape.
pub fn service_of_token<'t>(token: &'t str, prefix: &str) -> Option<&'t str> {
    let mut parts = token.splitn(3, '.');
    let (p, service, random) = (parts.next()?, parts.next()?, parts.next()?);
    let service_ok = !service.is_empty()
        && service.len() <= 64
        && service.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (p == prefix && service_ok && random.len() >= 32).then_some(service)
}

/// An OAuth error as the token, registration and revocation endpoints return it.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub status: u16,
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: u16, code: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, code, description: description.into() }
    }
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_service_in_opaque_tokens() {
        let random = "a".repeat(43);
        assert_eq!(service_of_token(&format!("dbmcp_rt.demo.{random}"), REFRESH_TOKEN_PREFIX), Some("demo"));
        assert_eq!(service_of_token(&format!("dbmcp_ac.demo.{random}"), REFRESH_TOKEN_PREFIX), None);
        assert_eq!(service_of_token(&format!("dbmcp_rt.De-mo.{random}"), REFRESH_TOKEN_PREFIX), None);
        assert_eq!(service_of_token("dbmcp_rt.demo.short", REFRESH_TOKEN_PREFIX), None);
    }
}
