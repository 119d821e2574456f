//! From the SQL totals to `kpis::domain` inputs (costs from the current terms), and KPIs as
//! shown: formatted, converted amounts marked, each against the campaign's targets.
//!
//! Decisions where the SPEC is silent:
//! - the report currency is the campaign's unit currency (its GMV target is in it), else the
//!   shop's, else the tenant's settlement currency; other currencies go through the reference
//!   rates and the figure is marked "≈ converted at reference rates";
//! - views, likes, comments and shares are each post's latest snapshot, summed;
//! - cost: the fixed fee accrues per contracted deliverable once posted (SPEC §9), so it is
//!   fixed fee × min(posts, deliverables); commission = the terms' rate × net GMV (GMV − refunds,
//!   floored at 0) per currency; service fee = the terms' rate × (fixed fee + commission); the
//!   sample's cost and its shipping count once it has shipped; other agreed costs count from
//!   acceptance (a collaboration counts from then);
//! - collaborations still proposed or declined (cancelled) count for nothing;
//! - per creator only ROI and CTR are compared with the targets (GMV and views targets are the
//!   campaign's totals).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{self as kpi, Amounts, Figure, KpiInput, Kpis, Targets};
use super::domain::{Rag, SortKey};
use super::repo::{CollabTotals, OrderTotals, WindowCandidate};
use crate::campaigns::domain::Campaign;
use crate::contracts::domain::{ContractState, Terms};
use crate::kernel::rates::Rates;
use crate::tracking::windows::{self, Metrics, Snapshot, Window};
use crate::web::fmt;
use crate::web::lang::Lang;

/// Whether a collaboration in this state counts in a campaign's figures.
pub fn counts(state: ContractState) -> bool {
    !matches!(state, ContractState::Proposed | ContractState::Cancelled)
}

pub fn report_currency(campaign: &Campaign, shop: Option<&str>, tenant: &str) -> String {
    campaign
        .unit_currency
        .as_deref()
        .or(shop)
        .unwrap_or(tenant)
        .trim()
        .to_ascii_uppercase()
}

pub fn targets(campaign: &Campaign, currency: &str) -> Targets {
    Targets {
        roi: campaign.roi_target,
        gmv: campaign
            .gmv_target
            .filter(|_| campaign.unit_currency.as_deref() == Some(currency)),
        views: campaign.views_target,
        ctr: campaign.ctr_target,
    }
}

/// Orders per collaboration.
pub fn orders_by_collaboration(orders: &[OrderTotals]) -> HashMap<Uuid, Vec<&OrderTotals>> {
    let mut map: HashMap<Uuid, Vec<&OrderTotals>> = HashMap::new();
    for o in orders {
        map.entry(o.collaboration_id).or_default().push(o);
    }
    map
}

/// What one collaboration did and cost.
pub fn input_of(t: &CollabTotals, orders: &[&OrderTotals]) -> KpiInput {
    let mut input = KpiInput {
        views: t.views,
        likes: t.likes,
        comments: t.comments,
        shares: t.shares,
        clicks: t.clicks,
        unique_clicks: t.unique_clicks,
        ..KpiInput::default()
    };
    for o in orders {
        input.orders = input.orders.saturating_add(o.orders);
        input.gmv.add(o.gmv, &o.currency);
        if !o.refunds.is_zero() {
            input.refunds.add(o.refunds, &o.currency);
        }
    }
    if let Some(terms) = t
        .terms
        .clone()
        .and_then(|v| serde_json::from_value::<Terms>(v).ok())
    {
        add_costs(&mut input, &terms, t.posts, t.sample_shipped);
    }
    input
}

/// Adds what the terms cost to `input` (the rules above); ROI for rating uses it too.
pub fn add_costs(input: &mut KpiInput, terms: &Terms, posts: i64, sample_shipped: bool) {
    let mut fixed = Amounts::new();
    if terms.fee_model.has_fixed_fee()
        && let (Some(fee), Some(currency)) = (terms.fixed_fee, terms.fixed_fee_currency.as_deref())
    {
        let posted = posts.clamp(0, i64::from(terms.deliverables()));
        if let Some(total) = fee.checked_mul(Decimal::from(posted)) {
            fixed.add(total, currency);
        }
    }
    let mut commission = Amounts::new();
    if terms.fee_model.has_commission() && terms.commission_rate > Decimal::ZERO {
        let refunds: Vec<(&str, Decimal)> = input.refunds.iter().collect();
        for (currency, gmv) in input.gmv.iter() {
            let refunded = refunds
                .iter()
                .find(|(c, _)| *c == currency)
                .map_or(Decimal::ZERO, |(_, r)| *r);
            let net = (gmv - refunded).max(Decimal::ZERO);
            if let Some(c) = net.checked_mul(terms.commission_rate) {
                commission.add(c, currency);
            }
        }
    }
    let mut service = Amounts::new();
    for part in [&fixed, &commission] {
        for (currency, value) in part.iter() {
            if let Some(fee) = value.checked_mul(terms.service_fee_rate) {
                service.add(fee, currency);
            }
        }
    }
    if sample_shipped && let Some(sample) = &terms.sample {
        if let Some(cost) = sample.cost_money() {
            input.sample_cost.add(cost.amount, cost.currency.code());
        }
        if let Some(shipping) = sample.shipping_money() {
            input
                .shipping
                .add(shipping.amount, shipping.currency.code());
        }
    }
    if let Some(other) = terms.other_costs.as_ref().and_then(|o| o.money()) {
        input.other_costs.add(other.amount, other.currency.code());
    }
    input.fixed_fee.merge(&fixed);
    input.commission.merge(&commission);
    input.service_fee.merge(&service);
}

/// A figure as shown: text, and whether it went through a reference rate or is partial.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub text: String,
    pub converted: bool,
    pub incomplete: bool,
}

impl Shown {
    fn plain(text: String) -> Shown {
        Shown {
            text,
            ..Shown::default()
        }
    }

    fn money(f: Figure, currency: &str) -> Shown {
        Shown {
            text: format!(
                "{}{}",
                if f.converted { "≈ " } else { "" },
                fmt::money(f.value, currency)
            ),
            converted: f.converted,
            incomplete: f.incomplete,
        }
    }
}

const DASH: &str = "—";

/// A fraction as a percent with two decimals: 0.0123 → `1.23%`.
pub fn percent(fraction: Option<Decimal>) -> String {
    fraction
        .and_then(|f| f.checked_mul(Decimal::ONE_HUNDRED))
        .map(|p| format!("{}%", p.round_dp(2)))
        .unwrap_or_else(|| DASH.into())
}

/// All KPIs of one collaboration or campaign, ready for a page.
#[derive(Debug, Clone, Default)]
pub struct KpiView {
    pub views: String,
    pub er: String,
    pub clicks: String,
    pub unique_clicks: String,
    pub ctr: String,
    pub orders: String,
    pub gmv: Shown,
    pub refunds: Shown,
    pub net_gmv: Shown,
    pub cost: Shown,
    pub roi: Shown,
    pub cpc: Shown,
    pub cpm: Shown,
    /// Green/amber/red codes and labels ("" when there is no target).
    pub roi_rag: String,
    pub ctr_rag: String,
    pub roi_rag_label: String,
    pub ctr_rag_label: String,
    /// Any amount went through a reference rate.
    pub converted: bool,
}

pub fn view(lang: Lang, k: &Kpis, targets: &Targets) -> KpiView {
    let a = kpi::attainment(k, targets);
    let optional_money = |f: Option<Figure>| {
        f.map_or_else(
            || Shown::plain(DASH.into()),
            |f| Shown::money(f, &k.currency),
        )
    };
    let roi = k.roi.map_or_else(
        || Shown::plain(DASH.into()),
        |f| Shown {
            text: format!(
                "{}{}",
                if f.converted { "≈ " } else { "" },
                f.value.round_dp(2)
            ),
            converted: f.converted,
            incomplete: f.incomplete,
        },
    );
    KpiView {
        views: fmt::number(k.views),
        er: percent(k.engagement_rate),
        clicks: fmt::number(k.clicks),
        unique_clicks: fmt::number(k.unique_clicks),
        ctr: percent(k.ctr),
        orders: fmt::number(k.orders),
        gmv: Shown::money(k.gmv, &k.currency),
        refunds: Shown::money(k.refunds, &k.currency),
        net_gmv: Shown::money(k.net_gmv, &k.currency),
        cost: Shown::money(k.cost, &k.currency),
        roi,
        cpc: optional_money(k.cpc),
        cpm: optional_money(k.cpm),
        roi_rag: Rag::of(a.roi).map(Rag::code).unwrap_or_default().into(),
        ctr_rag: Rag::of(a.ctr).map(Rag::code).unwrap_or_default().into(),
        roi_rag_label: Rag::of(a.roi).map(|r| lang.t(r.key())).unwrap_or_default(),
        ctr_rag_label: Rag::of(a.ctr).map(|r| lang.t(r.key())).unwrap_or_default(),
        converted: k.gmv.converted || k.cost.converted,
    }
}

/// One of the four big numbers against its target.
pub struct Headline {
    pub label: String,
    pub actual: String,
    pub target: String,
    pub rag: String,
    pub rag_label: String,
    pub converted: bool,
}

pub fn headlines(lang: Lang, k: &Kpis, t: &Targets) -> Vec<Headline> {
    let a = kpi::attainment(k, t);
    let shown = view(lang, k, t);
    let item = |label: &str, actual: Shown, target: String, attained: Option<Decimal>| {
        let rag = Rag::of(attained);
        Headline {
            label: lang.t(label),
            converted: actual.converted,
            actual: actual.text,
            target,
            rag: rag.map(Rag::code).unwrap_or("none").into(),
            rag_label: rag
                .map(|r| lang.t(r.key()))
                .unwrap_or_else(|| lang.t("performance.rag.none")),
        }
    };
    vec![
        item(
            "performance.kpi.gmv",
            shown.gmv,
            t.gmv
                .map(|g| fmt::money(g, &k.currency))
                .unwrap_or_else(|| DASH.into()),
            a.gmv,
        ),
        item(
            "performance.kpi.roi",
            shown.roi,
            t.roi
                .map(|r| r.normalize().to_string())
                .unwrap_or_else(|| DASH.into()),
            a.roi,
        ),
        item(
            "performance.kpi.views",
            Shown::plain(shown.views),
            t.views.map(fmt::number).unwrap_or_else(|| DASH.into()),
            a.views,
        ),
        item(
            "performance.kpi.ctr",
            Shown::plain(shown.ctr),
            percent(t.ctr),
            a.ctr,
        ),
    ]
}

/// The value a row is ordered by (None sorts last whichever the direction).
fn sort_value(k: &Kpis, key: SortKey) -> Option<Decimal> {
    Some(match key {
        SortKey::Creator => return None,
        SortKey::Views => Decimal::from(k.views),
        SortKey::Er => k.engagement_rate?,
        SortKey::Clicks => Decimal::from(k.clicks),
        SortKey::UniqueClicks => Decimal::from(k.unique_clicks),
        SortKey::Ctr => k.ctr?,
        SortKey::Orders => Decimal::from(k.orders),
        SortKey::Gmv => k.gmv.value,
        SortKey::Refunds => k.refunds.value,
        SortKey::NetGmv => k.net_gmv.value,
        SortKey::Cost => k.cost.value,
        SortKey::Roi => k.roi?.value,
        SortKey::Cpc => k.cpc?.value,
        SortKey::Cpm => k.cpm?.value,
    })
}

/// Orders rows of (handle, KPIs) by `key`; ties by handle, so the order is stable.
pub fn sort_rows<T>(rows: &mut [T], key: SortKey, desc: bool, of: impl Fn(&T) -> (&str, &Kpis)) {
    rows.sort_by(|a, b| {
        let (ha, ka) = of(a);
        let (hb, kb) = of(b);
        let by_value = match (sort_value(ka, key), sort_value(kb, key)) {
            (Some(x), Some(y)) if desc => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let by_handle = if key == SortKey::Creator && desc {
            hb.cmp(ha)
        } else {
            ha.cmp(hb)
        };
        by_value.then(by_handle)
    });
}

/// One D1/D7/D14/D30 cell as shown.
pub struct WindowCell {
    pub views: String,
    pub er: String,
    pub is_final: bool,
    pub missing: usize,
}

/// Per collaboration: its posts as (published_at, candidate snapshots).
type PostsOf = BTreeMap<Uuid, BTreeMap<Uuid, (OffsetDateTime, Vec<Snapshot>)>>;

pub fn group_candidates(candidates: &[WindowCandidate]) -> PostsOf {
    let mut out: PostsOf = BTreeMap::new();
    for c in candidates {
        let post = out
            .entry(c.collaboration_id)
            .or_default()
            .entry(c.post_id)
            .or_insert_with(|| (c.published_at, Vec::new()));
        // Rows come ordered by captured_at within a post: a repeat can only be the last one.
        if let Some(at) = c.captured_at
            && post.1.last().map(|s| s.captured_at) != Some(at)
        {
            post.1.push(Snapshot {
                captured_at: at,
                metrics: Metrics {
                    views: c.views.unwrap_or(0),
                    likes: c.likes.unwrap_or(0),
                    comments: c.comments.unwrap_or(0),
                    shares: c.shares.unwrap_or(0),
                },
                avg_watch_seconds: None,
            });
        }
    }
    out
}

/// The D1/D7/D14/D30 cells of one collaboration (its posts summed, `windows::combined`).
pub fn window_cells(
    posts: Option<&BTreeMap<Uuid, (OffsetDateTime, Vec<Snapshot>)>>,
    now: OffsetDateTime,
) -> Vec<WindowCell> {
    Window::ALL
        .into_iter()
        .map(|w| {
            let c = windows::combined(
                w,
                posts
                    .into_iter()
                    .flat_map(|p| p.values())
                    .map(|(at, s)| (*at, &s[..])),
                now,
            );
            let any = posts.is_some_and(|p| p.len() > c.missing);
            WindowCell {
                views: if any {
                    fmt::number(c.metrics.views)
                } else {
                    "—".into()
                },
                er: if any {
                    percent(kpi::ratio(
                        c.metrics.engagements().into(),
                        c.metrics.views.into(),
                    ))
                } else {
                    "—".into()
                },
                is_final: c.is_final,
                missing: c.missing,
            }
        })
        .collect()
}

/// Computed KPIs of each collaboration and of them all (only those that count).
pub struct Computed {
    pub rows: Vec<(CollabTotals, Kpis)>,
    pub total: Kpis,
}

pub fn compute_all(
    totals: Vec<CollabTotals>,
    orders: &[OrderTotals],
    currency: &str,
    rates: &dyn Rates,
) -> Computed {
    let by_collab = orders_by_collaboration(orders);
    let mut sum = KpiInput::default();
    let mut rows = Vec::with_capacity(totals.len());
    for t in totals {
        let input = input_of(&t, by_collab.get(&t.id).map_or(&[][..], |v| &v[..]));
        if counts(t.state) {
            sum.merge(&input);
        }
        let k = kpi::compute(&input, currency, rates);
        rows.push((t, k));
    }
    Computed {
        rows,
        total: kpi::compute(&sum, currency, rates),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::domain::{FeeModel, OtherCosts, Sample, UsageRights};
    use crate::tracking::kpis::domain::compute;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("literal")
    }

    struct NoRates;
    impl crate::kernel::rates::Rates for NoRates {
        fn convert(&self, _: Decimal, _: &str, _: &str) -> Option<Decimal> {
            None
        }
    }

    #[test]
    fn costs_follow_the_terms() {
        let terms = Terms {
            fee_model: FeeModel::FixedPlusCommission,
            fixed_fee: Some(d("500")),
            fixed_fee_currency: Some("USD".into()),
            commission_rate: d("0.10"),
            service_fee_rate: d("0.10"),
            videos: 2,
            live_sessions: 0,
            publish_deadline: time::macros::date!(2026 - 05 - 01),
            min_days_live: 30,
            revisions_included: 2,
            usage_rights: UsageRights::OrganicOnly,
            paid_ads_until: None,
            sample: Some(Sample {
                sku: "X".into(),
                qty: 1,
                cost: Some(d("20")),
                shipping: None,
                cost_currency: Some("USD".into()),
                paid_by_agency: false,
            }),
            other_costs: None,
            discount_code: "MIA10".into(),
            creator_quote: None,
        };
        let mut input = KpiInput {
            gmv: Amounts::of(d("1000"), "USD"),
            refunds: Amounts::of(d("200"), "USD"),
            ..KpiInput::default()
        };
        add_costs(&mut input, &terms, 3, true);
        let k = compute(&input, "USD", &NoRates);
        // 2 × 500 fixed + 80 commission + 108 service + 20 sample.
        assert_eq!(k.cost.value, d("1208"));
        assert_eq!(k.roi.map(|r| r.value.round_dp(4)), Some(d("0.6623")));

        // Shipping and other agreed costs add exactly their amounts, and no service fee.
        let mut with_more = terms.clone();
        if let Some(sample) = with_more.sample.as_mut() {
            sample.shipping = Some(d("12"));
        }
        with_more.other_costs = Some(OtherCosts {
            label: "Translator".into(),
            amount: d("80"),
            currency: "USD".into(),
        });
        let mut input = KpiInput {
            gmv: Amounts::of(d("1000"), "USD"),
            refunds: Amounts::of(d("200"), "USD"),
            ..KpiInput::default()
        };
        add_costs(&mut input, &with_more, 3, true);
        let k = compute(&input, "USD", &NoRates);
        assert_eq!(k.cost.value, d("1300"));
        assert_eq!(k.roi.map(|r| r.value.round_dp(4)), Some(d("0.6154")));
        // Before the sample ships only the other costs count.
        let mut input = KpiInput::default();
        add_costs(&mut input, &with_more, 0, false);
        assert_eq!(compute(&input, "USD", &NoRates).cost.value, d("80"));
    }

    #[test]
    fn percent_and_currency_choice() {
        assert_eq!(percent(Some(d("0.012345"))), "1.23%");
        assert_eq!(percent(None), "—");
        let c = Campaign {
            unit_currency: Some("usd".into()),
            ..Campaign::default()
        };
        assert_eq!(report_currency(&c, Some("GBP"), "CNY"), "USD");
        assert_eq!(report_currency(&Campaign::default(), None, "CNY"), "CNY");
    }
}
