//! SQL for tenants and what they own.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Tenant;
use super::domain::{MemberRole, TenantStatus};
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::Db;
use crate::kernel::Currency;

/// The tenant with this slug; on the pool or in a transaction (tenants are not tenant-owned rows).
#[tracing::instrument(skip(db), err)]
pub async fn tenant_by_slug<'e>(
    db: impl PgExecutor<'e>,
    slug: &str,
) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as!(
        Tenant,
        r#"SELECT id, slug, display_name, legal_name, status AS "status: TenantStatus", time_zone,
         settlement_currency::text AS "settlement_currency!", profile_completed_at, status_reason
         FROM tenants WHERE slug = $1"#,
        slug,
    )
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
    sqlx::query!(
        "INSERT INTO tenants (id, slug, display_name, status) VALUES ($1, $2, $3, 'pending')",
        id,
        slug,
        display_name,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A tenant by slug with a person's access there, in one statement that holds no transaction
/// (see the `tenant_access` function's migration).
pub struct TenantAccess {
    pub tenant: Tenant,
    pub member_role: Option<MemberRole>,
    pub assigned: bool,
}

impl TenantAccess {
    /// What a person with `platform_role` may do here: an account manager assigned to the
    /// tenant works as its account manager; other staff have no access inside a tenant; anyone
    /// else by their membership.
    pub fn access_for(&self, platform_role: Option<PlatformRole>) -> Option<super::Access> {
        match platform_role {
            Some(PlatformRole::AccountManager) => {
                self.assigned.then_some(super::Access::AccountManager)
            }
            Some(_) => None,
            None => self.member_role.map(|r| r.access()),
        }
    }
}

pub async fn tenant_access(
    pool: &PgPool,
    slug: &str,
    user_id: Uuid,
) -> Result<Option<TenantAccess>, sqlx::Error> {
    // The function's columns carry no NOT NULL, so the ones its tenants row always has say so.
    let row = sqlx::query!(
        r#"SELECT id AS "id!", slug AS "slug!", display_name AS "display_name!", legal_name,
         status AS "status!: TenantStatus", time_zone AS "time_zone!",
         settlement_currency AS "settlement_currency!", profile_completed_at, status_reason,
         member_role AS "member_role: MemberRole", assigned AS "assigned!"
         FROM tenant_access($1, $2)"#,
        slug,
        user_id,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| TenantAccess {
        tenant: Tenant {
            id: r.id,
            slug: r.slug,
            display_name: r.display_name,
            legal_name: r.legal_name,
            status: r.status,
            time_zone: r.time_zone,
            settlement_currency: r.settlement_currency,
            profile_completed_at: r.profile_completed_at,
            status_reason: r.status_reason,
        },
        member_role: r.member_role,
        assigned: r.assigned,
    }))
}

/// In a tenant-scoped transaction: the person's role in this tenant.
pub async fn membership_role(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<Option<MemberRole>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT role AS "role: MemberRole" FROM memberships WHERE tenant_id = $1 AND user_id = $2"#,
        tenant_id,
        user_id,
    )
    .fetch_optional(conn)
    .await
}

/// In a tenant-scoped transaction: whether this account manager is assigned to the tenant.
pub async fn is_assigned(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM am_assignments WHERE tenant_id = $1 AND user_id = $2) AS "assigned!""#,
        tenant_id,
        user_id,
    )
    .fetch_one(conn)
    .await
}

/// The tenants a person can open (memberships, or an account manager's assignments), for the
/// switcher: (slug, display name), by name.
pub async fn tenants_of_user(
    db: &Db,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut tx = db.user_tx(user.id).await?;
    let rows = match user.platform_role {
        None => {
            sqlx::query!(
                "SELECT t.slug, t.display_name FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
                 WHERE m.user_id = $1 ORDER BY t.display_name",
                user.id,
            )
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (r.slug, r.display_name))
            .collect()
        }
        Some(PlatformRole::AccountManager) => sqlx::query!(
            "SELECT t.slug, t.display_name FROM am_assignments m JOIN tenants t ON t.id = m.tenant_id \
             WHERE m.user_id = $1 ORDER BY t.display_name",
            user.id,
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.slug, r.display_name))
        .collect(),
        Some(_) => Vec::new(),
    };
    tx.commit().await?;
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct Shop {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub url: String,
    pub time_zone: String,
    pub date_order: String,
    pub currency: Currency,
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
    sqlx::query_as!(
        Shop,
        r#"SELECT id, name, platform, url, time_zone, date_order, currency::text AS "currency!: Currency"
         FROM shops WHERE tenant_id = $1 ORDER BY name"#,
        tenant_id,
    )
    .fetch_all(conn)
    .await
}

pub async fn shop(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    shop_id: Uuid,
) -> Result<Option<Shop>, sqlx::Error> {
    sqlx::query_as!(
        Shop,
        r#"SELECT id, name, platform, url, time_zone, date_order, currency::text AS "currency!: Currency"
         FROM shops WHERE tenant_id = $1 AND id = $2"#,
        tenant_id,
        shop_id,
    )
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub role: MemberRole,
    pub created_at: OffsetDateTime,
    pub has_password: bool,
}

pub async fn members(conn: &mut PgConnection, tenant_id: Uuid) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as!(
        Member,
        r#"SELECT m.user_id, u.display_name, u.email, m.role AS "role: MemberRole", m.created_at,
         u.has_password AS "has_password!"
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.tenant_id = $1
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'operator' THEN 1 ELSE 2 END, u.display_name"#,
        tenant_id,
    )
    .fetch_all(conn)
    .await
}

/// The company profile as stored.
#[derive(Debug, Clone)]
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
    sqlx::query_as!(
        TenantProfile,
        r#"SELECT legal_name, business_licence_no, main_categories, target_markets, fee_model,
         service_fee_rate, settlement_currency::text AS "settlement_currency!", time_zone
         FROM tenants WHERE id = $1"#,
        tenant_id,
    )
    .fetch_one(conn)
    .await
}

/// Saves a validated profile and marks it complete.
pub async fn save_profile(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    p: &super::domain::Profile,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE tenants SET legal_name = $2, business_licence_no = $3, main_categories = $4, \
         target_markets = $5, fee_model = $6, service_fee_rate = $7, settlement_currency = $8, \
         time_zone = $9, profile_completed_at = coalesce(profile_completed_at, now()), \
         updated_at = now() WHERE id = $1",
        tenant_id,
        p.legal_name,
        p.licence,
        &p.categories,
        &p.markets,
        p.fee_model,
        p.service_fee_rate,
        p.settlement_currency,
        p.time_zone,
    )
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
            sqlx::query!(
                "UPDATE shops SET name = $3, platform = $4, url = $5, time_zone = $6, \
                 date_order = $7, currency = $8 WHERE tenant_id = $1 AND id = $2",
                tenant_id,
                id,
                shop.name,
                shop.platform,
                shop.url,
                shop.time_zone,
                shop.date_order,
                shop.currency.code() as &str,
            )
            .execute(conn)
            .await?
        }
        None => {
            sqlx::query!(
                "INSERT INTO shops (tenant_id, id, name, platform, url, time_zone, date_order, currency) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                tenant_id,
                Uuid::now_v7(),
                shop.name,
                shop.platform,
                shop.url,
                shop.time_zone,
                shop.date_order,
                shop.currency.code() as &str,
            )
            .execute(conn)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Removes the tenant's shop. Ok(false): no such shop in this tenant.
pub async fn remove_shop(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM shops WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        id,
    )
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
    sqlx::query_as!(
        Member,
        r#"SELECT m.user_id, u.display_name, u.email, m.role AS "role: MemberRole", m.created_at,
         u.has_password AS "has_password!"
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.tenant_id = $1 AND m.user_id = $2"#,
        tenant_id,
        user_id,
    )
    .fetch_optional(conn)
    .await
}

pub async fn add_member(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: MemberRole,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)",
        tenant_id,
        user_id,
        role as MemberRole,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the tenant's owner rows for this transaction and counts them.
pub async fn lock_owners(conn: &mut PgConnection, tenant_id: Uuid) -> Result<i64, sqlx::Error> {
    let rows: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner' FOR UPDATE",
        tenant_id,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.len() as i64)
}

pub async fn set_member_role(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    role: MemberRole,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2",
        tenant_id,
        user_id,
        role as MemberRole,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_member(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2",
        tenant_id,
        user_id,
    )
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
    let n: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM memberships WHERE user_id = $1 AND tenant_id <> $2"#,
        user_id,
        tenant_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}
