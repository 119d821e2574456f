//! Formatting for people: money (currency-aware minor units), numbers and dates in a time zone.

use rust_decimal::{Decimal, RoundingStrategy};
use time::OffsetDateTime;
use time::macros::format_description;
use time_tz::{OffsetDateTimeExt, timezones};

/// ISO 4217 minor units (see `kernel::money::Currency::minor_units`).
pub use crate::kernel::money::minor_units;

/// `CNY 1,234.50`, `JPY 1,235`: rounded half-even to the currency's minor units, always with its
/// code (UX: money always shows its currency).
pub fn money(amount: Decimal, currency: &str) -> String {
    let dp = minor_units(currency);
    let rounded = amount.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
    format!(
        "{currency} {}",
        group_thousands(&format!("{rounded:.0$}", dp as usize))
    )
}

/// A fraction as the percent a person types: 0.125 → `12.5`.
pub fn percent_of(fraction: Decimal) -> String {
    (fraction * Decimal::new(100, 0)).normalize().to_string()
}

/// A count with thousands separators: `1,234,567`.
pub fn number(n: i64) -> String {
    group_thousands(&n.to_string())
}

fn group_thousands(plain: &str) -> String {
    let (sign, rest) = plain.strip_prefix('-').map_or(("", plain), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// `2026-11-21 14:05` in the named time zone (UTC when the name is unknown).
pub fn datetime(at: OffsetDateTime, time_zone: &str) -> String {
    let local = match timezones::get_by_name(time_zone) {
        Some(tz) => at.to_timezone(tz),
        None => at,
    };
    local
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_default()
}

/// Whether `name` is a known IANA time zone.
pub fn is_time_zone(name: &str) -> bool {
    timezones::get_by_name(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().expect("test literal")
    }

    #[test]
    fn money_rounds_half_even_to_the_currency_minor_units() {
        assert_eq!(money(dec("1234.5"), "CNY"), "CNY 1,234.50");
        assert_eq!(money(dec("0.125"), "USD"), "USD 0.12");
        assert_eq!(money(dec("0.135"), "USD"), "USD 0.14");
        assert_eq!(money(dec("1234.5"), "JPY"), "JPY 1,234");
        assert_eq!(money(dec("1235.5"), "JPY"), "JPY 1,236");
        assert_eq!(money(dec("-1234567.891"), "KWD"), "KWD -1,234,567.891");
        assert_eq!(money(dec("999"), "USD"), "USD 999.00");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(-1234567), "-1,234,567");
    }

    #[test]
    fn dates_show_in_the_tenant_time_zone() {
        let at = time::macros::datetime!(2026-11-21 06:05 UTC);
        assert_eq!(datetime(at, "Asia/Shanghai"), "2026-11-21 14:05");
        assert_eq!(datetime(at, "America/Los_Angeles"), "2026-11-20 22:05");
        assert_eq!(datetime(at, "Not/AZone"), "2026-11-21 06:05");
        assert!(is_time_zone("Europe/London"));
        assert!(!is_time_zone("Mars/Olympus"));
    }
}
