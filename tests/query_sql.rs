//! `query_sql` on real SQLite (the engine D1 runs) through `tools/call`, and its validator on the
//! PostgreSQL dialect: every known read-only bypass is refused before it reaches the database and
//! leaves the data as it was; good queries return rows under the cap.

#![cfg(feature = "query-sql")]

mod common;

use common::*;
use dbmcp::sql::readonly::{self, Visibility};
use dbmcp::sql::Dialect;
use serde_json::{json, Value as Json};

/// query_sql on, `big_numbers` hidden, `customers.notes` hidden and `customers.email` masked,
/// ten rows per call.
fn service() -> Json {
    json!({
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "max_rows": 10,
        "query_sql": true,
        "hidden_tables": ["big_numbers"],
        "columns": { "customers": { "hidden": ["notes"], "masked": { "email": "email" } } }
    })
}

fn fixture() -> Fixture {
    Fixture::configured(service())
}

fn query(fx: &Fixture, sql: &str) -> Json {
    fx.call("query_sql", json!({ "sql": sql }))
}

/// Row counts of every table, read directly: what an attack must leave unchanged.
fn counts(fx: &Fixture) -> Vec<i64> {
    ["big_numbers", "categories", "customers", "order_items", "orders", "product_categories", "products"]
        .iter()
        .map(|t| fx.db.count(t))
        .collect()
}

/// The SQL is refused with an error mentioning `expected`, and no table changed.
fn refused(fx: &Fixture, sql: &str, expected: &str) {
    let before = counts(fx);
    let sum_before = fx.db.scalar_i64("SELECT SUM(loyalty_points) FROM customers");
    let result = query(fx, sql);
    let error = err(&result);
    assert!(error.to_lowercase().contains(&expected.to_lowercase()), "{sql:?} gave {error:?}, expected {expected:?}");
    assert_eq!(counts(fx), before, "{sql:?} changed a table");
    assert_eq!(fx.db.scalar_i64("SELECT SUM(loyalty_points) FROM customers"), sum_before, "{sql:?} changed data");
}

// ---------------------------------------------------------------------------------------------
// listing and good queries
// ---------------------------------------------------------------------------------------------

fn tool_names(fx: &Fixture) -> Vec<String> {
    let listed = handle(&fx.ctx(), "tools/list", json!({})).expect("tools/list");
    listed["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn listed_and_callable_only_when_the_service_enables_it() {
    let off = Fixture::new();
    assert!(!tool_names(&off).contains(&"query_sql".to_string()));
    let error = handle(&off.ctx(), "tools/call", json!({ "name": "query_sql", "arguments": { "sql": "SELECT 1" } }))
        .expect_err("query_sql must be unknown when off");
    assert!(error.message.contains("unknown tool \"query_sql\""), "{}", error.message);

    let on = fixture();
    let listed = handle(&on.ctx(), "tools/list", json!({})).expect("tools/list");
    let tool = listed["tools"].as_array().unwrap().iter().find(|t| t["name"] == "query_sql").expect("listed");
    assert_eq!(tool["annotations"]["readOnlyHint"], true);
    assert_eq!(tool["annotations"]["destructiveHint"], false);
    // A read-only credential sees it too: it only reads.
    let read_only = Fixture::configured(json!({ "database": { "kind": "d1", "binding": "DB" }, "query_sql": true }));
    assert!(tool_names(&read_only).contains(&"query_sql".to_string()));
}

#[test]
fn results_carry_every_field_the_output_schema_requires() {
    let fx = fixture();
    let spec = dbmcp::tools::find("query_sql").expect("in the catalog");
    let schema = (spec.output_schema)();
    let result = query(&fx, "SELECT id FROM products WHERE id < 3");
    let out = ok(&result);
    for required in schema["required"].as_array().expect("required") {
        assert!(out.get(required.as_str().unwrap()).is_some(), "missing {required} in {out}");
    }
}

#[test]
fn a_join_with_aggregates_returns_rows() {
    let fx = fixture();
    let result = query(
        &fx,
        "SELECT c.name, COUNT(o.id) AS orders, ROUND(SUM(o.total), 2) AS spent \
         FROM customers c JOIN orders o ON o.customer_id = c.id \
         WHERE c.id IN (1, 2) GROUP BY c.id, c.name ORDER BY c.id",
    );
    let out = ok(&result);
    assert_eq!(out["columns"], json!(["name", "orders", "spent"]));
    assert_eq!(out["returned"], 2);
    assert_eq!(out["truncated"], false);
    let rows = records(&result);
    assert_eq!(rows[0]["name"], "Zoë O'Brien");
    let direct = fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE customer_id = 1");
    assert_eq!(rows[0]["orders"], direct);
}

#[test]
fn the_row_cap_truncates_and_says_so() {
    let fx = fixture();
    let result = query(&fx, "SELECT id, name FROM products ORDER BY id");
    let out = ok(&result);
    assert_eq!(out["returned"], 10);
    assert_eq!(out["limit"], 10);
    assert_eq!(out["truncated"], true);
    assert_eq!(records(&result)[9]["id"], 10);
    // Exactly the cap: not truncated.
    let result = query(&fx, "SELECT id FROM products WHERE id <= 10");
    assert_eq!(ok(&result)["returned"], 10);
    assert_eq!(ok(&result)["truncated"], false);
    // The caller's own LIMIT still holds inside the cap.
    let result = query(&fx, "SELECT id FROM products ORDER BY id DESC LIMIT 3");
    assert_eq!(column(records(&result), "id"), vec![json!(200), json!(199), json!(198)]);
}

#[test]
fn parameters_are_bound_never_spliced() {
    let fx = fixture();
    let result = fx.call(
        "query_sql",
        json!({ "sql": "SELECT id, name FROM customers WHERE name = ? OR id = ?", "params": ["x' OR '1'='1", 3] }),
    );
    assert_eq!(column(records(&result), "id"), vec![json!(3)]);
    let result = fx.call("query_sql", json!({ "sql": "SELECT ?2 AS b, ?1 AS a", "params": [1, "two"] }));
    assert_eq!(records(&result)[0], json!({ "b": "two", "a": 1 }));
    let result = fx.call("query_sql", json!({ "sql": "SELECT ? AS a", "params": [] }));
    assert!(err(&result).contains("placeholders for 1 parameter(s) but params holds 0"), "{result}");
    let result = fx.call("query_sql", json!({ "sql": "SELECT ?1, ? ", "params": [1, 2] }));
    assert!(err(&result).contains("not both"), "{result}");
    let result = fx.call("query_sql", json!({ "sql": "SELECT :name", "params": [1] }));
    assert!(err(&result).contains("placeholder :name is not supported"), "{result}");
}

#[test]
fn ctes_values_set_operations_and_subqueries_work() {
    let fx = fixture();
    let result = query(
        &fx,
        "WITH big AS (SELECT customer_id, total FROM orders WHERE total > 500) \
         SELECT COUNT(*) AS n FROM big WHERE customer_id IN (SELECT id FROM customers WHERE country = 'Poland')",
    );
    let direct = fx.db.scalar_i64(
        "SELECT COUNT(*) FROM orders WHERE total > 500 AND customer_id IN (SELECT id FROM customers WHERE country = 'Poland')",
    );
    assert_eq!(records(&result)[0]["n"], direct);
    let result = query(&fx, "VALUES (1, 'a'), (2, 'b')");
    assert_eq!(ok(&result)["returned"], 2);
    let result = query(&fx, "SELECT name FROM categories WHERE id = 1 UNION SELECT name FROM products WHERE id = 1");
    assert_eq!(ok(&result)["returned"], 2);
    let result = query(
        &fx,
        "SELECT UPPER(name) AS n, LENGTH(sku) AS l, date('2024-01-31', '+1 day') AS d FROM products WHERE id = 1",
    );
    assert_eq!(records(&result)[0], json!({ "n": "WIRELESS MOUSE", "l": 8, "d": "2024-02-01" }));
}

#[test]
fn duplicate_result_column_names_are_never_merged() {
    // SQLite names the second `id` of the wrapped subquery `id:1`; PostgreSQL keeps both names and
    // the tool refuses (e2e), rather than return objects that silently lose a column.
    let fx = fixture();
    let result = query(&fx, "SELECT o.id, c.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = 1");
    assert_eq!(ok(&result)["columns"], json!(["id", "id:1"]));
    assert_eq!(records(&result)[0].as_object().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// attacks (SQLite)
// ---------------------------------------------------------------------------------------------

#[test]
fn stacked_statements_and_comment_tricks_are_refused() {
    let fx = fixture();
    for sql in [
        "SELECT 1; DROP TABLE orders",
        "SELECT 1; DELETE FROM orders",
        "SELECT 1 /* ; */ ; DELETE FROM orders",
        "SELECT 1 -- comment\n; DELETE FROM orders",
        "SELECT 1;;DELETE FROM orders",
    ] {
        refused(&fx, sql, "exactly one statement");
    }
    refused(&fx, "COMMIT; DROP TABLE orders", "this is a COMMIT statement");
    refused(&fx, "SELECT 1 DROP TABLE orders", "could not parse");
    // A comment hides nothing: the SQL run is re-printed from the AST, comment-free.
    let result = query(&fx, "SELECT id /* ; DROP TABLE orders */ FROM products -- ; DELETE FROM orders\n WHERE id = 1");
    assert_eq!(ok(&result)["returned"], 1);
    refused(&fx, "", "no statement");
    refused(&fx, "   -- only a comment", "no statement");
}

#[test]
fn anything_but_a_query_is_refused() {
    let fx = fixture();
    for sql in [
        "DELETE FROM orders",
        "UPDATE customers SET loyalty_points = 0",
        "INSERT INTO categories (name) VALUES ('x')",
        "DROP TABLE orders",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "ATTACH 'file:x?mode=memory' AS x",
        "DETACH DATABASE main",
        "PRAGMA writable_schema = 1",
        "PRAGMA table_info(big_numbers)",
        "VACUUM",
        "VACUUM INTO '/tmp/copy.db'",
        "CREATE TABLE x (a)",
        "REPLACE INTO categories (id, name) VALUES (1, 'x')",
        "BEGIN",
        "COMMIT",
        "EXPLAIN SELECT 1",
        "sElEcT 1; dElEtE fRoM orders",
    ] {
        let before = counts(&fx);
        let result = query(&fx, sql);
        let error = err(&result);
        assert!(
            error.contains("only a read query") || error.contains("could not parse") || error.contains("exactly one"),
            "{sql:?}: {error}"
        );
        assert_eq!(counts(&fx), before, "{sql:?}");
    }
}

#[test]
fn hidden_tables_and_system_catalogs_are_refused_however_quoted() {
    let fx = fixture();
    for sql in [
        "SELECT * FROM big_numbers",
        "SELECT label FROM \"big_numbers\"",
        "SELECT label FROM [big_numbers]",
        "SELECT label FROM `big_numbers`",
        "SELECT label FROM BIG_NUMBERS",
        "SELECT label FROM main.big_numbers",
        "SELECT sql FROM sqlite_master",
        "SELECT sql FROM \"sqlite_master\"",
        "SELECT sql FROM [sqlite_master]",
        "SELECT sql FROM `sqlite_schema`",
        "SELECT sql FROM main.sqlite_master",
        "SELECT sql FROM sqlite_temp_master",
        "SELECT name FROM temp.sqlite_master",
        "SELECT 1 WHERE 1 IN big_numbers",
        "SELECT (SELECT label FROM big_numbers LIMIT 1) AS x",
        "SELECT id FROM products WHERE id IN (SELECT id FROM big_numbers)",
        "SELECT id FROM products ORDER BY (SELECT label FROM big_numbers LIMIT 1)",
        "SELECT id FROM products UNION SELECT id FROM big_numbers",
        "SELECT p.id FROM products p JOIN big_numbers b ON b.id = p.id",
        // Unicode look-alike: Cyrillic "е" in "ordеrs" is another name, unknown here.
        "SELECT id FROM ord\u{0435}rs",
        "SELECT 1 FROM other.customers",
    ] {
        refused(&fx, sql, "unknown table");
    }
    // The refusal lists the visible tables only.
    let error = err(&query(&fx, "SELECT * FROM sqlite_master"));
    assert!(!error.contains("big_numbers"), "{error}");
    assert!(error.contains("customers"), "{error}");
}

#[test]
fn ctes_cannot_borrow_a_hidden_or_real_name() {
    let fx = fixture();
    refused(&fx, "WITH big_numbers AS (SELECT 1 AS a) SELECT a FROM big_numbers", "is also the name of a table");
    refused(&fx, "WITH sqlite_master AS (SELECT 1 AS a) SELECT a FROM sqlite_master", "is also the name of a table");
    refused(&fx, "WITH orders AS (SELECT 1 AS a) SELECT a FROM orders", "is also the name of a table");
    refused(&fx, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM r", "RECURSIVE");
}

#[test]
fn denied_functions_are_refused_wherever_they_hide() {
    let fx = fixture();
    for sql in [
        "SELECT load_extension('/tmp/evil.so')",
        "SELECT LOAD_EXTENSION('x')",
        "SELECT \"load_extension\"('x')",
        "SELECT readfile('/etc/passwd')",
        "SELECT writefile('/tmp/x', 'y')",
        "SELECT edit('x')",
        "SELECT fts3_tokenizer('simple')",
        "SELECT zeroblob(1000000000)",
        "SELECT randomblob(1000000000)",
        "SELECT printf('%.*c', 1000000000, 'x')",
        "SELECT sqlite_version()",
        "SELECT id FROM products ORDER BY load_extension('x')",
        "SELECT id FROM products WHERE id IN (SELECT load_extension('x'))",
        "SELECT id FROM products GROUP BY id HAVING load_extension('x')",
        "SELECT COALESCE(NULL, (SELECT readfile('/etc/passwd')))",
        "SELECT main.abs(1)",
    ] {
        refused(&fx, sql, "is not allowed");
    }
}

#[test]
fn locks_into_and_table_functions_are_refused() {
    let fx = fixture();
    refused(&fx, "SELECT 1 FROM json_each('[1,2]')", "table functions");
    refused(&fx, "SELECT 1 FROM pragma_table_info('big_numbers')", "table functions");
    refused(&fx, "SELECT name FROM pragma_table_list", "unknown table");
    refused(&fx, "SELECT value FROM generate_series(1, 10)", "table functions");
}

#[test]
fn hidden_and_masked_columns_cannot_be_read() {
    let fx = fixture();
    for (sql, expected) in [
        ("SELECT notes FROM customers", "unknown column \"notes\""),
        ("SELECT \"notes\" FROM customers", "unknown column"),
        ("SELECT c.NOTES FROM customers c", "unknown column \"NOTES\""),
        ("SELECT id FROM customers WHERE notes LIKE 'VIP%'", "unknown column"),
        ("SELECT id FROM customers ORDER BY notes", "unknown column"),
        ("SELECT email FROM customers", "column \"email\" is masked"),
        ("SELECT id FROM customers WHERE email = 'zoe.obrien@example.com'", "is masked"),
        ("SELECT x FROM (SELECT email AS x FROM customers)", "is masked"),
        ("SELECT * FROM customers", "name the columns"),
        ("SELECT c.* FROM customers c", "name the columns"),
        ("SELECT * FROM (SELECT * FROM customers)", "name the columns"),
        ("SELECT o.id FROM orders o JOIN customers c USING (notes)", "unknown column"),
        ("SELECT o.id FROM orders o NATURAL JOIN customers c", "NATURAL JOIN"),
        ("SELECT customers FROM customers", "whole row"),
        ("SELECT h FROM customers AS c(i, n, e, ci, co, cr, l, h)", "column lists on a table alias"),
        ("SELECT c FROM customers AS c", "whole row"),
    ] {
        refused(&fx, sql, expected);
    }
    // Other tables' wildcards are fine, and so is COUNT(*).
    assert_eq!(ok(&query(&fx, "SELECT * FROM categories WHERE id = 1"))["returned"], 1);
    assert_eq!(records(&query(&fx, "SELECT COUNT(*) AS n FROM customers"))[0]["n"], 500);
}

#[test]
fn deep_nesting_and_oversized_sql_are_errors_not_crashes() {
    let fx = fixture();
    // Within the size cap, so the parser's depth limit answers (not a stack overflow).
    let parens = format!("SELECT {}1{}", "(".repeat(8_000), ")".repeat(8_000));
    let subqueries = format!("SELECT {} 1 {}", "(SELECT ".repeat(1_500), ")".repeat(1_500));
    let joins = format!("SELECT 1 FROM {}products{}", "(".repeat(5_000), ")".repeat(5_000));
    let calls = format!("SELECT {}1{}", "abs(".repeat(3_000), ")".repeat(3_000));
    let derived = format!("SELECT 1 FROM {} products {}", "(SELECT 1 FROM ".repeat(1_000), ")".repeat(1_000));
    let ins = format!("SELECT 1 WHERE 1 IN {} 1 {}", "(SELECT 1 WHERE 1 IN ".repeat(700), ")".repeat(700));
    let nots = format!("SELECT {} 1", "- ".repeat(4_000));
    let cases = format!("SELECT {} 1 {}", "CASE WHEN 1 THEN ".repeat(700), " END".repeat(700));
    for sql in [parens, subqueries, joins, calls, derived, ins, nots, cases] {
        let head: String = sql.chars().take(30).collect();
        assert!(sql.len() <= readonly::MAX_SQL_BYTES, "{}", sql.len());
        // Debug builds have far larger frames than the release wasm: give the parser the room a
        // release build needs several times over, and check it answers with an error.
        let error = std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(move || {
                let fx = fixture();
                let before = counts(&fx);
                let error = err(&query(&fx, &sql));
                assert_eq!(counts(&fx), before);
                error
            })
            .expect("spawn")
            .join()
            .expect("no crash");
        assert!(error.starts_with("could not parse the SQL"), "{head}: {error}");
    }
    // 10,000 nested parentheses: over the size cap, refused before parsing.
    let deeper = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    refused(&fx, &deeper, "at most 16384");
    let long = format!("SELECT '{}'", "x".repeat(readonly::MAX_SQL_BYTES));
    refused(&fx, &long, "at most 16384");
    // Moderate nesting is fine.
    let nested = format!("SELECT {}1{} AS n", "(".repeat(8), ")".repeat(8));
    assert_eq!(records(&query(&fx, &nested))[0]["n"], 1);
    let three_levels = "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE id IN \
                        (SELECT order_id FROM order_items WHERE product_id IN (SELECT id FROM products WHERE id = 1))) \
                        AND abs(round(coalesce(loyalty_points, 0) * 1.0, 2)) >= 0 ORDER BY id LIMIT 1";
    assert_eq!(ok(&query(&fx, three_levels))["returned"], 1);
}

#[test]
fn what_runs_is_the_reprinted_ast_wrapped_in_the_cap() {
    let fx = fixture();
    let schema = futures_executor::block_on(fx.ctx().schema()).expect("schema");
    let allow = |_: &dbmcp::schema::Table| Ok(());
    let visibility = Visibility {
        schema: &schema,
        columns: &fx.service.columns,
        hidden_tables: &fx.service.hidden_tables,
        table_allowed: &allow,
    };
    let q = readonly::validate(Dialect::Sqlite, "select ID /* x */ from Products -- y", &visibility, 11).unwrap();
    assert_eq!(q.canonical, "SELECT ID FROM \"products\"");
    assert_eq!(q.wrapped, "SELECT * FROM (SELECT ID FROM \"products\") AS q LIMIT 11");
    let q = readonly::validate(Dialect::Postgres, "SELECT id FROM Products", &visibility, 11).unwrap();
    assert_eq!(q.canonical, "SELECT id FROM \"public\".\"products\"");
}

#[test]
fn the_row_policy_hook_refuses_a_table_saying_why() {
    let fx = fixture();
    let schema = futures_executor::block_on(fx.ctx().schema()).expect("schema");
    let refuse_orders = |t: &dbmcp::schema::Table| {
        if t.name == "orders" {
            Err("table \"orders\" has a row policy, which query_sql cannot apply yet".to_string())
        } else {
            Ok(())
        }
    };
    let visibility = Visibility {
        schema: &schema,
        columns: &fx.service.columns,
        hidden_tables: &fx.service.hidden_tables,
        table_allowed: &refuse_orders,
    };
    let error = readonly::validate(
        Dialect::Sqlite,
        "SELECT p.id FROM products p WHERE p.id IN (SELECT id FROM orders)",
        &visibility,
        11,
    )
    .unwrap_err();
    assert!(error.contains("row policy"), "{error}");
    assert!(readonly::validate(Dialect::Sqlite, "SELECT id FROM products", &visibility, 11).is_ok());
}

// ---------------------------------------------------------------------------------------------
// attacks on the PostgreSQL dialect (validator; the e2e file runs them on a real PostgreSQL)
// ---------------------------------------------------------------------------------------------

fn pg_validate(fx: &Fixture, sql: &str) -> Result<String, String> {
    let schema = futures_executor::block_on(fx.ctx().schema()).expect("schema");
    let allow = |_: &dbmcp::schema::Table| Ok(());
    let visibility = Visibility {
        schema: &schema,
        columns: &fx.service.columns,
        hidden_tables: &fx.service.hidden_tables,
        table_allowed: &allow,
    };
    readonly::validate(Dialect::Postgres, sql, &visibility, 11).map(|q| q.canonical)
}

#[test]
fn postgres_bypasses_are_refused() {
    let fx = fixture();
    for (sql, expected) in [
        ("COMMIT; DROP TABLE orders", "this is a COMMIT statement"),
        ("END; DROP TABLE orders", "this is a END statement"),
        ("SELECT 1; COMMIT; DROP TABLE orders", "exactly one statement"),
        ("WITH d AS (DELETE FROM orders RETURNING id) SELECT id FROM d", "data-modifying"),
        (
            "WITH a AS (SELECT 1), d AS (UPDATE customers SET loyalty_points = 0 RETURNING id) SELECT 1",
            "data-modifying",
        ),
        ("WITH a AS (WITH d AS (DELETE FROM orders RETURNING id) SELECT id FROM d) SELECT id FROM a", "data-modifying"),
        ("WITH i AS (INSERT INTO categories (name) VALUES ('x') RETURNING id) SELECT id FROM i", "data-modifying"),
        ("WITH x AS (SELECT 1) DELETE FROM orders", "data-modifying"),
        ("WITH x AS (SELECT 1) UPDATE orders SET total = 0", "data-modifying"),
        ("EXPLAIN ANALYZE DELETE FROM orders", "this is a EXPLAIN statement"),
        ("SELECT (SELECT c FROM customers c LIMIT 1)", "whole row"),
        ("SELECT id FROM products p, LATERAL (SELECT notes FROM customers) x", "unknown column"),
        ("SELECT id FROM products WHERE id IN (SELECT 1 FROM customers WHERE email LIKE 'a%')", "is masked"),
        ("SELECT pg_read_file('/etc/passwd')", "not allowed"),
        ("SELECT id FROM products ORDER BY (SELECT length(pg_read_file('/etc/passwd')))", "not allowed"),
        ("SELECT pg_catalog.pg_sleep(10)", "not allowed"),
        ("SELECT pg_sleep(10)", "not allowed"),
        ("SELECT \"pg_sleep\"(10)", "not allowed"),
        ("SELECT PG_SLEEP_FOR('1 minute')", "not allowed"),
        ("SELECT pg_catalog.lower('x')", "bare name"),
        ("SELECT set_config('transaction_read_only', 'off', false)", "not allowed"),
        ("SELECT current_setting('data_directory')", "not allowed"),
        ("SELECT lo_import('/etc/passwd')", "not allowed"),
        ("SELECT lo_export(1, '/tmp/x')", "not allowed"),
        ("SELECT dblink_exec('host=x', 'DROP TABLE orders')", "not allowed"),
        ("SELECT query_to_xml('DELETE FROM orders', true, true, '')", "not allowed"),
        ("SELECT nextval('orders_id_seq')", "not allowed"),
        ("SELECT pg_ls_dir('.')", "not allowed"),
        ("SELECT pg_advisory_lock(1)", "not allowed"),
        ("SELECT pg_terminate_backend(1)", "not allowed"),
        ("SELECT repeat('x', 1000000000)", "not allowed"),
        ("SELECT id FROM products FOR UPDATE", "FOR UPDATE"),
        ("SELECT id FROM products FOR SHARE", "FOR UPDATE"),
        ("SELECT id INTO copy FROM products", "INTO"),
        ("SELECT * FROM pg_catalog.pg_authid", "unknown table"),
        ("SELECT usename FROM pg_user", "unknown table"),
        ("SELECT table_name FROM information_schema.tables", "unknown table"),
        ("SELECT * FROM \"public\".\"big_numbers\"", "unknown table"),
        ("SELECT * FROM big_numbers", "unknown table"),
        ("SELECT * FROM generate_series(1, 10)", "table functions"),
        ("SELECT * FROM pg_read_file('/etc/passwd')", "table functions"),
        ("SELECT * FROM ROWS FROM (generate_series(1, 3))", ""),
        ("TABLE big_numbers", ""),
        ("TABLE products", ""),
        ("COPY orders TO '/tmp/x'", "only a read query"),
        ("SET transaction_read_only = off", "only a read query"),
        ("DO $$ BEGIN DELETE FROM orders; END $$", ""),
        ("PREPARE p AS DELETE FROM orders", "only a read query"),
        ("SELECT 1 FROM products LIMIT 1; EXECUTE p", "exactly one statement"),
        ("SELECT id FROM products WHERE 1 OPERATOR(pg_catalog.=) 1", "custom operators"),
        ("SELECT row_to_json(c) FROM customers c", "not allowed"),
        ("SELECT to_jsonb(c) FROM customers c", "not allowed"),
        ("SELECT json_agg(c) FROM customers c", "whole row"),
        ("SELECT json_agg(customers) FROM customers", "whole row"),
        ("SELECT c FROM customers c", "whole row"),
        ("SELECT json_agg(c.*) FROM customers c", "name the columns"),
        ("SELECT notes FROM customers", "unknown column"),
        ("SELECT \"Notes\" FROM customers", "unknown column"),
        ("SELECT h FROM customers AS c(i, n, e, ci, co, cr, l, h)", "column lists on a table alias"),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", "RECURSIVE"),
        ("SELECT $1 FROM products; SELECT pg_sleep(1)", "exactly one statement"),
    ] {
        let result = pg_validate(&fx, sql);
        let error = result.expect_err(&format!("{sql:?} was accepted"));
        assert!(
            error.to_lowercase().contains(&expected.to_lowercase()),
            "{sql:?} gave {error:?}, expected {expected:?}"
        );
    }
    // Good PostgreSQL queries pass, re-printed with canonical names.
    assert_eq!(
        pg_validate(&fx, "SELECT date_trunc('month', ordered_at::timestamp) AS m, count(*) FROM orders WHERE total > $1 GROUP BY 1")
            .unwrap(),
        "SELECT date_trunc('month', ordered_at::TIMESTAMP) AS m, count(*) FROM \"public\".\"orders\" WHERE total > $1 GROUP BY 1"
    );
    assert!(pg_validate(&fx, "SELECT name FROM Public.Products WHERE id = $1").is_ok());
    assert!(pg_validate(&fx, "SELECT name FROM \"Products\"").is_err(), "a quoted name is exact on PostgreSQL");
}

#[test]
fn a_columns_key_with_an_upper_case_schema_prefix_still_protects_its_columns() {
    let mut config = service();
    config["columns"] = json!({ "MAIN.customers": { "hidden": ["notes"], "masked": { "email": "email" } } });
    let fx = Fixture::configured(config);
    refused(&fx, "SELECT notes FROM customers", "unknown column");
    refused(&fx, "SELECT * FROM customers", "cannot expand *");
    refused(&fx, "SELECT email FROM customers", "is masked");
}
