// Attacks on the data engine, end to end (issue 7, items 11, 16, 17, 19, 20): the worker in
// Miniflare on real D1, and on real PostgreSQL through the project's Neon-compatible proxy.
//
// - A slow query past the service timeout is stopped inside PostgreSQL (statement_timeout set by
//   the worker, cancel by the proxy when its caller goes away or its deadline passes), and one
//   caller cannot hold every connection: others keep their usual speed.
// - Integers and booleans written to (or compared with) D1 TEXT columns are their text, not
//   "42.0"; ISO-8601 dates go into DATETIME columns; a column named twice in different case is
//   refused; JSON arrays go into PostgreSQL array columns, whatever their elements hold.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pg from 'pg';
import { connectClient, sleep } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { startWorker } from '../support/worker.mjs';
import { startNeonProxy } from '../../scripts/neon-proxy.mjs';

const open = (database, extra = {}) => ({ label: 'attacks', database, auth: 'none', read_only: false, ...extra });

function tools(worker) {
  const clients = {};
  const client = async (service) => {
    clients[service] ??= (await connectClient(worker.mcpUrl(service))).client;
    return clients[service];
  };
  const call = async (service, name, args = {}) => (await client(service)).callTool({ name, arguments: args });
  return {
    call,
    async ok(service, name, args) {
      const result = await call(service, name, args);
      assert.equal(result.isError, false, `${name} failed: ${JSON.stringify(result.content)}`);
      return result.structuredContent;
    },
    async error(service, name, args) {
      const result = await call(service, name, args);
      assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.structuredContent)}`);
      return result.content[0].text;
    },
    async close() {
      await Promise.all(Object.values(clients).map((c) => c.close().catch(() => {})));
    },
  };
}

/** Backends of `connectionString`'s database running pg_sleep, other than our own. */
async function sleepingBackends(connectionString) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT pid, query FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() " +
        "AND (query ILIKE '%slow_query%' OR query ILIKE '%pg_sleep%')",
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** Polls until no backend sleeps, for at most `withinMs`; returns what still sleeps then. */
async function waitForNoSleepers(connectionString, withinMs) {
  const deadline = Date.now() + withinMs;
  let rows = await sleepingBackends(connectionString);
  while (rows.length > 0 && Date.now() < deadline) {
    await sleep(100);
    rows = await sleepingBackends(connectionString);
  }
  return rows;
}

async function timed(fn) {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

const customer = (extra) => ({
  name: 'Attack Test',
  email: `attack.${Date.now()}.${Math.random().toString(36).slice(2)}@example.com`,
  created_at: '2025-01-01T00:00:00Z',
  ...extra,
});

/** The same value-handling attacks on both engines. */
function sharedValueAttacks(getTools) {
  test('integers and booleans for a TEXT column are stored as their text and found by filters', async () => {
    const t = getTools();
    const created = (await t.ok('demo', 'create_records', { table: 'customers', records: [customer({ notes: 42 })] }))
      .created[0];
    assert.equal(created.notes, '42');
    const found = await t.ok('demo', 'get_table_data', { table: 'customers', filter: 'notes = 42', fields: 'id' });
    assert.deepEqual(found.records.map((r) => r.id), [created.id]);
    const inList = await t.ok('demo', 'get_table_data', { table: 'customers', filter: 'notes IN (41, 42)', fields: 'id' });
    assert.deepEqual(inList.records.map((r) => r.id), [created.id]);
    const flagged = await t.ok('demo', 'update_records', { table: 'customers', ids: [created.id], patch: { notes: true } });
    assert.equal(flagged.records[0].notes, 'true');
    await t.ok('demo', 'delete_records', { table: 'customers', ids: [created.id] });
  });

  test('a column given twice in different case is refused, in creates and updates', async () => {
    const t = getTools();
    const before = (await t.ok('demo', 'get_table_data', { table: 'customers', count_only: true })).count;
    const text = await t.error('demo', 'create_records', {
      table: 'customers',
      records: [customer({ NAME: 'Shadow Name' })],
    });
    assert.match(text, /column "name" is given more than once \(as "name" and "NAME"\)/);
    const patch = await t.error('demo', 'update_records', {
      table: 'customers',
      ids: [1],
      patch: { notes: 'first', NOTES: 'second' },
    });
    assert.match(patch, /column "notes" is given more than once/);
    const perRecord = await t.error('demo', 'update_records', {
      table: 'customers',
      records: [{ id: 1, Id: 2, notes: 'moved' }],
    });
    assert.match(perRecord, /column "id" is given more than once/);
    const after = (await t.ok('demo', 'get_table_data', { table: 'customers', count_only: true })).count;
    assert.equal(after, before);
    const untouched = await t.ok('demo', 'get_table_data', { table: 'customers', ids: [1, 2], fields: 'id,notes' });
    assert.ok(untouched.records.every((r) => !['first', 'second', 'moved'].includes(r.notes)), JSON.stringify(untouched));
  });
}

describe('D1', () => {
  let worker;
  let t;

  before(async () => {
    worker = await startWorker({ services: { demo: open({ kind: 'd1', binding: 'DB' }) } });
    const db = await worker.mf.getD1Database('DB');
    await db.exec(
      'CREATE TABLE events (id INTEGER PRIMARY KEY, happened_at DATETIME NOT NULL, day DATE, stamp TIMESTAMP, payload);',
    );
    t = tools(worker);
  });

  after(async () => {
    await t?.close();
    await worker?.stop();
  });

  sharedValueAttacks(() => t);

  test('D1 stores an integer for a TEXT column as text "42", not the REAL 42.0', async () => {
    const created = (await t.ok('demo', 'create_records', { table: 'customers', records: [customer({ notes: 7 })] }))
      .created[0];
    const db = await worker.mf.getD1Database('DB');
    const row = await db.prepare('SELECT typeof(notes) AS kind, notes FROM customers WHERE id = ?').bind(created.id).first();
    assert.deepEqual(row, { kind: 'text', notes: '7' });
    // Integer columns still hold integers.
    const points = await db.prepare('SELECT typeof(loyalty_points) AS kind FROM customers WHERE id = ?').bind(created.id).first();
    assert.equal(points.kind, 'integer');
    await t.ok('demo', 'delete_records', { table: 'customers', ids: [created.id] });
  });

  test('D1 stores an integer for a column without a declared type as an integer', async () => {
    const created = (
      await t.ok('demo', 'create_records', { table: 'events', records: [{ happened_at: '2024-01-01', payload: 42 }] })
    ).created[0];
    await t.ok('demo', 'update_records', { table: 'events', ids: [created.id], patch: { stamp: '2024-01-02' } });
    const db = await worker.mf.getD1Database('DB');
    const kind = async () =>
      (await db.prepare('SELECT typeof(payload) AS kind, payload FROM events WHERE id = ?').bind(created.id).first());
    assert.deepEqual(await kind(), { kind: 'integer', payload: 42 });
    await t.ok('demo', 'update_records', { table: 'events', ids: [created.id], patch: { payload: -7 } });
    assert.deepEqual(await kind(), { kind: 'integer', payload: -7 });
    await t.ok('demo', 'delete_records', { table: 'events', ids: [created.id] });
  });

  test('ISO-8601 dates go into DATETIME, DATE and TIMESTAMP columns; garbage is refused', async () => {
    const created = await t.ok('demo', 'create_records', {
      table: 'events',
      records: [
        { happened_at: '2024-05-01T13:45:00Z', day: '2024-05-01', stamp: '2024-05-01 13:45:00.250+02:00' },
        { happened_at: '2024-02-29T23:59:59.999', day: null, stamp: 1714571100 },
      ],
    });
    assert.equal(created.created[0].happened_at, '2024-05-01T13:45:00Z');
    assert.equal(created.created[0].day, '2024-05-01');
    assert.equal(created.created[1].stamp, 1714571100);
    const found = await t.ok('demo', 'get_table_data', { table: 'events', filter: "day = '2024-05-01'", fields: 'id' });
    assert.equal(found.returned, 1);
    for (const bad of ['2023-02-29', 'tomorrow', '2024-05-01T24:00:00', "2024-05-01'; DROP TABLE events; --"]) {
      const text = await t.error('demo', 'create_records', { table: 'events', records: [{ happened_at: bad }] });
      assert.match(text, /column "happened_at" \(DATETIME\) expects an ISO 8601 date or date-time/);
    }
    const count = await t.ok('demo', 'get_table_data', { table: 'events', count_only: true });
    assert.equal(count.count, 2);
  });
});

describe('PostgreSQL', () => {
  let stack;
  let worker;
  let t;

  before(async () => {
    stack = await startPostgresStack();
    const db = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
    try {
      worker = await startWorker({
        services: {
          demo: open(db),
          // The attacker: a read-only service with a short timeout on the same database.
          slowro: open({ ...db, timeout_ms: 1000 }, { read_only: true }),
          // An attacker with the default 10 s timeout: its calls hold connections for 10 s.
          slowlong: open(db, { read_only: true }),
          // Another service on the same database and credentials.
          other: open(db, { read_only: true }),
        },
        bindings: { PG_DEMO_URL: stack.connectionString },
      });
    } catch (err) {
      await stack.stop();
      throw err;
    }
    t = tools(worker);
  });

  after(async () => {
    await t?.close();
    await worker?.stop();
    await stack?.stop();
  });

  sharedValueAttacks(() => t);

  test('timed-out slow queries stop inside PostgreSQL and do not starve another service', async () => {
    const usual = await timed(() => t.ok('other', 'get_table_data', { table: 'customers', limit: 5 }));
    // More slow calls than the proxy has connections for this database, each asking for 60 s.
    const attackers = await Promise.all(
      Array.from({ length: 8 }, () => connectClient(worker.mcpUrl('slowro')).then((c) => c.client)),
    );
    try {
      const results = await Promise.all(
        attackers.map((c) =>
          timed(() => c.callTool({ name: 'call_stored_function', arguments: { name: 'slow_query', arguments: { p_seconds: 60 } } })),
        ),
      );
      for (const { value, ms } of results) {
        assert.equal(value.isError, true, JSON.stringify(value));
        assert.match(value.content[0].text, /timed out after 1000 ms|57014/);
        assert.ok(ms < 8000, `a slow call took ${ms} ms`);
      }
    } finally {
      await Promise.all(attackers.map((c) => c.close().catch(() => {})));
    }
    const left = await waitForNoSleepers(stack.connectionString, 3000);
    assert.deepEqual(left, [], 'no backend still runs the sleeps');
    const after = await timed(() => t.ok('other', 'get_table_data', { table: 'customers', limit: 5 }));
    assert.equal(after.value.returned, 5);
    assert.ok(after.ms < Math.max(3000, usual.ms * 5), `another service took ${after.ms} ms (usually ${usual.ms} ms)`);
  });

  test('one caller holding every connection it can still leaves one for another service', async () => {
    // Six 60 s sleeps through a service with the default 10 s timeout: more than the proxy's five
    // connections for this connection string. Before fair sharing, another service on the same
    // database waited in the queue for as long as the attacker's calls ran (about 10 s).
    const attackers = await Promise.all(
      Array.from({ length: 6 }, () => connectClient(worker.mcpUrl('slowlong')).then((c) => c.client)),
    );
    try {
      const calls = attackers.map((c) =>
        c.callTool({ name: 'call_stored_function', arguments: { name: 'slow_query', arguments: { p_seconds: 60 } } }),
      );
      await sleep(1000); // the sleeps hold their connections now
      const other = await timed(() => t.ok('other', 'get_table_data', { table: 'customers', limit: 5 }));
      assert.equal(other.value.returned, 5);
      assert.ok(other.ms < 4000, `another service waited ${other.ms} ms behind the attacker`);
      const results = await Promise.all(calls);
      assert.ok(results.every((r) => r.isError), "the attacker's sleeps all ended in their timeout");
    } finally {
      await Promise.all(attackers.map((c) => c.close().catch(() => {})));
    }
    assert.deepEqual(await waitForNoSleepers(stack.connectionString, 5000), []);
  });

  test('JSON arrays are written to array columns, hostile elements included, and read back equal', async () => {
    const hostile = ['a"b', 'c\\d', 'x,y', '{z}', 'NULL', '', ' pad ', 'é 😀', null];
    const created = (
      await t.ok('demo', 'create_records', {
        table: 'type_samples',
        records: [{ c_int4_array: [1, 2, 3], c_text_array: hostile }],
      })
    ).created[0];
    assert.deepEqual(created.c_int4_array, [1, 2, 3]);
    assert.deepEqual(created.c_text_array, hostile);
    const updated = await t.ok('demo', 'update_records', {
      table: 'type_samples',
      ids: [created.id],
      patch: { c_int4_array: [[1, null], [3, 4]], c_text_array: [] },
    });
    assert.deepEqual(updated.records[0].c_int4_array, [[1, null], [3, 4]]);
    assert.deepEqual(updated.records[0].c_text_array, []);
    const wrongType = await t.error('demo', 'update_records', {
      table: 'type_samples',
      ids: [created.id],
      patch: { c_int4_array: ['not a number'] },
    });
    assert.match(wrongType, /22P02/);
    const notArray = await t.error('demo', 'update_records', {
      table: 'type_samples',
      ids: [created.id],
      patch: { c_int4_array: { a: 1 } },
    });
    assert.match(notArray, /expects a JSON array/);
    await t.ok('demo', 'delete_records', { table: 'type_samples', ids: [created.id] });
  });

  test('JSON arrays are passed to array arguments of routines', async () => {
    const hostile = ['a"b', 'c\\d', '{x,y}', 'NULL', '', null];
    const out = await t.ok('demo', 'call_stored_function', { name: 'echo_text_array', arguments: { p_values: hostile } });
    assert.deepEqual(out.records[0].echo_text_array, hostile, JSON.stringify(out));
  });

  describe('the proxy', () => {
    const post = (proxy, query, { params = [], signal, connectionString = stack.connectionString } = {}) =>
      fetch(proxy.url, {
        method: 'POST',
        headers: { 'Neon-Connection-String': connectionString, 'Neon-Raw-Text-Output': 'true' },
        body: JSON.stringify({ query, params }),
        signal,
      });

    test('cancels the query in PostgreSQL at its deadline and answers 504', async () => {
      const proxy = await startNeonProxy({ requestTimeoutMs: 700 });
      try {
        const { value: res, ms } = await timed(() => post(proxy, 'SELECT pg_sleep(60)'));
        const body = await res.json();
        assert.equal(res.status, 504);
        assert.equal(body.code, '57014');
        assert.match(body.message, /longer than this proxy's limit of 700 ms/);
        assert.ok(ms < 5000, `answered after ${ms} ms`);
        assert.deepEqual(await waitForNoSleepers(stack.connectionString, 2000), []);
        // The proxy still works afterwards.
        const ok = await post(proxy, 'SELECT 1 AS one');
        assert.equal(ok.status, 200);
      } finally {
        await proxy.close();
      }
    });

    test('a body that never finishes is cut off at the deadline', async () => {
      const proxy = await startNeonProxy({ requestTimeoutMs: 500 });
      try {
        const started = Date.now();
        const answer = await new Promise((resolve, reject) => {
          const req = http.request(proxy.url, {
            method: 'POST',
            headers: { 'Neon-Connection-String': stack.connectionString, 'Content-Length': '100000' },
          });
          req.on('response', (res) => {
            let text = '';
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode, text }));
          });
          req.on('error', reject);
          req.write('{"query": "SELECT 1", "params": [');
          setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
        });
        assert.equal(answer.status, 504);
        assert.match(JSON.parse(answer.text).message, /longer than this proxy's limit of 500 ms/);
        assert.ok(Date.now() - started < 3000);
      } finally {
        await proxy.close();
      }
    });

    test('cancels the query in PostgreSQL when its caller disconnects', async () => {
      const proxy = await startNeonProxy();
      try {
        const controller = new AbortController();
        const pending = post(proxy, 'SELECT pg_sleep(60)', { signal: controller.signal }).catch((e) => e);
        await sleep(500);
        assert.equal((await sleepingBackends(stack.connectionString)).length, 1, 'the sleep is running');
        controller.abort();
        assert.equal((await pending).name, 'AbortError');
        assert.deepEqual(await waitForNoSleepers(stack.connectionString, 2000), []);
      } finally {
        await proxy.close();
      }
    });

    test('one connection string cannot take every connection: 429 past the queue, 503 after the wait', async () => {
      const proxy = await startNeonProxy({ maxConnections: 2, maxQueued: 1, queueTimeoutMs: 400 });
      try {
        const running = [post(proxy, 'SELECT pg_sleep(1.5)'), post(proxy, 'SELECT pg_sleep(1.5)')];
        await sleep(200);
        const queued = post(proxy, 'SELECT 1');
        await sleep(50);
        const { value: refused, ms } = await timed(() => post(proxy, 'SELECT 1'));
        assert.equal(refused.status, 429);
        assert.equal(refused.headers.get('retry-after'), '1');
        assert.match((await refused.json()).message, /too many requests for this database: 2 running and 1 waiting/);
        assert.ok(ms < 1000, `the 429 came after ${ms} ms`);
        // Another connection string (here: another application_name) has its own connections.
        const separate = `${stack.connectionString}${stack.connectionString.includes('?') ? '&' : '?'}application_name=other`;
        const { value: other, ms: otherMs } = await timed(() => post(proxy, 'SELECT 2 AS two', { connectionString: separate }));
        assert.equal(other.status, 200);
        assert.ok(otherMs < 1400, `another connection string waited ${otherMs} ms`);
        const waited = await queued;
        assert.equal(waited.status, 503);
        assert.match((await waited.json()).message, /all 2 connections for this database stayed busy for 400 ms/);
        for (const res of await Promise.all(running)) assert.equal(res.status, 200);
        const after = await post(proxy, 'SELECT 1');
        assert.equal(after.status, 200);
      } finally {
        await proxy.close();
      }
    });

    test('a caller that gives up while queued frees its place in the queue', async () => {
      const proxy = await startNeonProxy({ maxConnections: 1, maxQueued: 1, queueTimeoutMs: 5000 });
      try {
        const running = post(proxy, 'SELECT pg_sleep(1)');
        await sleep(200);
        const controller = new AbortController();
        const abandoned = post(proxy, 'SELECT 1', { signal: controller.signal }).catch((e) => e);
        await sleep(100);
        controller.abort();
        assert.equal((await abandoned).name, 'AbortError');
        await sleep(100);
        // The queue has room again: this one waits for the running query, then runs.
        const { value: next, ms } = await timed(() => post(proxy, 'SELECT 3 AS three'));
        assert.equal(next.status, 200);
        assert.deepEqual((await next.json()).rows, [{ three: '3' }]);
        assert.ok(ms < 3000, `waited ${ms} ms`);
        assert.equal((await running).status, 200);
      } finally {
        await proxy.close();
      }
    });
  });
});

// Review of the integrated fixes (issue 7, item 16), D1 columns without a declared type: a boolean
// was still bound as the JavaScript number 1, which D1 stores as the REAL 1.0; and a filter
// comparing such a column with an integer beyond 2^53 bound its text, which equals no integer.
describe('D1: booleans and integers for untyped columns', () => {
  let worker;
  let t;

  before(async () => {
    worker = await startWorker({ services: { demo: open({ kind: 'd1', binding: 'DB' }) } });
    const db = await worker.mf.getD1Database('DB');
    await db.exec('CREATE TABLE flags (id INTEGER PRIMARY KEY, anything, raw BLOB);');
    t = tools(worker);
  });

  after(async () => {
    await t?.close();
    await worker?.stop();
  });

  test('a boolean for a column without a declared type (or BLOB) is stored as the integer 1/0', async () => {
    const created = (await t.ok('demo', 'create_records', { table: 'flags', records: [{ anything: true, raw: false }] }))
      .created[0];
    const db = await worker.mf.getD1Database('DB');
    const kinds = () =>
      db
        .prepare('SELECT typeof(anything) AS a, CAST(anything AS TEXT) AS a_text, typeof(raw) AS r, CAST(raw AS TEXT) AS r_text FROM flags WHERE id = ?')
        .bind(created.id)
        .first();
    assert.deepEqual(await kinds(), { a: 'integer', a_text: '1', r: 'integer', r_text: '0' });
    await t.ok('demo', 'update_records', { table: 'flags', ids: [created.id], patch: { anything: false, raw: true } });
    assert.deepEqual(await kinds(), { a: 'integer', a_text: '0', r: 'integer', r_text: '1' });
    const found = await t.ok('demo', 'get_table_data', { table: 'flags', filter: 'anything = false AND raw = true', fields: 'id' });
    assert.deepEqual(found.records.map((r) => r.id), [created.id]);
  });

  test('a filter compares an untyped column with an integer as an integer, 2^53 + 1 included', async () => {
    // D1 gets an integer beyond 2^53 as its text; compared with an untyped column, text equals no
    // integer stored there, so the filter found nothing.
    const big = '9007199254740993';
    const created = (await t.ok('demo', 'create_records', { table: 'flags', records: [{ anything: big }] })).created[0];
    const db = await worker.mf.getD1Database('DB');
    await db.prepare('UPDATE flags SET anything = 9007199254740993 WHERE id = ?').bind(created.id).run();
    const stored = await db.prepare('SELECT typeof(anything) AS kind, CAST(anything AS TEXT) AS text FROM flags WHERE id = ?').bind(created.id).first();
    assert.deepEqual(stored, { kind: 'integer', text: big });
    for (const filter of [`anything = ${big}`, `anything IN (${big}, 1)`, `anything BETWEEN ${big} AND ${big}`]) {
      const found = await t.ok('demo', 'get_table_data', { table: 'flags', filter, fields: 'id' });
      assert.deepEqual(found.records.map((r) => r.id), [created.id], filter);
    }
    await t.ok('demo', 'delete_records', { table: 'flags', ids: [created.id] });
  });
});
