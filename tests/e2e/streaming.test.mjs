// Streamed answers from the built worker in Miniflare (real D1): notifications/progress received
// by the official SDK client, cancellation when the client aborts, and subscriptions/listen
// (acknowledgment, keep-alive, a schema change, the bound, the per-credential limit).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERVICES, createKey, startWorker } from '../support/worker.mjs';
import { ACCEPT_BOTH, connectClient, request, session, sleep } from '../support/mcp.mjs';
import { BACKENDS, servicesOn } from '../support/backends.mjs';
import pg from 'pg';

const LISTEN = { max_seconds: 4, check_seconds: 1, max_streams: 2 };
const SERVICES = {
  ...DEFAULT_SERVICES,
  // Record-by-record writes of 100 rows need more than D1's default 50 queries per call.
  demo: { ...DEFAULT_SERVICES.demo, max_queries_per_call: 500, listen: LISTEN },
};
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'dbmcp-e2e', version: '1.0.0' },
};
// 2026-07-28 requires both on every POST (400 -32020 without them), listen included.
const LISTEN_HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' };

let worker;
let key;
let client;
let db;

/**
 * Reads an SSE response as it arrives: calls `onItem({kind: 'event'|'comment', data, at})` for each
 * event (data parsed) or comment, `at` in ms since `started`. Resolves with every item when the
 * body ends (or is aborted).
 */
async function readSse(res, started, onItem = () => {}) {
  const items = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const at = Date.now() - started;
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        const item = data ? { kind: 'event', data: JSON.parse(data), at } : { kind: 'comment', text: block, at };
        items.push(item);
        await onItem(item);
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  }
  return items;
}

function post(body, { signal, accept = ACCEPT_BOTH, headers = {} } = {}) {
  return fetch(worker.mcpUrl('demo'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

const count = async (sql) => (await db.prepare(sql).first()).n;

describe('streamed answers', () => {
  before(async () => {
    worker = await startWorker({ services: SERVICES });
    db = await worker.mf.getD1Database('DB');
    ({ key } = await createKey(worker.url, 'demo', { label: 'streaming' }));
    ({ client } = await connectClient(worker.mcpUrl('demo'), key));
  });

  after(async () => {
    await client?.close();
    await worker?.stop();
  });

  test('the SDK client receives progress for a long read, before the result', async () => {
    const seen = [];
    const result = await client.callTool(
      { name: 'get_table_data', arguments: { table: 'customers', include_count: true } },
      undefined,
      { onprogress: (p) => seen.push(p) },
    );
    assert.equal(result.isError, false);
    const total = await count('SELECT COUNT(*) AS n FROM customers');
    assert.equal(result.structuredContent.count, total);
    assert.deepEqual(
      seen.map((p) => [p.progress, p.total]),
      [[0, 2], [1, 2], [2, 2]],
    );
    assert.equal(seen[0].message, 'reading rows from customers');
    assert.match(seen[1].message, /^round trip 1 of 2 done \(\d+ rows\)$/);
  });

  test('the SDK client receives progress for a multi-record write, which lands whole', async () => {
    const before = await count("SELECT COUNT(*) AS n FROM categories WHERE name LIKE 'progress %'");
    const records = Array.from({ length: 20 }, (_, i) => ({ name: `progress ${i}` }));
    const seen = [];
    const result = await client.callTool(
      { name: 'create_records', arguments: { table: 'categories', records } },
      undefined,
      { onprogress: (p) => seen.push(p) },
    );
    assert.equal(result.isError, false, JSON.stringify(result.content));
    assert.equal(result.structuredContent.created.length, 20);
    assert.deepEqual(seen.map((p) => [p.progress, p.total]), [[0, 20], [20, 20]]);
    assert.equal(seen[0].message, 'writing 20 records of categories in one atomic batch');
    assert.equal(seen[1].message, '20 of 20 records written (batch of 20 committed)');
    assert.equal(await count("SELECT COUNT(*) AS n FROM categories WHERE name LIKE 'progress %'"), before + 20);
  });

  test('on the wire: progress events then the result on one event stream; JSON without a token or without SSE', async () => {
    const s = await session(worker.mcpUrl('demo'), key);
    const headers = { 'mcp-session-id': s.sessionId, 'mcp-protocol-version': s.version };
    const call = (meta, accept) =>
      post(request('tools/call', { name: 'aggregate_table_data', arguments: { table: 'orders', aggregates: [{ function: 'count' }] }, ...(meta ? { _meta: meta } : {}) }, 5), { accept, headers });

    const streamed = await call({ progressToken: 'agg' });
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    assert.equal(streamed.headers.get('x-accel-buffering'), 'no');
    const items = await readSse(streamed, Date.now());
    const events = items.map((i) => i.data);
    assert.deepEqual(events.map((e) => e.method ?? 'result'), ['notifications/progress', 'notifications/progress', 'result']);
    assert.deepEqual(events.slice(0, 2).map((e) => e.params.progress), [0, 1]);
    assert.equal(events[0].params.progressToken, 'agg');
    assert.equal(events[2].id, 5);
    assert.equal(events[2].result.isError, false, JSON.stringify(events[2].result));

    // Without a token, or when the client takes only JSON: exactly as before.
    for (const [meta, accept] of [[null, ACCEPT_BOTH], [{ progressToken: 'agg' }, 'application/json']]) {
      const plain = await call(meta, accept);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('content-type'), 'application/json');
      const body = await plain.json();
      assert.equal(body.id, 5);
      assert.equal(body.result.isError, false);
    }
  });

  test('a client that aborts mid-write stops the work: an atomic batch lands whole or not at all', async () => {
    const s = await session(worker.mcpUrl('demo'), key);
    const headers = { 'mcp-session-id': s.sessionId, 'mcp-protocol-version': s.version };
    const write = async (tag, atomic, abortAt) => {
      const records = Array.from({ length: 100 }, (_, i) => ({ name: `${tag} ${i}` }));
      const controller = new AbortController();
      const res = await post(
        request('tools/call', { name: 'create_records', arguments: { table: 'categories', records, atomic }, _meta: { progressToken: tag } }),
        { signal: controller.signal, headers },
      );
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const seen = [];
      await readSse(res, Date.now(), (item) => {
        seen.push(item.data);
        if (item.data?.params?.progress >= abortAt) controller.abort();
      });
      return seen;
    };

    // One by one (atomic: false): aborted after the first tenth, the rest is never written.
    const loose = await write('loose', false, 10);
    assert.ok(!loose.some((m) => m.result), 'no result after the abort');
    await sleep(1500);
    const written = await count("SELECT COUNT(*) AS n FROM categories WHERE name LIKE 'loose %'");
    assert.ok(written >= 10 && written < 100, `cancellation stopped the record-by-record write: ${written} of 100 written`);
    await sleep(500);
    assert.equal(await count("SELECT COUNT(*) AS n FROM categories WHERE name LIKE 'loose %'"), written, 'nothing more afterwards');

    // Atomic (the default): aborted right after progress 0, the batch is all or nothing.
    await write('whole', true, 0);
    await sleep(1000);
    const whole = await count("SELECT COUNT(*) AS n FROM categories WHERE name LIKE 'whole %'");
    assert.ok(whole === 0 || whole === 100, `never half a batch: ${whole}`);
  });

  test('subscriptions/listen: acknowledgment, keep-alive, a schema change, and the end at its bound', async () => {
    const started = Date.now();
    const res = await post(request('subscriptions/listen', { _meta: MODERN_META, notifications: { resourcesListChanged: true, toolsListChanged: true } }, 'sub-1'), {
      accept: 'text/event-stream',
      headers: LISTEN_HEADERS,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    let createdAt = null;
    const items = await readSse(res, started, async (item) => {
      if (item.kind === 'event' && item.data.method === 'notifications/subscriptions/acknowledged' && createdAt === null) {
        await sleep(1200);
        createdAt = Date.now() - started;
        await db.exec('CREATE TABLE created_while_listening (id INTEGER PRIMARY KEY)');
      }
    });
    const elapsed = Date.now() - started;
    const first = items[0];
    assert.equal(first.kind, 'event');
    assert.deepEqual(first.data, {
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' }, notifications: { resourcesListChanged: true } },
    });
    assert.ok(items.some((i) => i.kind === 'comment'), 'keep-alive comments while quiet');
    const changes = items.filter((i) => i.kind === 'event' && i.data.method === 'notifications/resources/list_changed');
    assert.equal(changes.length, 1, JSON.stringify(items));
    assert.deepEqual(changes[0].data.params._meta, { 'io.modelcontextprotocol/subscriptionId': 'sub-1' });
    assert.ok(changes[0].at - createdAt <= 1000 + 500, `seen within the 1 s interval: created at ${createdAt}, seen at ${changes[0].at}`);
    const last = items.at(-1);
    assert.deepEqual(last.data, { jsonrpc: '2.0', id: 'sub-1', result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' } } });
    assert.ok(elapsed >= 3900 && elapsed < 7000, `ended at the 4 s bound: ${elapsed} ms`);
    assert.ok(!items.some((i) => i.data?.method === 'notifications/tools/list_changed'));
  });

  test('subscriptions/listen: more than max_streams per credential is refused; closing one frees its place', async () => {
    const open = () => {
      const controller = new AbortController();
      return post(request('subscriptions/listen', { _meta: MODERN_META, notifications: { resourcesListChanged: true } }), {
        accept: 'text/event-stream',
        headers: LISTEN_HEADERS,
        signal: controller.signal,
      }).then((res) => ({ res, controller }));
    };
    const a = await open();
    const b = await open();
    assert.equal(a.res.status, 200);
    assert.equal(b.res.status, 200);
    const refused = await open();
    assert.equal(refused.res.status, 429);
    const body = await refused.res.json();
    assert.equal(body.error.code, -32001);
    assert.match(body.error.message, /too many open subscriptions\/listen streams for this credential \(at most 2/);

    // Another credential has its own places.
    const { key: other } = await createKey(worker.url, 'demo', { label: 'other listener' });
    const elsewhere = await fetch(worker.mcpUrl('demo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${other}`, ...LISTEN_HEADERS },
      body: JSON.stringify(request('subscriptions/listen', { _meta: MODERN_META, notifications: {} })),
    });
    assert.equal(elsewhere.status, 200);
    await elsewhere.body.cancel();

    a.controller.abort();
    let again;
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      again = await open();
      if (again.res.status === 200) break;
      await again.res.body?.cancel();
    }
    assert.equal(again.res.status, 200, 'the aborted stream released its place');
    again.controller.abort();
    b.controller.abort();
  });

  test('subscriptions/listen: bad requests are refused before any stream opens', async () => {
    const listen = (params, accept = 'text/event-stream') =>
      post(request('subscriptions/listen', { _meta: MODERN_META, ...params }, 9), { accept, headers: LISTEN_HEADERS });
    const noFilter = await listen({});
    assert.equal(noFilter.status, 400);
    assert.match((await noFilter.json()).error.message, /needs params.notifications/);
    const jsonOnly = await listen({ notifications: {} }, 'application/json');
    assert.equal(jsonOnly.status, 406);
    assert.match((await jsonOnly.json()).error.message, /Accept must include text\/event-stream/);
  });
});

describe('on PostgreSQL', () => {
  let running;
  let pgKey;
  let pgClient;
  before(async () => {
    const backend = BACKENDS.find((b) => b.name === 'PostgreSQL');
    running = await backend.start({
      services: (database) => servicesOn(database, { demo: { ...DEFAULT_SERVICES.demo, database, listen: LISTEN } }),
    });
    ({ key: pgKey } = await createKey(running.worker.url, 'demo', { label: 'pg streaming' }));
    ({ client: pgClient } = await connectClient(running.worker.mcpUrl('demo'), pgKey));
  });
  after(async () => {
    await pgClient?.close();
    await running?.stop();
  });

  test('progress for a read and a multi-record write', async () => {
    const seen = [];
    const read = await pgClient.callTool({ name: 'get_table_data', arguments: { table: 'customers', count_only: true } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    assert.equal(read.isError, false);
    assert.deepEqual(seen.map((p) => [p.progress, p.total, p.message]), [[0, 1, 'counting rows of customers'], [1, 1, 'round trip 1 of 1 done (1 rows)']]);
    seen.length = 0;
    const records = Array.from({ length: 3 }, (_, i) => ({ name: `pg progress ${i}` }));
    const write = await pgClient.callTool({ name: 'create_records', arguments: { table: 'categories', records } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    assert.equal(write.isError, false, JSON.stringify(write.content));
    assert.deepEqual(seen.map((p) => [p.progress, p.total]), [[0, 3], [3, 3]]);
  });

  test('subscriptions/listen reports a table created while listening', async () => {
    const started = Date.now();
    const res = await fetch(running.worker.mcpUrl('demo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${pgKey}`, ...LISTEN_HEADERS },
      body: JSON.stringify(request('subscriptions/listen', { _meta: MODERN_META, notifications: { resourcesListChanged: true } }, 3)),
    });
    assert.equal(res.status, 200);
    let createdAt = null;
    const items = await readSse(res, started, async (item) => {
      if (createdAt === null && item.data?.method === 'notifications/subscriptions/acknowledged') {
        await sleep(1200);
        const direct = new pg.Client({ connectionString: running.stack.connectionString });
        await direct.connect();
        try {
          await direct.query('CREATE TABLE created_while_listening (id integer PRIMARY KEY)');
        } finally {
          await direct.end();
        }
        createdAt = Date.now() - started;
      }
    });
    const changes = items.filter((i) => i.data?.method === 'notifications/resources/list_changed');
    assert.equal(changes.length, 1, JSON.stringify(items));
    assert.ok(changes[0].at - createdAt <= 1500, `created at ${createdAt}, seen at ${changes[0].at}`);
    assert.equal(items.at(-1).data.result.resultType, 'complete');
  });
});
