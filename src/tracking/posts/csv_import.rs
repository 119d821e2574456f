//! Snapshot CSV (pure): read as a stream (`tracking::order_imports::stream`: UTF-8 with or without BOM, or
//! GB18030; `,`, `;` or tab), columns found by header name, each row validated like the form and
//! matched to one of the campaign's posts; every rejected row with its line number.
//!
//! Columns (header names, case, spaces, `_` and `-` ignored; Chinese names accepted):
//! `post_url` or `video_id` (at least one of the two columns; a row may fill either),
//! `captured_at`, `views`, `likes`, `comments`, `shares`, optional `avg_watch_seconds`.
//! Times without an offset are in the campaign shop's time zone. The same post and moment twice
//! in one file: the second row is rejected (a later upload replaces what is stored). The checked
//! rows and the rejected ones are kept with the upload's report as `StoredRow`/`StoredError`.

use std::collections::HashMap;
use std::io::Read;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time_tz::Tz;
use uuid::Uuid;

use super::domain::{NewSnapshot, SnapshotInput, validate_snapshot, video_id_from_url};
use crate::tracking::order_imports::stream::{self, NotText};
use crate::tracking::windows::Metrics;

#[rustfmt::skip]
pub const COLUMNS: &[(&str, &[&str])] = &[
    ("post_url", &["post_url", "url", "video_url", "post_link", "链接", "视频链接", "作品链接"]),
    ("video_id", &["video_id", "content_id", "视频id", "作品id", "内容id"]),
    ("captured_at", &["captured_at", "captured", "capture_time", "采集时间", "抓取时间", "数据时间"]),
    ("views", &["views", "video_views", "播放量", "播放"]),
    ("likes", &["likes", "点赞数", "点赞"]),
    ("comments", &["comments", "评论数", "评论"]),
    ("shares", &["shares", "分享数", "分享"]),
    ("avg_watch_seconds", &["avg_watch_seconds", "average_watch_time", "avg_watch_time", "平均观看时长", "平均观看秒数"]),
];

const REQUIRED: [&str; 5] = ["captured_at", "views", "likes", "comments", "shares"];
/// An echoed cell is cut to this many characters.
const MAX_ECHO: usize = 120;

/// A post a row can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostRef {
    pub id: Uuid,
    pub published_at: OffsetDateTime,
}

/// The campaign's posts by video id and by URL.
#[derive(Debug, Default)]
pub struct Posts {
    pub by_video: HashMap<String, PostRef>,
    pub by_url: HashMap<String, PostRef>,
}

impl Posts {
    fn find(&self, video_id: &str, url: &str) -> Option<PostRef> {
        if !video_id.is_empty() {
            return self.by_video.get(video_id).copied();
        }
        self.by_url
            .get(url)
            .copied()
            .or_else(|| video_id_from_url(url).and_then(|id| self.by_video.get(&id).copied()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoodRow {
    pub line: usize,
    pub post_id: Uuid,
    pub snapshot: NewSnapshot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: String,
    pub value: String,
    pub key: &'static str,
}

#[derive(Debug)]
pub struct Parsed {
    pub encoding: &'static str,
    pub rows: Vec<GoodRow>,
    pub errors: Vec<RowError>,
    /// Data rows read, blank rows not counted.
    pub total_rows: usize,
}

/// A validated row as kept with its upload's report until the import (JSON in
/// `snapshot_imports.rows`): the import writes exactly these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRow {
    pub line: usize,
    pub post_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub avg_watch_seconds: Option<Decimal>,
}

impl StoredRow {
    pub fn of(row: &GoodRow) -> StoredRow {
        StoredRow {
            line: row.line,
            post_id: row.post_id,
            captured_at: row.snapshot.captured_at,
            views: row.snapshot.metrics.views,
            likes: row.snapshot.metrics.likes,
            comments: row.snapshot.metrics.comments,
            shares: row.snapshot.metrics.shares,
            avg_watch_seconds: row.snapshot.avg_watch_seconds,
        }
    }

    /// The snapshot the import writes.
    pub fn snapshot(&self) -> NewSnapshot {
        NewSnapshot {
            captured_at: self.captured_at,
            metrics: Metrics {
                views: self.views,
                likes: self.likes,
                comments: self.comments,
                shares: self.shares,
            },
            avg_watch_seconds: self.avg_watch_seconds,
        }
    }
}

/// A rejected row as its upload's report keeps it (JSON in `snapshot_imports.errors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredError {
    pub line: usize,
    pub column: String,
    pub value: String,
    pub key: String,
}

impl StoredError {
    pub fn of(e: &RowError) -> StoredError {
        StoredError {
            line: e.line,
            column: e.column.clone(),
            value: e.value.clone(),
            key: e.key.to_string(),
        }
    }
}

/// Why the whole file is refused (a catalogue key and data for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub key: &'static str,
    pub detail: String,
}

fn file_error(key: &'static str, detail: impl Into<String>) -> FileError {
    FileError {
        key,
        detail: detail.into(),
    }
}

fn normalize(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn echo(s: &str) -> String {
    s.chars().take(MAX_ECHO).collect()
}

pub fn parse<R: Read>(
    read: R,
    zone: &Tz,
    posts: &Posts,
    now: OffsetDateTime,
) -> Result<Parsed, FileError> {
    let text = stream::open(read, None)
        .map_err(|e| file_error("performance.import.error.unreadable", e.to_string()))?
        .map_err(|n| match n {
            NotText::Empty => file_error("performance.import.error.empty", ""),
            NotText::Binary => file_error("performance.import.error.not_csv", "binary"),
            NotText::Spreadsheet(kind) => file_error("performance.import.error.not_csv", kind),
        })?;
    let encoding = if text.encoding == encoding_rs::GB18030 {
        "GB18030"
    } else {
        text.encoding.name()
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(text.delimiter)
        .from_reader(text.reader);
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) if record.iter().all(|c| c.trim().is_empty()) => {}
            Ok(true) => break,
            Ok(false) => return Err(file_error("performance.import.error.empty", "")),
            Err(e) => {
                return Err(file_error(
                    "performance.import.error.unreadable",
                    e.to_string(),
                ));
            }
        }
    }
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (position, raw) in record.iter().enumerate() {
        let name = normalize(raw);
        if let Some((column, _)) = COLUMNS
            .iter()
            .find(|(_, aliases)| aliases.iter().any(|a| normalize(a) == name))
            && index.insert(column, position).is_some()
        {
            return Err(file_error(
                "performance.import.error.duplicate_column",
                *column,
            ));
        }
    }
    if !index.contains_key("post_url") && !index.contains_key("video_id") {
        return Err(file_error(
            "performance.import.error.missing_post_column",
            "",
        ));
    }
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|c| !index.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(file_error(
            "performance.import.error.missing_columns",
            missing.join(", "),
        ));
    }
    let mut parsed = Parsed {
        encoding,
        rows: Vec::new(),
        errors: Vec::new(),
        total_rows: 0,
    };
    let mut seen: HashMap<(Uuid, OffsetDateTime), usize> = HashMap::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(file_error(
                    "performance.import.error.unreadable",
                    e.to_string(),
                ));
            }
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        parsed.total_rows += 1;
        let line = record
            .position()
            .map_or(0, |p| csv.get_mut().line_at(p.byte()));
        let cell = |column: &str| -> &str {
            index
                .get(column)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .trim()
        };
        let mut fail = |column: &str, key: &'static str| {
            parsed.errors.push(RowError {
                line,
                column: column.to_string(),
                value: echo(cell(column)),
                key,
            });
        };
        let (video_id, url) = (cell("video_id"), cell("post_url"));
        let column = if video_id.is_empty() {
            "post_url"
        } else {
            "video_id"
        };
        if video_id.is_empty() && url.is_empty() {
            fail(column, "performance.import.error.post_missing");
            continue;
        }
        let Some(post) = posts.find(video_id, url) else {
            fail(column, "performance.import.error.unknown_post");
            continue;
        };
        let input = SnapshotInput {
            captured_at: cell("captured_at").to_string(),
            views: cell("views").to_string(),
            likes: cell("likes").to_string(),
            comments: cell("comments").to_string(),
            shares: cell("shares").to_string(),
            avg_watch_seconds: cell("avg_watch_seconds").to_string(),
        };
        match validate_snapshot(&input, zone, post.published_at, now) {
            Err(errors) => {
                for (field, key) in errors {
                    fail(&field, key);
                }
            }
            Ok(snapshot) => {
                if let Some(first) = seen.insert((post.id, snapshot.captured_at), line) {
                    seen.insert((post.id, snapshot.captured_at), first);
                    parsed.errors.push(RowError {
                        line,
                        column: "captured_at".into(),
                        value: format!("{} (= {first})", echo(cell("captured_at"))),
                        key: "performance.import.error.duplicate_row",
                    });
                    continue;
                }
                parsed.rows.push(GoodRow {
                    line,
                    post_id: post.id,
                    snapshot,
                });
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time_tz::timezones;

    fn posts() -> (Posts, Uuid, Uuid) {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let published = datetime!(2026-05-01 0:00 UTC);
        let mut p = Posts::default();
        p.by_video.insert(
            "7301".into(),
            PostRef {
                id: a,
                published_at: published,
            },
        );
        p.by_url.insert(
            "https://www.tiktok.com/@b/video/7302".into(),
            PostRef {
                id: b,
                published_at: published,
            },
        );
        (p, a, b)
    }

    #[test]
    fn good_rows_import_and_bad_rows_carry_their_line() {
        let (p, a, b) = posts();
        let file = "\u{feff}Video ID,Post URL,Captured At,Views,Likes,Comments,Shares\r\n\
            7301,,2026-05-02 00:00 +0000,\"1,000\",50,5,1\r\n\
            \r\n\
            ,https://www.tiktok.com/@b/video/7302,2026-05-03T00:00Z,10,1,0,0\n\
            9999,,2026-05-02 00:00,1,1,1,1\n\
            7301,,2026-04-30 00:00 +0000,1,1,1,1\n\
            7301,,2026-05-02 00:00 +0000,-5,1,1,x\n\
            7301,,2026-05-02 00:00 +0000,2000,1,1,1\n";
        let zone = timezones::get_by_name("UTC").expect("zone");
        let parsed =
            parse(file.as_bytes(), zone, &p, datetime!(2026-06-01 0:00 UTC)).expect("parses");
        assert_eq!(parsed.total_rows, 6);
        assert_eq!(
            parsed
                .rows
                .iter()
                .map(|r| (r.line, r.post_id))
                .collect::<Vec<_>>(),
            vec![(2, a), (4, b)]
        );
        let errors: Vec<(usize, &str, &str)> = parsed
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_str(), e.key))
            .collect();
        assert_eq!(
            errors,
            vec![
                (5, "video_id", "performance.import.error.unknown_post"),
                (
                    6,
                    "captured_at",
                    "performance.error.captured_before_published"
                ),
                (7, "shares", "performance.error.count_invalid"),
                (7, "views", "performance.error.count_invalid"),
                (8, "captured_at", "performance.import.error.duplicate_row"),
            ]
        );
    }

    #[test]
    fn files_without_the_needed_columns_are_refused_whole() {
        let (p, _, _) = posts();
        let zone = timezones::get_by_name("UTC").expect("zone");
        let now = datetime!(2026-06-01 0:00 UTC);
        let e = parse(&b"views,likes\n1,2\n"[..], zone, &p, now).expect_err("refused");
        assert_eq!(e.key, "performance.import.error.missing_post_column");
        let e = parse(&b"video_id,views\n1,2\n"[..], zone, &p, now).expect_err("refused");
        assert_eq!(e.key, "performance.import.error.missing_columns");
        let e = parse(&b""[..], zone, &p, now).expect_err("refused");
        assert_eq!(e.key, "performance.import.error.empty");
        let (gb, _, _) = encoding_rs::GB18030.encode(
            "视频ID,采集时间,播放量,点赞数,评论数,分享数\n7301,2026-05-02 08:00,10,1,1,1\n",
        );
        let parsed = parse(&gb[..], zone, &p, now).expect("GB18030 parses");
        assert_eq!((parsed.encoding, parsed.rows.len()), ("GB18030", 1));
    }
}
