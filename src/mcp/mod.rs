//! The Model Context Protocol: messages, sessions and method dispatch, free of any transport.

pub mod batch;
pub mod completion;
pub mod jsonrpc;
pub mod prompts;
pub mod resources;
pub mod server;
pub mod session;
pub mod strict_json;
pub mod wire;
