// The SELECT the product's get_table_data sends to D1 for the bench's call on order_items
// (filter `quantity >= 2 AND unit_price > 20`, order `unit_price DESC, id ASC`): every column
// wrapped as the product wraps it (integers beyond 2^53 as text), ORDER BY qualified by the table,
// values bound, and one row more than asked for, which the product reads to tell whether there are
// more. Shared by both reference workers so they run exactly the same statement.

const SAFE = '9007199254740991';
const column = (name) =>
  `CASE WHEN typeof("${name}") = 'integer' AND ("${name}" > ${SAFE} OR "${name}" < -${SAFE}) THEN CAST("${name}" AS TEXT) ELSE "${name}" END AS "${name}"`;

export const ORDER_ITEMS_SELECT =
  `SELECT ${['id', 'order_id', 'product_id', 'quantity', 'unit_price'].map(column).join(', ')} FROM "order_items"` +
  ` WHERE ("quantity" >= ?1 AND "unit_price" > ?2) ORDER BY "order_items"."unit_price" DESC, "order_items"."id" ASC LIMIT ?3`;

/** Runs the SELECT for `limit` rows and shapes the answer like the product's get_table_data. */
export async function orderItems(db, limit) {
  const { results } = await db.prepare(ORDER_ITEMS_SELECT).bind(2, 20, limit + 1).all();
  const more = results.length > limit;
  const records = more ? results.slice(0, limit) : results;
  const out = { table: 'order_items', returned: records.length, offset: 0, limit, truncated: false, records };
  if (more) out.next_offset = limit;
  return out;
}

/**
 * The product's API key check, reduced to its one storage read: the bearer key's SHA-256 (hex)
 * names a KV record `apikey:<hash>` that must exist and belong to `service`.
 */
export async function apiKeyAllows(request, kv, service) {
  const header = request.headers.get('authorization') ?? '';
  const key = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
  if (!key) return false;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const record = await kv.get(`apikey:${hash}`, 'json');
  return record !== null && record.service === service;
}

/** `limit` from the tool arguments: an integer 1..1000 (the product's hard row cap), else null. */
export function rowLimit(value) {
  return Number.isInteger(value) && value >= 1 && value <= 1000 ? value : null;
}
