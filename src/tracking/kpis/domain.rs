//! KPI arithmetic (SPEC §5) for a collaboration or a whole campaign: views, ER, clicks, unique
//! clicks, CTR, orders, GMV, refunds, net GMV, cost, ROI, CPC, CPM, and how far each is from the
//! campaign's targets. Money is summed per currency and converted once, through the reference
//! rates, into the report currency; a figure says whether any of it was converted (the page labels
//! it) and whether a rate was missing (then that currency is left out and the figure is partial).
//!
//! Also how far a KPI is from its target (green / amber / red) and the per-creator table's sort
//! keys.
//!
//! Decisions where the SPEC is silent:
//! - against a target: green at ≥ 100 %, amber at ≥ 80 %, red below (the UX's three colours);
//! - ER = (likes + comments + shares) / views; CTR = counted clicks / views;
//! - CPC = cost / counted clicks; CPM = cost / views × 1000;
//! - net GMV = GMV − refunds, not floored (the rating's net GMV floors at 0; a report shows the
//!   real difference, which is negative only when refunds of earlier sales land in the period);
//! - ROI, CPC and CPM need a divisor above zero, else None; ratios are never rounded here (pages
//!   round for display) and never NaN, infinite or a panic: overflow makes them None too.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::kernel::rates::Rates;
use crate::tracking::order_imports::parse::Order;

/// Sums of money per ISO 4217 currency (upper case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amounts {
    by_currency: BTreeMap<String, Decimal>,
    /// A sum went past Decimal's range; the figure it makes is partial.
    overflowed: bool,
}

impl Amounts {
    pub fn new() -> Self {
        Amounts::default()
    }

    pub fn of(value: Decimal, currency: &str) -> Self {
        let mut amounts = Amounts::new();
        amounts.add(value, currency);
        amounts
    }

    pub fn add(&mut self, value: Decimal, currency: &str) {
        let code = currency.trim();
        // Orders arrive with upper-case codes: look up without allocating a key per order.
        let code: Cow<'_, str> = if code.bytes().any(|b| b.is_ascii_lowercase()) {
            Cow::Owned(code.to_ascii_uppercase())
        } else {
            Cow::Borrowed(code)
        };
        let Some(sum) = self.by_currency.get_mut(code.as_ref()) else {
            self.by_currency.insert(code.into_owned(), value);
            return;
        };
        match sum.checked_add(value) {
            Some(total) => *sum = total,
            None => self.overflowed = true,
        }
    }

    pub fn merge(&mut self, other: &Amounts) {
        for (currency, value) in &other.by_currency {
            self.add(*value, currency);
        }
        self.overflowed |= other.overflowed;
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Decimal)> {
        self.by_currency.iter().map(|(c, v)| (c.as_str(), *v))
    }

    pub fn is_empty(&self) -> bool {
        self.by_currency.is_empty()
    }

    /// The total in `currency`: other currencies through `rates`; one without a rate is left out.
    pub fn in_currency(&self, currency: &str, rates: &dyn Rates) -> Figure {
        let target = currency.trim().to_ascii_uppercase();
        let mut figure = Figure {
            incomplete: self.overflowed,
            ..Figure::default()
        };
        for (from, value) in &self.by_currency {
            let converted = if *from == target {
                Some(*value)
            } else {
                figure.converted = true;
                rates.convert(*value, from, &target)
            };
            match converted.and_then(|v| figure.value.checked_add(v)) {
                Some(total) => figure.value = total,
                None => figure.incomplete = true,
            }
        }
        figure
    }
}

/// A value computed from money, with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figure {
    pub value: Decimal,
    /// Part of it went through a reference rate: shown as "converted".
    pub converted: bool,
    /// Part of it could not be included (no rate, or an overflow): shown as partial.
    pub incomplete: bool,
}

impl Figure {
    fn combine(self, other: Figure, value: Option<Decimal>) -> Figure {
        Figure {
            value: value.unwrap_or(self.value),
            converted: self.converted || other.converted,
            incomplete: self.incomplete || other.incomplete || value.is_none(),
        }
    }

    fn plus(self, other: Figure) -> Figure {
        self.combine(other, self.value.checked_add(other.value))
    }

    fn minus(self, other: Figure) -> Figure {
        self.combine(other, self.value.checked_sub(other.value))
    }

    /// self / divisor (× scale), when the divisor is above zero and nothing overflows.
    fn per(self, divisor: Decimal, scale: Decimal) -> Option<Figure> {
        if divisor <= Decimal::ZERO {
            return None;
        }
        let value = self.value.checked_mul(scale)?.checked_div(divisor)?;
        Some(Figure { value, ..self })
    }
}

/// What a collaboration (or, merged, a campaign) did and cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiInput {
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    /// Counted (not bot) clicks.
    pub clicks: i64,
    pub unique_clicks: i64,
    pub orders: i64,
    pub gmv: Amounts,
    pub refunds: Amounts,
    pub fixed_fee: Amounts,
    pub commission: Amounts,
    pub service_fee: Amounts,
    pub sample_cost: Amounts,
    pub shipping: Amounts,
    /// Other costs agreed in the terms.
    pub other_costs: Amounts,
}

impl KpiInput {
    /// Counts an attributed order: one more order, its GMV and its refunds.
    pub fn add_order(&mut self, order: &Order) {
        self.orders = self.orders.saturating_add(1);
        self.gmv.add(order.gmv(), order.currency());
        let refunds = order.refunds();
        if !refunds.is_zero() {
            self.refunds.add(refunds, order.currency());
        }
    }

    /// Adds another collaboration's numbers (a campaign is the sum of its collaborations).
    pub fn merge(&mut self, other: &KpiInput) {
        for (mine, theirs) in [
            (&mut self.views, other.views),
            (&mut self.likes, other.likes),
            (&mut self.comments, other.comments),
            (&mut self.shares, other.shares),
            (&mut self.clicks, other.clicks),
            (&mut self.unique_clicks, other.unique_clicks),
            (&mut self.orders, other.orders),
        ] {
            *mine = mine.saturating_add(theirs);
        }
        for (mine, theirs) in [
            (&mut self.gmv, &other.gmv),
            (&mut self.refunds, &other.refunds),
            (&mut self.fixed_fee, &other.fixed_fee),
            (&mut self.commission, &other.commission),
            (&mut self.service_fee, &other.service_fee),
            (&mut self.sample_cost, &other.sample_cost),
            (&mut self.shipping, &other.shipping),
            (&mut self.other_costs, &other.other_costs),
        ] {
            mine.merge(theirs);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kpis {
    /// The report currency every money figure is in.
    pub currency: String,
    pub views: i64,
    pub engagements: i64,
    pub engagement_rate: Option<Decimal>,
    pub clicks: i64,
    pub unique_clicks: i64,
    pub ctr: Option<Decimal>,
    pub orders: i64,
    pub gmv: Figure,
    pub refunds: Figure,
    pub net_gmv: Figure,
    /// Fixed fee + commission + service fee + sample cost + shipping + other agreed costs.
    pub cost: Figure,
    pub roi: Option<Figure>,
    pub cpc: Option<Figure>,
    pub cpm: Option<Figure>,
}

pub fn compute(input: &KpiInput, currency: &str, rates: &dyn Rates) -> Kpis {
    let money = |amounts: &Amounts| amounts.in_currency(currency, rates);
    let gmv = money(&input.gmv);
    let refunds = money(&input.refunds);
    let net_gmv = gmv.minus(refunds);
    let cost = [
        &input.commission,
        &input.service_fee,
        &input.sample_cost,
        &input.shipping,
        &input.other_costs,
    ]
    .into_iter()
    .fold(money(&input.fixed_fee), |sum, part| sum.plus(money(part)));
    let engagements = input
        .likes
        .saturating_add(input.comments)
        .saturating_add(input.shares);
    let views = Decimal::from(input.views);
    Kpis {
        currency: currency.trim().to_ascii_uppercase(),
        views: input.views,
        engagements,
        engagement_rate: ratio(Decimal::from(engagements), views),
        clicks: input.clicks,
        unique_clicks: input.unique_clicks,
        ctr: ratio(Decimal::from(input.clicks), views),
        orders: input.orders,
        gmv,
        refunds,
        net_gmv,
        cost,
        roi: net_gmv.per(cost.value, Decimal::ONE).map(|roi| Figure {
            converted: roi.converted || cost.converted,
            incomplete: roi.incomplete || cost.incomplete,
            ..roi
        }),
        cpc: cost.per(Decimal::from(input.clicks), Decimal::ONE),
        cpm: cost.per(views, Decimal::ONE_THOUSAND),
    }
}

/// numerator / denominator when the denominator is above zero.
pub fn ratio(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator <= Decimal::ZERO {
        return None;
    }
    numerator.checked_div(denominator)
}

/// The campaign's success criteria (SPEC §2), GMV in the report currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Targets {
    pub roi: Option<Decimal>,
    pub gmv: Option<Decimal>,
    pub views: Option<i64>,
    /// A fraction, like `Kpis::ctr`.
    pub ctr: Option<Decimal>,
}

/// Actual ÷ target per criterion (1 = met); None without a target, or without an actual value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attainment {
    pub roi: Option<Decimal>,
    pub gmv: Option<Decimal>,
    pub views: Option<Decimal>,
    pub ctr: Option<Decimal>,
}

pub fn attainment(kpis: &Kpis, targets: &Targets) -> Attainment {
    let against = |actual: Option<Decimal>, target: Option<Decimal>| ratio(actual?, target?);
    Attainment {
        roi: against(kpis.roi.map(|f| f.value), targets.roi),
        gmv: against(Some(kpis.gmv.value), targets.gmv),
        views: against(
            Some(Decimal::from(kpis.views)),
            targets.views.map(Decimal::from),
        ),
        ctr: against(kpis.ctr, targets.ctr),
    }
}

/// How an actual figure stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rag {
    Green,
    Amber,
    Red,
}

impl Rag {
    /// From actual ÷ target (`kpi::attainment`); None without a target or an actual value.
    pub fn of(attainment: Option<Decimal>) -> Option<Rag> {
        let a = attainment?;
        Some(if a >= Decimal::ONE {
            Rag::Green
        } else if a >= Decimal::new(8, 1) {
            Rag::Amber
        } else {
            Rag::Red
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
        }
    }

    /// The words shown with the colour (never colour alone).
    pub fn key(self) -> &'static str {
        match self {
            Rag::Green => "performance.rag.green",
            Rag::Amber => "performance.rag.amber",
            Rag::Red => "performance.rag.red",
        }
    }
}

/// The per-creator table's columns that can order it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Creator,
    Views,
    Er,
    Clicks,
    UniqueClicks,
    Ctr,
    Orders,
    Gmv,
    Refunds,
    NetGmv,
    Cost,
    Roi,
    Cpc,
    Cpm,
}

impl SortKey {
    pub const ALL: [SortKey; 14] = [
        SortKey::Creator,
        SortKey::Views,
        SortKey::Er,
        SortKey::Clicks,
        SortKey::UniqueClicks,
        SortKey::Ctr,
        SortKey::Orders,
        SortKey::Gmv,
        SortKey::Refunds,
        SortKey::NetGmv,
        SortKey::Cost,
        SortKey::Roi,
        SortKey::Cpc,
        SortKey::Cpm,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SortKey::Creator => "creator",
            SortKey::Views => "views",
            SortKey::Er => "er",
            SortKey::Clicks => "clicks",
            SortKey::UniqueClicks => "unique_clicks",
            SortKey::Ctr => "ctr",
            SortKey::Orders => "orders",
            SortKey::Gmv => "gmv",
            SortKey::Refunds => "refunds",
            SortKey::NetGmv => "net_gmv",
            SortKey::Cost => "cost",
            SortKey::Roi => "roi",
            SortKey::Cpc => "cpc",
            SortKey::Cpm => "cpm",
        }
    }

    /// Anything else (garbage, too long, another case) is None: the page falls back to GMV.
    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            SortKey::Creator => "performance.kpi.creator",
            SortKey::Views => "performance.kpi.views",
            SortKey::Er => "performance.kpi.er",
            SortKey::Clicks => "performance.kpi.clicks",
            SortKey::UniqueClicks => "performance.kpi.unique_clicks",
            SortKey::Ctr => "performance.kpi.ctr",
            SortKey::Orders => "performance.kpi.orders",
            SortKey::Gmv => "performance.kpi.gmv",
            SortKey::Refunds => "performance.kpi.refunds",
            SortKey::NetGmv => "performance.kpi.net_gmv",
            SortKey::Cost => "performance.kpi.cost",
            SortKey::Roi => "performance.kpi.roi",
            SortKey::Cpc => "performance.kpi.cpc",
            SortKey::Cpm => "performance.kpi.cpm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a decimal literal")
    }

    /// EUR → USD at 1.1 only.
    struct EurUsd;

    impl Rates for EurUsd {
        fn convert(&self, amount: Decimal, from: &str, to: &str) -> Option<Decimal> {
            (from == "EUR" && to == "USD").then(|| amount * d("1.1"))
        }
    }

    fn input() -> KpiInput {
        KpiInput {
            views: 200_000,
            likes: 9_000,
            comments: 600,
            shares: 400,
            clicks: 4_000,
            unique_clicks: 3_000,
            orders: 120,
            gmv: Amounts::of(d("6000"), "usd"),
            refunds: Amounts::of(d("500"), "USD"),
            fixed_fee: Amounts::of(d("1000"), "USD"),
            commission: Amounts::of(d("550"), "USD"),
            service_fee: Amounts::of(d("155"), "USD"),
            sample_cost: Amounts::of(d("40"), "USD"),
            shipping: Amounts::of(d("5"), "USD"),
            other_costs: Amounts::default(),
        }
    }

    #[test]
    fn every_kpi_of_a_collaboration() {
        let k = compute(&input(), "USD", &EurUsd);
        assert_eq!(k.engagements, 10_000);
        assert_eq!(k.engagement_rate, Some(d("0.05")));
        assert_eq!(k.ctr, Some(d("0.02")));
        assert_eq!(k.net_gmv.value, d("5500"));
        assert_eq!(k.cost.value, d("1750"));
        assert_eq!(k.roi.map(|r| r.value.round_dp(4)), Some(d("3.1429")));
        assert_eq!(k.cpc.map(|f| f.value), Some(d("0.4375")));
        assert_eq!(k.cpm.map(|f| f.value), Some(d("8.75")));
        assert!(!k.gmv.converted && !k.cost.incomplete);
        let a = attainment(
            &k,
            &Targets {
                roi: Some(d("2")),
                gmv: Some(d("12000")),
                views: Some(100_000),
                ctr: None,
            },
        );
        assert_eq!(a.gmv, Some(d("0.5")));
        assert_eq!(a.views, Some(d("2")));
        assert_eq!(a.ctr, None);
        assert!(a.roi.is_some_and(|r| r > Decimal::ONE));
    }

    #[test]
    fn zero_divisors_give_none_never_a_panic() {
        let k = compute(&KpiInput::default(), "USD", &EurUsd);
        assert_eq!(
            (k.engagement_rate, k.ctr, k.roi, k.cpc, k.cpm),
            (None, None, None, None, None)
        );
        assert_eq!(k.net_gmv, Figure::default());
        assert_eq!(ratio(Decimal::ONE, Decimal::NEGATIVE_ONE), None);
        assert_eq!(ratio(Decimal::MAX, d("0.0000001")), None);
    }

    #[test]
    fn other_currencies_are_converted_and_labelled_and_missing_rates_flagged() {
        let mut i = input();
        i.gmv.add(d("1000"), "EUR");
        i.fixed_fee = Amounts::of(d("100"), "JPY");
        let k = compute(&i, "usd", &EurUsd);
        assert_eq!(k.currency, "USD");
        assert_eq!(k.gmv.value, d("7100.0"));
        assert!(k.gmv.converted && !k.gmv.incomplete);
        assert!(k.net_gmv.converted);
        assert!(k.cost.incomplete);
        assert_eq!(k.cost.value, d("750"));
        let roi = k.roi.expect("cost above zero");
        assert!(roi.converted && roi.incomplete);
    }

    #[test]
    fn orders_feed_gmv_refunds_and_counts_and_campaigns_merge() {
        use crate::tracking::order_imports::parse::{ShopifyOrder, TikTokOrderLine};
        use time::macros::datetime;
        let tiktok = Order::TikTok(TikTokOrderLine {
            line: 2,
            order_id: "1".into(),
            sku_id: "2".into(),
            product_name: None,
            payment_amount: d("20"),
            currency: "USD".into(),
            quantity: 1,
            fully_refunded: true,
            status: None,
            creator_username: Some("mia".into()),
            content_type: None,
            content_id: None,
            commission_rate: None,
            est_commission_base: None,
            est_commission: None,
            actual_commission_base: None,
            actual_commission: None,
            created_at: datetime!(2026-05-01 0:00 UTC),
            paid_at: None,
            commission_paid_at: None,
        });
        let shopify = Order::Shopify(ShopifyOrder {
            line: 2,
            name: "#1".into(),
            financial_status: Some("paid".into()),
            currency: "EUR".into(),
            total: d("10"),
            discount_codes: vec![],
            discount_amount: Decimal::ZERO,
            created_at: datetime!(2026-05-01 0:00 UTC),
            paid_at: None,
            refunded_amount: Decimal::ZERO,
            subtotal: None,
            shipping: None,
            taxes: None,
            items: vec![],
        });
        let mut one = KpiInput::default();
        one.add_order(&tiktok);
        let mut two = KpiInput::default();
        two.add_order(&shopify);
        two.views = 10;
        one.merge(&two);
        assert_eq!((one.orders, one.views), (2, 10));
        let k = compute(&one, "USD", &EurUsd);
        assert_eq!(k.gmv.value, d("31.0"));
        assert_eq!(k.refunds.value, d("20"));
        assert_eq!(k.net_gmv.value, d("11.0"));
        assert_eq!(k.roi, None);
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (0i64..10_000_000_000, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
    }

    proptest! {
        #[test]
        fn kpis_hold_their_identities(
            gmv in money(), refunds in money(), fee in money(), commission in money(),
            views in -5i64..10_000_000, clicks in -5i64..1_000_000, likes in 0i64..1_000_000,
            eur in money(),
        ) {
            let i = KpiInput {
                views,
                likes,
                clicks,
                gmv: {
                    let mut g = Amounts::of(gmv, "USD");
                    g.add(eur, "EUR");
                    g
                },
                refunds: Amounts::of(refunds, "USD"),
                fixed_fee: Amounts::of(fee, "USD"),
                commission: Amounts::of(commission, "USD"),
                ..KpiInput::default()
            };
            let k = compute(&i, "USD", &EurUsd);
            prop_assert_eq!(k.net_gmv.value, k.gmv.value - k.refunds.value);
            prop_assert_eq!(k.cost.value, fee + commission);
            match k.roi {
                Some(roi) => {
                    prop_assert!(k.cost.value > Decimal::ZERO);
                    prop_assert_eq!(roi.value.is_sign_negative() && !roi.value.is_zero(),
                        k.net_gmv.value < Decimal::ZERO);
                    prop_assert_eq!(roi.value.is_zero(), k.net_gmv.value.is_zero());
                }
                None => prop_assert!(k.cost.value.is_zero()),
            }
            prop_assert_eq!(k.ctr.is_some(), views > 0);
            prop_assert_eq!(k.cpc.is_some(), clicks > 0);
            if let Some(er) = k.engagement_rate {
                prop_assert!(er >= Decimal::ZERO);
            }
        }

        #[test]
        fn extreme_values_never_panic(
            a in any::<i64>(), b in any::<i64>(), big in any::<u32>(), views in any::<i64>(),
        ) {
            let huge = Decimal::MAX - Decimal::from(big);
            let mut gmv = Amounts::of(huge, "USD");
            gmv.add(huge, "USD");
            gmv.add(Decimal::from(a), "EUR");
            let i = KpiInput {
                views,
                likes: a,
                comments: b,
                shares: a,
                clicks: b,
                gmv,
                refunds: Amounts::of(-huge, "USD"),
                fixed_fee: Amounts::of(Decimal::from(b), "USD"),
                commission: Amounts::of(Decimal::new(1, 28), "USD"),
                ..KpiInput::default()
            };
            let k = compute(&i, "USD", &EurUsd);
            prop_assert!(k.gmv.incomplete);
            let _ = attainment(&k, &Targets { roi: Some(Decimal::new(1, 28)), gmv: Some(Decimal::ONE), views: Some(1), ctr: Some(Decimal::new(1, 28)) });
        }
    }

    #[test]
    fn rag_thresholds_and_sort_keys() {
        assert_eq!(Rag::of(Some(Decimal::ONE)), Some(Rag::Green));
        assert_eq!(Rag::of(Some(Decimal::new(8, 1))), Some(Rag::Amber));
        assert_eq!(Rag::of(Some(Decimal::new(79, 2))), Some(Rag::Red));
        assert_eq!(Rag::of(None), None);
        for k in SortKey::ALL {
            assert_eq!(SortKey::parse(k.code()), Some(k));
        }
        assert_eq!(SortKey::parse("roi; DROP TABLE posts"), None);
        assert_eq!(SortKey::parse("ROI"), None);
    }
}
