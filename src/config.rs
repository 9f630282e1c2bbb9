//! Service configuration, read from the `SERVICES` variable of wrangler.toml (a table of tables).
//!
//! Parsing never panics: every problem is reported with the offending field's path, e.g.
//! `SERVICES.demo.max_rows: must be between 1 and 1000, got 5000`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

/// Rows returned by one read when a service sets no `max_rows`.
pub const DEFAULT_MAX_ROWS: u64 = 100;
/// No service may return more rows than this in one read.
pub const HARD_MAX_ROWS: u64 = 1000;
/// Idle time after which a session expires, when `SESSION_IDLE_SECONDS` is not set.
pub const DEFAULT_SESSION_IDLE_SECONDS: u64 = 3600;

/// Database round trips (one query or one batch each) one tool call may make, when a service
/// sets no `max_queries_per_call`: D1's own limit per Worker invocation on the free plan.
pub const DEFAULT_MAX_QUERIES_PER_CALL: u64 = 50;
/// The most a service may allow: D1's limit per invocation on the paid plan.
pub const HARD_MAX_QUERIES_PER_CALL: u64 = 1000;

/// An update or delete chosen by a filter asks for confirmation when it would touch more rows
/// than this, unless a service sets `confirm_over_rows` (a number, or `false` for never).
pub const DEFAULT_CONFIRM_OVER_ROWS: u64 = 10;
/// How long a confirmation token (or MRTR `requestState`) stays valid, unless a service sets
/// `confirm_ttl_seconds`.
pub const DEFAULT_CONFIRM_TTL_SECONDS: u64 = 300;
/// The longest a service may let a confirmation live.
pub const HARD_MAX_CONFIRM_TTL_SECONDS: u64 = 3600;

/// Default per-query timeout for PostgreSQL services.
pub const DEFAULT_PG_TIMEOUT_MS: u64 = 10_000;
/// Default cap on one PostgreSQL response body.
pub const DEFAULT_PG_MAX_RESPONSE_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// A D1 database, by its binding name in wrangler.toml.
    D1 { binding: String },
    /// PostgreSQL over Neon's SQL-over-HTTP protocol.
    Postgres {
        /// Name of the secret (or variable) holding the connection string.
        connection_string_secret: String,
        /// `https://.../sql`; derived from the connection string's host as Neon does when absent.
        endpoint: Option<String>,
        timeout_ms: u64,
        max_response_bytes: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// A credential (API key) is required. The default.
    Required,
    /// No credential: for local experiments and conformance runs only.
    None,
}

/// Which stored routines (PostgreSQL functions and procedures) a service exposes. A routine can
/// read any table, hidden ones included, so a service that hides tables exposes none unless told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutinePolicy {
    All,
    None,
    /// Only these, by the name the tools list them under (`restock`, `reporting.refresh`).
    Only(Vec<String>),
}

impl RoutinePolicy {
    pub fn allows(&self, routine_name: &str) -> bool {
        match self {
            RoutinePolicy::All => true,
            RoutinePolicy::None => false,
            RoutinePolicy::Only(names) => names.iter().any(|n| n == routine_name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: String,
    pub label: String,
    pub description: String,
    pub database: DatabaseConfig,
    pub read_only: bool,
    pub max_rows: u64,
    pub hidden_tables: Vec<String>,
    /// Default: `None` when `hidden_tables` is set, else `All`.
    pub routines: RoutinePolicy,
    /// Database round trips one tool call may make.
    pub max_queries_per_call: u64,
    pub auth: AuthMode,
    /// An update/delete chosen by a filter that would touch more rows than this asks the person
    /// first; `None`: never for the row count alone.
    pub confirm_over_rows: Option<u64>,
    /// Every create, update and delete asks the person first.
    pub confirm_writes: bool,
    /// How long a confirmation stays valid, in seconds.
    pub confirm_ttl_seconds: u64,
    /// `subscriptions/listen` bounds (`"listen": {...}`).
    pub listen: crate::mcp::subscriptions::ListenSettings,
    /// Tool results that carry database content mark it as untrusted data in their text block
    /// (see `mcp::untrusted`). On unless turned off.
    pub untrusted_data_marking: bool,
    /// Hidden, masked and read-only columns per table (`columns`), see [`crate::columns`].
    pub columns: crate::columns::ColumnPolicies,
    /// A filter per table, filled from the caller's identity (`rows`), see [`crate::rows`].
    pub rows: crate::rows::RowPolicies,
    /// Requests per minute per API key, OAuth client and user (`rate_limits = {...}`).
    pub rate_limits: crate::rate_limit::RateLimits,
    /// The execution log (`"log": {"enabled", "retention_days", "shards"}`).
    pub log: crate::calllog::LogSettings,
    /// What the `search` tool matches and how many results it gives (`search`), see [`crate::search`].
    pub search: crate::search::SearchSettings,
    /// The `query_sql` tool (one validated read-only SELECT) is listed and callable. Off unless
    /// turned on (`"query_sql": true`).
    pub query_sql: bool,
    /// Operator-defined read-only tools (`tools`), see [`crate::tools::custom`]; needs the cargo
    /// feature `query-sql`.
    pub custom_tools: Vec<crate::tools::custom::CustomTool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub services: BTreeMap<String, ServiceConfig>,
    pub session_idle_seconds: u64,
    /// Origins allowed besides the worker's own origin.
    pub allowed_origins: Vec<String>,
    /// `PUBLIC_ORIGIN`: the origin every emitted URL uses (issuer, metadata, endpoints), whatever
    /// Host a request names. `None`: the origin of the request URL (local development).
    pub public_origin: Option<String>,
}

impl Config {
    pub fn service(&self, name: &str) -> Option<&ServiceConfig> {
        self.services.get(name)
    }
}

/// Every problem found, each naming its field.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<String>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

/// The raw inputs: the `SERVICES` JSON value, the two plain string variables, and the
/// `MASK_KEY` secret that `hash` column masks are keyed with.
#[derive(Default)]
pub struct RawConfig<'a> {
    pub services: Option<&'a Json>,
    pub session_idle_seconds: Option<&'a str>,
    pub allowed_origins: Option<&'a str>,
    pub mask_secret: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    label: Option<String>,
    description: Option<String>,
    database: Option<RawDatabase>,
    read_only: Option<bool>,
    max_rows: Option<i64>,
    hidden_tables: Option<Vec<String>>,
    routines: Option<Json>,
    max_queries_per_call: Option<i64>,
    auth: Option<String>,
    confirm_over_rows: Option<Json>,
    confirm_writes: Option<bool>,
    confirm_ttl_seconds: Option<i64>,
    listen: Option<Json>,
    untrusted_data_marking: Option<bool>,
    columns: Option<Json>,
    rows: Option<Json>,
    rate_limits: Option<Json>,
    log: Option<Json>,
    search: Option<Json>,
    query_sql: Option<bool>,
    tools: Option<Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    kind: String,
    binding: Option<String>,
    connection_string_secret: Option<String>,
    endpoint: Option<String>,
    timeout_ms: Option<i64>,
    max_response_bytes: Option<i64>,
}

pub fn parse(raw: RawConfig) -> Result<Config, ConfigErrors> {
    parse_with_origin(raw, None)
}

/// [`parse`], plus the `PUBLIC_ORIGIN` variable (errors of both reported together).
pub fn parse_with_origin(raw: RawConfig, public_origin: Option<&str>) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();

    let session_idle_seconds = match raw.session_idle_seconds.map(str::trim) {
        None | Some("") => DEFAULT_SESSION_IDLE_SECONDS,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => {
                errors.push(format!("SESSION_IDLE_SECONDS: must be a whole number of seconds >= 1, got {text:?}"));
                DEFAULT_SESSION_IDLE_SECONDS
            }
        },
    };

    let mut allowed_origins = Vec::new();
    for origin in raw.allowed_origins.unwrap_or("").split(',').map(str::trim) {
        if origin.is_empty() {
            continue;
        }
        if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.ends_with('/') {
            errors.push(format!("ALLOWED_ORIGINS: {origin:?} is not an origin like https://app.example.com"));
        } else {
            allowed_origins.push(origin.to_ascii_lowercase());
        }
    }

    let public_origin = match public_origin.map(str::trim) {
        None | Some("") => None,
        Some(text) => match parse_public_origin(text) {
            Ok(origin) => Some(origin),
            Err(why) => {
                errors.push(format!("PUBLIC_ORIGIN: {text:?} {why}"));
                None
            }
        },
    };

    let mask_secret = match raw.mask_secret.map(str::trim) {
        None | Some("") => None,
        Some(secret) if secret.chars().count() < crate::columns::MIN_MASK_SECRET_CHARS => {
            errors.push(format!(
                "MASK_KEY: must be at least {} characters (a random string: openssl rand -base64 32)",
                crate::columns::MIN_MASK_SECRET_CHARS
            ));
            None
        }
        Some(secret) => Some(secret),
    };

    let mut services = BTreeMap::new();
    match raw.services {
        None => errors.push("SERVICES: missing; define at least one service under [vars.SERVICES.<name>]".into()),
        Some(Json::Object(map)) => {
            if map.is_empty() {
                errors.push("SERVICES: no service defined".into());
            }
            for (name, value) in map {
                let mask_key = mask_secret.map(|secret| crate::columns::MaskKey::derive(secret, name));
                if let Some(service) = parse_service(name, value, mask_key, &mut errors) {
                    services.insert(name.clone(), service);
                }
            }
        }
        Some(_) => errors.push("SERVICES: must be a table of services ([vars.SERVICES.<name>])".into()),
    }

    if errors.is_empty() {
        Ok(Config { services, session_idle_seconds, allowed_origins, public_origin })
    } else {
        Err(ConfigErrors(errors))
    }
}

/// `https://host[:port]` (a trailing `/` is tolerated), or `http://` on a loopback host; the host
/// written as browsers read it (the redirect URI rules). Returns the origin's serialization.
fn parse_public_origin(text: &str) -> Result<String, String> {
    const EXAMPLE: &str = "write an origin like https://db.example.com (scheme, host, optional port)";
    crate::oauth::redirect::validate(text).map_err(|why| format!("{why}; {EXAMPLE}"))?;
    let url = url::Url::parse(text).map_err(|e| format!("{e}; {EXAMPLE}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("must use https; {EXAMPLE}"));
    }
    if url.path() != "/" || url.query().is_some() || text.ends_with('?') {
        return Err(format!("must have no path or query; {EXAMPLE}"));
    }
    Ok(url.origin().ascii_serialization())
}

fn parse_postgres(db: RawDatabase, at: &dyn Fn(&str) -> String, errors: &mut Vec<String>) -> Option<DatabaseConfig> {
    let before = errors.len();
    let secret = db.connection_string_secret.filter(|s| !s.trim().is_empty());
    if secret.is_none() {
        errors.push(format!(
            "{}: missing; name the secret holding the connection string (wrangler secret put <NAME>)",
            at("database.connection_string_secret")
        ));
    }
    if db.binding.is_some() {
        errors
            .push(format!("{}: only for kind \"d1\"; postgres uses connection_string_secret", at("database.binding")));
    }
    if let Some(endpoint) = &db.endpoint {
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            errors.push(format!("{}: must be an http(s) URL, got {endpoint:?}", at("database.endpoint")));
        }
    }
    let mut bounded = |field: &str, value: Option<i64>, default: u64, max: u64| match value {
        None => default,
        Some(n) if n >= 1 && n as u64 <= max => n as u64,
        Some(n) => {
            errors.push(format!("{}: must be between 1 and {max}, got {n}", at(field)));
            default
        }
    };
    let timeout_ms = bounded("database.timeout_ms", db.timeout_ms, DEFAULT_PG_TIMEOUT_MS, 300_000);
    let max_response_bytes =
        bounded("database.max_response_bytes", db.max_response_bytes, DEFAULT_PG_MAX_RESPONSE_BYTES, 100 * 1024 * 1024);
    if errors.len() > before {
        return None;
    }
    Some(DatabaseConfig::Postgres {
        connection_string_secret: secret?,
        endpoint: db.endpoint,
        timeout_ms,
        max_response_bytes,
    })
}

fn is_valid_service_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn parse_service(
    name: &str,
    value: &Json,
    mask_key: Option<crate::columns::MaskKey>,
    errors: &mut Vec<String>,
) -> Option<ServiceConfig> {
    let at = |field: &str| format!("SERVICES.{name}.{field}");
    if !is_valid_service_name(name) {
        errors.push(format!(
            "SERVICES.{name}: service names must be lowercase letters and digits (1-64), as they form the URL /mcp/<name>"
        ));
        return None;
    }
    let raw: RawService = match serde_json::from_value(value.clone()) {
        Ok(raw) => raw,
        Err(e) => {
            errors.push(format!("SERVICES.{name}: {e}"));
            return None;
        }
    };
    let before = errors.len();

    let database = match raw.database {
        None => {
            errors.push(format!("{}: missing; e.g. database = {{ kind = \"d1\", binding = \"DB\" }}", at("database")));
            None
        }
        Some(db) => match db.kind.as_str() {
            "d1" => match db.binding {
                Some(binding) if !binding.trim().is_empty() => Some(DatabaseConfig::D1 { binding }),
                _ => {
                    errors.push(format!(
                        "{}: missing; name the D1 binding from [[d1_databases]]",
                        at("database.binding")
                    ));
                    None
                }
            },
            "postgres" => parse_postgres(db, &at, errors),
            other => {
                errors.push(format!(
                    "{}: unsupported database kind {other:?}; supported: \"d1\", \"postgres\"",
                    at("database.kind")
                ));
                None
            }
        },
    };

    let max_rows = match raw.max_rows {
        None => DEFAULT_MAX_ROWS,
        Some(n) if (1..=HARD_MAX_ROWS as i64).contains(&n) => n as u64,
        Some(n) => {
            errors.push(format!("{}: must be between 1 and {HARD_MAX_ROWS}, got {n}", at("max_rows")));
            DEFAULT_MAX_ROWS
        }
    };

    let auth = match raw.auth.as_deref() {
        None | Some("required") => AuthMode::Required,
        Some("none") => AuthMode::None,
        Some(other) => {
            errors.push(format!("{}: must be \"required\" or \"none\", got {other:?}", at("auth")));
            AuthMode::Required
        }
    };

    let max_queries_per_call = match raw.max_queries_per_call {
        None => DEFAULT_MAX_QUERIES_PER_CALL,
        Some(n) if (1..=HARD_MAX_QUERIES_PER_CALL as i64).contains(&n) => n as u64,
        Some(n) => {
            errors.push(format!(
                "{}: must be between 1 and {HARD_MAX_QUERIES_PER_CALL}, got {n}",
                at("max_queries_per_call")
            ));
            DEFAULT_MAX_QUERIES_PER_CALL
        }
    };

    let confirm_over_rows = match &raw.confirm_over_rows {
        None => Some(DEFAULT_CONFIRM_OVER_ROWS),
        Some(Json::Bool(false)) => None,
        Some(Json::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        Some(other) => {
            errors.push(format!(
                "{}: must be a whole number of rows >= 0 (0: every row-touching filter asks) or false (never), got {other}",
                at("confirm_over_rows")
            ));
            None
        }
    };
    let confirm_ttl_seconds = match raw.confirm_ttl_seconds {
        None => DEFAULT_CONFIRM_TTL_SECONDS,
        Some(n) if (1..=HARD_MAX_CONFIRM_TTL_SECONDS as i64).contains(&n) => n as u64,
        Some(n) => {
            errors.push(format!(
                "{}: must be between 1 and {HARD_MAX_CONFIRM_TTL_SECONDS}, got {n}",
                at("confirm_ttl_seconds")
            ));
            DEFAULT_CONFIRM_TTL_SECONDS
        }
    };

    let hidden_tables = raw.hidden_tables.unwrap_or_default();
    let columns: crate::columns::ColumnPolicies = match &raw.columns {
        None => Default::default(),
        Some(value) => crate::columns::parse(value, mask_key).unwrap_or_else(|problems| {
            errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
            Default::default()
        }),
    };

    let rows: crate::rows::RowPolicies = match &raw.rows {
        None => Default::default(),
        Some(value) => crate::rows::parse(value).unwrap_or_else(|problems| {
            errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
            Default::default()
        }),
    };
    // Anonymous callers have no identity to fill a row policy with: refused rather than guessed.
    if !rows.is_empty() && auth == AuthMode::None {
        errors.push(format!(
            "{}: a row policy needs callers with an identity; it cannot be used with auth = \"none\"",
            at("rows")
        ));
    }

    // A routine reads whole rows, hidden and masked columns and other callers' rows included:
    // none unless told.
    let protects_columns = columns.values().any(|rules| !rules.hidden.is_empty() || !rules.masked.is_empty());
    let routines = match raw.routines {
        None if hidden_tables.is_empty() && !protects_columns && rows.is_empty() => RoutinePolicy::All,
        None => RoutinePolicy::None,
        Some(value) => parse_routine_policy(&value).unwrap_or_else(|message| {
            errors.push(format!("{}: {message}", at("routines")));
            RoutinePolicy::None
        }),
    };

    let listen = crate::mcp::subscriptions::ListenSettings::parse(raw.listen.as_ref()).unwrap_or_else(|problems| {
        errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
        Default::default()
    });

    let rate_limits = crate::rate_limit::RateLimits::parse(raw.rate_limits.as_ref()).unwrap_or_else(|problems| {
        errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
        Default::default()
    });
    let log = crate::calllog::LogSettings::parse(raw.log.as_ref()).unwrap_or_else(|problems| {
        errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
        Default::default()
    });
    let search = match &raw.search {
        None => Default::default(),
        Some(value) => crate::search::parse_settings(value).unwrap_or_else(|problems| {
            errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
            Default::default()
        }),
    };
    if search.language.is_some() && matches!(database, Some(DatabaseConfig::D1 { .. })) {
        errors.push(format!(
            "{}: applies to PostgreSQL's full-text search only; on D1 search matches words by pattern",
            at("search.language")
        ));
    }

    if raw.query_sql == Some(true) && !cfg!(feature = "query-sql") {
        errors.push(format!(
            "{}: this build has no query_sql: build with the cargo feature `query-sql` (npm run build:query-sql)",
            at("query_sql")
        ));
    }

    let custom_tools = match (&raw.tools, &database) {
        (None, _) | (_, None) => vec![],
        (Some(_), Some(_)) if !cfg!(feature = "query-sql") => {
            errors.push(format!(
                "{}: this build has no custom tools: build with the cargo feature `query-sql` (npm run build:query-sql)",
                at("tools")
            ));
            vec![]
        }
        #[cfg(feature = "query-sql")]
        (Some(value), Some(database)) => {
            let dialect = match database {
                DatabaseConfig::D1 { .. } => crate::sql::Dialect::Sqlite,
                DatabaseConfig::Postgres { .. } => crate::sql::Dialect::Postgres,
            };
            let tools = crate::tools::custom::parse(value, dialect).unwrap_or_else(|problems| {
                errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
                vec![]
            });
            let read_only = raw.read_only.unwrap_or(true);
            let problems = crate::tools::custom::service_problems(name, read_only, &tools);
            errors.extend(problems.into_iter().map(|p| format!("SERVICES.{name}.{p}")));
            tools
        }
        #[cfg(not(feature = "query-sql"))]
        _ => vec![],
    };

    if errors.len() > before {
        return None;
    }
    Some(ServiceConfig {
        name: name.to_string(),
        label: raw.label.unwrap_or_else(|| name.to_string()),
        description: raw.description.unwrap_or_default(),
        database: database?,
        // Safe by default: a service writes only when its configuration says so.
        read_only: raw.read_only.unwrap_or(true),
        max_rows,
        hidden_tables,
        routines,
        max_queries_per_call,
        auth,
        confirm_over_rows,
        confirm_writes: raw.confirm_writes.unwrap_or(false),
        confirm_ttl_seconds,
        listen,
        untrusted_data_marking: raw.untrusted_data_marking.unwrap_or(true),
        columns,
        rows,
        rate_limits,
        log,
        search,
        query_sql: raw.query_sql.unwrap_or(false),
        custom_tools,
    })
}

/// `"all"`, `"none"`, or a list of routine names.
fn parse_routine_policy(value: &Json) -> Result<RoutinePolicy, String> {
    const EXPECTED: &str = "must be \"all\", \"none\" or a list of routine names";
    match value {
        Json::String(s) if s == "all" => Ok(RoutinePolicy::All),
        Json::String(s) if s == "none" => Ok(RoutinePolicy::None),
        Json::Array(items) => items
            .iter()
            .map(|item| match item.as_str().map(str::trim) {
                Some(name) if !name.is_empty() => Ok(name.to_string()),
                _ => Err(format!("{EXPECTED}; got the entry {item}")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(RoutinePolicy::Only),
        other => Err(format!("{EXPECTED}, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_services(services: Json) -> Result<Config, ConfigErrors> {
        parse(RawConfig {
            services: Some(&services),
            session_idle_seconds: None,
            allowed_origins: None,
            mask_secret: None,
        })
    }

    #[test]
    fn custom_tools_need_the_query_sql_feature() {
        let tools = json!({ "t": { "description": "d", "sql": "SELECT 1 AS one" } });
        let parsed =
            parse_services(json!({ "svc": { "database": { "kind": "d1", "binding": "DB" }, "tools": tools } }));
        if cfg!(feature = "query-sql") {
            assert_eq!(parsed.unwrap().service("svc").unwrap().custom_tools.len(), 1);
        } else {
            let text = parsed.unwrap_err().to_string();
            assert!(text.contains("SERVICES.svc.tools: this build has no custom tools"), "{text}");
            assert!(text.contains("`query-sql`"), "{text}");
        }
    }

    #[test]
    fn parses_a_full_service_and_applies_defaults() {
        let config = parse_services(json!({
            "demo": { "label": "Demo", "database": { "kind": "d1", "binding": "DB" },
                      "read_only": false, "max_rows": 500, "hidden_tables": ["secrets"] },
            "lean": { "database": { "kind": "d1", "binding": "DB2" } }
        }))
        .unwrap();
        let demo = config.service("demo").unwrap();
        assert_eq!(demo.database, DatabaseConfig::D1 { binding: "DB".into() });
        assert!(!demo.read_only);
        assert_eq!(demo.max_rows, 500);
        assert_eq!(demo.hidden_tables, vec!["secrets".to_string()]);
        assert_eq!(demo.auth, AuthMode::Required);
        let lean = config.service("lean").unwrap();
        assert!(lean.read_only, "services are read-only unless configured otherwise");
        assert_eq!(lean.max_rows, DEFAULT_MAX_ROWS);
        assert_eq!(lean.label, "lean");
        assert_eq!(config.session_idle_seconds, DEFAULT_SESSION_IDLE_SECONDS);
    }

    #[test]
    fn query_sql_is_off_by_default_and_needs_the_feature_to_be_on() {
        let d1 = json!({ "kind": "d1", "binding": "DB" });
        let config = parse_services(json!({ "plain": { "database": d1 } })).unwrap();
        assert!(!config.service("plain").unwrap().query_sql);
        let asked = parse_services(json!({ "sql": { "database": d1, "query_sql": true } }));
        if cfg!(feature = "query-sql") {
            assert!(asked.unwrap().service("sql").unwrap().query_sql);
        } else {
            let text = asked.unwrap_err().to_string();
            assert!(text.contains("SERVICES.sql.query_sql: this build has no query_sql"), "{text}");
        }
    }

    #[test]
    fn names_the_offending_field() {
        let err = parse_services(json!({
            "demo": { "database": { "kind": "d1", "binding": "DB" }, "max_rows": 5000 },
            "Bad-Name": { "database": { "kind": "d1", "binding": "DB" } },
            "pg": { "database": { "kind": "mysql" } },
            "typo": { "database": { "kind": "d1", "binding": "DB" }, "readonly": true },
            "noauth": { "database": { "kind": "d1", "binding": "DB" }, "auth": "maybe" },
            "nodb": {}
        }))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SERVICES.demo.max_rows: must be between 1 and 1000, got 5000"), "{text}");
        assert!(text.contains("SERVICES.Bad-Name: service names must be lowercase"), "{text}");
        assert!(text.contains("SERVICES.pg.database.kind: unsupported database kind \"mysql\""), "{text}");
        assert!(text.contains("SERVICES.typo: unknown field `readonly`"), "{text}");
        assert!(text.contains("SERVICES.noauth.auth: must be \"required\" or \"none\""), "{text}");
        assert!(text.contains("SERVICES.nodb.database: missing"), "{text}");
        assert_eq!(err.0.len(), 6);
    }

    #[test]
    fn parses_postgres_services_with_defaults_and_limits() {
        let config = parse_services(json!({
            "pg": { "database": { "kind": "postgres", "connection_string_secret": "PG_URL" } },
            "pg2": { "database": { "kind": "postgres", "connection_string_secret": "PG2",
                                   "endpoint": "http://127.0.0.1:4444/sql", "timeout_ms": 2000, "max_response_bytes": 1000 } }
        }))
        .unwrap();
        assert_eq!(
            config.service("pg").unwrap().database,
            DatabaseConfig::Postgres {
                connection_string_secret: "PG_URL".into(),
                endpoint: None,
                timeout_ms: DEFAULT_PG_TIMEOUT_MS,
                max_response_bytes: DEFAULT_PG_MAX_RESPONSE_BYTES
            }
        );
        assert!(matches!(config.service("pg2").unwrap().database, DatabaseConfig::Postgres { timeout_ms: 2000, .. }));
        let err = parse_services(json!({
            "pg": { "database": { "kind": "postgres", "timeout_ms": 0, "endpoint": "ftp://x" } }
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("SERVICES.pg.database.connection_string_secret: missing"), "{err}");
        assert!(err.contains("SERVICES.pg.database.timeout_ms: must be between 1 and 300000, got 0"), "{err}");
        assert!(err.contains("SERVICES.pg.database.endpoint: must be an http(s) URL"), "{err}");
    }

    #[test]
    fn checks_the_plain_variables() {
        let services = json!({ "demo": { "database": { "kind": "d1", "binding": "DB" } } });
        let err = parse(RawConfig {
            services: Some(&services),
            session_idle_seconds: Some("soon"),
            allowed_origins: Some("https://ok.example.com, ftp://nope"),
            mask_secret: Some("too short"),
        })
        .unwrap_err();
        assert!(err.to_string().contains("SESSION_IDLE_SECONDS"));
        assert!(err.to_string().contains("ALLOWED_ORIGINS: \"ftp://nope\""));
        assert!(err.to_string().contains("MASK_KEY: must be at least 32 characters"), "{err}");
        let ok = parse(RawConfig {
            services: Some(&services),
            session_idle_seconds: Some("120"),
            allowed_origins: Some("https://App.example.com"),
            mask_secret: None,
        })
        .unwrap();
        assert_eq!(ok.session_idle_seconds, 120);
        assert_eq!(ok.allowed_origins, vec!["https://app.example.com".to_string()]);
    }

    #[test]
    fn public_origin_is_an_origin_or_a_configuration_error() {
        let services = json!({ "demo": { "database": { "kind": "d1", "binding": "DB" } } });
        let with = |origin: &str| {
            let raw = RawConfig {
                services: Some(&services),
                session_idle_seconds: None,
                allowed_origins: None,
                mask_secret: None,
            };
            parse_with_origin(raw, Some(origin))
        };
        assert_eq!(with("").unwrap().public_origin, None);
        assert_eq!(with("https://DB.example.com/").unwrap().public_origin.as_deref(), Some("https://db.example.com"));
        assert_eq!(
            with("https://db.example.com:443").unwrap().public_origin.as_deref(),
            Some("https://db.example.com")
        );
        assert_eq!(
            with("https://db.example.com:8443").unwrap().public_origin.as_deref(),
            Some("https://db.example.com:8443")
        );
        assert_eq!(with("http://127.0.0.1:8787").unwrap().public_origin.as_deref(), Some("http://127.0.0.1:8787"));
        assert_eq!(
            with("https://xn--d-btb.example.com").unwrap().public_origin.as_deref(),
            Some("https://xn--d-btb.example.com")
        );
        for bad in [
            "db.example.com",
            "http://db.example.com",
            "https://db.example.com/mcp",
            "https://db.example.com?x",
            "https://user@db.example.com",
            "https://db.example.com\\evil",
            "https://dб.example.com",
            "https://d%D0%B1.example.com",
            "ftp://db.example.com",
            "cursor://db.example.com",
        ] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.starts_with("PUBLIC_ORIGIN: "), "{bad}: {err}");
            assert!(err.contains("https://db.example.com"), "{bad}: {err}");
        }
    }

    #[test]
    fn routines_default_to_none_when_tables_are_hidden() {
        let config = parse_services(json!({
            "open": { "database": { "kind": "d1", "binding": "DB" } },
            "hiding": { "database": { "kind": "d1", "binding": "DB" }, "hidden_tables": ["customers"] },
            "vouched": { "database": { "kind": "d1", "binding": "DB" }, "hidden_tables": ["customers"], "routines": "all" },
            "listed": { "database": { "kind": "d1", "binding": "DB" }, "routines": ["order_total", "reporting.refresh"] },
            "closed": { "database": { "kind": "d1", "binding": "DB" }, "routines": "none" }
        }))
        .unwrap();
        assert_eq!(config.service("open").unwrap().routines, RoutinePolicy::All);
        assert_eq!(config.service("hiding").unwrap().routines, RoutinePolicy::None);
        assert_eq!(config.service("vouched").unwrap().routines, RoutinePolicy::All);
        let listed = &config.service("listed").unwrap().routines;
        assert!(listed.allows("order_total") && listed.allows("reporting.refresh"));
        assert!(!listed.allows("top_customers") && !listed.allows("ORDER_TOTAL"));
        assert!(!config.service("closed").unwrap().routines.allows("order_total"));
        assert_eq!(config.service("open").unwrap().max_queries_per_call, DEFAULT_MAX_QUERIES_PER_CALL);
    }

    #[test]
    fn checks_routines_and_the_query_budget() {
        let err = parse_services(json!({
            "a": { "database": { "kind": "d1", "binding": "DB" }, "routines": "some" },
            "b": { "database": { "kind": "d1", "binding": "DB" }, "routines": ["ok", 3] },
            "c": { "database": { "kind": "d1", "binding": "DB" }, "max_queries_per_call": 0 },
            "d": { "database": { "kind": "d1", "binding": "DB" }, "max_queries_per_call": 1001 }
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("SERVICES.a.routines: must be \"all\", \"none\" or a list of routine names"), "{err}");
        assert!(err.contains("SERVICES.b.routines: must be"), "{err}");
        assert!(err.contains("SERVICES.c.max_queries_per_call: must be between 1 and 1000, got 0"), "{err}");
        assert!(err.contains("SERVICES.d.max_queries_per_call: must be between 1 and 1000, got 1001"), "{err}");
        let ok = parse_services(
            json!({ "e": { "database": { "kind": "d1", "binding": "DB" }, "max_queries_per_call": 7 } }),
        )
        .unwrap();
        assert_eq!(ok.service("e").unwrap().max_queries_per_call, 7);
    }

    #[test]
    fn confirmation_settings_default_and_are_checked() {
        let config = parse_services(json!({
            "plain": { "database": { "kind": "d1", "binding": "DB" } },
            "strict": { "database": { "kind": "d1", "binding": "DB" }, "confirm_over_rows": 0,
                        "confirm_writes": true, "confirm_ttl_seconds": 2 },
            "loose": { "database": { "kind": "d1", "binding": "DB" }, "confirm_over_rows": false }
        }))
        .unwrap();
        let plain = config.service("plain").unwrap();
        assert_eq!(plain.confirm_over_rows, Some(DEFAULT_CONFIRM_OVER_ROWS));
        assert!(!plain.confirm_writes);
        assert_eq!(plain.confirm_ttl_seconds, DEFAULT_CONFIRM_TTL_SECONDS);
        let strict = config.service("strict").unwrap();
        assert_eq!((strict.confirm_over_rows, strict.confirm_writes, strict.confirm_ttl_seconds), (Some(0), true, 2));
        assert_eq!(config.service("loose").unwrap().confirm_over_rows, None);
        let err = parse_services(json!({
            "a": { "database": { "kind": "d1", "binding": "DB" }, "confirm_over_rows": -1 },
            "b": { "database": { "kind": "d1", "binding": "DB" }, "confirm_over_rows": true },
            "c": { "database": { "kind": "d1", "binding": "DB" }, "confirm_ttl_seconds": 0 },
            "d": { "database": { "kind": "d1", "binding": "DB" }, "confirm_ttl_seconds": 3601 },
            "e": { "database": { "kind": "d1", "binding": "DB" }, "confirm_writes": "yes" }
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("SERVICES.a.confirm_over_rows: must be a whole number of rows >= 0"), "{err}");
        assert!(err.contains("SERVICES.b.confirm_over_rows: must be"), "{err}");
        assert!(err.contains("SERVICES.c.confirm_ttl_seconds: must be between 1 and 3600, got 0"), "{err}");
        assert!(err.contains("SERVICES.d.confirm_ttl_seconds: must be between 1 and 3600, got 3601"), "{err}");
        assert!(err.contains("SERVICES.e: invalid type"), "{err}");
    }

    #[test]
    fn untrusted_data_marking_is_on_unless_turned_off() {
        let config = parse_services(json!({
            "plain": { "database": { "kind": "d1", "binding": "DB" } },
            "on": { "database": { "kind": "d1", "binding": "DB" }, "untrusted_data_marking": true },
            "off": { "database": { "kind": "d1", "binding": "DB" }, "untrusted_data_marking": false }
        }))
        .unwrap();
        assert!(config.service("plain").unwrap().untrusted_data_marking);
        assert!(config.service("on").unwrap().untrusted_data_marking);
        assert!(!config.service("off").unwrap().untrusted_data_marking);
        let err = parse_services(json!({
            "a": { "database": { "kind": "d1", "binding": "DB" }, "untrusted_data_marking": "no" }
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("SERVICES.a: invalid type"), "{err}");
    }

    #[test]
    fn rate_limits_are_optional_positive_and_bounded() {
        use crate::rate_limit::{RateLimits, HARD_MAX_PER_MINUTE};
        let config = parse_services(json!({
            "plain": { "database": { "kind": "d1", "binding": "DB" } },
            "keys": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "api_key_per_minute": 60 } },
            "all": { "database": { "kind": "d1", "binding": "DB" },
                     "rate_limits": { "api_key_per_minute": 1, "oauth_client_per_minute": 600, "user_per_minute": 100000 } }
        }))
        .unwrap();
        assert_eq!(config.service("plain").unwrap().rate_limits, RateLimits::default());
        assert_eq!(
            config.service("keys").unwrap().rate_limits,
            RateLimits { api_key_per_minute: Some(60), oauth_client_per_minute: None, user_per_minute: None }
        );
        assert_eq!(
            config.service("all").unwrap().rate_limits,
            RateLimits {
                api_key_per_minute: Some(1),
                oauth_client_per_minute: Some(600),
                user_per_minute: Some(HARD_MAX_PER_MINUTE)
            }
        );
        let err = parse_services(json!({
            "a": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "api_key_per_minute": 0 } },
            "b": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "user_per_minute": 100001 } },
            "c": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "oauth_client_per_minute": 1.5 } },
            "d": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "api_key_per_minute": "60" } },
            "e": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "per_minute": 60 } },
            "f": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": 60 },
            "g": { "database": { "kind": "d1", "binding": "DB" }, "rate_limits": { "user_per_minute": -5 } }
        }))
        .unwrap_err();
        let text = err.to_string();
        let expect = "must be a whole number of requests per minute between 1 and 100000";
        assert!(text.contains(&format!("SERVICES.a.rate_limits.api_key_per_minute: {expect}, got 0")), "{text}");
        assert!(text.contains(&format!("SERVICES.b.rate_limits.user_per_minute: {expect}, got 100001")), "{text}");
        assert!(text.contains(&format!("SERVICES.c.rate_limits.oauth_client_per_minute: {expect}, got 1.5")), "{text}");
        assert!(text.contains(&format!("SERVICES.d.rate_limits.api_key_per_minute: {expect}, got \"60\"")), "{text}");
        assert!(text.contains("SERVICES.e.rate_limits: unknown field `per_minute`; expected a table like {"), "{text}");
        assert!(text.contains("SERVICES.f.rate_limits: must be a table like {"), "{text}");
        assert!(text.contains(&format!("SERVICES.g.rate_limits.user_per_minute: {expect}, got -5")), "{text}");
        assert_eq!(err.0.len(), 7, "{text}");
    }

    #[test]
    fn missing_services_is_an_error_not_a_panic() {
        let err =
            parse(RawConfig { services: None, session_idle_seconds: None, allowed_origins: None, mask_secret: None })
                .unwrap_err();
        assert!(err.to_string().starts_with("SERVICES: missing"));
        let err = parse_services(json!("demo")).unwrap_err();
        assert!(err.to_string().contains("must be a table"));
    }
}
