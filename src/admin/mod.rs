//! Staff consoles: the admin console (`/admin`), the account manager's work queue (`/am`) and the
//! finance home (`/finance`). Cross-tenant reads go through an audited system scope.

pub mod staff;
pub mod tenants;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use sqlx::FromRow;
use tower_sessions::Session;

use crate::auth::{CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::render;

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
        .route("/finance", get(finance_home))
}

#[derive(FromRow)]
pub struct TenantSummary {
    pub id: uuid::Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: String,
    pub settlement_currency: String,
    pub members: i64,
    pub shops: i64,
}

impl TenantSummary {
    pub fn status_key(&self) -> String {
        format!("tenant.status.{}", self.status)
    }
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
    let rows = sqlx::query_as::<_, TenantSummary>(
        "SELECT t.id, t.slug, t.display_name, t.status, t.settlement_currency::text AS settlement_currency, \
           (SELECT count(*) FROM memberships m WHERE m.tenant_id = t.id) AS members, \
           (SELECT count(*) FROM shops s WHERE s.tenant_id = t.id) AS shops \
         FROM tenants t ORDER BY t.display_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct AdminPage {
    layout: Layout,
    tenants: Vec<TenantSummary>,
    staff: Vec<staff::StaffMember>,
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
    let staff = staff::all_staff(&mut tx).await?;
    tx.commit().await?;
    let layout =
        Layout::for_user(&state, &session, lang, &user, None, "admin.title", "/admin").await?;
    render(&AdminPage {
        layout,
        tenants,
        staff,
    })
}

#[derive(Template)]
#[template(path = "admin/work_queue.html")]
struct WorkQueuePage {
    layout: Layout,
}

pub async fn work_queue(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    user.require(PlatformRole::AccountManager)?;
    // The assigned tenants are the layout's switcher; the page lists them as cards.
    let layout = Layout::for_user(&state, &session, lang, &user, None, "am.title", "/am").await?;
    render(&WorkQueuePage { layout })
}

#[derive(Template)]
#[template(path = "admin/finance.html")]
struct FinancePage {
    layout: Layout,
    tenants: Vec<TenantSummary>,
}

pub async fn finance_home(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    user.require(PlatformRole::Finance)?;
    let tenants = all_tenants(&state, &user, "finance_home").await?;
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "finance.title",
        "/finance",
    )
    .await?;
    render(&FinancePage { layout, tenants })
}
