//! `WWW-Authenticate` values (RFC 9110 11.6.1), built in one place so every parameter is a valid
//! quoted-string whatever text it carries: `Bearer error="invalid_token", error_description="..."`.
//!
//! A value is always sent as printable ASCII (header values are bytes: UTF-8 text arrives as
//! Latin-1 mojibake, and CR/LF would end the header): `"` and `\` become quoted-pairs, control
//! characters become spaces, other non-ASCII characters become `?`. The JSON body of the same
//! response carries the full text. RFC 6750 3 further allows neither `"` nor `\` in `error` and
//! `error_description`, so those two read `'` and `/` there.

/// One challenge: an auth scheme and its parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    scheme: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Challenge {
    pub fn new(scheme: &'static str) -> Self {
        Challenge { scheme, params: Vec::new() }
    }

    pub fn bearer() -> Self {
        Self::new("Bearer")
    }

    pub fn basic() -> Self {
        Self::new("Basic")
    }

    /// Adds `name="value"`; the name is one of ours (an RFC 9110 token), the value any text.
    pub fn param(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        debug_assert!(!name.is_empty() && name.bytes().all(is_token_char), "{name} is not a token");
        let value = value.as_ref();
        let value = if matches!(name, "error" | "error_description") {
            value.replace('"', "'").replace('\\', "/")
        } else {
            value.to_string()
        };
        self.params.push((name, value));
        self
    }

    /// The header value.
    pub fn header_value(&self) -> String {
        let params: Vec<String> =
            self.params.iter().map(|(name, value)| format!("{name}={}", quoted_string(value))).collect();
        if params.is_empty() {
            self.scheme.to_string()
        } else {
            format!("{} {}", self.scheme, params.join(", "))
        }
    }
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `text` as an RFC 9110 quoted-string of printable ASCII (see the module comment).
pub fn quoted_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if c.is_control() => out.push(' '),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A strict reader of one RFC 9110 challenge: `scheme [param *("," param)]`, each value a
    /// quoted-string. Returns the unescaped parameters, or why the header is malformed.
    fn parse(header: &str) -> Result<(String, Vec<(String, String)>), String> {
        let (scheme, mut rest) = header.split_once(' ').unwrap_or((header, ""));
        let mut params = Vec::new();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=').ok_or("a parameter without =")?;
            if name.is_empty() || !name.bytes().all(is_token_char) {
                return Err(format!("bad name {name:?}"));
            }
            let mut chars = after.chars();
            if chars.next() != Some('"') {
                return Err("value is not quoted".into());
            }
            let mut value = String::new();
            loop {
                match chars.next().ok_or("unterminated quoted-string")? {
                    '"' => break,
                    '\\' => value.push(chars.next().ok_or("dangling backslash")?),
                    c if c == '\t' || (' '..='~').contains(&c) => value.push(c),
                    c => return Err(format!("{c:?} is not allowed in a quoted-string")),
                }
            }
            params.push((name.to_string(), value));
            rest = chars.as_str();
            if !rest.is_empty() {
                rest = rest.strip_prefix(", ").ok_or(format!("expected \", \" before {rest:?}"))?;
            }
        }
        Ok((scheme.to_string(), params))
    }

    #[test]
    fn quotes_quotes_backslashes_controls_and_non_ascii() {
        assert_eq!(quoted_string(r#"say "hi" \o/"#), r#""say \"hi\" \\o/""#);
        assert_eq!(quoted_string("a\r\nb\tc\u{7f}d\0"), "\"a  b c d \"");
        assert_eq!(quoted_string("café Жx 🙂"), "\"caf? ?x ?\"");
        let (_, params) = parse(&format!("Basic realm={}", quoted_string(r#"a "b" \c"#))).unwrap();
        assert_eq!(params, vec![("realm".to_string(), r#"a "b" \c"#.to_string())]);
    }

    #[test]
    fn every_challenge_parses_back() {
        // Issue 7.7: `error_description="the tool "create_records" needs ..."` broke parsing.
        let hostile = "the tool \"create_records\" needs \\ mcp:write\r\nX-Injected: 1 — Жx";
        let header = Challenge::bearer()
            .param("realm", "db\"mcp")
            .param("error", "insufficient_scope")
            .param("scope", "mcp:read mcp:write")
            .param("error_description", hostile)
            .header_value();
        assert!(header.bytes().all(|b| b.is_ascii_graphic() || b == b' '), "{header}");
        let (scheme, params) = parse(&header).unwrap_or_else(|e| panic!("{header}: {e}"));
        assert_eq!(scheme, "Bearer");
        assert_eq!(params[0], ("realm".into(), "db\"mcp".into()));
        assert_eq!(params[2], ("scope".into(), "mcp:read mcp:write".into()));
        let description = &params[3].1;
        assert_eq!(description, "the tool 'create_records' needs / mcp:write  X-Injected: 1 ? ?x");
        // RFC 6750 3: error_description uses %x20-21 / %x23-5B / %x5D-7E only.
        assert!(description.bytes().all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)));
        assert_eq!(Challenge::basic().header_value(), "Basic");
    }
}
