//! JSON-RPC 2.0 messages as MCP uses them. A body is classified once, at the edge, so a malformed
//! message fails here with a precise error instead of deep inside a handler.

use serde::Serialize;
use serde_json::{json, Map, Value as Json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP's code for a resource URI that names nothing.
pub const RESOURCE_NOT_FOUND: i64 = -32002;

/// A request id: a string or an integer (JSON-RPC forbids fractions; MCP forbids null).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(i64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Map<String, Json>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub method: String,
    pub params: Option<Map<String, Json>>,
}

/// One incoming message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request(Request),
    Notification(Notification),
    /// A response or error the client sends back (to a server-initiated request).
    Response,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Json>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }
}

/// The id of a single message, when it can be read, so that an error answered before the message
/// is classified (session, protocol version) still names the request it answers.
pub fn peek_id(value: &Json) -> Option<RequestId> {
    match value.get("id")? {
        Json::String(s) => Some(RequestId::Text(s.clone())),
        Json::Number(n) => n.as_i64().map(RequestId::Number),
        _ => None,
    }
}

/// Parses one JSON value into a message.
#[allow(clippy::result_large_err)] // Built once per message; boxing would only add noise. `Err` carries the id when one could be read, so the
/// error response can name it.
pub fn classify(value: Json) -> Result<Message, (Option<RequestId>, RpcError)> {
    let Json::Object(mut obj) = value else {
        return Err((None, RpcError::invalid_request("a JSON-RPC message must be a JSON object")));
    };
    let id = match obj.remove("id") {
        None => None,
        Some(Json::String(s)) => Some(RequestId::Text(s)),
        Some(Json::Number(n)) if n.is_i64() => Some(RequestId::Number(n.as_i64().unwrap_or_default())),
        Some(Json::Number(n)) if n.is_u64() => {
            return Err((None, RpcError::invalid_request(format!("id {n} is out of range"))))
        }
        Some(other) => {
            return Err((
                None,
                RpcError::invalid_request(format!("id must be a string or an integer, got {}", type_name(&other))),
            ))
        }
    };
    match obj.get("jsonrpc") {
        Some(Json::String(v)) if v == "2.0" => {}
        _ => return Err((id, RpcError::invalid_request("\"jsonrpc\" must be exactly \"2.0\""))),
    }
    let params = match obj.remove("params") {
        None => None,
        Some(Json::Object(p)) => Some(p),
        Some(other) => {
            return Err((id, RpcError::invalid_request(format!("params must be an object, got {}", type_name(&other)))))
        }
    };
    match obj.remove("method") {
        Some(Json::String(method)) => match id {
            Some(id) => Ok(Message::Request(Request { id, method, params })),
            None => Ok(Message::Notification(Notification { method, params })),
        },
        Some(_) => Err((id, RpcError::invalid_request("method must be a string"))),
        None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => Ok(Message::Response),
        None => Err((
            id,
            RpcError::invalid_request(
                "a JSON-RPC message needs a \"method\" (request or notification) or a \"result\"/\"error\" (response)",
            ),
        )),
    }
}

pub fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

pub fn success(id: &RequestId, result: Json) -> Json {
    // Built by moving `result` in: `json!` would copy it whole (it serializes each value it embeds).
    let mut message = Map::with_capacity(3);
    message.insert("jsonrpc".into(), Json::from("2.0"));
    message.insert("id".into(), json!(id));
    message.insert("result".into(), result);
    Json::Object(message)
}

pub fn error(id: Option<&RequestId>, err: &RpcError) -> Json {
    let mut body = json!({ "code": err.code, "message": err.message });
    if let Some(data) = &err.data {
        body["data"] = data.clone();
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_requests_notifications_and_responses() {
        let m = classify(json!({"jsonrpc":"2.0","id":1,"method":"ping"})).unwrap();
        assert_eq!(m, Message::Request(Request { id: RequestId::Number(1), method: "ping".into(), params: None }));
        let m = classify(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).unwrap();
        assert!(matches!(m, Message::Notification(n) if n.method == "notifications/initialized"));
        let m = classify(json!({"jsonrpc":"2.0","id":"a","result":{}})).unwrap();
        assert_eq!(m, Message::Response);
    }

    #[test]
    fn rejects_malformed_messages_with_reasons() {
        let (_, e) = classify(json!([1])).unwrap_err();
        assert_eq!(e.code, INVALID_REQUEST);
        let (id, e) = classify(json!({"jsonrpc":"1.0","id":7,"method":"ping"})).unwrap_err();
        assert_eq!((id, e.code), (Some(RequestId::Number(7)), INVALID_REQUEST));
        let (_, e) = classify(json!({"jsonrpc":"2.0","id":null,"method":"ping"})).unwrap_err();
        assert!(e.message.contains("id must be a string or an integer, got null"));
        let (_, e) = classify(json!({"jsonrpc":"2.0","id":1.5,"method":"ping"})).unwrap_err();
        assert_eq!(e.code, INVALID_REQUEST);
        let (_, e) = classify(json!({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})).unwrap_err();
        assert!(e.message.contains("params must be an object"));
        let (_, e) = classify(json!({"jsonrpc":"2.0","id":1})).unwrap_err();
        assert!(e.message.contains("needs a \"method\""));
    }

    #[test]
    fn peeks_the_id_of_a_single_message_only() {
        assert_eq!(peek_id(&json!({"id": 5, "method": "x"})), Some(RequestId::Number(5)));
        assert_eq!(peek_id(&json!({"id": "a"})), Some(RequestId::Text("a".into())));
        assert_eq!(peek_id(&json!({"id": 1.5})), None);
        assert_eq!(peek_id(&json!({"id": null})), None);
        assert_eq!(peek_id(&json!({"method": "x"})), None);
        assert_eq!(peek_id(&json!([{"id": 1}])), None);
    }

    #[test]
    fn error_bodies_carry_the_id() {
        let body = error(Some(&RequestId::Text("x".into())), &RpcError::new(METHOD_NOT_FOUND, "nope"));
        assert_eq!(body, json!({"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"nope"}}));
        assert_eq!(error(None, &RpcError::internal("boom"))["id"], Json::Null);
    }
}
