//! Uploaded text as a stream: the encoding sniffed from the first block (the creator import's
//! rule), decoded to UTF-8 on the fly, and the physical line of any byte of the decoded text, so a
//! million-row export is read in constant memory with the right line numbers.

use std::collections::VecDeque;
use std::io::{self, Chain, Cursor, Read};

use encoding_rs::{CoderResult, Decoder, Encoding};

use crate::creators::import;

/// How much of an upload is read up front to decide its encoding and delimiter.
pub const SNIFF_BYTES: usize = 64 * 1024;
const CHUNK: usize = 32 * 1024;

/// Why an upload is not delimited text at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotText {
    Empty,
    Binary,
    /// "xlsx" or "xls": a workbook sent where a CSV was expected.
    Spreadsheet(&'static str),
}

/// An upload opened as text: decoded UTF-8 with line numbers, and what was sniffed.
pub struct TextStream<R> {
    pub reader: DecodedReader<Chain<Cursor<Vec<u8>>, R>>,
    pub encoding: &'static Encoding,
    pub delimiter: u8,
}

/// Reads the first block, decides the encoding (unless given) and the delimiter, and hands back a
/// reader over the whole upload, that block included.
pub fn open<R: Read>(
    mut read: R,
    encoding: Option<&'static Encoding>,
) -> io::Result<Result<TextStream<R>, NotText>> {
    let mut prefix = vec![0; SNIFF_BYTES];
    let filled = fill(&mut read, &mut prefix)?;
    prefix.truncate(filled);
    if let Some(kind) = import::spreadsheet_kind(&prefix) {
        return Ok(Err(NotText::Spreadsheet(kind)));
    }
    let (text, label) = import::decode(&prefix);
    if import::looks_binary(&prefix, &text) {
        return Ok(Err(NotText::Binary));
    }
    if text
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .is_empty()
    {
        return Ok(Err(NotText::Empty));
    }
    let delimiter = sniff_delimiter(&text);
    let encoding = encoding
        .or_else(|| Encoding::for_label(label.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    Ok(Ok(TextStream {
        reader: DecodedReader::new(Cursor::new(prefix).chain(read), encoding),
        encoding,
        delimiter,
    }))
}

/// The encoding of a whole upload read once through (constant memory): a BOM decides; else UTF-8
/// when every byte is valid UTF-8 (an end cut inside a character included, as the creator import
/// reads it), else GB18030. For uploads stored first and parsed after, so a GB18030 file whose
/// first block happens to be plain ASCII is still decoded right.
pub fn detect_encoding<R: Read>(mut read: R) -> io::Result<&'static Encoding> {
    let mut buf = vec![0; CHUNK];
    let mut carry = 0;
    let mut first = true;
    loop {
        let n = fill(&mut read, &mut buf[carry..])?;
        let filled = carry + n;
        if first {
            first = false;
            if let Some((encoding, _)) = Encoding::for_bom(&buf[..filled]) {
                return Ok(encoding);
            }
        }
        let at_end = filled < buf.len();
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(encoding_rs::GB18030),
        }
        if at_end {
            return Ok(encoding_rs::UTF_8);
        }
    }
}

/// The separator the header line uses most: ',' normally, ';' or a tab from Excel in some locales.
pub fn sniff_delimiter(text: &str) -> u8 {
    let first_line = text
        .trim_start_matches(['\u{feff}', '\r', '\n'])
        .split(['\r', '\n'])
        .next()
        .unwrap_or("");
    let count = |d: char| first_line.matches(d).count();
    let (comma, tab, semicolon) = (count(','), count('\t'), count(';'));
    if tab > comma && tab >= semicolon {
        b'\t'
    } else if semicolon > comma {
        b';'
    } else {
        b','
    }
}

/// Reads until `buf` is full or the input ends; the count read.
fn fill<R: Read>(read: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match read.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Decodes any `encoding_rs` encoding to UTF-8 as it is read (the encoding's BOM dropped), and
/// remembers where lines start in the decoded text.
pub struct DecodedReader<R> {
    inner: R,
    decoder: Decoder,
    raw: Box<[u8]>,
    raw_start: usize,
    raw_end: usize,
    out: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    input_done: bool,
    finished: bool,
    lines: LineIndex,
}

impl<R: Read> DecodedReader<R> {
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        DecodedReader {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            raw: vec![0; CHUNK].into_boxed_slice(),
            raw_start: 0,
            raw_end: 0,
            // UTF-8 never takes more than three bytes per input byte; a whole chunk always fits.
            out: vec![0; CHUNK * 3 + 16].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            input_done: false,
            finished: false,
            lines: LineIndex::new(),
        }
    }

    /// The 1-based physical line of the first character at or after decoded byte `byte` that is
    /// not a line break: where a CSV record reported at `byte` starts. Calls must come with
    /// non-decreasing offsets (records arrive in order); that is what keeps the index small.
    pub fn line_at(&mut self, byte: u64) -> usize {
        self.lines.line_at(byte)
    }

    fn refill(&mut self) -> io::Result<bool> {
        if self.finished {
            return Ok(false);
        }
        if self.raw_start == self.raw_end && !self.input_done {
            let n = loop {
                match self.inner.read(&mut self.raw) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            self.raw_start = 0;
            self.raw_end = n;
            self.input_done = n == 0;
        }
        let (result, read, written, _) = self.decoder.decode_to_utf8(
            &self.raw[self.raw_start..self.raw_end],
            &mut self.out,
            self.input_done,
        );
        self.raw_start += read;
        self.out_start = 0;
        self.out_end = written;
        self.lines.scan(&self.out[..written]);
        if self.input_done && result == CoderResult::InputEmpty {
            self.finished = true;
        }
        Ok(true)
    }
}

impl<R: Read> Read for DecodedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_start == self.out_end {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.out[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// Line starts (offset of a line's first non-break byte, its line number) between the last record
/// asked about and what has been decoded so far. A line break is "\n", "\r\n" or a lone "\r", as
/// the csv crate reads them; its own line counter drifts on CRLF and blank lines.
struct LineIndex {
    starts: VecDeque<(u64, usize)>,
    offset: u64,
    line: usize,
    prev: u8,
}

impl LineIndex {
    fn new() -> Self {
        LineIndex {
            starts: VecDeque::new(),
            offset: 0,
            line: 1,
            prev: b'\n',
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' if self.prev == b'\r' => {}
                b'\n' | b'\r' => self.line += 1,
                _ if matches!(self.prev, b'\r' | b'\n') => {
                    self.starts.push_back((self.offset, self.line));
                }
                _ => {}
            }
            self.prev = b;
            self.offset += 1;
        }
    }

    fn line_at(&mut self, byte: u64) -> usize {
        while self.starts.front().is_some_and(|&(start, _)| start < byte) {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes per read, to cross every buffer boundary.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn decode_all(bytes: &[u8], encoding: &'static Encoding, step: usize) -> String {
        let mut reader = DecodedReader::new(Trickle { data: bytes, step }, encoding);
        let mut out = String::new();
        reader.read_to_string(&mut out).expect("decodes");
        out
    }

    #[test]
    fn gb18030_and_utf16_decode_across_tiny_reads() {
        let text = "订单,金额\r\n莉莉的家,1,234.50\n".repeat(50);
        let (gb, _, _) = encoding_rs::GB18030.encode(&text);
        for step in [1, 2, 3, 7, 4096] {
            assert_eq!(decode_all(&gb, encoding_rs::GB18030, step), text, "{step}");
        }
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_all(&utf16, encoding_rs::UTF_16LE, 5), text);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(text.as_bytes());
        assert_eq!(decode_all(&bom, encoding_rs::UTF_8, 1), text);
    }

    #[test]
    fn invalid_utf8_comes_out_as_replacement_characters() {
        assert_eq!(
            decode_all(b"ab\xFFcd", encoding_rs::UTF_8, 2),
            "ab\u{FFFD}cd"
        );
    }

    #[test]
    fn the_whole_file_decides_the_encoding() {
        let mut late_gb = b"Order ID,Product Name\n".repeat(10_000);
        let (gb, _, _) = encoding_rs::GB18030.encode("1,口红\n");
        late_gb.extend(gb.iter());
        assert_eq!(
            detect_encoding(Trickle {
                data: &late_gb,
                step: 999
            })
            .expect("reads"),
            encoding_rs::GB18030
        );
        let utf8 = "名称\n".repeat(20_000);
        for step in [1, 3, 1000] {
            assert_eq!(
                detect_encoding(Trickle {
                    data: utf8.as_bytes(),
                    step
                })
                .expect("reads"),
                encoding_rs::UTF_8
            );
        }
        assert_eq!(
            detect_encoding(&b"\xFF\xFEa\0"[..]).expect("reads"),
            encoding_rs::UTF_16LE
        );
        assert_eq!(
            detect_encoding(&"ab名".as_bytes()[..4]).expect("reads"),
            encoding_rs::UTF_8
        );
    }

    #[test]
    fn line_starts_skip_breaks_before_a_record() {
        let mut index = LineIndex::new();
        index.scan(b"head\r\n\r\nrow1\rrow2\n\"a\nb\"\n\nlast");
        assert_eq!(index.line_at(0), 1);
        // A record reported at the CRLF before it still starts on the next line.
        assert_eq!(index.line_at(4), 3);
        assert_eq!(index.line_at(13), 4);
        assert_eq!(index.line_at(18), 5);
        assert_eq!(index.line_at(25), 8);
        assert_eq!(index.line_at(100), 8);
    }

    #[test]
    fn the_delimiter_is_what_the_header_uses_most() {
        assert_eq!(sniff_delimiter("a,b;c\n1;2;3;4;5"), b',');
        assert_eq!(sniff_delimiter("\u{feff}a;b;c\n"), b';');
        assert_eq!(sniff_delimiter("\r\na\tb\tc,d"), b'\t');
        assert_eq!(sniff_delimiter("single"), b',');
    }

    #[test]
    fn empty_binary_and_workbook_uploads_are_refused() {
        let refused = |bytes: &[u8]| open(bytes, None).expect("reads").err();
        assert_eq!(refused(b""), Some(NotText::Empty));
        assert_eq!(refused(b"\xEF\xBB\xBF\r\n "), Some(NotText::Empty));
        assert_eq!(refused(b"a\0b"), Some(NotText::Binary));
        assert_eq!(
            refused(b"PK\x03\x04zip"),
            Some(NotText::Spreadsheet("xlsx"))
        );
        let stream = open(&b"a;b\n1;2"[..], None).expect("reads").expect("text");
        assert_eq!(
            (stream.encoding, stream.delimiter),
            (encoding_rs::UTF_8, b';')
        );
    }
}
