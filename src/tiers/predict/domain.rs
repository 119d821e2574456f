//! The arithmetic of "Do the tiers predict?" (issue 15 item 3), pure: per tier held at booking,
//! the count, the median ROI of the re-bookings and an exact distribution-free confidence interval
//! for that median from order statistics, and the plain reading of the result.
//!
//! Definitions (the page's help text says the same):
//! - A *re-booking of a tiered creator* is a collaboration whose creator held a tier when it was
//!   booked: the `to_tier` of the latest tier history row at or before the collaboration's
//!   `created_at` is not null (the seller's own tier; for staff the platform tier).
//! - Its ROI is its rating's frozen `net_gmv / cost` (any rating state: the ROI is frozen when
//!   the rating opens); a collaboration without a rating, or with a cost of 0, is left out.
//! - The interval for a median of `n` values is `[x_(k), x_(n−k+1)]` with `k` the largest rank
//!   with `P(X < k) ≤ (1 − level) / 2` for `X ~ Binomial(n, ½)`: it holds the true median with
//!   probability at least `level` whatever the distribution. For 95 % it needs `n ≥ 6`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::kernel::tier::Tier;

/// Fewer re-bookings than this in total and the report is not shown (the empty state says how
/// many more are needed).
pub const MIN_REBOOKINGS: usize = 5;
/// The confidence of the intervals the page shows.
pub const CONFIDENCE: f64 = 0.95;

/// One re-booking of a tiered creator: the tier held at booking and the ROI of that
/// collaboration's rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rebooking {
    pub tier: Tier,
    pub roi: f64,
}

impl Rebooking {
    /// From a stored row: none when the tier is no tier or the cost is not positive (no ROI).
    pub fn from_rating(tier: &str, net_gmv: Decimal, cost: Decimal) -> Option<Rebooking> {
        let tier = Tier::parse(tier)?;
        if cost <= Decimal::ZERO {
            return None;
        }
        let roi = (net_gmv / cost).to_f64()?;
        roi.is_finite().then_some(Rebooking { tier, roi })
    }
}

/// The median of values sorted ascending (the mean of the two middle ones for an even count);
/// none for no values.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// `P(X < k)` for `X ~ Binomial(n, ½)`, for `k = 0..=n+1` (index `k`). Summed in log space so a
/// large `n` does not underflow `2^-n` before the binomial coefficient is applied.
fn binomial_half_cdf_below(n: usize) -> Vec<f64> {
    let ln_half_n = n as f64 * std::f64::consts::LN_2;
    let mut out = Vec::with_capacity(n + 2);
    out.push(0.0);
    let mut ln_choose = 0.0_f64;
    let mut sum = 0.0_f64;
    for i in 0..=n {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        sum += (ln_choose - ln_half_n).exp();
        out.push(sum.min(1.0));
    }
    out
}

/// The ranks (1-based) `(k, n − k + 1)` of the order statistics bounding a distribution-free
/// interval for the median of `n` values with coverage at least `level` (0 < level < 1): `k` is
/// the largest rank with `P(X < k) ≤ (1 − level) / 2`, `X ~ Binomial(n, ½)`. None when no such
/// interval exists (even `[x_(1), x_(n)]` covers less: for 95 %, `n < 6`).
pub fn median_interval_ranks(n: usize, level: f64) -> Option<(usize, usize)> {
    if n == 0 || !(level > 0.0 && level < 1.0) {
        return None;
    }
    let tail = (1.0 - level) / 2.0;
    let below = binomial_half_cdf_below(n);
    // k never passes the middle: [x_(k), x_(n−k+1)] must still hold the median.
    let k = (1..=n.div_ceil(2)).rev().find(|&k| below[k] <= tail)?;
    Some((k, n + 1 - k))
}

/// The interval of `median_interval_ranks` on values sorted ascending.
pub fn median_interval(sorted: &[f64], level: f64) -> Option<(f64, f64)> {
    let (lo, hi) = median_interval_ranks(sorted.len(), level)?;
    Some((sorted[lo - 1], sorted[hi - 1]))
}

/// One tier's row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct TierSummary {
    pub tier: Tier,
    pub count: usize,
    pub median: Option<f64>,
    /// The 95 % interval; none with no re-bookings or fewer than 6.
    pub interval: Option<(f64, f64)>,
}

/// How the tiers ordered the medians, said plainly under the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// Only one tier has re-bookings: nothing to compare.
    OneTier,
    /// Every tier with re-bookings has the same median.
    Flat,
    /// Among tiers with re-bookings, each higher tier's median is at least the next lower one's
    /// (S ≥ A ≥ B ≥ C), and `top` (the highest tier with data) has the highest.
    Ordered { top: Tier },
    /// A lower tier had a higher median than a higher one: the first such pair from the top.
    NotOrdered {
        higher: Tier,
        higher_median: f64,
        lower: Tier,
        lower_median: f64,
    },
}

/// The report: all four tiers (S, A, B, C) always, the total and the reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub tiers: Vec<TierSummary>,
    pub total: usize,
    pub reading: Reading,
}

impl Report {
    /// Whether there are enough re-bookings to show the report.
    pub fn enough(&self) -> bool {
        self.total >= MIN_REBOOKINGS
    }

    /// How many more re-bookings the report needs before it shows (0 once it does).
    pub fn still_needed(&self) -> usize {
        MIN_REBOOKINGS.saturating_sub(self.total)
    }
}

/// The report over these re-bookings.
pub fn report(rebookings: &[Rebooking]) -> Report {
    let tiers: Vec<TierSummary> = Tier::ALL
        .iter()
        .map(|&tier| {
            let mut rois: Vec<f64> = rebookings
                .iter()
                .filter(|r| r.tier == tier && r.roi.is_finite())
                .map(|r| r.roi)
                .collect();
            rois.sort_by(f64::total_cmp);
            TierSummary {
                tier,
                count: rois.len(),
                median: median(&rois),
                interval: median_interval(&rois, CONFIDENCE),
            }
        })
        .collect();
    let total = tiers.iter().map(|t| t.count).sum();
    let reading = reading(&tiers);
    Report {
        tiers,
        total,
        reading,
    }
}

/// The reading of the medians of tiers listed from the highest (S) down.
pub fn reading(tiers: &[TierSummary]) -> Reading {
    let with_data: Vec<(Tier, f64)> = tiers
        .iter()
        .filter_map(|t| t.median.map(|m| (t.tier, m)))
        .collect();
    if with_data.len() < 2 {
        return Reading::OneTier;
    }
    for pair in with_data.windows(2) {
        let ((higher, hm), (lower, lm)) = (pair[0], pair[1]);
        if lm > hm {
            return Reading::NotOrdered {
                higher,
                higher_median: hm,
                lower,
                lower_median: lm,
            };
        }
    }
    let (top, top_median) = with_data[0];
    if with_data.iter().all(|(_, m)| *m == top_median) {
        Reading::Flat
    } else {
        Reading::Ordered { top }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(tier: Tier, roi: f64) -> Rebooking {
        Rebooking { tier, roi }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_two_middle_values() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[2.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
    }

    #[test]
    fn the_95_percent_ranks_match_the_binomial_table() {
        // No 95 % interval below 6 values: even [x_(1), x_(5)] covers only 1 − 2/32 = 93.75 %.
        for n in 0..6 {
            assert_eq!(median_interval_ranks(n, 0.95), None, "n = {n}");
        }
        assert_eq!(median_interval_ranks(6, 0.95), Some((1, 6)));
        assert_eq!(median_interval_ranks(8, 0.95), Some((1, 8)));
        assert_eq!(median_interval_ranks(9, 0.95), Some((2, 8)));
        assert_eq!(median_interval_ranks(10, 0.95), Some((2, 9)));
        assert_eq!(median_interval_ranks(20, 0.95), Some((6, 15)));
        assert_eq!(median_interval_ranks(100, 0.95), Some((40, 61)));
        // A large n does not underflow.
        let (k, h) = median_interval_ranks(5000, 0.95).unwrap();
        assert_eq!(h, 5001 - k);
        assert!((2430..=2432).contains(&k), "{k}");
    }

    #[test]
    fn a_level_outside_zero_to_one_has_no_interval() {
        assert_eq!(median_interval_ranks(10, 0.0), None);
        assert_eq!(median_interval_ranks(10, 1.0), None);
        assert_eq!(median_interval_ranks(10, f64::NAN), None);
    }

    #[test]
    fn a_rating_without_a_positive_cost_is_no_rebooking() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            Rebooking::from_rating("S", d("250"), d("100")),
            Some(r(Tier::S, 2.5))
        );
        assert_eq!(Rebooking::from_rating("A", d("250"), d("0")), None);
        assert_eq!(Rebooking::from_rating("A", d("250"), d("-1")), None);
        assert_eq!(Rebooking::from_rating("X", d("250"), d("100")), None);
    }

    #[test]
    fn the_report_has_all_four_tiers_and_says_when_it_needs_more() {
        let rep = report(&[r(Tier::S, 3.0), r(Tier::A, 2.0), r(Tier::A, 1.0)]);
        assert_eq!(rep.tiers.len(), 4);
        assert_eq!(rep.total, 3);
        assert!(!rep.enough());
        assert_eq!(rep.still_needed(), 2);
        assert_eq!(rep.tiers[1].median, Some(1.5));
        assert_eq!(rep.tiers[3].count, 0);
        assert_eq!(rep.tiers[3].median, None);
        assert_eq!(rep.reading, Reading::Ordered { top: Tier::S });
    }

    #[test]
    fn a_hand_computed_report() {
        // S: 6 values → median (2.0 + 2.4) / 2 = 2.2, interval [x_(1), x_(6)] = [1.0, 4.0].
        // A: 3 values → median 1.5, no interval. B: 1 value. C: none.
        let mut items: Vec<Rebooking> = [1.0, 1.8, 2.0, 2.4, 3.0, 4.0]
            .iter()
            .map(|&x| r(Tier::S, x))
            .collect();
        items.extend([1.2, 1.5, 1.9].iter().map(|&x| r(Tier::A, x)));
        items.push(r(Tier::B, 0.5));
        let rep = report(&items);
        assert_eq!(rep.total, 10);
        assert!(rep.enough());
        assert_eq!(rep.still_needed(), 0);
        let s = &rep.tiers[0];
        assert_eq!(
            (s.count, s.median, s.interval),
            (6, Some(2.2), Some((1.0, 4.0)))
        );
        let a = &rep.tiers[1];
        assert_eq!((a.count, a.median, a.interval), (3, Some(1.5), None));
        assert_eq!(rep.tiers[2].median, Some(0.5));
        assert_eq!(rep.tiers[3].count, 0);
        assert_eq!(rep.reading, Reading::Ordered { top: Tier::S });
    }

    #[test]
    fn the_reading_names_the_first_inversion_and_the_dull_cases() {
        let rep = report(&[r(Tier::S, 1.0), r(Tier::A, 2.0), r(Tier::C, 3.0)]);
        assert_eq!(
            rep.reading,
            Reading::NotOrdered {
                higher: Tier::S,
                higher_median: 1.0,
                lower: Tier::A,
                lower_median: 2.0
            }
        );
        // A gap (no B) compares A with C.
        let rep = report(&[r(Tier::A, 2.0), r(Tier::C, 2.5)]);
        assert!(matches!(
            rep.reading,
            Reading::NotOrdered {
                higher: Tier::A,
                lower: Tier::C,
                ..
            }
        ));
        assert_eq!(report(&[r(Tier::B, 2.0)]).reading, Reading::OneTier);
        assert_eq!(report(&[]).reading, Reading::OneTier);
        assert_eq!(
            report(&[r(Tier::A, 2.0), r(Tier::B, 2.0)]).reading,
            Reading::Flat
        );
        assert_eq!(
            report(&[r(Tier::A, 2.0), r(Tier::B, 2.0), r(Tier::C, 1.0)]).reading,
            Reading::Ordered { top: Tier::A }
        );
    }

    fn coverage(n: usize, k: usize) -> f64 {
        1.0 - 2.0 * binomial_half_cdf_below(n)[k]
    }

    proptest! {
        #[test]
        fn the_interval_holds_the_median_and_its_ends_are_in_order(
            mut xs in proptest::collection::vec(-50.0f64..50.0, 1..200),
            level in 0.01f64..0.999,
        ) {
            xs.sort_by(f64::total_cmp);
            let m = median(&xs).unwrap();
            if let Some((lo, hi)) = median_interval(&xs, level) {
                prop_assert!(lo <= hi);
                prop_assert!(lo <= m && m <= hi, "{lo} {m} {hi}");
            }
        }

        #[test]
        fn the_interval_covers_at_least_the_level_and_is_the_narrowest_that_does(
            n in 1usize..400,
            level in 0.01f64..0.999,
        ) {
            if let Some((k, h)) = median_interval_ranks(n, level) {
                prop_assert_eq!(h, n + 1 - k);
                prop_assert!(k >= 1 && k <= h);
                prop_assert!(coverage(n, k) >= level - 1e-12);
                // One rank further in would cover less than asked (unless past the middle).
                if 2 * (k + 1) <= n + 1 {
                    prop_assert!(coverage(n, k + 1) < level + 1e-12);
                }
            } else {
                // Not even the widest interval covers enough.
                prop_assert!(coverage(n, 1) < level + 1e-12);
            }
        }

        #[test]
        fn the_interval_widens_as_the_confidence_asked_for_grows(
            mut xs in proptest::collection::vec(0.0f64..10.0, 1..150),
            a in 0.01f64..0.999,
            b in 0.01f64..0.999,
        ) {
            xs.sort_by(f64::total_cmp);
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let narrow = median_interval_ranks(xs.len(), low);
            let wide = median_interval_ranks(xs.len(), high);
            if let Some((wk, wh)) = wide {
                let (nk, nh) = narrow.expect("a lower level has an interval too");
                prop_assert!(wk <= nk && nh <= wh);
                let (wl, wu) = median_interval(&xs, high).unwrap();
                let (nl, nu) = median_interval(&xs, low).unwrap();
                prop_assert!(wl <= nl && nu <= wu);
            }
        }

        #[test]
        fn every_tier_is_counted_once_and_the_total_is_the_sum(
            items in proptest::collection::vec((0usize..4, 0.0f64..20.0), 0..60),
        ) {
            let rebookings: Vec<Rebooking> =
                items.iter().map(|(t, x)| r(Tier::ALL[*t], *x)).collect();
            let rep = report(&rebookings);
            prop_assert_eq!(rep.tiers.len(), 4);
            prop_assert_eq!(rep.total, items.len());
            for t in &rep.tiers {
                prop_assert_eq!(t.median.is_some(), t.count > 0);
                prop_assert_eq!(t.interval.is_some(), t.count >= 6);
            }
            prop_assert_eq!(rep.enough(), items.len() >= MIN_REBOOKINGS);
        }
    }
}
