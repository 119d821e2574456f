//! Performance (SPEC §5): posts and their metric snapshots (by hand and by CSV), D1/D7/D14/D30
//! windows and KPIs per post, collaboration and campaign against the campaign's targets, the
//! campaign dashboard with its daily charts, and the performance sections other pages show (the
//! collaboration page, the seller's creator page, the account manager's work queue).
//!
//! `actions` holds every change (posts, snapshots by hand, snapshot uploads and their decision),
//! `domain` and `csv_import` the rules, `repo` the SQL; `posts`, `imports` and `dashboard` are
//! the pages, `sections` the parts other features' pages show.

pub mod actions;
pub mod charts;
pub mod csv_import;
pub mod dashboard;
pub mod domain;
pub mod imports;
pub mod kpis;
pub mod posts;
pub mod repo;
pub mod sections;

pub(crate) use crate::web::parse_id;
use axum::Router;
use axum::routing::{get, post};
use time_tz::{Tz, timezones};

use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/collaborations/{id}/posts/new",
            get(posts::new_post),
        )
        .route(
            "/t/{tenant_slug}/collaborations/{id}/posts",
            post(posts::create_post),
        )
        .route("/t/{tenant_slug}/posts/{id}", get(posts::show_post))
        .route(
            "/t/{tenant_slug}/posts/{id}/snapshots",
            post(posts::add_snapshot),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/dashboard",
            get(dashboard::show),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/snapshots/import",
            get(imports::form).post(imports::upload),
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
