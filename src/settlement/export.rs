//! Settlement exports (SPEC §9): CSV (UTF-8 with a BOM so Excel on a Chinese Windows opens it,
//! a header row, one line per settlement line) and XLSX (rust_xlsxwriter in constant-memory mode:
//! a summary sheet and a lines sheet, money as numbers with their currency's format, a frozen
//! header, totals rows). Both are written a page of lines at a time, so memory stays flat
//! whatever the size; the handlers feed them pages from the database. Every export prints the
//! settlement's status and hash.

use std::collections::HashMap;
use std::io::{Seek, Write};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use uuid::Uuid;

use super::canonical::{RATE_SCALE, at_scale};
use crate::kernel::money::Currency;
use crate::web::lang::Lang;

/// What the whole file is about: printed in the summary sheet and on every CSV line.
#[derive(Debug, Clone)]
pub struct Head {
    /// The tenant (per-tenant exports) or the creator (per-creator exports).
    pub subject: String,
    /// `YYYY-MM`, or a range for a creator's export.
    pub period: String,
    /// Label of the status (草稿 / 已定稿 / 已付款 …).
    pub status: String,
    pub settlement_currency: Currency,
    pub total_seller: Option<Decimal>,
    pub total_creators: Option<Decimal>,
    pub paid: Option<Decimal>,
    pub rates: Vec<(Currency, Decimal)>,
    /// Empty for a draft.
    pub hash: String,
    pub previous_hash: String,
}

/// One line as exported.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub tenant: String,
    pub period: String,
    pub campaign: String,
    pub creator: String,
    pub component: String,
    pub payer: String,
    pub payee: String,
    pub payable: bool,
    pub currency: Currency,
    pub amount: Decimal,
    pub rate: Option<Decimal>,
    pub converted: Option<Decimal>,
    pub settlement_currency: Currency,
    pub reason: String,
    pub status: String,
    pub hash: String,
}

/// The column titles, in the file's language.
pub fn header(lang: Lang) -> Vec<String> {
    [
        "settlement.export.line_id",
        "settlement.export.tenant",
        "settlement.export.period",
        "settlement.export.campaign",
        "settlement.export.creator",
        "settlement.export.component",
        "settlement.export.payer",
        "settlement.export.payee",
        "settlement.export.payable",
        "settlement.export.currency",
        "settlement.export.amount",
        "settlement.export.rate",
        "settlement.export.converted",
        "settlement.export.settlement_currency",
        "settlement.export.reason",
        "settlement.export.status",
        "settlement.export.hash",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect()
}

fn yes_no(lang: Lang, b: bool) -> String {
    lang.t(if b {
        "settlement.export.yes"
    } else {
        "settlement.export.no"
    })
}

/// A row's cells as text (the CSV, and the XLSX's text columns): amounts at their currency's
/// scale, rates at eight decimals, plain digits without separators.
pub fn cells(lang: Lang, r: &Row) -> [String; 17] {
    [
        r.id.to_string(),
        r.tenant.clone(),
        r.period.clone(),
        r.campaign.clone(),
        r.creator.clone(),
        r.component.clone(),
        r.payer.clone(),
        r.payee.clone(),
        yes_no(lang, r.payable),
        r.currency.code().to_string(),
        at_scale(r.amount, r.currency.minor_units()),
        r.rate.map(|x| at_scale(x, RATE_SCALE)).unwrap_or_default(),
        r.converted
            .map(|x| at_scale(x, r.settlement_currency.minor_units()))
            .unwrap_or_default(),
        r.settlement_currency.code().to_string(),
        r.reason.clone(),
        r.status.clone(),
        r.hash.clone(),
    ]
}

/// The CSV's first bytes: the BOM and the header row.
pub fn csv_start(lang: Lang) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut w = csv::Writer::from_writer(&mut out);
    // Writing to a Vec cannot fail.
    let _ = w.write_record(header(lang));
    drop(w);
    out
}

/// A page of lines as CSV.
pub fn csv_rows(lang: Lang, rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 200);
    let mut w = csv::Writer::from_writer(&mut out);
    for r in rows {
        let _ = w.write_record(cells(lang, r));
    }
    drop(w);
    out
}

/// The Excel number format of amounts in `currency`: thousands separators, its minor units,
/// and its code after the number (`#,##0.00 "USD"`; `#,##0 "JPY"`).
pub fn money_format(currency: Currency) -> String {
    let decimals = currency.minor_units() as usize;
    let fraction = if decimals == 0 {
        String::new()
    } else {
        format!(".{}", "0".repeat(decimals))
    };
    format!("#,##0{fraction} \"{}\"", currency.code())
}

/// An XLSX export being written: the summary sheet is written whole at the start, the lines
/// sheet a page at a time, the totals rows at the end.
pub struct Xlsx {
    book: Workbook,
    lang: Lang,
    next_row: u32,
    bold: Format,
    rate: Format,
    formats: HashMap<Currency, Format>,
    settlement_currency: Currency,
}

const LINES_SHEET: usize = 1;

/// Columns of the lines sheet that hold numbers.
const AMOUNT_COL: u16 = 10;
const RATE_COL: u16 = 11;
const CONVERTED_COL: u16 = 12;

impl Xlsx {
    pub fn new(lang: Lang, head: &Head) -> Result<Xlsx, XlsxError> {
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let rate = Format::new().set_num_format("0.00000000");
        let mut formats = HashMap::new();
        let mut format_of = |c: Currency| {
            formats
                .entry(c)
                .or_insert_with(|| Format::new().set_num_format(money_format(c)))
                .clone()
        };
        let money = format_of(head.settlement_currency);
        {
            let sheet = book.add_worksheet_with_constant_memory()?;
            sheet.set_name(lang.t("settlement.export.summary_sheet"))?;
            sheet.set_column_width(0, 28)?;
            sheet.set_column_width(1, 70)?;
            let mut row = 0u32;
            let text = |sheet: &mut rust_xlsxwriter::Worksheet,
                        row: &mut u32,
                        key: &str,
                        value: &str|
             -> Result<(), XlsxError> {
                sheet.write_string_with_format(*row, 0, lang.t(key), &bold)?;
                sheet.write_string(*row, 1, value)?;
                *row += 1;
                Ok(())
            };
            text(sheet, &mut row, "settlement.export.subject", &head.subject)?;
            text(sheet, &mut row, "settlement.export.period", &head.period)?;
            text(sheet, &mut row, "settlement.export.status", &head.status)?;
            text(
                sheet,
                &mut row,
                "settlement.export.settlement_currency",
                head.settlement_currency.code(),
            )?;
            for (key, value) in [
                ("settlement.total_seller", head.total_seller),
                ("settlement.total_creators", head.total_creators),
                ("settlement.paid", head.paid),
            ] {
                let Some(value) = value else { continue };
                sheet.write_string_with_format(row, 0, lang.t(key), &bold)?;
                sheet.write_number_with_format(row, 1, number(value), &money)?;
                row += 1;
            }
            for (currency, r) in &head.rates {
                let label = lang.t_with(
                    "settlement.export.rate_of",
                    &[
                        ("from", currency.code()),
                        ("to", head.settlement_currency.code()),
                    ],
                );
                sheet.write_string_with_format(row, 0, label, &bold)?;
                sheet.write_number_with_format(row, 1, number(*r), &rate)?;
                row += 1;
            }
            text(sheet, &mut row, "settlement.export.hash", &head.hash)?;
            text(
                sheet,
                &mut row,
                "settlement.export.previous_hash",
                &head.previous_hash,
            )?;
        }
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(lang.t("settlement.export.lines_sheet"))?;
        sheet.set_freeze_panes(1, 0)?;
        for (col, width) in [(0u16, 38.0), (3, 16.0), (4, 20.0), (14, 30.0), (16, 66.0)] {
            sheet.set_column_width(col, width)?;
        }
        for (col, title) in header(lang).iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, title, &bold)?;
        }
        Ok(Xlsx {
            book,
            lang,
            next_row: 1,
            bold,
            rate,
            formats,
            settlement_currency: head.settlement_currency,
        })
    }

    fn format(&mut self, c: Currency) -> Format {
        self.formats
            .entry(c)
            .or_insert_with(|| Format::new().set_num_format(money_format(c)))
            .clone()
    }

    /// Appends a page of lines to the lines sheet.
    pub fn rows(&mut self, rows: &[Row]) -> Result<(), XlsxError> {
        for r in rows {
            let original = self.format(r.currency);
            let converted = self.format(r.settlement_currency);
            let row = self.next_row;
            let cells = cells(self.lang, r);
            let sheet = self.book.worksheet_from_index(LINES_SHEET)?;
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match col {
                    AMOUNT_COL => {
                        sheet.write_number_with_format(row, col, number(r.amount), &original)?;
                    }
                    RATE_COL => {
                        if let Some(rate) = r.rate {
                            sheet.write_number_with_format(row, col, number(rate), &self.rate)?;
                        }
                    }
                    CONVERTED_COL => {
                        if let Some(c) = r.converted {
                            sheet.write_number_with_format(row, col, number(c), &converted)?;
                        }
                    }
                    _ if cell.is_empty() => {}
                    _ => {
                        sheet.write_string(row, col, cell)?;
                    }
                }
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// The totals rows under the lines and the finished file.
    pub fn finish<W: Write + Seek + Send>(
        mut self,
        totals: &[(String, Decimal)],
        out: W,
    ) -> Result<(), XlsxError> {
        let money = self.format(self.settlement_currency);
        let sheet = self.book.worksheet_from_index(LINES_SHEET)?;
        for (row, (label, value)) in (self.next_row..).zip(totals) {
            sheet.write_string_with_format(row, 0, label, &self.bold)?;
            sheet.write_number_with_format(row, CONVERTED_COL, number(*value), &money)?;
        }
        self.book.save_to_writer(out)
    }
}

/// An amount as Excel's number (a double: exact for every amount below 2^53 minor units).
fn number(d: Decimal) -> f64 {
    d.to_f64().unwrap_or_default()
}

/// The file name: subject, period and status, e.g. `sextant-settlement-lumi-home-2026-11-finalized.csv`.
pub fn file_name(subject_slug: &str, period: &str, status: &str, ext: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!(
        "sextant-settlement-{}-{}-{}.{ext}",
        clean(subject_slug),
        clean(period),
        clean(status)
    )
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx as XlsxReader};

    use super::*;

    fn ccy(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    fn row(n: u128, currency: &str, amount: &str) -> Row {
        Row {
            id: Uuid::from_u128(n),
            tenant: "Lumi Home, Ltd.".into(),
            period: "2026-11".into(),
            campaign: "LUMI-01".into(),
            creator: "mia.cooks".into(),
            component: "固定费用".into(),
            payer: "商家".into(),
            payee: "达人".into(),
            payable: true,
            currency: ccy(currency),
            amount: amount.parse().unwrap(),
            rate: Some("7.1234".parse().unwrap()),
            converted: Some("4274.04".parse().unwrap()),
            settlement_currency: ccy("CNY"),
            reason: "含逗号, 和 \"引号\"".into(),
            status: "已定稿".into(),
            hash: "ab".repeat(32),
        }
    }

    fn head() -> Head {
        Head {
            subject: "Lumi Home".into(),
            period: "2026-11".into(),
            status: "已定稿".into(),
            settlement_currency: ccy("CNY"),
            total_seller: Some("4274.04".parse().unwrap()),
            total_creators: Some("4000".parse().unwrap()),
            paid: None,
            rates: vec![(ccy("USD"), "7.1234".parse().unwrap())],
            hash: "ab".repeat(32),
            previous_hash: String::new(),
        }
    }

    #[test]
    fn csv_starts_with_a_bom_and_reads_back_with_its_quotes() {
        let lang = Lang::parse("zh-CN").unwrap();
        let mut bytes = csv_start(lang);
        bytes.extend(csv_rows(
            lang,
            &[row(1, "USD", "600"), row(2, "JPY", "1200")],
        ));
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let mut r = csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(r.headers().unwrap().len(), 17);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][10], "600.00", "USD at two decimals");
        assert_eq!(&rows[1][10], "1200", "JPY has no minor units");
        assert_eq!(&rows[0][11], "7.12340000");
        assert_eq!(&rows[0][14], "含逗号, 和 \"引号\"");
    }

    #[test]
    fn xlsx_has_a_summary_and_typed_money_with_totals() {
        let lang = Lang::parse("en").unwrap();
        let mut x = Xlsx::new(lang, &head()).unwrap();
        x.rows(&[row(1, "USD", "600")]).unwrap();
        x.rows(&[row(2, "JPY", "1200")]).unwrap();
        let mut out = Cursor::new(Vec::new());
        x.finish(&[("Total".into(), "4274.04".parse().unwrap())], &mut out)
            .unwrap();
        let mut book = XlsxReader::new(Cursor::new(out.into_inner())).unwrap();
        let names = book.sheet_names();
        assert_eq!(names.len(), 2);
        let summary = book.worksheet_range(&names[0]).unwrap();
        assert!(
            summary
                .rows()
                .any(|r| r.get(1) == Some(&Data::String("ab".repeat(32)))),
            "the hash is on the summary"
        );
        let lines = book.worksheet_range(&names[1]).unwrap();
        let rows: Vec<_> = lines.rows().collect();
        assert_eq!(rows.len(), 4, "header, two lines, one totals row");
        assert_eq!(rows[1][10], Data::Float(600.0));
        assert_eq!(rows[2][10], Data::Float(1200.0));
        assert_eq!(rows[3][12], Data::Float(4274.04));
    }

    #[test]
    fn money_formats_follow_the_currency() {
        assert_eq!(money_format(ccy("USD")), "#,##0.00 \"USD\"");
        assert_eq!(money_format(ccy("JPY")), "#,##0 \"JPY\"");
        assert_eq!(money_format(ccy("VND")), "#,##0 \"VND\"");
    }

    #[test]
    fn file_names_say_subject_period_and_status() {
        assert_eq!(
            file_name("lumi-home", "2026-11", "finalized", "csv"),
            "sextant-settlement-lumi-home-2026-11-finalized.csv"
        );
        assert_eq!(
            file_name("mia.cooks", "2026-11", "paid", "xlsx"),
            "sextant-settlement-mia-cooks-2026-11-paid.xlsx"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming from the database

/// Lines read per query while exporting.
pub const PAGE: i64 = 5_000;

/// The tenant as the settlement code reads it.
pub fn tenant_row(t: &crate::tenants::Tenant) -> anyhow::Result<super::repo::TenantRow> {
    Ok(super::repo::TenantRow {
        id: t.id,
        slug: t.slug.clone(),
        display_name: t.display_name.clone(),
        time_zone: t.time_zone.clone(),
        settlement_currency: Currency::parse(&t.settlement_currency)?,
        status: String::new(),
    })
}

/// A finalized settlement of the tenant as its export (the seller's pages and the API), with
/// its payment status; None when the tenant has no such settlement.
pub async fn seller_job(
    db: &crate::db::Db,
    lang: Lang,
    tx: &mut sqlx::PgConnection,
    tenant: &super::repo::TenantRow,
    id: Uuid,
) -> Result<Option<(Job, String)>, sqlx::Error> {
    let Some(s) = super::repo::settlement(tx, tenant.id, id).await? else {
        return Ok(None);
    };
    let names = std::sync::Arc::new(super::view::names(
        &super::repo::collaborations(tx, tenant.id).await?,
    ));
    Ok(Some(super::sheet::settlement_job(
        lang,
        tenant,
        &s,
        |source, head| Job {
            db: db.clone(),
            tenant: tenant.id,
            source,
            lang,
            head,
            names: names.clone(),
            tenant_name: tenant.display_name.clone(),
        },
    )))
}

/// One export: whose lines, in which language, under which head.
#[derive(Clone)]
pub struct Job {
    pub db: crate::db::Db,
    pub tenant: Uuid,
    pub source: super::repo::Source,
    pub lang: Lang,
    pub head: Head,
    /// Campaign and handle of each collaboration.
    pub names: std::sync::Arc<HashMap<Uuid, (String, String)>>,
    pub tenant_name: String,
}

impl Job {
    fn row(&self, l: &super::repo::LineRow) -> Row {
        let (campaign, creator) = self
            .names
            .get(&l.collaboration_id)
            .cloned()
            .unwrap_or_default();
        Row {
            id: l.id,
            tenant: self.tenant_name.clone(),
            period: self.head.period.clone(),
            campaign,
            creator,
            component: super::view::component_label(self.lang, &l.component),
            payer: super::view::party_label(self.lang, &l.payer),
            payee: super::view::party_label(self.lang, &l.payee),
            payable: l.payable,
            currency: l.currency,
            amount: l.amount,
            rate: l.rate,
            converted: l.converted,
            settlement_currency: self.head.settlement_currency,
            reason: l.reason.clone().unwrap_or_default(),
            status: self.head.status.clone(),
            hash: self.head.hash.clone(),
        }
    }

    /// The page of lines after `after`, as export rows (a tenant-scoped read).
    async fn page(&self, after: Uuid) -> Result<Vec<Row>, sqlx::Error> {
        let mut tx = self.db.tenant_tx(self.tenant, None).await?;
        let lines = super::repo::line_page(&mut tx, self.tenant, self.source, after, PAGE).await?;
        tx.commit().await?;
        Ok(lines.iter().map(|l| self.row(l)).collect())
    }

    fn totals(&self) -> Vec<(String, Decimal)> {
        [
            ("settlement.total_seller", self.head.total_seller),
            ("settlement.total_creators", self.head.total_creators),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((self.lang.t(k), v?)))
        .collect()
    }
}

/// The CSV body, streamed a page at a time (a short page ends it without one more query).
pub fn csv_body(job: Job) -> axum::body::Body {
    let start = csv_start(job.lang);
    let pages = futures_util::stream::unfold(Some(Uuid::nil()), move |after| {
        let job = job.clone();
        async move {
            let after = after?;
            match job.page(after).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows
                        .last()
                        .map(|r| r.id)
                        .filter(|_| rows.len() as i64 == PAGE);
                    Some((Ok::<_, std::io::Error>(csv_rows(job.lang, &rows)), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            }
        }
    });
    let body = futures_util::StreamExt::fuse(futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(start) }),
        pages,
    ));
    axum::body::Body::from_stream(body)
}

/// Writes the XLSX into an anonymous temporary file (constant memory: rows go to the writer's
/// own temporary files a page at a time) and returns it rewound, ready to stream.
pub async fn xlsx_file(job: Job) -> anyhow::Result<std::fs::File> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
        let mut x = Xlsx::new(job.lang, &job.head)?;
        let mut after = Uuid::nil();
        loop {
            let rows = handle.block_on(job.page(after))?;
            x.rows(&rows)?;
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => after = last.id,
                _ => break,
            }
        }
        let mut file = tempfile::tempfile()?;
        x.finish(&job.totals(), &mut file)?;
        file.rewind()?;
        Ok(file)
    })
    .await?
}

/// A file streamed from disk in 64 KiB pieces. Fused, so a layer that polls again after the end
/// (the compression layer does, for a client that accepts gzip) gets `None`, not a panic.
pub fn file_body(file: std::fs::File) -> axum::body::Body {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::from_std(file);
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    axum::body::Body::from_stream(futures_util::StreamExt::fuse(chunks))
}

pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A download response.
pub fn download(
    content_type: &str,
    file_name: &str,
    body: axum::body::Body,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
