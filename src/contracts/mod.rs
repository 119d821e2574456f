//! Contracts (SPEC §4): a collaboration's terms, versions and states.

pub mod domain;
