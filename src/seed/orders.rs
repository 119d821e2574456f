//! Demo orders: for every demo tenant's running and evaluating campaigns (their collaborations
//! not yet waiting for a rating or rated: those are `seed::ratings`'s), export files written
//! in the shops' real formats (TikTok Shop affiliate orders CSV; Shopify orders CSV with the
//! collaborations' discount codes), with the exports' quirks, some refunds and 70 days of orders,
//! loaded through the real importer (storage → validation run → import). The files are
//! deterministic for a given day, so running the seeder again imports nothing new (the
//! importer's own property; an export already imported is not even uploaded again).
//!
//! The writers are also what the import benchmark generates its files with.

use std::io::Write;

use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};
use uuid::Uuid;

use crate::db::{Db, SystemScope};
use crate::storage::Storage;
use crate::tracking::order_imports::ingest;
use crate::tracking::order_imports::parse::DateOrder;

/// Days of orders the demo exports cover (SPEC issue: 60+).
const DAYS: i64 = 70;

/// TikTok Shop pays a creator's commission this long after the order.
pub const COMMISSION_PAID_AFTER: Duration = Duration::days(15);

/// The demo contracts' commission rate (percent): what TikTok Shop pays on most orders.
const CONTRACT_RATE_PERCENT: i64 = 12;

/// One TikTok affiliate order line, as the generators write it.
pub struct TikTokRow<'a> {
    pub order_id: u64,
    pub sku_id: u64,
    pub product: &'a str,
    /// In the currency's minor units.
    pub amount_cents: i64,
    pub currency: &'a str,
    pub quantity: u32,
    pub refunded: bool,
    pub status: &'a str,
    /// Empty: not a creator's order.
    pub creator: &'a str,
    pub content_id: Option<u64>,
    pub rate_percent: u32,
    /// Wall-clock time in the shop's zone.
    pub created: PrimitiveDateTime,
    /// The commission TikTok Shop paid, in minor units, once paid (then `Actual Commission
    /// Base` is the payment amount and `Time Commission Paid` two weeks after the order).
    pub paid_commission_cents: Option<i64>,
}

pub const TIKTOK_HEADER: &[&str] = &[
    "Order ID",
    "SKU ID",
    "Product Name",
    "Payment Amount",
    "Currency",
    "Quantity",
    "Fully returned or refunded",
    "Order Status",
    "Creator Username",
    "Content Type",
    "Content ID",
    "Standard commission rate",
    "Est. Commission Base",
    "Est. standard commission payment",
    "Actual Commission Base",
    "Actual Commission Payment",
    "Time Created",
    "Payment time",
    "Time Commission Paid",
];

/// `1,234.50`: thousands separators, as the export writes amounts.
pub fn amount_text(cents: i64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", cents % 100)
}

/// `DD/MM/YYYY HH:MM:SS`, day first, without a zone.
pub fn day_first(at: PrimitiveDateTime) -> String {
    slash_date(at, DateOrder::Dmy)
}

/// A slash date as a shop's export writes it (`DD/MM/YYYY HH:MM:SS`, `MM/DD/…` or
/// `YYYY/MM/DD …`), without a zone.
pub fn slash_date(at: PrimitiveDateTime, order: DateOrder) -> String {
    let (y, m, d) = (at.year(), u8::from(at.month()), at.day());
    let date = match order {
        DateOrder::Dmy => format!("{d:02}/{m:02}/{y}"),
        DateOrder::Mdy => format!("{m:02}/{d:02}/{y}"),
        DateOrder::Ymd => format!("{y}/{m:02}/{d:02}"),
    };
    format!(
        "{date} {:02}:{:02}:{:02}",
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The cells of one row, as text ("/" for empty), dates day first.
pub fn tiktok_cells(row: &TikTokRow<'_>) -> [String; 19] {
    tiktok_cells_in(row, DateOrder::Dmy)
}

/// The cells of one row, dates in a shop's export date order.
pub fn tiktok_cells_in(row: &TikTokRow<'_>, order: DateOrder) -> [String; 19] {
    let amount = amount_text(row.amount_cents);
    let commission = amount_text(row.amount_cents * i64::from(row.rate_percent) / 100);
    [
        row.order_id.to_string(),
        row.sku_id.to_string(),
        row.product.to_string(),
        amount.clone(),
        row.currency.to_string(),
        row.quantity.to_string(),
        if row.refunded { "Yes" } else { "No" }.to_string(),
        row.status.to_string(),
        if row.creator.is_empty() {
            "/".to_string()
        } else {
            format!("@{}", row.creator)
        },
        "Video".to_string(),
        row.content_id.map_or("/".to_string(), |c| c.to_string()),
        format!("{}%", row.rate_percent),
        amount.clone(),
        commission,
        row.paid_commission_cents
            .map_or("/".to_string(), |_| amount.clone()),
        row.paid_commission_cents
            .map_or("/".to_string(), amount_text),
        slash_date(row.created, order),
        slash_date(row.created + Duration::minutes(1), order),
        row.paid_commission_cents.map_or("/".to_string(), |_| {
            slash_date(row.created + COMMISSION_PAID_AFTER, order)
        }),
    ]
}

pub fn write_tiktok_header(out: &mut csv::Writer<impl Write>) -> csv::Result<()> {
    out.write_record(TIKTOK_HEADER)
}

pub fn write_tiktok_row(out: &mut csv::Writer<impl Write>, row: &TikTokRow<'_>) -> csv::Result<()> {
    out.write_record(tiktok_cells(row))
}

/// A row with its dates in a shop's export date order.
pub fn write_tiktok_row_in(
    out: &mut csv::Writer<impl Write>,
    row: &TikTokRow<'_>,
    order: DateOrder,
) -> csv::Result<()> {
    out.write_record(tiktok_cells_in(row, order))
}

/// A TikTok affiliate export as a workbook (constant memory: rows go to disk as written).
pub fn write_tiktok_xlsx<'a>(
    path: &std::path::Path,
    rows: impl Iterator<Item = TikTokRow<'a>>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory()?;
    for (col, title) in TIKTOK_HEADER.iter().enumerate() {
        sheet.write_string(0, col as u16, *title)?;
    }
    for (i, row) in rows.enumerate() {
        let r = (i + 1) as u32;
        for (col, cell) in tiktok_cells(&row).iter().enumerate() {
            sheet.write_string(r, col as u16, cell)?;
        }
    }
    book.save(path)
}

/// A number from a few inputs, the same every run (order IDs, choices).
fn mix(parts: &[u64]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.to_le_bytes());
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

#[derive(sqlx::FromRow)]
struct DemoCollaboration {
    tenant_id: Uuid,
    /// The video id of its first post, which the export gives as `Content ID`.
    video_id: Option<String>,
    handle: String,
    discount_code: String,
}

#[derive(sqlx::FromRow)]
struct DemoShop {
    tenant_id: Uuid,
    id: Uuid,
    platform: String,
    currency: String,
    /// How its exports write slash dates (`shops.date_order`).
    date_order: String,
}

const PRODUCTS: &[(&str, i64)] = &[
    ("Demo Lamp", 3_999),
    ("Demo Lamp Mini", 1_950),
    ("Demo Gift Set", 129_900),
    ("Demo Refill Pack", 899),
];

/// Generates and imports the demo exports of every tenant with running or evaluating
/// campaigns. Uploads go to the storage the server uses (`SEXTANT_DATA_DIR` / `SEXTANT_S3_*`).
pub async fn seed_orders(db: &Db) -> anyhow::Result<()> {
    let storage = Storage::from_env()?;
    let mut tx = db.system_tx(SystemScope::Cli).await?;
    let collaborations: Vec<DemoCollaboration> = sqlx::query_as(
        "SELECT c.tenant_id, cr.handle, \
           (SELECT min(p.video_id) FROM posts p WHERE p.tenant_id = c.tenant_id \
             AND p.collaboration_id = c.id) AS video_id, c.discount_code FROM collaborations c \
         JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id \
         JOIN creators cr ON cr.id = c.creator_id \
         WHERE k.state IN ('running', 'evaluating') \
           AND c.state NOT IN ('proposed', 'cancelled', 'evaluating', 'rated', 'settled', 'breached') \
         ORDER BY c.tenant_id, c.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let shops: Vec<DemoShop> = sqlx::query_as(
        "SELECT tenant_id, id, platform, currency::text AS currency, date_order FROM shops \
         WHERE platform IN ('tiktok_shop', 'shopify') ORDER BY tenant_id, name",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    // One anchor per day: the same day's run writes the same files.
    let today = OffsetDateTime::now_utc().date();
    let exported_at = today.midnight().assume_utc();
    let dir = tempfile::tempdir()?;
    let mut tenants: Vec<Uuid> = collaborations.iter().map(|c| c.tenant_id).collect();
    tenants.dedup();
    for tenant in tenants {
        let collabs: Vec<&DemoCollaboration> = collaborations
            .iter()
            .filter(|c| c.tenant_id == tenant)
            .collect();
        for platform in ["tiktok_shop", "shopify"] {
            let Some(shop) = shops
                .iter()
                .find(|s| s.tenant_id == tenant && s.platform == platform)
            else {
                continue;
            };
            let path = dir.path().join(format!("{}-{platform}.csv", shop.id));
            let file = std::fs::File::create(&path)?;
            if platform == "tiktok_shop" {
                write_demo_tiktok(file, shop, &collabs, today)?;
            } else {
                write_demo_shopify(file, shop, &collabs, today)?;
            }
            if already_imported(db, shop, &path).await? {
                continue;
            }
            let name = format!("demo-{platform}-{today}.csv");
            ingest::import_file(
                db,
                &storage,
                tenant,
                shop.id,
                &path,
                &name,
                exported_at,
                true,
            )
            .await?;
        }
    }
    Ok(())
}

async fn already_imported(
    db: &Db,
    shop: &DemoShop,
    path: &std::path::Path,
) -> anyhow::Result<bool> {
    let digest = Sha256::digest(std::fs::read(path)?);
    let sha: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut tx = db.tenant_tx(shop.tenant_id, None).await?;
    let found = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM order_imports i JOIN uploads u \
           ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
         WHERE i.shop_id = $1 AND u.sha256 = $2 AND i.state = 'imported')",
    )
    .bind(shop.id)
    .bind(sha)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(found)
}

/// What TikTok Shop paid on a demo order once its commission is due: the contract's 12%, except
/// one order in seventeen paid at 15% (the platform's rate changed) — the reconciliation's
/// differences, with a refunded order's commission paid before its refund.
fn paid_commission(created: PrimitiveDateTime, today: Date, amount: i64, pick: u64) -> Option<i64> {
    if created.date() + COMMISSION_PAID_AFTER >= today {
        return None;
    }
    let percent = if (pick >> 48).is_multiple_of(17) {
        15
    } else {
        CONTRACT_RATE_PERCENT
    };
    Some(amount * percent / 100)
}

fn order_time(today: Date, day: i64, n: u64) -> PrimitiveDateTime {
    let date = today - Duration::days(DAYS - day);
    let minutes = n % (24 * 60);
    let time = Time::from_hms((minutes / 60) as u8, (minutes % 60) as u8, 0);
    PrimitiveDateTime::new(date, time.unwrap_or(Time::MIDNIGHT))
}

fn write_demo_tiktok(
    file: std::fs::File,
    shop: &DemoShop,
    collabs: &[&DemoCollaboration],
    today: Date,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    write_tiktok_header(&mut out)?;
    let shop_seed = mix(&[u64::from_le_bytes(shop.id.as_bytes()[..8].try_into()?)]);
    let order = DateOrder::parse(&shop.date_order).unwrap_or_default();
    for day in 0..DAYS {
        for (index, collab) in collabs.iter().enumerate() {
            let seed = mix(&[shop_seed, index as u64, day as u64]);
            for n in 0..(seed % 4) {
                let pick = mix(&[seed, n]);
                let (product, price) = PRODUCTS[(pick % PRODUCTS.len() as u64) as usize];
                let quantity = 1 + (pick >> 8) % 2;
                let refunded = (pick >> 16).is_multiple_of(9);
                write_tiktok_row_in(
                    &mut out,
                    &TikTokRow {
                        order_id: 577_000_000_000_000_000 + pick % 1_000_000_000_000,
                        sku_id: 1_729_000_000 + (pick % PRODUCTS.len() as u64),
                        product,
                        amount_cents: price * quantity as i64,
                        currency: &shop.currency,
                        quantity: quantity as u32,
                        refunded,
                        status: if refunded { "Canceled" } else { "Completed" },
                        // One order in twelve comes without a creator (for the unattributed list).
                        creator: if (pick >> 24).is_multiple_of(12) {
                            ""
                        } else {
                            &collab.handle
                        },
                        // Most orders come from the post; the rest from the creator's shop tab.
                        content_id: collab
                            .video_id
                            .as_deref()
                            .and_then(|v| v.parse().ok())
                            .filter(|_| !(pick >> 40).is_multiple_of(5)),
                        rate_percent: 10 + (index as u32 % 3) * 5,
                        created: order_time(today, day, pick >> 32),
                        paid_commission_cents: paid_commission(
                            order_time(today, day, pick >> 32),
                            today,
                            price * quantity as i64,
                            pick,
                        ),
                    },
                    order,
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn write_demo_shopify(
    file: std::fs::File,
    shop: &DemoShop,
    collabs: &[&DemoCollaboration],
    today: Date,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    out.write_record([
        "Name",
        "Email",
        "Financial Status",
        "Currency",
        "Total",
        "Discount Code",
        "Discount Amount",
        "Created at",
        "Refunded Amount",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem sku",
    ])?;
    let mut number = 1000u64;
    for day in 0..DAYS {
        for (index, collab) in collabs.iter().enumerate() {
            let seed = mix(&[0x5409, index as u64, day as u64]);
            for n in 0..(seed % 3) {
                number += 1;
                let pick = mix(&[seed, n]);
                let items: Vec<(&str, i64)> = (0..1 + pick % 2)
                    .map(|i| PRODUCTS[((pick >> (8 + i)) % PRODUCTS.len() as u64) as usize])
                    .collect();
                let merchandise: i64 = items.iter().map(|(_, p)| p).sum();
                let discount = merchandise / 10;
                let total = merchandise - discount;
                let (status, refunded) = match (pick >> 20) % 10 {
                    0 => ("refunded", total),
                    1 => ("partially_refunded", total / 2),
                    _ => ("paid", 0),
                };
                let created = order_time(today, day, pick >> 32);
                for (i, (name, price)) in items.iter().enumerate() {
                    let first = i == 0;
                    let order_field = |v: String| if first { v } else { String::new() };
                    out.write_record([
                        format!("#{number}"),
                        order_field(format!("buyer{number}@example.invalid")),
                        order_field(status.to_string()),
                        order_field(shop.currency.clone()),
                        order_field(amount_text(total)),
                        order_field(collab.discount_code.clone()),
                        order_field(amount_text(discount)),
                        order_field(format!(
                            "{} {:02}:{:02}:00 +0000",
                            created.date(),
                            created.hour(),
                            created.minute()
                        )),
                        order_field(amount_text(refunded)),
                        "1".to_string(),
                        (*name).to_string(),
                        amount_text(*price),
                        format!("DEMO-{}", i + 1),
                    ])?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_thousands_separators_and_dates_are_day_first() {
        assert_eq!(amount_text(129_900), "1,299.00");
        assert_eq!(amount_text(123_456_789), "1,234,567.89");
        assert_eq!(amount_text(5), "0.05");
        let at = PrimitiveDateTime::new(
            time::macros::date!(2026 - 03 - 05),
            time::macros::time!(14:30),
        );
        assert_eq!(day_first(at), "05/03/2026 14:30:00");
        assert_eq!(slash_date(at, DateOrder::Mdy), "03/05/2026 14:30:00");
        assert_eq!(slash_date(at, DateOrder::Ymd), "2026/03/05 14:30:00");
    }
}
