//! Staff consoles: the admin console (`/admin`), the account manager's work queue (`/am`) and the
//! finance home (`/finance`, now in `settlement::finance`). Cross-tenant reads go through an audited system scope. The admin's
//! changes (staff accounts, tenant status, assignments) are in `actions`, their rules in `domain`,
//! every query of the consoles in `repo`; `staff` and `tenants` are the admin's pages.

pub mod actions;
pub mod domain;
pub mod repo;
pub mod staff;
pub mod tenants;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use tower_sessions::Session;

use crate::auth::{CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::render;

use repo::TenantSummary;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_console))
        .route("/admin/tenants", get(tenants::index))
        .route("/admin/tenants/{id}", get(tenants::detail))
        .route("/admin/tenants/{id}/status", post(tenants::change_status))
        .route(
            "/admin/tenants/{id}/assignments",
            post(tenants::set_assignments),
        )
        .route("/admin/staff", get(staff::index).post(staff::create))
        .route("/admin/staff/{id}", get(staff::edit).post(staff::update))
        .route("/admin/staff/{id}/active", post(staff::set_active))
        .route("/admin/staff/{id}/reset-link", post(staff::reset_link))
        .route("/am", get(work_queue))
}

async fn all_tenants(
    state: &AppState,
    user: &CurrentUser,
    page: &'static str,
) -> AppResult<Vec<TenantSummary>> {
    let mut tx = state
        .db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: user.id,
            actor_label: user.label(),
            page,
        })
        .await?;
    let rows = repo::all_tenants(&mut tx).await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct AdminPage {
    layout: Layout,
    /// What needs an admin now: sellers waiting for approval, account managers with no
    /// tenant, creator pool imports waiting to be confirmed.
    pending: Vec<TenantSummary>,
    unassigned: Vec<repo::StaffMember>,
    pool_imports: Vec<crate::creators::repo::ImportRow>,
    tenants: Vec<TenantSummary>,
    staff: Vec<repo::StaffMember>,
}

pub async fn admin_console(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    user.require(PlatformRole::Admin)?;
    let tenants = all_tenants(&state, &user, "admin_console").await?;
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let staff = repo::all_staff(&mut tx).await?;
    let unassigned = repo::unassigned_account_managers(&mut tx).await?;
    tx.commit().await?;
    let mut tx = state.db.system_tx(SystemScope::CreatorPool).await?;
    let pool_imports = crate::creators::repo::imports_awaiting_confirmation(&mut tx).await?;
    tx.commit().await?;
    let pending = tenants
        .iter()
        .filter(|t| t.status.is_pending())
        .cloned()
        .collect();
    let layout =
        Layout::for_user(&state, &session, lang, &user, None, "admin.title", "/admin").await?;
    render(&AdminPage {
        layout,
        pending,
        unassigned,
        pool_imports,
        tenants,
        staff,
    })
}

pub struct QueueItem {
    pub kind_key: String,
    pub tenant: String,
    pub href: String,
    pub title: String,
    pub since: String,
    pub waiting: String,
}

#[derive(Template)]
#[template(path = "admin/work_queue.html")]
struct WorkQueuePage {
    layout: Layout,
    items: Vec<QueueItem>,
}

pub async fn work_queue(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    user.require(PlatformRole::AccountManager)?;
    let layout = Layout::for_user(&state, &session, lang, &user, None, "am.title", "/am").await?;
    // Each assigned tenant is read in its own tenant scope (RLS on), then merged, oldest first.
    let now = time::OffsetDateTime::now_utc();
    let mut rows: Vec<(time::OffsetDateTime, QueueItem)> = Vec::new();
    for link in &layout.switcher {
        let Some(tenant) =
            crate::tenants::repo::tenant_by_slug(state.db.pool(), &link.slug).await?
        else {
            continue;
        };
        let mut tx = state.db.tenant_tx(tenant.id, Some(user.id)).await?;
        let found = repo::work_queue(&mut tx, tenant.id).await?;
        tx.commit().await?;
        for r in found {
            let href = match r.kind.as_str() {
                "start_matching" => format!("/t/{}/campaigns/{}", tenant.slug, r.campaign_id),
                "send_shortlist" => {
                    format!("/t/{}/campaigns/{}/matching", tenant.slug, r.campaign_id)
                }
                "import_attention" => {
                    format!("/t/{}/orders/imports/{}", tenant.slug, r.target_id)
                }
                "set_up_terms" => format!(
                    "/t/{}/campaigns/{}/collaborations/new?entry={}",
                    tenant.slug, r.campaign_id, r.target_id
                ),
                _ => format!("/t/{}/collaborations/{}", tenant.slug, r.target_id),
            };
            let days = (now - r.since).whole_days().max(0);
            rows.push((
                r.since,
                QueueItem {
                    kind_key: format!("am.kind.{}", r.kind),
                    tenant: tenant.display_name.clone(),
                    href,
                    title: r.title,
                    since: crate::web::fmt::datetime(r.since, &tenant.time_zone),
                    waiting: lang.t_with("am.waiting_days", &[("days", &days.to_string())]),
                },
            ));
        }
    }
    rows.sort_by_key(|(since, _)| *since);
    let items = rows.into_iter().map(|(_, item)| item).collect();
    render(&WorkQueuePage { layout, items })
}
