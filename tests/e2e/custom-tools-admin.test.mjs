// Custom tools through the admin API (`/admin/services/<s>/tools`), end to end on D1 with the
// official MCP TypeScript SDK client: created → listed after the configured tools and callable,
// edited → the new SQL runs, disabled → neither listed nor callable, deleted → unknown; bad SQL,
// a hidden table, a write statement and taken names refused (400/409) with their messages; a
// stale If-Match refused (412); no admin token → 401; a modern-era subscriptions/listen stream
// told `notifications/tools/list_changed` after a PUT; the calls in the execution log.
// Custom tools need the query-sql feature: these run on build-conformance/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, createKey, startWorker } from '../support/worker.mjs';
import { connectClient, request, sleep } from '../support/mcp.mjs';

const BUILD = 'build-conformance';
const SERVICE = 'shop';
const MODERN = '2026-07-28';

let w;
let key;
let client;

before(async () => {
  w = await startWorker({
    services: {
      [SERVICE]: {
        label: 'Shop with admin tools',
        database: { kind: 'd1', binding: 'DB' },
        max_rows: 50,
        hidden_tables: ['big_numbers'],
        listen: { max_seconds: 8, check_seconds: 1 },
        tools: { from_config: { description: 'Configured.', sql: 'SELECT 1 AS one' } },
      },
      rw: { label: 'Writable shop', database: { kind: 'd1', binding: 'DB' }, read_only: false, columns: { customers: { read_only: ['email'] } } },
    },
    buildDir: BUILD,
  });
  key = (await createKey(w.url, SERVICE, { label: 'admin tools e2e' })).key;
  client = (await connectClient(w.mcpUrl(SERVICE), key)).client;
});

after(async () => {
  await client?.close().catch(() => {});
  await w?.stop();
});

const toolsUrl = (name = '') => `${w.url}/admin/services/${SERVICE}/tools${name ? `/${name}` : ''}`;

async function admin(method, name, body, headers = {}) {
  const res = await fetch(toolsUrl(name), {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), json: text ? JSON.parse(text) : null };
}

const BY_COUNTRY = {
  title: 'Customers of a country',
  description: 'Names of the customers of one country.',
  sql: 'SELECT name FROM customers WHERE country = :country ORDER BY id LIMIT :n',
  parameters: { country: { type: 'string', maxLength: 40 }, n: { type: 'integer', minimum: 1, maximum: 20, default: 3 } },
  required: ['country'],
};

async function names() {
  return (await client.listTools()).tools.map((t) => t.name);
}

describe('custom tools through the admin API', () => {
  test('no admin token, or a wrong one: 401, and nothing is stored', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }]) {
      const list = await fetch(toolsUrl(), { headers });
      assert.equal(list.status, 401);
      const put = await fetch(toolsUrl('sneaky'), { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(BY_COUNTRY) });
      assert.equal(put.status, 401);
    }
    const listed = await admin('GET');
    assert.ok(!listed.json.tools.some((t) => t.name === 'sneaky'));
  });

  test('created → listed after the configured tools and callable; edited → the new SQL runs', async () => {
    const before = await admin('GET');
    assert.equal(before.status, 200);
    assert.deepEqual(before.json.tools.map((t) => [t.name, t.source]), [['from_config', 'config']]);
    const created = await admin('PUT', 'by_country', BY_COUNTRY);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.source, 'admin');
    assert.equal(created.etag, `"${created.json.version}"`);

    const listed = await names();
    const at = listed.indexOf('from_config');
    assert.ok(at > 0, listed.join(', '));
    assert.deepEqual(listed.slice(at, at + 2), ['from_config', 'by_country'], 'after the configured tools');
    const tool = (await client.listTools()).tools.find((t) => t.name === 'by_country');
    assert.equal(tool.title, 'Customers of a country');
    assert.deepEqual(tool.inputSchema.required, ['country']);
    assert.equal(tool.annotations.readOnlyHint, true);

    const first = await client.callTool({ name: 'by_country', arguments: { country: 'USA', n: 2 } });
    assert.equal(first.isError, false, JSON.stringify(first.content));
    assert.deepEqual(Object.keys(first.structuredContent.records[0]), ['name']);
    assert.equal(first.structuredContent.records.length, 2);
    const missing = await client.callTool({ name: 'by_country', arguments: {} });
    assert.equal(missing.isError, true);
    assert.match(missing.content[0].text, /missing required parameter "country"/);

    const edited = await admin('PUT', 'by_country', { ...BY_COUNTRY, sql: 'SELECT id, country FROM customers WHERE country = :country ORDER BY id LIMIT :n' });
    assert.equal(edited.status, 200, JSON.stringify(edited.json));
    assert.equal(edited.json.version, created.json.version + 1);
    const second = await client.callTool({ name: 'by_country', arguments: { country: 'USA', n: 2 } });
    assert.equal(second.isError, false, JSON.stringify(second.content));
    assert.deepEqual(Object.keys(second.structuredContent.records[0]), ['id', 'country']);
    assert.ok(second.structuredContent.records.every((r) => r.country === 'USA'));

    const all = await admin('GET');
    const stored = all.json.tools.find((t) => t.name === 'by_country');
    assert.equal(stored.source, 'admin');
    assert.equal(stored.enabled, true);
    assert.equal(stored.definition.sql, 'SELECT id, country FROM customers WHERE country = :country ORDER BY id LIMIT :n');
    const configured = all.json.tools.find((t) => t.name === 'from_config');
    assert.equal(configured.source, 'config');
    assert.equal(all.etag, `"${all.json.version}"`);
  });

  test('disabled → neither listed nor callable; enabled again → back', async () => {
    await admin('PUT', 'switchable', { description: 'Count of customers.', sql: 'SELECT count(*) AS n FROM customers' });
    assert.ok((await names()).includes('switchable'));
    const off = await admin('PATCH', 'switchable', { enabled: false });
    assert.equal(off.status, 200, JSON.stringify(off.json));
    assert.equal(off.json.enabled, false);
    assert.ok(!(await names()).includes('switchable'));
    await assert.rejects(client.callTool({ name: 'switchable', arguments: {} }), /unknown tool "switchable"/);
    const on = await admin('PUT', 'switchable', { description: 'Count of customers.', sql: 'SELECT count(*) AS n FROM customers', enabled: true });
    assert.equal(on.status, 200);
    const result = await client.callTool({ name: 'switchable', arguments: {} });
    assert.equal(result.isError, false);
    assert.ok(result.structuredContent.records[0].n > 0);
    const badPatch = await admin('PATCH', 'switchable', { enabled: 'no' });
    assert.equal(badPatch.status, 400);
  });

  test('deleted → 204, then unknown to clients and 404 to the admin API', async () => {
    await admin('PUT', 'short_lived', { description: 'Soon gone.', sql: 'SELECT 1 AS one' });
    assert.ok((await names()).includes('short_lived'));
    const gone = await admin('DELETE', 'short_lived');
    assert.equal(gone.status, 204);
    assert.ok(!(await names()).includes('short_lived'));
    await assert.rejects(client.callTool({ name: 'short_lived', arguments: {} }), /unknown tool "short_lived"/);
    assert.equal((await admin('DELETE', 'short_lived')).status, 404);
    assert.equal((await admin('GET', 'short_lived')).status, 404);
  });

  test('bad SQL, a hidden table, a write and undeclared parameters: 400 with every problem', async () => {
    const syntax = await admin('PUT', 'broken', { description: 'x', sql: 'SELEC name FROM customers' });
    assert.equal(syntax.status, 400);
    assert.equal(syntax.json.error, 'invalid_tool');
    assert.match(syntax.json.problems[0], /^sql: /);
    const hidden = await admin('PUT', 'peek', { description: 'x', sql: 'SELECT * FROM big_numbers' });
    assert.equal(hidden.status, 400, JSON.stringify(hidden.json));
    assert.match(hidden.json.error_description, /big_numbers/);
    const write = await admin('PUT', 'wipe', { description: 'x', sql: 'DELETE FROM customers' });
    assert.equal(write.status, 400);
    const several = await admin('PUT', 'muddled', { description: 'x', sql: 'SELECT :a AS a', parameters: { a: { type: 'string' }, z: { type: 'integer' } }, required: ['q'] });
    assert.equal(several.status, 400);
    assert.ok(several.json.problems.length >= 2, JSON.stringify(several.json));
    assert.ok(several.json.problems.some((p) => p.includes('"q" is not a declared parameter')));
    assert.ok(several.json.problems.some((p) => p.includes('parameters.z')));
    const notObject = await admin('PUT', 'arr', '[1]');
    assert.equal(notObject.status, 400);
    const huge = await admin('PUT', 'huge', { description: 'x'.repeat(40_000), sql: 'SELECT 1' });
    assert.equal(huge.status, 413);
    const listed = await names();
    for (const name of ['broken', 'peek', 'wipe', 'muddled', 'arr', 'huge']) assert.ok(!listed.includes(name), name);
  });

  test('a name taken by a built-in or a configured tool: 409; configured tools are read-only here', async () => {
    const builtin = await admin('PUT', 'get_tables', { description: 'x', sql: 'SELECT 1' });
    assert.equal(builtin.status, 409);
    assert.match(builtin.json.error_description, /built-in/);
    const configured = await admin('PUT', 'from_config', { description: 'x', sql: 'SELECT 2' });
    assert.equal(configured.status, 409);
    assert.match(configured.json.error_description, /configuration/);
    assert.equal((await admin('DELETE', 'from_config')).status, 409);
    assert.equal((await admin('PATCH', 'from_config', { enabled: false })).status, 409);
  });

  test('a write naming an older version (If-Match) is refused with 412', async () => {
    const read = await admin('GET');
    await admin('PUT', 'racer', { description: 'First writer.', sql: 'SELECT 1 AS one' }, { 'if-match': read.etag });
    const stale = await admin('PUT', 'racer', { description: 'Second writer.', sql: 'SELECT 2 AS two' }, { 'if-match': read.etag });
    assert.equal(stale.status, 412);
    assert.equal(stale.etag, `"${read.json.version + 1}"`);
    const kept = await admin('GET', 'racer');
    assert.equal(kept.json.definition.description, 'First writer.');
    const fresh = await admin('PUT', 'racer', { description: 'Second writer.', sql: 'SELECT 2 AS two' }, { 'if-match': stale.etag });
    assert.equal(fresh.status, 200);
    assert.equal((await admin('DELETE', 'racer', undefined, { 'if-match': '"1"' })).status, 412);
  });

  test('calls of admin tools are in the execution log', async () => {
    await admin('PUT', 'logged_tool', { description: 'Logged.', sql: 'SELECT 42 AS answer' });
    const result = await client.callTool({ name: 'logged_tool', arguments: {} });
    assert.equal(result.isError, false);
    let entries = [];
    for (let i = 0; i < 20 && entries.length === 0; i++) {
      const res = await fetch(`${w.url}/admin/services/${SERVICE}/logs?tool=logged_tool`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(res.status, 200);
      entries = (await res.json()).entries;
      if (entries.length === 0) await sleep(250);
    }
    assert.equal(entries.length, 1, 'one call logged');
    assert.equal(entries[0].outcome, 'ok');
    assert.equal(entries[0].target, 'logged_tool');
  });

  test('a modern subscriptions/listen stream is told notifications/tools/list_changed after a PUT', async () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'dbmcp-e2e-tools-admin', version: '1.0.0' },
    };
    const discover = await fetch(w.mcpUrl(SERVICE), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' },
      body: JSON.stringify(request('server/discover', { _meta: meta }, 'd-1')),
    });
    assert.equal((await discover.json()).result.capabilities.tools.listChanged, true);

    const controller = new AbortController();
    const started = Date.now();
    const res = await fetch(w.mcpUrl(SERVICE), {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify(request('subscriptions/listen', { _meta: meta, notifications: { toolsListChanged: true } }, 'listen-tools')),
    });
    assert.equal(res.status, 200);
    const events = [];
    let putAt = null;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    // Bounded: the stream ends by itself at its 8 s bound; the test stops reading at 10 s.
    const deadline = setTimeout(() => controller.abort(), 10_000);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!data) continue;
          const message = JSON.parse(data);
          events.push({ message, at: Date.now() - started });
          if (message.method === 'notifications/subscriptions/acknowledged' && putAt === null) {
            await sleep(1200);
            putAt = Date.now() - started;
            const put = await admin('PUT', 'announced', { description: 'Announced to listeners.', sql: 'SELECT 1 AS one' });
            assert.equal(put.status, 201);
          }
          if (message.method === 'notifications/tools/list_changed') controller.abort();
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    } finally {
      clearTimeout(deadline);
    }
    assert.deepEqual(events[0].message.params.notifications, { toolsListChanged: true });
    const changed = events.filter((e) => e.message.method === 'notifications/tools/list_changed');
    assert.equal(changed.length, 1, JSON.stringify(events));
    assert.deepEqual(changed[0].message.params._meta, { 'io.modelcontextprotocol/subscriptionId': 'listen-tools' });
    assert.ok(changed[0].at - putAt <= 2500, `seen at the next 1 s check: put at ${putAt} ms, told at ${changed[0].at} ms`);
    assert.ok((await names()).includes('announced'));
  });

  test('a tool that writes: refused on a read-only service, checked as a write, and run on a writable one', async () => {
    const rename = {
      description: 'Renames a category.',
      sql: 'UPDATE categories SET name = :name WHERE id = :id',
      parameters: { id: { type: 'integer' }, name: { type: 'string', maxLength: 60 } },
      required: ['id', 'name'],
      writes: true,
    };
    const onReadOnly = await admin('PUT', 'rename_category', rename);
    assert.equal(onReadOnly.status, 400, JSON.stringify(onReadOnly.json));
    assert.match(onReadOnly.json.error_description, /read-only/);

    const rwAdmin = (method, name, body) =>
      fetch(`${w.url}/admin/services/rw/tools/${name}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (res) => ({ status: res.status, json: await res.json().catch(() => null) }));
    const readOnlyColumn = await rwAdmin('PUT', 'set_email', { description: 'x', sql: 'UPDATE customers SET email = :e WHERE id = :id', parameters: { e: { type: 'string' }, id: { type: 'integer' } }, writes: true });
    assert.equal(readOnlyColumn.status, 400, JSON.stringify(readOnlyColumn.json));
    assert.match(readOnlyColumn.json.error_description, /email/);
    const created = await rwAdmin('PUT', 'rename_category', rename);
    assert.equal(created.status, 201, JSON.stringify(created.json));

    const rwKey = (await createKey(w.url, 'rw', { label: 'admin write tools e2e' })).key;
    const rw = (await connectClient(w.mcpUrl('rw'), rwKey)).client;
    try {
      const listed = (await rw.listTools()).tools.find((t) => t.name === 'rename_category');
      assert.ok(listed, 'the stored writing tool is listed to a credential that may write');
      assert.equal(listed.annotations.readOnlyHint, false);
      assert.equal(listed.annotations.destructiveHint, true);
      const result = await rw.callTool({ name: 'rename_category', arguments: { id: 2, name: "Renamed'); DROP TABLE categories; --" } });
      assert.equal(result.isError, false, JSON.stringify(result.content));
      assert.equal(result.structuredContent.rows_written, 1);
      const read = await rw.callTool({ name: 'get_table_data', arguments: { table: 'categories', filter: 'id = 2' } });
      assert.equal(read.structuredContent.records[0].name, "Renamed'); DROP TABLE categories; --", 'stored literally');
    } finally {
      await rw.close().catch(() => {});
    }
  });
});
