//! Login, sessions, passwords, platform roles, and the `CurrentUser` extractor. `actions` holds the
//! password changes, `repo` every query of the feature (people, one-time links, the login throttle).

pub mod actions;
pub mod actor;
pub mod forgot;
pub mod handlers;
pub mod links;
pub mod password;
pub mod password_pages;
pub mod repo;
pub mod throttle;

use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use tower_sessions::Session;
use uuid::Uuid;

use crate::error::AppError;
use crate::state::AppState;

pub use actor::Actor;

pub const SESSION_USER_KEY: &str = "uid";

/// An agency staff member's role (column `users.platform_role`, text with a CHECK; NULL for a
/// seller's people).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Deserialize)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PlatformRole {
    Admin,
    AccountManager,
    Finance,
}

impl PlatformRole {
    /// In the order the staff console offers them.
    pub const ALL: [PlatformRole; 3] = [
        PlatformRole::Admin,
        PlatformRole::AccountManager,
        PlatformRole::Finance,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(PlatformRole::Admin),
            "account_manager" => Some(PlatformRole::AccountManager),
            "finance" => Some(PlatformRole::Finance),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformRole::Admin => "admin",
            PlatformRole::AccountManager => "account_manager",
            PlatformRole::Finance => "finance",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            PlatformRole::Admin => "role.admin",
            PlatformRole::AccountManager => "role.account_manager",
            PlatformRole::Finance => "role.finance",
        }
    }
}

impl std::fmt::Display for PlatformRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in person, re-read from the database on every request (so a deactivated account's
/// sessions end at once).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub platform_role: Option<PlatformRole>,
}

impl CurrentUser {
    /// 403 unless the person has this platform role.
    pub fn require(&self, role: PlatformRole) -> Result<(), AppError> {
        if self.platform_role == Some(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// How audit entries name the person.
    pub fn label(&self) -> String {
        self.email.clone()
    }
}

/// The signed-in person if there is one.
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S> FromRequestParts<S> for MaybeUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(MaybeUser(Some(user.clone())));
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| AppError::Internal(anyhow::anyhow!("session layer: {msg}")))?;
        let Some(id) = session.get::<Uuid>(SESSION_USER_KEY).await? else {
            return Ok(MaybeUser(None));
        };
        let app = AppState::from_ref(state);
        match repo::find_active_by_id(app.db.pool(), id).await? {
            Some(user) => {
                parts.extensions.insert(user.clone());
                Ok(MaybeUser(Some(user)))
            }
            None => {
                // The account is gone or deactivated: end this session.
                session.flush().await?;
                Ok(MaybeUser(None))
            }
        }
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(user)) => Ok(user),
            MaybeUser(None) => {
                let uri = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map(|u| u.0.clone())
                    .unwrap_or_else(|| parts.uri.clone());
                let next = uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                Err(AppError::LoginRequired { next })
            }
        }
    }
}
