//! SQL for campaigns, their transitions and the seller's side of their shortlists (the cards and
//! the decisions), always inside a tenant-scoped transaction.

use std::collections::HashSet;

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
    created_by: Option<Uuid>,
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

/// Whether the campaign is this tenant's (another tenant's id is simply not there).
pub async fn exists(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2)")
        .bind(tenant_id)
        .bind(id)
        .fetch_one(conn)
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

/// Currencies that can be compared with creators' quotes: those with a reference rate to or from
/// USD (and USD itself).
pub async fn convertible_currencies(
    conn: &mut PgConnection,
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT from_ccy::text, to_ccy::text FROM reference_rates WHERE from_ccy = 'USD' OR to_ccy = 'USD'",
    )
    .fetch_all(conn)
    .await?;
    let mut set: HashSet<String> = rows.into_iter().flat_map(|(a, b)| [a, b]).collect();
    set.insert("USD".into());
    Ok(set)
}

/// One shortlist entry with the creator's numbers, as the seller's card shows it.
#[derive(FromRow, Debug, Clone)]
pub struct EntryRow {
    pub id: Uuid,
    pub round: i32,
    pub note: String,
    pub score: rust_decimal::Decimal,
    pub breakdown: serde_json::Value,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub handle: String,
    pub display_name: String,
    pub followers: i64,
    pub avg_views: i64,
    pub avg_likes: i64,
    pub avg_comments: i64,
    pub avg_shares: i64,
    pub quote_video: Option<rust_decimal::Decimal>,
    pub quote_currency: Option<String>,
    pub profile_url: Option<String>,
    pub audience_age: serde_json::Value,
    pub collaboration_id: Option<Uuid>,
}

/// A campaign's shortlist entries, newest round first and best score first (or just `only`).
pub async fn shortlist_entries(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as::<_, EntryRow>(
        "SELECT e.id, e.round, e.note, e.score, e.breakdown, e.decision, e.decision_reason, c.handle, \
           c.display_name, c.followers, c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares, \
           c.quote_video, c.quote_currency::text AS quote_currency, c.profile_url, c.audience_age, \
           l.id AS collaboration_id \
         FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id \
         LEFT JOIN collaborations l ON l.tenant_id = e.tenant_id AND l.campaign_id = e.campaign_id \
           AND l.creator_id = e.creator_id \
         WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND ($3::uuid IS NULL OR e.id = $3) \
         ORDER BY e.round DESC, e.score DESC",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .bind(only)
    .fetch_all(conn)
    .await
}

/// Locks one entry of the campaign's shortlist for a decision: None when there is no such
/// entry, else the decision taken so far (None while undecided).
pub async fn entry_decision_for_update(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    entry_id: Uuid,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT decision FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3 FOR UPDATE",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .bind(entry_id)
    .fetch_optional(conn)
    .await
}

/// Records the seller's decision on an entry (an empty reason is kept as none).
pub async fn record_decision(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    entry_id: Uuid,
    decision: &str,
    reason: &str,
    decided_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE shortlist_entries SET decision = $4, decision_reason = NULLIF($5, ''), decided_by = $6, decided_at = now() \
         WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .bind(entry_id)
    .bind(decision)
    .bind(reason)
    .bind(decided_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many creators of the campaign's shortlist (any round) the seller approved.
pub async fn approved_count(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2 AND decision = 'approved'",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .fetch_one(conn)
    .await
}
