//! Performance tracking (SPEC §5). Pure parts: order exports read as streams (CSV and XLSX),
//! metric windows, clicks (bots, visitor hash, referer, unique rule). Rooms: `posts` (posts and
//! their snapshots, by hand and by CSV), `kpis` (KPI arithmetic, KPIs as shown and the sections
//! other pages show) and `dashboards` (the campaign overview and its charts).

pub mod clicks;
pub mod dashboards;
pub mod kpis;
pub mod orders;
pub mod posts;
pub mod stream;
pub mod windows;
pub mod xlsx;
