-- Migration 0001: schema of the demo "store" database (D1 / SQLite).
--
-- Conventions
--   * Timestamps are ISO-8601 UTC text, e.g. '2023-02-01T14:30:00Z'.
--   * Money is REAL with two decimals (cents).
--   * Booleans are INTEGER 0 or 1.
--   * No STRICT tables, no PRAGMA, no BEGIN/COMMIT: D1 rejects them.
--   * Comments live on their own lines only, never after SQL on the same
--     line, so that simple splitters (strip comment lines, split on a
--     semicolon at end of line) handle this file.
--
-- The rows are loaded by 0002_store_data.sql.

-- Category tree: parent_id is NULL for a root category.
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES categories(id),
    description TEXT
);

-- created_at is ISO-8601 text. city and notes may be NULL (notes usually is).
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    city TEXT,
    country TEXT,
    created_at TEXT NOT NULL,
    loyalty_points INTEGER NOT NULL DEFAULT 0,
    notes TEXT
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    price REAL NOT NULL CHECK (price >= 0),
    stock INTEGER NOT NULL DEFAULT 0,
    discontinued INTEGER NOT NULL DEFAULT 0 CHECK (discontinued IN (0, 1)),
    created_at TEXT NOT NULL
);

-- Many-to-many between products and categories.
CREATE TABLE product_categories (
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, category_id)
);

-- shipped_at is NULL unless status is 'shipped' or 'delivered'.
-- total is the sum of the order's quantity * unit_price, rounded to cents.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    ordered_at TEXT NOT NULL,
    shipped_at TEXT,
    total REAL NOT NULL DEFAULT 0
);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price REAL NOT NULL
);

-- Integers beyond 2^53 (not exactly representable as a JavaScript number).
CREATE TABLE big_numbers (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    value INTEGER NOT NULL
);

-- Foreign-key indexes. product_categories(product_id) is already covered by
-- the leading column of that table's primary key.
CREATE INDEX idx_categories_parent_id ON categories(parent_id);
CREATE INDEX idx_product_categories_category_id ON product_categories(category_id);
CREATE INDEX idx_orders_customer_id ON orders(customer_id);
CREATE INDEX idx_order_items_order_id ON order_items(order_id);
CREATE INDEX idx_order_items_product_id ON order_items(product_id);

-- Lookup indexes.
CREATE INDEX idx_orders_status ON orders(status);
CREATE INDEX idx_orders_ordered_at ON orders(ordered_at);
CREATE INDEX idx_customers_country ON customers(country);

-- One row per order: item_count is the number of order_items rows (lines,
-- not units) and total is the stored orders.total.
CREATE VIEW order_summaries AS
SELECT
    o.id AS order_id,
    c.name AS customer_name,
    o.status AS status,
    COUNT(oi.id) AS item_count,
    o.total AS total
FROM orders AS o
JOIN customers AS c ON c.id = o.customer_id
LEFT JOIN order_items AS oi ON oi.order_id = o.id
GROUP BY o.id, c.name, o.status, o.total;
