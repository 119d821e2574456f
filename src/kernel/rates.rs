//! Reference rates: converting an amount between currencies (matching compares quotes with fee
//! caps through them; tracking sums revenue in the report currency through them).

use rust_decimal::Decimal;

/// The admin-maintained reference rates (SPEC §3), not finance's settlement rates: `amount` in
/// `from` as `to` (ISO 4217 codes), or None when the rates do not connect the two.
pub trait Rates {
    fn convert(&self, amount: Decimal, from: &str, to: &str) -> Option<Decimal>;
}
