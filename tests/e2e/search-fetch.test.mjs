// `search` and `fetch` (OpenAI's connector contract for ChatGPT), end to end with the official SDK
// client on D1 and on PostgreSQL (the project's proxy in front of a real PostgreSQL): listed with
// readOnlyHint for every client, the exact result shapes (one text item that is the JSON object,
// the same object as structuredContent), and the record page their `url` points to (200 with the
// MCP credential, 401 page without, every value HTML-escaped, no framing, a strict CSP). On
// PostgreSQL, full-text search: ranked by ts_rank, stemming with `language = "english"` only,
// tsquery operators in the query read as plain words, and the row policy still applied.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../support/mcp.mjs';
import { startPostgresStack } from '../support/postgres.mjs';
import { createKey, startWorker } from '../support/worker.mjs';

const d1 = { kind: 'd1', binding: 'DB' };
const columns = { customers: { hidden: ['notes'], masked: { email: 'email' } } };
const HOSTILE = '<script>alert(1)</script> gadget "quoted" & more';
const rows = { orders: 'customer_id = {user.customer_id}' };

let running;
const clients = {};
const keys = {};

before(async () => {
  const stack = await startPostgresStack();
  const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
  const worker = await startWorker({
    services: {
      d1: { label: 'search on D1', database: d1, read_only: false, columns },
      pg: { label: 'search on PostgreSQL', database: pg, read_only: false, columns },
      pgen: { label: 'English search', database: pg, columns, search: { language: 'english' } },
      pgrows: { label: 'search with a row policy', database: pg, columns, rows, search: { max_results: 100 } },
      // A real outage: nothing listens on the discard port.
      pgdown: { label: 'database down', database: { ...pg, endpoint: 'http://127.0.0.1:9' }, columns },
    },
    bindings: { PG_DEMO_URL: stack.connectionString },
  }).catch(async (err) => {
    await stack.stop();
    throw err;
  });
  running = { stack, worker };
  for (const service of ['d1', 'pg']) {
    keys[service] = (await createKey(worker.url, service, { label: 'search e2e' })).key;
    clients[service] = (await connectClient(worker.mcpUrl(service), keys[service])).client;
  }
  keys.pgen = (await createKey(worker.url, 'pgen', { label: 'english search e2e' })).key;
  clients.pgen = (await connectClient(worker.mcpUrl('pgen'), keys.pgen)).client;
  for (const customer of [1, 2]) {
    const { key } = await createKey(worker.url, 'pgrows', { label: `customer ${customer}`, attributes: { customer_id: customer } });
    clients[`pgrows${customer}`] = (await connectClient(worker.mcpUrl('pgrows'), key)).client;
  }
});

after(async () => {
  for (const c of Object.values(clients)) await c.close().catch(() => {});
  await running?.worker.stop();
  await running?.stack.stop();
});

/** Calls a tool; asserts the contract's one plain-JSON text item equal to structuredContent. */
async function contract(service, name, args) {
  const result = await clients[service].callTool({ name, arguments: args });
  assert.equal(result.isError, false, `${name} on ${service} failed: ${JSON.stringify(result.content)}`);
  assert.equal(result.content.length, 1);
  assert.equal(result.content[0].type, 'text');
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent, `${name}: the text is the JSON object`);
  return result.structuredContent;
}

async function refused(service, name, args) {
  const result = await clients[service].callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail`);
  return result.content[0].text;
}

for (const service of ['d1', 'pg']) {
  describe(`on ${service === 'd1' ? 'D1' : 'PostgreSQL'}`, () => {
    let hostileId;

    before(async () => {
      const created = await clients[service].callTool({
        name: 'create_records',
        arguments: { table: 'categories', records: [{ name: `${HOSTILE} ${service}`, description: 'a <b>bold</b> zebra' }] },
      });
      assert.equal(created.isError, false, JSON.stringify(created.content));
      hostileId = created.structuredContent.created[0].id;
    });

    test('tools/list has search and fetch, read-only, with input and output schemas', async () => {
      const { tools } = await clients[service].listTools();
      for (const name of ['search', 'fetch']) {
        const tool = tools.find((t) => t.name === name);
        assert.ok(tool, `${name} listed`);
        assert.equal(tool.annotations.readOnlyHint, true);
        assert.equal(tool.annotations.destructiveHint, false);
        assert.equal(tool.outputSchema.type, 'object');
      }
      assert.deepEqual(tools.find((t) => t.name === 'search').inputSchema.required, ['query']);
      assert.deepEqual(tools.find((t) => t.name === 'fetch').inputSchema.required, ['id']);
    });

    test('search answers {results: [{id, title, url}]}, ranked, ignoring case', async () => {
      const out = await contract(service, 'search', { query: 'GADGET zebra' });
      assert.deepEqual(Object.keys(out), ['results']);
      assert.ok(out.results.length >= 1);
      for (const entry of out.results) assert.deepEqual(Object.keys(entry), ['id', 'title', 'url']);
      const first = out.results[0];
      assert.equal(first.id, `categories:${hostileId}`, 'the row matching both words ranks first');
      assert.equal(first.title, `${HOSTILE} ${service}`);
      assert.equal(first.url, `${running.worker.url}/mcp/${service}/records/categories/${hostileId}`);
      const unicode = await contract(service, 'search', { query: 'Łódź' });
      assert.ok(unicode.results.some((r) => r.id === 'customers:1'), JSON.stringify(unicode));
      const wildcard = await contract(service, 'search', { query: '%' });
      assert.deepEqual(wildcard.results, [], '% matches a literal percent sign, which no demo text holds');
      assert.match(await refused(service, 'search', { query: '   ' }), /query is empty/);
    });

    test('hidden columns are not searched; masked ones are not searched and come back masked', async () => {
      const vip = await contract(service, 'search', { query: 'VIP' });
      assert.ok(!vip.results.some((r) => r.id.startsWith('customers:')), 'VIP is only in the hidden notes');
      const email = await contract(service, 'search', { query: 'zoe.obrien' });
      assert.deepEqual(email.results, []);
      const record = await contract(service, 'fetch', { id: 'customers:1' });
      assert.deepEqual(Object.keys(record), ['id', 'title', 'text', 'url', 'metadata']);
      assert.equal(record.id, 'customers:1');
      assert.match(record.text, /^id: 1\nname: Zoë O'Brien\nemail: z\*\*\*@example\.com\n/);
      assert.ok(!record.text.includes('notes') && !record.text.includes('VIP'), record.text);
      assert.deepEqual(record.metadata, { table: 'customers', key: { id: 1 } });
    });

    test('fetch takes composite keys as a JSON array and refuses bad ids clearly', async () => {
      const pair = await contract(service, 'fetch', { id: 'product_categories:[1,2]' });
      assert.equal(pair.id, 'product_categories:[1,2]');
      assert.deepEqual(pair.metadata.key, { product_id: 1, category_id: 2 });
      assert.match(await refused(service, 'fetch', { id: 'orders' }), /ids are <table>:<primary key>/);
      assert.match(await refused(service, 'fetch', { id: 'nope:1' }), /unknown table "nope"/);
      assert.match(await refused(service, 'fetch', { id: 'orders:abc' }), /is an integer/);
      assert.match(await refused(service, 'fetch', { id: 'orders:999999' }), /no record of table "orders"/);
      assert.match(await refused(service, 'fetch', { id: 'product_categories:1' }), /composite primary key/);
    });

    test('the record page: 200 with the credential, every value escaped, no framing', async () => {
      const { url } = await contract(service, 'fetch', { id: `categories:${hostileId}` });
      const res = await fetch(url, { headers: { authorization: `Bearer ${keys[service]}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/html/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(res.headers.get('content-security-policy'), /default-src 'none'/);
      assert.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const html = await res.text();
      assert.ok(!html.includes('<script>') && !html.includes('<b>bold'), html);
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt; gadget &quot;quoted&quot; &amp; more'), html);
      assert.ok(html.includes('a &lt;b&gt;bold&lt;/b&gt; zebra'), html);
    });

    test('the record page without or with a wrong credential: 401 page saying how to sign in', async () => {
      const url = `${running.worker.url}/mcp/${service}/records/customers/1`;
      for (const headers of [{}, { authorization: 'Bearer dbmcp_wrong' }]) {
        const res = await fetch(url, { headers });
        assert.equal(res.status, 401);
        assert.match(res.headers.get('content-type'), /^text\/html/);
        assert.match(res.headers.get('www-authenticate'), /^Bearer /);
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
        const html = await res.text();
        assert.match(html, /Sign in to see this record/);
        assert.ok(!html.includes('Zoë'), 'no record data without a credential');
      }
    });

    test('the record page keeps hidden columns and masks; a missing record is a 404; a key opens one service', async () => {
      const auth = { headers: { authorization: `Bearer ${keys[service]}` } };
      const customer = await fetch(`${running.worker.url}/mcp/${service}/records/customers/1`, auth);
      assert.equal(customer.status, 200);
      const html = await customer.text();
      assert.ok(html.includes('z***@example.com') && !html.includes('obrien') && !html.includes('VIP'), html);
      const missing = await fetch(`${running.worker.url}/mcp/${service}/records/orders/999999`, auth);
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /no record of table &quot;orders&quot;/);
      const other = await fetch(`${running.worker.url}/mcp/${service === 'd1' ? 'pg' : 'd1'}/records/customers/1`, auth);
      assert.equal(other.status, 401, "one service's key opens no other service's records");
    });
  });
}

describe('the record page when the database cannot answer', () => {
  test('503 saying the database is unavailable, not a 404 as if the record did not exist', async () => {
    const { key } = await createKey(running.worker.url, 'pgdown', { label: 'outage' });
    const res = await fetch(`${running.worker.url}/mcp/pgdown/records/customers/1`, { headers: { authorization: `Bearer ${key}` } });
    const html = await res.text();
    assert.equal(res.status, 503, html);
    assert.match(html, /Database unavailable/);
    assert.match(html, /could not reach the Postgres endpoint/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  test('a query the database refuses for its input stays a 404: a key beyond int4 on PostgreSQL', async () => {
    const res = await fetch(`${running.worker.url}/mcp/pg/records/orders/3000000000`, { headers: { authorization: `Bearer ${keys.pg}` } });
    const html = await res.text();
    assert.equal(res.status, 404, html);
    assert.match(html, /Record not available/);
  });
});

describe('full-text search on PostgreSQL', () => {
  const ids = (out) => out.results.map((r) => r.id);
  let created;

  before(async () => {
    // Made-up words, so no demo row matches them. The long row comes first (the lower key): only
    // the rank, not key order, can put the short ones ahead of it.
    const long = 'a quokka seen once in a long description that goes on about many other things entirely';
    const result = await clients.pg.callTool({
      name: 'create_records',
      arguments: {
        table: 'categories',
        records: [
          { name: 'fts long', description: long },
          { name: 'fts short', description: 'quokka wombat numbat' },
          { name: 'fts one', description: 'quokka' },
          { name: 'fts zorbed', description: 'the crates were zorbed yesterday' },
          { name: 'fts zorbs', description: 'she zorbs daily' },
        ],
      },
    });
    assert.equal(result.isError, false, JSON.stringify(result.content));
    created = Object.fromEntries(result.structuredContent.created.map((r) => [r.name, `categories:${r.id}`]));
    // products comes after categories: only the rank can put this row ahead of a category's.
    const product = await clients.pg.callTool({
      name: 'create_records',
      arguments: { table: 'products', records: [{ sku: 'FTS-1', name: 'quokka wombat numbat', price: 1, created_at: '2026-01-01T00:00:00Z' }] },
    });
    assert.equal(product.isError, false, JSON.stringify(product.content));
    created.product = `products:${product.structuredContent.created[0].id}`;
  });

  test('ranked by ts_rank: all words in a short text first, then shorter texts ahead of longer ones', async () => {
    const out = await contract('pg', 'search', { query: 'quokka wombat numbat' });
    const categories = ids(out).filter((id) => id.startsWith('categories:'));
    assert.deepEqual(categories, [created['fts short'], created['fts one'], created['fts long']], JSON.stringify(out));
    assert.equal(ids(out).length, 4, JSON.stringify(out));
    assert.ok(ids(out).indexOf(created.product) < ids(out).indexOf(created['fts one']),
      `merged across tables by rank, not table order: ${JSON.stringify(out)}`);
    const prefix = await contract('pg', 'search', { query: 'QUOK' });
    assert.deepEqual(new Set(ids(prefix)), new Set([created['fts short'], created['fts one'], created['fts long'], created.product]),
      'a word also matches the words it begins, ignoring case');
  });

  test('language = "english" stems words; the default simple configuration does not', async () => {
    const english = await contract('pgen', 'search', { query: 'zorbing' });
    assert.deepEqual(new Set(ids(english)), new Set([created['fts zorbed'], created['fts zorbs']]), JSON.stringify(english));
    const simple = await contract('pg', 'search', { query: 'zorbing' });
    assert.deepEqual(simple.results, [], 'no stemming by default');
    assert.deepEqual(ids(await contract('pg', 'search', { query: 'zorbs' })), [created['fts zorbs']]);
  });

  test('tsquery operators and quotes in the query are plain text: no effect, no error', async () => {
    for (const service of ['pg', 'pgen']) {
      const negated = await contract(service, 'search', { query: 'zebra & !gadget' });
      assert.ok(negated.results.length >= 1, `"!gadget" excludes nothing on ${service}: ${JSON.stringify(negated)}`);
      assert.match(negated.results[0].title, /gadget/);
      const joined = await contract(service, 'search', { query: "quokka'|'wombat" });
      assert.deepEqual(new Set(ids(joined)), new Set([created['fts short'], created.product]),
        'one word, its parts as a phrase, not an OR of two');
      for (const query of ["'", '\\', '<->', ':*', '!', '&', '|', '(', ')', "'')", '\\\\\'', 'a & !b | c:*']) {
        const result = await clients[service].callTool({ name: 'search', arguments: { query } });
        assert.equal(result.isError, false, `${JSON.stringify(query)} on ${service}: ${JSON.stringify(result.content)}`);
        if (query !== 'a & !b | c:*') assert.deepEqual(result.structuredContent.results, [], `${JSON.stringify(query)} has no words`);
      }
    }
  });

  test('a query of stop words only finds nothing under english; an empty one is an error', async () => {
    assert.deepEqual((await contract('pgen', 'search', { query: 'the and of' })).results, []);
    assert.match(await refused('pgen', 'search', { query: ' "" ' }), /query is empty/);
  });

  test('the row policy still filters what search finds', async () => {
    for (const customer of [1, 2]) {
      const client = clients[`pgrows${customer}`];
      const result = await client.callTool({ name: 'search', arguments: { query: 'delivered cancelled pending' } });
      assert.equal(result.isError, false, JSON.stringify(result.content));
      const orders = result.structuredContent.results.filter((r) => r.id.startsWith('orders:'));
      const mine = await client.callTool({
        name: 'get_table_data',
        arguments: { table: 'orders', filter: "status IN ('delivered', 'cancelled', 'pending')", limit: 500 },
      });
      const expected = mine.structuredContent.records.map((r) => `orders:${r.id}`);
      assert.ok(expected.length >= 1 && mine.structuredContent.records.every((r) => Number(r.customer_id) === customer));
      assert.deepEqual(new Set(orders.map((r) => r.id)), new Set(expected), `customer ${customer}`);
    }
  });
});
