//! The campaign's state changes (SPEC §2), each one function `(tx, &Actor, input)` that checks
//! its rule (`domain`), writes through `repo` and records its audit entry: saving (and
//! submitting) a request, moving its state, and the seller's answers to a shortlist (a decision
//! per creator, another round, or going ahead). Pages and the API call these; nothing of a rule
//! lives in a handler.

use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{
    self, CampaignInput, CampaignState, Decision, DecisionError, Role, Transition, TransitionError,
};
use super::repo;
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kernel::text::{self, TextRule};
use crate::tenants::{Access, repo as tenants};
use crate::webhooks::actions as webhooks;

/// How the campaign's state table knows the actor: seller owner or operator, the account
/// manager, or the system (a command or a background rule). Viewers move nothing.
pub fn role_of(actor: &Actor) -> DomainResult<Role> {
    match actor.access() {
        Some(Access::Owner) => Ok(Role::SellerOwner),
        Some(Access::Operator) => Ok(Role::SellerOperator),
        Some(Access::AccountManager) => Ok(Role::AccountManager),
        Some(Access::Viewer) => Err(DomainError::Forbidden),
        None if actor.user_id.is_none() => Ok(Role::System),
        None => Err(DomainError::NotFound),
    }
}

/// One move of a campaign's state.
#[derive(Clone, Debug)]
pub struct MoveCampaign {
    pub campaign_id: Uuid,
    pub transition: Transition,
    /// Required to cancel; kept with the move otherwise when given.
    pub reason: String,
}

/// A state move as the campaign page posts it (and as the API takes it).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MoveForm {
    /// The move: `start_matching` (the account manager) or `cancel` (the seller's owner or the
    /// account manager, with a reason). The other moves have their own steps.
    pub transition: String,
    /// Why; required to cancel, kept with the move otherwise.
    pub reason: String,
}

impl MoveForm {
    /// The move for the campaign: `Invalid` on the field `transition` when it is not one this
    /// knows, and `Refused` (not allowed for you) for a system event, which no form may post.
    pub fn into_input(self, campaign_id: Uuid) -> DomainResult<MoveCampaign> {
        let transition = Transition::parse(&self.transition)
            .ok_or_else(|| DomainError::field("transition", "api.intake.unknown_transition"))?;
        if transition.is_system_event() {
            return Err(DomainError::Refused(TransitionError::NotAllowedFor.key()));
        }
        Ok(MoveCampaign {
            campaign_id,
            transition,
            reason: self.reason,
        })
    }
}

/// Checks and records one state move a person asks for (the row is locked for it). Submitting
/// assigns the campaign's code, which never changes afterwards. A move the state table does not
/// allow is `Refused` with its reason's message key; so is a system event, whatever the actor
/// (those go through [`record_system_event`]).
pub async fn move_campaign(
    tx: &mut PgConnection,
    actor: &Actor,
    input: MoveCampaign,
) -> DomainResult<CampaignState> {
    apply(
        tx,
        actor,
        input.campaign_id,
        input.transition,
        Asker::Actor,
        &input.reason,
    )
    .await
}

/// The moves a person asks for by name (the campaign page's buttons, the API's transitions):
/// start matching and cancel. The others have their own steps, each with a rule of its own —
/// submitting checks the request is complete ([`save_campaign`]), a shortlist is sent with its
/// creators (`matching::actions::send_shortlist`), the seller's answers need a sent shortlist
/// ([`request_another_round`], [`approve_shortlist`]) — and are `Forbidden` here, as are system
/// events (`Refused`, from [`MoveForm::into_input`]). Checked in the page's order: another
/// tenant's campaign is not found, then the company is active, then the role (the seller's owner
/// or operators, or the account manager; viewers move nothing).
pub async fn move_by_hand(
    tx: &mut PgConnection,
    actor: &Actor,
    campaign_id: Uuid,
    form: MoveForm,
) -> DomainResult<CampaignState> {
    let tenant_id = actor.tenant_id()?;
    if !repo::exists(tx, tenant_id, campaign_id).await? {
        return Err(DomainError::NotFound);
    }
    actor.require_active()?;
    actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])?;
    let input = form.into_input(campaign_id)?;
    if matches!(
        input.transition,
        Transition::Submit
            | Transition::SendShortlist
            | Transition::RequestAnotherRound
            | Transition::ApproveShortlist
    ) {
        return Err(DomainError::Forbidden);
    }
    move_campaign(tx, actor, input).await
}

/// Records a system event on a campaign (SPEC §2: the first contract accepted, every
/// collaboration published or rated) once the fact behind it is true; the caller checks the fact.
/// The state table is asked as the system; `actor` is whoever caused the fact and is kept with
/// the move. `Refused` when the campaign is not where the event leads from, or `event` is not a
/// system event.
pub async fn record_system_event(
    tx: &mut PgConnection,
    actor: &Actor,
    campaign_id: Uuid,
    event: Transition,
) -> DomainResult<CampaignState> {
    apply(tx, actor, campaign_id, event, Asker::System, "").await
}

/// Who the state table is asked for: the acting person (their role), or the system.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asker {
    Actor,
    System,
}

async fn apply(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    t: Transition,
    asker: Asker,
    reason: &str,
) -> DomainResult<CampaignState> {
    let tenant = actor.tenant()?;
    let row = repo::get_for_update(tx, tenant.id, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require_active()?;
    if t.is_system_event() != (asker == Asker::System) {
        return Err(DomainError::Refused(TransitionError::NotAllowedFor.key()));
    }
    let role = match asker {
        Asker::Actor => role_of(actor)?,
        Asker::System => Role::System,
    };
    let from = row.state;
    let reason =
        text::check(reason, TextRule::NOTE).map_err(|key| DomainError::field("reason", key))?;
    let to =
        domain::next_state(from, t, role, reason).map_err(|e| DomainError::Refused(e.key()))?;
    if t == Transition::Submit && row.code.is_none() {
        let today = time::OffsetDateTime::now_utc().date();
        let sample = domain::campaign_code(&tenant.slug, today, 1);
        let prefix = sample
            .rsplit_once('-')
            .map(|(p, _)| format!("{p}-"))
            .unwrap_or(sample);
        let seq = repo::next_sequence(tx, tenant.id, &prefix).await?;
        let code = domain::campaign_code(&tenant.slug, today, seq);
        repo::set_code(tx, tenant.id, id, &code).await?;
    }
    repo::record_transition(
        tx,
        tenant.id,
        id,
        from,
        to,
        t,
        (actor.user_id, actor.label.clone()),
        (!reason.is_empty()).then_some(reason),
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("campaign.transition", "campaign", id)
            .before(json!({ "state": from.code() }))
            .after(json!({ "state": to.code(), "transition": t.code(), "reason": reason })),
    )
    .await?;
    Ok(to)
}

/// A campaign request as the seller's form sends it.
#[derive(Clone, Debug)]
pub struct SaveCampaign {
    /// The draft to change; None for a new request.
    pub campaign_id: Option<Uuid>,
    pub input: CampaignInput,
    /// Also check the request is complete and submit it (which assigns its code).
    pub submit: bool,
}

/// The request form as posted (and as the API takes it): the fields, and which button was
/// pressed (`action`: "submit" submits, anything else saves a draft).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CampaignForm {
    #[serde(flatten)]
    pub input: CampaignInput,
    #[serde(default)]
    pub action: String,
}

impl CampaignForm {
    pub fn submits(&self) -> bool {
        self.action == "submit"
    }

    /// Saving this form: a new request (None) or changes to the draft `campaign_id`.
    pub fn into_input(self, campaign_id: Option<Uuid>) -> SaveCampaign {
        SaveCampaign {
            campaign_id,
            submit: self.submits(),
            input: self.input,
        }
    }
}

/// Saves a request as a draft (new, or changes to a draft), or with `submit` checks that it is
/// complete, including that its money can be compared through the reference rates, and submits
/// it through [`move_campaign`]. Only the seller's owner and operators edit requests, and only
/// drafts (another state is `Forbidden`). Wrong fields are `Invalid`, each with its message key;
/// nothing is written then. Returns the campaign's id.
pub async fn save_campaign(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SaveCampaign,
) -> DomainResult<Uuid> {
    let tenant_id = actor.tenant_id()?;
    if let Some(id) = input.campaign_id
        && !repo::exists(tx, tenant_id, id).await?
    {
        return Err(DomainError::NotFound);
    }
    actor.require(&[Access::Owner, Access::Operator])?;
    actor.require_active()?;
    if let Some(id) = input.campaign_id {
        let row = repo::get_for_update(tx, tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if row.state != CampaignState::Draft {
            return Err(DomainError::Forbidden);
        }
    }
    let shops: Vec<Uuid> = tenants::shops(tx, tenant_id)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let campaign = domain::parse_draft(&input.input, &shops).map_err(DomainError::Invalid)?;
    if input.submit {
        let rates = repo::convertible_currencies(tx).await?;
        let today = time::OffsetDateTime::now_utc().date();
        domain::validate_submit(&campaign, today, &|c: &str| rates.contains(c))
            .map_err(DomainError::Invalid)?;
    }
    let (id, entry) = match input.campaign_id {
        Some(id) => {
            repo::update_data(tx, tenant_id, id, &campaign).await?;
            (id, actor.audit("campaign.update", "campaign", id))
        }
        None => {
            let id = Uuid::now_v7();
            repo::insert(tx, tenant_id, id, &campaign, actor.user_id).await?;
            (id, actor.audit("campaign.create", "campaign", id))
        }
    };
    audit::record(
        tx,
        entry.after(serde_json::to_value(&campaign).unwrap_or_default()),
    )
    .await?;
    if input.submit {
        move_campaign(
            tx,
            actor,
            MoveCampaign {
                campaign_id: id,
                transition: Transition::Submit,
                reason: String::new(),
            },
        )
        .await?;
    }
    Ok(id)
}

/// The seller's decision on one creator of a sent shortlist.
#[derive(Clone, Debug)]
pub struct DecideEntry {
    pub campaign_id: Uuid,
    pub entry_id: Uuid,
    /// None when the request named no decision this knows (`Invalid` on the field `decision`).
    pub decision: Option<Decision>,
    /// Why a creator is rejected (required then; kept trimmed, a `TextRule::NOTE`).
    pub reason: String,
}

/// A decision as a shortlist card posts it (and as the API takes it).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DecisionForm {
    /// `approve` or `reject`.
    pub decision: String,
    /// Why the creator is rejected (required to reject); kept trimmed.
    pub reason: String,
}

impl DecisionForm {
    pub fn into_input(self, campaign_id: Uuid, entry_id: Uuid) -> DecideEntry {
        DecideEntry {
            campaign_id,
            entry_id,
            decision: Decision::parse(&self.decision),
            reason: self.reason,
        }
    }
}

/// Approves or rejects one creator of the shortlist (the seller's owner or operators), once,
/// while the shortlist is sent to the seller (else `Refused`); a rejection without a reason is
/// `Invalid` on the field `reason`. A rejected creator is never offered for this campaign again.
pub async fn decide_entry(
    tx: &mut PgConnection,
    actor: &Actor,
    input: DecideEntry,
) -> DomainResult<Decision> {
    let tenant_id = actor.tenant_id()?;
    let row = repo::get_for_update(tx, tenant_id, input.campaign_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::Owner, Access::Operator])?;
    actor.require_active()?;
    let current = repo::entry_decision_for_update(tx, tenant_id, input.campaign_id, input.entry_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let decision = input
        .decision
        .ok_or_else(|| DomainError::field("decision", "shortlist.error.decision"))?;
    let reason =
        domain::note_text(&input.reason).map_err(|key| DomainError::field("reason", key))?;
    domain::check_decision(row.state, current.is_some(), decision, &reason).map_err(
        |e| match e {
            DecisionError::Closed => DomainError::Refused(e.key()),
            DecisionError::ReasonRequired => DomainError::field("reason", e.key()),
        },
    )?;
    // Blacklisted since the shortlist was sent: it may be rejected, never approved.
    if decision == Decision::Approve
        && repo::entry_creator_blacklisted(tx, tenant_id, input.entry_id).await?
    {
        return Err(DomainError::Refused("shortlist.error.blacklisted"));
    }
    repo::record_decision(
        tx,
        tenant_id,
        input.campaign_id,
        input.entry_id,
        decision,
        &reason,
        actor.user_id,
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("shortlist.decide", "shortlist_entry", input.entry_id)
            .before(json!({ "decision": null }))
            .after(json!({ "decision": decision.code(), "reason": reason })),
    )
    .await?;
    let (decision_code, reason) = match decision {
        Decision::Approve => ("approve", None),
        Decision::Reject => ("reject", Some(reason)),
    };
    webhooks::enqueue(
        tx,
        tenant_id,
        webhooks::Event::ShortlistDecided {
            campaign_id: input.campaign_id,
            decision: decision_code,
            entry_id: Some(input.entry_id),
            reason,
        },
    )
    .await?;
    Ok(decision)
}

/// The seller asks the account manager for another round of candidates.
#[derive(Clone, Debug)]
pub struct RequestAnotherRound {
    pub campaign_id: Uuid,
}

/// Sends the campaign back to matching for another shortlist round (the seller's owner or
/// operators, from a sent shortlist). The creators offered so far are never offered again.
pub async fn request_another_round(
    tx: &mut PgConnection,
    actor: &Actor,
    input: RequestAnotherRound,
) -> DomainResult<CampaignState> {
    let tenant_id = seller_answers(tx, actor, input.campaign_id).await?;
    let state = move_campaign(
        tx,
        actor,
        MoveCampaign {
            campaign_id: input.campaign_id,
            transition: Transition::RequestAnotherRound,
            reason: String::new(),
        },
    )
    .await?;
    shortlist_answered(tx, tenant_id, input.campaign_id, "another_round").await?;
    Ok(state)
}

/// The seller goes ahead with the creators they approved.
#[derive(Clone, Debug)]
pub struct ApproveShortlist {
    pub campaign_id: Uuid,
}

/// Moves the campaign on to contracting with the approved creators (the seller's owner or
/// operators); `Refused` while none is approved.
pub async fn approve_shortlist(
    tx: &mut PgConnection,
    actor: &Actor,
    input: ApproveShortlist,
) -> DomainResult<CampaignState> {
    let tenant_id = seller_answers(tx, actor, input.campaign_id).await?;
    // The state table lets the seller go ahead; that someone is approved is checked here.
    if repo::approved_count(tx, tenant_id, input.campaign_id).await? == 0 {
        return Err(DomainError::Refused("shortlist.error.none_approved"));
    }
    let state = move_campaign(
        tx,
        actor,
        MoveCampaign {
            campaign_id: input.campaign_id,
            transition: Transition::ApproveShortlist,
            reason: String::new(),
        },
    )
    .await?;
    shortlist_answered(tx, tenant_id, input.campaign_id, "proceed").await?;
    Ok(state)
}

/// Tells the tenant's webhooks the seller answered the shortlist as a whole.
async fn shortlist_answered(
    tx: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    decision: &'static str,
) -> DomainResult<()> {
    webhooks::enqueue(
        tx,
        tenant_id,
        webhooks::Event::ShortlistDecided {
            campaign_id,
            decision,
            entry_id: None,
            reason: None,
        },
    )
    .await?;
    Ok(())
}

/// Who answers a shortlist: the seller's owner or operators of an active tenant, about one of its
/// campaigns (another tenant's is not found, before any role is checked). The tenant's id.
async fn seller_answers(
    tx: &mut PgConnection,
    actor: &Actor,
    campaign_id: Uuid,
) -> DomainResult<Uuid> {
    let tenant_id = actor.tenant_id()?;
    if !repo::exists(tx, tenant_id, campaign_id).await? {
        return Err(DomainError::NotFound);
    }
    actor.require(&[Access::Owner, Access::Operator])?;
    actor.require_active()?;
    Ok(tenant_id)
}

#[cfg(test)]
mod tests {
    use super::{CampaignForm, DecisionForm, MoveForm};
    use crate::campaigns::domain::{Decision, Transition};

    #[test]
    fn the_request_form_reads_lists_posted_once_or_repeated_and_which_button() {
        let form: CampaignForm = serde_html_form::from_bytes(
            b"title=Q1&markets=US&languages=en&languages=es&creative_freedom=1&action=submit",
        )
        .unwrap();
        assert_eq!(form.input.title, "Q1");
        assert_eq!(form.input.markets, vec!["US"]);
        assert_eq!(form.input.languages, vec!["en", "es"]);
        assert_eq!(form.input.creative_freedom, "1");
        assert!(form.input.styles.is_empty() && form.input.sku.is_empty());
        assert!(form.submits());
        let draft: CampaignForm = serde_html_form::from_bytes(b"title=Q1&action=draft").unwrap();
        assert!(!draft.into_input(None).submit);
    }

    #[test]
    fn the_small_forms_read_into_their_actions_inputs() {
        let id = uuid::Uuid::now_v7();
        let moved: MoveForm =
            serde_html_form::from_bytes(b"transition=cancel&reason=Budget").unwrap();
        let moved = moved.into_input(id).unwrap();
        assert_eq!(moved.transition, Transition::Cancel);
        assert_eq!(moved.reason, "Budget");
        let unknown: MoveForm = serde_html_form::from_bytes(b"transition=open").unwrap();
        match unknown.into_input(id) {
            Err(crate::error::DomainError::Invalid(errors)) => assert_eq!(
                errors.get("transition"),
                Some(&"api.intake.unknown_transition")
            ),
            other => panic!("an unknown transition read as {other:?}"),
        }
        for event in [
            "first_contract_accepted",
            "all_published_or_ended",
            "all_rated_or_ended",
        ] {
            let forged: MoveForm =
                serde_html_form::from_bytes(format!("transition={event}").as_bytes()).unwrap();
            assert!(
                matches!(
                    forged.into_input(id),
                    Err(crate::error::DomainError::Refused(
                        "campaign.transition_error.not_allowed_for"
                    ))
                ),
                "{event} read as a person's move"
            );
        }
        let decided: DecisionForm =
            serde_html_form::from_bytes(b"decision=reject&reason=Young").unwrap();
        let decided = decided.into_input(id, id);
        assert_eq!(decided.decision, Some(Decision::Reject));
        assert_eq!(decided.reason, "Young");
        let none: DecisionForm = serde_html_form::from_bytes(b"").unwrap();
        assert_eq!(none.into_input(id, id).decision, None);
    }
}
