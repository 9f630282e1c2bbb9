// The operator console's session rules over raw HTTP: the signed `__Host-` cookie, the CSRF
// header, the Origin on changes, sign-out, token rotation, the sign-in limit and the page headers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, startWorker, tempDir } from '../support/worker.mjs';
import { COOKIE_NAME, consoleSignIn, forgeSession } from '../support/console.mjs';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

describe('operator console sessions', () => {
  let w;
  const persistDir = tempDir('dbmcp-console-');

  before(async () => {
    w = await startWorker({ persistDir });
  });
  after(async () => {
    await w?.stop();
  });

  const call = (path, { method = 'GET', cookie, csrf, origin, body, headers = {} } = {}) =>
    fetch(`${w.url}${path}`, {
      method,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
        ...(origin ? { origin } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });

  test('the page and its files carry a strict CSP and forbid framing', async () => {
    for (const [path, type] of [['/admin', 'text/html'], ['/admin/console.js', 'text/javascript'], ['/admin/console.css', 'text/css']]) {
      const res = await fetch(`${w.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get('content-type').startsWith(type), path);
      assert.equal(res.headers.get('content-security-policy'), CSP, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      const text = await res.text();
      if (path === '/admin') {
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.match(text, /<script src="\/admin\/console.js" defer><\/script>/);
        assert.doesNotMatch(text, /<script>|<style|style=/);
      }
    }
    // The admin API's own answers are hardened too.
    const api = await call('/admin/services');
    assert.equal(api.headers.get('x-frame-options'), 'DENY');
  });

  test('signing in sets a host-only, secure, strict cookie and hands out a CSRF token', async () => {
    const { res, setCookie, cookie, csrf, body } = await consoleSignIn(w.url);
    assert.equal(res.status, 200);
    assert.match(setCookie, new RegExp(`^${COOKIE_NAME}=[^;]+; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=1800$`));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.ok(csrf.length >= 40);
    assert.ok(body.expires_ms > Date.now() + 1790 * 1000);
    const services = await call('/admin/services', { cookie, csrf });
    assert.equal(services.status, 200);
    const { services: list } = await services.json();
    assert.deepEqual(list.map((s) => s.name), ['demo', 'open', 'readonly']);
    const readonly = list.find((s) => s.name === 'readonly');
    assert.deepEqual(
      { engine: readonly.engine, read_only: readonly.read_only, max_rows: readonly.max_rows, hidden: readonly.hidden_tables, auth: readonly.auth, url: readonly.mcp_endpoint },
      { engine: 'd1', read_only: true, max_rows: 25, hidden: ['big_numbers'], auth: 'required', url: `${w.url}/mcp/readonly` },
    );
    assert.equal(list.find((s) => s.name === 'open').auth, 'none');
  });

  test('a wrong token is refused, and a wrong Origin cannot sign in', async () => {
    const wrong = await consoleSignIn(w.url, { token: 'not-the-token', address: '198.51.100.20' });
    assert.equal(wrong.res.status, 401);
    assert.equal(wrong.setCookie, null);
    const foreign = await consoleSignIn(w.url, { origin: 'https://allowed.example.com', address: '198.51.100.21' });
    assert.equal(foreign.res.status, 403);
    assert.equal(foreign.setCookie, null);
    const junk = await fetch(`${w.url}/admin/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'token=x' });
    assert.equal(junk.status, 400);
  });

  test('no cookie, a forged cookie or a tampered one gets 401', async () => {
    assert.equal((await call('/admin/services')).status, 401);
    const { cookie, csrf } = await consoleSignIn(w.url);
    const value = cookie.split('=')[1];
    const [id, expires, tag] = value.split('.');
    const tampered = [
      `${COOKIE_NAME}=${id}.${Number(expires) + 3600_000}.${tag}`, // a longer life with the old MAC
      `${COOKIE_NAME}=${id}x.${expires}.${tag}`,
      `${COOKIE_NAME}=${id}.${expires}.${tag.slice(0, -2)}AA`,
      `${COOKIE_NAME}=garbage`,
      `${COOKIE_NAME}=${forgeSession('abc', Date.now() + 600_000, 'a-guessed-admin-token').value}`,
    ];
    for (const bad of tampered) {
      const res = await call('/admin/services', { cookie: bad, csrf });
      assert.equal(res.status, 401, bad);
      assert.equal((await res.json()).error, 'console_session_ended');
    }
    // Signed with the real token but expired (the browser would have dropped it; the server checks too).
    const expired = forgeSession('old-session', Date.now() - 1000);
    assert.equal((await call('/admin/services', { cookie: `${COOKIE_NAME}=${expired.value}`, csrf: expired.csrf })).status, 401);
  });

  test('a cookie without the matching CSRF header gets 403', async () => {
    const { cookie } = await consoleSignIn(w.url);
    const other = await consoleSignIn(w.url);
    assert.equal((await call('/admin/services', { cookie })).status, 403);
    const res = await call('/admin/services/demo/keys', { cookie, csrf: other.csrf });
    assert.equal(res.status, 403, 'another session\'s CSRF token');
    assert.equal((await res.json()).error, 'csrf_failed');
    const write = await call('/admin/services/demo/keys', { method: 'POST', cookie, origin: w.url, body: { label: 'x' } });
    assert.equal(write.status, 403);
  });

  test('changes with the cookie need the worker\'s own Origin', async () => {
    const { cookie, csrf } = await consoleSignIn(w.url);
    // An origin the CORS rules allow (ALLOWED_ORIGINS) is still not the console's.
    const foreign = await call('/admin/services/demo/keys', { method: 'POST', cookie, csrf, origin: 'https://allowed.example.com', body: { label: 'x' } });
    assert.equal(foreign.status, 403);
    assert.equal((await foreign.json()).error, 'forbidden_origin');
    const none = await call('/admin/services/demo/keys', { method: 'POST', cookie, csrf, body: { label: 'x' } });
    assert.equal(none.status, 403);
    const listed = await (await call('/admin/services/demo/keys', { cookie, csrf })).json();
    assert.equal(listed.keys.filter((k) => k.label === 'x').length, 0, 'nothing was created');
    const ok = await call('/admin/services/demo/keys', { method: 'POST', cookie, csrf, origin: w.url, body: { label: 'made by cookie' } });
    assert.equal(ok.status, 201);
    const gone = await call(`/admin/services/demo/keys/${(await ok.json()).id}`, { method: 'DELETE', cookie, csrf, origin: w.url });
    assert.equal(gone.status, 204);
  });

  test('the Bearer token works as before and wins over a cookie', async () => {
    const bearer = await call('/admin/services', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(bearer.status, 200);
    const { cookie, csrf } = await consoleSignIn(w.url);
    const wrongBearer = await call('/admin/services', { cookie, csrf, headers: { authorization: 'Bearer wrong' } });
    assert.equal(wrongBearer.status, 401);
  });

  test('a signed-out session is dead even if its cookie is replayed', async () => {
    const { cookie, csrf } = await consoleSignIn(w.url);
    assert.equal((await call('/admin/services', { cookie, csrf })).status, 200);
    const out = await call('/admin/session', { method: 'DELETE', cookie, csrf, origin: w.url });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie'), new RegExp(`^${COOKIE_NAME}=; .*Max-Age=0`));
    const replay = await call('/admin/services', { cookie, csrf });
    assert.equal(replay.status, 401);
    assert.match((await replay.json()).error_description, /signed out/);
    // Signing out needs the CSRF header too (no forced sign-out from another page).
    const other = await consoleSignIn(w.url);
    assert.equal((await call('/admin/session', { method: 'DELETE', cookie: other.cookie, origin: w.url })).status, 403);
    assert.equal((await call('/admin/services', { cookie: other.cookie, csrf: other.csrf })).status, 200);
  });

  test('GET /admin/session gives a live session its CSRF token back (a reload), and nothing else', async () => {
    const { cookie, csrf } = await consoleSignIn(w.url);
    const resumed = await call('/admin/session', { cookie, headers: { 'sec-fetch-site': 'same-origin' } });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.headers.get('cache-control'), 'no-store');
    assert.equal((await resumed.json()).csrf_token, csrf);
    assert.equal((await call('/admin/session')).status, 401, 'no cookie');
    const forged = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await call('/admin/session', { cookie: forged })).status, 401, 'tampered cookie');
    const crossSite = await call('/admin/session', { cookie, headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(crossSite.status, 403, 'another site starting the fetch');
    assert.equal((await call('/admin/session', { method: 'DELETE', cookie, csrf, origin: w.url })).status, 204);
    const after = await call('/admin/session', { cookie });
    assert.equal(after.status, 401, 'a signed-out session is not resumed');
    assert.match((await after.json()).error_description, /signed out/);
  });

  test('sign-in attempts are limited per address, before the token is compared', async () => {
    const address = '192.0.2.77';
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await consoleSignIn(w.url, { token: `guess-${i}`, address })).res.status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    const right = await consoleSignIn(w.url, { address });
    assert.equal(right.res.status, 429, 'the right token is not even compared once the limit is reached');
    assert.ok(Number(right.res.headers.get('retry-after')) > 0);
    assert.equal(right.setCookie, null);
    assert.equal((await consoleSignIn(w.url, { address: '192.0.2.78' })).res.status, 200, 'another address still signs in');
  });

  test('rotating ADMIN_TOKEN ends every console session', async () => {
    const { cookie, csrf } = await consoleSignIn(w.url);
    assert.equal((await call('/admin/services', { cookie, csrf })).status, 200);
    await w.stop();
    w = await startWorker({ persistDir, adminToken: 'a-rotated-admin-token-9876543210' });
    const old = await call('/admin/services', { cookie, csrf });
    assert.equal(old.status, 401);
    assert.equal((await consoleSignIn(w.url)).res.status, 401, 'the old token no longer signs in');
    const fresh = await consoleSignIn(w.url, { token: 'a-rotated-admin-token-9876543210' });
    assert.equal(fresh.res.status, 200);
    assert.equal((await call('/admin/services', { cookie: fresh.cookie, csrf: fresh.csrf })).status, 200);
  });
});
