-- Import speed (issue 12): an order line still belongs to an existing batch, but the check runs
-- once per statement instead of once per row. The foreign key from order_lines to order_imports
-- ran one lookup per inserted line — about a sixth of an import's INSERT of a million lines —
-- although every line of the INSERT names the same batch. The triggers below keep what the key
-- kept: a line of no batch is refused (the batches named are locked FOR KEY SHARE, as the key
-- locks them, so a batch cannot go while its lines go in), and a batch that still has lines
-- cannot be deleted or renumbered. Both raise foreign_key_violation (23503), as the key did.
-- They read with the caller's rights: a tenant's session sees its own batches and lines (row
-- security makes its lines its own), the system role bypasses row security.

ALTER TABLE order_lines DROP CONSTRAINT order_lines_tenant_id_import_id_fkey;

CREATE FUNCTION order_lines_batch_exists() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    named bigint;
    found bigint;
BEGIN
    SELECT count(*) INTO named FROM (SELECT DISTINCT tenant_id, import_id FROM new_lines) n;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM order_imports i
         WHERE (i.tenant_id, i.id) IN (SELECT tenant_id, import_id FROM new_lines)
           FOR KEY SHARE OF i) f;
    IF found < named THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'order_lines: a line names a batch that does not exist',
            TABLE = 'order_lines';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_lines_batch_on_insert AFTER INSERT ON order_lines
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION order_lines_batch_exists();

-- A line moved to another batch (nothing does that today) is checked alone.
CREATE FUNCTION order_line_batch_exists() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM order_imports i WHERE i.tenant_id = NEW.tenant_id AND i.id = NEW.import_id
        FOR KEY SHARE OF i;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'order_lines: a line names a batch that does not exist',
            TABLE = 'order_lines';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_lines_batch_on_update AFTER UPDATE OF tenant_id, import_id ON order_lines
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.import_id IS DISTINCT FROM NEW.import_id)
    EXECUTE FUNCTION order_line_batch_exists();

CREATE FUNCTION order_imports_keep_lines() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_batches o
          JOIN order_lines l ON l.tenant_id = o.tenant_id AND l.import_id = o.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'order_imports: a batch that still has order lines cannot go',
            TABLE = 'order_imports';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_imports_keep_lines_on_delete AFTER DELETE ON order_imports
    REFERENCING OLD TABLE AS old_batches
    FOR EACH STATEMENT EXECUTE FUNCTION order_imports_keep_lines();

-- A batch renumbered (nothing does that today) is checked alone; other updates (heartbeats,
-- progress) do not fire it.
CREATE FUNCTION order_import_keep_lines() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM order_lines l
                WHERE l.tenant_id = OLD.tenant_id AND l.import_id = OLD.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'order_imports: a batch that still has order lines cannot go',
            TABLE = 'order_imports';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_imports_keep_lines_on_update AFTER UPDATE OF tenant_id, id ON order_imports
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION order_import_keep_lines();
