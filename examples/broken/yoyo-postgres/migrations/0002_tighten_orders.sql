-- Each of these locks `orders`, which the shop is writing to, for as long
-- as PostgreSQL reads or copies the whole table.
CREATE INDEX IF NOT EXISTS idx_orders_status ON orders (status);
ALTER TABLE orders ADD CONSTRAINT chk_orders_status CHECK (status <> '');
ALTER TABLE orders ALTER COLUMN customer_email SET NOT NULL;
ALTER TABLE orders ALTER COLUMN status TYPE varchar(10);
ALTER TABLE orders RENAME COLUMN customer_email TO email;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shipped_at timestamp;
