//! Tiers (SPEC §8): each creator's S/A/B/C tier per tenant (and the platform's), with the reason
//! in words, history, warnings, the re-book recommendation, blacklists and the owner's override.
//!
//! `handlers` (the seller's and the staff's sections and forms) → `actions` (refresh, the
//! tenant-wide and platform passes, override, blacklists) → `domain` (the rules, pure) and
//! `repo` (all SQL); `job` runs the daily pass and the platform refresh; `predict` is the
//! "Do the tiers predict?" report.

pub mod actions;
pub mod chart;
pub mod domain;
pub mod handlers;
pub mod job;
pub mod predict;
pub mod repo;
pub mod sections;

use axum::Router;
use axum::routing::post;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/creators/{id}/tier",
            post(handlers::override_tier),
        )
        .route(
            "/t/{tenant_slug}/blacklist/{id}",
            post(handlers::decide_blacklist),
        )
        .route(
            "/admin/creators/{id}/platform-blacklist",
            post(handlers::platform_blacklist),
        )
        .merge(predict::router())
}
