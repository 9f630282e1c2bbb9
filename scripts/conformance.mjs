// Runs the MCP conformance suite (server mode) against the worker in Miniflare, on a local
// `auth = "none"` service, twice, both on the test build with the suite's fixtures
// (build-conformance/: `npm run build:conformance`, cargo feature `conformance-fixtures`; the
// deployable build/ never contains them):
//   1. `--spec-version 2025-11-25`: the 2025 session era. Known failures, each with its reason:
//      conformance/expected-failures.yml.
//   2. `--requirements 2026-07-28`: the stateless era, exactly what that revision requires.
//      Known failures: conformance/expected-failures-2026-07-28.yml.
// The authorization mode runs in tests/e2e/oauth-conformance.test.mjs (it needs a signed-in user).
//
//   node scripts/conformance.mjs [2025-11-25|2026-07-28] [extra conformance args...]

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startWorker } from '../tests/support/worker.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = 'node_modules/@modelcontextprotocol/conformance/dist/index.js';
const SERVICES = {
  // Listen streams check every second: the suite waits 1.5 s for notifications/tools/list_changed.
  open: { label: 'Conformance', database: { kind: 'd1', binding: 'DB' }, read_only: false, auth: 'none', listen: { check_seconds: 1 } },
};
const RUNS = {
  '2025-11-25': { buildDir: 'build-conformance', args: ['--spec-version', '2025-11-25', '--expected-failures', 'conformance/expected-failures.yml'] },
  '2026-07-28': {
    buildDir: 'build-conformance',
    args: ['--requirements', '2026-07-28', '--expected-failures', 'conformance/expected-failures-2026-07-28.yml'],
  },
};

let only = null;
let extra = process.argv.slice(2);
if (RUNS[extra[0]]) [only, ...extra] = extra;

let failed = 0;
for (const [revision, run] of Object.entries(RUNS)) {
  if (only && revision !== only) continue;
  console.log(`== conformance server ${run.args.slice(0, 2).join(' ')} (${run.buildDir}/)`);
  const worker = await startWorker({ services: SERVICES, buildDir: run.buildDir });
  const args = [CLI, 'server', '--url', worker.mcpUrl('open'), ...run.args, ...extra];
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  await worker.stop();
  if (code !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
