-- The check that every inserted order line names an existing batch (migration 19) probes the
-- batches it names by their key. It matched every batch of the tenant against every inserted
-- line (a nested loop over the lines for each batch): an API orders call is a batch of its own,
-- so the check of a 5,000-line call grew with the tenant's batches — 216 ms a call by 100 calls
-- (found by the API ingest benchmark). The batches named are few (one per statement in
-- practice); each is now one index probe, locked FOR KEY SHARE as the foreign key would.
CREATE OR REPLACE FUNCTION order_lines_batch_exists() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    tenants uuid[];
    batches uuid[];
    found bigint;
BEGIN
    SELECT array_agg(n.tenant_id), array_agg(n.import_id) INTO tenants, batches
      FROM (SELECT DISTINCT tenant_id, import_id FROM new_lines) n;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM unnest(tenants, batches) AS n(tenant_id, import_id)
          JOIN order_imports i ON i.tenant_id = n.tenant_id AND i.id = n.import_id
           FOR KEY SHARE OF i) f;
    IF found < coalesce(cardinality(batches), 0) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'order_lines: a line names a batch that does not exist',
            TABLE = 'order_lines';
    END IF;
    RETURN NULL;
END
$$;
