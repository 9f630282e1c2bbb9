//! Custom tools (`tools` per service) on real SQLite through `tools/list` and `tools/call`:
//! configuration errors, argument checks before any SQL runs, defaults and bounds, the caller's
//! attributes, and injection attempts that stay plain values.

#![cfg(feature = "query-sql")]

mod common;

use common::*;
use dbmcp::config::{self, RawConfig};
use dbmcp::rows::Caller;
use dbmcp::sql::Dialect;
use dbmcp::tools::custom::{rewrite_placeholders, Bind};
use serde_json::{json, Value as Json};

fn top_customers() -> Json {
    json!({
        "title": "Top customers of a country",
        "description": "The customers of one country with the most loyalty points.",
        "sql": "SELECT name, loyalty_points FROM customers WHERE country = :country ORDER BY loyalty_points DESC, id LIMIT :n",
        "parameters": {
            "country": { "type": "string", "description": "Country name", "maxLength": 40 },
            "n": { "type": "integer", "minimum": 1, "maximum": 50, "default": 2 }
        },
        "required": ["country"]
    })
}

fn service(tools: Json) -> Json {
    json!({ "database": { "kind": "d1", "binding": "DB" }, "max_rows": 50, "tools": tools,
            "columns": { "customers": { "hidden": ["notes"] } } })
}

fn fixture() -> Fixture {
    Fixture::configured(service(json!({
        "top_customers": top_customers(),
        "my_orders": {
            "description": "The caller's own orders.",
            "sql": "SELECT id, status FROM orders WHERE customer_id = :user.customer_id AND (:status IS NULL OR status = :status) ORDER BY id",
            "parameters": { "status": { "type": "string", "enum": ["pending", "paid", "shipped", "delivered", "cancelled"] } }
        },
        "flags": {
            "description": "Echo typed values.",
            "sql": "SELECT :b AS b, :x AS x",
            "parameters": { "b": { "type": "boolean" }, "x": { "type": "number", "minimum": 0.5 } },
            "required": ["b", "x"]
        },
        "hidden_off": { "description": "Disabled.", "sql": "SELECT 1 AS one", "enabled": false }
    })))
}

fn config_error(tools: Json) -> String {
    let services = json!({ "svc": service(tools) });
    let result = config::parse(RawConfig {
        services: Some(&services),
        session_idle_seconds: None,
        allowed_origins: None,
        mask_secret: None,
    });
    result.expect_err("the configuration must be refused").to_string()
}

fn tool_list(fx: &Fixture) -> Vec<Json> {
    handle(&fx.ctx(), "tools/list", json!({})).expect("tools/list")["tools"].as_array().unwrap().clone()
}

#[test]
fn listed_after_the_built_ins_with_a_generated_input_schema() {
    let fx = fixture();
    let tools = tool_list(&fx);
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let first_custom = names.iter().position(|n| *n == "flags").expect("custom tools listed");
    assert_eq!(&names[first_custom..], &["flags", "my_orders", "top_customers"]);
    assert!(!names.contains(&"hidden_off"), "enabled = false must not be listed");
    let top = &tools[names.iter().position(|n| *n == "top_customers").unwrap()];
    assert_eq!(top["title"], "Top customers of a country");
    assert_eq!(top["annotations"]["readOnlyHint"], true);
    assert_eq!(top["inputSchema"]["required"], json!(["country"]));
    assert_eq!(top["inputSchema"]["additionalProperties"], false);
    assert_eq!(
        top["inputSchema"]["properties"]["n"],
        json!({ "type": "integer", "minimum": 1, "maximum": 50, "default": 2 })
    );
    assert_eq!(top["inputSchema"]["properties"]["country"]["maxLength"], 40);
}

#[test]
fn a_call_binds_arguments_and_defaults() {
    let fx = fixture();
    let result = fx.call("top_customers", json!({ "country": "USA" }));
    let rows = records(&result);
    assert_eq!(rows.len(), 2, "the default n = 2 applies: {result}");
    let expected = fx.db.scalar_i64("SELECT MAX(loyalty_points) FROM customers WHERE country = 'USA'");
    assert_eq!(rows[0]["loyalty_points"].as_i64().unwrap(), expected);
    let result = fx.call("top_customers", json!({ "country": "USA", "n": 1 }));
    assert_eq!(records(&result).len(), 1);
    assert_eq!(ok(&result)["truncated"], false);
    let result = fx.call("flags", json!({ "b": true, "x": 2.5 }));
    assert_eq!(records(&result)[0]["x"], json!(2.5));
}

#[test]
fn arguments_are_checked_before_any_sql_runs() {
    let fx = fixture();
    for (args, expected) in [
        (json!({}), "missing required parameter \"country\""),
        (json!({ "country": "USA", "limit": 3 }), "unknown parameter \"limit\""),
        (json!({ "country": 7 }), "parameter \"country\" must be a string"),
        (json!({ "country": "USA", "n": "3" }), "parameter \"n\" must be an integer"),
        (json!({ "country": "USA", "n": 2.5 }), "parameter \"n\" must be an integer"),
        (json!({ "country": "USA", "n": 0 }), "must be at least 1"),
        (json!({ "country": "USA", "n": 51 }), "must be at most 50"),
        (json!({ "country": "x".repeat(41) }), "longer than its maxLength of 40"),
        (json!(["USA"]), "arguments must be an object"),
        (json!("USA"), "arguments must be an object"),
    ] {
        let error = err(&fx.call("top_customers", args.clone()));
        assert!(error.contains(expected), "{args}: {error}");
    }
    assert!(err(&fx.call("flags", json!({ "b": 1, "x": 1 }))).contains("\"b\" must be a boolean"));
    assert!(err(&fx.call("flags", json!({ "b": true, "x": 0.1 }))).contains("must be at least 0.5"));
    assert!(err(&fx.call("my_orders", json!({ "status": "lost" }))).contains("must be one of: pending"));
}

#[test]
fn disabled_tools_cannot_be_called() {
    let fx = fixture();
    let error = handle(&fx.ctx(), "tools/call", json!({ "name": "hidden_off", "arguments": {} })).expect_err("unknown");
    assert!(error.message.contains("unknown tool \"hidden_off\""), "{}", error.message);
}

#[test]
fn identity_parameters_come_from_the_caller_and_fail_closed() {
    let mut fx = fixture();
    // No attribute: refused, nothing read.
    let error = err(&fx.call("my_orders", json!({})));
    assert!(error.contains("\"customer_id\" attribute"), "{error}");
    fx.caller = Caller { id: Some("k1".into()), name: None, attributes: obj(json!({ "customer_id": 1 })) };
    let rows = records(&fx.call("my_orders", json!({}))).clone();
    let own = fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE customer_id = 1");
    assert!(own > 0);
    assert_eq!(rows.len() as i64, own);
    let paid = records(&fx.call("my_orders", json!({ "status": "paid" }))).len() as i64;
    assert_eq!(paid, fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE customer_id = 1 AND status = 'paid'"));
    // The caller cannot pass the identity parameter as an argument.
    let error = err(&fx.call("my_orders", json!({ "customer_id": 2 })));
    assert!(error.contains("unknown parameter \"customer_id\""), "{error}");
}

#[test]
fn injection_in_string_parameters_is_only_a_value() {
    let fx = fixture();
    let customers = fx.db.count("customers");
    for attack in
        ["USA' OR '1'='1", "USA'; DROP TABLE customers; --", "x' UNION SELECT email, id FROM orders--", ":n", "?1"]
    {
        let result = fx.call("top_customers", json!({ "country": attack, "n": 50 }));
        assert_eq!(records(&result).len(), 0, "{attack:?} matched rows: {result}");
    }
    assert_eq!(fx.db.count("customers"), customers);
}

#[test]
fn the_schema_checks_of_query_sql_apply_at_call_time() {
    // Valid at configuration time (syntax), refused at call time against the schema.
    let fx = Fixture::configured(service(json!({
        "notes": { "description": "Hidden column.", "sql": "SELECT notes FROM customers" },
        "ghost": { "description": "Unknown table.", "sql": "SELECT 1 FROM nowhere" },
        "ext": { "description": "Not allowed function.", "sql": "SELECT load_extension('x') AS x" }
    })));
    assert!(err(&fx.call("notes", json!({}))).contains("unknown column \"notes\""));
    assert!(err(&fx.call("ghost", json!({}))).contains("nowhere"));
    assert!(err(&fx.call("ext", json!({}))).contains("not allowed"));
}

#[test]
fn configuration_errors_name_the_problem() {
    let base = top_customers();
    let with = |patch: Json| {
        let mut tool = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            tool[k] = v.clone();
        }
        tool
    };
    for (tools, expected) in [
        (json!({ "t": with(json!({ "sql": "SELEC name FROM customers" })) }), "SERVICES.svc.tools.t: sql:"),
        (
            json!({ "t": with(json!({ "sql": "DELETE FROM customers WHERE country = :country AND :n = 1" })) }),
            "only a read query is allowed",
        ),
        (json!({ "t": with(json!({ "sql": "SELECT 1; SELECT 2" })) }), "exactly one statement"),
        (
            json!({ "t": with(json!({ "writes": true })) }),
            "a tool that writes runs one INSERT, UPDATE or DELETE; this is a SELECT statement",
        ),
        (json!({ "get_tables": base.clone() }), "name of a built-in tool"),
        (json!({ "query_sql": base.clone() }), "name of a built-in tool"),
        (
            json!({ "t": with(json!({ "sql": "SELECT name FROM customers WHERE country = :country AND id = :other LIMIT :n" })) }),
            "uses :other, which is not a declared parameter",
        ),
        (
            json!({ "t": with(json!({ "sql": "SELECT name FROM customers WHERE country = :country" })) }),
            "parameters.n: declared but not used",
        ),
        (json!({ "t": with(json!({ "required": ["nope"] })) }), "required: \"nope\" is not a declared parameter"),
        (json!({ "t": with(json!({ "sql": "SELECT name FROM customers WHERE id = ?" })) }), "use named parameters"),
        (
            json!({ "t": with(json!({ "parameters": { "country": { "type": "date" }, "n": { "type": "integer" } } })) }),
            "type: must be",
        ),
        (
            json!({ "t": with(json!({ "parameters": { "country": { "type": "string" }, "n": { "type": "integer", "maximum": 5, "default": 9 } } })) }),
            "must be at most 5",
        ),
        (json!({ "t": with(json!({ "description": "" })) }), "description: missing"),
        (json!({ "t": with(json!({ "colour": "red" })) }), "unknown field \"colour\""),
        // A hint never claims a read writes, or is destructive or not idempotent; unknown hints refused.
        (
            json!({ "t": with(json!({ "annotations": { "readOnlyHint": false } })) }),
            "annotations.readOnlyHint: follows writes",
        ),
        (json!({ "t": with(json!({ "annotations": { "destructiveHint": true } })) }), "a read is never destructive"),
        (json!({ "t": with(json!({ "annotations": { "idempotentHint": false } })) }), "a read is always idempotent"),
        (json!({ "t": with(json!({ "annotations": { "openWorldHint": "yes" } })) }), "must be true or false"),
        (json!({ "t": with(json!({ "annotations": { "safeHint": true } })) }), "annotations.safeHint: unknown"),
        (json!({ "t": with(json!({ "annotations": [] })) }), "annotations: must be an object"),
        (json!({ "bad-name": base.clone() }), "a tool name is letters"),
    ] {
        let text = config_error(tools.clone());
        assert!(text.contains(expected), "{tools}: {text}");
    }
}

#[test]
fn placeholders_are_rewritten_on_tokens_not_inside_literals() {
    let (sql, binds) = rewrite_placeholders(
        Dialect::Sqlite,
        "SELECT ':a', \":a\" FROM t WHERE a = :a AND b = :user.team AND c = :a -- :b",
    )
    .unwrap();
    assert_eq!(sql, "SELECT ':a', \":a\" FROM t WHERE a = ?1 AND b = ?2 AND c = ?1 -- :b");
    assert_eq!(binds, vec![Bind::Argument("a".into()), Bind::Caller("team".into())]);
    let (sql, _) = rewrite_placeholders(Dialect::Postgres, "SELECT x::text FROM t WHERE a = :a").unwrap();
    assert_eq!(sql, "SELECT x::text FROM t WHERE a = $1");
    // Everything else is kept as written: doubled quotes, other lines, non-ASCII text.
    let text = "SELECT 'it''s ünïcode :x' AS s\nFROM t\n  WHERE name = :name /* :c */ AND z = 'é'";
    let (sql, binds) = rewrite_placeholders(Dialect::Sqlite, text).unwrap();
    assert_eq!(sql, "SELECT 'it''s ünïcode :x' AS s\nFROM t\n  WHERE name = ?1 /* :c */ AND z = 'é'");
    assert_eq!(binds, vec![Bind::Argument("name".into())]);
}

#[test]
fn string_literals_in_the_sql_survive_the_rewrite() {
    let fx = Fixture::configured(service(json!({
        "quoted": {
            "description": "A literal with a doubled quote.",
            "sql": "SELECT 'O''Brien' AS literal, name FROM customers WHERE name LIKE :pattern",
            "parameters": { "pattern": { "type": "string" } },
            "required": ["pattern"]
        }
    })));
    let result = fx.call("quoted", json!({ "pattern": "%O'Brien%" }));
    let rows = records(&result);
    assert_eq!(rows.len() as i64, fx.db.scalar_i64("SELECT COUNT(*) FROM customers WHERE name LIKE '%O''Brien%'"));
    assert!(!rows.is_empty() && rows.iter().all(|r| r["literal"] == "O'Brien"), "{result}");
}

#[test]
fn list_tools_names_the_custom_tools_too() {
    let fx = fixture();
    let listed = fx.call("list_tools", json!({}));
    let names: Vec<&str> =
        ok(&listed)["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"top_customers") && names.contains(&"my_orders"), "{names:?}");
    assert!(!names.contains(&"hidden_off"));
}
