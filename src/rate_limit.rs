//! Per-credential rate limits: requests per minute per API key, OAuth client and user.
//!
//! Counted with GCRA (the generic cell rate algorithm): a bucket keeps one number, its
//! *theoretical arrival time* (TAT). A limit of N per minute lets a request through every
//! `60 s / N` on average, with bursts of up to N at once. Each bucket lives in its own Durable
//! Object (`edge::rate_limiter`), which runs one command at a time, so parallel requests are
//! serialised there and the count never overshoots (margin 0). The math, the choice of buckets
//! and the refusal are here, in plain Rust, so `cargo test` covers them with a fake clock.

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use crate::auth::Credential;
use crate::mcp::jsonrpc::RpcError;

/// One minute in microseconds: the unit of the TAT (fine enough that `60 s / N` rounds by less
/// than a microsecond per request for every allowed N).
pub const MINUTE_US: u64 = 60_000_000;
/// The highest limit a service or key may set (about 1 667 requests a second per credential).
pub const HARD_MAX_PER_MINUTE: u64 = 100_000;
/// The JSON-RPC error code of a refusal (the implementation-defined server error range).
pub const RATE_LIMITED: i64 = -32000;

/// A service's limits (`rate_limits = { ... }`); `None`: unlimited for that kind of credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub api_key_per_minute: Option<u64>,
    pub oauth_client_per_minute: Option<u64>,
    pub user_per_minute: Option<u64>,
}

impl RateLimits {
    /// Parses `rate_limits`; each problem names its field (`rate_limits.user_per_minute: ...`).
    /// By hand rather than with a serde derive: the bundle pays for every derived visitor.
    pub fn parse(value: Option<&Json>) -> Result<Self, Vec<String>> {
        const EXAMPLE: &str = "{ api_key_per_minute = 60, oauth_client_per_minute = 600, user_per_minute = 120 }";
        let Some(value) = value else { return Ok(RateLimits::default()) };
        let Json::Object(fields) = value else {
            return Err(vec![format!("rate_limits: must be a table like {EXAMPLE}, got {value}")]);
        };
        let mut limits = RateLimits::default();
        let mut errors = Vec::new();
        for (name, value) in fields {
            let slot = match name.as_str() {
                "api_key_per_minute" => &mut limits.api_key_per_minute,
                "oauth_client_per_minute" => &mut limits.oauth_client_per_minute,
                "user_per_minute" => &mut limits.user_per_minute,
                _ => {
                    errors.push(format!("rate_limits: unknown field `{name}`; expected a table like {EXAMPLE}"));
                    continue;
                }
            };
            match per_minute(value) {
                Ok(limit) => *slot = Some(limit),
                Err(why) => errors.push(format!("rate_limits.{name}: {why}")),
            }
        }
        if errors.is_empty() {
            Ok(limits)
        } else {
            Err(errors)
        }
    }
}

/// A limit in requests per minute: a whole number from 1 to [`HARD_MAX_PER_MINUTE`].
pub fn per_minute(value: &Json) -> Result<u64, String> {
    match value.as_u64() {
        Some(n) if (1..=HARD_MAX_PER_MINUTE).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number of requests per minute between 1 and {HARD_MAX_PER_MINUTE}, got {value}"
        )),
    }
}

/// Which kind of credential a bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    ApiKey,
    OauthClient,
    User,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ApiKey => "api_key",
            Scope::OauthClient => "oauth_client",
            Scope::User => "user",
        }
    }
    fn holder(self) -> &'static str {
        match self {
            Scope::ApiKey => "this API key",
            Scope::OauthClient => "this OAuth client",
            Scope::User => "this user",
        }
    }
}

/// One counter: its Durable Object's name, what it counts and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// `<service>:key:<id>`, `<service>:client:<client id>` or `<service>:user:<name>`.
    pub name: String,
    pub scope: Scope,
    pub limit_per_minute: u64,
}

/// The buckets a request by `credential` counts against (none: nothing to ask, no Durable Object
/// call). An API key's own `rate_limit_per_minute` beats the service's `api_key_per_minute`; an
/// OAuth token counts against its user first, then its client.
pub fn buckets(service: &str, limits: &RateLimits, credential: &Credential) -> Vec<Bucket> {
    let bucket = |kind: &str, id: &str, scope, limit| Bucket {
        name: format!("{service}:{kind}:{id}"),
        scope,
        limit_per_minute: limit,
    };
    match credential {
        Credential::Anonymous => vec![],
        Credential::ApiKey { id, rate_limit_per_minute } => rate_limit_per_minute
            .or(limits.api_key_per_minute)
            .map(|limit| bucket("key", id, Scope::ApiKey, limit))
            .into_iter()
            .collect(),
        Credential::OAuth { client_id, user } => [
            limits.user_per_minute.map(|limit| bucket("user", user, Scope::User, limit)),
            limits.oauth_client_per_minute.map(|limit| bucket("client", client_id, Scope::OauthClient, limit)),
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
}

/// What a Durable Object is asked: take `cost` requests from the bucket, or give them back.
/// On the wire it is a query string (`op=take&limit=60&cost=1`) and the answer two numbers
/// (`1 0`): parsed by hand, because serde derives cost bundle size and these never change shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Take { limit_per_minute: u64, cost: u64 },
    Refund { limit_per_minute: u64, cost: u64 },
}

impl Command {
    pub fn to_query(self) -> String {
        let (op, limit, cost) = match self {
            Command::Take { limit_per_minute, cost } => ("take", limit_per_minute, cost),
            Command::Refund { limit_per_minute, cost } => ("refund", limit_per_minute, cost),
        };
        format!("op={op}&limit={limit}&cost={cost}")
    }

    pub fn from_query(query: &str) -> Result<Command, String> {
        let mut op = None;
        let (mut limit, mut cost) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("op", value)) => op = Some(value),
                Some(("limit", value)) => limit = value.parse::<u64>().ok(),
                Some(("cost", value)) => cost = value.parse::<u64>().ok(),
                _ => return Err(format!("unexpected parameter {pair:?}")),
            }
        }
        let (Some(limit_per_minute), Some(cost)) = (limit, cost) else {
            return Err("limit and cost must be whole numbers".into());
        };
        match op {
            Some("take") => Ok(Command::Take { limit_per_minute, cost }),
            Some("refund") => Ok(Command::Refund { limit_per_minute, cost }),
            _ => Err("op must be take or refund".into()),
        }
    }
}

/// Its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// When the same request would be let through (0 when allowed), in milliseconds.
    pub retry_after_ms: u64,
}

impl Verdict {
    pub fn to_text(self) -> String {
        format!("{} {}", u8::from(self.allowed), self.retry_after_ms)
    }

    pub fn from_text(text: &str) -> Result<Verdict, String> {
        match text.split_once(' ') {
            Some(("1", ms)) | Some(("0", ms)) if ms.parse::<u64>().is_ok() => {
                Ok(Verdict { allowed: text.starts_with('1'), retry_after_ms: ms.parse().unwrap_or(0) })
            }
            _ => Err(format!("unexpected rate limiter answer {text:?}")),
        }
    }
}

/// Applies a command to a bucket whose TAT is `tat_us` (0 for a new bucket) at `now_us`; returns
/// the new TAT (unchanged when refused: a refused request costs nothing) and the verdict.
pub fn apply(tat_us: u64, now_us: u64, command: Command) -> (u64, Verdict) {
    match command {
        Command::Take { limit_per_minute, cost } => {
            let limit = limit_per_minute.clamp(1, HARD_MAX_PER_MINUTE);
            let interval = MINUTE_US / limit;
            // N intervals, not a whole minute: exactly N requests fit in a burst whatever the rounding.
            let tolerance = interval * limit;
            let new_tat = tat_us.max(now_us) + interval * cost.clamp(1, limit);
            if new_tat - now_us <= tolerance {
                (new_tat, Verdict { allowed: true, retry_after_ms: 0 })
            } else {
                let wait_us = new_tat - now_us - tolerance;
                (tat_us, Verdict { allowed: false, retry_after_ms: wait_us.div_ceil(1000) })
            }
        }
        Command::Refund { limit_per_minute, cost } => {
            let limit = limit_per_minute.clamp(1, HARD_MAX_PER_MINUTE);
            let interval = MINUTE_US / limit;
            // A TAT in the past is the same as "now": an idle bucket is full, never fuller.
            let tat = tat_us.saturating_sub(interval * cost.clamp(1, limit)).max(now_us);
            (tat, Verdict { allowed: true, retry_after_ms: 0 })
        }
    }
}

/// Where buckets live (a Durable Object per bucket at the edge).
#[async_trait(?Send)]
pub trait Limiter {
    async fn run(&self, bucket: &str, command: Command) -> Result<Verdict, String>;
    /// Writes one structured log line (the edge: `console.error`).
    fn log(&self, line: &Json);
}

/// Why a request was refused: the first bucket that had no room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub scope: Scope,
    pub limit_per_minute: u64,
    pub retry_after_ms: u64,
}

impl Refusal {
    /// For `Retry-After`: whole seconds, rounded up, at least 1.
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after_ms.div_ceil(1000).max(1)
    }

    /// The JSON-RPC error a model can act on: what was exceeded, for whom, and when to retry.
    pub fn rpc_error(&self) -> RpcError {
        let seconds = self.retry_after_seconds();
        RpcError {
            code: RATE_LIMITED,
            message: format!(
                "rate limit exceeded: {} requests per minute for {}; retry after {seconds} s",
                self.limit_per_minute,
                self.scope.holder()
            ),
            data: Some(json!({
                "retry_after_seconds": seconds,
                "limit_per_minute": self.limit_per_minute,
                "scope": self.scope.as_str(),
            })),
        }
    }
}

/// Takes `cost` from every bucket in order. When one refuses, those already taken are given back,
/// so a refused request costs nothing anywhere. A bucket that cannot be reached is skipped (fail
/// open: the request is served) and logged as `{"event":"rate_limiter_unavailable",...}`.
pub async fn check(limiter: &dyn Limiter, buckets: &[Bucket], cost: u64) -> Option<Refusal> {
    let mut taken: Vec<&Bucket> = Vec::new();
    for bucket in buckets {
        let command = Command::Take { limit_per_minute: bucket.limit_per_minute, cost };
        match limiter.run(&bucket.name, command).await {
            Ok(verdict) if verdict.allowed => taken.push(bucket),
            Ok(verdict) => {
                for earlier in taken {
                    let refund = Command::Refund { limit_per_minute: earlier.limit_per_minute, cost };
                    if let Err(error) = limiter.run(&earlier.name, refund).await {
                        limiter.log(&unavailable_line(earlier, "refund", &error));
                    }
                }
                return Some(Refusal {
                    scope: bucket.scope,
                    limit_per_minute: bucket.limit_per_minute,
                    retry_after_ms: verdict.retry_after_ms,
                });
            }
            Err(error) => limiter.log(&unavailable_line(bucket, "take", &error)),
        }
    }
    None
}

fn unavailable_line(bucket: &Bucket, op: &str, error: &str) -> Json {
    json!({
        "event": "rate_limiter_unavailable",
        "bucket": bucket.name,
        "scope": bucket.scope.as_str(),
        "op": op,
        "error": error,
        "outcome": if op == "take" { "served_unlimited" } else { "not_refunded" },
    })
}

/// A limiter in memory with a settable clock: the same [`apply`] the Durable Object runs, for
/// tests (and any host without Durable Objects).
#[derive(Default)]
pub struct MemoryLimiter {
    pub now_us: std::cell::Cell<u64>,
    pub buckets: std::cell::RefCell<std::collections::BTreeMap<String, u64>>,
    /// Buckets that answer with an error, as an unreachable Durable Object would.
    pub unreachable: std::cell::RefCell<Vec<String>>,
    pub calls: std::cell::Cell<usize>,
    pub lines: std::cell::RefCell<Vec<Json>>,
}

#[async_trait(?Send)]
impl Limiter for MemoryLimiter {
    async fn run(&self, bucket: &str, command: Command) -> Result<Verdict, String> {
        self.calls.set(self.calls.get() + 1);
        if self.unreachable.borrow().iter().any(|b| b == bucket) {
            return Err("no Durable Object binding named \"RATE_LIMITER\"".into());
        }
        let mut buckets = self.buckets.borrow_mut();
        let tat = buckets.entry(bucket.to_string()).or_insert(0);
        let (new_tat, verdict) = apply(*tat, self.now_us.get(), command);
        *tat = new_tat;
        Ok(verdict)
    }
    fn log(&self, line: &Json) {
        self.lines.borrow_mut().push(line.clone());
    }
}

#[cfg(test)]
mod tests;
