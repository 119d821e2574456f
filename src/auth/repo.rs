//! SQL of the auth feature: people (the global `users` table), one-time links and the login
//! throttle's counters.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::links::Purpose;
use super::{CurrentUser, PlatformRole};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    /// Whether they have set a password (an invited person has not yet). The hash itself is
    /// readable only through [`login_candidate`].
    pub has_password: bool,
    pub platform_role: Option<PlatformRole>,
    pub active: bool,
}

impl UserRow {
    pub fn to_current(&self) -> CurrentUser {
        CurrentUser {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            platform_role: self.platform_role,
        }
    }
}

/// The person with this email (any case), active or not; on the pool or in a transaction.
#[tracing::instrument(skip_all, err)]
pub async fn find_by_email<'e>(
    db: impl PgExecutor<'e>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id, email, display_name, has_password AS "has_password!",
         platform_role AS "platform_role: PlatformRole", active FROM users
         WHERE lower(email) = lower($1)"#,
        email.trim(),
    )
    .fetch_optional(db)
    .await
}

/// Whom a password is checked against: the active person with this e-mail and their stored hash
/// (None while they have none).
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub id: Uuid,
    pub password_hash: Option<String>,
}

/// The active person with this e-mail (any case) and their password hash, read through the
/// database's `auth_login_candidate` (SECURITY DEFINER): neither role the app works as may read
/// `users.password_hash` itself.
pub async fn login_candidate<'e>(
    db: impl PgExecutor<'e>,
    email: &str,
) -> Result<Option<LoginCandidate>, sqlx::Error> {
    sqlx::query_as!(
        LoginCandidate,
        r#"SELECT id AS "id!", password_hash FROM auth_login_candidate($1)"#,
        email.trim(),
    )
    .fetch_optional(db)
    .await
}

/// An active person's stored password hash (None: no such active person, or no password yet),
/// read through [`login_candidate`] by their e-mail.
pub async fn password_hash_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    let email = sqlx::query_scalar!("SELECT email FROM users WHERE id = $1", id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(email) = email else {
        return Ok(None);
    };
    let candidate = login_candidate(conn, &email).await?;
    Ok(candidate
        .filter(|c| c.id == id)
        .and_then(|c| c.password_hash))
}

#[tracing::instrument(skip(pool), err)]
pub async fn find_active_by_id(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<CurrentUser>, sqlx::Error> {
    let row = sqlx::query_as!(
        UserRow,
        r#"SELECT id, email, display_name, has_password AS "has_password!",
         platform_role AS "platform_role: PlatformRole", active FROM users
         WHERE id = $1 AND active"#,
        id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.to_current()))
}

/// Sets a person's password hash.
pub async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        id,
        hash,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates a person without a password (invited: they set it through a one-time link).
pub async fn create_invited(
    conn: &mut PgConnection,
    email: &str,
    display_name: &str,
    platform_role: Option<PlatformRole>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO users (id, email, display_name, platform_role) VALUES ($1, $2, $3, $4)",
        id,
        email.trim(),
        display_name.trim(),
        platform_role as Option<PlatformRole>,
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Creates a person, or (same email) updates their name, role and password. Returns the id.
pub async fn upsert(
    conn: &mut PgConnection,
    email: &str,
    display_name: &str,
    password_hash: &str,
    platform_role: Option<PlatformRole>,
) -> Result<Uuid, sqlx::Error> {
    let existing: Option<Uuid> =
        sqlx::query_scalar!("SELECT id FROM users WHERE lower(email) = lower($1)", email)
            .fetch_optional(&mut *conn)
            .await?;
    match existing {
        Some(id) => {
            sqlx::query!(
                "UPDATE users SET display_name = $2, password_hash = $3, platform_role = $4, \
                 active = true, updated_at = now() WHERE id = $1",
                id,
                display_name,
                password_hash,
                platform_role as Option<PlatformRole>,
            )
            .execute(&mut *conn)
            .await?;
            Ok(id)
        }
        None => {
            let id = Uuid::now_v7();
            sqlx::query!(
                "INSERT INTO users (id, email, display_name, password_hash, platform_role) \
                 VALUES ($1, $2, $3, $4, $5)",
                id,
                email.trim(),
                display_name,
                password_hash,
                platform_role as Option<PlatformRole>,
            )
            .execute(&mut *conn)
            .await?;
            Ok(id)
        }
    }
}

// One-time links (see `links` for what they are; only a token's SHA-256 is stored).

/// Stores a link.
pub async fn insert_link(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    purpose: Purpose,
    created_by: Option<Uuid>,
    expires_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO one_time_links (id, token_hash, user_id, tenant_id, purpose, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        Uuid::now_v7(),
        token_hash,
        user_id,
        tenant_id,
        purpose as Purpose,
        created_by,
        expires_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A link that may still be used.
#[derive(Clone, Debug)]
pub struct ValidLink {
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub email: String,
}

/// The link with this token hash if it is unused, unexpired, its person active, and (for a
/// tenant's link) that person still a member of the tenant; a link without a tenant is for staff
/// only.
pub async fn find_valid_link(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<ValidLink>, sqlx::Error> {
    sqlx::query_as!(
        ValidLink,
        "SELECT l.id, l.user_id, l.tenant_id, u.email FROM one_time_links l \
         JOIN users u ON u.id = l.user_id \
         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() AND u.active \
           AND (l.tenant_id IS NULL OR EXISTS (SELECT 1 FROM memberships m \
                 WHERE m.tenant_id = l.tenant_id AND m.user_id = l.user_id)) \
           AND (l.tenant_id IS NOT NULL OR u.platform_role IS NOT NULL)",
        token_hash,
    )
    .fetch_optional(conn)
    .await
}

/// The tenant a self-service link of a seller's member is issued in: their first membership
/// (the link works while they are a member of it). None for someone in no tenant.
pub async fn first_membership(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT tenant_id FROM memberships WHERE user_id = $1 ORDER BY created_at, tenant_id LIMIT 1",
        user_id,
    )
    .fetch_optional(conn)
    .await
}

/// Marks the link used; false if someone used it first.
pub async fn consume_link(conn: &mut PgConnection, link_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE one_time_links SET used_at = now() \
         WHERE id = $1 AND used_at IS NULL AND expires_at > now()",
        link_id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Voids a person's unused links in a tenant (None: their staff links).
pub async fn revoke_links(
    conn: &mut PgConnection,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE one_time_links SET expires_at = now() \
         WHERE user_id = $1 AND tenant_id IS NOT DISTINCT FROM $2 AND used_at IS NULL \
           AND expires_at > now()",
        user_id,
        tenant_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

// The login throttle's counters (see `throttle` for the keys and limits). `failures` counts the
// attempts of the current window, each counted before its password is checked.

/// Counts one login attempt under `key` and answers the seconds left on the key's pause (None:
/// this attempt may be checked). One statement, so parallel attempts on a key are counted one
/// after another on its row: the `limit`+1st attempt within `minutes` pauses the key for
/// `minutes`; an attempt during a pause is refused and not counted; a window older than `minutes`
/// starts again at this attempt.
pub async fn throttle_count_attempt(
    pool: &PgPool,
    key: &str,
    limit: i32,
    minutes: i32,
) -> Result<Option<f64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO login_throttle AS t (key, failures, window_started_at, locked_until)
           VALUES ($1, 1, now(), CASE WHEN 1 > $2 THEN now() + make_interval(mins => $3::int) END)
           ON CONFLICT (key) DO UPDATE SET
             failures = CASE
                 WHEN t.locked_until > now() THEN t.failures
                 WHEN t.window_started_at <= now() - make_interval(mins => $3::int) THEN 1
                 ELSE t.failures + 1 END,
             window_started_at = CASE
                 WHEN t.locked_until > now() THEN t.window_started_at
                 WHEN t.window_started_at <= now() - make_interval(mins => $3::int) THEN now()
                 ELSE t.window_started_at END,
             locked_until = CASE
                 WHEN t.locked_until > now() THEN t.locked_until
                 WHEN t.window_started_at > now() - make_interval(mins => $3::int)
                      AND t.failures + 1 > $2 THEN now() + make_interval(mins => $3::int)
                 END
           RETURNING extract(epoch FROM t.locked_until - now())::float8 AS "seconds_left?""#,
        key,
        limit,
        minutes,
    )
    .fetch_one(pool)
    .await
}

/// Gives back one counted attempt under `key` (it succeeded).
pub async fn throttle_release(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE key = $1",
        key,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets `key`'s attempts.
pub async fn throttle_clear(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM login_throttle WHERE key = $1", key)
        .execute(pool)
        .await?;
    Ok(())
}
