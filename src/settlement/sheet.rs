//! One period's settlement as finance and the seller see it (`Sheet`): finalized when it is,
//! else the draft or review, else nothing computed yet; the list of a tenant's periods; the
//! export job of a period; and a line with its origin. Loaded here once for both consoles.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

use super::actions::{self, period_code};
use super::domain;
use super::export::{Head, Job};
use super::repo::{self, Source, TenantRow};
use super::view::{self, CreatorDiffView, DifferenceView, GroupView, OriginView, RateView};
use crate::error::AppError;
use crate::kernel::money::Currency;
use crate::state::AppState;
use crate::web::fmt;
use crate::web::lang::Lang;

/// Campaign and handle of each collaboration.
type Names = HashMap<Uuid, (String, String)>;

/// Where a line's amount links to.
pub type LineHref<'a> = dyn Fn(Uuid) -> String + Sync + 'a;

/// Differences listed on the page (all of them are in the per-creator totals).
const DIFFERENCES_SHOWN: usize = 200;

pub struct PaymentView {
    pub paid_on: String,
    pub amount: String,
    pub reference: String,
    pub by: String,
}

pub struct Sheet {
    pub period: String,
    /// `none`, `draft`, `review`, `finalized`, `partly_paid` or `paid`.
    pub status: String,
    pub status_label: String,
    pub settlement_id: Option<Uuid>,
    pub currency: String,
    pub history: Vec<(String, String)>,
    pub total_seller: String,
    pub total_creators: String,
    pub paid: String,
    pub due: String,
    pub hash: String,
    pub previous_hash: String,
    pub rates: Vec<RateView>,
    pub missing: String,
    pub groups: Vec<GroupView>,
    pub line_count: usize,
    pub payments: Vec<PaymentView>,
    pub differences: Vec<DifferenceView>,
    pub more_differences: usize,
    pub creator_diffs: Vec<CreatorDiffView>,
    pub carried: Vec<String>,
}

impl Sheet {
    pub fn finalized(&self) -> bool {
        matches!(self.status.as_str(), "finalized" | "partly_paid" | "paid")
    }
}

fn who_when(by: &str, at: time::OffsetDateTime, zone: &str) -> String {
    format!("{by} · {}", fmt::datetime(at, zone))
}

fn empty_sheet(lang: Lang, tenant: &TenantRow, period: Date) -> Sheet {
    Sheet {
        period: period_code(period),
        status: "none".into(),
        status_label: lang.t("settlement.status.none"),
        settlement_id: None,
        currency: tenant.settlement_currency.code().into(),
        history: Vec::new(),
        total_seller: "—".into(),
        total_creators: "—".into(),
        paid: "—".into(),
        due: "—".into(),
        hash: String::new(),
        previous_hash: String::new(),
        rates: Vec::new(),
        missing: String::new(),
        groups: Vec::new(),
        line_count: 0,
        payments: Vec::new(),
        differences: Vec::new(),
        more_differences: 0,
        creator_diffs: Vec::new(),
        carried: Vec::new(),
    }
}

/// A tenant's period: its finalized settlement, else its draft or review, else nothing yet;
/// with its reconciliation.
pub async fn load(
    tx: &mut PgConnection,
    lang: Lang,
    tenant: &TenantRow,
    period: Date,
    line_href: &LineHref<'_>,
) -> Result<Sheet, AppError> {
    let zone = tenant.time_zone.as_str();
    let cur = tenant.settlement_currency;
    let names = view::names(&repo::collaborations(tx, tenant.id).await?);
    let mut sheet = empty_sheet(lang, tenant, period);
    if let Some(id) = repo::settlement_of(tx, tenant.id, period).await? {
        let s = repo::settlement(tx, tenant.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        fill_finalized(tx, lang, (tenant, &names, line_href), &s, &mut sheet).await?;
    } else if let Some(d) = repo::draft(tx, tenant.id, period, false).await? {
        let lines = repo::draft_lines(tx, tenant.id, d.id).await?;
        sheet.status = d.state.clone();
        sheet.status_label = lang.t(&format!("settlement.status.{}", d.state));
        sheet.history.push((
            lang.t("settlement.computed_by"),
            who_when(&d.computed_by_label, d.computed_at, zone),
        ));
        if let (Some(by), Some(at)) = (&d.sent_to_review_label, d.sent_to_review_at) {
            sheet
                .history
                .push((lang.t("settlement.sent_by"), who_when(by, at, zone)));
        }
        if let (Some(seller), Some(creators)) = (d.total_seller, d.total_creators) {
            sheet.total_seller = fmt::money(seller, cur.code());
            sheet.total_creators = fmt::money(creators, cur.code());
        }
        if !d.missing_rates.is_empty() {
            sheet.missing = lang.t_with(
                "settlement.error.missing_rate_named",
                &[
                    ("currencies", &d.missing_rates.join(", ")),
                    ("period", &period_code(period)),
                    ("to", cur.code()),
                ],
            );
        }
        let used: std::collections::BTreeMap<Currency, Decimal> = repo::rates(tx, period, cur)
            .await?
            .into_iter()
            .filter(|(c, _)| lines.iter().any(|l| l.currency == *c))
            .collect();
        sheet.rates = view::rates(&used, cur);
        sheet.line_count = lines.len();
        sheet.groups = view::groups(lang, &lines, &names, cur, line_href);
        sheet.carried = d
            .carried
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let collab: Uuid = c.get("collaboration")?.as_str()?.parse().ok()?;
                let currency = c.get("currency")?.as_str()?;
                let amount: Decimal = c.get("amount")?.as_str()?.parse().ok()?;
                let handle = names.get(&collab).map(|n| n.1.clone()).unwrap_or_default();
                Some(lang.t_with(
                    "settlement.carried_forward",
                    &[
                        ("creator", &format!("@{handle}")),
                        ("amount", &fmt::money(amount, currency)),
                    ],
                ))
            })
            .collect();
    }
    let b = repo::bounds(tx, period, zone).await?;
    let recon = actions::reconciliation(tx, tenant, b).await?;
    let (diffs, creators) = view::reconciliation(lang, &recon, DIFFERENCES_SHOWN);
    sheet.more_differences = recon.0.len().saturating_sub(DIFFERENCES_SHOWN);
    sheet.differences = diffs;
    sheet.creator_diffs = creators;
    Ok(sheet)
}

/// A finalized settlement by id (the seller's page), with its reconciliation.
pub async fn load_settlement(
    tx: &mut PgConnection,
    lang: Lang,
    tenant: &TenantRow,
    id: Uuid,
    line_href: &LineHref<'_>,
) -> Result<Sheet, AppError> {
    let s = repo::settlement(tx, tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    load(tx, lang, tenant, s.period, line_href).await
}

async fn fill_finalized(
    tx: &mut PgConnection,
    lang: Lang,
    (tenant, names, line_href): (&TenantRow, &Names, &LineHref<'_>),
    s: &repo::SettlementRow,
    sheet: &mut Sheet,
) -> Result<(), AppError> {
    let zone = tenant.time_zone.as_str();
    let cur = s.settlement_currency;
    let status = domain::payment_status(s.total_seller, s.paid);
    sheet.status = status.into();
    sheet.status_label = lang.t(&format!("settlement.status.{status}"));
    sheet.settlement_id = Some(s.id);
    sheet.currency = cur.code().into();
    sheet
        .history
        .push((lang.t("settlement.sent_by"), s.sent_to_review_label.clone()));
    sheet.history.push((
        lang.t("settlement.finalized_by"),
        who_when(&s.finalized_by_label, s.finalized_at, zone),
    ));
    sheet.total_seller = fmt::money(s.total_seller, cur.code());
    sheet.total_creators = fmt::money(s.total_creators, cur.code());
    sheet.paid = fmt::money(s.paid, cur.code());
    sheet.due = fmt::money((s.total_seller - s.paid).max(Decimal::ZERO), cur.code());
    sheet.hash = s.hash.clone();
    sheet.previous_hash = s.previous_hash.clone();
    sheet.rates = view::rates(&view::stored_rates(&s.rates), cur);
    let lines = repo::settlement_lines(tx, tenant.id, s.id).await?;
    sheet.line_count = lines.len();
    sheet.groups = view::groups(lang, &lines, names, cur, line_href);
    sheet.payments = repo::payments(tx, tenant.id, s.id)
        .await?
        .into_iter()
        .map(|p| PaymentView {
            paid_on: p.paid_on.to_string(),
            amount: fmt::money(p.amount, cur.code()),
            reference: p.reference,
            by: who_when(&p.recorded_by_label, p.recorded_at, zone),
        })
        .collect();
    Ok(())
}

/// A row of a tenant's period list.
pub struct PeriodLine {
    pub code: String,
    pub status: String,
    pub status_label: String,
    pub total_seller: String,
    pub detail: String,
}

/// A line and where its amount comes from (finance's page and the seller's).
#[derive(askama::Template)]
#[template(path = "settlement/line.html")]
pub struct LinePage {
    pub layout: crate::web::layout::Layout,
    pub back: String,
    pub title: String,
    pub line: view::LineView,
    pub origin: OriginView,
}

/// Every period of a tenant from its first to the current month, newest first.
pub async fn periods(
    tx: &mut PgConnection,
    lang: Lang,
    tenant: &TenantRow,
) -> Result<Vec<PeriodLine>, AppError> {
    let first = repo::first_period(tx, tenant.id, &tenant.time_zone).await?;
    let current = repo::current_period(tx, &tenant.time_zone).await?;
    let finalized = repo::settlements(tx, tenant.id).await?;
    let drafts = repo::drafts(tx, tenant.id).await?;
    let cur = tenant.settlement_currency.code();
    let mut out = Vec::new();
    let mut p = first;
    while p <= current {
        let line = if let Some(s) = finalized.iter().find(|s| s.period == p) {
            let status = domain::payment_status(s.total_seller, s.paid);
            PeriodLine {
                code: period_code(p),
                status: status.into(),
                status_label: lang.t(&format!("settlement.status.{status}")),
                total_seller: fmt::money(s.total_seller, cur),
                detail: s.hash.chars().take(12).collect(),
            }
        } else if let Some(d) = drafts.iter().find(|d| d.period == p) {
            PeriodLine {
                code: period_code(p),
                status: d.state.clone(),
                status_label: lang.t(&format!("settlement.status.{}", d.state)),
                total_seller: d
                    .total_seller
                    .map(|t| fmt::money(t, cur))
                    .unwrap_or_else(|| "—".into()),
                detail: if d.missing_rates.is_empty() {
                    String::new()
                } else {
                    lang.t_with(
                        "settlement.missing_short",
                        &[("currencies", &d.missing_rates.join(", "))],
                    )
                },
            }
        } else {
            PeriodLine {
                code: period_code(p),
                status: "none".into(),
                status_label: lang.t("settlement.status.none"),
                total_seller: "—".into(),
                detail: String::new(),
            }
        };
        out.push(line);
        p = actions::next_month(p);
    }
    out.reverse();
    Ok(out)
}

/// The export of a period (its finalized settlement, else its draft) and its status code.
pub async fn job(
    tx: &mut PgConnection,
    state: &AppState,
    lang: Lang,
    tenant: &TenantRow,
    period: Date,
) -> Result<Option<(Job, String)>, AppError> {
    let names = Arc::new(view::names(&repo::collaborations(tx, tenant.id).await?));
    let cur = tenant.settlement_currency;
    let job = |source, head: Head| Job {
        db: state.db.clone(),
        tenant: tenant.id,
        source,
        lang,
        head,
        names: names.clone(),
        tenant_name: tenant.display_name.clone(),
    };
    if let Some(id) = repo::settlement_of(tx, tenant.id, period).await? {
        let s = repo::settlement(tx, tenant.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(Some(settlement_job(lang, tenant, &s, job)));
    }
    let Some(d) = repo::draft(tx, tenant.id, period, false).await? else {
        return Ok(None);
    };
    let rates = repo::rates(tx, period, cur).await?.into_iter().collect();
    let head = Head {
        subject: tenant.display_name.clone(),
        period: period_code(period),
        status: lang.t(&format!("settlement.status.{}", d.state)),
        settlement_currency: cur,
        total_seller: d.total_seller,
        total_creators: d.total_creators,
        paid: None,
        rates,
        hash: String::new(),
        previous_hash: String::new(),
    };
    Ok(Some((job(Source::Draft(d.id), head), d.state)))
}

/// The export of one finalized settlement.
pub fn settlement_job(
    lang: Lang,
    tenant: &TenantRow,
    s: &repo::SettlementRow,
    job: impl Fn(Source, Head) -> Job,
) -> (Job, String) {
    let status = domain::payment_status(s.total_seller, s.paid);
    let head = Head {
        subject: tenant.display_name.clone(),
        period: period_code(s.period),
        status: lang.t(&format!("settlement.status.{status}")),
        settlement_currency: s.settlement_currency,
        total_seller: Some(s.total_seller),
        total_creators: Some(s.total_creators),
        paid: Some(s.paid),
        rates: view::stored_rates(&s.rates).into_iter().collect(),
        hash: s.hash.clone(),
        previous_hash: s.previous_hash.clone(),
    };
    (job(Source::Settlement(s.id), head), status.to_string())
}

/// Where a line's page links back to.
pub enum Back {
    Period(String),
}

/// A line of the tenant (finalized or draft) with its origin.
pub async fn line(
    tx: &mut PgConnection,
    lang: Lang,
    tenant: &TenantRow,
    id: Uuid,
) -> Result<(view::LineView, Back, String, OriginView), AppError> {
    let (row, settlement) = repo::line(tx, tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let period = match settlement {
        Some(s) => {
            repo::settlement(tx, tenant.id, s)
                .await?
                .ok_or(AppError::NotFound)?
                .period
        }
        None => repo::draft_period_of_line(tx, tenant.id, id)
            .await?
            .ok_or(AppError::NotFound)?,
    };
    let names = view::names(&repo::collaborations(tx, tenant.id).await?);
    let (campaign, handle) = names
        .get(&row.collaboration_id)
        .cloned()
        .unwrap_or_default();
    let groups = view::groups(
        lang,
        std::slice::from_ref(&row),
        &names,
        tenant.settlement_currency,
        &|_| String::new(),
    );
    let line = groups
        .into_iter()
        .next()
        .and_then(|g| g.lines.into_iter().next())
        .ok_or(AppError::NotFound)?;
    let origin = view::origin(tx, lang, (tenant.id, &tenant.time_zone), &row).await?;
    let title = format!("{} · @{handle} · {campaign}", line.component);
    Ok((line, Back::Period(period_code(period)), title, origin))
}
