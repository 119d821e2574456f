//! SQL for tenants and what they own.

use sqlx::{FromRow, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Tenant;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::Db;

#[tracing::instrument(skip(pool), err)]
pub async fn tenant_by_slug(pool: &PgPool, slug: &str) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as::<_, Tenant>(
        "SELECT id, slug, display_name, legal_name, status, time_zone, \
         settlement_currency::text AS settlement_currency FROM tenants WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await
}

/// In a tenant-scoped transaction: the person's role in this tenant.
pub async fn membership_role(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// In a tenant-scoped transaction: whether this account manager is assigned to the tenant.
pub async fn is_assigned(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM am_assignments WHERE tenant_id = $1 AND user_id = $2)",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// The tenants a person can open (memberships, or an account manager's assignments), for the
/// switcher: (slug, display name), by name.
pub async fn tenants_of_user(
    db: &Db,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let table = match user.platform_role {
        None => "memberships",
        Some(PlatformRole::AccountManager) => "am_assignments",
        Some(_) => return Ok(Vec::new()),
    };
    let mut tx = db.user_tx(user.id).await?;
    let rows = sqlx::query_as::<_, (String, String)>(&format!(
        "SELECT t.slug, t.display_name FROM {table} m JOIN tenants t ON t.id = m.tenant_id \
         WHERE m.user_id = $1 ORDER BY t.display_name"
    ))
    .bind(user.id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(FromRow, Debug, Clone)]
pub struct Shop {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub url: String,
    pub time_zone: String,
    pub date_order: String,
    pub currency: String,
}

impl Shop {
    pub fn platform_key(&self) -> String {
        format!("platform.{}", self.platform)
    }

    pub fn date_order_key(&self) -> String {
        format!("date_order.{}", self.date_order)
    }
}

pub async fn shops(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Vec<Shop>, sqlx::Error> {
    sqlx::query_as::<_, Shop>(
        "SELECT id, name, platform, url, time_zone, date_order, currency::text AS currency \
         FROM shops WHERE tenant_id = $1 ORDER BY name",
    )
    .bind(tenant_id)
    .fetch_all(conn)
    .await
}

pub async fn shop(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    shop_id: Uuid,
) -> Result<Option<Shop>, sqlx::Error> {
    sqlx::query_as::<_, Shop>(
        "SELECT id, name, platform, url, time_zone, date_order, currency::text AS currency \
         FROM shops WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(shop_id)
    .fetch_optional(conn)
    .await
}

#[derive(FromRow, Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub created_at: OffsetDateTime,
}

pub async fn members(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as::<_, Member>(
        "SELECT m.user_id, u.display_name, u.email, m.role, m.created_at \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'operator' THEN 1 ELSE 2 END, u.display_name",
    )
    .bind(tenant_id)
    .fetch_all(conn)
    .await
}

#[derive(FromRow, Debug, Clone)]
pub struct AuditRow {
    pub at: OffsetDateTime,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
}

pub async fn audit_entries(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as::<_, AuditRow>(
        "SELECT at, actor_label, action, entity_type, entity_id FROM audit_log \
         WHERE tenant_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}
