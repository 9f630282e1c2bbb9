//! `/admin/services/<name>/logs`: the execution log, read across the service's shards.
//!
//! - `GET .../logs?principal=&client=&tool=&outcome=&from=&to=&limit=&cursor=`
//!   -> `{"entries": [...newest first...], "next_cursor": "..."|null}`
//! - `GET .../logs/<id>` -> one entry, 404 for an unknown id
//! - `GET .../logs/export?format=jsonl|csv&<filters>` -> a download of at most
//!   [`MAX_EXPORT_ENTRIES`] entries (`x-export-truncated: true` when there were more)
//! - `GET .../logs/summary?hours=24` -> calls per hour, per-tool figures, slowest calls,
//!   `write_failures`
//!
//! Bad input is a 400 naming the problem; an unreachable shard a 503. Shards are read one after
//! the other (the admin API is not a hot path, and a join would add its code to the bundle).

use serde_json::json;

use super::{Env, HttpRequest, HttpResponse};
use crate::calllog::entry::is_valid_id;
use crate::calllog::export::{to_csv, to_jsonl, MAX_EXPORT_ENTRIES};
use crate::calllog::query::{self, merge, ShardQuery, MAX_LIMIT};
use crate::calllog::summary::{self, summarize};
use crate::calllog::{LogStore, StatRow};
use crate::config::{Config, ServiceConfig};

/// The answer for a `logs` route, `None` for other admin routes.
pub async fn handle(request: &HttpRequest, rest: &[&str], config: &Config, env: &Env<'_>) -> Option<HttpResponse> {
    let (service, tail) = match rest {
        ["services", service, "logs", tail @ ..] => (*service, tail),
        _ => return None,
    };
    let Some(service) = config.service(service) else {
        return Some(HttpResponse::error(404, "unknown_service", format!("no service named {service:?}")));
    };
    if request.method != "GET" && request.method != "HEAD" {
        return Some(
            HttpResponse::error(405, "method_not_allowed", "the execution log is read-only: use GET")
                .with_header("allow", "GET"),
        );
    }
    let Some(store) = env.log_store else {
        return Some(HttpResponse::error(503, "log_unavailable", "the execution log is not wired in this deployment"));
    };
    Some(match tail {
        [] | [""] => list(request, service, store).await,
        ["export"] => export(request, service, store).await,
        ["summary"] => summary(request, service, store, env.now_ms).await,
        [id] => one(request, service, store, id).await,
        _ => HttpResponse::error(404, "not_found", "log routes: logs, logs/<id>, logs/export, logs/summary"),
    })
}

fn bad_request(message: String) -> HttpResponse {
    HttpResponse::error(400, "invalid_request", message)
}

fn unavailable(e: String) -> HttpResponse {
    HttpResponse::error(503, "log_unavailable", format!("the execution log could not be read: {e}"))
}

/// One page across every shard: each is asked for one more than the page holds.
async fn page(
    store: &dyn LogStore,
    service: &ServiceConfig,
    query: &ShardQuery,
) -> Result<(Vec<serde_json::Value>, Option<String>), String> {
    let limit = query.limit;
    let shard_query = ShardQuery { limit: limit + 1, ..query.clone() };
    let mut pages = Vec::new();
    for object in service.log.shard_objects(&service.name) {
        pages.push(store.query(&object, &shard_query).await?);
    }
    Ok(merge(pages, limit))
}

async fn list(request: &HttpRequest, service: &ServiceConfig, store: &dyn LogStore) -> HttpResponse {
    let query = match query::parse(&request.query, &[]) {
        Ok(q) => q,
        Err(e) => return bad_request(e),
    };
    match page(store, service, &query.shard).await {
        Ok((entries, next)) => HttpResponse::json(200, &json!({ "entries": entries, "next_cursor": next })),
        Err(e) => unavailable(e),
    }
}

async fn one(request: &HttpRequest, service: &ServiceConfig, store: &dyn LogStore, id: &str) -> HttpResponse {
    if !request.query.is_empty() {
        return bad_request("a single entry takes no parameters".into());
    }
    let not_found =
        || HttpResponse::error(404, "not_found", format!("no log entry {id:?} in service {:?}", service.name));
    if !is_valid_id(id) {
        // Not echoed: it may be anything, of any length.
        return HttpResponse::error(404, "not_found", format!("not a log entry id, in service {:?}", service.name));
    }
    for object in service.log.shard_objects(&service.name) {
        match store.get(&object, id).await {
            Ok(Some(entry)) => return HttpResponse::json(200, &entry),
            Ok(None) => {}
            Err(e) => return unavailable(e),
        }
    }
    not_found()
}

async fn export(request: &HttpRequest, service: &ServiceConfig, store: &dyn LogStore) -> HttpResponse {
    let query = match query::parse(&request.query, &["format"]) {
        Ok(q) => q,
        Err(e) => return bad_request(e),
    };
    let format = query.extra("format").unwrap_or("jsonl");
    if format != "jsonl" && format != "csv" {
        return bad_request(format!("unknown format {format:?}; use jsonl or csv"));
    }
    // `limit` caps the export too (default: the export maximum); `cursor` starts it later.
    let wanted = if query.limit_given { query.shard.limit } else { MAX_EXPORT_ENTRIES };
    let mut entries = Vec::new();
    let mut shard_query = ShardQuery { limit: MAX_LIMIT, ..query.shard.clone() };
    let mut more = false;
    loop {
        shard_query.limit = MAX_LIMIT.min(wanted - entries.len());
        let (batch, next) = match page(store, service, &shard_query).await {
            Ok(page) => page,
            Err(e) => return unavailable(e),
        };
        entries.extend(batch);
        match next {
            Some(cursor) if entries.len() < wanted => {
                shard_query.before = query::decode_cursor(&cursor).ok();
            }
            Some(_) => {
                more = true;
                break;
            }
            None => break,
        }
    }
    let (body, content_type) = match format {
        "csv" => (to_csv(&entries), "text/csv; charset=utf-8"),
        _ => (to_jsonl(&entries), "application/x-ndjson"),
    };
    let mut response = HttpResponse::new(200)
        .with_header("content-type", content_type)
        .with_header("content-disposition", format!("attachment; filename=\"{}-log.{format}\"", service.name))
        .with_header("x-export-count", entries.len().to_string())
        .with_header("x-export-truncated", more.to_string());
    response.body = body.into_bytes();
    response
}

async fn summary(request: &HttpRequest, service: &ServiceConfig, store: &dyn LogStore, now_ms: u64) -> HttpResponse {
    let hours = match summary::parse_hours(&request.query) {
        Ok(h) => h,
        Err(e) => return bad_request(e),
    };
    let from = summary::window_start(now_ms, hours);
    let mut rows: Vec<StatRow> = Vec::new();
    let mut slowest = Vec::new();
    for object in service.log.shard_objects(&service.name) {
        match store.stats(&object, from, summary::SLOWEST).await {
            Ok(s) => {
                rows.extend(s.rows);
                slowest.extend(s.slowest);
            }
            Err(e) => return unavailable(e),
        }
    }
    let failures = match store.write_failures(&service.name).await {
        Ok(n) => n,
        Err(e) => return unavailable(e),
    };
    HttpResponse::json(200, &summarize(&rows, slowest, hours, now_ms, failures))
}
