//! SQL for the KPIs: counters and attributed orders summed per collaboration, order lines, and
//! the window candidates of posts, for a campaign, one collaboration or a creator. Every query
//! names the tenant (RLS refuses the rest anyway) and aggregates in Postgres: one row per
//! collaboration or per window candidate, never one per snapshot or click.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::contracts::domain::ContractState;
use crate::tracking::windows::Window;

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
/// `tracking::order_imports::parse::Order::refunds`, in SQL) between `$head` and the `$tail` literals.
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

/// A collaboration's attributed orders placed up to `until` (ROI for rating freezes net GMV at
/// the last post's evaluation-window boundary), summed per currency.
pub async fn order_totals_until(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    until: OffsetDateTime,
) -> Result<Vec<OrderTotals>, sqlx::Error> {
    query_with_refunds!(
        OrderTotals,
        r#"SELECT o.collaboration_id AS "collaboration_id!", o.currency::text AS "currency!",
                  count(DISTINCT (o.shop_id, o.order_key)) AS "orders!",
                  coalesce(sum(o.amount), 0) AS "gmv!", coalesce(sum("#,
        r#"), 0) AS "refunds!"
             FROM orders_attributed o
            WHERE o.tenant_id = $1 AND o.collaboration_id = $2 AND o.placed_at <= $3
            GROUP BY 1, 2"#;
        tenant,
        collaboration,
        until
    )
    .fetch_all(conn)
    .await
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
