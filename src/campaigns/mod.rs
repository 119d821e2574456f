//! Intake (SPEC §2): a seller's campaign request, its states and transitions.

pub mod domain;
