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
use crate::error::{AppResult, DomainError};
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
    slug: String,
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

async fn page(
    state: &AppState,
    (session, lang): (&Session, Lang),
    mut ctx: TenantCtx,
    (status, shown, form, errors): (StatusCode, Option<String>, TokenForm, FormErrors),
) -> AppResult<Response> {
    let zone = ctx.tenant.time_zone.clone();
    let tokens = repo::tokens(&mut ctx.tx, ctx.tenant.id)
        .await?
        .into_iter()
        .map(|row| TokenView {
            scope: Scope::parse(&row.scope)
                .map(|s| lang.t(s.label_key()))
                .unwrap_or_else(|| row.scope.clone()),
            created: fmt::datetime(row.created_at, &zone),
            last_used: row
                .last_used_at
                .map_or_else(|| lang.t("api.never"), |at| fmt::datetime(at, &zone)),
            revoked: row.revoked_at.map(|at| fmt::datetime(at, &zone)),
            row,
        })
        .collect();
    ctx.tx.commit().await?;
    let path = format!("/t/{}/settings/api-tokens", ctx.tenant.slug);
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
            slug: ctx.tenant.slug.clone(),
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
