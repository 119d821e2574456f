-- What the dashboards read, kept small as the data grows.

-- Views per post and local day (in the tenant's time zone): the post's last reading of the day
-- and what it added over the post's previous day with a reading (all of it on the first). Kept by
-- the database as snapshots are written, changed or removed, and rebuilt when the zone changes,
-- so the daily views chart reads a row per day instead of every snapshot.
CREATE TABLE post_view_days (
    tenant_id        uuid NOT NULL,
    collaboration_id uuid NOT NULL,
    post_id          uuid NOT NULL,
    day              date NOT NULL,
    views            bigint NOT NULL,
    added            bigint NOT NULL,
    PRIMARY KEY (tenant_id, post_id, day)
);
CREATE INDEX post_view_days_collaboration_idx ON post_view_days (tenant_id, collaboration_id, day);
GRANT SELECT ON post_view_days TO sextant_app, sextant_system;
ALTER TABLE post_view_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE post_view_days FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON post_view_days
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- The same summed per campaign and day: what the campaign's daily views chart shows.
CREATE TABLE campaign_view_days (
    tenant_id   uuid NOT NULL,
    campaign_id uuid NOT NULL,
    day         date NOT NULL,
    added       bigint NOT NULL,
    PRIMARY KEY (tenant_id, campaign_id, day)
);
GRANT SELECT ON campaign_view_days TO sextant_app, sextant_system;
ALTER TABLE campaign_view_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaign_view_days FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON campaign_view_days
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Adds `p_sign` × the given posts' days to their campaigns' days (in day order, so concurrent
-- writers lock the rows in the same order).
CREATE FUNCTION add_campaign_view_days(p_tenant uuid, p_posts uuid[], p_sign bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO campaign_view_days AS c (tenant_id, campaign_id, day, added)
    SELECT d.tenant_id, l.campaign_id, d.day, p_sign * sum(d.added)
      FROM post_view_days d
      JOIN collaborations l ON l.tenant_id = d.tenant_id AND l.id = d.collaboration_id
     WHERE d.tenant_id = p_tenant AND d.post_id = ANY (p_posts)
     GROUP BY 1, 2, 3
     ORDER BY 2, 3
    ON CONFLICT (tenant_id, campaign_id, day) DO UPDATE SET added = c.added + EXCLUDED.added;
$$;

-- The days of the given posts of one tenant, counted again from their snapshots; their
-- campaigns' days lose the old counts and gain the new ones. Two transactions writing snapshots
-- of the same post take turns here (the posts' rows locked, in id order): the second counts
-- again once the first has committed, and sees its rows.
CREATE FUNCTION refresh_post_view_days(p_tenant uuid, p_posts uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM posts WHERE tenant_id = p_tenant AND id = ANY (p_posts)
      ORDER BY id FOR NO KEY UPDATE;
    PERFORM add_campaign_view_days(p_tenant, p_posts, -1);
    DELETE FROM post_view_days WHERE tenant_id = p_tenant AND post_id = ANY (p_posts);
    INSERT INTO post_view_days (tenant_id, collaboration_id, post_id, day, views, added)
    SELECT d.tenant_id, d.collaboration_id, d.post_id, d.day, d.views,
           d.views - coalesce(lag(d.views) OVER (PARTITION BY d.post_id ORDER BY d.day), 0)
      FROM (SELECT DISTINCT ON (s.post_id, (s.captured_at AT TIME ZONE t.time_zone)::date)
                   s.tenant_id, p.collaboration_id, s.post_id,
                   (s.captured_at AT TIME ZONE t.time_zone)::date AS day, s.views
              FROM metric_snapshots s
              JOIN posts p ON p.tenant_id = s.tenant_id AND p.id = s.post_id
              JOIN tenants t ON t.id = s.tenant_id
             WHERE s.tenant_id = p_tenant AND s.post_id = ANY (p_posts)
             ORDER BY s.post_id, (s.captured_at AT TIME ZONE t.time_zone)::date,
                      s.captured_at DESC) d;
    PERFORM add_campaign_view_days(p_tenant, p_posts, 1);
END;
$$;
REVOKE EXECUTE ON FUNCTION add_campaign_view_days(uuid, uuid[], bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION refresh_post_view_days(uuid, uuid[]) FROM PUBLIC;

-- After any statement on the snapshots: the posts it touched, counted again. Transition tables
-- allow one event per trigger, so three triggers share the function (`changed_snapshots` is the
-- new rows of an insert or update, the old rows of a delete; an update also counts the old ones,
-- should a reading move to another post).
CREATE FUNCTION snapshots_refresh_view_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM refresh_post_view_days(c.tenant_id, array_agg(DISTINCT c.post_id))
           FROM (SELECT tenant_id, post_id FROM changed_snapshots
                 UNION SELECT tenant_id, post_id FROM previous_snapshots) c
          GROUP BY c.tenant_id;
    ELSE
        PERFORM refresh_post_view_days(c.tenant_id, array_agg(DISTINCT c.post_id))
           FROM changed_snapshots c GROUP BY c.tenant_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER metric_snapshots_view_days_insert
    AFTER INSERT ON metric_snapshots REFERENCING NEW TABLE AS changed_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION snapshots_refresh_view_days();
CREATE TRIGGER metric_snapshots_view_days_update
    AFTER UPDATE ON metric_snapshots
    REFERENCING OLD TABLE AS previous_snapshots NEW TABLE AS changed_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION snapshots_refresh_view_days();
CREATE TRIGGER metric_snapshots_view_days_delete
    AFTER DELETE ON metric_snapshots REFERENCING OLD TABLE AS changed_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION snapshots_refresh_view_days();

-- A tenant's days counted again in its (new) time zone.
CREATE FUNCTION rebuild_post_view_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM refresh_post_view_days(NEW.id, ARRAY(SELECT id FROM posts WHERE tenant_id = NEW.id));
    RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_rebuild_post_view_days
    AFTER UPDATE OF time_zone ON tenants
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone)
    EXECUTE FUNCTION rebuild_post_view_days();

-- Snapshots written before this table existed.
SELECT refresh_post_view_days(t.id, ARRAY(SELECT id FROM posts WHERE tenant_id = t.id))
  FROM tenants t;

-- The current value of each *attributed* order line (the rule of `orders_current`: the line from
-- the latest export among the imports not undone). It starts from the attributions, so a query
-- for some collaborations looks up just their lines by key instead of ranking every line of the
-- tenant, as `orders_current` must before it can filter on the attribution.
CREATE VIEW orders_attributed WITH (security_barrier, security_invoker) AS
SELECT a.tenant_id, a.shop_id, a.order_key, a.line_key, a.collaboration_id, a.attributed_by,
       o.import_id, o.exported_at, o.placed_at, o.status, o.currency, o.amount, o.quantity,
       o.refunded_amount, o.fully_refunded, o.creator_username, o.content_id, o.discount_code,
       o.commission_rate, o.commission, o.product_name
  FROM order_attributions a
 CROSS JOIN LATERAL (
       SELECT l.* FROM order_lines l
         JOIN order_imports i ON i.tenant_id = l.tenant_id AND i.id = l.import_id
              AND i.state = 'imported'
        WHERE l.tenant_id = a.tenant_id AND l.shop_id = a.shop_id AND l.order_key = a.order_key
          AND l.line_key = a.line_key
        ORDER BY l.exported_at DESC, i.created_at DESC
        LIMIT 1) o;
GRANT SELECT ON orders_attributed TO sextant_app, sextant_system;

-- The unattributed orders list walks a tenant's lines newest first and stops at a page.
CREATE INDEX order_lines_placed_idx ON order_lines (tenant_id, placed_at DESC, order_key, line_key);
