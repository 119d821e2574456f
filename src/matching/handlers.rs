//! The account manager's matching page: the pool ranked for a campaign with each candidate's
//! breakdown and warnings, and sending a shortlist (scores frozen on each entry).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, ShortlistForm};
use super::domain::{MatchScore, Weights};
use super::repo::{self, CandidateInfo};
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::tier::TierBadge;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::web::forms::Form;
use crate::web::front::Front;
use crate::web::labels::{List, labels};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::listing::{Listing, Pager, SortLink};
use crate::web::{fmt, render_with};

/// How many candidates the page shows.
pub const SHOWN: usize = actions::RANKED_MAX;

pub struct Bar {
    pub label: String,
    pub points: String,
    pub percent: u32,
}

pub struct CandidateRow {
    pub id: Uuid,
    /// Place in the ranking (1 = best), whatever the page's sort.
    pub rank: usize,
    pub picked: bool,
    pub note: String,
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
    /// Picks and notes of candidates on other pages, carried in hidden fields.
    carried: Vec<(Uuid, bool, String)>,
    selected: usize,
    columns: Vec<SortLink>,
    tiers: Vec<(String, String, bool)>,
    /// The query of this view (sort, direction, page, tier) that the page's buttons keep.
    here: String,
    pager: Pager,
    prev_go: Option<String>,
    next_go: Option<String>,
}

/// Candidates on a page of the matching page.
pub const PAGE_SIZE: usize = 25;

/// The columns that sort, each with its first direction.
const SORTS: &[(&str, bool)] = &[
    ("total", true),
    ("followers", true),
    ("er", true),
    ("audience", true),
];

/// What a matching page was asked for: its view (sort, page, tier filter) and the picks and
/// notes made so far on any page. Buttons that change the view submit the form by GET with
/// `go` = the new view, so nothing picked is lost between pages (and it works without script).
pub struct Nav {
    query: Vec<(String, String)>,
    tier: String,
    picks: Vec<Uuid>,
    notes: HashMap<Uuid, String>,
}

impl Nav {
    pub fn from_query(raw: Option<&str>) -> Nav {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        // `go` (a button) replaces the view; otherwise the URL's own sort/page.
        let query = match pairs.iter().find(|(k, _)| k == "go") {
            Some((_, go)) => form_urlencoded::parse(go.as_bytes()).into_owned().collect(),
            None => pairs.clone(),
        };
        let tier = pairs
            .iter()
            .find(|(k, _)| k == "tier")
            .map(|(_, v)| v.clone())
            .filter(|t| ["S", "A", "B", "C", "none"].contains(&t.as_str()))
            .unwrap_or_default();
        Nav::of(query, tier, &pairs)
    }

    pub fn from_form(form: &ShortlistForm) -> Nav {
        let mut pairs: Vec<(String, String)> = form
            .pick
            .iter()
            .map(|p| ("pick".to_string(), p.clone()))
            .collect();
        pairs.extend(form.notes.iter().map(|(k, v)| (k.clone(), v.clone())));
        let tier = form.notes.get("tier").cloned().unwrap_or_default();
        Nav::of(Vec::new(), tier, &pairs)
    }

    fn of(query: Vec<(String, String)>, tier: String, pairs: &[(String, String)]) -> Nav {
        let mut picks = Vec::new();
        let mut notes = HashMap::new();
        for (k, v) in pairs {
            if k == "pick" {
                if let Ok(id) = v.parse::<Uuid>()
                    && !picks.contains(&id)
                {
                    picks.push(id);
                }
            } else if let Some(id) = k.strip_prefix("note-").and_then(|i| i.parse::<Uuid>().ok())
                && !v.trim().is_empty()
            {
                notes.insert(id, v.clone());
            }
        }
        Nav {
            query,
            tier,
            picks,
            notes,
        }
    }
}

/// How the page answers: its status, a message at the top, and the view asked for.
struct View {
    status: StatusCode,
    error: Option<&'static str>,
    nav: Nav,
}

/// A `go` value: the view with one thing changed.
fn go(sort: &str, desc: bool, page: i64) -> String {
    format!(
        "sort={sort}&dir={}&page={page}",
        if desc { "desc" } else { "asc" }
    )
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

async fn page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    campaign_id: Uuid,
    view: View,
) -> AppResult<Response> {
    let View { status, error, nav } = view;
    let actions::Ranking {
        campaign: row,
        weights,
        ranked,
    } = actions::ranked_candidates(
        &mut ctx.tx,
        &ctx.actor,
        super::creator_pool(state),
        &state.db,
        campaign_id,
        SHOWN,
    )
    .await?;
    let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
    let names: HashMap<Uuid, CandidateInfo> =
        repo::candidate_infos(&mut ctx.tx, ctx.tenant.id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    ctx.tx.commit().await?;
    let campaign = row.campaign();
    let slug = ctx.tenant.slug.clone();
    let here_path = format!("/t/{slug}/campaigns/{campaign_id}/matching");
    let listing = Listing::new(
        here_path.clone(),
        vec![("tier", nav.tier.clone())],
        &nav.query,
        SORTS,
    );
    // The ranking, filtered by tier, in the page's sort (ties: the ranking's order).
    let mut shown: Vec<(usize, &(Uuid, MatchScore), &CandidateInfo)> = ranked
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i + 1, r, names.get(&r.0)?)))
        .filter(|(_, _, info)| match nav.tier.as_str() {
            "" => true,
            "none" => info.badge().tier.is_none(),
            t => info.badge().tier.is_some_and(|x| x.code() == t),
        })
        .collect();
    let key = |(rank, (_, s), info): &(usize, &(Uuid, MatchScore), &CandidateInfo)| -> f64 {
        match listing.sort.as_str() {
            "followers" => info.followers as f64,
            "er" => s.engagement_rate,
            "audience" => s.breakdown.components.audience,
            _ => -(*rank as f64),
        }
    };
    shown.sort_by(|a, b| {
        let o = key(a).total_cmp(&key(b));
        let o = if listing.desc { o.reverse() } else { o };
        o.then(a.0.cmp(&b.0))
    });
    let (offset, pager) = listing.pager(lang, shown.len(), PAGE_SIZE);
    let on_page: Vec<Uuid> = shown
        .iter()
        .skip(offset)
        .take(PAGE_SIZE)
        .map(|(_, (id, _), _)| *id)
        .collect();
    let page_no = (offset / PAGE_SIZE) as i64 + 1;
    let carried: Vec<(Uuid, bool, String)> = ranked
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !on_page.contains(id))
        .filter(|id| nav.picks.contains(id) || nav.notes.contains_key(id))
        .map(|id| {
            (
                id,
                nav.picks.contains(&id),
                nav.notes.get(&id).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let selected = ranked
        .iter()
        .filter(|(id, _)| nav.picks.contains(id))
        .count();
    let columns = vec![
        listing.sort_link("total", lang.t("matching.total"), true, true),
        listing.sort_link("followers", lang.t("creators.followers"), true, true),
        listing.sort_link("er", lang.t("creators.er"), true, true),
        listing.sort_link(
            "audience",
            lang.t("matching.component.audience"),
            true,
            true,
        ),
    ]
    .into_iter()
    .map(|mut c| {
        // The header buttons submit the form with `go` (the new view) instead of a link.
        c.href = go(c.key, c.desc, 1);
        c
    })
    .collect();
    let tiers = ["S", "A", "B", "C", "none"]
        .into_iter()
        .map(|t| {
            let text = if t == "none" {
                lang.t("matching.tier_none")
            } else {
                t.to_string()
            };
            (t.to_string(), text, t == nav.tier)
        })
        .collect();
    let here = go(&listing.sort, listing.desc, page_no);
    let prev_go = pager
        .prev
        .as_ref()
        .map(|_| go(&listing.sort, listing.desc, page_no - 1));
    let next_go = pager
        .next
        .as_ref()
        .map(|_| go(&listing.sort, listing.desc, page_no + 1));
    let rows = shown
        .iter()
        .skip(offset)
        .take(PAGE_SIZE)
        .filter_map(|(rank, (id, s), _)| {
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
                rank: *rank,
                picked: nav.picks.contains(id),
                note: nav.notes.get(id).cloned().unwrap_or_default(),
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
            carried,
            selected,
            columns,
            tiers,
            here,
            pager,
            prev_go,
            next_go,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    ctx: TenantCtx,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    // Who may see the ranking is the action's rule (`actions::ranked_candidates`).
    let nav = Nav::from_query(query.as_deref());
    let view = View {
        status: StatusCode::OK,
        error: None,
        nav,
    };
    page(&state, &session, lang, ctx, id, view).await
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
    // Kept to show the page again with everything picked, should the send be refused.
    let nav = Nav::from_form(&form);
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
                View {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    error: Some(key),
                    nav,
                },
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
