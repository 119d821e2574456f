//! The shared vocabulary every feature may use; it imports no feature. (It grows into money,
//! currencies, markets and small parsers; for now it holds what the error layer needs.)

use std::collections::BTreeMap;

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

/// Staff pages show times in the agency's zone.
pub const STAFF_TIME_ZONE: &str = "Asia/Shanghai";
