//! SQL of the tracked links: the slug table's load (the redirect answers from memory; this
//! fills it) and the click log's writes (one COPY a batch) and its memory of recent clicks. Both
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

/// Writes a batch of clicks with one COPY: `rows` is COPY text of (tenant_id, collaboration_id,
/// at, visitor, referer_host, bot, unique_click), one line a click.
// dynamic: COPY has no query! form (the click writer's batches go through `copy_in_raw`).
pub async fn copy_clicks(conn: &mut PgConnection, rows: Vec<u8>) -> Result<(), sqlx::Error> {
    let mut copy = conn
        .copy_in_raw(
            "COPY link_clicks (tenant_id, collaboration_id, at, visitor, referer_host, bot, \
             unique_click) FROM STDIN",
        )
        .await?;
    copy.send(rows).await?;
    copy.finish().await?;
    Ok(())
}
