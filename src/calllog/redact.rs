//! Arguments as the log keeps them: values of secret-looking keys replaced at any depth, the
//! whole capped so one call cannot make a huge entry.

use serde_json::Value as Json;

pub const REDACTED: &str = "[redacted]";
/// Bytes of argument JSON kept per entry.
pub const MAX_ARGUMENT_BYTES: usize = 4096;

/// Key fragments (lower case, `-` and `_` removed) whose values are never logged.
const SECRET_FRAGMENTS: [&str; 12] = [
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "privatekey",
    "credential",
    "accesskey",
    "signature",
    "sessionid",
];
/// Whole keys (normalised) that are secrets but too short to match as fragments.
const SECRET_KEYS: [&str; 4] = ["pwd", "pass", "auth", "confirm"];

pub fn is_secret_key(key: &str) -> bool {
    let normal: String = key.chars().filter(|c| *c != '_' && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    SECRET_KEYS.contains(&normal.as_str()) || SECRET_FRAGMENTS.iter().any(|f| normal.contains(f))
}

/// Replaces the values of secret-looking keys, in objects at any depth (arrays included).
pub fn redact(value: &mut Json) {
    match value {
        Json::Object(map) => {
            for (key, value) in map.iter_mut() {
                if is_secret_key(key) {
                    *value = Json::from(REDACTED);
                } else {
                    redact(value);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Redacts, then caps: when the JSON text is longer than `max` bytes the arguments become a
/// string of its first bytes (cut on a character boundary) and the flag is set.
pub fn redact_and_cap(mut value: Json, max: usize) -> (Json, bool) {
    redact(&mut value);
    let text = value.to_string();
    if text.len() <= max {
        return (value, false);
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    (Json::String(text[..cut].to_string()), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_in_arrays() {
        let (value, cut) = redact_and_cap(
            json!({
                "table": "users",
                "Password": "p1",
                "records": [ { "name": "a", "API_KEY": "k", "nested": { "refresh-token": "t", "ok": 1 } } ],
                "Authorization": { "scheme": "x" },
                "client_secret": ["s"],
                "author": "kept",
                "pwd": "x"
            }),
            MAX_ARGUMENT_BYTES,
        );
        assert!(!cut);
        assert_eq!(
            value,
            json!({
                "table": "users",
                "Password": REDACTED,
                "records": [ { "name": "a", "API_KEY": REDACTED, "nested": { "refresh-token": REDACTED, "ok": 1 } } ],
                "Authorization": REDACTED,
                "client_secret": REDACTED,
                "author": "kept",
                "pwd": REDACTED
            })
        );
    }

    #[test]
    fn keys_match_case_insensitively_without_false_friends() {
        for key in ["password", "PASSWORD", "db_password", "x-api-key", "apiKey", "SessionId", "accessToken"] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["author", "name", "passage", "tokens_used_by"] {
            // "tokens_used_by" contains "token": the rule errs on the side of hiding.
            assert_eq!(is_secret_key(key), key.contains("token"), "{key}");
        }
    }

    #[test]
    fn long_arguments_are_cut_and_flagged() {
        let (value, cut) = redact_and_cap(json!({ "filter": "é".repeat(5000), "token": "zzz" }), 100);
        assert!(cut);
        let text = value.as_str().unwrap();
        assert!(text.len() <= 100 && text.len() > 90, "{}", text.len());
        assert!(text.starts_with("{\"filter\":\"é"));
        // Redaction happens before the cut, so a secret never appears even in the prefix.
        let (value, _) = redact_and_cap(json!({ "token": "s".repeat(200), "a": "b".repeat(200) }), 50);
        assert!(!value.as_str().unwrap().contains("sss"));
        let (small, cut) = redact_and_cap(json!([1, 2]), 100);
        assert_eq!((small, cut), (json!([1, 2]), false));
    }
}
