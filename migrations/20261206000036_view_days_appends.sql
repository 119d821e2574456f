-- Readings that come after every reading a post has (a scraper's hourly round, issue 18's
-- ingest) change one day of the post: the day of its newest reading. Such a post's days are not
-- counted again from its snapshots; its day's row takes the newest views and what they add over
-- the reading before, and its campaign's day changes by the difference — a few index probes a
-- post instead of reading back every day from the earliest one touched. Any other write (a
-- reading before the newest, readings over several days, a replaced, moved or removed reading)
-- still goes through `refresh_post_view_days_since`, which counts the days again.
--
-- p_first/p_last: the earliest and latest moment the statement wrote for each post, p_count how
-- many readings it wrote for it, p_views the views of its latest one.
CREATE FUNCTION add_post_readings(p_tenant uuid, p_posts uuid[], p_first timestamptz[],
                                  p_last timestamptz[], p_count bigint[], p_views bigint[])
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off
    SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    zone text;
    other_posts uuid[];
    other_since date[];
    locked uuid[];
    collaborations_of uuid[];
BEGIN
    SELECT t.time_zone INTO zone FROM tenants t WHERE t.id = p_tenant;
    -- Two writers of one post take turns (as in `refresh_post_view_days_since`); what follows
    -- runs once the other has committed, and sees its readings.
    SELECT array_agg(p.id ORDER BY p.id), array_agg(p.collaboration_id ORDER BY p.id)
      INTO locked, collaborations_of
      FROM (SELECT id, collaboration_id FROM posts WHERE tenant_id = p_tenant AND id = ANY (p_posts)
             ORDER BY id FOR NO KEY UPDATE) p;
    WITH s AS (
        SELECT s.post_id, s.first_at, s.n, s.views, p.collaboration_id,
               (s.first_at AT TIME ZONE zone)::date AS first_day,
               (s.last_at AT TIME ZONE zone)::date AS day
          FROM unnest(p_posts, p_first, p_last, p_count, p_views)
               AS s(post_id, first_at, last_at, n, views)
          JOIN unnest(locked, collaborations_of) AS p(id, collaboration_id) ON p.id = s.post_id),
    -- An append: the statement's readings of the post fall on one day, and the post has no
    -- reading at or after the earliest of them but those — its n-th newest reading is the
    -- earliest written; the one after it is the reading before (one index descent for both).
    k AS MATERIALIZED (
        SELECT s.*, l.campaign_id,
               coalesce(s.first_day = s.day AND r.at[1] = s.first_at, false) AS append,
               r.views[2] AS views_before
          FROM s
          -- Probes by key (LIMIT 1 keeps them probes): a batch's cost follows its own size,
          -- never the tenant's history.
          CROSS JOIN LATERAL (SELECT c.campaign_id FROM collaborations c
                               WHERE c.tenant_id = p_tenant AND c.id = s.collaboration_id
                               LIMIT 1) l
          CROSS JOIN LATERAL (
              SELECT array_agg(x.captured_at ORDER BY x.captured_at DESC) AS at,
                     array_agg(x.views ORDER BY x.captured_at DESC) AS views
                FROM (SELECT m.captured_at, m.views FROM metric_snapshots m
                       WHERE m.tenant_id = p_tenant AND m.post_id = s.post_id
                       ORDER BY m.captured_at DESC OFFSET s.n - 1 LIMIT 2) x) r),
    -- The day's row as it becomes: a kept row gains what the newest views add over its own; a
    -- new day adds over the reading before (the last kept day's), all of them on the first.
    f AS (
        SELECT k.post_id, k.collaboration_id, k.campaign_id, k.day, k.views,
               CASE WHEN cur.views IS NULL THEN k.views - coalesce(k.views_before, 0)
                    ELSE cur.added + k.views - cur.views END AS added,
               coalesce(cur.added, 0) AS added_before
          FROM k
          LEFT JOIN LATERAL (SELECT d.views, d.added FROM post_view_days d
                              WHERE d.tenant_id = p_tenant AND d.post_id = k.post_id
                                AND d.day = k.day
                              LIMIT 1) cur ON true
         WHERE k.append),
    days AS (
        INSERT INTO post_view_days AS d (tenant_id, collaboration_id, post_id, day, views, added)
        SELECT p_tenant, f.collaboration_id, f.post_id, f.day, f.views, f.added
          FROM f ORDER BY f.post_id
        ON CONFLICT (tenant_id, post_id, day)
           DO UPDATE SET views = EXCLUDED.views, added = EXCLUDED.added),
    -- The campaigns' days by the difference, in (campaign, day) order (no deadlock between two
    -- writers of one campaign).
    campaign_days AS (
        INSERT INTO campaign_view_days AS c (tenant_id, campaign_id, day, added)
        SELECT p_tenant, f.campaign_id, f.day, sum(f.added - f.added_before)
          FROM f
         GROUP BY f.campaign_id, f.day
        HAVING sum(f.added - f.added_before) <> 0
         ORDER BY f.campaign_id, f.day
        ON CONFLICT (tenant_id, campaign_id, day) DO UPDATE SET added = c.added + EXCLUDED.added)
    SELECT array_agg(k.post_id ORDER BY k.post_id) FILTER (WHERE NOT k.append),
           array_agg(k.first_day ORDER BY k.post_id) FILTER (WHERE NOT k.append)
      INTO other_posts, other_since
      FROM k;
    IF other_posts IS NOT NULL THEN
        PERFORM refresh_post_view_days_since(p_tenant, other_posts, other_since);
    END IF;
END;
$$;
REVOKE EXECUTE ON FUNCTION add_post_readings(uuid, uuid[], timestamptz[], timestamptz[], bigint[],
                                             bigint[]) FROM PUBLIC;

-- A session's plans of these functions' statements stay custom: after five calls PostgreSQL
-- may keep a generic plan, which guesses its arrays hold ten rows and joins two of 5,000 by a
-- nested loop (2.8 s a batch instead of 0.1 s — found by the API ingest benchmark, where every
-- batch came through one of two long-lived connections).
ALTER FUNCTION refresh_post_view_days_since(uuid, uuid[], date[])
    SET plan_cache_mode = force_custom_plan;

-- After any statement on the snapshots. Inserted readings: per post, the earliest and latest
-- moment, how many, and the latest one's views (`add_post_readings` tells appends from the
-- rest). Changed or removed ones: per post, its days from the earliest local day of a reading
-- changed (before or after) or removed.
CREATE OR REPLACE FUNCTION snapshots_refresh_view_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM add_post_readings(c.tenant_id, array_agg(c.post_id ORDER BY c.post_id),
                                  array_agg(c.first_at ORDER BY c.post_id),
                                  array_agg(c.last_at ORDER BY c.post_id),
                                  array_agg(c.n ORDER BY c.post_id),
                                  array_agg(c.views ORDER BY c.post_id))
           FROM (SELECT DISTINCT ON (x.tenant_id, x.post_id) x.tenant_id, x.post_id,
                        min(x.captured_at) OVER w AS first_at, x.captured_at AS last_at,
                        count(*) OVER w AS n, x.views
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

-- A day's row is rewritten by every round of readings that day: room on its page lets the new
-- version stay there without touching the indexes (a HOT update).
ALTER TABLE post_view_days SET (fillfactor = 80);
ALTER TABLE campaign_view_days SET (fillfactor = 80);
