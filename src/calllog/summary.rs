//! The summary of the last hours: calls and errors per hour, per-tool counts, error rate, p95
//! and maximum duration, and the slowest calls.

use serde::Serialize;
use serde_json::{json, Value as Json};

use super::entry::Outcome;
use super::{json_text, json_u64};

pub const DEFAULT_HOURS: u64 = 24;
pub const MAX_HOURS: u64 = 24 * 31;
pub const SLOWEST: usize = 10;
const HOUR_MS: u64 = 3_600_000;

/// One call, as compact as the summary needs: `[time, method, target, outcome, duration_ms]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatRow(pub u64, pub String, pub Option<String>, pub Outcome, pub u64);

impl StatRow {
    pub fn from_json(value: &Json) -> Option<StatRow> {
        let [time, method, target, outcome, duration] = value.as_array()?.as_slice() else { return None };
        Some(StatRow(
            time.as_u64()?,
            method.as_str()?.to_string(),
            target.as_str().map(str::to_string),
            Outcome::parse(outcome.as_str()?)?,
            duration.as_u64()?,
        ))
    }
}

pub fn parse_hours(query: &str) -> Result<u64, String> {
    let mut hours = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "hours" if hours.is_none() => {
                hours = Some(match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_HOURS).contains(&n) => n,
                    _ => return Err(format!("hours must be a whole number from 1 to {MAX_HOURS}, got {value:?}")),
                })
            }
            "hours" => return Err("the parameter \"hours\" is given twice".into()),
            other => return Err(format!("unknown parameter {other:?}; the summary takes hours")),
        }
    }
    Ok(hours.unwrap_or(DEFAULT_HOURS))
}

/// The first millisecond the summary covers: the start of the hour `hours - 1` before now's.
pub fn window_start(now_ms: u64, hours: u64) -> u64 {
    (now_ms / HOUR_MS).saturating_sub(hours - 1) * HOUR_MS
}

/// p95 by nearest rank of sorted durations.
pub fn p95(sorted: &[u64]) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * 95).div_ceil(100);
    sorted[rank.max(1) - 1]
}

/// `slowest` holds the shards' slowest entries (JSON objects as stored).
pub fn summarize(rows: &[StatRow], mut slowest: Vec<Json>, hours: u64, now_ms: u64, write_failures: u64) -> Json {
    let start = window_start(now_ms, hours);
    let mut per_hour: Vec<(u64, u64, u64)> = (0..hours).map(|h| (start + h * HOUR_MS, 0, 0)).collect();
    // (tool, calls, errors, durations); a service has few tools, so a list is enough.
    let mut tools: Vec<(&str, u64, u64, Vec<u64>)> = Vec::new();
    for StatRow(time, method, target, outcome, duration) in rows {
        if *time < start {
            continue;
        }
        let failed = *outcome != Outcome::Ok;
        if let Some(bucket) = per_hour.get_mut(((time - start) / HOUR_MS) as usize) {
            bucket.1 += 1;
            bucket.2 += failed as u64;
        }
        if method == "tools/call" {
            let tool = target.as_deref().unwrap_or("");
            let index = match tools.iter().position(|t| t.0 == tool) {
                Some(index) => index,
                None => {
                    tools.push((tool, 0, 0, Vec::new()));
                    tools.len() - 1
                }
            };
            let stats = &mut tools[index];
            stats.1 += 1;
            stats.2 += failed as u64;
            stats.3.push(*duration);
        }
    }
    let mut tools: Vec<Json> = tools
        .into_iter()
        .map(|(tool, calls, errors, mut durations)| {
            crate::sort::sort_by(&mut durations, u64::cmp);
            let rate = (errors as f64 / calls as f64 * 10_000.0).round() / 10_000.0;
            json!({ "tool": tool, "calls": calls, "errors": errors, "error_rate": rate,
                    "p95_ms": p95(&durations), "max_ms": durations.last().copied().unwrap_or(0) })
        })
        .collect();
    // Most calls first; equal counts in name order.
    crate::sort::sort_by(&mut tools, |a, b| {
        json_u64(b, "calls").cmp(&json_u64(a, "calls")).then_with(|| json_text(a, "tool").cmp(&json_text(b, "tool")))
    });
    super::sort_desc(&mut slowest, |e| (json_u64(e, "duration_ms"), json_text(e, "id")));
    slowest.retain(|e| json_u64(e, "time") >= start);
    slowest.truncate(SLOWEST);
    json!({
        "hours": hours,
        "calls_per_hour": per_hour.iter().map(|(hour, calls, errors)| json!({"hour": hour, "calls": calls, "errors": errors})).collect::<Vec<_>>(),
        "tools": tools,
        "slowest": slowest,
        "write_failures": write_failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time: u64, tool: &str, outcome: Outcome, ms: u64) -> StatRow {
        StatRow(time, "tools/call".into(), Some(tool.into()), outcome, ms)
    }

    #[test]
    fn p95_is_the_nearest_rank() {
        assert_eq!(p95(&[]), 0);
        assert_eq!(p95(&[7]), 7);
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(p95(&hundred), 95);
        let twenty: Vec<u64> = (1..=20).collect();
        assert_eq!(p95(&twenty), 19);
        assert_eq!(p95(&[1, 2, 3]), 3);
    }

    #[test]
    fn hours_are_bucketed_and_tools_counted() {
        let now = 10 * HOUR_MS + 1_000;
        let rows = vec![
            row(10 * HOUR_MS + 5, "a", Outcome::Ok, 10),
            row(10 * HOUR_MS + 6, "a", Outcome::ToolError, 30),
            row(9 * HOUR_MS, "b", Outcome::ProtocolError, 5),
            row(8 * HOUR_MS, "b", Outcome::Ok, 5), // before the 2-hour window
            StatRow(10 * HOUR_MS, "resources/read".into(), Some("x://y".into()), Outcome::Ok, 1),
        ];
        let slow = |id: &str, time: u64, ms: u64| json!({"id": id, "time": time, "duration_ms": ms});
        let slowest = vec![slow("a", now, 5), slow("b", now, 50), slow("old", 0, 500), slow("c", now, 20)];
        let s = summarize(&rows, slowest, 2, now, 3);
        let order: Vec<&str> = s["slowest"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(order, ["b", "c", "a"], "slowest first, nothing before the window");
        assert_eq!(s["hours"], 2);
        assert_eq!(s["write_failures"], 3);
        assert_eq!(
            s["calls_per_hour"],
            json!([{"hour": 9 * HOUR_MS, "calls": 1, "errors": 1}, {"hour": 10 * HOUR_MS, "calls": 3, "errors": 1}])
        );
        assert_eq!(
            s["tools"][0],
            json!({"tool": "a", "calls": 2, "errors": 1, "error_rate": 0.5, "p95_ms": 30, "max_ms": 30})
        );
        assert_eq!(
            s["tools"][1],
            json!({"tool": "b", "calls": 1, "errors": 1, "error_rate": 1.0, "p95_ms": 5, "max_ms": 5})
        );
        assert_eq!(s["tools"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn tools_with_equal_calls_are_in_name_order() {
        let rows: Vec<StatRow> =
            ["zeta", "alpha", "mid", "alpha"].iter().map(|t| row(HOUR_MS, t, Outcome::Ok, 1)).collect();
        let s = summarize(&rows, vec![], 2, HOUR_MS + 1, 0);
        let order: Vec<&str> = s["tools"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
        assert_eq!(order, ["alpha", "mid", "zeta"]);
    }

    #[test]
    fn stats_read_back_what_a_shard_writes() {
        let stats = crate::calllog::ShardStats {
            rows: vec![row(5, "a", Outcome::ToolError, 7), StatRow(6, "prompts/get".into(), None, Outcome::Ok, 1)],
            slowest: vec![json!({"id": "x"})],
        };
        let back = crate::calllog::ShardStats::from_json(serde_json::to_value(&stats).unwrap()).unwrap();
        assert_eq!(back, stats);
        assert!(
            crate::calllog::ShardStats::from_json(json!({"rows": [[1, "m", null, "bad", 1]], "slowest": []})).is_none()
        );
        assert!(crate::calllog::ShardStats::from_json(json!({"rows": []})).is_none());
    }

    #[test]
    fn hours_parameter_is_checked() {
        assert_eq!(parse_hours("").unwrap(), 24);
        assert_eq!(parse_hours("hours=1").unwrap(), 1);
        assert!(parse_hours("hours=0").is_err());
        assert!(parse_hours("hours=745").is_err());
        assert!(parse_hours("hours=x").is_err());
        assert!(parse_hours("days=1").is_err());
        assert!(parse_hours("hours=1&hours=2").is_err());
    }
}
