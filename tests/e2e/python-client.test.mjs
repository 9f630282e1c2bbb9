// The official Python MCP client (`mcp` 2.3.0 from PyPI, installed into .venv-py by the bootstrap)
// against the worker in the 2026-07-28 era: pinned (`mode="2026-07-28"`, no handshake) and in
// `auto` mode (it probes server/discover). It lists tools, reads with a progress callback, and
// deletes 12 or 15 rows by filter: the server asks through MRTR (an elicitation in an
// input_required result), the client's callback answers, and the client retries on its own; an
// accepted confirmation deletes exactly the rows shown, a declined one deletes nothing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createKey, startWorker } from '../support/worker.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = `${ROOT}.venv-py/bin/python`;
const SCRIPT = `${ROOT}tests/python/modern_client.py`;

let w;
let key;

function runClient(mode, answer, filter) {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run npm run bootstrap`);
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, w.mcpUrl('demo'), key, mode, answer, filter], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python client failed: ${error.message}\n${stderr.slice(-4000)}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
    });
  });
}

before(async () => {
  w = await startWorker();
  key = (await createKey(w.url, 'demo')).key;
});

after(async () => {
  await w?.stop();
});

test('pinned to 2026-07-28: lists, reads with progress, and an accepted confirmation deletes exactly the rows shown', async () => {
  const seen = await runClient('2026-07-28', 'accept', 'id > 200 AND id <= 212');
  assert.equal(seen.protocol_version, '2026-07-28');
  assert.ok(seen.tools.includes('delete_records') && seen.tools.includes('get_table_data'), seen.tools.join());
  assert.equal(seen.rows, 5);
  assert.ok(seen.progress.length >= 2, `progress reached the callback: ${seen.progress}`);
  assert.equal(seen.count_before, 12);
  assert.equal(seen.asked.length, 1, 'the person was asked once');
  assert.match(seen.asked[0], /Delete 12 rows of "order_items"/);
  assert.match(seen.asked[0], /id=201/);
  assert.equal(seen.delete_is_error, false);
  assert.equal(seen.delete_result.deleted, 12);
  assert.deepEqual(seen.delete_result.keys, [201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212]);
  assert.equal(seen.count_after, 0);
});

test('auto mode ends up in 2026-07-28, and a declined confirmation deletes nothing', async () => {
  const seen = await runClient('auto', 'decline', 'id > 300 AND id <= 315');
  assert.equal(seen.protocol_version, '2026-07-28');
  assert.equal(seen.count_before, 15);
  assert.equal(seen.asked.length, 1);
  assert.match(seen.asked[0], /Delete 15 rows of "order_items"/);
  assert.equal(seen.delete_result.deleted, 0);
  assert.equal(seen.delete_result.declined, true);
  assert.equal(seen.count_after, 15, 'nothing was deleted');
});
