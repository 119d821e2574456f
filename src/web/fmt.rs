//! Formatting for people: money (currency-aware minor units), numbers and dates in a time zone.
//! The one formatter every page uses (UX.md): numbers grouped by thousands, money as
//! `CODE 1,234.50` with a no-break space (the code never wraps away from its amount), dates as
//! `2026-11-21 14:05` in the tenant's zone — the same in both languages; only compact counts
//! (`1.2万` / `12K`) read differently per language.

use rust_decimal::{Decimal, RoundingStrategy};
use time::OffsetDateTime;
use time::macros::format_description;
use time_tz::{OffsetDateTimeExt, timezones};

/// ISO 4217 minor units (see `kernel::money::Currency::minor_units`).
pub use crate::kernel::money::minor_units;

/// Between a currency code and its amount: a no-break space.
pub const NBSP: char = '\u{a0}';

/// `CNY 1,234.50`, `JPY 1,235`: rounded half-even to the currency's minor units, always with its
/// code (UX: money always shows its currency), joined by a no-break space.
pub fn money(amount: Decimal, currency: &str) -> String {
    format!("{currency}{NBSP}{}", amount_in(amount, currency))
}

/// The amount alone, as `money` writes it (for a column whose header names the currency).
pub fn amount_in(amount: Decimal, currency: &str) -> String {
    let dp = minor_units(currency);
    let rounded = amount.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
    // No "-0.00": an amount that rounds to nothing has no sign.
    let rounded = if rounded.is_zero() {
        Decimal::ZERO
    } else {
        rounded
    };
    group_thousands(&format!("{rounded:.0$}", dp as usize))
}

/// A range of money in one currency: `USD 100.00 – 2,000.00`; an open end is `—`.
pub fn money_range(low: Option<Decimal>, high: Option<Decimal>, currency: &str) -> String {
    let side = |v: Option<Decimal>| v.map_or_else(|| "—".to_string(), |v| amount_in(v, currency));
    format!("{currency}{NBSP}{} – {}", side(low), side(high))
}

/// A range of counts: `10,000 – 800,000`; an open end is `—`.
pub fn number_range(low: Option<i64>, high: Option<i64>) -> String {
    let side = |v: Option<i64>| v.map_or_else(|| "—".to_string(), number);
    format!("{} – {}", side(low), side(high))
}

/// A count in few characters, as each language says it: `1.2万`, `3.5亿` / `12K`, `3.5M`, `1.2B`.
/// Below ten thousand (Chinese) or one thousand (English) the full number.
pub fn compact(n: i64, lang: crate::web::lang::Lang) -> String {
    use crate::web::lang::Lang;
    let steps: &[(i64, &str)] = match lang {
        Lang::ZhCn => &[(100_000_000, "亿"), (10_000, "万")],
        Lang::En => &[(1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")],
    };
    let sign = if n < 0 { "-" } else { "" };
    let abs = n.unsigned_abs();
    for &(step, unit) in steps {
        let step = step as u64;
        if abs >= step {
            let value = Decimal::from(abs) / Decimal::from(step);
            let shown = value
                .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
                .normalize();
            return format!("{sign}{shown}{unit}");
        }
    }
    number(n)
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

    /// `money` with a plain space, for readable expectations.
    fn shown(amount: &str, currency: &str) -> String {
        let text = money(dec(amount), currency);
        assert!(
            !text.contains(' '),
            "{text:?}: the code never wraps from the amount"
        );
        text.replace(NBSP, " ")
    }

    #[test]
    fn money_rounds_half_even_to_the_currency_minor_units() {
        assert_eq!(shown("1234.5", "CNY"), "CNY 1,234.50");
        assert_eq!(shown("0.125", "USD"), "USD 0.12");
        assert_eq!(shown("0.135", "USD"), "USD 0.14");
        assert_eq!(shown("1234.5", "JPY"), "JPY 1,234");
        assert_eq!(shown("1235.5", "JPY"), "JPY 1,236");
        assert_eq!(shown("-1234567.891", "KWD"), "KWD -1,234,567.891");
        assert_eq!(shown("999", "USD"), "USD 999.00");
    }

    #[test]
    fn money_across_currencies_signs_and_sizes() {
        // No decimals where the currency has none.
        assert_eq!(shown("25000000.4", "VND"), "VND 25,000,000");
        assert_eq!(shown("-1999.5", "JPY"), "JPY -2,000");
        // Negative amounts keep their sign after the code; half-even on the last place.
        assert_eq!(shown("-0.005", "EUR"), "EUR 0.00");
        assert_eq!(shown("-12.345", "EUR"), "EUR -12.34");
        // A billion and more, grouped all the way.
        assert_eq!(shown("1234567890.126", "CNY"), "CNY 1,234,567,890.13");
        assert_eq!(shown("12000000000", "USD"), "USD 12,000,000,000.00");
        // An unknown code gets two places.
        assert_eq!(shown("5", "XYZ"), "XYZ 5.00");
        // Ranges: one code, both ends grouped, an open end as a dash.
        assert_eq!(
            money_range(Some(dec("5000")), Some(dec("20000.5")), "CNY").replace(NBSP, " "),
            "CNY 5,000.00 – 20,000.50"
        );
        assert_eq!(
            money_range(None, Some(dec("300")), "JPY").replace(NBSP, " "),
            "JPY — – 300"
        );
        assert_eq!(
            number_range(Some(10_000), Some(800_000)),
            "10,000 – 800,000"
        );
        assert_eq!(number_range(Some(10_000), None), "10,000 – —");
    }

    #[test]
    fn compact_counts_read_as_each_language_says_them() {
        use crate::web::lang::Lang;
        assert_eq!(compact(9_999, Lang::ZhCn), "9,999");
        assert_eq!(compact(12_345, Lang::ZhCn), "1.2万");
        assert_eq!(compact(12_345, Lang::En), "12.3K");
        assert_eq!(compact(999, Lang::En), "999");
        assert_eq!(compact(1_500_000, Lang::ZhCn), "150万");
        assert_eq!(compact(1_500_000, Lang::En), "1.5M");
        assert_eq!(compact(2_345_678_901, Lang::ZhCn), "23.5亿");
        assert_eq!(compact(2_345_678_901, Lang::En), "2.3B");
        assert_eq!(compact(-45_000, Lang::En), "-45K");
        assert_eq!(compact(100_000_000, Lang::ZhCn), "1亿");
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
