//! The campaign's tabs (UX.md): one strip on every page of a campaign — overview, brief,
//! matching (staff), shortlist, collaborations, imports — shown in every state, so a person never
//! depends on a state's buttons to find a page. Each page that belongs to a campaign renders it.

use askama::Template;
use uuid::Uuid;

use crate::tenants::Access;
use crate::web::lang::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Brief,
    Matching,
    Shortlist,
    Collaborations,
    Imports,
    Report,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Brief,
        Tab::Matching,
        Tab::Shortlist,
        Tab::Collaborations,
        Tab::Imports,
        Tab::Report,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Brief => "brief",
            Tab::Matching => "matching",
            Tab::Shortlist => "shortlist",
            Tab::Collaborations => "collaborations",
            Tab::Imports => "imports",
            Tab::Report => "report",
        }
    }

    /// The page under `/t/{slug}/campaigns/{id}`.
    fn path(self) -> &'static str {
        match self {
            Tab::Overview => "/dashboard",
            Tab::Brief => "",
            Tab::Matching => "/matching",
            Tab::Shortlist => "/shortlist",
            Tab::Collaborations => "/collaborations",
            Tab::Imports => "/snapshots/import",
            Tab::Report => "/report",
        }
    }

    /// Whether a person with this access may open the tab's page: matching is the account
    /// manager's; imports are written by those who may write (a viewer only reads).
    pub fn shown_to(self, access: Access) -> bool {
        match self {
            Tab::Matching => access == Access::AccountManager,
            Tab::Imports => access != Access::Viewer,
            _ => true,
        }
    }
}

pub struct TabLink {
    pub code: &'static str,
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "campaigns/_tabs.html")]
struct TabsView {
    label: String,
    tabs: Vec<TabLink>,
}

/// The tabs a person with `access` sees, `current` marked.
pub fn links(lang: Lang, slug: &str, campaign: Uuid, access: Access, current: Tab) -> Vec<TabLink> {
    Tab::ALL
        .into_iter()
        .filter(|t| t.shown_to(access))
        .map(|t| TabLink {
            code: t.code(),
            label: lang.t(&format!("campaigns.tab.{}", t.code())),
            href: format!("/t/{slug}/campaigns/{campaign}{}", t.path()),
            current: t == current,
        })
        .collect()
}

/// The strip, rendered (pages put it under their heading with `|safe`).
pub fn render(lang: Lang, slug: &str, campaign: Uuid, access: Access, current: Tab) -> String {
    TabsView {
        label: lang.t("campaigns.tab.label"),
        tabs: links(lang, slug, campaign, access, current),
    }
    .render()
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_sees_the_tabs_it_may_open_and_the_current_one_is_marked() {
        let id = Uuid::nil();
        let codes = |access| {
            links(Lang::En, "lumi", id, access, Tab::Shortlist)
                .into_iter()
                .map(|l| l.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(Access::AccountManager),
            [
                "overview",
                "brief",
                "matching",
                "shortlist",
                "collaborations",
                "imports",
                "report"
            ]
        );
        assert_eq!(
            codes(Access::Owner),
            [
                "overview",
                "brief",
                "shortlist",
                "collaborations",
                "imports",
                "report"
            ]
        );
        assert_eq!(
            codes(Access::Viewer),
            ["overview", "brief", "shortlist", "collaborations", "report"]
        );
        let links = links(Lang::ZhCn, "lumi", id, Access::Owner, Tab::Brief);
        let current: Vec<_> = links.iter().filter(|l| l.current).map(|l| l.code).collect();
        assert_eq!(current, ["brief"]);
        assert_eq!(links[1].href, format!("/t/lumi/campaigns/{id}"));
        assert_eq!(links[0].href, format!("/t/lumi/campaigns/{id}/dashboard"));
        assert!(links.iter().all(|l| !l.label.starts_with("campaigns.")));
    }
}
