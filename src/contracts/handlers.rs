//! Collaborations and their terms (SPEC §4), as pages: the terms form for an approved shortlist
//! entry, the collaboration page (it prints as a clean contract), the account manager's events
//! and the amendment form. Each change is one call of `contracts::actions`; a refusal shows the
//! form or page again (a JSON request gets problem+json).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{
    self, AmendTerms, CreateCollaboration, RecordCollaborationEvent, TermsChanged,
};
use super::domain::{self, ContractEvent, ContractState, Terms, TermsInput};
use super::repo;
use crate::campaigns::domain::Decision;
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::kernel::markets::SHOP_CURRENCIES;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::parse_id;
use crate::web::{PublicOrigin, fmt, render_with};

fn am_only(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::AccountManager])?;
    ctx.require_active()
}

/// The terms form of a new collaboration: the approved shortlist entry it is for and the terms.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewCollaborationForm {
    pub entry: String,
    #[serde(flatten)]
    pub terms: TermsInput,
}

/// The terms form of an existing collaboration: the terms and, for an amendment, why.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TermsChangeForm {
    pub reason: String,
    #[serde(flatten)]
    pub terms: TermsInput,
}

/// An event the account manager records (`ContractEvent::by_hand` reads it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventForm {
    pub event: String,
    pub carrier: String,
    pub tracking_number: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "contracts/form.html")]
struct TermsPage {
    layout: Layout,
    action: String,
    heading: String,
    input: TermsInput,
    entry_id: String,
    sample_needed: bool,
    amendment: bool,
    reason: String,
    currencies: &'static [&'static str],
    text_fields: Vec<(&'static str, String, String)>,
    errors: FormErrors,
}

fn text_fields(lang: Lang, i: &TermsInput) -> Vec<(&'static str, String, String)> {
    [
        ("fixed_fee", &i.fixed_fee),
        ("commission_rate", &i.commission_rate),
        ("service_fee_rate", &i.service_fee_rate),
        ("videos", &i.videos),
        ("live_sessions", &i.live_sessions),
        ("publish_deadline", &i.publish_deadline),
        ("min_days_live", &i.min_days_live),
        ("revisions_included", &i.revisions_included),
        ("discount_code", &i.discount_code),
    ]
    .into_iter()
    .map(|(name, value)| {
        (
            name,
            lang.t(&format!("contract.field.{name}")),
            value.clone(),
        )
    })
    .collect()
}

/// The terms form as shown: where it posts, about whom, what is typed and what is wrong.
struct TermsForm {
    action: String,
    heading: String,
    /// The shortlist entry a new collaboration is for (empty when changing terms).
    entry_id: String,
    input: TermsInput,
    sample_needed: bool,
    amendment: bool,
    reason: String,
    /// None shown: 200; otherwise the form comes back with 422.
    errors: FieldErrors,
}

async fn terms_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    form: TermsForm,
) -> AppResult<Response> {
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "contracts.terms_title",
        &path,
    )
    .await?;
    let status = if form.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_with(
        status,
        &TermsPage {
            layout,
            action: form.action,
            heading: form.heading,
            entry_id: form.entry_id,
            text_fields: text_fields(lang, &form.input),
            input: form.input,
            sample_needed: form.sample_needed,
            amendment: form.amendment,
            reason: form.reason,
            currencies: SHOP_CURRENCIES,
            errors: FormErrors::new(lang, &form.errors),
        },
    )
}

/// The campaign (its request) and the approved entry a new collaboration's form is about; an
/// unknown campaign or an entry that is not approved is 404.
async fn new_form_facts(
    ctx: &mut TenantCtx,
    campaign_id: Uuid,
    entry_id: Uuid,
) -> AppResult<(crate::campaigns::domain::Campaign, repo::EntryFacts)> {
    let campaign = crate::campaigns::repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?
        .campaign();
    let entry = repo::shortlist_entry(&mut ctx.tx, ctx.tenant.id, campaign_id, entry_id)
        .await?
        .filter(|e| e.decision == Some(Decision::Approve))
        .ok_or(AppError::NotFound)?;
    Ok((campaign, entry))
}

fn new_form(
    slug: &str,
    campaign_id: Uuid,
    campaign: &crate::campaigns::domain::Campaign,
    entry: &repo::EntryFacts,
    input: TermsInput,
    errors: FieldErrors,
) -> TermsForm {
    TermsForm {
        action: format!("/t/{slug}/campaigns/{campaign_id}/collaborations"),
        heading: format!("@{} · {}", entry.handle, entry.display_name),
        entry_id: entry.id.to_string(),
        input,
        sample_needed: campaign.sample_needed,
        amendment: false,
        reason: String::new(),
        errors,
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    entry: String,
}

pub async fn new(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    Query(q): Query<NewQuery>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    crate::campaigns::repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    am_only(&ctx)?;
    let entry_id = parse_id(&q.entry)?;
    let (campaign, entry) = new_form_facts(&mut ctx, campaign_id, entry_id).await?;
    let input = actions::proposed_terms_for(&mut ctx.tx, ctx.tenant.id, campaign_id, entry_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = new_form(
        &ctx.tenant.slug,
        campaign_id,
        &campaign,
        &entry,
        input,
        FieldErrors::new(),
    );
    terms_page(&state, &session, lang, ctx, form).await
}

/// Creates the collaboration (proposed) with version 1 of its terms.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<NewCollaborationForm>,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    // An entry id that does not parse names no entry: the action answers 404 after its access
    // checks, as for any unknown entry.
    let entry_id = parse_id(&form.entry).unwrap_or(Uuid::nil());
    let input = CreateCollaboration {
        campaign_id,
        entry_id,
        terms: form.terms.clone(),
    };
    match actions::create_collaboration(&mut ctx.tx, &ctx.actor, input).await {
        Ok(collab_id) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "contracts.created").await?;
            Ok(Redirect::to(&format!(
                "/t/{}/collaborations/{collab_id}",
                ctx.tenant.slug
            ))
            .into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let mut ctx = ctx.reopen(&state.db).await?;
            let (campaign, entry) = new_form_facts(&mut ctx, campaign_id, entry_id).await?;
            let form = new_form(
                &ctx.tenant.slug,
                campaign_id,
                &campaign,
                &entry,
                form.terms,
                errors,
            );
            terms_page(&state, &session, lang, ctx, form).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct VersionView {
    pub version: i32,
    pub at: String,
    pub reason: String,
    pub changes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "contracts/show.html")]
struct CollabPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    campaign_id: Uuid,
    campaign: String,
    creator: String,
    state: ContractState,
    version: i32,
    terms: Vec<(String, String)>,
    discount_code: String,
    link: String,
    sample_needed: bool,
    sample: String,
    versions: Vec<VersionView>,
    is_am: bool,
    can_amend: bool,
    error: Option<String>,
    /// Posts, windows, clicks, orders and KPIs (`tracking::kpis::sections`), already rendered.
    performance: String,
    /// The fulfilment records section (its own feature renders it).
    fulfilment: String,
    /// The deliverables and review section (its own feature renders it).
    review: String,
}

fn terms_facts(lang: Lang, t: &Terms) -> Vec<(String, String)> {
    let money = |m: Option<crate::kernel::Money>| {
        m.map_or_else(|| "—".into(), |m| fmt::money(m.amount, m.currency.code()))
    };
    vec![
        (
            lang.t("contract.field.fee_model"),
            lang.t(t.fee_model.label_key()),
        ),
        (
            lang.t("contract.field.fixed_fee"),
            money(t.fixed_fee_money()),
        ),
        (
            lang.t("contract.field.commission_rate"),
            format!("{}%", fmt::percent_of(t.commission_rate)),
        ),
        (
            lang.t("contract.field.service_fee_rate"),
            format!("{}%", fmt::percent_of(t.service_fee_rate)),
        ),
        (lang.t("contract.field.videos"), t.videos.to_string()),
        (
            lang.t("contract.field.live_sessions"),
            t.live_sessions.to_string(),
        ),
        (
            lang.t("contract.field.publish_deadline"),
            t.publish_deadline.to_string(),
        ),
        (
            lang.t("contract.field.min_days_live"),
            t.min_days_live.to_string(),
        ),
        (
            lang.t("contract.field.revisions_included"),
            t.revisions_included.to_string(),
        ),
        (
            lang.t("contract.field.usage_rights"),
            format!(
                "{}{}",
                lang.t(t.usage_rights.label_key()),
                t.paid_ads_until
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ),
        (
            lang.t("contract.field.sample_sku"),
            t.sample
                .as_ref()
                .map(|s| format!("{} × {}", s.sku, s.qty))
                .unwrap_or_else(|| "—".into()),
        ),
        (
            lang.t("contract.field.sample_cost"),
            money(t.sample.as_ref().and_then(|s| s.cost_money())),
        ),
        (
            lang.t("contract.field.sample_shipping"),
            money(t.sample.as_ref().and_then(|s| s.shipping_money())),
        ),
        (
            lang.t("contract.field.sample_paid_by"),
            match &t.sample {
                Some(s) if s.paid_by_agency => lang.t("contracts.sample_paid_by.agency"),
                Some(_) => lang.t("contracts.sample_paid_by.seller"),
                None => "—".into(),
            },
        ),
        (
            lang.t("contract.field.other_costs"),
            t.other_costs
                .as_ref()
                .map_or_else(|| "—".into(), domain::other_costs_shown),
        ),
    ]
}

/// The collaboration page; with `error` (a message key) it comes back after a refused event, 422.
/// What the collaboration page shows besides the collaboration: a message at the top, and the
/// page of its orders.
struct Shown<'a> {
    error: Option<&'a str>,
    orders_page: i64,
}

#[derive(Deserialize)]
pub struct CollabQuery {
    #[serde(default)]
    orders_page: Option<String>,
}

async fn page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    origin: &PublicOrigin,
    mut ctx: TenantCtx,
    id: Uuid,
    shown: Shown<'_>,
) -> AppResult<Response> {
    let Shown { error, orders_page } = shown;
    let row = repo::collaboration(&mut ctx.tx, ctx.tenant.id, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let all = repo::versions(&mut ctx.tx, ctx.tenant.id, id).await?;
    let performance =
        crate::tracking::kpis::sections::collaboration(&mut ctx, id, lang, orders_page).await?;
    let fulfilment =
        crate::fulfilment::section::collaboration(&mut ctx, id, lang, None, None).await?;
    let review = crate::review::section::collaboration(&mut ctx, id, lang, None).await?;
    ctx.tx.commit().await?;
    let parsed: Vec<(i32, Terms, Option<String>, time::OffsetDateTime)> = all
        .into_iter()
        .filter_map(|v| {
            serde_json::from_value::<Terms>(v.terms)
                .ok()
                .map(|t| (v.version, t, v.reason, v.created_at))
        })
        .collect();
    let current = parsed
        .first()
        .map(|v| v.1.clone())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("collaboration without terms")))?;
    let versions = parsed
        .iter()
        .enumerate()
        .map(|(i, (version, terms, reason, at))| VersionView {
            version: *version,
            at: fmt::datetime(*at, &ctx.tenant.time_zone),
            reason: reason.clone().unwrap_or_default(),
            changes: parsed
                .get(i + 1)
                .map(|(_, before, _, _)| {
                    domain::diff_terms(before, terms)
                        .into_iter()
                        .map(|(field, a, b)| (lang.t(&format!("contract.field.{field}")), a, b))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let campaign = row.campaign();
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "contracts.title",
        &path,
    )
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &CollabPage {
            layout,
            slug: ctx.tenant.slug.clone(),
            id,
            campaign_id: row.campaign_id,
            campaign: format!(
                "{} {}",
                row.campaign_code.clone().unwrap_or_default(),
                row.campaign_title
            ),
            creator: format!("@{} · {}", row.handle, row.display_name),
            state: row.state,
            version: row.current_version,
            terms: terms_facts(lang, &current),
            discount_code: row.discount_code.clone(),
            link: format!("{}/r/{}", origin.0, row.link_slug),
            sample_needed: campaign.sample_needed,
            sample: match (&row.sample_carrier, &row.sample_tracking) {
                (Some(c), Some(t)) => format!("{c} · {t}"),
                _ => String::new(),
            },
            versions,
            is_am: ctx.access == Access::AccountManager,
            can_amend: ctx.access == Access::AccountManager && domain::terms_changeable(row.state),
            error: error.map(|k| lang.t(k)),
            performance,
            fulfilment,
            review,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    Path((_slug, id)): Path<(String, String)>,
    Query(q): Query<CollabQuery>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let id = parse_id(&id)?;
    // Unreadable page numbers read as the first page.
    let orders_page = q
        .orders_page
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let shown = Shown {
        error: None,
        orders_page,
    };
    page(&state, &session, lang, &origin, ctx, id, shown).await
}

/// The account manager records what happened: the creator's answer, the sample, a cancellation
/// or breach (with a reason). The first acceptance starts the campaign running.
pub async fn event(
    State(state): State<AppState>,
    // What the page needs to show itself again (one extractor, to keep the list short).
    (session, lang, origin, front): (Session, Lang, PublicOrigin, Front),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<EventForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let reason = form.reason.trim().to_string();
    let Some(event) =
        ContractEvent::by_hand(&form.event, &form.carrier, &form.tracking_number, &reason)
    else {
        // An event no form sends: unknown (404), after the collaboration (404) and the role
        // (403) are checked, as for any other event.
        repo::collaboration(&mut ctx.tx, ctx.tenant.id, id, false)
            .await?
            .ok_or(AppError::NotFound)?;
        am_only(&ctx)?;
        return Err(AppError::NotFound);
    };
    let input = RecordCollaborationEvent {
        collaboration_id: id,
        event,
        reason,
    };
    match actions::record_collaboration_event(&mut ctx.tx, &ctx.actor, input).await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "contracts.updated").await?;
            Ok(
                Redirect::to(&format!("/t/{}/collaborations/{id}", ctx.tenant.slug))
                    .into_response(),
            )
        }
        Err(e) => match e.page_message() {
            Some(key) if !front.is_json() => {
                let ctx = ctx.reopen(&state.db).await?;
                let shown = Shown {
                    error: Some(key),
                    orders_page: 1,
                };
                page(&state, &session, lang, &origin, ctx, id, shown).await
            }
            _ => Err(e.into()),
        },
    }
}

/// The collaboration a terms form is about and whether a change is an amendment; unknown (404)
/// or not the account manager (403).
async fn terms_form_facts(ctx: &mut TenantCtx, id: Uuid) -> AppResult<(repo::CollabRow, bool)> {
    let row = repo::collaboration(&mut ctx.tx, ctx.tenant.id, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    am_only(ctx)?;
    let amendment = domain::is_amendment(row.state);
    Ok((row, amendment))
}

fn terms_form(
    slug: &str,
    id: Uuid,
    row: &repo::CollabRow,
    amendment: bool,
    input: TermsInput,
    reason: String,
    errors: FieldErrors,
) -> TermsForm {
    TermsForm {
        action: format!("/t/{slug}/collaborations/{id}/terms"),
        heading: format!("@{} · {}", row.handle, row.display_name),
        entry_id: String::new(),
        input,
        sample_needed: row.campaign().sample_needed,
        amendment,
        reason,
        errors,
    }
}

pub async fn edit_terms(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (row, amendment) = terms_form_facts(&mut ctx, id).await?;
    let current = actions::current_terms_input(&mut ctx.tx, ctx.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !domain::terms_changeable(row.state) {
        return Err(AppError::Forbidden);
    }
    let form = terms_form(
        &ctx.tenant.slug,
        id,
        &row,
        amendment,
        current,
        String::new(),
        FieldErrors::new(),
    );
    terms_page(&state, &session, lang, ctx, form).await
}

/// Changes the terms: in place while proposed; afterwards a new version with a reason.
pub async fn save_terms(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<TermsChangeForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let reason = form.reason.trim().to_string();
    let input = AmendTerms {
        collaboration_id: id,
        terms: form.terms.clone(),
        reason: reason.clone(),
    };
    match actions::amend_terms(&mut ctx.tx, &ctx.actor, input).await {
        Ok(TermsChanged { .. }) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "contracts.updated").await?;
            Ok(
                Redirect::to(&format!("/t/{}/collaborations/{id}", ctx.tenant.slug))
                    .into_response(),
            )
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let mut ctx = ctx.reopen(&state.db).await?;
            let (row, amendment) = terms_form_facts(&mut ctx, id).await?;
            let form = terms_form(
                &ctx.tenant.slug,
                id,
                &row,
                amendment,
                form.terms,
                reason,
                errors,
            );
            terms_page(&state, &session, lang, ctx, form).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terms_forms_read_their_own_fields_beside_the_terms() {
        let body =
            b"entry=abc&fee_model=fixed&fixed_fee=1%2C200&fixed_fee_currency=USD&videos=2&csrf=x";
        let form: NewCollaborationForm = serde_html_form::from_bytes(body).unwrap();
        assert_eq!(form.entry, "abc");
        assert_eq!(form.terms.fee_model, "fixed");
        assert_eq!(form.terms.fixed_fee, "1,200");
        assert_eq!(form.terms.videos, "2");
        assert_eq!(form.terms.discount_code, "");
        let form: TermsChangeForm =
            serde_html_form::from_bytes(b"reason=typo&discount_code=SAVE10").unwrap();
        assert_eq!(
            (form.reason.as_str(), form.terms.discount_code.as_str()),
            ("typo", "SAVE10")
        );
        let form: EventForm = serde_html_form::from_bytes(b"event=cancel&reason=late").unwrap();
        assert_eq!(
            (form.event.as_str(), form.reason.as_str()),
            ("cancel", "late")
        );
    }
}

/// A row of a campaign's collaborations list.
struct CollabListRow {
    id: Uuid,
    handle: String,
    state: ContractState,
    fee: String,
    deadline: String,
    posts: String,
    code: String,
}

#[derive(Template)]
#[template(path = "contracts/campaign_list.html")]
struct CampaignCollabsPage {
    layout: Layout,
    slug: String,
    campaign_id: Uuid,
    code: String,
    title: String,
    tabs: String,
    rows: Vec<CollabListRow>,
}

/// `GET /t/{slug}/campaigns/{id}/collaborations`: the campaign's collaborations tab — each
/// creator with its state, fixed fee, deadline and posts, linked to its collaboration page.
pub async fn campaign_list(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    let campaign = crate::campaigns::repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.require_active()?;
    let rows = repo::of_campaign(&mut ctx.tx, ctx.tenant.id, campaign_id).await?;
    ctx.tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let terms: Option<Terms> = serde_json::from_value(r.terms).ok();
            CollabListRow {
                id: r.id,
                handle: r.handle,
                state: r.state,
                fee: terms
                    .as_ref()
                    .and_then(|t| Some(fmt::money(t.fixed_fee?, t.fixed_fee_currency.as_deref()?)))
                    .unwrap_or_else(|| "—".into()),
                deadline: terms
                    .as_ref()
                    .map_or_else(|| "—".into(), |t| t.publish_deadline.to_string()),
                posts: fmt::number(r.posts),
                code: terms.map_or_else(|| "—".into(), |t| t.discount_code),
            }
        })
        .collect();
    let slug = ctx.tenant.slug.clone();
    let path = format!("/t/{slug}/campaigns/{campaign_id}/collaborations");
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "campaigns.collaborations.title",
        &path,
    )
    .await?;
    let tabs = crate::campaigns::tabs::render(
        lang,
        &slug,
        campaign_id,
        ctx.access,
        crate::campaigns::tabs::Tab::Collaborations,
    );
    render_with(
        StatusCode::OK,
        &CampaignCollabsPage {
            layout,
            slug,
            campaign_id,
            code: campaign.code.unwrap_or_default(),
            title: campaign.title,
            tabs,
            rows,
        },
    )
}
