//! Demo performance data: the running, evaluating and closed demo campaigns' collaborations get a
//! post each (the running campaign's last collaboration has not posted yet), daily snapshots from
//! publishing until today (60+ days, growing fast then a long tail), and tracked-link clicks
//! spread over those days, some from bots. No orders: those come through the real importer.
//! Idempotent: a collaboration that already has a post is left as it is.

use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A number in 0..1 from an id, so every run of the demo tells the same story.
fn unit(id: Uuid, salt: u32) -> f64 {
    let n = id.as_u128().rotate_left(salt * 7) ^ (u128::from(salt) * 0x9E37_79B9_7F4A_7C15);
    (n % 1_000_003) as f64 / 1_000_003.0
}

/// Cumulative views `days` after publishing: most in the first days, then a long tail.
pub fn views_at(final_views: f64, days: f64) -> i64 {
    let fast = 0.7 * (1.0 - (-days / 3.0).exp());
    let tail = 0.3 * (1.0 - (-days / 40.0).exp());
    (final_views * (fast + tail)) as i64
}

#[derive(sqlx::FromRow)]
struct Collab {
    id: Uuid,
    state: String,
    handle: String,
    campaign_state: String,
    last_in_campaign: bool,
}

pub async fn seed_performance(conn: &mut PgConnection, tenant_id: Uuid) -> anyhow::Result<()> {
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_id.to_string())
        .execute(&mut *conn)
        .await?;
    let collabs = sqlx::query_as::<_, Collab>(
        "SELECT l.id, l.state, cr.handle, c.state AS campaign_state, \
                l.id::text = max(l.id::text) OVER (PARTITION BY l.campaign_id) AS last_in_campaign \
           FROM collaborations l JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id \
           JOIN creators cr ON cr.id = l.creator_id \
          WHERE l.tenant_id = $1 AND c.state IN ('running', 'evaluating', 'closed') \
            AND l.state NOT IN ('proposed', 'cancelled', 'breached') \
            AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id) \
          ORDER BY c.created_at, l.id",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    for (i, c) in collabs.iter().enumerate() {
        if c.campaign_state == "running" && c.last_in_campaign {
            continue;
        }
        let age_days = match c.campaign_state.as_str() {
            "running" => 62 + (i as i64 % 5),
            "evaluating" => 70 + (i as i64 % 7),
            _ => 85 + (i as i64 % 5),
        };
        let published_at =
            now - Duration::days(age_days) - Duration::minutes((unit(c.id, 1) * 600.0) as i64);
        let video_id = format!("73{:017}", c.id.as_u128() % 100_000_000_000_000_000);
        let post_id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant_id)
        .bind(post_id)
        .bind(c.id)
        .bind(format!(
            "https://www.tiktok.com/@{}/video/{video_id}",
            c.handle
        ))
        .bind(&video_id)
        .bind(published_at)
        .execute(&mut *conn)
        .await?;

        let final_views = 20_000.0 + unit(c.id, 2) * 380_000.0;
        let like_rate = 0.03 + unit(c.id, 3) * 0.06;
        let mut at = Vec::new();
        let mut views = Vec::new();
        let mut likes = Vec::new();
        let mut comments = Vec::new();
        let mut shares = Vec::new();
        let mut ids = Vec::new();
        let mut offsets: Vec<Duration> = vec![Duration::hours(2), Duration::hours(12)];
        offsets.extend((1..=age_days).map(Duration::days));
        for offset in offsets {
            let when = published_at + offset;
            if when > now {
                break;
            }
            let v = views_at(final_views, offset.as_seconds_f64() / 86_400.0);
            let l = (v as f64 * like_rate) as i64;
            ids.push(Uuid::now_v7());
            at.push(when);
            views.push(v);
            likes.push(l);
            comments.push(l / 14);
            shares.push(l / 23);
        }
        sqlx::query(
            "INSERT INTO metric_snapshots (tenant_id, id, post_id, captured_at, views, likes, comments, shares, source) \
             SELECT $1, u.id, $2, u.at, u.views, u.likes, u.comments, u.shares, 'demo' \
               FROM unnest($3::uuid[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) \
                    AS u(id, at, views, likes, comments, shares)",
        )
        .bind(tenant_id)
        .bind(post_id)
        .bind(&ids)
        .bind(&at)
        .bind(&views)
        .bind(&likes)
        .bind(&comments)
        .bind(&shares)
        .execute(&mut *conn)
        .await?;

        // About 0.6% of viewers click; one in ten logged clicks is a preview bot; most counted
        // clicks are a visitor's first in 30 minutes. Clicks follow the views: early days first.
        let clicks = ((final_views * 0.006) as i64).clamp(50, 3_000);
        sqlx::query(
            "INSERT INTO link_clicks (tenant_id, collaboration_id, at, visitor, referer_host, bot, unique_click) \
             SELECT $1, $2, $3 + (($4::float8 * power(g::float8 / $5, 3)) * interval '1 day'), \
                    decode(md5($2::text || g), 'hex'), 'www.tiktok.com', g % 10 = 0, g % 10 <> 0 AND g % 4 <> 0 \
               FROM generate_series(1, $5) AS g",
        )
        .bind(tenant_id)
        .bind(c.id)
        .bind(published_at)
        .bind(age_days as f64)
        .bind(clicks)
        .execute(&mut *conn)
        .await?;

        // The collaboration moves on as the app would move it: published by the post, tracking
        // from its first snapshot (later states, such as rated, stay).
        let mut state = c.state.clone();
        for (event, to) in [
            ("post_added", "published"),
            ("tracking_started", "tracking"),
        ] {
            let moves = match to {
                "published" => matches!(
                    state.as_str(),
                    "accepted" | "sample_shipped" | "sample_delivered" | "in_review"
                ),
                _ => state == "published",
            };
            if !moves {
                continue;
            }
            sqlx::query(
                "INSERT INTO contract_transitions (tenant_id, id, collaboration_id, from_state, to_state, event, actor_label) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'sextant seed-demo')",
            )
            .bind(tenant_id)
            .bind(Uuid::now_v7())
            .bind(c.id)
            .bind(&state)
            .bind(to)
            .bind(event)
            .execute(&mut *conn)
            .await?;
            state = to.to_string();
        }
        sqlx::query("UPDATE collaborations SET state = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(c.id)
            .bind(&state)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_grow_fast_then_keep_growing_slowly() {
        let v = |d: f64| views_at(100_000.0, d);
        assert!(v(0.1) < v(1.0) && v(1.0) < v(7.0) && v(7.0) < v(30.0) && v(30.0) < v(60.0));
        assert!(v(7.0) - v(1.0) > v(60.0) - v(30.0), "most of it early");
        assert!(v(60.0) - v(30.0) > 3_000, "a long tail");
    }
}
