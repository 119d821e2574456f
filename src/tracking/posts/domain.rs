//! The pure rules of posts and snapshots: a post as typed (URL, video id, publish time), the
//! late-publishing flag, a snapshot as typed, and where a snapshot upload stands. No database,
//! no HTTP.
//!
//! Decisions where the SPEC is silent:
//! - times are typed as wall-clock time in the campaign shop's time zone (the tenant's when the
//!   campaign has no shop); the form says which zone; an explicit offset (`+0800`, `Z`) wins;
//! - the publish deadline is a date: a post is on time until the end of that day (23:59:59) in
//!   the same zone; days late = the post's local date − the deadline;
//! - the video id is taken from a TikTok URL (`…/video/<digits>`) when not typed; typed ids are
//!   1–64 letters, digits, `_` or `-`; a URL that is not TikTok may go without one;
//! - a snapshot's captured_at may not be before the post was published, nor in the future;
//!   counts are whole numbers ≥ 0 (thousands separators, `1.2K`, `3万` read as in the creator
//!   import); likes may exceed views (no rule invented).

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime, Time};
use time_tz::Tz;

use crate::kernel::FieldErrors;
use crate::kernel::counts::parse_count;
use crate::kernel::text::{self, TextRule};
use crate::tracking::order_imports::parse::{local_to_utc, parse_time_text};
use crate::tracking::windows::Metrics;

pub const MAX_URL: usize = TextRule::URL.max;
pub const MAX_VIDEO_ID: usize = 64;
/// A watch time above this many seconds (over three years) is a typo.
const MAX_WATCH_SECONDS: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

/// The post form as typed.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct PostInput {
    pub url: String,
    pub video_id: String,
    pub published_at: String,
}

impl PostInput {
    /// The fields without the spaces around them (as the form shows them again).
    pub fn trimmed(self) -> PostInput {
        PostInput {
            url: self.url.trim().to_string(),
            video_id: self.video_id.trim().to_string(),
            published_at: self.published_at.trim().to_string(),
        }
    }
}

/// Where a snapshot CSV upload stands: checked and waiting for a decision, then imported or
/// cancelled (the `snapshot_imports.status` column, CHECKed to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum SnapshotImportStatus {
    Validated,
    Imported,
    Cancelled,
}

impl SnapshotImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotImportStatus::Validated => "validated",
            SnapshotImportStatus::Imported => "imported",
            SnapshotImportStatus::Cancelled => "cancelled",
        }
    }

    /// The message key of the status as shown.
    pub fn label_key(self) -> &'static str {
        match self {
            SnapshotImportStatus::Validated => "performance.import.status.validated",
            SnapshotImportStatus::Imported => "performance.import.status.imported",
            SnapshotImportStatus::Cancelled => "performance.import.status.cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPost {
    pub url: String,
    pub video_id: Option<String>,
    pub published_at: OffsetDateTime,
}

/// The id in a TikTok video URL: `https://www.tiktok.com/@handle/video/7301234567890123456`
/// (also `m.tiktok.com/v/<id>.html`, query and fragment ignored).
pub fn video_id_from_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    if host != "tiktok.com" && !host.ends_with(".tiktok.com") {
        return None;
    }
    let segments: Vec<&str> = url.path_segments()?.collect();
    segments.windows(2).find_map(|pair| {
        let id = pair[1].trim_end_matches(".html");
        (matches!(pair[0], "video" | "v" | "photo")
            && !id.is_empty()
            && id.len() <= MAX_VIDEO_ID
            && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.to_string())
    })
}

fn is_video_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_VIDEO_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A URL a person can open: http(s) with a host.
pub fn is_post_url(s: &str) -> bool {
    s.len() <= MAX_URL
        && url::Url::parse(s).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// A time as typed (`2026-05-01T10:00` from the browser's picker, `2026-05-01 10:00:00`,
/// `01/05/2026 10:00`, with or without an offset), read in `zone` when it has no offset.
pub fn parse_local_time(text: &str, zone: &Tz) -> Option<OffsetDateTime> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    parse_time_text(text, zone)
}

/// Validates every field at once (errors keyed by field name, values catalogue keys).
pub fn validate_post(
    input: &PostInput,
    zone: &Tz,
    now: OffsetDateTime,
) -> Result<NewPost, FieldErrors> {
    let mut errors = FieldErrors::new();
    let url = input.url.trim().to_string();
    if url.is_empty() {
        errors.insert("url".into(), "performance.error.url_required");
    } else if let Err(key) = text::check(&url, TextRule::URL) {
        errors.insert("url".into(), key);
    } else if !is_post_url(&url) {
        errors.insert("url".into(), "performance.error.url_invalid");
    }
    let typed = input.video_id.trim();
    let video_id = if typed.is_empty() {
        video_id_from_url(&url)
    } else if is_video_id(typed) {
        Some(typed.to_string())
    } else {
        errors.insert("video_id".into(), "performance.error.video_id_invalid");
        None
    };
    let published_at = if input.published_at.trim().is_empty() {
        errors.insert(
            "published_at".into(),
            "performance.error.published_at_required",
        );
        None
    } else {
        match parse_local_time(&input.published_at, zone) {
            None => {
                errors.insert("published_at".into(), "performance.error.time_invalid");
                None
            }
            Some(at) if at > now => {
                errors.insert(
                    "published_at".into(),
                    "performance.error.published_in_future",
                );
                None
            }
            Some(at) => Some(at),
        }
    };
    match (errors.is_empty(), published_at) {
        (true, Some(published_at)) => Ok(NewPost {
            url,
            video_id,
            published_at,
        }),
        _ => Err(errors),
    }
}

/// When a post is due — the one rule of "late": the first instant after the deadline day in
/// `zone` (where a clock change skips that midnight, the instant the clocks jump; where it
/// repeats it, its first occurrence). A post published from then on is late (`days_late`); a
/// collaboration without a post is overdue from then on, which the work queue's SQL
/// (`repo::QUEUE_SQL`) computes as its one column, held to this by a test.
pub fn deadline_end(deadline: Date, zone: &Tz) -> OffsetDateTime {
    let next = deadline.next_day().unwrap_or(deadline);
    local_to_utc(next.with_time(Time::MIDNIGHT), zone)
}

/// Whole days late (None when on time): the local date of publishing − the deadline.
pub fn days_late(published_at: OffsetDateTime, deadline: Date, zone: &Tz) -> Option<i64> {
    if published_at < deadline_end(deadline, zone) {
        return None;
    }
    use time_tz::OffsetDateTimeExt;
    let local = published_at.to_timezone(zone).date();
    Some((local - deadline).whole_days().max(1))
}

/// The snapshot form (and a CSV row) as typed.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct SnapshotInput {
    pub captured_at: String,
    pub views: String,
    pub likes: String,
    pub comments: String,
    pub shares: String,
    pub avg_watch_seconds: String,
}

impl SnapshotInput {
    /// The fields without the spaces around them (as the form shows them again).
    pub fn trimmed(self) -> SnapshotInput {
        let t = |s: String| s.trim().to_string();
        SnapshotInput {
            captured_at: t(self.captured_at),
            views: t(self.views),
            likes: t(self.likes),
            comments: t(self.comments),
            shares: t(self.shares),
            avg_watch_seconds: t(self.avg_watch_seconds),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewSnapshot {
    pub captured_at: OffsetDateTime,
    pub metrics: Metrics,
    pub avg_watch_seconds: Option<Decimal>,
}

pub const SNAPSHOT_FIELDS: [&str; 6] = [
    "captured_at",
    "views",
    "likes",
    "comments",
    "shares",
    "avg_watch_seconds",
];

fn count(text: &str, field: &str, errors: &mut FieldErrors) -> i64 {
    let t = text.trim();
    if t.is_empty() {
        errors.insert(field.into(), "performance.error.count_required");
        return 0;
    }
    match parse_count(t) {
        Some(n) if n >= 0 && !t.starts_with('-') => n,
        _ => {
            errors.insert(field.into(), "performance.error.count_invalid");
            0
        }
    }
}

/// Why a snapshot's moment cannot be taken: before its post was published, or in the future.
fn captured_at_problem(
    at: OffsetDateTime,
    published_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<&'static str> {
    if at < published_at {
        Some("performance.error.captured_before_published")
    } else if at > now {
        Some("performance.error.captured_in_future")
    } else {
        None
    }
}

/// A watch time: seconds ≥ 0, at most two decimals, below [`MAX_WATCH_SECONDS`].
fn watch_ok(s: Decimal) -> bool {
    s >= Decimal::ZERO && s < MAX_WATCH_SECONDS && s.scale() <= 2
}

/// The most snapshots one API call may carry.
pub const MAX_SNAPSHOTS_PER_CALL: usize = 10_000;

/// A snapshot as a program sends it (the API): the post by id, the moment with its offset
/// (RFC 3339), whole counts.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, utoipa::ToSchema)]
pub struct SnapshotRecord {
    pub post_id: uuid::Uuid,
    /// RFC 3339, not before the post was published nor in the future.
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
    #[schema(minimum = 0)]
    pub views: i64,
    #[schema(minimum = 0)]
    pub likes: i64,
    #[schema(minimum = 0)]
    pub comments: i64,
    #[schema(minimum = 0)]
    pub shares: i64,
    /// Seconds, at most two decimals.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,8}(\.[0-9]{1,2})?$", example = "7.25")]
    pub avg_watch_seconds: Option<Decimal>,
}

/// Checks a record of a batch (field names `snapshots[i].…`) against its post's publish time
/// (None: no such post in the tenant); the same rules as the form.
pub fn validate_snapshot_record(
    i: usize,
    record: &SnapshotRecord,
    published_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    errors: &mut FieldErrors,
) -> Option<NewSnapshot> {
    let field = |name: &str| format!("snapshots[{i}].{name}");
    let before = errors.len();
    // The moment as the database keeps it (microseconds), so that two records of one stored
    // moment are known as one.
    let captured_at = record
        .captured_at
        .replace_nanosecond(record.captured_at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(record.captured_at);
    match published_at {
        None => {
            errors.insert(field("post_id"), "api.error.post_unknown");
        }
        Some(published_at) => {
            if let Some(key) = captured_at_problem(captured_at, published_at, now) {
                errors.insert(field("captured_at"), key);
            }
        }
    }
    for (name, value) in [
        ("views", record.views),
        ("likes", record.likes),
        ("comments", record.comments),
        ("shares", record.shares),
    ] {
        if value < 0 {
            errors.insert(field(name), "performance.error.count_invalid");
        }
    }
    if record.avg_watch_seconds.is_some_and(|s| !watch_ok(s)) {
        errors.insert(
            field("avg_watch_seconds"),
            "performance.error.watch_invalid",
        );
    }
    (errors.len() == before).then_some(NewSnapshot {
        captured_at,
        metrics: Metrics {
            views: record.views,
            likes: record.likes,
            comments: record.comments,
            shares: record.shares,
        },
        avg_watch_seconds: record.avg_watch_seconds,
    })
}

/// Validates a snapshot of a post published at `published_at`.
pub fn validate_snapshot(
    input: &SnapshotInput,
    zone: &Tz,
    published_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<NewSnapshot, FieldErrors> {
    let mut errors = FieldErrors::new();
    let captured_at = if input.captured_at.trim().is_empty() {
        errors.insert(
            "captured_at".into(),
            "performance.error.captured_at_required",
        );
        None
    } else {
        match parse_local_time(&input.captured_at, zone) {
            None => {
                errors.insert("captured_at".into(), "performance.error.time_invalid");
                None
            }
            Some(at) => match captured_at_problem(at, published_at, now) {
                Some(key) => {
                    errors.insert("captured_at".into(), key);
                    None
                }
                None => Some(at),
            },
        }
    };
    let metrics = Metrics {
        views: count(&input.views, "views", &mut errors),
        likes: count(&input.likes, "likes", &mut errors),
        comments: count(&input.comments, "comments", &mut errors),
        shares: count(&input.shares, "shares", &mut errors),
    };
    let watch = input.avg_watch_seconds.trim();
    let avg_watch_seconds = if watch.is_empty() {
        None
    } else {
        match watch.parse::<Decimal>() {
            Ok(s) if watch_ok(s) => Some(s),
            _ => {
                errors.insert(
                    "avg_watch_seconds".into(),
                    "performance.error.watch_invalid",
                );
                None
            }
        }
    };
    match (errors.is_empty(), captured_at) {
        (true, Some(captured_at)) => Ok(NewSnapshot {
            captured_at,
            metrics,
            avg_watch_seconds,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};
    use time_tz::timezones;

    fn la() -> &'static Tz {
        timezones::get_by_name("America/Los_Angeles").expect("zone")
    }

    #[test]
    fn video_ids_come_from_tiktok_urls_only() {
        assert_eq!(
            video_id_from_url("https://www.tiktok.com/@mia.home/video/7301234567890123456?lang=en")
                .as_deref(),
            Some("7301234567890123456")
        );
        assert_eq!(
            video_id_from_url("https://m.tiktok.com/v/7301234567890123456.html").as_deref(),
            Some("7301234567890123456")
        );
        assert_eq!(video_id_from_url("https://www.tiktok.com/@mia.home"), None);
        assert_eq!(video_id_from_url("https://evil.example/@x/video/123"), None);
        assert_eq!(video_id_from_url("not a url"), None);
    }

    #[test]
    fn a_post_needs_a_url_and_a_past_time() {
        let now = datetime!(2026-05-10 12:00 UTC);
        let ok = validate_post(
            &PostInput {
                url: "https://www.tiktok.com/@mia/video/7301234567890123456".into(),
                video_id: String::new(),
                published_at: "2026-05-01T10:00".into(),
            },
            la(),
            now,
        )
        .expect("valid");
        assert_eq!(ok.video_id.as_deref(), Some("7301234567890123456"));
        assert_eq!(ok.published_at, datetime!(2026-05-01 17:00 UTC));
        let bad = validate_post(
            &PostInput {
                url: "ftp://x".into(),
                video_id: "a b".into(),
                published_at: "2026-06-01 10:00".into(),
            },
            la(),
            now,
        )
        .expect_err("invalid");
        assert_eq!(bad.len(), 3);
        let bad = validate_post(
            &PostInput {
                url: String::new(),
                video_id: String::new(),
                published_at: "31/02/2026".into(),
            },
            la(),
            now,
        )
        .expect_err("invalid");
        assert_eq!(bad["url"], "performance.error.url_required");
        assert_eq!(bad["published_at"], "performance.error.time_invalid");
    }

    #[test]
    fn late_starts_at_midnight_after_the_deadline_in_the_shop_zone() {
        let deadline = date!(2026 - 05 - 01);
        // 23:59:59 on the deadline day in Los Angeles is 06:59:59 UTC the next day.
        assert_eq!(
            days_late(datetime!(2026-05-02 06:59:59 UTC), deadline, la()),
            None
        );
        assert_eq!(
            days_late(datetime!(2026-05-02 07:00 UTC), deadline, la()),
            Some(1)
        );
        assert_eq!(
            days_late(datetime!(2026-05-05 07:00 UTC), deadline, la()),
            Some(4)
        );
    }

    #[test]
    fn a_deadline_day_ends_at_the_first_midnight_after_it_whatever_the_clocks_do() {
        let zone = |name| timezones::get_by_name(name).expect("zone");
        // Havana sets its clocks back from 01:00 to 00:00 on 1 November 2026: the day before ends
        // at the first of the two midnights.
        assert_eq!(
            deadline_end(date!(2026 - 10 - 31), zone("America/Havana")),
            datetime!(2026-11-01 04:00 UTC)
        );
        // Beirut skips from 00:00 to 01:00 on 29 March 2026: the day before ends at the jump.
        assert_eq!(
            deadline_end(date!(2026 - 03 - 28), zone("Asia/Beirut")),
            datetime!(2026-03-28 22:00 UTC)
        );
        assert_eq!(
            deadline_end(date!(2026 - 05 - 01), la()),
            datetime!(2026-05-02 07:00 UTC)
        );
    }

    #[test]
    fn snapshots_cannot_predate_the_post_and_counts_are_not_negative() {
        let published = datetime!(2026-05-01 17:00 UTC);
        let now = datetime!(2026-05-10 0:00 UTC);
        let input = SnapshotInput {
            captured_at: "2026-05-01 09:59".into(),
            views: "-1".into(),
            likes: "1.2K".into(),
            comments: "x".into(),
            shares: String::new(),
            avg_watch_seconds: "-3".into(),
        };
        let e = validate_snapshot(&input, la(), published, now).expect_err("invalid");
        assert_eq!(
            e["captured_at"],
            "performance.error.captured_before_published"
        );
        assert_eq!(e["views"], "performance.error.count_invalid");
        assert_eq!(e["comments"], "performance.error.count_invalid");
        assert_eq!(e["shares"], "performance.error.count_required");
        assert_eq!(e["avg_watch_seconds"], "performance.error.watch_invalid");
        assert!(!e.contains_key("likes"));
        let ok = validate_snapshot(
            &SnapshotInput {
                captured_at: "2026-05-01 10:00".into(),
                views: "1,000".into(),
                likes: "2000".into(),
                comments: "0".into(),
                shares: "3".into(),
                avg_watch_seconds: "7.5".into(),
            },
            la(),
            published,
            now,
        )
        .expect("likes above views are allowed");
        assert_eq!(ok.metrics.likes, 2000);
        assert_eq!(ok.captured_at, published);
    }

    #[test]
    fn an_api_snapshot_record_is_checked_like_the_form_naming_its_row() {
        use time::macros::datetime;
        let published = datetime!(2026-03-01 10:00 UTC);
        let now = datetime!(2026-03-10 10:00 UTC);
        let good = SnapshotRecord {
            post_id: uuid::Uuid::nil(),
            captured_at: datetime!(2026-03-02 10:00 UTC),
            views: 1000,
            likes: 10,
            comments: 1,
            shares: 0,
            avg_watch_seconds: Some(Decimal::new(125, 1)),
        };
        let mut errors = FieldErrors::new();
        let ok = validate_snapshot_record(0, &good, Some(published), now, &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(ok.metrics.views, 1000);
        assert_eq!(ok.captured_at, good.captured_at);
        let bad = SnapshotRecord {
            captured_at: datetime!(2026-02-28 10:00 UTC),
            likes: -1,
            avg_watch_seconds: Some(Decimal::new(1234, 3)),
            ..good.clone()
        };
        assert!(validate_snapshot_record(7, &bad, Some(published), now, &mut errors).is_none());
        assert_eq!(
            errors.get("snapshots[7].captured_at"),
            Some(&"performance.error.captured_before_published")
        );
        assert_eq!(
            errors.get("snapshots[7].likes"),
            Some(&"performance.error.count_invalid")
        );
        assert_eq!(
            errors.get("snapshots[7].avg_watch_seconds"),
            Some(&"performance.error.watch_invalid")
        );
        let future = SnapshotRecord {
            captured_at: datetime!(2026-03-11 10:00 UTC),
            ..good.clone()
        };
        assert!(validate_snapshot_record(8, &future, Some(published), now, &mut errors).is_none());
        assert_eq!(
            errors.get("snapshots[8].captured_at"),
            Some(&"performance.error.captured_in_future")
        );
        assert!(validate_snapshot_record(9, &good, None, now, &mut errors).is_none());
        assert_eq!(
            errors.get("snapshots[9].post_id"),
            Some(&"api.error.post_unknown")
        );
    }
}
