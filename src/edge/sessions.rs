//! MCP sessions in Durable Objects: one object per session (named by the session id), its state
//! in the object's SQLite-backed storage, expiry enforced by an alarm.
//!
//! The worker talks to the object with small JSON commands over `fetch`:
//! `create {session, idle_ms}`, `touch {}`, `save {session}`, `delete {}`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::http::SessionStore;
use crate::mcp::session::Session;

const SESSION_KEY: &str = "session";
const IDLE_KEY: &str = "idle_ms";

#[derive(Serialize, Deserialize)]
// Externally tagged ({"variant": {...}}), not `tag = ...`: an internally tagged enum is parsed
// through serde's buffered `Content`, which cost about 13 KB of the gzip bundle. Only the worker
// and its Durable Objects (one build) read this JSON.
#[serde(rename_all = "snake_case")]
enum Command {
    Create { session: Session, idle_ms: u64 },
    Touch,
    Save { session: Session },
    Delete,
}

/// How stale `last_seen_ms` may get before a touch writes it again.
fn touch_resolution(idle_ms: u64) -> u64 {
    (idle_ms / 10).min(60_000)
}

#[durable_object]
pub struct McpSession {
    state: State,
}

impl McpSession {
    async fn load(&self) -> worker::Result<Option<(Session, u64)>> {
        let storage = self.state.storage();
        let session: Option<Session> = storage.get(SESSION_KEY).await?;
        let idle: Option<u64> = storage.get(IDLE_KEY).await?;
        Ok(session.zip(idle))
    }

    async fn forget(&self) -> worker::Result<()> {
        let storage = self.state.storage();
        storage.delete_alarm().await?;
        storage.delete_all().await
    }
}

impl DurableObject for McpSession {
    fn new(state: State, _env: Env) -> Self {
        McpSession { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        // From the text with serde_json, not `req.json()` (serde_wasm_bindgen): the command enums then
        // need no second deserializer compiled in, and JSON text parses faster than a JS object walk.
        let command: Command =
            match req.text().await.and_then(|t| serde_json::from_str(&t).map_err(worker::Error::from)) {
                Ok(command) => command,
                Err(e) => return Response::error(format!("bad session command: {e}"), 400),
            };
        let storage = self.state.storage();
        let now = super::now_ms();
        match command {
            Command::Create { session, idle_ms } => {
                storage.put(SESSION_KEY, &session).await?;
                storage.put(IDLE_KEY, idle_ms).await?;
                storage.set_alarm(std::time::Duration::from_millis(idle_ms)).await?;
                Response::empty()
            }
            Command::Touch => match self.load().await? {
                Some((mut session, idle_ms)) if now.saturating_sub(session.last_seen_ms) < idle_ms => {
                    // Writing last-seen on every request would cost a storage write per call;
                    // a coarse stamp (at most a tenth of the idle time, or a minute, old) is
                    // enough to keep an active session alive.
                    if now.saturating_sub(session.last_seen_ms) >= touch_resolution(idle_ms) {
                        session.last_seen_ms = now;
                        storage.put(SESSION_KEY, &session).await?;
                    }
                    Response::from_json(&session)
                }
                Some(_) => {
                    // Expired but the alarm has not run yet: expire now.
                    self.forget().await?;
                    Response::error("session expired", 404)
                }
                None => Response::error("no such session", 404),
            },
            Command::Save { session } => {
                if self.load().await?.is_none() {
                    return Response::error("no such session", 404);
                }
                storage.put(SESSION_KEY, &session).await?;
                Response::empty()
            }
            Command::Delete => {
                self.forget().await?;
                Response::empty()
            }
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Some((session, idle_ms)) = self.load().await? {
            let expires_at = session.last_seen_ms.saturating_add(idle_ms);
            let now = super::now_ms();
            if now >= expires_at {
                self.forget().await?;
            } else {
                self.state.storage().set_alarm(std::time::Duration::from_millis(expires_at - now)).await?;
            }
        }
        Response::empty()
    }
}

/// The worker side: one stub per session id.
pub struct DurableSessions<'a>(pub &'a Env);

impl DurableSessions<'_> {
    /// Sends a command; `Ok(None)` when the object answers 404.
    async fn send(&self, id: &str, command: &Command) -> Result<Option<Response>, String> {
        let stub = super::stub(self.0, "MCP_SESSIONS", id)?;
        let body = serde_json::to_string(command).map_err(|e| e.to_string())?;
        let request = super::outgoing::post("https://session.internal/", &body).map_err(|e| e.to_string())?;
        let response = stub.fetch_with_request(request).await.map_err(|e| format!("session store: {e}"))?;
        match response.status_code() {
            200..=299 => Ok(Some(response)),
            404 => Ok(None),
            status => Err(format!("session store answered {status}")),
        }
    }
}

#[async_trait(?Send)]
impl SessionStore for DurableSessions<'_> {
    async fn create(&self, session: &Session, idle_ms: u64) -> Result<(), String> {
        self.send(&session.id, &Command::Create { session: session.clone(), idle_ms }).await.map(|_| ())
    }

    async fn touch(&self, id: &str, _now_ms: u64) -> Result<Option<Session>, String> {
        match self.send(id, &Command::Touch).await? {
            Some(mut response) => response.json().await.map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    }

    async fn save(&self, session: &Session) -> Result<(), String> {
        self.send(&session.id, &Command::Save { session: session.clone() }).await.map(|_| ())
    }

    async fn delete(&self, id: &str) -> Result<(), String> {
        self.send(id, &Command::Delete).await.map(|_| ())
    }
}
