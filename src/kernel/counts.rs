//! Counts as people and exports write them: `12,345`, `1.2万`, `3.4K`, `1.5M` (one parser for the
//! creator import, the snapshot import and the terms form).

use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// "13.8M", "250K", "1.2万", "3w", "1.5亿", "12,345", "1.38E+07" → a whole number (rounded).
/// None for empty, negative or unreadable input.
pub fn parse_count(s: &str) -> Option<i64> {
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let last = t.chars().next_back()?;
    let multiplier: i64 = match last {
        'k' | 'K' | '千' => 1_000,
        'm' | 'M' => 1_000_000,
        'b' | 'B' => 1_000_000_000,
        'w' | 'W' | '万' => 10_000,
        '亿' => 100_000_000,
        _ => 1,
    };
    let body = if multiplier == 1 {
        t
    } else {
        t[..t.len() - last.len_utf8()].trim_end()
    };
    let number = if multiplier == 1 && body.contains(['e', 'E']) {
        scientific(body)?
    } else {
        plain_decimal(body)?
    };
    number
        .checked_mul(Decimal::from(multiplier))?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
}

/// Digits with an optional fraction; thousands separators (',', '，', spaces) only in groups of
/// three, so "1,5" (a European decimal comma) is refused rather than read as 15.
pub fn plain_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let groups: Vec<&str> = whole
        .split([',', '，', ' ', '\u{a0}', '\u{202f}'])
        .collect();
    let grouped = groups.len() > 1;
    for (i, group) in groups.iter().enumerate() {
        let digits_ok = group.bytes().all(|b| b.is_ascii_digit());
        let size_ok = !grouped
            || if i == 0 {
                (1..=3).contains(&group.len())
            } else {
                group.len() == 3
            };
        if !digits_ok || !size_ok {
            return None;
        }
    }
    let whole: String = groups.concat();
    let fraction = fraction.unwrap_or("");
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    let whole = if whole.is_empty() {
        "0"
    } else {
        whole.as_str()
    };
    let text = if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    };
    Decimal::from_str(&text).ok()
}

/// Excel shows long numbers as "1.38E+07" and saves them that way.
fn scientific(s: &str) -> Option<Decimal> {
    let (mantissa, exponent) = s.split_once(['e', 'E'])?;
    let mantissa = plain_decimal(mantissa)?;
    let exponent: i32 = exponent.trim().parse().ok()?;
    if !(-18..=18).contains(&exponent) {
        return None;
    }
    let scale = Decimal::from(10_i64.pow(exponent.unsigned_abs()));
    if exponent >= 0 {
        mantissa.checked_mul(scale)
    } else {
        mantissa.checked_div(scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviated_counts_become_whole_numbers() {
        let cases = [
            ("13.8M", 13_800_000),
            ("250K", 250_000),
            ("250k", 250_000),
            ("1.2万", 12_000),
            ("3w", 30_000),
            ("3W", 30_000),
            ("1.5亿", 150_000_000),
            ("12,345", 12_345),
            (" 980 ", 980),
            ("1.2 万", 12_000),
            ("2B", 2_000_000_000),
            ("1.38E+07", 13_800_000),
            ("4.5", 5),
            ("+7", 7),
            ("1,234,567", 1_234_567),
            ("0", 0),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_count(input), Some(expected), "{input}");
        }
    }

    #[test]
    fn counts_refuse_negatives_blanks_and_garbage() {
        for input in [
            "",
            "  ",
            "-5",
            "-1.2万",
            "abc",
            "1,5",
            "12,34",
            "1..2",
            "K",
            "万",
            "1e99",
            "99999999999999999999",
            "nan",
            "inf",
            "1.2.3M",
        ] {
            assert_eq!(parse_count(input), None, "{input}");
        }
    }
}
