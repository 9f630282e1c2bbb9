//! Custom tools stored through the admin API (`/admin/services/<s>/tools`), beside the configured
//! ones (see [`super::custom`] for what a tool is and how it is checked and run).
//!
//! Storage: one KV value per service, `custom_tools:<service>` =
//! `{"version": n, "tools": {"<name>": <definition as the configuration writes it>}}`. One value,
//! not one key per tool, so the hot path refreshes a service's tools with one read, and so every
//! change bumps one version: the admin API hands it out as an ETag and refuses a write naming an
//! older one (If-Match, 412). KV has no compare-and-swap, so two writes racing in different
//! locations within KV's propagation delay can still overwrite each other; the version catches
//! the common case (two operators, or one with a stale console tab).
//!
//! Definitions are stored as given and parsed again on load, with the service's dialect, by the
//! same code as the configuration (`custom::parse`). A stored tool that no longer parses, or
//! whose name a configured tool has since taken, is left out of the listing (and shown with its
//! problem by the admin API).
//!
//! The MCP hot path reads them through [`service_with_stored`]: per isolate, a service's merged
//! configuration is reused for [`CACHE_MS`]; this isolate's own admin writes drop it at once.
#![cfg_attr(not(feature = "query-sql"), allow(dead_code, unused_imports))]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::custom::CustomTool;
use crate::auth::KvStore;
use crate::config::{DatabaseConfig, ServiceConfig};
use crate::sql::Dialect;

/// How long one isolate reuses a service's stored tools before reading KV again.
pub const CACHE_MS: u64 = 10_000;
/// The largest definition the admin API accepts (the SQL alone may be 16 KiB).
pub const MAX_DEFINITION_BYTES: usize = 32 * 1024;

pub fn key(service: &str) -> String {
    format!("custom_tools:{service}")
}

/// All of one service's stored tools, with the version of the last change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredTools {
    pub version: u64,
    pub tools: BTreeMap<String, Json>,
}

impl StoredTools {
    pub async fn load(kv: &dyn KvStore, service: &str) -> Result<StoredTools, String> {
        match kv.get(&key(service)).await? {
            None => Ok(StoredTools::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| format!("the stored tools are unreadable: {e}")),
        }
    }

    pub async fn save(&self, kv: &dyn KvStore, service: &str) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        kv.put(&key(service), &text, None).await
    }

    /// The ETag of this version (quoted, as HTTP writes it).
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// Whether an `If-Match` header allows a change of this version (absent: yes).
    pub fn matches(&self, if_match: Option<&str>) -> bool {
        match if_match.map(str::trim) {
            None | Some("*") => true,
            Some(tags) => {
                tags.split(',').any(|t| t.trim().trim_start_matches("W/").trim_matches('"') == self.version.to_string())
            }
        }
    }
}

pub fn dialect(service: &ServiceConfig) -> Dialect {
    match service.database {
        DatabaseConfig::D1 { .. } => Dialect::Sqlite,
        DatabaseConfig::Postgres { .. } => Dialect::Postgres,
    }
}

/// Why `name` cannot be an admin tool of `service` (a built-in or a configured tool has it).
pub fn clash(service: &ServiceConfig, name: &str) -> Option<String> {
    if super::find(name).is_some() || name == "query_sql" {
        return Some(format!("{name:?} is the name of a built-in tool; choose another name"));
    }
    if service.custom_tools.iter().any(|t| t.name == name) {
        return Some(format!(
            "{name:?} is a tool of this service's configuration, which the admin API cannot change; \
             choose another name or edit the configuration"
        ));
    }
    None
}

/// Checks one definition as the configuration would (every problem listed).
#[cfg(feature = "query-sql")]
pub fn check(service: &ServiceConfig, name: &str, definition: &Json) -> Result<CustomTool, Vec<String>> {
    let mut one = serde_json::Map::new();
    one.insert(name.to_string(), definition.clone());
    let prefix = format!("tools.{name}: ");
    let mut tools = super::custom::parse(&Json::Object(one), dialect(service)).map_err(|problems| {
        problems.into_iter().map(|p| p.strip_prefix(&prefix).map(str::to_string).unwrap_or(p)).collect::<Vec<_>>()
    })?;
    let tool = tools.pop().ok_or_else(|| vec![format!("{name:?}: not a tool definition")])?;
    // A tool that writes on a read-only service, refused as in the configuration.
    let problems = super::custom::service_problems(&service.name, service.read_only, std::slice::from_ref(&tool));
    if !problems.is_empty() {
        return Err(problems.into_iter().map(|p| p.strip_prefix(&prefix).map(str::to_string).unwrap_or(p)).collect());
    }
    Ok(tool)
}

/// The stored tools that can be listed, in name order: each parsed, none shadowing a configured
/// or built-in tool. The others with why, for the admin API.
#[cfg(feature = "query-sql")]
pub fn parse_stored(service: &ServiceConfig, stored: &StoredTools) -> (Vec<CustomTool>, BTreeMap<String, String>) {
    let mut tools = Vec::new();
    let mut problems = BTreeMap::new();
    for (name, definition) in &stored.tools {
        if let Some(why) = clash(service, name) {
            problems.insert(name.clone(), why);
            continue;
        }
        match check(service, name, definition) {
            Ok(tool) => tools.push(tool),
            Err(why) => {
                problems.insert(name.clone(), why.join("; "));
            }
        }
    }
    (tools, problems)
}

/// The service with its stored tools after the configured ones; `None` when it has none.
#[cfg(feature = "query-sql")]
pub fn merge(service: &ServiceConfig, stored: &StoredTools) -> Option<ServiceConfig> {
    let (tools, _) = parse_stored(service, stored);
    if tools.is_empty() {
        return None;
    }
    let mut merged = service.clone();
    merged.custom_tools.extend(tools);
    Some(merged)
}

/// Checks a parsed tool's SQL against the service's schema now, as a call would (hidden tables
/// and columns, row policies, functions), so a mistake is an admin API error rather than a
/// failing tool.
#[cfg(feature = "query-sql")]
pub async fn check_against_schema(ctx: &super::ToolContext<'_>, tool: &CustomTool) -> Result<(), String> {
    use crate::sql::readonly::{self, Visibility};
    let schema = ctx.schema().await.map_err(|e| e.0)?;
    let params_needed = if tool.write.is_some() {
        let visibility = Visibility::of_service(&schema, ctx.service, &super::custom::write_table_allowed);
        crate::sql::write_check::validate(ctx.db.dialect(), &tool.sql, &visibility)
            .map_err(|e| format!("sql: {e}"))?
            .params_needed
    } else {
        let visibility = Visibility::of_service(&schema, ctx.service, &super::query_sql::table_allowed);
        readonly::validate(ctx.db.dialect(), &tool.sql, &visibility, ctx.service.max_rows + 1)
            .map_err(|e| format!("sql: {e}"))?
            .params_needed
    };
    if params_needed != tool.binds.len() {
        return Err("sql: its placeholders and the parameters disagree".into());
    }
    Ok(())
}

/// The service's enabled custom tools (none without the feature).
fn enabled_tools(service: &ServiceConfig) -> impl Iterator<Item = &CustomTool> + '_ {
    service.custom_tools.iter().filter(|t| cfg!(feature = "query-sql") && t.enabled)
}

/// A digest of the enabled custom tools of `service` (names, schemas, descriptions):
/// what `notifications/tools/list_changed` watches. The built-ins change only with a deploy.
pub fn fingerprint(service: &ServiceConfig) -> String {
    // Every enabled custom tool, whoever may call it (a change to a tool only writing callers see
    // tells read-only listeners too: they list again and find nothing new).
    let listed: Vec<Json> = enabled_tools(service).map(CustomTool::to_json).collect();
    crate::auth::sha256_hex(&Json::Array(listed).to_string())
}

/// What `subscriptions/listen` reads for `toolsListChanged`: the listed custom tools of a
/// service, through the per-isolate copy of its stored tools.
pub struct StoredToolWatch<'a> {
    /// The configured service (without stored tools: they are merged in on each read).
    pub configured: &'a ServiceConfig,
    pub kv: &'a dyn KvStore,
}

impl crate::mcp::subscriptions::ToolWatch for StoredToolWatch<'_> {
    fn fingerprint(&self, now_ms: u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + '_>> {
        Box::pin(async move {
            let merged = service_with_stored(self.configured, self.kv, now_ms).await;
            #[allow(unused_mut)]
            let mut print = fingerprint(merged.as_deref().unwrap_or(self.configured));
            // Test builds: the conformance suite's hook that changes the tool list.
            #[cfg(feature = "conformance-fixtures")]
            print.push_str(&format!(":{}", crate::mcp::fixtures::tool_list_changes()));
            print
        })
    }
}

struct Cached {
    /// The configuration the entry was built from (one per isolate at the edge; tests make many).
    base: *const ServiceConfig,
    loaded_ms: u64,
    merged: Option<Rc<ServiceConfig>>,
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

/// Drops this isolate's copy of a service's stored tools (after an admin change here).
pub fn forget(service: &str) {
    CACHE.with(|c| c.borrow_mut().remove(service));
}

/// `service` with its stored tools merged in, `None` when it has none (use it as it is). Reads
/// KV at most once per [`CACHE_MS`] per service and isolate; when KV fails, the last copy (or
/// the configured tools alone) serves until the next try.
pub async fn service_with_stored(service: &ServiceConfig, kv: &dyn KvStore, now_ms: u64) -> Option<Rc<ServiceConfig>> {
    #[cfg(not(feature = "query-sql"))]
    {
        let _ = (service, kv, now_ms);
        None
    }
    #[cfg(feature = "query-sql")]
    {
        let base = service as *const ServiceConfig;
        let fresh = CACHE.with(|c| {
            c.borrow().get(&service.name).filter(|e| e.base == base).and_then(|e| {
                (now_ms.saturating_sub(e.loaded_ms) < CACHE_MS && now_ms >= e.loaded_ms).then(|| e.merged.clone())
            })
        });
        if let Some(merged) = fresh {
            return merged;
        }
        let merged = match StoredTools::load(kv, &service.name).await {
            Ok(stored) => merge(service, &stored).map(Rc::new),
            Err(_) => {
                CACHE.with(|c| c.borrow().get(&service.name).filter(|e| e.base == base).and_then(|e| e.merged.clone()))
            }
        };
        CACHE.with(|c| {
            c.borrow_mut().insert(service.name.clone(), Cached { base, loaded_ms: now_ms, merged: merged.clone() })
        });
        merged
    }
}

/// One tool as the admin API lists it.
pub fn describe_configured(tool: &CustomTool) -> Json {
    let listed = tool.to_json();
    let binds: Vec<String> = tool
        .binds
        .iter()
        .map(|b| match b {
            super::custom::Bind::Argument(name) => format!(":{name}"),
            super::custom::Bind::Caller(attr) => format!(":user.{attr}"),
        })
        .collect();
    json!({
        "name": tool.name,
        "source": "config",
        "enabled": tool.enabled,
        "title": tool.title,
        "writes": listed["annotations"]["readOnlyHint"] == Json::Bool(false),
        "definition": {
            "title": tool.title,
            "description": tool.description,
            // As checked: the named placeholders are numbered; `binds` says what each one is.
            "sql": tool.sql,
            "binds": binds,
            "parameters": listed["inputSchema"]["properties"],
            "required": tool.required,
            "enabled": tool.enabled,
        },
    })
}

pub fn describe_stored(name: &str, definition: &Json, problem: Option<&String>) -> Json {
    let enabled = definition.get("enabled").and_then(Json::as_bool).unwrap_or(true);
    let title = definition.get("title").and_then(Json::as_str).filter(|t| !t.trim().is_empty()).unwrap_or(name);
    let mut out = json!({
        "name": name,
        "source": "admin",
        "enabled": enabled,
        "title": title,
        "writes": definition.get("writes").and_then(Json::as_bool).unwrap_or(false),
        "definition": definition,
    });
    if let Some(problem) = problem {
        out["problem"] = json!(problem);
    }
    out
}

#[cfg(all(test, feature = "query-sql"))]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::cell::Cell;

    #[derive(Default)]
    struct MemoryKv {
        values: RefCell<BTreeMap<String, String>>,
        reads: Cell<usize>,
        fail: Cell<bool>,
    }

    #[async_trait(?Send)]
    impl KvStore for MemoryKv {
        async fn get(&self, key: &str) -> Result<Option<String>, String> {
            self.reads.set(self.reads.get() + 1);
            if self.fail.get() {
                return Err("KV is down".into());
            }
            Ok(self.values.borrow().get(key).cloned())
        }
        async fn put(&self, key: &str, value: &str, _: Option<Json>) -> Result<(), String> {
            self.values.borrow_mut().insert(key.into(), value.into());
            Ok(())
        }
        async fn delete(&self, key: &str) -> Result<(), String> {
            self.values.borrow_mut().remove(key);
            Ok(())
        }
        async fn list(&self, _: &str) -> Result<Vec<(String, Option<Json>)>, String> {
            Ok(vec![])
        }
    }

    fn service() -> ServiceConfig {
        let services = json!({ "svc": { "database": { "kind": "d1", "binding": "DB" }, "tools": {
            "configured": { "description": "From the configuration.", "sql": "SELECT 1 AS one" }
        } } });
        let config = crate::config::parse(crate::config::RawConfig {
            services: Some(&services),
            session_idle_seconds: None,
            allowed_origins: None,
            mask_secret: None,
        })
        .unwrap();
        config.service("svc").unwrap().clone()
    }

    fn stored(tools: Json) -> StoredTools {
        StoredTools { version: 3, tools: serde_json::from_value(tools).unwrap() }
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        futures_executor::block_on(f)
    }

    #[test]
    fn a_definition_is_checked_by_the_configuration_code_with_every_problem() {
        let s = service();
        let ok = check(
            &s,
            "by_country",
            &json!({ "description": "d", "sql": "SELECT id FROM customers WHERE country = :c",
            "parameters": { "c": { "type": "string" } }, "required": ["c"] }),
        )
        .unwrap();
        assert_eq!(ok.sql, "SELECT id FROM customers WHERE country = ?1");
        let problems = check(
            &s,
            "bad",
            &json!({ "description": "d", "sql": "SELECT :a, :b",
            "parameters": { "a": { "type": "string" }, "z": { "type": "integer" } }, "required": ["q"] }),
        )
        .unwrap_err();
        assert!(problems.iter().any(|p| p == "required: \"q\" is not a declared parameter"), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("uses :b")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("parameters.z: declared but not used")), "{problems:?}");
        let write = check(&s, "w", &json!({ "description": "d", "sql": "DELETE FROM customers" })).unwrap_err();
        assert!(write[0].starts_with("sql:"), "{write:?}");
    }

    #[test]
    fn names_of_built_ins_and_configured_tools_clash() {
        let s = service();
        assert!(clash(&s, "get_tables").unwrap().contains("built-in"));
        assert!(clash(&s, "query_sql").unwrap().contains("built-in"));
        assert!(clash(&s, "configured").unwrap().contains("configuration"));
        assert_eq!(clash(&s, "new_one"), None);
    }

    #[test]
    fn stored_tools_follow_the_configured_ones_and_bad_or_shadowed_ones_are_left_out() {
        let s = service();
        let st = stored(json!({
            "b_tool": { "description": "B", "sql": "SELECT 2 AS two" },
            "a_tool": { "description": "A", "sql": "SELECT 1 AS one", "enabled": false },
            "configured": { "description": "shadowed", "sql": "SELECT 3" },
            "broken": { "description": "no sql" },
        }));
        let merged = merge(&s, &st).unwrap();
        let names: Vec<&str> = merged.custom_tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["configured", "a_tool", "b_tool"]);
        let listed: Vec<&str> = enabled_tools(&merged).map(|t| t.name.as_str()).collect();
        assert_eq!(listed, ["configured", "b_tool"], "a disabled tool is not listed");
        let (_, problems) = parse_stored(&s, &st);
        assert!(problems["configured"].contains("configuration"));
        assert!(problems["broken"].contains("sql: missing"));
        assert_eq!(merge(&s, &StoredTools::default()), None);
    }

    #[test]
    fn the_fingerprint_follows_the_listed_tools_only() {
        let s = service();
        let base = fingerprint(&s);
        let on = merge(&s, &stored(json!({ "t": { "description": "T", "sql": "SELECT 1 AS one" } }))).unwrap();
        let off =
            merge(&s, &stored(json!({ "t": { "description": "T", "sql": "SELECT 1 AS one", "enabled": false } })))
                .unwrap();
        let edited = merge(&s, &stored(json!({ "t": { "description": "T2", "sql": "SELECT 1 AS one" } }))).unwrap();
        assert_ne!(fingerprint(&on), base);
        assert_eq!(fingerprint(&off), base, "a disabled tool changes nothing listed");
        assert_ne!(fingerprint(&edited), fingerprint(&on));
    }

    #[test]
    fn if_match_names_the_current_version_or_anything() {
        let st = stored(json!({}));
        assert_eq!(st.etag(), "\"3\"");
        assert!(st.matches(None) && st.matches(Some("*")) && st.matches(Some("\"3\"")) && st.matches(Some("W/\"3\"")));
        assert!(st.matches(Some("\"1\", \"3\"")));
        assert!(!st.matches(Some("\"2\"")) && !st.matches(Some("3x")));
    }

    #[test]
    fn the_hot_path_reads_kv_once_per_bound_and_keeps_the_last_copy_when_kv_fails() {
        let s = service();
        let kv = MemoryKv::default();
        block(stored(json!({ "t": { "description": "T", "sql": "SELECT 1 AS one" } })).save(&kv, "svc")).unwrap();
        forget("svc");
        let first = block(service_with_stored(&s, &kv, 1_000)).unwrap();
        assert_eq!(first.custom_tools.len(), 2);
        assert_eq!(kv.reads.get(), 1);
        for now in [1_001, 5_000, 1_000 + CACHE_MS - 1] {
            assert!(block(service_with_stored(&s, &kv, now)).is_some());
        }
        assert_eq!(kv.reads.get(), 1, "within the bound: no read");
        // A change elsewhere shows after the bound.
        block(StoredTools::default().save(&kv, "svc")).unwrap();
        assert!(block(service_with_stored(&s, &kv, 1_000 + CACHE_MS)).is_none());
        assert_eq!(kv.reads.get(), 2);
        // KV down: the last copy serves.
        block(stored(json!({ "u": { "description": "U", "sql": "SELECT 1 AS one" } })).save(&kv, "svc")).unwrap();
        forget("svc");
        assert!(block(service_with_stored(&s, &kv, 50_000)).is_some());
        kv.fail.set(true);
        let kept = block(service_with_stored(&s, &kv, 50_000 + CACHE_MS)).unwrap();
        assert_eq!(kept.custom_tools.last().unwrap().name, "u");
        // This isolate's own write is seen at once.
        kv.fail.set(false);
        block(StoredTools::default().save(&kv, "svc")).unwrap();
        forget("svc");
        assert!(block(service_with_stored(&s, &kv, 50_000 + CACHE_MS + 1)).is_none());
    }
}
