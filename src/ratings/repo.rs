//! The SQL of ratings: scorecard templates, ratings, raters and their submissions, and the reads
//! other features show (a rater's queue, the ratings due).

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::contracts::domain::ContractState;

pub struct TemplateRow {
    pub id: Uuid,
    pub version: i32,
    pub dimensions: Value,
}

pub async fn latest_template(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as!(
        TemplateRow,
        "SELECT id, version, dimensions FROM scorecard_templates WHERE tenant_id = $1 \
          ORDER BY version DESC LIMIT 1",
        tenant
    )
    .fetch_optional(conn)
    .await
}

pub async fn template(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as!(
        TemplateRow,
        "SELECT id, version, dimensions FROM scorecard_templates WHERE tenant_id = $1 AND id = $2",
        tenant,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Inserts version 1 unless another transaction did first; answers whether it inserted.
pub async fn insert_first_template(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    dimensions: &Value,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO scorecard_templates (tenant_id, id, version, dimensions) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (tenant_id, version) DO NOTHING",
        tenant,
        id,
        dimensions
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A stored version of the tenant's scorecard template, for the editor's list.
pub struct TemplateVersionRow {
    pub id: Uuid,
    pub version: i32,
    pub dimensions: Value,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
    /// Ratings that use it (such a version is kept as it is forever).
    pub ratings: i64,
}

/// Every version of the tenant's template, newest first.
pub async fn template_versions(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<TemplateVersionRow>, sqlx::Error> {
    sqlx::query_as!(
        TemplateVersionRow,
        r#"SELECT t.id, t.version, t.dimensions, u.display_name AS "created_by?", t.created_at,
             (SELECT count(*) FROM ratings r WHERE r.tenant_id = t.tenant_id
                AND r.template_id = t.id) AS "ratings!"
           FROM scorecard_templates t LEFT JOIN users u ON u.id = t.created_by
           WHERE t.tenant_id = $1 ORDER BY t.version DESC"#,
        tenant
    )
    .fetch_all(conn)
    .await
}

/// One version of the tenant's template by its number.
pub async fn template_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    version: i32,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as!(
        TemplateRow,
        "SELECT id, version, dimensions FROM scorecard_templates           WHERE tenant_id = $1 AND version = $2",
        tenant,
        version
    )
    .fetch_optional(conn)
    .await
}

/// Adds version `version`; false when another transaction took that number first.
pub async fn insert_template_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    (version, dimensions): (i32, &Value),
    by: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO scorecard_templates (tenant_id, id, version, dimensions, created_by)          VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, version) DO NOTHING",
        tenant,
        Uuid::now_v7(),
        version,
        dimensions,
        by
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The tenant's evaluation window setting (`d14` …).
pub async fn evaluation_window(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT evaluation_window FROM tenants WHERE id = $1",
        tenant
    )
    .fetch_one(conn)
    .await
}

/// What opening a rating reads about the collaboration.
pub struct CollabFacts {
    pub id: Uuid,
    pub state: ContractState,
    pub creator_id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_data: Value,
    pub shop_currency: Option<String>,
    pub terms: Value,
    pub quote_video: Option<Decimal>,
    pub quote_live: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub sample_shipped: bool,
}

pub async fn collab_facts(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<CollabFacts>, sqlx::Error> {
    sqlx::query_as!(
        CollabFacts,
        r#"SELECT l.id, l.state AS "state: ContractState", l.creator_id, l.campaign_id,
                  k.data AS campaign_data, s.currency::text AS "shop_currency?",
                  v.terms AS "terms!", c.quote_video, c.quote_live,
                  c.quote_currency::text AS "quote_currency?",
                  l.sample_shipped_at IS NOT NULL AS "sample_shipped!"
             FROM collaborations l JOIN creators c ON c.id = l.creator_id
             JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
             JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id
                  AND v.version = l.current_version
             LEFT JOIN shops s ON s.tenant_id = k.tenant_id AND s.id = k.shop_id
            WHERE l.tenant_id = $1 AND l.id = $2 FOR UPDATE OF l"#,
        tenant,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The points of the fulfilment records that count, with what they are.
pub struct Deduction {
    pub kind: String,
    pub severity: String,
    pub points: Decimal,
    pub note: String,
    pub occurred_at: OffsetDateTime,
}

pub async fn counting_deductions(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
) -> Result<Vec<Deduction>, sqlx::Error> {
    sqlx::query_as!(
        Deduction,
        r#"SELECT kind AS "kind!", severity AS "severity!", points AS "points!", note AS "note!",
                  occurred_at AS "occurred_at!"
             FROM counting_fulfilment_records WHERE tenant_id = $1 AND collaboration_id = $2
            ORDER BY occurred_at, id"#,
        tenant,
        collaboration
    )
    .fetch_all(conn)
    .await
}

pub struct NewRating<'a> {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub campaign_id: Uuid,
    pub template_id: Uuid,
    pub opened_by: Option<Uuid>,
    pub opened_by_label: &'a str,
    pub override_reason: Option<&'a str>,
    pub window_final_at: Option<OffsetDateTime>,
    pub d14_final_at: Option<OffsetDateTime>,
    pub age_from: OffsetDateTime,
    pub currency: &'a str,
    pub net_gmv: Decimal,
    pub cost: Decimal,
    pub roi_target: Decimal,
    pub roi_ratio: Decimal,
    pub cost_basis: &'a str,
    pub inputs: Value,
}

pub async fn insert_rating(
    conn: &mut PgConnection,
    tenant: Uuid,
    r: &NewRating<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO ratings (tenant_id, id, collaboration_id, creator_id, campaign_id, template_id,
                opened_by, opened_by_label, override_reason, window_final_at, d14_final_at, age_from,
                currency, net_gmv, cost, roi_target, roi_ratio, cost_basis, inputs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        tenant,
        r.id,
        r.collaboration_id,
        r.creator_id,
        r.campaign_id,
        r.template_id,
        r.opened_by,
        r.opened_by_label,
        r.override_reason,
        r.window_final_at,
        r.d14_final_at,
        r.age_from,
        r.currency,
        r.net_gmv,
        r.cost,
        r.roi_target,
        r.roi_ratio,
        r.cost_basis,
        r.inputs
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct RatingRow {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub campaign_id: Uuid,
    pub template_id: Uuid,
    pub state: String,
    pub opened_at: OffsetDateTime,
    pub opened_by_label: String,
    pub override_reason: Option<String>,
    pub window_final_at: Option<OffsetDateTime>,
    pub currency: String,
    pub net_gmv: Decimal,
    pub cost: Decimal,
    pub roi_target: Decimal,
    pub roi_ratio: Decimal,
    pub cost_basis: String,
    pub inputs: Value,
    pub closed_with_one: bool,
    pub raw_score: Option<Decimal>,
    pub final_score: Option<Decimal>,
    pub calibrated_score: Option<Decimal>,
    pub completed_at: Option<OffsetDateTime>,
}

macro_rules! rating_query {
    ($cond:literal $(, $lock:literal)?; $tenant:expr, $id:expr) => {
        sqlx::query_as!(
            RatingRow,
            "SELECT id, collaboration_id, creator_id, campaign_id, template_id, state, opened_at,
                    opened_by_label, override_reason, window_final_at, currency::text AS \"currency!\",
                    net_gmv, cost, roi_target, roi_ratio, cost_basis, inputs, closed_with_one,
                    raw_score, final_score, calibrated_score, completed_at
               FROM ratings WHERE tenant_id = $1 AND "
                + $cond $(+ $lock)?,
            $tenant,
            $id
        )
    };
}

pub async fn rating_of_collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
) -> Result<Option<RatingRow>, sqlx::Error> {
    rating_query!("collaboration_id = $2"; tenant, collaboration)
        .fetch_optional(conn)
        .await
}

/// The collaboration a rating is of (the API names a rating by its own id; the actions by its
/// collaboration's).
pub async fn collaboration_of_rating(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT collaboration_id FROM ratings WHERE tenant_id = $1 AND id = $2",
        tenant,
        rating
    )
    .fetch_optional(conn)
    .await
}

/// The rating, locked for a change (submissions and completion are serialized on it).
pub async fn rating_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
) -> Result<Option<RatingRow>, sqlx::Error> {
    rating_query!("collaboration_id = $2", " FOR UPDATE"; tenant, collaboration)
        .fetch_optional(conn)
        .await
}

/// A person who may rate in the tenant, with the access they rate with.
#[derive(Debug, Clone)]
pub struct Eligible {
    pub user_id: Uuid,
    pub label: String,
    pub role: String,
}

/// The tenant's owners and operators and its assigned account managers.
pub async fn eligible_raters(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<Eligible>, sqlx::Error> {
    sqlx::query_as!(
        Eligible,
        r#"SELECT u.id AS "user_id!", u.display_name AS "label!", x.role AS "role!"
             FROM (SELECT user_id, role FROM memberships
                    WHERE tenant_id = $1 AND role IN ('owner', 'operator')
                   UNION SELECT user_id, 'account_manager' FROM am_assignments WHERE tenant_id = $1) x
             JOIN users u ON u.id = x.user_id WHERE u.active
            ORDER BY 3 DESC, 2"#,
        tenant
    )
    .fetch_all(conn)
    .await
}

pub async fn add_rater(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
    user: Uuid,
    by: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO rating_raters (tenant_id, rating_id, user_id, assigned_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        tenant,
        rating,
        user,
        by
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct RaterRow {
    pub user_id: Uuid,
    pub label: String,
}

pub async fn raters(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
) -> Result<Vec<RaterRow>, sqlx::Error> {
    sqlx::query_as!(
        RaterRow,
        "SELECT r.user_id, u.display_name AS label FROM rating_raters r JOIN users u ON u.id = r.user_id
          WHERE r.tenant_id = $1 AND r.rating_id = $2 ORDER BY r.assigned_at, u.display_name",
        tenant,
        rating
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub rater_id: Uuid,
    pub rater_label: String,
    pub version: i32,
    pub correction_reason: Option<String>,
    pub levels: Value,
    pub total: Decimal,
    pub justification: Option<String>,
    pub comment: String,
    pub submitted_at: OffsetDateTime,
}

/// Each rater's latest version (what the rating's score uses).
pub async fn current_submissions(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
) -> Result<Vec<SubmissionRow>, sqlx::Error> {
    sqlx::query_as!(
        SubmissionRow,
        "SELECT DISTINCT ON (rater_id) id, rater_id, rater_label, version, correction_reason, levels,
                total, justification, comment, submitted_at
           FROM rating_submissions WHERE tenant_id = $1 AND rating_id = $2
          ORDER BY rater_id, version DESC",
        tenant,
        rating
    )
    .fetch_all(conn)
    .await
}

pub struct NewSubmission<'a> {
    pub id: Uuid,
    pub rating_id: Uuid,
    pub rater_id: Uuid,
    pub rater_label: &'a str,
    pub version: i32,
    pub corrects: Option<Uuid>,
    pub correction_reason: Option<&'a str>,
    pub levels: Value,
    pub total: Decimal,
    pub justification: Option<&'a str>,
    pub comment: &'a str,
}

pub async fn insert_submission(
    conn: &mut PgConnection,
    tenant: Uuid,
    s: &NewSubmission<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO rating_submissions (tenant_id, id, rating_id, rater_id, rater_label, version,
                corrects, correction_reason, levels, total, justification, comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        tenant,
        s.id,
        s.rating_id,
        s.rater_id,
        s.rater_label,
        s.version,
        s.corrects,
        s.correction_reason,
        s.levels,
        s.total,
        s.justification,
        s.comment
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn attach_file(
    conn: &mut PgConnection,
    tenant: Uuid,
    submission: Uuid,
    upload: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO rating_submission_files (tenant_id, submission_id, upload_id) VALUES ($1, $2, $3)",
        tenant,
        submission,
        upload
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An evidence file a rater kept with any version of their scorecard.
pub struct SubmissionFile {
    pub rater_id: Uuid,
    pub upload_id: Uuid,
    pub filename: String,
}

pub async fn submission_files(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
) -> Result<Vec<SubmissionFile>, sqlx::Error> {
    sqlx::query_as!(
        SubmissionFile,
        "SELECT s.rater_id, u.id AS upload_id, u.filename
           FROM rating_submission_files f
           JOIN rating_submissions s ON s.tenant_id = f.tenant_id AND s.id = f.submission_id
           JOIN uploads u ON u.tenant_id = f.tenant_id AND u.id = f.upload_id
          WHERE f.tenant_id = $1 AND s.rating_id = $2
          ORDER BY u.created_at, u.id",
        tenant,
        rating
    )
    .fetch_all(conn)
    .await
}

pub struct Outcome {
    pub raw_score: Decimal,
    pub final_score: Decimal,
    pub calibrated_score: Option<Decimal>,
    pub closed_with_one: bool,
    pub completed_by: Option<Uuid>,
}

pub async fn complete(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
    o: &Outcome,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE ratings SET state = 'completed', raw_score = $3, final_score = $4,
                calibrated_score = $5, closed_with_one = $6, completed_by = $7,
                completed_at = clock_timestamp()
          WHERE tenant_id = $1 AND id = $2",
        tenant,
        rating,
        o.raw_score,
        o.final_score,
        o.calibrated_score,
        o.closed_with_one,
        o.completed_by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A completed rating's scores again after a correction (calibration stays as stored).
pub async fn rescore(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
    raw: Decimal,
    final_score: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE ratings SET raw_score = $3, final_score = $4 WHERE tenant_id = $1 AND id = $2",
        tenant,
        rating,
        raw,
        final_score
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The states of a campaign's collaborations (to tell whether it can move on).
pub async fn campaign_collab_states(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> Result<Vec<ContractState>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT state AS "state!: ContractState" FROM collaborations
            WHERE tenant_id = $1 AND campaign_id = $2"#,
        tenant,
        campaign
    )
    .fetch_all(conn)
    .await
}

/// A rating waiting for one rater's score.
#[derive(Debug, Clone)]
pub struct PendingRating {
    pub rating_id: Uuid,
    pub collaboration_id: Uuid,
    pub handle: String,
    pub campaign_title: String,
    pub opened_at: OffsetDateTime,
}

/// The open ratings `user` is assigned to and has not submitted yet, oldest first.
pub async fn pending_for_rater(
    conn: &mut PgConnection,
    tenant: Uuid,
    user: Uuid,
) -> Result<Vec<PendingRating>, sqlx::Error> {
    sqlx::query_as!(
        PendingRating,
        "SELECT r.id AS rating_id, r.collaboration_id, c.handle, k.title AS campaign_title, r.opened_at
           FROM ratings r JOIN rating_raters a
             ON a.tenant_id = r.tenant_id AND a.rating_id = r.id AND a.user_id = $2
           JOIN creators c ON c.id = r.creator_id
           JOIN campaigns k ON k.tenant_id = r.tenant_id AND k.id = r.campaign_id
          WHERE r.tenant_id = $1 AND r.state = 'open'
            AND NOT EXISTS (SELECT 1 FROM rating_submissions s WHERE s.tenant_id = r.tenant_id
                             AND s.rating_id = r.id AND s.rater_id = $2)
          ORDER BY r.opened_at",
        tenant,
        user
    )
    .fetch_all(conn)
    .await
}

/// A collaboration whose rating is due or under way.
#[derive(Debug, Clone)]
pub struct DueRating {
    pub collaboration_id: Uuid,
    pub handle: String,
    pub campaign_title: String,
    pub state: ContractState,
    /// When the evaluation window is final for every post (None without posts).
    pub window_final_at: Option<OffsetDateTime>,
    pub rating_id: Option<Uuid>,
    pub raters: i64,
    pub submissions: i64,
}

impl DueRating {
    /// Whole days until the window is final (0 when it is).
    pub fn days_until_final(&self, now: OffsetDateTime) -> Option<i64> {
        self.window_final_at
            .map(|at| ((at - now).whole_seconds().max(0) + 86_399) / 86_400)
    }
}

/// Collaborations in tracking or evaluating without an open rating, and open ratings that lack
/// raters or submissions: what the seller's home lists as due.
pub async fn due_ratings(
    conn: &mut PgConnection,
    tenant: Uuid,
    _now: OffsetDateTime,
) -> Result<Vec<DueRating>, sqlx::Error> {
    sqlx::query_as!(
        DueRating,
        r#"SELECT l.id AS "collaboration_id!", c.handle AS "handle!", k.title AS "campaign_title!",
                  l.state AS "state!: ContractState",
                  (SELECT max(p.published_at) FROM posts p
                    WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id)
                    + make_interval(days => substr(t.evaluation_window, 2)::int) AS "window_final_at?",
                  r.id AS "rating_id?",
                  (SELECT count(*) FROM rating_raters a WHERE a.tenant_id = l.tenant_id
                      AND a.rating_id = r.id) AS "raters!",
                  (SELECT count(DISTINCT s.rater_id) FROM rating_submissions s
                    WHERE s.tenant_id = l.tenant_id AND s.rating_id = r.id) AS "submissions!"
             FROM collaborations l JOIN tenants t ON t.id = l.tenant_id
             JOIN creators c ON c.id = l.creator_id
             JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
             LEFT JOIN ratings r ON r.tenant_id = l.tenant_id AND r.collaboration_id = l.id
            WHERE l.tenant_id = $1 AND l.state IN ('tracking', 'evaluating')
              AND (r.id IS NULL OR r.state = 'open')
            ORDER BY 5 NULLS LAST, 2"#,
        tenant
    )
    .fetch_all(conn)
    .await
}

/// Active tenants' slugs (the job walks them).
pub async fn active_tenants(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT slug FROM tenants WHERE status = 'active' ORDER BY id")
        .fetch_all(conn)
        .await
}

/// A tracking collaboration with its posts' publish times.
pub struct Tracking {
    pub id: Uuid,
    pub published: Vec<OffsetDateTime>,
}

pub async fn tracking_collaborations(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<Tracking>, sqlx::Error> {
    sqlx::query_as!(
        Tracking,
        r#"SELECT l.id, coalesce(array_agg(p.published_at) FILTER (WHERE p.id IS NOT NULL), '{}')
                  AS "published!"
             FROM collaborations l LEFT JOIN posts p
               ON p.tenant_id = l.tenant_id AND p.collaboration_id = l.id
            WHERE l.tenant_id = $1 AND l.state = 'tracking'
            GROUP BY l.id ORDER BY l.id"#,
        tenant
    )
    .fetch_all(conn)
    .await
}

/// Collaborations in evaluating without a rating (opened by the job when the window is final).
pub async fn evaluating_unrated(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT l.id FROM collaborations l WHERE l.tenant_id = $1 AND l.state = 'evaluating'
            AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.tenant_id = l.tenant_id
                             AND r.collaboration_id = l.id)
          ORDER BY l.id",
        tenant
    )
    .fetch_all(conn)
    .await
}

/// Campaigns in a state, by id.
pub async fn campaigns_in(
    conn: &mut PgConnection,
    tenant: Uuid,
    state: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM campaigns WHERE tenant_id = $1 AND state = $2 ORDER BY id",
        tenant,
        state
    )
    .fetch_all(conn)
    .await
}
