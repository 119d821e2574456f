//! API tokens' actions: the owner creates one (shown once) and revokes one.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, Scope};
use super::repo::{self, NewTokenRow};
use crate::audit;
use crate::auth::{Actor, PlatformRole};
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::tenants::Access;

#[derive(Debug, Clone, Default)]
pub struct CreateToken {
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
}

/// A token just made: its id and the token itself (shown once, never stored).
pub struct CreatedToken {
    pub id: Uuid,
    pub token: String,
}

fn owner_only(actor: &Actor) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    Ok(tenant)
}

/// Creates a token bound to the owner who makes it.
pub async fn create_token(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreateToken,
) -> DomainResult<CreatedToken> {
    let tenant = owner_only(actor)?;
    make(tx, actor, Some(tenant), input).await
}

/// Creates a staff token: an account manager's, bound to no company (each request names one
/// and is let in only where the person is assigned then). Other staff reach no company's data,
/// so they make none.
pub async fn create_staff_token(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreateToken,
) -> DomainResult<CreatedToken> {
    if actor.platform_role != Some(PlatformRole::AccountManager) {
        return Err(DomainError::Forbidden);
    }
    make(tx, actor, None, input).await
}

/// Checks the form, stores the token's hash and records the audit entry.
async fn make(
    tx: &mut PgConnection,
    actor: &Actor,
    tenant: Option<Uuid>,
    input: CreateToken,
) -> DomainResult<CreatedToken> {
    let user = actor.user_id.ok_or(DomainError::Forbidden)?;
    let mut errors = FieldErrors::new();
    let name = domain::name(&input.name).map_err(|k| errors.insert("name".into(), k));
    let scope = Scope::parse(&input.scope).ok_or("api.error.scope");
    if let Err(k) = scope {
        errors.insert("scope".into(), k);
    }
    let (Ok(name), Ok(scope)) = (name, scope) else {
        return Err(DomainError::Invalid(errors));
    };
    let new = domain::generate();
    let id = Uuid::now_v7();
    repo::insert(
        tx,
        &NewTokenRow {
            tenant_id: tenant,
            id,
            user_id: user,
            name,
            scope: scope.code(),
            hash: &new.hash,
            prefix: &new.prefix,
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("api_token.create", "api_token", id)
            .after(json!({
                "name": name,
                "scope": scope.code(),
                "prefix": new.prefix,
                "staff": tenant.is_none(),
            })),
    )
    .await?;
    Ok(CreatedToken {
        id,
        token: new.token,
    })
}

/// Revokes one of the tenant's tokens (another tenant's, or one already revoked: not found).
pub async fn revoke_token(tx: &mut PgConnection, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let tenant = owner_only(actor)?;
    if !repo::revoke(tx, tenant, id, actor.user_id).await? {
        return Err(DomainError::NotFound);
    }
    audit::record(
        tx,
        actor
            .audit("api_token.revoke", "api_token", id)
            .before(json!({ "revoked": false }))
            .after(json!({ "revoked": true })),
    )
    .await?;
    Ok(())
}

/// Revokes one of the person's own staff tokens (anyone else's, or one already revoked: not
/// found).
pub async fn revoke_staff_token(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> DomainResult<()> {
    let user = actor.user_id.ok_or(DomainError::Forbidden)?;
    if !repo::revoke_staff(tx, user, id).await? {
        return Err(DomainError::NotFound);
    }
    audit::record(
        tx,
        actor
            .audit("api_token.revoke", "api_token", id)
            .before(json!({ "revoked": false }))
            .after(json!({ "revoked": true, "staff": true })),
    )
    .await?;
    Ok(())
}

/// Makes a token as `email` in the company `slug` (the command line's `sextant api-token`): the
/// same action and checks as the settings page, the person's access in the company decided as
/// for any request. Answers the token.
pub async fn token_for(
    db: &crate::db::Db,
    slug: &str,
    email: &str,
    name: String,
    scope: String,
) -> anyhow::Result<String> {
    let row = crate::auth::repo::find_by_email(db.pool(), email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no person with the email {email}"))?;
    let user = crate::auth::repo::find_active_by_id(db.pool(), row.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{email} is not active"))?;
    let (tenant, access) = crate::tenants::repo::tenant_access(db.pool(), slug, user.id)
        .await?
        .and_then(|found| {
            let access = found.access_for(user.platform_role)?;
            Some((found.tenant, access))
        })
        .ok_or_else(|| anyhow::anyhow!("{email} has no access to {slug}"))?;
    let actor = Actor::in_tenant(&user, tenant, access);
    let mut tx = db.tenant_tx(actor.tenant_id()?, actor.user_id).await?;
    let made = create_token(&mut tx, &actor, CreateToken { name, scope })
        .await
        .map_err(|e| anyhow::anyhow!("refused: {e}"))?;
    tx.commit().await?;
    Ok(made.token)
}

/// `sextant api-token --staff`: an account manager's staff token, as "My API tokens" makes it.
pub async fn staff_token_for(
    db: &crate::db::Db,
    email: &str,
    name: String,
    scope: String,
) -> anyhow::Result<String> {
    let row = crate::auth::repo::find_by_email(db.pool(), email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no person with the email {email}"))?;
    let user = crate::auth::repo::find_active_by_id(db.pool(), row.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{email} is not active"))?;
    let actor = Actor::user(&user);
    let mut tx = db.system_tx(crate::db::SystemScope::Auth).await?;
    let made = create_staff_token(&mut tx, &actor, CreateToken { name, scope })
        .await
        .map_err(|e| anyhow::anyhow!("refused: {e}"))?;
    tx.commit().await?;
    Ok(made.token)
}
