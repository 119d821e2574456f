//! Setting a password through a one-time link, and changing one's own password.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::links;
use super::{CurrentUser, repo};
use crate::audit;
use crate::db::SystemScope;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::domain::{FieldErrors, validate_new_password};
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ClientIp, render_with};

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
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let link = links::find_valid(&mut tx, &token).await?;
    tx.commit().await?;
    let Some(link) = link else {
        return invalid_link(&state, lang);
    };
    let page = SetPasswordPage {
        layout: Layout::public(
            &state,
            lang,
            "link.title",
            &format!("/set-password/{token}"),
        ),
        email: link.email,
        token,
        errors: FormErrors::none(),
    };
    render_with(StatusCode::OK, &page)
}

pub async fn set_password(
    State(state): State<AppState>,
    lang: Lang,
    session: Session,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    let Some(link) = links::find_valid(&mut tx, &token).await? else {
        return invalid_link(&state, lang);
    };
    let mut errors = FieldErrors::new();
    validate_new_password(
        form.get("password"),
        form.get("password_confirm"),
        &mut errors,
    );
    if !errors.is_empty() {
        let page = SetPasswordPage {
            layout: Layout::public(
                &state,
                lang,
                "link.title",
                &format!("/set-password/{token}"),
            ),
            email: link.email,
            token,
            errors: FormErrors::new(lang, &errors),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let hash = state.passwords.hash(form.get("password")).await?;
    // Consumed in the same transaction that sets the password: a second use finds it spent.
    if !links::consume(&mut tx, link.id).await? {
        return invalid_link(&state, lang);
    }
    repo::set_password(&mut tx, link.user_id, &hash).await?;
    audit::record(
        &mut tx,
        audit::Entry::new("user.password_set", "user", Some(link.user_id.to_string()))
            .actor(Some(link.user_id), link.email.clone())
            .tenant(link.tenant_id)
            .ip(ip.map(|i| i.to_string())),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "flash.password_set").await?;
    Ok(Redirect::to("/login").into_response())
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
    user: CurrentUser,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let row = repo::find_by_email(state.db.pool(), &user.email).await?;
    let current_ok = state
        .passwords
        .verify(
            row.and_then(|r| r.password_hash),
            form.get("current_password"),
        )
        .await;
    if !current_ok {
        errors.insert("current_password".into(), "account.error.current_wrong");
    }
    validate_new_password(
        form.get("password"),
        form.get("password_confirm"),
        &mut errors,
    );
    if !errors.is_empty() {
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
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let hash = state.passwords.hash(form.get("password")).await?;
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    repo::set_password(&mut tx, user.id, &hash).await?;
    audit::record(
        &mut tx,
        audit::Entry::new("user.password_change", "user", Some(user.id.to_string()))
            .by(&user)
            .ip(ip.map(|i| i.to_string())),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "flash.password_changed").await?;
    Ok(Redirect::to("/account/password").into_response())
}
