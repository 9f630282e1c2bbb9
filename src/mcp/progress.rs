//! `notifications/progress` for long tool calls (spec: basic/patterns/progress).
//!
//! A `tools/call` whose `_meta.progressToken` is a string or an integer, sent by a client that
//! accepts an event stream, gets progress when the tool is one of the long ones ([`plan`]).
//! Progress is reported at the database seam: [`ProgressDb`] wraps the call's database, so the
//! tools themselves are unchanged. The points:
//!
//! Long: get_table_data, aggregate_table_data, row counts (get_tables with include_counts,
//! get_data_model), and writes of several records or by filter.
//!
//! - progress 0 just before the first database round trip (arguments checked, table known),
//!   with what is about to happen ("reading rows from orders", "writing 20 records to orders in
//!   one atomic batch");
//! - after each round trip: reads and single-statement writes count round trips (total known
//!   unless related rows are embedded), multi-record writes count records (total = records
//!   given); a record-by-record write reports about every tenth of its records, not each one.
//!
//! Progress only ever increases; a total that turns out too small is dropped, not exceeded.

use std::cell::RefCell;

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};

use crate::db::{Database, DbError, QueryResult, Statement};
use crate::raw_records::RecordsText;
use crate::sql::Dialect;

/// Where a request's notifications go (its SSE response stream).
pub trait Notify {
    fn notify(&self, message: &Json);
}

/// The request's progress token: `_meta.progressToken`, when it is a string or an integer.
pub fn token(params: Option<&Map<String, Json>>) -> Option<Json> {
    let token = params?.get("_meta")?.get("progressToken")?;
    match token {
        Json::String(_) => Some(token.clone()),
        Json::Number(n) if n.is_i64() || n.is_u64() => Some(token.clone()),
        _ => None,
    }
}

/// One `notifications/progress` message (also for callers that report progress themselves).
pub fn notification(token: &Json, progress: u64, total: Option<u64>, message: &str) -> Json {
    let mut params = json!({ "progressToken": token, "progress": progress, "message": message });
    if let Some(total) = total {
        params["total"] = json!(total);
    }
    json!({ "jsonrpc": "2.0", "method": "notifications/progress", "params": params })
}

/// What one unit of progress is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    RoundTrips,
    Records,
}

/// How a tool call reports progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub unit: Unit,
    pub total: Option<u64>,
    /// Sent with progress 0, before the first round trip.
    pub start: String,
}

/// Progress for the long tools; `None` (no notifications) for the others and for single-record
/// writes, which are one quick round trip.
pub fn plan(tool: &str, args: &Json) -> Option<Plan> {
    let table = args.get("table").and_then(Json::as_str).map(short).unwrap_or_else(|| "the table".into());
    let count_of = |key: &str| -> usize {
        match args.get(key) {
            Some(Json::Array(items)) => items.len(),
            Some(Json::String(list)) => list.split(',').filter(|s| !s.trim().is_empty()).count(),
            Some(Json::Null) | None => 0,
            Some(_) => 1,
        }
    };
    let has_filter = args.get("filter").and_then(Json::as_str).is_some_and(|f| !f.trim().is_empty());
    let flag = |key: &str| args.get(key).and_then(Json::as_bool).unwrap_or(false);
    let round_trips = |total: Option<u64>, start: String| Some(Plan { unit: Unit::RoundTrips, total, start });
    match tool {
        "get_table_data" if flag("count_only") => round_trips(Some(1), format!("counting rows of {table}")),
        "get_table_data" => {
            // Embedded related rows take a round trip per relation and key chunk: unknown ahead.
            let total = (count_of("related") == 0).then(|| 1 + u64::from(flag("include_count")));
            round_trips(total, format!("reading rows from {table}"))
        }
        "aggregate_table_data" => round_trips(Some(1), format!("aggregating rows of {table}")),
        // Row counts of every table: one batch of COUNT(*), the slow part on big databases.
        "get_tables" if flag("include_counts") => round_trips(Some(1), "counting the rows of every table".into()),
        "get_data_model" if args.get("include_counts").and_then(Json::as_bool).unwrap_or(true) => {
            round_trips(Some(1), "counting the rows of every table".into())
        }
        "create_records" | "update_records" if count_of("records") >= 2 => {
            let n = count_of("records");
            let atomic = args.get("atomic").and_then(Json::as_bool).unwrap_or(true) || tool == "update_records";
            let verb = if tool == "create_records" { "writing" } else { "updating" };
            let how = if atomic { "in one atomic batch" } else { "one by one" };
            Some(Plan {
                unit: Unit::Records,
                total: Some(n as u64),
                start: format!("{verb} {n} records of {table} {how}"),
            })
        }
        "update_records" | "delete_records" if has_filter || count_of("ids") >= 2 => {
            let verb = if tool == "update_records" { "updating" } else { "deleting" };
            round_trips(Some(1), format!("{verb} the matching rows of {table}"))
        }
        _ => None,
    }
}

/// A name from the caller's arguments, kept short in messages.
fn short(name: &str) -> String {
    let mut s: String = name.chars().take(64).collect();
    if s.len() < name.len() {
        s.push('…');
    }
    s
}

#[derive(Default)]
struct State {
    started: bool,
    done: u64,
    /// Progress value of the last notification sent.
    sent: Option<u64>,
    /// False once `done` passed the planned total.
    total_holds: bool,
}

/// Reports one request's progress to its stream.
pub struct Progress<'a> {
    token: Json,
    plan: Plan,
    notify: &'a dyn Notify,
    state: RefCell<State>,
}

impl<'a> Progress<'a> {
    pub fn new(token: Json, plan: Plan, notify: &'a dyn Notify) -> Self {
        Progress { token, plan, notify, state: RefCell::new(State { total_holds: true, ..State::default() }) }
    }

    fn send(&self, progress: u64, message: &str) {
        let mut state = self.state.borrow_mut();
        if state.sent.is_some_and(|sent| progress <= sent) {
            return; // never repeat or go back
        }
        state.sent = Some(progress);
        let total = self.plan.total.filter(|_| state.total_holds);
        drop(state);
        self.notify.notify(&notification(&self.token, progress, total, message));
    }

    /// Before a round trip: the first one announces the plan at progress 0.
    fn before(&self) {
        let first = !std::mem::replace(&mut self.state.borrow_mut().started, true);
        if first {
            self.send(0, &self.plan.start);
        }
    }

    /// After a round trip that ran `statements` statements and returned `rows` rows.
    fn after(&self, statements: usize, rows: usize) {
        let units = match self.plan.unit {
            Unit::RoundTrips => 1,
            Unit::Records => statements as u64,
        };
        let (done, last) = {
            let mut state = self.state.borrow_mut();
            state.done += units;
            if self.plan.total.is_some_and(|t| state.done > t) {
                state.total_holds = false;
            }
            (state.done, state.sent.unwrap_or(0))
        };
        let total = self.plan.total.filter(|t| done <= *t);
        let message = match (self.plan.unit, total) {
            (Unit::RoundTrips, Some(t)) => format!("round trip {done} of {t} done ({rows} rows)"),
            (Unit::RoundTrips, None) => format!("round trip {done} done ({rows} rows)"),
            (Unit::Records, Some(t)) if statements > 1 => {
                format!("{done} of {t} records written (batch of {statements} committed)")
            }
            (Unit::Records, Some(t)) => format!("{done} of {t} records written"),
            (Unit::Records, None) => format!("{done} records written"),
        };
        // Record by record: about ten notifications however many records, plus the last.
        if self.plan.unit == Unit::Records && statements == 1 {
            let step = self.plan.total.map_or(1, |t| t.div_ceil(10)).max(1);
            if total != Some(done) && done - last < step {
                return;
            }
        }
        self.send(done, &message);
    }
}

/// The call's database, reporting each round trip to [`Progress`].
pub struct ProgressDb<'a> {
    pub inner: &'a dyn Database,
    pub progress: &'a Progress<'a>,
}

#[async_trait(?Send)]
impl Database for ProgressDb<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        self.progress.before();
        let result = self.inner.query(statement).await?;
        self.progress.after(1, result.rows.len());
        Ok(result)
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        self.progress.before();
        let results = self.inner.batch(statements).await?;
        self.progress.after(statements.len(), results.iter().map(|r| r.rows.len()).sum());
        Ok(results)
    }

    async fn query_records(&self, statement: &Statement, max_rows: usize) -> Result<RecordsText, DbError> {
        self.progress.before();
        let records = self.inner.query_records(statement, max_rows).await?;
        // As `query` counts: every row the engine returned, the one past the cap included.
        self.progress.after(1, records.rows + usize::from(records.more));
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Sink(RefCell<Vec<Json>>);
    impl Notify for Sink {
        fn notify(&self, message: &Json) {
            self.0.borrow_mut().push(message.clone());
        }
    }
    impl Sink {
        fn params(&self) -> Vec<Json> {
            self.0.borrow().iter().map(|m| m["params"].clone()).collect()
        }
    }

    #[test]
    fn the_token_must_be_a_string_or_an_integer() {
        let params = |meta: Json| json!({ "name": "x", "_meta": meta }).as_object().cloned();
        assert_eq!(token(params(json!({"progressToken": "t1"})).as_ref()), Some(json!("t1")));
        assert_eq!(token(params(json!({"progressToken": 7})).as_ref()), Some(json!(7)));
        assert_eq!(token(params(json!({"progressToken": 1.5})).as_ref()), None);
        assert_eq!(token(params(json!({"progressToken": null})).as_ref()), None);
        assert_eq!(token(params(json!({"progressToken": {"a": 1}})).as_ref()), None);
        assert_eq!(token(params(json!({})).as_ref()), None);
        assert_eq!(token(None), None);
    }

    #[test]
    fn only_long_calls_have_a_plan() {
        let p = plan("get_table_data", &json!({"table": "orders"})).unwrap();
        assert_eq!((p.unit, p.total, p.start.as_str()), (Unit::RoundTrips, Some(1), "reading rows from orders"));
        assert_eq!(plan("get_table_data", &json!({"table": "t", "include_count": true})).unwrap().total, Some(2));
        assert_eq!(plan("get_table_data", &json!({"table": "t", "related": "a,b"})).unwrap().total, None);
        assert_eq!(
            plan("get_table_data", &json!({"table": "t", "count_only": true})).unwrap().start,
            "counting rows of t"
        );
        assert_eq!(plan("aggregate_table_data", &json!({"table": "t"})).unwrap().total, Some(1));
        let create = plan("create_records", &json!({"table": "t", "records": [{}, {}, {}]})).unwrap();
        assert_eq!((create.unit, create.total), (Unit::Records, Some(3)));
        assert_eq!(create.start, "writing 3 records of t in one atomic batch");
        let loose = plan("create_records", &json!({"table": "t", "records": [{}, {}], "atomic": false})).unwrap();
        assert_eq!(loose.start, "writing 2 records of t one by one");
        assert!(plan("create_records", &json!({"table": "t", "records": [{}]})).is_none());
        assert!(plan("update_records", &json!({"table": "t", "patch": {"a": 1}, "ids": [1]})).is_none());
        assert_eq!(
            plan("update_records", &json!({"table": "t", "patch": {"a": 1}, "ids": "1,2"})).unwrap().total,
            Some(1)
        );
        assert!(plan("delete_records", &json!({"table": "t", "filter": "a > 1"})).is_some());
        assert!(plan("delete_records", &json!({"table": "t", "ids": [4]})).is_none());
        assert!(plan("get_tables", &json!({})).is_none());
        assert_eq!(plan("get_tables", &json!({"include_counts": true})).unwrap().total, Some(1));
        assert!(plan("get_data_model", &json!({})).is_some(), "counts by default");
        assert!(plan("get_data_model", &json!({"include_counts": false})).is_none());
        assert!(plan("get_table_data", &json!({"table": "x".repeat(100)})).unwrap().start.ends_with("x…"));
    }

    #[test]
    fn reads_report_before_and_after_each_round_trip() {
        let sink = Sink::default();
        let progress = Progress::new(
            json!("tok"),
            plan("get_table_data", &json!({"table": "orders", "include_count": true})).unwrap(),
            &sink,
        );
        progress.before();
        progress.after(1, 100);
        progress.before();
        progress.after(1, 1);
        let sent = sink.params();
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert_eq!(
            sent[0],
            json!({"progressToken": "tok", "progress": 0, "total": 2, "message": "reading rows from orders"})
        );
        assert_eq!(sent[1]["progress"], json!(1));
        assert_eq!(sent[1]["message"], json!("round trip 1 of 2 done (100 rows)"));
        assert_eq!(sent[2]["progress"], json!(2));
        assert_eq!(sink.0.borrow()[2]["method"], json!("notifications/progress"));
    }

    #[test]
    fn a_batch_counts_its_records_and_a_short_total_is_dropped() {
        let sink = Sink::default();
        let progress = Progress::new(json!(5), Plan { unit: Unit::Records, total: Some(3), start: "w".into() }, &sink);
        progress.before();
        progress.after(3, 3);
        progress.before();
        progress.after(2, 0);
        let sent = sink.params();
        assert_eq!(sent[1]["message"], json!("3 of 3 records written (batch of 3 committed)"));
        assert_eq!(sent[1]["total"], json!(3));
        assert_eq!(sent[2]["progress"], json!(5));
        assert!(sent[2].get("total").is_none(), "progress past the plan drops the total: {:?}", sent[2]);
    }

    #[test]
    fn record_by_record_writes_report_about_ten_times() {
        let sink = Sink::default();
        let progress =
            Progress::new(json!("t"), Plan { unit: Unit::Records, total: Some(100), start: "w".into() }, &sink);
        for _ in 0..100 {
            progress.before();
            progress.after(1, 1);
        }
        let values: Vec<u64> = sink.params().iter().map(|p| p["progress"].as_u64().unwrap()).collect();
        assert_eq!(values, vec![0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert!(values.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn failed_round_trips_report_nothing_after() {
        use crate::db::Unavailable;
        let sink = Sink::default();
        let progress = Progress::new(json!("t"), plan("aggregate_table_data", &json!({"table": "t"})).unwrap(), &sink);
        let down = Unavailable { dialect: Dialect::Sqlite, reason: "down".into() };
        let db = ProgressDb { inner: &down, progress: &progress };
        let result = futures_executor::block_on(db.query(&Statement::new("SELECT 1", vec![])));
        assert!(result.is_err());
        assert_eq!(sink.params().len(), 1, "only the start was announced");
        assert_eq!(sink.params()[0]["progress"], json!(0));
    }
}
