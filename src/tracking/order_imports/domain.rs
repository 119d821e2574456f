//! The order import's rules, as plain functions: its states, the moves a person may make on a
//! batch (import, cancel, undo) and from which state each is allowed. The background job moves
//! the other edges (`queued` → `validating` → `validated`, `importing` → `imported`, → `failed`).
//! Also which export fits which shop, and how the form's export time is read.

use rust_decimal::Decimal;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::tracking::order_imports::parse::{OrderFormat, local_to_utc, shop_zone};

/// The upload form's "exported at": a local minute (`2026-03-20T10:00`, as `datetime-local`
/// sends it) in the tenant's time zone.
pub const LOCAL_MINUTE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]");

/// How far past the server's clock an export time may be (another machine's clock, a minute
/// typed ahead); later is a typo that would freeze its orders against every real export.
pub const CLOCK_SKEW: time::Duration = time::Duration::minutes(10);

/// When the export was taken, from the form's local minute in `time_zone`; None when either is
/// unreadable.
pub fn exported_at(local: &str, time_zone: &str) -> Option<OffsetDateTime> {
    let local = PrimitiveDateTime::parse(local.trim(), LOCAL_MINUTE).ok()?;
    Some(local_to_utc(local, shop_zone(time_zone)?))
}

/// Where an order import stands (the `order_imports.state` column, text with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ImportState {
    /// Stored and waiting for its validation run.
    Queued,
    Validating,
    /// The report is ready: the person imports or cancels.
    Validated,
    Importing,
    Imported,
    Cancelled,
    /// Imported once, then taken back as a batch.
    Undone,
    Failed,
}

impl ImportState {
    pub const ALL: [ImportState; 8] = [
        ImportState::Queued,
        ImportState::Validating,
        ImportState::Validated,
        ImportState::Importing,
        ImportState::Imported,
        ImportState::Cancelled,
        ImportState::Undone,
        ImportState::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportState::Queued => "queued",
            ImportState::Validating => "validating",
            ImportState::Validated => "validated",
            ImportState::Importing => "importing",
            ImportState::Imported => "imported",
            ImportState::Cancelled => "cancelled",
            ImportState::Undone => "undone",
            ImportState::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<ImportState> {
        ImportState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The message key of the state's name (`orders.state.*`).
    pub fn label_key(self) -> &'static str {
        match self {
            ImportState::Queued => "orders.state.queued",
            ImportState::Validating => "orders.state.validating",
            ImportState::Validated => "orders.state.validated",
            ImportState::Importing => "orders.state.importing",
            ImportState::Imported => "orders.state.imported",
            ImportState::Cancelled => "orders.state.cancelled",
            ImportState::Undone => "orders.state.undone",
            ImportState::Failed => "orders.state.failed",
        }
    }

    /// A job is working on it (the page polls its progress).
    pub fn is_failed(self) -> bool {
        self == ImportState::Failed
    }

    pub fn is_running(self) -> bool {
        matches!(
            self,
            ImportState::Queued | ImportState::Validating | ImportState::Importing
        )
    }
}

/// What a person does to a batch (`POST …/imports/{id}/{command}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportCommand {
    /// Import the good rows of a validated file.
    Confirm,
    /// Drop a validated file without importing it.
    Cancel,
    /// Take an imported batch back.
    Undo,
}

impl ImportCommand {
    pub const ALL: [ImportCommand; 3] = [
        ImportCommand::Confirm,
        ImportCommand::Cancel,
        ImportCommand::Undo,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportCommand::Confirm => "confirm",
            ImportCommand::Cancel => "cancel",
            ImportCommand::Undo => "undo",
        }
    }

    pub fn parse(code: &str) -> Option<ImportCommand> {
        ImportCommand::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The audit log's name for the move.
    pub fn audit_action(self) -> &'static str {
        match self {
            ImportCommand::Confirm => "orders.confirm",
            ImportCommand::Cancel => "orders.cancel",
            ImportCommand::Undo => "orders.undo",
        }
    }

    /// The one state the command applies to, and where it leads.
    pub fn edge(self) -> (ImportState, ImportState) {
        match self {
            ImportCommand::Confirm => (ImportState::Validated, ImportState::Importing),
            ImportCommand::Cancel => (ImportState::Validated, ImportState::Cancelled),
            ImportCommand::Undo => (ImportState::Imported, ImportState::Undone),
        }
    }
}

/// The message key of a move the state table refuses.
pub const NOT_ALLOWED: &str = "orders.flash.not_allowed";

/// The import's state table for a person's moves: the state `command` leads to from `from`, or
/// None when the batch is not in the one state the command applies to (a running job, a batch
/// already imported, cancelled or undone, a failed one).
pub fn next_state(from: ImportState, command: ImportCommand) -> Option<ImportState> {
    let (expected, to) = command.edge();
    (from == expected).then_some(to)
}

/// Whether an export fits the shop: a TikTok Shop takes the affiliate export, a Shopify shop
/// the Shopify one; other shops take either.
pub fn fits_shop(format: OrderFormat, platform: &str) -> bool {
    !matches!(
        (format, platform),
        (OrderFormat::Shopify, "tiktok_shop") | (OrderFormat::TikTokAffiliate, "shopify")
    )
}

/// A field of an order line kept for settlement (SPEC §9) and rating (§7) beside the amount:
/// the `order_lines` column of the same name. A batch records which of them its file carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineField {
    PaidAt,
    EstCommissionBase,
    ActualCommissionBase,
    ActualCommission,
    Subtotal,
    Discounts,
    Shipping,
    Tax,
}

impl LineField {
    pub const ALL: [LineField; 8] = [
        LineField::PaidAt,
        LineField::EstCommissionBase,
        LineField::ActualCommissionBase,
        LineField::ActualCommission,
        LineField::Subtotal,
        LineField::Discounts,
        LineField::Shipping,
        LineField::Tax,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LineField::PaidAt => "paid_at",
            LineField::EstCommissionBase => "est_commission_base",
            LineField::ActualCommissionBase => "actual_commission_base",
            LineField::ActualCommission => "actual_commission",
            LineField::Subtotal => "subtotal",
            LineField::Discounts => "discounts",
            LineField::Shipping => "shipping",
            LineField::Tax => "tax",
        }
    }

    /// The message key of its name (`orders.field.*`).
    pub fn label_key(self) -> &'static str {
        match self {
            LineField::PaidAt => "orders.field.paid_at",
            LineField::EstCommissionBase => "orders.field.est_commission_base",
            LineField::ActualCommissionBase => "orders.field.actual_commission_base",
            LineField::ActualCommission => "orders.field.actual_commission",
            LineField::Subtotal => "orders.field.subtotal",
            LineField::Discounts => "orders.field.discounts",
            LineField::Shipping => "orders.field.shipping",
            LineField::Tax => "orders.field.tax",
        }
    }

    /// Its bit in a set of fields (`LineFields`).
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The fields an export of `format` can carry.
    pub fn of_format(format: OrderFormat) -> &'static [LineField] {
        match format {
            OrderFormat::TikTokAffiliate => &[
                LineField::PaidAt,
                LineField::EstCommissionBase,
                LineField::ActualCommissionBase,
                LineField::ActualCommission,
            ],
            OrderFormat::Shopify => &[
                LineField::PaidAt,
                LineField::Subtotal,
                LineField::Discounts,
                LineField::Shipping,
                LineField::Tax,
            ],
        }
    }

    /// The codes of the fields in the set `bits`.
    pub fn codes(bits: u8) -> Vec<String> {
        LineField::ALL
            .into_iter()
            .filter(|f| bits & f.bit() != 0)
            .map(|f| f.code().to_string())
            .collect()
    }
}

/// What a batch's page says of the kept fields: None when its file carried every field its
/// export can; `Predates` for a batch validated before they were kept (the backfill reads its
/// stored file); else the fields no row of the file had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldsNote {
    Predates,
    Lacks(Vec<LineField>),
}

pub fn fields_note(format: Option<OrderFormat>, carried: Option<&[String]>) -> Option<FieldsNote> {
    let format = format?;
    let Some(carried) = carried else {
        return Some(FieldsNote::Predates);
    };
    let lacking: Vec<LineField> = LineField::of_format(format)
        .iter()
        .copied()
        .filter(|f| !carried.iter().any(|c| c == f.code()))
        .collect();
    (!lacking.is_empty()).then_some(FieldsNote::Lacks(lacking))
}

/// Which rule credited an order line to a collaboration (the `order_attributions.attributed_by`
/// column), in the order the rules are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributedBy {
    /// TikTok `Content ID` = the video id of one of the collaboration's posts.
    Content,
    /// Shopify: one of the order's discount codes is the collaboration's code.
    DiscountCode,
    /// The creator has this one collaboration with the tenant.
    SingleCollaboration,
    /// The order was placed within the post window of exactly one of the creator's
    /// collaborations.
    PostWindow,
    /// The order was placed within the active period (contract accepted … ended) of exactly
    /// one of the creator's collaborations.
    ActivePeriod,
    /// A person chose it.
    Person,
}

impl AttributedBy {
    pub fn code(self) -> &'static str {
        match self {
            AttributedBy::Content => "content",
            AttributedBy::DiscountCode => "discount_code",
            AttributedBy::SingleCollaboration => "single_collaboration",
            AttributedBy::PostWindow => "post_window",
            AttributedBy::ActivePeriod => "active_period",
            AttributedBy::Person => "person",
        }
    }
}

/// How long after a post orders are still credited to it: the last metrics window (D30).
pub const POST_WINDOW: time::Duration = time::Duration::days(30);

/// One collaboration an order line could belong to: one of the tenant's collaborations with
/// the creator named on the line (not proposed, not cancelled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub collaboration_id: uuid::Uuid,
    /// The video ids of its posts.
    pub video_ids: Vec<String>,
    /// When its first and its last post were published (None without posts).
    pub posts: Option<(OffsetDateTime, OffsetDateTime)>,
    /// When its contract was accepted (None if it never was) and when it ended (None while it
    /// runs).
    pub accepted_at: Option<OffsetDateTime>,
    pub ended_at: Option<OffsetDateTime>,
}

impl Candidate {
    /// From its first post to [`POST_WINDOW`] after its last one.
    fn post_window_holds(&self, at: OffsetDateTime) -> bool {
        self.posts
            .is_some_and(|(first, last)| first <= at && at < last + POST_WINDOW)
    }

    /// From the contract's acceptance until it ended (or still).
    fn active_at(&self, at: OffsetDateTime) -> bool {
        self.accepted_at.is_some_and(|from| from <= at)
            && self.ended_at.is_none_or(|until| at < until)
    }
}

/// Whether a collaboration's period holds an order time.
type PeriodTest = fn(&Candidate, OffsetDateTime) -> bool;

/// Why a line stays for a person to attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unattributed {
    /// The line names no creator (nor a known code).
    NoCreator,
    /// The creator has no collaboration with the tenant.
    NoCollaboration,
    /// Several collaborations hold the order time (how many).
    Ambiguous(usize),
    /// The creator has several collaborations and none holds the order time.
    OutsideEveryPeriod(usize),
}

impl Unattributed {
    /// The message key of the reason (`orders.reason.*`, with `count` where it has one).
    pub fn key(self) -> &'static str {
        match self {
            Unattributed::NoCreator => "orders.reason.no_creator",
            Unattributed::NoCollaboration => "orders.reason.no_collaboration",
            Unattributed::Ambiguous(_) => "orders.reason.ambiguous",
            Unattributed::OutsideEveryPeriod(_) => "orders.reason.outside",
        }
    }

    pub fn count(self) -> usize {
        match self {
            Unattributed::Ambiguous(n) | Unattributed::OutsideEveryPeriod(n) => n,
            _ => 0,
        }
    }
}

/// The attribution rule for a line that names a creator (SPEC §5), tried in order: the post
/// whose video the line's `Content ID` names; the creator's only collaboration; the one
/// collaboration whose post window holds the order time; the one whose active period holds
/// it. Where a rule finds several, the line is ambiguous and waits for a person.
pub fn attribute(
    placed_at: OffsetDateTime,
    content_id: Option<&str>,
    candidates: &[Candidate],
) -> Result<(uuid::Uuid, AttributedBy), Unattributed> {
    if let Some(content) = content_id
        && let [one] = candidates
            .iter()
            .filter(|c| c.video_ids.iter().any(|v| v == content))
            .collect::<Vec<_>>()[..]
    {
        return Ok((one.collaboration_id, AttributedBy::Content));
    }
    match candidates {
        [] => return Err(Unattributed::NoCollaboration),
        [one] => return Ok((one.collaboration_id, AttributedBy::SingleCollaboration)),
        _ => {}
    }
    let rules: [(PeriodTest, AttributedBy); 2] = [
        (Candidate::post_window_holds, AttributedBy::PostWindow),
        (Candidate::active_at, AttributedBy::ActivePeriod),
    ];
    for (holds, rule) in rules {
        let matching: Vec<&Candidate> = candidates.iter().filter(|c| holds(c, placed_at)).collect();
        match matching[..] {
            [] => continue,
            [one] => return Ok((one.collaboration_id, rule)),
            _ => return Err(Unattributed::Ambiguous(matching.len())),
        }
    }
    Err(Unattributed::OutsideEveryPeriod(candidates.len()))
}

/// The most order lines one API call may carry.
pub const MAX_LINES_PER_CALL: usize = 10_000;

/// An order line as a program sends it (the API): the importers' normalized shape — the keys a
/// line is known by (`order_key` + `line_key`, as TikTok's Order ID / SKU ID or Shopify's Name),
/// times with their offset (RFC 3339), money as decimal strings or numbers in `currency`, a
/// commission rate as a fraction (0.15). Absent optional fields are "not known".
#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct OrderLineRecord {
    pub order_key: String,
    #[serde(default)]
    pub line_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    #[serde(default)]
    pub status: Option<String>,
    pub currency: String,
    #[schema(value_type = String, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub amount: Decimal,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub quantity: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub refunded_amount: Option<Decimal>,
    #[serde(default)]
    pub fully_refunded: bool,
    #[serde(default)]
    pub creator_username: Option<String>,
    #[serde(default)]
    pub content_id: Option<String>,
    #[serde(default)]
    pub discount_code: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$", example = "0.15")]
    pub commission_rate: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub commission: Option<Decimal>,
    #[serde(default)]
    pub product_name: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub est_commission_base: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub actual_commission_base: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub actual_commission: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub subtotal: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub discounts: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub shipping: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,16}(\.[0-9]{1,2})?$", example = "25.90")]
    pub tax: Option<Decimal>,
}

/// A line that passed: what is staged, texts trimmed, the currency and handle normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedLine {
    pub record: OrderLineRecord,
    /// The kept fields it has a value for (`LineField::bit`s).
    pub fields: u8,
}

/// Money as the columns hold it: ≥ 0, at most two decimals (cents; an API sends what it means,
/// nothing is rounded), below 10^16.
fn money_ok(d: Decimal) -> bool {
    d.is_zero() || (!d.is_sign_negative() && d.scale() <= 2 && d < Decimal::from(10_i64.pow(16)))
}

/// Checks one line of a batch (field names `lines[i].…`, the file importer's messages); the
/// line as it will be stored, or None with its problems added to `errors`.
pub fn check_order_line(
    i: usize,
    mut r: OrderLineRecord,
    errors: &mut crate::kernel::FieldErrors,
) -> Option<CheckedLine> {
    use crate::creators::import::{currency_code, normalize_handle};
    use crate::tracking::order_imports::parse::{MAX_ID, MAX_LABEL, MAX_NAME, YEARS};
    let before = errors.len();
    let mut fail = |name: &str, key: &'static str| {
        errors.insert(format!("lines[{i}].{name}"), key);
    };
    let text_ok =
        |t: &str, max: usize| t.chars().count() <= max && !t.chars().any(char::is_control);
    r.order_key = r.order_key.trim().to_string();
    r.line_key = r.line_key.trim().to_string();
    if r.order_key.is_empty() {
        fail("order_key", "tracking.orders.error.missing_value");
    } else if !text_ok(&r.order_key, MAX_ID) {
        fail("order_key", "tracking.orders.error.bad_id");
    }
    if !text_ok(&r.line_key, MAX_ID) {
        fail("line_key", "tracking.orders.error.bad_id");
    }
    for (name, value, max) in [
        ("status", &mut r.status, MAX_LABEL),
        ("content_id", &mut r.content_id, MAX_ID),
        ("discount_code", &mut r.discount_code, MAX_NAME),
        ("product_name", &mut r.product_name, MAX_NAME),
    ] {
        if let Some(t) = value.as_mut() {
            *t = t.trim().to_string();
            if !text_ok(t, max) {
                fail(name, "tracking.orders.error.too_long");
            }
        }
        if value.as_deref() == Some("") {
            *value = None;
        }
    }
    match r.creator_username.as_deref().map(str::trim) {
        None | Some("") => r.creator_username = None,
        Some(raw) => match normalize_handle(raw) {
            Some(handle) => r.creator_username = Some(handle),
            None => fail("creator_username", "tracking.orders.error.bad_username"),
        },
    }
    match currency_code(&r.currency) {
        Some(code) => r.currency = code,
        None => fail("currency", "tracking.orders.error.bad_currency"),
    }
    for (name, at) in [("placed_at", Some(r.placed_at)), ("paid_at", r.paid_at)] {
        if at.is_some_and(|at| !YEARS.contains(&at.year())) {
            fail(name, "tracking.orders.error.bad_date");
        }
    }
    if !r
        .quantity
        .is_none_or(|q| (0..=i64::from(i32::MAX)).contains(&q))
    {
        fail("quantity", "tracking.orders.error.bad_quantity");
    }
    if !r
        .commission_rate
        .is_none_or(|c| (Decimal::ZERO..=Decimal::ONE).contains(&c) && c.scale() <= 4)
    {
        fail("commission_rate", "tracking.orders.error.bad_rate");
    }
    let mut fields = 0;
    for (name, value, field) in [
        ("amount", Some(r.amount), None),
        ("refunded_amount", r.refunded_amount, None),
        ("commission", r.commission, None),
        (
            "est_commission_base",
            r.est_commission_base,
            Some(LineField::EstCommissionBase),
        ),
        (
            "actual_commission_base",
            r.actual_commission_base,
            Some(LineField::ActualCommissionBase),
        ),
        (
            "actual_commission",
            r.actual_commission,
            Some(LineField::ActualCommission),
        ),
        ("subtotal", r.subtotal, Some(LineField::Subtotal)),
        ("discounts", r.discounts, Some(LineField::Discounts)),
        ("shipping", r.shipping, Some(LineField::Shipping)),
        ("tax", r.tax, Some(LineField::Tax)),
    ] {
        if let Some(d) = value {
            if !money_ok(d) {
                fail(
                    name,
                    if d.is_sign_negative() {
                        "tracking.orders.error.negative_amount"
                    } else {
                        "tracking.orders.error.bad_number"
                    },
                );
            }
            if let Some(f) = field {
                fields |= f.bit();
            }
        }
    }
    if r.paid_at.is_some() {
        fields |= LineField::PaidAt.bit();
    }
    (errors.len() == before).then_some(CheckedLine { record: r, fields })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn candidate(n: u128) -> Candidate {
        Candidate {
            collaboration_id: uuid::Uuid::from_u128(n),
            video_ids: vec![],
            posts: None,
            accepted_at: None,
            ended_at: None,
        }
    }

    /// A spring collaboration (accepted 1 March, posted 10 March, ended 1 May) and an autumn one
    /// (accepted 1 September, posted 5 September, still running) with the same creator.
    fn spring_and_autumn() -> Vec<Candidate> {
        vec![
            Candidate {
                video_ids: vec!["v-spring".into()],
                posts: Some((
                    datetime!(2026-03-10 12:00 UTC),
                    datetime!(2026-03-10 12:00 UTC),
                )),
                accepted_at: Some(datetime!(2026-03-01 0:00 UTC)),
                ended_at: Some(datetime!(2026-05-01 0:00 UTC)),
                ..candidate(1)
            },
            Candidate {
                video_ids: vec!["v-autumn".into()],
                posts: Some((
                    datetime!(2026-09-05 12:00 UTC),
                    datetime!(2026-09-05 12:00 UTC),
                )),
                accepted_at: Some(datetime!(2026-09-01 0:00 UTC)),
                ..candidate(2)
            },
        ]
    }

    #[test]
    fn a_batch_says_which_kept_fields_its_file_lacked_or_that_it_predates_them() {
        let tiktok = Some(OrderFormat::TikTokAffiliate);
        assert_eq!(fields_note(tiktok, None), Some(FieldsNote::Predates));
        let all = LineField::codes(0xff);
        assert_eq!(fields_note(tiktok, Some(&all)), None);
        let some = LineField::codes(LineField::PaidAt.bit() | LineField::EstCommissionBase.bit());
        assert_eq!(
            fields_note(tiktok, Some(&some)),
            Some(FieldsNote::Lacks(vec![
                LineField::ActualCommissionBase,
                LineField::ActualCommission
            ]))
        );
        assert_eq!(
            fields_note(Some(OrderFormat::Shopify), Some(&some)),
            Some(FieldsNote::Lacks(vec![
                LineField::Subtotal,
                LineField::Discounts,
                LineField::Shipping,
                LineField::Tax
            ]))
        );
        assert_eq!(fields_note(None, None), None);
    }

    #[test]
    fn the_content_id_of_a_post_wins_over_every_period() {
        let both = spring_and_autumn();
        // Placed in autumn, but from the spring video.
        assert_eq!(
            attribute(datetime!(2026-09-20 0:00 UTC), Some("v-spring"), &both),
            Ok((uuid::Uuid::from_u128(1), AttributedBy::Content))
        );
    }

    #[test]
    fn a_creators_only_collaboration_takes_the_line_whenever_it_was_placed() {
        assert_eq!(
            attribute(
                datetime!(2020-01-01 0:00 UTC),
                Some("other"),
                &[candidate(7)]
            ),
            Ok((uuid::Uuid::from_u128(7), AttributedBy::SingleCollaboration))
        );
        assert_eq!(
            attribute(datetime!(2020-01-01 0:00 UTC), None, &[]),
            Err(Unattributed::NoCollaboration)
        );
    }

    #[test]
    fn with_two_collaborations_the_post_window_then_the_active_period_decides() {
        let both = spring_and_autumn();
        // Within 30 days of the spring post.
        assert_eq!(
            attribute(datetime!(2026-04-01 0:00 UTC), None, &both),
            Ok((uuid::Uuid::from_u128(1), AttributedBy::PostWindow))
        );
        // Autumn accepted, not yet posted: its active period.
        assert_eq!(
            attribute(datetime!(2026-09-03 0:00 UTC), None, &both),
            Ok((uuid::Uuid::from_u128(2), AttributedBy::ActivePeriod))
        );
        // Spring is over and autumn not accepted yet.
        assert_eq!(
            attribute(datetime!(2026-06-15 0:00 UTC), None, &both),
            Err(Unattributed::OutsideEveryPeriod(2))
        );
        // The 30 days after the spring post end on 9 April at noon; spring ran until 1 May.
        assert_eq!(
            attribute(datetime!(2026-04-20 0:00 UTC), None, &both),
            Ok((uuid::Uuid::from_u128(1), AttributedBy::ActivePeriod))
        );
    }

    #[test]
    fn two_collaborations_holding_the_order_time_leave_the_line_to_a_person() {
        let mut both = spring_and_autumn();
        both[1].accepted_at = Some(datetime!(2026-02-01 0:00 UTC));
        both[1].posts = Some((
            datetime!(2026-03-20 0:00 UTC),
            datetime!(2026-03-20 0:00 UTC),
        ));
        assert_eq!(
            attribute(datetime!(2026-03-25 0:00 UTC), None, &both),
            Err(Unattributed::Ambiguous(2))
        );
        // Before either posted, both contracts were running.
        assert_eq!(
            attribute(datetime!(2026-03-05 0:00 UTC), None, &both),
            Err(Unattributed::Ambiguous(2))
        );
        // The same video id on two posts is no tracked link either.
        both[1].video_ids = vec!["v-spring".into()];
        assert_eq!(
            attribute(datetime!(2026-03-05 0:00 UTC), Some("v-spring"), &both),
            Err(Unattributed::Ambiguous(2))
        );
    }

    #[test]
    fn the_export_time_is_a_local_minute_in_the_tenants_zone() {
        assert_eq!(
            exported_at(" 2026-03-20T10:00 ", "America/Los_Angeles"),
            Some(time::macros::datetime!(2026-03-20 17:00 UTC))
        );
        assert_eq!(
            exported_at("2026-03-20T10:00", "Asia/Shanghai"),
            Some(time::macros::datetime!(2026-03-20 02:00 UTC))
        );
        assert_eq!(exported_at("yesterday", "Asia/Shanghai"), None);
        assert_eq!(exported_at("2026-03-20 10:00", "Asia/Shanghai"), None);
        assert_eq!(exported_at("2026-03-20T10:00", "Mars/Olympus"), None);
    }

    #[test]
    fn a_tiktok_shop_takes_the_affiliate_export_and_a_shopify_shop_the_shopify_one() {
        assert!(fits_shop(OrderFormat::TikTokAffiliate, "tiktok_shop"));
        assert!(!fits_shop(OrderFormat::Shopify, "tiktok_shop"));
        assert!(fits_shop(OrderFormat::Shopify, "shopify"));
        assert!(!fits_shop(OrderFormat::TikTokAffiliate, "shopify"));
        assert!(fits_shop(OrderFormat::Shopify, "other"));
        assert!(fits_shop(OrderFormat::TikTokAffiliate, "other"));
    }

    #[test]
    fn a_validated_batch_is_imported_or_cancelled_and_an_imported_one_undone() {
        use ImportCommand::*;
        use ImportState::*;
        assert_eq!(next_state(Validated, Confirm), Some(Importing));
        assert_eq!(next_state(Validated, Cancel), Some(Cancelled));
        assert_eq!(next_state(Imported, Undo), Some(Undone));
    }

    #[test]
    fn every_other_move_is_refused() {
        let allowed = [
            (ImportState::Validated, ImportCommand::Confirm),
            (ImportState::Validated, ImportCommand::Cancel),
            (ImportState::Imported, ImportCommand::Undo),
        ];
        for from in ImportState::ALL {
            for command in ImportCommand::ALL {
                if !allowed.contains(&(from, command)) {
                    assert_eq!(next_state(from, command), None, "{from:?} {command:?}");
                }
            }
        }
    }

    #[test]
    fn states_and_commands_read_back_from_their_codes() {
        for s in ImportState::ALL {
            assert_eq!(ImportState::parse(s.code()), Some(s));
        }
        for c in ImportCommand::ALL {
            assert_eq!(ImportCommand::parse(c.code()), Some(c));
        }
        assert_eq!(ImportCommand::parse("delete"), None);
        assert_eq!(ImportState::parse("done"), None);
        let running: Vec<_> = ImportState::ALL
            .into_iter()
            .filter(|s| s.is_running())
            .collect();
        assert_eq!(
            running,
            [
                ImportState::Queued,
                ImportState::Validating,
                ImportState::Importing
            ]
        );
    }
}
