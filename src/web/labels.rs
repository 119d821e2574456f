//! Codes in words: every market, category, content style, language, platform, fee model and
//! order status a page shows goes through here, so no page shows a raw code (UX.md: "codes are
//! never shown raw"). A code nobody listed (an order status a shop's export invented) shows as
//! the file wrote it.

use crate::kernel::markets::{CATEGORIES, LANGUAGES, MARKETS};
use crate::kernel::{ORDER_STATUSES, STYLES};
use crate::tenants::domain::{FEE_MODELS, PLATFORMS};
use crate::web::lang::Lang;

/// The catalogue's code lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Market,
    Category,
    Style,
    Language,
    Platform,
    FeeModel,
    OrderStatus,
}

impl List {
    pub const ALL: [List; 7] = [
        List::Market,
        List::Category,
        List::Style,
        List::Language,
        List::Platform,
        List::FeeModel,
        List::OrderStatus,
    ];

    /// The codes of the list.
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            List::Market => MARKETS,
            List::Category => CATEGORIES,
            List::Style => STYLES,
            List::Language => LANGUAGES,
            List::Platform => PLATFORMS,
            List::FeeModel => FEE_MODELS,
            List::OrderStatus => ORDER_STATUSES,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            List::Market => "market",
            List::Category => "category",
            List::Style => "style",
            List::Language => "language",
            List::Platform => "platform",
            List::FeeModel => "fee_model",
            List::OrderStatus => "order_status",
        }
    }

    /// How a code is written in this list: order statuses as the exports write them
    /// (`Completed`, `To ship`, `partially_refunded`) are one code in lower snake case.
    fn normalized(self, code: &str) -> String {
        match self {
            List::OrderStatus => code.trim().to_lowercase().replace([' ', '-'], "_"),
            _ => code.to_string(),
        }
    }
}

/// The code in words, in the page's language; an unlisted code as it is.
pub fn label(lang: Lang, list: List, code: &str) -> String {
    let normalized = list.normalized(code);
    if list.codes().contains(&normalized.as_str()) {
        lang.t(&format!("{}.{normalized}", list.prefix()))
    } else {
        code.to_string()
    }
}

/// Several codes in words, joined as the language lists things (`美国、英国`, `US, UK`); `—`
/// for none.
pub fn labels<S: AsRef<str>>(lang: Lang, list: List, codes: &[S]) -> String {
    if codes.is_empty() {
        return "—".into();
    }
    codes
        .iter()
        .map(|c| label(lang, list, c.as_ref()))
        .collect::<Vec<_>>()
        .join(lang.t("seller_creators.list_separator").as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_every_list_has_words_in_both_languages() {
        for list in List::ALL {
            for code in list.codes() {
                for lang in [Lang::ZhCn, Lang::En] {
                    let key = format!("{}.{code}", list.prefix());
                    let words = lang.t(&key);
                    assert!(
                        words != key && !words.is_empty(),
                        "{key} has no {lang:?} label"
                    );
                    assert_ne!(words, *code, "{key} in {lang:?} is the code itself");
                }
            }
        }
    }

    #[test]
    fn codes_read_as_words_and_unknown_ones_as_written() {
        assert_eq!(label(Lang::ZhCn, List::Style, "real_shot"), "实拍演示");
        assert_eq!(label(Lang::En, List::Language, "en"), "English");
        assert_eq!(
            labels(Lang::ZhCn, List::Category, &["home_decor", "toys"]),
            "家居装饰、玩具"
        );
        assert_eq!(labels::<&str>(Lang::En, List::Market, &[]), "—");
        assert_eq!(
            label(Lang::ZhCn, List::OrderStatus, "partially_refunded"),
            label(Lang::ZhCn, List::OrderStatus, "Partially refunded")
        );
        assert_eq!(label(Lang::En, List::OrderStatus, "To ship"), "To ship");
        assert_eq!(label(Lang::ZhCn, List::OrderStatus, "Completed"), "已完成");
        assert_eq!(label(Lang::ZhCn, List::OrderStatus, "On hold"), "On hold");
    }
}

/// What a status chip means, one colour each on every page (UX.md: "the same colours everywhere
/// for the same meaning"): not started, under way, waiting for someone's decision, done well,
/// stopped.
pub fn tone(code_or_key: &str) -> &'static str {
    // A message key (`campaign.state.running`) ends with the state's code.
    let code = code_or_key.rsplit('.').next().unwrap_or(code_or_key);
    match code {
        "draft" | "queued" | "proposed" | "undone" => "neutral",
        "submitted" | "matching" | "contracting" | "running" | "evaluating" | "accepted"
        | "sample_shipped" | "sample_delivered" | "in_review" | "published" | "tracking"
        | "validating" | "importing" | "open" | "finalized" => "progress",
        "pending" | "validated" | "shortlist_sent" | "awaiting_raters" | "review"
        | "partly_paid" => "attention",
        "closed" | "rated" | "settled" | "imported" | "active" | "completed" | "final" | "paid"
        | "delivered" => "ok",
        "cancelled" | "breached" | "failed" | "suspended" | "declined" | "withdrawn"
        | "disabled" => "stopped",
        _ => "neutral",
    }
}

#[cfg(test)]
mod tone_tests {
    use super::tone;
    use crate::campaigns::domain::CampaignState;
    use crate::contracts::domain::ContractState;
    use crate::creators::domain::ImportStatus;
    use crate::tenants::domain::TenantStatus;
    use crate::tracking::order_imports::domain::ImportState;

    #[test]
    fn every_state_of_every_machine_has_one_meaning_and_the_same_word_the_same_colour() {
        let mut codes: Vec<String> = Vec::new();
        codes.extend(CampaignState::ALL.iter().map(|s| s.code().to_string()));
        codes.extend(ContractState::ALL.iter().map(|s| s.code().to_string()));
        codes.extend(ImportState::ALL.iter().map(|s| s.code().to_string()));
        codes.extend(ImportStatus::ALL.iter().map(|s| s.label_key().to_string()));
        codes.extend(
            [
                TenantStatus::Pending,
                TenantStatus::Active,
                TenantStatus::Suspended,
            ]
            .iter()
            .map(|s| s.label_key().to_string()),
        );
        for code in &codes {
            let code = code.rsplit('.').next().unwrap();
            // Every state is named explicitly (the fallback is for codes nobody listed).
            let listed = ["draft", "queued", "proposed", "undone"].contains(&code)
                || tone(code) != "neutral";
            assert!(listed, "{code} has no meaning of its own");
        }
        // The same word means the same on every machine's page.
        assert_eq!(tone("campaign.state.cancelled"), tone("cancelled"));
        assert_eq!(tone("orders.state.failed"), "stopped");
        assert_eq!(tone("tenant.status.pending"), "attention");
        assert_eq!(tone("running"), "progress");
        assert_eq!(tone("closed"), "ok");
    }
}
