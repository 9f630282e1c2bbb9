// The operator console at /admin in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core): sign-in (keyboard, wrong token), every page, keys, OAuth clients and the
// custom login URL, users, ended sessions, hostile labels shown as text, and a phone-width view.
// Screenshots go to $DBMCP_SCREENSHOTS when set, else to a temporary folder.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN_TOKEN, createKey, DEFAULT_SERVICES, startWorker } from '../support/worker.mjs';
import { PASSWORD, REDIRECT, authorizeUrl, createUser, pkce, registerClient, signInAndConsent, tokenRequest } from '../support/oauth.mjs';
import { startDocumentServer } from '../support/documents.mjs';
import { connectClient, sleep } from '../support/mcp.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required: install it (apt-get install chromium) or set CHROMIUM_PATH; not found at ${CHROMIUM}`);
const SHOTS = process.env.DBMCP_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'dbmcp-shots-'));
mkdirSync(SHOTS, { recursive: true });

const HOSTILE = '<img src=x onerror="window.__xss=1">';
async function streamText(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

describe('the operator console in a real browser', () => {
  let w;
  let base; // Chromium keeps Secure (`__Host-`) cookies over plain http on localhost.
  let browser;

  before(async () => {
    // Rate limits on one service, to see them on its card.
    w = await startWorker({
      services: { ...DEFAULT_SERVICES, readonly: { ...DEFAULT_SERVICES.readonly, rate_limits: { api_key_per_minute: 30, user_per_minute: 12 } } },
    });
    base = w.url.replace('127.0.0.1', 'localhost');
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbmcp-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    await w?.stop();
  });

  async function openConsole(viewport) {
    // Each test signs in itself: a session cookie left by another would resume on load.
    await browser.clearCookies();
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    if (viewport) await page.setViewportSize(viewport);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text()); });
    page.errors = errors;
    await page.goto(`${base}/admin`);
    return page;
  }

  async function signIn(page) {
    await page.fill('#token', ADMIN_TOKEN);
    await page.press('#token', 'Enter');
    await page.waitForSelector('#nav:not([hidden])');
    await page.waitForSelector('#view h1');
  }

  async function go(page, name, ready) {
    await page.click(`nav a[data-page="${name}"]`);
    await page.waitForSelector(ready);
  }

  const confirm = async (page) => {
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-ok');
  };
  const shot = (page, name) => page.screenshot({ path: join(SHOTS, name), fullPage: false });
  const clipboard = (page) => page.evaluate(() => navigator.clipboard.readText());

  test('signs in with the keyboard after a wrong token, and shows the services', async () => {
    const page = await openConsole();
    assert.equal(await page.title(), 'dbmcp console');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'token', 'the token field has the focus');
    await page.keyboard.type('not-the-admin-token');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signin-message:not([hidden])');
    assert.equal(await page.textContent('#signin-message'), 'Wrong admin token.');
    assert.ok(await page.isVisible('#signin-form'));
    await page.fill('#token', '');
    await page.focus('#token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Sign in', 'Tab reaches the button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('article[data-service="demo"]');
    assert.ok(await page.isHidden('#signin'));
    const cookies = await browser.cookies(base);
    const session = cookies.find((c) => c.name === '__Host-dbmcp_console');
    assert.ok(session && session.httpOnly && session.secure && session.sameSite === 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session cookie');

    const demo = page.locator('article[data-service="demo"]');
    assert.equal(await demo.locator('.mcp-endpoint').textContent(), `${base}/mcp/demo`);
    const readonly = await page.locator('article[data-service="readonly"] dl').textContent();
    assert.match(readonly, /Read-onlyyes/);
    assert.match(readonly, /Row cap25/);
    assert.match(readonly, /Hidden tablesbig_numbers/);
    assert.match(readonly, /EngineCloudflare D1/);
    assert.match(readonly, /Rate limitsapi key: 30\/min, user: 12\/min/);
    assert.match(await demo.locator('dl').textContent(), /Rate limitsnone/);
    // The set-up snippets for each client, for this service's URL.
    const setups = await demo.locator('details.setup summary').allTextContents();
    assert.deepEqual(setups, ['Claude', 'ChatGPT', 'Cursor', 'VS Code', 'Claude Code', 'MCP Inspector']);
    await demo.locator('details.setup summary', { hasText: 'VS Code' }).click();
    const vscode = JSON.parse(await demo.locator('details.setup', { hasText: 'VS Code' }).locator('pre').textContent());
    assert.deepEqual(vscode, { servers: { demo: { type: 'http', url: `${base}/mcp/demo` } } });
    const claudeCode = await demo.locator('details.setup', { hasText: 'Claude Code' }).locator('pre').textContent();
    assert.equal(claudeCode, `claude mcp add --transport http demo ${base}/mcp/demo`);
    const cursor = JSON.parse(await demo.locator('details.setup', { hasText: 'Cursor' }).locator('pre').textContent());
    assert.deepEqual(cursor, { mcpServers: { demo: { url: `${base}/mcp/demo` } } });
    assert.match(await demo.locator('details.setup', { hasText: 'MCP Inspector' }).locator('pre').textContent(), /npx @modelcontextprotocol\/inspector/);
    await shot(page, 'console-services.png');
    await demo.getByRole('button', { name: 'Copy MCP endpoint' }).click();
    assert.equal(await clipboard(page), `${base}/mcp/demo`);
    await page.waitForSelector('#toast.show');
    // A reload keeps the console signed in, on the page it was showing.
    await page.reload();
    await page.waitForSelector('article[data-service="demo"]');
    assert.ok(await page.isHidden('#signin'), 'still signed in after a reload');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('API keys: created and shown once with a copy button, listed by prefix, revoked after a confirmation', async () => {
    const page = await openConsole();
    await signIn(page);
    await go(page, 'keys', '#keys-table');
    await page.fill('#key-label', HOSTILE);
    await page.uncheck('#key-scope-write');
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#new-key');
    const key = await page.textContent('#new-key');
    assert.match(key, /^[A-Za-z0-9_-]{20,}/);
    assert.match(await page.textContent('#new-key-panel'), /shown only once/);
    await page.click('#copy-new-key');
    assert.equal(await clipboard(page), key);
    const row = page.locator('#keys-table tbody tr', { hasText: 'mcp:read' }).first();
    assert.equal(await row.locator('.key-label').textContent(), HOSTILE, 'the label is shown as text');
    assert.equal(await page.locator('#keys-table img').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await shot(page, 'console-new-key.png');
    // Away and back: the key is gone for good, only its prefix remains.
    await go(page, 'services', 'article[data-service="demo"]');
    await go(page, 'keys', '#keys-table tbody tr[data-key-id]');
    assert.equal(await page.locator('#new-key').count(), 0);
    assert.ok(!(await page.textContent('body')).includes(key));
    const prefix = (await row.locator('td').first().textContent()).replace('…', '');
    assert.ok(key.startsWith(prefix) && prefix.length < key.length);
    // Revoke: Cancel keeps it, Confirm revokes it.
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-cancel');
    assert.equal(await page.locator('#keys-table tbody tr[data-key-id]').count(), 1);
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await confirm(page);
    await page.waitForSelector('#keys-table tbody tr[data-key-id]', { state: 'detached' });
    const probe = await fetch(`${w.url}/mcp/demo`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(probe.status, 401, 'the revoked key no longer works');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('revoking a key that is already gone says so', async () => {
    const page = await openConsole();
    await signIn(page);
    const made = await createKey(w.url, 'demo', { label: 'doomed', rate_limit_per_minute: 42 });
    await go(page, 'keys', `#keys-table tr[data-key-id="${made.id}"]`);
    assert.match(await page.locator(`tr[data-key-id="${made.id}"]`).textContent(), /42\/min/, "the key's own rate limit is listed");
    const gone = await fetch(`${w.url}/admin/services/demo/keys/${made.id}`, { method: 'DELETE', headers: admin });
    assert.equal(gone.status, 204);
    await page.locator(`tr[data-key-id="${made.id}"]`).getByRole('button', { name: /^Revoke/ }).click();
    await confirm(page);
    await page.waitForSelector('#page-message:not([hidden])');
    assert.match(await page.textContent('#page-message'), /no longer exists/);
    await page.waitForSelector(`tr[data-key-id="${made.id}"]`, { state: 'detached' });
    await page.close();
  });

  test('OAuth: a metadata-document client is listed, deleted after confirmation (blocked), and allowed again', async () => {
    const docs = await startDocumentServer();
    try {
      const url = docs.serve('/cimd/console.json', { client_id: `${docs.base}/cimd/console.json`, client_name: HOSTILE, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' });
      await createUser(w.url, 'demo', 'cimd-person');
      const { verifier, challenge } = pkce();
      const done = await signInAndConsent(authorizeUrl(w.url, { clientId: url, challenge }), { username: 'cimd-person', password: PASSWORD });
      assert.equal(done.status, 302, done.text);
      const tokens = await tokenRequest(w.url, { grant_type: 'authorization_code', code: done.location.searchParams.get('code'), code_verifier: verifier, redirect_uri: REDIRECT, client_id: url });
      assert.equal(tokens.status, 200, tokens.text);

      const page = await openConsole();
      await signIn(page);
      await go(page, 'oauth', '#document-clients-table');
      const row = page.locator(`#document-clients-table tr[data-client-id="${url}"]`);
      await row.waitFor();
      assert.equal(await row.locator('.client-url').textContent(), url);
      assert.equal(await row.locator('.client-name').textContent(), HOSTILE, 'the document name, as text');
      assert.equal(await page.locator('#document-clients-table img').count(), 0);
      assert.equal(await row.locator('.client-users').textContent(), 'cimd-person');
      assert.match(await row.textContent(), /127\.0\.0\.1/);
      // Cancel first: nothing happens.
      await row.getByRole('button', { name: /^Delete/ }).click();
      await page.waitForSelector('#confirm-dialog[open]');
      await page.click('#confirm-cancel');
      assert.equal(await row.getByRole('button', { name: /^Allow/ }).count(), 0);
      const live = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token, client_id: url });
      assert.equal(live.status, 200, 'cancelled: the client still works');
      await row.getByRole('button', { name: /^Delete/ }).click();
      await confirm(page);
      await row.getByRole('button', { name: /^Allow/ }).waitFor();
      assert.match(await row.textContent(), /blocked/);
      const refused = await tokenRequest(w.url, { grant_type: 'refresh_token', refresh_token: live.json.refresh_token, client_id: url });
      assert.equal(refused.json.error, 'invalid_grant');
      assert.equal((await fetch(authorizeUrl(w.url, { clientId: url, challenge }), { redirect: 'manual' })).status, 403);
      await page.screenshot({ path: join(SHOTS, 'oauth-metadata-clients.png'), fullPage: true });
      await row.getByRole('button', { name: /^Allow/ }).click();
      await page.waitForFunction(() => document.querySelector('#toast')?.textContent === 'Client allowed again');
      assert.equal((await fetch(authorizeUrl(w.url, { clientId: url, challenge }), { redirect: 'manual' })).status, 200);
      const listed = await (await fetch(`${w.url}/admin/services/demo/metadata-clients`, { headers: admin })).json();
      assert.equal(listed.clients.some((c) => c.client_id === url), false, 'allowed again and no live grant: no longer listed');
      await row.waitFor({ state: 'detached' });
      assert.deepEqual(page.errors, []);
      await page.close();
    } finally {
      await docs.close();
    }
  });

  test('OAuth: a confidential client (secret shown once), the custom login URL, and deleting clients', async () => {
    const page = await openConsole();
    await signIn(page);
    const dynamic = await registerClient(w.url, { client_name: HOSTILE, redirect_uris: ['https://app.example.com/cb'] });
    await go(page, 'oauth', '#clients-table');
    await page.fill('#client-name', 'ChatGPT connector');
    await page.fill('#client-redirects', 'https://chatgpt.com/connector_platform_oauth_redirect');
    await page.click('#client-form button[type=submit]');
    await page.waitForSelector('#new-client-secret');
    const clientId = await page.textContent('#new-client-id');
    const secret = await page.textContent('#new-client-secret');
    assert.ok(secret.length >= 32);
    assert.match(await page.textContent('#client-secret-panel'), /shown only once/);
    const row = page.locator(`#clients-table tr[data-client-id="${clientId}"]`);
    assert.equal(await row.locator('.client-name').textContent(), 'ChatGPT connector');
    assert.ok(!(await page.textContent('#clients-table')).includes(secret));
    // The dynamically registered client, its hostile name shown as text.
    const dynamicRow = page.locator(`#dynamic-clients-table tr[data-client-id="${dynamic.client_id}"]`);
    assert.equal(await dynamicRow.locator('.client-name').textContent(), HOSTILE);
    assert.equal(await page.locator('#dynamic-clients-table img').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // Custom login URL: set (secret once), then back to the built-in form.
    await page.fill('#login-url', 'https://login.example.com/mcp');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-secret');
    assert.ok((await page.textContent('#login-secret')).length >= 40);
    await page.waitForFunction(() => document.querySelector('#login-url-current')?.textContent === 'https://login.example.com/mcp');
    const set = await (await fetch(`${w.url}/admin/services/demo/login`, { headers: admin })).json();
    assert.equal(set.url, 'https://login.example.com/mcp');
    await page.click('#login-clear');
    await confirm(page);
    await page.waitForFunction(() => document.querySelector('#login-url-current')?.textContent.includes('built-in'));
    assert.equal((await (await fetch(`${w.url}/admin/services/demo/login`, { headers: admin })).json()).url, null);
    // A bad URL gets the server's message.
    await page.fill('#login-url', 'http://insecure.example.com/');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#page-message:not([hidden])');
    assert.match(await page.textContent('#page-message'), /Could not set the login URL: url/);
    // Delete both clients.
    await row.getByRole('button', { name: /^Delete/ }).click();
    await confirm(page);
    await row.waitFor({ state: 'detached' });
    await dynamicRow.getByRole('button', { name: /^Delete/ }).click();
    await confirm(page);
    await dynamicRow.waitFor({ state: 'detached' });
    for (const id of [clientId, dynamic.client_id]) {
      assert.equal((await fetch(`${w.url}/admin/clients/${id}`, { headers: admin })).status, 404);
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('users: create, reset the password, disable, enable and delete', async () => {
    const page = await openConsole();
    await signIn(page);
    await go(page, 'users', '#users-table');
    await page.fill('#user-name', 'grace');
    await page.fill('#user-password', PASSWORD);
    await page.click('#user-form button[type=submit]');
    const row = page.locator('#users-table tr[data-user="grace"]');
    await row.waitFor();
    assert.equal(await row.locator('.badge').textContent(), 'active');
    // Reset the password.
    await row.getByRole('button', { name: 'Reset password' }).click();
    await page.fill('#reset-grace', 'a brand new passphrase');
    const [patch] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/users/grace') && r.request().method() === 'PATCH'),
      page.click('.reset-form button[type=submit]'),
    ]);
    assert.equal(patch.status(), 200);
    assert.deepEqual(JSON.parse(patch.request().postData()), { password: 'a brand new passphrase' });
    // Disable, then enable.
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.waitForFunction(() => document.querySelector('tr[data-user="grace"] .badge')?.textContent === 'disabled');
    let listed = (await (await fetch(`${w.url}/admin/services/demo/users`, { headers: admin })).json()).users;
    assert.equal(listed.find((u) => u.username === 'grace').disabled, true);
    await page.locator('#users-table tr[data-user="grace"]').getByRole('button', { name: 'Enable' }).click();
    await page.waitForFunction(() => document.querySelector('tr[data-user="grace"] .badge')?.textContent === 'active');
    // A too-short password is refused with the server's reason.
    await page.fill('#user-name', 'shorty');
    await page.fill('#user-password', 'x');
    await page.evaluate(() => document.querySelector('#user-password').removeAttribute('minlength'));
    await page.click('#user-form button[type=submit]');
    await page.waitForSelector('#page-message:not([hidden])');
    assert.match(await page.textContent('#page-message'), /password is \d+ to \d+ characters/);
    // Delete.
    await page.locator('#users-table tr[data-user="grace"]').getByRole('button', { name: 'Delete' }).click();
    await confirm(page);
    await page.waitForSelector('#users-table tr[data-user="grace"]', { state: 'detached' });
    listed = (await (await fetch(`${w.url}/admin/services/demo/users`, { headers: admin })).json()).users;
    assert.ok(!listed.some((u) => u.username === 'grace'));
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('an ended session (signed out elsewhere, or its cookie expired) goes back to sign-in with a message', async () => {
    const page = await openConsole();
    await signIn(page);
    // Sign out with this very cookie from outside the page (as a stolen copy would be replayed).
    const cookie = (await browser.cookies(base)).find((c) => c.name === '__Host-dbmcp_console');
    const csrf = await page.evaluate(() => state.csrf);
    const out = await fetch(`${w.url}/admin/session`, { method: 'DELETE', headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': csrf, origin: w.url } });
    assert.equal(out.status, 204);
    await page.click('nav a[data-page="keys"]');
    await page.waitForSelector('#signin:not([hidden])');
    assert.match(await page.textContent('#signin-message'), /session has ended/);
    assert.ok(await page.isHidden('#nav'));
    // Signed in again, then the cookie expires (the browser drops it).
    await signIn(page);
    await browser.clearCookies();
    await page.click('nav a[data-page="users"]');
    await page.waitForSelector('#signin:not([hidden])');
    assert.match(await page.textContent('#signin-message'), /session has ended/);
    // The sign-out button.
    await signIn(page);
    await page.click('#sign-out');
    await page.waitForSelector('#signin:not([hidden])');
    assert.equal(await page.textContent('#signin-message'), 'You signed out.');
    assert.equal((await browser.cookies(base)).filter((c) => c.name === '__Host-dbmcp_console').length, 0);
    await page.reload();
    await page.waitForSelector('#signin-form');
    assert.ok(await page.isVisible('#signin-form'), 'a reload after signing out shows the sign-in');
    assert.ok(await page.isHidden('#nav'));
    await page.close();
  });

  test('execution logs: the chart, error rate per tool, a filter, one call\'s detail and an export', async () => {
    const made = await createKey(w.url, 'demo', { label: 'log writer' });
    const { client } = await connectClient(w.mcpUrl('demo'), made.key, 'console-test-client');
    try {
      await client.callTool({ name: 'get_table_data', arguments: { table: 'customers', limit: 3 } });
      await client.callTool({ name: 'get_tables', arguments: {} });
      const bad = await client.callTool({ name: 'get_table_data', arguments: { table: HOSTILE } });
      assert.equal(bad.isError, true);
    } finally {
      await client.close();
    }
    // Entries are written after the response: wait (bounded) until all three are readable.
    const deadline = Date.now() + 10_000;
    let entries = [];
    while (Date.now() < deadline) {
      entries = (await (await fetch(`${w.url}/admin/services/demo/logs`, { headers: admin })).json()).entries ?? [];
      if (entries.filter((e) => e.method === 'tools/call').length >= 3) break;
      await sleep(100);
    }
    assert.ok(entries.filter((e) => e.method === 'tools/call').length >= 3, 'three calls logged');

    const page = await openConsole();
    await signIn(page);
    await go(page, 'logs', '#logs-table tbody tr[data-log-id]');
    await page.waitForSelector('#log-summary svg rect.bar-calls', { state: 'attached' });
    const heights = await page.locator('#log-summary svg rect.bar-calls').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('height'))));
    assert.ok(heights.some((h) => h > 0), 'this hour has a bar');
    assert.ok(await page.locator('#log-summary svg rect.bar-errors').count() >= 1, 'and an error part');
    const tools = await page.locator('#tools-table tbody tr', { hasText: 'get_table_data' }).textContent();
    assert.match(tools, /get_table_data2150\.0 %/, 'two calls, one error, 50 %');
    await shot(page, 'console-logs.png');
    // Filter: tool errors only.
    await page.selectOption('#log-outcome', 'tool_error');
    await page.click('#log-filters button[type=submit]');
    await page.waitForFunction(() => [...document.querySelectorAll('#logs-table tbody tr[data-log-id] .badge')].every((b) => b.textContent === 'tool_error'));
    const rows = page.locator('#logs-table tbody tr[data-log-id]');
    assert.equal(await rows.count(), 1);
    // One call's detail, opened with the keyboard; the hostile argument shown as text.
    await rows.first().focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#log-detail dl');
    const detail = await page.textContent('#log-detail');
    assert.ok(detail.includes(JSON.stringify(HOSTILE)), `the argument is shown as text: ${detail}`);
    assert.match(detail, /log writer/);
    assert.equal(await page.locator('#log-detail img').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // Export what the filter selects.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSONL' }).click()]);
    const lines = (await streamText(await download.createReadStream())).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].outcome, 'tool_error');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('every page fits a phone-width screen without sideways scrolling', async () => {
    const page = await openConsole({ width: 390, height: 844 });
    await signIn(page);
    await go(page, 'services', 'article[data-service="demo"]');
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok((await overflow()) <= 0, `services overflow ${await overflow()}px`);
    await shot(page, 'console-phone-services.png');
    for (const [name, ready] of [['keys', '#keys-table'], ['oauth', '#clients-table'], ['users', '#users-table']]) {
      await go(page, name, ready);
      assert.ok((await overflow()) <= 0, `${name} overflows by ${await overflow()}px`);
    }
    await createKey(w.url, 'demo', { label: 'phone', scopes: ['mcp:read'] });
    await go(page, 'services', 'article[data-service="demo"]');
    await go(page, 'keys', '#keys-table tbody tr[data-key-id]');
    assert.ok((await overflow()) <= 0, `keys with a row overflow by ${await overflow()}px`);
    await shot(page, 'console-phone-keys.png');
    await page.close();
  });
});
