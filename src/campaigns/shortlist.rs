//! The seller's shortlist review: a card per offered creator with the numbers that decide,
//! approve or reject each (a rejection needs a reason; rejected creators never come back for
//! this campaign), ask for another round, or go ahead with the approved ones.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, ApproveShortlist, DecisionForm, RequestAnotherRound};
use super::domain::{CampaignState, Decision};
use super::repo;
use crate::error::{AppError, AppResult, DomainError, DomainResult};
use crate::kernel::tier::TierBadge;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::Form;
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::parse_id;
use crate::web::{fmt, render_with};

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
    /// The quote in the campaign's budget currency when the creator quotes in another one.
    pub quote_converted: Option<String>,
    /// (label, share) of the audience in each target the campaign set: ages, gender, markets.
    pub audience_match: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// (label, link) of the creator's recent videos: links only, never fetched.
    pub videos: Vec<(String, String)>,
    /// The creator's record with this seller outside this campaign.
    pub past: Past,
    /// None while the seller has not decided.
    pub decision: Option<Decision>,
    pub reason: String,
    pub collaboration: String,
    /// The creator's tier with this tenant.
    pub badge: TierBadge,
}

/// A creator's record with the seller, in words, for a shortlist card.
#[derive(Default)]
pub struct Past {
    /// "与本店合作 2 次 · 已评分 1 次，平均 82.5 分" or "首次与本店合作".
    pub summary: String,
    /// "违约 1 次" when any collaboration was breached.
    pub breached: Option<String>,
    /// (link to the campaign, "最近一次 82.5 分 · LUMI-2611-03").
    pub last: Option<(String, String)>,
}

impl Past {
    fn of(lang: Lang, slug: &str, record: Option<&repo::PastRecord>) -> Past {
        let Some(r) = record else {
            return Past {
                summary: lang.t("shortlist.past.first"),
                ..Past::default()
            };
        };
        let n = |v: i64| v.to_string();
        let mut parts = vec![lang.t_with("shortlist.past.booked", &[("n", &n(r.collaborations))])];
        if let Some(mean) = r.mean_score {
            parts.push(lang.t_with(
                "shortlist.past.rated",
                &[("n", &n(r.rated)), ("score", &mean.normalize().to_string())],
            ));
        }
        Past {
            summary: parts.join(" · "),
            breached: (r.breached > 0)
                .then(|| lang.t_with("shortlist.past.breached", &[("n", &n(r.breached))])),
            last: match (r.last_score, r.last_campaign_id) {
                (Some(score), Some(campaign)) => Some((
                    format!("/t/{slug}/campaigns/{campaign}"),
                    format!(
                        "{} · {}",
                        lang.t_with(
                            "shortlist.past.last",
                            &[("score", &score.normalize().to_string())]
                        ),
                        r.last_code.as_deref().unwrap_or_default()
                    ),
                )),
                _ => None,
            },
        }
    }
}

impl Card {
    /// The decision as stored ("approved", "rejected"), or "" while undecided.
    pub fn decision_code(&self) -> &'static str {
        self.decision.map_or("", Decision::code)
    }
}

#[derive(Template)]
#[template(path = "campaigns/shortlist.html")]
struct ShortlistPage {
    layout: Layout,
    /// The campaign's tabs, rendered (`campaigns::tabs`).
    tabs: String,
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
    let entries = repo::shortlist_entries(&mut ctx.tx, ctx.tenant.id, campaign_id, only).await?;
    let ids: Vec<Uuid> = entries.iter().map(|e| e.creator_id).collect();
    let badges = crate::matching::repo::tier_badges(&mut ctx.tx, ctx.tenant.id, &ids).await?;
    let past: std::collections::HashMap<Uuid, repo::PastRecord> =
        repo::past_records(&mut ctx.tx, ctx.tenant.id, campaign_id, &ids)
            .await?
            .into_iter()
            .map(|r| (r.creator_id, r))
            .collect();
    let slug = ctx.tenant.slug.clone();
    // Agency staff see the score as frozen; the seller sees it with the track-record component
    // from its own tier alone (SPEC §8), frozen beside it (entries sent before tiers existed
    // have no platform tier in them and show the one score).
    let staff = ctx.access == Access::AccountManager;
    let target = repo::get(&mut ctx.tx, ctx.tenant.id, campaign_id)
        .await?
        .map(|r| r.campaign())
        .unwrap_or_default();
    let rates = crate::matching::repo::ReferenceRates::load(&mut ctx.tx).await?;
    let percent = |v: Option<f64>| v.map(|v| format!("{:.0}%", v * 100.0));
    Ok(entries
        .into_iter()
        .map(|e| {
            let seen = super::domain::entry_score_seen(&e.breakdown, staff);
            let score = seen.map_or_else(|| format!("{:.1}", e.score), |t| format!("{t:.1}"));
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
                quote_converted: match (
                    e.quote_video,
                    e.quote_currency.as_deref(),
                    target.budget_currency.as_deref(),
                ) {
                    (Some(q), Some(from), Some(to)) if from != to => {
                        use crate::kernel::rates::Rates;
                        rates.convert(q, from, to).map(|v| fmt::money(v, to))
                    }
                    _ => None,
                },
                audience_match: {
                    let m = super::domain::audience_match(
                        &target,
                        &e.audience_age,
                        &e.audience_gender,
                        &e.audience_countries,
                    );
                    [
                        ("shortlist.match.ages", percent(m.ages)),
                        ("shortlist.match.gender", percent(m.gender)),
                        ("shortlist.match.markets", percent(m.markets)),
                    ]
                    .into_iter()
                    .filter_map(|(k, v)| Some((lang.t(k), v?)))
                    .collect()
                },
                quote: match (e.quote_video, e.quote_currency) {
                    (Some(q), Some(c)) => fmt::money(q, &c),
                    _ => "—".into(),
                },
                score,
                badge: badges.get(&e.creator_id).copied().unwrap_or_default(),
                note: e.note,
                profile_url: e.profile_url.unwrap_or_default(),
                videos: e
                    .recent_videos
                    .into_iter()
                    .enumerate()
                    .map(|(i, url)| (format!("{} {}", lang.t("shortlist.video"), i + 1), url))
                    .collect(),
                past: Past::of(lang, &slug, past.get(&e.creator_id)),
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
                decision: e.decision,
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
    let approved = cards
        .iter()
        .filter(|c| c.decision == Some(Decision::Approve))
        .count();
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
            tabs: super::tabs::render(
                lang,
                &ctx.tenant.slug,
                campaign_id,
                ctx.access,
                super::tabs::Tab::Shortlist,
            ),
            slug: ctx.tenant.slug.clone(),
            campaign_id,
            code: row.code.clone().unwrap_or_default(),
            title: row.title.clone(),
            can_decide: row.state == CampaignState::ShortlistSent
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
            can_decide: row.state == CampaignState::ShortlistSent
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

/// Where an answer to the seller goes: the page (or, for htmx, the card) in their language.
struct Door<'a> {
    state: &'a AppState,
    session: &'a Session,
    lang: Lang,
    front: Front,
}

/// Approve or reject one creator (a rejection says why).
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id, entry)): Path<(String, String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    let entry_id = parse_id(&entry)?;
    let door = Door {
        state: &state,
        session: &session,
        lang,
        front,
    };
    let input = form.into_input(campaign_id, entry_id);
    let decided = actions::decide_entry(&mut ctx.tx, &ctx.actor, input).await;
    if let Some(key) = refusal(&door, &decided) {
        let ctx = ctx.reopen(&state.db).await?;
        return refuse(&door, ctx, campaign_id, entry_id, key).await;
    }
    decided?;
    if front == Front::Htmx {
        return card(&state, lang, ctx, campaign_id, entry_id, None).await;
    }
    ctx.tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/campaigns/{campaign_id}/shortlist",
        ctx.tenant.slug
    ))
    .into_response())
}

/// The message key a refused or invalid answer shows on the page or the card; None when it is
/// answered as an error (anything else, and everything for a JSON request: problem+json).
fn refusal<T>(door: &Door<'_>, result: &DomainResult<T>) -> Option<&'static str> {
    if door.front.is_json() {
        return None;
    }
    match result {
        Err(DomainError::Refused(key)) => Some(key),
        Err(DomainError::Invalid(errors)) => errors.values().next().copied(),
        _ => None,
    }
}

/// A refused decision: the card with its message for htmx, else the whole page (422).
async fn refuse(
    door: &Door<'_>,
    ctx: TenantCtx,
    campaign_id: Uuid,
    entry_id: Uuid,
    key: &str,
) -> AppResult<Response> {
    if door.front == Front::Htmx {
        card(door.state, door.lang, ctx, campaign_id, entry_id, Some(key)).await
    } else {
        page(
            door.state,
            door.session,
            door.lang,
            ctx,
            campaign_id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(key),
        )
        .await
    }
}

/// After another round or going ahead: the campaign's page, or the shortlist again with the
/// reason it was refused (422).
async fn answered<T>(
    door: &Door<'_>,
    ctx: TenantCtx,
    campaign_id: Uuid,
    result: DomainResult<T>,
) -> AppResult<Response> {
    if let Some(key) = refusal(door, &result) {
        let ctx = ctx.reopen(&door.state.db).await?;
        return page(
            door.state,
            door.session,
            door.lang,
            ctx,
            campaign_id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(key),
        )
        .await;
    }
    result?;
    ctx.tx.commit().await?;
    flash(door.session, "ok", "campaigns.moved").await?;
    Ok(Redirect::to(&format!("/t/{}/campaigns/{campaign_id}", ctx.tenant.slug)).into_response())
}

pub async fn another_round(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    let input = RequestAnotherRound { campaign_id };
    let result = actions::request_another_round(&mut ctx.tx, &ctx.actor, input).await;
    let door = Door {
        state: &state,
        session: &session,
        lang,
        front,
    };
    answered(&door, ctx, campaign_id, result).await
}

pub async fn proceed(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    let input = ApproveShortlist { campaign_id };
    let result = actions::approve_shortlist(&mut ctx.tx, &ctx.actor, input).await;
    let door = Door {
        state: &state,
        session: &session,
        lang,
        front,
    };
    answered(&door, ctx, campaign_id, result).await
}
