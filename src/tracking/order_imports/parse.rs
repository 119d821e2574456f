//! Order exports (SPEC §5) read as a stream of normalized orders and per-row rejections, each
//! rejection with its line number (pure: no database, constant memory however long the file).
//!
//! Two exports are understood, told apart by their header row; columns are found by header name
//! (case, spaces, `_` and `-` ignored), never by position:
//! - TikTok Shop Seller Center *affiliate orders* (CSV here, XLSX in `xlsx`): one row per
//!   (`Order ID`, `SKU ID`). Required columns: `Order ID`, `SKU ID`, `Payment Amount`,
//!   `Currency`, `Time Created`, and `Creator Username` (attribution needs it; a blank cell is
//!   allowed and makes the line unattributed). Every other listed column is optional.
//! - Shopify *orders*: one row per line item, the order's own fields on its first row only;
//!   consecutive rows with the same `Name` make one order. Required columns: `Name`, `Currency`,
//!   `Total`, `Created at`, `Lineitem quantity`, `Lineitem price`.
//!
//! Which of two exports is newer is not in either file: the caller keeps the export time with the
//! import batch. Duplicate keys inside one file are left to the staging merge, which sees them
//! all (tracking them here would cost memory per order).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::io::{Chain, Cursor, Read};
use std::str::FromStr;

use encoding_rs::Encoding;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use time::macros::date;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use time_tz::{Offset, OffsetResult, PrimitiveDateTimeExt, TimeZone, Tz, timezones};

use super::stream::{self, DecodedReader, NotText};
use crate::creators::import;

/// An ID longer than this is not an order or SKU ID but a misplaced cell.
pub(crate) const MAX_ID: usize = 64;
/// Product and line-item names (TikTok allows 255 characters; room for other shops).
pub(crate) const MAX_NAME: usize = 1_000;
/// Statuses, content types, SKUs.
pub(crate) const MAX_LABEL: usize = 128;
/// A float holds every integer below 2^53 exactly; a longer ID stored as a number was rounded.
const EXACT_FLOAT_INT: f64 = 9_007_199_254_740_992.0;
/// Dates outside these years are typos or a spreadsheet's epoch (1900), not orders.
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderFormat {
    TikTokAffiliate,
    Shopify,
}

impl OrderFormat {
    pub fn code(self) -> &'static str {
        match self {
            OrderFormat::TikTokAffiliate => "tiktok_affiliate",
            OrderFormat::Shopify => "shopify",
        }
    }

    /// The message catalogue key of the export's name.
    pub fn key(self) -> &'static str {
        match self {
            OrderFormat::TikTokAffiliate => "tracking.orders.format.tiktok_affiliate",
            OrderFormat::Shopify => "tracking.orders.format.shopify",
        }
    }

    /// (column, header as the export writes it, required).
    fn columns(self) -> &'static [(Column, &'static str, bool)] {
        match self {
            OrderFormat::TikTokAffiliate => TIKTOK_COLUMNS,
            OrderFormat::Shopify => SHOPIFY_COLUMNS,
        }
    }
}

/// How a shop's exports write slash dates (`shops.date_order`): `DD/MM/YYYY` (SPEC §5's
/// default), `MM/DD/YYYY` (US shops) or `YYYY/MM/DD`. ISO dates (`2026-05-01`) read the same in
/// every order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DateOrder {
    #[default]
    Dmy,
    Mdy,
    Ymd,
}

impl DateOrder {
    /// `DMY`, `MDY` or `YMD`, as `shops.date_order` stores it; None for anything else.
    pub fn parse(code: &str) -> Option<DateOrder> {
        match code {
            "DMY" => Some(DateOrder::Dmy),
            "MDY" => Some(DateOrder::Mdy),
            "YMD" => Some(DateOrder::Ymd),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            DateOrder::Dmy => "DMY",
            DateOrder::Mdy => "MDY",
            DateOrder::Ymd => "YMD",
        }
    }
}

/// A column of either export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    OrderId,
    SkuId,
    ProductName,
    PaymentAmount,
    Currency,
    Quantity,
    FullyRefunded,
    OrderStatus,
    CreatorUsername,
    ContentType,
    ContentId,
    CommissionRate,
    EstCommissionBase,
    EstCommission,
    ActualCommissionBase,
    ActualCommission,
    TimeCreated,
    PaymentTime,
    CommissionPaidTime,
    Name,
    FinancialStatus,
    Total,
    DiscountCode,
    DiscountAmount,
    CreatedAt,
    PaidAt,
    RefundedAmount,
    Subtotal,
    Shipping,
    Taxes,
    LineitemQuantity,
    LineitemName,
    LineitemPrice,
    LineitemSku,
}

const COLUMN_COUNT: usize = Column::LineitemSku as usize + 1;

#[rustfmt::skip]
const TIKTOK_COLUMNS: &[(Column, &str, bool)] = &[
    (Column::OrderId, "Order ID", true),
    (Column::SkuId, "SKU ID", true),
    (Column::ProductName, "Product Name", false),
    (Column::PaymentAmount, "Payment Amount", true),
    (Column::Currency, "Currency", true),
    (Column::Quantity, "Quantity", false),
    (Column::FullyRefunded, "Fully returned or refunded", false),
    (Column::OrderStatus, "Order Status", false),
    (Column::CreatorUsername, "Creator Username", true),
    (Column::ContentType, "Content Type", false),
    (Column::ContentId, "Content ID", false),
    (Column::CommissionRate, "Standard commission rate", false),
    (Column::EstCommissionBase, "Est. Commission Base", false),
    (Column::EstCommission, "Est. standard commission payment", false),
    (Column::ActualCommissionBase, "Actual Commission Base", false),
    (Column::ActualCommission, "Actual Commission Payment", false),
    (Column::TimeCreated, "Time Created", true),
    (Column::PaymentTime, "Payment time", false),
    (Column::CommissionPaidTime, "Time Commission Paid", false),
];

#[rustfmt::skip]
const SHOPIFY_COLUMNS: &[(Column, &str, bool)] = &[
    (Column::Name, "Name", true),
    (Column::FinancialStatus, "Financial Status", false),
    (Column::Currency, "Currency", true),
    (Column::Total, "Total", true),
    (Column::DiscountCode, "Discount Code", false),
    (Column::DiscountAmount, "Discount Amount", false),
    (Column::CreatedAt, "Created at", true),
    (Column::PaidAt, "Paid at", false),
    (Column::RefundedAmount, "Refunded Amount", false),
    (Column::Subtotal, "Subtotal", false),
    (Column::Shipping, "Shipping", false),
    (Column::Taxes, "Taxes", false),
    (Column::LineitemQuantity, "Lineitem quantity", true),
    (Column::LineitemName, "Lineitem name", false),
    (Column::LineitemPrice, "Lineitem price", true),
    (Column::LineitemSku, "Lineitem sku", false),
];

impl Column {
    /// The header as the export writes it (shown in error reports).
    pub fn header(self) -> &'static str {
        TIKTOK_COLUMNS
            .iter()
            .chain(SHOPIFY_COLUMNS)
            .find(|(c, _, _)| *c == self)
            .map_or("", |(_, h, _)| h)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    // The whole file.
    EmptyFile,
    NotCsv,
    UnknownFormat,
    DuplicateColumn,
    Unreadable,
    /// A header and nothing under it.
    NoRows,
    /// Neither delimited text nor an XLSX workbook (an image, an archive, random bytes).
    Binary,
    // One row.
    MissingValue,
    BadNumber,
    NegativeAmount,
    BadCurrency,
    BadRate,
    BadDate,
    /// A slash date that is no date in the shop's export date order (a 13th month, 31 April),
    /// though the other order would read it: the file and the shop's setting disagree.
    WrongDateOrder(DateOrder),
    BadQuantity,
    BadFlag,
    BadId,
    /// A long ID a spreadsheet turned into a rounded number (`5.77E+17`).
    MangledId,
    BadUsername,
    TooLong,
    TooManyColumns,
    /// Fewer cells than the header: the row was cut off (`cells` of `of`).
    CutShort {
        cells: usize,
        of: usize,
    },
    /// A NUL byte or another control character (tab and line breaks aside) in a cell.
    ControlCharacter,
    BadEncoding,
    /// A Shopify line-item row whose order's first row is not just above it.
    OrphanLineItem,
    /// Another row of the same Shopify order was rejected (on `line`), so this one is too.
    OrderRejected {
        line: usize,
    },
}

impl Problem {
    /// The message catalogue key.
    pub fn key(&self) -> &'static str {
        match self {
            Problem::EmptyFile => "tracking.orders.error.empty_file",
            Problem::NotCsv => "tracking.orders.error.not_csv",
            Problem::UnknownFormat => "tracking.orders.error.unknown_format",
            Problem::DuplicateColumn => "tracking.orders.error.duplicate_column",
            Problem::Unreadable => "tracking.orders.error.unreadable",
            Problem::NoRows => "tracking.orders.error.no_rows",
            Problem::Binary => "tracking.orders.error.binary",
            Problem::MissingValue => "tracking.orders.error.missing_value",
            Problem::BadNumber => "tracking.orders.error.bad_number",
            Problem::NegativeAmount => "tracking.orders.error.negative_amount",
            Problem::BadCurrency => "tracking.orders.error.bad_currency",
            Problem::BadRate => "tracking.orders.error.bad_rate",
            Problem::BadDate => "tracking.orders.error.bad_date",
            Problem::WrongDateOrder(DateOrder::Dmy) => "tracking.orders.error.not_dmy",
            Problem::WrongDateOrder(DateOrder::Mdy) => "tracking.orders.error.not_mdy",
            Problem::WrongDateOrder(DateOrder::Ymd) => "tracking.orders.error.not_ymd",
            Problem::BadQuantity => "tracking.orders.error.bad_quantity",
            Problem::BadFlag => "tracking.orders.error.bad_flag",
            Problem::BadId => "tracking.orders.error.bad_id",
            Problem::MangledId => "tracking.orders.error.mangled_id",
            Problem::BadUsername => "tracking.orders.error.bad_username",
            Problem::TooLong => "tracking.orders.error.too_long",
            Problem::TooManyColumns => "tracking.orders.error.too_many_columns",
            Problem::CutShort { .. } => "tracking.orders.error.cut_short",
            Problem::ControlCharacter => "tracking.orders.error.control_character",
            Problem::BadEncoding => "tracking.orders.error.bad_encoding",
            Problem::OrphanLineItem => "tracking.orders.error.orphan_line_item",
            Problem::OrderRejected { .. } => "tracking.orders.error.order_rejected",
        }
    }
}

/// One problem in one row; a row with any problem yields no order.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// 1-based physical line in the file where the row starts (header = line 1), or the
    /// spreadsheet row number for a workbook.
    pub line: usize,
    /// None when the problem is the row's shape or encoding.
    pub column: Option<Column>,
    /// The offending cell as written (cut to a readable length).
    pub value: String,
    pub problem: Problem,
    /// The row's order ID or Shopify name, when it could be read.
    pub order: Option<String>,
}

/// The whole file is unusable. `detail` is data for the message (missing header names, a file
/// kind, an I/O error), not prose.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub problem: Problem,
    pub detail: String,
}

impl FileError {
    pub(crate) fn new(problem: Problem, detail: impl Into<String>) -> Self {
        FileError {
            problem,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.problem.key(), self.detail)
    }
}

impl std::error::Error for FileError {}

/// One TikTok affiliate order line, keyed by (shop, `order_id`, `sku_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct TikTokOrderLine {
    pub line: usize,
    pub order_id: String,
    pub sku_id: String,
    pub product_name: Option<String>,
    pub payment_amount: Decimal,
    /// ISO 4217, upper case.
    pub currency: String,
    /// 1 when the column is absent or blank.
    pub quantity: u32,
    /// `Fully returned or refunded`; blank or `/` reads as no.
    pub fully_refunded: bool,
    pub status: Option<String>,
    /// Lower case, without '@'; None leaves the line unattributed.
    pub creator_username: Option<String>,
    pub content_type: Option<String>,
    pub content_id: Option<String>,
    /// A fraction: "15%" → 0.15.
    pub commission_rate: Option<Decimal>,
    pub est_commission_base: Option<Decimal>,
    /// May be negative (a clawback).
    pub est_commission: Option<Decimal>,
    pub actual_commission_base: Option<Decimal>,
    /// May be negative (a clawback).
    pub actual_commission: Option<Decimal>,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub commission_paid_at: Option<OffsetDateTime>,
}

impl TikTokOrderLine {
    /// A status naming a cancellation ("Canceled", "Cancelled", "已取消").
    pub fn is_cancelled(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("cancel") || s.contains("取消"))
    }
}

/// One Shopify order with its line items, keyed by (shop, `name`).
#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyOrder {
    /// The line of the order's first row.
    pub line: usize,
    pub name: String,
    /// Lower case (`paid`, `refunded`, `partially_refunded`, `voided`, …).
    pub financial_status: Option<String>,
    pub currency: String,
    pub total: Decimal,
    /// Upper case, split on commas (Shopify lists several codes in one cell).
    pub discount_codes: Vec<String>,
    pub discount_amount: Decimal,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub refunded_amount: Decimal,
    /// `Subtotal`, `Shipping` and `Taxes` as the export writes them (None when it has no such
    /// column or the cell is empty).
    pub subtotal: Option<Decimal>,
    pub shipping: Option<Decimal>,
    pub taxes: Option<Decimal>,
    pub items: Vec<ShopifyLineItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyLineItem {
    pub line: usize,
    pub name: Option<String>,
    pub sku: Option<String>,
    pub quantity: u32,
    pub price: Decimal,
}

impl ShopifyOrder {
    /// Σ price × quantity of the line items (no shipping, no tax).
    pub fn merchandise(&self) -> Decimal {
        self.items
            .iter()
            .map(|i| i.price * Decimal::from(i.quantity))
            .sum()
    }

    fn status_is(&self, statuses: &[&str]) -> bool {
        self.financial_status
            .as_deref()
            .is_some_and(|s| statuses.contains(&s))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    TikTok(TikTokOrderLine),
    Shopify(ShopifyOrder),
}

/// Who an order is credited to, as the export says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution<'a> {
    Creator {
        username: &'a str,
        content_id: Option<&'a str>,
    },
    DiscountCodes(&'a [String]),
    None,
}

impl Order {
    pub fn line(&self) -> usize {
        match self {
            Order::TikTok(o) => o.line,
            Order::Shopify(o) => o.line,
        }
    }

    /// (order, SKU): the key within a shop. Shopify orders have no SKU part.
    pub fn key(&self) -> (&str, Option<&str>) {
        match self {
            Order::TikTok(o) => (&o.order_id, Some(&o.sku_id)),
            Order::Shopify(o) => (&o.name, None),
        }
    }

    pub fn currency(&self) -> &str {
        match self {
            Order::TikTok(o) => &o.currency,
            Order::Shopify(o) => &o.currency,
        }
    }

    pub fn created_at(&self) -> OffsetDateTime {
        match self {
            Order::TikTok(o) => o.created_at,
            Order::Shopify(o) => o.created_at,
        }
    }

    /// When the money was taken: the export's payment time; for a Shopify export without
    /// `Paid at`, the creation time of an order whose status says it was paid.
    pub fn paid_at(&self) -> Option<OffsetDateTime> {
        match self {
            Order::TikTok(o) => o.paid_at,
            Order::Shopify(o) => o.paid_at.or_else(|| {
                o.status_is(&["paid", "partially_refunded", "refunded", "partially_paid"])
                    .then_some(o.created_at)
            }),
        }
    }

    /// What the buyer paid: TikTok `Payment Amount`, Shopify `Total`.
    pub fn gmv(&self) -> Decimal {
        match self {
            Order::TikTok(o) => o.payment_amount,
            Order::Shopify(o) => o.total,
        }
    }

    /// TikTok gives only a full-refund flag: a line fully refunded or cancelled refunds its whole
    /// payment. Shopify: `Refunded Amount`, or the whole total when the status is `refunded` or
    /// `voided` (the money never arrived) and the amount is smaller.
    pub fn refunds(&self) -> Decimal {
        match self {
            Order::TikTok(o) if o.fully_refunded || o.is_cancelled() => o.payment_amount,
            Order::TikTok(_) => Decimal::ZERO,
            Order::Shopify(o) if o.status_is(&["refunded", "voided"]) => {
                o.refunded_amount.max(o.total)
            }
            Order::Shopify(o) => o.refunded_amount,
        }
    }

    pub fn net(&self) -> Decimal {
        self.gmv() - self.refunds()
    }

    /// SPEC §9: TikTok `Actual Commission Base`, else `Est. Commission Base`, else the payment;
    /// Shopify: line items − discounts − refunds, floored at 0.
    pub fn commission_base(&self) -> Decimal {
        match self {
            Order::TikTok(o) => o
                .actual_commission_base
                .or(o.est_commission_base)
                .unwrap_or(o.payment_amount),
            Order::Shopify(o) => {
                (o.merchandise() - o.discount_amount - self.refunds()).max(Decimal::ZERO)
            }
        }
    }

    pub fn attribution(&self) -> Attribution<'_> {
        match self {
            Order::TikTok(o) => match &o.creator_username {
                Some(username) => Attribution::Creator {
                    username,
                    content_id: o.content_id.as_deref(),
                },
                None => Attribution::None,
            },
            Order::Shopify(o) if !o.discount_codes.is_empty() => {
                Attribution::DiscountCodes(&o.discount_codes)
            }
            Order::Shopify(_) => Attribution::None,
        }
    }
}

/// What one step of reading yields: an order, or one problem of a rejected row.
// Nearly every entry is an order; boxing it would cost an allocation per row to shrink the
// rare rejection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Order(Order),
    Rejected(RowError),
}

/// The shop's IANA time zone (the same lookup `web::fmt::is_time_zone` uses).
pub fn shop_zone(name: &str) -> Option<&'static Tz> {
    timezones::get_by_name(name)
}

/// Streams orders out of a CSV export: `next()` yields each order or rejection in file order
/// (a Shopify order once its last row is read), then `None`; an `Err` (the upload could not be
/// read further) ends the stream.
pub struct OrderReader<R: Read> {
    csv: csv::Reader<DecodedReader<Chain<Cursor<Vec<u8>>, R>>>,
    normalizer: Normalizer,
    record: csv::StringRecord,
    encoding: &'static Encoding,
}

impl<R: Read> OrderReader<R> {
    /// Sniffs the encoding from the first 64 KiB (see `stream::detect_encoding` to decide it from
    /// the whole file first) and reads the header row.
    pub fn new(read: R, zone: &'static Tz) -> Result<Self, FileError> {
        Self::with_encoding(read, zone, None)
    }

    /// With `encoding` given (from `stream::detect_encoding`, say) no sniffing decides it.
    pub fn with_encoding(
        read: R,
        zone: &'static Tz,
        encoding: Option<&'static Encoding>,
    ) -> Result<Self, FileError> {
        let text = stream::open(read, encoding)
            .map_err(|e| FileError::new(Problem::Unreadable, e.to_string()))?
            .map_err(|not_text| match not_text {
                NotText::Empty => FileError::new(Problem::EmptyFile, ""),
                NotText::Binary => FileError::new(Problem::Binary, ""),
                NotText::Spreadsheet(kind) => FileError::new(Problem::NotCsv, kind),
            })?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(text.delimiter)
            .from_reader(text.reader);
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(true) if record.iter().all(|c| c.trim().is_empty()) => {}
                Ok(true) => break,
                Ok(false) => return Err(FileError::new(Problem::EmptyFile, "")),
                Err(e) => return Err(FileError::new(Problem::Unreadable, e.to_string())),
            }
        }
        let headers: Vec<&str> = record.iter().collect();
        let layout = Layout::detect(&headers)?;
        Ok(OrderReader {
            csv,
            normalizer: Normalizer::new(layout, zone),
            record,
            encoding: text.encoding,
        })
    }

    pub fn format(&self) -> OrderFormat {
        self.normalizer.layout.format
    }

    /// "UTF-8", "GB18030", "UTF-16LE" or "UTF-16BE", as the creator import names them.
    pub fn encoding(&self) -> &'static str {
        if self.encoding == encoding_rs::GB18030 {
            "GB18030"
        } else {
            self.encoding.name()
        }
    }

    /// Headers that name no column of the export, as written.
    pub fn ignored_columns(&self) -> &[String] {
        &self.normalizer.layout.ignored
    }

    /// Data rows read so far, blank rows not counted.
    pub fn rows_read(&self) -> usize {
        self.normalizer.rows
    }

    /// Reads slash dates in `order` (the shop's export date order) instead of day first.
    pub fn date_order(mut self, order: DateOrder) -> Self {
        self.normalizer.date_order = order;
        self
    }

    /// The order assumed when every slash date read so far was a date both ways.
    pub fn dates_read_both_ways(&self) -> Option<DateOrder> {
        self.normalizer.assumed_order()
    }
}

impl<R: Read> Iterator for OrderReader<R> {
    type Item = Result<Entry, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        let OrderReader {
            csv,
            record,
            normalizer,
            ..
        } = self;
        normalizer.next_entry(|normalizer| match csv.read_record(record) {
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(0, |p| csv.get_mut().line_at(p.byte()));
                normalizer.push(&*record, line);
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => Err(FileError::new(Problem::Unreadable, e.to_string())),
        })
    }
}

/// One cell as it arrives: always text from a CSV, typed from a workbook.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A spreadsheet date cell: wall-clock time without a zone.
    DateTime(PrimitiveDateTime),
}

/// A row's cells by position; the one view of a row that `Normalizer` reads, whatever the file.
pub(crate) trait Cells {
    fn width(&self) -> usize;
    fn cell(&self, position: usize) -> Cell<'_>;
    /// A cell holding U+FFFD: bytes the chosen encoding could not decode.
    fn garbled(&self) -> Option<&str> {
        None
    }
    /// Whether fewer cells than the header means the row was cut off: so in a CSV; a workbook
    /// leaves trailing empty cells out, so its short rows are whole.
    fn short_is_cut(&self) -> bool {
        false
    }
    /// The position of the first cell holding a control character (tab and line breaks aside).
    fn control(&self) -> Option<usize> {
        (0..self.width()).find(|&i| matches!(self.cell(i), Cell::Text(s) if import::has_control(s)))
    }
}

impl Cells for csv::StringRecord {
    fn width(&self) -> usize {
        self.len()
    }

    fn cell(&self, position: usize) -> Cell<'_> {
        self.get(position).map_or(Cell::Empty, Cell::Text)
    }

    fn garbled(&self) -> Option<&str> {
        if !self.as_slice().contains('\u{FFFD}') {
            return None;
        }
        self.iter().find(|c| c.contains('\u{FFFD}'))
    }

    fn short_is_cut(&self) -> bool {
        true
    }

    fn control(&self) -> Option<usize> {
        if !import::has_control(self.as_slice()) {
            return None;
        }
        self.iter().position(import::has_control)
    }
}

/// Which export a header row is, and where each of its columns sits.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) format: OrderFormat,
    positions: [Option<usize>; COLUMN_COUNT],
    width: usize,
    /// Cells up to the last named header: a CSV row with fewer was cut short.
    named: usize,
    pub(crate) ignored: Vec<String>,
}

impl Layout {
    pub(crate) fn detect<S: AsRef<str>>(headers: &[S]) -> Result<Layout, FileError> {
        let names: Vec<String> = headers
            .iter()
            .map(|h| import::normalize_header(h.as_ref()))
            .collect();
        let tiktok = Candidate::new(OrderFormat::TikTokAffiliate, &names);
        let shopify = Candidate::new(OrderFormat::Shopify, &names);
        let chosen = match (tiktok.missing.is_empty(), shopify.missing.is_empty()) {
            (true, false) => tiktok,
            (false, true) => shopify,
            _ if shopify.found > tiktok.found => shopify,
            _ => tiktok,
        };
        if !chosen.missing.is_empty() {
            let missing: Vec<&str> = chosen.missing.iter().map(|c| c.header()).collect();
            return Err(FileError::new(Problem::UnknownFormat, missing.join(", ")));
        }
        if !chosen.duplicates.is_empty() {
            let duplicates: Vec<&str> = chosen.duplicates.iter().map(|c| c.header()).collect();
            return Err(FileError::new(
                Problem::DuplicateColumn,
                duplicates.join(", "),
            ));
        }
        let known: Vec<String> = chosen
            .format
            .columns()
            .iter()
            .map(|(_, header, _)| import::normalize_header(header))
            .collect();
        let ignored = headers
            .iter()
            .zip(&names)
            .filter(|(_, name)| !name.is_empty() && !known.contains(name))
            .map(|(raw, _)| {
                raw.as_ref()
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect();
        Ok(Layout {
            format: chosen.format,
            positions: chosen.positions,
            width: headers.len(),
            named: names
                .iter()
                .rposition(|n| !n.is_empty())
                .map_or(0, |p| p + 1),
            ignored,
        })
    }

    fn position(&self, column: Column) -> Option<usize> {
        self.positions[column as usize]
    }

    /// The column at `position`, None for an ignored one.
    fn column_at(&self, position: usize) -> Option<Column> {
        self.format
            .columns()
            .iter()
            .map(|(column, _, _)| *column)
            .find(|c| self.position(*c) == Some(position))
    }
}

struct Candidate {
    format: OrderFormat,
    positions: [Option<usize>; COLUMN_COUNT],
    found: usize,
    missing: Vec<Column>,
    duplicates: Vec<Column>,
}

impl Candidate {
    fn new(format: OrderFormat, names: &[String]) -> Self {
        let mut candidate = Candidate {
            format,
            positions: [None; COLUMN_COUNT],
            found: 0,
            missing: Vec::new(),
            duplicates: Vec::new(),
        };
        for &(column, header, required) in format.columns() {
            let wanted = import::normalize_header(header);
            let mut at = names.iter().enumerate().filter(|(_, n)| **n == wanted);
            match (at.next(), at.next()) {
                (Some((position, _)), second) => {
                    candidate.positions[column as usize] = Some(position);
                    candidate.found += 1;
                    if second.is_some() {
                        candidate.duplicates.push(column);
                    }
                }
                (None, _) if required => candidate.missing.push(column),
                (None, _) => {}
            }
        }
        candidate
    }
}

/// Decides what each row means, for either file kind: rows go in with their line numbers,
/// entries come out of `out` (a Shopify order only once a row of another order or the end shows
/// it complete).
pub(crate) struct Normalizer {
    pub(crate) layout: Layout,
    zone: &'static Tz,
    pub(crate) date_order: DateOrder,
    dates: DateTally,
    pending: Option<PendingOrder>,
    out: VecDeque<Entry>,
    pub(crate) rows: usize,
    /// The source ended or failed: nothing more will be pushed.
    done: bool,
}

/// The Shopify order being read: its rows so far and their problems.
struct PendingOrder {
    name: String,
    /// None when the first row's order fields were rejected.
    order: Option<ShopifyOrder>,
    lines: Vec<usize>,
    errors: Vec<RowError>,
}

impl Normalizer {
    pub(crate) fn new(layout: Layout, zone: &'static Tz) -> Self {
        Normalizer {
            layout,
            zone,
            date_order: DateOrder::default(),
            dates: DateTally::default(),
            pending: None,
            out: VecDeque::new(),
            rows: 0,
            done: false,
        }
    }

    /// The next entry, asking `feed` for rows until one is ready: `feed` pushes a row and says
    /// Ok(true), or says Ok(false) at the end of the input; an Err ends the stream.
    pub(crate) fn next_entry(
        &mut self,
        mut feed: impl FnMut(&mut Normalizer) -> Result<bool, FileError>,
    ) -> Option<Result<Entry, FileError>> {
        loop {
            if let Some(entry) = self.out.pop_front() {
                return Some(Ok(entry));
            }
            if self.done {
                return None;
            }
            match feed(self) {
                Ok(true) => {}
                Ok(false) => {
                    self.finish();
                    self.done = true;
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }

    /// The order assumed when the file's slash dates all read as dates both ways (day and month
    /// both 12 or less), so nothing in the file confirms the shop's export date order.
    pub(crate) fn assumed_order(&self) -> Option<DateOrder> {
        (self.dates.slash > 0 && self.dates.decisive == 0 && self.date_order != DateOrder::Ymd)
            .then_some(self.date_order)
    }

    pub(crate) fn push<C: Cells + ?Sized>(&mut self, cells: &C, line: usize) {
        // Excel writes ",,,," for rows it thinks are used; they carry nothing.
        if (0..cells.width()).all(|i| is_blank(cells.cell(i))) {
            return;
        }
        self.rows += 1;
        let mut row = RowReader {
            cells,
            layout: &self.layout,
            zone: self.zone,
            date_order: self.date_order,
            dates: DateTally::default(),
            line,
            order: None,
            errors: Vec::new(),
        };
        if !row.check_shape() {
            let name = match row.cell(Column::Name) {
                Cell::Empty => None,
                cell => parse_id(cell).ok(),
            };
            let errors = row.errors;
            self.push_cut_short(name, line, errors);
            return;
        }
        match self.layout.format {
            OrderFormat::TikTokAffiliate => {
                let line = tiktok_line(&mut row);
                self.dates.add(row.dates);
                match line {
                    Some(order) if row.errors.is_empty() => {
                        self.out.push_back(Entry::Order(Order::TikTok(order)));
                    }
                    _ => self.out.extend(row.errors.into_iter().map(Entry::Rejected)),
                }
            }
            OrderFormat::Shopify => {
                let Some(name) = row.require(Column::Name, parse_id) else {
                    self.out.extend(row.errors.into_iter().map(Entry::Rejected));
                    return;
                };
                row.order = Some(name.clone());
                if self.pending.as_ref().is_none_or(|p| p.name != name) {
                    let order = shopify_order(&mut row);
                    let previous = self.pending.replace(PendingOrder {
                        name,
                        order,
                        lines: Vec::new(),
                        errors: Vec::new(),
                    });
                    if let Some(previous) = previous {
                        previous.finish(&mut self.out);
                    }
                }
                let item = shopify_item(&mut row);
                self.dates.add(row.dates);
                if let Some(pending) = self.pending.as_mut() {
                    pending.lines.push(line);
                    pending.errors.append(&mut row.errors);
                    if let (Some(item), Some(order)) = (item, pending.order.as_mut()) {
                        order.items.push(item);
                    }
                }
            }
        }
    }

    /// A row cut off before its last cell: its one problem is that. A Shopify row of the order
    /// being read rejects that order; any other ends it.
    fn push_cut_short(&mut self, name: Option<String>, line: usize, mut errors: Vec<RowError>) {
        if self.layout.format == OrderFormat::Shopify {
            match self.pending.as_mut() {
                Some(pending) if name.as_deref() == Some(pending.name.as_str()) => {
                    for error in &mut errors {
                        error.order.clone_from(&name);
                    }
                    pending.lines.push(line);
                    pending.errors.append(&mut errors);
                    return;
                }
                _ => self.finish(),
            }
        }
        self.out.extend(errors.into_iter().map(Entry::Rejected));
    }

    /// The input ended: the last Shopify order is complete.
    fn finish(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.finish(&mut self.out);
        }
    }
}

impl PendingOrder {
    fn finish(self, out: &mut VecDeque<Entry>) {
        if self.errors.is_empty()
            && let Some(order) = self.order
        {
            out.push_back(Entry::Order(Order::Shopify(order)));
            return;
        }
        let first_bad = self.errors.iter().map(|e| e.line).min().unwrap_or_default();
        let mut errors = self.errors.into_iter().peekable();
        for line in self.lines {
            let mut own = false;
            while let Some(error) = errors.next_if(|e| e.line == line) {
                own = true;
                out.push_back(Entry::Rejected(error));
            }
            if !own {
                out.push_back(Entry::Rejected(RowError {
                    line,
                    column: None,
                    value: String::new(),
                    problem: Problem::OrderRejected { line: first_bad },
                    order: Some(self.name.clone()),
                }));
            }
        }
        out.extend(errors.map(Entry::Rejected));
    }
}

fn tiktok_line<C: Cells + ?Sized>(row: &mut RowReader<'_, C>) -> Option<TikTokOrderLine> {
    let order_id = row.require(Column::OrderId, parse_id);
    row.order.clone_from(&order_id);
    let sku_id = row.require(Column::SkuId, parse_id);
    let currency = row.require(Column::Currency, parse_currency);
    let ccy = currency.as_deref();
    let payment_amount = row.require(Column::PaymentAmount, |c| parse_money(c, ccy, false));
    let product_name = row.get(Column::ProductName, |c| parse_text(c, MAX_NAME));
    let quantity = row.get(Column::Quantity, parse_quantity).unwrap_or(1);
    let fully_refunded = row.get(Column::FullyRefunded, parse_flag).unwrap_or(false);
    let status = row.get(Column::OrderStatus, |c| parse_text(c, MAX_LABEL));
    let creator_username = row.get(Column::CreatorUsername, parse_username);
    let content_type = row.get(Column::ContentType, |c| parse_text(c, MAX_LABEL));
    let content_id = row.get(Column::ContentId, parse_id);
    let commission_rate = row.get(Column::CommissionRate, parse_rate_cell);
    let est_commission_base = row.get(Column::EstCommissionBase, |c| parse_money(c, ccy, false));
    let est_commission = row.get(Column::EstCommission, |c| parse_money(c, ccy, true));
    let actual_commission_base =
        row.get(Column::ActualCommissionBase, |c| parse_money(c, ccy, false));
    let actual_commission = row.get(Column::ActualCommission, |c| parse_money(c, ccy, true));
    let created_at = row.time(Column::TimeCreated, true);
    let paid_at = row.time(Column::PaymentTime, false);
    let commission_paid_at = row.time(Column::CommissionPaidTime, false);
    Some(TikTokOrderLine {
        line: row.line,
        order_id: order_id?,
        sku_id: sku_id?,
        product_name,
        payment_amount: payment_amount?,
        currency: currency?,
        quantity,
        fully_refunded,
        status,
        creator_username,
        content_type,
        content_id,
        commission_rate,
        est_commission_base,
        est_commission,
        actual_commission_base,
        actual_commission,
        created_at: created_at?,
        paid_at,
        commission_paid_at,
    })
}

/// The order fields of a Shopify order's first row (items come separately).
fn shopify_order<C: Cells + ?Sized>(row: &mut RowReader<'_, C>) -> Option<ShopifyOrder> {
    let heads = [Column::Currency, Column::Total, Column::CreatedAt];
    if heads.iter().all(|&c| is_blank(row.cell(c))) {
        let name = row.order.clone().unwrap_or_default();
        row.fail(Some(Column::Name), name, Problem::OrphanLineItem);
        return None;
    }
    let currency = row.require(Column::Currency, parse_currency);
    let ccy = currency.as_deref();
    let total = row.require(Column::Total, |c| parse_money(c, ccy, false));
    let financial_status = row
        .get(Column::FinancialStatus, |c| parse_text(c, MAX_LABEL))
        .map(|s| s.to_lowercase());
    let discount_codes = row
        .get(Column::DiscountCode, |c| parse_text(c, MAX_NAME))
        .map(|codes| {
            codes
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_uppercase)
                .collect()
        })
        .unwrap_or_default();
    let discount_amount = row.get(Column::DiscountAmount, |c| parse_money(c, ccy, false));
    let created_at = row.time(Column::CreatedAt, true);
    let paid_at = row.time(Column::PaidAt, false);
    let refunded_amount = row.get(Column::RefundedAmount, |c| parse_money(c, ccy, false));
    let subtotal = row.get(Column::Subtotal, |c| parse_money(c, ccy, false));
    let shipping = row.get(Column::Shipping, |c| parse_money(c, ccy, false));
    let taxes = row.get(Column::Taxes, |c| parse_money(c, ccy, false));
    if !row.errors.is_empty() {
        return None;
    }
    Some(ShopifyOrder {
        line: row.line,
        name: row.order.clone()?,
        financial_status,
        currency: currency?,
        total: total?,
        discount_codes,
        discount_amount: discount_amount.unwrap_or_default(),
        created_at: created_at?,
        paid_at,
        refunded_amount: refunded_amount.unwrap_or_default(),
        subtotal,
        shipping,
        taxes,
        items: Vec::new(),
    })
}

fn shopify_item<C: Cells + ?Sized>(row: &mut RowReader<'_, C>) -> Option<ShopifyLineItem> {
    let quantity = row.require(Column::LineitemQuantity, parse_quantity);
    // The price is in the order's currency, written on its first row only.
    let price = row.require(Column::LineitemPrice, |c| parse_money(c, None, false));
    let name = row.get(Column::LineitemName, |c| parse_text(c, MAX_NAME));
    let sku = row.get(Column::LineitemSku, |c| parse_text(c, MAX_LABEL));
    Some(ShopifyLineItem {
        line: row.line,
        name,
        sku,
        quantity: quantity?,
        price: price?,
    })
}

/// One row being read: its cells found by column, and every problem met so far.
struct RowReader<'c, C: Cells + ?Sized> {
    cells: &'c C,
    layout: &'c Layout,
    zone: &'static Tz,
    date_order: DateOrder,
    /// How the row's slash dates read.
    dates: DateTally,
    line: usize,
    order: Option<String>,
    errors: Vec<RowError>,
}

impl<'c, C: Cells + ?Sized> RowReader<'c, C> {
    /// The cell under `column`, trimmed; `Empty` when the column is absent, the cell blank or `/`.
    fn cell(&self, column: Column) -> Cell<'c> {
        let Some(position) = self.layout.position(column) else {
            return Cell::Empty;
        };
        match self.cells.cell(position) {
            Cell::Text(s) if is_blank(Cell::Text(s)) => Cell::Empty,
            Cell::Text(s) => Cell::Text(s.trim()),
            other => other,
        }
    }

    fn get<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(Cell<'c>) -> Result<T, Problem>,
    ) -> Option<T> {
        let cell = self.cell(column);
        if cell == Cell::Empty {
            return None;
        }
        match parse(cell) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.fail(Some(column), shown(cell), problem);
                None
            }
        }
    }

    fn require<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(Cell<'c>) -> Result<T, Problem>,
    ) -> Option<T> {
        if self.cell(column) == Cell::Empty {
            self.fail(Some(column), String::new(), Problem::MissingValue);
            return None;
        }
        self.get(column, parse)
    }

    /// A time cell, read in the shop's zone and export date order; its reading is tallied.
    fn time(&mut self, column: Column, required: bool) -> Option<OffsetDateTime> {
        let (zone, order) = (self.zone, self.date_order);
        let mut reading = Reading::Other;
        let parse = |cell: Cell<'_>| {
            let (at, how) = parse_time_in(cell, zone, order)?;
            reading = how;
            Ok(at)
        };
        let at = if required {
            self.require(column, parse)
        } else {
            self.get(column, parse)
        };
        if at.is_some() {
            self.dates.count(reading);
        }
        at
    }

    fn fail(&mut self, column: Option<Column>, value: String, problem: Problem) {
        self.errors.push(RowError {
            line: self.line,
            column,
            value,
            problem,
            order: self.order.clone(),
        });
    }

    /// Data beyond the header means cells slid sideways (an unquoted comma); undecodable bytes
    /// mean the file's encoding was guessed wrong; a control character (a NUL byte) is no text
    /// an export writes. Either way no cell of the row can be trusted. False when the row was
    /// cut short: then that is its one problem.
    fn check_shape(&mut self) -> bool {
        let (width, of) = (self.cells.width(), self.layout.named);
        if width < of && self.cells.short_is_cut() {
            self.fail(None, String::new(), Problem::CutShort { cells: width, of });
            return false;
        }
        let extra: Vec<String> = (self.layout.width..self.cells.width())
            .map(|i| self.cells.cell(i))
            .filter(|c| !is_blank(*c))
            .map(|c| cell_text(c).into_owned())
            .collect();
        if !extra.is_empty() {
            self.fail(
                None,
                import::clip(&extra.join(",")),
                Problem::TooManyColumns,
            );
        }
        if let Some(cell) = self.cells.garbled() {
            self.fail(None, import::clip(cell), Problem::BadEncoding);
        }
        if let Some(position) = self.cells.control() {
            let column = self.layout.column_at(position);
            let value = shown(self.cells.cell(position));
            self.fail(column, value, Problem::ControlCharacter);
        }
        true
    }
}

/// How a time cell read: not as a slash date, as a slash date only the shop's order reads, or
/// as one both day-first and month-first read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    Other,
    Decisive,
    BothWays,
}

/// Slash dates read, and how many of them only the shop's export date order reads.
#[derive(Debug, Clone, Copy, Default)]
struct DateTally {
    slash: u64,
    decisive: u64,
}

impl DateTally {
    fn count(&mut self, reading: Reading) {
        match reading {
            Reading::Other => {}
            Reading::Decisive => {
                self.slash += 1;
                self.decisive += 1;
            }
            Reading::BothWays => self.slash += 1,
        }
    }

    fn add(&mut self, other: DateTally) {
        self.slash += other.slash;
        self.decisive += other.decisive;
    }
}

fn is_blank(cell: Cell<'_>) -> bool {
    match cell {
        Cell::Empty => true,
        Cell::Text(s) => {
            let t = s.trim();
            t.is_empty() || t == "/"
        }
        _ => false,
    }
}

/// A cell as text, for IDs and names written as numbers and for error reports.
pub(crate) fn cell_text(cell: Cell<'_>) -> Cow<'_, str> {
    match cell {
        Cell::Empty => Cow::Borrowed(""),
        Cell::Text(s) => Cow::Borrowed(s),
        Cell::Int(n) => Cow::Owned(n.to_string()),
        Cell::Float(f) => Cow::Owned(f.to_string()),
        Cell::Bool(b) => Cow::Borrowed(if b { "TRUE" } else { "FALSE" }),
        Cell::DateTime(at) => Cow::Owned(format!("{} {}", at.date(), at.time())),
    }
}

fn shown(cell: Cell<'_>) -> String {
    import::clip(&cell_text(cell))
}

fn parse_text(cell: Cell<'_>, max: usize) -> Result<String, Problem> {
    let text = cell_text(cell);
    if text.chars().count() > max {
        return Err(Problem::TooLong);
    }
    Ok(text.into_owned())
}

fn parse_id(cell: Cell<'_>) -> Result<String, Problem> {
    match cell {
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < EXACT_FLOAT_INT => Ok(format!("{f:.0}")),
        Cell::Float(_) => Err(Problem::MangledId),
        Cell::Text(s) if is_scientific(s) => Err(Problem::MangledId),
        Cell::Text(s) if s.chars().any(char::is_control) => Err(Problem::BadId),
        Cell::Text(_) | Cell::Int(_) => parse_text(cell, MAX_ID),
        _ => Err(Problem::BadId),
    }
}

/// "5.77E+17": what Excel shows, and saves, for an 18-digit ID.
fn is_scientific(s: &str) -> bool {
    let Some((mantissa, exponent)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

fn parse_currency(cell: Cell<'_>) -> Result<String, Problem> {
    match cell {
        Cell::Text(s) => import::currency_code(s).ok_or(Problem::BadCurrency),
        _ => Err(Problem::BadCurrency),
    }
}

/// Thousands separators, a currency symbol or the row's currency code around the number;
/// rounded half-even to cents (the creator import's rule). Negative only where allowed.
fn parse_money(
    cell: Cell<'_>,
    currency: Option<&str>,
    allow_negative: bool,
) -> Result<Decimal, Problem> {
    let text_money = |s: &str| {
        import::money(s, currency).map_err(|p| match p {
            import::Problem::NegativeNumber => Problem::NegativeAmount,
            _ => Problem::BadNumber,
        })
    };
    let amount = match cell {
        Cell::Text(s) => match import::strip_minus(s) {
            Some(rest) if allow_negative => -text_money(rest)?,
            _ => text_money(s)?,
        },
        Cell::Int(n) => Decimal::from(n),
        Cell::Float(f) => float_decimal(f)
            .ok_or(Problem::BadNumber)?
            .round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven),
        _ => return Err(Problem::BadNumber),
    };
    if amount.is_sign_negative() && !amount.is_zero() && !allow_negative {
        return Err(Problem::NegativeAmount);
    }
    // numeric(18,2) holds 16 digits before the point; a workbook's number cell can hold more.
    if amount.abs() >= Decimal::from(10_i64.pow(16)) {
        return Err(Problem::BadNumber);
    }
    Ok(amount)
}

/// The shortest decimal that reads back as `f` (what the spreadsheet showed).
fn float_decimal(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    Decimal::from_str(&f.to_string()).ok()
}

/// "15%" → 0.15; without a percent sign a number above 1 is a percent ("15") and one up to 1 a
/// fraction ("0.15"), as a spreadsheet's percent cell stores it. None outside 0–100%.
pub fn parse_rate(text: &str) -> Option<Decimal> {
    let (body, percent) = import::split_percent(text);
    rate_from(import::plain_decimal(body)?, percent)
}

fn rate_from(value: Decimal, percent: bool) -> Option<Decimal> {
    let rate = if percent || value > Decimal::ONE {
        value / Decimal::ONE_HUNDRED
    } else {
        value
    };
    (Decimal::ZERO..=Decimal::ONE)
        .contains(&rate)
        .then(|| rate.normalize())
}

fn parse_rate_cell(cell: Cell<'_>) -> Result<Decimal, Problem> {
    match cell {
        Cell::Text(s) => parse_rate(s),
        Cell::Int(n) => rate_from(Decimal::from(n), false),
        Cell::Float(f) => float_decimal(f).and_then(|d| rate_from(d, false)),
        _ => None,
    }
    .ok_or(Problem::BadRate)
}

fn parse_quantity(cell: Cell<'_>) -> Result<u32, Problem> {
    let number = match cell {
        Cell::Text(s) => import::plain_decimal(s),
        Cell::Int(n) => Some(Decimal::from(n)),
        Cell::Float(f) => float_decimal(f),
        _ => None,
    };
    number
        .filter(|n| n.fract().is_zero())
        .and_then(|n| n.to_u32())
        .ok_or(Problem::BadQuantity)
}

/// Yes/No, 是/否, true/false, 1/0 (blank and `/` never get here: they read as no).
fn parse_flag(cell: Cell<'_>) -> Result<bool, Problem> {
    match cell {
        Cell::Text(s) => import::parse_bool(s),
        Cell::Bool(b) => Some(b),
        Cell::Int(0) => Some(false),
        Cell::Int(1) => Some(true),
        _ => None,
    }
    .ok_or(Problem::BadFlag)
}

fn parse_username(cell: Cell<'_>) -> Result<String, Problem> {
    match cell {
        Cell::Text(s) => import::normalize_handle(s).ok_or(Problem::BadUsername),
        _ => Err(Problem::BadUsername),
    }
}

fn parse_time_in(
    cell: Cell<'_>,
    zone: &Tz,
    order: DateOrder,
) -> Result<(OffsetDateTime, Reading), Problem> {
    match cell {
        Cell::Text(s) => read_time_text(s, zone, order),
        other => parse_time(other, zone).map(|at| (at, Reading::Other)),
    }
}

fn parse_time(cell: Cell<'_>, zone: &Tz) -> Result<OffsetDateTime, Problem> {
    let local = match cell {
        Cell::Text(s) => return parse_time_text(s, zone).ok_or(Problem::BadDate),
        Cell::DateTime(at) => Some(at),
        Cell::Float(f) => excel_serial(f),
        Cell::Int(n) => excel_serial(n as f64),
        _ => None,
    };
    local
        .filter(|at| YEARS.contains(&at.year()))
        .map(|at| local_to_utc(at, zone))
        .ok_or(Problem::BadDate)
}

/// An order time as the exports write it, day first (SPEC §5's default), in UTC; see
/// [`read_time_text`].
pub fn parse_time_text(text: &str, zone: &Tz) -> Option<OffsetDateTime> {
    read_time_text(text, zone, DateOrder::Dmy)
        .ok()
        .map(|(at, _)| at)
}

/// An order time as the exports write it, in UTC, and how it read:
/// - a slash date in the shop's export date order: `DD/MM/YYYY HH:MM:SS` (TikTok; one-digit day,
///   month and hour, and a missing seconds or time part, as Excel re-saves it, accepted),
///   `MM/DD/YYYY …` or `YYYY/MM/DD …`, in the shop's zone. A date that is none in that order
///   but would be one in the other (`31/05/2026` in a month-first shop) is `WrongDateOrder`;
/// - `YYYY-MM-DD HH:MM:SS ±HHMM` (Shopify; `T`, `±HH:MM`, `Z` or `UTC` too), in the shop's zone
///   when no offset is written.
pub(crate) fn read_time_text(
    text: &str,
    zone: &Tz,
    order: DateOrder,
) -> Result<(OffsetDateTime, Reading), Problem> {
    let text = text.trim();
    if !text.contains('/') {
        return iso_time(text, zone)
            .map(|at| (at, Reading::Other))
            .ok_or(Problem::BadDate);
    }
    let mut scan = Scan::new(text);
    let Some(((a, a_len), (b, _), (c, c_len))) = slash_parts(&mut scan) else {
        return Err(Problem::BadDate);
    };
    // (year, month, day) in the shop's order, and in the other order a slash date is written in.
    let (read, swapped) = match (a_len, c_len, order) {
        (4, 1..=2, DateOrder::Ymd) => ((a, b, c), None),
        (1..=2, 4, DateOrder::Dmy) => ((c, b, a), Some((c, a, b))),
        (1..=2, 4, DateOrder::Mdy) => ((c, a, b), Some((c, b, a))),
        (1..=2, 4, DateOrder::Ymd) if is_date((c, b, a)) || is_date((c, a, b)) => {
            return Err(Problem::WrongDateOrder(order));
        }
        _ => return Err(Problem::BadDate),
    };
    if !is_date(read) {
        return Err(match swapped {
            Some(other) if is_date(other) => Problem::WrongDateOrder(order),
            _ => Problem::BadDate,
        });
    }
    let (year, month, day) = read;
    let local = scan.date_time(year, month, day).ok_or(Problem::BadDate)?;
    if !scan.done() {
        return Err(Problem::BadDate);
    }
    let reading = match swapped {
        Some(other) if is_date(other) => Reading::BothWays,
        Some(_) => Reading::Decisive,
        None => Reading::Other,
    };
    Ok((local_to_utc(local, zone), reading))
}

/// `YYYY-MM-DD HH:MM:SS ±HHMM` (or without the time or the offset), in UTC.
fn iso_time(text: &str, zone: &Tz) -> Option<OffsetDateTime> {
    let mut scan = Scan::new(text);
    let year = scan.number(4, 4)?;
    scan.expect(b'-')?;
    let month = scan.number(1, 2)?;
    scan.expect(b'-')?;
    let day = scan.number(1, 2)?;
    let local = scan.date_time(year, month, day)?;
    scan.skip_spaces();
    let offset = scan.offset()?;
    if !scan.done() || !YEARS.contains(&local.year()) {
        return None;
    }
    match offset {
        Some(offset) => local
            .assume_offset(offset)
            .checked_to_offset(UtcOffset::UTC),
        None => Some(local_to_utc(local, zone)),
    }
}

/// A slash date's three numbers, each with its count of digits (the year has four).
type SlashParts = ((u32, usize), (u32, usize), (u32, usize));

fn slash_parts(scan: &mut Scan<'_>) -> Option<SlashParts> {
    let first = scan.counted_number(4)?;
    scan.expect(b'/')?;
    let second = scan.counted_number(2)?;
    scan.expect(b'/')?;
    let third = scan.counted_number(4)?;
    Some((first, second, third))
}

/// (year, month, day) is a calendar date in the years orders are read in.
fn is_date((year, month, day): (u32, u32, u32)) -> bool {
    let Ok(year) = i32::try_from(year) else {
        return false;
    };
    let (Ok(month), Ok(day)) = (u8::try_from(month), u8::try_from(day)) else {
        return false;
    };
    YEARS.contains(&year)
        && Month::try_from(month).is_ok_and(|m| Date::from_calendar_date(year, m, day).is_ok())
}

/// A wall-clock time in `zone`, in UTC. In the hour skipped when clocks go forward the time is
/// read with the offset from before the change (02:30 on a spring-forward night is 03:30 of the
/// new offset); in the hour repeated when they go back, the earlier of the two instants.
pub fn local_to_utc(local: PrimitiveDateTime, zone: &Tz) -> OffsetDateTime {
    let utc = match local.assume_timezone(zone) {
        OffsetResult::Some(at) => at,
        OffsetResult::Ambiguous(a, b) => a.min(b),
        OffsetResult::None => {
            // Offsets change at most once in a day, so the one a day earlier is from before.
            let before = zone.get_offset_utc(&(local.assume_utc() - Duration::DAY));
            local.assume_offset(before.to_utc())
        }
    };
    utc.to_offset(UtcOffset::UTC)
}

/// An Excel serial date (days since 1899-12-30, the 1900 date system) as wall-clock time. Serials
/// before 1 March 1900 are refused: Excel's phantom 29 February makes them ambiguous.
pub(crate) fn excel_serial(value: f64) -> Option<PrimitiveDateTime> {
    if !(61.0..2_958_466.0).contains(&value) {
        return None;
    }
    let days = value.floor();
    let seconds = ((value - days) * 86_400.0).round() as i64;
    PrimitiveDateTime::new(date!(1899 - 12 - 30), Time::MIDNIGHT)
        .checked_add(Duration::days(days as i64))?
        .checked_add(Duration::seconds(seconds))
}

/// A tiny cursor over date text: fast, and explicit about what it accepts.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn new(s: &'a str) -> Self {
        Scan {
            s: s.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.i;
        while self.eat(b' ') {}
        self.i > start
    }

    fn done(&self) -> bool {
        self.i == self.s.len()
    }

    /// A number of 1 to `max` digits, with how many digits it had.
    fn counted_number(&mut self, max: usize) -> Option<(u32, usize)> {
        let start = self.i;
        let n = self.number(1, max)?;
        Some((n, self.i - start))
    }

    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.len() < min {
            return None;
        }
        Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    /// The date, then an optional ` HH:MM[:SS[.fraction]]` (or `T…`); midnight without one.
    fn date_time(&mut self, year: u32, month: u32, day: u32) -> Option<PrimitiveDateTime> {
        let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
        let date =
            Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
                .ok()?;
        let checkpoint = self.i;
        let separated = self.skip_spaces() || self.eat(b'T');
        if !separated || !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i = checkpoint;
            return Some(date.midnight());
        }
        let hour = self.number(1, 2)?;
        self.expect(b':')?;
        let minute = self.number(2, 2)?;
        let (mut second, mut nano) = (0, 0);
        if self.eat(b':') {
            second = self.number(2, 2)?;
            if self.eat(b'.') {
                let start = self.i;
                let fraction = self.number(1, 9)?;
                let digits = u32::try_from(self.i - start).ok()?;
                nano = fraction * 10u32.pow(9 - digits);
            }
        }
        let time = Time::from_hms_nano(
            u8::try_from(hour).ok()?,
            u8::try_from(minute).ok()?,
            u8::try_from(second).ok()?,
            nano,
        )
        .ok()?;
        Some(PrimitiveDateTime::new(date, time))
    }

    /// `Z`, `UTC`, `±HH`, `±HHMM` or `±HH:MM`; Some(None) when nothing is written.
    fn offset(&mut self) -> Option<Option<UtcOffset>> {
        if self.done() {
            return Some(None);
        }
        if self.eat(b'Z') {
            return Some(Some(UtcOffset::UTC));
        }
        if self.s[self.i..].eq_ignore_ascii_case(b"UTC") {
            self.i = self.s.len();
            return Some(Some(UtcOffset::UTC));
        }
        let sign: i8 = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = i8::try_from(self.number(2, 2)?).ok()?;
        self.eat(b':');
        let minutes = if self.done() {
            0
        } else {
            i8::try_from(self.number(2, 2)?).ok()?
        };
        UtcOffset::from_hms(sign * hours, sign * minutes, 0)
            .ok()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a decimal literal")
    }

    fn zone(name: &str) -> &'static Tz {
        shop_zone(name).expect("a known zone")
    }

    fn read_all(bytes: &[u8], tz: &str) -> (OrderFormat, Vec<Order>, Vec<RowError>) {
        let reader = OrderReader::new(bytes, zone(tz)).expect("a readable export");
        let format = reader.format();
        let mut orders = Vec::new();
        let mut errors = Vec::new();
        for entry in reader {
            match entry.expect("no I/O error") {
                Entry::Order(o) => orders.push(o),
                Entry::Rejected(e) => errors.push(e),
            }
        }
        (format, orders, errors)
    }

    fn tiktok(orders: &[Order], id: &str) -> TikTokOrderLine {
        orders
            .iter()
            .find_map(|o| match o {
                Order::TikTok(t) if t.order_id == id => Some(t.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no order {id}: {orders:#?}"))
    }

    fn problems_on(errors: &[RowError], line: usize) -> Vec<Problem> {
        errors
            .iter()
            .filter(|e| e.line == line)
            .map(|e| e.problem)
            .collect()
    }

    const TIKTOK_HEADER: &str = "Order ID,SKU ID,Product Name,Payment Amount,Currency,Quantity,\
        Fully returned or refunded,Order Status,Creator Username,Content Type,Content ID,\
        Standard commission rate,Est. Commission Base,Est. standard commission payment,\
        Actual Commission Base,Actual Commission Payment,Time Created,Payment time,\
        Time Commission Paid";

    const SHOPIFY_HEADER: &str = "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,\
        Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,\
        Lineitem sku,Refunded Amount";

    fn file(lines: &[&str]) -> Vec<u8> {
        lines.join("\r\n").into_bytes()
    }

    #[test]
    fn a_tiktok_export_normalizes_every_quirk() {
        let bytes = file(&[
            TIKTOK_HEADER,
            "576900000000000001,1729000000000000001,\"Lip tint, rose\",\"1,234.50\",USD,2,No,\
             Completed,@Glow.Mia,Video,7350000000000000001,15%,\"1,200.00\",180.00,/,/,\
             05/03/2026 14:30:00,05/03/2026 14:31:10,/",
            " 576900000000000002 ,1729000000000000002,Serum,19.90,usd,,Yes,Completed, , LIVE ,/,\
             10 %,19.90,1.99,19.90,-1.99,1/5/2026 9:03,/,31/05/2026 23:59:59",
        ]);
        let (format, orders, errors) = read_all(&bytes, "America/Los_Angeles");
        assert_eq!(format, OrderFormat::TikTokAffiliate);
        assert!(errors.is_empty(), "{errors:#?}");
        let first = tiktok(&orders, "576900000000000001");
        assert_eq!(first.line, 2);
        assert_eq!(first.sku_id, "1729000000000000001");
        assert_eq!(first.product_name.as_deref(), Some("Lip tint, rose"));
        assert_eq!(first.payment_amount, d("1234.50"));
        assert_eq!((first.currency.as_str(), first.quantity), ("USD", 2));
        assert!(!first.fully_refunded);
        assert_eq!(first.creator_username.as_deref(), Some("glow.mia"));
        assert_eq!(first.content_id.as_deref(), Some("7350000000000000001"));
        assert_eq!(first.commission_rate, Some(d("0.15")));
        assert_eq!(first.est_commission_base, Some(d("1200.00")));
        assert_eq!(first.est_commission, Some(d("180.00")));
        assert_eq!(
            (first.actual_commission_base, first.actual_commission),
            (None, None)
        );
        // 5 March, Pacific standard time (UTC−8).
        assert_eq!(first.created_at, datetime!(2026-03-05 22:30:00 UTC));
        assert_eq!(first.paid_at, Some(datetime!(2026-03-05 22:31:10 UTC)));
        assert_eq!(first.commission_paid_at, None);

        let second = tiktok(&orders, "576900000000000002");
        assert_eq!(second.line, 3);
        assert_eq!((second.currency.as_str(), second.quantity), ("USD", 1));
        assert!(second.fully_refunded);
        assert_eq!(second.creator_username, None);
        assert_eq!(second.content_type.as_deref(), Some("LIVE"));
        assert_eq!(second.commission_rate, Some(d("0.1")));
        assert_eq!(second.actual_commission, Some(d("-1.99")));
        // 1 May, Pacific daylight time (UTC−7), day first.
        assert_eq!(second.created_at, datetime!(2026-05-01 16:03:00 UTC));
        assert_eq!(
            second.commission_paid_at,
            Some(datetime!(2026-06-01 06:59:59 UTC))
        );
        let order = Order::TikTok(second);
        assert_eq!(
            (order.gmv(), order.refunds(), order.net()),
            (d("19.90"), d("19.90"), d("0"))
        );
        assert_eq!(order.commission_base(), d("19.90"));
        assert_eq!(order.attribution(), Attribution::None);
        assert_eq!(
            order.key(),
            ("576900000000000002", Some("1729000000000000002"))
        );
    }

    #[test]
    fn rejected_tiktok_rows_name_their_line_column_and_value() {
        let bytes = file(&[
            "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created,\
             Fully returned or refunded,Standard commission rate,Quantity",
            "A1,S1,10.00,USD,mia,01/05/2026 10:00:00,No,15%,1",
            ",S2,10.00,USD,mia,01/05/2026 10:00:00,No,15%,1",
            "A3,S3,ten,USD,mia,05/31/2026 10:00:00,maybe,150%,1.5",
            "5.77E+17,S4,-3,dollars,bad handle!,01/05/2026,No,,",
            "A5,S5,\"1,5\",USD,mia,2026-05-01T10:00:00Z,no,0.2,0",
        ]);
        let (_, orders, errors) = read_all(&bytes, "UTC");
        let ids: Vec<&str> = orders.iter().map(|o| o.key().0).collect();
        assert_eq!(ids, ["A1"]);
        assert_eq!(problems_on(&errors, 3), [Problem::MissingValue]);
        assert_eq!(errors[0].column, Some(Column::OrderId));
        assert_eq!(
            problems_on(&errors, 4),
            [
                Problem::BadNumber,
                Problem::BadQuantity,
                Problem::BadFlag,
                Problem::BadRate,
                // Month first in a day-first file: the shop's setting and the file disagree.
                Problem::WrongDateOrder(DateOrder::Dmy)
            ]
        );
        let bad_date = errors
            .iter()
            .find(|e| e.line == 4 && e.problem == Problem::WrongDateOrder(DateOrder::Dmy))
            .expect("a date error");
        assert_eq!(
            (
                bad_date.column,
                bad_date.value.as_str(),
                bad_date.order.as_deref()
            ),
            (Some(Column::TimeCreated), "05/31/2026 10:00:00", Some("A3"))
        );
        assert_eq!(
            problems_on(&errors, 5),
            [
                Problem::MangledId,
                Problem::BadCurrency,
                Problem::NegativeAmount,
                Problem::BadUsername
            ]
        );
        assert_eq!(problems_on(&errors, 6), [Problem::BadNumber]);
    }

    #[test]
    fn a_shopify_export_groups_line_items_under_their_order() {
        let bytes = file(&[
            SHOPIFY_HEADER,
            "#1001,a@x.invalid,paid,2026-05-01 10:05:00 +0200,EUR,60.00,63.90,\"mia10, Spring\",6.00,\
             2026-05-01 10:00:00 +0200,2,Lip tint,25.00,LT-1,",
            "#1001,,,,,,,,,,1,Serum,10.00,SR-1,",
            "#1002,b@x.invalid,partially_refunded,,EUR,30.00,30.00,,0.00,2026-05-02 09:00:00 +0200,\
             3,Mask,10.00,MK-1,10.00",
            "#1003,c@x.invalid,pending,,EUR,5.00,5.00,,,2026-05-02 11:00:00,1,Pin,5.00,,",
        ]);
        let (format, orders, errors) = read_all(&bytes, "Europe/Berlin");
        assert_eq!(format, OrderFormat::Shopify);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(orders.len(), 3);
        let Order::Shopify(first) = &orders[0] else {
            panic!("a Shopify order")
        };
        assert_eq!((first.name.as_str(), first.line), ("#1001", 2));
        assert_eq!(first.financial_status.as_deref(), Some("paid"));
        assert_eq!(first.discount_codes, ["MIA10", "SPRING"]);
        assert_eq!(first.created_at, datetime!(2026-05-01 08:00:00 UTC));
        assert_eq!(first.paid_at, Some(datetime!(2026-05-01 08:05:00 UTC)));
        assert_eq!(first.items.len(), 2);
        assert_eq!(
            (
                first.items[1].line,
                first.items[1].sku.as_deref(),
                first.items[1].quantity
            ),
            (3, Some("SR-1"), 1)
        );
        assert_eq!(first.merchandise(), d("60.00"));
        assert_eq!(orders[0].commission_base(), d("54.00"));
        assert_eq!(
            orders[0].attribution(),
            Attribution::DiscountCodes(&["MIA10".to_string(), "SPRING".to_string()])
        );
        assert_eq!(orders[1].refunds(), d("10.00"));
        assert_eq!(orders[1].net(), d("20.00"));
        // No `Paid at`, but the status says it was paid.
        assert_eq!(
            orders[1].paid_at(),
            Some(datetime!(2026-05-02 07:00:00 UTC))
        );
        // No offset written: the shop's zone (CEST).
        assert_eq!(orders[2].created_at(), datetime!(2026-05-02 09:00:00 UTC));
        assert_eq!(orders[2].paid_at(), None);
        assert_eq!(orders[2].line(), 5);
    }

    #[test]
    fn one_bad_line_item_rejects_its_whole_shopify_order() {
        let bytes = file(&[
            SHOPIFY_HEADER,
            "#2001,,paid,,USD,20.00,20.00,,,2026-05-01 10:00:00 +0000,1,A,10.00,,",
            "#2001,,,,,,,,,,x,B,10.00,,",
            "#2001,,,,,,,,,,1,C,10.00,,",
            "#2002,,paid,,USD,5.00,5.00,,,2026-05-01 11:00:00 +0000,1,D,5.00,,",
            "#2001,,,,,,,,,,1,E,1.00,,",
            "#2003,,paid,,USD,5.00,5.00,,,bad date,1,F,5.00,,",
        ]);
        let (_, orders, errors) = read_all(&bytes, "UTC");
        let names: Vec<&str> = orders.iter().map(|o| o.key().0).collect();
        assert_eq!(names, ["#2002"]);
        assert_eq!(
            problems_on(&errors, 2),
            [Problem::OrderRejected { line: 3 }]
        );
        assert_eq!(problems_on(&errors, 3), [Problem::BadQuantity]);
        assert_eq!(
            problems_on(&errors, 4),
            [Problem::OrderRejected { line: 3 }]
        );
        assert_eq!(problems_on(&errors, 6), [Problem::OrphanLineItem]);
        assert_eq!(problems_on(&errors, 7), [Problem::BadDate]);
        assert!(errors.iter().all(|e| e.order.is_some()));
    }

    #[test]
    fn the_header_decides_the_format_or_lists_what_is_missing() {
        let error = OrderReader::new(&b"Order ID,Payment Amount\n1,2"[..], zone("UTC"))
            .err()
            .expect("unknown");
        assert_eq!(error.problem, Problem::UnknownFormat);
        assert_eq!(
            error.detail,
            "SKU ID, Currency, Creator Username, Time Created"
        );
        let error = OrderReader::new(&b"Name,Total,Currency\n"[..], zone("UTC"))
            .err()
            .expect("unknown");
        assert_eq!(
            error.detail,
            "Created at, Lineitem quantity, Lineitem price"
        );
        let error = OrderReader::new(
            &b"order_id,SKU ID,Payment Amount,Currency,Creator Username,Time Created,ORDER ID"[..],
            zone("UTC"),
        )
        .err()
        .expect("duplicate");
        assert_eq!(
            (error.problem, error.detail.as_str()),
            (Problem::DuplicateColumn, "Order ID")
        );
        for (bytes, problem) in [
            (&b""[..], Problem::EmptyFile),
            (b"\r\n,,,\r\n", Problem::EmptyFile),
            (b"PK\x03\x04...", Problem::NotCsv),
        ] {
            assert_eq!(
                OrderReader::new(bytes, zone("UTC"))
                    .err()
                    .map(|e| e.problem),
                Some(problem)
            );
        }
    }

    #[test]
    fn shuffled_and_oddly_written_headers_still_match() {
        let bytes = file(&[
            "\u{feff}time created;  CURRENCY ;creator_username;payment-amount;Notes;sku id;order id",
            "01/05/2026 10:00:00;USD;mia;12.00;x;S;O",
        ]);
        let reader = OrderReader::new(&bytes[..], zone("UTC")).expect("reads");
        assert_eq!(reader.ignored_columns(), ["Notes"]);
        let entries: Vec<Entry> = reader.map(|e| e.expect("ok")).collect();
        assert!(matches!(&entries[..], [Entry::Order(Order::TikTok(o))] if o.order_id == "O"));
    }

    #[test]
    fn gb18030_and_bom_files_are_decoded() {
        let text = format!(
            "{TIKTOK_HEADER}\r\n1,2,口红 玫瑰色,9.90,CNY,1,否,已完成,mia,视频,/,10%,/,/,/,/,01/05/2026 10:00:00,/,/\r\n"
        );
        let (gb, _, _) = encoding_rs::GB18030.encode(&text);
        let reader = OrderReader::new(&gb[..], zone("Asia/Shanghai")).expect("reads");
        assert_eq!(reader.encoding(), "GB18030");
        let entries: Vec<Entry> = reader.map(|e| e.expect("ok")).collect();
        let [Entry::Order(Order::TikTok(line))] = &entries[..] else {
            panic!("{entries:#?}")
        };
        assert_eq!(line.product_name.as_deref(), Some("口红 玫瑰色"));
        assert_eq!(line.status.as_deref(), Some("已完成"));
        assert_eq!(line.created_at, datetime!(2026-05-01 02:00:00 UTC));

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(text.as_bytes());
        let reader = OrderReader::new(&bom[..], zone("Asia/Shanghai")).expect("reads");
        assert_eq!(reader.encoding(), "UTF-8");
        assert_eq!(reader.count(), 1);
    }

    #[test]
    fn bytes_the_sniffed_encoding_cannot_read_reject_their_row() {
        let mut bytes = file(&[
            "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created,Product Name",
            "1,1,1.00,USD,mia,01/05/2026,fine",
        ]);
        let (gb, _, _) = encoding_rs::GB18030.encode("口红");
        bytes.extend(b"\r\n2,2,1.00,USD,mia,01/05/2026,");
        bytes.extend(gb.iter());
        let reader = OrderReader::with_encoding(&bytes[..], zone("UTC"), Some(encoding_rs::UTF_8))
            .expect("reads");
        let entries: Vec<Entry> = reader.map(|e| e.expect("ok")).collect();
        assert!(matches!(&entries[0], Entry::Order(_)));
        assert!(matches!(
            &entries[1],
            Entry::Rejected(RowError {
                line: 3,
                problem: Problem::BadEncoding,
                ..
            })
        ));
    }

    #[test]
    fn quoted_newlines_crlf_and_blank_lines_keep_line_numbers_right() {
        let lines = [
            "",
            "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created,Product Name",
            "A,1,1.00,USD,mia,01/05/2026,\"two",
            "lines\"",
            "",
            "B,1,x,USD,mia,01/05/2026,",
            ",,,,,,",
            "C,1,1.00,USD,mia,01/05/2026,\"a\r\rb\"",
            "D,1,y,USD,mia,01/05/2026,",
        ];
        for ending in ["\r\n", "\n"] {
            let bytes = lines.join(ending).into_bytes();
            let (_, orders, errors) = read_all(&bytes, "UTC");
            assert_eq!(tiktok(&orders, "A").line, 3, "{ending:?}");
            assert_eq!(problems_on(&errors, 6), [Problem::BadNumber], "{ending:?}");
            assert_eq!(tiktok(&orders, "C").line, 8, "{ending:?}");
            assert_eq!(problems_on(&errors, 11), [Problem::BadNumber], "{ending:?}");
        }
    }

    #[test]
    fn cells_beyond_the_header_reject_the_row() {
        let bytes = file(&[
            "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created",
            "A,1,1,234.00,USD,mia,01/05/2026",
            "B,1,1.00,USD,mia,01/05/2026,,",
        ]);
        let (_, orders, errors) = read_all(&bytes, "UTC");
        assert_eq!(orders.len(), 1);
        assert!(
            errors
                .iter()
                .any(|e| e.line == 2 && e.problem == Problem::TooManyColumns)
        );
    }

    #[test]
    fn day_first_and_iso_times_parse_and_nonsense_does_not() {
        let utc = zone("UTC");
        let cases = [
            ("05/03/2026 14:30:00", datetime!(2026-03-05 14:30:00 UTC)),
            ("5/3/2026 4:30", datetime!(2026-03-05 04:30:00 UTC)),
            ("05/03/2026", datetime!(2026-03-05 00:00:00 UTC)),
            (
                "05/03/2026 14:30:00.250",
                datetime!(2026-03-05 14:30:00.25 UTC),
            ),
            (
                "2026-05-01 10:00:00 +0200",
                datetime!(2026-05-01 08:00:00 UTC),
            ),
            (
                "2026-05-01T10:00:00-05:30",
                datetime!(2026-05-01 15:30:00 UTC),
            ),
            (
                "2026-05-01 10:00:00 UTC",
                datetime!(2026-05-01 10:00:00 UTC),
            ),
            ("2026-05-01T10:00:00Z", datetime!(2026-05-01 10:00:00 UTC)),
            ("2026-05-01 10:00 +08", datetime!(2026-05-01 02:00:00 UTC)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_time_text(text, utc), Some(expected), "{text}");
        }
        for bad in [
            "31/02/2026 10:00:00",
            "05/13/2026",
            "05/03/26 10:00",
            "05/03/2026 24:00:00",
            "05/03/2026 10:60",
            "05/03/2026 10:00:00 PM",
            "2026-05-01 10:00:00 +2",
            "01/01/1900",
            "2026/05/01",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_time_text(bad, utc), None, "{bad}");
        }
    }

    fn read_in(bytes: &[u8], order: DateOrder) -> (Option<DateOrder>, Vec<Order>, Vec<RowError>) {
        let mut reader = OrderReader::new(bytes, zone("UTC"))
            .expect("a readable export")
            .date_order(order);
        let mut orders = Vec::new();
        let mut errors = Vec::new();
        for entry in reader.by_ref() {
            match entry.expect("no I/O error") {
                Entry::Order(o) => orders.push(o),
                Entry::Rejected(e) => errors.push(e),
            }
        }
        (reader.dates_read_both_ways(), orders, errors)
    }

    const SHORT_HEADER: &str =
        "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created";

    #[test]
    fn slash_dates_follow_the_shops_export_date_order() {
        let utc = zone("UTC");
        let read = |text, order| read_time_text(text, utc, order).map(|(at, _)| at);
        assert_eq!(
            read("03/05/2026 14:30:00", DateOrder::Mdy),
            Ok(datetime!(2026-03-05 14:30:00 UTC))
        );
        assert_eq!(
            read("05/03/2026 14:30:00", DateOrder::Dmy),
            Ok(datetime!(2026-03-05 14:30:00 UTC))
        );
        assert_eq!(
            read("2026/03/05 14:30", DateOrder::Ymd),
            Ok(datetime!(2026-03-05 14:30:00 UTC))
        );
        // ISO dates read the same whatever the order.
        for order in [DateOrder::Dmy, DateOrder::Mdy, DateOrder::Ymd] {
            assert_eq!(
                read("2026-03-05 14:30:00 +0100", order),
                Ok(datetime!(2026-03-05 13:30:00 UTC))
            );
        }
        // A date only the other order reads contradicts the shop's setting.
        assert_eq!(
            read("31/05/2026", DateOrder::Mdy),
            Err(Problem::WrongDateOrder(DateOrder::Mdy))
        );
        assert_eq!(
            read("05/31/2026", DateOrder::Dmy),
            Err(Problem::WrongDateOrder(DateOrder::Dmy))
        );
        assert_eq!(
            read("05/03/2026", DateOrder::Ymd),
            Err(Problem::WrongDateOrder(DateOrder::Ymd))
        );
        // No date either way: a 13th month, 31 April, 30 February.
        for bad in ["13/13/2026", "31/04/2026", "30/02/2026", "2026/05/03"] {
            assert_eq!(read(bad, DateOrder::Dmy), Err(Problem::BadDate), "{bad}");
        }
        assert_eq!(read("04/31/2026", DateOrder::Mdy), Err(Problem::BadDate));
    }

    #[test]
    fn a_file_whose_dates_all_read_both_ways_is_flagged_with_the_order_assumed() {
        let both = file(&[
            SHORT_HEADER,
            "A,1,1.00,USD,mia,03/05/2026 10:00",
            "B,1,1.00,USD,mia,12/11/2026 10:00",
        ]);
        let (assumed, orders, errors) = read_in(&both, DateOrder::Mdy);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(assumed, Some(DateOrder::Mdy));
        assert_eq!(orders[0].created_at(), datetime!(2026-03-05 10:00 UTC));
        let decided = file(&[
            SHORT_HEADER,
            "A,1,1.00,USD,mia,03/05/2026 10:00",
            "B,1,1.00,USD,mia,12/25/2026 10:00",
        ]);
        let (assumed, orders, _) = read_in(&decided, DateOrder::Mdy);
        assert_eq!((assumed, orders.len()), (None, 2));
        // ISO dates say nothing about slash dates; there are none to flag.
        let iso = file(&[SHORT_HEADER, "A,1,1.00,USD,mia,2026-05-03 10:00"]);
        assert_eq!(read_in(&iso, DateOrder::Mdy).0, None);
    }

    #[test]
    fn a_row_contradicting_the_date_order_is_rejected_on_its_line() {
        let bytes = file(&[
            SHORT_HEADER,
            "A,1,1.00,USD,mia,03/05/2026 10:00",
            "B,1,1.00,USD,mia,25/12/2026 10:00",
        ]);
        let (_, orders, errors) = read_in(&bytes, DateOrder::Mdy);
        assert_eq!(orders.len(), 1);
        assert_eq!(
            problems_on(&errors, 3),
            [Problem::WrongDateOrder(DateOrder::Mdy)]
        );
        assert_eq!(errors[0].column, Some(Column::TimeCreated));
        assert_eq!(errors[0].value, "25/12/2026 10:00");
    }

    #[test]
    fn a_row_with_fewer_cells_than_the_header_is_reported_cut_short() {
        let bytes = file(&[SHORT_HEADER, "A,1,1.00,USD,mia,01/05/2026", "B,1,1.00"]);
        let (_, orders, errors) = read_all(&bytes, "UTC");
        assert_eq!(orders.len(), 1);
        assert_eq!(
            problems_on(&errors, 3),
            [Problem::CutShort { cells: 3, of: 6 }]
        );
        let shopify = file(&[
            "Name,Currency,Total,Created at,Lineitem quantity,Lineitem price",
            "#1,USD,2.00,2026-05-01 10:00 +0000,1,1.00",
            "#1,,,,1",
            "#2,USD,2.00,2026-05-01 10:00 +0000,2,1.00",
        ]);
        let (_, orders, errors) = read_all(&shopify, "UTC");
        assert_eq!(orders.iter().map(|o| o.key().0).collect::<Vec<_>>(), ["#2"]);
        assert_eq!(
            problems_on(&errors, 3),
            [Problem::CutShort { cells: 5, of: 6 }]
        );
        assert_eq!(
            problems_on(&errors, 2),
            [Problem::OrderRejected { line: 3 }]
        );
    }

    #[test]
    fn a_nul_or_control_character_in_a_cell_rejects_its_row_naming_the_column() {
        let bytes = file(&[
            "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created,Product Name",
            "A,1,1.00,USD,mia,01/05/2026,Lamp",
            "B,1,1.00,USD,mia,01/05/2026,La\0mp",
            "C,1,1.00,USD,mia,01/05/2026,Bell\u{7}",
            "D,1,1.00,USD,mia,01/05/2026,\"Two\nlines\tand a tab\"",
        ]);
        let (_, orders, errors) = read_all(&bytes, "UTC");
        let ids: Vec<&str> = orders.iter().map(|o| o.key().0).collect();
        assert_eq!(ids, ["A", "D"]);
        assert_eq!(problems_on(&errors, 3), [Problem::ControlCharacter]);
        assert_eq!(errors[0].column, Some(Column::ProductName));
        assert_eq!(errors[0].value, "La\u{2400}mp");
        assert_eq!(problems_on(&errors, 4), [Problem::ControlCharacter]);
    }

    #[test]
    fn currency_codes_outside_iso_4217_are_row_errors() {
        let bytes = file(&[
            SHORT_HEADER,
            "A,1,1.00,usd,mia,01/05/2026",
            "B,1,1.00,XYZ,mia,01/05/2026",
            "C,1,1.00,ABC,mia,01/05/2026",
            "D,1,1.00,RMB,mia,01/05/2026",
        ]);
        let (_, orders, errors) = read_all(&bytes, "UTC");
        let currencies: Vec<&str> = orders.iter().map(Order::currency).collect();
        assert_eq!(currencies, ["USD", "CNY"]);
        for (line, code) in [(3, "XYZ"), (4, "ABC")] {
            let error = errors.iter().find(|e| e.line == line).expect("an error");
            assert_eq!(
                (error.column, error.value.as_str(), error.problem),
                (Some(Column::Currency), code, Problem::BadCurrency)
            );
        }
    }

    #[test]
    fn images_and_random_bytes_are_neither_csv_nor_xlsx() {
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        for bytes in [&png[..], &random] {
            assert_eq!(
                OrderReader::new(bytes, zone("UTC"))
                    .err()
                    .map(|e| e.problem),
                Some(Problem::Binary)
            );
        }
    }

    #[test]
    fn dst_gaps_move_forward_and_repeated_hours_take_the_earlier_instant() {
        let new_york = zone("America/New_York");
        // 02:30 does not exist on 8 March 2026: read with EST (−5) it is 03:30 EDT.
        assert_eq!(
            local_to_utc(datetime!(2026-03-08 02:30), new_york),
            datetime!(2026-03-08 07:30 UTC)
        );
        // 01:30 happens twice on 1 November 2026: the first one, still EDT (−4).
        assert_eq!(
            local_to_utc(datetime!(2026-11-01 01:30), new_york),
            datetime!(2026-11-01 05:30 UTC)
        );
        assert_eq!(
            local_to_utc(datetime!(2026-07-01 12:00), zone("Asia/Shanghai")),
            datetime!(2026-07-01 04:00 UTC)
        );
    }

    #[test]
    fn rates_read_percent_signs_fractions_and_whole_percents() {
        for (text, expected) in [
            ("15%", "0.15"),
            (" 7.5 ％", "0.075"),
            ("0.2", "0.2"),
            ("20", "0.2"),
            ("1", "1"),
            ("0%", "0"),
            ("100%", "1"),
        ] {
            assert_eq!(parse_rate(text), Some(d(expected)), "{text}");
        }
        for bad in ["", "101%", "150", "-5%", "abc", "1,5%"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }

    #[test]
    fn typed_cells_read_like_their_text() {
        assert_eq!(
            parse_id(Cell::Float(576_900_000_000.0)),
            Ok("576900000000".into())
        );
        assert_eq!(parse_id(Cell::Float(5.769e17)), Err(Problem::MangledId));
        assert_eq!(parse_id(Cell::Int(42)), Ok("42".into()));
        assert_eq!(parse_money(Cell::Float(12.34), None, false), Ok(d("12.34")));
        assert_eq!(
            parse_money(Cell::Float(0.1 + 0.2), None, false),
            Ok(d("0.30"))
        );
        assert_eq!(
            parse_money(Cell::Int(-1), None, false),
            Err(Problem::NegativeAmount)
        );
        assert_eq!(parse_rate_cell(Cell::Float(0.15)), Ok(d("0.15")));
        assert_eq!(parse_quantity(Cell::Float(3.0)), Ok(3));
        assert_eq!(parse_quantity(Cell::Float(3.5)), Err(Problem::BadQuantity));
        assert_eq!(parse_flag(Cell::Bool(true)), Ok(true));
        assert_eq!(parse_flag(Cell::Text("是")), Ok(true));
        assert_eq!(parse_flag(Cell::Text("否")), Ok(false));
        let utc = zone("UTC");
        // 46143.5 is 2026-05-01 12:00 in Excel's 1900 date system.
        assert_eq!(
            parse_time(Cell::Float(46_143.5), utc),
            Ok(datetime!(2026-05-01 12:00 UTC))
        );
        assert_eq!(
            parse_time(
                Cell::DateTime(datetime!(2026-05-01 12:00)),
                zone("Asia/Tokyo")
            ),
            Ok(datetime!(2026-05-01 03:00 UTC))
        );
        assert_eq!(parse_time(Cell::Float(1.5), utc), Err(Problem::BadDate));
        assert_eq!(parse_time(Cell::Bool(true), utc), Err(Problem::BadDate));
    }

    #[test]
    fn cancelled_lines_refund_their_payment() {
        let bytes = file(&[
            "Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created,Order Status,\
             Actual Commission Base,Est. Commission Base",
            "A,1,10.00,USD,mia,01/05/2026,Canceled,,8.00",
            "B,1,10.00,USD,mia,01/05/2026,Completed,9.00,8.00",
        ]);
        let (_, orders, _) = read_all(&bytes, "UTC");
        assert_eq!(orders[0].refunds(), d("10.00"));
        assert_eq!(orders[0].commission_base(), d("8.00"));
        assert_eq!(orders[1].refunds(), d("0"));
        assert_eq!(orders[1].commission_base(), d("9.00"));
        assert_eq!(
            orders[1].attribution(),
            Attribution::Creator {
                username: "mia",
                content_id: None
            }
        );
    }

    #[test]
    fn problem_keys_are_distinct_snake_case_under_the_orders_prefix() {
        let all = [
            Problem::EmptyFile,
            Problem::NotCsv,
            Problem::UnknownFormat,
            Problem::DuplicateColumn,
            Problem::Unreadable,
            Problem::MissingValue,
            Problem::BadNumber,
            Problem::NegativeAmount,
            Problem::BadCurrency,
            Problem::BadRate,
            Problem::BadDate,
            Problem::BadQuantity,
            Problem::BadFlag,
            Problem::BadId,
            Problem::MangledId,
            Problem::BadUsername,
            Problem::TooLong,
            Problem::TooManyColumns,
            Problem::BadEncoding,
            Problem::OrphanLineItem,
            Problem::OrderRejected { line: 1 },
            Problem::NoRows,
            Problem::Binary,
            Problem::WrongDateOrder(DateOrder::Dmy),
            Problem::WrongDateOrder(DateOrder::Mdy),
            Problem::WrongDateOrder(DateOrder::Ymd),
            Problem::CutShort { cells: 1, of: 2 },
            Problem::ControlCharacter,
        ];
        let keys: std::collections::BTreeSet<&str> = all.iter().map(Problem::key).collect();
        assert_eq!(keys.len(), all.len());
        for key in keys {
            let rest = key.strip_prefix("tracking.orders.error.").expect("prefix");
            assert!(
                rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{key}"
            );
        }
        for (column, header, _) in TIKTOK_COLUMNS.iter().chain(SHOPIFY_COLUMNS) {
            assert_eq!(column.header(), *header);
        }
    }

    const PIECES: &[&[u8]] = &[
        b",",
        b"\"",
        b"\r\n",
        b"\n",
        b"\r",
        b"/",
        b"%",
        b"1",
        b"9",
        b".",
        b"-",
        b"E+17",
        b"01/05/2026 10:00:00",
        b"2026-05-01 10:00:00 +0200",
        b"USD",
        b"#1001",
        b"mia",
        b"1,234.50",
        b"\xFF",
        b"\xE4\xB8",
        "是".as_bytes(),
        b" ",
        b"\0",
    ];

    /// Export-like noise: known pieces (separators, quotes, dates, amounts, broken bytes) and
    /// random bytes after a real header.
    fn noisy_export() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            5 => (0..PIECES.len()).prop_map(|i| PIECES[i].to_vec()),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ];
        (any::<bool>(), proptest::collection::vec(piece, 0..80)).prop_map(|(shopify, pieces)| {
            let header: &[u8] = if shopify {
                b"Name,Currency,Total,Created at,Lineitem quantity,Lineitem price,Financial Status\n"
            } else {
                b"Order ID,SKU ID,Payment Amount,Currency,Creator Username,Time Created,Quantity\n"
            };
            let mut bytes = header.to_vec();
            bytes.extend(pieces.concat());
            bytes
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        #[test]
        fn odd_bytes_never_panic_and_every_row_is_accounted_for(bytes in noisy_export()) {
            let Ok(mut reader) = OrderReader::new(&bytes[..], zone("Europe/London")) else {
                return Ok(());
            };
            let mut lines_with_orders = std::collections::BTreeSet::new();
            let mut lines_with_errors = std::collections::BTreeSet::new();
            for entry in reader.by_ref() {
                match entry.expect("in-memory input") {
                    Entry::Order(Order::TikTok(o)) => {
                        proptest::prop_assert!(lines_with_orders.insert(o.line));
                    }
                    Entry::Order(Order::Shopify(o)) => {
                        for item in &o.items {
                            proptest::prop_assert!(lines_with_orders.insert(item.line));
                        }
                    }
                    Entry::Rejected(e) => {
                        lines_with_errors.insert(e.line);
                    }
                }
            }
            // Every counted row ends as (part of) an order or as errors on its line, never both.
            proptest::prop_assert!(lines_with_orders.is_disjoint(&lines_with_errors));
            proptest::prop_assert_eq!(
                lines_with_orders.len() + lines_with_errors.len(),
                reader.rows_read()
            );
        }
    }
}
