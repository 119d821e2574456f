//! A rating's changes (SPEC §7), each `(tx, &Actor, input)`, audited: the template in force,
//! opening a rating (the inputs frozen), assigning raters, a rater's blind scorecard, closing
//! with one rater, a rater's correction, and the completion both paths share (calibration, the
//! collaboration to rated, the campaign to closed when it was the last, the creator's tier).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{self, CostBasis, Dimension};
use super::repo::{self, NewRating, NewSubmission, Outcome, RatingRow};
use crate::audit;
use crate::auth::Actor;
use crate::campaigns::actions::record_system_event;
use crate::campaigns::domain::{Campaign, CampaignState, Transition};
use crate::contracts::actions::{TransitionCollaboration, transition_collaboration};
use crate::contracts::domain::{ContractEvent, ContractState, Terms};
use crate::error::{DomainError, DomainResult};
use crate::evidence::actions::{EvidenceUpload, check_evidence, store_evidence};
use crate::evidence::form::MAX_EVIDENCE_FILES;
use crate::kernel::FieldErrors;
use crate::kernel::text::{self, TextRule};
use crate::matching::repo::ReferenceRates;
use crate::storage::Storage;
use crate::tenants::Access;
use crate::tiers::actions::{TierCause, refresh_creator};
use crate::tracking::kpis::domain::{self as kpi, KpiInput};
use crate::tracking::kpis::figures;
use crate::tracking::windows::{self, Window};

/// Two raters are asked for; a rating completes when two have submitted.
pub const RATERS_WANTED: usize = 2;

/// The template version in force: version 1 (the SPEC default) is stored on first use.
pub struct CurrentTemplate {
    pub id: Uuid,
    pub version: i32,
    pub dimensions: Vec<Dimension>,
}

pub async fn current_template(
    tx: &mut PgConnection,
    tenant: Uuid,
) -> DomainResult<CurrentTemplate> {
    if repo::latest_template(tx, tenant).await?.is_none() {
        let dims = domain::default_template();
        domain::validate_template(&dims).map_err(|e| DomainError::Internal(e.into()))?;
        repo::insert_first_template(tx, tenant, Uuid::now_v7(), &json!(dims)).await?;
    }
    let row = repo::latest_template(tx, tenant)
        .await?
        .ok_or(DomainError::NotFound)?;
    template_of(row)
}

fn template_of(row: repo::TemplateRow) -> DomainResult<CurrentTemplate> {
    let dimensions: Vec<Dimension> = serde_json::from_value(row.dimensions)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("bad scorecard template: {e}")))?;
    Ok(CurrentTemplate {
        id: row.id,
        version: row.version,
        dimensions,
    })
}

/// The template a rating uses (the version current when it opened).
pub async fn template_of_rating(
    tx: &mut PgConnection,
    tenant: Uuid,
    rating: &RatingRow,
) -> DomainResult<CurrentTemplate> {
    template_of(
        repo::template(tx, tenant, rating.template_id)
            .await?
            .ok_or(DomainError::NotFound)?,
    )
}

/// A new version of the tenant's scorecard template, from the editor (owner).
#[derive(Debug, Clone)]
pub struct NewTemplateVersion {
    /// The version the form was made from: a version made meanwhile refuses this one.
    pub based_on: i32,
    pub rows: Vec<domain::DraftRow>,
}

/// Adds a version of the template (issue 15): checked by `domain::check_draft`, each problem
/// its field's; nothing is stored unless all is well. Ratings opened from now on use it; a
/// rating keeps the version it opened with (versions are never changed). Returns the number.
pub async fn create_template_version(
    tx: &mut PgConnection,
    actor: &Actor,
    input: NewTemplateVersion,
) -> DomainResult<i32> {
    let tenant = actor.tenant_id()?;
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    let current = current_template(tx, tenant).await?;
    let dims = domain::check_draft(&input.rows).map_err(DomainError::Invalid)?;
    if input.based_on != current.version {
        return Err(DomainError::field("dimensions", "scorecard.error.stale"));
    }
    if dims == current.dimensions {
        return Err(DomainError::field(
            "dimensions",
            domain::E_TEMPLATE_UNCHANGED,
        ));
    }
    let version = current.version + 1;
    if !repo::insert_template_version(tx, tenant, (version, &json!(dims)), actor.user_id).await? {
        return Err(DomainError::field("dimensions", "scorecard.error.stale"));
    }
    let changes = domain::diff(&current.dimensions, &dims).len();
    audit::record(
        tx,
        actor
            .audit("scorecard.version", "scorecard_template", version)
            .before(json!({ "version": current.version }))
            .after(json!({ "version": version, "dimensions": dims, "changes": changes })),
    )
    .await?;
    Ok(version)
}

#[derive(Debug, Clone)]
pub struct OpenRating {
    pub collaboration_id: Uuid,
    /// Required to open before the evaluation window is final (owner only).
    pub override_reason: String,
    pub now: OffsetDateTime,
}

/// Opens the collaboration's rating and freezes its inputs (SPEC §7).
pub async fn open_rating(
    tx: &mut PgConnection,
    actor: &Actor,
    input: OpenRating,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant()?.clone();
    let facts = repo::collab_facts(tx, tenant.id, input.collaboration_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])?;
    actor.require_active()?;
    let is_owner = actor.access() == Some(Access::Owner) && actor.user_id.is_some();
    let reason = text::check(&input.override_reason, TextRule::NOTE)
        .map_err(|k| DomainError::field("override_reason", k))?;
    if repo::rating_of_collaboration(tx, tenant.id, facts.id)
        .await?
        .is_some()
    {
        return Err(DomainError::Refused("rating.error.exists"));
    }
    let posts = crate::tracking::posts::repo::posts_of(tx, tenant.id, facts.id).await?;
    let published: Vec<OffsetDateTime> = posts.iter().map(|p| p.published_at).collect();
    let window =
        Window::from_code(&repo::evaluation_window(tx, tenant.id).await?).unwrap_or(Window::D14);
    let is_final = windows::evaluation_final(window, published.iter().copied(), input.now);
    let state_ok = match facts.state {
        ContractState::Tracking | ContractState::Evaluating => true,
        ContractState::Published => !is_final,
        _ => false,
    };
    if !state_ok || published.is_empty() {
        return Err(DomainError::Refused("rating.error.not_ratable"));
    }
    let override_reason = if is_final {
        None
    } else if !is_owner {
        return Err(DomainError::Refused("rating.error.window_not_final"));
    } else if reason.is_empty() {
        return Err(DomainError::field(
            "override_reason",
            "rating.error.override_reason_required",
        ));
    } else {
        Some(reason)
    };
    let campaign: Campaign =
        serde_json::from_value(facts.campaign_data.clone()).unwrap_or_default();
    let roi_target = campaign
        .roi_target
        .filter(|t| *t > Decimal::ZERO)
        .ok_or(DomainError::Refused("rating.error.no_roi_target"))?;
    let currency = figures::report_currency(
        &campaign,
        facts.shop_currency.as_deref(),
        &tenant.settlement_currency,
    );
    let last = published.iter().copied().max().unwrap_or(input.now);
    let boundary = window.boundary(last);
    let terms: Terms = serde_json::from_value(facts.terms.clone())
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("bad terms: {e}")))?;
    let frozen_quote = facts.terms.get("creator_quote").filter(|q| !q.is_null());
    let orders =
        crate::tracking::kpis::repo::order_totals_until(tx, tenant.id, facts.id, boundary).await?;
    let mut kpi_input = KpiInput::default();
    for o in &orders {
        kpi_input.orders = kpi_input.orders.saturating_add(o.orders);
        kpi_input.gmv.add(o.gmv, &o.currency);
        if !o.refunds.is_zero() {
            kpi_input.refunds.add(o.refunds, &o.currency);
        }
    }
    figures::add_costs(
        &mut kpi_input,
        &terms,
        posts.len() as i64,
        facts.sample_shipped,
    );
    let (basis, notional) = if terms.fee_model.has_fixed_fee() {
        (CostBasis::Fixed, None)
    } else {
        let (video, live, quote_currency, basis) = match frozen_quote {
            Some(q) => (
                q.get("video")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok()),
                q.get("live")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok()),
                q.get("currency")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                CostBasis::NotionalFrozen,
            ),
            None => (
                facts.quote_video,
                facts.quote_live,
                facts.quote_currency.clone(),
                CostBasis::NotionalCurrent,
            ),
        };
        let fee = domain::notional_fee(terms.videos, terms.live_sessions, video, live);
        let qc = quote_currency.unwrap_or_else(|| currency.clone());
        if !fee.is_zero() {
            kpi_input.fixed_fee.add(fee, &qc);
        }
        (basis, Some((fee, qc)))
    };
    let rates = ReferenceRates::load(tx).await?;
    let kpis = kpi::compute(&kpi_input, &currency, &rates);
    let net_gmv = kpis.net_gmv.value.max(Decimal::ZERO).round_dp(2);
    let cost = kpis.cost.value.max(Decimal::ZERO).round_dp(2);
    let r = domain::roi_ratio(net_gmv, roi_target, cost);
    let deductions = repo::counting_deductions(tx, tenant.id, facts.id).await?;
    let deducted: Decimal = deductions.iter().map(|d| d.points).sum();
    let template = current_template(tx, tenant.id).await?;
    let levels = domain::objective_levels(&template.dimensions, r, deducted);
    let inputs = json!({
        "levels": levels,
        "window": window.code(),
        "boundary": boundary.unix_timestamp(),
        "orders": kpi_input.orders,
        "gmv": kpis.gmv.value.round_dp(2),
        "refunds": kpis.refunds.value.round_dp(2),
        "fixed_fee": kpi_input.fixed_fee.in_currency(&currency, &rates).value.round_dp(2),
        "commission": kpi_input.commission.in_currency(&currency, &rates).value.round_dp(2),
        "service_fee": kpi_input.service_fee.in_currency(&currency, &rates).value.round_dp(2),
        "sample": kpi_input.sample_cost.in_currency(&currency, &rates).value
            .saturating_add(kpi_input.shipping.in_currency(&currency, &rates).value).round_dp(2),
        "other_costs": kpi_input.other_costs.in_currency(&currency, &rates).value.round_dp(2),
        "notional_fee": notional.as_ref().map(|(fee, c)| json!({"amount": fee, "currency": c})),
        "converted": kpis.net_gmv.converted || kpis.cost.converted,
        "incomplete": kpis.net_gmv.incomplete || kpis.cost.incomplete,
        "deducted": deducted,
        "deductions": deductions.iter().map(|d| json!({
            "kind": d.kind, "severity": d.severity, "points": d.points, "note": d.note,
        })).collect::<Vec<_>>(),
    });
    let id = Uuid::now_v7();
    repo::insert_rating(
        tx,
        tenant.id,
        &NewRating {
            id,
            collaboration_id: facts.id,
            creator_id: facts.creator_id,
            campaign_id: facts.campaign_id,
            template_id: template.id,
            opened_by: actor.user_id,
            opened_by_label: &actor.label,
            override_reason,
            window_final_at: Some(boundary),
            d14_final_at: Some(Window::D14.boundary(last)),
            age_from: last,
            currency: &currency,
            net_gmv,
            cost,
            roi_target,
            roi_ratio: r,
            cost_basis: basis.code(),
            inputs: inputs.clone(),
        },
    )
    .await
    .map_err(|e| match crate::db::unique_violation(&e) {
        Some(_) => DomainError::Refused("rating.error.exists"),
        None => DomainError::Database(e),
    })?;
    let mut after = json!({
        "collaboration": facts.id, "template_version": template.version, "net_gmv": net_gmv,
        "cost": cost, "cost_basis": basis.code(), "r": r, "levels": inputs["levels"],
    });
    if let Some(reason) = override_reason {
        after["override_reason"] = json!(reason);
    }
    audit::record(tx, actor.audit("rating.open", "rating", id).after(after)).await?;
    crate::webhooks::actions::enqueue(
        tx,
        tenant.id,
        crate::webhooks::actions::Event::RatingDue {
            rating_id: id,
            collaboration_id: facts.id,
        },
    )
    .await?;
    Ok(id)
}

#[derive(Debug, Clone)]
pub struct AssignRaters {
    pub collaboration_id: Uuid,
    pub user_ids: Vec<Uuid>,
}

/// The owner or an operator asks people to rate: the tenant's owners, operators and assigned
/// account managers (not viewers, not strangers: the field `raters`).
pub async fn assign_raters(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AssignRaters,
) -> DomainResult<usize> {
    let tenant = actor.tenant_id()?;
    let rating = repo::rating_for_update(tx, tenant, input.collaboration_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::Owner, Access::Operator])?;
    actor.require_active()?;
    if rating.state != "open" {
        return Err(DomainError::Refused("rating.error.closed"));
    }
    if input.user_ids.is_empty() {
        return Err(DomainError::field("raters", "rating.error.no_raters"));
    }
    let eligible = repo::eligible_raters(tx, tenant).await?;
    if input
        .user_ids
        .iter()
        .any(|u| !eligible.iter().any(|e| e.user_id == *u))
    {
        return Err(DomainError::field("raters", "rating.error.not_eligible"));
    }
    let mut added = 0;
    for user in &input.user_ids {
        if repo::add_rater(tx, tenant, rating.id, *user, actor.user_id).await? {
            added += 1;
        }
    }
    audit::record(
        tx,
        actor
            .audit("rating.assign_raters", "rating", rating.id)
            .after(json!({ "raters": input.user_ids })),
    )
    .await?;
    Ok(added)
}

/// A rater's scorecard as typed.
#[derive(Debug, Clone, Default)]
pub struct SubmitScorecard {
    pub collaboration_id: Uuid,
    /// Subjective dimension code → the level as typed.
    pub levels: BTreeMap<String, String>,
    pub justification: String,
    pub comment: String,
}

/// What a submission led to.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub submission_id: Uuid,
    pub total: Decimal,
    /// The rating completed with it.
    pub completed: bool,
}

/// The checked scorecard: every dimension's level, its total and the texts.
struct Checked {
    levels: BTreeMap<String, f64>,
    total: Decimal,
    justification: Option<String>,
    comment: String,
}

fn check_scorecard(
    dims: &[Dimension],
    rating: &RatingRow,
    input: &SubmitScorecard,
    extra: &[(&str, &str)],
) -> DomainResult<Checked> {
    let mut errors: FieldErrors = FieldErrors::new();
    let parsed = domain::parse_levels(dims, &input.levels);
    if let Err(e) = &parsed {
        errors.extend(e.iter().map(|(k, v)| (k.clone(), *v)));
    }
    let mut texts = vec![
        (
            "justification",
            input.justification.as_str(),
            TextRule::NOTE,
        ),
        ("comment", input.comment.as_str(), TextRule::NOTE),
    ];
    texts.extend(extra.iter().map(|(f, v)| (*f, *v, TextRule::NOTE)));
    text::fields(&mut errors, &texts);
    let justification = input.justification.trim();
    if let Ok(levels) = &parsed
        && domain::all_top(dims, levels)
        && justification.is_empty()
    {
        errors.insert(
            "justification".into(),
            "rating.error.justification_required",
        );
    }
    for (field, value) in extra {
        if value.trim().is_empty() {
            errors
                .entry((*field).to_string())
                .or_insert("rating.error.reason_required");
        }
    }
    let subjective = match parsed {
        Ok(levels) if errors.is_empty() => levels,
        _ => return Err(DomainError::Invalid(errors)),
    };
    let objective: BTreeMap<String, f64> =
        serde_json::from_value(rating.inputs["levels"].clone()).unwrap_or_default();
    let levels = domain::all_levels(&objective, &subjective);
    let total = domain::stored(domain::total(dims, &levels));
    Ok(Checked {
        levels,
        total,
        justification: (!justification.is_empty()).then(|| justification.to_string()),
        comment: input.comment.trim().to_string(),
    })
}

/// Who may act on a rating as a rater: an assigned person, in an active tenant.
async fn rater_of(
    tx: &mut PgConnection,
    actor: &Actor,
    collaboration: Uuid,
) -> DomainResult<(RatingRow, Uuid)> {
    let tenant = actor.tenant_id()?;
    let rating = repo::rating_for_update(tx, tenant, collaboration)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])?;
    actor.require_active()?;
    let user = actor.user_id.ok_or(DomainError::Forbidden)?;
    let raters = repo::raters(tx, tenant, rating.id).await?;
    if !raters.iter().any(|r| r.user_id == user) {
        return Err(DomainError::Refused("rating.error.not_a_rater"));
    }
    Ok((rating, user))
}

/// An assigned rater submits once (blind). The second submission completes the rating.
pub async fn submit_scorecard(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SubmitScorecard,
) -> DomainResult<Submitted> {
    let tenant = actor.tenant_id()?;
    let (rating, user) = rater_of(tx, actor, input.collaboration_id).await?;
    if rating.state != "open" {
        return Err(DomainError::Refused("rating.error.closed"));
    }
    let current = repo::current_submissions(tx, tenant, rating.id).await?;
    if current.iter().any(|s| s.rater_id == user) {
        return Err(DomainError::Refused("rating.error.already_submitted"));
    }
    let template = template_of_rating(tx, tenant, &rating).await?;
    let checked = check_scorecard(&template.dimensions, &rating, &input, &[])?;
    let id = Uuid::now_v7();
    repo::insert_submission(
        tx,
        tenant,
        &NewSubmission {
            id,
            rating_id: rating.id,
            rater_id: user,
            rater_label: &actor.label,
            version: 1,
            corrects: None,
            correction_reason: None,
            levels: json!(checked.levels),
            total: checked.total,
            justification: checked.justification.as_deref(),
            comment: &checked.comment,
        },
    )
    .await
    .map_err(|e| match crate::db::unique_violation(&e) {
        Some(_) => DomainError::Refused("rating.error.already_submitted"),
        None => DomainError::Database(e),
    })?;
    audit::record(
        tx,
        actor
            .audit("rating.submit", "rating", rating.id)
            .after(json!({ "submission": id, "levels": checked.levels, "total": checked.total })),
    )
    .await?;
    let completed = current.len() + 1 >= RATERS_WANTED;
    if completed {
        complete(tx, actor, &rating, false).await?;
    }
    Ok(Submitted {
        submission_id: id,
        total: checked.total,
        completed,
    })
}

#[derive(Debug, Clone)]
pub struct CloseWithOne {
    pub collaboration_id: Uuid,
    pub reason: String,
}

/// The owner completes a rating that has exactly one submission; the calibrated score counts.
pub async fn close_with_one_rater(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CloseWithOne,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    let rating = repo::rating_for_update(tx, tenant, input.collaboration_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    let reason =
        text::check(&input.reason, TextRule::NOTE).map_err(|k| DomainError::field("reason", k))?;
    if reason.is_empty() {
        return Err(DomainError::field("reason", "rating.error.reason_required"));
    }
    if rating.state != "open" {
        return Err(DomainError::Refused("rating.error.closed"));
    }
    if repo::current_submissions(tx, tenant, rating.id)
        .await?
        .len()
        != 1
    {
        return Err(DomainError::Refused("rating.error.needs_one_submission"));
    }
    audit::record(
        tx,
        actor
            .audit("rating.close_with_one", "rating", rating.id)
            .after(json!({ "reason": reason })),
    )
    .await?;
    complete(tx, actor, &rating, true).await
}

#[derive(Debug, Clone, Default)]
pub struct CorrectSubmission {
    pub scorecard: SubmitScorecard,
    pub reason: String,
}

/// The same rater, after submitting, corrects their scorecard: a new version with a reason.
/// After completion the rating's score follows (calibration stays) and the tier is refreshed.
pub async fn correct_submission(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CorrectSubmission,
) -> DomainResult<Submitted> {
    let tenant = actor.tenant_id()?;
    let (rating, user) = rater_of(tx, actor, input.scorecard.collaboration_id).await?;
    let current = repo::current_submissions(tx, tenant, rating.id).await?;
    let Some(mine) = current.iter().find(|s| s.rater_id == user) else {
        return Err(DomainError::Refused("rating.error.not_submitted"));
    };
    let template = template_of_rating(tx, tenant, &rating).await?;
    let checked = check_scorecard(
        &template.dimensions,
        &rating,
        &input.scorecard,
        &[("reason", &input.reason)],
    )?;
    let id = Uuid::now_v7();
    let reason = input.reason.trim();
    repo::insert_submission(
        tx,
        tenant,
        &NewSubmission {
            id,
            rating_id: rating.id,
            rater_id: user,
            rater_label: &actor.label,
            version: mine.version + 1,
            corrects: Some(mine.id),
            correction_reason: Some(reason),
            levels: json!(checked.levels),
            total: checked.total,
            justification: checked.justification.as_deref(),
            comment: &checked.comment,
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("rating.correct", "rating", rating.id)
            .before(json!({ "submission": mine.id, "total": mine.total }))
            .after(json!({ "submission": id, "total": checked.total, "reason": reason })),
    )
    .await?;
    if rating.state == "completed" {
        let current = repo::current_submissions(tx, tenant, rating.id).await?;
        let totals: Vec<Decimal> = current.iter().map(|s| s.total).collect();
        let raw = domain::mean(&totals).unwrap_or(Decimal::ZERO);
        let final_score = if rating.closed_with_one {
            rating.calibrated_score.unwrap_or(raw)
        } else {
            raw
        };
        repo::rescore(tx, tenant, rating.id, raw, final_score).await?;
        refresh_creator(tx, actor, rating.creator_id, TierCause::Rating).await?;
    }
    Ok(Submitted {
        submission_id: id,
        total: checked.total,
        completed: rating.state == "completed",
    })
}

/// A rater's evidence files (screenshots, a PDF) for their scorecard.
#[derive(Debug, Clone, Default)]
pub struct AttachScorecardEvidence {
    pub collaboration_id: Uuid,
    pub files: Vec<EvidenceUpload>,
}

/// Checks evidence files before anything is stored: at most [`MAX_EVIDENCE_FILES`], each an
/// image or a PDF within the size limit; the message is on the field `evidence`.
pub fn check_scorecard_evidence(files: &[EvidenceUpload]) -> DomainResult<()> {
    if files.len() > MAX_EVIDENCE_FILES {
        return Err(DomainError::field("evidence", "evidence.error.too_many"));
    }
    files.iter().try_for_each(|f| check_evidence(f).map(|_| ()))
}

/// Keeps a rater's evidence beside their current submission (right after submitting or
/// correcting it, in the same transaction): every file is checked before any is stored, so a
/// refused file keeps none of them.
pub async fn attach_scorecard_evidence(
    tx: &mut PgConnection,
    storage: &Storage,
    actor: &Actor,
    input: AttachScorecardEvidence,
) -> DomainResult<usize> {
    if input.files.is_empty() {
        return Ok(0);
    }
    let tenant = actor.tenant_id()?;
    let (rating, user) = rater_of(tx, actor, input.collaboration_id).await?;
    check_scorecard_evidence(&input.files)?;
    let current = repo::current_submissions(tx, tenant, rating.id).await?;
    let mine = current
        .iter()
        .find(|s| s.rater_id == user)
        .ok_or(DomainError::Refused("rating.error.not_submitted"))?;
    let mut uploads = Vec::with_capacity(input.files.len());
    for file in input.files {
        let upload = store_evidence(tx, storage, actor, file).await?;
        repo::attach_file(tx, tenant, mine.id, upload).await?;
        uploads.push(upload);
    }
    audit::record(
        tx,
        actor
            .audit("rating.evidence", "rating", rating.id)
            .after(json!({ "submission": mine.id, "uploads": uploads })),
    )
    .await?;
    Ok(uploads.len())
}

/// Completes a rating (both paths): calibration, raw and final score, the collaboration to
/// rated, the campaign to closed when every collaboration is rated or ended, the creator's tier.
async fn complete(
    tx: &mut PgConnection,
    actor: &Actor,
    rating: &RatingRow,
    closed_with_one: bool,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    let calibrated =
        crate::ratings::consistency::actions::calibrate_rating(tx, tenant, rating.id).await?;
    let current = repo::current_submissions(tx, tenant, rating.id).await?;
    let totals: Vec<Decimal> = current.iter().map(|s| s.total).collect();
    let raw = domain::mean(&totals).ok_or(DomainError::Refused("rating.error.no_submission"))?;
    let calibrated_score = domain::mean(
        &current
            .iter()
            .map(|s| {
                calibrated
                    .iter()
                    .find(|c| c.submission_id == s.id)
                    .map_or(s.total, |c| c.total)
            })
            .collect::<Vec<_>>(),
    )
    .filter(|_| !calibrated.is_empty());
    let final_score = if closed_with_one {
        calibrated_score.unwrap_or(raw)
    } else {
        raw
    };
    repo::complete(
        tx,
        tenant,
        rating.id,
        &Outcome {
            raw_score: raw,
            final_score,
            calibrated_score,
            closed_with_one,
            completed_by: actor.user_id,
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("rating.complete", "rating", rating.id)
            .after(json!({
                "raw_score": raw, "final_score": final_score, "calibrated_score": calibrated_score,
                "closed_with_one": closed_with_one,
            })),
    )
    .await?;
    // An early (override) rating may complete before the collaboration reached evaluating.
    for event in [
        ContractEvent::TrackingStarted,
        ContractEvent::WindowFinal,
        ContractEvent::RatingCompleted,
    ] {
        transition_collaboration(
            tx,
            actor,
            TransitionCollaboration {
                collaboration_id: rating.collaboration_id,
                event,
            },
        )
        .await?;
    }
    close_campaign_if_done(tx, actor, rating.campaign_id).await?;
    refresh_creator(tx, actor, rating.creator_id, TierCause::Rating).await
}

/// Every collaboration of the campaign rated (or later), breached or cancelled → closed.
async fn close_campaign_if_done(
    tx: &mut PgConnection,
    actor: &Actor,
    campaign: Uuid,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    let states = repo::campaign_collab_states(tx, tenant, campaign).await?;
    if !states.is_empty() && states.iter().all(|s| rated_or_ended(*s)) {
        let state = crate::campaigns::repo::get(tx, tenant, campaign)
            .await?
            .map(|c| c.state);
        if state == Some(CampaignState::Evaluating) {
            record_system_event(tx, actor, campaign, Transition::AllRatedOrEnded).await?;
        }
    }
    Ok(())
}

pub fn rated_or_ended(s: ContractState) -> bool {
    matches!(
        s,
        ContractState::Rated
            | ContractState::Settled
            | ContractState::Breached
            | ContractState::Cancelled
    )
}

/// Published or later, or ended (SPEC §2: running → evaluating).
pub fn published_or_ended(s: ContractState) -> bool {
    matches!(
        s,
        ContractState::Published
            | ContractState::Tracking
            | ContractState::Evaluating
            | ContractState::Rated
            | ContractState::Settled
            | ContractState::Breached
            | ContractState::Cancelled
    )
}

/// Moves the tenant's running campaigns whose collaborations are all published-or-later or
/// ended (at least one not cancelled) to evaluating; answers how many moved.
pub async fn advance_campaigns(tx: &mut PgConnection, actor: &Actor) -> DomainResult<usize> {
    let tenant = actor.tenant_id()?;
    actor.require_active()?;
    let mut moved = 0;
    for campaign in repo::campaigns_in(tx, tenant, CampaignState::Running.code()).await? {
        let states = repo::campaign_collab_states(tx, tenant, campaign).await?;
        if states.iter().all(|s| published_or_ended(*s))
            && states.iter().any(|s| *s != ContractState::Cancelled)
        {
            record_system_event(tx, actor, campaign, Transition::AllPublishedOrEnded).await?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Closes the tenant's evaluating campaigns whose collaborations are all rated or ended (a
/// rating may complete while its campaign was still running); answers how many closed.
pub async fn close_finished_campaigns(tx: &mut PgConnection, actor: &Actor) -> DomainResult<usize> {
    let tenant = actor.tenant_id()?;
    actor.require_active()?;
    let mut closed = 0;
    for campaign in repo::campaigns_in(tx, tenant, CampaignState::Evaluating.code()).await? {
        let states = repo::campaign_collab_states(tx, tenant, campaign).await?;
        if !states.is_empty() && states.iter().all(|s| rated_or_ended(*s)) {
            record_system_event(tx, actor, campaign, Transition::AllRatedOrEnded).await?;
            closed += 1;
        }
    }
    Ok(closed)
}
