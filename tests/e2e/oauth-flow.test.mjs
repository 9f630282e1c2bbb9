// OAuth 2.1 end to end: discovery documents, the 401 challenge, the official TypeScript SDK's
// OAuth client (discovery, DCR, authorize with the sign-in form, token, MCP calls, refresh),
// scopes (tools/list and the 403 step-up challenge), sessions bound to user and client, CORS.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { OAUTH_SIGNING_KEY, startWorker } from '../support/worker.mjs';
import { initializeParams, openSession, request, rpc } from '../support/mcp.mjs';
import { MemoryOAuthProvider, createUser, decodeJwt, obtainTokens, registerClient, signInAndConsent, tokenRequest } from '../support/oauth.mjs';

const V = '2025-06-18';
let w;

before(async () => {
  w = await startWorker();
  await createUser(w.url, 'demo', 'alice');
  await createUser(w.url, 'demo', 'bob');
});

after(async () => {
  await w?.stop();
});

describe('discovery', () => {
  test('protected resource metadata per service (RFC 9728)', async () => {
    const res = await fetch(`${w.url}/.well-known/oauth-protected-resource/mcp/demo`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      resource: `${w.url}/mcp/demo`,
      authorization_servers: [w.url],
      scopes_supported: ['mcp:read', 'mcp:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'Demo store',
    });
    assert.equal((await fetch(`${w.url}/.well-known/oauth-protected-resource/mcp/nosuch`)).status, 404);
    assert.equal((await fetch(`${w.url}/.well-known/oauth-protected-resource/mcp/open`)).status, 404, 'open services need no OAuth');
  });

  test('authorization server metadata (RFC 8414), issuer identical to the PRM', async () => {
    const res = await fetch(`${w.url}/.well-known/oauth-authorization-server`);
    assert.equal(res.status, 200);
    const m = await res.json();
    assert.equal(m.issuer, w.url);
    assert.equal(m.authorization_endpoint, `${w.url}/authorize`);
    assert.equal(m.token_endpoint, `${w.url}/token`);
    assert.equal(m.registration_endpoint, `${w.url}/register`);
    assert.equal(m.revocation_endpoint, `${w.url}/revoke`);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.grant_types_supported, ['authorization_code', 'refresh_token']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none', 'client_secret_post', 'client_secret_basic']);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    const jwks = await (await fetch(m.jwks_uri)).json();
    assert.equal(jwks.keys[0].kid, 'k1');
    assert.equal(jwks.keys[0].crv, 'Ed25519');
  });

  test('openid-configuration and the bare PRM answer 404 with pointers', async () => {
    const oidc = await fetch(`${w.url}/.well-known/openid-configuration`);
    assert.equal(oidc.status, 404);
    assert.equal((await oidc.json()).authorization_server_metadata, `${w.url}/.well-known/oauth-authorization-server`);
    const bare = await fetch(`${w.url}/.well-known/oauth-protected-resource`);
    assert.equal(bare.status, 404);
    assert.ok((await bare.json()).resource_metadata.includes(`${w.url}/.well-known/oauth-protected-resource/mcp/demo`));
  });

  test('a 401 names the resource metadata and the scopes', async () => {
    const res = await rpc(w.mcpUrl('demo'), null, request('initialize', initializeParams(V)));
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer resource_metadata="${w.url}/.well-known/oauth-protected-resource/mcp/demo", scope="mcp:read mcp:write"`,
    );
    const bad = await rpc(w.mcpUrl('demo'), 'eyJhbGciOiJFZERTQSJ9.e30.c2ln', request('initialize', initializeParams(V)));
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /^Bearer resource_metadata="[^"]+", scope="mcp:read mcp:write", error="invalid_token", error_description="/);
  });

  test('CORS for any origin on /.well-known/*, /register and /token, errors and preflight included', async () => {
    const origin = { origin: 'http://localhost:6274' };
    for (const [path, init] of [
      ['/.well-known/oauth-authorization-server', {}],
      ['/.well-known/oauth-protected-resource/mcp/demo', {}],
      ['/.well-known/oauth-protected-resource/mcp/nosuch', {}],
      ['/register', { method: 'POST', body: '{}' }],
      ['/token', { method: 'POST', body: 'grant_type=nope' }],
    ]) {
      const res = await fetch(`${w.url}${path}`, { ...init, headers: { ...origin, 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.headers.get('access-control-allow-origin'), '*', path);
    }
    const pre = await fetch(`${w.url}/token`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-headers'), /MCP-Protocol-Version/);
  });
});

describe('the TypeScript SDK OAuth client', () => {
  test('discovery, DCR, sign-in, token, MCP calls, refresh', async () => {
    const provider = new MemoryOAuthProvider();
    const url = new URL(w.mcpUrl('demo'));
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await assert.rejects(new Client({ name: 'sdk-oauth', version: '1.0.0' }).connect(first), UnauthorizedError);
    assert.ok(provider.client?.client_id, 'registered dynamically');
    const authUrl = provider.authorizationUrl;
    assert.equal(authUrl.origin + authUrl.pathname, `${w.url}/authorize`);
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUrl.searchParams.get('resource'), `${w.url}/mcp/demo`);

    const walked = await signInAndConsent(authUrl.toString(), { username: 'alice' });
    assert.equal(walked.status, 302);
    assert.match(walked.consentHtml, /dbmcp SDK e2e/, 'the consent page names the client');
    assert.match(walked.consentHtml, /127\.0\.0\.1/, 'and where the code goes');
    assert.equal(walked.location.searchParams.get('iss'), w.url);
    await first.finishAuth(walked.location.searchParams.get('code'));
    assert.ok(provider.savedTokens.access_token);
    assert.ok(provider.savedTokens.refresh_token);
    const claims = decodeJwt(provider.savedTokens.access_token);
    assert.equal(claims.header.alg, 'EdDSA');
    assert.equal(claims.header.kid, 'k1');
    assert.equal(claims.payload.iss, w.url);
    assert.equal(claims.payload.aud, `${w.url}/mcp/demo`);
    assert.equal(claims.payload.sub, 'alice');
    assert.equal(claims.payload.client_id, provider.client.client_id);
    assert.ok(claims.payload.exp - claims.payload.iat <= 3600);

    const client = new Client({ name: 'sdk-oauth', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'create_records'), 'the SDK asked for every scope, write included');
    const tables = await client.callTool({ name: 'get_tables', arguments: {} });
    assert.equal(tables.isError, false);
    const created = await client.callTool({ name: 'create_records', arguments: { table: 'categories', records: [{ name: 'oauth-made' }] } });
    assert.equal(created.isError, false, JSON.stringify(created));

    // Make the access token unusable: the SDK refreshes (rotating the refresh token) and retries.
    const oldRefresh = provider.savedTokens.refresh_token;
    provider.savedTokens = { ...provider.savedTokens, access_token: provider.savedTokens.access_token.slice(0, -4) + 'AAAA' };
    const again = await client.callTool({ name: 'get_tables', arguments: {} });
    assert.equal(again.isError, false);
    assert.notEqual(provider.savedTokens.refresh_token, oldRefresh, 'the refresh token rotated');
    await client.close();
  });
});

describe('scopes and sessions', () => {
  test('a read-only token lists only read tools and gets 403 insufficient_scope for a write tool', async () => {
    const { tokens } = await obtainTokens(w, { scope: 'mcp:read' });
    assert.equal(tokens.scope, 'mcp:read');
    const url = w.mcpUrl('demo');
    const { sessionId } = await openSession(url, tokens.access_token, V);
    const list = await rpc(url, tokens.access_token, request('tools/list'), { sessionId, protocolVersion: V });
    const names = list.json.result.tools.map((t) => t.name);
    assert.ok(names.includes('get_table_data'));
    for (const name of ['create_records', 'update_records', 'delete_records']) assert.ok(!names.includes(name), name);
    const call = await rpc(url, tokens.access_token, request('tools/call', { name: 'create_records', arguments: { table: 'categories', records: [{ name: 'x' }] } }), { sessionId, protocolVersion: V });
    assert.equal(call.status, 403);
    assert.equal(
      call.headers.get('www-authenticate').split(', error_description')[0],
      `Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="${w.url}/.well-known/oauth-protected-resource/mcp/demo"`,
    );
    assert.equal(call.json.error, 'insufficient_scope');
  });

  test('unknown scopes are dropped; none means read', async () => {
    const { tokens } = await obtainTokens(w, { scope: 'claudeai openid' });
    assert.equal(tokens.scope, 'mcp:read');
    const { tokens: plain } = await obtainTokens(w, {});
    assert.equal(plain.scope, 'mcp:read');
  });

  test('a session is bound to the user and the client that opened it', async () => {
    const alice = await obtainTokens(w, { scope: 'mcp:read', username: 'alice' });
    const bob = await obtainTokens(w, { scope: 'mcp:read', username: 'bob', client: alice.client });
    const aliceOther = await obtainTokens(w, { scope: 'mcp:read', username: 'alice' });
    const url = w.mcpUrl('demo');
    const { sessionId } = await openSession(url, alice.tokens.access_token, V);
    const mine = await rpc(url, alice.tokens.access_token, request('ping'), { sessionId, protocolVersion: V });
    assert.equal(mine.status, 200);
    for (const other of [bob.tokens.access_token, aliceOther.tokens.access_token]) {
      const res = await rpc(url, other, request('ping'), { sessionId, protocolVersion: V });
      assert.equal(res.status, 404);
    }
  });

  test('token responses are JSON with Cache-Control: no-store', async () => {
    const { client, tokens } = await obtainTokens(w, {});
    const res = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(res.json.token_type, 'Bearer');
    assert.equal(res.json.expires_in, 3600);
  });

  test('the runtime signs byte for byte what Ed25519 elsewhere signs (RFC 8032 is deterministic)', async () => {
    const { tokens } = await obtainTokens(w, {});
    const seed = Buffer.from(OAUTH_SIGNING_KEY.split(':')[1], 'base64url');
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const input = tokens.access_token.slice(0, tokens.access_token.lastIndexOf('.'));
    const signature = tokens.access_token.slice(input.length + 1);
    assert.equal(signature, sign(null, Buffer.from(input), key).toString('base64url'), 'Node (OpenSSL) makes the same signature');
    const jwks = await (await fetch(`${w.url}/.well-known/jwks.json`)).json();
    assert.equal(jwks.keys[0].x, createPublicKey(key).export({ format: 'jwk' }).x, 'the published public key is the seed\'s');
    assert.equal(Object.keys(jwks.keys[0]).includes('d'), false, 'no private part is published');
  });

  test('API keys keep working beside OAuth', async () => {
    const { createKey } = await import('../support/worker.mjs');
    const { key } = await createKey(w.url, 'demo', { label: 'beside oauth' });
    const { sessionId } = await openSession(w.mcpUrl('demo'), key, V);
    assert.ok(sessionId);
  });
});
