// The operator console's Tools page in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core): the configured tool shown read-only, a tool created through the form (the
// server's validation problems shown first), listed to an MCP client, disabled and enabled, a
// change made elsewhere refused (412) with the list refreshed, and deleted after a confirmation.
// Custom tools need the query-sql feature: this runs on build-conformance/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN_TOKEN, createKey, startWorker } from '../support/worker.mjs';
import { connectClient } from '../support/mcp.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required: install it (apt-get install chromium) or set CHROMIUM_PATH; not found at ${CHROMIUM}`);

const HOSTILE = '<img src=x onerror="window.__xss=1">';

describe('the console Tools page in a real browser', () => {
  let w;
  let base;
  let browser;
  let client;

  before(async () => {
    w = await startWorker({
      services: {
        demo: {
          label: 'Demo store',
          database: { kind: 'd1', binding: 'DB' },
          max_rows: 50,
          tools: { from_config: { description: 'Configured.', sql: 'SELECT 1 AS one' } },
        },
      },
      buildDir: 'build-conformance',
    });
    base = w.url.replace('127.0.0.1', 'localhost');
    const key = await createKey(w.url, 'demo', { label: 'console tools' });
    client = (await connectClient(w.mcpUrl('demo'), key.key)).client;
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dbmcp-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await client?.close().catch(() => {});
    await browser?.close();
    await w?.stop();
  });

  async function openTools() {
    // Each test signs in itself: a session cookie left by another would resume on load.
    await browser.clearCookies();
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text()); });
    page.errors = errors;
    await page.goto(`${base}/admin`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.press('#token', 'Enter');
    await page.waitForSelector('#nav:not([hidden])');
    await page.click('nav a[data-page="tools"]');
    await page.waitForSelector('#custom-tools-table tbody tr[data-tool="from_config"]');
    return page;
  }

  const listed = async () => (await client.listTools()).tools.map((t) => t.name);
  const row = (page, name) => page.locator(`#custom-tools-table tbody tr[data-tool="${name}"]`);

  test('create (problems shown first), list, disable, enable and delete a tool', async () => {
    const page = await openTools();
    const configured = row(page, 'from_config');
    assert.match(await configured.textContent(), /configuration/);
    assert.equal(await configured.getByRole('button').count(), 0, 'configured tools are read-only here');

    // A mistake first: the server's problems are listed in the form.
    await page.fill('#tool-name', 'by_country');
    await page.fill('#tool-title', HOSTILE);
    await page.fill('#tool-description', 'Names of the customers of one country.');
    await page.fill('#tool-sql', 'SELECT name FROM customers WHERE country = :country');
    await page.fill('#tool-parameters', '{"country": {"type": "string"}, "unused": {"type": "integer"}}');
    await page.fill('#tool-required', 'country');
    await page.click('#tool-save');
    await page.waitForSelector('#tool-errors:not([hidden]) li');
    assert.match(await page.textContent('#tool-errors'), /parameters\.unused: declared but not used/);
    assert.equal(await row(page, 'by_country').count(), 0);

    await page.fill('#tool-parameters', '{"country": {"type": "string", "maxLength": 40}}');
    await page.click('#tool-save');
    await row(page, 'by_country').waitFor();
    assert.ok(await page.isHidden('#tool-errors'));
    assert.equal(await row(page, 'by_country').locator('.tool-title').textContent(), HOSTILE, 'the title is shown as text');
    assert.equal(await page.locator('#custom-tools-table img').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.ok((await listed()).includes('by_country'), 'an MCP client sees the new tool');
    const result = await client.callTool({ name: 'by_country', arguments: { country: 'USA' } });
    assert.equal(result.isError, false, JSON.stringify(result.content));

    // Disable, then enable.
    await row(page, 'by_country').getByRole('button', { name: 'Disable by_country' }).click();
    await row(page, 'by_country').getByRole('button', { name: 'Enable by_country' }).waitFor();
    assert.match(await row(page, 'by_country').textContent(), /disabled/);
    assert.ok(!(await listed()).includes('by_country'));
    await row(page, 'by_country').getByRole('button', { name: 'Enable by_country' }).click();
    await row(page, 'by_country').getByRole('button', { name: 'Disable by_country' }).waitFor();
    assert.ok((await listed()).includes('by_country'));

    // Delete: Cancel keeps it, Confirm deletes it.
    await row(page, 'by_country').getByRole('button', { name: 'Delete by_country' }).click();
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-cancel');
    assert.equal(await row(page, 'by_country').count(), 1);
    await row(page, 'by_country').getByRole('button', { name: 'Delete by_country' }).click();
    await page.waitForSelector('#confirm-dialog[open]');
    await page.click('#confirm-ok');
    await row(page, 'by_country').waitFor({ state: 'detached' });
    assert.ok(!(await listed()).includes('by_country'));
    await assert.rejects(client.callTool({ name: 'by_country', arguments: { country: 'USA' } }), /unknown tool "by_country"/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('an edit based on a stale list is refused (412) and the list refreshed', async () => {
    const page = await openTools();
    const put = (name, description) => fetch(`${w.url}/admin/services/demo/tools/${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ description, sql: 'SELECT 1 AS one' }),
    });
    assert.equal((await put('shared', 'First.')).status, 201);
    await page.click('nav a[data-page="services"]');
    await page.click('nav a[data-page="tools"]');
    await row(page, 'shared').waitFor();
    await row(page, 'shared').getByRole('button', { name: 'Edit shared' }).click();
    assert.equal(await page.inputValue('#tool-description'), 'First.');
    // Someone else changes the tools meanwhile.
    assert.equal((await put('other', 'Elsewhere.')).status, 201);
    await page.fill('#tool-description', 'Second.');
    await page.click('#tool-save');
    await page.waitForSelector('#page-message:not([hidden])');
    assert.match(await page.textContent('#page-message'), /changed elsewhere/);
    await row(page, 'other').waitFor();
    const stored = await (await fetch(`${w.url}/admin/services/demo/tools/shared`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
    assert.equal(stored.definition.description, 'First.', 'the stale edit was not written');
    // Saved again on the refreshed list, it goes through.
    await page.click('#tool-save');
    await page.waitForSelector('#tool-form-title:text("Create a tool")');
    const saved = await (await fetch(`${w.url}/admin/services/demo/tools/shared`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
    assert.equal(saved.definition.description, 'Second.');
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
