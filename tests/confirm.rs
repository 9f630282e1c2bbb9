//! Confirm before destroying, on real SQLite through `tools/call`: the row limit, the exact count
//! and preview, the two-step token and every refusal, `confirm_writes`, and the MRTR rendering and
//! retry parsing of `server::call_tool_with_input`.

mod common;

use std::cell::Cell;

use async_trait::async_trait;
use common::*;
use dbmcp::db::{Database, DbError, QueryResult, Statement};
use dbmcp::mcp::server::{call_tool_with_input, ConfirmMode};
use dbmcp::sql::Dialect;
use dbmcp::tools::confirm::INPUT_KEY;
use dbmcp::tools::ToolContext;
use serde_json::{json, Value as Json};

const ITEMS_11: &str = "id <= 11";

fn items(fx: &Fixture) -> i64 {
    fx.db.count("order_items")
}

/// The two-step first answer: nothing written, count and token present.
fn asked(result: &Json) -> &Json {
    let out = ok(result);
    assert_eq!(out["confirmation_required"], true, "expected a confirmation, got {out}");
    out
}

fn with_confirm(mut args: Json, token: &Json) -> Json {
    args["confirm"] = token.clone();
    args
}

fn delete_11() -> Json {
    json!({ "table": "order_items", "filter": ITEMS_11 })
}

/// `tools/call` params through the entry point the modern path uses.
fn call_with_input(ctx: &ToolContext<'_>, params: Json, mode: ConfirmMode) -> Json {
    let params = params.as_object().cloned().expect("params object");
    futures_executor::block_on(call_tool_with_input(Some(&params), ctx, mode, None))
        .unwrap_or_else(|e| panic!("protocol error {} {}", e.code, e.message))
}

fn modern(fx: &Fixture, params: Json) -> Json {
    call_with_input(&fx.ctx(), params, ConfirmMode::Elicitation)
}

fn accept() -> Json {
    json!({ INPUT_KEY: { "action": "accept", "content": { "confirm": true } } })
}

// ---------------------------------------------------------------------------------------------
// threshold, count, preview
// ---------------------------------------------------------------------------------------------

#[test]
fn a_filter_delete_within_the_limit_runs_at_once() {
    let fx = Fixture::new();
    let out = ok(&fx.call("delete_records", json!({ "table": "order_items", "filter": "id <= 10" }))).clone();
    assert_eq!(out["deleted"], 10);
    assert!(out.get("confirmation_required").is_none());
    assert_eq!(items(&fx), 10540 - 10);
}

#[test]
fn a_filter_delete_over_the_limit_asks_with_the_exact_count_and_a_preview_and_writes_nothing() {
    let fx = Fixture::new();
    let result = fx.call("delete_records", delete_11());
    let out = asked(&result);
    assert_eq!(out["count"], 11);
    assert_eq!(out["deleted"], 0, "the result still fits the tool's output schema");
    assert_eq!(out["keys"], json!([]));
    assert_eq!(out["action"], "delete");
    assert_eq!(out["expires_in_seconds"], 300);
    let preview = out["preview"].as_array().unwrap();
    assert_eq!(preview.len(), 5);
    assert_eq!(preview.iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(preview[0].as_object().unwrap().keys().next().unwrap(), "id", "primary key first");
    assert_eq!(preview[0]["unit_price"], 24.99);
    let token = out["confirmation_token"].as_str().unwrap();
    let message = out["message"].as_str().unwrap();
    assert_mentions(
        message,
        &["Nothing was deleted", "delete 11 rows of \"order_items\"", "more than", "10", "`confirm`"],
    );
    assert!(token.len() > 100, "{token}");
    assert_eq!(items(&fx), 10540, "nothing deleted before the confirmation");
}

#[test]
fn the_confirmed_retry_deletes_exactly_the_rows_shown() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    let done = fx.call("delete_records", with_confirm(delete_11(), &token));
    let out = ok(&done);
    assert_eq!(out["deleted"], 11);
    assert_eq!(sorted(&out["keys"]), (1..=11).collect::<Vec<i64>>());
    assert_eq!(items(&fx), 10540 - 11);
}

fn sorted(keys: &Json) -> Vec<i64> {
    let mut v: Vec<i64> = keys.as_array().unwrap().iter().map(|k| k.as_i64().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn argument_order_does_not_matter_for_the_token() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    let reordered = json!({ "confirm": token, "filter": ITEMS_11, "table": "order_items" });
    assert_eq!(ok(&fx.call("delete_records", reordered))["deleted"], 11);
}

#[test]
fn an_update_over_the_limit_shows_the_changes_and_the_confirmed_retry_applies_them() {
    let fx = Fixture::new();
    let args = json!({ "table": "orders", "filter": "status = 'pending'", "patch": { "status": "paid" } });
    let result = fx.call("update_records", args.clone());
    let out = asked(&result);
    assert_eq!(out["count"], 135);
    assert_eq!(out["changes"], json!({ "status": "paid" }));
    assert_eq!((out["updated"].clone(), out["records"].clone()), (json!(0), json!([])));
    assert_mentions(
        out["message"].as_str().unwrap(),
        &["update 135 rows of \"orders\", setting {\"status\":\"paid\"}"],
    );
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE status = 'pending'"), 135);
    let done = fx.call("update_records", with_confirm(args, &out["confirmation_token"]));
    assert_eq!(ok(&done)["updated"], 135);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE status = 'pending'"), 0);
}

#[test]
fn ids_alone_are_not_limited_by_the_row_count() {
    let fx = Fixture::new();
    let ids: Vec<i64> = (1..=20).collect();
    let out = ok(&fx.call("delete_records", json!({ "table": "order_items", "ids": ids }))).clone();
    assert_eq!(out["deleted"], 20);
}

#[test]
fn the_limit_follows_the_service_setting() {
    let base = json!({ "database": { "kind": "d1", "binding": "DB" }, "read_only": false });
    let mut strict = base.clone();
    strict["confirm_over_rows"] = json!(0);
    let fx = Fixture::configured(strict);
    assert_eq!(asked(&fx.call("delete_records", json!({ "table": "order_items", "filter": "id = 1" })))["count"], 1);
    // Nothing matching needs no confirmation.
    assert_eq!(ok(&fx.call("delete_records", json!({ "table": "order_items", "filter": "id < 0" })))["deleted"], 0);
    let mut off = base;
    off["confirm_over_rows"] = json!(false);
    let fx = Fixture::configured(off);
    assert_eq!(
        ok(&fx.call("delete_records", json!({ "table": "order_items", "filter": "id <= 500" })))["deleted"],
        500
    );
}

// ---------------------------------------------------------------------------------------------
// refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn a_replayed_token_is_refused_and_deletes_nothing_more() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    assert_eq!(ok(&fx.call("delete_records", with_confirm(delete_11(), &token)))["deleted"], 11);
    // Put the rows back: the count would match again, yet the token is refused before any write.
    fx.db.execute_batch(
        "INSERT INTO order_items (id, order_id, product_id, quantity, unit_price) VALUES \
         (1,1,1,2,24.99),(2,1,2,1,89.5),(3,2,3,1,199.0),(4,3,4,3,34.95),(5,3,5,1,19.99),(6,4,1,1,1.0),\
         (7,4,1,1,1.0),(8,4,1,1,1.0),(9,4,1,1,1.0),(10,4,1,1,1.0),(11,4,1,1,1.0);",
    );
    let message = err(&fx.call("delete_records", with_confirm(delete_11(), &token)));
    assert_mentions(&message, &["already used", "works once", "without `confirm`"]);
    assert_eq!(items(&fx), 10540);
}

#[test]
fn a_tampered_token_is_refused() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].as_str().unwrap().to_string();
    let mut chars: Vec<char> = token.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [json!(tampered), json!("forged"), json!(format!("{token}x"))] {
        let message = err(&fx.call("delete_records", with_confirm(delete_11(), &bad)));
        assert_mentions(&message, &["not valid", "altered", "Nothing was changed"]);
    }
    let message = err(&fx.call("delete_records", with_confirm(delete_11(), &json!(42))));
    assert_mentions(&message, &["confirm must be the confirmation_token string"]);
    assert_eq!(items(&fx), 10540);
}

#[test]
fn an_expired_token_is_refused() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    fx.set_now(1_000 + 300_000);
    let message = err(&fx.call("delete_records", with_confirm(delete_11(), &token)));
    assert_mentions(&message, &["expired"]);
    assert_eq!(items(&fx), 10540);
    // One millisecond earlier it would still have worked.
    fx.set_now(1_000);
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    fx.set_now(1_000 + 299_999);
    assert_eq!(ok(&fx.call("delete_records", with_confirm(delete_11(), &token)))["deleted"], 11);
}

#[test]
fn a_token_for_other_arguments_is_refused() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    for other in [
        json!({ "table": "order_items", "filter": "id <= 12" }),
        json!({ "table": "order_items", "filter": ITEMS_11, "ids": [1] }),
        json!({ "table": "orders", "filter": ITEMS_11 }),
    ] {
        let message = err(&fx.call("delete_records", with_confirm(other.clone(), &token)));
        assert_mentions(&message, &["other arguments", "Nothing was changed"]);
    }
    let update = json!({ "table": "order_items", "filter": ITEMS_11, "patch": { "quantity": 0 } });
    assert_mentions(&err(&fx.call("update_records", with_confirm(update, &token))), &["other arguments"]);
    assert_eq!(items(&fx), 10540);
    // The refusals did not use the token up.
    assert_eq!(ok(&fx.call("delete_records", with_confirm(delete_11(), &token)))["deleted"], 11);
}

#[test]
fn a_token_of_another_principal_or_service_is_refused() {
    let mut fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    fx.principal = "key:someone-else".into();
    assert_mentions(&err(&fx.call("delete_records", with_confirm(delete_11(), &token))), &["another credential"]);
    fx.principal = "tester".into();
    fx.service.name = "other".into();
    assert_mentions(&err(&fx.call("delete_records", with_confirm(delete_11(), &token))), &["another service"]);
    assert_eq!(items(&fx), 10540);
}

#[test]
fn a_token_from_another_key_is_not_valid() {
    let mut fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    fx.confirm.keys =
        Some(dbmcp::oauth::tokens::SigningKeys::parse("k2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4").unwrap());
    assert_mentions(&err(&fx.call("delete_records", with_confirm(delete_11(), &token))), &["not valid"]);
}

#[test]
fn without_a_signing_key_the_store_secret_seals_and_stays_the_same() {
    let mut fx = Fixture::new();
    fx.confirm.keys = None;
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    assert_eq!(ok(&fx.call("delete_records", with_confirm(delete_11(), &token)))["deleted"], 11);
}

#[test]
fn a_count_changed_since_the_preview_is_refused_and_nothing_is_written() {
    let fx = Fixture::new();
    let token = asked(&fx.call("delete_records", delete_11()))["confirmation_token"].clone();
    fx.db.execute_batch("DELETE FROM order_items WHERE id = 7;");
    let message = err(&fx.call("delete_records", with_confirm(delete_11(), &token)));
    assert_mentions(&message, &["rows changed", "11 rows matched then, 10 match now", "Nothing was deleted"]);
    assert_eq!(items(&fx), 10540 - 1, "the 10 remaining rows are still there");
    // An update whose rows grew is refused the same way.
    let args = json!({ "table": "orders", "filter": "status = 'pending'", "patch": { "status": "paid" } });
    let token = asked(&fx.call("update_records", args.clone()))["confirmation_token"].clone();
    fx.db.execute_batch("UPDATE orders SET status = 'pending' WHERE id = 1;");
    let message = err(&fx.call("update_records", with_confirm(args, &token)));
    assert_mentions(&message, &["135 rows matched then, 136 match now", "Nothing was updated"]);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE status = 'paid' AND id = 1"), 0);
    assert_eq!(fx.db.scalar_i64("SELECT COUNT(*) FROM orders WHERE status = 'pending'"), 136);
}

#[test]
fn without_a_store_a_write_needing_confirmation_is_refused() {
    let fx = Fixture::new();
    let ctx = ToolContext { confirm: Default::default(), ..fx.ctx() };
    let message = err(&call_tool(&ctx, "delete_records", delete_11()));
    assert_mentions(&message, &["confirmation", "unavailable", "nothing was changed"]);
    assert_eq!(items(&fx), 10540);
    // Small writes need no store.
    assert_eq!(
        ok(&call_tool(&ctx, "delete_records", json!({ "table": "order_items", "filter": "id = 1" })))["deleted"],
        1
    );
}

// ---------------------------------------------------------------------------------------------
// confirm_writes
// ---------------------------------------------------------------------------------------------

fn confirming_writes() -> Fixture {
    Fixture::configured(json!({ "database": { "kind": "d1", "binding": "DB" }, "read_only": false,
                                "confirm_writes": true }))
}

#[test]
fn confirm_writes_asks_before_a_create_and_the_token_creates_it() {
    let fx = confirming_writes();
    let args =
        json!({ "table": "categories", "records": [ { "name": "Garden" }, { "name": "Pets", "parent_id": 9 } ] });
    let result = fx.call("create_records", args.clone());
    let out = asked(&result);
    assert_eq!(out["count"], 2);
    assert_eq!(out["created"], json!([]));
    assert_eq!(out["preview"], json!([ { "name": "Garden" }, { "name": "Pets", "parent_id": 9 } ]));
    assert_mentions(out["message"].as_str().unwrap(), &["create 2 rows in \"categories\"", "every write"]);
    assert_eq!(fx.db.count("categories"), 12);
    let done = fx.call("create_records", with_confirm(args.clone(), &out["confirmation_token"]));
    assert_eq!(ok(&done)["created"].as_array().unwrap().len(), 2);
    assert_eq!(fx.db.count("categories"), 14);
    // The token was for those two records: other values need their own.
    let other =
        json!({ "table": "categories", "records": [ { "name": "Garden!" }, { "name": "Pets", "parent_id": 9 } ] });
    assert_mentions(
        &err(&fx.call("create_records", with_confirm(other, &out["confirmation_token"]))),
        &["other arguments"],
    );
}

#[test]
fn confirm_writes_does_not_ask_for_records_that_cannot_be_written() {
    let fx = confirming_writes();
    let message = err(&fx.call("create_records", json!({ "table": "categories", "records": [ { "nope": 1 } ] })));
    assert_mentions(&message, &["record 0", "nope"]);
}

#[test]
fn confirm_writes_asks_before_small_updates_and_deletes_too() {
    let fx = confirming_writes();
    let out = asked(&fx.call("delete_records", json!({ "table": "order_items", "ids": [1] }))).clone();
    assert_eq!(out["count"], 1);
    assert_mentions(out["message"].as_str().unwrap(), &["every write"]);
    let out =
        asked(&fx.call("update_records", json!({ "table": "orders", "records": [ { "id": 1, "status": "paid" } ] })))
            .clone();
    assert_eq!(out["count"], 1);
    let done = fx.call(
        "update_records",
        json!({ "table": "orders", "records": [ { "id": 1, "status": "paid" } ], "confirm": out["confirmation_token"] }),
    );
    assert_eq!(ok(&done)["updated"], 1);
    assert_eq!(items(&fx), 10540);
}

#[test]
fn the_write_tools_document_confirm_in_their_schemas() {
    let fx = Fixture::new();
    let tools = handle(&fx.ctx(), "tools/list", json!({})).unwrap();
    for name in ["create_records", "update_records", "delete_records"] {
        let tool = tools["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap();
        assert_eq!(tool["inputSchema"]["properties"]["confirm"]["type"], "string", "{name}");
        assert_eq!(tool["outputSchema"]["properties"]["confirmation_token"]["type"], "string", "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// MRTR (modern era): input_required, retry, decline
// ---------------------------------------------------------------------------------------------

fn first_modern(fx: &Fixture) -> Json {
    modern(fx, json!({ "name": "delete_records", "arguments": delete_11() }))
}

#[test]
fn a_modern_client_with_elicitation_gets_input_required_with_the_count_and_preview() {
    let fx = Fixture::new();
    let result = first_modern(&fx);
    assert_eq!(result["resultType"], "input_required");
    let request = &result["inputRequests"][INPUT_KEY];
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["mode"], "form");
    let message = request["params"]["message"].as_str().unwrap();
    assert_mentions(
        message,
        &["Delete 11 rows of \"order_items\"?", "First 5 rows:", "- id=1, order_id=1", "… and 6 more"],
    );
    let schema = &request["params"]["requestedSchema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["properties"]["confirm"]["type"], "boolean");
    assert_eq!(schema["required"], json!(["confirm"]));
    assert!(result["requestState"].as_str().is_some_and(|s| s.len() > 40));
    assert!(result.get("content").is_none());
    assert_eq!(items(&fx), 10540);
}

#[test]
fn an_accepted_retry_performs_the_write_once() {
    let fx = Fixture::new();
    let state = first_modern(&fx)["requestState"].clone();
    let retry = json!({ "name": "delete_records", "arguments": delete_11(), "inputResponses": accept(), "requestState": state });
    let done = modern(&fx, retry.clone());
    assert_eq!(done["isError"], false, "{done}");
    assert_eq!(done["structuredContent"]["deleted"], 11);
    assert!(done.get("resultType").is_none(), "the modern path adds resultType complete");
    assert_eq!(items(&fx), 10540 - 11);
    // Replayed: refused.
    let again = modern(&fx, retry);
    assert_eq!(again["isError"], true);
    assert_mentions(&error_text(&again), &["already used"]);
    assert_eq!(items(&fx), 10540 - 11);
}

#[test]
fn a_declined_or_cancelled_retry_changes_nothing_and_says_so() {
    let fx = Fixture::new();
    let state = first_modern(&fx)["requestState"].clone();
    for (answer, how) in [
        (json!({ INPUT_KEY: { "action": "decline" } }), "declined"),
        (json!({ INPUT_KEY: { "action": "cancel" } }), "cancelled"),
        (json!({ INPUT_KEY: { "action": "accept", "content": { "confirm": false } } }), "declined"),
    ] {
        let result = modern(
            &fx,
            json!({ "name": "delete_records", "arguments": delete_11(), "inputResponses": answer, "requestState": state }),
        );
        assert_eq!(result["isError"], false, "{result}");
        let out = &result["structuredContent"];
        assert_eq!((out["deleted"].clone(), out["declined"].clone()), (json!(0), json!(true)));
        assert_mentions(out["message"].as_str().unwrap(), &[how, "nothing was deleted"]);
    }
    assert_eq!(items(&fx), 10540);
}

#[test]
fn a_retry_without_an_answer_asks_again() {
    let fx = Fixture::new();
    let state = first_modern(&fx)["requestState"].clone();
    let result = modern(&fx, json!({ "name": "delete_records", "arguments": delete_11(), "requestState": state }));
    assert_eq!(result["resultType"], "input_required");
    assert_ne!(result["requestState"], state, "a fresh state each time");
    assert_eq!(items(&fx), 10540);
}

#[test]
fn modern_retries_with_bad_state_are_refused() {
    let fx = Fixture::new();
    let state = first_modern(&fx)["requestState"].as_str().unwrap().to_string();
    let retry = |fx: &Fixture, args: Json, state: &str| {
        modern(
            fx,
            json!({ "name": "delete_records", "arguments": args, "inputResponses": accept(), "requestState": state }),
        )
    };
    let mut tampered = state.clone().into_bytes();
    tampered[30] = if tampered[30] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_mentions(&error_text(&retry(&fx, delete_11(), &tampered)), &["not valid"]);
    assert_mentions(
        &error_text(&retry(&fx, json!({ "table": "order_items", "filter": "id <= 12" }), &state)),
        &["other arguments"],
    );
    let mut other = Fixture::new();
    other.principal = "oauth:client:mallory".into();
    assert_mentions(&error_text(&retry(&other, delete_11(), &state)), &["another credential"]);
    let mut elsewhere = Fixture::new();
    elsewhere.service.name = "elsewhere".into();
    assert_mentions(&error_text(&retry(&elsewhere, delete_11(), &state)), &["another service"]);
    fx.set_now(1_000 + 300_000);
    assert_mentions(&error_text(&retry(&fx, delete_11(), &state)), &["expired"]);
    assert_eq!(items(&fx), 10540);
}

#[test]
fn a_modern_retry_whose_count_changed_asks_again_with_the_new_count() {
    let fx = Fixture::new();
    let state = first_modern(&fx)["requestState"].clone();
    fx.db.execute_batch("DELETE FROM order_items WHERE id = 3;");
    let result = modern(
        &fx,
        json!({ "name": "delete_records", "arguments": delete_11(), "inputResponses": accept(), "requestState": state }),
    );
    assert_eq!(result["resultType"], "input_required", "{result}");
    let message = result["inputRequests"][INPUT_KEY]["params"]["message"].as_str().unwrap();
    assert_mentions(message, &["The rows changed since you confirmed (11 then, 10 now)", "Delete 10 rows"]);
    assert_eq!(items(&fx), 10540 - 1);
    // The new state performs the new count.
    let done = modern(
        &fx,
        json!({ "name": "delete_records", "arguments": delete_11(), "inputResponses": accept(), "requestState": result["requestState"] }),
    );
    assert_eq!(done["structuredContent"]["deleted"], 10);
}

#[test]
fn two_step_mode_ignores_elicitation_and_gives_the_token() {
    let fx = Fixture::new();
    let result =
        call_with_input(&fx.ctx(), json!({ "name": "delete_records", "arguments": delete_11() }), ConfirmMode::TwoStep);
    assert!(result.get("resultType").is_none());
    assert_eq!(asked(&result)["count"], 11);
}

#[test]
fn the_mode_follows_the_client_capabilities() {
    assert_eq!(ConfirmMode::for_client(&json!({ "elicitation": {} })), ConfirmMode::Elicitation);
    assert_eq!(ConfirmMode::for_client(&json!({ "elicitation": { "form": {} } })), ConfirmMode::Elicitation);
    assert_eq!(ConfirmMode::for_client(&json!({ "elicitation": { "url": {} } })), ConfirmMode::TwoStep);
    assert_eq!(ConfirmMode::for_client(&json!({})), ConfirmMode::TwoStep);
}

// ---------------------------------------------------------------------------------------------
// cost: round trips to the database
// ---------------------------------------------------------------------------------------------

/// The fixture's SQLite, counting the round trips (a query or a batch) that reach it.
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

fn counted(fx: &Fixture, name: &str, args: Json) -> (Json, u64) {
    // Warm the schema cache first: its lookup is the server's, not the call's.
    let _ = fx.call("get_tables", json!({}));
    let counting = Counting { inner: &fx.db, round_trips: Cell::new(0) };
    let ctx = ToolContext { db: &counting, ..fx.ctx() };
    let result = call_tool(&ctx, name, args);
    (result, counting.round_trips.get())
}

#[test]
fn the_row_limit_costs_no_extra_query_for_small_writes_and_one_for_a_preview() {
    let fx = Fixture::new();
    let (small, trips) = counted(&fx, "delete_records", json!({ "table": "order_items", "filter": "id <= 10" }));
    assert_eq!((ok(&small)["deleted"].clone(), trips), (json!(10), 1), "the guarded delete alone");
    let (asked_for, trips) =
        counted(&fx, "delete_records", json!({ "table": "order_items", "filter": "id > 10 AND id <= 21" }));
    assert_eq!(trips, 2, "the guarded delete, then count and preview in one batch");
    let token = asked(&asked_for)["confirmation_token"].clone();
    let args = with_confirm(json!({ "table": "order_items", "filter": "id > 10 AND id <= 21" }), &token);
    let (done, trips) = counted(&fx, "delete_records", args);
    assert_eq!(
        (ok(&done)["deleted"].clone(), trips),
        (json!(11), 1),
        "the confirmed delete, count guarded in the statement"
    );
}
