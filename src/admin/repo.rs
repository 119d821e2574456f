//! SQL of the admin consoles: the tenants across the platform (read and changed in a staff
//! cross-tenant scope), staff accounts (platform rows of `users`), account-manager assignments,
//! and the account manager's work queue (read per tenant, RLS on).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::PlatformRole;
use crate::tenants::domain::TenantStatus;
use crate::web::fmt;

/// One tenant on the admin console and the finance home.
#[derive(Clone)]
pub struct TenantSummary {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: TenantStatus,
    pub settlement_currency: String,
    pub members: i64,
    pub shops: i64,
}

impl TenantSummary {
    pub fn status_key(&self) -> &'static str {
        self.status.label_key()
    }
}

/// Every tenant, by name (a staff cross-tenant scope).
pub async fn all_tenants(conn: &mut PgConnection) -> Result<Vec<TenantSummary>, sqlx::Error> {
    sqlx::query_as!(
        TenantSummary,
        r#"SELECT t.id, t.slug, t.display_name, t.status AS "status: TenantStatus",
           t.settlement_currency::text AS "settlement_currency!",
           (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id) AS "members!",
           (SELECT count(*) FROM shops s WHERE s.tenant_id = t.id) AS "shops!"
         FROM tenants t ORDER BY t.display_name"#,
    )
    .fetch_all(conn)
    .await
}

/// One thing waiting on the account manager.
#[derive(sqlx::FromRow)]
pub struct QueueRow {
    pub kind: String,
    pub since: time::OffsetDateTime,
    pub campaign_id: Uuid,
    pub target_id: Uuid,
    pub title: String,
}

/// What waits on the account manager in one tenant: requests to start, shortlists to send,
/// terms to set up, samples to ship — each with the time it has been waiting since.
const QUEUE_SQL: &str = "\
    SELECT 'start_matching' AS kind, coalesce(c.submitted_at, c.created_at) AS since, c.id AS campaign_id, \
           c.id AS target_id, coalesce(c.code, '') || ' ' || c.title AS title \
      FROM campaigns c WHERE c.tenant_id = $1 AND c.state = 'submitted' \
    UNION ALL \
    SELECT 'send_shortlist', (SELECT max(t.at) FROM campaign_transitions t WHERE t.tenant_id = c.tenant_id \
           AND t.campaign_id = c.id), c.id, c.id, coalesce(c.code, '') || ' ' || c.title \
      FROM campaigns c WHERE c.tenant_id = $1 AND c.state = 'matching' \
    UNION ALL \
    SELECT 'set_up_terms', e.decided_at, e.campaign_id, e.id, '@' || cr.handle || ' · ' || coalesce(c.code, '') \
      FROM shortlist_entries e JOIN creators cr ON cr.id = e.creator_id \
      JOIN campaigns c ON c.tenant_id = e.tenant_id AND c.id = e.campaign_id \
      WHERE e.tenant_id = $1 AND e.decision = 'approved' AND c.state NOT IN ('cancelled', 'closed') \
        AND NOT EXISTS (SELECT 1 FROM collaborations l WHERE l.tenant_id = e.tenant_id \
              AND l.campaign_id = e.campaign_id AND l.creator_id = e.creator_id) \
    UNION ALL \
    SELECT 'ship_sample', l.updated_at, l.campaign_id, l.id, '@' || cr.handle || ' · ' || coalesce(c.code, '') \
      FROM collaborations l JOIN creators cr ON cr.id = l.creator_id \
      JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id \
      WHERE l.tenant_id = $1 AND l.state = 'accepted' AND coalesce((c.data->>'sample_needed')::boolean, false)";

/// The work queue of one tenant (in its tenant scope), with the imports needing attention.
pub async fn work_queue(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<QueueRow>, sqlx::Error> {
    let sql = format!(
        "{QUEUE_SQL} UNION ALL {}",
        crate::tracking::posts::repo::QUEUE_SQL
    );
    // dynamic: the import half of the queue is `performance::repo::QUEUE_SQL`, a shared string
    // (a macro takes only a literal), so the union is put together here.
    sqlx::query_as::<_, QueueRow>(&sql)
        .bind(tenant_id)
        .fetch_all(conn)
        .await
}

// Staff accounts.

#[derive(Clone)]
pub struct StaffMember {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub platform_role: PlatformRole,
    pub active: bool,
    pub has_password: bool,
}

impl StaffMember {
    pub fn role_key(&self) -> &'static str {
        self.platform_role.label_key()
    }
}

/// Every staff account: active first, by role and name.
pub async fn all_staff(conn: &mut PgConnection) -> Result<Vec<StaffMember>, sqlx::Error> {
    sqlx::query_as!(
        StaffMember,
        r#"SELECT id, display_name, email, platform_role AS "platform_role!: PlatformRole", active,
         has_password AS "has_password!"
         FROM users WHERE platform_role IS NOT NULL ORDER BY active DESC, platform_role, display_name"#,
    )
    .fetch_all(conn)
    .await
}

/// Active account managers assigned to no tenant (the admin console's home).
pub async fn unassigned_account_managers(
    conn: &mut PgConnection,
) -> Result<Vec<StaffMember>, sqlx::Error> {
    sqlx::query_as!(
        StaffMember,
        r#"SELECT id, display_name, email, platform_role AS "platform_role!: PlatformRole", active,
         has_password AS "has_password!"
         FROM users u
         WHERE platform_role = 'account_manager' AND active
           AND NOT EXISTS (SELECT 1 FROM am_assignments a WHERE a.user_id = u.id)
         ORDER BY display_name, id"#,
    )
    .fetch_all(conn)
    .await
}

/// One staff account (None: unknown, or a seller's person).
pub async fn staff_member(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<StaffMember>, sqlx::Error> {
    sqlx::query_as!(
        StaffMember,
        r#"SELECT id, display_name, email, platform_role AS "platform_role!: PlatformRole", active,
         has_password AS "has_password!"
         FROM users WHERE id = $1 AND platform_role IS NOT NULL"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Locks the active admins' rows for this transaction and counts them, so two admins cannot
/// deactivate or demote each other at once.
pub async fn lock_active_admins(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar!(
        "SELECT id FROM users WHERE platform_role = 'admin' AND active FOR UPDATE",
    )
    .fetch_all(conn)
    .await?;
    Ok(ids.len() as i64)
}

pub async fn update_staff(
    conn: &mut PgConnection,
    id: Uuid,
    display_name: &str,
    platform_role: PlatformRole,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET display_name = $2, platform_role = $3, updated_at = now() WHERE id = $1",
        id,
        display_name,
        platform_role as PlatformRole,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_staff_active(
    conn: &mut PgConnection,
    id: Uuid,
    active: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET active = $2, updated_at = now() WHERE id = $1",
        id,
        active,
    )
    .execute(conn)
    .await?;
    Ok(())
}

// Tenants, seen by the admin (a staff cross-tenant scope).

pub struct TenantListRow {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: TenantStatus,
    pub created_at: time::OffsetDateTime,
    pub profile_complete: bool,
    pub account_managers: Option<String>,
}

impl TenantListRow {
    pub fn status_key(&self) -> &'static str {
        self.status.label_key()
    }

    pub fn created(&self) -> String {
        fmt::datetime(self.created_at, "Asia/Shanghai")
    }
}

/// The tenants in `status` (None for all): pending first, then active, then suspended; oldest
/// first within each.
pub async fn tenant_list(
    conn: &mut PgConnection,
    status: Option<TenantStatus>,
) -> Result<Vec<TenantListRow>, sqlx::Error> {
    // The filter is the text it always was ("" for all), so the plan does not change.
    let status = status.map_or("", TenantStatus::as_str);
    sqlx::query_as!(
        TenantListRow,
        r#"SELECT t.id, t.slug, t.display_name, t.status AS "status: TenantStatus", t.created_at,
           t.profile_completed_at IS NOT NULL AS "profile_complete!",
           (SELECT string_agg(u.display_name, ', ' ORDER BY u.display_name) FROM am_assignments a
              JOIN users u ON u.id = a.user_id WHERE a.tenant_id = t.id) AS account_managers
         FROM tenants t WHERE ($1 = '' OR t.status = $1)
         ORDER BY CASE t.status WHEN 'pending' THEN 0 WHEN 'active' THEN 1 ELSE 2 END, t.created_at"#,
        status,
    )
    .fetch_all(conn)
    .await
}

pub struct TenantDetail {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub legal_name: Option<String>,
    pub business_licence_no: Option<String>,
    pub status: TenantStatus,
    pub status_reason: Option<String>,
    pub settlement_currency: String,
    pub time_zone: String,
    pub target_markets: Vec<String>,
    pub profile_complete: bool,
}

impl TenantDetail {
    pub fn status_key(&self) -> &'static str {
        self.status.label_key()
    }

    /// Target markets in words.
    pub fn markets(&self, lang: &crate::web::lang::Lang) -> String {
        use crate::web::labels::{List, labels};
        labels(*lang, List::Market, &self.target_markets)
    }
}

pub async fn tenant_detail(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<TenantDetail>, sqlx::Error> {
    sqlx::query_as!(
        TenantDetail,
        r#"SELECT id, slug, display_name, legal_name, business_licence_no,
           status AS "status: TenantStatus", status_reason,
           settlement_currency::text AS "settlement_currency!", time_zone, target_markets,
           profile_completed_at IS NOT NULL AS "profile_complete!"
         FROM tenants WHERE id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// The tenant's owners: (name, email), by name.
pub async fn owners_of(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT u.display_name, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.role = 'owner' ORDER BY u.display_name",
        tenant_id,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.display_name, r.email))
        .collect())
}

/// An active account manager, and whether they are assigned to the tenant asked about.
pub struct AmChoice {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub assigned: bool,
}

/// Every active account manager, by name, marked when assigned to `tenant_id`.
pub async fn account_manager_choices(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<AmChoice>, sqlx::Error> {
    sqlx::query_as!(
        AmChoice,
        r#"SELECT u.id, u.display_name AS name, u.email,
           EXISTS (SELECT 1 FROM am_assignments a WHERE a.tenant_id = $1 AND a.user_id = u.id) AS "assigned!"
         FROM users u WHERE u.platform_role = 'account_manager' AND u.active ORDER BY u.display_name"#,
        tenant_id,
    )
    .fetch_all(conn)
    .await
}

/// Moves the tenant to `status`, keeping `reason` ("" for none).
pub async fn set_tenant_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: TenantStatus,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE tenants SET status = $2, status_reason = NULLIF($3, ''), status_changed_at = now(), \
         updated_at = now() WHERE id = $1",
        id,
        status as TenantStatus,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many of `ids` are active account managers.
pub async fn count_active_account_managers(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users WHERE id = ANY($1) AND platform_role = 'account_manager' AND active"#,
        ids,
    )
    .fetch_one(conn)
    .await
}

/// The emails of the tenant's account managers, sorted.
pub async fn assigned_emails(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.email FROM am_assignments a JOIN users u ON u.id = a.user_id \
         WHERE a.tenant_id = $1 ORDER BY u.email",
        tenant_id,
    )
    .fetch_all(conn)
    .await
}

/// Makes `ids` the tenant's whole set of account managers.
pub async fn replace_assignments(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM am_assignments WHERE tenant_id = $1 AND NOT (user_id = ANY($2))",
        tenant_id,
        ids,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO am_assignments (tenant_id, user_id) SELECT $1, unnest($2::uuid[]) \
         ON CONFLICT DO NOTHING",
        tenant_id,
        ids,
    )
    .execute(conn)
    .await?;
    Ok(())
}
