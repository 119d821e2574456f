//! API tokens' SQL.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A token as the settings page lists it (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub scope: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

pub async fn tokens(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT t.id, t.name, t.scope, t.prefix, u.email AS created_by, t.created_at,
                  t.last_used_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.tenant_id = $1
            ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

/// A person's staff tokens (bound to no company), newest first.
pub async fn staff_tokens(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT t.id, t.name, t.scope, t.prefix, u.email AS created_by, t.created_at,
                  t.last_used_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.tenant_id IS NULL AND t.user_id = $1
            ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC"#,
        user,
    )
    .fetch_all(conn)
    .await
}

/// Revokes one of the person's live staff tokens; false when there is none with this id.
pub async fn revoke_staff(conn: &mut PgConnection, user: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = clock_timestamp(), revoked_by = $1 \
          WHERE tenant_id IS NULL AND user_id = $1 AND id = $2 AND revoked_at IS NULL",
        user,
        id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A new token as stored (no tenant: a staff token).
pub struct NewTokenRow<'a> {
    pub tenant_id: Option<Uuid>,
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: &'a str,
    pub scope: &'a str,
    pub hash: &'a [u8],
    pub prefix: &'a str,
}

pub async fn insert(conn: &mut PgConnection, t: &NewTokenRow<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, scope, token_hash, prefix) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        t.tenant_id,
        t.id,
        t.user_id,
        t.name,
        t.scope,
        t.hash,
        t.prefix,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a live token; false when there is none with this id (or it was revoked already).
pub async fn revoke(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    by: Option<Uuid>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = clock_timestamp(), revoked_by = $3 \
          WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        tenant,
        id,
        by,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A presented token found by its hash (in the token lookup's system scope).
#[derive(Debug, Clone)]
pub struct Presented {
    /// None: a staff token (the request names the company).
    pub tenant_id: Option<Uuid>,
    pub id: Uuid,
    pub user_id: Uuid,
    pub scope: String,
    pub revoked: bool,
}

pub async fn by_hash(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<Presented>> {
    sqlx::query_as!(
        Presented,
        r#"SELECT tenant_id, id, user_id, scope, revoked_at IS NOT NULL AS "revoked!"
             FROM api_tokens WHERE token_hash = $1"#,
        hash,
    )
    .fetch_optional(conn)
    .await
}

/// Marks the token used now (at most once a minute, so reads do not all write).
pub async fn touch(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = clock_timestamp() \
          WHERE id = $1 \
            AND (last_used_at IS NULL OR last_used_at < clock_timestamp() - interval '1 minute')",
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A tenant's slug by id.
pub async fn tenant_slug(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = $1", tenant)
        .fetch_optional(conn)
        .await
}

/// Claims an idempotency key for a request: true when this request is the first with it (or
/// the key's earlier use expired — 24 hours — or was left running by a server that died — 5
/// minutes), so it runs; false when the key is taken (read it with [`idempotent`]).
pub async fn claim_idempotency(
    conn: &mut PgConnection,
    token: Uuid,
    key: &str,
    request_hash: &[u8],
) -> sqlx::Result<bool> {
    let claimed = sqlx::query_scalar!(
        r#"INSERT INTO api_idempotency AS i (token_id, key, request_hash, state)
           VALUES ($1, $2, $3, 'running')
           ON CONFLICT (token_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
             state = 'running', status = NULL, content_type = NULL, location = NULL,
             body = NULL, created_at = clock_timestamp()
           WHERE i.created_at < clock_timestamp() - interval '24 hours'
              OR (i.state = 'running' AND i.created_at < clock_timestamp() - interval '5 minutes')
           RETURNING true AS "claimed!""#,
        token,
        key,
        request_hash,
    )
    .fetch_optional(conn)
    .await?;
    Ok(claimed.unwrap_or(false))
}

/// A key's earlier use, as kept.
#[derive(Debug, Clone)]
pub struct Idempotent {
    pub request_hash: Vec<u8>,
    pub running: bool,
    pub status: Option<i16>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Option<Vec<u8>>,
}

pub async fn idempotent(
    conn: &mut PgConnection,
    token: Uuid,
    key: &str,
) -> sqlx::Result<Option<Idempotent>> {
    sqlx::query_as!(
        Idempotent,
        r#"SELECT request_hash, state = 'running' AS "running!", status, content_type, location,
                  body
             FROM api_idempotency WHERE token_id = $1 AND key = $2"#,
        token,
        key,
    )
    .fetch_optional(conn)
    .await
}

/// The first answer to a key, kept to be replayed.
pub struct Answer<'a> {
    pub status: i16,
    pub content_type: Option<&'a str>,
    pub location: Option<&'a str>,
    pub body: &'a [u8],
}

pub async fn finish_idempotency(
    conn: &mut PgConnection,
    token: Uuid,
    key: &str,
    answer: &Answer<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE api_idempotency SET state = 'done', status = $3, content_type = $4, \
           location = $5, body = $6 WHERE token_id = $1 AND key = $2",
        token,
        key,
        answer.status,
        answer.content_type,
        answer.location,
        answer.body,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Lets a key go (the request failed on our side: the caller may retry with it).
pub async fn release_idempotency(
    conn: &mut PgConnection,
    token: Uuid,
    key: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM api_idempotency WHERE token_id = $1 AND key = $2",
        token,
        key,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets keys older than a day (a few at a time, on the way).
pub async fn expire_idempotency(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM api_idempotency WHERE ctid = ANY (ARRAY(SELECT ctid FROM api_idempotency \
           WHERE created_at < clock_timestamp() - interval '24 hours' LIMIT 100))",
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---- The reads of /api/v1. Each list pages by id (UUIDv7: id order is the order things were
// made): `$2` the cursor (the last id of the page before; `coalesce` keeps the index usable under
// a generic plan), `$3` the page size + 1 (one more tells whether there is a next page).

/// The first id, for "no cursor".
const NO_CURSOR: Uuid = Uuid::nil();

#[derive(Debug, Clone)]
pub struct CampaignItem {
    pub id: Uuid,
    pub code: Option<String>,
    pub title: String,
    pub state: String,
    pub markets: Vec<String>,
    pub shop_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub async fn campaigns(
    conn: &mut PgConnection,
    tenant: Uuid,
    cursor: Option<Uuid>,
    limit: i64,
    state: Option<&str>,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<CampaignItem>> {
    sqlx::query_as!(
        CampaignItem,
        "SELECT id, code, title, state, markets, shop_id, created_at, updated_at
           FROM campaigns
          WHERE tenant_id = $1 AND id > coalesce($2::uuid, $4::uuid) AND ($5::text IS NULL OR state = $5)
          AND ($6::uuid[] IS NULL OR id = ANY($6))
          ORDER BY id LIMIT $3",
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        state,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct CollaborationItem {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_code: Option<String>,
    pub creator_id: Uuid,
    pub creator_handle: String,
    pub state: String,
    pub contract_version: i32,
    pub fee_model: Option<String>,
    pub fixed_fee: Option<rust_decimal::Decimal>,
    pub fixed_fee_currency: Option<String>,
    pub commission_rate: Option<rust_decimal::Decimal>,
    pub publish_deadline: Option<time::Date>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Filters of the collaborations list.
#[derive(Debug, Clone, Default)]
pub struct CollaborationFilter {
    pub id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub creator_id: Option<Uuid>,
    pub state: Option<String>,
}

pub async fn collaborations(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    f: &CollaborationFilter,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<CollaborationItem>> {
    sqlx::query_as!(
        CollaborationItem,
        r#"SELECT l.id, l.campaign_id, k.code AS campaign_code, l.creator_id,
                  c.handle AS creator_handle, l.state, l.current_version AS contract_version,
                  v.terms->>'fee_model' AS fee_model,
                  (v.terms->>'fixed_fee')::numeric AS fixed_fee,
                  v.terms->>'fixed_fee_currency' AS fixed_fee_currency,
                  (v.terms->>'commission_rate')::numeric AS commission_rate,
                  (v.terms->>'publish_deadline')::date AS publish_deadline,
                  l.created_at, l.updated_at
             FROM collaborations l
             JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
             JOIN creators c ON c.id = l.creator_id
             LEFT JOIN contract_versions v ON v.tenant_id = l.tenant_id
                  AND v.collaboration_id = l.id AND v.version = l.current_version
            WHERE l.tenant_id = $1 AND l.id > coalesce($2::uuid, $4::uuid)
              AND ($5::uuid IS NULL OR l.campaign_id = $5)
              AND ($6::uuid IS NULL OR l.creator_id = $6)
              AND ($7::text IS NULL OR l.state = $7)
              AND ($8::uuid IS NULL OR l.id = $8)
            AND ($9::uuid[] IS NULL OR l.id = ANY($9))
            ORDER BY l.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        f.campaign_id,
        f.creator_id,
        f.state.as_deref(),
        f.id,
        only,
    )
    .fetch_all(conn)
    .await
}

/// A creator this tenant was offered or works with (the seller's creator list), with this
/// tenant's tier and blacklist. Never the platform tier or the platform blacklist (staff only).
#[derive(Debug, Clone)]
pub struct CreatorItem {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub active: bool,
    pub markets: Vec<String>,
    pub categories: Vec<String>,
    pub followers: i64,
    pub tier: Option<String>,
    pub tier_score: Option<rust_decimal::Decimal>,
    pub blacklist_status: Option<String>,
}

pub async fn creators(
    conn: &mut PgConnection,
    tenant: Uuid,
    cursor: Option<Uuid>,
    limit: i64,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<CreatorItem>> {
    sqlx::query_as!(
        CreatorItem,
        r#"WITH known AS (
               SELECT e.creator_id FROM shortlist_entries e
                WHERE e.tenant_id = $1 AND e.creator_id > coalesce($2::uuid, $4::uuid)
               UNION
               SELECT l.creator_id FROM collaborations l
                WHERE l.tenant_id = $1 AND l.creator_id > coalesce($2::uuid, $4::uuid))
           SELECT c.id, c.handle, c.display_name, c.active, c.markets, c.categories, c.followers,
                  t.tier::text AS "tier?", t.score AS "tier_score?",
                  b.status AS "blacklist_status?"
             FROM known
             JOIN creators c ON c.id = known.creator_id
             LEFT JOIN creator_tiers t ON t.tenant_id = $1 AND t.creator_id = c.id
             LEFT JOIN blacklist_entries b ON b.tenant_id = $1 AND b.creator_id = c.id
                  AND b.status IN ('proposed', 'confirmed')
            WHERE ($5::uuid[] IS NULL OR c.id = ANY($5))
            ORDER BY c.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct FulfilmentItem {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub kind: String,
    pub severity: String,
    pub note: String,
    pub days_late: Option<i32>,
    pub occurred_at: OffsetDateTime,
    pub automatic: bool,
    pub recorded_by: String,
    pub recorded_at: OffsetDateTime,
    pub supersedes: Option<Uuid>,
    pub withdrawn: bool,
    pub correction_reason: Option<String>,
    pub policy_version: i32,
    pub points: rust_decimal::Decimal,
    pub money_amount: Option<rust_decimal::Decimal>,
    pub money_currency: Option<String>,
    pub money_percent: Option<rust_decimal::Decimal>,
    pub superseded_by: Option<Uuid>,
    pub counts: bool,
}

/// The append-only records; one counts when it is neither superseded nor withdrawn.
pub async fn fulfilment_records(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    collaboration: Option<Uuid>,
    counts: Option<bool>,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<FulfilmentItem>> {
    sqlx::query_as!(
        FulfilmentItem,
        r#"SELECT r.id, r.collaboration_id, r.creator_id, r.kind, r.severity, r.note, r.days_late,
                  r.occurred_at, r.automatic, r.recorded_by_label AS recorded_by, r.recorded_at,
                  r.supersedes, r.withdrawn, r.correction_reason, r.policy_version, r.points,
                  r.money_amount, r.money_currency::text AS "money_currency?", r.money_percent,
                  s.id AS "superseded_by?",
                  (NOT r.withdrawn AND s.id IS NULL) AS "counts!"
             FROM fulfilment_records r
             LEFT JOIN fulfilment_records s ON s.tenant_id = r.tenant_id AND s.supersedes = r.id
            WHERE r.tenant_id = $1 AND r.id > coalesce($2::uuid, $4::uuid)
              AND ($5::uuid IS NULL OR r.collaboration_id = $5)
              AND ($6::bool IS NULL OR (NOT r.withdrawn AND s.id IS NULL) = $6)
            AND ($7::uuid[] IS NULL OR r.id = ANY($7))
            ORDER BY r.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        collaboration,
        counts,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct RatingItem {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub campaign_id: Uuid,
    pub creator_id: Uuid,
    pub state: String,
    pub template_version: i32,
    pub opened_at: OffsetDateTime,
    pub override_reason: Option<String>,
    pub window_final_at: Option<OffsetDateTime>,
    pub currency: String,
    pub net_gmv: rust_decimal::Decimal,
    pub cost: rust_decimal::Decimal,
    pub cost_basis: String,
    pub roi_target: rust_decimal::Decimal,
    pub roi_ratio: rust_decimal::Decimal,
    pub closed_with_one: bool,
    pub raw_score: Option<rust_decimal::Decimal>,
    pub calibrated_score: Option<rust_decimal::Decimal>,
    pub final_score: Option<rust_decimal::Decimal>,
    pub completed_at: Option<OffsetDateTime>,
    pub raters_assigned: i64,
    pub raters_submitted: i64,
}

pub async fn ratings(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    collaboration: Option<Uuid>,
    state: Option<&str>,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<RatingItem>> {
    sqlx::query_as!(
        RatingItem,
        r#"SELECT r.id, r.collaboration_id, r.campaign_id, r.creator_id, r.state,
                  st.version AS template_version, r.opened_at, r.override_reason,
                  r.window_final_at, r.currency::text AS "currency!", r.net_gmv, r.cost,
                  r.cost_basis, r.roi_target, r.roi_ratio, r.closed_with_one, r.raw_score,
                  r.calibrated_score, r.final_score, r.completed_at,
                  (SELECT count(*) FROM rating_raters a
                    WHERE a.tenant_id = r.tenant_id AND a.rating_id = r.id) AS "raters_assigned!",
                  (SELECT count(DISTINCT x.rater_id) FROM rating_submissions x
                    WHERE x.tenant_id = r.tenant_id AND x.rating_id = r.id) AS "raters_submitted!"
             FROM ratings r
             JOIN scorecard_templates st ON st.tenant_id = r.tenant_id AND st.id = r.template_id
            WHERE r.tenant_id = $1 AND r.id > coalesce($2::uuid, $4::uuid)
              AND ($5::uuid IS NULL OR r.collaboration_id = $5)
              AND ($6::text IS NULL OR r.state = $6)
            AND ($7::uuid[] IS NULL OR r.id = ANY($7))
            ORDER BY r.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        collaboration,
        state,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct ScorecardItem {
    pub id: Uuid,
    pub rating_id: Uuid,
    pub rater: String,
    pub version: i32,
    pub corrects: Option<Uuid>,
    pub correction_reason: Option<String>,
    pub total: rust_decimal::Decimal,
    pub calibrated_total: Option<rust_decimal::Decimal>,
    pub levels: serde_json::Value,
    pub justification: Option<String>,
    pub comment: String,
    pub submitted_at: OffsetDateTime,
    pub current: bool,
}

/// The scorecards of the given ratings that `viewer` may see: raters are blind — a scorecard
/// shows once the rating is completed or the viewer has submitted their own.
pub async fn scorecards(
    conn: &mut PgConnection,
    tenant: Uuid,
    ratings: &[Uuid],
    viewer: Option<Uuid>,
) -> sqlx::Result<Vec<ScorecardItem>> {
    sqlx::query_as!(
        ScorecardItem,
        r#"SELECT s.id, s.rating_id, s.rater_label AS rater, s.version, s.corrects,
                  s.correction_reason, s.total, k.total AS "calibrated_total?", s.levels,
                  s.justification, s.comment, s.submitted_at,
                  NOT EXISTS (SELECT 1 FROM rating_submissions n
                               WHERE n.tenant_id = s.tenant_id AND n.rating_id = s.rating_id
                                 AND n.rater_id = s.rater_id AND n.version > s.version) AS "current!"
             FROM rating_submissions s
             JOIN ratings r ON r.tenant_id = s.tenant_id AND r.id = s.rating_id
             LEFT JOIN submission_calibrations k ON k.tenant_id = s.tenant_id
                  AND k.submission_id = s.id
            WHERE s.tenant_id = $1 AND s.rating_id = ANY($2)
              AND (r.state = 'completed'
                   OR EXISTS (SELECT 1 FROM rating_submissions m
                               WHERE m.tenant_id = s.tenant_id AND m.rating_id = s.rating_id
                                 AND m.rater_id = $3))
            ORDER BY s.rating_id, s.rater_id, s.version"#,
        tenant,
        ratings,
        viewer,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct TierItem {
    pub creator_id: Uuid,
    pub creator_handle: String,
    pub tier: Option<String>,
    pub computed_tier: Option<String>,
    pub score: Option<rust_decimal::Decimal>,
    pub rated_count: i32,
    pub reason: serde_json::Value,
    pub low_score_warning: bool,
    pub recommendation: Option<String>,
    pub override_tier: Option<String>,
    pub override_reason: Option<String>,
    pub override_by: Option<String>,
    pub override_at: Option<OffsetDateTime>,
    pub computed_at: OffsetDateTime,
    pub blacklisted: bool,
}

/// The tenant's tier of each creator (paged by creator id: a creator has one row).
pub async fn tiers(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    tier: Option<&str>,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<TierItem>> {
    sqlx::query_as!(
        TierItem,
        r#"SELECT t.creator_id, c.handle AS creator_handle, t.tier::text AS "tier?",
                  t.computed_tier::text AS "computed_tier?", t.score, t.rated_count, t.reason,
                  t.low_score_warning, t.recommendation, t.override_tier::text AS "override_tier?",
                  t.override_reason, u.email AS "override_by?", t.override_at, t.computed_at,
                  EXISTS (SELECT 1 FROM blacklist_entries b WHERE b.tenant_id = t.tenant_id
                             AND b.creator_id = t.creator_id AND b.status = 'confirmed')
                    AS "blacklisted!"
             FROM creator_tiers t
             JOIN creators c ON c.id = t.creator_id
             LEFT JOIN users u ON u.id = t.override_by
            WHERE t.tenant_id = $1 AND t.creator_id > coalesce($2::uuid, $4::uuid)
              AND ($5::text IS NULL OR t.tier = $5)
            AND ($6::uuid[] IS NULL OR t.creator_id = ANY($6))
            ORDER BY t.creator_id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        tier,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct TierChange {
    pub id: Uuid,
    pub from_tier: Option<String>,
    pub to_tier: Option<String>,
    pub score: Option<rust_decimal::Decimal>,
    pub reason: serde_json::Value,
    pub cause: String,
    pub actor_label: String,
    pub at: OffsetDateTime,
}

pub async fn tier_history(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    creator: Uuid,
) -> sqlx::Result<Vec<TierChange>> {
    sqlx::query_as!(
        TierChange,
        r#"SELECT h.id, h.from_tier::text AS "from_tier?", h.to_tier::text AS "to_tier?",
                  h.score, h.reason, h.cause, h.actor_label, h.at
             FROM creator_tier_history h
            WHERE h.tenant_id = $1 AND h.creator_id = $5 AND h.id > coalesce($2::uuid, $4::uuid)
            ORDER BY h.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        creator,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct SettlementItem {
    pub id: Uuid,
    pub period: time::Date,
    pub settlement_currency: String,
    pub total_seller: rust_decimal::Decimal,
    pub total_creators: rust_decimal::Decimal,
    pub line_count: i32,
    pub finalized_at: OffsetDateTime,
    pub finalized_by: String,
    pub hash: String,
    pub paid: rust_decimal::Decimal,
}

/// The tenant's finalized settlements (drafts are finance's, never read here).
pub async fn settlements(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<SettlementItem>> {
    sqlx::query_as!(
        SettlementItem,
        r#"SELECT s.id, s.period, s.settlement_currency::text AS "settlement_currency!",
                  s.total_seller, s.total_creators, s.line_count, s.finalized_at,
                  s.finalized_by_label AS finalized_by, s.hash,
                  COALESCE((SELECT sum(p.amount) FROM settlement_payments p
                             WHERE p.tenant_id = s.tenant_id AND p.settlement_id = s.id), 0)
                    AS "paid!"
             FROM settlements s
            WHERE s.tenant_id = $1 AND s.id > coalesce($2::uuid, $4::uuid)
            AND ($5::uuid[] IS NULL OR s.id = ANY($5))
            ORDER BY s.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct ShopItem {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub url: String,
    pub time_zone: String,
    pub currency: String,
}

pub async fn shops(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<ShopItem>> {
    sqlx::query_as!(
        ShopItem,
        r#"SELECT id, name, platform, url, time_zone, currency::text AS "currency!"
             FROM shops WHERE tenant_id = $1 AND id > coalesce($2::uuid, $4::uuid)
            AND ($5::uuid[] IS NULL OR id = ANY($5))
            ORDER BY id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        only,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct PostItem {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub url: String,
    pub video_id: Option<String>,
    pub published_at: OffsetDateTime,
    pub snapshots: i64,
    pub last_captured_at: Option<OffsetDateTime>,
}

pub async fn posts(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    collaboration: Option<Uuid>,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<PostItem>> {
    sqlx::query_as!(
        PostItem,
        r#"SELECT p.id, p.collaboration_id, p.url, p.video_id, p.published_at,
                  (SELECT count(*) FROM metric_snapshots s
                    WHERE s.tenant_id = p.tenant_id AND s.post_id = p.id) AS "snapshots!",
                  (SELECT max(s.captured_at) FROM metric_snapshots s
                    WHERE s.tenant_id = p.tenant_id AND s.post_id = p.id) AS last_captured_at
             FROM posts p
            WHERE p.tenant_id = $1 AND p.id > coalesce($2::uuid, $4::uuid)
              AND ($5::uuid IS NULL OR p.collaboration_id = $5)
            AND ($6::uuid[] IS NULL OR p.id = ANY($6))
            ORDER BY p.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        collaboration,
        only,
    )
    .fetch_all(conn)
    .await
}

// ---- Sync (`updated_since`): the changes of one list, from `sync_changes` (migration 39).

/// The snapshot this transaction reads in (`xmin:xmax:xip,…`).
pub async fn current_snapshot(conn: &mut PgConnection) -> sqlx::Result<String> {
    sqlx::query_scalar!(r#"SELECT pg_current_snapshot()::text AS "s!""#)
        .fetch_one(conn)
        .await
}

/// Which changes a sync page answers.
#[derive(Debug, Clone)]
pub struct ChangeWindow<'a> {
    /// The first pull: what changed after this time.
    pub since_time: Option<OffsetDateTime>,
    /// A later pull: what the pull before (read in this snapshot) could not see.
    pub since_snapshot: Option<&'a str>,
    /// The snapshot of the pull's first page: only what it sees.
    pub first: &'a str,
    /// The last change answered: (its transaction id, the row's id).
    pub after: Option<(i64, Uuid)>,
}

/// One changed thing of a list: still there, or a tombstone.
#[derive(Debug, Clone)]
pub struct Change {
    pub id: Uuid,
    pub xid: i64,
    pub deleted: bool,
    pub changed_at: OffsetDateTime,
}

/// The changes of `kind` in `w`, in the order they were written (transaction id, then id). The
/// creators list also follows the tenant's tiers and blacklist (kind `tier`; a tier row deleted
/// is no creator gone) and the platform's creator rows (`creators.sync_xid`) of the creators the
/// tenant knows: a creator counts as changed by the latest of its writers.
pub async fn changes(
    conn: &mut PgConnection,
    tenant: Uuid,
    kind: &str,
    w: &ChangeWindow<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Change>> {
    let (after_xid, after_id) = w.after.unwrap_or((0, NO_CURSOR));
    sqlx::query_as!(
        Change,
        r#"WITH candidates AS (
               SELECT c.id, c.xid, c.deleted AND c.kind = $2 AS deleted, c.changed_at
                 FROM sync_changes c
                WHERE c.tenant_id = $1 AND (c.kind = $2 OR ($2 = 'creator' AND c.kind = 'tier'))
                  AND c.xid >= coalesce(pg_snapshot_xmin($4::text::pg_snapshot), '0'::xid8)
               UNION ALL
               SELECT k.creator_id, p.sync_xid, false, p.updated_at
                 FROM (SELECT e.creator_id FROM shortlist_entries e WHERE e.tenant_id = $1
                       UNION SELECT l.creator_id FROM collaborations l WHERE l.tenant_id = $1) k
                 JOIN creators p ON p.id = k.creator_id
                WHERE $2 = 'creator'
                  AND p.sync_xid >= coalesce(pg_snapshot_xmin($4::text::pg_snapshot), '0'::xid8)),
           seen AS (
               SELECT DISTINCT ON (id) id, xid, deleted, changed_at
                 FROM candidates
                WHERE pg_visible_in_snapshot(xid, $5::text::pg_snapshot)
                  AND ($3::timestamptz IS NULL OR changed_at > $3)
                  AND ($4::text IS NULL OR NOT pg_visible_in_snapshot(xid, $4::text::pg_snapshot))
                ORDER BY id, xid DESC)
           SELECT id AS "id!", (xid::text)::bigint AS "xid!", deleted AS "deleted!",
                  changed_at AS "changed_at!"
             FROM seen
            WHERE (xid, id) > ($6::bigint::text::xid8, $7::uuid)
            ORDER BY xid, id LIMIT $8"#,
        tenant,
        kind,
        w.since_time,
        w.since_snapshot,
        w.first,
        after_xid,
        after_id,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// An orders import batch (a file or an API call), as the imports page lists it.
#[derive(Debug, Clone)]
pub struct OrderImportItem {
    pub id: Uuid,
    pub shop_id: Uuid,
    pub source: String,
    pub state: String,
    pub format: Option<String>,
    pub exported_at: OffsetDateTime,
    pub rows_total: i64,
    pub rows_good: i64,
    pub rows_rejected: i64,
    pub lines_new: Option<i64>,
    pub lines_changed: Option<i64>,
    pub lines_unchanged: Option<i64>,
    pub lines_older: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub imported_at: Option<OffsetDateTime>,
}

/// The tenant's import batches that count: an undone one has left the list (a sync pull answers
/// it as a tombstone).
pub async fn order_imports(
    conn: &mut PgConnection,
    tenant: Uuid,
    (cursor, limit): (Option<Uuid>, i64),
    shop: Option<Uuid>,
    only: Option<&[Uuid]>,
) -> sqlx::Result<Vec<OrderImportItem>> {
    sqlx::query_as!(
        OrderImportItem,
        r#"SELECT i.id, i.shop_id, i.source, i.state, i.format, i.exported_at, i.rows_total,
                  i.rows_good, i.rows_rejected, i.lines_new, i.lines_changed, i.lines_unchanged,
                  i.lines_older, u.email AS "created_by?", i.created_at, i.imported_at
             FROM order_imports i
             LEFT JOIN users u ON u.id = i.created_by
            WHERE i.tenant_id = $1 AND i.id > coalesce($2::uuid, $4::uuid) AND i.state <> 'undone'
              AND ($5::uuid IS NULL OR i.shop_id = $5)
              AND ($6::uuid[] IS NULL OR i.id = ANY($6))
            ORDER BY i.id LIMIT $3"#,
        tenant,
        cursor,
        limit,
        NO_CURSOR,
        shop,
        only,
    )
    .fetch_all(conn)
    .await
}
