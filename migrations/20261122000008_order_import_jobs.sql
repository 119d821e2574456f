-- Order imports as background jobs (SPEC §5): who is working on a job and since when, the rows
-- a validation run rejected, and the good rows staged until the user imports or cancels.

-- A worker claims a job by setting job_heartbeat_at and keeps it fresh while it works; a job
-- whose heartbeat is older than the stale limit (its process died) is claimed again and its
-- phase restarts from the beginning. job_attempts counts claims: past the limit it fails.
ALTER TABLE order_imports
    ADD COLUMN job_worker       text,
    ADD COLUMN job_heartbeat_at timestamptz,
    ADD COLUMN job_attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN encoding         text,
    -- Progress of a validation run, in bytes of the stored file read.
    ADD COLUMN bytes_total      bigint NOT NULL DEFAULT 0,
    ADD COLUMN bytes_done       bigint NOT NULL DEFAULT 0,
    -- The argument of the `failure` message key (a missing header list, a detail).
    ADD COLUMN failure_detail   text,
    ADD COLUMN duplicate_rows   bigint NOT NULL DEFAULT 0,
    ADD COLUMN imported_at      timestamptz,
    ADD COLUMN undone_at        timestamptz;

-- Every problem of every rejected row (a row may have several), in file order.
CREATE TABLE order_import_errors (
    tenant_id  uuid NOT NULL,
    import_id  uuid NOT NULL,
    seq        bigint NOT NULL,
    line       bigint NOT NULL,
    -- The header as the export writes it; NULL when the problem is the row's shape.
    column_name text,
    value      text NOT NULL DEFAULT '',
    -- Message catalogue key (tracking.orders.error.*) and its argument, if any.
    problem    text NOT NULL,
    detail     text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, import_id, seq),
    FOREIGN KEY (tenant_id, import_id) REFERENCES order_imports (tenant_id, id) ON DELETE CASCADE
);

-- The good rows of a validated import, waiting for the one merge into order_lines. UNLOGGED:
-- it is scratch data rebuilt from the stored file, so it skips the WAL (a database crash empties
-- it; the import then validates the file again before it can be imported).
CREATE UNLOGGED TABLE order_import_staging (
    tenant_id        uuid NOT NULL,
    import_id        uuid NOT NULL,
    line             bigint NOT NULL,
    order_key        text NOT NULL,
    line_key         text NOT NULL DEFAULT '',
    placed_at        timestamptz NOT NULL,
    status           text,
    currency         char(3) NOT NULL,
    amount           numeric(18,2) NOT NULL,
    quantity         integer,
    refunded_amount  numeric(18,2) NOT NULL DEFAULT 0,
    fully_refunded   boolean NOT NULL DEFAULT false,
    creator_username text,
    content_id       text,
    discount_code    text,
    commission_rate  numeric(7,4),
    commission       numeric(18,2),
    product_name     text
);
CREATE INDEX order_import_staging_import_idx ON order_import_staging (tenant_id, import_id);

CREATE INDEX order_imports_heartbeat_idx ON order_imports (job_heartbeat_at)
    WHERE state IN ('queued', 'validating', 'importing');

GRANT SELECT, INSERT, UPDATE, DELETE ON order_import_errors, order_import_staging
    TO sextant_app, sextant_system;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['order_import_errors', 'order_import_staging'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END
$$;
