//! Writing JSON answers without serializing a tool result's rows twice.
//!
//! A successful tool result carries its value twice: as text (`content[0].text`, the value
//! serialized) and as `structuredContent`. The text is made once, in [`tool_text`]; when the answer
//! is written, `structuredContent` is copied from that text instead of being serialized again.
//! The output is byte for byte what `serde_json::to_vec` gives.
//!
//! Which texts may stand in for their value is recorded by the address and length of the text's
//! buffer, which moving the `String` (into the result, the answer) does not change. Anything not
//! recorded, or changed since (a new or edited text), is serialized the ordinary way.

use std::cell::RefCell;

use serde_json::{Map, Value as Json};

/// Texts recorded at once, at most (a request has one, a batch a few); beyond, the list restarts
/// and the older ones are simply serialized again.
const MAX_RECORDED: usize = 64;

thread_local! {
    static TWINS: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

fn identity(text: &str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
}

/// Serializes `value` for `content[0].text` and records that the text is exactly `value`.
pub fn tool_text(value: &Json) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    if !text.is_empty() {
        TWINS.with(|t| {
            let mut twins = t.borrow_mut();
            if twins.len() >= MAX_RECORDED {
                twins.clear();
            }
            twins.push(identity(&text));
        });
    }
    text
}

/// How many texts are recorded now (tests).
#[cfg(test)]
pub(crate) fn recorded() -> usize {
    TWINS.with(|t| t.borrow().len())
}

/// The recorded text of a tool result (`{content: [{type: "text", text}], structuredContent}`),
/// taken off the record (each is used once).
fn recorded_text(result: &Map<String, Json>) -> Option<&str> {
    result.get("structuredContent")?;
    let first = result.get("content")?.as_array()?.first()?.as_object()?;
    if first.get("type").and_then(Json::as_str) != Some("text") {
        return None;
    }
    let text = first.get("text")?.as_str()?;
    TWINS.with(|t| {
        let mut twins = t.borrow_mut();
        let at = twins.iter().position(|id| *id == identity(text))?;
        twins.swap_remove(at);
        Some(text)
    })
}

fn write_plain(out: &mut Vec<u8>, value: &impl serde::Serialize) {
    // Writing into a Vec fails only for values JSON cannot hold, which `Json` never has.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// A tool result: every member as usual but `structuredContent`, copied from its text.
fn write_result(out: &mut Vec<u8>, result: &Map<String, Json>, text: &str) {
    out.push(b'{');
    for (i, (key, value)) in result.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_plain(out, key);
        out.push(b':');
        if key == "structuredContent" {
            out.extend_from_slice(text.as_bytes());
        } else {
            write_plain(out, value);
        }
    }
    out.push(b'}');
}

/// A JSON-RPC message (or anything else: written as usual).
fn write_message(out: &mut Vec<u8>, message: &Json) {
    let Some(object) = message.as_object() else { return write_plain(out, message) };
    let Some((result, text)) =
        object.get("result").and_then(Json::as_object).and_then(|r| recorded_text(r).map(|t| (r, t)))
    else {
        return write_plain(out, message);
    };
    out.push(b'{');
    for (i, (key, value)) in object.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_plain(out, key);
        out.push(b':');
        if key == "result" {
            write_result(out, result, text);
        } else {
            write_plain(out, value);
        }
    }
    out.push(b'}');
}

/// `serde_json::to_vec(body)`, with tool results' `structuredContent` copied from their text. A
/// batch (an array of messages) is written message by message.
pub fn to_vec(body: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    match body {
        Json::Array(messages) => {
            out.push(b'[');
            for (i, message) in messages.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_message(&mut out, message);
            }
            out.push(b']');
        }
        other => write_message(&mut out, other),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool_result(value: Json) -> Json {
        let text = tool_text(&value);
        json!({ "jsonrpc": "2.0", "id": 7, "result": { "content": [ { "type": "text", "text": Json::Null } ], "structuredContent": value, "isError": false } })
            .as_object()
            .cloned()
            .map(|mut m| {
                // Move the recorded text in (as the server does), not a copy of it.
                m["result"]["content"][0]["text"] = Json::String(text);
                Json::Object(m)
            })
            .unwrap()
    }

    #[test]
    fn writes_exactly_what_serde_json_writes() {
        let rows: Vec<Json> = (0..50)
            .map(|i| json!({"id": i, "name": format!("n\"{i}\u{e9}"), "price": 1.5 * i as f64, "none": null}))
            .collect();
        let answer = tool_result(json!({ "table": "t", "records": rows, "returned": 50 }));
        let expected = serde_json::to_vec(&answer).unwrap();
        assert_eq!(recorded(), 1);
        assert_eq!(to_vec(&answer), expected);
        assert_eq!(recorded(), 0, "the text was used");
        // Once used, the record is gone: the same answer again takes the ordinary way, same bytes.
        assert_eq!(to_vec(&answer), expected);
        for other in [
            json!(null),
            json!([]),
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": "x"}}),
            json!({"a": [1, {"b": "c"}]}),
        ] {
            assert_eq!(to_vec(&other), serde_json::to_vec(&other).unwrap());
        }
        let batch = json!([tool_result(json!({"a": 1})), {"jsonrpc": "2.0", "id": 2, "result": {}}, tool_result(json!([1, 2]))]);
        assert_eq!(to_vec(&batch), serde_json::to_vec(&batch).unwrap());
    }

    #[test]
    fn the_recorded_text_stands_in_for_the_value() {
        // Shown by breaking the rule on purpose: a value changed after its text was made.
        let mut answer = tool_result(json!({"a": 1}));
        answer["result"]["structuredContent"] = json!({"a": 2});
        let written = String::from_utf8(to_vec(&answer)).unwrap();
        assert!(written.contains(r#""structuredContent":{"a":1}"#), "{written}");
    }

    #[test]
    fn a_text_not_recorded_or_edited_is_not_trusted() {
        let mut answer = tool_result(json!({"a": 1}));
        // A new text (another buffer) for the same result: serialized the ordinary way.
        answer["result"]["content"][0]["text"] = Json::String(r#"{"a":1}"#.to_string());
        answer["result"]["structuredContent"] = json!({"a": 3});
        let written = String::from_utf8(to_vec(&answer)).unwrap();
        assert!(written.contains(r#""structuredContent":{"a":3}"#), "{written}");
        // A look-alike that was never recorded.
        let plain = json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "{}"}], "structuredContent": {"x": true}}});
        assert_eq!(to_vec(&plain), serde_json::to_vec(&plain).unwrap());
    }
}
