//! Pure rules for a collaboration (SPEC §4): validated terms or a message key per field, discount
//! codes, tracked-link slugs, the state machine and the summary of an amendment.

use rand::Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::kernel::FieldErrors;
use crate::kernel::counts::parse_count;
use crate::kernel::markets::SHOP_CURRENCIES;
use crate::kernel::{Currency, Money};
use crate::tenants::domain::parse_percent;
use crate::web::fmt::money;

/// SPEC §4: the post stays live at least this many days unless the terms say otherwise.
pub const DEFAULT_MIN_DAYS_LIVE: u32 = 30;
/// SPEC §4: revisions included unless the terms say otherwise.
pub const DEFAULT_REVISIONS: u32 = 2;
/// The highest commission rate, as a fraction (80%): above it a "commission" is a typo or a
/// resale, not a creator deal.
pub const MAX_COMMISSION: Decimal = Decimal::from_parts(80, 0, 0, false, 2);
/// The agency's service fee range, as fractions (SPEC §4: 5–20%).
pub const MIN_SERVICE_FEE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);
pub const MAX_SERVICE_FEE: Decimal = Decimal::from_parts(20, 0, 0, false, 2);
/// Videos, and separately LIVE sessions, per contract.
pub const MAX_DELIVERABLES_EACH: u32 = 50;
pub const MAX_MIN_DAYS_LIVE: u32 = 365;
pub const MAX_REVISIONS: u32 = 10;
pub const MAX_SAMPLE_QTY: u32 = 1000;
pub const MAX_SAMPLE_SKU_CHARS: usize = 64;
/// What other agreed costs pay for, in a few words ("Translator", "Booth at the fair").
pub const MAX_OTHER_COSTS_LABEL_CHARS: usize = 60;
/// A deadline further out than this is almost always a mistyped year.
pub const MAX_DEADLINE_AHEAD_DAYS: i64 = 730;
/// Whole currency units; far above any creator fee (even in VND or IDR) yet leaving room for sums
/// in `numeric(18,2)`.
const MAX_AMOUNT_UNITS: i64 = 1_000_000_000_000;

/// Lower-case letters and digits without 0/o, 1/l/i: a slug read aloud or off a screenshot
/// is typed back right.
pub const LINK_SLUG_ALPHABET: &str = "abcdefghjkmnpqrstuvwxyz23456789";
pub const LINK_SLUG_LEN: usize = 8;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Also the tenant's default (`tenants.fee_model`, which allows the two with a commission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum FeeModel {
    Fixed,
    CommissionOnly,
    FixedPlusCommission,
}

impl FeeModel {
    pub const ALL: [FeeModel; 3] = [
        FeeModel::Fixed,
        FeeModel::CommissionOnly,
        FeeModel::FixedPlusCommission,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            FeeModel::Fixed => "fixed",
            FeeModel::CommissionOnly => "commission_only",
            FeeModel::FixedPlusCommission => "fixed_plus_commission",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == s)
    }

    pub fn label_key(&self) -> &'static str {
        match self {
            FeeModel::Fixed => "contract.fee_model.fixed",
            FeeModel::CommissionOnly => "contract.fee_model.commission_only",
            FeeModel::FixedPlusCommission => "contract.fee_model.fixed_plus_commission",
        }
    }

    pub fn has_fixed_fee(&self) -> bool {
        matches!(self, FeeModel::Fixed | FeeModel::FixedPlusCommission)
    }

    pub fn has_commission(&self) -> bool {
        matches!(
            self,
            FeeModel::CommissionOnly | FeeModel::FixedPlusCommission
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UsageRights {
    #[serde(rename = "organic_only")]
    OrganicOnly,
    #[serde(rename = "paid_ads_until")]
    PaidAdsUntil,
    #[serde(rename = "no_secondary_use")]
    NoSecondaryCommercialUse,
}

impl UsageRights {
    pub const ALL: [UsageRights; 3] = [
        UsageRights::OrganicOnly,
        UsageRights::PaidAdsUntil,
        UsageRights::NoSecondaryCommercialUse,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            UsageRights::OrganicOnly => "organic_only",
            UsageRights::PaidAdsUntil => "paid_ads_until",
            UsageRights::NoSecondaryCommercialUse => "no_secondary_use",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.code() == s)
    }

    pub fn label_key(&self) -> &'static str {
        match self {
            UsageRights::OrganicOnly => "contract.usage_rights.organic_only",
            UsageRights::PaidAdsUntil => "contract.usage_rights.paid_ads_until",
            UsageRights::NoSecondaryCommercialUse => "contract.usage_rights.no_secondary_use",
        }
    }
}

/// The terms form as typed; every field a string so a bad value can be shown back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TermsInput {
    pub fee_model: String,
    pub fixed_fee: String,
    pub fixed_fee_currency: String,
    /// Percent, e.g. `12` or `12.5%`.
    pub commission_rate: String,
    /// Percent; the form pre-fills the tenant's default.
    pub service_fee_rate: String,
    pub videos: String,
    pub live_sessions: String,
    /// `YYYY-MM-DD`.
    pub publish_deadline: String,
    /// Empty → [`DEFAULT_MIN_DAYS_LIVE`].
    pub min_days_live: String,
    /// Empty → [`DEFAULT_REVISIONS`].
    pub revisions_included: String,
    pub usage_rights: String,
    /// `YYYY-MM-DD`, only with [`UsageRights::PaidAdsUntil`].
    pub paid_ads_until: String,
    pub sample_sku: String,
    pub sample_qty: String,
    pub sample_cost: String,
    /// What sending the sample costs; in the sample cost's currency.
    pub sample_shipping: String,
    /// The currency of the sample's cost and shipping.
    pub sample_cost_currency: String,
    /// `agency` when the agency paid for the samples (their cost and shipping become a seller →
    /// agency line of the settlement); empty or `seller` when the seller sends them itself.
    pub sample_paid_by: String,
    /// Other agreed costs (a stand at a fair, a translator, …): one amount with a short label.
    pub other_costs: String,
    pub other_costs_currency: String,
    pub other_costs_label: String,
    pub discount_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub sku: String,
    pub qty: u32,
    /// At the currency's minor units.
    pub cost: Option<Decimal>,
    /// Sending the sample, at the currency's minor units (absent from versions before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Decimal>,
    /// The currency of `cost` and `shipping` (None when neither is given).
    pub cost_currency: Option<String>,
    /// The agency paid for the samples: the settlement bills their cost and shipping to the
    /// seller (SPEC §9). Absent from versions before it (the seller paid).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paid_by_agency: bool,
}

/// Costs agreed on top of the fees and the sample, with what they are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherCosts {
    pub label: String,
    /// At the currency's minor units.
    pub amount: Decimal,
    pub currency: String,
}

impl OtherCosts {
    pub fn money(&self) -> Option<Money> {
        money_of(Some(self.amount), Some(&self.currency))
    }
}

/// One version of a collaboration's terms; stored as JSON per version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub fee_model: FeeModel,
    /// At the currency's minor units; `None` for commission-only.
    pub fixed_fee: Option<Decimal>,
    pub fixed_fee_currency: Option<String>,
    /// A fraction: 12.5% is 0.125. Zero for a fixed fee.
    pub commission_rate: Decimal,
    /// A fraction.
    pub service_fee_rate: Decimal,
    pub videos: u32,
    pub live_sessions: u32,
    #[serde(with = "iso_date")]
    pub publish_deadline: Date,
    pub min_days_live: u32,
    pub revisions_included: u32,
    pub usage_rights: UsageRights,
    #[serde(with = "iso_date::option", default)]
    pub paid_ads_until: Option<Date>,
    pub sample: Option<Sample>,
    /// Absent from versions before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_costs: Option<OtherCosts>,
    pub discount_code: String,
    /// The creator's quote when this version was made (ROI for rating prices the contracted
    /// deliverables of commission-only terms with it); absent from versions before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_quote: Option<CreatorQuote>,
}

/// A creator's quote, frozen into a contract version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorQuote {
    pub video: Option<Decimal>,
    pub live: Option<Decimal>,
    pub currency: Option<String>,
}

/// An amount stored beside its currency code, as money (None when either is missing).
fn money_of(amount: Option<Decimal>, currency: Option<&str>) -> Option<Money> {
    Some(Money::new(amount?, Currency::parse(currency?).ok()?))
}

impl Sample {
    /// The sample's cost in its currency, when it has one.
    pub fn cost_money(&self) -> Option<Money> {
        money_of(self.cost, self.cost_currency.as_deref())
    }

    /// The sample's shipping in its currency, when it has one.
    pub fn shipping_money(&self) -> Option<Money> {
        money_of(self.shipping, self.cost_currency.as_deref())
    }
}

impl Terms {
    /// The fixed fee in its currency; None for commission-only terms.
    pub fn fixed_fee_money(&self) -> Option<Money> {
        money_of(self.fixed_fee, self.fixed_fee_currency.as_deref())
    }

    /// Contracted deliverables; the fixed fee accrues per deliverable on its first post (§9).
    pub fn deliverables(&self) -> u32 {
        self.videos + self.live_sessions
    }
}

/// Validates every field at once, so the form shows every message together. Field names in the
/// errors are those of [`TermsInput`]; "no deliverable at all" is reported on `videos`.
///
/// Decisions where the brief is silent: the currency selects are ignored when their amount is
/// not used (commission-only fixed fee, empty sample cost), because the form always submits a
/// default currency; for a fixed fee the commission may be empty or 0; amounts accept thousands
/// commas (`1,200.50`) but not a decimal comma; rates accept at most two decimals of a percent;
/// a sample cost, shipping or other costs, when given, must be more than 0; other costs need a
/// label (what they pay for), and a label needs an amount.
pub fn validate_terms(
    input: &TermsInput,
    sample_needed: bool,
    today: Date,
) -> Result<Terms, FieldErrors> {
    let mut errors = FieldErrors::new();

    let fee_model = check(
        &mut errors,
        "fee_model",
        FeeModel::parse(input.fee_model.trim()).ok_or(E_FEE_MODEL),
    );

    // (amount, currency); None when the fee model is unknown or a field is wrong.
    let fixed = match fee_model {
        Some(model) if model.has_fixed_fee() => {
            let currency = check(
                &mut errors,
                "fixed_fee_currency",
                known_currency(&input.fixed_fee_currency).ok_or(E_CURRENCY),
            );
            let amount = if input.fixed_fee.trim().is_empty() {
                Err(E_FIXED_FEE_REQUIRED)
            } else {
                parse_amount(&input.fixed_fee, currency)
            };
            let amount = check(&mut errors, "fixed_fee", amount);
            amount
                .zip(currency)
                .map(|(a, c)| (Some(a), Some(c.code().to_string())))
        }
        Some(_) if !input.fixed_fee.trim().is_empty() => {
            errors.insert("fixed_fee".into(), E_FIXED_FEE_NOT_ALLOWED);
            None
        }
        Some(_) => Some((None, None)),
        None => None,
    };

    let commission_rate = match fee_model {
        Some(model) if model.has_commission() => {
            let rate = parse_rate(&input.commission_rate, E_COMMISSION_REQUIRED).and_then(|p| {
                if p <= Decimal::ZERO {
                    Err(E_COMMISSION_POSITIVE)
                } else if p > MAX_COMMISSION * HUNDRED {
                    Err(E_COMMISSION_MAX)
                } else {
                    Ok(p / HUNDRED)
                }
            });
            check(&mut errors, "commission_rate", rate)
        }
        Some(_) => {
            let typed = input.commission_rate.trim();
            let zero = typed.is_empty() || parse_percent(typed).is_some_and(|p| p.is_zero());
            let rate = if zero {
                Ok(Decimal::ZERO)
            } else {
                Err(E_COMMISSION_NOT_ALLOWED)
            };
            check(&mut errors, "commission_rate", rate)
        }
        None => None,
    };

    let service_fee_rate = parse_rate(&input.service_fee_rate, E_RATE_NUMBER).and_then(|p| {
        let rate = p / HUNDRED;
        if (MIN_SERVICE_FEE..=MAX_SERVICE_FEE).contains(&rate) {
            Ok(rate)
        } else {
            Err(E_SERVICE_FEE_RANGE)
        }
    });
    let service_fee_rate = check(&mut errors, "service_fee_rate", service_fee_rate);

    let videos = check(
        &mut errors,
        "videos",
        count_field(&input.videos, 0, 0..=MAX_DELIVERABLES_EACH, E_VIDEOS),
    );
    let live_sessions = check(
        &mut errors,
        "live_sessions",
        count_field(
            &input.live_sessions,
            0,
            0..=MAX_DELIVERABLES_EACH,
            E_LIVE_SESSIONS,
        ),
    );
    if let (Some(0), Some(0)) = (videos, live_sessions) {
        errors.insert("videos".into(), E_DELIVERABLE_REQUIRED);
    }

    let publish_deadline = if input.publish_deadline.trim().is_empty() {
        Err(E_DEADLINE_REQUIRED)
    } else {
        parse_date(&input.publish_deadline).and_then(|d| {
            if d <= today {
                Err(E_DEADLINE_PAST)
            } else if (d - today).whole_days() > MAX_DEADLINE_AHEAD_DAYS {
                Err(E_DEADLINE_TOO_FAR)
            } else {
                Ok(d)
            }
        })
    };
    let publish_deadline = check(&mut errors, "publish_deadline", publish_deadline);

    let min_days_live = check(
        &mut errors,
        "min_days_live",
        count_field(
            &input.min_days_live,
            DEFAULT_MIN_DAYS_LIVE,
            1..=MAX_MIN_DAYS_LIVE,
            E_MIN_DAYS_LIVE,
        ),
    );
    let revisions_included = check(
        &mut errors,
        "revisions_included",
        count_field(
            &input.revisions_included,
            DEFAULT_REVISIONS,
            0..=MAX_REVISIONS,
            E_REVISIONS,
        ),
    );

    let usage_rights = check(
        &mut errors,
        "usage_rights",
        UsageRights::parse(input.usage_rights.trim()).ok_or(E_USAGE_RIGHTS),
    );
    let typed_until = input.paid_ads_until.trim();
    let paid_ads_until = match usage_rights {
        Some(UsageRights::PaidAdsUntil) => {
            let until = if typed_until.is_empty() {
                Err(E_PAID_ADS_UNTIL_REQUIRED)
            } else {
                parse_date(typed_until).and_then(|d| match publish_deadline {
                    Some(deadline) if d <= deadline => Err(E_PAID_ADS_UNTIL_AFTER_DEADLINE),
                    _ => Ok(d),
                })
            };
            check(&mut errors, "paid_ads_until", until).map(Some)
        }
        Some(_) if !typed_until.is_empty() => {
            errors.insert("paid_ads_until".into(), E_PAID_ADS_UNTIL_NOT_ALLOWED);
            None
        }
        Some(_) => Some(None),
        None => None,
    };

    let sample = if sample_needed {
        validate_sample(input, &mut errors).map(Some)
    } else {
        Some(None)
    };

    let other_costs = validate_other_costs(input, &mut errors);

    let discount_code = check(
        &mut errors,
        "discount_code",
        normalize_discount_code(&input.discount_code),
    );

    // Every `None` above has put its message in `errors`.
    let (
        Some(fee_model),
        Some((fixed_fee, fixed_fee_currency)),
        Some(commission_rate),
        Some(service_fee_rate),
        Some(videos),
        Some(live_sessions),
        Some(publish_deadline),
        Some(min_days_live),
        Some(revisions_included),
        Some(usage_rights),
        Some(paid_ads_until),
        Some(sample),
        Some(other_costs),
        Some(discount_code),
        true,
    ) = (
        fee_model,
        fixed,
        commission_rate,
        service_fee_rate,
        videos,
        live_sessions,
        publish_deadline,
        min_days_live,
        revisions_included,
        usage_rights,
        paid_ads_until,
        sample,
        other_costs,
        discount_code,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    Ok(Terms {
        fee_model,
        fixed_fee,
        fixed_fee_currency,
        commission_rate,
        service_fee_rate,
        videos,
        live_sessions,
        publish_deadline,
        min_days_live,
        revisions_included,
        usage_rights,
        paid_ads_until,
        sample,
        other_costs,
        discount_code,
        creator_quote: None,
    })
}

fn validate_sample(input: &TermsInput, errors: &mut FieldErrors) -> Option<Sample> {
    let sku = input.sample_sku.trim();
    let sku_ok = !sku.is_empty()
        && sku.chars().count() <= MAX_SAMPLE_SKU_CHARS
        && !sku.chars().any(char::is_control);
    let sku = check(
        errors,
        "sample_sku",
        if sku_ok {
            Ok(sku.to_string())
        } else {
            Err(E_SAMPLE_SKU)
        },
    );
    let qty = if input.sample_qty.trim().is_empty() {
        Err(E_SAMPLE_QTY)
    } else {
        count_field(&input.sample_qty, 0, 1..=MAX_SAMPLE_QTY, E_SAMPLE_QTY)
    };
    let qty = check(errors, "sample_qty", qty);
    // A cost and a shipping amount are optional; either needs the currency, and each amount is
    // checked against it.
    let typed = |s: &str| !s.trim().is_empty();
    let (cost, shipping, cost_currency) =
        if !typed(&input.sample_cost) && !typed(&input.sample_shipping) {
            (Some(None), Some(None), Some(None))
        } else {
            let currency = check(
                errors,
                "sample_cost_currency",
                known_currency(&input.sample_cost_currency).ok_or(E_SAMPLE_COST_CURRENCY),
            );
            let mut amount = |field: &str, value: &str| {
                if typed(value) {
                    check(errors, field, parse_amount(value, currency)).map(Some)
                } else {
                    Some(None)
                }
            };
            let cost = amount("sample_cost", &input.sample_cost);
            let shipping = amount("sample_shipping", &input.sample_shipping);
            (cost, shipping, currency.map(|c| Some(c.code().to_string())))
        };
    let paid_by_agency = match input.sample_paid_by.trim() {
        "" | "seller" => Some(false),
        "agency" if cost.flatten().is_some() || shipping.flatten().is_some() => Some(true),
        "agency" => check(errors, "sample_paid_by", Err(E_SAMPLE_PAID_BY_NEEDS_COST)),
        _ => check(errors, "sample_paid_by", Err(E_SAMPLE_PAID_BY)),
    };
    let (sku, qty, cost, shipping, cost_currency, paid_by_agency) = (
        sku?,
        qty?,
        cost?,
        shipping?,
        cost_currency?,
        paid_by_agency?,
    );
    Some(Sample {
        sku,
        qty,
        cost,
        shipping,
        cost_currency,
        paid_by_agency,
    })
}

/// Other agreed costs: all three fields empty → none; otherwise an amount, its currency and a
/// label of at most [`MAX_OTHER_COSTS_LABEL_CHARS`] characters.
fn validate_other_costs(
    input: &TermsInput,
    errors: &mut FieldErrors,
) -> Option<Option<OtherCosts>> {
    let label = input.other_costs_label.trim();
    let amount = input.other_costs.trim();
    if label.is_empty() && amount.is_empty() {
        return Some(None);
    }
    let label_ok = !label.is_empty()
        && label.chars().count() <= MAX_OTHER_COSTS_LABEL_CHARS
        && !label.chars().any(char::is_control);
    let label = check(
        errors,
        "other_costs_label",
        if label_ok {
            Ok(label.to_string())
        } else {
            Err(E_OTHER_COSTS_LABEL)
        },
    );
    let currency = check(
        errors,
        "other_costs_currency",
        known_currency(&input.other_costs_currency).ok_or(E_CURRENCY),
    );
    let amount = check(
        errors,
        "other_costs",
        if amount.is_empty() {
            Err(E_OTHER_COSTS_REQUIRED)
        } else {
            parse_amount(amount, currency)
        },
    );
    Some(Some(OtherCosts {
        label: label?,
        amount: amount?,
        currency: currency?.code().to_string(),
    }))
}

const HUNDRED: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// Records a field's message and passes its value on.
fn check<T>(errors: &mut FieldErrors, field: &str, result: Result<T, &'static str>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(key) => {
            errors.insert(field.to_string(), key);
            None
        }
    }
}

fn known_currency(s: &str) -> Option<Currency> {
    let code = s.trim().to_ascii_uppercase();
    if SHOP_CURRENCIES.contains(&code.as_str()) {
        Currency::parse(&code).ok()
    } else {
        None
    }
}

/// A positive amount, at most the currency's minor units (checked only when the currency is
/// known), rescaled to them: `1200` CNY → 1200.00. Thousands commas are accepted only in their
/// places, so a decimal comma (`1,5`) is refused rather than read as 15.
fn parse_amount(s: &str, currency: Option<Currency>) -> Result<Decimal, &'static str> {
    let s = s.trim();
    let (negative, digits) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (int, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let int_ok = if int.contains(',') {
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or_default();
        (1..=3).contains(&first.len())
            && first.bytes().all(|b| b.is_ascii_digit())
            && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
    } else {
        !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit())
    };
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !int_ok || !frac_ok {
        return Err(E_AMOUNT_NUMBER);
    }
    let plain = digits.replace(',', "");
    let amount: Decimal = plain.parse().map_err(|_| E_AMOUNT_TOO_LARGE)?;
    if negative || amount.is_zero() {
        return Err(E_AMOUNT_POSITIVE);
    }
    if amount >= Decimal::from(MAX_AMOUNT_UNITS) {
        return Err(E_AMOUNT_TOO_LARGE);
    }
    match currency {
        Some(currency) => {
            let dp = currency.minor_units();
            let amount = amount.normalize();
            if amount.scale() > dp {
                return Err(E_AMOUNT_DECIMALS);
            }
            let mut scaled = amount;
            scaled.rescale(dp);
            Ok(scaled)
        }
        None => Ok(amount),
    }
}

/// A percent with at most two decimals (`12`, `12.5%`); empty → `empty_key`.
fn parse_rate(s: &str, empty_key: &'static str) -> Result<Decimal, &'static str> {
    if s.trim().trim_end_matches('%').trim().is_empty() {
        return Err(empty_key);
    }
    let p = parse_percent(s).ok_or(E_RATE_NUMBER)?.normalize();
    if p.scale() > 2 {
        return Err(E_RATE_NUMBER);
    }
    Ok(p)
}

/// A whole number in `range` written in plain digits (the terms form takes no `1K` or `1,000`);
/// empty → `default`; anything else → `key`, the field's message.
fn count_field(
    s: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
    key: &'static str,
) -> Result<u32, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(default);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(key);
    }
    parse_count(s)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| range.contains(n))
        .ok_or(key)
}

fn parse_date(s: &str) -> Result<Date, &'static str> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).map_err(|_| E_DATE_FORMAT)
}

/// Upper-cases and checks a discount code: 4–20 of A–Z and 0–9 (what shops accept), else
/// `Err(key)`. Full-width letters and digits (typed with a Chinese input method) become ASCII.
pub fn normalize_discount_code(s: &str) -> Result<String, &'static str> {
    let code: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.is_empty() {
        return Err(E_DISCOUNT_CODE_REQUIRED);
    }
    let charset_ok = code
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if charset_ok && (4..=20).contains(&code.len()) {
        Ok(code)
    } else {
        Err(E_DISCOUNT_CODE)
    }
}

/// A suggested discount code: the creator handle's ASCII letters/digits upper-cased (first 10)
/// followed by 2–4 random digits, e.g. "HOMEWITHHA27". A handle with fewer than two of them (a
/// Chinese handle, say) gives "SAVE" and the digits. The caller retries on a per-tenant clash.
pub fn suggest_discount_code(handle: &str) -> String {
    let mut code: String = handle
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.len() < 2 {
        code = "SAVE".to_string();
    }
    let mut rng = rand::rng();
    let digits: usize = rng.random_range(2..=4);
    for _ in 0..digits {
        code.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    code
}

/// A tracked-link slug: 8 characters of [`LINK_SLUG_ALPHABET`] (31⁸ ≈ 8.5 × 10¹¹ values) from the
/// thread-local CSPRNG, so unguessable and unique with high probability. The caller retries on
/// a clash.
pub fn new_link_slug() -> String {
    let alphabet = LINK_SLUG_ALPHABET.as_bytes();
    let mut rng = rand::rng();
    (0..LINK_SLUG_LEN)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub fn is_link_slug(s: &str) -> bool {
    s.len() == LINK_SLUG_LEN && s.chars().all(|c| LINK_SLUG_ALPHABET.contains(c))
}

/// `collaborations.state` (text with a CHECK of these codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ContractState {
    Proposed,
    Accepted,
    SampleShipped,
    SampleDelivered,
    InReview,
    Published,
    Tracking,
    Evaluating,
    Rated,
    Settled,
    Cancelled,
    Breached,
}

impl ContractState {
    pub const ALL: [ContractState; 12] = [
        ContractState::Proposed,
        ContractState::Accepted,
        ContractState::SampleShipped,
        ContractState::SampleDelivered,
        ContractState::InReview,
        ContractState::Published,
        ContractState::Tracking,
        ContractState::Evaluating,
        ContractState::Rated,
        ContractState::Settled,
        ContractState::Cancelled,
        ContractState::Breached,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            ContractState::Proposed => "proposed",
            ContractState::Accepted => "accepted",
            ContractState::SampleShipped => "sample_shipped",
            ContractState::SampleDelivered => "sample_delivered",
            ContractState::InReview => "in_review",
            ContractState::Published => "published",
            ContractState::Tracking => "tracking",
            ContractState::Evaluating => "evaluating",
            ContractState::Rated => "rated",
            ContractState::Settled => "settled",
            ContractState::Cancelled => "cancelled",
            ContractState::Breached => "breached",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.code() == s)
    }

    pub fn label_key(&self) -> &'static str {
        match self {
            ContractState::Proposed => "contract.state.proposed",
            ContractState::Accepted => "contract.state.accepted",
            ContractState::SampleShipped => "contract.state.sample_shipped",
            ContractState::SampleDelivered => "contract.state.sample_delivered",
            ContractState::InReview => "contract.state.in_review",
            ContractState::Published => "contract.state.published",
            ContractState::Tracking => "contract.state.tracking",
            ContractState::Evaluating => "contract.state.evaluating",
            ContractState::Rated => "contract.state.rated",
            ContractState::Settled => "contract.state.settled",
            ContractState::Cancelled => "contract.state.cancelled",
            ContractState::Breached => "contract.state.breached",
        }
    }

    /// SPEC §4 "any before rated": the states a contract can still be cancelled or breached from.
    pub fn is_before_rated(&self) -> bool {
        !matches!(
            self,
            ContractState::Rated
                | ContractState::Settled
                | ContractState::Cancelled
                | ContractState::Breached
        )
    }

    /// No event leaves these states.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ContractState::Settled | ContractState::Cancelled | ContractState::Breached
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractEvent {
    CreatorAccepted,
    CreatorDeclined,
    SampleShipped {
        carrier: String,
        tracking_number: String,
    },
    SampleDelivered,
    DraftSubmitted,
    PostAdded,
    TrackingStarted,
    WindowFinal,
    RatingCompleted,
    SettlementFinalized,
    Cancel {
        reason: String,
    },
    /// By the creator (SPEC §4).
    Breach {
        reason: String,
    },
}

impl ContractEvent {
    /// How the event is named in the transition log and the audit entry (and, for the events the
    /// account manager records by hand, in the collaboration page's form).
    pub fn code(&self) -> &'static str {
        match self {
            ContractEvent::CreatorAccepted => "accepted",
            ContractEvent::CreatorDeclined => "declined",
            ContractEvent::SampleShipped { .. } => "sample_shipped",
            ContractEvent::SampleDelivered => "sample_delivered",
            ContractEvent::DraftSubmitted => "draft_submitted",
            ContractEvent::PostAdded => "post_added",
            ContractEvent::TrackingStarted => "tracking_started",
            ContractEvent::WindowFinal => "window_final",
            ContractEvent::RatingCompleted => "rating_completed",
            ContractEvent::SettlementFinalized => "settlement_finalized",
            ContractEvent::Cancel { .. } => "cancel",
            ContractEvent::Breach { .. } => "breach",
        }
    }

    /// An event the account manager records by hand, as the form names it (`event`), with the
    /// form's other fields; None for any other name.
    pub fn by_hand(code: &str, carrier: &str, tracking_number: &str, reason: &str) -> Option<Self> {
        Some(match code {
            "accepted" => ContractEvent::CreatorAccepted,
            "declined" => ContractEvent::CreatorDeclined,
            "sample_shipped" => ContractEvent::SampleShipped {
                carrier: carrier.trim().to_string(),
                tracking_number: tracking_number.trim().to_string(),
            },
            "sample_delivered" => ContractEvent::SampleDelivered,
            "cancel" => ContractEvent::Cancel {
                reason: reason.trim().to_string(),
            },
            "breach" => ContractEvent::Breach {
                reason: reason.trim().to_string(),
            },
            _ => return None,
        })
    }

    /// What only the account manager records (the creator's answer, the sample, the end of a
    /// contract); the other events follow from facts recorded elsewhere (a post, a snapshot).
    pub fn is_by_hand(&self) -> bool {
        matches!(
            self,
            ContractEvent::CreatorAccepted
                | ContractEvent::CreatorDeclined
                | ContractEvent::SampleShipped { .. }
                | ContractEvent::SampleDelivered
                | ContractEvent::Cancel { .. }
                | ContractEvent::Breach { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("this step is not allowed from the contract's current state")]
    NotAllowedFrom,
    #[error("sample steps apply only when the campaign needs a sample")]
    SampleStepsOnlyWithSample,
    #[error("a shipped sample needs a carrier and a tracking number")]
    CarrierAndTrackingRequired,
    #[error("a reason is required")]
    ReasonRequired,
}

impl StateError {
    pub fn key(&self) -> &'static str {
        match self {
            StateError::NotAllowedFrom => "contract.state_error.not_allowed_from",
            StateError::SampleStepsOnlyWithSample => {
                "contract.state_error.sample_steps_only_with_sample"
            }
            StateError::CarrierAndTrackingRequired => {
                "contract.state_error.carrier_and_tracking_required"
            }
            StateError::ReasonRequired => "contract.state_error.reason_required",
        }
    }
}

/// The state after `event`, per the SPEC §4 table. `Ok(from)` means the event is recorded
/// without a change of state (a further post or draft on a contract already past that step).
///
/// Decisions:
/// - Sample steps (`SampleShipped`, `SampleDelivered`) exist only when `sample_needed`.
/// - `DraftSubmitted` needs `review_enabled`; without content review drafts are not recorded and
///   accepted/sample_delivered go straight to published on `PostAdded`.
/// - A post (or draft) is accepted before the sample is recorded as delivered, from `accepted`
///   and from `sample_shipped` too: the creator may already own the product or the delivery may
///   not be recorded yet, and a real post must be recordable because the fixed fee accrues on it.
/// - Further posts in `published`/`tracking` (several deliverables) and further drafts in
///   `in_review`/`published`/`tracking` keep the state; from `evaluating` on the window is final
///   and posts are refused.
/// - Cancel from any state before rated; breach likewise but not from `proposed`, where the
///   creator has agreed to nothing yet (a refusal there is `CreatorDeclined`). Both need a
///   non-blank reason; the state is checked first.
pub fn next_state(
    from: ContractState,
    event: &ContractEvent,
    sample_needed: bool,
    review_enabled: bool,
) -> Result<ContractState, StateError> {
    use ContractEvent as E;
    use ContractState as S;
    match event {
        E::CreatorAccepted | E::CreatorDeclined if from != S::Proposed => {
            Err(StateError::NotAllowedFrom)
        }
        E::CreatorAccepted => Ok(S::Accepted),
        E::CreatorDeclined => Ok(S::Cancelled),
        E::SampleShipped { .. } | E::SampleDelivered if !sample_needed => {
            Err(StateError::SampleStepsOnlyWithSample)
        }
        E::SampleShipped {
            carrier,
            tracking_number,
        } => match from {
            S::Accepted if carrier.trim().is_empty() || tracking_number.trim().is_empty() => {
                Err(StateError::CarrierAndTrackingRequired)
            }
            S::Accepted => Ok(S::SampleShipped),
            _ => Err(StateError::NotAllowedFrom),
        },
        E::SampleDelivered => match from {
            S::SampleShipped => Ok(S::SampleDelivered),
            _ => Err(StateError::NotAllowedFrom),
        },
        E::DraftSubmitted => match from {
            _ if !review_enabled => Err(StateError::NotAllowedFrom),
            S::Accepted | S::SampleShipped | S::SampleDelivered => Ok(S::InReview),
            S::InReview | S::Published | S::Tracking => Ok(from),
            _ => Err(StateError::NotAllowedFrom),
        },
        E::PostAdded => match from {
            S::Accepted | S::SampleShipped | S::SampleDelivered | S::InReview => Ok(S::Published),
            S::Published | S::Tracking => Ok(from),
            _ => Err(StateError::NotAllowedFrom),
        },
        E::TrackingStarted => step(from, S::Published, S::Tracking),
        E::WindowFinal => step(from, S::Tracking, S::Evaluating),
        E::RatingCompleted => step(from, S::Evaluating, S::Rated),
        E::SettlementFinalized => step(from, S::Rated, S::Settled),
        E::Cancel { reason } => end(from, reason, S::Cancelled),
        E::Breach { .. } if from == S::Proposed => Err(StateError::NotAllowedFrom),
        E::Breach { reason } => end(from, reason, S::Breached),
    }
}

fn step(
    from: ContractState,
    expected: ContractState,
    to: ContractState,
) -> Result<ContractState, StateError> {
    if from == expected {
        Ok(to)
    } else {
        Err(StateError::NotAllowedFrom)
    }
}

fn end(from: ContractState, reason: &str, to: ContractState) -> Result<ContractState, StateError> {
    if !from.is_before_rated() {
        Err(StateError::NotAllowedFrom)
    } else if reason.trim().is_empty() {
        Err(StateError::ReasonRequired)
    } else {
        Ok(to)
    }
}

/// The account manager's tenant-wide defaults for new terms.
#[derive(Debug, Clone, PartialEq)]
pub struct TermsDefaults {
    /// The tenant's service fee, a fraction.
    pub service_fee_rate: Decimal,
    /// The tenant's fee model (commission only, or anything else: fixed plus commission).
    pub fee_model: FeeModel,
}

/// The terms form for an approved creator before anything is typed: the tenant's fee model and
/// service fee, the creator's quote per video as the fixed fee, the campaign's commission (10%
/// when it has none) and publishing window's end as the deadline, one video, the defaults for
/// days live and revisions, organic use only, one unit of the campaign's SKU when it needs a
/// sample, and a discount code from the creator's handle.
pub fn proposed_terms(
    campaign: &crate::campaigns::domain::Campaign,
    defaults: &TermsDefaults,
    handle: &str,
    quote_video: Option<Decimal>,
    quote_currency: Option<&str>,
) -> TermsInput {
    use crate::web::fmt::percent_of;
    TermsInput {
        fee_model: if defaults.fee_model == FeeModel::CommissionOnly {
            FeeModel::CommissionOnly.code().into()
        } else {
            FeeModel::FixedPlusCommission.code().into()
        },
        fixed_fee: quote_video.map(|q| q.to_string()).unwrap_or_default(),
        fixed_fee_currency: quote_currency.unwrap_or("USD").to_string(),
        commission_rate: campaign
            .commission_rate
            .map(percent_of)
            .unwrap_or_else(|| "10".into()),
        service_fee_rate: percent_of(defaults.service_fee_rate),
        videos: "1".into(),
        live_sessions: "0".into(),
        publish_deadline: campaign
            .publish_to
            .map(|d| d.to_string())
            .unwrap_or_default(),
        min_days_live: DEFAULT_MIN_DAYS_LIVE.to_string(),
        revisions_included: DEFAULT_REVISIONS.to_string(),
        usage_rights: "organic_only".into(),
        sample_sku: if campaign.sample_needed {
            campaign.sku.clone()
        } else {
            String::new()
        },
        sample_qty: if campaign.sample_needed {
            "1".into()
        } else {
            String::new()
        },
        discount_code: suggest_discount_code(handle),
        ..Default::default()
    }
}

/// The form for a stored version.
pub fn input_of(t: &Terms) -> TermsInput {
    use crate::web::fmt::percent_of;
    TermsInput {
        fee_model: t.fee_model.code().into(),
        fixed_fee: t.fixed_fee.map(|f| f.to_string()).unwrap_or_default(),
        fixed_fee_currency: t.fixed_fee_currency.clone().unwrap_or_default(),
        commission_rate: percent_of(t.commission_rate),
        service_fee_rate: percent_of(t.service_fee_rate),
        videos: t.videos.to_string(),
        live_sessions: t.live_sessions.to_string(),
        publish_deadline: t.publish_deadline.to_string(),
        min_days_live: t.min_days_live.to_string(),
        revisions_included: t.revisions_included.to_string(),
        usage_rights: t.usage_rights.code().into(),
        paid_ads_until: t.paid_ads_until.map(|d| d.to_string()).unwrap_or_default(),
        sample_sku: t.sample.as_ref().map(|s| s.sku.clone()).unwrap_or_default(),
        sample_qty: t
            .sample
            .as_ref()
            .map(|s| s.qty.to_string())
            .unwrap_or_default(),
        sample_cost: t
            .sample
            .as_ref()
            .and_then(|s| s.cost)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        sample_shipping: t
            .sample
            .as_ref()
            .and_then(|s| s.shipping)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        sample_cost_currency: t
            .sample
            .as_ref()
            .and_then(|s| s.cost_currency.clone())
            .unwrap_or_default(),
        sample_paid_by: match &t.sample {
            Some(s) if s.paid_by_agency => "agency".into(),
            Some(_) => "seller".into(),
            None => String::new(),
        },
        other_costs: t
            .other_costs
            .as_ref()
            .map(|o| o.amount.to_string())
            .unwrap_or_default(),
        other_costs_currency: t
            .other_costs
            .as_ref()
            .map(|o| o.currency.clone())
            .unwrap_or_default(),
        other_costs_label: t
            .other_costs
            .as_ref()
            .map(|o| o.label.clone())
            .unwrap_or_default(),
        discount_code: t.discount_code.clone(),
    }
}

/// Terms can be edited in place while Proposed; from Accepted on, a change is an amendment (a
/// new version, with a reason).
pub fn is_amendment(state: ContractState) -> bool {
    state != ContractState::Proposed
}

/// Whether the terms can change at all: not once settled, cancelled or breached (the record of
/// what was agreed must stay as it was). A rated contract can still be amended, e.g. to correct
/// a fee before its settlement is finalized.
pub fn terms_changeable(state: ContractState) -> bool {
    !state.is_final()
}

/// The fields [`diff_terms`] compares, in display order, with their label keys.
pub const TERM_FIELDS: &[(&str, &str)] = &[
    ("fee_model", "contract.field.fee_model"),
    ("fixed_fee", "contract.field.fixed_fee"),
    ("commission_rate", "contract.field.commission_rate"),
    ("service_fee_rate", "contract.field.service_fee_rate"),
    ("videos", "contract.field.videos"),
    ("live_sessions", "contract.field.live_sessions"),
    ("publish_deadline", "contract.field.publish_deadline"),
    ("min_days_live", "contract.field.min_days_live"),
    ("revisions_included", "contract.field.revisions_included"),
    ("usage_rights", "contract.field.usage_rights"),
    ("paid_ads_until", "contract.field.paid_ads_until"),
    ("sample_sku", "contract.field.sample_sku"),
    ("sample_qty", "contract.field.sample_qty"),
    ("sample_cost", "contract.field.sample_cost"),
    ("sample_shipping", "contract.field.sample_shipping"),
    ("other_costs", "contract.field.other_costs"),
    ("discount_code", "contract.field.discount_code"),
];

/// Shown for a value that is absent (no fixed fee, no sample, no paid-ads date).
pub const NONE_SHOWN: &str = "—";

/// Changes between two versions of the terms, for an amendment's summary: (field name, before,
/// after) as language-neutral display strings, in [`TERM_FIELDS`] order. Money shows with its
/// currency (`CNY 1,200.00`), rates as percents (`12.5%`), dates as `YYYY-MM-DD`; the fee model
/// and usage rights show as their codes (the page translates them with `label_key()`).
pub fn diff_terms(before: &Terms, after: &Terms) -> Vec<(&'static str, String, String)> {
    display_fields(before)
        .into_iter()
        .zip(display_fields(after))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((name, a), (_, b))| (name, a, b))
        .collect()
}

fn display_fields(t: &Terms) -> Vec<(&'static str, String)> {
    let money_or_none = |amount: Option<Decimal>, money_of: Option<Money>| match (amount, money_of)
    {
        (_, Some(m)) => money(m.amount, m.currency.code()),
        (Some(a), None) => a.to_string(),
        _ => NONE_SHOWN.to_string(),
    };
    let values = [
        t.fee_model.code().to_string(),
        money_or_none(t.fixed_fee, t.fixed_fee_money()),
        percent(t.commission_rate),
        percent(t.service_fee_rate),
        t.videos.to_string(),
        t.live_sessions.to_string(),
        t.publish_deadline.to_string(),
        t.min_days_live.to_string(),
        t.revisions_included.to_string(),
        t.usage_rights.code().to_string(),
        t.paid_ads_until
            .map_or_else(|| NONE_SHOWN.to_string(), |d| d.to_string()),
        t.sample
            .as_ref()
            .map_or_else(|| NONE_SHOWN.to_string(), |s| s.sku.clone()),
        t.sample
            .as_ref()
            .map_or_else(|| NONE_SHOWN.to_string(), |s| s.qty.to_string()),
        t.sample.as_ref().map_or_else(
            || NONE_SHOWN.to_string(),
            |s| money_or_none(s.cost, s.cost_money()),
        ),
        t.sample.as_ref().map_or_else(
            || NONE_SHOWN.to_string(),
            |s| money_or_none(s.shipping, s.shipping_money()),
        ),
        t.other_costs
            .as_ref()
            .map_or_else(|| NONE_SHOWN.to_string(), other_costs_shown),
        t.discount_code.clone(),
    ];
    TERM_FIELDS
        .iter()
        .map(|(name, _)| *name)
        .zip(values)
        .collect()
}

/// Other agreed costs as shown on the collaboration page and in an amendment's changes:
/// `Translator · CNY 300.00`.
pub fn other_costs_shown(o: &OtherCosts) -> String {
    let amount = o.money().map_or_else(
        || o.amount.to_string(),
        |m| money(m.amount, m.currency.code()),
    );
    format!("{} · {amount}", o.label)
}

/// 0.125 → `12.5%`.
fn percent(fraction: Decimal) -> String {
    format!("{}%", (fraction * HUNDRED).normalize())
}

const E_FEE_MODEL: &str = "contract.error.fee_model";
const E_FIXED_FEE_REQUIRED: &str = "contract.error.fixed_fee_required";
const E_FIXED_FEE_NOT_ALLOWED: &str = "contract.error.fixed_fee_not_allowed";
const E_AMOUNT_NUMBER: &str = "contract.error.amount_number";
const E_AMOUNT_POSITIVE: &str = "contract.error.amount_positive";
const E_AMOUNT_TOO_LARGE: &str = "contract.error.amount_too_large";
const E_AMOUNT_DECIMALS: &str = "contract.error.amount_decimals";
const E_CURRENCY: &str = "contract.error.currency";
const E_COMMISSION_REQUIRED: &str = "contract.error.commission_required";
const E_COMMISSION_NOT_ALLOWED: &str = "contract.error.commission_not_allowed";
const E_COMMISSION_POSITIVE: &str = "contract.error.commission_positive";
const E_COMMISSION_MAX: &str = "contract.error.commission_max";
const E_RATE_NUMBER: &str = "contract.error.rate_number";
const E_SERVICE_FEE_RANGE: &str = "contract.error.service_fee_range";
const E_VIDEOS: &str = "contract.error.videos";
const E_LIVE_SESSIONS: &str = "contract.error.live_sessions";
const E_DELIVERABLE_REQUIRED: &str = "contract.error.deliverable_required";
const E_DATE_FORMAT: &str = "contract.error.date_format";
const E_DEADLINE_REQUIRED: &str = "contract.error.deadline_required";
const E_DEADLINE_PAST: &str = "contract.error.deadline_past";
const E_DEADLINE_TOO_FAR: &str = "contract.error.deadline_too_far";
const E_MIN_DAYS_LIVE: &str = "contract.error.min_days_live";
const E_REVISIONS: &str = "contract.error.revisions";
const E_USAGE_RIGHTS: &str = "contract.error.usage_rights";
const E_PAID_ADS_UNTIL_REQUIRED: &str = "contract.error.paid_ads_until_required";
const E_PAID_ADS_UNTIL_AFTER_DEADLINE: &str = "contract.error.paid_ads_until_after_deadline";
const E_PAID_ADS_UNTIL_NOT_ALLOWED: &str = "contract.error.paid_ads_until_not_allowed";
const E_SAMPLE_SKU: &str = "contract.error.sample_sku";
const E_SAMPLE_QTY: &str = "contract.error.sample_qty";
const E_SAMPLE_COST_CURRENCY: &str = "contract.error.sample_cost_currency";
const E_SAMPLE_PAID_BY: &str = "contract.error.sample_paid_by";
const E_SAMPLE_PAID_BY_NEEDS_COST: &str = "contract.error.sample_paid_by_needs_cost";
const E_OTHER_COSTS_REQUIRED: &str = "contract.error.other_costs_required";
const E_OTHER_COSTS_LABEL: &str = "contract.error.other_costs_label";
const E_DISCOUNT_CODE_REQUIRED: &str = "contract.error.discount_code_required";
const E_DISCOUNT_CODE: &str = "contract.error.discount_code";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::lang::in_both_catalogues;
    use proptest::prelude::*;
    use std::collections::HashSet;
    use time::macros::date;

    /// Every message key of the terms form.
    const ERROR_KEYS: [&str; 34] = [
        E_FEE_MODEL,
        E_FIXED_FEE_REQUIRED,
        E_FIXED_FEE_NOT_ALLOWED,
        E_AMOUNT_NUMBER,
        E_AMOUNT_POSITIVE,
        E_AMOUNT_TOO_LARGE,
        E_AMOUNT_DECIMALS,
        E_CURRENCY,
        E_COMMISSION_REQUIRED,
        E_COMMISSION_NOT_ALLOWED,
        E_COMMISSION_POSITIVE,
        E_COMMISSION_MAX,
        E_RATE_NUMBER,
        E_SERVICE_FEE_RANGE,
        E_VIDEOS,
        E_LIVE_SESSIONS,
        E_DELIVERABLE_REQUIRED,
        E_DATE_FORMAT,
        E_DEADLINE_REQUIRED,
        E_DEADLINE_PAST,
        E_DEADLINE_TOO_FAR,
        E_MIN_DAYS_LIVE,
        E_REVISIONS,
        E_USAGE_RIGHTS,
        E_PAID_ADS_UNTIL_REQUIRED,
        E_PAID_ADS_UNTIL_AFTER_DEADLINE,
        E_PAID_ADS_UNTIL_NOT_ALLOWED,
        E_SAMPLE_SKU,
        E_SAMPLE_QTY,
        E_SAMPLE_COST_CURRENCY,
        E_OTHER_COSTS_REQUIRED,
        E_OTHER_COSTS_LABEL,
        E_DISCOUNT_CODE_REQUIRED,
        E_DISCOUNT_CODE,
    ];

    const TODAY: Date = date!(2026 - 03 - 01);

    fn dec(s: &str) -> Decimal {
        s.parse().expect("test literal")
    }

    fn input() -> TermsInput {
        TermsInput {
            fee_model: "fixed_plus_commission".into(),
            fixed_fee: "1,200".into(),
            fixed_fee_currency: "USD".into(),
            commission_rate: "12.5".into(),
            service_fee_rate: "10".into(),
            videos: "2".into(),
            live_sessions: "".into(),
            publish_deadline: "2026-04-15".into(),
            min_days_live: "45".into(),
            revisions_included: "3".into(),
            usage_rights: "organic_only".into(),
            paid_ads_until: "".into(),
            sample_sku: "LAMP-01".into(),
            sample_qty: "1".into(),
            sample_cost: "25.5".into(),
            sample_cost_currency: "CNY".into(),
            discount_code: "homewithhana27".into(),
            ..TermsInput::default()
        }
    }

    fn errors_of(input: &TermsInput, sample_needed: bool) -> FieldErrors {
        validate_terms(input, sample_needed, TODAY).expect_err("should be refused")
    }

    fn only_error(input: &TermsInput, sample_needed: bool, field: &str, key: &str) {
        let errors = errors_of(input, sample_needed);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors.get(field).copied(), Some(key), "{errors:?}");
    }

    #[test]
    fn fixed_plus_commission_terms_are_accepted_with_every_value_parsed() {
        let terms = validate_terms(&input(), true, TODAY).expect("valid");
        assert_eq!(terms.fee_model, FeeModel::FixedPlusCommission);
        assert_eq!(terms.fixed_fee, Some(dec("1200")));
        assert_eq!(terms.fixed_fee.map(|f| f.scale()), Some(2));
        assert_eq!(terms.fixed_fee_currency.as_deref(), Some("USD"));
        assert_eq!(terms.commission_rate, dec("0.125"));
        assert_eq!(terms.service_fee_rate, dec("0.10"));
        assert_eq!((terms.videos, terms.live_sessions), (2, 0));
        assert_eq!(terms.deliverables(), 2);
        assert_eq!(terms.publish_deadline, date!(2026 - 04 - 15));
        assert_eq!((terms.min_days_live, terms.revisions_included), (45, 3));
        assert_eq!(terms.usage_rights, UsageRights::OrganicOnly);
        assert_eq!(terms.paid_ads_until, None);
        assert_eq!(
            terms.sample,
            Some(Sample {
                sku: "LAMP-01".into(),
                qty: 1,
                cost: Some(dec("25.50")),
                shipping: None,
                cost_currency: Some("CNY".into()),
                paid_by_agency: false,
            })
        );
        assert_eq!(terms.other_costs, None);
        assert_eq!(terms.discount_code, "HOMEWITHHANA27");
    }

    #[test]
    fn the_agency_paying_for_the_samples_is_kept_and_needs_a_cost() {
        let mut i = input();
        i.sample_paid_by = "agency".into();
        let terms = validate_terms(&i, true, TODAY).unwrap();
        assert!(terms.sample.as_ref().unwrap().paid_by_agency);
        // The flag survives the round trip through the stored JSON and back into the form.
        let json = serde_json::to_value(&terms).unwrap();
        let back: Terms = serde_json::from_value(json).unwrap();
        assert_eq!(input_of(&back).sample_paid_by, "agency");
        // The seller paying (or the field absent, as in older versions) is no line at all.
        i.sample_paid_by = "seller".into();
        let terms = validate_terms(&i, true, TODAY).unwrap();
        assert!(!terms.sample.unwrap().paid_by_agency);
        // Paid by the agency but nothing to bill: refused next to the field.
        i.sample_paid_by = "agency".into();
        i.sample_cost = String::new();
        only_error(&i, true, "sample_paid_by", E_SAMPLE_PAID_BY_NEEDS_COST);
        i.sample_paid_by = "platform".into();
        only_error(&i, true, "sample_paid_by", E_SAMPLE_PAID_BY);
    }

    #[test]
    fn sample_shipping_and_other_agreed_costs_are_kept_at_their_currencys_minor_units() {
        let mut i = input();
        i.sample_shipping = "12".into();
        i.other_costs = "1,300.5".into();
        i.other_costs_currency = "usd".into();
        i.other_costs_label = " Translator ".into();
        let terms = validate_terms(&i, true, TODAY).expect("valid");
        let sample = terms.sample.clone().expect("sample");
        assert_eq!(sample.shipping, Some(dec("12.00")));
        assert_eq!(
            sample.shipping_money().map(|m| m.currency.code()),
            Some("CNY")
        );
        assert_eq!(
            terms.other_costs,
            Some(OtherCosts {
                label: "Translator".into(),
                amount: dec("1300.50"),
                currency: "USD".into(),
            })
        );
        // Shipping alone (no sample cost) still needs the sample's currency.
        i.sample_cost = "".into();
        let terms = validate_terms(&i, true, TODAY).expect("valid");
        let sample = terms.sample.expect("sample");
        assert_eq!((sample.cost, sample.shipping), (None, Some(dec("12.00"))));
        i.sample_cost_currency = "".into();
        only_error(&i, true, "sample_cost_currency", E_SAMPLE_COST_CURRENCY);
        // The form round-trips.
        let mut i = input();
        i.sample_shipping = "8.5".into();
        i.other_costs = "300".into();
        i.other_costs_currency = "CNY".into();
        i.other_costs_label = "Booth".into();
        let terms = validate_terms(&i, true, TODAY).expect("valid");
        assert_eq!(
            validate_terms(&input_of(&terms), true, TODAY).expect("valid"),
            terms
        );
    }

    #[test]
    fn negative_zero_or_over_precise_costs_and_a_cost_without_a_label_are_refused() {
        for (shipping, key) in [
            ("-5", E_AMOUNT_POSITIVE),
            ("0", E_AMOUNT_POSITIVE),
            ("1.234", E_AMOUNT_DECIMALS),
            ("abc", E_AMOUNT_NUMBER),
        ] {
            let mut i = input();
            i.sample_shipping = shipping.into();
            only_error(&i, true, "sample_shipping", key);
        }
        let mut i = input();
        i.other_costs = "-100".into();
        i.other_costs_currency = "CNY".into();
        i.other_costs_label = "Booth".into();
        only_error(&i, true, "other_costs", E_AMOUNT_POSITIVE);
        i.other_costs = "100".into();
        i.other_costs_currency = "JPY".into();
        i.other_costs = "100.5".into();
        only_error(&i, true, "other_costs", E_AMOUNT_DECIMALS);
        i.other_costs = "100".into();
        i.other_costs_label = "".into();
        only_error(&i, true, "other_costs_label", E_OTHER_COSTS_LABEL);
        i.other_costs_label = "x".repeat(MAX_OTHER_COSTS_LABEL_CHARS + 1);
        only_error(&i, true, "other_costs_label", E_OTHER_COSTS_LABEL);
        i.other_costs_label = "a\u{0}b".into();
        only_error(&i, true, "other_costs_label", E_OTHER_COSTS_LABEL);
        i.other_costs_label = "Booth".into();
        i.other_costs = "".into();
        only_error(&i, true, "other_costs", E_OTHER_COSTS_REQUIRED);
        i.other_costs = "100".into();
        i.other_costs_currency = "".into();
        only_error(&i, true, "other_costs_currency", E_CURRENCY);
    }

    #[test]
    fn terms_stored_before_shipping_and_other_costs_still_read() {
        let terms = validate_terms(&input(), true, TODAY).expect("valid");
        let json = serde_json::to_value(&terms).expect("json");
        assert!(json.get("other_costs").is_none());
        assert!(json["sample"].get("shipping").is_none());
        assert_eq!(serde_json::from_value::<Terms>(json).expect("read"), terms);
    }

    #[test]
    fn fixed_fee_terms_are_accepted_with_an_empty_or_zero_commission() {
        for commission in ["", "0", "0%"] {
            let mut i = input();
            i.fee_model = "fixed".into();
            i.fixed_fee = "50000".into();
            i.fixed_fee_currency = "JPY".into();
            i.commission_rate = commission.into();
            let terms = validate_terms(&i, false, TODAY).expect("valid");
            assert_eq!(terms.fee_model, FeeModel::Fixed);
            assert_eq!(terms.fixed_fee, Some(dec("50000")));
            assert_eq!(terms.commission_rate, Decimal::ZERO);
            assert_eq!(terms.sample, None);
        }
    }

    #[test]
    fn commission_only_terms_are_accepted_without_a_fixed_fee_and_ignore_the_currency_select() {
        let mut i = input();
        i.fee_model = "commission_only".into();
        i.fixed_fee = "".into();
        i.fixed_fee_currency = "USD".into();
        i.commission_rate = "20%".into();
        let terms = validate_terms(&i, false, TODAY).expect("valid");
        assert_eq!(terms.fee_model, FeeModel::CommissionOnly);
        assert_eq!((terms.fixed_fee, terms.fixed_fee_currency), (None, None));
        assert_eq!(terms.commission_rate, dec("0.2"));
    }

    #[test]
    fn paid_ads_terms_are_accepted_with_a_date_after_the_deadline() {
        let mut i = input();
        i.usage_rights = "paid_ads_until".into();
        i.paid_ads_until = "2026-10-01".into();
        let terms = validate_terms(&i, false, TODAY).expect("valid");
        assert_eq!(terms.usage_rights, UsageRights::PaidAdsUntil);
        assert_eq!(terms.paid_ads_until, Some(date!(2026 - 10 - 01)));
    }

    #[test]
    fn empty_min_days_and_revisions_take_the_defaults() {
        let mut i = input();
        i.min_days_live = " ".into();
        i.revisions_included = "".into();
        let terms = validate_terms(&i, false, TODAY).expect("valid");
        assert_eq!(terms.min_days_live, DEFAULT_MIN_DAYS_LIVE);
        assert_eq!(terms.revisions_included, DEFAULT_REVISIONS);
        assert_eq!((DEFAULT_MIN_DAYS_LIVE, DEFAULT_REVISIONS), (30, 2));
    }

    #[test]
    fn a_commission_of_85_percent_is_refused_and_80_accepted() {
        let mut i = input();
        i.commission_rate = "85".into();
        only_error(&i, true, "commission_rate", E_COMMISSION_MAX);
        i.commission_rate = "80".into();
        assert!(validate_terms(&i, true, TODAY).is_ok());
    }

    #[test]
    fn a_zero_negative_or_missing_commission_is_refused_when_the_model_has_one() {
        let mut i = input();
        for (typed, key) in [
            ("0", E_COMMISSION_POSITIVE),
            ("-5", E_COMMISSION_POSITIVE),
            ("", E_COMMISSION_REQUIRED),
            ("abc", E_RATE_NUMBER),
            ("12.345", E_RATE_NUMBER),
        ] {
            i.commission_rate = typed.into();
            only_error(&i, true, "commission_rate", key);
        }
    }

    #[test]
    fn a_commission_on_fixed_fee_terms_is_refused() {
        let mut i = input();
        i.fee_model = "fixed".into();
        only_error(&i, true, "commission_rate", E_COMMISSION_NOT_ALLOWED);
    }

    #[test]
    fn a_missing_fixed_fee_is_refused_for_fixed_terms() {
        let mut i = input();
        i.fee_model = "fixed".into();
        i.commission_rate = "".into();
        i.fixed_fee = " ".into();
        only_error(&i, true, "fixed_fee", E_FIXED_FEE_REQUIRED);
    }

    #[test]
    fn a_fixed_fee_given_for_commission_only_terms_is_refused() {
        let mut i = input();
        i.fee_model = "commission_only".into();
        only_error(&i, true, "fixed_fee", E_FIXED_FEE_NOT_ALLOWED);
    }

    #[test]
    fn fixed_fee_amounts_are_checked() {
        let mut i = input();
        for (typed, key) in [
            ("0", E_AMOUNT_POSITIVE),
            ("-10", E_AMOUNT_POSITIVE),
            ("1,5", E_AMOUNT_NUMBER),
            ("12,00.5", E_AMOUNT_NUMBER),
            ("ten", E_AMOUNT_NUMBER),
            ("1e3", E_AMOUNT_NUMBER),
            ("12.", E_AMOUNT_NUMBER),
            ("1000000000000", E_AMOUNT_TOO_LARGE),
            ("10.005", E_AMOUNT_DECIMALS),
        ] {
            i.fixed_fee = typed.into();
            only_error(&i, true, "fixed_fee", key);
        }
    }

    #[test]
    fn too_many_decimals_for_jpy_are_refused_but_trailing_zeros_are_not() {
        let mut i = input();
        i.fixed_fee_currency = "JPY".into();
        i.fixed_fee = "5000.5".into();
        only_error(&i, true, "fixed_fee", E_AMOUNT_DECIMALS);
        i.fixed_fee = "5000.00".into();
        let terms = validate_terms(&i, true, TODAY).expect("valid");
        assert_eq!(terms.fixed_fee.map(|f| f.to_string()), Some("5000".into()));
    }

    #[test]
    fn an_unknown_currency_is_refused() {
        let mut i = input();
        i.fixed_fee_currency = "XYZ".into();
        only_error(&i, true, "fixed_fee_currency", E_CURRENCY);
        i.fixed_fee_currency = "usd".into();
        assert!(validate_terms(&i, true, TODAY).is_ok());
    }

    #[test]
    fn an_unknown_fee_model_is_refused_without_judging_the_fee_fields() {
        let mut i = input();
        i.fee_model = "barter".into();
        only_error(&i, true, "fee_model", E_FEE_MODEL);
    }

    #[test]
    fn the_service_fee_must_be_between_5_and_20_percent() {
        let mut i = input();
        for (typed, ok) in [
            ("5", true),
            ("20%", true),
            ("12.5", true),
            ("4.99", false),
            ("20.01", false),
        ] {
            i.service_fee_rate = typed.into();
            if ok {
                assert!(validate_terms(&i, true, TODAY).is_ok(), "{typed}");
            } else {
                only_error(&i, true, "service_fee_rate", E_SERVICE_FEE_RANGE);
            }
        }
        i.service_fee_rate = "".into();
        only_error(&i, true, "service_fee_rate", E_RATE_NUMBER);
    }

    #[test]
    fn terms_without_any_deliverable_are_refused() {
        let mut i = input();
        i.videos = "0".into();
        i.live_sessions = "".into();
        only_error(&i, true, "videos", E_DELIVERABLE_REQUIRED);
        i.live_sessions = "1".into();
        assert!(validate_terms(&i, true, TODAY).is_ok());
    }

    #[test]
    fn more_than_50_of_a_deliverable_or_a_non_number_is_refused() {
        let mut i = input();
        i.videos = "51".into();
        only_error(&i, true, "videos", E_VIDEOS);
        i.videos = "2".into();
        i.live_sessions = "1.5".into();
        only_error(&i, true, "live_sessions", E_LIVE_SESSIONS);
    }

    #[test]
    fn a_deadline_today_or_in_the_past_is_refused() {
        let mut i = input();
        for typed in ["2026-03-01", "2025-12-31"] {
            i.publish_deadline = typed.into();
            only_error(&i, true, "publish_deadline", E_DEADLINE_PAST);
        }
        i.publish_deadline = "2026-03-02".into();
        assert!(validate_terms(&i, true, TODAY).is_ok());
    }

    #[test]
    fn a_missing_malformed_or_far_off_deadline_is_refused() {
        let mut i = input();
        for (typed, key) in [
            ("", E_DEADLINE_REQUIRED),
            ("15/04/2026", E_DATE_FORMAT),
            ("2026-02-30", E_DATE_FORMAT),
            ("2062-04-15", E_DEADLINE_TOO_FAR),
        ] {
            i.publish_deadline = typed.into();
            only_error(&i, true, "publish_deadline", key);
        }
    }

    #[test]
    fn min_days_live_and_revisions_out_of_range_are_refused() {
        let mut i = input();
        i.min_days_live = "0".into();
        only_error(&i, true, "min_days_live", E_MIN_DAYS_LIVE);
        i.min_days_live = "366".into();
        only_error(&i, true, "min_days_live", E_MIN_DAYS_LIVE);
        i.min_days_live = "365".into();
        i.revisions_included = "11".into();
        only_error(&i, true, "revisions_included", E_REVISIONS);
        i.revisions_included = "0".into();
        assert!(validate_terms(&i, true, TODAY).is_ok());
    }

    #[test]
    fn a_paid_ads_date_missing_or_not_after_the_deadline_is_refused() {
        let mut i = input();
        i.usage_rights = "paid_ads_until".into();
        i.paid_ads_until = "".into();
        only_error(&i, true, "paid_ads_until", E_PAID_ADS_UNTIL_REQUIRED);
        for typed in ["2026-04-15", "2026-04-01"] {
            i.paid_ads_until = typed.into();
            only_error(&i, true, "paid_ads_until", E_PAID_ADS_UNTIL_AFTER_DEADLINE);
        }
    }

    #[test]
    fn a_paid_ads_date_with_other_usage_rights_is_refused() {
        let mut i = input();
        i.usage_rights = "no_secondary_use".into();
        i.paid_ads_until = "2026-10-01".into();
        only_error(&i, true, "paid_ads_until", E_PAID_ADS_UNTIL_NOT_ALLOWED);
        i.usage_rights = "forever".into();
        only_error(&i, true, "usage_rights", E_USAGE_RIGHTS);
    }

    #[test]
    fn missing_sample_fields_are_refused_when_a_sample_is_needed() {
        let mut i = input();
        i.sample_sku = " ".into();
        i.sample_qty = "".into();
        let errors = errors_of(&i, true);
        assert_eq!(errors.get("sample_sku").copied(), Some(E_SAMPLE_SKU));
        assert_eq!(errors.get("sample_qty").copied(), Some(E_SAMPLE_QTY));
        assert_eq!(errors.len(), 2);
        i.sample_sku = "LAMP-01".into();
        i.sample_qty = "0".into();
        only_error(&i, true, "sample_qty", E_SAMPLE_QTY);
    }

    #[test]
    fn a_sample_cost_needs_a_currency_and_an_empty_cost_is_fine() {
        let mut i = input();
        i.sample_cost_currency = "".into();
        only_error(&i, true, "sample_cost_currency", E_SAMPLE_COST_CURRENCY);
        i.sample_cost = "".into();
        let terms = validate_terms(&i, true, TODAY).expect("valid");
        let sample = terms.sample.expect("sample");
        assert_eq!((sample.cost, sample.cost_currency), (None, None));
    }

    #[test]
    fn sample_fields_are_ignored_when_no_sample_is_needed() {
        let mut i = input();
        i.sample_sku = "".into();
        i.sample_qty = "many".into();
        i.sample_cost = "abc".into();
        let terms = validate_terms(&i, false, TODAY).expect("valid");
        assert_eq!(terms.sample, None);
    }

    #[test]
    fn a_bad_or_missing_discount_code_is_refused() {
        let mut i = input();
        i.discount_code = "SUMMER 20".into();
        only_error(&i, true, "discount_code", E_DISCOUNT_CODE);
        i.discount_code = "".into();
        only_error(&i, true, "discount_code", E_DISCOUNT_CODE_REQUIRED);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let i = TermsInput::default();
        let errors = errors_of(&i, true);
        for field in [
            "fee_model",
            "service_fee_rate",
            "videos",
            "publish_deadline",
            "usage_rights",
            "sample_sku",
            "sample_qty",
            "discount_code",
        ] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn discount_codes_are_upper_cased_and_checked() {
        assert_eq!(normalize_discount_code(" save10 "), Ok("SAVE10".into()));
        assert_eq!(normalize_discount_code("ＳＡＶＥ１０"), Ok("SAVE10".into()));
        assert_eq!(normalize_discount_code("ABCD"), Ok("ABCD".into()));
        assert_eq!(
            normalize_discount_code("A".repeat(20).as_str()),
            Ok("A".repeat(20))
        );
        for bad in ["ABC", "SAVE-10", "SAVE 10", "ÉTÉ2026", &"A".repeat(21)] {
            assert_eq!(normalize_discount_code(bad), Err(E_DISCOUNT_CODE), "{bad}");
        }
        assert_eq!(normalize_discount_code("  "), Err(E_DISCOUNT_CODE_REQUIRED));
    }

    #[test]
    fn a_suggested_discount_code_is_the_handle_plus_two_to_four_digits() {
        for _ in 0..200 {
            let code = suggest_discount_code("@home.with.hana_");
            let (prefix, digits) = code.split_at(10);
            assert_eq!(prefix, "HOMEWITHHA");
            assert!((2..=4).contains(&digits.len()), "{code}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
        assert!(suggest_discount_code("lu").starts_with("LU"));
        assert!(suggest_discount_code("小红").starts_with("SAVE"));
    }

    #[test]
    fn slugs_are_8_characters_of_the_alphabet_and_differ_across_10000_draws() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let slug = new_link_slug();
            assert!(is_link_slug(&slug), "{slug}");
            assert!(!slug.contains(['0', 'o', '1', 'l', 'i']), "{slug}");
            assert!(seen.insert(slug));
        }
        assert!(!is_link_slug("abcdefgo"));
        assert!(!is_link_slug("abcdefg"));
        assert!(!is_link_slug("ABCDEFGH"));
    }

    #[test]
    fn codes_round_trip_and_match_serde() {
        for m in FeeModel::ALL {
            assert_eq!(FeeModel::parse(m.code()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).expect("json"),
                format!("\"{}\"", m.code())
            );
        }
        for u in UsageRights::ALL {
            assert_eq!(UsageRights::parse(u.code()), Some(u));
            assert_eq!(
                serde_json::to_string(&u).expect("json"),
                format!("\"{}\"", u.code())
            );
        }
        for s in ContractState::ALL {
            assert_eq!(ContractState::parse(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).expect("json"),
                format!("\"{}\"", s.code())
            );
        }
    }

    #[test]
    fn terms_round_trip_through_json_with_iso_dates_and_decimal_strings() {
        let mut i = input();
        i.usage_rights = "paid_ads_until".into();
        i.paid_ads_until = "2026-10-01".into();
        let terms = validate_terms(&i, true, TODAY).expect("valid");
        let json = serde_json::to_string(&terms).expect("json");
        assert!(
            json.contains("\"publish_deadline\":\"2026-04-15\""),
            "{json}"
        );
        assert!(json.contains("\"fixed_fee\":\"1200.00\""), "{json}");
        let back: Terms = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, terms);
    }

    use ContractEvent as E;
    use ContractState as S;

    fn shipped() -> ContractEvent {
        E::SampleShipped {
            carrier: "DHL".into(),
            tracking_number: "JD0146000012345".into(),
        }
    }

    fn cancel() -> ContractEvent {
        E::Cancel {
            reason: "seller paused the campaign".into(),
        }
    }

    fn breach() -> ContractEvent {
        E::Breach {
            reason: "post deleted after 3 days".into(),
        }
    }

    fn all_events() -> Vec<ContractEvent> {
        vec![
            E::CreatorAccepted,
            E::CreatorDeclined,
            shipped(),
            E::SampleDelivered,
            E::DraftSubmitted,
            E::PostAdded,
            E::TrackingStarted,
            E::WindowFinal,
            E::RatingCompleted,
            E::SettlementFinalized,
            cancel(),
            breach(),
        ]
    }

    /// Every allowed (from, event, sample needed, review enabled) → to; anything else is refused.
    fn allowed(
        from: S,
        event: &ContractEvent,
        sample_needed: bool,
        review_enabled: bool,
    ) -> Option<S> {
        let before_rated = !matches!(from, S::Rated | S::Settled | S::Cancelled | S::Breached);
        match (from, event) {
            (S::Proposed, E::CreatorAccepted) => Some(S::Accepted),
            (S::Proposed, E::CreatorDeclined) => Some(S::Cancelled),
            (S::Accepted, E::SampleShipped { .. }) if sample_needed => Some(S::SampleShipped),
            (S::SampleShipped, E::SampleDelivered) if sample_needed => Some(S::SampleDelivered),
            (S::Accepted | S::SampleShipped | S::SampleDelivered, E::DraftSubmitted)
                if review_enabled =>
            {
                Some(S::InReview)
            }
            (S::InReview | S::Published | S::Tracking, E::DraftSubmitted) if review_enabled => {
                Some(from)
            }
            (S::Accepted | S::SampleShipped | S::SampleDelivered | S::InReview, E::PostAdded) => {
                Some(S::Published)
            }
            (S::Published | S::Tracking, E::PostAdded) => Some(from),
            (S::Published, E::TrackingStarted) => Some(S::Tracking),
            (S::Tracking, E::WindowFinal) => Some(S::Evaluating),
            (S::Evaluating, E::RatingCompleted) => Some(S::Rated),
            (S::Rated, E::SettlementFinalized) => Some(S::Settled),
            (_, E::Cancel { .. }) if before_rated => Some(S::Cancelled),
            (_, E::Breach { .. }) if before_rated && from != S::Proposed => Some(S::Breached),
            _ => None,
        }
    }

    #[test]
    fn every_transition_in_the_table_is_allowed() {
        let table = [
            (S::Proposed, E::CreatorAccepted, S::Accepted),
            (S::Proposed, E::CreatorDeclined, S::Cancelled),
            (S::Proposed, cancel(), S::Cancelled),
            (S::Accepted, shipped(), S::SampleShipped),
            (S::SampleShipped, E::SampleDelivered, S::SampleDelivered),
            (S::Accepted, E::DraftSubmitted, S::InReview),
            (S::SampleDelivered, E::DraftSubmitted, S::InReview),
            (S::Accepted, E::PostAdded, S::Published),
            (S::SampleDelivered, E::PostAdded, S::Published),
            (S::InReview, E::PostAdded, S::Published),
            (S::Published, E::TrackingStarted, S::Tracking),
            (S::Tracking, E::WindowFinal, S::Evaluating),
            (S::Evaluating, E::RatingCompleted, S::Rated),
            (S::Rated, E::SettlementFinalized, S::Settled),
        ];
        for (from, event, to) in table {
            assert_eq!(
                next_state(from, &event, true, true),
                Ok(to),
                "{from:?} {event:?}"
            );
        }
        for from in [
            S::Proposed,
            S::Accepted,
            S::SampleShipped,
            S::SampleDelivered,
            S::InReview,
            S::Published,
            S::Tracking,
            S::Evaluating,
        ] {
            assert_eq!(next_state(from, &cancel(), true, true), Ok(S::Cancelled));
            if from != S::Proposed {
                assert_eq!(next_state(from, &breach(), true, true), Ok(S::Breached));
            }
        }
    }

    #[test]
    fn without_content_review_a_post_goes_straight_to_published_and_drafts_are_refused() {
        assert_eq!(
            next_state(S::Accepted, &E::PostAdded, false, false),
            Ok(S::Published)
        );
        assert_eq!(
            next_state(S::SampleDelivered, &E::PostAdded, true, false),
            Ok(S::Published)
        );
        assert_eq!(
            next_state(S::Accepted, &E::DraftSubmitted, false, false),
            Err(StateError::NotAllowedFrom)
        );
    }

    #[test]
    fn a_post_is_accepted_before_the_sample_is_delivered() {
        assert_eq!(
            next_state(S::Accepted, &E::PostAdded, true, false),
            Ok(S::Published)
        );
        assert_eq!(
            next_state(S::SampleShipped, &E::PostAdded, true, false),
            Ok(S::Published)
        );
    }

    #[test]
    fn further_posts_keep_the_state_until_the_window_is_final() {
        assert_eq!(
            next_state(S::Published, &E::PostAdded, false, false),
            Ok(S::Published)
        );
        assert_eq!(
            next_state(S::Tracking, &E::PostAdded, false, false),
            Ok(S::Tracking)
        );
        assert_eq!(
            next_state(S::Evaluating, &E::PostAdded, false, false),
            Err(StateError::NotAllowedFrom)
        );
    }

    #[test]
    fn sample_steps_without_a_sample_are_refused() {
        assert_eq!(
            next_state(S::Accepted, &shipped(), false, true),
            Err(StateError::SampleStepsOnlyWithSample)
        );
        assert_eq!(
            next_state(S::SampleShipped, &E::SampleDelivered, false, true),
            Err(StateError::SampleStepsOnlyWithSample)
        );
    }

    #[test]
    fn shipping_without_carrier_or_tracking_number_is_refused() {
        for (carrier, tracking_number) in [("", "JD01"), ("DHL", " "), ("", "")] {
            let event = E::SampleShipped {
                carrier: carrier.into(),
                tracking_number: tracking_number.into(),
            };
            assert_eq!(
                next_state(S::Accepted, &event, true, false),
                Err(StateError::CarrierAndTrackingRequired)
            );
        }
    }

    #[test]
    fn delivery_before_shipment_and_a_second_shipment_are_refused() {
        assert_eq!(
            next_state(S::Accepted, &E::SampleDelivered, true, false),
            Err(StateError::NotAllowedFrom)
        );
        assert_eq!(
            next_state(S::SampleShipped, &shipped(), true, false),
            Err(StateError::NotAllowedFrom)
        );
    }

    #[test]
    fn cancelling_after_rated_is_refused() {
        for from in [S::Rated, S::Settled, S::Cancelled, S::Breached] {
            assert_eq!(
                next_state(from, &cancel(), true, true),
                Err(StateError::NotAllowedFrom)
            );
            assert_eq!(
                next_state(from, &breach(), true, true),
                Err(StateError::NotAllowedFrom)
            );
        }
    }

    #[test]
    fn cancelling_or_breaching_without_a_reason_is_refused() {
        let blank = || " \t".to_string();
        assert_eq!(
            next_state(S::Tracking, &E::Cancel { reason: blank() }, false, false),
            Err(StateError::ReasonRequired)
        );
        assert_eq!(
            next_state(S::Tracking, &E::Breach { reason: blank() }, false, false),
            Err(StateError::ReasonRequired)
        );
    }

    #[test]
    fn a_breach_before_acceptance_is_refused() {
        assert_eq!(
            next_state(S::Proposed, &breach(), false, false),
            Err(StateError::NotAllowedFrom)
        );
    }

    #[test]
    fn the_state_machine_allows_exactly_the_listed_transitions() {
        for from in ContractState::ALL {
            for event in all_events() {
                for sample_needed in [false, true] {
                    for review_enabled in [false, true] {
                        let got = next_state(from, &event, sample_needed, review_enabled).ok();
                        let want = allowed(from, &event, sample_needed, review_enabled);
                        assert_eq!(
                            got, want,
                            "{from:?} {event:?} sample={sample_needed} review={review_enabled}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn state_errors_have_catalogue_keys() {
        for e in [
            StateError::NotAllowedFrom,
            StateError::SampleStepsOnlyWithSample,
            StateError::CarrierAndTrackingRequired,
            StateError::ReasonRequired,
        ] {
            assert!(in_both_catalogues(e.key()), "{e:?}");
        }
    }

    #[test]
    fn every_key_this_module_names_is_in_the_catalogue_once_with_both_texts() {
        let mut keys = HashSet::new();
        for key in ERROR_KEYS {
            assert!(keys.insert(key), "duplicate {key}");
            assert!(key.starts_with("contract."), "{key}");
            assert!(in_both_catalogues(key), "{key}");
        }
        let named = FeeModel::ALL
            .iter()
            .map(|m| m.label_key())
            .chain(UsageRights::ALL.iter().map(|u| u.label_key()))
            .chain(ContractState::ALL.iter().map(|s| s.label_key()))
            .chain(TERM_FIELDS.iter().map(|(_, k)| *k));
        for key in named {
            assert!(key.starts_with("contract."), "{key}");
            assert!(in_both_catalogues(key), "{key}");
        }
        let errors = errors_of(&TermsInput::default(), true);
        for key in errors.values() {
            assert!(keys.contains(key), "{key}");
        }
    }

    #[test]
    fn terms_are_amended_from_accepted_on_and_frozen_once_final() {
        assert!(!is_amendment(S::Proposed));
        for s in ContractState::ALL.into_iter().filter(|s| *s != S::Proposed) {
            assert!(is_amendment(s), "{s:?}");
        }
        assert!(terms_changeable(S::Proposed));
        assert!(terms_changeable(S::Rated));
        for s in [S::Settled, S::Cancelled, S::Breached] {
            assert!(!terms_changeable(s), "{s:?}");
        }
    }

    #[test]
    fn diff_terms_lists_exactly_the_changed_fields() {
        let before = validate_terms(&input(), true, TODAY).expect("valid");
        assert!(diff_terms(&before, &before).is_empty());

        let mut i = input();
        i.commission_rate = "15".into();
        i.fixed_fee = "1500".into();
        i.publish_deadline = "2026-04-30".into();
        i.sample_qty = "2".into();
        let after = validate_terms(&i, true, TODAY).expect("valid");
        assert_eq!(
            diff_terms(&before, &after),
            vec![
                (
                    "fixed_fee",
                    "USD\u{a0}1,200.00".into(),
                    "USD\u{a0}1,500.00".into()
                ),
                ("commission_rate", "12.5%".into(), "15%".into()),
                ("publish_deadline", "2026-04-15".into(), "2026-04-30".into()),
                ("sample_qty", "1".into(), "2".into()),
            ]
        );

        let mut no_sample = after.clone();
        no_sample.sample = None;
        let changed: Vec<_> = diff_terms(&after, &no_sample)
            .into_iter()
            .map(|(f, _, to)| (f, to))
            .collect();
        assert_eq!(
            changed,
            vec![
                ("sample_sku", NONE_SHOWN.to_string()),
                ("sample_qty", NONE_SHOWN.to_string()),
                ("sample_cost", NONE_SHOWN.to_string()),
            ]
        );
    }

    #[test]
    fn every_event_recorded_by_hand_reads_back_from_its_form_name() {
        for (code, event) in [
            ("accepted", ContractEvent::CreatorAccepted),
            ("declined", ContractEvent::CreatorDeclined),
            (
                "sample_shipped",
                ContractEvent::SampleShipped {
                    carrier: "SF".into(),
                    tracking_number: "SF123".into(),
                },
            ),
            ("sample_delivered", ContractEvent::SampleDelivered),
            (
                "cancel",
                ContractEvent::Cancel {
                    reason: "budget cut".into(),
                },
            ),
            (
                "breach",
                ContractEvent::Breach {
                    reason: "budget cut".into(),
                },
            ),
        ] {
            assert_eq!(event.code(), code);
            assert!(event.is_by_hand(), "{event:?}");
            assert_eq!(
                ContractEvent::by_hand(code, " SF ", "SF123 ", " budget cut "),
                Some(event)
            );
        }
        for event in [
            ContractEvent::DraftSubmitted,
            ContractEvent::PostAdded,
            ContractEvent::TrackingStarted,
            ContractEvent::WindowFinal,
            ContractEvent::RatingCompleted,
            ContractEvent::SettlementFinalized,
        ] {
            assert!(!event.is_by_hand(), "{event:?}");
            assert_eq!(ContractEvent::by_hand(event.code(), "", "", ""), None);
        }
        assert_eq!(ContractEvent::by_hand("publish", "", "", ""), None);
    }

    #[test]
    fn proposed_terms_start_from_the_tenant_the_campaign_and_the_creator() {
        let campaign = crate::campaigns::domain::Campaign {
            commission_rate: Some(dec("0.125")),
            publish_to: Some(date!(2026 - 04 - 15)),
            sample_needed: true,
            sku: "LUMI-01".into(),
            ..Default::default()
        };
        let defaults = TermsDefaults {
            service_fee_rate: dec("0.10"),
            fee_model: FeeModel::FixedPlusCommission,
        };
        let input = proposed_terms(&campaign, &defaults, "mia.home", Some(dec("800")), None);
        assert_eq!(input.fee_model, "fixed_plus_commission");
        assert_eq!(input.fixed_fee, "800");
        assert_eq!(input.fixed_fee_currency, "USD");
        assert_eq!(input.commission_rate, "12.5");
        assert_eq!(input.service_fee_rate, "10");
        assert_eq!(input.publish_deadline, "2026-04-15");
        assert_eq!(
            (input.sample_sku.as_str(), input.sample_qty.as_str()),
            ("LUMI-01", "1")
        );
        // A code from the handle (with a random number).
        assert!(
            input.discount_code.starts_with("MIAHOME"),
            "{}",
            input.discount_code
        );
        // What the form proposes is valid as it stands, and a stored version's form reads back
        // as the same terms.
        let terms = validate_terms(&input, true, TODAY).expect("valid");
        assert_eq!(validate_terms(&input_of(&terms), true, TODAY), Ok(terms));

        let commission_only = TermsDefaults {
            fee_model: FeeModel::CommissionOnly,
            ..defaults
        };
        let plain = crate::campaigns::domain::Campaign::default();
        let input = proposed_terms(&plain, &commission_only, "leo", None, Some("EUR"));
        assert_eq!(input.fee_model, "commission_only");
        assert_eq!(input.fixed_fee_currency, "EUR");
        assert_eq!(input.commission_rate, "10");
        assert!(input.sample_sku.is_empty() && input.sample_qty.is_empty());
    }

    fn arb_text() -> BoxedStrategy<String> {
        prop_oneof![
            Just(String::new()),
            Just(" \t".to_string()),
            "[a-zA-Z0-9 ]{1,12}",
        ]
        .boxed()
    }

    fn arb_event() -> impl Strategy<Value = ContractEvent> {
        prop_oneof![
            Just(E::CreatorAccepted),
            Just(E::CreatorDeclined),
            (arb_text(), arb_text()).prop_map(|(carrier, tracking_number)| E::SampleShipped {
                carrier,
                tracking_number
            }),
            Just(E::SampleDelivered),
            Just(E::DraftSubmitted),
            Just(E::PostAdded),
            Just(E::TrackingStarted),
            Just(E::WindowFinal),
            Just(E::RatingCompleted),
            Just(E::SettlementFinalized),
            arb_text().prop_map(|reason| E::Cancel { reason }),
            arb_text().prop_map(|reason| E::Breach { reason }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn terminal_states_cannot_be_left_except_rated_to_settled(
            from in prop::sample::select(vec![S::Rated, S::Settled, S::Cancelled, S::Breached]),
            event in arb_event(),
            sample_needed in any::<bool>(),
            review_enabled in any::<bool>(),
        ) {
            if let Ok(to) = next_state(from, &event, sample_needed, review_enabled) {
                prop_assert!(
                    from == S::Rated && to == S::Settled && event == E::SettlementFinalized,
                    "{:?} --{:?}--> {:?}", from, event, to
                );
            }
        }

        #[test]
        fn suggested_discount_codes_are_always_valid(handle in ".{0,40}") {
            let code = suggest_discount_code(&handle);
            prop_assert_eq!(normalize_discount_code(&code), Ok(code.clone()));
        }

        /// Inputs are mostly valid, with one in ten fields or so wrong, so that both accepted
        /// terms and refusals are common.
        #[test]
        fn accepted_terms_respect_every_limit_and_refusals_use_catalogue_keys(
            fee_model in prop::sample::select(vec!["fixed", "commission_only", "fixed_plus_commission", "fixed", "commission_only", "fixed_plus_commission", "x"]),
            fixed_fee in prop_oneof![10 => "[1-9][0-9]{0,4}(\\.[0-9]{1,2})?", 1 => "(|0|-[0-9]{1,3}|[0-9]{1,3}\\.[0-9]{3}|1,5)"],
            keep_fixed_fee in prop::bool::weighted(0.1),
            currency in prop::sample::select(vec!["USD", "JPY", "CNY", "USD", "CNY", "XYZ", ""]),
            commission in prop_oneof![10 => "[1-7]?[1-9](\\.[0-9]{1,2})?", 1 => "(|0|-[0-9]|8[0-9]|[0-9]\\.[0-9]{3})"],
            keep_commission in prop::bool::weighted(0.1),
            service in prop_oneof![10 => "([5-9]|1[0-9])(\\.[0-9])?|20", 1 => "[0-9]{1,2}(\\.[0-9]{1,3})?"],
            videos in prop_oneof![10 => "[1-3]", 1 => "[0-9]{0,2}"],
            lives in prop_oneof![10 => "[0-2]?", 1 => "[0-9]{2}"],
            deadline_offset in prop_oneof![10 => 1i64..=730, 1 => -5i64..800],
            min_days in prop_oneof![10 => "([1-9][0-9]?)?", 1 => "[0-9]{1,3}"],
            revisions in prop_oneof![10 => "[0-9]?", 1 => "[0-9]{1,2}"],
            usage in prop::sample::select(vec!["organic_only", "paid_ads_until", "no_secondary_use"]),
            until_offset in prop_oneof![10 => 1i64..60, 1 => -5i64..=0],
            until_for_others in prop::bool::weighted(0.1),
            sample_needed in any::<bool>(),
            code in prop_oneof![10 => "[a-zA-Z0-9]{4,20}", 1 => "[a-z0-9 -]{0,22}"],
        ) {
            // The form's usual shape: the fields the fee model does not use left empty.
            let fixed_fee = match fee_model {
                "commission_only" if !keep_fixed_fee => String::new(),
                _ => fixed_fee,
            };
            let commission = match fee_model {
                "fixed" if !keep_commission => String::new(),
                _ => commission,
            };
            let paid_ads_until = usage == "paid_ads_until" || until_for_others;
            let until_offset = paid_ads_until.then_some(until_offset);
            let deadline = TODAY + time::Duration::days(deadline_offset);
            let i = TermsInput {
                fee_model: fee_model.into(),
                fixed_fee,
                fixed_fee_currency: currency.into(),
                commission_rate: commission,
                service_fee_rate: service,
                videos,
                live_sessions: lives,
                publish_deadline: deadline.to_string(),
                min_days_live: min_days,
                revisions_included: revisions,
                usage_rights: usage.into(),
                paid_ads_until: until_offset
                    .map(|d| (deadline + time::Duration::days(d)).to_string())
                    .unwrap_or_default(),
                sample_sku: "SKU1".into(),
                sample_qty: "1".into(),
                sample_cost: String::new(),
                sample_cost_currency: String::new(),
                discount_code: code,
                ..TermsInput::default()
            };
            match validate_terms(&i, sample_needed, TODAY) {
                Ok(t) => {
                    prop_assert_eq!(t.fixed_fee.is_some(), t.fee_model.has_fixed_fee());
                    if let (Some(fee), Some(cur)) = (t.fixed_fee, t.fixed_fee_currency.as_deref()) {
                        prop_assert!(fee > Decimal::ZERO);
                        prop_assert!(fee.scale() == crate::kernel::money::minor_units(cur));
                    }
                    prop_assert_eq!(t.commission_rate.is_zero(), !t.fee_model.has_commission());
                    prop_assert!(t.commission_rate >= Decimal::ZERO && t.commission_rate <= MAX_COMMISSION);
                    prop_assert!(t.service_fee_rate >= MIN_SERVICE_FEE && t.service_fee_rate <= MAX_SERVICE_FEE);
                    prop_assert!(t.deliverables() >= 1 && t.videos <= 50 && t.live_sessions <= 50);
                    prop_assert!(t.publish_deadline > TODAY);
                    prop_assert!((1..=365).contains(&t.min_days_live) && t.revisions_included <= 10);
                    prop_assert_eq!(t.paid_ads_until.is_some(), t.usage_rights == UsageRights::PaidAdsUntil);
                    prop_assert!(t.paid_ads_until.is_none_or(|d| d > t.publish_deadline));
                    prop_assert_eq!(t.sample.is_some(), sample_needed);
                    prop_assert_eq!(normalize_discount_code(&t.discount_code), Ok(t.discount_code.clone()));
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    for key in errors.values() {
                        prop_assert!(ERROR_KEYS.contains(key), "{}", key);
                    }
                }
            }
        }
    }
}
