//! Canonical form v1 of a finalized settlement (SPEC §9): the one list of fields its hash covers
//! (`FIELDS`, printed in the README), every number a string at its currency's scale (rates at
//! eight decimals), timestamps in UTC to the microsecond, lines sorted by id, serialized as
//! RFC 8785 JSON (`serde_json_canonicalizer`) and hashed with SHA-256. The previous finalized
//! settlement's hash of the same tenant is one of the fields, so the hashes form a chain: a
//! change to any earlier settlement breaks every hash after it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{Line, Party};
use crate::kernel::money::Currency;

/// The form's name, inside what is hashed (a v2 would hash differently by construction).
pub const FORM: &str = "sextant.settlement.v1";

/// Every field the hash covers, in the order the README lists them (JSON sorts them itself).
pub const FIELDS: &[&str] = &[
    "form",
    "tenant_id",
    "settlement_id",
    "period",
    "settlement_currency",
    "rates",
    "lines[].id",
    "lines[].collaboration_id",
    "lines[].component",
    "lines[].payer",
    "lines[].payee",
    "lines[].payable",
    "lines[].currency",
    "lines[].amount",
    "lines[].rate",
    "lines[].converted",
    "lines[].reason",
    "total_seller",
    "total_creators",
    "sent_to_review_by",
    "finalized_by",
    "finalized_at",
    "previous_hash",
];

/// Decimal places of a rate in the canonical form (the rate column's scale).
pub const RATE_SCALE: u32 = 8;

/// A finalized line with its stored id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub id: Uuid,
    pub line: Line,
}

/// What a finalized settlement is, for hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub tenant_id: Uuid,
    pub settlement_id: Uuid,
    /// `YYYY-MM`.
    pub period: String,
    pub settlement_currency: Currency,
    pub rates: BTreeMap<Currency, Decimal>,
    pub lines: Vec<StoredLine>,
    pub total_seller: Decimal,
    pub total_creators: Decimal,
    pub sent_to_review_by: Uuid,
    pub finalized_by: Uuid,
    pub finalized_at: OffsetDateTime,
    /// The tenant's previous finalized settlement's hash ("" for the first).
    pub previous_hash: String,
}

#[derive(Serialize)]
struct CanonicalLine {
    id: String,
    collaboration_id: String,
    component: &'static str,
    payer: &'static str,
    payee: &'static str,
    payable: bool,
    currency: &'static str,
    amount: String,
    rate: String,
    converted: String,
    reason: String,
}

#[derive(Serialize)]
struct Canonical {
    form: &'static str,
    tenant_id: String,
    settlement_id: String,
    period: String,
    settlement_currency: &'static str,
    rates: BTreeMap<&'static str, String>,
    lines: Vec<CanonicalLine>,
    total_seller: String,
    total_creators: String,
    sent_to_review_by: String,
    finalized_by: String,
    finalized_at: String,
    previous_hash: String,
}

/// `amount` as a string with exactly `scale` decimals (it is already rounded to them; a longer
/// one is rounded half-even here, which the computation never leaves to do).
pub fn at_scale(amount: Decimal, scale: u32) -> String {
    let mut a =
        amount.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointNearestEven);
    a.rescale(scale);
    a.to_string()
}

fn party(p: Party) -> &'static str {
    super::domain::party_code(p)
}

/// UTC to the microsecond: `2026-12-01T08:30:00.123456Z`.
pub fn utc_micros(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// The RFC 8785 bytes of the settlement's canonical form v1.
pub fn canonical_json(s: &Settlement) -> Vec<u8> {
    let settlement_scale = s.settlement_currency.minor_units();
    let mut lines: Vec<&StoredLine> = s.lines.iter().collect();
    lines.sort_by_key(|l| l.id);
    let canonical = Canonical {
        form: FORM,
        tenant_id: s.tenant_id.to_string(),
        settlement_id: s.settlement_id.to_string(),
        period: s.period.clone(),
        settlement_currency: s.settlement_currency.code(),
        rates: s
            .rates
            .iter()
            .map(|(c, r)| (c.code(), at_scale(*r, RATE_SCALE)))
            .collect(),
        lines: lines
            .into_iter()
            .map(|l| CanonicalLine {
                id: l.id.to_string(),
                collaboration_id: l.line.collaboration.to_string(),
                component: l.line.component.code(),
                payer: party(l.line.payer),
                payee: party(l.line.payee),
                payable: l.line.payable,
                currency: l.line.currency.code(),
                amount: at_scale(l.line.amount, l.line.currency.minor_units()),
                rate: at_scale(l.line.rate, RATE_SCALE),
                converted: at_scale(l.line.converted, settlement_scale),
                reason: l.line.reason.clone().unwrap_or_default(),
            })
            .collect(),
        total_seller: at_scale(s.total_seller, settlement_scale),
        total_creators: at_scale(s.total_creators, settlement_scale),
        sent_to_review_by: s.sent_to_review_by.to_string(),
        finalized_by: s.finalized_by.to_string(),
        finalized_at: utc_micros(s.finalized_at),
        previous_hash: s.previous_hash.clone(),
    };
    // Strings, booleans and objects only: canonicalizing them cannot fail.
    serde_json_canonicalizer::to_vec(&canonical).unwrap_or_default()
}

/// The settlement's hash: SHA-256 of its canonical form, in lower-case hex.
pub fn hash(s: &Settlement) -> String {
    format!("{:x}", Sha256::digest(canonical_json(s)))
}

/// Whether a stored hash is still the settlement's (the "verify" button): false when anything
/// it covers changed behind the app's back.
pub fn verify(s: &Settlement, stored_hash: &str) -> bool {
    hash(s) == stored_hash
}

#[cfg(test)]
mod tests {
    use super::super::domain::Component;
    use super::*;

    fn uuid(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// The golden settlement: two collaborations, USD and JPY lines, a platform-paid commission,
    /// a deduction, an adjustment with a reason, settled in CNY.
    pub(crate) fn golden() -> Settlement {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let cny = Currency::parse("CNY").unwrap();
        let line = |n: u128,
                    collab: u128,
                    component,
                    (payer, payee, payable),
                    currency,
                    amount: &str,
                    rate: &str,
                    converted: &str,
                    reason: Option<&str>| StoredLine {
            id: uuid(n),
            line: Line {
                collaboration: uuid(collab),
                component,
                platform_paid: payer == Party::Platform,
                payer,
                payee,
                payable,
                currency,
                amount: amount.parse().unwrap(),
                rate: rate.parse().unwrap(),
                converted: converted.parse().unwrap(),
                reason: reason.map(str::to_string),
            },
        };
        let through = (Party::Seller, Party::Creator, true);
        Settlement {
            tenant_id: uuid(1),
            settlement_id: uuid(2),
            period: "2026-11".into(),
            settlement_currency: cny,
            rates: [
                (usd, "7.1234".parse().unwrap()),
                (jpy, "0.0475".parse().unwrap()),
            ]
            .into_iter()
            .collect(),
            lines: vec![
                line(
                    13,
                    100,
                    Component::ServiceFee,
                    (Party::Seller, Party::Agency, true),
                    usd,
                    "60",
                    "7.1234",
                    "427.40",
                    None,
                ),
                line(
                    11,
                    100,
                    Component::FixedFee,
                    through,
                    usd,
                    "600",
                    "7.1234",
                    "4274.04",
                    None,
                ),
                line(
                    12,
                    100,
                    Component::Commission,
                    (Party::Platform, Party::Creator, false),
                    usd,
                    "12.5",
                    "7.1234",
                    "89.04",
                    None,
                ),
                line(
                    21,
                    200,
                    Component::Commission,
                    through,
                    jpy,
                    "1250",
                    "0.0475",
                    "59.38",
                    None,
                ),
                line(
                    22,
                    200,
                    Component::Deduction,
                    (Party::Creator, Party::Seller, true),
                    jpy,
                    "-500",
                    "0.0475",
                    "-23.75",
                    None,
                ),
                line(
                    23,
                    200,
                    Component::Adjustment,
                    (Party::Seller, Party::Agency, true),
                    cny,
                    "-20",
                    "1",
                    "-20",
                    Some("样品运费退回 / sample shipping refunded"),
                ),
            ],
            total_seller: "4717.07".parse().unwrap(),
            total_creators: "4309.67".parse().unwrap(),
            sent_to_review_by: uuid(7),
            finalized_by: uuid(8),
            finalized_at: time::macros::datetime!(2026-12-01 08:30:00.123456 UTC),
            previous_hash: "".into(),
        }
    }

    /// The golden settlement's canonical form v1 (keys sorted, strings only, UTF-8 as is) and
    /// its SHA-256, also checked outside Rust (Python's `json.dumps(sort_keys=True,
    /// separators=(",", ":"), ensure_ascii=False)` gives the same bytes, `hashlib.sha256` the
    /// same hash). Changing either means a new form, never an edit of this one.
    const GOLDEN_JSON: &str = r#"{"finalized_at":"2026-12-01T08:30:00.123456Z","finalized_by":"00000000-0000-0000-0000-000000000008","form":"sextant.settlement.v1","lines":[{"amount":"600.00","collaboration_id":"00000000-0000-0000-0000-000000000064","component":"fixed_fee","converted":"4274.04","currency":"USD","id":"00000000-0000-0000-0000-00000000000b","payable":true,"payee":"creator","payer":"seller","rate":"7.12340000","reason":""},{"amount":"12.50","collaboration_id":"00000000-0000-0000-0000-000000000064","component":"commission","converted":"89.04","currency":"USD","id":"00000000-0000-0000-0000-00000000000c","payable":false,"payee":"creator","payer":"platform","rate":"7.12340000","reason":""},{"amount":"60.00","collaboration_id":"00000000-0000-0000-0000-000000000064","component":"service_fee","converted":"427.40","currency":"USD","id":"00000000-0000-0000-0000-00000000000d","payable":true,"payee":"agency","payer":"seller","rate":"7.12340000","reason":""},{"amount":"1250","collaboration_id":"00000000-0000-0000-0000-0000000000c8","component":"commission","converted":"59.38","currency":"JPY","id":"00000000-0000-0000-0000-000000000015","payable":true,"payee":"creator","payer":"seller","rate":"0.04750000","reason":""},{"amount":"-500","collaboration_id":"00000000-0000-0000-0000-0000000000c8","component":"deduction","converted":"-23.75","currency":"JPY","id":"00000000-0000-0000-0000-000000000016","payable":true,"payee":"seller","payer":"creator","rate":"0.04750000","reason":""},{"amount":"-20.00","collaboration_id":"00000000-0000-0000-0000-0000000000c8","component":"adjustment","converted":"-20.00","currency":"CNY","id":"00000000-0000-0000-0000-000000000017","payable":true,"payee":"agency","payer":"seller","rate":"1.00000000","reason":"样品运费退回 / sample shipping refunded"}],"period":"2026-11","previous_hash":"","rates":{"JPY":"0.04750000","USD":"7.12340000"},"sent_to_review_by":"00000000-0000-0000-0000-000000000007","settlement_currency":"CNY","settlement_id":"00000000-0000-0000-0000-000000000002","tenant_id":"00000000-0000-0000-0000-000000000001","total_creators":"4309.67","total_seller":"4717.07"}"#;
    const GOLDEN_HASH: &str = "c2fed0019a7db123ef90a5e23bde86e81fdf4da87290bd3d5c6d80e788f64e62";

    #[test]
    fn the_golden_settlement_has_its_canonical_form_and_hash() {
        let json = String::from_utf8(canonical_json(&golden())).unwrap();
        assert_eq!(json, GOLDEN_JSON);
        assert_eq!(hash(&golden()), GOLDEN_HASH);
        // The totals of the golden lines are the sums a settlement would store.
        let lines: Vec<Line> = golden().lines.into_iter().map(|l| l.line).collect();
        assert_eq!(
            super::super::domain::totals(&lines),
            (golden().total_seller, golden().total_creators)
        );
    }

    #[test]
    fn any_change_breaks_the_hash_and_the_chain() {
        let first = golden();
        let h1 = hash(&first);
        assert!(verify(&first, &h1));
        let mut edited = first.clone();
        edited.lines[1].line.amount = "600.01".parse().unwrap();
        assert!(
            !verify(&edited, &h1),
            "one amount edited behind the app's back"
        );
        let mut reordered = first.clone();
        reordered.lines.reverse();
        assert!(
            verify(&reordered, &h1),
            "lines are sorted by id before hashing"
        );
        let mut next = first.clone();
        next.settlement_id = uuid(3);
        next.period = "2026-12".into();
        next.previous_hash = h1.clone();
        let h2 = hash(&next);
        next.previous_hash = hash(&edited);
        assert_ne!(
            hash(&next),
            h2,
            "the chain carries the earlier settlement's hash"
        );
    }

    #[test]
    fn the_readme_prints_every_field_of_the_form() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("canonical form v1").expect("a README section")..];
        for field in FIELDS {
            assert!(section.contains(&format!("- `{field}`")), "{field}");
        }
    }

    #[test]
    fn amounts_are_written_at_their_currencys_scale() {
        assert_eq!(at_scale("12.5".parse().unwrap(), 2), "12.50");
        assert_eq!(at_scale("-3".parse().unwrap(), 2), "-3.00");
        assert_eq!(at_scale("1250".parse().unwrap(), 0), "1250");
        assert_eq!(at_scale("0.0475".parse().unwrap(), 8), "0.04750000");
        assert_eq!(
            utc_micros(time::macros::datetime!(2026-12-01 16:30:00.5 +08:00)),
            "2026-12-01T08:30:00.500000Z"
        );
    }
}
