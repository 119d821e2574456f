//! How consistently a tenant's raters score (SPEC §7): calibration of a completed rating's
//! subjective levels, per-rater statistics and Krippendorff's alpha.

pub mod actions;
