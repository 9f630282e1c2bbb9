//! The state of one MCP session. The edge keeps it in a Durable Object; the core only reads and
//! changes it.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Protocol revisions this server speaks, oldest first.
pub const SUPPORTED_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
pub const LATEST_VERSION: &str = "2025-11-25";
/// What a request without `MCP-Protocol-Version` is assumed to speak (the spec's rule).
pub const ASSUMED_VERSION: &str = "2025-03-26";

/// The client's version when supported, else our latest (the client then decides).
pub fn negotiate(requested: &str) -> &'static str {
    SUPPORTED_VERSIONS.iter().find(|v| **v == requested).copied().unwrap_or(LATEST_VERSION)
}

pub fn is_supported(version: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// Log levels of `logging/setLevel`, least severe first.
pub const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub service: String,
    pub protocol_version: String,
    pub client_info: Json,
    pub client_capabilities: Json,
    pub log_level: String,
    /// Who created the session; presented with another principal it does not exist.
    pub principal: String,
    pub created_ms: u64,
    pub last_seen_ms: u64,
    pub initialized: bool,
}

impl Session {
    /// JSON-RPC batches (arrays) were part of 2025-03-26 only.
    pub fn allows_batches(&self) -> bool {
        self.protocol_version == "2025-03-26"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_supported_versions_and_falls_back_to_latest() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2025-03-26"), "2025-03-26");
        assert_eq!(negotiate("2024-11-05"), LATEST_VERSION);
        assert_eq!(negotiate("garbage"), LATEST_VERSION);
        assert!(is_supported("2025-11-25") && !is_supported("2026-07-28"));
    }
}
