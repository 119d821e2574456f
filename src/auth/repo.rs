//! SQL for people (the global `users` table).

use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use super::{CurrentUser, PlatformRole};

#[derive(FromRow, Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub platform_role: Option<String>,
    pub active: bool,
}

impl UserRow {
    pub fn to_current(&self) -> CurrentUser {
        CurrentUser {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            platform_role: self.platform_role.as_deref().and_then(PlatformRole::parse),
        }
    }
}

#[tracing::instrument(skip_all, err)]
pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(
        "SELECT id, email, display_name, password_hash, platform_role, active FROM users \
         WHERE lower(email) = lower($1)",
    )
    .bind(email.trim())
    .fetch_optional(pool)
    .await
}

#[tracing::instrument(skip(pool), err)]
pub async fn find_active_by_id(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<CurrentUser>, sqlx::Error> {
    let row = sqlx::query_as::<_, UserRow>(
        "SELECT id, email, display_name, password_hash, platform_role, active FROM users \
         WHERE id = $1 AND active",
    )
    .bind(id)
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
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
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
    sqlx::query(
        "INSERT INTO users (id, email, display_name, platform_role) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(email.trim())
    .bind(display_name.trim())
    .bind(platform_role.map(PlatformRole::as_str))
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
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE users SET display_name = $2, password_hash = $3, platform_role = $4, \
                 active = true, updated_at = now() WHERE id = $1",
            )
            .bind(id)
            .bind(display_name)
            .bind(password_hash)
            .bind(platform_role.map(PlatformRole::as_str))
            .execute(&mut *conn)
            .await?;
            Ok(id)
        }
        None => {
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO users (id, email, display_name, password_hash, platform_role) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(email.trim())
            .bind(display_name)
            .bind(password_hash)
            .bind(platform_role.map(PlatformRole::as_str))
            .execute(&mut *conn)
            .await?;
            Ok(id)
        }
    }
}
