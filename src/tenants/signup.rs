//! The sign-up page: a new seller company creates its tenant (awaiting the agency's approval) and
//! its owner account (`actions::sign_up`), is signed in, and lands on the company profile.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, SignUp};
use super::domain::SignupInput;
use crate::auth::{MaybeUser, SESSION_USER_KEY};
use crate::error::{AppResult, DomainError};
use crate::state::AppState;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ClientIp, render_with};

#[derive(Template)]
#[template(path = "tenants/signup.html")]
struct SignupPage {
    layout: Layout,
    company: String,
    slug: String,
    name: String,
    email: String,
    errors: FormErrors,
}

pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let page = SignupPage {
        layout: Layout::public(&state, lang, "signup.title", "/signup"),
        company: String::new(),
        slug: String::new(),
        name: String::new(),
        email: String::new(),
        errors: FormErrors::none(),
    };
    render_with(StatusCode::OK, &page)
}

pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    front: Front,
    session: Session,
    ClientIp(ip): ClientIp,
    Form(form): Form<SignupInput>,
) -> AppResult<Response> {
    let input = SignUp {
        tenant_id: Uuid::now_v7(),
        company: form.company.trim().to_string(),
        slug: form.slug.trim().to_lowercase(),
        name: form.name.trim().to_string(),
        email: form.email.trim().to_string(),
        password: form.password,
        password_confirm: form.password_confirm,
        ip,
    };
    // Everything in the new tenant's own scope: the tenant, its owner, the membership, the audit.
    let mut tx = state.db.tenant_tx(input.tenant_id, None).await?;
    match actions::sign_up(&mut tx, &state.passwords, input.clone()).await {
        Ok(signed_up) => {
            tx.commit().await?;
            session.cycle_id().await?;
            session.insert(SESSION_USER_KEY, signed_up.user_id).await?;
            flash(&session, "ok", "flash.signed_up").await?;
            let target = format!("/t/{}/settings/profile", signed_up.slug);
            Ok(Redirect::to(&target).into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let page = SignupPage {
                layout: Layout::public(&state, lang, "signup.title", "/signup"),
                company: input.company,
                slug: input.slug,
                name: input.name,
                email: input.email,
                errors: FormErrors::new(lang, &errors),
            };
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}
