DROP INDEX IF EXISTS idx_orders_created_at;
