//! Limits on one JSON-RPC batch (2025-03-26 sessions only), so a single POST cannot turn into
//! unbounded work or an unbounded response.
//!
//! A batch with too many messages is refused whole, before anything runs. Within an accepted batch,
//! messages run in order until their answers pass the response budget; every request after that is
//! answered with [`BATCH_LIMIT`] and not run, so the client knows exactly what to send again.

use serde_json::Value as Json;

use super::jsonrpc::{self, Message, RequestId, RpcError};

/// Messages accepted in one batch.
pub const MAX_BATCH_MESSAGES: usize = 50;
/// Answer bytes one batch may produce before the remaining requests are refused unrun.
pub const MAX_BATCH_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// JSON-RPC server error: the request was not run because its batch reached a limit.
pub const BATCH_LIMIT: i64 = -32000;

/// Refuses a batch that is empty or has more than [`MAX_BATCH_MESSAGES`] messages.
pub fn check_size(len: usize) -> Result<(), RpcError> {
    if len == 0 {
        return Err(RpcError::invalid_request("empty batch"));
    }
    if len > MAX_BATCH_MESSAGES {
        return Err(RpcError::invalid_request(format!(
            "a batch may hold at most {MAX_BATCH_MESSAGES} messages, this one has {len}; nothing was run: \
             send fewer messages per POST"
        )));
    }
    Ok(())
}

/// Counts the bytes of a batch's answers.
#[derive(Debug)]
pub struct ResponseBudget {
    limit: usize,
    used: usize,
}

impl Default for ResponseBudget {
    fn default() -> Self {
        Self::with_limit(MAX_BATCH_RESPONSE_BYTES)
    }
}

impl ResponseBudget {
    pub fn with_limit(limit: usize) -> Self {
        ResponseBudget { limit, used: 0 }
    }

    /// True once the answers so far have reached the limit: run nothing more.
    pub fn exhausted(&self) -> bool {
        self.used >= self.limit
    }

    /// Adds an answer's serialized size.
    pub fn record(&mut self, answer: &Json) {
        self.used = self.used.saturating_add(answer.to_string().len());
    }

    /// The answer for a message left unrun: an error for a request, nothing for a notification or
    /// a response (they expect no answer, and skipping them has no effect the client relies on).
    pub fn refusal(&self, message: &Result<Message, (Option<RequestId>, RpcError)>) -> Option<Json> {
        let id = match message {
            Ok(Message::Request(request)) => Some(&request.id),
            Err((id, _)) => id.as_ref(),
            Ok(_) => return None,
        };
        let error = RpcError::new(
            BATCH_LIMIT,
            format!(
                "not run: the answers earlier in this batch reached {} bytes (the limit per batch); \
                 send this request again on its own",
                self.limit
            ),
        );
        Some(jsonrpc::error(id, &error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::{classify, Request};
    use serde_json::json;

    #[test]
    fn batch_size_is_capped_before_anything_runs() {
        assert!(check_size(1).is_ok());
        assert!(check_size(MAX_BATCH_MESSAGES).is_ok());
        let e = check_size(MAX_BATCH_MESSAGES + 1).unwrap_err();
        assert_eq!(e.code, jsonrpc::INVALID_REQUEST);
        assert!(e.message.contains("at most 50"), "{}", e.message);
        assert!(e.message.contains("nothing was run"));
        assert_eq!(check_size(0).unwrap_err().message, "empty batch");
    }

    #[test]
    fn budget_counts_serialized_bytes() {
        let mut budget = ResponseBudget::with_limit(100);
        let answer = json!({"jsonrpc": "2.0", "id": 1, "result": {"text": "x".repeat(40)}});
        let size = serde_json::to_vec(&answer).unwrap().len();
        budget.record(&answer);
        assert_eq!(budget.used, size);
        assert!(!budget.exhausted());
        budget.record(&answer);
        assert!(budget.exhausted(), "{} bytes of 100", budget.used);
    }

    #[test]
    fn refusal_keeps_the_request_id_and_skips_notifications() {
        let budget = ResponseBudget::with_limit(10);
        let request = Ok(Message::Request(Request {
            id: RequestId::Text("q7".into()),
            method: "tools/call".into(),
            params: None,
        }));
        let refusal = budget.refusal(&request).unwrap();
        assert_eq!(refusal["id"], json!("q7"));
        assert_eq!(refusal["error"]["code"], json!(BATCH_LIMIT));
        assert!(refusal["error"]["message"].as_str().unwrap().contains("send this request again on its own"));
        let notification = classify(json!({"jsonrpc": "2.0", "method": "notifications/progress"}));
        assert!(budget.refusal(&notification).is_none());
        let malformed = classify(json!({"jsonrpc": "2.0", "id": 9}));
        assert_eq!(budget.refusal(&malformed).unwrap()["id"], json!(9));
    }
}
