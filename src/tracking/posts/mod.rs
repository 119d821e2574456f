//! Posts and their metric snapshots (SPEC §5), by hand and by CSV upload, and the work queue's
//! overdue posts.
//!
//! `actions` holds every change (posts, snapshots by hand, snapshot uploads and their decision),
//! `domain` and `csv_import` the rules, `repo` the SQL; `handlers` (a post's pages) and
//! `imports` (the upload pages) are the pages.

pub mod actions;
pub mod csv_import;
pub mod domain;
pub mod handlers;
pub mod imports;
pub mod repo;
pub mod views;

pub(crate) use crate::web::parse_id;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, post};
use time_tz::{Tz, timezones};

use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};

/// The largest snapshot CSV accepted (about 600,000 rows): far above a campaign's posts times
/// a daily reading, small enough to check within the request.
pub const MAX_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// How much of a larger upload is still read (and thrown away) so that the browser gets the
/// "too large" page instead of a reset connection; past this the connection is dropped.
pub const MAX_UPLOAD_READ: usize = 4 * MAX_UPLOAD_BYTES as usize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/collaborations/{id}/posts/new",
            get(handlers::new_post),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/posts",
            post(handlers::create_post),
        )
        .route("/t/{tenant_slug}/posts/{id}", get(handlers::show_post))
        .route(
            "/t/{tenant_slug}/posts/{id}/snapshots",
            post(handlers::add_snapshot),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/snapshots/import",
            get(imports::form).post(imports::upload.layer(DefaultBodyLimit::max(MAX_UPLOAD_READ))),
        )
        .route(
            "/t/{tenant_slug}/snapshot-imports/{id}",
            get(imports::report),
        )
        .route(
            "/t/{tenant_slug}/snapshot-imports/{id}/errors.csv",
            get(imports::errors_csv),
        )
        .route(
            "/t/{tenant_slug}/snapshot-imports/{id}/confirm",
            post(imports::confirm),
        )
        .route(
            "/t/{tenant_slug}/snapshot-imports/{id}/cancel",
            post(imports::cancel),
        )
}

/// Owners, operators and the assigned account manager record posts and snapshots.
pub(crate) fn can_write(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require_active()?;
    ctx.require(&[Access::Owner, Access::Operator, Access::AccountManager])
}

/// A stored zone name (validated when the shop or tenant was saved); UTC if it ever is not.
pub(crate) fn zone_of(name: &str) -> &'static Tz {
    timezones::get_by_name(name)
        .or_else(|| timezones::get_by_name("UTC"))
        .expect("the time zone database has UTC")
}
