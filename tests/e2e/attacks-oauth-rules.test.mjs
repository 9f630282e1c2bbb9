// Attacks on the authorization server's rules (issue 7, items 1, 6, 7, 8 and 10), each against
// the built worker in Miniflare: redirect URIs decided on the browser's parse (loopback, IDN,
// backslashes), registration field caps, the WWW-Authenticate challenges, and PUBLIC_ORIGIN
// pinning every URL and token against a foreign Host header.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startWorker } from '../support/worker.mjs';
import { initializeParams, openSession, readNodeResponse, request, rpc } from '../support/mcp.mjs';
import {
  PASSWORD,
  admin,
  authorizeUrl,
  createUser,
  decodeJwt,
  forgeJwt,
  obtainTokens,
  pkce,
  register,
  registerClient,
  signInAndConsent,
  tokenRequest,
} from '../support/oauth.mjs';

const V = '2025-06-18';

/**
 * A strict RFC 9110 (11.6.1) reader of one challenge whose parameters are all quoted-strings:
 * `scheme name="value", name="value"`. Throws on anything malformed; returns {scheme, params}.
 */
function parseChallenge(header) {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: (.*))?$/.exec(header);
  if (!m) throw new Error(`no auth scheme in ${JSON.stringify(header)}`);
  const params = {};
  let rest = m[2] ?? '';
  while (rest.length > 0) {
    const name = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)="/.exec(rest);
    if (!name) throw new Error(`expected name="..." at ${JSON.stringify(rest)}`);
    let i = name[0].length;
    let value = '';
    for (;;) {
      if (i >= rest.length) throw new Error(`unterminated quoted-string in ${JSON.stringify(header)}`);
      const c = rest[i];
      if (c === '"') break;
      if (c === '\\') {
        i += 1;
        if (i >= rest.length) throw new Error('dangling backslash');
        value += rest[i];
      } else if (c === '\t' || (c >= ' ' && c <= '~')) {
        value += c;
      } else {
        throw new Error(`${JSON.stringify(c)} is not allowed in a quoted-string`);
      }
      i += 1;
    }
    if (name[1] in params) throw new Error(`parameter ${name[1]} given twice`);
    params[name[1]] = value;
    rest = rest.slice(i + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(', ')) throw new Error(`expected ", " before ${JSON.stringify(rest)}`);
      rest = rest.slice(2);
    }
  }
  return { scheme: m[1], params };
}

/** Every key in the worker's KV namespace. */
async function kvKeys(w) {
  const kv = await w.mf.getKVNamespace('DBMCP_KV');
  const keys = [];
  let cursor;
  do {
    const page = await kv.list({ cursor });
    keys.push(...page.keys.map((k) => k.name));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

/** A GET/POST through node:http, so the Host header is exactly what the test says. */
function rawRequest(url, { method = 'GET', host, headers = {}, body } = {}) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers: { ...headers, ...(host ? { host } : {}) } },
      (res) => readNodeResponse(res).then(resolve),
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Walks /authorize -> sign-in -> consent (deny) and returns the consent page's HTML. */
async function consentPageFor(w, client, redirectUri) {
  const { challenge } = pkce();
  const result = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, redirectUri, challenge }), { decision: 'deny' });
  assert.ok(result.consentHtml, `no consent page: ${result.status} ${result.text}`);
  return { html: result.consentHtml, location: result.location };
}

const shownHost = (html) => /<strong id="redirect-host">([^<]*)<\/strong>/.exec(html)?.[1];

describe('attacks on the OAuth rules', () => {
  let w;

  before(async () => {
    w = await startWorker();
    await createUser(w.url, 'demo', 'alice');
  });

  after(async () => {
    await w?.stop();
  });

  describe('item 1: loopback is decided on the parsed URL', () => {
    const notLoopback = [
      'http://127.0.attacker.com:4444/cb',
      'http://127.0.0.attacker/cb',
      'http://localhost.attacker.com/cb',
      'http://127.0.0.1.attacker.com/cb',
      'http://[::ffff:7f00:1]/cb',
    ];
    for (const uri of notLoopback) {
      test(`registering ${uri} is refused`, async () => {
        const res = await register(w.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.json.error, 'invalid_redirect_uri');
        assert.match(res.json.error_description, /may use http only on a loopback host/);
      });
    }

    test('hosts a browser reads as 127.0.0.1 must be written as 127.0.0.1', async () => {
      for (const uri of ['http://0x7f000001/cb', 'http://127.1/cb', 'http://2130706433/cb']) {
        const res = await register(w.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
        assert.equal(res.status, 400, `${uri}: ${res.text}`);
        assert.match(res.json.error_description, /must write its host as browsers read it: "127\.0\.0\.1"/);
      }
    });

    test('real loopback forms still register, on any port', async () => {
      const client = await registerClient(w.url, { redirect_uris: ['http://127.0.0.1/cb', 'http://127.10.20.30:5000/cb', 'http://[::1]/cb', 'http://localhost/cb'] });
      const { challenge } = pkce();
      const first = await fetch(authorizeUrl(w.url, { clientId: client.client_id, redirectUri: 'http://127.0.0.1:61234/cb', challenge }), { redirect: 'manual' });
      assert.equal(first.status, 200, 'a loopback redirect URI matches on any port');
    });

    test('the custom login URL check refuses a look-alike loopback host', async () => {
      const res = await admin(w.url, 'PUT', '/services/demo/login', { url: 'http://127.0.attacker.com:4444/login' });
      assert.equal(res.status, 400, res.text);
      assert.match(res.json.error_description, /loopback/);
      const after = await admin(w.url, 'GET', '/services/demo/login');
      assert.equal(after.json.url, null, 'nothing was stored');
    });

    test('a client stored under the old rules cannot use its look-alike loopback URI', async () => {
      // What a registration accepted before the fix left in KV.
      const kv = await w.mf.getKVNamespace('DBMCP_KV');
      const record = {
        client_id: 'stale-client-0000000000000', client_name: 'stale', redirect_uris: ['http://127.0.attacker.com/cb'],
        grant_types: ['authorization_code'], token_endpoint_auth_method: 'none', secret_hash: null, created_ms: 1, dynamic: true,
      };
      await kv.put(`oauth_client:${record.client_id}`, JSON.stringify(record));
      const { challenge } = pkce();
      for (const redirectUri of ['http://127.0.attacker.com/cb', 'http://127.0.attacker.com:4444/cb', null]) {
        const url = authorizeUrl(w.url, { clientId: record.client_id, redirectUri: redirectUri ?? '', challenge, extra: redirectUri ? {} : { redirect_uri: null } });
        const res = await fetch(url, { redirect: 'manual' });
        assert.equal(res.status, 400, `${redirectUri}: no redirect to the attacker`);
        assert.equal(res.headers.get('location'), null);
      }
    });
  });

  describe('item 8: the consent page shows the host the browser visits', () => {
    const refused = [
      ['https://аррӏе.com/cb', /printable ASCII.*punycode/],
      ['https://evil.example\\claude.ai/cb', /backslash/],
      ['https://claude.ai\\@evil.example/cb', /backslash/],
      ['https://evil%2Eexample/cb', /as browsers read it: "evil\.example"/],
      ['https://claude.ai\t.evil.example/cb', /printable ASCII/],
      ['https:evil.example/cb', /needs a host/],
      ['https:\\\\evil.example/cb', /backslash/],
      ['wss://evil.example/cb', /must not use the wss: scheme/],
    ];
    for (const [uri, why] of refused) {
      test(`registering ${JSON.stringify(uri)} is refused`, async () => {
        const res = await register(w.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.json.error, 'invalid_redirect_uri');
        assert.match(res.json.error_description, why);
      });
      test(`an administrator cannot create a client for ${JSON.stringify(uri)}`, async () => {
        const res = await admin(w.url, 'POST', '/services/demo/clients', { client_name: 'x', redirect_uris: [uri], public: true });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.json.error, 'invalid_redirect_uri');
      });
    }

    test('a client name with a bidirectional override (reorders the consent text) is refused', async () => {
      const res = await register(w.url, { redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none', client_name: 'Claude\u202Emoc.live' });
      assert.equal(res.status, 400);
      assert.equal(res.json.error_description, 'client_name must not contain bidirectional formatting characters');
    });

    test('an IDN host registered in punycode is shown in punycode, as the browser will visit it', async () => {
      const uri = 'https://xn--80ak6aa92e.com/cb';
      const client = await registerClient(w.url, { redirect_uris: [uri] });
      const { html, location } = await consentPageFor(w, client, uri);
      assert.equal(shownHost(html), 'xn--80ak6aa92e.com');
      // What a WHATWG parser (Node's URL, as Chromium) visits is what the page showed.
      assert.equal(location.hostname, shownHost(html));
      assert.equal(new URL(uri).hostname, shownHost(html));
    });

    test('a stored URI with a backslash (old rules) is never used', async () => {
      const kv = await w.mf.getKVNamespace('DBMCP_KV');
      const uri = 'https://evil.example\\claude.ai/cb';
      const record = {
        client_id: 'stale-client-backslash-000', client_name: 'stale', redirect_uris: [uri], grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none', secret_hash: null, created_ms: 1, dynamic: true,
      };
      await kv.put(`oauth_client:${record.client_id}`, JSON.stringify(record));
      const { challenge } = pkce();
      const res = await fetch(authorizeUrl(w.url, { clientId: record.client_id, redirectUri: uri, challenge }), { redirect: 'manual' });
      assert.equal(res.status, 400);
      assert.doesNotMatch(await res.text(), /name="password"/, 'no sign-in form that would lead to a consent page');
    });
  });

  describe('item 6: registration fields are capped', () => {
    const base = { redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none' };

    test('40,000 grant_types are refused and nothing is stored', async () => {
      const before = (await kvKeys(w)).length;
      const grant_types = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? 'refresh_token' : 'authorization_code'));
      const res = await register(w.url, { ...base, grant_types });
      assert.equal(res.status, 400, res.text.slice(0, 200));
      assert.equal(res.json.error, 'invalid_client_metadata');
      assert.equal(res.json.error_description, 'at most 10 grant_types');
      assert.equal((await kvKeys(w)).length, before);
    });

    test('the same body sent chunked (no Content-Length) is refused the same way', async () => {
      const grant_types = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? 'refresh_token' : 'authorization_code'));
      const bytes = new TextEncoder().encode(JSON.stringify({ ...base, grant_types }));
      const body = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
          controller.close();
        },
      });
      const res = await fetch(`${w.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' });
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error_description, 'at most 10 grant_types');
    });

    test('repeated known values are stored once, in one order', async () => {
      const res = await register(w.url, {
        ...base,
        redirect_uris: ['https://app.example.com/a', 'https://app.example.com/b', 'https://app.example.com/a'],
        grant_types: ['refresh_token', 'authorization_code', 'refresh_token', 'authorization_code'],
        response_types: ['code', 'code'],
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.json.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(res.json.redirect_uris, ['https://app.example.com/a', 'https://app.example.com/b']);
      const kv = await w.mf.getKVNamespace('DBMCP_KV');
      const stored = JSON.parse(await kv.get(`oauth_client:${res.json.client_id}`));
      assert.deepEqual(stored.grant_types, ['authorization_code', 'refresh_token']);
      assert.equal(stored.redirect_uris.length, 2);
    });

    const capped = [
      ['a 5,000-character scope', { scope: 'x '.repeat(2500) }, 'scope is limited to 1000 characters'],
      ['11 response_types', { response_types: Array(11).fill('code') }, 'at most 10 response_types'],
      ['a 2,000-character grant type', { grant_types: ['a'.repeat(2000)] }, 'each entry of grant_types is limited to 1000 characters'],
      ['a 100 KB auth method', { token_endpoint_auth_method: 'm'.repeat(100_000) }, 'token_endpoint_auth_method is limited to 1000 characters'],
    ];
    for (const [name, extra, description] of capped) {
      test(`${name} is refused`, async () => {
        const res = await register(w.url, { ...base, ...extra });
        assert.equal(res.status, 400);
        assert.equal(res.json.error_description, description);
      });
    }

    test('the stored record as a whole is capped, for /register and for administrators', async () => {
      const uris = Array.from({ length: 20 }, (_, i) => `https://app.example.com/${i}/${'p'.repeat(1890)}`);
      const before = (await kvKeys(w)).length;
      const res = await register(w.url, { ...base, redirect_uris: uris });
      assert.equal(res.status, 400);
      assert.match(res.json.error_description, /^the registration is too large to store \(\d+ bytes, at most 16384\)/);
      const byAdmin = await admin(w.url, 'POST', '/services/demo/clients', { client_name: 'big', redirect_uris: uris });
      assert.equal(byAdmin.status, 400);
      assert.match(byAdmin.json.error_description, /too large to store/);
      assert.equal((await kvKeys(w)).length, before, 'nothing was stored');
    });

    test('an administrator-created client stores each redirect URI once', async () => {
      const res = await admin(w.url, 'POST', '/services/demo/clients', {
        client_name: 'dup', redirect_uris: ['https://app.example.com/cb', 'https://app.example.com/cb'], public: true,
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.json.redirect_uris, ['https://app.example.com/cb']);
    });
  });

  describe('item 7: every WWW-Authenticate value parses as RFC 9110 quoted-strings', () => {
    test('the 403 insufficient_scope challenge', async () => {
      const { tokens } = await obtainTokens(w, { scope: 'mcp:read' });
      const { sessionId } = await openSession(w.mcpUrl('demo'), tokens.access_token, V);
      const res = await rpc(w.mcpUrl('demo'), tokens.access_token, request('tools/call', { name: 'create_records', arguments: { table: 'categories', records: [{ name: 'x' }] } }), { sessionId, protocolVersion: V });
      assert.equal(res.status, 403);
      const { scheme, params } = parseChallenge(res.headers.get('www-authenticate'));
      assert.equal(scheme, 'Bearer');
      assert.equal(params.error, 'insufficient_scope');
      assert.equal(params.scope, 'mcp:read mcp:write');
      assert.equal(params.resource_metadata, `${w.url}/.well-known/oauth-protected-resource/mcp/demo`);
      assert.equal(params.error_description, "the tool 'create_records' needs the scope mcp:write");
      assert.equal(res.json.error_description, 'the tool "create_records" needs the scope mcp:write', 'the JSON body keeps the exact text');
    });

    test('a token whose header carries quotes, a backslash and non-Latin text gets a well-formed 401', async () => {
      const token = forgeJwt({ sub: 'x' }, { header: { alg: 'Ж"\\\u0001🙂' } });
      const res = await rpc(w.mcpUrl('demo'), token, request('initialize', initializeParams(V)));
      assert.equal(res.status, 401, res.text);
      const header = res.headers.get('www-authenticate');
      assert.match(header, /^[\x20-\x7e]+$/, 'printable ASCII only');
      const { params } = parseChallenge(header);
      assert.equal(params.error, 'invalid_token');
      assert.match(params.error_description, /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/, 'RFC 6750 3 character set');
      assert.match(res.json.error_description, /Ж/, 'the JSON body keeps the full text');
    });

    test('the 401 without a credential, the Basic challenge and the admin challenge', async () => {
      const none = await rpc(w.mcpUrl('demo'), null, request('initialize', initializeParams(V)));
      assert.deepEqual(parseChallenge(none.headers.get('www-authenticate')).params, {
        resource_metadata: `${w.url}/.well-known/oauth-protected-resource/mcp/demo`,
        scope: 'mcp:read mcp:write',
      });
      const basic = await tokenRequest(w.url, { grant_type: 'authorization_code', code: 'x', code_verifier: 'y' }, { basic: ['nobody', 'wrong'] });
      assert.equal(basic.status, 401);
      assert.deepEqual(parseChallenge(basic.headers.get('www-authenticate')), { scheme: 'Basic', params: { realm: 'dbmcp' } });
      const adminRes = await fetch(`${w.url}/admin/services/demo/keys`, { headers: { authorization: 'Bearer wrong' } });
      assert.equal(adminRes.status, 401);
      assert.deepEqual(parseChallenge(adminRes.headers.get('www-authenticate')).params, { realm: 'dbmcp-admin', error: 'invalid_token' });
    });
  });

  describe('item 10: without PUBLIC_ORIGIN, Host-derived documents are not cacheable', () => {
    test('the issuer follows Host, but no cache may keep it', async () => {
      const res = await rawRequest(`${w.url}/.well-known/oauth-authorization-server`, { host: 'evil.example' });
      assert.equal(res.status, 200);
      assert.equal(res.json.issuer, 'http://evil.example');
      assert.equal(res.headers['cache-control'], 'no-store');
      const prm = await rawRequest(`${w.url}/.well-known/oauth-protected-resource/mcp/demo`, { host: 'evil.example' });
      assert.equal(prm.headers['cache-control'], 'no-store');
    });
  });
});

describe('item 10: PUBLIC_ORIGIN pins every URL and token', () => {
  const PUBLIC = 'https://db.example.com';
  let w;

  before(async () => {
    w = await startWorker({ bindings: { PUBLIC_ORIGIN: `${PUBLIC}/` }, allowedOrigins: '' });
    await createUser(w.url, 'demo', 'alice');
  });

  after(async () => {
    await w?.stop();
  });

  for (const host of ['evil.example', 'db.example.com.evil.example', undefined]) {
    test(`a request with Host ${host ?? '(the real one)'} gets only ${PUBLIC} URLs`, async () => {
      const asm = await rawRequest(`${w.url}/.well-known/oauth-authorization-server`, { host });
      assert.equal(asm.json.issuer, PUBLIC);
      for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'jwks_uri']) {
        assert.ok(asm.json[field].startsWith(`${PUBLIC}/`), `${field}: ${asm.json[field]}`);
      }
      assert.equal(asm.headers['cache-control'], 'public, max-age=300', 'pinned documents may be cached');
      const prm = await rawRequest(`${w.url}/.well-known/oauth-protected-resource/mcp/demo`, { host });
      assert.equal(prm.json.resource, `${PUBLIC}/mcp/demo`);
      assert.deepEqual(prm.json.authorization_servers, [PUBLIC]);
      const challenge = await rawRequest(`${w.url}/mcp/demo`, {
        method: 'POST', host, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(request('ping')),
      });
      assert.equal(challenge.status, 401);
      assert.equal(parseChallenge(challenge.headers['www-authenticate']).params.resource_metadata, `${PUBLIC}/.well-known/oauth-protected-resource/mcp/demo`);
      const info = await rawRequest(`${w.url}/mcp/demo/info`, { host });
      assert.equal(info.json.mcp_endpoint, `${PUBLIC}/mcp/demo`);
      const home = await rawRequest(`${w.url}/`, { host });
      assert.deepEqual(home.json.services.map((s) => s.mcp_endpoint), home.json.services.map((s) => `${PUBLIC}/mcp/${s.name}`));
      const oidc = await rawRequest(`${w.url}/.well-known/openid-configuration`, { host });
      assert.equal(oidc.json.authorization_server_metadata, `${PUBLIC}/.well-known/oauth-authorization-server`);
    });
  }

  test('a whole authorization through a foreign Host yields codes and tokens for the pinned origin only', async () => {
    const client = await registerClient(w.url);
    const { verifier, challenge } = pkce();
    // The test reaches the worker at http://127.0.0.1:<port>: a Host other than the pinned one.
    const foreignResource = authorizeUrl(w.url, { clientId: client.client_id, challenge });
    const refused = await fetch(foreignResource, { redirect: 'manual' });
    assert.equal(refused.status, 302);
    assert.equal(new URL(refused.headers.get('location')).searchParams.get('error'), 'invalid_target', 'a resource at the request Host is not ours');

    const done = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, challenge, resource: `${PUBLIC}/mcp/demo` }), { password: PASSWORD });
    assert.equal(done.status, 302, done.text);
    assert.equal(done.location.searchParams.get('iss'), PUBLIC);
    const res = await tokenRequest(w.url, { grant_type: 'authorization_code', code: done.location.searchParams.get('code'), code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9999/callback', client_id: client.client_id });
    assert.equal(res.status, 200, res.text);
    const { payload } = decodeJwt(res.json.access_token);
    assert.equal(payload.iss, PUBLIC);
    assert.equal(payload.aud, `${PUBLIC}/mcp/demo`);
    const ok = await rawRequest(`${w.url}/mcp/demo`, {
      method: 'POST', host: 'evil.example',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${res.json.access_token}` },
      body: JSON.stringify(request('initialize', initializeParams(V))),
    });
    assert.equal(ok.status, 200, 'the pinned token works whatever Host is named');
  });

  test('a token minted for a foreign Host is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const foreign = 'http://evil.example';
    const token = forgeJwt({ iss: foreign, sub: 'alice', aud: `${foreign}/mcp/demo`, client_id: 'c', scope: 'mcp:read mcp:write', jti: 'j', gid: 'g', iat: now, exp: now + 600 });
    const res = await rawRequest(`${w.url}/mcp/demo`, {
      method: 'POST', host: 'evil.example',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(request('initialize', initializeParams(V))),
    });
    assert.equal(res.status, 401);
    assert.equal(parseChallenge(res.headers['www-authenticate']).params.error, 'invalid_token');
  });

  test('a malformed PUBLIC_ORIGIN is a configuration error that names it', async () => {
    const bad = await startWorker({ bindings: { PUBLIC_ORIGIN: 'http://db.example.com/mcp' }, migrate: false });
    try {
      const res = await fetch(`${bad.url}/health`);
      assert.equal(res.status, 503);
      const body = await res.json();
      assert.ok(body.config_errors.some((e) => e.startsWith('PUBLIC_ORIGIN: "http://db.example.com/mcp"')), JSON.stringify(body));
    } finally {
      await bad.stop();
    }
  });
});

describe('item 1: a custom login URL stored under the old rules is not used', () => {
  let w;

  before(async () => {
    w = await startWorker({ migrate: false });
  });

  after(async () => {
    await w?.stop();
  });

  test('the browser is not sent to a look-alike loopback login page', async () => {
    const kv = await w.mf.getKVNamespace('DBMCP_KV');
    await kv.put('oauth_login:demo', JSON.stringify({ url: 'http://127.0.attacker.com:4444/login', kid: 'k1', nonce: 'n', created_ms: 1 }));
    const client = await registerClient(w.url);
    const { challenge } = pkce();
    const res = await fetch(authorizeUrl(w.url, { clientId: client.client_id, challenge }), { redirect: 'manual' });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /custom login URL may use http only on a loopback host/);
  });
});

describe('item 8 (review): private-use schemes that reach a web page are refused', () => {
  // The consent page names a private-use scheme "an app on this device"; these schemes send the
  // code to a web page instead (iOS browsers open x-safari-https://evil.example as
  // https://evil.example, Edge opens microsoft-edge:https://..., a site may claim web+* and mailto).
  let w;

  before(async () => {
    w = await startWorker({ migrate: false });
    await createUser(w.url, 'demo', 'alice');
  });

  after(async () => {
    await w?.stop();
  });

  const handoffs = [
    'x-safari-https://evil.example/cb',
    'googlechromes://evil.example/cb',
    'microsoft-edge:https://evil.example/cb',
    'firefox://open-url?url=https://evil.example/cb',
    'intent://evil.example/cb',
    'web+evil://cb',
    'myapp://cb?next=https%3A%2F%2Fevil.example%2F',
  ];
  for (const uri of handoffs) {
    test(`registering ${uri} is refused, for /register and for administrators`, async () => {
      const res = await register(w.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'invalid_redirect_uri');
      assert.match(res.json.error_description, /scheme: .* would not go to the app the consent page names/);
      const created = await admin(w.url, 'POST', '/services/demo/clients', { client_name: 'x', redirect_uris: [uri], public: true });
      assert.equal(created.status, 400, created.text);
    });
  }

  test('a native app scheme still registers and is shown as an app', async () => {
    const uri = 'cursor://anysphere.cursor-mcp/oauth/callback';
    const client = await registerClient(w.url, { redirect_uris: [uri] });
    const { html } = await consentPageFor(w, client, uri);
    assert.equal(shownHost(html), 'cursor: (an app on this device)');
  });

  test('one stored under the old rules gets no sign-in form', async () => {
    const kv = await w.mf.getKVNamespace('DBMCP_KV');
    const uri = 'x-safari-https://evil.example/cb';
    const record = {
      client_id: 'stale-client-safari-0000', client_name: 'stale', redirect_uris: [uri], grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'none', secret_hash: null, created_ms: 1, dynamic: true,
    };
    await kv.put(`oauth_client:${record.client_id}`, JSON.stringify(record));
    const { challenge } = pkce();
    const res = await fetch(authorizeUrl(w.url, { clientId: record.client_id, redirectUri: uri, challenge }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.doesNotMatch(await res.text(), /name="password"/);
  });
});
