ALTER TABLE orders DROP COLUMN IF EXISTS shipped_at;
ALTER TABLE orders RENAME COLUMN email TO customer_email;
ALTER TABLE orders ALTER COLUMN status TYPE varchar(20);
ALTER TABLE orders ALTER COLUMN customer_email DROP NOT NULL;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS chk_orders_status;
DROP INDEX IF EXISTS idx_orders_status;
