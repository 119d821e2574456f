-- A post's day row keeps the moment of the day's last reading (`last_at`), beside its views.
-- Whether a statement's readings of a post come after all its others (an append, issue 18's
-- ingest) is then one probe of the post's newest day row — its `last_at` before the earliest
-- reading written — instead of a descent of the snapshots' index past the readings just written
-- plus a probe of the day's row; the same probe gives the reading before (the newest day's views)
-- and the row the append changes (written as before, one upsert for the statement's posts).
--
-- Every writer of the day rows keeps `last_at`: the whole-post count (a time zone change), the
-- count from a day on, and the append.
--
-- A campaign's day is kept in up to 16 rows (`shard`), each connection adding to its own: two
-- transactions writing readings of one campaign's posts at once no longer wait for each other on
-- the campaign's one row of the day (each held it from its rollup until its commit — the API
-- ingest benchmark's two connections spent a sixth of each call waiting there). What a day counts
-- is the sum of its rows; the dashboard reads it so. A writer still adds in (campaign, day) order,
-- so two of the same shard cannot deadlock.

ALTER TABLE campaign_view_days ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE campaign_view_days DROP CONSTRAINT campaign_view_days_pkey;
ALTER TABLE campaign_view_days ADD PRIMARY KEY (tenant_id, campaign_id, day, shard);

-- The campaign-day row this connection adds to.
CREATE FUNCTION campaign_day_shard() RETURNS smallint
    LANGUAGE sql STABLE AS $$ SELECT (pg_backend_pid() % 16)::smallint $$;

-- Adds `p_sign` × the given posts' days to their campaigns' days (as migration 11), in this
-- connection's shard.
CREATE OR REPLACE FUNCTION add_campaign_view_days(p_tenant uuid, p_posts uuid[], p_sign bigint)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO campaign_view_days AS c (tenant_id, campaign_id, day, shard, added)
    SELECT d.tenant_id, l.campaign_id, d.day, campaign_day_shard(), p_sign * sum(d.added)
      FROM post_view_days d
      JOIN collaborations l ON l.tenant_id = d.tenant_id AND l.id = d.collaboration_id
     WHERE d.tenant_id = p_tenant AND d.post_id = ANY (p_posts)
     GROUP BY 1, 2, 3
     ORDER BY 2, 3
    ON CONFLICT (tenant_id, campaign_id, day, shard) DO UPDATE SET added = c.added + EXCLUDED.added;
$$;

ALTER TABLE post_view_days ADD COLUMN last_at timestamptz;

-- The days of the given posts of one tenant, counted again from their snapshots (as migration
-- 11), now with each day's last moment.
CREATE OR REPLACE FUNCTION refresh_post_view_days(p_tenant uuid, p_posts uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM posts WHERE tenant_id = p_tenant AND id = ANY (p_posts)
      ORDER BY id FOR NO KEY UPDATE;
    PERFORM add_campaign_view_days(p_tenant, p_posts, -1);
    DELETE FROM post_view_days WHERE tenant_id = p_tenant AND post_id = ANY (p_posts);
    INSERT INTO post_view_days (tenant_id, collaboration_id, post_id, day, views, added, last_at)
    SELECT d.tenant_id, d.collaboration_id, d.post_id, d.day, d.views,
           d.views - coalesce(lag(d.views) OVER (PARTITION BY d.post_id ORDER BY d.day), 0),
           d.captured_at
      FROM (SELECT DISTINCT ON (s.post_id, (s.captured_at AT TIME ZONE t.time_zone)::date)
                   s.tenant_id, p.collaboration_id, s.post_id,
                   (s.captured_at AT TIME ZONE t.time_zone)::date AS day, s.views, s.captured_at
              FROM metric_snapshots s
              JOIN posts p ON p.tenant_id = s.tenant_id AND p.id = s.post_id
              JOIN tenants t ON t.id = s.tenant_id
             WHERE s.tenant_id = p_tenant AND s.post_id = ANY (p_posts)
             ORDER BY s.post_id, (s.captured_at AT TIME ZONE t.time_zone)::date,
                      s.captured_at DESC) d;
    PERFORM add_campaign_view_days(p_tenant, p_posts, 1);
END;
$$;

-- The days of the given posts from each one's `since` day on, counted again (as migration 35),
-- now with each day's last moment.
CREATE OR REPLACE FUNCTION refresh_post_view_days_since(p_tenant uuid, p_posts uuid[],
                                                        p_since date[])
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    old_campaigns uuid[];
    old_days date[];
    old_added bigint[];
BEGIN
    PERFORM 1 FROM posts WHERE tenant_id = p_tenant AND id = ANY (p_posts)
      ORDER BY id FOR NO KEY UPDATE;
    -- What these days count for now, per campaign and day.
    SELECT array_agg(x.campaign_id), array_agg(x.day), array_agg(x.added)
      INTO old_campaigns, old_days, old_added
      FROM (SELECT l.campaign_id, d.day, sum(d.added)::bigint AS added
              FROM unnest(p_posts, p_since) AS s(post_id, since)
              JOIN post_view_days d ON d.tenant_id = p_tenant AND d.post_id = s.post_id
                   AND d.day >= s.since
              JOIN collaborations l ON l.tenant_id = d.tenant_id AND l.id = d.collaboration_id
             GROUP BY 1, 2) x;
    DELETE FROM post_view_days d USING unnest(p_posts, p_since) AS s(post_id, since)
     WHERE d.tenant_id = p_tenant AND d.post_id = s.post_id AND d.day >= s.since;
    -- Each day from `since` to the post's last reading, its last reading found through the
    -- snapshots' index (one probe a day, however many readings the day has); days without one
    -- drop out.
    INSERT INTO post_view_days (tenant_id, collaboration_id, post_id, day, views, added, last_at)
    SELECT p_tenant, d.collaboration_id, d.post_id, d.day, d.views,
           d.views - coalesce(lag(d.views) OVER (PARTITION BY d.post_id ORDER BY d.day),
                              d.before, 0),
           d.captured_at
      FROM (SELECT p.collaboration_id, s.post_id, g.day, r.views, r.captured_at,
                   b.views AS before
              FROM unnest(p_posts, p_since) AS s(post_id, since)
              JOIN tenants t ON t.id = p_tenant
              JOIN posts p ON p.tenant_id = p_tenant AND p.id = s.post_id
              -- The post's last kept day before (all later ones were just removed).
              LEFT JOIN LATERAL (SELECT v.views FROM post_view_days v
                                  WHERE v.tenant_id = p_tenant AND v.post_id = s.post_id
                                  ORDER BY v.day DESC LIMIT 1) b ON true
              CROSS JOIN LATERAL (SELECT (max(m.captured_at) AT TIME ZONE t.time_zone)::date AS day
                                    FROM metric_snapshots m
                                   WHERE m.tenant_id = p_tenant AND m.post_id = s.post_id) last
              CROSS JOIN LATERAL generate_series(s.since::timestamp, last.day::timestamp,
                                                 interval '1 day') AS g0(at)
              CROSS JOIN LATERAL (SELECT g0.at::date AS day) g
              CROSS JOIN LATERAL (SELECT m.views, m.captured_at FROM metric_snapshots m
                                   WHERE m.tenant_id = p_tenant AND m.post_id = s.post_id
                                     AND m.captured_at >= (g.day::timestamp AT TIME ZONE t.time_zone)
                                     AND m.captured_at < ((g.day + 1)::timestamp AT TIME ZONE t.time_zone)
                                   ORDER BY m.captured_at DESC LIMIT 1) r) d;
    -- The campaigns' days: what they count for now minus what they counted for, days that did
    -- not change left alone.
    INSERT INTO campaign_view_days AS c (tenant_id, campaign_id, day, shard, added)
    SELECT p_tenant, x.campaign_id, x.day, campaign_day_shard(), sum(x.added)
      FROM (SELECT l.campaign_id, d.day, d.added
              FROM unnest(p_posts, p_since) AS s(post_id, since)
              JOIN post_view_days d ON d.tenant_id = p_tenant AND d.post_id = s.post_id
                   AND d.day >= s.since
              JOIN collaborations l ON l.tenant_id = d.tenant_id AND l.id = d.collaboration_id
            UNION ALL
            SELECT o.campaign_id, o.day, -o.added
              FROM unnest(old_campaigns, old_days, old_added) AS o(campaign_id, day, added)) x
     GROUP BY x.campaign_id, x.day
    HAVING sum(x.added) <> 0
     ORDER BY x.campaign_id, x.day
    ON CONFLICT (tenant_id, campaign_id, day, shard)
       DO UPDATE SET added = c.added + EXCLUDED.added;
END;
$$;

-- Readings after every reading a post has (see migration 36 for the rule). The posts are locked
-- in id order, joined to their campaigns in the same statement (the ingest action has usually
-- locked them already: then the lock costs nothing more); one probe of each post's newest day row
-- tells an append — a post with no day row, or whose newest day's last reading is before the
-- earliest one written, and whose written readings fall on one day — from the rest, which are
-- counted again from their earliest day by `refresh_post_view_days_since`. How many readings a
-- post got no longer matters: the function loses that argument.
--
-- p_first/p_last: the earliest and latest moment the statement wrote for each post, p_views the
-- views of its latest one.
DROP FUNCTION add_post_readings(uuid, uuid[], timestamptz[], timestamptz[], bigint[], bigint[]);
CREATE FUNCTION add_post_readings(p_tenant uuid, p_posts uuid[], p_first timestamptz[],
                                  p_last timestamptz[], p_views bigint[])
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    zone text;
    other_posts uuid[];
    other_since date[];
    locked uuid[];
    collaborations_of uuid[];
    campaigns_of uuid[];
BEGIN
    SELECT t.time_zone INTO zone FROM tenants t WHERE t.id = p_tenant;
    -- Two writers of one post take turns; what follows runs once the other has committed, and
    -- sees its readings and day rows.
    SELECT array_agg(p.id ORDER BY p.id), array_agg(p.collaboration_id ORDER BY p.id),
           array_agg(p.campaign_id ORDER BY p.id)
      INTO locked, collaborations_of, campaigns_of
      FROM (SELECT p.id, p.collaboration_id, c.campaign_id
              FROM posts p
              JOIN collaborations c ON c.tenant_id = p.tenant_id AND c.id = p.collaboration_id
             WHERE p.tenant_id = p_tenant AND p.id = ANY (p_posts)
             ORDER BY p.id FOR NO KEY UPDATE OF p) p;
    -- Every reading names a post of its company (migration 41 checks it here, where each post is
    -- locked anyway, instead of by a foreign key row by row).
    IF coalesce(cardinality(locked), 0) < cardinality(p_posts) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'metric_snapshots: a reading names a post that does not exist',
            TABLE = 'metric_snapshots';
    END IF;
    -- The caller's posts come distinct and in id order, as the lock's: the arrays line up.
    IF locked <> p_posts THEN
        RAISE EXCEPTION 'add_post_readings: the posts must come distinct, in id order';
    END IF;
    WITH k AS MATERIALIZED (
        SELECT s.post_id, s.collaboration_id, s.campaign_id, s.views, s.last_at,
               (s.first_at AT TIME ZONE zone)::date AS first_day,
               (s.last_at AT TIME ZONE zone)::date AS day,
               coalesce((s.first_at AT TIME ZONE zone)::date = (s.last_at AT TIME ZONE zone)::date
                        AND (n.last_at IS NULL OR n.last_at < s.first_at), false) AS append,
               n.day AS newest_day, n.views AS newest_views, n.added AS newest_added
          FROM unnest(p_posts, p_first, p_last, p_views, collaborations_of, campaigns_of)
               AS s(post_id, first_at, last_at, views, collaboration_id, campaign_id)
          -- The post's newest day row (one probe by key; none before its first reading).
          LEFT JOIN LATERAL (SELECT d.day, d.views, d.added, d.last_at FROM post_view_days d
                              WHERE d.tenant_id = p_tenant AND d.post_id = s.post_id
                              ORDER BY d.day DESC LIMIT 1) n ON true),
    -- The day's row as it becomes: the newest day's row gains what the new views add over its
    -- own; a new day adds over the reading before (the newest day's last).
    f AS (
        SELECT k.post_id, k.collaboration_id, k.campaign_id, k.day, k.views,
               CASE WHEN k.newest_day IS NOT DISTINCT FROM k.day
                    THEN k.newest_added + k.views - k.newest_views
                    ELSE k.views - coalesce(k.newest_views, 0) END AS added,
               CASE WHEN k.newest_day IS NOT DISTINCT FROM k.day THEN k.newest_added
                    ELSE 0 END AS added_before,
               k.last_at
          FROM k
         WHERE k.append),
    days AS (
        INSERT INTO post_view_days AS d (tenant_id, collaboration_id, post_id, day, views, added,
                                         last_at)
        SELECT p_tenant, f.collaboration_id, f.post_id, f.day, f.views, f.added, f.last_at
          FROM f ORDER BY f.post_id
        ON CONFLICT (tenant_id, post_id, day)
           DO UPDATE SET views = EXCLUDED.views, added = EXCLUDED.added, last_at = EXCLUDED.last_at),
    -- The campaigns' days by the difference, in (campaign, day) order (no deadlock between two
    -- writers of one campaign).
    campaign_days AS (
        INSERT INTO campaign_view_days AS c (tenant_id, campaign_id, day, shard, added)
        SELECT p_tenant, f.campaign_id, f.day, campaign_day_shard(), sum(f.added - f.added_before)
          FROM f
         GROUP BY f.campaign_id, f.day
        HAVING sum(f.added - f.added_before) <> 0
         ORDER BY f.campaign_id, f.day
        ON CONFLICT (tenant_id, campaign_id, day, shard)
           DO UPDATE SET added = c.added + EXCLUDED.added)
    SELECT array_agg(k.post_id ORDER BY k.post_id) FILTER (WHERE NOT k.append),
           array_agg(k.first_day ORDER BY k.post_id) FILTER (WHERE NOT k.append)
      INTO other_posts, other_since
      FROM k;
    IF other_posts IS NOT NULL THEN
        PERFORM refresh_post_view_days_since(p_tenant, other_posts, other_since);
    END IF;
END;
$$;

REVOKE EXECUTE ON FUNCTION add_post_readings(uuid, uuid[], timestamptz[], timestamptz[], bigint[])
    FROM PUBLIC;

-- After any statement on the snapshots (as migration 36; an insert no longer counts each post's
-- readings).
CREATE OR REPLACE FUNCTION snapshots_refresh_view_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM add_post_readings(c.tenant_id, array_agg(c.post_id ORDER BY c.post_id),
                                  array_agg(c.first_at ORDER BY c.post_id),
                                  array_agg(c.last_at ORDER BY c.post_id),
                                  array_agg(c.views ORDER BY c.post_id))
           FROM (SELECT DISTINCT ON (x.tenant_id, x.post_id) x.tenant_id, x.post_id,
                        min(x.captured_at) OVER w AS first_at, x.captured_at AS last_at, x.views
                   FROM changed_snapshots x
                 WINDOW w AS (PARTITION BY x.tenant_id, x.post_id)
                  ORDER BY x.tenant_id, x.post_id, x.captured_at DESC) c
          GROUP BY c.tenant_id;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM refresh_post_view_days_since(c.tenant_id, array_agg(c.post_id ORDER BY c.post_id),
                                             array_agg(c.since ORDER BY c.post_id))
           FROM (SELECT x.tenant_id, x.post_id,
                        min((x.captured_at AT TIME ZONE t.time_zone)::date) AS since
                   FROM (SELECT tenant_id, post_id, captured_at FROM changed_snapshots
                         UNION ALL
                         SELECT tenant_id, post_id, captured_at FROM previous_snapshots) x
                   JOIN tenants t ON t.id = x.tenant_id
                  GROUP BY x.tenant_id, x.post_id) c
          GROUP BY c.tenant_id;
    ELSE
        PERFORM refresh_post_view_days_since(c.tenant_id, array_agg(c.post_id ORDER BY c.post_id),
                                             array_agg(c.since ORDER BY c.post_id))
           FROM (SELECT x.tenant_id, x.post_id,
                        min((x.captured_at AT TIME ZONE t.time_zone)::date) AS since
                   FROM changed_snapshots x
                   JOIN tenants t ON t.id = x.tenant_id
                  GROUP BY x.tenant_id, x.post_id) c
          GROUP BY c.tenant_id;
    END IF;
    RETURN NULL;
END;
$$;

-- The days kept so far, counted again with their last moments.
SELECT refresh_post_view_days(t.id, ARRAY(SELECT id FROM posts WHERE tenant_id = t.id))
  FROM tenants t;

ALTER TABLE post_view_days ALTER COLUMN last_at SET NOT NULL;
