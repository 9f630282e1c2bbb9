//! Confirm before destroying.
//!
//! An update or delete chosen by a filter that would touch more rows than the service's
//! `confirm_over_rows`, and any create, update or delete on a service with `confirm_writes`, is not
//! run at once: the call answers with the exact row count, a preview of the first rows and a
//! sealed state. Legacy clients (and modern ones without elicitation) get it as a tool result with
//! a `confirmation_token` to send back as the `confirm` argument (two-step); modern clients with
//! elicitation get an MRTR `input_required` result whose `requestState` is the same sealed state.
//!
//! The state is encrypted and authenticated (XChaCha20-Poly1305, the sealing of the login flow)
//! and bound to the principal, the service, the tool, a digest of the canonical arguments, the row
//! count shown and an expiry. It is single use: its id is recorded in the grant store (the
//! `ConsumeOnce` of the authorization handles) until it expires, and without a store nothing that
//! needs a confirmation runs.
//!
//! The write itself carries the count as a guard in the same statement
//! (`... AND (SELECT COUNT(*) ... same rows ...) = n`, see `sql::update_expecting`), so it changes
//! exactly the number of rows the person saw, or nothing. A filter write with no token carries
//! `<= confirm_over_rows` instead: a small write costs no extra query, and only one that comes
//! back empty is counted to tell "no rows" from "too many rows".

use std::cell::RefCell;

use crate::b64::URL_SAFE_NO_PAD;
use async_trait::async_trait;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use super::{ToolContext, ToolError};
use crate::oauth::grants::{Command, GrantStore, Reply, GLOBAL_SHARD};
use crate::oauth::tokens::SigningKeys;
use crate::schema::Table;
use crate::sql::{self, Direction, OrderBy, RowFilter, SelectSpec};

/// The tool argument carrying a confirmation token (two-step).
pub const ARGUMENT: &str = "confirm";
/// The key of the one elicitation in an `input_required` result, and of its answer.
pub const INPUT_KEY: &str = "confirm_write";
/// Rows shown in a preview.
pub const PREVIEW_ROWS: usize = 5;
/// Columns shown per preview row (primary key first).
const PREVIEW_COLUMNS: usize = 6;
/// Longer text values are cut in a preview.
const PREVIEW_TEXT_CHARS: usize = 80;
/// Bound into every seal: a confirmation cannot be opened as anything else.
const SEAL_CONTEXT: &[u8] = b"dbmcp confirm v1";
const NONCE_BYTES: usize = 24;
/// The purpose label of the sealing key (derived from OAUTH_SIGNING_KEY or the stored secret).
const KEY_LABEL: &str = "dbmcp confirm seal v1";

/// Where confirmation keys and used states live.
#[async_trait(?Send)]
pub trait ConfirmStore {
    /// The 32-byte key sealing confirmation states.
    async fn key(&self) -> Result<[u8; 32], String>;
    /// Records a state as used until `expires_ms`; `false` when it already was.
    async fn consume(&self, service: &str, id: &str, expires_ms: u64) -> Result<bool, String>;
}

/// The deployment's store: the key derived from `OAUTH_SIGNING_KEY` when it is set, else a random
/// secret the grant store makes once and keeps (`secret:confirm` in its `_global` shard); used
/// states as `ConsumeOnce` records in the service's shard.
pub struct GrantConfirmStore<'a> {
    pub grants: &'a dyn GrantStore,
    pub keys: Option<&'a SigningKeys>,
}

#[async_trait(?Send)]
impl ConfirmStore for GrantConfirmStore<'_> {
    async fn key(&self) -> Result<[u8; 32], String> {
        if let Some(key) = self.keys.and_then(|k| k.derive(None, KEY_LABEL)) {
            return Ok(key);
        }
        let candidate = crate::auth::random_token(32)?;
        match self.grants.run(GLOBAL_SHARD, &Command::Secret { name: "confirm".into(), candidate }).await? {
            Reply::Secret { value } => Ok(Sha256::digest(format!("{KEY_LABEL}\n{value}").as_bytes()).into()),
            other => Err(format!("unexpected answer from the grant store: {other:?}")),
        }
    }

    async fn consume(&self, service: &str, id: &str, expires_ms: u64) -> Result<bool, String> {
        let command = Command::ConsumeOnce { id: format!("confirm:{id}"), expires_ms };
        match self.grants.run(service, &command).await? {
            Reply::Consumed { first } => Ok(first),
            other => Err(format!("unexpected answer from the grant store: {other:?}")),
        }
    }
}

/// What one `tools/call` brings and leaves: the token presented (the `confirm` argument, or an
/// accepted MRTR `requestState`) and the confirmation the call asked for, if any.
#[derive(Debug, Default)]
pub struct CallConfirm {
    pub tool: String,
    /// Digest of the tool name and the canonical arguments (without `confirm`).
    pub args_hash: String,
    pub presented: Option<String>,
    pub issued: RefCell<Option<Confirmation>>,
}

/// The confirmation side of a [`ToolContext`]: the store (none: nothing that needs a
/// confirmation runs) and the current call (none outside `tools/call`).
#[derive(Clone, Copy, Default)]
pub struct Confirm<'a> {
    pub store: Option<&'a dyn ConfirmStore>,
    pub call: Option<&'a CallConfirm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    /// A stored procedure or function call (PostgreSQL), on a service that confirms writes: the
    /// routine may write, and its body is not read.
    Procedure,
    Function,
    /// A custom tool that writes (its name is the confirmation's `table`), on a service that
    /// confirms writes: the confirmation shows its arguments, not a row count.
    Custom,
}

impl Action {
    pub fn of_tool(tool: &str) -> Option<Action> {
        match tool {
            "create_records" => Some(Action::Create),
            "update_records" => Some(Action::Update),
            "delete_records" => Some(Action::Delete),
            "call_stored_procedure" => Some(Action::Procedure),
            "call_stored_function" => Some(Action::Function),
            _ => None,
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Procedure | Action::Function => "call",
            Action::Custom => "run",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
            Action::Procedure | Action::Function => "called",
            Action::Custom => "written",
        }
    }
    fn tool(self) -> &'static str {
        match self {
            Action::Create => "create_records",
            Action::Update => "update_records",
            Action::Delete => "delete_records",
            Action::Procedure => "call_stored_procedure",
            Action::Function => "call_stored_function",
            Action::Custom => "the tool",
        }
    }
    /// The tool's result fields for "nothing happened" (so a confirmation or a declined call
    /// still matches the tool's output schema).
    fn nothing(self, table: &str) -> Json {
        match self {
            Action::Create => json!({ "table": table, "created": [] }),
            Action::Update => json!({ "table": table, "updated": 0, "records": [] }),
            Action::Delete => json!({ "table": table, "deleted": 0, "keys": [] }),
            Action::Procedure | Action::Function => {
                json!({ "name": table, "returned": 0, "truncated": false, "records": [] })
            }
            Action::Custom => json!({ "tool": table, "rows_written": 0 }),
        }
    }
}

/// A write waiting for the person's yes.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmation {
    pub action: Action,
    /// The table written (a routine call: the routine's name).
    pub table: String,
    /// Rows (or records) the write would touch.
    pub count: u64,
    /// The first rows it would touch (create: the first records given).
    pub preview: Vec<Json>,
    /// Update: the columns it would set.
    pub changes: Option<Json>,
    pub reason: String,
    /// The sealed state: `confirmation_token` (two-step) and `requestState` (MRTR).
    pub token: String,
    pub ttl_seconds: u64,
    /// Set when this replaces a confirmation whose count no longer holds.
    pub changed_from: Option<u64>,
}

/// What a write tool does after the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Write without a count guard.
    None,
    /// Write only if exactly this many rows match (a confirmed count).
    Exactly(u64),
    /// Write only if at most this many rows match (the threshold, nothing confirmed).
    AtMost(u64),
}

impl Guard {
    /// The count the statement must see, for `sql::update_expecting` / `delete_expecting`
    /// (`AtMost` is expressed with [`sql::Expect`]).
    pub fn expect(self) -> Option<sql::Expect> {
        match self {
            Guard::None => None,
            Guard::Exactly(n) => Some(sql::Expect::Exactly(n)),
            Guard::AtMost(n) => Some(sql::Expect::AtMost(n)),
        }
    }
}

pub enum Gate {
    Proceed(Guard),
    /// Answer this (the two-step result) instead of writing.
    Ask(Json),
}

/// The sealed content; short field names keep the token short.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    #[serde(rename = "i")]
    id: String,
    #[serde(rename = "p")]
    principal: String,
    #[serde(rename = "s")]
    service: String,
    #[serde(rename = "t")]
    tool: String,
    /// [`args_hash`] of the call.
    #[serde(rename = "a")]
    args: String,
    #[serde(rename = "n")]
    count: u64,
    #[serde(rename = "e")]
    exp_ms: u64,
}

/// Sorts object keys at every depth, so argument order does not change the digest.
fn canonical(value: &Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            crate::sort::sort_by(&mut keys, |a, b| a.cmp(b));
            Json::Object(keys.into_iter().map(|k| (k.clone(), canonical(&map[k]))).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The digest a confirmation binds: tool name and canonical arguments (no `confirm`).
pub fn args_hash(tool: &str, args: &Json) -> String {
    let args = if args.is_null() { json!({}) } else { canonical(args) };
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{tool}\n{args}").as_bytes()))
}

fn seal(key: &[u8; 32], state: &State) -> Result<String, String> {
    let plain = serde_json::to_vec(state).map_err(|e| e.to_string())?;
    let mut nonce = [0u8; NONCE_BYTES];
    getrandom::fill(&mut nonce).map_err(|e| format!("no randomness available: {e}"))?;
    let sealed = XChaCha20Poly1305::new(key.into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad: SEAL_CONTEXT })
        .map_err(|_| "sealing the confirmation failed".to_string())?;
    Ok(URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat()))
}

fn open(key: &[u8; 32], token: &str) -> Option<State> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim().as_bytes()).ok()?;
    if bytes.len() <= NONCE_BYTES {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    let plain = XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: SEAL_CONTEXT })
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

fn no_store() -> ToolError {
    ToolError::new(
        "this write needs the person's confirmation, but confirmations are unavailable here (no grant store \
         to record used confirmations); nothing was changed",
    )
}

/// Checks a presented token against this call and uses it up. Every refusal says what to do.
async fn redeem(ctx: &ToolContext<'_>, call: &CallConfirm, token: &str) -> Result<u64, ToolError> {
    let store = ctx.confirm.store.ok_or_else(no_store)?;
    let again = format!(
        "Nothing was changed. Call {} again without `confirm` to get a fresh preview and token, show it to the \
         person, and send the new token only after they agree.",
        call.tool
    );
    let key = store.key().await.map_err(|e| ToolError::new(format!("confirmations are unavailable: {e}")))?;
    let Some(state) = open(&key, token) else {
        return Err(ToolError::new(format!(
            "the confirmation token is not valid: it was altered, cut, or not issued by this server. {again}"
        )));
    };
    if ctx.now_ms >= state.exp_ms {
        return Err(ToolError::new(format!("the confirmation token has expired. {again}")));
    }
    if state.principal != ctx.principal {
        return Err(ToolError::new(format!("the confirmation token was issued to another credential. {again}")));
    }
    if state.service != ctx.service.name {
        return Err(ToolError::new(format!("the confirmation token was issued for another service. {again}")));
    }
    if state.tool != call.tool || state.args != call.args_hash {
        return Err(ToolError::new(format!(
            "the confirmation token was issued for other arguments (another tool, table, filter, ids or values); \
             a token confirms exactly the call it was issued for. {again}"
        )));
    }
    match store.consume(&ctx.service.name, &state.id, state.exp_ms).await {
        Ok(true) => Ok(state.count),
        Ok(false) => {
            Err(ToolError::new(format!("the confirmation token was already used; a token works once. {again}")))
        }
        Err(e) => Err(ToolError::new(format!("could not record the confirmation as used ({e}); nothing was changed"))),
    }
}

/// Cuts long text so a preview stays small.
fn short(value: &Json) -> Json {
    match value {
        Json::String(s) if s.chars().count() > PREVIEW_TEXT_CHARS => {
            Json::String(format!("{}…", s.chars().take(PREVIEW_TEXT_CHARS).collect::<String>()))
        }
        Json::Object(_) | Json::Array(_) => {
            let text = value.to_string();
            if text.chars().count() > PREVIEW_TEXT_CHARS {
                Json::String(format!("{}…", text.chars().take(PREVIEW_TEXT_CHARS).collect::<String>()))
            } else {
                value.clone()
            }
        }
        other => other.clone(),
    }
}

fn short_record(record: &Map<String, Json>) -> Json {
    Json::Object(record.iter().take(PREVIEW_COLUMNS).map(|(k, v)| (k.clone(), short(v))).collect())
}

/// The rows matching `rows` (count) and the first [`PREVIEW_ROWS`] of them (primary key and a
/// few columns), in one round trip.
async fn count_and_preview(
    ctx: &ToolContext<'_>,
    table: &Table,
    rows: &RowFilter,
) -> Result<(u64, Vec<Json>), ToolError> {
    let dialect = ctx.db.dialect();
    let pk: Vec<String> = table.primary_key().iter().map(|c| c.name.clone()).collect();
    let mut fields = pk.clone();
    for column in &table.columns {
        if fields.len() >= PREVIEW_COLUMNS {
            break;
        }
        if !fields.contains(&column.name) {
            fields.push(column.name.clone());
        }
    }
    let spec = SelectSpec {
        fields: Some(fields),
        rows: rows.clone(),
        order: pk.iter().map(|c| OrderBy { column: c.clone(), direction: Direction::Asc }).collect(),
        limit: Some(PREVIEW_ROWS as u64),
        offset: 0,
    };
    let statements = [sql::count(dialect, table, rows)?, sql::select(dialect, table, &spec)?];
    let mut results = ctx.db.batch(&statements).await?.into_iter();
    let count = results.next().and_then(|r| r.rows.into_iter().next()).and_then(|row| row.into_iter().next());
    let count = match count {
        Some(Json::Number(n)) => n.as_u64(),
        Some(Json::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ToolError::new("could not count the rows this write would touch; nothing was changed"))?;
    let preview = results
        .next()
        .map(|r| {
            r.into_objects()
                .into_iter()
                .map(|mut row| {
                    table.policy.mask_record(&mut row);
                    short_record(&row)
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((count, preview))
}

/// Seals a confirmation for this call and keeps it for the MRTR path.
async fn issue(
    ctx: &ToolContext<'_>,
    call: &CallConfirm,
    mut confirmation: Confirmation,
) -> Result<Confirmation, ToolError> {
    let store = ctx.confirm.store.ok_or_else(no_store)?;
    let key = store.key().await.map_err(|e| ToolError::new(format!("confirmations are unavailable: {e}")))?;
    let ttl_seconds = ctx.service.confirm_ttl_seconds;
    let state = State {
        id: crate::auth::random_token(12).map_err(ToolError::new)?,
        principal: ctx.principal.to_string(),
        service: ctx.service.name.clone(),
        tool: call.tool.clone(),
        args: call.args_hash.clone(),
        count: confirmation.count,
        exp_ms: ctx.now_ms + ttl_seconds * 1000,
    };
    confirmation.token = seal(&key, &state).map_err(ToolError::new)?;
    confirmation.ttl_seconds = ttl_seconds;
    *call.issued.borrow_mut() = Some(confirmation.clone());
    Ok(confirmation)
}

fn rows_word(n: u64) -> &'static str {
    if n == 1 {
        "row"
    } else {
        "rows"
    }
}

impl Confirmation {
    fn summary(&self) -> String {
        let what = match self.action {
            Action::Create => format!("create {} {} in {:?}", self.count, rows_word(self.count), self.table),
            Action::Update => format!("update {} {} of {:?}", self.count, rows_word(self.count), self.table),
            Action::Delete => format!("delete {} {} of {:?}", self.count, rows_word(self.count), self.table),
            Action::Procedure => format!("call the stored procedure {:?}", self.table),
            Action::Function => format!("call the stored function {:?}", self.table),
            Action::Custom => format!("run the tool {:?}, which writes to the database,", self.table),
        };
        let is_call = matches!(self.action, Action::Procedure | Action::Function | Action::Custom);
        match &self.changes {
            Some(changes) if is_call => format!("{what} with the arguments {changes}"),
            Some(changes) => format!("{what}, setting {changes}"),
            None => what,
        }
    }

    /// The two-step tool result: nothing written, the count, the preview and the token.
    pub fn to_tool_result(&self) -> Json {
        let mut out = self.action.nothing(&self.table);
        let shown = match self.action {
            Action::Procedure | Action::Function | Action::Custom => "the call is in `preview`".to_string(),
            _ => format!("the first {} are in `preview`", self.preview.len()),
        };
        let message = format!(
            "Nothing was {done} yet: this would {summary} ({reason}; {shown}). Show the person the count and the \
             preview and ask whether to go ahead. Only if they agree, call {tool} again \
             with exactly the same arguments plus `confirm` set to `confirmation_token`. The token works once, \
             for these arguments only, within {ttl} seconds.",
            done = self.action.done(),
            summary = self.summary(),
            reason = self.reason,
            tool = if self.action == Action::Custom { self.table.as_str() } else { self.action.tool() },
            ttl = self.ttl_seconds,
        );
        let extra = json!({
            "confirmation_required": true,
            "action": self.action.verb(),
            "count": self.count,
            "preview": self.preview,
            "confirmation_token": self.token,
            "expires_in_seconds": self.ttl_seconds,
            "message": message,
        });
        if let (Json::Object(out), Json::Object(extra)) = (&mut out, extra) {
            out.extend(extra);
            if let Some(changes) = &self.changes {
                out.insert("changes".into(), changes.clone());
            }
        }
        out
    }

    /// The elicitation message: what would happen, the exact count and the preview rows.
    pub fn elicitation_message(&self) -> String {
        let mut text = String::new();
        if let Some(before) = self.changed_from {
            text.push_str(&format!(
                "The rows changed since you confirmed ({before} then, {} now); nothing was changed. ",
                self.count
            ));
        }
        let mut head = self.summary();
        if let Some(first) = head.get(..1) {
            head = format!("{}{}", first.to_ascii_uppercase(), &head[1..]);
        }
        text.push_str(&format!("{head}? ({})", self.reason));
        if !self.preview.is_empty() && !matches!(self.action, Action::Procedure | Action::Function | Action::Custom) {
            let label = if self.action == Action::Create { "records" } else { "rows" };
            text.push_str(&format!("\nFirst {} {label}:", self.preview.len()));
            for row in &self.preview {
                let cells: Vec<String> = match row {
                    Json::Object(map) => map
                        .iter()
                        .map(|(k, v)| match v {
                            Json::String(s) => format!("{k}={s}"),
                            other => format!("{k}={other}"),
                        })
                        .collect(),
                    other => vec![other.to_string()],
                };
                text.push_str(&format!("\n- {}", cells.join(", ")));
            }
            if self.count > self.preview.len() as u64 && self.action != Action::Create {
                text.push_str(&format!("\n… and {} more", self.count - self.preview.len() as u64));
            }
        }
        text
    }

    /// The MRTR `InputRequiredResult`: one form elicitation asking a yes/no, and the sealed state.
    pub fn to_input_required(&self) -> Json {
        let title = match self.action {
            Action::Procedure | Action::Function => format!("Call {}", self.table),
            Action::Custom => format!("Run {}", self.table),
            _ => format!("{} {} {}", capitalized(self.action.verb()), self.count, rows_word(self.count)),
        };
        json!({
            "resultType": "input_required",
            "inputRequests": {
                INPUT_KEY: {
                    "method": "elicitation/create",
                    "params": {
                        "mode": "form",
                        "message": self.elicitation_message(),
                        "requestedSchema": {
                            "type": "object",
                            "properties": {
                                "confirm": {
                                    "type": "boolean",
                                    "title": title,
                                    "description": format!("Yes to {} exactly as shown; no to leave the data unchanged.", self.action.verb()),
                                    "default": false
                                }
                            },
                            "required": ["confirm"]
                        }
                    }
                }
            },
            "requestState": self.token,
        })
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// What the person answered in an MRTR retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Accepted with `confirm: true`.
    Accept,
    /// Declined, cancelled, or accepted with `confirm: false`.
    Decline(&'static str),
    /// No (usable) answer to our elicitation: ask again.
    Missing,
}

/// Reads the answer to our elicitation in `inputResponses`; other keys are ignored (the spec says
/// to ignore what is not needed).
pub fn read_answer(input_responses: Option<&Json>) -> Answer {
    let Some(response) = input_responses.and_then(|r| r.get(INPUT_KEY)) else { return Answer::Missing };
    match response.get("action").and_then(Json::as_str) {
        Some("accept") => match response.get("content").and_then(|c| c.get("confirm")) {
            Some(Json::Bool(true)) => Answer::Accept,
            Some(Json::Bool(false)) => Answer::Decline("declined"),
            _ => Answer::Missing,
        },
        Some("decline") => Answer::Decline("declined"),
        Some("cancel") => Answer::Decline("cancelled"),
        _ => Answer::Missing,
    }
}

/// The tool result for a declined or cancelled confirmation: nothing written, and why.
pub fn declined_result(tool: &str, args: &Json, how: &str) -> Option<Json> {
    let action = Action::of_tool(tool)?;
    let key = if matches!(action, Action::Procedure | Action::Function) { "name" } else { "table" };
    let table = args.get(key).and_then(Json::as_str).unwrap_or_default();
    Some(declined(action, table, how))
}

/// The tool result for a declined or cancelled confirmation of `action` on `table` (a routine's
/// or custom tool's name).
pub fn declined(action: Action, table: &str, how: &str) -> Json {
    let mut out = action.nothing(table);
    let message = format!(
        "The person {how} the confirmation: nothing was {}. Do not retry unless they ask for it again.",
        action.done()
    );
    out["declined"] = json!(true);
    out["message"] = json!(message);
    json!({
        "content": [ { "type": "text", "text": message } ],
        "structuredContent": out,
        "isError": false,
    })
}

/// The `confirm` property every write tool's input schema gains.
pub fn input_property() -> Json {
    json!({
        "type": "string",
        "description": "Only after a previous call of this tool answered confirmation_required and the person agreed: the confirmation_token it gave. Send the same other arguments."
    })
}

/// The fields a confirmation adds to a write tool's output schema.
pub fn output_properties() -> Json {
    json!({
        "confirmation_required": { "type": "boolean", "description": "True: nothing was written; the person must confirm first (see message)." },
        "action": { "type": "string" },
        "count": { "type": "integer", "description": "Rows the write would touch." },
        "preview": { "type": "array", "items": { "type": "object" }, "description": "The first rows it would touch." },
        "changes": { "type": "object" },
        "confirmation_token": { "type": "string" },
        "expires_in_seconds": { "type": "integer" },
        "declined": { "type": "boolean" },
        "message": { "type": "string" }
    })
}

/// Adds [`output_properties`] to a write tool's output schema.
pub fn with_output_properties(mut schema: Json) -> Json {
    if let (Some(Json::Object(props)), Json::Object(extra)) = (schema.get_mut("properties"), output_properties()) {
        props.extend(extra);
    }
    schema
}

/// Before an update or delete of the rows `rows` chooses (`by_filter`: a filter takes part).
pub async fn gate_rows(
    ctx: &ToolContext<'_>,
    action: Action,
    table: &Table,
    rows: &RowFilter,
    by_filter: bool,
    changes: Option<&Map<String, Json>>,
) -> Result<Gate, ToolError> {
    let Some(call) = ctx.confirm.call else { return Ok(Gate::Proceed(Guard::None)) };
    if let Some(token) = &call.presented {
        return Ok(Gate::Proceed(Guard::Exactly(redeem(ctx, call, token).await?)));
    }
    if !ctx.service.confirm_writes {
        return Ok(Gate::Proceed(match ctx.service.confirm_over_rows {
            Some(limit) if by_filter => Guard::AtMost(limit),
            _ => Guard::None,
        }));
    }
    let (count, preview) = count_and_preview(ctx, table, rows).await?;
    if count == 0 {
        // Nothing to confirm; the guard keeps rows that appear meanwhile from being written.
        return Ok(Gate::Proceed(Guard::Exactly(0)));
    }
    let reason = "this service asks the person before every write".to_string();
    let confirmation = Confirmation {
        action,
        table: table.name.clone(),
        count,
        preview,
        changes: changes.map(|c| Json::Object(c.clone())),
        reason,
        token: String::new(),
        ttl_seconds: 0,
        changed_from: None,
    };
    Ok(Gate::Ask(issue(ctx, call, confirmation).await?.to_tool_result()))
}

/// After a guarded update or delete that changed `written` rows: `Ok(None)` when the result
/// stands; `Ok(Some(result))` when the write needs a confirmation first (it changed nothing);
/// an error when the rows changed under a confirmed or threshold-checked write (nothing changed).
pub async fn after_rows(
    ctx: &ToolContext<'_>,
    action: Action,
    table: &Table,
    rows: &RowFilter,
    guard: Guard,
    written: usize,
    changes: Option<&Map<String, Json>>,
) -> Result<Option<Json>, ToolError> {
    let Some(call) = ctx.confirm.call else { return Ok(None) };
    let expected = match guard {
        Guard::None => return Ok(None),
        Guard::Exactly(n) if written as u64 == n => return Ok(None),
        Guard::Exactly(n) => n,
        Guard::AtMost(_) if written > 0 => return Ok(None),
        Guard::AtMost(limit) => limit,
    };
    let (count, preview) = count_and_preview(ctx, table, rows).await?;
    let confirmation = |reason: String, changed_from: Option<u64>| Confirmation {
        action,
        table: table.name.clone(),
        count,
        preview: preview.clone(),
        changes: changes.map(|c| Json::Object(c.clone())),
        reason,
        token: String::new(),
        ttl_seconds: 0,
        changed_from,
    };
    match guard {
        Guard::AtMost(_) if count == 0 => Ok(None),
        Guard::AtMost(limit) if count > limit => {
            let reason = format!("more than this service's limit of {limit} rows for a write without confirmation");
            Ok(Some(issue(ctx, call, confirmation(reason, None)).await?.to_tool_result()))
        }
        Guard::AtMost(_) => Err(ToolError::new(format!(
            "the rows changed while this call ran ({count} match now); nothing was {}. Call {} again.",
            action.done(),
            action.tool()
        ))),
        _ => {
            // A fresh confirmation for the MRTR path; the two-step caller is told to preview again.
            let reason = "the rows changed since the confirmation".to_string();
            if count > 0 {
                issue(ctx, call, confirmation(reason, Some(expected))).await?;
            }
            Err(ToolError::new(format!(
                "the rows changed since the person confirmed: {expected} {} matched then, {count} match now. \
                 Nothing was {}. Call {} again without `confirm` to get a fresh preview, show it to the person, \
                 and confirm again.",
                rows_word(expected),
                action.done(),
                action.tool()
            )))
        }
    }
}

/// Before a write of records given one by one (create, update by records) on a service that
/// confirms every write. Their number is what the person confirms; the digest of the arguments
/// binds the values.
pub async fn gate_records(
    ctx: &ToolContext<'_>,
    action: Action,
    table: &Table,
    records: &[Map<String, Json>],
) -> Result<Gate, ToolError> {
    let Some(call) = ctx.confirm.call else { return Ok(Gate::Proceed(Guard::None)) };
    if let Some(token) = &call.presented {
        redeem(ctx, call, token).await?;
        return Ok(Gate::Proceed(Guard::None));
    }
    if !ctx.service.confirm_writes || records.is_empty() {
        return Ok(Gate::Proceed(Guard::None));
    }
    let confirmation = Confirmation {
        action,
        table: table.name.clone(),
        count: records.len() as u64,
        preview: records.iter().take(PREVIEW_ROWS).map(short_record).collect(),
        changes: None,
        reason: "this service asks the person before every write".into(),
        token: String::new(),
        ttl_seconds: 0,
        changed_from: None,
    };
    Ok(Gate::Ask(issue(ctx, call, confirmation).await?.to_tool_result()))
}

/// Before a stored routine call on a service that confirms writes, by a caller who may write
/// (others run in a read-only transaction, where a routine cannot write).
pub async fn gate_call(
    ctx: &ToolContext<'_>,
    action: Action,
    routine: &str,
    arguments: &Map<String, Json>,
) -> Result<Gate, ToolError> {
    let Some(call) = ctx.confirm.call else { return Ok(Gate::Proceed(Guard::None)) };
    if let Some(token) = &call.presented {
        redeem(ctx, call, token).await?;
        return Ok(Gate::Proceed(Guard::None));
    }
    if !ctx.service.confirm_writes || !ctx.can_write {
        return Ok(Gate::Proceed(Guard::None));
    }
    let args = Json::Object(arguments.iter().map(|(k, v)| (k.clone(), short(v))).collect());
    let confirmation = Confirmation {
        action,
        table: routine.to_string(),
        count: 1,
        preview: vec![json!({ "name": routine, "arguments": args })],
        changes: Some(args),
        reason: if action == Action::Custom {
            "this service asks the person before every write".into()
        } else {
            "this service asks the person before every write, and a routine may write".into()
        },
        token: String::new(),
        ttl_seconds: 0,
        changed_from: None,
    };
    Ok(Gate::Ask(issue(ctx, call, confirmation).await?.to_tool_result()))
}

/// Whether the person's client can answer a form elicitation (MRTR), from the modern
/// `io.modelcontextprotocol/clientCapabilities`: `elicitation: {}` means form mode.
pub fn supports_form_elicitation(client_capabilities: &Json) -> bool {
    match client_capabilities.get("elicitation") {
        Some(Json::Object(e)) => e.is_empty() || e.contains_key("form"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_digest_ignores_key_order_but_not_values() {
        let a = args_hash("delete_records", &json!({ "table": "t", "filter": "x = 1", "ids": [1, 2] }));
        let b = args_hash("delete_records", &json!({ "ids": [1, 2], "filter": "x = 1", "table": "t" }));
        assert_eq!(a, b);
        assert_ne!(a, args_hash("delete_records", &json!({ "table": "t", "filter": "x = 2", "ids": [1, 2] })));
        assert_ne!(a, args_hash("delete_records", &json!({ "table": "t", "filter": "x = 1", "ids": [2, 1] })));
        assert_ne!(a, args_hash("update_records", &json!({ "table": "t", "filter": "x = 1", "ids": [1, 2] })));
        assert_eq!(args_hash("t", &Json::Null), args_hash("t", &json!({})));
    }

    fn state() -> State {
        State {
            id: "i".into(),
            principal: "key:abc".into(),
            service: "demo".into(),
            tool: "delete_records".into(),
            args: "h".into(),
            count: 3,
            exp_ms: 10,
        }
    }

    #[test]
    fn a_sealed_state_hides_its_content_and_detects_every_change() {
        let key = [7u8; 32];
        let token = seal(&key, &state()).unwrap();
        assert_eq!(open(&key, &token).unwrap().principal, "key:abc");
        assert!(!token.contains("key:abc") && !token.contains("demo"));
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in [0, NONCE_BYTES, bytes.len() - 1] {
            let mut changed = bytes.clone();
            changed[i] ^= 1;
            assert!(open(&key, &URL_SAFE_NO_PAD.encode(&changed)).is_none(), "byte {i}");
        }
        assert!(open(&[8u8; 32], &token).is_none(), "another key opens nothing");
        assert!(open(&key, "").is_none() && open(&key, "not base64 !").is_none());
        assert_ne!(seal(&key, &state()).unwrap(), token, "a fresh nonce per seal");
    }

    #[test]
    fn reads_elicitation_answers() {
        let answer = |v: Json| read_answer(Some(&v));
        assert_eq!(
            answer(json!({ INPUT_KEY: { "action": "accept", "content": { "confirm": true } } })),
            Answer::Accept
        );
        assert_eq!(
            answer(json!({ INPUT_KEY: { "action": "accept", "content": { "confirm": false } } })),
            Answer::Decline("declined")
        );
        assert_eq!(answer(json!({ INPUT_KEY: { "action": "decline" } })), Answer::Decline("declined"));
        assert_eq!(answer(json!({ INPUT_KEY: { "action": "cancel" } })), Answer::Decline("cancelled"));
        assert_eq!(answer(json!({ INPUT_KEY: { "action": "accept", "content": {} } })), Answer::Missing);
        assert_eq!(answer(json!({ "other": { "action": "accept", "content": { "confirm": true } } })), Answer::Missing);
        assert_eq!(read_answer(None), Answer::Missing);
    }

    #[test]
    fn a_routine_confirmation_names_the_call_and_fits_the_call_output_schema() {
        let confirmation = Confirmation {
            action: Action::Procedure,
            table: "restock".into(),
            count: 1,
            preview: vec![json!({ "name": "restock", "arguments": { "p_amount": 7 } })],
            changes: Some(json!({ "p_amount": 7 })),
            reason: "r".into(),
            token: "tok".into(),
            ttl_seconds: 300,
            changed_from: None,
        };
        let out = confirmation.to_tool_result();
        assert_eq!((out["name"].clone(), out["records"].clone()), (json!("restock"), json!([])));
        let message = out["message"].as_str().unwrap();
        assert!(
            message.contains("call the stored procedure \"restock\" with the arguments {\"p_amount\":7}"),
            "{message}"
        );
        assert!(message.contains("Nothing was called yet"), "{message}");
        let input = confirmation.to_input_required();
        let params = &input["inputRequests"][INPUT_KEY]["params"];
        assert_eq!(params["requestedSchema"]["properties"]["confirm"]["title"], "Call restock");
        assert!(params["message"].as_str().unwrap().starts_with("Call the stored procedure \"restock\""));
        assert_eq!(input["requestState"], "tok");
        let declined = declined_result("call_stored_procedure", &json!({ "name": "restock" }), "declined").unwrap();
        assert_eq!(declined["structuredContent"]["name"], "restock");
        assert!(declined_result("get_tables", &json!({}), "declined").is_none());
    }

    #[test]
    fn knows_which_clients_answer_form_elicitations() {
        assert!(supports_form_elicitation(&json!({ "elicitation": {} })));
        assert!(supports_form_elicitation(&json!({ "elicitation": { "form": {}, "url": {} } })));
        assert!(!supports_form_elicitation(&json!({ "elicitation": { "url": {} } })));
        assert!(!supports_form_elicitation(&json!({ "sampling": {} })));
    }
}
