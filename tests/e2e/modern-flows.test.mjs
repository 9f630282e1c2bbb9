// The 2026-07-28 era's flows through the merged wiring, against the built worker in Miniflare
// (real D1, the grant store a real Durable Object): confirm-before-destroying as MRTR
// (`input_required` with an `elicitation/create` form, the retry with `inputResponses` and the sealed
// `requestState`) for clients that declare elicitation, two-step for those that do not; the same
// through the official TS SDK v2 client, whose MRTR driver answers from its elicitation handler and
// retries by itself; progress on the response stream of a modern tools/call; subscriptions/listen
// through the modern path with its required headers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { request, rpc, sleep } from '../support/mcp.mjs';
import { createKey, startWorker } from '../support/worker.mjs';

const MODERN = '2026-07-28';
const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const d1 = { kind: 'd1', binding: 'DB' };
const LISTEN = { max_seconds: 3, check_seconds: 1, max_streams: 2 };

/** The `_meta` envelope of a modern request, with the client's capabilities. */
function metaWith(clientCapabilities) {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': clientCapabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'dbmcp-e2e-flows', version: '1.0.0' },
  };
}
const ELICITING = metaWith({ elicitation: { form: {} } });
const PLAIN = metaWith({});

let w;
let key;
let db;

/** Modern request headers for `method` (Mcp-Name from the body where the method has one). */
function modernHeaders(method, params) {
  const headers = { 'mcp-protocol-version': MODERN, 'mcp-method': method };
  if (method === 'tools/call') headers['mcp-name'] = params.name;
  return headers;
}

/**
 * One modern request over raw HTTP with full `_meta` and headers; `headers` overrides them (null
 * removes one).
 */
function modern(service, credential, method, params, { meta = ELICITING, headers = {}, id } = {}) {
  const body = request(method, { ...params, _meta: { ...meta, ...(params._meta ?? {}) } }, id);
  return rpc(w.mcpUrl(service), credential, body, { headers: { ...modernHeaders(method, params), ...headers } });
}

/** A modern tools/call; returns the JSON-RPC result (asserting a 200 JSON-RPC success). */
async function call(service, credential, name, args, extra = {}, options = {}) {
  const res = await modern(service, credential, 'tools/call', { name, arguments: args, ...extra }, options);
  assert.equal(res.status, 200, res.text);
  assert.ok(res.json?.result, res.text);
  return res.json.result;
}

/** Rows of order_items in [from, to], read straight from D1 (bound values). */
async function itemsBetween(from, to) {
  return (await db.prepare('SELECT COUNT(*) AS n FROM order_items WHERE id >= ? AND id <= ?').bind(from, to).first()).n;
}

const rangeFilter = (from, to) => `id >= ${from} AND id <= ${to}`;
const accept = (confirm = true) => ({ confirm_write: { action: 'accept', content: { confirm } } });

/** The first answer for a delete over the threshold: an input_required form with the exact count. */
async function askToDelete(service, credential, from, to) {
  const args = { table: 'order_items', filter: rangeFilter(from, to) };
  const result = await call(service, credential, 'delete_records', args);
  assert.equal(result.resultType, 'input_required', JSON.stringify(result));
  assert.equal(result.content, undefined, 'no tool result yet');
  assert.deepEqual(Object.keys(result.inputRequests), ['confirm_write']);
  const ask = result.inputRequests.confirm_write;
  assert.equal(ask.method, 'elicitation/create');
  assert.equal(ask.params.mode, 'form');
  const n = to - from + 1;
  assert.match(ask.params.message, new RegExp(`^Delete ${n} rows of "order_items"\\?`));
  assert.match(ask.params.message, new RegExp(`First 5 rows:\\n- id=${from}, `));
  assert.match(ask.params.message, new RegExp(`and ${n - 5} more`));
  assert.equal(ask.params.requestedSchema.properties.confirm.type, 'boolean');
  assert.equal(ask.params.requestedSchema.properties.confirm.title, `Delete ${n} rows`);
  assert.deepEqual(ask.params.requestedSchema.required, ['confirm']);
  assert.equal(typeof result.requestState, 'string');
  assert.equal(result._meta[SERVER_INFO].name, 'dbmcp');
  assert.equal(await itemsBetween(from, to), n, 'asking deleted nothing');
  return { args, state: result.requestState };
}

before(async () => {
  w = await startWorker({
    services: {
      demo: { label: 'demo', database: d1, read_only: false, listen: LISTEN },
      short: { label: 'short-lived confirmations', database: d1, read_only: false, auth: 'none', confirm_ttl_seconds: 1 },
    },
  });
  db = await w.mf.getD1Database('DB');
  key = (await createKey(w.url, 'demo', { label: 'modern flows' })).key;
});

after(async () => {
  await w?.stop();
});

describe('MRTR confirmation over raw HTTP', () => {
  test('accept: the retry with inputResponses and requestState deletes exactly the rows shown, once', async () => {
    const { args, state } = await askToDelete('demo', key, 1001, 1012);
    const done = await call('demo', key, 'delete_records', args, { inputResponses: accept(), requestState: state });
    assert.equal(done.resultType, 'complete');
    assert.equal(done.isError, false, JSON.stringify(done));
    assert.equal(done.structuredContent.deleted, 12);
    assert.deepEqual(done.structuredContent.keys.map(Number).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => 1001 + i));
    assert.equal(done._meta[SERVER_INFO].name, 'dbmcp');
    assert.equal(await itemsBetween(1001, 1012), 0);
    assert.equal(await itemsBetween(1000, 1013), 2, 'the neighbours are untouched');

    // The same accepted state again: refused, and no new question.
    const replay = await call('demo', key, 'delete_records', args, { inputResponses: accept(), requestState: state });
    assert.equal(replay.resultType, 'complete');
    assert.equal(replay.isError, true);
    assert.match(replay.content[0].text, /already used/);
  });

  test('decline, cancel, and accept with confirm false: nothing deleted, a clear non-error result', async () => {
    for (const [answer, how] of [
      [{ confirm_write: { action: 'decline' } }, 'declined'],
      [{ confirm_write: { action: 'cancel' } }, 'cancelled'],
      [accept(false), 'declined'],
    ]) {
      const { args, state } = await askToDelete('demo', key, 1101, 1111);
      const result = await call('demo', key, 'delete_records', args, { inputResponses: answer, requestState: state });
      assert.equal(result.resultType, 'complete');
      assert.equal(result.isError, false, JSON.stringify(result));
      assert.equal(result.structuredContent.declined, true);
      assert.equal(result.structuredContent.deleted, 0);
      assert.equal(result.content[0].text, `The person ${how} the confirmation: nothing was deleted. Do not retry unless they ask for it again.`);
      assert.equal(await itemsBetween(1101, 1111), 11);
    }
  });

  test('a retry without an answer asks again', async () => {
    const { args, state } = await askToDelete('demo', key, 1151, 1161);
    const again = await call('demo', key, 'delete_records', args, { requestState: state });
    assert.equal(again.resultType, 'input_required');
    assert.notEqual(again.requestState, state, 'a fresh state');
    assert.equal(await itemsBetween(1151, 1161), 11);
  });

  test('rows changed between the question and the answer: asked again with the new count, nothing deleted', async () => {
    const { args, state } = await askToDelete('demo', key, 1251, 1262);
    await db.prepare('DELETE FROM order_items WHERE id = ?').bind(1255).run();
    const again = await call('demo', key, 'delete_records', args, { inputResponses: accept(), requestState: state });
    assert.equal(again.resultType, 'input_required', JSON.stringify(again));
    const message = again.inputRequests.confirm_write.params.message;
    assert.match(message, /^The rows changed since you confirmed \(12 then, 11 now\); nothing was changed\. Delete 11 rows of "order_items"\?/);
    assert.equal(await itemsBetween(1251, 1262), 11);
    const done = await call('demo', key, 'delete_records', args, { inputResponses: accept(), requestState: again.requestState });
    assert.equal(done.structuredContent.deleted, 11);
    assert.equal(await itemsBetween(1251, 1262), 0);
  });

  test('a tampered requestState is refused and deletes nothing', async () => {
    const { args, state } = await askToDelete('demo', key, 1201, 1212);
    const at = Math.floor(state.length / 2);
    const tampered = state.slice(0, at) + (state[at] === 'A' ? 'B' : 'A') + state.slice(at + 1);
    const result = await call('demo', key, 'delete_records', args, { inputResponses: accept(), requestState: tampered });
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(result.content[0].text, /not valid: it was altered/);
    assert.equal(await itemsBetween(1201, 1212), 12);
    // The genuine state still works after the forgery was refused.
    const done = await call('demo', key, 'delete_records', args, { inputResponses: accept(), requestState: state });
    assert.equal(done.structuredContent.deleted, 12);
  });

  test("a state for other arguments, or from another credential, is refused", async () => {
    const { args, state } = await askToDelete('demo', key, 1301, 1312);
    const wider = { ...args, filter: rangeFilter(1301, 1313) };
    const other = await call('demo', key, 'delete_records', wider, { inputResponses: accept(), requestState: state });
    assert.match(other.content[0].text, /other arguments/);
    const { key: bob } = await createKey(w.url, 'demo', { label: 'bob' });
    const stolen = await call('demo', bob, 'delete_records', args, { inputResponses: accept(), requestState: state });
    assert.match(stolen.content[0].text, /another credential/);
    assert.equal(await itemsBetween(1301, 1313), 13);
  });

  test('an expired state is refused (service with confirm_ttl_seconds = 1, real clock)', async () => {
    const { args, state } = await askToDelete('short', null, 1401, 1412);
    await sleep(1200);
    const result = await call('short', null, 'delete_records', args, { inputResponses: accept(), requestState: state });
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.match(result.content[0].text, /expired/);
    assert.equal(await itemsBetween(1401, 1412), 12);
  });

  test('a modern client without (form) elicitation gets the two-step token instead', async () => {
    for (const [meta, from] of [[PLAIN, 1501], [metaWith({ elicitation: { url: {} } }), 1551]]) {
      const to = from + 11;
      const args = { table: 'order_items', filter: rangeFilter(from, to) };
      const first = await call('demo', key, 'delete_records', args, {}, { meta });
      assert.equal(first.resultType, 'complete');
      assert.equal(first.inputRequests, undefined);
      assert.equal(first.isError, false);
      assert.equal(first.structuredContent.confirmation_required, true);
      assert.equal(first.structuredContent.count, 12);
      assert.equal(typeof first.structuredContent.confirmation_token, 'string');
      assert.equal(await itemsBetween(from, to), 12);
      if (meta === PLAIN) {
        const done = await call('demo', key, 'delete_records', { ...args, confirm: first.structuredContent.confirmation_token }, {}, { meta });
        assert.equal(done.structuredContent.deleted, 12);
        assert.equal(await itemsBetween(from, to), 0);
      }
    }
  });

  test('a delete within the threshold runs at once for an eliciting client', async () => {
    const result = await call('demo', key, 'delete_records', { table: 'order_items', filter: rangeFilter(1601, 1610) });
    assert.equal(result.resultType, 'complete');
    assert.equal(result.structuredContent.deleted, 10);
    assert.equal(await itemsBetween(1601, 1610), 0);
  });
});

/** The official v2 client pinned to 2026-07-28, declaring form elicitation. */
async function v2Client({ elicitation, onElicit } = {}) {
  const transport = new TransportV2(new URL(w.mcpUrl('demo')), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new ClientV2(
    { name: 'dbmcp-e2e-v2-flows', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN } }, capabilities: elicitation ? { elicitation: { form: {} } } : {} },
  );
  if (onElicit) client.setRequestHandler('elicitation/create', onElicit);
  await client.connect(transport);
  assert.equal(client.getProtocolEra(), 'modern');
  return client;
}

describe('MRTR confirmation through the official TS SDK v2 client', () => {
  test('accept: the client answers from its elicitation handler and retries by itself', async () => {
    const asked = [];
    const client = await v2Client({
      elicitation: true,
      onElicit: async (req) => {
        asked.push(req.params);
        return { action: 'accept', content: { confirm: true } };
      },
    });
    try {
      const result = await client.callTool({ name: 'delete_records', arguments: { table: 'order_items', filter: rangeFilter(2001, 2012) } });
      assert.equal(asked.length, 1, 'asked once');
      assert.match(asked[0].message, /^Delete 12 rows of "order_items"\?/);
      assert.equal(result.isError, false, JSON.stringify(result));
      assert.equal(result.structuredContent.deleted, 12);
      assert.equal(await itemsBetween(2001, 2012), 0);
    } finally {
      await client.close();
    }
  });

  test('decline: nothing deleted and the tool result says so', async () => {
    let asked = 0;
    const client = await v2Client({
      elicitation: true,
      onElicit: async () => {
        asked += 1;
        return { action: 'decline' };
      },
    });
    try {
      const result = await client.callTool({ name: 'delete_records', arguments: { table: 'order_items', filter: rangeFilter(2101, 2112) } });
      assert.equal(asked, 1);
      assert.equal(result.isError, false);
      assert.equal(result.structuredContent.declined, true);
      assert.match(result.content[0].text, /declined the confirmation: nothing was deleted/);
      assert.equal(await itemsBetween(2101, 2112), 12);
    } finally {
      await client.close();
    }
  });

  test('without elicitation the v2 client gets the two-step token', async () => {
    const client = await v2Client();
    try {
      const result = await client.callTool({ name: 'delete_records', arguments: { table: 'order_items', filter: rangeFilter(2201, 2212) } });
      assert.equal(result.isError, false);
      assert.equal(result.structuredContent.confirmation_required, true);
      assert.equal(result.structuredContent.count, 12);
      assert.equal(await itemsBetween(2201, 2212), 12);
    } finally {
      await client.close();
    }
  });
});

/** Splits an SSE body into its events' parsed data and its comments. */
function sseEvents(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    if (data) events.push(JSON.parse(data));
  }
  return events;
}

describe('progress in the 2026-07-28 era', () => {
  test('a tools/call with a progressToken streams notifications/progress, then the result, on one SSE response', async () => {
    const res = await modern('demo', key, 'tools/call', {
      name: 'get_table_data',
      arguments: { table: 'customers', count_only: true },
      _meta: { progressToken: 'p-7' },
    }, { id: 71 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = sseEvents(res.text);
    const progress = events.filter((e) => e.method === 'notifications/progress');
    assert.deepEqual(progress.map((e) => [e.params.progressToken, e.params.progress, e.params.total, e.params.message]), [
      ['p-7', 0, 1, 'counting rows of customers'],
      ['p-7', 1, 1, 'round trip 1 of 1 done (1 rows)'],
    ]);
    assert.equal(events.length, 3, 'two progress events and the answer');
    const last = events.at(-1);
    assert.equal(last.id, 71);
    assert.equal(last.result.resultType, 'complete');
    assert.equal(last.result._meta[SERVER_INFO].name, 'dbmcp');
    assert.equal(last.result.isError, false);
    assert.equal(typeof last.result.structuredContent.count, 'number');
  });

  test('a confirmation with a progressToken: the input_required result and the confirmed write both close their streams', async () => {
    const args = { table: 'order_items', filter: rangeFilter(2301, 2312) };
    const first = await modern('demo', key, 'tools/call', { name: 'delete_records', arguments: args, _meta: { progressToken: 'p-9' } }, { id: 91 });
    assert.equal(first.status, 200, first.text);
    const firstEvents = first.headers.get('content-type') === 'text/event-stream' ? sseEvents(first.text) : [first.json];
    const asked = firstEvents.at(-1);
    assert.equal(asked.id, 91);
    assert.equal(asked.result.resultType, 'input_required', first.text);
    for (const e of firstEvents.slice(0, -1)) assert.equal(e.params.progressToken, 'p-9', first.text);
    assert.equal(await itemsBetween(2301, 2312), 12);

    const retry = await modern('demo', key, 'tools/call', {
      name: 'delete_records',
      arguments: args,
      inputResponses: accept(),
      requestState: asked.result.requestState,
      _meta: { progressToken: 'p-10' },
    }, { id: 92 });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers.get('content-type'), 'text/event-stream');
    const events = sseEvents(retry.text);
    const progress = events.filter((e) => e.method === 'notifications/progress');
    assert.ok(progress.length >= 1, retry.text);
    assert.ok(progress.every((e) => e.params.progressToken === 'p-10'));
    assert.equal(events.at(-1).id, 92);
    assert.equal(events.at(-1).result.resultType, 'complete');
    assert.equal(events.at(-1).result.structuredContent.deleted, 12);
    assert.equal(await itemsBetween(2301, 2312), 0);
  });

  test('without text/event-stream in Accept the same call answers plain JSON and no progress', async () => {
    const res = await modern('demo', key, 'tools/call', {
      name: 'get_table_data',
      arguments: { table: 'customers', count_only: true },
      _meta: { progressToken: 'p-8' },
    }, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(res.json.result.resultType, 'complete');
  });

  test('the v2 client pinned to 2026-07-28 receives progress through onprogress', async () => {
    const client = await v2Client();
    try {
      const seen = [];
      const result = await client.callTool({ name: 'get_table_data', arguments: { table: 'customers', count_only: true } }, { onprogress: (p) => seen.push(p) });
      assert.equal(result.isError, false);
      assert.deepEqual(seen.map((p) => [p.progress, p.total, p.message]), [[0, 1, 'counting rows of customers'], [1, 1, 'round trip 1 of 1 done (1 rows)']]);
    } finally {
      await client.close();
    }
  });
});

describe('subscriptions/listen through the modern path', () => {
  const listenParams = { notifications: { resourcesListChanged: true } };

  test('with the required headers: acknowledged, a schema change delivers list_changed, the result ends it', async () => {
    const started = Date.now();
    const res = await fetch(w.mcpUrl('demo'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${key}`,
        ...modernHeaders('subscriptions/listen'),
      },
      body: JSON.stringify(request('subscriptions/listen', { _meta: PLAIN, ...listenParams }, 'listen-1')),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = [];
    const decoder = new TextDecoder();
    let buffer = '';
    let created = false;
    // The stream ends at its 3 s bound (LISTEN); the loop reads until then.
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        events.push(...sseEvents(buffer.slice(0, end + 2)));
        buffer = buffer.slice(end + 2);
      }
      if (!created && events.some((e) => e.method === 'notifications/subscriptions/acknowledged')) {
        created = true;
        await db.exec('CREATE TABLE created_while_listening_modern (id INTEGER PRIMARY KEY)');
      }
    }
    assert.ok(Date.now() - started < 10000);
    assert.deepEqual(events[0], {
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { [SUBSCRIPTION_ID]: 'listen-1' }, notifications: { resourcesListChanged: true } },
    });
    const changes = events.filter((e) => e.method === 'notifications/resources/list_changed');
    assert.equal(changes.length, 1, JSON.stringify(events));
    assert.deepEqual(changes[0].params._meta, { [SUBSCRIPTION_ID]: 'listen-1' });
    assert.deepEqual(events.at(-1), { jsonrpc: '2.0', id: 'listen-1', result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: 'listen-1' } } });
  });

  test('a missing or wrong Mcp-Method, or a missing MCP-Protocol-Version, is 400 -32020 before any stream', async () => {
    for (const headers of [{ 'mcp-method': null }, { 'mcp-method': 'tools/list' }, { 'mcp-protocol-version': null }]) {
      const res = await modern('demo', key, 'subscriptions/listen', listenParams, { meta: PLAIN, headers, id: 9 });
      assert.equal(res.status, 400, `${JSON.stringify(headers)}: ${res.text}`);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      assert.equal(res.json.error.code, -32020, res.text);
      assert.equal(res.json.id, 9);
    }
  });

  test('discover advertises resources.listChanged', async () => {
    const res = await modern('demo', key, 'server/discover', {}, { meta: PLAIN });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.capabilities.resources.listChanged, true);
  });
});
