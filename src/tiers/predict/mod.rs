//! "Do the tiers predict?" (issue 15 item 3): for creators booked again after being tiered, the
//! median ROI of that next collaboration by the tier held at booking, with counts and a 95 %
//! interval — per tenant by its own tiers, and for staff across every tenant by the platform
//! tier. `domain` holds the definitions and the arithmetic (pure), `repo` the SQL, `handlers` the
//! two pages, `chart` the SVG.

pub mod chart;
pub mod domain;
pub mod handlers;
pub mod repo;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant_slug}/tiers/predict", get(handlers::seller))
        .route("/admin/tiers/predict", get(handlers::staff))
}
