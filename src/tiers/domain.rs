//! The tier rules of SPEC §8, pure: the recency-weighted tier score, the S/A/B/C decision with
//! its reason, the low-score warning and the re-book recommendation. `repo` aggregates ratings
//! per creator in SQL (the weights computed there); this module is the reference both the
//! per-creator refresh and the tenant-wide pass apply, and the tests check SQL against it.
//!
//! Decisions where the SPEC is silent:
//! - the low-score warning looks at the **latest** rating only (by `age_from`): a creator who
//!   flopped once and has since done well carries no warning; the score line is the tenant's B
//!   threshold (45 by default, the SPEC's number);
//! - "meeting the ROI target" is the **latest** rating's ROI ratio ≥ 1 (what a seller re-books on
//!   is the most recent return);
//! - the recommendation follows the effective tier (the owner's override included);
//! - a blacklisted creator keeps the tier its ratings give (shown struck through), but the
//!   single-collaboration floor does not hold it at B.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::kernel::tier::Tier;

/// Half-life of a rating's weight.
pub const HALF_LIFE_DAYS: f64 = 180.0;
/// How long a major or severe fulfilment event blocks S.
pub const MAJOR_EVENT_DAYS: i64 = 180;
/// ROI ratio under which the latest rating warns (50% of the target).
pub const LOW_ROI_RATIO: f64 = 0.5;

/// A tenant's (or the platform's) tier lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub s: f64,
    pub a: f64,
    pub b: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            s: 78.0,
            a: 60.0,
            b: 45.0,
        }
    }
}

/// A rated collaboration as the rules see it: a completed rating, or a breached collaboration
/// (score 0, age from its deadline).
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub score: f64,
    pub age_from: OffsetDateTime,
    pub d14_final_at: Option<OffsetDateTime>,
    pub roi_ratio: f64,
    pub breached: bool,
}

/// The weight of a score `age_days` old: 0.5^(age / 180 days); a future age counts as 0.
pub fn weight(age_days: f64) -> f64 {
    0.5f64.powf(age_days.max(0.0) / HALF_LIFE_DAYS)
}

/// Days from `from` to `now` (fractional).
pub fn age_days(from: OffsetDateTime, now: OffsetDateTime) -> f64 {
    (now - from).as_seconds_f64() / 86_400.0
}

/// The recency-weighted mean of (score, age in days); None without scores.
pub fn tier_score(items: &[(f64, f64)]) -> Option<f64> {
    let (num, den) = items.iter().fold((0.0, 0.0), |(n, d), &(score, age)| {
        let w = weight(age);
        (n + w * score, d + w)
    });
    (den > 0.0).then(|| num / den)
}

/// Everything the decision needs about one creator, as `repo` aggregates it (or `standing`
/// computes it from the list).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Standing {
    pub rated_count: i64,
    pub score: Option<f64>,
    pub any_breached: bool,
    /// Some rating's D14 window is not final yet.
    pub d14_pending: bool,
    pub latest_score: Option<f64>,
    pub latest_roi: Option<f64>,
    /// The latest major or severe counting fulfilment event within 180 days.
    pub major_event_on: Option<Date>,
    pub blacklisted: bool,
}

/// The standing from the list of rated collaborations and the dates of major/severe events.
pub fn standing(
    rated: &[Rated],
    major_events: &[OffsetDateTime],
    blacklisted: bool,
    now: OffsetDateTime,
) -> Standing {
    let items: Vec<(f64, f64)> = rated
        .iter()
        .map(|r| (r.score, age_days(r.age_from, now)))
        .collect();
    let latest = rated.iter().max_by_key(|r| r.age_from);
    let horizon = now - time::Duration::days(MAJOR_EVENT_DAYS);
    Standing {
        rated_count: rated.len() as i64,
        score: tier_score(&items),
        any_breached: rated.iter().any(|r| r.breached),
        d14_pending: rated.iter().any(|r| r.d14_final_at.is_some_and(|d| d > now)),
        latest_score: latest.map(|r| r.score),
        latest_roi: latest.map(|r| r.roi_ratio),
        major_event_on: major_events
            .iter()
            .filter(|t| **t > horizon)
            .max()
            .map(|t| t.date()),
        blacklisted,
    }
}

/// A note of the reason, said in words by `handlers`/pages (`tiers.reason.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// "no major event in 180 days"
    NoMajorEvent,
    /// "major event on 2026-10-02 blocks S"
    MajorEventBlocksS { on: String },
    /// "1 rated collaboration: at most A"
    OneAtMostA,
    /// "1 rated collaboration: at least B"
    OneAtLeastB,
    /// "the D14 window is not final yet: no C"
    D14NotFinal,
    /// "a breached collaboration counts as 0"
    Breached,
    /// "blacklisted"
    Blacklisted,
}

/// Why a tier is what it is: the count, the score and the notes that applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Reason {
    pub rated: i64,
    /// Rounded to 0.1.
    pub score: Option<f64>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    Rebook,
    RebookAdjusted,
    DoNotRebook,
}

impl Recommendation {
    pub fn code(self) -> &'static str {
        match self {
            Recommendation::Rebook => "rebook",
            Recommendation::RebookAdjusted => "rebook_adjusted",
            Recommendation::DoNotRebook => "do_not_rebook",
        }
    }

    pub fn parse(s: &str) -> Option<Recommendation> {
        [
            Recommendation::Rebook,
            Recommendation::RebookAdjusted,
            Recommendation::DoNotRebook,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Recommendation::Rebook => "tiers.recommendation.rebook",
            Recommendation::RebookAdjusted => "tiers.recommendation.rebook_adjusted",
            Recommendation::DoNotRebook => "tiers.recommendation.do_not_rebook",
        }
    }
}

/// The computed outcome for one creator.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub tier: Option<Tier>,
    pub reason: Reason,
    pub low_score_warning: bool,
}

fn by_score(score: f64, th: &Thresholds) -> Tier {
    if score >= th.s {
        Tier::S
    } else if score >= th.a {
        Tier::A
    } else if score >= th.b {
        Tier::B
    } else {
        Tier::C
    }
}

/// The tier, its reason and the warning (SPEC §8).
pub fn decide(s: &Standing, th: &Thresholds) -> Outcome {
    let mut notes = Vec::new();
    let tier = s.score.filter(|_| s.rated_count > 0).map(|score| {
        let mut tier = by_score(score, th);
        if tier == Tier::S {
            if let Some(on) = s.major_event_on {
                notes.push(Note::MajorEventBlocksS { on: on.to_string() });
                tier = Tier::A;
            } else if s.rated_count < 2 {
                notes.push(Note::OneAtMostA);
                tier = Tier::A;
            } else {
                notes.push(Note::NoMajorEvent);
            }
        }
        if s.rated_count == 1 && !s.any_breached && !s.blacklisted && tier == Tier::C {
            notes.push(Note::OneAtLeastB);
            tier = Tier::B;
        }
        if tier == Tier::C && s.d14_pending {
            notes.push(Note::D14NotFinal);
            tier = Tier::B;
        }
        tier
    });
    if s.any_breached {
        notes.push(Note::Breached);
    }
    if s.blacklisted {
        notes.push(Note::Blacklisted);
    }
    let low_score_warning = s.latest_score.is_some_and(|x| x < th.b)
        || s.latest_roi.is_some_and(|r| r < LOW_ROI_RATIO);
    Outcome {
        tier,
        reason: Reason {
            rated: s.rated_count,
            score: s.score.map(|x| (x * 10.0).round() / 10.0),
            notes,
        },
        low_score_warning,
    }
}

/// The re-book recommendation from the effective tier (SPEC §8); None before any rating.
pub fn recommend(
    tier: Option<Tier>,
    latest_roi: Option<f64>,
    blacklisted: bool,
) -> Option<Recommendation> {
    if blacklisted {
        return Some(Recommendation::DoNotRebook);
    }
    Some(match tier? {
        Tier::S | Tier::A if latest_roi.is_some_and(|r| r >= 1.0) => Recommendation::Rebook,
        Tier::S | Tier::A | Tier::B => Recommendation::RebookAdjusted,
        Tier::C => Recommendation::DoNotRebook,
    })
}

/// The owner's override holds until a rating completes after it.
pub fn override_holds(
    override_at: Option<OffsetDateTime>,
    last_completed_at: Option<OffsetDateTime>,
) -> bool {
    match (override_at, last_completed_at) {
        (Some(at), Some(done)) => done <= at,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The reason in words, in the page's language (`t` looks a key up, `t_with` fills it).
pub fn reason_text(
    reason: &Reason,
    t: &dyn Fn(&str) -> String,
    t_with: &dyn Fn(&str, &[(&str, &str)]) -> String,
) -> String {
    let mut parts = Vec::new();
    match reason.score {
        Some(score) if reason.rated > 0 => parts.push(t_with(
            "tiers.reason.summary",
            &[
                ("count", &reason.rated.to_string()),
                ("score", &format!("{score:.1}")),
            ],
        )),
        _ => parts.push(t("tiers.reason.no_ratings")),
    }
    for note in &reason.notes {
        parts.push(match note {
            Note::NoMajorEvent => t("tiers.reason.no_major_event"),
            Note::MajorEventBlocksS { on } => {
                t_with("tiers.reason.major_event_blocks_s", &[("date", on)])
            }
            Note::OneAtMostA => t("tiers.reason.one_at_most_a"),
            Note::OneAtLeastB => t("tiers.reason.one_at_least_b"),
            Note::D14NotFinal => t("tiers.reason.d14_not_final"),
            Note::Breached => t("tiers.reason.breached"),
            Note::Blacklisted => t("tiers.reason.blacklisted"),
        });
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 12:00 UTC);

    fn rated(score: f64, days_ago: i64) -> Rated {
        Rated {
            score,
            age_from: NOW - time::Duration::days(days_ago),
            d14_final_at: None,
            roi_ratio: 1.0,
            breached: false,
        }
    }

    fn tier_of(items: &[Rated], majors: &[OffsetDateTime]) -> Option<Tier> {
        decide(&standing(items, majors, false, NOW), &Thresholds::default()).tier
    }

    proptest! {
        #[test]
        fn just_below_the_s_line_is_a(gap in 0.01f64..(78.0 - 60.0), n in 2usize..6) {
            let items: Vec<Rated> = (0..n).map(|_| rated(78.0 - gap, 10)).collect();
            prop_assert_eq!(tier_of(&items, &[]), Some(Tier::A));
        }

        #[test]
        fn at_the_s_line_one_collaboration_is_a_and_two_are_s(extra in 0.0f64..22.0, age in 0i64..400) {
            let score = 78.0 + extra;
            prop_assert_eq!(tier_of(&[rated(score, age)], &[]), Some(Tier::A));
            prop_assert_eq!(tier_of(&[rated(score, age), rated(score, age + 30)], &[]), Some(Tier::S));
        }

        #[test]
        fn a_single_poor_collaboration_is_b_never_c(score in 0.0f64..45.0, age in 0i64..1000) {
            let outcome = decide(&standing(&[rated(score, age)], &[], false, NOW), &Thresholds::default());
            prop_assert_eq!(outcome.tier, Some(Tier::B));
            prop_assert!(outcome.reason.notes.contains(&Note::OneAtLeastB));
            prop_assert!(outcome.low_score_warning);
        }

        #[test]
        fn a_major_event_within_180_days_blocks_s(days_ago in 0i64..180, n in 2usize..5, score in 78.0f64..100.0) {
            let items: Vec<Rated> = (0..n).map(|_| rated(score, 5)).collect();
            let event = NOW - time::Duration::days(days_ago);
            prop_assert_eq!(tier_of(&items, &[event]), Some(Tier::A));
            // An older one does not.
            let old = NOW - time::Duration::days(181 + days_ago);
            prop_assert_eq!(tier_of(&items, &[old]), Some(Tier::S));
        }

        #[test]
        fn a_newer_score_weighs_more(a in 0.0f64..100.0, b in 0.0f64..100.0, young in 0.0f64..500.0, gap in 1.0f64..500.0) {
            prop_assume!((a - b).abs() > 1e-6);
            // `a` is newer: the mean leans towards it.
            let s = tier_score(&[(a, young), (b, young + gap)]).unwrap();
            prop_assert!((s - a).abs() < (s - b).abs());
        }

        #[test]
        fn equal_ages_give_the_plain_mean(scores in proptest::collection::vec(0.0f64..100.0, 1..20), age in 0.0f64..2000.0) {
            let items: Vec<(f64, f64)> = scores.iter().map(|s| (*s, age)).collect();
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            prop_assert!((tier_score(&items).unwrap() - mean).abs() < 1e-9);
        }

        #[test]
        fn the_score_stays_within_the_scores(items in proptest::collection::vec((0.0f64..100.0, -10.0f64..3000.0), 1..30)) {
            let s = tier_score(&items).unwrap();
            let lo = items.iter().map(|i| i.0).fold(f64::INFINITY, f64::min);
            let hi = items.iter().map(|i| i.0).fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(s >= lo - 1e-9 && s <= hi + 1e-9);
        }

        #[test]
        fn no_c_before_the_d14_window_is_final(scores in proptest::collection::vec(0.0f64..40.0, 2..6)) {
            let mut items: Vec<Rated> = scores.iter().map(|s| rated(*s, 3)).collect();
            prop_assert_eq!(tier_of(&items, &[]), Some(Tier::C));
            items[0].d14_final_at = Some(NOW + time::Duration::days(2));
            prop_assert_eq!(tier_of(&items, &[]), Some(Tier::B));
        }
    }

    #[test]
    fn weight_halves_every_180_days() {
        assert_eq!(weight(0.0), 1.0);
        assert!((weight(180.0) - 0.5).abs() < 1e-12);
        assert!((weight(360.0) - 0.25).abs() < 1e-12);
        assert_eq!(weight(-5.0), 1.0);
    }

    #[test]
    fn a_single_breached_collaboration_may_be_c() {
        let mut r = rated(0.0, 10);
        r.breached = true;
        let o = decide(&standing(&[r], &[], false, NOW), &Thresholds::default());
        assert_eq!(o.tier, Some(Tier::C));
        assert!(o.reason.notes.contains(&Note::Breached));
        assert_eq!(recommend(o.tier, Some(0.0), false), Some(Recommendation::DoNotRebook));
    }

    #[test]
    fn a_blacklisted_creator_is_not_rebooked_and_not_held_at_b() {
        let o = decide(
            &standing(&[rated(20.0, 10)], &[], true, NOW),
            &Thresholds::default(),
        );
        assert_eq!(o.tier, Some(Tier::C));
        assert_eq!(
            recommend(Some(Tier::S), Some(3.0), true),
            Some(Recommendation::DoNotRebook)
        );
    }

    #[test]
    fn recommendation_follows_tier_and_latest_roi() {
        use Recommendation::*;
        assert_eq!(recommend(Some(Tier::S), Some(1.0), false), Some(Rebook));
        assert_eq!(recommend(Some(Tier::A), Some(0.99), false), Some(RebookAdjusted));
        assert_eq!(recommend(Some(Tier::B), Some(3.0), false), Some(RebookAdjusted));
        assert_eq!(recommend(Some(Tier::C), Some(3.0), false), Some(DoNotRebook));
        assert_eq!(recommend(None, None, false), None);
    }

    #[test]
    fn the_warning_reads_the_latest_rating() {
        let th = Thresholds::default();
        let mut newer = rated(90.0, 5);
        let older = rated(10.0, 100);
        assert!(!decide(&standing(&[newer.clone(), older.clone()], &[], false, NOW), &th).low_score_warning);
        newer.roi_ratio = 0.49;
        assert!(decide(&standing(&[newer, older], &[], false, NOW), &th).low_score_warning);
    }

    #[test]
    fn an_override_holds_until_a_later_rating_completes() {
        let at = NOW - time::Duration::days(3);
        assert!(override_holds(Some(at), None));
        assert!(override_holds(Some(at), Some(at - time::Duration::days(1))));
        assert!(!override_holds(Some(at), Some(NOW)));
        assert!(!override_holds(None, None));
    }

    #[test]
    fn the_reason_reads_as_words() {
        let o = decide(
            &standing(&[rated(81.4, 1), rated(81.4, 1)], &[], false, NOW),
            &Thresholds::default(),
        );
        let t = |k: &str| k.to_string();
        let tw = |k: &str, args: &[(&str, &str)]| {
            format!("{k}({})", args.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(","))
        };
        assert_eq!(
            reason_text(&o.reason, &t, &tw),
            "tiers.reason.summary(2,81.4); tiers.reason.no_major_event"
        );
        let json = serde_json::to_value(&o.reason).unwrap();
        assert_eq!(serde_json::from_value::<Reason>(json).unwrap(), o.reason);
    }
}
