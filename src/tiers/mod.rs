//! Tiers (SPEC §8): each creator's S/A/B/C tier per tenant (and the platform's), with the reason
//! in words, history, warnings, the re-book recommendation, blacklists and the owner's override.

pub mod actions;
