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
/// zone changes).
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
           SELECT 'views', d.day, '', d.added::numeric
             FROM campaign_view_days d WHERE d.tenant_id = $1 AND d.campaign_id = $2 AND d.added <> 0
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
