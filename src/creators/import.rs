//! Creator CSV import: decodes an upload, maps its headers, and validates each row into a `CreatorRecord` ready to upsert (pure, no database).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

// The tracking importer reads its numbers with the same parser.
use crate::kernel::counts::parse_count;
pub(crate) use crate::kernel::counts::plain_decimal;
use crate::kernel::money::Currency;

/// Canonical column → the headers accepted for it. Headers are compared trimmed, case-insensitive,
/// ignoring spaces, underscores and hyphens, with full-width parentheses read as ASCII ones.
#[rustfmt::skip]
pub const COLUMNS: &[(&str, &[&str])] = &[
    ("handle", &["handle", "username", "tiktok_handle", "creator_handle", "达人账号", "账号", "用户名"]),
    ("display_name", &["display_name", "nickname", "name", "creator_name", "昵称", "达人昵称", "达人名称"]),
    ("profile_url", &["profile_url", "url", "profile_link", "tiktok_url", "主页链接", "主页"]),
    ("country", &["country", "country_code", "region", "国家", "国家/地区", "地区"]),
    ("markets", &["markets", "market", "target_markets", "市场", "目标市场"]),
    ("languages", &["languages", "language", "语言"]),
    ("followers", &["followers", "follower_count", "followers_count", "fans", "粉丝数", "粉丝"]),
    ("avg_views", &["avg_views", "average_views", "avg_ec_video_view_count", "平均播放量", "平均播放"]),
    ("avg_likes", &["avg_likes", "average_likes", "avg_ec_video_like_count", "平均点赞数", "平均点赞"]),
    ("avg_comments", &["avg_comments", "average_comments", "avg_ec_video_comment_count", "平均评论数", "平均评论"]),
    ("avg_shares", &["avg_shares", "average_shares", "avg_ec_video_share_count", "平均分享数", "平均分享"]),
    ("categories", &["categories", "category", "类目", "品类", "类别"]),
    ("styles", &["styles", "style", "content_styles", "风格", "内容风格"]),
    ("audience_age", &["audience_age", "age", "受众年龄", "粉丝年龄"]),
    ("audience_gender", &["audience_gender", "gender", "受众性别", "粉丝性别"]),
    ("audience_countries", &["audience_countries", "audience_country", "受众国家", "粉丝国家", "受众地区"]),
    ("quote_video", &["quote_video", "video_quote", "video_price", "报价(视频)", "视频报价", "报价"]),
    ("quote_live", &["quote_live", "live_quote", "live_price", "报价(直播)", "直播报价"]),
    ("quote_currency", &["quote_currency", "currency", "币种", "货币", "报价币种"]),
    ("mcn", &["mcn", "agency", "mcn_agency", "机构", "MCN机构"]),
    ("contact", &["contact", "email", "contact_info", "联系方式", "邮箱"]),
    ("sample_posting_rate", &["sample_posting_rate", "posting_rate", "寄样发布率", "样品发布率"]),
    ("violation_notes", &["violation_notes", "violations", "违规记录", "违规备注"]),
    ("active", &["active", "is_active", "enabled", "启用", "是否启用"]),
    ("recent_videos", &["recent_videos", "videos", "video_links", "recent_video_links", "近期视频", "视频链接", "代表作"]),
];

const AGE_BUCKETS: &[&str] = &["13-17", "18-24", "25-34", "35-44", "45-54", "55+"];

/// Shares are often rounded per bucket in the source, so a column may sum to slightly over 100%.
const SHARE_TOLERANCE: f64 = 0.01;

// Caps keep one mistaken paste (a whole sheet in one cell) out of the pool.
const MAX_NAME: usize = 200;
const MAX_CONTACT: usize = 500;
const MAX_NOTES: usize = 5_000;
const MAX_URL: usize = 2_048;
const MAX_TAG: usize = 64;
/// Recent videos a shortlist card links to (newest first).
pub const MAX_VIDEOS: usize = 5;
/// Error reports echo the offending value; a long one is cut so the report stays readable.
const MAX_ECHO: usize = 120;

/// One valid row, ready to upsert by handle.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatorRecord {
    /// 1-based physical line where the row starts (the header is usually line 1).
    pub line: usize,
    /// Lower case, no leading '@'.
    pub handle: String,
    /// The handle when the column is absent or empty.
    pub display_name: String,
    pub profile_url: Option<String>,
    /// ISO 3166 alpha-2, upper case.
    pub country: Option<String>,
    pub markets: Vec<String>,
    pub languages: Vec<String>,
    pub followers: i64,
    pub avg_views: i64,
    pub avg_likes: i64,
    pub avg_comments: i64,
    pub avg_shares: i64,
    pub categories: Vec<String>,
    pub styles: Vec<String>,
    pub audience_age: Vec<(String, f64)>,
    pub audience_gender: Vec<(String, f64)>,
    pub audience_countries: Vec<(String, f64)>,
    pub quote_video: Option<Decimal>,
    pub quote_live: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub mcn: Option<String>,
    pub contact: Option<String>,
    /// 0..1, four decimals.
    pub sample_posting_rate: Option<Decimal>,
    pub violation_notes: Option<String>,
    pub active: bool,
    /// Links to the creator's recent videos, newest first, at most `MAX_VIDEOS`; shown as links,
    /// never fetched.
    pub recent_videos: Vec<String>,
    /// Canonical columns that carried a value in this row, so an update only overwrites those;
    /// a blank cell keeps what the pool already has rather than wiping it.
    pub present: BTreeSet<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    // The whole file.
    EmptyFile,
    /// A header and nothing under it.
    NoRows,
    NotCsv,
    MissingHandleColumn,
    MissingFollowersColumn,
    DuplicateColumn,
    // One row.
    TooManyColumns,
    /// Fewer cells than the header: the row was cut off (`cells` of `of`).
    CutShort {
        cells: usize,
        of: usize,
    },
    /// A NUL byte or another control character (tab and line breaks aside) in a cell.
    ControlCharacter,
    MissingHandle,
    BadHandle,
    DuplicateHandle {
        first_line: usize,
    },
    MissingFollowers,
    BadNumber,
    NegativeNumber,
    BadShare,
    BadAudienceKey,
    SharesOver100,
    BadCurrency,
    QuoteWithoutCurrency,
    BadUrl,
    BadVideoUrl,
    TooManyVideos,
    BadCountry,
    BadLanguage,
    BadRate,
    BadBool,
    TooLong,
}

impl Problem {
    /// The message catalogue key.
    pub fn key(&self) -> &'static str {
        match self {
            Problem::EmptyFile => "creators.import.error.empty_file",
            Problem::NoRows => "creators.import.error.no_rows",
            Problem::NotCsv => "creators.import.error.not_csv",
            Problem::MissingHandleColumn => "creators.import.error.missing_handle_column",
            Problem::MissingFollowersColumn => "creators.import.error.missing_followers_column",
            Problem::DuplicateColumn => "creators.import.error.duplicate_column",
            Problem::TooManyColumns => "creators.import.error.too_many_columns",
            Problem::CutShort { .. } => "creators.import.error.cut_short",
            Problem::ControlCharacter => "creators.import.error.control_character",
            Problem::MissingHandle => "creators.import.error.missing_handle",
            Problem::BadHandle => "creators.import.error.bad_handle",
            Problem::DuplicateHandle { .. } => "creators.import.error.duplicate_handle",
            Problem::MissingFollowers => "creators.import.error.missing_followers",
            Problem::BadNumber => "creators.import.error.bad_number",
            Problem::NegativeNumber => "creators.import.error.negative_number",
            Problem::BadShare => "creators.import.error.bad_share",
            Problem::BadAudienceKey => "creators.import.error.bad_audience_key",
            Problem::SharesOver100 => "creators.import.error.shares_over_100",
            Problem::BadCurrency => "creators.import.error.bad_currency",
            Problem::QuoteWithoutCurrency => "creators.import.error.quote_without_currency",
            Problem::BadUrl => "creators.import.error.bad_url",
            Problem::BadVideoUrl => "creators.import.error.bad_video_url",
            Problem::TooManyVideos => "creators.import.error.too_many_videos",
            Problem::BadCountry => "creators.import.error.bad_country",
            Problem::BadLanguage => "creators.import.error.bad_language",
            Problem::BadRate => "creators.import.error.bad_rate",
            Problem::BadBool => "creators.import.error.bad_bool",
            Problem::TooLong => "creators.import.error.too_long",
        }
    }
}

/// One problem in one row; a row with any problem yields no record.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: usize,
    /// Canonical column; None when the problem is the row's shape.
    pub column: Option<&'static str>,
    /// The offending cell as written (cut to a readable length).
    pub value: String,
    pub problem: Problem,
}

/// The whole file is unusable. `detail` is data for the message (header names, file kind), not prose.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub problem: Problem,
    pub detail: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.problem.key(), self.detail)
    }
}

impl std::error::Error for FileError {}

#[derive(Debug, Clone)]
pub struct Parsed {
    /// "UTF-8", "GB18030", or "UTF-16LE"/"UTF-16BE" for Excel's "Unicode text".
    pub encoding: &'static str,
    pub records: Vec<CreatorRecord>,
    pub errors: Vec<RowError>,
    /// Data rows read, blank rows not counted.
    pub total_rows: usize,
    /// Headers that name no known column, as written.
    pub ignored_columns: Vec<String>,
}

/// Text of an upload: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030, which is what
/// Excel on a Chinese Windows saves.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest), "UTF-8");
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return (
            encoding_rs::UTF_16LE.decode_without_bom_handling(rest).0,
            "UTF-16LE",
        );
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return (
            encoding_rs::UTF_16BE.decode_without_bom_handling(rest).0,
            "UTF-16BE",
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), "UTF-8"),
        // Cut off inside a character at the very end: still UTF-8, not a GB18030 file.
        Err(e) if e.error_len().is_none() => (String::from_utf8_lossy(bytes), "UTF-8"),
        Err(_) => (
            encoding_rs::GB18030.decode_without_bom_handling(bytes).0,
            "GB18030",
        ),
    }
}

/// Reads and validates a whole upload; Err when the file as a whole is unusable, otherwise
/// every row ends as a record or as one or more errors on its line.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    if let Some(kind) = spreadsheet_kind(bytes) {
        return Err(FileError {
            problem: Problem::NotCsv,
            detail: kind.to_string(),
        });
    }
    let (text, encoding) = decode(bytes);
    if looks_binary(bytes, &text) {
        return Err(FileError {
            problem: Problem::NotCsv,
            detail: "binary".to_string(),
        });
    }
    if text
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .is_empty()
    {
        return Err(FileError {
            problem: Problem::EmptyFile,
            detail: String::new(),
        });
    }
    // Excel saves ';' in some locales and tabs as "Unicode text"; the header decides which one fits.
    let mut best: Option<(FileError, usize)> = None;
    for delimiter in [b',', b'\t', b';'] {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        match read_header(&mut reader) {
            Ok(header) => {
                let parsed = read_rows(&text, reader, &header, encoding);
                if parsed.total_rows == 0 {
                    return Err(FileError {
                        problem: Problem::NoRows,
                        detail: String::new(),
                    });
                }
                return Ok(parsed);
            }
            Err((error, recognised)) => {
                if best.as_ref().is_none_or(|(_, r)| recognised > *r) {
                    best = Some((error, recognised));
                }
            }
        }
    }
    Err(best.map(|(e, _)| e).unwrap_or(FileError {
        problem: Problem::EmptyFile,
        detail: String::new(),
    }))
}

/// Creators given as cells (column, text as a file's cell would hold it) — a program's batch —
/// read by the file's own rules: written as one CSV under the canonical headers and parsed as an
/// upload is, so every check, and a handle given twice, is the file's. A blank cell is a column
/// not given (an update keeps what the pool holds). Each problem comes with the 0-based index of
/// its row; a row with no cell at all is a missing handle (a file would skip it as blank).
pub fn parse_cells(
    rows: &[Vec<(&'static str, String)>],
) -> Result<Vec<CreatorRecord>, Vec<(usize, RowError)>> {
    let header: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut problems: Vec<(usize, RowError)> = Vec::new();
    // The physical line each row starts on, counted as the parser counts them.
    let mut starts: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
    let breaks = |bytes: &[u8]| {
        bytes
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
            .count()
    };
    let shape = |detail: String| {
        vec![(
            0,
            RowError {
                line: 0,
                column: None,
                value: detail,
                problem: Problem::NotCsv,
            },
        )]
    };
    out.write_record(&header)
        .and_then(|_| out.flush().map_err(csv::Error::from))
        .map_err(|e| shape(e.to_string()))?;
    let mut lines = 1 + breaks(out.get_ref());
    for (index, cells) in rows.iter().enumerate() {
        if cells.iter().all(|(_, v)| v.trim().is_empty()) {
            problems.push((
                index,
                RowError {
                    line: 0,
                    column: Some("handle"),
                    value: String::new(),
                    problem: Problem::MissingHandle,
                },
            ));
            continue;
        }
        let record: Vec<&str> = header
            .iter()
            .map(|c| {
                cells
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or("", |(_, v)| v.as_str())
            })
            .collect();
        let before = out.get_ref().len();
        out.write_record(&record)
            .and_then(|_| out.flush().map_err(csv::Error::from))
            .map_err(|e| shape(e.to_string()))?;
        starts.push((lines, index));
        lines += breaks(&out.get_ref()[before..]);
    }
    if starts.is_empty() {
        return Err(problems);
    }
    let bytes = out.into_inner().map_err(|e| shape(e.to_string()))?;
    let parsed = parse(&bytes).map_err(|e| shape(e.problem.key().to_string()))?;
    for error in parsed.errors {
        // The last row starting on or before the error's line.
        let at = starts.partition_point(|(line, _)| *line <= error.line);
        let index = starts[at.saturating_sub(1)].1;
        problems.push((index, error));
    }
    if problems.is_empty() {
        Ok(parsed.records)
    } else {
        problems.sort_by_key(|(i, _)| *i);
        Err(problems)
    }
}

/// "42%", "0.42", "42" (over 1 means percent) → 0..1. None for empty, unreadable or over 100%.
pub fn parse_share(s: &str) -> Option<f64> {
    let (body, percent) = split_percent(s);
    if !is_unsigned_decimal(body) {
        return None;
    }
    let value: f64 = body.parse().ok()?;
    let share = if percent || value > 1.0 {
        value / 100.0
    } else {
        value
    };
    (0.0..=1.0).contains(&share).then_some(share)
}

struct Header {
    width: usize,
    /// Cells up to the last named header: a row with fewer was cut short.
    named: usize,
    index: HashMap<&'static str, usize>,
    ignored: Vec<String>,
}

type Reader<'a> = csv::Reader<&'a [u8]>;

/// Err carries how many known columns the header named, so the best-fitting delimiter's
/// complaint is the one reported.
fn read_header(reader: &mut Reader<'_>) -> Result<Header, (FileError, usize)> {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) if record.iter().all(|c| c.trim().is_empty()) => continue,
            Ok(true) => break,
            Ok(false) => {
                return Err((
                    FileError {
                        problem: Problem::EmptyFile,
                        detail: String::new(),
                    },
                    0,
                ));
            }
            Err(e) => {
                return Err((
                    FileError {
                        problem: Problem::NotCsv,
                        detail: e.to_string(),
                    },
                    0,
                ));
            }
        }
    }
    let aliases = alias_table();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut ignored = Vec::new();
    let mut duplicates = Vec::new();
    for (position, raw) in record.iter().enumerate() {
        let name = normalize_header(raw);
        if name.is_empty() {
            continue;
        }
        match aliases.get(name.as_str()) {
            Some(&column) => {
                if let Some(&earlier) = index.get(column) {
                    duplicates.push(format!(
                        "{column}: {}, {}",
                        header_text(&record, earlier),
                        raw.trim()
                    ));
                } else {
                    index.insert(column, position);
                }
            }
            None => ignored.push(raw.trim().trim_start_matches('\u{feff}').to_string()),
        }
    }
    let recognised = index.len();
    let fail = |problem, detail| Err((FileError { problem, detail }, recognised));
    if !index.contains_key("handle") {
        let found: Vec<&str> = record
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}'))
            .collect();
        return fail(Problem::MissingHandleColumn, clip(&found.join(", ")));
    }
    if !duplicates.is_empty() {
        return fail(Problem::DuplicateColumn, duplicates.join("; "));
    }
    if !index.contains_key("followers") {
        return fail(Problem::MissingFollowersColumn, String::new());
    }
    Ok(Header {
        width: record.len(),
        named: record
            .iter()
            .enumerate()
            .filter(|(_, h)| !normalize_header(h).is_empty())
            .last()
            .map_or(0, |(p, _)| p + 1),
        index,
        ignored,
    })
}

fn header_text(record: &csv::StringRecord, position: usize) -> &str {
    record
        .get(position)
        .unwrap_or("")
        .trim()
        .trim_start_matches('\u{feff}')
}

fn read_rows(
    text: &str,
    mut reader: Reader<'_>,
    header: &Header,
    encoding: &'static str,
) -> Parsed {
    let mut lines = LineCounter {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    let mut parsed = Parsed {
        encoding,
        records: Vec::new(),
        errors: Vec::new(),
        total_rows: 0,
        ignored_columns: header.ignored.clone(),
    };
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // Excel writes ",,,," for rows it thinks are used; they carry nothing.
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                parsed.total_rows += 1;
                let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
                match read_row(&record, header, line, &mut first_line_of) {
                    Ok(creator) => parsed.records.push(creator),
                    Err(errors) => parsed.errors.extend(errors),
                }
            }
            // Reading from memory cannot fail on I/O and the text is valid UTF-8, so this is a
            // defence only; stop rather than risk spinning on the same spot.
            Err(e) => {
                parsed.total_rows += 1;
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                parsed.errors.push(RowError {
                    line,
                    column: None,
                    value: clip(&e.to_string()),
                    problem: Problem::NotCsv,
                });
                break;
            }
        }
    }
    parsed
}

/// csv's own `Position::line()` lags a line after a CRLF or a blank line, so physical lines are
/// counted here from the record's byte offset, which may point at the terminator before it.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// Records arrive in order, so counting resumes where the previous call stopped.
    fn line_at(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.offset {
            return self.line;
        }
        for (i, &b) in self.text[self.offset..start].iter().enumerate() {
            let at = self.offset + i;
            if b == b'\n' || (b == b'\r' && self.text.get(at + 1) != Some(&b'\n')) {
                self.line += 1;
            }
        }
        self.offset = start;
        self.line
    }
}

struct Row<'a> {
    cells: &'a csv::StringRecord,
    header: &'a Header,
    line: usize,
    errors: Vec<RowError>,
    present: BTreeSet<&'static str>,
}

impl<'a> Row<'a> {
    /// The trimmed cell, None when the column is absent or the cell blank.
    fn cell(&mut self, column: &'static str) -> Option<&'a str> {
        debug_assert!(
            COLUMNS.iter().any(|(c, _)| *c == column),
            "unknown column {column}"
        );
        let position = *self.header.index.get(column)?;
        let value = self.cells.get(position).unwrap_or("").trim();
        if value.is_empty() {
            return None;
        }
        self.present.insert(column);
        Some(value)
    }

    fn fail(&mut self, column: &'static str, value: &str, problem: Problem) {
        self.errors.push(RowError {
            line: self.line,
            column: Some(column),
            value: clip(value),
            problem,
        });
    }

    fn text(&mut self, column: &'static str, max: usize) -> Option<String> {
        let value = self.cell(column)?;
        if value.chars().count() > max {
            self.fail(column, value, Problem::TooLong);
            return None;
        }
        Some(value.to_string())
    }

    fn count(&mut self, column: &'static str) -> Option<i64> {
        let value = self.cell(column)?;
        self.count_of(column, value)
    }

    fn count_of(&mut self, column: &'static str, value: &str) -> Option<i64> {
        if let Some(n) = parse_count(value) {
            return Some(n);
        }
        let problem = match strip_minus(value) {
            Some(rest) if parse_count(rest).is_some() => Problem::NegativeNumber,
            _ => Problem::BadNumber,
        };
        self.fail(column, value, problem);
        None
    }

    fn list(
        &mut self,
        column: &'static str,
        problem: Problem,
        item: fn(&str) -> Option<String>,
    ) -> Vec<String> {
        let Some(value) = self.cell(column) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for part in split_list(value) {
            match item(part) {
                Some(code) if !out.contains(&code) => out.push(code),
                Some(_) => {}
                None => self.fail(column, part, problem.clone()),
            }
        }
        out
    }

    /// Links separated by spaces, line breaks, commas, '|' or ';', each an http(s) link with a
    /// dotted host; the same link twice counts once; more than `MAX_VIDEOS` is refused.
    fn videos(&mut self, column: &'static str) -> Vec<String> {
        let Some(value) = self.cell(column) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        let parts = value
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | ';' | '，' | '；' | '、'))
            .filter(|p| !p.is_empty());
        for part in parts {
            if !is_profile_url(part) {
                self.fail(column, part, Problem::BadVideoUrl);
            } else if !out.iter().any(|u| u == part) {
                out.push(part.to_string());
            }
        }
        if out.len() > MAX_VIDEOS {
            self.fail(column, value, Problem::TooManyVideos);
        }
        out
    }

    fn audience(
        &mut self,
        column: &'static str,
        key_of: fn(&str) -> Option<String>,
    ) -> Vec<(String, f64)> {
        let Some(value) = self.cell(column) else {
            return Vec::new();
        };
        let mut pairs: Vec<(String, f64)> = Vec::new();
        let pieces = value
            .split([';', '|', ',', '；', '，', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty());
        for pair in pieces {
            let Some((key, share)) = pair.split_once([':', '=', '：']) else {
                self.fail(column, pair, Problem::BadShare);
                continue;
            };
            let Some(key) = key_of(key.trim()) else {
                self.fail(column, pair, Problem::BadAudienceKey);
                continue;
            };
            if pairs.iter().any(|(k, _)| *k == key) {
                self.fail(column, pair, Problem::BadAudienceKey);
                continue;
            }
            match parse_share(share) {
                Some(share) => pairs.push((key, share)),
                None => self.fail(column, pair, Problem::BadShare),
            }
        }
        if pairs.iter().map(|(_, s)| s).sum::<f64>() > 1.0 + SHARE_TOLERANCE {
            self.fail(column, value, Problem::SharesOver100);
        }
        pairs
    }

    fn money(&mut self, column: &'static str, currency: Option<&str>) -> Option<Decimal> {
        let value = self.cell(column)?;
        match money(value, currency) {
            Ok(amount) => Some(amount),
            Err(problem) => {
                self.fail(column, value, problem);
                None
            }
        }
    }
}

fn read_row(
    cells: &csv::StringRecord,
    header: &Header,
    line: usize,
    first_line_of: &mut HashMap<String, usize>,
) -> Result<CreatorRecord, Vec<RowError>> {
    let mut row = Row {
        cells,
        header,
        line,
        errors: Vec::new(),
        present: BTreeSet::new(),
    };
    if cells.len() < header.named {
        return Err(vec![RowError {
            line,
            column: None,
            value: String::new(),
            problem: Problem::CutShort {
                cells: cells.len(),
                of: header.named,
            },
        }]);
    }
    if let Some(position) = cells.iter().position(has_control) {
        let column = header
            .index
            .iter()
            .find(|(_, p)| **p == position)
            .map(|(c, _)| *c);
        row.errors.push(RowError {
            line,
            column,
            value: clip(&cells[position]),
            problem: Problem::ControlCharacter,
        });
    }
    if cells.len() > header.width {
        // Trailing empty cells are Excel's habit; only data beyond the header means misaligned cells.
        let extra: Vec<&str> = cells
            .iter()
            .skip(header.width)
            .filter(|c| !c.trim().is_empty())
            .collect();
        if !extra.is_empty() {
            row.errors.push(RowError {
                line,
                column: None,
                value: clip(&extra.join(",")),
                problem: Problem::TooManyColumns,
            });
        }
    }

    let handle = match row.cell("handle") {
        None => {
            row.fail("handle", "", Problem::MissingHandle);
            None
        }
        Some(raw) => match normalize_handle(raw) {
            None => {
                row.fail("handle", raw, Problem::BadHandle);
                None
            }
            Some(handle) => {
                if let Some(&first_line) = first_line_of.get(&handle) {
                    row.fail("handle", raw, Problem::DuplicateHandle { first_line });
                } else {
                    first_line_of.insert(handle.clone(), line);
                }
                Some(handle)
            }
        },
    };
    let display_name = row.text("display_name", MAX_NAME);
    let profile_url = match row.cell("profile_url") {
        Some(url) if is_profile_url(url) => Some(url.to_string()),
        Some(url) => {
            row.fail("profile_url", url, Problem::BadUrl);
            None
        }
        None => None,
    };
    let recent_videos = row.videos("recent_videos");
    let country = match row.cell("country") {
        Some(raw) => {
            let code = country_code(raw);
            if code.is_none() {
                row.fail("country", raw, Problem::BadCountry);
            }
            code
        }
        None => None,
    };
    let markets = row.list("markets", Problem::BadCountry, country_code);
    let languages = row.list("languages", Problem::BadLanguage, language_code);
    let followers = match row.cell("followers") {
        Some(value) => row.count_of("followers", value),
        None => {
            row.fail("followers", "", Problem::MissingFollowers);
            None
        }
    };
    let avg_views = row.count("avg_views").unwrap_or(0);
    let avg_likes = row.count("avg_likes").unwrap_or(0);
    let avg_comments = row.count("avg_comments").unwrap_or(0);
    let avg_shares = row.count("avg_shares").unwrap_or(0);
    let categories = row.list("categories", Problem::TooLong, tag);
    let styles = row.list("styles", Problem::TooLong, tag);
    let audience_age = row.audience("audience_age", age_key);
    let audience_gender = row.audience("audience_gender", gender_key);
    let audience_countries = row.audience("audience_countries", country_code);

    let quote_currency = match row.cell("quote_currency") {
        Some(raw) => {
            let code = currency_code(raw);
            if code.is_none() {
                row.fail("quote_currency", raw, Problem::BadCurrency);
            }
            code
        }
        None => None,
    };
    let currency_given = row.present.contains("quote_currency");
    let quote_video = row.money("quote_video", quote_currency.as_deref());
    let quote_live = row.money("quote_live", quote_currency.as_deref());
    if !currency_given
        && (row.present.contains("quote_video") || row.present.contains("quote_live"))
    {
        row.fail("quote_currency", "", Problem::QuoteWithoutCurrency);
    }

    let mcn = row.text("mcn", MAX_NAME);
    let contact = row.text("contact", MAX_CONTACT);
    let sample_posting_rate = match row.cell("sample_posting_rate") {
        Some(raw) => {
            let rate = posting_rate(raw);
            if rate.is_none() {
                row.fail("sample_posting_rate", raw, Problem::BadRate);
            }
            rate
        }
        None => None,
    };
    let violation_notes = row.text("violation_notes", MAX_NOTES);
    let active = match row.cell("active") {
        Some(raw) => {
            let flag = parse_bool(raw);
            if flag.is_none() {
                row.fail("active", raw, Problem::BadBool);
            }
            flag.unwrap_or(true)
        }
        None => true,
    };

    let (Some(handle), Some(followers), true) = (handle, followers, row.errors.is_empty()) else {
        return Err(row.errors);
    };
    Ok(CreatorRecord {
        line,
        display_name: display_name.unwrap_or_else(|| handle.clone()),
        handle,
        profile_url,
        recent_videos,
        country,
        markets,
        languages,
        followers,
        avg_views,
        avg_likes,
        avg_comments,
        avg_shares,
        categories,
        styles,
        audience_age,
        audience_gender,
        audience_countries,
        quote_video,
        quote_live,
        quote_currency,
        mcn,
        contact,
        sample_posting_rate,
        violation_notes,
        active,
        present: row.present,
    })
}

fn alias_table() -> HashMap<String, &'static str> {
    COLUMNS
        .iter()
        .flat_map(|(column, aliases)| {
            aliases
                .iter()
                .map(move |alias| (normalize_header(alias), *column))
        })
        .collect()
}

pub(crate) fn normalize_header(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '\u{feff}' | '\u{200b}'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Magic numbers of files people attach by mistake: images, PDFs, archives.
const BINARY_MAGIC: &[&[u8]] = &[
    b"\x89PNG",
    b"\xFF\xD8\xFF",
    b"GIF8",
    b"%PDF",
    b"\x1F\x8B",
    b"7z\xBC\xAF",
    b"Rar!",
    b"RIFF",
    b"\x00\x00\x01\x00",
];

/// Whether an upload's first block (`bytes`, decoded as `text`) is binary rather than text: a
/// known magic number, a NUL in its first line, or more than one character in 20 that is a
/// control character or undecodable. A NUL in one cell of a text file is that row's problem,
/// not the file's.
pub(crate) fn looks_binary(bytes: &[u8], text: &str) -> bool {
    if BINARY_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return true;
    }
    let first_line = text
        .trim_start_matches(['\u{feff}', '\r', '\n'])
        .split(['\r', '\n'])
        .next()
        .unwrap_or("");
    if first_line.contains('\0') {
        return true;
    }
    let (mut chars, mut odd) = (0usize, 0usize);
    for c in text.chars() {
        chars += 1;
        if c == '\u{FFFD}' || is_control(c) {
            odd += 1;
        }
    }
    odd * 20 > chars
}

/// A control character no export writes in a cell: C0 (tab, line feed and carriage return
/// aside), DEL and C1.
pub(crate) fn is_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether text holds a control character (`is_control`); a byte scan, as it runs on every row.
pub(crate) fn has_control(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' => false,
        0..=0x1f | 0x7f => true,
        // C1 controls (U+0080–U+009F) are 0xC2 0x80–0x9F in UTF-8.
        0xc2 => matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
        _ => false,
    })
}

/// XLSX/XLS uploads are common ("I saved it in Excel"); naming them beats "no handle column".
pub(crate) fn spreadsheet_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some("xlsx")
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        Some("xls")
    } else {
        None
    }
}

pub(crate) fn normalize_handle(raw: &str) -> Option<String> {
    let handle = raw.trim().trim_start_matches('@').trim().to_lowercase();
    let valid = (2..=64).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    valid.then_some(handle)
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(['|', ';', ',', '、', '；', '，'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

fn country_code(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.len() != 2 || !t.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let code = t.to_ascii_uppercase();
    // "UK" is what people type; ISO 3166 says GB.
    Some(if code == "UK" { "GB".to_string() } else { code })
}

/// "en", "EN", and tags such as "en-US" or "zh_CN" → the 2-letter primary language.
fn language_code(raw: &str) -> Option<String> {
    let primary = raw.trim().split(['-', '_']).next()?;
    (primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

fn tag(raw: &str) -> Option<String> {
    let tag = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_lowercase();
    (tag.chars().count() <= MAX_TAG).then_some(tag)
}

fn age_key(raw: &str) -> Option<String> {
    let key: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '–' | '—' | '~' | '～' | '至' => '-',
            other => other,
        })
        .collect();
    let key = if key == "55以上" {
        "55+".to_string()
    } else {
        key
    };
    AGE_BUCKETS.contains(&key.as_str()).then_some(key)
}

fn gender_key(raw: &str) -> Option<String> {
    let key = match raw.trim().to_lowercase().as_str() {
        "female" | "f" | "女" | "女性" => "female",
        "male" | "m" | "男" | "男性" => "male",
        "other" | "其他" => "other",
        _ => return None,
    };
    Some(key.to_string())
}

/// An ISO 4217 currency code, upper case (`RMB`, 人民币 and 美元 read as CNY and USD); None for
/// any other text, `XYZ` included, and for ISO's "no currency" and "testing" codes.
pub(crate) fn currency_code(raw: &str) -> Option<String> {
    let t = raw.trim();
    match t.to_uppercase().as_str() {
        "RMB" | "人民币" => return Some("CNY".to_string()),
        "美元" => return Some("USD".to_string()),
        "XXX" | "XTS" => return None,
        _ => {}
    }
    if t.len() != 3 {
        return None;
    }
    Currency::parse(t).ok().map(|c| c.code().to_string())
}

// Longest first, so "US$" is not read as "US" + "$".
const CURRENCY_PREFIXES: &[&str] = &[
    "US$", "HK$", "NT$", "S$", "R$", "A$", "C$", "$", "€", "£", "¥", "￥", "₩", "₫", "₱", "฿", "₹",
    "Rp", "RM",
];
const CURRENCY_SUFFIXES: &[&str] = &["元", "€", "₫"];

/// A quote: non-negative, thousands separators allowed, rounded half-even to cents. A currency
/// symbol or the row's currency code around the number is dropped; whether a currency is given at
/// all is checked by the caller (QuoteWithoutCurrency), so a "$" alone never decides the currency.
pub(crate) fn money(raw: &str, currency: Option<&str>) -> Result<Decimal, Problem> {
    let mut body = raw.trim();
    let negative = match strip_minus(body) {
        Some(rest) => {
            body = rest.trim_start();
            true
        }
        None => false,
    };
    if let Some(code) = currency {
        if body.len() > 3 && body.is_char_boundary(3) && body[..3].eq_ignore_ascii_case(code) {
            body = body[3..].trim_start();
        } else if body.len() > 3
            && body.is_char_boundary(body.len() - 3)
            && body[body.len() - 3..].eq_ignore_ascii_case(code)
        {
            body = body[..body.len() - 3].trim_end();
        }
    }
    if let Some(symbol) = CURRENCY_PREFIXES.iter().find(|s| body.starts_with(**s)) {
        body = body[symbol.len()..].trim_start();
    } else if let Some(symbol) = CURRENCY_SUFFIXES.iter().find(|s| body.ends_with(**s)) {
        body = body[..body.len() - symbol.len()].trim_end();
    }
    if !negative && let Some(rest) = strip_minus(body) {
        return if plain_decimal(rest).is_some() {
            Err(Problem::NegativeNumber)
        } else {
            Err(Problem::BadNumber)
        };
    }
    let amount = plain_decimal(body).ok_or(Problem::BadNumber)?;
    if negative && !amount.is_zero() {
        return Err(Problem::NegativeNumber);
    }
    let amount = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    // numeric(18,2) holds 16 digits before the point.
    if amount >= Decimal::from(10_i64.pow(16)) {
        return Err(Problem::BadNumber);
    }
    Ok(amount)
}

/// Like a share ("85%", "0.85", "85"), kept exact to the column's four decimals.
fn posting_rate(raw: &str) -> Option<Decimal> {
    let (body, percent) = split_percent(raw);
    if !is_unsigned_decimal(body) {
        return None;
    }
    let value = Decimal::from_str(body).ok()?;
    let rate = if percent || value > Decimal::ONE {
        value / Decimal::ONE_HUNDRED
    } else {
        value
    };
    let rate = rate.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven);
    (rate <= Decimal::ONE).then_some(rate)
}

pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "t" | "1" | "是" | "启用" | "active" | "on" => Some(true),
        "no" | "n" | "false" | "f" | "0" | "否" | "停用" | "inactive" | "off" => Some(false),
        _ => None,
    }
}

/// http(s) with a dotted host; checked by hand because the rule is this narrow.
fn is_profile_url(url: &str) -> bool {
    if url.len() > MAX_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Userinfo has no place in a profile link and is how look-alike links hide their real host.
    if authority.contains('@') {
        return false;
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return false,
        None => authority,
    };
    host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

pub(crate) fn strip_minus(s: &str) -> Option<&str> {
    s.trim().strip_prefix(['-', '−'])
}

pub(crate) fn split_percent(raw: &str) -> (&str, bool) {
    let t = raw.trim();
    match t.strip_suffix(|c| c == '%' || c == '％') {
        Some(body) => (body.trim_end(), true),
        None => (t, false),
    }
}

fn is_unsigned_decimal(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
}

/// A value echoed in an error report: cut to a readable length, control characters shown as
/// their symbols (␀ for NUL), so the report itself can always be stored.
pub(crate) fn clip(value: &str) -> String {
    let visible = |c: char| match c {
        '\u{0}'..='\u{1f}' if is_control(c) => {
            char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}')
        }
        '\u{7f}' => '\u{2421}',
        c if is_control(c) => '\u{FFFD}',
        c => c,
    };
    if value.chars().count() <= MAX_ECHO {
        value.chars().map(visible).collect()
    } else {
        let mut cut: String = value.chars().take(MAX_ECHO).map(visible).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a decimal literal")
    }

    fn csv(lines: &[&str]) -> Vec<u8> {
        lines.join("\r\n").into_bytes()
    }

    fn cells(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn cells_are_read_by_the_files_rules_and_each_problem_names_its_row() {
        let rows = vec![
            // Line breaks inside a cell do not shift the rows after it.
            cells(&[
                ("handle", "@First"),
                ("followers", "12K"),
                (
                    "violation_notes",
                    "late once\nlate twice\r\nand a lone \r too",
                ),
            ]),
            cells(&[("handle", "second"), ("followers", "lots")]),
            cells(&[]),
            cells(&[("handle", "FIRST"), ("followers", "5")]),
            cells(&[
                ("handle", "fifth"),
                ("followers", "7"),
                ("quote_video", "90"),
            ]),
        ];
        let problems: Vec<(usize, Option<&str>, Problem)> = parse_cells(&rows)
            .unwrap_err()
            .into_iter()
            .map(|(i, e)| (i, e.column, e.problem))
            .collect();
        assert_eq!(
            problems,
            vec![
                (1, Some("followers"), Problem::BadNumber),
                (2, Some("handle"), Problem::MissingHandle),
                (
                    3,
                    Some("handle"),
                    Problem::DuplicateHandle { first_line: 2 }
                ),
                (4, Some("quote_currency"), Problem::QuoteWithoutCurrency),
            ]
        );
        let good = parse_cells(&rows[..1]).unwrap();
        assert_eq!(
            (good[0].handle.as_str(), good[0].followers),
            ("first", 12_000)
        );
        assert_eq!(
            good[0].present,
            BTreeSet::from(["followers", "handle", "violation_notes"])
        );
    }

    fn problems_on(parsed: &Parsed, line: usize) -> Vec<Problem> {
        parsed
            .errors
            .iter()
            .filter(|e| e.line == line)
            .map(|e| e.problem.clone())
            .collect()
    }

    fn record<'p>(parsed: &'p Parsed, handle: &str) -> &'p CreatorRecord {
        parsed
            .records
            .iter()
            .find(|r| r.handle == handle)
            .unwrap_or_else(|| panic!("no record {handle}: {parsed:#?}"))
    }

    #[test]
    fn recent_videos_are_links_kept_in_order_once_each_at_most_five() {
        let bytes = csv(&[
            "handle,followers,近期视频",
            "a.one,1000,\"https://www.tiktok.com/@a.one/video/3 https://www.tiktok.com/@a.one/video/2\nhttps://www.tiktok.com/@a.one/video/1\"",
            "b.two,1000,https://x.example/v/1 | https://x.example/v/1 ; https://x.example/v/2",
            "c.three,1000,www.tiktok.com/@c/video/1",
            "d.four,1000,https://a.example/1 https://a.example/2 https://a.example/3 https://a.example/4 https://a.example/5 https://a.example/6",
            "e.five,1000,https://user@evil.example/v",
            "f.six,1000,",
        ]);
        let parsed = parse(&bytes).expect("parses");
        assert_eq!(
            record(&parsed, "a.one").recent_videos,
            [
                "https://www.tiktok.com/@a.one/video/3",
                "https://www.tiktok.com/@a.one/video/2",
                "https://www.tiktok.com/@a.one/video/1"
            ]
        );
        assert_eq!(
            record(&parsed, "b.two").recent_videos,
            ["https://x.example/v/1", "https://x.example/v/2"]
        );
        // a.one's cell holds a line break, so b.two starts on line 4.
        assert_eq!(problems_on(&parsed, 5), [Problem::BadVideoUrl]);
        assert_eq!(problems_on(&parsed, 6), [Problem::TooManyVideos]);
        assert_eq!(problems_on(&parsed, 7), [Problem::BadVideoUrl]);
        let blank = record(&parsed, "f.six");
        assert!(blank.recent_videos.is_empty());
        assert!(
            !blank.present.contains("recent_videos"),
            "a blank cell keeps what the pool has"
        );
        let column = parsed.errors.iter().map(|e| e.column).collect::<Vec<_>>();
        assert!(
            column.iter().all(|c| *c == Some("recent_videos")),
            "{column:?}"
        );
    }

    #[test]
    fn shares_accept_percent_fraction_and_whole_percent() {
        assert_eq!(parse_share("42%"), Some(0.42));
        assert_eq!(parse_share("0.42"), Some(0.42));
        assert_eq!(parse_share("42"), Some(0.42));
        assert_eq!(parse_share("1"), Some(1.0));
        assert_eq!(parse_share(" 7.5 ％"), Some(0.075));
        for bad in ["", "150%", "-3", "abc", "inf", "NaN", "101"] {
            assert_eq!(parse_share(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_file_with_abbreviated_numbers_parses_every_row() {
        let bytes = csv(&[
            "handle,followers,avg_views,avg_likes,avg_comments,avg_shares",
            "@Big.Star,13.8M,250K,1.2万,3w,980",
            "small_one,\"12,345\",250k,3W,1.5亿, 7 ",
        ]);
        let parsed = parse(&bytes).expect("parses");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let big = record(&parsed, "big.star");
        assert_eq!(
            (
                big.followers,
                big.avg_views,
                big.avg_likes,
                big.avg_comments,
                big.avg_shares
            ),
            (13_800_000, 250_000, 12_000, 30_000, 980)
        );
        assert_eq!(big.display_name, "big.star");
        assert!(big.active);
        let small = record(&parsed, "small_one");
        assert_eq!(
            (small.followers, small.avg_likes, small.avg_comments),
            (12_345, 30_000, 150_000_000)
        );
        assert_eq!(parsed.total_rows, 2);
        assert_eq!(parsed.encoding, "UTF-8");
    }

    #[test]
    fn tiktok_affiliate_api_headers_are_recognised() {
        let bytes = csv(&[
            "username,nickname,follower_count,avg_ec_video_view_count,avg_ec_video_like_count,avg_ec_video_comment_count,avg_ec_video_share_count,region",
            "glowwithmia,Glow with Mia,152300,48000,2900,130,85,us",
        ]);
        let parsed = parse(&bytes).expect("parses");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let mia = record(&parsed, "glowwithmia");
        assert_eq!(mia.display_name, "Glow with Mia");
        assert_eq!(
            (
                mia.followers,
                mia.avg_views,
                mia.avg_likes,
                mia.avg_comments,
                mia.avg_shares
            ),
            (152_300, 48_000, 2_900, 130, 85)
        );
        assert_eq!(mia.country.as_deref(), Some("US"));
        assert!(parsed.ignored_columns.is_empty());
    }

    #[test]
    fn a_gb18030_file_with_chinese_headers_is_decoded_and_parsed() {
        let text = "达人账号,昵称,粉丝数,平均播放量,国家,视频报价,直播报价,币种,类目,MCN,联系方式,备注\r\n\
                    @lily.home,莉莉的家,1.2万,3w,gb,\"1,200.50\",800,usd,家居、美妆,星河机构,wechat:lily,随便\r\n";
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "fixture must not be valid UTF-8"
        );
        let parsed = parse(&bytes).expect("parses");
        assert_eq!(parsed.encoding, "GB18030");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let lily = record(&parsed, "lily.home");
        assert_eq!(lily.display_name, "莉莉的家");
        assert_eq!((lily.followers, lily.avg_views), (12_000, 30_000));
        assert_eq!(lily.country.as_deref(), Some("GB"));
        assert_eq!(lily.quote_video, Some(d("1200.50")));
        assert_eq!(lily.quote_live, Some(d("800")));
        assert_eq!(lily.quote_currency.as_deref(), Some("USD"));
        assert_eq!(
            lily.categories,
            vec!["家居".to_string(), "美妆".to_string()]
        );
        assert_eq!(lily.mcn.as_deref(), Some("星河机构"));
        assert_eq!(lily.contact.as_deref(), Some("wechat:lily"));
        assert_eq!(parsed.ignored_columns, vec!["备注".to_string()]);
    }

    #[test]
    fn a_utf8_file_with_a_bom_reads_its_first_header() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(csv(&["Handle,Follower Count", "bom_user,5000"]));
        let (text, encoding) = decode(&bytes);
        assert_eq!(encoding, "UTF-8");
        assert!(text.starts_with("Handle"));
        let parsed = parse(&bytes).expect("parses");
        assert_eq!(record(&parsed, "bom_user").followers, 5_000);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_while_good_rows_still_parse() {
        let bytes = csv(&[
            "handle,followers,audience_age,quote_video,profile_url",
            "good_one,1000,18-24:60%;25-34:40%,,https://www.tiktok.com/@good_one",
            ",2000,,,",
            "bad_number,lots,,,",
            "shares,3000,18-24:70%;25-34:60%,,",
            "no_ccy,4000,,150,",
            "bad_url,5000,,,tiktok.com/@bad_url",
            "good_two,6000,,,",
            "good_one,7000,,,",
        ]);
        let parsed = parse(&bytes).expect("parses");
        let handles: Vec<&str> = parsed.records.iter().map(|r| r.handle.as_str()).collect();
        assert_eq!(handles, ["good_one", "good_two"]);
        assert_eq!(record(&parsed, "good_two").line, 8);
        assert_eq!(problems_on(&parsed, 3), [Problem::MissingHandle]);
        assert_eq!(problems_on(&parsed, 4), [Problem::BadNumber]);
        assert_eq!(problems_on(&parsed, 5), [Problem::SharesOver100]);
        assert_eq!(problems_on(&parsed, 6), [Problem::QuoteWithoutCurrency]);
        assert_eq!(problems_on(&parsed, 7), [Problem::BadUrl]);
        assert_eq!(
            problems_on(&parsed, 9),
            [Problem::DuplicateHandle { first_line: 2 }]
        );
        assert_eq!(parsed.total_rows, 8);
        let bad_number = parsed.errors.iter().find(|e| e.line == 4).expect("line 4");
        assert_eq!(
            (bad_number.column, bad_number.value.as_str()),
            (Some("followers"), "lots")
        );
    }

    #[test]
    fn a_row_with_several_problems_reports_each_of_them() {
        let bytes = csv(&[
            "handle,followers,country,languages,active,sample_posting_rate,quote_live,quote_currency",
            "bad handle!,-5,USA,english,maybe,140%,-20,dollars",
        ]);
        let parsed = parse(&bytes).expect("parses");
        assert!(parsed.records.is_empty());
        assert_eq!(
            problems_on(&parsed, 2),
            [
                Problem::BadHandle,
                Problem::BadCountry,
                Problem::BadLanguage,
                Problem::NegativeNumber,
                Problem::BadCurrency,
                Problem::NegativeNumber,
                Problem::BadRate,
                Problem::BadBool,
            ]
        );
    }

    #[test]
    fn a_file_without_a_handle_column_is_rejected_as_a_whole() {
        let error = parse(&csv(&["name,followers", "Mia,1000"])).expect_err("no handle column");
        assert_eq!(error.problem, Problem::MissingHandleColumn);
        assert!(error.detail.contains("followers"), "{}", error.detail);
        assert_eq!(
            error.problem.key(),
            "creators.import.error.missing_handle_column"
        );
    }

    #[test]
    fn empty_binary_and_spreadsheet_uploads_are_rejected_as_a_whole() {
        assert_eq!(
            parse(b"").map_err(|e| e.problem).err(),
            Some(Problem::EmptyFile)
        );
        assert_eq!(
            parse(b"\xEF\xBB\xBF \r\n\r\n").map_err(|e| e.problem).err(),
            Some(Problem::EmptyFile)
        );
        assert_eq!(
            parse(b"PK\x03\x04rest-of-zip").map_err(|e| e.problem).err(),
            Some(Problem::NotCsv)
        );
        assert_eq!(
            parse(b"handle\0,followers").map_err(|e| e.problem).err(),
            Some(Problem::NotCsv)
        );
    }

    #[test]
    fn a_missing_followers_column_or_a_column_named_twice_is_rejected() {
        let error = parse(&csv(&["handle,name", "mia,Mia"])).expect_err("no followers column");
        assert_eq!(error.problem, Problem::MissingFollowersColumn);
        let error = parse(&csv(&["handle,username,followers", "mia,mia2,10"]))
            .expect_err("two handle columns");
        assert_eq!(error.problem, Problem::DuplicateColumn);
        assert!(error.detail.contains("username"), "{}", error.detail);
    }

    #[test]
    fn shuffled_header_order_still_maps_every_column() {
        let bytes = csv(&[
            "active,Quote Currency,followers,MARKETS,display name,handle,quote-video,languages",
            "no,eur,1M,us|gb;de,Mia K,mia_k,€99.995,en-US;ES",
        ]);
        let parsed = parse(&bytes).expect("parses");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let mia = record(&parsed, "mia_k");
        assert!(!mia.active);
        assert_eq!(mia.followers, 1_000_000);
        assert_eq!(mia.markets, ["US", "GB", "DE"]);
        assert_eq!(mia.languages, ["en", "es"]);
        assert_eq!(mia.display_name, "Mia K");
        assert_eq!(mia.quote_video, Some(d("100.00")));
        assert_eq!(mia.quote_currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn a_quoted_cell_with_a_newline_keeps_later_line_numbers_right() {
        let lines = [
            "",
            "handle,followers,violation_notes",
            "first,100,\"posted late",
            "then deleted the video\"",
            "second,200,",
            "",
            "third,x,",
            ",,",
            "fourth,300,\"a\r\rb\"",
            "fifth,oops,",
        ];
        // csv's own line counter drifts on CRLF and on blank lines; both endings must agree.
        for ending in ["\r\n", "\n"] {
            let bytes = lines.join(ending).into_bytes();
            let parsed = parse(&bytes).expect("parses");
            let first = record(&parsed, "first");
            assert_eq!(first.line, 3, "{ending:?}");
            assert_eq!(
                first.violation_notes.as_deref(),
                Some(format!("posted late{ending}then deleted the video").as_str())
            );
            assert_eq!(record(&parsed, "second").line, 5, "{ending:?}");
            assert_eq!(problems_on(&parsed, 7), [Problem::BadNumber], "{ending:?}");
            assert_eq!(record(&parsed, "fourth").line, 9, "{ending:?}");
            assert_eq!(problems_on(&parsed, 12), [Problem::BadNumber], "{ending:?}");
            assert_eq!(parsed.total_rows, 5);
        }
    }

    #[test]
    fn audience_columns_read_pairs_and_refuse_unknown_keys() {
        let bytes = csv(&[
            "handle,followers,audience_age,audience_gender,audience_countries",
            "aud_ok,10,\"18–24:42%, 25-34=30%, 55+:5\",女:70%|m:0.3,us:0.6;uk:20%",
            "aud_bad,10,18-25:40%,robot:10%,USA:10%",
            "aud_pair,10,18-24 40%,female:lots,",
        ]);
        let parsed = parse(&bytes).expect("parses");
        let ok = record(&parsed, "aud_ok");
        assert_eq!(
            ok.audience_age,
            [
                ("18-24".to_string(), 0.42),
                ("25-34".to_string(), 0.30),
                ("55+".to_string(), 0.05)
            ]
        );
        assert_eq!(
            ok.audience_gender,
            [("female".to_string(), 0.7), ("male".to_string(), 0.3)]
        );
        assert_eq!(
            ok.audience_countries,
            [("US".to_string(), 0.6), ("GB".to_string(), 0.2)]
        );
        assert_eq!(
            problems_on(&parsed, 3),
            [
                Problem::BadAudienceKey,
                Problem::BadAudienceKey,
                Problem::BadAudienceKey
            ]
        );
        assert_eq!(
            problems_on(&parsed, 4),
            [Problem::BadShare, Problem::BadShare]
        );
    }

    #[test]
    fn quotes_round_half_even_and_drop_a_symbol_only_beside_a_currency() {
        assert_eq!(money("$1,234.565", Some("USD")), Ok(d("1234.56")));
        assert_eq!(money("1234.575", Some("USD")), Ok(d("1234.58")));
        assert_eq!(money("USD 80", Some("USD")), Ok(d("80")));
        assert_eq!(money("300元", Some("CNY")), Ok(d("300")));
        assert_eq!(money("-$5", Some("USD")), Err(Problem::NegativeNumber));
        assert_eq!(money("12,34", Some("USD")), Err(Problem::BadNumber));
        assert_eq!(
            money("99999999999999999", Some("USD")),
            Err(Problem::BadNumber)
        );
        let bytes = csv(&[
            "handle,followers,quote_video,quote_live,币种",
            "sym,10,$120,,",
            "ccy,10,$120,50,rmb",
        ]);
        let parsed = parse(&bytes).expect("parses");
        assert_eq!(problems_on(&parsed, 2), [Problem::QuoteWithoutCurrency]);
        let ccy = record(&parsed, "ccy");
        assert_eq!(
            (
                ccy.quote_video,
                ccy.quote_live,
                ccy.quote_currency.as_deref()
            ),
            (Some(d("120")), Some(d("50")), Some("CNY"))
        );
    }

    #[test]
    fn cells_beyond_the_header_are_too_many_columns_and_short_rows_are_cut_short() {
        let bytes = csv(&[
            "handle,followers,country",
            "extra,10,US,oops",
            "trailing,10,US,,",
            "short,10",
            "blank,10,",
        ]);
        let parsed = parse(&bytes).expect("parses");
        let extra: Vec<&RowError> = parsed.errors.iter().filter(|e| e.line == 2).collect();
        assert_eq!(extra.len(), 1);
        assert_eq!(
            (extra[0].column, extra[0].value.as_str(), &extra[0].problem),
            (None, "oops", &Problem::TooManyColumns)
        );
        assert_eq!(record(&parsed, "trailing").country.as_deref(), Some("US"));
        assert_eq!(
            problems_on(&parsed, 4),
            [Problem::CutShort { cells: 2, of: 3 }]
        );
        assert!(parsed.records.iter().all(|r| r.handle != "short"));
        assert_eq!(record(&parsed, "blank").country, None);
        // A header ending in empty names needs no cells under them.
        let parsed = parse(&csv(&["handle,followers,,", "mia,10"])).expect("parses");
        assert_eq!(parsed.records.len(), 1);
    }

    #[test]
    fn a_header_without_rows_is_refused() {
        for bytes in [&b"handle,followers"[..], b"handle,followers\r\n,\r\n\r\n"] {
            assert_eq!(
                parse(bytes).map_err(|e| e.problem).err(),
                Some(Problem::NoRows)
            );
        }
    }

    #[test]
    fn a_control_character_in_a_cell_rejects_its_row_and_is_shown_visibly() {
        let parsed = parse(&csv(&[
            "handle,followers,display_name",
            "mia,10,Mia",
            "nul,10,Bad\0name",
        ]))
        .expect("parses");
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(problems_on(&parsed, 3), [Problem::ControlCharacter]);
        assert_eq!(parsed.errors[0].column, Some("display_name"));
        assert_eq!(parsed.errors[0].value, "Bad\u{2400}name");
    }

    #[test]
    fn quote_currencies_must_be_iso_4217() {
        let parsed = parse(&csv(&[
            "handle,followers,quote_video,quote_currency",
            "ok,10,100,usd",
            "xyz,10,100,XYZ",
            "abc,10,100,ABC",
        ]))
        .expect("parses");
        assert_eq!(record(&parsed, "ok").quote_currency.as_deref(), Some("USD"));
        assert_eq!(problems_on(&parsed, 3), [Problem::BadCurrency]);
        assert_eq!(problems_on(&parsed, 4), [Problem::BadCurrency]);
    }

    #[test]
    fn present_lists_only_columns_that_carried_a_value() {
        let bytes = csv(&[
            "handle,followers,display_name,mcn,active,unknown thing",
            "pres,10,,Star MCN,,x",
        ]);
        let parsed = parse(&bytes).expect("parses");
        let pres = record(&parsed, "pres");
        assert_eq!(
            pres.present.iter().copied().collect::<Vec<_>>(),
            ["followers", "handle", "mcn"]
        );
        assert_eq!(pres.display_name, "pres");
        assert!(pres.active);
        assert_eq!(parsed.ignored_columns, ["unknown thing"]);
    }

    #[test]
    fn lists_split_on_every_separator_and_normalise() {
        let bytes = csv(&[
            "handle,followers,categories,styles,markets",
            "lists,10,\"Home Decor, beauty;Beauty|pets、toys\",Talking Head;real shot,us；de",
        ]);
        let parsed = parse(&bytes).expect("parses");
        let lists = record(&parsed, "lists");
        assert_eq!(lists.categories, ["home_decor", "beauty", "pets", "toys"]);
        assert_eq!(lists.styles, ["talking_head", "real_shot"]);
        assert_eq!(lists.markets, ["US", "DE"]);
    }

    #[test]
    fn active_reads_yes_and_no_in_both_languages() {
        let cases = [
            ("是", true),
            ("否", false),
            ("启用", true),
            ("停用", false),
            ("Y", true),
            ("n", false),
            ("TRUE", true),
            ("0", false),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_bool(input), Some(expected), "{input}");
        }
        assert_eq!(parse_bool("perhaps"), None);
    }

    #[test]
    fn handles_lose_the_at_sign_and_case_and_must_fit_the_pattern() {
        assert_eq!(normalize_handle(" @Mia.K_01 ").as_deref(), Some("mia.k_01"));
        for bad in ["a", "@", "mia k", "mía", &"x".repeat(65), "mia-k"] {
            assert_eq!(normalize_handle(bad), None, "{bad}");
        }
    }

    #[test]
    fn profile_urls_need_http_and_a_dotted_host() {
        for good in [
            "https://www.tiktok.com/@mia",
            "http://tiktok.com",
            "https://vm.tiktok.com:443/ZMabc/",
        ] {
            assert!(is_profile_url(good), "{good}");
        }
        for bad in [
            "www.tiktok.com/@mia",
            "ftp://tiktok.com",
            "https://localhost/x",
            "https://evil@tiktok.com",
            "https://tik tok.com",
            "https://.com",
            "https://",
        ] {
            assert!(!is_profile_url(bad), "{bad}");
        }
    }

    #[test]
    fn semicolon_and_tab_separated_files_are_read() {
        let parsed = parse(&csv(&["handle;followers", "semi;1,5K"])).expect("semicolons");
        assert!(parsed.records.is_empty(), "1,5K is ambiguous and refused");
        assert_eq!(problems_on(&parsed, 2), [Problem::BadNumber]);
        let tabbed = "handle\tfollowers\ntabbed\t2K\n";
        let mut bytes = b"\xFF\xFE".to_vec();
        bytes.extend(tabbed.encode_utf16().flat_map(u16::to_le_bytes));
        let parsed = parse(&bytes).expect("tabs");
        assert_eq!(parsed.encoding, "UTF-16LE");
        assert_eq!(record(&parsed, "tabbed").followers, 2_000);
    }

    #[test]
    fn every_alias_names_exactly_one_column() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (column, aliases) in COLUMNS {
            assert!(aliases.contains(column), "{column} lists itself");
            for alias in *aliases {
                if let Some(other) = seen.insert(normalize_header(alias), column) {
                    panic!("{alias} names both {other} and {column}");
                }
            }
        }
        assert_eq!(COLUMNS.len(), 25);
    }

    #[test]
    fn problem_keys_are_snake_case_under_the_import_prefix() {
        let all = [
            Problem::EmptyFile,
            Problem::NotCsv,
            Problem::MissingHandleColumn,
            Problem::MissingFollowersColumn,
            Problem::DuplicateColumn,
            Problem::TooManyColumns,
            Problem::CutShort { cells: 1, of: 2 },
            Problem::ControlCharacter,
            Problem::NoRows,
            Problem::MissingHandle,
            Problem::BadHandle,
            Problem::DuplicateHandle { first_line: 1 },
            Problem::MissingFollowers,
            Problem::BadNumber,
            Problem::NegativeNumber,
            Problem::BadShare,
            Problem::BadAudienceKey,
            Problem::SharesOver100,
            Problem::BadCurrency,
            Problem::QuoteWithoutCurrency,
            Problem::BadUrl,
            Problem::BadVideoUrl,
            Problem::TooManyVideos,
            Problem::BadCountry,
            Problem::BadLanguage,
            Problem::BadRate,
            Problem::BadBool,
            Problem::TooLong,
        ];
        let keys: BTreeSet<&str> = all.iter().map(Problem::key).collect();
        assert_eq!(keys.len(), all.len());
        for key in keys {
            let rest = key.strip_prefix("creators.import.error.").expect("prefix");
            assert!(
                rest.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{key}"
            );
        }
    }

    #[test]
    fn odd_bytes_never_panic() {
        // A fixed xorshift keeps the run reproducible without a fuzzing crate.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let pieces: &[&[u8]] = &[
            b",",
            b";",
            b"\t",
            b"\"",
            b"\r\n",
            b"\n",
            b"\r",
            b"@",
            b"%",
            b":",
            b"=",
            b"|",
            b"-",
            b".",
            b"1",
            b"9",
            b"K",
            b"E+99",
            b"\xFF",
            b"\xEF\xBB\xBF",
            b"\xFF\xFE",
            b"\x00",
            "万".as_bytes(),
            "亿".as_bytes(),
            "、".as_bytes(),
            b"handle",
            b"followers",
            b"quote_video",
            b"audience_age",
            b"18-24",
            b"https://a.b",
            b"$",
            b"usd",
            b"\xE4\xB8",
            b" ",
        ];
        for round in 0..3_000 {
            let mut bytes = Vec::new();
            if round % 2 == 0 {
                bytes.extend_from_slice(
                    b"handle,followers,quote_video,quote_currency,audience_age,markets,active\n",
                );
            }
            let len = next() % 60;
            for _ in 0..len {
                if next() % 5 == 0 {
                    bytes.push((next() % 256) as u8);
                } else {
                    bytes.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                }
            }
            if let Ok(parsed) = parse(&bytes) {
                // Every counted row ends as a record or as at least one error on its line.
                let error_lines: BTreeSet<usize> = parsed.errors.iter().map(|e| e.line).collect();
                assert_eq!(
                    parsed.records.len() + error_lines.len(),
                    parsed.total_rows,
                    "{bytes:?}"
                );
                for r in &parsed.records {
                    assert!(normalize_handle(&r.handle).as_deref() == Some(r.handle.as_str()));
                    assert!(r.followers >= 0);
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_count(&text);
            let _ = parse_share(&text);
        }
    }
}
