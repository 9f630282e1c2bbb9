//! Redirect URIs: what may be registered and how a presented one is matched.
//!
//! Registered: `https://` anywhere; `http://` only on loopback (RFC 8252), any port; private-use
//! schemes such as `cursor://` (native apps). Never a fragment, credentials, or a scheme a browser
//! would execute. Matching is exact, except that a loopback `http` URI matches on any port, as
//! native apps bind a free port at run time (RFC 8252 7.3).
//!
//! Every decision is made on the URI as a browser parses it (WHATWG URL, the `url` crate), and a
//! URI that a browser would read differently from how it is written is refused: backslashes,
//! non-ASCII, percent-encoded or non-canonical hosts (`0x7f.1`, `127.1`). So the host shown on the
//! consent page, the host checked for loopback, and the host the browser visits are one and the
//! same. Loopback is an IP literal in 127.0.0.0/8, `[::1]`, or the name `localhost`.
//!
//! A private-use scheme is shown as "an app on this device", so a scheme that browsers hand to a
//! web page is refused: those a browser app opens as a web address (`x-safari-https:`,
//! `googlechromes:`, `microsoft-edge:https://...`, Android `intent:`), those a site may claim with
//! `registerProtocolHandler` (`web+...`, `mailto:`, ...), and any private-use URI that carries a
//! web address: the code would go to a host the consent page never named.

use std::net::Ipv6Addr;

use url::{Host, Url};

pub const MAX_URI_CHARS: usize = 2000;
/// Schemes a browser would execute or read locally, and special schemes whose host we would not
/// show as the place the code goes.
const FORBIDDEN_SCHEMES: [&str; 10] =
    ["javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "ws", "wss", "ftp"];

/// Private-use schemes that browser apps on phones and desktops open as a web address.
#[rustfmt::skip]
const BROWSER_HANDOFF_SCHEMES: &[&str] = &[
    "googlechrome", "googlechromes", "googlechrome-x-callback", "firefox", "firefox-focus", "focus",
    "microsoft-edge", "brave", "opera", "opera-touch", "duckduckgo", "ddgquicklink", "intent", "android-app",
    "view-source", "x-web-search",
];
/// Schemes a web site may register itself for (`registerProtocolHandler`'s safelist; `web+*` too).
#[rustfmt::skip]
const SITE_HANDLER_SCHEMES: &[&str] = &[
    "bitcoin", "cabal", "dat", "did", "doi", "dweb", "ethereum", "ftps", "geo", "hyper", "im", "ipfs", "ipns",
    "irc", "ircs", "magnet", "mailto", "matrix", "mms", "news", "nntp", "openpgp4fpr", "sftp", "sip", "sms",
    "smsto", "ssb", "ssh", "tel", "urn", "webcal", "wtai", "xmpp",
];

/// Why a private-use scheme may reach a web page rather than an app, if it may.
fn reaches_a_web_page(url: &Url) -> Option<&'static str> {
    let scheme = url.scheme();
    if BROWSER_HANDOFF_SCHEMES.contains(&scheme) || scheme.ends_with("http") || scheme.ends_with("https") {
        return Some("browsers open it as a web address");
    }
    if scheme.starts_with("web+") || SITE_HANDLER_SCHEMES.contains(&scheme) {
        return Some("a web site may register itself to receive it");
    }
    let rest = url.as_str()[scheme.len() + 1..].to_ascii_lowercase();
    if ["http:", "https:", "http%3a", "https%3a"].iter().any(|web| rest.contains(web)) {
        return Some("it carries a web address an app may open");
    }
    None
}

/// A checked URI: the browser's parse of it.
struct Checked {
    url: Url,
}

impl Checked {
    fn is_web(&self) -> bool {
        matches!(self.url.scheme(), "http" | "https")
    }

    fn is_loopback_http(&self) -> bool {
        self.url.scheme() == "http" && self.url.host().is_some_and(|h| is_loopback(&h))
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => *ip == Ipv6Addr::LOCALHOST,
        Host::Domain(name) => *name == "localhost",
    }
}

/// The host exactly as written after `scheme://`, without port (brackets kept for IPv6).
fn written_host<'u>(uri: &'u str, scheme: &str) -> Option<&'u str> {
    let after = uri.get(scheme.len()..)?.strip_prefix("://")?;
    let authority = &after[..after.find(['/', '?']).unwrap_or(after.len())];
    if authority.starts_with('[') {
        return authority.find(']').map(|end| &authority[..=end]);
    }
    Some(&authority[..authority.find(':').unwrap_or(authority.len())])
}

fn check(uri: &str) -> Result<Checked, String> {
    if uri.is_empty() || uri.chars().count() > MAX_URI_CHARS {
        return Err(format!("must be 1 to {MAX_URI_CHARS} characters"));
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces or control characters (write an international host \
                    in its punycode form, xn--..., and percent-encode other characters)"
            .into());
    }
    if uri.contains('\\') {
        return Err("must not contain a backslash (browsers read it as a slash)".into());
    }
    if uri.contains('#') {
        return Err("must not contain a fragment (#)".into());
    }
    let url = Url::parse(uri).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => "is not an absolute URI".to_string(),
        e => format!("is not a valid URI ({e})"),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    let scheme = url.scheme();
    if FORBIDDEN_SCHEMES.contains(&scheme) {
        return Err(format!("must not use the {scheme}: scheme"));
    }
    let checked = Checked { url };
    if checked.is_web() {
        check_web_host(uri, &checked.url)?;
    } else if let Some(why) = reaches_a_web_page(&checked.url) {
        return Err(format!(
            "must not use the {}: scheme: {why}, so the code would not go to the app the consent page \
             names; use https, loopback http, or your app's own scheme",
            checked.url.scheme()
        ));
    }
    Ok(checked)
}

/// An http(s) URI must spell its host the way browsers read it, so there is one host to show.
fn check_web_host(uri: &str, url: &Url) -> Result<(), String> {
    let scheme = url.scheme();
    let written = written_host(uri, scheme).filter(|h| !h.is_empty()).ok_or("needs a host (scheme://host/...)")?;
    let parsed = url.host_str().ok_or("needs a host")?;
    if !written.eq_ignore_ascii_case(parsed) {
        return Err(format!("must write its host as browsers read it: {parsed:?}, not {written:?}"));
    }
    if let Some(Host::Domain(name)) = url.host() {
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
            return Err(format!("has a host name {name:?} with characters other than letters, digits, - . _"));
        }
    }
    Ok(())
}

/// Checks one redirect URI of a registration.
pub fn validate(uri: &str) -> Result<(), String> {
    let checked = check(uri)?;
    match checked.url.scheme() {
        "http" if !checked.is_loopback_http() => {
            Err("may use http only on a loopback host (localhost, 127.0.0.1, [::1]); use https".into())
        }
        _ => Ok(()),
    }
}

/// Whether `presented` is one of the registered URIs. Both are checked again here, so a URI
/// stored under older, looser rules is not used.
pub fn matches(registered: &[String], presented: &str) -> bool {
    if validate(presented).is_err() {
        return false;
    }
    if registered.iter().any(|r| r == presented) {
        return true;
    }
    let Ok(p) = check(presented) else { return false };
    if !p.is_loopback_http() {
        return false;
    }
    registered.iter().filter(|r| validate(r).is_ok()).filter_map(|r| check(r).ok()).any(|r| {
        r.is_loopback_http()
            && r.url.host() == p.url.host()
            && r.url.path() == p.url.path()
            && r.url.query() == p.url.query()
    })
}

/// The host shown on the consent page (where the code will go): the host the browser will visit,
/// in ASCII (punycode for international names).
pub fn display_host(uri: &str) -> String {
    match check(uri) {
        Ok(c) if c.is_web() => c.url.host_str().unwrap_or_default().to_string(),
        Ok(c) => format!("{}: (an app on this device)", c.url.scheme()),
        Err(_) => "an address this server refuses".to_string(),
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
            "http://127.45.6.7:33418/cb",
            "http://localhost:6274/oauth/callback",
            "http://[::1]:9000/cb",
            "com.example.app:/oauth2redirect",
            "https://xn--80ak6aa92e.com/cb",
            "https://Claude.AI/cb",
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
            "ftp://example.com/cb",
            "wss://example.com/cb",
        ] {
            assert!(validate(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn loopback_is_decided_on_the_parsed_host() {
        // Issue 7.1: a name starting with "127." and four dots is a domain, not loopback.
        for uri in [
            "http://127.0.attacker.com:4444/cb",
            "http://127.0.0.attacker/cb",
            "http://localhost.attacker.com/cb",
            "http://localhost./cb",
            "http://[::ffff:7f00:1]/cb",
            "http://[::2]/cb",
            "http://128.0.0.1/cb",
        ] {
            assert!(validate(uri).unwrap_err().contains("loopback"), "{uri}");
        }
        // Forms a browser reads as 127.0.0.1 are refused as non-canonical rather than guessed at.
        for uri in ["http://0x7f000001/cb", "http://127.1/cb", "http://2130706433/cb", "http://[0:0:0:0:0:0:0:1]/cb"] {
            assert!(validate(uri).unwrap_err().contains("as browsers read it"), "{uri}");
        }
        assert!(!matches(&["http://127.0.0.1/cb".to_string()], "http://127.0.attacker.com:4444/cb"));
    }

    #[test]
    fn refuses_what_browsers_read_differently() {
        // Issue 7.8: Chromium goes to evil.example for the first, xn--80ak6aa92e.com for the second.
        let cases = [
            ("https://evil.example\\claude.ai/cb", "backslash"),
            ("https://аррӏе.com/cb", "ASCII"),
            ("https://evil%2Eexample/cb", "as browsers read it"),
            ("https://ev%69l.example/cb", "as browsers read it"),
            ("https://claude.ai\t.evil/cb", "ASCII"),
            ("https://claude.ai\n/cb", "ASCII"),
            ("https:evil.example/cb", "needs a host"),
            ("https:/evil.example/cb", "needs a host"),
            ("https://claude.ai@evil.example/cb", "credentials"),
            ("https://a!b.example/cb", "characters other than"),
            ("https://[::1/cb", "not a valid URI (invalid IPv6 address)"),
            ("/cb", "is not an absolute URI"),
        ];
        for (uri, why) in cases {
            let err = validate(uri).unwrap_err();
            assert!(err.contains(why), "{uri}: {err}");
        }
    }

    #[test]
    fn refuses_unicode_host_names_but_takes_their_punycode() {
        // No IDNA tables in the build (idna_adapter 1.0): a Unicode host, even percent-encoded, is
        // an unparsable URI; its punycode form, the only one shown on the consent page, is fine.
        assert!(validate("https://bücher.example/cb").unwrap_err().contains("ASCII"));
        let err = validate("https://b%C3%BCcher.example/cb").unwrap_err();
        assert_eq!(err, "is not a valid URI (invalid international domain name)");
        assert!(validate("https://b%C3%BCcher.example:443/cb").unwrap_err().contains("not a valid URI"));
        for uri in ["https://xn--bcher-kva.example/cb", "https://XN--BCHER-KVA.example/cb"] {
            assert_eq!(validate(uri), Ok(()), "{uri}");
        }
        assert_eq!(display_host("https://XN--BCHER-KVA.example/cb"), "xn--bcher-kva.example");
        assert!(!matches(&["https://b%C3%BCcher.example/cb".to_string()], "https://b%C3%BCcher.example/cb"));
        // Punycode that cannot be decoded is refused as any unparsable URI.
        assert!(validate("https://xn--ab-.example/cb").unwrap_err().contains("not a valid URI"));
    }

    #[test]
    fn refuses_private_use_schemes_that_reach_a_web_page() {
        // The consent page would say "an app on this device" while a browser goes to evil.example.
        for uri in [
            "x-safari-https://evil.example/cb",
            "X-Safari-Http://evil.example/cb",
            "googlechromes://evil.example/cb",
            "googlechrome://evil.example/cb",
            "microsoft-edge:https://evil.example/cb",
            "microsoft-edge-https://evil.example/cb",
            "opera-https://evil.example/cb",
            "firefox://open-url?url=https://evil.example/cb",
            "intent://evil.example/cb",
            "view-source:https://evil.example/cb",
            "web+evil://cb",
            "mailto:evil@evil.example",
            "com.example.app:/cb?next=https%3A%2F%2Fevil.example",
            "myapp://open?u=HTTP://evil.example",
        ] {
            let err = validate(uri).unwrap_err();
            assert!(err.contains("scheme: ") && err.contains("would not go to the app"), "{uri}: {err}");
        }
        // Real native apps keep working.
        for uri in ["cursor://anysphere.cursor-mcp/oauth/callback", "com.example.app:/oauth2redirect", "vscode://cb"] {
            assert_eq!(validate(uri), Ok(()), "{uri}");
        }
        // One registered under the old rules is not used either.
        assert!(!matches(&["x-safari-https://evil.example/cb".to_string()], "x-safari-https://evil.example/cb"));
        assert_eq!(display_host("googlechromes://evil.example/cb"), "an address this server refuses");
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
    }

    #[test]
    fn stored_uris_from_looser_rules_are_not_used() {
        // Registered before the rules were tightened: refused at use, exact match or not.
        let old = vec!["http://127.0.attacker.com/cb".to_string(), "https://evil.example\\claude.ai/cb".to_string()];
        assert!(!matches(&old, "http://127.0.attacker.com/cb"));
        assert!(!matches(&old, "http://127.0.attacker.com:4444/cb"));
        assert!(!matches(&old, "https://evil.example\\claude.ai/cb"));
    }

    #[test]
    fn shows_the_host_the_browser_visits() {
        assert_eq!(display_host("https://claude.ai/api/mcp/auth_callback"), "claude.ai");
        assert_eq!(display_host("https://Claude.AI:443/cb"), "claude.ai");
        assert_eq!(display_host("https://xn--80ak6aa92e.com/cb"), "xn--80ak6aa92e.com");
        assert_eq!(display_host("http://[::1]:9000/cb"), "[::1]");
        assert_eq!(display_host("cursor://anysphere.cursor-mcp/cb"), "cursor: (an app on this device)");
        assert_eq!(display_host("https://evil.example\\claude.ai/cb"), "an address this server refuses");
    }
}
