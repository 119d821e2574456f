-- The daily views kept as snapshots are written (issue 18's ingest rate): a statement counts
-- again only the days it can have changed — per post, from the earliest local day it touched
-- on — instead of every day of every post it touched. The days before keep their rows; the first
-- day counted again takes what it added over the last kept day before it. A post with a long
-- history and a reading a day now costs a day's work per reading, not its whole history. The
-- whole-post count (`refresh_post_view_days`) stays for a change of the tenant's time zone.

-- The days of the given posts from each one's `since` day on, counted again from their
-- snapshots (a day's last reading is one index probe; no JIT: the planner's guess for the
-- arrays' size makes it compile, which costs far more than these index probes); their campaigns'
-- days change by the difference, in one statement in (campaign, day) order — so two writers of
-- one campaign's days lock its rows once each, in the same order, and never deadlock. Posts locked
-- in id order, as `refresh_post_view_days` does, so two writers of one post take turns.
CREATE FUNCTION refresh_post_view_days_since(p_tenant uuid, p_posts uuid[], p_since date[])
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
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
    INSERT INTO post_view_days (tenant_id, collaboration_id, post_id, day, views, added)
    SELECT p_tenant, d.collaboration_id, d.post_id, d.day, d.views,
           d.views - coalesce(lag(d.views) OVER (PARTITION BY d.post_id ORDER BY d.day),
                              d.before, 0)
      FROM (SELECT p.collaboration_id, s.post_id, g.day, r.views, b.views AS before
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
              CROSS JOIN LATERAL (SELECT m.views FROM metric_snapshots m
                                   WHERE m.tenant_id = p_tenant AND m.post_id = s.post_id
                                     AND m.captured_at >= (g.day::timestamp AT TIME ZONE t.time_zone)
                                     AND m.captured_at < ((g.day + 1)::timestamp AT TIME ZONE t.time_zone)
                                   ORDER BY m.captured_at DESC LIMIT 1) r) d;
    -- The campaigns' days: what they count for now minus what they counted for, days that did
    -- not change left alone.
    INSERT INTO campaign_view_days AS c (tenant_id, campaign_id, day, added)
    SELECT p_tenant, x.campaign_id, x.day, sum(x.added)
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
    ON CONFLICT (tenant_id, campaign_id, day) DO UPDATE SET added = c.added + EXCLUDED.added;
END;
$$;
REVOKE EXECUTE ON FUNCTION refresh_post_view_days_since(uuid, uuid[], date[]) FROM PUBLIC;

-- After any statement on the snapshots: per post it touched, its days from the earliest local day
-- of a reading written, changed (before or after) or removed.
CREATE OR REPLACE FUNCTION snapshots_refresh_view_days() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
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
