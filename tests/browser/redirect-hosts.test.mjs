// Issue 7.8 in a real browser: the consent page must name the host Chromium actually goes to.
// For every redirect URI the worker accepts, Chromium signs in, reads the host on the consent
// page, denies, and follows the worker's redirect; the request Chromium then makes is observed
// (there is no network) and its host compared with the one shown. URIs Chromium reads differently from their
// text (backslash, Unicode host) are refused at registration.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startWorker } from '../support/worker.mjs';
import { PASSWORD, authorizeUrl, createUser, pkce, register, registerClient } from '../support/oauth.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required in CI: install it (apt-get install chromium) or set CHROMIUM_PATH; not found at ${CHROMIUM}`);

const ACCEPTED = [
  'https://xn--80ak6aa92e.com/cb',
  'https://Claude.AI:443/cb',
  'https://claude.ai./cb',
  'https://xn--fa-hia.de/cb',
  'https://1.2.3.4/cb',
  'https://app.example.com/a/../cb?x=1',
  'http://[::1]:9000/cb',
  'http://127.0.0.1:9/cb',
];

describe('the consent page names the host the browser visits', () => {
  let w;
  let base;
  let browser;

  before(async () => {
    w = await startWorker();
    // Browsers store Secure (`__Host-`) cookies over plain http only for `localhost`.
    base = w.url.replace('127.0.0.1', 'localhost');
    await createUser(w.url, 'demo', 'alice');
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

  /** Signs in and denies in Chromium: the host the consent page showed and the URL Chromium then requested. */
  async function shownAndVisited(client, uri) {
    const { challenge } = pkce();
    await browser.clearCookies();
    const page = await browser.newPage();
    const workerHost = new URL(base).host;
    try {
      await page.goto(authorizeUrl(base, { clientId: client.client_id, redirectUri: uri, challenge }));
      await page.fill('#username', 'alice');
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL(/\/authorize\/login$/), page.click('button[type=submit]')]);
      const shown = await page.textContent('#redirect-host');
      // Chromium follows the worker's 302 itself; the request it then makes (it fails: there
      // is no network) names the host it resolved.
      const [left] = await Promise.all([
        page.waitForEvent('request', (r) => new URL(r.url()).host !== workerHost),
        page.click('button[value=deny]'),
      ]);
      assert.equal(left.redirectedFrom()?.url(), `${base}/authorize/consent`, "reached by the worker's redirect");
      return { shown, visited: new URL(left.url()) };
    } finally {
      await page.close();
    }
  }

  for (const uri of ACCEPTED) {
    test(`${uri}: shown host = visited host`, async () => {
      const client = await registerClient(w.url, { redirect_uris: [uri] });
      const { shown, visited } = await shownAndVisited(client, uri);
      assert.equal(visited.hostname, shown, `Chromium went to ${visited}`);
      assert.equal(visited.searchParams.get('error'), 'access_denied');
    });
  }

  // Issue 7.8's examples and their kin: a worker that accepted them showed one host while
  // Chromium went to another. Each must be refused, or (if it were accepted) shown as visited.
  const HOSTILE = ['https://evil.example\\claude.ai/cb', 'https://аррӏе.com/cb', 'https://evil%2Eexample/cb', 'http://0x7f000001/cb'];
  for (const uri of HOSTILE) {
    test(`${JSON.stringify(uri)}: refused, never shown as another host`, async () => {
      const res = await register(w.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      if (res.status === 201) {
        const { shown, visited } = await shownAndVisited(res.json, uri);
        assert.equal(visited.hostname, shown, `the page showed ${shown}, Chromium went to ${visited}`);
      }
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'invalid_redirect_uri');
    });
  }

  test('URIs Chromium reads differently from their text are refused', async () => {
    const page = await browser.newPage();
    try {
      const cases = [
        ['https://evil.example\\claude.ai/cb', 'evil.example'],
        ['https://аррӏе.com/cb', 'xn--80ak6aa92e.com'],
        ['https://evil%2Eexample/cb', 'evil.example'],
        ['https://0x7f000001/cb', '127.0.0.1'],
      ];
      for (const [uri, chromiumHost] of cases) {
        // What Chromium makes of it (the reason for refusing it)...
        assert.equal(await page.evaluate((u) => new URL(u).hostname, uri), chromiumHost);
        // ...and the worker refuses it rather than show something else.
        const res = await register(w.url, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
        assert.equal(res.status, 400, `${uri}: ${res.text}`);
        assert.equal(res.json.error, 'invalid_redirect_uri');
      }
    } finally {
      await page.close();
    }
  });
});
