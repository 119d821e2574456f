//! SQL of the tenant home's "what needs me now" lists: shortlists waiting for the seller's
//! decision, posts overdue against their deadlines, order imports that need attention (issue 13
//! item 1), collaborations whose rating is due, ratings waiting for a rater, ratings short of
//! raters, blacklist proposals and low-score warnings (issue 14 item 8). Nothing here writes.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A campaign whose shortlist has creators the seller has not decided on yet.
#[derive(Debug, Clone)]
pub struct WaitingShortlist {
    pub campaign_id: Uuid,
    pub campaign_title: String,
    pub waiting: i64,
    pub sent_at: OffsetDateTime,
}

/// Shortlists sent to the seller with undecided creators, the longest waiting first.
pub async fn shortlists_waiting(
    conn: &mut PgConnection,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<WaitingShortlist>, sqlx::Error> {
    sqlx::query_as!(
        WaitingShortlist,
        r#"SELECT c.id AS campaign_id, c.title AS campaign_title, count(*) AS "waiting!",
                  min(e.sent_at) AS "sent_at!"
             FROM shortlist_entries e
             JOIN campaigns c ON c.tenant_id = e.tenant_id AND c.id = e.campaign_id
            WHERE e.tenant_id = $1 AND e.decision IS NULL AND c.state = 'shortlist_sent'
            GROUP BY c.id, c.title
            ORDER BY 4, c.id
            LIMIT $2"#,
        tenant,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A running campaign (its figures are computed as on its overview).
#[derive(Debug, Clone)]
pub struct RunningCampaign {
    pub id: Uuid,
    pub title: String,
}

/// The tenant's running campaigns, the longest running first.
pub async fn running_campaigns(
    conn: &mut PgConnection,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<RunningCampaign>, sqlx::Error> {
    sqlx::query_as!(
        RunningCampaign,
        "SELECT id, title FROM campaigns WHERE tenant_id = $1 AND state = 'running' \
         ORDER BY created_at, id LIMIT $2",
        tenant,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A collaboration not yet published, without a post, whose current terms have a publishing
/// deadline; the zone its deadline day ends in (the shop's, else the tenant's).
#[derive(Debug, Clone)]
pub struct DeadlinePending {
    pub collaboration_id: Uuid,
    pub creator_handle: String,
    pub campaign_title: String,
    pub deadline: Date,
    pub zone: String,
}

/// Collaborations from accepted up to content review with no post and a deadline on or before
/// `by` (UTC's date: a deadline day ends no earlier than 10:00 UTC that day in any zone; the
/// caller applies the rule, `posts::domain::deadline_end`), the earliest deadline first.
pub async fn deadlines_passing(
    conn: &mut PgConnection,
    tenant: Uuid,
    by: Date,
    limit: i64,
) -> Result<Vec<DeadlinePending>, sqlx::Error> {
    sqlx::query_as!(
        DeadlinePending,
        r#"SELECT l.id AS collaboration_id, cr.handle AS creator_handle, c.title AS campaign_title,
                  d.deadline AS "deadline!", coalesce(s.time_zone, t.time_zone) AS "zone!"
             FROM collaborations l
             JOIN tenants t ON t.id = l.tenant_id
             JOIN creators cr ON cr.id = l.creator_id
             JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id
             LEFT JOIN shops s ON s.tenant_id = c.tenant_id AND s.id = c.shop_id
             JOIN contract_versions v ON v.tenant_id = l.tenant_id
                  AND v.collaboration_id = l.id AND v.version = l.current_version
             CROSS JOIN LATERAL (
                 SELECT nullif(v.terms->>'publish_deadline', '')::date AS deadline) d
            WHERE l.tenant_id = $1
              AND l.state IN ('accepted', 'sample_shipped', 'sample_delivered', 'in_review')
              AND d.deadline <= $2
              AND NOT EXISTS (SELECT 1 FROM posts p
                               WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id)
            ORDER BY d.deadline, l.id
            LIMIT $3"#,
        tenant,
        by,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A collaboration past publishing that has no rating yet.
#[derive(Debug, Clone)]
pub struct DueRating {
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub creator_handle: String,
    pub campaign_title: String,
    pub state: String,
    /// The latest post's publishing time (the evaluation window of every post is final once
    /// the latest one's is).
    pub last_published_at: Option<OffsetDateTime>,
    pub evaluation_window: String,
}

pub async fn ratings_due(
    conn: &mut PgConnection,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<DueRating>, sqlx::Error> {
    sqlx::query_as!(
        DueRating,
        r#"SELECT l.id AS collaboration_id, l.creator_id, cr.handle AS creator_handle,
                  c.title AS campaign_title, l.state,
                  (SELECT max(p.published_at) FROM posts p
                    WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id) AS last_published_at,
                  t.evaluation_window
             FROM collaborations l
             JOIN tenants t ON t.id = l.tenant_id
             JOIN creators cr ON cr.id = l.creator_id
             JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id
            WHERE l.tenant_id = $1 AND l.state IN ('tracking', 'evaluating')
              AND NOT EXISTS (SELECT 1 FROM ratings r
                               WHERE r.tenant_id = l.tenant_id AND r.collaboration_id = l.id)
            ORDER BY l.state DESC, last_published_at NULLS LAST, l.id
            LIMIT $2"#,
        tenant,
        limit
    )
    .fetch_all(conn)
    .await
}

/// An open rating, named by its collaboration.
#[derive(Debug, Clone)]
pub struct OpenRating {
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub creator_handle: String,
    pub campaign_title: String,
    pub rater_count: i64,
}

/// Open ratings `user` is asked to rate and has not submitted to.
pub async fn waiting_for_rater(
    conn: &mut PgConnection,
    tenant: Uuid,
    user: Uuid,
    limit: i64,
) -> Result<Vec<OpenRating>, sqlx::Error> {
    sqlx::query_as!(
        OpenRating,
        r#"SELECT r.collaboration_id, r.creator_id, cr.handle AS creator_handle,
                  c.title AS campaign_title,
                  (SELECT count(*) FROM rating_raters x
                    WHERE x.tenant_id = r.tenant_id AND x.rating_id = r.id) AS "rater_count!"
             FROM rating_raters rr
             JOIN ratings r ON r.tenant_id = rr.tenant_id AND r.id = rr.rating_id
             JOIN creators cr ON cr.id = r.creator_id
             JOIN campaigns c ON c.tenant_id = r.tenant_id AND c.id = r.campaign_id
            WHERE rr.tenant_id = $1 AND rr.user_id = $2 AND r.state = 'open'
              AND NOT EXISTS (SELECT 1 FROM rating_submissions s
                               WHERE s.tenant_id = r.tenant_id AND s.rating_id = r.id
                                 AND s.rater_id = $2)
            ORDER BY r.opened_at, r.id
            LIMIT $3"#,
        tenant,
        user,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Open ratings with fewer than `wanted` raters assigned.
pub async fn lacking_raters(
    conn: &mut PgConnection,
    tenant: Uuid,
    wanted: i64,
    limit: i64,
) -> Result<Vec<OpenRating>, sqlx::Error> {
    sqlx::query_as!(
        OpenRating,
        r#"SELECT r.collaboration_id, r.creator_id, cr.handle AS creator_handle,
                  c.title AS campaign_title, n.count AS "rater_count!"
             FROM ratings r
             CROSS JOIN LATERAL (SELECT count(*) AS count FROM rating_raters x
                                  WHERE x.tenant_id = r.tenant_id AND x.rating_id = r.id) n
             JOIN creators cr ON cr.id = r.creator_id
             JOIN campaigns c ON c.tenant_id = r.tenant_id AND c.id = r.campaign_id
            WHERE r.tenant_id = $1 AND r.state = 'open' AND n.count < $2
            ORDER BY r.opened_at, r.id
            LIMIT $3"#,
        tenant,
        wanted,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A creator something waits on: a blacklist proposal or a low-score warning.
#[derive(Debug, Clone)]
pub struct CreatorItem {
    pub creator_id: Uuid,
    pub creator_handle: String,
    pub tier: Option<String>,
    pub score: Option<Decimal>,
    pub reason: String,
}

pub async fn blacklist_proposals(
    conn: &mut PgConnection,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<CreatorItem>, sqlx::Error> {
    sqlx::query_as!(
        CreatorItem,
        r#"SELECT b.creator_id, cr.handle AS creator_handle, t.tier::text AS tier, t.score,
                  b.reason
             FROM blacklist_entries b
             JOIN creators cr ON cr.id = b.creator_id
             LEFT JOIN creator_tiers t ON t.tenant_id = b.tenant_id AND t.creator_id = b.creator_id
            WHERE b.tenant_id = $1 AND b.status = 'proposed'
            ORDER BY b.proposed_at, b.id
            LIMIT $2"#,
        tenant,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn low_score_warnings(
    conn: &mut PgConnection,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<CreatorItem>, sqlx::Error> {
    sqlx::query_as!(
        CreatorItem,
        r#"SELECT t.creator_id, cr.handle AS creator_handle, t.tier::text AS tier, t.score,
                  '' AS "reason!"
             FROM creator_tiers t
             JOIN creators cr ON cr.id = t.creator_id
            WHERE t.tenant_id = $1 AND t.low_score_warning
            ORDER BY t.score NULLS LAST, cr.handle
            LIMIT $2"#,
        tenant,
        limit
    )
    .fetch_all(conn)
    .await
}
