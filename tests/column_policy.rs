//! Column policy (`columns`), on real SQLite through the MCP methods: a hidden column is unknown to
//! every tool, resource and completion (and its name never shows in an error), a masked column is
//! returned masked and refused where its values would show through, a read-only column is refused
//! in writes. Each attack is a test that fails without the policy.

mod common;

use common::*;
use serde_json::{json, Value as Json};

fn policy_service() -> Json {
    json!({
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "columns": {
            "customers": {
                "hidden": ["notes"],
                "masked": { "email": "email", "city": "partial" },
                "read_only": ["loyalty_points"]
            },
            "orders": { "masked": { "total": "hash" } }
        }
    })
}

fn fixture() -> Fixture {
    Fixture::configured(policy_service())
}

/// An "unknown column" refusal whose list of columns does not name the hidden one.
fn assert_unknown_without_notes(error: &str) {
    assert!(error.contains("unknown column"), "{error}");
    let listed = error.split("columns are:").nth(1).unwrap_or_else(|| panic!("no column list: {error}"));
    assert!(!listed.contains("notes"), "{error}");
}

fn assert_masked_refusal(error: &str, column: &str) {
    assert!(error.contains(&format!("column \"{column}\" of table")) && error.contains("is masked"), "{error}");
}

#[test]
fn a_hidden_column_is_never_listed_or_read() {
    let fx = fixture();
    let rows = fx.call("get_table_data", json!({ "table": "customers", "ids": [1, 3] }));
    for record in records(&rows) {
        assert!(record.get("notes").is_none(), "{record}");
        assert!(record.get("name").is_some(), "{record}");
    }
    let star = fx.call("get_table_data", json!({ "table": "customers", "ids": [1], "fields": "*" }));
    assert!(records(&star)[0].get("notes").is_none());
    for (tool, args) in [
        ("get_table_schema", json!({ "table": "customers" })),
        ("get_table_fields", json!({ "table": "customers" })),
        ("get_data_model", json!({})),
    ] {
        let text = serde_json::to_string(ok(&fx.call(tool, args))).unwrap();
        assert!(!text.contains("notes"), "{tool}: {text}");
    }
    let resource = handle(&fx.ctx(), "resources/read", json!({ "uri": "dbmcp://demo/tables/customers" })).unwrap();
    assert!(!resource["contents"][0]["text"].as_str().unwrap().contains("notes"));
    let completion = handle(
        &fx.ctx(),
        "completion/complete",
        json!({ "ref": { "type": "ref/prompt", "name": "query_table" }, "argument": { "name": "column", "value": "n" },
                "context": { "arguments": { "table": "customers" } } }),
    )
    .unwrap();
    assert_eq!(completion["completion"]["values"], json!(["name"]));
}

#[test]
fn a_hidden_column_is_refused_everywhere_in_any_spelling() {
    let fx = fixture();
    for name in ["notes", "NOTES", "Notes", "\"notes\"", "nоtes" /* Cyrillic о */] {
        for (tool, args) in [
            ("get_table_data", json!({ "table": "customers", "fields": [name] })),
            ("get_table_data", json!({ "table": "customers", "order": format!("{name} DESC") })),
            (
                "aggregate_table_data",
                json!({ "table": "customers", "group_by": name, "aggregates": [{ "function": "count" }] }),
            ),
            (
                "aggregate_table_data",
                json!({ "table": "customers", "aggregates": [{ "function": "max", "column": name }] }),
            ),
            (
                "create_records",
                json!({ "table": "customers", "records": [{ "name": "x", "email": "x@example.com", "created_at": "2026-01-01", name: "y" }] }),
            ),
            ("update_records", json!({ "table": "customers", "ids": [1], "patch": { name: "y" } })),
            ("update_records", json!({ "table": "customers", "records": [{ "id": 1, name: "y" }] })),
        ] {
            assert_unknown_without_notes(&err(&fx.call(tool, args.clone())));
        }
    }
    for filter in ["notes = 'x'", "NOTES IS NULL", "\"notes\" CONTAINS 'VIP'", "notes LIKE '%'"] {
        let error = err(&fx.call("get_table_data", json!({ "table": "customers", "filter": filter })));
        assert_unknown_without_notes(&error);
        let error =
            err(&fx.call("get_table_data", json!({ "table": "customers", "filter": filter, "count_only": true })));
        assert_unknown_without_notes(&error);
    }
    // Related rows never carry it either.
    let orders =
        fx.call("get_table_data", json!({ "table": "orders", "ids": [1], "related": "customers_by_customer_id" }));
    let customer = &records(&orders)[0]["customers_by_customer_id"];
    assert!(customer.is_object() && customer.get("notes").is_none(), "{customer}");
}

#[test]
fn a_database_error_never_names_a_hidden_column() {
    // `email` is NOT NULL without a default: hidden, an insert fails in the database itself.
    let fx = Fixture::configured(json!({
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "columns": { "customers": { "hidden": ["email"] } }
    }));
    let error = err(&fx.call(
        "create_records",
        json!({ "table": "customers", "records": [{ "name": "x", "created_at": "2026-01-01" }] }),
    ));
    assert!(error.contains("NOT NULL") && error.contains("[hidden]"), "{error}");
    assert!(!error.to_lowercase().contains("email"), "{error}");
}

#[test]
fn masked_columns_come_back_masked_from_every_tool() {
    let fx = fixture();
    let rows = fx.call("get_table_data", json!({ "table": "customers", "ids": [1] }));
    let record = &records(&rows)[0];
    assert_eq!(record["email"], "z***@example.com");
    assert_eq!(record["city"], "***ź", "Łódź: a quarter of 4 characters");
    assert_eq!(record["name"], "Zoë O'Brien", "other columns untouched");
    // Related rows are masked with their own table's policy.
    let orders =
        fx.call("get_table_data", json!({ "table": "orders", "ids": [1], "related": "customers_by_customer_id" }));
    let order = &records(&orders)[0];
    assert!(order["total"].as_str().unwrap().starts_with("hmac:"), "{order}");
    assert!(order["customers_by_customer_id"]["email"].as_str().unwrap().contains("***@"), "{order}");
    let customers =
        fx.call("get_table_data", json!({ "table": "customers", "ids": [1], "related": "orders_by_customer_id" }));
    for order in records(&customers)[0]["orders_by_customer_id"].as_array().unwrap() {
        assert!(order["total"].as_str().unwrap().starts_with("hmac:"), "{order}");
    }
    // Writes answer the written rows masked.
    let created = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [{ "name": "Mallory", "email": "mallory@example.com", "city": "Bergen", "created_at": "2026-01-01" }] }),
    );
    let created = &ok(&created)["created"][0];
    assert_eq!(created["email"], "m***@example.com");
    assert_eq!(created["city"], "***n");
    let updated =
        fx.call("update_records", json!({ "table": "customers", "ids": [2], "patch": { "country": "Chile" } }));
    assert_eq!(ok(&updated)["records"][0]["email"], "j***@example.com");
}

#[test]
fn a_masked_column_cannot_be_filtered_ordered_grouped_or_aggregated() {
    let fx = fixture();
    for (tool, args) in [
        ("get_table_data", json!({ "table": "customers", "filter": "email = 'zoe.obrien@example.com'" })),
        ("get_table_data", json!({ "table": "customers", "filter": "EMAIL STARTS WITH 'z'", "count_only": true })),
        ("get_table_data", json!({ "table": "customers", "order": "email" })),
        (
            "aggregate_table_data",
            json!({ "table": "customers", "group_by": "Email", "aggregates": [{ "function": "count" }] }),
        ),
        (
            "aggregate_table_data",
            json!({ "table": "customers", "aggregates": [{ "function": "min", "column": "email" }] }),
        ),
        (
            "aggregate_table_data",
            json!({ "table": "customers", "aggregates": [{ "function": "count_distinct", "column": "email" }] }),
        ),
        (
            "update_records",
            json!({ "table": "customers", "filter": "email LIKE 'z%'", "patch": { "country": "Chile" } }),
        ),
        ("delete_records", json!({ "table": "customers", "filter": "email = 'x'" })),
    ] {
        assert_masked_refusal(&err(&fx.call(tool, args.clone())), "email");
    }
    assert_masked_refusal(
        &err(&fx.call(
            "aggregate_table_data",
            json!({ "table": "orders", "aggregates": [{ "function": "sum", "column": "total" }] }),
        )),
        "total",
    );
}

#[test]
fn rows_cannot_be_chosen_by_a_masked_primary_key() {
    let mut service = policy_service();
    service["columns"]["categories"] = json!({ "masked": { "id": "hash" } });
    let fx = Fixture::configured(service);
    for (tool, args) in [
        ("get_table_data", json!({ "table": "categories", "ids": [1] })),
        ("update_records", json!({ "table": "categories", "ids": [1], "patch": { "name": "x" } })),
        ("delete_records", json!({ "table": "categories", "ids": [1] })),
    ] {
        assert_masked_refusal(&err(&fx.call(tool, args.clone())), "id");
    }
}

#[test]
fn a_confirmation_preview_is_masked() {
    let mut service = policy_service();
    service["confirm_writes"] = json!(true);
    let fx = Fixture::configured(service);
    let result =
        fx.call("update_records", json!({ "table": "customers", "ids": [1], "patch": { "country": "Chile" } }));
    let out = ok(&result);
    assert_eq!(out["confirmation_required"], true, "{out}");
    assert_eq!(out["preview"][0]["email"], "z***@example.com", "{out}");
    assert!(!serde_json::to_string(&result).unwrap().contains("zoe.obrien"));
}

#[test]
fn a_read_only_column_is_refused_in_writes_and_still_read() {
    let fx = fixture();
    let record = json!({ "name": "x", "email": "x@example.com", "created_at": "2026-01-01", "loyalty_points": 5 });
    for (tool, args) in [
        ("create_records", json!({ "table": "customers", "records": [record] })),
        ("create_records", json!({ "table": "customers", "atomic": false, "records": [record] })),
        ("update_records", json!({ "table": "customers", "ids": [1], "patch": { "LOYALTY_POINTS": 1 } })),
        ("update_records", json!({ "table": "customers", "records": [{ "id": 1, "loyalty_points": 1 }] })),
    ] {
        let result = fx.call(tool, args.clone());
        let text = if result["isError"] == true {
            err(&result)
        } else {
            // Non-atomic creates report each record they could not write.
            serde_json::to_string(&ok(&result)["failed"]).unwrap().replace("\\\"", "\"")
        };
        assert!(
            text.contains("column \"loyalty_points\" of table \"customers\" is read-only"),
            "{tool} {args}: {text}"
        );
    }
    assert_eq!(fx.db.scalar_i64("SELECT count(*) FROM customers WHERE email = 'x@example.com'"), 0);
    assert_eq!(fx.db.scalar_i64("SELECT loyalty_points FROM customers WHERE id = 1"), 1200);
    let rows = fx.call("get_table_data", json!({ "table": "customers", "ids": [1], "fields": "loyalty_points" }));
    assert_eq!(records(&rows)[0]["loyalty_points"], 1200);
    // Other columns of the same table stay writable, and a record leaving it out is created.
    let updated =
        fx.call("update_records", json!({ "table": "customers", "ids": [1], "patch": { "country": "Chile" } }));
    assert_eq!(ok(&updated)["updated"], 1);
    let created = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [{ "name": "y", "email": "y@example.com", "created_at": "2026-01-01" }] }),
    );
    assert_eq!(ok(&created)["created"][0]["loyalty_points"], 0);
}

#[test]
fn a_required_read_only_column_says_why_records_cannot_be_created() {
    let fx = Fixture::configured(json!({
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "columns": { "customers": { "read_only": ["created_at"] } }
    }));
    let error = err(&fx.call(
        "create_records",
        json!({ "table": "customers", "records": [{ "name": "x", "email": "x@example.com" }] }),
    ));
    assert!(error.contains("missing required column(s): created_at"), "{error}");
    assert!(error.contains("read-only"), "{error}");
}

#[test]
fn a_policy_naming_what_the_database_lacks_stops_every_tool_with_a_clear_error() {
    let fx = Fixture::configured(json!({
        "database": { "kind": "d1", "binding": "DB" },
        "hidden_tables": ["big_numbers"],
        "columns": {
            "customers": { "hidden": ["pasword_hash"] },
            "custmers": { "masked": { "email": "email" } },
            "big_numbers": { "hidden": ["anything"] }
        }
    }));
    let error = err(&fx.call("get_table_data", json!({ "table": "customers" })));
    assert!(error.contains("column \"pasword_hash\" of table \"customers\""), "{error}");
    assert!(error.contains("table \"custmers\""), "{error}");
    assert!(!error.contains("big_numbers"), "a table hidden whole is not named: {error}");
    assert!(error.contains("no tool runs"), "{error}");
}

#[test]
fn routines_default_to_none_when_columns_are_hidden_or_masked() {
    let config = service_config_from(policy_service());
    assert_eq!(config.routines, dbmcp::config::RoutinePolicy::None);
    let read_only_only = service_config_from(json!({
        "database": { "kind": "d1", "binding": "DB" },
        "columns": { "customers": { "read_only": ["created_at"] } }
    }));
    assert_eq!(read_only_only.routines, dbmcp::config::RoutinePolicy::All);
}
