//! Matching (SPEC §3): ranking the creator pool for a campaign. `domain.rs` is the reference
//! scoring function; every faster path must agree with it.

pub mod domain;
pub mod handlers;
pub mod pool;
pub mod repo;
pub mod settings;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/matching-weights",
            get(settings::form).post(settings::save),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/matching",
            get(handlers::show).post(handlers::send),
        )
}
