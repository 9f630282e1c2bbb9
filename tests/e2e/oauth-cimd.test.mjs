// Client ID Metadata Documents end to end: a client whose client_id is the URL of its metadata
// document, served by a real node:http server on 127.0.0.1 (the worker runs on loopback in
// Miniflare, so loopback documents are allowed there, and only there). The whole flow to an MCP
// call, refresh and revocation; bad documents refused (mismatched client_id, redirect URI not
// listed, oversized, not JSON, too slow, redirects, error statuses, secrets); the cache following
// Cache-Control; the consent page showing the document's host; and the same URLs refused by a
// worker whose public origin is not loopback (PUBLIC_ORIGIN=https://...).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { startDocumentServer } from '../support/documents.mjs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ADMIN_TOKEN, DEFAULT_SERVICES, OAUTH_SIGNING_KEY, consoleAssets, startWorker } from '../support/worker.mjs';
import { applyD1Migrations } from '../support/migrations.mjs';
import { request, rpc, session } from '../support/mcp.mjs';
import {
  MemoryOAuthProvider,
  PASSWORD,
  REDIRECT,
  authorizeUrl,
  createUser,
  decodeJwt,
  flowCookie,
  formFields,
  pkce,
  registerClient,
  signInAndConsent,
  tokenRequest,
} from '../support/oauth.mjs';

const V = '2025-06-18';
const MAX_DOCUMENT_BYTES = 5 * 1024;

let w;
let docs;
let counter = 0;

/** A fresh document path (the worker caches by URL) and its URL. */
function fresh(name) {
  counter += 1;
  const path = `/clients/${name}-${counter}.json`;
  return { path, url: `${docs.base}${path}` };
}

function documentFor(url, extra = {}) {
  return {
    client_id: url,
    client_name: 'CIMD e2e client',
    client_uri: docs.base,
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

/** Serves a valid document under a fresh URL; returns the URL and path. */
function serveClient(name, extra = {}, options = {}) {
  const { path, url } = fresh(name);
  docs.serve(path, documentFor(url, extra), options);
  return { path, url };
}

/** GET /authorize for a client id; returns {status, text, location}. */
async function startAuthorization(clientId, { redirectUri = REDIRECT, base = w.url, resource } = {}) {
  const { challenge } = pkce();
  const res = await fetch(authorizeUrl(base, { clientId, redirectUri, challenge, resource }), { redirect: 'manual' });
  return { status: res.status, text: await res.text(), location: res.headers.get('location'), res };
}

/** The sign-in page's client line text, for a client id. */
async function clientLine(clientId) {
  const page = await startAuthorization(clientId);
  assert.equal(page.status, 200, page.text);
  return /<p><strong>([^<]*)<\/strong>/.exec(page.text)[1];
}

/** A code for a CIMD client: walks the pages and returns everything the token request needs. */
async function codeFor(clientId, { redirectUri = REDIRECT } = {}) {
  const { verifier, challenge } = pkce();
  const done = await signInAndConsent(authorizeUrl(w.url, { clientId, redirectUri, challenge }), { password: PASSWORD });
  assert.equal(done.status, 302, done.text);
  return { code: done.location.searchParams.get('code'), verifier, redirectUri, done };
}

before(async () => {
  docs = await startDocumentServer();
  w = await startWorker();
  await createUser(w.url, 'demo', 'alice');
});

after(async () => {
  await w?.stop();
  await docs?.close();
});

describe('discovery', () => {
  test('the authorization server advertises CIMD and keeps dynamic registration', async () => {
    const m = await (await fetch(`${w.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(m.client_id_metadata_document_supported, true);
    assert.equal(m.registration_endpoint, `${w.url}/register`);
    const dcr = await registerClient(w.url, { application_type: 'native' });
    assert.match(dcr.client_id, /^[A-Za-z0-9_-]+$/, 'generated ids never look like URLs');
  });
});

describe('a client identified by its metadata document', () => {
  test('authorization code with PKCE through to MCP calls, refresh and revocation', async () => {
    const { url, path } = serveClient('good');
    const first = await startAuthorization(url);
    assert.equal(first.status, 200, first.text);
    assert.match(first.text, /<strong>CIMD e2e client<\/strong> \(from <strong id="client-host">127\.0\.0\.1<\/strong>\) wants to connect/);

    const { code, verifier, done } = await codeFor(url);
    assert.match(done.consentHtml, /<strong id="client">CIMD e2e client<\/strong> \(from <strong id="client-host">127\.0\.0\.1<\/strong>\) asks to/);
    assert.equal(done.location.searchParams.get('iss'), w.url);

    const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: url });
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal(decodeJwt(tokens.json.access_token).payload.client_id, url);
    assert.ok(tokens.json.refresh_token, 'the document lists refresh_token');

    const mcp = await session(w.mcpUrl('demo'), tokens.json.access_token, V);
    const listed = await mcp.call('tools/list', {});
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.json.result.tools.some((t) => t.name === 'get_tables'));
    const tables = await mcp.tool('get_tables', {});
    assert.notEqual(tables.isError, true, JSON.stringify(tables));
    assert.match(JSON.stringify(tables), /categories/);

    const refreshed = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token, client_id: url });
    assert.equal(refreshed.status, 200, refreshed.text);
    const revoke = await fetch(`${w.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshed.json.refresh_token, client_id: url }).toString(),
    });
    assert.equal(revoke.status, 200);
    const again = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token, client_id: url });
    assert.equal(again.status, 400);
    assert.equal(again.json.error, 'invalid_grant');
    assert.ok(docs.hits(path) >= 1);
  });

  test('a code is bound to its document client: another document, a secret, or a parallel replay gets nothing', async () => {
    const { url } = serveClient('bound');
    const { url: other } = serveClient('other');
    const { code, verifier } = await codeFor(url);
    const stolen = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: other });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.json.error, 'invalid_grant');

    const { code: code2, verifier: verifier2 } = await codeFor(url);
    const withSecret = await tokenRequest(w.url, { grant_type: 'authorization_code', code: code2, code_verifier: verifier2, redirect_uri: REDIRECT, client_id: url, client_secret: 'guess' });
    assert.equal(withSecret.status, 401, 'a document client has no secret');
    assert.equal(withSecret.json.error, 'invalid_client');

    const { code: code3, verifier: verifier3 } = await codeFor(url);
    const fields = { grant_type: 'authorization_code', code: code3, code_verifier: verifier3, redirect_uri: REDIRECT, client_id: url };
    const results = await Promise.all(Array.from({ length: 5 }, () => tokenRequest(w.url, fields)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400, 400, 400, 400]);
  });

  test('without refresh_token in grant_types no refresh token is issued', async () => {
    const { url } = serveClient('norefresh', { grant_types: ['authorization_code'] });
    const { code, verifier } = await codeFor(url);
    const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: url });
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal(tokens.json.refresh_token, undefined);
  });

  test('redirect URIs are matched against the document (loopback on any port)', async () => {
    const { url } = serveClient('redirects', { redirect_uris: ['http://127.0.0.1/callback', 'https://app.example.com/cb'] });
    const other = await startAuthorization(url, { redirectUri: 'https://evil.example/cb' });
    assert.equal(other.status, 400);
    assert.equal(other.location, null, 'never redirected to an unlisted URI');
    assert.match(other.text, /is not registered for this application/);
    const anyPort = await startAuthorization(url, { redirectUri: 'http://127.0.0.1:43210/callback' });
    assert.equal(anyPort.status, 200, anyPort.text);
    const listed = await startAuthorization(url, { redirectUri: 'https://app.example.com/cb' });
    assert.equal(listed.status, 200, listed.text);
  });

  test('a private_key_jwt client that also works with none is accepted, application_type too', async () => {
    const { url } = serveClient('jwt', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json', application_type: 'native' });
    const { code, verifier } = await codeFor(url);
    const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: url });
    assert.equal(tokens.status, 200, tokens.text);
  });
});

describe('bad documents are refused with a reason, and nothing is redirected', () => {
  const refusedCases = [
    ['client_id differs from the URL', (url) => documentFor(`${url}?other`), {}, 400, /client_id that differs from its URL/],
    ['client_id missing', (url) => ({ ...documentFor(url), client_id: undefined }), {}, 400, /must contain client_id/],
    ['no redirect_uris', (url) => ({ ...documentFor(url), redirect_uris: undefined }), {}, 400, /redirect_uris is required/],
    ['no client_name', (url) => ({ ...documentFor(url), client_name: undefined }), {}, 400, /must contain client_name/],
    ['an http redirect URI off loopback', (url) => documentFor(url, { redirect_uris: ['http://evil.example/cb'] }), {}, 400, /loopback/],
    ['a shared-secret auth method', (url) => documentFor(url, { token_endpoint_auth_method: 'client_secret_basic' }), {}, 400, /cannot share a secret/],
    ['a client_secret', (url) => documentFor(url, { client_secret: 'shh' }), {}, 400, /must not contain client_secret/],
    ['private_key_jwt without keys', (url) => documentFor(url, { token_endpoint_auth_method: 'private_key_jwt' }), {}, 400, /jwks_uri/],
    ['not JSON', () => '<!doctype html><p>hello</p>', { headers: { 'content-type': 'text/html' } }, 400, /is not JSON/],
    ['a JSON array', () => '[1,2,3]', {}, 400, /must be a JSON object/],
    ['a 404', null, { status: 404 }, 400, /answered 404, not 200/],
    ['a 500', null, { status: 500 }, 502, /its server answered 500/],
    ['a bidi-spoofed name', (url) => documentFor(url, { client_name: 'Claude\u202emoc.evil' }), {}, 400, /bidirectional/],
  ];
  for (const [name, body, options, status, why] of refusedCases) {
    test(name, async () => {
      const { path, url } = fresh('bad');
      docs.serve(path, body ? body(url) : 'x', options);
      const page = await startAuthorization(url);
      assert.equal(page.status, status, page.text);
      assert.equal(page.location, null);
      assert.match(page.text, why);
      assert.equal(page.res.headers.get('content-type'), 'text/html; charset=utf-8');
      const token = await tokenRequest(w.url, { grant_type: 'authorization_code', code: 'x', code_verifier: 'y', client_id: url });
      assert.equal(token.status, status === 400 ? 401 : 503, token.text);
      assert.equal(token.json.error, status === 400 ? 'invalid_client' : 'temporarily_unavailable');
      assert.match(token.json.error_description, why);
    });
  }

  test('oversized: a declared Content-Length over the cap, and a chunked body that grows past it', async () => {
    const { path, url } = fresh('big');
    docs.serve(path, documentFor(url, { padding: 'p'.repeat(MAX_DOCUMENT_BYTES) }));
    const declared = await startAuthorization(url);
    assert.equal(declared.status, 400);
    assert.match(declared.text, /larger than 5120 bytes/);

    const chunked = fresh('chunked');
    let written = 0;
    docs.routes.set(chunked.path, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"client_id":"${chunked.url}","padding":"`);
      // Up to 1 MiB in 1 KiB chunks; the worker must stop reading long before.
      const pump = () => {
        while (written < 1024 * 1024) {
          written += 1024;
          if (!res.write('p'.repeat(1024))) return res.once('drain', pump);
        }
        res.end('"}');
      };
      res.on('error', () => {});
      pump();
    });
    const streamed = await startAuthorization(chunked.url);
    assert.equal(streamed.status, 400, streamed.text);
    assert.match(streamed.text, /larger than 5120 bytes/);
  });

  test('a compressed body is capped by what it expands to (gzip bomb)', async () => {
    const { path, url } = fresh('bomb');
    const expanded = JSON.stringify(documentFor(url, { padding: ' '.repeat(1024 * 1024) }));
    const compressed = gzipSync(expanded);
    assert.ok(compressed.length < MAX_DOCUMENT_BYTES, `compressed to ${compressed.length} bytes`);
    docs.routes.set(path, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': compressed.length });
      res.end(compressed);
    });
    const page = await startAuthorization(url);
    assert.equal(page.status, 400, page.text);
    assert.match(page.text, /larger than 5120 bytes/);
    // The same document compressed but small enough once expanded is fine.
    const small = fresh('gzip-ok');
    const body = gzipSync(JSON.stringify(documentFor(small.url)));
    docs.routes.set(small.path, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      res.end(body);
    });
    assert.equal((await startAuthorization(small.url)).status, 200);
  });

  test('slow: no answer within 5 s, or a body that trickles, is given up on', async () => {
    const silent = fresh('silent');
    const timers = [];
    docs.routes.set(silent.path, (req, res) => {
      timers.push(setTimeout(() => res.writeHead(200).end(JSON.stringify(documentFor(silent.url))), 8000));
    });
    let started = Date.now();
    const waited = await startAuthorization(silent.url);
    assert.equal(waited.status, 502, waited.text);
    assert.match(waited.text, /did not arrive within 5 seconds/);
    assert.ok(Date.now() - started < 7500, `gave up after ${Date.now() - started} ms`);

    const trickle = fresh('trickle');
    docs.routes.set(trickle.path, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":');
      let n = 0;
      const tick = setInterval(() => {
        n += 1;
        if (n > 20 || res.destroyed) return clearInterval(tick);
        res.write(' ');
      }, 400);
      timers.push(tick);
      res.on('close', () => clearInterval(tick));
    });
    started = Date.now();
    const trickled = await startAuthorization(trickle.url);
    assert.equal(trickled.status, 502, trickled.text);
    assert.match(trickled.text, /did not arrive within 5 seconds/);
    assert.ok(Date.now() - started < 7500, `gave up after ${Date.now() - started} ms`);
    for (const t of timers) clearTimeout(t), clearInterval(t);
  });

  test('a redirect is not followed', async () => {
    const target = serveClient('target');
    const { path, url } = fresh('moved');
    docs.routes.set(path, (req, res) => res.writeHead(302, { location: target.url }).end());
    const before = docs.hits(target.path);
    const page = await startAuthorization(url);
    assert.equal(page.status, 400, page.text);
    assert.match(page.text, /answered with a redirect \(302\)/);
    assert.equal(docs.hits(target.path), before, 'the redirect target was never fetched');
  });

  test('an unreachable document server', async () => {
    const closed = createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = closed.address().port;
    await new Promise((resolve) => closed.close(resolve));
    const page = await startAuthorization(`http://127.0.0.1:${port}/client.json`);
    assert.equal(page.status, 502, page.text);
    assert.match(page.text, /could not be fetched/);
  });

  test('URLs outside the rules are refused before anything is fetched', async () => {
    const { path } = serveClient('rules');
    const port = new URL(docs.base).port;
    const cases = [
      [`${docs.base}/clients/../${path.slice(1)}`, /normal form/],
      [`${docs.base}/clients/%2e%2e/${path.slice(1)}`, /normal form/],
      [`http://LOCALHOST:${port}${path}`, /normal form/],
      [`http://user:pw@127.0.0.1:${port}${path}`, /credentials/],
      [`${docs.base}${path}#frag`, /fragment/],
      [`${docs.base}/`, /needs a path/],
      [`http://10.0.0.1:${port}${path}`, /must use https/],
      [`https://169.254.169.254/latest/meta-data`, /not an IP address/],
      [`https://metadata.google.internal/computeMetadata/v1`, /public host/],
      [`${w.url}/.well-known/oauth-authorization-server`, /names this server itself/],
      [`https://app.example.com/${'a'.repeat(600)}`, /longer than 512/],
      [`${docs.base}/clients/\u00fcnicode.json`, /printable ASCII/],
      [`${docs.base}${path} `, /printable ASCII/],
    ];
    const before = docs.hits(path);
    for (const [clientId, why] of cases) {
      const page = await startAuthorization(clientId);
      assert.equal(page.status, 400, `${clientId}: ${page.text}`);
      assert.match(page.text, why, clientId);
    }
    assert.equal(docs.hits(path), before, 'nothing was fetched');
  });

  test('a loopback document is refused when the request names a non-loopback Host', async () => {
    const { path, url } = serveClient('host');
    const before = docs.hits(path);
    const { challenge } = pkce();
    const target = new URL(authorizeUrl(w.url, { clientId: url, challenge, resource: 'http://evil.example/mcp/demo' }));
    const res = await new Promise((resolve, reject) => {
      const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, headers: { host: 'evil.example' } }, (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode, text }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /must use https/);
    assert.equal(docs.hits(path), before);
  });
});

describe('the cache follows Cache-Control', () => {
  test('max-age keeps the document; a changed document shows after max-age=0, no-store, or expiry', async () => {
    const cached = serveClient('cached', { client_name: 'Name one' }, { headers: { 'cache-control': 'public, max-age=3600' } });
    assert.equal(await clientLine(cached.url), 'Name one');
    docs.serve(cached.path, documentFor(cached.url, { client_name: 'Name two' }), { headers: { 'cache-control': 'max-age=3600' } });
    assert.equal(await clientLine(cached.url), 'Name one', 'served from the cache');
    assert.equal(docs.hits(cached.path), 1);

    for (const header of ['max-age=0', 'no-store', 'no-cache']) {
      const live = serveClient('live', { client_name: 'Before' }, { headers: { 'cache-control': header } });
      assert.equal(await clientLine(live.url), 'Before');
      docs.serve(live.path, documentFor(live.url, { client_name: 'After' }), { headers: { 'cache-control': header } });
      assert.equal(await clientLine(live.url), 'After', header);
      assert.equal(docs.hits(live.path), 2, header);
      // A document that turns invalid is refused at once.
      docs.serve(live.path, documentFor(`${live.url}x`), { headers: { 'cache-control': header } });
      assert.equal((await startAuthorization(live.url)).status, 400, header);
    }

    const aged = serveClient('aged', { client_name: 'Old' }, { headers: { 'cache-control': 'max-age=60', age: '60' } });
    assert.equal(await clientLine(aged.url), 'Old');
    docs.serve(aged.path, documentFor(aged.url, { client_name: 'New' }), { headers: { 'cache-control': 'max-age=60' } });
    assert.equal(await clientLine(aged.url), 'New', 'a response as old as its max-age is not kept');
  });

  test('a document that stops listing refresh_token stops refreshes', async () => {
    const { path, url } = serveClient('grants', {}, { headers: { 'cache-control': 'no-store' } });
    const { code, verifier } = await codeFor(url);
    const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: url });
    assert.equal(tokens.status, 200, tokens.text);
    docs.serve(path, documentFor(url, { grant_types: ['authorization_code'] }), { headers: { 'cache-control': 'no-store' } });
    const refused = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token, client_id: url });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error, 'unauthorized_client');
    docs.serve(path, 'gone', { status: 404 });
    const gone = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token, client_id: url });
    assert.equal(gone.status, 401, gone.text);
    assert.equal(gone.json.error, 'invalid_client', 'a client whose document is gone must start again');
  });

  test('errors are not cached', async () => {
    const { path, url } = fresh('flaky');
    docs.serve(path, 'oops', { status: 503 });
    assert.equal((await startAuthorization(url)).status, 502);
    docs.serve(path, documentFor(url), { headers: { 'cache-control': 'max-age=3600' } });
    assert.equal((await startAuthorization(url)).status, 200);
  });

  test('a redirect URI dropped from the document between sign-in and consent is not used', async () => {
    const { path, url } = serveClient('changing', {}, { headers: { 'cache-control': 'no-store' } });
    const { challenge } = pkce();
    const first = await fetch(authorizeUrl(w.url, { clientId: url, challenge }), { redirect: 'manual' });
    assert.equal(first.status, 200);
    const cookie = flowCookie(first);
    const post = (to, fields) =>
      fetch(`${w.url}${to}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields).toString() });
    const consentPage = await post('/authorize/login', { ...formFields(await first.text()), username: 'alice', password: PASSWORD });
    assert.equal(consentPage.status, 200);
    docs.serve(path, documentFor(url, { redirect_uris: ['https://app.example.com/cb'] }), { headers: { 'cache-control': 'no-store' } });
    const done = await post('/authorize/consent', { ...formFields(await consentPage.text()), decision: 'approve' });
    assert.equal(done.status, 400);
    assert.equal(done.headers.get('location'), null);
    assert.match(await done.text(), /no longer lists this redirect URI/);
  });
});

describe('a worker whose public origin is not loopback', () => {
  const PUBLIC = 'https://db.example.com';
  let pw;

  before(async () => {
    pw = await startWorker({ bindings: { PUBLIC_ORIGIN: PUBLIC } });
  });

  after(async () => {
    await pw?.stop();
  });

  test('refuses loopback, private and link-local documents without fetching them', async () => {
    const { path, url } = serveClient('public-worker');
    const port = new URL(docs.base).port;
    const before = docs.hits(path);
    const cases = [
      [url, /must use https/],
      [`https://127.0.0.1:${port}${path}`, /not a loopback address/],
      [`https://localhost:${port}${path}`, /public host/],
      [`https://10.1.2.3${path}`, /not an IP address/],
      [`https://192.168.0.10${path}`, /not an IP address/],
      [`https://[fe80::1]${path}`, /not an IP address/],
      [`https://${'printer.local'}${path}`, /public host/],
      [`${PUBLIC}/clients/self.json`, /names this server itself/],
    ];
    for (const [clientId, why] of cases) {
      const page = await startAuthorization(clientId, { base: pw.url, resource: `${PUBLIC}/mcp/demo` });
      assert.equal(page.status, 400, `${clientId}: ${page.text}`);
      assert.match(page.text, why, clientId);
      const token = await tokenRequest(pw.url, { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId });
      assert.equal(token.status, 401, token.text);
      assert.equal(token.json.error, 'invalid_client');
    }
    assert.equal(docs.hits(path), before, 'the document server saw no request');
    const m = await (await fetch(`${pw.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(m.client_id_metadata_document_supported, true);
  });
});

test('an MCP request authenticates with a CIMD client token only as that client', async () => {
  // The access token's client_id is the URL; a session opened with it works like any other.
  const { url } = serveClient('mcp');
  const { code, verifier } = await codeFor(url);
  const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: url });
  const res = await rpc(w.mcpUrl('demo'), tokens.json.access_token, request('initialize', { protocolVersion: V, capabilities: {}, clientInfo: { name: 'cimd', version: '1' } }));
  assert.equal(res.status, 200, res.text);
});

// Real clients publish their documents at https URLs. Miniflare's outboundService answers the
// worker's outbound fetches here, so https documents (and a worker with an https PUBLIC_ORIGIN)
// can be tested without certificates.
describe('https documents (outbound fetches answered by the test)', () => {
  const DOC = 'https://app.example.com/oauth/client.json';
  const served = new Map();
  const hits = [];
  let mf;
  let url;

  async function startWithOutbound(bindings = {}) {
    const instance = new Miniflare({
      host: '127.0.0.1',
      port: 0,
      compatibilityDate: '2025-09-01',
      modules: true,
      scriptPath: join(fileURLToPath(new URL('../../', import.meta.url)), 'build/index.js'),
      modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'], fallthrough: true }],
      d1Databases: ['DB'],
      kvNamespaces: ['DBMCP_KV'],
      durableObjects: {
        MCP_SESSIONS: { className: 'McpSession', useSQLite: true },
        OAUTH_GRANTS: { className: 'OAuthGrants', useSQLite: true },
      },
      bindings: { SERVICES: DEFAULT_SERVICES, ADMIN_TOKEN, OAUTH_SIGNING_KEY, SESSION_IDLE_SECONDS: '3600', ...bindings },
      assets: consoleAssets(),
      outboundService: (req) => {
        hits.push(req.url);
        const doc = served.get(req.url);
        return doc ? new Response(JSON.stringify(doc), { headers: { 'content-type': 'application/json' } }) : new Response('not found', { status: 404 });
      },
    });
    const base = (await instance.ready).toString().replace(/\/$/, '');
    await applyD1Migrations(await instance.getD1Database('DB'));
    return { instance, base };
  }

  before(async () => {
    served.set(DOC, {
      client_id: DOC,
      client_name: 'Example SDK app',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    ({ instance: mf, base: url } = await startWithOutbound());
    await createUser(url, 'demo', 'alice');
  });

  after(async () => {
    await mf?.dispose();
  });

  test('the official SDK uses its document URL as client_id (no registration) through to tool calls', async () => {
    class DocumentProvider extends MemoryOAuthProvider {
      get clientMetadataUrl() {
        return DOC;
      }
    }
    const provider = new DocumentProvider();
    const endpoint = new URL(`${url}/mcp/demo`);
    const first = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await assert.rejects(new Client({ name: 'sdk-cimd', version: '1.0.0' }).connect(first), UnauthorizedError);
    assert.equal(provider.client.client_id, DOC, 'the SDK chose CIMD because the metadata advertises it');
    assert.equal(provider.authorizationUrl.searchParams.get('client_id'), DOC);

    const walked = await signInAndConsent(provider.authorizationUrl.toString(), { username: 'alice' });
    assert.equal(walked.status, 302, walked.text);
    assert.match(walked.consentHtml, /<strong id="client">Example SDK app<\/strong> \(from <strong id="client-host">app\.example\.com<\/strong>\)/);
    await first.finishAuth(walked.location.searchParams.get('code'));
    assert.equal(decodeJwt(provider.savedTokens.access_token).payload.client_id, DOC);
    assert.ok(provider.savedTokens.refresh_token);

    const client = new Client({ name: 'sdk-cimd', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }));
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'get_tables'));
    const result = await client.callTool({ name: 'get_tables', arguments: {} });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    await client.close();
    assert.ok(hits.includes(DOC), 'the worker fetched the document');
  });

  test('a worker with an https PUBLIC_ORIGIN accepts https documents', async () => {
    const { instance, base } = await startWithOutbound({ PUBLIC_ORIGIN: 'https://db.example.com' });
    try {
      const { challenge } = pkce();
      const res = await fetch(authorizeUrl(base, { clientId: DOC, challenge, resource: 'https://db.example.com/mcp/demo' }), { redirect: 'manual' });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.match(text, /\(from <strong id="client-host">app\.example\.com<\/strong>\) wants to connect/);
    } finally {
      await instance.dispose();
    }
  });
});
