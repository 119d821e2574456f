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

/// One creator's facts as the staff edit form holds them: the pool import's columns, as text in
/// the import's format (lists as codes), so a form edit follows exactly the import's rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct CreatorEdit {
    pub display_name: String,
    pub profile_url: String,
    /// Links to recent videos, one per line (or separated by spaces).
    pub recent_videos: String,
    pub country: String,
    #[serde(deserialize_with = "crate::web::forms::one_or_many")]
    pub markets: Vec<String>,
    #[serde(deserialize_with = "crate::web::forms::one_or_many")]
    pub languages: Vec<String>,
    #[serde(deserialize_with = "crate::web::forms::one_or_many")]
    pub categories: Vec<String>,
    #[serde(deserialize_with = "crate::web::forms::one_or_many")]
    pub styles: Vec<String>,
    pub followers: String,
    pub avg_views: String,
    pub avg_likes: String,
    pub avg_comments: String,
    pub avg_shares: String,
    pub quote_video: String,
    pub quote_live: String,
    pub quote_currency: String,
    pub mcn: String,
    pub contact: String,
    pub violation_notes: String,
}

impl CreatorEdit {
    /// (column, value as text), in the form's order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("display_name", self.display_name.trim().to_string()),
            ("profile_url", self.profile_url.trim().to_string()),
            (
                "recent_videos",
                self.recent_videos
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            ("country", self.country.trim().to_string()),
            ("markets", self.markets.join(",")),
            ("languages", self.languages.join(",")),
            ("categories", self.categories.join(",")),
            ("styles", self.styles.join(",")),
            ("followers", self.followers.trim().to_string()),
            ("avg_views", self.avg_views.trim().to_string()),
            ("avg_likes", self.avg_likes.trim().to_string()),
            ("avg_comments", self.avg_comments.trim().to_string()),
            ("avg_shares", self.avg_shares.trim().to_string()),
            ("quote_video", self.quote_video.trim().to_string()),
            ("quote_live", self.quote_live.trim().to_string()),
            ("quote_currency", self.quote_currency.trim().to_string()),
            ("mcn", self.mcn.trim().to_string()),
            ("contact", self.contact.trim().to_string()),
            ("violation_notes", self.violation_notes.trim().to_string()),
        ]
    }

    /// The facts of a valid record, as the form writes them (to compare before and after).
    pub fn of_record(r: &super::import::CreatorRecord) -> CreatorEdit {
        let dec = |d: Option<rust_decimal::Decimal>| d.map(|d| d.normalize().to_string());
        CreatorEdit {
            display_name: r.display_name.clone(),
            profile_url: r.profile_url.clone().unwrap_or_default(),
            recent_videos: r.recent_videos.join("\n"),
            country: r.country.clone().unwrap_or_default(),
            markets: r.markets.clone(),
            languages: r.languages.clone(),
            categories: r.categories.clone(),
            styles: r.styles.clone(),
            followers: r.followers.to_string(),
            avg_views: r.avg_views.to_string(),
            avg_likes: r.avg_likes.to_string(),
            avg_comments: r.avg_comments.to_string(),
            avg_shares: r.avg_shares.to_string(),
            quote_video: dec(r.quote_video).unwrap_or_default(),
            quote_live: dec(r.quote_live).unwrap_or_default(),
            quote_currency: r.quote_currency.clone().unwrap_or_default(),
            mcn: r.mcn.clone().unwrap_or_default(),
            contact: r.contact.clone().unwrap_or_default(),
            violation_notes: r.violation_notes.clone().unwrap_or_default(),
        }
    }

    /// The edit as a pool record for `handle`, checked by the import's own rules: each problem is
    /// the field's error. Every field of the form is written (a blank one clears what it held).
    pub fn to_record(
        &self,
        handle: &str,
    ) -> Result<super::import::CreatorRecord, crate::kernel::FieldErrors> {
        let fields = self.fields();
        let mut out = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = std::iter::once("handle")
            .chain(fields.iter().map(|(k, _)| *k))
            .collect();
        let row: Vec<&str> = std::iter::once(handle)
            .chain(fields.iter().map(|(_, v)| v.as_str()))
            .collect();
        let written = out
            .write_record(&header)
            .and_then(|_| out.write_record(&row))
            .ok()
            .and_then(|_| out.into_inner().ok());
        let mut errors = crate::kernel::FieldErrors::new();
        let Some(bytes) = written else {
            errors.insert("display_name".into(), "creators.import.error.not_csv");
            return Err(errors);
        };
        match super::import::parse(&bytes) {
            Ok(mut parsed) => {
                for e in &parsed.errors {
                    let field = e.column.unwrap_or("display_name");
                    errors.entry(field.to_string()).or_insert(e.problem.key());
                }
                match parsed.records.pop() {
                    Some(mut record) if errors.is_empty() => {
                        record.present = fields.iter().map(|(k, _)| *k).collect();
                        Ok(record)
                    }
                    _ => {
                        if errors.is_empty() {
                            errors.insert("display_name".into(), "creators.import.error.no_rows");
                        }
                        Err(errors)
                    }
                }
            }
            Err(file) => {
                errors.insert("display_name".into(), file.problem.key());
                Err(errors)
            }
        }
    }

    /// What changed from `self` to `after`: (column, before, after).
    pub fn changes(&self, after: &CreatorEdit) -> Vec<(&'static str, String, String)> {
        self.fields()
            .into_iter()
            .zip(after.fields())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((k, a), (_, b))| (k, a, b))
            .collect()
    }
}
