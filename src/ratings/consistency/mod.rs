//! How consistently a tenant's raters score (SPEC §7): calibration of a completed rating's
//! subjective levels, per-rater statistics and Krippendorff's alpha, and the report page.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod repo;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/t/{tenant_slug}/ratings/consistency",
        get(handlers::show),
    )
}
