// The database backends the end-to-end tool suite runs against: the same tests, the same demo
// data, D1 in Miniflare or real PostgreSQL through the Neon-compatible proxy. Each backend says
// only what genuinely differs (engine name, extra tables, routines).

import { DEFAULT_SERVICES, startWorker } from './worker.mjs';
import { startPostgresStack } from './postgres.mjs';

const DEMO_TABLES = ['big_numbers', 'categories', 'customers', 'order_items', 'orders', 'product_categories', 'products'];

/** Services like the default ones, with every database replaced by `database`. */
function servicesOn(database, extra = {}) {
  const services = {};
  for (const [name, service] of Object.entries(DEFAULT_SERVICES)) services[name] = { ...service, database };
  return { ...services, ...extra };
}

export const BACKENDS = [
  {
    name: 'D1',
    engine: 'SQLite (Cloudflare D1)',
    tables: DEMO_TABLES,
    hasRoutines: false,
    async start() {
      const worker = await startWorker();
      return { worker, stop: () => worker.stop() };
    },
  },
  {
    name: 'PostgreSQL',
    engine: 'PostgreSQL',
    tables: [...DEMO_TABLES, 'reporting.daily_sales', 'type_samples', 'visit_log'].sort(),
    hasRoutines: true,
    /** @param {{services?: (pg: object, stack: object) => object, buildDir?: string}} [options] */
    async start(options = {}) {
      const stack = await startPostgresStack();
      try {
        const pg = { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint: stack.proxyUrl };
        const worker = await startWorker({
          services: options.services ? options.services(pg, stack) : servicesOn(pg),
          bindings: { PG_DEMO_URL: stack.connectionString, ...(options.bindings ?? {}) },
          buildDir: options.buildDir,
        });
        return {
          worker,
          stack,
          stop: async () => {
            await worker.stop();
            await stack.stop();
          },
        };
      } catch (err) {
        await stack.stop();
        throw err;
      }
    },
  },
];

export { servicesOn };
