//! What an evidence file is, judged by its content (never by its name or the type the browser
//! claims), and how its name may appear in a response header.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::actions::MAX_EVIDENCE_BYTES;
use crate::kernel::text::{self, TextRule};

/// The kinds of file kept as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceType {
    Png,
    Jpeg,
    Webp,
    Pdf,
}

impl EvidenceType {
    pub fn content_type(self) -> &'static str {
        match self {
            EvidenceType::Png => "image/png",
            EvidenceType::Jpeg => "image/jpeg",
            EvidenceType::Webp => "image/webp",
            EvidenceType::Pdf => "application/pdf",
        }
    }

    /// The type a stored content type names (what `uploads.content_type` holds).
    pub fn from_content_type(raw: &str) -> Option<EvidenceType> {
        [
            EvidenceType::Png,
            EvidenceType::Jpeg,
            EvidenceType::Webp,
            EvidenceType::Pdf,
        ]
        .into_iter()
        .find(|t| t.content_type() == raw)
    }

    /// Images are shown in the page (and as thumbnails); a PDF is downloaded.
    pub fn is_image(self) -> bool {
        !matches!(self, EvidenceType::Pdf)
    }

    fn extension(self) -> &'static str {
        match self {
            EvidenceType::Png => "png",
            EvidenceType::Jpeg => "jpg",
            EvidenceType::Webp => "webp",
            EvidenceType::Pdf => "pdf",
        }
    }
}

/// The type by the file's first bytes: PNG's signature, JPEG's SOI marker followed by another
/// marker, a RIFF container of WEBP, or `%PDF-`. Anything else (text, HTML, SVG, GIF, zip…) is
/// None.
pub fn sniff(bytes: &[u8]) -> Option<EvidenceType> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(EvidenceType::Png)
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some(EvidenceType::Jpeg)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(EvidenceType::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(EvidenceType::Pdf)
    } else {
        None
    }
}

/// The file's type, or the message key saying why it cannot be kept: empty, larger than
/// [`MAX_EVIDENCE_BYTES`], or not an image or PDF.
pub fn check(bytes: &[u8]) -> Result<EvidenceType, &'static str> {
    if bytes.is_empty() {
        return Err("evidence.error.empty");
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err("evidence.error.too_big");
    }
    sniff(bytes).ok_or("evidence.error.unsupported_type")
}

/// The name kept for a file: its last path segment, without control characters, quotes or
/// backslashes, at most a line's length (the text rule); `evidence.<ext>` when nothing is left.
/// A name is never a reason to refuse a file.
pub fn clean_filename(raw: &str, kind: EvidenceType) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | '`' | '\\' | '/'))
        .take(TextRule::LINE.max)
        .collect();
    match text::check(&kept, TextRule::LINE) {
        Ok(name) if !name.is_empty() && name != "." && name != ".." => name.to_string(),
        _ => format!("evidence.{}", kind.extension()),
    }
}

/// RFC 8187's attr-char: everything else is percent-encoded in `filename*`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` (RFC 6266): inline for images, attachment for PDF, with an ASCII
/// `filename` fallback (anything else becomes `_`) and the exact name in `filename*`.
pub fn content_disposition(kind: EvidenceType, filename: &str) -> String {
    disposition(kind.is_image(), filename)
}

/// `Content-Disposition` for any stored file: `inline` or `attachment`, the ASCII fallback and
/// the exact name.
pub fn disposition(inline: bool, filename: &str) -> String {
    let disposition = if inline { "inline" } else { "attachment" };
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(filename, ATTR_CHAR);
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_kind_is_known_by_its_first_bytes() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(EvidenceType::Png)
        );
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Some(EvidenceType::Jpeg)
        );
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(EvidenceType::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(EvidenceType::Pdf));
    }

    #[test]
    fn text_html_svg_gif_zip_and_a_wave_file_are_refused() {
        for bytes in [
            &b"just some text, named photo.png"[..],
            b"<!doctype html><script>alert(1)</script>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"GIF89a\x01\0\x01\0",
            b"PK\x03\x04",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"RIFF",
        ] {
            assert_eq!(check(bytes), Err("evidence.error.unsupported_type"));
        }
    }

    #[test]
    fn empty_and_too_big_have_their_own_messages() {
        assert_eq!(check(b""), Err("evidence.error.empty"));
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_EVIDENCE_BYTES, b' ');
        assert_eq!(check(&big), Ok(EvidenceType::Pdf));
        big.push(b' ');
        assert_eq!(check(&big), Err("evidence.error.too_big"));
    }

    #[test]
    fn a_name_loses_its_path_quotes_and_control_characters() {
        let png = EvidenceType::Png;
        assert_eq!(clean_filename("../../etc/passwd", png), "passwd");
        assert_eq!(
            clean_filename("C:\\Users\\me\\截图 1.png", png),
            "截图 1.png"
        );
        assert_eq!(clean_filename("a\"b\r\nc.png", png), "abc.png");
        assert_eq!(clean_filename("", png), "evidence.png");
        assert_eq!(clean_filename("..", EvidenceType::Pdf), "evidence.pdf");
        assert_eq!(clean_filename(&"x".repeat(500), png).chars().count(), 200);
    }

    #[test]
    fn images_are_inline_and_pdfs_attachments_with_both_names() {
        assert_eq!(
            content_disposition(EvidenceType::Png, "截图 1.png"),
            "inline; filename=\"__ 1.png\"; filename*=UTF-8''%E6%88%AA%E5%9B%BE%201.png"
        );
        assert!(content_disposition(EvidenceType::Pdf, "a.pdf").starts_with("attachment;"));
    }

    proptest! {
        #[test]
        fn any_name_makes_a_header_value(raw in any::<String>()) {
            let name = clean_filename(&raw, EvidenceType::Jpeg);
            let header = content_disposition(EvidenceType::Jpeg, &name);
            prop_assert!(axum::http::HeaderValue::from_str(&header).is_ok());
            prop_assert!(!name.contains(['"', '/', '\\', '\r', '\n']));
            prop_assert!(!name.is_empty());
        }
    }
}
