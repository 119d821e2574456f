//! Fulfilment records (SPEC §6): what happened on a collaboration against its terms — late or
//! missing posts (recorded by a background job), script deviations, a missing cart link, … —
//! with severity, note and evidence files; append-only, corrected by superseding records; and the
//! tenant's deduction policy that says what each record is worth.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod jobs;
pub mod policy;
pub mod repo;
pub mod section;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};

use crate::db::Db;
use crate::evidence::form::EVIDENCE_BODY_LIMIT;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/collaborations/{id}/fulfilment",
            post(handlers::record.layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT))),
        )
        .route(
            "/t/{tenant_slug}/fulfilment/{id}/correct",
            post(handlers::correct),
        )
        .route(
            "/t/{tenant_slug}/settings/deductions",
            get(policy::index).post(policy::save),
        )
}

/// Starts the late/no-publish job on the current runtime.
pub fn start(db: &Db) {
    jobs::spawn(db.clone());
}
