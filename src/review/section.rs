//! The collaboration page's "deliverables and review" section, rendered in the page's tenant
//! transaction: each deliverable (type + language) with its version history and reviews, the
//! self-check form (the checklist that applies) or the cross-review form on its newest version,
//! and the form to add a version. The contracts page includes it as HTML.

use askama::Template;
use uuid::Uuid;

use super::domain::{self, Kind, State};
use super::repo;
use crate::error::{AppError, AppResult};
use crate::tenants::{Access, TenantCtx};
use crate::web::fmt;
use crate::web::forms::FormErrors;
use crate::web::lang::Lang;

/// A refused form coming back: which one (`add`, or a version's id for its review forms), what
/// was typed, and the messages.
#[derive(Debug, Clone, Default)]
pub struct Refused {
    pub target: String,
    pub kind: String,
    pub lang: String,
    pub link: String,
    pub note: String,
    pub outcome: String,
    pub comment: String,
    pub errors: FormErrors,
}

pub struct VersionView {
    pub id: Uuid,
    pub version: i32,
    pub name: String,
    /// The file's link, or the external link.
    pub href: Option<String>,
    pub external: bool,
    pub note: String,
    pub by: String,
    pub at: String,
    pub state: &'static str,
    pub state_label: String,
    pub self_check: Option<String>,
    pub checked_items: Vec<String>,
    pub review: Option<String>,
    pub review_comment: String,
}

pub struct GroupView {
    pub label: String,
    pub lang: String,
    pub requests: String,
    pub newest: VersionView,
    pub older: Vec<VersionView>,
    /// The newest version awaits its self-check / its cross-review.
    pub can_self_check: bool,
    pub can_cross_review: bool,
    /// Who self-checked it (the cross-review must be someone else).
    pub self_checker_is_me: bool,
}

#[derive(Template)]
#[template(path = "review/_section.html")]
struct Section<'a> {
    tr: Lang,
    slug: &'a str,
    id: Uuid,
    content_review: bool,
    can_edit: bool,
    owner: bool,
    groups: Vec<GroupView>,
    /// The checklist that applies: id, text.
    checklist: Vec<(Uuid, String)>,
    kinds: Vec<(String, String)>,
    langs: &'static [&'static str],
    refused: Refused,
}

/// The section's HTML; `refused` carries a refused form back with its messages.
pub async fn collaboration(
    ctx: &mut TenantCtx,
    id: Uuid,
    lang: Lang,
    refused: Option<Refused>,
) -> AppResult<String> {
    let facts = repo::collaboration(&mut ctx.tx, ctx.tenant.id, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let rows = repo::deliverables(&mut ctx.tx, ctx.tenant.id, Some(id), None).await?;
    // Changes requested per deliverable (type + language), from the versions' reviews.
    let mut requested: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for r in rows
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("changes_requested"))
    {
        *requested
            .entry((r.kind.clone(), r.lang.clone()))
            .or_default() += 1;
    }
    let checklist: Vec<(Uuid, String)> = repo::checklist(&mut ctx.tx, false)
        .await?
        .into_iter()
        .filter(|i| {
            domain::applies(
                i.platform.as_deref(),
                &i.markets,
                facts.platform.as_deref(),
                &facts.markets,
            )
        })
        .map(|i| {
            let text = if lang == Lang::En {
                i.text_en
            } else {
                i.text_zh
            };
            (i.id, text)
        })
        .collect();
    let zone = ctx.tenant.time_zone.clone();
    let slug = ctx.tenant.slug.clone();
    let me = ctx.user.id;
    let can_edit = ctx.require(super::actions::REVIEWERS).is_ok();
    let mut groups: Vec<GroupView> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for r in rows {
        let state = State::of(r.self_checker_id.is_some(), r.outcome.as_deref());
        let self_checker_is_me = r.self_checker_id == Some(me);
        let view = VersionView {
            id: r.id,
            version: r.version,
            href: match (&r.upload_id, &r.link) {
                (Some(_), _) => Some(format!("/t/{slug}/deliverables/{}/file", r.id)),
                (None, Some(l)) => Some(l.clone()),
                _ => None,
            },
            external: r.upload_id.is_none(),
            name: r.name,
            note: r.note,
            by: r.created_by_label,
            at: fmt::datetime(r.created_at, &zone),
            state: state.code(),
            state_label: lang.t(state.label_key()),
            self_check: r
                .self_checker
                .zip(r.self_checked_at)
                .map(|(who, at)| format!("{who} · {}", fmt::datetime(at, &zone))),
            checked_items: r
                .checklist
                .and_then(|c| c.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| {
                    i.get(if lang == Lang::En { "en" } else { "zh" })
                        .and_then(|t| t.as_str())
                        .map(str::to_string)
                })
                .collect(),
            review: r
                .cross_reviewer
                .zip(r.reviewed_at)
                .map(|(who, at)| format!("{who} · {}", fmt::datetime(at, &zone))),
            review_comment: r
                .review_comment
                .filter(|c| !c.is_empty())
                .or(r.self_comment.filter(|c| !c.is_empty()))
                .unwrap_or_default(),
        };
        let key = (r.kind.clone(), r.lang.clone());
        if current.as_ref() == Some(&key) {
            if let Some(g) = groups.last_mut() {
                g.older.push(view);
            }
            continue;
        }
        let requests = requested.get(&key).copied().unwrap_or(0);
        current = Some(key);
        groups.push(GroupView {
            label: Kind::parse(&r.kind)
                .map(|k| lang.t(k.label_key()))
                .unwrap_or(r.kind),
            lang: r.lang.to_uppercase(),
            requests: lang.t_with(
                "review.requests",
                &[
                    ("n", requests.to_string().as_str()),
                    ("included", facts.revisions_included.to_string().as_str()),
                ],
            ),
            can_self_check: can_edit && state == State::Submitted,
            can_cross_review: can_edit && state == State::SelfChecked,
            self_checker_is_me,
            newest: view,
            older: Vec::new(),
        });
    }
    let section = Section {
        tr: lang,
        slug: &slug,
        id,
        content_review: facts.content_review,
        can_edit,
        owner: ctx.access == Access::Owner,
        groups,
        checklist,
        kinds: Kind::ALL
            .into_iter()
            .map(|k| (k.code().to_string(), lang.t(k.label_key())))
            .collect(),
        langs: domain::LANGS,
        refused: refused.unwrap_or_default(),
    };
    section
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("review section: {e}")))
}
