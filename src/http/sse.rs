//! Streamed responses: Server-Sent Events written while the request is still running.
//!
//! The core writes into an [`EventStream`] (a plain queue, so `cargo test` reads it natively); the
//! edge (`edge::stream`) sends the head as soon as the core calls [`EventStream::open`], then
//! drains the queue into the response body while it keeps polling the request. Once a stream is
//! open, the [`super::HttpResponse`] the core returns is only the stream's last chunk (its status
//! and headers are ignored: they went out with the head).
//!
//! Dropping the response body (the client closed the connection) drops the request's future, so
//! the work stops at its next await.

use serde_json::Value as Json;
use std::cell::RefCell;
use std::collections::VecDeque;

use super::{Env, HttpRequest, HttpResponse};
use crate::mcp::jsonrpc::Request;
use crate::mcp::progress::Notify;
use crate::mcp::subscriptions::ListenOut;
pub use crate::mcp::subscriptions::Timer;

/// One JSON-RPC message as an SSE event. serde_json escapes newlines inside strings, so the
/// serialized message is always a single `data:` line.
pub fn event(message: &Json) -> Vec<u8> {
    let mut out = b"event: message\ndata: ".to_vec();
    // Serializing a Value cannot fail; an empty object is the harmless fallback.
    if serde_json::to_writer(&mut out, message).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
    out
}

/// An SSE comment: clients ignore it, proxies see traffic (keep-alive).
pub fn comment(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 4);
    for line in text.split(['\n', '\r']) {
        out.extend_from_slice(b": ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

/// The head of an event-stream response.
pub fn head() -> HttpResponse {
    HttpResponse::new(200)
        .with_header("content-type", "text/event-stream")
        .with_header("cache-control", "no-cache")
        // Spec (streamable HTTP): keeps reverse proxies from buffering the events.
        .with_header("x-accel-buffering", "no")
}

#[derive(Default)]
struct State {
    /// `Some` once opened, until the edge takes it.
    head: Option<HttpResponse>,
    opened: bool,
    queue: VecDeque<Vec<u8>>,
    /// CORS origin decided by `http::handle` before routing; applied to the head at open.
    cors_origin: Option<String>,
}

/// A response that may turn into an event stream part way through the request.
#[derive(Default)]
pub struct EventStream {
    state: RefCell<State>,
}

impl EventStream {
    /// Starts the stream with `head` (once; later calls do nothing). The edge answers the HTTP
    /// request with it at the request's next await.
    pub fn open(&self, head: HttpResponse) {
        let mut state = self.state.borrow_mut();
        if state.opened {
            return;
        }
        let head = super::cors::decorate(head, state.cors_origin.as_deref());
        state.head = Some(head);
        state.opened = true;
    }

    pub fn is_open(&self) -> bool {
        self.state.borrow().opened
    }

    /// Queues bytes for the body; opens the stream with the SSE head first if needed.
    pub fn send(&self, bytes: Vec<u8>) {
        if !self.is_open() {
            self.open(head());
        }
        self.state.borrow_mut().queue.push_back(bytes);
    }

    /// Queues one JSON-RPC message as an event.
    pub fn send_message(&self, message: &Json) {
        self.send(event(message));
    }

    pub(super) fn set_cors_origin(&self, origin: Option<String>) {
        self.state.borrow_mut().cors_origin = origin;
    }

    /// The head, once (for the edge).
    pub fn take_head(&self) -> Option<HttpResponse> {
        self.state.borrow_mut().head.take()
    }

    /// The next queued chunk (for the edge, and tests).
    pub fn next_chunk(&self) -> Option<Vec<u8>> {
        self.state.borrow_mut().queue.pop_front()
    }

    /// Everything queued so far, concatenated (tests).
    #[cfg(test)]
    pub fn drain(&self) -> Vec<u8> {
        self.state.borrow_mut().queue.drain(..).flatten().collect()
    }
}

impl Notify for EventStream {
    fn notify(&self, message: &Json) {
        self.send_message(message);
    }
}

impl ListenOut for EventStream {
    fn message(&self, message: &Json) {
        self.send_message(message);
    }
    fn comment(&self, text: &str) {
        self.send(comment(text));
    }
}

/// What a request needs to answer with a stream; absent where streaming is not wired.
#[derive(Clone, Copy)]
pub struct Streaming<'a> {
    pub events: &'a EventStream,
    pub timer: &'a dyn Timer,
}

/// The request's event stream for progress: a `tools/call` with `_meta.progressToken` from a
/// client that accepts `text/event-stream`, where the host can stream. Otherwise `None`, and the
/// answer is exactly what it would be without the token. Pass it to
/// `mcp::server::handle_streaming`; when the stream opened, send the answer as its last event.
pub fn progress_events<'e>(http: &HttpRequest, env: &Env<'e>, call: &Request) -> Option<&'e EventStream> {
    let wanted = call.method == "tools/call"
        && crate::mcp::progress::token(call.params.as_ref()).is_some()
        && accepts_event_stream(http.header("accept"));
    env.streaming.filter(|_| wanted).map(|s| s.events)
}

/// Whether the client's Accept lets the answer be an event stream.
pub fn accepts_event_stream(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.to_ascii_lowercase().contains("text/event-stream"))
}

/// Splits an SSE body into its `data:` payloads parsed as JSON, and counts comments (tests).
#[cfg(test)]
pub fn parse_events(body: &[u8]) -> (Vec<Json>, usize) {
    let text = String::from_utf8_lossy(body);
    let mut messages = Vec::new();
    let mut comments = 0;
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        for line in block.lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                messages.push(serde_json::from_str(data).unwrap_or(Json::Null));
            } else if line.starts_with(':') {
                comments += 1;
            }
        }
    }
    (messages, comments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_is_one_data_line_even_with_newlines_in_strings() {
        let bytes = event(&json!({"jsonrpc": "2.0", "method": "m", "params": {"text": "a\nb\r\nc"}}));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("event: message\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
        assert_eq!(text.matches('\n').count(), 3, "{text}");
        let (messages, _) = parse_events(text.as_bytes());
        assert_eq!(messages[0]["params"]["text"], json!("a\nb\r\nc"));
    }

    #[test]
    fn a_comment_cannot_smuggle_an_event() {
        let text = String::from_utf8(comment("keep-alive\ndata: {\"x\":1}")).unwrap();
        assert_eq!(text, ": keep-alive\n: data: {\"x\":1}\n\n");
        let (messages, comments) = parse_events(text.as_bytes());
        assert!(messages.is_empty());
        assert_eq!(comments, 2);
    }

    #[test]
    fn the_stream_opens_once_with_the_sse_head_and_cors() {
        let stream = EventStream::default();
        stream.set_cors_origin(Some("https://app.example.com".into()));
        assert!(!stream.is_open());
        assert!(stream.take_head().is_none());
        stream.send_message(&json!({"n": 1}));
        stream.open(HttpResponse::new(500));
        stream.send(comment("k"));
        assert!(stream.is_open());
        let head = stream.take_head().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-type"), Some("text/event-stream"));
        assert_eq!(head.header("access-control-allow-origin"), Some("https://app.example.com"));
        assert!(stream.take_head().is_none(), "the head is handed out once");
        let first = stream.next_chunk().unwrap();
        assert_eq!(parse_events(&first).0, vec![json!({"n": 1})]);
        assert_eq!(stream.drain(), b": k\n\n".to_vec());
        assert!(stream.next_chunk().is_none());
    }

    #[test]
    fn accept_must_name_event_streams() {
        assert!(accepts_event_stream(Some("application/json, text/event-stream")));
        assert!(accepts_event_stream(Some("Text/Event-Stream")));
        assert!(!accepts_event_stream(Some("application/json")));
        assert!(!accepts_event_stream(Some("*/*")));
        assert!(!accepts_event_stream(None));
    }
}
