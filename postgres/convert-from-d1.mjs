// Generates postgres/0002_store_data.sql from migrations/0002_store_data.sql (the D1 demo data),
// so that the D1 and the Postgres demo databases hold exactly the same rows and ids.
//
//   node postgres/convert-from-d1.mjs            rewrite postgres/0002_store_data.sql
//   node postgres/convert-from-d1.mjs --check    exit 1 if the committed file is out of date
//
// Deterministic: the output depends only on the input file. Every INSERT of the input is parsed
// (string literals, numbers, NULL), each value is checked against the column's type and
// re-emitted for Postgres: 0/1 booleans become false/true, ISO-8601 timestamps stay as literals
// (valid timestamptz input), money and bigints stay as numeric literals. Row counts are checked
// against the input's header. After the rows: the identity sequences are moved past the highest
// ids, and reporting.daily_sales is filled from the orders.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INPUT = `${ROOT}migrations/0002_store_data.sql`;
const OUTPUT = `${ROOT}postgres/0002_store_data.sql`;

// Column kinds of the Postgres schema (postgres/0001_store_schema.sql).
const TABLES = {
  categories: { id: 'int', name: 'text', parent_id: 'int', description: 'text' },
  customers: {
    id: 'int', name: 'text', email: 'text', city: 'text', country: 'text',
    created_at: 'timestamptz', loyalty_points: 'int', notes: 'text',
  },
  products: {
    id: 'int', sku: 'text', name: 'text', price: 'money', stock: 'int', discontinued: 'bool',
    created_at: 'timestamptz',
  },
  product_categories: { product_id: 'int', category_id: 'int' },
  orders: {
    id: 'int', customer_id: 'int', status: 'text', ordered_at: 'timestamptz',
    shipped_at: 'timestamptz', total: 'money',
  },
  order_items: { id: 'int', order_id: 'int', product_id: 'int', quantity: 'int', unit_price: 'money' },
  big_numbers: { id: 'int', label: 'text', value: 'bigint' },
};
const IDENTITY_TABLES = ['categories', 'customers', 'products', 'orders', 'order_items', 'big_numbers'];

const INT32 = [-(2 ** 31), 2 ** 31 - 1];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function fail(message, line) {
  throw new Error(`${INPUT}${line ? `:${line}` : ''}: ${message}`);
}

/** Parses one VALUES tuple list; returns [{ values, line }], advancing past the final ';'. */
function parseTuples(text, start, lineOf) {
  const rows = [];
  let i = start;
  const skipWs = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  for (;;) {
    skipWs();
    if (text[i] !== '(') fail(`expected "(" but found ${JSON.stringify(text.slice(i, i + 20))}`, lineOf(i));
    const line = lineOf(i);
    i++;
    const values = [];
    for (;;) {
      skipWs();
      if (text[i] === "'") {
        let s = '';
        i++;
        for (;;) {
          if (i >= text.length) fail('unterminated string literal', line);
          if (text[i] === "'") {
            if (text[i + 1] === "'") {
              s += "'";
              i += 2;
              continue;
            }
            i++;
            break;
          }
          s += text[i++];
        }
        values.push({ kind: 'string', value: s });
      } else {
        const m = /^(NULL|-?\d+(?:\.\d+)?)/.exec(text.slice(i, i + 40));
        if (!m) fail(`unexpected value ${JSON.stringify(text.slice(i, i + 20))}`, line);
        values.push(m[1] === 'NULL' ? { kind: 'null' } : { kind: 'number', value: m[1] });
        i += m[1].length;
      }
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ')') {
        i++;
        break;
      }
      fail(`expected "," or ")" but found ${JSON.stringify(text.slice(i, i + 20))}`, line);
    }
    rows.push({ values, line });
    skipWs();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === ';') return { rows, end: i + 1 };
    fail(`expected "," or ";" after a row but found ${JSON.stringify(text.slice(i, i + 20))}`, lineOf(i));
  }
}

function quote(s) {
  return "'" + s.replace(/'/g, "''") + "'";
}

function convertValue(v, kind, where) {
  if (v.kind === 'null') return 'NULL';
  switch (kind) {
    case 'int': {
      if (v.kind !== 'number' || !/^-?\d+$/.test(v.value)) fail(`${where}: expected an integer`);
      const n = Number(v.value);
      if (n < INT32[0] || n > INT32[1]) fail(`${where}: ${v.value} does not fit integer`);
      return v.value;
    }
    case 'bigint': {
      if (v.kind !== 'number' || !/^-?\d+$/.test(v.value)) fail(`${where}: expected an integer`);
      const n = BigInt(v.value);
      if (n < INT64_MIN || n > INT64_MAX) fail(`${where}: ${v.value} does not fit bigint`);
      return v.value;
    }
    case 'money':
      if (v.kind !== 'number' || !/^-?\d{1,8}(\.\d{1,2})?$/.test(v.value)) {
        fail(`${where}: expected an amount with at most 2 decimals fitting numeric(10,2), got ${v.value}`);
      }
      return v.value;
    case 'bool':
      if (v.kind !== 'number' || (v.value !== '0' && v.value !== '1')) fail(`${where}: expected 0 or 1`);
      return v.value === '1' ? 'true' : 'false';
    case 'timestamptz':
      if (v.kind !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v.value)) {
        fail(`${where}: expected an ISO-8601 UTC timestamp like 2023-02-01T14:30:00Z`);
      }
      if (Number.isNaN(Date.parse(v.value))) fail(`${where}: invalid timestamp ${v.value}`);
      return quote(v.value);
    case 'text':
      if (v.kind !== 'string') fail(`${where}: expected a string`);
      return quote(v.value);
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

export function convert(input) {
  const lineStarts = [0];
  for (let i = 0; i < input.length; i++) if (input[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (pos) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  // Expected row counts from the header ("--   customers          500").
  const expected = {};
  for (const m of input.matchAll(/^--\s+([a-z_]+)\s+(\d+)\s*$/gm)) {
    if (TABLES[m[1]]) expected[m[1]] = Number(m[2]);
  }

  const out = [];
  out.push('-- Postgres 0002: demo "store" data. GENERATED by postgres/convert-from-d1.mjs from');
  out.push('-- migrations/0002_store_data.sql (itself generated by scripts/gen-demo-data.mjs): do not edit.');
  out.push('-- Regenerate with: node postgres/convert-from-d1.mjs (check: --check).');
  out.push('-- Same rows and ids as the D1 database. Differences of representation only: booleans are');
  out.push('-- true/false (D1: 1/0), timestamps are timestamptz, money is numeric(10,2).');

  const counts = {};
  let i = 0;
  let headerDone = false;
  const insertRe = /^INSERT INTO ([a-z_]+) \(([^)]*)\) VALUES\s*/;
  while (i < input.length) {
    const nl = input.indexOf('\n', i);
    const lineEnd = nl < 0 ? input.length : nl;
    const line = input.slice(i, lineEnd);
    if (line.startsWith('INSERT INTO ')) {
      headerDone = true;
      const m = insertRe.exec(input.slice(i, i + 500));
      if (!m) fail('unrecognised INSERT statement', lineOf(i));
      const table = m[1];
      const kinds = TABLES[table];
      if (!kinds) fail(`unknown table ${table}`, lineOf(i));
      const columns = m[2].split(',').map((c) => c.trim());
      for (const c of columns) if (!kinds[c]) fail(`unknown column ${table}.${c}`, lineOf(i));
      const { rows, end } = parseTuples(input, i + m[0].length, lineOf);
      out.push(`INSERT INTO ${table} (${columns.join(', ')}) VALUES`);
      rows.forEach(({ values, line: rowLine }, r) => {
        if (values.length !== columns.length) {
          fail(`${table}: ${values.length} values for ${columns.length} columns`, rowLine);
        }
        const rendered = values.map((v, k) => convertValue(v, kinds[columns[k]], `line ${rowLine}, ${table}.${columns[k]}`));
        out.push(`(${rendered.join(', ')})${r === rows.length - 1 ? ';' : ','}`);
      });
      counts[table] = (counts[table] ?? 0) + rows.length;
      i = end;
      // The rest of the line after ';' must be empty.
      const restEnd = input.indexOf('\n', i);
      if (input.slice(i, restEnd < 0 ? input.length : restEnd).trim() !== '') {
        fail('text after ";" on the same line', lineOf(i));
      }
      i = restEnd < 0 ? input.length : restEnd + 1;
      continue;
    }
    if (line.startsWith('--') || line.trim() === '') {
      // Keep the documentation comments, except the input's own two "generated by" lines.
      const ownHeader = !headerDone && /GENERATED by|Regenerate with/.test(line);
      if (!ownHeader) {
        // The documented product rows show discontinued as 0/1: show Postgres's false/true.
        const isProductDoc = /^--\s+\d+, 'SKU-/.test(line);
        out.push(isProductDoc ? line.replace(/, ([01]), '(\d{4}-)/, (_, b, y) => `, ${b === '1'}, '${y}`) : line);
      }
      i = lineEnd + 1;
      continue;
    }
    fail(`unexpected line ${JSON.stringify(line.slice(0, 60))}`, lineOf(i));
  }

  for (const [table, n] of Object.entries(expected)) {
    if (counts[table] !== n) fail(`${table}: header says ${n} rows, found ${counts[table] ?? 0}`);
  }
  for (const table of Object.keys(counts)) {
    if (expected[table] === undefined) fail(`${table}: rows found but no count in the header`);
  }

  while (out.length && out[out.length - 1].trim() === '') out.pop();
  out.push('');
  out.push('-- Identity columns: continue after the explicit ids loaded above.');
  for (const table of IDENTITY_TABLES) {
    out.push(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}));`);
  }
  out.push('');
  out.push('-- reporting.daily_sales: orders and revenue per UTC day, cancelled orders excluded.');
  out.push('INSERT INTO reporting.daily_sales (day, orders, revenue)');
  out.push("SELECT (ordered_at AT TIME ZONE 'UTC')::date, count(*), sum(total)");
  out.push('FROM orders');
  out.push("WHERE status <> 'cancelled'");
  out.push('GROUP BY 1');
  out.push('ORDER BY 1;');
  return { sql: out.join('\n') + '\n', counts };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { sql, counts } = convert(readFileSync(INPUT, 'utf8'));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUTPUT, 'utf8');
    } catch {
      // missing
    }
    if (current !== sql) {
      console.error(`${OUTPUT} is out of date: run node postgres/convert-from-d1.mjs`);
      process.exit(1);
    }
    console.log(`${OUTPUT} is up to date`);
  } else {
    writeFileSync(OUTPUT, sql);
    console.log(`wrote ${OUTPUT}: ${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  }
}
