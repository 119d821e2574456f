//! Order imports (SPEC §5): exports uploaded into object storage, validated and imported by a
//! background job, undone as a batch; orders attributed to collaborations automatically or by a
//! person. The parsing itself is `parse` (CSV, over `stream`) and `xlsx`, pure.
//!
//! `handlers` (pages) → `actions` (upload queued, import / cancel / undo, attribution) →
//! `domain` (the import's state table, which export fits which shop) and `repo` (all SQL,
//! the background job's too); `jobs` runs validation and import in the background, `ingest`
//! takes files already on disk through the same path.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod ingest;
pub mod jobs;
pub mod parse;
pub mod repo;
pub mod stream;
pub mod xlsx;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};

use crate::db::Db;
use crate::state::{AppState, Runtime};
use crate::storage::Storage;

/// Starts the background import worker, and registers it.
pub fn start(db: &Db, storage: &Storage, runtime: &mut Runtime) {
    runtime.insert(jobs::ImportWorker::start(db.clone(), storage.clone()));
}

/// The import worker (wake it after queueing a job).
pub fn import_worker(state: &AppState) -> &jobs::ImportWorker {
    state.part::<jobs::ImportWorker>()
}

/// The largest order export accepted (a million-row export is about 300 MB).
pub const MAX_UPLOAD_BYTES: usize = 512 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/orders/imports",
            get(handlers::index)
                .post(handlers::upload.layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))),
        )
        .route("/t/{tenant_slug}/orders/imports/{id}", get(handlers::show))
        .route(
            "/t/{tenant_slug}/orders/imports/{id}/progress",
            get(handlers::progress),
        )
        .route(
            "/t/{tenant_slug}/orders/imports/{id}/errors.csv",
            get(handlers::errors_csv),
        )
        // confirm (validated → importing), cancel (validated → cancelled), undo (imported → undone)
        .route(
            "/t/{tenant_slug}/orders/imports/{id}/{action}",
            post(handlers::action),
        )
        .route(
            "/t/{tenant_slug}/orders/unattributed",
            get(handlers::unattributed),
        )
        .route(
            "/t/{tenant_slug}/orders/attribute",
            post(handlers::attribute),
        )
        .route(
            "/t/{tenant_slug}/orders/attribute-many",
            post(handlers::attribute_many),
        )
}
