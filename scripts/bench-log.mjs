// Measures the execution log's costs in Miniflare (local workerd, this machine):
//  1. one shard write (the worker's `append` command) of 1, 10 and 100 entries, straight to the
//     Durable Object;
//  2. the latency of a tools/call (get_tables, 2025 session) on a service with the log on and one
//     with it off, interleaved.
// Usage: node scripts/bench-log.mjs [rounds=200]   (needs `npm run build` first)

import { performance } from 'node:perf_hooks';
import { DEFAULT_SERVICES, createKey, startWorker } from '../tests/support/worker.mjs';
import { session } from '../tests/support/mcp.mjs';

const rounds = Math.min(Number(process.argv[2] ?? 200), 2000);
const w = await startWorker({
  services: {
    ...DEFAULT_SERVICES,
    logoff: { label: 'log off', database: { kind: 'd1', binding: 'DB' }, read_only: true, log: { enabled: false } },
  },
});

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)];
  return { n: sorted.length, p50: +at(0.5).toFixed(2), p95: +at(0.95).toFixed(2), mean: +(sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(2) };
}

function entry(i, time) {
  return {
    id: `${String(time).padStart(13, '0')}-${i.toString(16).padStart(12, '0')}`, time, service: 'demo',
    principal_kind: 'api_key', principal_id: 'key:bench', key_label: 'bench', client_id: null, client_name: 'bench/1',
    method: 'tools/call', target: 'get_table_data', arguments: { table: 'customers', filter: "name LIKE 'A%'", limit: 20 },
    arguments_truncated: false, duration_ms: 12, rows_read: 20, rows_written: null, outcome: 'ok', error: null,
    era: '2025', request_id: String(i), trace_id: null,
  };
}

try {
  const namespace = await w.mf.getDurableObjectNamespace('EXECUTION_LOG');
  const stub = namespace.get(namespace.idFromName('bench:0'));
  let counter = 0;
  const writes = {};
  for (let i = 0; i < 20; i += 1) {
    // Warm-up: the object's first requests create its table and compile the code paths.
    const res = await stub.fetch('https://log.bench/', { method: 'POST', body: JSON.stringify({ append: { entries: [entry((counter += 1), Date.now())], retention_ms: 30 * 86_400_000 } }) });
    await res.arrayBuffer();
  }
  for (const size of [1, 10, 100]) {
    const samples = [];
    for (let r = 0; r < Math.max(20, Math.floor(rounds / 4)); r += 1) {
      const now = Date.now();
      const entries = Array.from({ length: size }, () => entry((counter += 1), now));
      const body = JSON.stringify({ append: { entries, retention_ms: 30 * 86_400_000 } });
      const t = performance.now();
      const res = await stub.fetch('https://log.bench/', { method: 'POST', body });
      await res.arrayBuffer();
      samples.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`append answered ${res.status}`);
    }
    writes[`${size} entries`] = stats(samples);
  }
  console.log('shard write (append command, ms):', JSON.stringify(writes));

  const on = await session(w.mcpUrl('demo'), (await createKey(w.url, 'demo')).key);
  const off = await session(w.mcpUrl('logoff'), (await createKey(w.url, 'logoff')).key);
  const timed = async (s) => {
    const t = performance.now();
    const res = await s.call('tools/call', { name: 'get_tables', arguments: {} });
    if (res.status !== 200) throw new Error(`call answered ${res.status}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 20; i += 1) { await timed(on); await timed(off); } // warm up
  const onSamples = [];
  const offSamples = [];
  for (let i = 0; i < rounds; i += 1) {
    onSamples.push(await timed(on));
    offSamples.push(await timed(off));
  }
  console.log('tools/call latency (ms), log on :', JSON.stringify(stats(onSamples)));
  console.log('tools/call latency (ms), log off:', JSON.stringify(stats(offSamples)));
} finally {
  await w.stop();
}
