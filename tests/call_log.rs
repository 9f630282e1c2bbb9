//! The execution log records real dispatches (the demo database in SQLite) through an in-memory
//! `CallLog`: what is recorded, with which outcome, rows, redaction and timing.

mod common;

use std::cell::{Cell, RefCell};

use serde_json::{json, Value as Json};

use common::{request, session, Fixture};
use dbmcp::calllog::entry::Caller;
use dbmcp::calllog::site::{logged, CallSite};
use dbmcp::calllog::{CallLog, LogEntry, Outcome};
use dbmcp::mcp::jsonrpc::RpcError;
use dbmcp::mcp::server;

/// Entries in memory; the clock advances 3 ms per reading so durations are visible.
#[derive(Default)]
struct MemoryLog {
    entries: RefCell<Vec<LogEntry>>,
    clock: Cell<u64>,
}

impl CallLog for MemoryLog {
    fn record(&self, entry: LogEntry) {
        self.entries.borrow_mut().push(entry);
    }
    fn now_ms(&self) -> u64 {
        self.clock.set(self.clock.get() + 3);
        1_700_000_000_000 + self.clock.get()
    }
}

fn site<'a>(log: &'a MemoryLog, era: &'static str) -> CallSite<'a> {
    CallSite {
        log,
        service: "demo",
        caller: Caller::new("key:k1", Some("ci key"), &json!({"name": "test-client", "version": "0.1"})),
        era,
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
    }
}

fn dispatch(fx: &Fixture, site: &CallSite<'_>, method: &str, params: Json) -> Result<Json, RpcError> {
    let request = request(method, params);
    let ctx = fx.ctx();
    let mut session = session();
    futures_executor::block_on(logged(
        Some(site),
        &request,
        server::handle_streaming(&request, &mut session, &ctx, None),
    ))
}

#[test]
fn calls_reads_and_prompts_are_recorded_with_their_outcome() {
    let fx = Fixture::new();
    let log = MemoryLog::default();
    let site = site(&log, "2025");
    dispatch(
        &fx,
        &site,
        "tools/call",
        json!({"name": "get_table_data", "arguments": {"table": "customers", "limit": 2}}),
    )
    .unwrap();
    dispatch(
        &fx,
        &site,
        "tools/call",
        json!({"name": "get_table_data", "arguments": {"table": "no_such_table", "password": "hunter2"}}),
    )
    .unwrap();
    dispatch(&fx, &site, "tools/call", json!({"name": "no_such_tool", "arguments": {}})).unwrap_err();
    dispatch(&fx, &site, "resources/read", json!({"uri": "dbmcp://demo/tables/customers"})).unwrap();
    dispatch(&fx, &site, "prompts/get", json!({"name": "explore_database"})).ok();
    dispatch(&fx, &site, "tools/list", json!({})).unwrap();

    let entries = log.entries.borrow();
    assert_eq!(entries.len(), 5, "tools/list is not recorded: {entries:#?}");
    let ok = &entries[0];
    assert_eq!(
        (ok.method.as_str(), ok.target.as_deref(), ok.outcome),
        ("tools/call", Some("get_table_data"), Outcome::Ok)
    );
    assert_eq!(ok.rows_read, Some(2));
    assert_eq!(ok.arguments, json!({"table": "customers", "limit": 2}));
    assert_eq!(ok.duration_ms, 3);
    assert_eq!((ok.principal_kind.as_str(), ok.key_label.as_deref()), ("api_key", Some("ci key")));
    assert_eq!(ok.client_name.as_deref(), Some("test-client/0.1"));
    assert_eq!((ok.era.as_str(), ok.request_id.as_str()), ("2025", "1"));
    assert_eq!(ok.trace_id.as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_eq!(entries[1].outcome, Outcome::ToolError);
    assert_eq!(entries[1].arguments, json!({"table": "no_such_table", "password": "[redacted]"}));
    assert!(entries[1].error.as_deref().unwrap().contains("unknown field `password`"), "{:?}", entries[1].error);
    assert_eq!(entries[2].outcome, Outcome::ProtocolError);
    assert!(entries[2].error.as_deref().unwrap().contains("unknown tool"), "{:?}", entries[2].error);
    assert_eq!(
        (entries[3].method.as_str(), entries[3].target.as_deref()),
        ("resources/read", Some("dbmcp://demo/tables/customers"))
    );
    assert_eq!(entries[3].outcome, Outcome::Ok);
    assert_eq!((entries[4].method.as_str(), entries[4].target.as_deref()), ("prompts/get", Some("explore_database")));
    let ids: std::collections::HashSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 5, "ids are unique");
}

#[test]
fn without_a_site_nothing_is_recorded_and_the_answer_is_unchanged() {
    let fx = Fixture::new();
    let request = request("tools/call", json!({"name": "get_tables", "arguments": {}}));
    let ctx = fx.ctx();
    let mut session = session();
    let answer = futures_executor::block_on(logged(
        None,
        &request,
        server::handle_streaming(&request, &mut session, &ctx, None),
    ))
    .unwrap();
    assert_eq!(answer["isError"], false);
}

#[test]
fn a_refused_call_is_recorded_with_its_outcome_and_no_duration() {
    let log = MemoryLog::default();
    let site = site(&log, "2026");
    site.refused(&request("tools/call", json!({"name": "get_tables"})), Outcome::RateLimited, "too many calls");
    site.refused(&request("tools/list", json!({})), Outcome::RateLimited, "not logged");
    let entries = log.entries.borrow();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].outcome, entries[0].duration_ms), (Outcome::RateLimited, 0));
    assert_eq!(entries[0].error.as_deref(), Some("too many calls"));
    assert_eq!((entries[0].era.as_str(), entries[0].target.as_deref()), ("2026", Some("get_tables")));
}
