//! Fetches Client ID Metadata Documents with the Workers `fetch`: GET, redirects returned rather
//! than followed, the body read chunk by chunk and dropped past the cap, the whole exchange
//! aborted at the deadline. Which URLs may be fetched, and what the answer must be, is decided in
//! `crate::oauth::cimd`.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{AbortController, AbortSignal, Delay, Fetch, Headers};

use super::outgoing::{self, Outgoing};

use crate::oauth::cimd::{DocumentFetcher, FetchError, FetchedDocument};

pub struct WorkerFetcher;

fn failed(e: impl std::fmt::Display) -> FetchError {
    FetchError::Failed(e.to_string())
}

async fn fetch_capped(url: &str, max_bytes: usize, signal: &AbortSignal) -> Result<FetchedDocument, FetchError> {
    let headers = Headers::new();
    headers.set("accept", "application/json").map_err(failed)?;
    headers.set("user-agent", "dbmcp (OAuth client metadata fetch)").map_err(failed)?;
    let with = Outgoing { headers: Some(&headers), manual_redirect: true, ..Default::default() };
    let request = outgoing::request("GET", url, with).map_err(failed)?;
    let mut response = Fetch::Request(request).send_with_signal(signal).await.map_err(failed)?;
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let declared = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return Err(FetchError::TooLarge);
    }
    let (cache_control, age) = (header("cache-control"), header("age"));
    let status = response.status_code();
    let mut body = Vec::new();
    // A response without a body is not a stream.
    if let Ok(mut stream) = response.stream() {
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(failed)?);
            if body.len() > max_bytes {
                return Err(FetchError::TooLarge);
            }
        }
    }
    Ok(FetchedDocument { status, cache_control, age, body })
}

#[async_trait(?Send)]
impl DocumentFetcher for WorkerFetcher {
    async fn fetch(&self, url: &str, max_bytes: usize, timeout_ms: u64) -> Result<FetchedDocument, FetchError> {
        let controller = AbortController::default();
        let signal = controller.signal();
        let result = {
            let fetching = Box::pin(fetch_capped(url, max_bytes, &signal));
            let deadline = Delay::from(Duration::from_millis(timeout_ms));
            match select(fetching, deadline).await {
                Either::Left((result, _)) => result,
                Either::Right(_) => Err(FetchError::TimedOut),
            }
        };
        // Whatever ended the exchange (deadline, cap, error), nothing more is read or waited for.
        if result.is_err() {
            controller.abort();
        }
        result
    }
}
