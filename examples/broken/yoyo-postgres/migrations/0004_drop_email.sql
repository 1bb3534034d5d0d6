-- app/orders.py still looks orders up by email.
SET lock_timeout = '5s';
ALTER TABLE orders DROP COLUMN IF EXISTS email;
