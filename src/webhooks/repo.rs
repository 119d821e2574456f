//! Webhooks' SQL: endpoints, the delivery queue (the worker's claim too) and the attempts.

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// An endpoint as the settings page lists it (never its secret).
#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub format: String,
    pub events: Vec<String>,
    pub lang: String,
    pub has_secret: bool,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
    pub pending: i64,
    pub failed: i64,
}

pub async fn endpoints(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as!(
        EndpointRow,
        r#"SELECT e.id, e.url, e.format, e.events, e.lang, e.secret IS NOT NULL AS "has_secret!",
                  u.email AS "created_by?", e.created_at, e.disabled_at,
                  (SELECT count(*) FROM webhook_deliveries d
                    WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id
                      AND d.state = 'pending') AS "pending!",
                  (SELECT count(*) FROM webhook_deliveries d
                    WHERE d.tenant_id = e.tenant_id AND d.endpoint_id = e.id
                      AND d.state = 'failed') AS "failed!"
             FROM webhook_endpoints e LEFT JOIN users u ON u.id = e.created_by
            WHERE e.tenant_id = $1
            ORDER BY e.disabled_at IS NOT NULL, e.created_at DESC"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

/// One of the tenant's endpoints (another tenant's: None).
pub async fn endpoint(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as!(
        EndpointRow,
        r#"SELECT e.id, e.url, e.format, e.events, e.lang, e.secret IS NOT NULL AS "has_secret!",
                  u.email AS "created_by?", e.created_at, e.disabled_at,
                  0::bigint AS "pending!", 0::bigint AS "failed!"
             FROM webhook_endpoints e LEFT JOIN users u ON u.id = e.created_by
            WHERE e.tenant_id = $1 AND e.id = $2"#,
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A new endpoint as stored.
pub struct NewEndpoint<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub url: &'a str,
    pub format: &'a str,
    pub secret: Option<&'a str>,
    pub events: Vec<String>,
    pub lang: &'a str,
    pub link_origin: &'a str,
    pub created_by: Option<Uuid>,
}

pub async fn insert_endpoint(conn: &mut PgConnection, e: &NewEndpoint<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO webhook_endpoints \
           (tenant_id, id, url, format, secret, events, lang, link_origin, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        e.tenant_id,
        e.id,
        e.url,
        e.format,
        e.secret,
        &e.events,
        e.lang,
        e.link_origin,
        e.created_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Switches an endpoint off (what waits for it fails: the owner turned it off) or on again;
/// false when the tenant has no such endpoint or it already is so.
pub async fn set_active(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    active: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE webhook_endpoints \
            SET disabled_at = CASE WHEN $3 THEN NULL ELSE clock_timestamp() END \
          WHERE tenant_id = $1 AND id = $2 AND (disabled_at IS NULL) <> $3",
        tenant,
        id,
        active,
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 && !active {
        sqlx::query!(
            "UPDATE webhook_deliveries \
                SET state = 'failed', next_attempt_at = NULL, last_error = 'endpoint disabled' \
              WHERE tenant_id = $1 AND endpoint_id = $2 AND state = 'pending'",
            tenant,
            id,
        )
        .execute(conn)
        .await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Deletes an endpoint with its deliveries and their attempts; false when there is none.
pub async fn delete_endpoint(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An endpoint an event goes to: its id and the origin of its links.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub id: Uuid,
    pub link_origin: String,
}

/// The tenant's switched-on endpoints that want `event` (every switched-on one for `ping`
/// when `only` names it).
pub async fn subscribers(
    conn: &mut PgConnection,
    tenant: Uuid,
    event: &str,
    only: Option<Uuid>,
) -> sqlx::Result<Vec<Subscriber>> {
    sqlx::query_as!(
        Subscriber,
        "SELECT id, link_origin FROM webhook_endpoints \
          WHERE tenant_id = $1 AND disabled_at IS NULL \
            AND ($3::uuid IS NULL AND $2 = ANY (events) OR id = $3) \
          ORDER BY id",
        tenant,
        event,
        only,
    )
    .fetch_all(conn)
    .await
}

pub async fn tenant_slug(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = $1", tenant)
        .fetch_optional(conn)
        .await
}

/// A campaign's title and code, for the message.
pub async fn campaign_title(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT title FROM campaigns WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Creators' handles by id.
pub async fn creator_handles(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!("SELECT id, handle FROM creators WHERE id = ANY ($1)", ids)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.handle)).collect())
}

/// A collaboration's campaign and creator.
pub async fn collaboration_parts(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(Uuid, Uuid)>> {
    let row = sqlx::query!(
        "SELECT campaign_id, creator_id FROM collaborations WHERE tenant_id = $1 AND id = $2",
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.campaign_id, r.creator_id)))
}

/// A delivery queued (due at once).
pub struct NewDelivery<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event: &'a str,
    pub event_id: Uuid,
    pub payload: &'a Value,
}

pub async fn insert_delivery(conn: &mut PgConnection, d: &NewDelivery<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO webhook_deliveries \
           (tenant_id, id, endpoint_id, event, event_id, payload, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now())",
        d.tenant_id,
        d.id,
        d.endpoint_id,
        d.event,
        d.event_id,
        d.payload,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A delivery as the log lists it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub event: String,
    pub event_id: Uuid,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
}

/// An endpoint's last `limit` deliveries, newest first.
pub async fn deliveries(
    conn: &mut PgConnection,
    tenant: Uuid,
    endpoint: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as!(
        DeliveryRow,
        "SELECT id, event, event_id, state, attempts, next_attempt_at, last_status, last_error, \
                created_at, delivered_at \
           FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 \
          ORDER BY created_at DESC, id DESC LIMIT $3",
        tenant,
        endpoint,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// One try, as the log lists it.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub at: OffsetDateTime,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// The tries of these deliveries, in order.
pub async fn attempts(
    conn: &mut PgConnection,
    tenant: Uuid,
    deliveries: &[Uuid],
) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as!(
        AttemptRow,
        "SELECT delivery_id, attempt, at, status, error, duration_ms FROM webhook_attempts \
          WHERE tenant_id = $1 AND delivery_id = ANY ($2) ORDER BY delivery_id, attempt",
        tenant,
        deliveries,
    )
    .fetch_all(conn)
    .await
}

/// A delivery the worker took, with where and how to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub event: String,
    pub payload: Value,
    pub attempts: i32,
    pub url: String,
    pub format: String,
    pub secret: Option<String>,
    pub lang: String,
    pub link_origin: String,
}

/// Takes up to `limit` deliveries due at `now` (system scope: every tenant's), pushing each one's
/// next try to `lease_until` so no other worker takes it while this one sends; rows another
/// worker holds locked are skipped, never waited for.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    sqlx::query_as!(
        Claimed,
        r#"WITH due AS (
             SELECT tenant_id, id FROM webhook_deliveries
              WHERE state = 'pending' AND next_attempt_at <= $1
              ORDER BY next_attempt_at LIMIT $3
              FOR UPDATE SKIP LOCKED)
           UPDATE webhook_deliveries d SET next_attempt_at = $2
             FROM due, webhook_endpoints e
            WHERE d.tenant_id = due.tenant_id AND d.id = due.id
              AND e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
           RETURNING d.tenant_id, d.id, d.event, d.payload, d.attempts, e.url, e.format,
                     e.secret, e.lang, e.link_origin"#,
        now,
        lease_until,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// What one try came to.
pub struct TryOutcome {
    pub tenant_id: Uuid,
    pub delivery_id: Uuid,
    /// 1 for the first try.
    pub attempt: i32,
    pub at: OffsetDateTime,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    /// `delivered`, `pending` (tried again at `next_attempt_at`) or `failed`.
    pub state: &'static str,
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// Logs the try and moves the delivery on.
pub async fn record_try(conn: &mut PgConnection, o: &TryOutcome) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO webhook_attempts \
           (tenant_id, id, delivery_id, attempt, at, status, error, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, delivery_id, attempt) DO NOTHING",
        o.tenant_id,
        Uuid::now_v7(),
        o.delivery_id,
        o.attempt,
        o.at,
        o.status,
        o.error.as_deref(),
        o.duration_ms,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE webhook_deliveries \
            SET attempts = $3, state = $4, next_attempt_at = $5, last_status = $6, \
                last_error = $7, \
                delivered_at = CASE WHEN $4 = 'delivered' THEN $8::timestamptz END \
          WHERE tenant_id = $1 AND id = $2 AND state = 'pending'",
        o.tenant_id,
        o.delivery_id,
        o.attempt,
        o.state,
        o.next_attempt_at,
        o.status,
        o.error.as_deref(),
        o.at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A shortlist entry's creator.
pub async fn entry_creator(
    conn: &mut PgConnection,
    tenant: Uuid,
    entry: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "SELECT creator_id FROM shortlist_entries WHERE tenant_id = $1 AND id = $2",
        tenant,
        entry,
    )
    .fetch_optional(conn)
    .await
}
