//! Attacks on the data side (issue 7, items 12, 14, 15 and 18) on real SQLite, through
//! `tools/call`: repeated related names, the per-call query budget, views over hidden tables,
//! hidden names in errors, and aggregate ordering by quoted columns.

mod common;

use std::cell::Cell;

use async_trait::async_trait;
use common::*;
use dbmcp::db::{Database, DbError, QueryResult, Statement};
use dbmcp::sql::Dialect;
use dbmcp::tools::ToolContext;
use serde_json::{json, Value as Json};

/// The fixture's SQLite, counting every round trip that reaches it.
struct Counting<'a> {
    inner: &'a Sqlite,
    round_trips: Cell<u64>,
}

#[async_trait(?Send)]
impl Database for Counting<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    async fn query(&self, statement: &Statement) -> Result<QueryResult, DbError> {
        self.round_trips.set(self.round_trips.get() + 1);
        self.inner.query(statement).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>, DbError> {
        self.round_trips.set(self.round_trips.get() + 1);
        self.inner.batch(statements).await
    }
}

/// Calls a tool on the fixture's database and says how many round trips reached the engine.
fn call_counting(fx: &Fixture, name: &str, args: Json) -> (Json, u64) {
    let counting = Counting { inner: &fx.db, round_trips: Cell::new(0) };
    let ctx = ToolContext { db: &counting, ..fx.ctx_with_write(true) };
    let result = call_tool(&ctx, name, args);
    (result, counting.round_trips.get())
}

fn table_names(fx: &Fixture) -> Vec<String> {
    let result = fx.call("get_tables", json!({}));
    ok(&result)["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Item 12: related names, query budget
// ---------------------------------------------------------------------------------------------

#[test]
fn a_related_name_repeated_ten_thousand_times_is_embedded_once_with_a_few_queries() {
    let fx = Fixture::read_only();
    let mut names: Vec<String> = vec!["customers_by_customer_id".into(); 5_000];
    names.extend(vec!["CUSTOMERS_BY_CUSTOMER_ID".to_string(); 5_000]);
    let (result, round_trips) =
        call_counting(&fx, "get_table_data", json!({ "table": "orders", "ids": [1, 2], "related": names }));
    let rows = records(&result);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["customers_by_customer_id"]["name"], "Zoë O'Brien");
    assert_eq!(rows[1]["customers_by_customer_id"]["id"], 2);
    // Schema, rows, one related lookup.
    assert!(round_trips <= 3, "{round_trips} round trips");
}

#[test]
fn more_than_ten_distinct_related_names_are_refused_before_any_related_query() {
    let fx = Fixture::read_only();
    let names: Vec<String> = (0..11).map(|i| format!("relation_{i}")).collect();
    let (result, round_trips) = call_counting(&fx, "get_table_data", json!({ "table": "orders", "related": names }));
    assert_mentions(&err(&result), &["related lists more than 10 distinct relationships; embed at most 10 per call"]);
    assert!(round_trips <= 1, "only the schema was read: {round_trips}");
}

#[test]
fn a_call_beyond_the_query_budget_gets_a_clear_error_and_the_engine_sees_no_more() {
    let mut fx = Fixture::read_only();
    fx.service.max_queries_per_call = 3;
    let args = json!({
        "table": "orders", "limit": 5, "include_count": true,
        "related": ["customers_by_customer_id", "order_items_by_order_id"]
    });
    let (result, round_trips) = call_counting(&fx, "get_table_data", args.clone());
    assert_mentions(
        &err(&result),
        &["query budget exhausted", "at most 3 database queries", "max_queries_per_call", "fewer related names"],
    );
    assert_eq!(round_trips, 4, "the schema load and the budget's queries ran, nothing after them");
    // The same call fits the default budget, and the budget is per call, not per session.
    fx.service.max_queries_per_call = 50;
    let (result, round_trips) = call_counting(&fx, "get_table_data", args);
    assert_eq!(records(&result).len(), 5);
    assert!(round_trips <= 5, "{round_trips}");
}

#[test]
fn ordinary_calls_fit_the_default_budget() {
    let fx = Fixture::read_only();
    for (tool, args) in [
        ("get_data_model", json!({})),
        ("get_tables", json!({ "include_counts": true })),
        (
            "get_table_data",
            json!({ "table": "products", "limit": 100, "include_count": true,
                    "related": ["categories_by_product_categories", "product_categories_by_product_id"] }),
        ),
    ] {
        let (result, round_trips) = call_counting(&fx, tool, args);
        ok(&result);
        assert!(round_trips <= 10, "{tool}: {round_trips}");
    }
}

// ---------------------------------------------------------------------------------------------
// Item 14: views over hidden tables
// ---------------------------------------------------------------------------------------------

fn hiding_customers() -> Fixture {
    let mut fx = Fixture::read_only();
    fx.db.execute_batch(
        "CREATE VIEW customer_names AS SELECT customer_name FROM order_summaries;
         CREATE VIEW literal_read AS SELECT * FROM 'customers';
         CREATE VIEW [bracket read] AS SELECT name FROM [Customers];
         CREATE VIEW order_statuses AS SELECT id, status FROM orders -- customers in a comment only
         ;",
    );
    fx.service.hidden_tables = vec!["customers".into()];
    fx
}

#[test]
fn views_that_read_a_hidden_table_are_hidden_transitively() {
    let fx = hiding_customers();
    let names = table_names(&fx);
    for hidden in ["customers", "order_summaries", "customer_names", "literal_read", "bracket read"] {
        assert!(!names.iter().any(|n| n == hidden), "{hidden} listed: {names:?}");
    }
    assert!(names.iter().any(|n| n == "order_statuses"), "a view that does not read customers stays: {names:?}");
    assert!(names.iter().any(|n| n == "orders"), "{names:?}");
    // A hidden name is answered exactly as a name that never existed: no oracle.
    let never = err(&fx.call("get_table_data", json!({ "table": "never_existed" })));
    assert_mentions(&never, &["unknown table \"never_existed\"; tables are: "]);
    assert!(!never.contains("order_summaries") && !never.contains("customer"), "{never}");
    for view in ["customers", "order_summaries", "customer_names", "literal_read", "bracket read"] {
        let message = err(&fx.call("get_table_data", json!({ "table": view })));
        assert_eq!(message.replace(&format!("{view:?}"), "\"never_existed\""), never);
        let message =
            err(&fx.call("aggregate_table_data", json!({ "table": view, "aggregates": [{"function": "count"}] })));
        assert_mentions(&message, &["unknown table"]);
    }
    let model = fx.call("get_data_model", json!({}));
    let text = ok(&model).to_string();
    assert!(!text.contains("order_summaries") && !text.contains("customer_names"), "{text}");
    let resources = handle(&fx.ctx(), "resources/list", json!({})).unwrap().to_string();
    assert!(!resources.contains("order_summaries"), "{resources}");
}

#[test]
fn full_text_indexes_over_a_hidden_table_are_hidden_with_their_shadow_tables() {
    let mut fx = Fixture::read_only();
    fx.db.execute_batch(
        "CREATE VIRTUAL TABLE people_search USING fts5(name, email, content='customers', content_rowid='id');
         INSERT INTO people_search(people_search) VALUES ('rebuild');
         CREATE VIRTUAL TABLE notes_search USING fts5(body);",
    );
    let before = table_names(&fx);
    assert!(before.iter().any(|n| n == "people_search_data"), "shadow tables are tables: {before:?}");
    fx.service.hidden_tables = vec!["main.customers".into()];
    fx.cache.forget(SERVICE);
    let names = table_names(&fx);
    assert!(!names.iter().any(|n| n.starts_with("people_search") || n == "customers"), "{names:?}");
    assert!(names.iter().any(|n| n == "notes_search"), "an index of other data stays: {names:?}");
    assert!(names.iter().any(|n| n == "notes_search_data"), "{names:?}");
}

#[test]
fn without_hidden_tables_every_view_stays() {
    let fx = Fixture::read_only();
    assert!(table_names(&fx).iter().any(|n| n == "order_summaries"));
}

// ---------------------------------------------------------------------------------------------
// Item 15: hidden names in errors
// ---------------------------------------------------------------------------------------------

#[test]
fn database_errors_do_not_name_hidden_tables_or_the_views_hidden_with_them() {
    let mut fx = hiding_customers();
    fx.service.read_only = false;
    // A trigger whose error names both, as an engine's own message would.
    fx.db.execute_batch(
        "CREATE TRIGGER orders_guard BEFORE UPDATE ON orders BEGIN \
           SELECT RAISE(ABORT, 'blocked by \"customers\" (see customers_email_key, main.customers, order_summaries)'); \
         END;",
    );
    let message =
        err(&fx.call("update_records", json!({ "table": "orders", "patch": { "status": "paid" }, "ids": [1] })));
    assert!(!message.to_lowercase().contains("customers"), "{message}");
    assert!(!message.contains("order_summaries"), "{message}");
    assert_mentions(&message, &["blocked by [hidden] (see [hidden], [hidden], [hidden])"]);
}

#[test]
fn errors_keep_visible_names() {
    let mut fx = Fixture::new();
    fx.db.execute_batch(
        "CREATE TRIGGER orders_guard BEFORE UPDATE ON orders BEGIN SELECT RAISE(ABORT, 'customers rule'); END;",
    );
    fx.service.hidden_tables = vec![];
    let message =
        err(&fx.call("update_records", json!({ "table": "orders", "patch": { "status": "paid" }, "ids": [1] })));
    assert_mentions(&message, &["customers rule"]);
}

// ---------------------------------------------------------------------------------------------
// Item 18: aggregate order by quoted columns
// ---------------------------------------------------------------------------------------------

fn with_spaced_columns() -> Fixture {
    let fx = Fixture::read_only();
    fx.db.execute_batch(
        "CREATE TABLE spaced (id INTEGER PRIMARY KEY, \"sp ace\" INTEGER, \"a,b\" TEXT);
         INSERT INTO spaced VALUES (1, 10, 'x'), (2, 20, 'y'), (3, 30, 'y'), (4, 5, 'z');",
    );
    fx
}

#[test]
fn aggregate_orders_by_quoted_columns_and_names_their_aggregates_plainly() {
    let fx = with_spaced_columns();
    let result = fx.call(
        "aggregate_table_data",
        json!({ "table": "spaced", "aggregates": [{"function": "sum", "column": "sp ace"}],
                "group_by": ["a,b"], "order": "sum_sp_ace DESC, \"a,b\" ASC" }),
    );
    assert_eq!(
        ok(&result)["rows"],
        json!([{ "a,b": "y", "sum_sp_ace": 50 }, { "a,b": "x", "sum_sp_ace": 10 }, { "a,b": "z", "sum_sp_ace": 5 }])
    );
    let result = fx.call(
        "aggregate_table_data",
        json!({ "table": "spaced", "aggregates": [{"function": "count"}], "group_by": ["sp ace"],
                "order": "\"sp ace\" DESC", "limit": 2 }),
    );
    assert_eq!(ok(&result)["rows"], json!([{ "sp ace": 30, "count": 1 }, { "sp ace": 20, "count": 1 }]));
}

#[test]
fn aggregate_order_errors_match_get_table_data() {
    let fx = with_spaced_columns();
    let args = |order: &str| json!({ "table": "spaced", "aggregates": [{"function": "count"}], "group_by": ["sp ace"], "order": order });
    assert_mentions(&err(&fx.call("aggregate_table_data", args("\"sp ace DESC"))), &["unclosed quote"]);
    assert_mentions(&err(&fx.call("aggregate_table_data", args("\"sp ace\" SIDEWAYS"))), &["ASC or DESC"]);
    assert_mentions(&err(&fx.call("aggregate_table_data", args("id"))), &["cannot order by \"id\""]);
}

#[test]
fn a_non_atomic_create_beyond_the_budget_reports_each_record_it_could_not_write() {
    let mut fx = Fixture::new();
    fx.service.max_queries_per_call = 10;
    let before = fx.db.count("categories");
    let records: Vec<Json> = (0..15).map(|i| json!({ "name": format!("Budget {i}") })).collect();
    let (result, round_trips) =
        call_counting(&fx, "create_records", json!({ "table": "categories", "records": records, "atomic": false }));
    let out = ok(&result);
    // The schema is read before the budget starts; ten insert, the other five are refused, each
    // said so.
    assert_eq!(out["created"].as_array().unwrap().len(), 10);
    let failed = out["failed"].as_array().unwrap();
    assert_eq!(failed.iter().map(|f| f["index"].as_u64().unwrap()).collect::<Vec<_>>(), (10..15).collect::<Vec<_>>());
    for failure in failed {
        assert_mentions(failure["error"].as_str().unwrap(), &["query budget exhausted", "max_queries_per_call"]);
    }
    assert_eq!(fx.db.count("categories"), before + 10, "exactly the reported records were written");
    assert_eq!(round_trips, 11, "the schema load and the ten the budget allows");
}

// ---------------------------------------------------------------------------------------------
// Review: the budget counts the caller's queries, not the server's schema lookup
// ---------------------------------------------------------------------------------------------

/// With a cold schema cache (a fresh isolate) the schema load used to spend the budget: a call
/// that fits when the cache is warm failed on the first call of every isolate.
#[test]
fn a_call_costs_the_same_budget_with_a_cold_or_a_warm_schema_cache() {
    let mut fx = Fixture::read_only();
    fx.service.max_queries_per_call = 1;
    let args = json!({ "table": "products", "ids": [1] });
    let (cold, round_trips) = call_counting(&fx, "get_table_data", args.clone());
    assert_eq!(records(&cold).len(), 1, "{cold}");
    assert_eq!(round_trips, 2, "the schema load and the one query");
    let (warm, round_trips) = call_counting(&fx, "get_table_data", args);
    assert_eq!(records(&warm).len(), 1, "{warm}");
    assert_eq!(round_trips, 1);
}
