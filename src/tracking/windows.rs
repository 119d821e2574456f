//! Metric windows (SPEC §5): a post's numbers frozen at D1, D7, D14 and D30 after publishing.
//!
//! - boundary = published_at + N × 24 h, in exact hours (a DST change does not move it);
//! - the value is the last snapshot captured at or before the boundary (inclusive); two captured
//!   at the same instant: the later one in the list (a correction entered after) wins; none
//!   when nothing was captured by then;
//! - a window is final once `now` is strictly after the boundary. At the boundary instant itself
//!   a snapshot captured "now" still belongs to the window, so its value can still change.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    D1,
    D7,
    D14,
    D30,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::D1, Window::D7, Window::D14, Window::D30];

    pub fn days(self) -> i64 {
        match self {
            Window::D1 => 1,
            Window::D7 => 7,
            Window::D14 => 14,
            Window::D30 => 30,
        }
    }

    /// `d1`, `d7`, `d14`, `d30` (stored settings and ratings use these).
    pub fn code(self) -> &'static str {
        match self {
            Window::D1 => "d1",
            Window::D7 => "d7",
            Window::D14 => "d14",
            Window::D30 => "d30",
        }
    }

    pub fn from_code(code: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.code() == code)
    }

    /// The message catalogue key of the window's label.
    pub fn key(self) -> &'static str {
        match self {
            Window::D1 => "tracking.window.d1",
            Window::D7 => "tracking.window.d7",
            Window::D14 => "tracking.window.d14",
            Window::D30 => "tracking.window.d30",
        }
    }

    pub fn boundary(self, published_at: OffsetDateTime) -> OffsetDateTime {
        published_at.saturating_add(Duration::hours(24 * self.days()))
    }

    pub fn is_final(self, published_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        now > self.boundary(published_at)
    }
}

/// Anything with a capture time: the snapshot rows of whoever calls.
pub trait Captured {
    fn captured_at(&self) -> OffsetDateTime;
}

/// A post's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
}

impl Metrics {
    /// Likes + comments + shares: the numerator of the engagement rate.
    pub fn engagements(&self) -> i64 {
        self.likes
            .saturating_add(self.comments)
            .saturating_add(self.shares)
    }

    pub fn saturating_add(self, other: Metrics) -> Metrics {
        Metrics {
            views: self.views.saturating_add(other.views),
            likes: self.likes.saturating_add(other.likes),
            comments: self.comments.saturating_add(other.comments),
            shares: self.shares.saturating_add(other.shares),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub captured_at: OffsetDateTime,
    pub metrics: Metrics,
    pub avg_watch_seconds: Option<Decimal>,
}

impl Captured for Snapshot {
    fn captured_at(&self) -> OffsetDateTime {
        self.captured_at
    }
}

/// One window of one post.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowValue<'s, S> {
    pub window: Window,
    pub boundary: OffsetDateTime,
    /// None when nothing was captured by the boundary.
    pub snapshot: Option<&'s S>,
    pub is_final: bool,
}

/// The last snapshot captured at or before `boundary`, in any order of `snapshots`.
pub fn value_at<S: Captured>(snapshots: &[S], boundary: OffsetDateTime) -> Option<&S> {
    snapshots
        .iter()
        .filter(|s| s.captured_at() <= boundary)
        // max_by_key keeps the last of equal keys: the later entry wins a tie.
        .max_by_key(|s| s.captured_at())
}

pub fn window_value<S: Captured>(
    window: Window,
    published_at: OffsetDateTime,
    snapshots: &[S],
    now: OffsetDateTime,
) -> WindowValue<'_, S> {
    let boundary = window.boundary(published_at);
    WindowValue {
        window,
        boundary,
        snapshot: value_at(snapshots, boundary),
        is_final: now > boundary,
    }
}

/// D1, D7, D14 and D30 of one post, in that order.
pub fn all_windows<S: Captured>(
    published_at: OffsetDateTime,
    snapshots: &[S],
    now: OffsetDateTime,
) -> [WindowValue<'_, S>; 4] {
    Window::ALL.map(|w| window_value(w, published_at, snapshots, now))
}

/// A collaboration's numbers at one window: the sum over its posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Combined {
    pub metrics: Metrics,
    /// Every post's window is final (and there is at least one post).
    pub is_final: bool,
    /// Posts with no snapshot by the boundary (they add nothing to `metrics`).
    pub missing: usize,
}

/// Each post as (published_at, its snapshots).
pub fn combined<'s>(
    window: Window,
    posts: impl IntoIterator<Item = (OffsetDateTime, &'s [Snapshot])>,
    now: OffsetDateTime,
) -> Combined {
    let mut out = Combined {
        is_final: true,
        ..Combined::default()
    };
    let mut any = false;
    for (published_at, snapshots) in posts {
        any = true;
        let value = window_value(window, published_at, snapshots, now);
        out.is_final &= value.is_final;
        match value.snapshot {
            Some(s) => out.metrics = out.metrics.saturating_add(s.metrics),
            None => out.missing += 1,
        }
    }
    out.is_final &= any;
    out
}

/// SPEC §7: rating opens when the evaluation window is final for every post. With no post there
/// is nothing to evaluate, so it is not.
pub fn evaluation_final(
    window: Window,
    published: impl IntoIterator<Item = OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    let mut any = false;
    for published_at in published {
        any = true;
        if !window.is_final(published_at, now) {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const PUBLISHED: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

    fn snap(at: OffsetDateTime, views: i64) -> Snapshot {
        Snapshot {
            captured_at: at,
            metrics: Metrics {
                views,
                likes: views / 10,
                comments: views / 100,
                shares: views / 1000,
            },
            avg_watch_seconds: None,
        }
    }

    fn views(value: &WindowValue<'_, Snapshot>) -> Option<i64> {
        value.snapshot.map(|s| s.metrics.views)
    }

    #[test]
    fn a_snapshot_exactly_at_the_boundary_counts_and_one_second_later_does_not() {
        let d7 = Window::D7.boundary(PUBLISHED);
        assert_eq!(d7, datetime!(2026-05-08 10:00 UTC));
        let snapshots = [
            snap(d7 + Duration::SECOND, 900),
            snap(d7, 700),
            snap(d7 - Duration::HOUR, 600),
        ];
        let value = window_value(Window::D7, PUBLISHED, &snapshots, d7 + Duration::DAY);
        assert_eq!(views(&value), Some(700));
        let later = [snap(d7 + Duration::SECOND, 900)];
        let value = window_value(Window::D7, PUBLISHED, &later, d7 + Duration::DAY);
        assert_eq!(views(&value), None);
    }

    #[test]
    fn no_snapshot_by_d1_is_none_even_when_later_ones_exist() {
        let snapshots = [snap(PUBLISHED + Duration::hours(25), 100)];
        let now = PUBLISHED + Duration::days(40);
        let [d1, d7, d14, d30] = all_windows(PUBLISHED, &snapshots, now);
        assert_eq!(views(&d1), None);
        assert!(d1.is_final);
        assert_eq!([views(&d7), views(&d14), views(&d30)], [Some(100); 3]);
    }

    #[test]
    fn a_window_is_final_only_once_its_boundary_has_passed() {
        let d14 = Window::D14.boundary(PUBLISHED);
        assert!(!Window::D14.is_final(PUBLISHED, d14 - Duration::SECOND));
        assert!(!Window::D14.is_final(PUBLISHED, d14));
        assert!(Window::D14.is_final(PUBLISHED, d14 + Duration::NANOSECOND));
        let snapshots = [snap(PUBLISHED + Duration::days(2), 50)];
        let value = window_value(Window::D14, PUBLISHED, &snapshots, d14);
        assert_eq!((views(&value), value.is_final), (Some(50), false));
    }

    #[test]
    fn boundaries_are_exact_hours_across_a_dst_change() {
        // New York springs forward on 8 March 2026; D1 is still 24 hours later.
        let published = datetime!(2026-03-07 12:00 -5);
        assert_eq!(
            Window::D1.boundary(published),
            datetime!(2026-03-08 17:00 UTC)
        );
    }

    #[test]
    fn equal_capture_times_take_the_later_entry() {
        let at = PUBLISHED + Duration::HOUR;
        let snapshots = [snap(at, 1), snap(at, 2)];
        assert_eq!(value_at(&snapshots, at).map(|s| s.metrics.views), Some(2));
    }

    #[test]
    fn codes_round_trip() {
        for w in Window::ALL {
            assert_eq!(Window::from_code(w.code()), Some(w));
            assert!(w.key().ends_with(w.code()));
        }
        assert_eq!(Window::from_code("d2"), None);
    }

    #[test]
    fn a_collaboration_sums_its_posts_and_is_final_when_all_are() {
        let second_post = PUBLISHED + Duration::days(3);
        let first = [snap(PUBLISHED + Duration::hours(20), 1_000)];
        let second = [snap(second_post + Duration::hours(2), 500)];
        let now = Window::D1.boundary(second_post) + Duration::SECOND;
        let both = combined(
            Window::D1,
            [(PUBLISHED, &first[..]), (second_post, &second[..])],
            now,
        );
        assert_eq!(both.metrics.views, 1_500);
        assert!(both.is_final);
        assert_eq!(both.missing, 0);
        let early = combined(
            Window::D1,
            [(PUBLISHED, &first[..]), (second_post, &[][..])],
            second_post,
        );
        assert_eq!(
            (early.metrics.views, early.is_final, early.missing),
            (1_000, false, 1)
        );
        assert!(!combined(Window::D1, [], now).is_final);
        assert!(evaluation_final(Window::D1, [PUBLISHED, second_post], now));
        assert!(!evaluation_final(Window::D7, [PUBLISHED, second_post], now));
        assert!(!evaluation_final(Window::D1, [], now));
    }

    proptest! {
        #[test]
        fn the_window_value_is_the_latest_capture_not_after_the_boundary(
            offsets in proptest::collection::vec(-86_400i64..40 * 86_400, 0..30),
            window in 0usize..4,
        ) {
            let window = Window::ALL[window];
            let snapshots: Vec<Snapshot> = offsets
                .iter()
                .enumerate()
                .map(|(i, s)| snap(PUBLISHED + Duration::seconds(*s), i as i64))
                .collect();
            let boundary = window.boundary(PUBLISHED);
            let brute = snapshots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.captured_at <= boundary)
                .max_by(|a, b| a.1.captured_at.cmp(&b.1.captured_at).then(a.0.cmp(&b.0)))
                .map(|(i, _)| i as i64);
            let value = window_value(window, PUBLISHED, &snapshots, boundary);
            prop_assert_eq!(views(&value), brute);
            prop_assert!(!value.is_final);
            // Later windows never pick an earlier capture.
            let values = all_windows(PUBLISHED, &snapshots, boundary);
            for pair in values.windows(2) {
                let at = |v: &WindowValue<'_, Snapshot>| v.snapshot.map(|s| s.captured_at);
                prop_assert!(at(&pair[0]) <= at(&pair[1]));
            }
        }
    }
}
