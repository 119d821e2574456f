//! The reference match score (SPEC §3): hard filters, the six weighted components, warnings and
//! the ranking of a creator pool for one campaign, as pure functions over plain types.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::FieldErrors;
use crate::kernel::rates::Rates;

/// The seeds' threshold for "high followers, low activity": under 5 likes per 100 views the
/// views are likely bought or the audience indifferent.
pub const LOW_LIKE_VIEW_RATIO: f64 = 0.05;

/// A creator who posts fewer than 7 of 10 received samples costs the seller stock for nothing
/// often enough that the account manager should see it before shortlisting.
pub const LOW_SAMPLE_POSTING_RATE: f64 = 0.7;

/// SPEC §3: a quote up to 1.5 × the fee cap stays in the pool (the seller may negotiate); the
/// price component falls linearly from 1 at the cap to 0 here.
pub const FEE_CAP_TOLERANCE: Decimal = Decimal::from_parts(15, 0, 0, false, 1);

/// Price component when the quote is unknown or cannot be compared with the cap: neither
/// rewarded nor punished, and flagged with [`Warning::NoQuote`].
pub const UNKNOWN_PRICE_FIT: f64 = 0.5;

/// Track-record value of a creator without a tier: the middle, so that being new is no penalty.
pub const NO_TIER_VALUE: f64 = 0.5;

/// How far the weights may sum away from 100 (float input from a settings form).
const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeBucket {
    #[serde(rename = "13-17")]
    A13_17,
    #[serde(rename = "18-24")]
    A18_24,
    #[serde(rename = "25-34")]
    A25_34,
    #[serde(rename = "35-44")]
    A35_44,
    #[serde(rename = "45-54")]
    A45_54,
    #[serde(rename = "55+")]
    A55Plus,
}

impl AgeBucket {
    pub const ALL: [AgeBucket; 6] = [
        AgeBucket::A13_17,
        AgeBucket::A18_24,
        AgeBucket::A25_34,
        AgeBucket::A35_44,
        AgeBucket::A45_54,
        AgeBucket::A55Plus,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            AgeBucket::A13_17 => "13-17",
            AgeBucket::A18_24 => "18-24",
            AgeBucket::A25_34 => "25-34",
            AgeBucket::A35_44 => "35-44",
            AgeBucket::A45_54 => "45-54",
            AgeBucket::A55Plus => "55+",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|b| b.code() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    pub const ALL: [Gender; 2] = [Gender::Female, Gender::Male];

    pub fn code(&self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    ShortVideo,
    Live,
    Both,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::ShortVideo, Format::Live, Format::Both];

    pub fn code(&self) -> &'static str {
        match self {
            Format::ShortVideo => "short_video",
            Format::Live => "live",
            Format::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.code().eq_ignore_ascii_case(s))
    }
}

pub use crate::kernel::tier::Tier;

/// One creator as matching sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatorFacts {
    pub id: Uuid,
    pub active: bool,
    /// ISO 3166-1 alpha-2 codes the creator serves.
    pub markets: Vec<String>,
    /// ISO 639-1 codes, e.g. "en".
    pub languages: Vec<String>,
    pub followers: i64,
    /// 30-day averages per video.
    pub avg_views: i64,
    pub avg_likes: i64,
    pub avg_comments: i64,
    pub avg_shares: i64,
    pub categories: Vec<String>,
    pub styles: Vec<String>,
    /// Shares 0..1.
    pub audience_age: Vec<(AgeBucket, f64)>,
    pub audience_gender: Vec<(Gender, f64)>,
    pub audience_countries: Vec<(String, f64)>,
    pub quote_video: Option<Decimal>,
    pub quote_live: Option<Decimal>,
    pub quote_currency: Option<String>,
    /// Share 0..1 of received samples that became a post.
    pub sample_posting_rate: Option<f64>,
    pub has_violation_notes: bool,
    pub blacklisted_by_tenant: bool,
    pub blacklisted_by_platform: bool,
    pub open_low_score_warning: bool,
    pub tenant_tier: Option<Tier>,
    pub platform_tier: Option<Tier>,
}

/// What a campaign asks of its creators.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignAsk {
    pub markets: Vec<String>,
    pub languages: Vec<String>,
    pub format: Format,
    pub followers_min: i64,
    pub followers_max: i64,
    /// Amount and ISO 4217 currency.
    pub fee_cap: Option<(Decimal, String)>,
    /// The campaign's category plus its target interests.
    pub categories: Vec<String>,
    pub styles: Vec<String>,
    /// Empty means any age.
    pub age_buckets: Vec<AgeBucket>,
    /// None means any gender.
    pub gender: Option<Gender>,
}

/// Points per component; a valid set sums to 100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub audience: f64,
    pub engagement: f64,
    pub category: f64,
    pub style: f64,
    pub price: f64,
    pub track_record: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            audience: 30.0,
            engagement: 20.0,
            category: 15.0,
            style: 10.0,
            price: 10.0,
            track_record: 15.0,
        }
    }
}

impl Weights {
    fn as_array(&self) -> [f64; 6] {
        [
            self.audience,
            self.engagement,
            self.category,
            self.style,
            self.price,
            self.track_record,
        ]
    }

    /// Each weight finite and ≥ 0, summing to 100.
    pub fn validate(&self) -> bool {
        let all = self.as_array();
        all.iter().all(|w| w.is_finite() && *w >= 0.0)
            && (all.iter().sum::<f64>() - 100.0).abs() <= WEIGHT_SUM_TOLERANCE
    }
}

/// The weights as typed (a settings form, or a program's request), before they are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightsInput {
    pub audience: String,
    pub engagement: String,
    pub category: String,
    pub style: String,
    pub price: String,
    pub track_record: String,
}

impl WeightsInput {
    /// (field, value as typed) for each component, in the order the form shows them.
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("audience", &self.audience),
            ("engagement", &self.engagement),
            ("category", &self.category),
            ("style", &self.style),
            ("price", &self.price),
            ("track_record", &self.track_record),
        ]
    }

    /// Weights as a form shows them.
    pub fn of(w: &Weights) -> WeightsInput {
        WeightsInput {
            audience: format!("{}", w.audience),
            engagement: format!("{}", w.engagement),
            category: format!("{}", w.category),
            style: format!("{}", w.style),
            price: format!("{}", w.price),
            track_record: format!("{}", w.track_record),
        }
    }
}

/// Checks typed weights: each a finite number ≥ 0 (else that field is wrong), and only then
/// that together they sum to 100 (else the field `sum` is).
pub fn parse_weights(input: &WeightsInput) -> Result<Weights, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut values = [0f64; 6];
    for (i, (name, typed)) in input.fields().into_iter().enumerate() {
        match typed.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => values[i] = v,
            _ => {
                errors.insert(name.to_string(), "matching.error.weight");
            }
        }
    }
    let weights = Weights {
        audience: values[0],
        engagement: values[1],
        category: values[2],
        style: values[3],
        price: values[4],
        track_record: values[5],
    };
    if errors.is_empty() && !weights.validate() {
        errors.insert("sum".into(), "matching.error.weights_sum");
    }
    if errors.is_empty() {
        Ok(weights)
    } else {
        Err(errors)
    }
}

/// Why a creator is not a candidate at all; checked in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    Inactive,
    NoTargetMarket,
    FollowersOutOfRange,
    Blacklisted,
    OverFeeCap,
    NoContentLanguage,
}

impl Exclusion {
    pub fn key(&self) -> &'static str {
        match self {
            Exclusion::Inactive => "matching.exclusion.inactive",
            Exclusion::NoTargetMarket => "matching.exclusion.no_target_market",
            Exclusion::FollowersOutOfRange => "matching.exclusion.followers_out_of_range",
            Exclusion::Blacklisted => "matching.exclusion.blacklisted",
            Exclusion::OverFeeCap => "matching.exclusion.over_fee_cap",
            Exclusion::NoContentLanguage => "matching.exclusion.no_content_language",
        }
    }
}

/// Shown next to a candidate; never a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    LowLikeViewRatio,
    OpenLowScoreWarning,
    ViolationNotes,
    LowSamplePostingRate,
    NoQuote,
}

impl Warning {
    pub fn key(&self) -> &'static str {
        match self {
            Warning::LowLikeViewRatio => "matching.warning.low_like_view_ratio",
            Warning::OpenLowScoreWarning => "matching.warning.open_low_score_warning",
            Warning::ViolationNotes => "matching.warning.violation_notes",
            Warning::LowSamplePostingRate => "matching.warning.low_sample_posting_rate",
            Warning::NoQuote => "matching.warning.no_quote",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Components {
    pub audience: f64,
    pub engagement: f64,
    pub category: f64,
    pub style: f64,
    pub price: f64,
    pub track_record: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Breakdown {
    /// Each in 0..=1.
    pub components: Components,
    /// Weight × component; these sum to the total.
    pub points: Components,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchScore {
    pub total: f64,
    pub breakdown: Breakdown,
    pub warnings: Vec<Warning>,
    pub engagement_rate: f64,
    /// The relevant quote in the fee cap's currency, when a cap is set and the quote converts.
    pub quote_in_cap_currency: Option<Decimal>,
}

/// The relevant quote compared with the fee cap.
enum PriceCheck {
    NoCap,
    Unknown,
    Known { quote: Decimal, cap: Decimal },
}

/// Scores one creator for one campaign, or says which hard filter excludes it.
///
/// The total lies in 0..=100 for weights that pass [`Weights::validate`]; invalid weights are
/// not rejected here (the settings form does that), only made harmless: a negative or
/// non-finite weight counts as 0.
pub fn score(
    creator: &CreatorFacts,
    ask: &CampaignAsk,
    weights: &Weights,
    rates: &dyn Rates,
) -> Result<MatchScore, Exclusion> {
    if !creator.active {
        return Err(Exclusion::Inactive);
    }
    let target_markets = upper_set(&ask.markets);
    if upper_set(&creator.markets).is_disjoint(&target_markets) {
        return Err(Exclusion::NoTargetMarket);
    }
    if creator.followers < ask.followers_min || creator.followers > ask.followers_max {
        return Err(Exclusion::FollowersOutOfRange);
    }
    if creator.blacklisted_by_tenant || creator.blacklisted_by_platform {
        return Err(Exclusion::Blacklisted);
    }
    let price_check = check_price(creator, ask, rates);
    if let PriceCheck::Known { quote, cap } = price_check
        && quote > fee_cap_limit(cap)
    {
        return Err(Exclusion::OverFeeCap);
    }
    let wanted_languages = language_set(&ask.languages);
    if !wanted_languages.is_empty()
        && language_set(&creator.languages).is_disjoint(&wanted_languages)
    {
        return Err(Exclusion::NoContentLanguage);
    }

    let er = engagement_rate(creator);
    let (price, quote_in_cap_currency) = match price_check {
        PriceCheck::NoCap => (1.0, None),
        PriceCheck::Unknown => (UNKNOWN_PRICE_FIT, None),
        PriceCheck::Known { quote, cap } => (price_fit(quote, cap), Some(quote)),
    };
    let components = Components {
        audience: unit(audience_fit(creator, ask, &target_markets)),
        engagement: unit(er / engagement_benchmark(creator.followers)),
        category: unit(overlap(&ask.categories, &creator.categories)),
        style: unit(overlap(&ask.styles, &creator.styles)),
        price: unit(price),
        track_record: unit(track_record(creator)),
    };
    let w = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
    let points = Components {
        audience: w(weights.audience) * components.audience,
        engagement: w(weights.engagement) * components.engagement,
        category: w(weights.category) * components.category,
        style: w(weights.style) * components.style,
        price: w(weights.price) * components.price,
        track_record: w(weights.track_record) * components.track_record,
    };
    let total = points.audience
        + points.engagement
        + points.category
        + points.style
        + points.price
        + points.track_record;

    Ok(MatchScore {
        total,
        breakdown: Breakdown { components, points },
        warnings: warnings(creator, matches!(price_check, PriceCheck::Unknown)),
        engagement_rate: er,
        quote_in_cap_currency,
    })
}

/// (likes + comments + shares) / views over the 30-day averages; 0 without views. Negative
/// counts are bad data and count as 0.
pub fn engagement_rate(c: &CreatorFacts) -> f64 {
    if c.avg_views <= 0 {
        return 0.0;
    }
    let interactions = [c.avg_likes, c.avg_comments, c.avg_shares]
        .iter()
        .map(|n| (*n).max(0) as f64)
        .sum::<f64>();
    interactions / c.avg_views as f64
}

/// The engagement rate a creator of this size typically reaches (SPEC §3); bigger accounts
/// engage less, so each is measured against its own band.
pub fn engagement_benchmark(followers: i64) -> f64 {
    match followers {
        ..100_000 => 0.075,
        100_000..500_000 => 0.051,
        500_000..1_000_000 => 0.044,
        1_000_000..5_000_000 => 0.038,
        _ => 0.029,
    }
}

/// The quote that prices this format: per video, per LIVE, or the higher of the two when the
/// campaign wants both (None if a quote it needs is missing).
pub fn relevant_quote(c: &CreatorFacts, format: Format) -> Option<Decimal> {
    match format {
        Format::ShortVideo => c.quote_video,
        Format::Live => c.quote_live,
        Format::Both => Some(c.quote_video?.max(c.quote_live?)),
    }
}

/// The best `limit` candidates: excluded creators dropped; total descending, then followers
/// descending, then id ascending, so equal scores always come out in the same order.
pub fn rank(
    creators: &[CreatorFacts],
    ask: &CampaignAsk,
    weights: &Weights,
    rates: &dyn Rates,
    limit: usize,
) -> Vec<(Uuid, MatchScore)> {
    let mut scored: Vec<(Uuid, i64, MatchScore)> = creators
        .iter()
        .filter_map(|c| {
            score(c, ask, weights, rates)
                .ok()
                .map(|s| (c.id, c.followers, s))
        })
        .collect();
    scored.sort_by(|a, b| {
        b.2.total
            .total_cmp(&a.2.total)
            .then_with(|| b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    scored.truncate(limit);
    scored.into_iter().map(|(id, _, s)| (id, s)).collect()
}

fn check_price(creator: &CreatorFacts, ask: &CampaignAsk, rates: &dyn Rates) -> PriceCheck {
    let Some((cap, cap_currency)) = &ask.fee_cap else {
        return PriceCheck::NoCap;
    };
    let converted = relevant_quote(creator, ask.format).and_then(|quote| {
        let from = normalize_code(creator.quote_currency.as_deref()?);
        let to = normalize_code(cap_currency);
        if from.is_empty() || to.is_empty() {
            None
        } else if from == to {
            Some(quote)
        } else {
            rates.convert(quote, &from, &to)
        }
    });
    match converted {
        Some(quote) => PriceCheck::Known { quote, cap: *cap },
        None => PriceCheck::Unknown,
    }
}

/// 1.5 × cap. Only a cap near Decimal's range overflows; then no quote can exceed a positive
/// one and every quote exceeds a negative one.
pub(crate) fn fee_cap_limit(cap: Decimal) -> Decimal {
    cap.checked_mul(FEE_CAP_TOLERANCE)
        .unwrap_or(if cap.is_sign_negative() {
            Decimal::MIN
        } else {
            Decimal::MAX
        })
}

/// 1 up to the cap, then linear down to 0 at 1.5 × cap.
fn price_fit(quote: Decimal, cap: Decimal) -> f64 {
    if quote <= cap {
        return 1.0;
    }
    // Past the cap and within the limit implies cap > 0, so the divisor is positive.
    let over = quote.checked_sub(cap);
    let band = cap.checked_mul(FEE_CAP_TOLERANCE - Decimal::ONE);
    match (over, band) {
        (Some(over), Some(band)) if band > Decimal::ZERO => over
            .checked_div(band)
            .and_then(|f| f.to_f64())
            .map_or(0.0, |f| 1.0 - f),
        _ => 0.0,
    }
}

fn audience_fit(
    creator: &CreatorFacts,
    ask: &CampaignAsk,
    target_markets: &BTreeSet<String>,
) -> f64 {
    let age = if ask.age_buckets.is_empty() {
        1.0
    } else {
        let wanted: BTreeSet<AgeBucket> = ask.age_buckets.iter().copied().collect();
        share_sum(
            creator
                .audience_age
                .iter()
                .filter(|(b, _)| wanted.contains(b))
                .map(|(_, s)| *s),
        )
    };
    let gender = match ask.gender {
        None => 1.0,
        Some(g) => share_sum(
            creator
                .audience_gender
                .iter()
                .filter(|(cg, _)| *cg == g)
                .map(|(_, s)| *s),
        ),
    };
    let countries = share_sum(
        creator
            .audience_countries
            .iter()
            .filter(|(code, _)| target_markets.contains(&normalize_code(code)))
            .map(|(_, s)| *s),
    );
    age * gender * countries
}

/// Sums shares in the creator's own order (so the same data always rounds the same way),
/// counting a non-finite or negative share as 0 and capping the result at 1.
fn share_sum(shares: impl Iterator<Item = f64>) -> f64 {
    unit(shares.map(unit).sum())
}

/// |wanted ∩ have| / |wanted|, case-insensitive, duplicates and blanks ignored; 1 if nothing
/// is wanted.
fn overlap(wanted: &[String], have: &[String]) -> f64 {
    let wanted = tag_set(wanted);
    if wanted.is_empty() {
        return 1.0;
    }
    let have = tag_set(have);
    wanted.intersection(&have).count() as f64 / wanted.len() as f64
}

fn track_record(c: &CreatorFacts) -> f64 {
    track_record_of(c.tenant_tier, c.platform_tier)
}

/// The track-record component from the two tiers.
pub(crate) fn track_record_of(tenant: Option<Tier>, platform: Option<Tier>) -> f64 {
    let value = |t: Option<Tier>| t.map_or(NO_TIER_VALUE, |t| t.value());
    (value(tenant) + value(platform)) / 2.0
}

/// The score as the seller may see it (SPEC §8: "a seller sees the track-record component from
/// its own tier alone"): the track-record component is the tenant tier's value alone (the
/// middle when not tiered), its points and the total follow; everything else as scored. So
/// neither the component nor the total reveals the platform tier.
pub fn seller_view(score: &MatchScore, tenant_tier: Option<Tier>, weights: &Weights) -> MatchScore {
    let mut s = score.clone();
    let w = weights.track_record;
    let w = if w.is_finite() && w > 0.0 { w } else { 0.0 };
    let component = unit(track_record_of(tenant_tier, tenant_tier));
    let points = w * component;
    s.total = score.total - score.breakdown.points.track_record + points;
    s.breakdown.components.track_record = component;
    s.breakdown.points.track_record = points;
    s
}

fn warnings(c: &CreatorFacts, quote_unknown: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    if c.avg_views > 0 && (c.avg_likes.max(0) as f64 / c.avg_views as f64) < LOW_LIKE_VIEW_RATIO {
        out.push(Warning::LowLikeViewRatio);
    }
    if c.open_low_score_warning {
        out.push(Warning::OpenLowScoreWarning);
    }
    if c.has_violation_notes {
        out.push(Warning::ViolationNotes);
    }
    // A non-finite rate is missing data, not a low rate.
    if c.sample_posting_rate
        .is_some_and(|r| r.is_finite() && r < LOW_SAMPLE_POSTING_RATE)
    {
        out.push(Warning::LowSamplePostingRate);
    }
    if quote_unknown {
        out.push(Warning::NoQuote);
    }
    out
}

/// Clamps to 0..=1, with NaN and infinities as 0 so bad data can never lift a score.
pub(crate) fn unit(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

pub(crate) fn normalize_code(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

fn upper_set(codes: &[String]) -> BTreeSet<String> {
    codes
        .iter()
        .map(|c| normalize_code(c))
        .filter(|c| !c.is_empty())
        .collect()
}

fn language_set(codes: &[String]) -> BTreeSet<String> {
    codes.iter().filter_map(|c| language_key(c)).collect()
}

/// Languages compared on their primary subtag, so "en-US" speaks "en"; None for a blank.
pub(crate) fn language_key(code: &str) -> Option<String> {
    let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (!primary.is_empty()).then_some(primary)
}

fn tag_set(tags: &[String]) -> BTreeSet<String> {
    tags.iter().filter_map(|t| tag_key(t)).collect()
}

/// Tags (categories, styles) compare trimmed and case-insensitively; None for a blank.
pub(crate) fn tag_key(tag: &str) -> Option<String> {
    let t = tag.trim().to_lowercase();
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    const EPS: f64 = 1e-9;

    /// Reference rates for tests: (from, to, rate).
    pub(crate) struct TableRates(Vec<(&'static str, &'static str, Decimal)>);

    impl Rates for TableRates {
        fn convert(&self, amount: Decimal, from: &str, to: &str) -> Option<Decimal> {
            self.0
                .iter()
                .find(|(f, t, _)| *f == from && *t == to)
                .and_then(|(_, _, rate)| amount.checked_mul(*rate))
        }
    }

    fn no_rates() -> TableRates {
        TableRates(Vec::new())
    }

    pub(crate) fn test_rates() -> TableRates {
        TableRates(vec![
            ("EUR", "USD", Decimal::new(11, 1)),
            ("USD", "EUR", Decimal::new(9, 1)),
            ("CNY", "USD", Decimal::new(14, 2)),
            ("USD", "CNY", Decimal::new(72, 1)),
            ("EUR", "CNY", Decimal::new(78, 1)),
            ("CNY", "EUR", Decimal::new(13, 2)),
        ])
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// The creator of the worked example: passes every filter, no warnings.
    fn creator() -> CreatorFacts {
        CreatorFacts {
            id: Uuid::from_u128(1),
            active: true,
            markets: strings(&["US", "GB"]),
            languages: strings(&["en"]),
            followers: 50_000,
            avg_views: 20_000,
            avg_likes: 1_000,
            avg_comments: 20,
            avg_shares: 0,
            categories: strings(&["Beauty", "fashion", "pets"]),
            styles: strings(&["review"]),
            audience_age: vec![
                (AgeBucket::A18_24, 0.4),
                (AgeBucket::A25_34, 0.3),
                (AgeBucket::A35_44, 0.3),
            ],
            audience_gender: vec![(Gender::Female, 0.8), (Gender::Male, 0.2)],
            audience_countries: vec![
                ("US".to_string(), 0.5),
                ("GB".to_string(), 0.25),
                ("DE".to_string(), 0.25),
            ],
            quote_video: Some(Decimal::from(110)),
            quote_live: Some(Decimal::from(300)),
            quote_currency: Some("USD".to_string()),
            sample_posting_rate: Some(0.9),
            has_violation_notes: false,
            blacklisted_by_tenant: false,
            blacklisted_by_platform: false,
            open_low_score_warning: false,
            tenant_tier: Some(Tier::A),
            platform_tier: None,
        }
    }

    fn ask() -> CampaignAsk {
        CampaignAsk {
            markets: strings(&["US", "GB"]),
            languages: strings(&["en"]),
            format: Format::ShortVideo,
            followers_min: 10_000,
            followers_max: 1_000_000,
            fee_cap: Some((Decimal::from(100), "USD".to_string())),
            categories: strings(&["beauty", "skincare", "fashion"]),
            styles: strings(&["review", "tutorial"]),
            age_buckets: vec![AgeBucket::A18_24, AgeBucket::A25_34],
            gender: Some(Gender::Female),
        }
    }

    fn scored(c: &CreatorFacts, a: &CampaignAsk) -> Result<MatchScore, Exclusion> {
        score(c, a, &Weights::default(), &test_rates())
    }

    fn ok(c: &CreatorFacts, a: &CampaignAsk) -> MatchScore {
        match scored(c, a) {
            Ok(s) => s,
            Err(e) => panic!("expected a score, got {e:?}"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < EPS
    }

    // ---- the worked example ----

    #[test]
    fn a_creator_scored_by_hand_gets_the_same_components_points_and_total() {
        let s = ok(&creator(), &ask());
        let c = s.breakdown.components;
        // (0.4 + 0.3) ages × 0.8 female × (0.5 + 0.25) US/GB
        assert!(close(c.audience, 0.42), "{c:?}");
        // ER (1000 + 20 + 0) / 20000 = 0.051 against the <100k benchmark 0.075
        assert!(close(s.engagement_rate, 0.051));
        assert!(close(c.engagement, 0.68), "{c:?}");
        // beauty and fashion of beauty/skincare/fashion, whatever the case
        assert!(close(c.category, 2.0 / 3.0), "{c:?}");
        assert!(close(c.style, 0.5), "{c:?}");
        // 110 against a cap of 100: 10 of the 50 tolerated above it
        assert!(close(c.price, 0.8), "{c:?}");
        // A (0.8) averaged with no platform tier (0.5)
        assert!(close(c.track_record, 0.65), "{c:?}");

        let p = s.breakdown.points;
        assert!(close(p.audience, 12.6));
        assert!(close(p.engagement, 13.6));
        assert!(close(p.category, 10.0));
        assert!(close(p.style, 5.0));
        assert!(close(p.price, 8.0));
        assert!(close(p.track_record, 9.75));
        assert!(close(s.total, 58.95), "{}", s.total);
        assert_eq!(s.quote_in_cap_currency, Some(Decimal::from(110)));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn a_perfect_creator_scores_one_hundred() {
        let mut c = creator();
        c.audience_age = vec![(AgeBucket::A18_24, 1.0)];
        c.audience_gender = vec![(Gender::Female, 1.0)];
        c.audience_countries = vec![("US".to_string(), 1.0)];
        c.avg_likes = 10_000;
        c.categories = strings(&["beauty", "skincare", "fashion"]);
        c.styles = strings(&["review", "tutorial"]);
        c.quote_video = Some(Decimal::from(100));
        c.tenant_tier = Some(Tier::S);
        c.platform_tier = Some(Tier::S);
        assert!(close(ok(&c, &ask()).total, 100.0));
    }

    #[test]
    fn an_ask_without_age_gender_category_or_style_wishes_counts_those_as_full_fit() {
        let mut a = ask();
        a.age_buckets.clear();
        a.gender = None;
        a.categories.clear();
        a.styles.clear();
        let c = ok(&creator(), &a).breakdown.components;
        assert!(close(c.audience, 0.75), "{c:?}");
        assert!(close(c.category, 1.0));
        assert!(close(c.style, 1.0));
    }

    // ---- hard filters ----

    #[test]
    fn an_inactive_creator_is_excluded() {
        let mut c = creator();
        c.active = false;
        assert_eq!(scored(&c, &ask()), Err(Exclusion::Inactive));
    }

    #[test]
    fn a_creator_serving_no_target_market_is_excluded() {
        let mut c = creator();
        c.markets = strings(&["DE", "FR"]);
        assert_eq!(scored(&c, &ask()), Err(Exclusion::NoTargetMarket));
    }

    #[test]
    fn markets_are_compared_without_regard_to_case_or_spaces() {
        let mut c = creator();
        c.markets = strings(&[" us "]);
        c.audience_countries = vec![("us".to_string(), 1.0)];
        let mut a = ask();
        a.age_buckets.clear();
        a.gender = None;
        assert!(close(ok(&c, &a).breakdown.components.audience, 1.0));
    }

    #[test]
    fn a_campaign_without_markets_matches_nobody() {
        let mut a = ask();
        a.markets.clear();
        assert_eq!(scored(&creator(), &a), Err(Exclusion::NoTargetMarket));
    }

    #[test]
    fn a_creator_outside_the_follower_range_is_excluded() {
        let a = ask();
        let mut c = creator();
        c.followers = a.followers_min - 1;
        assert_eq!(scored(&c, &a), Err(Exclusion::FollowersOutOfRange));
        c.followers = a.followers_max + 1;
        assert_eq!(scored(&c, &a), Err(Exclusion::FollowersOutOfRange));
    }

    #[test]
    fn a_creator_on_either_follower_bound_is_kept() {
        let a = ask();
        let mut c = creator();
        c.followers = a.followers_min;
        assert!(scored(&c, &a).is_ok());
        c.followers = a.followers_max;
        assert!(scored(&c, &a).is_ok());
    }

    #[test]
    fn a_creator_blacklisted_by_the_tenant_is_excluded() {
        let mut c = creator();
        c.blacklisted_by_tenant = true;
        assert_eq!(scored(&c, &ask()), Err(Exclusion::Blacklisted));
    }

    #[test]
    fn a_creator_blacklisted_by_the_platform_is_excluded() {
        let mut c = creator();
        c.blacklisted_by_platform = true;
        assert_eq!(scored(&c, &ask()), Err(Exclusion::Blacklisted));
    }

    #[test]
    fn a_quote_above_one_and_a_half_times_the_cap_is_excluded() {
        let mut c = creator();
        c.quote_video = Some(Decimal::new(15001, 2));
        assert_eq!(scored(&c, &ask()), Err(Exclusion::OverFeeCap));
    }

    #[test]
    fn a_quote_of_exactly_one_and_a_half_times_the_cap_is_kept_with_no_price_fit() {
        let mut c = creator();
        c.quote_video = Some(Decimal::from(150));
        let s = ok(&c, &ask());
        assert!(close(s.breakdown.components.price, 0.0));
        assert!(!s.warnings.contains(&Warning::NoQuote));
    }

    #[test]
    fn a_creator_speaking_no_content_language_is_excluded() {
        let mut c = creator();
        c.languages = strings(&["de"]);
        assert_eq!(scored(&c, &ask()), Err(Exclusion::NoContentLanguage));
    }

    #[test]
    fn a_regional_language_tag_speaks_its_language() {
        let mut c = creator();
        c.languages = strings(&["EN-us"]);
        assert!(scored(&c, &ask()).is_ok());
    }

    #[test]
    fn a_campaign_without_content_languages_filters_on_none() {
        let mut c = creator();
        c.languages.clear();
        let mut a = ask();
        a.languages.clear();
        assert!(scored(&c, &a).is_ok());
    }

    #[test]
    fn the_first_failing_hard_filter_is_the_one_reported() {
        let mut c = creator();
        c.active = false;
        c.markets.clear();
        c.followers = 0;
        c.blacklisted_by_tenant = true;
        c.quote_video = Some(Decimal::from(1_000));
        c.languages.clear();
        let a = ask();
        let expected = [
            Exclusion::Inactive,
            Exclusion::NoTargetMarket,
            Exclusion::FollowersOutOfRange,
            Exclusion::Blacklisted,
            Exclusion::OverFeeCap,
            Exclusion::NoContentLanguage,
        ];
        for exclusion in expected {
            assert_eq!(scored(&c, &a), Err(exclusion));
            match exclusion {
                Exclusion::Inactive => c.active = true,
                Exclusion::NoTargetMarket => c.markets = strings(&["US"]),
                Exclusion::FollowersOutOfRange => c.followers = 50_000,
                Exclusion::Blacklisted => c.blacklisted_by_tenant = false,
                Exclusion::OverFeeCap => c.quote_video = Some(Decimal::from(100)),
                Exclusion::NoContentLanguage => c.languages = strings(&["en"]),
            }
        }
        assert!(scored(&c, &a).is_ok());
    }

    // ---- quotes and currencies ----

    #[test]
    fn a_quote_at_or_below_the_cap_has_full_price_fit() {
        let mut c = creator();
        c.quote_video = Some(Decimal::from(100));
        assert!(close(ok(&c, &ask()).breakdown.components.price, 1.0));
        c.quote_video = Some(Decimal::ZERO);
        assert!(close(ok(&c, &ask()).breakdown.components.price, 1.0));
    }

    #[test]
    fn a_quote_in_another_currency_is_compared_through_the_reference_rates() {
        let mut c = creator();
        c.quote_video = Some(Decimal::from(100));
        c.quote_currency = Some("EUR".to_string());
        let s = ok(&c, &ask());
        assert_eq!(s.quote_in_cap_currency, Some(Decimal::from(110)));
        assert!(close(s.breakdown.components.price, 0.8));
    }

    #[test]
    fn a_quote_over_the_cap_once_converted_is_excluded() {
        let mut c = creator();
        c.quote_video = Some(Decimal::from(1_500));
        c.quote_currency = Some("CNY".to_string());
        // 1500 CNY × 0.14 = 210 USD > 150 USD
        assert_eq!(scored(&c, &ask()), Err(Exclusion::OverFeeCap));
    }

    #[test]
    fn currencies_differing_only_in_case_need_no_rate() {
        let mut c = creator();
        c.quote_currency = Some("usd".to_string());
        let s = score(&c, &ask(), &Weights::default(), &no_rates());
        let s = s.expect("same currency needs no rate");
        assert_eq!(s.quote_in_cap_currency, Some(Decimal::from(110)));
        assert!(!s.warnings.contains(&Warning::NoQuote));
    }

    #[test]
    fn a_quote_currency_without_a_reference_rate_gets_half_price_fit_and_a_no_quote_warning() {
        let mut c = creator();
        c.quote_video = Some(Decimal::from(10_000));
        c.quote_currency = Some("XXX".to_string());
        let s = ok(&c, &ask());
        assert!(close(s.breakdown.components.price, UNKNOWN_PRICE_FIT));
        assert_eq!(s.warnings, vec![Warning::NoQuote]);
        assert_eq!(s.quote_in_cap_currency, None);
    }

    #[test]
    fn a_quote_without_a_currency_counts_as_unknown() {
        let mut c = creator();
        c.quote_currency = None;
        let s = ok(&c, &ask());
        assert!(close(s.breakdown.components.price, UNKNOWN_PRICE_FIT));
        assert_eq!(s.warnings, vec![Warning::NoQuote]);
    }

    #[test]
    fn a_missing_quote_under_a_cap_gets_half_price_fit_and_a_no_quote_warning() {
        let mut c = creator();
        c.quote_video = None;
        let s = ok(&c, &ask());
        assert!(close(s.breakdown.components.price, UNKNOWN_PRICE_FIT));
        assert_eq!(s.warnings, vec![Warning::NoQuote]);
    }

    #[test]
    fn without_a_cap_price_fit_is_full_and_a_missing_quote_is_no_warning() {
        let mut a = ask();
        a.fee_cap = None;
        let mut c = creator();
        c.quote_video = None;
        let s = ok(&c, &a);
        assert!(close(s.breakdown.components.price, 1.0));
        assert!(s.warnings.is_empty());
        assert_eq!(s.quote_in_cap_currency, None);
    }

    #[test]
    fn a_zero_cap_excludes_a_paid_quote_and_keeps_a_free_one() {
        let mut a = ask();
        a.fee_cap = Some((Decimal::ZERO, "USD".to_string()));
        let mut c = creator();
        assert_eq!(scored(&c, &a), Err(Exclusion::OverFeeCap));
        c.quote_video = Some(Decimal::ZERO);
        assert!(close(ok(&c, &a).breakdown.components.price, 1.0));
    }

    #[test]
    fn a_cap_at_the_edge_of_the_decimal_range_does_not_panic() {
        let mut a = ask();
        a.fee_cap = Some((Decimal::MAX, "USD".to_string()));
        let mut c = creator();
        c.quote_video = Some(Decimal::MAX);
        assert!(close(ok(&c, &a).breakdown.components.price, 1.0));
        a.fee_cap = Some((Decimal::MIN, "USD".to_string()));
        c.quote_video = Some(Decimal::MIN);
        assert!(scored(&c, &a).is_ok());
        c.quote_video = Some(Decimal::ZERO);
        assert_eq!(scored(&c, &a), Err(Exclusion::OverFeeCap));
    }

    #[test]
    fn the_relevant_quote_follows_the_format() {
        let c = creator();
        assert_eq!(
            relevant_quote(&c, Format::ShortVideo),
            Some(Decimal::from(110))
        );
        assert_eq!(relevant_quote(&c, Format::Live), Some(Decimal::from(300)));
        assert_eq!(relevant_quote(&c, Format::Both), Some(Decimal::from(300)));
        let mut c = creator();
        c.quote_live = None;
        assert_eq!(relevant_quote(&c, Format::Both), None);
        assert_eq!(relevant_quote(&c, Format::Live), None);
    }

    #[test]
    fn a_live_campaign_prices_the_live_quote() {
        let mut a = ask();
        a.format = Format::Live;
        a.fee_cap = Some((Decimal::from(250), "USD".to_string()));
        // 300 against 250: 50 of the 125 tolerated above it
        assert!(close(ok(&creator(), &a).breakdown.components.price, 0.6));
    }

    #[test]
    fn a_campaign_wanting_both_formats_with_one_quote_missing_gets_a_no_quote_warning() {
        let mut a = ask();
        a.format = Format::Both;
        let mut c = creator();
        c.quote_live = None;
        let s = ok(&c, &a);
        assert!(close(s.breakdown.components.price, UNKNOWN_PRICE_FIT));
        assert_eq!(s.warnings, vec![Warning::NoQuote]);
    }

    // ---- warnings ----

    #[test]
    fn a_like_view_ratio_below_five_percent_is_warned_about() {
        let mut c = creator();
        c.avg_likes = 999;
        assert_eq!(ok(&c, &ask()).warnings, vec![Warning::LowLikeViewRatio]);
        c.avg_likes = 1_000;
        assert!(ok(&c, &ask()).warnings.is_empty());
    }

    #[test]
    fn a_creator_without_views_gets_no_like_view_warning_and_no_engagement() {
        let mut c = creator();
        c.avg_views = 0;
        let s = ok(&c, &ask());
        assert!(s.warnings.is_empty());
        assert_eq!(s.engagement_rate, 0.0);
        assert_eq!(s.breakdown.components.engagement, 0.0);
    }

    #[test]
    fn an_open_low_score_warning_is_passed_on() {
        let mut c = creator();
        c.open_low_score_warning = true;
        assert_eq!(ok(&c, &ask()).warnings, vec![Warning::OpenLowScoreWarning]);
    }

    #[test]
    fn past_violation_notes_are_warned_about() {
        let mut c = creator();
        c.has_violation_notes = true;
        assert_eq!(ok(&c, &ask()).warnings, vec![Warning::ViolationNotes]);
    }

    #[test]
    fn a_sample_posting_rate_below_seventy_percent_is_warned_about() {
        let mut c = creator();
        c.sample_posting_rate = Some(0.69);
        assert_eq!(ok(&c, &ask()).warnings, vec![Warning::LowSamplePostingRate]);
        c.sample_posting_rate = Some(0.7);
        assert!(ok(&c, &ask()).warnings.is_empty());
        c.sample_posting_rate = None;
        assert!(ok(&c, &ask()).warnings.is_empty());
        c.sample_posting_rate = Some(f64::NAN);
        assert!(ok(&c, &ask()).warnings.is_empty());
    }

    #[test]
    fn warnings_never_change_the_score() {
        let plain = ok(&creator(), &ask());
        let mut c = creator();
        c.open_low_score_warning = true;
        c.has_violation_notes = true;
        c.sample_posting_rate = Some(0.1);
        let warned = ok(&c, &ask());
        assert_eq!(warned.total, plain.total);
        assert_eq!(
            warned.warnings,
            vec![
                Warning::OpenLowScoreWarning,
                Warning::ViolationNotes,
                Warning::LowSamplePostingRate,
            ]
        );
    }

    // ---- components ----

    #[test]
    fn the_engagement_benchmark_falls_with_follower_count() {
        assert_eq!(engagement_benchmark(-5), 0.075);
        assert_eq!(engagement_benchmark(99_999), 0.075);
        assert_eq!(engagement_benchmark(100_000), 0.051);
        assert_eq!(engagement_benchmark(499_999), 0.051);
        assert_eq!(engagement_benchmark(500_000), 0.044);
        assert_eq!(engagement_benchmark(999_999), 0.044);
        assert_eq!(engagement_benchmark(1_000_000), 0.038);
        assert_eq!(engagement_benchmark(4_999_999), 0.038);
        assert_eq!(engagement_benchmark(5_000_000), 0.029);
        assert_eq!(engagement_benchmark(i64::MAX), 0.029);
    }

    #[test]
    fn the_engagement_rate_counts_likes_comments_and_shares_per_view() {
        let mut c = creator();
        c.avg_views = 1_000;
        c.avg_likes = 50;
        c.avg_comments = 20;
        c.avg_shares = 30;
        assert!(close(engagement_rate(&c), 0.1));
        c.avg_views = 0;
        assert_eq!(engagement_rate(&c), 0.0);
        c.avg_views = -10;
        assert_eq!(engagement_rate(&c), 0.0);
    }

    #[test]
    fn negative_and_huge_counts_do_not_break_the_engagement_rate() {
        let mut c = creator();
        c.avg_views = 10;
        c.avg_likes = -100;
        c.avg_comments = i64::MAX;
        c.avg_shares = i64::MAX;
        let er = engagement_rate(&c);
        assert!(er.is_finite() && er > 0.0);
        assert!(close(ok(&c, &ask()).breakdown.components.engagement, 1.0));
    }

    #[test]
    fn engagement_above_the_benchmark_is_capped_at_one() {
        let mut c = creator();
        c.avg_likes = 20_000;
        assert!(close(ok(&c, &ask()).breakdown.components.engagement, 1.0));
    }

    #[test]
    fn categories_and_styles_compare_without_case_and_ignore_duplicates() {
        let mut a = ask();
        a.categories = strings(&["Beauty", "beauty ", "PETS", ""]);
        a.styles = strings(&["Review", "review"]);
        let mut c = creator();
        c.categories = strings(&["beauty", "BEAUTY"]);
        c.styles = strings(&["REVIEW"]);
        let comps = ok(&c, &a).breakdown.components;
        assert!(close(comps.category, 0.5), "{comps:?}");
        assert!(close(comps.style, 1.0), "{comps:?}");
    }

    #[test]
    fn missing_and_non_finite_audience_shares_count_as_zero() {
        let mut c = creator();
        c.audience_age = vec![
            (AgeBucket::A18_24, f64::NAN),
            (AgeBucket::A25_34, f64::INFINITY),
            (AgeBucket::A25_34, -0.5),
        ];
        assert_eq!(ok(&c, &ask()).breakdown.components.audience, 0.0);
        let mut c = creator();
        c.audience_gender.clear();
        assert_eq!(ok(&c, &ask()).breakdown.components.audience, 0.0);
        let mut c = creator();
        c.audience_countries.clear();
        assert_eq!(ok(&c, &ask()).breakdown.components.audience, 0.0);
    }

    #[test]
    fn audience_shares_summing_past_one_are_capped() {
        let mut c = creator();
        c.audience_age = vec![(AgeBucket::A18_24, 0.9), (AgeBucket::A25_34, 0.9)];
        c.audience_gender = vec![(Gender::Female, 1.0)];
        c.audience_countries = vec![("US".to_string(), 0.8), ("GB".to_string(), 0.8)];
        assert!(close(ok(&c, &ask()).breakdown.components.audience, 1.0));
    }

    #[test]
    fn a_wanted_bucket_listed_twice_in_the_ask_counts_once() {
        let mut a = ask();
        a.age_buckets = vec![AgeBucket::A18_24, AgeBucket::A18_24];
        a.markets = strings(&["US", "us"]);
        a.gender = None;
        let c = ok(&creator(), &a).breakdown.components;
        assert!(close(c.audience, 0.4 * 0.5), "{c:?}");
    }

    #[test]
    fn the_seller_view_counts_the_tenant_tier_alone() {
        let w = Weights::default();
        for tenant in [None, Some(Tier::S), Some(Tier::C)] {
            for platform in [None, Some(Tier::S), Some(Tier::A), Some(Tier::C)] {
                let mut c = creator();
                c.tenant_tier = tenant;
                c.platform_tier = platform;
                let full = ok(&c, &ask());
                let seen = seller_view(&full, tenant, &w);
                let alone = tenant.map_or(NO_TIER_VALUE, |t| t.value());
                assert_eq!(seen.breakdown.components.track_record, alone);
                assert!((seen.breakdown.points.track_record - w.track_record * alone).abs() < 1e-9);
                // The same whatever the platform tier.
                c.platform_tier = None;
                let other = seller_view(&ok(&c, &ask()), tenant, &w);
                assert!((seen.total - other.total).abs() < 1e-9);
                assert_eq!(seen.breakdown.components, other.breakdown.components);
            }
        }
    }

    #[test]
    fn track_record_averages_the_tenant_and_platform_tiers() {
        let cases = [
            (None, None, 0.5),
            (Some(Tier::S), Some(Tier::S), 1.0),
            (Some(Tier::A), Some(Tier::C), 0.5),
            (Some(Tier::B), None, 0.5),
            (None, Some(Tier::C), 0.35),
            (Some(Tier::C), Some(Tier::C), 0.2),
        ];
        for (tenant, platform, expected) in cases {
            let mut c = creator();
            c.tenant_tier = tenant;
            c.platform_tier = platform;
            let got = ok(&c, &ask()).breakdown.components.track_record;
            assert!(close(got, expected), "{tenant:?} {platform:?}: {got}");
        }
    }

    #[test]
    fn invalid_weights_are_made_harmless() {
        let w = Weights {
            audience: f64::NAN,
            engagement: -20.0,
            category: f64::INFINITY,
            ..Weights::default()
        };
        assert!(!w.validate());
        let s = score(&creator(), &ask(), &w, &test_rates()).expect("kept");
        assert!(s.total.is_finite());
        assert_eq!(s.breakdown.points.audience, 0.0);
        assert_eq!(s.breakdown.points.engagement, 0.0);
        assert_eq!(s.breakdown.points.category, 0.0);
    }

    // ---- small types ----

    #[test]
    fn the_default_weights_are_valid_and_sum_to_one_hundred() {
        let w = Weights::default();
        assert!(w.validate());
        assert_eq!(w.as_array().iter().sum::<f64>(), 100.0);
    }

    #[test]
    fn weights_that_do_not_sum_to_one_hundred_or_go_negative_are_invalid() {
        let w = Weights {
            style: 11.0,
            ..Weights::default()
        };
        assert!(!w.validate());
        let w = Weights {
            audience: 50.0,
            engagement: -10.0,
            category: 30.0,
            style: 10.0,
            price: 10.0,
            track_record: 10.0,
        };
        assert!(!w.validate());
        let w = Weights {
            audience: 100.0,
            engagement: 0.0,
            category: 0.0,
            style: 0.0,
            price: 0.0,
            track_record: 0.0,
        };
        assert!(w.validate());
    }

    #[test]
    fn codes_round_trip_through_parse() {
        for b in AgeBucket::ALL {
            assert_eq!(AgeBucket::parse(b.code()), Some(b));
        }
        for g in Gender::ALL {
            assert_eq!(Gender::parse(g.code()), Some(g));
        }
        for f in Format::ALL {
            assert_eq!(Format::parse(f.code()), Some(f));
        }
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.code()), Some(t));
        }
        assert_eq!(AgeBucket::parse("55+"), Some(AgeBucket::A55Plus));
        assert_eq!(AgeBucket::parse("55"), None);
        assert_eq!(Gender::parse("Female"), Some(Gender::Female));
        assert_eq!(Gender::parse("other"), None);
    }

    #[test]
    fn serde_names_match_the_codes() {
        for b in AgeBucket::ALL {
            assert_eq!(
                serde_json::to_string(&b).ok(),
                Some(format!("\"{}\"", b.code()))
            );
        }
        for g in Gender::ALL {
            assert_eq!(
                serde_json::to_string(&g).ok(),
                Some(format!("\"{}\"", g.code()))
            );
        }
        for f in Format::ALL {
            assert_eq!(
                serde_json::to_string(&f).ok(),
                Some(format!("\"{}\"", f.code()))
            );
        }
    }

    #[test]
    fn exclusions_and_warnings_have_message_keys_under_matching() {
        assert_eq!(
            Exclusion::FollowersOutOfRange.key(),
            "matching.exclusion.followers_out_of_range"
        );
        assert_eq!(
            Exclusion::NoContentLanguage.key(),
            "matching.exclusion.no_content_language"
        );
        assert_eq!(
            Warning::LowLikeViewRatio.key(),
            "matching.warning.low_like_view_ratio"
        );
        assert_eq!(Warning::NoQuote.key(), "matching.warning.no_quote");
        // The key's last segment is the serde name, so one table serves both.
        for e in [
            Exclusion::Inactive,
            Exclusion::NoTargetMarket,
            Exclusion::FollowersOutOfRange,
            Exclusion::Blacklisted,
            Exclusion::OverFeeCap,
            Exclusion::NoContentLanguage,
        ] {
            let name = serde_json::to_string(&e).unwrap_or_default();
            assert_eq!(
                format!("matching.exclusion.{}", name.trim_matches('"')),
                e.key()
            );
        }
        for w in [
            Warning::LowLikeViewRatio,
            Warning::OpenLowScoreWarning,
            Warning::ViolationNotes,
            Warning::LowSamplePostingRate,
            Warning::NoQuote,
        ] {
            let name = serde_json::to_string(&w).unwrap_or_default();
            assert_eq!(
                format!("matching.warning.{}", name.trim_matches('"')),
                w.key()
            );
        }
    }

    // ---- ranking ----

    #[test]
    fn rank_orders_by_total_then_followers_then_id_and_stops_at_the_limit() {
        let base = creator();
        let mut low = base.clone();
        low.id = Uuid::from_u128(10);
        low.tenant_tier = Some(Tier::C);
        let mut big = base.clone();
        big.id = Uuid::from_u128(20);
        big.followers = 60_000;
        let mut twin_b = base.clone();
        twin_b.id = Uuid::from_u128(3);
        let mut twin_a = base.clone();
        twin_a.id = Uuid::from_u128(2);
        let mut out = base.clone();
        out.id = Uuid::from_u128(99);
        out.active = false;
        let pool = vec![low, twin_b, out, big, twin_a];
        let ids = |limit| -> Vec<u128> {
            rank(&pool, &ask(), &Weights::default(), &test_rates(), limit)
                .into_iter()
                .map(|(id, _)| id.as_u128())
                .collect()
        };
        assert_eq!(ids(10), vec![20, 2, 3, 10]);
        assert_eq!(ids(2), vec![20, 2]);
        assert!(ids(0).is_empty());
    }

    // ---- properties ----

    const MARKETS: &[&str] = &["US", "GB", "DE", "us"];
    const LANGUAGES: &[&str] = &["en", "de", "ja", "EN-gb"];
    const CATEGORIES: &[&str] = &["beauty", "Fashion", "pets", "toys", "home"];
    const STYLES: &[&str] = &["review", "unboxing", "Tutorial", "haul"];
    const CURRENCIES: &[&str] = &["USD", "eur", "CNY", "XXX"];

    fn strs(pool: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
        prop::sample::subsequence(pool, 0..=max)
            .prop_map(|v| v.into_iter().map(str::to_string).collect())
    }

    fn share() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => 0.0..=1.0f64,
            1 => Just(f64::NAN),
            1 => -1.0..2.0f64,
            1 => Just(f64::INFINITY),
        ]
    }

    fn count() -> impl Strategy<Value = i64> {
        prop_oneof![
            8 => 0i64..1_000_000,
            1 => Just(0i64),
            1 => -1_000i64..0,
            1 => Just(i64::MAX),
        ]
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (0i64..100_000_000).prop_map(|cents| Decimal::new(cents, 2))
    }

    fn age_bucket() -> impl Strategy<Value = AgeBucket> {
        prop::sample::select(AgeBucket::ALL.to_vec())
    }

    fn gender() -> impl Strategy<Value = Gender> {
        prop::sample::select(Gender::ALL.to_vec())
    }

    fn tier() -> impl Strategy<Value = Option<Tier>> {
        prop::option::of(prop::sample::select(Tier::ALL.to_vec()))
    }

    fn currency() -> impl Strategy<Value = String> {
        prop::sample::select(CURRENCIES).prop_map(str::to_string)
    }

    fn creator_facts() -> impl Strategy<Value = CreatorFacts> {
        let who = (
            any::<u128>(),
            prop::bool::weighted(0.9),
            strs(MARKETS, 3),
            strs(LANGUAGES, 2),
            prop_oneof![9 => 0i64..10_000_000, 1 => Just(-1i64), 1 => Just(i64::MAX)],
            (count(), count(), count(), count()),
            strs(CATEGORIES, 3),
            strs(STYLES, 2),
        );
        let audience = (
            prop::collection::vec((age_bucket(), share()), 0..6),
            prop::collection::vec((gender(), share()), 0..3),
            prop::collection::vec(
                (
                    prop::sample::select(MARKETS).prop_map(str::to_string),
                    share(),
                ),
                0..5,
            ),
        );
        let terms = (
            prop::option::weighted(0.8, money()),
            prop::option::weighted(0.8, money()),
            prop::option::weighted(0.9, currency()),
            prop::option::of(share()),
            [any::<bool>(); 2],
            [prop::bool::weighted(0.1); 2],
            tier(),
            tier(),
        );
        (who, audience, terms).prop_map(
            |(
                (
                    id,
                    active,
                    markets,
                    languages,
                    followers,
                    (views, likes, comments, shares),
                    categories,
                    styles,
                ),
                (audience_age, audience_gender, audience_countries),
                (
                    quote_video,
                    quote_live,
                    quote_currency,
                    sample_posting_rate,
                    [notes, low],
                    [bl_t, bl_p],
                    tenant_tier,
                    platform_tier,
                ),
            )| CreatorFacts {
                id: Uuid::from_u128(id),
                active,
                markets,
                languages,
                followers,
                avg_views: views,
                avg_likes: likes,
                avg_comments: comments,
                avg_shares: shares,
                categories,
                styles,
                audience_age,
                audience_gender,
                audience_countries,
                quote_video,
                quote_live,
                quote_currency,
                sample_posting_rate,
                has_violation_notes: notes,
                blacklisted_by_tenant: bl_t,
                blacklisted_by_platform: bl_p,
                open_low_score_warning: low,
                tenant_tier,
                platform_tier,
            },
        )
    }

    pub(crate) fn campaign_ask() -> impl Strategy<Value = CampaignAsk> {
        (
            strs(MARKETS, 3),
            strs(LANGUAGES, 2),
            prop::sample::select(Format::ALL.to_vec()),
            0i64..1_000_000,
            0i64..20_000_000,
            prop::option::weighted(0.8, (money(), currency())),
            strs(CATEGORIES, 3),
            strs(STYLES, 2),
            prop::sample::subsequence(AgeBucket::ALL.to_vec(), 0..=6),
            prop::option::of(gender()),
        )
            .prop_map(
                |(
                    markets,
                    languages,
                    format,
                    min,
                    span,
                    fee_cap,
                    categories,
                    styles,
                    age_buckets,
                    gender,
                )| {
                    CampaignAsk {
                        markets,
                        languages,
                        format,
                        followers_min: min,
                        followers_max: min.saturating_add(span),
                        fee_cap,
                        categories,
                        styles,
                        age_buckets,
                        gender,
                    }
                },
            )
    }

    /// Six non-negative whole weights summing to exactly 100.
    pub(crate) fn integer_weights() -> impl Strategy<Value = Weights> {
        prop::collection::vec(0u32..=100, 5).prop_map(|mut cuts| {
            cuts.sort_unstable();
            let edges: Vec<f64> = std::iter::once(0)
                .chain(cuts)
                .chain(std::iter::once(100))
                .map(f64::from)
                .collect();
            let part = |i: usize| edges[i + 1] - edges[i];
            Weights {
                audience: part(0),
                engagement: part(1),
                category: part(2),
                style: part(3),
                price: part(4),
                track_record: part(5),
            }
        })
    }

    /// A pool whose ids are distinct, so the ranking's order is total.
    pub(crate) fn pool() -> impl Strategy<Value = Vec<CreatorFacts>> {
        prop::collection::vec(creator_facts(), 0..25).prop_map(|mut v| {
            for (i, c) in v.iter_mut().enumerate() {
                c.id = Uuid::from_u128(i as u128 + 1);
            }
            v
        })
    }

    /// The creator made to pass the filters that random data mostly fails, so that properties
    /// about scores are not vacuous; language and fee cap stay random.
    pub(crate) fn friendly(mut c: CreatorFacts, a: &CampaignAsk) -> CreatorFacts {
        c.active = true;
        c.markets = a.markets.clone();
        c.followers = a.followers_min;
        c.blacklisted_by_tenant = false;
        c.blacklisted_by_platform = false;
        c
    }

    fn raised(old: f64, by: f64) -> f64 {
        if old.is_finite() {
            old.max(0.0) + by
        } else {
            by
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_total_is_always_finite_and_between_0_and_100(c in creator_facts(), a in campaign_ask()) {
            let kept = friendly(c.clone(), &a);
            for s in [scored(&c, &a), scored(&kept, &a)].into_iter().flatten() {
                prop_assert!(s.total.is_finite());
                prop_assert!((0.0..=100.0).contains(&s.total), "{}", s.total);
            }
        }

        #[test]
        fn with_any_valid_whole_weights_the_total_stays_between_0_and_100(
            c in creator_facts(), a in campaign_ask(), w in integer_weights()
        ) {
            prop_assert!(w.validate());
            if let Ok(s) = score(&friendly(c, &a), &a, &w, &test_rates()) {
                prop_assert!(s.total.is_finite());
                prop_assert!((0.0..=100.0).contains(&s.total), "{}", s.total);
            }
        }

        #[test]
        fn every_component_is_between_0_and_1_and_the_points_sum_to_the_total(
            c in creator_facts(), a in campaign_ask(), w in integer_weights()
        ) {
            if let Ok(s) = score(&friendly(c, &a), &a, &w, &test_rates()) {
                let comp = s.breakdown.components;
                let all = [comp.audience, comp.engagement, comp.category, comp.style, comp.price, comp.track_record];
                prop_assert!(all.iter().all(|x| (0.0..=1.0).contains(x)), "{comp:?}");
                let p = s.breakdown.points;
                let sum = p.audience + p.engagement + p.category + p.style + p.price + p.track_record;
                prop_assert!((sum - s.total).abs() <= EPS);
                prop_assert!((p.audience - w.audience * comp.audience).abs() <= EPS);
                prop_assert!((p.track_record - w.track_record * comp.track_record).abs() <= EPS);
            }
        }

        #[test]
        fn rank_never_returns_a_creator_that_fails_a_hard_filter(
            creators in pool(), a in campaign_ask(), half_friendly in any::<bool>()
        ) {
            let creators: Vec<_> = creators
                .into_iter()
                .enumerate()
                .map(|(i, c)| if half_friendly && i % 2 == 0 { friendly(c, &a) } else { c })
                .collect();
            let ranked = rank(&creators, &a, &Weights::default(), &test_rates(), usize::MAX);
            let kept = creators.iter().filter(|c| scored(c, &a).is_ok()).count();
            prop_assert_eq!(ranked.len(), kept);
            for (id, _) in &ranked {
                let c = creators.iter().find(|c| c.id == *id);
                prop_assert!(c.is_some_and(|c| scored(c, &a).is_ok()));
            }
        }

        #[test]
        fn rank_is_sorted_and_does_not_depend_on_the_order_of_the_pool(
            (creators, shuffled) in pool().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
            a in campaign_ask(),
            limit in 0usize..30,
        ) {
            let friendly_pool = |v: Vec<CreatorFacts>| -> Vec<CreatorFacts> {
                v.into_iter().map(|c| friendly(c, &a)).collect()
            };
            let creators = friendly_pool(creators);
            let shuffled = friendly_pool(shuffled);
            let first = rank(&creators, &a, &Weights::default(), &test_rates(), limit);
            let again = rank(&shuffled, &a, &Weights::default(), &test_rates(), limit);
            prop_assert_eq!(&first, &again);
            prop_assert!(first.len() <= limit);
            let followers = |id: &Uuid| creators.iter().find(|c| c.id == *id).map_or(0, |c| c.followers);
            for pair in first.windows(2) {
                let ((id_a, s_a), (id_b, s_b)) = (&pair[0], &pair[1]);
                let in_order = s_a.total > s_b.total
                    || (s_a.total == s_b.total
                        && (followers(id_a) > followers(id_b)
                            || (followers(id_a) == followers(id_b) && id_a < id_b)));
                prop_assert!(in_order, "{id_a} {} before {id_b} {}", s_a.total, s_b.total);
            }
        }

        #[test]
        fn more_likes_never_lower_the_total(
            c in creator_facts(), a in campaign_ask(), more in 0i64..1_000_000
        ) {
            let c = friendly(c, &a);
            let mut liked = c.clone();
            liked.avg_likes = c.avg_likes.saturating_add(more);
            if let (Ok(before), Ok(after)) = (scored(&c, &a), scored(&liked, &a)) {
                prop_assert!(after.engagement_rate >= before.engagement_rate);
                prop_assert!(after.total >= before.total, "{} < {}", after.total, before.total);
            }
        }

        #[test]
        fn a_larger_share_in_a_wanted_age_bucket_never_lowers_the_total(
            c in creator_facts(), a in campaign_ask(), pick in any::<prop::sample::Index>(), by in 0.0..1.0f64
        ) {
            prop_assume!(!a.age_buckets.is_empty());
            let c = friendly(c, &a);
            let bucket = a.age_buckets[pick.index(a.age_buckets.len())];
            let mut more = c.clone();
            match more.audience_age.iter_mut().find(|(b, _)| *b == bucket) {
                Some(entry) => entry.1 = raised(entry.1, by),
                None => more.audience_age.push((bucket, by)),
            }
            if let (Ok(before), Ok(after)) = (scored(&c, &a), scored(&more, &a)) {
                prop_assert!(after.breakdown.components.audience >= before.breakdown.components.audience);
                prop_assert!(after.total >= before.total, "{} < {}", after.total, before.total);
            }
        }

        #[test]
        fn a_larger_share_in_a_target_country_never_lowers_the_total(
            c in creator_facts(), a in campaign_ask(), pick in any::<prop::sample::Index>(), by in 0.0..1.0f64
        ) {
            prop_assume!(!a.markets.is_empty());
            let c = friendly(c, &a);
            let market = a.markets[pick.index(a.markets.len())].clone();
            let mut more = c.clone();
            match more
                .audience_countries
                .iter_mut()
                .find(|(code, _)| code.eq_ignore_ascii_case(&market))
            {
                Some(entry) => entry.1 = raised(entry.1, by),
                None => more.audience_countries.push((market, by)),
            }
            if let (Ok(before), Ok(after)) = (scored(&c, &a), scored(&more, &a)) {
                prop_assert!(after.breakdown.components.audience >= before.breakdown.components.audience);
                prop_assert!(after.total >= before.total, "{} < {}", after.total, before.total);
            }
        }

        #[test]
        fn a_larger_share_of_the_wanted_gender_never_lowers_the_total(
            c in creator_facts(), a in campaign_ask(), by in 0.0..1.0f64
        ) {
            let Some(wanted) = a.gender else { return Ok(()); };
            let c = friendly(c, &a);
            let mut more = c.clone();
            match more.audience_gender.iter_mut().find(|(g, _)| *g == wanted) {
                Some(entry) => entry.1 = raised(entry.1, by),
                None => more.audience_gender.push((wanted, by)),
            }
            if let (Ok(before), Ok(after)) = (scored(&c, &a), scored(&more, &a)) {
                prop_assert!(after.total >= before.total, "{} < {}", after.total, before.total);
            }
        }

        #[test]
        fn scoring_never_panics_on_arbitrary_numbers(
            c in creator_facts(),
            a in campaign_ask(),
            followers in any::<i64>(),
            counts in [any::<i64>(); 4],
            shares in [any::<f64>(); 3],
            cap in any::<i64>(),
            quote in any::<i64>(),
            scale in 0u32..=28,
        ) {
            let mut c = c;
            c.followers = followers;
            c.avg_views = counts[0];
            c.avg_likes = counts[1];
            c.avg_comments = counts[2];
            c.avg_shares = counts[3];
            c.audience_age.push((AgeBucket::A18_24, shares[0]));
            c.audience_gender.push((Gender::Female, shares[1]));
            c.audience_countries.push(("US".to_string(), shares[2]));
            c.quote_video = Some(Decimal::new(quote, scale));
            let mut a = a;
            a.fee_cap = Some((Decimal::new(cap, 0), "USD".to_string()));
            let _ = scored(&c, &a);
            let _ = scored(&friendly(c, &a), &a);
        }
    }

    #[test]
    fn typed_weights_are_numbers_of_at_least_zero_that_sum_to_a_hundred() {
        let typed = |v: [&str; 6]| WeightsInput {
            audience: v[0].into(),
            engagement: v[1].into(),
            category: v[2].into(),
            style: v[3].into(),
            price: v[4].into(),
            track_record: v[5].into(),
        };
        let w = parse_weights(&typed(["40", " 20 ", "10", "10", "5", "15"])).unwrap();
        assert_eq!((w.audience, w.engagement, w.price), (40.0, 20.0, 5.0));
        assert_eq!(
            parse_weights(&WeightsInput::of(&Weights::default())),
            Ok(Weights::default())
        );

        let errors = parse_weights(&typed(["-10", "abc", "15", "10", "10", "NaN"])).unwrap_err();
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["audience", "engagement", "track_record"]
        );
        assert!(errors.values().all(|k| *k == "matching.error.weight"));

        let errors = parse_weights(&typed(["30", "20", "15", "10", "10", "5"])).unwrap_err();
        assert_eq!(errors.get("sum"), Some(&"matching.error.weights_sum"));
        assert_eq!(errors.len(), 1);
    }
}
