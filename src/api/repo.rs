//! API tokens' SQL.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A token as the settings page lists it (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub scope: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

pub async fn tokens(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT t.id, t.name, t.scope, t.prefix, u.email AS created_by, t.created_at,
                  t.last_used_at, t.revoked_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.tenant_id = $1
            ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

/// A new token as stored.
pub struct NewTokenRow<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: &'a str,
    pub scope: &'a str,
    pub hash: &'a [u8],
    pub prefix: &'a str,
}

pub async fn insert(conn: &mut PgConnection, t: &NewTokenRow<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, scope, token_hash, prefix) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        t.tenant_id,
        t.id,
        t.user_id,
        t.name,
        t.scope,
        t.hash,
        t.prefix,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a live token; false when there is none with this id (or it was revoked already).
pub async fn revoke(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    by: Option<Uuid>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = clock_timestamp(), revoked_by = $3 \
          WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        tenant,
        id,
        by,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A presented token found by its hash (in the token lookup's system scope).
#[derive(Debug, Clone)]
pub struct Presented {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub user_id: Uuid,
    pub scope: String,
    pub revoked: bool,
}

pub async fn by_hash(conn: &mut PgConnection, hash: &[u8]) -> sqlx::Result<Option<Presented>> {
    sqlx::query_as!(
        Presented,
        r#"SELECT tenant_id, id, user_id, scope, revoked_at IS NOT NULL AS "revoked!"
             FROM api_tokens WHERE token_hash = $1"#,
        hash,
    )
    .fetch_optional(conn)
    .await
}

/// Marks the token used now (at most once a minute, so reads do not all write).
pub async fn touch(conn: &mut PgConnection, tenant: Uuid, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = clock_timestamp() \
          WHERE tenant_id = $1 AND id = $2 \
            AND (last_used_at IS NULL OR last_used_at < clock_timestamp() - interval '1 minute')",
        tenant,
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A tenant's slug by id.
pub async fn tenant_slug(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT slug FROM tenants WHERE id = $1", tenant)
        .fetch_optional(conn)
        .await
}
