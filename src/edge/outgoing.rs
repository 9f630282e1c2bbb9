//! Outgoing requests (to the Durable Objects, the PostgreSQL endpoint, client metadata documents),
//! built with web_sys directly. worker's `Request::new_with_init` converts its `RequestInit` by
//! setting every field that type has (cf properties, cache mode, integrity...): about 10 KiB of
//! wasm, to set the method, headers, body and redirect mode these requests use.

use wasm_bindgen::JsValue;
use worker::{web_sys, Headers, Request};

/// What an outgoing request carries besides its method and URL.
#[derive(Default)]
pub struct Outgoing<'a> {
    pub headers: Option<&'a Headers>,
    pub body: Option<&'a str>,
    /// Answer a redirect as it is instead of following it.
    pub manual_redirect: bool,
}

pub fn request(method: &str, url: &str, with: Outgoing<'_>) -> worker::Result<Request> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(headers) = with.headers {
        init.set_headers(&headers.0);
    }
    if let Some(body) = with.body {
        init.set_body(&JsValue::from_str(body));
    }
    if with.manual_redirect {
        init.set_redirect(web_sys::RequestRedirect::Manual);
    }
    web_sys::Request::new_with_str_and_init(url, &init).map(Request::from).map_err(worker::Error::from)
}

/// A POST with a text body: the commands sent to the Durable Objects.
pub fn post(url: &str, body: &str) -> worker::Result<Request> {
    request("POST", url, Outgoing { body: Some(body), ..Default::default() })
}
