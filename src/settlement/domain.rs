//! A period's settlement lines (SPEC §9) as pure functions: what each collaboration's contract,
//! posts, orders, samples, fulfilment records and adjustments put in one period, with payer,
//! payee, the amount in its own currency rounded half-even to that currency's minor units, and
//! the amount converted at finance's rate for the period (rounded again, half-even, to the
//! settlement currency's units). No SQL and no clock here: `repo` gathers the inputs, this
//! module decides, and finalizing stores what it decided.
//!
//! Decisions where the SPEC is silent:
//! - the fixed fee is split evenly over the contracted deliverables, the last deliverable taking
//!   what rounding left over, so the deliverables always add up to the fee;
//! - a money deduction reduces what the creator is paid in its currency; when the creator is owed
//!   nothing payable in that currency this period, the whole deduction carries forward;
//! - the service fee is the contract's rate on the period's fixed fee and on all of its
//!   commission, platform-paid included (SPEC §9), computed per currency before deductions.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::kernel::money::{Currency, Money as KMoney};

/// What a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    FixedFee,
    Commission,
    ServiceFee,
    SampleCost,
    Deduction,
    Adjustment,
}

impl Component {
    pub fn code(self) -> &'static str {
        match self {
            Component::FixedFee => "fixed_fee",
            Component::Commission => "commission",
            Component::ServiceFee => "service_fee",
            Component::SampleCost => "sample_cost",
            Component::Deduction => "deduction",
            Component::Adjustment => "adjustment",
        }
    }
}

/// Who pays or is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Party {
    Seller,
    Agency,
    Creator,
    /// TikTok Shop, paying creators their commission directly.
    Platform,
}

/// One settlement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub collaboration: Uuid,
    pub component: Component,
    /// Commission lines: paid by the platform (TikTok Shop) or through the agency.
    pub platform_paid: bool,
    pub payer: Party,
    pub payee: Party,
    /// Whether money moves through the agency for it (TikTok Shop commission never does).
    pub payable: bool,
    pub currency: Currency,
    /// In `currency`, rounded to its minor units; may be negative (a refund, a deduction).
    pub amount: Decimal,
    /// Finance's rate from `currency` to the settlement currency (1 for the same currency).
    pub rate: Decimal,
    /// In the settlement currency, rounded to its minor units.
    pub converted: Decimal,
    /// Adjustments: why.
    pub reason: Option<String>,
}

/// Money in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

/// Commission bases of a collaboration's orders, cumulative up to the period's end, per currency
/// and by who pays the commission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commission {
    /// (currency, platform-paid) → cumulative commission base of orders paid by the period's end.
    pub cumulative_base: BTreeMap<(Currency, bool), Decimal>,
    /// (currency, platform-paid) → commission earlier finalized settlements already hold.
    pub held: BTreeMap<(Currency, bool), Decimal>,
}

/// What one collaboration brings to one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollaborationPeriod {
    pub collaboration: Uuid,
    /// The contract's fixed fee (None: commission only).
    pub fixed_fee: Option<Money>,
    /// Contracted deliverables (videos + LIVE sessions).
    pub deliverables: u32,
    /// Deliverables whose first post falls before this period / in it.
    pub first_posted_before: u32,
    pub first_posted_in: u32,
    /// What earlier finalized settlements hold of the fixed fee, when known: it replaces the
    /// share of the deliverables first posted before the period, so a post entered late with a
    /// date inside an already finalized month still accrues, once, in the next open period.
    pub fixed_fee_held: Option<Decimal>,
    /// Percent, e.g. 12 for 12%.
    pub commission_percent: Decimal,
    pub service_fee_percent: Decimal,
    pub commission: Commission,
    /// Sample cost and shipping when the terms say the agency paid for the samples, in the
    /// period the samples shipped.
    pub sample_cost: Option<Money>,
    /// Money deductions of the fulfilment records that count, recorded in the period (a percent
    /// of the fixed fee already worked out as an amount).
    pub deductions: Vec<Money>,
    /// What the creator still owed from earlier periods, per currency (positive).
    pub carried_in: BTreeMap<Currency, Decimal>,
    /// Manual lines: (amount, reason); positive = the seller owes the agency more.
    pub adjustments: Vec<(Money, String)>,
}

/// A period's rates into the settlement currency (direct pairs only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates {
    pub settlement: Currency,
    pub to_settlement: BTreeMap<Currency, Decimal>,
}

impl Rates {
    /// The rate from `from`; 1 for the settlement currency itself.
    pub fn rate(&self, from: Currency) -> Option<Decimal> {
        if from == self.settlement {
            Some(Decimal::ONE)
        } else {
            self.to_settlement.get(&from).copied()
        }
    }
}

/// A currency without a rate for the period: finalizing is blocked, naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no rate from {0} for the period")]
pub struct MissingRate(pub &'static str);

/// The lines of one collaboration in one period, and what the creator still owes afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    pub lines: Vec<Line>,
    pub carried_out: BTreeMap<Currency, Decimal>,
}

/// The fixed fee of the deliverables first posted before `upto` (all rounded, the last
/// deliverable taking the rounding's rest): accrued = share(before + in) − share(before).
fn fee_share(fee: Money, deliverables: u32, posted: u32) -> Decimal {
    if deliverables == 0 || posted == 0 {
        return Decimal::ZERO;
    }
    let posted = posted.min(deliverables);
    if posted == deliverables {
        return fee.currency.round(fee.amount);
    }
    let each = fee.currency.round(fee.amount / Decimal::from(deliverables));
    each * Decimal::from(posted)
}

fn percent_of(base: Decimal, percent: Decimal, currency: Currency) -> Decimal {
    currency.round(base * percent / Decimal::ONE_HUNDRED)
}

/// One collaboration's lines for the period (SPEC §9). Amounts are rounded in their own
/// currency first, then converted and rounded in the settlement currency.
pub fn compute(c: &CollaborationPeriod, rates: &Rates) -> Result<Computed, MissingRate> {
    let mut lines = Vec::new();
    let mut push = |component: Component,
                    (payer, payee, payable, platform_paid): (Party, Party, bool, bool),
                    money: Money,
                    reason: Option<String>|
     -> Result<(), MissingRate> {
        if money.amount.is_zero() && component != Component::Adjustment {
            return Ok(());
        }
        let rate = rates
            .rate(money.currency)
            .ok_or(MissingRate(money.currency.code()))?;
        lines.push(Line {
            collaboration: c.collaboration,
            component,
            platform_paid,
            payer,
            payee,
            payable,
            currency: money.currency,
            amount: money.amount,
            rate,
            converted: rates.settlement.round(money.amount * rate),
            reason,
        });
        Ok(())
    };
    // What the creator is paid through the agency, and the service fee's base, per currency.
    let mut creator_paid: BTreeMap<Currency, Decimal> = BTreeMap::new();
    let mut fee_base: BTreeMap<Currency, Decimal> = BTreeMap::new();

    if let Some(fee) = c.fixed_fee {
        let before = c
            .fixed_fee_held
            .unwrap_or_else(|| fee_share(fee, c.deliverables, c.first_posted_before));
        let upto = fee_share(
            fee,
            c.deliverables,
            c.first_posted_before + c.first_posted_in,
        );
        let accrued = upto - before;
        push(
            Component::FixedFee,
            (Party::Seller, Party::Creator, true, false),
            Money {
                amount: accrued,
                currency: fee.currency,
            },
            None,
        )?;
        *creator_paid.entry(fee.currency).or_default() += accrued;
        *fee_base.entry(fee.currency).or_default() += accrued;
    }
    for ((currency, platform_paid), base) in &c.commission.cumulative_base {
        let cumulative = percent_of(*base, c.commission_percent, *currency);
        let held = c
            .commission
            .held
            .get(&(*currency, *platform_paid))
            .copied()
            .unwrap_or_default();
        // What earlier settlements hold was rounded there; rounding again keeps a hand-made
        // input from leaking sub-unit amounts.
        let amount = currency.round(cumulative - held);
        let (payer, payable) = if *platform_paid {
            (Party::Platform, false)
        } else {
            (Party::Seller, true)
        };
        push(
            Component::Commission,
            (payer, Party::Creator, payable, *platform_paid),
            Money {
                amount,
                currency: *currency,
            },
            None,
        )?;
        if payable {
            *creator_paid.entry(*currency).or_default() += amount;
        }
        *fee_base.entry(*currency).or_default() += amount;
    }
    for (currency, base) in &fee_base {
        push(
            Component::ServiceFee,
            (Party::Seller, Party::Agency, true, false),
            Money {
                amount: percent_of(*base, c.service_fee_percent, *currency),
                currency: *currency,
            },
            None,
        )?;
    }
    if let Some(sample) = c.sample_cost {
        push(
            Component::SampleCost,
            (Party::Seller, Party::Agency, true, false),
            Money {
                amount: sample.currency.round(sample.amount),
                currency: sample.currency,
            },
            None,
        )?;
    }
    // Deductions: what is owed (carried in + recorded now) up to what the creator is paid in
    // that currency this period; the rest carries forward.
    let mut owed: BTreeMap<Currency, Decimal> = c
        .carried_in
        .iter()
        .map(|(currency, v)| (*currency, currency.round(*v)))
        .collect();
    for d in &c.deductions {
        *owed.entry(d.currency).or_default() += d.currency.round(d.amount);
    }
    let mut carried_out = BTreeMap::new();
    for (currency, owed) in owed {
        let room = creator_paid
            .get(&currency)
            .copied()
            .unwrap_or_default()
            .max(Decimal::ZERO);
        // Owed below zero: a deduction already taken was corrected away, and is given back.
        let taken = if owed < Decimal::ZERO {
            owed
        } else {
            owed.min(room)
        };
        push(
            Component::Deduction,
            (Party::Creator, Party::Seller, true, false),
            Money {
                amount: -taken,
                currency,
            },
            None,
        )?;
        let rest = owed - taken;
        if rest > Decimal::ZERO {
            carried_out.insert(currency, rest);
        }
    }
    for (money, reason) in &c.adjustments {
        push(
            Component::Adjustment,
            (Party::Seller, Party::Agency, true, false),
            Money {
                amount: money.currency.round(money.amount),
                currency: money.currency,
            },
            Some(reason.clone()),
        )?;
    }
    Ok(Computed { lines, carried_out })
}

/// A money deduction given as a percent of the fixed fee, in the fee's currency (rounded).
pub fn percent_of_fee(fee: Money, percent: Decimal) -> Money {
    Money {
        amount: percent_of(fee.amount, percent, fee.currency),
        currency: fee.currency,
    }
}

/// What the seller owes the agency for samples the agency paid for, once they shipped: cost and
/// shipping together (both in the sample's currency), None when there is nothing to bill.
pub fn sample_billed(
    cost: Option<KMoney>,
    shipping: Option<KMoney>,
    shipped: bool,
) -> Option<Money> {
    if !shipped {
        return None;
    }
    let currency = cost.or(shipping)?.currency;
    let amount =
        cost.map_or(Decimal::ZERO, |m| m.amount) + shipping.map_or(Decimal::ZERO, |m| m.amount);
    (!amount.is_zero()).then_some(Money { amount, currency })
}

/// Every currency a collaboration's period has money in (each needs a rate).
pub fn currencies(c: &CollaborationPeriod) -> std::collections::BTreeSet<Currency> {
    let mut out = std::collections::BTreeSet::new();
    out.extend(c.fixed_fee.map(|m| m.currency));
    out.extend(c.commission.cumulative_base.keys().map(|(c, _)| *c));
    out.extend(c.commission.held.keys().map(|(c, _)| *c));
    out.extend(c.sample_cost.map(|m| m.currency));
    out.extend(c.deductions.iter().map(|m| m.currency));
    out.extend(c.carried_in.keys().copied());
    out.extend(c.adjustments.iter().map(|(m, _)| m.currency));
    out
}

impl Component {
    pub const ALL: [Component; 6] = [
        Component::FixedFee,
        Component::Commission,
        Component::ServiceFee,
        Component::SampleCost,
        Component::Deduction,
        Component::Adjustment,
    ];
}

/// A component from its stored code.
pub fn component_of(code: &str) -> Option<Component> {
    Component::ALL.into_iter().find(|c| c.code() == code)
}

/// A party's stored code.
pub fn party_code(p: Party) -> &'static str {
    match p {
        Party::Seller => "seller",
        Party::Agency => "agency",
        Party::Creator => "creator",
        Party::Platform => "platform",
    }
}

/// A party from its stored code.
pub fn party_of(code: &str) -> Option<Party> {
    [
        Party::Seller,
        Party::Agency,
        Party::Creator,
        Party::Platform,
    ]
    .into_iter()
    .find(|p| party_code(*p) == code)
}

/// Where a finalized settlement stands with the seller's payments (derived, never stored):
/// `paid` once payments reach what the seller owes, `partly_paid` before, `finalized` while
/// nothing is paid or nothing is due (a credit or an empty month).
/// Who may see the tenant's money: its owner and its account manager.
pub const READERS: &[crate::tenants::Access] = &[
    crate::tenants::Access::Owner,
    crate::tenants::Access::AccountManager,
];

pub fn payment_status(total_seller: Decimal, paid: Decimal) -> &'static str {
    if total_seller > Decimal::ZERO && paid >= total_seller {
        "paid"
    } else if paid > Decimal::ZERO {
        "partly_paid"
    } else {
        "finalized"
    }
}

/// Totals of lines in the settlement currency: (what the seller owes the agency, what the agency
/// pays creators). The seller's total may be below zero (a credit). Platform-paid commission is
/// in neither.
pub fn totals(lines: &[Line]) -> (Decimal, Decimal) {
    let mut seller = Decimal::ZERO;
    let mut creators = Decimal::ZERO;
    for l in lines.iter().filter(|l| l.payable) {
        match l.component {
            Component::FixedFee | Component::Commission | Component::Deduction => {
                seller += l.converted;
                creators += l.converted;
            }
            Component::ServiceFee | Component::SampleCost | Component::Adjustment => {
                seller += l.converted;
            }
        }
    }
    (seller, creators)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ccy(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn money(amount: &str, code: &str) -> Money {
        Money {
            amount: d(amount),
            currency: ccy(code),
        }
    }

    fn base(collaboration: Uuid) -> CollaborationPeriod {
        CollaborationPeriod {
            collaboration,
            fixed_fee: Some(money("600", "USD")),
            deliverables: 1,
            first_posted_before: 0,
            first_posted_in: 1,
            fixed_fee_held: None,
            commission_percent: d("12"),
            service_fee_percent: d("10"),
            commission: Commission::default(),
            sample_cost: None,
            deductions: Vec::new(),
            carried_in: BTreeMap::new(),
            adjustments: Vec::new(),
        }
    }

    fn cny() -> Rates {
        Rates {
            settlement: ccy("CNY"),
            to_settlement: [
                (ccy("USD"), d("7.1234")),
                (ccy("JPY"), d("0.0475")),
                (ccy("VND"), d("0.000285")),
                (ccy("GBP"), d("9.05")),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn line(c: &Computed, component: Component) -> &Line {
        c.lines
            .iter()
            .find(|l| l.component == component)
            .unwrap_or_else(|| panic!("no {component:?} line: {c:#?}"))
    }

    #[test]
    fn a_fixed_fee_accrues_with_the_first_post_and_the_service_fee_follows() {
        let c = compute(&base(Uuid::nil()), &cny()).unwrap();
        let fee = line(&c, Component::FixedFee);
        assert_eq!(
            (fee.amount, fee.payer, fee.payee),
            (d("600"), Party::Seller, Party::Creator)
        );
        assert_eq!(fee.converted, d("4274.04"), "600 × 7.1234");
        assert_eq!(line(&c, Component::ServiceFee).amount, d("60"));
        // Not posted yet: nothing accrues.
        let mut none = base(Uuid::nil());
        none.first_posted_in = 0;
        assert!(compute(&none, &cny()).unwrap().lines.is_empty());
    }

    #[test]
    fn three_deliverables_add_up_to_the_fee_whatever_the_rounding() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = Some(money("100", "USD"));
        c.deliverables = 3;
        let mut total = Decimal::ZERO;
        for (before, now) in [(0, 1), (1, 1), (2, 1)] {
            c.first_posted_before = before;
            c.first_posted_in = now;
            total += line(&compute(&c, &cny()).unwrap(), Component::FixedFee).amount;
        }
        assert_eq!(total, d("100"));
    }

    #[test]
    fn tiktok_commission_is_shown_but_never_payable_and_counts_for_the_service_fee() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = None;
        c.commission
            .cumulative_base
            .insert((ccy("USD"), true), d("1000"));
        c.commission
            .cumulative_base
            .insert((ccy("USD"), false), d("500"));
        let out = compute(&c, &cny()).unwrap();
        let platform = out
            .lines
            .iter()
            .find(|l| l.component == Component::Commission && l.platform_paid)
            .unwrap();
        assert_eq!(
            (platform.amount, platform.payable, platform.payer),
            (d("120"), false, Party::Platform)
        );
        assert_eq!(
            line(&out, Component::ServiceFee).amount,
            d("18"),
            "10% of 120 + 60"
        );
        let (seller, creators) = totals(&out.lines);
        let usd = |a: &str| cny().settlement.round(d(a) * d("7.1234"));
        assert_eq!(creators, usd("60"));
        assert_eq!(seller, usd("60") + usd("18"));
    }

    #[test]
    fn a_refund_after_finalizing_lands_once_in_the_next_period() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = None;
        let key = (ccy("USD"), false);
        c.commission.cumulative_base.insert(key, d("100"));
        let first = line(&compute(&c, &cny()).unwrap(), Component::Commission).amount;
        assert_eq!(first, d("12"));
        // Finalized; then a refund takes the base to 80.
        c.commission.held.insert(key, first);
        c.commission.cumulative_base.insert(key, d("80"));
        let second = line(&compute(&c, &cny()).unwrap(), Component::Commission).amount;
        assert_eq!(second, d("-2.4"));
        c.commission.held.insert(key, first + second);
        let third = compute(&c, &cny()).unwrap();
        assert!(
            !third
                .lines
                .iter()
                .any(|l| l.component == Component::Commission),
            "nothing more: {third:#?}"
        );
    }

    #[test]
    fn a_deduction_never_takes_the_creator_below_zero_and_the_rest_carries_forward() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = Some(money("100", "USD"));
        c.deductions = vec![money("80", "USD"), money("70", "USD")];
        let out = compute(&c, &cny()).unwrap();
        assert_eq!(line(&out, Component::Deduction).amount, d("-100"));
        assert_eq!(out.carried_out.get(&ccy("USD")), Some(&d("50")));
        // The service fee is on the fee before deductions.
        assert_eq!(line(&out, Component::ServiceFee).amount, d("10"));
    }

    #[test]
    fn a_deduction_corrected_away_after_it_was_taken_is_given_back() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = None;
        // Earlier settlements took 30 USD; the record was withdrawn since: −30 owed.
        c.carried_in.insert(ccy("USD"), d("-30"));
        let out = compute(&c, &cny()).unwrap();
        let back = line(&out, Component::Deduction);
        assert_eq!((back.amount, back.payable), (d("30"), true));
        assert!(out.carried_out.is_empty());
    }

    #[test]
    fn a_post_dated_into_a_finalized_month_accrues_once_in_the_next_open_one() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = Some(money("900", "USD"));
        c.deliverables = 3;
        // Two of three posted by the period's end; finalized settlements hold one share.
        c.first_posted_before = 2;
        c.first_posted_in = 0;
        c.fixed_fee_held = Some(d("300"));
        let out = compute(&c, &cny()).unwrap();
        assert_eq!(line(&out, Component::FixedFee).amount, d("300"));
        // Everything held already: nothing more.
        c.fixed_fee_held = Some(d("600"));
        let out = compute(&c, &cny()).unwrap();
        assert!(out.lines.iter().all(|l| l.component != Component::FixedFee));
    }

    #[test]
    fn amounts_round_half_even_in_their_currency_and_again_after_converting() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = None;
        c.commission_percent = d("5");
        c.commission
            .cumulative_base
            .insert((ccy("USD"), false), d("0.5"));
        c.commission
            .cumulative_base
            .insert((ccy("JPY"), false), d("250"));
        let out = compute(&c, &cny()).unwrap();
        let of = |code: &str| {
            out.lines
                .iter()
                .find(|l| l.component == Component::Commission && l.currency == ccy(code))
                .unwrap()
                .clone()
        };
        assert_eq!(of("USD").amount, d("0.02"), "0.025 → 0.02 (half-even)");
        assert_eq!(
            of("JPY").amount,
            d("12"),
            "12.5 → 12 (no minor units, half-even)"
        );
        assert_eq!(of("JPY").converted, d("0.57"), "12 × 0.0475 = 0.57");
    }

    #[test]
    fn paid_is_derived_from_the_sum_of_payments() {
        assert_eq!(payment_status(d("100"), d("0")), "finalized");
        assert_eq!(payment_status(d("100"), d("40")), "partly_paid");
        assert_eq!(payment_status(d("100"), d("100")), "paid");
        // A credit or an empty month: nothing to pay.
        assert_eq!(payment_status(d("-20"), d("0")), "finalized");
        assert_eq!(payment_status(d("0"), d("0")), "finalized");
    }

    #[test]
    fn a_missing_rate_names_its_currency() {
        let mut c = base(Uuid::nil());
        c.fixed_fee = Some(money("1000", "EUR"));
        assert_eq!(compute(&c, &cny()), Err(MissingRate("EUR")));
    }

    fn currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(vec!["USD", "CNY", "JPY", "VND", "GBP"]).prop_map(ccy)
    }

    fn amount() -> impl Strategy<Value = Decimal> {
        (0i64..10_000_000, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
    }

    prop_compose! {
        fn period()(
            fee in prop::option::of((amount(), currency())),
            deliverables in 1u32..4,
            before in 0u32..4,
            now in 0u32..4,
            commission_percent in 0u32..40,
            service in 0u32..25,
            bases in prop::collection::vec(((currency(), any::<bool>()), amount(), amount()), 0..4),
            sample in prop::option::of((amount(), currency())),
            deductions in prop::collection::vec((amount(), currency()), 0..4),
            carried in prop::collection::vec((currency(), amount()), 0..2),
        ) -> CollaborationPeriod {
            let mut commission = Commission::default();
            for (key, cumulative, held) in bases {
                commission.cumulative_base.insert(key, cumulative);
                commission.held.insert(key, held / Decimal::TEN);
            }
            CollaborationPeriod {
                collaboration: Uuid::nil(),
                fixed_fee: fee.map(|(a, c)| Money { amount: a, currency: c }),
                deliverables,
                first_posted_before: before.min(deliverables),
                first_posted_in: now.min(deliverables - before.min(deliverables)),
                fixed_fee_held: None,
                commission_percent: Decimal::from(commission_percent),
                service_fee_percent: Decimal::from(service),
                commission,
                sample_cost: sample.map(|(a, c)| Money { amount: a, currency: c }),
                deductions: deductions.into_iter().map(|(a, c)| Money { amount: a, currency: c }).collect(),
                carried_in: carried.into_iter().collect(),
                adjustments: Vec::new(),
            }
        }
    }

    proptest! {
        #[test]
        fn every_line_is_rounded_and_the_totals_are_the_sums_of_the_lines(c in period()) {
            let out = compute(&c, &cny()).unwrap();
            for l in &out.lines {
                prop_assert_eq!(l.currency.round(l.amount), l.amount);
                prop_assert_eq!(cny().settlement.round(l.converted), l.converted);
                prop_assert_eq!(l.converted, cny().settlement.round(l.amount * l.rate));
            }
            let (seller, creators) = totals(&out.lines);
            let payable: Vec<&Line> = out.lines.iter().filter(|l| l.payable).collect();
            prop_assert_eq!(seller, payable.iter().map(|l| l.converted).sum::<Decimal>());
            prop_assert_eq!(
                creators,
                payable
                    .iter()
                    .filter(|l| matches!(l.component, Component::FixedFee | Component::Commission | Component::Deduction))
                    .map(|l| l.converted)
                    .sum::<Decimal>()
            );
        }

        #[test]
        fn tiktok_commission_is_never_payable(c in period()) {
            let out = compute(&c, &cny()).unwrap();
            for l in out.lines.iter().filter(|l| l.platform_paid) {
                prop_assert!(!l.payable);
                prop_assert_eq!(l.payer, Party::Platform);
            }
        }

        #[test]
        fn the_creator_never_goes_below_zero_and_the_carry_forward_is_the_excess(c in period()) {
            let out = compute(&c, &cny()).unwrap();
            let mut paid: BTreeMap<Currency, Decimal> = BTreeMap::new();
            for l in out.lines.iter().filter(|l| l.payable && matches!(l.component, Component::FixedFee | Component::Commission)) {
                *paid.entry(l.currency).or_default() += l.amount;
            }
            let mut owed: BTreeMap<Currency, Decimal> =
                c.carried_in.iter().map(|(k, v)| (*k, k.round(*v))).collect();
            for d in &c.deductions {
                *owed.entry(d.currency).or_default() += d.currency.round(d.amount);
            }
            for (currency, owed) in owed {
                let taken = -out
                    .lines
                    .iter()
                    .filter(|l| l.component == Component::Deduction && l.currency == currency)
                    .map(|l| l.amount)
                    .sum::<Decimal>();
                let before = paid.get(&currency).copied().unwrap_or_default();
                prop_assert!(taken >= Decimal::ZERO);
                prop_assert!(before.max(Decimal::ZERO) - taken >= Decimal::ZERO);
                let carried = out.carried_out.get(&currency).copied().unwrap_or_default();
                prop_assert_eq!(taken + carried, owed.max(Decimal::ZERO));
            }
        }
    }
}
