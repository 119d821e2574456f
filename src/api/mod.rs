//! The JSON API (issue 18): API tokens per tenant — made and revoked by the owner, shown once,
//! kept hashed, scope read or write, last-used time — and `/api/v1`, its own router outside the
//! session and CSRF layers (it takes only Bearer tokens), behind its limits (`limits`): a rate
//! per token, a body size limit, `Idempotency-Key` on POST. Writes call the pages' actions.

pub mod actions;
pub mod domain;
pub mod extract;
pub mod limits;
pub mod loop_contracts;
pub mod loop_intake;
pub mod loop_ratings;
pub mod openapi;
pub mod reads;
pub mod repo;
pub mod settings;
pub mod v1;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::{Router, middleware};
use tower_http::compression::CompressionLayer;

use crate::state::AppState;

/// The owner's token page (a page of the app: sessions, CSRF).
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
        .route(
            "/account/api-tokens",
            get(settings::staff_index).post(settings::staff_create),
        )
        .route(
            "/account/api-tokens/{id}/revoke",
            post(settings::staff_revoke),
        )
}

/// `/api/v1`, with its own layers (no session, no CSRF: a Bearer token is no ambient credential).
pub fn v1_router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::spec))
        .route("/api/v1/reference", get(openapi::reference))
        .route(
            "/api/v1/collaborations",
            get(reads::collaborations).post(loop_contracts::create_collaboration_api),
        )
        .route(
            "/api/v1/collaborations/{id}/terms",
            post(loop_contracts::change_terms_api),
        )
        .route(
            "/api/v1/collaborations/{id}/events",
            post(loop_contracts::record_event_api),
        )
        .route(
            "/api/v1/collaborations/{id}/fulfilment-records",
            post(loop_contracts::record_fulfilment_api),
        )
        .route(
            "/api/v1/fulfilment-records/{id}/correct",
            post(loop_contracts::correct_fulfilment_api),
        )
        .route(
            "/api/v1/campaigns",
            get(reads::campaigns).post(loop_intake::create_campaign_api),
        )
        .route(
            "/api/v1/campaigns/{id}",
            put(loop_intake::update_campaign_api),
        )
        .route(
            "/api/v1/campaigns/{id}/submit",
            post(loop_intake::submit_campaign_api),
        )
        .route(
            "/api/v1/campaigns/{id}/transitions",
            post(loop_intake::transition_campaign_api),
        )
        .route(
            "/api/v1/campaigns/{id}/candidates",
            get(loop_intake::candidates_api),
        )
        .route(
            "/api/v1/campaigns/{id}/shortlist",
            get(loop_intake::shortlist_api).post(loop_intake::send_shortlist_api),
        )
        .route(
            "/api/v1/campaigns/{id}/shortlist/entries/{entry_id}/decision",
            post(loop_intake::decide_entry_api),
        )
        .route(
            "/api/v1/campaigns/{id}/shortlist/another-round",
            post(loop_intake::another_round_api),
        )
        .route(
            "/api/v1/campaigns/{id}/shortlist/approve",
            post(loop_intake::approve_shortlist_api),
        )
        .route("/api/v1/collaborations/{id}", get(reads::collaboration))
        .route("/api/v1/creators", get(reads::creators))
        .route(
            "/api/v1/creators/batch",
            post(loop_intake::creators_batch_api),
        )
        .route("/api/v1/fulfilment-records", get(reads::fulfilment_records))
        .route("/api/v1/ratings", get(reads::ratings))
        .route("/api/v1/tiers", get(reads::tiers))
        .route(
            "/api/v1/tiers/{creator_id}/history",
            get(reads::tier_history),
        )
        .route("/api/v1/settlements", get(reads::settlements))
        .route(
            "/api/v1/settlements/{id}/export.{ext}",
            get(reads::settlement_export),
        )
        .route("/api/v1/shops", get(reads::shops))
        .route("/api/v1/posts", get(reads::posts).post(v1::create_post_api))
        .route("/api/v1/snapshots", post(v1::ingest_snapshots_api))
        .route("/api/v1/orders", post(v1::ingest_orders_api))
        .route("/api/v1/order-imports", get(reads::order_imports))
        .route(
            "/api/v1/collaborations/{id}/rating",
            post(loop_ratings::open_rating_api),
        )
        .route(
            "/api/v1/ratings/{id}/raters",
            post(loop_ratings::assign_raters_api),
        )
        .route(
            "/api/v1/ratings/{id}/scorecards",
            post(loop_ratings::submit_scorecard_api),
        )
        .route(
            "/api/v1/ratings/{id}/close",
            post(loop_ratings::close_rating_api),
        )
        .route(
            "/api/v1/creators/{id}/blacklist",
            post(loop_ratings::add_blacklist_api),
        )
        .route(
            "/api/v1/blacklist/{entry_id}/decision",
            post(loop_ratings::decide_blacklist_api),
        )
        .route(
            "/api/v1/creators/{id}/tier-override",
            post(loop_ratings::override_tier_api),
        )
        .layer(DefaultBodyLimit::max(limits::MAX_BODY))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::limits,
        ))
        .layer(middleware::from_fn(crate::web::security_headers))
        .layer(CompressionLayer::new())
        .with_state(state)
}
