// Metadata-document clients in the admin API: a client whose client_id is the URL of its document
// (served on 127.0.0.1) obtains tokens and is listed per service from its live grants; DELETE ends
// its refresh tokens and pending codes now and blocks the URL on that service (/authorize shows a
// page, /token refuses); allow lifts the block. Bad client ids get 400/404 with a reason.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../support/worker.mjs';
import { startDocumentServer } from '../support/documents.mjs';
import { PASSWORD, REDIRECT, admin, authorizeUrl, createUser, pkce, registerClient, signInAndConsent, tokenRequest } from '../support/oauth.mjs';

let w;
let docs;
let counter = 0;

function serveClient(name) {
  counter += 1;
  const path = `/clients/${name}-${counter}.json`;
  const url = `${docs.base}${path}`;
  docs.serve(path, { client_id: url, client_name: `Admin e2e ${name}`, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' });
  return url;
}

async function codeFor(clientId, username = 'alice') {
  const { verifier, challenge } = pkce();
  const done = await signInAndConsent(authorizeUrl(w.url, { clientId, challenge }), { username, password: PASSWORD });
  assert.equal(done.status, 302, done.text);
  const code = done.location.searchParams.get('code');
  assert.ok(code, `no code in ${done.location}`);
  return { code, verifier };
}

async function tokensFor(clientId, username = 'alice') {
  const { code, verifier } = await codeFor(clientId, username);
  const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
  assert.equal(tokens.status, 200, tokens.text);
  return tokens.json;
}

const refresh = (clientId, token) => tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
const q = (url) => `client_id=${encodeURIComponent(url)}`;

async function listed(service = 'demo') {
  const res = await admin(w.url, 'GET', `/services/${service}/metadata-clients`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function authorizePage(clientId) {
  const { challenge } = pkce();
  const res = await fetch(authorizeUrl(w.url, { clientId, challenge }), { redirect: 'manual' });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

before(async () => {
  docs = await startDocumentServer();
  w = await startWorker();
  await createUser(w.url, 'demo', 'alice');
  await createUser(w.url, 'demo', 'bob');
});

after(async () => {
  await w?.stop();
  await docs?.close();
});

describe('metadata-document clients in the admin API', () => {
  test('listed from live grants with host, name, users and times; stored clients are not', async () => {
    const url = serveClient('listed');
    const before = Date.now();
    await tokensFor(url, 'alice');
    const second = await tokensFor(url, 'bob');
    assert.equal((await refresh(url, second.refresh_token)).status, 200);
    const dcr = await registerClient(w.url);
    await createUser(w.url, 'demo', 'carol');
    const { code, verifier } = await (async () => {
      const { verifier, challenge } = pkce();
      const done = await signInAndConsent(authorizeUrl(w.url, { clientId: dcr.client_id, challenge }), { username: 'carol', password: PASSWORD });
      return { code: done.location.searchParams.get('code'), verifier };
    })();
    assert.equal((await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: dcr.client_id })).status, 200);

    const body = await listed();
    assert.equal(body.service, 'demo');
    assert.equal(body.truncated, false);
    assert.equal(body.listed_at_most, 200);
    assert.ok(!body.clients.some((c) => c.client_id === dcr.client_id), 'a registered client is listed under /clients, not here');
    const entry = body.clients.find((c) => c.client_id === url);
    assert.ok(entry, JSON.stringify(body));
    assert.equal(entry.host, '127.0.0.1');
    assert.equal(entry.client_name, 'Admin e2e listed');
    assert.deepEqual(entry.users.slice().sort(), ['alice', 'bob']);
    assert.equal(entry.user_count, 2);
    assert.equal(entry.grants, 2);
    assert.equal(entry.blocked, false);
    assert.ok(entry.first_seen_ms >= before - 5000 && entry.first_seen_ms <= Date.now(), `${entry.first_seen_ms}`);
    assert.ok(entry.last_used_ms >= entry.first_seen_ms);
  });

  test('DELETE ends refresh tokens and pending codes now and blocks the URL; allow lifts it', async () => {
    const url = serveClient('blocked');
    const other = serveClient('bystander');
    const tokens = await tokensFor(url);
    const bystander = await tokensFor(other);
    const pending = await codeFor(url);

    const del = await admin(w.url, 'DELETE', `/services/demo/metadata-clients?${q(url)}`);
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json, { service: 'demo', client_id: url, blocked: true });

    const refused = await refresh(url, tokens.refresh_token);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error, 'invalid_grant');
    const late = await tokenRequest(w.url, { grant_type: 'authorization_code', code: pending.code, code_verifier: pending.verifier, redirect_uri: REDIRECT, client_id: url });
    assert.equal(late.status, 400, late.text);
    assert.equal(late.json.error, 'invalid_grant');
    assert.match(late.json.error_description, /blocked on this service by its administrator/);

    const page = await authorizePage(url);
    assert.equal(page.status, 403, page.text);
    assert.equal(page.location, null, 'nothing is sent to the redirect URI');
    assert.match(page.text, /is blocked on this service by its administrator/);
    assert.ok(page.text.includes(url.replace(/&/g, '&amp;')), 'the page names the URL');

    assert.equal((await refresh(other, bystander.refresh_token)).status, 200, 'another client is untouched');
    const entry = (await listed()).clients.find((c) => c.client_id === url);
    assert.equal(entry.blocked, true);
    assert.equal(entry.grants, 0);
    assert.ok(entry.blocked_ms > 0);
    assert.equal((await listed()).clients[0].blocked, true, 'blocked clients come first');

    const allow = await admin(w.url, 'POST', `/services/demo/metadata-clients/allow?${q(url)}`);
    assert.equal(allow.status, 200, allow.text);
    assert.equal(allow.json.blocked, false);
    assert.equal((await authorizePage(url)).status, 200);
    const again = await tokensFor(url);
    assert.equal((await refresh(url, again.refresh_token)).status, 200);
    assert.equal((await listed()).clients.find((c) => c.client_id === url).blocked, false);

    const twice = await admin(w.url, 'POST', `/services/demo/metadata-clients/allow?${q(url)}`);
    assert.equal(twice.status, 404, twice.text);
    assert.match(twice.json.error_description, /is not blocked/);
  });

  test('bad client ids, unknown clients and services get a clear error', async () => {
    const cases = [
      ['DELETE', '/services/demo/metadata-clients', 400, /client_id is required/],
      ['DELETE', '/services/demo/metadata-clients?client_id=not-a-url', 400, /is not a metadata-document client/],
      ['DELETE', `/services/demo/metadata-clients?${q('https://127.0.0.1/x.json')}&${q('https://127.0.0.1/y.json')}`, 400, /client_id/],
      ['DELETE', `/services/demo/metadata-clients?${q('https://user:pw@app.example.com/c.json')}`, 400, /client_id /],
      ['DELETE', `/services/demo/metadata-clients?${q(`${docs.base}/never-seen.json`)}`, 404, /has no live grant/],
      ['POST', `/services/demo/metadata-clients/allow?${q(`${docs.base}/never-seen.json`)}`, 404, /is not blocked/],
      ['GET', '/services/nope/metadata-clients', 404, /no service named/],
      ['PUT', '/services/demo/metadata-clients', 405, /use GET or DELETE/],
    ];
    for (const [method, path, status, why] of cases) {
      const res = await admin(w.url, method, path);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      assert.match(res.json.error_description, why, `${method} ${path}`);
    }
    const anonymous = await fetch(`${w.url}/admin/services/demo/metadata-clients`);
    assert.equal(anonymous.status, 401);
  });
});
