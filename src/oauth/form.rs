//! `application/x-www-form-urlencoded` (bodies and query strings) and percent-encoding for the
//! redirects we build.

/// Decodes `a=1&b=x%20y`; later duplicates are kept so callers can reject them.
pub fn parse(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `a=1&b=2` from pairs.
pub fn serialize(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Parsed parameters with the OAuth rule that no parameter may appear twice.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_text(text: &str) -> Self {
        Params(parse(text))
    }
    /// The single value of `name`; `Err` when it is repeated.
    pub fn get(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("parameter {name} must not be repeated"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_encodes() {
        assert_eq!(
            parse("a=1&b=x%20y+z&c"),
            vec![("a".into(), "1".into()), ("b".into(), "x y z".into()), ("c".into(), "".into())]
        );
        assert_eq!(
            parse("u=https%3A%2F%2Fclaude.ai%2Fcb&bad=%zz&end=%4"),
            vec![
                ("u".into(), "https://claude.ai/cb".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into())
            ]
        );
        assert_eq!(encode("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
        let p = Params::from_text("x=1&x=2&y=3&z=");
        assert!(p.get("x").is_err());
        assert_eq!(p.get("y").unwrap(), Some("3"));
        assert_eq!(p.get("z").unwrap(), None);
    }
}
