// Starts the built worker (build/index.js) in Miniflare with real D1, KV and Durable Objects,
// the demo database migrated in, and returns its URL. Used by every end-to-end test.
//
//   const w = await startWorker({ services: {...}, persistDir, idleSeconds });
//   ... fetch(`${w.url}/mcp/demo`) ...
//   await w.stop();

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Miniflare } from 'miniflare';
import { parse as parseToml } from 'smol-toml';
import { applyD1Migrations } from './migrations.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** OAUTH_SIGNING_KEY of test workers: `kid:seed` (32 bytes 0..31, base64url). Tests may forge tokens with it. */
export const OAUTH_SIGNING_KEY = 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';
/** MASK_KEY of test workers: the secret `hash` column masks are keyed with. */
export const MASK_KEY = 'test-mask-secret-0123456789abcdef';

/** The Durable Object bindings of wrangler.toml, for Miniflare. */
export const DURABLE_OBJECTS = {
  MCP_SESSIONS: { className: 'McpSession', useSQLite: true },
  OAUTH_GRANTS: { className: 'OAuthGrants', useSQLite: true },
  EXECUTION_LOG: { className: 'ExecutionLog', useSQLite: true },
  RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
};

export const DEFAULT_SERVICES = {
  demo: {
    label: 'Demo store',
    description: 'Test copy of the demo store',
    database: { kind: 'd1', binding: 'DB' },
    read_only: false,
    max_rows: 100,
  },
  readonly: {
    label: 'Read-only store',
    database: { kind: 'd1', binding: 'DB' },
    read_only: true,
    max_rows: 25,
    hidden_tables: ['big_numbers'],
  },
  open: {
    label: 'Open store (no auth)',
    database: { kind: 'd1', binding: 'DB' },
    read_only: false,
    auth: 'none',
  },
};

/**
 * Passes the worker's console output through, except the execution log's one line per MCP call
 * (`{"event":"mcp_call",...}`), which would flood the test output; those go to `onCallLine`.
 */
export function quietCallLines(onCallLine) {
  return (stdout, stderr) => {
    for (const [stream, sink] of [[stdout, process.stdout], [stderr, process.stderr]]) {
      createInterface({ input: stream }).on('line', (line) => {
        const at = line.indexOf('{"event":"mcp_call"');
        if (at === -1) sink.write(`${line}\n`);
        else onCallLine?.(line.slice(at));
      });
    }
  };
}

/**
 * Miniflare's `assets` option from wrangler.toml's `[assets]` (the console page's files), so every
 * worker the tests, the bench and the conformance runner start serves them as deployed.
 */
export function consoleAssets() {
  const { assets, compatibility_date: compatibilityDate } = parseToml(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'));
  return {
    directory: join(ROOT, assets.directory),
    binding: assets.binding,
    routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: assets.run_worker_first },
    assetConfig: {
      html_handling: assets.html_handling,
      not_found_handling: assets.not_found_handling,
      compatibility_date: compatibilityDate,
    },
  };
}

export function tempDir(prefix = 'dbmcp-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * @param {object} [options]
 * @param {object|string} [options.services] SERVICES binding (object, or raw JSON string)
 * @param {string} [options.persistDir] keep D1/KV/DO state here (survives restarts)
 * @param {number} [options.idleSeconds] SESSION_IDLE_SECONDS
 * @param {string} [options.allowedOrigins] ALLOWED_ORIGINS
 * @param {boolean} [options.migrate] apply migrations (default true; skipped if already applied)
 * @param {object} [options.bindings] extra bindings (variables/secrets) merged over the defaults
 * @param {boolean} [options.rateLimiter] bind RATE_LIMITER (default true)
 * @param {string} [options.buildDir] the build to run (default `build`; `build-conformance` has the fixtures)
 * @param {(line: string) => void} [options.onCallLine] receives each `{"event":"mcp_call",...}` line
 * @param {object} [options.durableObjects] replaces the Durable Object bindings (e.g. to leave one out)
 * @param {boolean|object} [options.assets] serve the console's files from wrangler.toml's [assets]
 *   (default true; false: no ASSETS binding, as in a deploy without them; an object: options merged
 *   over wrangler.toml's, e.g. another `directory`)
 */
export async function startWorker(options = {}) {
  const buildDir = options.buildDir ?? 'build';
  const script = join(ROOT, buildDir, 'index.js');
  if (!existsSync(script)) {
    const command = buildDir === 'build-conformance' ? 'npm run build:conformance' : 'npm run build';
    throw new Error(`${buildDir}/index.js is missing: run \`${command}\` first`);
  }
  const persist = options.persistDir;
  const bindings = {
    SERVICES: options.services ?? DEFAULT_SERVICES,
    SESSION_IDLE_SECONDS: String(options.idleSeconds ?? 3600),
    ALLOWED_ORIGINS: options.allowedOrigins ?? 'https://allowed.example.com',
  };
  if (options.adminToken !== null) bindings.ADMIN_TOKEN = options.adminToken ?? ADMIN_TOKEN;
  if (options.oauthSigningKey !== null) bindings.OAUTH_SIGNING_KEY = options.oauthSigningKey ?? OAUTH_SIGNING_KEY;
  if (options.maskKey !== null) bindings.MASK_KEY = options.maskKey ?? MASK_KEY;
  bindings.OAUTH_REGISTRATIONS_PER_HOUR = String(options.registrationsPerHour ?? 1000);
  // Extra variables and secrets, e.g. a Postgres connection string named by a service.
  Object.assign(bindings, options.bindings ?? {});
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    compatibilityDate: '2025-09-01',
    modules: true,
    scriptPath: script,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
    d1Databases: options.d1Databases ?? ['DB'],
    kvNamespaces: ['DBMCP_KV'],
    // RATE_LIMITER is left out with `rateLimiter: false` (the binding missing, as in a misconfigured deploy).
    durableObjects:
      options.durableObjects ?? Object.fromEntries(Object.entries(DURABLE_OBJECTS).filter(([name]) => name !== 'RATE_LIMITER' || options.rateLimiter !== false)),
    bindings,
    ...(options.assets === false ? {} : { assets: { ...consoleAssets(), ...(options.assets ?? {}) } }),
    handleRuntimeStdio: quietCallLines(options.onCallLine),
    d1Persist: persist ? join(persist, 'd1') : false,
    kvPersist: persist ? join(persist, 'kv') : false,
    durableObjectsPersist: persist ? join(persist, 'do') : false,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  if (options.migrate !== false && (options.d1Databases ?? ['DB']).includes('DB')) {
    const db = await mf.getD1Database('DB');
    const applied = await db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 'order_items'")
      .first();
    if (!applied) await applyD1Migrations(db);
  }
  return {
    mf,
    url,
    mcpUrl: (service = 'demo') => `${url}/mcp/${service}`,
    stop: () => mf.dispose(),
  };
}

/** Creates an API key through the admin API. */
export async function createKey(url, service = 'demo', body = {}) {
  const res = await fetch(`${url}/admin/services/${service}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
  return res.json();
}
