// The official MCP TypeScript SDK client against the worker: every method and every tool, with
// the results checked against the demo data (migrations/0002_store_data.sql, and its PostgreSQL
// twin postgres/0002_store_data.sql). One suite, run once per backend (tests/support/backends.mjs).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createKey } from '../support/worker.mjs';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient } from '../support/mcp.mjs';
import { BACKENDS } from '../support/backends.mjs';
import { unfence } from '../support/untrusted.mjs';

const ALL_TOOLS = [
  'get_data_model',
  'get_tables',
  'get_table_schema',
  'get_table_fields',
  'get_table_relationships',
  'get_table_data',
  'aggregate_table_data',
  'search',
  'fetch',
  'create_records',
  'update_records',
  'delete_records',
  'get_database_resources',
  'get_stored_procedures',
  'call_stored_procedure',
  'get_stored_functions',
  'call_stored_function',
  'list_tools',
];
const WRITE_TOOLS = ['create_records', 'update_records', 'delete_records'];
const DATA_TOOLS = [
  'get_table_data',
  'aggregate_table_data',
  ...WRITE_TOOLS,
  'call_stored_procedure',
  'call_stored_function',
];
const DEMO_TABLES = ['big_numbers', 'categories', 'customers', 'order_items', 'orders', 'product_categories', 'products'];

let backend;
let running;
let worker;
let client;

/** Calls a tool and returns its structuredContent, failing on isError. */
async function callOk(name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, false, `${name} failed: ${JSON.stringify(result.content)}`);
  assert.equal(result.content[0].type, 'text');
  // Database content comes fenced as untrusted data; schema-only results as plain JSON.
  const text = result.content[0].text;
  const json = DATA_TOOLS.includes(name) ? unfence(text).value : JSON.parse(text);
  assert.deepEqual(json, result.structuredContent, `${name}: the text block mirrors structuredContent`);
  return result.structuredContent;
}

for (const each of BACKENDS) {
describe(`on ${each.name}`, () => {
  before(async () => {
    backend = each;
    running = await backend.start();
    worker = running.worker;
    const { key } = await createKey(worker.url, 'demo', { label: 'sdk client' });
    ({ client } = await connectClient(worker.mcpUrl('demo'), key));
  });

  after(async () => {
    await client?.close();
    await running?.stop();
  });

  describe('initialize', () => {
    test('server info, capabilities and instructions', () => {
      const info = client.getServerVersion();
      assert.equal(info.name, 'dbmcp');
      assert.equal(typeof info.version, 'string');
      assert.match(info.title, /Demo store/);
      const caps = client.getServerCapabilities();
      for (const capability of ['tools', 'resources', 'prompts', 'logging', 'completions']) {
        assert.ok(caps[capability], `capability ${capability}`);
      }
      assert.match(client.getInstructions(), /get_tables/);
      assert.match(client.getInstructions(), /at most 100 rows/);
    });

    test('ping answers an empty result', async () => {
      assert.deepEqual(await client.ping(), {});
    });

    test('setLoggingLevel accepts a level', async () => {
      assert.deepEqual(await client.setLoggingLevel('warning'), {});
      await assert.rejects(client.request({ method: 'logging/setLevel', params: { level: 'loud' } }, EmptyResultSchema), (err) => {
        assert.equal(err.code, -32602);
        return true;
      });
    });
  });

  describe('tools/list', () => {
    test('lists the 18 tools with titles and annotations', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ALL_TOOLS);
      for (const tool of tools) {
        assert.ok(tool.title && tool.title.length > 0, `${tool.name} has a title`);
        assert.equal(tool.annotations.title, tool.title);
        assert.equal(typeof tool.annotations.readOnlyHint, 'boolean', `${tool.name} readOnlyHint`);
        assert.equal(typeof tool.annotations.destructiveHint, 'boolean', `${tool.name} destructiveHint`);
        assert.equal(tool.inputSchema.type, 'object');
        assert.equal(tool.outputSchema?.type, 'object', `${tool.name} has an object outputSchema`);
        assert.ok(tool.description.length > 20, `${tool.name} has a description`);
      }
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      assert.equal(byName.get_tables.annotations.readOnlyHint, true);
      assert.equal(byName.get_table_data.annotations.destructiveHint, false);
      assert.equal(byName.delete_records.annotations.readOnlyHint, false);
      assert.equal(byName.delete_records.annotations.destructiveHint, true);
      assert.equal(byName.create_records.annotations.readOnlyHint, false);
      for (const name of ['search', 'fetch']) {
        assert.equal(byName[name].annotations.readOnlyHint, true, `${name} is read-only`);
        assert.equal(byName[name].annotations.destructiveHint, false, `${name} destroys nothing`);
      }
    });
  });

  describe('read tools on the demo data', () => {
    test('get_tables lists tables and the view, with counts', async () => {
      const out = await callOk('get_tables', { include_counts: true });
      const byName = Object.fromEntries(out.tables.map((t) => [t.name, t]));
      for (const name of DEMO_TABLES) assert.equal(byName[name]?.type, 'table', name);
      assert.equal(byName.order_summaries.type, 'view');
      assert.equal(byName.customers.row_count, 500);
      assert.equal(byName.products.row_count, 200);
      assert.equal(byName.orders.row_count, 3000);
      assert.equal(byName.order_items.row_count, 10540);
      assert.equal(byName.big_numbers.row_count, 4);
      assert.deepEqual(byName.product_categories.primary_key, ['product_id', 'category_id']);
      assert.equal(byName.customers.columns, 8);
    });

    test('get_table_schema describes orders', async () => {
      const out = await callOk('get_table_schema', { table: 'orders' });
      assert.equal(out.name, 'orders');
      assert.equal(out.type, 'table');
      assert.deepEqual(out.primary_key, ['id']);
      assert.deepEqual(out.columns.map((c) => c.name), ['id', 'customer_id', 'status', 'ordered_at', 'shipped_at', 'total']);
      assert.equal(out.columns.find((c) => c.name === 'shipped_at').nullable, true);
      assert.equal(out.columns.find((c) => c.name === 'total').default, '0');
      assert.deepEqual(
        out.foreign_keys.map((fk) => [fk.columns, fk.ref_table, fk.ref_columns]),
        [[['customer_id'], 'customers', ['id']]],
      );
      assert.ok(out.indexes.some((i) => i.name === 'idx_orders_status' && i.columns[0] === 'status'));
      const rels = Object.fromEntries(out.relationships.map((r) => [r.name, r.kind]));
      assert.deepEqual(rels, { customers_by_customer_id: 'belongs_to', order_items_by_order_id: 'has_many' });
    });

    test('get_table_fields lists the columns of customers', async () => {
      const out = await callOk('get_table_fields', { table: 'customers' });
      assert.equal(out.table, 'customers');
      assert.deepEqual(
        out.fields.map((f) => f.name),
        ['id', 'name', 'email', 'city', 'country', 'created_at', 'loyalty_points', 'notes'],
      );
      const id = out.fields.find((f) => f.name === 'id');
      assert.equal(id.auto_increment, true);
      assert.equal(id.primary_key, 1);
      assert.equal(out.fields.find((f) => f.name === 'email').nullable, false);
      assert.equal(out.fields.find((f) => f.name === 'city').nullable, true);
    });

    test('get_table_relationships shows has_many and many_many of products', async () => {
      const out = await callOk('get_table_relationships', { table: 'products' });
      assert.equal(out.table, 'products');
      const byName = Object.fromEntries(out.relationships.map((r) => [r.name, r]));
      assert.equal(byName.order_items_by_product_id.kind, 'has_many');
      assert.equal(byName.categories_by_product_categories.kind, 'many_many');
      assert.equal(byName.categories_by_product_categories.ref_table, 'categories');
      assert.equal(byName.categories_by_product_categories.junction.table, 'product_categories');
    });

    test('get_table_data with filter, order, limit, count and related rows', async () => {
      const out = await callOk('get_table_data', {
        table: 'orders',
        filter: 'customer_id = 1 AND id <= 3',
        order: 'id DESC',
        limit: 1,
        include_count: true,
        related: ['customers_by_customer_id', 'order_items_by_order_id'],
      });
      assert.equal(out.table, 'orders');
      assert.equal(out.count, 2, 'orders 1 and 3 belong to customer 1');
      assert.equal(out.returned, 1);
      assert.equal(out.next_offset, 1);
      assert.equal(out.truncated, false, 'the caller asked for 1 row: not truncated by the cap');
      const [order] = out.records;
      assert.equal(order.id, 3);
      assert.equal(order.status, 'cancelled');
      assert.equal(order.total, 124.84);
      assert.equal(order.shipped_at, null);
      assert.equal(order.customers_by_customer_id.name, "Zoë O'Brien");
      assert.equal(order.customers_by_customer_id.city, 'Łódź');
      assert.deepEqual(
        order.order_items_by_order_id.map((i) => [i.id, i.product_id, i.quantity, i.unit_price]),
        [
          [4, 4, 3, 34.95],
          [5, 5, 1, 19.99],
        ],
      );
    });

    test('get_table_data with fields, ids and a many-to-many relationship', async () => {
      const out = await callOk('get_table_data', {
        table: 'products',
        ids: [1, 5],
        fields: 'sku, name',
        related: 'categories_by_product_categories',
      });
      assert.deepEqual(out.records.map((r) => Object.keys(r)), [
        ['sku', 'name', 'categories_by_product_categories'],
        ['sku', 'name', 'categories_by_product_categories'],
      ]);
      assert.equal(out.records[0].sku, 'SKU-0001');
      assert.equal(out.records[1].name, 'Café Espresso Cup (Set of 4)');
      assert.deepEqual(out.records[0].categories_by_product_categories.map((c) => c.name).sort(), ['Computers', 'Electronics']);
      assert.deepEqual(out.records[1].categories_by_product_categories.map((c) => c.name).sort(), ['Home & Kitchen', 'Kitchenware']);
    });

    test('get_table_data caps rows at max_rows and says so', async () => {
      const out = await callOk('get_table_data', { table: 'customers', fields: ['id'], limit: 500 });
      assert.equal(out.returned, 100);
      assert.equal(out.limit, 100);
      assert.equal(out.truncated, true);
      assert.equal(out.next_offset, 100);
      assert.equal(out.records[0].id, 1);
    });

    test('get_table_data reports a bad filter as a tool error', async () => {
      const result = await client.callTool({ name: 'get_table_data', arguments: { table: 'orders', filter: "status = = 'paid'" } });
      assert.equal(result.isError, true);
      assert.ok(result.content[0].text.length > 0);
      const unknown = await client.callTool({ name: 'get_table_data', arguments: { table: 'nope' } });
      assert.equal(unknown.isError, true);
      assert.match(unknown.content[0].text, /unknown table "nope"/);
    });

    test('get_table_data filters on quoted Unicode text', async () => {
      const out = await callOk('get_table_data', { table: 'customers', filter: "name = 'Zoë O''Brien' AND id <= 5", fields: ['id', 'email'] });
      assert.deepEqual(out.records, [{ id: 1, email: 'zoe.obrien@example.com' }]);
      const nullCity = await callOk('get_table_data', { table: 'customers', filter: 'city IS NULL AND id <= 5', fields: 'id, country' });
      assert.deepEqual(nullCity.records, [{ id: 5, country: 'Ireland' }]);
    });

    test('get_table_data filters on decimal numbers as written (parsed by the worker)', async () => {
      for (const price of ['19.99', '19.990', '1.999e1', '+19.99']) {
        const out = await callOk('get_table_data', { table: 'products', filter: `id <= 10 AND price = ${price}`, fields: ['id'] });
        assert.deepEqual(out.records, [{ id: 5 }], price);
      }
      const none = await callOk('get_table_data', { table: 'products', filter: 'id <= 10 AND price = 19.991', fields: ['id'] });
      assert.deepEqual(none.records, []);
    });

    test('get_table_data reads a view', async () => {
      const out = await callOk('get_table_data', { table: 'order_summaries', filter: 'order_id IN (1, 2)', order: 'order_id' });
      assert.deepEqual(out.records, [
        { order_id: 1, customer_name: "Zoë O'Brien", status: 'delivered', item_count: 2, total: 139.48 },
        { order_id: 2, customer_name: 'José Álvarez', status: 'pending', item_count: 1, total: 199 },
      ]);
    });

    test('integers beyond 2^53 come back exact, as strings', async () => {
      const out = await callOk('get_table_data', { table: 'big_numbers', order: 'id' });
      assert.deepEqual(out.records.map((r) => r.value), ['9007199254740993', '-9007199254740993', '9223372036854775807', 42]);
    });

    test('aggregate_table_data counts and sums per group, computed by the database', async () => {
      const out = await callOk('aggregate_table_data', {
        table: 'orders',
        aggregates: [{ function: 'count' }, { function: 'sum', column: 'total', alias: 'revenue' }],
        group_by: 'status',
        order: 'count DESC',
      });
      assert.deepEqual(out.rows.map((r) => [r.status, r.count]), [
        ['delivered', 2034],
        ['cancelled', 444],
        ['paid', 194],
        ['shipped', 193],
        ['pending', 135],
      ]);
      const revenue = out.rows.reduce((sum, r) => sum + r.revenue, 0);
      const whole = await callOk('aggregate_table_data', { table: 'orders', aggregates: [{ function: 'sum', column: 'total' }] });
      assert.ok(Math.abs(revenue - whole.rows[0].sum_total) < 0.01, `${revenue} vs ${whole.rows[0].sum_total}`);
      const big = await callOk('aggregate_table_data', { table: 'big_numbers', aggregates: [{ function: 'max', column: 'value' }] });
      assert.equal(big.rows[0].max_value, '9223372036854775807');
    });

    test('get_data_model shows every table with keys, references and row counts', async () => {
      const out = await callOk('get_data_model');
      const byName = Object.fromEntries(out.tables.map((t) => [t.name, t]));
      assert.deepEqual(Object.keys(byName).sort(), [...backend.tables, 'order_summaries'].sort());
      assert.equal(byName.order_items.row_count, 10540);
      assert.deepEqual(byName.orders.references, ['customer_id -> customers.id']);
      assert.equal(byName.product_categories.junction, true);
      assert.equal(byName.order_summaries.type, 'view');
    });

    test('get_database_resources describes the service', async () => {
      const out = await callOk('get_database_resources');
      assert.equal(out.service, 'demo');
      assert.equal(out.label, 'Demo store');
      assert.equal(out.engine, backend.engine);
      assert.equal(out.read_only, false);
      assert.equal(out.max_rows, 100);
      assert.deepEqual(out.tables, backend.tables);
      assert.deepEqual(out.views, ['order_summaries']);
      assert.ok(out.resources.includes('dbmcp://demo/tables/customers'));
      assert.equal(out.resources.length, backend.tables.length + 1);
    });

    test('list_tools lists the tools this caller may use', async () => {
      const out = await callOk('list_tools');
      assert.deepEqual(out.tools.map((t) => t.name), ALL_TOOLS);
      assert.equal(out.tools.find((t) => t.name === 'get_tables').read_only, true);
      assert.equal(out.tools.find((t) => t.name === 'create_records').read_only, false);
    });

    if (each.hasRoutines) {
      test('get_stored_procedures and get_stored_functions list the routines with signatures', async () => {
        const procedures = await callOk('get_stored_procedures');
        const restock = procedures.routines.find((r) => r.name === 'restock');
        assert.deepEqual(
          restock.arguments.map((a) => [a.name, a.type, a.mode, a.has_default]),
          [
            ['p_product_id', 'integer', 'in', false],
            ['p_amount', 'integer', 'in', false],
            ['new_stock', 'integer', 'inout', true],
          ],
        );
        const functions = await callOk('get_stored_functions');
        const names = functions.routines.map((r) => r.name);
        for (const name of ['order_total', 'top_customers', 'log_visit']) assert.ok(names.includes(name), name);
        assert.equal(functions.routines.find((r) => r.name === 'top_customers').returns_set, true);
      });
    } else {
      test('get_stored_procedures and get_stored_functions are empty with a note', async () => {
        for (const [name, word] of [
          ['get_stored_procedures', 'stored procedures'],
          ['get_stored_functions', 'stored functions'],
        ]) {
          const out = await callOk(name);
          assert.deepEqual(out.routines, [], name);
          assert.match(out.note, /SQLite/);
          assert.ok(out.note.includes(word), `${name}: ${out.note}`);
        }
      });

      test('call_stored_procedure and call_stored_function are tool errors', async () => {
        for (const name of ['call_stored_procedure', 'call_stored_function']) {
          const result = await client.callTool({ name, arguments: { name: 'anything', arguments: { x: 1 } } });
          assert.equal(result.isError, true, name);
          assert.match(result.content[0].text, /SQLite \(Cloudflare D1\), which has no stored/);
          assert.equal(result.structuredContent, undefined);
        }
      });

    }

    test('an unknown tool is a JSON-RPC -32602 error', async () => {
      await assert.rejects(client.callTool({ name: 'drop_database', arguments: {} }), (err) => {
        assert.equal(err.code, -32602);
        assert.match(err.message, /unknown tool/);
        return true;
      });
    });
  });

  describe('write tools', () => {
    test('create, update (patch and records) and delete categories', async () => {
      const suffix = `${Date.now()}`;
      const created = await callOk('create_records', {
        table: 'categories',
        records: [
          { name: `E2E A ${suffix}`, parent_id: 11 },
          { name: `E2E B ${suffix}`, parent_id: 11, description: 'second' },
        ],
      });
      assert.equal(created.table, 'categories');
      assert.equal(created.created.length, 2);
      const [a, b] = created.created;
      assert.ok(Number.isInteger(a.id) && a.id > 12, `a generated id beyond the fixed rows: ${a.id}`);
      assert.equal(b.id, a.id + 1);
      assert.equal(a.description, null);
      assert.equal(b.description, 'second');
      assert.equal(a.parent_id, 11);

      const patched = await callOk('update_records', {
        table: 'categories',
        ids: [a.id, b.id],
        patch: { description: 'patched' },
      });
      assert.equal(patched.updated, 2);
      assert.deepEqual(patched.records.map((r) => r.description), ['patched', 'patched']);

      const perRecord = await callOk('update_records', {
        table: 'categories',
        records: [{ id: a.id, description: 'only a' }],
      });
      assert.equal(perRecord.updated, 1);
      assert.equal(perRecord.records[0].id, a.id);
      assert.equal(perRecord.records[0].description, 'only a');

      const read = await callOk('get_table_data', { table: 'categories', filter: `name STARTS WITH 'E2E '`, order: 'id' });
      assert.deepEqual(read.records.map((r) => [r.id, r.description]), [
        [a.id, 'only a'],
        [b.id, 'patched'],
      ]);

      const deleted = await callOk('delete_records', { table: 'categories', ids: [a.id, b.id] });
      assert.equal(deleted.deleted, 2);
      assert.deepEqual([...deleted.keys].sort((x, y) => x - y), [a.id, b.id]);
      const gone = await callOk('get_table_data', { table: 'categories', ids: [a.id, b.id] });
      assert.equal(gone.returned, 0);
      const count = await callOk('get_table_data', { table: 'categories', count_only: true });
      assert.equal(count.count, 12, 'back to the 12 demo categories');
    });

    test('an atomic create writes nothing when one record is bad', async () => {
      const result = await client.callTool({
        name: 'create_records',
        arguments: { table: 'categories', records: [{ name: `E2E ok ${Date.now()}` }, { description: 'no name' }] },
      });
      assert.equal(result.isError, true);
      assert.match(result.content[0].text, /record 1: missing required column\(s\): name/);
      const count = await callOk('get_table_data', { table: 'categories', count_only: true });
      assert.equal(count.count, 12);
    });

    test('delete_records refuses to run without ids or a filter', async () => {
      const result = await client.callTool({ name: 'delete_records', arguments: { table: 'categories' } });
      assert.equal(result.isError, true);
      assert.match(result.content[0].text, /refusing to delete every row/);
    });
  });

  describe('resources, prompts and completions', () => {
    test('listResources lists one schema resource per table and view', async () => {
      const { resources } = await client.listResources();
      assert.equal(resources.length, backend.tables.length + 1);
      const customers = resources.find((r) => r.name === 'customers');
      assert.equal(customers.uri, 'dbmcp://demo/tables/customers');
      assert.equal(customers.mimeType, 'application/json');
      assert.ok(customers.title);
    });

    test('readResource returns the table schema as JSON', async () => {
      const { contents } = await client.readResource({ uri: 'dbmcp://demo/tables/customers' });
      assert.equal(contents.length, 1);
      assert.equal(contents[0].uri, 'dbmcp://demo/tables/customers');
      assert.equal(contents[0].mimeType, 'application/json');
      const schema = JSON.parse(contents[0].text);
      assert.equal(schema.name, 'customers');
      assert.equal(schema.columns.length, 8);
      assert.ok(schema.relationships.some((r) => r.name === 'orders_by_customer_id' && r.kind === 'has_many'));
    });

    test('readResource of an unknown table is error -32002', async () => {
      await assert.rejects(client.readResource({ uri: 'dbmcp://demo/tables/nope' }), (err) => {
        assert.equal(err.code, -32002);
        return true;
      });
    });

    test('listResourceTemplates offers the table-schema template', async () => {
      const { resourceTemplates } = await client.listResourceTemplates();
      assert.equal(resourceTemplates.length, 1);
      assert.equal(resourceTemplates[0].uriTemplate, 'dbmcp://demo/tables/{table}');
      assert.equal(resourceTemplates[0].name, 'table-schema');
    });

    test('listPrompts and getPrompt', async () => {
      const { prompts } = await client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name), ['explore_database', 'query_table']);
      const queryTable = prompts.find((p) => p.name === 'query_table');
      assert.deepEqual(queryTable.arguments.filter((a) => a.required).map((a) => a.name), ['table']);

      const prompt = await client.getPrompt({ name: 'query_table', arguments: { table: 'orders', question: 'How many are pending?' } });
      assert.equal(prompt.messages.length, 1);
      assert.equal(prompt.messages[0].role, 'user');
      assert.match(prompt.messages[0].content.text, /"orders"/);
      assert.match(prompt.messages[0].content.text, /How many are pending\?/);

      const explore = await client.getPrompt({ name: 'explore_database', arguments: { goal: 'find top customers' } });
      assert.match(explore.messages[0].content.text, /find top customers/);

      await assert.rejects(client.getPrompt({ name: 'query_table', arguments: { table: 'nope' } }), (err) => {
        assert.equal(err.code, -32602);
        return true;
      });
    });

    test('complete offers table names for query_table and columns once a table is chosen', async () => {
      const tables = await client.complete({ ref: { type: 'ref/prompt', name: 'query_table' }, argument: { name: 'table', value: 'ord' } });
      assert.deepEqual(tables.completion.values, ['order_items', 'order_summaries', 'orders']);
      assert.equal(tables.completion.total, 3);
      assert.equal(tables.completion.hasMore, false);

      const all = await client.complete({ ref: { type: 'ref/prompt', name: 'query_table' }, argument: { name: 'table', value: '' } });
      assert.equal(all.completion.values.length, backend.tables.length + 1);

      const columns = await client.complete({
        ref: { type: 'ref/prompt', name: 'query_table' },
        argument: { name: 'column', value: 'c' },
        context: { arguments: { table: 'customers' } },
      });
      assert.deepEqual(columns.completion.values, ['city', 'country', 'created_at']);

      const viaTemplate = await client.complete({
        ref: { type: 'ref/resource', uri: 'dbmcp://demo/tables/{table}' },
        argument: { name: 'table', value: 'prod' },
      });
      assert.deepEqual(viaTemplate.completion.values, ['product_categories', 'products']);
    });
  });

  describe('other services', () => {
    test('the read-only service lists no write tools and hides big_numbers', async () => {
      const { key } = await createKey(worker.url, 'readonly', { label: 'sdk readonly' });
      const { client: ro } = await connectClient(worker.mcpUrl('readonly'), key);
      try {
        const { tools } = await ro.listTools();
        const names = tools.map((t) => t.name);
        assert.deepEqual(names, ALL_TOOLS.filter((n) => !WRITE_TOOLS.includes(n)));
        const tables = await ro.callTool({ name: 'get_tables', arguments: {} });
        assert.ok(!tables.structuredContent.tables.some((t) => t.name === 'big_numbers'));
        const resources = await ro.callTool({ name: 'get_database_resources', arguments: {} });
        assert.equal(resources.structuredContent.read_only, true);
        assert.equal(resources.structuredContent.max_rows, 25);
        assert.ok(!resources.structuredContent.tables.includes('big_numbers'));
        // The hidden table is hidden everywhere: data, resources, completions.
        const hidden = await ro.callTool({ name: 'get_table_data', arguments: { table: 'big_numbers' } });
        assert.equal(hidden.isError, true);
        assert.match(hidden.content[0].text, /unknown table/);
        const { resources: listed } = await ro.listResources();
        assert.equal(listed.length, backend.tables.length, 'every table but the hidden one, plus the view');
        assert.ok(listed.every((r) => r.uri.startsWith('dbmcp://readonly/tables/') && r.name !== 'big_numbers'));
        await assert.rejects(ro.readResource({ uri: 'dbmcp://readonly/tables/big_numbers' }), (err) => err.code === -32002);
        const completion = await ro.complete({ ref: { type: 'ref/prompt', name: 'query_table' }, argument: { name: 'table', value: 'b' } });
        assert.deepEqual(completion.completion.values, []);
        // Reads are capped at the service's max_rows (25).
        const capped = await ro.callTool({ name: 'get_table_data', arguments: { table: 'orders', fields: 'id' } });
        assert.equal(capped.structuredContent.returned, 25);
        assert.equal(capped.structuredContent.next_offset, 25);
        await assert.rejects(ro.callTool({ name: 'create_records', arguments: { table: 'categories', records: [{ name: 'x' }] } }), (err) => {
          assert.equal(err.code, -32602);
          assert.match(err.message, /read-only/);
          return true;
        });
      } finally {
        await ro.close();
      }
    });

    test('the open service works with no API key', async () => {
      const { client: open } = await connectClient(worker.mcpUrl('open'));
      try {
        assert.equal(open.getServerVersion().name, 'dbmcp');
        const { tools } = await open.listTools();
        assert.equal(tools.length, 18);
        const out = await open.callTool({ name: 'get_table_data', arguments: { table: 'customers', ids: 4 } });
        assert.equal(out.isError, false);
        assert.equal(out.structuredContent.records[0].name, '山田 太郎');
        assert.equal(out.structuredContent.records[0].city, '東京');
      } finally {
        await open.close();
      }
    });
  });
});
}
