-- The in-memory projection of the creator pool that matching ranks from is reloaded when this
-- number moves. Every statement that writes creators bumps it in its own transaction, so a reader
-- that reads the number and the pool in one snapshot always knows which pool it holds.
CREATE TABLE creator_pool_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO creator_pool_version (version) VALUES (1);
GRANT SELECT ON creator_pool_version TO sextant_app, sextant_system;

CREATE FUNCTION bump_creator_pool_version() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE creator_pool_version SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER creators_bump_pool_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON creators
    FOR EACH STATEMENT EXECUTE FUNCTION bump_creator_pool_version();
