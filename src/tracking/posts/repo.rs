//! SQL for posts, snapshots and snapshot uploads, and the work queue's overdue posts. Every
//! query names the tenant (RLS refuses the rest anyway).

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::domain::SnapshotImportStatus;
use crate::contracts::domain::{ContractState, Terms};

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
///
/// Readings of a post are written under its lock (taken here, in id order, as the daily-views
/// rollup takes it): two writers of one post take turns, so which of the readings are stored
/// already is known before writing — replaced ones are updated, the rest plainly inserted (an
/// upsert's speculative insertion cost a fifth of a 5,000-reading call). Replacements go first:
/// the rollup then finds each post's days as they are when the new readings follow.
pub async fn upsert_snapshots(
    conn: &mut PgConnection,
    tenant: Uuid,
    snapshots: &[(Uuid, super::domain::NewSnapshot)],
    source: &str,
    by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let posts: Vec<Uuid> = snapshots
        .iter()
        .map(|(p, _)| *p)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    lock_posts(conn, tenant, &posts).await?;
    for chunk in snapshots.chunks(10_000) {
        let stored = stored_of(conn, tenant, chunk).await?;
        let (replaced, new): (Vec<_>, Vec<_>) = chunk
            .iter()
            .enumerate()
            .partition(|(i, _)| stored.contains(&(*i as i32)));
        let replaced: Vec<_> = replaced.into_iter().map(|(_, row)| row).collect();
        let new: Vec<_> = new.into_iter().map(|(_, row)| row).collect();
        if !replaced.is_empty() {
            let c = SnapshotColumns::of(&replaced);
            sqlx::query!(
                "UPDATE metric_snapshots m SET views = r.views, likes = r.likes, \
                   comments = r.comments, shares = r.shares, avg_watch_seconds = r.watch, \
                   source = $9, created_by = $10, created_at = now() \
                  FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[], $5::bigint[], \
                              $6::bigint[], $7::bigint[], $8::numeric[]) \
                       AS r(post_id, captured_at, views, likes, comments, shares, watch) \
                 WHERE m.tenant_id = $1 AND m.post_id = r.post_id \
                   AND m.captured_at = r.captured_at",
                tenant,
                &c.posts,
                &c.captured,
                &c.views,
                &c.likes,
                &c.comments,
                &c.shares,
                &c.watch[..] as &[Option<Decimal>],
                source,
                by
            )
            .execute(&mut *conn)
            .await?;
        }
        if !new.is_empty() {
            let c = SnapshotColumns::of(&new);
            let ids: Vec<Uuid> = new.iter().map(|_| Uuid::now_v7()).collect();
            sqlx::query!(
                "INSERT INTO metric_snapshots (tenant_id, id, post_id, captured_at, views, likes, \
                   comments, shares, avg_watch_seconds, source, created_by) \
                 SELECT $1, r.*, $10, $11 \
                   FROM unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::bigint[], \
                               $6::bigint[], $7::bigint[], $8::bigint[], $9::numeric[]) AS r",
                tenant,
                &ids,
                &c.posts,
                &c.captured,
                &c.views,
                &c.likes,
                &c.comments,
                &c.shares,
                &c.watch[..] as &[Option<Decimal>],
                source,
                by
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Snapshot rows as the columns a statement binds.
struct SnapshotColumns {
    posts: Vec<Uuid>,
    captured: Vec<OffsetDateTime>,
    views: Vec<i64>,
    likes: Vec<i64>,
    comments: Vec<i64>,
    shares: Vec<i64>,
    watch: Vec<Option<Decimal>>,
}

impl SnapshotColumns {
    fn of(rows: &[&(Uuid, super::domain::NewSnapshot)]) -> Self {
        let metric = |f: fn(&super::domain::NewSnapshot) -> i64| -> Vec<i64> {
            rows.iter().map(|(_, s)| f(s)).collect()
        };
        SnapshotColumns {
            posts: rows.iter().map(|(p, _)| *p).collect(),
            captured: rows.iter().map(|(_, s)| s.captured_at).collect(),
            views: metric(|s| s.metrics.views),
            likes: metric(|s| s.metrics.likes),
            comments: metric(|s| s.metrics.comments),
            shares: metric(|s| s.metrics.shares),
            watch: rows.iter().map(|(_, s)| s.avg_watch_seconds).collect(),
        }
    }
}

/// Locks the tenant's given posts until the transaction ends, in id order.
async fn lock_posts(conn: &mut PgConnection, tenant: Uuid, posts: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT id FROM posts WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id FOR NO KEY UPDATE",
        tenant,
        posts
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// Which of `rows` (by index) name a post and moment that has a reading already: one probe of
/// the readings' key each (whatever the post's history).
async fn stored_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    rows: &[(Uuid, super::domain::NewSnapshot)],
) -> sqlx::Result<std::collections::HashSet<i32>> {
    let posts: Vec<Uuid> = rows.iter().map(|(p, _)| *p).collect();
    let captured: Vec<OffsetDateTime> = rows.iter().map(|(_, s)| s.captured_at).collect();
    let found = sqlx::query_scalar!(
        r#"SELECT (r.i - 1)::int AS "i!"
             FROM unnest($2::uuid[], $3::timestamptz[]) WITH ORDINALITY AS r(post_id, at, i)
            CROSS JOIN LATERAL (SELECT 1 FROM metric_snapshots m
                                 WHERE m.tenant_id = $1 AND m.post_id = r.post_id
                                   AND m.captured_at = r.at LIMIT 1) e"#,
        tenant,
        &posts,
        &captured
    )
    .fetch_all(conn)
    .await?;
    Ok(found.into_iter().collect())
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
    /// Where the file is kept in object storage, when it was streamed there.
    pub object_key: Option<&'a str>,
}

pub async fn insert_snapshot_import(
    conn: &mut PgConnection,
    tenant: Uuid,
    new: &NewSnapshotImport<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO snapshot_imports (tenant_id, id, campaign_id, filename, encoding, total_rows, \
           good_rows, error_rows, rows, errors, created_by, object_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
        new.created_by,
        new.object_key
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

/// When each of the given posts of the tenant was published (posts of other tenants, or none,
/// are simply absent).
pub async fn published_at_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    posts: &[Uuid],
) -> Result<Vec<(Uuid, OffsetDateTime)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT id, published_at FROM posts WHERE tenant_id = $1 AND id = ANY($2)",
        tenant,
        posts
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.published_at)).collect())
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
