//! The collaboration's state changes (SPEC §4), each one function `(tx, &Actor, input)` that
//! checks its rule (`domain`), writes through `repo` and records its audit entry: creating a
//! collaboration from an approved shortlist entry, changing or amending its terms, the account
//! manager's events (the creator's answer, the sample, the end of a contract), and the moves that
//! follow from facts recorded elsewhere (a post, a first snapshot). Pages and the API call these.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, ContractEvent, ContractState, Terms, TermsDefaults, TermsInput};
use super::repo::{self, NewCollaboration, NewVersion, TransitionRecord};
use crate::audit;
use crate::auth::Actor;
use crate::campaigns::actions::record_system_event;
use crate::campaigns::domain::{CampaignState, Decision, Transition};
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::kernel::text::{self, TextRule};
use crate::tenants::Access;

/// A unique violation of these becomes the discount code's field error: two requests racing
/// for the same creator or the same code get the message the checks give, never a 500.
const CODE_CONSTRAINTS: &[(&str, &str, &str)] = &[
    (
        "collaborations_tenant_id_campaign_id_creator_id_key",
        "discount_code",
        "contracts.error.exists",
    ),
    (
        "collaborations_tenant_id_discount_code_key",
        "discount_code",
        "contracts.error.code_taken",
    ),
];
/// The tracked-link slug is drawn at random, unique across tenants; a clash is retried.
const LINK_SLUG_CONSTRAINT: &str = "collaborations_link_slug_key";
const LINK_SLUG_TRIES: usize = 5;

/// Only the account manager sets up and changes contracts, and only in an active tenant.
fn account_manager_only(actor: &Actor) -> DomainResult<()> {
    actor.require(&[Access::AccountManager])?;
    actor.require_active()
}

/// Terms for an approved shortlist entry of a campaign.
#[derive(Clone, Debug)]
pub struct CreateCollaboration {
    pub campaign_id: Uuid,
    /// The shortlist entry (approved by the seller).
    pub entry_id: Uuid,
    pub terms: TermsInput,
}

/// Creates the collaboration (proposed) with version 1 of its terms, a discount code unique in
/// the tenant and a fresh tracked-link slug. A creator who already has one in the campaign, or a
/// code already used, is the discount code's field error.
pub async fn create_collaboration(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreateCollaboration,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant()?.id;
    // Another tenant's campaign is unknown here (404) before any role check (403).
    let campaign = crate::campaigns::repo::get(tx, tenant, input.campaign_id)
        .await?
        .ok_or(DomainError::NotFound)?
        .campaign();
    account_manager_only(actor)?;
    let entry = repo::shortlist_entry(tx, tenant, input.campaign_id, input.entry_id)
        .await?
        .filter(|e| e.decision == Some(Decision::Approve))
        .ok_or(DomainError::NotFound)?;
    let today = time::OffsetDateTime::now_utc().date();
    let terms = domain::validate_terms(&input.terms, campaign.sample_needed, today)
        .map_err(DomainError::Invalid)?;
    if repo::collaboration_exists(tx, tenant, input.campaign_id, entry.creator_id).await? {
        return Err(DomainError::field(
            "discount_code",
            "contracts.error.exists",
        ));
    }
    if repo::discount_code_taken(tx, tenant, &terms.discount_code, None).await? {
        return Err(DomainError::field(
            "discount_code",
            "contracts.error.code_taken",
        ));
    }
    let id = Uuid::now_v7();
    let mut created = false;
    for _ in 0..LINK_SLUG_TRIES {
        let slug = domain::new_link_slug();
        let new = NewCollaboration {
            id,
            campaign_id: input.campaign_id,
            creator_id: entry.creator_id,
            discount_code: &terms.discount_code,
            link_slug: &slug,
            created_by: actor.user_id,
        };
        match repo::insert_collaboration(tx, tenant, &new).await {
            Ok(()) => {
                created = true;
                break;
            }
            Err(e) if crate::db::unique_violation(&e) == Some(LINK_SLUG_CONSTRAINT) => {}
            Err(e) => return Err(DomainError::unique_as_field(e, CODE_CONSTRAINTS)),
        }
    }
    if !created {
        return Err(DomainError::Internal(anyhow::anyhow!(
            "no free tracked-link slug after {LINK_SLUG_TRIES} tries"
        )));
    }
    let mut terms = terms;
    terms.creator_quote = repo::creator_quote(tx, tenant, id).await?;
    repo::insert_first_version(tx, tenant, id, &json!(terms), actor.user_id).await?;
    audit::record(
        tx,
        actor
            .audit("collaboration.create", "collaboration", id)
            .after(json!({ "creator": entry.handle, "terms": terms })),
    )
    .await?;
    Ok(id)
}

/// What the terms form of a new collaboration shows before anything is typed, for an approved
/// entry of the campaign (`domain::proposed_terms` over the tenant's defaults and the creator's
/// quote); None when the campaign or the approved entry is not the tenant's. The page pre-fills
/// the form with it; the API takes it for each field a call leaves out.
pub async fn proposed_terms_for(
    tx: &mut PgConnection,
    tenant: Uuid,
    campaign_id: Uuid,
    entry_id: Uuid,
) -> DomainResult<Option<TermsInput>> {
    let Some(campaign) = crate::campaigns::repo::get(tx, tenant, campaign_id).await? else {
        return Ok(None);
    };
    let campaign = campaign.campaign();
    let Some(entry) = repo::shortlist_entry(tx, tenant, campaign_id, entry_id)
        .await?
        .filter(|e| e.decision == Some(Decision::Approve))
    else {
        return Ok(None);
    };
    let (service_fee_rate, fee_model) = repo::terms_defaults(tx, tenant).await?;
    Ok(Some(domain::proposed_terms(
        &campaign,
        &TermsDefaults {
            service_fee_rate,
            fee_model,
        },
        &entry.handle,
        entry.quote_video,
        entry.quote_currency.as_deref(),
    )))
}

/// The current version's terms as the terms form shows them (`domain::input_of`); None when
/// the collaboration is not the tenant's. The API takes it for each field a change leaves out.
pub async fn current_terms_input(
    tx: &mut PgConnection,
    tenant: Uuid,
    collaboration_id: Uuid,
) -> DomainResult<Option<TermsInput>> {
    Ok(repo::versions(tx, tenant, collaboration_id)
        .await?
        .first()
        .and_then(|v| serde_json::from_value::<Terms>(v.terms.clone()).ok())
        .map(|t| domain::input_of(&t)))
}

/// New terms for a collaboration; after acceptance the change is an amendment and needs its
/// reason.
#[derive(Clone, Debug)]
pub struct AmendTerms {
    pub collaboration_id: Uuid,
    pub terms: TermsInput,
    /// Why the terms change (required for an amendment; ignored while proposed if empty).
    pub reason: String,
}

/// What a change of terms made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermsChanged {
    pub version: i32,
    /// A change after acceptance (`collaboration.amend`), not while proposed.
    pub amendment: bool,
}

/// Changes the terms: every change is a new version (history is never rewritten); after
/// acceptance it is an amendment and carries its reason. Settled, cancelled or breached
/// contracts are Forbidden to change.
pub async fn amend_terms(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AmendTerms,
) -> DomainResult<TermsChanged> {
    let tenant = actor.tenant()?.id;
    let id = input.collaboration_id;
    let row = repo::collaboration(tx, tenant, id, true)
        .await?
        .ok_or(DomainError::NotFound)?;
    account_manager_only(actor)?;
    let before: Terms = repo::versions(tx, tenant, id)
        .await?
        .first()
        .and_then(|v| serde_json::from_value(v.terms.clone()).ok())
        .ok_or(DomainError::NotFound)?;
    let state = row.state;
    if !domain::terms_changeable(state) {
        return Err(DomainError::Forbidden);
    }
    let amendment = domain::is_amendment(state);
    let reason = input.reason.trim();
    let today = time::OffsetDateTime::now_utc().date();
    let validated = domain::validate_terms(&input.terms, row.campaign().sample_needed, today);
    let mut errors: FieldErrors = validated.clone().err().unwrap_or_default();
    text::fields(&mut errors, &[("reason", &input.reason, TextRule::NOTE)]);
    if amendment && reason.is_empty() {
        errors.insert("reason".into(), "contracts.error.reason_required");
    }
    let mut terms = match validated {
        Ok(terms) if errors.is_empty() => terms,
        _ => return Err(DomainError::Invalid(errors)),
    };
    terms.creator_quote = repo::creator_quote(tx, tenant, id).await?;
    if terms.discount_code != row.discount_code
        && repo::discount_code_taken(tx, tenant, &terms.discount_code, Some(id)).await?
    {
        return Err(DomainError::field(
            "discount_code",
            "contracts.error.code_taken",
        ));
    }
    let version = row.current_version + 1;
    repo::insert_version(
        tx,
        tenant,
        &NewVersion {
            collaboration_id: id,
            version,
            terms: json!(terms),
            reason,
            discount_code: &terms.discount_code,
            created_by: actor.user_id,
        },
    )
    .await
    .map_err(|e| DomainError::unique_as_field(e, CODE_CONSTRAINTS))?;
    audit::record(
        tx,
        actor
            .audit(
                if amendment {
                    "collaboration.amend"
                } else {
                    "collaboration.terms"
                },
                "collaboration",
                id,
            )
            .before(json!(before))
            .after(json!({ "terms": terms, "version": version, "reason": reason })),
    )
    .await?;
    Ok(TermsChanged { version, amendment })
}

/// What the account manager records about a collaboration.
#[derive(Clone, Debug)]
pub struct RecordCollaborationEvent {
    pub collaboration_id: Uuid,
    /// One of the events recorded by hand (`ContractEvent::is_by_hand`).
    pub event: ContractEvent,
    /// Kept with the move when given (required by the state table to cancel or end on breach).
    pub reason: String,
}

/// The account manager records what happened: the creator's answer, the sample, a cancellation
/// or breach (with a reason). A step the state table refuses is `Refused` with its message key.
/// The first acceptance starts the campaign running (when it is still contracting).
pub async fn record_collaboration_event(
    tx: &mut PgConnection,
    actor: &Actor,
    input: RecordCollaborationEvent,
) -> DomainResult<ContractState> {
    let tenant = actor.tenant()?.id;
    let id = input.collaboration_id;
    // Another tenant's collaboration is unknown here (404) before any role check (403).
    let row = repo::collaboration(tx, tenant, id, true)
        .await?
        .ok_or(DomainError::NotFound)?;
    account_manager_only(actor)?;
    if !input.event.is_by_hand() {
        return Err(DomainError::Refused(
            "contract.state_error.not_allowed_from",
        ));
    }
    let (carrier, tracking_number) = match &input.event {
        ContractEvent::SampleShipped {
            carrier,
            tracking_number,
        } => (carrier.trim(), tracking_number.trim()),
        _ => ("", ""),
    };
    if let Some((field, key)) = text::first_fault(&[
        ("carrier", carrier, TextRule::LINE),
        ("tracking_number", tracking_number, TextRule::LINE),
        ("reason", &input.reason, TextRule::NOTE),
    ]) {
        return Err(DomainError::field(&field, key));
    }
    let from = row.state;
    let to = domain::next_state(from, &input.event, row.campaign().sample_needed, false)
        .map_err(|e| DomainError::Refused(e.key()))?;
    repo::set_state(tx, tenant, id, to, carrier, tracking_number).await?;
    record_move(
        tx,
        actor,
        id,
        from,
        to,
        input.event.code(),
        input.reason.trim(),
    )
    .await?;
    if to == ContractState::Accepted {
        let campaign = crate::campaigns::repo::get(tx, tenant, row.campaign_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if campaign.state == CampaignState::Contracting {
            let moved = record_system_event(
                tx,
                actor,
                row.campaign_id,
                Transition::FirstContractAccepted,
            )
            .await;
            match moved {
                // The campaign's state table may say no (e.g. for this actor); the
                // collaboration's move stands.
                Ok(_) | Err(DomainError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(to)
}

/// A move of a collaboration that follows from a fact recorded elsewhere.
#[derive(Clone, Debug)]
pub struct TransitionCollaboration {
    pub collaboration_id: Uuid,
    /// A post was added, the first snapshot arrived, …; the events recorded by hand go through
    /// [`record_collaboration_event`].
    pub event: ContractEvent,
}

/// Moves a collaboration on after an event (a post, a first snapshot), recording the move (no
/// reason). Owners, operators and the account manager record those facts. Answers the state the
/// collaboration is in afterwards (the same when the event keeps it), or None when the state
/// table refuses the event: the fact stands, the collaboration stays where it is.
pub async fn transition_collaboration(
    tx: &mut PgConnection,
    actor: &Actor,
    input: TransitionCollaboration,
) -> DomainResult<Option<ContractState>> {
    let tenant = actor.tenant()?.id;
    let id = input.collaboration_id;
    let row = repo::collaboration(tx, tenant, id, true)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require_active()?;
    if input.event.is_by_hand() {
        account_manager_only(actor)?;
    } else {
        actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])?;
    }
    let from = row.state;
    // A draft moves the collaboration only when the tenant reviews content (SPEC §4).
    let review = matches!(input.event, ContractEvent::DraftSubmitted)
        && crate::review::repo::content_review_on(tx, tenant).await?;
    let Ok(to) = domain::next_state(from, &input.event, row.campaign().sample_needed, review)
    else {
        return Ok(None);
    };
    if to != from {
        repo::set_state_only(tx, tenant, id, to).await?;
        record_move(tx, actor, id, from, to, input.event.code(), "").await?;
    }
    Ok(Some(to))
}

/// Records a move of a collaboration's state (who, when, why) and audits it.
async fn record_move(
    tx: &mut PgConnection,
    actor: &Actor,
    collaboration_id: Uuid,
    from: ContractState,
    to: ContractState,
    event: &str,
    reason: &str,
) -> DomainResult<()> {
    let tenant = actor.tenant()?.id;
    repo::record_transition(
        tx,
        tenant,
        &TransitionRecord {
            collaboration_id,
            from_state: from,
            to_state: to,
            event,
            actor_id: actor.user_id,
            actor_label: &actor.label,
            reason,
        },
    )
    .await?;
    let mut after = json!({ "state": to.code(), "event": event });
    if !reason.is_empty() {
        after["reason"] = json!(reason);
    }
    audit::record(
        tx,
        actor
            .audit(
                "collaboration.transition",
                "collaboration",
                collaboration_id,
            )
            .before(json!({ "state": from.code() }))
            .after(after),
    )
    .await?;
    Ok(())
}
