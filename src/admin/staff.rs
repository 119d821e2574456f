//! The admin console's staff pages: the list with the add form (a one-time link for the new
//! account), and one account's page (name and role, deactivate or reactivate, password-reset
//! links). The changes are `actions::{create_staff, update_staff, set_staff_active,
//! issue_staff_reset_link}`; this file turns forms into their inputs and answers into pages.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, CreateStaff, IssueStaffResetLink, SetStaffActive, UpdateStaff};
use super::repo::{self, StaffMember};
use crate::auth::{Actor, CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::web::ShownLink;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{PublicOrigin, render_with};

use crate::kernel::STAFF_TIME_ZONE;

async fn admin_tx(state: &AppState, user: &CurrentUser) -> AppResult<Tx> {
    user.require(PlatformRole::Admin)?;
    // Staff accounts are platform rows, not a tenant's: the auth scope reads and writes them.
    Ok(state.db.system_tx(SystemScope::Auth).await?)
}

/// A staff id from the path; one that is no uuid is no staff account.
fn staff_id(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    layout: Layout,
    staff: Vec<StaffMember>,
    roles: Vec<(PlatformRole, String)>,
    link: Option<ShownLink>,
    name: String,
    email: String,
    role: String,
    errors: FormErrors,
}

fn role_choices(lang: Lang) -> Vec<(PlatformRole, String)> {
    PlatformRole::ALL
        .into_iter()
        .map(|r| (r, lang.t(r.label_key())))
        .collect()
}

/// The add form, blank: an account manager is the usual new account.
fn blank_add_form() -> CreateStaff {
    CreateStaff {
        role: PlatformRole::AccountManager.as_str().into(),
        ..CreateStaff::default()
    }
}

/// One account's form as posted: its name and role.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct StaffForm {
    pub name: String,
    pub role: String,
}

/// The button pressed on an account's page (`activate` or `deactivate`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    pub action: String,
}

/// What the staff list shows besides the accounts.
struct ListView {
    status: StatusCode,
    link: Option<ShownLink>,
    form: CreateStaff,
    errors: FieldErrors,
}

async fn show_list(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    view: ListView,
) -> AppResult<Response> {
    let staff = repo::all_staff(&mut tx).await?;
    tx.commit().await?;
    let layout = Layout::for_user(
        state,
        session,
        lang,
        user,
        None,
        "admin.staff",
        "/admin/staff",
    )
    .await?;
    render_with(
        view.status,
        &StaffPage {
            layout,
            staff,
            roles: role_choices(lang),
            link: view.link,
            name: view.form.name,
            email: view.form.email,
            role: view.form.role,
            errors: FormErrors::new(lang, &view.errors),
        },
    )
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    let tx = admin_tx(&state, &user).await?;
    let view = ListView {
        status: StatusCode::OK,
        link: None,
        form: blank_add_form(),
        errors: FieldErrors::new(),
    };
    show_list(&state, &session, lang, &user, tx, view).await
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    origin: PublicOrigin,
    user: CurrentUser,
    Form(form): Form<CreateStaff>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    // Shown again as typed (trimmed) when something is wrong.
    let typed = CreateStaff {
        name: form.name.trim().to_string(),
        email: form.email.trim().to_string(),
        role: form.role,
    };
    match actions::create_staff(&mut tx, &Actor::user(&user), typed.clone()).await {
        Ok(created) => {
            let view = ListView {
                status: StatusCode::OK,
                link: Some(
                    ShownLink::deliver(
                        &state,
                        &origin,
                        STAFF_TIME_ZONE,
                        &created.email,
                        created.link,
                    )
                    .await,
                ),
                form: blank_add_form(),
                errors: FieldErrors::new(),
            };
            show_list(&state, &session, lang, &user, tx, view).await
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            // Nothing is kept; the list again with the form as typed.
            drop(tx);
            let tx = admin_tx(&state, &user).await?;
            let view = ListView {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                link: None,
                form: typed,
                errors,
            };
            show_list(&state, &session, lang, &user, tx, view).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/staff_edit.html")]
struct StaffEditPage {
    layout: Layout,
    member: StaffMember,
    roles: Vec<(PlatformRole, String)>,
    name: String,
    role: String,
    is_self: bool,
    link: Option<ShownLink>,
    errors: FormErrors,
}

/// What one account's page shows besides the account: its status, the form as typed (None: as
/// stored), a link just issued, and messages per field.
struct EditView {
    status: StatusCode,
    form: Option<(String, String)>,
    link: Option<ShownLink>,
    errors: FieldErrors,
}

impl EditView {
    fn ok() -> EditView {
        EditView {
            status: StatusCode::OK,
            form: None,
            link: None,
            errors: FieldErrors::new(),
        }
    }
}

async fn show_edit(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    tx: Tx,
    member: StaffMember,
    view: EditView,
) -> AppResult<Response> {
    tx.commit().await?;
    let path = format!("/admin/staff/{}", member.id);
    let layout = Layout::for_user(state, session, lang, user, None, "admin.staff", &path).await?;
    let (name, role) = view.form.unwrap_or_else(|| {
        (
            member.display_name.clone(),
            member.platform_role.as_str().to_string(),
        )
    });
    render_with(
        view.status,
        &StaffEditPage {
            is_self: member.id == user.id,
            layout,
            member,
            roles: role_choices(lang),
            name,
            role,
            link: view.link,
            errors: FormErrors::new(lang, &view.errors),
        },
    )
}

/// An action on one account that failed, and where its page shows why.
struct EditFailed {
    error: DomainError,
    id: Uuid,
    /// The field a refusal is shown at.
    field: &'static str,
    form: Option<(String, String)>,
}

/// The account's page again (the action's transaction abandoned, nothing kept) with the
/// refusal or the wrong fields; a JSON request gets problem+json; other errors pass through.
async fn show_edit_failure(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    front: Front,
    failed: EditFailed,
) -> AppResult<Response> {
    let errors = match failed.error {
        e if front.is_json() => return Err(e.into()),
        DomainError::Invalid(errors) => errors,
        DomainError::Refused(key) => FieldErrors::from([(failed.field.to_string(), key)]),
        other => return Err(other.into()),
    };
    let mut tx = admin_tx(state, user).await?;
    let member = repo::staff_member(&mut tx, failed.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = EditView {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        form: failed.form,
        link: None,
        errors,
    };
    show_edit(state, session, lang, user, tx, member, view).await
}

pub async fn edit(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let member = repo::staff_member(&mut tx, staff_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    show_edit(&state, &session, lang, &user, tx, member, EditView::ok()).await
}

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<StaffForm>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let input = UpdateStaff {
        id: staff_id(&id)?,
        name: form.name.trim().to_string(),
        role: form.role,
    };
    let typed = (input.name.clone(), input.role.clone());
    let id = input.id;
    match actions::update_staff(&mut tx, &Actor::user(&user), input).await {
        Ok(()) => {
            tx.commit().await?;
            flash(&session, "ok", "flash.staff_saved").await?;
            Ok(Redirect::to(&format!("/admin/staff/{id}")).into_response())
        }
        Err(error) => {
            drop(tx);
            let failed = EditFailed {
                error,
                id,
                field: "role",
                form: Some(typed),
            };
            show_edit_failure(&state, &session, lang, &user, front, failed).await
        }
    }
}

pub async fn set_active(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let id = staff_id(&id)?;
    let active = match form.action.as_str() {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(AppError::NotFound),
    };
    let input = SetStaffActive { id, active };
    match actions::set_staff_active(&mut tx, &Actor::user(&user), input).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "flash.staff_saved").await?;
            Ok(Redirect::to(&format!("/admin/staff/{id}")).into_response())
        }
        Err(error) => {
            drop(tx);
            let failed = EditFailed {
                error,
                id,
                field: "active",
                form: None,
            };
            show_edit_failure(&state, &session, lang, &user, front, failed).await
        }
    }
}

pub async fn reset_link(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    origin: PublicOrigin,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let id = staff_id(&id)?;
    let input = IssueStaffResetLink { id };
    match actions::issue_staff_reset_link(&mut tx, &Actor::user(&user), input).await {
        Ok(issued) => {
            let member = repo::staff_member(&mut tx, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let view = EditView {
                link: Some(
                    ShownLink::deliver(
                        &state,
                        &origin,
                        STAFF_TIME_ZONE,
                        &issued.email,
                        issued.link,
                    )
                    .await,
                ),
                ..EditView::ok()
            };
            show_edit(&state, &session, lang, &user, tx, member, view).await
        }
        Err(error) => {
            drop(tx);
            let failed = EditFailed {
                error,
                id,
                field: "active",
                form: None,
            };
            show_edit_failure(&state, &session, lang, &user, front, failed).await
        }
    }
}
