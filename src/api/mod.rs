//! The JSON API (issue 18, begun): API tokens per tenant — made and revoked by the owner, shown
//! once, kept hashed, scope read or write, last-used time — the Bearer-only front door that
//! re-checks the token's person on every request, the first read, `/api/v1/campaigns`, and the first write, `POST /api/v1/posts`.

pub mod actions;
pub mod domain;
pub mod extract;
pub mod repo;
pub mod settings;
pub mod v1;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/settings/api-tokens",
            get(settings::index).post(settings::create),
        )
        .route(
            "/t/{tenant_slug}/settings/api-tokens/{id}/revoke",
            post(settings::revoke),
        )
        .route("/api/v1/campaigns", get(v1::campaigns))
        .route("/api/v1/posts", post(v1::create_post_api))
}
