//! The agency's creator pool (shared by all tenants) and its CSV import.

pub mod import;
