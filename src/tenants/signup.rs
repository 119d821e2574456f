//! Seller sign-up: a new seller company creates its tenant (awaiting the agency's approval) and
//! its owner account, and lands on the company profile.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::{SignupInput, validate_signup};
use crate::audit;
use crate::auth::{MaybeUser, SESSION_USER_KEY, repo as users};
use crate::db::unique_violation;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::{FormData, FormErrors};
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
    session: Session,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> AppResult<Response> {
    let input = SignupInput {
        company: form.get("company").trim().to_string(),
        slug: form.get("slug").trim().to_lowercase(),
        name: form.get("name").trim().to_string(),
        email: form.get("email").trim().to_string(),
        password: form.get("password").to_string(),
        password_confirm: form.get("password_confirm").to_string(),
    };
    let mut errors = validate_signup(&input);
    if !errors.contains_key("slug")
        && super::repo::tenant_by_slug(state.db.pool(), &input.slug)
            .await?
            .is_some()
    {
        errors.insert("slug".into(), "signup.error.slug_taken");
    }
    if !errors.contains_key("email")
        && users::find_by_email(state.db.pool(), &input.email)
            .await?
            .is_some()
    {
        errors.insert("email".into(), "signup.error.email_taken");
    }
    if !errors.is_empty() {
        let page = SignupPage {
            layout: Layout::public(&state, lang, "signup.title", "/signup"),
            company: input.company,
            slug: input.slug,
            name: input.name,
            email: input.email,
            errors: FormErrors::new(lang, &errors),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }

    let hash = state.passwords.hash(&input.password).await?;
    let tenant_id = Uuid::now_v7();
    let created = async {
        // Everything in the new tenant's own scope: the tenant, its owner, the membership, the audit.
        let mut tx = state.db.tenant_tx(tenant_id, None).await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, display_name, status) VALUES ($1, $2, $3, 'pending')",
        )
        .bind(tenant_id)
        .bind(&input.slug)
        .bind(&input.company)
        .execute(&mut *tx)
        .await?;
        let user_id = users::create_invited(&mut tx, &input.email, &input.name, None).await?;
        users::set_password(&mut tx, user_id, &hash).await?;
        super::repo::add_member(&mut tx, tenant_id, user_id, "owner").await?;
        audit::record(
            &mut tx,
            audit::Entry::new("tenant.signup", "tenant", Some(tenant_id.to_string()))
                .actor(Some(user_id), input.email.clone())
                .tenant(Some(tenant_id))
                .after(json!({
                    "slug": input.slug, "display_name": input.company,
                    "owner": input.email, "status": "pending",
                }))
                .ip(ip.map(|i| i.to_string())),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(user_id)
    }
    .await;
    let user_id = match created {
        Ok(id) => id,
        // Someone took the slug or the email a moment ago: say so next to the field.
        Err(e) if unique_violation(&e).is_some() => {
            let field = match unique_violation(&e) {
                Some("tenants_slug_key") => ("slug", "signup.error.slug_taken"),
                _ => ("email", "signup.error.email_taken"),
            };
            let mut errors = super::domain::FieldErrors::new();
            errors.insert(field.0.into(), field.1);
            let page = SignupPage {
                layout: Layout::public(&state, lang, "signup.title", "/signup"),
                company: input.company,
                slug: input.slug,
                name: input.name,
                email: input.email,
                errors: FormErrors::new(lang, &errors),
            };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return Err(e.into()),
    };

    session.cycle_id().await?;
    session.insert(SESSION_USER_KEY, user_id).await?;
    flash(&session, "ok", "flash.signed_up").await?;
    Ok(Redirect::to(&format!("/t/{}/settings/profile", input.slug)).into_response())
}
