// Column policy (`columns`), end to end with the official SDK client on D1 and on PostgreSQL (the
// project's proxy in front of a real PostgreSQL): a hidden column is unknown to every tool,
// resource and completion, a masked column comes back masked and is refused in filters, order,
// groups and aggregates, a read-only column is refused in writes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { connectClient } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { MASK_KEY, startWorker } from '../support/worker.mjs';

const d1 = { kind: 'd1', binding: 'DB' };
const columns = {
  customers: { hidden: ['notes'], masked: { email: 'email', city: 'partial' }, read_only: ['loyalty_points'] },
  orders: { masked: { total: 'hash' } },
};

let running;
const clients = {};

async function ok(service, name, args = {}) {
  const result = await clients[service].callTool({ name, arguments: args });
  assert.equal(result.isError, false, `${name} on ${service} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

async function refused(service, name, args = {}) {
  const result = await clients[service].callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(result.structuredContent)}`);
  return result.content[0].text;
}

function assertUnknownWithoutNotes(text) {
  assert.match(text, /unknown column/);
  assert.ok(!text.split('columns are:')[1].includes('notes'), text);
}

before(async () => {
  const stack = await startPostgresStack();
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      d1: { label: 'policy on D1', database: d1, read_only: false, auth: 'none', columns },
      pg: { label: 'policy on PostgreSQL', database: pg, read_only: false, auth: 'none', columns },
      typo: { label: 'a typo', database: d1, auth: 'none', columns: { customers: { hidden: ['pasword_hash'] } } },
      plain: { label: 'no policy', database: d1, auth: 'none' },
    },
    bindings: { PG_DEMO_URL: stack.connectionString },
  }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  running = { stack, worker };
  for (const service of ['d1', 'pg', 'typo', 'plain']) clients[service] = (await connectClient(worker.mcpUrl(service))).client;
});

after(async () => {
  for (const c of Object.values(clients)) await c.close().catch(() => {});
  await running?.worker.stop();
  await running?.stack.stop();
});

for (const service of ['d1', 'pg']) {
  describe(`on ${service === 'd1' ? 'D1' : 'PostgreSQL'}`, () => {
    test('a hidden column is never listed, read or completed', async () => {
      const { records } = await ok(service, 'get_table_data', { table: 'customers', ids: [1, 3] });
      assert.equal(records.length, 2);
      for (const record of records) assert.ok(!('notes' in record) && 'name' in record, JSON.stringify(record));
      const schema = await ok(service, 'get_table_schema', { table: 'customers' });
      assert.ok(!JSON.stringify(schema).includes('notes'));
      const resource = await clients[service].readResource({ uri: `dbmcp://${service}/tables/customers` });
      assert.ok(!resource.contents[0].text.includes('notes'));
      const completion = await clients[service].complete({
        ref: { type: 'ref/prompt', name: 'query_table' },
        argument: { name: 'column', value: 'n' },
        context: { arguments: { table: 'customers' } },
      });
      assert.deepEqual(completion.completion.values, ['name']);
    });

    test('a hidden column is refused in every place and spelling', async () => {
      for (const name of ['notes', 'NOTES', 'nоtes' /* Cyrillic о */]) {
        for (const [tool, args] of [
          ['get_table_data', { table: 'customers', fields: [name] }],
          ['get_table_data', { table: 'customers', filter: `${name} IS NULL` }],
          ['get_table_data', { table: 'customers', order: `${name} DESC` }],
          ['aggregate_table_data', { table: 'customers', group_by: name, aggregates: [{ function: 'count' }] }],
          ['aggregate_table_data', { table: 'customers', aggregates: [{ function: 'max', column: name }] }],
          ['update_records', { table: 'customers', ids: [1], patch: { [name]: 'x' } }],
        ]) {
          assertUnknownWithoutNotes(await refused(service, tool, args));
        }
      }
      const { records } = await ok(service, 'get_table_data', { table: 'orders', ids: [1], related: 'customers_by_customer_id' });
      const customer = records[0].customers_by_customer_id;
      assert.ok(customer && !('notes' in customer), JSON.stringify(customer));
      assert.match(customer.email, /^.\*\*\*@example\.com$/);
    });

    test('masked columns come back masked and cannot be compared', async () => {
      const { records } = await ok(service, 'get_table_data', { table: 'customers', ids: [1] });
      assert.equal(records[0].email, 'z***@example.com');
      assert.equal(records[0].city, '***ź');
      const orders = await ok(service, 'get_table_data', { table: 'orders', ids: [1] });
      assert.match(orders.records[0].total, /^hmac:[0-9a-f]{16}$/);
      for (const args of [
        { table: 'customers', filter: "email = 'zoe.obrien@example.com'" },
        { table: 'customers', filter: "email STARTS WITH 'z'", count_only: true },
        { table: 'customers', order: 'email DESC' },
      ]) {
        assert.match(await refused(service, 'get_table_data', args), /column "email" of table "customers" is masked/);
      }
      assert.match(
        await refused(service, 'aggregate_table_data', { table: 'orders', aggregates: [{ function: 'max', column: 'total' }] }),
        /column "total" of table "orders" is masked/,
      );
    });

    test('a read-only column is refused in writes, other columns are written', async () => {
      const email = `policy-${service}@example.com`;
      const text = await refused(service, 'create_records', {
        table: 'customers',
        records: [{ name: 'x', email, created_at: '2026-01-01T00:00:00Z', loyalty_points: 9 }],
      });
      assert.match(text, /column "loyalty_points" of table "customers" is read-only/);
      assert.match(
        await refused(service, 'update_records', { table: 'customers', ids: [2], patch: { loyalty_points: 1 } }),
        /is read-only/,
      );
      const created = await ok(service, 'create_records', {
        table: 'customers',
        records: [{ name: 'x', email, created_at: '2026-01-01T00:00:00Z', city: 'Bergen' }],
      });
      assert.equal(created.created[0].email, `p***@example.com`);
      assert.equal(created.created[0].city, '***n');
      assert.equal(created.created[0].loyalty_points, 0);
    });
  });
}

test('a policy naming a column the database lacks stops the tools with a clear error', async () => {
  const text = await refused('typo', 'get_table_data', { table: 'customers' });
  assert.match(text, /column "pasword_hash" of table "customers"/);
});

// The attack on a plain hash: hash every candidate value and compare (a phone number or a tax id
// has few enough candidates). The mask is keyed with MASK_KEY, per service.
test('a hash mask is keyed: the plain hash of the value does not show, and each service masks differently', async () => {
  const raw = (await ok('plain', 'get_table_data', { table: 'orders', ids: [1] })).records[0].total;
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  const onD1 = (await ok('d1', 'get_table_data', { table: 'orders', ids: [1] })).records[0].total;
  const plainHash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  assert.notEqual(onD1, `sha256:${plainHash}`);
  assert.ok(!onD1.includes(plainHash), onD1);
  const serviceKey = createHmac('sha256', MASK_KEY).update('dbmcp hash mask v1\nd1').digest();
  assert.equal(onD1, `hmac:${createHmac('sha256', serviceKey).update(text).digest('hex').slice(0, 16)}`);
  const onPg = (await ok('pg', 'get_table_data', { table: 'orders', ids: [1] })).records[0].total;
  assert.match(onPg, /^hmac:[0-9a-f]{16}$/);
  assert.notEqual(onPg, onD1, 'the same value masks differently in another service');
});

test('a hash mask without the MASK_KEY secret is a configuration error naming it', async () => {
  const worker = await startWorker({
    services: { d1: { label: 'no key', database: d1, auth: 'none', columns: { orders: { masked: { total: 'hash' } } } } },
    maskKey: null,
  });
  try {
    const response = await fetch(worker.mcpUrl('d1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    const body = await response.text();
    assert.ok(response.status >= 500, `${response.status} ${body}`);
    assert.match(body, /columns\.orders\.masked\.total: \\?"hash\\?" needs the MASK_KEY secret/);
  } finally {
    await worker.stop();
  }
});
