//! Scopes: `mcp:read` (read tools) and `mcp:write` (write tools; implies read). Unknown scope
//! strings are dropped rather than refused, because real clients send their own (Claude may send
//! `claudeai`); no known scope at all means read.

use crate::auth::{SCOPE_READ, SCOPE_WRITE};

pub const SUPPORTED: [&str; 2] = [SCOPE_READ, SCOPE_WRITE];

/// The scopes granted for a requested `scope` string, in canonical order.
pub fn grantable(requested: Option<&str>) -> Vec<String> {
    let words: Vec<&str> = requested.unwrap_or("").split_whitespace().collect();
    if words.contains(&SCOPE_WRITE) {
        vec![SCOPE_READ.into(), SCOPE_WRITE.into()]
    } else {
        vec![SCOPE_READ.into()]
    }
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

pub fn split(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_string).collect()
}

/// A refresh may narrow the scope of a grant but never widen it.
pub fn narrow(granted: &str, requested: Option<&str>) -> Result<String, String> {
    let Some(requested) = requested else { return Ok(granted.to_string()) };
    let have = split(granted);
    let want: Vec<String> = split(requested).into_iter().filter(|s| SUPPORTED.contains(&s.as_str())).collect();
    if let Some(extra) = want.iter().find(|s| !have.contains(s)) {
        return Err(format!("scope {extra} was not granted; re-authorize to get it"));
    }
    if want.is_empty() {
        return Ok(granted.to_string());
    }
    let mut out = want;
    if out.iter().any(|s| s == SCOPE_WRITE) && !out.iter().any(|s| s == SCOPE_READ) {
        out.insert(0, SCOPE_READ.into());
    }
    Ok(join(&out))
}

pub fn describe(scopes: &[String]) -> &'static str {
    if scopes.iter().any(|s| s == SCOPE_WRITE) {
        "read and change data (mcp:read, mcp:write)"
    } else {
        "read data only (mcp:read)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_unknown_scopes_and_defaults_to_read() {
        assert_eq!(grantable(None), vec!["mcp:read"]);
        assert_eq!(grantable(Some("claudeai")), vec!["mcp:read"]);
        assert_eq!(grantable(Some("mcp:write openid")), vec!["mcp:read", "mcp:write"]);
        assert_eq!(grantable(Some("mcp:read  mcp:write")), vec!["mcp:read", "mcp:write"]);
    }

    #[test]
    fn refresh_narrows_but_never_widens() {
        assert_eq!(narrow("mcp:read mcp:write", None).unwrap(), "mcp:read mcp:write");
        assert_eq!(narrow("mcp:read mcp:write", Some("mcp:read")).unwrap(), "mcp:read");
        assert!(narrow("mcp:read", Some("mcp:write")).is_err());
        assert_eq!(narrow("mcp:read", Some("claudeai")).unwrap(), "mcp:read");
    }
}
