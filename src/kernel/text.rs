//! Text as people type it into forms, checked the same way everywhere: trimmed, no control
//! characters (NUL included: PostgreSQL cannot keep it in `text` or `jsonb`, and nobody means one)
//! except tab and line breaks in text areas, and at most so many characters, the limit named in
//! the message. Every limit lives here, so a field's rule is one word at the place it is read.
//! Right-to-left marks, emoji and any other printable Unicode are ordinary text.

use super::FieldErrors;

/// How long a text field may be, and whether it is a text area (tab and line breaks allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// In characters (Unicode scalar values), after trimming.
    pub max: usize,
    /// A text area: tab, line feed and carriage return are kept.
    pub multiline: bool,
    /// The message key, whose text names `max`.
    too_long: &'static str,
}

impl TextRule {
    /// A single line: titles, names, SKUs, places, short codes.
    pub const LINE: TextRule = TextRule {
        max: 200,
        multiline: false,
        too_long: "error.text.at_most_200",
    };
    /// A person's or company's display name, as menus and lists show it.
    pub const SHORT: TextRule = TextRule {
        max: 80,
        multiline: false,
        too_long: "error.text.at_most_80",
    };
    /// An e-mail address (RFC 5321's path limit).
    pub const EMAIL: TextRule = TextRule {
        max: 254,
        multiline: false,
        too_long: "error.text.at_most_254",
    };
    /// A web address.
    pub const URL: TextRule = TextRule {
        max: 2_048,
        multiline: false,
        too_long: "error.text.at_most_2048",
    };
    /// A reason or note: a paragraph or a few.
    pub const NOTE: TextRule = TextRule {
        max: 5_000,
        multiline: true,
        too_long: "error.text.at_most_5000",
    };
    /// A brief or a list of pitfalls: a page or a few.
    pub const LONG: TextRule = TextRule {
        max: 20_000,
        multiline: true,
        too_long: "error.text.at_most_20000",
    };
    /// A password as typed (never trimmed, never stored: only its hash is).
    pub const PASSWORD: TextRule = TextRule {
        max: 200,
        multiline: false,
        too_long: "password.error.too_long",
    };

    /// Every rule, for the catalogue test.
    pub const ALL: [TextRule; 7] = [
        TextRule::SHORT,
        TextRule::LINE,
        TextRule::EMAIL,
        TextRule::URL,
        TextRule::NOTE,
        TextRule::LONG,
        TextRule::PASSWORD,
    ];

    /// The message key when the text is longer than [`max`](TextRule::max).
    pub fn too_long_key(self) -> &'static str {
        self.too_long
    }
}

/// The message key for a control character where none may be.
pub const CONTROL_KEY: &str = "error.text.control";

/// Whether `c` may stand in a field under `rule`.
fn allowed(c: char, rule: TextRule) -> bool {
    !c.is_control() || (rule.multiline && matches!(c, '\t' | '\n' | '\r'))
}

/// The text trimmed, or the message key saying why it cannot be kept: a control character first
/// (the more basic fault), then the length.
pub fn check(raw: &str, rule: TextRule) -> Result<&str, &'static str> {
    let s = raw.trim();
    if !s.chars().all(|c| allowed(c, rule)) {
        return Err(CONTROL_KEY);
    }
    if s.chars().nth(rule.max).is_some() {
        return Err(rule.too_long);
    }
    Ok(s)
}

/// Like [`check`], and empty text (after trimming) is `empty_key`: for a required field.
pub fn required<'a>(
    raw: &'a str,
    rule: TextRule,
    empty_key: &'static str,
) -> Result<&'a str, &'static str> {
    match check(raw, rule)? {
        "" => Err(empty_key),
        s => Ok(s),
    }
}

/// Like [`check`] for a password: the same rules, nothing trimmed.
pub fn check_password(raw: &str) -> Result<&str, &'static str> {
    let rule = TextRule::PASSWORD;
    if !raw.chars().all(|c| allowed(c, rule)) {
        return Err(CONTROL_KEY);
    }
    if raw.chars().nth(rule.max).is_some() {
        return Err(rule.too_long);
    }
    Ok(raw)
}

/// [`check`]s `raw` and records the message under `field` (unless the field has one already: the
/// first is usually the most basic); returns the trimmed text either way, so the caller can go
/// on checking the other fields.
pub fn field(errors: &mut FieldErrors, field: &str, raw: &str, rule: TextRule) -> String {
    match check(raw, rule) {
        Ok(s) => s.to_string(),
        Err(key) => {
            errors.entry(field.to_string()).or_insert(key);
            raw.trim().to_string()
        }
    }
}

/// The message for the first of `fields` (name, text, rule) that breaks its rule: for forms that
/// answer one message at a time.
pub fn first_fault(fields: &[(&str, &str, TextRule)]) -> Option<(String, &'static str)> {
    fields.iter().find_map(|(name, raw, rule)| {
        check(raw, *rule)
            .err()
            .map(|key| ((*name).to_string(), key))
    })
}

/// Checks every `(name, text, rule)` and records each fault, keeping messages already recorded.
pub fn fields(errors: &mut FieldErrors, fields: &[(&str, &str, TextRule)]) {
    for (name, raw, rule) in fields {
        if let Err(key) = check(raw, *rule) {
            errors.entry((*name).to_string()).or_insert(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters_are_refused_but_text_areas_keep_tabs_and_line_breaks() {
        for bad in [
            "a\0b",
            "\u{1}",
            "x\u{1b}[31m",
            "tab\there",
            "line\nbreak",
            "\u{7f}",
            "a\u{85}b",
        ] {
            assert_eq!(check(bad, TextRule::LINE), Err(CONTROL_KEY), "{bad:?}");
        }
        assert_eq!(check("a\0b", TextRule::NOTE), Err(CONTROL_KEY));
        assert_eq!(check("x\u{1b}", TextRule::LONG), Err(CONTROL_KEY));
        assert_eq!(
            check("first\r\nsecond\tthird", TextRule::NOTE),
            Ok("first\r\nsecond\tthird")
        );
        // Trimmed first: a pasted trailing newline is no fault in a single line.
        assert_eq!(check("  Lumi Home\n", TextRule::LINE), Ok("Lumi Home"));
    }

    #[test]
    fn rtl_marks_emoji_and_any_script_are_ordinary_text() {
        for good in [
            "\u{202e}olleh",
            "محمد\u{200f}",
            "🦊 Fox Home 👩‍👩‍👧",
            "张伟",
            "Zoë\u{200d}",
        ] {
            assert_eq!(check(good, TextRule::LINE), Ok(good), "{good:?}");
        }
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let at_limit = "界".repeat(200);
        assert_eq!(check(&at_limit, TextRule::LINE), Ok(at_limit.as_str()));
        let over = "a".repeat(201);
        assert_eq!(check(&over, TextRule::LINE), Err("error.text.at_most_200"));
        let huge = "x".repeat(100 * 1024);
        for rule in TextRule::ALL {
            assert_eq!(check(&huge, rule), Err(rule.too_long_key()));
        }
        assert_eq!(
            check_password(&"p".repeat(201)),
            Err("password.error.too_long")
        );
        assert_eq!(check_password(" spaced "), Ok(" spaced "));
        assert_eq!(check_password("nul\0"), Err(CONTROL_KEY));
    }

    #[test]
    fn field_keeps_the_first_message_and_returns_the_trimmed_text() {
        let mut e = FieldErrors::new();
        e.insert("title".into(), "campaign.error.required");
        assert_eq!(field(&mut e, "title", " a\0 ", TextRule::LINE), "a\0");
        assert_eq!(e["title"], "campaign.error.required");
        assert_eq!(field(&mut e, "name", " Ann ", TextRule::LINE), "Ann");
        assert!(!e.contains_key("name"));
        fields(
            &mut e,
            &[
                ("note", "\u{1}", TextRule::NOTE),
                ("ok", "fine", TextRule::LINE),
            ],
        );
        assert_eq!(e["note"], CONTROL_KEY);
        assert!(!e.contains_key("ok"));
        assert_eq!(
            first_fault(&[("a", "fine", TextRule::LINE), ("b", "\0", TextRule::LINE)]),
            Some(("b".to_string(), CONTROL_KEY))
        );
    }

    #[test]
    fn every_message_is_in_both_catalogues_and_names_its_limit() {
        use crate::web::lang::Lang;
        assert!(crate::web::lang::in_both_catalogues(CONTROL_KEY));
        for rule in TextRule::ALL {
            let key = rule.too_long_key();
            assert!(crate::web::lang::in_both_catalogues(key), "{key}");
            for lang in [Lang::ZhCn, Lang::En] {
                let text = lang.t(key);
                assert!(
                    text.contains(&rule.max.to_string()),
                    "{key} in {lang:?} should name {}: {text}",
                    rule.max
                );
            }
        }
    }
}
