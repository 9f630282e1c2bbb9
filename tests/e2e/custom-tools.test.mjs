// Custom tools (`tools` per service), end to end with the official MCP TypeScript SDK client on D1
// and on PostgreSQL (the project's proxy in front of a real PostgreSQL): listed after the built-ins
// with their generated input schema, called with defaults and bounds, arguments checked before any
// SQL runs, `:user.<attr>` bound from the API key's attributes (a key without it is refused), an
// injection attempt in a string parameter is only a value, a disabled tool is neither listed nor
// callable. Custom tools need the query-sql feature: these run on build-conformance/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { createKey, startWorker } from '../support/worker.mjs';
import { unfence } from '../support/untrusted.mjs';

const BUILD = 'build-conformance';

const TOOLS = {
  top_customers: {
    title: 'Top customers of a country',
    description: 'The customers of one country with the most loyalty points.',
    sql: 'SELECT name, loyalty_points FROM customers WHERE country = :country ORDER BY loyalty_points DESC, id LIMIT :n',
    parameters: {
      country: { type: 'string', description: 'Country name', maxLength: 40 },
      n: { type: 'integer', minimum: 1, maximum: 50, default: 2 },
    },
    required: ['country'],
  },
  my_orders: {
    description: "The caller's own orders.",
    sql: 'SELECT id, status FROM orders WHERE customer_id = :user.customer_id ORDER BY id',
  },
  switched_off: { description: 'Disabled.', sql: 'SELECT 1 AS one', enabled: false },
};

let running;
const clients = {};

before(async () => {
  const stack = await startPostgresStack();
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      d1: { label: 'custom tools on D1', database: { kind: 'd1', binding: 'DB' }, max_rows: 50, tools: TOOLS },
      pg: { label: 'custom tools on PostgreSQL', database: pg, max_rows: 50, tools: TOOLS },
    },
    bindings: { PG_DEMO_URL: stack.connectionString },
    buildDir: BUILD,
  }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  running = { stack, worker };
  for (const service of ['d1', 'pg']) {
    const one = await createKey(worker.url, service, { label: 'customer one', attributes: { customer_id: 1 } });
    const none = await createKey(worker.url, service, { label: 'no attributes' });
    clients[service] = {
      one: (await connectClient(worker.mcpUrl(service), one.key)).client,
      none: (await connectClient(worker.mcpUrl(service), none.key)).client,
    };
  }
});

after(async () => {
  for (const set of Object.values(clients)) for (const c of Object.values(set)) await c.close().catch(() => {});
  await running?.worker.stop();
  await running?.stack.stop();
});

async function ok(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, false, `${name} failed: ${JSON.stringify(result.content)}`);
  // Database content is fenced as untrusted data, like query_sql's.
  assert.deepEqual(unfence(result.content[0].text).value, result.structuredContent);
  return result.structuredContent;
}

async function refused(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(result.content)}`);
  return result.content[0].text;
}

for (const service of ['d1', 'pg']) {
  describe(`custom tools on ${service}`, () => {
    test('listed after the built-ins, read-only, with the generated input schema; disabled ones hidden', async () => {
      const { tools } = await clients[service].one.listTools();
      const names = tools.map((t) => t.name);
      // After the catalog's last built-in (this build's conformance fixtures may follow).
      const start = names.indexOf('list_tools') + 1;
      assert.ok(start > 0, names.join(', '));
      assert.deepEqual(names.slice(start, start + 2), ['my_orders', 'top_customers']);
      assert.ok(!names.includes('switched_off'));
      const top = tools.find((t) => t.name === 'top_customers');
      assert.equal(top.title, 'Top customers of a country');
      assert.equal(top.annotations.readOnlyHint, true);
      assert.deepEqual(top.inputSchema.required, ['country']);
      assert.deepEqual(top.inputSchema.properties.n, { type: 'integer', minimum: 1, maximum: 50, default: 2 });
      await assert.rejects(
        clients[service].one.callTool({ name: 'switched_off', arguments: {} }),
        /unknown tool "switched_off"/,
      );
    });

    test('a call binds its arguments and defaults', async () => {
      const two = await ok(clients[service].one, 'top_customers', { country: 'USA' });
      assert.equal(two.records.length, 2);
      assert.ok(Number(two.records[0].loyalty_points) >= Number(two.records[1].loyalty_points));
      const one = await ok(clients[service].one, 'top_customers', { country: 'USA', n: 1 });
      assert.deepEqual(one.records, two.records.slice(0, 1));
    });

    test('arguments are checked before any SQL runs', async () => {
      const c = clients[service].one;
      assert.match(await refused(c, 'top_customers', {}), /missing required parameter "country"/);
      assert.match(await refused(c, 'top_customers', { country: 'USA', n: 51 }), /at most 50/);
      assert.match(await refused(c, 'top_customers', { country: 'USA', n: 'x' }), /must be an integer/);
      assert.match(await refused(c, 'top_customers', { country: 'USA', extra: 1 }), /unknown parameter "extra"/);
    });

    test("identity parameters come from the key's attributes and fail closed", async () => {
      const mine = await ok(clients[service].one, 'my_orders');
      assert.ok(mine.records.length > 0);
      const viaPlain = await ok(clients[service].one, 'get_table_data', {
        table: 'orders', filter: 'customer_id = 1', count_only: true,
      });
      assert.equal(mine.records.length, Number(viaPlain.count));
      assert.match(await refused(clients[service].none, 'my_orders'), /"customer_id" attribute/);
      assert.match(await refused(clients[service].one, 'my_orders', { customer_id: 2 }), /unknown parameter/);
    });

    test('an injection attempt in a string parameter is only a value', async () => {
      for (const country of ["USA' OR '1'='1", "x'; DROP TABLE orders; --", "x' UNION SELECT name, id FROM orders--"]) {
        const result = await ok(clients[service].one, 'top_customers', { country, n: 50 });
        assert.equal(result.records.length, 0, country);
      }
      const still = await ok(clients[service].one, 'get_table_data', { table: 'orders', count_only: true });
      assert.ok(Number(still.count) > 0);
    });
  });
}

test('the deployable build (without the query-sql feature) refuses a service with tools, naming the feature', async () => {
  const worker = await startWorker({
    services: { d1: { label: 'd1', database: { kind: 'd1', binding: 'DB' }, auth: 'none', tools: TOOLS } },
  });
  try {
    const res = await fetch(`${worker.url}/health`);
    const body = await res.text();
    assert.equal(res.status, 503, body);
    assert.match(body, /SERVICES\.d1\.tools: this build has no custom tools: build with the cargo feature `query-sql`/, body);
  } finally {
    await worker.stop();
  }
});
