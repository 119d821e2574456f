//! SQL for order imports, their errors and attributions (tenant-scoped transactions).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::storage::StoredObject;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShopOption {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub time_zone: String,
}

pub async fn shops(conn: &mut PgConnection) -> sqlx::Result<Vec<ShopOption>> {
    sqlx::query_as("SELECT id, name, platform, time_zone FROM shops ORDER BY name")
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRow {
    pub id: Uuid,
    pub shop_name: String,
    pub filename: String,
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub state: String,
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
}

const IMPORT_SELECT: &str = "SELECT i.id, s.name AS shop_name, u.filename, i.format, i.encoding, \
       i.state, i.exported_at, i.created_at, i.rows_total, i.rows_good, i.rows_rejected, \
       i.duplicate_rows, i.bytes_total, i.bytes_done, i.failure, i.failure_detail, \
       p.display_name AS created_by \
     FROM order_imports i \
     JOIN shops s ON s.tenant_id = i.tenant_id AND s.id = i.shop_id \
     JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
     LEFT JOIN users p ON p.id = i.created_by";

pub async fn recent_imports(conn: &mut PgConnection) -> sqlx::Result<Vec<ImportRow>> {
    sqlx::query_as(&format!(
        "{IMPORT_SELECT} ORDER BY i.created_at DESC LIMIT 50"
    ))
    .fetch_all(conn)
    .await
}

pub async fn import(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ImportRow>> {
    sqlx::query_as(&format!("{IMPORT_SELECT} WHERE i.id = $1"))
        .bind(id)
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
    pub by: Option<Uuid>,
}

/// Records the stored file and queues its validation run; returns the import's id.
pub async fn create_import(conn: &mut PgConnection, new: &NewImport<'_>) -> sqlx::Result<Uuid> {
    sqlx::query(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, content_type, bytes, sha256, \
           storage_key, uploaded_by) VALUES ($1, $2, 'orders', $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.tenant_id)
    .bind(new.upload_id)
    .bind(new.filename)
    .bind(new.content_type)
    .bind(new.stored.bytes as i64)
    .bind(&new.stored.sha256)
    .bind(&new.stored.key)
    .bind(new.by)
    .execute(&mut *conn)
    .await?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, format, exported_at, \
           bytes_total, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.tenant_id)
    .bind(id)
    .bind(new.shop_id)
    .bind(new.upload_id)
    .bind(new.format)
    .bind(new.exported_at)
    .bind(new.stored.bytes as i64)
    .bind(new.by)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Moves an import from one state to another; false when it was not in `from`.
pub async fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    from: &str,
    to: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE order_imports SET state = $3, job_worker = NULL, job_heartbeat_at = NULL, \
           job_attempts = 0, undone_at = CASE WHEN $3 = 'undone' THEN now() END, \
           updated_at = now() \
         WHERE id = $1 AND state = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn clear_staging(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM order_import_staging WHERE import_id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
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
    sqlx::query_as(
        "SELECT seq, line, column_name, value, problem, detail FROM order_import_errors \
         WHERE import_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(import_id)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn error_count(conn: &mut PgConnection, import_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM order_import_errors WHERE import_id = $1")
        .bind(import_id)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
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

/// Current order lines nobody is credited with: lines of imported batches without an
/// attribution and with no line of the same key from a later export (the rule of
/// `orders_current`). Walked newest first along `order_lines_placed_idx`, each line checked by
/// index lookups, so a page costs its own rows, not a ranking of every line of the tenant.
const UNATTRIBUTED_WHERE: &str = "\
   WHERE l.tenant_id = $1 \
     AND NOT EXISTS (SELECT 1 FROM order_attributions a WHERE a.tenant_id = l.tenant_id \
           AND a.shop_id = l.shop_id AND a.order_key = l.order_key AND a.line_key = l.line_key) \
     AND NOT EXISTS (SELECT 1 FROM order_lines n JOIN order_imports j ON j.tenant_id = n.tenant_id \
           AND j.id = n.import_id AND j.state = 'imported' \
           WHERE n.tenant_id = l.tenant_id AND n.shop_id = l.shop_id AND n.order_key = l.order_key \
             AND n.line_key = l.line_key \
             AND (n.exported_at, j.created_at, j.id) > (l.exported_at, i.created_at, i.id))";

/// Only lines of batches that are imported (not undone, cancelled or still running) count.
const IMPORTED: &str = "JOIN order_imports i ON i.tenant_id = l.tenant_id AND i.id = l.import_id \
    AND i.state = 'imported'";

/// One page of the unattributed lines, newest first.
pub async fn unattributed(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    offset: i64,
    limit: i64,
) -> sqlx::Result<Vec<UnattributedRow>> {
    sqlx::query_as(&format!(
        "SELECT l.shop_id, s.name AS shop_name, l.order_key, l.line_key, l.placed_at, \
           l.currency::text AS currency, l.amount, l.creator_username, l.discount_code, \
           l.product_name \
         FROM order_lines l {IMPORTED} \
         JOIN shops s ON s.tenant_id = l.tenant_id AND s.id = l.shop_id \
         {UNATTRIBUTED_WHERE} \
         ORDER BY l.placed_at DESC, l.order_key, l.line_key LIMIT $2 OFFSET $3"
    ))
    .bind(tenant_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await
}

/// How many lines are unattributed, counted up to `cap + 1` (past the cap, "more than cap").
pub async fn unattributed_count(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    cap: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM (SELECT 1 FROM order_lines l {IMPORTED} {UNATTRIBUTED_WHERE} LIMIT $2) x"
    ))
    .bind(tenant_id)
    .bind(cap + 1)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollaborationOption {
    pub id: Uuid,
    pub label: String,
}

pub async fn collaborations(conn: &mut PgConnection) -> sqlx::Result<Vec<CollaborationOption>> {
    sqlx::query_as(
        "SELECT c.id, coalesce(k.code, k.title) || ' · @' || cr.handle || ' · ' || c.discount_code \
           AS label \
         FROM collaborations c JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id \
         JOIN creators cr ON cr.id = c.creator_id \
         WHERE c.state NOT IN ('proposed', 'cancelled') ORDER BY label",
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
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM orders_current WHERE shop_id = $1 AND order_key = $2 \
           AND line_key = $3)",
    )
    .bind(shop_id)
    .bind(order_key)
    .bind(line_key)
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
    user: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    let before: Option<Uuid> = sqlx::query_scalar(
        "SELECT collaboration_id FROM order_attributions WHERE shop_id = $1 AND order_key = $2 \
           AND line_key = $3",
    )
    .bind(shop_id)
    .bind(order_key)
    .bind(line_key)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by, attributed_user) \
         VALUES ($1, $2, $3, $4, $5, 'person', $6) \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO UPDATE SET \
           collaboration_id = EXCLUDED.collaboration_id, attributed_by = 'person', \
           attributed_user = EXCLUDED.attributed_user, attributed_at = now()",
    )
    .bind(tenant_id)
    .bind(shop_id)
    .bind(order_key)
    .bind(line_key)
    .bind(collaboration_id)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(before)
}
