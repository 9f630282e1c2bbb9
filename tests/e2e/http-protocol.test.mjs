// Streamable HTTP at the wire level, with raw fetch: every bad input gets the exact status and
// JSON-RPC error code; plus version negotiation, batches, Origin/CORS, the info pages and how a
// bad configuration is reported.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createKey, DEFAULT_SERVICES, startWorker } from '../support/worker.mjs';
import {
  deleteSession,
  initializeParams,
  notification,
  openSession,
  parseSingleSse,
  readResponse,
  request,
  rpc,
} from '../support/mcp.mjs';

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

let worker;
let url; // the demo MCP endpoint
let key;
let sid; // a 2025-06-18 session
const V = '2025-06-18';

/** POST to the demo endpoint within the shared session. */
const post = (body, options = {}) => rpc(url, key, body, { sessionId: sid, protocolVersion: V, ...options });

function assertRpcError(res, status, code) {
  assert.equal(res.status, status, `status: ${res.text}`);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.json?.jsonrpc, '2.0', res.text);
  assert.equal(res.json.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.equal(res.json.result, undefined);
}

before(async () => {
  worker = await startWorker();
  url = worker.mcpUrl('demo');
  ({ key } = await createKey(worker.url, 'demo', { label: 'http protocol' }));
  ({ sessionId: sid } = await openSession(url, key, V));
});

after(async () => {
  await worker?.stop();
});

describe('malformed messages', () => {
  test('a body that is not JSON: 400, -32700', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    assertRpcError(res, 400, -32700);
    assert.equal(res.json.id, null);
  });

  test('jsonrpc is not "2.0": 400, -32600, with the id', async () => {
    const res = await post({ jsonrpc: '1.0', id: 7, method: 'ping' });
    assertRpcError(res, 400, -32600);
    assert.equal(res.json.id, 7);
    const missing = await post({ id: 8, method: 'ping' });
    assertRpcError(missing, 400, -32600);
  });

  test('id null: 400, -32600', async () => {
    const res = await post({ jsonrpc: '2.0', id: null, method: 'ping' });
    assertRpcError(res, 400, -32600);
    assert.match(res.json.error.message, /id must be a string or an integer/);
  });

  test('params not an object: 400, -32600', async () => {
    const res = await post({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: [1, 2] });
    assertRpcError(res, 400, -32600);
    assert.equal(res.json.id, 9);
  });

  test('a JSON value that is not a message: 400, -32600', async () => {
    assertRpcError(await post('"ping"'), 400, -32600);
    assertRpcError(await post({ jsonrpc: '2.0', id: 10 }), 400, -32600);
  });

  test('an empty body: 400, -32700', async () => {
    assertRpcError(await post(''), 400, -32700);
  });

  test('tools/call without a name: -32602; with non-object arguments: a tool error', async () => {
    assertRpcError(await post(request('tools/call', { arguments: {} })), 200, -32602);
    const res = await post(request('tools/call', { name: 'get_tables', arguments: [] }));
    assert.equal(res.status, 200);
    assert.equal(res.json.result.isError, true);
    assert.match(res.json.result.content[0].text, /arguments must be an object/);
  });

  test('initialize sent as a notification: 400, -32600, no session', async () => {
    const res = await rpc(url, key, notification('initialize', initializeParams(V)));
    assertRpcError(res, 400, -32600);
    assert.equal(res.headers.get('mcp-session-id'), null);
  });

  test('initialize without protocolVersion: -32602, no session', async () => {
    const res = await rpc(url, key, request('initialize', { capabilities: {} }, 3));
    assertRpcError(res, 200, -32602);
    assert.equal(res.json.id, 3);
    assert.equal(res.headers.get('mcp-session-id'), null);
  });

  test('an unknown method: 200, -32601', async () => {
    const res = await post(request('tables/drop', {}, 'abc'));
    assertRpcError(res, 200, -32601);
    assert.equal(res.json.id, 'abc');
  });

  test('tools/call of an unknown tool: 200, -32602', async () => {
    const res = await post(request('tools/call', { name: 'no_such_tool', arguments: {} }, 11));
    assertRpcError(res, 200, -32602);
    assert.equal(res.json.id, 11);
  });

  test('a cursor on tools/list (never issued): -32602', async () => {
    assertRpcError(await post(request('tools/list', { cursor: 'bogus' })), 200, -32602);
  });

  test('initialize on an existing session (without batching) opens a fresh one', async () => {
    const res = await post(request('initialize', initializeParams(V)));
    assert.equal(res.status, 200);
    const fresh = res.headers.get('mcp-session-id');
    assert.ok(fresh && fresh !== sid, 'a new session id');
  });
});

describe('sessions and protocol version headers', () => {
  test('a request without Mcp-Session-Id: 400', async () => {
    const res = await rpc(url, key, request('tools/list', undefined, 'no-session-1'), { protocolVersion: V });
    assertRpcError(res, 400, -32600);
    assert.match(res.json.error.message, /Mcp-Session-Id/);
    assert.equal(res.json.id, 'no-session-1', 'the error names the request it answers');
  });

  test('an unknown session id: 404', async () => {
    const res = await rpc(url, key, request('tools/list', undefined, 404404), { sessionId: 'no-such-session-0123456789', protocolVersion: V });
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, -32600);
    assert.equal(res.json.id, 404404);
  });

  test('a session id with a space in it: 404', async () => {
    const res = await rpc(url, key, request('ping'), { sessionId: `${sid.slice(0, 10)} ${sid.slice(10)}`, protocolVersion: V });
    assert.equal(res.status, 404);
  });

  test('an unsupported MCP-Protocol-Version: 400', async () => {
    const res = await post(request('ping', undefined, 'v-2099'), { protocolVersion: '2099-01-01' });
    assertRpcError(res, 400, -32600);
    assert.match(res.json.error.message, /unsupported MCP-Protocol-Version/);
    assert.equal(res.json.id, 'v-2099');
  });

  test('a version that does not match the session: 400', async () => {
    const res = await post(request('ping', undefined, 77), { protocolVersion: '2025-03-26' });
    assertRpcError(res, 400, -32600);
    assert.match(res.json.error.message, /does not match/);
    assert.equal(res.json.id, 77);
  });

  test('a matching version (and none at all) works', async () => {
    const res = await post(request('ping', undefined, 12));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { jsonrpc: '2.0', id: 12, result: {} });
    const bare = await post(request('ping'), { protocolVersion: null });
    assert.equal(bare.status, 200);
  });

  test('version negotiation echoes supported versions and falls back to the latest', async () => {
    for (const [asked, expected] of [
      ['2025-03-26', '2025-03-26'],
      ['2025-06-18', '2025-06-18'],
      ['2025-11-25', '2025-11-25'],
      ['2024-11-05', '2025-11-25'],
    ]) {
      const res = await rpc(url, key, request('initialize', initializeParams(asked)));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.result.protocolVersion, expected, `asked ${asked}`);
      assert.equal(res.json.result.serverInfo.name, 'dbmcp');
    }
  });

  test('Mcp-Session-Id is visible ASCII, long and unique', async () => {
    const a = await openSession(url, key, V);
    const b = await openSession(url, key, V);
    for (const id of [a.sessionId, b.sessionId, sid]) {
      assert.match(id, VISIBLE_ASCII);
      assert.ok(id.length >= 32, `long enough to be unguessable: ${id}`);
    }
    assert.notEqual(a.sessionId, b.sessionId);
  });

  test('DELETE ends a session: 204, then 404', async () => {
    const { sessionId } = await openSession(url, key, V);
    const del = await deleteSession(url, key, sessionId);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    const after = await rpc(url, key, request('ping'), { sessionId, protocolVersion: V });
    assert.equal(after.status, 404);
    const again = await deleteSession(url, key, sessionId);
    assert.equal(again.status, 404);
  });

  test('DELETE without a session id: 400', async () => {
    const res = await readResponse(await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } }));
    assert.equal(res.status, 400);
  });
});

/**
 * The worker may answer an oversized body before it has read it and close the connection, so the
 * client can see a reset while still writing (or on the next request over that socket): retry such
 * transport errors a few times (bounded). Any answer the server gives is asserted as it is.
 */
async function withTransportRetries(send) {
  const transportErrors = [];
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      return await send();
    } catch (err) {
      if (!/ECONNRESET|EPIPE|socket|closed/i.test(`${err.cause?.code ?? ''} ${err.cause?.message ?? err.message}`)) throw err;
      transportErrors.push(err.cause?.code ?? err.message);
    }
  }
  assert.fail(`no response in 5 attempts: ${transportErrors.join(', ')}`);
}

describe('HTTP methods, sizes and media types', () => {
  test('a body over 1 MiB (Content-Length): 413', async () => {
    const big = JSON.stringify(request('ping', { pad: 'x'.repeat(1024 * 1024) }));
    const res = await withTransportRetries(() => post(big));
    assert.equal(res.status, 413);
    assert.equal(res.json.error, 'payload_too_large');
  });

  test('a streamed body over 1 MiB (no Content-Length): 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    const oversized = () => {
      let sent = 0;
      return new ReadableStream({
        pull(controller) {
          if (sent >= 17) return controller.close();
          sent += 1;
          controller.enqueue(chunk);
        },
      });
    };
    const res = await withTransportRetries(async () =>
      readResponse(
        await fetch(url, {
          method: 'POST',
          duplex: 'half',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            accept: 'application/json',
            'mcp-session-id': sid,
          },
          body: oversized(),
        }),
      ),
    );
    assert.equal(res.status, 413);
    assert.equal(res.json.error, 'payload_too_large');
  });

  test('a body just under 1 MiB is processed', async () => {
    const params = { pad: '' };
    const skeleton = JSON.stringify(request('ping', params, 13)).length;
    params.pad = 'x'.repeat(1024 * 1024 - skeleton - 10);
    const res = await post(request('ping', params, 13));
    assert.equal(res.status, 200);
    assert.equal(res.json.id, 13);
  });

  test('Accept: text/event-stream only: the answer as one SSE event', async () => {
    const res = await post(request('ping', undefined, 14), { headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    assert.match(res.text, /^event: message\ndata: \{.*\}\n\n$/);
    const { event, data } = parseSingleSse(res.text);
    assert.equal(event, 'message');
    assert.deepEqual(data, { jsonrpc: '2.0', id: 14, result: {} });
  });

  test('Accept: text/event-stream only also carries errors as an SSE event', async () => {
    const res = await post(request('nope', undefined, 15), { headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(parseSingleSse(res.text).data.error.code, -32601);
  });

  test('Accept: */* gets JSON', async () => {
    const res = await post(request('ping', undefined, 16), { headers: { accept: '*/*' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(res.json, { jsonrpc: '2.0', id: 16, result: {} });
  });

  test('Accept: text/html only: 406', async () => {
    const res = await post(request('ping'), { headers: { accept: 'text/html' } });
    assert.equal(res.status, 406);
    assert.equal(res.json.error, 'not_acceptable');
  });

  test('Content-Type: text/plain: 415', async () => {
    const res = await post(request('ping'), { headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 415);
    assert.equal(res.json.error, 'unsupported_media_type');
  });

  test('Content-Type with a charset is accepted', async () => {
    const res = await post(request('ping'), { headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(res.status, 200);
  });

  test('a notification: 202 with an empty body', async () => {
    const res = await post(notification('notifications/initialized'));
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
    const cancelled = await post(notification('notifications/cancelled', { requestId: 99, reason: 'test' }));
    assert.equal(cancelled.status, 202);
  });

  test('a client response object: 202 with an empty body', async () => {
    const ok = await post({ jsonrpc: '2.0', id: 'server-req-1', result: {} });
    assert.equal(ok.status, 202);
    assert.equal(ok.text, '');
    const err = await post({ jsonrpc: '2.0', id: 'server-req-2', error: { code: -32601, message: 'no' } });
    assert.equal(err.status, 202);
  });

  test('GET: 405 with Allow', async () => {
    const res = await rpc(url, key, undefined, { method: 'GET', sessionId: sid, headers: { accept: 'text/event-stream', 'content-type': null } });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow'), /POST/);
    assert.match(res.headers.get('allow'), /DELETE/);
  });

  test('PUT: 405 with Allow', async () => {
    const res = await post(request('ping'), { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow'), /POST/);
  });

  test('a trailing slash reaches the same endpoint', async () => {
    const res = await rpc(`${url}/`, key, request('ping', undefined, 17), { sessionId: sid, protocolVersion: V });
    assert.equal(res.status, 200);
    assert.equal(res.json.id, 17);
  });
});

describe('batches', () => {
  test('refused with 400, -32600 for a 2025-06-18 session', async () => {
    const res = await post([request('ping', undefined, 1), request('tools/list', undefined, 2)]);
    assertRpcError(res, 400, -32600);
    assert.match(res.json.error.message, /batch/);
  });

  test('answered with an array of responses for a 2025-03-26 session', async () => {
    const old = await openSession(url, key, '2025-03-26');
    assert.equal(old.version, '2025-03-26');
    const res = await rpc(
      url,
      key,
      [request('ping', undefined, 21), notification('notifications/initialized'), request('tools/list', undefined, 22), request('nope', undefined, 23)],
      { sessionId: old.sessionId },
    );
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json), res.text);
    assert.equal(res.json.length, 3, 'one response per request, none for the notification');
    const byId = Object.fromEntries(res.json.map((r) => [r.id, r]));
    assert.deepEqual(byId[21].result, {});
    assert.equal(byId[22].result.tools.length, 18);
    assert.equal(byId[23].error.code, -32601);
  });

  test('a batch of notifications only: 202', async () => {
    const old = await openSession(url, key, '2025-03-26');
    const res = await rpc(url, key, [notification('notifications/initialized')], { sessionId: old.sessionId, protocolVersion: '2025-03-26' });
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
  });

  test('an empty batch: 400, -32600', async () => {
    const old = await openSession(url, key, '2025-03-26');
    assertRpcError(await rpc(url, key, [], { sessionId: old.sessionId }), 400, -32600);
  });

  test('initialize inside a batch is rejected and opens no session', async () => {
    const old = await openSession(url, key, '2025-03-26');
    const res = await rpc(url, key, [request('initialize', initializeParams('2025-03-26'), 31), request('ping', undefined, 32)], {
      sessionId: old.sessionId,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('mcp-session-id'), null, 'no new session');
    assert.equal(res.json.length, 2);
    const init = res.json.find((r) => r.error);
    assert.equal(init.error.code, -32600);
    assert.match(init.error.message, /initialize must be sent alone/);
    assert.deepEqual(res.json.find((r) => r.id === 32)?.result, {});
    // JSON-RPC 2.0: the error response to a request whose id was readable carries that id.
    assert.equal(init.id, 31, 'the error for the batched initialize names its request id');
  });

  test('a batch without a session (initialize in it) is refused with 400', async () => {
    const res = await rpc(url, key, [request('initialize', initializeParams('2025-03-26'), 41)]);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('mcp-session-id'), null);
  });
});

describe('routing, Origin and CORS', () => {
  test('an unknown service: 404 JSON unknown_service', async () => {
    const res = await rpc(`${worker.url}/mcp/nosuch`, key, request('initialize', initializeParams()));
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.json.error, 'unknown_service');
    assert.match(res.json.error_description, /demo/);
    const info = await readResponse(await fetch(`${worker.url}/mcp/nosuch/info`));
    assert.equal(info.status, 404);
    assert.equal(info.json.error, 'unknown_service');
  });

  test('an unknown path: 404 JSON', async () => {
    const res = await readResponse(await fetch(`${worker.url}/nothing/here`));
    assert.equal(res.status, 404);
    assert.equal(res.json.error, 'not_found');
  });

  test('a disallowed Origin: 403', async () => {
    const res = await post(request('ping'), { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
    assert.equal(res.json.error, 'forbidden_origin');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const init = await rpc(url, key, request('initialize', initializeParams()), { headers: { origin: 'https://evil.example' } });
    assert.equal(init.status, 403);
    assert.equal(init.headers.get('mcp-session-id'), null);
  });

  test('Origin: null (sandboxed pages): 403', async () => {
    const res = await post(request('ping'), { headers: { origin: 'null' } });
    assert.equal(res.status, 403);
  });

  test('an Origin that only starts like localhost: 403', async () => {
    const res = await post(request('ping'), { headers: { origin: 'http://127.0.0.1.evil.com' } });
    assert.equal(res.status, 403);
  });

  test('the Origin from ALLOWED_ORIGINS passes with CORS headers', async () => {
    const origin = 'https://allowed.example.com';
    const res = await post(request('ping', undefined, 51), { headers: { origin } });
    assert.equal(res.status, 200);
    assert.equal(res.json.id, 51);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    const expose = res.headers.get('access-control-expose-headers').toLowerCase();
    assert.ok(expose.includes('mcp-session-id'), expose);
    assert.match(res.headers.get('vary'), /Origin/i);
  });

  test('a localhost Origin passes when the worker runs on 127.0.0.1', async () => {
    assert.match(worker.url, /^http:\/\/127\.0\.0\.1:/);
    for (const origin of ['http://localhost:6274', 'http://127.0.0.1:3000']) {
      const res = await rpc(url, key, request('initialize', initializeParams()), { headers: { origin } });
      assert.equal(res.status, 200, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.ok(res.headers.get('access-control-expose-headers').toLowerCase().includes('mcp-session-id'));
      assert.ok(res.headers.get('mcp-session-id'));
    }
  });

  test('no Origin passes without CORS headers', async () => {
    const res = await post(request('ping'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('OPTIONS preflight: 204 with the allowed headers', async () => {
    const origin = 'https://allowed.example.com';
    const res = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-session-id, mcp-protocol-version',
      },
    });
    assert.equal(res.status, 204);
    const allowHeaders = res.headers.get('access-control-allow-headers').toLowerCase();
    for (const name of ['authorization', 'content-type', 'mcp-session-id', 'mcp-protocol-version']) {
      assert.ok(allowHeaders.includes(name), `${name} in ${allowHeaders}`);
    }
    const allowMethods = res.headers.get('access-control-allow-methods');
    for (const method of ['POST', 'DELETE']) assert.ok(allowMethods.includes(method), allowMethods);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
  });

  test('OPTIONS preflight from a disallowed Origin: 403', async () => {
    const res = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(res.status, 403);
  });
});

describe('pages', () => {
  test('GET / as JSON lists the services and their endpoints', async () => {
    const res = await readResponse(await fetch(`${worker.url}/`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.json.name, 'dbmcp');
    const byName = Object.fromEntries(res.json.services.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(byName).sort(), ['demo', 'open', 'readonly']);
    assert.equal(byName.demo.mcp_endpoint, `${worker.url}/mcp/demo`);
    assert.equal(byName.readonly.read_only, true);
    assert.equal(byName.readonly.max_rows, 25);
    assert.match(byName.open.authentication, /none/);
  });

  test('GET / with Accept: text/html is an HTML page', async () => {
    const res = await readResponse(await fetch(`${worker.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(res.text, /^<!doctype html>/i);
    assert.ok(res.text.includes(`${worker.url}/mcp/demo`));
    assert.ok(res.text.includes('Demo store'));
  });

  test('GET /mcp/demo/info gives the endpoint', async () => {
    const res = await readResponse(await fetch(`${worker.url}/mcp/demo/info`));
    assert.equal(res.status, 200);
    assert.equal(res.json.name, 'demo');
    assert.equal(res.json.mcp_endpoint, `${worker.url}/mcp/demo`);
    assert.equal(res.json.label, 'Demo store');
  });

  test('GET /health: 200 {status: "ok"}', async () => {
    const res = await readResponse(await fetch(`${worker.url}/health`));
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'ok');
  });
});

describe('a bad SERVICES configuration', () => {
  let bad;
  before(async () => {
    bad = await startWorker({
      services: {
        demo: { ...DEFAULT_SERVICES.demo, max_rows: 5000 },
        typo: { database: { kind: 'd1', binding: 'DB' }, readonly: true },
      },
      migrate: false,
    });
  });
  after(async () => {
    await bad?.stop();
  });

  test('/health: 503 naming each offending field', async () => {
    const res = await readResponse(await fetch(`${bad.url}/health`));
    assert.equal(res.status, 503);
    assert.equal(res.json.status, 'error');
    const errors = res.json.config_errors;
    assert.ok(Array.isArray(errors), res.text);
    assert.ok(errors.some((e) => e.startsWith('SERVICES.demo.max_rows') && e.includes('5000')), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.startsWith('SERVICES.typo') && e.includes('readonly')), JSON.stringify(errors));
  });

  test('/mcp/demo: 503 with the same config_errors, not a crash', async () => {
    const health = await readResponse(await fetch(`${bad.url}/health`));
    const res = await rpc(`${bad.url}/mcp/demo`, null, request('initialize', initializeParams()));
    assert.equal(res.status, 503);
    assert.equal(res.json.error, 'configuration_error');
    assert.deepEqual(res.json.config_errors, health.json.config_errors);
    const home = await readResponse(await fetch(`${bad.url}/`));
    assert.equal(home.status, 503);
  });
});

describe('a service whose D1 binding does not exist', () => {
  let ghost;
  before(async () => {
    ghost = await startWorker({
      services: {
        demo: DEFAULT_SERVICES.demo,
        ghost: { database: { kind: 'd1', binding: 'NO_SUCH_DB' }, auth: 'none', read_only: true },
      },
    });
  });
  after(async () => {
    await ghost?.stop();
  });

  test('/health: 503 naming the binding', async () => {
    const res = await readResponse(await fetch(`${ghost.url}/health`));
    assert.equal(res.status, 503);
    assert.equal(res.json.status, 'error');
    const errors = res.json.config_errors;
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], /^SERVICES\.ghost\.database: /);
    assert.ok(errors[0].includes('NO_SUCH_DB'), errors[0]);
  });

  test('its session works, tools that need data say why they cannot, and the other service still works', async () => {
    const init = await rpc(`${ghost.url}/mcp/ghost`, null, request('initialize', initializeParams(V)));
    assert.equal(init.status, 200, 'initialize needs no database');
    const sessionId = init.headers.get('mcp-session-id');
    const list = await rpc(`${ghost.url}/mcp/ghost`, null, request('tools/list'), { sessionId, protocolVersion: V });
    assert.equal(list.status, 200, 'tools/list needs no database');
    assert.ok(list.json.result.tools.length > 0);
    const call = await rpc(`${ghost.url}/mcp/ghost`, null, request('tools/call', { name: 'get_tables', arguments: {} }), { sessionId, protocolVersion: V });
    assert.equal(call.status, 200);
    assert.equal(call.json.result.isError, true);
    assert.ok(call.json.result.content[0].text.includes('NO_SUCH_DB'), call.json.result.content[0].text);
    const info = await readResponse(await fetch(`${ghost.url}/mcp/demo/info`));
    assert.equal(info.status, 200);
  });
});
