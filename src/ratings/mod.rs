//! Post-campaign ratings (SPEC §7): scorecard templates, the rating of a collaboration by blind
//! raters on a weighted, anchored scorecard, and (in `consistency`) calibration and the raters'
//! consistency report.

pub mod consistency;
