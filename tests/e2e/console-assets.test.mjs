// The operator console's page is not in the wasm: its three files live in assets/admin/ and are
// uploaded beside the worker (Workers Static Assets, wrangler.toml's [assets], which the harness
// reads). Checked here in Miniflare with the real assets router and binding:
// - each URL answers its file byte for byte, with the console's headers and its own caching;
// - nothing else is served from the assets directory (the worker runs first for every path);
// - a worker deployed without its assets (no binding, or a directory without the files) answers
//   a clear 503 on the page, and the admin API and console sign-in keep working.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, startWorker, tempDir } from '../support/worker.mjs';
import { consoleSignIn } from '../support/console.mjs';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const onDisk = (name) => readFileSync(new URL(`../../assets/admin/${name}`, import.meta.url));

function assertHardened(res, what) {
  assert.equal(res.headers.get('content-security-policy'), CSP, what);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
}

describe('console page from the assets directory', () => {
  let w;
  before(async () => {
    w = await startWorker();
  });
  after(async () => {
    await w?.stop();
  });

  test('each URL answers its file with the console headers and its caching', async () => {
    const files = [
      ['/admin', 'index.html', 'text/html; charset=utf-8', 'no-store'],
      ['/admin/', 'index.html', 'text/html; charset=utf-8', 'no-store'],
      ['/admin/console.js', 'console.js', 'text/javascript; charset=utf-8', 'no-cache'],
      ['/admin/console.css', 'console.css', 'text/css; charset=utf-8', 'no-cache'],
    ];
    for (const [path, file, type, cache] of files) {
      const res = await fetch(`${w.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      assert.equal(res.headers.get('cache-control'), cache, path);
      assertHardened(res, path);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), onDisk(file), path);
      const head = await fetch(`${w.url}${path}`, { method: 'HEAD' });
      assert.equal(head.status, 200, `HEAD ${path}`);
      assert.equal(head.headers.get('content-type'), type, `HEAD ${path}`);
      assertHardened(head, `HEAD ${path}`);
      assert.equal((await head.arrayBuffer()).byteLength, 0, `HEAD ${path}`);
    }
  });

  test('no other path is served from the assets directory', async () => {
    const script = onDisk('console.js').toString('utf8');
    const page = onDisk('index.html').toString('utf8');
    const cases = [
      // The file's own path under /admin is not a route: the admin API asks for its token.
      ['/admin/index.html', 401],
      ['/admin/console.js/', 401],
      ['/admin/admin/console.js', 401],
      // The directory's layout at the root, or under the MCP prefix, is nobody's URL.
      ['/index.html', 404],
      ['/console.js', 404],
      ['/admin/index.html/', 401],
      ['/mcp/console.js', 404],
      ['/mcp/demo/console.js', 404],
    ];
    for (const [path, status] of cases) {
      const res = await fetch(`${w.url}${path}`);
      const text = await res.text();
      assert.equal(res.status, status, `${path}: ${text.slice(0, 200)}`);
      assert.ok(!text.includes("'use strict'") && text !== script && text !== page, `${path} served a console file`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
    }
    // The routes beside the page are unchanged.
    const services = await fetch(`${w.url}/admin/services`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(services.status, 200);
    assertHardened(services, '/admin/services');
    assert.equal((await services.json()).services.length, 3);
    const { res: signIn, csrf } = await consoleSignIn(w.url);
    assert.equal(signIn.status, 200);
    assert.ok(csrf);
  });
});

describe('a worker deployed without its assets', () => {
  let w;
  before(async () => {
    w = await startWorker({ assets: false });
  });
  after(async () => {
    await w?.stop();
  });

  test('the page answers 503 saying what to fix; the admin API and sign-in still work', async () => {
    for (const path of ['/admin', '/admin/', '/admin/console.js', '/admin/console.css']) {
      const res = await fetch(`${w.url}${path}`);
      assert.equal(res.status, 503, path);
      assertHardened(res, path);
      assert.equal(res.headers.get('cache-control'), 'no-store', path);
      const body = await res.json();
      assert.equal(body.error, 'console_unavailable', path);
      assert.match(body.error_description, /\[assets\]/, path);
    }
    const services = await fetch(`${w.url}/admin/services`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(services.status, 200);
    const { res: signIn } = await consoleSignIn(w.url);
    assert.equal(signIn.status, 200);
  });

  test('an assets directory without the files: 503 naming the missing file', async () => {
    const empty = await startWorker({ assets: { directory: tempDir('dbmcp-no-assets-') } });
    try {
      for (const [path, file] of [['/admin', '/admin/index.html'], ['/admin/console.js', '/admin/console.js']]) {
        const res = await fetch(`${empty.url}${path}`);
        assert.equal(res.status, 503, path);
        assertHardened(res, path);
        const body = await res.json();
        assert.equal(body.error, 'console_unavailable', path);
        assert.ok(body.error_description.includes(file), body.error_description);
      }
    } finally {
      await empty.stop();
    }
  });
});
