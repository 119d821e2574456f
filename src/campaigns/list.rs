//! The campaign list (UX.md): filters in the URL (status, market, period), sortable columns,
//! pagination, and per campaign its creators, spend, GMV and ROI against target — the same
//! figures as its overview (`tracking::kpis::campaign`).

use std::cmp::Ordering;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::CampaignState;
use super::repo;
use crate::error::AppResult;
use crate::kernel::markets::MARKETS;
use crate::matching::repo::ReferenceRates;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::tracking::kpis::campaign::{CampaignFigures, figures};
use crate::tracking::kpis::figures::{self as kpis, Headline};
use crate::web::labels::{List, label, labels};
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::listing::{Listing, Pager, SortLink};
use crate::web::{fmt, render_with};

/// Campaigns on a page.
pub const PAGE_SIZE: usize = 25;

/// The columns that sort, each with its first direction (numbers and dates: largest first).
const SORTS: &[(&str, bool)] = &[
    ("created", true),
    ("code", false),
    ("title", false),
    ("state", false),
    ("creators", true),
    ("spend", true),
    ("gmv", true),
    ("roi", true),
];

/// Periods a list can be narrowed to: created within the last N days.
const PERIODS: &[(&str, i64)] = &[("30d", 30), ("90d", 90), ("365d", 365)];

/// States in which a campaign has collaborations, hence figures.
fn has_figures(state: CampaignState) -> bool {
    matches!(
        state,
        CampaignState::Contracting
            | CampaignState::Running
            | CampaignState::Evaluating
            | CampaignState::Closed
    )
}

pub struct ListRow {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub state: CampaignState,
    pub markets: String,
    pub created: String,
    pub creators: String,
    pub spend: String,
    pub spend_converted: bool,
    /// GMV and ROI as the overview's headlines (value, target, green/amber/red).
    pub gmv: Option<Headline>,
    pub roi: Option<Headline>,
}

#[derive(Template)]
#[template(path = "campaigns/index.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    can_create: bool,
    /// (code, label, selected) for each filter's choices.
    statuses: Vec<(String, String, bool)>,
    markets: Vec<(String, String, bool)>,
    periods: Vec<(String, String, bool)>,
    filtered: bool,
    /// None before the first campaign exists (the empty state says what to do).
    any: bool,
    columns: Vec<SortLink>,
    rows: Vec<ListRow>,
    pager: Pager,
}

/// One campaign with what it sorts by.
struct Entry {
    row: repo::CampaignRow,
    figures: Option<CampaignFigures>,
}

impl Entry {
    fn roi(&self) -> Option<Decimal> {
        self.figures.as_ref()?.total.roi.map(|f| f.value)
    }

    fn money(&self, pick: fn(&CampaignFigures) -> Decimal) -> Option<Decimal> {
        self.figures.as_ref().map(pick)
    }
}

/// Compares two optional numbers so that "no figure" sorts last in either direction.
fn by_number<T: PartialOrd>(a: Option<T>, b: Option<T>, desc: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            let o = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn sort(entries: &mut [Entry], key: &str, desc: bool) {
    let dir = |o: Ordering| if desc { o.reverse() } else { o };
    entries.sort_by(|a, b| {
        let primary = match key {
            "code" => by_number(a.row.code.as_ref(), b.row.code.as_ref(), desc),
            "title" => dir(a.row.title.to_lowercase().cmp(&b.row.title.to_lowercase())),
            "state" => dir(CampaignState::ALL
                .iter()
                .position(|s| *s == a.row.state)
                .cmp(&CampaignState::ALL.iter().position(|s| *s == b.row.state))),
            "creators" => by_number(
                a.figures.as_ref().map(|f| f.creators),
                b.figures.as_ref().map(|f| f.creators),
                desc,
            ),
            "spend" => by_number(
                a.money(|f| f.total.cost.value),
                b.money(|f| f.total.cost.value),
                desc,
            ),
            "gmv" => by_number(
                a.money(|f| f.total.gmv.value),
                b.money(|f| f.total.gmv.value),
                desc,
            ),
            "roi" => by_number(a.roi(), b.roi(), desc),
            _ => dir(a.row.created_at.cmp(&b.row.created_at)),
        };
        // Ties: newest first, then by id, so pages never shuffle.
        primary
            .then_with(|| b.row.created_at.cmp(&a.row.created_at))
            .then_with(|| a.row.id.cmp(&b.row.id))
    });
}

/// `GET /t/{slug}/campaigns?status=&market=&period=&sort=&dir=&page=`
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    RawQuery(query): RawQuery,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(name, _)| name == k)
            .map_or("", |(_, v)| v.trim())
    };
    // Unknown filter values are dropped (the list shows everything for that filter).
    let status = CampaignState::parse(get("status"));
    let market = MARKETS.iter().find(|m| **m == get("market")).copied();
    let period = PERIODS.iter().find(|(p, _)| *p == get("period")).copied();
    let slug = ctx.tenant.slug.clone();
    let path = format!("/t/{slug}/campaigns");
    let listing = Listing::new(
        path.clone(),
        vec![
            ("status", status.map_or(String::new(), |s| s.code().into())),
            ("market", market.unwrap_or_default().into()),
            ("period", period.map_or(String::new(), |(p, _)| p.into())),
        ],
        &pairs,
        SORTS,
    );

    let all = repo::list(&mut ctx.tx, ctx.tenant.id).await?;
    let any = !all.is_empty();
    let now = OffsetDateTime::now_utc();
    let rows: Vec<repo::CampaignRow> = all
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.state == s))
        .filter(|r| market.is_none_or(|m| r.markets.iter().any(|x| x == m)))
        .filter(|r| period.is_none_or(|(_, days)| r.created_at >= now - Duration::days(days)))
        .collect();
    let rates = ReferenceRates::load(&mut ctx.tx).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let figures = if has_figures(row.state) {
            figures(
                &mut ctx.tx,
                ctx.tenant.id,
                &ctx.tenant.time_zone,
                &ctx.tenant.settlement_currency,
                &rates,
                row.id,
            )
            .await?
        } else {
            None
        };
        entries.push(Entry { row, figures });
    }
    ctx.tx.commit().await?;
    sort(&mut entries, &listing.sort, listing.desc);
    let (offset, pager) = listing.pager(lang, entries.len(), PAGE_SIZE);
    let zone = ctx.tenant.time_zone.clone();
    let rows = entries
        .into_iter()
        .skip(offset)
        .take(PAGE_SIZE)
        .map(|e| {
            let (creators, spend, spend_converted, gmv, roi) = match &e.figures {
                Some(f) => {
                    let cost = kpis::view(lang, &f.total, &f.targets).cost;
                    let mut four = kpis::headlines(lang, &f.total, &f.targets).into_iter();
                    (
                        fmt::number(f.creators as i64),
                        cost.text,
                        cost.converted,
                        four.next(),
                        four.next(),
                    )
                }
                None => ("—".into(), "—".into(), false, None, None),
            };
            ListRow {
                id: e.row.id,
                code: e.row.code.unwrap_or_else(|| "—".into()),
                title: e.row.title,
                state: e.row.state,
                markets: labels(lang, List::Market, &e.row.markets),
                created: fmt::datetime(e.row.created_at, &zone),
                creators,
                spend,
                spend_converted,
                gmv,
                roi,
            }
        })
        .collect();
    let columns = vec![
        listing.sort_link("code", lang.t("campaigns.code"), false, false),
        listing.sort_link("title", lang.t("campaigns.field.title"), false, false),
        listing.sort_link("state", lang.t("dashboard.status"), false, false),
        listing.sort_link("creators", lang.t("campaigns.list.creators"), true, true),
        listing.sort_link("spend", lang.t("campaigns.list.spend"), true, true),
        listing.sort_link("gmv", lang.t("performance.kpi.gmv"), true, true),
        listing.sort_link("roi", lang.t("performance.kpi.roi"), true, true),
        listing.sort_link("created", lang.t("campaigns.created"), true, true),
    ];
    let choices = |items: Vec<(String, String)>, current: &str| {
        items
            .into_iter()
            .map(|(code, text)| {
                let selected = code == current;
                (code, text, selected)
            })
            .collect::<Vec<_>>()
    };
    let statuses = choices(
        CampaignState::ALL
            .iter()
            .map(|s| (s.code().to_string(), lang.t(s.label_key())))
            .collect(),
        listing.filter("status"),
    );
    let markets = choices(
        MARKETS
            .iter()
            .map(|m| (m.to_string(), label(lang, List::Market, m)))
            .collect(),
        listing.filter("market"),
    );
    let periods = choices(
        PERIODS
            .iter()
            .map(|(p, _)| (p.to_string(), lang.t(&format!("campaigns.list.period_{p}"))))
            .collect(),
        listing.filter("period"),
    );
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "campaigns.title",
        &path,
    )
    .await?;
    render_with(
        StatusCode::OK,
        &ListPage {
            layout,
            slug,
            can_create: matches!(ctx.access, Access::Owner | Access::Operator),
            statuses,
            markets,
            periods,
            filtered: status.is_some() || market.is_some() || period.is_some(),
            any,
            columns,
            rows,
            pager,
        },
    )
}
