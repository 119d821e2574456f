//! Settlement (SPEC §9), first part: the computation of a period's lines as pure functions
//! (`domain`). The finance console, FX entry, the workflow and its immutable tables, and the
//! exports build on it (issue 16).

pub mod canonical;
pub mod domain;
