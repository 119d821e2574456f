//! Dashboards (SPEC §5): the campaign overview (`campaign`) with its daily charts (`charts`,
//! server-rendered SVG) and their SQL (`repo`).

pub mod campaign;
pub mod charts;
pub mod repo;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/t/{tenant_slug}/campaigns/{id}/dashboard",
        get(campaign::show),
    )
}
