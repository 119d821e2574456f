//! The agency's creator pool (shared by all tenants), its CSV import, reference rates, and the
//! sellers' view of the creators offered to them.
//!
//! `handlers` (staff pages) and `seller` (the tenant's pages) → `actions` (creator file
//! upload, import, cancel; reference rates) → `domain` (what a rate must be) and `repo` (all
//! SQL); `import` reads creator files.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod import;
pub mod repo;
pub mod seller;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/creators", get(handlers::index))
        .route(
            "/admin/creators/import",
            get(handlers::import_form).post(handlers::upload),
        )
        .route("/admin/creators/import/{id}", get(handlers::report))
        .route(
            "/admin/creators/import/{id}/errors.csv",
            get(handlers::errors_csv),
        )
        .route(
            "/admin/creators/import/{id}/confirm",
            post(handlers::confirm),
        )
        .route("/admin/creators/import/{id}/cancel", post(handlers::cancel))
        .route("/admin/creators/{id}", get(handlers::show))
        .route("/admin/creators/{id}/status", post(handlers::set_status))
        .route(
            "/admin/creators/{id}/edit",
            get(handlers::edit).post(handlers::save_edit),
        )
        .route("/t/{tenant_slug}/creators", get(seller::index))
        .route("/t/{tenant_slug}/creators/{id}", get(seller::show))
        .route(
            "/admin/rates",
            get(handlers::rates_index).post(handlers::rates_add),
        )
}
