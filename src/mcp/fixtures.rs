//! The MCP conformance suite's fixtures (feature `conformance-fixtures`, test builds only): the
//! tools, resources and prompts with fixed names its scenarios call (`test_simple_text`,
//! `test://static-text`, `test_simple_prompt`, the MRTR `test_input_required_result_*` tools...),
//! answered the way the suite's reference "everything" server answers them. They sit in front of
//! the shared dispatch (`server::handle`, both eras): a fixture name is answered here, anything
//! else goes on to the database tools, and list results get the fixtures appended.

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value as Json};
use sha2::Sha256;

use super::jsonrpc::{Request, RpcError};
use super::modern;

const IMAGE: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const AUDIO: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";
/// Test builds only: the state of the MRTR tamper test is signed with this fixed key.
const STATE_KEY: &[u8] = b"dbmcp-conformance-fixture-request-state";

const TOOLS: [(&str, &str); 23] = [
    ("test_simple_text", "Tests simple text content response"),
    ("test_image_content", "Tests image content response"),
    ("test_audio_content", "Tests audio content response"),
    ("test_embedded_resource", "Tests embedded resource content response"),
    ("test_multiple_content_types", "Tests response with multiple content types (text, image, resource)"),
    ("test_tool_with_logging", "Tests tool that emits log messages during execution"),
    ("test_tool_with_progress", "Tests tool that reports progress notifications"),
    ("test_error_handling", "Tests error response handling"),
    ("test_sampling", "Tests server-initiated sampling"),
    ("test_elicitation", "Tests server-initiated elicitation"),
    ("test_missing_capability", "Test tool requiring sampling"),
    ("test_input_required_result_elicitation", "MRTR: returns InputRequiredResult with elicitation request"),
    ("test_input_required_result_sampling", "MRTR: returns InputRequiredResult with sampling request"),
    ("test_input_required_result_list_roots", "MRTR: returns InputRequiredResult with roots/list request"),
    ("test_input_required_result_request_state", "MRTR: returns InputRequiredResult with requestState"),
    ("test_input_required_result_multiple_inputs", "MRTR: returns InputRequiredResult with multiple input requests"),
    ("test_input_required_result_multi_round", "MRTR: multi-round InputRequiredResult workflow"),
    ("test_input_required_result_tampered_state", "MRTR: HMAC-signed requestState integrity test"),
    ("test_input_required_result_capabilities", "MRTR: respects client capabilities in inputRequests"),
    ("test_streaming_elicitation", "Diagnostic tool validating response progress streams"),
    ("test_logging_tool", "Diagnostic logging validator tool"),
    ("test_trigger_tool_change", "Diagnostic hook: the tool list changes"),
    ("test_trigger_prompt_change", "Diagnostic hook: the prompt list changes"),
];

thread_local! {
    static TOOL_LIST_CHANGES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How often `test_trigger_tool_change` ran in this isolate: the tool-list watch of
/// `subscriptions/listen` (`tools::stored::StoredToolWatch`) counts it as a change of the list.
pub fn tool_list_changes() -> u64 {
    TOOL_LIST_CHANGES.with(|n| n.get())
}

fn text(t: impl Into<String>) -> Json {
    json!({ "content": [ { "type": "text", "text": t.into() } ] })
}

fn user_text(t: impl Into<String>) -> Json {
    json!({ "role": "user", "content": { "type": "text", "text": t.into() } })
}

fn elicit(message: &str, field: &str, kind: &str) -> Json {
    json!({ "method": "elicitation/create", "params": {
        "message": message,
        "requestedSchema": { "type": "object", "properties": { field: { "type": kind } }, "required": [field] }
    } })
}

fn sample(prompt: &str, max_tokens: u64) -> Json {
    json!({ "method": "sampling/createMessage", "params": {
        "messages": [ user_text(prompt) ], "maxTokens": max_tokens
    } })
}

fn input_required(requests: Json, state: Option<String>) -> Json {
    let mut result = json!({ "resultType": "input_required", "inputRequests": requests });
    if let Some(state) = state {
        result["requestState"] = json!(state);
    }
    result
}

/// `content.<field>` of an elicitation answer.
fn answer_text(response: Option<&Json>, field: &str) -> String {
    response
        .and_then(|r| r.get("content"))
        .and_then(|c| c.get(field))
        .and_then(Json::as_str)
        .unwrap_or("unknown")
        .to_string()
}

fn mac(data: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(STATE_KEY).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn sign(payload: Json) -> String {
    let data = payload.to_string();
    json!({ "data": data, "hmac": mac(&data) }).to_string()
}

fn verify(raw: &str) -> Option<Json> {
    let outer: Json = serde_json::from_str(raw).ok()?;
    let data = outer.get("data")?.as_str()?;
    (outer.get("hmac")?.as_str()? == mac(data)).then(|| serde_json::from_str(data).ok())?
}

fn nonce(now_ms: u64) -> String {
    format!("{now_ms:x}")
}

/// The answer for a fixture, or `None` to let the real dispatch answer.
/// `capabilities` are the client's: from `_meta` (2026-07-28) or from `initialize` (2025).
pub fn intercept(
    request: &Request,
    capabilities: &Json,
    now_ms: u64,
    notify: Option<&dyn super::progress::Notify>,
) -> Option<Result<Json, RpcError>> {
    let empty = Map::new();
    let params = request.params.as_ref().unwrap_or(&empty);
    let name = params.get("name").and_then(Json::as_str).unwrap_or_default();
    // Each input response answers one input request: an object (a result), nothing else.
    match params.get("inputResponses") {
        None => {}
        Some(Json::Object(responses)) if responses.values().all(Json::is_object) => {}
        Some(other) => {
            let error = RpcError::invalid_params(format!(
                "inputResponses must map request keys to result objects, got {other}"
            ));
            return Some(Err(error));
        }
    }
    match request.method.as_str() {
        "tools/call" => {
            if name == "test_tool_with_progress" {
                // Three increasing steps on the request's own stream, as the suite expects.
                if let (Some(notify), Some(token)) = (notify, super::progress::token(Some(params))) {
                    for step in [0, 50, 100] {
                        notify.notify(&super::progress::notification(&token, step, Some(100), "fixture progress"));
                    }
                }
            }
            call(name, params, capabilities, now_ms)
        }
        "prompts/get" => prompt(name, params).map(Ok),
        "resources/read" => read(params.get("uri").and_then(Json::as_str).unwrap_or_default()).map(Ok),
        "completion/complete" => {
            let prompt = params.get("ref").and_then(|r| r.get("name")).and_then(Json::as_str).unwrap_or_default();
            prompt
                .starts_with("test_")
                .then(|| Ok(json!({ "completion": { "values": [], "total": 0, "hasMore": false } })))
        }
        _ => None,
    }
}

fn has(capabilities: &Json, name: &str) -> bool {
    capabilities.get(name).is_some_and(|c| !c.is_null())
}

fn call(name: &str, params: &Map<String, Json>, capabilities: &Json, now_ms: u64) -> Option<Result<Json, RpcError>> {
    let inputs = params.get("inputResponses").and_then(Json::as_object);
    let input = |key: &str| inputs.and_then(|i| i.get(key));
    let state = params.get("requestState").and_then(Json::as_str);
    let resource = |uri: &str, mime: &str, t: &str| json!({ "type": "resource", "resource": { "uri": uri, "mimeType": mime, "text": t } });
    let result = match name {
        "test_simple_text" => text("This is a simple text response for testing."),
        "test_image_content" => json!({ "content": [ { "type": "image", "data": IMAGE, "mimeType": "image/png" } ] }),
        "test_audio_content" => json!({ "content": [ { "type": "audio", "data": AUDIO, "mimeType": "audio/wav" } ] }),
        "test_embedded_resource" => {
            json!({ "content": [ resource("test://embedded-resource", "text/plain", "This is an embedded resource content.") ] })
        }
        "test_multiple_content_types" => json!({ "content": [
            { "type": "text", "text": "Multiple content types test:" },
            { "type": "image", "data": IMAGE, "mimeType": "image/png" },
            resource("test://mixed-content-resource", "application/json", &json!({"test": "data", "value": 123}).to_string()),
        ] }),
        // No notifications/message: the request set no log level (and responses here are JSON).
        "test_tool_with_logging" => text("Tool with logging executed successfully"),
        "test_logging_tool" => text("Logging evaluated"),
        "test_tool_with_progress" => {
            let token = params.get("_meta").and_then(|m| m.get("progressToken")).cloned().unwrap_or(json!(0));
            text(match token {
                Json::String(s) => s,
                other => other.to_string(),
            })
        }
        "test_error_handling" => {
            json!({ "content": [ { "type": "text", "text": "This tool intentionally returns an error for testing" } ], "isError": true })
        }
        "test_streaming_elicitation" => text("Streaming complete"),
        "test_trigger_tool_change" => {
            TOOL_LIST_CHANGES.with(|n| n.set(n.get() + 1));
            text("Mutation triggered")
        }
        "test_trigger_prompt_change" => text("Mutation triggered"),
        "json_schema_2020_12_tool" => text(format!(
            "JSON Schema 2020-12 tool called with: {}",
            params.get("arguments").cloned().unwrap_or(json!({}))
        )),
        "test_custom_headers" => text(format!(
            "region: {}",
            params.get("arguments").and_then(|a| a.get("region")).and_then(Json::as_str).unwrap_or_default()
        )),
        "test_missing_capability" | "test_sampling" => {
            if !has(capabilities, "sampling") {
                let missing =
                    modern::missing_capability(json!({ "sampling": {} }), "this tool samples from the client's model");
                return Some(Err(missing.error));
            }
            match input("sample") {
                Some(answer) => text(format!("LLM response: {}", answer_text(Some(answer), "text"))),
                None if name == "test_missing_capability" => text("Success"),
                None => input_required(
                    json!({ "sample": sample(params.get("arguments").and_then(|a| a.get("prompt")).and_then(Json::as_str).unwrap_or("Hello"), 100) }),
                    None,
                ),
            }
        }
        "test_elicitation" => match input("user") {
            Some(answer) => text(format!("User response: {answer}")),
            None => {
                input_required(json!({ "user": elicit("Please provide your information", "username", "string") }), None)
            }
        },
        "test_input_required_result_elicitation" => match input("user_name") {
            Some(answer) => text(format!("Hello, {}!", answer_text(Some(answer), "name"))),
            None => input_required(json!({ "user_name": elicit("What is your name?", "name", "string") }), None),
        },
        "test_input_required_result_sampling" => match input("sample_request") {
            Some(answer) => text(format!(
                "Sampling result: {}",
                answer.get("content").and_then(|c| c.get("text")).and_then(Json::as_str).unwrap_or("no response")
            )),
            None => input_required(json!({ "sample_request": sample("What is the capital of France?", 100) }), None),
        },
        "test_input_required_result_list_roots" => match input("roots_request") {
            Some(answer) => {
                text(format!("Found {} root(s)", answer.get("roots").and_then(Json::as_array).map_or(0, Vec::len)))
            }
            None => input_required(json!({ "roots_request": { "method": "roots/list", "params": {} } }), None),
        },
        "test_input_required_result_request_state" => {
            let confirmed =
                input("confirm").and_then(|c| c.get("content")).and_then(|c| c.get("ok")) == Some(&json!(true));
            let kind = state.and_then(verify).and_then(|s| s.get("kind").cloned());
            if confirmed && kind == Some(json!("request-state")) {
                text("state-ok: requestState validated")
            } else {
                input_required(
                    json!({ "confirm": elicit("Please confirm", "ok", "boolean") }),
                    Some(sign(json!({ "kind": "request-state", "nonce": nonce(now_ms) }))),
                )
            }
        }
        "test_input_required_result_multiple_inputs" => {
            let kind = state.and_then(verify).and_then(|s| s.get("kind").cloned());
            match (input("user_name"), input("greeting"), input("client_roots")) {
                (Some(user), Some(greeting), Some(roots)) if kind == Some(json!("multiple-inputs")) => text(format!(
                    "Name: {}; Greeting: {}; Roots: {}",
                    answer_text(Some(user), "name"),
                    greeting
                        .get("content")
                        .and_then(|c| c.get("text"))
                        .and_then(Json::as_str)
                        .unwrap_or("Hello there!"),
                    roots.get("roots").and_then(Json::as_array).map_or(0, Vec::len)
                )),
                _ => input_required(
                    json!({
                        "user_name": elicit("What is your name?", "name", "string"),
                        "greeting": sample("Generate a greeting", 50),
                        "client_roots": { "method": "roots/list", "params": {} },
                    }),
                    Some(sign(json!({ "kind": "multiple-inputs", "nonce": nonce(now_ms) }))),
                ),
            }
        }
        "test_input_required_result_multi_round" => {
            let step1 = || {
                input_required(
                    json!({ "step1": elicit("Step 1: What is your name?", "name", "string") }),
                    Some(sign(json!({ "round": 1, "nonce": nonce(now_ms) }))),
                )
            };
            match state.and_then(verify) {
                Some(s) if s["round"] == 1 && input("step1").is_some() => input_required(
                    json!({ "step2": elicit("Step 2: What is your favorite color?", "color", "string") }),
                    Some(sign(
                        json!({ "round": 2, "name": answer_text(input("step1"), "name"), "nonce": nonce(now_ms) }),
                    )),
                ),
                Some(s) if s["round"] == 2 && input("step2").is_some() => text(format!(
                    "Multi-round complete for {} who likes {}",
                    s["name"].as_str().unwrap_or("friend"),
                    answer_text(input("step2"), "color")
                )),
                _ => step1(),
            }
        }
        "test_input_required_result_tampered_state" => match state {
            Some(raw) => match verify(raw) {
                None => return Some(Err(RpcError::invalid_params("requestState integrity check failed"))),
                Some(s) if s["kind"] == "tamper-test" && input("confirm").is_some() => {
                    text("integrity-ok: state verified")
                }
                Some(_) => tamper_round(now_ms),
            },
            None => tamper_round(now_ms),
        },
        "test_input_required_result_capabilities" => {
            let mut requests = Map::new();
            if has(capabilities, "elicitation") {
                requests.insert("elicit_input".into(), elicit("Elicitation input", "value", "string"));
            }
            if has(capabilities, "sampling") {
                requests.insert("sample_input".into(), sample("Sample request", 50));
            }
            match inputs {
                Some(i) if !i.is_empty() => {
                    text(format!("capabilities-ok: received {}", i.keys().cloned().collect::<Vec<_>>().join(",")))
                }
                _ if requests.is_empty() => text("No supported capabilities declared"),
                _ => input_required(
                    Json::Object(requests),
                    Some(sign(json!({ "kind": "capabilities-test", "nonce": nonce(now_ms) }))),
                ),
            }
        }
        _ => return None,
    };
    Some(Ok(result))
}

fn tamper_round(now_ms: u64) -> Json {
    input_required(
        json!({ "confirm": elicit("Please confirm", "ok", "boolean") }),
        Some(sign(json!({ "kind": "tamper-test", "nonce": nonce(now_ms) }))),
    )
}

fn prompt(name: &str, params: &Map<String, Json>) -> Option<Json> {
    let args = params.get("arguments").and_then(Json::as_object);
    let arg = |key: &str| args.and_then(|a| a.get(key)).and_then(Json::as_str).unwrap_or_default().to_string();
    Some(match name {
        "test_simple_prompt" => json!({ "messages": [ user_text("This is a simple prompt for testing.") ] }),
        "test_prompt_with_arguments" => json!({ "messages": [ user_text(format!(
            "Prompt with arguments: arg1='{}', arg2='{}'", arg("arg1"), arg("arg2")
        )) ] }),
        "test_prompt_with_embedded_resource" => json!({ "messages": [
            { "role": "user", "content": { "type": "resource", "resource": {
                "uri": arg("resourceUri"), "mimeType": "text/plain", "text": "Embedded resource content for testing."
            } } },
            user_text("Please process the embedded resource above."),
        ] }),
        "test_prompt_with_image" => json!({ "messages": [
            { "role": "user", "content": { "type": "image", "data": IMAGE, "mimeType": "image/png" } },
            user_text("Please analyze the image above."),
        ] }),
        "test_input_required_result_prompt" => match params.get("inputResponses").and_then(|i| i.get("user_context")) {
            Some(answer) => {
                json!({ "messages": [ user_text(format!("Prompt with context: {}", answer_text(Some(answer), "context"))) ] })
            }
            None => input_required(
                json!({ "user_context": elicit("What context should the prompt use?", "context", "string") }),
                None,
            ),
        },
        _ => return None,
    })
}

fn read(uri: &str) -> Option<Json> {
    let content = match uri {
        "test://static-text" => {
            json!({ "uri": uri, "mimeType": "text/plain", "text": "This is the content of the static text resource." })
        }
        "test://static-binary" => json!({ "uri": uri, "mimeType": "image/png", "blob": IMAGE }),
        "test://watched-resource" => {
            json!({ "uri": uri, "mimeType": "text/plain", "text": "Watched resource content" })
        }
        "test://stateless-static-text" => {
            json!({ "uri": uri, "mimeType": "text/plain", "text": "Static text content from the stateless draft path." })
        }
        _ => {
            let id = uri.strip_prefix("test://template/")?.strip_suffix("/data")?;
            let body = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
            json!({ "uri": uri, "mimeType": "application/json", "text": body.to_string() })
        }
    };
    Some(json!({ "contents": [content] }))
}

/// Draft 2020-12 keywords the suite checks survive `tools/list` (json-schema-2020-12).
fn json_schema_2020_12() -> Json {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": { "address": { "$anchor": "addressDef", "type": "object", "properties": {
            "street": { "type": "string" }, "city": { "type": "string" }
        } } },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
        },
        "allOf": [ { "anyOf": [ { "required": ["phone"] }, { "required": ["email"] } ] } ],
        "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false
    })
}

/// A tool whose `region` travels in `Mcp-Param-Region` (http-custom-header-server-validation).
fn custom_header_schema() -> Json {
    json!({ "type": "object", "properties": {
        "region": { "type": "string", "description": "Where to run", "x-mcp-header": "Region" },
        "query": { "type": "string" }
    }, "required": ["region"] })
}

/// The input schema of a fixture tool (for the `Mcp-Param-*` header checks).
pub fn tool_input_schema(name: &str) -> Option<Json> {
    match name {
        "json_schema_2020_12_tool" => Some(json_schema_2020_12()),
        "test_custom_headers" => Some(custom_header_schema()),
        _ => TOOLS.iter().any(|(n, _)| *n == name).then(|| json!({ "type": "object", "properties": {} })),
    }
}

/// Appends the fixtures to the real lists.
pub fn extend(method: &str, result: &mut Json) {
    let (key, items): (&str, Vec<Json>) = match method {
        "tools/list" => (
            "tools",
            TOOLS
                .iter()
                .map(|(name, description)| json!({ "name": name, "description": description, "inputSchema": { "type": "object", "properties": {} } }))
                .chain([
                    json!({ "name": "json_schema_2020_12_tool", "description": "Tool with JSON Schema 2020-12 features", "inputSchema": json_schema_2020_12() }),
                    json!({ "name": "test_custom_headers", "description": "Echoes its region, mirrored in Mcp-Param-Region", "inputSchema": custom_header_schema() }),
                ])
                .collect(),
        ),
        "prompts/list" => (
            "prompts",
            vec![
                json!({ "name": "test_simple_prompt", "title": "Simple Test Prompt", "description": "A simple prompt without arguments" }),
                json!({ "name": "test_prompt_with_arguments", "title": "Prompt With Arguments", "description": "A prompt with required arguments", "arguments": [
                    { "name": "arg1", "description": "First test argument", "required": true },
                    { "name": "arg2", "description": "Second test argument", "required": true },
                ] }),
                json!({ "name": "test_prompt_with_embedded_resource", "title": "Prompt With Embedded Resource", "description": "A prompt that includes an embedded resource", "arguments": [
                    { "name": "resourceUri", "description": "URI of the resource to embed", "required": true },
                ] }),
                json!({ "name": "test_prompt_with_image", "title": "Prompt With Image", "description": "A prompt that includes image content" }),
                json!({ "name": "test_input_required_result_prompt", "description": "MRTR: prompt that requires elicitation input" }),
            ],
        ),
        "resources/list" => (
            "resources",
            vec![
                json!({ "uri": "test://static-text", "name": "static-text", "title": "Static Text Resource", "mimeType": "text/plain" }),
                json!({ "uri": "test://static-binary", "name": "static-binary", "title": "Static Binary Resource", "mimeType": "image/png" }),
                json!({ "uri": "test://watched-resource", "name": "watched-resource", "title": "Watched Resource", "mimeType": "text/plain" }),
                json!({ "uri": "test://stateless-static-text", "name": "Stateless Static Text", "mimeType": "text/plain" }),
            ],
        ),
        "resources/templates/list" => (
            "resourceTemplates",
            vec![json!({ "uriTemplate": "test://template/{id}/data", "name": "template", "title": "Resource Template", "description": "A resource template with parameter substitution", "mimeType": "application/json" })],
        ),
        _ => return,
    };
    if let Some(list) = result.get_mut(key).and_then(Json::as_array_mut) {
        list.extend(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_request(name: &str, extra: Json) -> Request {
        let mut params = json!({ "name": name, "arguments": {} });
        params.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Request {
            id: super::super::jsonrpc::RequestId::Number(1),
            method: "tools/call".into(),
            params: params.as_object().cloned(),
        }
    }

    fn meta(capabilities: Json) -> Json {
        capabilities
    }

    #[test]
    fn database_tools_are_never_shadowed() {
        assert!(intercept(&call_request("get_tables", json!({})), &meta(json!({})), 0, None).is_none());
        assert!(crate::tools::catalog()
            .iter()
            .all(|t| !t.name.starts_with("test_") && tool_input_schema(t.name).is_none()));
    }

    #[test]
    fn mrtr_fixtures_follow_the_reference_server() {
        let first =
            intercept(&call_request("test_input_required_result_elicitation", json!({})), &meta(json!({})), 0, None);
        let first = first.unwrap().unwrap();
        assert_eq!(first["resultType"], "input_required");
        assert_eq!(first["inputRequests"]["user_name"]["method"], "elicitation/create");
        let answer = json!({ "inputResponses": { "user_name": { "action": "accept", "content": { "name": "Ada" } } } });
        let done =
            intercept(&call_request("test_input_required_result_elicitation", answer), &meta(json!({})), 0, None);
        assert_eq!(done.unwrap().unwrap()["content"][0]["text"], "Hello, Ada!");
        let bad = intercept(
            &call_request("test_input_required_result_elicitation", json!({ "inputResponses": { "user_name": 5 } })),
            &meta(json!({})),
            0,
            None,
        );
        assert_eq!(bad.unwrap().unwrap_err().code, super::super::jsonrpc::INVALID_PARAMS);
        let missing = intercept(&call_request("test_missing_capability", json!({})), &meta(json!({})), 0, None)
            .unwrap()
            .unwrap_err();
        assert_eq!(missing.code, modern::MISSING_REQUIRED_CLIENT_CAPABILITY);
        assert!(intercept(
            &call_request("test_missing_capability", json!({})),
            &meta(json!({ "sampling": {} })),
            0,
            None
        )
        .unwrap()
        .is_ok());
    }

    #[test]
    fn request_state_is_tamper_evident() {
        let state = sign(json!({ "kind": "tamper-test" }));
        assert_eq!(verify(&state).unwrap()["kind"], "tamper-test");
        let tampered = state.replace("tamper-test", "tamper-tesT");
        assert_eq!(verify(&tampered), None);
        assert_eq!(verify("not json"), None);
    }
}
