//! SQL for the campaign dashboard's daily series, aggregated in Postgres: one row per series
//! and local day.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

/// A value per local day (views added that day, counted clicks, GMV in one currency).
#[derive(Debug, Clone)]
pub struct DayValue {
    pub day: Date,
    pub currency: String,
    pub value: Decimal,
}

/// Daily views, clicks and GMV of a campaign, days in `zone` (the tenant's): ("views", "clicks",
/// "gmv"). Views and clicks come from `campaign_view_days` and `link_click_days`, which the database
/// keeps per local day of the tenant's zone as snapshots and clicks arrive (and rebuilds when the
/// zone changes); a campaign's day is the sum of its rows (one per writing connection's shard).
pub async fn daily(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    zone: &str,
) -> Result<Vec<(String, DayValue)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH l AS (SELECT id FROM collaborations WHERE tenant_id = $1 AND campaign_id = $2)
           SELECT 'clicks' AS "series!", d.day AS "day!", '' AS "currency!",
                  sum(d.clicks)::numeric AS "value!"
             FROM link_click_days d WHERE d.tenant_id = $1 AND d.collaboration_id IN (SELECT id FROM l)
            GROUP BY 2
           UNION ALL
           SELECT 'gmv', (o.placed_at AT TIME ZONE $3)::date, o.currency::text, sum(o.amount)
             FROM orders_attributed o WHERE o.tenant_id = $1 AND o.collaboration_id IN (SELECT id FROM l)
            GROUP BY 2, 3
           UNION ALL
           SELECT 'views', d.day, '', sum(d.added)::numeric
             FROM campaign_view_days d WHERE d.tenant_id = $1 AND d.campaign_id = $2
            GROUP BY 2 HAVING sum(d.added) <> 0
           ORDER BY 1, 2"#,
        tenant,
        campaign,
        zone
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.series,
                DayValue {
                    day: r.day,
                    currency: r.currency,
                    value: r.value,
                },
            )
        })
        .collect())
}

/// A collaboration of the campaign as the report's per-creator table needs it beyond its KPIs:
/// its completed rating's final score, the creator's tier with the tenant and the recommendation.
#[derive(Debug, Clone)]
pub struct ReportCreator {
    pub collaboration_id: Uuid,
    pub final_score: Option<Decimal>,
    pub tier: Option<String>,
    pub recommendation: Option<String>,
}

pub async fn report_creators(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> sqlx::Result<Vec<ReportCreator>> {
    sqlx::query_as!(
        ReportCreator,
        r#"SELECT c.id AS collaboration_id, r.final_score AS "final_score?",
                  COALESCE(t.override_tier, t.tier)::text AS "tier?",
                  t.recommendation AS "recommendation?"
             FROM collaborations c
             LEFT JOIN ratings r ON r.tenant_id = c.tenant_id AND r.collaboration_id = c.id
                  AND r.state = 'completed'
             LEFT JOIN creator_tiers t ON t.tenant_id = c.tenant_id AND t.creator_id = c.creator_id
            WHERE c.tenant_id = $1 AND c.campaign_id = $2"#,
        tenant,
        campaign,
    )
    .fetch_all(conn)
    .await
}

/// A post of the campaign with the name of the video it shows: its collaboration's approved
/// final video (else the newest final, then draft, video).
#[derive(Debug, Clone)]
pub struct ReportPost {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub url: String,
    pub handle: String,
    pub deliverable: Option<String>,
}

pub async fn report_posts(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> sqlx::Result<Vec<ReportPost>> {
    sqlx::query_as!(
        ReportPost,
        r#"SELECT p.id, p.collaboration_id, p.url, cr.handle,
                  (SELECT d.name FROM deliverables d
                     LEFT JOIN deliverable_reviews r ON r.tenant_id = d.tenant_id
                          AND r.deliverable_id = d.id AND r.outcome = 'approved'
                    WHERE d.tenant_id = p.tenant_id AND d.collaboration_id = p.collaboration_id
                      AND d.kind IN ('final_video', 'draft_video')
                    ORDER BY r.id IS NULL, d.kind = 'draft_video', d.version DESC
                    LIMIT 1) AS deliverable
             FROM posts p
             JOIN collaborations c ON c.tenant_id = p.tenant_id AND c.id = p.collaboration_id
             JOIN creators cr ON cr.id = c.creator_id
            WHERE p.tenant_id = $1 AND c.campaign_id = $2
            ORDER BY p.published_at"#,
        tenant,
        campaign,
    )
    .fetch_all(conn)
    .await
}

/// The campaign's lessons learned ("" before any).
pub async fn lessons(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> sqlx::Result<String> {
    Ok(sqlx::query_scalar!(
        "SELECT lessons FROM campaign_reports WHERE tenant_id = $1 AND campaign_id = $2",
        tenant,
        campaign
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or_default())
}

pub async fn set_lessons(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    lessons: &str,
    by: (Option<Uuid>, &str),
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO campaign_reports (tenant_id, campaign_id, lessons, updated_by, \
           updated_by_label) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, campaign_id) DO UPDATE SET lessons = EXCLUDED.lessons, \
           updated_by = EXCLUDED.updated_by, updated_by_label = EXCLUDED.updated_by_label, \
           updated_at = clock_timestamp()",
        tenant,
        campaign,
        lessons,
        by.0,
        by.1,
    )
    .execute(conn)
    .await?;
    Ok(())
}
