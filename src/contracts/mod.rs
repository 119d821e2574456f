//! Contracts (SPEC §4): a collaboration's terms, versions and states. `actions` holds every
//! change (create, amend, the account manager's events, the moves other features' facts cause),
//! `domain` the rules (terms, codes, slugs, the state table), `repo` the SQL, `handlers` the pages.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod repo;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/campaigns/{id}/collaborations/new",
            get(handlers::new),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/collaborations",
            get(handlers::campaign_list).post(handlers::create),
        )
        .route("/t/{tenant_slug}/collaborations/{id}", get(handlers::show))
        .route(
            "/t/{tenant_slug}/collaborations/{id}/event",
            post(handlers::event),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/terms",
            get(handlers::edit_terms).post(handlers::save_terms),
        )
}
