-- Sync for the API's lists (issue 19): `updated_since` answers each change once, with tombstones
-- for rows that left a list (a deleted shop, an undone import batch).
--
-- Every change to something an API list shows writes (or moves) one row here: its kind, its id,
-- the writing transaction's id and a tombstone flag. A pull remembers the snapshot it read in
-- (`pg_current_snapshot()`); the next pull answers the rows whose transaction that snapshot did not
-- see, and only those its own first page's snapshot sees — so a change committed while a client
-- pages is neither lost nor answered twice, whatever order transactions commit in (a timestamp
-- cannot promise that: a transaction that began earlier may commit later).
CREATE TABLE sync_changes (
    -- No foreign key to tenants: a company's rows may go with it (their DELETE triggers write here).
    tenant_id  uuid        NOT NULL,
    kind       text        NOT NULL,
    id         uuid        NOT NULL,
    xid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted    boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, kind, id)
);
CREATE INDEX sync_changes_order ON sync_changes (tenant_id, kind, xid, id);

GRANT SELECT, INSERT, UPDATE ON sync_changes TO sextant_app, sextant_system;
ALTER TABLE sync_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_changes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- One statement-level trigger function for every source: `TG_ARGV[0]` the kinds (comma-separated:
-- one source may feed several lists), `[1]` the column
-- naming the listed thing, `[2]` (optional) a boolean SQL expression over the row that makes it a
-- tombstone (a DELETE always does), `[3]` (optional) columns whose change alone is no change
-- (comma-separated). An UPDATE that changes nothing else writes nothing, so a daily pass that
-- rewrites rows as they were stays quiet; `*` skips that comparison for a source whose writers
-- only ever write changed rows (the tier pass: comparing 100,000 row images cost seconds).
CREATE FUNCTION sync_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kinds text[] := string_to_array(TG_ARGV[0], ',');
    col text := TG_ARGV[1];
    gone text := coalesce(nullif(TG_ARGV[2], ''), 'false');
    quiet text[] := string_to_array(coalesce(nullif(TG_ARGV[3], ''), 'tenant_id'), ',');
BEGIN
    IF TG_OP = 'DELETE' THEN
        EXECUTE format(
            'INSERT INTO sync_changes AS s (tenant_id, kind, id, deleted)
             SELECT DISTINCT o.tenant_id, k.kind, o.%I, true
               FROM old_rows o CROSS JOIN unnest($2) AS k(kind)
              WHERE o.%1$I IS NOT NULL
             ON CONFLICT (tenant_id, kind, id) DO UPDATE
                SET xid = pg_current_xact_id(), changed_at = clock_timestamp(), deleted = true',
            col) USING quiet, kinds;
    ELSIF TG_OP = 'INSERT' THEN
        EXECUTE format(
            'INSERT INTO sync_changes AS s (tenant_id, kind, id, deleted)
             SELECT DISTINCT ON (n.tenant_id, k.kind, n.%1$I) n.tenant_id, k.kind, n.%1$I, (%2$s)
               FROM new_rows n CROSS JOIN unnest($2) AS k(kind)
              WHERE n.%1$I IS NOT NULL
             ON CONFLICT (tenant_id, kind, id) DO UPDATE
                SET xid = pg_current_xact_id(), changed_at = clock_timestamp(),
                    deleted = EXCLUDED.deleted',
            col, gone) USING quiet, kinds;
    ELSIF TG_ARGV[3] = '*' THEN
        EXECUTE format(
            'INSERT INTO sync_changes AS s (tenant_id, kind, id, deleted)
             SELECT DISTINCT ON (n.tenant_id, k.kind, n.%1$I) n.tenant_id, k.kind, n.%1$I, (%2$s)
               FROM new_rows n CROSS JOIN unnest($2) AS k(kind)
              WHERE n.%1$I IS NOT NULL
             ON CONFLICT (tenant_id, kind, id) DO UPDATE
                SET xid = pg_current_xact_id(), changed_at = clock_timestamp(),
                    deleted = EXCLUDED.deleted',
            col, gone) USING quiet, kinds;
    ELSE
        -- Rows pair up by their place in the statement's output (ctid is gone in transition
        -- tables): by the listed column plus the whole old row set, a row counts as changed when
        -- its image (less the quiet columns) is not among the old images of the same thing.
        EXECUTE format(
            'INSERT INTO sync_changes AS s (tenant_id, kind, id, deleted)
             SELECT DISTINCT ON (n.tenant_id, k.kind, n.%1$I) n.tenant_id, k.kind, n.%1$I, (%2$s)
               FROM new_rows n CROSS JOIN unnest($2) AS k(kind)
              WHERE n.%1$I IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM old_rows o
                     WHERE o.tenant_id = n.tenant_id AND o.%1$I = n.%1$I
                       AND (to_jsonb(o) - $1) = (to_jsonb(n) - $1))
             ON CONFLICT (tenant_id, kind, id) DO UPDATE
                SET xid = pg_current_xact_id(), changed_at = clock_timestamp(),
                    deleted = EXCLUDED.deleted',
            col, gone) USING quiet, kinds;
    END IF;
    RETURN NULL;
END
$$;

-- Triggers with transition tables take one event each.
CREATE FUNCTION sync_watch(tbl regclass, kinds text, col text, gone text DEFAULT '',
                           quiet text DEFAULT '', events text[] DEFAULT '{INSERT,UPDATE,DELETE}')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ev text;
    name text;
BEGIN
    FOREACH ev IN ARRAY events LOOP
        name := format('%s_sync_%s_%s', tbl::text, col, lower(ev));
        EXECUTE format(
            'CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT
             EXECUTE FUNCTION sync_touch(%L, %L, %L, %L)',
            name, ev, tbl,
            CASE ev WHEN 'INSERT' THEN 'NEW TABLE AS new_rows'
                    WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
                    ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
            kinds, col, gone, quiet);
    END LOOP;
END
$$;

SELECT sync_watch('campaigns', 'campaign', 'id');
SELECT sync_watch('shortlist_entries', 'campaign', 'campaign_id');
SELECT sync_watch('collaborations', 'collaboration', 'id');
SELECT sync_watch('contract_versions', 'collaboration', 'collaboration_id', events => '{INSERT}');
SELECT sync_watch('shops', 'shop', 'id');
SELECT sync_watch('posts', 'post', 'id');
SELECT sync_watch('fulfilment_records', 'fulfilment_record', 'id');
-- A correction supersedes the record it names: that record's `counts` changes too.
SELECT sync_watch('fulfilment_records', 'fulfilment_record', 'supersedes',
                  gone => 'false', events => '{INSERT}');
SELECT sync_watch('ratings', 'rating', 'id');
SELECT sync_watch('rating_raters', 'rating', 'rating_id', events => '{INSERT,DELETE}');
SELECT sync_watch('rating_submissions', 'rating', 'rating_id', events => '{INSERT}');
-- A creator's tier and blacklist show on both the tiers and the creators lists: written once as
-- `tier`, which the creators list reads too. The tier pass writes only the rows that change.
SELECT sync_watch('creator_tiers', 'tier', 'creator_id', quiet => '*');
SELECT sync_watch('blacklist_entries', 'tier', 'creator_id');
SELECT sync_watch('shortlist_entries', 'creator', 'creator_id', events => '{INSERT}');
SELECT sync_watch('collaborations', 'creator', 'creator_id', events => '{INSERT}');
SELECT sync_watch('settlements', 'settlement', 'id', events => '{INSERT}');
SELECT sync_watch('settlement_payments', 'settlement', 'settlement_id', events => '{INSERT}');
-- An undone import batch leaves the list: a tombstone.
SELECT sync_watch('order_imports', 'order_import', 'id', gone => $$n.state = 'undone'$$,
                  quiet => 'tenant_id,job_heartbeat_at,bytes_done,rows_done');

-- The platform's creator rows are every tenant's: they carry their own writer.
ALTER TABLE creators ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE FUNCTION creators_sync_xid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER creators_sync_xid BEFORE UPDATE ON creators
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION creators_sync_xid();

-- What is there now is one change (this transaction's), so a first pull with an old
-- `updated_since` time answers everything.
INSERT INTO sync_changes (tenant_id, kind, id, changed_at)
SELECT tenant_id, 'campaign', id, updated_at FROM campaigns
UNION ALL SELECT tenant_id, 'collaboration', id, updated_at FROM collaborations
UNION ALL SELECT tenant_id, 'shop', id, created_at FROM shops
UNION ALL SELECT tenant_id, 'post', id, created_at FROM posts
UNION ALL SELECT tenant_id, 'fulfilment_record', id, recorded_at FROM fulfilment_records
UNION ALL SELECT tenant_id, 'rating', id, opened_at FROM ratings
UNION ALL SELECT tenant_id, 'tier', creator_id, computed_at FROM creator_tiers
UNION ALL SELECT tenant_id, 'settlement', id, finalized_at FROM settlements
UNION ALL SELECT tenant_id, 'order_import', id, updated_at FROM order_imports
UNION ALL SELECT tenant_id, 'creator', creator_id, now()
            FROM (SELECT tenant_id, creator_id FROM shortlist_entries
                  UNION SELECT tenant_id, creator_id FROM collaborations) k
ON CONFLICT DO NOTHING;
UPDATE sync_changes SET deleted = true
 WHERE kind = 'order_import'
   AND (tenant_id, id) IN (SELECT tenant_id, id FROM order_imports WHERE state = 'undone');
