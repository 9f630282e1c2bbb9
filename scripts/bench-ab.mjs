// A/B of product builds: `node scripts/bench-ab.mjs <build dir> <build dir> [...]` runs each build
// as its own worker in one Miniflare/workerd (sharing one D1 database and KV namespace, as
// `npm run bench` does), then sends 2026-07-28 `tools/call get_table_data` (API key, the bench's
// filter and order) at concurrency 8 in interleaved rounds, so a change in the machine's load hits
// every build alike. Prints req/s, p50 and the workerd process's CPU per request for each build.
// Make a build with `bash scripts/build.sh --out-dir <dir>`; the directory must be inside the
// repository (workerd resolves modules under it).
//
// AB_ROWS (50 or 1000, default 50), AB_PER (requests per build per round, default 150) and
// AB_ROUNDS (default 16) size the run; every slice also stops after 60 s.

import { resolve } from 'node:path';
import { Miniflare } from 'miniflare';
import { ADMIN_TOKEN, createKey, DEFAULT_SERVICES, DURABLE_OBJECTS, MASK_KEY, OAUTH_SIGNING_KEY, quietCallLines } from '../tests/support/worker.mjs';
import { applyD1Migrations } from '../tests/support/migrations.mjs';
import { findWorkerdPid, workerdCpuSeconds } from './workerd-cpu.mjs';

const builds = process.argv.slice(2).map((dir) => resolve(dir));
if (builds.length < 2) throw new Error('usage: node scripts/bench-ab.mjs <build dir> <build dir> [...]');
const ROWS = Number(process.env.AB_ROWS ?? 50);
const PER = Number(process.env.AB_PER ?? 150);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 16);
const CONCURRENCY = 8;
const SLICE_MS = 60_000;
const VERSION = '2026-07-28';

const worker = (name, dir) => ({
  name,
  modules: true,
  scriptPath: `${dir}/index.js`,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
  compatibilityDate: '2025-09-01',
  d1Databases: { DB: 'ab-db' },
  kvNamespaces: { DBMCP_KV: 'ab-kv' },
  unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  durableObjects: DURABLE_OBJECTS,
  bindings: {
    SERVICES: { demo: { ...DEFAULT_SERVICES.demo, max_rows: 1000 } },
    ALLOWED_ORIGINS: 'https://allowed.example.com',
    ADMIN_TOKEN,
    OAUTH_SIGNING_KEY,
    MASK_KEY,
  },
});

const mf = new Miniflare({ host: '127.0.0.1', port: 0, handleRuntimeStdio: quietCallLines(), workers: builds.map((dir, i) => worker(`build${i}`, dir)) });
try {
  await mf.ready;
  const pid = findWorkerdPid();
  await applyD1Migrations(await mf.getD1Database('DB', 'build0'));
  const body = JSON.stringify({
    jsonrpc: '2.0', id: 2, method: 'tools/call',
    params: {
      name: 'get_table_data',
      arguments: { table: 'order_items', filter: 'quantity >= 2 AND unit_price > 20', order: 'unit_price DESC, id ASC', limit: ROWS },
      _meta: { 'io.modelcontextprotocol/protocolVersion': VERSION, 'io.modelcontextprotocol/clientInfo': { name: 'bench-ab', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} },
    },
  });
  const lanes = [];
  for (const [i, dir] of builds.entries()) {
    const url = (await mf.unsafeGetDirectURL(`build${i}`)).toString().replace(/\/$/, '');
    const { key } = await createKey(url, 'demo', { label: 'bench-ab' });
    const headers = {
      authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION, 'mcp-method': 'tools/call', 'mcp-name': 'get_table_data',
    };
    lanes.push({ dir, url: `${url}/mcp/demo`, headers, latencies: [], cpu: 0, seconds: 0 });
  }

  /** `count` requests (or SLICE_MS) on one build; every answer must hold ROWS records. */
  async function slice(lane, count, measured) {
    let issued = 0;
    const started = performance.now();
    const cpuBefore = workerdCpuSeconds(pid);
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (issued < count && performance.now() - started < SLICE_MS) {
        issued += 1;
        const t0 = performance.now();
        const res = await fetch(lane.url, { method: 'POST', headers: lane.headers, body });
        const text = await res.text();
        if (res.status !== 200 || !text.includes(`"returned":${ROWS}`)) throw new Error(`${lane.dir}: ${res.status} ${text.slice(0, 200)}`);
        if (measured) lane.latencies.push(performance.now() - t0);
      }
    }));
    if (measured) {
      lane.seconds += (performance.now() - started) / 1000;
      lane.cpu += workerdCpuSeconds(pid) - cpuBefore;
    }
  }

  for (const lane of lanes) await slice(lane, 200, false);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let i = 0; i < lanes.length; i += 1) await slice(lanes[(i + round) % lanes.length], PER, true);
  }
  console.log(`${ROWS} rows, ${ROUNDS} rounds of ${PER} requests per build, concurrency ${CONCURRENCY}, workerd pid ${pid}:`);
  for (const lane of lanes) {
    lane.latencies.sort((a, b) => a - b);
    const n = lane.latencies.length;
    console.log(`  ${lane.dir}: ${(n / lane.seconds).toFixed(0)} req/s, p50 ${lane.latencies[n >> 1].toFixed(2)} ms, CPU ${((lane.cpu * 1000) / n).toFixed(3)} ms/req`);
  }
} finally {
  await mf.dispose();
}
