//! The seller's shortlist review: a card per offered creator with the numbers that decide,
//! approve or reject each (a rejection needs a reason; rejected creators never come back for
//! this campaign), ask for another round, or go ahead with the approved ones.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use sqlx::FromRow;
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::{CampaignState, Transition};
use super::handlers::{MoveError, move_campaign};
use super::repo;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::FormData;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::parse_id;
use crate::web::{fmt, render_with};

#[derive(FromRow)]
struct EntryRow {
    id: Uuid,
    round: i32,
    note: String,
    score: rust_decimal::Decimal,
    breakdown: serde_json::Value,
    decision: Option<String>,
    decision_reason: Option<String>,
    handle: String,
    display_name: String,
    followers: i64,
    avg_views: i64,
    avg_likes: i64,
    avg_comments: i64,
    avg_shares: i64,
    quote_video: Option<rust_decimal::Decimal>,
    quote_currency: Option<String>,
    profile_url: Option<String>,
    audience_age: serde_json::Value,
    collaboration_id: Option<Uuid>,
}

pub struct Card {
    pub id: Uuid,
    pub round: i32,
    pub handle: String,
    pub name: String,
    pub followers: String,
    pub er: String,
    pub audience_fit: String,
    pub quote: String,
    pub score: String,
    pub note: String,
    pub profile_url: String,
    pub top_ages: String,
    pub warnings: Vec<String>,
    pub decision: String,
    pub reason: String,
    pub collaboration: String,
}

#[derive(Template)]
#[template(path = "campaigns/shortlist.html")]
struct ShortlistPage {
    layout: Layout,
    slug: String,
    campaign_id: Uuid,
    code: String,
    title: String,
    can_decide: bool,
    is_am: bool,
    cards: Vec<Card>,
    approved: usize,
    card_error: Option<String>,
    error: Option<String>,
}

/// The cards of a campaign's shortlist (or just one entry's).
async fn load_cards(
    ctx: &mut TenantCtx,
    lang: Lang,
    campaign_id: Uuid,
    only: Option<Uuid>,
) -> AppResult<Vec<Card>> {
    let entries = sqlx::query_as::<_, EntryRow>(
        "SELECT e.id, e.round, e.note, e.score, e.breakdown, e.decision, e.decision_reason, c.handle, \
           c.display_name, c.followers, c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares, \
           c.quote_video, c.quote_currency::text AS quote_currency, c.profile_url, c.audience_age, \
           l.id AS collaboration_id \
         FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id \
         LEFT JOIN collaborations l ON l.tenant_id = e.tenant_id AND l.campaign_id = e.campaign_id \
           AND l.creator_id = e.creator_id \
         WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND ($3::uuid IS NULL OR e.id = $3) \
         ORDER BY e.round DESC, e.score DESC",
    )
    .bind(ctx.tenant.id)
    .bind(campaign_id)
    .bind(only)
    .fetch_all(&mut *ctx.tx)
    .await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let views = e.avg_views.max(0) as f64;
            let er = if views > 0.0 {
                (e.avg_likes + e.avg_comments + e.avg_shares) as f64 / views
            } else {
                0.0
            };
            let frozen = &e.breakdown["score"];
            let mut ages: Vec<(String, f64)> = e
                .audience_age
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
                        .collect()
                })
                .unwrap_or_default();
            ages.sort_by(|a, b| b.1.total_cmp(&a.1));
            Card {
                id: e.id,
                round: e.round,
                name: e.display_name,
                followers: fmt::number(e.followers),
                er: format!("{:.1}%", er * 100.0),
                audience_fit: format!(
                    "{:.0}%",
                    frozen["breakdown"]["components"]["audience"]
                        .as_f64()
                        .unwrap_or(0.0)
                        * 100.0
                ),
                quote: match (e.quote_video, e.quote_currency) {
                    (Some(q), Some(c)) => fmt::money(q, &c),
                    _ => "—".into(),
                },
                score: format!("{:.1}", e.score),
                note: e.note,
                profile_url: e.profile_url.unwrap_or_default(),
                top_ages: ages
                    .iter()
                    .take(2)
                    .map(|(k, v)| format!("{k} {:.0}%", v * 100.0))
                    .collect::<Vec<_>>()
                    .join(" · "),
                warnings: frozen["warnings"]
                    .as_array()
                    .map(|ws| {
                        ws.iter()
                            .filter_map(|w| w.as_str())
                            .map(|w| lang.t(&format!("matching.warning.{w}")))
                            .collect()
                    })
                    .unwrap_or_default(),
                decision: e.decision.unwrap_or_default(),
                reason: e.decision_reason.unwrap_or_default(),
                collaboration: e
                    .collaboration_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                handle: e.handle,
            }
        })
        .collect())
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
    let row = repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let cards = load_cards(&mut ctx, lang, campaign_id, None).await?;
    ctx.tx.commit().await?;
    let approved = cards.iter().filter(|c| c.decision == "approved").count();
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "shortlist.title",
        &path,
    )
    .await?;
    render_with(
        status,
        &ShortlistPage {
            layout,
            slug: ctx.tenant.slug.clone(),
            campaign_id,
            code: row.code.clone().unwrap_or_default(),
            title: row.title.clone(),
            can_decide: row.state == CampaignState::ShortlistSent.code()
                && matches!(ctx.access, Access::Owner | Access::Operator),
            is_am: ctx.access == Access::AccountManager,
            cards,
            approved,
            card_error: None,
            error: error.map(|k| lang.t(k)),
        },
    )
}

#[derive(Template)]
#[template(path = "campaigns/_card.html")]
struct CardPartial {
    layout: Layout,
    slug: String,
    campaign_id: Uuid,
    can_decide: bool,
    is_am: bool,
    c: Card,
    card_error: Option<String>,
}

/// For htmx: just the one card, after the decision (or with the reason it was refused).
async fn card(
    state: &AppState,
    lang: Lang,
    mut ctx: TenantCtx,
    campaign_id: Uuid,
    entry_id: Uuid,
    error: Option<&str>,
) -> AppResult<Response> {
    let row = repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = load_cards(&mut ctx, lang, campaign_id, Some(entry_id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    render_with(
        StatusCode::OK,
        &CardPartial {
            layout: Layout::public(state, lang, "shortlist.title", &path),
            slug: ctx.tenant.slug.clone(),
            campaign_id,
            can_decide: row.state == CampaignState::ShortlistSent.code()
                && matches!(ctx.access, Access::Owner | Access::Operator),
            is_am: ctx.access == Access::AccountManager,
            c,
            card_error: error.map(|k| lang.t(k)),
        },
    )
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
    page(&state, &session, lang, ctx, id, StatusCode::OK, None).await
}

fn seller_only(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::Owner, Access::Operator])?;
    ctx.require_active()
}

/// Approve or reject one creator (a rejection says why).
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    headers: axum::http::HeaderMap,
    Path((_slug, id, entry)): Path<(String, String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    crate::campaigns::repo::ensure_exists(&mut ctx.tx, ctx.tenant.id, campaign_id).await?;
    seller_only(&ctx)?;
    let entry_id = parse_id(&entry)?;
    let htmx = headers.contains_key("hx-request");
    let row = repo::get_for_update(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current: Option<Option<String>> = sqlx::query_scalar(
        "SELECT decision FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3 FOR UPDATE",
    )
    .bind(ctx.tenant.id)
    .bind(campaign_id)
    .bind(entry_id)
    .fetch_optional(&mut *ctx.tx)
    .await?;
    let Some(current) = current else {
        return Err(AppError::NotFound);
    };
    let decision = match form.get("decision") {
        "approve" => "approved",
        "reject" => "rejected",
        _ => {
            return refuse(
                &state,
                &session,
                lang,
                ctx,
                campaign_id,
                entry_id,
                htmx,
                "shortlist.error.decision",
            )
            .await;
        }
    };
    let reason = form
        .get("reason")
        .trim()
        .chars()
        .take(1000)
        .collect::<String>();
    if row.state != CampaignState::ShortlistSent.code() || current.is_some() {
        return refuse(
            &state,
            &session,
            lang,
            ctx,
            campaign_id,
            entry_id,
            htmx,
            "shortlist.error.closed",
        )
        .await;
    }
    if decision == "rejected" && reason.is_empty() {
        return refuse(
            &state,
            &session,
            lang,
            ctx,
            campaign_id,
            entry_id,
            htmx,
            "shortlist.error.reason_required",
        )
        .await;
    }
    sqlx::query(
        "UPDATE shortlist_entries SET decision = $4, decision_reason = NULLIF($5, ''), decided_by = $6, decided_at = now() \
         WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3",
    )
    .bind(ctx.tenant.id)
    .bind(campaign_id)
    .bind(entry_id)
    .bind(decision)
    .bind(&reason)
    .bind(ctx.user.id)
    .execute(&mut *ctx.tx)
    .await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            "shortlist.decide",
            "shortlist_entry",
            Some(entry_id.to_string()),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id))
        .before(json!({ "decision": null }))
        .after(json!({ "decision": decision, "reason": reason })),
    )
    .await?;
    if htmx {
        return card(&state, lang, ctx, campaign_id, entry_id, None).await;
    }
    ctx.tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/campaigns/{campaign_id}/shortlist",
        ctx.tenant.slug
    ))
    .into_response())
}

/// A refused decision: the card with its message for htmx, else the whole page (422).
#[allow(clippy::too_many_arguments)]
async fn refuse(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    campaign_id: Uuid,
    entry_id: Uuid,
    htmx: bool,
    key: &str,
) -> AppResult<Response> {
    if htmx {
        card(state, lang, ctx, campaign_id, entry_id, Some(key)).await
    } else {
        page(
            state,
            session,
            lang,
            ctx,
            campaign_id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(key),
        )
        .await
    }
}

async fn campaign_move(
    state: AppState,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    id: &str,
    t: Transition,
) -> AppResult<Response> {
    let campaign_id = parse_id(id)?;
    crate::campaigns::repo::ensure_exists(&mut ctx.tx, ctx.tenant.id, campaign_id).await?;
    seller_only(&ctx)?;
    if t == Transition::ApproveShortlist {
        let approved: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2 AND decision = 'approved'",
        )
        .bind(ctx.tenant.id)
        .bind(campaign_id)
        .fetch_one(&mut *ctx.tx)
        .await?;
        if approved == 0 {
            repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
                .await?
                .ok_or(AppError::NotFound)?;
            return page(
                &state,
                &session,
                lang,
                ctx,
                campaign_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("shortlist.error.none_approved"),
            )
            .await;
        }
    }
    match move_campaign(&mut ctx, campaign_id, t, "").await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "campaigns.moved").await?;
            Ok(
                Redirect::to(&format!("/t/{}/campaigns/{campaign_id}", ctx.tenant.slug))
                    .into_response(),
            )
        }
        Err(MoveError::App(e)) => Err(e),
        Err(MoveError::Refused(key)) => {
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

pub async fn another_round(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    campaign_move(
        state,
        session,
        lang,
        ctx,
        &id,
        Transition::RequestAnotherRound,
    )
    .await
}

pub async fn proceed(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    ctx: TenantCtx,
) -> AppResult<Response> {
    campaign_move(state, session, lang, ctx, &id, Transition::ApproveShortlist).await
}
