//! Post-campaign ratings (SPEC §7): scorecard templates, the rating of a collaboration by blind
//! raters on a weighted, anchored scorecard, and (in `consistency`) calibration and the raters'
//! consistency report. `domain` holds the rules, `actions` the changes, `repo` the SQL,
//! `handlers` the rating page, `jobs` the automatic moves.

pub mod actions;
pub mod consistency;
pub mod domain;
pub mod editor;
pub mod handlers;
pub mod jobs;
pub mod repo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};

use crate::db::Db;
use crate::evidence::form::EVIDENCE_BODY_LIMIT;
use crate::state::AppState;

/// Starts the rating job.
pub fn start(db: &Db) {
    jobs::spawn(db.clone());
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/collaborations/{id}/rating",
            get(handlers::show),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/rating/open",
            post(handlers::open),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/rating/raters",
            post(handlers::raters),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/rating/submit",
            post(handlers::submit.layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT))),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/rating/correct",
            post(handlers::correct.layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT))),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/rating/close",
            post(handlers::close),
        )
        .route("/t/{tenant_slug}/settings/scorecard", get(editor::index))
        .route(
            "/t/{tenant_slug}/settings/scorecard/new",
            get(editor::new).post(editor::create),
        )
        .route(
            "/t/{tenant_slug}/settings/scorecard/diff",
            get(editor::diff),
        )
        .route(
            "/t/{tenant_slug}/settings/scorecard/{version}",
            get(editor::show),
        )
}
