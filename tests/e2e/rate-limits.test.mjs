// Per-credential rate limits (SERVICES.<name>.rate_limits and a key's rate_limit_per_minute),
// counted by the RateLimiter Durable Object: exact counts in both eras (raw HTTP and the official
// SDK), parallel requests, the per-key override, OAuth user and client buckets (a refusal costs
// the other bucket nothing), the window refilling, no limiter call for a service without limits
// (no RateLimiter storage in the persist dir), and failing open without the binding.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connectClient, initializeParams, notification, readResponse, request, rpc, sleep } from '../support/mcp.mjs';
import { ADMIN_TOKEN, createKey, DEFAULT_SERVICES, startWorker, tempDir } from '../support/worker.mjs';
import { forgeJwt, obtainTokens } from '../support/oauth.mjs';

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'dbmcp-e2e-limits', version: '1.0.0' },
};
const D1 = { kind: 'd1', binding: 'DB' };
const SERVICES = {
  ...DEFAULT_SERVICES,
  keyed: { database: D1, read_only: true, rate_limits: { api_key_per_minute: 5 } },
  people: { database: D1, read_only: true, rate_limits: { user_per_minute: 3, oauth_client_per_minute: 5 } },
  // Limits on a service without credentials: nothing to count.
  anon: { database: D1, read_only: true, auth: 'none', rate_limits: { api_key_per_minute: 1, user_per_minute: 1 } },
};

let w;
let persistDir;

/** One stateless (2026-07-28) tools/list over raw HTTP. */
function modernList(service, credential, id = 7) {
  const headers = { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' };
  return rpc(w.mcpUrl(service), credential, request('tools/list', { _meta: META }, id), { headers });
}

/** Asserts the 429 refusal: Retry-After, the JSON-RPC error -32000 with the id, and its data. */
function assertRefused(res, { id, limit, scope }) {
  assert.equal(res.status, 429, res.text);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${res.headers.get('retry-after')}`);
  assert.equal(res.json.id, id, 'the error echoes the request id');
  assert.equal(res.json.error.code, -32000);
  const holder = { api_key: 'this API key', oauth_client: 'this OAuth client', user: 'this user' }[scope];
  assert.equal(res.json.error.message, `rate limit exceeded: ${limit} requests per minute for ${holder}; retry after ${retryAfter} s`);
  assert.deepEqual(res.json.error.data, { retry_after_seconds: retryAfter, limit_per_minute: limit, scope });
  return retryAfter;
}

/** An access token signed with the test worker's key, as its token endpoint issues them. */
function accessToken(service, clientId, user) {
  const now = Math.floor(Date.now() / 1000);
  return forgeJwt({
    iss: w.url, sub: user, aud: `${w.url}/mcp/${service}`, client_id: clientId, scope: 'mcp:read mcp:write',
    jti: `j-${clientId}-${user}`, gid: `g-${user}`, iat: now, exp: now + 600,
  });
}

/** Names under `dir`, recursively. */
function walk(dir) {
  try {
    return readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
}
// Miniflare makes the namespace's metadata.sqlite at start-up; each object reached gets its own
// `<id>.sqlite` beside it.
const limiterStorage = () =>
  walk(join(persistDir, 'do')).filter((name) => name.includes('RateLimiter') && /[0-9a-f]{32,}\.sqlite$/.test(name));

before(async () => {
  persistDir = tempDir('dbmcp-limits-');
  w = await startWorker({ services: SERVICES, persistDir });
});

after(async () => {
  await w?.stop();
});

describe('a service without limits', () => {
  test('makes no rate limiter call: no RateLimiter storage appears', async () => {
    const key = (await createKey(w.url, 'demo')).key;
    for (let i = 0; i < 8; i++) assert.equal((await modernList('demo', key, i)).status, 200);
    const token = accessToken('demo', 'client-unlimited', 'alice');
    for (let i = 0; i < 4; i++) assert.equal((await modernList('demo', token, i)).status, 200);
    // A service with limits but no credentials is not counted either.
    for (let i = 0; i < 4; i++) assert.equal((await modernList('anon', null, i)).status, 200);
    assert.deepEqual(limiterStorage(), [], 'no RateLimiter object was ever reached');
    // The control: one request to a limited service creates its bucket's storage.
    const limited = (await createKey(w.url, 'keyed')).key;
    assert.equal((await modernList('keyed', limited)).status, 200);
    assert.ok(limiterStorage().length > 0, `RateLimiter storage after a limited request: ${walk(join(persistDir, 'do'))}`);
  });
});

describe('API keys', () => {
  test('the modern era: exactly N successes, then 429 with Retry-After and the error', async () => {
    const key = (await createKey(w.url, 'keyed')).key;
    for (let i = 1; i <= 5; i++) assert.equal((await modernList('keyed', key, i)).status, 200, `request ${i}`);
    const retryAfter = assertRefused(await modernList('keyed', key, 'sixth'), { id: 'sixth', limit: 5, scope: 'api_key' });
    assert.ok(retryAfter >= 11 && retryAfter <= 12, `one interval (12 s) away, got ${retryAfter}`);
  });

  test('the 2025 era with the official SDK: the refused call rejects with the 429 and its message', async () => {
    const key = (await createKey(w.url, 'keyed')).key;
    // initialize and notifications/initialized are two of the five.
    const { client } = await connectClient(w.mcpUrl('keyed'), key);
    for (let i = 0; i < 3; i++) assert.ok((await client.listTools()).tools.length > 0);
    await assert.rejects(client.listTools(), (error) => {
      assert.equal(error.code, 429, 'the SDK reports the HTTP status');
      assert.match(String(error.message), /rate limit exceeded: 5 requests per minute for this API key; retry after \d+ s/);
      return true;
    });
    await client.close();
  });

  test('the 2025 era over raw HTTP: the error echoes the id; a refused batch gets one error per request', async () => {
    const key = (await createKey(w.url, 'keyed')).key;
    const url = w.mcpUrl('keyed');
    const init = await rpc(url, key, request('initialize', initializeParams('2025-03-26')));
    assert.equal(init.status, 200);
    const options = { sessionId: init.headers.get('mcp-session-id'), protocolVersion: '2025-03-26' };
    assert.equal((await rpc(url, key, notification('notifications/initialized'), options)).status, 202);
    // A batch of 3 costs 3: 2 + 3 = 5.
    const batch = await rpc(url, key, [request('ping', {}, 1), request('ping', {}, 2), request('tools/list', {}, 3)], options);
    assert.equal(batch.status, 200, batch.text);
    assert.equal(batch.json.length, 3);
    const refusedBatch = await rpc(url, key, [request('ping', {}, 'a'), notification('notifications/x'), request('ping', {}, 'b')], options);
    assert.equal(refusedBatch.status, 429);
    assert.deepEqual(refusedBatch.json.map((e) => e.id), ['a', 'b']);
    assert.ok(refusedBatch.json.every((e) => e.error.code === -32000 && e.error.data.scope === 'api_key'));
    assertRefused(await rpc(url, key, request('tools/list', {}, 99), options), { id: 99, limit: 5, scope: 'api_key' });
  });

  test('a refused tools/call is in the execution log as rate_limited, with its tool and message', async () => {
    const { id, key } = await createKey(w.url, 'keyed', { label: 'limited-log' });
    const call = (n) =>
      rpc(w.mcpUrl('keyed'), key, request('tools/call', { name: 'get_tables', arguments: {}, _meta: META }, n), {
        headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_tables' },
      });
    for (let i = 1; i <= 5; i++) assert.equal((await call(i)).status, 200, `call ${i}`);
    assertRefused(await call('over'), { id: 'over', limit: 5, scope: 'api_key' });
    const query = `principal=${encodeURIComponent(`key:${id}`)}`;
    let entries = [];
    // Entries are written after the responses: wait for all six, bounded.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
      const res = await fetch(`${w.url}/admin/services/keyed/logs?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      entries = (await res.json()).entries ?? [];
      if (entries.length >= 6) break;
    }
    assert.equal(entries.length, 6, JSON.stringify(entries));
    const refused = entries.filter((e) => e.outcome === 'rate_limited');
    assert.equal(refused.length, 1, JSON.stringify(entries));
    assert.equal(refused[0].target, 'get_tables');
    assert.equal(refused[0].request_id, 'over');
    assert.equal(refused[0].era, '2026');
    assert.equal(refused[0].key_label, 'limited-log');
    assert.match(refused[0].error, /rate limit exceeded: 5 requests per minute/);
    assert.equal(entries.filter((e) => e.outcome === 'ok').length, 5);
  });

  test('parallel requests cannot overshoot: 20 at once against a limit of 5, exactly 5 pass', async () => {
    // Three fresh keys: each bucket's object starts cold, the case where a read could race.
    for (let round = 0; round < 3; round++) {
      const key = (await createKey(w.url, 'keyed')).key;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => modernList('keyed', key, i)));
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 200).length, 5, `round ${round}: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 429).length, 15, `round ${round}: ${statuses.join(',')}`);
    }
  });

  test("a key's own limit beats the service's, and the admin API lists it", async () => {
    const own = await createKey(w.url, 'keyed', { label: 'bulk', rate_limit_per_minute: 8 });
    assert.equal(own.rate_limit_per_minute, 8);
    const plain = await createKey(w.url, 'keyed');
    assert.equal(plain.rate_limit_per_minute, null);
    for (let i = 1; i <= 8; i++) assert.equal((await modernList('keyed', own.key, i)).status, 200, `request ${i}`);
    assertRefused(await modernList('keyed', own.key, 9), { id: 9, limit: 8, scope: 'api_key' });
    const listed = await readResponse(await fetch(`${w.url}/admin/services/keyed/keys`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    assert.equal(listed.status, 200);
    const byId = Object.fromEntries(listed.json.keys.map((k) => [k.id, k]));
    assert.equal(byId[own.id].rate_limit_per_minute, 8);
    assert.equal(byId[plain.id].rate_limit_per_minute, null);
    assert.ok(!JSON.stringify(listed.json).includes(own.key), 'the listing never shows a key');
  });

  test('a bad override is refused with a clear 400', async () => {
    for (const bad of [0, -3, 100001, 2.5, '60', true]) {
      const res = await readResponse(await fetch(`${w.url}/admin/services/keyed/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rate_limit_per_minute: bad }),
      }));
      assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
      assert.match(res.json.error_description, /^rate_limit_per_minute: must be a whole number of requests per minute between 1 and 100000/);
    }
  });

  test('after the interval the key works again (a 60/min key waits about 1 s)', async () => {
    const key = (await createKey(w.url, 'keyed', { rate_limit_per_minute: 60 })).key;
    // The burst of 60 in parallel; a slow machine may have earned one more per second meanwhile.
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => modernList('keyed', key, i)));
    assert.ok(burst.every((r) => r.status === 200), burst.map((r) => r.status).join(','));
    let refused = null;
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await modernList('keyed', key, 100 + i);
      if (res.status === 429) refused = { res, id: 100 + i };
    }
    assert.ok(refused, 'refused within 10 more requests');
    const retryAfter = assertRefused(refused.res, { id: refused.id, limit: 60, scope: 'api_key' });
    assert.equal(retryAfter, 1);
    await sleep(retryAfter * 1000 + 50);
    assert.equal((await modernList('keyed', key, 200)).status, 200, 'served again after Retry-After');
  });
});

describe('OAuth users and clients', () => {
  test('a real token counts against its user (3/min)', async () => {
    const { tokens } = await obtainTokens(w, { service: 'people', username: 'dora' });
    for (let i = 1; i <= 3; i++) assert.equal((await modernList('people', tokens.access_token, i)).status, 200);
    assertRefused(await modernList('people', tokens.access_token, 4), { id: 4, limit: 3, scope: 'user' });
  });

  test('user and client buckets: a refusal by the client costs the user nothing', async () => {
    const c1 = 'https://c1.example/client.json';
    // alice uses her 3 through c1 (c1: 3 of 5 used); her 4th is refused by her user bucket.
    for (let i = 0; i < 3; i++) assert.equal((await modernList('people', accessToken('people', c1, 'alice'), i)).status, 200);
    assertRefused(await modernList('people', accessToken('people', c1, 'alice'), 'x'), { id: 'x', limit: 3, scope: 'user' });
    // That refusal did not count against c1: bob gets exactly the 2 left, then c1 refuses.
    for (let i = 0; i < 2; i++) assert.equal((await modernList('people', accessToken('people', c1, 'bob'), i)).status, 200);
    assertRefused(await modernList('people', accessToken('people', c1, 'bob'), 'y'), { id: 'y', limit: 5, scope: 'oauth_client' });
    // carol is refused by c1 twice; her user bucket is given back each time...
    for (const id of [1, 2]) {
      assertRefused(await modernList('people', accessToken('people', c1, 'carol'), id), { id, limit: 5, scope: 'oauth_client' });
    }
    // ...so through another client she still has all 3.
    const c2 = 'c2-registered';
    for (let i = 0; i < 3; i++) assert.equal((await modernList('people', accessToken('people', c2, 'carol'), i)).status, 200, `carol ${i}`);
    assertRefused(await modernList('people', accessToken('people', c2, 'carol'), 'z'), { id: 'z', limit: 3, scope: 'user' });
  });
});

describe('without the RATE_LIMITER binding', () => {
  test('fails open: requests beyond the limit are served, each logged as rate_limiter_unavailable', async () => {
    const open = await startWorker({ services: SERVICES, rateLimiter: false });
    // The worker's console output reaches this process's stdout/stderr (Miniflare forwards it).
    const seen = [];
    const originals = { out: process.stdout.write, err: process.stderr.write };
    const capture = (original) => function (chunk, ...rest) {
      seen.push(String(chunk));
      return original.call(this, chunk, ...rest);
    };
    process.stdout.write = capture(originals.out);
    process.stderr.write = capture(originals.err);
    try {
      const created = await createKey(open.url, 'keyed');
      const headers = { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' };
      for (let i = 0; i < 8; i++) {
        const res = await rpc(open.mcpUrl('keyed'), created.key, request('tools/list', { _meta: META }, i), { headers });
        assert.equal(res.status, 200, `request ${i} over a limit of 5: ${res.text}`);
      }
      await sleep(200);
      const lines = seen.join('').split('\n').filter((l) => l.includes('"event":"rate_limiter_unavailable"'));
      assert.equal(lines.length, 8, seen.join(''));
      const line = JSON.parse(lines[0].slice(lines[0].indexOf('{')));
      assert.equal(line.bucket, `keyed:key:${created.id}`);
      assert.equal(line.scope, 'api_key');
      assert.equal(line.outcome, 'served_unlimited');
      assert.match(line.error, /RATE_LIMITER/);
    } finally {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
      await open.stop();
    }
  });
});
