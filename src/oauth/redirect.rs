//! Redirect URIs: what may be registered and how a presented one is matched.
//!
//! Registered: `https://` anywhere; `http://` only on loopback (RFC 8252), any port; private-use
//! schemes such as `cursor://` (native apps). Never a fragment, credentials, or a scheme a browser
//! would execute. Matching is exact, except that a loopback `http` URI matches on any port, as
//! native apps bind a free port at run time (RFC 8252 7.3).

pub const MAX_URI_CHARS: usize = 2000;
const FORBIDDEN_SCHEMES: [&str; 7] = ["javascript", "data", "vbscript", "file", "about", "blob", "filesystem"];

struct Parts<'a> {
    scheme: String,
    host: &'a str,
    /// Everything after the authority (path and query), `""` when absent.
    rest: &'a str,
}

fn parse(uri: &str) -> Result<Parts<'_>, String> {
    let (scheme, after) = uri.split_once(':').ok_or("is not an absolute URI")?;
    let valid_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return Err("has no valid scheme".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    let Some(authority_and_rest) = after.strip_prefix("//") else {
        return Ok(Parts { scheme, host: "", rest: after });
    };
    let end = authority_and_rest.find(['/', '?']).unwrap_or(authority_and_rest.len());
    let (authority, rest) = authority_and_rest.split_at(end);
    if authority.contains('@') {
        return Err("must not contain credentials".into());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => &authority[..v6.find(']').ok_or("has a malformed IPv6 host")? + 2],
        None => authority.split(':').next().unwrap_or(""),
    };
    let port = &authority[host.len()..];
    if !(port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|b| b.is_ascii_digit()) && port.len() <= 6))
    {
        return Err("has a malformed port".into());
    }
    Ok(Parts { scheme, host, rest })
}

fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost" || host == "[::1]" || host.starts_with("127.") && host.split('.').count() == 4
}

/// Checks one redirect URI of a registration.
pub fn validate(uri: &str) -> Result<(), String> {
    if uri.is_empty() || uri.chars().count() > MAX_URI_CHARS {
        return Err(format!("must be 1 to {MAX_URI_CHARS} characters"));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".into());
    }
    if uri.contains('#') {
        return Err("must not contain a fragment (#)".into());
    }
    let parts = parse(uri)?;
    match parts.scheme.as_str() {
        "https" if parts.host.is_empty() => Err("needs a host".into()),
        "https" => Ok(()),
        "http" if is_loopback(parts.host) => Ok(()),
        "http" => Err("may use http only on a loopback host (localhost, 127.0.0.1, [::1]); use https".into()),
        s if FORBIDDEN_SCHEMES.contains(&s) => Err(format!("must not use the {s}: scheme")),
        _ => Ok(()),
    }
}

/// Whether `presented` is one of the registered URIs.
pub fn matches(registered: &[String], presented: &str) -> bool {
    if registered.iter().any(|r| r == presented) {
        return true;
    }
    let Ok(p) = parse(presented) else { return false };
    if p.scheme != "http" || !is_loopback(p.host) || presented.contains('#') {
        return false;
    }
    registered.iter().filter_map(|r| parse(r).ok()).any(|r| {
        r.scheme == "http" && r.host.eq_ignore_ascii_case(p.host) && normalized_rest(r.rest) == normalized_rest(p.rest)
    })
}

/// `http://127.0.0.1` and `http://127.0.0.1/` name the same resource.
fn normalized_rest(rest: &str) -> &str {
    if rest.is_empty() {
        "/"
    } else {
        rest
    }
}

/// The host shown on the consent page (where the code will go).
pub fn display_host(uri: &str) -> String {
    match parse(uri) {
        Ok(p) if !p.host.is_empty() => p.host.to_string(),
        Ok(p) => format!("{}: (an app on this device)", p.scheme),
        Err(_) => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_real_clients_register() {
        for uri in [
            "https://claude.ai/api/mcp/auth_callback",
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "http://localhost:8787/callback",
            "https://vscode.dev/redirect",
            "http://127.0.0.1/",
            "http://127.0.0.1:33418/",
            "http://localhost:6274/oauth/callback",
            "http://[::1]:9000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(validate(uri), Ok(()), "{uri}");
        }
    }

    #[test]
    fn refuses_unsafe_uris() {
        for uri in [
            "http://example.com/cb",
            "https://example.com/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://user:pw@example.com/cb",
            "not a uri",
            "/relative/path",
            "https:///nohost",
            "http://127.0.0.1.evil.com/cb",
            "http://localhost:80a/cb",
            "",
        ] {
            assert!(validate(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn matches_exactly_but_loopback_on_any_port() {
        let registered = vec![
            "https://claude.ai/api/mcp/auth_callback".to_string(),
            "http://127.0.0.1/".to_string(),
            "cursor://anysphere.cursor-mcp/oauth/callback".to_string(),
        ];
        assert!(matches(&registered, "https://claude.ai/api/mcp/auth_callback"));
        assert!(!matches(&registered, "https://claude.ai/api/mcp/auth_callback/"));
        assert!(!matches(&registered, "https://claude.ai/api/mcp/auth_callback?x=1"));
        assert!(matches(&registered, "http://127.0.0.1:51234/"));
        assert!(matches(&registered, "http://127.0.0.1:51234"));
        assert!(!matches(&registered, "http://127.0.0.1:51234/other"));
        assert!(!matches(&registered, "http://localhost:51234/"));
        assert!(matches(&registered, "cursor://anysphere.cursor-mcp/oauth/callback"));
        assert!(!matches(&registered, "cursor://anysphere.cursor-mcp/oauth/callback2"));
        assert_eq!(display_host("https://claude.ai/api/mcp/auth_callback"), "claude.ai");
    }
}
