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

/// One thing waiting on the account manager.
#[derive(FromRow)]
struct QueueRow {
    kind: String,
    since: time::OffsetDateTime,
    campaign_id: uuid::Uuid,
    target_id: uuid::Uuid,
    title: String,
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
        let sql = format!(
            "{QUEUE_SQL} UNION ALL {}",
            crate::performance::sections::QUEUE_SQL
        );
        let found = sqlx::query_as::<_, QueueRow>(&sql)
            .bind(tenant.id)
            .fetch_all(&mut *tx)
            .await?;
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
