// Confirm before destroying, end to end with the official SDK client (legacy era, two-step): a
// filter write over the row limit answers the exact count, a preview and a token, and changes
// nothing; the call with the token performs it, once. Refusals: a replayed token, a token for other
// arguments, another credential's token, an expired token (a service with a 1 s lifetime, real
// clock), a count changed between preview and confirm; `confirm_writes` on a create. On D1 and on
// PostgreSQL (the project's proxy in front of a real PostgreSQL), with the grant store a real
// Durable Object in Miniflare.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, sleep } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { createKey, startWorker } from '../support/worker.mjs';

const d1 = { kind: 'd1', binding: 'DB' };

let running;
const clients = [];

async function client(service, key) {
  const { client } = await connectClient(running.worker.mcpUrl(service), key);
  clients.push(client);
  return client;
}

/** A tool caller bound to one client. */
function caller(c) {
  const call = (name, args) => c.callTool({ name, arguments: args });
  return {
    call,
    async ok(name, args) {
      const result = await call(name, args);
      assert.equal(result.isError, false, `${name} failed: ${JSON.stringify(result.content)}`);
      return result.structuredContent;
    },
    async error(name, args) {
      const result = await call(name, args);
      assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.structuredContent)}`);
      return result.content[0].text;
    },
    async count(table, filter) {
      return (await this.ok('get_table_data', { table, filter, count_only: true })).count;
    },
  };
}

before(async () => {
  const stack = await startPostgresStack();
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      // Keys are required here: confirmations are bound to the credential.
      demo: { label: 'demo', database: d1, read_only: false },
      short: { label: 'short-lived confirmations', database: d1, read_only: false, auth: 'none', confirm_ttl_seconds: 1 },
      careful: { label: 'confirms every write', database: d1, read_only: false, auth: 'none', confirm_writes: true },
      pg: { label: 'pg', database: pg, read_only: false, auth: 'none' },
      pgcareful: { label: 'pg, confirms every write', database: pg, read_only: false, auth: 'none', confirm_writes: true },
    },
    bindings: { PG_DEMO_URL: stack.connectionString },
  }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  running = { stack, worker };
  const alice = await createKey(worker.url, 'demo', { label: 'alice' });
  const bob = await createKey(worker.url, 'demo', { label: 'bob' });
  running.alice = caller(await client('demo', alice.key));
  running.bob = caller(await client('demo', bob.key));
  running.short = caller(await client('short'));
  running.careful = caller(await client('careful'));
  running.pg = caller(await client('pg'));
  running.pgcareful = caller(await client('pgcareful'));
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await running?.worker.stop();
  await running?.stack.stop();
});

/** The two-step first answer: nothing written, the count, a preview and a token. */
async function preview(t, tool, args, count) {
  const out = await t.ok(tool, args);
  assert.equal(out.confirmation_required, true, JSON.stringify(out));
  assert.equal(out.count, count);
  assert.equal(typeof out.confirmation_token, 'string');
  assert.match(out.message, /Nothing was (deleted|updated|created) yet/);
  assert.match(out.message, /`confirm` set to `confirmation_token`/);
  return out;
}

for (const engine of ['d1', 'pg']) {
  describe(`two-step confirmation on ${engine === 'd1' ? 'D1' : 'PostgreSQL'}`, () => {
    const t = () => (engine === 'd1' ? running.alice : running.pg);

    test('a delete over the limit previews the exact count, writes nothing, and the token deletes exactly those rows once', async () => {
      const args = { table: 'order_items', filter: 'id >= 1 AND id <= 11' };
      const out = await preview(t(), 'delete_records', args, 11);
      assert.equal(out.deleted, 0);
      assert.deepEqual(out.keys, []);
      assert.deepEqual(out.preview.map((r) => Number(r.id)), [1, 2, 3, 4, 5]);
      assert.equal(Number(out.preview[0].unit_price), 24.99);
      assert.match(out.message, /delete 11 rows of "order_items"/);
      assert.equal(await t().count('order_items', args.filter), 11, 'nothing deleted by the preview');

      const done = await t().ok('delete_records', { ...args, confirm: out.confirmation_token });
      assert.equal(done.deleted, 11);
      assert.deepEqual(done.keys.map(Number).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      assert.equal(await t().count('order_items', args.filter), 0);

      const replay = await t().error('delete_records', { ...args, confirm: out.confirmation_token });
      assert.match(replay, /already used/);
    });

    test('an update over the limit whose rows changed after the preview is refused and writes nothing', async () => {
      const args = { table: 'order_items', filter: 'id > 20 AND id <= 32', patch: { quantity: 99 } };
      const out = await preview(t(), 'update_records', args, 12);
      assert.deepEqual(out.changes, { quantity: 99 });
      // A row leaves the set between the preview and the confirmation (by ids: no limit applies).
      assert.equal((await t().ok('delete_records', { table: 'order_items', ids: [25] })).deleted, 1);
      const text = await t().error('update_records', { ...args, confirm: out.confirmation_token });
      assert.match(text, /12 rows matched then, 11 match now/);
      assert.match(text, /Nothing was updated/);
      assert.equal(await t().count('order_items', 'id > 20 AND id <= 32 AND quantity = 99'), 0);
      // A fresh preview shows the new count and its token works.
      const again = await preview(t(), 'update_records', args, 11);
      assert.equal((await t().ok('update_records', { ...args, confirm: again.confirmation_token })).updated, 11);
      assert.equal(await t().count('order_items', 'id > 20 AND id <= 32 AND quantity = 99'), 11);
    });

    test('a delete within the limit runs at once', async () => {
      const out = await t().ok('delete_records', { table: 'order_items', filter: 'id > 40 AND id <= 50' });
      assert.equal(out.deleted, 10);
      assert.equal(out.confirmation_required, undefined);
    });
  });
}

describe('refusals', () => {
  test('a token for other arguments is refused and deletes nothing', async () => {
    const args = { table: 'order_items', filter: 'id > 100 AND id <= 112' };
    const out = await preview(running.alice, 'delete_records', args, 12);
    for (const other of [
      { ...args, filter: 'id > 100 AND id <= 113' },
      { table: 'orders', filter: args.filter },
    ]) {
      const text = await running.alice.error('delete_records', { ...other, confirm: out.confirmation_token });
      assert.match(text, /other arguments/);
    }
    assert.equal(await running.alice.count('order_items', 'id > 100 AND id <= 113'), 13);
    // Refused tokens are not used up.
    assert.equal((await running.alice.ok('delete_records', { ...args, confirm: out.confirmation_token })).deleted, 12);
  });

  test("another credential's token is refused", async () => {
    const args = { table: 'order_items', filter: 'id > 200 AND id <= 212' };
    const out = await preview(running.alice, 'delete_records', args, 12);
    const text = await running.bob.error('delete_records', { ...args, confirm: out.confirmation_token });
    assert.match(text, /another credential/);
    assert.equal(await running.bob.count('order_items', args.filter), 12);
  });

  test('a tampered token is refused', async () => {
    const args = { table: 'order_items', filter: 'id > 300 AND id <= 312' };
    const out = await preview(running.alice, 'delete_records', args, 12);
    const token = out.confirmation_token;
    const tampered = token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41);
    assert.match(await running.alice.error('delete_records', { ...args, confirm: tampered }), /not valid/);
    assert.equal(await running.alice.count('order_items', args.filter), 12);
  });

  test('an expired token is refused (service with confirm_ttl_seconds = 1)', async () => {
    const args = { table: 'order_items', filter: 'id > 400 AND id <= 412' };
    const out = await preview(running.short, 'delete_records', args, 12);
    assert.equal(out.expires_in_seconds, 1);
    await sleep(1200);
    const text = await running.short.error('delete_records', { ...args, confirm: out.confirmation_token });
    assert.match(text, /expired/);
    assert.equal(await running.short.count('order_items', args.filter), 12);
  });
});

describe('confirm_writes', () => {
  test('a create asks first, writes nothing, and the token creates the records', async () => {
    const args = { table: 'categories', records: [{ name: 'Confirmed garden' }, { name: 'Confirmed pets', parent_id: 9 }] };
    const out = await preview(running.careful, 'create_records', args, 2);
    assert.deepEqual(out.created, []);
    assert.deepEqual(out.preview, args.records);
    assert.match(out.message, /every write/);
    assert.equal(await running.careful.count('categories', "name STARTS WITH 'Confirmed'"), 0);
    const done = await running.careful.ok('create_records', { ...args, confirm: out.confirmation_token });
    assert.deepEqual(done.created.map((r) => r.name), ['Confirmed garden', 'Confirmed pets']);
    assert.equal(await running.careful.count('categories', "name STARTS WITH 'Confirmed'"), 2);
  });

  test('a one-row delete by id asks too', async () => {
    const out = await preview(running.careful, 'delete_records', { table: 'order_items', ids: [500] }, 1);
    assert.equal(Number(out.preview[0].id), 500);
    assert.equal(await running.careful.count('order_items', 'id = 500'), 1);
  });
});

describe('confirm_writes on PostgreSQL routines', () => {
  test('a stored procedure call asks first, runs nothing, and the token runs it once', async () => {
    const stock = async () =>
      Number((await running.pg.ok('get_table_data', { table: 'products', ids: [4], fields: 'stock' })).records[0].stock);
    const before = await stock();
    const args = { name: 'restock', arguments: { p_product_id: 4, p_amount: 5 } };
    const out = await running.pgcareful.ok('call_stored_procedure', args);
    assert.equal(out.confirmation_required, true, JSON.stringify(out));
    assert.deepEqual(out.records, []);
    assert.match(out.message, /call the stored procedure "restock" with the arguments/);
    assert.equal(await stock(), before, 'nothing ran');
    const done = await running.pgcareful.ok('call_stored_procedure', { ...args, confirm: out.confirmation_token });
    assert.deepEqual(done.records, [{ new_stock: before + 5 }]);
    assert.match(await running.pgcareful.error('call_stored_procedure', { ...args, confirm: out.confirmation_token }), /already used/);
    assert.equal(await stock(), before + 5);
  });
});

describe('without OAUTH_SIGNING_KEY', () => {
  test("confirmations are sealed with the grant store's own secret and still work once", async () => {
    const worker = await startWorker({
      services: { open: { label: 'open', database: d1, read_only: false, auth: 'none' } },
      oauthSigningKey: null,
    });
    try {
      const { client: c } = await connectClient(worker.mcpUrl('open'));
      try {
        const t = caller(c);
        const args = { table: 'order_items', filter: 'id > 600 AND id <= 612' };
        const out = await preview(t, 'delete_records', args, 12);
        // A second preview is sealed with the same stored secret: both tokens open.
        const second = await preview(t, 'delete_records', { ...args, filter: 'id > 700 AND id <= 711' }, 11);
        assert.equal((await t.ok('delete_records', { ...args, confirm: out.confirmation_token })).deleted, 12);
        assert.match(await t.error('delete_records', { ...args, confirm: out.confirmation_token }), /already used/);
        const done = await t.ok('delete_records', { ...args, filter: 'id > 700 AND id <= 711', confirm: second.confirmation_token });
        assert.equal(done.deleted, 11);
      } finally {
        await c.close();
      }
    } finally {
      await worker.stop();
    }
  });
});
