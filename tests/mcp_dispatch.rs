//! `server::handle`: MCP method dispatch for an established session, on the demo store.

mod common;

use common::*;
use dbmcp::mcp::jsonrpc::{INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, RESOURCE_NOT_FOUND};
use dbmcp::mcp::session::LOG_LEVELS;
use dbmcp::tools;
use serde_json::{json, Value as Json};

const WRITE_TOOLS: [&str; 3] = ["create_records", "update_records", "delete_records"];

const ALL_NAMES: [&str; 8] = [
    "big_numbers",
    "categories",
    "customers",
    "order_items",
    "order_summaries",
    "orders",
    "product_categories",
    "products",
];

fn listed_tools(fx: &Fixture, can_write: bool) -> Vec<Json> {
    let result = handle(&fx.ctx_with_write(can_write), "tools/list", json!({})).expect("tools/list");
    result["tools"].as_array().expect("tools array").clone()
}

fn names(items: &[Json]) -> Vec<String> {
    items.iter().map(|t| t["name"].as_str().expect("name").to_string()).collect()
}

/// The error code and message of a request expected to fail at the protocol level.
fn rpc_error(ctx: &dbmcp::tools::ToolContext<'_>, method: &str, params: Json) -> (i64, String) {
    match handle(ctx, method, params.clone()) {
        Ok(result) => panic!("{method} {params} should fail, got {result}"),
        Err(e) => (e.code, e.message),
    }
}

fn complete(fx: &Fixture, params: Json) -> Json {
    let result = handle(&fx.ctx(), "completion/complete", params).expect("completion/complete");
    result["completion"].clone()
}

fn completion_values(completion: &Json) -> Vec<String> {
    completion["values"].as_array().expect("values").iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// ping, unknown methods, initialize
// ---------------------------------------------------------------------------------------------

#[test]
fn ping_answers_an_empty_object() {
    let fx = Fixture::new();
    assert_eq!(handle(&fx.ctx(), "ping", Json::Null).unwrap(), json!({}));
}

#[test]
fn an_unknown_method_is_method_not_found() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(&fx.ctx(), "tables/drop", json!({}));
    assert_eq!(code, METHOD_NOT_FOUND);
    assert_mentions(&message, &["tables/drop"]);
}

#[test]
fn initialize_inside_a_session_is_an_invalid_request() {
    let fx = Fixture::new();
    let (code, _) = rpc_error(&fx.ctx(), "initialize", json!({ "protocolVersion": "2025-06-18" }));
    assert_eq!(code, INVALID_REQUEST);
}

// ---------------------------------------------------------------------------------------------
// tools/list
// ---------------------------------------------------------------------------------------------

#[test]
fn tools_list_shows_all_eighteen_tools_when_writing_is_allowed() {
    let fx = Fixture::new();
    let tools = listed_tools(&fx, true);
    assert_eq!(tools.len(), 18);
    // query_sql is listed only where a service turns it on (tests/query_sql.rs).
    let expected: Vec<String> =
        tools::catalog().iter().map(|t| t.name.to_string()).filter(|name| name != "query_sql").collect();
    assert_eq!(names(&tools), expected);
    for write_tool in WRITE_TOOLS {
        assert!(names(&tools).iter().any(|n| n == write_tool), "{write_tool} missing");
    }
}

#[test]
fn tools_list_hides_write_tools_when_writing_is_not_allowed() {
    let fx = Fixture::new();
    let tools = names(&listed_tools(&fx, false));
    assert_eq!(tools.len(), 15);
    for write_tool in WRITE_TOOLS {
        assert!(!tools.iter().any(|n| n == write_tool), "{write_tool} listed: {tools:?}");
    }
    assert!(tools.iter().any(|n| n == "get_table_data"));
}

#[test]
fn tools_list_on_a_read_only_service_hides_write_tools() {
    let fx = Fixture::read_only();
    let result = handle(&fx.ctx(), "tools/list", json!({})).unwrap();
    let tools = names(result["tools"].as_array().unwrap());
    assert_eq!(tools.len(), 15);
    for read_tool in ["search", "fetch"] {
        assert!(tools.iter().any(|n| n == read_tool), "{read_tool} missing on a read-only service: {tools:?}");
    }
    assert!(!tools.iter().any(|n| WRITE_TOOLS.contains(&n.as_str())), "{tools:?}");
}

#[test]
fn every_listed_tool_has_title_annotations_and_object_schemas() {
    let fx = Fixture::new();
    for tool in listed_tools(&fx, true) {
        let name = &tool["name"];
        assert!(tool["title"].as_str().is_some_and(|t| !t.is_empty()), "{name}: title");
        assert!(tool["description"].as_str().is_some_and(|t| !t.is_empty()), "{name}: description");
        assert!(tool["annotations"]["readOnlyHint"].is_boolean(), "{name}: readOnlyHint");
        assert!(tool["annotations"]["destructiveHint"].is_boolean(), "{name}: destructiveHint");
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}: inputSchema");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}: outputSchema");
    }
}

#[test]
fn read_tools_are_annotated_read_only_and_write_tools_are_not() {
    let fx = Fixture::new();
    let tools = listed_tools(&fx, true);
    let annotations = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap()["annotations"].clone();
    for read in [
        "get_data_model",
        "get_tables",
        "get_table_schema",
        "get_table_fields",
        "get_table_relationships",
        "get_table_data",
        "aggregate_table_data",
        "list_tools",
    ] {
        assert_eq!(annotations(read)["readOnlyHint"], true, "{read}");
        assert_eq!(annotations(read)["destructiveHint"], false, "{read}");
    }
    assert_eq!(annotations("create_records")["readOnlyHint"], false);
    assert_eq!(annotations("create_records")["destructiveHint"], false);
    for destructive in ["update_records", "delete_records"] {
        assert_eq!(annotations(destructive)["readOnlyHint"], false, "{destructive}");
        assert_eq!(annotations(destructive)["destructiveHint"], true, "{destructive}");
    }
}

#[test]
fn list_methods_refuse_any_cursor() {
    let fx = Fixture::new();
    for method in ["tools/list", "resources/list", "resources/templates/list", "prompts/list"] {
        let (code, message) = rpc_error(&fx.ctx(), method, json!({ "cursor": "page-2" }));
        assert_eq!(code, INVALID_PARAMS, "{method}");
        assert_mentions(&message, &["invalid cursor", "page-2"]);
    }
}

#[test]
fn list_methods_accept_a_null_cursor() {
    let fx = Fixture::new();
    assert!(handle(&fx.ctx(), "tools/list", json!({ "cursor": null })).is_ok());
}

// ---------------------------------------------------------------------------------------------
// tools/call
// ---------------------------------------------------------------------------------------------

#[test]
fn tools_call_of_an_unknown_tool_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(&fx.ctx(), "tools/call", json!({ "name": "drop_table", "arguments": {} }));
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["unknown tool \"drop_table\""]);
}

#[test]
fn tools_call_without_a_name_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(&fx.ctx(), "tools/call", json!({ "arguments": {} }));
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["tools/call", "name"]);
}

#[test]
fn tools_call_of_a_write_tool_for_a_read_only_credential_is_invalid_params() {
    let fx = Fixture::new();
    for tool in WRITE_TOOLS {
        let (code, message) = rpc_error(
            &fx.ctx_with_write(false),
            "tools/call",
            json!({ "name": tool, "arguments": { "table": "customers", "ids": [1] } }),
        );
        assert_eq!(code, INVALID_PARAMS, "{tool}");
        assert_mentions(&message, &[tool, "this credential may only read"]);
    }
    assert_eq!(fx.db.count("customers"), 500);
}

#[test]
fn tools_call_of_a_write_tool_on_a_read_only_service_is_invalid_params() {
    let fx = Fixture::read_only();
    let (code, message) = rpc_error(
        &fx.ctx(),
        "tools/call",
        json!({ "name": "delete_records", "arguments": { "table": "order_items", "ids": [1] } }),
    );
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["delete_records", "this service is read-only"]);
    assert_eq!(fx.db.count("order_items"), 10540);
}

#[test]
fn tools_call_with_non_object_arguments_is_a_tool_error() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "tools/call", json!({ "name": "get_tables", "arguments": [1, 2] })).unwrap();
    assert_mentions(&err(&result), &["arguments must be an object"]);
}

#[test]
fn tools_call_without_arguments_runs_the_tool_with_none() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "tools/call", json!({ "name": "get_tables" })).unwrap();
    assert_eq!(ok(&result)["tables"].as_array().unwrap().len(), 8);
}

#[test]
fn a_failing_tool_call_is_a_result_with_is_error_and_text_content() {
    let fx = Fixture::new();
    let result = call_tool(&fx.ctx(), "get_table_data", json!({ "table": "nope" }));
    assert_eq!(result["isError"], true);
    assert_eq!(result["content"][0]["type"], "text");
    assert_mentions(&err(&result), &["unknown table \"nope\""]);
}

/// One successful call per tool that can succeed on SQLite (the routine calls cannot).
fn successful_calls() -> Vec<(&'static str, Json)> {
    vec![
        ("get_data_model", json!({})),
        ("get_tables", json!({ "include_counts": true })),
        ("get_table_schema", json!({ "table": "orders" })),
        ("get_table_fields", json!({ "table": "customers" })),
        ("get_table_relationships", json!({ "table": "products" })),
        (
            "get_table_data",
            json!({ "table": "orders", "limit": 3, "include_count": true, "related": "customers_by_customer_id" }),
        ),
        ("get_table_data", json!({ "table": "big_numbers" })),
        (
            "aggregate_table_data",
            json!({ "table": "orders", "aggregates": [{ "function": "count" }], "group_by": "status" }),
        ),
        ("create_records", json!({ "table": "categories", "records": [{ "name": "Garden", "parent_id": 6 }] })),
        ("create_records", json!({ "table": "categories", "atomic": false, "records": [{ "name": "Tools" }] })),
        ("update_records", json!({ "table": "customers", "ids": [5], "patch": { "city": "Cork" } })),
        ("update_records", json!({ "table": "customers", "records": [{ "id": 5, "loyalty_points": 3 }] })),
        ("delete_records", json!({ "table": "order_items", "ids": [1] })),
        ("get_database_resources", json!({})),
        ("get_stored_procedures", json!({})),
        ("get_stored_functions", json!({})),
        ("list_tools", json!({})),
        ("search", json!({ "query": "paid" })),
        ("fetch", json!({ "id": "orders:1" })),
    ]
}

#[test]
fn every_successful_tool_result_has_object_structured_content_matching_its_text() {
    let fx = Fixture::new();
    for (tool, args) in successful_calls() {
        let result = call_tool(&fx.ctx(), tool, args.clone());
        assert_eq!(result["isError"], false, "{tool} {args}: {}", error_text(&result));
        let structured = &result["structuredContent"];
        assert!(structured.is_object(), "{tool}: structuredContent {structured}");
        assert_eq!(result["content"].as_array().map(Vec::len), Some(1), "{tool}");
        assert_eq!(result["content"][0]["type"], "text", "{tool}");
        let text = result["content"][0]["text"].as_str().expect("text");
        // Database content is fenced as untrusted data (on by default); schema-only results, and
        // search and fetch (whose text OpenAI's contract parses as JSON), are plain JSON.
        let returns_data = tools::find(tool).expect("tool in catalog").fences_text();
        let json_text = match dbmcp::mcp::untrusted::unwrap(text) {
            Some(inside) => {
                assert!(returns_data, "{tool}: a schema-only result was fenced: {text}");
                assert!(text.starts_with("Below is the result of the database query."), "{tool}: {text}");
                inside
            }
            None => {
                assert!(!returns_data, "{tool}: database content without the fence: {text}");
                text
            }
        };
        let text: Json =
            serde_json::from_str(json_text).unwrap_or_else(|e| panic!("{tool}: content text is not JSON: {e}"));
        assert_eq!(&text, structured, "{tool}");
    }
}

#[test]
fn a_service_with_marking_off_answers_plain_json_text() {
    let fx = Fixture::configured(json!({
        "database": { "kind": "d1", "binding": "DB" },
        "read_only": false,
        "untrusted_data_marking": false
    }));
    assert!(!fx.service.untrusted_data_marking);
    for (tool, args) in successful_calls() {
        let result = call_tool(&fx.ctx(), tool, args.clone());
        let text = result["content"][0]["text"].as_str().expect("text");
        let parsed: Json =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{tool}: not plain JSON ({e}): {text}"));
        assert_eq!(&parsed, &result["structuredContent"], "{tool}");
    }
}

#[test]
fn every_successful_tool_result_has_the_fields_its_output_schema_requires() {
    let fx = Fixture::new();
    for (tool, args) in successful_calls() {
        let spec = tools::find(tool).expect("tool in catalog");
        let schema = (spec.output_schema)();
        let result = call_tool(&fx.ctx(), tool, args.clone());
        let structured = ok(&result);
        for required in schema["required"].as_array().into_iter().flatten() {
            let key = required.as_str().unwrap();
            assert!(structured.get(key).is_some(), "{tool} {args}: missing required {key:?} in {structured}");
        }
    }
}

#[test]
fn every_tool_in_the_catalog_is_covered_by_the_success_check_or_fails_by_design() {
    let covered: Vec<&str> = successful_calls().into_iter().map(|(tool, _)| tool).collect();
    for spec in tools::catalog() {
        // query_sql is off in these fixtures; tests/query_sql.rs checks its results and schema.
        if spec.name.starts_with("call_stored_") || spec.name == "query_sql" {
            continue;
        }
        assert!(covered.contains(&spec.name), "{} has no successful call in this test", spec.name);
    }
}

#[test]
fn routine_calls_fail_as_tool_errors_not_protocol_errors() {
    let fx = Fixture::new();
    for tool in ["call_stored_procedure", "call_stored_function"] {
        let result = call_tool(&fx.ctx(), tool, json!({ "name": "anything" }));
        assert_mentions(&err(&result), &["SQLite"]);
    }
}

// ---------------------------------------------------------------------------------------------
// resources
// ---------------------------------------------------------------------------------------------

#[test]
fn resources_list_has_one_resource_per_table_and_view() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "resources/list", json!({})).unwrap();
    let resources = result["resources"].as_array().unwrap();
    assert_eq!(names(resources), ALL_NAMES);
    for resource in resources {
        let name = resource["name"].as_str().unwrap();
        assert_eq!(resource["uri"], format!("dbmcp://demo/tables/{name}"));
        assert_eq!(resource["mimeType"], "application/json");
        assert!(resource["title"].as_str().is_some_and(|t| t.contains(name)), "{resource}");
    }
}

#[test]
fn resources_list_leaves_out_hidden_tables() {
    let mut fx = Fixture::new();
    fx.service.hidden_tables = vec!["Customers".into()];
    let result = handle(&fx.ctx(), "resources/list", json!({})).unwrap();
    let listed = names(result["resources"].as_array().unwrap());
    // The view order_summaries reads customers, so it is hidden with it.
    assert_eq!(listed.len(), 6);
    assert!(!listed.iter().any(|n| n == "customers" || n == "order_summaries"), "{listed:?}");
}

#[test]
fn resources_templates_list_has_the_table_schema_template() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "resources/templates/list", json!({})).unwrap();
    let templates = result["resourceTemplates"].as_array().unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0]["uriTemplate"], "dbmcp://demo/tables/{table}");
    assert_eq!(templates[0]["mimeType"], "application/json");
    assert!(templates[0]["name"].is_string());
}

#[test]
fn resources_read_returns_the_table_schema_as_json() {
    let fx = Fixture::new();
    let uri = "dbmcp://demo/tables/customers";
    let result = handle(&fx.ctx(), "resources/read", json!({ "uri": uri })).unwrap();
    let contents = result["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0]["uri"], uri);
    assert_eq!(contents[0]["mimeType"], "application/json");
    let body: Json = serde_json::from_str(contents[0]["text"].as_str().unwrap()).expect("JSON text");
    assert_eq!(body["name"], "customers");
    let columns: Vec<&str> = body["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(columns, ["id", "name", "email", "city", "country", "created_at", "loyalty_points", "notes"]);
    let relations: Vec<&str> =
        body["relationships"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(relations, ["orders_by_customer_id"]);
}

#[test]
fn resources_read_of_the_view() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "resources/read", json!({ "uri": "dbmcp://demo/tables/order_summaries" })).unwrap();
    let body: Json = serde_json::from_str(result["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["kind"], "view");
    assert_eq!(body["columns"].as_array().unwrap().len(), 5);
}

#[test]
fn resources_read_of_every_listed_uri_succeeds() {
    let fx = Fixture::new();
    let listed = handle(&fx.ctx(), "resources/list", json!({})).unwrap();
    for resource in listed["resources"].as_array().unwrap() {
        let uri = resource["uri"].clone();
        let result = handle(&fx.ctx(), "resources/read", json!({ "uri": uri.clone() }))
            .unwrap_or_else(|e| panic!("{uri}: {}", e.message));
        assert_eq!(result["contents"][0]["uri"], uri);
    }
}

#[test]
fn resources_read_of_an_unknown_table_is_resource_not_found() {
    let fx = Fixture::new();
    let uri = "dbmcp://demo/tables/clients";
    let err = handle(&fx.ctx(), "resources/read", json!({ "uri": uri })).unwrap_err();
    assert_eq!(err.code, RESOURCE_NOT_FOUND);
    assert_mentions(&err.message, &[uri]);
    assert_eq!(err.data, Some(json!({ "uri": uri })));
}

#[test]
fn resources_read_of_another_service_or_scheme_is_resource_not_found() {
    let fx = Fixture::new();
    for uri in ["dbmcp://other/tables/customers", "https://example.com/customers", "dbmcp://demo/tables/bad%2"] {
        let (code, _) = rpc_error(&fx.ctx(), "resources/read", json!({ "uri": uri }));
        assert_eq!(code, RESOURCE_NOT_FOUND, "{uri}");
    }
}

#[test]
fn resources_read_of_a_hidden_table_is_resource_not_found() {
    let mut fx = Fixture::new();
    fx.service.hidden_tables = vec!["big_numbers".into()];
    let (code, _) = rpc_error(&fx.ctx(), "resources/read", json!({ "uri": "dbmcp://demo/tables/big_numbers" }));
    assert_eq!(code, RESOURCE_NOT_FOUND);
}

#[test]
fn resources_read_without_a_uri_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(&fx.ctx(), "resources/read", json!({}));
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["uri"]);
}

// ---------------------------------------------------------------------------------------------
// prompts
// ---------------------------------------------------------------------------------------------

#[test]
fn prompts_list_has_explore_database_and_query_table() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "prompts/list", json!({})).unwrap();
    let prompts = result["prompts"].as_array().unwrap();
    assert_eq!(names(prompts), ["explore_database", "query_table"]);
    let query_table = &prompts[1];
    let table_arg = query_table["arguments"].as_array().unwrap().iter().find(|a| a["name"] == "table").unwrap();
    assert_eq!(table_arg["required"], true);
}

#[test]
fn prompts_get_explore_database_gives_one_user_message() {
    let fx = Fixture::new();
    let result = handle(
        &fx.ctx(),
        "prompts/get",
        json!({ "name": "explore_database", "arguments": { "goal": "find top customers" } }),
    )
    .unwrap();
    let messages = result["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"]["type"], "text");
    let text = messages[0]["content"]["text"].as_str().unwrap();
    assert_mentions(text, &["\"demo\"", "get_tables", "find top customers"]);
}

#[test]
fn prompts_get_explore_database_needs_no_arguments() {
    let fx = Fixture::new();
    let result = handle(&fx.ctx(), "prompts/get", json!({ "name": "explore_database" })).unwrap();
    assert!(result["messages"][0]["content"]["text"].as_str().is_some_and(|t| t.contains("get_table_schema")));
}

#[test]
fn prompts_get_query_table_names_the_table_column_and_question() {
    let fx = Fixture::new();
    let result = handle(
        &fx.ctx(),
        "prompts/get",
        json!({ "name": "query_table",
        "arguments": { "table": "orders", "column": "status", "question": "How many are pending?" } }),
    )
    .unwrap();
    let text = result["messages"][0]["content"]["text"].as_str().unwrap();
    assert_mentions(text, &["\"orders\"", "\"status\"", "How many are pending?"]);
}

#[test]
fn prompts_get_query_table_without_table_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(&fx.ctx(), "prompts/get", json!({ "name": "query_table", "arguments": {} }));
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["\"table\""]);
    let (code, _) =
        rpc_error(&fx.ctx(), "prompts/get", json!({ "name": "query_table", "arguments": { "table": "  " } }));
    assert_eq!(code, INVALID_PARAMS);
}

#[test]
fn prompts_get_query_table_with_an_unknown_table_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) =
        rpc_error(&fx.ctx(), "prompts/get", json!({ "name": "query_table", "arguments": { "table": "clients" } }));
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["unknown table \"clients\""]);
}

#[test]
fn prompts_get_of_an_unknown_prompt_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(&fx.ctx(), "prompts/get", json!({ "name": "summarize" }));
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["unknown prompt \"summarize\"", "explore_database", "query_table"]);
}

// ---------------------------------------------------------------------------------------------
// completion/complete
// ---------------------------------------------------------------------------------------------

#[test]
fn completion_of_the_query_table_table_argument_matches_the_prefix() {
    let fx = Fixture::new();
    let completion = complete(
        &fx,
        json!({ "ref": { "type": "ref/prompt", "name": "query_table" },
                                            "argument": { "name": "table", "value": "ord" } }),
    );
    let mut values = completion_values(&completion);
    values.sort();
    assert_eq!(values, ["order_items", "order_summaries", "orders"]);
    assert_eq!(completion["total"], 3);
    assert_eq!(completion["hasMore"], false);
}

#[test]
fn completion_of_the_table_argument_ignores_case_and_an_empty_prefix_gives_everything() {
    let fx = Fixture::new();
    let completion = complete(
        &fx,
        json!({ "ref": { "type": "ref/prompt", "name": "query_table" },
                                            "argument": { "name": "table", "value": "PROD" } }),
    );
    assert_eq!(completion_values(&completion), ["product_categories", "products"]);
    let everything = complete(
        &fx,
        json!({ "ref": { "type": "ref/prompt", "name": "query_table" },
                                            "argument": { "name": "table", "value": "" } }),
    );
    assert_eq!(completion_values(&everything), ALL_NAMES);
}

#[test]
fn completion_of_the_column_argument_uses_the_chosen_table() {
    let fx = Fixture::new();
    let completion = complete(
        &fx,
        json!({ "ref": { "type": "ref/prompt", "name": "query_table" },
                                            "argument": { "name": "column", "value": "c" },
                                            "context": { "arguments": { "table": "customers" } } }),
    );
    assert_eq!(completion_values(&completion), ["city", "country", "created_at"]);
}

#[test]
fn completion_of_the_column_argument_without_a_table_is_empty() {
    let fx = Fixture::new();
    let completion = complete(
        &fx,
        json!({ "ref": { "type": "ref/prompt", "name": "query_table" },
                                            "argument": { "name": "column", "value": "c" } }),
    );
    assert_eq!(completion_values(&completion), Vec::<String>::new());
    assert_eq!(completion["total"], 0);
}

#[test]
fn completion_of_the_resource_template_gives_table_names() {
    let fx = Fixture::new();
    let completion = complete(
        &fx,
        json!({ "ref": { "type": "ref/resource", "uri": "dbmcp://demo/tables/{table}" },
                                            "argument": { "name": "table", "value": "c" } }),
    );
    assert_eq!(completion_values(&completion), ["categories", "customers"]);
}

#[test]
fn completion_of_another_services_template_is_empty() {
    let fx = Fixture::new();
    let completion = complete(
        &fx,
        json!({ "ref": { "type": "ref/resource", "uri": "dbmcp://other/tables/{table}" },
                                            "argument": { "name": "table", "value": "c" } }),
    );
    assert_eq!(completion_values(&completion), Vec::<String>::new());
}

#[test]
fn completion_for_an_unknown_prompt_is_invalid_params() {
    let fx = Fixture::new();
    let (code, message) = rpc_error(
        &fx.ctx(),
        "completion/complete",
        json!({
        "ref": { "type": "ref/prompt", "name": "nope" }, "argument": { "name": "table", "value": "" } }),
    );
    assert_eq!(code, INVALID_PARAMS);
    assert_mentions(&message, &["unknown prompt \"nope\""]);
}

#[test]
fn completion_with_malformed_params_is_invalid_params() {
    let fx = Fixture::new();
    let (code, _) = rpc_error(&fx.ctx(), "completion/complete", json!({ "argument": { "name": "table" } }));
    assert_eq!(code, INVALID_PARAMS);
}

#[test]
fn completion_with_a_bad_reference_names_what_is_wrong() {
    let fx = Fixture::new();
    let argument = json!({ "name": "table", "value": "" });
    for (reference, expected) in [
        (json!({ "type": "ref/tool", "name": "x" }), "unknown variant `ref/tool`"),
        (json!({ "type": "ref/prompt" }), "missing field `name`"),
        (json!({ "type": "ref/resource", "name": "x" }), "missing field `uri`"),
        (json!({ "name": "query_table" }), "missing field `type`"),
    ] {
        let (code, message) =
            rpc_error(&fx.ctx(), "completion/complete", json!({ "ref": reference, "argument": argument }));
        assert_eq!(code, INVALID_PARAMS, "{reference}");
        assert_mentions(&message, &["invalid params for completion/complete", expected]);
    }
}

// ---------------------------------------------------------------------------------------------
// logging/setLevel
// ---------------------------------------------------------------------------------------------

#[test]
fn logging_set_level_changes_the_session_level() {
    let fx = Fixture::new();
    let mut session = session();
    for level in LOG_LEVELS {
        let result = handle_in(&mut session, &fx.ctx(), "logging/setLevel", json!({ "level": level })).unwrap();
        assert_eq!(result, json!({}));
        assert_eq!(session.log_level, level);
    }
}

#[test]
fn logging_set_level_with_an_unknown_level_is_invalid_params_and_keeps_the_level() {
    let fx = Fixture::new();
    let mut session = session();
    let before = session.log_level.clone();
    let err = handle_in(&mut session, &fx.ctx(), "logging/setLevel", json!({ "level": "verbose" })).unwrap_err();
    assert_eq!(err.code, INVALID_PARAMS);
    assert_mentions(&err.message, &["\"verbose\"", "debug", "emergency"]);
    assert_eq!(session.log_level, before);
}

#[test]
fn logging_set_level_without_a_level_is_invalid_params() {
    let fx = Fixture::new();
    let (code, _) = rpc_error(&fx.ctx(), "logging/setLevel", json!({}));
    assert_eq!(code, INVALID_PARAMS);
}
