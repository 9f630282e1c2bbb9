//! The authorization request (`GET /authorize`): which errors show a page (unknown client,
//! unregistered redirect URI: never redirect there) and which go back to the client with
//! `error`, `state` and `iss` (RFC 9207).

use serde::{Deserialize, Serialize};

use super::client::ClientRecord;
use super::form::{self, Params};
use super::{metadata, pkce, redirect, scope};

pub const MAX_STATE_CHARS: usize = 2000;

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub scope: Vec<String>,
    pub resource: String,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeError {
    /// Shown to the person; nothing is sent to the (unverified) redirect URI.
    Page(String),
    /// Sent back to the client's redirect URI.
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, description: String },
}

/// `Ok(())` when `service` may be authorized (exists and needs a credential).
pub type ServiceCheck<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// The service named by a `resource` URL of this server: `<issuer>/mcp/<service>`.
pub fn service_of_resource<'r>(issuer: &str, resource: &'r str) -> Option<&'r str> {
    let rest = resource.strip_prefix(issuer)?.strip_prefix("/mcp/")?;
    let name = rest.strip_suffix('/').unwrap_or(rest);
    (!name.is_empty() && !name.contains(['/', '?', '#'])).then_some(name)
}

pub fn validate(
    params: &Params,
    client: Option<&ClientRecord>,
    issuer: &str,
    service_ok: ServiceCheck,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = |text: String| AuthorizeError::Page(text);
    let client_id = params
        .get("client_id")
        .map_err(page)?
        .ok_or_else(|| page("The request names no client (client_id is missing).".into()))?;
    let client = client.ok_or_else(|| page(format!("The application {client_id:?} is not registered here, or its registration expired. Ask it to connect again.")))?;
    let redirect_uri = match params.get("redirect_uri").map_err(page)? {
        Some(uri) if redirect::matches(&client.redirect_uris, uri) => uri.to_string(),
        Some(uri) => return Err(page(format!("The redirect URI {uri:?} is not registered for this application."))),
        // The one registered URI, if it still passes today's rules (it may predate them).
        None if client.redirect_uris.len() == 1 => match redirect::validate(&client.redirect_uris[0]) {
            Ok(()) => client.redirect_uris[0].clone(),
            Err(why) => {
                return Err(page(format!("The registered redirect URI {why}; register the application again.")))
            }
        },
        None => return Err(page("The request has no redirect_uri and the application registered several.".into())),
    };
    // From here on the redirect URI is trusted: errors go back to the client.
    let state = params.get("state").ok().flatten().map(str::to_string);
    let back = |error: &'static str, description: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description,
    };
    let get = |name: &str| params.get(name).map_err(|e| back("invalid_request", e));
    if state.as_ref().is_some_and(|s| s.chars().count() > MAX_STATE_CHARS) {
        return Err(back("invalid_request", format!("state is limited to {MAX_STATE_CHARS} characters")));
    }
    match get("response_type")? {
        Some("code") => {}
        Some(other) => {
            return Err(back(
                "unsupported_response_type",
                format!("response_type {other:?} is not supported; use code"),
            ))
        }
        None => return Err(back("invalid_request", "response_type is required (code)".into())),
    }
    let challenge = get("code_challenge")?.ok_or_else(|| {
        back("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256".into())
    })?;
    match get("code_challenge_method")? {
        Some("S256") => {}
        Some(other) => {
            return Err(back("invalid_request", format!("code_challenge_method {other:?} is not supported; use S256")))
        }
        None => return Err(back("invalid_request", "code_challenge_method is required and must be S256".into())),
    }
    if !pkce::valid_challenge(challenge) {
        return Err(back(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)".into(),
        ));
    }
    let resource = match (get("resource")?, &client.service) {
        (Some(resource), _) => resource.to_string(),
        (None, Some(service)) => metadata::resource_url(issuer, service),
        (None, None) => {
            return Err(back(
                "invalid_target",
                format!("resource is required: the MCP endpoint URL, e.g. {issuer}/mcp/<service>"),
            ))
        }
    };
    let service = service_of_resource(issuer, &resource)
        .ok_or_else(|| back("invalid_target", format!("resource {resource:?} is not an MCP endpoint of this server")))?
        .to_string();
    service_ok(&service).map_err(|why| back("invalid_target", why))?;
    if client.service.as_ref().is_some_and(|s| *s != service) {
        return Err(back(
            "invalid_target",
            format!("this client may only access the service {:?}", client.service.as_deref().unwrap_or("")),
        ));
    }
    let scope = scope::grantable(get("scope")?);
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        code_challenge: challenge.to_string(),
        scope,
        resource: metadata::resource_url(issuer, &service),
        service,
    })
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", form::serialize(pairs))
}

pub fn success_redirect(request: &AuthorizationRequest, code: &str, issuer: &str) -> String {
    let mut pairs = vec![("code", code)];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    with_query(&request.redirect_uri, &pairs)
}

pub fn error_redirect(redirect_uri: &str, state: Option<&str>, error: &str, description: &str, issuer: &str) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    with_query(redirect_uri, &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://h";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client() -> ClientRecord {
        ClientRecord {
            client_id: "c1".into(),
            client_name: Some("Claude".into()),
            redirect_uris: vec!["https://claude.ai/cb".into()],
            grant_types: vec!["authorization_code".into()],
            token_endpoint_auth_method: "none".into(),
            secret_hash: None,
            created_ms: 0,
            dynamic: true,
            service: None,
            last_used_ms: None,
        }
    }

    fn check(query: &str) -> Result<AuthorizationRequest, AuthorizeError> {
        let ok = |s: &str| if s == "demo" { Ok(()) } else { Err(format!("no service {s}")) };
        validate(&Params::from_text(query), Some(&client()), ISS, &ok)
    }

    fn base() -> String {
        format!("client_id=c1&redirect_uri=https%3A%2F%2Fclaude.ai%2Fcb&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256&state=xyz&resource=https%3A%2F%2Fh%2Fmcp%2Fdemo")
    }

    fn redirect_error(query: &str) -> &'static str {
        match check(query) {
            Err(AuthorizeError::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("xyz"));
                error
            }
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn accepts_a_complete_request() {
        let r = check(&format!("{}&scope=mcp%3Awrite+claudeai", base())).unwrap();
        assert_eq!(r.service, "demo");
        assert_eq!(r.scope, vec!["mcp:read", "mcp:write"]);
        assert_eq!(r.resource, "https://h/mcp/demo");
        let url = success_redirect(&r, "the-code", ISS);
        assert_eq!(url, "https://claude.ai/cb?code=the-code&state=xyz&iss=https%3A%2F%2Fh");
    }

    #[test]
    fn bad_client_or_redirect_shows_a_page() {
        let ok = |_: &str| Ok(());
        assert!(matches!(validate(&Params::from_text(&base()), None, ISS, &ok), Err(AuthorizeError::Page(_))));
        let evil = base().replace("claude.ai", "evil.example");
        assert!(matches!(check(&evil), Err(AuthorizeError::Page(_))));
    }

    #[test]
    fn a_registered_uri_refused_by_todays_rules_is_not_used() {
        let ok = |_: &str| Ok(());
        let mut stale = client();
        stale.redirect_uris = vec!["http://127.0.attacker.com/cb".into()];
        let without_uri = base().replace("redirect_uri=https%3A%2F%2Fclaude.ai%2Fcb&", "");
        assert!(matches!(
            validate(&Params::from_text(&without_uri), Some(&stale), ISS, &ok),
            Err(AuthorizeError::Page(_))
        ));
        let with_uri = base().replace("https%3A%2F%2Fclaude.ai%2Fcb", "http%3A%2F%2F127.0.attacker.com%2Fcb");
        assert!(matches!(
            validate(&Params::from_text(&with_uri), Some(&stale), ISS, &ok),
            Err(AuthorizeError::Page(_))
        ));
    }

    #[test]
    fn other_errors_redirect() {
        assert_eq!(
            redirect_error(&base().replace("response_type=code", "response_type=token")),
            "unsupported_response_type"
        );
        assert_eq!(
            redirect_error(&base().replace("code_challenge_method=S256", "code_challenge_method=plain")),
            "invalid_request"
        );
        assert_eq!(redirect_error(&base().replace(&format!("code_challenge={CHALLENGE}&"), "")), "invalid_request");
        assert_eq!(redirect_error(&base().replace("mcp%2Fdemo", "mcp%2Fother")), "invalid_target");
        assert_eq!(
            redirect_error(&base().replace("https%3A%2F%2Fh%2Fmcp", "https%3A%2F%2Fevil%2Fmcp")),
            "invalid_target"
        );
        assert_eq!(redirect_error(&base().replace("&resource=https%3A%2F%2Fh%2Fmcp%2Fdemo", "")), "invalid_target");
    }
}
