//! Row policy (`rows`), on real SQLite through the MCP methods: every read, count, aggregate,
//! related embedding, update and delete sees only the caller's rows; a written row outside the
//! policy is refused; a caller lacking an attribute gets nothing. Each attack is a test that fails
//! without the policy.

mod common;

use common::*;
use dbmcp::rows::Caller;
use serde_json::{json, Value as Json};

fn service(rows: Json) -> Json {
    json!({ "database": { "kind": "d1", "binding": "DB" }, "read_only": false, "rows": rows })
}

fn caller(attributes: Json) -> Caller {
    Caller { id: Some("k1".into()), name: Some("laptop".into()), attributes: obj(attributes) }
}

/// Orders limited to the caller's customer.
fn orders_fixture(customer_id: Json) -> Fixture {
    let mut fx = Fixture::configured(service(json!({ "orders": "customer_id = {user.customer_id}" })));
    fx.caller = caller(json!({ "customer_id": customer_id }));
    fx
}

fn ids(records: &[Json]) -> Vec<i64> {
    records.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

fn own_orders(fx: &Fixture, customer: i64) -> i64 {
    fx.db.scalar_i64(&format!("SELECT COUNT(*) FROM orders WHERE customer_id = {customer}"))
}

#[test]
fn reads_and_counts_see_only_the_callers_rows() {
    let fx = orders_fixture(json!(1));
    let expected = own_orders(&fx, 1);
    assert!(expected >= 2 && expected < fx.db.count("orders"), "the demo data has orders of others");
    let result = fx.call("get_table_data", json!({ "table": "orders", "include_count": true, "limit": 500 }));
    let rows = records(&result);
    assert_eq!(rows.len() as i64, expected);
    assert!(rows.iter().all(|r| r["customer_id"] == json!(1)), "{rows:?}");
    assert_eq!(ok(&result)["count"], json!(expected));
    let count_only = fx.call("get_table_data", json!({ "table": "orders", "count_only": true }));
    assert_eq!(ok(&count_only)["count"], json!(expected));
    // Row counts of get_tables too.
    let tables = ok(&fx.call("get_tables", json!({ "include_counts": true }))).clone();
    let orders = tables["tables"].as_array().unwrap().iter().find(|t| t["name"] == "orders").unwrap().clone();
    assert_eq!(orders["row_count"], json!(expected), "{orders}");
}

#[test]
fn caller_filters_and_ids_cannot_leave_the_policy() {
    let fx = orders_fixture(json!(1));
    let expected = own_orders(&fx, 1);
    // Order 2 belongs to customer 2.
    assert_eq!(fx.db.scalar_i64("SELECT customer_id FROM orders WHERE id = 2"), 2);
    for filter in [
        "customer_id = 2",
        "customer_id = 2 or customer_id <> 2",
        "status = 'pending' or customer_id = 2",
        "id = 2 or (id > 0)",
        "not (customer_id = 1)",
        "customer_id = 1 or 1 = 1",
    ] {
        let result = fx.call("get_table_data", json!({ "table": "orders", "filter": filter, "limit": 500 }));
        if result["isError"] == json!(true) {
            // `1 = 1` is no filter of this language: refused, never widened.
            assert!(filter.contains("1 = 1"), "{filter}: {}", error_text(&result));
            continue;
        }
        let rows = records(&result);
        assert!(rows.iter().all(|r| r["customer_id"] == json!(1)), "{filter}: {rows:?}");
        assert!(rows.len() as i64 <= expected, "{filter}");
    }
    let by_id = fx.call("get_table_data", json!({ "table": "orders", "ids": [1, 2, 3] }));
    assert_eq!(ids(records(&by_id)), vec![1, 3]);
}

#[test]
fn aggregates_group_only_the_callers_rows() {
    let fx = orders_fixture(json!(1));
    let result = fx.call(
        "aggregate_table_data",
        json!({ "table": "orders", "group_by": "customer_id", "aggregates": [{ "function": "count" }, { "function": "sum", "column": "total" }] }),
    );
    let groups = ok(&result)["rows"].as_array().unwrap_or_else(|| panic!("{result}")).clone();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["customer_id"], json!(1));
    assert_eq!(groups[0]["count"], json!(own_orders(&fx, 1)));
    let total: f64 =
        fx.db.scalar_i64("SELECT CAST(SUM(total) * 100 AS INTEGER) FROM orders WHERE customer_id = 1") as f64;
    assert!((groups[0]["sum_total"].as_f64().unwrap() * 100.0 - total).abs() < 2.0, "{groups:?}");
}

#[test]
fn related_rows_never_leak_in_either_direction() {
    // Child direction: customers (no policy) embedding their orders (policy).
    let fx = orders_fixture(json!(1));
    let result =
        fx.call("get_table_data", json!({ "table": "customers", "ids": [1, 2], "related": "orders_by_customer_id" }));
    let rows = records(&result);
    assert_eq!(rows.len(), 2);
    let of = |id: i64| {
        rows.iter().find(|r| r["id"] == json!(id)).unwrap()["orders_by_customer_id"].as_array().unwrap().clone()
    };
    assert_eq!(of(1).len() as i64, own_orders(&fx, 1));
    assert_eq!(of(2), Vec::<Json>::new(), "customer 2's orders leaked through related");
    // Parent direction: orders (no policy) embedding their customer (policy on customers).
    let mut fx = Fixture::configured(service(json!({ "customers": "id = {user.customer_id}" })));
    fx.caller = caller(json!({ "customer_id": 1 }));
    let result =
        fx.call("get_table_data", json!({ "table": "orders", "ids": [1, 2], "related": "customers_by_customer_id" }));
    let rows = records(&result);
    let customer_of = |id: i64| rows.iter().find(|r| r["id"] == json!(id)).unwrap()["customers_by_customer_id"].clone();
    assert_eq!(customer_of(1)["id"], json!(1));
    assert_eq!(customer_of(2), Json::Null, "customer 2 leaked through related");
}

#[test]
fn updates_and_deletes_touch_only_the_callers_rows() {
    let fx = orders_fixture(json!(1));
    let others_before = fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE customer_id <> 1 AND status = 'cancelled'");
    assert!(others_before > 0);
    // By filter: every cancelled order, but only the caller's change.
    let result = fx.call(
        "update_records",
        json!({ "table": "orders", "filter": "status = 'cancelled'", "patch": { "shipped_at": "x" } }),
    );
    ok(&result);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE shipped_at = 'x' AND customer_id <> 1"), 0);
    assert_eq!(
        fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE shipped_at = 'x'"),
        fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND customer_id = 1")
    );
    // By id: another customer's order is not found, and stays as it was.
    let total_2 = fx.db.scalar_i64("SELECT CAST(total * 100 AS INTEGER) FROM orders WHERE id = 2");
    let result = fx.call("update_records", json!({ "table": "orders", "ids": [2], "patch": { "total": 1 } }));
    let text = serde_json::to_string(&result).unwrap();
    assert!(result["isError"] == json!(true) || !text.contains("\"total\":1"), "{text}");
    assert_eq!(fx.db.scalar_i64("SELECT CAST(total * 100 AS INTEGER) FROM orders WHERE id = 2"), total_2);
    // Delete by id and by filter.
    let all_before = fx.db.count("orders");
    let others = all_before - own_orders(&fx, 1);
    let _ = fx.call("delete_records", json!({ "table": "orders", "ids": [2] }));
    assert_eq!(fx.db.count("orders"), all_before, "another customer's order was deleted by id");
    ok(&fx.call("delete_records", json!({ "table": "orders", "filter": "id = 3 or id = 2" })));
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE id = 2"), 1);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE id = 3"), 0);
    assert_eq!(fx.db.count("orders") - own_orders(&fx, 1), others, "other customers' rows untouched");
}

#[test]
fn guarded_writes_count_only_the_callers_rows() {
    // Over the confirmation threshold the preview counts rows; it must count the caller's only.
    let mut fx = Fixture::configured(json!({
        "database": { "kind": "d1", "binding": "DB" }, "read_only": false, "confirm_over_rows": 1,
        "rows": { "orders": "customer_id = {user.customer_id}" }
    }));
    fx.caller = caller(json!({ "customer_id": 1 }));
    let result =
        fx.call("update_records", json!({ "table": "orders", "filter": "id > 0", "patch": { "shipped_at": "y" } }));
    let text = serde_json::to_string(&result).unwrap();
    let own = own_orders(&fx, 1);
    assert!(text.contains(&format!("{own} rows")) || text.contains(&format!("{own} row")), "{text}");
    assert!(!text.contains(&format!("{} rows", fx.db.count("orders"))), "{text}");
    assert_eq!(
        fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE shipped_at = 'y'"),
        0,
        "nothing written before confirming"
    );
}

#[test]
fn writes_outside_the_policy_are_refused() {
    let fx = orders_fixture(json!(1));
    let before = fx.db.count("orders");
    let row =
        |customer: Json| json!({ "customer_id": customer, "status": "pending", "ordered_at": "2024-01-01T00:00:00Z" });
    let refused = err(&fx.call("create_records", json!({ "table": "orders", "records": [row(json!(2))] })));
    assert_mentions(&refused, &["row policy of table \"orders\"", "customer_id", "must be 1"]);
    let missing = err(&fx.call(
        "create_records",
        json!({ "table": "orders", "records": [{ "status": "pending", "ordered_at": "2024-01-01T00:00:00Z" }] }),
    ));
    assert_mentions(&missing, &["customer_id"]);
    assert_eq!(fx.db.count("orders"), before);
    ok(&fx.call("create_records", json!({ "table": "orders", "records": [row(json!(1))] })));
    assert_eq!(fx.db.count("orders"), before + 1);
    // An update may not move the caller's rows to another customer.
    let moved =
        err(&fx.call("update_records", json!({ "table": "orders", "ids": [1], "patch": { "customer_id": 2 } })));
    assert_mentions(&moved, &["must be 1"]);
    assert_eq!(fx.db.scalar_i64("SELECT customer_id FROM orders WHERE id = 1"), 1);
    ok(&fx.call(
        "update_records",
        json!({ "table": "orders", "ids": [1], "patch": { "customer_id": 1, "status": "paid" } }),
    ));
}

#[test]
fn a_policy_the_checker_cannot_decide_refuses_writes_but_allows_reads() {
    let mut fx =
        Fixture::configured(service(json!({ "orders": "customer_id = {user.customer_id} or status = 'paid'" })));
    fx.caller = caller(json!({ "customer_id": 1 }));
    let rows = records(&fx.call("get_table_data", json!({ "table": "orders", "limit": 500 }))).clone();
    assert!(rows.iter().all(|r| r["customer_id"] == json!(1) || r["status"] == json!("paid")));
    let refused = err(&fx.call(
        "create_records",
        json!({ "table": "orders", "records": [{ "customer_id": 1, "status": "paid", "ordered_at": "2024-01-01" }] }),
    ));
    assert_mentions(&refused, &["cannot be checked"]);
    let refused =
        err(&fx.call("update_records", json!({ "table": "orders", "ids": [1], "patch": { "status": "paid" } })));
    assert_mentions(&refused, &["column \"status\" cannot be written"]);
    // A column the policy does not name can be written (the rows are inside it already).
    ok(&fx.call("update_records", json!({ "table": "orders", "ids": [1], "patch": { "shipped_at": "z" } })));
}

#[test]
fn a_caller_without_the_attribute_gets_nothing() {
    let mut fx = Fixture::configured(service(json!({ "orders": "customer_id = {user.customer_id}" })));
    fx.caller = caller(json!({ "region": "eu" }));
    let before = fx.db.count("orders");
    for (tool, args) in [
        ("get_table_data", json!({ "table": "orders" })),
        ("get_table_data", json!({ "table": "orders", "count_only": true })),
        ("aggregate_table_data", json!({ "table": "orders", "aggregates": [{ "function": "count" }] })),
        ("get_table_data", json!({ "table": "customers", "ids": [1], "related": "orders_by_customer_id" })),
        (
            "create_records",
            json!({ "table": "orders", "records": [{ "customer_id": 1, "status": "paid", "ordered_at": "x" }] }),
        ),
        ("update_records", json!({ "table": "orders", "ids": [1], "patch": { "status": "paid" } })),
        ("delete_records", json!({ "table": "orders", "ids": [1] })),
    ] {
        let error = err(&fx.call(tool, args.clone()));
        assert_mentions(&error, &["needs {user.customer_id}", "no attribute \"customer_id\""]);
    }
    assert_eq!(fx.db.count("orders"), before);
    // Other tables still work; the row count of the denied table is left out.
    assert_eq!(records(&fx.call("get_table_data", json!({ "table": "customers", "ids": [1] }))).len(), 1);
    let tables = ok(&fx.call("get_tables", json!({ "include_counts": true }))).clone();
    let orders = tables["tables"].as_array().unwrap().iter().find(|t| t["name"] == "orders").unwrap().clone();
    assert!(orders.get("row_count").is_none_or(Json::is_null), "{orders}");
    // Anonymous (no identity at all) is denied the same way.
    fx.caller = Caller::default();
    assert_mentions(&err(&fx.call("get_table_data", json!({ "table": "orders" }))), &["no attribute"]);
}

#[test]
fn attribute_values_are_bound_never_spliced() {
    for hostile in
        [json!("1 OR 1=1"), json!("1' OR '1'='1"), json!("1; DROP TABLE orders; --"), json!("ü😀\u{202e}"), json!(true)]
    {
        let fx = orders_fixture(hostile.clone());
        let result = fx.call("get_table_data", json!({ "table": "orders", "limit": 500 }));
        assert_eq!(
            records(&result).len(),
            if hostile == json!(true) { own_orders(&fx, 1) as usize } else { 0 },
            "{hostile}"
        );
        assert!(fx.db.count("orders") > 0, "{hostile}");
    }
    // A text attribute equal to the id matches as the same value would in a filter.
    let fx = orders_fixture(json!("2"));
    assert!(records(&fx.call("get_table_data", json!({ "table": "orders", "limit": 500 })))
        .iter()
        .all(|r| r["customer_id"] == json!(2)));
}

#[test]
fn built_in_placeholders_and_views_over_policied_tables() {
    let mut fx = Fixture::configured(service(json!({ "customers": "name = {user.name}" })));
    fx.caller = Caller { id: Some("k1".into()), name: Some("Ada Lovelace".into()), attributes: Default::default() };
    let name = fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE name = 'Ada Lovelace'");
    let rows = records(&fx.call("get_table_data", json!({ "table": "customers" }))).clone();
    assert_eq!(rows.len() as i64, name);
    // The view order_summaries reads customers: it would show every customer's name, so it goes.
    let tables = serde_json::to_string(ok(&fx.call("get_tables", json!({})))).unwrap();
    assert!(!tables.contains("order_summaries"), "{tables}");
    assert!(err(&fx.call("get_table_data", json!({ "table": "order_summaries" }))).contains("unknown table"));
}

#[test]
fn configuration_mistakes_are_reported() {
    let mut fx = Fixture::configured(service(json!({ "orders": "customer_no = {user.customer_id}" })));
    fx.caller = caller(json!({ "customer_id": 1 }));
    assert_mentions(&err(&fx.call("get_table_data", json!({ "table": "customers" }))), &["row policy", "customer_no"]);
    let fx = Fixture::configured(json!({
        "database": { "kind": "d1", "binding": "DB" }, "columns": { "orders": { "masked": { "customer_id": "hash" } } },
        "rows": { "orders": "customer_id = {user.customer_id}" }
    }));
    assert_mentions(&err(&fx.call("get_tables", json!({}))), &["(masked)"]);
    let raw = json!({ "demo": { "database": { "kind": "d1", "binding": "DB" }, "auth": "none", "rows": { "orders": "customer_id = 1" } } });
    let errors = dbmcp::config::parse(dbmcp::config::RawConfig {
        services: Some(&raw),
        session_idle_seconds: None,
        allowed_origins: None,
        mask_secret: None,
    })
    .unwrap_err()
    .to_string();
    assert!(errors.contains("cannot be used with auth = \"none\""), "{errors}");
    // Routines read every row: none unless the configuration lists them.
    let service = service_config_from(service(json!({ "orders": "customer_id = {user.customer_id}" })));
    assert_eq!(service.routines, dbmcp::config::RoutinePolicy::None);
}

#[test]
fn an_insert_must_give_the_policy_column_its_value_even_when_optional() {
    // customers.country may be NULL: leaving it out would create a row no caller of this
    // country sees, so it is refused, and a Unicode value is bound and matched exactly.
    let mut fx = Fixture::configured(service(json!({ "customers": "country = {user.country}" })));
    fx.caller = caller(json!({ "country": "Ísland ✓" }));
    let before = fx.db.count("customers");
    let row = |email: &str| json!({ "name": "N", "email": email, "created_at": "2024-01-01" });
    let refused = err(&fx.call("create_records", json!({ "table": "customers", "records": [row("a@x.test")] })));
    assert_mentions(&refused, &["give column \"country\" the value 'Ísland ✓'"]);
    assert_eq!(fx.db.count("customers"), before);
    let mut good = row("b@x.test");
    good["country"] = json!("Ísland ✓");
    ok(&fx.call("create_records", json!({ "table": "customers", "records": [good] })));
    let rows = records(&fx.call("get_table_data", json!({ "table": "customers" }))).clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["email"], json!("b@x.test"));
}

#[test]
fn search_and_fetch_see_only_the_callers_rows() {
    let mut fx = Fixture::configured(service(json!({ "customers": "id = {user.customer_id}" })));
    fx.caller = caller(json!({ "customer_id": 3 }));
    let found = fx.call("search", json!({ "query": "example" }));
    let ids: Vec<String> =
        ok(&found)["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert!(ids.contains(&"customers:3".to_string()), "{ids:?}");
    assert!(!ids.iter().any(|id| id.starts_with("customers:") && id != "customers:3"), "{ids:?}");
    assert!(err(&fx.call("fetch", json!({ "id": "customers:1" }))).contains("no record"));
    assert!(ok(&fx.call("fetch", json!({ "id": "customers:3" })))["text"].as_str().unwrap().contains("Hans"));
}

#[cfg(feature = "query-sql")]
#[test]
fn query_sql_refuses_tables_with_a_row_policy_and_reads_the_others() {
    let mut config = service(json!({ "orders": "customer_id = {user.customer_id}" }));
    config["query_sql"] = json!(true);
    let mut fx = Fixture::configured(config);
    fx.caller = caller(json!({ "customer_id": 1 }));
    let refused = err(&fx.call("query_sql", json!({ "sql": "SELECT id, customer_id FROM orders" })));
    assert!(refused.contains("has a row policy, which query_sql does not apply"), "{refused}");
    let hidden =
        err(&fx.call("query_sql", json!({ "sql": "SELECT p.id FROM products p JOIN orders o ON o.id = p.id" })));
    assert!(hidden.contains("row policy"), "{hidden}");
    assert!(ok(&fx.call("query_sql", json!({ "sql": "SELECT id FROM products" })))["records"].as_array().is_some());
}
