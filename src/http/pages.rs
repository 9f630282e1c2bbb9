//! What a person or a monitor sees without a credential: `/`, `/mcp/<name>/info`, `/health`.

use serde_json::{json, Value as Json};

use super::{Env, HttpRequest, HttpResponse};
use crate::config::{AuthMode, Config, ConfigErrors, ServiceConfig};

pub fn mcp_url(request: &HttpRequest, service: &str) -> String {
    format!("{}/mcp/{service}", request.origin)
}

fn service_summary(request: &HttpRequest, service: &ServiceConfig) -> Json {
    json!({
        "name": service.name,
        "label": service.label,
        "description": service.description,
        "mcp_endpoint": mcp_url(request, &service.name),
        "read_only": service.read_only,
        "max_rows": service.max_rows,
        "authentication": match service.auth {
            AuthMode::Required => "Authorization: Bearer <API key>",
            AuthMode::None => "none (open service)",
        },
    })
}

fn wants_html(request: &HttpRequest) -> bool {
    request.header("accept").is_some_and(|a| a.contains("text/html"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub fn home(request: &HttpRequest, config: &Config) -> HttpResponse {
    let services: Vec<Json> = config.services.values().map(|s| service_summary(request, s)).collect();
    if !wants_html(request) {
        return HttpResponse::json(
            200,
            &json!({ "name": "dbmcp", "version": env!("CARGO_PKG_VERSION"), "services": services }),
        );
    }
    let items: String = config
        .services
        .values()
        .map(|s| {
            format!(
                "<li><strong>{}</strong> ({}){}<br>MCP endpoint: <code>{}</code></li>",
                escape(&s.label),
                escape(&s.name),
                if s.description.is_empty() { String::new() } else { format!(" — {}", escape(&s.description)) },
                escape(&mcp_url(request, &s.name))
            )
        })
        .collect();
    HttpResponse::html(
        200,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>dbmcp</title></head><body>\
             <h1>dbmcp</h1><p>A database MCP server. Connect an MCP client (Claude, ChatGPT, Cursor, VS Code) to a \
             service's endpoint with an API key as a Bearer token.</p><ul>{items}</ul></body></html>"
        ),
    )
    .with_header("content-security-policy", "default-src 'none'; frame-ancestors 'none'")
}

pub fn service_info(request: &HttpRequest, service: &ServiceConfig) -> HttpResponse {
    HttpResponse::json(200, &service_summary(request, service))
}

pub fn health(_request: &HttpRequest, env: &Env<'_>) -> HttpResponse {
    match env.config {
        Err(errors) => config_error(errors),
        Ok(config) => {
            let problems: Vec<String> = config
                .services
                .values()
                .filter_map(|s| {
                    env.databases.open(s, true, "health").err().map(|e| format!("SERVICES.{}.database: {e}", s.name))
                })
                .collect();
            if problems.is_empty() {
                HttpResponse::json(200, &json!({ "status": "ok", "services": config.services.len() }))
            } else {
                HttpResponse::json(503, &json!({ "status": "error", "config_errors": problems }))
            }
        }
    }
}

pub fn config_error(errors: &ConfigErrors) -> HttpResponse {
    HttpResponse::json(
        503,
        &json!({
            "status": "error",
            "error": "configuration_error",
            "error_description": "the worker's configuration is invalid; fix wrangler.toml",
            "config_errors": errors.0,
        }),
    )
}
