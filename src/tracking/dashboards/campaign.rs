//! The campaign overview (UX "Campaign overview"): four big numbers against their targets, every
//! KPI of the campaign, the per-creator table sortable by any KPI (`?sort=<kpi>&dir=asc|desc`,
//! anything else falls back to GMV, highest first), daily charts of views, clicks and GMV, and
//! the D1/D7/D14/D30 comparison per creator.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::{Date, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::charts;
use super::repo::{self, DayValue};
use crate::campaigns::domain::Campaign;
use crate::contracts::domain::ContractState;
use crate::error::{AppError, AppResult};
use crate::kernel::rates::Rates;
use crate::kernel::tier::TierBadge;
use crate::matching::repo::ReferenceRates;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::tracking::kpis::domain::SortKey;
use crate::tracking::kpis::domain::{Amounts, Kpis};
use crate::tracking::kpis::figures::{
    self as kpis, Headline, KpiView, WindowCell, compute_all, group_candidates, window_cells,
};
use crate::tracking::kpis::repo::{self as kpis_repo, Scope};
use crate::tracking::order_imports::repo::{self as imports_repo, UNATTRIBUTED_CAP};
use crate::tracking::posts::repo as posts_repo;
use crate::tracking::windows::Window;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::parse_id;
use crate::web::render_with;

/// Sort and direction from the query string; the first value of each wins, garbage is ignored.
pub fn sort_of(query: Option<&str>) -> (SortKey, bool) {
    let mut sort = None;
    let mut dir = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "sort" if sort.is_none() => sort = Some(v.into_owned()),
            "dir" if dir.is_none() => dir = Some(v.into_owned()),
            _ => {}
        }
    }
    let key = sort
        .as_deref()
        .and_then(SortKey::parse)
        .unwrap_or(SortKey::Gmv);
    let desc = match dir.as_deref() {
        Some("asc") => false,
        Some("desc") => true,
        _ => key != SortKey::Creator,
    };
    (key, desc)
}

pub struct CreatorRow {
    pub collaboration_id: Uuid,
    pub creator_id: Uuid,
    pub handle: String,
    pub state: ContractState,
    pub state_key: String,
    pub posts: i64,
    pub kpis: Kpis,
    pub view: KpiView,
    /// The creator's tier with this tenant.
    pub badge: TierBadge,
}

pub struct SortHeader {
    pub code: &'static str,
    pub label: String,
    pub href: String,
    pub aria_sort: &'static str,
}

pub struct WindowRow {
    pub handle: String,
    pub collaboration_id: Uuid,
    pub cells: Vec<WindowCell>,
}

pub struct ChartView {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "performance/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    /// The campaign's tabs, rendered (`campaigns::tabs`).
    tabs: String,
    slug: String,
    campaign_id: Uuid,
    heading: String,
    currency: String,
    headlines: Vec<Headline>,
    total: KpiView,
    converted: bool,
    rates_note: String,
    headers: Vec<SortHeader>,
    rows: Vec<CreatorRow>,
    windows: Vec<String>,
    window_rows: Vec<WindowRow>,
    charts: Vec<ChartView>,
    can_import: bool,
    /// "N orders are not attributed…" when the campaign's GMV is 0 and some are.
    unattributed_hint: Option<String>,
}

fn href(slug: &str, campaign: Uuid, key: SortKey, desc: bool) -> String {
    format!(
        "/t/{slug}/campaigns/{campaign}/dashboard?sort={}&dir={}#creators",
        key.code(),
        if desc { "desc" } else { "asc" }
    )
}

/// The daily series as chart points (GMV converted into the report currency).
pub fn series(
    daily: &[(String, DayValue)],
    name: &str,
    currency: &str,
    rates: &dyn Rates,
) -> Vec<(Date, f64)> {
    let mut by_day: BTreeMap<Date, Amounts> = BTreeMap::new();
    for (_, v) in daily.iter().filter(|(s, _)| s == name) {
        let ccy = if v.currency.is_empty() {
            currency
        } else {
            &v.currency
        };
        by_day.entry(v.day).or_default().add(v.value, ccy);
    }
    by_day
        .into_iter()
        .map(|(day, amounts)| {
            let value: Decimal = amounts.in_currency(currency, rates).value;
            (day, value.to_f64().unwrap_or(0.0))
        })
        .collect()
}

/// What the overview and the report both read: the campaign, its report currency and targets,
/// every collaboration's KPIs and the total, the posts' window candidates and the daily series.
pub struct Loaded {
    pub row: posts_repo::CampaignFacts,
    pub campaign: Campaign,
    pub currency: String,
    pub targets: crate::tracking::kpis::domain::Targets,
    pub computed: kpis::Computed,
    pub candidates: Vec<kpis_repo::WindowCandidate>,
    pub daily: Vec<(String, DayValue)>,
    pub rates: ReferenceRates,
}

/// Reads a campaign's figures (404 for another tenant's campaign).
pub async fn load(state: &AppState, ctx: &mut TenantCtx, id: Uuid) -> AppResult<Loaded> {
    let row = posts_repo::campaign(&mut ctx.tx, ctx.tenant.id, &ctx.tenant.time_zone, id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.require_active()?;
    let tenant = ctx.tenant.id;
    let tz = ctx.tenant.time_zone.clone();
    // The four reads are independent: each runs in its own transaction, scoped to this tenant
    // and person like the page's own, so Postgres works on them side by side.
    let (db, user) = (&state.db, Some(ctx.user.id));
    let scoped = || async move { db.tenant_tx(tenant, user).await };
    let (totals, orders, candidates, daily) = tokio::try_join!(
        async {
            let mut tx = scoped().await?;
            kpis_repo::totals(&mut tx, tenant, Scope::Campaign(id)).await
        },
        async {
            let mut tx = scoped().await?;
            kpis_repo::order_totals(&mut tx, tenant, Scope::Campaign(id)).await
        },
        async {
            let mut tx = scoped().await?;
            kpis_repo::window_candidates(&mut tx, tenant, Scope::Campaign(id)).await
        },
        async {
            let mut tx = scoped().await?;
            repo::daily(&mut tx, tenant, id, &tz).await
        },
    )?;
    let rates = ReferenceRates::load(&mut ctx.tx).await?;
    let campaign: Campaign = serde_json::from_value(row.data.clone()).unwrap_or_default();
    let currency = kpis::report_currency(
        &campaign,
        row.shop_currency.as_deref(),
        &ctx.tenant.settlement_currency,
    );
    let targets = kpis::targets(&campaign, &currency);
    let computed = compute_all(totals, &orders, &currency, &rates);
    Ok(Loaded {
        row,
        campaign,
        currency,
        targets,
        computed,
        candidates,
        daily,
        rates,
    })
}

/// A daily line chart with its description ("N days, T in all") for screen readers.
pub fn daily_chart(lang: Lang, id: &str, title: &str, points: &[(Date, f64)]) -> String {
    let desc = lang.t_with(
        "performance.chart.desc",
        &[
            ("days", &points.len().to_string()),
            (
                "total",
                &charts::short_number(points.iter().map(|p| p.1).sum()),
            ),
        ],
    );
    charts::daily_line(id, title, &desc, points)
}

/// `GET /t/{slug}/campaigns/{id}/dashboard`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let Loaded {
        row: campaign_row,
        currency,
        targets,
        computed,
        candidates,
        daily,
        rates,
        ..
    } = load(&state, &mut ctx, id).await?;
    let tenant = ctx.tenant.id;
    let can_import = crate::tracking::posts::can_write(&ctx).is_ok();

    // GMV 0 while order lines wait for an attribution: say so, and where to attribute them.
    let unattributed_hint = if computed.total.gmv.value.is_zero() {
        let n = imports_repo::unattributed_count(&mut ctx.tx, tenant, UNATTRIBUTED_CAP).await?;
        (n > 0).then(|| {
            let count = if n > UNATTRIBUTED_CAP {
                format!("{UNATTRIBUTED_CAP}+")
            } else {
                n.to_string()
            };
            lang.t_with("performance.dashboard.unattributed", &[("count", &count)])
        })
    } else {
        None
    };
    let now = OffsetDateTime::now_utc();
    let grouped = group_candidates(&candidates);
    let (key, desc) = sort_of(query.as_deref());
    let slug = ctx.tenant.slug.clone();

    let mut rows: Vec<CreatorRow> = computed
        .rows
        .into_iter()
        .map(|(t, k)| CreatorRow {
            collaboration_id: t.id,
            creator_id: t.creator_id,
            state_key: t.state.label_key().to_string(),
            state: t.state,
            posts: t.posts,
            view: kpis::view(lang, &k, &targets),
            kpis: k,
            handle: t.handle,
            badge: TierBadge::default(),
        })
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.creator_id).collect();
    let badges = crate::matching::repo::tier_badges(&mut ctx.tx, ctx.tenant.id, &ids).await?;
    for r in &mut rows {
        r.badge = badges.get(&r.creator_id).copied().unwrap_or_default();
    }
    kpis::sort_rows(&mut rows, key, desc, |r| (r.handle.as_str(), &r.kpis));
    let window_rows = rows
        .iter()
        .filter(|r| r.posts > 0)
        .map(|r| WindowRow {
            handle: r.handle.clone(),
            collaboration_id: r.collaboration_id,
            cells: window_cells(grouped.get(&r.collaboration_id), now),
        })
        .collect();
    let headers = SortKey::ALL
        .into_iter()
        .map(|k| {
            let current = k == key;
            SortHeader {
                code: k.code(),
                label: lang.t(k.label_key()),
                href: href(
                    &slug,
                    id,
                    k,
                    if current {
                        !desc
                    } else {
                        k != SortKey::Creator
                    },
                ),
                aria_sort: match (current, desc) {
                    (false, _) => "none",
                    (true, true) => "descending",
                    (true, false) => "ascending",
                },
            }
        })
        .collect();
    let chart = |cid: &'static str, name: &str, title_key: &str, money: bool| {
        let points = series(&daily, name, &currency, &rates);
        let title = if money {
            lang.t_with(title_key, &[("currency", &currency)])
        } else {
            lang.t(title_key)
        };
        ChartView {
            id: cid,
            svg: daily_chart(lang, cid, &title, &points),
            rows: points
                .iter()
                .map(|(d, v)| (d.to_string(), charts::short_number(*v)))
                .collect(),
            title,
        }
    };
    let charts = vec![
        chart("views", "views", "performance.chart.views", false),
        chart("clicks", "clicks", "performance.chart.clicks", false),
        chart("gmv", "gmv", "performance.chart.gmv", true),
    ];
    let total = kpis::view(lang, &computed.total, &targets);
    let tabs = crate::campaigns::tabs::render(
        lang,
        &slug,
        id,
        ctx.access,
        crate::campaigns::tabs::Tab::Overview,
    );
    let (layout, _) = crate::tracking::posts::views::page_layout(
        &state,
        &session,
        lang,
        ctx,
        "performance.dashboard.title",
    )
    .await?;
    let page = DashboardPage {
        layout,
        tabs,
        heading: format!(
            "{} {}",
            campaign_row.code.clone().unwrap_or_default(),
            campaign_row.title
        ),
        campaign_id: id,
        headlines: kpis::headlines(lang, &computed.total, &targets),
        converted: total.converted || rows.iter().any(|r| r.view.converted),
        rates_note: lang.t_with("performance.converted_note", &[("currency", &currency)]),
        total,
        currency,
        headers,
        rows,
        windows: Window::ALL.iter().map(|w| lang.t(w.key())).collect(),
        window_rows,
        charts,
        can_import,
        unattributed_hint,
        slug,
    };
    render_with(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_sort_parameters_fall_back_to_gmv_descending() {
        assert_eq!(sort_of(None), (SortKey::Gmv, true));
        assert_eq!(
            sort_of(Some("sort=%27;drop&dir=sideways")),
            (SortKey::Gmv, true)
        );
        assert_eq!(
            sort_of(Some("sort=roi&dir=asc&sort=cpc")),
            (SortKey::Roi, false)
        );
        assert_eq!(sort_of(Some("sort=creator")), (SortKey::Creator, false));
        assert_eq!(sort_of(Some("dir=asc&dir=desc")), (SortKey::Gmv, false));
    }
}
