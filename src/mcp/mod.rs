//! The Model Context Protocol: messages, sessions and method dispatch, free of any transport.

pub mod batch;
pub mod completion;
// Test builds only (`npm run build:conformance`); compiled for `cargo test` so it stays checked.
#[cfg(any(test, feature = "conformance-fixtures"))]
pub mod fixtures;
pub mod jsonrpc;
pub mod modern;
pub mod progress;
pub mod prompts;
pub mod resources;
pub mod server;
pub mod session;
pub mod strict_json;
pub mod subscriptions;
pub mod untrusted;
