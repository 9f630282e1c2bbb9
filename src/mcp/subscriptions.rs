//! `subscriptions/listen` (2026-07-28, spec: basic/patterns/subscriptions): one long-lived
//! request whose event stream carries the change notifications the client opted into.
//!
//! What changes here is the database schema: tables and columns added, altered or dropped (by a
//! migration, another client, a console). The resources (one per table) follow it, so a schema
//! change is `notifications/resources/list_changed`. With custom tools in the build (feature
//! `query-sql`), an operator can add, edit, enable, disable or delete tools through the admin API
//! (`tools::stored`): a change of the listed tools is `notifications/tools/list_changed`. The
//! prompt list is fixed by the deployment, so `promptsListChanged` is left out of the
//! acknowledgment, as are `resourceSubscriptions` (no per-resource updates yet), and
//! `toolsListChanged` in a build without custom tools.
//!
//! The stream re-reads a schema fingerprint every `check_seconds` (one small query, hidden tables
//! left out) and, when asked, a fingerprint of the listed tools (through the per-isolate copy of
//! the stored tools: one KV read per `tools::stored::CACHE_MS` at most), sends an SSE comment when a tick has nothing else to say (keep-alive), and ends with
//! the graceful-closure result after `max_seconds`, or earlier when the next check would pass the
//! service's `max_queries_per_call` (D1 counts every query of the invocation). Open streams are
//! counted per principal and service within the isolate; one over `max_streams` is refused.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Map, Value as Json};

use super::jsonrpc::{RequestId, RpcError};
use crate::db::{Database, DbError, Statement};
use crate::sql::Dialect;

pub const DEFAULT_MAX_SECONDS: u64 = 300;
pub const DEFAULT_CHECK_SECONDS: u64 = 10;
pub const DEFAULT_MAX_STREAMS: usize = 3;
/// Longest silence on an open stream: proxies drop idle connections (Cloudflare after ~100 s).
pub const KEEPALIVE_MS: u64 = 15_000;
pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
/// JSON-RPC server error: too many open listen streams for this credential.
pub const TOO_MANY_STREAMS: i64 = -32001;

/// Per-service settings: `"listen": {"max_seconds": 300, "check_seconds": 10, "max_streams": 3}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListenSettings {
    pub max_seconds: u64,
    pub check_seconds: u64,
    pub max_streams: usize,
}

impl Default for ListenSettings {
    fn default() -> Self {
        ListenSettings {
            max_seconds: DEFAULT_MAX_SECONDS,
            check_seconds: DEFAULT_CHECK_SECONDS,
            max_streams: DEFAULT_MAX_STREAMS,
        }
    }
}

impl ListenSettings {
    /// Parses the `listen` object of a service; every problem names its field.
    pub fn parse(value: Option<&Json>) -> Result<ListenSettings, Vec<String>> {
        let mut settings = ListenSettings::default();
        let Some(value) = value else { return Ok(settings) };
        let Some(object) = value.as_object() else {
            return Err(vec!["listen: must be an object like {\"max_seconds\": 300, \"check_seconds\": 10}".into()]);
        };
        let mut errors = Vec::new();
        let mut number = |key: &str, min: u64, max: u64, slot: &mut u64| match object.get(key) {
            None => {}
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => *slot = n,
                _ => errors.push(format!("listen.{key}: must be a whole number from {min} to {max}, got {v}")),
            },
        };
        number("max_seconds", 1, 3600, &mut settings.max_seconds);
        number("check_seconds", 1, 300, &mut settings.check_seconds);
        let mut streams = settings.max_streams as u64;
        number("max_streams", 1, 100, &mut streams);
        settings.max_streams = streams as usize;
        for key in object.keys() {
            if !matches!(key.as_str(), "max_seconds" | "check_seconds" | "max_streams") {
                errors.push(format!("listen.{key}: unknown setting; use max_seconds, check_seconds, max_streams"));
            }
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

/// What the client asked for, as far as this server can honor it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Honored {
    pub resources_list_changed: bool,
    pub tools_list_changed: bool,
}

impl Honored {
    /// The `notifications` of the acknowledgment: only what will be honored.
    pub fn to_json(&self) -> Json {
        let mut out = Map::new();
        if self.resources_list_changed {
            out.insert("resourcesListChanged".into(), Json::Bool(true));
        }
        if self.tools_list_changed {
            out.insert("toolsListChanged".into(), Json::Bool(true));
        }
        Json::Object(out)
    }
}

/// Reads `params.notifications` (the `SubscriptionFilter`): an object whose known fields have the
/// schema's types; unknown fields are ignored (a later revision may add some).
pub fn parse_filter(params: Option<&Map<String, Json>>) -> Result<Honored, RpcError> {
    let filter = match params.and_then(|p| p.get("notifications")) {
        Some(Json::Object(filter)) => filter,
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "subscriptions/listen: notifications must be an object, got {other}"
            )))
        }
        None => {
            return Err(RpcError::invalid_params(
                "subscriptions/listen needs params.notifications, e.g. {\"resourcesListChanged\": true}",
            ))
        }
    };
    for key in ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] {
        if let Some(value) = filter.get(key) {
            if !value.is_boolean() {
                return Err(RpcError::invalid_params(format!("notifications.{key} must be a boolean, got {value}")));
            }
        }
    }
    if let Some(uris) = filter.get("resourceSubscriptions") {
        let ok = uris.as_array().is_some_and(|a| a.iter().all(Json::is_string));
        if !ok {
            return Err(RpcError::invalid_params("notifications.resourceSubscriptions must be an array of strings"));
        }
    }
    let asked = |key: &str| filter.get(key) == Some(&Json::Bool(true));
    Ok(Honored {
        resources_list_changed: asked("resourcesListChanged"),
        // Only a build with custom tools has a tool list that changes.
        tools_list_changed: cfg!(feature = "query-sql") && asked("toolsListChanged"),
    })
}

/// The stream a subscription writes to.
pub trait ListenOut {
    fn message(&self, message: &Json);
    fn comment(&self, text: &str);
}

/// The fingerprint of the tools a caller sees listed, read when a tools check is due.
pub trait ToolWatch {
    fn fingerprint(&self, now_ms: u64) -> Pin<Box<dyn Future<Output = String> + '_>>;
}

/// Waits, so a long-lived stream can tick (setTimeout at the edge, virtual time in tests).
pub trait Timer {
    fn sleep(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + '_>>;
    fn now_ms(&self) -> u64;
}

fn id_json(id: &RequestId) -> Json {
    match id {
        RequestId::Number(n) => json!(n),
        RequestId::Text(s) => json!(s),
    }
}

pub fn acknowledgment(id: &RequestId, honored: &Honored) -> Json {
    json!({
        "jsonrpc": "2.0",
        "method": "notifications/subscriptions/acknowledged",
        "params": { "_meta": { SUBSCRIPTION_ID: id_json(id) }, "notifications": honored.to_json() }
    })
}

/// The graceful end: the listen request's own (empty) result.
pub fn closing_result(id: &RequestId) -> Json {
    json!({
        "jsonrpc": "2.0",
        "id": id_json(id),
        "result": { "resultType": "complete", "_meta": { SUBSCRIPTION_ID: id_json(id) } }
    })
}

fn notification(id: &RequestId, method: &str) -> Json {
    json!({ "jsonrpc": "2.0", "method": method, "params": { "_meta": { SUBSCRIPTION_ID: id_json(id) } } })
}

/// One subscription: what it is and its limits.
pub struct Subscription<'a> {
    /// The listen request's id, which tags everything on the stream.
    pub id: &'a RequestId,
    pub honored: &'a Honored,
    pub settings: &'a ListenSettings,
    /// How many fingerprint reads the stream may make (the service's `max_queries_per_call`).
    pub query_budget: u64,
    /// Tables whose changes say nothing.
    pub hidden: &'a [String],
    /// Where the listed tools are read (`honored.tools_list_changed`); `None`: never checked.
    pub tools: Option<&'a dyn ToolWatch>,
}

/// Runs one subscription until its bound: acknowledgment first, then notifications and
/// keep-alives, then the closing result. Dropping the future (client gone) ends it anywhere.
pub async fn listen(subscription: Subscription<'_>, out: &dyn ListenOut, timer: &dyn Timer, db: &dyn Database) {
    let Subscription { id, honored, settings, query_budget, hidden, tools } = subscription;
    let tools = tools.filter(|_| honored.tools_list_changed);
    out.message(&acknowledgment(id, honored));
    let start = timer.now_ms();
    let check_ms = settings.check_seconds * 1000;
    let tick_ms = check_ms.min(KEEPALIVE_MS);
    // The baseline read is one query; every check after it is another.
    let checks_allowed = query_budget.saturating_sub(1);
    let end = start + (settings.max_seconds * 1000).min(check_ms.saturating_mul(checks_allowed + 1));
    let mut baseline = if honored.resources_list_changed { schema_fingerprint(db, hidden).await.ok() } else { None };
    let mut tools_baseline = match tools {
        Some(watch) => Some(watch.fingerprint(start).await),
        None => None,
    };
    let mut next_check = start + check_ms;
    let mut next_tick = start + tick_ms;
    loop {
        let now = timer.now_ms();
        if now >= end {
            out.message(&closing_result(id));
            return;
        }
        let wake = next_tick.min(end);
        timer.sleep(wake.saturating_sub(now)).await;
        let now = timer.now_ms();
        if now >= end {
            continue;
        }
        if now < next_tick {
            continue;
        }
        next_tick = now + tick_ms;
        let mut said = false;
        let check_due = now >= next_check;
        if check_due {
            next_check = now + check_ms;
        }
        if let (Some(watch), true) = (tools, check_due) {
            let current = watch.fingerprint(now).await;
            if tools_baseline.as_ref().is_some_and(|b| *b != current) {
                out.message(&notification(id, "notifications/tools/list_changed"));
                said = true;
            }
            tools_baseline = Some(current);
        }
        if honored.resources_list_changed && check_due {
            // A failed read changes nothing: the next check tries again.
            if let Ok(current) = schema_fingerprint(db, hidden).await {
                if baseline.as_ref().is_some_and(|b| *b != current) {
                    out.message(&notification(id, "notifications/resources/list_changed"));
                    said = true;
                }
                baseline = Some(current);
            }
        }
        if !said {
            out.comment("keep-alive");
        }
    }
}

/// A digest of the visible schema (tables, views, columns, their types and definitions), read in
/// one query. Hidden tables are left out so their changes say nothing.
pub async fn schema_fingerprint(db: &dyn Database, hidden: &[String]) -> Result<String, DbError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT name, tbl_name, type, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' \
             ORDER BY type, name"
        }
        Dialect::Postgres => {
            "SELECT c.relname, n.nspname || '.' || c.relname, c.relkind::text, \
               string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ESCAPE '\\' \
             GROUP BY n.nspname, c.relname, c.relkind ORDER BY 2"
        }
    };
    let result = db.query(&Statement::new(sql, vec![])).await?;
    let is_hidden = |v: Option<&Json>| {
        v.and_then(Json::as_str).is_some_and(|name| {
            hidden.iter().any(|h| h == name || name.strip_prefix("public.").is_some_and(|short| short == h))
        })
    };
    let mut text = String::new();
    for row in &result.rows {
        if is_hidden(row.first()) || is_hidden(row.get(1)) {
            continue;
        }
        text.push_str(&Json::Array(row.clone()).to_string());
        text.push('\n');
    }
    Ok(crate::auth::sha256_hex(&text))
}

thread_local! {
    /// Open listen streams per principal and service, in this isolate: (slot number, expiry).
    static OPEN: RefCell<HashMap<String, Vec<(u64, u64)>>> = RefCell::new(HashMap::new());
    static NEXT_SLOT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A place among the open streams; released when dropped (the stream ended or was cancelled).
/// A runtime that abandons a request without dropping it would leak the place, so each place
/// also expires once its stream is past its bound (`expires_ms`, with a margin).
pub struct Slot {
    key: String,
    number: u64,
}

impl Slot {
    /// Takes a place, or says why not. Places past their expiry are freed first.
    pub fn acquire(service: &str, principal: &str, max: usize, now_ms: u64, expires_ms: u64) -> Result<Slot, RpcError> {
        let key = format!("{service}\n{principal}");
        OPEN.with(|open| {
            let mut open = open.borrow_mut();
            let places = open.entry(key.clone()).or_default();
            places.retain(|(_, expiry)| *expiry > now_ms);
            if places.len() >= max {
                return Err(RpcError::new(
                    TOO_MANY_STREAMS,
                    format!(
                        "too many open subscriptions/listen streams for this credential (at most {max} per \
                         service); close one, or listen for several notification types on one stream"
                    ),
                ));
            }
            let number = NEXT_SLOT.with(|n| {
                n.set(n.get() + 1);
                n.get()
            });
            places.push((number, expires_ms));
            Ok(Slot { key, number })
        })
    }

    pub fn open_count(service: &str, principal: &str) -> usize {
        OPEN.with(|open| open.borrow().get(&format!("{service}\n{principal}")).map_or(0, Vec::len))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.with(|open| {
            let mut open = open.borrow_mut();
            if let Some(places) = open.get_mut(&self.key) {
                places.retain(|(number, _)| *number != self.number);
                if places.is_empty() {
                    open.remove(&self.key);
                }
            }
        });
    }
}
