//! Outgoing webhooks (issue 19): the tenant's own URLs told about the loop's events — shortlist
//! sent, decided, post late, rating due, tier changed, settlement finalized — as Sextant's signed
//! JSON (HMAC-SHA256 over a timestamp and the body) or as a Feishu, DingTalk or WeCom group bot's
//! message. Events are queued in the transaction of the action that causes them (`actions::
//! enqueue`), delivered by `worker` from that Postgres queue with retries and a log of every try;
//! the owner's page (`handlers`) adds, switches off, deletes and tests endpoints.

pub mod actions;
pub mod domain;
pub mod handlers;
pub mod repo;
pub mod worker;

use axum::Router;
use axum::routing::{get, post};

use crate::config::Config;
use crate::db::Db;
use crate::state::{AppState, Runtime};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant_slug}/settings/webhooks",
            get(handlers::index).post(handlers::create),
        )
        .route(
            "/t/{tenant_slug}/settings/webhooks/{id}",
            get(handlers::show),
        )
        .route(
            "/t/{tenant_slug}/settings/webhooks/{id}/active",
            post(handlers::set_active),
        )
        .route(
            "/t/{tenant_slug}/settings/webhooks/{id}/delete",
            post(handlers::delete),
        )
        .route(
            "/t/{tenant_slug}/settings/webhooks/{id}/test",
            post(handlers::test),
        )
}

/// Registers the delivery worker, and runs its loop with the clock jobs (tests call
/// `deliverer(&state).tick(now)` instead).
pub fn start(db: &Db, config: &Config, runtime: &mut Runtime) {
    let deliverer = worker::Deliverer::new(db.clone(), config.webhooks_allow_private)
        .unwrap_or_else(|e| panic!("cannot set up the webhook client: {e}"));
    if config.clock_jobs {
        worker::spawn(deliverer.clone());
    }
    runtime.insert(deliverer);
}

/// The delivery worker.
pub fn deliverer(state: &AppState) -> &worker::Deliverer {
    state.part::<worker::Deliverer>()
}
