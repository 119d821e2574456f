//! Tracked-link clicks (SPEC §5): bot detection, the daily-keyed visitor hash, the referer host
//! and the unique-click rule — the pure parts of the redirect and of the click writer.
//!
//! Decisions where the SPEC is silent:
//! - a request without a User-Agent (or a blank one) is a bot: every browser and in-app webview
//!   sends one, scripts often do not;
//! - HTTP tools (curl, wget, python-requests, Go's and Java's clients, headless Chrome, …) are bots;
//! - "counted" means not a bot: the 30-minute window slides from the visitor's last counted click
//!   on the link, unique or not, so steady re-clicking never adds unique clicks; a previous counted
//!   click exactly 30 minutes earlier no longer suppresses (gap < 30 min → not unique);
//! - the visitor hash key changes at 00:00 UTC, so the same person is a new visitor after it;
//! - a visitor counts at most [`RATE_LIMIT`] clicks on a link in any [`RATE_WINDOW`]; the clicks
//!   beyond are still redirected but flagged like bots (never counted, never unique, and they do
//!   not open a new rate window either), so a script re-clicking fast from one browser identity
//!   adds at most 10 clicks a minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex, PoisonError};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// A counted click within this long after the previous counted one is not unique.
pub const UNIQUE_GAP: Duration = Duration::minutes(30);

/// Case-insensitive substrings of crawler and link-preview user agents. "bot" alone covers
/// Slackbot, Twitterbot, TelegramBot, Discordbot, Googlebot, bingbot, Applebot, LinkedInBot,
/// Pinterestbot, PetalBot, AhrefsBot and the like.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "whatsapp",
    "crawler",
    "spider",
    "preview",
    "slack",
    "embedly",
    "iframely",
    "vkshare",
    "mediapartners-google",
    "google-inspectiontool",
    "googleother",
    "feedfetcher",
    "headless",
    "phantomjs",
    "lighthouse",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "java/",
    "apache-httpclient",
    "libwww",
    "scrapy",
    "axios/",
    "node-fetch",
];

/// Real phones whose user agent contains a marker ("CUBOT" is a handset brand).
const NOT_BOTS: &[&str] = &["cubot"];

/// One automaton for every marker, built once: each check is a single pass over the user agent
/// without allocating. Leftmost-longest matching lets "cubot" win over the "bot" inside it.
static MARKERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(BOT_MARKERS.iter().chain(NOT_BOTS))
        .expect("a few short constant patterns always build")
});

/// Whether a request comes from a crawler or link previewer (logged, never counted).
pub fn is_bot(user_agent: Option<&str>) -> bool {
    let Some(agent) = user_agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    MARKERS
        .find_iter(agent)
        .any(|m| m.pattern().as_usize() < BOT_MARKERS.len())
}

/// A visitor for one UTC day: a truncated HMAC, never the ip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VisitorHash(pub [u8; 16]);

impl VisitorHash {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// HMAC-SHA256(secret, "YYYY-MM-DD"): the day's key, the same on every server.
pub fn daily_key(secret: &[u8], date: Date) -> [u8; 32] {
    let mut mac = keyed(secret);
    mac.update(
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
        .as_bytes(),
    );
    mac.finalize().into_bytes().into()
}

/// The visitor hash under a day's key: HMAC-SHA256(key, ip ‖ user agent), first 16 bytes.
pub fn visitor_hash(key: &[u8; 32], ip: IpAddr, user_agent: &str) -> VisitorHash {
    finish(keyed(key), ip, user_agent)
}

fn keyed(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn finish(mut mac: HmacSha256, ip: IpAddr, user_agent: &str) -> VisitorHash {
    // An IPv4 client seen through an IPv6 socket is the same visitor; the family tag keeps the
    // ip and the user agent from running into each other.
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            mac.update(&[4]);
            mac.update(&v4.octets());
        }
        IpAddr::V6(v6) => {
            mac.update(&[6]);
            mac.update(&v6.octets());
        }
    }
    mac.update(user_agent.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = [0; 16];
    out.copy_from_slice(&digest[..16]);
    VisitorHash(out)
}

/// The server secret and the current day's keyed HMAC, derived once per UTC day and shared by
/// every request (the lock is held only to check the date and clone the keyed state).
pub struct DailyKey {
    secret: Box<[u8]>,
    today: Mutex<Option<(Date, HmacSha256)>>,
}

impl DailyKey {
    pub fn new(secret: &[u8]) -> Self {
        DailyKey {
            secret: secret.into(),
            today: Mutex::new(None),
        }
    }

    /// The visitor hash of a request at `at` (its UTC date picks the key).
    pub fn visitor_hash(&self, at: OffsetDateTime, ip: IpAddr, user_agent: &str) -> VisitorHash {
        let date = at.to_offset(UtcOffset::UTC).date();
        let mac = {
            let mut today = self.today.lock().unwrap_or_else(PoisonError::into_inner);
            match today.as_ref() {
                Some((day, mac)) if *day == date => mac.clone(),
                _ => {
                    let mac = keyed(&daily_key(&self.secret, date));
                    *today = Some((date, mac.clone()));
                    mac
                }
            }
        };
        finish(mac, ip, user_agent)
    }
}

/// The host of a Referer, lower case, without port, path or a trailing dot; None for anything
/// that is not an absolute URL with a host. App referers (`android-app://com.zhiliaoapp.musically/`)
/// keep their package name as the host: it says which app the click came from.
pub fn referer_host(referer: &str) -> Option<String> {
    let referer = referer.trim();
    if referer.is_empty() || referer.len() > 4_096 {
        return None;
    }
    let url = url::Url::parse(referer).ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty() && host.len() <= 253).then_some(host)
}

/// One logged redirect, as the unique rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickInput {
    pub link: Uuid,
    pub visitor: VisitorHash,
    pub at: OffsetDateTime,
    pub bot: bool,
    /// Output of `mark_unique` / `UniqueTracker::observe`.
    pub unique: bool,
}

/// Sets `unique` on every click of a batch, in any order: clicks are taken by time (equal times
/// in slice order), with no earlier history.
pub fn mark_unique(clicks: &mut [ClickInput]) {
    let mut order: Vec<usize> = (0..clicks.len()).collect();
    order.sort_by_key(|&i| (clicks[i].at, i));
    let mut tracker = UniqueTracker::new();
    for i in order {
        let c = &clicks[i];
        let unique = tracker.observe(c.link, c.visitor, c.at, c.bot);
        clicks[i].unique = unique;
    }
}

/// The unique rule, incrementally: the last counted click per (link, visitor).
#[derive(Debug, Clone, Default)]
pub struct UniqueTracker {
    last: HashMap<(Uuid, VisitorHash), OffsetDateTime>,
}

impl UniqueTracker {
    pub fn new() -> Self {
        UniqueTracker::default()
    }

    /// Whether this click is unique; a counted (non-bot) click restarts its pair's window.
    /// Clicks are expected in time order; a late one (before the pair's last counted click) is
    /// never unique and does not move the window back.
    pub fn observe(
        &mut self,
        link: Uuid,
        visitor: VisitorHash,
        at: OffsetDateTime,
        bot: bool,
    ) -> bool {
        if bot {
            return false;
        }
        match self.last.get_mut(&(link, visitor)) {
            Some(last) => {
                let unique = at - *last >= UNIQUE_GAP;
                if at > *last {
                    *last = at;
                }
                unique
            }
            None => {
                self.last.insert((link, visitor), at);
                true
            }
        }
    }

    /// Seeds a pair's last counted click from storage (after a restart, or from another server).
    pub fn remember(&mut self, link: Uuid, visitor: VisitorHash, at: OffsetDateTime) {
        let last = self.last.entry((link, visitor)).or_insert(at);
        if at > *last {
            *last = at;
        }
    }

    /// Forgets pairs whose last counted click is `UNIQUE_GAP` or more before `now`: they can no
    /// longer make a click at or after `now` non-unique. Keeps memory to the last 30 minutes.
    pub fn prune(&mut self, now: OffsetDateTime) {
        self.last.retain(|_, last| now - *last < UNIQUE_GAP);
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// More counted clicks than this from one visitor on one link within [`RATE_WINDOW`] are
/// flagged like bots.
pub const RATE_LIMIT: usize = 10;
pub const RATE_WINDOW: Duration = Duration::MINUTE;

/// The counted clicks of one (link, visitor) within the last [`RATE_WINDOW`], oldest first, at
/// most [`RATE_LIMIT`]: what the click writer keeps in the database between batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentClicks(pub Vec<OffsetDateTime>);

impl RecentClicks {
    /// Whether a people click at `at` is within the rate; if it is, it joins the window.
    /// A click `RATE_WINDOW` or more after an earlier one no longer sees it.
    pub fn admit(&mut self, at: OffsetDateTime) -> bool {
        self.0.retain(|t| at - *t < RATE_WINDOW);
        if self.0.len() >= RATE_LIMIT {
            return false;
        }
        let at_or_before = self.0.partition_point(|t| *t <= at);
        self.0.insert(at_or_before, at);
        true
    }
}

/// Which clicks of a batch go beyond the rate, given each (link, visitor)'s recent counted
/// clicks (updated in place). Bots are left alone; clicks are taken by time (equal times in
/// slice order), so a batch decides as if its clicks had come one by one.
pub fn mark_over_rate(
    clicks: &[(Uuid, VisitorHash, OffsetDateTime, bool)],
    recent: &mut HashMap<(Uuid, VisitorHash), RecentClicks>,
) -> Vec<bool> {
    let mut order: Vec<usize> = (0..clicks.len()).collect();
    order.sort_by_key(|&i| (clicks[i].2, i));
    let mut over = vec![false; clicks.len()];
    for i in order {
        let (link, visitor, at, bot) = clicks[i];
        if !bot {
            over[i] = !recent.entry((link, visitor)).or_default().admit(at);
        }
    }
    over
}

/// Totals for KPIs: every redirect, the counted ones, the unique ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClickCounts {
    pub redirects: u64,
    pub clicks: u64,
    pub unique: u64,
    pub bots: u64,
}

pub fn count(clicks: &[ClickInput]) -> ClickCounts {
    let mut counts = ClickCounts::default();
    for c in clicks {
        counts.redirects += 1;
        if c.bot {
            counts.bots += 1;
        } else {
            counts.clicks += 1;
            counts.unique += u64::from(c.unique);
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use time::macros::{date, datetime};

    #[test]
    fn preview_and_crawler_agents_are_bots() {
        for agent in [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Twitterbot/1.0",
            "WhatsApp/2.23.20.0 A",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/120.0 Safari/537.36",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
            "SkypeUriPreview Preview/0.5",
            "curl/8.4.0",
            "python-requests/2.31",
            "Go-http-client/2.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
            "",
            "   ",
        ] {
            assert!(is_bot(Some(agent)), "{agent}");
        }
        assert!(is_bot(None));
    }

    #[test]
    fn browsers_and_in_app_webviews_are_people() {
        for agent in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_32.5.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US ByteFullLocale/en WKWebView/1 BytedanceWebview/d8a21c6",
            "Mozilla/5.0 (Linux; Android 13; CUBOT KINGKONG 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 309.0",
        ] {
            assert!(!is_bot(Some(agent)), "{agent}");
        }
        // A phone brand does not hide a crawler further along.
        assert!(is_bot(Some("CUBOT X30 Googlebot/2.1")));
    }

    #[test]
    fn the_visitor_hash_depends_on_day_ip_and_agent_only() {
        let secret = b"server secret";
        let keys = DailyKey::new(secret);
        let ip: IpAddr = Ipv4Addr::new(203, 0, 113, 7).into();
        let morning = datetime!(2026-05-01 00:00:01 UTC);
        let a = keys.visitor_hash(morning, ip, "UA");
        // Same UTC day, written in another offset: same key.
        assert_eq!(
            keys.visitor_hash(datetime!(2026-05-02 07:59 +08), ip, "UA"),
            a
        );
        assert_eq!(
            a,
            visitor_hash(&daily_key(secret, date!(2026 - 05 - 01)), ip, "UA")
        );
        assert_ne!(
            keys.visitor_hash(datetime!(2026-05-02 00:00 UTC), ip, "UA"),
            a
        );
        assert_ne!(keys.visitor_hash(morning, ip, "UA2"), a);
        assert_ne!(
            keys.visitor_hash(morning, Ipv4Addr::new(203, 0, 113, 8).into(), "UA"),
            a
        );
        assert_ne!(DailyKey::new(b"other").visitor_hash(morning, ip, "UA"), a);
        // An IPv4-mapped IPv6 address is the same visitor.
        let mapped: IpAddr = Ipv4Addr::new(203, 0, 113, 7).to_ipv6_mapped().into();
        assert_eq!(keys.visitor_hash(morning, mapped, "UA"), a);
        let v6: IpAddr = Ipv6Addr::LOCALHOST.into();
        assert_ne!(keys.visitor_hash(morning, v6, "UA"), a);
        assert_eq!(a.to_hex().len(), 32);
    }

    #[test]
    fn the_daily_key_is_hmac_of_the_iso_date() {
        // RFC 4231-style check against an independent computation of the same construction.
        let mut mac = HmacSha256::new_from_slice(b"k").expect("any key length");
        mac.update(b"2026-01-09");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(daily_key(b"k", date!(2026 - 01 - 09)), expected);
    }

    #[test]
    fn referer_hosts_are_bare_lower_case_hosts() {
        for (referer, host) in [
            (
                "https://www.TikTok.com:443/@mia/video/1?x=1",
                Some("www.tiktok.com"),
            ),
            ("http://l.facebook.com./l.php", Some("l.facebook.com")),
            (
                "android-app://com.zhiliaoapp.musically/",
                Some("com.zhiliaoapp.musically"),
            ),
            ("https://例子.测试/path", Some("xn--fsqu00a.xn--0zwm56d")),
            ("http://192.0.2.1:8080/", Some("192.0.2.1")),
            ("  https://t.co/abc  ", Some("t.co")),
            ("not a url", None),
            ("/relative/path", None),
            ("https://", None),
            ("javascript:alert(1)", None),
            ("", None),
        ] {
            assert_eq!(referer_host(referer).as_deref(), host, "{referer}");
        }
    }

    fn click(link: u8, visitor: u8, minute: i64, bot: bool) -> ClickInput {
        ClickInput {
            link: Uuid::from_u128(u128::from(link)),
            visitor: VisitorHash([visitor; 16]),
            at: datetime!(2026-05-01 00:00 UTC) + Duration::minutes(minute),
            bot,
            unique: false,
        }
    }

    fn uniques(clicks: &[ClickInput]) -> Vec<bool> {
        clicks.iter().map(|c| c.unique).collect()
    }

    #[test]
    fn the_window_slides_from_the_last_counted_click() {
        let mut clicks = vec![
            click(1, 1, 0, false),
            click(1, 1, 20, false),
            click(1, 1, 40, false),
            click(1, 1, 70, false),
            click(1, 1, 100, true),
            click(1, 1, 101, false),
            click(2, 1, 101, false),
            click(1, 2, 101, false),
        ];
        mark_unique(&mut clicks);
        // 20 and 40 are within 30 minutes of a counted click; 70 is exactly 30 after 40; the bot
        // at 100 neither counts nor restarts the window, so 101 is 31 minutes after 70.
        assert_eq!(
            uniques(&clicks),
            [true, false, false, true, false, true, true, true]
        );
        assert_eq!(
            count(&clicks),
            ClickCounts {
                redirects: 8,
                clicks: 7,
                unique: 5,
                bots: 1
            }
        );
    }

    #[test]
    fn the_tracker_forgets_only_what_cannot_matter_and_accepts_history() {
        let mut tracker = UniqueTracker::new();
        let c = click(1, 1, 0, false);
        assert!(tracker.observe(c.link, c.visitor, c.at, false));
        tracker.prune(c.at + Duration::minutes(29));
        assert_eq!(tracker.len(), 1);
        tracker.prune(c.at + UNIQUE_GAP);
        assert!(tracker.is_empty());
        tracker.remember(c.link, c.visitor, c.at);
        assert!(!tracker.observe(c.link, c.visitor, c.at + Duration::minutes(10), false));
        // A late click is not unique and does not move the window back.
        assert!(!tracker.observe(c.link, c.visitor, c.at - Duration::HOUR, false));
        assert!(tracker.observe(c.link, c.visitor, c.at + Duration::minutes(40), false));
    }

    /// The rule as written: counted and no counted click of the pair less than 30 minutes before.
    fn brute_force(clicks: &[ClickInput]) -> Vec<bool> {
        let mut order: Vec<usize> = (0..clicks.len()).collect();
        order.sort_by_key(|&i| (clicks[i].at, i));
        let mut unique = vec![false; clicks.len()];
        for (rank, &i) in order.iter().enumerate() {
            let c = &clicks[i];
            unique[i] = !c.bot
                && !order[..rank].iter().any(|&j| {
                    let p = &clicks[j];
                    !p.bot && p.link == c.link && p.visitor == c.visitor && c.at - p.at < UNIQUE_GAP
                });
        }
        unique
    }

    fn batch(raw: &[(u8, u8, i64, bool)]) -> Vec<(Uuid, VisitorHash, OffsetDateTime, bool)> {
        raw.iter()
            .map(|&(link, visitor, second, bot)| {
                (
                    Uuid::from_u128(u128::from(link)),
                    VisitorHash([visitor; 16]),
                    datetime!(2026-05-01 00:00 UTC) + Duration::seconds(second),
                    bot,
                )
            })
            .collect()
    }

    #[test]
    fn fifteen_quick_clicks_from_one_visitor_count_ten_and_flag_five() {
        let mut raw: Vec<(u8, u8, i64, bool)> = (0..15).map(|s| (1, 1, s, false)).collect();
        // Another visitor, the same visitor on another link, and a bot are not held back.
        raw.extend([(1, 2, 3, false), (2, 1, 3, false), (1, 1, 4, true)]);
        let mut recent = HashMap::new();
        let over = mark_over_rate(&batch(&raw), &mut recent);
        assert_eq!(over[..10], [false; 10]);
        assert_eq!(over[10..15], [true; 5]);
        assert_eq!(over[15..], [false; 3]);
        // A minute after the first click the window has room again, one click per click aged out.
        let later = batch(&[(1, 1, 60, false), (1, 1, 60, false), (1, 1, 61, false)]);
        assert_eq!(mark_over_rate(&later, &mut recent), [false, true, false]);
    }

    #[test]
    fn the_rate_is_decided_by_time_across_batches_and_out_of_order() {
        // Twelve clicks a second apart, listed latest first: the two latest are over the rate.
        let raw: Vec<(u8, u8, i64, bool)> = (0..12).rev().map(|s| (1, 1, s, false)).collect();
        let mut recent = HashMap::new();
        let over = mark_over_rate(&batch(&raw), &mut recent);
        assert_eq!(over[..2], [true, true]);
        assert_eq!(over[2..], [false; 10]);
        // The window carried to the next batch (as the database holds it) still holds the limit.
        assert_eq!(recent.values().next().map(|r| r.0.len()), Some(RATE_LIMIT));
        assert_eq!(
            mark_over_rate(&batch(&[(1, 1, 30, false)]), &mut recent),
            [true]
        );
    }

    /// The rule as written: a people click is over the rate when the pair already has
    /// RATE_LIMIT admitted clicks less than RATE_WINDOW before it (by time, ties in order).
    fn over_rate_brute_force(clicks: &[(Uuid, VisitorHash, OffsetDateTime, bool)]) -> Vec<bool> {
        let mut order: Vec<usize> = (0..clicks.len()).collect();
        order.sort_by_key(|&i| (clicks[i].2, i));
        let mut over = vec![false; clicks.len()];
        let mut admitted: Vec<usize> = Vec::new();
        for i in order {
            let (link, visitor, at, bot) = clicks[i];
            if bot {
                continue;
            }
            let in_window = admitted
                .iter()
                .filter(|&&j| {
                    clicks[j].0 == link && clicks[j].1 == visitor && at - clicks[j].2 < RATE_WINDOW
                })
                .count();
            if in_window >= RATE_LIMIT {
                over[i] = true;
            } else {
                admitted.push(i);
            }
        }
        over
    }

    proptest! {
        #[test]
        fn mark_over_rate_agrees_with_the_definition_in_one_or_many_batches(
            raw in proptest::collection::vec((0u8..2, 0u8..2, 0i64..180, proptest::bool::weighted(0.1)), 0..80),
            cut in 0usize..80,
        ) {
            let mut sorted = raw.clone();
            sorted.sort_by_key(|c| c.2);
            let clicks = batch(&sorted);
            let expected = over_rate_brute_force(&clicks);
            prop_assert_eq!(mark_over_rate(&clicks, &mut HashMap::new()), expected.clone());
            // Split in two batches in time order: the carried windows give the same answer.
            let cut = cut.min(clicks.len());
            let mut recent = HashMap::new();
            let mut split = mark_over_rate(&clicks[..cut], &mut recent);
            split.extend(mark_over_rate(&clicks[cut..], &mut recent));
            prop_assert_eq!(split, expected);
        }

        #[test]
        fn mark_unique_agrees_with_the_definition(
            raw in proptest::collection::vec((0u8..2, 0u8..3, 0i64..240, proptest::bool::weighted(0.2)), 0..60),
        ) {
            let mut clicks: Vec<ClickInput> = raw
                .iter()
                .map(|&(link, visitor, minute, bot)| click(link, visitor, minute, bot))
                .collect();
            let expected = brute_force(&clicks);
            mark_unique(&mut clicks);
            prop_assert_eq!(uniques(&clicks), expected);
            let counts = count(&clicks);
            prop_assert!(counts.unique <= counts.clicks);
            prop_assert_eq!(counts.clicks + counts.bots, counts.redirects);
        }

        #[test]
        fn bot_checks_never_panic(agent in ".{0,300}") {
            let _ = is_bot(Some(&agent));
            let _ = referer_host(&agent);
        }
    }
}
