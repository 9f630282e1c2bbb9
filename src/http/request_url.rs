//! The origin, path and query of a request URL, sliced from the runtime's URL text.
//!
//! The runtime hands the worker its request URL serialized by the WHATWG URL standard (scheme and
//! host in lower case, no default port, the path percent-encoded), so the parts are found by
//! position: parsing the text again with the url crate gave the same parts at a cost on every
//! request (the tests compare the two). Anything unusual (another scheme, user info) gets `None`,
//! and the caller parses it in full.

pub struct RequestUrl<'a> {
    /// `scheme://host[:port]`, as `url::Origin::ascii_serialization` gives it.
    pub origin: &'a str,
    /// From the first `/` after the host, without the query; `/` at least.
    pub path: &'a str,
    /// After `?`, without it; empty when there is none.
    pub query: &'a str,
}

pub fn split(url: &str) -> Option<RequestUrl<'_>> {
    let authority_start = ["https://", "http://"].iter().find(|s| url.starts_with(**s))?.len();
    let authority_len = url[authority_start..].find(['/', '?', '#']).unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];
    // User info is not part of an origin; an empty host is not a request URL.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (origin, rest) = url.split_at(authority_start + authority_len);
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !path.starts_with('/') {
        return None;
    }
    Some(RequestUrl { origin, path, query })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the url crate gives for the same text (the edge's answer when `split` says `None`).
    fn by_url_crate(text: &str) -> (String, String, String) {
        let url = url::Url::parse(text).unwrap();
        (url.origin().ascii_serialization(), url.path().to_string(), url.query().unwrap_or("").to_string())
    }

    #[test]
    fn request_urls_split_as_the_url_crate_parses_them() {
        for text in [
            "http://127.0.0.1:8787/mcp/demo",
            "https://dbmcp.example.workers.dev/mcp/demo",
            "https://dbmcp.example.com/",
            "https://dbmcp.example.com/authorize?response_type=code&client_id=abc&state=x%20y",
            "https://dbmcp.example.com/admin/",
            "http://[::1]:8787/.well-known/oauth-authorization-server/mcp/demo",
            "https://xn--bcher-kva.example/mcp/demo?",
            "https://dbmcp.example.com/mcp/caf%C3%A9/records/t/1?x=%3F",
            "https://dbmcp.example.com//admin//services",
            "https://dbmcp.example.com/a?b?c",
            "https://dbmcp.example.com/a#frag",
        ] {
            let url = split(text).unwrap_or_else(|| panic!("{text} was not split"));
            assert_eq!((url.origin.to_string(), url.path.to_string(), url.query.to_string()), by_url_crate(text), "{text}");
        }
    }

    #[test]
    fn unusual_urls_are_left_to_the_full_parser() {
        for text in ["http://user:pass@host.example/mcp", "http://user@host.example/", "ftp://host.example/", "http://", "mcp/demo"] {
            assert!(split(text).is_none(), "{text}");
        }
    }
}
