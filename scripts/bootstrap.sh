#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already present:
# the wasm32 target, worker-build, the wasm-bindgen CLI at exactly the version in Cargo.lock,
# and the npm packages (which bring Node 22, wrangler, workerd, binaryen's wasm-opt and esbuild).
# Everything comes from crates.io and the npm registry; nothing is downloaded from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
say() { printf '[bootstrap] %s\n' "$*"; }

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo not found: install Rust with rustup first (https://rustup.rs)"; exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# `worker-build --version` prints the bare version; older releases printed "worker-build X".
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 12 minutes on 2 cores)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $NF}')" != "$BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $BINDGEN_VERSION (about 5 minutes)"
  # Not --locked: its lockfile wants a webpki-roots version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$BINDGEN_VERSION"
fi

if [ ! -x node_modules/.bin/wrangler ] || [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (as pinned by package-lock.json)"
  # Not `npm ci`: it rejects this lockfile over the other platforms' optional workerd binaries
  # nested under wrangler (an npm bug); `npm install` follows the lockfile and leaves it as is.
  npm install --no-audit --no-fund
fi
# A real browser for the sign-in tests (Debian's chromium; browser downloads are not possible).
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    say "installing chromium (Debian package) for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "chromium is missing: install it (e.g. sudo apt-get install chromium) or set CHROMIUM_PATH"
  fi
fi
# The official Python MCP client for one e2e test (tests/python/requirements.txt pins it and every
# dependency); reinstalled only when the pins change.
if ! cmp -s tests/python/requirements.txt .venv-py/requirements.txt 2>/dev/null; then
  say "installing the Python MCP client (PyPI) into .venv-py"
  rm -rf .venv-py
  python3 -m venv .venv-py
  .venv-py/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
  cp tests/python/requirements.txt .venv-py/requirements.txt
fi
say "toolchain ready"
