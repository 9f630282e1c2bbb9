// A person opening a `search`/`fetch` link in a real headless Chromium (as from ChatGPT): the
// record page sends the browser through this server's own sign-in and consent, comes back to the
// record, and shows it with that person's row policy applied; the cookie it keeps is HttpOnly,
// `__Host-` and SameSite=Lax, works only on that service's record pages (never as an MCP
// credential), and signing out forgets it. A forged sign-in cookie or a foreign return path is
// refused. A missing browser is a failure, never a skip.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startWorker } from '../support/worker.mjs';
import { PASSWORD, admin } from '../support/oauth.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required in CI: install it (apt-get install chromium) or set CHROMIUM_PATH; not found at ${CHROMIUM}`);

const COOKIE = '__Host-dbmcp_records_shop';

describe('record pages: a person signs in with a browser', () => {
  let w;
  let base;
  let browser;

  before(async () => {
    w = await startWorker({
      services: {
        shop: {
          label: 'Shop records',
          database: { kind: 'd1', binding: 'DB' },
          rows: { orders: 'customer_id = {user.customer_id}' },
        },
        other: { label: 'Other', database: { kind: 'd1', binding: 'DB' } },
      },
    });
    // Browsers keep Secure (`__Host-`) cookies over plain http only for `localhost`.
    base = w.url.replace('127.0.0.1', 'localhost');
    const created = await admin(w.url, 'POST', '/services/shop/users', { username: 'carol', password: PASSWORD, attributes: { customer_id: 1 } });
    assert.equal(created.status, 201, created.text);
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbmcp-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    await w?.stop();
  });

  async function signIn(page, recordUrl) {
    const first = await page.goto(recordUrl);
    assert.equal(first.status(), 200);
    assert.equal(await page.title(), 'Sign in', 'the record link lands on the sign-in page');
    assert.match(page.url(), /\/authorize\?/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('client_id'), 'dbmcp-records:shop');
    assert.equal(url.searchParams.get('redirect_uri'), `${base}/mcp/shop/records/callback`);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    await page.fill('#username', 'carol');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(/\/authorize\/login$/), page.click('button[type=submit]')]);
    assert.equal(await page.textContent('#client'), 'Record pages of this server');
    assert.doesNotMatch(await page.textContent('#access'), /mcp:write/, 'the record pages ask to read only');
    await Promise.all([page.waitForURL(recordUrl), page.click('button[value=approve]')]);
  }

  test('a link to a record signs the person in and comes back to it, with their row policy', async () => {
    await browser.clearCookies();
    const page = await browser.newPage();
    await signIn(page, `${base}/mcp/shop/records/orders/1`);
    assert.equal(page.url(), `${base}/mcp/shop/records/orders/1`, 'back on the record');
    const text = await page.textContent('body');
    assert.match(text, /table orders · record orders:1/);
    assert.match(text, /139\.48/, 'the record of customer 1 is shown to carol (customer 1)');
    assert.match(text, /Sign out/);

    const cookies = await browser.cookies(base);
    const cookie = cookies.find((c) => c.name === COOKIE);
    assert.ok(cookie, `the ${COOKIE} cookie is kept: ${JSON.stringify(cookies.map((c) => c.name))}`);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.ok(!cookies.some((c) => c.name === '__Host-dbmcp_records_flow'), 'the pending sign-in cookie is cleared');

    // Order 2 belongs to customer 2: carol's row policy hides it.
    const hidden = await page.goto(`${base}/mcp/shop/records/orders/2`);
    assert.equal(hidden.status(), 404);
    assert.doesNotMatch(await page.textContent('body'), /199/);

    // The cookie is no credential for the MCP endpoint, nor for another service's records.
    const mcp = await fetch(`${w.url}/mcp/shop`, {
      method: 'POST',
      headers: { cookie: `${COOKIE}=${cookie.value}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(mcp.status, 401);
    const elsewhere = await fetch(`${w.url}/mcp/other/records/orders/1`, { headers: { cookie: `__Host-dbmcp_records_other=${cookie.value}` } });
    assert.equal(elsewhere.status, 401, 'a token for shop is not one for other');

    // Signing out forgets it: the record asks for a sign-in again.
    await page.goto(`${base}/mcp/shop/records/signout`);
    assert.ok(!(await browser.cookies(base)).some((c) => c.name === COOKIE), 'signed out');
    await page.goto(`${base}/mcp/shop/records/orders/1`);
    assert.equal(await page.title(), 'Sign in');
    await page.close();
  });

  test('without a browser the page still answers 401, with a sign-in link', async () => {
    const res = await fetch(`${w.url}/mcp/shop/records/orders/1`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.match(await res.text(), /href="\/mcp\/shop\/records\/signin\?next=%2Fmcp%2Fshop%2Frecords%2Forders%2F1"/);
  });

  test('a sign-in only returns to a record page of the same service', async () => {
    for (const next of ['https://evil.example/x', '//evil.example/mcp/shop/records/orders/1', '/mcp/other/records/orders/1', '/admin']) {
      const res = await fetch(`${w.url}/mcp/shop/records/signin?next=${encodeURIComponent(next)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, next);
    }
  });

  test('a callback without this browser\'s pending sign-in, or with a forged one, is refused', async () => {
    const start = await fetch(`${w.url}/mcp/shop/records/signin?next=${encodeURIComponent('/mcp/shop/records/orders/1')}`, { redirect: 'manual' });
    assert.equal(start.status, 302);
    const flow = start.headers.get('set-cookie').split(';')[0];
    const state = new URL(start.headers.get('location')).searchParams.get('state');

    const noCookie = await fetch(`${w.url}/mcp/shop/records/callback?code=x&state=${state}`);
    assert.equal(noCookie.status, 400);
    assert.match(await noCookie.text(), /no sign-in in progress/);

    const wrongState = await fetch(`${w.url}/mcp/shop/records/callback?code=x&state=other`, { headers: { cookie: flow } });
    assert.equal(wrongState.status, 400);
    assert.match(await wrongState.text(), /another sign-in/);

    // The cookie's payload changed to return elsewhere, its signature kept.
    const [name, value] = flow.split('=');
    const [payload, signature] = value.split('.');
    const pending = JSON.parse(Buffer.from(payload, 'base64url'));
    pending.return_to = '/mcp/shop/records/customers/2';
    const forged = `${name}=${Buffer.from(JSON.stringify(pending)).toString('base64url')}.${signature}`;
    const tampered = await fetch(`${w.url}/mcp/shop/records/callback?code=x&state=${state}`, { headers: { cookie: forged } });
    assert.equal(tampered.status, 400);
    assert.match(await tampered.text(), /not issued by this server/);

    // The right cookie and state with a made-up code: the token endpoint's own refusal.
    const badCode = await fetch(`${w.url}/mcp/shop/records/callback?code=made-up&state=${state}`, { headers: { cookie: flow }, redirect: 'manual' });
    assert.equal(badCode.status, 400);
    assert.doesNotMatch(badCode.headers.get('set-cookie') ?? '', /dbmcp_records_shop=/);
  });
});
