//! The execution log: one entry per `tools/call`, `resources/read` and `prompts/get`, in both
//! protocol eras. Plain Rust: the entry and its redaction ([`entry`], [`redact`]), the admin
//! API's filter and cursor ([`query`]), exports ([`export`]) and the summary ([`summary`]). The
//! edge (`edge::execution_log`) buffers entries per isolate and writes them to sharded Durable
//! Objects after the response; the core only calls [`CallLog::record`].

pub mod entry;
pub mod export;
pub mod query;
pub mod redact;
pub mod site;
pub mod summary;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value as Json;

pub use entry::{LogEntry, Outcome};
pub use query::{LogQuery, ShardQuery};
pub use summary::StatRow;

/// Where entries go. `record` is synchronous and cheap (it buffers); writing happens later, off
/// the response path.
pub trait CallLog {
    fn record(&self, entry: LogEntry);
    /// The clock a call's duration is measured with.
    fn now_ms(&self) -> u64;
}

/// What one shard answers for the summary: every call in the window (compact) and its slowest.
/// Read back by hand ([`ShardStats::from_json`]): a derived deserializer costs bundle size.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShardStats {
    pub rows: Vec<StatRow>,
    /// Entries as stored (JSON objects).
    pub slowest: Vec<Json>,
}

impl ShardStats {
    pub fn from_json(mut value: Json) -> Option<ShardStats> {
        let rows = value.get("rows")?.as_array()?.iter().map(StatRow::from_json).collect::<Option<Vec<_>>>()?;
        let slowest = match value.get_mut("slowest")?.take() {
            Json::Array(items) => items,
            _ => return None,
        };
        Some(ShardStats { rows, slowest })
    }
}

/// Reads the log's shards (Durable Objects at the edge) for the admin API.
#[async_trait(?Send)]
pub trait LogStore {
    /// One shard's entries (JSON objects as stored) matching the query, newest first, at most
    /// `query.limit`.
    async fn query(&self, object: &str, query: &ShardQuery) -> Result<Vec<Json>, String>;
    async fn get(&self, object: &str, id: &str) -> Result<Option<Json>, String>;
    async fn stats(&self, object: &str, from_ms: u64, slowest: usize) -> Result<ShardStats, String>;
    /// Entries that could not be written for this service (persisted, best effort).
    async fn write_failures(&self, service: &str) -> Result<u64, String>;
}

pub const DEFAULT_RETENTION_DAYS: u64 = 30;
pub const MAX_RETENTION_DAYS: u64 = 3650;
pub const DEFAULT_SHARDS: u64 = 4;
pub const MAX_SHARDS: u64 = 64;
pub const DAY_MS: u64 = 86_400_000;

/// A service's `log = { enabled, retention_days, shards }`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    pub enabled: bool,
    pub retention_days: u64,
    pub shards: u64,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { enabled: true, retention_days: DEFAULT_RETENTION_DAYS, shards: DEFAULT_SHARDS }
    }
}

impl LogSettings {
    /// Parses the `log` object of a service; every problem names its field.
    pub fn parse(value: Option<&Json>) -> Result<LogSettings, Vec<String>> {
        let mut settings = LogSettings::default();
        let Some(value) = value else { return Ok(settings) };
        let Some(object) = value.as_object() else {
            return Err(vec![
                "log: must be an object like {\"enabled\": true, \"retention_days\": 30, \"shards\": 4}".into()
            ]);
        };
        let mut errors = Vec::new();
        let mut number = |key: &str, max: u64, slot: &mut u64| {
            if let Some(v) = object.get(key) {
                match v.as_u64() {
                    Some(n) if (1..=max).contains(&n) => *slot = n,
                    _ => errors.push(format!("log.{key}: must be a whole number from 1 to {max}, got {v}")),
                }
            }
        };
        number("retention_days", MAX_RETENTION_DAYS, &mut settings.retention_days);
        number("shards", MAX_SHARDS, &mut settings.shards);
        match object.get("enabled") {
            None => {}
            Some(Json::Bool(b)) => settings.enabled = *b,
            Some(other) => errors.push(format!("log.enabled: must be true or false, got {other}")),
        }
        for key in object.keys() {
            if !matches!(key.as_str(), "enabled" | "retention_days" | "shards") {
                errors.push(format!("log.{key}: unknown setting; use enabled, retention_days, shards"));
            }
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }

    pub fn retention_ms(&self) -> u64 {
        self.retention_days.saturating_mul(DAY_MS)
    }

    /// The Durable Object names holding this service's entries: `<service>:<shard>`.
    pub fn shard_objects(&self, service: &str) -> Vec<String> {
        (0..self.shards).map(|shard| shard_object(service, shard)).collect()
    }
}

pub fn shard_object(service: &str, shard: u64) -> String {
    format!("{service}:{shard}")
}

/// Sorts JSON objects by a key, largest first (through [`crate::sort`], like every sort here).
pub fn sort_desc(items: &mut [Json], key: fn(&Json) -> (u64, String)) {
    crate::sort::sort_by_key(items, |item| std::cmp::Reverse(key(item)));
}

/// A number field of a JSON object (0 when absent).
pub fn json_u64(item: &Json, field: &str) -> u64 {
    item.get(field).and_then(Json::as_u64).unwrap_or(0)
}

/// A text field of a JSON object (empty when absent).
pub fn json_text(item: &Json, field: &str) -> String {
    item.get(field).and_then(Json::as_str).unwrap_or_default().to_string()
}

/// Whether a JSON-RPC method is recorded.
pub fn is_logged(method: &str) -> bool {
    matches!(method, "tools/call" | "resources/read" | "prompts/get")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_default_and_validate() {
        assert_eq!(LogSettings::parse(None).unwrap(), LogSettings::default());
        let s = LogSettings::parse(Some(&json!({"retention_days": 7, "shards": 64, "enabled": false}))).unwrap();
        assert_eq!(s, LogSettings { enabled: false, retention_days: 7, shards: 64 });
        let errors = LogSettings::parse(Some(&json!({"retention_days": 0, "shards": 65, "enabled": "yes", "x": 1})))
            .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors.iter().any(|e| e == "log.retention_days: must be a whole number from 1 to 3650, got 0"));
        assert!(errors.iter().any(|e| e == "log.shards: must be a whole number from 1 to 64, got 65"));
        assert!(errors.iter().any(|e| e.starts_with("log.enabled:")));
        assert!(errors.iter().any(|e| e.starts_with("log.x: unknown setting")));
        assert!(LogSettings::parse(Some(&json!(3))).is_err());
        assert!(LogSettings::parse(Some(&json!({"shards": 2.5}))).is_err());
    }

    #[test]
    fn shards_are_named_per_service() {
        let s = LogSettings { shards: 3, ..Default::default() };
        assert_eq!(s.shard_objects("demo"), vec!["demo:0", "demo:1", "demo:2"]);
        assert_eq!(s.retention_ms(), 30 * DAY_MS);
    }

    #[test]
    fn only_calls_reads_and_prompts_are_logged() {
        assert!(is_logged("tools/call") && is_logged("resources/read") && is_logged("prompts/get"));
        assert!(!is_logged("tools/list") && !is_logged("ping") && !is_logged("initialize"));
    }
}
