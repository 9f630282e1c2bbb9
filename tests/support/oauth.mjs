// Helpers for the OAuth end-to-end tests: registration, users, the sign-in/consent pages driven
// with plain fetch (a tiny cookie jar), PKCE, the token endpoint, and forged tokens signed with
// the test worker's OAUTH_SIGNING_KEY.
//
//   const client = await registerClient(w.url, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
//   await createUser(w.url, 'demo', 'alice', 'correct horse battery');
//   const tokens = await obtainTokens(w, { client, username: 'alice', password: '...' });

import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { ADMIN_TOKEN, OAUTH_SIGNING_KEY } from './worker.mjs';
import { readResponse } from './mcp.mjs';

export const REDIRECT = 'http://127.0.0.1:9999/callback';
export const PASSWORD = 'correct horse battery staple';

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** POST /register with a JSON body; returns {status, json, headers}. */
export async function register(url, body, headers = {}) {
  const res = await fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readResponse(res);
}

/** Registers a client and returns the registration response (throws unless 201). */
export async function registerClient(url, body = {}) {
  const res = await register(url, {
    client_name: 'e2e client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    ...body,
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${res.text}`);
  return res.json;
}

/** Calls the admin API. */
export async function admin(url, method, path, body) {
  const res = await fetch(`${url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return readResponse(res);
}

export async function createUser(url, service, username, password = PASSWORD) {
  const res = await admin(url, 'POST', `/services/${service}/users`, { username, password });
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating user failed: ${res.status} ${res.text}`);
  return res.json;
}

/** The authorization URL for a client. */
export function authorizeUrl(url, { clientId, redirectUri = REDIRECT, challenge, state = 'st-' + b64url(randomBytes(6)), resource, scope, method = 'S256', extra = {} }) {
  const params = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: method, state });
  if (resource !== null) params.set('resource', resource ?? `${url}/mcp/demo`);
  if (scope) params.set('scope', scope);
  for (const [k, v] of Object.entries(extra)) v === null ? params.delete(k) : params.set(k, v);
  return `${url}/authorize?${params}`;
}

/** Hidden inputs of the first form in an HTML page. */
export function formFields(html) {
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  return fields;
}

/** The `__Host-dbmcp_flow` cookie from a response. */
export function flowCookie(res) {
  const set = res.headers.getSetCookie?.() ?? [];
  const line = set.find((c) => c.startsWith('__Host-dbmcp_flow='));
  return line ? line.split(';')[0] : null;
}

async function postForm(url, cookie, fields) {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
}

/**
 * Walks /authorize -> sign-in form -> consent form like a browser would (without JavaScript).
 * Returns {location: URL, status} of the final redirect, or the page that stopped the walk.
 */
export async function signInAndConsent(authUrl, { username = 'alice', password = PASSWORD, decision = 'approve' } = {}) {
  const origin = new URL(authUrl).origin;
  const first = await fetch(authUrl, { redirect: 'manual' });
  if (first.status !== 200) return { status: first.status, location: first.headers.get('location') && new URL(first.headers.get('location')), text: await first.text() };
  const cookie = flowCookie(first);
  const login = formFields(await first.text());
  const afterLogin = await postForm(`${origin}/authorize/login`, cookie, { ...login, username, password });
  const consentHtml = await afterLogin.text();
  if (afterLogin.status !== 200) return { status: afterLogin.status, text: consentHtml };
  const consent = formFields(consentHtml);
  const done = await postForm(`${origin}/authorize/consent`, cookie, { ...consent, decision });
  return { status: done.status, location: done.headers.get('location') && new URL(done.headers.get('location')), text: await done.text(), consentHtml };
}

/** POST /token with form fields (and optional Basic credentials). */
export async function tokenRequest(url, fields, { basic } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const res = await fetch(`${url}/token`, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
  return readResponse(res);
}

/** A code for `client` (registers a user first if needed). Returns {code, verifier, redirectUri, state}. */
export async function obtainCode(w, { client, username = 'alice', password = PASSWORD, service = 'demo', scope, redirectUri = REDIRECT } = {}) {
  await createUser(w.url, service, username, password);
  const { verifier, challenge } = pkce();
  const state = 'state-' + b64url(randomBytes(6));
  const result = await signInAndConsent(authorizeUrl(w.url, { clientId: client.client_id, redirectUri, challenge, state, scope, resource: `${w.url}/mcp/${service}` }), { username, password });
  if (result.status !== 302) throw new Error(`authorization failed: ${result.status} ${result.text}`);
  if (result.location.searchParams.get('state') !== state) throw new Error('state not echoed');
  return { code: result.location.searchParams.get('code'), verifier, redirectUri, state, location: result.location };
}

/** Registers a public client (unless given), signs in, exchanges the code: {client, tokens}. */
export async function obtainTokens(w, options = {}) {
  const client = options.client ?? (await registerClient(w.url));
  const { code, verifier, redirectUri } = await obtainCode(w, { ...options, client });
  const res = await tokenRequest(w.url, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: client.client_id });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return { client, tokens: res.json };
}

/** Decodes a JWT's parts without checking anything. */
export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** Signs an EdDSA JWT with the test worker's key (to forge expired or foreign tokens). */
export function forgeJwt(payload, { kid = 'k1', header = {} } = {}) {
  const seed = Buffer.from(OAUTH_SIGNING_KEY.split(':')[1], 'base64url');
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const h = b64url(JSON.stringify({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header }));
  const p = b64url(JSON.stringify(payload));
  const signature = sign(null, Buffer.from(`${h}.${p}`), key);
  return `${h}.${p}.${b64url(signature)}`;
}

/** HS256 JWT (what a custom login page signs its assertion with). */
export function hs256(payload, secret) {
  const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const p = b64url(JSON.stringify(payload));
  const mac = createHmacSha256(secret, `${h}.${p}`);
  return `${h}.${p}.${mac}`;
}

import { createHmac } from 'node:crypto';
function createHmacSha256(secret, text) {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

/** Verifies an HS256 JWT and returns its payload (throws when the signature is wrong). */
export function verifyHs256(token, secret) {
  const [h, p, s] = token.split('.');
  if (createHmacSha256(secret, `${h}.${p}`) !== s) throw new Error('bad signature');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

/**
 * An in-memory OAuthClientProvider for the SDK: redirectToAuthorization records the URL; the
 * test walks it with signInAndConsent and hands the code to transport.finishAuth.
 */
export class MemoryOAuthProvider {
  constructor(metadata = {}) {
    this.metadata = { client_name: 'dbmcp SDK e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...metadata };
    this.client = undefined;
    this.savedTokens = undefined;
    this.verifier = undefined;
    this.authorizationUrl = undefined;
    this.tokenHistory = [];
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return this.metadata;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens) {
    this.savedTokens = tokens;
    this.tokenHistory.push(tokens);
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}
