//! Dashboards (SPEC §5): the campaign overview (`campaign`) with its daily charts (`charts`,
//! server-rendered SVG) and their SQL (`repo`).

pub mod actions;
pub mod campaign;
pub mod charts;
pub mod repo;
pub mod report;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/campaigns/{id}/dashboard",
            get(campaign::show),
        )
        .route("/t/{tenant_slug}/campaigns/{id}/report", get(report::show))
        .route(
            "/t/{tenant_slug}/campaigns/{id}/report.xlsx",
            get(report::xlsx),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/report/lessons",
            post(report::save_lessons),
        )
}
