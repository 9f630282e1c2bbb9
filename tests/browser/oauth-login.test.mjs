// A real headless Chromium (Debian's `chromium`, driven by playwright-core) walks the sign-in and
// consent pages: a successful login and approval, a wrong password, and a forged CSRF token.
// A missing browser is a failure, never a skip: `npm test` installs Debian's chromium first.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startWorker } from '../support/worker.mjs';
import { PASSWORD, authorizeUrl, createUser, pkce, registerClient, tokenRequest } from '../support/oauth.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required in CI: install it (apt-get install chromium) or set CHROMIUM_PATH; not found at ${CHROMIUM}`);

describe('sign-in and consent in a real browser', () => {
  let w;
  // Browsers store Secure (`__Host-`) cookies over plain http only for `localhost`.
  let base;
  let browser;
  let callback;
  let redirectUri;
  const arrived = [];

  before(async () => {
    w = await startWorker();
    base = w.url.replace('127.0.0.1', 'localhost');
    await createUser(w.url, 'demo', 'alice');
    callback = createServer((req, res) => {
      arrived.push(new URL(req.url, redirectUri));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached');
    });
    await new Promise((resolve) => callback.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://127.0.0.1:${callback.address().port}/callback`;
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbmcp-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    callback?.close();
    await w?.stop();
  });

  async function openAuthorize(client, scope = 'mcp:read mcp:write') {
    const { verifier, challenge } = pkce();
    await browser.clearCookies();
    const page = await browser.newPage();
    const response = await page.goto(authorizeUrl(base, { clientId: client.client_id, redirectUri, challenge, state: 'browser-state', scope }));
    return { page, response, verifier };
  }

  test('signs in, shows the consent page, and lands on the client with a code', async () => {
    const client = await registerClient(w.url, { client_name: 'Browser Test App', redirect_uris: [redirectUri] });
    const { page, response, verifier } = await openAuthorize(client);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(await page.title(), 'Sign in');
    await page.fill('#username', 'alice');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(/\/authorize\/login$/), page.click('button[type=submit]')]);
    assert.equal(await page.textContent('#client'), 'Browser Test App');
    assert.equal(await page.textContent('#redirect-host'), '127.0.0.1');
    assert.match(await page.textContent('#access'), /mcp:write/);
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value=approve]')]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('state'), 'browser-state');
    assert.equal(landed.searchParams.get('iss'), base);
    const token = await tokenRequest(base, { grant_type: 'authorization_code', code: landed.searchParams.get('code'), code_verifier: verifier, redirect_uri: redirectUri, client_id: client.client_id });
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.scope, 'mcp:read mcp:write');
  });

  test('a wrong password shows the form again with an error', async () => {
    const client = await registerClient(w.url, { redirect_uris: [redirectUri] });
    const { page } = await openAuthorize(client);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'definitely wrong');
    const [response] = await Promise.all([page.waitForResponse(/\/authorize\/login$/), page.click('button[type=submit]')]);
    assert.equal(response.status(), 401);
    assert.equal(await page.textContent('[role=alert]'), 'Wrong username or password.');
    assert.equal(await page.inputValue('#username'), 'alice');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(/\/authorize\/login$/), page.click('button[type=submit]')]);
    assert.equal(await page.title(), 'Allow access?');
  });

  test('a forged CSRF token is refused (403) and no code is issued', async () => {
    const client = await registerClient(w.url, { redirect_uris: [redirectUri] });
    const { page } = await openAuthorize(client);
    await page.fill('#username', 'alice');
    await page.fill('#password', PASSWORD);
    await page.evaluate(() => {
      document.querySelector('input[name=csrf]').value = 'forged-token';
    });
    const before = arrived.length;
    const [response] = await Promise.all([page.waitForResponse(/\/authorize\/login$/), page.click('button[type=submit]')]);
    assert.equal(response.status(), 403);
    assert.match(await page.textContent('[role=alert]'), /cross-site request forgery/, 'refused for the token, not for a missing cookie');
    assert.equal(arrived.length, before);
  });
});
