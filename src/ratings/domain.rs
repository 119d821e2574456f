//! The scorecard's rules (SPEC §7) as plain functions: the default template with its anchored
//! rubric (the unified scoring guide), template validation, a dimension's points and the total,
//! the conversion and fulfilment levels, ROI for rating (r) and the raters' levels as typed.
//!
//! Decisions where the SPEC is silent:
//! - levels, points and totals are f64 inside (they are scores, not money) and stored rounded to
//!   two decimals; money (net GMV, cost) stays `Decimal`;
//! - r is computed in `Decimal` and kept to six decimals (the column's scale); a negative net GMV
//!   cannot happen (it is floored at 0 before);
//! - a subjective level is an integer 1..=5; the form's field of a dimension is `level_<code>`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::kernel::FieldErrors;

/// How a dimension gets its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Objective,
    Subjective,
}

/// The computed rule of an objective dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formula {
    Conversion,
    Fulfilment,
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Texts<T> {
    #[serde(rename = "zh-CN")]
    pub zh_cn: T,
    pub en: T,
}

impl<T> Texts<T> {
    /// The text in the page's language (`zh-CN` or anything else → English).
    pub fn get(&self, lang: &str) -> &T {
        if lang.starts_with("zh") {
            &self.zh_cn
        } else {
            &self.en
        }
    }
}

/// One row of a scorecard template (the shape of `scorecard_templates.dimensions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    pub code: String,
    pub weight: u32,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<Formula>,
    pub label: Texts<String>,
    /// Subjective: what a 1, 2, 3, 4 and 5 look like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric: Option<Texts<Vec<String>>>,
    /// What the page shows beside the dimension as a hint (`audience`: the creator's audience).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

pub const MIN_LEVEL: u8 = 1;
pub const MAX_LEVEL: u8 = 5;

fn texts(zh: [&str; 5], en: [&str; 5]) -> Option<Texts<Vec<String>>> {
    Some(Texts {
        zh_cn: zh.iter().map(|s| s.to_string()).collect(),
        en: en.iter().map(|s| s.to_string()).collect(),
    })
}

fn label(zh: &str, en: &str) -> Texts<String> {
    Texts {
        zh_cn: zh.into(),
        en: en.into(),
    }
}

/// The SPEC §7 default template, with its anchored rubric in both languages.
pub fn default_template() -> Vec<Dimension> {
    vec![
        Dimension {
            code: "content_quality".into(),
            weight: 16,
            kind: Kind::Subjective,
            formula: None,
            label: label("内容质量", "Content quality"),
            rubric: texts(
                [
                    "内容不可用：画面或声音有明显问题，未展示产品或与简报无关，需要重拍。",
                    "勉强可用：画质粗糙、节奏拖沓，产品出现但卖点没讲清，开头三秒没有钩子。",
                    "合格：画质清楚，按简报展示了产品和主要卖点，结构完整但缺少亮点。",
                    "优秀：开头有钩子，卖点讲得清楚可信，剪辑节奏好，看得出用心，可直接投放。",
                    "标杆：创意出色且贴合品牌，真实使用场景打动人，可作为以后简报的范例；打 5 分需说明具体亮点。",
                ],
                [
                    "Unusable: clear picture or sound problems, product not shown or off-brief; needs a reshoot.",
                    "Barely usable: rough picture, slow pacing; the product appears but its selling points are unclear and the first three seconds have no hook.",
                    "Acceptable: clear picture, shows the product and its main selling points as briefed; complete but unremarkable.",
                    "Strong: a hook in the opening, selling points explained clearly and credibly, good editing rhythm; ready to run as an ad.",
                    "Benchmark: an outstanding idea that fits the brand, a real use that persuades; an example for future briefs. Say what stood out when giving a 5.",
                ],
            ),
            hint: None,
        },
        Dimension {
            code: "conversion".into(),
            weight: 40,
            kind: Kind::Objective,
            formula: Some(Formula::Conversion),
            label: label("转化", "Conversion"),
            rubric: None,
            hint: None,
        },
        Dimension {
            code: "audience_match".into(),
            weight: 12,
            kind: Kind::Subjective,
            formula: None,
            label: label("受众匹配", "Audience match"),
            rubric: texts(
                [
                    "受众与目标市场基本不符：国家、语言或年龄段都不对，评论区几乎没有潜在买家。",
                    "少部分重合：只有一小部分观众属于目标市场或目标人群，评论多为无关内容。",
                    "大体匹配：主要观众在目标市场，人群部分契合，评论中有少量购买意向。",
                    "匹配良好：观众的市场、语言和人群都与产品一致，评论中常见询价和购买意向。",
                    "高度精准：观众几乎都是目标买家，评论区大量询问链接、尺码或价格；请结合受众数据说明。",
                ],
                [
                    "Wrong audience: country, language or age group do not fit; hardly any potential buyers in the comments.",
                    "Small overlap: only a small part of the viewers is in the target market or group; comments mostly unrelated.",
                    "Broad match: most viewers are in the target market and partly the target group; a few comments show purchase intent.",
                    "Good match: market, language and group fit the product; questions about price and where to buy are common.",
                    "Precise: nearly every viewer is a target buyer; many comments ask for the link, sizes or price. Refer to the audience data.",
                ],
            ),
            hint: Some("audience".into()),
        },
        Dimension {
            code: "fulfilment".into(),
            weight: 16,
            kind: Kind::Objective,
            formula: Some(Formula::Fulfilment),
            label: label("履约", "Fulfilment"),
            rubric: None,
            hint: None,
        },
        Dimension {
            code: "communication".into(),
            weight: 8,
            kind: Kind::Subjective,
            formula: None,
            label: label("沟通配合", "Communication"),
            rubric: texts(
                [
                    "难以联系：多次不回复或失联，需要反复催促，影响了排期。",
                    "回复慢：常常超过两天才回复，需要多次提醒，修改意见执行不到位。",
                    "正常：一两天内回复，按要求修改，没有额外问题也没有主动配合。",
                    "顺畅：当天回复，主动确认细节和时间，修改及时准确。",
                    "非常省心：主动沟通进度并提出有用建议，问题在发生前就解决了；打 5 分需举出实例。",
                ],
                [
                    "Hard to reach: repeatedly silent or unreachable, needed chasing; the schedule slipped.",
                    "Slow: often more than two days to answer, needed reminders, revisions only partly done.",
                    "Normal: answers within a day or two, revises as asked, nothing extra.",
                    "Smooth: answers the same day, confirms details and dates unprompted, revises quickly and accurately.",
                    "Effortless: reports progress unasked and suggests useful ideas; problems solved before they arose. Give an example for a 5.",
                ],
            ),
            hint: None,
        },
        Dimension {
            code: "compliance".into(),
            weight: 8,
            kind: Kind::Subjective,
            formula: None,
            label: label("合规与本地化", "Compliance & localisation"),
            rubric: texts(
                [
                    "严重问题：虚假或夸大宣传、违反平台规则或触犯当地文化禁忌，内容需下架。",
                    "有明显问题：个别说法不合规或不符合当地习惯，需要修改后才能使用。",
                    "基本合规：没有违规说法，语言和场景基本本地化，但有生硬之处。",
                    "合规且地道：说法准确有据，语言、场景和习惯都贴合当地市场。",
                    "典范：完全合规，本地化自然到位，还主动规避了我们没想到的风险；打 5 分需说明。",
                ],
                [
                    "Serious problem: false or exaggerated claims, platform rules broken or a local taboo touched; the post must come down.",
                    "Clear problems: some claims non-compliant or off for the local market; usable only after changes.",
                    "Compliant: no violating claims, language and setting mostly localised, some awkward spots.",
                    "Compliant and natural: accurate, supported claims; language, setting and habits fit the local market.",
                    "Exemplary: fully compliant, naturally localised, and avoided risks we had not thought of. Explain a 5.",
                ],
            ),
            hint: None,
        },
    ]
}

/// Why a template cannot be used (message keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("weights must sum to 100")]
    WeightsNot100,
    #[error("dimension codes must be unique and not empty")]
    BadCode,
    #[error("a subjective dimension needs 5 rubric texts per language")]
    Rubric,
    #[error("an objective dimension needs a known formula")]
    Formula,
}

/// Weights sum to 100, codes unique, subjective dimensions with 5 non-empty rubric texts in each
/// language, objective ones with a formula.
pub fn validate_template(dimensions: &[Dimension]) -> Result<(), TemplateError> {
    let sum: u64 = dimensions.iter().map(|d| u64::from(d.weight)).sum();
    if sum != 100 {
        return Err(TemplateError::WeightsNot100);
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in dimensions {
        if d.code.trim().is_empty() || !seen.insert(d.code.as_str()) {
            return Err(TemplateError::BadCode);
        }
        match d.kind {
            Kind::Subjective => {
                let ok = d.rubric.as_ref().is_some_and(|r| {
                    [&r.zh_cn, &r.en]
                        .iter()
                        .all(|t| t.len() == 5 && t.iter().all(|s| !s.trim().is_empty()))
                });
                if !ok {
                    return Err(TemplateError::Rubric);
                }
            }
            Kind::Objective => {
                if d.formula.is_none() {
                    return Err(TemplateError::Formula);
                }
            }
        }
    }
    Ok(())
}

/// A dimension's points: (level − 1) / 4 × 100, the level clamped to 1..=5.
pub fn points(level: f64) -> f64 {
    let level = if level.is_finite() { level } else { 1.0 };
    (level.clamp(1.0, 5.0) - 1.0) / 4.0 * 100.0
}

/// Σ weight × points / 100 over the template (a missing level counts as 1), in 0..=100.
pub fn total(dimensions: &[Dimension], levels: &BTreeMap<String, f64>) -> f64 {
    let sum: f64 = dimensions
        .iter()
        .map(|d| f64::from(d.weight) * points(levels.get(&d.code).copied().unwrap_or(1.0)) / 100.0)
        .sum();
    sum.clamp(0.0, 100.0)
}

/// The conversion level from r = ROI / target: 1 + 3r up to the target, 4 + (r − 1)/2 up to three
/// times it, 5 above.
pub fn conversion_level(r: f64) -> f64 {
    if !r.is_finite() {
        return if r > 0.0 { 5.0 } else { 1.0 };
    }
    let r = r.max(0.0);
    if r <= 1.0 {
        1.0 + 3.0 * r
    } else if r <= 3.0 {
        4.0 + (r - 1.0) / 2.0
    } else {
        5.0
    }
}

/// The fulfilment level: 5 − the policy's points of the records that count, floor 1.
pub fn fulfilment_level(deducted: Decimal) -> f64 {
    (5.0 - deducted.to_f64().unwrap_or(0.0)).clamp(1.0, 5.0)
}

/// r = net GMV / (target × cost); with no cost: 0 without sales, 3 with sales.
pub fn roi_ratio(net_gmv: Decimal, target: Decimal, cost: Decimal) -> Decimal {
    let net = net_gmv.max(Decimal::ZERO);
    if cost <= Decimal::ZERO {
        return if net > Decimal::ZERO {
            Decimal::from(3)
        } else {
            Decimal::ZERO
        };
    }
    target
        .checked_mul(cost)
        .filter(|d| *d > Decimal::ZERO)
        .and_then(|d| net.checked_div(d))
        .map(|r| r.round_dp(6))
        .unwrap_or(Decimal::ZERO)
}

/// What the cost for rating is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// The contract's fixed fee.
    Fixed,
    /// Commission-only: the creator's quote frozen in the contract version.
    NotionalFrozen,
    /// Commission-only, older contract version: the creator's current quote.
    NotionalCurrent,
}

impl CostBasis {
    pub fn code(self) -> &'static str {
        match self {
            CostBasis::Fixed => "fixed",
            CostBasis::NotionalFrozen => "notional_frozen",
            CostBasis::NotionalCurrent => "notional_current",
        }
    }

    pub fn parse(s: &str) -> Option<CostBasis> {
        [
            CostBasis::Fixed,
            CostBasis::NotionalFrozen,
            CostBasis::NotionalCurrent,
        ]
        .into_iter()
        .find(|b| b.code() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            CostBasis::Fixed => "rating.cost_basis.fixed",
            CostBasis::NotionalFrozen => "rating.cost_basis.notional_frozen",
            CostBasis::NotionalCurrent => "rating.cost_basis.notional_current",
        }
    }
}

/// The notional fee of commission-only terms: videos × per-video quote + LIVE × live quote (a
/// missing quote counts 0).
pub fn notional_fee(
    videos: u32,
    live_sessions: u32,
    quote_video: Option<Decimal>,
    quote_live: Option<Decimal>,
) -> Decimal {
    let part = |n: u32, q: Option<Decimal>| {
        q.and_then(|q| q.checked_mul(Decimal::from(n)))
            .unwrap_or(Decimal::ZERO)
    };
    part(videos, quote_video).saturating_add(part(live_sessions, quote_live))
}

/// A score as stored (two decimals).
pub fn stored(score: f64) -> Decimal {
    // The shortest decimal that reads back as the same f64 (what JavaScript's `String(x)` gives
    // too), rounded half away from zero: `static/js/rating.js` rounds the running total the same
    // way, so the total a rater saw is the total stored.
    let shortest = score.clamp(0.0, 100.0).to_string();
    std::str::FromStr::from_str(&shortest)
        .unwrap_or(Decimal::ZERO)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The form field of a dimension's level.
pub fn level_field(code: &str) -> String {
    format!("level_{code}")
}

/// A level given for something that is not a subjective dimension of the rating's template (an
/// objective one is computed, an unknown one does not exist).
pub const E_LEVEL_UNKNOWN: &str = "api.ratings.error.criterion_unknown";

/// The subjective levels as typed, each an integer 1..=5; every wrong or missing one is its
/// field's error, and so is a level for a code the template does not let a rater score.
pub fn parse_levels(
    dimensions: &[Dimension],
    typed: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, u8>, FieldErrors> {
    let mut levels = BTreeMap::new();
    let mut errors = FieldErrors::new();
    for code in typed.keys() {
        let scored = dimensions
            .iter()
            .any(|d| d.kind == Kind::Subjective && d.code == *code);
        if !scored {
            errors.insert(level_field(code), E_LEVEL_UNKNOWN);
        }
    }
    for d in dimensions.iter().filter(|d| d.kind == Kind::Subjective) {
        let raw = typed.get(&d.code).map(|s| s.trim()).unwrap_or("");
        if raw.is_empty() {
            errors.insert(level_field(&d.code), "rating.error.level_missing");
            continue;
        }
        match raw.parse::<u8>() {
            Ok(l) if (MIN_LEVEL..=MAX_LEVEL).contains(&l) => {
                levels.insert(d.code.clone(), l);
            }
            _ => {
                errors.insert(level_field(&d.code), "rating.error.level_range");
            }
        }
    }
    if errors.is_empty() {
        Ok(levels)
    } else {
        Err(errors)
    }
}

/// Every subjective level is the top one (then a justification is required).
pub fn all_top(dimensions: &[Dimension], levels: &BTreeMap<String, u8>) -> bool {
    let mut any = false;
    for d in dimensions.iter().filter(|d| d.kind == Kind::Subjective) {
        any = true;
        if levels.get(&d.code) != Some(&MAX_LEVEL) {
            return false;
        }
    }
    any
}

/// The objective levels frozen when the rating opened, with the subjective ones given: every
/// dimension's level.
pub fn all_levels(
    objective: &BTreeMap<String, f64>,
    subjective: &BTreeMap<String, u8>,
) -> BTreeMap<String, f64> {
    let mut levels = objective.clone();
    for (code, level) in subjective {
        levels.insert(code.clone(), f64::from(*level));
    }
    levels
}

/// The objective levels of a template from r and the deducted points.
pub fn objective_levels(
    dimensions: &[Dimension],
    r: Decimal,
    deducted: Decimal,
) -> BTreeMap<String, f64> {
    dimensions
        .iter()
        .filter_map(|d| {
            let level = match d.formula? {
                Formula::Conversion => conversion_level(r.to_f64().unwrap_or(0.0)),
                Formula::Fulfilment => fulfilment_level(deducted),
            };
            Some((d.code.clone(), (level * 10_000.0).round() / 10_000.0))
        })
        .collect()
}

/// The mean of the raters' totals.
pub fn mean(totals: &[Decimal]) -> Option<Decimal> {
    if totals.is_empty() {
        return None;
    }
    let sum: Decimal = totals.iter().copied().sum();
    Some((sum / Decimal::from(totals.len())).round_dp(2))
}

#[cfg(test)]
mod stored_tests {
    use super::*;

    #[test]
    fn a_total_is_stored_as_the_shortest_decimal_rounded_half_away_from_zero() {
        for (score, want) in [
            (90.825, "90.83"),
            (90.824999, "90.82"),
            (12.345, "12.35"),
            (0.005, "0.01"),
            (0.0000001, "0.00"),
            (100.0, "100.00"),
            (150.0, "100.00"),
            (-3.0, "0.00"),
            (66.666_666_666_666_67, "66.67"),
        ] {
            assert_eq!(stored(score), want.parse::<Decimal>().unwrap(), "{score}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_default_template_is_valid_and_as_the_spec_table() {
        let t = default_template();
        assert_eq!(validate_template(&t), Ok(()));
        let shape: Vec<(&str, u32, Kind)> = t
            .iter()
            .map(|d| (d.code.as_str(), d.weight, d.kind))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("content_quality", 16, Kind::Subjective),
                ("conversion", 40, Kind::Objective),
                ("audience_match", 12, Kind::Subjective),
                ("fulfilment", 16, Kind::Objective),
                ("communication", 8, Kind::Subjective),
                ("compliance", 8, Kind::Subjective),
            ]
        );
        // It round-trips through the stored JSON shape.
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json[0]["rubric"]["zh-CN"].as_array().unwrap().len(), 5);
        let back: Vec<Dimension> = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn broken_templates_are_rejected() {
        let mut t = default_template();
        t[0].code = "conversion".into();
        assert_eq!(validate_template(&t), Err(TemplateError::BadCode));
        let mut t = default_template();
        t[0].rubric.as_mut().unwrap().en[2] = " ".into();
        assert_eq!(validate_template(&t), Err(TemplateError::Rubric));
        let mut t = default_template();
        t[1].formula = None;
        assert_eq!(validate_template(&t), Err(TemplateError::Formula));
    }

    #[test]
    fn conversion_curve_anchors() {
        assert_eq!(conversion_level(0.0), 1.0);
        assert_eq!(conversion_level(1.0), 4.0);
        assert_eq!(conversion_level(3.0), 5.0);
        assert_eq!(conversion_level(10.0), 5.0);
        assert_eq!(conversion_level(2.0), 4.5);
        assert_eq!(conversion_level(f64::NAN), 1.0);
    }

    #[test]
    fn cost_zero_gives_zero_without_sales_and_three_with() {
        assert_eq!(
            roi_ratio(Decimal::ZERO, Decimal::from(2), Decimal::ZERO),
            Decimal::ZERO
        );
        assert_eq!(
            roi_ratio(Decimal::from(5), Decimal::from(2), Decimal::ZERO),
            Decimal::from(3)
        );
        assert_eq!(
            roi_ratio(Decimal::from(400), Decimal::from(2), Decimal::from(100)),
            Decimal::from(2)
        );
    }

    #[test]
    fn fulfilment_level_floors_at_one() {
        assert_eq!(fulfilment_level(Decimal::ZERO), 5.0);
        assert_eq!(fulfilment_level(Decimal::new(15, 1)), 3.5);
        assert_eq!(fulfilment_level(Decimal::from(9)), 1.0);
    }

    #[test]
    fn levels_as_typed() {
        let t = default_template();
        let mut typed: BTreeMap<String, String> = [
            ("content_quality", "5"),
            ("audience_match", "6"),
            ("communication", ""),
            ("compliance", "2.5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let errors = parse_levels(&t, &typed).unwrap_err();
        assert_eq!(
            errors.keys().cloned().collect::<Vec<_>>(),
            vec![
                "level_audience_match",
                "level_communication",
                "level_compliance"
            ]
        );
        for code in ["audience_match", "communication", "compliance"] {
            typed.insert(code.into(), "5".into());
        }
        let levels = parse_levels(&t, &typed).unwrap();
        assert!(all_top(&t, &levels));
        typed.insert("compliance".into(), "4".into());
        assert!(!all_top(&t, &parse_levels(&t, &typed).unwrap()));
        // An objective dimension is computed, and a code not on the template does not exist.
        typed.insert("conversion".into(), "5".into());
        typed.insert("charisma".into(), "3".into());
        let errors = parse_levels(&t, &typed).unwrap_err();
        assert_eq!(
            errors.into_iter().collect::<Vec<_>>(),
            vec![
                ("level_charisma".to_string(), E_LEVEL_UNKNOWN),
                ("level_conversion".to_string(), E_LEVEL_UNKNOWN),
            ]
        );
    }

    fn valid_template() -> impl Strategy<Value = Vec<Dimension>> {
        // Weights: cut 100 into 1..8 parts at random points.
        (1usize..8)
            .prop_flat_map(|n| (Just(n), prop::collection::vec(0u32..=100, n - 1)))
            .prop_map(|(n, mut cuts)| {
                cuts.push(0);
                cuts.push(100);
                cuts.sort_unstable();
                (0..n)
                    .map(|i| Dimension {
                        code: format!("d{i}"),
                        weight: cuts[i + 1] - cuts[i],
                        kind: if i % 2 == 0 {
                            Kind::Subjective
                        } else {
                            Kind::Objective
                        },
                        formula: (i % 2 == 1).then_some(Formula::Conversion),
                        label: label("维度", "Dimension"),
                        rubric: (i % 2 == 0).then(|| Texts {
                            zh_cn: vec!["x".into(); 5],
                            en: vec!["x".into(); 5],
                        }),
                        hint: None,
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn totals_stay_within_0_and_100(
            t in valid_template(),
            levels in prop::collection::vec(-10.0f64..20.0, 8),
        ) {
            prop_assert_eq!(validate_template(&t), Ok(()));
            let map: BTreeMap<String, f64> =
                t.iter().zip(&levels).map(|(d, l)| (d.code.clone(), *l)).collect();
            let total = total(&t, &map);
            prop_assert!((0.0..=100.0).contains(&total));
            // All at 1 → 0; all at 5 → 100.
            let ones = t.iter().map(|d| (d.code.clone(), 1.0)).collect();
            let fives = t.iter().map(|d| (d.code.clone(), 5.0)).collect();
            prop_assert!(super::total(&t, &ones).abs() < 1e-9);
            prop_assert!((super::total(&t, &fives) - 100.0).abs() < 1e-9);
        }

        #[test]
        fn weights_not_summing_to_100_are_rejected(t in valid_template(), delta in 1u32..50, up in any::<bool>()) {
            let mut t = t;
            if up || t[0].weight < delta {
                t[0].weight += delta;
            } else {
                t[0].weight -= delta;
            }
            prop_assert_eq!(validate_template(&t), Err(TemplateError::WeightsNot100));
        }

        #[test]
        fn points_formula(level in 1.0f64..=5.0) {
            prop_assert!((points(level) - (level - 1.0) / 4.0 * 100.0).abs() < 1e-9);
            prop_assert!((0.0..=100.0).contains(&points(level)));
        }

        #[test]
        fn the_conversion_curve_is_monotone_and_continuous(a in 0.0f64..10.0, b in 0.0f64..10.0) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(conversion_level(lo) <= conversion_level(hi));
            prop_assert!((1.0..=5.0).contains(&conversion_level(a)));
            let eps = 1e-9;
            prop_assert!((conversion_level(1.0 - eps) - conversion_level(1.0 + eps)).abs() < 1e-6);
            prop_assert!((conversion_level(3.0 - eps) - conversion_level(3.0 + eps)).abs() < 1e-6);
        }

        #[test]
        fn cost_zero_cases(net in 0i64..1_000_000, target in 1i64..10) {
            let r = roi_ratio(Decimal::from(net), Decimal::from(target), Decimal::ZERO);
            prop_assert_eq!(r, if net > 0 { Decimal::from(3) } else { Decimal::ZERO });
            prop_assert!(conversion_level(r.to_f64().unwrap()) <= 5.0);
        }
    }
}

// --- The template editor (issue 15) ---------------------------------------------------------

/// Dimensions a template may have.
pub const MAX_DIMENSIONS: usize = 12;
const MAX_LABEL: usize = 60;
const MAX_RUBRIC: usize = 500;

/// One dimension of the editor's form, as typed (`d{i}_…` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftRow {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub weight: String,
    /// "objective" | "subjective".
    pub kind: String,
    /// "conversion" | "fulfilment" (objective).
    pub formula: String,
    pub rubric_zh: [String; 5],
    pub rubric_en: [String; 5],
    /// Kept from the version the row came from ("audience"); not editable.
    pub hint: String,
}

impl DraftRow {
    /// A stored dimension as the form shows it.
    pub fn of(d: &Dimension) -> DraftRow {
        let rubric = |t: Option<&Vec<String>>| -> [String; 5] {
            std::array::from_fn(|i| t.and_then(|v| v.get(i)).cloned().unwrap_or_default())
        };
        DraftRow {
            code: d.code.clone(),
            label_zh: d.label.zh_cn.clone(),
            label_en: d.label.en.clone(),
            weight: d.weight.to_string(),
            kind: match d.kind {
                Kind::Objective => "objective",
                Kind::Subjective => "subjective",
            }
            .into(),
            formula: match d.formula {
                Some(Formula::Conversion) => "conversion",
                Some(Formula::Fulfilment) => "fulfilment",
                None => "",
            }
            .into(),
            rubric_zh: rubric(d.rubric.as_ref().map(|r| &r.zh_cn)),
            rubric_en: rubric(d.rubric.as_ref().map(|r| &r.en)),
            hint: d.hint.clone().unwrap_or_default(),
        }
    }

    /// A new, empty subjective dimension.
    pub fn blank() -> DraftRow {
        DraftRow {
            kind: "subjective".into(),
            weight: "0".into(),
            ..DraftRow::default()
        }
    }
}

/// The form field of row `i`'s `part` (`d3_weight`, `d3_rubric_en_5`).
pub fn draft_field(i: usize, part: &str) -> String {
    format!("d{i}_{part}")
}

/// The editor's rows from the posted fields, in their order; a row whose `d{i}_remove` is set is
/// left out. Rows are numbered from 0 without gaps by the form; unknown fields are ignored.
pub fn parse_draft(pairs: &[(String, String)]) -> Vec<DraftRow> {
    let mut rows: BTreeMap<usize, (DraftRow, bool)> = BTreeMap::new();
    for (key, value) in pairs {
        let Some((index, part)) = key
            .strip_prefix('d')
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)))
        else {
            continue;
        };
        if index >= MAX_DIMENSIONS * 2 {
            continue;
        }
        let (row, removed) = rows.entry(index).or_default();
        let value = value.trim().to_string();
        let level = |p: &str, prefix: &str| -> Option<usize> {
            let n: usize = p.strip_prefix(prefix)?.parse().ok()?;
            (1..=5).contains(&n).then_some(n - 1)
        };
        match part {
            "code" => row.code = value,
            "label_zh" => row.label_zh = value,
            "label_en" => row.label_en = value,
            "weight" => row.weight = value,
            "kind" => row.kind = value,
            "formula" => row.formula = value,
            "hint" => row.hint = value,
            "remove" => *removed = !value.is_empty(),
            p => {
                if let Some(l) = level(p, "rubric_zh_") {
                    row.rubric_zh[l] = value;
                } else if let Some(l) = level(p, "rubric_en_") {
                    row.rubric_en[l] = value;
                }
            }
        }
    }
    rows.into_values()
        .filter(|(_, removed)| !removed)
        .map(|(row, _)| row)
        .collect()
}

/// The form fields of `rows` (what `parse_draft` reads back): `d{i}_{part}` per row.
pub fn draft_pairs(rows: &[DraftRow]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let mut put = |part: &str, v: &str| out.push((draft_field(i, part), v.to_string()));
        put("code", &r.code);
        put("label_zh", &r.label_zh);
        put("label_en", &r.label_en);
        put("weight", &r.weight);
        put("kind", &r.kind);
        put("formula", &r.formula);
        put("hint", &r.hint);
        for l in 0..5 {
            put(&format!("rubric_zh_{}", l + 1), &r.rubric_zh[l]);
            put(&format!("rubric_en_{}", l + 1), &r.rubric_en[l]);
        }
    }
    out
}

/// A code from an English label: lower-case ASCII letters and digits joined by `_`.
fn code_from(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_');
    out.chars().take(40).collect::<String>()
}

fn good_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && code.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The message keys of the editor's rules.
pub const E_TEMPLATE_EMPTY: &str = "scorecard.error.empty";
pub const E_TEMPLATE_TOO_MANY: &str = "scorecard.error.too_many";
pub const E_TEMPLATE_WEIGHTS: &str = "scorecard.error.weights";
pub const E_TEMPLATE_WEIGHT: &str = "scorecard.error.weight";
pub const E_TEMPLATE_LABEL: &str = "scorecard.error.label";
pub const E_TEMPLATE_CODE: &str = "scorecard.error.code";
pub const E_TEMPLATE_DUPLICATE: &str = "scorecard.error.duplicate";
pub const E_TEMPLATE_KIND: &str = "scorecard.error.kind";
pub const E_TEMPLATE_FORMULA: &str = "scorecard.error.formula";
pub const E_TEMPLATE_RUBRIC: &str = "scorecard.error.rubric";
pub const E_TEMPLATE_UNCHANGED: &str = "scorecard.error.unchanged";

/// Checks the editor's rows into a template: each problem is the error of its field (`weights`
/// for the sum, `dimensions` for the count). A blank code is made from the English label.
pub fn check_draft(rows: &[DraftRow]) -> Result<Vec<Dimension>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if rows.is_empty() {
        errors.insert("dimensions".into(), E_TEMPLATE_EMPTY);
    }
    if rows.len() > MAX_DIMENSIONS {
        errors.insert("dimensions".into(), E_TEMPLATE_TOO_MANY);
    }
    let mut dims = Vec::new();
    let mut sum: u64 = 0;
    let mut codes = std::collections::BTreeSet::new();
    let mut labels = std::collections::BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        let f = |part: &str| draft_field(i, part);
        let weight = match row.weight.parse::<u32>() {
            Ok(w) if (1..=100).contains(&w) => w,
            _ => {
                errors.insert(f("weight"), E_TEMPLATE_WEIGHT);
                0
            }
        };
        sum += u64::from(weight);
        for (part, text) in [("label_zh", &row.label_zh), ("label_en", &row.label_en)] {
            if text.is_empty() || text.chars().count() > MAX_LABEL {
                errors.insert(f(part), E_TEMPLATE_LABEL);
            } else if !labels.insert((part, text.to_lowercase())) {
                errors.insert(f(part), E_TEMPLATE_DUPLICATE);
            }
        }
        let code = if row.code.is_empty() {
            code_from(&row.label_en)
        } else {
            row.code.clone()
        };
        if !good_code(&code) {
            errors.insert(f("code"), E_TEMPLATE_CODE);
        } else if !codes.insert(code.clone()) {
            errors.insert(f("code"), E_TEMPLATE_DUPLICATE);
        }
        let kind = match row.kind.as_str() {
            "objective" => Some(Kind::Objective),
            "subjective" => Some(Kind::Subjective),
            _ => {
                errors.insert(f("kind"), E_TEMPLATE_KIND);
                None
            }
        };
        let formula = match (kind, row.formula.as_str()) {
            (Some(Kind::Objective), "conversion") => Some(Formula::Conversion),
            (Some(Kind::Objective), "fulfilment") => Some(Formula::Fulfilment),
            (Some(Kind::Objective), _) => {
                errors.insert(f("formula"), E_TEMPLATE_FORMULA);
                None
            }
            _ => None,
        };
        let rubric = if kind == Some(Kind::Subjective) {
            for (lang, texts) in [("zh", &row.rubric_zh), ("en", &row.rubric_en)] {
                for (l, text) in texts.iter().enumerate() {
                    if text.is_empty() || text.chars().count() > MAX_RUBRIC {
                        errors.insert(f(&format!("rubric_{lang}_{}", l + 1)), E_TEMPLATE_RUBRIC);
                    }
                }
            }
            Some(Texts {
                zh_cn: row.rubric_zh.to_vec(),
                en: row.rubric_en.to_vec(),
            })
        } else {
            None
        };
        if let Some(kind) = kind {
            dims.push(Dimension {
                code,
                weight,
                kind,
                formula,
                label: Texts {
                    zh_cn: row.label_zh.clone(),
                    en: row.label_en.clone(),
                },
                rubric,
                hint: (row.hint == "audience").then(|| row.hint.clone()),
            });
        }
    }
    if !rows.is_empty() && sum != 100 {
        errors.insert("weights".into(), E_TEMPLATE_WEIGHTS);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    debug_assert!(validate_template(&dims).is_ok());
    Ok(dims)
}

/// What changed between two versions of a template, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added {
        code: String,
    },
    Removed {
        code: String,
    },
    Weight {
        code: String,
        from: u32,
        to: u32,
    },
    Label {
        code: String,
        lang: &'static str,
        from: String,
        to: String,
    },
    /// Kind or formula ("subjective" → "objective: conversion").
    Rule {
        code: String,
        from: String,
        to: String,
    },
    Rubric {
        code: String,
        lang: &'static str,
        level: usize,
        from: String,
        to: String,
    },
}

fn rule_text(d: &Dimension) -> String {
    match (d.kind, d.formula) {
        (Kind::Objective, Some(Formula::Conversion)) => "objective:conversion".into(),
        (Kind::Objective, Some(Formula::Fulfilment)) => "objective:fulfilment".into(),
        (Kind::Objective, None) => "objective".into(),
        (Kind::Subjective, _) => "subjective".into(),
    }
}

/// The changes from `from` to `to`, dimension by dimension (matched by code), in `to`'s order
/// with removed dimensions last.
pub fn diff(from: &[Dimension], to: &[Dimension]) -> Vec<Change> {
    let mut out = Vec::new();
    for d in to {
        let Some(old) = from.iter().find(|o| o.code == d.code) else {
            out.push(Change::Added {
                code: d.code.clone(),
            });
            continue;
        };
        let code = || d.code.clone();
        if old.weight != d.weight {
            out.push(Change::Weight {
                code: code(),
                from: old.weight,
                to: d.weight,
            });
        }
        for (lang, a, b) in [
            ("zh-CN", &old.label.zh_cn, &d.label.zh_cn),
            ("en", &old.label.en, &d.label.en),
        ] {
            if a != b {
                out.push(Change::Label {
                    code: code(),
                    lang,
                    from: a.clone(),
                    to: b.clone(),
                });
            }
        }
        if rule_text(old) != rule_text(d) {
            out.push(Change::Rule {
                code: code(),
                from: rule_text(old),
                to: rule_text(d),
            });
        }
        let empty = Texts::default();
        let (a, b) = (
            old.rubric.as_ref().unwrap_or(&empty),
            d.rubric.as_ref().unwrap_or(&empty),
        );
        for (lang, a, b) in [("zh-CN", &a.zh_cn, &b.zh_cn), ("en", &a.en, &b.en)] {
            for level in 0..5 {
                let (x, y) = (
                    a.get(level).cloned().unwrap_or_default(),
                    b.get(level).cloned().unwrap_or_default(),
                );
                if x != y {
                    out.push(Change::Rubric {
                        code: code(),
                        lang,
                        level: level + 1,
                        from: x,
                        to: y,
                    });
                }
            }
        }
    }
    for old in from {
        if !to.iter().any(|d| d.code == old.code) {
            out.push(Change::Removed {
                code: old.code.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod editor_tests {
    use super::*;
    use proptest::prelude::*;

    fn default_rows() -> Vec<DraftRow> {
        default_template().iter().map(DraftRow::of).collect()
    }

    #[test]
    fn the_default_template_goes_through_the_form_unchanged() {
        let rows = parse_draft(&draft_pairs(&default_rows()));
        assert_eq!(check_draft(&rows).unwrap(), default_template());
        assert!(diff(&default_template(), &default_template()).is_empty());
    }

    #[test]
    fn a_new_dimension_takes_its_code_from_the_english_label_and_a_removed_one_goes() {
        let mut rows = default_rows();
        rows[0].weight = "10".into();
        let mut new = DraftRow::blank();
        new.label_zh = "售后口碑".into();
        new.label_en = "After-sales word of mouth".into();
        new.weight = "6".into();
        new.rubric_zh = std::array::from_fn(|i| format!("等级 {}", i + 1));
        new.rubric_en = std::array::from_fn(|i| format!("Level {}", i + 1));
        rows.push(new);
        let mut posted = draft_pairs(&rows);
        posted.push(("d2_remove".into(), "1".into()));
        let removed_weight: u32 = default_template()[2].weight;
        // Give the removed dimension's weight to the first one.
        let first = posted.iter_mut().find(|(k, _)| k == "d0_weight").unwrap();
        first.1 = (10 + removed_weight).to_string();
        let dims = check_draft(&parse_draft(&posted)).unwrap();
        assert_eq!(dims.len(), default_template().len());
        assert_eq!(dims.last().unwrap().code, "after_sales_word_of_mouth");
        let changes = diff(&default_template(), &dims);
        assert!(changes.contains(&Change::Added {
            code: "after_sales_word_of_mouth".into()
        }));
        assert!(changes.contains(&Change::Removed {
            code: default_template()[2].code.clone()
        }));
        assert!(changes.iter().any(
            |c| matches!(c, Change::Weight { code, .. } if *code == default_template()[0].code)
        ));
    }

    #[test]
    fn each_broken_rule_is_its_fields_error() {
        let mut rows = default_rows();
        rows[0].weight = "15".into(); // the sum is 99
        rows[3].code = rows[0].code.clone();
        rows[4].label_en = rows[5].label_en.to_uppercase();
        let errors = check_draft(&rows).unwrap_err();
        assert_eq!(errors.get("weights"), Some(&E_TEMPLATE_WEIGHTS));
        assert_eq!(errors.get("d3_code"), Some(&E_TEMPLATE_DUPLICATE));
        assert!(
            errors.get("d5_label_en") == Some(&E_TEMPLATE_DUPLICATE)
                || errors.get("d4_label_en") == Some(&E_TEMPLATE_DUPLICATE)
        );
        let mut objective = default_rows();
        let i = objective
            .iter()
            .position(|r| r.kind == "objective")
            .unwrap();
        objective[i].formula = "followers".into();
        assert_eq!(
            check_draft(&objective)
                .unwrap_err()
                .get(&draft_field(i, "formula")),
            Some(&E_TEMPLATE_FORMULA)
        );
        assert_eq!(
            check_draft(&[]).unwrap_err().get("dimensions"),
            Some(&E_TEMPLATE_EMPTY)
        );
    }

    #[test]
    fn an_empty_rubric_level_is_refused_where_it_is() {
        let mut rows = default_rows();
        let i = rows.iter().position(|r| r.kind == "subjective").unwrap();
        rows[i].rubric_en[2] = String::new();
        let errors = check_draft(&rows).unwrap_err();
        assert_eq!(
            errors.get(&draft_field(i, "rubric_en_3")),
            Some(&E_TEMPLATE_RUBRIC)
        );
        assert_eq!(errors.len(), 1);
    }

    fn row_strategy() -> impl Strategy<Value = DraftRow> {
        (
            0u32..60,
            prop::bool::ANY,
            prop::bool::ANY,
            "[a-z]{1,6}",
            prop::bool::weighted(0.1),
        )
            .prop_map(|(weight, objective, conversion, word, hole)| {
                let mut r = DraftRow::blank();
                r.weight = weight.to_string();
                r.label_zh = format!("维度{word}");
                r.label_en = format!("Dimension {word}");
                if objective {
                    r.kind = "objective".into();
                    r.formula = if conversion {
                        "conversion"
                    } else {
                        "fulfilment"
                    }
                    .into();
                } else {
                    r.rubric_zh = std::array::from_fn(|i| format!("第{i}级"));
                    r.rubric_en = std::array::from_fn(|i| format!("Level {i}"));
                    if hole {
                        r.rubric_zh[4] = String::new();
                    }
                }
                r
            })
    }

    proptest! {
        #[test]
        fn any_template_the_editor_accepts_totals_within_0_and_100(
            rows in prop::collection::vec(row_strategy(), 0..8),
            levels in prop::collection::vec(-2.0f64..9.0, 8),
        ) {
            match check_draft(&rows) {
                Ok(dims) => {
                    prop_assert!(validate_template(&dims).is_ok());
                    prop_assert_eq!(dims.iter().map(|d| d.weight).sum::<u32>(), 100);
                    let typed: BTreeMap<String, f64> = dims
                        .iter()
                        .zip(&levels)
                        .map(|(d, l)| (d.code.clone(), *l))
                        .collect();
                    let t = total(&dims, &typed);
                    prop_assert!((0.0..=100.0).contains(&t));
                    let top: BTreeMap<String, f64> =
                        dims.iter().map(|d| (d.code.clone(), 5.0)).collect();
                    prop_assert!((total(&dims, &top) - 100.0).abs() < 1e-9);
                }
                Err(errors) => {
                    let sum: u32 = rows.iter().map(|r| r.weight.parse::<u32>().unwrap_or(0)).sum();
                    let holes = rows.iter().any(|r| r.kind == "subjective" && r.rubric_zh.iter().any(String::is_empty));
                    let zero = rows.iter().any(|r| r.weight == "0");
                    let mut labels: Vec<&String> = rows.iter().map(|r| &r.label_en).collect();
                    labels.sort();
                    let dup = labels.windows(2).any(|w| w[0] == w[1]);
                    prop_assert!(rows.is_empty() || sum != 100 || holes || zero || dup, "{errors:?}");
                    if !rows.is_empty() && sum != 100 {
                        prop_assert_eq!(errors.get("weights"), Some(&E_TEMPLATE_WEIGHTS));
                    }
                }
            }
        }
    }
}
