//! SQL for collaborations, their versioned terms and their state moves, always inside the
//! caller's tenant-scoped transaction (RLS on; every query names the tenant as well).

use rust_decimal::Decimal;
use sqlx::{Connection, FromRow, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

/// An approved-or-not shortlist entry of a campaign, with the creator's facts the terms form
/// starts from.
#[derive(Debug, Clone, FromRow)]
pub struct EntryFacts {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub quote_video: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub decision: Option<String>,
}

pub async fn shortlist_entry(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    entry: Uuid,
) -> Result<Option<EntryFacts>, sqlx::Error> {
    sqlx::query_as::<_, EntryFacts>(
        "SELECT e.id, e.creator_id, c.handle, c.display_name, c.quote_video, \
           c.quote_currency::text AS quote_currency, e.decision \
         FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id \
         WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND e.id = $3",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(entry)
    .fetch_optional(conn)
    .await
}

/// The tenant's defaults for new terms: (service fee rate, fee model).
pub async fn terms_defaults(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<(Decimal, String), sqlx::Error> {
    let service_fee: Decimal =
        sqlx::query_scalar("SELECT service_fee_rate FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(&mut *conn)
            .await?;
    let fee_model: String = sqlx::query_scalar("SELECT fee_model FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_one(&mut *conn)
        .await?;
    Ok((service_fee, fee_model))
}

/// Whether the creator already has a collaboration in this campaign.
pub async fn collaboration_exists(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    creator: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM collaborations WHERE tenant_id = $1 AND campaign_id = $2 AND creator_id = $3)",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(creator)
    .fetch_one(conn)
    .await
}

/// Whether another collaboration of this tenant already uses the discount code.
pub async fn discount_code_taken(
    conn: &mut PgConnection,
    tenant: Uuid,
    code: &str,
    except: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM collaborations WHERE tenant_id = $1 AND discount_code = $2 \
           AND id IS DISTINCT FROM $3)",
    )
    .bind(tenant)
    .bind(code)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// A new collaboration row (proposed).
pub struct NewCollaboration<'a> {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub creator_id: Uuid,
    pub discount_code: &'a str,
    pub link_slug: &'a str,
    pub created_by: Option<Uuid>,
}

/// Inserts the collaboration inside a savepoint: when it fails (a unique value taken in the
/// meantime), the savepoint is rolled back and the caller's transaction stays usable, so the
/// caller can try another slug or answer with a field error.
pub async fn insert_collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    new: &NewCollaboration<'_>,
) -> Result<(), sqlx::Error> {
    let mut savepoint = conn.begin().await?;
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, discount_code, link_slug, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(new.id)
    .bind(new.campaign_id)
    .bind(new.creator_id)
    .bind(new.discount_code)
    .bind(new.link_slug)
    .bind(new.created_by)
    .execute(&mut *savepoint)
    .await?;
    savepoint.commit().await
}

/// Version 1 of a new collaboration's terms.
pub async fn insert_first_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    terms: &serde_json::Value,
    by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, created_by) VALUES ($1, $2, 1, $3, $4)",
    )
    .bind(tenant)
    .bind(collaboration)
    .bind(terms)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// A collaboration with the facts its page and its actions need.
#[derive(Debug, Clone, FromRow)]
pub struct CollabRow {
    pub campaign_id: Uuid,
    pub state: String,
    pub discount_code: String,
    pub link_slug: String,
    pub current_version: i32,
    pub sample_carrier: Option<String>,
    pub sample_tracking: Option<String>,
    pub handle: String,
    pub display_name: String,
    pub campaign_code: Option<String>,
    pub campaign_title: String,
    pub campaign_data: serde_json::Value,
}

impl CollabRow {
    /// The campaign's request as stored (for `sample_needed`).
    pub fn campaign(&self) -> crate::campaigns::domain::Campaign {
        serde_json::from_value(self.campaign_data.clone()).unwrap_or_default()
    }
}

/// One collaboration; `lock` takes its row for a change (`FOR UPDATE`).
pub async fn collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<Option<CollabRow>, sqlx::Error> {
    sqlx::query_as::<_, CollabRow>(&format!(
        "SELECT l.campaign_id, l.state, l.discount_code, l.link_slug, l.current_version, \
           l.sample_carrier, l.sample_tracking, c.handle, c.display_name, k.code AS campaign_code, \
           k.title AS campaign_title, k.data AS campaign_data \
         FROM collaborations l JOIN creators c ON c.id = l.creator_id \
         JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id \
         WHERE l.tenant_id = $1 AND l.id = $2{}",
        if lock { " FOR UPDATE OF l" } else { "" }
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub version: i32,
    pub terms: serde_json::Value,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
}

/// Every version of a collaboration's terms, newest first.
pub async fn versions(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as::<_, VersionRow>(
        "SELECT version, terms, reason, created_at FROM contract_versions \
         WHERE tenant_id = $1 AND collaboration_id = $2 ORDER BY version DESC",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Moves the collaboration to `state`; a shipped sample's carrier and tracking number are kept
/// when given, and the sample steps stamp their time.
pub async fn set_state(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    state: &str,
    carrier: &str,
    tracking_number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE collaborations SET state = $3, updated_at = now(), \
           sample_carrier = CASE WHEN $4 <> '' THEN $4 ELSE sample_carrier END, \
           sample_tracking = CASE WHEN $5 <> '' THEN $5 ELSE sample_tracking END, \
           sample_shipped_at = CASE WHEN $3 = 'sample_shipped' THEN now() ELSE sample_shipped_at END, \
           sample_delivered_at = CASE WHEN $3 = 'sample_delivered' THEN now() ELSE sample_delivered_at END \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(state)
    .bind(carrier)
    .bind(tracking_number)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the collaboration to `state` after a fact recorded elsewhere (a post, a snapshot).
pub async fn set_state_only(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE collaborations SET state = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(state)
    .execute(conn)
    .await?;
    Ok(())
}

/// A new version of a collaboration's terms.
pub struct NewVersion<'a> {
    pub collaboration_id: Uuid,
    pub version: i32,
    pub terms: serde_json::Value,
    /// Empty: none (a change while proposed).
    pub reason: &'a str,
    pub discount_code: &'a str,
    pub created_by: Option<Uuid>,
}

/// Stores a new version of the terms and makes it current, with the discount code it sets.
/// Inside a savepoint: when the code was taken in the meantime, nothing of it stays and the
/// caller's transaction stays usable.
pub async fn insert_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    new: &NewVersion<'_>,
) -> Result<(), sqlx::Error> {
    let mut savepoint = conn.begin().await?;
    sqlx::query("INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, reason, created_by) VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6)")
        .bind(tenant)
        .bind(new.collaboration_id)
        .bind(new.version)
        .bind(&new.terms)
        .bind(new.reason)
        .bind(new.created_by)
        .execute(&mut *savepoint)
        .await?;
    sqlx::query("UPDATE collaborations SET current_version = $3, discount_code = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(new.collaboration_id)
        .bind(new.version)
        .bind(new.discount_code)
        .execute(&mut *savepoint)
        .await?;
    savepoint.commit().await
}

/// One move of a collaboration's state: who, when, why.
pub struct TransitionRecord<'a> {
    pub collaboration_id: Uuid,
    pub from_state: &'a str,
    pub to_state: &'a str,
    pub event: &'a str,
    pub actor_id: Option<Uuid>,
    pub actor_label: &'a str,
    /// Empty: none.
    pub reason: &'a str,
}

pub async fn record_transition(
    conn: &mut PgConnection,
    tenant: Uuid,
    t: &TransitionRecord<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contract_transitions (tenant_id, id, collaboration_id, from_state, to_state, event, actor_id, actor_label, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''))",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(t.collaboration_id)
    .bind(t.from_state)
    .bind(t.to_state)
    .bind(t.event)
    .bind(t.actor_id)
    .bind(t.actor_label)
    .bind(t.reason)
    .execute(conn)
    .await?;
    Ok(())
}
