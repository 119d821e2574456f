//! SQL of the consistency report and the calibration. It reads the rating flow's tables
//! (`ratings`, `rating_submissions`, `scorecard_templates`) and writes only
//! `submission_calibrations` and `ratings.calibrated_score`.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A rater's first submission (version 1) with what the statistics need.
#[derive(Debug, Clone)]
pub struct FirstSubmissionRow {
    pub rater_id: Uuid,
    pub rater_label: String,
    pub rating_id: Uuid,
    pub total: Decimal,
    pub levels: serde_json::Value,
    pub dimensions: serde_json::Value,
}

/// Every rater's first submission on the tenant's completed ratings, oldest first; with
/// `before = Some((rating, at))` only those on ratings completed before `at` other than
/// `rating` (the history the calibration of `rating` rests on). Open ratings are left out:
/// their scores are still blind to the other raters.
pub async fn first_submissions(
    conn: &mut PgConnection,
    tenant: Uuid,
    before: Option<(Uuid, OffsetDateTime)>,
) -> Result<Vec<FirstSubmissionRow>, sqlx::Error> {
    let (rating, at) = before.unzip();
    sqlx::query_as!(
        FirstSubmissionRow,
        r#"SELECT s.rater_id, s.rater_label, s.rating_id, s.total, s.levels, t.dimensions
             FROM rating_submissions s
             JOIN ratings r ON r.tenant_id = s.tenant_id AND r.id = s.rating_id
             JOIN scorecard_templates t ON t.tenant_id = r.tenant_id AND t.id = r.template_id
            WHERE s.tenant_id = $1 AND s.version = 1 AND r.state = 'completed'
              AND ($2::uuid IS NULL OR (r.id <> $2 AND r.completed_at < $3))
            ORDER BY r.completed_at, s.submitted_at, s.id"#,
        tenant,
        rating,
        at
    )
    .fetch_all(conn)
    .await
}

/// The rating being calibrated: its template's dimensions and when it completed (None while
/// its completion is under way in the caller's transaction).
pub struct RatingToCalibrate {
    pub dimensions: serde_json::Value,
    pub completed_at: Option<OffsetDateTime>,
}

pub async fn rating_to_calibrate(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
) -> Result<Option<RatingToCalibrate>, sqlx::Error> {
    sqlx::query_as!(
        RatingToCalibrate,
        r#"SELECT t.dimensions, r.completed_at
             FROM ratings r
             JOIN scorecard_templates t ON t.tenant_id = r.tenant_id AND t.id = r.template_id
            WHERE r.tenant_id = $1 AND r.id = $2
              FOR UPDATE OF r"#,
        tenant,
        rating
    )
    .fetch_optional(conn)
    .await
}

/// A rater's current submission of a rating (the latest version), with its stored calibration
/// when there is one.
pub struct CurrentSubmission {
    pub id: Uuid,
    pub rater_id: Uuid,
    pub levels: serde_json::Value,
    pub calibrated_total: Option<Decimal>,
}

pub async fn current_submissions(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
) -> Result<Vec<CurrentSubmission>, sqlx::Error> {
    sqlx::query_as!(
        CurrentSubmission,
        r#"SELECT s.id AS "id!", s.rater_id AS "rater_id!", s.levels AS "levels!",
                  c.total AS "calibrated_total?"
             FROM (SELECT DISTINCT ON (rater_id) id, rater_id, levels
                     FROM rating_submissions
                    WHERE tenant_id = $1 AND rating_id = $2
                    ORDER BY rater_id, version DESC) s
             LEFT JOIN submission_calibrations c ON c.tenant_id = $1 AND c.submission_id = s.id
            ORDER BY s.rater_id"#,
        tenant,
        rating
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_calibration(
    conn: &mut PgConnection,
    tenant: Uuid,
    submission: Uuid,
    levels: &serde_json::Value,
    total: Decimal,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO submission_calibrations (tenant_id, submission_id, levels, total)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, submission_id) DO NOTHING",
        tenant,
        submission,
        levels,
        total
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_calibrated_score(
    conn: &mut PgConnection,
    tenant: Uuid,
    rating: Uuid,
    score: Option<Decimal>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE ratings SET calibrated_score = $3 WHERE tenant_id = $1 AND id = $2",
        tenant,
        rating,
        score
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A completed rating as the report lists it, raw beside calibrated.
#[derive(Debug, Clone)]
pub struct CompletedRating {
    pub rating_id: Uuid,
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub creator_handle: String,
    pub campaign_title: String,
    pub raw_score: Option<Decimal>,
    pub calibrated_score: Option<Decimal>,
    pub final_score: Option<Decimal>,
    pub closed_with_one: bool,
    pub completed_at: Option<OffsetDateTime>,
}

pub async fn completed_ratings(
    conn: &mut PgConnection,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<CompletedRating>, sqlx::Error> {
    sqlx::query_as!(
        CompletedRating,
        r#"SELECT r.id AS rating_id, r.collaboration_id, r.creator_id, cr.handle AS creator_handle,
                  c.title AS campaign_title, r.raw_score, r.calibrated_score, r.final_score,
                  r.closed_with_one, r.completed_at
             FROM ratings r
             JOIN creators cr ON cr.id = r.creator_id
             JOIN campaigns c ON c.tenant_id = r.tenant_id AND c.id = r.campaign_id
            WHERE r.tenant_id = $1 AND r.state = 'completed'
            ORDER BY r.completed_at DESC, r.id
            LIMIT $2"#,
        tenant,
        limit
    )
    .fetch_all(conn)
    .await
}
