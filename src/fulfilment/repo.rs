//! SQL for fulfilment records, their evidence files and the deduction policy.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::domain::{Kind, Severity};

/// The newest version of the tenant's policy: (version, rules as stored).
pub async fn latest_policy(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> sqlx::Result<Option<(i32, serde_json::Value)>> {
    let row = sqlx::query!(
        "SELECT version, rules FROM deduction_policies WHERE tenant_id = $1 \
          ORDER BY version DESC LIMIT 1",
        tenant,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.version, r.rules)))
}

/// Version 1 with `rules`, unless it exists (two first uses racing both succeed).
pub async fn insert_first_policy(
    conn: &mut PgConnection,
    tenant: Uuid,
    rules: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO deduction_policies (tenant_id, id, version, rules) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (tenant_id, version) DO NOTHING",
        tenant,
        Uuid::now_v7(),
        rules,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A version of the tenant's deduction policy, for the editor's list.
pub struct PolicyVersionRow {
    pub version: i32,
    pub rules: serde_json::Value,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
    /// Fulfilment records that count under it (frozen when recorded).
    pub records: i64,
}

/// Every version of the tenant's policy, newest first.
pub async fn policy_versions(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> sqlx::Result<Vec<PolicyVersionRow>> {
    sqlx::query_as!(
        PolicyVersionRow,
        r#"SELECT p.version, p.rules, u.display_name AS "created_by?", p.created_at,
             (SELECT count(*) FROM fulfilment_records r WHERE r.tenant_id = p.tenant_id
                AND r.policy_version = p.version) AS "records!"
           FROM deduction_policies p LEFT JOIN users u ON u.id = p.created_by
           WHERE p.tenant_id = $1 ORDER BY p.version DESC"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

/// Adds version `version`; false when another transaction took that number first.
pub async fn insert_policy_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    (version, rules): (i32, &serde_json::Value),
    by: Option<Uuid>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO deduction_policies (tenant_id, id, version, rules, created_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, version) DO NOTHING",
        tenant,
        Uuid::now_v7(),
        version,
        rules,
        by,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What recording and correcting need to know of a collaboration.
#[derive(Debug, Clone)]
pub struct CollaborationFacts {
    pub creator_id: Uuid,
    pub state: String,
}

pub async fn collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<CollaborationFacts>> {
    sqlx::query_as!(
        CollaborationFacts,
        "SELECT creator_id, state FROM collaborations WHERE tenant_id = $1 AND id = $2 FOR SHARE",
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A new record (a first record, an automatic one, or a correction).
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub kind: Kind,
    pub severity: Severity,
    pub note: &'a str,
    pub days_late: Option<i32>,
    pub occurred_at: OffsetDateTime,
    pub automatic: bool,
    pub supersedes: Option<Uuid>,
    pub withdrawn: bool,
    pub correction_reason: Option<&'a str>,
    pub policy_version: i32,
    pub points: Decimal,
    pub money_amount: Option<Decimal>,
    pub money_currency: Option<&'a str>,
    pub money_percent: Option<Decimal>,
    pub recorded_by: Option<Uuid>,
    pub recorded_by_label: &'a str,
}

/// Inserts the record; false when it is an automatic record the collaboration already has
/// (`fulfilment_records_automatic_key`), so nothing was added.
pub async fn insert_record(conn: &mut PgConnection, r: &NewRecord<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO fulfilment_records (tenant_id, id, collaboration_id, creator_id, kind, \
           severity, note, days_late, occurred_at, automatic, supersedes, withdrawn, \
           correction_reason, policy_version, points, money_amount, money_currency, \
           money_percent, recorded_by, recorded_by_label) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
           $18, $19, $20) \
         ON CONFLICT (tenant_id, collaboration_id, kind) WHERE automatic AND supersedes IS NULL \
           DO NOTHING",
        r.tenant_id,
        r.id,
        r.collaboration_id,
        r.creator_id,
        r.kind.code(),
        r.severity.code(),
        r.note,
        r.days_late,
        r.occurred_at,
        r.automatic,
        r.supersedes,
        r.withdrawn,
        r.correction_reason,
        r.policy_version,
        r.points,
        r.money_amount,
        r.money_currency,
        r.money_percent,
        r.recorded_by,
        r.recorded_by_label,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn attach_file(
    conn: &mut PgConnection,
    tenant: Uuid,
    record: Uuid,
    upload: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO fulfilment_record_files (tenant_id, record_id, upload_id) VALUES ($1, $2, $3)",
        tenant,
        record,
        upload,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A record a correction targets (two corrections racing meet `UNIQUE (tenant_id, supersedes)`:
/// the app role may not lock rows of an append-only table).
#[derive(Debug, Clone)]
pub struct TargetRow {
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub kind: String,
    pub severity: String,
    pub note: String,
    pub days_late: Option<i32>,
    pub occurred_at: OffsetDateTime,
    pub withdrawn: bool,
    pub superseded: bool,
}

pub async fn target(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<TargetRow>> {
    sqlx::query_as!(
        TargetRow,
        r#"SELECT r.collaboration_id, r.creator_id, r.kind, r.severity, r.note, r.days_late,
                  r.occurred_at, r.withdrawn,
                  EXISTS (SELECT 1 FROM fulfilment_records c
                           WHERE c.tenant_id = r.tenant_id AND c.supersedes = r.id) AS "superseded!"
             FROM fulfilment_records r WHERE r.tenant_id = $1 AND r.id = $2"#,
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A record that counts (neither superseded nor withdrawn): what ratings list as deductions.
#[derive(Debug, Clone)]
pub struct CountingRecord {
    pub id: Uuid,
    pub kind: String,
    pub severity: String,
    pub points: Decimal,
    pub money_amount: Option<Decimal>,
    pub money_currency: Option<String>,
    pub money_percent: Option<Decimal>,
    pub days_late: Option<i32>,
    pub occurred_at: OffsetDateTime,
    pub note: String,
}

impl CountingRecord {
    pub fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }

    pub fn severity(&self) -> Option<Severity> {
        Severity::parse(&self.severity)
    }
}

/// The records of a collaboration that count, oldest event first.
pub async fn counting_for_collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration_id: Uuid,
) -> sqlx::Result<Vec<CountingRecord>> {
    sqlx::query_as!(
        CountingRecord,
        r#"SELECT id AS "id!", kind AS "kind!", severity AS "severity!", points AS "points!",
                  money_amount, money_currency::text, money_percent, days_late,
                  occurred_at AS "occurred_at!", note AS "note!"
             FROM counting_fulfilment_records
            WHERE tenant_id = $1 AND collaboration_id = $2
            ORDER BY occurred_at, recorded_at"#,
        tenant,
        collaboration_id,
    )
    .fetch_all(conn)
    .await
}

/// A record as the collaboration's page lists it, with who corrected it.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: Uuid,
    pub kind: String,
    pub severity: String,
    pub note: String,
    pub days_late: Option<i32>,
    pub occurred_at: OffsetDateTime,
    pub automatic: bool,
    pub supersedes: Option<Uuid>,
    pub withdrawn: bool,
    pub correction_reason: Option<String>,
    pub points: Decimal,
    pub money_amount: Option<Decimal>,
    pub money_currency: Option<String>,
    pub money_percent: Option<Decimal>,
    pub recorded_by_label: String,
    pub recorded_at: OffsetDateTime,
    /// The record that supersedes this one, and who recorded it.
    pub superseded_by: Option<Uuid>,
    pub superseded_by_label: Option<String>,
    /// Evidence files: (upload id, filename, content type).
    pub files: serde_json::Value,
}

/// Every record of a collaboration, newest first.
pub async fn records_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration_id: Uuid,
) -> sqlx::Result<Vec<RecordRow>> {
    sqlx::query_as!(
        RecordRow,
        r#"SELECT r.id, r.kind, r.severity, r.note, r.days_late, r.occurred_at, r.automatic,
                  r.supersedes, r.withdrawn, r.correction_reason, r.points, r.money_amount,
                  r.money_currency::text, r.money_percent, r.recorded_by_label, r.recorded_at,
                  c.id AS "superseded_by?", c.recorded_by_label AS "superseded_by_label?",
                  COALESCE((SELECT jsonb_agg(jsonb_build_array(u.id, u.filename, u.content_type)
                                             ORDER BY u.created_at)
                              FROM fulfilment_record_files f
                              JOIN uploads u ON u.tenant_id = f.tenant_id AND u.id = f.upload_id
                             WHERE f.tenant_id = r.tenant_id AND f.record_id = r.id),
                           '[]'::jsonb) AS "files!"
             FROM fulfilment_records r
             LEFT JOIN fulfilment_records c ON c.tenant_id = r.tenant_id AND c.supersedes = r.id
            WHERE r.tenant_id = $1 AND r.collaboration_id = $2
            ORDER BY r.recorded_at DESC, r.id DESC"#,
        tenant,
        collaboration_id,
    )
    .fetch_all(conn)
    .await
}

/// A collaboration the late/no-publish job looks at: one with a deadline in its current terms,
/// in a state between accepted and tracking, in an active tenant, with no automatic record yet.
#[derive(Debug, Clone)]
pub struct DeadlineCandidate {
    pub tenant_slug: String,
    pub time_zone: String,
    pub grace_days: i32,
    pub collaboration_id: Uuid,
    pub deadline: Date,
    pub first_post: Option<OffsetDateTime>,
}

/// Every candidate whose deadline is before `by` (a day or so of margin for time zones is left
/// to the caller). System scope: across tenants.
pub async fn deadline_candidates(
    conn: &mut PgConnection,
    by: Date,
) -> sqlx::Result<Vec<DeadlineCandidate>> {
    sqlx::query_as!(
        DeadlineCandidate,
        r#"SELECT t.slug AS tenant_slug, t.time_zone, t.no_publish_grace_days AS grace_days,
                  l.id AS collaboration_id,
                  (v.terms->>'publish_deadline')::date AS "deadline!",
                  (SELECT min(p.published_at) FROM posts p
                    WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id) AS first_post
             FROM collaborations l
             JOIN tenants t ON t.id = l.tenant_id AND t.status = 'active'
             JOIN contract_versions v ON v.tenant_id = l.tenant_id
                  AND v.collaboration_id = l.id AND v.version = l.current_version
            WHERE l.state IN ('accepted', 'sample_shipped', 'sample_delivered', 'in_review',
                              'published', 'tracking')
              AND v.terms->>'publish_deadline' IS NOT NULL
              AND (v.terms->>'publish_deadline')::date < $1
              AND NOT EXISTS (SELECT 1 FROM fulfilment_records r
                               WHERE r.tenant_id = l.tenant_id AND r.collaboration_id = l.id
                                 AND r.automatic)
            ORDER BY l.tenant_id, l.id"#,
        by,
    )
    .fetch_all(conn)
    .await
}
