// query_sql end to end, on D1 and on a real PostgreSQL, with the official MCP TypeScript SDK:
// listed only where a service turns it on; a good query returns rows under the cap; every public
// read-only bypass is an isError result and the data is unchanged afterwards (row counts and a
// column sum read through another service before and after; DROP attempts leave the table).
// query_sql is an opt-in cargo feature (`query-sql`): these run on build-conformance/, which has
// it; the deployable build/ (without it) refuses a service that turns it on.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../support/mcp.mjs';
import { BACKENDS } from '../support/backends.mjs';
import { startWorker } from '../support/worker.mjs';
import { unfence } from '../support/untrusted.mjs';

// The build with the query-sql feature (scripts/test.sh builds it).
const BUILD = 'build-conformance';

const TABLES = ['categories', 'customers', 'order_items', 'orders', 'product_categories', 'products', 'big_numbers'];

/** The services of this file on one database: sql (query_sql on, writable, a hidden table and
 * column policy), plain (everything visible, query_sql off: the counting side). */
function services(database) {
  return {
    sql: {
      label: 'sql',
      database,
      auth: 'none',
      read_only: false,
      max_rows: 10,
      query_sql: true,
      hidden_tables: ['big_numbers'],
      columns: { customers: { hidden: ['notes'], masked: { email: 'email' } } },
    },
    plain: { label: 'plain', database, auth: 'none', read_only: false },
  };
}

/** Attacks refused on both engines, with a word of the expected refusal. */
const COMMON_ATTACKS = [
  ['COMMIT; DROP TABLE orders', /this is a COMMIT statement/],
  ['SELECT 1; DROP TABLE orders', /exactly one statement/],
  ['SELECT 1 /* ; */ ; DELETE FROM orders', /exactly one statement/],
  ['SELECT 1 -- x\n; DELETE FROM orders', /exactly one statement/],
  ['sElEcT 1; dElEtE fRoM orders', /exactly one statement/],
  ['DELETE FROM orders', /only a read query/],
  ['UPDATE customers SET loyalty_points = 0', /only a read query/],
  ['DROP TABLE orders', /only a read query/],
  ['INSERT INTO categories (name) VALUES (\'x\')', /only a read query/],
  ['SELECT label FROM big_numbers', /unknown table/],
  ['SELECT label FROM "big_numbers"', /unknown table/],
  ['SELECT notes FROM customers', /unknown column "notes"/],
  ['SELECT email FROM customers WHERE id = 1', /column "email" is masked/],
  ['SELECT * FROM customers', /name the columns/],
  ['SELECT id FROM products FOR UPDATE', /FOR UPDATE|could not parse/],
  ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r', /RECURSIVE/],
  [`SELECT ${'('.repeat(10000)}1${')'.repeat(10000)}`, /at most 16384/],
  [`SELECT ${'abs('.repeat(3000)}1${')'.repeat(3000)}`, /could not parse/],
  [`SELECT 1 FROM ${'(SELECT 1 FROM '.repeat(1000)} products ${')'.repeat(1000)}`, /could not parse/],
];

const SQLITE_ATTACKS = [
  ["SELECT load_extension('/tmp/evil.so')", /not allowed/],
  ["SELECT readfile('/etc/passwd')", /not allowed/],
  ["SELECT writefile('/tmp/x', 'y')", /not allowed/],
  ["SELECT fts3_tokenizer('simple')", /not allowed/],
  ["SELECT id FROM products ORDER BY (SELECT load_extension('x'))", /not allowed/],
  ["ATTACH DATABASE '/tmp/x.db' AS x", /only a read query|could not parse/],
  ['PRAGMA writable_schema = 1', /only a read query|could not parse/],
  ['VACUUM', /only a read query|could not parse/],
  ['SELECT sql FROM sqlite_master', /unknown table/],
  ['SELECT sql FROM [sqlite_master]', /unknown table/],
  ['SELECT sql FROM `sqlite_schema`', /unknown table/],
  ["SELECT name FROM pragma_table_info('big_numbers')", /table functions/],
  ['WITH big_numbers AS (SELECT 1 AS a) SELECT a FROM big_numbers', /name of a table/],
];

const POSTGRES_ATTACKS = [
  ['WITH d AS (DELETE FROM orders RETURNING id) SELECT id FROM d', /data-modifying/],
  ['WITH a AS (WITH d AS (DELETE FROM order_items RETURNING id) SELECT id FROM d) SELECT id FROM a', /data-modifying/],
  ["SELECT pg_read_file('/etc/passwd')", /not allowed/],
  ["SELECT id FROM products ORDER BY (SELECT length(pg_read_file('postgresql.conf')))", /not allowed/],
  ['SELECT pg_sleep(5)', /not allowed/],
  ['SELECT pg_catalog.pg_sleep(5)', /not allowed/],
  ["SELECT set_config('transaction_read_only', 'off', false)", /not allowed/],
  ["SELECT current_setting('data_directory')", /not allowed/],
  ["SELECT lo_import('/etc/passwd')", /not allowed/],
  ["SELECT dblink_exec('dbname=x', 'DROP TABLE orders')", /not allowed/],
  ["SELECT query_to_xml('DELETE FROM orders', true, true, '')", /not allowed/],
  ["SELECT nextval('orders_id_seq')", /not allowed/],
  ['SELECT id INTO copy_of_products FROM products', /INTO/],
  ['SELECT rolname FROM pg_catalog.pg_authid', /unknown table/],
  ['SELECT table_name FROM information_schema.tables', /unknown table/],
  ['SELECT * FROM generate_series(1, 3)', /table functions/],
  ['SELECT json_agg(c) FROM customers c', /whole row/],
  ["SET transaction_read_only = off", /only a read query/],
  ["COPY orders TO '/tmp/orders.csv'", /only a read query/],
];

for (const backend of BACKENDS) {
  describe(`query_sql on ${backend.name}`, () => {
    let running;
    let sql;
    let plain;

    before(async () => {
      if (backend.name === 'D1') {
        // D1's start() takes no services.
        const worker = await startWorker({ services: services({ kind: 'd1', binding: 'DB' }), buildDir: BUILD });
        running = { worker, stop: () => worker.stop() };
      } else {
        running = await backend.start({ services: (pg) => services(pg), buildDir: BUILD });
      }
      sql = (await connectClient(running.worker.mcpUrl('sql'))).client;
      plain = (await connectClient(running.worker.mcpUrl('plain'))).client;
    });

    after(async () => {
      await sql?.close();
      await plain?.close();
      await running?.stop();
    });

    async function query(text, params) {
      return sql.callTool({ name: 'query_sql', arguments: params ? { sql: text, params } : { sql: text } });
    }

    /** Row counts of every table and the sum of a column, read through the plain service. */
    async function state() {
      const out = {};
      for (const table of TABLES) {
        const r = await plain.callTool({ name: 'get_table_data', arguments: { table, count_only: true } });
        assert.equal(r.isError, false, JSON.stringify(r.content));
        out[table] = r.structuredContent.count;
      }
      const points = await plain.callTool({
        name: 'aggregate_table_data',
        arguments: { table: 'customers', aggregates: [{ function: 'sum', column: 'loyalty_points' }] },
      });
      assert.equal(points.isError, false, JSON.stringify(points.content));
      out.points = JSON.stringify(points.structuredContent);
      return out;
    }

    test('listed only on the service that enables it, as a read-only tool', async () => {
      const on = (await sql.listTools()).tools.find((t) => t.name === 'query_sql');
      assert.ok(on, 'query_sql listed on sql');
      assert.equal(on.annotations.readOnlyHint, true);
      const off = (await plain.listTools()).tools.map((t) => t.name);
      assert.ok(!off.includes('query_sql'));
      await assert.rejects(
        plain.callTool({ name: 'query_sql', arguments: { sql: 'SELECT 1' } }),
        /unknown tool "query_sql"/,
      );
    });

    test('a join with aggregates returns rows, fenced as untrusted data, capped at max_rows', async () => {
      const placeholder = backend.name === 'D1' ? '?' : '$1';
      const result = await query(
        `SELECT c.name, count(o.id) AS n FROM customers c JOIN orders o ON o.customer_id = c.id ` +
          `WHERE c.id = ${placeholder} GROUP BY c.id, c.name`,
        [1],
      );
      assert.equal(result.isError, false, JSON.stringify(result.content));
      assert.deepEqual(unfence(result.content[0].text).value, result.structuredContent);
      assert.equal(result.structuredContent.records[0].name, "Zoë O'Brien");
      assert.ok(Number(result.structuredContent.records[0].n) > 0);

      const capped = await query('SELECT id, name FROM products ORDER BY id');
      assert.equal(capped.isError, false, JSON.stringify(capped.content));
      assert.equal(capped.structuredContent.returned, 10);
      assert.equal(capped.structuredContent.truncated, true);
      assert.deepEqual(capped.structuredContent.records.map((r) => Number(r.id)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    test('every bypass attempt is refused and changes nothing', async () => {
      const attacks = [...COMMON_ATTACKS, ...(backend.name === 'D1' ? SQLITE_ATTACKS : POSTGRES_ATTACKS)];
      const before = await state();
      for (const [text, expected] of attacks) {
        const result = await query(text);
        assert.equal(result.isError, true, `${text.slice(0, 60)} was accepted: ${JSON.stringify(result.structuredContent)}`);
        assert.match(result.content[0].text, expected, text.slice(0, 60));
      }
      assert.deepEqual(await state(), before);
      // The tables a DROP aimed at are still there and the session still works.
      const still = await query('SELECT count(*) AS n FROM orders');
      assert.equal(still.isError, false, JSON.stringify(still.content));
      assert.equal(Number(still.structuredContent.records[0].n), before.orders);
    });

    if (backend.name === 'PostgreSQL') {
      test('duplicate result column names are refused, not merged', async () => {
        const result = await query('SELECT o.id, c.id FROM orders o JOIN customers c ON c.id = o.customer_id');
        assert.equal(result.isError, true);
        assert.match(result.content[0].text, /two result columns are named "id"/);
      });

      test('a write that got past the checks would still fail: the transaction is read-only', async () => {
        // The batch query_sql sends (after the statement timeout), with a write in place of the
        // validated SELECT, straight to the proxy and without the read-only header.
        const before = await state();
        const res = await fetch(running.stack.proxyUrl, {
          method: 'POST',
          headers: { 'Neon-Connection-String': running.stack.connectionString, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            queries: [
              { query: "SELECT set_config('statement_timeout', $1, true)", params: ['5000'] },
              { query: "SELECT set_config('transaction_read_only', 'on', true)", params: [] },
              { query: "INSERT INTO categories (name) VALUES ('slipped through')", params: [] },
            ],
          }),
        });
        assert.notEqual(res.status, 200);
        assert.match(await res.text(), /cannot execute INSERT in a read-only transaction/);
        assert.deepEqual(await state(), before);
      });
    }
  });
}

describe('the deployable build (without the query-sql feature)', () => {
  test('refuses a service that turns query_sql on, naming the feature, and lists no query_sql elsewhere', async () => {
    const worker = await startWorker({ services: services({ kind: 'd1', binding: 'DB' }) });
    try {
      const res = await fetch(`${worker.url}/health`);
      const body = await res.text();
      assert.equal(res.status, 503, body);
      assert.match(body, /SERVICES\.sql\.query_sql: this build has no query_sql: build with the cargo feature `query-sql`/, body);
      const open = await startWorker({ services: { plain: services({ kind: 'd1', binding: 'DB' }).plain } });
      try {
        const { client } = await connectClient(open.mcpUrl('plain'));
        assert.ok(!(await client.listTools()).tools.some((t) => t.name === 'query_sql'));
        await client.close();
      } finally {
        await open.stop();
      }
    } finally {
      await worker.stop();
    }
  });
});
