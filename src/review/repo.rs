//! Content review's SQL: the collaboration facts a deliverable needs, its versions with their
//! reviews, the checklist, and the counts the rules use.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// What adding or reviewing a deliverable needs to know about its collaboration.
#[derive(Debug, Clone)]
pub struct CollabFacts {
    pub state: String,
    pub creator_id: Uuid,
    pub campaign_code: String,
    pub markets: Vec<String>,
    pub platform: Option<String>,
    pub revisions_included: i32,
    pub sample_sku: Option<String>,
    /// The tenant's setting.
    pub content_review: bool,
}

/// The collaboration (None: not the tenant's); `lock` takes its row so versions are numbered one
/// at a time.
pub async fn collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<CollabFacts>> {
    macro_rules! facts {
        ($($lock:literal)?) => {
            sqlx::query_as!(
                CollabFacts,
                r#"SELECT l.state, l.creator_id, COALESCE(k.code, k.title) AS "campaign_code!",
                          k.markets, s.platform AS "platform?",
                          COALESCE((v.terms->>'revisions_included')::int, 2) AS "revisions_included!",
                          v.terms->'sample'->>'sku' AS sample_sku, t.content_review
                     FROM collaborations l
                     JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
                     JOIN tenants t ON t.id = l.tenant_id
                     LEFT JOIN shops s ON s.tenant_id = k.tenant_id AND s.id = k.shop_id
                     LEFT JOIN contract_versions v ON v.tenant_id = l.tenant_id
                          AND v.collaboration_id = l.id AND v.version = l.current_version
                    WHERE l.tenant_id = $1 AND l.id = $2"# $(+ $lock)?,
                tenant,
                id,
            )
        };
    }
    if lock {
        facts!(" FOR UPDATE OF l").fetch_optional(conn).await
    } else {
        facts!().fetch_optional(conn).await
    }
}

/// The next version of a deliverable (type + language) of a collaboration.
pub async fn next_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    kind: &str,
    lang: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(max(version), 0) + 1 AS "next!" FROM deliverables
            WHERE tenant_id = $1 AND collaboration_id = $2 AND kind = $3 AND lang = $4"#,
        tenant,
        collaboration,
        kind,
        lang,
    )
    .fetch_one(conn)
    .await
}

/// A new version as stored.
pub struct NewDeliverable<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub kind: &'a str,
    pub lang: &'a str,
    pub version: i32,
    pub name: &'a str,
    pub upload_id: Option<Uuid>,
    pub link: Option<&'a str>,
    pub note: &'a str,
    pub created_by: Option<Uuid>,
    pub created_by_label: &'a str,
}

pub async fn insert_deliverable(
    conn: &mut PgConnection,
    d: &NewDeliverable<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO deliverables (tenant_id, id, collaboration_id, kind, lang, version, name, \
           upload_id, link, note, created_by, created_by_label) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        d.tenant_id,
        d.id,
        d.collaboration_id,
        d.kind,
        d.lang,
        d.version,
        d.name,
        d.upload_id,
        d.link,
        d.note,
        d.created_by,
        d.created_by_label,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One version with its reviews.
#[derive(Debug, Clone)]
pub struct DeliverableRow {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub kind: String,
    pub lang: String,
    pub version: i32,
    pub name: String,
    pub upload_id: Option<Uuid>,
    pub filename: Option<String>,
    pub link: Option<String>,
    pub note: String,
    pub created_by_label: String,
    pub created_at: OffsetDateTime,
    pub self_checker_id: Option<Uuid>,
    pub self_checker: Option<String>,
    pub self_checked_at: Option<OffsetDateTime>,
    pub checklist: Option<serde_json::Value>,
    pub self_comment: Option<String>,
    pub outcome: Option<String>,
    pub cross_reviewer: Option<String>,
    pub reviewed_at: Option<OffsetDateTime>,
    pub review_comment: Option<String>,
}

/// The versions of a collaboration's deliverables (or the one version `only`), by type,
/// language and version, newest version first.
pub async fn deliverables(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Option<Uuid>,
    only: Option<Uuid>,
) -> sqlx::Result<Vec<DeliverableRow>> {
    sqlx::query_as!(
        DeliverableRow,
        r#"SELECT d.id, d.collaboration_id, d.kind, d.lang, d.version, d.name, d.upload_id,
                  u.filename AS "filename?", d.link, d.note, d.created_by_label, d.created_at,
                  sc.reviewer_id AS "self_checker_id?", sc.reviewer_label AS "self_checker?",
                  sc.at AS "self_checked_at?", sc.checklist AS "checklist?",
                  sc.comment AS "self_comment?", cr.outcome AS "outcome?",
                  cr.reviewer_label AS "cross_reviewer?", cr.at AS "reviewed_at?",
                  cr.comment AS "review_comment?"
             FROM deliverables d
             LEFT JOIN uploads u ON u.tenant_id = d.tenant_id AND u.id = d.upload_id
             LEFT JOIN deliverable_reviews sc ON sc.tenant_id = d.tenant_id
                  AND sc.deliverable_id = d.id AND sc.stage = 'self_check'
             LEFT JOIN deliverable_reviews cr ON cr.tenant_id = d.tenant_id
                  AND cr.deliverable_id = d.id AND cr.stage = 'cross_review'
            WHERE d.tenant_id = $1
              AND ($2::uuid IS NULL OR d.collaboration_id = $2)
              AND ($3::uuid IS NULL OR d.id = $3)
            ORDER BY array_position(ARRAY['script', 'draft_video', 'final_video', 'caption',
                                          'cover'], d.kind), d.lang, d.version DESC"#,
        tenant,
        collaboration,
        only,
    )
    .fetch_all(conn)
    .await
}

/// One version with its reviews (None: not the tenant's, or no such version).
pub async fn deliverable(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DeliverableRow>> {
    Ok(deliverables(conn, tenant, None, Some(id))
        .await?
        .into_iter()
        .next())
}

/// A review as stored.
pub struct NewReview<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub deliverable_id: Uuid,
    pub stage: &'a str,
    pub outcome: &'a str,
    pub checklist: serde_json::Value,
    pub comment: &'a str,
    pub reviewer: (Uuid, &'a str),
    pub self_checker_id: Option<Uuid>,
}

/// Writes the review; false when the version already has one at this stage (a second click).
pub async fn insert_review(conn: &mut PgConnection, r: &NewReview<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO deliverable_reviews (tenant_id, id, deliverable_id, stage, outcome, \
           checklist, comment, reviewer_id, reviewer_label, self_checker_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tenant_id, deliverable_id, stage) DO NOTHING",
        r.tenant_id,
        r.id,
        r.deliverable_id,
        r.stage,
        r.outcome,
        r.checklist,
        r.comment,
        r.reviewer.0,
        r.reviewer.1,
        r.self_checker_id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many changes were requested for a deliverable (type + language) of a collaboration.
pub async fn change_requests(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    kind: &str,
    lang: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM deliverable_reviews r
             JOIN deliverables d ON d.tenant_id = r.tenant_id AND d.id = r.deliverable_id
            WHERE r.tenant_id = $1 AND d.collaboration_id = $2 AND d.kind = $3 AND d.lang = $4
              AND r.outcome = 'changes_requested'"#,
        tenant,
        collaboration,
        kind,
        lang,
    )
    .fetch_one(conn)
    .await
}

/// Whether a final video of the collaboration was approved.
pub async fn final_approved(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM deliverables d JOIN deliverable_reviews r
                 ON r.tenant_id = d.tenant_id AND r.deliverable_id = d.id
              WHERE d.tenant_id = $1 AND d.collaboration_id = $2 AND d.kind = 'final_video'
                AND r.outcome = 'approved') AS "approved!""#,
        tenant,
        collaboration,
    )
    .fetch_one(conn)
    .await
}

/// One checklist item.
#[derive(Debug, Clone)]
pub struct ChecklistItem {
    pub id: Uuid,
    pub platform: Option<String>,
    pub markets: Vec<String>,
    pub text_zh: String,
    pub text_en: String,
    pub position: i32,
    pub active: bool,
}

/// The checklist (`all`: the inactive items too), in order.
pub async fn checklist(conn: &mut PgConnection, all: bool) -> sqlx::Result<Vec<ChecklistItem>> {
    sqlx::query_as!(
        ChecklistItem,
        "SELECT id, platform, markets, text_zh, text_en, position, active FROM checklist_items \
          WHERE active OR $1 ORDER BY position, created_at",
        all,
    )
    .fetch_all(conn)
    .await
}

/// A new checklist item (admins, in the system scope).
pub async fn insert_item(
    conn: &mut PgConnection,
    item: &ChecklistItem,
    by: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO checklist_items (id, platform, markets, text_zh, text_en, position, active, \
           created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        item.id,
        item.platform,
        &item.markets,
        item.text_zh,
        item.text_en,
        item.position,
        item.active,
        by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Turns an item on or off; false when there is no such item.
pub async fn set_item_active(
    conn: &mut PgConnection,
    id: Uuid,
    active: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE checklist_items SET active = $2 WHERE id = $1",
        id,
        active
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The owner's switch.
pub async fn set_content_review(
    conn: &mut PgConnection,
    tenant: Uuid,
    on: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE tenants SET content_review = $2 WHERE id = $1",
        tenant,
        on
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the tenant reviews content.
pub async fn content_review_on(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!("SELECT content_review FROM tenants WHERE id = $1", tenant)
        .fetch_one(conn)
        .await
}
