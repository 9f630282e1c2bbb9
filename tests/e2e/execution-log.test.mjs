// The execution log end to end: calls made with the official SDK clients (2025 sessions and the
// 2026-07-28 stateless era), a JSON-RPC batch, a streamed (SSE) answer, tool and protocol errors,
// resources/read and prompts/get land in the ExecutionLog Durable Objects after the response;
// the admin API filters, pages across shards, returns one entry, exports JSONL and CSV, and
// summarises; bad input is a 400; retention deletes old rows.
//
// Entries are written after the response (waitUntil), so every read polls with a bound.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { connectClient, request, session, sleep } from '../support/mcp.mjs';
import { ADMIN_TOKEN, DEFAULT_SERVICES, createKey, startWorker } from '../support/worker.mjs';
import { obtainTokens } from '../support/oauth.mjs';

const DAY_MS = 86_400_000;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let w;
const callLines = [];

before(async () => {
  w = await startWorker({
    onCallLine: (line) => callLines.push(line),
    services: {
      ...DEFAULT_SERVICES,
      tiny: { label: 'One shard, one day', database: { kind: 'd1', binding: 'DB' }, read_only: true, log: { shards: 1, retention_days: 1 } },
      quiet: { label: 'No log', database: { kind: 'd1', binding: 'DB' }, read_only: true, log: { enabled: false } },
    },
  });
});

after(async () => {
  await w?.stop();
});

async function admin(path, options = {}) {
  const res = await fetch(`${w.url}/admin/services/${path}`, {
    method: options.method ?? 'GET',
    headers: options.token === null ? {} : { authorization: `Bearer ${options.token ?? ADMIN_TOKEN}` },
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function logs(service, params = {}) {
  return admin(`${service}/logs?${new URLSearchParams(params)}`);
}

/** Polls `fn` until it returns a truthy value (at most `ms`). */
async function waitFor(fn, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The entries of one principal once at least `count` have landed. */
async function entriesOf(principal, count, service = 'demo') {
  return waitFor(async () => {
    const res = await logs(service, { principal, limit: '500' });
    assert.equal(res.status, 200, res.text);
    return res.json.entries.length >= count ? res.json.entries : null;
  }, `${count} entries of ${principal}`);
}

async function newKey(service = 'demo', label = undefined) {
  const created = await createKey(w.url, service, label ? { label } : {});
  return { key: created.key, principal: `key:${created.id}` };
}

describe('recording', () => {
  test('2025 session (SDK v1): tools/call ok, tool error, protocol error, resources/read, prompts/get', async () => {
    const { key, principal } = await newKey('demo', 'sdk key');
    const started = Date.now();
    const { client } = await connectClient(w.mcpUrl('demo'), key);
    try {
      const ok = await client.callTool({ name: 'get_table_data', arguments: { table: 'customers', limit: 3 } });
      assert.equal(ok.isError, false);
      const toolError = await client.callTool({ name: 'get_table_data', arguments: { table: 'no_such_table' } });
      assert.equal(toolError.isError, true);
      await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }));
      await client.readResource({ uri: 'dbmcp://demo/tables/customers' });
      await client.getPrompt({ name: 'explore_database' });
      await client.listTools(); // not recorded
    } finally {
      await client.close();
    }
    const entries = await entriesOf(principal, 5);
    await sleep(200);
    assert.equal((await entriesOf(principal, 5)).length, 5, 'tools/list and initialize are not recorded');
    // Newest first.
    const [prompt, read, unknown, failed, done] = entries;
    assert.deepEqual(entries.map((e) => e.id), [...entries.map((e) => e.id)].sort().reverse());
    assert.equal(done.method, 'tools/call');
    assert.equal(done.target, 'get_table_data');
    assert.equal(done.outcome, 'ok');
    assert.equal(done.rows_read, 3);
    assert.equal(done.error, null);
    assert.deepEqual(done.arguments, { table: 'customers', limit: 3 });
    assert.equal(failed.outcome, 'tool_error');
    assert.match(failed.error, /no_such_table/);
    assert.equal(unknown.outcome, 'protocol_error');
    assert.equal(unknown.target, 'no_such_tool');
    assert.match(unknown.error, /unknown tool/);
    assert.equal(read.method, 'resources/read');
    assert.equal(read.target, 'dbmcp://demo/tables/customers');
    assert.equal(read.outcome, 'ok');
    assert.equal(prompt.method, 'prompts/get');
    assert.equal(prompt.target, 'explore_database');
    for (const e of entries) {
      assert.equal(e.service, 'demo');
      assert.equal(e.principal_kind, 'api_key');
      assert.equal(e.principal_id, principal);
      assert.equal(e.key_label, 'sdk key');
      assert.equal(e.client_id, null);
      assert.equal(e.client_name, 'dbmcp-e2e-sdk/1.0.0');
      assert.equal(e.era, '2025');
      assert.match(e.request_id, /^\d+$/);
      assert.equal(typeof e.duration_ms, 'number');
      assert.ok(e.time >= started - 1000 && e.time <= Date.now(), `${e.time}`);
      assert.match(e.id, /^\d{13}-[0-9a-f]{12}$/);
    }
    assert.equal(new Set(entries.map((e) => e.id)).size, 5);
  });

  test('2026-07-28 (SDK v2 pinned): a stateless call is recorded with era 2026', async () => {
    const { key, principal } = await newKey();
    const transport = new TransportV2(new URL(w.mcpUrl('demo')), { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
    const client = new ClientV2({ name: 'dbmcp-e2e-v2', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(transport);
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const result = await client.callTool({ name: 'get_tables', arguments: {} });
      assert.equal(result.isError, false);
      await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }));
    } finally {
      await client.close();
    }
    const entries = await entriesOf(principal, 2);
    assert.deepEqual(entries.map((e) => [e.target, e.outcome, e.era]), [
      ['no_such_tool', 'protocol_error', '2026'],
      ['get_tables', 'ok', '2026'],
    ]);
    assert.equal(entries[1].client_name, 'dbmcp-e2e-v2/2.0.0');
  });

  test('an OAuth user is recorded as a user with the OAuth client id', async () => {
    const { client, tokens } = await obtainTokens(w, { username: 'logger', scope: 'mcp:read' });
    const principal = `oauth:${client.client_id}:logger`;
    const s = await session(w.mcpUrl('demo'), tokens.access_token);
    assert.equal((await s.call('tools/call', { name: 'get_tables', arguments: {} })).status, 200);
    const [entry] = await entriesOf(principal, 1);
    assert.equal(entry.principal_kind, 'user');
    assert.equal(entry.client_id, client.client_id);
    assert.equal(entry.key_label, null);
    assert.equal(entry.client_name, 'dbmcp-e2e/1.0.0');
    const byClient = await logs('demo', { client: client.client_id });
    assert.deepEqual(byClient.json.entries.map((e) => e.id), [entry.id]);
  });

  test('a JSON-RPC batch records each call with its own request id', async () => {
    const { key, principal } = await newKey();
    const s = await session(w.mcpUrl('demo'), key, '2025-03-26');
    const batch = [
      request('tools/call', { name: 'get_tables', arguments: {} }, 'first'),
      request('tools/call', { name: 'no_such_tool', arguments: {} }, 77),
      request('tools/list', {}, 78),
    ];
    const answer = await fetch(w.mcpUrl('demo'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${key}`,
        'mcp-session-id': s.sessionId,
        'mcp-protocol-version': s.version,
      },
      body: JSON.stringify(batch),
    });
    assert.equal(answer.status, 200);
    assert.equal((await answer.json()).length, 3);
    const entries = await entriesOf(principal, 2);
    const byRequest = Object.fromEntries(entries.map((e) => [e.request_id, e]));
    assert.equal(byRequest.first.outcome, 'ok');
    assert.equal(byRequest['77'].outcome, 'protocol_error');
    assert.equal(entries.length, 2);
  });

  test('a streamed (SSE, progress) answer is recorded once it finishes', async () => {
    const { key, principal } = await newKey();
    const { client } = await connectClient(w.mcpUrl('demo'), key);
    const seen = [];
    try {
      const result = await client.callTool(
        { name: 'aggregate_table_data', arguments: { table: 'orders', aggregates: [{ function: 'count' }] } },
        undefined,
        { onprogress: (p) => seen.push(p) },
      );
      assert.equal(result.isError, false);
    } finally {
      await client.close();
    }
    assert.ok(seen.length >= 1, 'the answer was streamed with progress');
    const [entry] = await entriesOf(principal, 1);
    assert.equal(entry.target, 'aggregate_table_data');
    assert.equal(entry.outcome, 'ok');
    assert.equal(entry.rows_read, 1);
  });

  test('secret-looking arguments are redacted and the traceparent trace id is kept', async () => {
    const { key, principal } = await newKey();
    const s = await session(w.mcpUrl('demo'), key);
    const headers = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` };
    const args = { table: 'customers', api_token: 'sk-live-SECRET', nested: [{ Password: 'hunter2', keep: 'visible' }] };
    const res = await s.call('tools/call', { name: 'get_table_data', arguments: args }, { headers });
    assert.equal(res.status, 200);
    const bad = await s.call('tools/call', { name: 'get_tables', arguments: {} }, { headers: { traceparent: 'not-a-trace' } });
    assert.equal(bad.status, 200);
    const entries = await entriesOf(principal, 2);
    const [plain, secret] = entries;
    assert.deepEqual(secret.arguments, { table: 'customers', api_token: '[redacted]', nested: [{ Password: '[redacted]', keep: 'visible' }] });
    assert.equal(secret.trace_id, TRACE_ID);
    assert.equal(plain.trace_id, null, 'an invalid traceparent gives no trace id');
    const all = await logs('demo', { principal, limit: '500' });
    assert.ok(!all.text.includes('sk-live-SECRET') && !all.text.includes('hunter2'));
    const exported = await admin(`demo/logs/export?format=csv&principal=${encodeURIComponent(principal)}`);
    assert.ok(!exported.text.includes('sk-live-SECRET') && !exported.text.includes('hunter2'));
  });

  test('every recorded call also prints one {"event":"mcp_call"} line without its arguments', async () => {
    const { key, principal } = await newKey();
    const s = await session(w.mcpUrl('demo'), key);
    const call = await s.call('tools/call', { name: 'get_table_data', arguments: { table: 'customers', limit: 1, offset: 987654 } });
    assert.equal(call.json.result.isError, false, call.text);
    const [entry] = await entriesOf(principal, 1);
    const line = await waitFor(() => callLines.find((l) => l.includes(entry.id)), 'the mcp_call line');
    const parsed = JSON.parse(line);
    assert.equal(parsed.event, 'mcp_call');
    assert.equal(parsed.id, entry.id);
    assert.equal(parsed.principal_id, principal);
    assert.equal(parsed.outcome, entry.outcome);
    assert.equal(parsed.arguments, undefined);
    assert.equal(parsed.target, 'get_table_data');
    assert.ok(!line.includes('987654'), 'the arguments are not in the line');
    assert.equal(callLines.filter((l) => l.includes(entry.id)).length, 1);
  });

  test('a service with log.enabled = false records nothing', async () => {
    const quiet = await newKey('quiet');
    const s = await session(w.mcpUrl('quiet'), quiet.key);
    assert.equal((await s.call('tools/call', { name: 'get_tables', arguments: {} })).status, 200);
    // A later call on another service lands after the quiet one would have.
    const loud = await newKey();
    const t = await session(w.mcpUrl('demo'), loud.key);
    assert.equal((await t.call('tools/call', { name: 'get_tables', arguments: {} })).status, 200);
    await entriesOf(loud.principal, 1);
    await sleep(200);
    const res = await logs('quiet');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.entries, []);
  });
});

describe('admin API', () => {
  let pager;
  let pagerIds;

  before(async () => {
    // 24 protocol errors and 3 successful calls, in 4 requests whose writes land one after the
    // other (so they go to several shards).
    pager = await newKey('demo', '=HYPERLINK("http://evil")');
    const s = await session(w.mcpUrl('demo'), pager.key, '2025-03-26');
    let expected = 0;
    for (let round = 0; round < 4; round += 1) {
      const batch = Array.from({ length: 6 }, (_, i) => request('tools/call', { name: `missing_${round}_${i}`, arguments: {} }, `r${round}-${i}`));
      if (round < 3) batch.push(request('tools/call', { name: 'get_table_data', arguments: { table: 'products', limit: 2 } }, `ok${round}`));
      const res = await fetch(w.mcpUrl('demo'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${pager.key}`,
          'mcp-session-id': s.sessionId,
          'mcp-protocol-version': s.version,
        },
        body: JSON.stringify(batch),
      });
      assert.equal(res.status, 200);
      expected += batch.length;
      await entriesOf(pager.principal, expected);
    }
    pagerIds = (await entriesOf(pager.principal, 27)).map((e) => e.id);
    assert.equal(pagerIds.length, 27);
  });

  test('the entries sit in several shards named <service>:<shard>', async () => {
    const namespace = await w.mf.getDurableObjectNamespace('EXECUTION_LOG');
    let shardsUsed = 0;
    let total = 0;
    for (let shard = 0; shard < 4; shard += 1) {
      const stub = namespace.get(namespace.idFromName(`demo:${shard}`));
      const res = await stub.fetch('https://log.test/', {
        method: 'POST',
        body: JSON.stringify({ query: { query: { principal: pager.principal, limit: 501 } } }),
      });
      assert.equal(res.status, 200);
      const entries = await res.json();
      if (entries.length > 0) shardsUsed += 1;
      total += entries.length;
    }
    assert.equal(total, 27);
    assert.ok(shardsUsed >= 2, `entries in ${shardsUsed} shard(s)`);
  });

  test('paging walks every entry once, newest first, across shards', async () => {
    const seen = [];
    let cursor = '';
    for (let page = 0; page < 20; page += 1) {
      const res = await logs('demo', { principal: pager.principal, limit: '5', ...(cursor ? { cursor } : {}) });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.entries.length <= 5);
      seen.push(...res.json.entries.map((e) => e.id));
      cursor = res.json.next_cursor;
      if (cursor === null) break;
      assert.equal(typeof cursor, 'string');
    }
    assert.equal(cursor, null, 'the last page has no next cursor');
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    assert.deepEqual(seen, pagerIds, 'no gaps, same order as one big page');
  });

  test('filters: tool, outcome, client, from/to (ms and RFC 3339)', async () => {
    const byTool = await logs('demo', { principal: pager.principal, tool: 'get_table_data' });
    assert.equal(byTool.json.entries.length, 3);
    assert.ok(byTool.json.entries.every((e) => e.target === 'get_table_data' && e.rows_read === 2));
    const errors = await logs('demo', { principal: pager.principal, outcome: 'protocol_error', limit: '500' });
    assert.equal(errors.json.entries.length, 24);
    const ok = await logs('demo', { principal: pager.principal, outcome: 'ok' });
    assert.equal(ok.json.entries.length, 3);
    const limited = await logs('demo', { principal: pager.principal, outcome: 'rate_limited' });
    assert.equal(limited.status, 200);
    assert.deepEqual(limited.json.entries, []);
    const client = await logs('demo', { principal: pager.principal, client: 'dbmcp-e2e/1.0.0', limit: '500' });
    assert.equal(client.json.entries.length, 27);
    assert.equal((await logs('demo', { principal: pager.principal, client: 'someone-else' })).json.entries.length, 0);
    const all = (await logs('demo', { principal: pager.principal, limit: '500' })).json.entries;
    const middle = all[10].time;
    const newer = await logs('demo', { principal: pager.principal, from: String(middle), limit: '500' });
    assert.ok(newer.json.entries.length >= 11);
    assert.ok(newer.json.entries.every((e) => e.time >= middle));
    const older = await logs('demo', { principal: pager.principal, to: new Date(middle).toISOString(), limit: '500' });
    assert.ok(older.json.entries.every((e) => e.time <= middle));
    assert.ok(older.json.entries.length >= 17);
    const future = await logs('demo', { principal: pager.principal, from: new Date(Date.now() + DAY_MS).toISOString() });
    assert.deepEqual(future.json.entries, []);
  });

  test('one entry by id; unknown ids are 404', async () => {
    const list = (await logs('demo', { principal: pager.principal, limit: '1' })).json.entries;
    const one = await admin(`demo/logs/${list[0].id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.json, list[0]);
    assert.equal((await admin('demo/logs/1700000000000-aaaaaaaaaaaa')).status, 404);
    assert.equal((await admin('demo/logs/not-an-id')).status, 404);
    const long = await admin(`demo/logs/${'x'.repeat(4000)}`);
    assert.equal(long.status, 404);
    assert.ok(!JSON.stringify(long.json).includes('x'.repeat(100)), 'a malformed id is not echoed back');
    assert.equal((await admin(`tiny/logs/${list[0].id}`)).status, 404, 'an entry of another service is not found');
  });

  test('export: JSONL and formula-safe CSV, as attachments', async () => {
    const jsonl = await admin(`demo/logs/export?format=jsonl&principal=${encodeURIComponent(pager.principal)}`);
    assert.equal(jsonl.status, 200);
    assert.match(jsonl.headers.get('content-disposition'), /^attachment; filename="demo-log\.jsonl"$/);
    const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((e) => e.id), pagerIds);
    assert.equal(jsonl.headers.get('x-export-truncated'), 'false');
    const csv = await admin(`demo/logs/export?format=csv&principal=${encodeURIComponent(pager.principal)}&outcome=ok`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    assert.match(csv.headers.get('content-disposition'), /^attachment; filename="demo-log\.csv"$/);
    const rows = csv.text.trim().split('\r\n');
    assert.equal(rows[0].split(',')[0], 'id');
    assert.equal(rows.length, 4, 'header and 3 rows');
    // The key label starts with '=': a spreadsheet must see text, not a formula.
    assert.ok(rows[1].includes(`"'=HYPERLINK(""http://evil"")"`), rows[1]);
    assert.ok(!/(^|,)=/.test(rows[1]), 'no cell starts with =');
    const capped = await admin(`demo/logs/export?format=jsonl&principal=${encodeURIComponent(pager.principal)}&limit=4`);
    assert.equal(capped.text.trim().split('\n').length, 4);
    assert.equal(capped.headers.get('x-export-truncated'), 'true');
  });

  test('summary: calls per hour, per-tool figures, slowest, write failures', async () => {
    const res = await admin('demo/logs/summary?hours=2');
    assert.equal(res.status, 200, res.text);
    const s = res.json;
    assert.equal(s.hours, 2);
    assert.equal(s.calls_per_hour.length, 2);
    const hour = s.calls_per_hour[1];
    assert.ok(hour.hour <= Date.now() && hour.hour > Date.now() - 3_600_000);
    assert.ok(hour.calls >= 27 && hour.errors >= 24, JSON.stringify(hour));
    const tool = s.tools.find((t) => t.tool === 'get_table_data');
    assert.ok(tool.calls >= 3);
    assert.equal(typeof tool.error_rate, 'number');
    assert.ok(tool.p95_ms <= tool.max_ms);
    assert.ok(s.tools.find((t) => t.tool === 'missing_0_0').error_rate === 1);
    assert.ok(Array.isArray(s.slowest) && s.slowest.length > 0 && s.slowest.length <= 10);
    for (let i = 1; i < s.slowest.length; i += 1) assert.ok(s.slowest[i - 1].duration_ms >= s.slowest[i].duration_ms);
    assert.equal(s.write_failures, 0);
    const day = await admin('demo/logs/summary');
    assert.equal(day.json.hours, 24);
    assert.equal(day.json.calls_per_hour.length, 24);
  });

  test('bad input is a 400 with a message; auth and routing errors', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=x', 'outcome=fine', 'from=yesterday', 'to=2026-13-40T00:00:00Z', 'from=9&to=1', 'cursor=bogus', 'cursor=YzE6bm9wZQ', 'colour=red', 'tool=a&tool=b']) {
      const res = await admin(`demo/logs?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.equal(res.json.error, 'invalid_request');
      assert.ok(res.json.error_description.length > 5);
    }
    for (const path of ['demo/logs/export?format=xml', 'demo/logs/export?limit=0', 'demo/logs/summary?hours=0', 'demo/logs/summary?hours=1000', 'demo/logs/summary?days=1']) {
      const res = await admin(path);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
    }
    assert.equal((await admin('demo/logs', { token: null })).status, 401);
    assert.equal((await admin('demo/logs', { token: 'wrong' })).status, 401);
    assert.equal((await admin('nosuch/logs')).status, 404);
    assert.equal((await admin('demo/logs', { method: 'POST' })).status, 405);
    assert.equal((await admin('demo/logs/a/b')).status, 404);
  });
});

describe('write failures', () => {
  test('a write that fails is counted in KV (real fault: the EXECUTION_LOG binding is missing) and the call still succeeds', async () => {
    const broken = await startWorker({
      durableObjects: {
        MCP_SESSIONS: { className: 'McpSession', useSQLite: true },
        OAUTH_GRANTS: { className: 'OAuthGrants', useSQLite: true },
      },
    });
    try {
      const created = await createKey(broken.url, 'demo');
      const s = await session(broken.mcpUrl('demo'), created.key);
      for (let i = 0; i < 2; i += 1) {
        const res = await s.call('tools/call', { name: 'get_tables', arguments: {} });
        assert.equal(res.status, 200);
        assert.equal(res.json.result.isError, false);
        await sleep(150); // separate flushes
      }
      const kv = await broken.mf.getKVNamespace('DBMCP_KV');
      const count = await waitFor(async () => {
        const value = await kv.get('calllog:write_failures:demo');
        return Number(value) >= 2 ? Number(value) : null;
      }, 'the failure counter');
      assert.equal(count, 2);
      const summary = await fetch(`${broken.url}/admin/services/demo/logs/summary`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(summary.status, 503, 'unreadable shards are a 503, not a 500');
    } finally {
      await broken.stop();
    }
  });
});

describe('retention', () => {
  test('entries older than log.retention_days are deleted when the shard is next written', async () => {
    const { key, principal } = await newKey('tiny');
    const old = Date.now() - 2 * DAY_MS;
    const oldId = `${String(old).padStart(13, '0')}-0123456789ab`;
    const oldEntry = {
      id: oldId, time: old, service: 'tiny', principal_kind: 'api_key', principal_id: principal, key_label: null,
      client_id: null, client_name: 'old/1', method: 'tools/call', target: 'get_tables', arguments: {},
      arguments_truncated: false, duration_ms: 1, rows_read: null, rows_written: null, outcome: 'ok', error: null,
      era: '2025', request_id: '1', trace_id: null,
    };
    // The shard's own write command (what the worker sends), with a long retention so the old
    // entry is kept for now: the test's way to have an entry from two days ago.
    const namespace = await w.mf.getDurableObjectNamespace('EXECUTION_LOG');
    const stub = namespace.get(namespace.idFromName('tiny:0'));
    const put = await stub.fetch('https://log.test/', {
      method: 'POST',
      body: JSON.stringify({ append: { entries: [oldEntry], retention_ms: 30 * DAY_MS } }),
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal((await admin(`tiny/logs/${oldId}`)).status, 200);
    // A real call: the worker writes it with the service's one-day retention.
    const s = await session(w.mcpUrl('tiny'), key);
    assert.equal((await s.call('tools/call', { name: 'get_tables', arguments: {} })).status, 200);
    const entries = await waitFor(async () => {
      const res = await logs('tiny', { principal });
      const ids = res.json.entries.map((e) => e.id);
      return ids.length === 1 && ids[0] !== oldId ? res.json.entries : null;
    }, 'the old entry to go and the new one to stay');
    assert.equal(entries[0].target, 'get_tables');
    assert.ok(entries[0].time > Date.now() - 60_000);
    assert.equal((await admin(`tiny/logs/${oldId}`)).status, 404);
  });
});
