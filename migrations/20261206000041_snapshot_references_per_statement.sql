-- Readings are the most written rows of the product (a scraper's rounds through the API, issue
-- 18: at least 50,000 a second). Their two foreign keys — to the post, and to the person who
-- recorded them — ran a lookup and a lock for every reading: two thirds of what inserting a
-- 5,000-reading call cost (measured: 71 ms with the keys, 25 ms without), although a call names
-- its posts once each and one person. As migration 19 did for order lines, the same rules are now
-- checked once per statement:
-- * a reading names a post of its own company, and the person who recorded it (if any) exists;
--   the posts and people named are locked, as the keys lock them, so a transaction removing one
--   waits for the writer and then finds its readings. An inserted reading's post is checked by
--   the daily-views rollup of the statement (`add_post_readings`, migration 40), which locks
--   each post it names anyway (FOR NO KEY UPDATE, stronger than the key's FOR KEY SHARE) and
--   refuses a post it cannot find; a moved reading's post, and the people, are checked here;
-- * a post or person with readings cannot be deleted, nor its key changed.
-- Each refusal is foreign_key_violation (23503), as the keys raised. The checks read with the
-- caller's rights, as migration 19's: a company's session sees its own posts and readings (a
-- reading's company is its session's, row security makes sure), the system role sees all.

ALTER TABLE metric_snapshots DROP CONSTRAINT metric_snapshots_tenant_id_post_id_fkey;
ALTER TABLE metric_snapshots DROP CONSTRAINT metric_snapshots_created_by_fkey;

CREATE FUNCTION snapshots_references_exist() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp SET jit = off AS $$
DECLARE
    named bigint;
    found bigint;
BEGIN
    SELECT count(*) INTO named
      FROM (SELECT DISTINCT created_by FROM new_snapshots WHERE created_by IS NOT NULL) n;
    IF named > 0 THEN
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM users u
             WHERE u.id IN (SELECT created_by FROM new_snapshots)
               FOR KEY SHARE OF u) f;
        IF found < named THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'metric_snapshots: a reading names a person who does not exist',
                TABLE = 'metric_snapshots';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER metric_snapshots_references_on_insert AFTER INSERT ON metric_snapshots
    REFERENCING NEW TABLE AS new_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION snapshots_references_exist();

-- A reading moved to another post, or recorded again by another person (a replaced reading),
-- is checked alone; other updates do not fire it.
CREATE FUNCTION snapshot_references_exist() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.post_id IS DISTINCT FROM NEW.post_id
    THEN
        PERFORM 1 FROM posts p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.post_id
            FOR KEY SHARE OF p;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'metric_snapshots: a reading names a post that does not exist',
                TABLE = 'metric_snapshots';
        END IF;
    END IF;
    IF NEW.created_by IS NOT NULL AND OLD.created_by IS DISTINCT FROM NEW.created_by THEN
        PERFORM 1 FROM users u WHERE u.id = NEW.created_by FOR KEY SHARE OF u;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'metric_snapshots: a reading names a person who does not exist',
                TABLE = 'metric_snapshots';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER metric_snapshots_references_on_update
    AFTER UPDATE OF tenant_id, post_id, created_by ON metric_snapshots
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.post_id IS DISTINCT FROM NEW.post_id
          OR (NEW.created_by IS NOT NULL AND OLD.created_by IS DISTINCT FROM NEW.created_by))
    EXECUTE FUNCTION snapshot_references_exist();

-- A post that still has readings cannot go.
CREATE FUNCTION posts_keep_readings() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM old_posts o
          JOIN metric_snapshots m ON m.tenant_id = o.tenant_id AND m.post_id = o.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'posts: a post that still has readings cannot go',
            TABLE = 'posts';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER posts_keep_readings_on_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS old_posts
    FOR EACH STATEMENT EXECUTE FUNCTION posts_keep_readings();

CREATE FUNCTION post_keeps_readings() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM metric_snapshots m
                WHERE m.tenant_id = OLD.tenant_id AND m.post_id = OLD.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'posts: a post that still has readings cannot go',
            TABLE = 'posts';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER posts_keep_readings_on_update AFTER UPDATE OF tenant_id, id ON posts
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION post_keeps_readings();

-- A person who recorded readings cannot go (no index on `created_by`: people are never deleted,
-- and the foreign key's own check read the whole table as this does).
CREATE FUNCTION users_keep_readings() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM metric_snapshots m WHERE m.created_by IN (SELECT id FROM old_users))
    THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'users: a person who recorded readings cannot go',
            TABLE = 'users';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_keep_readings_on_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_users
    FOR EACH STATEMENT EXECUTE FUNCTION users_keep_readings();

CREATE FUNCTION user_keeps_readings() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM metric_snapshots m WHERE m.created_by = OLD.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'users: a person who recorded readings cannot go',
            TABLE = 'users';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_keep_readings_on_update AFTER UPDATE OF id ON users
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION user_keeps_readings();
