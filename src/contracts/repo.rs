//! SQL for collaborations, their versioned terms and their state moves, always inside the
//! caller's tenant-scoped transaction (RLS on; every query names the tenant as well).

use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{ContractState, FeeModel};
use crate::campaigns::domain::Decision;

/// An approved-or-not shortlist entry of a campaign, with the creator's facts the terms form
/// starts from.
#[derive(Debug, Clone)]
pub struct EntryFacts {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub quote_video: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub decision: Option<Decision>,
}

pub async fn shortlist_entry(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    entry: Uuid,
) -> Result<Option<EntryFacts>, sqlx::Error> {
    sqlx::query_as!(
        EntryFacts,
        r#"SELECT e.id, e.creator_id, c.handle, c.display_name, c.quote_video,
             c.quote_currency::text AS "quote_currency?", e.decision AS "decision?: Decision"
           FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id
           WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND e.id = $3"#,
        tenant,
        campaign,
        entry,
    )
    .fetch_optional(conn)
    .await
}

/// The tenant's defaults for new terms: (service fee rate, fee model).
pub async fn terms_defaults(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<(Decimal, FeeModel), sqlx::Error> {
    let service_fee =
        sqlx::query_scalar!("SELECT service_fee_rate FROM tenants WHERE id = $1", tenant)
            .fetch_one(&mut *conn)
            .await?;
    let fee_model = sqlx::query_scalar!(
        r#"SELECT fee_model AS "fee_model: FeeModel" FROM tenants WHERE id = $1"#,
        tenant
    )
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
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM collaborations WHERE tenant_id = $1 AND campaign_id = $2 AND creator_id = $3) AS "exists!""#,
        tenant,
        campaign,
        creator,
    )
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
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM collaborations WHERE tenant_id = $1 AND discount_code = $2
             AND id IS DISTINCT FROM $3) AS "exists!""#,
        tenant,
        code,
        except,
    )
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
    sqlx::query!(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, discount_code, link_slug, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        new.id,
        new.campaign_id,
        new.creator_id,
        new.discount_code,
        new.link_slug,
        new.created_by,
    )
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
    sqlx::query!(
        "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, created_by) VALUES ($1, $2, 1, $3, $4)",
        tenant,
        collaboration,
        terms,
        by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A collaboration with the facts its page and its actions need.
#[derive(Debug, Clone)]
pub struct CollabRow {
    pub campaign_id: Uuid,
    pub state: ContractState,
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
    // One text with and without its lock (the macros take a literal, so the tail is pasted in).
    macro_rules! collaboration_row {
        ($($lock:literal)?) => {
            sqlx::query_as!(
                CollabRow,
                r#"SELECT l.campaign_id, l.state AS "state: ContractState", l.discount_code, l.link_slug,
                 l.current_version, l.sample_carrier, l.sample_tracking, c.handle, c.display_name,
                 k.code AS campaign_code, k.title AS campaign_title, k.data AS campaign_data
               FROM collaborations l JOIN creators c ON c.id = l.creator_id
               JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
               WHERE l.tenant_id = $1 AND l.id = $2"# $(+ $lock)?,
                tenant,
                id,
            )
        };
    }
    if lock {
        collaboration_row!(" FOR UPDATE OF l")
            .fetch_optional(conn)
            .await
    } else {
        collaboration_row!().fetch_optional(conn).await
    }
}

#[derive(Debug, Clone)]
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
    sqlx::query_as!(
        VersionRow,
        "SELECT version, terms, reason, created_at FROM contract_versions \
         WHERE tenant_id = $1 AND collaboration_id = $2 ORDER BY version DESC",
        tenant,
        id,
    )
    .fetch_all(conn)
    .await
}

/// Moves the collaboration to `state`; a shipped sample's carrier and tracking number are kept
/// when given, and the sample steps stamp their time.
pub async fn set_state(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    state: ContractState,
    carrier: &str,
    tracking_number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE collaborations SET state = $3, updated_at = now(), \
           sample_carrier = CASE WHEN $4 <> '' THEN $4 ELSE sample_carrier END, \
           sample_tracking = CASE WHEN $5 <> '' THEN $5 ELSE sample_tracking END, \
           sample_shipped_at = CASE WHEN $3 = 'sample_shipped' THEN now() ELSE sample_shipped_at END, \
           sample_delivered_at = CASE WHEN $3 = 'sample_delivered' THEN now() ELSE sample_delivered_at END \
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
        state as ContractState,
        carrier,
        tracking_number,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the collaboration to `state` after a fact recorded elsewhere (a post, a snapshot).
pub async fn set_state_only(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    state: ContractState,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE collaborations SET state = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
        state as ContractState,
    )
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
    sqlx::query!(
        "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, reason, created_by) \
         VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6)",
        tenant,
        new.collaboration_id,
        new.version,
        &new.terms,
        new.reason,
        new.created_by,
    )
    .execute(&mut *savepoint)
    .await?;
    sqlx::query!(
        "UPDATE collaborations SET current_version = $3, discount_code = $4, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        new.collaboration_id,
        new.version,
        new.discount_code,
    )
    .execute(&mut *savepoint)
    .await?;
    savepoint.commit().await
}

/// One move of a collaboration's state: who, when, why.
pub struct TransitionRecord<'a> {
    pub collaboration_id: Uuid,
    pub from_state: ContractState,
    pub to_state: ContractState,
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
    sqlx::query!(
        "INSERT INTO contract_transitions (tenant_id, id, collaboration_id, from_state, to_state, event, actor_id, actor_label, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''))",
        tenant,
        Uuid::now_v7(),
        t.collaboration_id,
        t.from_state as ContractState,
        t.to_state as ContractState,
        t.event,
        t.actor_id,
        t.actor_label,
        t.reason,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The quote of the collaboration's creator now (frozen into each new contract version).
pub async fn creator_quote(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
) -> Result<Option<super::domain::CreatorQuote>, sqlx::Error> {
    sqlx::query_as!(
        super::domain::CreatorQuote,
        r#"SELECT c.quote_video AS video, c.quote_live AS live, c.quote_currency::text AS currency
             FROM collaborations l JOIN creators c ON c.id = l.creator_id
            WHERE l.tenant_id = $1 AND l.id = $2"#,
        tenant,
        collaboration
    )
    .fetch_optional(conn)
    .await
}

/// One collaboration of a campaign as its list shows it: the creator, the state, the current
/// terms and how many posts are registered.
#[derive(Debug, Clone)]
pub struct CampaignCollabRow {
    pub id: Uuid,
    pub handle: String,
    pub state: ContractState,
    pub terms: serde_json::Value,
    pub posts: i64,
}

/// The campaign's collaborations, by creator handle.
pub async fn of_campaign(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> Result<Vec<CampaignCollabRow>, sqlx::Error> {
    sqlx::query_as!(
        CampaignCollabRow,
        r#"SELECT l.id, c.handle, l.state AS "state: ContractState", v.terms,
             (SELECT count(*) FROM posts p
               WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id) AS "posts!"
           FROM collaborations l
           JOIN creators c ON c.id = l.creator_id
           JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id
                                   AND v.version = l.current_version
           WHERE l.tenant_id = $1 AND l.campaign_id = $2
           ORDER BY c.handle"#,
        tenant,
        campaign,
    )
    .fetch_all(conn)
    .await
}
