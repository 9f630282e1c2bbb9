//! Every MCP tool against the demo store (migrations/*.sql) on real SQLite, called through
//! `tools/call`. Expected values come from the fixed rows documented at the top of
//! migrations/0002_store_data.sql and from the documented row counts.

mod common;

use common::*;
use serde_json::{json, Value as Json};

const TABLES: [&str; 7] =
    ["big_numbers", "categories", "customers", "order_items", "orders", "product_categories", "products"];

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

fn get_data(fx: &Fixture, args: Json) -> Json {
    fx.call("get_table_data", args)
}

/// Rows of `table` matching `filter`, counted by the tool (count_only).
fn count_where(fx: &Fixture, table: &str, filter: &str) -> u64 {
    let result = get_data(fx, json!({ "table": table, "filter": filter, "count_only": true }));
    ok(&result)["count"].as_u64().unwrap_or_else(|| panic!("no count for {filter:?}: {result}"))
}

/// Ids of the rows of `table` matching `filter`, in id order.
fn ids_where(fx: &Fixture, table: &str, filter: &str) -> Vec<i64> {
    let result = get_data(fx, json!({ "table": table, "filter": filter, "fields": "id", "order": "id" }));
    records(&result).iter().map(|r| r["id"].as_i64().expect("integer id")).collect()
}

/// A write over the service's confirmation limit: the first call must change nothing and announce
/// exactly `count` rows; the second, with the token, performs it.
fn confirmed(fx: &Fixture, tool: &str, args: Json, count: u64) -> Json {
    let first = fx.call(tool, args.clone());
    let asked = ok(&first);
    assert_eq!(asked["confirmation_required"], true, "{asked}");
    assert_eq!(asked["count"], count, "{asked}");
    let mut args = args;
    args["confirm"] = asked["confirmation_token"].clone();
    fx.call(tool, args)
}

fn sorted_i64(values: &[Json], key: &str) -> Vec<i64> {
    let mut out: Vec<i64> = values.iter().map(|v| v[key].as_i64().expect("integer")).collect();
    out.sort();
    out
}

fn keys(record: &Json) -> Vec<String> {
    record.as_object().expect("record object").keys().cloned().collect()
}

fn table_entry<'a>(tables: &'a Json, name: &str) -> &'a Json {
    tables
        .as_array()
        .expect("tables array")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {tables}"))
}

fn relationship<'a>(result: &'a Json, name: &str) -> &'a Json {
    result["relationships"]
        .as_array()
        .expect("relationships array")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no relationship {name} in {}", result["relationships"]))
}

fn relationship_names(result: &Json) -> Vec<String> {
    result["relationships"]
        .as_array()
        .expect("relationships array")
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn field<'a>(fields: &'a Json, name: &str) -> &'a Json {
    fields
        .as_array()
        .expect("fields array")
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields}"))
}

fn customer_record(name: &str, email: &str) -> Json {
    json!({ "name": name, "email": email, "created_at": "2024-06-01T12:00:00Z" })
}

// ---------------------------------------------------------------------------------------------
// get_tables
// ---------------------------------------------------------------------------------------------

#[test]
fn get_tables_lists_the_seven_tables_and_the_view_in_name_order() {
    let fx = Fixture::new();
    let result = fx.call("get_tables", json!({}));
    let tables = &ok(&result)["tables"];
    let names: Vec<&str> = tables.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "big_numbers",
            "categories",
            "customers",
            "order_items",
            "order_summaries",
            "orders",
            "product_categories",
            "products"
        ]
    );
    for name in TABLES {
        assert_eq!(table_entry(tables, name)["type"], "table", "{name}");
    }
    assert_eq!(table_entry(tables, "order_summaries")["type"], "view");
}

#[test]
fn get_tables_reports_primary_keys_and_column_counts() {
    let fx = Fixture::new();
    let result = fx.call("get_tables", json!({}));
    let tables = &ok(&result)["tables"];
    let expected = [
        ("big_numbers", json!(["id"]), 3),
        ("categories", json!(["id"]), 4),
        ("customers", json!(["id"]), 8),
        ("order_items", json!(["id"]), 5),
        ("order_summaries", json!([]), 5),
        ("orders", json!(["id"]), 6),
        ("product_categories", json!(["product_id", "category_id"]), 2),
        ("products", json!(["id"]), 7),
    ];
    for (name, pk, columns) in expected {
        let entry = table_entry(tables, name);
        assert_eq!(entry["primary_key"], pk, "{name}");
        assert_eq!(entry["columns"], json!(columns), "{name}");
    }
}

#[test]
fn get_tables_without_include_counts_gives_no_row_counts() {
    let fx = Fixture::new();
    let result = fx.call("get_tables", json!({}));
    for table in ok(&result)["tables"].as_array().unwrap() {
        assert!(table.get("row_count").is_none(), "{table}");
    }
}

#[test]
fn get_tables_with_include_counts_gives_the_documented_row_counts() {
    let fx = Fixture::new();
    let result = fx.call("get_tables", json!({ "include_counts": true }));
    let tables = &ok(&result)["tables"];
    let expected = [
        ("big_numbers", 4),
        ("categories", 12),
        ("customers", 500),
        ("order_items", 10540),
        ("order_summaries", 3000),
        ("orders", 3000),
        ("product_categories", 600),
        ("products", 200),
    ];
    for (name, count) in expected {
        assert_eq!(table_entry(tables, name)["row_count"], json!(count), "{name}");
    }
}

#[test]
fn get_tables_rejects_unknown_arguments() {
    let fx = Fixture::new();
    let message = err(&fx.call("get_tables", json!({ "include_rows": true })));
    assert_mentions(&message, &["invalid arguments", "include_rows"]);
}

#[test]
fn hidden_tables_are_left_out_of_get_tables_and_cannot_be_read() {
    let mut fx = Fixture::new();
    fx.service.hidden_tables = vec!["big_numbers".into()];
    let result = fx.call("get_tables", json!({}));
    let names: Vec<&str> =
        ok(&result)["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"big_numbers"), "{names:?}");
    assert_eq!(names.len(), 7);
    let message = err(&get_data(&fx, json!({ "table": "big_numbers" })));
    assert_mentions(&message, &["unknown table \"big_numbers\""]);
}

// ---------------------------------------------------------------------------------------------
// get_table_schema, get_table_fields, get_table_relationships
// ---------------------------------------------------------------------------------------------

#[test]
fn get_table_schema_describes_customers_columns() {
    let fx = Fixture::new();
    let result = fx.call("get_table_schema", json!({ "table": "customers" }));
    let schema = ok(&result);
    assert_eq!(schema["name"], "customers");
    assert_eq!(schema["type"], "table");
    assert!(schema.get("kind").is_none(), "kind is renamed to type: {schema}");
    assert_eq!(schema["primary_key"], json!(["id"]));
    let names: Vec<&str> = schema["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["id", "name", "email", "city", "country", "created_at", "loyalty_points", "notes"]);
    let columns = &schema["columns"];
    assert_eq!(field(columns, "id")["type"], "INTEGER");
    assert_eq!(field(columns, "id")["nullable"], false);
    assert_eq!(field(columns, "id")["auto_increment"], true);
    assert_eq!(field(columns, "id")["primary_key"], 1);
    assert_eq!(field(columns, "email")["type"], "TEXT");
    assert_eq!(field(columns, "email")["nullable"], false);
    assert_eq!(field(columns, "city")["nullable"], true);
    assert_eq!(field(columns, "loyalty_points")["default"], "0");
    assert_eq!(field(columns, "notes")["default"], Json::Null);
}

#[test]
fn get_table_schema_lists_customers_indexes() {
    let fx = Fixture::new();
    let result = fx.call("get_table_schema", json!({ "table": "customers" }));
    let indexes = ok(&result)["indexes"].as_array().unwrap().clone();
    let country = indexes.iter().find(|i| i["name"] == "idx_customers_country").expect("country index");
    assert_eq!(country["columns"], json!(["country"]));
    assert_eq!(country["unique"], false);
    let unique_email = indexes.iter().find(|i| i["columns"] == json!(["email"])).expect("email index");
    assert_eq!(unique_email["unique"], true);
}

#[test]
fn get_table_schema_shows_orders_foreign_key_and_relationships() {
    let fx = Fixture::new();
    let result = fx.call("get_table_schema", json!({ "table": "orders" }));
    let schema = ok(&result);
    assert_eq!(
        schema["foreign_keys"],
        json!([{ "name": null, "columns": ["customer_id"], "ref_table": "customers", "ref_columns": ["id"],
                 "on_update": null, "on_delete": null }])
    );
    assert_eq!(relationship_names(schema), ["customers_by_customer_id", "order_items_by_order_id"]);
    assert_eq!(relationship(schema, "customers_by_customer_id")["kind"], "belongs_to");
    assert_eq!(relationship(schema, "order_items_by_order_id")["kind"], "has_many");
}

#[test]
fn get_table_schema_reports_on_delete_cascade() {
    let fx = Fixture::new();
    let result = fx.call("get_table_schema", json!({ "table": "order_items" }));
    let fks = ok(&result)["foreign_keys"].as_array().unwrap().clone();
    let to_orders = fks.iter().find(|fk| fk["ref_table"] == "orders").expect("fk to orders");
    assert_eq!(to_orders["columns"], json!(["order_id"]));
    assert_eq!(to_orders["on_delete"], "CASCADE");
    let to_products = fks.iter().find(|fk| fk["ref_table"] == "products").expect("fk to products");
    assert_eq!(to_products["on_delete"], Json::Null);
}

#[test]
fn get_table_schema_describes_the_view_without_primary_key() {
    let fx = Fixture::new();
    let result = fx.call("get_table_schema", json!({ "table": "order_summaries" }));
    let schema = ok(&result);
    assert_eq!(schema["type"], "view");
    assert_eq!(schema["primary_key"], json!([]));
    let names: Vec<&str> = schema["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["order_id", "customer_name", "status", "item_count", "total"]);
    assert_eq!(schema["foreign_keys"], json!([]));
}

#[test]
fn get_table_schema_finds_tables_case_insensitively() {
    let fx = Fixture::new();
    let result = fx.call("get_table_schema", json!({ "table": "CUSTOMERS" }));
    assert_eq!(ok(&result)["name"], "customers");
}

#[test]
fn get_table_schema_of_an_unknown_table_lists_the_tables() {
    let fx = Fixture::new();
    let message = err(&fx.call("get_table_schema", json!({ "table": "clients" })));
    assert_mentions(&message, &["unknown table \"clients\""]);
    assert_mentions(&message, &TABLES);
    assert_mentions(&message, &["order_summaries"]);
}

#[test]
fn get_table_schema_requires_the_table_argument() {
    let fx = Fixture::new();
    let message = err(&fx.call("get_table_schema", json!({})));
    assert_mentions(&message, &["invalid arguments", "table"]);
}

#[test]
fn get_table_fields_lists_orders_fields_compactly() {
    let fx = Fixture::new();
    let result = fx.call("get_table_fields", json!({ "table": "orders" }));
    let out = ok(&result);
    assert_eq!(out["table"], "orders");
    let fields = &out["fields"];
    let names: Vec<&str> = fields.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["id", "customer_id", "status", "ordered_at", "shipped_at", "total"]);
    assert_eq!(field(fields, "total")["type"], "REAL");
    assert_eq!(field(fields, "total")["default"], "0");
    assert_eq!(field(fields, "shipped_at")["nullable"], true);
    assert_eq!(field(fields, "customer_id")["nullable"], false);
    assert_eq!(field(fields, "id")["auto_increment"], true);
    assert_eq!(field(fields, "status")["auto_increment"], false);
}

#[test]
fn get_table_fields_of_product_categories_has_a_two_column_key_without_auto_increment() {
    let fx = Fixture::new();
    let result = fx.call("get_table_fields", json!({ "table": "product_categories" }));
    let fields = &ok(&result)["fields"];
    assert_eq!(field(fields, "product_id")["primary_key"], 1);
    assert_eq!(field(fields, "category_id")["primary_key"], 2);
    assert_eq!(field(fields, "product_id")["auto_increment"], false);
    assert_eq!(field(fields, "category_id")["auto_increment"], false);
}

#[test]
fn get_table_fields_of_an_unknown_table_lists_the_tables() {
    let fx = Fixture::new();
    let message = err(&fx.call("get_table_fields", json!({ "table": "nope" })));
    assert_mentions(&message, &["unknown table \"nope\""]);
    assert_mentions(&message, &TABLES);
}

#[test]
fn get_table_relationships_of_customers_is_has_many_orders() {
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "customers" }));
    let out = ok(&result);
    assert_eq!(out["table"], "customers");
    assert_eq!(
        out["relationships"],
        json!([{ "name": "orders_by_customer_id", "kind": "has_many", "columns": ["id"],
                 "ref_table": "orders", "ref_columns": ["customer_id"] }])
    );
}

#[test]
fn get_table_relationships_of_orders_is_belongs_to_customers_and_has_many_items() {
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "orders" }));
    let out = ok(&result);
    assert_eq!(
        relationship(out, "customers_by_customer_id"),
        &json!({ "name": "customers_by_customer_id", "kind": "belongs_to", "columns": ["customer_id"],
                 "ref_table": "customers", "ref_columns": ["id"] })
    );
    assert_eq!(
        relationship(out, "order_items_by_order_id"),
        &json!({ "name": "order_items_by_order_id", "kind": "has_many", "columns": ["id"],
                 "ref_table": "order_items", "ref_columns": ["order_id"] })
    );
}

#[test]
fn get_table_relationships_of_the_junction_belongs_to_both_sides() {
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "product_categories" }));
    let out = ok(&result);
    let mut names = relationship_names(out);
    names.sort();
    assert_eq!(names, ["categories_by_category_id", "products_by_product_id"]);
    assert_eq!(relationship(out, "categories_by_category_id")["kind"], "belongs_to");
    assert_eq!(relationship(out, "products_by_product_id")["kind"], "belongs_to");
    assert_eq!(relationship(out, "products_by_product_id")["columns"], json!(["product_id"]));
}

#[test]
fn get_table_relationships_of_products_goes_through_the_junction_to_categories() {
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "products" }));
    let out = ok(&result);
    assert_eq!(
        relationship_names(out),
        ["order_items_by_product_id", "product_categories_by_product_id", "categories_by_product_categories"]
    );
    assert_eq!(
        relationship(out, "categories_by_product_categories"),
        &json!({ "name": "categories_by_product_categories", "kind": "many_many", "columns": ["id"],
                 "ref_table": "categories", "ref_columns": ["id"],
                 "junction": { "table": "product_categories", "this_column": "product_id", "ref_column": "category_id" } })
    );
}

#[test]
fn get_table_relationships_of_categories_reaches_products_through_the_junction() {
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "categories" }));
    let out = ok(&result);
    let many = relationship(out, "products_by_product_categories");
    assert_eq!(many["kind"], "many_many");
    assert_eq!(many["junction"]["this_column"], "category_id");
    assert_eq!(many["junction"]["ref_column"], "product_id");
}

#[test]
fn relationship_names_of_the_self_referencing_categories_table_are_unique() {
    // categories.parent_id references categories: the parent (belongs_to) and the children
    // (has_many) are two relationships, and `related` picks by name, so the names must differ.
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "categories" }));
    let names = relationship_names(ok(&result));
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicate relationship names: {names:?}");
}

#[test]
fn get_table_relationships_of_a_view_is_empty() {
    let fx = Fixture::new();
    let result = fx.call("get_table_relationships", json!({ "table": "order_summaries" }));
    assert_eq!(ok(&result)["relationships"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// get_table_data: fields, values, order
// ---------------------------------------------------------------------------------------------

#[test]
fn get_table_data_returns_every_column_of_a_fixed_customer() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "customers", "ids": [1] }));
    assert_eq!(
        records(&result),
        &vec![json!({ "id": 1, "name": "Zoë O'Brien", "email": "zoe.obrien@example.com", "city": "Łódź",
                      "country": "Poland", "created_at": "2023-01-05T09:15:00Z", "loyalty_points": 1200,
                      "notes": "VIP since 2023, prefers email contact" })]
    );
    assert_eq!(
        keys(&records(&result)[0]),
        ["id", "name", "email", "city", "country", "created_at", "loyalty_points", "notes"]
    );
}

#[test]
fn get_table_data_returns_only_the_requested_fields_in_the_requested_order() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "customers", "ids": [2], "fields": ["email", "id"] }));
    let rows = records(&result);
    assert_eq!(rows, &vec![json!({ "email": "jose.alvarez@example.com", "id": 2 })]);
    assert_eq!(keys(&rows[0]), ["email", "id"]);
}

#[test]
fn get_table_data_accepts_fields_as_a_comma_separated_string() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "products", "ids": [5], "fields": "sku, price , discontinued" }));
    assert_eq!(records(&result), &vec![json!({ "sku": "SKU-0005", "price": 19.99, "discontinued": 1 })]);
}

#[test]
fn get_table_data_with_an_unknown_field_names_it_and_lists_the_columns() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "customers", "fields": "id, phone" })));
    assert_mentions(&message, &["unknown column \"phone\"", "customers", "loyalty_points"]);
}

#[test]
fn get_table_data_keeps_nulls_and_reals() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "orders", "ids": [2] }));
    assert_eq!(
        records(&result),
        &vec![json!({ "id": 2, "customer_id": 2, "status": "pending", "ordered_at": "2023-02-10T08:05:00Z",
                      "shipped_at": null, "total": 199.0 })]
    );
}

#[test]
fn get_table_data_orders_by_several_columns() {
    let fx = Fixture::new();
    let result =
        get_data(&fx, json!({ "table": "orders", "order": "total DESC, id ASC", "limit": 3, "fields": "id,total" }));
    assert_eq!(
        records(&result),
        &vec![
            json!({"id": 481, "total": 24157.76}),
            json!({"id": 1811, "total": 23229.84}),
            json!({"id": 138, "total": 22472.87})
        ]
    );
}

#[test]
fn get_table_data_orders_by_primary_key_by_default() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "categories", "fields": "id" }));
    let ids: Vec<Json> = column(records(&result), "id");
    assert_eq!(ids, (1..=12).map(|i| json!(i)).collect::<Vec<_>>());
}

#[test]
fn get_table_data_with_an_unknown_order_column_names_it() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "order": "amount DESC" })));
    assert_mentions(&message, &["unknown column \"amount\"", "orders"]);
}

#[test]
fn get_table_data_with_a_bad_order_direction_names_it() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "order": "total DOWN" })));
    assert_mentions(&message, &["DOWN", "ASC or DESC"]);
}

#[test]
fn get_table_data_of_an_unknown_table_lists_the_tables() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "order" })));
    assert_mentions(&message, &["unknown table \"order\"", "tables are:"]);
    assert_mentions(&message, &TABLES);
}

#[test]
fn get_table_data_rejects_unknown_arguments() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "where": "id = 1" })));
    assert_mentions(&message, &["invalid arguments", "where"]);
}

#[test]
fn get_table_data_reads_the_view() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "order_summaries", "filter": "order_id = 1" }));
    assert_eq!(
        records(&result),
        &vec![
            json!({ "order_id": 1, "customer_name": "Zoë O'Brien", "status": "delivered", "item_count": 2, "total": 139.48 })
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// get_table_data: filters
// ---------------------------------------------------------------------------------------------

#[test]
fn filter_equals() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "status = 'pending'"), 135);
    assert_eq!(count_where(&fx, "orders", "customer_id = 1"), 11);
}

#[test]
fn filter_not_equals() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "status != 'pending'"), 2865);
    assert_eq!(count_where(&fx, "orders", "status <> 'pending'"), 2865);
}

#[test]
fn filter_greater_than_and_greater_or_equal() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "total > 1000"), 1238);
    assert_eq!(count_where(&fx, "orders", "total >= 199"), 2475);
}

#[test]
fn filter_less_than_and_less_or_equal_differ_at_the_boundary() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "total < 19.99"), 65);
    assert_eq!(count_where(&fx, "orders", "total <= 19.99"), 69);
}

#[test]
fn filter_in_and_not_in() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "status IN ('paid', 'shipped')"), 387);
    assert_eq!(count_where(&fx, "orders", "status NOT IN ('paid', 'shipped')"), 2613);
    assert_eq!(ids_where(&fx, "customers", "id IN (5, 3, 1)"), [1, 3, 5]);
}

#[test]
fn filter_like_and_not_like() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "customers", "name LIKE 'J%'"), 53);
    assert_eq!(count_where(&fx, "customers", "name NOT LIKE 'J%'"), 447);
    assert_eq!(ids_where(&fx, "products", "sku LIKE 'SKU-000_'"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn filter_contains_starts_with_and_ends_with() {
    let fx = Fixture::new();
    assert_eq!(ids_where(&fx, "products", "name CONTAINS 'Mouse'"), [1]);
    assert_eq!(ids_where(&fx, "products", "name STARTS WITH 'Wireless'"), [1]);
    assert_eq!(ids_where(&fx, "customers", "email ENDS WITH '.jp'"), [4]);
    assert_eq!(count_where(&fx, "customers", "name CONTAINS 'O''Brien'"), 8);
}

#[test]
fn filter_contains_treats_wildcards_literally() {
    let fx = Fixture::new();
    // No product name contains a literal percent sign or underscore.
    assert_eq!(count_where(&fx, "products", "name CONTAINS '%'"), 0);
    assert_eq!(count_where(&fx, "products", "name CONTAINS '_'"), 0);
}

#[test]
fn filter_is_null_and_is_not_null() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "customers", "city IS NULL"), 37);
    assert_eq!(count_where(&fx, "customers", "notes IS NOT NULL"), 115);
    assert_eq!(count_where(&fx, "orders", "shipped_at IS NULL"), 773);
}

#[test]
fn filter_comparing_with_null_points_to_is_null() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "filter": "shipped_at = null" })));
    assert_mentions(&message, &["filter error at position 13", "IS NULL"]);
}

#[test]
fn filter_between() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "total BETWEEN 100 AND 200"), 219);
    assert_eq!(count_where(&fx, "orders", "total NOT BETWEEN 100 AND 200"), 3000 - 219);
}

#[test]
fn filter_and_binds_tighter_than_or_and_parentheses_regroup() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "status = 'paid' OR status = 'shipped' AND total > 500"), 317);
    assert_eq!(count_where(&fx, "orders", "(status = 'paid' OR status = 'shipped') AND total > 500"), 246);
}

#[test]
fn filter_not() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "orders", "NOT (status = 'pending')"), 2865);
    assert_eq!(count_where(&fx, "orders", "NOT status = 'pending' AND customer_id = 1"), 11);
}

#[test]
fn filter_on_booleans() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "products", "discontinued = true"), 11);
    assert_eq!(count_where(&fx, "products", "discontinued = 1"), 11);
}

#[test]
fn filter_matches_non_ascii_text_and_doubled_quotes() {
    let fx = Fixture::new();
    // Customer 1 and one generated customer share the name.
    let result = get_data(&fx, json!({ "table": "customers", "filter": "name = 'Zoë O''Brien'", "order": "id" }));
    let rows = records(&result);
    assert_eq!(column(rows, "id"), [json!(1), json!(467)]);
    assert_eq!(rows[0]["city"], "Łódź");
    assert_eq!(ids_where(&fx, "customers", "name = '山田 太郎'"), [4]);
    assert_eq!(
        ids_where(&fx, "customers", "city = 'München'"),
        ids_where(&fx, "customers", "city STARTS WITH 'Münch'")
    );
    assert_eq!(ids_where(&fx, "customers", "notes = 'Asked about \"bulk\" discounts'"), [3]);
}

#[test]
fn filter_with_a_value_that_looks_like_sql_is_just_a_value() {
    let fx = Fixture::new();
    assert_eq!(count_where(&fx, "customers", "name = 'x'' OR 1=1 --'"), 0);
    assert_eq!(fx.db.count("customers"), 500);
}

#[test]
fn filter_with_an_unknown_column_names_the_column() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "filter": "amount > 10" })));
    assert_mentions(&message, &["unknown column \"amount\"", "orders", "customer_id"]);
}

#[test]
fn filter_that_does_not_parse_names_the_position() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "filter": "status = 'paid' AND" })));
    assert_mentions(&message, &["filter error at position 19", "end of input"]);
}

#[test]
fn filter_with_an_unclosed_parenthesis_names_where_it_opened() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "filter": "(status = 'paid'" })));
    assert_mentions(&message, &["position", "')'"]);
}

#[test]
fn filter_with_a_missing_operator_names_the_column() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "filter": "status 'paid'" })));
    assert_mentions(&message, &["filter error at position 7", "after column \"status\""]);
}

// ---------------------------------------------------------------------------------------------
// get_table_data: paging, cap, ids, counts
// ---------------------------------------------------------------------------------------------

#[test]
fn get_table_data_pages_with_limit_and_offset() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "orders", "fields": "id", "limit": 10, "offset": 20 }));
    let out = ok(&result);
    assert_eq!(column(records(&result), "id"), (21..=30).map(|i| json!(i)).collect::<Vec<_>>());
    assert_eq!(out["returned"], 10);
    assert_eq!(out["offset"], 20);
    assert_eq!(out["limit"], 10);
    assert_eq!(out["truncated"], false);
    assert_eq!(out["next_offset"], 30);
}

#[test]
fn get_table_data_last_page_has_no_next_offset() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "orders", "fields": "id", "limit": 10, "offset": 2995 }));
    let out = ok(&result);
    assert_eq!(column(records(&result), "id"), (2996..=3000).map(|i| json!(i)).collect::<Vec<_>>());
    assert_eq!(out["returned"], 5);
    assert_eq!(out["truncated"], false);
    assert!(out.get("next_offset").is_none(), "{out}");
}

#[test]
fn get_table_data_exactly_filling_the_page_has_no_next_offset() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "categories", "limit": 12 }));
    let out = ok(&result);
    assert_eq!(out["returned"], 12);
    assert!(out.get("next_offset").is_none(), "{out}");
}

#[test]
fn get_table_data_without_limit_is_capped_and_says_truncated() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "order_items" }));
    let out = ok(&result);
    assert_eq!(records(&result).len(), 100);
    assert_eq!(out["returned"], 100);
    assert_eq!(out["limit"], 100);
    assert_eq!(out["truncated"], true);
    assert_eq!(out["next_offset"], 100);
    assert_eq!(records(&result)[99]["id"], 100);
}

#[test]
fn get_table_data_with_a_limit_above_the_cap_is_capped_and_says_truncated() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "order_items", "limit": 500, "fields": "id" }));
    let out = ok(&result);
    assert_eq!(out["returned"], 100);
    assert_eq!(out["limit"], 100);
    assert_eq!(out["truncated"], true);
    assert_eq!(out["next_offset"], 100);
}

#[test]
fn get_table_data_with_a_small_limit_is_not_truncated_but_gives_next_offset() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "order_items", "limit": 5 }));
    let out = ok(&result);
    assert_eq!(out["returned"], 5);
    assert_eq!(out["truncated"], false);
    assert_eq!(out["next_offset"], 5);
    assert_eq!(
        records(&result)[0],
        json!({ "id": 1, "order_id": 1, "product_id": 1, "quantity": 2, "unit_price": 24.99 })
    );
}

#[test]
fn get_table_data_refuses_limit_zero() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "limit": 0 })));
    assert_mentions(&message, &["limit must be at least 1"]);
}

#[test]
fn get_table_data_refuses_a_negative_offset() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "offset": -1 })));
    assert_mentions(&message, &["invalid arguments"]);
}

#[test]
fn get_table_data_by_ids_array_string_and_single_integer() {
    let fx = Fixture::new();
    let by_array = get_data(&fx, json!({ "table": "orders", "ids": [3, 1], "fields": "id,total" }));
    assert_eq!(records(&by_array), &vec![json!({"id": 1, "total": 139.48}), json!({"id": 3, "total": 124.84})]);
    let by_string = get_data(&fx, json!({ "table": "orders", "ids": "1, 3", "fields": "id" }));
    assert_eq!(column(records(&by_string), "id"), [json!(1), json!(3)]);
    let by_integer = get_data(&fx, json!({ "table": "orders", "ids": 2, "fields": "id,status" }));
    assert_eq!(records(&by_integer), &vec![json!({"id": 2, "status": "pending"})]);
}

#[test]
fn get_table_data_by_ids_combines_with_a_filter() {
    let fx = Fixture::new();
    let result =
        get_data(&fx, json!({ "table": "orders", "ids": [1, 2, 3], "filter": "status = 'pending'", "fields": "id" }));
    assert_eq!(column(records(&result), "id"), [json!(2)]);
}

#[test]
fn get_table_data_by_composite_ids() {
    let fx = Fixture::new();
    let result = get_data(
        &fx,
        json!({ "table": "product_categories",
        "ids": [{ "product_id": 1, "category_id": 2 }, { "product_id": 3, "category_id": 4 }] }),
    );
    assert_eq!(
        records(&result),
        &vec![json!({"product_id": 1, "category_id": 2}), json!({"product_id": 3, "category_id": 4})]
    );
}

#[test]
fn get_table_data_by_composite_ids_given_as_scalars_explains_the_key() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "product_categories", "ids": [1] })));
    assert_mentions(&message, &["composite primary key", "product_id", "category_id"]);
}

#[test]
fn get_table_data_by_ids_on_a_view_says_it_has_no_primary_key() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "order_summaries", "ids": [1] })));
    assert_mentions(&message, &["\"order_summaries\" has no primary key", "filter"]);
}

#[test]
fn get_table_data_refuses_empty_ids() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "ids": [] })));
    assert_mentions(&message, &["ids is empty"]);
}

#[test]
fn get_table_data_include_count_counts_every_match_not_just_the_page() {
    let fx = Fixture::new();
    let result = get_data(
        &fx,
        json!({ "table": "orders", "filter": "customer_id = 1", "limit": 3, "include_count": true, "fields": "id" }),
    );
    let out = ok(&result);
    assert_eq!(out["count"], 11);
    assert_eq!(out["returned"], 3);
    assert_eq!(column(records(&result), "id"), [json!(1), json!(3), json!(45)]);
}

#[test]
fn get_table_data_count_only_returns_just_the_count() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "orders", "count_only": true }));
    assert_eq!(ok(&result), &json!({ "table": "orders", "count": 3000 }));
    let items = get_data(&fx, json!({ "table": "order_items", "count_only": true }));
    assert_eq!(ok(&items)["count"], 10540);
}

// ---------------------------------------------------------------------------------------------
// get_table_data: related rows
// ---------------------------------------------------------------------------------------------

#[test]
fn related_belongs_to_embeds_the_customer_of_each_order() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "orders", "ids": [1, 2], "related": "customers_by_customer_id" }));
    let rows = records(&result);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["customers_by_customer_id"]["id"], 1);
    assert_eq!(rows[0]["customers_by_customer_id"]["name"], "Zoë O'Brien");
    assert_eq!(rows[1]["customers_by_customer_id"]["name"], "José Álvarez");
    assert_eq!(rows[1]["customers_by_customer_id"]["city"], "São Paulo");
}

#[test]
fn related_belongs_to_works_when_the_key_column_is_not_among_the_fields() {
    let fx = Fixture::new();
    let result = get_data(
        &fx,
        json!({ "table": "orders", "ids": [3], "fields": "id,total",
                                        "related": ["customers_by_customer_id"] }),
    );
    let rows = records(&result);
    assert_eq!(keys(&rows[0]), ["id", "total", "customers_by_customer_id"]);
    assert_eq!(rows[0]["customers_by_customer_id"]["email"], "zoe.obrien@example.com");
}

#[test]
fn related_has_many_embeds_the_orders_of_a_customer() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "customers", "ids": [1], "related": "orders_by_customer_id" }));
    let orders = records(&result)[0]["orders_by_customer_id"].as_array().expect("orders array").clone();
    assert_eq!(sorted_i64(&orders, "id"), [1, 3, 45, 95, 256, 398, 480, 742, 1353, 2570, 2597]);
    assert!(orders.iter().all(|o| o["customer_id"] == 1));
}

#[test]
fn related_has_many_works_when_the_key_column_is_not_among_the_fields() {
    let fx = Fixture::new();
    let result = get_data(
        &fx,
        json!({ "table": "customers", "ids": [2], "fields": "name", "related": "orders_by_customer_id" }),
    );
    let row = &records(&result)[0];
    assert_eq!(keys(row), ["name", "orders_by_customer_id"]);
    assert!(!row["orders_by_customer_id"].as_array().unwrap().is_empty());
    assert!(row["orders_by_customer_id"].as_array().unwrap().iter().all(|o| o["customer_id"] == 2));
}

#[test]
fn related_on_a_page_of_many_records_matches_each_record() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "order_items", "limit": 50, "related": "orders_by_order_id" }));
    for item in records(&result) {
        assert_eq!(item["orders_by_order_id"]["id"], item["order_id"], "{item}");
    }
}

#[test]
fn related_has_many_gives_an_empty_list_for_a_customer_without_orders() {
    let fx = Fixture::new();
    let created = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [customer_record("New", "new@example.com")] }),
    );
    let id = ok(&created)["created"][0]["id"].clone();
    let result = get_data(&fx, json!({ "table": "customers", "ids": [id], "related": "orders_by_customer_id" }));
    assert_eq!(records(&result)[0]["orders_by_customer_id"], json!([]));
}

#[test]
fn related_has_many_embeds_the_items_of_each_order() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "orders", "ids": [1, 2, 3], "related": "order_items_by_order_id" }));
    let rows = records(&result);
    let items = |i: usize| sorted_i64(rows[i]["order_items_by_order_id"].as_array().unwrap(), "id");
    assert_eq!(items(0), [1, 2]);
    assert_eq!(items(1), [3]);
    assert_eq!(items(2), [4, 5]);
}

#[test]
fn related_many_many_embeds_the_categories_of_a_product() {
    let fx = Fixture::new();
    let result =
        get_data(&fx, json!({ "table": "products", "ids": [1, 4], "related": "categories_by_product_categories" }));
    let rows = records(&result);
    let names = |i: usize| {
        let mut n: Vec<String> = rows[i]["categories_by_product_categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(0), ["Computers", "Electronics"]);
    assert_eq!(names(1), ["Kid's Toys", "Toys & Games"]);
}

#[test]
fn related_can_embed_several_relationships_at_once() {
    let fx = Fixture::new();
    let result = get_data(
        &fx,
        json!({ "table": "orders", "ids": [2],
        "related": "customers_by_customer_id, order_items_by_order_id" }),
    );
    let row = &records(&result)[0];
    assert_eq!(row["customers_by_customer_id"]["id"], 2);
    assert_eq!(sorted_i64(row["order_items_by_order_id"].as_array().unwrap(), "id"), [3]);
}

#[test]
fn related_with_an_unknown_name_lists_the_relationships() {
    let fx = Fixture::new();
    let message = err(&get_data(&fx, json!({ "table": "orders", "related": "customer" })));
    assert_mentions(
        &message,
        &["unknown relationship \"customer\"", "customers_by_customer_id", "order_items_by_order_id"],
    );
}

// ---------------------------------------------------------------------------------------------
// get_table_data: big integers
// ---------------------------------------------------------------------------------------------

#[test]
fn big_integers_come_back_as_exact_strings_and_small_ones_as_numbers() {
    let fx = Fixture::new();
    let result = get_data(&fx, json!({ "table": "big_numbers", "fields": "id,value" }));
    assert_eq!(
        records(&result),
        &vec![
            json!({"id": 1, "value": "9007199254740993"}),
            json!({"id": 2, "value": "-9007199254740993"}),
            json!({"id": 3, "value": "9223372036854775807"}),
            json!({"id": 4, "value": 42}),
        ]
    );
}

#[test]
fn big_integers_filter_and_sort_numerically() {
    let fx = Fixture::new();
    assert_eq!(ids_where(&fx, "big_numbers", "value = 9007199254740993"), [1]);
    assert_eq!(ids_where(&fx, "big_numbers", "value > 9007199254740992"), [1, 3]);
    let result = get_data(&fx, json!({ "table": "big_numbers", "order": "value DESC", "fields": "id" }));
    assert_eq!(column(records(&result), "id"), [json!(3), json!(1), json!(4), json!(2)]);
}

// ---------------------------------------------------------------------------------------------
// create_records
// ---------------------------------------------------------------------------------------------

#[test]
fn create_records_returns_the_created_row_with_its_id_and_defaults() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [customer_record("Test Person", "test@example.com")] }),
    );
    let out = ok(&result);
    assert_eq!(out["table"], "customers");
    assert_eq!(
        out["created"],
        json!([{ "id": 501, "name": "Test Person", "email": "test@example.com", "city": null, "country": null,
                 "created_at": "2024-06-01T12:00:00Z", "loyalty_points": 0, "notes": null }])
    );
    assert!(out.get("failed").is_none(), "atomic results carry no failed list: {out}");
    assert_eq!(fx.db.count("customers"), 501);
}

#[test]
fn create_records_creates_several_rows_in_order() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "categories", "records": [
        { "name": "Garden", "parent_id": 6 }, { "name": "Tools", "parent_id": 6, "description": "Hand tools" }
    ] }),
    );
    let created = ok(&result)["created"].as_array().unwrap().clone();
    assert_eq!(column(&created, "id"), [json!(13), json!(14)]);
    assert_eq!(column(&created, "name"), [json!("Garden"), json!("Tools")]);
    assert_eq!(fx.db.count("categories"), 14);
}

#[test]
fn create_records_stores_non_ascii_and_quotes_unchanged() {
    let fx = Fixture::new();
    let name = "Ñandú O'Hara \"the 2nd\" 東京";
    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [customer_record(name, "nandu@example.com")] }),
    );
    let id = ok(&result)["created"][0]["id"].clone();
    let read = get_data(&fx, json!({ "table": "customers", "ids": [id], "fields": "name" }));
    assert_eq!(records(&read)[0]["name"], name);
}

#[test]
fn create_records_keeps_big_integers_exact() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "big_numbers", "records": [
        { "label": "2^53 + 3", "value": "9007199254740995" }, { "label": "seven", "value": 7 }
    ] }),
    );
    let created = ok(&result)["created"].as_array().unwrap().clone();
    assert_eq!(created[0]["value"], "9007199254740995");
    assert_eq!(created[1]["value"], 7);
    assert_eq!(fx.db.scalar_i64("SELECT value FROM big_numbers WHERE label = '2^53 + 3'"), 9_007_199_254_740_995);
}

#[test]
fn create_records_stores_booleans_as_integers_and_objects_as_json_text() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "products", "records": [
        { "sku": "SKU-9001", "name": "Lamp", "price": 12.5, "discontinued": true, "created_at": "2024-01-01T00:00:00Z" }
    ] }),
    );
    let created = &ok(&result)["created"][0];
    assert_eq!(created["id"], 201);
    assert_eq!(created["discontinued"], 1);
    assert_eq!(created["stock"], 0);
    assert_eq!(created["price"], 12.5);
    let mut record = customer_record("Jason", "jason@example.com");
    record["notes"] = json!({ "tags": ["vip"], "since": 2024 });
    let result = fx.call("create_records", json!({ "table": "customers", "records": [record] }));
    let notes = ok(&result)["created"][0]["notes"].as_str().expect("JSON stored as text").to_string();
    assert_eq!(serde_json::from_str::<Json>(&notes).unwrap(), json!({ "tags": ["vip"], "since": 2024 }));
}

#[test]
fn create_records_keeps_a_big_json_number_exact() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "big_numbers", "records": [
        { "label": "2^53 + 5", "value": 9007199254740997_i64 }
    ] }),
    );
    assert_eq!(ok(&result)["created"][0]["value"], "9007199254740997");
}

#[test]
fn create_records_refuses_an_integer_beyond_64_bits() {
    let fx = Fixture::new();
    let message = err(&fx.call(
        "create_records",
        json!({ "table": "big_numbers", "records": [
        { "label": "too big", "value": "99999999999999999999" }
    ] }),
    ));
    assert_mentions(&message, &["column \"value\"", "expects an integer"]);
    assert_eq!(fx.db.count("big_numbers"), 4);
}

#[test]
fn create_records_atomic_batch_with_one_failing_record_writes_nothing() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "records": [
        customer_record("First", "first@example.com"),
        customer_record("Duplicate", "zoe.obrien@example.com"),
        customer_record("Third", "third@example.com"),
    ] }),
    );
    let message = err(&result);
    assert_mentions(&message, &["UNIQUE constraint failed", "customers.email", "Nothing was written"]);
    assert_eq!(fx.db.count("customers"), 500);
    assert_eq!(count_where(&fx, "customers", "email = 'first@example.com'"), 0);
}

#[test]
fn create_records_non_atomic_writes_the_good_records_and_reports_the_failures() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "atomic": false, "records": [
        customer_record("First", "first@example.com"),
        customer_record("Duplicate", "zoe.obrien@example.com"),
        { "name": "No email", "created_at": "2024-01-01T00:00:00Z" },
        customer_record("Fourth", "fourth@example.com"),
    ] }),
    );
    let out = ok(&result);
    assert_eq!(
        column(out["created"].as_array().unwrap(), "email"),
        [json!("first@example.com"), json!("fourth@example.com")]
    );
    let failed = out["failed"].as_array().unwrap();
    let mut indexes: Vec<i64> = failed.iter().map(|f| f["index"].as_i64().unwrap()).collect();
    indexes.sort();
    assert_eq!(indexes, [1, 2]);
    let failure = |i: i64| failed.iter().find(|f| f["index"] == i).unwrap()["error"].as_str().unwrap().to_string();
    assert_mentions(&failure(1), &["UNIQUE constraint failed", "customers.email"]);
    assert_mentions(&failure(2), &["missing required column", "email"]);
    assert_eq!(fx.db.count("customers"), 502);
}

#[test]
fn create_records_non_atomic_with_everything_good_reports_no_failures() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "customers", "atomic": false,
        "records": [customer_record("Only", "only@example.com")] }),
    );
    assert_eq!(ok(&result)["failed"], json!([]));
    assert_eq!(fx.db.count("customers"), 501);
}

#[test]
fn create_records_rejects_a_type_mismatch_before_writing() {
    let fx = Fixture::new();
    let result = fx.call(
        "create_records",
        json!({ "table": "products", "records": [
        { "sku": "SKU-9001", "name": "Fine", "price": 5, "created_at": "2024-01-01T00:00:00Z" },
        { "sku": "SKU-9002", "name": "Lamp", "price": "abc", "created_at": "2024-01-01T00:00:00Z" }
    ] }),
    );
    let message = err(&result);
    assert_mentions(
        &message,
        &["record 1", "column \"price\" (REAL) expects a number, got \"abc\"", "Nothing was written"],
    );
    assert_eq!(fx.db.count("products"), 200);
}

#[test]
fn create_records_rejects_text_in_an_integer_column() {
    let fx = Fixture::new();
    let message = err(&fx.call(
        "create_records",
        json!({ "table": "products", "records": [
        { "sku": "SKU-9001", "name": "Fine", "price": 5, "stock": "lots", "created_at": "2024-01-01T00:00:00Z" }
    ] }),
    ));
    assert_mentions(&message, &["column \"stock\"", "expects an integer"]);
}

#[test]
fn create_records_names_the_missing_required_columns() {
    let fx = Fixture::new();
    let message = err(&fx.call("create_records", json!({ "table": "customers", "records": [{ "name": "Nobody" }] })));
    assert_mentions(&message, &["record 0", "missing required column(s): email, created_at"]);
    assert_eq!(fx.db.count("customers"), 500);
}

#[test]
fn create_records_names_an_unknown_column() {
    let fx = Fixture::new();
    let mut record = customer_record("Colourful", "c@example.com");
    record["colour"] = json!("red");
    let message = err(&fx.call("create_records", json!({ "table": "customers", "records": [record] })));
    assert_mentions(&message, &["unknown column \"colour\"", "customers", "loyalty_points"]);
}

#[test]
fn create_records_refuses_null_in_a_not_null_column() {
    let fx = Fixture::new();
    let mut record = customer_record("Null mail", "x@example.com");
    record["email"] = Json::Null;
    let message = err(&fx.call("create_records", json!({ "table": "customers", "records": [record] })));
    assert_mentions(&message, &["column \"email\" is NOT NULL"]);
}

#[test]
fn create_records_enforces_foreign_keys() {
    let fx = Fixture::new();
    let message = err(&fx.call(
        "create_records",
        json!({ "table": "orders", "records": [
        { "customer_id": 99999, "status": "pending", "ordered_at": "2024-01-01T00:00:00Z" }
    ] }),
    ));
    assert_mentions(&message, &["FOREIGN KEY constraint failed"]);
    assert_eq!(fx.db.count("orders"), 3000);
}

#[test]
fn create_records_reports_check_constraint_failures() {
    let fx = Fixture::new();
    let message = err(&fx.call(
        "create_records",
        json!({ "table": "orders", "records": [
        { "customer_id": 1, "status": "lost", "ordered_at": "2024-01-01T00:00:00Z" }
    ] }),
    ));
    assert_mentions(&message, &["CHECK constraint failed"]);
    assert_eq!(fx.db.count("orders"), 3000);
}

#[test]
fn create_records_refuses_a_view() {
    let fx = Fixture::new();
    let message =
        err(&fx.call("create_records", json!({ "table": "order_summaries", "records": [{ "order_id": 1 }] })));
    assert_mentions(&message, &["\"order_summaries\" is a view"]);
}

#[test]
fn create_records_refuses_an_empty_list() {
    let fx = Fixture::new();
    let message = err(&fx.call("create_records", json!({ "table": "customers", "records": [] })));
    assert_mentions(&message, &["records is empty"]);
}

#[test]
fn create_records_refuses_more_than_one_hundred_records() {
    let fx = Fixture::new();
    let records: Vec<Json> =
        (0..101).map(|i| customer_record(&format!("Bulk {i}"), &format!("bulk{i}@example.com"))).collect();
    let message = err(&fx.call("create_records", json!({ "table": "customers", "records": records })));
    assert_mentions(&message, &["101 records", "at most 100"]);
    assert_eq!(fx.db.count("customers"), 500);
}

#[test]
fn create_records_in_an_unknown_table_lists_the_tables() {
    let fx = Fixture::new();
    let message = err(&fx.call("create_records", json!({ "table": "clients", "records": [{ "name": "x" }] })));
    assert_mentions(&message, &["unknown table \"clients\""]);
    assert_mentions(&message, &TABLES);
}

// ---------------------------------------------------------------------------------------------
// update_records
// ---------------------------------------------------------------------------------------------

#[test]
fn update_records_with_patch_and_ids_changes_those_rows_and_returns_them() {
    let fx = Fixture::new();
    let result =
        fx.call("update_records", json!({ "table": "customers", "ids": [2, 5], "patch": { "city": "Porto" } }));
    let out = ok(&result);
    assert_eq!(out["table"], "customers");
    assert_eq!(out["updated"], 2);
    assert_eq!(out["truncated"], false);
    let updated = out["records"].as_array().unwrap();
    assert_eq!(sorted_i64(updated, "id"), [2, 5]);
    assert!(updated.iter().all(|r| r["city"] == "Porto"), "{updated:?}");
    assert_eq!(ids_where(&fx, "customers", "city = 'Porto'"), [2, 5]);
}

#[test]
fn update_records_with_patch_and_filter_changes_the_matching_rows() {
    let fx = Fixture::new();
    let result = confirmed(
        &fx,
        "update_records",
        json!({ "table": "customers", "filter": "country = 'Poland'", "patch": { "notes": "PL" } }),
        54,
    );
    assert_eq!(ok(&result)["updated"], 54);
    assert_eq!(count_where(&fx, "customers", "notes = 'PL'"), 54);
    assert_eq!(count_where(&fx, "customers", "notes = 'PL' AND country != 'Poland'"), 0);
}

#[test]
fn update_records_with_patch_ids_and_filter_needs_both_to_match() {
    let fx = Fixture::new();
    let result = fx.call(
        "update_records",
        json!({ "table": "orders", "ids": [1, 2, 3], "filter": "status = 'pending'",
                                                   "patch": { "status": "paid" } }),
    );
    let out = ok(&result);
    assert_eq!(out["updated"], 1);
    assert_eq!(out["records"][0]["id"], 2);
    assert_eq!(out["records"][0]["status"], "paid");
}

#[test]
fn update_records_returns_at_most_max_rows_and_says_truncated() {
    let fx = Fixture::new();
    let result = confirmed(
        &fx,
        "update_records",
        json!({ "table": "orders", "filter": "status = 'pending'", "patch": { "status": "paid" } }),
        135,
    );
    let out = ok(&result);
    assert_eq!(out["updated"], 135);
    assert_eq!(out["records"].as_array().unwrap().len(), 100);
    assert_eq!(out["truncated"], true);
    assert_eq!(count_where(&fx, "orders", "status = 'pending'"), 0);
}

#[test]
fn update_records_keyed_by_primary_key_applies_each_change() {
    let fx = Fixture::new();
    let result = fx.call(
        "update_records",
        json!({ "table": "customers", "records": [
        { "id": 1, "loyalty_points": 1300 }, { "id": 3, "city": "Berlin", "loyalty_points": 10 }
    ] }),
    );
    let out = ok(&result);
    assert_eq!(out["updated"], 2);
    assert!(out.get("not_found").is_none(), "{out}");
    let read = get_data(&fx, json!({ "table": "customers", "ids": [1, 3], "fields": "id,city,loyalty_points" }));
    assert_eq!(
        records(&read),
        &vec![
            json!({"id": 1, "city": "Łódź", "loyalty_points": 1300}),
            json!({"id": 3, "city": "Berlin", "loyalty_points": 10})
        ]
    );
}

#[test]
fn update_records_keyed_by_primary_key_reports_keys_not_found() {
    let fx = Fixture::new();
    let result = fx.call(
        "update_records",
        json!({ "table": "customers", "records": [
        { "id": 1, "loyalty_points": 1 }, { "id": 99999, "loyalty_points": 2 }
    ] }),
    );
    let out = ok(&result);
    assert_eq!(out["updated"], 1);
    assert_eq!(out["not_found"], json!(["99999"]));
}

#[test]
fn update_records_keyed_by_primary_key_is_atomic() {
    let fx = Fixture::new();
    let result = fx.call(
        "update_records",
        json!({ "table": "customers", "records": [
        { "id": 1, "email": "shared@example.com" }, { "id": 2, "email": "shared@example.com" }
    ] }),
    );
    let message = err(&result);
    assert_mentions(&message, &["UNIQUE constraint failed", "Nothing was changed"]);
    let read = get_data(&fx, json!({ "table": "customers", "ids": [1], "fields": "email" }));
    assert_eq!(records(&read)[0]["email"], "zoe.obrien@example.com");
}

#[test]
fn update_records_keyed_records_must_carry_the_primary_key() {
    let fx = Fixture::new();
    let message =
        err(&fx.call("update_records", json!({ "table": "customers", "records": [{ "loyalty_points": 5 }] })));
    assert_mentions(&message, &["record 0", "missing primary key", "id"]);
}

#[test]
fn update_records_refuses_a_patch_without_ids_or_filter() {
    let fx = Fixture::new();
    let message = err(&fx.call("update_records", json!({ "table": "customers", "patch": { "notes": "everyone" } })));
    assert_mentions(&message, &["needs ids or a filter", "refusing to update every row"]);
    assert_eq!(count_where(&fx, "customers", "notes = 'everyone'"), 0);
}

#[test]
fn update_records_refuses_without_patch_or_records() {
    let fx = Fixture::new();
    let message = err(&fx.call("update_records", json!({ "table": "customers", "ids": [1] })));
    assert_mentions(&message, &["nothing to update"]);
}

#[test]
fn update_records_refuses_patch_and_records_together() {
    let fx = Fixture::new();
    let message = err(&fx.call(
        "update_records",
        json!({ "table": "customers", "ids": [1],
        "patch": { "city": "X" }, "records": [{ "id": 1, "city": "Y" }] }),
    ));
    assert_mentions(&message, &["either patch", "or records, not both"]);
}

#[test]
fn update_records_checks_value_types() {
    let fx = Fixture::new();
    let message = err(
        &fx.call("update_records", json!({ "table": "customers", "ids": [1], "patch": { "loyalty_points": "lots" } }))
    );
    assert_mentions(&message, &["column \"loyalty_points\" (INTEGER) expects an integer, got \"lots\""]);
    let read = get_data(&fx, json!({ "table": "customers", "ids": [1], "fields": "loyalty_points" }));
    assert_eq!(records(&read)[0]["loyalty_points"], 1200);
}

#[test]
fn update_records_names_an_unknown_column() {
    let fx = Fixture::new();
    let message =
        err(&fx.call("update_records", json!({ "table": "customers", "ids": [1], "patch": { "phone": "123" } })));
    assert_mentions(&message, &["unknown column \"phone\"", "customers"]);
}

#[test]
fn update_records_with_a_bad_filter_names_the_position() {
    let fx = Fixture::new();
    let message =
        err(&fx.call("update_records", json!({ "table": "customers", "filter": "id = ", "patch": { "notes": "x" } })));
    assert_mentions(&message, &["filter error at position"]);
}

#[test]
fn update_records_refuses_a_view() {
    let fx = Fixture::new();
    let message = err(&fx.call(
        "update_records",
        json!({ "table": "order_summaries", "filter": "order_id = 1", "patch": { "status": "paid" } }),
    ));
    assert_mentions(&message, &["\"order_summaries\" is a view"]);
}

// ---------------------------------------------------------------------------------------------
// delete_records
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_records_by_ids_returns_the_deleted_keys() {
    let fx = Fixture::new();
    let result = fx.call("delete_records", json!({ "table": "big_numbers", "ids": [2, 4] }));
    let out = ok(&result);
    assert_eq!(out["table"], "big_numbers");
    assert_eq!(out["deleted"], 2);
    assert_eq!(out["truncated"], false);
    let mut keys: Vec<i64> = out["keys"].as_array().unwrap().iter().map(|k| k.as_i64().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, [2, 4]);
    assert_eq!(fx.db.count("big_numbers"), 2);
}

#[test]
fn delete_records_by_filter_deletes_only_the_matching_rows() {
    let fx = Fixture::new();
    let result = fx.call("delete_records", json!({ "table": "order_items", "filter": "order_id = 1" }));
    let out = ok(&result);
    assert_eq!(out["deleted"], 2);
    let mut keys: Vec<i64> = out["keys"].as_array().unwrap().iter().map(|k| k.as_i64().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, [1, 2]);
    assert_eq!(fx.db.count("order_items"), 10538);
}

#[test]
fn delete_records_with_composite_key_returns_key_objects() {
    let fx = Fixture::new();
    let result = fx.call(
        "delete_records",
        json!({ "table": "product_categories", "ids": [{ "product_id": 1, "category_id": 2 }] }),
    );
    let out = ok(&result);
    assert_eq!(out["deleted"], 1);
    assert_eq!(out["keys"], json!([{ "product_id": 1, "category_id": 2 }]));
    assert_eq!(fx.db.count("product_categories"), 599);
}

#[test]
fn delete_records_refuses_without_ids_or_filter() {
    let fx = Fixture::new();
    let message = err(&fx.call("delete_records", json!({ "table": "order_items" })));
    assert_mentions(&message, &["needs ids or a filter", "refusing to delete every row"]);
    let message = err(&fx.call("delete_records", json!({ "table": "order_items", "ids": [], "filter": "  " })));
    assert_mentions(&message, &["needs ids or a filter"]);
    assert_eq!(fx.db.count("order_items"), 10540);
}

#[test]
fn delete_records_of_an_order_cascades_to_its_items() {
    let fx = Fixture::new();
    let result = fx.call("delete_records", json!({ "table": "orders", "ids": [1] }));
    assert_eq!(ok(&result)["keys"], json!([1]));
    assert_eq!(fx.db.count("orders"), 2999);
    assert_eq!(count_where(&fx, "order_items", "order_id = 1"), 0);
    assert_eq!(fx.db.count("order_items"), 10538);
}

#[test]
fn delete_records_of_a_referenced_customer_fails_and_keeps_it() {
    let fx = Fixture::new();
    let message = err(&fx.call("delete_records", json!({ "table": "customers", "ids": [1] })));
    assert_mentions(&message, &["FOREIGN KEY constraint failed"]);
    assert_eq!(fx.db.count("customers"), 500);
}

#[test]
fn delete_records_matching_nothing_deletes_nothing() {
    let fx = Fixture::new();
    let result = fx.call("delete_records", json!({ "table": "orders", "filter": "status = 'lost'" }));
    assert_eq!(ok(&result), &json!({ "table": "orders", "deleted": 0, "keys": [], "truncated": false }));
}

#[test]
fn delete_records_returns_at_most_max_rows_keys_and_says_truncated() {
    let fx = Fixture::new();
    let result = confirmed(&fx, "delete_records", json!({ "table": "order_items", "filter": "id <= 150" }), 150);
    let out = ok(&result);
    assert_eq!(out["deleted"], 150);
    assert_eq!(out["keys"].as_array().unwrap().len(), 100);
    assert_eq!(out["truncated"], true);
    assert_eq!(fx.db.count("order_items"), 10540 - 150);
}

#[test]
fn delete_records_with_an_unknown_filter_column_names_it() {
    let fx = Fixture::new();
    let message = err(&fx.call("delete_records", json!({ "table": "orders", "filter": "amount > 1" })));
    assert_mentions(&message, &["unknown column \"amount\""]);
    assert_eq!(fx.db.count("orders"), 3000);
}

#[test]
fn delete_records_refuses_a_view() {
    let fx = Fixture::new();
    let message = err(&fx.call("delete_records", json!({ "table": "order_summaries", "filter": "order_id = 1" })));
    assert_mentions(&message, &["\"order_summaries\" is a view"]);
}

// ---------------------------------------------------------------------------------------------
// stored procedures and functions
// ---------------------------------------------------------------------------------------------

#[test]
fn get_stored_procedures_is_empty_with_a_note_on_sqlite() {
    let fx = Fixture::new();
    let result = fx.call("get_stored_procedures", json!({}));
    let out = ok(&result);
    assert_eq!(out["routines"], json!([]));
    assert_mentions(out["note"].as_str().unwrap(), &["SQLite", "no stored procedures"]);
}

#[test]
fn get_stored_functions_is_empty_with_a_note_on_sqlite() {
    let fx = Fixture::new();
    let result = fx.call("get_stored_functions", json!({}));
    let out = ok(&result);
    assert_eq!(out["routines"], json!([]));
    assert_mentions(out["note"].as_str().unwrap(), &["SQLite", "no stored functions"]);
}

#[test]
fn call_stored_procedure_is_an_error_on_sqlite() {
    let fx = Fixture::new();
    let message = err(&fx.call("call_stored_procedure", json!({ "name": "refresh_totals", "arguments": { "x": 1 } })));
    assert_mentions(&message, &["SQLite", "no stored procedures"]);
}

#[test]
fn call_stored_function_is_an_error_on_sqlite() {
    let fx = Fixture::new();
    let message = err(&fx.call("call_stored_function", json!({ "name": "order_total" })));
    assert_mentions(&message, &["SQLite", "no stored functions"]);
}

#[test]
fn call_stored_procedure_still_checks_its_arguments() {
    let fx = Fixture::new();
    let message = err(&fx.call("call_stored_procedure", json!({})));
    assert_mentions(&message, &["invalid arguments", "name"]);
}

// ---------------------------------------------------------------------------------------------
// list_tools and get_database_resources
// ---------------------------------------------------------------------------------------------

fn listed_tool_names(result: &Json) -> Vec<String> {
    ok(result)["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn list_tools_lists_all_eighteen_tools_when_writing_is_allowed() {
    let fx = Fixture::new();
    let result = fx.call("list_tools", json!({}));
    assert_eq!(
        listed_tool_names(&result),
        [
            "get_data_model",
            "get_tables",
            "get_table_schema",
            "get_table_fields",
            "get_table_relationships",
            "get_table_data",
            "aggregate_table_data",
            "search",
            "fetch",
            "create_records",
            "update_records",
            "delete_records",
            "get_database_resources",
            "get_stored_procedures",
            "call_stored_procedure",
            "get_stored_functions",
            "call_stored_function",
            "list_tools",
        ]
    );
    let tools = ok(&result)["tools"].as_array().unwrap();
    let get_tables = tools.iter().find(|t| t["name"] == "get_tables").unwrap();
    assert_eq!(get_tables["title"], "List tables");
    assert_eq!(get_tables["read_only"], true);
    assert!(get_tables["description"].as_str().is_some_and(|d| !d.is_empty()));
    let delete = tools.iter().find(|t| t["name"] == "delete_records").unwrap();
    assert_eq!(delete["read_only"], false);
}

#[test]
fn list_tools_leaves_out_write_tools_for_a_read_only_caller() {
    let fx = Fixture::new();
    let result = call_tool(&fx.ctx_with_write(false), "list_tools", json!({}));
    let names = listed_tool_names(&result);
    assert_eq!(names.len(), 15);
    for write_tool in ["create_records", "update_records", "delete_records"] {
        assert!(!names.iter().any(|n| n == write_tool), "{write_tool} listed: {names:?}");
    }
}

#[test]
fn get_database_resources_describes_the_service() {
    let fx = Fixture::new();
    let result = fx.call("get_database_resources", json!({}));
    let out = ok(&result);
    assert_eq!(out["service"], "demo");
    assert_eq!(out["label"], "Demo store");
    assert_eq!(out["description"], "The demo store database.");
    assert_eq!(out["engine"], "SQLite (Cloudflare D1)");
    assert_eq!(out["read_only"], false);
    assert_eq!(out["max_rows"], 100);
    assert_eq!(out["tables"], json!(TABLES));
    assert_eq!(out["views"], json!(["order_summaries"]));
    let resources: Vec<&str> = out["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(resources.len(), 8);
    assert!(resources.contains(&"dbmcp://demo/tables/customers"), "{resources:?}");
    assert!(resources.contains(&"dbmcp://demo/tables/order_summaries"), "{resources:?}");
}

#[test]
fn get_database_resources_says_read_only_for_a_read_only_service() {
    let fx = Fixture::read_only();
    let result = fx.call("get_database_resources", json!({}));
    assert_eq!(ok(&result)["read_only"], true);
}

// ---------------------------------------------------------------------------------------------
// schema cache
// ---------------------------------------------------------------------------------------------

fn table_count_at(fx: &Fixture, now_ms: u64) -> usize {
    let mut ctx = fx.ctx();
    ctx.now_ms = now_ms;
    let result = call_tool(&ctx, "get_tables", json!({}));
    ok(&result)["tables"].as_array().unwrap().len()
}

#[test]
fn the_schema_is_reused_for_thirty_seconds_then_read_again() {
    let fx = Fixture::new();
    assert_eq!(table_count_at(&fx, 1_000), 8);
    fx.db.execute_batch("CREATE TABLE suppliers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);");
    assert_eq!(table_count_at(&fx, 1_000 + 29_999), 8);
    assert_eq!(table_count_at(&fx, 1_000 + 30_000), 9);
}

#[test]
fn forgetting_the_cached_schema_reads_it_again_at_once() {
    let fx = Fixture::new();
    assert_eq!(table_count_at(&fx, 1_000), 8);
    fx.db.execute_batch("CREATE TABLE suppliers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);");
    fx.cache.forget(SERVICE);
    assert_eq!(table_count_at(&fx, 1_000), 9);
}

#[test]
fn related_child_rows_of_a_self_reference_are_reachable() {
    let fx = Fixture::new();
    let result = fx.call(
        "get_table_data",
        json!({ "table": "categories", "ids": [1], "related": "child_categories_by_parent_id,categories_by_parent_id" }),
    );
    let record = &ok(&result)["records"][0];
    let children: Vec<i64> =
        record["child_categories_by_parent_id"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(children, vec![2, 4, 5]);
    assert_eq!(record["categories_by_parent_id"], Json::Null, "Electronics has no parent");
}

// ---------------------------------------------------------------------------------------------
// aggregate_table_data and get_data_model
// ---------------------------------------------------------------------------------------------

#[test]
fn aggregate_counts_and_sums_per_group_in_order() {
    let fx = Fixture::new();
    let result = fx.call(
        "aggregate_table_data",
        json!({
            "table": "orders",
            "aggregates": [{ "function": "count" }, { "function": "sum", "column": "total", "alias": "revenue" }],
            "group_by": "status",
            "order": "count DESC"
        }),
    );
    let out = ok(&result);
    let rows = out["rows"].as_array().unwrap();
    let counts: Vec<(String, i64)> =
        rows.iter().map(|r| (r["status"].as_str().unwrap().to_string(), r["count"].as_i64().unwrap())).collect();
    assert_eq!(
        counts,
        vec![
            ("delivered".into(), 2034),
            ("cancelled".into(), 444),
            ("paid".into(), 194),
            ("shipped".into(), 193),
            ("pending".into(), 135)
        ]
    );
    assert!(rows.iter().all(|r| r["revenue"].as_f64().unwrap() > 0.0));
    assert_eq!(out["returned"], 5);
    assert_eq!(out["truncated"], false);
}

#[test]
fn aggregate_without_groups_over_a_filter() {
    let fx = Fixture::new();
    let result = fx.call(
        "aggregate_table_data",
        json!({
            "table": "order_items",
            "aggregates": [
                { "function": "count" },
                { "function": "min", "column": "quantity" },
                { "function": "max", "column": "quantity" },
                { "function": "count_distinct", "column": "order_id", "alias": "orders" }
            ],
            "filter": "order_id IN (1, 3)"
        }),
    );
    let rows = ok(&result)["rows"].as_array().unwrap().clone();
    assert_eq!(rows, vec![json!({ "count": 4, "min_quantity": 1, "max_quantity": 3, "orders": 2 })]);
}

#[test]
fn aggregate_keeps_big_integer_sums_exact() {
    let fx = Fixture::new();
    let result = fx.call(
        "aggregate_table_data",
        json!({ "table": "big_numbers", "aggregates": [{ "function": "max", "column": "value" }] }),
    );
    assert_eq!(ok(&result)["rows"][0]["max_value"], json!("9223372036854775807"));
}

#[test]
fn aggregate_refuses_bad_requests_with_reasons() {
    let fx = Fixture::new();
    let text = err(&fx.call(
        "aggregate_table_data",
        json!({ "table": "customers", "aggregates": [{ "function": "sum", "column": "name" }] }),
    ));
    assert_mentions(&text, &["sum", "name", "text"]);
    let text = err(&fx.call(
        "aggregate_table_data",
        json!({ "table": "orders", "aggregates": [{ "function": "median", "column": "total" }] }),
    ));
    assert_mentions(&text, &["unknown function", "median"]);
    let text =
        err(&fx.call("aggregate_table_data", json!({ "table": "orders", "aggregates": [{ "function": "sum" }] })));
    assert_mentions(&text, &["sum needs a column"]);
    let text = err(&fx.call(
        "aggregate_table_data",
        json!({ "table": "orders", "aggregates": [{ "function": "count" }], "group_by": "status", "order": "total DESC" }),
    ));
    assert_mentions(&text, &["cannot order by", "total"]);
    let text = err(&fx.call("aggregate_table_data", json!({ "table": "orders", "aggregates": [] })));
    assert_mentions(&text, &["between 1 and 20"]);
}

#[test]
fn aggregate_groups_are_capped_like_rows() {
    let fx = Fixture::new();
    let result = fx.call(
        "aggregate_table_data",
        json!({ "table": "order_items", "aggregates": [{ "function": "count" }], "group_by": ["order_id"] }),
    );
    let out = ok(&result);
    assert_eq!(out["returned"], 100);
    assert_eq!(out["truncated"], true);
    assert_eq!(out["next_offset"], 100);
}

#[test]
fn data_model_lists_every_table_with_keys_references_and_counts() {
    let fx = Fixture::new();
    let result = fx.call("get_data_model", json!({}));
    let tables = ok(&result)["tables"].as_array().unwrap().clone();
    let find = |name: &str| tables.iter().find(|t| t["name"] == name).unwrap().clone();
    let orders = find("orders");
    assert_eq!(orders["row_count"], 3000);
    assert_eq!(orders["references"], json!(["customer_id -> customers.id"]));
    assert_eq!(orders["primary_key"], json!(["id"]));
    assert!(orders["columns"].as_array().unwrap().contains(&json!("status TEXT not null")));
    assert_eq!(find("product_categories")["junction"], true);
    assert_eq!(find("customers")["junction"], false);
    assert_eq!(find("order_summaries")["type"], "view");
    let without_counts = fx.call("get_data_model", json!({ "include_counts": false }));
    assert!(ok(&without_counts)["tables"][0].get("row_count").is_none());
}

#[test]
fn a_huge_offset_returns_no_rows_rather_than_failing() {
    let fx = Fixture::new();
    let result = fx.call("get_table_data", json!({ "table": "orders", "offset": u64::MAX }));
    let out = ok(&result);
    assert_eq!(out["returned"], 0);
    assert!(out.get("next_offset").is_none());
}
