//! Streamed answers on the real demo database (SQLite): progress points of long tool calls,
//! cancellation by dropping a call, and `subscriptions/listen` in virtual time.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use common::{request, session, Fixture, ORIGIN};
use dbmcp::db::{Database, DbError, QueryResult, Statement};
use dbmcp::mcp::jsonrpc::RequestId;
use dbmcp::mcp::progress::Notify;
use dbmcp::mcp::server;
use dbmcp::mcp::subscriptions::{self, Honored, ListenOut, ListenSettings, Slot, Subscription, Timer};
use dbmcp::sql::Dialect;
use dbmcp::tools::ToolContext;

#[derive(Default)]
struct Sink(RefCell<Vec<Json>>);

impl Notify for Sink {
    fn notify(&self, message: &Json) {
        self.0.borrow_mut().push(message.clone());
    }
}

impl Sink {
    fn progress(&self) -> Vec<Json> {
        self.0
            .borrow()
            .iter()
            .inspect(|m| assert_eq!(m["method"], json!("notifications/progress")))
            .map(|m| m["params"].clone())
            .collect()
    }
}

fn call_with_progress(ctx: &ToolContext<'_>, sink: &Sink, name: &str, args: Json, token: Json) -> Json {
    let params = json!({ "name": name, "arguments": args, "_meta": { "progressToken": token } });
    let result = futures_executor::block_on(server::handle_streaming(
        &request("tools/call", params),
        &mut session(),
        ctx,
        Some(sink),
    ))
    .unwrap();
    common::ok(&result);
    result
}

#[test]
fn a_long_read_reports_before_and_after_each_round_trip() {
    let fx = Fixture::new();
    let sink = Sink::default();
    let result = call_with_progress(
        &fx.ctx(),
        &sink,
        "get_table_data",
        json!({"table": "customers", "include_count": true}),
        json!("read-1"),
    );
    let sent = sink.progress();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        sent[0],
        json!({"progressToken": "read-1", "progress": 0, "total": 2, "message": "reading rows from customers"})
    );
    let returned = common::ok(&result)["returned"].as_u64().unwrap();
    assert_eq!(sent[1]["progress"], json!(1));
    // The select asks for one row more than it returns (to know whether more follow).
    assert!(sent[1]["message"].as_str().unwrap().starts_with("round trip 1 of 2 done ("), "{}", sent[1]);
    assert!(returned > 0);
    assert_eq!(sent[2]["progress"], json!(2));
    assert_eq!(sent[2]["total"], json!(2));
    assert_eq!(sent[2]["message"], json!("round trip 2 of 2 done (1 rows)"));
}

#[test]
fn a_multi_record_write_reports_its_records() {
    let fx = Fixture::new();
    let before = fx.db.count("categories");
    let sink = Sink::default();
    let records: Vec<Json> = (0..5).map(|i| json!({"name": format!("streamed {i}")})).collect();
    call_with_progress(
        &fx.ctx(),
        &sink,
        "create_records",
        json!({"table": "categories", "records": records}),
        json!(42),
    );
    assert_eq!(fx.db.count("categories"), before + 5);
    let sent = sink.progress();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["progress"], json!(0));
    assert_eq!(sent[0]["total"], json!(5));
    assert_eq!(sent[0]["message"], json!("writing 5 records of categories in one atomic batch"));
    assert_eq!(
        sent[1],
        json!({"progressToken": 42, "progress": 5, "total": 5, "message": "5 of 5 records written (batch of 5 committed)"})
    );
}

#[test]
fn row_counts_of_every_table_report_their_batch() {
    let fx = Fixture::new();
    let sink = Sink::default();
    let result = call_with_progress(&fx.ctx(), &sink, "get_tables", json!({"include_counts": true}), json!("n"));
    let tables = common::ok(&result)["tables"].as_array().unwrap().len();
    let sent = sink.progress();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["message"], json!("counting the rows of every table"));
    assert_eq!(sent[1]["message"], json!(format!("round trip 1 of 1 done ({tables} rows)")));
}

#[test]
fn quick_calls_and_calls_without_a_token_send_nothing() {
    let fx = Fixture::new();
    let sink = Sink::default();
    call_with_progress(&fx.ctx(), &sink, "get_tables", json!({}), json!("t"));
    call_with_progress(
        &fx.ctx(),
        &sink,
        "create_records",
        json!({"table": "categories", "records": [{"name": "one"}]}),
        json!("t"),
    );
    let params = json!({ "name": "get_table_data", "arguments": {"table": "customers"} });
    futures_executor::block_on(server::handle_streaming(
        &request("tools/call", params),
        &mut session(),
        &fx.ctx(),
        Some(&sink),
    ))
    .unwrap();
    // A bad token is no token.
    let params =
        json!({ "name": "get_table_data", "arguments": {"table": "customers"}, "_meta": {"progressToken": [1]} });
    futures_executor::block_on(server::handle_streaming(
        &request("tools/call", params),
        &mut session(),
        &fx.ctx(),
        Some(&sink),
    ))
    .unwrap();
    assert!(sink.0.borrow().is_empty(), "{:?}", sink.0.borrow());
}

#[test]
fn a_failing_call_announces_only_its_start() {
    let fx = Fixture::new();
    let sink = Sink::default();
    let params = json!({ "name": "create_records", "arguments": {"table": "categories", "records": [{"name": "dup"}, {"name": "dup"}]},
                         "_meta": {"progressToken": "f"} });
    let result = futures_executor::block_on(server::handle_streaming(
        &request("tools/call", params),
        &mut session(),
        &fx.ctx(),
        Some(&sink),
    ))
    .unwrap();
    assert!(common::err(&result).contains("Nothing was written"));
    let sent = sink.progress();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["progress"], json!(0));
}

/// Holds every write batch at an await until opened: where a dropped request stops.
struct Gate<'a> {
    inner: &'a dyn Database,
    open: Cell<bool>,
}

struct Wait<'a>(&'a Cell<bool>);

impl Future for Wait<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0.get() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[async_trait(?Send)]
impl Database for Gate<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        self.inner.query(statement).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        // Schema reads pass; the write waits.
        if statements.iter().any(|s| s.sql.starts_with("INSERT")) {
            Wait(&self.open).await;
        }
        self.inner.batch(statements).await
    }
}

#[test]
fn dropping_a_write_at_its_await_writes_nothing() {
    let fx = Fixture::new();
    let before = fx.db.count("categories");
    let gate = Gate { inner: &fx.db, open: Cell::new(false) };
    let ctx = ToolContext {
        db: &gate,
        service: &fx.service,
        schema_cache: &fx.cache,
        now_ms: 1_000,
        can_write: true,
        principal: &fx.principal,
        confirm: dbmcp::tools::confirm::Confirm { store: Some(&fx.confirm), call: None },
        caller: &fx.caller,
        origin: ORIGIN,
        raw_records: None,
    };
    let sink = Sink::default();
    let params = json!({ "name": "create_records", "arguments": {"table": "categories", "records": [{"name": "x1"}, {"name": "x2"}, {"name": "x3"}]},
                         "_meta": {"progressToken": "c"} });
    let request = request("tools/call", params);
    let mut session = session();
    let mut call = Box::pin(server::handle_streaming(&request, &mut session, &ctx, Some(&sink)));
    let waker = futures_util::task::noop_waker();
    assert!(call.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    // The start went out (the client saw progress 0), then the client went away.
    assert_eq!(sink.progress().len(), 1);
    drop(call);
    gate.open.set(true);
    assert_eq!(fx.db.count("categories"), before, "a dropped call must not write");
    assert_eq!(sink.progress().len(), 1, "nothing is reported after cancellation");
}

// ---------------------------------------------------------------------------------------------
// subscriptions/listen
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Out {
    Message(Json),
    Comment(String),
}

#[derive(Default)]
struct Recorder(RefCell<Vec<(u64, Out)>>);

/// Virtual time: every sleep returns at once with the clock moved on, and runs `at` once the
/// clock passes its moment (a schema change made while the stream is open).
type Scheduled<'a> = Vec<(u64, Box<dyn Fn() + 'a>)>;

struct VirtualTimer<'a> {
    now: Cell<u64>,
    sleeps: Cell<u32>,
    at: RefCell<Scheduled<'a>>,
}

impl<'a> VirtualTimer<'a> {
    fn new() -> Self {
        VirtualTimer { now: Cell::new(1_000_000), sleeps: Cell::new(0), at: RefCell::new(vec![]) }
    }
    fn at(&self, after_ms: u64, action: impl Fn() + 'a) {
        self.at.borrow_mut().push((1_000_000 + after_ms, Box::new(action)));
    }
}

impl Timer for VirtualTimer<'_> {
    fn sleep(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        assert!(ms > 0, "a zero sleep would spin");
        self.sleeps.set(self.sleeps.get() + 1);
        assert!(self.sleeps.get() < 10_000, "the stream must end");
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

struct Recording<'a, 't> {
    out: &'a Recorder,
    timer: &'a VirtualTimer<'t>,
}

impl ListenOut for Recording<'_, '_> {
    fn message(&self, message: &Json) {
        self.out.0.borrow_mut().push((self.timer.now_ms() - 1_000_000, Out::Message(message.clone())));
    }
    fn comment(&self, text: &str) {
        self.out.0.borrow_mut().push((self.timer.now_ms() - 1_000_000, Out::Comment(text.into())));
    }
}

fn run_listen(
    fx: &Fixture,
    timer: &VirtualTimer<'_>,
    settings: ListenSettings,
    budget: u64,
    hidden: &[String],
) -> Vec<(u64, Out)> {
    let recorder = Recorder::default();
    let honored = Honored { resources_list_changed: true, tools_list_changed: false };
    let out = Recording { out: &recorder, timer };
    let subscription = Subscription {
        id: &RequestId::Number(7),
        honored: &honored,
        settings: &settings,
        query_budget: budget,
        hidden,
        tools: None,
    };
    futures_executor::block_on(subscriptions::listen(subscription, &out, timer, &fx.db));
    recorder.0.into_inner()
}

#[test]
fn listen_acknowledges_then_reports_a_schema_change_and_ends_at_its_bound() {
    let fx = Fixture::new();
    let timer = VirtualTimer::new();
    timer.at(2_500, || fx.db.execute_batch("CREATE TABLE added_while_listening (id INTEGER PRIMARY KEY)"));
    let settings = ListenSettings { max_seconds: 6, check_seconds: 1, max_streams: 3 };
    let out = run_listen(&fx, &timer, settings, 50, &[]);

    let Out::Message(ack) = &out[0].1 else { panic!("first: {:?}", out[0]) };
    assert_eq!(
        ack,
        &json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": 7}, "notifications": {"resourcesListChanged": true}}})
    );
    let changes: Vec<u64> = out
        .iter()
        .filter(|(_, o)| matches!(o, Out::Message(m) if m["method"] == json!("notifications/resources/list_changed")))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(changes, vec![3_000], "one change, seen at the first check after it: {out:?}");
    let change = out.iter().find(|(t, _)| *t == 3_000).unwrap();
    let Out::Message(m) = &change.1 else { unreachable!() };
    assert_eq!(m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], json!(7));
    let comments: Vec<u64> = out.iter().filter(|(_, o)| matches!(o, Out::Comment(_))).map(|(t, _)| *t).collect();
    assert_eq!(comments, vec![1_000, 2_000, 4_000, 5_000], "keep-alive on every quiet tick");
    let (end, last) = out.last().unwrap();
    assert_eq!(*end, 6_000);
    assert_eq!(
        last,
        &Out::Message(json!({"jsonrpc": "2.0", "id": 7,
            "result": {"resultType": "complete", "_meta": {"io.modelcontextprotocol/subscriptionId": 7}}}))
    );
}

#[test]
fn listen_ignores_changes_to_hidden_tables() {
    let fx = Fixture::new();
    let timer = VirtualTimer::new();
    timer.at(1_500, || fx.db.execute_batch("ALTER TABLE big_numbers ADD COLUMN secret_extra TEXT"));
    let settings = ListenSettings { max_seconds: 3, check_seconds: 1, max_streams: 3 };
    let out = run_listen(&fx, &timer, settings, 50, &["big_numbers".to_string()]);
    assert!(
        !out.iter()
            .any(|(_, o)| matches!(o, Out::Message(m) if m["method"] == json!("notifications/resources/list_changed"))),
        "{out:?}"
    );
    // The same change to a visible table is reported.
    let timer = VirtualTimer::new();
    timer.at(1_500, || fx.db.execute_batch("ALTER TABLE customers ADD COLUMN extra TEXT"));
    let out = run_listen(&fx, &timer, settings, 50, &["big_numbers".to_string()]);
    assert!(out
        .iter()
        .any(|(_, o)| matches!(o, Out::Message(m) if m["method"] == json!("notifications/resources/list_changed"))));
}

#[test]
fn listen_ends_early_when_the_query_budget_would_run_out() {
    let fx = Fixture::new();
    let timer = VirtualTimer::new();
    let settings = ListenSettings { max_seconds: 300, check_seconds: 10, max_streams: 3 };
    // One baseline read and four checks: the stream ends at 50 s, not 300 s.
    let out = run_listen(&fx, &timer, settings, 5, &[]);
    let (end, last) = out.last().unwrap();
    assert_eq!(*end, 50_000, "{out:?}");
    assert!(matches!(last, Out::Message(m) if m["result"]["resultType"] == json!("complete")));
    // Keep-alives still come at most 15 s apart... here every check tick (10 s).
    let comments = out.iter().filter(|(_, o)| matches!(o, Out::Comment(_))).count();
    assert_eq!(comments, 4);
}

#[test]
fn listen_keeps_alive_every_15_seconds_between_slow_checks() {
    let fx = Fixture::new();
    let timer = VirtualTimer::new();
    let settings = ListenSettings { max_seconds: 60, check_seconds: 60, max_streams: 3 };
    let out = run_listen(&fx, &timer, settings, 50, &[]);
    let times: Vec<u64> = out.iter().filter(|(_, o)| matches!(o, Out::Comment(_))).map(|(t, _)| *t).collect();
    assert_eq!(times, vec![15_000, 30_000, 45_000]);
    assert_eq!(out.last().unwrap().0, 60_000);
}

#[test]
fn the_schema_fingerprint_follows_the_visible_schema() {
    let fx = Fixture::new();
    let read =
        |hidden: &[String]| futures_executor::block_on(subscriptions::schema_fingerprint(&fx.db, hidden)).unwrap();
    let hidden = vec!["big_numbers".to_string()];
    let a = read(&hidden);
    assert_eq!(a, read(&hidden), "stable while nothing changes");
    assert_eq!(a.len(), 64);
    fx.db.execute_batch("CREATE INDEX big_numbers_extra ON big_numbers(id)");
    assert_eq!(a, read(&hidden), "an index on a hidden table says nothing");
    fx.db.execute_batch("CREATE VIEW paying AS SELECT * FROM customers");
    assert_ne!(a, read(&hidden));
}

#[test]
fn listen_slots_are_counted_per_principal_and_released_on_drop() {
    let take = |service: &str, who: &str| Slot::acquire(service, who, 2, 1_000, 100_000);
    let first = take("svc-a", "alice").unwrap();
    let second = take("svc-a", "alice").unwrap();
    let refused = take("svc-a", "alice").err().expect("a third stream is refused");
    assert_eq!(refused.code, subscriptions::TOO_MANY_STREAMS);
    assert!(refused.message.contains("at most 2"), "{}", refused.message);
    // Others are not affected.
    let bob = take("svc-a", "bob").unwrap();
    let other_service = take("svc-b", "alice").unwrap();
    assert_eq!(Slot::open_count("svc-a", "alice"), 2);
    drop(first);
    assert_eq!(Slot::open_count("svc-a", "alice"), 1);
    let again = take("svc-a", "alice").unwrap();
    drop((second, again, bob, other_service));
    assert_eq!(Slot::open_count("svc-a", "alice"), 0);
}

#[test]
fn a_slot_that_was_never_dropped_expires() {
    // A runtime may abandon a request without running its destructors.
    std::mem::forget(Slot::acquire("svc-c", "carol", 1, 1_000, 5_000).unwrap());
    assert!(Slot::acquire("svc-c", "carol", 1, 4_999, 9_000).is_err(), "still open before its expiry");
    let fresh = Slot::acquire("svc-c", "carol", 1, 5_000, 9_000).expect("the leaked place expired");
    assert_eq!(Slot::open_count("svc-c", "carol"), 1);
    drop(fresh);
    assert_eq!(Slot::open_count("svc-c", "carol"), 0);
}

#[test]
fn the_listen_filter_is_checked_and_only_honored_types_are_acknowledged() {
    let parse = |params: Json| subscriptions::parse_filter(params.as_object());
    let all = parse(
        json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true,
                                              "resourceSubscriptions": ["dbmcp://demo/tables/customers"]}}),
    )
    .unwrap();
    // The tool list changes only where the build has custom tools (the admin API adds them).
    let tools = cfg!(feature = "query-sql");
    let expected = if tools {
        json!({"resourcesListChanged": true, "toolsListChanged": true})
    } else {
        json!({"resourcesListChanged": true})
    };
    assert_eq!(all.to_json(), expected);
    let only_tools = if tools { json!({"toolsListChanged": true}) } else { json!({}) };
    assert_eq!(parse(json!({"notifications": {"toolsListChanged": true}})).unwrap().to_json(), only_tools);
    assert_eq!(parse(json!({"notifications": {"resourcesListChanged": false}})).unwrap().to_json(), json!({}));
    assert!(parse(json!({})).unwrap_err().message.contains("needs params.notifications"));
    assert!(parse(json!({"notifications": []})).unwrap_err().message.contains("must be an object"));
    assert!(parse(json!({"notifications": {"resourcesListChanged": "yes"}}))
        .unwrap_err()
        .message
        .contains("must be a boolean"));
    assert!(parse(json!({"notifications": {"resourceSubscriptions": [1]}}))
        .unwrap_err()
        .message
        .contains("array of strings"));
}

#[test]
fn listen_settings_have_bounds() {
    assert_eq!(
        ListenSettings::parse(None).unwrap(),
        ListenSettings { max_seconds: 300, check_seconds: 10, max_streams: 3 }
    );
    let custom = ListenSettings::parse(Some(&json!({"max_seconds": 4, "check_seconds": 1, "max_streams": 2}))).unwrap();
    assert_eq!(custom, ListenSettings { max_seconds: 4, check_seconds: 1, max_streams: 2 });
    let errors = ListenSettings::parse(Some(&json!({"max_seconds": 0, "check_seconds": 1.5, "every": 1}))).unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("listen.max_seconds: must be a whole number from 1 to 3600, got 0"));
    assert!(errors.iter().any(|e| e.contains("listen.every: unknown setting")));
    let services = json!({"s": {"database": {"kind": "d1", "binding": "DB"}, "listen": {"max_streams": 0}}});
    let err = dbmcp::config::parse(dbmcp::config::RawConfig {
        services: Some(&services),
        session_idle_seconds: None,
        allowed_origins: None,
        mask_secret: None,
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("SERVICES.s.listen.max_streams: must be a whole number from 1 to 100, got 0"), "{err}");
}
