//! The admin console's tenants: list by status, approve, suspend or reactivate, and assign
//! account managers. Every page here is a staff cross-tenant scope (audited when opened).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::FromRow;
use tower_sessions::Session;
use uuid::Uuid;

use crate::audit;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::fmt;
use crate::web::forms::FormData;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render_with;

pub const STATUSES: &[&str] = &["pending", "active", "suspended"];

async fn staff_scope(state: &AppState, user: &CurrentUser, page: &'static str) -> AppResult<Tx> {
    user.require(PlatformRole::Admin)?;
    Ok(state
        .db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: user.id,
            actor_label: user.label(),
            page,
        })
        .await?)
}

#[derive(FromRow)]
pub struct TenantListRow {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: String,
    pub created_at: time::OffsetDateTime,
    pub profile_complete: bool,
    pub account_managers: Option<String>,
}

impl TenantListRow {
    pub fn status_key(&self) -> String {
        format!("tenant.status.{}", self.status)
    }

    pub fn created(&self) -> String {
        fmt::datetime(self.created_at, "Asia/Shanghai")
    }
}

#[derive(Template)]
#[template(path = "admin/tenants.html")]
struct TenantsPage {
    layout: Layout,
    filters: Vec<(String, String, bool)>,
    tenants: Vec<TenantListRow>,
}

#[derive(Deserialize)]
pub struct TenantsQuery {
    status: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Query(q): Query<TenantsQuery>,
) -> AppResult<Response> {
    let mut tx = staff_scope(&state, &user, "admin_tenants").await?;
    let filter = q
        .status
        .filter(|s| STATUSES.contains(&s.as_str()))
        .unwrap_or_default();
    let tenants = sqlx::query_as::<_, TenantListRow>(
        "SELECT t.id, t.slug, t.display_name, t.status, t.created_at, \
           t.profile_completed_at IS NOT NULL AS profile_complete, \
           (SELECT string_agg(u.display_name, ', ' ORDER BY u.display_name) FROM am_assignments a \
              JOIN users u ON u.id = a.user_id WHERE a.tenant_id = t.id) AS account_managers \
         FROM tenants t WHERE ($1 = '' OR t.status = $1) \
         ORDER BY CASE t.status WHEN 'pending' THEN 0 WHEN 'active' THEN 1 ELSE 2 END, t.created_at",
    )
    .bind(&filter)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut filters = vec![(String::new(), lang.t("admin.all"), filter.is_empty())];
    filters.extend(STATUSES.iter().map(|s| {
        (
            (*s).to_string(),
            lang.t(&format!("tenant.status.{s}")),
            filter == *s,
        )
    }));
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "admin.tenants",
        "/admin/tenants",
    )
    .await?;
    render_with(
        StatusCode::OK,
        &TenantsPage {
            layout,
            filters,
            tenants,
        },
    )
}

#[derive(FromRow)]
pub struct TenantDetail {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub legal_name: Option<String>,
    pub business_licence_no: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub settlement_currency: String,
    pub time_zone: String,
    pub target_markets: Vec<String>,
    pub profile_complete: bool,
}

impl TenantDetail {
    pub fn status_key(&self) -> String {
        format!("tenant.status.{}", self.status)
    }

    pub fn markets(&self) -> String {
        self.target_markets.join(", ")
    }
}

pub struct AmChoice {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub assigned: bool,
}

#[derive(Template)]
#[template(path = "admin/tenant.html")]
struct TenantPage {
    layout: Layout,
    tenant: TenantDetail,
    owners: Vec<(String, String)>,
    account_managers: Vec<AmChoice>,
    error: Option<String>,
}

async fn load_tenant(tx: &mut Tx, id: &str) -> AppResult<TenantDetail> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    sqlx::query_as::<_, TenantDetail>(
        "SELECT id, slug, display_name, legal_name, business_licence_no, status, status_reason, \
           settlement_currency::text AS settlement_currency, time_zone, target_markets, \
           profile_completed_at IS NOT NULL AS profile_complete \
         FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    tenant: TenantDetail,
    status: StatusCode,
    error: Option<&str>,
) -> AppResult<Response> {
    let owners = sqlx::query_as::<_, (String, String)>(
        "SELECT u.display_name, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.role = 'owner' ORDER BY u.display_name",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await?;
    let account_managers = sqlx::query_as::<_, (Uuid, String, String, bool)>(
        "SELECT u.id, u.display_name, u.email, \
           EXISTS (SELECT 1 FROM am_assignments a WHERE a.tenant_id = $1 AND a.user_id = u.id) \
         FROM users u WHERE u.platform_role = 'account_manager' AND u.active ORDER BY u.display_name",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, name, email, assigned)| AmChoice { id, name, email, assigned })
    .collect();
    tx.commit().await?;
    let path = format!("/admin/tenants/{}", tenant.id);
    let layout = Layout::for_user(state, session, lang, user, None, "admin.tenants", &path).await?;
    render_with(
        status,
        &TenantPage {
            layout,
            tenant,
            owners,
            account_managers,
            error: error.map(|k| lang.t(k)),
        },
    )
}

pub async fn detail(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = staff_scope(&state, &user, "admin_tenant").await?;
    let tenant = load_tenant(&mut tx, &id).await?;
    show(
        &state,
        &session,
        lang,
        &user,
        tx,
        tenant,
        StatusCode::OK,
        None,
    )
    .await
}

/// The tenant state machine: approve (pending → active), suspend (pending or active →
/// suspended, with a reason), reactivate (suspended → active).
pub fn next_status(current: &str, action: &str) -> Option<&'static str> {
    match (current, action) {
        ("pending", "approve") => Some("active"),
        ("pending" | "active", "suspend") => Some("suspended"),
        ("suspended", "reactivate") => Some("active"),
        _ => None,
    }
}

pub async fn change_status(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = staff_scope(&state, &user, "admin_tenant_status").await?;
    let tenant = load_tenant(&mut tx, &id).await?;
    let action = form.get("action");
    let reason = form.get("reason").trim().to_string();
    let Some(next) = next_status(&tenant.status, action) else {
        return show(
            &state,
            &session,
            lang,
            &user,
            tx,
            tenant,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("admin.error.transition"),
        )
        .await;
    };
    if next == "suspended" && reason.is_empty() {
        return show(
            &state,
            &session,
            lang,
            &user,
            tx,
            tenant,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("admin.error.reason_required"),
        )
        .await;
    }
    sqlx::query(
        "UPDATE tenants SET status = $2, status_reason = NULLIF($3, ''), status_changed_at = now(), \
         updated_at = now() WHERE id = $1",
    )
    .bind(tenant.id)
    .bind(next)
    .bind(&reason)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        audit::Entry::new(
            match action {
                "approve" => "tenant.approve",
                "suspend" => "tenant.suspend",
                _ => "tenant.reactivate",
            },
            "tenant",
            Some(tenant.id.to_string()),
        )
        .by(&user)
        .tenant(Some(tenant.id))
        .before(json!({ "status": tenant.status, "reason": tenant.status_reason }))
        .after(json!({ "status": next, "reason": (!reason.is_empty()).then_some(&reason) })),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "flash.tenant_status_changed").await?;
    Ok(Redirect::to(&format!("/admin/tenants/{}", tenant.id)).into_response())
}

pub async fn set_assignments(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = staff_scope(&state, &user, "admin_tenant_assignments").await?;
    let tenant = load_tenant(&mut tx, &id).await?;
    let mut wanted = Vec::new();
    for raw in form.all("am") {
        let Ok(id) = raw.parse::<Uuid>() else {
            return show(
                &state,
                &session,
                lang,
                &user,
                tx,
                tenant,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("admin.error.not_account_manager"),
            )
            .await;
        };
        wanted.push(id);
    }
    let valid: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE id = ANY($1) AND platform_role = 'account_manager' AND active",
    )
    .bind(&wanted)
    .fetch_one(&mut *tx)
    .await?;
    wanted.sort();
    wanted.dedup();
    if valid != wanted.len() as i64 {
        return show(
            &state,
            &session,
            lang,
            &user,
            tx,
            tenant,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("admin.error.not_account_manager"),
        )
        .await;
    }
    let before: Vec<String> = sqlx::query_scalar(
        "SELECT u.email FROM am_assignments a JOIN users u ON u.id = a.user_id \
         WHERE a.tenant_id = $1 ORDER BY u.email",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM am_assignments WHERE tenant_id = $1 AND NOT (user_id = ANY($2))")
        .bind(tenant.id)
        .bind(&wanted)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO am_assignments (tenant_id, user_id) SELECT $1, unnest($2::uuid[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.id)
    .bind(&wanted)
    .execute(&mut *tx)
    .await?;
    let after: Vec<String> = sqlx::query_scalar(
        "SELECT u.email FROM am_assignments a JOIN users u ON u.id = a.user_id \
         WHERE a.tenant_id = $1 ORDER BY u.email",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await?;
    if before != after {
        audit::record(
            &mut tx,
            audit::Entry::new("tenant.assignments", "tenant", Some(tenant.id.to_string()))
                .by(&user)
                .tenant(Some(tenant.id))
                .before(json!({ "account_managers": before }))
                .after(json!({ "account_managers": after })),
        )
        .await?;
    }
    tx.commit().await?;
    flash(&session, "ok", "flash.assignments_saved").await?;
    Ok(Redirect::to(&format!("/admin/tenants/{}", tenant.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::next_status;

    #[test]
    fn tenant_status_moves_only_along_the_allowed_paths() {
        assert_eq!(next_status("pending", "approve"), Some("active"));
        assert_eq!(next_status("active", "suspend"), Some("suspended"));
        assert_eq!(next_status("pending", "suspend"), Some("suspended"));
        assert_eq!(next_status("suspended", "reactivate"), Some("active"));
        assert_eq!(next_status("active", "approve"), None);
        assert_eq!(next_status("suspended", "approve"), None);
        assert_eq!(next_status("pending", "reactivate"), None);
        assert_eq!(next_status("active", "delete"), None);
    }
}
