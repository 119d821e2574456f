//! The matching weights: a platform setting an admin changes (SPEC §3). Shortlist entries freeze
//! their score, so a change never rewrites what a seller was already shown.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::actions;
use super::domain::WeightsInput;
use super::repo;
use crate::auth::{Actor, CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::{AppResult, DomainError};
use crate::state::AppState;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render_with;

/// (field, label key, value as typed)
type WeightField = (&'static str, &'static str, String);

/// The label of each component's field, in the form's order.
const LABELS: [&str; 6] = [
    "matching.component.audience",
    "matching.component.engagement",
    "matching.component.category",
    "matching.component.style",
    "matching.component.price",
    "matching.component.track_record",
];

/// The form's fields for weights as typed (or as in force).
fn fields_of(typed: &WeightsInput) -> Vec<WeightField> {
    typed
        .fields()
        .into_iter()
        .zip(LABELS)
        .map(|((name, value), label)| (name, label, value.to_string()))
        .collect()
}

#[derive(Template)]
#[template(path = "matching/weights.html")]
struct WeightsPage {
    layout: Layout,
    fields: Vec<WeightField>,
    errors: FormErrors,
}

pub async fn form(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    user.require(PlatformRole::Admin)?;
    let mut conn = state.db.pool().acquire().await?;
    let weights = repo::current_weights(&mut conn).await?;
    drop(conn);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "matching.weights_title",
        "/admin/matching-weights",
    )
    .await?;
    render_with(
        StatusCode::OK,
        &WeightsPage {
            layout,
            fields: fields_of(&WeightsInput::of(&weights)),
            errors: FormErrors::none(),
        },
    )
}

pub async fn save(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    Form(typed): Form<WeightsInput>,
) -> AppResult<Response> {
    let mut tx = state.db.system_tx(SystemScope::Auth).await?;
    match actions::save_matching_weights(&mut tx, &Actor::user(&user), typed.clone()).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "matching.weights_saved").await?;
            Ok(Redirect::to("/admin/matching-weights").into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            drop(tx);
            let layout = Layout::for_user(
                &state,
                &session,
                lang,
                &user,
                None,
                "matching.weights_title",
                "/admin/matching-weights",
            )
            .await?;
            render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &WeightsPage {
                    layout,
                    fields: fields_of(&typed),
                    errors: FormErrors::new(lang, &errors),
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
