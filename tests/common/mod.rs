//! Shared fixtures for the integration tests: a real SQLite database behind the `Database` trait,
//! the demo store loaded from `migrations/*.sql`, a service configuration and a tool context.

#![allow(dead_code)]

use std::cell::RefCell;
use std::path::PathBuf;

use async_trait::async_trait;
use rusqlite::types::{Value as SqliteValue, ValueRef};
use rusqlite::Connection;
use serde_json::{json, Map, Value as Json};

use dbmcp::config::{self, RawConfig, ServiceConfig};
use dbmcp::db::{Database, DbError, QueryResult, SqlValue, Statement};
use dbmcp::mcp::jsonrpc::{Request, RequestId, RpcError};
use dbmcp::mcp::server;
use dbmcp::mcp::session::Session;
use dbmcp::oauth::grants::MemoryGrants;
use dbmcp::oauth::tokens::SigningKeys;
use dbmcp::sql::Dialect;
use dbmcp::tools::confirm::{Confirm, ConfirmStore, GrantConfirmStore};
use dbmcp::tools::{SchemaCache, ToolContext};

/// Name of the service the tests configure; resource URIs are `dbmcp://demo/...`.
pub const SERVICE: &str = "demo";

/// The origin the tools' URLs use in these tests.
pub const ORIGIN: &str = "https://db.example.com";

// ---------------------------------------------------------------------------------------------
// SQLite behind the Database trait
// ---------------------------------------------------------------------------------------------

/// An in-memory SQLite database (the engine D1 runs) implementing [`Database`].
pub struct Sqlite {
    conn: RefCell<Connection>,
}

impl Sqlite {
    pub fn open_in_memory() -> Sqlite {
        let conn = Connection::open_in_memory().expect("open in-memory SQLite");
        Sqlite { conn: RefCell::new(conn) }
    }

    /// Runs SQL directly (setup and verification), bypassing the tools.
    pub fn execute_batch(&self, sql: &str) {
        self.conn.borrow().execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// One integer from a query such as `SELECT COUNT(*) FROM t`, run directly on the connection.
    pub fn scalar_i64(&self, sql: &str) -> i64 {
        self.conn.borrow().query_row(sql, [], |row| row.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn count(&self, table: &str) -> i64 {
        self.scalar_i64(&format!("SELECT COUNT(*) FROM \"{table}\""))
    }

    fn run(conn: &Connection, statement: &Statement) -> Result<QueryResult, DbError> {
        let mut stmt = conn.prepare(&statement.sql).map_err(db_error)?;
        let params: Vec<SqliteValue> = statement.params.iter().map(to_sqlite).collect();
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        if columns.is_empty() {
            stmt.execute(rusqlite::params_from_iter(params)).map_err(db_error)?;
            return Ok(QueryResult { columns, rows: vec![], rows_affected: Some(conn.changes()) });
        }
        let mut rows = Vec::new();
        let mut cursor = stmt.query(rusqlite::params_from_iter(params)).map_err(db_error)?;
        while let Some(row) = cursor.next().map_err(db_error)? {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                values.push(to_json(row.get_ref(i).map_err(db_error)?));
            }
            rows.push(values);
        }
        drop(cursor);
        // INSERT/UPDATE/DELETE ... RETURNING return rows and change rows too.
        let rows_affected = if stmt.readonly() { None } else { Some(conn.changes()) };
        Ok(QueryResult { columns, rows, rows_affected })
    }
}

fn db_error(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => DbError::new(message.clone()),
        _ => DbError::new(e.to_string()),
    }
}

fn to_sqlite(value: &SqlValue) -> SqliteValue {
    match value {
        SqlValue::Null => SqliteValue::Null,
        SqlValue::Bool(b) => SqliteValue::Integer(i64::from(*b)),
        SqlValue::Integer(i) => SqliteValue::Integer(*i),
        SqlValue::Real(f) => SqliteValue::Real(*f),
        SqlValue::Text(s) => SqliteValue::Text(s.clone()),
        SqlValue::Json(j) => SqliteValue::Text(j.to_string()),
    }
}

fn to_json(value: ValueRef<'_>) -> Json {
    match value {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map(Json::Number).unwrap_or(Json::Null),
        ValueRef::Text(t) => Json::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Json::Array(b.iter().map(|byte| json!(byte)).collect()),
    }
}

#[async_trait(?Send)]
impl Database for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        Sqlite::run(&self.conn.borrow(), statement)
    }

    /// All or nothing, like a D1 batch.
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        let conn = self.conn.borrow();
        conn.execute_batch("BEGIN").map_err(db_error)?;
        let mut results = Vec::with_capacity(statements.len());
        for statement in statements {
            match Sqlite::run(&conn, statement) {
                Ok(result) => results.push(result),
                Err(e) => {
                    conn.execute_batch("ROLLBACK").map_err(db_error)?;
                    return Err(e);
                }
            }
        }
        conn.execute_batch("COMMIT").map_err(db_error)?;
        Ok(results)
    }
}

/// The demo store: every `migrations/*.sql` in name order, foreign keys enforced as on D1.
pub fn demo_db() -> Sqlite {
    let db = Sqlite::open_in_memory();
    db.execute_batch("PRAGMA foreign_keys = ON;");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read migrations/")
        .map(|entry| entry.expect("migration entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations in {}", dir.display());
    for file in files {
        let sql = std::fs::read_to_string(&file).expect("read migration");
        db.execute_batch(&sql);
    }
    db
}

// ---------------------------------------------------------------------------------------------
// Service configuration and tool context
// ---------------------------------------------------------------------------------------------

/// A writable `demo` D1 service capped at 100 rows per read, built through the real config
/// parser so new fields get their defaults.
pub fn service_config() -> ServiceConfig {
    service_config_from(json!({
        "label": "Demo store",
        "description": "The demo store database.",
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "max_rows": 100
    }))
}

pub fn read_only_service_config() -> ServiceConfig {
    service_config_from(json!({
        "label": "Demo store",
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": true,
        "max_rows": 100
    }))
}

/// The `MASK_KEY` secret of test services (`hash` masks need one).
pub const MASK_SECRET: &str = "test-mask-secret-0123456789abcdef";

pub fn service_config_from(service: Json) -> ServiceConfig {
    let services = json!({ SERVICE: service });
    let raw = RawConfig { services: Some(&services), mask_secret: Some(MASK_SECRET), ..Default::default() };
    let config = config::parse(raw).unwrap_or_else(|e| panic!("test service config: {e}"));
    config.service(SERVICE).expect("demo service").clone()
}

/// Confirmation keys and used states in memory: the grant store's rules ([`MemoryGrants`]) with
/// the key derived from a signing key, or (without one) the store's own secret.
pub struct MemoryConfirm {
    pub grants: MemoryGrants,
    pub keys: Option<SigningKeys>,
}

impl Default for MemoryConfirm {
    fn default() -> Self {
        let keys = SigningKeys::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").expect("test key");
        MemoryConfirm { grants: MemoryGrants::default(), keys: Some(keys) }
    }
}

#[async_trait(?Send)]
impl ConfirmStore for MemoryConfirm {
    async fn key(&self) -> Result<[u8; 32], String> {
        GrantConfirmStore { grants: &self.grants, keys: self.keys.as_ref() }.key().await
    }
    async fn consume(&self, service: &str, id: &str, expires_ms: u64) -> Result<bool, String> {
        GrantConfirmStore { grants: &self.grants, keys: self.keys.as_ref() }.consume(service, id, expires_ms).await
    }
}

/// Owns everything a [`ToolContext`] borrows.
pub struct Fixture {
    pub db: Sqlite,
    pub service: ServiceConfig,
    pub cache: SchemaCache,
    pub confirm: MemoryConfirm,
    /// Who calls; confirmations are bound to it.
    pub principal: String,
    /// Who calls, for row policies (anonymous by default).
    pub caller: dbmcp::rows::Caller,
    /// The clock the context (and the confirmation store) sees.
    pub now_ms: std::cell::Cell<u64>,
}

impl Fixture {
    fn with(db: Sqlite, service: ServiceConfig) -> Fixture {
        let fx = Fixture {
            db,
            service,
            cache: SchemaCache::default(),
            confirm: MemoryConfirm::default(),
            principal: "tester".into(),
            caller: Default::default(),
            now_ms: std::cell::Cell::new(1_000),
        };
        fx.confirm.grants.now_ms.set(1_000);
        fx
    }

    /// The demo database behind a writable service.
    pub fn new() -> Fixture {
        Fixture::with(demo_db(), service_config())
    }

    /// The demo database behind a read-only service.
    pub fn read_only() -> Fixture {
        Fixture::with(demo_db(), read_only_service_config())
    }

    /// The demo database behind a service configured by `service` (config JSON).
    pub fn configured(service: Json) -> Fixture {
        Fixture::with(demo_db(), service_config_from(service))
    }

    /// `db` behind a service configured by `service` (config JSON).
    pub fn on(db: Sqlite, service: Json) -> Fixture {
        Fixture::with(db, service_config_from(service))
    }

    /// Moves the clock of the context and of the store.
    pub fn set_now(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
        self.confirm.grants.now_ms.set(now_ms);
    }

    /// A context whose credential may write exactly when the service is writable.
    pub fn ctx(&self) -> ToolContext<'_> {
        self.ctx_with_write(!self.service.read_only)
    }

    pub fn ctx_with_write(&self, can_write: bool) -> ToolContext<'_> {
        ToolContext {
            db: &self.db,
            service: &self.service,
            schema_cache: &self.cache,
            now_ms: self.now_ms.get(),
            can_write,
            principal: &self.principal,
            confirm: Confirm { store: Some(&self.confirm), call: None },
            caller: &self.caller,
            origin: ORIGIN,
            raw_records: None,
        }
    }

    pub fn call(&self, name: &str, args: Json) -> Json {
        call_tool(&self.ctx(), name, args)
    }
}

// ---------------------------------------------------------------------------------------------
// MCP dispatch
// ---------------------------------------------------------------------------------------------

pub fn session() -> Session {
    Session {
        id: "test-session".into(),
        service: SERVICE.into(),
        protocol_version: "2025-06-18".into(),
        client_info: json!({ "name": "tests", "version": "0" }),
        client_capabilities: json!({}),
        log_level: "info".into(),
        principal: "tester".into(),
        created_ms: 0,
        last_seen_ms: 0,
        initialized: true,
    }
}

pub fn request(method: &str, params: Json) -> Request {
    let params = match params {
        Json::Null => None,
        Json::Object(map) => Some(map),
        other => panic!("params must be an object, got {other}"),
    };
    Request { id: RequestId::Number(1), method: method.into(), params }
}

/// Dispatches one request in the given session.
pub fn handle_in(session: &mut Session, ctx: &ToolContext<'_>, method: &str, params: Json) -> Result<Json, RpcError> {
    futures_executor::block_on(server::handle(&request(method, params), session, ctx))
}

/// Dispatches one request in a fresh session.
pub fn handle(ctx: &ToolContext<'_>, method: &str, params: Json) -> Result<Json, RpcError> {
    handle_in(&mut session(), ctx, method, params)
}

/// The full `tools/call` result (content, structuredContent, isError) for one tool call.
pub fn call_tool(ctx: &ToolContext<'_>, name: &str, args: Json) -> Json {
    handle(ctx, "tools/call", json!({ "name": name, "arguments": args }))
        .unwrap_or_else(|e| panic!("tools/call {name} failed at the protocol level: {} {}", e.code, e.message))
}

// ---------------------------------------------------------------------------------------------
// Reading tool results
// ---------------------------------------------------------------------------------------------

/// The structured result of a successful call; panics with the error text otherwise.
pub fn ok(result: &Json) -> &Json {
    assert_eq!(result["isError"], json!(false), "expected success, got: {}", error_text(result));
    &result["structuredContent"]
}

/// The message of a failed call; panics if the call succeeded.
pub fn err(result: &Json) -> String {
    assert_eq!(result["isError"], json!(true), "expected isError, got: {result}");
    assert!(result.get("structuredContent").is_none(), "an error carries no structuredContent: {result}");
    error_text(result)
}

pub fn error_text(result: &Json) -> String {
    result["content"][0]["text"].as_str().unwrap_or_default().to_string()
}

/// `records` of a get_table_data result.
pub fn records(result: &Json) -> &Vec<Json> {
    ok(result)["records"].as_array().unwrap_or_else(|| panic!("no records in {result}"))
}

/// The values of one column across records, in order.
pub fn column(records: &[Json], name: &str) -> Vec<Json> {
    records.iter().map(|r| r[name].clone()).collect()
}

pub fn obj(value: Json) -> Map<String, Json> {
    value.as_object().cloned().expect("an object")
}

/// Asserts that `text` contains every one of `parts`.
#[track_caller]
pub fn assert_mentions(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in: {text}");
    }
}
