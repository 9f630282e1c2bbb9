//! Custom tools stored through the admin API (`tools::stored`) on the real demo database (SQLite):
//! checked against the live schema, merged after the configured tools and called through the MCP
//! dispatch, and watched by `subscriptions/listen` (`notifications/tools/list_changed`).

#![cfg(feature = "query-sql")]

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Value as Json};

use common::*;
use dbmcp::auth::MemoryKv;
use dbmcp::mcp::jsonrpc::RequestId;
use dbmcp::mcp::subscriptions::{self, Honored, ListenOut, ListenSettings, Subscription, Timer};
use dbmcp::tools::stored::{self, StoredToolWatch, StoredTools};

fn block<T>(f: impl Future<Output = T>) -> T {
    futures_executor::block_on(f)
}

/// Runs a future that is ready at once (the memory KV's), from inside another executor's task
/// (a scheduled action of the virtual timer).
fn ready<T>(f: impl Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("the memory KV never waits"),
    }
}

fn service() -> Json {
    json!({ "database": { "kind": "d1", "binding": "DB" }, "max_rows": 50,
            "hidden_tables": ["big_numbers"],
            "columns": { "customers": { "hidden": ["notes"] } },
            "rows": { "orders": "customer_id = {user.customer_id}" },
            "tools": { "configured": { "description": "From the configuration.", "sql": "SELECT 1 AS one" } } })
}

fn tool(sql: &str) -> Json {
    json!({ "description": "An admin tool.", "sql": sql })
}

/// What the admin API does on a PUT in this isolate: store, then drop the isolate's copy.
fn put(kv: &MemoryKv, tools: Json) {
    let mut stored = ready(StoredTools::load(kv, SERVICE)).unwrap();
    stored.version += 1;
    stored.tools = serde_json::from_value(tools).unwrap();
    ready(stored.save(kv, SERVICE)).unwrap();
    stored::forget(SERVICE);
}

fn schema_check(fx: &Fixture, sql: &str) -> Result<(), String> {
    let parsed = stored::check(&fx.service, "t", &tool(sql)).map_err(|p| p.join("; "))?;
    block(stored::check_against_schema(&fx.ctx(), &parsed))
}

#[test]
fn the_sql_is_checked_against_the_live_schema_as_a_call_would_see_it() {
    let fx = Fixture::configured(service());
    assert_eq!(schema_check(&fx, "SELECT id, name FROM customers"), Ok(()));
    let hidden_table = schema_check(&fx, "SELECT * FROM big_numbers").unwrap_err();
    assert!(hidden_table.starts_with("sql:") && hidden_table.contains("big_numbers"), "{hidden_table}");
    let hidden_column = schema_check(&fx, "SELECT notes FROM customers").unwrap_err();
    assert!(hidden_column.contains("notes"), "{hidden_column}");
    let row_policy = schema_check(&fx, "SELECT * FROM orders").unwrap_err();
    assert!(row_policy.contains("row policy"), "{row_policy}");
    let missing = schema_check(&fx, "SELECT * FROM no_such_table").unwrap_err();
    assert!(missing.contains("no_such_table"), "{missing}");
}

#[test]
fn stored_tools_are_listed_after_the_configured_ones_and_called_like_them() {
    let kv = MemoryKv::default();
    let mut fx = Fixture::configured(service());
    put(
        &kv,
        json!({
            "country_count": { "description": "Customers of a country.",
                "sql": "SELECT count(*) AS n FROM customers WHERE country = :country",
                "parameters": { "country": { "type": "string" } }, "required": ["country"] },
            "switched_off": { "description": "Off.", "sql": "SELECT 1 AS one", "enabled": false },
        }),
    );
    let merged = block(stored::service_with_stored(&fx.service, &kv, 1_000)).expect("stored tools merged");
    fx.service = (*merged).clone();
    let tools = handle(&fx.ctx(), "tools/list", json!({})).unwrap()["tools"].as_array().unwrap().clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let at = names.iter().position(|n| *n == "configured").unwrap();
    assert_eq!(&names[at..], ["configured", "country_count"]);
    let result = fx.call("country_count", json!({ "country": "USA" }));
    let expected = fx.db.scalar_i64("SELECT count(*) FROM customers WHERE country = 'USA'");
    assert_eq!(ok(&result)["records"][0]["n"], json!(expected));
    assert!(err(&fx.call("country_count", json!({}))).contains("missing required parameter \"country\""));
    let off = handle(&fx.ctx(), "tools/call", json!({ "name": "switched_off", "arguments": {} })).unwrap_err();
    assert!(off.message.contains("unknown tool \"switched_off\""), "{}", off.message);
}

// ---- subscriptions/listen --------------------------------------------------------------------

/// Actions to run once the virtual clock passes their moment.
type Scheduled<'a> = Vec<(u64, Box<dyn Fn() + 'a>)>;

struct VirtualTimer<'a> {
    now: Cell<u64>,
    at: RefCell<Scheduled<'a>>,
}

impl<'a> VirtualTimer<'a> {
    fn schedule(&self, after_ms: u64, action: impl Fn() + 'a) {
        self.at.borrow_mut().push((1_000_000 + after_ms, Box::new(action)));
    }
}

impl Timer for VirtualTimer<'_> {
    fn sleep(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        self.now.set(self.now.get() + ms);
        let now = self.now.get();
        self.at.borrow_mut().retain(|(when, action)| {
            if *when <= now {
                action();
                false
            } else {
                true
            }
        });
        Box::pin(std::future::ready(()))
    }
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
}

/// Every message with the virtual time (from the start) it went out at.
struct Recorder<'t> {
    timer: &'t dyn Timer,
    messages: RefCell<Vec<(u64, Json)>>,
}

impl ListenOut for Recorder<'_> {
    fn message(&self, message: &Json) {
        self.messages.borrow_mut().push((self.timer.now_ms() - 1_000_000, message.clone()));
    }
    fn comment(&self, _: &str) {}
}

#[test]
fn listen_reports_tools_list_changed_when_the_listed_tools_change() {
    let fx = Fixture::configured(service());
    let kv = MemoryKv::default();
    stored::forget(SERVICE);
    let timer = VirtualTimer { now: Cell::new(1_000_000), at: RefCell::new(vec![]) };
    // Added in this isolate (seen at the next check), then disabled (the listing changes again),
    // then a stored change that lists nothing new (no notification).
    timer.schedule(2_500, || put(&kv, json!({ "added": tool("SELECT 1 AS one") })));
    timer.schedule(4_500, || {
        put(&kv, json!({ "added": { "description": "An admin tool.", "sql": "SELECT 1 AS one", "enabled": false } }))
    });
    timer.schedule(6_500, || {
        put(&kv, json!({ "still_off": { "description": "x", "sql": "SELECT 2", "enabled": false } }))
    });
    let settings = ListenSettings { max_seconds: 8, check_seconds: 1, max_streams: 3 };
    let honored = Honored { resources_list_changed: false, tools_list_changed: true };
    let watch = StoredToolWatch { configured: &fx.service, kv: &kv };
    let out = Recorder { timer: &timer, messages: RefCell::default() };
    let subscription = Subscription {
        id: &RequestId::Number(9),
        honored: &honored,
        settings: &settings,
        query_budget: 50,
        hidden: &[],
        tools: Some(&watch),
    };
    block(subscriptions::listen(subscription, &out, &timer, &fx.db));
    let messages = out.messages.borrow().clone();
    assert_eq!(messages[0].1["params"]["notifications"], json!({ "toolsListChanged": true }));
    let changes: Vec<u64> = messages
        .iter()
        .filter(|(_, m)| m["method"] == "notifications/tools/list_changed")
        .inspect(|(_, m)| assert_eq!(m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(9)))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(changes, [3_000, 5_000], "{messages:?}");
    assert!(messages.iter().all(|(_, m)| m["method"] != "notifications/resources/list_changed"));
}

#[test]
fn another_isolates_change_is_seen_within_the_cache_bound() {
    let fx = Fixture::configured(service());
    let kv = MemoryKv::default();
    stored::forget(SERVICE);
    let timer = VirtualTimer { now: Cell::new(1_000_000), at: RefCell::new(vec![]) };
    // Written elsewhere: this isolate's copy is not dropped.
    timer.schedule(1_500, || {
        let stored =
            StoredTools { version: 1, tools: serde_json::from_value(json!({ "t": tool("SELECT 1") })).unwrap() };
        ready(stored.save(&kv, SERVICE)).unwrap();
    });
    let settings = ListenSettings { max_seconds: 20, check_seconds: 1, max_streams: 3 };
    let honored = Honored { resources_list_changed: false, tools_list_changed: true };
    let watch = StoredToolWatch { configured: &fx.service, kv: &kv };
    let out = Recorder { timer: &timer, messages: RefCell::default() };
    let subscription = Subscription {
        id: &RequestId::Number(1),
        honored: &honored,
        settings: &settings,
        query_budget: 50,
        hidden: &[],
        tools: Some(&watch),
    };
    block(subscriptions::listen(subscription, &out, &timer, &fx.db));
    let changes: Vec<u64> = out
        .messages
        .borrow()
        .clone()
        .into_iter()
        .filter(|(_, m)| m["method"] == "notifications/tools/list_changed")
        .map(|(t, _)| t)
        .collect();
    // The baseline read at 0 ms is reused until CACHE_MS has passed.
    assert_eq!(changes, [stored::CACHE_MS], "seen at the first check after the bound");
}

fn write_tool(sql: &str) -> Json {
    let mut parameters = serde_json::Map::new();
    for (name, kind) in [("id", "integer"), ("name", "string"), ("notes", "string")] {
        if sql.contains(&format!(":{name}")) {
            parameters.insert(name.into(), json!({ "type": kind }));
        }
    }
    json!({ "description": "An admin tool that writes.", "sql": sql, "writes": true, "parameters": parameters })
}

#[test]
fn a_stored_writing_tool_is_checked_as_a_write_and_refused_on_a_read_only_service() {
    let read_only = Fixture::configured(service());
    let refused =
        stored::check(&read_only.service, "w", &write_tool("UPDATE customers SET name = :name WHERE id = :id"))
            .unwrap_err()
            .join("; ");
    assert!(refused.contains("read-only"), "{refused}");

    let mut writable = service();
    writable["read_only"] = json!(false);
    let fx = Fixture::configured(writable);
    let check = |sql: &str| -> Result<(), String> {
        let parsed = stored::check(&fx.service, "w", &write_tool(sql)).map_err(|p| p.join("; "))?;
        block(stored::check_against_schema(&fx.ctx(), &parsed))
    };
    assert_eq!(check("UPDATE customers SET name = :name WHERE id = :id"), Ok(()));
    assert_eq!(check("INSERT INTO categories (name) VALUES (:name)"), Ok(()));
    let hidden = check("UPDATE customers SET notes = :notes WHERE id = :id").unwrap_err();
    assert!(hidden.contains("notes"), "{hidden}");
    let policy = check("DELETE FROM orders WHERE id = :id").unwrap_err();
    assert!(policy.contains("row policy"), "{policy}");
    let hidden_table = check("DELETE FROM big_numbers WHERE id = :id").unwrap_err();
    assert!(hidden_table.contains("big_numbers"), "{hidden_table}");
}
