//! The shared vocabulary every feature may use; it imports no feature: field errors, money and
//! currencies, reference rates, markets and languages, content styles, time zones, the rules every typed
//! text field follows, and the small parsers the importers and forms share.

use std::collections::BTreeMap;

pub mod counts;
pub mod markets;
pub mod money;
pub mod rates;
pub mod text;
pub mod tier;

pub use money::{Currency, Money};

/// What is wrong with a form or a request body: field name → message key (translated where it is
/// shown, sent as a code in problem+json).
pub type FieldErrors = BTreeMap<String, &'static str>;

/// Content styles a creator works in and a campaign may ask for.
pub const STYLES: &[&str] = &[
    "talking_head",
    "real_shot",
    "unboxing",
    "tutorial",
    "before_after",
    "storytelling",
    "live_selling",
];

/// Order statuses as the shops' exports write them, in lower snake case: Shopify's financial
/// status and TikTok Shop's order status (`To ship` → `to_ship`). Others show as written.
pub const ORDER_STATUSES: &[&str] = &[
    "pending",
    "authorized",
    "partially_paid",
    "paid",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
    "unpaid",
    "awaiting_shipment",
    "to_ship",
    "awaiting_collection",
    "shipped",
    "in_transit",
    "delivered",
    "completed",
    "canceled",
    "cancelled",
];

/// Staff pages show times in the agency's zone.
pub const STAFF_TIME_ZONE: &str = "Asia/Shanghai";
