//! Order exports as XLSX workbooks (TikTok Shop offers its affiliate orders export as one),
//! streamed cell by cell with calamine's cell reader into the same row normalization as CSV:
//! only how cells arrive differs. A workbook is a zip, so it needs `Read + Seek` (a stored
//! upload); calamine keeps the shared-string table in memory, the rows are never all held.

use std::io::{Read, Seek};

use calamine::{CellErrorType, DataRef, ExcelDateTime, Reader, Xlsx, XlsxCellReader, XlsxError};
use time::{Date, Month, PrimitiveDateTime, Time};
use time_tz::Tz;

use super::parse::{
    Cell, Cells, DateOrder, Entry, FileError, Layout, Normalizer, OrderFormat, Problem, cell_text,
};

/// Excel's last column is XFD (16,384); a cell beyond it is a corrupt file, not data.
const MAX_COLUMNS: usize = 16_384;

/// Opens an uploaded workbook (an unreadable one, or an XLS, is `Unreadable` with calamine's
/// reason as the detail).
pub fn open_workbook<RS: Read + Seek>(upload: RS) -> Result<Xlsx<RS>, FileError> {
    Xlsx::new(upload).map_err(unreadable)
}

/// Streams orders out of the first worksheet whose header row is an order export, like
/// `orders::OrderReader`; lines are the spreadsheet's row numbers.
pub struct XlsxOrderReader<'a, RS: Read + Seek> {
    rows: RowStream<'a, RS>,
    normalizer: Normalizer,
    sheet: String,
}

impl<'a, RS: Read + Seek> XlsxOrderReader<'a, RS> {
    pub fn new(book: &'a mut Xlsx<RS>, zone: &'static Tz) -> Result<Self, FileError> {
        let mut first_error = None;
        let mut chosen = None;
        for name in book.sheet_names() {
            let found = book
                .worksheet_cells_reader(&name)
                .map_err(unreadable)
                .and_then(|cells| RowStream::new(cells).header());
            match found {
                Ok(_) => {
                    chosen = Some(name);
                    break;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let Some(sheet) = chosen else {
            return Err(first_error.unwrap_or_else(|| FileError::new(Problem::EmptyFile, "")));
        };
        let mut rows = RowStream::new(book.worksheet_cells_reader(&sheet).map_err(unreadable)?);
        let layout = rows.header()?;
        Ok(XlsxOrderReader {
            rows,
            normalizer: Normalizer::new(layout, zone),
            sheet,
        })
    }

    pub fn format(&self) -> OrderFormat {
        self.normalizer.layout.format
    }

    /// The worksheet the orders come from.
    pub fn sheet(&self) -> &str {
        &self.sheet
    }

    pub fn ignored_columns(&self) -> &[String] {
        &self.normalizer.layout.ignored
    }

    pub fn rows_read(&self) -> usize {
        self.normalizer.rows
    }

    /// Reads text slash dates in `order` (the shop's export date order) instead of day first.
    pub fn date_order(mut self, order: DateOrder) -> Self {
        self.normalizer.date_order = order;
        self
    }

    /// The order assumed when every slash date read so far was a date both ways.
    pub fn dates_read_both_ways(&self) -> Option<DateOrder> {
        self.normalizer.assumed_order()
    }
}

impl<RS: Read + Seek> Iterator for XlsxOrderReader<'_, RS> {
    type Item = Result<Entry, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        let XlsxOrderReader {
            rows, normalizer, ..
        } = self;
        normalizer.next_entry(|normalizer| match rows.next_row().map_err(unreadable)? {
            Some(index) => {
                let line = usize::try_from(index)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1);
                normalizer.push(rows.row.as_slice(), line);
                Ok(true)
            }
            None => Ok(false),
        })
    }
}

/// Cells regrouped into rows: the reader yields them one by one, so the first cell of the next
/// row is held back until that row is asked for.
struct RowStream<'a, RS: Read + Seek> {
    cells: XlsxCellReader<'a, RS>,
    ahead: Option<calamine::Cell<DataRef<'a>>>,
    /// The reader said the sheet ended; asking it again is an error, not another end.
    ended: bool,
    row: Vec<DataRef<'a>>,
}

impl<'a, RS: Read + Seek> RowStream<'a, RS> {
    fn new(cells: XlsxCellReader<'a, RS>) -> Self {
        RowStream {
            cells,
            ahead: None,
            ended: false,
            row: Vec::new(),
        }
    }

    /// The next row that has any cell, into `self.row` by column (gaps empty); its 0-based index.
    fn next_row(&mut self) -> Result<Option<u32>, XlsxError> {
        self.row.clear();
        let Some(first) = self
            .ahead
            .take()
            .map_or_else(|| self.next_cell(), |c| Ok(Some(c)))?
        else {
            return Ok(None);
        };
        let index = first.get_position().0;
        self.place(&first);
        while let Some(cell) = self.next_cell()? {
            if cell.get_position().0 != index {
                self.ahead = Some(cell);
                break;
            }
            self.place(&cell);
        }
        Ok(Some(index))
    }

    fn next_cell(&mut self) -> Result<Option<calamine::Cell<DataRef<'a>>>, XlsxError> {
        if self.ended {
            return Ok(None);
        }
        let cell = self.cells.next_cell()?;
        self.ended = cell.is_none();
        Ok(cell)
    }

    fn place(&mut self, cell: &calamine::Cell<DataRef<'a>>) {
        let column = usize::try_from(cell.get_position().1).unwrap_or(usize::MAX);
        if column >= MAX_COLUMNS {
            return;
        }
        if self.row.len() <= column {
            self.row.resize(column + 1, DataRef::Empty);
        }
        self.row[column] = cell.get_value().clone();
    }

    /// The first row with any text decides the export, as in a CSV.
    fn header(&mut self) -> Result<Layout, FileError> {
        while self.next_row().map_err(unreadable)?.is_some() {
            let headers: Vec<String> = self
                .row
                .iter()
                .map(|v| cell_text(to_cell(v)).trim().to_string())
                .collect();
            if headers.iter().any(|h| !h.is_empty()) {
                return Layout::detect(&headers);
            }
        }
        Err(FileError::new(Problem::EmptyFile, ""))
    }
}

impl Cells for [DataRef<'_>] {
    fn width(&self) -> usize {
        self.len()
    }

    fn cell(&self, position: usize) -> Cell<'_> {
        self.get(position).map_or(Cell::Empty, to_cell)
    }
}

fn to_cell<'r>(value: &'r DataRef<'_>) -> Cell<'r> {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s),
        DataRef::SharedString(s) => Cell::Text(s),
        DataRef::Int(n) => Cell::Int(*n),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(at) if at.is_datetime() => {
            wall_clock(at).map_or(Cell::Float(at.as_f64()), Cell::DateTime)
        }
        DataRef::DateTime(at) => Cell::Float(at.as_f64()),
        DataRef::Error(error) => Cell::Text(error_text(error)),
    }
}

/// A date cell's wall-clock time (calamine knows the workbook's 1900 or 1904 date system).
fn wall_clock(at: &ExcelDateTime) -> Option<PrimitiveDateTime> {
    let (year, month, day, hour, minute, second, milli) = at.to_ymd_hms_milli();
    let date = Date::from_calendar_date(i32::from(year), Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms_milli(hour, minute, second, milli).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

fn error_text(error: &CellErrorType) -> &'static str {
    match error {
        CellErrorType::Div0 => "#DIV/0!",
        CellErrorType::NA => "#N/A",
        CellErrorType::Name => "#NAME?",
        CellErrorType::Null => "#NULL!",
        CellErrorType::Num => "#NUM!",
        CellErrorType::Ref => "#REF!",
        CellErrorType::Value => "#VALUE!",
        CellErrorType::GettingData => "#GETTING_DATA",
    }
}

fn unreadable(error: XlsxError) -> FileError {
    FileError::new(Problem::Unreadable, error.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use rust_xlsxwriter::{ExcelDateTime as WriterDateTime, Format, Workbook};
    use time::macros::datetime;

    use super::*;
    use crate::tracking::order_imports::parse::{Order, OrderReader, RowError, shop_zone};

    const HEADER: [&str; 8] = [
        "Order ID",
        "SKU ID",
        "Payment Amount",
        "Currency",
        "Creator Username",
        "Time Created",
        "Standard commission rate",
        "Payment time",
    ];

    fn workbook(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
        let mut book = Workbook::new();
        let notes = book.add_worksheet();
        notes.write_string(0, 0, "Read me first").expect("cell");
        let sheet = book.add_worksheet();
        for (col, name) in (0u16..).zip(HEADER) {
            sheet.write_string(0, col, name).expect("header");
        }
        build(sheet);
        book.save_to_buffer().expect("a workbook")
    }

    fn entries(bytes: Vec<u8>, zone: &str) -> Vec<Entry> {
        let mut book = open_workbook(Cursor::new(bytes)).expect("opens");
        let reader =
            XlsxOrderReader::new(&mut book, shop_zone(zone).expect("zone")).expect("header");
        assert_eq!(reader.format(), OrderFormat::TikTokAffiliate);
        assert_eq!(reader.sheet(), "Sheet2");
        reader.map(|e| e.expect("readable")).collect()
    }

    #[test]
    fn typed_and_text_cells_normalize_like_the_csv() {
        let date_format = Format::new().set_num_format("dd/mm/yyyy hh:mm:ss");
        let percent = Format::new().set_num_format("0%");
        let bytes = workbook(|sheet| {
            // Row 2: IDs as text, a real date cell, a number amount, a percent cell.
            sheet
                .write_string(1, 0, "576900000000000001")
                .expect("cell");
            sheet
                .write_string(1, 1, "1729000000000000001")
                .expect("cell");
            sheet.write_number(1, 2, 1234.5).expect("cell");
            sheet.write_string(1, 3, "USD").expect("cell");
            sheet.write_string(1, 4, "@Mia").expect("cell");
            let created = WriterDateTime::from_ymd(2026, 3, 5)
                .and_then(|d| d.and_hms(14, 30, 0))
                .expect("a date");
            sheet
                .write_datetime_with_format(1, 5, &created, &date_format)
                .expect("cell");
            sheet
                .write_number_with_format(1, 6, 0.15, &percent)
                .expect("cell");
            // Row 4 (row 3 left empty): everything as the CSV writes it.
            for (col, text) in (0u16..).zip([
                "576900000000000002",
                "S2",
                "1,234.50",
                "usd",
                "mia",
                "01/05/2026 09:03:00",
                "15%",
                "/",
            ]) {
                sheet.write_string(3, col, text).expect("cell");
            }
            // Row 5: an 18-digit ID Excel rounded, and a bad date.
            sheet.write_number(4, 0, 5.769e17).expect("cell");
            sheet.write_string(4, 1, "S3").expect("cell");
            sheet.write_number(4, 2, 1).expect("cell");
            sheet.write_string(4, 3, "USD").expect("cell");
            sheet.write_string(4, 5, "31/02/2026").expect("cell");
        });
        let entries = entries(bytes, "America/Los_Angeles");
        let [
            Entry::Order(Order::TikTok(first)),
            Entry::Order(Order::TikTok(second)),
            rejected @ ..,
        ] = &entries[..]
        else {
            panic!("{entries:#?}")
        };
        assert_eq!(first.line, 2);
        assert_eq!(first.order_id, "576900000000000001");
        assert_eq!(
            first.payment_amount,
            Decimal::from_str("1234.5").expect("d")
        );
        assert_eq!(first.creator_username.as_deref(), Some("mia"));
        assert_eq!(first.commission_rate, Decimal::from_str("0.15").ok());
        assert_eq!(first.created_at, datetime!(2026-03-05 22:30:00 UTC));
        assert_eq!(second.line, 4);
        assert_eq!(second.currency, "USD");
        assert_eq!(
            second.payment_amount,
            Decimal::from_str("1234.50").expect("d")
        );
        assert_eq!(second.created_at, datetime!(2026-05-01 16:03:00 UTC));
        assert_eq!(second.paid_at, None);
        let problems: Vec<(usize, Problem)> = rejected
            .iter()
            .map(|e| match e {
                Entry::Rejected(RowError { line, problem, .. }) => (*line, *problem),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(problems, [(5, Problem::MangledId), (5, Problem::BadDate),]);
    }

    #[test]
    fn the_same_rows_read_the_same_from_csv_and_xlsx() {
        let rows = [
            [
                "A1",
                "S1",
                "19.90",
                "USD",
                "mia",
                "01/05/2026 10:00:00",
                "10%",
                "02/05/2026 10:00:00",
            ],
            ["A2", "S2", "-1", "USD", "", "01/05/2026", "", ""],
            ["A3", "S3", "5", "EUR", "x y", "1/5/2026 9:00", "abc", "/"],
        ];
        let bytes = workbook(|sheet| {
            for (row, cells) in (1u32..).zip(rows) {
                for (col, text) in (0u16..).zip(cells) {
                    sheet.write_string(row, col, text).expect("cell");
                }
            }
        });
        let from_xlsx = entries(bytes, "Europe/Paris");
        let mut csv = HEADER.join(",");
        for cells in rows {
            csv.push('\n');
            csv.push_str(&cells.join(","));
        }
        let from_csv: Vec<Entry> =
            OrderReader::new(csv.as_bytes(), shop_zone("Europe/Paris").expect("zone"))
                .expect("header")
                .map(|e| e.expect("readable"))
                .collect();
        assert_eq!(from_xlsx, from_csv);
        assert_eq!(from_xlsx.len(), 4);
    }

    #[test]
    fn a_workbook_without_an_order_sheet_says_what_is_missing() {
        let mut book = Workbook::new();
        book.add_worksheet()
            .write_string(0, 0, "Order ID")
            .expect("cell");
        let bytes = book.save_to_buffer().expect("a workbook");
        let mut book = open_workbook(Cursor::new(bytes)).expect("opens");
        let error = XlsxOrderReader::new(&mut book, shop_zone("UTC").expect("zone"))
            .err()
            .expect("no order sheet");
        assert_eq!(error.problem, Problem::UnknownFormat);
        assert!(error.detail.contains("SKU ID"), "{}", error.detail);
        let error = open_workbook(Cursor::new(b"not a zip".to_vec()))
            .err()
            .expect("unreadable");
        assert_eq!(error.problem, Problem::Unreadable);
    }
}
