//! The admin console's tenant pages: the list by status, and one tenant's page where the admin
//! approves, suspends or reactivates it and assigns account managers (the changes are
//! `actions::{change_tenant_status, set_assignments}`). Every page here is a staff cross-tenant
//! scope (audited when opened).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, ChangeTenantStatus, SetAssignments};
use super::repo::{self, AmChoice, TenantDetail, TenantListRow};
use crate::auth::{Actor, CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult, DomainError};
use crate::state::AppState;
use crate::tenants::domain::TenantStatus;
use crate::web::forms::Form;
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render_with;

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

/// A tenant id from the path; one that is no uuid is no tenant.
fn tenant_id(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
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
    let filter = q.status.as_deref().and_then(TenantStatus::parse);
    let tenants = repo::tenant_list(&mut tx, filter).await?;
    tx.commit().await?;
    let mut filters = vec![(String::new(), lang.t("admin.all"), filter.is_none())];
    filters.extend(TenantStatus::ALL.into_iter().map(|s| {
        (
            s.as_str().to_string(),
            lang.t(s.label_key()),
            filter == Some(s),
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

#[derive(Template)]
#[template(path = "admin/tenant.html")]
struct TenantPage {
    layout: Layout,
    tenant: TenantDetail,
    owners: Vec<(String, String)>,
    account_managers: Vec<AmChoice>,
    error: Option<String>,
}

/// Which tenant's page to show, with what status and, after a refused change, the reason (a
/// message key).
struct Shown {
    tenant_id: Uuid,
    status: StatusCode,
    error: Option<&'static str>,
}

async fn show(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    shown: Shown,
) -> AppResult<Response> {
    let tenant = repo::tenant_detail(&mut tx, shown.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let owners = repo::owners_of(&mut tx, tenant.id).await?;
    let account_managers = repo::account_manager_choices(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let path = format!("/admin/tenants/{}", tenant.id);
    let layout = Layout::for_user(state, session, lang, user, None, "admin.tenants", &path).await?;
    render_with(
        shown.status,
        &TenantPage {
            layout,
            tenant,
            owners,
            account_managers,
            error: shown.error.map(|k| lang.t(k)),
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
    let tx = staff_scope(&state, &user, "admin_tenant").await?;
    let shown = Shown {
        tenant_id: tenant_id(&id)?,
        status: StatusCode::OK,
        error: None,
    };
    show(&state, &session, lang, &user, tx, shown).await
}

/// A status move as posted: the button pressed (`approve`, `suspend`, `reactivate`) and the
/// reason typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    pub action: String,
    pub reason: String,
}

/// The account managers ticked (`am`, repeated); an id that is no uuid is nobody's: the action
/// refuses it like any non account manager.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AssignmentsForm {
    pub am: Vec<String>,
}

/// What became of a tenant action: done (flash, back to the tenant's page), or failed — the page
/// again in a fresh scope (the action's transaction is abandoned, nothing kept) with the reason,
/// or problem+json for a JSON request; other errors pass through.
struct Outcome<'a> {
    result: Result<(), DomainError>,
    tenant_id: Uuid,
    /// The scope's page name, for the fresh scope the page is shown in.
    page: &'static str,
    flash: &'static str,
    front: Front,
    user: &'a CurrentUser,
}

async fn answer(
    state: &AppState,
    session: &Session,
    lang: Lang,
    tx: Tx,
    outcome: Outcome<'_>,
) -> AppResult<Response> {
    let key = match outcome.result {
        Ok(()) => {
            tx.commit().await?;
            flash(session, "ok", outcome.flash).await?;
            let target = format!("/admin/tenants/{}", outcome.tenant_id);
            return Ok(Redirect::to(&target).into_response());
        }
        Err(e) if outcome.front.is_json() => return Err(e.into()),
        Err(DomainError::Refused(key)) => key,
        // The page has one place for a message: the first field's.
        Err(DomainError::Invalid(errors)) => match errors.values().next() {
            Some(key) => *key,
            None => return Err(AppError::Invalid(errors)),
        },
        Err(other) => return Err(other.into()),
    };
    drop(tx);
    let tx = staff_scope(state, outcome.user, outcome.page).await?;
    let shown = Shown {
        tenant_id: outcome.tenant_id,
        status: StatusCode::UNPROCESSABLE_ENTITY,
        error: Some(key),
    };
    show(state, session, lang, outcome.user, tx, shown).await
}

pub async fn change_status(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let page = "admin_tenant_status";
    let mut tx = staff_scope(&state, &user, page).await?;
    let input = ChangeTenantStatus {
        tenant_id: tenant_id(&id)?,
        action: form.action,
        reason: form.reason,
    };
    let tenant_id = input.tenant_id;
    let result = actions::change_tenant_status(&mut tx, &Actor::user(&user), input)
        .await
        .map(|_| ());
    let outcome = Outcome {
        result,
        tenant_id,
        page,
        flash: "flash.tenant_status_changed",
        front,
        user: &user,
    };
    answer(&state, &session, lang, tx, outcome).await
}

pub async fn set_assignments(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<AssignmentsForm>,
) -> AppResult<Response> {
    let page = "admin_tenant_assignments";
    let mut tx = staff_scope(&state, &user, page).await?;
    let input = SetAssignments {
        tenant_id: tenant_id(&id)?,
        account_managers: form
            .am
            .iter()
            .map(|raw| raw.parse().unwrap_or(Uuid::nil()))
            .collect(),
    };
    let tenant_id = input.tenant_id;
    let result = actions::set_assignments(&mut tx, &Actor::user(&user), input)
        .await
        .map(|_| ());
    let outcome = Outcome {
        result,
        tenant_id,
        page,
        flash: "flash.assignments_saved",
        front,
        user: &user,
    };
    answer(&state, &session, lang, tx, outcome).await
}
