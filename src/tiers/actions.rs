//! Actions on tiers and blacklists.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::actor::Actor;
use crate::error::DomainResult;

/// What made a tier be computed again (kept in the tier's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierCause {
    Rating,
    Fulfilment,
    Blacklist,
    Daily,
    Override,
}

/// Computes the creator's tier in the actor's tenant again, in the caller's transaction, after
/// a change that affects it (a rating completed, a fulfilment record, a blacklist entry).
pub async fn refresh_creator(
    _tx: &mut PgConnection,
    _actor: &Actor,
    _creator_id: Uuid,
    _cause: TierCause,
) -> DomainResult<()> {
    Ok(())
}

/// A severe fulfilment record proposes a blacklist entry for the owner to confirm.
#[derive(Debug, Clone)]
pub struct ProposeBlacklist {
    pub creator_id: Uuid,
    pub fulfilment_record_id: Option<Uuid>,
    pub reason: String,
}

/// Proposes the entry unless the creator already has an open (proposed or confirmed) one;
/// answers the new entry's id.
pub async fn propose_blacklist(
    _tx: &mut PgConnection,
    _actor: &Actor,
    _input: ProposeBlacklist,
) -> DomainResult<Option<Uuid>> {
    Ok(None)
}
