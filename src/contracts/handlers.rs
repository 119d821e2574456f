//! Collaborations and their terms (SPEC §4): an approved shortlist entry becomes a collaboration
//! with versioned terms, a discount code unique in the tenant and a tracked-link slug unique
//! everywhere; the account manager records the creator's answer, samples, cancellations, and
//! amendments (new versions with a reason). The page prints as a clean contract.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::FromRow;
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::{self, ContractEvent, ContractState, Terms, TermsInput, validate_terms};
use crate::audit;
use crate::campaigns::domain::{CampaignState, Transition};
use crate::campaigns::handlers::{MoveError, move_campaign};
use crate::campaigns::repo as campaigns;
use crate::db::unique_violation;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::domain::{FieldErrors, SHOP_CURRENCIES};
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::parse_id;
use crate::web::{PublicOrigin, fmt, render_with};

fn am_only(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::AccountManager])?;
    ctx.require_active()
}

/// The form for a stored version.
pub fn input_of(t: &Terms) -> TermsInput {
    TermsInput {
        fee_model: t.fee_model.code().into(),
        fixed_fee: t.fixed_fee.map(|f| f.to_string()).unwrap_or_default(),
        fixed_fee_currency: t.fixed_fee_currency.clone().unwrap_or_default(),
        commission_rate: fmt::percent_of(t.commission_rate),
        service_fee_rate: fmt::percent_of(t.service_fee_rate),
        videos: t.videos.to_string(),
        live_sessions: t.live_sessions.to_string(),
        publish_deadline: t.publish_deadline.to_string(),
        min_days_live: t.min_days_live.to_string(),
        revisions_included: t.revisions_included.to_string(),
        usage_rights: t.usage_rights.code().into(),
        paid_ads_until: t.paid_ads_until.map(|d| d.to_string()).unwrap_or_default(),
        sample_sku: t.sample.as_ref().map(|s| s.sku.clone()).unwrap_or_default(),
        sample_qty: t
            .sample
            .as_ref()
            .map(|s| s.qty.to_string())
            .unwrap_or_default(),
        sample_cost: t
            .sample
            .as_ref()
            .and_then(|s| s.cost)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        sample_cost_currency: t
            .sample
            .as_ref()
            .and_then(|s| s.cost_currency.clone())
            .unwrap_or_default(),
        discount_code: t.discount_code.clone(),
    }
}

fn posted(form: &FormData) -> TermsInput {
    let f = |n: &str| form.get(n).to_string();
    TermsInput {
        fee_model: f("fee_model"),
        fixed_fee: f("fixed_fee"),
        fixed_fee_currency: f("fixed_fee_currency"),
        commission_rate: f("commission_rate"),
        service_fee_rate: f("service_fee_rate"),
        videos: f("videos"),
        live_sessions: f("live_sessions"),
        publish_deadline: f("publish_deadline"),
        min_days_live: f("min_days_live"),
        revisions_included: f("revisions_included"),
        usage_rights: f("usage_rights"),
        paid_ads_until: f("paid_ads_until"),
        sample_sku: f("sample_sku"),
        sample_qty: f("sample_qty"),
        sample_cost: f("sample_cost"),
        sample_cost_currency: f("sample_cost_currency"),
        discount_code: f("discount_code"),
    }
}

#[derive(FromRow)]
struct EntryFacts {
    id: Uuid,
    creator_id: Uuid,
    handle: String,
    display_name: String,
    quote_video: Option<rust_decimal::Decimal>,
    quote_currency: Option<String>,
    decision: Option<String>,
}

async fn approved_entry(
    ctx: &mut TenantCtx,
    campaign_id: Uuid,
    entry: &str,
) -> AppResult<EntryFacts> {
    let entry_id = parse_id(entry)?;
    let e = sqlx::query_as::<_, EntryFacts>(
        "SELECT e.id, e.creator_id, c.handle, c.display_name, c.quote_video, \
           c.quote_currency::text AS quote_currency, e.decision \
         FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id \
         WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND e.id = $3",
    )
    .bind(ctx.tenant.id)
    .bind(campaign_id)
    .bind(entry_id)
    .fetch_optional(&mut *ctx.tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if e.decision.as_deref() != Some("approved") {
        return Err(AppError::NotFound);
    }
    Ok(e)
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

#[allow(clippy::too_many_arguments)]
async fn terms_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    page: (String, String, String),
    input: TermsInput,
    flags: (bool, bool, String),
    status: StatusCode,
    errors: FieldErrors,
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
    render_with(
        status,
        &TermsPage {
            layout,
            action: page.0,
            heading: page.1,
            entry_id: page.2,
            text_fields: text_fields(lang, &input),
            input,
            sample_needed: flags.0,
            amendment: flags.1,
            reason: flags.2,
            currencies: SHOP_CURRENCIES,
            errors: FormErrors::new(lang, &errors),
        },
    )
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
    crate::campaigns::repo::ensure_exists(&mut ctx.tx, ctx.tenant.id, campaign_id).await?;
    am_only(&ctx)?;
    let row = campaigns::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry = approved_entry(&mut ctx, campaign_id, &q.entry).await?;
    let campaign = row.campaign();
    let service_fee: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT service_fee_rate FROM tenants WHERE id = $1")
            .bind(ctx.tenant.id)
            .fetch_one(&mut *ctx.tx)
            .await?;
    let fee_model: String = sqlx::query_scalar("SELECT fee_model FROM tenants WHERE id = $1")
        .bind(ctx.tenant.id)
        .fetch_one(&mut *ctx.tx)
        .await?;
    let input = TermsInput {
        fee_model: if fee_model == "commission_only" {
            "commission_only".into()
        } else {
            "fixed_plus_commission".into()
        },
        fixed_fee: entry.quote_video.map(|q| q.to_string()).unwrap_or_default(),
        fixed_fee_currency: entry.quote_currency.clone().unwrap_or_else(|| "USD".into()),
        commission_rate: campaign
            .commission_rate
            .map(fmt::percent_of)
            .unwrap_or_else(|| "10".into()),
        service_fee_rate: fmt::percent_of(service_fee),
        videos: "1".into(),
        live_sessions: "0".into(),
        publish_deadline: campaign
            .publish_to
            .map(|d| d.to_string())
            .unwrap_or_default(),
        min_days_live: domain::DEFAULT_MIN_DAYS_LIVE.to_string(),
        revisions_included: domain::DEFAULT_REVISIONS.to_string(),
        usage_rights: "organic_only".into(),
        sample_sku: if campaign.sample_needed {
            campaign.sku.clone()
        } else {
            String::new()
        },
        sample_qty: if campaign.sample_needed {
            "1".into()
        } else {
            String::new()
        },
        discount_code: domain::suggest_discount_code(&entry.handle),
        ..Default::default()
    };
    let action = format!(
        "/t/{}/campaigns/{campaign_id}/collaborations",
        ctx.tenant.slug
    );
    let heading = format!("@{} · {}", entry.handle, entry.display_name);
    let entry_id = entry.id.to_string();
    terms_page(
        &state,
        &session,
        lang,
        ctx,
        (action, heading, entry_id),
        input,
        (campaign.sample_needed, false, String::new()),
        StatusCode::OK,
        FieldErrors::new(),
    )
    .await
}

/// Creates the collaboration (proposed) with version 1 of its terms.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    crate::campaigns::repo::ensure_exists(&mut ctx.tx, ctx.tenant.id, campaign_id).await?;
    am_only(&ctx)?;
    let row = campaigns::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry = approved_entry(&mut ctx, campaign_id, form.get("entry")).await?;
    let campaign = row.campaign();
    let input = posted(&form);
    let today = time::OffsetDateTime::now_utc().date();
    let action = format!(
        "/t/{}/campaigns/{campaign_id}/collaborations",
        ctx.tenant.slug
    );
    let heading = format!("@{} · {}", entry.handle, entry.display_name);
    let page = (action, heading, entry.id.to_string());
    let flags = (campaign.sample_needed, false, String::new());
    let terms = match validate_terms(&input, campaign.sample_needed, today) {
        Ok(t) => t,
        Err(errors) => {
            return terms_page(
                &state,
                &session,
                lang,
                ctx,
                page,
                input,
                flags,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await;
        }
    };
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM collaborations WHERE tenant_id = $1 AND campaign_id = $2 AND creator_id = $3)")
        .bind(ctx.tenant.id)
        .bind(campaign_id)
        .bind(entry.creator_id)
        .fetch_one(&mut *ctx.tx)
        .await?;
    let conflict = if exists {
        Some("contracts.error.exists")
    } else if discount_code_taken(&mut ctx, &terms.discount_code, None).await? {
        Some("contracts.error.code_taken")
    } else {
        None
    };
    if let Some(key) = conflict {
        let mut errors = FieldErrors::new();
        errors.insert("discount_code".into(), key);
        return terms_page(
            &state,
            &session,
            lang,
            ctx,
            page,
            input,
            flags,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    }
    let collab_id = Uuid::now_v7();
    // A slug clash across all tenants is astronomically rare; try a few fresh ones.
    let mut created = false;
    for _ in 0..5 {
        let slug = domain::new_link_slug();
        sqlx::query("SAVEPOINT new_collaboration")
            .execute(&mut *ctx.tx)
            .await?;
        let insert = sqlx::query(
            "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, discount_code, link_slug, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(ctx.tenant.id)
        .bind(collab_id)
        .bind(campaign_id)
        .bind(entry.creator_id)
        .bind(&terms.discount_code)
        .bind(&slug)
        .bind(ctx.user.id)
        .execute(&mut *ctx.tx)
        .await;
        match insert {
            Ok(_) => {
                created = true;
                break;
            }
            Err(e) if unique_violation(&e) == Some("collaborations_link_slug_key") => {
                sqlx::query("ROLLBACK TO SAVEPOINT new_collaboration")
                    .execute(&mut *ctx.tx)
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !created {
        return Err(AppError::Internal(anyhow::anyhow!(
            "no free tracked-link slug after 5 tries"
        )));
    }
    sqlx::query(
        "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, created_by) VALUES ($1, $2, 1, $3, $4)",
    )
    .bind(ctx.tenant.id)
    .bind(collab_id)
    .bind(json!(terms))
    .bind(ctx.user.id)
    .execute(&mut *ctx.tx)
    .await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            "collaboration.create",
            "collaboration",
            Some(collab_id.to_string()),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id))
        .after(json!({ "creator": entry.handle, "terms": terms })),
    )
    .await?;
    ctx.tx.commit().await?;
    flash(&session, "ok", "contracts.created").await?;
    Ok(Redirect::to(&format!(
        "/t/{}/collaborations/{collab_id}",
        ctx.tenant.slug
    ))
    .into_response())
}

/// Whether another collaboration of this tenant already uses the discount code.
async fn discount_code_taken(
    ctx: &mut TenantCtx,
    code: &str,
    except: Option<Uuid>,
) -> AppResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM collaborations WHERE tenant_id = $1 AND discount_code = $2 \
           AND id IS DISTINCT FROM $3)",
    )
    .bind(ctx.tenant.id)
    .bind(code)
    .bind(except)
    .fetch_one(&mut *ctx.tx)
    .await?)
}

#[derive(FromRow)]
struct CollabRow {
    campaign_id: Uuid,
    state: String,
    discount_code: String,
    link_slug: String,
    current_version: i32,
    sample_carrier: Option<String>,
    sample_tracking: Option<String>,
    handle: String,
    display_name: String,
    campaign_code: Option<String>,
    campaign_title: String,
    campaign_data: serde_json::Value,
}

async fn load(ctx: &mut TenantCtx, id: Uuid, lock: bool) -> AppResult<CollabRow> {
    sqlx::query_as::<_, CollabRow>(&format!(
        "SELECT l.campaign_id, l.state, l.discount_code, l.link_slug, l.current_version, \
           l.sample_carrier, l.sample_tracking, c.handle, c.display_name, k.code AS campaign_code, \
           k.title AS campaign_title, k.data AS campaign_data \
         FROM collaborations l JOIN creators c ON c.id = l.creator_id \
         JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id \
         WHERE l.tenant_id = $1 AND l.id = $2{}",
        if lock { " FOR UPDATE OF l" } else { "" }
    ))
    .bind(ctx.tenant.id)
    .bind(id)
    .fetch_optional(&mut *ctx.tx)
    .await?
    .ok_or(AppError::NotFound)
}

#[derive(FromRow)]
struct VersionRow {
    version: i32,
    terms: serde_json::Value,
    reason: Option<String>,
    created_at: time::OffsetDateTime,
}

async fn versions(ctx: &mut TenantCtx, id: Uuid) -> AppResult<Vec<VersionRow>> {
    Ok(sqlx::query_as::<_, VersionRow>(
        "SELECT version, terms, reason, created_at FROM contract_versions \
         WHERE tenant_id = $1 AND collaboration_id = $2 ORDER BY version DESC",
    )
    .bind(ctx.tenant.id)
    .bind(id)
    .fetch_all(&mut *ctx.tx)
    .await?)
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
    state: String,
    state_key: String,
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
    /// Posts, windows, clicks, orders and KPIs (`performance::sections`), already rendered.
    performance: String,
}

fn terms_facts(lang: Lang, t: &Terms) -> Vec<(String, String)> {
    let money = |a: Option<rust_decimal::Decimal>, c: Option<&str>| match (a, c) {
        (Some(a), Some(c)) => fmt::money(a, c),
        _ => "—".into(),
    };
    vec![
        (
            lang.t("contract.field.fee_model"),
            lang.t(t.fee_model.label_key()),
        ),
        (
            lang.t("contract.field.fixed_fee"),
            money(t.fixed_fee, t.fixed_fee_currency.as_deref()),
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
    ]
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    origin: &PublicOrigin,
    mut ctx: TenantCtx,
    id: Uuid,
    status: StatusCode,
    error: Option<&str>,
) -> AppResult<Response> {
    let row = load(&mut ctx, id, false).await?;
    let all = versions(&mut ctx, id).await?;
    let performance = crate::performance::sections::collaboration(&mut ctx, id, lang).await?;
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
    let campaign: crate::campaigns::domain::Campaign =
        serde_json::from_value(row.campaign_data.clone()).unwrap_or_default();
    let state_enum = ContractState::parse(&row.state).unwrap_or(ContractState::Proposed);
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
            state_key: state_enum.label_key().to_string(),
            state: row.state.clone(),
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
            can_amend: ctx.access == Access::AccountManager && domain::terms_changeable(state_enum),
            error: error.map(|k| lang.t(k)),
            performance,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let id = parse_id(&id)?;
    page(
        &state,
        &session,
        lang,
        &origin,
        ctx,
        id,
        StatusCode::OK,
        None,
    )
    .await
}

/// The account manager records what happened: the creator's answer, the sample, a cancellation
/// or breach (with a reason). The first acceptance starts the campaign running.
pub async fn event(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    // Another tenant's collaboration is unknown here (404) before any role check (403).
    let row = load(&mut ctx, id, true).await?;
    am_only(&ctx)?;
    let campaign: crate::campaigns::domain::Campaign =
        serde_json::from_value(row.campaign_data.clone()).unwrap_or_default();
    let reason = form.get("reason").trim().to_string();
    let event = match form.get("event") {
        "accepted" => ContractEvent::CreatorAccepted,
        "declined" => ContractEvent::CreatorDeclined,
        "sample_shipped" => ContractEvent::SampleShipped {
            carrier: form.get("carrier").trim().to_string(),
            tracking_number: form.get("tracking_number").trim().to_string(),
        },
        "sample_delivered" => ContractEvent::SampleDelivered,
        "cancel" => ContractEvent::Cancel {
            reason: reason.clone(),
        },
        "breach" => ContractEvent::Breach {
            reason: reason.clone(),
        },
        _ => return Err(AppError::NotFound),
    };
    let from = ContractState::parse(&row.state).unwrap_or(ContractState::Proposed);
    let to = match domain::next_state(from, &event, campaign.sample_needed, false) {
        Ok(to) => to,
        Err(e) => {
            let ctx = ctx.reopen(&state.db).await?;
            return page(
                &state,
                &session,
                lang,
                &origin,
                ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.key()),
            )
            .await;
        }
    };
    sqlx::query(
        "UPDATE collaborations SET state = $3, updated_at = now(), \
           sample_carrier = CASE WHEN $4 <> '' THEN $4 ELSE sample_carrier END, \
           sample_tracking = CASE WHEN $5 <> '' THEN $5 ELSE sample_tracking END, \
           sample_shipped_at = CASE WHEN $3 = 'sample_shipped' THEN now() ELSE sample_shipped_at END, \
           sample_delivered_at = CASE WHEN $3 = 'sample_delivered' THEN now() ELSE sample_delivered_at END \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(ctx.tenant.id)
    .bind(id)
    .bind(to.code())
    .bind(form.get("carrier").trim())
    .bind(form.get("tracking_number").trim())
    .execute(&mut *ctx.tx)
    .await?;
    record_transition(&mut ctx, id, from, to, form.get("event"), &reason).await?;
    if to == ContractState::Accepted {
        let campaign_row = campaigns::get(&mut ctx.tx, ctx.tenant.id, row.campaign_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if campaign_row.state == CampaignState::Contracting.code() {
            match move_campaign(
                &mut ctx,
                row.campaign_id,
                Transition::FirstContractAccepted,
                "",
            )
            .await
            {
                Ok(_) => {}
                Err(MoveError::App(e)) => return Err(e),
                Err(MoveError::Refused(_)) => {}
            }
        }
    }
    ctx.tx.commit().await?;
    flash(&session, "ok", "contracts.updated").await?;
    Ok(Redirect::to(&format!("/t/{}/collaborations/{id}", ctx.tenant.slug)).into_response())
}

pub async fn edit_terms(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let row = load(&mut ctx, id, false).await?;
    am_only(&ctx)?;
    let all = versions(&mut ctx, id).await?;
    let current: Terms = all
        .first()
        .and_then(|v| serde_json::from_value(v.terms.clone()).ok())
        .ok_or(AppError::NotFound)?;
    let campaign: crate::campaigns::domain::Campaign =
        serde_json::from_value(row.campaign_data.clone()).unwrap_or_default();
    let state_enum = ContractState::parse(&row.state).unwrap_or(ContractState::Proposed);
    if !domain::terms_changeable(state_enum) {
        return Err(AppError::Forbidden);
    }
    let action = format!("/t/{}/collaborations/{id}/terms", ctx.tenant.slug);
    let heading = format!("@{} · {}", row.handle, row.display_name);
    terms_page(
        &state,
        &session,
        lang,
        ctx,
        (action, heading, String::new()),
        input_of(&current),
        (
            campaign.sample_needed,
            domain::is_amendment(state_enum),
            String::new(),
        ),
        StatusCode::OK,
        FieldErrors::new(),
    )
    .await
}

/// Changes the terms: in place while proposed; afterwards a new version with a reason.
pub async fn save_terms(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let row = load(&mut ctx, id, true).await?;
    am_only(&ctx)?;
    let all = versions(&mut ctx, id).await?;
    let before: Terms = all
        .first()
        .and_then(|v| serde_json::from_value(v.terms.clone()).ok())
        .ok_or(AppError::NotFound)?;
    let campaign: crate::campaigns::domain::Campaign =
        serde_json::from_value(row.campaign_data.clone()).unwrap_or_default();
    let state_enum = ContractState::parse(&row.state).unwrap_or(ContractState::Proposed);
    if !domain::terms_changeable(state_enum) {
        return Err(AppError::Forbidden);
    }
    let amendment = domain::is_amendment(state_enum);
    let input = posted(&form);
    let reason = form.get("reason").trim().to_string();
    let action = format!("/t/{}/collaborations/{id}/terms", ctx.tenant.slug);
    let heading = format!("@{} · {}", row.handle, row.display_name);
    let today = time::OffsetDateTime::now_utc().date();
    let validated = validate_terms(&input, campaign.sample_needed, today);
    let mut errors = validated.clone().err().unwrap_or_default();
    if amendment && reason.is_empty() {
        errors.insert("reason".into(), "contracts.error.reason_required");
    }
    let terms = match (errors.is_empty(), validated) {
        (true, Ok(t)) => t,
        _ => {
            return terms_page(
                &state,
                &session,
                lang,
                ctx,
                (action, heading, String::new()),
                input,
                (campaign.sample_needed, amendment, reason),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await;
        }
    };
    if terms.discount_code != row.discount_code
        && discount_code_taken(&mut ctx, &terms.discount_code, Some(id)).await?
    {
        let mut errors = FieldErrors::new();
        errors.insert("discount_code".into(), "contracts.error.code_taken");
        return terms_page(
            &state,
            &session,
            lang,
            ctx,
            (action, heading, String::new()),
            input,
            (campaign.sample_needed, amendment, reason),
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    }
    // Every change is a new version (history is never rewritten); after acceptance it is an
    // amendment and carries its reason.
    let version = row.current_version + 1;
    sqlx::query("INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, reason, created_by) VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6)")
        .bind(ctx.tenant.id)
        .bind(id)
        .bind(version)
        .bind(json!(terms))
        .bind(&reason)
        .bind(ctx.user.id)
        .execute(&mut *ctx.tx)
        .await?;
    sqlx::query("UPDATE collaborations SET current_version = $3, discount_code = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(ctx.tenant.id)
        .bind(id)
        .bind(version)
        .bind(&terms.discount_code)
        .execute(&mut *ctx.tx)
        .await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            if amendment {
                "collaboration.amend"
            } else {
                "collaboration.terms"
            },
            "collaboration",
            Some(id.to_string()),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id))
        .before(json!(before))
        .after(json!({ "terms": terms, "version": version, "reason": reason })),
    )
    .await?;
    ctx.tx.commit().await?;
    flash(&session, "ok", "contracts.updated").await?;
    Ok(Redirect::to(&format!("/t/{}/collaborations/{id}", ctx.tenant.slug)).into_response())
}

/// Records a move of a collaboration's state (who, when, why) and audits it.
pub async fn record_transition(
    ctx: &mut TenantCtx,
    collaboration_id: Uuid,
    from: ContractState,
    to: ContractState,
    event: &str,
    reason: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO contract_transitions (tenant_id, id, collaboration_id, from_state, to_state, event, actor_id, actor_label, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''))",
    )
    .bind(ctx.tenant.id)
    .bind(Uuid::now_v7())
    .bind(collaboration_id)
    .bind(from.code())
    .bind(to.code())
    .bind(event)
    .bind(ctx.user.id)
    .bind(ctx.user.label())
    .bind(reason)
    .execute(&mut *ctx.tx)
    .await?;
    let mut after = json!({ "state": to.code(), "event": event });
    if !reason.is_empty() {
        after["reason"] = json!(reason);
    }
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            "collaboration.transition",
            "collaboration",
            Some(collaboration_id.to_string()),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id))
        .before(json!({ "state": from.code() }))
        .after(after),
    )
    .await?;
    Ok(())
}
