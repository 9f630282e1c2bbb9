//! Downloads of the log: JSON Lines and CSV. CSV cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with `'`.

use serde_json::Value as Json;

/// Entries one export may hold; the admin API says when it stopped there.
pub const MAX_EXPORT_ENTRIES: usize = 10_000;

pub const CSV_COLUMNS: [&str; 21] = [
    "id",
    "time",
    "service",
    "principal_kind",
    "principal_id",
    "key_label",
    "client_id",
    "client_name",
    "method",
    "target",
    "arguments",
    "arguments_truncated",
    "duration_ms",
    "rows_read",
    "rows_written",
    "outcome",
    "error",
    "era",
    "request_id",
    "trace_id",
    "time_iso",
];

/// Entries are JSON objects as stored.
pub fn to_jsonl(entries: &[Json]) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&entry.to_string());
        out.push('\n');
    }
    out
}

pub fn to_csv(entries: &[Json]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for value in entries {
        let cells: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|column| match *column {
                "time_iso" => iso_time(value.get("time").and_then(Json::as_u64).unwrap_or(0)),
                "arguments" => csv_cell(&value.get("arguments").unwrap_or(&Json::Null).to_string()),
                name => match value.get(name) {
                    None | Some(Json::Null) => String::new(),
                    Some(Json::String(s)) => csv_cell(s),
                    Some(other) => csv_cell(&other.to_string()),
                },
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell: formula-safe, then quoted when it holds a comma, quote or line break.
pub fn csv_cell(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

fn iso_time(ms: u64) -> String {
    use chrono::{Datelike, Timelike};
    // Formatted by hand: chrono's `format` needs its `alloc` feature, which this build leaves out.
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                ms % 1000
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calllog::entry::{LogEntry, Outcome};
    use serde_json::json;

    fn sample() -> LogEntry {
        LogEntry {
            id: "1700000000000-0123456789ab".into(),
            time: 1_700_000_000_000,
            service: "demo".into(),
            principal_kind: "api_key".into(),
            principal_id: "key:a".into(),
            key_label: Some("=HYPERLINK(\"http://x\")".into()),
            client_id: None,
            client_name: Some("sdk, \"quoted\"\nline".into()),
            method: "tools/call".into(),
            target: Some("@tool".into()),
            arguments: json!({"filter": "a = 1"}),
            arguments_truncated: false,
            duration_ms: 5,
            rows_read: Some(2),
            rows_written: None,
            outcome: Outcome::Ok,
            error: Some("-2+3".into()),
            era: "2025".into(),
            request_id: "+1".into(),
            trace_id: None,
        }
    }

    #[test]
    fn cells_are_escaped_and_formula_safe() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=a,\"b\""), "\"'=a,\"\"b\"\"\"");
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_entry() {
        let csv = to_csv(&[sample().to_json()]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next().unwrap(), CSV_COLUMNS.join(","));
        let row = lines.next().unwrap();
        assert!(row.starts_with("1700000000000-0123456789ab,1700000000000,demo,api_key,key:a,"), "{row}");
        assert!(row.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{row}");
        assert!(row.contains(",'@tool,"), "{row}");
        assert!(row.contains(",'-2+3,"), "{row}");
        assert!(row.contains(",'+1,"), "{row}");
        assert!(row.contains("\"{\"\"filter\"\":\"\"a = 1\"\"}\""), "{row}");
        assert!(csv.contains("2023-11-14T22:13:20.000Z"));
        // The embedded newline stays inside a quoted cell.
        assert!(csv.contains("\"sdk, \"\"quoted\"\"\nline\""));
    }

    #[test]
    fn jsonl_is_one_parseable_entry_per_line() {
        let text = to_jsonl(&[sample().to_json(), sample().to_json()]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let back: LogEntry = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(back, sample());
    }
}
