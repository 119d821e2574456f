//! SQL for order imports, their errors and attributions: the pages' reads and the actions'
//! writes (tenant-scoped transactions), and the background job's statements (claims, heartbeats,
//! the COPYs into staging and errors, the import itself; system scope `ImportJob`).

use sqlx::PgConnection;
use sqlx::postgres::PgCopyIn;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::ImportState;
use crate::storage::StoredObject;

#[derive(Debug, Clone)]
pub struct ShopOption {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub time_zone: String,
}

pub async fn shops(conn: &mut PgConnection) -> sqlx::Result<Vec<ShopOption>> {
    sqlx::query_as!(
        ShopOption,
        "SELECT id, name, platform, time_zone FROM shops ORDER BY name"
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub id: Uuid,
    pub shop_name: String,
    pub filename: String,
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub state: ImportState,
    pub exported_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub rows_total: i64,
    pub rows_good: i64,
    pub rows_rejected: i64,
    pub duplicate_rows: i64,
    pub bytes_total: i64,
    pub bytes_done: i64,
    pub failure: Option<String>,
    pub failure_detail: Option<String>,
    pub created_by: Option<String>,
    pub dates_read_both_ways: Option<String>,
    pub repeated_keys: serde_json::Value,
    pub exported_at_from_file: bool,
}

/// `query_as!` of `ImportRow`s: the imports with their shop, file and author, then `$tail`
/// (the macros take only literals, so the shared SELECT lives here rather than in a const).
macro_rules! import_rows {
    ($tail:tt $(, $arg:expr)*) => {
        sqlx::query_as!(
            ImportRow,
            r#"SELECT i.id, s.name AS shop_name, u.filename, i.format, i.encoding,
                 i.state AS "state: ImportState", i.exported_at, i.created_at, i.rows_total,
                 i.rows_good, i.rows_rejected, i.duplicate_rows, i.bytes_total, i.bytes_done,
                 i.failure, i.failure_detail, p.display_name AS "created_by?",
                 i.dates_read_both_ways, i.repeated_keys, i.exported_at_from_file
               FROM order_imports i
               JOIN shops s ON s.tenant_id = i.tenant_id AND s.id = i.shop_id
               JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id
               LEFT JOIN users p ON p.id = i.created_by "#
                + $tail
            $(, $arg)*
        )
    };
}

pub async fn recent_imports(conn: &mut PgConnection) -> sqlx::Result<Vec<ImportRow>> {
    import_rows!("ORDER BY i.created_at DESC LIMIT 50")
        .fetch_all(conn)
        .await
}

pub async fn import(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ImportRow>> {
    import_rows!("WHERE i.id = $1", id)
        .fetch_optional(conn)
        .await
}

pub struct NewImport<'a> {
    pub tenant_id: Uuid,
    pub upload_id: Uuid,
    pub shop_id: Uuid,
    pub filename: &'a str,
    pub content_type: Option<&'a str>,
    pub stored: &'a StoredObject,
    pub format: &'a str,
    pub exported_at: OffsetDateTime,
    /// The form left the export time empty: `exported_at` is the upload's time until the
    /// validation run puts the latest time in the file there.
    pub exported_at_from_file: bool,
    pub by: Option<Uuid>,
}

/// Records the stored file and queues its validation run; returns the import's id.
pub async fn create_import(conn: &mut PgConnection, new: &NewImport<'_>) -> sqlx::Result<Uuid> {
    sqlx::query!(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, content_type, bytes, sha256, \
           storage_key, uploaded_by) VALUES ($1, $2, 'orders', $3, $4, $5, $6, $7, $8)",
        new.tenant_id,
        new.upload_id,
        new.filename,
        new.content_type,
        new.stored.bytes as i64,
        new.stored.sha256,
        new.stored.key,
        new.by,
    )
    .execute(&mut *conn)
    .await?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, format, exported_at, \
           bytes_total, created_by, exported_at_from_file) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        new.tenant_id,
        id,
        new.shop_id,
        new.upload_id,
        new.format,
        new.exported_at,
        new.stored.bytes as i64,
        new.by,
        new.exported_at_from_file,
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Moves an import of the tenant from one state to another; false when it was not in `from`
/// (another request or the job moved it first).
pub async fn transition(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    from: ImportState,
    to: ImportState,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE order_imports SET state = $3, job_worker = NULL, job_heartbeat_at = NULL, \
           job_attempts = 0, undone_at = CASE WHEN $3 = 'undone' THEN now() END, \
           updated_at = now() \
         WHERE id = $1 AND state = $2 AND tenant_id = $4",
        id,
        from as ImportState,
        to as ImportState,
        tenant_id,
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The import of this tenant with its state, the file's name and its good rows, for a move.
#[derive(Debug, Clone)]
pub struct ImportForMove {
    pub id: Uuid,
    pub state: ImportState,
    pub filename: String,
    pub rows_good: i64,
}

pub async fn import_for_move(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ImportForMove>> {
    sqlx::query_as!(
        ImportForMove,
        r#"SELECT i.id, i.state AS "state: ImportState", u.filename, i.rows_good
           FROM order_imports i
           JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id
           WHERE i.tenant_id = $1 AND i.id = $2"#,
        tenant_id,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// How a shop's exports write times: its time zone and export date order.
#[derive(Debug, Clone)]
pub struct ShopClock {
    pub time_zone: String,
    pub date_order: String,
}

/// The time zone and export date order of a shop of the tenant (the seeder's and benchmark's
/// imports).
pub async fn shop_clock(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    shop_id: Uuid,
) -> sqlx::Result<ShopClock> {
    sqlx::query_as!(
        ShopClock,
        "SELECT time_zone, date_order FROM shops WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        shop_id,
    )
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct ErrorRow {
    pub seq: i64,
    pub line: i64,
    pub column_name: Option<String>,
    pub value: String,
    pub problem: String,
    pub detail: String,
}

/// Errors of an import after `after_seq`, in file order.
pub async fn errors(
    conn: &mut PgConnection,
    import_id: Uuid,
    after_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<ErrorRow>> {
    sqlx::query_as!(
        ErrorRow,
        "SELECT seq, line, column_name, value, problem, detail FROM order_import_errors \
         WHERE import_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        import_id,
        after_seq,
        limit,
    )
    .fetch_all(conn)
    .await
}

pub async fn error_count(conn: &mut PgConnection, import_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM order_import_errors WHERE import_id = $1"#,
        import_id,
    )
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct UnattributedRow {
    pub shop_id: Uuid,
    pub shop_name: String,
    pub order_key: String,
    pub line_key: String,
    pub placed_at: OffsetDateTime,
    pub currency: String,
    pub amount: rust_decimal::Decimal,
    pub creator_username: Option<String>,
    pub discount_code: Option<String>,
    pub product_name: Option<String>,
}

/// A query macro (`$m`, with its row type when it takes one) over the current order lines nobody
/// is credited with: `$head` (the SELECT), the lines of imported batches (not undone, cancelled or
/// still running), `$join`, then the rule and `$tail`. The rule: without an attribution and with
/// no line of the same key from a later export (the rule of `orders_current`). Walked newest
/// first along `order_lines_placed_idx`, each line checked by index lookups, so a page costs its
/// own rows, not a ranking of every line of the tenant. (The macros take only literals, so the
/// shared text lives here rather than in consts.)
macro_rules! unattributed_lines {
    (query_as!($row:ident, $($rest:tt)*)) => {
        unattributed_lines!(@query_as($row,) $($rest)*)
    };
    (query_scalar!($($rest:tt)*)) => {
        unattributed_lines!(@query_scalar() $($rest)*)
    };
    (@$m:ident($($row:tt)*) $head:tt, $join:tt, $tail:tt $(, $arg:expr)*) => {
        sqlx::$m!(
            $($row)*
            $head
                + " FROM order_lines l JOIN order_imports i ON i.tenant_id = l.tenant_id \
                     AND i.id = l.import_id AND i.state = 'imported' "
                + $join
                + " WHERE l.tenant_id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM order_attributions a \
                       WHERE a.tenant_id = l.tenant_id AND a.shop_id = l.shop_id \
                         AND a.order_key = l.order_key AND a.line_key = l.line_key) \
                     AND NOT EXISTS (SELECT 1 FROM order_lines n JOIN order_imports j \
                       ON j.tenant_id = n.tenant_id AND j.id = n.import_id \
                         AND j.state = 'imported' \
                       WHERE n.tenant_id = l.tenant_id AND n.shop_id = l.shop_id \
                         AND n.order_key = l.order_key AND n.line_key = l.line_key \
                         AND (n.exported_at, j.created_at, j.id) \
                           > (l.exported_at, i.created_at, i.id)) "
                + $tail
            $(, $arg)*
        )
    };
}

/// One page of the unattributed lines, newest first.
pub async fn unattributed(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    offset: i64,
    limit: i64,
) -> sqlx::Result<Vec<UnattributedRow>> {
    unattributed_lines!(query_as!(
        UnattributedRow,
        r#"SELECT l.shop_id, s.name AS shop_name, l.order_key, l.line_key, l.placed_at,
             l.currency::text AS "currency!", l.amount, l.creator_username, l.discount_code,
             l.product_name"#,
        "JOIN shops s ON s.tenant_id = l.tenant_id AND s.id = l.shop_id",
        "ORDER BY l.placed_at DESC, l.order_key, l.line_key LIMIT $2 OFFSET $3",
        tenant_id,
        limit,
        offset
    ))
    .fetch_all(conn)
    .await
}

/// How many lines are unattributed, counted up to `cap + 1` (past the cap, "more than cap").
pub async fn unattributed_count(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    cap: i64,
) -> sqlx::Result<i64> {
    unattributed_lines!(query_scalar!(
        r#"SELECT count(*) AS "count!" FROM (SELECT 1"#,
        "",
        "LIMIT $2) x",
        tenant_id,
        cap + 1
    ))
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct CollaborationOption {
    pub id: Uuid,
    pub label: String,
}

pub async fn collaborations(conn: &mut PgConnection) -> sqlx::Result<Vec<CollaborationOption>> {
    sqlx::query_as!(
        CollaborationOption,
        r#"SELECT c.id, coalesce(k.code, k.title) || ' · @' || cr.handle || ' · ' || c.discount_code
             AS "label!"
           FROM collaborations c JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id
           JOIN creators cr ON cr.id = c.creator_id
           WHERE c.state NOT IN ('proposed', 'cancelled') ORDER BY "label!""#
    )
    .fetch_all(conn)
    .await
}

/// Whether the order line is a current one of this tenant.
pub async fn order_exists(
    conn: &mut PgConnection,
    shop_id: Uuid,
    order_key: &str,
    line_key: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM orders_current WHERE shop_id = $1 AND order_key = $2
             AND line_key = $3) AS "exists!""#,
        shop_id,
        order_key,
        line_key,
    )
    .fetch_one(conn)
    .await
}

/// A person credits an order line to a collaboration (replacing any earlier attribution).
pub async fn attribute_by_person(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    shop_id: Uuid,
    order_key: &str,
    line_key: &str,
    collaboration_id: Uuid,
    user: Option<Uuid>,
) -> sqlx::Result<Option<Uuid>> {
    let before: Option<Uuid> = sqlx::query_scalar!(
        "SELECT collaboration_id FROM order_attributions WHERE shop_id = $1 AND order_key = $2 \
           AND line_key = $3",
        shop_id,
        order_key,
        line_key,
    )
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by, attributed_user) \
         VALUES ($1, $2, $3, $4, $5, 'person', $6) \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO UPDATE SET \
           collaboration_id = EXCLUDED.collaboration_id, attributed_by = 'person', \
           attributed_user = EXCLUDED.attributed_user, attributed_at = now()",
        tenant_id,
        shop_id,
        order_key,
        line_key,
        collaboration_id,
        user,
    )
    .execute(conn)
    .await?;
    Ok(before)
}

// The background job's statements (`jobs`), run in system scope `ImportJob`. Their text is what
// the import benchmark measures: change them only with its figures beside.

/// A job a worker claimed.
#[derive(Debug)]
pub struct JobClaim {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub state: ImportState,
    pub job_attempts: i32,
}

/// Claims the oldest runnable job (or only `only`, a (tenant, import) pair) for `worker`: one
/// queued, or one whose heartbeat is older than `stale_secs`.
pub async fn claim_job(
    conn: &mut PgConnection,
    worker: &str,
    stale_secs: f64,
    only: Option<(Uuid, Uuid)>,
) -> sqlx::Result<Option<JobClaim>> {
    sqlx::query_as!(
        JobClaim,
        r#"WITH next AS (
             SELECT tenant_id, id FROM order_imports
             WHERE state IN ('queued', 'validating', 'importing')
               AND (job_heartbeat_at IS NULL OR job_heartbeat_at < now() - make_interval(secs => $2))
               AND ($3::uuid IS NULL OR (tenant_id = $3 AND id = $4))
             ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           UPDATE order_imports o SET
             state = CASE WHEN o.state = 'queued' THEN 'validating' ELSE o.state END,
             job_worker = $1, job_heartbeat_at = now(), job_attempts = o.job_attempts + 1,
             updated_at = now()
           FROM next WHERE o.tenant_id = next.tenant_id AND o.id = next.id
           RETURNING o.tenant_id AS "tenant_id!", o.id AS "id!",
             o.state AS "state!: ImportState", o.job_attempts AS "job_attempts!""#,
        worker,
        stale_secs,
        only.map(|o| o.0),
        only.map(|o| o.1),
    )
    .fetch_optional(conn)
    .await
}

pub async fn job_state(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<ImportState> {
    sqlx::query_scalar!(
        r#"SELECT state AS "state: ImportState" FROM order_imports WHERE tenant_id = $1 AND id = $2"#,
        tenant_id,
        import_id,
    )
    .fetch_one(conn)
    .await
}

pub async fn heartbeat(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    worker: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET job_heartbeat_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
        tenant_id,
        id,
        worker,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the job failed with a message key and its argument (only while `worker` holds it).
pub async fn fail_job(
    conn: &mut PgConnection,
    job: &JobClaim,
    worker: &str,
    key: &str,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET state = 'failed', failure = $4, failure_detail = $5, \
           job_worker = NULL, job_heartbeat_at = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
        job.tenant_id,
        job.id,
        worker,
        key,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the staged rows of an import.
pub async fn clear_staging(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM order_import_staging WHERE tenant_id = $1 AND import_id = $2",
        tenant_id,
        import_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the recorded errors of an import (a validation run starts again).
pub async fn clear_errors(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM order_import_errors WHERE tenant_id = $1 AND import_id = $2",
        tenant_id,
        import_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored file of a job, the time zone and export date order of its shop, and whether the
/// export time is to be taken from the file.
#[derive(Debug)]
pub struct JobFile {
    pub storage_key: String,
    pub bytes: i64,
    pub time_zone: String,
    pub date_order: String,
    pub exported_at_from_file: bool,
}

pub async fn job_file(conn: &mut PgConnection, job: &JobClaim) -> sqlx::Result<JobFile> {
    sqlx::query_as!(
        JobFile,
        "SELECT u.storage_key, u.bytes, s.time_zone, s.date_order, i.exported_at_from_file \
         FROM order_imports i \
         JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
         JOIN shops s ON s.tenant_id = i.tenant_id AND s.id = i.shop_id \
         WHERE i.tenant_id = $1 AND i.id = $2",
        job.tenant_id,
        job.id,
    )
    .fetch_one(conn)
    .await
}

/// A restarted validation run starts from a clean slate.
pub async fn reset_validation(
    conn: &mut PgConnection,
    job: &JobClaim,
    bytes_total: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET rows_total = 0, rows_done = 0, rows_good = 0, \
           rows_rejected = 0, bytes_done = 0, bytes_total = $3, failure = NULL, \
           failure_detail = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
        job.tenant_id,
        job.id,
        bytes_total,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens the COPY of good rows into `order_import_staging` (text format, columns in this order).
// dynamic: COPY has no query! form; the import streams its rows through `copy_in_raw`.
pub async fn copy_in_staging(conn: &mut PgConnection) -> sqlx::Result<PgCopyIn<&mut PgConnection>> {
    conn.copy_in_raw(
        "COPY order_import_staging (tenant_id, import_id, line, order_key, line_key, \
         placed_at, status, currency, amount, quantity, refunded_amount, fully_refunded, \
         creator_username, content_id, discount_code, commission_rate, commission, \
         product_name) FROM STDIN",
    )
    .await
}

/// Opens the COPY of rejected rows' problems into `order_import_errors`.
// dynamic: COPY has no query! form; the import streams its rows through `copy_in_raw`.
pub async fn copy_in_errors(conn: &mut PgConnection) -> sqlx::Result<PgCopyIn<&mut PgConnection>> {
    conn.copy_in_raw(
        "COPY order_import_errors (tenant_id, import_id, seq, line, column_name, value, \
         problem, detail) FROM STDIN",
    )
    .await
}

/// What a validation run found.
pub struct ValidationSummary<'a> {
    pub format: Option<&'a str>,
    pub encoding: &'a str,
    pub rows: i64,
    pub good: i64,
    pub rejected: i64,
    /// The export date order assumed when every slash date read both ways ("DMY", "MDY").
    pub dates_read_both_ways: Option<&'a str>,
    /// The first repeated keys with their lines (see the migration), and the good rows an
    /// import leaves out because a later line has their key.
    pub repeated_keys: serde_json::Value,
    pub duplicate_rows: i64,
    /// The export time taken from the file (when the form left it empty).
    pub exported_at: Option<OffsetDateTime>,
}

/// Ends a validation run (only while `worker` holds the job and it is still validating).
pub async fn finish_validation(
    conn: &mut PgConnection,
    job: &JobClaim,
    worker: &str,
    summary: &ValidationSummary<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET state = 'validated', format = $4, encoding = $5, \
           rows_total = $6, rows_done = $6, rows_good = $7, rows_rejected = $8, \
           dates_read_both_ways = $9, repeated_keys = $10, duplicate_rows = $11, \
           exported_at = coalesce($12, exported_at), \
           bytes_done = bytes_total, job_worker = NULL, job_heartbeat_at = NULL, \
           job_attempts = 0, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3 AND state = 'validating'",
        job.tenant_id,
        job.id,
        worker,
        summary.format,
        summary.encoding,
        summary.rows,
        summary.good,
        summary.rejected,
        summary.dates_read_both_ways,
        summary.repeated_keys,
        summary.duplicate_rows,
        summary.exported_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn progress(conn: &mut PgConnection, job: &JobClaim, bytes: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET bytes_done = $3, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
        job.tenant_id,
        job.id,
        bytes,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The import phase's lock on its batch: (shop, exported at, good rows).
pub async fn lock_importing(
    conn: &mut PgConnection,
    job: &JobClaim,
) -> sqlx::Result<(Uuid, OffsetDateTime, i64)> {
    let row = sqlx::query!(
        "SELECT shop_id, exported_at, rows_good FROM order_imports \
         WHERE tenant_id = $1 AND id = $2 AND state = 'importing' FOR UPDATE",
        job.tenant_id,
        job.id,
    )
    .fetch_one(conn)
    .await?;
    Ok((row.shop_id, row.exported_at, row.rows_good))
}

pub async fn staged_count(conn: &mut PgConnection, job: &JobClaim) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM order_import_staging
           WHERE tenant_id = $1 AND import_id = $2"#,
        job.tenant_id,
        job.id,
    )
    .fetch_one(conn)
    .await
}

/// Puts the job back in the queue for a new validation run.
pub async fn requeue(conn: &mut PgConnection, job: &JobClaim) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET state = 'queued', job_worker = NULL, \
           job_heartbeat_at = NULL, job_attempts = 0, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
        job.tenant_id,
        job.id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the staged rows into `order_lines` (the last row of a key in the file wins); returns
/// how many lines were inserted.
pub async fn insert_order_lines(
    conn: &mut PgConnection,
    job: &JobClaim,
    shop_id: Uuid,
    exported_at: OffsetDateTime,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, \
           exported_at, placed_at, status, currency, amount, quantity, refunded_amount, \
           fully_refunded, creator_username, content_id, discount_code, commission_rate, \
           commission, product_name) \
         SELECT DISTINCT ON (s.order_key, s.line_key) s.tenant_id, s.import_id, $3, \
           s.order_key, s.line_key, $4, s.placed_at, s.status, s.currency, s.amount, \
           s.quantity, s.refunded_amount, s.fully_refunded, s.creator_username, s.content_id, \
           s.discount_code, s.commission_rate, s.commission, s.product_name \
         FROM order_import_staging s WHERE s.tenant_id = $1 AND s.import_id = $2 \
         ORDER BY s.order_key, s.line_key, s.line DESC",
        job.tenant_id,
        job.id,
        shop_id,
        exported_at,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Ends the import phase (only while `worker` holds the job).
pub async fn finish_import(
    conn: &mut PgConnection,
    job: &JobClaim,
    worker: &str,
    duplicate_rows: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET state = 'imported', imported_at = now(), \
           duplicate_rows = $4, job_worker = NULL, job_heartbeat_at = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
        job.tenant_id,
        job.id,
        worker,
        duplicate_rows,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Attributes the batch's lines that have no attribution yet (an existing one, automatic or by
/// a person, is kept: it is keyed by the line, so it survives newer exports).
/// - TikTok: `Content ID` = a post's video id of the creator (`content`); else the creator's
///   only collaboration in this tenant, or, when there are several, the only live one (of a
///   running or evaluating campaign, not ended) (`creator`). Anything still ambiguous stays
///   unattributed for a person to decide.
/// - Shopify: any of the order's discount codes = a collaboration's code, case-insensitive.
pub async fn attribute_batch(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH cc AS ( \
           SELECT cr.handle, array_agg(c.id) AS ids, \
             array_agg(c.id) FILTER (WHERE k.state IN ('running', 'evaluating') \
               AND c.state NOT IN ('proposed', 'breached', 'rated', 'settled')) AS live \
           FROM collaborations c JOIN creators cr ON cr.id = c.creator_id \
           JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id \
           WHERE c.tenant_id = $1 AND c.state <> 'cancelled' GROUP BY cr.handle), \
         pv AS ( \
           SELECT p.video_id, p.collaboration_id, cr.handle FROM posts p \
           JOIN collaborations c ON c.tenant_id = p.tenant_id AND c.id = p.collaboration_id \
           JOIN creators cr ON cr.id = c.creator_id \
           WHERE p.tenant_id = $1 AND p.video_id IS NOT NULL) \
         INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by) \
         SELECT l.tenant_id, l.shop_id, l.order_key, l.line_key, \
           coalesce(pv.collaboration_id, \
             CASE WHEN cardinality(cc.ids) = 1 THEN cc.ids[1] ELSE cc.live[1] END), \
           CASE WHEN pv.collaboration_id IS NOT NULL THEN 'content' ELSE 'creator' END \
         FROM order_lines l \
         JOIN cc ON cc.handle = l.creator_username \
         LEFT JOIN pv ON pv.video_id = l.content_id AND pv.handle = l.creator_username \
         WHERE l.tenant_id = $1 AND l.import_id = $2 \
           AND (pv.collaboration_id IS NOT NULL OR cardinality(cc.ids) = 1 \
             OR coalesce(cardinality(cc.live), 0) = 1) \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO NOTHING",
        tenant_id,
        import_id,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by) \
         SELECT DISTINCT ON (l.order_key, l.line_key) l.tenant_id, l.shop_id, l.order_key, \
           l.line_key, c.id, 'discount_code' \
         FROM order_lines l \
         JOIN collaborations c ON c.tenant_id = l.tenant_id \
           AND lower(c.discount_code) = ANY (string_to_array(lower(l.discount_code), ',')) \
         WHERE l.tenant_id = $1 AND l.import_id = $2 AND l.discount_code IS NOT NULL \
           AND c.state <> 'cancelled' \
         ORDER BY l.order_key, l.line_key, c.created_at \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO NOTHING",
        tenant_id,
        import_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}
