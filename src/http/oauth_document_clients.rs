//! Admin routes for metadata-document clients (`client_id` an https URL; never stored as client
//! records, so known here through the service's grant store, see `oauth::document_clients`):
//!
//! - `GET    /admin/services/<s>/metadata-clients`                    -> `{"clients": [...]}` (blocked ones first)
//! - `DELETE /admin/services/<s>/metadata-clients?client_id=<url>`    -> 200: its grants end now and
//!   the URL is blocked on this service (no new authorization, code or refresh) until allowed
//! - `POST   /admin/services/<s>/metadata-clients/allow?client_id=<url>` -> 200: the block is lifted

use serde_json::json;

use super::{Env, HttpRequest, HttpResponse};
use crate::oauth::cimd;
use crate::oauth::form::Params;
use crate::oauth::grants::{Command, Reply};
use crate::oauth::metadata;

/// Clients listed at most (blocked ones first).
pub const MAX_LISTED_DOCUMENT_CLIENTS: usize = 200;

pub async fn handle(request: &HttpRequest, env: &Env<'_>, service: &str, tail: &[&str]) -> HttpResponse {
    let Some(oauth) = env.oauth else { return HttpResponse::error(503, "oauth_unavailable", "OAuth is not available") };
    let run = |command: Command| async move {
        oauth.grants.run(service, &command).await.map_err(|e| HttpResponse::error(503, "storage_unavailable", e))
    };
    let result = match (request.method.as_str(), tail) {
        ("GET", []) => match run(Command::DocumentClients(MAX_LISTED_DOCUMENT_CLIENTS)).await {
            Ok(Reply::DocumentClients(mut listing)) => {
                if let Some(clients) = listing["clients"].as_array_mut() {
                    for entry in clients {
                        let id = entry["client_id"].as_str().unwrap_or_default().to_string();
                        // The name is known when this isolate has the document cached.
                        let name = oauth.document_cache.get(&id, env.now_ms).and_then(|r| r.client_name);
                        entry["host"] = json!(cimd::identity_host(&id));
                        entry["client_name"] = json!(name);
                    }
                }
                listing["service"] = json!(service);
                listing["listed_at_most"] = json!(MAX_LISTED_DOCUMENT_CLIENTS);
                Ok(HttpResponse::json(200, &listing))
            }
            other => Err(unexpected(other)),
        },
        ("DELETE", []) => match client_id(request) {
            Ok(id) => match run(Command::BlockClient(id.clone())).await {
                Ok(Reply::Revoked { revoked: true }) => {
                    Ok(HttpResponse::json(200, &json!({"service": service, "client_id": id, "blocked": true})))
                }
                Ok(Reply::Revoked { revoked: false }) => Err(HttpResponse::error(
                    404,
                    "unknown_client",
                    format!("service {service:?} has no live grant of the metadata-document client {id:?}, and it is not blocked"),
                )),
                other => Err(unexpected(other)),
            },
            Err(r) => Err(r),
        },
        ("POST", ["allow"]) => match client_id(request) {
            Ok(id) => match run(Command::AllowClient(id.clone())).await {
                Ok(Reply::Revoked { revoked: true }) => {
                    Ok(HttpResponse::json(200, &json!({"service": service, "client_id": id, "blocked": false})))
                }
                Ok(Reply::Revoked { revoked: false }) => Err(HttpResponse::error(
                    404,
                    "unknown_client",
                    format!("the metadata-document client {id:?} is not blocked on service {service:?}"),
                )),
                other => Err(unexpected(other)),
            },
            Err(r) => Err(r),
        },
        _ => Err(HttpResponse::error(
            405,
            "method_not_allowed",
            "use GET or DELETE on metadata-clients, POST on metadata-clients/allow",
        )),
    };
    result.unwrap_or_else(|r| r)
}

fn unexpected(reply: Result<Reply, HttpResponse>) -> HttpResponse {
    match reply {
        Err(r) => r,
        Ok(other) => HttpResponse::error(503, "storage_unavailable", format!("unexpected answer {other:?}")),
    }
}

/// The `client_id` query parameter: a metadata-document URL under the rules `/authorize` applies.
fn client_id(request: &HttpRequest) -> Result<String, HttpResponse> {
    let bad = |why: String| HttpResponse::error(400, "invalid_request", why);
    let params = Params::from_text(&request.query);
    let id = params.get("client_id").map_err(bad)?.filter(|v| !v.is_empty());
    let id = id.ok_or_else(|| bad("client_id is required: the client's URL, url-encoded in the query".into()))?;
    if !cimd::is_document_client_id(id) {
        return Err(bad(format!(
            "client_id {id:?} is not a metadata-document client (an https URL); stored clients are deleted under /clients"
        )));
    }
    cimd::check_url(id, &metadata::issuer(&request.origin)).map_err(|e| bad(format!("client_id {e}")))?;
    Ok(id.to_string())
}
