//! The admin API's filter (`principal`, `client`, `tool`, `outcome`, `from`, `to`), page size
//! and cursor, and the merge of the shards' pages into one.
//!
//! Entries are ordered by id, newest first (an id starts with its time). A cursor names the last
//! id of a page; the next page is every entry with a smaller id, so pages neither repeat nor skip
//! an entry whichever shard holds it.

use crate::b64::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value as Json;

use super::entry::{is_valid_id, LogEntry, Outcome};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
const CURSOR_PREFIX: &str = "c1:";
const MAX_FILTER_CHARS: usize = 300;

/// What one shard is asked for. The filter fields match exactly (`client` matches the OAuth
/// client id or the client name); `from` and `to` are inclusive ms times.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShardQuery {
    pub principal: Option<String>,
    pub client: Option<String>,
    pub tool: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// Only ids smaller than this one (the cursor).
    pub before: Option<String>,
    pub limit: usize,
}

impl ShardQuery {
    /// Reads what `Serialize` wrote (by hand: a derived deserializer costs bundle size). Absent
    /// and null filters are `None`; a wrong type or an unknown outcome is `None` overall.
    pub fn from_json(value: &Json) -> Option<ShardQuery> {
        let object = value.as_object()?;
        let text = |key: &str| -> Option<Option<String>> {
            match object.get(key) {
                None | Some(Json::Null) => Some(None),
                Some(Json::String(s)) => Some(Some(s.clone())),
                Some(_) => None,
            }
        };
        let number = |key: &str| -> Option<Option<u64>> {
            match object.get(key) {
                None | Some(Json::Null) => Some(None),
                Some(n) => n.as_u64().map(Some),
            }
        };
        let outcome = match text("outcome")? {
            None => None,
            Some(o) => Some(Outcome::parse(&o)?),
        };
        Some(ShardQuery {
            principal: text("principal")?,
            client: text("client")?,
            tool: text("tool")?,
            outcome,
            from: number("from")?,
            to: number("to")?,
            before: text("before")?,
            limit: number("limit")?.unwrap_or(DEFAULT_LIMIT as u64).min(MAX_LIMIT as u64 + 1) as usize,
        })
    }

    /// The same test the shards' SQL makes (the in-memory store and the tests use it).
    pub fn matches(&self, e: &LogEntry) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == have);
        eq(&self.principal, Some(&e.principal_id))
            && self
                .client
                .as_deref()
                .is_none_or(|c| e.client_id.as_deref() == Some(c) || e.client_name.as_deref() == Some(c))
            && eq(&self.tool, e.target.as_deref())
            && self.outcome.is_none_or(|o| o == e.outcome)
            && self.from.is_none_or(|f| e.time >= f)
            && self.to.is_none_or(|t| e.time <= t)
            && self.before.as_deref().is_none_or(|b| e.id.as_str() < b)
    }
}

/// A parsed `?principal=&client=&tool=&outcome=&from=&to=&limit=&cursor=`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    pub shard: ShardQuery,
    /// Other parameters a route accepts (e.g. `format`), by name.
    pub extra: Vec<(String, String)>,
    /// Whether `limit` was given (the export's default is its own maximum).
    pub limit_given: bool,
}

/// Parses the query string; `extra` names further parameters the route takes. Unknown or
/// repeated parameters and bad values are errors (the admin API answers them with 400).
pub fn parse(query: &str, extra: &[&str]) -> Result<LogQuery, String> {
    let mut q = LogQuery {
        shard: ShardQuery { limit: DEFAULT_LIMIT, ..Default::default() },
        extra: vec![],
        limit_given: false,
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let (name, value) = (name.into_owned(), value.into_owned());
        if seen.contains(&name) {
            return Err(format!("the parameter {name:?} is given twice"));
        }
        seen.push(name.clone());
        let text = || -> Result<Option<String>, String> {
            if value.is_empty() {
                return Ok(None);
            }
            if value.chars().count() > MAX_FILTER_CHARS {
                return Err(format!("{name} is longer than {MAX_FILTER_CHARS} characters"));
            }
            Ok(Some(value.clone()))
        };
        let s = &mut q.shard;
        match name.as_str() {
            "principal" => s.principal = text()?,
            "client" => s.client = text()?,
            "tool" => s.tool = text()?,
            "outcome" if value.is_empty() => {}
            "outcome" => {
                s.outcome = Some(Outcome::parse(&value).ok_or_else(|| {
                    format!("unknown outcome {value:?}; use ok, tool_error, protocol_error or rate_limited")
                })?)
            }
            "from" if value.is_empty() => {}
            "from" => s.from = Some(parse_time(&value).map_err(|e| format!("from: {e}"))?),
            "to" if value.is_empty() => {}
            "to" => s.to = Some(parse_time(&value).map_err(|e| format!("to: {e}"))?),
            "limit" => {
                q.limit_given = true;
                s.limit = match value.parse::<usize>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                    _ => return Err(format!("limit must be a whole number from 1 to {MAX_LIMIT}, got {value:?}")),
                }
            }
            "cursor" if value.is_empty() => {}
            "cursor" => s.before = Some(decode_cursor(&value)?),
            other if extra.contains(&other) => q.extra.push((name, value)),
            other => {
                let mut known = vec!["principal", "client", "tool", "outcome", "from", "to", "limit", "cursor"];
                known.extend_from_slice(extra);
                return Err(format!("unknown parameter {other:?}; use {}", known.join(", ")));
            }
        }
    }
    if let (Some(from), Some(to)) = (q.shard.from, q.shard.to) {
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
    }
    Ok(q)
}

impl LogQuery {
    pub fn extra(&self, name: &str) -> Option<&str> {
        self.extra.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A time in ms since the epoch: digits, or an RFC 3339 timestamp.
pub fn parse_time(text: &str) -> Result<u64, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .ok()
            .filter(|n| *n < 10u64.pow(15))
            .ok_or_else(|| format!("{text:?} is out of range"));
    }
    let ms = rfc3339_ms(text.as_bytes()).ok_or_else(|| {
        format!("{text:?} is neither milliseconds since 1970 nor an RFC 3339 time like 2026-12-07T15:00:00Z")
    })?;
    u64::try_from(ms).map_err(|_| format!("{text:?} is before 1970"))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, checked against the calendar. Written out rather
/// than chrono's parser, which would add its whole format machinery to the bundle.
fn rfc3339_ms(b: &[u8]) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let punctuation = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if b.len() < 20 || punctuation.iter().any(|(i, c)| b[*i] != *c) || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let mut rest = &b[19..];
    let mut millis = 0;
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        millis = tail[..digits.min(3)].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
            * 10u32.pow(3 - digits.min(3) as u32);
        rest = &tail[digits..];
    }
    let offset_minutes: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let (h, m) = (i64::from((h1 - b'0') * 10 + (h2 - b'0')), i64::from((m1 - b'0') * 10 + (m2 - b'0')));
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    let time = date.and_hms_milli_opt(num(11..13)?, num(14..16)?, num(17..19)?, millis)?;
    Some(time.and_utc().timestamp_millis() - offset_minutes * 60_000)
}

pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

pub fn decode_cursor(cursor: &str) -> Result<String, String> {
    let invalid = || "invalid cursor: pass the next_cursor of a previous page unchanged".to_string();
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.strip_prefix(CURSOR_PREFIX) {
        Some(id) if is_valid_id(id) => Ok(id.to_string()),
        _ => Err(invalid()),
    }
}

/// Merges the shards' pages (each newest first, each asked for `limit + 1`) into one page of at
/// most `limit` entries and the cursor of the next page, `None` when nothing is left.
pub fn merge(pages: Vec<Vec<Json>>, limit: usize) -> (Vec<Json>, Option<String>) {
    let mut all: Vec<Json> = pages.into_iter().flatten().collect();
    super::sort_desc(&mut all, |e| (0, super::json_text(e, "id")));
    all.dedup_by(|a, b| a.get("id") == b.get("id"));
    if all.len() <= limit {
        return (all, None);
    }
    all.truncate(limit);
    let cursor = all.last().map(|e| encode_cursor(&super::json_text(e, "id")));
    (all, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calllog::entry::new_id;

    pub fn entry(time: u64, principal: &str, tool: &str, outcome: Outcome) -> LogEntry {
        LogEntry {
            id: new_id(time),
            time,
            service: "demo".into(),
            principal_kind: "api_key".into(),
            principal_id: principal.into(),
            key_label: None,
            client_id: None,
            client_name: Some("sdk/1".into()),
            method: "tools/call".into(),
            target: Some(tool.into()),
            arguments: Json::Null,
            arguments_truncated: false,
            duration_ms: 1,
            rows_read: None,
            rows_written: None,
            outcome,
            error: None,
            era: "2025".into(),
            request_id: "1".into(),
            trace_id: None,
        }
    }

    #[test]
    fn filters_parse_and_bad_input_is_refused() {
        let q = parse(
            "principal=key%3Aab&tool=get_tables&outcome=tool_error&from=1000&to=2026-01-01T00:00:00Z&limit=10",
            &[],
        )
        .unwrap();
        assert_eq!(q.shard.principal.as_deref(), Some("key:ab"));
        assert_eq!(q.shard.tool.as_deref(), Some("get_tables"));
        assert_eq!(q.shard.outcome, Some(Outcome::ToolError));
        assert_eq!((q.shard.from, q.shard.to, q.shard.limit), (Some(1000), Some(1_767_225_600_000), 10));
        assert_eq!(parse("", &[]).unwrap().shard.limit, DEFAULT_LIMIT);
        assert_eq!(parse("format=csv", &["format"]).unwrap().extra("format"), Some("csv"));
        for (bad, needle) in [
            ("limit=0", "limit must be"),
            ("limit=501", "limit must be"),
            ("limit=ten", "limit must be"),
            ("outcome=fine", "unknown outcome"),
            ("from=yesterday", "from:"),
            ("to=2026-13-01T00:00:00Z", "to:"),
            ("from=5&to=4", "is after"),
            ("cursor=%%%", "invalid cursor"),
            ("bogus=1", "unknown parameter"),
            ("format=csv", "unknown parameter"),
            ("tool=a&tool=b", "given twice"),
        ] {
            let e = parse(bad, &[]).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn times_are_ms_or_rfc3339() {
        assert_eq!(parse_time("0").unwrap(), 0);
        assert_eq!(parse_time("2026-01-01T00:00:00Z").unwrap(), 1_767_225_600_000);
        assert_eq!(parse_time("2026-01-01T01:30:00+01:30").unwrap(), 1_767_225_600_000);
        assert_eq!(parse_time("2025-12-31T20:00:00.5-04:00").unwrap(), 1_767_225_600_500);
        assert_eq!(parse_time("2026-01-01 00:00:00.123456z").unwrap(), 1_767_225_600_123);
        for bad in [
            "",
            "2026-01-01",
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00+2400",
            "2026-01-01T00:00:00.Z",
            "1969-12-31T23:59:59Z",
            "9999999999999999",
            "2026-01-01T00:00:00+01:60",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_malformed_ones_fail() {
        let id = new_id(1_700_000_000_000);
        assert_eq!(decode_cursor(&encode_cursor(&id)).unwrap(), id);
        for bad in [
            "",
            "abc",
            &URL_SAFE_NO_PAD.encode("c1:nope"),
            &URL_SAFE_NO_PAD.encode(&id),
            &URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paging_across_shards_has_no_gaps_or_duplicates() {
        // 4 shards, 103 entries spread unevenly, some in the same millisecond.
        let mut shards: Vec<Vec<LogEntry>> = vec![vec![]; 4];
        for i in 0..103u64 {
            shards[(i * 7 % 4) as usize].push(entry(1_000 + i / 3, "key:a", "t", Outcome::Ok));
        }
        let total: Vec<String> = {
            let mut ids: Vec<String> = shards.iter().flatten().map(|e| e.id.clone()).collect();
            ids.sort_by(|a, b| b.cmp(a));
            ids
        };
        let limit = 10;
        let mut seen = Vec::new();
        let mut before = None;
        for _ in 0..20 {
            let q = ShardQuery { before: before.clone(), limit: limit + 1, ..Default::default() };
            let pages = shards
                .iter()
                .map(|s| {
                    let mut page: Vec<LogEntry> = s.iter().filter(|e| q.matches(e)).cloned().collect();
                    page.sort_by(|a, b| b.id.cmp(&a.id));
                    page.truncate(q.limit);
                    page.iter().map(LogEntry::to_json).collect()
                })
                .collect();
            let (page, cursor) = merge(pages, limit);
            seen.extend(page.into_iter().map(|e| e["id"].as_str().unwrap().to_string()));
            match cursor {
                Some(c) => before = Some(decode_cursor(&c).unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, total);
    }

    #[test]
    fn shard_queries_read_back_what_they_write() {
        let q = ShardQuery {
            principal: Some("key:a".into()),
            client: None,
            tool: Some("t".into()),
            outcome: Some(Outcome::RateLimited),
            from: Some(1),
            to: None,
            before: Some(new_id(9)),
            limit: 51,
        };
        assert_eq!(ShardQuery::from_json(&serde_json::to_value(&q).unwrap()), Some(q));
        assert_eq!(ShardQuery::from_json(&serde_json::json!({})).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(ShardQuery::from_json(&serde_json::json!({"limit": 10_000})).unwrap().limit, MAX_LIMIT + 1);
        assert!(ShardQuery::from_json(&serde_json::json!({"outcome": "nope"})).is_none());
        assert!(ShardQuery::from_json(&serde_json::json!({"principal": 5})).is_none());
        assert!(ShardQuery::from_json(&serde_json::json!({"from": -1})).is_none());
    }

    #[test]
    fn matching_applies_every_filter() {
        let mut e = entry(5_000, "key:a", "get_tables", Outcome::ToolError);
        e.client_id = Some("c1".into());
        let q = |f: &dyn Fn(&mut ShardQuery)| {
            let mut q = ShardQuery::default();
            f(&mut q);
            q.matches(&e)
        };
        assert!(q(&|_| {}));
        assert!(q(&|q| q.principal = Some("key:a".into())));
        assert!(!q(&|q| q.principal = Some("key:b".into())));
        assert!(q(&|q| q.client = Some("c1".into())));
        assert!(q(&|q| q.client = Some("sdk/1".into())));
        assert!(!q(&|q| q.client = Some("other".into())));
        assert!(!q(&|q| q.tool = Some("x".into())));
        assert!(q(&|q| q.outcome = Some(Outcome::ToolError)));
        assert!(!q(&|q| q.outcome = Some(Outcome::Ok)));
        assert!(q(&|q| {
            q.from = Some(5_000);
            q.to = Some(5_000)
        }));
        assert!(!q(&|q| q.from = Some(5_001)));
        assert!(!q(&|q| q.to = Some(4_999)));
    }
}
