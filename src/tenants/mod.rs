//! Tenants: the `TenantCtx` extractor every `/t/{tenant_slug}/…` page stands on, and the
//! tenant's own pages (dashboard, shops, members, audit log). Its state changes (members, the
//! profile, sign-up) are in `actions`, their rules in `domain`, every query in `repo`.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod home;
pub mod members;
pub mod profile;
pub mod repo;
pub mod signup;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::auth::actor::{Actor, ActorTenant};
use crate::db::Tx;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant_slug}", get(handlers::redirect_to_dashboard))
        .route("/t/{tenant_slug}/", get(handlers::dashboard))
        .route("/t/{tenant_slug}/shops", get(handlers::shops))
        .route("/t/{tenant_slug}/shops/{shop_id}", get(handlers::shop))
        .route(
            "/t/{tenant_slug}/settings/profile",
            get(profile::form).post(profile::save),
        )
        .route(
            "/t/{tenant_slug}/members",
            get(members::index).post(members::add),
        )
        .route(
            "/t/{tenant_slug}/members/{user_id}/role",
            post(members::change_role),
        )
        .route(
            "/t/{tenant_slug}/members/{user_id}/remove",
            post(members::remove),
        )
        .route(
            "/t/{tenant_slug}/members/{user_id}/reset-link",
            post(members::reset_link),
        )
        .route("/signup", get(signup::form).post(signup::submit))
}

/// What a person may do inside a tenant: their membership role, or an account manager's
/// assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Owner,
    Operator,
    Viewer,
    AccountManager,
}

impl Access {
    pub fn label_key(self) -> &'static str {
        match self {
            Access::Owner => "role.owner",
            Access::Operator => "role.operator",
            Access::Viewer => "role.viewer",
            Access::AccountManager => "role.account_manager",
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub legal_name: Option<String>,
    pub status: domain::TenantStatus,
    pub time_zone: String,
    pub settlement_currency: String,
    pub profile_completed_at: Option<time::OffsetDateTime>,
    pub status_reason: Option<String>,
}

/// A request inside one tenant: the tenant, the person, what they may do, and the tenant-scoped
/// transaction (RLS on) the handler works in. Membership — or, for an account manager, the
/// assignment — is checked again on every request; a stranger gets 404, never 403.
pub struct TenantCtx {
    /// Who acts (pass `&ctx.actor` to actions); the fields below are its parts, for pages.
    pub actor: Actor,
    pub tenant: Tenant,
    pub user: CurrentUser,
    pub access: Access,
    pub tx: Tx,
}

impl TenantCtx {
    /// Until the agency approves a tenant (or while it is suspended) its people may open only the
    /// dashboard, which says what is pending, and the company profile.
    pub fn require_active(&self) -> Result<(), AppError> {
        if self.tenant.status.is_active() {
            Ok(())
        } else {
            Err(AppError::TenantNotActive {
                slug: self.tenant.slug.clone(),
            })
        }
    }

    /// Abandons this request's transaction (nothing it did is kept) and opens a fresh one in the
    /// same tenant, e.g. to show a page again after a refused change.
    pub async fn reopen(self, db: &crate::db::Db) -> Result<TenantCtx, AppError> {
        let TenantCtx {
            actor,
            tenant,
            user,
            access,
            tx,
        } = self;
        drop(tx);
        let tx = db.tenant_tx(tenant.id, Some(user.id)).await?;
        Ok(TenantCtx {
            actor,
            tenant,
            user,
            access,
            tx,
        })
    }

    /// 403 unless the person's access is one of `allowed`.
    pub fn require(&self, allowed: &[Access]) -> Result<(), AppError> {
        if allowed.contains(&self.access) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The request's `Actor` (membership or assignment checked, no transaction held) plus the
/// tenant-scoped transaction the handler reads and acts in.
impl<S> FromRequestParts<S> for TenantCtx
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let actor = Actor::from_request_parts(parts, state).await?;
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let Some(ActorTenant { tenant, access }) = actor.tenant.clone() else {
            return Err(AppError::NotFound);
        };
        let app = AppState::from_ref(state);
        let tx = app.db.tenant_tx(tenant.id, Some(user.id)).await?;
        Ok(TenantCtx {
            actor,
            tenant,
            user,
            access,
            tx,
        })
    }
}
