//! Markets, content languages, shop and settlement currencies, and the time zones a tenant may
//! pick.

use super::Currency;

/// Product categories a seller sells in and a creator covers.
pub const CATEGORIES: &[&str] = &[
    "beauty",
    "fashion",
    "home_kitchen",
    "home_decor",
    "electronics",
    "outdoor",
    "sports",
    "pets",
    "baby",
    "food",
    "health",
    "toys",
    "automotive",
];

/// Target markets (ISO 3166-1 alpha-2), SPEC §2.
pub const MARKETS: &[&str] = &[
    "US", "GB", "DE", "FR", "ES", "IT", "MX", "BR", "SA", "AE", "ID", "TH", "VN", "MY", "PH", "SG",
    "JP",
];

/// Content languages offered (ISO 639-1).
pub const LANGUAGES: &[&str] = &[
    "en", "es", "de", "fr", "it", "pt", "id", "th", "vi", "ms", "tl", "ar", "ja", "zh",
];

/// Currencies a shop may sell in (ISO 4217).
pub const SHOP_CURRENCIES: &[&str] = &[
    "USD", "GBP", "EUR", "CNY", "JPY", "MXN", "BRL", "SAR", "AED", "IDR", "THB", "VND", "MYR",
    "PHP", "SGD", "CAD", "AUD", "HKD", "KRW",
];

/// Currencies the agency settles with a seller in.
pub const SETTLEMENT_CURRENCIES: &[&str] = &["CNY", "USD"];

/// The shop currency with this code, or None when a shop may not sell in it.
pub fn shop_currency(code: &str) -> Option<Currency> {
    SHOP_CURRENCIES
        .contains(&code)
        .then(|| Currency::parse(code).ok())
        .flatten()
}

/// Time zones offered in the pickers; any IANA name is accepted.
pub const COMMON_TIME_ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Ho_Chi_Minh",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Riyadh",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "UTC",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shop_and_settlement_currency_is_an_iso_4217_code() {
        for code in SHOP_CURRENCIES.iter().chain(SETTLEMENT_CURRENCIES) {
            assert_eq!(
                shop_currency(code).map(|c| c.code()),
                SHOP_CURRENCIES.contains(code).then_some(*code),
                "{code}"
            );
            assert!(Currency::parse(code).is_ok(), "{code}");
        }
        assert_eq!(shop_currency("XXX"), None);
    }
}
