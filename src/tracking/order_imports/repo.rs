//! SQL for order imports, their errors and attributions: the pages' reads and the actions'
//! writes (tenant-scoped transactions), and the background job's statements (claims, heartbeats,
//! the COPYs into staging and errors, the import itself; system scope `ImportJob`).

use std::collections::HashMap;

use sqlx::PgConnection;
use sqlx::postgres::PgCopyIn;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{Candidate, ImportState};
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
    /// Which kept fields the file carried (`domain::LineField` codes); None before they were.
    pub line_fields: Option<Vec<String>>,
    pub lines_new: Option<i64>,
    pub lines_changed: Option<i64>,
    pub lines_unchanged: Option<i64>,
    pub lines_older: Option<i64>,
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
                 i.failure, i.failure_detail, p.display_name AS "created_by?", i.line_fields,
                 i.lines_new, i.lines_changed, i.lines_unchanged, i.lines_older,
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

/// Imports that wait on a person, oldest first: validated but neither imported nor cancelled,
/// or failed since `failed_since` (the tenant's transaction scopes them).
pub async fn needing_attention(
    conn: &mut PgConnection,
    failed_since: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<ImportRow>> {
    import_rows!(
        "WHERE i.state = 'validated' OR (i.state = 'failed' AND i.updated_at >= $1) \
         ORDER BY i.created_at, i.id LIMIT $2",
        failed_since,
        limit
    )
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

/// Records a stored orders file (an upload, or an API call's body).
async fn insert_upload(
    conn: &mut PgConnection,
    (tenant_id, upload_id): (Uuid, Uuid),
    (filename, content_type): (&str, Option<&str>),
    stored: &StoredObject,
    by: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, content_type, bytes, sha256, \
           storage_key, uploaded_by) VALUES ($1, $2, 'orders', $3, $4, $5, $6, $7, $8)",
        tenant_id,
        upload_id,
        filename,
        content_type,
        stored.bytes as i64,
        stored.sha256,
        stored.key,
        by,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the stored file and queues its validation run; returns the import's id.
pub async fn create_import(conn: &mut PgConnection, new: &NewImport<'_>) -> sqlx::Result<Uuid> {
    insert_upload(
        conn,
        (new.tenant_id, new.upload_id),
        (new.filename, new.content_type),
        new.stored,
        new.by,
    )
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

/// An API orders call as a batch: what it sent, kept as its file.
pub struct NewApiImport<'a> {
    pub tenant_id: Uuid,
    pub upload_id: Uuid,
    pub shop_id: Uuid,
    pub filename: &'a str,
    pub stored: &'a StoredObject,
    pub exported_at: OffsetDateTime,
    pub rows: i64,
    pub line_fields: Vec<String>,
    pub by: Option<Uuid>,
    pub token_id: Uuid,
    /// The worker name the batch is held by until it is imported in the same transaction.
    pub worker: &'a str,
}

/// Records an API batch already checked, held for its import in the caller's transaction
/// (state `importing`, every row good); returns the import's id.
pub async fn create_api_import(
    conn: &mut PgConnection,
    new: &NewApiImport<'_>,
) -> sqlx::Result<Uuid> {
    insert_upload(
        conn,
        (new.tenant_id, new.upload_id),
        (new.filename, Some("application/json")),
        new.stored,
        new.by,
    )
    .await?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, format, exported_at, \
           state, rows_total, rows_done, rows_good, rows_rejected, encoding, bytes_total, \
           bytes_done, line_fields, created_by, source, api_token_id, job_worker, \
           job_heartbeat_at, job_attempts) \
         VALUES ($1, $2, $3, $4, 'api_json', $5, 'importing', $6, $6, $6, 0, 'utf-8', $7, $7, \
           $8, $9, 'api', $10, $11, now(), 1)",
        new.tenant_id,
        id,
        new.shop_id,
        new.upload_id,
        new.exported_at,
        new.rows,
        new.stored.bytes as i64,
        &new.line_fields,
        new.by,
        new.token_id,
        new.worker,
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
    pub content_id: Option<String>,
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
             l.product_name, l.content_id"#,
        "JOIN shops s ON s.tenant_id = l.tenant_id AND s.id = l.shop_id",
        "ORDER BY l.placed_at DESC, l.order_key, l.line_key LIMIT $2 OFFSET $3",
        tenant_id,
        limit,
        offset
    ))
    .fetch_all(conn)
    .await
}

/// Where pages that mention unattributed lines stop counting ("999+").
pub const UNATTRIBUTED_CAP: i64 = 999;

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

/// How many lines an import attributed by itself, by rule (`attributed_by` codes).
pub async fn batch_attribution_counts(
    conn: &mut PgConnection,
    import_id: Uuid,
) -> sqlx::Result<Vec<(String, i64)>> {
    Ok(sqlx::query!(
        r#"SELECT attributed_by, count(*) AS "lines!" FROM order_attributions
           WHERE import_id = $1 GROUP BY attributed_by ORDER BY attributed_by"#,
        import_id,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.attributed_by, r.lines))
    .collect())
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

/// How a page names one order line in a form field: shop, order key and line key, each
/// percent-encoded, joined by `:` (`parse_line_ref` reads it back).
pub fn line_ref(shop_id: Uuid, order_key: &str, line_key: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    format!(
        "{shop_id}:{}:{}",
        utf8_percent_encode(order_key, NON_ALPHANUMERIC),
        utf8_percent_encode(line_key, NON_ALPHANUMERIC)
    )
}

pub fn parse_line_ref(value: &str) -> Option<(Uuid, String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    let mut parts = value.split(':');
    let (shop, order, line) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((shop.parse().ok()?, decode(order)?, decode(line)?))
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
           attributed_user = EXCLUDED.attributed_user, attributed_at = now(), import_id = NULL",
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

/// Gives a claimed job back unchanged in its phase, for the next claim to run again.
pub async fn release_job(
    conn: &mut PgConnection,
    job: &JobClaim,
    worker: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET job_worker = NULL, job_heartbeat_at = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
        job.tenant_id,
        job.id,
        worker,
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
         product_name, paid_at, est_commission_base, actual_commission_base, actual_commission, \
         subtotal, discounts, shipping, tax) FROM STDIN",
    )
    .await
}

/// Opens the COPY of an API batch's rows (the columns of [`copy_in_staging`]) into this
/// connection's own scratch table: COPY FROM is refused on a table under row-level security, so
/// the rows go to a temporary table first (kept per connection, emptied at every commit) and
/// [`insert_order_lines_from_scratch`] merges them into `order_lines` through RLS.
// dynamic: COPY has no query! form, and a temporary table is none of the checked schema's.
pub async fn copy_in_scratch(conn: &mut PgConnection) -> sqlx::Result<PgCopyIn<&mut PgConnection>> {
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS api_order_scratch \
           (LIKE order_import_staging) ON COMMIT DELETE ROWS",
    )
    .execute(&mut *conn)
    .await?;
    conn.copy_in_raw(
        "COPY api_order_scratch (tenant_id, import_id, line, order_key, line_key, \
         placed_at, status, currency, amount, quantity, refunded_amount, fully_refunded, \
         creator_username, content_id, discount_code, commission_rate, commission, \
         product_name, paid_at, est_commission_base, actual_commission_base, actual_commission, \
         subtotal, discounts, shipping, tax) FROM STDIN",
    )
    .await
}

/// Merges what [`copy_in_scratch`] took straight into `order_lines` (the last line of a key in
/// the call wins; row-level security checks each line's tenant) and empties the scratch table;
/// returns how many lines were inserted. The shared staging table is skipped (5,000 rows written
/// and deleted a call, and its dead rows left for vacuum). The merge itself still grows with the
/// table (40 → about 300 ms a call of 5,000 lines by 500,000 lines): the next thing to look at.
// dynamic: the temporary table is none of the checked schema's.
pub async fn insert_order_lines_from_scratch(
    conn: &mut PgConnection,
    shop_id: Uuid,
    exported_at: OffsetDateTime,
) -> sqlx::Result<u64> {
    let inserted = sqlx::query(
        "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, \
           exported_at, placed_at, status, currency, amount, quantity, refunded_amount, \
           fully_refunded, creator_username, content_id, discount_code, commission_rate, \
           commission, product_name, paid_at, est_commission_base, actual_commission_base, \
           actual_commission, subtotal, discounts, shipping, tax) \
         SELECT DISTINCT ON (s.order_key, s.line_key) s.tenant_id, s.import_id, $1, \
           s.order_key, s.line_key, $2, s.placed_at, s.status, s.currency, s.amount, \
           s.quantity, s.refunded_amount, s.fully_refunded, s.creator_username, s.content_id, \
           s.discount_code, s.commission_rate, s.commission, s.product_name, s.paid_at, \
           s.est_commission_base, s.actual_commission_base, s.actual_commission, s.subtotal, \
           s.discounts, s.shipping, s.tax \
         FROM api_order_scratch s ORDER BY s.order_key, s.line_key, s.line DESC",
    )
    .bind(shop_id)
    .bind(exported_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("TRUNCATE api_order_scratch")
        .execute(&mut *conn)
        .await?;
    Ok(inserted)
}

/// A batch whose lines were imported before the kept fields were (`line_fields` NULL), with its
/// stored file and its shop's zone.
#[derive(Debug)]
pub struct BatchWithoutFields {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub storage_key: String,
    pub time_zone: String,
    pub date_order: String,
}

/// Takes the oldest batch with lines (imported or undone) that has not recorded its kept
/// fields, locked for this transaction (another server takes the next).
pub async fn next_batch_without_fields(
    conn: &mut PgConnection,
) -> sqlx::Result<Option<BatchWithoutFields>> {
    sqlx::query_as!(
        BatchWithoutFields,
        "SELECT i.tenant_id, i.id, u.storage_key, s.time_zone, s.date_order \
         FROM order_imports i \
         JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
         JOIN shops s ON s.tenant_id = i.tenant_id AND s.id = i.shop_id \
         WHERE i.line_fields IS NULL AND i.state IN ('imported', 'undone') \
         ORDER BY i.created_at LIMIT 1 FOR UPDATE OF i SKIP LOCKED"
    )
    .fetch_optional(conn)
    .await
}

/// Copies the kept fields from the batch's re-staged rows onto its lines (the last row of a
/// key in the file, as the import took it).
pub async fn fill_line_fields(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE order_lines l SET paid_at = s.paid_at, \
           est_commission_base = s.est_commission_base, \
           actual_commission_base = s.actual_commission_base, \
           actual_commission = s.actual_commission, subtotal = s.subtotal, \
           discounts = s.discounts, shipping = s.shipping, tax = s.tax \
         FROM (SELECT DISTINCT ON (order_key, line_key) * FROM order_import_staging \
               WHERE tenant_id = $1 AND import_id = $2 \
               ORDER BY order_key, line_key, line DESC) s \
         WHERE l.tenant_id = $1 AND l.import_id = $2 AND l.order_key = s.order_key \
           AND l.line_key = s.line_key",
        tenant_id,
        import_id,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn set_line_fields(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
    fields: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET line_fields = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        import_id,
        fields,
    )
    .execute(conn)
    .await?;
    Ok(())
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
    /// The kept fields some good row had a value for (`domain::LineField` codes).
    pub line_fields: Vec<String>,
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
           line_fields = $9, dates_read_both_ways = $10, repeated_keys = $11, \
           duplicate_rows = $12, exported_at = coalesce($13, exported_at), \
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
        &summary.line_fields,
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

/// Whether the import has staged rows at all. A database crash empties the unlogged staging
/// table whole, so the rows are either all there or all gone: one row tells, without counting
/// a million.
pub async fn has_staged_rows(conn: &mut PgConnection, job: &JobClaim) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM order_import_staging
           WHERE tenant_id = $1 AND import_id = $2) AS "staged!""#,
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
           commission, product_name, paid_at, est_commission_base, actual_commission_base, \
           actual_commission, subtotal, discounts, shipping, tax) \
         SELECT DISTINCT ON (s.order_key, s.line_key) s.tenant_id, s.import_id, $3, \
           s.order_key, s.line_key, $4, s.placed_at, s.status, s.currency, s.amount, \
           s.quantity, s.refunded_amount, s.fully_refunded, s.creator_username, s.content_id, \
           s.discount_code, s.commission_rate, s.commission, s.product_name, s.paid_at, \
           s.est_commission_base, s.actual_commission_base, s.actual_commission, s.subtotal, \
           s.discounts, s.shipping, s.tax \
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
    counts: &LineCounts,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE order_imports SET state = 'imported', imported_at = now(), \
           duplicate_rows = $4, lines_new = $5, lines_changed = $6, lines_unchanged = $7, \
           lines_older = $8, job_worker = NULL, job_heartbeat_at = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
        job.tenant_id,
        job.id,
        worker,
        duplicate_rows,
        counts.new,
        counts.changed,
        counts.unchanged,
        counts.older,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What an import did to each of its lines, against the current line of the same key among the
/// other imported batches: a key not there before, a line that differs, one identical to it,
/// and one an import of a later export outranks (it does not count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    pub new: i64,
    pub changed: i64,
    pub unchanged: i64,
    pub older: i64,
}

/// Counts the batch's lines (already in `order_lines`) by what they did; see `LineCounts`.
pub async fn line_counts(
    conn: &mut PgConnection,
    job: &JobClaim,
    shop_id: Uuid,
    exported_at: OffsetDateTime,
) -> sqlx::Result<LineCounts> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE c.order_key IS NULL) AS "new!",
             count(*) FILTER (WHERE c.exported_at > $4) AS "older!",
             count(*) FILTER (WHERE c.exported_at <= $4 AND (l.placed_at, l.status, l.currency,
               l.amount, l.quantity, l.refunded_amount, l.fully_refunded, l.creator_username,
               l.content_id, l.discount_code, l.commission_rate, l.commission, l.product_name,
               l.paid_at, l.est_commission_base, l.actual_commission_base, l.actual_commission,
               l.subtotal, l.discounts, l.shipping, l.tax)
               IS NOT DISTINCT FROM (c.placed_at, c.status, c.currency, c.amount, c.quantity,
               c.refunded_amount, c.fully_refunded, c.creator_username, c.content_id,
               c.discount_code, c.commission_rate, c.commission, c.product_name, c.paid_at,
               c.est_commission_base, c.actual_commission_base, c.actual_commission,
               c.subtotal, c.discounts, c.shipping, c.tax)) AS "unchanged!",
             count(*) AS "all!"
           FROM order_lines l
           -- The current line of the same key among the other imported batches: one index probe
           -- per line of the batch (order_lines_key_idx), however many lines the shop has.
           LEFT JOIN LATERAL (
             SELECT n.* FROM order_lines n
               JOIN order_imports j ON j.tenant_id = n.tenant_id AND j.id = n.import_id
                 AND j.state = 'imported'
              WHERE n.tenant_id = l.tenant_id AND n.shop_id = $3 AND n.order_key = l.order_key
                AND n.line_key = l.line_key AND n.import_id <> $2
              ORDER BY n.exported_at DESC, j.created_at DESC LIMIT 1) c ON true
           WHERE l.tenant_id = $1 AND l.import_id = $2"#,
        job.tenant_id,
        job.id,
        shop_id,
        exported_at,
    )
    .fetch_one(conn)
    .await?;
    Ok(LineCounts {
        new: row.new,
        older: row.older,
        unchanged: row.unchanged,
        changed: row.all - row.new - row.older - row.unchanged,
    })
}

/// A collaboration of the tenant with a creator, as the attribution rule sees it
/// (`domain::Candidate`), with the creator's handle.
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub handle: String,
    pub collaboration_id: Uuid,
    pub video_ids: Vec<String>,
    pub first_post: Option<OffsetDateTime>,
    pub last_post: Option<OffsetDateTime>,
    pub accepted_at: Option<OffsetDateTime>,
    pub ended_at: Option<OffsetDateTime>,
}

/// The tenant's collaborations (not proposed or cancelled) with the creators of `handles`
/// (every creator when None): their posts, when the contract was accepted (its creation when no
/// acceptance is recorded) and when it ended (settled or breached).
pub async fn attribution_candidates(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    handles: Option<&[String]>,
) -> sqlx::Result<Vec<CandidateRow>> {
    sqlx::query_as!(
        CandidateRow,
        r#"SELECT cr.handle, c.id AS collaboration_id,
             coalesce(p.video_ids, '{}') AS "video_ids!", p.first_post, p.last_post,
             coalesce(t.accepted_at, c.created_at) AS accepted_at, t.ended_at
           FROM collaborations c JOIN creators cr ON cr.id = c.creator_id
           LEFT JOIN LATERAL (
             SELECT array_agg(p.video_id) FILTER (WHERE p.video_id IS NOT NULL) AS video_ids,
               min(p.published_at) AS first_post, max(p.published_at) AS last_post
             FROM posts p WHERE p.tenant_id = c.tenant_id AND p.collaboration_id = c.id) p
             ON true
           LEFT JOIN LATERAL (
             SELECT min(x.at) FILTER (WHERE x.to_state = 'accepted') AS accepted_at,
               min(x.at) FILTER (WHERE x.to_state IN ('settled', 'breached')) AS ended_at
             FROM contract_transitions x
             WHERE x.tenant_id = c.tenant_id AND x.collaboration_id = c.id) t ON true
           WHERE c.tenant_id = $1 AND c.state NOT IN ('proposed', 'cancelled')
             AND ($2::text[] IS NULL OR cr.handle = ANY ($2))
           ORDER BY cr.handle, c.created_at"#,
        tenant_id,
        handles,
    )
    .fetch_all(conn)
    .await
}

/// The candidates of `attribution_candidates` as the rule takes them, by creator handle.
pub async fn candidates_by_handle(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    handles: Option<&[String]>,
) -> sqlx::Result<HashMap<String, Vec<Candidate>>> {
    let mut by_handle: HashMap<String, Vec<Candidate>> = HashMap::new();
    for row in attribution_candidates(conn, tenant_id, handles).await? {
        by_handle.entry(row.handle).or_default().push(Candidate {
            collaboration_id: row.collaboration_id,
            video_ids: row.video_ids,
            posts: row.first_post.zip(row.last_post),
            accepted_at: row.accepted_at,
            ended_at: row.ended_at,
        });
    }
    Ok(by_handle)
}

/// A line of a batch naming a creator who has collaborations with the tenant, not attributed yet.
#[derive(Debug, Clone)]
pub struct LineToAttribute {
    pub shop_id: Uuid,
    pub order_key: String,
    pub line_key: String,
    pub placed_at: OffsetDateTime,
    pub creator_username: String,
    pub content_id: Option<String>,
}

pub async fn lines_to_attribute(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
    handles: &[String],
) -> sqlx::Result<Vec<LineToAttribute>> {
    sqlx::query_as!(
        LineToAttribute,
        r#"SELECT l.shop_id, l.order_key, l.line_key, l.placed_at,
             l.creator_username AS "creator_username!", l.content_id
           FROM order_lines l
           WHERE l.tenant_id = $1 AND l.import_id = $2 AND l.creator_username = ANY ($3)
             AND NOT EXISTS (SELECT 1 FROM order_attributions a WHERE a.tenant_id = l.tenant_id
               AND a.shop_id = l.shop_id AND a.order_key = l.order_key
               AND a.line_key = l.line_key)"#,
        tenant_id,
        import_id,
        handles,
    )
    .fetch_all(conn)
    .await
}

/// Automatic attributions the import of a batch decided, one per line.
#[derive(Debug, Default)]
pub struct NewAttributions {
    pub shop_ids: Vec<Uuid>,
    pub order_keys: Vec<String>,
    pub line_keys: Vec<String>,
    pub collaboration_ids: Vec<Uuid>,
    pub rules: Vec<String>,
}

/// Records the batch's automatic attributions (a line attributed meanwhile keeps its own).
pub async fn insert_attributions(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
    new: &NewAttributions,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by, import_id) \
         SELECT $1, x.shop_id, x.order_key, x.line_key, x.collaboration_id, x.rule, $2 \
         FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::text[]) \
           AS x (shop_id, order_key, line_key, collaboration_id, rule) \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO NOTHING",
        tenant_id,
        import_id,
        &new.shop_ids,
        &new.order_keys,
        &new.line_keys,
        &new.collaboration_ids,
        &new.rules,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Shopify: the batch's lines with one of the order's discount codes = a collaboration's code
/// (case-insensitive; codes are unique in a tenant) are attributed to it (`discount_code`),
/// unless already attributed.
pub async fn attribute_discount_codes(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by, import_id) \
         SELECT DISTINCT ON (l.order_key, l.line_key) l.tenant_id, l.shop_id, l.order_key, \
           l.line_key, c.id, 'discount_code', l.import_id \
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

/// Takes back the automatic attributions an undone batch made (a person's stay): a line no
/// other imported batch holds loses its attribution; one another batch still holds (the same
/// export imported again, an older one) keeps it, now as that batch's (the earliest imported),
/// so undoing that one takes it back in turn. Returns how many were removed.
pub async fn remove_batch_attributions(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    import_id: Uuid,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"WITH mine AS (
             SELECT a.shop_id, a.order_key, a.line_key, (
                 SELECT l.import_id FROM order_lines l JOIN order_imports i
                   ON i.tenant_id = l.tenant_id AND i.id = l.import_id AND i.state = 'imported'
                  WHERE l.tenant_id = a.tenant_id AND l.shop_id = a.shop_id
                    AND l.order_key = a.order_key AND l.line_key = a.line_key
                    AND l.import_id <> $2
                  ORDER BY i.imported_at NULLS LAST, i.created_at LIMIT 1) AS heir
             FROM order_attributions a
             WHERE a.tenant_id = $1 AND a.import_id = $2 AND a.attributed_by <> 'person'),
           gone AS (
             DELETE FROM order_attributions a USING mine m
             WHERE a.tenant_id = $1 AND a.shop_id = m.shop_id AND a.order_key = m.order_key
               AND a.line_key = m.line_key AND m.heir IS NULL
             RETURNING 1),
           kept AS (
             UPDATE order_attributions a SET import_id = m.heir FROM mine m
             WHERE a.tenant_id = $1 AND a.shop_id = m.shop_id AND a.order_key = m.order_key
               AND a.line_key = m.line_key AND m.heir IS NOT NULL
             RETURNING 1)
           SELECT (SELECT count(*) FROM gone) AS "removed!""#,
        tenant_id,
        import_id,
    )
    .fetch_one(conn)
    .await
}
