//! `/login` and `/logout`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::throttle::{self, Limits};
use super::{CurrentUser, MaybeUser, PlatformRole, SESSION_USER_KEY, repo};
use crate::audit;
use crate::db::SystemScope;
use crate::error::{AppError, AppResult};
use crate::kernel::text::{self, TextRule};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ClientIp, safe_next};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    email_error: Option<String>,
    password_error: Option<String>,
    form_error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    lang: Lang,
    session: Session,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    if let Some(user) = user {
        let target = safe_next(q.next.as_deref()).unwrap_or_else(|| home_path_for(&user));
        return Ok(Redirect::to(&target).into_response());
    }
    let mut layout = Layout::public(&state, lang, "login.title", "/login");
    layout.take_flashes(&session).await?;
    let page = LoginPage {
        layout,
        email: String::new(),
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
        email_error: None,
        password_error: None,
        form_error: None,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The message for an e-mail field that cannot be an address (the login and "forgot password"
/// forms), or None.
pub(super) fn email_error(lang: Lang, email: &str) -> Option<String> {
    match text::check(email, TextRule::EMAIL) {
        Err(key) => Some(lang.t(key)),
        Ok(_) if email.is_empty() || !email.contains('@') => {
            Some(lang.t("login.error.email_required"))
        }
        Ok(_) => None,
    }
}

pub async fn login(
    State(state): State<AppState>,
    lang: Lang,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_string();
    let next = safe_next(form.next.as_deref()).unwrap_or_default();
    let mut page = LoginPage {
        layout: Layout::public(&state, lang, "login.title", "/login"),
        email: email.clone(),
        next: next.clone(),
        email_error: None,
        password_error: None,
        form_error: None,
    };
    page.email_error = email_error(lang, &email);
    if form.password.is_empty() {
        page.password_error = Some(lang.t("login.error.password_required"));
    }
    if page.email_error.is_some() || page.password_error.is_some() {
        return render(page, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let keys = throttle::keys(&email, ip);
    let pool = state.db.pool();
    let limits = Limits::of(&state.config);
    // Counted before the password is checked: parallel guesses cannot slip under the limit.
    if let Some(minutes) = throttle::count_attempt(pool, &keys, limits).await? {
        page.form_error = Some(lang.t_with(
            "login.error.throttled",
            &[("minutes", &minutes.to_string())],
        ));
        return render(page, StatusCode::TOO_MANY_REQUESTS);
    }

    let (id, stored) = repo::login_candidate(pool, &email)
        .await?
        .map(|c| (Some(c.id), c.password_hash))
        .unwrap_or_default();
    // An unknown e-mail costs the same hash check as a wrong password.
    let ok = state.passwords.verify(stored, &form.password).await;
    let user = match id {
        Some(id) if ok => repo::find_active_by_id(pool, id).await?,
        _ => None,
    };
    let Some(user) = user else {
        page.form_error = Some(lang.t("login.error.invalid"));
        return render(page, StatusCode::UNAUTHORIZED);
    };

    throttle::succeeded(pool, &keys).await?;
    // A new session id at login: a planted id is worthless.
    session.cycle_id().await?;
    session.insert(SESSION_USER_KEY, user.id).await?;
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    audit::record(
        &mut tx,
        audit::Entry::new("auth.login", "user", Some(user.id.to_string()))
            .by(&user)
            .ip(ip.map(|i| i.to_string())),
    )
    .await?;
    tx.commit().await?;

    let target = if next.is_empty() {
        home_path_for(&user)
    } else {
        next
    };
    Ok(Redirect::to(&target).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    ClientIp(ip): ClientIp,
) -> AppResult<Response> {
    if let Some(user) = user {
        let mut tx = state.db.system_tx(SystemScope::Auth).await?;
        audit::record(
            &mut tx,
            audit::Entry::new("auth.logout", "user", Some(user.id.to_string()))
                .by(&user)
                .ip(ip.map(|i| i.to_string())),
        )
        .await?;
        tx.commit().await?;
    }
    session.flush().await?;
    // A fresh (anonymous) session carries the goodbye message.
    flash(&session, "ok", "flash.logged_out").await?;
    Ok(Redirect::to("/login").into_response())
}

/// `/`: the signed-in person's home, or the login page.
pub async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    let Some(user) = user else {
        return Ok(Redirect::to("/login").into_response());
    };
    if user.platform_role.is_some() {
        return Ok(Redirect::to(&home_path_for(&user)).into_response());
    }
    let tenants = crate::tenants::repo::tenants_of_user(&state.db, &user).await?;
    match tenants.first() {
        Some((slug, _)) => Ok(Redirect::to(&format!("/t/{slug}/")).into_response()),
        None => Err(AppError::NotFound),
    }
}

/// Where a person lands after login when no `next` was given.
pub fn home_path_for(user: &CurrentUser) -> String {
    match user.platform_role {
        Some(PlatformRole::Admin) => "/admin".into(),
        Some(PlatformRole::AccountManager) => "/am".into(),
        Some(PlatformRole::Finance) => "/finance".into(),
        None => "/".into(),
    }
}

fn render(page: LoginPage, status: StatusCode) -> AppResult<Response> {
    let html = page.render().map_err(anyhow::Error::from)?;
    Ok((status, Html(html)).into_response())
}
