//! Streamed responses at the edge: the core runs as the body of a `Response`.
//!
//! [`respond`] polls the request until it either finishes (an ordinary buffered response) or opens
//! its [`EventStream`]; then it answers with the head at once and a body stream that keeps polling
//! the request, handing out each chunk as the core queues it. The request future lives inside the
//! body stream, so when the client goes away and the runtime cancels the body, the future is
//! dropped and the work stops at its next await (a D1 batch already sent still commits or fails
//! whole: it is one transaction).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use futures_util::future::LocalBoxFuture;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Response, ResponseBuilder};

use crate::http::sse::{EventStream, Timer};
use crate::http::HttpResponse;

pub async fn respond(
    mut request: LocalBoxFuture<'static, HttpResponse>,
    events: Rc<EventStream>,
) -> worker::Result<Response> {
    let finished = futures_util::future::poll_fn(|cx| match request.as_mut().poll(cx) {
        Poll::Ready(response) => Poll::Ready(Some(response)),
        Poll::Pending if events.is_open() => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    })
    .await;
    let Some(head) = events.take_head() else {
        // Never opened: the request finished with an ordinary response.
        return match finished {
            Some(response) => super::to_worker_response(response),
            None => Err(worker::Error::RustError("stream opened without a head".into())),
        };
    };
    let mut running = if finished.is_some() { None } else { Some(request) };
    // Once a stream is open, the core's returned response is only its last chunk.
    let mut tail = finished.map(|response| response.body);
    let body = futures_util::stream::poll_fn(move |cx| loop {
        if let Some(chunk) = events.next_chunk() {
            return Poll::Ready(Some(Ok::<Vec<u8>, worker::Error>(chunk)));
        }
        if let Some(last) = tail.take() {
            if last.is_empty() {
                continue;
            }
            return Poll::Ready(Some(Ok(last)));
        }
        let Some(request) = running.as_mut() else { return Poll::Ready(None) };
        match request.as_mut().poll(cx) {
            Poll::Ready(response) => {
                running = None;
                tail = Some(response.body);
            }
            // Polling may have queued events before it stopped at an await.
            Poll::Pending => {
                return match events.next_chunk() {
                    Some(chunk) => Poll::Ready(Some(Ok(chunk))),
                    None => Poll::Pending,
                }
            }
        }
    });
    ResponseBuilder::new().with_status(head.status).with_headers(super::headers_of(&head.headers)?).from_stream(body)
}

/// setTimeout and the runtime clock.
pub struct WorkerTimer;

impl Timer for WorkerTimer {
    fn sleep(&self, ms: u64) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        // Not worker::Delay: it keeps the waker of its first poll, and a streamed body polls the
        // request from a new task on every pull, so the timer would wake a finished task and the
        // runtime would cancel the request as hung. A promise awaited through JsFuture re-registers
        // the current waker on every poll.
        let ms = ms.min(i32::MAX as u64) as i32;
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let set_timeout = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            // Workers always have setTimeout; without it the sleep never ends (no busy loop).
            if let Some(set_timeout) = set_timeout {
                let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
            }
        });
        Box::pin(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        })
    }
    fn now_ms(&self) -> u64 {
        super::now_ms()
    }
}
