//! The `Actor`: who is acting (a person, or a command such as `seed-demo`), in which tenant, with
//! which roles. Every action takes one (`action(tx, &Actor, input)`), whatever front door the
//! request came through: the page extractor below builds it from the session and the URL, the JSON
//! API will build it from a token, the CLI builds a system actor. Building it opens no
//! transaction: the action runs in the tenant-scoped transaction its caller opens.

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use std::collections::HashMap;
use uuid::Uuid;

use super::{CurrentUser, PlatformRole};
use crate::audit;
use crate::error::{AppError, DomainError};
use crate::state::AppState;
use crate::tenants::{Access, Tenant};

#[derive(Clone, Debug)]
pub struct Actor {
    /// The person; None for the system (a command, a background job).
    pub user_id: Option<Uuid>,
    /// How audit entries name the actor (an email, or the command's name).
    pub label: String,
    pub platform_role: Option<PlatformRole>,
    /// The tenant the actor works in, with their access there (None: platform work).
    pub tenant: Option<ActorTenant>,
}

/// The tenant an actor works in and what they may do there.
#[derive(Clone, Debug)]
pub struct ActorTenant {
    pub tenant: Tenant,
    pub access: Access,
}

impl Actor {
    /// A signed-in person outside any tenant (the staff console, their own account).
    pub fn user(user: &CurrentUser) -> Actor {
        Actor {
            user_id: Some(user.id),
            label: user.label(),
            platform_role: user.platform_role,
            tenant: None,
        }
    }

    /// A signed-in person inside a tenant with the given access.
    pub fn in_tenant(user: &CurrentUser, tenant: Tenant, access: Access) -> Actor {
        Actor {
            tenant: Some(ActorTenant { tenant, access }),
            ..Actor::user(user)
        }
    }

    /// A command or job, named in the audit log by `label`.
    pub fn system(label: &str) -> Actor {
        Actor {
            user_id: None,
            label: label.to_string(),
            platform_role: None,
            tenant: None,
        }
    }

    /// The same actor working inside `tenant` with `access` (a system actor seeding a tenant).
    pub fn within(mut self, tenant: Tenant, access: Access) -> Actor {
        self.tenant = Some(ActorTenant { tenant, access });
        self
    }

    /// The tenant the actor works in; an action that needs one and has none finds nothing.
    pub fn tenant(&self) -> Result<&Tenant, DomainError> {
        self.tenant
            .as_ref()
            .map(|t| &t.tenant)
            .ok_or(DomainError::NotFound)
    }

    pub fn tenant_id(&self) -> Result<Uuid, DomainError> {
        self.tenant().map(|t| t.id)
    }

    pub fn access(&self) -> Option<Access> {
        self.tenant.as_ref().map(|t| t.access)
    }

    /// Forbidden unless the actor's access in the tenant is one of `allowed`.
    pub fn require(&self, allowed: &[Access]) -> Result<(), DomainError> {
        match self.access() {
            Some(a) if allowed.contains(&a) => Ok(()),
            Some(_) => Err(DomainError::Forbidden),
            None => Err(DomainError::NotFound),
        }
    }

    /// Until the agency approves a tenant (or while it is suspended) nothing in it changes but
    /// its profile.
    pub fn require_active(&self) -> Result<(), DomainError> {
        let tenant = self.tenant()?;
        if tenant.status.is_active() {
            Ok(())
        } else {
            Err(DomainError::TenantNotActive {
                slug: tenant.slug.clone(),
            })
        }
    }

    /// Forbidden unless the actor is staff with this platform role (or the system).
    pub fn require_platform(&self, role: PlatformRole) -> Result<(), DomainError> {
        if self.platform_role == Some(role) || self.user_id.is_none() {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// An audit entry about one entity, done by this actor in its tenant (if any).
    pub fn audit(
        &self,
        action: &'static str,
        entity_type: &'static str,
        entity_id: impl ToString,
    ) -> audit::Entry {
        audit::Entry::new(action, entity_type, Some(entity_id.to_string()))
            .actor(self.user_id, self.label.clone())
            .tenant(self.tenant.as_ref().map(|t| t.tenant.id))
    }
}

/// The signed-in person and, on `/t/{tenant_slug}/…` routes, the tenant and their access there —
/// membership, or an account manager's assignment, checked again on every request. A stranger to
/// the tenant gets 404, never 403. Other staff (admin, finance) have no access inside a tenant.
impl<S> FromRequestParts<S> for Actor
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(actor) = parts.extensions.get::<Actor>() {
            return Ok(actor.clone());
        }
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let actor = match params.get("tenant_slug") {
            None => Actor::user(&user),
            Some(slug) => {
                let app = AppState::from_ref(state);
                let found = crate::tenants::repo::tenant_access(app.db.pool(), slug, user.id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let access = found
                    .access_for(user.platform_role)
                    .ok_or(AppError::NotFound)?;
                Actor::in_tenant(&user, found.tenant, access)
            }
        };
        parts.extensions.insert(actor.clone());
        Ok(actor)
    }
}
