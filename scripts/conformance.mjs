// Runs the MCP conformance suite (server mode) against the built worker in Miniflare, on a
// local `auth = "none"` service. Scenarios that need fixture tools or features this server
// does not offer are listed, each with its reason, in conformance/expected-failures.yml.
//
//   node scripts/conformance.mjs [extra conformance args...]

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startWorker } from '../tests/support/worker.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const worker = await startWorker({
  services: { open: { label: 'Conformance', database: { kind: 'd1', binding: 'DB' }, read_only: false, auth: 'none' } },
});
const args = [
  'node_modules/@modelcontextprotocol/conformance/dist/index.js',
  'server',
  '--url', worker.mcpUrl('open'),
  '--spec-version', '2025-11-25',
  '--expected-failures', 'conformance/expected-failures.yml',
  ...process.argv.slice(2),
];
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  child.on('exit', (c) => resolve(c ?? 1));
});
await worker.stop();
process.exit(code);
