//! Origin checks (DNS-rebinding protection) and CORS for browser-based clients.

use super::{HttpRequest, HttpResponse};
use crate::config::Config;

const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";
const EXPOSE_HEADERS: &str = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate";

fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map(|(_, r)| r).unwrap_or(origin);
    // Strip the port; keep a bracketed IPv6 address whole.
    if let Some(end) = rest.find(']') {
        return &rest[..=end];
    }
    rest.split(':').next().unwrap_or(rest)
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.ends_with(".localhost")
}

/// `Ok(Some(origin))` when a present Origin is allowed (and gets CORS headers), `Ok(None)` when the
/// request has no Origin (server-side clients), `Err(403)` when the Origin is not allowed.
pub fn check_origin(request: &HttpRequest, config: Option<&Config>) -> Result<Option<String>, HttpResponse> {
    let Some(origin) = request.header("origin") else { return Ok(None) };
    let origin = origin.trim().to_ascii_lowercase();
    let served_at = request.origin.to_ascii_lowercase();
    // Same origin counts only over https. Over plain http (local dev) a page on a rebound name
    // (evil.example -> 127.0.0.1) is "same origin" with the Host it sends, so there only
    // loopback pages are trusted.
    let allowed = (origin == served_at && served_at.starts_with("https://"))
        || config.is_some_and(|c| c.allowed_origins.contains(&origin))
        || (is_loopback(host_of(&served_at)) && is_loopback(host_of(&origin)));
    if allowed {
        Ok(Some(origin))
    } else {
        Err(HttpResponse::error(
            403,
            "forbidden_origin",
            format!("Origin {origin} is not allowed; add it to ALLOWED_ORIGINS to let that site connect"),
        ))
    }
}

/// The authorization server's machine endpoints take no cookies and no ambient credentials, so any
/// web page may call them (MCP Inspector and other browser clients run on their own origins).
pub fn is_public_oauth_path(path: &str) -> bool {
    path.starts_with("/.well-known/") || matches!(path, "/register" | "/token" | "/revoke")
}

/// CORS for [`is_public_oauth_path`]: every origin, on every answer (errors included).
pub fn decorate_public(response: HttpResponse) -> HttpResponse {
    response
        .with_header("access-control-allow-origin", "*")
        .with_header("access-control-expose-headers", EXPOSE_HEADERS)
}

pub fn preflight() -> HttpResponse {
    HttpResponse::new(204)
        .with_header("access-control-allow-methods", "GET, POST, DELETE, OPTIONS")
        .with_header("access-control-allow-headers", ALLOW_HEADERS)
        .with_header("access-control-max-age", "86400")
}

pub fn decorate(response: HttpResponse, origin: Option<&str>) -> HttpResponse {
    match origin {
        None => response,
        Some(origin) => response
            .with_header("access-control-allow-origin", origin)
            .with_header("access-control-expose-headers", EXPOSE_HEADERS)
            .with_header("vary", "Origin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: Option<&str>, served_at: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            origin: served_at.into(),
            path: "/mcp/demo".into(),
            query: String::new(),
            headers: origin.map(|o| vec![("origin".to_string(), o.to_string())]).unwrap_or_default(),
            body: vec![],
        }
    }

    #[test]
    fn allows_same_origin_missing_origin_and_local_dev() {
        assert_eq!(check_origin(&request(None, "https://db.example.com"), None), Ok(None));
        assert!(check_origin(&request(Some("https://db.example.com"), "https://db.example.com"), None).is_ok());
        assert!(check_origin(&request(Some("http://localhost:6274"), "http://127.0.0.1:8787"), None).is_ok());
        assert!(check_origin(&request(Some("http://[::1]:3000"), "http://localhost:8787"), None).is_ok());
    }

    #[test]
    fn oauth_endpoints_are_public() {
        assert!(is_public_oauth_path("/.well-known/oauth-authorization-server"));
        assert!(is_public_oauth_path("/token"));
        assert!(!is_public_oauth_path("/authorize"));
        assert!(!is_public_oauth_path("/mcp/demo"));
        assert_eq!(decorate_public(HttpResponse::new(400)).header("access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn refuses_foreign_origins_and_localhost_in_production() {
        let r = check_origin(&request(Some("https://evil.example"), "https://db.example.com"), None).unwrap_err();
        assert_eq!(r.status, 403);
        let r = check_origin(&request(Some("http://localhost:6274"), "https://db.example.com"), None).unwrap_err();
        assert_eq!(r.status, 403);
        let r = check_origin(&request(Some("http://127.0.0.1.evil.com"), "http://127.0.0.1:8787"), None).unwrap_err();
        assert_eq!(r.status, 403);
        // DNS rebinding: the page and the Host header both say evil.example, over plain http.
        let r = check_origin(&request(Some("http://evil.example.com"), "http://evil.example.com"), None).unwrap_err();
        assert_eq!(r.status, 403);
    }
}
