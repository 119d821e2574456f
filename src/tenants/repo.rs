//! SQL for tenants and what they own.

use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Tenant;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::Db;

/// The tenant with this slug; on the pool or in a transaction (tenants are not tenant-owned rows).
#[tracing::instrument(skip(db), err)]
pub async fn tenant_by_slug<'e>(
    db: impl PgExecutor<'e>,
    slug: &str,
) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as::<_, Tenant>(
        "SELECT id, slug, display_name, legal_name, status, time_zone, \
         settlement_currency::text AS settlement_currency, profile_completed_at, status_reason \
         FROM tenants WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(db)
    .await
}

/// A new seller, awaiting the agency's approval.
pub async fn insert_pending_tenant(
    conn: &mut PgConnection,
    id: Uuid,
    slug: &str,
    display_name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, status) VALUES ($1, $2, $3, 'pending')",
    )
    .bind(id)
    .bind(slug)
    .bind(display_name)
    .execute(conn)
    .await?;
    Ok(())
}

/// A tenant by slug with a person's access there, in one statement that holds no transaction
/// (see the `tenant_access` function's migration).
pub struct TenantAccess {
    pub tenant: Tenant,
    pub member_role: Option<String>,
    pub assigned: bool,
}

pub async fn tenant_access(
    pool: &PgPool,
    slug: &str,
    user_id: Uuid,
) -> Result<Option<TenantAccess>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        tenant: Tenant,
        member_role: Option<String>,
        assigned: bool,
    }
    let row = sqlx::query_as::<_, Row>("SELECT * FROM tenant_access($1, $2)")
        .bind(slug)
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| TenantAccess {
        tenant: r.tenant,
        member_role: r.member_role,
        assigned: r.assigned,
    }))
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
    pub has_password: bool,
}

pub async fn members(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as::<_, Member>(
        "SELECT m.user_id, u.display_name, u.email, m.role, m.created_at, \
         u.password_hash IS NOT NULL AS has_password \
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

/// The company profile as stored.
#[derive(FromRow, Debug, Clone)]
pub struct TenantProfile {
    pub legal_name: Option<String>,
    pub business_licence_no: Option<String>,
    pub main_categories: Vec<String>,
    pub target_markets: Vec<String>,
    pub fee_model: String,
    pub service_fee_rate: rust_decimal::Decimal,
    pub settlement_currency: String,
    pub time_zone: String,
}

pub async fn profile(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<TenantProfile, sqlx::Error> {
    sqlx::query_as::<_, TenantProfile>(
        "SELECT legal_name, business_licence_no, main_categories, target_markets, fee_model, \
         service_fee_rate, settlement_currency::text AS settlement_currency, time_zone \
         FROM tenants WHERE id = $1",
    )
    .bind(tenant_id)
    .fetch_one(conn)
    .await
}

/// Saves a validated profile and marks it complete.
pub async fn save_profile(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    p: &super::domain::Profile,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tenants SET legal_name = $2, business_licence_no = $3, main_categories = $4, \
         target_markets = $5, fee_model = $6, service_fee_rate = $7, settlement_currency = $8, \
         time_zone = $9, profile_completed_at = coalesce(profile_completed_at, now()), \
         updated_at = now() WHERE id = $1",
    )
    .bind(tenant_id)
    .bind(&p.legal_name)
    .bind(&p.licence)
    .bind(&p.categories)
    .bind(&p.markets)
    .bind(&p.fee_model)
    .bind(p.service_fee_rate)
    .bind(&p.settlement_currency)
    .bind(&p.time_zone)
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates a shop, or updates the tenant's existing one. Ok(false): no such shop in this tenant.
pub async fn save_shop(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    shop: &super::domain::ShopProfile,
) -> Result<bool, sqlx::Error> {
    let done = match shop.id {
        Some(id) => {
            sqlx::query(
                "UPDATE shops SET name = $3, platform = $4, url = $5, time_zone = $6, \
                 date_order = $7, currency = $8 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
        }
        None => sqlx::query(
            "INSERT INTO shops (tenant_id, id, name, platform, url, time_zone, date_order, currency) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant_id)
        .bind(Uuid::now_v7()),
    }
    .bind(&shop.name)
    .bind(&shop.platform)
    .bind(&shop.url)
    .bind(&shop.time_zone)
    .bind(&shop.date_order)
    .bind(&shop.currency)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the tenant's shop. Ok(false): no such shop in this tenant.
pub async fn remove_shop(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM shops WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// One member of the tenant, or None (not a member here — maybe of another tenant).
pub async fn member(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query_as::<_, Member>(
        "SELECT m.user_id, u.display_name, u.email, m.role, m.created_at, \
         u.password_hash IS NOT NULL AS has_password \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

pub async fn add_member(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(tenant_id)
        .bind(user_id)
        .bind(role)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the tenant's owner rows for this transaction and counts them.
pub async fn lock_owners(conn: &mut PgConnection, tenant_id: Uuid) -> Result<i64, sqlx::Error> {
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner' FOR UPDATE",
    )
    .bind(tenant_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.len() as i64)
}

pub async fn set_member_role(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .bind(role)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove_member(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many other tenants the person belongs to (a check across tenants, so a system scope).
pub async fn other_memberships(
    db: &Db,
    user_id: Uuid,
    tenant_id: Uuid,
) -> Result<i64, sqlx::Error> {
    let mut tx = db.system_tx(crate::db::SystemScope::Auth).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships WHERE user_id = $1 AND tenant_id <> $2",
    )
    .bind(user_id)
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}
