//! The origin, path and query of a request URL, sliced from the runtime's URL text.
//!
//! Parsing the URL again with the url crate on every request costs CPU for the answer the text
//! usually has already: on Cloudflare and from ordinary clients the URL arrives in its canonical
//! form (lower-case host, no default port, the path percent-encoded). So a URL is sliced by
//! position only when it is plainly canonical; anything the url crate would rewrite (upper-case or
//! numeric-looking hosts, a default port, user info, backslashes, dot segments, characters it
//! percent-encodes) gets `None`, and the caller parses it in full. The tests compare the two on
//! canonical and on awkward URLs.

pub struct RequestUrl<'a> {
    /// `scheme://host[:port]`, as `url::Origin::ascii_serialization` gives it.
    pub origin: &'a str,
    /// From the first `/` after the host, without the query; `/` at least.
    pub path: &'a str,
    /// After `?`, without it; empty when there is none.
    pub query: &'a str,
}

pub fn split(url: &str) -> Option<RequestUrl<'_>> {
    let (scheme, default_port) =
        [("https://", ":443"), ("http://", ":80")].into_iter().find(|(s, _)| url.starts_with(s))?;
    let authority_start = scheme.len();
    let authority_len = url[authority_start..].find(['/', '?', '#']).unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];
    if !canonical_authority(authority) || authority.ends_with(default_port) {
        return None;
    }
    let (origin, rest) = url.split_at(authority_start + authority_len);
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let plain =
        |text: &str, rewritten: &[u8]| text.bytes().all(|b| (0x21..=0x7e).contains(&b) && !rewritten.contains(&b));
    let dot_segment = path.split('/').any(|segment| {
        [".", "..", "%2e", "%2e.", ".%2e", "%2e%2e"].iter().any(|dots| segment.eq_ignore_ascii_case(dots))
    });
    if !path.starts_with('/') || !plain(path, b"\\\"<>`{}") || dot_segment || !plain(query, b"\"<>'") {
        return None;
    }
    Some(RequestUrl { origin, path, query })
}

/// A lower-case DNS name (letters, digits, `-`, inner dots, last label not all digits) or a
/// dotted-quad IPv4 address without leading zeros, with an optional port (no leading zero). IPv6
/// hosts take the full parser.
fn canonical_authority(authority: &str) -> bool {
    let (host, port) = match authority.rfind(':') {
        Some(at) if !authority.ends_with(']') => (&authority[..at], Some(&authority[at + 1..])),
        _ => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0') && p.parse::<u16>().is_ok());
    port_ok && (dns_name(host) || dotted_quad(host))
}

fn dns_name(host: &str) -> bool {
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    // A name whose last label is all digits is read as an IPv4 number by the url crate.
    labels_ok && host.rsplit('.').next().is_some_and(|last| last.bytes().any(|b| !b.is_ascii_digit()))
}

fn dotted_quad(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u8>().is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the url crate gives for the same text (the edge's answer when `split` says `None`).
    fn by_url_crate(text: &str) -> (String, String, String) {
        let url = url::Url::parse(text).unwrap();
        (url.origin().ascii_serialization(), url.path().to_string(), url.query().unwrap_or("").to_string())
    }

    /// `text` is split, into the parts the url crate gives.
    fn assert_split_as_url_crate(text: &str) {
        let url = split(text).unwrap_or_else(|| panic!("{text} was not split"));
        assert_eq!((url.origin.to_string(), url.path.to_string(), url.query.to_string()), by_url_crate(text), "{text}");
    }

    #[test]
    fn request_urls_split_as_the_url_crate_parses_them() {
        for text in [
            "http://127.0.0.1:8787/mcp/demo",
            "https://dbmcp.example.workers.dev/mcp/demo",
            "https://dbmcp.example.com/",
            "https://dbmcp.example.com/authorize?response_type=code&client_id=abc&state=x%20y",
            "https://dbmcp.example.com/admin/",
            "https://xn--bcher-kva.example/mcp/demo?",
            "https://dbmcp.example.com/mcp/caf%C3%A9/records/t/1?x=%3F",
            "https://dbmcp.example.com//admin//services",
            "https://dbmcp.example.com/a?b?c",
            "https://dbmcp.example.com/a#frag",
        ] {
            assert_split_as_url_crate(text);
        }
    }

    #[test]
    fn urls_the_url_crate_would_rewrite_are_left_to_it() {
        for text in [
            "http://user:pass@host.example/mcp",
            "http://user@host.example/",
            "ftp://host.example/",
            "http://",
            "mcp/demo",
            "https://DBMCP.example.com/mcp/demo",
            "https://dbmcp.example.com:443/mcp/demo",
            "http://127.0.0.1:80/mcp/demo",
            "http://localhost:08787/",
            "http://localhost:99999/",
            "https://dbmcp.example.com./mcp/demo",
            "http://0x7f.0.0.1:8787/",
            "http://127.1:8787/",
            "http://127.000.0.1:8787/",
            "http://[::1]:8787/mcp/demo",
            "https://dbmcp.example.com",
            "https://dbmcp.example.com/mcp\\demo",
            "https://dbmcp.example.com/mcp/../admin",
            "https://dbmcp.example.com/mcp/%2E%2e/admin",
            "https://dbmcp.example.com/mcp/./demo",
            "https://dbmcp.example.com/mcp/demo/records/t/%2e",
            "https://dbmcp.example.com/mcp/de mo",
            "https://dbmcp.example.com/mcp/d\"emo",
            "https://dbmcp.example.com/mcp/{demo}",
            "https://dbmcp.example.com/mcp/démo",
            "https://dbmcp.example.com/mcp/demo?q='x'",
            "https://dbmcp.example.com/mcp/demo?q=<x>",
            "https://dbmcp.example.com/mcp/demo?q=a b",
            "https://bücher.example/mcp",
            "https://under_score.example/mcp",
        ] {
            if let Some(url) = split(text) {
                panic!("{text} was split as {} {} {}", url.origin, url.path, url.query);
            }
        }
    }

    #[test]
    fn whatever_is_split_matches_the_url_crate() {
        // Awkward but canonical: each is split, and as the url crate parses it.
        for text in [
            "http://127.0.0.1/",
            "http://10.0.0.255:65535/x",
            "https://a-b.c-d.example:8443/mcp/x?y=%27&z=%22",
            "https://dbmcp.example.com/mcp/.well-known/x..y/...",
            "https://dbmcp.example.com/~user/a|b^c?d=e|f^g&h=[i]",
            "https://1example.com/",
        ] {
            assert_split_as_url_crate(text);
        }
    }
}
