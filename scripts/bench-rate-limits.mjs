// The latency a rate limit adds: the same stateless tools/list request, with an API key, against
// two services alike except that one sets `rate_limits` (so each request also asks its bucket's
// RateLimiter Durable Object). Sequential, interleaved (one of each per round, so drift hits both
// alike), in Miniflare on this machine. Prints the medians and p90s in ms.
//
//   npm run build && node scripts/bench-rate-limits.mjs [rounds=300]

import { createKey, DEFAULT_SERVICES, startWorker } from '../tests/support/worker.mjs';
import { request, rpc } from '../tests/support/mcp.mjs';

const rounds = Math.min(Math.max(Number(process.argv[2] ?? 300) || 300, 10), 2000);
const D1 = { kind: 'd1', binding: 'DB' };
const services = {
  ...DEFAULT_SERVICES,
  unlimited: { database: D1, read_only: true },
  limited: { database: D1, read_only: true, rate_limits: { api_key_per_minute: 100000 } },
};
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
};
const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' };

const w = await startWorker({ services });
try {
  const keys = { unlimited: (await createKey(w.url, 'unlimited')).key, limited: (await createKey(w.url, 'limited')).key };
  const once = async (service, id) => {
    const started = performance.now();
    const res = await rpc(w.mcpUrl(service), keys[service], request('tools/list', { _meta: META }, id), { headers });
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`${service}: ${res.status} ${res.text}`);
    return elapsed;
  };
  // Warm both paths (isolate, key cache, the bucket's object).
  for (let i = 0; i < 20; i++) {
    await once('unlimited', i);
    await once('limited', i);
  }
  const times = { unlimited: [], limited: [] };
  for (let i = 0; i < rounds; i++) {
    times.unlimited.push(await once('unlimited', i));
    times.limited.push(await once('limited', i));
  }
  const stat = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  const row = (name) => `${name.padEnd(10)} median ${stat(times[name], 0.5).toFixed(2)} ms  p90 ${stat(times[name], 0.9).toFixed(2)} ms`;
  console.log(`${rounds} sequential requests each (stateless tools/list with an API key, Miniflare, interleaved)`);
  console.log(row('unlimited'));
  console.log(row('limited'));
  console.log(`added     difference of medians ${(stat(times.limited, 0.5) - stat(times.unlimited, 0.5)).toFixed(2)} ms`);
  // Each round's two requests ran back to back, so their difference is less exposed to load drift.
  const paired = times.limited.map((t, i) => t - times.unlimited[i]);
  console.log(`added     median of paired differences ${stat(paired, 0.5).toFixed(2)} ms`);
} finally {
  await w.stop();
}
