//! Content review (SPEC §10, the second seed article): versioned deliverables per collaboration
//! named `{SKU}_{type}_{lang}_v{n}`, a self-check against the checklist (data, per platform and
//! market) then a cross-review by someone else; change requests past the contract's included
//! revisions and posts before the final video's approval become fulfilment records.

pub mod actions;
pub mod checklists;
pub mod domain;
pub mod handlers;
pub mod repo;
pub mod section;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};

use crate::evidence::form::EVIDENCE_BODY_LIMIT;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/collaborations/{id}/deliverables",
            post(handlers::add.layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT))),
        )
        .route(
            "/t/{tenant_slug}/deliverables/{id}/self-check",
            post(handlers::self_check),
        )
        .route(
            "/t/{tenant_slug}/deliverables/{id}/review",
            post(handlers::review),
        )
        .route(
            "/t/{tenant_slug}/deliverables/{id}/file",
            get(handlers::file),
        )
        .route(
            "/t/{tenant_slug}/settings/content-review",
            post(handlers::switch),
        )
        .route(
            "/admin/checklists",
            get(checklists::index).post(checklists::add),
        )
        .route(
            "/admin/checklists/{id}/active",
            post(checklists::set_active),
        )
}
