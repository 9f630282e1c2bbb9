//! The MCP 2026-07-28 ("modern") era: no `initialize`, no session; every request carries its
//! protocol version, client capabilities and client info in `params._meta`, and on HTTP mirrors
//! version, method and name into headers. These are the transport-free rules: era detection,
//! `_meta` parsing, header checks, the modern error shapes, `server/discover`, and the fields
//! every modern result carries. The HTTP handling is `http::mcp_modern`.

use serde_json::{json, Map, Value as Json};

use super::jsonrpc::{RpcError, INVALID_PARAMS, METHOD_NOT_FOUND, RESOURCE_NOT_FOUND};
use super::server::{self, SERVER_NAME, SERVER_VERSION};
use super::session::{self, LOG_LEVELS};
use crate::config::{AuthMode, ServiceConfig};

/// The stateless revisions this server serves, newest first.
pub const MODERN_VERSIONS: [&str; 1] = ["2026-07-28"];

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// Codes the 2026-07-28 schema defines (basic/index.mdx, "Error Codes").
pub const HEADER_MISMATCH: i64 = -32020;
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// Header values that carry non-ASCII text: `=?base64?<standard base64 of UTF-8>?=`.
const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";

/// Freshness hints (server/utilities/caching.mdx). The tool, prompt and template lists and the
/// discover result change only when a new version is deployed or the service is reconfigured:
/// five minutes bounds how long a client keeps a stale list after that. Table lists and schemas
/// change with migrations; they get the time this server itself reuses a loaded schema for, so a
/// client's cache is never staler than the server's.
pub const LIST_TTL_MS: u64 = 300_000;
pub const SCHEMA_TTL_MS: u64 = crate::tools::SCHEMA_TTL_MS;

/// A modern error and the HTTP status it is answered with.
#[derive(Debug, Clone, PartialEq)]
pub struct ModernError {
    pub status: u16,
    pub error: RpcError,
}

impl ModernError {
    fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        ModernError { status, error: RpcError::new(code, message) }
    }
    fn with_data(mut self, data: Json) -> Self {
        self.error.data = Some(data);
        self
    }
}

pub fn header_mismatch(message: impl Into<String>) -> ModernError {
    ModernError::new(400, HEADER_MISMATCH, format!("Header mismatch: {}", message.into()))
}

pub fn unsupported_version(requested: &str) -> ModernError {
    let hint = if session::is_supported(requested) {
        format!("; {requested} is served with a session: POST initialize first")
    } else {
        String::new()
    };
    ModernError::new(
        400,
        UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "Unsupported protocol version {requested:?}; this endpoint serves {} per request{hint}",
            MODERN_VERSIONS.join(", ")
        ),
    )
    .with_data(json!({ "supported": MODERN_VERSIONS, "requested": requested }))
}

/// `required` is a `ClientCapabilities` object naming what is missing, e.g. `{"elicitation": {}}`.
pub fn missing_capability(required: Json, why: &str) -> ModernError {
    ModernError::new(400, MISSING_REQUIRED_CLIENT_CAPABILITY, format!("Missing required client capability: {why}"))
        .with_data(json!({ "requiredCapabilities": required }))
}

pub fn invalid_meta(message: impl Into<String>) -> ModernError {
    ModernError::new(400, INVALID_PARAMS, format!("invalid _meta: {}", message.into()))
}

/// Unknown and removed methods: HTTP 404 with -32601, which tells a dual-era client this is a
/// modern endpoint (a legacy server's 404 has no JSON-RPC body).
pub fn method_not_found(method: &str) -> ModernError {
    let why = match method {
        "initialize" => {
            " (2026-07-28 has no handshake: send requests with _meta; initialize without it starts a 2025 session)"
        }
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => " (removed in 2026-07-28)",
        _ => "",
    };
    ModernError::new(404, METHOD_NOT_FOUND, format!("method not found: {method}{why}"))
}

/// Whether a request is for the modern era. A session id means legacy. Otherwise the body
/// decides (`_meta` with a protocol version, in any element of an array so a batch is refused
/// rather than served as legacy), and failing that a version header naming no legacy revision
/// (a request that lost its `_meta` still gets a modern error, not "send initialize").
pub fn is_modern_request(session_id: Option<&str>, version_header: Option<&str>, body: &Json) -> bool {
    if session_id.is_some_and(|s| !s.trim().is_empty()) {
        return false;
    }
    // A real `initialize` (it names a protocolVersion in params) selects the 2025 era even if a
    // dual-era client also attached modern `_meta`; a bare one with modern `_meta` is a modern
    // request for a method 2026-07-28 does not have (404).
    let params = body.get("params");
    if body.get("method").and_then(Json::as_str) == Some("initialize")
        && params.and_then(|p| p.get("protocolVersion")).is_some_and(Json::is_string)
    {
        return false;
    }
    let claims_version = |message: &Json| {
        message.get("params").and_then(|p| p.get("_meta")).and_then(|m| m.get(META_PROTOCOL_VERSION)).is_some()
    };
    let body_claims = match body {
        Json::Array(items) => items.iter().any(claims_version),
        other => claims_version(other),
    };
    body_claims || version_header.is_some_and(|v| !session::is_supported(v.trim()))
}

/// GET and DELETE carry no body; a client that names a modern version in the header is modern.
pub fn is_modern_bodyless(session_id: Option<&str>, version_header: Option<&str>) -> bool {
    session_id.is_none_or(|s| s.trim().is_empty())
        && version_header.is_some_and(|v| MODERN_VERSIONS.contains(&v.trim()))
}

/// The parsed per-request `_meta`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMeta {
    pub protocol_version: String,
    pub client_capabilities: Map<String, Json>,
    pub client_info: Option<Json>,
    /// `None`: the client asked for no log messages, so none may be sent.
    pub log_level: Option<String>,
}

impl RequestMeta {
    pub fn has_capability(&self, name: &str) -> bool {
        self.client_capabilities.get(name).is_some_and(|c| !c.is_null())
    }
}

/// The version `_meta` claims, when it names one.
pub fn claimed_version(params: Option<&Map<String, Json>>) -> Option<&Json> {
    params?.get("_meta")?.get(META_PROTOCOL_VERSION)
}

/// Reads `params._meta`. Missing or malformed required fields are -32602 with HTTP 400.
pub fn parse_meta(params: Option<&Map<String, Json>>) -> Result<RequestMeta, ModernError> {
    let meta = match params.and_then(|p| p.get("_meta")) {
        None => {
            return Err(invalid_meta(format!(
                "params._meta is required and must carry {META_PROTOCOL_VERSION} and {META_CLIENT_CAPABILITIES}"
            )))
        }
        Some(Json::Object(meta)) => meta,
        Some(_) => return Err(invalid_meta("params._meta must be an object")),
    };
    let protocol_version = match meta.get(META_PROTOCOL_VERSION) {
        Some(Json::String(v)) => v.clone(),
        Some(_) => return Err(invalid_meta(format!("{META_PROTOCOL_VERSION} must be a string"))),
        None => return Err(invalid_meta(format!("{META_PROTOCOL_VERSION} is required"))),
    };
    let client_capabilities = match meta.get(META_CLIENT_CAPABILITIES) {
        Some(Json::Object(c)) => c.clone(),
        Some(_) => return Err(invalid_meta(format!("{META_CLIENT_CAPABILITIES} must be an object"))),
        None => return Err(invalid_meta(format!("{META_CLIENT_CAPABILITIES} is required (send {{}} for none)"))),
    };
    // clientInfo is a SHOULD: absent is fine, but when present it must be an Implementation.
    let client_info = match meta.get(META_CLIENT_INFO) {
        None | Some(Json::Null) => None,
        Some(info @ Json::Object(o)) if o.get("name").is_some_and(Json::is_string) => Some(info.clone()),
        Some(_) => return Err(invalid_meta(format!("{META_CLIENT_INFO} must be an object with a name"))),
    };
    let log_level = match meta.get(META_LOG_LEVEL) {
        None | Some(Json::Null) => None,
        Some(Json::String(level)) if LOG_LEVELS.contains(&level.as_str()) => Some(level.clone()),
        Some(other) => {
            return Err(invalid_meta(format!("unknown log level {other}; use one of {}", LOG_LEVELS.join(", "))))
        }
    };
    Ok(RequestMeta { protocol_version, client_capabilities, client_info, log_level })
}

/// Decodes a header value that may use the Base64 sentinel; refuses characters a header may not
/// carry and sentinels that do not decode to UTF-8.
pub fn decode_header_value(raw: &str) -> Result<String, String> {
    if let Some(inner) = raw.strip_prefix(SENTINEL_PREFIX).and_then(|r| r.strip_suffix(SENTINEL_SUFFIX)) {
        let bytes = crate::b64::STANDARD
            .decode(inner)
            .map_err(|e| format!("the Base64 value {raw:?} does not decode ({e})"))?;
        return String::from_utf8(bytes).map_err(|_| format!("the Base64 value {raw:?} is not UTF-8"));
    }
    if raw.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
        Ok(raw.to_string())
    } else {
        Err(format!("{raw:?} contains characters a header value may not carry; send them Base64-encoded"))
    }
}

/// The request headers the transport mirrors from the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct MirroredHeaders<'a> {
    pub protocol_version: Option<&'a str>,
    pub method: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// The body field `Mcp-Name` mirrors for a method.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// The version rules, in the order a dual-era client relies on: a header that disagrees with
/// `_meta` is -32020, then a version this endpoint does not serve is -32022. Returns the version.
pub fn check_version(headers: &MirroredHeaders<'_>, params: Option<&Map<String, Json>>) -> Result<String, ModernError> {
    let header = headers.protocol_version.map(str::trim);
    let claimed = match claimed_version(params) {
        None => None,
        Some(Json::String(v)) => Some(v.as_str()),
        Some(_) => return Err(invalid_meta(format!("{META_PROTOCOL_VERSION} must be a string"))),
    };
    if let (Some(header), Some(claimed)) = (header, claimed) {
        if header != claimed {
            return Err(header_mismatch(format!(
                "MCP-Protocol-Version header value {header:?} does not match body value {claimed:?}"
            )));
        }
    }
    let Some(version) = claimed.or(header) else {
        return Err(invalid_meta(format!("{META_PROTOCOL_VERSION} is required")));
    };
    if !MODERN_VERSIONS.contains(&version) {
        return Err(unsupported_version(version));
    }
    Ok(version.to_string())
}

/// The mirrored headers must be present and equal the body (after Base64 decoding).
pub fn check_headers(
    headers: &MirroredHeaders<'_>,
    method: &str,
    params: Option<&Map<String, Json>>,
) -> Result<(), ModernError> {
    if headers.protocol_version.is_none() {
        return Err(header_mismatch("the MCP-Protocol-Version header is required"));
    }
    match headers.method {
        None => return Err(header_mismatch("the Mcp-Method header is required")),
        Some(value) if value.trim() != method => {
            return Err(header_mismatch(format!(
                "Mcp-Method header value {:?} does not match body value {method:?}",
                value.trim()
            )))
        }
        Some(_) => {}
    }
    let Some(field) = name_field(method) else { return Ok(()) };
    // A body without the field is dispatch's to refuse (-32602); there is nothing to mirror.
    let Some(body_value) = params.and_then(|p| p.get(field)).and_then(Json::as_str) else { return Ok(()) };
    let Some(raw) = headers.name else {
        return Err(header_mismatch(format!("the Mcp-Name header is required for {method} (params.{field})")));
    };
    let decoded = decode_header_value(raw.trim()).map_err(|e| header_mismatch(format!("Mcp-Name {e}")))?;
    if decoded != body_value {
        return Err(header_mismatch(format!(
            "Mcp-Name header value {decoded:?} does not match body value {body_value:?} (params.{field})"
        )));
    }
    Ok(())
}

/// `Mcp-Param-{Name}` headers (streamable-http.mdx, "Custom Headers from Tool Parameters"): each
/// parameter the tool's `inputSchema` marks with `x-mcp-header` whose value is in the arguments
/// must arrive in its header, equal to the value after decoding (numbers compared as numbers).
/// A value that is absent or null needs no header.
pub fn check_param_headers(
    input_schema: &Json,
    arguments: Option<&Json>,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ModernError> {
    let mut declared = Vec::new();
    declared_params(input_schema, arguments, &mut declared);
    for (suffix, value) in declared {
        let expected = match value {
            None | Some(Json::Null) => continue,
            Some(Json::String(s)) => s.clone(),
            Some(Json::Bool(b)) => b.to_string(),
            Some(Json::Number(n)) => n.to_string(),
            // Objects and arrays have no header form; nothing can mirror them.
            Some(_) => continue,
        };
        let name = format!("Mcp-Param-{suffix}");
        let Some(raw) = header(&name) else {
            return Err(header_mismatch(format!("the {name} header is required: the arguments carry its value")));
        };
        let decoded = decode_header_value(raw.trim()).map_err(|e| header_mismatch(format!("{name} {e}")))?;
        let equal = match value {
            Some(Json::Number(n)) => crate::float_text::parse(&decoded) == n.as_f64(),
            _ => decoded == expected,
        };
        if !equal {
            return Err(header_mismatch(format!(
                "{name} header value {decoded:?} does not match body value {expected:?}"
            )));
        }
    }
    Ok(())
}

/// (header suffix, argument value) for every `x-mcp-header` property, nested ones included.
fn declared_params<'a>(schema: &'a Json, value: Option<&'a Json>, out: &mut Vec<(&'a str, Option<&'a Json>)>) {
    let Some(properties) = schema.get("properties").and_then(Json::as_object) else { return };
    for (key, definition) in properties {
        let child = value.and_then(|v| v.get(key));
        if let Some(suffix) = definition.get("x-mcp-header").and_then(Json::as_str) {
            out.push((suffix, child));
        }
        declared_params(definition, child, out);
    }
}

/// What the modern era does with a method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Route {
    Discover,
    /// The long-lived change stream (`http::mcp_listen`).
    Listen,
    /// Served by the same dispatch as the legacy era (`server::handle`).
    Shared,
    NotFound,
}

pub fn route(method: &str) -> Route {
    match method {
        "server/discover" => Route::Discover,
        "subscriptions/listen" => Route::Listen,
        "tools/list"
        | "tools/call"
        | "resources/list"
        | "resources/templates/list"
        | "resources/read"
        | "prompts/list"
        | "prompts/get"
        | "completion/complete" => Route::Shared,
        // initialize, ping, logging/setLevel, resources/(un)subscribe and anything unknown.
        _ => Route::NotFound,
    }
}

pub fn server_info(service: &ServiceConfig) -> Json {
    json!({ "name": SERVER_NAME, "title": format!("dbmcp: {}", service.label), "version": SERVER_VERSION })
}

/// Every revision this endpoint speaks: the stateless ones, then the session ones (`initialize`).
pub fn supported_versions() -> Vec<&'static str> {
    MODERN_VERSIONS.iter().chain(session::SUPPORTED_VERSIONS.iter().rev()).copied().collect()
}

pub fn capabilities() -> Json {
    // No `logging`: this server emits no log notifications. The prompt list changes only with a
    // deploy; the resource list follows the schema, and (with custom tools in the build) the tool
    // list follows the admin API: subscriptions/listen watches both.
    let tools = if cfg!(feature = "query-sql") { json!({ "listChanged": true }) } else { json!({}) };
    json!({ "tools": tools, "resources": { "listChanged": true }, "prompts": {}, "completions": {} })
}

/// The `server/discover` result (before [`decorate`] adds resultType, serverInfo and caching).
pub fn discover(service: &ServiceConfig) -> Json {
    json!({
        "supportedVersions": supported_versions(),
        "capabilities": capabilities(),
        "instructions": server::instructions(service),
    })
}

/// Caching hints for the cacheable methods. Private wherever a credential is needed: a shared
/// cache must not hand one caller's view (a read-only key sees no write tools; schemas are the
/// service's data) to another.
pub fn cache_hint(method: &str, service: &ServiceConfig) -> Option<(u64, &'static str)> {
    let ttl = match method {
        "server/discover" | "tools/list" | "prompts/list" | "resources/templates/list" => LIST_TTL_MS,
        "resources/list" | "resources/read" => SCHEMA_TTL_MS,
        _ => return None,
    };
    let scope = if service.auth == AuthMode::None { "public" } else { "private" };
    Some((ttl, scope))
}

/// Adds what every modern result carries: `resultType` (complete unless the handler said
/// otherwise), `serverInfo` in `_meta`, and caching hints on complete cacheable results.
pub fn decorate(method: &str, mut result: Json, service: &ServiceConfig) -> Json {
    let Json::Object(obj) = &mut result else { return result };
    let result_type = obj.entry("resultType").or_insert_with(|| json!("complete"));
    let complete = result_type == "complete";
    let meta = obj.entry("_meta").or_insert_with(|| json!({}));
    if let Json::Object(meta) = meta {
        meta.insert(META_SERVER_INFO.into(), server_info(service));
    }
    if complete {
        if let Some((ttl, scope)) = cache_hint(method, service) {
            obj.entry("ttlMs").or_insert_with(|| json!(ttl));
            obj.entry("cacheScope").or_insert_with(|| json!(scope));
        }
    }
    result
}

/// The HTTP status of an error from dispatch: in-band (200) except -32021, which HTTP answers
/// with 400 (schema.ts, MissingRequiredClientCapabilityError) whoever raised it.
pub fn http_status(error: &RpcError) -> u16 {
    if error.code == MISSING_REQUIRED_CLIENT_CAPABILITY {
        400
    } else {
        200
    }
}

/// Errors from the shared dispatch, in modern terms: resource not found is -32602 since
/// 2026-07-28 (-32002 is retired), with the same message and data.
pub fn modernize_error(mut error: RpcError) -> RpcError {
    if error.code == RESOURCE_NOT_FOUND {
        error.code = INVALID_PARAMS;
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(auth: AuthMode) -> ServiceConfig {
        ServiceConfig {
            name: "demo".into(),
            label: "Demo".into(),
            description: String::new(),
            database: crate::config::DatabaseConfig::D1 { binding: "DB".into() },
            read_only: true,
            max_rows: 100,
            hidden_tables: vec![],
            routines: crate::config::RoutinePolicy::All,
            max_queries_per_call: 10,
            auth,
            confirm_over_rows: Some(10),
            confirm_writes: false,
            confirm_ttl_seconds: 300,
            listen: Default::default(),
            untrusted_data_marking: true,
            columns: Default::default(),
            rows: Default::default(),
            rate_limits: Default::default(),
            log: Default::default(),
            search: Default::default(),
            query_sql: false,
            custom_tools: vec![],
        }
    }

    fn meta(version: &str) -> Map<String, Json> {
        let value = json!({ "_meta": {
            META_PROTOCOL_VERSION: version,
            META_CLIENT_CAPABILITIES: {},
            META_CLIENT_INFO: { "name": "t", "version": "1" },
        }});
        value.as_object().unwrap().clone()
    }

    fn headers<'a>(version: Option<&'a str>, method: Option<&'a str>, name: Option<&'a str>) -> MirroredHeaders<'a> {
        MirroredHeaders { protocol_version: version, method, name }
    }

    #[test]
    fn decodes_the_base64_sentinel_and_refuses_unsafe_values() {
        assert_eq!(decode_header_value("get_tables").unwrap(), "get_tables");
        // The spec's own examples (streamable-http.mdx, "Value Encoding").
        assert_eq!(decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(), "Hello, 世界");
        assert_eq!(decode_header_value("=?base64?IHBhZGRlZCA=?=").unwrap(), " padded ");
        assert_eq!(decode_header_value("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=").unwrap(), "=?base64?literal?=");
        assert!(decode_header_value("=?base64?not base64!?=").unwrap_err().contains("does not decode"));
        assert!(decode_header_value("=?base64?/w==?=").unwrap_err().contains("not UTF-8"));
        assert!(decode_header_value("caf\u{e9}").is_err());
        assert!(decode_header_value("a\nb").is_err());
        // The markers are case-sensitive: an upper-case prefix is a plain value.
        assert_eq!(decode_header_value("=?BASE64?eA==?=").unwrap(), "=?BASE64?eA==?=");
    }

    #[test]
    fn detects_the_era_from_session_meta_and_header() {
        let modern = json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{META_PROTOCOL_VERSION:"2026-07-28"}}});
        let legacy = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}});
        assert!(is_modern_request(None, None, &modern));
        assert!(!is_modern_request(Some("abc"), Some("2026-07-28"), &modern), "a session id means legacy");
        assert!(!is_modern_request(None, None, &legacy));
        assert!(!is_modern_request(None, Some("2025-11-25"), &legacy));
        assert!(is_modern_request(None, Some("2026-07-28"), &json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})));
        let bare_list = json!({"jsonrpc":"2.0","id":1,"method":"tools/list"});
        assert!(is_modern_request(None, Some("1900-01-01"), &bare_list), "an unknown header version gets -32022");
        assert!(!is_modern_request(None, Some("1900-01-01"), &legacy), "initialize negotiates its own version");
        assert!(is_modern_request(None, None, &json!([legacy.clone(), modern.clone()])), "a batch with modern parts");
        let meta = json!({ META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {} });
        let dual = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","_meta":meta}});
        assert!(!is_modern_request(None, Some("2026-07-28"), &dual), "a real initialize is legacy");
        let bare = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"_meta":meta}});
        assert!(is_modern_request(None, None, &bare), "initialize with only modern _meta gets the modern 404");
        assert!(!is_modern_request(None, None, &json!([legacy])));
        assert!(is_modern_bodyless(None, Some("2026-07-28")));
        assert!(!is_modern_bodyless(Some("s"), Some("2026-07-28")));
        assert!(!is_modern_bodyless(None, Some("2025-11-25")));
        assert!(!is_modern_bodyless(None, None));
    }

    #[test]
    fn version_mismatch_is_checked_before_support() {
        let ok = meta("2026-07-28");
        assert_eq!(check_version(&headers(Some("2026-07-28"), None, None), Some(&ok)).unwrap(), "2026-07-28");
        let e = check_version(&headers(Some("2026-07-28"), None, None), Some(&meta("v999"))).unwrap_err();
        assert_eq!((e.status, e.error.code), (400, HEADER_MISMATCH));
        let e = check_version(&headers(Some("v999"), None, None), Some(&meta("v999"))).unwrap_err();
        assert_eq!((e.status, e.error.code), (400, UNSUPPORTED_PROTOCOL_VERSION));
        assert_eq!(e.error.data, Some(json!({"supported": ["2026-07-28"], "requested": "v999"})));
        // A legacy version sent per request is not served statelessly; the message says how to use it.
        let e = check_version(&headers(None, None, None), Some(&meta("2025-11-25"))).unwrap_err();
        assert_eq!(e.error.code, UNSUPPORTED_PROTOCOL_VERSION);
        assert!(e.error.message.contains("initialize"));
        // No version anywhere: the envelope is malformed.
        let e = check_version(&headers(None, None, None), None).unwrap_err();
        assert_eq!((e.status, e.error.code), (400, INVALID_PARAMS));
    }

    #[test]
    fn parses_meta_and_refuses_missing_fields() {
        let m = parse_meta(Some(&meta("2026-07-28"))).unwrap();
        assert_eq!(m.protocol_version, "2026-07-28");
        assert_eq!(m.log_level, None);
        for params in [
            json!({}),
            json!({"_meta": []}),
            json!({"_meta": {META_CLIENT_CAPABILITIES: {}}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28"}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: []}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}, META_LOG_LEVEL: "loud"}}),
            json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {}, META_CLIENT_INFO: 5}}),
        ] {
            let e = parse_meta(params.as_object()).unwrap_err();
            assert_eq!((e.status, e.error.code), (400, INVALID_PARAMS), "{params}");
        }
        // clientInfo is optional; a log level is read.
        let p = json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28", META_CLIENT_CAPABILITIES: {"sampling": {}}, META_LOG_LEVEL: "debug"}});
        let m = parse_meta(p.as_object()).unwrap();
        assert_eq!(m.log_level.as_deref(), Some("debug"));
        assert!(m.has_capability("sampling") && !m.has_capability("elicitation"));
    }

    #[test]
    fn mirrored_headers_must_match_the_body() {
        let v = Some("2026-07-28");
        let mut call = meta("2026-07-28");
        call.insert("name".into(), json!("get_tables"));
        assert!(check_headers(&headers(v, Some("tools/call"), Some("get_tables")), "tools/call", Some(&call)).is_ok());
        let cases = [
            (headers(None, Some("tools/call"), Some("get_tables")), "MCP-Protocol-Version header is required"),
            (headers(v, None, Some("get_tables")), "Mcp-Method header is required"),
            (headers(v, Some("tools/list"), Some("get_tables")), "Mcp-Method header value \"tools/list\""),
            (headers(v, Some("tools/call"), None), "Mcp-Name header is required"),
            (headers(v, Some("tools/call"), Some("get_table_data")), "does not match body value \"get_tables\""),
            (headers(v, Some("tools/call"), Some("=?base64?!!?=")), "does not decode"),
        ];
        for (h, expected) in cases {
            let e = check_headers(&h, "tools/call", Some(&call)).unwrap_err();
            assert_eq!((e.status, e.error.code), (400, HEADER_MISMATCH));
            assert!(e.error.message.contains(expected), "{} / {expected}", e.error.message);
        }
        // Non-ASCII names arrive Base64-encoded and are compared decoded.
        let mut read = meta("2026-07-28");
        read.insert("uri".into(), json!("dbmcp://demo/tables/ü"));
        let encoded = format!("=?base64?{}?=", crate::b64::STANDARD.encode("dbmcp://demo/tables/ü"));
        assert!(
            check_headers(&headers(v, Some("resources/read"), Some(&encoded)), "resources/read", Some(&read)).is_ok()
        );
        // Methods without a name need no Mcp-Name.
        assert!(check_headers(&headers(v, Some("tools/list"), None), "tools/list", None).is_ok());
    }

    #[test]
    fn param_headers_mirror_declared_arguments() {
        let schema = json!({ "type": "object", "properties": {
            "region": { "type": "string", "x-mcp-header": "Region" },
            "limit": { "type": "integer", "x-mcp-header": "Limit" },
            "filter": { "type": "object", "properties": { "tenant": { "type": "string", "x-mcp-header": "Tenant" } } },
            "query": { "type": "string" },
        } });
        let args = json!({ "region": "us-west1", "limit": 42, "filter": { "tenant": "Zürich" }, "query": "x" });
        let zurich = format!("=?base64?{}?=", crate::b64::STANDARD.encode("Zürich"));
        let check = |region: Option<&str>, limit: Option<&str>, args: &Json| {
            let header = |name: &str| match name {
                "Mcp-Param-Region" => region.map(str::to_string),
                "Mcp-Param-Limit" => limit.map(str::to_string),
                "Mcp-Param-Tenant" => Some(zurich.clone()),
                _ => None,
            };
            check_param_headers(&schema, Some(args), &header)
        };
        assert!(check(Some("us-west1"), Some("42.0"), &args).is_ok(), "numbers compare numerically");
        let e = check(Some("eu-west1"), Some("42"), &args).unwrap_err();
        assert_eq!((e.status, e.error.code), (400, HEADER_MISMATCH));
        assert!(check(None, Some("42"), &args)
            .unwrap_err()
            .error
            .message
            .contains("Mcp-Param-Region header is required"));
        assert!(check(Some("us-west1"), Some("41"), &args).is_err());
        // "Hello" without its Base64 padding is refused, not guessed.
        let hello = json!({ "region": "Hello" });
        assert!(check(Some("=?base64?SGVsbG8?="), None, &hello).is_err());
        assert!(check(Some("=?base64?SGVsbG8=?="), None, &hello).is_ok());
        // A value that is absent or null needs no header; the nested one is still checked.
        let sparse = json!({ "region": null, "filter": { "tenant": "Zürich" } });
        assert!(check(None, None, &sparse).is_ok());
        assert!(check(None, None, &json!({ "filter": { "tenant": "Bern" } })).is_err());
    }

    #[test]
    fn routes_removed_and_unknown_methods_to_404() {
        for m in ["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe", "nope"] {
            assert_eq!(route(m), Route::NotFound, "{m}");
            let e = method_not_found(m);
            assert_eq!((e.status, e.error.code), (404, METHOD_NOT_FOUND));
        }
        assert_eq!(route("server/discover"), Route::Discover);
        assert_eq!(route("tools/call"), Route::Shared);
    }

    #[test]
    fn error_shapes_follow_the_schema() {
        let e = missing_capability(json!({"elicitation": {}}), "confirmation");
        assert_eq!((e.status, e.error.code), (400, MISSING_REQUIRED_CLIENT_CAPABILITY));
        assert_eq!(e.error.data, Some(json!({"requiredCapabilities": {"elicitation": {}}})));
        let not_found = RpcError::new(RESOURCE_NOT_FOUND, "resource not found: x");
        assert_eq!(modernize_error(not_found).code, INVALID_PARAMS);
        assert_eq!(modernize_error(RpcError::internal("x")).code, super::super::jsonrpc::INTERNAL_ERROR);
        assert_eq!(http_status(&e.error), 400);
        assert_eq!(http_status(&RpcError::invalid_params("x")), 200);
    }

    #[test]
    fn discover_lists_every_version_and_results_are_decorated() {
        let s = service(AuthMode::None);
        let d = decorate("server/discover", discover(&s), &s);
        assert_eq!(d["supportedVersions"], json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]));
        assert_eq!(d["resultType"], "complete");
        assert_eq!(d["_meta"][META_SERVER_INFO]["name"], "dbmcp");
        assert_eq!((d["ttlMs"].as_u64(), d["cacheScope"].as_str()), (Some(LIST_TTL_MS), Some("public")));
        assert!(d["instructions"].as_str().unwrap().contains("\"demo\""));
        // A credential-guarded service's answers are private; a tool result carries no hints.
        let keyed = service(AuthMode::Required);
        assert_eq!(decorate("resources/read", json!({"contents": []}), &keyed)["cacheScope"], "private");
        let call = decorate("tools/call", json!({"content": [], "_meta": {"x": 1}}), &keyed);
        assert!(call.get("ttlMs").is_none() && call["_meta"]["x"] == 1 && call["resultType"] == "complete");
        // An interim result keeps its type and is never cacheable.
        let interim = decorate("tools/list", json!({"resultType": "input_required"}), &keyed);
        assert!(interim.get("ttlMs").is_none() && interim["resultType"] == "input_required");
    }
}
