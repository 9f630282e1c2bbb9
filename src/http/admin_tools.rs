//! `/admin/services/<name>/tools`: custom tools through the admin API (storage and merge rules:
//! `tools::stored`).
//!
//! - `GET    .../tools`          -> 200 `{"service", "version", "tools": [...]}` (configured ones
//!   first, `"source": "config"`, read-only here; then the stored ones, `"source": "admin"`);
//!   `ETag` is the version
//! - `GET    .../tools/<name>`   -> 200 one tool, 404 unknown
//! - `PUT    .../tools/<name>`   `{title?, description, sql, parameters?, required?, enabled?, writes?}`
//!   (the configuration's shape) -> 201 created / 200 replaced; 400 with `problems` (every one),
//!   409 when a built-in or configured tool has the name, 412 when `If-Match` names an older version
//! - `PATCH  .../tools/<name>`   `{"enabled": bool}` -> 200
//! - `DELETE .../tools/<name>`   -> 204, 404 unknown, 409 for a configured tool
//!
//! Without the cargo feature `query-sql` every route answers 501 naming it.

#[cfg(feature = "query-sql")]
use serde_json::{json, Value as Json};

use super::{Env, HttpRequest, HttpResponse};
use crate::config::Config;

/// The answer for a `tools` route, `None` for other admin routes.
pub async fn handle(request: &HttpRequest, rest: &[&str], config: &Config, env: &Env<'_>) -> Option<HttpResponse> {
    let (service, name) = match rest {
        ["services", service, "tools"] | ["services", service, "tools", ""] => (*service, None),
        ["services", service, "tools", name] => (*service, Some(*name)),
        _ => return None,
    };
    let Some(service) = config.service(service) else {
        return Some(HttpResponse::error(404, "unknown_service", format!("no service named {service:?}")));
    };
    #[cfg(not(feature = "query-sql"))]
    {
        let _ = (request, service, name, env);
        Some(HttpResponse::error(
            501,
            "not_implemented",
            "custom tools need the cargo feature `query-sql` (the SQL parser); this build does not have it \
             (npm run build:query-sql)",
        ))
    }
    #[cfg(feature = "query-sql")]
    Some(with_parser::route(request, service, name, env).await)
}

#[cfg(feature = "query-sql")]
fn bad_request(problems: Vec<String>) -> HttpResponse {
    HttpResponse::json(
        400,
        &json!({ "error": "invalid_tool", "error_description": problems.join("; "), "problems": problems }),
    )
}

#[cfg(feature = "query-sql")]
fn storage_error(e: String) -> HttpResponse {
    HttpResponse::error(503, "storage_unavailable", format!("the stored tools could not be read or written: {e}"))
}

#[cfg(feature = "query-sql")]
/// The definition a PUT carries: a JSON object within the size cap.
fn read_definition(request: &HttpRequest) -> Result<Json, HttpResponse> {
    if request.body.len() > crate::tools::stored::MAX_DEFINITION_BYTES {
        return Err(HttpResponse::error(
            413,
            "payload_too_large",
            format!("a tool definition is at most {} bytes", crate::tools::stored::MAX_DEFINITION_BYTES),
        ));
    }
    match crate::mcp::strict_json::from_slice(&request.body) {
        Ok(value @ Json::Object(_)) => Ok(value),
        Ok(other) => {
            Err(bad_request(vec![format!("the body must be a JSON object (the tool's definition), got {other}")]))
        }
        Err(e) => Err(bad_request(vec![format!("the body is not valid JSON: {e}")])),
    }
}

#[cfg(feature = "query-sql")]
mod with_parser {
    use serde_json::{json, Value as Json};

    use super::{bad_request, read_definition, storage_error};
    use crate::config::ServiceConfig;
    use crate::http::{Env, HttpRequest, HttpResponse};
    use crate::tools::custom::MAX_TOOLS;
    use crate::tools::stored::{self, StoredTools};
    use crate::tools::{confirm, ToolContext};

    pub async fn route(
        request: &HttpRequest,
        service: &ServiceConfig,
        name: Option<&str>,
        env: &Env<'_>,
    ) -> HttpResponse {
        let stored = match StoredTools::load(env.kv, &service.name).await {
            Ok(stored) => stored,
            Err(e) => return storage_error(e),
        };
        let response = match (request.method.as_str(), name) {
            ("GET" | "HEAD", None) => Ok(list(service, &stored)),
            ("GET" | "HEAD", Some(name)) => one(service, &stored, name),
            ("PUT", Some(name)) => put(request, service, stored, name, env).await,
            ("PATCH", Some(name)) => patch(request, service, stored, name, env).await,
            ("DELETE", Some(name)) => delete(request, service, stored, name, env).await,
            (method, None) => Err(HttpResponse::error(
                405,
                "method_not_allowed",
                format!("{method} is not supported on .../tools; GET lists, PUT .../tools/<name> creates or replaces"),
            )
            .with_header("allow", "GET")),
            (method, Some(_)) => Err(HttpResponse::error(
                405,
                "method_not_allowed",
                format!("{method} is not supported on .../tools/<name>; use GET, PUT, PATCH or DELETE"),
            )
            .with_header("allow", "GET, PUT, PATCH, DELETE")),
        };
        response.unwrap_or_else(|e| e).with_header("cache-control", "no-store")
    }

    fn list(service: &ServiceConfig, stored: &StoredTools) -> HttpResponse {
        let (_, problems) = stored::parse_stored(service, stored);
        let tools: Vec<Json> = service
            .custom_tools
            .iter()
            .map(stored::describe_configured)
            .chain(stored.tools.iter().map(|(name, d)| stored::describe_stored(name, d, problems.get(name))))
            .collect();
        HttpResponse::json(200, &json!({ "service": service.name, "version": stored.version, "tools": tools }))
            .with_header("etag", stored.etag())
    }

    fn one(service: &ServiceConfig, stored: &StoredTools, name: &str) -> Result<HttpResponse, HttpResponse> {
        let tool = if let Some(tool) = service.custom_tools.iter().find(|t| t.name == name) {
            stored::describe_configured(tool)
        } else if let Some(definition) = stored.tools.get(name) {
            let (_, problems) = stored::parse_stored(service, stored);
            stored::describe_stored(name, definition, problems.get(name))
        } else {
            return Err(unknown(service, name));
        };
        Ok(HttpResponse::json(200, &tool).with_header("etag", stored.etag()))
    }

    fn unknown(service: &ServiceConfig, name: &str) -> HttpResponse {
        HttpResponse::error(
            404,
            "unknown_tool",
            format!("service {:?} has no custom tool named {name:?}", service.name),
        )
    }

    fn conflict(message: String) -> HttpResponse {
        HttpResponse::error(409, "name_taken", message)
    }

    fn stale(stored: &StoredTools) -> HttpResponse {
        HttpResponse::error(
            412,
            "stale_version",
            format!(
                "the service's tools changed since you read them (now version {}); read them again and retry",
                stored.version
            ),
        )
        .with_header("etag", stored.etag())
    }

    /// Checks that nothing else wrote since the caller read (If-Match), then the name.
    fn writable(
        request: &HttpRequest,
        service: &ServiceConfig,
        stored: &StoredTools,
        name: &str,
    ) -> Result<(), HttpResponse> {
        if !stored.matches(request.header("if-match")) {
            return Err(stale(stored));
        }
        if service.custom_tools.iter().any(|t| t.name == name) {
            return Err(conflict(format!(
                "{name:?} is a tool of this service's configuration, which the admin API cannot change; \
                 edit the configuration"
            )));
        }
        Ok(())
    }

    async fn put(
        request: &HttpRequest,
        service: &ServiceConfig,
        mut stored: StoredTools,
        name: &str,
        env: &Env<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let definition = read_definition(request)?;
        writable(request, service, &stored, name)?;
        if let Some(why) = stored::clash(service, name) {
            return Err(conflict(why));
        }
        let tool = stored::check(service, name, &definition).map_err(bad_request)?;
        let created = !stored.tools.contains_key(name);
        let count = service.custom_tools.len() + stored.tools.len() + usize::from(created);
        if count > MAX_TOOLS {
            return Err(bad_request(vec![format!(
                "a service has at most {MAX_TOOLS} custom tools (configured and stored together)"
            )]));
        }
        check_against_schema(service, env, &tool).await?;
        stored.tools.insert(name.to_string(), definition);
        save(service, stored, name, env, if created { 201 } else { 200 }).await
    }

    async fn patch(
        request: &HttpRequest,
        service: &ServiceConfig,
        mut stored: StoredTools,
        name: &str,
        env: &Env<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        let body = read_definition(request)?;
        writable(request, service, &stored, name)?;
        let enabled = match body.as_object() {
            Some(map) if map.len() == 1 => map.get("enabled").and_then(Json::as_bool),
            _ => None,
        };
        let Some(enabled) = enabled else {
            return Err(bad_request(vec![
                "PATCH takes only {\"enabled\": true|false}; PUT the whole definition to change anything else".into(),
            ]));
        };
        let Some(definition) = stored.tools.get_mut(name) else { return Err(unknown(service, name)) };
        if let Json::Object(map) = definition {
            map.insert("enabled".into(), Json::Bool(enabled));
        }
        save(service, stored, name, env, 200).await
    }

    async fn delete(
        request: &HttpRequest,
        service: &ServiceConfig,
        mut stored: StoredTools,
        name: &str,
        env: &Env<'_>,
    ) -> Result<HttpResponse, HttpResponse> {
        writable(request, service, &stored, name)?;
        if stored.tools.remove(name).is_none() {
            return Err(unknown(service, name));
        }
        stored.version += 1;
        stored.save(env.kv, &service.name).await.map_err(storage_error)?;
        stored::forget(&service.name);
        Ok(HttpResponse::new(204).with_header("etag", stored.etag()))
    }

    async fn save(
        service: &ServiceConfig,
        mut stored: StoredTools,
        name: &str,
        env: &Env<'_>,
        status: u16,
    ) -> Result<HttpResponse, HttpResponse> {
        stored.version += 1;
        stored.save(env.kv, &service.name).await.map_err(storage_error)?;
        // This isolate serves the change at once; others within `stored::CACHE_MS` (plus KV's delay).
        stored::forget(&service.name);
        let definition = &stored.tools[name];
        let mut tool = stored::describe_stored(name, definition, None);
        tool["version"] = json!(stored.version);
        Ok(HttpResponse::json(status, &tool).with_header("etag", stored.etag()))
    }

    /// The SQL against the live schema, as the service's callers would see it.
    async fn check_against_schema(
        service: &ServiceConfig,
        env: &Env<'_>,
        tool: &crate::tools::custom::CustomTool,
    ) -> Result<(), HttpResponse> {
        let db = env.databases.open(service, true, "admin").map_err(|why| {
            HttpResponse::error(503, "database_unavailable", format!("the SQL could not be checked: {why}"))
        })?;
        let caller = crate::rows::Caller::default();
        let ctx = ToolContext {
            db: db.as_ref(),
            service,
            schema_cache: env.schema_cache,
            now_ms: env.now_ms,
            can_write: false,
            principal: "admin",
            confirm: confirm::Confirm { store: None, call: None },
            caller: &caller,
            origin: "",
            raw_records: None,
        };
        stored::check_against_schema(&ctx, tool).await.map_err(|problem| {
            if problem.starts_with(crate::tools::SCHEMA_UNREADABLE) {
                HttpResponse::error(503, "database_unavailable", format!("the SQL could not be checked: {problem}"))
            } else {
                bad_request(vec![problem])
            }
        })
    }
}
