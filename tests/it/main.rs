//! Sextant's integration tests: one binary, a real PostgreSQL, a fresh database per test.

mod auth;
mod browser;
mod embedded;
mod health;
mod i18n;
mod rls;
mod support;
mod tenancy;
