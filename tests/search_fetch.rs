//! `search` and `fetch` (OpenAI's connector contract) on real SQLite through `tools/call`:
//! ranking, the cap, LIKE wildcards and quotes in queries matching themselves, Unicode, hidden and
//! masked columns, record ids (composite keys, `:` in table names) and the exact result shapes.

mod common;

use common::*;
use serde_json::{json, Value as Json};

fn d1() -> Json {
    json!({ "database": { "kind": "d1", "binding": "DB" } })
}

fn with(extra: Json) -> Json {
    let mut service = d1();
    for (k, v) in extra.as_object().unwrap() {
        service[k] = v.clone();
    }
    service
}

/// A small database whose rows make ranking and escaping visible.
fn notes_db() -> Sqlite {
    let db = Sqlite::open_in_memory();
    db.execute_batch(
        r#"
        CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT, score INTEGER);
        INSERT INTO notes VALUES
          (1, 'apple', 'nothing else', 1),
          (2, 'apple pie', 'with cherry', 2),
          (3, 'cherry', 'apple and cherry and pear', 3),
          (4, '100% cotton', 'shirt', 4),
          (5, '100 cotton', 'shirt', 5),
          (6, 'a_b', 'underscore', 6),
          (7, 'axb', 'no underscore', 7),
          (8, 'back\slash', 'one', 8),
          (9, 'backslash', 'two', 9),
          (10, 'O''Brien', 'quote', 10),
          (11, NULL, 'APPLE shouting', 11);
        CREATE TABLE pairs (a INTEGER, b TEXT, label TEXT, PRIMARY KEY (a, b));
        INSERT INTO pairs VALUES (1, 'x:y', 'first pair'), (2, '[z]', 'second pair');
        CREATE TABLE "odd:name" (id INTEGER PRIMARY KEY, label TEXT);
        INSERT INTO "odd:name" VALUES (7, 'colon table');
        CREATE TABLE keyless (label TEXT);
        INSERT INTO keyless VALUES ('apple without a key');
        "#,
    );
    db
}

fn notes() -> Fixture {
    Fixture::on(notes_db(), d1())
}

fn results(result: &Json) -> Vec<Json> {
    ok(result)["results"].as_array().unwrap_or_else(|| panic!("no results in {result}")).clone()
}

fn ids(result: &Json) -> Vec<String> {
    results(result).iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn results_are_ranked_by_words_then_matches_and_have_the_contract_shape() {
    let fx = notes();
    let result = fx.call("search", json!({ "query": "apple cherry" }));
    // 3: both words, 4 matches; 2: both words, 2 matches; then one word: 1, 11 (case ignored).
    assert_eq!(ids(&result), vec!["notes:3", "notes:2", "notes:1", "notes:11"]);
    for entry in results(&result) {
        let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["id", "title", "url"], "{entry}");
    }
    let first = &results(&result)[0];
    assert_eq!(first["title"], "cherry");
    assert_eq!(first["url"], format!("{ORIGIN}/mcp/demo/records/notes/3"));
    assert_eq!(results(&result)[3]["title"], "notes #11", "a NULL title falls back to <table> #<key>");
    let keyless = fx.call("search", json!({ "query": "without" }));
    assert!(ids(&keyless).is_empty(), "a table without a primary key is not searched: {keyless}");
}

#[test]
fn results_are_capped_by_max_results() {
    let fx = Fixture::on(notes_db(), with(json!({ "search": { "max_results": 2 } })));
    assert_eq!(ids(&fx.call("search", json!({ "query": "apple cherry" }))), vec!["notes:3", "notes:2"]);
    let demo = Fixture::configured(with(json!({ "search": { "max_results": 5 } })));
    assert_eq!(results(&demo.call("search", json!({ "query": "a" }))).len(), 5);
    let default = Fixture::configured(d1());
    assert_eq!(results(&default.call("search", json!({ "query": "e" }))).len(), 20, "the default cap is 20");
}

#[test]
fn wildcards_backslashes_and_quotes_in_a_query_match_themselves() {
    let fx = notes();
    for (query, expected) in [
        ("100%", vec!["notes:4"]),
        ("a_b", vec!["notes:6"]),
        ("back\\slash", vec!["notes:8"]),
        ("O'Brien", vec!["notes:10"]),
        ("%", vec!["notes:4"]),
        ("_", vec!["notes:6"]),
        ("'; DROP TABLE notes; --", vec!["odd:name:7"]),
    ] {
        assert_eq!(ids(&fx.call("search", json!({ "query": query }))), expected, "{query}");
    }
    assert_eq!(fx.db.count("notes"), 11, "only \"table\" matched (the colon table's label); nothing ran");
}

#[test]
fn unicode_text_is_found_and_ascii_case_is_ignored() {
    let fx = Fixture::configured(d1());
    assert!(ids(&fx.call("search", json!({ "query": "Łódź" }))).contains(&"customers:1".to_string()));
    assert!(ids(&fx.call("search", json!({ "query": "müller" }))).contains(&"customers:3".to_string()));
    assert!(ids(&fx.call("search", json!({ "query": "東京" }))).contains(&"customers:4".to_string()));
    let cafe = fx.call("search", json!({ "query": "café espresso" }));
    assert_eq!(results(&cafe)[0]["id"], "products:5");
    assert_eq!(results(&cafe)[0]["title"], "SKU-0005", "the first text column titles the result");
}

#[test]
fn an_empty_or_missing_query_is_a_tool_error() {
    let fx = notes();
    for args in [json!({ "query": "" }), json!({ "query": "  \"\" " })] {
        assert_mentions(&err(&fx.call("search", args)), &["query is empty"]);
    }
    assert_mentions(&err(&fx.call("search", json!({}))), &["invalid arguments", "query"]);
    assert_mentions(&err(&fx.call("search", json!({ "query": 3 }))), &["invalid arguments"]);
    assert_mentions(&err(&fx.call("search", json!({ "query": "x", "limit": 3 }))), &["unknown field"]);
}

#[test]
fn a_long_query_is_cut_to_its_first_words() {
    let fx = notes();
    let many = format!("{} apple", (0..10).map(|i| format!("zz{i}")).collect::<Vec<_>>().join(" "));
    assert!(ids(&fx.call("search", json!({ "query": many }))).is_empty(), "the 11th word is beyond the cap");
    let long = format!("apple {}", "y".repeat(2000));
    assert_eq!(ids(&fx.call("search", json!({ "query": long }))).len(), 4);
}

#[test]
fn hidden_columns_are_never_searched_or_shown_and_masked_ones_are_not_searched() {
    let service = with(json!({
        "columns": { "customers": { "hidden": ["notes"], "masked": { "email": "email" } } },
        "search": { "tables": { "customers": { "title": "email" } } }
    }));
    let fx = Fixture::configured(service);
    // "VIP" is only in customer 1's hidden notes; "obrien" only in the masked email.
    assert!(ids(&fx.call("search", json!({ "query": "VIP" }))).is_empty());
    assert!(ids(&fx.call("search", json!({ "query": "zoe.obrien" }))).is_empty());
    let found = fx.call("search", json!({ "query": "Łódź" }));
    assert_eq!(results(&found)[0]["title"], "z***@example.com", "a masked title is masked");
    let record = ok(&fx.call("fetch", json!({ "id": "customers:1" }))).clone();
    let text = record["text"].as_str().unwrap();
    assert!(!text.contains("notes") && !text.contains("VIP"), "{text}");
    assert!(text.contains("email: z***@example.com") && !text.contains("obrien"), "{text}");
    assert!(text.contains("name: Zoë O'Brien"), "{text}");
    // Configuring a masked or hidden column for search is refused, naming it.
    for (columns, expected) in [(json!(["email"]), "\"email\" is masked"), (json!(["notes"]), "no column \"notes\"")] {
        let fx = Fixture::configured(with(json!({
            "columns": { "customers": { "hidden": ["notes"], "masked": { "email": "email" } } },
            "search": { "tables": { "customers": { "columns": columns } } }
        })));
        assert_mentions(&err(&fx.call("search", json!({ "query": "a" }))), &[expected, "search.tables.customers"]);
    }
}

#[test]
fn hidden_tables_are_neither_searched_nor_fetched() {
    let fx = Fixture::configured(with(json!({ "hidden_tables": ["customers"] })));
    let found = fx.call("search", json!({ "query": "Łódź" }));
    assert!(ids(&found).iter().all(|id| !id.starts_with("customers:")), "{found}");
    let error = err(&fx.call("fetch", json!({ "id": "customers:1" })));
    assert_mentions(&error, &["unknown table \"customers\""]);
    assert!(!error.split("tables are:").nth(1).unwrap().contains("customers"), "{error}");
}

#[test]
fn configured_tables_columns_and_titles_are_used_and_checked() {
    let fx = Fixture::configured(with(json!({
        "search": { "tables": { "orders": { "columns": ["status"], "title": "status" } }, "max_results": 3 }
    })));
    let found = fx.call("search", json!({ "query": "paid" }));
    assert_eq!(results(&found).len(), 3);
    for entry in results(&found) {
        assert!(entry["id"].as_str().unwrap().starts_with("orders:"), "{entry}");
        assert_eq!(entry["title"], "paid");
    }
    let fetched = ok(&fx.call("fetch", json!({ "id": results(&found)[0]["id"] }))).clone();
    assert_eq!(fetched["title"], "paid", "fetch titles a record as search does");
    let typo = Fixture::configured(with(json!({ "search": { "tables": { "order": {} } } })));
    assert_mentions(&err(&typo.call("search", json!({ "query": "x" }))), &["search.tables names \"order\""]);
}

#[test]
fn fetch_returns_the_contract_shape_and_every_search_id_fetches() {
    let fx = notes();
    let found = fx.call("search", json!({ "query": "pair cotton colon" }));
    assert_eq!(
        ids(&found),
        vec!["notes:4", "notes:5", "odd:name:7", "pairs:[1,\"x:y\"]", "pairs:[2,\"[z]\"]"],
        "composite keys are JSON arrays; a table name may hold a colon"
    );
    for entry in results(&found) {
        let record = ok(&fx.call("fetch", json!({ "id": entry["id"] }))).clone();
        let keys: Vec<&String> = record.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["id", "title", "text", "url", "metadata"]);
        assert_eq!(record["id"], entry["id"]);
        assert_eq!(record["url"], entry["url"]);
        assert_eq!(record["title"], entry["title"]);
    }
    let pair = ok(&fx.call("fetch", json!({ "id": "pairs:[1,\"x:y\"]" }))).clone();
    assert_eq!(pair["text"], "a: 1\nb: x:y\nlabel: first pair");
    assert_eq!(pair["metadata"], json!({ "table": "pairs", "key": { "a": 1, "b": "x:y" } }));
    assert_eq!(pair["url"], format!("{ORIGIN}/mcp/demo/records/pairs/%5B1%2C%22x%3Ay%22%5D"));
    let note = ok(&fx.call("fetch", json!({ "id": "notes:8" }))).clone();
    assert_eq!(note["text"], "id: 8\ntitle: back\\slash\nbody: one\nscore: 8");
    assert_eq!(ok(&fx.call("fetch", json!({ "id": "odd:name:7" })))["metadata"]["table"], "odd:name");
}

#[test]
fn bad_ids_are_tool_errors_that_say_what_an_id_is() {
    let fx = notes();
    for (id, expected) in [
        ("notes", "ids are <table>:<primary key>"),
        ("", "ids are <table>:<primary key>"),
        ("nope:1", "unknown table \"nope\""),
        ("notes:", "the id has no key after \"notes:\""),
        ("notes:abc", "is an integer; \"abc\" is not one"),
        ("notes:999", "no record of table \"notes\" has the key 999"),
        ("pairs:1", "composite primary key (a, b)"),
        ("pairs:[1]", "JSON array of 2 values"),
        ("pairs:[1,null]", "JSON array of 2 values"),
        ("pairs:[1,\"nope\"]", "no record of table \"pairs\""),
        ("keyless:1", "has no primary key"),
    ] {
        assert_mentions(&err(&fx.call("fetch", json!({ "id": id }))), &[expected]);
    }
    assert_mentions(&err(&fx.call("fetch", json!({ "id": 17 }))), &["invalid arguments"]);
}

#[test]
fn both_answer_plain_json_text_equal_to_structured_content_even_with_marking_on() {
    let fx = notes();
    assert!(fx.service.untrusted_data_marking);
    for (tool, args) in [("search", json!({ "query": "apple" })), ("fetch", json!({ "id": "notes:1" }))] {
        let result = fx.call(tool, args);
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(!text.contains("untrusted-data-"), "{tool}: {text}");
        let parsed: Json = serde_json::from_str(text).unwrap_or_else(|e| panic!("{tool}: {e}: {text}"));
        assert_eq!(parsed, result["structuredContent"], "{tool}");
    }
    let rows = fx.call("get_table_data", json!({ "table": "notes" }));
    assert!(rows["content"][0]["text"].as_str().unwrap().contains("untrusted-data-"), "other tools keep the fence");
}

#[test]
fn search_reads_every_table_in_one_round_trip() {
    let fx = Fixture::configured(with(json!({ "max_queries_per_call": 1 })));
    assert!(!ids(&fx.call("search", json!({ "query": "paid" }))).is_empty());
}

#[test]
fn a_bad_search_setting_is_a_configuration_error() {
    let services = json!({ "demo": with(json!({ "search": { "max_results": 1000, "tables": [] } })) });
    let errors = dbmcp::config::parse(dbmcp::config::RawConfig {
        services: Some(&services),
        session_idle_seconds: None,
        allowed_origins: None,
        mask_secret: None,
    })
    .unwrap_err()
    .0
    .join("\n");
    assert_mentions(
        &errors,
        &["SERVICES.demo.search.max_results: must be between 1 and 100", "SERVICES.demo.search.tables"],
    );
}

#[test]
fn a_wide_table_and_many_words_stay_within_the_bound_parameter_limit() {
    let db = Sqlite::open_in_memory();
    let columns: Vec<String> = (0..40).map(|i| format!("c{i} TEXT")).collect();
    db.execute_batch(&format!("CREATE TABLE wide (id INTEGER PRIMARY KEY, {});", columns.join(", ")));
    db.execute_batch("INSERT INTO wide (id, c0, c39) VALUES (1, 'alpha', 'omega');");
    let fx = Fixture::on(db, d1());
    let found = fx.call("search", json!({ "query": "alpha b c d e f g h" }));
    assert_eq!(ids(&found), vec!["wide:1"], "the first words are kept when columns × words would pass 90");
    assert_eq!(ids(&fx.call("search", json!({ "query": "omega" }))), vec!["wide:1"], "every column is searched");
}

#[test]
fn arguments_are_checked_as_strictly_as_every_tool_s() {
    let fx = notes();
    for (tool, args, expected) in [
        ("search", json!({}), "invalid arguments: missing field `query`"),
        ("search", json!({ "query": ["a"] }), "invalid arguments: `query` must be a string, got [\"a\"]"),
        ("search", json!({ "query": "a", "q": 1 }), "invalid arguments: unknown field `q`, expected `query`"),
        ("search", json!("apple"), "invalid arguments: arguments must be an object"),
        ("fetch", json!({ "id": null }), "invalid arguments: `id` must be a string, got null"),
        ("fetch", json!({ "ids": "notes:1" }), "invalid arguments: unknown field `ids`, expected `id`"),
    ] {
        assert_eq!(err(&fx.call(tool, args.clone())), expected, "{tool} {args}");
    }
}

#[test]
fn the_search_language_is_checked_against_postgres_configurations_and_refused_on_d1() {
    let parse = |services: Json| {
        dbmcp::config::parse(dbmcp::config::RawConfig {
            services: Some(&services),
            session_idle_seconds: None,
            allowed_origins: None,
            mask_secret: None,
        })
    };
    let pg = |search: Json| json!({ "demo": { "database": { "kind": "postgres", "connection_string_secret": "PG_URL" }, "search": search } });
    let config = parse(pg(json!({ "language": "english" }))).unwrap_or_else(|e| panic!("{:?}", e.0));
    assert_eq!(config.services["demo"].search.language(), "english");
    let plain = parse(pg(json!({}))).unwrap_or_else(|e| panic!("{:?}", e.0));
    assert_eq!(plain.services["demo"].search.language(), "simple", "no stemming unless configured");
    for bad in [json!("english'); DROP TABLE t; --"), json!("pg_catalog.english"), json!(1), json!("klingon")] {
        let errors = parse(pg(json!({ "language": bad.clone() }))).unwrap_err().0.join("\n");
        assert_mentions(
            &errors,
            &["SERVICES.demo.search.language: must be one of PostgreSQL's text search configurations"],
        );
    }
    let d1_errors =
        parse(json!({ "demo": with(json!({ "search": { "language": "english" } })) })).unwrap_err().0.join("\n");
    assert_mentions(&d1_errors, &["SERVICES.demo.search.language: applies to PostgreSQL's full-text search only"]);
}

#[test]
fn a_table_whose_row_policy_refuses_the_caller_is_left_out_not_the_whole_search() {
    // The fixture's caller has no customer_id: the orders policy refuses it.
    let fx = Fixture::configured(with(json!({ "rows": { "orders": "customer_id = {user.customer_id}" } })));
    let found = fx.call("search", json!({ "query": "Łódź" }));
    let found_ids = ids(&found);
    assert!(found_ids.iter().any(|id| id.starts_with("customers:")), "{found}");
    assert!(found_ids.iter().all(|id| !id.starts_with("orders:")), "{found}");
}
