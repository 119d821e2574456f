//! SQL for campaigns and their transitions, always inside a tenant-scoped transaction.

use sqlx::{FromRow, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{Campaign, CampaignInput};

#[derive(FromRow, Debug, Clone)]
pub struct CampaignRow {
    pub id: Uuid,
    pub code: Option<String>,
    pub state: String,
    pub title: String,
    pub markets: Vec<String>,
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub submitted_at: Option<OffsetDateTime>,
}

impl CampaignRow {
    /// The request as validated and stored.
    pub fn campaign(&self) -> Campaign {
        serde_json::from_value(self.data.clone()).unwrap_or_default()
    }

    /// The request as a form shows it.
    pub fn input(&self) -> CampaignInput {
        CampaignInput::from_campaign(&self.campaign())
    }
}

const COLUMNS: &str = "id, code, state, title, markets, data, created_at, submitted_at";

pub async fn list(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<CampaignRow>, sqlx::Error> {
    sqlx::query_as::<_, CampaignRow>(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE tenant_id = $1 ORDER BY created_at DESC"
    ))
    .bind(tenant_id)
    .fetch_all(conn)
    .await
}

pub async fn get(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<CampaignRow>, sqlx::Error> {
    sqlx::query_as::<_, CampaignRow>(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Locks the campaign row for a state change.
pub async fn get_for_update(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<CampaignRow>, sqlx::Error> {
    sqlx::query_as::<_, CampaignRow>(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    campaign: &Campaign,
    created_by: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, id, title, shop_id, markets, data, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(campaign.title.trim())
    .bind(campaign.shop_id)
    .bind(&campaign.markets)
    .bind(serde_json::to_value(campaign).unwrap_or_default())
    .bind(created_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_data(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    campaign: &Campaign,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE campaigns SET title = $3, shop_id = $4, markets = $5, data = $6, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(campaign.title.trim())
    .bind(campaign.shop_id)
    .bind(&campaign.markets)
    .bind(serde_json::to_value(campaign).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the campaign and records the transition (who, when, why) in one go.
#[allow(clippy::too_many_arguments)]
pub async fn record_transition(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    from: &str,
    to: &str,
    transition: &str,
    actor: (Option<Uuid>, String),
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE campaigns SET state = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_transitions (tenant_id, id, campaign_id, from_state, to_state, transition, \
         actor_id, actor_label, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant_id)
    .bind(Uuid::now_v7())
    .bind(campaign_id)
    .bind(from)
    .bind(to)
    .bind(transition)
    .bind(actor.0)
    .bind(actor.1)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// The next code for a submission this month: LUMI-2611-03 is the month's third.
pub async fn next_sequence(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    prefix: &str,
) -> Result<u32, sqlx::Error> {
    // Serialise code assignment per tenant so two submissions cannot take the same number.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))")
        .bind(tenant_id.to_string())
        .execute(&mut *conn)
        .await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaigns WHERE tenant_id = $1 AND code LIKE $2 || '%'",
    )
    .bind(tenant_id)
    .bind(prefix)
    .fetch_one(conn)
    .await?;
    Ok(n as u32 + 1)
}

pub async fn set_code(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    code: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE campaigns SET code = $3, submitted_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(code)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow, Debug, Clone)]
pub struct TransitionRow {
    pub from_state: String,
    pub to_state: String,
    pub actor_label: String,
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}

pub async fn transitions(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
) -> Result<Vec<TransitionRow>, sqlx::Error> {
    sqlx::query_as::<_, TransitionRow>(
        "SELECT from_state, to_state, actor_label, reason, at FROM campaign_transitions \
         WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY at",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .fetch_all(conn)
    .await
}

/// 404 unless the campaign is this tenant's: checked before any role check, so another tenant's
/// id is unknown (404) rather than forbidden (403).
pub async fn ensure_exists(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<(), crate::error::AppError> {
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2)",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_one(conn)
    .await?;
    if found {
        Ok(())
    } else {
        Err(crate::error::AppError::NotFound)
    }
}
