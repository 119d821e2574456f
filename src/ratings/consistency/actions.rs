//! Actions of the consistency report and calibration.

use std::collections::BTreeMap;

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{self, RaterHistory};
use super::repo;
use crate::error::{DomainError, DomainResult};

/// One submission's calibrated total (0–100), stored in `submission_calibrations`.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibratedSubmission {
    pub submission_id: Uuid,
    pub total: Decimal,
}

/// A score 0–100 as stored (`numeric(5,2)`).
fn score(x: f64) -> Decimal {
    Decimal::from_f64(x.clamp(0.0, 100.0))
        .unwrap_or_default()
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Computes and stores the calibrated levels of every current submission of a rating that is
/// completing (SPEC §7 "Calibrated score"), and answers each submission's calibrated total. The
/// rating's completion calls it in its own transaction, before it sets the final score.
///
/// Idempotent: a submission calibrated once keeps its stored calibration (later ratings do not
/// move it); only a current submission without one (a correction made since) is computed. The
/// history is every rater's first submission on ratings completed before this one.
pub async fn calibrate_rating(
    tx: &mut PgConnection,
    tenant_id: Uuid,
    rating_id: Uuid,
) -> DomainResult<Vec<CalibratedSubmission>> {
    let rating = repo::rating_to_calibrate(tx, tenant_id, rating_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let current = repo::current_submissions(tx, tenant_id, rating_id).await?;
    let dimensions = domain::dimensions_from_json(&rating.dimensions);

    let mut histories: Option<BTreeMap<Uuid, RaterHistory>> = None;
    let mut out = Vec::with_capacity(current.len());
    for sub in current {
        if let Some(total) = sub.calibrated_total {
            out.push(CalibratedSubmission {
                submission_id: sub.id,
                total,
            });
            continue;
        }
        if histories.is_none() {
            let before = rating.completed_at.unwrap_or_else(OffsetDateTime::now_utc);
            let rows = repo::first_submissions(tx, tenant_id, Some((rating_id, before))).await?;
            let mut map: BTreeMap<Uuid, RaterHistory> = BTreeMap::new();
            for row in rows {
                let dims = domain::dimensions_from_json(&row.dimensions);
                let levels = domain::levels_from_json(&row.levels);
                domain::add_to_history(map.entry(row.rater_id).or_default(), &dims, &levels);
            }
            histories = Some(map);
        }
        let histories = histories.as_ref().expect("loaded above");
        let own = histories.get(&sub.rater_id).cloned().unwrap_or_default();
        let raw = domain::levels_from_json(&sub.levels);
        let (levels, total) = domain::calibrate_submission(&dimensions, &raw, &own, histories);
        let total = score(total);
        repo::insert_calibration(
            tx,
            tenant_id,
            sub.id,
            &domain::levels_to_json(&levels),
            total,
        )
        .await?;
        out.push(CalibratedSubmission {
            submission_id: sub.id,
            total,
        });
    }

    let calibrated = if out.is_empty() {
        None
    } else {
        let sum: Decimal = out.iter().map(|c| c.total).sum();
        Some(
            (sum / Decimal::from(out.len()))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        )
    };
    repo::set_calibrated_score(tx, tenant_id, rating_id, calibrated).await?;
    Ok(out)
}
