//! Matching (SPEC §3): ranking the creator pool for a campaign. `domain.rs` is the reference
//! scoring function; every faster path must agree with it.

pub mod domain;
