//! Settlement (SPEC §9): the computation of a period's lines (`domain`), the canonical form v1 a
//! finalized settlement's hash covers (`canonical`), reconciliation of computed against paid
//! commission and the check of a period's rate (`reconcile`) — pure functions; the SQL (`repo`),
//! the actions (`actions`), the exports (`export`), finance's console (`finance`) and the
//! seller's pages (`seller`).

pub mod actions;
pub mod canonical;
pub mod domain;
pub mod export;
pub mod finance;
pub mod reconcile;
pub mod repo;
pub mod seller;
pub mod sheet;
pub mod view;

use axum::Router;

use crate::state::AppState;

/// Finance's console and the seller's settlement pages.
pub fn router() -> Router<AppState> {
    finance::router().merge(seller::router())
}
