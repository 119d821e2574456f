//! What finance's settlement page and the seller's show alike: the lines grouped by
//! collaboration (each amount a link to its origin), totals, the rates used, status and hash,
//! payments, reconciliation differences, and a line's origin. Built here once from stored rows,
//! rendered by `templates/settlement/_sheet.html` in both.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use uuid::Uuid;

use super::canonical::{RATE_SCALE, at_scale};
use super::domain;
use super::reconcile::{ByCreator, Difference};
use super::repo::{self, CollaborationRow, LineRow};
use crate::kernel::money::Currency;
use crate::web::fmt;
use crate::web::lang::Lang;

pub struct LineView {
    pub id: Uuid,
    pub href: String,
    pub component: String,
    pub flow: String,
    /// Amount in its own currency.
    pub amount: String,
    /// Converted ("≈ CNY 4,274.04"), or "—" while the rate is missing.
    pub converted: String,
    /// "1 USD = 7.12340000 CNY".
    pub rate_title: String,
    pub note: String,
    pub payable: bool,
    pub negative: bool,
}

pub struct GroupView {
    pub title: String,
    pub subtitle: String,
    pub lines: Vec<LineView>,
}

pub struct RateView {
    pub pair: String,
    pub rate: String,
}

pub struct DifferenceView {
    pub order: String,
    pub creator: String,
    pub computed: String,
    pub actual: String,
    pub difference: String,
    pub cause: String,
}

pub struct CreatorDiffView {
    pub creator: String,
    pub computed: String,
    pub actual: String,
    pub difference: String,
}

/// Campaign and handle of each collaboration.
pub fn names(rows: &[CollaborationRow]) -> HashMap<Uuid, (String, String)> {
    rows.iter()
        .map(|c| (c.id, (c.campaign.clone(), c.handle.clone())))
        .collect()
}

pub fn component_label(lang: Lang, code: &str) -> String {
    lang.t(&format!("settlement.component.{code}"))
}

pub fn party_label(lang: Lang, code: &str) -> String {
    lang.t(&format!("settlement.party.{code}"))
}

/// The lines grouped by collaboration (in campaign, then handle order), each linking to
/// `line_href(id)`.
pub fn groups(
    lang: Lang,
    lines: &[LineRow],
    names: &HashMap<Uuid, (String, String)>,
    settlement: Currency,
    line_href: &(dyn Fn(Uuid) -> String + Sync),
) -> Vec<GroupView> {
    let mut by: BTreeMap<(String, String, Uuid), Vec<&LineRow>> = BTreeMap::new();
    for l in lines {
        let (campaign, handle) = names.get(&l.collaboration_id).cloned().unwrap_or_default();
        by.entry((campaign, handle, l.collaboration_id))
            .or_default()
            .push(l);
    }
    by.into_iter()
        .map(|((campaign, handle, _), mut lines)| {
            lines.sort_by_key(|l| {
                (
                    domain::component_of(&l.component),
                    l.currency,
                    l.platform_paid,
                )
            });
            GroupView {
                title: format!("@{handle}"),
                subtitle: campaign,
                lines: lines
                    .into_iter()
                    .map(|l| line_view(lang, l, settlement, line_href(l.id)))
                    .collect(),
            }
        })
        .collect()
}

fn line_view(lang: Lang, l: &LineRow, settlement: Currency, href: String) -> LineView {
    let note = if l.platform_paid {
        lang.t("settlement.platform_paid_note")
    } else {
        l.reason.clone().unwrap_or_default()
    };
    LineView {
        id: l.id,
        href,
        component: component_label(lang, &l.component),
        flow: format!(
            "{} → {}",
            party_label(lang, &l.payer),
            party_label(lang, &l.payee)
        ),
        amount: fmt::money(l.amount, l.currency.code()),
        converted: match l.converted {
            Some(c) if l.currency == settlement => fmt::money(c, settlement.code()),
            Some(c) => format!("≈ {}", fmt::money(c, settlement.code())),
            None => "—".into(),
        },
        rate_title: l
            .rate
            .map(|r| rate_words(l.currency, r, settlement))
            .unwrap_or_else(|| lang.t("settlement.rate_missing_short")),
        note,
        payable: l.payable,
        negative: l.amount < Decimal::ZERO,
    }
}

/// "1 USD = 7.12340000 CNY".
pub fn rate_words(from: Currency, rate: Decimal, to: Currency) -> String {
    format!(
        "1 {} = {} {}",
        from.code(),
        at_scale(rate, RATE_SCALE),
        to.code()
    )
}

pub fn rates(rates: &BTreeMap<Currency, Decimal>, to: Currency) -> Vec<RateView> {
    rates
        .iter()
        .map(|(c, r)| RateView {
            pair: format!("{} → {}", c.code(), to.code()),
            rate: at_scale(*r, RATE_SCALE),
        })
        .collect()
}

/// The rates a finalized settlement stored.
pub fn stored_rates(value: &serde_json::Value) -> BTreeMap<Currency, Decimal> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(c, r)| Some((Currency::parse(c).ok()?, r.as_str()?.parse().ok()?)))
        .collect()
}

/// The reconciliation's differences (the first `limit`) and per-creator totals.
pub fn reconciliation(
    lang: Lang,
    (differences, by_creator): &(Vec<Difference>, ByCreator),
    limit: usize,
) -> (Vec<DifferenceView>, Vec<CreatorDiffView>) {
    let none = lang.t("settlement.unattributed");
    let diffs = differences
        .iter()
        .take(limit)
        .map(|d| DifferenceView {
            order: d.order_id.clone(),
            creator: d
                .creator
                .as_ref()
                .map(|h| format!("@{h}"))
                .unwrap_or_else(|| none.clone()),
            computed: fmt::money(d.computed, d.currency.code()),
            actual: fmt::money(d.actual, d.currency.code()),
            difference: fmt::money(d.difference, d.currency.code()),
            cause: lang.t(d.cause.key()),
        })
        .collect();
    let creators = by_creator
        .iter()
        .map(|((creator, currency), t)| CreatorDiffView {
            creator: creator
                .as_ref()
                .map(|h| format!("@{h}"))
                .unwrap_or_else(|| none.clone()),
            computed: fmt::money(t.computed, currency.code()),
            actual: fmt::money(t.actual, currency.code()),
            difference: fmt::money(t.difference, currency.code()),
        })
        .collect();
    (diffs, creators)
}

/// A line's origin, in words and links.
pub struct OriginView {
    pub facts: Vec<(String, String)>,
    pub posts: Vec<(String, String)>,
    pub imports: Vec<(String, String, String)>,
    pub records: Vec<(String, String, String)>,
}

/// Reads and describes where a line's amount comes from: the contract version it was computed
/// under, and the posts, import batches or fulfilment records it counts.
pub async fn origin(
    conn: &mut sqlx::PgConnection,
    lang: Lang,
    (tenant, zone): (Uuid, &str),
    l: &LineRow,
) -> sqlx::Result<OriginView> {
    let ids = |key: &str| -> Vec<Uuid> {
        l.origin
            .get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.parse().ok())
            .collect()
    };
    let mut facts = vec![(
        lang.t("settlement.origin.contract_version"),
        format!("v{}", l.contract_version),
    )];
    if let Some(terms) = repo::contract_terms(conn, tenant, l.collaboration_id, l.contract_version)
        .await?
        .and_then(|v| serde_json::from_value::<crate::contracts::domain::Terms>(v).ok())
    {
        facts.push((
            lang.t("contract.field.fee_model"),
            lang.t(terms.fee_model.label_key()),
        ));
        if let Some(fee) = terms.fixed_fee_money() {
            facts.push((
                lang.t("contract.field.fixed_fee"),
                format!(
                    "{} · {}",
                    fmt::money(fee.amount, fee.currency.code()),
                    lang.t_with(
                        "settlement.origin.deliverables",
                        &[("n", &terms.deliverables().to_string())]
                    )
                ),
            ));
        }
        facts.push((
            lang.t("contract.field.commission_rate"),
            fmt::percent_of(terms.commission_rate),
        ));
        facts.push((
            lang.t("contract.field.service_fee_rate"),
            fmt::percent_of(terms.service_fee_rate),
        ));
    }
    if let Some(n) = l.origin.get("orders").and_then(|v| v.as_i64()) {
        facts.push((lang.t("settlement.origin.orders"), fmt::number(n)));
    }
    let posts = repo::origin_posts(conn, tenant, &ids("posts"))
        .await?
        .into_iter()
        .map(|p| (fmt::datetime(p.published_at, zone), p.url))
        .collect();
    let imports = repo::origin_imports(conn, tenant, &ids("imports"))
        .await?
        .into_iter()
        .map(|i| {
            (
                i.filename,
                fmt::datetime(i.exported_at, zone),
                lang.t_with(
                    "settlement.origin.import_rows",
                    &[("n", &fmt::number(i.rows_good)), ("state", &i.state)],
                ),
            )
        })
        .collect();
    let records = repo::origin_records(conn, tenant, &ids("records"))
        .await?
        .into_iter()
        .map(|r| {
            let money = match (r.money_amount, r.money_currency, r.money_percent) {
                (Some(a), Some(c), _) => fmt::money(a, &c),
                (_, _, Some(p)) => lang.t_with(
                    "deductions.percent_words",
                    &[("percent", &p.normalize().to_string())],
                ),
                _ => "—".into(),
            };
            (
                format!(
                    "{} · {}",
                    lang.t(&format!("fulfilment.kind.{}", r.kind)),
                    lang.t(&format!("fulfilment.severity.{}", r.severity))
                ),
                format!(
                    "{} · {}",
                    fmt::datetime(r.recorded_at, zone),
                    r.recorded_by_label
                ),
                if r.note.is_empty() {
                    money
                } else {
                    format!("{money} · {}", r.note)
                },
            )
        })
        .collect();
    Ok(OriginView {
        facts,
        posts,
        imports,
        records,
    })
}
