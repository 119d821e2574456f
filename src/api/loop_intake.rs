//! `/api/v1` over intake, matching and the shortlist (issue 19): a seller's campaign request
//! (draft, changes, submit, the state table's moves by hand), the account manager's ranked
//! candidates and the shortlist they send, the seller's answers to it, and the creator pool
//! upserted in batches by agency staff. Each write calls the action the page calls
//! (`campaigns::actions`, `matching::actions`, `creators::actions`), so the rules, the refusals
//! and the audit entries are the pages'.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

use super::domain::Scope;
use super::extract::{ApiActor, ApiJson, ApiWriter, PathId, PathIds};
use super::reads::ListRefusals;
use super::v1::{WriteRefusals, answer_json, in_tenant, problem_of};
use crate::auth::Actor;
use crate::campaigns::actions::{
    self as campaigns, ApproveShortlist, DecisionForm, MoveForm, RequestAnotherRound, SaveCampaign,
};
use crate::campaigns::domain::{CampaignInput, CampaignState, entry_score_seen};
use crate::campaigns::repo as campaign_repo;
use crate::creators::actions::{UpsertCreators, upsert_creator_batch};
use crate::db::SystemScope;
use crate::error::{DomainError, DomainResult, ErrorDetail};
use crate::kernel::FieldErrors;
use crate::matching::actions::{self as matching, Pick, RANKED_MAX, Ranking, SendShortlist};
use crate::matching::repo as matching_repo;
use crate::state::AppState;
use crate::tenants::Access;
use crate::web::front::problem_json;
use crate::web::lang::Lang;

/// The most candidates one call ranks: as many as the matching page ranks.
pub const CANDIDATES_MAX: usize = RANKED_MAX;
/// Candidates a call ranks when it does not say (a page of the matching page).
pub const CANDIDATES_DEFAULT: usize = 25;

// ---- Campaigns

/// A campaign after a step: its id, where it is, and its code (given when it is submitted).
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignAnswer {
    pub id: Uuid,
    /// `draft`, `submitted`, `matching`, `shortlist_sent`, `contracting`, `running`,
    /// `evaluating`, `closed` or `cancelled`.
    pub state: String,
    /// E.g. `LUMI-2612-01`; none before submission.
    pub code: Option<String>,
}

/// The campaign as it now is (inside the step's transaction).
async fn answer_of(
    tx: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> DomainResult<CampaignAnswer> {
    let row = campaign_repo::get(tx, tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(CampaignAnswer {
        id,
        state: row.state.code().to_string(),
        code: row.code,
    })
}

/// Saves the request form's fields through the page's action (`save_campaign`): a new draft
/// (`campaign_id` None), changes to a draft, or (`submit`) the draft submitted.
async fn save(
    state: &AppState,
    api: &ApiActor,
    lang: Lang,
    input: SaveCampaign,
) -> Result<CampaignAnswer, Response> {
    let actor = api.actor.clone();
    in_tenant(state, api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let id = campaigns::save_campaign(tx, &actor, input).await?;
            answer_of(tx, tenant.id, id).await
        })
    })
    .await
}

/// `POST /api/v1/campaigns` (the seller's owner or operators): a new campaign request, saved as
/// a draft — the request form's fields, names and parsing; a field typed wrong is named in
/// `errors` and nothing is saved.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "intake", request_body = CampaignInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 201, description = "The draft, saved", body = CampaignAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn create_campaign_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    ApiJson(body): ApiJson<CampaignInput>,
) -> Response {
    let input = SaveCampaign {
        campaign_id: None,
        input: body,
        submit: false,
    };
    answer_json(StatusCode::CREATED, save(&state, &api, lang, input).await)
}

/// `PUT /api/v1/campaigns/{id}` (the seller's owner or operators): the draft's fields replaced
/// by these, as the edit form saves them (a field left out is emptied, as a form left blank).
/// Only a draft is edited; another state is 403, as its edit page is. Sending the same body
/// twice leaves the same draft (no `Idempotency-Key` needed).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "intake", request_body = CampaignInput,
    params(
        ("id" = Uuid, Path, description = "The campaign"),
    ),
    responses(
        (status = 200, description = "The draft, saved", body = CampaignAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn update_campaign_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<CampaignInput>,
) -> Response {
    let input = SaveCampaign {
        campaign_id: Some(id),
        input: body,
        submit: false,
    };
    answer_json(StatusCode::OK, save(&state, &api, lang, input).await)
}

/// `POST /api/v1/campaigns/{id}/submit` (the seller's owner or operators): submits the draft as
/// it is saved, as the edit form's submit button does — the same completeness check (each
/// missing or wrong field named), the campaign's code given.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/submit", tag = "intake",
    params(
        ("id" = Uuid, Path, description = "The campaign (a draft)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409."),
    ),
    responses(
        (status = 200, description = "Submitted", body = CampaignAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn submit_campaign_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            // The saved draft as its edit form shows it; the action checks who and what.
            let input = campaign_repo::get(tx, tenant.id, id)
                .await?
                .ok_or(DomainError::NotFound)?
                .input();
            let input = SaveCampaign {
                campaign_id: Some(id),
                input,
                submit: true,
            };
            let id = campaigns::save_campaign(tx, &actor, input).await?;
            answer_of(tx, tenant.id, id).await
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// `POST /api/v1/campaigns/{id}/transitions` (the seller's owner or operators, or the account
/// manager): a move of the campaign's state table taken by hand, as the campaign page's buttons
/// take it — `start_matching` (the account manager, from submitted) or `cancel` (the seller's
/// owner or the account manager, with a reason). A move the table does not allow is 409 with the
/// page's reason (`campaign.transition_error.*`); the moves with their own step (`submit`,
/// `send_shortlist`, `request_another_round`, `approve_shortlist`) are 403 here, as on the page.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/transitions", tag = "intake",
    request_body = MoveForm,
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409."),
    ),
    responses(
        (status = 200, description = "Moved", body = CampaignAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn transition_campaign_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<MoveForm>,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            campaigns::move_by_hand(tx, &actor, id, body).await?;
            answer_of(tx, tenant.id, id).await
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

// ---- Matching (the account manager)

/// One component of a candidate's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorePart {
    /// `audience`, `engagement`, `category`, `style`, `price` or `track_record`.
    pub component: String,
    /// How well the creator fits on this component, 0 to 1.
    pub fit: f64,
    /// `fit` × `weight`: the points it adds to the total.
    pub points: f64,
    /// The component's weight (the weights add up to 100).
    pub weight: f64,
}

/// Something to look at before picking a creator (never a filter).
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateWarning {
    /// `low_like_view_ratio`, `open_low_score_warning`, `violation_notes`,
    /// `low_sample_posting_rate` or `no_quote`.
    pub code: String,
    pub message: String,
}

/// A candidate as the matching page shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    /// Place in the ranking (1 = best).
    pub rank: usize,
    pub creator_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub followers: i64,
    /// (likes + comments + shares) / views, 0 to 1.
    pub engagement_rate: f64,
    /// 0 to 100: the sum of the parts' points.
    pub total: f64,
    pub breakdown: Vec<ScorePart>,
    pub warnings: Vec<CandidateWarning>,
    /// The creator's quote for a video, in `quote_currency`.
    #[schema(value_type = Option<String>, example = "350.00")]
    pub quote_video: Option<rust_decimal::Decimal>,
    pub quote_currency: Option<String>,
    /// The creator's tier with this company (`S`, `A`, `B`, `C`), if any.
    pub tier: Option<String>,
}

/// A campaign's candidates, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Candidates {
    pub campaign_id: Uuid,
    /// The campaign's state: a shortlist is sent from `matching`.
    pub state: String,
    pub candidates: Vec<CandidateOut>,
}

fn candidate_out(
    lang: Lang,
    rank: usize,
    score: &crate::matching::domain::MatchScore,
    weights: &crate::matching::domain::Weights,
    info: matching_repo::CandidateInfo,
) -> CandidateOut {
    let c = &score.breakdown.components;
    let p = &score.breakdown.points;
    let breakdown = [
        ("audience", c.audience, p.audience, weights.audience),
        ("engagement", c.engagement, p.engagement, weights.engagement),
        ("category", c.category, p.category, weights.category),
        ("style", c.style, p.style, weights.style),
        ("price", c.price, p.price, weights.price),
        (
            "track_record",
            c.track_record,
            p.track_record,
            weights.track_record,
        ),
    ]
    .into_iter()
    .map(|(component, fit, points, weight)| ScorePart {
        component: component.to_string(),
        fit,
        points,
        weight,
    })
    .collect();
    CandidateOut {
        rank,
        creator_id: info.id,
        handle: info.handle,
        display_name: info.display_name,
        followers: info.followers,
        engagement_rate: score.engagement_rate,
        total: score.total,
        breakdown,
        warnings: score
            .warnings
            .iter()
            .map(|w| CandidateWarning {
                code: w.key().trim_start_matches("matching.warning.").to_string(),
                message: lang.t(w.key()),
            })
            .collect(),
        quote_video: info.quote_video,
        quote_currency: info.quote_currency,
        tier: info.tier,
    }
}

/// `GET /api/v1/campaigns/{id}/candidates?limit=N` (the account manager; a seller's token is
/// 403, as the matching page is): the creator pool ranked for the campaign as the matching page
/// ranks it — the best `limit` (1 to 100, default 25), never a creator offered before, each with
/// its score's breakdown and warnings.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/candidates", tag = "matching",
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("limit" = Option<i64>, Query, description = "How many of the best (1–100, default 25)"),
    ),
    responses(
        (status = 200, description = "The ranked candidates", body = Candidates),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn candidates_api(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
) -> Response {
    let limit = match candidates_limit(raw.as_deref()) {
        Ok(n) => n,
        Err(errors) => {
            return problem_json(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&ErrorDetail::Invalid(errors)),
            );
        }
    };
    let actor = api.actor.clone();
    let cache = crate::matching::creator_pool(&state).clone();
    let db = state.db.clone();
    let done = in_tenant(&state, &api, lang, Scope::Read, move |tx, tenant| {
        Box::pin(async move {
            let Ranking {
                campaign,
                weights,
                ranked,
            } = matching::ranked_candidates(tx, &actor, &cache, &db, id, limit).await?;
            let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
            let mut infos: HashMap<Uuid, matching_repo::CandidateInfo> =
                matching_repo::candidate_infos(tx, tenant.id, &ids)
                    .await?
                    .into_iter()
                    .map(|c| (c.id, c))
                    .collect();
            let candidates = ranked
                .iter()
                .enumerate()
                .filter_map(|(i, (id, score))| {
                    let info = infos.remove(id)?;
                    Some(candidate_out(lang, i + 1, score, &weights, info))
                })
                .collect();
            Ok(Candidates {
                campaign_id: id,
                state: campaign.state.code().to_string(),
                candidates,
            })
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// The `limit` a candidates call asks for: absent → the default; 1..=100, else the field's error.
fn candidates_limit(raw: Option<&str>) -> Result<usize, FieldErrors> {
    let asked = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(k, _)| k == "limit")
        .map(|(_, v)| v)
        .last();
    match asked.as_deref().map(str::trim) {
        None | Some("") => Ok(CANDIDATES_DEFAULT),
        Some(n) => match n.parse::<usize>() {
            Ok(n) if (1..=CANDIDATES_MAX).contains(&n) => Ok(n),
            _ => {
                let mut errors = FieldErrors::new();
                errors.insert("limit".into(), "api.intake.limit");
                Err(errors)
            }
        },
    }
}

/// One creator picked for the shortlist.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PickIn {
    /// A current candidate (`GET /api/v1/campaigns/{id}/candidates`).
    pub creator_id: Uuid,
    /// What the seller will read about this creator.
    #[serde(default)]
    pub note: String,
}

/// The shortlist round to send: what the matching page's form sends.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShortlistIn {
    /// In order; a creator picked twice is sent once.
    pub picks: Vec<PickIn>,
}

/// What was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistSent {
    pub round: i32,
    pub creators: Vec<Uuid>,
}

/// The action's field names (the page form's `pick` and `note-{creator id}`) as this body's.
fn picks_fields(e: DomainError, picks: &[Uuid]) -> DomainError {
    match e {
        DomainError::Invalid(errors) => DomainError::Invalid(
            errors
                .into_iter()
                .map(|(field, key)| {
                    let named = match field.strip_prefix("note-") {
                        Some(id) => picks
                            .iter()
                            .position(|p| p.to_string() == id)
                            .map_or(field.clone(), |i| format!("picks[{i}].note")),
                        None if field == "pick" => "picks".to_string(),
                        None => field,
                    };
                    (named, key)
                })
                .collect(),
        ),
        other => other,
    }
}

/// `POST /api/v1/campaigns/{id}/shortlist` (the account manager, while the campaign is in
/// matching): sends the picked candidates, each with its note, as the next shortlist round, as
/// the matching page does — their scores frozen on the entries, the campaign moved on to the
/// seller, `shortlist.sent` told to the company's webhooks. Nothing picked, or a creator who is
/// not a current candidate, is 422 on `picks`; nothing is sent then.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/shortlist", tag = "matching",
    request_body = ShortlistIn,
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409."),
    ),
    responses(
        (status = 201, description = "The round, sent", body = ShortlistSent),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn send_shortlist_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
    ApiJson(body): ApiJson<ShortlistIn>,
) -> Response {
    let order: Vec<Uuid> = body.picks.iter().map(|p| p.creator_id).collect();
    let input = SendShortlist {
        campaign_id: id,
        picks: body
            .picks
            .into_iter()
            .map(|p| Pick {
                creator_id: p.creator_id,
                note: p.note,
            })
            .collect(),
    };
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move {
            matching::send_shortlist(tx, &actor, input)
                .await
                .map_err(|e| picks_fields(e, &order))
        })
    })
    .await;
    match done {
        Ok(sent) => (
            StatusCode::CREATED,
            Json(ShortlistSent {
                round: sent.round,
                creators: sent.creators,
            }),
        )
            .into_response(),
        Err(refused) => refused,
    }
}

// ---- The shortlist (the seller's answers)

/// A creator offered on the shortlist, as its card shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistEntryOut {
    /// The entry (what a decision names).
    pub id: Uuid,
    pub creator_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub followers: i64,
    /// The round it was sent in (1, 2, …).
    pub round: i32,
    /// The score as the reader's page shows it: the seller's with the track record from its own
    /// tier alone, agency staff the score as sent.
    pub score: f64,
    /// The account manager's note.
    pub note: String,
    /// `approved`, `rejected`, or none while undecided.
    pub decision: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The collaboration made from an approved entry, once there is one.
    pub collaboration_id: Option<Uuid>,
    /// Warning codes frozen with the score (`low_like_view_ratio`, …).
    pub warnings: Vec<String>,
}

/// A campaign's shortlist: every round's entries, newest round first, best score first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistOut {
    pub campaign_id: Uuid,
    /// The campaign's state: the seller answers while it is `shortlist_sent`.
    pub state: String,
    /// Whether the token's person may decide now (the seller's owner or operators, while the
    /// shortlist is sent).
    pub can_decide: bool,
    pub entries: Vec<ShortlistEntryOut>,
}

/// `GET /api/v1/campaigns/{id}/shortlist`: the campaign's shortlist as its page shows it — each
/// creator offered, with the round, score, note, and the seller's decision and reason.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/shortlist", tag = "shortlist",
    params(("id" = Uuid, Path, description = "The campaign")),
    responses(
        (status = 200, description = "The shortlist", body = ShortlistOut),
        ListRefusals,
    ),
    security(("bearer" = [])))]
pub async fn shortlist_api(
    State(state): State<AppState>,
    lang: Lang,
    api: ApiActor,
    PathId(id): PathId,
) -> Response {
    let access = api.actor.access();
    let done = in_tenant(&state, &api, lang, Scope::Read, move |tx, tenant| {
        Box::pin(async move {
            let row = campaign_repo::get(tx, tenant.id, id)
                .await?
                .ok_or(DomainError::NotFound)?;
            let staff = access == Some(Access::AccountManager);
            let entries = campaign_repo::shortlist_entries(tx, tenant.id, id, None)
                .await?
                .into_iter()
                .map(|e| ShortlistEntryOut {
                    score: entry_score_seen(&e.breakdown, staff)
                        .unwrap_or_else(|| e.score.to_f64().unwrap_or_default()),
                    warnings: e.breakdown["score"]["warnings"]
                        .as_array()
                        .map(|ws| {
                            ws.iter()
                                .filter_map(|w| w.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    id: e.id,
                    creator_id: e.creator_id,
                    handle: e.handle,
                    display_name: e.display_name,
                    followers: e.followers,
                    round: e.round,
                    note: e.note,
                    decision: e.decision.map(|d| d.code().to_string()),
                    reason: e.decision_reason,
                    collaboration_id: e.collaboration_id,
                })
                .collect();
            Ok(ShortlistOut {
                campaign_id: id,
                state: row.state.code().to_string(),
                can_decide: row.state == CampaignState::ShortlistSent
                    && matches!(access, Some(Access::Owner | Access::Operator)),
                entries,
            })
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// What a decision did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionAnswer {
    pub entry_id: Uuid,
    /// `approved` or `rejected`.
    pub decision: String,
}

/// `POST /api/v1/campaigns/{id}/shortlist/entries/{entry_id}/decision` (the seller's owner or
/// operators): approves or rejects one creator, once, while the shortlist is sent — as its card
/// does. A rejection without a reason is 422 on `reason`; a decision taken already, or a
/// shortlist no longer with the seller, is 409 `shortlist.error.closed`. Tells the company's
/// webhooks `shortlist.decided`.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/shortlist/entries/{entry_id}/decision",
    tag = "shortlist", request_body = DecisionForm,
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("entry_id" = Uuid, Path, description = "The shortlist entry"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409."),
    ),
    responses(
        (status = 200, description = "Decided", body = DecisionAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn decide_entry_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathIds(id, entry_id): PathIds,
    ApiJson(body): ApiJson<DecisionForm>,
) -> Response {
    let actor = api.actor.clone();
    let input = body.into_input(id, entry_id);
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, _| {
        Box::pin(async move { campaigns::decide_entry(tx, &actor, input).await })
    })
    .await;
    match done {
        Ok(decision) => Json(DecisionAnswer {
            entry_id,
            decision: decision.code().to_string(),
        })
        .into_response(),
        Err(refused) => refused,
    }
}

/// `POST /api/v1/campaigns/{id}/shortlist/another-round` (the seller's owner or operators):
/// sends the campaign back to matching for another round, as the shortlist page's button does;
/// the creators offered so far are never offered again. From a sent shortlist only (else 409
/// `campaign.transition_error.not_allowed_from`).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/shortlist/another-round", tag = "shortlist",
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409."),
    ),
    responses(
        (status = 200, description = "Back in matching", body = CampaignAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn another_round_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let input = RequestAnotherRound { campaign_id: id };
            campaigns::request_another_round(tx, &actor, input).await?;
            answer_of(tx, tenant.id, id).await
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

/// `POST /api/v1/campaigns/{id}/shortlist/approve` (the seller's owner or operators): goes
/// ahead with the approved creators, as the shortlist page's button does — the campaign moves on
/// to contracting. 409 `shortlist.error.none_approved` while none is approved.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/shortlist/approve", tag = "shortlist",
    params(
        ("id" = Uuid, Path, description = "The campaign"),
        ("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409."),
    ),
    responses(
        (status = 200, description = "On to contracting", body = CampaignAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn approve_shortlist_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    PathId(id): PathId,
) -> Response {
    let actor = api.actor.clone();
    let done = in_tenant(&state, &api, lang, Scope::Write, move |tx, tenant| {
        Box::pin(async move {
            let input = ApproveShortlist { campaign_id: id };
            campaigns::approve_shortlist(tx, &actor, input).await?;
            answer_of(tx, tenant.id, id).await
        })
    })
    .await;
    answer_json(StatusCode::OK, done)
}

// ---- The creator pool (agency staff)

/// A cell: text as the import file holds it; a number or true/false is read as its text.
fn cell<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cell {
        Text(String),
        Number(serde_json::Number),
        Flag(bool),
        Nothing(()),
    }
    Ok(match Cell::deserialize(d)? {
        Cell::Text(s) => s,
        Cell::Number(n) => n.to_string(),
        Cell::Flag(b) => b.to_string(),
        Cell::Nothing(()) => String::new(),
    })
}

/// A list cell: one text (the file's, e.g. `US,GB`) or a list of entries.
fn list_cell<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    crate::web::forms::one_or_many(d)
}

/// Audience shares: the file's text (`18-24:40%,25-34:35%`) or an object of shares
/// (`{"18-24": 0.4}` or `{"18-24": "40%"}`).
fn shares_cell<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Share {
        Text(String),
        Number(serde_json::Number),
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shares {
        Text(String),
        Map(std::collections::BTreeMap<String, Share>),
    }
    Ok(match Shares::deserialize(d)? {
        Shares::Text(s) => s,
        Shares::Map(m) => m
            .into_iter()
            .map(|(k, v)| match v {
                Share::Text(s) => format!("{k}:{s}"),
                Share::Number(n) => format!("{k}:{n}"),
            })
            .collect::<Vec<_>>()
            .join(","),
    })
}

/// One creator of the pool as a program sends it: the creator import's columns, named as the
/// file's canonical headers, each checked by the import's rules. A field left out (or empty)
/// keeps what the pool holds for an existing creator, as a blank cell of a file does.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreatorIn {
    /// The TikTok handle (with or without `@`); a creator with this handle is updated.
    #[serde(deserialize_with = "cell")]
    pub handle: String,
    #[serde(deserialize_with = "cell")]
    pub display_name: String,
    #[serde(deserialize_with = "cell")]
    pub profile_url: String,
    /// ISO 3166 alpha-2 (or the country's name, as the file takes it).
    #[serde(deserialize_with = "cell")]
    pub country: String,
    #[serde(deserialize_with = "list_cell")]
    pub markets: Vec<String>,
    #[serde(deserialize_with = "list_cell")]
    pub languages: Vec<String>,
    /// Required: a whole number (`12000`, `12K`, `1.2万`, as the file).
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String, example = "12000")]
    pub followers: String,
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String)]
    pub avg_views: String,
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String)]
    pub avg_likes: String,
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String)]
    pub avg_comments: String,
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String)]
    pub avg_shares: String,
    #[serde(deserialize_with = "list_cell")]
    pub categories: Vec<String>,
    #[serde(deserialize_with = "list_cell")]
    pub styles: Vec<String>,
    /// Shares by age bucket: `18-24:40%,25-34:35%`, or `{"18-24": 0.4, "25-34": "35%"}`.
    #[serde(deserialize_with = "shares_cell")]
    #[schema(value_type = String)]
    pub audience_age: String,
    /// Shares by gender (`female`, `male`), as `audience_age`.
    #[serde(deserialize_with = "shares_cell")]
    #[schema(value_type = String)]
    pub audience_gender: String,
    /// Shares by country (ISO 3166 alpha-2), as `audience_age`.
    #[serde(deserialize_with = "shares_cell")]
    #[schema(value_type = String)]
    pub audience_countries: String,
    /// An amount in `quote_currency` (required with a quote).
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String, example = "350.00")]
    pub quote_video: String,
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String, example = "800.00")]
    pub quote_live: String,
    #[serde(deserialize_with = "cell")]
    pub quote_currency: String,
    #[serde(deserialize_with = "cell")]
    pub mcn: String,
    #[serde(deserialize_with = "cell")]
    pub contact: String,
    /// 0 to 1, or a percent (`85%`).
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String)]
    pub sample_posting_rate: String,
    #[serde(deserialize_with = "cell")]
    pub violation_notes: String,
    /// `true`/`false` (or the file's yes/no words); absent: active.
    #[serde(deserialize_with = "cell")]
    #[schema(value_type = String)]
    pub active: String,
    /// Links to recent videos, newest first (at most 5).
    #[serde(deserialize_with = "list_cell")]
    pub recent_videos: Vec<String>,
}

impl CreatorIn {
    /// The row as the import's cells.
    fn cells(self) -> Vec<(&'static str, String)> {
        vec![
            ("handle", self.handle),
            ("display_name", self.display_name),
            ("profile_url", self.profile_url),
            ("country", self.country),
            ("markets", self.markets.join(",")),
            ("languages", self.languages.join(",")),
            ("followers", self.followers),
            ("avg_views", self.avg_views),
            ("avg_likes", self.avg_likes),
            ("avg_comments", self.avg_comments),
            ("avg_shares", self.avg_shares),
            ("categories", self.categories.join(",")),
            ("styles", self.styles.join(",")),
            ("audience_age", self.audience_age),
            ("audience_gender", self.audience_gender),
            ("audience_countries", self.audience_countries),
            ("quote_video", self.quote_video),
            ("quote_live", self.quote_live),
            ("quote_currency", self.quote_currency),
            ("mcn", self.mcn),
            ("contact", self.contact),
            ("sample_posting_rate", self.sample_posting_rate),
            ("violation_notes", self.violation_notes),
            ("active", self.active),
            ("recent_videos", self.recent_videos.join(" ")),
        ]
    }
}

/// A batch of the pool's creators.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatorBatch {
    /// 1 to 1,000 creators.
    pub creators: Vec<CreatorIn>,
}

/// What a batch did to the pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatorBatchAnswer {
    pub created: i32,
    pub updated: i32,
    /// Sent as the pool already held them: not written.
    pub unchanged: i32,
}

/// `POST /api/v1/creators/batch` (agency staff: the account manager's staff token, as the
/// creator import page is staff's): up to 1,000 creators of the pool created or updated by
/// handle, each checked by the creator import's rules — all of them or none, each problem named
/// by its row and column (`creators[3].followers`, with the import's message). The pool is the
/// platform's, not the company's the token names: the batch is written in the pool's own scope,
/// as the import page writes it, and audited under the token's person. A seller's token is 403.
#[utoipa::path(post, path = "/api/v1/creators/batch", tag = "creators", request_body = CreatorBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Any 1–255 visible ASCII characters; the first answer to a key is replayed, the same key with another body is refused (422), a duplicate arriving while the first runs gets 409.")),
    responses(
        (status = 200, description = "Every creator written (or already so)", body = CreatorBatchAnswer),
        WriteRefusals,
    ),
    security(("bearer" = [])))]
pub async fn creators_batch_api(
    State(state): State<AppState>,
    lang: Lang,
    ApiWriter(api): ApiWriter,
    ApiJson(body): ApiJson<CreatorBatch>,
) -> Response {
    // The import page's actor: the staff person, outside any company.
    let actor = Actor {
        tenant: None,
        ..api.actor.clone()
    };
    let input = UpsertCreators {
        rows: body.creators.into_iter().map(CreatorIn::cells).collect(),
    };
    let result = async {
        let mut tx = state.db.system_tx(SystemScope::CreatorPool).await?;
        let done = upsert_creator_batch(&mut tx, &actor, input).await;
        if done.is_ok() {
            tx.commit().await?;
        }
        Ok::<_, sqlx::Error>(done)
    }
    .await;
    match result {
        Ok(Ok(done)) => Json(CreatorBatchAnswer {
            created: done.created,
            updated: done.updated,
            unchanged: done.unchanged,
        })
        .into_response(),
        Ok(Err(e)) => problem_of(lang, e),
        Err(e) => problem_of(lang, DomainError::Database(e)),
    }
}
