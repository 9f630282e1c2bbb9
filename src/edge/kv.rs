//! Workers KV behind the core's `KvStore` trait. A missing binding surfaces as an error on use,
//! not a panic, so the health check and every request can report it.

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::auth::KvStore;

/// The `DBMCP_KV` namespace, looked up when a request uses it: most use none (keys and sessions
/// are remembered per isolate).
pub struct Kv<'a>(pub &'a worker::Env);

impl Kv<'_> {
    fn store(&self) -> Result<worker::KvStore, String> {
        super::kv_store(self.0)
    }
}

#[async_trait(?Send)]
impl KvStore for Kv<'_> {
    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.store()?.get(key).text().await.map_err(|e| e.to_string())
    }

    async fn put(&self, key: &str, value: &str, metadata: Option<Json>) -> Result<(), String> {
        let mut put = self.store()?.put(key, value).map_err(|e| e.to_string())?;
        if let Some(metadata) = metadata {
            put = put.metadata(metadata).map_err(|e| e.to_string())?;
        }
        put.execute().await.map_err(|e| e.to_string())
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        self.store()?.delete(key).await.map_err(|e| e.to_string())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, Option<Json>)>, String> {
        let store = self.store()?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        // KV lists 1000 keys a page; a service with more keys than 10 pages is not expected.
        for _ in 0..10 {
            let mut list = store.list().prefix(prefix.to_string());
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await.map_err(|e| e.to_string())?;
            out.extend(page.keys.into_iter().map(|k| (k.name, k.metadata)));
            match page.cursor {
                Some(c) if !page.list_complete => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }
}
