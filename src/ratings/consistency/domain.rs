//! The pure arithmetic of rater consistency (SPEC §7): Krippendorff's alpha (interval metric, on
//! totals, missing ratings allowed), per-rater statistics, and the calibration of a rater's
//! subjective levels against the tenant's reference raters.
//!
//! Only each rater's first submission (version 1) of a rating feeds any of this; callers leave
//! corrections out before they get here.

use std::collections::BTreeMap;

use uuid::Uuid;

/// The top level of a subjective dimension.
pub const TOP_LEVEL: f64 = 5.0;
/// The floor under a rater's spread in the calibration, so a rater who always gives the same
/// level does not blow the scale up (or divide by zero).
pub const SPREAD_FLOOR: f64 = 0.5;
/// The blend's half-way count: w = n / (n + BLEND_HALF).
pub const BLEND_HALF: f64 = 10.0;

/// Agreement across collaborations rated by two or more raters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Agreement {
    /// Fewer than two collaborations have two raters, or every total is the same (no expected
    /// disagreement): alpha is undefined and never shown as a number.
    NotEnoughData { units: usize },
    Alpha { alpha: f64, units: usize },
}

impl Agreement {
    /// The number of collaborations (units with at least two ratings) it rests on.
    pub fn units(&self) -> usize {
        match *self {
            Agreement::NotEnoughData { units } | Agreement::Alpha { units, .. } => units,
        }
    }

    pub fn alpha(&self) -> Option<f64> {
        match *self {
            Agreement::Alpha { alpha, .. } => Some(alpha),
            Agreement::NotEnoughData { .. } => None,
        }
    }
}

/// Krippendorff's alpha with the interval metric δ²(c, k) = (c − k)².
///
/// `units` holds, per collaboration, the totals of the raters who rated it (a rater who did not
/// rate it is simply absent). Units with fewer than two values are not pairable and are left out;
/// non-finite values are left out too.
///
/// α = 1 − D_o / D_e, with n the number of pairable values,
/// D_o = (1/n) Σ_u 1/(m_u − 1) Σ_{i≠j in u} (v_i − v_j)²   (observed, within units),
/// D_e = 1/(n(n − 1)) Σ_{i≠j over all pairable values} (v_i − v_j)²   (expected, across all).
pub fn krippendorff_interval(units: &[Vec<f64>]) -> Agreement {
    let pairable: Vec<Vec<f64>> = units
        .iter()
        .map(|u| u.iter().copied().filter(|v| v.is_finite()).collect::<Vec<_>>())
        .filter(|u| u.len() >= 2)
        .collect();
    let count = pairable.len();
    if count < 2 {
        return Agreement::NotEnoughData { units: count };
    }
    let n: f64 = pairable.iter().map(|u| u.len() as f64).sum();
    let observed: f64 = pairable
        .iter()
        .map(|u| ordered_pair_squares(u) / (u.len() as f64 - 1.0))
        .sum::<f64>()
        / n;
    let all: Vec<f64> = pairable.iter().flatten().copied().collect();
    let expected = ordered_pair_squares(&all) / (n * (n - 1.0));
    // Identical totals everywhere: nothing to tell agreement from chance by.
    if !expected.is_finite() || expected <= f64::EPSILON || !observed.is_finite() {
        return Agreement::NotEnoughData { units: count };
    }
    Agreement::Alpha {
        alpha: 1.0 - observed / expected,
        units: count,
    }
}

/// Σ over ordered pairs i ≠ j of (v_i − v_j)², as 2·m·Σ(v − mean)² (no O(m²) loop).
fn ordered_pair_squares(values: &[f64]) -> f64 {
    let m = values.len() as f64;
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / m;
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    2.0 * m * squares
}

/// A rater's first submission of one rating, as the statistics read it.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstSubmission {
    pub rater_id: Uuid,
    pub rating_id: Uuid,
    /// The total, 0–100.
    pub total: f64,
    /// The levels the rater chose on the subjective dimensions (1–5).
    pub subjective_levels: Vec<f64>,
}

/// One rater's line of the consistency report.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterStats {
    pub rater_id: Uuid,
    pub count: usize,
    pub mean: f64,
    /// Population standard deviation of the totals.
    pub spread: f64,
    /// Share (0–1) of the subjective levels the rater gave that are the top level; None when
    /// the rater gave none.
    pub top_share: Option<f64>,
    /// Mean over the collaborations they shared with others of (their total − the mean of the
    /// others' totals); None when they shared none.
    pub mean_deviation: Option<f64>,
    /// Counts of the subjective levels given, 1..=5 (a fractional level counts at its rounding).
    pub level_counts: [usize; 5],
}

/// Population mean and standard deviation; None for an empty list.
pub fn mean_and_spread(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    Some((mean, var.max(0.0).sqrt()))
}

/// Share of the levels that are the top level; None for none.
pub fn top_share(levels: &[f64]) -> Option<f64> {
    if levels.is_empty() {
        return None;
    }
    let top = levels.iter().filter(|l| **l >= TOP_LEVEL).count();
    Some(top as f64 / levels.len() as f64)
}

/// The report's per-rater statistics, in the order of the raters' first appearance.
pub fn rater_stats(subs: &[FirstSubmission]) -> Vec<RaterStats> {
    let mut order: Vec<Uuid> = Vec::new();
    let mut by_rater: BTreeMap<Uuid, Vec<&FirstSubmission>> = BTreeMap::new();
    let mut by_rating: BTreeMap<Uuid, Vec<&FirstSubmission>> = BTreeMap::new();
    for s in subs {
        if !by_rater.contains_key(&s.rater_id) {
            order.push(s.rater_id);
        }
        by_rater.entry(s.rater_id).or_default().push(s);
        by_rating.entry(s.rating_id).or_default().push(s);
    }
    order
        .into_iter()
        .map(|rater| {
            let own = &by_rater[&rater];
            let totals: Vec<f64> = own.iter().map(|s| s.total).collect();
            let (mean, spread) = mean_and_spread(&totals).unwrap_or((0.0, 0.0));
            let levels: Vec<f64> = own
                .iter()
                .flat_map(|s| s.subjective_levels.iter().copied())
                .collect();
            let mut level_counts = [0usize; 5];
            for l in &levels {
                let i = (l.round().clamp(1.0, 5.0) as usize) - 1;
                level_counts[i] += 1;
            }
            let deviations: Vec<f64> = own
                .iter()
                .filter_map(|s| {
                    let others: Vec<f64> = by_rating[&s.rating_id]
                        .iter()
                        .filter(|o| o.rater_id != rater)
                        .map(|o| o.total)
                        .collect();
                    mean_and_spread(&others).map(|(m, _)| s.total - m)
                })
                .collect();
            RaterStats {
                rater_id: rater,
                count: own.len(),
                mean,
                spread,
                top_share: top_share(&levels),
                mean_deviation: mean_and_spread(&deviations).map(|(m, _)| m),
                level_counts,
            }
        })
        .collect()
}

/// Alpha over the totals of the submissions, one unit per rating.
pub fn agreement(subs: &[FirstSubmission]) -> Agreement {
    let mut units: BTreeMap<Uuid, Vec<f64>> = BTreeMap::new();
    for s in subs {
        units.entry(s.rating_id).or_default().push(s.total);
    }
    krippendorff_interval(&units.into_values().collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------------------------
// Calibration (SPEC §7 "Calibrated score").

/// A rater's earlier first submissions, as the calibration reads them: per subjective dimension
/// the levels given, on ratings completed before the one being calibrated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RaterHistory {
    /// Number of earlier ratings (first submissions) of the rater.
    pub ratings: usize,
    /// The levels the rater gave, per subjective dimension code.
    pub levels: BTreeMap<String, Vec<f64>>,
}

impl RaterHistory {
    /// The rater's share of top levels over every subjective level they gave.
    pub fn top_share(&self) -> Option<f64> {
        let all: Vec<f64> = self.levels.values().flatten().copied().collect();
        top_share(&all)
    }

    /// A generous rater gave the top level on more than half of the subjective levels of their
    /// ratings; they are left out of the tenant reference.
    pub fn is_generous(&self) -> bool {
        self.top_share().is_some_and(|s| s > 0.5)
    }
}

/// The tenant reference of one dimension: mean and population SD of the levels given by every
/// rater who is not generous. None when no such rater gave that dimension a level.
pub fn reference(histories: &BTreeMap<Uuid, RaterHistory>, code: &str) -> Option<(f64, f64)> {
    let levels: Vec<f64> = histories
        .values()
        .filter(|h| !h.is_generous())
        .flat_map(|h| h.levels.get(code).into_iter().flatten().copied())
        .collect();
    mean_and_spread(&levels)
}

/// One subjective level calibrated:
/// cal = m_ref + (x − m_r) · s_ref / max(s_r, 0.5), blended with the raw level by
/// w = n / (n + 10) (n = the rater's earlier ratings), clamped to [1, 5]. With no earlier
/// ratings the raw level stands; with no reference, cal = x.
pub fn calibrate_level(
    raw: f64,
    own_previous: &[f64],
    reference: Option<(f64, f64)>,
    previous_ratings: usize,
) -> f64 {
    let raw = if raw.is_finite() {
        raw.clamp(1.0, 5.0)
    } else {
        1.0
    };
    let Some((m_r, s_r)) = mean_and_spread(own_previous) else {
        return raw;
    };
    let cal = match reference {
        Some((m_ref, s_ref)) => m_ref + (raw - m_r) * s_ref / s_r.max(SPREAD_FLOOR),
        None => raw,
    };
    let n = previous_ratings as f64;
    let w = n / (n + BLEND_HALF);
    let blended = w * cal + (1.0 - w) * raw;
    if blended.is_finite() {
        blended.clamp(1.0, 5.0)
    } else {
        raw
    }
}

/// A template dimension as the calibration needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub code: String,
    pub weight: f64,
    pub subjective: bool,
}

/// The total 0–100 of levels under the template's weights: Σ weight × (level − 1)/4 × 100 / 100.
/// A dimension without a level counts as level 1 (no points).
pub fn total_of(dimensions: &[Dimension], levels: &BTreeMap<String, f64>) -> f64 {
    let total: f64 = dimensions
        .iter()
        .map(|d| {
            let level = levels
                .get(&d.code)
                .copied()
                .filter(|l| l.is_finite())
                .unwrap_or(1.0)
                .clamp(1.0, 5.0);
            d.weight * (level - 1.0) / 4.0
        })
        .sum();
    total.clamp(0.0, 100.0)
}

/// A submission's calibrated levels and total: every subjective level calibrated against the
/// rater's own history and the tenant reference; objective levels as they were.
pub fn calibrate_submission(
    dimensions: &[Dimension],
    raw_levels: &BTreeMap<String, f64>,
    rater: &RaterHistory,
    histories: &BTreeMap<Uuid, RaterHistory>,
) -> (BTreeMap<String, f64>, f64) {
    let mut levels = raw_levels.clone();
    for d in dimensions.iter().filter(|d| d.subjective) {
        let Some(raw) = raw_levels.get(&d.code).copied() else {
            continue;
        };
        let own: &[f64] = rater.levels.get(&d.code).map_or(&[], |v| v.as_slice());
        let cal = calibrate_level(raw, own, reference(histories, &d.code), rater.ratings);
        levels.insert(d.code.clone(), cal);
    }
    let total = total_of(dimensions, &levels);
    (levels, total)
}

// ---------------------------------------------------------------------------------------------
// Reading the stored JSON (template dimensions, a submission's levels).

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// A template's dimensions from `scorecard_templates.dimensions` (a list of {"code", "weight",
/// "kind"}); entries without a code or a weight are skipped.
pub fn dimensions_from_json(v: &serde_json::Value) -> Vec<Dimension> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some(Dimension {
                code: d.get("code")?.as_str()?.to_string(),
                weight: number(d.get("weight")?)?,
                subjective: d.get("kind").and_then(|k| k.as_str()) == Some("subjective"),
            })
        })
        .collect()
}

/// A submission's levels from `{"<code>": level}`; anything not a number is skipped.
pub fn levels_from_json(v: &serde_json::Value) -> BTreeMap<String, f64> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, l)| Some((k.clone(), number(l)?)))
        .collect()
}

/// Levels as stored in `submission_calibrations.levels`, rounded to 4 decimals.
pub fn levels_to_json(levels: &BTreeMap<String, f64>) -> serde_json::Value {
    serde_json::Value::Object(
        levels
            .iter()
            .map(|(k, l)| {
                let rounded = (l * 10_000.0).round() / 10_000.0;
                (k.clone(), serde_json::json!(rounded))
            })
            .collect(),
    )
}

/// A stored first submission as the statistics read it: its total and the levels of its
/// template's subjective dimensions.
pub fn first_submission(
    rater_id: Uuid,
    rating_id: Uuid,
    total: f64,
    dimensions: &[Dimension],
    levels: &BTreeMap<String, f64>,
) -> FirstSubmission {
    FirstSubmission {
        rater_id,
        rating_id,
        total,
        subjective_levels: dimensions
            .iter()
            .filter(|d| d.subjective)
            .filter_map(|d| levels.get(&d.code).copied())
            .collect(),
    }
}

/// Adds one earlier first submission to its rater's history.
pub fn add_to_history(
    history: &mut RaterHistory,
    dimensions: &[Dimension],
    levels: &BTreeMap<String, f64>,
) {
    history.ratings += 1;
    for d in dimensions.iter().filter(|d| d.subjective) {
        if let Some(l) = levels.get(&d.code) {
            history.levels.entry(d.code.clone()).or_default().push(*l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn alpha_of_a_small_example_computed_by_hand() {
        // Three collaborations, two raters each (totals):
        //   u1: 1, 3      u2: 2, 2      u3: 4, 6
        // Coincidence matrix o_ck (each unit adds 1/(m_u − 1) = 1 per ordered pair):
        //   o(1,3) = o(3,1) = 1,  o(2,2) = 2,  o(4,6) = o(6,4) = 1
        // Marginals n_1 = 1, n_2 = 2, n_3 = 1, n_4 = 1, n_6 = 1; n = 6.
        // D_o = (1/n) Σ o_ck (c − k)² = (1·4 + 1·4 + 2·0 + 1·4 + 1·4) / 6 = 16/6
        // D_e = 1/(n(n − 1)) Σ_c Σ_k n_c n_k (c − k)²: the values 1,3,2,2,4,6 have mean 3 and
        //   Σ(v − 3)² = 4 + 0 + 1 + 1 + 1 + 9 = 16, so Σ over ordered pairs = 2 · 6 · 16 = 192
        //   and D_e = 192 / 30 = 6.4
        // α = 1 − (16/6) / 6.4 = 1 − 0.41666… = 7/12
        let got = krippendorff_interval(&[vec![1.0, 3.0], vec![2.0, 2.0], vec![4.0, 6.0]]);
        assert_eq!(got.units(), 3);
        assert!(close(got.alpha().unwrap(), 7.0 / 12.0), "{got:?}");
    }

    #[test]
    fn alpha_with_missing_ratings_computed_by_hand() {
        // Three raters A, B, C; not everyone rated everything:
        //   u1: A 2, B 4          (C missing)
        //   u2: A 3, B 3, C 5
        //   u3: A 1,       C 1    (B missing)
        //   u4: A 5               (alone: not pairable, left out)
        // n = 2 + 3 + 2 = 7 pairable values.
        // Coincidences: u1 gives o(2,4) = o(4,2) = 1; u2 (m = 3, weight 1/2) gives
        //   o(3,3) = 2·½ = 1, o(3,5) = o(5,3) = 2·½ = 1; u3 gives o(1,1) = 2.
        // D_o = (1/7)(1·4 + 1·4 + 1·0 + 1·4 + 1·4 + 2·0) = 16/7
        // D_e: values 2,4,3,3,5,1,1 (sum 19), Σv² = 65, Σ(v − mean)² = 65 − 361/7 = 94/7;
        //   Σ over ordered pairs = 2 · 7 · 94/7 = 188; D_e = 188 / 42 = 94/21
        // α = 1 − (16/7) / (94/21) = 1 − 48/94 = 23/47 ≈ 0.4894
        let got = krippendorff_interval(&[
            vec![2.0, 4.0],
            vec![3.0, 3.0, 5.0],
            vec![1.0, 1.0],
            vec![5.0],
        ]);
        assert_eq!(got.units(), 3);
        assert!(close(got.alpha().unwrap(), 23.0 / 47.0), "{got:?}");
    }

    #[test]
    fn alpha_matches_krippendorffs_published_interval_example() {
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers ×
        // 12 units with missing values; the interval alpha published there is 0.849.
        let units = vec![
            vec![1.0, 1.0, 1.0],
            vec![2.0, 2.0, 3.0, 2.0],
            vec![3.0, 3.0, 3.0, 3.0],
            vec![3.0, 3.0, 3.0, 3.0],
            vec![2.0, 2.0, 2.0, 2.0],
            vec![1.0, 2.0, 3.0, 4.0],
            vec![4.0, 4.0, 4.0, 4.0],
            vec![1.0, 1.0, 2.0, 1.0],
            vec![2.0, 2.0, 2.0, 2.0],
            vec![5.0, 5.0, 5.0],
            vec![1.0, 1.0],
            vec![3.0],
        ];
        let got = krippendorff_interval(&units);
        assert_eq!(got.units(), 11);
        assert!((got.alpha().unwrap() - 0.849).abs() < 0.0005, "{got:?}");
    }

    #[test]
    fn alpha_needs_two_units_with_two_raters_and_some_disagreement_to_exist() {
        assert_eq!(
            krippendorff_interval(&[]),
            Agreement::NotEnoughData { units: 0 }
        );
        // One collaboration with two raters, others with one: not enough.
        assert_eq!(
            krippendorff_interval(&[vec![60.0, 70.0], vec![50.0], vec![80.0]]),
            Agreement::NotEnoughData { units: 1 }
        );
        // Every total the same: the expected disagreement is 0.
        assert_eq!(
            krippendorff_interval(&[vec![70.0, 70.0], vec![70.0, 70.0, 70.0]]),
            Agreement::NotEnoughData { units: 2 }
        );
        // Perfect agreement with variation across units is 1.
        let perfect = krippendorff_interval(&[vec![40.0, 40.0], vec![80.0, 80.0]]);
        assert!(close(perfect.alpha().unwrap(), 1.0));
        // NaN never gets in.
        let with_nan = krippendorff_interval(&[vec![f64::NAN, 1.0], vec![2.0, 3.0]]);
        assert_eq!(with_nan, Agreement::NotEnoughData { units: 1 });
    }

    fn sub(rater: u128, rating: u128, total: f64, levels: &[f64]) -> FirstSubmission {
        FirstSubmission {
            rater_id: Uuid::from_u128(rater),
            rating_id: Uuid::from_u128(rating),
            total,
            subjective_levels: levels.to_vec(),
        }
    }

    #[test]
    fn rater_statistics_by_hand() {
        // Rater 1: 60, 80 on ratings 10, 11; rater 2: 70 on 10, 90 on 11, 50 on 12.
        let subs = vec![
            sub(1, 10, 60.0, &[3.0, 4.0]),
            sub(2, 10, 70.0, &[5.0, 5.0]),
            sub(1, 11, 80.0, &[4.0, 5.0]),
            sub(2, 11, 90.0, &[5.0, 5.0]),
            sub(2, 12, 50.0, &[5.0, 3.0]),
        ];
        let stats = rater_stats(&subs);
        assert_eq!(stats.len(), 2);
        let r1 = &stats[0];
        assert_eq!(r1.count, 2);
        assert!(close(r1.mean, 70.0));
        // Population SD of 60, 80: sqrt(((−10)² + 10²)/2) = 10.
        assert!(close(r1.spread, 10.0));
        // One 5 among four levels.
        assert!(close(r1.top_share.unwrap(), 0.25));
        // (60 − 70) and (80 − 90): mean −10.
        assert!(close(r1.mean_deviation.unwrap(), -10.0));
        assert_eq!(r1.level_counts, [0, 0, 1, 2, 1]);
        let r2 = &stats[1];
        assert_eq!(r2.count, 3);
        assert!(close(r2.mean, 70.0));
        // 70, 90, 50 around 70: sqrt((0 + 400 + 400)/3).
        assert!(close(r2.spread, (800.0_f64 / 3.0).sqrt()));
        assert!(close(r2.top_share.unwrap(), 5.0 / 6.0));
        // Only 10 and 11 are shared: +10 and +10.
        assert!(close(r2.mean_deviation.unwrap(), 10.0));
        // Alpha of units (60, 70), (80, 90), (50): by hand, n = 4, D_o = (2·100 + 2·100)/4 = 100,
        // values 60,70,80,90 mean 75, Σ(v−75)² = 500, ordered pairs 2·4·500 = 4000,
        // D_e = 4000/12; α = 1 − 100·12/4000 = 0.7.
        assert!(close(agreement(&subs).alpha().unwrap(), 0.7));
    }

    #[test]
    fn a_rater_alone_has_no_deviation() {
        let stats = rater_stats(&[sub(1, 10, 60.0, &[])]);
        assert_eq!(stats[0].mean_deviation, None);
        assert_eq!(stats[0].top_share, None);
        assert!(close(stats[0].spread, 0.0));
    }

    fn history(levels: &[(&str, &[f64])]) -> RaterHistory {
        RaterHistory {
            ratings: levels.first().map_or(0, |l| l.1.len()),
            levels: levels
                .iter()
                .map(|(c, v)| (c.to_string(), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn calibration_by_hand() {
        // The rater gave 4 and 5 before (m_r = 4.5, s_r = 0.5); the reference is 2, 4
        // (m_ref = 3, s_ref = 1). Raw 5: cal = 3 + (5 − 4.5) · 1 / 0.5 = 4; n = 2, w = 2/12;
        // result = w·cal + (1 − w)·x = (2/12)·4 + (10/12)·5 = 4.8333…
        let got = calibrate_level(5.0, &[4.0, 5.0], Some((3.0, 1.0)), 2);
        assert!(close(got, 2.0 / 12.0 * 4.0 + 10.0 / 12.0 * 5.0), "{got}");
        // No previous ratings: the raw level.
        assert_eq!(calibrate_level(5.0, &[], Some((3.0, 1.0)), 0), 5.0);
        // No reference: cal = x, so the raw level.
        assert_eq!(calibrate_level(4.0, &[4.0, 5.0], None, 2), 4.0);
    }

    #[test]
    fn generous_raters_are_left_out_of_the_reference() {
        let mut h = BTreeMap::new();
        h.insert(Uuid::from_u128(1), history(&[("q", &[2.0, 4.0])]));
        h.insert(Uuid::from_u128(2), history(&[("q", &[5.0, 5.0, 4.0])]));
        assert!(h[&Uuid::from_u128(2)].is_generous());
        assert!(!h[&Uuid::from_u128(1)].is_generous());
        assert_eq!(reference(&h, "q"), Some((3.0, 1.0)));
        assert_eq!(reference(&h, "other"), None);
    }

    #[test]
    fn totals_follow_the_weights() {
        let dims = vec![
            Dimension {
                code: "a".into(),
                weight: 40.0,
                subjective: false,
            },
            Dimension {
                code: "b".into(),
                weight: 60.0,
                subjective: true,
            },
        ];
        let levels: BTreeMap<String, f64> =
            [("a".to_string(), 4.0), ("b".to_string(), 5.0)].into();
        // 40 · 3/4 + 60 · 4/4 = 30 + 60.
        assert!(close(total_of(&dims, &levels), 90.0));
    }

    fn dims() -> Vec<Dimension> {
        [
            ("content", 16.0, true),
            ("conversion", 40.0, false),
            ("audience", 12.0, true),
            ("fulfilment", 16.0, false),
            ("communication", 8.0, true),
            ("compliance", 8.0, true),
        ]
        .into_iter()
        .map(|(c, w, s)| Dimension {
            code: c.into(),
            weight: w,
            subjective: s,
        })
        .collect()
    }

    const SUBJECTIVE: [&str; 4] = ["content", "audience", "communication", "compliance"];

    fn arb_levels(len: usize) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec((1u8..=5).prop_map(f64::from), len)
    }

    fn arb_history() -> impl Strategy<Value = RaterHistory> {
        (0usize..8).prop_flat_map(|n| {
            prop::collection::vec(arb_levels(n), SUBJECTIVE.len()).prop_map(move |per_dim| {
                RaterHistory {
                    ratings: n,
                    levels: SUBJECTIVE
                        .iter()
                        .zip(per_dim)
                        .map(|(c, v)| (c.to_string(), v))
                        .collect(),
                }
            })
        })
    }

    fn raw_of(levels: &[f64], objective: (f64, f64)) -> BTreeMap<String, f64> {
        let mut m: BTreeMap<String, f64> = SUBJECTIVE
            .iter()
            .zip(levels)
            .map(|(c, l)| (c.to_string(), *l))
            .collect();
        m.insert("conversion".into(), objective.0);
        m.insert("fulfilment".into(), objective.1);
        m
    }

    proptest! {
        #[test]
        fn a_calibrated_level_is_a_number_within_one_to_five(
            raw in 1.0f64..=5.0,
            own in prop::collection::vec(1.0f64..=5.0, 0..12),
            m_ref in 1.0f64..=5.0,
            s_ref in 0.0f64..=2.0,
            has_ref in any::<bool>(),
        ) {
            let reference = has_ref.then_some((m_ref, s_ref));
            let got = calibrate_level(raw, &own, reference, own.len());
            prop_assert!(got.is_finite());
            prop_assert!((1.0..=5.0).contains(&got), "{}", got);
        }

        #[test]
        fn zero_spread_or_a_single_rating_is_sane(
            raw in 1u8..=5,
            same in 1u8..=5,
            times in 1usize..20,
            m_ref in 1.0f64..=5.0,
            s_ref in 0.0f64..=2.0,
        ) {
            // Always the same level: s_r = 0, the floor 0.5 stands in, no division by zero.
            let own = vec![f64::from(same); times];
            let got = calibrate_level(f64::from(raw), &own, Some((m_ref, s_ref)), times);
            prop_assert!(got.is_finite() && (1.0..=5.0).contains(&got));
            let expected_cal = m_ref + (f64::from(raw) - f64::from(same)) * s_ref / SPREAD_FLOOR;
            let w = times as f64 / (times as f64 + 10.0);
            let expected = (w * expected_cal + (1.0 - w) * f64::from(raw)).clamp(1.0, 5.0);
            prop_assert!((got - expected).abs() < 1e-9);
        }

        #[test]
        fn with_no_previous_ratings_the_raw_level_stands(
            raw in 1u8..=5,
            m_ref in 1.0f64..=5.0,
            s_ref in 0.0f64..=2.0,
        ) {
            prop_assert_eq!(calibrate_level(f64::from(raw), &[], Some((m_ref, s_ref)), 0), f64::from(raw));
        }

        #[test]
        fn a_calibrated_total_stays_within_zero_and_one_hundred_and_keeps_objective_levels(
            levels in arb_levels(4),
            conversion in 1.0f64..=5.0,
            fulfilment in 1.0f64..=5.0,
            rater in arb_history(),
            others in prop::collection::vec(arb_history(), 0..4),
        ) {
            let raw = raw_of(&levels, (conversion, fulfilment));
            let mut histories: BTreeMap<Uuid, RaterHistory> = others
                .into_iter()
                .enumerate()
                .map(|(i, h)| (Uuid::from_u128(100 + i as u128), h))
                .collect();
            histories.insert(Uuid::from_u128(1), rater.clone());
            let (cal, total) = calibrate_submission(&dims(), &raw, &rater, &histories);
            prop_assert!(total.is_finite() && (0.0..=100.0).contains(&total));
            prop_assert_eq!(cal["conversion"], conversion);
            prop_assert_eq!(cal["fulfilment"], fulfilment);
            for c in SUBJECTIVE {
                prop_assert!((1.0..=5.0).contains(&cal[c]));
            }
        }

        #[test]
        fn a_rater_who_gives_top_marks_to_everything_does_not_pull_others_up(
            levels in arb_levels(4),
            rater in arb_history(),
            others in prop::collection::vec(arb_history(), 0..3),
            generous_count in 1usize..15,
        ) {
            let raw = raw_of(&levels, (3.0, 4.0));
            let mut histories: BTreeMap<Uuid, RaterHistory> = others
                .into_iter()
                .enumerate()
                .map(|(i, h)| (Uuid::from_u128(100 + i as u128), h))
                .collect();
            histories.insert(Uuid::from_u128(1), rater.clone());
            let (without, total_without) = calibrate_submission(&dims(), &raw, &rater, &histories);
            let generous = RaterHistory {
                ratings: generous_count,
                levels: SUBJECTIVE
                    .iter()
                    .map(|c| (c.to_string(), vec![5.0; generous_count]))
                    .collect(),
            };
            histories.insert(Uuid::from_u128(999), generous);
            let (with, total_with) = calibrate_submission(&dims(), &raw, &rater, &histories);
            for c in SUBJECTIVE {
                prop_assert!(with[c] <= without[c] + 1e-12, "{}: {} > {}", c, with[c], without[c]);
            }
            prop_assert!(total_with <= total_without + 1e-9);
        }

        #[test]
        fn alpha_is_never_nan_and_at_most_one(
            units in prop::collection::vec(prop::collection::vec(0.0f64..=100.0, 0..4), 0..8),
        ) {
            match krippendorff_interval(&units) {
                Agreement::Alpha { alpha, units: n } => {
                    prop_assert!(alpha.is_finite());
                    prop_assert!(alpha <= 1.0 + 1e-9);
                    prop_assert!(n >= 2);
                }
                Agreement::NotEnoughData { .. } => {}
            }
        }
    }
}
