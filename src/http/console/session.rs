//! The console's session cookie and CSRF token, both derived from `ADMIN_TOKEN`.
//!
//! The cookie value is `<session id>.<expiry ms>.<mac>`: self-contained (no lookup to accept it)
//! and signed with HMAC-SHA256 under a key derived from the admin token, so rotating the token
//! ends every console session at once. The CSRF token is a MAC of the session id under the same
//! key: only a page that was handed it at sign-in (or can read our responses) can send it.

use crate::b64::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::constant_time_eq;

pub const COOKIE_NAME: &str = "__Host-dbmcp_console";
/// How long a console session lasts (the cookie's Max-Age too).
pub const SESSION_SECONDS: u64 = 1800;

type HmacSha256 = Hmac<Sha256>;

/// The key every console MAC uses: HMAC(admin token, label), so it changes with the token.
fn derived_key(admin_token: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(admin_token.as_bytes()).expect("any key length");
    mac.update(b"dbmcp console session v1");
    mac.finalize().into_bytes().into()
}

fn mac(admin_token: &str, purpose: &str, message: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(&derived_key(admin_token)).expect("any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\n");
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A console session as its cookie carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSession {
    pub id: String,
    pub expires_ms: u64,
}

impl ConsoleSession {
    /// The cookie value for this session.
    pub fn seal(&self, admin_token: &str) -> String {
        let body = format!("{}.{}", self.id, self.expires_ms);
        let tag = mac(admin_token, "cookie", &body);
        format!("{body}.{tag}")
    }

    /// The session a cookie value names, if it was made with this admin token and has not expired.
    pub fn open(value: &str, admin_token: &str, now_ms: u64) -> Result<ConsoleSession, &'static str> {
        let mut parts = value.rsplitn(2, '.');
        let (Some(tag), Some(body)) = (parts.next(), parts.next()) else { return Err("malformed") };
        if !constant_time_eq(mac(admin_token, "cookie", body).as_bytes(), tag.as_bytes()) {
            return Err("not issued by this server, or made with an earlier admin token");
        }
        let (id, expires) = body.split_once('.').ok_or("malformed")?;
        let expires_ms: u64 = expires.parse().map_err(|_| "malformed")?;
        if now_ms >= expires_ms {
            return Err("expired");
        }
        Ok(ConsoleSession { id: id.to_string(), expires_ms })
    }

    /// The CSRF token bound to this session.
    pub fn csrf(&self, admin_token: &str) -> String {
        mac(admin_token, "csrf", &self.id)
    }

    pub fn csrf_matches(&self, admin_token: &str, presented: &str) -> bool {
        constant_time_eq(self.csrf(admin_token).as_bytes(), presented.trim().as_bytes())
    }

    /// `Set-Cookie` that stores this session in the browser.
    pub fn set_cookie(&self, now_ms: u64, admin_token: &str) -> String {
        let max_age = self.expires_ms.saturating_sub(now_ms) / 1000;
        format!(
            "{COOKIE_NAME}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}",
            self.seal(admin_token)
        )
    }
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The console cookie's value from a `Cookie` header, if present.
pub fn cookie_value(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, v)| v)
}

/// The KV key recording that a session was signed out (until its cookie would have expired).
pub fn signed_out_key(session_id: &str) -> String {
    format!("console_signed_out:{session_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "admin-token-one";

    fn session() -> ConsoleSession {
        ConsoleSession { id: "abc123".into(), expires_ms: 10_000 }
    }

    #[test]
    fn a_sealed_session_opens_with_the_same_token_until_it_expires() {
        let value = session().seal(TOKEN);
        assert_eq!(ConsoleSession::open(&value, TOKEN, 9_999), Ok(session()));
        assert_eq!(ConsoleSession::open(&value, TOKEN, 10_000), Err("expired"));
    }

    #[test]
    fn a_rotated_token_or_a_tampered_value_is_refused() {
        let value = session().seal(TOKEN);
        assert!(ConsoleSession::open(&value, "admin-token-two", 0).is_err());
        // A later expiry with the old MAC.
        let tampered = value.replacen("10000", "99999", 1);
        assert!(ConsoleSession::open(&tampered, TOKEN, 0).is_err());
        let other_id = value.replacen("abc123", "abc124", 1);
        assert!(ConsoleSession::open(&other_id, TOKEN, 0).is_err());
        for junk in ["", ".", "a.b", "a.b.c", "abc123.x.y"] {
            assert!(ConsoleSession::open(junk, TOKEN, 0).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session_and_the_admin_token() {
        let s = session();
        let csrf = s.csrf(TOKEN);
        assert!(s.csrf_matches(TOKEN, &csrf));
        assert!(!s.csrf_matches("admin-token-two", &csrf));
        let other = ConsoleSession { id: "zzz".into(), expires_ms: 10_000 };
        assert!(!other.csrf_matches(TOKEN, &csrf));
        assert!(!s.csrf_matches(TOKEN, ""));
        // The CSRF token is not the cookie's MAC (one cannot be made from the other).
        assert!(!s.seal(TOKEN).ends_with(&csrf));
    }

    #[test]
    fn cookies_are_host_only_secure_and_strict() {
        let c = session().set_cookie(1_000, TOKEN);
        assert!(c.starts_with("__Host-dbmcp_console="));
        for part in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age=9"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Domain"));
        assert!(clear_cookie().contains("Max-Age=0"));
        assert_eq!(cookie_value("a=1; __Host-dbmcp_console=x.y.z; b=2"), Some("x.y.z"));
        assert_eq!(cookie_value("dbmcp_console=x"), None);
    }
}
