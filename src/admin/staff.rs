//! The admin console's staff accounts: create (with a one-time link), edit name and role,
//! deactivate (their sessions end at once) or reactivate, and issue password-reset links.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use sqlx::{FromRow, PgConnection};
use tower_sessions::Session;
use uuid::Uuid;

use crate::audit;
use crate::auth::links::{self, Purpose};
use crate::auth::{CurrentUser, PlatformRole, repo as users};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::domain::{FieldErrors, is_email};
use crate::web::ShownLink;
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{PublicOrigin, fmt, render_with};

pub const STAFF_ROLES: &[&str] = &["admin", "account_manager", "finance"];

pub use crate::kernel::STAFF_TIME_ZONE;

#[derive(FromRow, Clone)]
pub struct StaffMember {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub platform_role: String,
    pub active: bool,
    pub has_password: bool,
}

impl StaffMember {
    pub fn role_key(&self) -> String {
        format!("role.{}", self.platform_role)
    }
}

async fn admin_tx(state: &AppState, user: &CurrentUser) -> AppResult<Tx> {
    user.require(PlatformRole::Admin)?;
    // Staff accounts are platform rows, not a tenant's: the auth scope reads and writes them.
    Ok(state.db.system_tx(SystemScope::Auth).await?)
}

pub async fn all_staff(conn: &mut PgConnection) -> Result<Vec<StaffMember>, sqlx::Error> {
    sqlx::query_as::<_, StaffMember>(
        "SELECT id, display_name, email, platform_role, active, password_hash IS NOT NULL AS has_password \
         FROM users WHERE platform_role IS NOT NULL ORDER BY active DESC, platform_role, display_name",
    )
    .fetch_all(conn)
    .await
}

async fn staff_member(conn: &mut PgConnection, id: &str) -> AppResult<StaffMember> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    sqlx::query_as::<_, StaffMember>(
        "SELECT id, display_name, email, platform_role, active, password_hash IS NOT NULL AS has_password \
         FROM users WHERE id = $1 AND platform_role IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

async fn active_admins(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    // Locked, so two admins cannot deactivate each other at once.
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM users WHERE platform_role = 'admin' AND active FOR UPDATE",
    )
    .fetch_all(conn)
    .await?;
    Ok(ids.len() as i64)
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    layout: Layout,
    staff: Vec<StaffMember>,
    roles: Vec<(String, String)>,
    link: Option<ShownLink>,
    name: String,
    email: String,
    role: String,
    errors: FormErrors,
}

fn role_choices(lang: Lang) -> Vec<(String, String)> {
    STAFF_ROLES
        .iter()
        .map(|r| ((*r).to_string(), lang.t(&format!("role.{r}"))))
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn show_list(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    status: StatusCode,
    link: Option<ShownLink>,
    form: (String, String, String),
    errors: FieldErrors,
) -> AppResult<Response> {
    let staff = all_staff(&mut tx).await?;
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
        status,
        &StaffPage {
            layout,
            staff,
            roles: role_choices(lang),
            link,
            name: form.0,
            email: form.1,
            role: form.2,
            errors: FormErrors::new(lang, &errors),
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
    let blank = (String::new(), String::new(), "account_manager".to_string());
    show_list(
        &state,
        &session,
        lang,
        &user,
        tx,
        StatusCode::OK,
        None,
        blank,
        FieldErrors::new(),
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    user: CurrentUser,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let name = form.get("name").trim().to_string();
    let email = form.get("email").trim().to_string();
    let role = form.get("role").to_string();
    let mut errors = FieldErrors::new();
    if name.is_empty() || name.chars().count() > 80 {
        errors.insert("name".into(), "members.error.name");
    }
    if !is_email(&email) {
        errors.insert("email".into(), "members.error.email");
    } else if users::find_by_email(state.db.pool(), &email)
        .await?
        .is_some()
    {
        errors.insert("email".into(), "admin.error.email_taken");
    }
    let Some(platform_role) = PlatformRole::parse(&role) else {
        errors.insert("role".into(), "members.error.role");
        return show_list(
            &state,
            &session,
            lang,
            &user,
            tx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            (name, email, role),
            errors,
        )
        .await;
    };
    if !errors.is_empty() {
        return show_list(
            &state,
            &session,
            lang,
            &user,
            tx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            (name, email, role),
            errors,
        )
        .await;
    }
    let id = users::create_invited(&mut tx, &email, &name, Some(platform_role)).await?;
    let link = links::issue(&mut tx, id, None, Purpose::Invite, Some(user.id)).await?;
    audit::record(
        &mut tx,
        audit::Entry::new("staff.create", "user", Some(id.to_string()))
            .by(&user)
            .after(json!({ "email": email, "display_name": name, "platform_role": role })),
    )
    .await?;
    let shown = ShownLink {
        url: format!("{}{}", origin.0, link.path),
        email: email.clone(),
        expires: fmt::datetime(link.expires_at, STAFF_TIME_ZONE),
    };
    let blank = (String::new(), String::new(), "account_manager".to_string());
    show_list(
        &state,
        &session,
        lang,
        &user,
        tx,
        StatusCode::OK,
        Some(shown),
        blank,
        FieldErrors::new(),
    )
    .await
}

#[derive(Template)]
#[template(path = "admin/staff_edit.html")]
struct StaffEditPage {
    layout: Layout,
    member: StaffMember,
    roles: Vec<(String, String)>,
    name: String,
    role: String,
    is_self: bool,
    link: Option<ShownLink>,
    errors: FormErrors,
}

#[allow(clippy::too_many_arguments)]
async fn show_edit(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    tx: Tx,
    member: StaffMember,
    status: StatusCode,
    form: Option<(String, String)>,
    link: Option<ShownLink>,
    errors: FieldErrors,
) -> AppResult<Response> {
    tx.commit().await?;
    let path = format!("/admin/staff/{}", member.id);
    let layout = Layout::for_user(state, session, lang, user, None, "admin.staff", &path).await?;
    let (name, role) = form.unwrap_or((member.display_name.clone(), member.platform_role.clone()));
    render_with(
        status,
        &StaffEditPage {
            is_self: member.id == user.id,
            layout,
            member,
            roles: role_choices(lang),
            name,
            role,
            link,
            errors: FormErrors::new(lang, &errors),
        },
    )
}

pub async fn edit(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let member = staff_member(&mut tx, &id).await?;
    show_edit(
        &state,
        &session,
        lang,
        &user,
        tx,
        member,
        StatusCode::OK,
        None,
        None,
        FieldErrors::new(),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let member = staff_member(&mut tx, &id).await?;
    let name = form.get("name").trim().to_string();
    let role = form.get("role").to_string();
    let mut errors = FieldErrors::new();
    if name.is_empty() || name.chars().count() > 80 {
        errors.insert("name".into(), "members.error.name");
    }
    if PlatformRole::parse(&role).is_none() {
        errors.insert("role".into(), "members.error.role");
    } else if role != member.platform_role && member.id == user.id {
        errors.insert("role".into(), "admin.error.own_role");
    } else if member.platform_role == "admin"
        && role != "admin"
        && member.active
        && active_admins(&mut tx).await? <= 1
    {
        errors.insert("role".into(), "admin.error.last_admin");
    }
    if !errors.is_empty() {
        return show_edit(
            &state,
            &session,
            lang,
            &user,
            tx,
            member,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((name, role)),
            None,
            errors,
        )
        .await;
    }
    sqlx::query(
        "UPDATE users SET display_name = $2, platform_role = $3, updated_at = now() WHERE id = $1",
    )
    .bind(member.id)
    .bind(&name)
    .bind(&role)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        audit::Entry::new("staff.update", "user", Some(member.id.to_string())).by(&user).before(json!({ "display_name": member.display_name, "platform_role": member.platform_role })).after(json!({ "display_name": name, "platform_role": role })),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "flash.staff_saved").await?;
    Ok(Redirect::to(&format!("/admin/staff/{}", member.id)).into_response())
}

pub async fn set_active(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let member = staff_member(&mut tx, &id).await?;
    let activate = match form.get("action") {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(AppError::NotFound),
    };
    let mut errors = FieldErrors::new();
    if !activate && member.id == user.id {
        errors.insert("active".into(), "admin.error.deactivate_self");
    } else if !activate
        && member.platform_role == "admin"
        && member.active
        && active_admins(&mut tx).await? <= 1
    {
        errors.insert("active".into(), "admin.error.last_admin");
    }
    if !errors.is_empty() {
        return show_edit(
            &state,
            &session,
            lang,
            &user,
            tx,
            member,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            errors,
        )
        .await;
    }
    if activate != member.active {
        sqlx::query("UPDATE users SET active = $2, updated_at = now() WHERE id = $1")
            .bind(member.id)
            .bind(activate)
            .execute(&mut *tx)
            .await?;
        if !activate {
            // Sessions end by themselves (every request re-reads `active`); links die here.
            links::revoke_for(&mut tx, member.id, None).await?;
        }
        audit::record(
            &mut tx,
            audit::Entry::new(
                if activate {
                    "staff.activate"
                } else {
                    "staff.deactivate"
                },
                "user",
                Some(member.id.to_string()),
            )
            .by(&user)
            .before(json!({ "active": member.active }))
            .after(json!({ "active": activate })),
        )
        .await?;
    }
    tx.commit().await?;
    flash(&session, "ok", "flash.staff_saved").await?;
    Ok(Redirect::to(&format!("/admin/staff/{}", member.id)).into_response())
}

pub async fn reset_link(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = admin_tx(&state, &user).await?;
    let member = staff_member(&mut tx, &id).await?;
    if !member.active {
        let mut errors = FieldErrors::new();
        errors.insert("active".into(), "admin.error.inactive_link");
        return show_edit(
            &state,
            &session,
            lang,
            &user,
            tx,
            member,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            errors,
        )
        .await;
    }
    let purpose = if member.has_password {
        Purpose::Reset
    } else {
        Purpose::Invite
    };
    let link = links::issue(&mut tx, member.id, None, purpose, Some(user.id)).await?;
    audit::record(
        &mut tx,
        audit::Entry::new("staff.password_link", "user", Some(member.id.to_string())).by(&user),
    )
    .await?;
    let shown = ShownLink {
        url: format!("{}{}", origin.0, link.path),
        email: member.email.clone(),
        expires: fmt::datetime(link.expires_at, STAFF_TIME_ZONE),
    };
    show_edit(
        &state,
        &session,
        lang,
        &user,
        tx,
        member,
        StatusCode::OK,
        None,
        Some(shown),
        FieldErrors::new(),
    )
    .await
}
