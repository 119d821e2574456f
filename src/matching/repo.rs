//! Matching's SQL: reference rates, what a campaign asks, creators as matching sees them, the SQL
//! path (Postgres applies the cheap hard filters with its indexes; the reference function in
//! `domain.rs` scores the rest), the reads behind the in-memory projection in `pool.rs`, the
//! weights setting, and the shortlist entries an account manager sends.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{
    AgeBucket, CampaignAsk, CreatorFacts, Format, Gender, MatchScore, Tier, Weights,
};
use crate::campaigns::domain::Campaign;
use crate::kernel::rates::Rates;
use crate::kernel::tier::TierBadge;

/// Latest reference rates by pair; converts directly, through the inverse pair, or through USD
/// (these are reference figures for comparison, labelled so; settlement uses its own rates).
#[derive(Debug, Default, Clone)]
pub struct ReferenceRates {
    pairs: HashMap<(String, String), Decimal>,
}

impl ReferenceRates {
    pub async fn load(conn: &mut PgConnection) -> Result<ReferenceRates, sqlx::Error> {
        let rows = sqlx::query!(
            r#"SELECT DISTINCT ON (from_ccy, to_ccy) from_ccy::text AS "from_ccy!", to_ccy::text AS "to_ccy!", rate
             FROM reference_rates ORDER BY from_ccy, to_ccy, rate_date DESC"#
        )
        .fetch_all(conn)
        .await?;
        Ok(ReferenceRates {
            pairs: rows
                .into_iter()
                .map(|r| ((r.from_ccy, r.to_ccy), r.rate))
                .collect(),
        })
    }

    fn direct(&self, from: &str, to: &str) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        if let Some(r) = self.pairs.get(&(from.to_string(), to.to_string())) {
            return Some(*r);
        }
        self.pairs
            .get(&(to.to_string(), from.to_string()))
            .and_then(|r| Decimal::ONE.checked_div(*r))
    }

    /// The factor from → to, if the rates allow it.
    pub fn factor(&self, from: &str, to: &str) -> Option<Decimal> {
        self.direct(from, to)
            .or_else(|| Some(self.direct(from, "USD")? * self.direct("USD", to)?))
    }
}

impl Rates for ReferenceRates {
    fn convert(&self, amount: Decimal, from: &str, to: &str) -> Option<Decimal> {
        let f = self.factor(&from.to_uppercase(), &to.to_uppercase())?;
        amount.checked_mul(f)
    }
}

/// What matching asks of the pool for a campaign.
pub fn ask_of(c: &Campaign) -> CampaignAsk {
    let mut categories: Vec<String> = c.category.iter().cloned().collect();
    categories.extend(c.interests.iter().cloned());
    CampaignAsk {
        markets: c.markets.clone(),
        languages: c.languages.clone(),
        format: c.format.unwrap_or(Format::ShortVideo),
        followers_min: c.followers_min.unwrap_or(0),
        followers_max: c.followers_max.unwrap_or(i64::MAX),
        fee_cap: match (
            c.fee_cap,
            c.fee_cap_currency.clone().or(c.budget_currency.clone()),
        ) {
            (Some(cap), Some(ccy)) => Some((cap, ccy)),
            _ => None,
        },
        categories,
        styles: c.styles.clone(),
        age_buckets: c.age_buckets.clone(),
        gender: c.gender,
    }
}

pub(crate) struct CreatorFactsRow {
    id: Uuid,
    active: bool,
    markets: Vec<String>,
    languages: Vec<String>,
    followers: i64,
    avg_views: i64,
    avg_likes: i64,
    avg_comments: i64,
    avg_shares: i64,
    categories: Vec<String>,
    styles: Vec<String>,
    audience_age: serde_json::Value,
    audience_gender: serde_json::Value,
    audience_countries: serde_json::Value,
    quote_video: Option<Decimal>,
    quote_live: Option<Decimal>,
    quote_currency: Option<String>,
    sample_posting_rate: Option<Decimal>,
    has_violation_notes: bool,
    platform_blacklisted: bool,
    platform_tier: Option<String>,
    tenant_tier: Option<String>,
    low_score_warning: bool,
    blacklisted_by_tenant: bool,
}

fn pairs(v: &serde_json::Value) -> Vec<(String, f64)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
                .collect()
        })
        .unwrap_or_default()
}

impl From<CreatorFactsRow> for CreatorFacts {
    fn from(r: CreatorFactsRow) -> CreatorFacts {
        use rust_decimal::prelude::ToPrimitive;
        CreatorFacts {
            id: r.id,
            active: r.active,
            markets: r.markets,
            languages: r.languages,
            followers: r.followers,
            avg_views: r.avg_views,
            avg_likes: r.avg_likes,
            avg_comments: r.avg_comments,
            avg_shares: r.avg_shares,
            categories: r.categories,
            styles: r.styles,
            audience_age: pairs(&r.audience_age)
                .into_iter()
                .filter_map(|(k, v)| AgeBucket::parse(&k).map(|b| (b, v)))
                .collect(),
            audience_gender: pairs(&r.audience_gender)
                .into_iter()
                .filter_map(|(k, v)| Gender::parse(&k).map(|g| (g, v)))
                .collect(),
            audience_countries: pairs(&r.audience_countries),
            quote_video: r.quote_video,
            quote_live: r.quote_live,
            quote_currency: r.quote_currency,
            sample_posting_rate: r.sample_posting_rate.and_then(|d| d.to_f64()),
            has_violation_notes: r.has_violation_notes,
            blacklisted_by_tenant: r.blacklisted_by_tenant,
            blacklisted_by_platform: r.platform_blacklisted,
            open_low_score_warning: r.low_score_warning,
            tenant_tier: r.tenant_tier.as_deref().and_then(Tier::parse),
            platform_tier: r.platform_tier.as_deref().and_then(Tier::parse),
        }
    }
}

/// A checked query reading [`CreatorFactsRow`]s: the creator columns matching reads (creators as
/// `c`, with the platform tier), then `$rest` (from `WHERE` on), one literal so the whole text
/// stays checked at build time.
///
/// `tenant;` reads the tenant's standing too (`$1` is the tenant): its tier and open low-score
/// warning, its confirmed blacklist entry, and past violation notes: the creator's own notes or
/// one of the tenant's counting fulfilment records of kind `compliance_issue` or severity
/// `severe`. Each is a join on an index per creator (a creator has at most one proposed or
/// confirmed entry: `blacklist_entries_open_key`), so reading a shortlist's few dozen creators
/// never reads the tenant's whole blacklist or record history. `pool;` reads none of it (the in-memory projection is the platform's; a tenant's
/// standing reaches it through the overlay).
macro_rules! creator_facts {
    (tenant; $rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            CreatorFactsRow,
            r#"SELECT c.id AS "id!", c.active AS "active!", c.markets AS "markets!",
               c.languages AS "languages!", c.followers AS "followers!", c.avg_views AS "avg_views!",
               c.avg_likes AS "avg_likes!", c.avg_comments AS "avg_comments!",
               c.avg_shares AS "avg_shares!", c.categories AS "categories!", c.styles AS "styles!",
               c.audience_age AS "audience_age!", c.audience_gender AS "audience_gender!",
               c.audience_countries AS "audience_countries!", c.quote_video, c.quote_live,
               c.quote_currency::text AS "quote_currency?", c.sample_posting_rate,
               (coalesce(c.violation_notes, '') <> '' OR f.hit IS NOT NULL)
                 AS "has_violation_notes!",
               c.platform_blacklisted AS "platform_blacklisted!", p.tier::text AS "platform_tier?",
               t.tier::text AS "tenant_tier?", coalesce(t.low_score_warning, false) AS "low_score_warning!",
               coalesce(b.status = 'confirmed', false) AS "blacklisted_by_tenant!"
               FROM creators c LEFT JOIN platform_tiers p ON p.creator_id = c.id
               LEFT JOIN creator_tiers t ON t.tenant_id = $1 AND t.creator_id = c.id
               LEFT JOIN blacklist_entries b ON b.tenant_id = $1 AND b.creator_id = c.id
                    AND b.status IN ('proposed', 'confirmed')
               LEFT JOIN LATERAL (
                   SELECT true AS hit FROM counting_fulfilment_records r
                    WHERE r.tenant_id = $1 AND r.creator_id = c.id
                      AND (r.kind = 'compliance_issue' OR r.severity = 'severe')
                    LIMIT 1) f ON true "#
                + $rest
            $(, $arg)*
        )
    };
    (pool; $rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            CreatorFactsRow,
            r#"SELECT c.id AS "id!", c.active AS "active!", c.markets AS "markets!",
               c.languages AS "languages!", c.followers AS "followers!", c.avg_views AS "avg_views!",
               c.avg_likes AS "avg_likes!", c.avg_comments AS "avg_comments!",
               c.avg_shares AS "avg_shares!", c.categories AS "categories!", c.styles AS "styles!",
               c.audience_age AS "audience_age!", c.audience_gender AS "audience_gender!",
               c.audience_countries AS "audience_countries!", c.quote_video, c.quote_live,
               c.quote_currency::text AS "quote_currency?", c.sample_posting_rate,
               coalesce(c.violation_notes, '') <> '' AS "has_violation_notes!",
               c.platform_blacklisted AS "platform_blacklisted!", p.tier::text AS "platform_tier?",
               NULL::text AS "tenant_tier?", false AS "low_score_warning!",
               false AS "blacklisted_by_tenant!"
               FROM creators c LEFT JOIN platform_tiers p ON p.creator_id = c.id "#
                + $rest
            $(, $arg)*
        )
    };
}

/// The candidates that pass the indexed hard filters and were not offered for this campaign
/// before (a rejected creator never comes back).
pub async fn candidates(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    ask: &CampaignAsk,
) -> Result<Vec<CreatorFacts>, sqlx::Error> {
    let markets: Vec<String> = ask
        .markets
        .iter()
        .map(|m| m.trim().to_uppercase())
        .collect();
    let rows = creator_facts!(tenant;
        "WHERE c.active AND NOT c.platform_blacklisted AND c.markets && $2 \
           AND c.followers BETWEEN $3 AND $4 \
           AND NOT EXISTS (SELECT 1 FROM blacklist_entries x \
                 WHERE x.tenant_id = $1 AND x.creator_id = c.id AND x.status = 'confirmed') \
           AND NOT EXISTS (SELECT 1 FROM shortlist_entries e \
                 WHERE e.tenant_id = $1 AND e.campaign_id = $5 AND e.creator_id = c.id)",
        tenant_id,
        &markets,
        ask.followers_min,
        ask.followers_max,
        campaign_id,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(CreatorFacts::from).collect())
}

/// The creators already offered for this campaign (in any round): never offered again.
pub async fn offered(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT creator_id FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2",
        tenant_id,
        campaign_id,
    )
    .fetch_all(conn)
    .await
}

/// Every creator in the pool as matching sees it for a tenant (for checking the fast path
/// against the reference).
pub async fn all_facts(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<CreatorFacts>, sqlx::Error> {
    let rows = creator_facts!(tenant; "", tenant_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(CreatorFacts::from).collect())
}

/// These creators' facts as the tenant sees them (the exact pass of a ranking, and freezing a
/// score when a shortlist is sent).
pub async fn facts_of(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<CreatorFacts>, sqlx::Error> {
    let rows = creator_facts!(tenant; "WHERE c.id = ANY($2)", tenant_id, ids)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(CreatorFacts::from).collect())
}

// --- The in-memory projection's reads (`pool.rs`) -------------------------------------------

/// Makes the rest of this (fresh) transaction one read-only snapshot, so the pool's version and
/// its rows are read as of the same moment.
pub async fn snapshot_read_only(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(conn)
        .await?;
    Ok(())
}

/// The current version of the creator pool, as this transaction sees it (it moves on every
/// change to a creator matching reads).
pub async fn pool_version(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT version FROM cache_versions WHERE name = 'creator_pool'")
        .fetch_one(conn)
        .await
}

/// How many creators can ever be a candidate (active, not on the platform blocklist).
pub async fn pool_size(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM creators WHERE active AND NOT platform_blacklisted"#
    )
    .fetch_one(conn)
    .await
}

/// Streams every creator who can ever be a candidate to `each`, one at a time (the pool is never
/// held twice in memory).
pub async fn each_pool_creator(
    conn: &mut PgConnection,
    mut each: impl FnMut(&CreatorFacts),
) -> Result<(), sqlx::Error> {
    let mut rows =
        creator_facts!(pool; "WHERE c.active AND NOT c.platform_blacklisted").fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(&CreatorFacts::from(row));
    }
    Ok(())
}

/// The current version of every tenant's overlay (tiers and blacklists), as this transaction
/// sees it (it moves on every change to `creator_tiers` or `blacklist_entries`).
pub async fn overlay_version(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT version FROM cache_versions WHERE name = 'tenant_overlay'")
        .fetch_one(conn)
        .await
}

/// One creator the tenant has a standing with that moves its score or filters it.
#[derive(Debug, Clone)]
pub struct OverlayRow {
    pub creator_id: Uuid,
    pub tier: Option<Tier>,
    pub blacklisted: bool,
}

/// The tenant's tiers and confirmed blacklist entries, one row per creator that has either.
pub async fn tenant_overlay(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<OverlayRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT coalesce(t.creator_id, b.creator_id) AS "creator_id!", t.tier::text AS "tier?",
                  b.creator_id IS NOT NULL AS "blacklisted!"
             FROM (SELECT creator_id, tier FROM creator_tiers
                    WHERE tenant_id = $1 AND tier IS NOT NULL) t
             FULL JOIN (SELECT DISTINCT creator_id FROM blacklist_entries
                         WHERE tenant_id = $1 AND status = 'confirmed') b
               ON b.creator_id = t.creator_id"#,
        tenant_id,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OverlayRow {
            creator_id: r.creator_id,
            tier: r.tier.as_deref().and_then(Tier::parse),
            blacklisted: r.blacklisted,
        })
        .collect())
}

/// Drops a connection opened outside the pool to the application's role, so row-level security
/// applies to it as to every request.
pub async fn act_as_app(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SET ROLE sextant_app").execute(conn).await?;
    Ok(())
}

/// A candidate's name and quote, and its tier with the tenant, for the matching page's rows.
#[derive(Debug, Clone)]
pub struct CandidateInfo {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub followers: i64,
    pub quote_video: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub tier: Option<String>,
    pub blocked: bool,
}

impl CandidateInfo {
    /// The badge of the creator's standing with the tenant.
    pub fn badge(&self) -> TierBadge {
        TierBadge::new(self.tier.as_deref().and_then(Tier::parse), self.blocked)
    }
}

pub async fn candidate_infos(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<CandidateInfo>, sqlx::Error> {
    sqlx::query_as!(
        CandidateInfo,
        r#"SELECT c.id AS "id!", c.handle AS "handle!", c.display_name AS "display_name!",
                  c.followers AS "followers!", c.quote_video,
                  c.quote_currency::text AS "quote_currency?", t.tier::text AS "tier?",
                  (c.platform_blacklisted OR EXISTS (SELECT 1 FROM blacklist_entries b
                       WHERE b.tenant_id = $1 AND b.creator_id = c.id AND b.status = 'confirmed'))
                    AS "blocked!"
             FROM creators c
             LEFT JOIN creator_tiers t ON t.tenant_id = $1 AND t.creator_id = c.id
            WHERE c.id = ANY($2)"#,
        tenant_id,
        ids,
    )
    .fetch_all(conn)
    .await
}

/// The badges of these creators' standing with the tenant (its tier; blocked by its confirmed
/// blacklist entry or the platform's), for every page that lists creators of a tenant.
pub async fn tier_badges(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, TierBadge>, sqlx::Error> {
    Ok(candidate_infos(conn, tenant_id, ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c.badge()))
        .collect())
}

/// The badges of these creators' platform standing (the platform tier; blocked on the platform
/// blacklist): staff pages only (SPEC §8).
pub async fn platform_tier_badges(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, TierBadge>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id!", p.tier::text AS "tier?",
                  c.platform_blacklisted AS "platform_blacklisted!"
             FROM creators c LEFT JOIN platform_tiers p ON p.creator_id = c.id
            WHERE c.id = ANY($1)"#,
        ids,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let tier = r.tier.as_deref().and_then(Tier::parse);
            (r.id, TierBadge::new(tier, r.platform_blacklisted))
        })
        .collect())
}

// --- Weights ----------------------------------------------------------------------------------

/// The platform setting that holds the matching weights.
pub const WEIGHTS_KEY: &str = "matching_weights";

/// The weights in force (the defaults until an admin saves others).
pub async fn current_weights(conn: &mut PgConnection) -> Result<Weights, sqlx::Error> {
    let stored: Option<serde_json::Value> = sqlx::query_scalar!(
        "SELECT value FROM platform_settings WHERE key = $1",
        WEIGHTS_KEY
    )
    .fetch_optional(conn)
    .await?;
    Ok(stored
        .and_then(|v| serde_json::from_value::<Weights>(v).ok())
        .filter(Weights::validate)
        .unwrap_or_default())
}

/// Stores new weights (from a system scope: the setting is the platform's).
pub async fn save_weights(
    conn: &mut PgConnection,
    weights: &Weights,
    updated_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO platform_settings (key, value, updated_by) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, \
         updated_at = now()",
        WEIGHTS_KEY,
        json!(weights),
        updated_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

// --- Sending a shortlist ----------------------------------------------------------------------

/// The round the next shortlist of this campaign is (1 for the first).
pub async fn next_round(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(max(round), 0) + 1 AS "round!" FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2"#,
        tenant_id,
        campaign_id,
    )
    .fetch_one(conn)
    .await
}

/// The constraint that keeps a creator to one entry per campaign (never offered twice).
pub const ONE_ENTRY_PER_CREATOR: &str = "shortlist_entries_tenant_id_campaign_id_creator_id_key";

/// One creator offered in a shortlist round, with the score and the weights frozen as sent.
pub struct NewEntry<'a> {
    pub campaign_id: Uuid,
    pub creator_id: Uuid,
    pub round: i32,
    pub note: &'a str,
    pub score: &'a MatchScore,
    /// The score as the seller sees it ([`super::domain::seller_view`]).
    pub seller: &'a MatchScore,
    pub weights: &'a Weights,
    pub created_by: Option<Uuid>,
}

pub async fn insert_entry(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    entry: NewEntry<'_>,
) -> Result<(), sqlx::Error> {
    // The score goes as text ("12.35", rounded as shown) and Postgres reads it as numeric.
    sqlx::query!(
        "INSERT INTO shortlist_entries (tenant_id, id, campaign_id, creator_id, round, note, score, breakdown, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::text::numeric, $8, $9)",
        tenant_id,
        Uuid::now_v7(),
        entry.campaign_id,
        entry.creator_id,
        entry.round,
        entry.note,
        format!("{:.2}", entry.score.total),
        json!({ "score": entry.score, "seller": entry.seller, "weights": entry.weights }),
        entry.created_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}
