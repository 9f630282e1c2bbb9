// Custom tools (`tools` per service), end to end with the official MCP TypeScript SDK client on D1
// and on PostgreSQL (the project's proxy in front of a real PostgreSQL): listed after the built-ins
// with their generated input schema, called with defaults and bounds, arguments checked before any
// SQL runs, `:user.<attr>` bound from the API key's attributes (a key without it is refused), an
// injection attempt in a string parameter is only a value, a disabled tool is neither listed nor
// callable. Tools that write (`writes = true`, on writable services): derived annotations, exact
// rows written (read back through get_table_data), a caller-bound WHERE, refusals at call time,
// rows_written in the execution log, a reading key that sees none of them, `confirm_writes`
// through the two-step token (SDK v1) and MRTR (SDK v2, elicitation), and the configuration error
// of a writing tool on a read-only service. Custom tools need the query-sql feature: these run on
// build-conformance/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { connectClient, sleep } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { ADMIN_TOKEN, createKey, startWorker } from '../support/worker.mjs';
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

const WRITE_TOOLS = {
  add_category: {
    title: 'Add a category',
    description: 'Adds one category.',
    writes: true,
    sql: 'INSERT INTO categories (name, description) VALUES (:name, :description)',
    parameters: { name: { type: 'string', maxLength: 60 }, description: { type: 'string' } },
    required: ['name'],
  },
  describe_category: {
    description: 'Sets the description of a category.',
    writes: true,
    sql: 'UPDATE categories SET description = :description WHERE name = :name',
    parameters: { name: { type: 'string' }, description: { type: 'string' } },
    required: ['name', 'description'],
  },
  remove_category: {
    description: 'Removes a category that has no products and no subcategories.',
    writes: true,
    sql: 'DELETE FROM categories WHERE name LIKE :prefix AND id NOT IN (SELECT category_id FROM product_categories)',
    parameters: { prefix: { type: 'string' } },
    required: ['prefix'],
  },
  move_me: {
    description: "Sets the caller's own city.",
    writes: true,
    sql: 'UPDATE customers SET city = :city WHERE id = :user.customer_id',
    parameters: { city: { type: 'string' } },
    required: ['city'],
  },
  write_hidden: { description: 'Refused at call time.', writes: true, sql: "UPDATE customers SET notes = 'x' WHERE id = 1" },
  peek_hidden: {
    description: 'Refused at call time.',
    writes: true,
    sql: "UPDATE categories SET description = 'x' WHERE id IN (SELECT id FROM customers WHERE notes IS NOT NULL)",
  },
};
const WRITE_COLUMNS = { customers: { hidden: ['notes'] } };

let running;
const clients = {};
const keys = {};

before(async () => {
  const stack = await startPostgresStack();
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      d1: { label: 'custom tools on D1', database: { kind: 'd1', binding: 'DB' }, max_rows: 50, tools: TOOLS },
      pg: { label: 'custom tools on PostgreSQL', database: pg, max_rows: 50, tools: TOOLS },
      d1w: { label: 'writing tools on D1', database: { kind: 'd1', binding: 'DB' }, read_only: false, tools: WRITE_TOOLS, columns: WRITE_COLUMNS },
      pgw: { label: 'writing tools on PostgreSQL', database: pg, read_only: false, tools: WRITE_TOOLS, columns: WRITE_COLUMNS },
      d1c: { label: 'confirmed writing tools on D1', database: { kind: 'd1', binding: 'DB' }, read_only: false, confirm_writes: true, tools: WRITE_TOOLS, columns: WRITE_COLUMNS },
      pgc: { label: 'confirmed writing tools on PostgreSQL', database: pg, read_only: false, confirm_writes: true, tools: WRITE_TOOLS, columns: WRITE_COLUMNS },
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
    for (const suffix of ['w', 'c']) {
      const name = `${service}${suffix}`;
      const writer = await createKey(worker.url, name, { label: 'customer three', attributes: { customer_id: 3 } });
      const reader = await createKey(worker.url, name, { label: 'reader', scopes: ['mcp:read'] });
      keys[name] = writer.key;
      clients[name] = {
        one: (await connectClient(worker.mcpUrl(name), writer.key)).client,
        reader: (await connectClient(worker.mcpUrl(name), reader.key)).client,
      };
    }
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

async function count(client, table, filter) {
  return Number((await ok(client, 'get_table_data', { table, filter, count_only: true })).count);
}

/** The official v2 client pinned to 2026-07-28, answering confirmations with `answer`. */
async function v2Client(service, answer) {
  const transport = new TransportV2(new URL(running.worker.mcpUrl(service)), {
    requestInit: { headers: { Authorization: `Bearer ${keys[service]}` } },
  });
  const client = new ClientV2(
    { name: 'dbmcp-e2e-custom-writes', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} } } },
  );
  const asked = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params);
    return answer;
  });
  await client.connect(transport);
  return { client, asked };
}

for (const service of ['d1', 'pg']) {
  describe(`custom tools that write on ${service}`, () => {
    const w = () => clients[`${service}w`].one;

    test('listed with derived annotations; a reading key sees none of them and cannot call them', async () => {
      const { tools } = await w().listTools();
      const annotations = (name) => tools.find((t) => t.name === name)?.annotations;
      assert.deepEqual(annotations('add_category'), {
        title: 'Add a category', readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false,
      });
      assert.equal(annotations('describe_category').destructiveHint, true);
      assert.equal(annotations('remove_category').destructiveHint, true);
      const reader = clients[`${service}w`].reader;
      const visible = (await reader.listTools()).tools.map((t) => t.name);
      assert.ok(!visible.includes('add_category') && !visible.includes('move_me'), visible.join(', '));
      await assert.rejects(
        reader.callTool({ name: 'add_category', arguments: { name: `${service} reader` } }),
        /unknown tool "add_category"/,
      );
      assert.equal(await count(w(), 'categories', `name = '${service} reader'`), 0);
    });

    test('insert, update and delete write exactly the rows they say; strings are stored literally', async () => {
      const before = await count(w(), 'categories', 'id > 0');
      const literal = `${service}'); DROP TABLE categories; --`;
      for (const name of [`${service}-tmp-a`, `${service}-tmp-b`, literal]) {
        const added = await ok(w(), 'add_category', { name, description: 'first' });
        assert.deepEqual(added, { tool: 'add_category', table: 'categories', rows_written: 1 });
      }
      assert.equal(await count(w(), 'categories', 'id > 0'), before + 3);
      const stored = await ok(w(), 'get_table_data', { table: 'categories', filter: `description = 'first'`, fields: ['name'] });
      assert.ok(stored.records.some((r) => r.name === literal), JSON.stringify(stored.records));
      const updated = await ok(w(), 'describe_category', { name: `${service}-tmp-a`, description: 'second' });
      assert.equal(updated.rows_written, 1);
      assert.equal(await count(w(), 'categories', `description = 'second'`), 1);
      const none = await ok(w(), 'describe_category', { name: `${service}' OR '1'='1`, description: 'third' });
      assert.equal(none.rows_written, 0);
      const removed = await ok(w(), 'remove_category', { prefix: `${service}-tmp-%` });
      assert.equal(removed.rows_written, 2);
      assert.equal(await count(w(), 'categories', 'id > 0'), before + 1);
    });

    test("a caller-bound parameter restricts the update to the caller's row", async () => {
      const city = `${service}-town`;
      assert.equal((await ok(w(), 'move_me', { city })).rows_written, 1);
      assert.equal(await count(w(), 'customers', `city = '${city}'`), 1);
      assert.equal(await count(w(), 'customers', `city = '${city}' AND id = 3`), 1);
      assert.match(await refused(w(), 'move_me', { city, customer_id: 4 }), /unknown parameter "customer_id"/);
    });

    test('call-time checks refuse hidden columns written or read, and type-check the parameters', async () => {
      assert.match(await refused(w(), 'write_hidden'), /unknown column "notes"/);
      assert.match(await refused(w(), 'peek_hidden'), /unknown column "notes"/);
      assert.match(await refused(w(), 'add_category', { name: 7 }), /parameter "name" must be a string/);
      assert.match(await refused(w(), 'add_category', {}), /missing required parameter "name"/);
    });

    test('the execution log records rows_written', async () => {
      await ok(w(), 'describe_category', { name: `${service}'); DROP TABLE categories; --`, description: 'logged' });
      const deadline = Date.now() + 10_000;
      let entry;
      while (!entry && Date.now() < deadline) {
        const res = await fetch(`${running.worker.url}/admin/services/${service}w/logs?tool=describe_category`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const body = await res.json();
        entry = body.entries?.find((e) => e.arguments?.description === 'logged');
        if (!entry) await sleep(200);
      }
      assert.ok(entry, 'the call was logged');
      assert.equal(entry.rows_written, 1);
      assert.equal(entry.outcome, 'ok');
    });

    test('confirm_writes: the two-step token writes once, for those arguments only', async () => {
      const c = clients[`${service}c`].one;
      const name = `${service}-confirmed`;
      const first = await ok(c, 'add_category', { name });
      assert.equal(first.confirmation_required, true, JSON.stringify(first));
      assert.equal(first.rows_written, 0);
      assert.equal(await count(c, 'categories', `name = '${name}'`), 0);
      const token = first.confirmation_token;
      assert.match(await refused(c, 'add_category', { name: `${name}-other`, confirm: token }), /issued for other arguments/);
      const done = await ok(c, 'add_category', { name, confirm: token });
      assert.equal(done.rows_written, 1);
      assert.match(await refused(c, 'add_category', { name, confirm: token }), /already used/);
      assert.equal(await count(c, 'categories', `name = '${name}'`), 1);
    });

    test('confirm_writes through MRTR (SDK v2): accept writes, decline does not', async () => {
      const c = clients[`${service}c`].one;
      const yes = await v2Client(`${service}c`, { action: 'accept', content: { confirm: true } });
      try {
        const result = await yes.client.callTool({ name: 'add_category', arguments: { name: `${service}-mrtr-yes` } });
        assert.equal(yes.asked.length, 1);
        assert.match(yes.asked[0].message, /^Run the tool "add_category", which writes to the database, with the arguments/);
        assert.equal(result.isError, false, JSON.stringify(result));
        assert.equal(result.structuredContent.rows_written, 1);
      } finally {
        await yes.client.close();
      }
      const no = await v2Client(`${service}c`, { action: 'decline' });
      try {
        const result = await no.client.callTool({ name: 'add_category', arguments: { name: `${service}-mrtr-no` } });
        assert.equal(no.asked.length, 1);
        assert.equal(result.isError, false);
        assert.equal(result.structuredContent.declined, true);
        assert.equal(result.structuredContent.rows_written, 0);
      } finally {
        await no.client.close();
      }
      assert.equal(await count(c, 'categories', `name = '${service}-mrtr-yes'`), 1);
      assert.equal(await count(c, 'categories', `name = '${service}-mrtr-no'`), 0);
    });
  });
}

test('a tool that writes on a read-only service is a configuration error naming both', async () => {
  const worker = await startWorker({
    services: { ro: { label: 'ro', database: { kind: 'd1', binding: 'DB' }, auth: 'none', tools: { add_category: WRITE_TOOLS.add_category } } },
    buildDir: BUILD,
  });
  try {
    const res = await fetch(`${worker.url}/health`);
    const body = await res.text();
    assert.equal(res.status, 503, body);
    assert.match(body, /SERVICES\.ro\.tools\.add_category: writes = true, but the service \\?"ro\\?" is read-only/, body);
  } finally {
    await worker.stop();
  }
});
