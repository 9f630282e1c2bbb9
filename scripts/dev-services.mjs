// Prints the SERVICES of wrangler.toml as JSON with a PostgreSQL demo service `pgdemo` added,
// for `npm run dev:postgres` (wrangler dev --var SERVICES:<json>; a JSON string is accepted
// wherever the table is).
// Usage: node scripts/dev-services.mjs <proxy endpoint>
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';

const [endpoint] = process.argv.slice(2);
const config = parse(readFileSync(new URL('../wrangler.toml', import.meta.url), 'utf8'));
const services = { ...(config.vars?.SERVICES ?? {}) };
services.pgdemo = {
  label: 'Demo store (PostgreSQL)',
  description: 'The demo store in PostgreSQL, with stored procedures, functions and a reporting schema.',
  database: { kind: 'postgres', connection_string_secret: 'PG_DEMO_URL', endpoint },
  read_only: false,
  max_rows: 100,
};
process.stdout.write(JSON.stringify(services));
