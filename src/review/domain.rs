//! Content review's rules (SPEC §10): the deliverable types, languages and the naming convention
//! `{SKU}_{type}_{lang}_v{n}`; which files a deliverable may be; a deliverable's state from its
//! reviews; which checklist items apply to a campaign; and when a change request is one too many.

use crate::evidence::domain::EvidenceType;

/// What a deliverable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Script,
    DraftVideo,
    FinalVideo,
    Caption,
    Cover,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Script,
        Kind::DraftVideo,
        Kind::FinalVideo,
        Kind::Caption,
        Kind::Cover,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Script => "script",
            Kind::DraftVideo => "draft_video",
            Kind::FinalVideo => "final_video",
            Kind::Caption => "caption",
            Kind::Cover => "cover",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == raw.trim())
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Kind::Script => "review.kind.script",
            Kind::DraftVideo => "review.kind.draft_video",
            Kind::FinalVideo => "review.kind.final_video",
            Kind::Caption => "review.kind.caption",
            Kind::Cover => "review.kind.cover",
        }
    }
}

/// The languages a deliverable may be in (ISO 639-1), in the order the form offers them.
pub const LANGS: &[&str] = &[
    "en", "zh", "de", "fr", "es", "it", "nl", "pl", "pt", "ja", "ko", "ar", "th", "vi", "id", "ms",
];

pub fn lang(raw: &str) -> Result<&'static str, &'static str> {
    let raw = raw.trim().to_ascii_lowercase();
    LANGS
        .iter()
        .find(|l| **l == raw)
        .copied()
        .ok_or("review.error.lang")
}

/// The SKU part of a name: the terms' sample SKU, else the campaign's code; characters other
/// than ASCII letters, digits, `-` and `.` become `-` (names travel in file names and headers).
pub fn sku(sample_sku: Option<&str>, campaign_code: &str) -> String {
    let raw = sample_sku
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(campaign_code.trim());
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() {
        "SKU".into()
    } else {
        clean
    }
}

/// `{SKU}_{type}_{lang}_v{n}` (the seed's SKU_类型_语言_版本), the language upper-case.
pub fn name(sku: &str, kind: Kind, lang: &str, version: i32) -> String {
    format!(
        "{sku}_{}_{}_v{version}",
        kind.code(),
        lang.to_ascii_uppercase()
    )
}

/// A file a deliverable may be: what the evidence check takes (PNG, JPEG, WebP, PDF) and MP4 or
/// QuickTime video and UTF-8 plain text (a script or caption), found by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Evidence(EvidenceType),
    Mp4,
    QuickTime,
    Text,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Evidence(e) => e.content_type(),
            FileType::Mp4 => "video/mp4",
            FileType::QuickTime => "video/quicktime",
            FileType::Text => "text/plain; charset=utf-8",
        }
    }

    pub fn from_content_type(raw: &str) -> Option<FileType> {
        match raw {
            "video/mp4" => Some(FileType::Mp4),
            "video/quicktime" => Some(FileType::QuickTime),
            "text/plain; charset=utf-8" => Some(FileType::Text),
            other => EvidenceType::from_content_type(other).map(FileType::Evidence),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Evidence(EvidenceType::Png) => "png",
            FileType::Evidence(EvidenceType::Jpeg) => "jpg",
            FileType::Evidence(EvidenceType::Webp) => "webp",
            FileType::Evidence(EvidenceType::Pdf) => "pdf",
            FileType::Mp4 => "mp4",
            FileType::QuickTime => "mov",
            FileType::Text => "txt",
        }
    }

    /// Shown inline (images only); everything else is downloaded.
    pub fn inline(self) -> bool {
        matches!(self, FileType::Evidence(e) if e.is_image())
    }
}

/// At most this many bytes per file (longer videos go as a link to the team's drive).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The file's type by its content, or the message key saying why it is refused.
pub fn check_file(bytes: &[u8]) -> Result<FileType, &'static str> {
    if bytes.is_empty() {
        return Err("review.error.file_empty");
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err("review.error.file_too_big");
    }
    if let Some(e) = crate::evidence::domain::sniff(bytes) {
        return Ok(FileType::Evidence(e));
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Ok(if &bytes[8..10] == b"qt" {
            FileType::QuickTime
        } else {
            FileType::Mp4
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Ok(FileType::Text)
        }
        _ => Err("review.error.file_type"),
    }
}

/// A link instead of a file: http(s) with a real host (the check shop and product links get).
pub fn link(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if crate::tenants::domain::is_shop_url(raw) {
        Ok(raw.to_string())
    } else {
        Err("review.error.link")
    }
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for its self-check.
    Submitted,
    /// Self-checked, waiting for the cross-review.
    SelfChecked,
    Approved,
    ChangesRequested,
}

impl State {
    /// From the version's self-check (did it pass) and cross-review outcome.
    pub fn of(self_checked: bool, cross_review: Option<&str>) -> State {
        match (self_checked, cross_review) {
            (_, Some("approved")) => State::Approved,
            (_, Some(_)) => State::ChangesRequested,
            (true, None) => State::SelfChecked,
            (false, None) => State::Submitted,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::SelfChecked => "self_checked",
            State::Approved => "approved",
            State::ChangesRequested => "changes_requested",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            State::Submitted => "review.state.submitted",
            State::SelfChecked => "review.state.self_checked",
            State::Approved => "review.state.approved",
            State::ChangesRequested => "review.state.changes_requested",
        }
    }
}

/// Whether a checklist item (for `platform`, or every platform when None; for `markets`, or
/// every market when empty) applies to a campaign on `shop_platform` for `campaign_markets`.
pub fn applies(
    platform: Option<&str>,
    markets: &[String],
    shop_platform: Option<&str>,
    campaign_markets: &[String],
) -> bool {
    let platform_ok = platform.is_none_or(|p| shop_platform == Some(p));
    let market_ok = markets.is_empty() || markets.iter().any(|m| campaign_markets.contains(m));
    platform_ok && market_ok
}

/// The `n`th change request of a deliverable (1-based) is beyond the contract's included
/// revisions when `n > included`: each one past the limit records one
/// `revision_limit_exceeded` event.
pub fn beyond_included(nth_request: i64, included: i64) -> bool {
    nth_request > included
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_follow_sku_type_lang_version() {
        let sku = sku(Some("LM-LAMP 01"), "LUMI-DEMO-06");
        assert_eq!(sku, "LM-LAMP-01");
        assert_eq!(
            name(&sku, Kind::FinalVideo, "en", 2),
            "LM-LAMP-01_final_video_EN_v2"
        );
        // No sample: the campaign's code.
        assert_eq!(
            name(&super::sku(None, "LUMI-DEMO-06"), Kind::Script, "zh", 1),
            "LUMI-DEMO-06_script_ZH_v1"
        );
        assert_eq!(super::sku(Some("  "), "NP/2026"), "NP-2026");
        assert_eq!(super::sku(None, ""), "SKU");
    }

    #[test]
    fn kinds_and_languages_are_a_closed_list() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.code()), Some(k));
        }
        assert_eq!(Kind::parse("video"), None);
        assert_eq!(lang(" EN "), Ok("en"));
        assert_eq!(lang("english"), Err("review.error.lang"));
        assert_eq!(lang(""), Err("review.error.lang"));
    }

    #[test]
    fn files_are_checked_by_content() {
        let mut mp4 = vec![0, 0, 0, 0x18];
        mp4.extend_from_slice(b"ftypisom\0\0\0\0");
        assert_eq!(check_file(&mp4), Ok(FileType::Mp4));
        let mut mov = vec![0, 0, 0, 0x14];
        mov.extend_from_slice(b"ftypqt  \0\0\0\0");
        assert_eq!(check_file(&mov), Ok(FileType::QuickTime));
        assert_eq!(
            check_file("开场 3 秒：\n台词".as_bytes()),
            Ok(FileType::Text)
        );
        assert_eq!(
            check_file(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
            Ok(FileType::Evidence(EvidenceType::Pdf))
        );
        assert_eq!(
            check_file(b"MZ\x90\x00\x03\x00"),
            Err("review.error.file_type")
        );
        assert_eq!(check_file(b""), Err("review.error.file_empty"));
        assert_eq!(
            check_file(&vec![b'a'; MAX_FILE_BYTES + 1]),
            Err("review.error.file_too_big")
        );
        for t in [FileType::Mp4, FileType::QuickTime, FileType::Text] {
            assert_eq!(FileType::from_content_type(t.content_type()), Some(t));
        }
    }

    #[test]
    fn links_are_http_with_a_host() {
        assert!(link("https://drive.example.invalid/v/123").is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.example/a",
            "https://localhost/x",
            "drive",
        ] {
            assert_eq!(link(bad), Err("review.error.link"), "{bad}");
        }
    }

    #[test]
    fn state_follows_the_reviews() {
        assert_eq!(State::of(false, None), State::Submitted);
        assert_eq!(State::of(true, None), State::SelfChecked);
        assert_eq!(State::of(true, Some("approved")), State::Approved);
        assert_eq!(
            State::of(true, Some("changes_requested")),
            State::ChangesRequested
        );
    }

    #[test]
    fn checklist_items_apply_by_platform_and_market() {
        let us = vec!["US".to_string()];
        let ae = vec!["AE".to_string(), "SA".to_string()];
        assert!(applies(None, &[], Some("tiktok_shop"), &us));
        assert!(applies(Some("tiktok_shop"), &[], Some("tiktok_shop"), &us));
        assert!(!applies(Some("amazon"), &[], Some("tiktok_shop"), &us));
        assert!(!applies(Some("amazon"), &[], None, &us));
        assert!(applies(None, &ae, None, &ae));
        assert!(!applies(
            None,
            &["AE".to_string()],
            Some("tiktok_shop"),
            &us
        ));
    }

    proptest! {
        /// Exactly `requests − included` of a deliverable's requests are beyond the limit.
        #[test]
        fn one_event_per_request_past_the_limit(included in 0i64..6, requests in 0i64..12) {
            let beyond = (1..=requests).filter(|n| beyond_included(*n, included)).count() as i64;
            prop_assert_eq!(beyond, (requests - included).max(0));
        }
    }
}
