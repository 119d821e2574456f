//! Performance tracking (SPEC §5), one room with a sub-module per part it owns: `links` (tracked
//! links: the redirect, the click log and the pure click rules), `order_imports` (order exports
//! parsed, validated and imported as batches, attributed to collaborations), `posts` (posts and
//! their metric snapshots, by hand and by CSV), `windows` (D1/D7/D14/D30 metric windows), `kpis`
//! (KPI arithmetic, KPIs as shown, and the sections other pages show) and `dashboards` (the
//! campaign overview and its charts).

pub mod dashboards;
pub mod kpis;
pub mod links;
pub mod order_imports;
pub mod posts;
pub mod windows;
