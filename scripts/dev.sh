#!/usr/bin/env bash
# `npm run dev`: set up everything and serve the worker at http://127.0.0.1:8787.
#  1. toolchain (skipped when present)   2. .dev.vars with a random ADMIN_TOKEN (when missing)
#  3. local D1 migrations (demo data)    4. wrangler dev (builds the wasm first)
#  5. once /health answers: the MCP URL and how to get an API key, or the configuration errors.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 22 from node_modules (wrangler and miniflare need it) ahead of the system Node.
export PATH="$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
PORT="${PORT:-8787}"
WRANGLER="$PWD/node_modules/.bin/wrangler"
NODE="$PWD/node_modules/.bin/node"

bash scripts/bootstrap.sh

if [ ! -f .dev.vars ] || ! grep -q '^ADMIN_TOKEN=' .dev.vars; then
  token=$("$NODE" -e "console.log(require('crypto').randomBytes(24).toString('base64url'))")
  echo "ADMIN_TOKEN=$token" >> .dev.vars
  echo "[dev] created .dev.vars with a random ADMIN_TOKEN"
fi
ADMIN_TOKEN=$(grep '^ADMIN_TOKEN=' .dev.vars | head -1 | cut -d= -f2-)

echo "[dev] applying D1 migrations locally (demo data)"
"$WRANGLER" d1 migrations apply DB --local

"$WRANGLER" dev --ip 127.0.0.1 --port "$PORT" &
WRANGLER_PID=$!
trap 'kill "$WRANGLER_PID" 2>/dev/null || true' EXIT INT TERM

# Wait (bounded: 10 minutes covers a first wasm build) for the worker, then report.
"$NODE" scripts/dev-banner.mjs "http://127.0.0.1:$PORT" "$ADMIN_TOKEN" 600 || true
wait "$WRANGLER_PID"
