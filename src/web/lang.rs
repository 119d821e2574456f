//! The UI language: zh-CN by default; English from `Accept-Language` or the switch (a cookie).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

pub const LANG_COOKIE: &str = "sextant_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        if code == "en" || code.starts_with("en-") {
            Some(Lang::En)
        } else if code == "zh" || code.starts_with("zh-") {
            Some(Lang::ZhCn)
        } else {
            None
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }

    /// The language's own name, shown on the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::ZhCn => "中文",
            Lang::En => "English",
        }
    }

    /// The colour class of a status chip for a state's code or label key (`web::labels::tone`).
    pub fn tone(self, code_or_key: &str) -> &'static str {
        crate::web::labels::tone(code_or_key)
    }

    /// The message for `key` from the catalogue (`locales/*.yml`).
    pub fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }

    /// The message for `key` with `%{name}` placeholders filled in.
    pub fn t_with(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in args {
            text = text.replace(&format!("%{{{name}}}"), value);
        }
        text
    }

    /// The cookie wins; then the first supported language of `Accept-Language` by quality.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookie_value(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
            return lang;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or(Lang::ZhCn)
    }
}

fn from_accept_language(header: &str) -> Option<Lang> {
    let mut choices: Vec<(f32, usize, Lang)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let lang = Lang::parse(pieces.next()?)?;
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some((q, i, lang))
        })
        .collect();
    choices.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    choices.first().map(|c| c.2)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(from_accept_language("en"), Some(Lang::En));
        assert_eq!(from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            from_accept_language("fr-FR,zh-CN;q=0.8,en;q=0.5"),
            Some(Lang::ZhCn)
        );
        assert_eq!(from_accept_language("zh;q=0.4,en;q=0.6"), Some(Lang::En));
        assert_eq!(from_accept_language("fr"), None);
        assert_eq!(from_accept_language("en;q=0"), None);
    }
}

/// Whether `key` is a message in both catalogues (for the domain modules' tests of the keys their
/// enums and lists build).
#[cfg(test)]
pub fn in_both_catalogues(key: &str) -> bool {
    use std::collections::BTreeSet;
    use std::sync::OnceLock;
    static BOTH: OnceLock<BTreeSet<String>> = OnceLock::new();
    BOTH.get_or_init(|| {
        let zh = catalogue_tests::catalogue("zh-CN.yml");
        let en = catalogue_tests::catalogue("en.yml");
        zh.intersection(&en).cloned().collect()
    })
    .contains(key)
}

#[cfg(test)]
mod catalogue_tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::Lang;

    fn keys(value: &serde_yaml::Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let serde_yaml::Value::Mapping(map) = value {
            for (k, v) in map {
                let k = match k {
                    serde_yaml::Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                if k == "_version" {
                    continue;
                }
                let full = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_mapping() {
                    keys(v, &full, out);
                } else {
                    out.insert(full);
                }
            }
        }
    }

    pub(super) fn catalogue(file: &str) -> BTreeSet<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(file);
        let text = std::fs::read_to_string(path).expect("catalogue");
        let value: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
        let mut out = BTreeSet::new();
        keys(&value, "", &mut out);
        out
    }

    /// Every literal key the templates and the code ask for: `t("…")` calls.
    fn used_keys() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = BTreeSet::new();
        let mut stack = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).expect("dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (i, _) in text.match_indices("t(\"") {
                    let rest = &text[i + 3..];
                    let key: String = rest.chars().take_while(|c| *c != '"').collect();
                    let preceded = text[..i].chars().last().unwrap_or(' ');
                    // `t("…")`, `.t("…")`, `t_with("…")`, not `format!("…")` or `get("…")`.
                    if (preceded == '.' || preceded == ' ' || preceded == '(')
                        && key.contains('.')
                        && !key.contains(' ')
                    {
                        out.insert(key);
                    }
                }
            }
        }
        out
    }

    /// Every string literal in the Rust sources that looks like a key of a catalogue section
    /// (`"profile.error.shop_url"`, `"flash.profile_saved"`, …).
    fn literal_keys(sections: &BTreeSet<String>) -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).expect("dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let pieces: Vec<&str> = text.split('"').collect();
                for (i, literal) in pieces.iter().enumerate().skip(1).step_by(2) {
                    // Audit action names (`Entry::new("campaign.create", …)`,
                    // `actor.audit("shortlist.decide", …)`) are not messages.
                    let before = pieces[i - 1].trim_end();
                    if before.ends_with("Entry::new(") || before.ends_with(".audit(") {
                        continue;
                    }
                    let looks_like_key = literal.contains('.')
                        && literal
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                        && !literal.ends_with('.');
                    let section = literal.split('.').next().unwrap_or_default();
                    if looks_like_key && sections.contains(section) {
                        out.insert(literal.to_string());
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_message_key_in_the_code_exists_in_both_languages() {
        let zh = catalogue("zh-CN.yml");
        let sections: BTreeSet<String> = zh
            .iter()
            .map(|k| k.split('.').next().unwrap_or_default().to_string())
            .collect();
        // `tenant.*` literals are audit action names; the tenant status keys are added below.
        let sections: BTreeSet<String> = sections.into_iter().filter(|s| s != "tenant").collect();
        let mut keys: BTreeSet<String> = literal_keys(&sections)
            .into_iter()
            .filter(|k| !k.ends_with(".html"))
            // Webhook event types (`shortlist.sent`, `tier.changed`, …) are wire names, not messages.
            .filter(|k| crate::webhooks::domain::EventKind::parse(k).is_none())
            // A prefix of keys (`error.404` → `error.404.title`) is used to build them.
            .filter(|k| !zh.iter().any(|z| z.starts_with(&format!("{k}."))))
            .collect();
        assert!(
            keys.contains("profile.error.shop_url"),
            "the scan finds error keys"
        );
        // Keys built from the domain's lists.
        use crate::kernel::markets::{CATEGORIES, MARKETS};
        use crate::tenants::domain::*;
        for (prefix, values) in [
            ("category", CATEGORIES),
            ("market", MARKETS),
            ("fee_model", FEE_MODELS),
            ("platform", PLATFORMS),
            ("date_order", DATE_ORDERS),
        ] {
            for v in values {
                keys.insert(format!("{prefix}.{v}"));
            }
        }
        for role in [
            "owner",
            "operator",
            "viewer",
            "admin",
            "account_manager",
            "finance",
        ] {
            keys.insert(format!("role.{role}"));
        }
        for status in ["pending", "active", "suspended"] {
            keys.insert(format!("tenant.status.{status}"));
        }
        let en = catalogue("en.yml");
        let missing: Vec<_> = keys
            .iter()
            .filter(|k| !zh.contains(*k) || !en.contains(*k))
            .collect();
        assert!(
            missing.is_empty(),
            "missing from the catalogue: {missing:?}"
        );
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let zh = catalogue("zh-CN.yml");
        let en = catalogue("en.yml");
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "zh only: {only_zh:?}; en only: {only_en:?}"
        );
    }

    #[test]
    fn every_key_the_ui_uses_is_in_the_catalogue_and_translates() {
        let zh = catalogue("zh-CN.yml");
        let used = used_keys();
        assert!(
            used.len() > 40,
            "found the keys the templates use: {used:?}"
        );
        let en = catalogue("en.yml");
        let missing: Vec<_> = used
            .iter()
            .filter(|k| !zh.contains(*k) || !en.contains(*k))
            .collect();
        assert!(
            missing.is_empty(),
            "missing from the catalogue: {missing:?}"
        );
        for key in &used {
            for lang in [Lang::ZhCn, Lang::En] {
                let text = lang.t(key);
                assert!(
                    !text.is_empty() && !text.ends_with(key.as_str()),
                    "{key} in {lang:?}: {text}"
                );
            }
        }
    }
}
