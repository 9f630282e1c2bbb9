//! Custom tools that write (`writes = true`) on real SQLite: configuration errors, the call-time
//! checks against the schema and the column and row policies, exact rows written, typed and
//! caller-bound parameters, injection stored literally, annotations, and `confirm_writes`
//! (two-step token and MRTR).

#![cfg(feature = "query-sql")]

mod common;

use common::*;
use dbmcp::calllog::entry;
use dbmcp::config::{self, RawConfig};
use dbmcp::mcp::server::{call_tool_with_input, ConfirmMode};
use dbmcp::rows::Caller;
use dbmcp::tools::confirm::INPUT_KEY;
use serde_json::{json, Value as Json};

fn tools() -> Json {
    json!({
        "add_category": {
            "title": "Add a category",
            "description": "Adds one category.",
            "writes": true,
            "sql": "INSERT INTO categories (name, description) VALUES (:name, :description)",
            "parameters": { "name": { "type": "string", "maxLength": 60 }, "description": { "type": "string" } },
            "required": ["name"]
        },
        "set_description": {
            "description": "Adds a category or replaces its description.",
            "writes": true,
            "sql": "INSERT INTO categories (name, description) VALUES (:name, :description) \
                    ON CONFLICT (name) DO UPDATE SET description = excluded.description",
            "parameters": { "name": { "type": "string" }, "description": { "type": "string" } },
            "required": ["name", "description"]
        },
        "add_points": {
            "description": "Adds loyalty points to every customer of a country.",
            "writes": true,
            "sql": "UPDATE customers SET loyalty_points = loyalty_points + :points WHERE country = :country",
            "parameters": { "points": { "type": "integer", "minimum": 1, "maximum": 100 }, "country": { "type": "string" } },
            "required": ["points", "country"]
        },
        "move_me": {
            "description": "Sets the caller's own city.",
            "writes": true,
            "sql": "UPDATE customers SET city = :city WHERE id = :user.customer_id",
            "parameters": { "city": { "type": "string" } },
            "required": ["city"]
        },
        "uncategorize": {
            "description": "Removes every product from a category.",
            "writes": true,
            "sql": "DELETE FROM product_categories WHERE category_id = :category_id",
            "parameters": { "category_id": { "type": "integer" } },
            "required": ["category_id"]
        },
        // Valid shapes, refused at call time against the schema and policies.
        "write_hidden": { "description": "x", "writes": true, "sql": "UPDATE customers SET notes = 'x' WHERE id = 1" },
        "write_read_only": { "description": "x", "writes": true, "sql": "UPDATE customers SET created_at = 'x' WHERE id = 1" },
        "insert_read_only": {
            "description": "x", "writes": true,
            "sql": "INSERT INTO customers (name, email, created_at) VALUES ('a', 'a@b.c', 'now')"
        },
        "write_unknown": { "description": "x", "writes": true, "sql": "UPDATE customers SET colour = 'x' WHERE id = 1" },
        "filter_hidden": { "description": "x", "writes": true, "sql": "UPDATE customers SET city = 'x' WHERE notes = 'y'" },
        "filter_masked": { "description": "x", "writes": true, "sql": "DELETE FROM customers WHERE email = 'a@b.c'" },
        "row_policy": { "description": "x", "writes": true, "sql": "DELETE FROM orders WHERE id = 1" },
        "hidden_table": { "description": "x", "writes": true, "sql": "DELETE FROM big_numbers WHERE id = 1" },
        "hidden_in_subquery": {
            "description": "x", "writes": true,
            "sql": "DELETE FROM product_categories WHERE product_id IN (SELECT id FROM big_numbers)"
        },
        "denied_function": {
            "description": "x", "writes": true,
            "sql": "UPDATE customers SET city = load_extension('x') WHERE id = 1"
        },
        "denied_function_in_where": {
            "description": "x", "writes": true,
            "sql": "DELETE FROM product_categories WHERE category_id = randomblob(8)"
        },
        "insert_select_hidden": {
            "description": "x", "writes": true,
            "sql": "INSERT INTO categories (name) SELECT notes FROM customers WHERE id = 1"
        },
        "upsert_hidden": {
            "description": "x", "writes": true,
            "sql": "INSERT INTO categories (name) VALUES ('n') ON CONFLICT (name) DO UPDATE SET nope = 1"
        },
        // Only the INSERT's target names the hidden column: its policy applies all the same.
        "upsert_reads_hidden": {
            "description": "x", "writes": true,
            "sql": "INSERT INTO customers (name, email) VALUES ('a', 'b@c.d') ON CONFLICT (email) DO UPDATE SET city = excluded.notes"
        },
        "write_view": { "description": "x", "writes": true, "sql": "DELETE FROM v_categories WHERE id = 1" }
    })
}

fn service_with(extra: Json) -> Json {
    let mut service = json!({
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "max_rows": 50,
        "hidden_tables": ["big_numbers"],
        "columns": { "customers": { "hidden": ["notes"], "masked": { "email": "email" }, "read_only": ["created_at"] } },
        "rows": { "orders": "customer_id = {user.customer_id}" },
        "tools": tools()
    });
    for (k, v) in extra.as_object().unwrap() {
        service[k] = v.clone();
    }
    service
}

fn fixture() -> Fixture {
    let db = demo_db();
    db.execute_batch("CREATE VIEW v_categories AS SELECT id, name FROM categories;");
    Fixture::on(db, service_with(json!({})))
}

fn config_error(service: Json) -> String {
    let services = json!({ "svc": service });
    let result = config::parse(RawConfig {
        services: Some(&services),
        session_idle_seconds: None,
        allowed_origins: None,
        mask_secret: None,
    });
    result.expect_err("the configuration must be refused").to_string()
}

fn one_tool(tool: Json) -> String {
    config_error(service_with(json!({ "tools": { "t": tool } })))
}

fn written(result: &Json) -> u64 {
    ok(result)["rows_written"].as_u64().unwrap_or_else(|| panic!("no rows_written: {result}"))
}

#[test]
fn configuration_errors_name_the_problem() {
    let write = |sql: &str| json!({ "description": "x", "writes": true, "sql": sql });
    for (tool, expected) in [
        (write("DELETE FROM product_categories"), "a DELETE without a WHERE clause would delete every row"),
        (write("UPDATE customers SET city = 'x'"), "an UPDATE without a WHERE clause would change every row"),
        (write("DELETE FROM categories WHERE id = 1; DELETE FROM categories WHERE id = 2"), "exactly one statement"),
        (write("DROP TABLE customers"), "this is a DROP statement"),
        (write("CREATE TABLE x (a int)"), "this is a CREATE statement"),
        (write("SELECT 1"), "this is a SELECT statement"),
        (
            write("WITH gone AS (DELETE FROM customers WHERE id = 1 RETURNING id) UPDATE customers SET city = 'x' WHERE id = 2"),
            "WITH is not allowed in a tool that writes",
        ),
        (write("INSERT INTO categories VALUES (99, 'x', NULL, NULL)"), "name the columns the INSERT writes"),
        (write("INSERT INTO categories (name) VALUES ('x') RETURNING id"), "RETURNING is not allowed"),
        (write("UPDATE customers SET city = 'x' WHERE id = 1 RETURNING notes"), "RETURNING is not allowed"),
        (write("INSERT OR REPLACE INTO categories (name) VALUES ('x')"), "INSERT OR ... / REPLACE is not allowed"),
        (write("REPLACE INTO categories (name) VALUES ('x')"), "this is a REPLACE statement"),
        (write("UPDATE customers SET city = 'x' WHERE id = 1 LIMIT 1"), "this UPDATE form is not supported"),
        (write("DELETE FROM orders USING customers WHERE orders.id = 1"), "this DELETE form is not supported"),
        (write("UPDATE customers SET city = 'x' WHERE id = ?"), "use named parameters"),
        (
            json!({ "description": "x", "sql": "DELETE FROM categories WHERE id = 1" }),
            "only a read query is allowed (SELECT, WITH ... SELECT or VALUES); this is a DELETE statement (a tool that writes must say writes = true)",
        ),
        (json!({ "description": "x", "writes": "yes", "sql": "DELETE FROM categories WHERE id = 1" }), "writes: must be true or false"),
        (
            json!({ "description": "x", "writes": true, "sql": "DELETE FROM categories WHERE id = :confirm",
                    "parameters": { "confirm": { "type": "integer" } } }),
            "parameters.confirm: a tool that writes takes `confirm`",
        ),
    ] {
        let text = one_tool(tool.clone());
        assert!(text.contains("SERVICES.svc.tools.t: "), "{tool}: {text}");
        assert!(text.contains(expected), "{tool}: {text}");
    }
}

#[test]
fn a_tool_that_writes_on_a_read_only_service_is_a_configuration_error() {
    let mut service = service_with(json!({}));
    service.as_object_mut().unwrap().remove("read_only");
    let text = config_error(service);
    assert!(
        text.contains("SERVICES.svc.tools.add_category: writes = true, but the service \"svc\" is read-only"),
        "{text}"
    );
    // Read-only tools stay fine on a read-only service.
    let fine = json!({ "database": { "kind": "d1", "binding": "DB" },
                       "tools": { "t": { "description": "x", "sql": "SELECT 1 AS one" } } });
    let services = json!({ "svc": fine });
    assert!(config::parse(RawConfig {
        services: Some(&services),
        session_idle_seconds: None,
        allowed_origins: None,
        mask_secret: None
    })
    .is_ok());
}

#[test]
fn call_time_checks_refuse_what_the_service_does_not_let_the_caller_write_or_see() {
    let fx = fixture();
    let categories = fx.db.count("categories");
    let links = fx.db.count("product_categories");
    for (tool, expected) in [
        ("write_hidden", "unknown column \"notes\""),
        ("write_read_only", "created_at"),
        ("insert_read_only", "created_at"),
        ("write_unknown", "unknown column \"colour\" in table \"customers\""),
        ("filter_hidden", "unknown column \"notes\""),
        ("filter_masked", "column \"email\" is masked"),
        ("row_policy", "table \"orders\" has a row policy, which custom tools do not apply"),
        ("hidden_table", "unknown table \"big_numbers\""),
        ("hidden_in_subquery", "unknown table \"big_numbers\""),
        ("denied_function", "function \"load_extension\" is not allowed"),
        ("denied_function_in_where", "function \"randomblob\" is not allowed"),
        ("insert_select_hidden", "unknown column \"notes\""),
        ("upsert_hidden", "unknown column \"nope\""),
        ("upsert_reads_hidden", "unknown column \"notes\""),
        ("write_view", "is a view"),
    ] {
        let error = err(&fx.call(tool, json!({})));
        assert!(error.contains(expected), "{tool}: {error}");
    }
    assert!(err(&fx.call("write_read_only", json!({}))).contains("read-only"));
    assert_eq!(fx.db.count("categories"), categories);
    assert_eq!(fx.db.count("product_categories"), links);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE notes = 'x' OR city = 'x'"), 0);
}

#[test]
fn an_insert_writes_one_row_and_a_string_parameter_is_stored_literally() {
    let fx = fixture();
    let before = fx.db.count("categories");
    let attack = "x'); DROP TABLE categories; --";
    let result = fx.call("add_category", json!({ "name": attack, "description": ":description ?1" }));
    assert_eq!(written(&result), 1);
    assert_eq!(ok(&result)["table"], "categories");
    assert_eq!(fx.db.count("categories"), before + 1);
    let stored = fx.db.scalar_i64(&format!(
        "SELECT COUNT(*) FROM categories WHERE name = '{}' AND description = ':description ?1'",
        attack.replace('\'', "''")
    ));
    assert_eq!(stored, 1);
    // The execution log reads rows_written from the result.
    assert_eq!(entry::rows(&result), (None, Some(1)));
    // A duplicate name: the database refuses, nothing more is written.
    let error = err(&fx.call("add_category", json!({ "name": attack })));
    assert!(error.to_lowercase().contains("unique"), "{error}");
    assert_eq!(fx.db.count("categories"), before + 1);
}

#[test]
fn an_upsert_inserts_then_updates_the_same_row() {
    let fx = fixture();
    let before = fx.db.count("categories");
    assert_eq!(written(&fx.call("set_description", json!({ "name": "Tea", "description": "one" }))), 1);
    assert_eq!(written(&fx.call("set_description", json!({ "name": "Tea", "description": "two" }))), 1);
    assert_eq!(fx.db.count("categories"), before + 1);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM categories WHERE name = 'Tea' AND description = 'two'"), 1);
}

#[test]
fn an_update_writes_exactly_the_matching_rows_and_parameters_are_type_checked() {
    let fx = fixture();
    let matching = fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE country = 'USA'");
    let points = |country: &str| {
        fx.db.scalar_i64(&format!("SELECT SUM(loyalty_points) FROM customers WHERE country = '{country}'"))
    };
    let (usa, uk) = (points("USA"), points("UK"));
    assert!(matching > 1);
    let result = fx.call("add_points", json!({ "points": 5, "country": "USA" }));
    assert_eq!(written(&result) as i64, matching);
    assert_eq!(points("USA"), usa + 5 * matching);
    assert_eq!(points("UK"), uk);
    for (args, expected) in [
        (json!({ "points": "5", "country": "USA" }), "parameter \"points\" must be an integer"),
        (json!({ "points": 0, "country": "USA" }), "must be at least 1"),
        (json!({ "points": 101, "country": "USA" }), "must be at most 100"),
        (json!({ "points": 1 }), "missing required parameter \"country\""),
        (json!({ "points": 1, "country": "USA", "id": 3 }), "unknown parameter \"id\""),
        (json!({ "points": 1, "country": "USA' OR '1'='1" }), ""),
    ] {
        let result = fx.call("add_points", args.clone());
        if expected.is_empty() {
            assert_eq!(written(&result), 0, "{args}: an injection matched rows");
        } else {
            assert!(err(&result).contains(expected), "{args}: {result}");
        }
    }
    assert_eq!(points("USA"), usa + 5 * matching);
}

#[test]
fn a_caller_bound_parameter_restricts_the_update_to_the_callers_row() {
    let mut fx = fixture();
    let error = err(&fx.call("move_me", json!({ "city": "Lyon" })));
    assert!(error.contains("\"customer_id\" attribute"), "{error}");
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE city = 'Lyon'"), 0);
    fx.caller = Caller { id: Some("k1".into()), name: None, attributes: obj(json!({ "customer_id": 3 })) };
    assert_eq!(written(&fx.call("move_me", json!({ "city": "Lyon" }))), 1);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE city = 'Lyon'"), 1);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE city = 'Lyon' AND id = 3"), 1);
    // The identity cannot be passed as an argument.
    assert!(err(&fx.call("move_me", json!({ "city": "Oslo", "customer_id": 4 }))).contains("unknown parameter"));
}

#[test]
fn a_delete_removes_exactly_the_matching_rows() {
    let fx = fixture();
    let category = fx
        .db
        .scalar_i64("SELECT category_id FROM product_categories GROUP BY category_id ORDER BY COUNT(*) DESC LIMIT 1");
    let matching = fx.db.scalar_i64(&format!("SELECT COUNT(*) FROM product_categories WHERE category_id = {category}"));
    let total = fx.db.count("product_categories");
    assert!(matching > 1 && matching < total);
    let result = fx.call("uncategorize", json!({ "category_id": category }));
    assert_eq!(written(&result) as i64, matching);
    assert_eq!(fx.db.count("product_categories"), total - matching);
    assert_eq!(written(&fx.call("uncategorize", json!({ "category_id": category }))), 0);
}

#[test]
fn listed_with_derived_annotations_and_only_to_credentials_that_may_write() {
    let fx = fixture();
    let listed = handle(&fx.ctx(), "tools/list", json!({})).unwrap()["tools"].as_array().unwrap().clone();
    let tool =
        |name: &str| listed.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name} listed")).clone();
    for (name, destructive) in
        [("add_category", false), ("set_description", true), ("add_points", true), ("uncategorize", true)]
    {
        let annotations = &tool(name)["annotations"];
        assert_eq!(annotations["readOnlyHint"], false, "{name}");
        assert_eq!(annotations["destructiveHint"], destructive, "{name}");
        assert_eq!(annotations["idempotentHint"], false, "{name}");
        assert_eq!(annotations["openWorldHint"], false, "{name}");
    }
    let add = tool("add_category");
    assert_eq!(add["title"], "Add a category");
    assert_eq!(add["inputSchema"]["properties"]["confirm"]["type"], "string");
    assert_eq!(add["outputSchema"]["properties"]["rows_written"]["type"], "integer");
    let summary = fx.call("list_tools", json!({}));
    let entry = ok(&summary)["tools"].as_array().unwrap().iter().find(|t| t["name"] == "add_category").cloned();
    assert_eq!(entry.expect("list_tools names it")["read_only"], false);
    // A credential that may only read sees no tool that writes, and cannot call one.
    let reader = fx.ctx_with_write(false);
    let listed = handle(&reader, "tools/list", json!({})).unwrap();
    assert!(!listed.to_string().contains("add_category"), "{listed}");
    let before = fx.db.count("categories");
    let error = handle(&reader, "tools/call", json!({ "name": "add_category", "arguments": { "name": "R" } }))
        .expect_err("unknown to a reader");
    assert!(error.message.contains("unknown tool \"add_category\""), "{}", error.message);
    assert_eq!(fx.db.count("categories"), before);
}

// ---------------------------------------------------------------------------------------------
// confirm_writes
// ---------------------------------------------------------------------------------------------

fn confirming() -> Fixture {
    Fixture::on(demo_db(), service_with(json!({ "confirm_writes": true })))
}

fn call_with_input(fx: &Fixture, params: Json, mode: ConfirmMode) -> Json {
    let params = params.as_object().cloned().expect("params object");
    futures_executor::block_on(call_tool_with_input(Some(&params), &fx.ctx(), mode, None))
        .unwrap_or_else(|e| panic!("protocol error {} {}", e.code, e.message))
}

#[test]
fn confirm_writes_asks_first_and_the_token_writes_once() {
    let fx = confirming();
    let before = fx.db.count("categories");
    let args = json!({ "name": "Gifts", "description": "d" });
    let first = fx.call("add_category", args.clone());
    let out = ok(&first);
    assert_eq!(out["confirmation_required"], true, "{out}");
    assert_eq!(out["rows_written"], 0);
    assert_mentions(out["message"].as_str().unwrap(), &["Nothing was written yet", "add_category", "Gifts"]);
    assert_eq!(fx.db.count("categories"), before);
    let token = out["confirmation_token"].clone();
    // Another argument with the same token: refused.
    let mut other = args.clone();
    other["name"] = json!("Other");
    other["confirm"] = token.clone();
    assert!(err(&fx.call("add_category", other)).contains("issued for other arguments"));
    // The same arguments on another tool that writes: refused (the token names its tool).
    let mut elsewhere = args.clone();
    elsewhere["confirm"] = token.clone();
    assert!(err(&fx.call("set_description", elsewhere)).contains("issued for other arguments"));
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM categories WHERE name = 'Gifts'"), 0);
    let mut confirmed = args.clone();
    confirmed["confirm"] = token;
    assert_eq!(written(&fx.call("add_category", confirmed.clone())), 1);
    assert_eq!(fx.db.count("categories"), before + 1);
    assert!(err(&fx.call("add_category", confirmed)).contains("already used"));
    assert_eq!(fx.db.count("categories"), before + 1);
}

#[test]
fn confirm_writes_through_mrtr_accept_writes_and_decline_does_not() {
    let fx = confirming();
    let before = fx.db.count("categories");
    let params = json!({ "name": "add_category", "arguments": { "name": "Toys" } });
    let asked = call_with_input(&fx, params.clone(), ConfirmMode::Elicitation);
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let message = asked["inputRequests"][INPUT_KEY]["params"]["message"].as_str().unwrap();
    assert_mentions(message, &["Run the tool \"add_category\"", "Toys"]);
    let state = asked["requestState"].clone();
    assert_eq!(fx.db.count("categories"), before);

    let mut declined = params.clone();
    declined["requestState"] = state.clone();
    declined["inputResponses"] = json!({ INPUT_KEY: { "action": "decline" } });
    let result = call_with_input(&fx, declined, ConfirmMode::Elicitation);
    assert_eq!(result["structuredContent"]["declined"], true, "{result}");
    assert_eq!(result["structuredContent"]["rows_written"], 0);
    assert_eq!(fx.db.count("categories"), before);

    let mut accepted = params.clone();
    accepted["requestState"] = state;
    accepted["inputResponses"] = json!({ INPUT_KEY: { "action": "accept", "content": { "confirm": true } } });
    let result = call_with_input(&fx, accepted.clone(), ConfirmMode::Elicitation);
    assert_eq!(result["structuredContent"]["rows_written"], 1, "{result}");
    assert_eq!(fx.db.count("categories"), before + 1);
    let replay = call_with_input(&fx, accepted, ConfirmMode::Elicitation);
    assert!(error_text(&replay).contains("already used"), "{replay}");
    assert_eq!(fx.db.count("categories"), before + 1);
}

#[test]
fn without_confirm_writes_a_tool_that_writes_runs_at_once() {
    let fx = fixture();
    let result = call_with_input(
        &fx,
        json!({ "name": "add_category", "arguments": { "name": "Now" } }),
        ConfirmMode::Elicitation,
    );
    assert_eq!(result["structuredContent"]["rows_written"], 1, "{result}");
}

#[test]
fn a_service_that_is_read_only_offers_no_tool_that_writes_whatever_the_credential() {
    // Defence in depth: tools parsed without the service check (a future run-time source of tools).
    let mut fx = fixture();
    fx.service.read_only = true;
    let ctx = fx.ctx_with_write(true);
    let listed = handle(&ctx, "tools/list", json!({})).unwrap();
    assert!(!listed.to_string().contains("add_category"), "{listed}");
    let error = handle(&ctx, "tools/call", json!({ "name": "add_category", "arguments": { "name": "RO" } }))
        .expect_err("not offered");
    assert!(error.message.contains("unknown tool \"add_category\""), "{}", error.message);
    // And the tool itself refuses, should anything call it directly.
    let tool = fx.service.custom_tools.iter().find(|t| t.name == "add_category").unwrap().clone();
    let outcome = futures_executor::block_on(dbmcp::tools::custom::run(&ctx, &tool, json!({ "name": "RO" })));
    assert!(outcome.unwrap_err().0.contains("add_category writes, and this service is read-only"));
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM categories WHERE name = 'RO'"), 0);
}

#[test]
fn operator_hints_may_add_caution_but_never_claim_a_write_is_safer() {
    let with_hints =
        |sql: &str, hints: Json| json!({ "description": "x", "writes": true, "sql": sql, "annotations": hints });
    let delete = "DELETE FROM categories WHERE id = 1";
    for (tool, expected) in [
        (
            with_hints(delete, json!({ "destructiveHint": false })),
            "an UPDATE, DELETE or upsert can change existing rows",
        ),
        (with_hints(delete, json!({ "readOnlyHint": true })), "annotations.readOnlyHint: follows writes"),
        (with_hints(delete, json!({ "idempotentHint": 1 })), "annotations.idempotentHint: must be true or false"),
    ] {
        let text = one_tool(tool.clone());
        assert!(text.contains("SERVICES.svc.tools.t: ") && text.contains(expected), "{tool}: {text}");
    }

    let mut listed_tools = tools();
    listed_tools["add_category"]["annotations"] = json!({ "destructiveHint": true, "openWorldHint": true });
    listed_tools["set_description"]["annotations"] = json!({ "idempotentHint": true, "readOnlyHint": false });
    let fx = Fixture::on(demo_db(), service_with(json!({ "tools": listed_tools })));
    let listed = handle(&fx.ctx(), "tools/list", json!({})).unwrap()["tools"].as_array().unwrap().clone();
    let annotations = |name: &str| listed.iter().find(|t| t["name"] == name).expect("listed")["annotations"].clone();
    let add = annotations("add_category");
    assert_eq!((add["destructiveHint"].clone(), add["openWorldHint"].clone()), (json!(true), json!(true)));
    let upsert = annotations("set_description");
    assert_eq!((upsert["idempotentHint"].clone(), upsert["destructiveHint"].clone()), (json!(true), json!(true)));
    assert_eq!(annotations("add_points")["idempotentHint"], false, "hints are per tool");
}
