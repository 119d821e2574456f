//! Matching (SPEC §3): ranking the creator pool for a campaign. `domain.rs` is the reference
//! scoring function; every faster path must agree with it.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod pool;
pub mod repo;
pub mod settings;

use axum::Router;
use axum::routing::get;

use std::sync::Arc;

use crate::db::Db;
use crate::state::{AppState, Runtime};

/// Starts keeping the creator pool's projection warm, and registers it.
pub fn start(db: &Db, runtime: &mut Runtime) {
    let cache: Arc<pool::PoolCache> = Default::default();
    pool::spawn_refresher(cache.clone(), db.clone());
    runtime.insert(cache);
}

/// The creator pool as matching ranks it, in memory.
pub fn creator_pool(state: &AppState) -> &Arc<pool::PoolCache> {
    state.part::<Arc<pool::PoolCache>>()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/matching-weights",
            get(settings::form).post(settings::save),
        )
        .route(
            "/t/{tenant_slug}/campaigns/{id}/matching",
            get(handlers::show).post(handlers::send),
        )
}
