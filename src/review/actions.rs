//! Content review's actions, each `(tx, [storage,] &Actor, input)`: add a deliverable version
//! (a file or a link, named by the convention), the maker's self-check against the checklist,
//! the cross-review by someone else; the fulfilment records that follow (a change request past
//! the included revisions, a post before the final video was approved); and the owner's switch.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, Kind, State};
use super::repo::{self, CollabFacts, DeliverableRow, NewDeliverable, NewReview};
use crate::audit;
use crate::auth::Actor;
use crate::contracts::actions::{TransitionCollaboration, transition_collaboration};
use crate::contracts::domain::ContractEvent;
use crate::error::{DomainError, DomainResult};
use crate::evidence::actions::{EvidenceUpload, Upload, store_upload};
use crate::fulfilment::actions::record_consequence;
use crate::fulfilment::domain::Kind as RecordKind;
use crate::kernel::FieldErrors;
use crate::kernel::text::{self, TextRule};
use crate::storage::Storage;
use crate::tenants::Access;

/// Who adds versions and reviews them: the owner, operators and the account manager (viewers
/// only look).
pub const REVIEWERS: &[Access] = &[Access::Owner, Access::Operator, Access::AccountManager];

pub const E_STATE: &str = "review.error.state";
pub const E_SAME_PERSON: &str = "review.error.same_person";
pub const E_NOT_SELF_CHECKED: &str = "review.error.not_self_checked";
pub const E_ALREADY: &str = "review.error.already_reviewed";
pub const E_SUPERSEDED: &str = "review.error.superseded";

/// A version as the form sends it: a file or a link.
#[derive(Debug, Clone, Default)]
pub struct AddDeliverable {
    pub collaboration_id: Uuid,
    pub kind: String,
    pub lang: String,
    pub link: String,
    pub note: String,
    pub file: Option<EvidenceUpload>,
}

/// The collaboration, the tenant's (404); its state must take deliverables (accepted through
/// tracking).
async fn facts(
    tx: &mut PgConnection,
    actor: &Actor,
    collaboration: Uuid,
    lock: bool,
) -> DomainResult<CollabFacts> {
    let tenant = actor.tenant_id()?;
    let facts = repo::collaboration(tx, tenant, collaboration, lock)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(REVIEWERS)?;
    actor.require_active()?;
    Ok(facts)
}

fn open_for_content(facts: &CollabFacts) -> DomainResult<()> {
    if matches!(
        facts.state.as_str(),
        "accepted" | "sample_shipped" | "sample_delivered" | "in_review" | "published" | "tracking"
    ) {
        Ok(())
    } else {
        Err(DomainError::Refused(E_STATE))
    }
}

/// Adds the next version of a deliverable (type + language) with its generated name; a video
/// submitted while the tenant reviews content moves the collaboration to `in_review`. Every
/// field is checked before anything is stored. Answers the version's id.
pub async fn add_deliverable(
    tx: &mut PgConnection,
    storage: &Storage,
    actor: &Actor,
    input: AddDeliverable,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    let facts = facts(tx, actor, input.collaboration_id, true).await?;
    open_for_content(&facts)?;
    let mut errors = FieldErrors::new();
    let kind = Kind::parse(&input.kind).ok_or("review.error.kind");
    if let Err(k) = kind {
        errors.insert("kind".into(), k);
    }
    let lang = domain::lang(&input.lang).map_err(|k| errors.insert("lang".into(), k));
    let note =
        text::check(&input.note, TextRule::NOTE).map_err(|k| errors.insert("note".into(), k));
    let file = input
        .file
        .filter(|f| !(f.bytes.is_empty() && f.filename.is_empty()));
    let source = match (&file, input.link.trim()) {
        (Some(_), l) if !l.is_empty() => {
            errors.insert("file".into(), "review.error.file_or_link");
            None
        }
        (None, "") => {
            errors.insert("file".into(), "review.error.file_or_link");
            None
        }
        (Some(f), _) => match domain::check_file(&f.bytes) {
            Ok(t) => Some(Ok(t)),
            Err(k) => {
                errors.insert("file".into(), k);
                None
            }
        },
        (None, l) => match domain::link(l) {
            Ok(link) => Some(Err(link)),
            Err(k) => {
                errors.insert("link".into(), k);
                None
            }
        },
    };
    let (Ok(kind), Ok(lang), Ok(note), Some(source)) = (kind, lang, note, source) else {
        return Err(DomainError::Invalid(errors));
    };
    let version = repo::next_version(tx, tenant, input.collaboration_id, kind.code(), lang).await?;
    let sku = domain::sku(facts.sample_sku.as_deref(), &facts.campaign_code);
    let name = domain::name(&sku, kind, lang, version);
    let (upload_id, link) = match (source, file) {
        (Ok(file_type), Some(f)) => {
            let (id, _) = store_upload(
                tx,
                storage,
                actor,
                Upload {
                    purpose: "deliverable",
                    filename: &format!("{name}.{}", file_type.extension()),
                    content_type: file_type.content_type(),
                    bytes: &f.bytes,
                },
            )
            .await?;
            (Some(id), None)
        }
        (Err(link), _) => (None, Some(link)),
        (Ok(_), None) => return Err(DomainError::field("file", "review.error.file_or_link")),
    };
    let id = Uuid::now_v7();
    repo::insert_deliverable(
        tx,
        &NewDeliverable {
            tenant_id: tenant,
            id,
            collaboration_id: input.collaboration_id,
            kind: kind.code(),
            lang,
            version,
            name: &name,
            upload_id,
            link: link.as_deref(),
            note,
            created_by: actor.user_id,
            created_by_label: &actor.label,
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("deliverable.add", "deliverable", id)
            .after(json!({
                "collaboration": input.collaboration_id,
                "name": name,
                "kind": kind.code(),
                "lang": lang,
                "version": version,
                "upload": upload_id,
                "link": link,
            })),
    )
    .await?;
    if facts.content_review && matches!(kind, Kind::DraftVideo | Kind::FinalVideo) {
        transition_collaboration(
            tx,
            actor,
            TransitionCollaboration {
                collaboration_id: input.collaboration_id,
                event: ContractEvent::DraftSubmitted,
            },
        )
        .await?;
    }
    Ok(id)
}

/// The version to review: the tenant's (404), the newest of its deliverable (an older one is
/// superseded), with its collaboration's facts.
async fn version_to_review(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> DomainResult<(DeliverableRow, CollabFacts)> {
    let tenant = actor.tenant_id()?;
    let d = repo::deliverable(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let facts = facts(tx, actor, d.collaboration_id, true).await?;
    open_for_content(&facts)?;
    let newest = repo::next_version(tx, tenant, d.collaboration_id, &d.kind, &d.lang).await? - 1;
    if d.version != newest {
        return Err(DomainError::Refused(E_SUPERSEDED));
    }
    Ok((d, facts))
}

fn state_of(d: &DeliverableRow) -> State {
    State::of(d.self_checker_id.is_some(), d.outcome.as_deref())
}

/// The maker's self-check: every checklist item that applies to the campaign (its shop's
/// platform, its markets) ticked.
#[derive(Debug, Clone, Default)]
pub struct SelfCheck {
    pub deliverable_id: Uuid,
    /// The ids of the items ticked.
    pub ticked: Vec<String>,
    pub comment: String,
}

pub async fn self_check(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SelfCheck,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    let (d, facts) = version_to_review(tx, actor, input.deliverable_id).await?;
    if state_of(&d) != State::Submitted {
        return Err(DomainError::Refused(E_ALREADY));
    }
    let reviewer = actor.user_id.ok_or(DomainError::Forbidden)?;
    let comment = text::check(&input.comment, TextRule::NOTE)
        .map_err(|k| DomainError::field("comment", k))?;
    let items: Vec<repo::ChecklistItem> = repo::checklist(tx, false)
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
        .collect();
    let ticked =
        |i: &repo::ChecklistItem| input.ticked.iter().any(|t| t.trim() == i.id.to_string());
    if !items.iter().all(ticked) {
        return Err(DomainError::field(
            "checklist",
            "review.error.checklist_incomplete",
        ));
    }
    let checklist = json!(
        items
            .iter()
            .map(|i| json!({ "id": i.id, "zh": i.text_zh, "en": i.text_en }))
            .collect::<Vec<_>>()
    );
    let stored = repo::insert_review(
        tx,
        &NewReview {
            tenant_id: tenant,
            id: Uuid::now_v7(),
            deliverable_id: d.id,
            stage: "self_check",
            outcome: "passed",
            checklist: checklist.clone(),
            comment,
            reviewer: (reviewer, &actor.label),
            self_checker_id: None,
        },
    )
    .await?;
    if !stored {
        return Err(DomainError::Refused(E_ALREADY));
    }
    audit::record(
        tx,
        actor
            .audit("deliverable.self_check", "deliverable", d.id)
            .before(json!({ "state": State::Submitted.code() }))
            .after(json!({
                "state": State::SelfChecked.code(),
                "name": d.name,
                "checklist": items.len(),
                "comment": comment,
            })),
    )
    .await?;
    Ok(())
}

/// The cross-review's outcome.
#[derive(Debug, Clone, Default)]
pub struct CrossReview {
    pub deliverable_id: Uuid,
    /// `approve` or `request_changes`.
    pub outcome: String,
    pub comment: String,
}

/// Approves the version or requests changes (with a comment), by someone other than whoever
/// self-checked it. A change request past the contract's included revisions (per deliverable:
/// type + language) records one `revision_limit_exceeded` event.
pub async fn cross_review(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CrossReview,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    let (d, facts) = version_to_review(tx, actor, input.deliverable_id).await?;
    match state_of(&d) {
        State::Submitted => return Err(DomainError::Refused(E_NOT_SELF_CHECKED)),
        State::Approved | State::ChangesRequested => return Err(DomainError::Refused(E_ALREADY)),
        State::SelfChecked => {}
    }
    let reviewer = actor.user_id.ok_or(DomainError::Forbidden)?;
    if d.self_checker_id == Some(reviewer) {
        return Err(DomainError::Refused(E_SAME_PERSON));
    }
    let mut errors = FieldErrors::new();
    let outcome = match input.outcome.trim() {
        "approve" => Some("approved"),
        "request_changes" => Some("changes_requested"),
        _ => {
            errors.insert("outcome".into(), "review.error.outcome");
            None
        }
    };
    let comment = match text::check(&input.comment, TextRule::NOTE) {
        Ok(c) if c.is_empty() && outcome == Some("changes_requested") => {
            errors.insert("comment".into(), "review.error.comment_required");
            None
        }
        Ok(c) => Some(c),
        Err(k) => {
            errors.insert("comment".into(), k);
            None
        }
    };
    let (Some(outcome), Some(comment)) = (outcome, comment) else {
        return Err(DomainError::Invalid(errors));
    };
    let stored = repo::insert_review(
        tx,
        &NewReview {
            tenant_id: tenant,
            id: Uuid::now_v7(),
            deliverable_id: d.id,
            stage: "cross_review",
            outcome,
            checklist: json!([]),
            comment,
            reviewer: (reviewer, &actor.label),
            self_checker_id: d.self_checker_id,
        },
    )
    .await?;
    if !stored {
        return Err(DomainError::Refused(E_ALREADY));
    }
    audit::record(
        tx,
        actor
            .audit("deliverable.review", "deliverable", d.id)
            .before(json!({ "state": State::SelfChecked.code() }))
            .after(json!({ "state": outcome, "name": d.name, "comment": comment })),
    )
    .await?;
    if outcome == "changes_requested" {
        let nth = repo::change_requests(tx, tenant, d.collaboration_id, &d.kind, &d.lang).await?;
        let included = i64::from(facts.revisions_included);
        if domain::beyond_included(nth, included) {
            let note = format!(
                "{}: change request {nth}, {included} included · 第 {nth} 次修改请求，合同含 {included} 次",
                d.name
            );
            record_consequence(
                tx,
                actor,
                d.collaboration_id,
                RecordKind::RevisionLimitExceeded,
                &note,
            )
            .await?;
        }
    }
    Ok(())
}

/// After a post is added: when the tenant reviews content and no final video of the
/// collaboration was approved, the post stands (it is live) and a `compliance_issue` record says
/// so. Answers the record's id when one was made.
pub async fn check_post(
    tx: &mut PgConnection,
    actor: &Actor,
    collaboration_id: Uuid,
    url: &str,
) -> DomainResult<Option<Uuid>> {
    let tenant = actor.tenant_id()?;
    if !repo::content_review_on(tx, tenant).await?
        || repo::final_approved(tx, tenant, collaboration_id).await?
    {
        return Ok(None);
    }
    let note =
        format!("Posted before the final video was approved · 终版视频审核通过前已发布: {url}");
    let id = record_consequence(
        tx,
        actor,
        collaboration_id,
        RecordKind::ComplianceIssue,
        &note,
    )
    .await?;
    Ok(Some(id))
}

/// The owner turns content review on or off for the tenant.
pub async fn set_content_review(
    tx: &mut PgConnection,
    actor: &Actor,
    on: bool,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    let before = repo::content_review_on(tx, tenant).await?;
    repo::set_content_review(tx, tenant, on).await?;
    audit::record(
        tx,
        actor
            .audit("tenant.content_review", "tenant", tenant)
            .before(json!({ "content_review": before }))
            .after(json!({ "content_review": on })),
    )
    .await?;
    Ok(())
}

/// A checklist item as an admin types it.
#[derive(Debug, Clone, Default)]
pub struct AddChecklistItem {
    /// A shop platform, or empty for every platform.
    pub platform: String,
    /// Market codes (ISO country codes) separated by spaces or commas; empty for every market.
    pub markets: String,
    pub text_zh: String,
    pub text_en: String,
    /// Where it stands in the list (1–9999); empty: last.
    pub position: String,
}

const PLATFORMS: &[&str] = &[
    "tiktok_shop",
    "shopify",
    "amazon",
    "shopee",
    "lazada",
    "independent",
];

/// Adds an item to the checklist (admins). Answers its id.
pub async fn add_checklist_item(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AddChecklistItem,
) -> DomainResult<Uuid> {
    actor.require_platform(crate::auth::PlatformRole::Admin)?;
    let mut errors = FieldErrors::new();
    let platform = match input.platform.trim() {
        "" => None,
        p if PLATFORMS.contains(&p) => Some(p.to_string()),
        _ => {
            errors.insert("platform".into(), "review.error.platform");
            None
        }
    };
    let mut markets: Vec<String> = Vec::new();
    for m in input
        .markets
        .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|m| !m.is_empty())
    {
        let m = m.to_ascii_uppercase();
        if m.len() == 2 && m.chars().all(|c| c.is_ascii_uppercase()) {
            if !markets.contains(&m) {
                markets.push(m);
            }
        } else {
            errors.insert("markets".into(), "review.error.markets");
        }
    }
    for (field, value) in [("text_zh", &input.text_zh), ("text_en", &input.text_en)] {
        match text::check(value, TextRule::LINE) {
            Ok("") => {
                errors.insert(field.into(), "review.error.text_required");
            }
            Ok(_) => {}
            Err(k) => {
                errors.insert(field.into(), k);
            }
        }
    }
    let position = match input.position.trim() {
        "" => Ok(1000),
        p => p
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=9999).contains(n))
            .ok_or("review.error.position"),
    };
    let position = position.map_err(|k| errors.insert("position".into(), k));
    let Ok(position) = position else {
        return Err(DomainError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let item = repo::ChecklistItem {
        id: Uuid::now_v7(),
        platform,
        markets,
        text_zh: input.text_zh.trim().to_string(),
        text_en: input.text_en.trim().to_string(),
        position,
        active: true,
    };
    repo::insert_item(tx, &item, actor.user_id).await?;
    audit::record(
        tx,
        actor
            .audit("checklist.add", "checklist_item", item.id)
            .after(json!({
                "platform": item.platform,
                "markets": item.markets,
                "text_zh": item.text_zh,
                "text_en": item.text_en,
                "position": item.position,
            })),
    )
    .await?;
    Ok(item.id)
}

/// Retires an item (it no longer applies to new self-checks; the ones done keep its text) or
/// brings it back (admins).
pub async fn set_checklist_item_active(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    active: bool,
) -> DomainResult<()> {
    actor.require_platform(crate::auth::PlatformRole::Admin)?;
    if !repo::set_item_active(tx, id, active).await? {
        return Err(DomainError::NotFound);
    }
    audit::record(
        tx,
        actor
            .audit("checklist.active", "checklist_item", id)
            .before(json!({ "active": !active }))
            .after(json!({ "active": active })),
    )
    .await?;
    Ok(())
}
