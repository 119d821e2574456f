//! SQL for the creator pool, its imports and the reference rates — the pool is the agency's (no
//! tenant): staff read and write it from a system scope — and for the sellers' view of the
//! creators offered to them (tenant-scoped).

use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::ImportStatus;
use super::import::CreatorRecord;
use crate::contracts::domain::ContractState;

pub const PAGE_SIZE: i64 = 50;

/// The list's filters and order, as they stand in the URL.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CreatorFilter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub market: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub style: String,
    #[serde(default)]
    pub followers_min: String,
    #[serde(default)]
    pub followers_max: String,
    /// Minimum engagement rate in percent.
    #[serde(default)]
    pub er_min: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: Option<i64>,
}

impl CreatorFilter {
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }

    fn order_by(&self) -> &'static str {
        let desc = self.dir != "asc";
        match (self.sort.as_str(), desc) {
            ("handle", false) => "handle ASC",
            ("handle", true) => "handle DESC",
            ("er", false) => "er ASC, handle",
            ("er", true) => "er DESC, handle",
            ("views", false) => "avg_views ASC, handle",
            ("views", true) => "avg_views DESC, handle",
            ("refreshed", false) => "last_refreshed_at ASC NULLS FIRST, handle",
            ("refreshed", true) => "last_refreshed_at DESC NULLS LAST, handle",
            (_, false) => "followers ASC, handle",
            (_, true) => "followers DESC, handle",
        }
    }
}

#[derive(FromRow, Debug, Clone)]
pub struct CreatorRow {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub country: Option<String>,
    pub markets: Vec<String>,
    pub followers: i64,
    pub avg_views: i64,
    pub er: f64,
    pub categories: Vec<String>,
    pub styles: Vec<String>,
    pub quote_video: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub active: bool,
    pub platform_blacklisted: bool,
    pub last_refreshed_at: Option<OffsetDateTime>,
}

const ER: &str = "CASE WHEN avg_views > 0 THEN (avg_likes + avg_comments + avg_shares)::float8 / avg_views ELSE 0 END";

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, f: &CreatorFilter) {
    qb.push(" WHERE true");
    let q = f.q.trim().trim_start_matches('@').to_lowercase();
    if !q.is_empty() {
        let pattern = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        qb.push(" AND (handle LIKE ")
            .push_bind(pattern.clone())
            .push(" OR lower(display_name) LIKE ")
            .push_bind(pattern)
            .push(")");
    }
    if !f.market.is_empty() {
        qb.push(" AND markets @> ARRAY[")
            .push_bind(f.market.to_uppercase())
            .push("]::text[]");
    }
    if !f.category.is_empty() {
        qb.push(" AND categories @> ARRAY[")
            .push_bind(f.category.clone())
            .push("]::text[]");
    }
    if !f.style.is_empty() {
        qb.push(" AND styles @> ARRAY[")
            .push_bind(f.style.clone())
            .push("]::text[]");
    }
    if let Some(min) = crate::kernel::counts::parse_count(&f.followers_min) {
        qb.push(" AND followers >= ").push_bind(min);
    }
    if let Some(max) = crate::kernel::counts::parse_count(&f.followers_max) {
        qb.push(" AND followers <= ").push_bind(max);
    }
    if let Ok(er) = f.er_min.trim().trim_end_matches('%').parse::<f64>()
        && er.is_finite()
    {
        qb.push(format!(" AND {ER} >= ")).push_bind(er / 100.0);
    }
}

/// One page of the pool and how many match in all.
// dynamic: the filters present and the ORDER BY (one of ten) depend on the URL.
pub async fn list(
    conn: &mut PgConnection,
    f: &CreatorFilter,
) -> Result<(Vec<CreatorRow>, i64), sqlx::Error> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM creators");
    push_filters(&mut count, f);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;

    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT id, handle, display_name, country::text AS country, markets, followers, avg_views, \
         {ER} AS er, categories, styles, quote_video, quote_currency::text AS quote_currency, active, \
         platform_blacklisted, last_refreshed_at FROM creators"
    ));
    push_filters(&mut qb, f);
    qb.push(" ORDER BY ").push(f.order_by());
    qb.push(" LIMIT ").push_bind(PAGE_SIZE);
    qb.push(" OFFSET ").push_bind((f.page() - 1) * PAGE_SIZE);
    let rows = qb
        .build_query_as::<CreatorRow>()
        .fetch_all(&mut *conn)
        .await?;
    Ok((rows, total))
}

#[derive(Debug, Clone)]
pub struct CreatorDetail {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub profile_url: Option<String>,
    pub recent_videos: Vec<String>,
    pub country: Option<String>,
    pub markets: Vec<String>,
    pub languages: Vec<String>,
    pub followers: i64,
    pub avg_views: i64,
    pub avg_likes: i64,
    pub avg_comments: i64,
    pub avg_shares: i64,
    pub categories: Vec<String>,
    pub styles: Vec<String>,
    pub audience_age: serde_json::Value,
    pub audience_gender: serde_json::Value,
    pub audience_countries: serde_json::Value,
    pub quote_video: Option<Decimal>,
    pub quote_live: Option<Decimal>,
    pub quote_currency: Option<String>,
    pub mcn: Option<String>,
    pub contact: Option<String>,
    pub sample_posting_rate: Option<Decimal>,
    pub violation_notes: Option<String>,
    pub platform_blacklisted: bool,
    pub active: bool,
    pub last_refreshed_at: Option<OffsetDateTime>,
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<CreatorDetail>, sqlx::Error> {
    sqlx::query_as!(
        CreatorDetail,
        r#"SELECT id, handle, display_name, profile_url, recent_videos, country::text AS "country?", markets,
             languages, followers, avg_views, avg_likes, avg_comments, avg_shares, categories, styles,
             audience_age, audience_gender, audience_countries, quote_video, quote_live,
             quote_currency::text AS "quote_currency?", mcn, contact, sample_posting_rate,
             violation_notes, platform_blacklisted, active, last_refreshed_at
           FROM creators WHERE id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// The pool's creators with these handles (as stored: lower case, no '@').
pub async fn by_handles(
    conn: &mut PgConnection,
    handles: &[String],
) -> Result<Vec<CreatorDetail>, sqlx::Error> {
    sqlx::query_as!(
        CreatorDetail,
        r#"SELECT id, handle, display_name, profile_url, recent_videos, country::text AS "country?", markets,
             languages, followers, avg_views, avg_likes, avg_comments, avg_shares, categories, styles,
             audience_age, audience_gender, audience_countries, quote_video, quote_live,
             quote_currency::text AS "quote_currency?", mcn, contact, sample_posting_rate,
             violation_notes, platform_blacklisted, active, last_refreshed_at
           FROM creators WHERE handle = ANY($1)"#,
        handles,
    )
    .fetch_all(conn)
    .await
}

/// Whether [`upsert`]ing `r` would leave `current` as it is: every column the record carries
/// (and the followers, always written) already holds its value.
pub fn upsert_changes_nothing(current: &CreatorDetail, r: &CreatorRecord) -> bool {
    let has = |c: &str| r.present.contains(c);
    let same = |c: &str, equal: bool| !has(c) || equal;
    let dec = |a: Option<Decimal>, b: Option<Decimal>| {
        a.map(|d| d.normalize()) == b.map(|d| d.normalize())
    };
    current.followers == r.followers
        && same("display_name", current.display_name == r.display_name)
        && same("profile_url", current.profile_url == r.profile_url)
        && same("country", current.country == r.country)
        && same("markets", current.markets == r.markets)
        && same("languages", current.languages == r.languages)
        && same("avg_views", current.avg_views == r.avg_views)
        && same("avg_likes", current.avg_likes == r.avg_likes)
        && same("avg_comments", current.avg_comments == r.avg_comments)
        && same("avg_shares", current.avg_shares == r.avg_shares)
        && same("categories", current.categories == r.categories)
        && same("styles", current.styles == r.styles)
        && same(
            "audience_age",
            current.audience_age == shares_json(&r.audience_age),
        )
        && same(
            "audience_gender",
            current.audience_gender == shares_json(&r.audience_gender),
        )
        && same(
            "audience_countries",
            current.audience_countries == shares_json(&r.audience_countries),
        )
        && same("quote_video", dec(current.quote_video, r.quote_video))
        && same("quote_live", dec(current.quote_live, r.quote_live))
        && same("quote_currency", current.quote_currency == r.quote_currency)
        && same("mcn", current.mcn == r.mcn)
        && same("contact", current.contact == r.contact)
        && same(
            "sample_posting_rate",
            dec(current.sample_posting_rate, r.sample_posting_rate),
        )
        && same(
            "violation_notes",
            current.violation_notes == r.violation_notes,
        )
        && same("active", current.active == r.active)
        && same("recent_videos", current.recent_videos == r.recent_videos)
}

fn shares_json(pairs: &[(String, f64)]) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::json!((v * 10_000.0).round() / 10_000.0),
                )
            })
            .collect(),
    )
}

/// Creates or updates (same handle) one creator; an update overwrites only the columns the
/// file carried. Returns true when the creator was new.
pub async fn upsert(conn: &mut PgConnection, r: &CreatorRecord) -> Result<bool, sqlx::Error> {
    let has = |c: &str| r.present.contains(c);
    let inserted = sqlx::query_scalar!(
        r#"INSERT INTO creators (id, handle, display_name, profile_url, country, markets, languages,
           followers, avg_views, avg_likes, avg_comments, avg_shares, categories, styles,
           audience_age, audience_gender, audience_countries, quote_video, quote_live, quote_currency,
           mcn, contact, sample_posting_rate, violation_notes, active, last_refreshed_at, recent_videos)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
           $20, $21, $22, $23, $24, $25, now(), $48)
         ON CONFLICT (handle) DO UPDATE SET
           display_name = CASE WHEN $26 THEN EXCLUDED.display_name ELSE creators.display_name END,
           profile_url = CASE WHEN $27 THEN EXCLUDED.profile_url ELSE creators.profile_url END,
           country = CASE WHEN $28 THEN EXCLUDED.country ELSE creators.country END,
           markets = CASE WHEN $29 THEN EXCLUDED.markets ELSE creators.markets END,
           languages = CASE WHEN $30 THEN EXCLUDED.languages ELSE creators.languages END,
           followers = EXCLUDED.followers,
           avg_views = CASE WHEN $31 THEN EXCLUDED.avg_views ELSE creators.avg_views END,
           avg_likes = CASE WHEN $32 THEN EXCLUDED.avg_likes ELSE creators.avg_likes END,
           avg_comments = CASE WHEN $33 THEN EXCLUDED.avg_comments ELSE creators.avg_comments END,
           avg_shares = CASE WHEN $34 THEN EXCLUDED.avg_shares ELSE creators.avg_shares END,
           categories = CASE WHEN $35 THEN EXCLUDED.categories ELSE creators.categories END,
           styles = CASE WHEN $36 THEN EXCLUDED.styles ELSE creators.styles END,
           audience_age = CASE WHEN $37 THEN EXCLUDED.audience_age ELSE creators.audience_age END,
           audience_gender = CASE WHEN $38 THEN EXCLUDED.audience_gender ELSE creators.audience_gender END,
           audience_countries = CASE WHEN $39 THEN EXCLUDED.audience_countries ELSE creators.audience_countries END,
           quote_video = CASE WHEN $40 THEN EXCLUDED.quote_video ELSE creators.quote_video END,
           quote_live = CASE WHEN $41 THEN EXCLUDED.quote_live ELSE creators.quote_live END,
           quote_currency = CASE WHEN $42 THEN EXCLUDED.quote_currency ELSE creators.quote_currency END,
           mcn = CASE WHEN $43 THEN EXCLUDED.mcn ELSE creators.mcn END,
           contact = CASE WHEN $44 THEN EXCLUDED.contact ELSE creators.contact END,
           sample_posting_rate = CASE WHEN $45 THEN EXCLUDED.sample_posting_rate ELSE creators.sample_posting_rate END,
           violation_notes = CASE WHEN $46 THEN EXCLUDED.violation_notes ELSE creators.violation_notes END,
           active = CASE WHEN $47 THEN EXCLUDED.active ELSE creators.active END,
           recent_videos = CASE WHEN $49 THEN EXCLUDED.recent_videos ELSE creators.recent_videos END,
           last_refreshed_at = now(), updated_at = now()
         RETURNING (xmax = 0) AS "inserted!""#,
        Uuid::now_v7(),
        &r.handle,
        &r.display_name,
        r.profile_url.as_deref(),
        r.country.as_deref(),
        &r.markets,
        &r.languages,
        r.followers,
        r.avg_views,
        r.avg_likes,
        r.avg_comments,
        r.avg_shares,
        &r.categories,
        &r.styles,
        shares_json(&r.audience_age),
        shares_json(&r.audience_gender),
        shares_json(&r.audience_countries),
        r.quote_video,
        r.quote_live,
        r.quote_currency.as_deref(),
        r.mcn.as_deref(),
        r.contact.as_deref(),
        r.sample_posting_rate,
        r.violation_notes.as_deref(),
        r.active,
        has("display_name"),
        has("profile_url"),
        has("country"),
        has("markets"),
        has("languages"),
        has("avg_views"),
        has("avg_likes"),
        has("avg_comments"),
        has("avg_shares"),
        has("categories"),
        has("styles"),
        has("audience_age"),
        has("audience_gender"),
        has("audience_countries"),
        has("quote_video"),
        has("quote_live"),
        has("quote_currency"),
        has("mcn"),
        has("contact"),
        has("sample_posting_rate"),
        has("violation_notes"),
        has("active"),
        &r.recent_videos,
        has("recent_videos"),
    )
    .fetch_one(conn)
    .await?;
    Ok(inserted)
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub id: Uuid,
    pub filename: String,
    pub encoding: String,
    pub total_rows: i32,
    pub good_rows: i32,
    pub error_rows: i32,
    pub errors: serde_json::Value,
    pub status: ImportStatus,
    pub created: Option<i32>,
    pub updated: Option<i32>,
    pub created_at: OffsetDateTime,
    pub uploader: String,
}

/// The 20 latest creator pool imports, newest first.
pub async fn recent_imports(conn: &mut PgConnection) -> Result<Vec<ImportRow>, sqlx::Error> {
    latest_imports(conn, false).await
}

/// The latest creator pool imports checked and waiting for a person to confirm or cancel.
pub async fn imports_awaiting_confirmation(
    conn: &mut PgConnection,
) -> Result<Vec<ImportRow>, sqlx::Error> {
    latest_imports(conn, true).await
}

async fn latest_imports(
    conn: &mut PgConnection,
    validated_only: bool,
) -> Result<Vec<ImportRow>, sqlx::Error> {
    sqlx::query_as!(
        ImportRow,
        r#"SELECT i.id, i.filename, i.encoding, i.total_rows, i.good_rows, i.error_rows, i.errors,
             i.status AS "status: ImportStatus", i.created, i.updated, i.created_at,
             u.email AS uploader
           FROM creator_imports i JOIN users u ON u.id = i.uploaded_by
           WHERE NOT $1 OR i.status = 'validated'
           ORDER BY i.created_at DESC LIMIT 20"#,
        validated_only
    )
    .fetch_all(conn)
    .await
}

pub async fn import(conn: &mut PgConnection, id: Uuid) -> Result<Option<ImportRow>, sqlx::Error> {
    sqlx::query_as!(
        ImportRow,
        r#"SELECT i.id, i.filename, i.encoding, i.total_rows, i.good_rows, i.error_rows, i.errors,
             i.status AS "status: ImportStatus", i.created, i.updated, i.created_at,
             u.email AS uploader
           FROM creator_imports i JOIN users u ON u.id = i.uploaded_by
           WHERE i.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// The uploaded bytes of an import still waiting for a decision, locked against a second click.
pub async fn pending_content(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT content FROM creator_imports WHERE id = $1 AND status = 'validated' FOR UPDATE",
        id,
    )
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct RateRow {
    pub id: Uuid,
    pub rate_date: time::Date,
    pub from_ccy: String,
    pub to_ccy: String,
    pub rate: Decimal,
}

pub async fn rates(conn: &mut PgConnection) -> Result<Vec<RateRow>, sqlx::Error> {
    sqlx::query_as!(
        RateRow,
        r#"SELECT id, rate_date, from_ccy::text AS "from_ccy!", to_ccy::text AS "to_ccy!", rate
           FROM reference_rates ORDER BY rate_date DESC, from_ccy, to_ccy LIMIT 200"#
    )
    .fetch_all(conn)
    .await
}

/// The latest reference rate from → to on or before `on`, using the inverse pair when only that
/// one was entered.
pub async fn rate_on(
    conn: &mut PgConnection,
    from: &str,
    to: &str,
    on: time::Date,
) -> Result<Option<Decimal>, sqlx::Error> {
    if from == to {
        return Ok(Some(Decimal::ONE));
    }
    let direct = sqlx::query_scalar!(
        "SELECT rate FROM reference_rates WHERE from_ccy = $1 AND to_ccy = $2 AND rate_date <= $3 \
         ORDER BY rate_date DESC LIMIT 1",
        from,
        to,
        on,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if direct.is_some() {
        return Ok(direct);
    }
    let inverse = sqlx::query_scalar!(
        "SELECT rate FROM reference_rates WHERE from_ccy = $2 AND to_ccy = $1 AND rate_date <= $3 \
         ORDER BY rate_date DESC LIMIT 1",
        from,
        to,
        on,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(inverse
        .and_then(|r| Decimal::ONE.checked_div(r))
        .map(|r| r.round_dp(8)))
}

/// A validated upload, kept until someone imports it or cancels.
pub struct NewCreatorImport<'a> {
    pub id: Uuid,
    pub uploaded_by: Uuid,
    pub filename: &'a str,
    pub encoding: &'a str,
    pub content: &'a [u8],
    pub total_rows: i32,
    pub good_rows: i32,
    pub error_rows: i32,
    /// `[{line, column, value, key}]`, every problem of the file.
    pub errors: serde_json::Value,
}

pub async fn insert_import(
    conn: &mut PgConnection,
    new: &NewCreatorImport<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO creator_imports (id, uploaded_by, filename, encoding, content, total_rows, \
         good_rows, error_rows, errors) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        new.id,
        new.uploaded_by,
        new.filename,
        new.encoding,
        new.content,
        new.total_rows,
        new.good_rows,
        new.error_rows,
        &new.errors,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks an import done with what it created and updated.
pub async fn mark_imported(
    conn: &mut PgConnection,
    id: Uuid,
    created: i32,
    updated: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE creator_imports SET status = 'imported', created = $2, updated = $3, finished_at = now() \
         WHERE id = $1",
        id,
        created,
        updated,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Cancels an import still waiting for a decision (its bytes go); false when it was not.
pub async fn cancel_import(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE creator_imports SET status = 'cancelled', finished_at = now(), content = ''::bytea \
         WHERE id = $1 AND status = 'validated'",
        id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The reference rate entered for exactly this day and pair, if any.
pub async fn rate_for(
    conn: &mut PgConnection,
    date: time::Date,
    from: &str,
    to: &str,
) -> Result<Option<Decimal>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT rate FROM reference_rates WHERE rate_date = $1 AND from_ccy = $2 AND to_ccy = $3",
        date,
        from,
        to,
    )
    .fetch_optional(conn)
    .await
}

/// Enters a reference rate for a day and pair, replacing the one entered before.
pub async fn set_rate(
    conn: &mut PgConnection,
    date: time::Date,
    from: &str,
    to: &str,
    rate: Decimal,
    by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO reference_rates (id, rate_date, from_ccy, to_ccy, rate, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (rate_date, from_ccy, to_ccy) DO UPDATE SET rate = EXCLUDED.rate, created_by = EXCLUDED.created_by",
        Uuid::now_v7(),
        date,
        from,
        to,
        rate,
        by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

// The seller's side (`seller`): the creators a tenant was offered or works with, and one
// creator's history with it. Every query filters by the tenant (and RLS refuses the rest).

/// How the seller's list is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SellerSort {
    #[default]
    LastOffered,
    Score,
    Followers,
    Handle,
}

impl SellerSort {
    pub fn parse(s: &str) -> Option<SellerSort> {
        match s {
            "last_offered" => Some(SellerSort::LastOffered),
            "score" => Some(SellerSort::Score),
            "followers" => Some(SellerSort::Followers),
            "handle" => Some(SellerSort::Handle),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            SellerSort::LastOffered => "last_offered",
            SellerSort::Score => "score",
            SellerSort::Followers => "followers",
            SellerSort::Handle => "handle",
        }
    }

    /// Newest, best and biggest first; handles A to Z.
    pub fn default_desc(self) -> bool {
        self != SellerSort::Handle
    }

    fn order_by(self, desc: bool) -> &'static str {
        match (self, desc) {
            (SellerSort::LastOffered, true) => "o.last_offered_at DESC NULLS LAST, c.handle",
            (SellerSort::LastOffered, false) => "o.last_offered_at ASC NULLS LAST, c.handle",
            (SellerSort::Score, true) => "o.latest_score DESC NULLS LAST, c.handle",
            (SellerSort::Score, false) => "o.latest_score ASC NULLS LAST, c.handle",
            (SellerSort::Followers, true) => "c.followers DESC, c.handle",
            (SellerSort::Followers, false) => "c.followers ASC, c.handle",
            (SellerSort::Handle, true) => "c.handle DESC",
            (SellerSort::Handle, false) => "c.handle ASC",
        }
    }
}

/// The creators known to tenant `$1` with what it knows of them, searched by pattern `$2`.
const KNOWN: &str = "WITH offers AS ( \
      SELECT creator_id, count(*) AS offers, \
        count(*) FILTER (WHERE decision = 'approved') AS approvals, \
        max(sent_at) AS last_offered_at, \
        (array_agg(score ORDER BY sent_at DESC, id DESC))[1] AS latest_score, \
        (array_agg(breakdown -> 'score' -> 'warnings' ORDER BY sent_at DESC, id DESC))[1] AS warnings \
      FROM shortlist_entries WHERE tenant_id = $1 GROUP BY creator_id), \
    collabs AS ( \
      SELECT l.creator_id, count(*) AS collaborations, \
        (array_agg(l.id ORDER BY l.created_at DESC, l.id DESC))[1] AS last_collaboration_id, \
        (array_agg(p.code ORDER BY l.created_at DESC, l.id DESC))[1] AS last_code, \
        (array_agg(l.state ORDER BY l.created_at DESC, l.id DESC))[1] AS last_state \
      FROM collaborations l JOIN campaigns p ON p.tenant_id = l.tenant_id AND p.id = l.campaign_id \
      WHERE l.tenant_id = $1 GROUP BY l.creator_id), \
    known AS (SELECT creator_id FROM offers UNION SELECT creator_id FROM collabs) ";

const KNOWN_FROM: &str = " FROM known JOIN creators c ON c.id = known.creator_id \
    LEFT JOIN offers o ON o.creator_id = c.id LEFT JOIN collabs k ON k.creator_id = c.id \
    WHERE ($2::text IS NULL OR c.handle LIKE lower($2) OR lower(c.display_name) LIKE lower($2))";

/// A creator known to the tenant, with its offers and collaborations there.
#[derive(FromRow)]
pub struct KnownRow {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub markets: Vec<String>,
    pub followers: i64,
    pub active: bool,
    pub offers: i64,
    pub approvals: i64,
    pub last_offered_at: Option<OffsetDateTime>,
    pub latest_score: Option<Decimal>,
    pub warnings: Option<serde_json::Value>,
    pub collaborations: i64,
    pub last_collaboration_id: Option<Uuid>,
    pub last_code: Option<String>,
    pub last_state: Option<ContractState>,
}

/// How many creators the tenant knows that match `pattern` (`%q%`, or None for all).
pub async fn known_count(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    pattern: Option<&str>,
) -> Result<i64, sqlx::Error> {
    // The text of `KNOWN` and `KNOWN_FROM`, written out: the macro takes a literal.
    sqlx::query_scalar!(
        r#"WITH offers AS (
             SELECT creator_id, count(*) AS offers,
               count(*) FILTER (WHERE decision = 'approved') AS approvals,
               max(sent_at) AS last_offered_at,
               (array_agg(score ORDER BY sent_at DESC, id DESC))[1] AS latest_score,
               (array_agg(breakdown -> 'score' -> 'warnings' ORDER BY sent_at DESC, id DESC))[1] AS warnings
             FROM shortlist_entries WHERE tenant_id = $1 GROUP BY creator_id),
           collabs AS (
             SELECT l.creator_id, count(*) AS collaborations,
               (array_agg(l.id ORDER BY l.created_at DESC, l.id DESC))[1] AS last_collaboration_id,
               (array_agg(p.code ORDER BY l.created_at DESC, l.id DESC))[1] AS last_code,
               (array_agg(l.state ORDER BY l.created_at DESC, l.id DESC))[1] AS last_state
             FROM collaborations l JOIN campaigns p ON p.tenant_id = l.tenant_id AND p.id = l.campaign_id
             WHERE l.tenant_id = $1 GROUP BY l.creator_id),
           known AS (SELECT creator_id FROM offers UNION SELECT creator_id FROM collabs)
         SELECT count(*) AS "count!"
         FROM known JOIN creators c ON c.id = known.creator_id
           LEFT JOIN offers o ON o.creator_id = c.id LEFT JOIN collabs k ON k.creator_id = c.id
         WHERE ($2::text IS NULL OR c.handle LIKE lower($2) OR lower(c.display_name) LIKE lower($2))"#,
        tenant_id,
        pattern,
    )
    .fetch_one(conn)
    .await
}

/// One page of the creators the tenant knows, in the order asked for.
pub async fn known_page(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    pattern: Option<&str>,
    (sort, desc): (SellerSort, bool),
    page: i64,
) -> Result<Vec<KnownRow>, sqlx::Error> {
    // dynamic: the ORDER BY is one of eight, chosen by the URL.
    sqlx::query_as::<_, KnownRow>(&format!(
        "{KNOWN}SELECT c.id, c.handle, c.display_name, c.markets, c.followers, c.active, \
           coalesce(o.offers, 0) AS offers, coalesce(o.approvals, 0) AS approvals, \
           o.last_offered_at, o.latest_score, o.warnings, \
           coalesce(k.collaborations, 0) AS collaborations, k.last_collaboration_id, k.last_code, \
           k.last_state{KNOWN_FROM} ORDER BY {} LIMIT $3 OFFSET $4",
        sort.order_by(desc)
    ))
    .bind(tenant_id)
    .bind(pattern)
    .bind(PAGE_SIZE)
    .bind((page - 1) * PAGE_SIZE)
    .fetch_all(conn)
    .await
}

/// The creator with this id or handle, if it was ever offered to the tenant or works with it.
pub async fn known_creator(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Option<Uuid>,
    handle: Option<&str>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT c.id FROM creators c WHERE (c.id = $2 OR c.handle = $3) AND ( \
           EXISTS (SELECT 1 FROM shortlist_entries e WHERE e.tenant_id = $1 AND e.creator_id = c.id) \
           OR EXISTS (SELECT 1 FROM collaborations l WHERE l.tenant_id = $1 AND l.creator_id = c.id))",
        tenant_id,
        id,
        handle,
    )
    .fetch_optional(conn)
    .await
}

/// A shortlist entry of the tenant for a creator.
pub struct OfferRow {
    pub campaign_id: Uuid,
    pub code: Option<String>,
    pub title: String,
    pub round: i32,
    pub score: Decimal,
    pub note: String,
    pub warnings: Option<serde_json::Value>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub sent_at: OffsetDateTime,
}

/// Every offer of the creator to the tenant, newest first.
pub async fn offers(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    creator_id: Uuid,
) -> Result<Vec<OfferRow>, sqlx::Error> {
    sqlx::query_as!(
        OfferRow,
        r#"SELECT e.campaign_id, p.code, p.title, e.round, e.score, e.note,
             e.breakdown -> 'score' -> 'warnings' AS "warnings?", e.decision, e.decision_reason,
             e.decided_at, e.sent_at
           FROM shortlist_entries e JOIN campaigns p ON p.tenant_id = e.tenant_id AND p.id = e.campaign_id
           WHERE e.tenant_id = $1 AND e.creator_id = $2 ORDER BY e.sent_at DESC, e.id DESC"#,
        tenant_id,
        creator_id,
    )
    .fetch_all(conn)
    .await
}

/// A collaboration of the tenant with a creator, with its current terms.
pub struct CollabRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub code: Option<String>,
    pub title: String,
    pub state: ContractState,
    pub terms: Option<serde_json::Value>,
    pub created_at: OffsetDateTime,
}

/// Every collaboration of the tenant with the creator, newest first.
pub async fn collaborations_with(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    creator_id: Uuid,
) -> Result<Vec<CollabRow>, sqlx::Error> {
    sqlx::query_as!(
        CollabRow,
        r#"SELECT l.id, l.campaign_id, p.code, p.title, l.state AS "state: ContractState",
             v.terms AS "terms?", l.created_at
           FROM collaborations l JOIN campaigns p ON p.tenant_id = l.tenant_id AND p.id = l.campaign_id
           LEFT JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id
             AND v.version = l.current_version
           WHERE l.tenant_id = $1 AND l.creator_id = $2 ORDER BY l.created_at DESC, l.id DESC"#,
        tenant_id,
        creator_id,
    )
    .fetch_all(conn)
    .await
}

// --- Pool upkeep ------------------------------------------------------------------------------

/// Whether the creator is active (None: no such creator).
pub async fn is_active(conn: &mut PgConnection, id: Uuid) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!("SELECT active FROM creators WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

/// Sets the creator's `active` and appends the change to its status history.
pub async fn set_active(
    conn: &mut PgConnection,
    id: Uuid,
    active: bool,
    reason: &str,
    actor: (Option<Uuid>, &str),
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE creators SET active = $2 WHERE id = $1", id, active)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO creator_status_changes (id, creator_id, active, reason, actor_id, actor_label) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        Uuid::now_v7(),
        id,
        active,
        reason,
        actor.0,
        actor.1,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One change of a creator's status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub active: bool,
    pub reason: String,
    pub actor_label: String,
    pub at: OffsetDateTime,
}

/// The creator's status changes, newest first.
pub async fn status_changes(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<StatusChange>, sqlx::Error> {
    sqlx::query_as!(
        StatusChange,
        "SELECT active, reason, actor_label, at FROM creator_status_changes \
         WHERE creator_id = $1 ORDER BY at DESC, id DESC",
        id
    )
    .fetch_all(conn)
    .await
}

/// The creator's facts as the staff edit form holds them (the import's text format).
pub fn edit_of(c: &CreatorDetail) -> super::domain::CreatorEdit {
    let dec = |d: Option<Decimal>| d.map(|d| d.normalize().to_string()).unwrap_or_default();
    super::domain::CreatorEdit {
        display_name: c.display_name.clone(),
        profile_url: c.profile_url.clone().unwrap_or_default(),
        recent_videos: c.recent_videos.join("\n"),
        country: c.country.clone().unwrap_or_default(),
        markets: c.markets.clone(),
        languages: c.languages.clone(),
        categories: c.categories.clone(),
        styles: c.styles.clone(),
        followers: c.followers.to_string(),
        avg_views: c.avg_views.to_string(),
        avg_likes: c.avg_likes.to_string(),
        avg_comments: c.avg_comments.to_string(),
        avg_shares: c.avg_shares.to_string(),
        quote_video: dec(c.quote_video),
        quote_live: dec(c.quote_live),
        quote_currency: c.quote_currency.clone().unwrap_or_default(),
        mcn: c.mcn.clone().unwrap_or_default(),
        contact: c.contact.clone().unwrap_or_default(),
        violation_notes: c.violation_notes.clone().unwrap_or_default(),
    }
}

/// Appends one edit (its changed fields) to the creator's edit history.
pub async fn record_edit(
    conn: &mut PgConnection,
    creator: Uuid,
    changes: &serde_json::Value,
    actor: (Option<Uuid>, &str),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO creator_edits (id, creator_id, changes, actor_id, actor_label) \
         VALUES ($1, $2, $3, $4, $5)",
        Uuid::now_v7(),
        creator,
        changes,
        actor.0,
        actor.1,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One edit of a creator as its history shows it.
#[derive(Debug, Clone)]
pub struct CreatorEditRow {
    pub changes: serde_json::Value,
    pub actor_label: String,
    pub at: OffsetDateTime,
}

/// The creator's edits, newest first.
pub async fn edits_of(
    conn: &mut PgConnection,
    creator: Uuid,
) -> Result<Vec<CreatorEditRow>, sqlx::Error> {
    sqlx::query_as!(
        CreatorEditRow,
        "SELECT changes, actor_label, at FROM creator_edits WHERE creator_id = $1 \
         ORDER BY at DESC, id DESC",
        creator,
    )
    .fetch_all(conn)
    .await
}
