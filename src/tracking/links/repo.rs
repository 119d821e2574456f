//! SQL of the tracked links: the slug table's load (the redirect answers from memory; this
//! fills it) and the click log's writes (one COPY a batch, after the batch's visitors' rate
//! windows are locked, decided and written back) and its memory of recent clicks. Both
//! run in their own system scopes (`RedirectLookup`, `ClickWriter`); the redirect benchmark
//! and the click writer depend on these statements being what they are.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The version of the tracked links, moved by every change to a link (a trigger).
pub async fn links_version(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT version FROM cache_versions WHERE name = 'tracked_links'")
        .fetch_one(conn)
        .await
}

/// A tracked link with what its target URL is made of.
pub struct LinkRow {
    pub link_slug: String,
    pub tenant_id: Uuid,
    pub collaboration_id: Uuid,
    pub product_url: Option<String>,
    pub campaign_code: Option<String>,
    pub handle: String,
}

/// Every tracked link of every tenant.
pub async fn all_links(conn: &mut PgConnection) -> Result<Vec<LinkRow>, sqlx::Error> {
    sqlx::query_as!(
        LinkRow,
        r#"SELECT l.link_slug, l.tenant_id, l.id AS collaboration_id,
             c.data->>'product_url' AS "product_url?", c.code AS campaign_code, cr.handle
           FROM collaborations l
           JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id
           JOIN creators cr ON cr.id = l.creator_id"#
    )
    .fetch_all(conn)
    .await
}

/// The counted (not bot) clicks of the last 30 minutes, the latest per link and visitor:
/// (collaboration, visitor hash, at).
pub async fn recent_counted_clicks(
    conn: &mut PgConnection,
) -> Result<Vec<(Uuid, Vec<u8>, OffsetDateTime)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT DISTINCT ON (collaboration_id, visitor) collaboration_id, visitor, at \
         FROM link_clicks WHERE NOT bot AND at > now() - interval '30 minutes' \
         ORDER BY collaboration_id, visitor, at DESC",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.collaboration_id, r.visitor, r.at))
        .collect())
}

/// Locks the rate windows of a batch's visitors, `(tenant, link, visitor)` keys sorted so two
/// writers lock in the same order, creating the missing ones empty; held until the batch's
/// transaction ends, so a second app server's writer waits and then sees this batch's clicks.
/// Returns (collaboration, visitor, recent counted clicks).
pub async fn lock_click_rates(
    conn: &mut PgConnection,
    keys: &[(Uuid, Uuid, Vec<u8>)],
) -> Result<Vec<(Uuid, Vec<u8>, Vec<OffsetDateTime>)>, sqlx::Error> {
    let (tenants, links, visitors) = unzip3(keys.iter().cloned());
    let rows = sqlx::query!(
        r#"INSERT INTO link_click_rates AS r (tenant_id, collaboration_id, visitor, recent)
           SELECT k.tenant_id, k.collaboration_id, k.visitor, '{}'
             FROM UNNEST($1::uuid[], $2::uuid[], $3::bytea[]) AS k(tenant_id, collaboration_id, visitor)
            ORDER BY 1, 2, 3
           ON CONFLICT (tenant_id, collaboration_id, visitor) DO UPDATE SET recent = r.recent
           RETURNING r.collaboration_id, r.visitor, r.recent"#,
        &tenants,
        &links,
        &visitors,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.collaboration_id, r.visitor, r.recent))
        .collect())
}

/// Writes back the rate windows locked by [`lock_click_rates`]: one row per recent counted
/// click, `(tenant, link, visitor, at)`.
pub async fn save_click_rates(
    conn: &mut PgConnection,
    clicks: &[(Uuid, Uuid, Vec<u8>, OffsetDateTime)],
) -> Result<(), sqlx::Error> {
    let (tenants, links, visitors) = unzip3(clicks.iter().map(|c| (c.0, c.1, c.2.clone())));
    let at: Vec<OffsetDateTime> = clicks.iter().map(|c| c.3).collect();
    sqlx::query!(
        r#"UPDATE link_click_rates r SET recent = u.recent
             FROM (SELECT k.tenant_id, k.collaboration_id, k.visitor,
                          array_agg(k.at ORDER BY k.at) AS recent
                     FROM UNNEST($1::uuid[], $2::uuid[], $3::bytea[], $4::timestamptz[])
                          AS k(tenant_id, collaboration_id, visitor, at)
                    GROUP BY 1, 2, 3) u
            WHERE r.tenant_id = u.tenant_id AND r.collaboration_id = u.collaboration_id
              AND r.visitor = u.visitor"#,
        &tenants,
        &links,
        &visitors,
        &at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the rate windows of visitors idle for two minutes (their clicks can no longer hold
/// anyone back; the margin covers clocks of app servers a little apart).
pub async fn prune_click_rates(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM link_click_rates \
         WHERE coalesce(recent[array_upper(recent, 1)], '-infinity') < now() - interval '2 minutes'"
    )
    .execute(conn)
    .await?
    .rows_affected())
}

fn unzip3(
    keys: impl Iterator<Item = (Uuid, Uuid, Vec<u8>)>,
) -> (Vec<Uuid>, Vec<Uuid>, Vec<Vec<u8>>) {
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for (x, y, z) in keys {
        a.push(x);
        b.push(y);
        c.push(z);
    }
    (a, b, c)
}

/// Writes a batch of clicks with one COPY: `rows` is COPY text of (tenant_id, collaboration_id,
/// at, visitor, referer_host, bot, unique_click, over_rate), one line a click.
// dynamic: COPY has no query! form (the click writer's batches go through `copy_in_raw`).
pub async fn copy_clicks(conn: &mut PgConnection, rows: Vec<u8>) -> Result<(), sqlx::Error> {
    let mut copy = conn
        .copy_in_raw(
            "COPY link_clicks (tenant_id, collaboration_id, at, visitor, referer_host, bot, \
             unique_click, over_rate) FROM STDIN",
        )
        .await?;
    copy.send(rows).await?;
    copy.finish().await?;
    Ok(())
}
