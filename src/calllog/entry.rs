//! One log entry and how it is built from a finished call.

#[cfg(test)]
use serde::Deserialize;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::redact;

/// Characters of an error message kept in an entry.
pub const MAX_ERROR_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(Deserialize))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// The tool ran and answered `isError` (bad arguments, a database error, ...).
    ToolError,
    /// A JSON-RPC error (unknown tool, invalid params, unknown resource, ...).
    ProtocolError,
    /// Refused by a rate limit before running.
    RateLimited,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [Outcome::Ok, Outcome::ToolError, Outcome::ProtocolError, Outcome::RateLimited];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::ProtocolError => "protocol_error",
            Outcome::RateLimited => "rate_limited",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// Serialized only: the worker passes stored entries through as JSON values, so no deserializer
/// for this struct is compiled into the bundle (tests get one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(Deserialize))]
pub struct LogEntry {
    /// `<13-digit ms time>-<12 hex>`: unique, and sorting ids sorts by time.
    pub id: String,
    pub time: u64,
    pub service: String,
    /// `user`, `api_key` or `anonymous`.
    pub principal_kind: String,
    pub principal_id: String,
    pub key_label: Option<String>,
    /// The OAuth client id (OAuth access tokens only).
    pub client_id: Option<String>,
    /// `name/version` from the clientInfo the client sent.
    pub client_name: Option<String>,
    pub method: String,
    /// Tool name, resource URI or prompt name.
    pub target: Option<String>,
    /// Redacted; a string holding the start of the JSON text when it was cut.
    pub arguments: Json,
    pub arguments_truncated: bool,
    pub duration_ms: u64,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
    pub outcome: Outcome,
    pub error: Option<String>,
    /// `2025` (sessions) or `2026` (stateless 2026-07-28).
    pub era: String,
    pub request_id: String,
    pub trace_id: Option<String>,
}

/// A new id for an entry made at `time_ms`.
pub fn new_id(time_ms: u64) -> String {
    let mut random = [0u8; 6];
    // Without randomness ids of the same millisecond could collide; a counter keeps them apart.
    if getrandom::fill(&mut random).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        random.copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes()[2..]);
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{time_ms:013}-{hex}")
}

/// Whether `id` has the shape [`new_id`] gives.
pub fn is_valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 26
        && bytes[..13].iter().all(u8::is_ascii_digit)
        && bytes[13] == b'-'
        && bytes[14..].iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Who called, as the log names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub kind: &'static str,
    pub id: String,
    pub key_label: Option<String>,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
}

impl Caller {
    /// From a principal id (`key:<id>`, `oauth:<client>:<user>`, `anonymous`) and the clientInfo.
    pub fn new(principal_id: &str, key_label: Option<&str>, client_info: &Json) -> Caller {
        let (kind, client_id) = if principal_id.starts_with("key:") {
            ("api_key", None)
        } else if let Some(rest) = principal_id.strip_prefix("oauth:") {
            // `oauth:<client>:<user>`: a client id may be a URL (Client ID Metadata Documents),
            // a username has no ':'.
            ("user", Some(rest.rsplit_once(':').map_or(rest, |(client, _)| client).to_string()))
        } else {
            ("anonymous", None)
        };
        Caller {
            kind,
            id: principal_id.to_string(),
            key_label: key_label.map(str::to_string),
            client_id,
            client_name: client_name(client_info),
        }
    }
}

/// `name/version` (or `name`) from a clientInfo object, capped.
fn client_name(client_info: &Json) -> Option<String> {
    let name = client_info.get("name")?.as_str()?;
    let text = match client_info.get("version").and_then(Json::as_str) {
        Some(version) => format!("{name}/{version}"),
        None => name.to_string(),
    };
    Some(cap_chars(&text, 200))
}

/// The trace id of a valid W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, ids not all zero).
pub fn trace_id(traceparent: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = traceparent?.trim().split('-').collect();
    let hex =
        |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let [version, trace, parent, flags, ..] = parts.as_slice() else { return None };
    let valid = hex(version, 2)
        && *version != "ff"
        && (parts.len() == 4 || *version != "00")
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_string())
}

/// The target of a call: the tool name, resource URI or prompt name.
pub fn target(method: &str, params: Option<&Map<String, Json>>) -> Option<String> {
    let key = match method {
        "resources/read" => "uri",
        _ => "name",
    };
    params?.get(key)?.as_str().map(|s| cap_chars(s, 300))
}

/// Rows the tool result says were read and written (where the tool reports them).
pub fn rows(result: &Json) -> (Option<u64>, Option<u64>) {
    let Some(value) = result.get("structuredContent") else { return (None, None) };
    let read = value.get("returned").and_then(Json::as_u64);
    let written = value
        .get("created")
        .and_then(Json::as_array)
        .map(|a| a.len() as u64)
        .or_else(|| value.get("updated").and_then(Json::as_u64))
        .or_else(|| value.get("deleted").and_then(Json::as_u64))
        .or_else(|| value.get("rows_written").and_then(Json::as_u64));
    (read, written)
}

/// The outcome and error message of an answered call.
pub fn outcome(result: Result<&Json, &str>) -> (Outcome, Option<String>) {
    match result {
        Err(message) => (Outcome::ProtocolError, Some(cap_chars(message, MAX_ERROR_CHARS))),
        Ok(value) if value.get("isError") == Some(&Json::Bool(true)) => {
            let text = value
                .get("content")
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("text"))
                .and_then(Json::as_str)
                .unwrap_or("the tool reported an error");
            (Outcome::ToolError, Some(cap_chars(text, MAX_ERROR_CHARS)))
        }
        Ok(_) => (Outcome::Ok, None),
    }
}

pub fn cap_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Everything known about a call once it has been answered.
pub struct FinishedCall<'a> {
    pub service: &'a str,
    pub caller: &'a Caller,
    pub era: &'a str,
    pub trace_id: Option<&'a str>,
    pub request_id: String,
    pub method: &'a str,
    pub params: Option<&'a Map<String, Json>>,
    /// The result, or the JSON-RPC error's message.
    pub result: Result<&'a Json, String>,
    pub started_ms: u64,
    pub duration_ms: u64,
}

impl FinishedCall<'_> {
    pub fn into_entry(self) -> LogEntry {
        let raw_arguments = match self.method {
            "resources/read" => Json::Null,
            _ => self.params.and_then(|p| p.get("arguments")).cloned().unwrap_or(Json::Null),
        };
        let (arguments, arguments_truncated) = redact::redact_and_cap(raw_arguments, redact::MAX_ARGUMENT_BYTES);
        let result = self.result.as_ref().map_err(String::as_str).copied();
        let (outcome, error) = outcome(result);
        let (rows_read, rows_written) = result.map(rows).unwrap_or((None, None));
        LogEntry {
            id: new_id(self.started_ms),
            time: self.started_ms,
            service: self.service.to_string(),
            principal_kind: self.caller.kind.to_string(),
            principal_id: self.caller.id.clone(),
            key_label: self.caller.key_label.clone(),
            client_id: self.caller.client_id.clone(),
            client_name: self.caller.client_name.clone(),
            method: self.method.to_string(),
            target: target(self.method, self.params),
            arguments,
            arguments_truncated,
            duration_ms: self.duration_ms,
            rows_read,
            rows_written,
            outcome,
            error,
            era: self.era.to_string(),
            request_id: cap_chars(&self.request_id, 200),
            trace_id: self.trace_id.map(str::to_string),
        }
    }
}

impl LogEntry {
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

/// The Workers Logs line of an entry (as JSON): `{"event":"mcp_call", ...}`, every field but the
/// arguments.
pub fn log_line(entry: &Json) -> String {
    let Json::Object(map) = entry else { return String::new() };
    // Written field by field: no copy of the entry, once per call.
    let mut line = Vec::with_capacity(512);
    line.extend_from_slice(br#"{"event":"mcp_call""#);
    for (key, value) in map {
        if key != "arguments" && key != "arguments_truncated" && key != "event" {
            line.push(b',');
            let written = serde_json::to_writer(&mut line, key).and_then(|()| {
                line.push(b':');
                serde_json::to_writer(&mut line, value)
            });
            if written.is_err() {
                return String::new();
            }
        }
    }
    line.push(b'}');
    String::from_utf8(line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_unique_sortable_and_checked() {
        let a = new_id(1_700_000_000_000);
        let b = new_id(1_700_000_000_001);
        assert!(is_valid_id(&a), "{a}");
        assert!(a < b);
        assert_ne!(new_id(5), new_id(5));
        assert!(a.starts_with("1700000000000-"));
        for bad in ["", "x", "1700000000000_aaaaaaaaaaaa", "1700000000000-AAAAAAAAAAAA", "170000000000a-aaaaaaaaaaaa"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn callers_are_classified() {
        let info = json!({"name": "claude", "version": "1.2"});
        let key = Caller::new("key:k1", Some("ci"), &info);
        assert_eq!(
            (key.kind, key.key_label.as_deref(), key.client_name.as_deref()),
            ("api_key", Some("ci"), Some("claude/1.2"))
        );
        let user = Caller::new("oauth:c_abc:alice", None, &Json::Null);
        assert_eq!((user.kind, user.client_id.as_deref(), user.client_name), ("user", Some("c_abc"), None));
        assert_eq!(Caller::new("anonymous", None, &json!({"name": "x"})).kind, "anonymous");
        let cimd = Caller::new("oauth:https://app.example.com/client.json:bob", None, &Json::Null);
        assert_eq!(cimd.client_id.as_deref(), Some("https://app.example.com/client.json"));
    }

    #[test]
    fn traceparent_gives_the_trace_id_only_when_valid() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(Some(good)).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(trace_id(None), None);
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f35-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert_eq!(trace_id(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn outcomes_rows_and_errors_come_from_the_result() {
        let ok = json!({"structuredContent": {"returned": 3, "records": []}, "isError": false});
        assert_eq!(outcome(Ok(&ok)), (Outcome::Ok, None));
        assert_eq!(rows(&ok), (Some(3), None));
        assert_eq!(rows(&json!({"structuredContent": {"created": [{}, {}]}})), (None, Some(2)));
        assert_eq!(rows(&json!({"structuredContent": {"deleted": 4}})), (None, Some(4)));
        assert_eq!(rows(&json!({"contents": []})), (None, None));
        let tool_error = json!({"content": [{"type": "text", "text": "no table x"}], "isError": true});
        assert_eq!(outcome(Ok(&tool_error)), (Outcome::ToolError, Some("no table x".into())));
        let (o, e) = outcome(Err(&"y".repeat(600)));
        assert_eq!(o, Outcome::ProtocolError);
        assert_eq!(e.unwrap().chars().count(), MAX_ERROR_CHARS + 1);
        assert_eq!(Outcome::parse("rate_limited"), Some(Outcome::RateLimited));
        assert_eq!(Outcome::parse("OK"), None);
    }

    #[test]
    fn an_entry_redacts_and_its_log_line_has_no_arguments() {
        let caller = Caller::new("key:k1", Some("ci"), &json!({"name": "sdk", "version": "2"}));
        let params = json!({"name": "get_table_data", "arguments": {"table": "t", "api_key": "sk-1"}});
        let result = json!({"structuredContent": {"returned": 1}, "isError": false});
        let entry = FinishedCall {
            service: "demo",
            caller: &caller,
            era: "2025",
            trace_id: Some("abc"),
            request_id: "7".into(),
            method: "tools/call",
            params: params.as_object(),
            result: Ok(&result),
            started_ms: 1_000,
            duration_ms: 12,
        }
        .into_entry();
        assert_eq!(entry.target.as_deref(), Some("get_table_data"));
        assert_eq!(entry.arguments, json!({"table": "t", "api_key": "[redacted]"}));
        assert_eq!((entry.rows_read, entry.outcome, entry.time), (Some(1), Outcome::Ok, 1_000));
        let line: Json = serde_json::from_str(&log_line(&entry.to_json())).unwrap();
        assert_eq!(line["event"], "mcp_call");
        assert_eq!(line["principal_kind"], "api_key");
        assert_eq!(line["outcome"], "ok");
        assert!(line.get("arguments").is_none());
        // Exactly the entry's fields after "event", in the entry's order, nothing else.
        let mut expected = serde_json::Map::new();
        expected.insert("event".into(), json!("mcp_call"));
        for (key, value) in entry.to_json().as_object().unwrap() {
            if key != "arguments" && key != "arguments_truncated" {
                expected.insert(key.clone(), value.clone());
            }
        }
        assert_eq!(log_line(&entry.to_json()), Json::Object(expected).to_string());
        let back: LogEntry = serde_json::from_value(serde_json::to_value(&entry).unwrap()).unwrap();
        assert_eq!(back, entry);
    }
}
