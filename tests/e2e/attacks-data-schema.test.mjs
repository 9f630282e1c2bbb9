// Attacks on the data side (issue 7, items 12, 14, 15, 18 and 21), against the built worker in
// Miniflare on both engines: D1, and real PostgreSQL through the Neon-compatible proxy.
//
//   - `related` naming one relationship 10,000 times, more relationships than allowed, and a
//     call that needs more database queries than the service's budget;
//   - views (and, on PostgreSQL, routines and views over routines) that read a hidden table;
//   - database errors naming a hidden table;
//   - aggregate_table_data ordered by a quoted column;
//   - PostgreSQL names with dots: schema `we.ird` table `t.x` against public table `we.ird.t.x`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createKey, startWorker } from '../support/worker.mjs';
import { connectClient } from '../support/mcp.mjs';
import { BACKENDS } from '../support/backends.mjs';

/** The services of this suite, all on the same database. */
function services(database) {
  const hiding = { database, read_only: false, hidden_tables: ['customers'] };
  return {
    demo: { label: 'Everything visible', database, read_only: false },
    hiding: { label: 'Hides customers', ...hiding },
    listed: { label: 'Hides customers, exposes order_total', ...hiding, routines: ['order_total'] },
    tight: { label: 'Three queries per call', database, read_only: true, max_queries_per_call: 3 },
  };
}

/** SQL run before any tool call (schemas are cached for 30 s). */
const SETUP = {
  D1: [
    'CREATE TABLE spaced (id INTEGER PRIMARY KEY, "sp ace" INTEGER, grp TEXT)',
    'INSERT INTO spaced VALUES (1, 10, \'x\'), (2, 20, \'y\'), (3, 30, \'y\')',
    'CREATE VIEW customer_names AS SELECT customer_name FROM order_summaries',
    'CREATE VIEW order_statuses AS SELECT id, status FROM orders',
  ],
  PostgreSQL: [
    'CREATE TABLE spaced (id integer PRIMARY KEY, "sp ace" integer, grp text)',
    "INSERT INTO spaced VALUES (1, 10, 'x'), (2, 20, 'y'), (3, 30, 'y')",
    'CREATE VIEW customer_names AS SELECT customer_name FROM order_summaries',
    'CREATE VIEW order_statuses AS SELECT id, status FROM orders',
    'CREATE MATERIALIZED VIEW customer_cities AS SELECT DISTINCT city FROM customers',
    'CREATE VIEW reporting.customer_emails AS SELECT email FROM public.customers',
    'CREATE VIEW best_three AS SELECT * FROM top_customers(3)',
    'CREATE VIEW order_totals AS SELECT id, order_total(id) AS computed FROM orders',
    'CREATE SCHEMA "we.ird"',
    'CREATE TABLE "we.ird"."t.x" (a integer PRIMARY KEY)',
    'INSERT INTO "we.ird"."t.x" VALUES (1)',
    'CREATE TABLE public."we.ird.t.x" (b text PRIMARY KEY)',
    "INSERT INTO public.\"we.ird.t.x\" VALUES ('public row')",
  ],
};

async function start(backend) {
  if (backend.name === 'D1') {
    const worker = await startWorker({ services: services({ kind: 'd1', binding: 'DB' }) });
    const db = await worker.mf.getD1Database('DB');
    for (const sql of SETUP.D1) await db.prepare(sql).run();
    return { worker, stop: () => worker.stop() };
  }
  const running = await backend.start({ services: (database) => services(database) });
  const db = new pg.Client({ connectionString: running.stack.connectionString });
  await db.connect();
  try {
    for (const sql of SETUP.PostgreSQL) await db.query(sql);
  } finally {
    await db.end();
  }
  return running;
}

for (const backend of BACKENDS) {
  describe(`data-side attacks on ${backend.name}`, () => {
    let running;
    const clients = {};

    /** Calls a tool and returns the whole result (isError included). */
    const call = (service, name, args = {}) => clients[service].callTool({ name, arguments: args });

    async function callOk(service, name, args = {}) {
      const result = await call(service, name, args);
      assert.equal(result.isError, false, `${name} on ${service}: ${JSON.stringify(result.content)}`);
      return result.structuredContent;
    }

    async function callError(service, name, args = {}) {
      const result = await call(service, name, args);
      assert.equal(result.isError, true, `${name} on ${service} should fail: ${JSON.stringify(result.structuredContent)}`);
      return result.content[0].text;
    }

    async function tableNames(service) {
      return (await callOk(service, 'get_tables')).tables.map((t) => t.name);
    }

    before(async () => {
      running = await start(backend);
      for (const service of Object.keys(services({}))) {
        const { key } = await createKey(running.worker.url, service, { label: `attacks ${service}` });
        ({ client: clients[service] } = await connectClient(running.worker.mcpUrl(service), key));
      }
    });

    after(async () => {
      for (const client of Object.values(clients)) await client.close();
      await running?.stop();
    });

    describe('item 12: related and the query budget', () => {
      test('one relationship named 10,000 times is embedded once, quickly', async () => {
        const related = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 'customers_by_customer_id' : 'CUSTOMERS_BY_CUSTOMER_ID'));
        const started = Date.now();
        const out = await callOk('demo', 'get_table_data', { table: 'orders', ids: [1, 2], related });
        const elapsed = Date.now() - started;
        assert.equal(out.records.length, 2);
        assert.equal(out.records[0].customers_by_customer_id.id, 1);
        assert.equal(out.records[1].customers_by_customer_id.id, 2);
        assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
      });

      test('eight such calls in parallel do not hold up another caller', async () => {
        const related = Array.from({ length: 10_000 }, () => 'order_items_by_order_id');
        const started = Date.now();
        const heavy = Array.from({ length: 8 }, () => callOk('demo', 'get_table_data', { table: 'orders', limit: 20, related }));
        const light = callOk('tight', 'get_table_data', { table: 'products', ids: [1] }).then((out) => ({ out, at: Date.now() - started }));
        const [results, quick] = await Promise.all([Promise.all(heavy), light]);
        for (const out of results) assert.equal(out.records[0].order_items_by_order_id.length, 2);
        assert.equal(quick.out.records[0].sku, 'SKU-0001');
        assert.ok(quick.at < 5_000, `the other caller waited ${quick.at} ms`);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      });

      test('more than ten distinct relationship names are refused', async () => {
        const related = Array.from({ length: 11 }, (_, i) => `rel_${i}`);
        const message = await callError('demo', 'get_table_data', { table: 'orders', related });
        assert.match(message, /related lists more than 10 distinct relationships; embed at most 10 per call/);
      });

      test('a call needing more queries than max_queries_per_call stops with a clear error', async () => {
        const args = {
          table: 'orders',
          limit: 5,
          include_count: true,
          related: ['customers_by_customer_id', 'order_items_by_order_id'],
        };
        const message = await callError('tight', 'get_table_data', args);
        assert.match(message, /query budget exhausted: one tool call may make at most 3 database queries/);
        assert.match(message, /max_queries_per_call/);
        // The budget is per call: a small call on the same session works, and so does the big
        // one on a service with the default budget.
        assert.equal((await callOk('tight', 'get_table_data', { table: 'orders', ids: [1] })).records.length, 1);
        assert.equal((await callOk('demo', 'get_table_data', args)).records.length, 5);
      });
    });

    describe('item 14: views and routines that read a hidden table', () => {
      test('views reading the hidden table are hidden, transitively', async () => {
        const hidden = ['customers', 'order_summaries', 'customer_names'];
        if (backend.name === 'PostgreSQL') hidden.push('customer_cities', 'reporting.customer_emails');
        for (const service of ['hiding', 'listed']) {
          const names = await tableNames(service);
          for (const name of hidden) assert.ok(!names.includes(name), `${service} lists ${name}: ${names}`);
          assert.ok(names.includes('order_statuses'), `${service}: a view of visible tables stays: ${names}`);
          // A hidden name is answered exactly as a name that never existed: no oracle.
          const never = await callError(service, 'get_table_data', { table: 'never_existed' });
          assert.match(never, /^unknown table "never_existed"; tables are: /);
          assert.doesNotMatch(never, /customer|order_summaries/i, never);
          for (const name of hidden) {
            const message = await callError(service, 'get_table_data', { table: name });
            assert.equal(message.replace(JSON.stringify(name), '"never_existed"'), never);
          }
        }
        const all = await tableNames('demo');
        for (const name of hidden) assert.ok(all.includes(name), `demo hides nothing: ${name} missing from ${all}`);
      });

      test('the hidden view cannot be read as a resource either', async () => {
        await assert.rejects(clients.hiding.readResource({ uri: 'dbmcp://hiding/tables/order_summaries' }));
        const { resources } = await clients.hiding.listResources();
        assert.ok(!resources.some((r) => /order_summaries|customer/.test(r.uri)), JSON.stringify(resources));
      });

      // SQLite has no stored routines: these two exist only on PostgreSQL.
      if (backend.hasRoutines) test('routines are exposed only as the service allows', async () => {
        // hidden_tables without a routines setting: none.
        const none = await callOk('hiding', 'get_stored_functions');
        assert.deepEqual(none.routines, []);
        assert.match(none.note, /exposes no stored functions/);
        assert.deepEqual((await callOk('hiding', 'get_stored_procedures')).routines, []);
        const refused = await callError('hiding', 'call_stored_function', { name: 'top_customers', arguments: { p_limit: 3 } });
        assert.equal(refused, 'unknown function "top_customers"; stored functions are: (none)');
        // A list: exactly those.
        const listed = await callOk('listed', 'get_stored_functions');
        assert.deepEqual(listed.routines.map((r) => r.name), ['order_total']);
        const total = await callOk('listed', 'call_stored_function', { name: 'order_total', arguments: { p_order_id: 1 } });
        assert.equal(total.records.length, 1);
        await callError('listed', 'call_stored_function', { name: 'top_customers', arguments: {} });
        await callError('listed', 'call_stored_procedure', { name: 'restock', arguments: { p_product_id: 1, p_amount: 1 } });
        // No hidden tables: every routine, as before.
        const everything = (await callOk('demo', 'get_stored_functions')).routines.map((r) => r.name);
        assert.ok(everything.includes('top_customers') && everything.includes('order_total'), `${everything}`);
      });

      if (backend.hasRoutines) test('views calling a routine the service does not expose are hidden', async () => {
        const hiding = await tableNames('hiding');
        assert.ok(!hiding.includes('best_three'), `${hiding}`);
        assert.ok(!hiding.includes('order_totals'), `order_total is not exposed on hiding: ${hiding}`);
        const listed = await tableNames('listed');
        assert.ok(!listed.includes('best_three'), `${listed}`);
        assert.ok(listed.includes('order_totals'), `order_total is exposed on listed: ${listed}`);
        const rows = await callOk('listed', 'get_table_data', { table: 'order_totals', limit: 1 });
        assert.equal(rows.records.length, 1);
        assert.ok((await tableNames('demo')).includes('best_three'));
      });
    });

    describe('item 15: errors do not name hidden tables', () => {
      test('a foreign key violation against the hidden table', async () => {
        const message = await callError('hiding', 'create_records', {
          table: 'orders',
          records: [{ customer_id: 987654, status: 'pending', ordered_at: '2024-01-01T00:00:00Z', total: 1 }],
        });
        assert.doesNotMatch(message, /customers/i, message);
        if (backend.name === 'PostgreSQL') {
          assert.match(message, /23503/, message);
          assert.match(message, /is not present in table \[hidden\]/, message);
        } else {
          assert.match(message, /FOREIGN KEY constraint failed/, message);
        }
        // The same violation on a service that hides nothing still says where the key is missing.
        const open = await callError('demo', 'create_records', {
          table: 'orders',
          records: [{ customer_id: 987654, status: 'pending', ordered_at: '2024-01-01T00:00:00Z', total: 1 }],
        });
        if (backend.name === 'PostgreSQL') assert.match(open, /is not present in table "customers"/, open);
      });
    });

    describe('item 18: aggregate ordering by a quoted column', () => {
      test('order by "sp ace" DESC and a default alias for the quoted column', async () => {
        const byColumn = await callOk('demo', 'aggregate_table_data', {
          table: 'spaced',
          aggregates: [{ function: 'count' }],
          group_by: ['sp ace'],
          order: '"sp ace" DESC',
        });
        assert.deepEqual(byColumn.rows.map((r) => r['sp ace']), [30, 20, 10]);
        const byAlias = await callOk('demo', 'aggregate_table_data', {
          table: 'spaced',
          aggregates: [{ function: 'sum', column: 'sp ace' }],
          group_by: 'grp',
          order: 'sum_sp_ace DESC',
        });
        assert.deepEqual(byAlias.rows, [
          { grp: 'y', sum_sp_ace: 50 },
          { grp: 'x', sum_sp_ace: 10 },
        ]);
      });
    });

    // Schemas exist only on PostgreSQL.
    if (backend.name === 'PostgreSQL') describe('item 21: PostgreSQL names with dots', () => {
      test('schema "we.ird" table "t.x" and public table "we.ird.t.x" stay two tables', async () => {
        const tables = (await callOk('demo', 'get_tables')).tables;
        const weird = tables.filter((t) => t.name.includes('we.ird'));
        assert.deepEqual(weird.map((t) => t.name).sort(), ['"we.ird"."t.x"', '"we.ird.t.x"']);
        const qualified = await callOk('demo', 'get_table_data', { table: '"we.ird"."t.x"' });
        assert.deepEqual(qualified.records, [{ a: 1 }]);
        const pub = await callOk('demo', 'get_table_data', { table: '"we.ird.t.x"' });
        assert.deepEqual(pub.records, [{ b: 'public row' }]);
        const fields = await callOk('demo', 'get_table_fields', { table: '"we.ird"."t.x"' });
        assert.deepEqual(fields.fields.map((f) => f.name), ['a'], 'no columns merged in from the other table');
        const pubFields = await callOk('demo', 'get_table_fields', { table: '"we.ird.t.x"' });
        assert.deepEqual(pubFields.fields.map((f) => f.name), ['b']);
        // The plain names of the demo stay as they were.
        assert.ok(tables.some((t) => t.name === 'reporting.daily_sales'));
      });
    });
  });
}

// Review of the integrated fixes (issue 7, item 14): more ways to name or reach a hidden table.
//   - hidden_tables written with quoted parts (`public."customers"`, `"reporting"."daily_sales"`)
//     hid nothing: the tables stayed listed and readable;
//   - SQLite reads `kund€n` as one unquoted name, the view scan read `kund` and `n`;
//   - PostgreSQL: a view using an operator whose function reads the hidden table, and the
//     partitions (or inheritance children) of a hidden table, which hold its rows.
const REVIEW_SETUP = {
  D1: [
    'CREATE TABLE kund€n (id INTEGER PRIMARY KEY, secret TEXT)',
    "INSERT INTO kund€n VALUES (1, 'kundengeheimnis')",
    'CREATE VIEW kund_view AS SELECT secret FROM kund€n',
  ],
  PostgreSQL: [
    'CREATE FUNCTION email_of(a integer, b integer) RETURNS text LANGUAGE sql AS $$ SELECT email FROM customers WHERE id = a $$',
    'CREATE OPERATOR @@@ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = email_of)',
    'CREATE VIEW operator_view AS SELECT id, (customer_id @@@ 0) AS email FROM orders',
    "CREATE TABLE secrets (id integer, region text, secret text) PARTITION BY LIST (region)",
    "CREATE TABLE secrets_eu PARTITION OF secrets FOR VALUES IN ('eu')",
    "INSERT INTO secrets VALUES (1, 'eu', 'partitioned secret')",
    'CREATE TABLE archive (id integer, secret text)',
    'CREATE TABLE archive_2020 () INHERITS (archive)',
    "INSERT INTO archive_2020 VALUES (1, 'inherited secret')",
    // Statistics samples and SQL run from text: no dependency names customers.
    'ANALYZE customers',
    "CREATE VIEW column_stats AS SELECT tablename, attname, histogram_bounds::text AS samples FROM pg_stats WHERE schemaname = 'public'",
    "CREATE VIEW xml_dump AS SELECT query_to_xml('SELECT email FROM customers', true, false, '')::text AS dump",
  ],
};

function reviewServices(backend, database) {
  const quoted = backend.name === 'D1' ? ['main."customers"', '"kund€n"'] : ['public."customers"', '"reporting"."daily_sales"'];
  return {
    quoted: { label: 'Hides tables named with quoted parts', database, read_only: true, hidden_tables: quoted },
    parents: { label: 'Hides partitioned and parent tables', database, read_only: true, hidden_tables: ['customers', 'secrets', 'archive_2020'] },
  };
}

for (const backend of BACKENDS) {
  describe(`data-side review attacks on ${backend.name}`, () => {
    let running;
    const clients = {};

    async function callOk(service, name, args = {}) {
      const result = await clients[service].callTool({ name, arguments: args });
      assert.equal(result.isError, false, `${name} on ${service}: ${JSON.stringify(result.content)}`);
      return result.structuredContent;
    }

    async function assertHidden(service, hidden) {
      const names = (await callOk(service, 'get_tables')).tables.map((t) => t.name);
      for (const name of hidden) {
        assert.ok(!names.includes(name), `${service} lists ${name}: ${names}`);
        const result = await clients[service].callTool({ name: 'get_table_data', arguments: { table: name } });
        assert.equal(result.isError, true, `${service} reads ${name}: ${JSON.stringify(result.structuredContent)}`);
        assert.match(result.content[0].text, /^unknown table /);
      }
      return names;
    }

    before(async () => {
      if (backend.name === 'D1') {
        const worker = await startWorker({ services: reviewServices(backend, { kind: 'd1', binding: 'DB' }) });
        const db = await worker.mf.getD1Database('DB');
        for (const sql of REVIEW_SETUP.D1) await db.prepare(sql).run();
        running = { worker, stop: () => worker.stop() };
      } else {
        running = await backend.start({ services: (database) => reviewServices(backend, database) });
        const db = new pg.Client({ connectionString: running.stack.connectionString });
        await db.connect();
        try {
          for (const sql of REVIEW_SETUP.PostgreSQL) await db.query(sql);
        } finally {
          await db.end();
        }
      }
      for (const service of Object.keys(reviewServices(backend, {}))) {
        const { key } = await createKey(running.worker.url, service, { label: `review ${service}` });
        ({ client: clients[service] } = await connectClient(running.worker.mcpUrl(service), key));
      }
    });

    after(async () => {
      for (const client of Object.values(clients)) await client.close();
      await running?.stop();
    });

    test('hidden_tables entries with quoted parts hide the tables they name, and the views over them', async () => {
      const hidden = ['customers', 'order_summaries'];
      hidden.push(...(backend.name === 'D1' ? ['kund€n', 'kund_view'] : ['reporting.daily_sales']));
      const names = await assertHidden('quoted', hidden);
      assert.ok(names.includes('orders'), `${names}`);
    });

    if (backend.name === 'PostgreSQL') {
      test('a view using an operator whose function reads the hidden table is hidden', async () => {
        const names = await assertHidden('parents', ['operator_view']);
        assert.ok(names.includes('orders'), `${names}`);
      });

      test('views over statistics samples or running SQL text are hidden when a table is hidden', async () => {
        // What they would hand out on a service that hides nothing.
        const open = new pg.Client({ connectionString: running.stack.connectionString });
        await open.connect();
        try {
          const { rows } = await open.query("SELECT samples FROM column_stats WHERE tablename = 'customers' AND attname = 'email'");
          assert.match(rows[0].samples, /@example\.com/);
          assert.match((await open.query('SELECT dump FROM xml_dump')).rows[0].dump, /@example\.com/);
        } finally {
          await open.end();
        }
        const names = await assertHidden('parents', ['column_stats', 'xml_dump']);
        assert.ok(names.includes('orders'), `${names}`);
      });

      test('partitions of a hidden table, and the parent of a hidden child, are hidden', async () => {
        const names = await assertHidden('parents', ['secrets', 'secrets_eu', 'archive_2020', 'archive']);
        assert.ok(names.includes('products'), `${names}`);
      });
    }
  });
}
