// Row policy (`rows`), end to end with the official SDK client on D1 and on PostgreSQL (the
// project's proxy in front of a real PostgreSQL): two API keys whose `customer_id` attributes
// differ see disjoint rows in reads, counts, aggregates and related rows, cannot write outside
// their rows, a key without the attribute gets nothing, and an OAuth user's attributes set
// through the admin API apply to the tokens the user already holds.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../support/mcp.mjs';
import { admin, obtainTokens, PASSWORD } from '../support/oauth.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { createKey, startWorker } from '../support/worker.mjs';

const d1 = { kind: 'd1', binding: 'DB' };
const rows = { orders: 'customer_id = {user.customer_id}' };

let running;
const clients = {};

async function call(client, name, args = {}) {
  return client.callTool({ name, arguments: args });
}

async function ok(client, name, args = {}) {
  const result = await call(client, name, args);
  assert.equal(result.isError, false, `${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

async function refused(client, name, args = {}) {
  const result = await call(client, name, args);
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(result.structuredContent)}`);
  return result.content[0].text;
}

before(async () => {
  const stack = await startPostgresStack();
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      d1: { label: 'rows on D1', database: d1, read_only: false, rows },
      pg: { label: 'rows on PostgreSQL', database: pg, read_only: false, rows },
    },
    bindings: { PG_DEMO_URL: stack.connectionString },
  }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  running = { stack, worker };
  for (const service of ['d1', 'pg']) {
    const one = await createKey(worker.url, service, { label: 'customer one', attributes: { customer_id: 1 } });
    assert.deepEqual(one.attributes, { customer_id: 1 });
    const two = await createKey(worker.url, service, { label: 'customer two', attributes: { customer_id: 2, region: 'eu' } });
    const none = await createKey(worker.url, service, { label: 'no attributes' });
    clients[service] = {
      one: (await connectClient(worker.mcpUrl(service), one.key)).client,
      two: (await connectClient(worker.mcpUrl(service), two.key)).client,
      none: (await connectClient(worker.mcpUrl(service), none.key)).client,
    };
  }
});

after(async () => {
  for (const set of Object.values(clients)) for (const c of Object.values(set)) await c.close().catch(() => {});
  await running?.worker.stop();
  await running?.stack.stop();
});

test('attributes are validated when a key is created', async () => {
  for (const attributes of [{ a: { nested: 1 } }, { 'bad-name': 1 }, { id: 'x' }, [1], { a: null }]) {
    const res = await admin(running.worker.url, 'POST', '/services/d1/keys', { attributes });
    assert.equal(res.status, 400, JSON.stringify(attributes));
    assert.equal(res.json.error, 'invalid_request');
  }
});

for (const service of ['d1', 'pg']) {
  describe(`on ${service === 'd1' ? 'D1' : 'PostgreSQL'}`, () => {
    test('two keys see disjoint rows in reads, counts and aggregates', async () => {
      const { one, two } = clients[service];
      const mine = await ok(one, 'get_table_data', { table: 'orders', limit: 500, include_count: true });
      const theirs = await ok(two, 'get_table_data', { table: 'orders', limit: 500, include_count: true });
      assert.ok(mine.records.length >= 2 && theirs.records.length >= 1);
      assert.ok(mine.records.every((r) => Number(r.customer_id) === 1), JSON.stringify(mine.records));
      assert.ok(theirs.records.every((r) => Number(r.customer_id) === 2), JSON.stringify(theirs.records));
      assert.equal(Number(mine.count), mine.records.length);
      const ids = new Set(mine.records.map((r) => Number(r.id)));
      assert.ok(theirs.records.every((r) => !ids.has(Number(r.id))));
      // Trying to widen the filter or name the other's ids stays inside the policy.
      const widened = await ok(one, 'get_table_data', { table: 'orders', filter: 'customer_id = 2 or id > 0', limit: 500 });
      assert.ok(widened.records.every((r) => Number(r.customer_id) === 1));
      const other = await ok(one, 'get_table_data', { table: 'orders', ids: theirs.records.map((r) => r.id) });
      assert.equal(other.records.length, 0);
      const grouped = await ok(one, 'aggregate_table_data', {
        table: 'orders', group_by: 'customer_id', aggregates: [{ function: 'count' }],
      });
      assert.equal(grouped.rows.length, 1, JSON.stringify(grouped.rows));
      assert.equal(Number(grouped.rows[0].customer_id), 1);
      assert.equal(Number(grouped.rows[0].count), mine.records.length);
    });

    test('related rows carry only the caller\'s rows', async () => {
      const { two } = clients[service];
      const { records } = await ok(two, 'get_table_data', { table: 'customers', ids: [1, 2], related: 'orders_by_customer_id' });
      const of = (id) => records.find((r) => Number(r.id) === id).orders_by_customer_id;
      assert.deepEqual(of(1), []);
      assert.ok(of(2).length >= 1 && of(2).every((o) => Number(o.customer_id) === 2));
    });

    test('writes stay inside the caller\'s rows', async () => {
      const { one, two } = clients[service];
      const text = await refused(one, 'create_records', {
        table: 'orders', records: [{ customer_id: 2, status: 'pending', ordered_at: '2024-01-01T00:00:00Z' }],
      });
      assert.match(text, /row policy of table "orders".*must be 1/);
      const theirs = await ok(two, 'get_table_data', { table: 'orders', limit: 1, order: 'id' });
      const target = theirs.records[0];
      // Key one updates and deletes by the other's id: nothing happens to it.
      await call(one, 'update_records', { table: 'orders', ids: [target.id], patch: { status: 'cancelled' } });
      await call(one, 'delete_records', { table: 'orders', ids: [target.id] });
      const after = await ok(two, 'get_table_data', { table: 'orders', ids: [target.id] });
      assert.equal(after.records.length, 1);
      assert.equal(after.records[0].status, target.status);
      assert.match(
        await refused(one, 'update_records', { table: 'orders', filter: "status = 'pending'", patch: { customer_id: 2 } }),
        /must be 1/,
      );
      const created = await ok(one, 'create_records', {
        table: 'orders', records: [{ customer_id: 1, status: 'pending', ordered_at: '2024-01-01T00:00:00Z' }],
      });
      assert.equal(Number(created.created[0].customer_id), 1);
    });

    test('a key without the attribute gets no rows and writes nothing', async () => {
      const { none } = clients[service];
      for (const [tool, args] of [
        ['get_table_data', { table: 'orders' }],
        ['aggregate_table_data', { table: 'orders', aggregates: [{ function: 'count' }] }],
        ['delete_records', { table: 'orders', ids: [1] }],
      ]) {
        assert.match(await refused(none, tool, args), /needs \{user\.customer_id\}.*no attribute "customer_id"/);
      }
      const customers = await ok(none, 'get_table_data', { table: 'customers', ids: [1] });
      assert.equal(customers.records.length, 1);
    });
  });
}

test('an OAuth user\'s attributes, set and changed through the admin API, choose the rows', async () => {
  const w = running.worker;
  const created = await admin(w.url, 'POST', '/services/d1/users', { username: 'carol', password: PASSWORD, attributes: { customer_id: 2 } });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json.attributes, { customer_id: 2 });
  const { tokens } = await obtainTokens(w, { service: 'd1', username: 'carol', scope: 'mcp:read' });
  const { client } = await connectClient(w.mcpUrl('d1'), tokens.access_token);
  try {
    const before = await ok(client, 'get_table_data', { table: 'orders', limit: 500 });
    assert.ok(before.records.length >= 1 && before.records.every((r) => Number(r.customer_id) === 2));
    const patched = await admin(w.url, 'PATCH', '/services/d1/users/carol', { attributes: { customer_id: 1 } });
    assert.equal(patched.status, 200, patched.text);
    const after = await ok(client, 'get_table_data', { table: 'orders', limit: 500 });
    assert.ok(after.records.length >= 1 && after.records.every((r) => Number(r.customer_id) === 1));
    const cleared = await admin(w.url, 'PATCH', '/services/d1/users/carol', { attributes: {} });
    assert.equal(cleared.status, 200);
    assert.match(await refused(client, 'get_table_data', { table: 'orders' }), /no attribute "customer_id"/);
  } finally {
    await client.close().catch(() => {});
  }
});
