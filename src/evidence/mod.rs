//! Evidence files (SPEC §6, §7, §8): images or PDFs attached to fulfilment records, ratings and
//! blacklist entries; checked by content, at most 10 MB, kept in object storage, served back only
//! to the same tenant's users with a safe content type and `Content-Disposition`.

pub mod actions;
pub mod domain;
pub mod form;
pub mod handlers;
pub mod repo;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/t/{tenant_slug}/evidence/{id}", get(handlers::show))
}
