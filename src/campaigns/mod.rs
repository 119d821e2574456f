//! Intake (SPEC §2): a seller's campaign request, its states and transitions.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod list;
pub mod repo;
pub mod shortlist;
pub mod tabs;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/campaigns",
            get(list::index).post(handlers::create),
        )
        .route("/t/{tenant_slug}/campaigns/new", get(handlers::new))
        .route(
            "/t/{tenant_slug}/campaigns/{id}",
            get(handlers::show).post(handlers::update),
        )
        .route("/t/{tenant_slug}/campaigns/{id}/edit", get(handlers::edit))
        .route(
            "/t/{tenant_slug}/campaigns/{id}/transition",
            post(handlers::transition),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/shortlist",
            get(shortlist::show),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/shortlist/another-round",
            post(shortlist::another_round),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/shortlist/proceed",
            post(shortlist::proceed),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/shortlist/{entry}",
            post(shortlist::decide),
        )
}
