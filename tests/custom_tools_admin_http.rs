//! The custom-tools admin routes through the whole HTTP core (`http::handle`, natively): the admin
//! token, the answers of each route, and the route hook that merges stored tools into
//! `/mcp/<service>` (a 2026-07-28 `tools/list` and `tools/call` on the real demo database). Without
//! the `query-sql` feature the routes answer 501 naming it.

mod common;

use std::rc::Rc;

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use common::*;
use dbmcp::auth::MemoryKv;
use dbmcp::config::{self, Config, RawConfig, ServiceConfig};
use dbmcp::db::Database;
use dbmcp::http::{self, DatabaseOpener, Env, HttpRequest, HttpResponse, SessionStore};
use dbmcp::mcp::session::Session;
use dbmcp::tools::SchemaCache;

const TOKEN: &str = "admin-token-for-tests-0123456789";

/// The 2026-07-28 requests used here need no session.
struct NoSessions;

#[async_trait(?Send)]
impl SessionStore for NoSessions {
    async fn create(&self, _: &Session, _: u64) -> Result<(), String> {
        Err("no sessions in this test".into())
    }
    async fn touch(&self, _: &str, _: u64) -> Result<Option<Session>, String> {
        Ok(None)
    }
    async fn save(&self, _: &Session) -> Result<(), String> {
        Ok(())
    }
    async fn delete(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

struct Demo(Rc<Sqlite>);

impl DatabaseOpener for Demo {
    fn open(&self, _: &ServiceConfig, _: bool, _: &str) -> Result<Rc<dyn Database>, String> {
        Ok(self.0.clone() as Rc<dyn Database>)
    }
}

struct World {
    config: Config,
    kv: MemoryKv,
    opener: Demo,
    cache: SchemaCache,
}

impl World {
    fn new() -> World {
        let services = json!({ "shop": { "database": { "kind": "d1", "binding": "DB" }, "auth": "none",
            "max_rows": 50, "hidden_tables": ["big_numbers"] } });
        let config = config::parse(RawConfig {
            services: Some(&services),
            session_idle_seconds: None,
            allowed_origins: None,
            mask_secret: None,
        })
        .unwrap();
        World { config, kv: MemoryKv::default(), opener: Demo(Rc::new(demo_db())), cache: SchemaCache::default() }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Json>,
    ) -> (u16, Json, HttpResponse) {
        let env = Env {
            admin_token: Some(TOKEN.into()),
            ..Env::required(Ok(&self.config), &NoSessions, &self.kv, &self.opener, &self.cache, 1_000_000)
        };
        let request = HttpRequest {
            method: method.into(),
            origin: "https://db.example.com".into(),
            path: path.into(),
            query: String::new(),
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        };
        let response = futures_executor::block_on(http::handle(request, &env));
        let json = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
        (response.status, json, response)
    }

    fn admin(&self, method: &str, name: &str, body: Option<Json>, extra: &[(&str, &str)]) -> (u16, Json, HttpResponse) {
        let bearer = format!("Bearer {TOKEN}");
        let mut headers = vec![("authorization", bearer.as_str()), ("content-type", "application/json")];
        headers.extend_from_slice(extra);
        let path = if name.is_empty() {
            "/admin/services/shop/tools".to_string()
        } else {
            format!("/admin/services/shop/tools/{name}")
        };
        self.send(method, &path, &headers, body)
    }

    /// A 2026-07-28 request to `/mcp/shop`: the JSON-RPC result. The clock stands still, so the
    /// stored tools it sees after an admin change are there because the change dropped the
    /// isolate's copy, not because the copy aged out.
    #[cfg_attr(not(feature = "query-sql"), allow(dead_code))]
    fn mcp(&self, method: &str, params: Json) -> Json {
        let mut params = params;
        params["_meta"] = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                  "io.modelcontextprotocol/clientCapabilities": {} });
        let name = params.get("name").and_then(Json::as_str).map(str::to_string);
        let mut headers = vec![
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", method),
        ];
        if let Some(name) = &name {
            headers.push(("mcp-name", name));
        }
        let (status, body, _) = self.send(
            "POST",
            "/mcp/shop",
            &headers,
            Some(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })),
        );
        assert_eq!(status, 200, "{body}");
        body
    }
}

#[cfg(not(feature = "query-sql"))]
#[test]
fn without_the_feature_every_route_names_it() {
    let world = World::new();
    for (method, name) in [("GET", ""), ("PUT", "t"), ("DELETE", "t")] {
        let (status, body, _) = world.admin(method, name, Some(json!({ "description": "d", "sql": "SELECT 1" })), &[]);
        assert_eq!(status, 501, "{method} {body}");
        assert!(body["error_description"].as_str().unwrap().contains("query-sql"), "{body}");
    }
    let (status, _, _) = world.send("GET", "/admin/services/shop/tools", &[], None);
    assert_eq!(status, 401, "the admin credential comes first");
}

#[cfg(feature = "query-sql")]
#[test]
fn the_routes_answer_as_documented_and_mcp_sees_the_stored_tools() {
    let world = World::new();
    let (status, _, _) = world.send("GET", "/admin/services/shop/tools", &[], None);
    assert_eq!(status, 401);
    let (status, _, _) = world.send(
        "PUT",
        "/admin/services/shop/tools/t",
        &[("authorization", "Bearer wrong"), ("content-type", "application/json")],
        Some(json!({ "description": "d", "sql": "SELECT 1" })),
    );
    assert_eq!(status, 401);
    assert_eq!(world.admin("GET", "", None, &[]).1, json!({ "service": "shop", "version": 0, "tools": [] }));

    let definition = json!({ "description": "Customers of a country.",
        "sql": "SELECT name FROM customers WHERE country = :country ORDER BY id",
        "parameters": { "country": { "type": "string" } }, "required": ["country"] });
    let (status, body, response) = world.admin("PUT", "by_country", Some(definition.clone()), &[]);
    assert_eq!(status, 201, "{body}");
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!(body["definition"], definition);

    // The MCP route merges it in (2026-07-28, stateless).
    let list = world.mcp("tools/list", json!({}));
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.last(), Some(&"by_country"), "{names:?}");
    let call = world.mcp("tools/call", json!({ "name": "by_country", "arguments": { "country": "USA" } }));
    assert_eq!(call["result"]["isError"], false, "{call}");
    assert!(!call["result"]["structuredContent"]["records"].as_array().unwrap().is_empty());

    // Replaced (200), then a stale version refused (412), then disabled and gone from MCP.
    let (status, body, _) = world.admin("PUT", "by_country", Some(definition.clone()), &[("if-match", "\"1\"")]);
    assert_eq!((status, body["version"].clone()), (200, json!(2)));
    let (status, body, response) = world.admin("PUT", "by_country", Some(definition.clone()), &[("if-match", "\"1\"")]);
    assert_eq!(status, 412, "{body}");
    assert_eq!(response.header("etag"), Some("\"2\""));
    let (status, body, _) = world.admin("PATCH", "by_country", Some(json!({ "enabled": false })), &[]);
    assert_eq!((status, body["enabled"].clone()), (200, json!(false)));
    let list = world.mcp("tools/list", json!({}));
    assert!(!list.to_string().contains("by_country"));
    let call = world.mcp("tools/call", json!({ "name": "by_country", "arguments": { "country": "USA" } }));
    assert!(call["error"]["message"].as_str().unwrap().contains("unknown tool \"by_country\""), "{call}");

    // Refusals: every problem listed (400), names taken (409), the hidden table (400), size (413).
    let (status, body, _) = world.admin(
        "PUT",
        "bad",
        Some(json!({ "description": "d", "sql": "SELECT :a, :b",
        "parameters": { "a": { "type": "string" }, "z": { "type": "string" } } })),
        &[],
    );
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_tool");
    assert!(body["problems"].as_array().unwrap().len() >= 2, "{body}");
    let (status, body, _) =
        world.admin("PUT", "get_tables", Some(json!({ "description": "d", "sql": "SELECT 1" })), &[]);
    assert_eq!(status, 409, "{body}");
    let (status, body, _) =
        world.admin("PUT", "peek", Some(json!({ "description": "d", "sql": "SELECT * FROM big_numbers" })), &[]);
    assert_eq!(status, 400, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("big_numbers"), "{body}");
    let huge = json!({ "description": "x".repeat(40_000), "sql": "SELECT 1" });
    assert_eq!(world.admin("PUT", "huge", Some(huge), &[]).0, 413);
    let (status, _, _) = world.admin("POST", "", Some(json!({})), &[]);
    assert_eq!(status, 405);

    // Deleted (204), then 404.
    assert_eq!(world.admin("DELETE", "by_country", None, &[]).0, 204);
    assert_eq!(world.admin("DELETE", "by_country", None, &[]).0, 404);
    assert_eq!(world.admin("GET", "by_country", None, &[]).0, 404);
    let (_, body, _) = world.admin("GET", "", None, &[]);
    assert_eq!(body["tools"], json!([]));
    assert_eq!(body["version"], 4);
}
