// OAuth negative paths, each asserting the exact error: codes, PKCE, redirect URIs, refresh
// rotation and reuse, concurrency, bad tokens at the MCP endpoint, deleted clients, /authorize
// errors (page vs redirect), client authentication, revocation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { startWorker } from '../support/worker.mjs';
import { initializeParams, request, rpc } from '../support/mcp.mjs';
import {
  REDIRECT, admin, authorizeUrl, b64url, createUser, decodeJwt, forgeJwt, obtainCode, obtainTokens, pkce, registerClient, tokenRequest,
} from '../support/oauth.mjs';

const V = '2025-06-18';
let w;

before(async () => {
  w = await startWorker();
  await createUser(w.url, 'demo', 'alice');
  await createUser(w.url, 'readonly', 'alice');
});

after(async () => {
  await w?.stop();
});

const exchange = (client, code, fields = {}) =>
  tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, client_id: client.client_id, ...fields });
const refresh = (client, token, fields = {}) => tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: token, client_id: client.client_id, ...fields });
const initialize = (token, service = 'demo') => rpc(w.mcpUrl(service), token, request('initialize', initializeParams(V)));

function assertOAuthError(res, status, error, description) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.error, error);
  if (description) assert.equal(res.json.error_description, description);
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

describe('authorization codes', () => {
  test('a wrong code_verifier: invalid_grant, and the code is burnt', async () => {
    const client = await registerClient(w.url);
    const code = await obtainCode(w, { client });
    const res = await exchange(client, code, { code_verifier: pkce().verifier });
    assertOAuthError(res, 400, 'invalid_grant', 'code_verifier does not match the code_challenge (PKCE S256)');
    assertOAuthError(await exchange(client, code), 400, 'invalid_grant', 'the authorization code was already used; the tokens issued from it are revoked');
  });

  test('a reused code: invalid_grant, and the refresh token issued from it is revoked', async () => {
    const client = await registerClient(w.url);
    const code = await obtainCode(w, { client });
    const first = await exchange(client, code);
    assert.equal(first.status, 200);
    assertOAuthError(await exchange(client, code), 400, 'invalid_grant', 'the authorization code was already used; the tokens issued from it are revoked');
    assertOAuthError(await refresh(client, first.json.refresh_token), 400, 'invalid_grant', 'the grant was revoked');
  });

  test('a mismatched redirect_uri: invalid_grant', async () => {
    const client = await registerClient(w.url, { redirect_uris: [REDIRECT, 'http://127.0.0.1:9999/other'] });
    const code = await obtainCode(w, { client });
    const res = await exchange(client, code, { redirect_uri: 'http://127.0.0.1:9999/other' });
    assertOAuthError(res, 400, 'invalid_grant', 'redirect_uri does not match the one of the authorization request');
  });

  test('a code redeemed by another client: invalid_grant', async () => {
    const client = await registerClient(w.url);
    const other = await registerClient(w.url);
    const code = await obtainCode(w, { client });
    assertOAuthError(await exchange(other, code), 400, 'invalid_grant', 'the authorization code was issued to another client');
  });

  test('a resource other than the authorized one: invalid_target', async () => {
    const client = await registerClient(w.url);
    const code = await obtainCode(w, { client });
    assertOAuthError(await exchange(client, code, { resource: `${w.url}/mcp/readonly` }), 400, 'invalid_target');
  });

  test('an unknown code, a missing verifier, an unknown grant type', async () => {
    const client = await registerClient(w.url);
    assertOAuthError(await exchange(client, { code: 'dbmcp_ac.demo.' + 'x'.repeat(43), verifier: pkce().verifier, redirectUri: REDIRECT }), 400, 'invalid_grant', 'the authorization code is unknown or expired');
    assertOAuthError(await tokenRequest(w.url, { grant_type: 'authorization_code', code: 'x', client_id: client.client_id }), 400, 'invalid_request', 'code_verifier is required');
    assertOAuthError(await tokenRequest(w.url, { grant_type: 'password', client_id: client.client_id }), 400, 'unsupported_grant_type');
  });
});

describe('refresh tokens', () => {
  test('each refresh token works once; reuse revokes the grant', async () => {
    const { client, tokens } = await obtainTokens(w);
    const second = await refresh(client, tokens.refresh_token);
    assert.equal(second.status, 200);
    assert.notEqual(second.json.refresh_token, tokens.refresh_token);
    assertOAuthError(await refresh(client, tokens.refresh_token), 400, 'invalid_grant', 'the refresh token was already used; the grant is revoked');
    assertOAuthError(await refresh(client, second.json.refresh_token), 400, 'invalid_grant', 'the grant was revoked');
  });

  test('100 concurrent refreshes of one token: exactly one succeeds', async () => {
    const { client, tokens } = await obtainTokens(w);
    const results = await Promise.all(Array.from({ length: 100 }, () => refresh(client, tokens.refresh_token)));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 400 && r.json.error === 'invalid_grant').length, 99);
  });

  test('a refresh may narrow the scope but not widen it', async () => {
    const { client, tokens } = await obtainTokens(w, { scope: 'mcp:read' });
    assertOAuthError(await refresh(client, tokens.refresh_token, { scope: 'mcp:write' }), 400, 'invalid_scope');
  });

  test('a refresh token of another client: invalid_grant', async () => {
    const { tokens } = await obtainTokens(w);
    const other = await registerClient(w.url);
    assertOAuthError(await refresh(other, tokens.refresh_token), 400, 'invalid_grant', 'the refresh token was issued to another client');
  });

  test('revocation (RFC 7009) of a refresh token ends the grant; unknown tokens get 200 too', async () => {
    const { client, tokens } = await obtainTokens(w);
    const revoke = (token) =>
      fetch(`${w.url}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: client.client_id }) });
    assert.equal((await revoke(tokens.refresh_token)).status, 200);
    assertOAuthError(await refresh(client, tokens.refresh_token), 400, 'invalid_grant', 'the grant was revoked');
    assert.equal((await revoke('nonsense')).status, 200);
    const second = await obtainTokens(w, { client });
    assert.equal((await revoke(second.tokens.access_token)).status, 200);
    assertOAuthError(await refresh(client, second.tokens.refresh_token), 400, 'invalid_grant', 'the grant was revoked');
  });
});

describe('access tokens at the MCP endpoint', () => {
  let good;
  before(async () => {
    good = (await obtainTokens(w, { scope: 'mcp:read' })).tokens.access_token;
  });

  async function assertInvalid(token, description, service = 'demo') {
    const res = await initialize(token, service);
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'invalid_token');
    assert.equal(res.json.error_description, description);
    assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
    assert.match(res.headers.get('www-authenticate'), /resource_metadata="/);
  }

  test('a good token works', async () => {
    assert.equal((await initialize(good)).status, 200);
  });

  test('an expired token: 401 invalid_token', async () => {
    const { payload } = decodeJwt(good);
    const now = Math.floor(Date.now() / 1000);
    await assertInvalid(forgeJwt({ ...payload, iat: now - 7200, exp: now - 3600 }), 'the access token has expired');
  });

  test('a token for another service: 401 invalid_token', async () => {
    const { tokens } = await obtainTokens(w, { service: 'readonly' });
    assert.equal((await initialize(tokens.access_token, 'readonly')).status, 200);
    await assertInvalid(tokens.access_token, `the access token is for ${w.url}/mcp/readonly, not this endpoint (${w.url}/mcp/demo)`);
  });

  test('a tampered token: 401 invalid_token', async () => {
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    payload.scope = 'mcp:read mcp:write';
    await assertInvalid(`${h}.${b64url(JSON.stringify(payload))}.${s}`, "the access token's signature is invalid");
  });

  test('alg none: 401 invalid_token', async () => {
    const [, p] = good.split('.');
    const header = b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    await assertInvalid(`${header}.${p}.`, 'access tokens are signed with EdDSA, not "none"');
    const hs = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    await assertInvalid(`${hs}.${p}.${b64url('x'.repeat(32))}`, 'access tokens are signed with EdDSA, not "HS256"');
  });

  // The signature is checked by the runtime's WebCrypto (not Rust): these attack that check.
  const withSignature = (token, bytes) => `${token.slice(0, token.lastIndexOf('.'))}.${b64url(bytes)}`;
  const signatureOf = (token) => Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');

  test('a signature altered by one bit: 401 invalid_token, every time, and the good token still works', async () => {
    const signature = signatureOf(good);
    assert.equal(signature.length, 64);
    // R's first bit, S's first bit, S's top bit (which also makes S non-canonical, >= the group order).
    for (const [byte, bit] of [[0, 0], [32, 0], [63, 7]]) {
      const altered = Buffer.from(signature);
      altered[byte] ^= 1 << bit;
      const token = withSignature(good, altered);
      await assertInvalid(token, "the access token's signature is invalid");
      // A refused token is not remembered as verified: refused again.
      await assertInvalid(token, "the access token's signature is invalid");
    }
    assert.equal((await initialize(good)).status, 200);
  });

  test('a token signed by another key under the same kid: 401 invalid_token', async () => {
    const { header, payload } = decodeJwt(good);
    const otherSeed = Buffer.alloc(32, 7);
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), otherSeed]);
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify({ ...payload, scope: 'mcp:read mcp:write' }))}`;
    assert.equal(header.kid, 'k1');
    await assertInvalid(`${input}.${b64url(sign(null, Buffer.from(input), key))}`, "the access token's signature is invalid");
  });

  test('a truncated signature, or one of the wrong length: 401 invalid_token', async () => {
    const signature = signatureOf(good);
    for (const bytes of [signature.subarray(0, 63), signature.subarray(0, 32), Buffer.alloc(0), Buffer.concat([signature, Buffer.from([0])]), Buffer.concat([signature, signature])]) {
      await assertInvalid(withSignature(good, bytes), "the access token's signature is invalid");
    }
    // Cut in the base64 text: 84 characters are 63 bytes; 85 are not whole bytes.
    await assertInvalid(good.slice(0, -2), "the access token's signature is invalid");
    await assertInvalid(good.slice(0, -1), 'the access token is not a well-formed JWT');
  });

  test('a genuine signature on expired claims: 401 invalid_token (the signature alone is not enough)', async () => {
    const { payload } = decodeJwt(good);
    const now = Math.floor(Date.now() / 1000);
    const expired = forgeJwt({ ...payload, iat: now - 3700, exp: now - 100 });
    await assertInvalid(expired, 'the access token has expired');
    // Within the 30 s clock leeway it is still accepted.
    assert.equal((await initialize(forgeJwt({ ...payload, iat: now - 3600, exp: now - 5 }))).status, 200);
  });

  test('another issuer, an unknown kid: 401 invalid_token', async () => {
    const { payload } = decodeJwt(good);
    await assertInvalid(forgeJwt({ ...payload, iss: 'https://evil.example' }), 'the access token was issued by another server');
    await assertInvalid(forgeJwt(payload, { kid: 'k9' }), 'the access token was signed with an unknown key');
  });
});

describe('clients', () => {
  test('an unknown client or a wrong secret at /token: 401 invalid_client', async () => {
    const res = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nosuchclient' });
    assertOAuthError(res, 401, 'invalid_client');
    assert.match(res.headers.get('www-authenticate'), /^Basic /);
    const confidential = await registerClient(w.url, { token_endpoint_auth_method: 'client_secret_basic' });
    assert.ok(confidential.client_secret);
    assertOAuthError(await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: 'x' }, { basic: [confidential.client_id, 'wrong'] }), 401, 'invalid_client');
    assertOAuthError(await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: 'x', client_id: confidential.client_id }), 401, 'invalid_client');
  });

  test('a confidential client authenticates with Basic or client_secret_post', async () => {
    const client = await registerClient(w.url, { token_endpoint_auth_method: 'client_secret_post' });
    const code = await obtainCode(w, { client });
    const res = await tokenRequest(w.url, { grant_type: 'authorization_code', code: code.code, code_verifier: code.verifier, redirect_uri: code.redirectUri, client_id: client.client_id, client_secret: client.client_secret });
    assert.equal(res.status, 200, res.text);
    const again = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: res.json.refresh_token }, { basic: [client.client_id, client.client_secret] });
    assert.equal(again.status, 200, again.text);
  });

  test('a deleted client: its refresh token stops at once (401 invalid_client), its page is an error', async () => {
    const { client, tokens } = await obtainTokens(w);
    const del = await admin(w.url, 'DELETE', `/clients/${client.client_id}`);
    assert.equal(del.status, 204);
    assertOAuthError(await refresh(client, tokens.refresh_token), 401, 'invalid_client', 'client authentication failed: unknown client or wrong secret');
    const page = await fetch(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge }), { redirect: 'manual' });
    assert.equal(page.status, 400);
    assert.match(await page.text(), /not registered here/);
  });
});

describe('/authorize errors', () => {
  let client;
  before(async () => {
    client = await registerClient(w.url);
  });
  const get = (options) => fetch(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge, state: 's1', ...options }), { redirect: 'manual' });

  test('an unregistered redirect_uri or unknown client shows a page and never redirects', async () => {
    for (const res of [await get({ redirectUri: 'https://evil.example/cb' }), await get({ clientId: 'nosuch' })]) {
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(res.headers.get('content-type'), /text\/html/);
      assert.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    }
  });

  test('other errors redirect with error, state and iss', async () => {
    for (const [options, error] of [
      [{ method: 'plain' }, 'invalid_request'],
      [{ extra: { code_challenge: null } }, 'invalid_request'],
      [{ extra: { response_type: 'token' } }, 'unsupported_response_type'],
      [{ resource: 'https://evil.example/mcp/demo' }, 'invalid_target'],
      [{ resource: `${w.url}/mcp/nosuch` }, 'invalid_target'],
      [{ resource: `${w.url}/mcp/open` }, 'invalid_target'],
    ]) {
      const res = await get(options);
      assert.equal(res.status, 302, JSON.stringify(options));
      const location = new URL(res.headers.get('location'));
      assert.equal(location.origin + location.pathname, REDIRECT);
      assert.equal(location.searchParams.get('error'), error, JSON.stringify(options));
      assert.equal(location.searchParams.get('state'), 's1');
      assert.equal(location.searchParams.get('iss'), w.url);
    }
  });

  test('loopback redirect URIs match on any port', async () => {
    const res = await get({ redirectUri: 'http://127.0.0.1:41234/callback' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie'), /^__Host-dbmcp_flow=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/);
  });

  test('denying consent redirects with access_denied', async () => {
    const { signInAndConsent } = await import('../support/oauth.mjs');
    const result = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge, state: 's2' }), { decision: 'deny' });
    assert.equal(result.status, 302);
    assert.equal(result.location.searchParams.get('error'), 'access_denied');
    assert.equal(result.location.searchParams.get('state'), 's2');
  });

  test('a wrong password re-shows the form (401); a disabled user cannot sign in and loses refresh at once', async () => {
    const { signInAndConsent } = await import('../support/oauth.mjs');
    const wrong = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge }), { password: 'not the password' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong username or password/);
    await createUser(w.url, 'demo', 'carol');
    const { tokens } = await obtainTokens(w, { client, username: 'carol' });
    assert.equal((await admin(w.url, 'PATCH', '/services/demo/users/carol', { disabled: true })).status, 200);
    assertOAuthError(await refresh(client, tokens.refresh_token), 400, 'invalid_grant', 'the grant was revoked');
    const blocked = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge }), { username: 'carol' });
    assert.equal(blocked.status, 401);
  });

  test('sign-in attempts are rate limited per username', async () => {
    const { signInAndConsent } = await import('../support/oauth.mjs');
    let last;
    for (let i = 0; i < 11; i += 1) {
      last = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge: pkce().challenge }), { username: 'mallory', password: 'guess number ' + i });
    }
    assert.equal(last.status, 429);
    assert.match(last.text, /Too many sign-in attempts/);
  });
});
