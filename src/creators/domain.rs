//! The creator pool's rules, as plain functions: what a reference rate entered by hand must be.

use rust_decimal::Decimal;

use crate::kernel::FieldErrors;

/// Where a creator import stands (`creator_imports.status`): checked and waiting for a decision,
/// then imported or cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ImportStatus {
    Validated,
    Imported,
    Cancelled,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 3] = [
        ImportStatus::Validated,
        ImportStatus::Imported,
        ImportStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportStatus::Validated => "validated",
            ImportStatus::Imported => "imported",
            ImportStatus::Cancelled => "cancelled",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            ImportStatus::Validated => "creators.import.status.validated",
            ImportStatus::Imported => "creators.import.status.imported",
            ImportStatus::Cancelled => "creators.import.status.cancelled",
        }
    }

    /// Still waiting for someone to import it or cancel it.
    pub fn is_pending(self) -> bool {
        self == ImportStatus::Validated
    }
}

/// One reference rate as staff enter it: on `date`, 1 `from` is `rate` `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceRate {
    pub date: time::Date,
    pub from: String,
    pub to: String,
    pub rate: Decimal,
}

/// A three-letter upper-case currency code (ISO 4217 shape).
pub fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())
}

/// Rates stay below ten billion (no currency pair comes near), so they fit the rate column.
const MAX_RATE: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 0);

impl ReferenceRate {
    /// Reads the form's fields: a date `YYYY-MM-DD`, two different currency codes (any case,
    /// spaces around ignored), and a rate above zero with at most 8 decimals (thousands commas
    /// allowed). Every wrong field is named with its message key.
    pub fn parse(
        date: &str,
        from: &str,
        to: &str,
        rate: &str,
    ) -> Result<ReferenceRate, FieldErrors> {
        let from = from.trim().to_uppercase();
        let to = to.trim().to_uppercase();
        let mut errors = FieldErrors::new();
        let date = time::Date::parse(
            date.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok();
        if date.is_none() {
            errors.insert("date".into(), "rates.error.date");
        }
        if !is_currency(&from) {
            errors.insert("from".into(), "rates.error.currency");
        }
        if !is_currency(&to) {
            errors.insert("to".into(), "rates.error.currency");
        } else if to == from {
            errors.insert("to".into(), "rates.error.same_currency");
        }
        let rate = rate
            .trim()
            .replace(',', "")
            .parse::<Decimal>()
            .ok()
            // `reference_rates.rate` is numeric(18,8): under 10^10.
            .filter(|r| *r > Decimal::ZERO && r.scale() <= 8 && *r < MAX_RATE);
        if rate.is_none() {
            errors.insert("rate".into(), "rates.error.rate");
        }
        match (date, rate, errors.is_empty()) {
            (Some(date), Some(rate), true) => Ok(ReferenceRate {
                date,
                from,
                to,
                rate,
            }),
            _ => Err(errors),
        }
    }

    /// How the audit log names it: `2026-11-22 USD/CNY`.
    pub fn entity_id(&self) -> String {
        format!("{} {}/{}", self.date, self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_import_status_is_named_in_both_languages() {
        for status in ImportStatus::ALL {
            assert!(
                crate::web::lang::in_both_catalogues(status.label_key()),
                "{status:?}"
            );
            assert!(status.label_key().ends_with(status.code()));
        }
    }

    #[test]
    fn a_rate_is_read_with_its_codes_in_upper_case() {
        assert_eq!(
            ReferenceRate::parse(" 2026-11-22 ", "usd", " cny ", "1,007.1234"),
            Ok(ReferenceRate {
                date: time::macros::date!(2026 - 11 - 22),
                from: "USD".into(),
                to: "CNY".into(),
                rate: "1007.1234".parse().unwrap(),
            })
        );
        let rate = ReferenceRate::parse("2026-11-22", "USD", "CNY", "7.1").unwrap();
        assert_eq!(rate.entity_id(), "2026-11-22 USD/CNY");
    }

    #[test]
    fn each_wrong_field_is_named() {
        let errors = |d, f, t, r| ReferenceRate::parse(d, f, t, r).unwrap_err();
        assert_eq!(
            errors("22/11/2026", "US", "C1Y", "0"),
            FieldErrors::from([
                ("date".into(), "rates.error.date"),
                ("from".into(), "rates.error.currency"),
                ("to".into(), "rates.error.currency"),
                ("rate".into(), "rates.error.rate"),
            ])
        );
        assert_eq!(
            errors("2026-11-22", "USD", "usd", "1"),
            FieldErrors::from([("to".into(), "rates.error.same_currency")])
        );
        for bad in ["-1", "abc", "7.123456789", ""] {
            assert_eq!(
                errors("2026-11-22", "USD", "CNY", bad),
                FieldErrors::from([("rate".into(), "rates.error.rate")]),
                "{bad}"
            );
        }
        assert!(is_currency("EUR") && !is_currency("Eur") && !is_currency("EURO"));
    }
}
