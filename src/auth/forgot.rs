//! Self-service "forgot password": a person types their e-mail and, when an active account has
//! it and mail is on, gets a set-password link by mail. The page answers the same whether or not
//! the account exists (it never tells), and each request counts against the login's throttle
//! (the same counters, per account + ip and per ip), so it cannot be used to flood an inbox or
//! probe for accounts faster than logins can.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::links::{self, Purpose};
use super::repo;
use super::throttle::{self, Limits};
use crate::audit;
use crate::db::SystemScope;
use crate::error::AppResult;
use crate::mail::Mailer;
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::{ClientIp, PublicOrigin, render_with};

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    layout: Layout,
    mail_on: bool,
    email: String,
    email_error: Option<String>,
    form_error: Option<String>,
    sent: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    pub email: String,
}

fn page(state: &AppState, lang: Lang) -> ForgotPage {
    ForgotPage {
        layout: Layout::public(state, lang, "forgot.title", "/forgot-password"),
        mail_on: state.part::<Mailer>().is_on(),
        email: String::new(),
        email_error: None,
        form_error: None,
        sent: false,
    }
}

/// `GET /forgot-password`
pub async fn form(State(state): State<AppState>, lang: Lang) -> AppResult<Response> {
    render_with(StatusCode::OK, &page(&state, lang))
}

/// `POST /forgot-password`
pub async fn request(
    State(state): State<AppState>,
    lang: Lang,
    origin: PublicOrigin,
    ClientIp(ip): ClientIp,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_string();
    let mut shown = page(&state, lang);
    shown.email = email.clone();
    shown.email_error = super::handlers::email_error(lang, &email);
    if shown.email_error.is_some() {
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &shown);
    }
    let pool = state.db.pool();
    let limits = Limits::of(&state.config);
    if let Some(minutes) =
        throttle::count_attempt(pool, &throttle::keys(&email, ip), limits).await?
    {
        shown.form_error = Some(lang.t_with(
            "login.error.throttled",
            &[("minutes", &minutes.to_string())],
        ));
        return render_with(StatusCode::TOO_MANY_REQUESTS, &shown);
    }
    let mailer = state.part::<Mailer>().clone();
    if mailer.is_on() {
        let mut tx = state.db.system_tx(SystemScope::Auth).await?;
        // Staff get a staff link; a seller's member one in their (first) tenant — the kinds of
        // link the set-password page honours. Someone inactive, or in no tenant, gets none.
        let person = repo::find_by_email(&mut *tx, &email)
            .await?
            .filter(|p| p.active);
        let scope = match &person {
            Some(p) if p.platform_role.is_some() => Some(None),
            Some(p) => repo::first_membership(&mut tx, p.id).await?.map(Some),
            None => None,
        };
        if let (Some(person), Some(tenant)) = (person, scope) {
            let purpose = Purpose::for_person(person.has_password);
            let link = links::issue(&mut tx, person.id, tenant, purpose, None).await?;
            audit::record(
                &mut tx,
                audit::Entry::new("auth.reset_requested", "user", Some(person.id.to_string()))
                    .ip(ip.map(|i| i.to_string())),
            )
            .await?;
            tx.commit().await?;
            // Mailed after the answer: how long the mail server takes says nothing to the
            // visitor.
            let url = format!("{}{}", origin.0, link.path);
            let expires =
                crate::web::fmt::datetime(link.expires_at, crate::kernel::STAFF_TIME_ZONE);
            let to = person.email;
            tokio::spawn(async move {
                crate::mail::deliver_link(&mailer, &to, &url, &expires).await;
            });
        }
    }
    shown.sent = true;
    shown.email = String::new();
    render_with(StatusCode::OK, &shown)
}
