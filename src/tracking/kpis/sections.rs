//! Performance sections other pages show, rendered here as HTML partials (our own escaped
//! templates): the collaboration page's posts, windows, clicks, orders and KPIs; the seller's
//! creator page history across this tenant's campaigns; and the account manager's queue items.

use askama::Template;
use time::OffsetDateTime;
use uuid::Uuid;

use super::figures::{self as kpis, KpiView};
use super::figures::{WindowCell, compute_all, group_candidates, window_cells};
use super::repo::{self, Scope};
use crate::campaigns::domain::Campaign;
use crate::error::{AppError, AppResult};
use crate::matching::repo::ReferenceRates;
use crate::tenants::TenantCtx;
use crate::tracking::posts::repo as posts_repo;
use crate::tracking::posts::views::late_text;
use crate::web::fmt;
use crate::web::labels::{List, label};
use crate::web::lang::Lang;

pub struct PostLine {
    pub id: Uuid,
    pub url: String,
    pub video_id: String,
    pub published: String,
    pub late: Option<String>,
    pub windows: Vec<WindowCell>,
}

pub struct OrderView {
    pub order: String,
    pub placed: String,
    pub status: String,
    pub amount: String,
    pub refunds: String,
    pub attributed_by: String,
}

#[derive(Template)]
#[template(path = "performance/_collaboration.html")]
struct CollaborationSection {
    tr: Lang,
    slug: String,
    id: Uuid,
    campaign_id: Uuid,
    can_write: bool,
    currency: String,
    kpis: KpiView,
    clicks_total: String,
    bots: String,
    posts: Vec<PostLine>,
    window_labels: Vec<String>,
    orders: Vec<OrderView>,
    /// The orders' page and the neighbouring pages that exist.
    orders_page: i64,
    orders_prev: Option<i64>,
    orders_next: Option<i64>,
    rates_note: String,
}

/// Order lines on a page of the collaboration page's orders (the totals count them all).
pub const ORDERS_PER_PAGE: i64 = 20;

/// The collaboration page's performance section, in the tenant transaction of the page, with
/// page `orders_page` (1-based) of its order lines.
pub async fn collaboration(
    ctx: &mut TenantCtx,
    id: Uuid,
    lang: Lang,
    orders_page: i64,
) -> AppResult<String> {
    let orders_page = orders_page.clamp(1, 10_000);
    let tenant = ctx.tenant.id;
    let collab = posts_repo::collaboration(&mut ctx.tx, tenant, &ctx.tenant.time_zone, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let shop_currency = repo::shop_currency(&mut ctx.tx, tenant, collab.campaign_id).await?;
    let totals = repo::totals(&mut ctx.tx, tenant, Scope::Collaboration(id)).await?;
    let orders = repo::order_totals(&mut ctx.tx, tenant, Scope::Collaboration(id)).await?;
    let candidates = repo::window_candidates(&mut ctx.tx, tenant, Scope::Collaboration(id)).await?;
    let posts = posts_repo::posts_of(&mut ctx.tx, tenant, id).await?;
    // Up to this page and one line more, to know whether a next page exists.
    let mut lines =
        repo::order_lines(&mut ctx.tx, tenant, id, orders_page * ORDERS_PER_PAGE + 1).await?;
    let orders_next =
        (lines.len() as i64 > orders_page * ORDERS_PER_PAGE).then_some(orders_page + 1);
    let skip = ((orders_page - 1) * ORDERS_PER_PAGE) as usize;
    lines = lines
        .into_iter()
        .skip(skip)
        .take(ORDERS_PER_PAGE as usize)
        .collect();
    let orders_prev = (orders_page > 1).then_some(orders_page - 1);
    let rates = ReferenceRates::load(&mut ctx.tx).await?;
    let campaign: Campaign =
        serde_json::from_value(collab.campaign_data.clone()).unwrap_or_default();
    let currency = kpis::report_currency(
        &campaign,
        shop_currency.as_deref(),
        &ctx.tenant.settlement_currency,
    );
    let targets = kpis::targets(&campaign, &currency);
    let (clicks_total, bots) = totals.first().map_or((0, 0), |t| (t.clicks_total, t.bots));
    let computed = compute_all(totals, &orders, &currency, &rates);
    let k = computed
        .rows
        .first()
        .map(|(_, k)| k.clone())
        .unwrap_or(computed.total);
    let now = OffsetDateTime::now_utc();
    let grouped = group_candidates(&candidates);
    let by_post = grouped.get(&id);
    let zone = collab.zone.clone();
    let section = CollaborationSection {
        tr: lang,
        slug: ctx.tenant.slug.clone(),
        id,
        campaign_id: collab.campaign_id,
        can_write: crate::tracking::posts::can_write(ctx).is_ok(),
        kpis: kpis::view(lang, &k, &targets),
        clicks_total: fmt::number(clicks_total),
        bots: fmt::number(bots),
        posts: posts
            .iter()
            .map(|p| {
                let one = by_post
                    .and_then(|m| m.get(&p.id))
                    .map(|v| std::iter::once((p.id, v.clone())).collect());
                PostLine {
                    id: p.id,
                    url: p.url.clone(),
                    video_id: p.video_id.clone().unwrap_or_else(|| "—".into()),
                    published: fmt::datetime(p.published_at, &zone),
                    late: late_text(lang, &collab, p.published_at),
                    windows: window_cells(one.as_ref(), now),
                }
            })
            .collect(),
        window_labels: crate::tracking::windows::Window::ALL
            .iter()
            .map(|w| lang.t(w.key()))
            .collect(),
        orders_page,
        orders_prev,
        orders_next,
        orders: lines
            .into_iter()
            .map(|o| OrderView {
                order: if o.line_key.is_empty() {
                    o.order_key
                } else {
                    format!("{} / {}", o.order_key, o.line_key)
                },
                placed: fmt::datetime(o.placed_at, &zone),
                status: o
                    .status
                    .map(|s| label(lang, List::OrderStatus, &s))
                    .unwrap_or_default(),
                amount: fmt::money(o.amount, &o.currency),
                refunds: fmt::money(o.refunds, &o.currency),
                attributed_by: o
                    .attributed_by
                    .map(|a| lang.t(&format!("performance.attributed_by.{a}")))
                    .unwrap_or_default(),
            })
            .collect(),
        rates_note: lang.t_with("performance.converted_note", &[("currency", &currency)]),
        currency,
    };
    Ok(section.render().map_err(anyhow::Error::from)?)
}

pub struct HistoryRow {
    pub collaboration_id: Uuid,
    pub campaign_id: Uuid,
    pub campaign: String,
    pub state_key: String,
    pub posts: i64,
    pub currency: String,
    pub kpis: KpiView,
}

#[derive(Template)]
#[template(path = "performance/_creator_history.html")]
struct CreatorHistory {
    tr: Lang,
    slug: String,
    rates_note: String,
    rows: Vec<HistoryRow>,
}

/// The seller's creator page: every collaboration of this creator with this tenant and what it
/// did, each in its campaign's report currency.
pub async fn creator_history(ctx: &mut TenantCtx, creator: Uuid, lang: Lang) -> AppResult<String> {
    let tenant = ctx.tenant.id;
    let totals = repo::totals(&mut ctx.tx, tenant, Scope::Creator(creator)).await?;
    let orders = repo::order_totals(&mut ctx.tx, tenant, Scope::Creator(creator)).await?;
    let campaigns = repo::creator_campaigns(&mut ctx.tx, tenant, creator).await?;
    let rates = ReferenceRates::load(&mut ctx.tx).await?;
    let mut rows = Vec::new();
    for c in campaigns {
        let Some(t) = totals.iter().find(|t| t.id == c.collaboration_id) else {
            continue;
        };
        let campaign: Campaign = serde_json::from_value(c.data).unwrap_or_default();
        let currency = kpis::report_currency(
            &campaign,
            c.shop_currency.as_deref(),
            &ctx.tenant.settlement_currency,
        );
        let mine: Vec<_> = orders
            .iter()
            .filter(|o| o.collaboration_id == t.id)
            .cloned()
            .collect();
        let computed = compute_all(vec![t.clone()], &mine, &currency, &rates);
        let Some((_, k)) = computed.rows.first() else {
            continue;
        };
        rows.push(HistoryRow {
            collaboration_id: t.id,
            campaign_id: c.campaign_id,
            campaign: format!("{} {}", c.code.unwrap_or_default(), c.title),
            state_key: t.state.label_key().to_string(),
            posts: t.posts,
            kpis: kpis::view(lang, k, &kpis::targets(&campaign, &currency)),
            currency,
        });
    }
    let section = CreatorHistory {
        tr: lang,
        rates_note: lang.t("performance.converted_at_reference_rates"),
        slug: ctx.tenant.slug.clone(),
        rows,
    };
    Ok(section.render().map_err(anyhow::Error::from)?)
}
