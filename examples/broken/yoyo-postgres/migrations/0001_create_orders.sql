CREATE TABLE IF NOT EXISTS orders (
    id bigserial PRIMARY KEY,
    customer_email text,
    status varchar(20),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
