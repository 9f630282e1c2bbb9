// The official conformance suite's authorization mode (@modelcontextprotocol/conformance
// `authorization`) against the worker: the metadata scenario, and the authorization code grant,
// whose browser step (sign-in and consent) this test performs with fetch.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startWorker } from '../support/worker.mjs';
import { createUser, registerClient, signInAndConsent } from '../support/oauth.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}node_modules/@modelcontextprotocol/conformance/dist/index.js`;
let w;

before(async () => {
  w = await startWorker({ migrate: false });
  await createUser(w.url, 'demo', 'alice');
});
after(async () => {
  await w?.stop();
});

test('conformance authorization: metadata and authorization code grant pass', { timeout: 120_000 }, async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const client = await registerClient(w.url, { client_name: 'conformance', redirect_uris: [`http://127.0.0.1:${port}/callback`] });
  const child = spawn(process.execPath, [CLI, 'authorization', '--url', w.url, '--client-id', client.client_id, '--resource', `${w.url}/mcp/demo`, '--port', String(port)], { cwd: ROOT });
  let output = '';
  let walked = null;
  child.stderr.on('data', (d) => (output += d));
  child.stdout.on('data', (d) => {
    output += d;
    const url = output.match(new RegExp(`^(${w.url}/authorize\\?\\S+)$`, 'm'))?.[1];
    if (url && !walked) {
      walked = (async () => {
        const result = await signInAndConsent(url);
        assert.equal(result.status, 302, result.text);
        // The "browser" follows the redirect to the suite's callback server.
        await fetch(result.location);
      })();
    }
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  await walked;
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  // The metadata scenario's second check is client_id_metadata_document_supported (a warning
  // before CIMD was supported, a pass since).
  assert.match(plain, /authorization-server-metadata-endpoint: 2 passed, 0 failed/, plain);
  assert.match(plain, /authorization-code-grant: 1 passed, 0 failed/, plain);
  assert.match(plain, /Total: 3 passed, 0 failed/, plain);
  assert.equal(code, 0, plain);
});
