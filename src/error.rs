//! Errors. Actions answer with a `DomainError` (what went wrong in the product's terms); handlers
//! turn it into an `AppError`, which every front door renders in its own way: a friendly,
//! localized page, an htmx partial, or `application/problem+json` (the negotiation happens in
//! `web::render_error_pages`, which knows the request). The cause of a 5xx is logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::kernel::FieldErrors;

/// What an action can answer besides its result. Rules speak in message keys, never in HTTP.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing does not exist, or not for this actor (another tenant's id is "not found").
    #[error("not found")]
    NotFound,
    /// The actor may see the thing but not do this to it.
    #[error("forbidden")]
    Forbidden,
    /// The tenant is not approved yet (or is suspended): only its dashboard and profile work.
    #[error("tenant not active")]
    TenantNotActive { slug: String },
    /// The input is wrong; each field says why (message keys).
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// The input is fine but the rule says no in the current state (a message key).
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    /// One field's error.
    /// What a page shows when it renders itself again after this error: a refusal's reason,
    /// or the message of the first field that failed (forms whose one free-text field sits
    /// beside the buttons, like a state move's reason). None for the rest.
    pub fn page_message(&self) -> Option<&'static str> {
        match self {
            DomainError::Refused(key) => Some(key),
            DomainError::Invalid(errors) => errors.values().next().copied(),
            _ => None,
        }
    }

    pub fn field(name: &str, key: &'static str) -> DomainError {
        let mut errors = FieldErrors::new();
        errors.insert(name.to_string(), key);
        DomainError::Invalid(errors)
    }

    /// A unique violation of one of `fields` (constraint name, field, message key) becomes that
    /// field's error, so two requests racing for the same value get "already taken", never a 500.
    /// Any other error passes through.
    pub fn unique_as_field(e: sqlx::Error, fields: &[(&str, &str, &'static str)]) -> DomainError {
        if let Some(constraint) = crate::db::unique_violation(&e)
            && let Some((_, field, key)) = fields.iter().find(|(c, _, _)| *c == constraint)
        {
            return DomainError::field(field, key);
        }
        DomainError::Database(e)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("login required")]
    LoginRequired { next: String },
    #[error("tenant not active")]
    TenantNotActive { slug: String },
    /// 422 with a message per field.
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// 409: the request is well-formed but the current state refuses it (a message key).
    #[error("refused: {0}")]
    Refused(&'static str),
    /// 503: the database (or the session store in it) cannot be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AppError::NotFound,
            e if database_unreachable(&e) => AppError::Unavailable(e.into()),
            other => AppError::Database(other),
        }
    }
}

/// Whether `e` says the database cannot be reached right now (rather than that a query is wrong):
/// no connection, a broken one, or the server shutting down, starting up or full.
pub fn database_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin or crash shutdown, cannot
        // connect now), 53300 (too many connections).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => AppError::NotFound,
            DomainError::Forbidden => AppError::Forbidden,
            DomainError::TenantNotActive { slug } => AppError::TenantNotActive { slug },
            DomainError::Invalid(errors) => AppError::Invalid(errors),
            DomainError::Refused(key) => AppError::Refused(key),
            DomainError::Database(e) => e.into(),
            DomainError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    /// The session store is a table in the database: when its backend fails, the database is
    /// away (the store hands over only the error's text), and the page is the friendly 503.
    fn from(e: tower_sessions::session::Error) -> Self {
        use tower_sessions::session::Error as SessionError;
        use tower_sessions::session_store::Error as StoreError;
        match e {
            SessionError::Store(StoreError::Backend(msg)) => {
                AppError::Unavailable(anyhow::anyhow!("session store: {msg}"))
            }
            other => AppError::Internal(anyhow::anyhow!("session store: {other}")),
        }
    }
}

/// Marks a response whose body the error-page middleware fills in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorPage(pub StatusCode);

/// What the error-page middleware says beyond the status: the fields that were wrong, or the
/// reason for a refusal (message keys).
#[derive(Clone, Debug)]
pub enum ErrorDetail {
    Invalid(FieldErrors),
    Refused(&'static str),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut detail = None;
        let status = match self {
            AppError::LoginRequired { next } => {
                let target = format!("/login?next={}", urlencode(&next));
                return Redirect::to(&target).into_response();
            }
            AppError::TenantNotActive { slug } => {
                return Redirect::to(&format!("/t/{slug}/")).into_response();
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Invalid(errors) => {
                detail = Some(ErrorDetail::Invalid(errors));
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Refused(key) => {
                detail = Some(ErrorDetail::Refused(key));
                StatusCode::CONFLICT
            }
            AppError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(e) => {
                tracing::error!(error = ?e, "database error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage(status));
        if let Some(detail) = detail {
            response.extensions_mut().insert(detail);
        }
        response
    }
}

/// What `urlencode` leaves as it is: RFC 3986's unreserved characters, and `/` so a path in
/// `next=` stays readable.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a value for a query string.
pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}
