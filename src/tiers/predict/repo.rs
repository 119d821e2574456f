//! The SQL of "Do the tiers predict?": the re-bookings of tiered creators with the tier held at
//! booking and their rating's frozen ROI inputs. Read-only.
//!
//! The tier at booking is the `to_tier` of the latest history row at or before the
//! collaboration's `created_at` (the booking); a collaboration without a rating, or whose creator
//! held no tier then, is left out here, a cost of 0 or less too (no ROI).

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A re-booking of a tiered creator, as stored.
#[derive(Debug, Clone)]
pub struct RebookingRow {
    pub tier: String,
    pub net_gmv: Decimal,
    pub cost: Decimal,
}

/// The tenant's re-bookings by the tier the tenant gave the creator (its own tier history).
#[tracing::instrument(skip_all, err)]
pub async fn tenant_rebookings(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<RebookingRow>, sqlx::Error> {
    sqlx::query_as!(
        RebookingRow,
        r#"SELECT h.to_tier AS "tier!", r.net_gmv, r.cost
             FROM collaborations l
             JOIN ratings r ON r.tenant_id = l.tenant_id AND r.collaboration_id = l.id
             JOIN LATERAL (
                   SELECT t.to_tier
                     FROM creator_tier_history t
                    WHERE t.tenant_id = l.tenant_id AND t.creator_id = l.creator_id
                      AND t.at <= l.created_at
                    ORDER BY t.at DESC, t.id DESC
                    LIMIT 1) h ON true
            WHERE l.tenant_id = $1 AND r.cost > 0 AND h.to_tier IS NOT NULL
            ORDER BY l.created_at, l.id"#,
        tenant
    )
    .fetch_all(conn)
    .await
}

/// Every tenant's re-bookings by the platform tier at booking (system scope: staff only).
#[tracing::instrument(skip_all, err)]
pub async fn platform_rebookings(
    conn: &mut PgConnection,
) -> Result<Vec<RebookingRow>, sqlx::Error> {
    sqlx::query_as!(
        RebookingRow,
        r#"SELECT h.to_tier AS "tier!", r.net_gmv, r.cost
             FROM collaborations l
             JOIN ratings r ON r.tenant_id = l.tenant_id AND r.collaboration_id = l.id
             JOIN LATERAL (
                   SELECT p.to_tier
                     FROM platform_tier_history p
                    WHERE p.creator_id = l.creator_id AND p.at <= l.created_at
                    ORDER BY p.at DESC, p.id DESC
                    LIMIT 1) h ON true
            WHERE r.cost > 0 AND h.to_tier IS NOT NULL
            ORDER BY l.created_at, l.tenant_id, l.id"#
    )
    .fetch_all(conn)
    .await
}
