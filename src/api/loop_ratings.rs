//! `/api/v1` writes of ratings and tiers (issue 19): open a collaboration's rating, ask raters,
//! a rater's blind scorecard, the owner's close with one rater; the owner's blacklist entries and
//! tier override. Each calls the action the rating page or the creator page calls, in the
//! token's tenant and under its person, so the rules, refusals and audit entries are the pages'.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::Scope;
use super::extract::{ApiJson, ApiWriter, PathId};
use super::v1::{Created, WriteRefusals, answer_json, in_tenant};
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::ratings::actions::{
    AssignRaters, CloseWithOne, OpenRating, SubmitScorecard, assign_raters, close_with_one_rater,
    open_rating, submit_scorecard,
};
use crate::ratings::repo as ratings_repo;
use crate::state::AppState;
use crate::tiers::actions::{
    AddBlacklistEntry, BlacklistDecision, DecideBlacklist, OverrideTier, add_blacklist_entry,
    decide_blacklist, override_tier,
};
use crate::web::lang::Lang;

/// The collaboration of the tenant's rating `id` (the actions name a rating by it).
async fn collaboration_of(tx: &mut PgConnection, tenant: Uuid, id: Uuid) -> DomainResult<Uuid> {
    ratings_repo::collaboration_of_rating(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound)
}

/// The page's field of a subjective level (`level_<code>`) as the JSON names it
/// (`levels.<code>`); other fields are named alike on both.
fn json_fields(e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(errors) => DomainError::Invalid(
            errors
                .into_iter()
                .map(|(field, key)| match field.strip_prefix("level_") {
                    Some(code) => (format!("levels.{code}"), key),
                    None => (field, key),
                })
                .collect::<FieldErrors>(),
        ),
        other => other,
    }
}

/// Opening a collaboration's rating, as the rating page's form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OpenRatingBody {
    /// Required to open before the evaluation window is final (then the owner alone may, and
    /// the reason is audited); ignored once it is final.
    pub override_reason: String,
    /// People asked to rate (the company's owners, operators and assigned account managers), as
    /// the page's "ask raters" form — optional here, and possible later on
    /// `POST /api/v1/ratings/{id}/raters`. Asking takes the owner or an operator.
    pub raters: Vec<Uuid>,
}

/// `POST /api/v1/collaborations/{id}/rating`: opens the collaboration's rating (its inputs frozen)
/// through the rating page's action, and asks the raters given.
#[utoipa::path(post, path = "/api/v1/collaborations/{id}/rating", tag = "rating",
    request_body = OpenRatingBody,
    params(("id" = Uuid, Path, description = "The collaboration"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 201, description = "The rating, opened (its id)", body = Created),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn open_rating_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(collaboration_id): PathId,
    ApiJson(body): ApiJson<OpenRatingBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move {
            let id = open_rating(
                tx,
                &actor,
                OpenRating {
                    collaboration_id,
                    override_reason: body.override_reason,
                    now: OffsetDateTime::now_utc(),
                },
            )
            .await?;
            if !body.raters.is_empty() {
                assign_raters(
                    tx,
                    &actor,
                    AssignRaters {
                        collaboration_id,
                        user_ids: body.raters,
                    },
                )
                .await?;
            }
            Ok(Created { id })
        })
    })
    .await;
    answer_json(StatusCode::CREATED, done)
}

/// The people asked to rate.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RatersBody {
    /// The company's owners, operators and assigned account managers (user ids); people already
    /// asked stay asked.
    pub raters: Vec<Uuid>,
}

/// What asking raters did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RatersAnswer {
    /// People newly asked (those asked before are not counted again).
    pub added: usize,
}

/// `POST /api/v1/ratings/{id}/raters` (owner or operator): asks people to rate an open rating,
/// as the rating page's "ask raters" form.
#[utoipa::path(post, path = "/api/v1/ratings/{id}/raters", tag = "rating",
    request_body = RatersBody,
    params(("id" = Uuid, Path, description = "The rating"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 200, description = "The raters, asked", body = RatersAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn assign_raters_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(rating): PathId,
    ApiJson(body): ApiJson<RatersBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let collaboration_id = collaboration_of(tx, tenant.id, rating).await?;
            let added = assign_raters(
                tx,
                &actor,
                AssignRaters {
                    collaboration_id,
                    user_ids: body.raters,
                },
            )
            .await?;
            Ok(RatersAnswer { added })
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// A subjective level: a whole number 1–5 (or the same as text, as the page's form sends it).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Level {
    Number(i64),
    Text(String),
}

impl Level {
    /// As the form would have sent it, for the page's parser.
    fn typed(self) -> String {
        match self {
            Level::Number(n) => n.to_string(),
            Level::Text(s) => s,
        }
    }
}

/// A rater's scorecard, as the rating page's form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ScorecardBody {
    /// The level (1–5) per subjective dimension code of the rating's template (the objective
    /// ones are computed); each missing, wrong or unknown one is named `levels.<code>`.
    pub levels: BTreeMap<String, Level>,
    /// Required when every subjective level is 5.
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub comment: String,
}

/// A scorecard submitted. Raters are blind: the answer holds the caller's own scorecard only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScorecardAnswer {
    /// The submission.
    pub id: Uuid,
    /// This scorecard's total (0–100).
    #[schema(value_type = String)]
    pub total: Decimal,
    /// The rating completed with it (the second rater's submission).
    pub completed: bool,
}

/// `POST /api/v1/ratings/{id}/scorecards` (an asked rater, as themself): submits the token's
/// person's scorecard once, blind, through the rating page's action; the second rater's
/// completes the rating (calibration, the collaboration to rated, the creator's tier).
#[utoipa::path(post, path = "/api/v1/ratings/{id}/scorecards", tag = "rating",
    request_body = ScorecardBody,
    params(("id" = Uuid, Path, description = "The rating"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 201, description = "The scorecard, submitted", body = ScorecardAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn submit_scorecard_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(rating): PathId,
    ApiJson(body): ApiJson<ScorecardBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let collaboration_id = collaboration_of(tx, tenant.id, rating).await?;
            let input = SubmitScorecard {
                collaboration_id,
                levels: body
                    .levels
                    .into_iter()
                    .map(|(code, level)| (code, level.typed()))
                    .collect(),
                justification: body.justification,
                comment: body.comment,
            };
            let done = submit_scorecard(tx, &actor, input)
                .await
                .map_err(json_fields)?;
            Ok(ScorecardAnswer {
                id: done.submission_id,
                total: done.total,
                completed: done.completed,
            })
        })
    })
    .await;
    answer_json(StatusCode::CREATED, done)
}

/// Closing a rating with one rater.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CloseBody {
    /// Why one rater is enough (required, audited).
    #[serde(default)]
    pub reason: String,
}

/// A rating completed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RatingCompleted {
    pub id: Uuid,
    /// The score that counts (here the calibrated one, when there is one).
    #[schema(value_type = Option<String>)]
    pub final_score: Option<Decimal>,
}

/// `POST /api/v1/ratings/{id}/close` (owner): completes an open rating that has exactly one
/// scorecard, with a reason, as the rating page's "close with one rater".
#[utoipa::path(post, path = "/api/v1/ratings/{id}/close", tag = "rating",
    request_body = CloseBody,
    params(("id" = Uuid, Path, description = "The rating"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 200, description = "The rating, completed", body = RatingCompleted),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn close_rating_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(rating): PathId,
    ApiJson(body): ApiJson<CloseBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let collaboration_id = collaboration_of(tx, tenant.id, rating).await?;
            close_with_one_rater(
                tx,
                &actor,
                CloseWithOne {
                    collaboration_id,
                    reason: body.reason,
                },
            )
            .await?;
            let row = ratings_repo::rating_of_collaboration(tx, tenant.id, collaboration_id)
                .await?
                .ok_or(DomainError::NotFound)?;
            Ok(RatingCompleted {
                id: row.id,
                final_score: row.final_score,
            })
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// The owner's blacklist entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BlacklistBody {
    /// Why (required); the entry is proposed, for a decision (confirm) like any other.
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/creators/{id}/blacklist` (owner): proposes a blacklist entry for a creator the
/// company has dealt with, as a severe fulfilment record does; confirm it with
/// `POST /api/v1/blacklist/{entry_id}/decision`.
#[utoipa::path(post, path = "/api/v1/creators/{id}/blacklist", tag = "rating",
    request_body = BlacklistBody,
    params(("id" = Uuid, Path, description = "The creator"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 201, description = "The entry, proposed (its id)", body = Created),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn add_blacklist_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(creator_id): PathId,
    ApiJson(body): ApiJson<BlacklistBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move {
            let id = add_blacklist_entry(
                tx,
                &actor,
                AddBlacklistEntry {
                    creator_id,
                    reason: body.reason,
                },
            )
            .await?;
            Ok(Created { id })
        })
    })
    .await;
    answer_json(StatusCode::CREATED, done)
}

/// The owner's decision on a blacklist entry: the buttons of the creator page.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// A proposed entry becomes confirmed: the creator is blocked.
    Confirm,
    /// A proposed entry is dismissed.
    Dismiss,
    /// A confirmed entry is lifted.
    Lift,
}

impl From<Decision> for BlacklistDecision {
    fn from(d: Decision) -> BlacklistDecision {
        match d {
            Decision::Confirm => BlacklistDecision::Confirm,
            Decision::Dismiss => BlacklistDecision::Dismiss,
            Decision::Lift => BlacklistDecision::Lift,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    pub decision: Decision,
    /// Why (required, audited).
    #[serde(default)]
    pub reason: String,
}

/// What a decision did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionAnswer {
    /// The entry's creator, whose tier was computed again.
    pub creator_id: Uuid,
}

/// `POST /api/v1/blacklist/{entry_id}/decision` (owner): confirms or dismisses a proposed entry,
/// or lifts a confirmed one, with a reason, as the creator page's buttons; the tier follows.
#[utoipa::path(post, path = "/api/v1/blacklist/{entry_id}/decision", tag = "rating",
    request_body = DecisionBody,
    params(("entry_id" = Uuid, Path, description = "The blacklist entry"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 200, description = "The decision, made", body = DecisionAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn decide_blacklist_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(entry_id): PathId,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move {
            let creator_id = decide_blacklist(
                tx,
                &actor,
                DecideBlacklist {
                    entry_id,
                    decision: body.decision.into(),
                    reason: body.reason,
                },
            )
            .await?;
            Ok(DecisionAnswer { creator_id })
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// The owner's tier for a creator, as the creator page's override form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TierOverrideBody {
    /// `S`, `A`, `B` or `C`.
    #[serde(default)]
    pub tier: String,
    /// Why (required, audited).
    #[serde(default)]
    pub reason: String,
}

/// The tier as it stands after the override.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TierOverridden {
    pub creator_id: Uuid,
    /// The tier that holds now (until a rating completes after it).
    pub tier: String,
}

/// `POST /api/v1/creators/{id}/tier-override` (owner; not operators, not agency staff): sets the
/// creator's tier by hand with a reason; it holds until the next rating completes. (The pages
/// have no way to take an override back, and so neither has the API.)
#[utoipa::path(post, path = "/api/v1/creators/{id}/tier-override", tag = "rating",
    request_body = TierOverrideBody,
    params(("id" = Uuid, Path, description = "The creator"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 200, description = "The tier, overridden", body = TierOverridden),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn override_tier_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(creator_id): PathId,
    ApiJson(body): ApiJson<TierOverrideBody>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            override_tier(
                tx,
                &actor,
                OverrideTier {
                    creator_id,
                    tier: body.tier,
                    reason: body.reason,
                },
            )
            .await?;
            let rows = crate::tiers::repo::tenant_rows(tx, tenant.id, Some(&[creator_id])).await?;
            Ok(TierOverridden {
                creator_id,
                tier: rows.into_iter().find_map(|r| r.tier).unwrap_or_default(),
            })
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}
