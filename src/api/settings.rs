//! The owner's API token page (`/t/{slug}/settings/api-tokens`): the tenant's tokens (name, scope,
//! the first characters, who made it, when, last used, revoked), a form to make one — shown once
//! on the page that answers — and a revoke button per live token.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::actions::{self, CreateToken};
use super::domain::Scope;
use super::repo::{self, TokenRow};
use crate::auth::{Actor, CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::{AppError, AppResult, DomainError};
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::fmt;
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{parse_id, render_with};

pub struct TokenView {
    pub row: TokenRow,
    pub scope: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "api/tokens.html")]
struct TokensPage {
    layout: Layout,
    /// Where the page's forms post (the company's page, or the person's own for staff tokens).
    base: String,
    intro_key: &'static str,
    tokens: Vec<TokenView>,
    /// A token just made: shown this once.
    shown: Option<String>,
    form: TokenForm,
    errors: FormErrors,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
    pub scope: String,
}

fn views(lang: Lang, rows: Vec<TokenRow>, zone: &str) -> Vec<TokenView> {
    rows.into_iter()
        .map(|row| TokenView {
            scope: Scope::parse(&row.scope)
                .map(|s| lang.t(s.label_key()))
                .unwrap_or_else(|| row.scope.clone()),
            created: fmt::datetime(row.created_at, zone),
            last_used: row
                .last_used_at
                .map_or_else(|| lang.t("api.never"), |at| fmt::datetime(at, zone)),
            revoked: row.revoked_at.map(|at| fmt::datetime(at, zone)),
            row,
        })
        .collect()
}

async fn page(
    state: &AppState,
    (session, lang): (&Session, Lang),
    mut ctx: TenantCtx,
    (status, shown, form, errors): (StatusCode, Option<String>, TokenForm, FormErrors),
) -> AppResult<Response> {
    let zone = ctx.tenant.time_zone.clone();
    let tokens = repo::tokens(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/settings/api-tokens", ctx.tenant.slug);
    let tokens = views(lang, tokens, &zone);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "api.title",
        &path,
    )
    .await?;
    render_with(
        status,
        &TokensPage {
            layout,
            intro_key: "api.intro",
            base: path,
            tokens,
            shown,
            form,
            errors,
        },
    )
}

/// `GET /t/{slug}/settings/api-tokens` (the owner).
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require(&[Access::Owner])?;
    ctx.require_active()?;
    let shown = (
        StatusCode::OK,
        None,
        TokenForm::default(),
        FormErrors::none(),
    );
    page(&state, (&session, lang), ctx, shown).await
}

/// `POST /t/{slug}/settings/api-tokens`: the token is shown once, on the page that answers.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let input = CreateToken {
        name: form.name.clone(),
        scope: form.scope.clone(),
    };
    match actions::create_token(&mut ctx.tx, &ctx.actor, input).await {
        Ok(created) => {
            ctx.tx.commit().await?;
            ctx.tx = state.db.tenant_tx(ctx.tenant.id, Some(ctx.user.id)).await?;
            let shown = (
                StatusCode::OK,
                Some(created.token),
                TokenForm::default(),
                FormErrors::none(),
            );
            page(&state, (&session, lang), ctx, shown).await
        }
        Err(DomainError::Invalid(keys)) => {
            let ctx = ctx.reopen(&state.db).await?;
            let shown = (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                FormErrors::new(lang, &keys),
            );
            page(&state, (&session, lang), ctx, shown).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /t/{slug}/settings/api-tokens/{id}/revoke`.
pub async fn revoke(
    session: Session,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    actions::revoke_token(&mut ctx.tx, &ctx.actor, id).await?;
    ctx.tx.commit().await?;
    flash(&session, "success", "api.revoked").await?;
    Ok(Redirect::to(&format!("/t/{}/settings/api-tokens", ctx.tenant.slug)).into_response())
}

/// The staff page's zone (staff work in the agency's time).
const STAFF_ZONE: &str = "Asia/Shanghai";
const STAFF_PATH: &str = "/account/api-tokens";

async fn staff_page(
    state: &AppState,
    (session, lang): (&Session, Lang),
    user: &CurrentUser,
    (status, shown, form, errors): (StatusCode, Option<String>, TokenForm, FormErrors),
) -> AppResult<Response> {
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let tokens = repo::staff_tokens(&mut tx, user.id).await?;
    tx.commit().await?;
    let layout = Layout::for_user(
        state,
        session,
        lang,
        user,
        None,
        "api.staff.title",
        STAFF_PATH,
    )
    .await?;
    render_with(
        status,
        &TokensPage {
            layout,
            intro_key: "api.staff.intro",
            base: STAFF_PATH.into(),
            tokens: views(lang, tokens, STAFF_ZONE),
            shown,
            form,
            errors,
        },
    )
}

fn account_manager(user: &CurrentUser) -> AppResult<()> {
    if user.platform_role == Some(PlatformRole::AccountManager) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// `GET /account/api-tokens`: an account manager's own staff tokens.
pub async fn staff_index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    account_manager(&user)?;
    let shown = (
        StatusCode::OK,
        None,
        TokenForm::default(),
        FormErrors::none(),
    );
    staff_page(&state, (&session, lang), &user, shown).await
}

/// `POST /account/api-tokens`: shown once, on the page that answers.
pub async fn staff_create(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let input = CreateToken {
        name: form.name.clone(),
        scope: form.scope.clone(),
    };
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let shown = match actions::create_staff_token(&mut tx, &Actor::user(&user), input).await {
        Ok(created) => {
            tx.commit().await?;
            (
                StatusCode::OK,
                Some(created.token),
                TokenForm::default(),
                FormErrors::none(),
            )
        }
        Err(DomainError::Invalid(keys)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            form,
            FormErrors::new(lang, &keys),
        ),
        Err(e) => return Err(e.into()),
    };
    staff_page(&state, (&session, lang), &user, shown).await
}

/// `POST /account/api-tokens/{id}/revoke`.
pub async fn staff_revoke(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    actions::revoke_staff_token(&mut tx, &Actor::user(&user), id).await?;
    tx.commit().await?;
    flash(&session, "success", "api.revoked").await?;
    Ok(Redirect::to(STAFF_PATH).into_response())
}
