// MCP sessions (Durable Objects): they survive a restart with persisted storage, end with DELETE,
// expire after the idle time, and are bound to the principal and the service that created them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createKey, DEFAULT_SERVICES, startWorker, tempDir } from '../support/worker.mjs';
import { deleteSession, openSession, request, rpc, sleep } from '../support/mcp.mjs';

const V = '2025-06-18';

/** tools/list within a session; returns the parsed response. */
const toolsList = (url, key, sessionId) => rpc(url, key, request('tools/list'), { sessionId, protocolVersion: V });
const ping = (url, key, sessionId) => rpc(url, key, request('ping'), { sessionId, protocolVersion: V });

describe('a session survives a restart with persisted storage', () => {
  const dir = tempDir('dbmcp-sessions-');
  let worker;
  after(async () => {
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the same session id and API key work after Miniflare restarts', async () => {
    worker = await startWorker({ persistDir: dir });
    const { key } = await createKey(worker.url, 'demo', { label: 'persisted' });
    const { sessionId } = await openSession(worker.mcpUrl('demo'), key, V);
    const before = await toolsList(worker.mcpUrl('demo'), key, sessionId);
    assert.equal(before.status, 200);
    const created = await rpc(
      worker.mcpUrl('demo'),
      key,
      request('tools/call', { name: 'create_records', arguments: { table: 'categories', records: [{ name: 'Persisted category' }] } }),
      { sessionId, protocolVersion: V },
    );
    assert.equal(created.json.result.isError, false, created.text);
    const newId = created.json.result.structuredContent.created[0].id;
    await worker.stop();
    worker = undefined;

    worker = await startWorker({ persistDir: dir });
    const res = await toolsList(worker.mcpUrl('demo'), key, sessionId);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.tools.length, 18);
    // The database persisted too (and was not migrated twice).
    const read = await rpc(
      worker.mcpUrl('demo'),
      key,
      request('tools/call', { name: 'get_table_data', arguments: { table: 'categories', ids: [newId] } }),
      { sessionId, protocolVersion: V },
    );
    assert.equal(read.json.result.structuredContent.records[0].name, 'Persisted category');
    // The key is also good for a brand-new session.
    const fresh = await openSession(worker.mcpUrl('demo'), key, V);
    assert.notEqual(fresh.sessionId, sessionId);
  });
});

describe('session lifetime and binding', () => {
  let worker;
  let keyA;
  let keyB;
  let readonlyKey;
  before(async () => {
    worker = await startWorker({
      services: { ...DEFAULT_SERVICES, open2: { label: 'Second open store', database: { kind: 'd1', binding: 'DB' }, auth: 'none' } },
    });
    ({ key: keyA } = await createKey(worker.url, 'demo', { label: 'A' }));
    ({ key: keyB } = await createKey(worker.url, 'demo', { label: 'B' }));
    ({ key: readonlyKey } = await createKey(worker.url, 'readonly', { label: 'readonly' }));
  });
  after(async () => {
    await worker?.stop();
  });

  test('DELETE: 204, then the session is 404', async () => {
    const url = worker.mcpUrl('demo');
    const { sessionId } = await openSession(url, keyA, V);
    assert.equal((await ping(url, keyA, sessionId)).status, 200);
    const del = await deleteSession(url, keyA, sessionId);
    assert.equal(del.status, 204);
    const res = await toolsList(url, keyA, sessionId);
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, -32600);
  });

  test('a session created with key A is 404 for key B of the same service', async () => {
    const url = worker.mcpUrl('demo');
    const { sessionId } = await openSession(url, keyA, V);
    const asB = await toolsList(url, keyB, sessionId);
    assert.equal(asB.status, 404);
    const deleteAsB = await deleteSession(url, keyB, sessionId);
    assert.equal(deleteAsB.status, 404, 'key B cannot end key A\'s session');
    const asA = await toolsList(url, keyA, sessionId);
    assert.equal(asA.status, 200, 'the session is still there for A');
  });

  test('a session of service demo is 404 at another service', async () => {
    const { sessionId } = await openSession(worker.mcpUrl('demo'), keyA, V);
    const atOpen = await toolsList(worker.mcpUrl('open'), null, sessionId);
    assert.equal(atOpen.status, 404);
    const atReadonly = await toolsList(worker.mcpUrl('readonly'), readonlyKey, sessionId);
    assert.equal(atReadonly.status, 404);
    assert.equal((await toolsList(worker.mcpUrl('demo'), keyA, sessionId)).status, 200);
  });

  test('open services bind sessions to the principal "anonymous" and to the service', async () => {
    const openUrl = worker.mcpUrl('open');
    const { sessionId } = await openSession(openUrl, null, V);
    // Any caller of an open service is "anonymous": a stray Authorization header changes nothing.
    const withHeader = await toolsList(openUrl, 'not-a-real-key', sessionId);
    assert.equal(withHeader.status, 200);
    assert.equal(withHeader.json.result.tools.length, 18);
    // Another open service: same principal, other service: 404.
    assert.equal((await toolsList(worker.mcpUrl('open2'), null, sessionId)).status, 404);
    // The same session presented with a key at demo: other principal and service: 404.
    assert.equal((await toolsList(worker.mcpUrl('demo'), keyA, sessionId)).status, 404);
    // An anonymous session cannot be used at demo even without a key: 401 first.
    assert.equal((await toolsList(worker.mcpUrl('demo'), null, sessionId)).status, 401);
  });
});

describe('idle sessions expire', () => {
  let worker;
  let key;
  before(async () => {
    worker = await startWorker({ idleSeconds: 2 });
    ({ key } = await createKey(worker.url, 'demo', { label: 'expiry' }));
  });
  after(async () => {
    await worker?.stop();
  });

  test('an idle session is 404 after the idle time; a used one lives on', async () => {
    const url = worker.mcpUrl('demo');
    const idle = await openSession(url, key, V);
    const busy = await openSession(url, key, V);
    assert.equal((await ping(url, key, idle.sessionId)).status, 200);
    const started = Date.now();
    // Keep `busy` in use every second (bounded: 3 rounds) while `idle` sits.
    for (let round = 0; round < 3; round += 1) {
      await sleep(1000);
      const res = await ping(url, key, busy.sessionId);
      assert.equal(res.status, 200, `busy session alive after ${Date.now() - started} ms`);
    }
    await sleep(Math.max(0, 3500 - (Date.now() - started)));
    const expired = await toolsList(url, key, idle.sessionId);
    assert.equal(expired.status, 404, `idle session gone after ${Date.now() - started} ms`);
    assert.equal(expired.json.error.code, -32600);
    const alive = await toolsList(url, key, busy.sessionId);
    assert.equal(alive.status, 200, 'a session in use does not expire');
    // Expiry is not revocation: the key opens a new session.
    const again = await openSession(url, key, V);
    assert.equal((await ping(url, key, again.sessionId)).status, 200);
  });
});
