#!/usr/bin/env node
// Generates migrations/0002_store_data.sql: the rows of the demo "store"
// database whose schema is migrations/0001_store_schema.sql.
//
//   node scripts/gen-demo-data.mjs
//
// Deterministic (seeded PRNG, no Date.now, no dependencies): running it twice
// produces byte-identical output. A short list of hand-written rows comes
// first (customers 1-5, products 1-5, orders 1-3 and order_items 1-5) and is
// documented at the top of the generated file, since tests rely on it. The
// rest is generated after them.
//
// Output rules (the D1 and test-helper splitters depend on them):
//   * multi-row INSERTs of at most 200 rows and under 90 KB per statement,
//   * every statement ends with ';' followed by a newline,
//   * string data never contains ';' or a newline, and each row starts its
//     own line with '(' so no data line can look like a '--' comment,
//   * single quotes are escaped by doubling.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT = new URL('../migrations/0002_store_data.sql', import.meta.url);

const MAX_ROWS_PER_STATEMENT = 200;
const MAX_STATEMENT_BYTES = 90 * 1024;

const CUSTOMER_COUNT = 500;
const PRODUCT_COUNT = 200;
const ORDER_COUNT = 3000;

// ---------------------------------------------------------------------------
// Deterministic PRNG (mulberry32).

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(0x5eed2024);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const chance = (p) => rand() < p;
function weighted(pairs) {
  const sum = pairs.reduce((s, [, w]) => s + w, 0);
  let r = rand() * sum;
  for (const [v, w] of pairs) {
    r -= w;
    if (r < 0) return v;
  }
  return pairs[pairs.length - 1][0];
}

// ---------------------------------------------------------------------------
// Time helpers (all UTC, second precision, 'YYYY-MM-DDTHH:MM:SSZ').

const ts = (s) => Date.parse(s);
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const DAY = 86_400_000;
const randomTime = (fromMs, toMs) =>
  Math.floor((fromMs + rand() * (toMs - fromMs)) / 1000) * 1000;

// ---------------------------------------------------------------------------
// SQL helpers.

function sqlValue(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`unsafe number ${v}`);
    return String(v);
  }
  if (v instanceof Money) return v.toString();
  if (typeof v === 'string') {
    if (/[;\r\n]/.test(v)) throw new Error(`string must not contain ';' or newlines: ${v}`);
    return `'${v.replaceAll("'", "''")}'`;
  }
  throw new Error(`unsupported value ${v}`);
}

// Money kept as integer cents, printed with exactly two decimals.
class Money {
  constructor(cents) {
    if (!Number.isSafeInteger(cents) || cents < 0) throw new Error(`bad cents ${cents}`);
    this.cents = cents;
  }
  toString() {
    return `${Math.floor(this.cents / 100)}.${String(this.cents % 100).padStart(2, '0')}`;
  }
}
const money = (cents) => new Money(cents);
const dollars = (str) => money(Math.round(Number(str) * 100));

const out = [];
let statementCount = 0;

function comment(text = '') {
  for (const line of text.split('\n')) out.push(line === '' ? '--' : `-- ${line}`);
}

function insert(table, columns, rows) {
  for (let i = 0; i < rows.length; ) {
    const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES\n`;
    const lines = [];
    let bytes = Buffer.byteLength(head) + 2;
    while (i < rows.length && lines.length < MAX_ROWS_PER_STATEMENT) {
      const row = rows[i];
      if (row.length !== columns.length) throw new Error(`${table}: row width mismatch`);
      const line = `(${row.map(sqlValue).join(', ')})`;
      const lineBytes = Buffer.byteLength(line) + 2;
      if (lines.length > 0 && bytes + lineBytes > MAX_STATEMENT_BYTES) break;
      lines.push(line);
      bytes += lineBytes;
      i++;
    }
    const stmt = `${head}${lines.join(',\n')};`;
    if (Buffer.byteLength(stmt) >= MAX_STATEMENT_BYTES) throw new Error(`${table}: statement too large`);
    out.push(stmt);
    statementCount++;
  }
}

// ---------------------------------------------------------------------------
// Categories (hand-written, with a three-level branch:
// Electronics > Computers > Laptops).

const CATEGORY_COLUMNS = ['id', 'name', 'parent_id', 'description'];
const categories = [
  [1, 'Electronics', null, 'Gadgets, devices and accessories'],
  [2, 'Computers', 1, 'Desktops, peripherals and accessories'],
  [3, 'Laptops', 2, 'Portable computers and laptop accessories'],
  [4, 'Audio', 1, 'Headphones, speakers and microphones'],
  [5, 'Phones & Tablets', 1, null],
  [6, 'Home & Kitchen', null, 'Everything for the home'],
  [7, 'Kitchenware', 6, 'Pots, pans, cups and utensils'],
  [8, 'Furniture', 6, null],
  [9, 'Toys & Games', null, 'Fun for all ages'],
  [10, "Kid's Toys", 9, 'Toys for children aged 3–12'],
  [11, 'Books', null, 'Fiction, non-fiction and "how-to" guides'],
  [12, 'Sports & Outdoors', null, 'Gear for the great outdoors'],
];
const parentOf = new Map(categories.map(([id, , parent]) => [id, parent]));
const ancestorsOf = (id) => {
  const chain = [];
  for (let p = parentOf.get(id); p != null; p = parentOf.get(p)) chain.push(p);
  return chain;
};

// ---------------------------------------------------------------------------
// Fixed rows (tests rely on these: keep them stable).

const FIXED_CUSTOMERS = [
  { id: 1, name: "Zoë O'Brien", email: 'zoe.obrien@example.com', city: 'Łódź', country: 'Poland', created_at: '2023-01-05T09:15:00Z', loyalty_points: 1200, notes: 'VIP since 2023, prefers email contact' },
  { id: 2, name: 'José Álvarez', email: 'jose.alvarez@example.com', city: 'São Paulo', country: 'Brazil', created_at: '2023-01-12T16:40:00Z', loyalty_points: 350, notes: null },
  { id: 3, name: 'Hans Müller', email: 'hans.mueller@example.com', city: 'München', country: 'Germany', created_at: '2023-01-20T11:05:30Z', loyalty_points: 0, notes: 'Asked about "bulk" discounts' },
  { id: 4, name: '山田 太郎', email: 'taro.yamada@example.jp', city: '東京', country: 'Japan', created_at: '2023-02-02T03:30:00Z', loyalty_points: 75, notes: null },
  { id: 5, name: "Liam O'Connor", email: 'liam.oconnor@example.com', city: null, country: 'Ireland', created_at: '2023-02-14T20:00:00Z', loyalty_points: 0, notes: null },
];

const FIXED_PRODUCTS = [
  { id: 1, sku: 'SKU-0001', name: 'Wireless Mouse', price: '24.99', stock: 150, discontinued: 0, created_at: '2023-01-02T10:00:00Z', categories: [2, 1] },
  { id: 2, sku: 'SKU-0002', name: 'Mechanical Keyboard', price: '89.50', stock: 75, discontinued: 0, created_at: '2023-01-02T10:05:00Z', categories: [2, 1] },
  { id: 3, sku: 'SKU-0003', name: 'Noise-Cancelling Headphones', price: '199.00', stock: 40, discontinued: 0, created_at: '2023-01-03T08:00:00Z', categories: [4, 1] },
  { id: 4, sku: 'SKU-0004', name: "Kid's Building Blocks Set", price: '34.95', stock: 220, discontinued: 0, created_at: '2023-01-04T12:00:00Z', categories: [10, 9] },
  { id: 5, sku: 'SKU-0005', name: 'Café Espresso Cup (Set of 4)', price: '19.99', stock: 0, discontinued: 1, created_at: '2023-01-04T12:30:00Z', categories: [7, 6] },
];

// Items: [order_item id, product id, quantity, unit price].
const FIXED_ORDERS = [
  { id: 1, customer_id: 1, status: 'delivered', ordered_at: '2023-02-01T14:30:00Z', shipped_at: '2023-02-03T09:00:00Z', items: [[1, 1, 2, '24.99'], [2, 2, 1, '89.50']] },
  { id: 2, customer_id: 2, status: 'pending', ordered_at: '2023-02-10T08:05:00Z', shipped_at: null, items: [[3, 3, 1, '199.00']] },
  { id: 3, customer_id: 1, status: 'cancelled', ordered_at: '2023-03-15T18:45:00Z', shipped_at: null, items: [[4, 4, 3, '34.95'], [5, 5, 1, '19.99']] },
];

// ---------------------------------------------------------------------------
// Generated customers.

const FIRST_NAMES = [
  'Zoë', 'José', 'Hans', 'Liam', 'Amélie', 'Björn', 'Łukasz', 'Søren', 'Chloé', 'François',
  'Renée', 'Noël', 'Siobhán', 'Aoife', 'Jürgen', 'Ana', 'Maria', 'João', 'Mateus', 'Yuki',
  'Hiroshi', '花子', '太郎', 'Ji-woo', 'Priya', 'Arjun', 'Olivia', 'Emma', 'Noah', 'James',
  'Sofía', 'Lucía', 'Ingrid', 'Zoltán', 'Dorota', 'Wojciech', 'Mehmet', 'Ayşe', 'Thảo', 'Fatima',
  'Omar', 'Kwame', 'Chidi', 'Elena', 'Ivan', 'Ольга', 'Grace', 'Mia', 'Lars', 'Åsa',
];
const LAST_NAMES = [
  "O'Brien", "O'Connor", "D'Angelo", 'Müller', 'Schröder', 'Kowalski', 'Wiśniewska', 'Nowak', 'Álvarez', 'García',
  'Núñez', 'Silva', 'Gonçalves', 'Andersson', 'Sørensen', 'Dubois', 'Lefèvre', 'Smith', 'Johnson', 'Brown',
  'Tanaka', '山田', '佐藤', 'Kim', 'Park', 'Nguyễn', 'Patel', 'Singh', 'Yılmaz', 'Öztürk',
  'Kovács', 'Novák', 'Иванова', 'Mensah', 'Okafor', 'Rossi', 'Bianchi', 'McDonald', 'Fitzgerald-Smith', 'Ó Súilleabháin',
];
// [city, country, weight]
const PLACES = [
  ['Łódź', 'Poland', 3], ['Kraków', 'Poland', 3], ['Warszawa', 'Poland', 3],
  ['São Paulo', 'Brazil', 4], ['Rio de Janeiro', 'Brazil', 2],
  ['東京', 'Japan', 4], ['大阪', 'Japan', 2],
  ['München', 'Germany', 3], ['Köln', 'Germany', 2], ['Berlin', 'Germany', 4],
  ['Zürich', 'Switzerland', 2], ['Montréal', 'Canada', 2], ['Toronto', 'Canada', 3],
  ['Reykjavík', 'Iceland', 1], ['Málaga', 'Spain', 2], ['Madrid', 'Spain', 3],
  ['Dublin', 'Ireland', 3], ['Cork', 'Ireland', 1],
  ['New York', 'USA', 6], ['San Francisco', 'USA', 4], ["Coeur d'Alene", 'USA', 1],
  ['London', 'UK', 5], ['Manchester', 'UK', 2],
  ['Paris', 'France', 4], ['Besançon', 'France', 1],
  ['서울', 'South Korea', 2], ['Hà Nội', 'Vietnam', 1], ['İstanbul', 'Turkey', 2],
  ['Mumbai', 'India', 3], ['Lagos', 'Nigeria', 2], ['Accra', 'Ghana', 1],
  ['Москва', 'Russia', 1], ['Göteborg', 'Sweden', 2], ['København', 'Denmark', 2],
].map(([city, country, w]) => [[city, country], w]);
const NOTES = [
  'Prefers weekend delivery',
  'Leave parcels with the neighbour at no. 12',
  'Customer said: "great service!"',
  "Asked for O'Reilly books",
  'Gift wrap every order',
  'Wholesale account, net 30 terms',
  'Requested invoices in €',
  "Don't call before 10am",
  'Returned an item twice in 2024',
  'VIP',
  'Loves the 🎁 gift wrap',
  '50% off voucher used (code SAVE_50)',
  'Écrit en français, please reply in French',
  'Moved from 東京 to Osaka',
  'Backorder contact: C:\\orders\\pending',
];

const SLUG_MAP = { ł: 'l', Ł: 'l', ø: 'o', Ø: 'o', ß: 'ss', æ: 'ae', đ: 'd', ı: 'i', å: 'a' };
function slug(s) {
  const ascii = s
    .replace(/[łŁøØßæđıå]/g, (c) => SLUG_MAP[c])
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  return ascii;
}

const CUSTOMER_FROM = ts('2023-02-15T00:00:00Z');
const CUSTOMER_TO = ts('2025-09-30T23:59:59Z');

const customers = FIXED_CUSTOMERS.map((c) => ({ ...c }));
{
  const generated = [];
  for (let n = FIXED_CUSTOMERS.length; n < CUSTOMER_COUNT; n++) {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const [city, country] = weighted(PLACES);
    generated.push({
      first,
      last,
      name: `${first} ${last}`,
      city: chance(0.08) ? null : city,
      country,
      created_ms: randomTime(CUSTOMER_FROM, CUSTOMER_TO),
      loyalty_points: chance(0.25) ? 0 : int(1, 500) * 10,
      notes: chance(0.2) ? pick(NOTES) : null,
    });
  }
  generated.sort((a, b) => a.created_ms - b.created_ms);
  generated.forEach((g, i) => {
    const id = FIXED_CUSTOMERS.length + 1 + i;
    const local = `${slug(g.first) || 'user'}.${slug(g.last) || 'customer'}${id}`;
    customers.push({
      id,
      name: g.name,
      email: `${local}@${pick(['example.com', 'example.org', 'example.net'])}`,
      city: g.city,
      country: g.country,
      created_at: iso(g.created_ms),
      loyalty_points: g.loyalty_points,
      notes: g.notes,
    });
  });
}

// ---------------------------------------------------------------------------
// Generated products.

// leaf category -> [noun list, min price cents, max price cents]
const PRODUCT_KINDS = {
  2: [['USB-C Hub', 'Webcam', 'Monitor Stand', '27" Monitor', 'External SSD 1TB', 'Trackball', 'Ergonomic Keyboard', 'Desk Mat'], 999, 44999],
  3: [['Ultrabook 13"', 'Gaming Laptop 15.6"', 'Laptop Sleeve 14"', 'Chromebook', 'Laptop Cooling Pad', 'Laptop Stand'], 1999, 249999],
  4: [['Bluetooth Speaker', 'Earbuds', 'Studio Microphone', 'Soundbar', 'Turntable', 'DJ Headphones'], 1499, 59999],
  5: [['Smartphone Case', 'Tablet Stand', 'Screen Protector', 'Wireless Charger', 'Smartphone', 'E-Reader'], 499, 119999],
  7: [["Chef's Knife", 'Cast Iron Skillet', 'Crème Brûlée Torch', 'Espresso Cup', 'Cutting Board', 'Saucepan', 'Pepper Mill'], 599, 18999],
  8: [['Bookshelf', 'Desk Chair', 'Coffee Table', 'Bar Stool', 'Nightstand', 'Chaise Longue'], 3999, 89999],
  10: [["Kid's Tricycle", 'Plush Bear', 'Building Blocks', 'Toy Train Set', "Doll's House", 'Kite'], 799, 14999],
  11: [['Cookbook', 'Mystery Novel', 'Field Guide', 'World Atlas', 'Poetry Anthology', 'Travel Journal'], 699, 5999],
  12: [['Yoga Mat', 'Tent (2-person)', 'Hiking Backpack 40L', 'Water Bottle', 'Trekking Poles', 'Sleeping Bag'], 999, 39999],
};
const LEAVES = Object.keys(PRODUCT_KINDS).map(Number);
const ADJECTIVES = ['Classic', 'Deluxe', 'Compact', 'Pro', 'Eco', 'Ultra', 'Vintage', 'Über', 'Smart', 'Mini', 'Premium', 'Everyday', 'Nordic', 'Señor'];
const ALL_CATEGORY_IDS = categories.map(([id]) => id);

const PRODUCT_FROM = ts('2023-01-05T00:00:00Z');
const PRODUCT_TO = ts('2025-06-30T23:59:59Z');

const products = FIXED_PRODUCTS.map((p) => ({ ...p, price: dollars(p.price) }));
const productCategories = FIXED_PRODUCTS.flatMap((p) => p.categories.map((c) => [p.id, c]));
{
  const usedNames = new Set(products.map((p) => p.name));
  const generated = [];
  for (let n = FIXED_PRODUCTS.length; n < PRODUCT_COUNT; n++) {
    const leaf = pick(LEAVES);
    const [nouns, lo, hi] = PRODUCT_KINDS[leaf];
    let name = `${pick(ADJECTIVES)} ${pick(nouns)}`;
    for (let gen = 2; usedNames.has(name); gen++) name = `${name.replace(/ \(Gen \d+\)$/, '')} (Gen ${gen})`;
    usedNames.add(name);
    // Prices end in .99, .49, .00 or random cents, skewed towards cheaper.
    const base = lo + Math.floor(rand() * rand() * (hi - lo));
    const cents = weighted([[99, 5], [49, 2], [0, 1], [int(0, 99), 2]]);
    const priceCents = Math.floor(base / 100) * 100 + cents;
    const discontinued = chance(0.08) ? 1 : 0;
    const cats = new Set([leaf, ...ancestorsOf(leaf)]);
    if (chance(0.6)) cats.add(pick(ALL_CATEGORY_IDS));
    if (chance(0.45)) cats.add(pick(ALL_CATEGORY_IDS));
    if (chance(0.2)) cats.add(pick(ALL_CATEGORY_IDS));
    generated.push({
      name,
      price: money(priceCents),
      stock: discontinued ? (chance(0.7) ? 0 : int(1, 5)) : chance(0.06) ? 0 : int(1, 500),
      discontinued,
      // Skewed early: most of the catalogue exists by mid-2023.
      created_ms: Math.floor((PRODUCT_FROM + rand() ** 2.5 * (PRODUCT_TO - PRODUCT_FROM)) / 1000) * 1000,
      categories: [...cats].sort((a, b) => a - b),
    });
  }
  generated.sort((a, b) => a.created_ms - b.created_ms);
  generated.forEach((g, i) => {
    const id = FIXED_PRODUCTS.length + 1 + i;
    products.push({
      id,
      sku: `SKU-${String(id).padStart(4, '0')}`,
      name: g.name,
      price: g.price,
      stock: g.stock,
      discontinued: g.discontinued,
      created_at: iso(g.created_ms),
      created_ms: g.created_ms,
    });
    for (const c of g.categories) productCategories.push([id, c]);
  });
}
for (const p of products) p.created_ms ??= ts(p.created_at);

// ---------------------------------------------------------------------------
// Generated orders and order items.

const ORDER_FROM = ts('2023-03-16T00:00:00Z');
const ORDER_TO = ts('2025-12-20T23:59:59Z');

const orders = [];
const orderItems = [];
for (const o of FIXED_ORDERS) {
  let total = 0;
  for (const [id, productId, quantity, unit] of o.items) {
    const unitPrice = dollars(unit);
    total += quantity * unitPrice.cents;
    orderItems.push([id, o.id, productId, quantity, unitPrice]);
  }
  orders.push([o.id, o.customer_id, o.status, o.ordered_at, o.shipped_at, money(total)]);
}
{
  // Some customers order much more than others.
  const customerWeights = customers.map((c) => [c, chance(0.15) ? 6 : chance(0.5) ? 2 : 1]);
  const generated = [];
  for (let n = FIXED_ORDERS.length; n < ORDER_COUNT; n++) {
    const customer = weighted(customerWeights);
    const from = Math.max(ORDER_FROM, ts(customer.created_at));
    generated.push({ customer, ordered_ms: randomTime(from, ORDER_TO) });
  }
  generated.sort((a, b) => a.ordered_ms - b.ordered_ms || a.customer.id - b.customer.id);
  let nextItemId = orderItems.length + 1;
  generated.forEach((g, i) => {
    const id = FIXED_ORDERS.length + 1 + i;
    const ageDays = (ORDER_TO - g.ordered_ms) / DAY;
    // Recent orders are more likely to be still in flight.
    const status =
      ageDays < 10
        ? weighted([['pending', 3], ['paid', 3], ['shipped', 3], ['delivered', 1], ['cancelled', 1]])
        : ageDays < 30
          ? weighted([['pending', 1], ['paid', 2], ['shipped', 3], ['delivered', 5], ['cancelled', 1]])
          : weighted([['pending', 3], ['paid', 5], ['shipped', 5], ['delivered', 72], ['cancelled', 15]]);
    const shipped =
      status === 'shipped' || status === 'delivered'
        ? iso(Math.min(g.ordered_ms + randomTime(0.2 * DAY, 5 * DAY), ORDER_TO + 5 * DAY))
        : null;
    const available = products.filter((p) => p.created_ms <= g.ordered_ms);
    const lines = Math.min(int(1, 6), available.length);
    const chosen = new Set();
    let total = 0;
    while (chosen.size < lines) {
      const p = pick(available);
      if (chosen.has(p.id)) continue;
      chosen.add(p.id);
      const quantity = weighted([[1, 10], [2, 5], [3, 2], [4, 1], [5, 1], [10, 0.3]]);
      // Occasional discounts (10-20 % off), rounded to cents.
      const unitCents = chance(0.1) ? Math.round(p.price.cents * (1 - int(10, 20) / 100)) : p.price.cents;
      total += quantity * unitCents;
      orderItems.push([nextItemId++, id, p.id, quantity, money(unitCents)]);
    }
    orders.push([id, g.customer.id, status, iso(g.ordered_ms), shipped, money(total)]);
  });
}

// ---------------------------------------------------------------------------
// Big numbers: integers beyond 2^53 (JavaScript numbers lose precision).

const bigNumbers = [
  [1, '2^53 + 1', 9007199254740993n],
  [2, '-(2^53 + 1)', -9007199254740993n],
  [3, 'i64 max (2^63 - 1)', 9223372036854775807n],
  [4, 'small', 42],
];

// ---------------------------------------------------------------------------
// Output.

// Values in the header comment are shown as the SQL literals used below
// (so quotes stay balanced even inside the comment).
const fmtFixed = (v) => sqlValue(v instanceof Money || typeof v !== 'string' || !/^\d+\.\d\d$/.test(v) ? v : dollars(v));

comment(`Migration 0002: demo "store" data. GENERATED by scripts/gen-demo-data.mjs, do not edit.
Regenerate with: node scripts/gen-demo-data.mjs (deterministic, seeded PRNG).

Row counts:
  categories         ${categories.length}
  customers          ${customers.length}
  products           ${products.length}
  product_categories ${productCategories.length}
  orders             ${orders.length}
  order_items        ${orderItems.length}
  big_numbers        ${bigNumbers.length}

Fixed rows (hand-written, stable, tests rely on them). Timestamps are UTC.

customers (id, name, email, city, country, created_at, loyalty_points, notes):
${FIXED_CUSTOMERS.map((c) => `  ${[c.id, c.name, c.email, c.city, c.country, c.created_at, c.loyalty_points, c.notes].map(fmtFixed).join(', ')}`).join('\n')}

products (id, sku, name, price, stock, discontinued, created_at) and categories:
${FIXED_PRODUCTS.map((p) => `  ${[p.id, p.sku, p.name, p.price, p.stock, p.discontinued, p.created_at].map(fmtFixed).join(', ')}  categories ${p.categories.join(' and ')}`).join('\n')}

orders (id, customer_id, status, ordered_at, shipped_at, total) and their
order_items (id, product_id, quantity, unit_price):
${orders
  .slice(0, FIXED_ORDERS.length)
  .map((o) => {
    const items = orderItems.filter((it) => it[1] === o[0]);
    return [`  ${o.map(fmtFixed).join(', ')}`, ...items.map((it) => `      item ${[it[0], it[2], it[3], it[4]].map(fmtFixed).join(', ')}`)].join('\n');
  })
  .join('\n')}

categories (id, name, parent_id):
${categories.map((row) => `  ${row.slice(0, 3).map(fmtFixed).join(', ')}`).join('\n')}

big_numbers (id, label, value):
${bigNumbers.map((row) => `  ${row.map(fmtFixed).join(', ')}`).join('\n')}

Generated rows follow the fixed ones: customers 6+, products 6+, orders 4+
(ordered chronologically by ordered_at), order_items 6+. orders.total is the
sum of quantity * unit_price of its items, rounded to cents.`);
out.push('');

const section = (title) => {
  out.push('');
  comment(title);
};

section('categories (parents before children)');
insert('categories', CATEGORY_COLUMNS, categories);

const CUSTOMER_COLUMNS = ['id', 'name', 'email', 'city', 'country', 'created_at', 'loyalty_points', 'notes'];
const customerRow = (c) => CUSTOMER_COLUMNS.map((k) => c[k]);
section('customers: fixed rows 1-5');
insert('customers', CUSTOMER_COLUMNS, customers.slice(0, FIXED_CUSTOMERS.length).map(customerRow));
section('customers: generated');
insert('customers', CUSTOMER_COLUMNS, customers.slice(FIXED_CUSTOMERS.length).map(customerRow));

const PRODUCT_COLUMNS = ['id', 'sku', 'name', 'price', 'stock', 'discontinued', 'created_at'];
const productRow = (p) => PRODUCT_COLUMNS.map((k) => p[k]);
section('products: fixed rows 1-5');
insert('products', PRODUCT_COLUMNS, products.slice(0, FIXED_PRODUCTS.length).map(productRow));
section('products: generated');
insert('products', PRODUCT_COLUMNS, products.slice(FIXED_PRODUCTS.length).map(productRow));

section('product_categories');
insert('product_categories', ['product_id', 'category_id'], productCategories);

const ORDER_COLUMNS = ['id', 'customer_id', 'status', 'ordered_at', 'shipped_at', 'total'];
section('orders: fixed rows 1-3');
insert('orders', ORDER_COLUMNS, orders.slice(0, FIXED_ORDERS.length));
section('orders: generated');
insert('orders', ORDER_COLUMNS, orders.slice(FIXED_ORDERS.length));

const ITEM_COLUMNS = ['id', 'order_id', 'product_id', 'quantity', 'unit_price'];
const fixedItemCount = FIXED_ORDERS.reduce((n, o) => n + o.items.length, 0);
section('order_items: fixed rows 1-5 (orders 1-3)');
insert('order_items', ITEM_COLUMNS, orderItems.slice(0, fixedItemCount));
section('order_items: generated');
insert('order_items', ITEM_COLUMNS, orderItems.slice(fixedItemCount));

section('big_numbers: integers beyond 2^53');
insert('big_numbers', ['id', 'label', 'value'], bigNumbers);

const text = `${out.join('\n')}\n`;
writeFileSync(OUT, text);
console.log(
  `wrote ${fileURLToPath(OUT)}: ${Buffer.byteLength(text)} bytes, ${statementCount} statements ` +
    `(customers ${customers.length}, products ${products.length}, product_categories ${productCategories.length}, ` +
    `orders ${orders.length}, order_items ${orderItems.length})`,
);
