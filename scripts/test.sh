#!/usr/bin/env bash
# `npm test`: everything, in order: toolchain, native Rust tests, wasm build, end-to-end tests in
# Miniflare (real D1, KV, Durable Objects; the official MCP SDK client), MCP conformance suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 22 from node_modules (wrangler and miniflare need it) ahead of the system Node.
export PATH="$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
NODE="$PWD/node_modules/.bin/node"

bash scripts/bootstrap.sh

echo "== cargo test (native core)"
cargo test --locked

echo "== build (wasm)"
bash scripts/build.sh

echo "== end-to-end (Miniflare)"
"$NODE" --test --test-concurrency=1 --test-timeout=120000 'tests/e2e/*.test.mjs'

echo "== MCP conformance (server, 2025-11-25)"
"$NODE" scripts/conformance.mjs
