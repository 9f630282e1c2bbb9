//! How values meet columns on real SQLite (the engine D1 runs): integers and booleans for TEXT
//! columns, ISO-8601 dates for DATE/DATETIME/TIMESTAMP columns, and keys that name one column
//! twice. The D1-specific half (JavaScript numbers) is covered end to end in
//! tests/e2e/attacks-data-engine.test.mjs.

mod common;

use common::*;
use serde_json::json;

fn customer(extra: serde_json::Value) -> serde_json::Value {
    let mut record = json!({ "name": "Dup Test", "email": "dup@example.com", "created_at": "2024-06-01T12:00:00Z" });
    for (k, v) in extra.as_object().unwrap() {
        record[k] = v.clone();
    }
    record
}

#[test]
fn create_records_refuses_a_column_given_twice_in_different_case() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [customer(json!({ "NAME": "Other Name" }))] }),
    );
    assert_mentions(
        &err(&result),
        &["record 0", "column \"name\" is given more than once", "\"NAME\"", "Nothing was written"],
    );
    assert_eq!(fx.db.count("customers"), 500);

    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "atomic": false, "records": [customer(json!({ "Email": "x@example.com" }))] }),
    );
    let out = ok(&result);
    assert_eq!(out["created"], json!([]));
    assert!(out["failed"][0]["error"].as_str().unwrap().contains("\"email\" is given more than once"), "{out}");
    assert_eq!(fx.db.count("customers"), 500);
}

#[test]
fn update_records_refuses_a_column_given_twice_in_a_patch_or_a_record() {
    let fx = Fixture::new();
    let result =
        fx.call("update_records", json!({ "table": "customers", "ids": [1], "patch": { "notes": "a", "NOTES": "b" } }));
    assert_mentions(&err(&result), &["column \"notes\" is given more than once"]);
    let result = fx
        .call("update_records", json!({ "table": "customers", "records": [{ "id": 1, "ID": 2, "notes": "changed" }] }));
    assert_mentions(&err(&result), &["record 0", "column \"id\" is given more than once"]);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE notes = 'changed' OR notes IN ('a', 'b')"), 0);
}

#[test]
fn integers_and_booleans_for_text_columns_are_stored_as_their_text_and_found_by_filters() {
    let fx = Fixture::new();
    let result =
        fx.call("create_records", json!({ "table": "customers", "records": [customer(json!({ "notes": 42 }))] }));
    let created = &ok(&result)["created"][0];
    assert_eq!(created["notes"], json!("42"));
    let id = created["id"].as_i64().unwrap();
    let found = fx.call("get_table_data", json!({ "table": "customers", "filter": "notes = 42", "fields": "id" }));
    assert_eq!(column(records(&found), "id"), vec![json!(id)]);
    let result = fx.call("update_records", json!({ "table": "customers", "ids": [id], "patch": { "notes": true } }));
    assert_eq!(ok(&result)["records"][0]["notes"], json!("true"));
    assert_eq!(fx.db.scalar_i64(&format!("SELECT COUNT(*) FROM customers WHERE id = {id} AND notes = 'true'")), 1);
}

#[test]
fn iso_dates_are_accepted_in_date_columns_and_garbage_is_refused() {
    let fx = Fixture::new();
    fx.db.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, happened_at DATETIME NOT NULL, day DATE, stamp TIMESTAMP);",
    );
    let result = fx.call(
        "create_records",
        json!({ "table": "events", "records": [
            { "happened_at": "2024-05-01T13:45:00Z", "day": "2024-05-01", "stamp": "2024-05-01 13:45:00.250+02:00" },
            { "happened_at": 1714571100 }
        ] }),
    );
    let created = &ok(&result)["created"];
    assert_eq!(created[0]["happened_at"], json!("2024-05-01T13:45:00Z"));
    assert_eq!(created[0]["day"], json!("2024-05-01"));
    assert_eq!(created[1]["happened_at"], json!(1714571100));
    for bad in ["2024-02-30", "next tuesday", "2024-05-01T25:00"] {
        let result = fx.call("create_records", json!({ "table": "events", "records": [{ "happened_at": bad }] }));
        assert_mentions(
            &err(&result),
            &["column \"happened_at\" (DATETIME) expects an ISO 8601 date or date-time", bad],
        );
    }
    assert_eq!(fx.db.count("events"), 2);
}
