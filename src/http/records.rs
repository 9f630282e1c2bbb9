//! `GET /mcp/<service>/records/<table>/<key>`: the page `search` and `fetch` link to, showing one
//! record to a person. It asks for the same credential as the MCP endpoint (`Authorization:
//! Bearer` with an API key or an OAuth access token) and reads through the same tool context, so
//! hidden tables and columns stay unknown, masked columns stay masked and every row policy holds.
//! Without a credential it answers 401 with a page saying how to get one. Every value is
//! HTML-escaped; the page loads nothing, runs no script and cannot be framed.

use super::login::escape;
use super::mcp_endpoint::{authenticate, RequestTools};
use super::{Env, HttpRequest, HttpResponse};
use crate::config::ServiceConfig;
use crate::mcp::resources::percent_decode;
use crate::tools::guard::CallGuard;
use crate::tools::{fetch, ToolContext};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.3rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;\
padding:.35rem .6rem;border-bottom:1px solid #ddd}th{width:30%;color:#555;font-weight:600}\
td{white-space:pre-wrap;word-break:break-word}.muted{color:#666;font-size:.9rem}";

fn page(status: u16, title: &str, body: &str) -> HttpResponse {
    HttpResponse::html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
            escape(title)
        ),
    )
    .with_header(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    )
    .with_header("x-frame-options", "DENY")
    .with_header("cache-control", "no-store")
    .with_header("referrer-policy", "no-referrer")
    .with_header("x-content-type-options", "nosniff")
}

fn message_page(status: u16, heading: &str, message: &str) -> HttpResponse {
    page(status, heading, &format!("<h1>{}</h1><p>{}</p>", escape(heading), escape(message)))
}

pub async fn handle(
    request: &HttpRequest,
    service: &ServiceConfig,
    table: &str,
    key: &str,
    env: &Env<'_>,
) -> HttpResponse {
    if request.method != "GET" && request.method != "HEAD" {
        return HttpResponse::error(405, "method_not_allowed", "a record page is read with GET")
            .with_header("allow", "GET");
    }
    let principal = match authenticate(request, service, env).await {
        Ok(principal) => principal,
        Err(refusal) if refusal.status == 401 => return sign_in_page(refusal, service, &request.origin),
        Err(other) => return other,
    };
    let (Some(table), Some(key)) = (percent_decode(table), percent_decode(key)) else {
        return message_page(
            400,
            "Bad record address",
            "the table or key in this address is not valid percent-encoded UTF-8",
        );
    };
    let tools = RequestTools::open(service, env, &principal);
    let budget = tools.budget(service);
    let open = tools.context(&budget, service, env, &principal, &request.origin);
    // As a tool call: database errors never name hidden tables or columns.
    let guard = CallGuard::new(&budget, service.max_queries_per_call, open.hidden_names().await);
    let ctx = ToolContext { db: &guard, ..open };
    match fetch::load(&ctx, &table, &key).await {
        Ok(record) => {
            let rows: String = record
                .fields
                .iter()
                .map(|(column, value)| {
                    format!(
                        "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                        escape(column),
                        escape(&crate::search::display(value))
                    )
                })
                .collect();
            page(
                200,
                &record.title,
                &format!(
                    "<p class=\"muted\">{} · table {} · record {}</p><h1>{}</h1><table>{rows}</table>",
                    escape(&service.label),
                    escape(&record.table),
                    escape(&record.id),
                    escape(&record.title)
                ),
            )
        }
        Err(e) => message_page(404, "Record not available", &e.0),
    }
}

/// The 401 of the MCP endpoint (its `WWW-Authenticate` challenge kept) as a page for a person.
fn sign_in_page(refusal: HttpResponse, service: &ServiceConfig, origin: &str) -> HttpResponse {
    let endpoint = format!("{origin}/mcp/{}", service.name);
    let mut response = page(
        401,
        "Sign in to see this record",
        &format!(
            "<h1>Sign in to see this record</h1><p>This record of <strong>{}</strong> is shown only with the same \
             credential as the service's MCP endpoint <code>{}</code>: send <code>Authorization: Bearer &lt;API key \
             or OAuth access token&gt;</code> with the request. Ask the service's operator for an API key, or open \
             the record through your MCP client (its fetch tool returns the same record).</p>",
            escape(&service.label),
            escape(&endpoint)
        ),
    );
    if let Some(challenge) = refusal.header("www-authenticate") {
        response = response.with_header("www-authenticate", challenge.to_string());
    }
    response
}
