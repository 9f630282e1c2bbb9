// Attacks on the transport (issue 7, items 5 and 13): oversized bodies without Content-Length on
// every route, bodies that never end, and JSON-RPC batches built to multiply work and memory.
// Each test failed on the code before the fix: the edge read chunked bodies whole, and batches
// had no cap on messages or answer bytes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { ADMIN_TOKEN, createKey, DEFAULT_SERVICES, startWorker } from '../support/worker.mjs';
import { openSession, readNodeResponse, request, rpc } from '../support/mcp.mjs';

const MiB = 1024 * 1024;

let worker;
let key;

before(async () => {
  worker = await startWorker({
    services: {
      ...DEFAULT_SERVICES,
      // Big pages make a batch's answers grow fast.
      wide: { label: 'Wide pages', database: { kind: 'd1', binding: 'DB' }, read_only: true, max_rows: 1000 },
      // A small query budget, to show a batch shares one.
      budget: { label: 'Budget of 5', database: { kind: 'd1', binding: 'DB' }, read_only: true, max_queries_per_call: 5 },
      // The smallest budget: a call that needs one query must still run with a cold schema cache.
      budget1: { label: 'Budget of 1', database: { kind: 'd1', binding: 'DB' }, read_only: true, max_queries_per_call: 1 },
    },
  });
  ({ key } = await createKey(worker.url, 'demo', { label: 'transport attacks' }));
});

after(async () => {
  await worker?.stop();
});

/** A body of `total` bytes streamed in 64 KiB chunks: fetch sends it chunked, with no Content-Length. */
function chunkedBody(prefix, total) {
  const encoder = new TextEncoder();
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const piece = sent === 0 ? encoder.encode(prefix) : encoder.encode('x'.repeat(64 * 1024));
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
}

/**
 * POSTs a chunked body of about `total` bytes (no Content-Length) with node:http, which reports
 * the answer as soon as its head arrives: the worker answers 413 and closes while the client is
 * still sending, and fetch would see only the reset. Retries a reset before any answer (bounded).
 */
async function postChunked(path, headers, prefix, total, suffix = '') {
  const errors = [];
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      return await rawChunkedPost(path, headers, prefix, total, suffix);
    } catch (err) {
      errors.push(String(err.code ?? err.message));
    }
  }
  assert.fail(`no answer in 5 attempts: ${errors.join(', ')}`);
}

function rawChunkedPost(path, headers, prefix, total, suffix) {
  const target = new URL(`${worker.url}${path}`);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } },
      (res) => {
        answered = true;
        readNodeResponse(res).then((answer) => {
          resolve(answer);
          req.destroy();
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer within 30 s'));
    }, 30_000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const piece = 'x'.repeat(64 * 1024);
    // Past the cap (plus some slack) the client stops sending and waits: a server answering 413
    // closes with unread bytes, and a client still writing then often sees only the reset.
    const pauseAt = total > MiB ? MiB + 128 * 1024 : Infinity;
    let sent = 0;
    const pump = () => {
      if (prefix && sent === 0) {
        req.write(prefix);
        sent += prefix.length;
      }
      while (!answered && !req.destroyed && sent < total) {
        if (sent >= pauseAt) return; // the answer is due now; the body never ends
        sent += piece.length;
        if (!req.write(piece)) return req.once('drain', pump);
      }
      if (!answered && !req.destroyed) req.end(suffix);
    };
    pump();
  });
}

describe('bodies without Content-Length are capped on every route', () => {
  const EIGHT_MIB = 8 * MiB;
  const routes = [
    ['/register', { 'content-type': 'application/json' }, '{"redirect_uris":["https://x.example/cb"],"client_name":"'],
    ['/token', { 'content-type': 'application/x-www-form-urlencoded' }, 'grant_type=authorization_code&code='],
    ['/revoke', { 'content-type': 'application/x-www-form-urlencoded' }, 'token='],
    ['/authorize', { 'content-type': 'application/x-www-form-urlencoded' }, 'username='],
    ['/admin/services/demo/keys', { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, '{"label":"'],
    ['/mcp/demo', { 'content-type': 'application/json', accept: 'application/json' }, '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'],
  ];
  for (const [path, headers, prefix] of routes) {
    test(`8 MiB chunked to ${path}: 413`, async () => {
      const extra = path === '/mcp/demo' ? { authorization: `Bearer ${key}` } : {};
      const res = await postChunked(path, { ...headers, ...extra }, prefix, EIGHT_MIB);
      assert.equal(res.status, 413, res.text.slice(0, 300));
      assert.equal(res.json?.error, 'payload_too_large');
    });
  }

  test('an oversized admin body creates nothing', async () => {
    const list = async () => {
      const res = await fetch(`${worker.url}/admin/services/demo/keys`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      return (await res.json()).keys.length;
    };
    const before = await list();
    // Valid JSON once complete: the old edge read all of it and created the key.
    const res = await postChunked(
      '/admin/services/demo/keys',
      { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      '{"label":"',
      24 * 64 * 1024,
      '"}',
    );
    assert.equal(res.status, 413, res.text.slice(0, 200));
    assert.equal(await list(), before, 'no key was created from the oversized body');
  });

  test('reading stops at the cap: a body that passes 1 MiB and never ends still gets its 413', async () => {
    const target = new URL(`${worker.url}/mcp/demo`);
    const status = await new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          resolve(res.statusCode);
          res.resume();
          req.destroy();
        },
      );
      req.on('error', () => {}); // the destroy above, or the server closing first
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error('no answer within 15 s: the server waits for the end of a body it will refuse'));
      }, 15_000);
      req.on('close', () => clearTimeout(timer));
      // 1.25 MiB, then silence: the body never ends.
      req.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
      for (let n = 0; n < 20; n += 1) req.write('z'.repeat(64 * 1024));
    });
    assert.equal(status, 413);
  });

  test('a small chunked body is still read whole and answered', async () => {
    const res = await postChunked('/mcp/demo', { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}` }, '', 0);
    // An empty body is not JSON: the body was read (not refused for size) and parsed.
    assert.equal(res.status, 400);
    assert.equal(res.json?.error?.code, -32700);
  });
});

/**
 * Writes `head` and `body` on a raw TCP connection (no client library normalises the framing) and
 * returns everything the server sent before it closed or `waitMs` passed.
 */
function rawExchange(head, body, waitMs = 10_000) {
  const target = new URL(worker.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(target.port), target.hostname);
    let received = '';
    socket.on('data', (data) => (received += data.toString('latin1')));
    socket.on('error', () => {}); // a reset after the answer: what was received is the result
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(head);
    socket.write(body);
  });
}

/** The status line and JSON body of each HTTP answer in `text`, in order. */
function answersIn(text) {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n(?:[^\r]+\r\n)*\r\n(\{[^\n]*?\}(?=HTTP\/1\.1|$))?/g)].map((m) => ({
    status: Number(m[1]),
    json: m[2] ? JSON.parse(m[2]) : null,
  }));
}

describe('a declared Content-Length is the whole body (the edge reads such bodies in one call)', () => {
  const ping = JSON.stringify(request('ping'));
  const head = (extra) =>
    `POST /mcp/demo HTTP/1.1\r\nHost: ${new URL(worker.url).host}\r\nAuthorization: Bearer ${key}\r\n` +
    `Content-Type: application/json\r\nAccept: application/json\r\n${extra}Connection: close\r\n\r\n`;
  const pad = 'x'.repeat(64 * 1024);
  const chunk = (text) => `${text.length.toString(16)}\r\n${text}\r\n`;

  test('Content-Length 10 beside Transfer-Encoding: chunked, 1.25 MiB in chunks and no end: 413 at the cap', async () => {
    // The runtime passes both headers and frames the body by the chunks (the declared 10 bytes
    // mean nothing). Read in one call, this body would be awaited to its end, which never comes.
    const target = new URL(worker.url);
    const received = await new Promise((resolve) => {
      const socket = net.connect(Number(target.port), target.hostname);
      let text = '';
      socket.on('data', (data) => {
        text += data.toString('latin1');
        if (text.includes('\r\n\r\n')) socket.destroy();
      });
      socket.on('error', () => {});
      const timer = setTimeout(() => socket.destroy(), 15_000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
      socket.write(head('Content-Length: 10\r\nTransfer-Encoding: chunked\r\n'));
      socket.write(chunk('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'));
      for (let n = 0; n < 20; n += 1) socket.write(chunk(pad));
    });
    assert.match(received, /^HTTP\/1\.1 413 /, received.slice(0, 200) || 'no answer within 15 s');
  });

  test('bytes past the declared length are not part of the body: 2 MiB after a Content-Length of 20 give a parse error of those 20', async () => {
    const answers = answersIn(await rawExchange(head('Content-Length: 20\r\n'), ping + pad.repeat(32)));
    assert.equal(answers[0]?.status, 400, JSON.stringify(answers));
    assert.equal(answers[0].json?.error?.code, -32700);
    // The 20 bytes, not more: the parser ran out at column 20.
    assert.match(answers[0].json.error.message, /column 20\b/);
  });

  test('a body that stops short of its Content-Length is not answered as if complete', async () => {
    // 1,000 declared, the 40-byte ping sent, then the client ends its side: no 200 for a ping.
    const target = new URL(worker.url);
    const received = await new Promise((resolve) => {
      const socket = net.connect(Number(target.port), target.hostname);
      let text = '';
      socket.on('data', (data) => (text += data.toString('latin1')));
      socket.on('error', () => {});
      const timer = setTimeout(() => socket.destroy(), 10_000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
      socket.end(head('Content-Length: 1000\r\n') + ping);
    });
    assert.ok(!/^HTTP\/1\.1 2\d\d/.test(received), received.slice(0, 200));
  });

  test('the worker answers normally after each of these', async () => {
    const answers = answersIn(await rawExchange(head(`Content-Length: ${ping.length}\r\n`), ping));
    // A ping without a session: the session rule answers, so the body was read and parsed.
    assert.equal(answers[0]?.status, 400, JSON.stringify(answers));
    assert.match(answers[0].json?.error?.message ?? '', /Mcp-Session-Id/);
  });
});

describe('JSON-RPC batches are capped', () => {
  let sid;
  const V = '2025-03-26';
  before(async () => {
    ({ sessionId: sid } = await openSession(worker.mcpUrl('demo'), key, V));
  });
  const post = (body, service = 'demo', sessionId = sid, credential = key) =>
    rpc(worker.mcpUrl(service), credential, body, { sessionId, protocolVersion: V, headers: { accept: 'application/json' } });
  const countCategories = async () => {
    const res = await post(request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', count_only: true } }));
    return res.json.result.structuredContent.count;
  };

  test('51 messages: refused whole with -32600, and nothing in it runs', async () => {
    const before = await countCategories();
    const batch = Array.from({ length: 51 }, (_, i) =>
      request('tools/call', { name: 'create_records', arguments: { table: 'categories', records: [{ name: `batch flood ${i}` }] } }, i + 1),
    );
    const res = await post(batch);
    assert.equal(res.status, 400, res.text.slice(0, 300));
    assert.equal(res.json.error.code, -32600);
    assert.match(res.json.error.message, /at most 50 messages, this one has 51/);
    assert.equal(await countCategories(), before, 'no record of the refused batch was written');
  });

  test('50 messages: all answered', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => request('ping', undefined, `p${i}`));
    const res = await post(batch);
    assert.equal(res.status, 200);
    assert.equal(res.json.length, 50);
    assert.deepEqual(new Set(res.json.map((a) => a.id)).size, 50);
    assert.ok(res.json.every((a) => a.result && !a.error));
  });

  test('answers past 4 MiB: the rest is refused unrun, each with its id and -32000', async () => {
    const { key: wideKey } = await createKey(worker.url, 'wide', { label: 'wide', scopes: ['mcp:read'] });
    const { sessionId } = await openSession(worker.mcpUrl('wide'), wideKey, V);
    const batch = Array.from({ length: 50 }, (_, i) =>
      request('tools/call', { name: 'get_table_data', arguments: { table: 'order_items', limit: 1000 } }, i + 1),
    );
    const res = await post(batch, 'wide', sessionId, wideKey);
    assert.equal(res.status, 200);
    assert.equal(res.json.length, 50, 'every request gets an answer');
    const ran = res.json.filter((a) => a.result);
    const refused = res.json.filter((a) => a.error);
    assert.ok(ran.length >= 1 && refused.length >= 1, `ran ${ran.length}, refused ${refused.length}`);
    assert.ok(refused.every((a) => a.error.code === -32000 && /send this request again on its own/.test(a.error.message)));
    // Answers keep their order: everything after the first refusal is refused.
    const firstRefused = res.json.findIndex((a) => a.error);
    assert.ok(res.json.slice(firstRefused).every((a) => a.error));
    assert.deepEqual(res.json.map((a) => a.id), batch.map((r) => r.id));
    const oneAnswer = Buffer.byteLength(JSON.stringify(ran[0]));
    assert.ok(res.text.length < 4 * MiB + oneAnswer + 50 * 300, `answer of ${res.text.length} bytes is bounded`);
  });

  test('the calls of a batch share one query budget (one request is one Worker invocation)', async () => {
    const { key: budgetKey } = await createKey(worker.url, 'budget', { label: 'budget', scopes: ['mcp:read'] });
    const { sessionId } = await openSession(worker.mcpUrl('budget'), budgetKey, V);
    const batch = Array.from({ length: 10 }, (_, i) =>
      request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', limit: 1 } }, i + 1),
    );
    const res = await post(batch, 'budget', sessionId, budgetKey);
    assert.equal(res.status, 200);
    assert.equal(res.json.length, 10);
    const refused = res.json.map((a) => a.result?.isError === true);
    const ran = refused.filter((r) => !r).length;
    // Each call alone needs one or two round trips (schema, rows): ten calls need more than five.
    assert.ok(ran >= 2 && ran <= 5, `ran ${ran} of 10 within a budget of 5`);
    assert.ok(refused.slice(ran).every(Boolean), 'every call after the budget ran out is refused');
    for (const answer of res.json.slice(ran)) {
      assert.match(answer.result.content[0].text, /one request may make at most 5 database queries.*separate requests/s);
    }
    // A single call in its own request has the whole budget again.
    const alone = await post(request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', limit: 1 } }), 'budget', sessionId, budgetKey);
    assert.notEqual(alone.json.result.isError, true, alone.text.slice(0, 300));
  });
});

describe('the request budget leaves the schema lookup out', () => {
  test('a one-query call runs under max_queries_per_call = 1 on a cold schema cache', async () => {
    const { key: k } = await createKey(worker.url, 'budget1', { label: 'budget1', scopes: ['mcp:read'] });
    const { sessionId } = await openSession(worker.mcpUrl('budget1'), k, '2025-06-18');
    const res = await rpc(
      worker.mcpUrl('budget1'),
      k,
      request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', limit: 1 } }),
      { sessionId, protocolVersion: '2025-06-18' },
    );
    assert.equal(res.status, 200);
    assert.notEqual(res.json.result.isError, true, res.text.slice(0, 300));
    assert.equal(res.json.result.structuredContent.returned, 1);
  });
});

describe('a key given twice in one JSON object', () => {
  test('is refused with -32700 and nothing is written (serde_json would keep the last silently)', async () => {
    const { sessionId } = await openSession(worker.mcpUrl('demo'), key, '2025-06-18');
    const send = (body) => rpc(worker.mcpUrl('demo'), key, body, { sessionId, protocolVersion: '2025-06-18' });
    const count = async () =>
      (await send(request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', filter: "name LIKE 'dup-key %'", count_only: true } })))
        .json.result.structuredContent.count;
    const before = await count();
    const raw =
      '{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"create_records","arguments":' +
      '{"table":"categories","records":[{"name":"dup-key first","name":"dup-key second"}]}}}';
    const res = await send(raw);
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.code, -32700);
    assert.match(res.json.error.message, /the key "name" appears twice in one object/);
    assert.equal(await count(), before, 'no record was created');
  });
});
