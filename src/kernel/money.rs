//! Money: an amount with its ISO 4217 currency. Codes are checked against ISO 4217 (through the
//! `iso_currency` crate); the database keeps them as `text`, so `Currency` maps to `text` both ways.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// An ISO 4217 currency (upper-case alphabetic code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

/// A code that is not an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 4217 currency code: {0:?}")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// The code as written in ISO 4217 (`"USD"`); lower case and surrounding spaces are accepted.
    pub fn parse(code: &str) -> Result<Currency, UnknownCurrency> {
        let code = code.trim();
        iso_currency::Currency::from_code(&code.to_ascii_uppercase())
            .map(Currency)
            .ok_or_else(|| UnknownCurrency(code.to_string()))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Decimal places the product uses for this currency: ISO 4217's minor units, except IDR,
    /// which ISO gives 2 but which is priced, paid and settled in whole rupiah everywhere the
    /// product meets it (TikTok Shop Indonesia included). Currencies without minor units in ISO
    /// (precious metals, funds) use 2.
    pub fn minor_units(self) -> u32 {
        if self.0 == iso_currency::Currency::IDR {
            return 0;
        }
        self.0.exponent().map(u32::from).unwrap_or(2)
    }

    /// The amount rounded half-even to this currency's minor units.
    pub fn round(self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointNearestEven)
    }

    /// Whether `amount` has no more decimals than the currency allows (it is never rounded).
    pub fn fits(self, amount: Decimal) -> bool {
        amount.normalize().scale() <= self.minor_units()
    }
}

/// Decimal places for a code as stored; an unknown code (never written by the product) gets 2.
pub fn minor_units(code: &str) -> u32 {
    Currency::parse(code).map_or(2, Currency::minor_units)
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl AsRef<str> for Currency {
    fn as_ref(&self) -> &str {
        self.code()
    }
}

impl PartialEq<&str> for Currency {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl Type<Postgres> for Currency {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Currency {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as Encode<Postgres>>::encode(self.code(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Currency {
    fn decode(value: PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let code = <&str as Decode<Postgres>>::decode(value)?;
        Ok(Currency::parse(code)?)
    }
}

/// An amount in a currency. Arithmetic between two amounts only happens in one currency; other
/// currencies go through `Rates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency)
    }

    /// The sum, when both are in one currency and it does not overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.amount.checked_add(other.amount))
            .flatten()
            .map(|amount| Money::new(amount, self.currency))
    }

    /// Rounded half-even to the currency's minor units.
    pub fn rounded(self) -> Money {
        Money::new(self.currency.round(self.amount), self.currency)
    }

    /// The amount in minor units (USD 12.34 → 1234), when it has no more decimals than the
    /// currency allows and fits an i64.
    pub fn to_minor(self) -> Option<i64> {
        if !self.currency.fits(self.amount) {
            return None;
        }
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10i64.pow(self.currency.minor_units())))?;
        i64::try_from(scaled.normalize()).ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dp = self.currency.minor_units() as usize;
        write!(
            f,
            "{} {:.dp$}",
            self.currency,
            self.currency.round(self.amount)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn codes_are_checked_against_iso_4217() {
        assert_eq!(Currency::parse("usd").unwrap().code(), "USD");
        assert_eq!(Currency::parse(" EUR ").unwrap().code(), "EUR");
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("ABC").is_err());
        assert!(Currency::parse("").is_err());
        assert!(Currency::parse("USDD").is_err());
    }

    #[test]
    fn minor_units_follow_iso_with_whole_rupiah() {
        let mu = |c: &str| Currency::parse(c).unwrap().minor_units();
        assert_eq!(mu("USD"), 2);
        assert_eq!(mu("JPY"), 0);
        assert_eq!(mu("KRW"), 0);
        assert_eq!(mu("VND"), 0);
        assert_eq!(mu("IDR"), 0);
        assert_eq!(mu("KWD"), 3);
        assert_eq!(mu("BHD"), 3);
        assert_eq!(minor_units("nope"), 2);
    }

    #[test]
    fn minor_unit_amounts_are_never_rounded() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::new(dec("12.34"), usd).to_minor(), Some(1234));
        assert_eq!(Money::new(dec("12.345"), usd).to_minor(), None);
        assert_eq!(Money::new(dec("1200"), jpy).to_minor(), Some(1200));
        assert_eq!(Money::new(dec("12.5"), jpy).to_minor(), None);
        assert_eq!(Money::new(dec("12.5"), jpy).rounded().amount, dec("12"));
        assert_eq!(Money::new(dec("13.5"), jpy).rounded().amount, dec("14"));
    }

    #[test]
    fn sums_stay_in_one_currency() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let a = Money::new(dec("1.50"), usd);
        assert_eq!(
            a.checked_add(Money::new(dec("2"), usd)).unwrap().amount,
            dec("3.50")
        );
        assert_eq!(a.checked_add(Money::new(dec("2"), eur)), None);
        assert_eq!(a.to_string(), "USD 1.50");
    }
}
