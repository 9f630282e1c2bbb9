//! The execution log at the edge.
//!
//! Writing: [`IsolateCallLog::record`] prints the Workers Logs line and buffers the entry in this
//! isolate; the first request that leaves entries behind schedules one flush with
//! `ctx.waitUntil` (after the response), which waits [`FLUSH_DELAY_MS`] so entries of concurrent
//! requests join it, then sends each service's entries in one command to one of its shards
//! (round robin). A failed write prints `{"event":"execution_log_write_failed",...}` and adds the
//! lost entries to a counter in KV that the summary reports.
//!
//! Storage: a SQLite-backed Durable Object `ExecutionLog` per shard, named `<service>:<shard>`,
//! one row per entry with indexes for the filters. Rows older than the service's retention are
//! deleted on every write and by a daily alarm.

use std::cell::{Cell, RefCell};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, SqlStorageValue, State};

use crate::auth::KvStore;
use crate::calllog::entry::{is_valid_id, log_line};
use crate::calllog::{CallLog, LogEntry, LogStore, Outcome, ShardQuery, ShardStats, StatRow};
use crate::http::sse::Timer;

/// How long a flush waits for more entries before writing.
pub const FLUSH_DELAY_MS: u64 = 50;
/// A flush starts at once when this many entries are waiting.
pub const FLUSH_ENTRIES: usize = 100;
/// Rows one shard returns for the summary (its most recent in the window).
const MAX_STAT_ROWS: u64 = 100_000;
const SWEEP_MS: u64 = 86_400_000;
const RETENTION_KEY: &str = "retention_ms";

/// Sent as externally tagged JSON (`{"append": {...}}`); the object reads it back by hand
/// ([`Command::from_json`]): a derived deserializer costs bundle size.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Command {
    /// Entries as JSON objects (the worker never parses them back into `LogEntry`).
    Append {
        entries: Vec<Json>,
        retention_ms: u64,
    },
    Query {
        query: ShardQuery,
    },
    Get {
        id: String,
    },
    Stats {
        from_ms: u64,
        slowest: u64,
    },
}

impl Command {
    fn from_json(value: Json) -> Option<Command> {
        let Json::Object(object) = value else { return None };
        let mut fields = object.into_iter();
        let (tag, mut body) = fields.next()?;
        if fields.next().is_some() {
            return None;
        }
        let number = |body: &Json, key: &str| body.get(key).and_then(Json::as_u64);
        Some(match tag.as_str() {
            "append" => Command::Append {
                retention_ms: number(&body, "retention_ms")?,
                entries: match body.get_mut("entries")?.take() {
                    Json::Array(entries) => entries,
                    _ => return None,
                },
            },
            "query" => Command::Query { query: ShardQuery::from_json(body.get("query")?)? },
            "get" => Command::Get { id: body.get("id")?.as_str()?.to_string() },
            "stats" => Command::Stats { from_ms: number(&body, "from_ms")?, slowest: number(&body, "slowest")? },
            _ => return None,
        })
    }
}

thread_local! {
    static PENDING: RefCell<Vec<Json>> = const { RefCell::new(Vec::new()) };
    static FLUSH_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static NEXT_SHARD: Cell<u64> = const { Cell::new(0) };
}

/// Records into this isolate's buffer.
pub struct IsolateCallLog;

impl CallLog for IsolateCallLog {
    fn record(&self, entry: LogEntry) {
        let entry = entry.to_json();
        // Straight to console.log: no formatting pass over the line.
        worker::web_sys::console::log_1(&log_line(&entry).into());
        PENDING.with(|p| p.borrow_mut().push(entry));
    }
    fn now_ms(&self) -> u64 {
        super::now_ms()
    }
}

/// Schedules a flush of the buffered entries after the response, unless one is scheduled.
pub fn schedule_flush(ctx: &worker::Context, env: &Env) {
    let waiting = PENDING.with(|p| p.borrow().len());
    if waiting == 0 || FLUSH_SCHEDULED.with(Cell::get) {
        return;
    }
    FLUSH_SCHEDULED.with(|s| s.set(true));
    let env = env.clone();
    ctx.wait_until(async move {
        if PENDING.with(|p| p.borrow().len()) < FLUSH_ENTRIES {
            super::stream::WorkerTimer.sleep(FLUSH_DELAY_MS).await;
        }
        FLUSH_SCHEDULED.with(|s| s.set(false));
        let entries = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        flush(&env, entries).await;
    });
}

async fn flush(env: &Env, entries: Vec<Json>) {
    let config = super::config(env);
    // Few services per isolate: a list, not a map (one less map type in the bundle).
    let mut by_service: Vec<(String, Vec<Json>)> = Vec::new();
    for entry in entries {
        let service = crate::calllog::json_text(&entry, "service");
        match by_service.iter_mut().find(|(s, _)| *s == service) {
            Some((_, list)) => list.push(entry),
            None => by_service.push((service, vec![entry])),
        }
    }
    let log = DurableLog::new(env);
    // One write per service, one after the other (usually there is one service).
    for (service, entries) in by_service {
        let settings = match config.as_ref() {
            Ok(c) => c.service(&service).map(|s| s.log.clone()).unwrap_or_default(),
            Err(_) => Default::default(),
        };
        let shard = NEXT_SHARD.with(|n| {
            let shard = n.get();
            n.set(shard.wrapping_add(1));
            shard % settings.shards
        });
        let object = crate::calllog::shard_object(&service, shard);
        let count = entries.len();
        let command = Command::Append { entries, retention_ms: settings.retention_ms() };
        if let Err(error) = log.send(&object, &command).await {
            let line = serde_json::json!({
                "event": "execution_log_write_failed", "service": service, "object": object,
                "entries": count, "error": error,
            });
            worker::console_error!("{line}");
            log.count_failures(&service, count as u64).await;
        }
    }
}

fn failures_key(service: &str) -> String {
    format!("calllog:write_failures:{service}")
}

/// The worker side of the shards.
pub struct DurableLog<'a> {
    env: &'a Env,
    kv: super::kv::Kv<'a>,
}

impl<'a> DurableLog<'a> {
    pub fn new(env: &'a Env) -> Self {
        DurableLog { env, kv: super::kv::Kv(env) }
    }

    async fn send(&self, object: &str, command: &Command) -> Result<Response, String> {
        let stub = super::stub(self.env, "EXECUTION_LOG", object)?;
        let body = serde_json::to_string(command).map_err(|e| e.to_string())?;
        let request = super::outgoing::post("https://execution-log.internal/", &body).map_err(|e| e.to_string())?;
        let mut response = stub.fetch_with_request(request).await.map_err(|e| format!("log shard {object}: {e}"))?;
        match response.status_code() {
            200..=299 => Ok(response),
            status => {
                let text = response.text().await.unwrap_or_default();
                Err(format!("log shard {object} answered {status}: {text}"))
            }
        }
    }

    async fn ask(&self, object: &str, command: &Command) -> Result<Json, String> {
        let mut response = self.send(object, command).await?;
        let text = response.text().await.map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| format!("log shard {object}: {e}"))
    }

    /// Best effort (KV has no atomic add): concurrent failures may undercount.
    async fn count_failures(&self, service: &str, lost: u64) {
        let key = failures_key(service);
        let before = self.kv.get(&key).await.ok().flatten().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        if let Err(e) = self.kv.put(&key, &(before + lost).to_string(), None).await {
            worker::console_error!(
                "{}",
                serde_json::json!({"event": "execution_log_write_failed", "service": service, "error": format!("failure counter: {e}")})
            );
        }
    }
}

#[async_trait(?Send)]
impl LogStore for DurableLog<'_> {
    async fn query(&self, object: &str, query: &ShardQuery) -> Result<Vec<Json>, String> {
        match self.ask(object, &Command::Query { query: query.clone() }).await? {
            Json::Array(entries) => Ok(entries),
            _ => Err(format!("log shard {object}: a query answer is not a list")),
        }
    }
    async fn get(&self, object: &str, id: &str) -> Result<Option<Json>, String> {
        match self.ask(object, &Command::Get { id: id.to_string() }).await? {
            Json::Null => Ok(None),
            entry => Ok(Some(entry)),
        }
    }
    async fn stats(&self, object: &str, from_ms: u64, slowest: usize) -> Result<ShardStats, String> {
        let answer = self.ask(object, &Command::Stats { from_ms, slowest: slowest as u64 }).await?;
        ShardStats::from_json(answer).ok_or_else(|| format!("log shard {object}: malformed statistics"))
    }
    async fn write_failures(&self, service: &str) -> Result<u64, String> {
        let value = self.kv.get(&failures_key(service)).await?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

// ----------------------------------------------------------------------------------------------
// The Durable Object
// ----------------------------------------------------------------------------------------------

const SCHEMA: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, time INTEGER NOT NULL, principal_id TEXT NOT NULL, \
     client_id TEXT, client_name TEXT, method TEXT NOT NULL, target TEXT, outcome TEXT NOT NULL, \
     duration_ms INTEGER NOT NULL, entry TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS entries_time ON entries (time)",
    "CREATE INDEX IF NOT EXISTS entries_principal ON entries (principal_id, id)",
    "CREATE INDEX IF NOT EXISTS entries_client_id ON entries (client_id, id)",
    "CREATE INDEX IF NOT EXISTS entries_client_name ON entries (client_name, id)",
    "CREATE INDEX IF NOT EXISTS entries_target ON entries (target, id)",
    "CREATE INDEX IF NOT EXISTS entries_outcome ON entries (outcome, id)",
];

#[derive(Deserialize)]
struct EntryRow {
    entry: String,
}

#[derive(Deserialize)]
struct StatSqlRow {
    time: f64,
    method: String,
    target: Option<String>,
    outcome: String,
    duration_ms: f64,
}

fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(n.min(i64::MAX as u64) as i64)
}

fn text(s: &str) -> SqlStorageValue {
    s.into()
}

fn opt_text(s: Option<&str>) -> SqlStorageValue {
    s.map(text).unwrap_or(SqlStorageValue::Null)
}

/// The columns of an entry, read from its JSON.
struct IndexedFields<'a> {
    id: &'a str,
    time: u64,
    principal_id: &'a str,
    client_id: Option<&'a str>,
    client_name: Option<&'a str>,
    method: &'a str,
    target: Option<&'a str>,
    outcome: Outcome,
    duration_ms: u64,
}

impl<'a> IndexedFields<'a> {
    fn of(entry: &'a Json) -> Option<Self> {
        let s = |key: &str| entry.get(key).and_then(Json::as_str);
        let n = |key: &str| entry.get(key).and_then(Json::as_u64);
        Some(IndexedFields {
            id: s("id").filter(|id| is_valid_id(id))?,
            time: n("time")?,
            principal_id: s("principal_id")?,
            client_id: s("client_id"),
            client_name: s("client_name"),
            method: s("method")?,
            target: s("target"),
            outcome: Outcome::parse(s("outcome")?)?,
            duration_ms: n("duration_ms")?,
        })
    }
}

fn entries(sql: &SqlStorage, query: &str, bindings: Vec<SqlStorageValue>) -> worker::Result<Vec<Json>> {
    let rows = sql.exec(query, bindings)?.to_array::<EntryRow>()?;
    Ok(rows.into_iter().filter_map(|r| serde_json::from_str::<Json>(&r.entry).ok()).collect())
}

/// The shard query as SQL: fixed clauses, every value bound.
fn query_sql(q: &ShardQuery) -> (String, Vec<SqlStorageValue>) {
    let mut sql = String::from("SELECT entry FROM entries WHERE 1 = 1");
    let mut binds = Vec::new();
    if let Some(p) = &q.principal {
        sql.push_str(" AND principal_id = ?");
        binds.push(text(p));
    }
    if let Some(c) = &q.client {
        sql.push_str(" AND (client_id = ? OR client_name = ?)");
        binds.push(text(c));
        binds.push(text(c));
    }
    if let Some(t) = &q.tool {
        sql.push_str(" AND target = ?");
        binds.push(text(t));
    }
    if let Some(o) = q.outcome {
        sql.push_str(" AND outcome = ?");
        binds.push(text(o.as_str()));
    }
    if let Some(f) = q.from {
        sql.push_str(" AND time >= ?");
        binds.push(int(f));
    }
    if let Some(t) = q.to {
        sql.push_str(" AND time <= ?");
        binds.push(int(t));
    }
    if let Some(b) = &q.before {
        sql.push_str(" AND id < ?");
        binds.push(text(b));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    binds.push(int(q.limit.min(crate::calllog::query::MAX_LIMIT + 1) as u64));
    (sql, binds)
}

#[durable_object]
pub struct ExecutionLog {
    state: State,
    sweep_scheduled: Cell<bool>,
}

impl ExecutionLog {
    fn append(&self, sql: &SqlStorage, entries: &[Json], retention_ms: u64) -> worker::Result<()> {
        for entry in entries {
            // Only entries with the worker's shape are kept (the fields the indexes use).
            let Some(e) = IndexedFields::of(entry) else { continue };
            sql.exec(
                "INSERT OR IGNORE INTO entries (id, time, principal_id, client_id, client_name, method, target, outcome, duration_ms, entry) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    text(e.id),
                    int(e.time),
                    text(e.principal_id),
                    opt_text(e.client_id),
                    opt_text(e.client_name),
                    text(e.method),
                    opt_text(e.target),
                    text(e.outcome.as_str()),
                    int(e.duration_ms),
                    text(&entry.to_string()),
                ],
            )?;
        }
        sql.exec("DELETE FROM entries WHERE time < ?", vec![int(super::now_ms().saturating_sub(retention_ms))])?;
        Ok(())
    }
}

impl DurableObject for ExecutionLog {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        // Errors surface on first use instead (`fetch` reports them).
        for statement in SCHEMA {
            let _ = sql.exec(statement, None);
        }
        ExecutionLog { state, sweep_scheduled: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let command = match req.text().await.and_then(|t| serde_json::from_str::<Json>(&t).map_err(worker::Error::from))
        {
            Ok(value) => match Command::from_json(value) {
                Some(command) => command,
                None => return Response::error("bad log command: unknown shape", 400),
            },
            Err(e) => return Response::error(format!("bad log command: {e}"), 400),
        };
        let sql = self.state.storage().sql();
        match command {
            Command::Append { entries, retention_ms } => {
                if let Err(e) = self.append(&sql, &entries, retention_ms) {
                    return Response::error(format!("log storage failed: {e}"), 500);
                }
                if !self.sweep_scheduled.get() {
                    let storage = self.state.storage();
                    storage.put(RETENTION_KEY, retention_ms).await?;
                    if storage.get_alarm().await?.is_none() {
                        storage.set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
                    }
                    self.sweep_scheduled.set(true);
                }
                Response::empty()
            }
            Command::Query { query } => {
                let (statement, binds) = query_sql(&query);
                Response::from_json(&entries(&sql, &statement, binds)?)
            }
            Command::Get { id } => {
                let found = entries(&sql, "SELECT entry FROM entries WHERE id = ?", vec![text(&id)])?;
                Response::from_json(&found.into_iter().next())
            }
            Command::Stats { from_ms, slowest } => {
                let rows = sql
                    .exec(
                        "SELECT time, method, target, outcome, duration_ms FROM entries WHERE time >= ? ORDER BY time DESC LIMIT ?",
                        vec![int(from_ms), int(MAX_STAT_ROWS)],
                    )?
                    .to_array::<StatSqlRow>()?;
                let rows = rows
                    .into_iter()
                    .filter_map(|r| {
                        let outcome = Outcome::parse(&r.outcome)?;
                        Some(StatRow(r.time as u64, r.method, r.target, outcome, r.duration_ms as u64))
                    })
                    .collect();
                let slowest = entries(
                    &sql,
                    "SELECT entry FROM entries WHERE time >= ? ORDER BY duration_ms DESC, id DESC LIMIT ?",
                    vec![int(from_ms), int(slowest.min(100))],
                )?;
                Response::from_json(&ShardStats { rows, slowest })
            }
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let retention_ms: Option<u64> = storage.get(RETENTION_KEY).await?;
        let retention_ms = retention_ms.unwrap_or(crate::calllog::DEFAULT_RETENTION_DAYS * crate::calllog::DAY_MS);
        storage
            .sql()
            .exec("DELETE FROM entries WHERE time < ?", vec![int(super::now_ms().saturating_sub(retention_ms))])?;
        storage.set_alarm(std::time::Duration::from_millis(SWEEP_MS)).await?;
        Response::empty()
    }
}
