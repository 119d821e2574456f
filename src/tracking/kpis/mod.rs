//! KPIs (SPEC §5): the arithmetic (`domain`), from the SQL totals (`repo`) to KPIs as shown
//! against the campaign's targets (`figures`), and the performance sections other features'
//! pages show (`sections`: the collaboration page, the seller's creator page).

pub mod campaign;
pub mod domain;
pub mod figures;
pub mod repo;
pub mod sections;
