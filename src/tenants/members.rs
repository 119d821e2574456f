//! The owner's members page: add a member with a role (a one-time link to set a password), change
//! roles, remove members — never the last owner — and issue password-reset links.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use sqlx::PgConnection;
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::{FieldErrors, is_email};
use super::{Access, TenantCtx, repo};
use crate::audit;
use crate::auth::links::{self, IssuedLink, Purpose};
use crate::auth::repo as users;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::fmt;
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{PublicOrigin, render_with};

pub const ROLES: &[&str] = &["owner", "operator", "viewer"];

pub struct MemberRow {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub role_label: String,
    pub since: String,
    pub is_self: bool,
    pub pending: bool,
}

impl MemberRow {
    /// The form field that carries messages about this member's row.
    pub fn role_field(&self) -> String {
        format!("role-{}", self.user_id)
    }
}

pub use crate::web::ShownLink;

#[derive(Template)]
#[template(path = "tenants/members.html")]
struct MembersPage {
    layout: Layout,
    slug: String,
    members: Vec<MemberRow>,
    roles: Vec<(String, String)>,
    link: Option<ShownLink>,
    name: String,
    email: String,
    role: String,
    errors: FormErrors,
}

struct AddForm {
    name: String,
    email: String,
    role: String,
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    status: StatusCode,
    link: Option<ShownLink>,
    form: Option<AddForm>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let rows = repo::members(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let members = rows
        .into_iter()
        .map(|m| MemberRow {
            is_self: m.user_id == ctx.user.id,
            role_label: lang.t(&format!("role.{}", m.role)),
            since: fmt::datetime(m.created_at, &ctx.tenant.time_zone),
            pending: !m.has_password,
            user_id: m.user_id,
            name: m.display_name,
            email: m.email,
            role: m.role,
        })
        .collect();
    let path = format!("/t/{}/members", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "members.title",
        &path,
    )
    .await?;
    let form = form.unwrap_or(AddForm {
        name: String::new(),
        email: String::new(),
        role: "operator".into(),
    });
    let page = MembersPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        members,
        roles: ROLES
            .iter()
            .map(|r| ((*r).to_string(), lang.t(&format!("role.{r}"))))
            .collect(),
        link,
        name: form.name,
        email: form.email,
        role: form.role,
        errors: FormErrors::new(lang, &errors),
    };
    render_with(status, &page)
}

fn owner_only(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::Owner])?;
    ctx.require_active()
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
) -> AppResult<Response> {
    owner_only(&ctx)?;
    show(
        &state,
        &session,
        lang,
        ctx,
        StatusCode::OK,
        None,
        None,
        FieldErrors::new(),
    )
    .await
}

fn shown(origin: &PublicOrigin, tz: &str, email: &str, link: IssuedLink) -> ShownLink {
    ShownLink {
        url: format!("{}{}", origin.0, link.path),
        email: email.to_string(),
        expires: fmt::datetime(link.expires_at, tz),
    }
}

pub async fn add(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    owner_only(&ctx)?;
    let input = AddForm {
        name: form.get("name").trim().to_string(),
        email: form.get("email").trim().to_string(),
        role: form.get("role").to_string(),
    };
    let mut errors = FieldErrors::new();
    if input.name.is_empty() || input.name.chars().count() > 80 {
        errors.insert("name".into(), "members.error.name");
    }
    if !is_email(&input.email) {
        errors.insert("email".into(), "members.error.email");
    }
    if !ROLES.contains(&input.role.as_str()) {
        errors.insert("role".into(), "members.error.role");
    }
    let existing = if errors.is_empty() {
        users::find_by_email(state.db.pool(), &input.email).await?
    } else {
        None
    };
    if let Some(user) = &existing {
        if user.platform_role.is_some() {
            errors.insert("email".into(), "members.error.staff");
        } else if repo::member(&mut ctx.tx, ctx.tenant.id, user.id)
            .await?
            .is_some()
        {
            errors.insert("email".into(), "members.error.already_member");
        }
    }
    if !errors.is_empty() {
        return show(
            &state,
            &session,
            lang,
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(input),
            errors,
        )
        .await;
    }

    let (user_id, needs_password) = match &existing {
        Some(user) => (user.id, user.password_hash.is_none()),
        None => (
            users::create_invited(&mut ctx.tx, &input.email, &input.name, None).await?,
            true,
        ),
    };
    repo::add_member(&mut ctx.tx, ctx.tenant.id, user_id, &input.role).await?;
    // Someone who already has a password logs in with it; a new person gets a link.
    let link = if needs_password {
        Some(
            links::issue(
                &mut ctx.tx,
                user_id,
                Some(ctx.tenant.id),
                Purpose::Invite,
                Some(ctx.user.id),
            )
            .await?,
        )
    } else {
        None
    };
    audit::record(
        &mut ctx.tx,
        audit::Entry::new("member.add", "membership", Some(user_id.to_string()))
            .by(&ctx.user)
            .tenant(Some(ctx.tenant.id))
            .after(json!({ "email": input.email, "role": input.role })),
    )
    .await?;
    let shown_link = link.map(|l| shown(&origin, &ctx.tenant.time_zone, &input.email, l));
    if shown_link.is_none() {
        flash(&session, "ok", "flash.member_added_existing").await?;
    }
    show(
        &state,
        &session,
        lang,
        ctx,
        StatusCode::OK,
        shown_link,
        None,
        FieldErrors::new(),
    )
    .await
}

/// The member behind `user_id` in this tenant, locking the tenant's owners so two owners cannot
/// demote each other at once and leave none.
async fn member_for_change(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: &str,
) -> AppResult<(Uuid, String, i64)> {
    let user_id: Uuid = user_id.parse().map_err(|_| AppError::NotFound)?;
    let owners = repo::lock_owners(conn, tenant_id).await?;
    let member = repo::member(conn, tenant_id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((user_id, member.role, owners))
}

pub async fn change_role(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, user_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    owner_only(&ctx)?;
    let (user_id, old_role, owners) =
        member_for_change(&mut ctx.tx, ctx.tenant.id, &user_id).await?;
    let new_role = form.get("role").to_string();
    let mut errors = FieldErrors::new();
    if !ROLES.contains(&new_role.as_str()) {
        errors.insert(format!("role-{user_id}"), "members.error.role");
    } else if old_role == "owner" && new_role != "owner" && owners <= 1 {
        errors.insert(format!("role-{user_id}"), "members.error.last_owner");
    }
    if !errors.is_empty() {
        return show(
            &state,
            &session,
            lang,
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            errors,
        )
        .await;
    }
    if new_role != old_role {
        repo::set_member_role(&mut ctx.tx, ctx.tenant.id, user_id, &new_role).await?;
        audit::record(
            &mut ctx.tx,
            audit::Entry::new(
                "member.role_change",
                "membership",
                Some(user_id.to_string()),
            )
            .by(&ctx.user)
            .tenant(Some(ctx.tenant.id))
            .before(json!({ "role": old_role }))
            .after(json!({ "role": new_role })),
        )
        .await?;
    }
    ctx.tx.commit().await?;
    flash(&session, "ok", "flash.member_role_changed").await?;
    Ok(Redirect::to(&format!("/t/{}/members", ctx.tenant.slug)).into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, user_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    owner_only(&ctx)?;
    let (user_id, old_role, owners) =
        member_for_change(&mut ctx.tx, ctx.tenant.id, &user_id).await?;
    if old_role == "owner" && owners <= 1 {
        let mut errors = FieldErrors::new();
        errors.insert(format!("role-{user_id}"), "members.error.last_owner");
        return show(
            &state,
            &session,
            lang,
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            errors,
        )
        .await;
    }
    repo::remove_member(&mut ctx.tx, ctx.tenant.id, user_id).await?;
    links::revoke_for(&mut ctx.tx, user_id, Some(ctx.tenant.id)).await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new("member.remove", "membership", Some(user_id.to_string()))
            .by(&ctx.user)
            .tenant(Some(ctx.tenant.id))
            .before(json!({ "role": old_role })),
    )
    .await?;
    let removed_self = user_id == ctx.user.id;
    ctx.tx.commit().await?;
    flash(&session, "ok", "flash.member_removed").await?;
    let target = if removed_self {
        "/".to_string()
    } else {
        format!("/t/{}/members", ctx.tenant.slug)
    };
    Ok(Redirect::to(&target).into_response())
}

pub async fn reset_link(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    origin: PublicOrigin,
    Path((_slug, user_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    owner_only(&ctx)?;
    let user_id: Uuid = user_id.parse().map_err(|_| AppError::NotFound)?;
    let member = repo::member(&mut ctx.tx, ctx.tenant.id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // An owner may reset only people who belong to this seller alone: otherwise a link from one
    // tenant would open the person's other tenants too.
    if repo::other_memberships(&state.db, user_id, ctx.tenant.id).await? > 0 {
        let mut errors = FieldErrors::new();
        errors.insert(format!("role-{user_id}"), "members.error.reset_elsewhere");
        return show(
            &state,
            &session,
            lang,
            ctx,
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
    let link = links::issue(
        &mut ctx.tx,
        user_id,
        Some(ctx.tenant.id),
        purpose,
        Some(ctx.user.id),
    )
    .await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            "member.password_link",
            "membership",
            Some(user_id.to_string()),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id)),
    )
    .await?;
    let shown_link = shown(&origin, &ctx.tenant.time_zone, &member.email, link);
    show(
        &state,
        &session,
        lang,
        ctx,
        StatusCode::OK,
        Some(shown_link),
        None,
        FieldErrors::new(),
    )
    .await
}
