//! Pure rules for a campaign request (SPEC §2): the form's fields parsed and checked, the state
//! machine with who may move it, and the campaign code. Nothing here touches the database.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;
use uuid::Uuid;

use crate::kernel::FieldErrors;
use crate::kernel::STYLES;
use crate::kernel::counts::parse_count;
use crate::kernel::markets::{CATEGORIES, MARKETS, SHOP_CURRENCIES};
use crate::kernel::text::{self, TextRule};
use crate::matching::domain::{AgeBucket, Format, Gender};
use crate::tenants::domain::{is_shop_url, parse_percent};
use crate::web::fmt::minor_units;
use crate::web::forms::one_or_many;

// ---------------------------------------------------------------------------------------------
// States and transitions
// ---------------------------------------------------------------------------------------------

/// Where a campaign is (SPEC §2); kept in `campaigns.state` (text, checked) by its [`code`].
///
/// [`code`]: CampaignState::code
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum CampaignState {
    Draft,
    Submitted,
    Matching,
    ShortlistSent,
    Contracting,
    Running,
    Evaluating,
    Closed,
    Cancelled,
}

impl CampaignState {
    pub const ALL: [CampaignState; 9] = [
        CampaignState::Draft,
        CampaignState::Submitted,
        CampaignState::Matching,
        CampaignState::ShortlistSent,
        CampaignState::Contracting,
        CampaignState::Running,
        CampaignState::Evaluating,
        CampaignState::Closed,
        CampaignState::Cancelled,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Submitted => "submitted",
            CampaignState::Matching => "matching",
            CampaignState::ShortlistSent => "shortlist_sent",
            CampaignState::Contracting => "contracting",
            CampaignState::Running => "running",
            CampaignState::Evaluating => "evaluating",
            CampaignState::Closed => "closed",
            CampaignState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|st| st.code() == s)
    }

    /// Catalogue key of the state's label.
    pub fn label_key(&self) -> &'static str {
        match self {
            CampaignState::Draft => "campaign.state.draft",
            CampaignState::Submitted => "campaign.state.submitted",
            CampaignState::Matching => "campaign.state.matching",
            CampaignState::ShortlistSent => "campaign.state.shortlist_sent",
            CampaignState::Contracting => "campaign.state.contracting",
            CampaignState::Running => "campaign.state.running",
            CampaignState::Evaluating => "campaign.state.evaluating",
            CampaignState::Closed => "campaign.state.closed",
            CampaignState::Cancelled => "campaign.state.cancelled",
        }
    }

    /// Closed and cancelled campaigns never move again.
    pub fn is_final(&self) -> bool {
        matches!(self, CampaignState::Closed | CampaignState::Cancelled)
    }
}

/// A move of a campaign's state; kept in `campaign_transitions.transition` by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Transition {
    Submit,
    StartMatching,
    SendShortlist,
    RequestAnotherRound,
    ApproveShortlist,
    FirstContractAccepted,
    AllPublishedOrEnded,
    AllRatedOrEnded,
    Cancel,
}

impl Transition {
    pub const ALL: [Transition; 9] = [
        Transition::Submit,
        Transition::StartMatching,
        Transition::SendShortlist,
        Transition::RequestAnotherRound,
        Transition::ApproveShortlist,
        Transition::FirstContractAccepted,
        Transition::AllPublishedOrEnded,
        Transition::AllRatedOrEnded,
        Transition::Cancel,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::StartMatching => "start_matching",
            Transition::SendShortlist => "send_shortlist",
            Transition::RequestAnotherRound => "request_another_round",
            Transition::ApproveShortlist => "approve_shortlist",
            Transition::FirstContractAccepted => "first_contract_accepted",
            Transition::AllPublishedOrEnded => "all_published_or_ended",
            Transition::AllRatedOrEnded => "all_rated_or_ended",
            Transition::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|t| t.code() == s)
    }

    /// Whether the system records this move when a fact elsewhere makes it true (SPEC §2: the
    /// first contract accepted, every collaboration published or rated). No person asks for
    /// these; only the state table's `System` actor takes them.
    pub fn is_system_event(&self) -> bool {
        matches!(
            self,
            Transition::FirstContractAccepted
                | Transition::AllPublishedOrEnded
                | Transition::AllRatedOrEnded
        )
    }

    /// Catalogue key of the button that performs the transition.
    pub fn label_key(&self) -> &'static str {
        match self {
            Transition::Submit => "campaign.transition.submit",
            Transition::StartMatching => "campaign.transition.start_matching",
            Transition::SendShortlist => "campaign.transition.send_shortlist",
            Transition::RequestAnotherRound => "campaign.transition.request_another_round",
            Transition::ApproveShortlist => "campaign.transition.approve_shortlist",
            Transition::FirstContractAccepted => "campaign.transition.first_contract_accepted",
            Transition::AllPublishedOrEnded => "campaign.transition.all_published_or_ended",
            Transition::AllRatedOrEnded => "campaign.transition.all_rated_or_ended",
            Transition::Cancel => "campaign.transition.cancel",
        }
    }
}

/// Who asks for a transition. Viewers, finance and admins are not actors of a campaign: the
/// caller refuses them before asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    SellerOwner,
    SellerOperator,
    AccountManager,
    /// Background rules, e.g. "every collaboration published or ended".
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("this transition is not allowed from the campaign's current state")]
    NotAllowedFrom,
    #[error("this actor may not perform this transition")]
    NotAllowedFor,
    #[error("cancelling needs a reason")]
    ReasonRequired,
}

impl TransitionError {
    pub fn key(&self) -> &'static str {
        match self {
            TransitionError::NotAllowedFrom => "campaign.transition_error.not_allowed_from",
            TransitionError::NotAllowedFor => "campaign.transition_error.not_allowed_for",
            TransitionError::ReasonRequired => "campaign.transition_error.reason_required",
        }
    }
}

const SELLER: &[Role] = &[Role::SellerOwner, Role::SellerOperator];
const STAFF: &[Role] = &[Role::AccountManager];
const SYSTEM: &[Role] = &[Role::System];
const CANCELLERS: &[Role] = &[Role::SellerOwner, Role::AccountManager];

/// The SPEC §2 table: where a transition leads from a state, and who may take it.
fn rule(from: CampaignState, t: Transition) -> Option<(CampaignState, &'static [Role])> {
    use CampaignState as S;
    use Transition as T;
    match (from, t) {
        (S::Draft, T::Submit) => Some((S::Submitted, SELLER)),
        (S::Submitted, T::StartMatching) => Some((S::Matching, STAFF)),
        (S::Matching, T::SendShortlist) => Some((S::ShortlistSent, STAFF)),
        (S::ShortlistSent, T::RequestAnotherRound) => Some((S::Matching, SELLER)),
        // The caller checks that at least one candidate is approved.
        (S::ShortlistSent, T::ApproveShortlist) => Some((S::Contracting, SELLER)),
        // Facts, not requests: only the system records them (`Transition::is_system_event`).
        (S::Contracting, T::FirstContractAccepted) => Some((S::Running, SYSTEM)),
        (S::Running, T::AllPublishedOrEnded) => Some((S::Evaluating, SYSTEM)),
        (S::Evaluating, T::AllRatedOrEnded) => Some((S::Closed, SYSTEM)),
        (from, T::Cancel) if !from.is_final() => Some((S::Cancelled, CANCELLERS)),
        _ => None,
    }
}

/// The state a transition leads to, or why it is refused. Checked in this order: the state
/// allows it, the actor may take it, a cancellation has a reason.
pub fn next_state(
    from: CampaignState,
    t: Transition,
    actor: Role,
    reason: &str,
) -> Result<CampaignState, TransitionError> {
    let (to, actors) = rule(from, t).ok_or(TransitionError::NotAllowedFrom)?;
    if !actors.contains(&actor) {
        return Err(TransitionError::NotAllowedFor);
    }
    if t == Transition::Cancel && reason.trim().is_empty() {
        return Err(TransitionError::ReasonRequired);
    }
    Ok(to)
}

/// The transitions an actor may take from a state, in table order (for showing buttons).
pub fn allowed_transitions(from: CampaignState, actor: Role) -> Vec<Transition> {
    Transition::ALL
        .into_iter()
        .filter(|t| rule(from, *t).is_some_and(|(_, actors)| actors.contains(&actor)))
        .collect()
}

/// The seller's answer about one creator on the shortlist; kept in `shortlist_entries.decision`
/// (text, checked; none while undecided) by its [`code`](Decision::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text")]
pub enum Decision {
    #[sqlx(rename = "approved")]
    Approve,
    #[sqlx(rename = "rejected")]
    Reject,
}

impl Decision {
    /// The form's word: "approve" or "reject".
    pub fn parse(s: &str) -> Option<Decision> {
        match s.trim() {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }

    /// As the entry stores it (and the audit entry records it).
    pub fn code(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }
}

/// Why a decision on a shortlist entry is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionError {
    /// The shortlist is not with the seller (another round was asked for, or they went ahead),
    /// or this creator was decided on already: a decision is taken once.
    Closed,
    /// A rejection says why.
    ReasonRequired,
}

impl DecisionError {
    pub fn key(self) -> &'static str {
        match self {
            DecisionError::Closed => "shortlist.error.closed",
            DecisionError::ReasonRequired => "shortlist.error.reason_required",
        }
    }
}

/// Whether the seller may take `decision` on an entry now: only while the campaign's shortlist
/// is sent to them, once per entry, and a rejection needs a reason (as kept: see [`note_text`]).
pub fn check_decision(
    state: CampaignState,
    already_decided: bool,
    decision: Decision,
    reason: &str,
) -> Result<(), DecisionError> {
    if state != CampaignState::ShortlistSent || already_decided {
        return Err(DecisionError::Closed);
    }
    if decision == Decision::Reject && reason.is_empty() {
        return Err(DecisionError::ReasonRequired);
    }
    Ok(())
}

/// The score of a shortlist entry as its reader sees it, when not the one frozen on the entry:
/// agency staff see the frozen score (None); the seller sees it with the track-record component
/// from its own tier alone (SPEC §8), frozen beside it in the entry's breakdown under `seller`
/// (entries sent before tiers existed have no such part: None, the one score). The shortlist
/// page and the API both read it here.
pub fn entry_score_seen(breakdown: &serde_json::Value, staff: bool) -> Option<f64> {
    if staff {
        return None;
    }
    breakdown["seller"]["total"].as_f64()
}

/// A free-text note or reason on a shortlist entry as it is kept: trimmed, a [`TextRule::NOTE`]
/// (the message key when it breaks the rule: a control character, or too long).
pub fn note_text(s: &str) -> Result<String, &'static str> {
    text::check(s, TextRule::NOTE).map(str::to_string)
}

/// "LUMI-2611-03": the tenant's slug letters (upper-cased, non-alphanumerics removed, the first
/// 4, padded with 'X' to at least 2), YYMM of the submission date, and the month's sequence
/// number (2 digits, more when over 99). Unique in the tenant as long as the sequence is.
pub fn campaign_code(tenant_slug: &str, submitted_on: Date, sequence: u32) -> String {
    let mut prefix: String = tenant_slug
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(4)
        .collect();
    while prefix.len() < 2 {
        prefix.push('X');
    }
    format!(
        "{prefix}-{:02}{:02}-{sequence:02}",
        submitted_on.year().rem_euclid(100),
        u8::from(submitted_on.month())
    )
}

// ---------------------------------------------------------------------------------------------
// The request's fields
// ---------------------------------------------------------------------------------------------

/// Who writes the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptSource {
    Seller,
    Agency,
    Creator,
}

impl ScriptSource {
    pub const ALL: [ScriptSource; 3] = [
        ScriptSource::Seller,
        ScriptSource::Agency,
        ScriptSource::Creator,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            ScriptSource::Seller => "seller",
            ScriptSource::Agency => "agency",
            ScriptSource::Creator => "creator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|x| x.code() == s)
    }

    pub fn label_key(&self) -> &'static str {
        match self {
            ScriptSource::Seller => "campaign.script_source.seller",
            ScriptSource::Agency => "campaign.script_source.agency",
            ScriptSource::Creator => "campaign.script_source.creator",
        }
    }
}

/// The form as typed (and as the API takes it). Field names are the form's input names and the
/// keys of [`FieldErrors`]; a field left out reads as empty. Every value is text, as the form
/// sends it, and goes through the same parser (`parse_draft`): amounts like `12.50` in their
/// currency's decimals, percents like `15` or `15%`, dates `YYYY-MM-DD`. A draft may leave
/// anything empty; submitting checks the request is complete.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CampaignInput {
    pub title: String,
    pub product_name: String,
    pub sku: String,
    /// The product's page in a shop (https).
    pub product_url: String,
    /// A category code (`beauty`, `home`, …).
    pub category: String,
    /// An amount in `unit_currency`, e.g. `25.90`.
    pub unit_price: String,
    /// ISO 4217, e.g. `USD`.
    pub unit_currency: String,
    /// One of the company's shops (`GET /api/v1/shops`).
    pub shop_id: String,
    /// Market codes (ISO 3166, `US`, `GB`); one value or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub markets: Vec<String>,
    /// Two-letter language codes (`en`, `es`); one value or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub languages: Vec<String>,
    /// `short_video`, `live` or `both`.
    pub format: String,
    /// A whole number, at most 1000.
    pub creators_wanted: String,
    /// Whole numbers, e.g. `10000`.
    pub followers_min: String,
    pub followers_max: String,
    /// Amounts in `budget_currency`.
    pub budget_min: String,
    pub budget_max: String,
    pub budget_currency: String,
    /// The most one creator's fee may be, in `fee_cap_currency`.
    pub fee_cap: String,
    /// Empty: the budget's currency.
    pub fee_cap_currency: String,
    /// Percent, e.g. `15` or `15%`.
    pub commission_rate: String,
    /// Audience age buckets (`18-24`, `25-34`, …); one value or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub age_buckets: Vec<String>,
    /// "" (any), "female" or "male".
    pub gender: String,
    /// Free tags or category codes; an entry may hold several separated by commas.
    #[serde(deserialize_with = "one_or_many")]
    pub interests: Vec<String>,
    /// Content style codes; one value or a list.
    #[serde(deserialize_with = "one_or_many")]
    pub styles: Vec<String>,
    /// "seller", "agency" or "creator".
    pub script_source: String,
    /// "1" (checked) or "" (also `true`/`false`, `yes`/`no`).
    pub creative_freedom: String,
    /// YYYY-MM-DD.
    pub publish_from: String,
    pub publish_to: String,
    /// "1" (samples are sent) or "", as `creative_freedom`.
    pub sample_needed: String,
    pub ship_from: String,
    /// A multiple, e.g. `2` or `2x`.
    pub roi_target: String,
    /// In the unit price's currency (the shop's sales).
    pub gmv_target: String,
    pub views_target: String,
    /// Percent.
    pub ctr_target: String,
    pub known_pitfalls: String,
}

// Dates in the stored JSON read as people write them, not as time's default (year, ordinal).
time::serde::format_description!(ymd, Date, "[year]-[month]-[day]");

/// A campaign request with every field typed. A draft may leave any of them empty (None, empty
/// text or list); [`validate_submit`] says which must be there before submitting. Stored as JSON
/// (`campaigns.data`); a field added later reads as its default from older rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Campaign {
    pub title: String,
    pub product_name: String,
    pub sku: String,
    pub product_url: Option<String>,
    /// One of [`CATEGORIES`].
    pub category: Option<String>,
    /// Rescaled to the currency's minor units.
    pub unit_price: Option<Decimal>,
    pub unit_currency: Option<String>,
    /// One of the tenant's shops.
    pub shop_id: Option<Uuid>,
    /// From [`MARKETS`], in form order, without duplicates.
    pub markets: Vec<String>,
    /// ISO 639-1, lower case.
    pub languages: Vec<String>,
    pub format: Option<Format>,
    pub creators_wanted: Option<i32>,
    pub followers_min: Option<i64>,
    pub followers_max: Option<i64>,
    pub budget_min: Option<Decimal>,
    pub budget_max: Option<Decimal>,
    pub budget_currency: Option<String>,
    /// Per creator.
    pub fee_cap: Option<Decimal>,
    /// The typed currency, or the budget's when a cap is given without one.
    pub fee_cap_currency: Option<String>,
    /// A fraction: 15% is 0.15.
    pub commission_rate: Option<Decimal>,
    /// Sorted; empty means any age.
    pub age_buckets: Vec<AgeBucket>,
    /// None means any gender.
    pub gender: Option<Gender>,
    /// Lower-case tags (spaces become `_`, as in the creator pool), without duplicates.
    pub interests: Vec<String>,
    /// From [`STYLES`].
    pub styles: Vec<String>,
    pub script_source: Option<ScriptSource>,
    pub creative_freedom: bool,
    #[serde(with = "ymd::option")]
    pub publish_from: Option<Date>,
    #[serde(with = "ymd::option")]
    pub publish_to: Option<Date>,
    pub sample_needed: bool,
    pub ship_from: String,
    /// A multiple: 2 means GMV twice the spend.
    pub roi_target: Option<Decimal>,
    /// In `unit_currency`.
    pub gmv_target: Option<Decimal>,
    pub views_target: Option<i64>,
    /// A fraction: 2% is 0.02.
    pub ctr_target: Option<Decimal>,
    pub known_pitfalls: String,
}

const MAX_INTEREST: usize = 64;
const MAX_INTERESTS: usize = 20;
const MAX_CREATORS_WANTED: i32 = 1000;
/// Amounts stay below 10^13 (ten trillion, enough for VND/IDR budgets) so they fit the database's
/// money columns whatever the currency.
const MAX_AMOUNT_DIGITS: usize = 13;
const MAX_COMMISSION_PERCENT: Decimal = Decimal::from_parts(80, 0, 0, false, 0);

/// Formats only: anything typed must be well-formed (numbers, dates, codes, the URL, one of the
/// tenant's shops, list entries from the known sets); empty is allowed. Used for "save as draft",
/// and before [`validate_submit`].
pub fn parse_draft(input: &CampaignInput, tenant_shops: &[Uuid]) -> Result<Campaign, FieldErrors> {
    let mut e = FieldErrors::new();

    let title = text::field(&mut e, "title", &input.title, TextRule::LINE);
    let product_name = text::field(&mut e, "product_name", &input.product_name, TextRule::LINE);
    let sku = text::field(&mut e, "sku", &input.sku, TextRule::LINE);
    let product_url = optional(&input.product_url).and_then(|url| {
        if let Err(key) = text::check(url, TextRule::URL) {
            fail(&mut e, "product_url", key)
        } else if is_shop_url(url) {
            Some(url.to_string())
        } else {
            fail(&mut e, "product_url", "campaign.error.url_format")
        }
    });
    let category = optional(&input.category).and_then(|c| {
        if CATEGORIES.contains(&c) {
            Some(c.to_string())
        } else {
            fail(&mut e, "category", "campaign.error.category_unknown")
        }
    });

    let unit_currency = currency(&input.unit_currency, "unit_currency", &mut e);
    let budget_currency = currency(&input.budget_currency, "budget_currency", &mut e);
    let fee_cap_currency = currency(&input.fee_cap_currency, "fee_cap_currency", &mut e);
    let unit_price = amount(
        &input.unit_price,
        unit_currency.as_deref(),
        "unit_price",
        &mut e,
    );
    let budget_min = amount(
        &input.budget_min,
        budget_currency.as_deref(),
        "budget_min",
        &mut e,
    );
    let budget_max = amount(
        &input.budget_max,
        budget_currency.as_deref(),
        "budget_max",
        &mut e,
    );
    let fee_cap_currency = match (&fee_cap_currency, optional(&input.fee_cap_currency)) {
        // A typed but unknown currency is already an error; don't fall back silently.
        (None, None) if optional(&input.fee_cap).is_some() => budget_currency.clone(),
        _ => fee_cap_currency,
    };
    let fee_cap = amount(
        &input.fee_cap,
        fee_cap_currency.as_deref(),
        "fee_cap",
        &mut e,
    );
    let gmv_target = amount(
        &input.gmv_target,
        unit_currency.as_deref(),
        "gmv_target",
        &mut e,
    );

    let shop_id = optional(&input.shop_id).and_then(|raw| match raw.parse::<Uuid>() {
        Ok(id) if tenant_shops.contains(&id) => Some(id),
        _ => fail(&mut e, "shop_id", "campaign.error.shop_unknown"),
    });

    let markets = list(&input.markets, "markets", &mut e, |m| {
        let m = m.to_ascii_uppercase();
        // "UK" is what people type; ISO 3166 says GB.
        let m = if m == "UK" { "GB".to_string() } else { m };
        MARKETS
            .contains(&m.as_str())
            .then_some(m)
            .ok_or("campaign.error.market_unknown")
    });
    let languages = list(&input.languages, "languages", &mut e, |l| {
        (l.len() == 2 && l.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| l.to_ascii_lowercase())
            .ok_or("campaign.error.language_format")
    });
    let format = optional(&input.format).and_then(|f| {
        Format::parse(f).or_else(|| fail(&mut e, "format", "campaign.error.format_unknown"))
    });
    let creators_wanted = optional(&input.creators_wanted).and_then(|raw| {
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return fail(&mut e, "creators_wanted", "campaign.error.whole_number");
        }
        match raw.parse::<i32>() {
            Ok(n) if n <= MAX_CREATORS_WANTED => Some(n),
            _ => fail(
                &mut e,
                "creators_wanted",
                "campaign.error.creators_wanted_range",
            ),
        }
    });
    let followers_min = count(&input.followers_min, "followers_min", &mut e);
    let followers_max = count(&input.followers_max, "followers_max", &mut e);
    let views_target = count(&input.views_target, "views_target", &mut e);
    let commission_rate = percent(&input.commission_rate, "commission_rate", &mut e);
    let ctr_target = percent(&input.ctr_target, "ctr_target", &mut e);

    let mut age_buckets = list(&input.age_buckets, "age_buckets", &mut e, |a| {
        AgeBucket::parse(a).ok_or("campaign.error.age_bucket_unknown")
    });
    age_buckets.sort();
    let gender = match input.gender.trim() {
        "" | "any" => None,
        g => Gender::parse(g).or_else(|| fail(&mut e, "gender", "campaign.error.gender_unknown")),
    };
    let interests = interests(&input.interests, &mut e);
    let styles = list(&input.styles, "styles", &mut e, |s| {
        STYLES
            .contains(&s)
            .then(|| s.to_string())
            .ok_or("campaign.error.style_unknown")
    });
    let script_source = optional(&input.script_source).and_then(|s| {
        ScriptSource::parse(s).or_else(|| {
            fail(
                &mut e,
                "script_source",
                "campaign.error.script_source_unknown",
            )
        })
    });
    let creative_freedom = flag(&input.creative_freedom, "creative_freedom", &mut e);
    let publish_from = date(&input.publish_from, "publish_from", &mut e);
    let publish_to = date(&input.publish_to, "publish_to", &mut e);
    let sample_needed = flag(&input.sample_needed, "sample_needed", &mut e);
    let ship_from = text::field(&mut e, "ship_from", &input.ship_from, TextRule::LINE);
    let roi_target = optional(&input.roi_target).and_then(|raw| {
        let raw = raw.trim_end_matches(['x', 'X', '×']).trim_end();
        match plain_amount(raw) {
            Ok(roi) => Some(roi.normalize()),
            Err(key) if key == "campaign.error.negative" => fail(&mut e, "roi_target", key),
            Err(_) => fail(&mut e, "roi_target", "campaign.error.roi_format"),
        }
    });
    let known_pitfalls = text::field(
        &mut e,
        "known_pitfalls",
        &input.known_pitfalls,
        TextRule::LONG,
    );

    if !e.is_empty() {
        return Err(e);
    }
    Ok(Campaign {
        title,
        product_name,
        sku,
        product_url,
        category,
        unit_price,
        unit_currency,
        shop_id,
        markets,
        languages,
        format,
        creators_wanted,
        followers_min,
        followers_max,
        budget_min,
        budget_max,
        budget_currency,
        fee_cap,
        fee_cap_currency,
        commission_rate,
        age_buckets,
        gender,
        interests,
        styles,
        script_source,
        creative_freedom,
        publish_from,
        publish_to,
        sample_needed,
        ship_from,
        roi_target,
        gmv_target,
        views_target,
        ctr_target,
        known_pitfalls,
    })
}

/// Completeness and consistency for submission, on a campaign from [`parse_draft`]: the required
/// fields, min ≤ max, a publish window that starts after `today`, the fee cap against the budget,
/// the commission rate, and currencies that can be compared with the creators' quotes
/// (`has_reference_rate`; USD always can).
pub fn validate_submit(
    c: &Campaign,
    today: Date,
    has_reference_rate: &dyn Fn(&str) -> bool,
) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    let required = "campaign.error.required";
    let positive = "campaign.error.must_be_positive";

    for (field, value) in [
        ("title", &c.title),
        ("product_name", &c.product_name),
        ("sku", &c.sku),
    ] {
        if value.trim().is_empty() {
            add(&mut e, field, required);
        }
    }
    if c.product_url.is_none() {
        add(&mut e, "product_url", required);
    }
    if c.category.is_none() {
        add(&mut e, "category", required);
    }
    match c.unit_price {
        None => add(&mut e, "unit_price", required),
        Some(p) if p <= Decimal::ZERO => add(&mut e, "unit_price", positive),
        Some(_) => {}
    }
    if c.unit_currency.is_none() {
        add(&mut e, "unit_currency", required);
    }
    if c.shop_id.is_none() {
        add(&mut e, "shop_id", required);
    }
    if c.markets.is_empty() {
        add(&mut e, "markets", "campaign.error.markets_required");
    }
    if c.languages.is_empty() {
        add(&mut e, "languages", "campaign.error.languages_required");
    }
    if c.format.is_none() {
        add(&mut e, "format", required);
    }
    match c.creators_wanted {
        None => add(&mut e, "creators_wanted", required),
        Some(n) if !(1..=MAX_CREATORS_WANTED).contains(&n) => add(
            &mut e,
            "creators_wanted",
            "campaign.error.creators_wanted_range",
        ),
        Some(_) => {}
    }

    match (c.followers_min, c.followers_max) {
        (Some(min), Some(max)) => {
            if max <= 0 {
                add(&mut e, "followers_max", positive);
            } else if min > max {
                add(
                    &mut e,
                    "followers_min",
                    "campaign.error.followers_min_over_max",
                );
            }
        }
        (min, max) => {
            if min.is_none() {
                add(&mut e, "followers_min", required);
            }
            if max.is_none() {
                add(&mut e, "followers_max", required);
            }
        }
    }

    match (c.budget_min, c.budget_max) {
        (Some(min), Some(max)) => {
            if max <= Decimal::ZERO {
                add(&mut e, "budget_max", positive);
            } else if min > max {
                add(&mut e, "budget_min", "campaign.error.budget_min_over_max");
            }
        }
        (min, max) => {
            if min.is_none() {
                add(&mut e, "budget_min", required);
            }
            if max.is_none() {
                add(&mut e, "budget_max", required);
            }
        }
    }
    let convertible = |currency: &str| currency == "USD" || has_reference_rate(currency);
    match &c.budget_currency {
        None => add(&mut e, "budget_currency", required),
        Some(cur) if !convertible(cur) => add(
            &mut e,
            "budget_currency",
            "campaign.error.no_reference_rate",
        ),
        Some(_) => {}
    }

    if let Some(cap) = c.fee_cap {
        if cap <= Decimal::ZERO {
            add(&mut e, "fee_cap", positive);
        } else if let (Some(max), Some(cap_cur), Some(budget_cur)) =
            (c.budget_max, &c.fee_cap_currency, &c.budget_currency)
            && cap_cur == budget_cur
            && cap > max
        {
            add(&mut e, "fee_cap", "campaign.error.fee_cap_over_budget");
        }
        match &c.fee_cap_currency {
            // Only reachable when the budget's currency is missing too.
            None => add(&mut e, "fee_cap_currency", required),
            Some(cur) if !convertible(cur) => add(
                &mut e,
                "fee_cap_currency",
                "campaign.error.no_reference_rate",
            ),
            Some(_) => {}
        }
    }

    if let Some(rate) = c.commission_rate
        && (rate < Decimal::ZERO || rate * Decimal::ONE_HUNDRED > MAX_COMMISSION_PERCENT)
    {
        add(&mut e, "commission_rate", "campaign.error.commission_range");
    }

    match (c.publish_from, c.publish_to) {
        (Some(from), Some(to)) => {
            if from <= today {
                add(&mut e, "publish_from", "campaign.error.publish_in_past");
            }
            if to < from {
                add(&mut e, "publish_to", "campaign.error.publish_window_order");
            }
        }
        (from, to) => {
            if from.is_none() {
                add(&mut e, "publish_from", required);
            }
            if to.is_none() {
                add(&mut e, "publish_to", required);
            }
        }
    }

    // Creators need to know delivery time and duties before they accept a sample.
    if c.sample_needed && c.ship_from.trim().is_empty() {
        add(&mut e, "ship_from", "campaign.error.ship_from_required");
    }

    // The seeds' most-missed point: success is defined before the start.
    if c.roi_target.is_none_or(|roi| roi <= Decimal::ZERO) {
        add(&mut e, "roi_target", "campaign.error.roi_target_required");
    }
    if c.gmv_target.is_some_and(|v| v <= Decimal::ZERO) {
        add(&mut e, "gmv_target", positive);
    }
    if c.views_target.is_some_and(|v| v <= 0) {
        add(&mut e, "views_target", positive);
    }
    if c.ctr_target.is_some_and(|v| v <= Decimal::ZERO) {
        add(&mut e, "ctr_target", positive);
    }

    if e.is_empty() { Ok(()) } else { Err(e) }
}

impl CampaignInput {
    /// The form filled from a stored campaign, for editing a draft; [`parse_draft`] reads it
    /// back to the same campaign.
    pub fn from_campaign(c: &Campaign) -> CampaignInput {
        fn opt<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map(ToString::to_string).unwrap_or_default()
        }
        fn pct(v: &Option<Decimal>) -> String {
            v.map(|f| (f * Decimal::ONE_HUNDRED).normalize().to_string())
                .unwrap_or_default()
        }
        fn yes(b: bool) -> String {
            if b { "1".into() } else { String::new() }
        }
        CampaignInput {
            title: c.title.clone(),
            product_name: c.product_name.clone(),
            sku: c.sku.clone(),
            product_url: opt(&c.product_url),
            category: opt(&c.category),
            unit_price: opt(&c.unit_price),
            unit_currency: opt(&c.unit_currency),
            shop_id: opt(&c.shop_id),
            markets: c.markets.clone(),
            languages: c.languages.clone(),
            format: c.format.map(|f| f.code().to_string()).unwrap_or_default(),
            creators_wanted: opt(&c.creators_wanted),
            followers_min: opt(&c.followers_min),
            followers_max: opt(&c.followers_max),
            budget_min: opt(&c.budget_min),
            budget_max: opt(&c.budget_max),
            budget_currency: opt(&c.budget_currency),
            fee_cap: opt(&c.fee_cap),
            fee_cap_currency: opt(&c.fee_cap_currency),
            commission_rate: pct(&c.commission_rate),
            age_buckets: c.age_buckets.iter().map(|a| a.code().into()).collect(),
            gender: c.gender.map(|g| g.code().to_string()).unwrap_or_default(),
            interests: c.interests.clone(),
            styles: c.styles.clone(),
            script_source: c
                .script_source
                .map(|s| s.code().to_string())
                .unwrap_or_default(),
            creative_freedom: yes(c.creative_freedom),
            publish_from: opt(&c.publish_from),
            publish_to: opt(&c.publish_to),
            sample_needed: yes(c.sample_needed),
            ship_from: c.ship_from.clone(),
            roi_target: opt(&c.roi_target),
            gmv_target: opt(&c.gmv_target),
            views_target: opt(&c.views_target),
            ctr_target: pct(&c.ctr_target),
            known_pitfalls: c.known_pitfalls.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field parsers: each records its message under the field and returns None on failure.
// ---------------------------------------------------------------------------------------------

/// The first message for a field wins: it is usually the most basic one.
fn add(e: &mut FieldErrors, field: &str, key: &'static str) {
    e.entry(field.to_string()).or_insert(key);
}

fn fail<T>(e: &mut FieldErrors, field: &str, key: &'static str) -> Option<T> {
    add(e, field, key);
    None
}

fn optional(raw: &str) -> Option<&str> {
    let s = raw.trim();
    (!s.is_empty()).then_some(s)
}

fn currency(raw: &str, field: &str, e: &mut FieldErrors) -> Option<String> {
    let code = optional(raw)?.to_ascii_uppercase();
    if SHOP_CURRENCIES.contains(&code.as_str()) {
        Some(code)
    } else {
        fail(e, field, "campaign.error.currency_unknown")
    }
}

/// An amount in `currency` (2 decimals when the currency is missing or unknown), rescaled to the
/// currency's minor units. More decimals than the currency has are refused, not rounded: a
/// seller who typed 1200.5 yen meant something we should not guess.
fn amount(raw: &str, currency: Option<&str>, field: &str, e: &mut FieldErrors) -> Option<Decimal> {
    let raw = optional(raw)?;
    let value = match plain_amount(raw) {
        Ok(v) => v,
        Err(key) => return fail(e, field, key),
    };
    let dp = minor_units(currency.unwrap_or("USD"));
    let mut value = value.normalize();
    if value.scale() > dp {
        return fail(e, field, "campaign.error.too_many_decimals");
    }
    value.rescale(dp);
    Some(value)
}

/// "1200", "1,200.50", "1，200", "0.5" → a non-negative decimal. Commas group thousands only
/// (so "1,5" is refused rather than read as 15); no currency symbols, signs or exponents.
fn plain_amount(raw: &str) -> Result<Decimal, &'static str> {
    let s = raw.trim();
    if s.starts_with('-') {
        return Err("campaign.error.negative");
    }
    let bad = "campaign.error.amount_format";
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let groups: Vec<&str> = whole.split([',', '，']).collect();
    for (i, group) in groups.iter().enumerate() {
        let digits = group.bytes().all(|b| b.is_ascii_digit());
        let sized = groups.len() == 1
            || if i == 0 {
                (1..=3).contains(&group.len())
            } else {
                group.len() == 3
            };
        if !digits || !sized {
            return Err(bad);
        }
    }
    let whole = groups.concat();
    if (whole.is_empty() && fraction.is_empty())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && fraction.is_empty())
    {
        return Err(bad);
    }
    if whole.trim_start_matches('0').len() > MAX_AMOUNT_DIGITS {
        return Err("campaign.error.amount_too_large");
    }
    // Decimal holds 28 digits; no currency has more than 3 decimals.
    if fraction.len() > 20 {
        return Err("campaign.error.too_many_decimals");
    }
    let number = if fraction.is_empty() {
        whole
    } else {
        format!("{}.{fraction}", if whole.is_empty() { "0" } else { &whole })
    };
    number.parse::<Decimal>().map_err(|_| bad)
}

/// Followers and views: "10000", "10K", "1.2万", "1,000,000".
fn count(raw: &str, field: &str, e: &mut FieldErrors) -> Option<i64> {
    let raw = optional(raw)?;
    parse_count(raw).or_else(|| fail(e, field, "campaign.error.count_format"))
}

/// "15", "15%", "12.5" → the fraction 0.15; 0–100% only.
fn percent(raw: &str, field: &str, e: &mut FieldErrors) -> Option<Decimal> {
    let raw = optional(raw)?;
    match parse_percent(raw) {
        Some(p) if p >= Decimal::ZERO && p <= Decimal::ONE_HUNDRED => {
            Some((p / Decimal::ONE_HUNDRED).normalize())
        }
        _ => fail(e, field, "campaign.error.percent_range"),
    }
}

fn date(raw: &str, field: &str, e: &mut FieldErrors) -> Option<Date> {
    let raw = optional(raw)?;
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .ok()
        .or_else(|| fail(e, field, "campaign.error.date_format"))
}

/// A checkbox: "1" when checked, nothing when not; "true"/"on"/"yes" and "0"/"false" too.
fn flag(raw: &str, field: &str, e: &mut FieldErrors) -> bool {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => true,
        "" | "0" | "false" | "off" | "no" => false,
        _ => {
            add(e, field, "campaign.error.yes_no");
            false
        }
    }
}

/// Each non-blank entry through `parse`, without duplicates, in form order; the first bad entry's
/// message is recorded.
fn list<T: PartialEq>(
    raw: &[String],
    field: &str,
    e: &mut FieldErrors,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Vec<T> {
    let mut out = Vec::new();
    for entry in raw.iter().filter_map(|r| optional(r)) {
        match parse(entry) {
            Ok(v) if !out.contains(&v) => out.push(v),
            Ok(_) => {}
            Err(key) => add(e, field, key),
        }
    }
    out
}

/// Interests as the creator pool stores tags: lower case, inner spaces as `_`. An entry may hold
/// several tags separated by commas, semicolons or 、.
fn interests(raw: &[String], e: &mut FieldErrors) -> Vec<String> {
    let split: Vec<String> = raw
        .iter()
        .flat_map(|r| r.split([',', '，', ';', '；', '、']))
        .map(str::to_string)
        .collect();
    let tags = list(&split, "interests", e, |t| {
        let tag = t
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("_")
            .to_lowercase();
        if let Err(key) = text::check(&tag, TextRule::LINE) {
            Err(key)
        } else if tag.chars().count() > MAX_INTEREST {
            Err("campaign.error.interest_too_long")
        } else {
            Ok(tag)
        }
    });
    if tags.len() > MAX_INTERESTS {
        add(e, "interests", "campaign.error.too_many_interests");
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const SHOP: &str = "01936f0e-7b3a-7c4e-9a51-3c1d2e4f5a6b";

    fn shops() -> Vec<Uuid> {
        vec![SHOP.parse().unwrap()]
    }

    fn today() -> Date {
        date!(2026 - 10 - 01)
    }

    fn rates(currency: &str) -> bool {
        matches!(currency, "USD" | "CNY" | "EUR" | "GBP")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn good() -> CampaignInput {
        CampaignInput {
            title: "Holiday air fryer push".into(),
            product_name: "Lumi 5L Air Fryer".into(),
            sku: "LM-AF-05".into(),
            product_url: "https://shop.lumi.invalid/products/air-fryer".into(),
            category: "home_kitchen".into(),
            unit_price: "59.99".into(),
            unit_currency: "USD".into(),
            shop_id: SHOP.into(),
            markets: strings(&["US", "gb", "UK"]),
            languages: strings(&["en"]),
            format: "short_video".into(),
            creators_wanted: "10".into(),
            followers_min: "10K".into(),
            followers_max: "500,000".into(),
            budget_min: "5,000".into(),
            budget_max: "12000.50".into(),
            budget_currency: "USD".into(),
            fee_cap: "800".into(),
            fee_cap_currency: "".into(),
            commission_rate: "15%".into(),
            age_buckets: strings(&["25-34", "18-24"]),
            gender: "female".into(),
            interests: strings(&["Home Cooking, kitchen", "home_kitchen"]),
            styles: strings(&["real_shot", "tutorial"]),
            script_source: "agency".into(),
            creative_freedom: "1".into(),
            publish_from: "2026-11-05".into(),
            publish_to: "2026-12-05".into(),
            sample_needed: "1".into(),
            ship_from: "Shenzhen, CN (US warehouse for US creators)".into(),
            roi_target: "2".into(),
            gmv_target: "30000".into(),
            views_target: "1M".into(),
            ctr_target: "1.5".into(),
            known_pitfalls: "Last time creators skipped the demo of the basket.".into(),
        }
    }

    fn submit(input: &CampaignInput) -> Result<(), FieldErrors> {
        let c = parse_draft(input, &shops())?;
        validate_submit(&c, today(), &rates)
    }

    fn submit_errors(input: &CampaignInput) -> FieldErrors {
        submit(input).expect_err("the submission should be refused")
    }

    #[test]
    fn a_complete_valid_campaign_passes_submit_with_typed_values() {
        let c = parse_draft(&good(), &shops()).unwrap();
        assert_eq!(validate_submit(&c, today(), &rates), Ok(()));
        assert_eq!(c.unit_price, Some(Decimal::new(5999, 2)));
        assert_eq!(c.markets, ["US", "GB"]);
        assert_eq!(c.followers_min, Some(10_000));
        assert_eq!(c.followers_max, Some(500_000));
        assert_eq!(c.budget_min, Some(Decimal::new(500_000, 2)));
        assert_eq!(c.fee_cap_currency.as_deref(), Some("USD"));
        assert_eq!(c.commission_rate, Some(Decimal::new(15, 2)));
        assert_eq!(c.ctr_target, Some(Decimal::new(15, 3)));
        assert_eq!(c.age_buckets, [AgeBucket::A18_24, AgeBucket::A25_34]);
        assert_eq!(c.gender, Some(Gender::Female));
        assert_eq!(c.interests, ["home_cooking", "kitchen", "home_kitchen"]);
        assert_eq!(c.format, Some(Format::ShortVideo));
        assert_eq!(c.script_source, Some(ScriptSource::Agency));
        assert!(c.creative_freedom && c.sample_needed);
        assert_eq!(c.publish_from, Some(date!(2026 - 11 - 05)));
        assert_eq!(c.views_target, Some(1_000_000));
    }

    /// The form with one field emptied.
    fn without(field: &str) -> CampaignInput {
        let mut i = good();
        let text = match field {
            "title" => &mut i.title,
            "product_name" => &mut i.product_name,
            "sku" => &mut i.sku,
            "product_url" => &mut i.product_url,
            "category" => &mut i.category,
            "unit_price" => &mut i.unit_price,
            "unit_currency" => &mut i.unit_currency,
            "shop_id" => &mut i.shop_id,
            "format" => &mut i.format,
            "creators_wanted" => &mut i.creators_wanted,
            "followers_min" => &mut i.followers_min,
            "followers_max" => &mut i.followers_max,
            "budget_min" => &mut i.budget_min,
            "budget_max" => &mut i.budget_max,
            "budget_currency" => &mut i.budget_currency,
            "roi_target" => &mut i.roi_target,
            "publish_from" => &mut i.publish_from,
            "publish_to" => &mut i.publish_to,
            "markets" => {
                i.markets.clear();
                return i;
            }
            "languages" => {
                // A blank entry counts as none.
                i.languages = strings(&[" "]);
                return i;
            }
            other => panic!("no field {other}"),
        };
        *text = " ".into();
        i
    }

    #[test]
    fn each_required_field_missing_on_submit_gets_its_own_message() {
        let required = "campaign.error.required";
        let cases = [
            ("title", required),
            ("product_name", required),
            ("sku", required),
            ("product_url", required),
            ("category", required),
            ("unit_price", required),
            ("unit_currency", required),
            ("shop_id", required),
            ("markets", "campaign.error.markets_required"),
            ("languages", "campaign.error.languages_required"),
            ("format", required),
            ("creators_wanted", required),
            ("followers_min", required),
            ("followers_max", required),
            ("budget_min", required),
            ("budget_max", required),
            ("budget_currency", required),
            ("roi_target", "campaign.error.roi_target_required"),
            ("publish_from", required),
            ("publish_to", required),
        ];
        for (field, key) in cases {
            let input = without(field);
            // Missing is fine for a draft…
            assert!(parse_draft(&input, &shops()).is_ok(), "{field}");
            // …but not for a submission.
            let errors = submit_errors(&input);
            assert_eq!(errors.get(field), Some(&key), "{field}: {errors:?}");
        }
    }

    #[test]
    fn an_roi_target_of_zero_and_zero_creators_are_refused_on_submit() {
        let mut input = good();
        input.roi_target = "0".into();
        input.creators_wanted = "0".into();
        let errors = submit_errors(&input);
        assert_eq!(errors["roi_target"], "campaign.error.roi_target_required");
        assert_eq!(
            errors["creators_wanted"],
            "campaign.error.creators_wanted_range"
        );
    }

    #[test]
    fn minimum_over_maximum_is_refused_for_followers_and_budget() {
        let mut input = good();
        input.followers_min = "1M".into();
        input.followers_max = "100000".into();
        input.budget_min = "20000".into();
        input.budget_max = "10000".into();
        input.fee_cap = "500".into();
        let errors = submit_errors(&input);
        assert_eq!(
            errors["followers_min"],
            "campaign.error.followers_min_over_max"
        );
        assert_eq!(errors["budget_min"], "campaign.error.budget_min_over_max");
        // Equal ends are a fixed value, which is fine.
        let mut input = good();
        input.followers_min = "50000".into();
        input.followers_max = "50K".into();
        assert_eq!(submit(&input), Ok(()));
    }

    #[test]
    fn a_publish_window_in_the_past_or_backwards_is_refused() {
        let mut input = good();
        input.publish_from = "2026-09-01".into();
        input.publish_to = "2026-09-30".into();
        assert_eq!(
            submit_errors(&input)["publish_from"],
            "campaign.error.publish_in_past"
        );
        // Today is not the future either.
        input.publish_from = "2026-10-01".into();
        input.publish_to = "2026-10-20".into();
        assert_eq!(
            submit_errors(&input)["publish_from"],
            "campaign.error.publish_in_past"
        );
        let mut input = good();
        input.publish_from = "2026-12-05".into();
        input.publish_to = "2026-11-05".into();
        assert_eq!(
            submit_errors(&input)["publish_to"],
            "campaign.error.publish_window_order"
        );
    }

    #[test]
    fn a_commission_over_80_percent_is_refused() {
        for (typed, ok) in [("80", true), ("0", true), ("80.01%", false), ("95", false)] {
            let mut input = good();
            input.commission_rate = typed.into();
            let result = submit(&input);
            assert_eq!(result.is_ok(), ok, "{typed}");
            if !ok {
                assert_eq!(
                    result.unwrap_err()["commission_rate"],
                    "campaign.error.commission_range"
                );
            }
        }
        let mut input = good();
        input.commission_rate = "150".into();
        assert_eq!(
            parse_draft(&input, &shops()).unwrap_err()["commission_rate"],
            "campaign.error.percent_range"
        );
    }

    #[test]
    fn a_fee_cap_or_budget_in_a_currency_without_a_reference_rate_is_refused() {
        let mut input = good();
        input.fee_cap_currency = "THB".into();
        assert_eq!(
            submit_errors(&input)["fee_cap_currency"],
            "campaign.error.no_reference_rate"
        );
        let mut input = good();
        input.budget_currency = "MXN".into();
        let errors = submit_errors(&input);
        assert_eq!(
            errors["budget_currency"],
            "campaign.error.no_reference_rate"
        );
        // The cap follows the budget's currency when it has none of its own.
        assert_eq!(
            errors["fee_cap_currency"],
            "campaign.error.no_reference_rate"
        );
        // USD always converts, whatever the rate table says.
        let c = parse_draft(&good(), &shops()).unwrap();
        assert_eq!(validate_submit(&c, today(), &|_| false), Ok(()));
    }

    #[test]
    fn the_fee_cap_must_be_positive_and_within_the_budget_in_the_same_currency() {
        let mut input = good();
        input.fee_cap = "20000".into();
        assert_eq!(
            submit_errors(&input)["fee_cap"],
            "campaign.error.fee_cap_over_budget"
        );
        // In another currency the two are not compared here.
        input.fee_cap_currency = "CNY".into();
        assert_eq!(submit(&input), Ok(()));
        input.fee_cap = "0".into();
        assert_eq!(
            submit_errors(&input)["fee_cap"],
            "campaign.error.must_be_positive"
        );
    }

    #[test]
    fn an_unknown_currency_is_refused_even_in_a_draft() {
        let mut input = good();
        input.unit_currency = "XYZ".into();
        input.budget_currency = "usdollar".into();
        input.fee_cap_currency = "RMB".into();
        let errors = parse_draft(&input, &shops()).unwrap_err();
        assert_eq!(errors["unit_currency"], "campaign.error.currency_unknown");
        assert_eq!(errors["budget_currency"], "campaign.error.currency_unknown");
        assert_eq!(
            errors["fee_cap_currency"],
            "campaign.error.currency_unknown"
        );
        // Lower case is read as the code.
        let mut input = good();
        input.unit_currency = "cny".into();
        assert_eq!(
            parse_draft(&input, &shops())
                .unwrap()
                .unit_currency
                .as_deref(),
            Some("CNY")
        );
    }

    #[test]
    fn a_malformed_product_url_is_refused() {
        for url in [
            "shop.lumi.invalid/p/1",
            "https://localhost/p",
            "ftp://shop.lumi.invalid",
        ] {
            let mut input = good();
            input.product_url = url.into();
            assert_eq!(
                parse_draft(&input, &shops()).unwrap_err()["product_url"],
                "campaign.error.url_format",
                "{url}"
            );
        }
    }

    #[test]
    fn a_shop_of_another_tenant_or_a_malformed_id_is_unknown() {
        for id in ["01936f0e-0000-7000-8000-000000000000", "not-a-uuid"] {
            let mut input = good();
            input.shop_id = id.into();
            assert_eq!(
                parse_draft(&input, &shops()).unwrap_err()["shop_id"],
                "campaign.error.shop_unknown"
            );
        }
    }

    #[test]
    fn a_draft_accepts_an_almost_empty_form_but_refuses_a_malformed_number() {
        let input = CampaignInput {
            title: "Spring idea".into(),
            ..Default::default()
        };
        let c = parse_draft(&input, &[]).unwrap();
        assert_eq!(c.title, "Spring idea");
        assert_eq!(c.unit_price, None);
        assert!(c.markets.is_empty() && !c.sample_needed);

        for (field, set) in [
            (
                "unit_price",
                (|i: &mut CampaignInput| i.unit_price = "12,34".into()) as fn(&mut _),
            ),
            ("budget_max", |i| i.budget_max = "ten thousand".into()),
            ("followers_min", |i| i.followers_min = "lots".into()),
            ("creators_wanted", |i| i.creators_wanted = "2.5".into()),
            ("roi_target", |i| i.roi_target = "two".into()),
            ("publish_from", |i| i.publish_from = "05/11/2026".into()),
            ("ctr_target", |i| i.ctr_target = "abc".into()),
        ] {
            let mut input = input.clone();
            set(&mut input);
            let errors = parse_draft(&input, &[]).unwrap_err();
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn amounts_keep_to_the_currencys_minor_units() {
        let mut input = good();
        input.unit_price = "59.999".into();
        assert_eq!(
            parse_draft(&input, &shops()).unwrap_err()["unit_price"],
            "campaign.error.too_many_decimals"
        );
        input.unit_currency = "JPY".into();
        input.unit_price = "1200.5".into();
        assert_eq!(
            parse_draft(&input, &shops()).unwrap_err()["unit_price"],
            "campaign.error.too_many_decimals"
        );
        // Trailing zeros are not extra decimals; the value is stored in minor units.
        input.unit_price = "1,200.00".into();
        input.gmv_target = "3000000".into();
        assert_eq!(
            parse_draft(&input, &shops()).unwrap().unit_price,
            Some(Decimal::new(1200, 0))
        );
        let mut input = good();
        input.budget_max = "-5".into();
        assert_eq!(
            parse_draft(&input, &shops()).unwrap_err()["budget_max"],
            "campaign.error.negative"
        );
        input.budget_max = "99999999999999".into();
        assert_eq!(
            parse_draft(&input, &shops()).unwrap_err()["budget_max"],
            "campaign.error.amount_too_large"
        );
        assert_eq!(plain_amount("0.5"), Ok(Decimal::new(5, 1)));
        assert_eq!(plain_amount("1，234"), Ok(Decimal::new(1234, 0)));
        assert!(plain_amount("1.").is_err() && plain_amount(".").is_err());
        assert!(plain_amount("$5").is_err() && plain_amount("1e3").is_err());
    }

    #[test]
    fn codes_and_list_entries_must_come_from_the_known_sets() {
        let mut input = good();
        input.markets = strings(&["US", "XX"]);
        input.languages = strings(&["english"]);
        input.format = "podcast".into();
        input.age_buckets = strings(&["20-30"]);
        input.gender = "robot".into();
        input.styles = strings(&["asmr"]);
        input.script_source = "ai".into();
        input.category = "weapons".into();
        input.creative_freedom = "maybe".into();
        let errors = parse_draft(&input, &shops()).unwrap_err();
        assert_eq!(errors["markets"], "campaign.error.market_unknown");
        assert_eq!(errors["languages"], "campaign.error.language_format");
        assert_eq!(errors["format"], "campaign.error.format_unknown");
        assert_eq!(errors["age_buckets"], "campaign.error.age_bucket_unknown");
        assert_eq!(errors["gender"], "campaign.error.gender_unknown");
        assert_eq!(errors["styles"], "campaign.error.style_unknown");
        assert_eq!(
            errors["script_source"],
            "campaign.error.script_source_unknown"
        );
        assert_eq!(errors["category"], "campaign.error.category_unknown");
        assert_eq!(errors["creative_freedom"], "campaign.error.yes_no");
    }

    #[test]
    fn samples_need_a_ship_from_place_on_submit() {
        let mut input = good();
        input.ship_from.clear();
        assert_eq!(
            submit_errors(&input)["ship_from"],
            "campaign.error.ship_from_required"
        );
        input.sample_needed.clear();
        assert_eq!(submit(&input), Ok(()));
    }

    #[test]
    fn a_stored_campaign_fills_the_form_that_reads_back_to_it() {
        let c = parse_draft(&good(), &shops()).unwrap();
        let again = parse_draft(&CampaignInput::from_campaign(&c), &shops()).unwrap();
        assert_eq!(again, c);
        let blank = Campaign::default();
        assert_eq!(
            parse_draft(&CampaignInput::from_campaign(&blank), &[]).unwrap(),
            blank
        );
    }

    #[test]
    fn a_campaign_is_stored_as_json_and_read_back_unchanged() {
        let c = parse_draft(&good(), &shops()).unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["publish_from"], "2026-11-05");
        assert_eq!(json["unit_price"], "59.99");
        assert_eq!(json["age_buckets"], serde_json::json!(["18-24", "25-34"]));
        assert_eq!(serde_json::from_value::<Campaign>(json).unwrap(), c);
        // A row written before a field existed still reads.
        let old: Campaign = serde_json::from_str(r#"{"title": "Old"}"#).unwrap();
        assert_eq!(old.title, "Old");
        assert_eq!(old.publish_from, None);
    }

    #[test]
    fn every_key_handed_out_is_in_both_catalogues() {
        use crate::web::lang::in_both_catalogues;
        let source = include_str!("domain.rs");
        let prefix = concat!("\"", "campaign.");
        for piece in source.split(prefix).skip(1) {
            let key = format!("campaign.{}", piece.split('"').next().unwrap());
            // This test's own prefix and format!, not keys.
            if key == "campaign." || key == "campaign.{}" {
                continue;
            }
            assert!(in_both_catalogues(&key), "{key} is not in both catalogues");
        }
        for s in CampaignState::ALL {
            assert!(in_both_catalogues(s.label_key()), "{s:?}");
        }
        for t in Transition::ALL {
            assert!(in_both_catalogues(t.label_key()), "{t:?}");
        }
        for e in [
            TransitionError::NotAllowedFrom,
            TransitionError::NotAllowedFor,
            TransitionError::ReasonRequired,
        ] {
            assert!(in_both_catalogues(e.key()), "{e:?}");
        }
        for e in [DecisionError::Closed, DecisionError::ReasonRequired] {
            assert!(in_both_catalogues(e.key()), "{e:?}");
        }
    }

    // --- States -------------------------------------------------------------------------------

    use CampaignState as S;
    use Role as A;
    use Transition as T;

    const SELLERS: &[Role] = &[A::SellerOwner, A::SellerOperator];
    const AM: &[Role] = &[A::AccountManager];
    const SYSTEM_ONLY: &[Role] = &[A::System];
    const OWNER_OR_AM: &[Role] = &[A::SellerOwner, A::AccountManager];

    /// The SPEC §2 table, written out independently of `rule`.
    const TABLE: &[(CampaignState, Transition, CampaignState, &[Role])] = &[
        (S::Draft, T::Submit, S::Submitted, SELLERS),
        (S::Submitted, T::StartMatching, S::Matching, AM),
        (S::Matching, T::SendShortlist, S::ShortlistSent, AM),
        (
            S::ShortlistSent,
            T::RequestAnotherRound,
            S::Matching,
            SELLERS,
        ),
        (
            S::ShortlistSent,
            T::ApproveShortlist,
            S::Contracting,
            SELLERS,
        ),
        (
            S::Contracting,
            T::FirstContractAccepted,
            S::Running,
            SYSTEM_ONLY,
        ),
        (
            S::Running,
            T::AllPublishedOrEnded,
            S::Evaluating,
            SYSTEM_ONLY,
        ),
        (S::Evaluating, T::AllRatedOrEnded, S::Closed, SYSTEM_ONLY),
        (S::Draft, T::Cancel, S::Cancelled, OWNER_OR_AM),
        (S::Submitted, T::Cancel, S::Cancelled, OWNER_OR_AM),
        (S::Matching, T::Cancel, S::Cancelled, OWNER_OR_AM),
        (S::ShortlistSent, T::Cancel, S::Cancelled, OWNER_OR_AM),
        (S::Contracting, T::Cancel, S::Cancelled, OWNER_OR_AM),
        (S::Running, T::Cancel, S::Cancelled, OWNER_OR_AM),
        (S::Evaluating, T::Cancel, S::Cancelled, OWNER_OR_AM),
    ];

    const ACTORS: [Role; 4] = [
        A::SellerOwner,
        A::SellerOperator,
        A::AccountManager,
        A::System,
    ];

    #[test]
    fn every_move_in_the_table_is_allowed_to_its_actors() {
        for (from, t, to, actors) in TABLE {
            for actor in *actors {
                assert_eq!(next_state(*from, *t, *actor, "budget cut"), Ok(*to));
                assert!(allowed_transitions(*from, *actor).contains(t));
            }
            for actor in ACTORS.iter().filter(|a| !actors.contains(a)) {
                assert_eq!(
                    next_state(*from, *t, *actor, "budget cut"),
                    Err(TransitionError::NotAllowedFor),
                    "{from:?} {t:?} {actor:?}"
                );
            }
        }
    }

    #[test]
    fn refused_moves_say_why() {
        use TransitionError as E;
        let (owner, operator, am, system) = (
            A::SellerOwner,
            A::SellerOperator,
            A::AccountManager,
            A::System,
        );
        let cases = [
            (S::Closed, T::Cancel, owner, "late", E::NotAllowedFrom),
            (S::Cancelled, T::Cancel, am, "again", E::NotAllowedFrom),
            (S::Running, T::Cancel, operator, "why", E::NotAllowedFor),
            (S::Running, T::Cancel, system, "timeout", E::NotAllowedFor),
            (S::Running, T::Cancel, owner, "  ", E::ReasonRequired),
            (S::Draft, T::Cancel, am, "", E::ReasonRequired),
            (S::Draft, T::Submit, am, "", E::NotAllowedFor),
            (S::Draft, T::StartMatching, am, "", E::NotAllowedFrom),
            (S::Submitted, T::Submit, owner, "", E::NotAllowedFrom),
            (S::Submitted, T::StartMatching, owner, "", E::NotAllowedFor),
            (
                S::Matching,
                T::ApproveShortlist,
                owner,
                "",
                E::NotAllowedFrom,
            ),
            (
                S::ShortlistSent,
                T::ApproveShortlist,
                am,
                "",
                E::NotAllowedFor,
            ),
            (
                S::Contracting,
                T::FirstContractAccepted,
                owner,
                "",
                E::NotAllowedFor,
            ),
            (
                S::Running,
                T::AllRatedOrEnded,
                system,
                "",
                E::NotAllowedFrom,
            ),
            (S::Closed, T::Submit, owner, "", E::NotAllowedFrom),
            (S::Cancelled, T::StartMatching, am, "", E::NotAllowedFrom),
        ];
        for (from, t, actor, reason, why) in cases {
            let result = next_state(from, t, actor, reason);
            assert_eq!(result, Err(why), "{from:?} {t:?} {actor:?}");
        }
        assert_eq!(
            E::ReasonRequired.key(),
            "campaign.transition_error.reason_required"
        );
    }

    #[test]
    fn buttons_follow_the_state_and_the_role() {
        assert_eq!(
            allowed_transitions(S::ShortlistSent, A::SellerOwner),
            [T::RequestAnotherRound, T::ApproveShortlist, T::Cancel]
        );
        assert_eq!(
            allowed_transitions(S::ShortlistSent, A::SellerOperator),
            [T::RequestAnotherRound, T::ApproveShortlist]
        );
        assert_eq!(
            allowed_transitions(S::Submitted, A::AccountManager),
            [T::StartMatching, T::Cancel]
        );
        assert!(allowed_transitions(S::Closed, A::AccountManager).is_empty());
        assert!(allowed_transitions(S::Draft, A::System).is_empty());
    }

    #[test]
    fn system_events_are_taken_by_the_system_only_and_offered_to_no_person() {
        let events: Vec<Transition> = Transition::ALL
            .into_iter()
            .filter(|t| t.is_system_event())
            .collect();
        assert_eq!(
            events,
            [
                T::FirstContractAccepted,
                T::AllPublishedOrEnded,
                T::AllRatedOrEnded
            ]
        );
        for (from, t, to, _) in TABLE.iter().filter(|row| row.1.is_system_event()) {
            assert_eq!(next_state(*from, *t, A::System, ""), Ok(*to));
            for person in [A::SellerOwner, A::SellerOperator, A::AccountManager] {
                assert_eq!(
                    next_state(*from, *t, person, ""),
                    Err(TransitionError::NotAllowedFor),
                    "{t:?} by {person:?}"
                );
            }
        }
        for from in CampaignState::ALL {
            for person in [A::SellerOwner, A::SellerOperator, A::AccountManager] {
                assert!(
                    !allowed_transitions(from, person)
                        .iter()
                        .any(|t| t.is_system_event()),
                    "{from:?} offers {person:?} a system event"
                );
            }
        }
    }

    #[test]
    fn states_and_transitions_read_back_from_their_codes() {
        for s in CampaignState::ALL {
            assert_eq!(CampaignState::parse(s.code()), Some(s));
        }
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.code()), Some(t));
        }
        assert_eq!(CampaignState::ShortlistSent.code(), "shortlist_sent");
        assert_eq!(CampaignState::parse("open"), None);
        assert_eq!(Transition::parse("delete"), None);
    }

    fn any_state() -> impl Strategy<Value = CampaignState> {
        proptest::sample::select(CampaignState::ALL.to_vec())
    }
    fn any_transition() -> impl Strategy<Value = Transition> {
        proptest::sample::select(Transition::ALL.to_vec())
    }
    fn any_actor() -> impl Strategy<Value = Role> {
        proptest::sample::select(ACTORS.to_vec())
    }

    proptest! {
        #[test]
        fn next_state_never_leaves_a_final_state_nor_moves_outside_the_table(
            from in any_state(),
            t in any_transition(),
            actor in any_actor(),
            reason in "\\PC{0,8}",
        ) {
            let result = next_state(from, t, actor, &reason);
            if from.is_final() {
                prop_assert_eq!(result, Err(TransitionError::NotAllowedFrom));
            }
            if let Ok(to) = result {
                let in_table = TABLE.iter().any(|(f, tr, dest, actors)| {
                    *f == from && *tr == t && *dest == to && actors.contains(&actor)
                });
                prop_assert!(in_table, "{:?} {:?} {:?} → {:?}", from, t, actor, to);
                prop_assert!(t != T::Cancel || !reason.trim().is_empty());
                prop_assert!(allowed_transitions(from, actor).contains(&t));
            }
        }
    }

    // --- Codes --------------------------------------------------------------------------------

    #[test]
    fn campaign_codes_take_the_slug_letters_the_month_and_the_sequence() {
        let nov = date!(2026 - 11 - 05);
        assert_eq!(campaign_code("lumi", nov, 3), "LUMI-2611-03");
        assert_eq!(campaign_code("lumi-home", nov, 12), "LUMI-2611-12");
        assert_eq!(campaign_code("7-eleven", nov, 1), "7ELE-2611-01");
        // Short slugs keep their letters, padded only up to two.
        assert_eq!(campaign_code("a-b", nov, 3), "AB-2611-03");
        assert_eq!(campaign_code("q", nov, 3), "QX-2611-03");
        assert_eq!(campaign_code("", date!(2030 - 01 - 31), 7), "XX-3001-07");
        // Past 99 the sequence simply grows.
        assert_eq!(campaign_code("lumi", nov, 100), "LUMI-2611-100");
    }

    // --- Shortlist decisions ----------------------------------------------------------------

    #[test]
    fn a_decision_is_taken_once_while_the_shortlist_is_with_the_seller_and_a_rejection_says_why() {
        use CampaignState as S;
        assert_eq!(Decision::parse(" approve "), Some(Decision::Approve));
        assert_eq!(Decision::parse("reject"), Some(Decision::Reject));
        assert_eq!(Decision::parse("approved"), None);
        assert_eq!(Decision::Approve.code(), "approved");
        assert_eq!(Decision::Reject.code(), "rejected");

        assert_eq!(
            check_decision(S::ShortlistSent, false, Decision::Approve, ""),
            Ok(())
        );
        assert_eq!(
            check_decision(S::ShortlistSent, false, Decision::Reject, "too young"),
            Ok(())
        );
        assert_eq!(
            check_decision(S::ShortlistSent, false, Decision::Reject, ""),
            Err(DecisionError::ReasonRequired)
        );
        assert_eq!(
            check_decision(S::ShortlistSent, true, Decision::Approve, ""),
            Err(DecisionError::Closed)
        );
        for state in [S::Matching, S::Contracting, S::Cancelled] {
            assert_eq!(
                check_decision(state, false, Decision::Reject, ""),
                Err(DecisionError::Closed),
                "{state:?}: closed is said before the missing reason"
            );
        }
        assert_eq!(DecisionError::Closed.key(), "shortlist.error.closed");
        assert_eq!(
            DecisionError::ReasonRequired.key(),
            "shortlist.error.reason_required"
        );
    }

    #[test]
    fn notes_are_trimmed_and_refused_when_too_long_or_holding_control_characters() {
        assert_eq!(note_text("  fine  ").as_deref(), Ok("fine"));
        assert_eq!(note_text("   ").as_deref(), Ok(""));
        assert_eq!(
            note_text(&"好".repeat(TextRule::NOTE.max)).map(|n| n.chars().count()),
            Ok(TextRule::NOTE.max)
        );
        let long = "好".repeat(TextRule::NOTE.max + 1);
        assert_eq!(note_text(&long), Err(TextRule::NOTE.too_long_key()));
        assert_eq!(note_text("young\0"), Err(text::CONTROL_KEY));
    }
}

/// How much of a creator's audience is the campaign's target, per dimension the campaign set:
/// the share of the audience in its age buckets, of its gender, in its markets (0..1). None for a
/// dimension the campaign leaves open, or when the creator's audience does not say.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AudienceMatch {
    pub ages: Option<f64>,
    pub gender: Option<f64>,
    pub markets: Option<f64>,
}

/// The shares (`{"18-24": 0.42, …}`) of `keys` summed; None when the audience has no shares.
fn share_of(shares: &serde_json::Value, keys: &[&str]) -> Option<f64> {
    let map = shares.as_object().filter(|m| !m.is_empty())?;
    Some(
        keys.iter()
            .filter_map(|k| map.get(*k).and_then(|v| v.as_f64()))
            .sum::<f64>()
            .clamp(0.0, 1.0),
    )
}

pub fn audience_match(
    target: &Campaign,
    ages: &serde_json::Value,
    genders: &serde_json::Value,
    countries: &serde_json::Value,
) -> AudienceMatch {
    let age_keys: Vec<&str> = target.age_buckets.iter().map(|a| a.code()).collect();
    let market_keys: Vec<&str> = target.markets.iter().map(String::as_str).collect();
    AudienceMatch {
        ages: (!age_keys.is_empty())
            .then(|| share_of(ages, &age_keys))
            .flatten(),
        gender: target.gender.and_then(|g| share_of(genders, &[g.code()])),
        markets: (!market_keys.is_empty())
            .then(|| share_of(countries, &market_keys))
            .flatten(),
    }
}

#[cfg(test)]
mod audience_match_tests {
    use super::*;
    use crate::matching::domain::{AgeBucket, Gender};
    use serde_json::json;

    #[test]
    fn each_dimension_the_campaign_targets_is_the_audiences_share_in_it() {
        let target = Campaign {
            age_buckets: vec![AgeBucket::A18_24, AgeBucket::A25_34],
            gender: Some(Gender::Female),
            markets: vec!["US".into(), "GB".into()],
            ..Campaign::default()
        };
        let m = audience_match(
            &target,
            &json!({"18-24": 0.4, "25-34": 0.22, "35-44": 0.38}),
            &json!({"female": 0.71, "male": 0.29}),
            &json!({"US": 0.5, "CA": 0.2, "GB": 0.1}),
        );
        assert!((m.ages.unwrap() - 0.62).abs() < 1e-9);
        assert!((m.gender.unwrap() - 0.71).abs() < 1e-9);
        assert!((m.markets.unwrap() - 0.6).abs() < 1e-9);
        // Open dimensions and silent audiences say nothing.
        let open = audience_match(
            &Campaign::default(),
            &json!({"18-24": 1.0}),
            &json!({}),
            &json!({}),
        );
        assert_eq!(open, AudienceMatch::default());
        let silent = audience_match(&target, &json!({}), &json!(null), &json!({}));
        assert_eq!(silent, AudienceMatch::default());
    }
}
