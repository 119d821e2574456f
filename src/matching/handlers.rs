//! The account manager's matching page: the pool ranked for a campaign with each candidate's
//! breakdown and warnings, and sending a shortlist (scores frozen on each entry).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, ShortlistForm};
use super::domain::{MatchScore, Weights};
use super::pool;
use super::repo::{self, CandidateInfo, ReferenceRates};
use crate::campaigns::repo as campaigns;
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::tier::TierBadge;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::Form;
use crate::web::front::Front;
use crate::web::labels::{List, labels};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

/// How many candidates the page shows.
pub const SHOWN: usize = 100;

pub struct Bar {
    pub label: String,
    pub points: String,
    pub percent: u32,
}

pub struct CandidateRow {
    pub id: Uuid,
    pub handle: String,
    pub name: String,
    pub followers: String,
    pub er: String,
    pub audience: String,
    pub quote: String,
    pub total: String,
    pub bars: Vec<Bar>,
    pub warnings: Vec<String>,
    pub badge: TierBadge,
}

#[derive(Template)]
#[template(path = "matching/page.html")]
struct MatchingPage {
    layout: Layout,
    /// The campaign's tabs, rendered (`campaigns::tabs`).
    tabs: String,
    slug: String,
    campaign_id: Uuid,
    code: String,
    title: String,
    asks: Vec<(String, String)>,
    rows: Vec<CandidateRow>,
    error: Option<String>,
}

fn bars(lang: Lang, s: &MatchScore, w: &Weights) -> Vec<Bar> {
    let c = &s.breakdown.components;
    let p = &s.breakdown.points;
    [
        ("audience", c.audience, p.audience, w.audience),
        ("engagement", c.engagement, p.engagement, w.engagement),
        ("category", c.category, p.category, w.category),
        ("style", c.style, p.style, w.style),
        ("price", c.price, p.price, w.price),
        (
            "track_record",
            c.track_record,
            p.track_record,
            w.track_record,
        ),
    ]
    .into_iter()
    .map(|(key, component, points, weight)| Bar {
        label: lang.t(&format!("matching.component.{key}")),
        points: format!("{points:.1} / {weight:.0}"),
        percent: (component * 100.0).round().clamp(0.0, 100.0) as u32,
    })
    .collect()
}

async fn ranked(
    state: &AppState,
    ctx: &mut TenantCtx,
    campaign_id: Uuid,
) -> AppResult<(campaigns::CampaignRow, Weights, Vec<(Uuid, MatchScore)>)> {
    let row = campaigns::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ask = repo::ask_of(&row.campaign());
    let weights = repo::current_weights(&mut ctx.tx).await?;
    let rates = ReferenceRates::load(&mut ctx.tx).await?;
    let ranked = pool::rank(
        super::creator_pool(state),
        &state.db,
        &mut ctx.tx,
        ctx.tenant.id,
        campaign_id,
        &ask,
        &weights,
        &rates,
        SHOWN,
    )
    .await?
    .0;
    Ok((row, weights, ranked))
}

async fn page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    campaign_id: Uuid,
    status: StatusCode,
    error: Option<&str>,
) -> AppResult<Response> {
    let (row, weights, ranked) = ranked(state, &mut ctx, campaign_id).await?;
    let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
    let names: HashMap<Uuid, CandidateInfo> =
        repo::candidate_infos(&mut ctx.tx, ctx.tenant.id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    ctx.tx.commit().await?;
    let campaign = row.campaign();
    let rows = ranked
        .iter()
        .filter_map(|(id, s)| {
            let info = names.get(id)?.clone();
            let badge = info.badge();
            let (handle, name, followers, quote, ccy) = (
                info.handle,
                info.display_name,
                info.followers,
                info.quote_video,
                info.quote_currency,
            );
            Some(CandidateRow {
                id: *id,
                handle,
                name,
                followers: fmt::number(followers),
                er: format!("{:.1}%", s.engagement_rate * 100.0),
                audience: format!("{:.0}%", s.breakdown.components.audience * 100.0),
                quote: match (quote, ccy) {
                    (Some(q), Some(c)) => fmt::money(q, &c),
                    _ => "—".into(),
                },
                total: format!("{:.1}", s.total),
                bars: bars(lang, s, &weights),
                warnings: s.warnings.iter().map(|w| lang.t(w.key())).collect(),
                badge,
            })
        })
        .collect();
    let asks = vec![
        (
            lang.t("campaigns.field.markets"),
            labels(lang, List::Market, &campaign.markets),
        ),
        (
            lang.t("campaigns.field.followers"),
            fmt::number_range(campaign.followers_min, campaign.followers_max),
        ),
        (
            lang.t("campaigns.field.budget"),
            match (
                campaign.budget_min,
                campaign.budget_max,
                campaign.budget_currency.as_deref(),
            ) {
                (None, None, _) | (_, _, None) => "—".into(),
                (a, b, Some(c)) => fmt::money_range(a, b, c),
            },
        ),
        (
            lang.t("campaigns.field.fee_cap"),
            match (
                campaign.fee_cap,
                campaign
                    .fee_cap_currency
                    .as_deref()
                    .or(campaign.budget_currency.as_deref()),
            ) {
                (Some(a), Some(c)) => fmt::money(a, c),
                _ => "—".into(),
            },
        ),
        (
            lang.t("campaigns.field.roi_target"),
            campaign
                .roi_target
                .map(|r| format!("{}×", r.normalize()))
                .unwrap_or_default(),
        ),
    ];
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "matching.page_title",
        &path,
    )
    .await?;
    render_with(
        status,
        &MatchingPage {
            layout,
            tabs: crate::campaigns::tabs::render(
                lang,
                &ctx.tenant.slug,
                campaign_id,
                ctx.access,
                crate::campaigns::tabs::Tab::Matching,
            ),
            slug: ctx.tenant.slug.clone(),
            campaign_id,
            code: row.code.clone().unwrap_or_default(),
            title: row.title.clone(),
            asks,
            rows,
            error: error.map(|k| lang.t(k)),
        },
    )
}

fn am_only(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::AccountManager])?;
    ctx.require_active()
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let mut ctx = ctx;
    crate::campaigns::repo::ensure_exists(&mut ctx.tx, ctx.tenant.id, id).await?;
    am_only(&ctx)?;
    page(&state, &session, lang, ctx, id, StatusCode::OK, None).await
}

/// Sends the picked candidates (each with a note) as the next shortlist round; their scores
/// and breakdowns are computed now and frozen on the entries.
pub async fn send(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<ShortlistForm>,
) -> AppResult<Response> {
    let campaign_id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let input = form.into_input(campaign_id);
    match actions::send_shortlist(&mut ctx.tx, &ctx.actor, input).await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "matching.sent").await?;
            Ok(
                Redirect::to(&format!("/t/{}/campaigns/{campaign_id}", ctx.tenant.slug))
                    .into_response(),
            )
        }
        Err(e) if front.is_json() => Err(e.into()),
        Err(e) => {
            let Some(key) = shown_error(&e) else {
                return Err(e.into());
            };
            // Nothing was sent; the page again (from a fresh transaction) with the reason.
            let ctx = ctx.reopen(&state.db).await?;
            page(
                &state,
                &session,
                lang,
                ctx,
                campaign_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(key),
            )
            .await
        }
    }
}

/// The message a refused or invalid send shows on the page (its first field's).
fn shown_error(e: &DomainError) -> Option<&'static str> {
    match e {
        DomainError::Refused(key) => Some(key),
        DomainError::Invalid(errors) => errors.values().next().copied(),
        _ => None,
    }
}
