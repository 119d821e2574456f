//! Sextant's integration tests: one binary, a real PostgreSQL, a fresh database per test.

mod actions_campaigns;
mod actions_contracts;
mod actions_performance;
mod admin;
mod architecture;
mod auth;
mod browser;
mod browser_dashboard;
mod campaigns;
mod contracts;
mod creators;
mod embedded;
mod health;
mod i18n;
mod links;
mod matching;
mod members;
mod negotiation;
mod onboarding;
mod orders;
mod performance;
mod rls;
mod seller_creators;
mod support;
mod tenancy;
