//! The `ASSETS` binding (Workers Static Assets, `[assets]` in wrangler.toml): the console page's
//! files, read by path. Which file a URL names and its headers are decided in `http::console::files`.

use async_trait::async_trait;
use worker::{Env, Fetcher};

use crate::http::StaticAssets;

pub struct Assets(Fetcher);

impl Assets {
    /// The binding; `None` when the deployment has none (`/admin` then answers 503 saying so).
    pub fn bound(env: &Env) -> Option<Self> {
        env.assets("ASSETS").ok().map(Assets)
    }
}

#[async_trait(?Send)]
impl StaticAssets for Assets {
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        // The binding serves by path; the host is ignored.
        let request = super::outgoing::request("GET", &format!("https://assets.invalid{path}"), Default::default())
            .map_err(|e| e.to_string())?;
        let mut response = self.0.fetch_request(request).await.map_err(|e| e.to_string())?;
        match response.status_code() {
            200 => response.bytes().await.map(Some).map_err(|e| e.to_string()),
            404 => Ok(None),
            status => Err(format!("the assets binding answered {status} for {path}")),
        }
    }
}
