// The admin API for API keys, and how the MCP endpoint treats keys: missing, wrong, of another
// service, read-only, revoked.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, createKey, startWorker } from '../support/worker.mjs';
import { initializeParams, openSession, readResponse, request, rpc } from '../support/mcp.mjs';

const V = '2025-06-18';
const WRITE_TOOLS = ['create_records', 'update_records', 'delete_records'];
const KEY_FORMAT = /^mcp_[A-Za-z0-9_-]{43,}$/;

let worker;

/** Calls the admin API; `token` undefined means the right admin token, null means none. */
async function admin(method, path, { token, body } = {}) {
  const headers = {};
  const t = token === undefined ? ADMIN_TOKEN : token;
  if (t !== null) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${worker.url}/admin${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readResponse(res);
}

const listKeys = async (service = 'demo') => {
  const res = await admin('GET', `/services/${service}/keys`);
  assert.equal(res.status, 200, res.text);
  return res;
};

/** `initialize` at a service with a given Authorization header value (null: none). */
function initializeWith(service, authorization) {
  return rpc(worker.mcpUrl(service), null, request('initialize', initializeParams(V)), {
    headers: authorization === null ? {} : { authorization },
  });
}

before(async () => {
  worker = await startWorker();
});

after(async () => {
  await worker?.stop();
});

describe('admin authentication', () => {
  test('a missing admin token: 401 with a Bearer challenge', async () => {
    const res = await admin('GET', '/services/demo/keys', { token: null });
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'unauthorized');
    assert.match(res.headers.get('www-authenticate'), /^Bearer /);
    const post = await admin('POST', '/services/demo/keys', { token: null, body: {} });
    assert.equal(post.status, 401);
  });

  test('a wrong admin token: 401 invalid_token', async () => {
    for (const token of ['wrong-token', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const res = await admin('POST', '/services/demo/keys', { token, body: {} });
      assert.equal(res.status, 401, token);
      assert.equal(res.json.error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
    }
  });

  test('an API key is not an admin token', async () => {
    const { key } = await createKey(worker.url, 'demo', { label: 'not admin' });
    const res = await admin('GET', '/services/demo/keys', { token: key });
    assert.equal(res.status, 401);
  });

  test('the admin check comes before the service lookup', async () => {
    const res = await admin('GET', '/services/nosuch/keys', { token: null });
    assert.equal(res.status, 401);
  });
});

describe('creating and listing keys', () => {
  test('POST creates {id, key}, shown once, with the default scopes', async () => {
    const res = await admin('POST', '/services/demo/keys', { body: { label: 'laptop' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const created = res.json;
    assert.match(created.key, KEY_FORMAT);
    assert.equal(typeof created.id, 'string');
    assert.ok(created.id.length > 0);
    assert.equal(created.label, 'laptop');
    assert.equal(created.service, 'demo');
    assert.equal(created.prefix, created.key.slice(0, 12));
    assert.deepEqual(created.scopes, ['mcp:read', 'mcp:write']);
    assert.ok(Math.abs(created.created_ms - Date.now()) < 60_000, 'created_ms is now');
  });

  test('POST with an empty body creates an unlabelled key; keys are unique', async () => {
    const res = await fetch(`${worker.url}/admin/services/demo/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 201);
    const a = await res.json();
    const b = await createKey(worker.url, 'demo');
    assert.equal(a.label, null);
    assert.notEqual(a.key, b.key);
    assert.notEqual(a.id, b.id);
  });

  test('GET lists id, prefix, label, created_ms, last_used_ms and rate_limit_per_minute, never the key', async () => {
    const created = await createKey(worker.url, 'demo', { label: 'listed' });
    const before = await listKeys();
    assert.ok(!before.text.includes(created.key), 'the secret never appears in a listing');
    assert.equal(before.json.service, 'demo');
    const entry = before.json.keys.find((k) => k.id === created.id);
    assert.ok(entry, 'the new key is listed');
    assert.deepEqual(Object.keys(entry).sort(), ['created_ms', 'id', 'label', 'last_used_ms', 'prefix', 'rate_limit_per_minute', 'scopes']);
    assert.equal(entry.rate_limit_per_minute, null, "no limit of its own: the service's applies");
    assert.equal(entry.prefix, created.key.slice(0, 12));
    assert.equal(entry.label, 'listed');
    assert.equal(entry.created_ms, created.created_ms);
    assert.equal(entry.last_used_ms, null, 'not used yet');
    for (const k of before.json.keys) assert.equal(k.key, undefined);

    // Use it, then last_used_ms is set.
    const { sessionId } = await openSession(worker.mcpUrl('demo'), created.key, V);
    assert.ok(sessionId);
    const afterUse = await listKeys();
    const used = afterUse.json.keys.find((k) => k.id === created.id);
    assert.equal(typeof used.last_used_ms, 'number');
    assert.ok(used.last_used_ms >= created.created_ms);
    assert.ok(!afterUse.text.includes(created.key));
  });

  test('keys are listed per service', async () => {
    const ro = await createKey(worker.url, 'readonly', { label: 'ro only' });
    const demo = await listKeys('demo');
    assert.ok(!demo.json.keys.some((k) => k.id === ro.id));
    const readonly = await listKeys('readonly');
    assert.ok(readonly.json.keys.some((k) => k.id === ro.id));
  });

  test('a label over 100 characters: 400; exactly 100 is fine', async () => {
    const res = await admin('POST', '/services/demo/keys', { body: { label: 'x'.repeat(101) } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'invalid_request');
    const ok = await admin('POST', '/services/demo/keys', { body: { label: 'é'.repeat(100) } });
    assert.equal(ok.status, 201, 'the limit counts characters, not bytes');
  });

  test('an unknown scope: 400 invalid_scope', async () => {
    for (const scopes of [['mcp:admin'], [], ['mcp:read', 'write']]) {
      const res = await admin('POST', '/services/demo/keys', { body: { scopes } });
      assert.equal(res.status, 400, JSON.stringify(scopes));
      assert.equal(res.json.error, 'invalid_scope');
    }
  });

  test('a body that is not JSON, or has unknown fields: 400', async () => {
    const notJson = await admin('POST', '/services/demo/keys', { body: 'label=laptop' });
    assert.equal(notJson.status, 400);
    const unknownField = await admin('POST', '/services/demo/keys', { body: { label: 'x', expires: 5 } });
    assert.equal(unknownField.status, 400);
    assert.equal(unknownField.json.error, 'invalid_request');
  });

  test('an unknown service: 404', async () => {
    const post = await admin('POST', '/services/nosuch/keys', { body: {} });
    assert.equal(post.status, 404);
    assert.equal(post.json.error, 'unknown_service');
    const get = await admin('GET', '/services/nosuch/keys');
    assert.equal(get.status, 404);
    const del = await admin('DELETE', '/services/nosuch/keys/abc');
    assert.equal(del.status, 404);
  });

  test('an unknown admin route: 404; a wrong method: 405', async () => {
    assert.equal((await admin('GET', '/whatever')).status, 404);
    assert.equal((await admin('PUT', '/services/demo/keys', { body: {} })).status, 405);
  });
});

describe('keys at the MCP endpoint', () => {
  test('a key works on its own service', async () => {
    const { key } = await createKey(worker.url, 'demo', { label: 'works' });
    const { sessionId } = await openSession(worker.mcpUrl('demo'), key, V);
    const res = await rpc(worker.mcpUrl('demo'), key, request('tools/list'), { sessionId, protocolVersion: V });
    assert.equal(res.status, 200);
    assert.equal(res.json.result.tools.length, 18);
  });

  test('a demo key at /mcp/readonly: 401 invalid_token', async () => {
    const { key } = await createKey(worker.url, 'demo', { label: 'wrong service' });
    const res = await initializeWith('readonly', `Bearer ${key}`);
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'invalid_token');
    assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('no Authorization: 401 with WWW-Authenticate: Bearer', async () => {
    const res = await initializeWith('demo', null);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /^Bearer\b/);
    assert.ok(!res.headers.get('www-authenticate').includes('error='), 'no error code when no credential was sent');
    assert.equal(res.headers.get('mcp-session-id'), null);
  });

  test('a browser client (allowed Origin) can read the 401 challenge', async () => {
    const res = await rpc(worker.mcpUrl('demo'), null, request('initialize', initializeParams(V)), {
      headers: { origin: 'https://allowed.example.com' },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://allowed.example.com');
    assert.ok(res.headers.get('access-control-expose-headers').toLowerCase().includes('www-authenticate'));
  });

  test('a wrong key: 401 with error="invalid_token"', async () => {
    const { key } = await createKey(worker.url, 'demo', { label: 'to be mangled' });
    const mangled = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const candidate of [mangled, 'mcp_' + 'x'.repeat(43), 'sk-not-even-ours']) {
      const res = await initializeWith('demo', `Bearer ${candidate}`);
      assert.equal(res.status, 401, candidate);
      assert.match(res.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/);
      assert.equal(res.json.error, 'invalid_token');
    }
  });

  test('a non-Bearer Authorization: 401 invalid_request', async () => {
    const { key } = await createKey(worker.url, 'demo', { label: 'basic' });
    const res = await initializeWith('demo', `Basic ${key}`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /error="invalid_request"/);
  });

  test('the Bearer scheme is case-insensitive', async () => {
    const { key } = await createKey(worker.url, 'demo', { label: 'case' });
    const res = await initializeWith('demo', `bearer ${key}`);
    assert.equal(res.status, 200);
  });

  test('a read-only key lists no write tools and gets -32602 calling create_records', async () => {
    const created = await createKey(worker.url, 'demo', { label: 'reader', scopes: ['mcp:read'] });
    assert.deepEqual(created.scopes, ['mcp:read']);
    const { key } = created;
    const url = worker.mcpUrl('demo');
    const { sessionId } = await openSession(url, key, V);
    const list = await rpc(url, key, request('tools/list'), { sessionId, protocolVersion: V });
    const names = list.json.result.tools.map((t) => t.name);
    assert.equal(names.length, 15);
    for (const name of WRITE_TOOLS) assert.ok(!names.includes(name), `${name} hidden`);
    assert.ok(names.includes('get_table_data'));
    const call = await rpc(
      url,
      key,
      request('tools/call', { name: 'create_records', arguments: { table: 'categories', records: [{ name: 'nope' }] } }, 5),
      { sessionId, protocolVersion: V },
    );
    assert.equal(call.status, 200);
    assert.equal(call.json.id, 5);
    assert.equal(call.json.error.code, -32602);
    assert.match(call.json.error.message, /may only read/);
    const count = await rpc(
      url,
      key,
      request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', filter: "name = 'nope'", count_only: true } }),
      { sessionId, protocolVersion: V },
    );
    assert.equal(count.json.result.structuredContent.count, 0, 'nothing was written');
    const listed = await rpc(url, key, request('tools/call', { name: 'list_tools', arguments: {} }), { sessionId, protocolVersion: V });
    assert.ok(!listed.json.result.structuredContent.tools.some((t) => WRITE_TOOLS.includes(t.name)));
  });

  test('DELETE revokes a key (204): it then gets 401, even in its open session', async () => {
    const created = await createKey(worker.url, 'demo', { label: 'revoked' });
    const url = worker.mcpUrl('demo');
    const { sessionId } = await openSession(url, created.key, V);
    const del = await admin('DELETE', `/services/demo/keys/${created.id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    const inSession = await rpc(url, created.key, request('tools/list'), { sessionId, protocolVersion: V });
    assert.equal(inSession.status, 401);
    assert.match(inSession.headers.get('www-authenticate'), /error="invalid_token"/);
    const init = await initializeWith('demo', `Bearer ${created.key}`);
    assert.equal(init.status, 401);
    const listed = await listKeys();
    assert.ok(!listed.json.keys.some((k) => k.id === created.id), 'no longer listed');
    const again = await admin('DELETE', `/services/demo/keys/${created.id}`);
    assert.equal(again.status, 404);
  });

  test('DELETE of an unknown id: 404', async () => {
    const res = await admin('DELETE', '/services/demo/keys/no-such-id');
    assert.equal(res.status, 404);
    assert.equal(res.json.error, 'unknown_key');
  });

  test('a key of another service cannot be revoked through this one', async () => {
    const ro = await createKey(worker.url, 'readonly', { label: 'cross' });
    const res = await admin('DELETE', `/services/demo/keys/${ro.id}`);
    assert.equal(res.status, 404);
    assert.equal((await initializeWith('readonly', `Bearer ${ro.key}`)).status, 200, 'still valid');
  });
});

describe('no ADMIN_TOKEN configured', () => {
  let bare;
  before(async () => {
    bare = await startWorker({ adminToken: null, migrate: false });
  });
  after(async () => {
    await bare?.stop();
  });

  test('the admin API answers 503 admin_disabled, whatever the token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }, { authorization: 'Bearer ' }]) {
      const res = await readResponse(await fetch(`${bare.url}/admin/services/demo/keys`, { method: 'POST', headers, body: '{}' }));
      assert.equal(res.status, 503, JSON.stringify(headers));
      assert.equal(res.json.error, 'admin_disabled');
    }
  });
});
