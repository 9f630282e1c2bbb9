// MCP 2026-07-28 (the stateless "modern" era) on the same /mcp/<service> URL as the 2025 sessions:
// the official TS SDK v2 client pinned and in auto mode, the v1 client staying legacy, and raw
// HTTP for every modern error (header mismatches, unsupported version, unknown and removed
// methods, GET/DELETE, batches), discover, resultType, caching hints and serverInfo, with an API
// key and an OAuth token.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { connectClient, initializeParams, readResponse, request, rpc } from '../support/mcp.mjs';
import { createKey, startWorker } from '../support/worker.mjs';
import { obtainTokens } from '../support/oauth.mjs';

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'dbmcp-e2e-raw', version: '1.0.0' },
};
const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
const NAME_SOURCE = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

let w;
let key;
let readKey;

/**
 * One modern request over raw HTTP with conformant headers; `headers` overrides them (null
 * removes one), `meta` replaces `_meta` (null drops it).
 */
function modern(service, credential, method, params = {}, { headers = {}, meta = META, id = 7 } = {}) {
  const body = { ...params };
  if (meta !== null) body._meta = meta;
  const standard = { 'mcp-protocol-version': MODERN, 'mcp-method': method };
  const nameField = NAME_SOURCE[method];
  if (nameField && typeof params[nameField] === 'string') standard['mcp-name'] = params[nameField];
  return rpc(w.mcpUrl(service), credential, request(method, body, id), { headers: { ...standard, ...headers } });
}

/** Asserts a modern JSON-RPC error: HTTP status, code, and the id echoed. */
function assertError(res, status, code, id = 7) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(res.json.id, id, 'the error names the request id');
}

function v2Client(url, credential, versionNegotiation) {
  const transport = new TransportV2(new URL(url), {
    requestInit: credential ? { headers: { Authorization: `Bearer ${credential}` } } : undefined,
  });
  const client = new ClientV2({ name: 'dbmcp-e2e-v2', version: '1.0.0' }, versionNegotiation ? { versionNegotiation } : {});
  return { client, transport };
}

before(async () => {
  w = await startWorker();
  key = (await createKey(w.url, 'demo')).key;
  readKey = (await createKey(w.url, 'demo', { scopes: ['mcp:read'] })).key;
});

after(async () => {
  await w?.stop();
});

describe('official clients', () => {
  test('the v2 client pinned to 2026-07-28 lists and calls tools statelessly', async () => {
    const { client, transport } = v2Client(w.mcpUrl('demo'), key, { mode: { pin: MODERN } });
    await client.connect(transport);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      assert.equal(transport.sessionId, undefined, 'no session in the modern era');
      assert.equal(client.getServerVersion()?.name, 'dbmcp');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'get_tables'));
      assert.ok(tools.some((t) => t.name === 'create_records'), 'a read-write key sees write tools');
      const result = await client.callTool({ name: 'get_tables', arguments: {} });
      assert.equal(result.isError, false);
      assert.ok(JSON.stringify(result.structuredContent).includes('customers'));
      const read = await client.readResource({ uri: 'dbmcp://demo/tables/customers' });
      assert.match(read.contents[0].text, /"customers"/);
      const prompt = await client.getPrompt({ name: 'query_table', arguments: { table: 'orders' } });
      assert.ok(prompt.messages.length > 0);
    } finally {
      await client.close();
    }
  });

  test('the v2 client in auto mode probes server/discover and ends up modern', async () => {
    const { client, transport } = v2Client(w.mcpUrl('demo'), key, { mode: 'auto' });
    await client.connect(transport);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getDiscoverResult().supportedVersions[0], MODERN);
      assert.equal(client.getDiscoverResult()._meta['io.modelcontextprotocol/serverInfo'].name, 'dbmcp');
      const result = await client.callTool({ name: 'get_table_data', arguments: { table: 'customers', limit: 2 } });
      assert.equal(result.isError, false, JSON.stringify(result));
      assert.equal(result.structuredContent.records.length, 2);
    } finally {
      await client.close();
    }
  });

  test('the v2 client in its default (legacy) mode and the v1 client keep 2025 sessions', async () => {
    const { client, transport } = v2Client(w.mcpUrl('demo'), key, undefined);
    await client.connect(transport);
    try {
      assert.equal(client.getProtocolEra(), 'legacy');
      assert.ok(transport.sessionId, 'a legacy session id');
      assert.ok((await client.listTools()).tools.length > 0);
    } finally {
      await client.close();
    }
    const v1 = await connectClient(w.mcpUrl('demo'), key);
    try {
      assert.ok(v1.transport.sessionId, 'the v1 client got a session');
      assert.equal(v1.transport.protocolVersion, '2025-11-25');
      const result = await v1.client.callTool({ name: 'get_tables', arguments: {} });
      assert.equal(result.isError, false);
    } finally {
      await v1.client.close();
    }
  });
});

describe('discover and result fields', () => {
  test('server/discover: versions (modern and legacy), capabilities, serverInfo, caching', async () => {
    const res = await modern('demo', key, 'server/discover');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(res.headers.get('mcp-session-id'), null, 'no session is minted');
    const r = res.json.result;
    assert.deepEqual(r.supportedVersions, [MODERN, '2025-11-25', '2025-06-18', '2025-03-26']);
    assert.deepEqual(Object.keys(r.capabilities).sort(), ['completions', 'prompts', 'resources', 'tools']);
    assert.equal(r.resultType, 'complete');
    assert.equal(r._meta[SERVER_INFO].name, 'dbmcp');
    assert.equal(r._meta[SERVER_INFO].version, '0.1.0');
    assert.match(r.instructions, /get_tables/);
    assert.equal(r.ttlMs, 300000);
    assert.equal(r.cacheScope, 'private', 'a keyed service answers privately');
  });

  test('clientInfo may be left out; an open service caches publicly', async () => {
    const meta = { ...META };
    delete meta['io.modelcontextprotocol/clientInfo'];
    const res = await modern('open', null, 'server/discover', {}, { meta });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.cacheScope, 'public');
  });

  test('lists carry resultType, ttlMs, cacheScope and serverInfo; tools/list order is stable', async () => {
    const first = await modern('demo', key, 'tools/list');
    const second = await modern('demo', key, 'tools/list');
    assert.equal(first.status, 200, first.text);
    const names = (res) => res.json.result.tools.map((t) => t.name);
    assert.deepEqual(names(first), names(second));
    for (const [method, ttl] of [['tools/list', 300000], ['prompts/list', 300000], ['resources/templates/list', 300000], ['resources/list', 30000]]) {
      const res = await modern('demo', key, method);
      assert.equal(res.status, 200, `${method}: ${res.text}`);
      const r = res.json.result;
      assert.equal(r.resultType, 'complete', method);
      assert.equal(r.ttlMs, ttl, method);
      assert.equal(r.cacheScope, 'private', method);
      assert.equal(r._meta[SERVER_INFO].name, 'dbmcp', method);
    }
    const read = await modern('demo', key, 'resources/read', { uri: 'dbmcp://demo/tables/orders' });
    assert.equal(read.json.result.ttlMs, 30000);
    assert.equal(read.json.result.cacheScope, 'private');
  });

  test('a tool result is complete, carries serverInfo and no caching hints', async () => {
    const res = await modern('demo', key, 'tools/call', { name: 'get_tables', arguments: {} });
    assert.equal(res.status, 200, res.text);
    const r = res.json.result;
    assert.equal(r.resultType, 'complete');
    assert.equal(r.isError, false);
    assert.equal(r._meta[SERVER_INFO].name, 'dbmcp');
    assert.equal(r.ttlMs, undefined);
  });

  test('a read-only key sees no write tools and is refused one in-band', async () => {
    const list = await modern('demo', readKey, 'tools/list');
    assert.ok(!list.json.result.tools.some((t) => t.name === 'create_records'));
    const call = await modern('demo', readKey, 'tools/call', { name: 'create_records', arguments: { table: 'categories', records: [{ name: 'x' }] } });
    assertError(call, 200, -32602);
  });

  test('a resource that does not exist is -32602 (not -32002) in the modern era', async () => {
    const res = await modern('demo', key, 'resources/read', { uri: 'dbmcp://demo/tables/nope' });
    assertError(res, 200, -32602);
    assert.equal(res.json.error.data.uri, 'dbmcp://demo/tables/nope');
  });

  test('a log level is accepted (and no log message is sent); an unknown one is -32602', async () => {
    const ok = await modern('demo', key, 'tools/call', { name: 'get_tables', arguments: {} }, { meta: { ...META, 'io.modelcontextprotocol/logLevel': 'debug' } });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.headers.get('content-type'), /^application\/json/);
    assert.equal(ok.json.result.isError, false);
    const bad = await modern('demo', key, 'tools/list', {}, { meta: { ...META, 'io.modelcontextprotocol/logLevel': 'loud' } });
    assertError(bad, 400, -32602);
  });
});

describe('modern errors over HTTP', () => {
  test('MCP-Protocol-Version missing, or not the _meta version: 400 -32020', async () => {
    assertError(await modern('demo', key, 'tools/list', {}, { headers: { 'mcp-protocol-version': null } }), 400, -32020);
    const mismatch = await modern('demo', key, 'tools/list', {}, { meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } });
    assertError(mismatch, 400, -32020);
    assert.match(mismatch.json.error.message, /MCP-Protocol-Version/);
  });

  test('Mcp-Method missing or not the body method: 400 -32020', async () => {
    assertError(await modern('demo', key, 'tools/list', {}, { headers: { 'mcp-method': null } }), 400, -32020);
    const wrong = await modern('demo', key, 'tools/list', {}, { headers: { 'mcp-method': 'prompts/list' } });
    assertError(wrong, 400, -32020);
    assert.match(wrong.json.error.message, /Mcp-Method/);
  });

  test('Mcp-Name missing or not params.name / params.uri: 400 -32020', async () => {
    const call = { name: 'get_tables', arguments: {} };
    assertError(await modern('demo', key, 'tools/call', call, { headers: { 'mcp-name': null } }), 400, -32020);
    assertError(await modern('demo', key, 'tools/call', call, { headers: { 'mcp-name': 'get_table_data' } }), 400, -32020);
    const uri = { uri: 'dbmcp://demo/tables/orders' };
    assertError(await modern('demo', key, 'resources/read', uri, { headers: { 'mcp-name': 'dbmcp://demo/tables/customers' } }), 400, -32020);
    const prompt = { name: 'explore_database', arguments: {} };
    assertError(await modern('demo', key, 'prompts/get', prompt, { headers: { 'mcp-name': 'query_table' } }), 400, -32020);
    assertError(await modern('demo', key, 'tools/call', call, { headers: { 'mcp-name': '=?base64?***?=' } }), 400, -32020);
  });

  test('a Base64-sentinel Mcp-Name is decoded before comparing', async () => {
    const encoded = `=?base64?${Buffer.from('get_tables').toString('base64')}?=`;
    const res = await modern('demo', key, 'tools/call', { name: 'get_tables', arguments: {} }, { headers: { 'mcp-name': encoded } });
    assert.equal(res.status, 200, res.text);
    // A non-ASCII resource URI travels encoded too; it passes the header check and is not found.
    const uri = 'dbmcp://demo/tables/caf%C3%A9ü';
    const read = await modern('demo', key, 'resources/read', { uri }, { headers: { 'mcp-name': `=?base64?${Buffer.from(uri).toString('base64')}?=` } });
    assertError(read, 200, -32602);
  });

  test('an unsupported version: 400 -32022 with supported and requested', async () => {
    const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const res = await modern('demo', key, 'tools/list', {}, { meta, headers: { 'mcp-protocol-version': '2099-01-01' } });
    assertError(res, 400, -32022);
    assert.deepEqual(res.json.error.data, { supported: [MODERN], requested: '2099-01-01' });
  });

  test('_meta missing or without clientCapabilities: 400 -32602', async () => {
    assertError(await modern('demo', key, 'tools/list', {}, { meta: null }), 400, -32602);
    const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN };
    assertError(await modern('demo', key, 'tools/list', {}, { meta }), 400, -32602);
  });

  test('unknown and removed methods: 404 -32601', async () => {
    for (const method of ['no/such/method', 'initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']) {
      const res = await modern('demo', key, method, method === 'resources/subscribe' ? { uri: 'dbmcp://demo/tables/orders' } : {});
      assertError(res, 404, -32601);
    }
  });

  test('GET and DELETE from a modern client: 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await readResponse(
        await fetch(w.mcpUrl('demo'), { method, headers: { authorization: `Bearer ${key}`, 'mcp-protocol-version': MODERN } }),
      );
      assert.equal(res.status, 405, `${method}: ${res.text}`);
      assert.equal(res.headers.get('allow'), 'POST');
    }
    // A 2025 DELETE without a session is still the legacy answer.
    const legacy = await readResponse(await fetch(w.mcpUrl('demo'), { method: 'DELETE', headers: { authorization: `Bearer ${key}` } }));
    assert.equal(legacy.status, 400);
  });

  test('a batch is refused; a notification is accepted with 202', async () => {
    const body = [request('tools/list', { _meta: META }, 1), request('prompts/list', { _meta: META }, 2)];
    const batch = await rpc(w.mcpUrl('demo'), key, body, { headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' } });
    assert.equal(batch.status, 400, batch.text);
    assert.equal(batch.json.error.code, -32600);
    assert.match(batch.json.error.message, /batch/);
    const note = await rpc(w.mcpUrl('demo'), key, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { _meta: META, requestId: 1 } }, { headers: { 'mcp-protocol-version': MODERN } });
    assert.equal(note.status, 202, note.text);
    assert.equal(note.text, '');
  });

  test('strict JSON: a key given twice is refused before any header is compared', async () => {
    // A router reading the first "name" and a server reading the last would disagree.
    const body = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_tables","name":"delete_records","arguments":{},"_meta":${JSON.stringify(META)}}}`;
    const res = await rpc(w.mcpUrl('demo'), key, body, { headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_tables' } });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, -32700);
    assert.match(res.json.error.message, /appears twice/);
  });

  test('Origin rules and CORS are the same as for the 2025 era', async () => {
    const evil = await modern('demo', key, 'tools/list', {}, { headers: { origin: 'https://evil.example' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.json.error, 'forbidden_origin');
    const origin = 'https://allowed.example.com';
    const ok = await modern('demo', key, 'tools/list', {}, { headers: { origin } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    const preflight = await fetch(w.mcpUrl('demo'), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const allowed = preflight.headers.get('access-control-allow-headers').toLowerCase();
    for (const header of ['mcp-protocol-version', 'mcp-method', 'mcp-name']) assert.ok(allowed.includes(header), header);
  });

  test('string ids are echoed on errors', async () => {
    const res = await modern('demo', key, 'nope', {}, { id: 'abc' });
    assertError(res, 404, -32601, 'abc');
  });
});

describe('credentials and the legacy era on the same URL', () => {
  test('no credential: 401 with the Bearer challenge, as in the legacy era', async () => {
    const res = await modern('demo', null, 'tools/list');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /^Bearer /);
  });

  test('an OAuth token works; without mcp:write a write tool gets 403 insufficient_scope', async () => {
    const { tokens } = await obtainTokens(w, { scope: 'mcp:read' });
    const list = await modern('demo', tokens.access_token, 'tools/list');
    assert.equal(list.status, 200, list.text);
    assert.ok(!list.json.result.tools.some((t) => t.name === 'delete_records'));
    const write = await modern('demo', tokens.access_token, 'tools/call', { name: 'delete_records', arguments: { table: 'orders', filter: 'id = 1' } });
    assert.equal(write.status, 403, write.text);
    assert.match(write.headers.get('www-authenticate'), /error="insufficient_scope"/);
    const { tokens: full } = await obtainTokens(w, { username: 'bob', scope: 'mcp:read mcp:write' });
    const { client, transport } = v2Client(w.mcpUrl('demo'), full.access_token, { mode: 'auto' });
    await client.connect(transport);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      assert.ok((await client.listTools()).tools.some((t) => t.name === 'delete_records'));
    } finally {
      await client.close();
    }
  });

  test('2025 requests are untouched: initialize opens a session, a request without one is refused', async () => {
    const init = await rpc(w.mcpUrl('demo'), key, request('initialize', initializeParams('2025-11-25')));
    assert.equal(init.status, 200, init.text);
    assert.ok(init.headers.get('mcp-session-id'));
    assert.equal(init.json.result.protocolVersion, '2025-11-25');
    assert.equal(init.json.result.resultType, undefined, 'legacy results are not decorated');
    const orphan = await rpc(w.mcpUrl('demo'), key, request('tools/list', {}, 9), { protocolVersion: '2025-11-25' });
    assert.equal(orphan.status, 400);
    assert.match(orphan.json.error.message, /Mcp-Session-Id/);
    assert.equal(orphan.json.id, 9);
    // A dual-era client's initialize that also carries modern _meta still opens a session...
    const dual = await rpc(w.mcpUrl('demo'), key, request('initialize', { ...initializeParams('2025-06-18'), _meta: META }), { headers: { 'mcp-protocol-version': MODERN } });
    assert.equal(dual.status, 200, dual.text);
    assert.ok(dual.headers.get('mcp-session-id'));
    // ...while one with only modern _meta is a modern request for a method that does not exist.
    assertError(await modern('demo', key, 'initialize', {}, { id: 7 }), 404, -32601);
    // A legacy session keeps its methods even when a request happens to carry modern _meta.
    const sid = init.headers.get('mcp-session-id');
    const ping = await rpc(w.mcpUrl('demo'), key, request('ping', { _meta: META }), { sessionId: sid, protocolVersion: '2025-11-25' });
    assert.equal(ping.status, 200, ping.text);
    assert.deepEqual(ping.json.result, {});
  });
});
