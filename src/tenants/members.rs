//! The owner's members page: add a member with a role (a one-time link to set a password), change
//! roles, remove members — never the last owner — and issue password-reset links. The changes are
//! `actions::{add_member, change_member_role, remove_member, issue_member_reset_link}`; this file
//! turns forms into their inputs and their answers into pages.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{
    self, AddMember, ChangeMemberRole, IssueMemberResetLink, RemoveMember, member_field,
};
use super::domain::MemberRole;
use super::{Access, TenantCtx, repo};
use crate::error::{AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::web::fmt;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{PublicOrigin, render_with};

pub struct MemberRow {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: MemberRole,
    pub role_label: String,
    pub since: String,
    pub is_self: bool,
    pub pending: bool,
}

impl MemberRow {
    /// The form field that carries messages about this member's row.
    pub fn role_field(&self) -> String {
        member_field(self.user_id)
    }
}

pub use crate::web::ShownLink;

#[derive(Template)]
#[template(path = "tenants/members.html")]
struct MembersPage {
    layout: Layout,
    slug: String,
    members: Vec<MemberRow>,
    roles: Vec<(MemberRole, String)>,
    link: Option<ShownLink>,
    name: String,
    email: String,
    role: String,
    errors: FormErrors,
}

/// A member's new role as chosen on their row.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RoleForm {
    pub role: String,
}

/// What the members page shows besides the members: its status, a link just issued, the add
/// form as typed, and messages per field.
struct View {
    status: StatusCode,
    link: Option<ShownLink>,
    form: Option<AddMember>,
    errors: FieldErrors,
}

impl View {
    fn ok() -> View {
        View {
            status: StatusCode::OK,
            link: None,
            form: None,
            errors: FieldErrors::new(),
        }
    }

    fn with_link(link: ShownLink) -> View {
        View {
            link: Some(link),
            ..View::ok()
        }
    }

    fn invalid(errors: FieldErrors, form: Option<AddMember>) -> View {
        View {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            form,
            errors,
            ..View::ok()
        }
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    view: View,
) -> AppResult<Response> {
    let rows = repo::members(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let members = rows
        .into_iter()
        .map(|m| MemberRow {
            is_self: m.user_id == ctx.user.id,
            role_label: lang.t(m.role.label_key()),
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
    let form = view.form.unwrap_or(AddMember {
        role: MemberRole::Operator.as_str().into(),
        ..AddMember::default()
    });
    let page = MembersPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        members,
        roles: MemberRole::ALL
            .into_iter()
            .map(|r| (r, lang.t(r.label_key())))
            .collect(),
        link: view.link,
        name: form.name,
        email: form.email,
        role: form.role,
        errors: FormErrors::new(lang, &view.errors),
    };
    render_with(view.status, &page)
}

/// An action that failed, and where the members page shows why: next to a member's row, or in
/// the add form (as typed).
struct Failed {
    error: DomainError,
    row: Option<Uuid>,
    form: Option<AddMember>,
}

/// An action's refusal or wrong input, answered as the members page shows it: the page again
/// (its transaction abandoned, nothing kept) with the message next to the member's row or the
/// add form's field. A JSON request gets problem+json; any other error passes through.
async fn show_failure(
    state: &AppState,
    session: &Session,
    lang: Lang,
    front: Front,
    ctx: TenantCtx,
    failed: Failed,
) -> AppResult<Response> {
    let errors = match (failed.error, failed.row) {
        (e, _) if front.is_json() => return Err(e.into()),
        (DomainError::Invalid(errors), _) => errors,
        (DomainError::Refused(key), Some(row)) => FieldErrors::from([(member_field(row), key)]),
        (other, _) => return Err(other.into()),
    };
    let ctx = ctx.reopen(&state.db).await?;
    show(
        state,
        session,
        lang,
        ctx,
        View::invalid(errors, failed.form),
    )
    .await
}

fn owner_only(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(&[Access::Owner])?;
    ctx.require_active()
}

/// A member id from the path; one that is no uuid finds no member (the action answers 404 after
/// its own permission checks, as for any unknown id).
fn member_id(raw: &str) -> Uuid {
    raw.parse().unwrap_or(Uuid::nil())
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
) -> AppResult<Response> {
    owner_only(&ctx)?;
    show(&state, &session, lang, ctx, View::ok()).await
}

pub async fn add(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    origin: PublicOrigin,
    mut ctx: TenantCtx,
    Form(input): Form<AddMember>,
) -> AppResult<Response> {
    // Shown again as typed (trimmed) when something is wrong.
    let typed = AddMember {
        name: input.name.trim().to_string(),
        email: input.email.trim().to_string(),
        role: input.role,
    };
    match actions::add_member(&mut ctx.tx, &ctx.actor, typed.clone()).await {
        Ok(added) => {
            let shown_link = match added.link {
                Some(l) => Some(
                    ShownLink::deliver(&state, &origin, &ctx.tenant.time_zone, &added.email, l)
                        .await,
                ),
                None => None,
            };
            if shown_link.is_none() {
                flash(&session, "ok", "flash.member_added_existing").await?;
            }
            let view = match shown_link {
                Some(link) => View::with_link(link),
                None => View::ok(),
            };
            show(&state, &session, lang, ctx, view).await
        }
        Err(error) => {
            let failed = Failed {
                error,
                row: None,
                form: Some(typed),
            };
            show_failure(&state, &session, lang, front, ctx, failed).await
        }
    }
}

pub async fn change_role(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, user_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let input = ChangeMemberRole {
        user_id: member_id(&user_id),
        role: form.role,
    };
    let row = input.user_id;
    match actions::change_member_role(&mut ctx.tx, &ctx.actor, input).await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "flash.member_role_changed").await?;
            Ok(Redirect::to(&format!("/t/{}/members", ctx.tenant.slug)).into_response())
        }
        Err(error) => {
            let failed = Failed {
                error,
                row: Some(row),
                form: None,
            };
            show_failure(&state, &session, lang, front, ctx, failed).await
        }
    }
}

pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, user_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let input = RemoveMember {
        user_id: member_id(&user_id),
    };
    match actions::remove_member(&mut ctx.tx, &ctx.actor, input).await {
        Ok(()) => {
            let removed_self = input.user_id == ctx.user.id;
            ctx.tx.commit().await?;
            flash(&session, "ok", "flash.member_removed").await?;
            let target = if removed_self {
                "/".to_string()
            } else {
                format!("/t/{}/members", ctx.tenant.slug)
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(error) => {
            let failed = Failed {
                error,
                row: Some(input.user_id),
                form: None,
            };
            show_failure(&state, &session, lang, front, ctx, failed).await
        }
    }
}

pub async fn reset_link(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    origin: PublicOrigin,
    Path((_slug, user_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let input = IssueMemberResetLink {
        user_id: member_id(&user_id),
    };
    match actions::issue_member_reset_link(&mut ctx.tx, &ctx.actor, &state.db, input).await {
        Ok(issued) => {
            let link = ShownLink::deliver(
                &state,
                &origin,
                &ctx.tenant.time_zone,
                &issued.email,
                issued.link,
            )
            .await;
            show(&state, &session, lang, ctx, View::with_link(link)).await
        }
        Err(error) => {
            let failed = Failed {
                error,
                row: Some(input.user_id),
                form: None,
            };
            show_failure(&state, &session, lang, front, ctx, failed).await
        }
    }
}
