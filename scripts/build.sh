#!/usr/bin/env bash
# Builds the worker into build/ (index.js, index_bg.wasm, worker/shim.mjs) with worker-build,
# pointing it at local tools so it never tries to download wasm-bindgen or wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 22 from node_modules (wrangler and miniflare need it) ahead of the system Node.
export PATH="$PWD/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
worker-build --release "$@"
# The wasm's function-name section is ~80 KiB gzip of a 640 KiB budget (see the script).
out_dir=build
if [ "${1:-}" = "--out-dir" ]; then out_dir="$2"; fi
node scripts/strip-names.mjs "$out_dir/index_bg.wasm"
