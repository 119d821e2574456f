//! The pages for setting a password through a one-time link and changing one's own password;
//! the changes themselves are `actions::set_password_with_link` and
//! `actions::change_own_password`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::actions::{self, ChangeOwnPassword, SetPasswordWithLink};
use super::{Actor, CurrentUser, links};
use crate::db::SystemScope;
use crate::error::{AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ClientIp, render_with};

/// A new password, typed twice (the set-password form).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewPasswordForm {
    pub password: String,
    pub password_confirm: String,
}

/// One's own password change as posted: the current one, and the new one typed twice.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ChangePasswordForm {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
}

#[derive(Template)]
#[template(path = "auth/set_password.html")]
struct SetPasswordPage {
    layout: Layout,
    email: String,
    token: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/link_invalid.html")]
struct LinkInvalidPage {
    layout: Layout,
}

fn invalid_link(state: &AppState, lang: Lang) -> AppResult<Response> {
    let page = LinkInvalidPage {
        layout: Layout::public(state, lang, "link.invalid_title", "/set-password"),
    };
    render_with(StatusCode::GONE, &page)
}

pub async fn set_password_form(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> AppResult<Response> {
    link_form(&state, lang, token, StatusCode::OK, FieldErrors::new()).await
}

/// The set-password form for a link that is still valid (or the "link no longer valid" page),
/// with the messages of a refused try.
async fn link_form(
    state: &AppState,
    lang: Lang,
    token: String,
    status: StatusCode,
    errors: FieldErrors,
) -> AppResult<Response> {
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let link = links::find_valid(&mut tx, &token).await?;
    tx.commit().await?;
    let Some(link) = link else {
        return invalid_link(state, lang);
    };
    let page = SetPasswordPage {
        layout: Layout::public(state, lang, "link.title", &format!("/set-password/{token}")),
        email: link.email,
        token,
        errors: FormErrors::new(lang, &errors),
    };
    render_with(status, &page)
}

pub async fn set_password(
    State(state): State<AppState>,
    lang: Lang,
    front: Front,
    session: Session,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> AppResult<Response> {
    let input = SetPasswordWithLink {
        token: token.clone(),
        password: form.password,
        password_confirm: form.password_confirm,
        ip,
    };
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    match actions::set_password_with_link(&mut tx, &state.passwords, input).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "flash.password_set").await?;
            Ok(Redirect::to("/login").into_response())
        }
        Err(e @ (DomainError::Invalid(_) | DomainError::NotFound)) if front.is_json() => {
            Err(e.into())
        }
        Err(DomainError::NotFound) => invalid_link(&state, lang),
        Err(DomainError::Invalid(errors)) => {
            // Nothing was written; show the form again for the link's person.
            drop(tx);
            link_form(
                &state,
                lang,
                token,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/account_password.html")]
struct AccountPasswordPage {
    layout: Layout,
    errors: FormErrors,
}

pub async fn account_password_form(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "account.password_title",
        "/account/password",
    )
    .await?;
    render_with(
        StatusCode::OK,
        &AccountPasswordPage {
            layout,
            errors: FormErrors::none(),
        },
    )
}

pub async fn account_password(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    Form(form): Form<ChangePasswordForm>,
) -> AppResult<Response> {
    let input = ChangeOwnPassword {
        current_password: form.current_password,
        password: form.password,
        password_confirm: form.password_confirm,
        ip,
    };
    let actor = Actor::user(&user);
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    match actions::change_own_password(&mut tx, &actor, &state.passwords, input).await {
        Ok(()) => {
            tx.commit().await?;
            flash(&session, "ok", "flash.password_changed").await?;
            Ok(Redirect::to("/account/password").into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            drop(tx);
            let layout = Layout::for_user(
                &state,
                &session,
                lang,
                &user,
                None,
                "account.password_title",
                "/account/password",
            )
            .await?;
            let page = AccountPasswordPage {
                layout,
                errors: FormErrors::new(lang, &errors),
            };
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}
