// Attacks on the authorization state (issue 7, items 2, 3, 4 and 9), each against the built
// worker in Miniflare with real KV and Durable Objects:
// - parallel password guesses on one sign-in flow cannot outrun the attempt limit, and one
//   address cannot lock the owner out (item 2);
// - a key or client deleted while its first use is in flight stays deleted (item 3);
// - a password reset or a disable ends codes issued and consent pages opened before it (item 4);
// - the handle a custom login page receives in its URL reveals nothing (item 9).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { ADMIN_TOKEN, DEFAULT_SERVICES, OAUTH_SIGNING_KEY, consoleAssets, createKey, startWorker, tempDir } from '../support/worker.mjs';
import { initializeParams, request, rpc, sleep } from '../support/mcp.mjs';
import {
  PASSWORD, REDIRECT, admin, authorizeUrl, createUser, flowCookie, formFields, obtainCode, obtainTokens, pkce, registerClient, tokenRequest,
} from '../support/oauth.mjs';

let w;

before(async () => {
  w = await startWorker();
});

after(async () => {
  await w?.stop();
});

/** Opens a sign-in flow: the login form's fields and the flow cookie. */
async function openLogin(client, { service = 'demo', challenge = pkce().challenge } = {}) {
  const res = await fetch(authorizeUrl(w.url, { clientId: client.client_id, challenge, resource: `${w.url}/mcp/${service}` }), { redirect: 'manual' });
  assert.equal(res.status, 200);
  return { cookie: flowCookie(res), fields: formFields(await res.text()) };
}

/** POSTs the login form of `flow` from `address` (the CF-Connecting-IP Cloudflare sets). */
async function postLogin(flow, { username, password, address }) {
  const res = await fetch(`${w.url}/authorize/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: flow.cookie, 'cf-connecting-ip': address },
    body: new URLSearchParams({ ...flow.fields, username, password }).toString(),
  });
  return { status: res.status, html: await res.text(), retryAfter: res.headers.get('retry-after') };
}

async function postConsent(cookie, fields, decision = 'approve') {
  const res = await fetch(`${w.url}/authorize/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ ...fields, decision }).toString(),
  });
  return { status: res.status, location: res.headers.get('location') && new URL(res.headers.get('location')), text: await res.text() };
}

const count = (statuses, s) => statuses.filter((x) => x === s).length;

describe('item 2: password guesses are counted before they are checked', () => {
  test('60 parallel wrong guesses on one flow: at most 10 are checked; the right password then is refused from that address', async () => {
    await createUser(w.url, 'demo', 'victim1');
    const client = await registerClient(w.url);
    const flow = await openLogin(client);
    const attacker = '203.0.113.66';
    const guesses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => postLogin(flow, { username: 'victim1', password: `guess number ${i}`, address: attacker })),
    );
    const statuses = guesses.map((g) => g.status);
    assert.equal(count(statuses, 401) + count(statuses, 429), 60, `only 401 and 429 expected: ${statuses}`);
    assert.ok(count(statuses, 401) <= 10, `${count(statuses, 401)} guesses were checked (limit 10)`);
    assert.ok(count(statuses, 401) >= 1);
    const limited = guesses.find((g) => g.status === 429);
    assert.match(limited.html, /Too many sign-in attempts/);
    assert.ok(Number(limited.retryAfter) > 0 && Number(limited.retryAfter) <= 900);
    // Even the right password is no longer checked from the attacker's address.
    const right = await postLogin(flow, { username: 'victim1', password: PASSWORD, address: attacker });
    assert.equal(right.status, 429);
    assert.doesNotMatch(right.html, /Allow access/);
  });

  test('the owner still signs in from another address, up to a per-user ceiling of 100 failures', async () => {
    await createUser(w.url, 'demo', 'victim2');
    const client = await registerClient(w.url);
    const flow = await openLogin(client);
    for (let i = 0; i < 10; i += 1) {
      assert.equal((await postLogin(flow, { username: 'victim2', password: `wrong ${i}`, address: '198.51.100.1' })).status, 401);
    }
    assert.equal((await postLogin(flow, { username: 'victim2', password: PASSWORD, address: '198.51.100.1' })).status, 429);
    const owner = await postLogin(await openLogin(client), { username: 'victim2', password: PASSWORD, address: '192.0.2.10' });
    assert.equal(owner.status, 200, owner.html);
    assert.match(owner.html, /Allow access/);
    // Nine more addresses, ten failures each: 100 failures in all reach the per-user ceiling.
    const more = await Promise.all(
      Array.from({ length: 9 }, async (_, a) => {
        const statuses = [];
        for (let i = 0; i < 10; i += 1) statuses.push((await postLogin(flow, { username: 'victim2', password: `wrong ${i}`, address: `198.51.100.${a + 2}` })).status);
        return statuses;
      }),
    );
    assert.deepEqual(more.flat().filter((s) => s !== 401), []);
    const ceiling = await postLogin(await openLogin(client), { username: 'victim2', password: PASSWORD, address: '192.0.2.11' });
    assert.equal(ceiling.status, 429);
  });

  test('rotating IPv6 addresses inside one /64 counts as one address', async () => {
    await createUser(w.url, 'demo', 'victim3');
    const client = await registerClient(w.url);
    const flow = await openLogin(client);
    const statuses = [];
    for (let i = 1; i <= 12; i += 1) {
      statuses.push((await postLogin(flow, { username: 'victim3', password: `wrong ${i}`, address: `2001:db8:77:1::${i.toString(16)}` })).status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    const otherNetwork = await postLogin(flow, { username: 'victim3', password: PASSWORD, address: '2001:db8:77:2::1' });
    assert.equal(otherNetwork.status, 200);
  });

  test('a successful sign-in gives its attempt back (the owner is not counted against)', async () => {
    await createUser(w.url, 'demo', 'owner4');
    const client = await registerClient(w.url);
    const statuses = [];
    for (let i = 0; i < 12; i += 1) {
      statuses.push((await postLogin(await openLogin(client), { username: 'owner4', password: PASSWORD, address: '192.0.2.44' })).status);
    }
    assert.deepEqual(statuses, Array(12).fill(200));
  });
});

describe('item 3: a revocation racing a first use is final', () => {
  test('keys deleted while 20 first uses are in flight never work again and are never listed again (40 rounds)', async () => {
    const initialize = (key) => rpc(w.mcpUrl('demo'), key, request('initialize', initializeParams('2025-06-18')));
    for (let round = 0; round < 40; round += 1) {
      const created = await createKey(w.url, 'demo', { label: `race ${round}` });
      // First uses before and after the deletion starts, the deletion at a different point each round.
      const early = Array.from({ length: 10 }, () => initialize(created.key));
      await sleep(round % 8);
      const deletion = admin(w.url, 'DELETE', `/services/demo/keys/${created.id}`);
      const late = Array.from({ length: 10 }, () => initialize(created.key));
      const [deleted] = await Promise.all([deletion, ...early, ...late]);
      assert.equal(deleted.status, 204);
      await sleep(50);
      for (let i = 0; i < 3; i += 1) {
        assert.equal((await initialize(created.key)).status, 401, `round ${round}: the revoked key works again`);
      }
      const listed = await admin(w.url, 'GET', '/services/demo/keys');
      assert.equal(listed.json.keys.some((k) => k.id === created.id), false, `round ${round}: the revoked key is listed again`);
    }
  });

  test('clients deleted while their first /token is in flight stay deleted (10 rounds)', async () => {
    await createUser(w.url, 'demo', 'alice');
    for (let round = 0; round < 10; round += 1) {
      const client = await registerClient(w.url, { client_name: `race ${round}` });
      const code = await obtainCode(w, { client, username: 'alice' });
      const exchange = tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, client_id: client.client_id });
      await sleep(round % 4);
      const [token, deleted] = await Promise.all([exchange, admin(w.url, 'DELETE', `/clients/${client.client_id}`)]);
      assert.equal(deleted.status, 204);
      assert.ok([200, 400, 401].includes(token.status), token.text);
      await sleep(50);
      const after = await admin(w.url, 'GET', `/clients/${client.client_id}`);
      assert.equal(after.status, 404, `round ${round}: the deleted client is back: ${after.text}`);
      if (token.status === 200) {
        const refreshed = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: token.json.refresh_token, client_id: client.client_id });
        assert.equal(refreshed.status, 401, refreshed.text);
      }
    }
  });

  test('an admin-created client deleted during its first /token is not listed again', async () => {
    for (let round = 0; round < 5; round += 1) {
      const made = await admin(w.url, 'POST', '/services/demo/clients', { client_name: `admin race ${round}`, redirect_uris: [REDIRECT], public: true });
      assert.equal(made.status, 201);
      const client = { client_id: made.json.client_id };
      const code = await obtainCode(w, { client, username: 'alice' });
      const exchange = tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, client_id: client.client_id });
      const [, deleted] = await Promise.all([exchange, admin(w.url, 'DELETE', `/services/demo/clients/${client.client_id}`)]);
      assert.equal(deleted.status, 204);
      await sleep(50);
      const listed = await admin(w.url, 'GET', '/services/demo/clients');
      assert.equal(listed.json.clients.some((c) => c.client_id === client.client_id), false);
      assert.equal((await admin(w.url, 'GET', `/clients/${client.client_id}`)).status, 404);
    }
  });

  test('a used key still shows when it was last used', async () => {
    const created = await createKey(w.url, 'demo', { label: 'used' });
    assert.equal((await rpc(w.mcpUrl('demo'), created.key, request('initialize', initializeParams('2025-06-18')))).status, 200);
    const listed = await admin(w.url, 'GET', '/services/demo/keys');
    const entry = listed.json.keys.find((k) => k.id === created.id);
    assert.equal(typeof entry.last_used_ms, 'number');
    assert.ok(entry.last_used_ms >= created.created_ms);
  });
});

describe('item 4: a reset or disable ends what was issued or opened before it', () => {
  const user = 'resetme';
  const NEW_PASSWORD = 'a brand new passphrase 42';

  test('a code issued before a password reset yields no token', async () => {
    await createUser(w.url, 'demo', user);
    const client = await registerClient(w.url);
    const code = await obtainCode(w, { client, username: user });
    const reset = await admin(w.url, 'PATCH', `/services/demo/users/${user}`, { password: NEW_PASSWORD });
    assert.equal(reset.status, 200, reset.text);
    const token = await tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, client_id: client.client_id });
    assert.equal(token.status, 400, token.text);
    assert.equal(token.json.error, 'invalid_grant');
    assert.match(token.json.error_description, /reset/);
    // The new password works, and gives a working grant.
    const fresh = await obtainTokens(w, { client, username: user, password: NEW_PASSWORD });
    assert.ok(fresh.tokens.refresh_token);
  });

  test('a consent page opened before a reset gives no code', async () => {
    await createUser(w.url, 'demo', 'resetme2');
    const client = await registerClient(w.url);
    const flow = await openLogin(client);
    const consentPage = await postLogin(flow, { username: 'resetme2', password: PASSWORD, address: '192.0.2.50' });
    assert.equal(consentPage.status, 200);
    assert.equal((await admin(w.url, 'PATCH', '/services/demo/users/resetme2', { password: NEW_PASSWORD })).status, 200);
    const answer = await postConsent(flow.cookie, formFields(consentPage.html));
    assert.equal(answer.status, 302);
    assert.equal(answer.location.searchParams.get('code'), null);
    assert.equal(answer.location.searchParams.get('error'), 'access_denied');
  });

  test('a consent page opened before a disable gives no code, even once the user is enabled again', async () => {
    await createUser(w.url, 'demo', 'toggled');
    const client = await registerClient(w.url);
    const flow = await openLogin(client);
    const consentPage = await postLogin(flow, { username: 'toggled', password: PASSWORD, address: '192.0.2.51' });
    assert.equal(consentPage.status, 200);
    assert.equal((await admin(w.url, 'PATCH', '/services/demo/users/toggled', { disabled: true })).status, 200);
    assert.equal((await admin(w.url, 'PATCH', '/services/demo/users/toggled', { disabled: false })).status, 200);
    const answer = await postConsent(flow.cookie, formFields(consentPage.html));
    assert.equal(answer.location.searchParams.get('error'), 'access_denied');
    // A new sign-in works again.
    const again = await obtainTokens(w, { client, username: 'toggled' });
    assert.ok(again.tokens.access_token);
  });

  test('a grant issued before a reset stops refreshing; a code issued before a delete-and-recreate yields nothing', async () => {
    await createUser(w.url, 'demo', 'recreated');
    const client = await registerClient(w.url);
    const { tokens } = await obtainTokens(w, { client, username: 'recreated' });
    const code = await obtainCode(w, { client, username: 'recreated' });
    assert.equal((await admin(w.url, 'DELETE', '/services/demo/users/recreated')).status, 204);
    await createUser(w.url, 'demo', 'recreated');
    const refreshed = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    assert.equal(refreshed.json.error, 'invalid_grant');
    const exchanged = await tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, client_id: client.client_id });
    assert.equal(exchanged.json.error, 'invalid_grant');
  });
});

describe('item 4: a sign-in that reads a stale user record is refused', () => {
  test('KV still serving the record from before a reset: the old password gets no consent page', async () => {
    await createUser(w.url, 'demo', 'stale');
    const kv = await w.mf.getKVNamespace('DBMCP_KV');
    const before = await kv.get('oauth_user:demo:stale');
    assert.ok(before);
    assert.equal((await admin(w.url, 'PATCH', '/services/demo/users/stale', { password: 'the replacement passphrase' })).status, 200);
    // Another location's KV may serve the old record for up to a minute: simulate it.
    await kv.put('oauth_user:demo:stale', before);
    const client = await registerClient(w.url);
    const res = await postLogin(await openLogin(client), { username: 'stale', password: PASSWORD, address: '192.0.2.70' });
    assert.equal(res.status, 503, res.html);
    assert.match(res.html, /changed a moment ago/);
    assert.doesNotMatch(res.html, /Allow access/);
  });
});

describe('item 9: flow handles reveal nothing', () => {
  /** Every string found in `value` and, recursively, in what it decodes to (base64url, JSON, JWT parts). */
  function everythingIn(value, depth = 0, out = []) {
    if (depth > 6 || value == null) return out;
    if (typeof value === 'object') {
      for (const v of Object.values(value)) everythingIn(v, depth + 1, out);
      return out;
    }
    const text = String(value);
    out.push(text);
    for (const part of text.split(/[.?&=]/)) {
      if (part.length < 8) continue;
      let decoded;
      try {
        decoded = Buffer.from(decodeURIComponent(part), 'base64url').toString('latin1');
      } catch {
        continue;
      }
      out.push(decoded);
      try {
        everythingIn(JSON.parse(decoded), depth + 1, out);
      } catch {
        /* not JSON */
      }
    }
    return out;
  }

  test('the custom login URL does not reveal the cookie nonce, at any depth of decoding', async () => {
    const set = await admin(w.url, 'PUT', '/services/readonly/login', { url: 'https://login.example/sso' });
    assert.equal(set.status, 200, set.text);
    const client = await registerClient(w.url);
    const res = await fetch(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge, resource: `${w.url}/mcp/readonly` }), { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = res.headers.get('location');
    const nonce = flowCookie(res).split('=')[1];
    assert.ok(nonce.length >= 16);
    const handle = new URL(location).searchParams.get('request');
    const payload = JSON.parse(Buffer.from(handle.split('.')[1], 'base64url'));
    // The login page still gets what it needs in clear; the flow inside is opaque.
    assert.equal(payload.typ, 'dbmcp-login-request');
    assert.equal(payload.aud, 'readonly');
    assert.equal(payload.flow.split('.').length, 1, 'the flow is not a readable JWT');
    assert.throws(() => JSON.parse(Buffer.from(payload.flow, 'base64url')));
    for (const text of everythingIn(location)) {
      assert.ok(!text.includes(nonce), `the cookie nonce shows in the URL: ${text.slice(0, 80)}`);
    }
    assert.equal((await admin(w.url, 'DELETE', '/services/readonly/login')).status, 204);
  });

  test('the login form flow is sealed too: opaque, and any altered byte is refused', async () => {
    await createUser(w.url, 'demo', 'sealed');
    const client = await registerClient(w.url);
    const flow = await openLogin(client);
    const nonce = flow.cookie.split('=')[1];
    for (const text of everythingIn(flow.fields.flow)) assert.ok(!text.includes(nonce));
    const bytes = Buffer.from(flow.fields.flow, 'base64url');
    bytes[bytes.length - 5] ^= 1;
    const altered = { ...flow, fields: { ...flow.fields, flow: bytes.toString('base64url') } };
    const res = await postLogin(altered, { username: 'sealed', password: PASSWORD, address: '192.0.2.60' });
    assert.equal(res.status, 400);
    assert.match(res.html, /no longer valid/);
    // The untouched one works.
    assert.equal((await postLogin(flow, { username: 'sealed', password: PASSWORD, address: '192.0.2.60' })).status, 200);
  });
});

describe('item 4 (review): a user deletion that cannot end the grants leaves the user in place', () => {
  // The old order deleted the KV record first: when the grant store then failed, the user was
  // gone (a retry answered 404) while their refresh tokens kept rotating for good.
  const dir = tempDir('dbmcp-delete-user-');
  const usersOf = async (url) => (await admin(url, 'GET', '/services/demo/users')).json.users.map((u) => u.username);

  test('the grant store unreachable: the deletion fails and the user is still listed; once it is back, a retry ends the grant', async () => {
    const first = await startWorker({ persistDir: dir });
    let tokens;
    let client;
    try {
      ({ tokens, client } = await obtainTokens(first, { username: 'leaver' }));
    } finally {
      await first.stop();
    }

    // The same state, with OAUTH_GRANTS bound to a class that answers no grant command.
    const broken = new Miniflare({
      host: '127.0.0.1',
      port: 0,
      compatibilityDate: '2025-09-01',
      modules: true,
      scriptPath: fileURLToPath(new URL('../../build/index.js', import.meta.url)),
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
      d1Databases: ['DB'],
      kvNamespaces: ['DBMCP_KV'],
      durableObjects: {
        MCP_SESSIONS: { className: 'McpSession', useSQLite: true },
        OAUTH_GRANTS: { className: 'McpSession', useSQLite: true },
      },
      bindings: { SERVICES: DEFAULT_SERVICES, ADMIN_TOKEN, OAUTH_SIGNING_KEY },
      assets: consoleAssets(),
      d1Persist: join(dir, 'd1'),
      kvPersist: join(dir, 'kv'),
      durableObjectsPersist: join(dir, 'do'),
    });
    try {
      const url = (await broken.ready).toString().replace(/\/$/, '');
      const deleted = await admin(url, 'DELETE', '/services/demo/users/leaver');
      assert.equal(deleted.status, 503, deleted.text);
      assert.ok((await usersOf(url)).includes('leaver'), 'the user is gone although the grants could not be ended');
    } finally {
      await broken.dispose();
    }

    const again = await startWorker({ persistDir: dir });
    try {
      assert.equal((await admin(again.url, 'DELETE', '/services/demo/users/leaver')).status, 204);
      assert.equal((await usersOf(again.url)).includes('leaver'), false);
      const refreshed = await tokenRequest(again.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
      assert.equal(refreshed.status, 400, refreshed.text);
      assert.equal(refreshed.json.error, 'invalid_grant');
    } finally {
      await again.stop();
    }
  });
});
