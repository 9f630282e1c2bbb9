// Administrator-made OAuth pieces: users (create, reset password, disable, delete), a generated
// client id and secret per service (for ChatGPT or Cursor, where a person pastes them), and the
// custom login URL: a working example of a service's own login page (a small HTTP server) that
// verifies the signed request handle and answers with a signed assertion naming the user.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startWorker } from '../support/worker.mjs';
import { initializeParams, request, rpc } from '../support/mcp.mjs';
import { REDIRECT, admin, authorizeUrl, createUser, flowCookie, formFields, hs256, obtainCode, pkce, registerClient, tokenRequest, verifyHs256 } from '../support/oauth.mjs';

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

describe('users', () => {
  test('create, list (no password hashes), reset, disable, delete', async () => {
    const created = await admin(w.url, 'POST', '/services/demo/users', { username: 'Erin', password: 'first password' });
    assert.equal(created.status, 201);
    assert.equal(created.json.username, 'erin');
    assert.equal((await admin(w.url, 'POST', '/services/demo/users', { username: 'erin', password: 'first password' })).status, 409);
    assert.equal((await admin(w.url, 'POST', '/services/demo/users', { username: 'x', password: 'short' })).status, 400);
    const list = await admin(w.url, 'GET', '/services/demo/users');
    assert.ok(list.json.users.some((u) => u.username === 'erin'));
    assert.ok(!list.text.includes('pbkdf2'));
    const client = await registerClient(w.url);
    const code = await obtainCode(w, { client, username: 'erin', password: 'first password' });
    assert.ok(code.code);
    assert.equal((await admin(w.url, 'PATCH', '/services/demo/users/erin', { password: 'second password' })).status, 200);
    await assert.rejects(obtainCode(w, { client, username: 'erin', password: 'first password' }), /401/);
    assert.ok((await obtainCode(w, { client, username: 'erin', password: 'second password' })).code);
    assert.equal((await admin(w.url, 'DELETE', '/services/demo/users/erin')).status, 204);
    assert.equal((await admin(w.url, 'DELETE', '/services/demo/users/erin')).status, 404);
  });

  test('users belong to one service', async () => {
    await createUser(w.url, 'readonly', 'frank');
    const client = await registerClient(w.url);
    const { signInAndConsent, PASSWORD } = await import('../support/oauth.mjs');
    const atDemo = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge }), { username: 'frank', password: PASSWORD });
    assert.equal(atDemo.status, 401);
    const atReadonly = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge, resource: `${w.url}/mcp/readonly` }), { username: 'frank', password: PASSWORD });
    assert.equal(atReadonly.status, 302);
  });
});

describe('a generated client per service', () => {
  test('created with a secret shown once; works with Basic; limited to its service; deletable', async () => {
    const res = await admin(w.url, 'POST', '/services/demo/clients', { client_name: 'ChatGPT (pasted)', redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect', REDIRECT] });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const { client_id, client_secret } = res.json;
    assert.ok(client_id && client_secret);
    const listed = await admin(w.url, 'GET', '/services/demo/clients');
    assert.ok(listed.json.clients.some((c) => c.client_id === client_id));
    assert.ok(!listed.text.includes(client_secret));

    await createUser(w.url, 'demo', 'alice');
    const code = await obtainCode(w, { client: { client_id } });
    const token = await tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: REDIRECT }, { basic: [client_id, client_secret] });
    assert.equal(token.status, 200, token.text);
    assert.equal((await rpc(w.mcpUrl('demo'), token.json.access_token, request('initialize', initializeParams()))).status, 200);

    // Without a resource parameter the client's own service is assumed; another service is refused.
    const noResource = await fetch(authorizeUrl(w.url, { clientId: client_id, challenge: pkce().challenge, resource: null }), { redirect: 'manual' });
    assert.equal(noResource.status, 200);
    const other = await fetch(authorizeUrl(w.url, { clientId: client_id, challenge: pkce().challenge, resource: `${w.url}/mcp/readonly` }), { redirect: 'manual' });
    assert.equal(new URL(other.headers.get('location')).searchParams.get('error'), 'invalid_target');

    assert.equal((await admin(w.url, 'DELETE', `/services/demo/clients/${client_id}`)).status, 204);
    const after = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: token.json.refresh_token }, { basic: [client_id, client_secret] });
    assert.equal(after.status, 401);
    assert.equal(after.json.error, 'invalid_client');
  });
});

describe('custom login URL', () => {
  let server;
  let loginUrl;
  let secret;
  const seen = [];

  before(async () => {
    // The service's own login page: checks the handle, "signs in" the user named in ?user=, and
    // sends the browser back with an assertion. A real page would show its own form here.
    server = createServer((req, res) => {
      const url = new URL(req.url, 'http://localhost');
      const handle = url.searchParams.get('request');
      try {
        const payload = verifyHs256(handle, secret);
        seen.push(payload);
        const now = Math.floor(Date.now() / 1000);
        const user = url.searchParams.get('user') ?? 'grace';
        const assertion = hs256({ iss: payload.aud, aud: payload.iss, sub: user, request: payload.jti, iat: now, exp: now + 120 }, secret);
        const back = new URL(payload.return_to);
        back.searchParams.set('request', handle);
        back.searchParams.set('assertion', assertion);
        res.writeHead(302, { location: back.toString() }).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    loginUrl = `http://127.0.0.1:${server.address().port}/sso`;
    const set = await admin(w.url, 'PUT', '/services/readonly/login', { url: loginUrl });
    assert.equal(set.status, 200, set.text);
    secret = Buffer.from(set.json.secret, 'base64url');
  });
  after(() => server?.close());

  async function walk({ forgeWith } = {}) {
    const client = await registerClient(w.url);
    const { verifier, challenge } = pkce();
    const start = await fetch(authorizeUrl(w.url, { clientId: client.client_id, challenge, state: 'cs', resource: `${w.url}/mcp/readonly` }), { redirect: 'manual' });
    assert.equal(start.status, 302);
    const cookie = flowCookie(start);
    let atLogin = new URL(start.headers.get('location'));
    assert.equal(atLogin.origin + atLogin.pathname, loginUrl);
    if (forgeWith) atLogin.searchParams.set('user', 'mallory');
    const fromLogin = await fetch(atLogin, { redirect: 'manual' });
    let back = new URL(fromLogin.headers.get('location'));
    if (forgeWith) back.searchParams.set('assertion', hs256(forgeWith(back), Buffer.from('not the secret')));
    const consentPage = await fetch(back, { redirect: 'manual', headers: { cookie } });
    const html = await consentPage.text();
    return { client, verifier, cookie, consentPage, html, back };
  }

  test('the service page gets a signed handle and its assertion signs the user in', async () => {
    const { client, verifier, cookie, consentPage, html } = await walk();
    assert.equal(consentPage.status, 200, html);
    assert.match(html, /as <strong>grace<\/strong>/);
    const handle = seen.at(-1);
    assert.equal(handle.typ, 'dbmcp-login-request');
    assert.equal(handle.aud, 'readonly');
    assert.equal(handle.iss, w.url);
    assert.ok(handle.exp - handle.iat <= 600);
    const fields = formFields(html);
    const done = await fetch(`${w.url}/authorize/consent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ ...fields, decision: 'approve' }),
    });
    assert.equal(done.status, 302);
    const code = new URL(done.headers.get('location')).searchParams.get('code');
    const token = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.client_id });
    assert.equal(token.status, 200, token.text);
    assert.equal(JSON.parse(Buffer.from(token.json.access_token.split('.')[1], 'base64url')).sub, 'grace');
  });

  test('an assertion signed with another secret is refused', async () => {
    const { consentPage, html } = await walk({ forgeWith: () => ({ iss: 'readonly', aud: w.url, sub: 'mallory', request: seen.at(-1).jti, exp: Math.floor(Date.now() / 1000) + 60 }) });
    assert.equal(consentPage.status, 400);
    assert.match(html, /assertion is not valid/);
  });

  test('an assertion is used once, and only in the browser that started the sign-in', async () => {
    const { back, cookie } = await walk();
    const replay = await fetch(back, { redirect: 'manual', headers: { cookie } });
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /already used/);
    const { back: other } = await walk();
    const noCookie = await fetch(other, { redirect: 'manual' });
    assert.equal(noCookie.status, 403);
  });
});
