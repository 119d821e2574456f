//! Settlement (SPEC §9), the first parts: the computation of a period's lines (`domain`), the
//! canonical form v1 a finalized settlement's hash covers (`canonical`), and reconciliation of
//! computed against paid commission with the check of a period's rate (`reconcile`) — all pure
//! functions. The finance console, FX entry, the workflow and its immutable tables, and the
//! exports build on them (issue 16).

pub mod canonical;
pub mod domain;
pub mod reconcile;
