-- Numbers that move whenever a table that a server keeps in memory changes: the creator pool
-- (matching's projection) and, later, the tracked links. Every statement that writes such a
-- table bumps its number in its own transaction, so a reader that reads the number and the rows
-- in one snapshot always knows which version it holds.
CREATE TABLE cache_versions (
    name    text PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('creator_pool', 1);
GRANT SELECT ON cache_versions TO sextant_app, sextant_system;

-- Trigger argument: the name to bump.
CREATE FUNCTION bump_cache_version() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE cache_versions SET version = version + 1 WHERE name = TG_ARGV[0];
    RETURN NULL;
END;
$$;

CREATE TRIGGER creators_bump_pool_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON creators
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('creator_pool');
