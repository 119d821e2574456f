//! SQL for posts, snapshots and the dashboards. Every query names the tenant (RLS refuses the
//! rest anyway) and aggregates in Postgres: one row per collaboration, per day or per window
//! candidate, never one per snapshot or click.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::domain::SnapshotImportStatus;
use crate::contracts::domain::{ContractState, Terms};
use crate::tracking::windows::Window;

/// A collaboration with what its performance pages need.
#[derive(Debug, Clone)]
pub struct CollabFacts {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub creator_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub state: ContractState,
    pub link_slug: String,
    pub terms: Option<serde_json::Value>,
    /// The campaign shop's time zone, else the tenant's.
    pub zone: String,
    pub campaign_code: Option<String>,
    pub campaign_title: String,
    pub campaign_data: serde_json::Value,
    pub sample_shipped: bool,
}

impl CollabFacts {
    pub fn terms(&self) -> Option<Terms> {
        self.terms
            .clone()
            .and_then(|t| serde_json::from_value(t).ok())
    }
}

/// The collaboration query, with `$lock` (a literal) after its WHERE.
macro_rules! collaboration_query {
    ($lock:literal, $tenant:expr, $id:expr, $zone:expr) => {
        sqlx::query_as!(
            CollabFacts,
            r#"SELECT l.id, l.campaign_id, l.creator_id, c.handle, c.display_name,
                      l.state AS "state: ContractState", l.link_slug,
                      v.terms AS "terms?", coalesce(s.time_zone, $3) AS "zone!",
                      k.code AS campaign_code, k.title AS campaign_title, k.data AS campaign_data,
                      l.sample_shipped_at IS NOT NULL AS "sample_shipped!"
                 FROM collaborations l JOIN creators c ON c.id = l.creator_id
                 JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
                 LEFT JOIN shops s ON s.tenant_id = k.tenant_id AND s.id = k.shop_id
                 LEFT JOIN contract_versions v ON v.tenant_id = l.tenant_id
                      AND v.collaboration_id = l.id AND v.version = l.current_version
                WHERE l.tenant_id = $1 AND l.id = $2"#
                + $lock,
            $tenant,
            $id,
            $zone
        )
    };
}

pub async fn collaboration(
    conn: &mut PgConnection,
    tenant: Uuid,
    tenant_zone: &str,
    id: Uuid,
    lock: bool,
) -> Result<Option<CollabFacts>, sqlx::Error> {
    if lock {
        collaboration_query!(" FOR UPDATE OF l", tenant, id, tenant_zone)
            .fetch_optional(conn)
            .await
    } else {
        collaboration_query!("", tenant, id, tenant_zone)
            .fetch_optional(conn)
            .await
    }
}

/// A campaign with its report facts.
#[derive(Debug, Clone)]
pub struct CampaignFacts {
    pub id: Uuid,
    pub code: Option<String>,
    pub title: String,
    pub data: serde_json::Value,
    pub zone: String,
    pub shop_currency: Option<String>,
}

pub async fn campaign(
    conn: &mut PgConnection,
    tenant: Uuid,
    tenant_zone: &str,
    id: Uuid,
) -> Result<Option<CampaignFacts>, sqlx::Error> {
    sqlx::query_as!(
        CampaignFacts,
        r#"SELECT k.id, k.code, k.title, k.data, coalesce(s.time_zone, $3) AS "zone!",
                  s.currency::text AS "shop_currency?"
             FROM campaigns k LEFT JOIN shops s ON s.tenant_id = k.tenant_id AND s.id = k.shop_id
            WHERE k.tenant_id = $1 AND k.id = $2"#,
        tenant,
        id,
        tenant_zone
    )
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct PostRow {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub url: String,
    pub video_id: Option<String>,
    pub published_at: OffsetDateTime,
}

pub async fn posts_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
) -> Result<Vec<PostRow>, sqlx::Error> {
    sqlx::query_as!(
        PostRow,
        "SELECT id, collaboration_id, url, video_id, published_at FROM posts \
          WHERE tenant_id = $1 AND collaboration_id = $2 ORDER BY published_at, id",
        tenant,
        collaboration
    )
    .fetch_all(conn)
    .await
}

pub async fn post(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<PostRow>, sqlx::Error> {
    sqlx::query_as!(
        PostRow,
        "SELECT id, collaboration_id, url, video_id, published_at FROM posts \
          WHERE tenant_id = $1 AND id = $2",
        tenant,
        id
    )
    .fetch_optional(conn)
    .await
}

/// A campaign's posts, for matching CSV rows (by video id or URL).
pub async fn posts_of_campaign(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> Result<Vec<PostRow>, sqlx::Error> {
    sqlx::query_as!(
        PostRow,
        "SELECT p.id, p.collaboration_id, p.url, p.video_id, p.published_at FROM posts p \
           JOIN collaborations l ON l.tenant_id = p.tenant_id AND l.id = p.collaboration_id \
          WHERE p.tenant_id = $1 AND l.campaign_id = $2",
        tenant,
        campaign
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct SnapshotRow {
    pub post_id: Uuid,
    pub captured_at: OffsetDateTime,
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub avg_watch_seconds: Option<Decimal>,
    pub source: String,
}

/// Every snapshot of the given posts, oldest first.
pub async fn snapshots_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    posts: &[Uuid],
) -> Result<Vec<SnapshotRow>, sqlx::Error> {
    sqlx::query_as!(
        SnapshotRow,
        "SELECT post_id, captured_at, views, likes, comments, shares, avg_watch_seconds, source \
           FROM metric_snapshots WHERE tenant_id = $1 AND post_id = ANY($2) \
          ORDER BY captured_at, post_id",
        tenant,
        posts
    )
    .fetch_all(conn)
    .await
}

/// Inserts snapshots, each replacing the one of the same post and moment, in as few statements
/// as possible (the daily views triggers then count each post once per statement). No two of
/// `snapshots` may name the same post and moment.
pub async fn upsert_snapshots(
    conn: &mut PgConnection,
    tenant: Uuid,
    snapshots: &[(Uuid, super::domain::NewSnapshot)],
    source: &str,
    by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    for chunk in snapshots.chunks(10_000) {
        let column = |f: fn(&super::domain::NewSnapshot) -> i64| -> Vec<i64> {
            chunk.iter().map(|(_, s)| f(s)).collect()
        };
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let posts: Vec<Uuid> = chunk.iter().map(|(p, _)| *p).collect();
        let captured: Vec<OffsetDateTime> = chunk.iter().map(|(_, s)| s.captured_at).collect();
        let watch: Vec<Option<Decimal>> = chunk.iter().map(|(_, s)| s.avg_watch_seconds).collect();
        sqlx::query!(
            "INSERT INTO metric_snapshots (tenant_id, id, post_id, captured_at, views, likes, \
               comments, shares, avg_watch_seconds, source, created_by) \
             SELECT $1, r.*, $10, $11 \
               FROM unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::bigint[], \
                           $6::bigint[], $7::bigint[], $8::bigint[], $9::numeric[]) AS r \
             ON CONFLICT (tenant_id, post_id, captured_at) DO UPDATE SET views = EXCLUDED.views, \
               likes = EXCLUDED.likes, comments = EXCLUDED.comments, shares = EXCLUDED.shares, \
               avg_watch_seconds = EXCLUDED.avg_watch_seconds, source = EXCLUDED.source, \
               created_by = EXCLUDED.created_by, created_at = now()",
            tenant,
            &ids,
            &posts,
            &captured,
            &column(|s| s.metrics.views),
            &column(|s| s.metrics.likes),
            &column(|s| s.metrics.comments),
            &column(|s| s.metrics.shares),
            &watch[..] as &[Option<Decimal>],
            source,
            by
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One collaboration of a campaign with its counters summed in SQL.
#[derive(Debug, Clone)]
pub struct CollabTotals {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub state: ContractState,
    pub terms: Option<serde_json::Value>,
    pub sample_shipped: bool,
    pub posts: i64,
    pub first_published: Option<OffsetDateTime>,
    /// Σ over posts of each post's latest snapshot.
    pub views: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub clicks_total: i64,
    pub clicks: i64,
    pub unique_clicks: i64,
    pub bots: i64,
}

/// Which collaborations a query covers: a campaign's, one, or a creator's in this tenant.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Campaign(Uuid),
    Collaboration(Uuid),
    Creator(Uuid),
}

/// Runs `$query` (a macro taking the SQL condition on `collaborations l` as a literal, the
/// tenant bound as $1 and the scope's id as $2, then `$arg`s) for the scope: one checked query
/// per kind of scope, so each keeps its own plan.
macro_rules! by_scope {
    ($scope:expr, $query:ident, $tenant:expr $(, $arg:expr)*; $fetch:ident($conn:expr)) => {
        match $scope {
            Scope::Campaign(id) => {
                $query!("l.campaign_id = $2", $tenant, id $(, $arg)*).$fetch($conn).await
            }
            Scope::Collaboration(id) => {
                $query!("l.id = $2", $tenant, id $(, $arg)*).$fetch($conn).await
            }
            Scope::Creator(id) => {
                $query!("l.creator_id = $2", $tenant, id $(, $arg)*).$fetch($conn).await
            }
        }
    };
}

macro_rules! totals_query {
    ($condition:literal, $tenant:expr, $id:expr) => {
        sqlx::query_as!(
            CollabTotals,
            r#"WITH l AS (
                 SELECT l.tenant_id, l.id, l.creator_id, l.state, l.sample_shipped_at, v.terms
                   FROM collaborations l LEFT JOIN contract_versions v ON v.tenant_id = l.tenant_id
                        AND v.collaboration_id = l.id AND v.version = l.current_version
                  WHERE l.tenant_id = $1 AND "# + $condition + r#"),
               p AS (
                 SELECT p.collaboration_id, count(*) AS posts, min(p.published_at) AS first_published
                   FROM posts p WHERE p.tenant_id = $1 AND p.collaboration_id IN (SELECT id FROM l)
                  GROUP BY 1),
               latest AS (
                 SELECT p.collaboration_id, s.views, s.likes, s.comments, s.shares
                   FROM posts p CROSS JOIN LATERAL (
                        SELECT views, likes, comments, shares FROM metric_snapshots s
                         WHERE s.tenant_id = p.tenant_id AND s.post_id = p.id
                         ORDER BY s.captured_at DESC LIMIT 1) s
                  WHERE p.tenant_id = $1 AND p.collaboration_id IN (SELECT id FROM l)),
               m AS (
                 SELECT collaboration_id, sum(views)::bigint AS views, sum(likes)::bigint AS likes,
                        sum(comments)::bigint AS comments, sum(shares)::bigint AS shares
                   FROM latest GROUP BY 1),
               k AS (
                 SELECT d.collaboration_id, sum(d.total)::bigint AS total, sum(d.clicks)::bigint AS counted,
                        sum(d.unique_clicks)::bigint AS uniq, sum(d.bots)::bigint AS bots
                   FROM link_click_days d WHERE d.tenant_id = $1 AND d.collaboration_id IN (SELECT id FROM l)
                  GROUP BY 1)
               SELECT l.id AS "id!", l.creator_id AS "creator_id!", cr.handle AS "handle!",
                      cr.display_name AS "display_name!", l.state AS "state!: ContractState",
                      l.terms AS "terms?", l.sample_shipped_at IS NOT NULL AS "sample_shipped!",
                      coalesce(p.posts, 0) AS "posts!", p.first_published AS "first_published?",
                      coalesce(m.views, 0) AS "views!", coalesce(m.likes, 0) AS "likes!",
                      coalesce(m.comments, 0) AS "comments!", coalesce(m.shares, 0) AS "shares!",
                      coalesce(k.total, 0) AS "clicks_total!", coalesce(k.counted, 0) AS "clicks!",
                      coalesce(k.uniq, 0) AS "unique_clicks!", coalesce(k.bots, 0) AS "bots!"
                 FROM l JOIN creators cr ON cr.id = l.creator_id
                 LEFT JOIN p ON p.collaboration_id = l.id LEFT JOIN m ON m.collaboration_id = l.id
                 LEFT JOIN k ON k.collaboration_id = l.id
                ORDER BY cr.handle, l.id"#,
            $tenant,
            $id
        )
    };
}

pub async fn totals(
    conn: &mut PgConnection,
    tenant: Uuid,
    scope: Scope,
) -> Result<Vec<CollabTotals>, sqlx::Error> {
    by_scope!(scope, totals_query, tenant; fetch_all(conn))
}

/// `sqlx::query_as!` with what an order line of `orders_attributed o` refunded (the rule of
/// `tracking::orders::Order::refunds`, in SQL) between `$head` and the `$tail` literals.
macro_rules! query_with_refunds {
    ($row:path, $head:literal $(, $tail:literal)+; $($arg:expr),*) => {
        sqlx::query_as!(
            $row,
            $head
                + "CASE WHEN o.fully_refunded \
                     OR lower(coalesce(o.status, '')) LIKE '%cancel%' \
                     OR coalesce(o.status, '') LIKE '%取消%' \
                     OR lower(coalesce(o.status, '')) IN ('refunded', 'voided') \
                   THEN greatest(o.refunded_amount, o.amount) ELSE o.refunded_amount END"
                $(+ $tail)+,
            $($arg),*
        )
    };
}

/// Attributed orders summed per collaboration and currency.
#[derive(Debug, Clone)]
pub struct OrderTotals {
    pub collaboration_id: Uuid,
    pub currency: String,
    pub orders: i64,
    pub gmv: Decimal,
    pub refunds: Decimal,
}

macro_rules! order_totals_query {
    ($condition:literal, $tenant:expr, $id:expr) => {
        query_with_refunds!(
            OrderTotals,
            r#"SELECT o.collaboration_id AS "collaboration_id!", o.currency::text AS "currency!",
                      count(DISTINCT (o.shop_id, o.order_key)) AS "orders!",
                      coalesce(sum(o.amount), 0) AS "gmv!", coalesce(sum("#,
            r#"), 0) AS "refunds!"
                 FROM orders_attributed o
                WHERE o.tenant_id = $1 AND o.collaboration_id IN
                      (SELECT l.id FROM collaborations l WHERE l.tenant_id = $1 AND "#,
            $condition,
            ") GROUP BY 1, 2";
            $tenant,
            $id
        )
    };
}

pub async fn order_totals(
    conn: &mut PgConnection,
    tenant: Uuid,
    scope: Scope,
) -> Result<Vec<OrderTotals>, sqlx::Error> {
    by_scope!(scope, order_totals_query, tenant; fetch_all(conn))
}

/// One attributed order line, for the collaboration page.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub order_key: String,
    pub line_key: String,
    pub placed_at: OffsetDateTime,
    pub status: Option<String>,
    pub currency: String,
    pub amount: Decimal,
    pub refunds: Decimal,
    pub attributed_by: Option<String>,
}

pub async fn order_lines(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    limit: i64,
) -> Result<Vec<OrderLine>, sqlx::Error> {
    query_with_refunds!(
        OrderLine,
        r#"SELECT o.order_key AS "order_key!", o.line_key AS "line_key!",
                  o.placed_at AS "placed_at!", o.status AS "status?",
                  o.currency::text AS "currency!", o.amount AS "amount!", "#,
        r#" AS "refunds!", o.attributed_by AS "attributed_by?"
             FROM orders_attributed o WHERE o.tenant_id = $1 AND o.collaboration_id = $2
            ORDER BY o.placed_at DESC, o.order_key, o.line_key LIMIT $3"#;
        tenant,
        collaboration,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A post with the snapshot that is its value at one window's boundary (none when nothing was
/// captured by then). `windows::value_at`, the reference rule, picks each window's value from
/// these: for every window the row holding its value is among them, and no row of a later
/// capture than that value lies at or before its boundary.
#[derive(Debug, Clone)]
pub struct WindowCandidate {
    pub collaboration_id: Uuid,
    pub post_id: Uuid,
    pub published_at: OffsetDateTime,
    pub captured_at: Option<OffsetDateTime>,
    pub views: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
}

// The boundaries are computed apart (a materialized CTE) so that the comparison with them is a
// plain, leakproof one and can bound the index scan under row-level security.
macro_rules! window_candidates_query {
    ($condition:literal, $tenant:expr, $id:expr, $hours:expr) => {
        sqlx::query_as!(
            WindowCandidate,
            r#"WITH b AS MATERIALIZED (
                 SELECT p.tenant_id, p.collaboration_id, p.id, p.published_at,
                        p.published_at + make_interval(hours => w.hours) AS boundary
                   FROM posts p CROSS JOIN unnest($3::int[]) AS w(hours)
                  WHERE p.tenant_id = $1 AND p.collaboration_id IN
                        (SELECT l.id FROM collaborations l WHERE l.tenant_id = $1 AND "#
                + $condition
                + r#"))
               SELECT DISTINCT b.collaboration_id AS "collaboration_id!", b.id AS "post_id!",
                      b.published_at AS "published_at!", s.captured_at AS "captured_at?",
                      s.views AS "views?", s.likes AS "likes?", s.comments AS "comments?",
                      s.shares AS "shares?"
                 FROM b LEFT JOIN LATERAL (
                      SELECT s.captured_at, s.views, s.likes, s.comments, s.shares
                        FROM metric_snapshots s
                       WHERE s.tenant_id = b.tenant_id AND s.post_id = b.id AND s.captured_at <= b.boundary
                       ORDER BY s.captured_at DESC LIMIT 1) s ON true
                ORDER BY b.collaboration_id, b.id, s.captured_at"#,
            $tenant,
            $id,
            $hours
        )
    };
}

/// Per post of the scope and window of `Window::ALL`: the last snapshot at or before the
/// boundary (an index lookup each), ordered by post and capture, the same snapshot once.
pub async fn window_candidates(
    conn: &mut PgConnection,
    tenant: Uuid,
    scope: Scope,
) -> Result<Vec<WindowCandidate>, sqlx::Error> {
    let hours: Vec<i32> = Window::ALL.iter().map(|w| (24 * w.days()) as i32).collect();
    by_scope!(scope, window_candidates_query, tenant, &hours; fetch_all(conn))
}

/// A value per local day (views added that day, counted clicks, GMV in one currency).
#[derive(Debug, Clone)]
pub struct DayValue {
    pub day: Date,
    pub currency: String,
    pub value: Decimal,
}

/// Daily views, clicks and GMV of a campaign, days in `zone` (the tenant's): ("views", "clicks",
/// "gmv"). Views and clicks come from `campaign_view_days` and `link_click_days`, which the database
/// keeps per local day of the tenant's zone as snapshots and clicks arrive (and rebuilds when the
/// zone changes).
pub async fn daily(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    zone: &str,
) -> Result<Vec<(String, DayValue)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH l AS (SELECT id FROM collaborations WHERE tenant_id = $1 AND campaign_id = $2)
           SELECT 'clicks' AS "series!", d.day AS "day!", '' AS "currency!",
                  sum(d.clicks)::numeric AS "value!"
             FROM link_click_days d WHERE d.tenant_id = $1 AND d.collaboration_id IN (SELECT id FROM l)
            GROUP BY 2
           UNION ALL
           SELECT 'gmv', (o.placed_at AT TIME ZONE $3)::date, o.currency::text, sum(o.amount)
             FROM orders_attributed o WHERE o.tenant_id = $1 AND o.collaboration_id IN (SELECT id FROM l)
            GROUP BY 2, 3
           UNION ALL
           SELECT 'views', d.day, '', d.added::numeric
             FROM campaign_view_days d WHERE d.tenant_id = $1 AND d.campaign_id = $2 AND d.added <> 0
           ORDER BY 1, 2"#,
        tenant,
        campaign,
        zone
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.series,
                DayValue {
                    day: r.day,
                    currency: r.currency,
                    value: r.value,
                },
            )
        })
        .collect())
}

/// Whether a post of this tenant already has the URL, and the video id: (url taken, video id
/// taken).
pub async fn post_taken(
    conn: &mut PgConnection,
    tenant: Uuid,
    url: &str,
    video_id: Option<&str>,
) -> Result<(bool, bool), sqlx::Error> {
    let taken = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM posts WHERE tenant_id = $1 AND url = $2) AS "url!",
                  EXISTS (SELECT 1 FROM posts WHERE tenant_id = $1 AND video_id = $3) AS "video_id!""#,
        tenant,
        url,
        video_id
    )
    .fetch_one(conn)
    .await?;
    Ok((taken.url, taken.video_id))
}

/// A post as stored.
pub struct NewPostRow<'a> {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub url: &'a str,
    pub video_id: Option<&'a str>,
    pub published_at: OffsetDateTime,
    pub created_by: Option<Uuid>,
}

pub async fn insert_post(
    conn: &mut PgConnection,
    tenant: Uuid,
    post: &NewPostRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        post.id,
        post.collaboration_id,
        post.url,
        post.video_id,
        post.published_at,
        post.created_by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A snapshot CSV upload with its report.
#[derive(Debug, Clone)]
pub struct SnapshotImportRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub filename: String,
    pub encoding: String,
    pub status: SnapshotImportStatus,
    pub total_rows: i32,
    pub good_rows: i32,
    pub error_rows: i32,
    pub errors: serde_json::Value,
    pub created_at: OffsetDateTime,
}

/// An upload's columns, from `snapshot_imports` where `$tail` (literals) says.
macro_rules! snapshot_imports_query {
    ($($tail:literal)+; $($arg:expr),*) => {
        sqlx::query_as!(
            SnapshotImportRow,
            r#"SELECT id, campaign_id, filename, encoding, status AS "status: SnapshotImportStatus",
                      total_rows, good_rows, error_rows, errors, created_at
                 FROM snapshot_imports "# $(+ $tail)+,
            $($arg),*
        )
    };
}

/// The campaign's latest uploads, newest first.
pub async fn recent_snapshot_imports(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> Result<Vec<SnapshotImportRow>, sqlx::Error> {
    snapshot_imports_query!(
        "WHERE tenant_id = $1 AND campaign_id = $2 ORDER BY created_at DESC LIMIT 20";
        tenant,
        campaign
    )
    .fetch_all(conn)
    .await
}

/// One upload; `lock` takes its row for a decision (`FOR UPDATE`).
pub async fn snapshot_import(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<Option<SnapshotImportRow>, sqlx::Error> {
    if lock {
        snapshot_imports_query!("WHERE tenant_id = $1 AND id = $2" " FOR UPDATE"; tenant, id)
            .fetch_optional(conn)
            .await
    } else {
        snapshot_imports_query!("WHERE tenant_id = $1 AND id = $2"; tenant, id)
            .fetch_optional(conn)
            .await
    }
}

/// A checked upload: its counts, the validated rows and the rejected ones (JSON).
pub struct NewSnapshotImport<'a> {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub filename: &'a str,
    pub encoding: &'a str,
    pub total_rows: i32,
    pub good_rows: i32,
    pub error_rows: i32,
    pub rows: serde_json::Value,
    pub errors: serde_json::Value,
    pub created_by: Option<Uuid>,
}

pub async fn insert_snapshot_import(
    conn: &mut PgConnection,
    tenant: Uuid,
    new: &NewSnapshotImport<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO snapshot_imports (tenant_id, id, campaign_id, filename, encoding, total_rows, \
           good_rows, error_rows, rows, errors, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        tenant,
        new.id,
        new.campaign_id,
        new.filename,
        new.encoding,
        new.total_rows,
        new.good_rows,
        new.error_rows,
        &new.rows,
        &new.errors,
        new.created_by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The validated rows kept with an upload (JSON).
pub async fn snapshot_import_rows(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<serde_json::Value, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT rows FROM snapshot_imports WHERE tenant_id = $1 AND id = $2",
        tenant,
        id
    )
    .fetch_one(conn)
    .await
}

/// The collaborations of these posts that are published (a snapshot starts their tracking).
pub async fn published_collaborations_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    posts: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT DISTINCT l.id \
           FROM posts p JOIN collaborations l ON l.tenant_id = p.tenant_id AND l.id = p.collaboration_id \
          WHERE p.tenant_id = $1 AND p.id = ANY($2) AND l.state = 'published'",
        tenant,
        posts
    )
    .fetch_all(conn)
    .await
}

/// Closes an upload: `imported` or `cancelled`.
pub async fn finish_snapshot_import(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    status: SnapshotImportStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE snapshot_imports SET status = $3, finished_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
        status as SnapshotImportStatus
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The currency of the campaign's shop (None without a shop).
pub async fn shop_currency(
    conn: &mut PgConnection,
    tenant: Uuid,
    campaign: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT s.currency::text AS "currency!" FROM campaigns k JOIN shops s
             ON s.tenant_id = k.tenant_id AND s.id = k.shop_id WHERE k.tenant_id = $1 AND k.id = $2"#,
        tenant,
        campaign
    )
    .fetch_optional(conn)
    .await
}

/// A collaboration of a creator with its campaign's facts.
#[derive(Debug, Clone)]
pub struct CreatorCampaign {
    pub collaboration_id: Uuid,
    pub campaign_id: Uuid,
    pub code: Option<String>,
    pub title: String,
    pub data: serde_json::Value,
    pub shop_currency: Option<String>,
}

/// Every collaboration of the creator with this tenant, newest campaign first.
pub async fn creator_campaigns(
    conn: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
) -> Result<Vec<CreatorCampaign>, sqlx::Error> {
    sqlx::query_as!(
        CreatorCampaign,
        r#"SELECT l.id AS collaboration_id, k.id AS campaign_id, k.code, k.title, k.data,
                  s.currency::text AS "shop_currency?"
             FROM collaborations l JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
             LEFT JOIN shops s ON s.tenant_id = k.tenant_id AND s.id = k.shop_id
            WHERE l.tenant_id = $1 AND l.creator_id = $2 ORDER BY k.created_at DESC"#,
        tenant,
        creator
    )
    .fetch_all(conn)
    .await
}

/// When a post is due, in SQL: the instant the deadline day (`$deadline`, a date) ends in the
/// zone (`$zone`) — the last second of the day in local time, plus that second, so a day whose
/// midnight is skipped or repeated by a clock change ends where `domain::deadline_end` (the
/// rule) says. The work queue keeps this as its one computed column because the queue is a
/// single SQL query the account manager's page runs; `due_at_in_sql` exposes it so a test
/// holds it to the rule.
macro_rules! due_at_sql {
    ($deadline:literal, $zone:literal) => {
        concat!(
            "((((",
            $deadline,
            ")::date + 1)::timestamp - interval '1 second') AT TIME ZONE ",
            $zone,
            ") + interval '1 second'"
        )
    };
}

// dynamic: the work queue is one SQL text assembled from `due_at_sql!` here and admin's own
// part (admin/repo.rs joins them with UNION ALL); a const built with `concat!` cannot be a
// checked macro's literal.
/// More of what waits on the account manager in one tenant ($1), in the work queue's columns:
/// posts overdue (accepted, no post, past the moment the current terms' deadline day ends in the
/// shop's time zone, else the tenant's: `domain::deadline_end`) and order imports needing
/// attention (validated and waiting for a decision, or failed), oldest first.
pub const QUEUE_SQL: &str = concat!(
    "\
    SELECT 'post_overdue' AS kind, d.due_at AS since, d.campaign_id, d.target_id, d.title \
      FROM (SELECT l.campaign_id, l.id AS target_id, \
                   '@' || cr.handle || ' · ' || coalesce(c.code, '') AS title, ",
    due_at_sql!(
        "v.terms->>'publish_deadline'",
        "coalesce(s.time_zone, t.time_zone)"
    ),
    " AS due_at \
              FROM collaborations l JOIN creators cr ON cr.id = l.creator_id \
              JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id \
              JOIN tenants t ON t.id = l.tenant_id \
              LEFT JOIN shops s ON s.tenant_id = c.tenant_id AND s.id = c.shop_id \
              JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id \
                   AND v.version = l.current_version \
             WHERE l.tenant_id = $1 \
               AND l.state IN ('accepted', 'sample_shipped', 'sample_delivered', 'in_review') \
               AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = l.tenant_id \
                   AND p.collaboration_id = l.id)) d \
     WHERE d.due_at <= now() \
    UNION ALL \
    SELECT 'import_attention', i.updated_at, i.shop_id, i.id, i.state || ' · ' || coalesce(u.filename, '') \
      FROM order_imports i LEFT JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
     WHERE i.tenant_id = $1 AND i.state IN ('validated', 'failed')"
);

/// The work queue's due moment of a deadline in a zone, computed by the same SQL as the queue.
pub async fn due_at_in_sql(
    conn: &mut PgConnection,
    deadline: Date,
    zone: &str,
) -> Result<OffsetDateTime, sqlx::Error> {
    // dynamic: the same `due_at_sql!` fragment as the queue (a `concat!`, which a checked macro
    // cannot take), so that the test holds the queue's SQL itself to the rule.
    sqlx::query_scalar(concat!("SELECT ", due_at_sql!("$1::text", "$2::text")))
        .bind(deadline.to_string())
        .bind(zone)
        .fetch_one(conn)
        .await
}
