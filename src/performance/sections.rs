//! Performance sections other pages show, rendered here as HTML partials (our own escaped
//! templates): the collaboration page's posts, windows, clicks, orders and KPIs; the seller's
//! creator page history across this tenant's campaigns; and the account manager's queue items.

use askama::Template;
use time::OffsetDateTime;
use uuid::Uuid;

use super::dashboard::{WindowCell, compute_all, group_candidates, window_cells};
use super::kpis::{self, KpiView};
use super::posts::late_text;
use super::repo::{self, Scope};
use crate::campaigns::domain::Campaign;
use crate::error::{AppError, AppResult};
use crate::matching::repo::ReferenceRates;
use crate::tenants::TenantCtx;
use crate::web::fmt;
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
    rates_note: String,
}

/// Shown orders per collaboration page (the totals count them all).
const ORDERS_SHOWN: i64 = 50;

/// The collaboration page's performance section, in the tenant transaction of the page.
pub async fn collaboration(ctx: &mut TenantCtx, id: Uuid, lang: Lang) -> AppResult<String> {
    let tenant = ctx.tenant.id;
    let collab = repo::collaboration(&mut ctx.tx, tenant, &ctx.tenant.time_zone, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let shop_currency: Option<String> = sqlx::query_scalar(
        "SELECT s.currency::text FROM campaigns k JOIN shops s ON s.tenant_id = k.tenant_id \
           AND s.id = k.shop_id WHERE k.tenant_id = $1 AND k.id = $2",
    )
    .bind(tenant)
    .bind(collab.campaign_id)
    .fetch_optional(&mut *ctx.tx)
    .await?;
    let totals = repo::totals(&mut ctx.tx, tenant, Scope::Collaboration(id)).await?;
    let orders = repo::order_totals(&mut ctx.tx, tenant, Scope::Collaboration(id)).await?;
    let candidates = repo::window_candidates(&mut ctx.tx, tenant, Scope::Collaboration(id)).await?;
    let posts = repo::posts_of(&mut ctx.tx, tenant, id).await?;
    let lines = repo::order_lines(&mut ctx.tx, tenant, id, ORDERS_SHOWN).await?;
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
        can_write: super::can_write(ctx).is_ok(),
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
        orders: lines
            .into_iter()
            .map(|o| OrderView {
                order: if o.line_key.is_empty() {
                    o.order_key
                } else {
                    format!("{} / {}", o.order_key, o.line_key)
                },
                placed: fmt::datetime(o.placed_at, &zone),
                status: o.status.unwrap_or_default(),
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

#[derive(sqlx::FromRow)]
struct CampaignOf {
    collaboration_id: Uuid,
    campaign_id: Uuid,
    code: Option<String>,
    title: String,
    data: serde_json::Value,
    shop_currency: Option<String>,
}

/// The seller's creator page: every collaboration of this creator with this tenant and what it
/// did, each in its campaign's report currency.
pub async fn creator_history(ctx: &mut TenantCtx, creator: Uuid, lang: Lang) -> AppResult<String> {
    let tenant = ctx.tenant.id;
    let totals = repo::totals(&mut ctx.tx, tenant, Scope::Creator(creator)).await?;
    let orders = repo::order_totals(&mut ctx.tx, tenant, Scope::Creator(creator)).await?;
    let campaigns = sqlx::query_as::<_, CampaignOf>(
        "SELECT l.id AS collaboration_id, k.id AS campaign_id, k.code, k.title, k.data, \
                s.currency::text AS shop_currency \
           FROM collaborations l JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id \
           LEFT JOIN shops s ON s.tenant_id = k.tenant_id AND s.id = k.shop_id \
          WHERE l.tenant_id = $1 AND l.creator_id = $2 ORDER BY k.created_at DESC",
    )
    .bind(tenant)
    .bind(creator)
    .fetch_all(&mut *ctx.tx)
    .await?;
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
            state_key: format!("contract.state.{}", t.state),
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

/// More of what waits on the account manager in one tenant ($1), in the work queue's columns:
/// posts overdue (accepted, no post, past the current terms' deadline at the end of that day in
/// the shop's time zone, else the tenant's) and order imports needing attention (validated and
/// waiting for a decision, or failed), oldest first.
pub const QUEUE_SQL: &str = "\
    SELECT 'post_overdue' AS kind, \
           (((v.terms->>'publish_deadline')::date + 1)::timestamp AT TIME ZONE coalesce(s.time_zone, t.time_zone)) AS since, \
           l.campaign_id, l.id AS target_id, '@' || cr.handle || ' · ' || coalesce(c.code, '') AS title \
      FROM collaborations l JOIN creators cr ON cr.id = l.creator_id \
      JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id \
      JOIN tenants t ON t.id = l.tenant_id \
      LEFT JOIN shops s ON s.tenant_id = c.tenant_id AND s.id = c.shop_id \
      JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id \
           AND v.version = l.current_version \
     WHERE l.tenant_id = $1 AND l.state IN ('accepted', 'sample_shipped', 'sample_delivered', 'in_review') \
       AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id) \
       AND ((v.terms->>'publish_deadline')::date + 1)::timestamp AT TIME ZONE coalesce(s.time_zone, t.time_zone) <= now() \
    UNION ALL \
    SELECT 'import_attention', i.updated_at, i.shop_id, i.id, i.state || ' · ' || coalesce(u.filename, '') \
      FROM order_imports i LEFT JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
     WHERE i.tenant_id = $1 AND i.state IN ('validated', 'failed')";
