//! Reconciliation (SPEC §9) and the period's rates, as pure functions: the commission Sextant
//! computes for each order against the `Actual Commission Payment` the platform's export
//! reports, per order and per creator, each difference with its cause when one is known; and the
//! check of a rate finance enters for a period.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::kernel::money::Currency;

/// Decimal places a period's rate may have (the rate column's scale).
pub const RATE_DECIMALS: u32 = 8;

/// The message keys of a rate finance typed.
pub const E_RATE_NUMBER: &str = "settlement.error.rate_number";
pub const E_RATE_POSITIVE: &str = "settlement.error.rate_positive";
pub const E_RATE_DECIMALS: &str = "settlement.error.rate_decimals";

/// A rate as typed ("7.1234", "7,1234" is refused: one decimal point only): more than 0, at
/// most eight decimals, below a million.
pub fn check_rate(raw: &str) -> Result<Decimal, &'static str> {
    let rate: Decimal = raw.trim().parse().map_err(|_| E_RATE_NUMBER)?;
    if rate <= Decimal::ZERO || rate >= Decimal::from(1_000_000) {
        return Err(E_RATE_POSITIVE);
    }
    if rate.normalize().scale() > RATE_DECIMALS {
        return Err(E_RATE_DECIMALS);
    }
    Ok(rate.normalize())
}

/// What is known of one order line for reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCommission {
    pub order_id: String,
    /// None: the order is not attributed to any collaboration.
    pub creator: Option<String>,
    pub currency: Currency,
    /// What Sextant computes: the base × the contract's rate.
    pub computed: Decimal,
    /// The export's `Actual Commission Payment` (None: not paid yet).
    pub actual: Option<Decimal>,
    /// The export's `Standard commission rate` differs from the contract's.
    pub rate_differs: bool,
    /// Refunded after the commission was paid.
    pub refunded_after_payment: bool,
}

/// Why a computed and a paid commission differ, when it can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    RefundAfterPayment,
    RateChange,
    UnattributedOrder,
    Unknown,
}

impl Cause {
    pub fn key(self) -> &'static str {
        match self {
            Cause::RefundAfterPayment => "settlement.cause.refund_after_payment",
            Cause::RateChange => "settlement.cause.rate_change",
            Cause::UnattributedOrder => "settlement.cause.unattributed_order",
            Cause::Unknown => "settlement.cause.unknown",
        }
    }
}

/// One order whose paid commission is not the computed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub order_id: String,
    pub creator: Option<String>,
    pub currency: Currency,
    pub computed: Decimal,
    pub actual: Decimal,
    /// actual − computed.
    pub difference: Decimal,
    pub cause: Cause,
}

/// Per creator and currency: computed, paid and their difference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatorTotals {
    pub computed: Decimal,
    pub actual: Decimal,
    pub difference: Decimal,
}

/// Totals per (creator, currency); an unattributed order's creator is `None`.
pub type ByCreator = BTreeMap<(Option<String>, Currency), CreatorTotals>;

/// The orders whose paid commission differs from the computed one (rounded to the currency,
/// unpaid orders left out), and the totals per (creator, currency) — an unattributed order's
/// creator is `None`.
pub fn reconcile(orders: &[OrderCommission]) -> (Vec<Difference>, ByCreator) {
    let mut differences = Vec::new();
    let mut totals = ByCreator::new();
    for o in orders {
        let Some(actual) = o.actual else {
            continue;
        };
        let computed = o.currency.round(o.computed);
        let actual = o.currency.round(actual);
        let t = totals.entry((o.creator.clone(), o.currency)).or_default();
        t.computed += computed;
        t.actual += actual;
        t.difference += actual - computed;
        if actual == computed {
            continue;
        }
        let cause = if o.creator.is_none() {
            Cause::UnattributedOrder
        } else if o.refunded_after_payment {
            Cause::RefundAfterPayment
        } else if o.rate_differs {
            Cause::RateChange
        } else {
            Cause::Unknown
        };
        differences.push(Difference {
            order_id: o.order_id.clone(),
            creator: o.creator.clone(),
            currency: o.currency,
            computed,
            actual,
            difference: actual - computed,
            cause,
        });
    }
    (differences, totals)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn order(
        id: &str,
        creator: Option<&str>,
        computed: &str,
        actual: Option<&str>,
    ) -> OrderCommission {
        OrderCommission {
            order_id: id.into(),
            creator: creator.map(str::to_string),
            currency: usd(),
            computed: computed.parse().unwrap(),
            actual: actual.map(|a| a.parse().unwrap()),
            rate_differs: false,
            refunded_after_payment: false,
        }
    }

    #[test]
    fn rates_are_positive_numbers_with_at_most_eight_decimals() {
        assert_eq!(check_rate(" 7.1234 "), Ok("7.1234".parse().unwrap()));
        assert_eq!(check_rate("0.00028500"), Ok("0.000285".parse().unwrap()));
        for (raw, key) in [
            ("0", E_RATE_POSITIVE),
            ("-7.1", E_RATE_POSITIVE),
            ("1000000", E_RATE_POSITIVE),
            ("7.123456789012", E_RATE_DECIMALS),
            ("seven", E_RATE_NUMBER),
            ("7,1234", E_RATE_NUMBER),
            ("", E_RATE_NUMBER),
        ] {
            assert_eq!(check_rate(raw), Err(key), "{raw}");
        }
    }

    #[test]
    fn each_difference_has_its_cause_and_the_creators_totals_add_up() {
        let mut refunded = order("A2", Some("mira"), "12.00", Some("0"));
        refunded.refunded_after_payment = true;
        let mut rate = order("A3", Some("mira"), "12.00", Some("10.00"));
        rate.rate_differs = true;
        let orders = vec![
            order("A1", Some("mira"), "12.004", Some("12.00")),
            refunded,
            rate,
            order("A4", None, "0", Some("5.00")),
            order("A5", Some("leo"), "3.00", Some("3.50")),
            order("A6", Some("leo"), "9.00", None),
        ];
        let (diffs, totals) = reconcile(&orders);
        let causes: Vec<(&str, Cause)> = diffs
            .iter()
            .map(|d| (d.order_id.as_str(), d.cause))
            .collect();
        assert_eq!(
            causes,
            [
                ("A2", Cause::RefundAfterPayment),
                ("A3", Cause::RateChange),
                ("A4", Cause::UnattributedOrder),
                ("A5", Cause::Unknown)
            ],
            "A1 agrees once rounded; A6 is not paid yet"
        );
        let mira = &totals[&(Some("mira".to_string()), usd())];
        assert_eq!(mira.difference, "-14.00".parse().unwrap());
        assert_eq!(mira.actual - mira.computed, mira.difference);
    }

    proptest! {
        #[test]
        fn per_creator_differences_are_the_sums_of_the_orders(
            rows in prop::collection::vec((0u8..3, 0i64..100_000, prop::option::of(0i64..100_000)), 0..30)
        ) {
            let orders: Vec<OrderCommission> = rows
                .iter()
                .enumerate()
                .map(|(i, (who, computed, actual))| OrderCommission {
                    order_id: i.to_string(),
                    creator: (*who > 0).then(|| format!("c{who}")),
                    currency: usd(),
                    computed: Decimal::new(*computed, 2),
                    actual: actual.map(|a| Decimal::new(a, 2)),
                    rate_differs: false,
                    refunded_after_payment: false,
                })
                .collect();
            let (diffs, totals) = reconcile(&orders);
            let listed: Decimal = diffs.iter().map(|d| d.difference).sum();
            let total: Decimal = totals.values().map(|t| t.difference).sum();
            prop_assert_eq!(listed, total);
            for d in &diffs {
                prop_assert!(!d.difference.is_zero());
                prop_assert_eq!(d.cause == Cause::UnattributedOrder, d.creator.is_none());
            }
        }
    }
}
