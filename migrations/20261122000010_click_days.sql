-- Clicks per collaboration and local day (in the tenant's time zone), kept by the database as
-- clicks arrive, so dashboards read a few rows per creator and day instead of every click.
-- `link_clicks` stays the record; this is derived from it and rebuilt when the zone changes.
CREATE TABLE link_click_days (
    tenant_id        uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    zone             text NOT NULL,
    day              date NOT NULL,
    -- Every redirect; the counted ones (not bots); the unique ones; the bots.
    total            bigint NOT NULL,
    clicks           bigint NOT NULL,
    unique_clicks    bigint NOT NULL,
    bots             bigint NOT NULL,
    PRIMARY KEY (tenant_id, collaboration_id, zone, day)
);
GRANT SELECT ON link_click_days TO sextant_app, sextant_system;
ALTER TABLE link_click_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE link_click_days FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON link_click_days
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE FUNCTION add_click_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO link_click_days AS d (tenant_id, collaboration_id, zone, day, total, clicks,
                                      unique_clicks, bots)
    SELECT n.tenant_id, n.collaboration_id, t.time_zone, (n.at AT TIME ZONE t.time_zone)::date,
           count(*), count(*) FILTER (WHERE NOT n.bot),
           count(*) FILTER (WHERE n.unique_click AND NOT n.bot), count(*) FILTER (WHERE n.bot)
      FROM new_clicks n JOIN tenants t ON t.id = n.tenant_id
     GROUP BY 1, 2, 3, 4
    ON CONFLICT (tenant_id, collaboration_id, zone, day) DO UPDATE
       SET total = d.total + EXCLUDED.total, clicks = d.clicks + EXCLUDED.clicks,
           unique_clicks = d.unique_clicks + EXCLUDED.unique_clicks, bots = d.bots + EXCLUDED.bots;
    RETURN NULL;
END;
$$;
CREATE TRIGGER link_clicks_add_days
    AFTER INSERT ON link_clicks REFERENCING NEW TABLE AS new_clicks
    FOR EACH STATEMENT EXECUTE FUNCTION add_click_days();

-- A tenant's days counted again in its (new) time zone.
CREATE FUNCTION rebuild_click_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM link_click_days WHERE tenant_id = NEW.id;
    INSERT INTO link_click_days (tenant_id, collaboration_id, zone, day, total, clicks,
                                 unique_clicks, bots)
    SELECT c.tenant_id, c.collaboration_id, NEW.time_zone, (c.at AT TIME ZONE NEW.time_zone)::date,
           count(*), count(*) FILTER (WHERE NOT c.bot),
           count(*) FILTER (WHERE c.unique_click AND NOT c.bot), count(*) FILTER (WHERE c.bot)
      FROM link_clicks c WHERE c.tenant_id = NEW.id
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_rebuild_click_days
    AFTER UPDATE OF time_zone ON tenants
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone)
    EXECUTE FUNCTION rebuild_click_days();

-- Clicks logged before this table existed.
INSERT INTO link_click_days (tenant_id, collaboration_id, zone, day, total, clicks, unique_clicks, bots)
SELECT c.tenant_id, c.collaboration_id, t.time_zone, (c.at AT TIME ZONE t.time_zone)::date,
       count(*), count(*) FILTER (WHERE NOT c.bot),
       count(*) FILTER (WHERE c.unique_click AND NOT c.bot), count(*) FILTER (WHERE c.bot)
  FROM link_clicks c JOIN tenants t ON t.id = c.tenant_id
 GROUP BY 1, 2, 3, 4;
