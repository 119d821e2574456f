//! All SQL of tiers: the per-creator aggregate of ratings (weights computed in SQL), the bulk
//! upserts of tiers and their history (UNNEST), blacklists, the platform's side, and what the
//! pages read.
//!
//! `$1` tenant (NULL: every tenant, the platform tier, system scope only), `$2` creators (NULL:
//! all of them), `$3` now.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// One creator's ratings, aggregated (see `domain::Standing`).
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub creator_id: Uuid,
    pub rated: i64,
    pub score: Option<f64>,
    pub breached: bool,
    pub d14_pending: bool,
    pub latest_score: Option<f64>,
    pub latest_roi: Option<f64>,
    pub last_completed_at: Option<OffsetDateTime>,
}

/// Completed ratings and breached collaborations (score 0, age from the deadline) per creator:
/// count, recency-weighted mean, the latest one's score and ROI ratio.
///
/// One parallel hash aggregate over the tenant's ratings, shaped for speed (100,000 creators
/// with 1,000,000 ratings in about a second):
/// - the weight 0.5^(age / 180 days) is written as 2^((t − E) / 180 days) with a fixed epoch E
///   (2025-01-01): the factor 2^((E − now) / 180 days) is common to every term and cancels in
///   the mean, so the mean is the SPEC's, and the same in every pass until a rating changes (a
///   pass with nothing changed rewrites nothing). A future `t` counts as now (weight 1, as in
///   `domain::weight`);
/// - scores are summed as whole hundredths (`numeric(5,2)` × 100 as int4) and ROI ratios carried
///   as millionths (`numeric(12,6)` × 10⁶ as int8): exact, and no per-row numeric → float
///   conversion (which goes through text in Postgres);
/// - the latest rating (age, then completion, nulls first) is the `max` of an array of
///   [age, completion, score, ROI]: no per-creator sort.
pub async fn aggregate(
    conn: &mut PgConnection,
    tenant: Option<Uuid>,
    creators: Option<&[Uuid]>,
    now: OffsetDateTime,
) -> Result<Vec<Aggregate>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        WITH rated AS (
            SELECT r.creator_id, (r.final_score * 100)::int4 AS s100, r.age_from,
                   r.d14_final_at, (r.roi_ratio * 1000000)::int8 AS roi_micro, false AS breached,
                   r.completed_at
              FROM ratings r
             WHERE r.state = 'completed'
               AND ($1::uuid IS NULL OR r.tenant_id = $1)
               AND ($2::uuid[] IS NULL OR r.creator_id = ANY($2))
            UNION ALL
            SELECT l.creator_id, 0,
                   coalesce((v.terms->>'publish_deadline')::date::timestamp AT TIME ZONE 'UTC',
                            l.updated_at),
                   NULL::timestamptz, 0::int8, true, NULL::timestamptz
              FROM collaborations l
              JOIN contract_versions v ON v.tenant_id = l.tenant_id
                   AND v.collaboration_id = l.id AND v.version = l.current_version
             WHERE l.state = 'breached'
               AND ($1::uuid IS NULL OR l.tenant_id = $1)
               AND ($2::uuid[] IS NULL OR l.creator_id = ANY($2))
               AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.tenant_id = l.tenant_id
                       AND r.collaboration_id = l.id AND r.state = 'completed')
        ), weighted AS (
            SELECT creator_id, s100, d14_final_at, breached, completed_at, roi_micro,
                   date_part('epoch', age_from) AS age_s,
                   power(2::float8, (date_part('epoch', least(age_from, $3::timestamptz))
                                     - 1735689600::float8) / 15552000::float8) AS w
              FROM rated
        )
        SELECT creator_id AS "creator_id!",
               count(*) AS "rated!",
               -- Rounded to 1e-9: the float sums are added in any order (parallel workers),
               -- and a mean such as 59.99999999999999 against 60.00000000000001 would flip a
               -- tier at its line.
               round((sum(w * s100) / nullif(sum(w), 0) / 100)::numeric, 9)::float8 AS score,
               bool_or(breached) AS "breached!",
               coalesce(bool_or(d14_final_at > $3), false) AS "d14_pending!",
               max(ARRAY[age_s, coalesce(date_part('epoch', completed_at), '-infinity'::float8),
                         s100::float8, roi_micro::float8]) AS "latest!",
               max(completed_at) AS last_completed_at
          FROM weighted
         GROUP BY creator_id
        "#,
        tenant,
        creators as Option<&[Uuid]>,
        now,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Aggregate {
            creator_id: r.creator_id,
            rated: r.rated,
            score: r.score,
            breached: r.breached,
            d14_pending: r.d14_pending,
            latest_score: r.latest.get(2).map(|s| s / 100.0),
            latest_roi: r.latest.get(3).map(|m| m / 1_000_000.0),
            last_completed_at: r.last_completed_at,
        })
        .collect())
}

/// The latest major or severe fulfilment record that counts, within 180 days, per creator.
pub async fn major_events(
    conn: &mut PgConnection,
    tenant: Option<Uuid>,
    creators: Option<&[Uuid]>,
    now: OffsetDateTime,
) -> Result<Vec<(Uuid, OffsetDateTime)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT creator_id AS "creator_id!", max(occurred_at) AS "at!"
             FROM counting_fulfilment_records
            WHERE severity IN ('major', 'severe')
              AND occurred_at > $3::timestamptz - interval '180 days'
              AND ($1::uuid IS NULL OR tenant_id = $1)
              AND ($2::uuid[] IS NULL OR creator_id = ANY($2))
            GROUP BY creator_id"#,
        tenant,
        creators as Option<&[Uuid]>,
        now,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.creator_id, r.at)).collect())
}

/// Creators with a confirmed entry on the tenant's blacklist.
pub async fn blacklisted(
    conn: &mut PgConnection,
    tenant: Uuid,
    creators: Option<&[Uuid]>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT creator_id FROM blacklist_entries WHERE tenant_id = $1 AND status = 'confirmed' \
           AND ($2::uuid[] IS NULL OR creator_id = ANY($2))",
        tenant,
        creators as Option<&[Uuid]>,
    )
    .fetch_all(conn)
    .await
}

/// Creators on the platform blacklist.
pub async fn platform_blacklisted(
    conn: &mut PgConnection,
    creators: Option<&[Uuid]>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM creators WHERE platform_blacklisted \
           AND ($1::uuid[] IS NULL OR id = ANY($1))",
        creators as Option<&[Uuid]>,
    )
    .fetch_all(conn)
    .await
}

/// A tenant's tier lines.
pub async fn thresholds(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<(Decimal, Decimal, Decimal), sqlx::Error> {
    let r = sqlx::query!(
        "SELECT tier_s_min, tier_a_min, tier_b_min FROM tenants WHERE id = $1",
        tenant
    )
    .fetch_one(conn)
    .await?;
    Ok((r.tier_s_min, r.tier_a_min, r.tier_b_min))
}

/// The platform's tier lines (`{"s": 78, "a": 60, "b": 45}`).
pub async fn platform_thresholds(
    conn: &mut PgConnection,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar!("SELECT value FROM platform_settings WHERE key = 'tier_thresholds'")
        .fetch_optional(conn)
        .await
}

/// A stored tier row (tenant or platform; the platform has no override).
#[derive(Debug, Clone, PartialEq)]
pub struct TierRow {
    pub creator_id: Uuid,
    pub tier: Option<String>,
    pub computed_tier: Option<String>,
    pub score: Option<Decimal>,
    pub rated_count: i32,
    pub reason: serde_json::Value,
    pub low_score_warning: bool,
    pub recommendation: Option<String>,
    pub override_tier: Option<String>,
    pub override_reason: Option<String>,
    pub override_by: Option<Uuid>,
    pub override_at: Option<OffsetDateTime>,
}

pub async fn tenant_rows(
    conn: &mut PgConnection,
    tenant: Uuid,
    creators: Option<&[Uuid]>,
) -> Result<Vec<TierRow>, sqlx::Error> {
    sqlx::query_as!(
        TierRow,
        r#"SELECT creator_id, tier::text AS tier, computed_tier::text AS computed_tier, score,
                  rated_count, reason, low_score_warning, recommendation,
                  override_tier::text AS override_tier, override_reason, override_by, override_at
             FROM creator_tiers
            WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR creator_id = ANY($2))"#,
        tenant,
        creators as Option<&[Uuid]>,
    )
    .fetch_all(conn)
    .await
}

pub async fn platform_rows(
    conn: &mut PgConnection,
    creators: Option<&[Uuid]>,
) -> Result<Vec<TierRow>, sqlx::Error> {
    sqlx::query_as!(
        TierRow,
        r#"SELECT creator_id, tier::text AS tier, tier::text AS computed_tier, score, rated_count,
                  reason, false AS "low_score_warning!", NULL::text AS recommendation,
                  NULL::text AS override_tier, NULL::text AS override_reason,
                  NULL::uuid AS override_by, NULL::timestamptz AS override_at
             FROM platform_tiers
            WHERE $1::uuid[] IS NULL OR creator_id = ANY($1)"#,
        creators as Option<&[Uuid]>,
    )
    .fetch_all(conn)
    .await
}

/// Column arrays of tier rows for one UNNEST.
#[derive(Default)]
pub struct Columns {
    pub creator: Vec<Uuid>,
    pub tier: Vec<Option<String>>,
    pub computed: Vec<Option<String>>,
    pub score: Vec<Option<Decimal>>,
    pub rated: Vec<i32>,
    pub reason: Vec<serde_json::Value>,
    pub warning: Vec<bool>,
    pub recommendation: Vec<Option<String>>,
    pub override_tier: Vec<Option<String>>,
    pub override_reason: Vec<Option<String>>,
    pub override_by: Vec<Option<Uuid>>,
    pub override_at: Vec<Option<OffsetDateTime>>,
}

impl Columns {
    pub fn push(&mut self, r: TierRow) {
        self.creator.push(r.creator_id);
        self.tier.push(r.tier);
        self.computed.push(r.computed_tier);
        self.score.push(r.score);
        self.rated.push(r.rated_count);
        self.reason.push(r.reason);
        self.warning.push(r.low_score_warning);
        self.recommendation.push(r.recommendation);
        self.override_tier.push(r.override_tier);
        self.override_reason.push(r.override_reason);
        self.override_by.push(r.override_by);
        self.override_at.push(r.override_at);
    }

    pub fn is_empty(&self) -> bool {
        self.creator.is_empty()
    }
}

pub async fn upsert_tenant(
    conn: &mut PgConnection,
    tenant: Uuid,
    c: &Columns,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO creator_tiers (tenant_id, creator_id, tier, computed_tier, score, rated_count, \
                reason, low_score_warning, recommendation, override_tier, override_reason, \
                override_by, override_at, computed_at) \
         SELECT $1, u.* , $14 FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::numeric[], \
                $6::int4[], $7::jsonb[], $8::bool[], $9::text[], $10::text[], $11::text[], \
                $12::uuid[], $13::timestamptz[]) AS u \
         ON CONFLICT (tenant_id, creator_id) DO UPDATE SET tier = EXCLUDED.tier, \
                computed_tier = EXCLUDED.computed_tier, score = EXCLUDED.score, \
                rated_count = EXCLUDED.rated_count, reason = EXCLUDED.reason, \
                low_score_warning = EXCLUDED.low_score_warning, \
                recommendation = EXCLUDED.recommendation, override_tier = EXCLUDED.override_tier, \
                override_reason = EXCLUDED.override_reason, override_by = EXCLUDED.override_by, \
                override_at = EXCLUDED.override_at, computed_at = EXCLUDED.computed_at",
        tenant,
        &c.creator,
        &c.tier as &[Option<String>],
        &c.computed as &[Option<String>],
        &c.score as &[Option<Decimal>],
        &c.rated,
        &c.reason,
        &c.warning,
        &c.recommendation as &[Option<String>],
        &c.override_tier as &[Option<String>],
        &c.override_reason as &[Option<String>],
        &c.override_by as &[Option<Uuid>],
        &c.override_at as &[Option<OffsetDateTime>],
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn upsert_platform(
    conn: &mut PgConnection,
    c: &Columns,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO platform_tiers (creator_id, tier, score, rated_count, reason, computed_at) \
         SELECT u.*, $6 FROM UNNEST($1::uuid[], $2::text[], $3::numeric[], $4::int4[], \
                $5::jsonb[]) AS u \
         ON CONFLICT (creator_id) DO UPDATE SET tier = EXCLUDED.tier, score = EXCLUDED.score, \
                rated_count = EXCLUDED.rated_count, reason = EXCLUDED.reason, \
                computed_at = EXCLUDED.computed_at",
        &c.creator,
        &c.tier as &[Option<String>],
        &c.score as &[Option<Decimal>],
        &c.rated,
        &c.reason,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// History rows (one per creator whose effective tier changed).
#[derive(Default)]
pub struct HistoryColumns {
    pub id: Vec<Uuid>,
    pub creator: Vec<Uuid>,
    pub from: Vec<Option<String>>,
    pub to: Vec<Option<String>>,
    pub score: Vec<Option<Decimal>>,
    pub reason: Vec<serde_json::Value>,
}

impl HistoryColumns {
    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }
}

pub async fn insert_tenant_history(
    conn: &mut PgConnection,
    tenant: Uuid,
    h: &HistoryColumns,
    cause: &str,
    actor: (Option<Uuid>, &str),
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO creator_tier_history (tenant_id, id, creator_id, from_tier, to_tier, score, \
                reason, cause, actor_id, actor_label, at) \
         SELECT $1, u.*, $8, $9, $10, $11 FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], \
                $5::text[], $6::numeric[], $7::jsonb[]) AS u",
        tenant,
        &h.id,
        &h.creator,
        &h.from as &[Option<String>],
        &h.to as &[Option<String>],
        &h.score as &[Option<Decimal>],
        &h.reason,
        cause,
        actor.0,
        actor.1,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_platform_history(
    conn: &mut PgConnection,
    h: &HistoryColumns,
    cause: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO platform_tier_history (id, creator_id, from_tier, to_tier, score, reason, \
                cause, at) \
         SELECT u.*, $7, $8 FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], \
                $5::numeric[], $6::jsonb[]) AS u",
        &h.id,
        &h.creator,
        &h.from as &[Option<String>],
        &h.to as &[Option<String>],
        &h.score as &[Option<Decimal>],
        &h.reason,
        cause,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets (or replaces) the owner's override on a creator's tier row.
pub async fn set_override(
    conn: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
    tier: &str,
    reason: &str,
    by: Option<Uuid>,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO creator_tiers (tenant_id, creator_id, override_tier, override_reason, \
                override_by, override_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, creator_id) DO UPDATE SET override_tier = EXCLUDED.override_tier, \
                override_reason = EXCLUDED.override_reason, override_by = EXCLUDED.override_by, \
                override_at = EXCLUDED.override_at",
        tenant,
        creator,
        tier,
        reason,
        by,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks creators whose platform tier the job should compute again.
pub async fn mark_platform_dirty(
    conn: &mut PgConnection,
    creator: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO platform_tier_dirty (creator_id) VALUES ($1) ON CONFLICT DO NOTHING",
        creator
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes every mark (system scope).
pub async fn take_platform_dirty(conn: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("DELETE FROM platform_tier_dirty RETURNING creator_id")
        .fetch_all(conn)
        .await
}

/// The job's transaction-scoped advisory lock (false: another server holds it).
pub async fn try_job_lock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, key)
        .fetch_one(conn)
        .await
}

/// Claims `day` for `job` unless it already ran that day (or later).
pub async fn claim_day(
    conn: &mut PgConnection,
    job: &str,
    day: time::Date,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query_scalar!(
        "INSERT INTO tier_job_runs (job, last_day) VALUES ($1, $2) \
         ON CONFLICT (job) DO UPDATE SET last_day = EXCLUDED.last_day, ran_at = clock_timestamp() \
          WHERE tier_job_runs.last_day < EXCLUDED.last_day \
         RETURNING job",
        job,
        day,
    )
    .fetch_optional(conn)
    .await?;
    Ok(claimed.is_some())
}

/// Every tenant (system scope).
pub async fn tenant_ids(conn: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM tenants ORDER BY created_at, id")
        .fetch_all(conn)
        .await
}

// ---------------------------------------------------------------------------------------------
// Blacklist.

#[derive(Debug, Clone)]
pub struct BlacklistEntry {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub status: String,
    pub reason: String,
    pub fulfilment_record_id: Option<Uuid>,
    pub proposed_by_label: String,
    pub proposed_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub decision_reason: Option<String>,
}

/// Proposes an entry unless the creator has an open one; the new id, or None.
pub async fn propose(
    conn: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
    record: Option<Uuid>,
    reason: &str,
    by: (Option<Uuid>, &str),
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, \
                fulfilment_record_id, proposed_by, proposed_by_label) \
         VALUES ($1, $2, $3, 'proposed', $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, creator_id) WHERE status IN ('proposed', 'confirmed') DO NOTHING \
         RETURNING id",
        tenant,
        Uuid::new_v4(),
        creator,
        reason,
        record,
        by.0,
        by.1,
    )
    .fetch_optional(conn)
    .await
}

pub async fn entry(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<BlacklistEntry>, sqlx::Error> {
    sqlx::query_as!(
        BlacklistEntry,
        "SELECT id, creator_id, status, reason, fulfilment_record_id, proposed_by_label, \
                proposed_at, decided_at, decision_reason \
           FROM blacklist_entries WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await
}

pub async fn entries_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
) -> Result<Vec<BlacklistEntry>, sqlx::Error> {
    sqlx::query_as!(
        BlacklistEntry,
        "SELECT id, creator_id, status, reason, fulfilment_record_id, proposed_by_label, \
                proposed_at, decided_at, decision_reason \
           FROM blacklist_entries WHERE tenant_id = $1 AND creator_id = $2 \
          ORDER BY proposed_at DESC, id",
        tenant,
        creator,
    )
    .fetch_all(conn)
    .await
}

pub async fn decide_entry(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    status: &str,
    reason: &str,
    by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE blacklist_entries SET status = $3, decision_reason = $4, decided_by = $5, \
                decided_at = clock_timestamp() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
        status,
        reason,
        by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Platform blacklist (system scope).

#[derive(Debug, Clone)]
pub struct PlatformEntry {
    pub id: Uuid,
    pub status: String,
    pub reason: String,
    pub created_by_label: String,
    pub created_at: OffsetDateTime,
    pub lifted_at: Option<OffsetDateTime>,
    pub lift_reason: Option<String>,
}

pub async fn platform_entries(
    conn: &mut PgConnection,
    creator: Uuid,
) -> Result<Vec<PlatformEntry>, sqlx::Error> {
    sqlx::query_as!(
        PlatformEntry,
        "SELECT id, status, reason, created_by_label, created_at, lifted_at, lift_reason \
           FROM platform_blacklist_entries WHERE creator_id = $1 ORDER BY created_at DESC, id",
        creator,
    )
    .fetch_all(conn)
    .await
}

/// Adds an active entry and sets the creator's flag; None when one is active already.
pub async fn add_platform_entry(
    conn: &mut PgConnection,
    creator: Uuid,
    reason: &str,
    by: (Option<Uuid>, &str),
) -> Result<Option<Uuid>, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "INSERT INTO platform_blacklist_entries (id, creator_id, status, reason, created_by, \
                created_by_label) VALUES ($1, $2, 'active', $3, $4, $5) \
         ON CONFLICT (creator_id) WHERE status = 'active' DO NOTHING RETURNING id",
        Uuid::new_v4(),
        creator,
        reason,
        by.0,
        by.1,
    )
    .fetch_optional(&mut *conn)
    .await?;
    set_platform_flag(conn, creator).await?;
    Ok(id)
}

/// Lifts the active entry (if any) and clears the flag; the lifted entry's id.
pub async fn lift_platform_entry(
    conn: &mut PgConnection,
    creator: Uuid,
    reason: &str,
    by: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "UPDATE platform_blacklist_entries SET status = 'lifted', lifted_by = $2, \
                lifted_at = clock_timestamp(), lift_reason = $3 \
          WHERE creator_id = $1 AND status = 'active' RETURNING id",
        creator,
        by,
        reason,
    )
    .fetch_optional(&mut *conn)
    .await?;
    set_platform_flag(conn, creator).await?;
    Ok(id)
}

/// `creators.platform_blacklisted` follows the entries.
async fn set_platform_flag(conn: &mut PgConnection, creator: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE creators SET platform_blacklisted = EXISTS (SELECT 1 FROM \
                platform_blacklist_entries e WHERE e.creator_id = $1 AND e.status = 'active') \
          WHERE id = $1",
        creator,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn creator_exists(conn: &mut PgConnection, creator: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM creators WHERE id = $1) AS "e!""#,
        creator
    )
    .fetch_one(conn)
    .await
}

/// Whether the creator was ever offered to the tenant or works with it (else unknown there).
pub async fn known_in_tenant(
    conn: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM shortlist_entries e WHERE e.tenant_id = $1 AND e.creator_id = $2)
               OR EXISTS (SELECT 1 FROM collaborations l WHERE l.tenant_id = $1 AND l.creator_id = $2)
               OR EXISTS (SELECT 1 FROM creator_tiers t WHERE t.tenant_id = $1 AND t.creator_id = $2)
               AS "known!""#,
        tenant,
        creator,
    )
    .fetch_one(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// What pages read.

#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub from_tier: Option<String>,
    pub to_tier: Option<String>,
    pub score: Option<Decimal>,
    pub reason: serde_json::Value,
    pub cause: String,
    pub actor_label: String,
    pub at: OffsetDateTime,
}

pub async fn tenant_history(
    conn: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as!(
        HistoryRow,
        "SELECT from_tier::text AS from_tier, to_tier::text AS to_tier, score, reason, cause, \
                actor_label, at \
           FROM creator_tier_history WHERE tenant_id = $1 AND creator_id = $2 \
          ORDER BY at DESC, id LIMIT 100",
        tenant,
        creator,
    )
    .fetch_all(conn)
    .await
}

pub async fn platform_history(
    conn: &mut PgConnection,
    creator: Uuid,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as!(
        HistoryRow,
        r#"SELECT from_tier::text AS from_tier, to_tier::text AS to_tier, score, reason, cause,
                  'system' AS "actor_label!", at
             FROM platform_tier_history WHERE creator_id = $1
            ORDER BY at DESC, id LIMIT 100"#,
        creator,
    )
    .fetch_all(conn)
    .await
}

/// Tier letters and blocked flags (the tenant's confirmed blacklist entry) of some creators in
/// the tenant. The platform blacklist is staff knowledge and not shown to sellers here.
pub async fn badges(
    conn: &mut PgConnection,
    tenant: Uuid,
    creators: &[Uuid],
) -> Result<Vec<(Uuid, Option<String>, bool)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id!", t.tier::text AS tier,
                  EXISTS (SELECT 1 FROM blacklist_entries b WHERE b.tenant_id = $1
                       AND b.creator_id = c.id AND b.status = 'confirmed') AS "blocked!"
             FROM creators c
             LEFT JOIN creator_tiers t ON t.tenant_id = $1 AND t.creator_id = c.id
            WHERE c.id = ANY($2)"#,
        tenant,
        creators,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.tier, r.blocked))
        .collect())
}

/// How many of the tenant's tiered creators are in each tier (blocked ones counted apart).
pub async fn distribution(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<(Option<String>, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT t.tier::text AS tier, count(*) AS "n!"
             FROM creator_tiers t WHERE t.tenant_id = $1 AND t.tier IS NOT NULL
            GROUP BY t.tier ORDER BY t.tier"#,
        tenant,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.tier, r.n)).collect())
}
