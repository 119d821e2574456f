//! The rating page (UX.md): the scorecard as a form, one dimension per row — objective ones with
//! the numbers they came from, subjective ones with the five rubric levels as choices — the
//! deductions, the raters' submissions (blind until I submitted), and the forms to open, assign
//! raters, submit, correct and close with one. Each POST is one call of `ratings::actions`; a
//! refusal or a bad field shows the page again with the message (422).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{
    self, AssignRaters, AttachScorecardEvidence, CloseWithOne, CorrectSubmission, OpenRating,
    SubmitScorecard,
};
use super::domain::{self, CostBasis, Kind};
use super::repo;
use crate::error::{AppError, AppResult, DomainError};
use crate::evidence::actions::EvidenceUpload;
use crate::evidence::form::read_evidence_form;
use crate::fulfilment::domain::{Kind as EventKind, Severity};
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, parse_id, render_with};

pub struct LevelChoice {
    pub value: u8,
    pub text: String,
    pub checked: bool,
}

pub struct DimensionRow {
    pub code: String,
    pub field: String,
    pub label: String,
    pub weight: u32,
    pub objective: bool,
    /// Objective: the computed level and where it came from.
    pub level: String,
    /// Objective: the level as stored, for the page's script to total exactly as the server.
    pub level_exact: String,
    pub numbers: String,
    pub hint: Option<String>,
    pub choices: Vec<LevelChoice>,
}

pub struct SubmissionView {
    pub rater: String,
    pub version: i32,
    pub total: String,
    pub levels: Vec<(String, String)>,
    pub justification: String,
    pub comment: String,
    pub correction_reason: String,
    pub at: String,
    pub mine: bool,
    /// Evidence files: (upload id, file name).
    pub files: Vec<(Uuid, String)>,
}

pub struct RaterView {
    pub label: String,
    pub submitted: bool,
}

pub struct EligibleView {
    pub id: Uuid,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "ratings/show.html")]
struct RatingPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    creator: String,
    campaign: String,
    state_label: String,
    error: Option<String>,
    errors: FormErrors,
    /// The rating exists.
    opened: bool,
    completed: bool,
    window_final: bool,
    window_final_at: String,
    can_open: bool,
    can_override: bool,
    override_reason: String,
    facts: Vec<(String, String)>,
    current_quote_note: bool,
    rows: Vec<DimensionRow>,
    deductions: Vec<String>,
    raters: Vec<RaterView>,
    can_assign: bool,
    eligible: Vec<EligibleView>,
    i_am_rater: bool,
    i_submitted: bool,
    show_scores: bool,
    submissions: Vec<SubmissionView>,
    others_submitted: usize,
    can_close: bool,
    justification: String,
    comment: String,
    reason: String,
    running_total: String,
    outcome: Vec<(String, String)>,
    /// The scorecard version the rating uses (the one in force when it opened).
    template_version: i32,
}

/// What the form sent back when it is shown again.
#[derive(Default)]
struct Typed {
    levels: BTreeMap<String, String>,
    justification: String,
    comment: String,
    reason: String,
    override_reason: String,
}

/// A stored fulfilment kind's or severity's label (the code itself if it is not one we know).
fn fulfilment_label(lang: Lang, key: Option<&'static str>, code: Option<&str>) -> String {
    key.map_or_else(|| code.unwrap_or_default().to_string(), |k| lang.t(k))
}

fn number(d: Decimal) -> String {
    d.normalize().to_string()
}

async fn page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    id: Uuid,
    error: Option<DomainError>,
    typed: Typed,
) -> AppResult<Response> {
    let tenant = ctx.tenant.id;
    let collab = crate::contracts::repo::collaboration(&mut ctx.tx, tenant, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let rating = repo::rating_of_collaboration(&mut ctx.tx, tenant, id).await?;
    let user = ctx.user.id;
    let tz = ctx.tenant.time_zone.clone();
    let now = OffsetDateTime::now_utc();
    let posts = crate::tracking::posts::repo::posts_of(&mut ctx.tx, tenant, id).await?;
    let window = crate::tracking::windows::Window::from_code(
        &repo::evaluation_window(&mut ctx.tx, tenant).await?,
    )
    .unwrap_or(crate::tracking::windows::Window::D14);
    let last = posts.iter().map(|p| p.published_at).max();
    let window_final = crate::tracking::windows::evaluation_final(
        window,
        posts.iter().map(|p| p.published_at),
        now,
    );
    let is_owner = ctx.access == Access::Owner;
    let may_rate = matches!(
        ctx.access,
        Access::Owner | Access::Operator | Access::AccountManager
    );
    let (mut errors, mut message) = (FormErrors::none(), None);
    match &error {
        Some(DomainError::Invalid(keys)) => errors = FormErrors::new(lang, keys),
        Some(DomainError::Refused(key)) => message = Some(lang.t(key)),
        _ => {}
    }
    if !errors.is_empty() && message.is_none() {
        message = Some(lang.t("rating.error.summary"));
    }
    let code = lang.code();
    let mut view = RatingPage {
        layout: Layout::for_user(
            state,
            session,
            lang,
            &ctx.user,
            Some((&ctx.tenant, ctx.access)),
            "rating.title",
            &format!("/t/{}/campaigns", ctx.tenant.slug),
        )
        .await?,
        slug: ctx.tenant.slug.clone(),
        id,
        creator: format!("@{} · {}", collab.handle, collab.display_name),
        campaign: format!(
            "{} {}",
            collab.campaign_code.clone().unwrap_or_default(),
            collab.campaign_title
        ),
        state_label: lang.t(collab.state.label_key()),
        error: message,
        errors,
        opened: rating.is_some(),
        completed: false,
        window_final,
        window_final_at: last
            .map(|l| fmt::datetime(window.boundary(l), &tz))
            .unwrap_or_else(|| "—".into()),
        can_open: rating.is_none() && may_rate && !posts.is_empty(),
        can_override: rating.is_none() && is_owner && !window_final && !posts.is_empty(),
        override_reason: typed.override_reason.clone(),
        facts: Vec::new(),
        current_quote_note: false,
        rows: Vec::new(),
        deductions: Vec::new(),
        raters: Vec::new(),
        can_assign: false,
        eligible: Vec::new(),
        i_am_rater: false,
        i_submitted: false,
        show_scores: false,
        submissions: Vec::new(),
        others_submitted: 0,
        can_close: false,
        justification: typed.justification.clone(),
        comment: typed.comment.clone(),
        reason: typed.reason.clone(),
        running_total: String::new(),
        outcome: Vec::new(),
        template_version: 0,
    };
    if let Some(rating) = rating {
        let template = actions::template_of_rating(&mut ctx.tx, tenant, &rating).await?;
        view.template_version = template.version;
        let raters = repo::raters(&mut ctx.tx, tenant, rating.id).await?;
        let subs = repo::current_submissions(&mut ctx.tx, tenant, rating.id).await?;
        let eligible = if matches!(ctx.access, Access::Owner | Access::Operator) {
            repo::eligible_raters(&mut ctx.tx, tenant).await?
        } else {
            Vec::new()
        };
        let completed = rating.state == "completed";
        let i_submitted = subs.iter().any(|s| s.rater_id == user);
        view.completed = completed;
        view.i_am_rater = raters.iter().any(|r| r.user_id == user);
        view.i_submitted = i_submitted;
        // Blind: a rater sees the others' scores once they submitted; everyone once it is complete.
        view.show_scores = i_submitted || completed;
        view.others_submitted = subs.iter().filter(|s| s.rater_id != user).count();
        view.can_assign = !completed && matches!(ctx.access, Access::Owner | Access::Operator);
        view.can_close = !completed && is_owner && subs.len() == 1;
        let cur = rating.currency.clone();
        let basis = CostBasis::parse(&rating.cost_basis).unwrap_or(CostBasis::Fixed);
        view.current_quote_note = basis == CostBasis::NotionalCurrent;
        view.facts = vec![
            (
                lang.t("rating.fact.net_gmv"),
                fmt::money(rating.net_gmv, &cur),
            ),
            (lang.t("rating.fact.cost"), fmt::money(rating.cost, &cur)),
            (lang.t("rating.fact.cost_basis"), lang.t(basis.label_key())),
            (lang.t("rating.fact.roi_target"), number(rating.roi_target)),
            (
                lang.t("rating.fact.r"),
                number(rating.roi_ratio.round_dp(3)),
            ),
            (
                lang.t("rating.fact.window_final_at"),
                view.window_final_at.clone(),
            ),
            (
                lang.t("rating.fact.opened"),
                format!(
                    "{} · {}",
                    fmt::datetime(rating.opened_at, &tz),
                    rating.opened_by_label
                ),
            ),
        ];
        if rating.inputs["converted"].as_bool() == Some(true) {
            view.facts
                .push((lang.t("rating.fact.converted"), lang.t("rating.converted")));
        }
        if let Some(reason) = &rating.override_reason {
            view.facts
                .push((lang.t("rating.fact.override_reason"), reason.clone()));
        }
        let objective: BTreeMap<String, f64> =
            serde_json::from_value(rating.inputs["levels"].clone()).unwrap_or_default();
        let deducted = rating.inputs["deducted"]
            .as_str()
            .unwrap_or("0")
            .to_string();
        view.deductions = rating.inputs["deductions"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|d| {
                        format!(
                            "{} · {} · −{} {}",
                            fulfilment_label(
                                lang,
                                d["kind"]
                                    .as_str()
                                    .and_then(EventKind::parse)
                                    .map(EventKind::label_key),
                                d["kind"].as_str()
                            ),
                            fulfilment_label(
                                lang,
                                d["severity"]
                                    .as_str()
                                    .and_then(Severity::parse)
                                    .map(Severity::label_key),
                                d["severity"].as_str()
                            ),
                            d["points"].as_str().unwrap_or("0"),
                            d["note"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mine = subs.iter().find(|s| s.rater_id == user);
        let mine_levels: BTreeMap<String, f64> = mine
            .and_then(|s| serde_json::from_value(s.levels.clone()).ok())
            .unwrap_or_default();
        let mut typed_numeric = objective.clone();
        for d in &template.dimensions {
            let field = domain::level_field(&d.code);
            let chosen: Option<u8> = typed
                .levels
                .get(&d.code)
                .and_then(|v| v.parse().ok())
                .or_else(|| mine_levels.get(&d.code).map(|l| *l as u8));
            if let Some(l) = chosen.filter(|l| (1..=5).contains(l)) {
                typed_numeric.insert(d.code.clone(), f64::from(l));
            }
            let row = match d.kind {
                Kind::Objective => DimensionRow {
                    code: d.code.clone(),
                    field,
                    label: d.label.get(code).clone(),
                    weight: d.weight,
                    objective: true,
                    level: format!("{:.2}", objective.get(&d.code).copied().unwrap_or(1.0)),
                    level_exact: objective.get(&d.code).copied().unwrap_or(1.0).to_string(),
                    numbers: match d.formula {
                        Some(domain::Formula::Conversion) => lang.t_with(
                            "rating.numbers.conversion",
                            &[
                                ("net_gmv", &fmt::money(rating.net_gmv, &cur)),
                                ("cost", &fmt::money(rating.cost, &cur)),
                                ("target", &number(rating.roi_target)),
                                ("r", &number(rating.roi_ratio.round_dp(3))),
                            ],
                        ),
                        _ => lang.t_with("rating.numbers.fulfilment", &[("points", &deducted)]),
                    },
                    hint: None,
                    choices: Vec::new(),
                },
                Kind::Subjective => DimensionRow {
                    code: d.code.clone(),
                    field,
                    label: d.label.get(code).clone(),
                    weight: d.weight,
                    objective: false,
                    level: String::new(),
                    level_exact: String::new(),
                    numbers: String::new(),
                    hint: d.hint.as_ref().map(|h| lang.t(&format!("rating.hint.{h}"))),
                    choices: d
                        .rubric
                        .as_ref()
                        .map(|r| r.get(code).clone())
                        .unwrap_or_default()
                        .into_iter()
                        .enumerate()
                        .map(|(i, text)| LevelChoice {
                            value: i as u8 + 1,
                            text,
                            checked: chosen == Some(i as u8 + 1),
                        })
                        .collect(),
                },
            };
            view.rows.push(row);
        }
        view.running_total = format!("{:.2}", domain::total(&template.dimensions, &typed_numeric));
        view.raters = raters
            .iter()
            .map(|r| RaterView {
                label: r.label.clone(),
                submitted: subs.iter().any(|s| s.rater_id == r.user_id),
            })
            .collect();
        view.eligible = eligible
            .into_iter()
            .map(|e| EligibleView {
                checked: raters.iter().any(|r| r.user_id == e.user_id),
                label: format!("{} · {}", e.label, lang.t(&format!("role.{}", e.role))),
                id: e.user_id,
            })
            .collect();
        if view.show_scores {
            let files = repo::submission_files(&mut ctx.tx, tenant, rating.id).await?;
            view.submissions = subs
                .iter()
                .map(|s| {
                    let levels: BTreeMap<String, f64> =
                        serde_json::from_value(s.levels.clone()).unwrap_or_default();
                    SubmissionView {
                        rater: s.rater_label.clone(),
                        version: s.version,
                        total: number(s.total),
                        levels: template
                            .dimensions
                            .iter()
                            .map(|d| {
                                (
                                    d.label.get(code).clone(),
                                    format!("{:.2}", levels.get(&d.code).copied().unwrap_or(1.0)),
                                )
                            })
                            .collect(),
                        justification: s.justification.clone().unwrap_or_default(),
                        comment: s.comment.clone(),
                        correction_reason: s.correction_reason.clone().unwrap_or_default(),
                        at: fmt::datetime(s.submitted_at, &tz),
                        mine: s.rater_id == user,
                        files: files
                            .iter()
                            .filter(|f| f.rater_id == s.rater_id)
                            .map(|f| (f.upload_id, f.filename.clone()))
                            .collect(),
                    }
                })
                .collect();
        }
        if completed {
            view.outcome = [
                ("rating.raw_score", rating.raw_score),
                ("rating.final_score", rating.final_score),
                ("rating.calibrated_score", rating.calibrated_score),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (lang.t(k), number(v))))
            .collect();
            if rating.closed_with_one {
                view.outcome
                    .push((lang.t("rating.closed_with_one"), lang.t("rating.yes")));
            }
        }
    }
    ctx.tx.commit().await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(status, &view)
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let id = parse_id(&id)?;
    page(&state, &session, lang, ctx, id, None, Typed::default()).await
}

/// After an action: commit and go back to the page, or show it again with the message.
async fn after(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    id: Uuid,
    result: Result<&'static str, DomainError>,
    typed: Typed,
) -> AppResult<Response> {
    match result {
        Ok(flash_key) => {
            let slug = ctx.tenant.slug.clone();
            ctx.tx.commit().await?;
            flash(session, "ok", flash_key).await?;
            Ok(Redirect::to(&format!("/t/{slug}/collaborations/{id}/rating")).into_response())
        }
        Err(e @ (DomainError::Invalid(_) | DomainError::Refused(_))) => {
            let ctx = ctx.reopen(&state.db).await?;
            page(state, session, lang, ctx, id, Some(e), typed).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpenForm {
    pub override_reason: String,
}

pub async fn open(
    State(state): State<AppState>,
    (session, lang): (Session, Lang),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<OpenForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let input = OpenRating {
        collaboration_id: id,
        override_reason: form.override_reason.clone(),
        now: OffsetDateTime::now_utc(),
    };
    let result = actions::open_rating(&mut ctx.tx, &ctx.actor, input)
        .await
        .map(|_| "rating.flash.opened");
    let typed = Typed {
        override_reason: form.override_reason,
        ..Typed::default()
    };
    after(&state, &session, lang, ctx, id, result, typed).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RatersForm {
    pub rater: Vec<String>,
}

pub async fn raters(
    State(state): State<AppState>,
    (session, lang): (Session, Lang),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<RatersForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut user_ids = Vec::new();
    for raw in &form.rater {
        match raw.trim().parse::<Uuid>() {
            Ok(u) => user_ids.push(u),
            // Not a person: the same message as a stranger.
            Err(_) => user_ids.push(Uuid::nil()),
        }
    }
    let result = actions::assign_raters(
        &mut ctx.tx,
        &ctx.actor,
        AssignRaters {
            collaboration_id: id,
            user_ids,
        },
    )
    .await
    .map(|_| "rating.flash.raters");
    after(&state, &session, lang, ctx, id, result, Typed::default()).await
}

/// The scorecard form: `level_<code>` per subjective dimension, justification, comment, and
/// (for a correction) reason.
fn scorecard_of(form: &BTreeMap<String, String>, id: Uuid) -> SubmitScorecard {
    SubmitScorecard {
        collaboration_id: id,
        levels: form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("level_").map(|c| (c.to_string(), v.clone())))
            .collect(),
        justification: form.get("justification").cloned().unwrap_or_default(),
        comment: form.get("comment").cloned().unwrap_or_default(),
    }
}

fn typed_of(s: &SubmitScorecard, reason: String) -> Typed {
    Typed {
        levels: s.levels.clone(),
        justification: s.justification.clone(),
        comment: s.comment.clone(),
        reason,
        override_reason: String::new(),
    }
}

/// A scorecard as posted: multipart with evidence files (the page's form), or urlencoded
/// without files (a script, an old page).
struct PostedScorecard {
    fields: BTreeMap<String, String>,
    files: Vec<EvidenceUpload>,
    files_error: Option<&'static str>,
}

async fn posted_scorecard(state: &AppState, request: Request) -> AppResult<PostedScorecard> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let Ok(body) = Multipart::from_request(request, state).await else {
            return Ok(PostedScorecard {
                fields: BTreeMap::new(),
                files: Vec::new(),
                files_error: Some("evidence.error.upload_broken"),
            });
        };
        let form = read_evidence_form(body, "evidence").await;
        Ok(PostedScorecard {
            fields: form.fields.into_iter().collect(),
            files: form.files,
            files_error: form.files_error,
        })
    } else {
        let Form(fields) = Form::<BTreeMap<String, String>>::from_request(request, state).await?;
        Ok(PostedScorecard {
            fields,
            files: Vec::new(),
            files_error: None,
        })
    }
}

/// The files checked first (nothing is stored when one is refused), then the scorecard, then
/// the files kept beside it — all in the page's transaction.
async fn with_evidence<T>(
    state: &AppState,
    ctx: &mut TenantCtx,
    id: Uuid,
    posted: PostedScorecard,
    scorecard: impl AsyncFnOnce(&mut TenantCtx) -> Result<T, DomainError>,
) -> Result<T, DomainError> {
    if let Some(key) = posted.files_error {
        return Err(DomainError::field("evidence", key));
    }
    actions::check_scorecard_evidence(&posted.files)?;
    let done = scorecard(ctx).await?;
    actions::attach_scorecard_evidence(
        &mut ctx.tx,
        &state.storage,
        &ctx.actor,
        AttachScorecardEvidence {
            collaboration_id: id,
            files: posted.files,
        },
    )
    .await?;
    Ok(done)
}

pub async fn submit(
    State(state): State<AppState>,
    (session, lang): (Session, Lang),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    request: Request,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let posted = posted_scorecard(&state, request).await?;
    let input = scorecard_of(&posted.fields, id);
    let typed = typed_of(&input, String::new());
    let result = with_evidence(&state, &mut ctx, id, posted, async |ctx: &mut TenantCtx| {
        actions::submit_scorecard(&mut ctx.tx, &ctx.actor, input).await
    })
    .await
    .map(|s| {
        if s.completed {
            "rating.flash.completed"
        } else {
            "rating.flash.submitted"
        }
    });
    after(&state, &session, lang, ctx, id, result, typed).await
}

pub async fn correct(
    State(state): State<AppState>,
    (session, lang): (Session, Lang),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    request: Request,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let posted = posted_scorecard(&state, request).await?;
    let scorecard = scorecard_of(&posted.fields, id);
    let reason = posted.fields.get("reason").cloned().unwrap_or_default();
    let typed = typed_of(&scorecard, reason.clone());
    let result = with_evidence(&state, &mut ctx, id, posted, async |ctx: &mut TenantCtx| {
        actions::correct_submission(
            &mut ctx.tx,
            &ctx.actor,
            CorrectSubmission { scorecard, reason },
        )
        .await
    })
    .await
    .map(|_| "rating.flash.corrected");
    after(&state, &session, lang, ctx, id, result, typed).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CloseForm {
    pub reason: String,
}

pub async fn close(
    State(state): State<AppState>,
    (session, lang): (Session, Lang),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<CloseForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let result = actions::close_with_one_rater(
        &mut ctx.tx,
        &ctx.actor,
        CloseWithOne {
            collaboration_id: id,
            reason: form.reason.clone(),
        },
    )
    .await
    .map(|_| "rating.flash.completed");
    let typed = Typed {
        reason: form.reason,
        ..Typed::default()
    };
    after(&state, &session, lang, ctx, id, result, typed).await
}
