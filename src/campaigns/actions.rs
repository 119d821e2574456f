//! The campaign's state changes (SPEC §2), each one function `(tx, &Actor, input)` that checks
//! its rule (`domain`), writes through `repo` and records its audit entry. Pages and the API call
//! these; nothing of a rule lives in a handler.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, CampaignState, Role, Transition};
use super::repo;
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::tenants::Access;

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

/// Checks and records one state move of a campaign (the row is locked for it). Submitting
/// assigns the campaign's code, which never changes afterwards. A move the state table does not
/// allow is `Refused` with its reason's message key.
pub async fn move_campaign(
    tx: &mut PgConnection,
    actor: &Actor,
    input: MoveCampaign,
) -> DomainResult<CampaignState> {
    let tenant = actor.tenant()?;
    let id = input.campaign_id;
    let row = repo::get_for_update(tx, tenant.id, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require_active()?;
    let from = CampaignState::parse(&row.state).ok_or(DomainError::NotFound)?;
    let t = input.transition;
    let to = domain::next_state(from, t, role_of(actor)?, &input.reason)
        .map_err(|e| DomainError::Refused(e.key()))?;
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
    let reason = input.reason.trim();
    repo::record_transition(
        tx,
        tenant.id,
        id,
        from.code(),
        to.code(),
        t.code(),
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
