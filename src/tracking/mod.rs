//! Performance tracking (SPEC §5), the pure parts: order exports read as streams (CSV and XLSX),
//! metric windows, clicks (bots, visitor hash, referer, unique rule) and KPI arithmetic. No
//! database and no HTTP here; the handlers and the click writer build on these.

pub mod clicks;
pub mod kpi;
pub mod orders;
pub mod stream;
pub mod windows;
pub mod xlsx;
