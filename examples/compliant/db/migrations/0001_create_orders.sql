-- 0001: the orders table. Applied by org/ship/run-migrations before the rollout; written to
-- be compatible with the previous release (it only adds), so a rollback needs no down step.
CREATE TABLE IF NOT EXISTS orders (
    id           UUID PRIMARY KEY,
    customer_id  UUID        NOT NULL,
    status       TEXT        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
    total_cents  BIGINT      NOT NULL CHECK (total_cents >= 0),
    currency     CHAR(3)     NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS orders_customer_id_created_at_idx
    ON orders (customer_id, created_at DESC);
