//! The seller's side of the creator pool (UX "Creators"): the creators this tenant has been
//! offered (a shortlist entry in any of its campaigns) or works with (a collaboration), and one
//! creator's page with the public profile and the history with this tenant.
//!
//! Access: any member of the tenant (owner, operator, viewer) and the account manager assigned to
//! it may read these pages; until the tenant is active they redirect to the dashboard, like the
//! other tenant pages. A creator never offered to this tenant is unknown here (404), even when it
//! was offered to another tenant, so the page does not tell whether a creator works elsewhere.
//!
//! What a seller sees of a creator is its public profile (what the creator shows on TikTok and
//! the agency measures for everyone: followers, 30-day averages, engagement, categories, styles,
//! audience, quotes) and the tenant's own history. Staff-only, never on these pages: contact,
//! MCN, the text of violation notes, the sample posting rate, the platform blacklist and the
//! platform tier — agency knowledge, partly drawn from other sellers' collaborations. The
//! warnings frozen on an offer (e.g. "past violation notes") are shown, as on the shortlist card
//! the seller received them with. Another tenant's notes, decisions and collaborations never
//! show: every query filters by this tenant, and row-level security refuses the rest anyway.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::handlers::{Engagement, SortLink, audience_shares, quote_text};
use super::repo::{self, CreatorDetail, PAGE_SIZE, SellerSort as Sort};
use crate::auth::CurrentUser;
use crate::campaigns::domain::Decision;
use crate::contracts::domain::{ContractState, Terms};
use crate::error::{AppError, AppResult};
use crate::kernel::tier::TierBadge;
use crate::state::AppState;
use crate::tenants::{Access, Tenant, TenantCtx};
use crate::web::labels::{List, label, labels};
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::{fmt, render_with};

/// The list's search, order and page as they stand in the URL. Anything unreadable falls back
/// to the default instead of refusing the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SellerFilter {
    pub q: String,
    pub sort: Sort,
    pub desc: bool,
    pub page: i64,
}

impl SellerFilter {
    pub fn from_query(raw: Option<&str>) -> SellerFilter {
        let (mut q, mut sort, mut dir, mut page) = (String::new(), Sort::default(), None, 1);
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "q" => q = v.trim().chars().take(100).collect(),
                "sort" => sort = Sort::parse(&v).unwrap_or_default(),
                "dir" => {
                    dir = match v.as_ref() {
                        "asc" => Some(false),
                        "desc" => Some(true),
                        _ => None,
                    }
                }
                "page" => {
                    page = v
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|p| *p >= 1)
                        .unwrap_or(1)
                }
                _ => {}
            }
        }
        SellerFilter {
            q,
            sort,
            desc: dir.unwrap_or(sort.default_desc()),
            page,
        }
    }

    /// The list's URL with this search and the given order and page.
    fn href(&self, slug: &str, sort: Sort, desc: bool, page: i64) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            pairs.append_pair("q", &self.q);
        }
        pairs.append_pair("sort", sort.code());
        pairs.append_pair("dir", if desc { "desc" } else { "asc" });
        if page > 1 {
            pairs.append_pair("page", &page.to_string());
        }
        format!("/t/{slug}/creators?{}", pairs.finish())
    }

    /// `%q%` for LIKE, or None. The query lower-cases both sides (handles are lower case), so
    /// names compare the way Postgres folds them.
    fn pattern(&self) -> Option<String> {
        let q = self.q.trim_start_matches('@');
        (!q.is_empty()).then(|| {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
    }
}

/// The most recent collaboration with a creator.
pub struct LastCollaboration {
    pub id: Uuid,
    pub code: String,
    pub state: ContractState,
}

pub struct ListRow {
    pub id: Uuid,
    pub handle: String,
    pub name: String,
    pub active: bool,
    pub markets: String,
    pub followers: String,
    pub score: String,
    pub warnings: Vec<String>,
    pub offers: i64,
    pub approvals: i64,
    pub collaborations: i64,
    pub last_collaboration: Option<LastCollaboration>,
    pub last_offered: String,
    /// The creator's tier with this tenant (`templates/_tier_badge.html`).
    pub badge: TierBadge,
}

#[derive(Template)]
#[template(path = "creators/seller_index.html")]
struct ListPage {
    layout: Layout,
    /// The tier distribution chart with its table (`tiers::sections::distribution`), rendered.
    distribution: String,
    slug: String,
    q: String,
    sort: &'static str,
    dir: &'static str,
    rows: Vec<ListRow>,
    total: String,
    columns: Vec<SortLink>,
    prev: Option<String>,
    next: Option<String>,
    page_info: String,
}

/// The frozen warnings of a shortlist entry (`["low_like_view_ratio", …]`), in words.
fn warning_labels(lang: Lang, frozen: Option<&serde_json::Value>) -> Vec<String> {
    frozen
        .and_then(|w| w.as_array())
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str())
        .map(|w| lang.t(&format!("matching.warning.{w}")))
        .collect()
}

fn score_text(score: Option<Decimal>) -> String {
    score.map_or_else(|| "—".into(), |s| format!("{s:.1}"))
}

/// Both pages' layout, inside the tenant, under the "Creators" navigation item.
async fn layout(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    tenant: (&Tenant, Access),
    path: &str,
) -> AppResult<Layout> {
    Layout::for_user(
        state,
        session,
        lang,
        user,
        Some(tenant),
        "seller_creators.title",
        path,
    )
    .await
}

/// `GET /t/{tenant_slug}/creators`: the creators offered to this tenant or working with it.
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    RawQuery(query): RawQuery,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let mut filter = SellerFilter::from_query(query.as_deref());
    let pattern = filter.pattern();
    let total = repo::known_count(&mut ctx.tx, ctx.tenant.id, pattern.as_deref()).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    filter.page = filter.page.min(pages);
    let rows = repo::known_page(
        &mut ctx.tx,
        ctx.tenant.id,
        pattern.as_deref(),
        (filter.sort, filter.desc),
        filter.page,
    )
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let badges = crate::tiers::sections::badges(&mut ctx.tx, ctx.tenant.id, &ids).await?;
    let distribution =
        crate::tiers::sections::distribution(&mut ctx.tx, ctx.tenant.id, lang).await?;
    ctx.tx.commit().await?;

    let tz = ctx.tenant.time_zone.clone();
    let rows = rows
        .into_iter()
        .map(|r| ListRow {
            badge: badges.get(&r.id).copied().unwrap_or_default(),
            id: r.id,
            name: r.display_name,
            active: r.active,
            markets: labels(lang, List::Market, &r.markets),
            followers: fmt::number(r.followers),
            score: score_text(r.latest_score),
            warnings: warning_labels(lang, r.warnings.as_ref()),
            offers: r.offers,
            approvals: r.approvals,
            collaborations: r.collaborations,
            last_collaboration: r
                .last_collaboration_id
                .zip(r.last_state)
                .map(|(id, state)| LastCollaboration {
                    id,
                    code: r.last_code.unwrap_or_else(|| "—".into()),
                    state,
                }),
            last_offered: r
                .last_offered_at
                .map_or_else(|| "—".into(), |t| fmt::datetime(t, &tz)),
            handle: r.handle,
        })
        .collect();
    let slug = ctx.tenant.slug.clone();
    let columns = [
        (Sort::Handle, "seller_creators.creator"),
        (Sort::Followers, "creators.followers"),
        (Sort::Score, "seller_creators.latest_score"),
        (Sort::LastOffered, "seller_creators.last_offered"),
    ]
    .into_iter()
    .map(|(sort, label)| {
        let current = filter.sort == sort;
        SortLink {
            label: lang.t(label),
            // A click on the current column turns it round; another column starts its own way.
            href: filter.href(
                &slug,
                sort,
                if current {
                    !filter.desc
                } else {
                    sort.default_desc()
                },
                1,
            ),
            current: current.then_some(if filter.desc {
                "descending"
            } else {
                "ascending"
            }),
        }
    })
    .collect();
    let layout = layout(
        &state,
        &session,
        lang,
        &ctx.user,
        (&ctx.tenant, ctx.access),
        &format!("/t/{slug}/creators"),
    )
    .await?;
    let page = filter.page;
    render_with(
        StatusCode::OK,
        &ListPage {
            layout,
            distribution,
            q: filter.q.clone(),
            sort: filter.sort.code(),
            dir: if filter.desc { "desc" } else { "asc" },
            rows,
            total: fmt::number(total),
            columns,
            prev: (page > 1).then(|| filter.href(&slug, filter.sort, filter.desc, page - 1)),
            next: (page < pages).then(|| filter.href(&slug, filter.sort, filter.desc, page + 1)),
            page_info: lang.t_with(
                "creators.page_info",
                &[("page", &page.to_string()), ("pages", &pages.to_string())],
            ),
            slug,
        },
    )
}

/// The public part of a creator's profile: everything on it may be shown to any seller the
/// creator was offered to. Staff-only fields (contact, MCN, violation notes, sample posting
/// rate, platform blacklist) are deliberately not carried over.
pub struct PublicProfile {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub active: bool,
    pub profile_url: Option<String>,
    /// Links to recent videos (shown as links, never fetched).
    pub recent_videos: Vec<String>,
    pub country: String,
    pub markets: String,
    pub languages: String,
    pub categories: String,
    pub styles: String,
    pub followers: String,
    pub averages: String,
    pub er: String,
    pub like_view: String,
    pub low_like_view: bool,
    pub quote_video: String,
    pub quote_live: String,
    pub refreshed: String,
    /// (group, [(label, share)]) for age, gender and countries, largest share first.
    pub audience: Vec<(String, Vec<(String, String)>)>,
}

impl PublicProfile {
    fn of(lang: Lang, c: CreatorDetail, time_zone: &str) -> PublicProfile {
        let engagement = Engagement::of(c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares);
        let money = |q: Option<Decimal>| quote_text(q, c.quote_currency.as_deref());
        PublicProfile {
            id: c.id,
            active: c.active,
            profile_url: c.profile_url.clone(),
            recent_videos: c.recent_videos.clone(),
            country: c
                .country
                .as_deref()
                .map_or_else(|| "—".into(), |v| label(lang, List::Market, v)),
            markets: labels(lang, List::Market, &c.markets),
            languages: labels(lang, List::Language, &c.languages),
            categories: labels(lang, List::Category, &c.categories),
            styles: labels(lang, List::Style, &c.styles),
            followers: fmt::number(c.followers),
            averages: [c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares]
                .map(fmt::number)
                .join(" / "),
            er: engagement.er,
            like_view: engagement.like_view,
            low_like_view: engagement.low_like_view,
            quote_video: money(c.quote_video),
            quote_live: money(c.quote_live),
            refreshed: c
                .last_refreshed_at
                .map_or_else(|| "—".into(), |t| fmt::datetime(t, time_zone)),
            audience: vec![
                (
                    lang.t("creators.audience_age"),
                    audience_shares(lang, &c.audience_age),
                ),
                (
                    lang.t("creators.audience_gender"),
                    audience_shares(lang, &c.audience_gender),
                ),
                (
                    lang.t("creators.audience_countries"),
                    audience_shares(lang, &c.audience_countries),
                ),
            ],
            handle: c.handle,
            display_name: c.display_name,
        }
    }
}

/// One shortlist entry of this tenant for the creator.
pub struct Offer {
    pub campaign_id: Uuid,
    pub code: String,
    pub title: String,
    pub round: i32,
    pub score: String,
    pub warnings: Vec<String>,
    pub note: String,
    /// None while undecided.
    pub decision: Option<Decision>,
    pub reason: String,
    pub decided: String,
    pub sent: String,
}

/// One collaboration of this tenant with the creator.
pub struct Collaboration {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub code: String,
    pub title: String,
    pub state: ContractState,
    pub fee: String,
    pub created: String,
}

/// The fee of the current terms: model, fixed fee with its currency, commission.
fn fee_text(lang: Lang, terms: Option<serde_json::Value>) -> String {
    let Some(t) = terms.and_then(|v| serde_json::from_value::<Terms>(v).ok()) else {
        return "—".into();
    };
    let mut parts = Vec::new();
    if let Some(fee) = t.fixed_fee_money() {
        parts.push(fmt::money(fee.amount, fee.currency.code()));
    }
    if t.commission_rate > Decimal::ZERO {
        parts.push(lang.t_with(
            "seller_creators.commission",
            &[("rate", &fmt::percent_of(t.commission_rate))],
        ));
    }
    format!(
        "{} · {}",
        lang.t(t.fee_model.label_key()),
        parts.join(" + ")
    )
}

#[derive(Template)]
#[template(path = "creators/seller_show.html")]
struct CreatorPage {
    layout: Layout,
    slug: String,
    p: PublicProfile,
    offers: Vec<Offer>,
    collaborations: Vec<Collaboration>,
    is_am: bool,
    /// History with KPIs across this tenant's campaigns (`tracking::kpis::sections`), rendered.
    performance: String,
    /// The creator's tier with this tenant (`templates/_tier_badge.html`).
    badge: TierBadge,
    /// Tier, reason, recommendation, history, blacklist and the owner's forms
    /// (`tiers::sections::seller_section`), rendered.
    tier_section: String,
}

/// The creator a path segment names — its id, or `@handle` (the shortlist card links by handle)
/// — if it was ever offered to this tenant or works with it; otherwise unknown here.
async fn known_creator(ctx: &mut TenantCtx, segment: &str) -> AppResult<(Uuid, bool)> {
    let (id, handle) = match segment.strip_prefix('@') {
        Some(handle) => (None, Some(handle.to_lowercase())),
        None => (
            Some(segment.parse::<Uuid>().map_err(|_| AppError::NotFound)?),
            None,
        ),
    };
    let found = repo::known_creator(&mut ctx.tx, ctx.tenant.id, id, handle.as_deref()).await?;
    Ok((found.ok_or(AppError::NotFound)?, handle.is_some()))
}

/// `GET /t/{tenant_slug}/creators/{id}`: a creator's public profile and its history with this
/// tenant. `/creators/@handle` answers with a redirect to the id's page.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, segment)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let (id, by_handle) = known_creator(&mut ctx, &segment).await?;
    let slug = ctx.tenant.slug.clone();
    if by_handle {
        return Ok(Redirect::to(&format!("/t/{slug}/creators/{id}")).into_response());
    }
    let creator = repo::get(&mut ctx.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let offers = repo::offers(&mut ctx.tx, ctx.tenant.id, id).await?;
    let collaborations = repo::collaborations_with(&mut ctx.tx, ctx.tenant.id, id).await?;
    let performance = crate::tracking::kpis::sections::creator_history(&mut ctx, id, lang).await?;
    let badge = crate::tiers::sections::badges(&mut ctx.tx, ctx.tenant.id, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let tier_section = crate::tiers::sections::seller_section(
        &mut ctx.tx,
        ctx.tenant.id,
        &slug,
        &ctx.tenant.time_zone.clone(),
        id,
        lang,
        ctx.access == Access::Owner,
        Default::default(),
    )
    .await?;
    ctx.tx.commit().await?;

    let tz = ctx.tenant.time_zone.as_str();
    let when = |t: Option<OffsetDateTime>| t.map(|t| fmt::datetime(t, tz)).unwrap_or_default();
    let offers = offers
        .into_iter()
        .map(|o| Offer {
            campaign_id: o.campaign_id,
            code: o.code.unwrap_or_default(),
            title: o.title,
            round: o.round,
            score: score_text(Some(o.score)),
            warnings: warning_labels(lang, o.warnings.as_ref()),
            note: o.note,
            decision: [Decision::Approve, Decision::Reject]
                .into_iter()
                .find(|d| o.decision.as_deref() == Some(d.code())),
            reason: o.decision_reason.unwrap_or_default(),
            decided: when(o.decided_at),
            sent: when(Some(o.sent_at)),
        })
        .collect();
    let collaborations = collaborations
        .into_iter()
        .map(|l| Collaboration {
            id: l.id,
            campaign_id: l.campaign_id,
            code: l.code.unwrap_or_default(),
            title: l.title,
            state: l.state,
            fee: fee_text(lang, l.terms),
            created: when(Some(l.created_at)),
        })
        .collect();
    let path = format!("/t/{slug}/creators/{id}");
    let tenant = (&ctx.tenant, ctx.access);
    let layout = layout(&state, &session, lang, &ctx.user, tenant, &path).await?;
    render_with(
        StatusCode::OK,
        &CreatorPage {
            layout,
            p: PublicProfile::of(lang, creator, tz),
            offers,
            collaborations,
            is_am: ctx.access == Access::AccountManager,
            slug,
            performance,
            badge,
            tier_section,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_query_parameters_fall_back_to_the_defaults() {
        let f = SellerFilter::from_query(Some("page=-1&sort=garbage&dir=sideways&q=%40Hana_"));
        assert_eq!(
            f,
            SellerFilter {
                q: "@Hana_".into(),
                sort: Sort::LastOffered,
                desc: true,
                page: 1,
            }
        );
        assert_eq!(f.pattern().as_deref(), Some("%Hana\\_%"));
        let f = SellerFilter::from_query(Some("sort=handle&page=abc&page=3"));
        assert_eq!((f.sort, f.desc, f.page), (Sort::Handle, false, 3));
        assert_eq!(SellerFilter::from_query(None).pattern(), None);
        assert_eq!(
            f.href("lumi", Sort::Score, true, 2),
            "/t/lumi/creators?sort=score&dir=desc&page=2"
        );
    }
}
