//! `GET /mcp/<service>/records/<table>/<key>`: the page `search` and `fetch` link to, showing one
//! record to a person. It asks for the same credential as the MCP endpoint (`Authorization:
//! Bearer` with an API key or an OAuth access token), or the record pages' own sign-in cookie
//! (`record_signin`: a browser opening the link signs in through this server's OAuth flow), and
//! reads through the same tool context, so hidden tables and columns stay unknown, masked
//! columns stay masked and every row policy holds for that person. A browser without a
//! credential is sent to sign in; anything else gets 401 with a page saying how to get one.
//! Every value is HTML-escaped; the page loads nothing, runs no script and cannot be framed.

use super::login::escape;
use super::mcp_endpoint::{authenticate, RequestTools};
use super::record_signin;
use super::{Env, HttpRequest, HttpResponse};
use crate::config::ServiceConfig;
use crate::mcp::resources::percent_decode;
use crate::oauth::flow::cookie;
use crate::oauth::record_viewer;
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

pub(super) fn message_page(status: u16, heading: &str, message: &str) -> HttpResponse {
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
    // The sign-in cookie stands in for the header only when there is no header.
    let from_cookie = match request.header("authorization") {
        Some(_) => None,
        None => cookie(request.header("cookie"), &record_viewer::token_cookie_name(&service.name))
            .filter(|token| !token.is_empty()),
    };
    let with_cookie;
    let credentialed = match &from_cookie {
        Some(token) => {
            let mut copy = request.clone();
            copy.headers.push(("authorization".into(), format!("Bearer {token}")));
            with_cookie = copy;
            &with_cookie
        }
        None => request,
    };
    let principal = match authenticate(credentialed, service, env).await {
        Ok(principal) => principal,
        Err(refusal) if refusal.status == 401 => {
            let can_sign_in = record_signin::available(service, env);
            if can_sign_in && request.header("authorization").is_none() && is_navigation(request) {
                let mut response = HttpResponse::new(302)
                    .with_header("location", record_signin::start_url(service, &request.path))
                    .with_header("cache-control", "no-store");
                if from_cookie.is_some() {
                    response = response.with_header("set-cookie", record_viewer::clear_token_cookie(&service.name));
                }
                return response;
            }
            return sign_in_page(refusal, service, &request.origin, can_sign_in.then_some(&request.path));
        }
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
                    "<p class=\"muted\">{} · table {} · record {}</p><h1>{}</h1><table>{rows}</table>{}",
                    escape(&service.label),
                    escape(&record.table),
                    escape(&record.id),
                    escape(&record.title),
                    match from_cookie {
                        Some(_) => format!(
                            "<p class=\"muted\"><a href=\"/mcp/{}/records/signout\">Sign out</a></p>",
                            service.name
                        ),
                        None => String::new(),
                    }
                ),
            )
        }
        // A database that cannot be read is an outage, not a missing record.
        Err(e) if e.is_schema_unreadable() => message_page(503, "Database unavailable", &e.0),
        Err(e) => message_page(404, "Record not available", &e.0),
    }
}

/// A browser following a link (not a script or an API client, which get the 401).
fn is_navigation(request: &HttpRequest) -> bool {
    request.header("sec-fetch-mode").is_some_and(|mode| mode.eq_ignore_ascii_case("navigate"))
        || request.header("accept").is_some_and(|accept| accept.contains("text/html"))
}

/// The 401 of the MCP endpoint (its `WWW-Authenticate` challenge kept) as a page for a person,
/// with a sign-in link when the service's users can sign in with a browser.
fn sign_in_page(
    refusal: HttpResponse,
    service: &ServiceConfig,
    origin: &str,
    record_path: Option<&String>,
) -> HttpResponse {
    let endpoint = format!("{origin}/mcp/{}", service.name);
    let link = match record_path {
        Some(path) => format!(
            "<p><a href=\"{}\">Sign in with your account</a> to see it in this browser.</p>",
            escape(&record_signin::start_url(service, path))
        ),
        None => String::new(),
    };
    let mut response = page(
        401,
        "Sign in to see this record",
        &format!(
            "<h1>Sign in to see this record</h1><p>This record of <strong>{}</strong> is shown only with the same \
             credential as the service's MCP endpoint <code>{}</code>: send <code>Authorization: Bearer &lt;API key \
             or OAuth access token&gt;</code> with the request. Ask the service's operator for an API key, or open \
             the record through your MCP client (its fetch tool returns the same record).</p>{link}",
            escape(&service.label),
            escape(&endpoint)
        ),
    );
    if let Some(challenge) = refusal.header("www-authenticate") {
        response = response.with_header("www-authenticate", challenge.to_string());
    }
    response
}
