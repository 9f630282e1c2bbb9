// Dynamic Client Registration (RFC 7591): the real registration bodies of Claude, ChatGPT,
// Cursor, VS Code and MCP Inspector succeed; each invalid field gets its exact error; unknown
// metadata is ignored; registration is rate limited per caller.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../support/worker.mjs';
import { register } from '../support/oauth.mjs';

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

const REAL_CLIENTS = {
  Claude: {
    client_name: 'Claude',
    redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'claudeai',
  },
  'Claude (claude.com)': {
    client_name: 'Claude',
    redirect_uris: ['https://claude.com/api/mcp/auth_callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
  ChatGPT: {
    client_name: 'ChatGPT',
    redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'mcp:read mcp:write',
  },
  Cursor: {
    client_name: 'Cursor',
    redirect_uris: [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'https://www.cursor.com/agents/mcp/oauth/callback',
      'http://localhost:8787/callback',
    ],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
  'VS Code': {
    client_name: 'Visual Studio Code',
    redirect_uris: ['https://vscode.dev/redirect', 'https://insiders.vscode.dev/redirect', 'http://127.0.0.1/', 'http://127.0.0.1:33418/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    software_id: 'vscode',
    software_version: '1.104.0',
  },
  'MCP Inspector': {
    client_name: 'MCP Inspector',
    client_uri: 'https://github.com/modelcontextprotocol/inspector',
    redirect_uris: ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'mcp:read mcp:write',
  },
  'MCP Inspector CLI': {
    client_name: 'MCP CLI Client',
    redirect_uris: ['http://127.0.0.1:6276/oauth/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
};

describe('real client registrations', () => {
  for (const [name, body] of Object.entries(REAL_CLIENTS)) {
    test(`${name} registers`, async () => {
      const res = await register(w.url, body, { origin: 'https://claude.ai' });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.json.client_id, /^[A-Za-z0-9_-]{24}$/);
      assert.deepEqual(res.json.redirect_uris, body.redirect_uris);
      assert.equal(res.json.token_endpoint_auth_method, body.token_endpoint_auth_method);
      if (body.token_endpoint_auth_method === 'none') assert.equal(res.json.client_secret, undefined);
      else assert.match(res.json.client_secret, /^[A-Za-z0-9_-]{43}$/);
    });
  }

  test('every registration gets its own client id', async () => {
    const a = await register(w.url, REAL_CLIENTS.Claude);
    const b = await register(w.url, REAL_CLIENTS.Claude);
    assert.notEqual(a.json.client_id, b.json.client_id);
  });

  test('without token_endpoint_auth_method a client is confidential (client_secret_basic) and gets a secret once', async () => {
    const res = await register(w.url, { redirect_uris: ['https://app.example.com/cb'] });
    assert.equal(res.status, 201);
    assert.equal(res.json.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok(res.json.client_secret);
    assert.equal(res.json.client_secret_expires_at, 0);
  });
});

describe('invalid registrations', () => {
  const base = { redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none' };
  const cases = [
    ['no redirect_uris', { token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri', 'redirect_uris is required'],
    ['empty redirect_uris', { ...base, redirect_uris: [] }, 'invalid_redirect_uri', 'redirect_uris must name at least one URI'],
    ['redirect_uris not an array', { ...base, redirect_uris: 'https://app.example.com/cb' }, 'invalid_redirect_uri', 'redirect_uris must be an array of strings'],
    ['plain http off loopback', { ...base, redirect_uris: ['http://app.example.com/cb'] }, 'invalid_redirect_uri',
      'redirect URI "http://app.example.com/cb" may use http only on a loopback host (localhost, 127.0.0.1, [::1]); use https'],
    ['a fragment', { ...base, redirect_uris: ['https://app.example.com/cb#x'] }, 'invalid_redirect_uri', 'redirect URI "https://app.example.com/cb#x" must not contain a fragment (#)'],
    ['javascript:', { ...base, redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', 'redirect URI "javascript:alert(1)" must not use the javascript: scheme'],
    ['credentials in the URI', { ...base, redirect_uris: ['https://u:p@app.example.com/cb'] }, 'invalid_redirect_uri', 'redirect URI "https://u:p@app.example.com/cb" must not contain credentials'],
    ['a relative URI', { ...base, redirect_uris: ['/cb'] }, 'invalid_redirect_uri', 'redirect URI "/cb" is not an absolute URI'],
    // Unicode host names are refused (no IDNA tables in the bundle); the punycode form is accepted.
    ['a Unicode host', { ...base, redirect_uris: ['https://bücher.example/cb'] }, 'invalid_redirect_uri',
      'redirect URI "https://bücher.example/cb" must be printable ASCII without spaces or control characters (write an international host in its punycode form, xn--..., and percent-encode other characters)'],
    ['a percent-encoded Unicode host', { ...base, redirect_uris: ['https://b%C3%BCcher.example/cb'] }, 'invalid_redirect_uri',
      'redirect URI "https://b%C3%BCcher.example/cb" is not a valid URI (invalid international domain name)'],
    ['one bad URI among good ones', { ...base, redirect_uris: ['https://app.example.com/cb', 'http://evil.example/cb'] }, 'invalid_redirect_uri'],
    ['too many redirect_uris', { ...base, redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`) }, 'invalid_redirect_uri', 'at most 20 redirect_uris'],
    ['an unsupported auth method', { ...base, token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata',
      'token_endpoint_auth_method "private_key_jwt" is not supported; use one of none, client_secret_post, client_secret_basic'],
    ['an unsupported grant type', { ...base, grant_types: ['authorization_code', 'client_credentials'] }, 'invalid_client_metadata',
      'grant type "client_credentials" is not supported; use authorization_code and refresh_token'],
    ['grant types without authorization_code', { ...base, grant_types: ['refresh_token'] }, 'invalid_client_metadata', 'grant_types must include authorization_code'],
    ['an implicit response type', { ...base, response_types: ['token'] }, 'invalid_client_metadata', 'response_types may only contain "code"'],
    ['a too long client_name', { ...base, client_name: 'x'.repeat(201) }, 'invalid_client_metadata', 'client_name is limited to 200 characters'],
    ['a client_name that is not a string', { ...base, client_name: 42 }, 'invalid_client_metadata', 'client_name must be a string'],
    ['control characters in client_name', { ...base, client_name: 'evil\u0007name' }, 'invalid_client_metadata', 'client_name must not contain control characters'],
    ['scope not a string', { ...base, scope: ['mcp:read'] }, 'invalid_client_metadata', 'scope must be a string'],
    ['a javascript client_uri', { ...base, client_uri: 'javascript:alert(1)' }, 'invalid_client_metadata', 'client_uri must be an http(s) URL of at most 2000 characters'],
    ['a body that is not an object', [base], 'invalid_client_metadata', 'the registration request must be a JSON object'],
  ];
  for (const [name, body, error, description] of cases) {
    test(name, async () => {
      const res = await register(w.url, body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, error);
      if (description) assert.equal(res.json.error_description, description);
    });
  }

  test('a Unicode host written in punycode registers', async () => {
    const res = await register(w.url, { ...base, redirect_uris: ['https://xn--bcher-kva.example/cb'] });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.redirect_uris, ['https://xn--bcher-kva.example/cb']);
  });

  test('a body that is not JSON', async () => {
    const res = await register(w.url, 'redirect_uris=https://a');
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'invalid_client_metadata');
  });

  test('unknown metadata is ignored and unknown scope strings are tolerated', async () => {
    const res = await register(w.url, { ...base, scope: 'openid profile claudeai', x_vendor_field: { a: 1 }, contacts: ['a@b.c'] });
    assert.equal(res.status, 201);
    assert.equal(res.json.x_vendor_field, undefined);
  });
});

describe('rate limit', () => {
  test('registrations per caller and hour are limited (429 with Retry-After)', async () => {
    const limited = await startWorker({ registrationsPerHour: 3, migrate: false });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await register(limited.url, REAL_CLIENTS.Claude)).status);
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      const res = await register(limited.url, REAL_CLIENTS.Claude);
      assert.equal(res.json.error, 'too_many_requests');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    } finally {
      await limited.stop();
    }
  });

  test('a caller rotating IPv6 addresses inside one /64 is one caller; another /64 is not held up', async () => {
    const limited = await startWorker({ registrationsPerHour: 3, migrate: false });
    try {
      const statuses = [];
      for (let i = 1; i <= 5; i += 1) {
        const res = await register(limited.url, REAL_CLIENTS.Claude, { 'cf-connecting-ip': `2001:db8:7:7::${i.toString(16)}` });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
      const other = await register(limited.url, REAL_CLIENTS.Claude, { 'cf-connecting-ip': '2001:db8:7:8::1' });
      assert.equal(other.status, 201);
    } finally {
      await limited.stop();
    }
  });
});
