//! Performance tracking (SPEC §5), one room: `links` (tracked links: the redirect, the click log
//! and the pure click rules), `order_imports` (order exports parsed, validated and imported as
//! batches, attributed to collaborations), metric windows and KPI arithmetic.

pub mod kpi;
pub mod links;
pub mod order_imports;
pub mod windows;
