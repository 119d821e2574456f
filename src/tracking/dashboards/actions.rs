//! The campaign report's one change: its lessons learned, `(tx, &Actor, input)`.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::repo;
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kernel::text::{self, TextRule};
use crate::tenants::Access;

#[derive(Debug, Clone, Default)]
pub struct SaveLessons {
    pub campaign_id: Uuid,
    pub lessons: String,
}

/// Writes the campaign's lessons learned (the owner, operators and the account manager); the
/// campaign must be the tenant's (404).
pub async fn save_lessons(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SaveLessons,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    crate::campaigns::repo::get(tx, tenant, input.campaign_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])?;
    actor.require_active()?;
    let lessons = text::check(&input.lessons, TextRule::NOTE)
        .map_err(|k| DomainError::field("lessons", k))?;
    let before = repo::lessons(tx, tenant, input.campaign_id).await?;
    repo::set_lessons(
        tx,
        tenant,
        input.campaign_id,
        lessons,
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("campaign.lessons", "campaign", input.campaign_id)
            .before(json!({ "lessons": before }))
            .after(json!({ "lessons": lessons })),
    )
    .await?;
    Ok(())
}
