//! SQL for campaigns, their transitions and the seller's side of their shortlists (the cards and
//! the decisions), always inside a tenant-scoped transaction.

use std::collections::HashSet;

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{Campaign, CampaignInput, CampaignState, Decision, Transition};

#[derive(Debug, Clone)]
pub struct CampaignRow {
    pub id: Uuid,
    pub code: Option<String>,
    pub state: CampaignState,
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

/// A checked query reading [`CampaignRow`]s: every column of the row, then `$rest` (the
/// `FROM` clause on), one literal so the whole text stays checked at build time.
macro_rules! campaign_rows {
    ($rest:tt, $($arg:expr),* $(,)?) => {
        sqlx::query_as!(
            CampaignRow,
            r#"SELECT id, code, state AS "state: CampaignState", title, markets, data, created_at, submitted_at "#
                + $rest,
            $($arg),*
        )
    };
}

pub async fn list(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<CampaignRow>, sqlx::Error> {
    campaign_rows!(
        "FROM campaigns WHERE tenant_id = $1 ORDER BY created_at DESC",
        tenant_id
    )
    .fetch_all(conn)
    .await
}

pub async fn get(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<CampaignRow>, sqlx::Error> {
    campaign_rows!(
        "FROM campaigns WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Locks the campaign row for a state change.
pub async fn get_for_update(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<CampaignRow>, sqlx::Error> {
    campaign_rows!(
        "FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant_id,
        id
    )
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
    sqlx::query!(
        "INSERT INTO campaigns (tenant_id, id, title, shop_id, markets, data, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant_id,
        id,
        campaign.title.trim(),
        campaign.shop_id,
        &campaign.markets,
        serde_json::to_value(campaign).unwrap_or_default(),
        created_by,
    )
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
    sqlx::query!(
        "UPDATE campaigns SET title = $3, shop_id = $4, markets = $5, data = $6, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        id,
        campaign.title.trim(),
        campaign.shop_id,
        &campaign.markets,
        serde_json::to_value(campaign).unwrap_or_default(),
    )
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
    from: CampaignState,
    to: CampaignState,
    transition: Transition,
    actor: (Option<Uuid>, String),
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE campaigns SET state = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        campaign_id,
        to.code(),
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO campaign_transitions (tenant_id, id, campaign_id, from_state, to_state, transition, \
         actor_id, actor_label, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tenant_id,
        Uuid::now_v7(),
        campaign_id,
        from.code(),
        to.code(),
        transition.code(),
        actor.0,
        actor.1,
        reason,
    )
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
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))",
        tenant_id.to_string(),
    )
    .execute(&mut *conn)
    .await?;
    let n: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM campaigns WHERE tenant_id = $1 AND code LIKE $2 || '%'"#,
        tenant_id,
        prefix,
    )
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
    sqlx::query!(
        "UPDATE campaigns SET code = $3, submitted_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        id,
        code,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TransitionRow {
    pub from_state: CampaignState,
    pub to_state: CampaignState,
    pub actor_label: String,
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}

pub async fn transitions(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
) -> Result<Vec<TransitionRow>, sqlx::Error> {
    sqlx::query_as!(
        TransitionRow,
        r#"SELECT from_state AS "from_state: CampaignState", to_state AS "to_state: CampaignState",
           actor_label, reason, at FROM campaign_transitions
         WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY at"#,
        tenant_id,
        campaign_id,
    )
    .fetch_all(conn)
    .await
}

/// Whether the campaign is this tenant's (another tenant's id is simply not there).
pub async fn exists(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2) AS "found!""#,
        tenant_id,
        id,
    )
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
    if exists(conn, tenant_id, id).await? {
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
    let rows = sqlx::query!(
        r#"SELECT from_ccy::text AS "from_ccy!", to_ccy::text AS "to_ccy!" FROM reference_rates WHERE from_ccy = 'USD' OR to_ccy = 'USD'"#,
    )
    .fetch_all(conn)
    .await?;
    let mut set: HashSet<String> = rows
        .into_iter()
        .flat_map(|r| [r.from_ccy, r.to_ccy])
        .collect();
    set.insert("USD".into());
    Ok(set)
}

/// One shortlist entry with the creator's numbers, as the seller's card shows it.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub round: i32,
    pub note: String,
    pub score: rust_decimal::Decimal,
    pub breakdown: serde_json::Value,
    pub decision: Option<Decision>,
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
    pub recent_videos: Vec<String>,
    pub audience_age: serde_json::Value,
    pub audience_gender: serde_json::Value,
    pub audience_countries: serde_json::Value,
    pub collaboration_id: Option<Uuid>,
}

/// A campaign's shortlist entries, newest round first and best score first (or just `only`).
pub async fn shortlist_entries(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as!(
        EntryRow,
        r#"SELECT e.id, e.creator_id, e.round, e.note, e.score, e.breakdown, e.decision AS "decision: Decision",
           e.decision_reason, c.handle,
           c.display_name, c.followers, c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares,
           c.quote_video, c.quote_currency::text AS "quote_currency?", c.profile_url, c.recent_videos, c.audience_age,
           c.audience_gender, c.audience_countries, l.id AS "collaboration_id?"
         FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id
         LEFT JOIN collaborations l ON l.tenant_id = e.tenant_id AND l.campaign_id = e.campaign_id
           AND l.creator_id = e.creator_id
         WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND ($3::uuid IS NULL OR e.id = $3)
         ORDER BY e.round DESC, e.score DESC"#,
        tenant_id,
        campaign_id,
        only,
    )
    .fetch_all(conn)
    .await
}

/// What a creator has done with the tenant before this campaign (shortlist cards).
#[derive(Debug, Clone, Default)]
pub struct PastRecord {
    pub creator_id: Uuid,
    /// Collaborations in the tenant's other campaigns (any state).
    pub collaborations: i64,
    /// Of them, ended by a breach (the creator's fault).
    pub breached: i64,
    /// Completed ratings and their mean final score.
    pub rated: i64,
    pub mean_score: Option<rust_decimal::Decimal>,
    /// The latest completed rating: its final score and its campaign.
    pub last_score: Option<rust_decimal::Decimal>,
    pub last_campaign_id: Option<Uuid>,
    pub last_code: Option<String>,
}

/// Each of `creators`' record with the tenant outside `campaign_id`; creators the tenant never
/// booked are absent.
pub async fn past_records(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    creators: &[Uuid],
) -> Result<Vec<PastRecord>, sqlx::Error> {
    sqlx::query_as!(
        PastRecord,
        r#"SELECT l.creator_id,
             count(*) AS "collaborations!",
             count(*) FILTER (WHERE l.state = 'breached') AS "breached!",
             count(r.final_score) AS "rated!",
             round(avg(r.final_score), 1) AS mean_score,
             (array_agg(r.final_score ORDER BY r.completed_at DESC)
               FILTER (WHERE r.final_score IS NOT NULL))[1] AS last_score,
             (array_agg(p.id ORDER BY r.completed_at DESC)
               FILTER (WHERE r.final_score IS NOT NULL))[1] AS last_campaign_id,
             (array_agg(p.code ORDER BY r.completed_at DESC)
               FILTER (WHERE r.final_score IS NOT NULL))[1] AS last_code
           FROM collaborations l
           JOIN campaigns p ON p.tenant_id = l.tenant_id AND p.id = l.campaign_id
           LEFT JOIN ratings r ON r.tenant_id = l.tenant_id AND r.collaboration_id = l.id
             AND r.state = 'completed'
           WHERE l.tenant_id = $1 AND l.campaign_id <> $2 AND l.creator_id = ANY($3)
           GROUP BY l.creator_id"#,
        tenant_id,
        campaign_id,
        creators,
    )
    .fetch_all(conn)
    .await
}

/// Whether the entry's creator is blacklisted now, by the tenant (a confirmed entry) or by the
/// platform: such a creator cannot be approved (a shortlist may predate the blacklist).
pub async fn entry_creator_blacklisted(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    entry_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT (c.platform_blacklisted OR EXISTS (
             SELECT 1 FROM blacklist_entries b WHERE b.tenant_id = e.tenant_id
               AND b.creator_id = e.creator_id AND b.status = 'confirmed')) AS "blocked!"
           FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id
           WHERE e.tenant_id = $1 AND e.id = $2"#,
        tenant_id,
        entry_id,
    )
    .fetch_optional(conn)
    .await
    .map(|b| b.unwrap_or(false))
}

/// Locks one entry of the campaign's shortlist for a decision: None when there is no such
/// entry, else the decision taken so far (None while undecided).
pub async fn entry_decision_for_update(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    entry_id: Uuid,
) -> Result<Option<Option<Decision>>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT decision AS "decision: Decision" FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3 FOR UPDATE"#,
        tenant_id,
        campaign_id,
        entry_id,
    )
    .fetch_optional(conn)
    .await
}

/// Records the seller's decision on an entry (an empty reason is kept as none).
pub async fn record_decision(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    entry_id: Uuid,
    decision: Decision,
    reason: &str,
    decided_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE shortlist_entries SET decision = $4, decision_reason = NULLIF($5, ''), decided_by = $6, decided_at = now() \
         WHERE tenant_id = $1 AND campaign_id = $2 AND id = $3",
        tenant_id,
        campaign_id,
        entry_id,
        decision.code(),
        reason,
        decided_by,
    )
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
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2 AND decision = 'approved'"#,
        tenant_id,
        campaign_id,
    )
    .fetch_one(conn)
    .await
}
