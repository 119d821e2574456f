//! The admins' checklist page (`/admin/checklists`): every item with its platform, markets and
//! both texts; add one; retire one or bring it back. Through the audited staff scope; the
//! changes are `actions::{add_checklist_item, set_checklist_item_active}`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::actions::{self, AddChecklistItem};
use super::repo::{self, ChecklistItem};
use crate::auth::{Actor, CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult, DomainError};
use crate::state::AppState;
use crate::web::forms::{Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{parse_id, render_with};

#[derive(Template)]
#[template(path = "review/checklists.html")]
struct ChecklistsPage {
    layout: Layout,
    items: Vec<ChecklistItem>,
    platforms: Vec<(String, String)>,
    form: ItemForm,
    errors: FormErrors,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ItemForm {
    pub platform: String,
    pub markets: String,
    pub text_zh: String,
    pub text_en: String,
    pub position: String,
}

async fn scope(state: &AppState, user: &CurrentUser) -> AppResult<Tx> {
    user.require(PlatformRole::Admin)?;
    Ok(state
        .db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: user.id,
            actor_label: user.label(),
            page: "admin_checklists",
        })
        .await?)
}

async fn page(
    state: &AppState,
    (session, lang, user): (&Session, Lang, &CurrentUser),
    mut tx: Tx,
    (status, form, errors): (StatusCode, ItemForm, FormErrors),
) -> AppResult<Response> {
    let items = repo::checklist(&mut tx, true).await?;
    tx.commit().await?;
    let layout = Layout::for_user(
        state,
        session,
        lang,
        user,
        None,
        "review.checklists",
        "/admin/checklists",
    )
    .await?;
    let platforms = [
        "tiktok_shop",
        "shopify",
        "amazon",
        "shopee",
        "lazada",
        "independent",
    ]
    .into_iter()
    .map(|p| (p.to_string(), lang.t(&format!("platform.{p}"))))
    .collect();
    render_with(
        status,
        &ChecklistsPage {
            layout,
            items,
            platforms,
            form,
            errors,
        },
    )
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    let tx = scope(&state, &user).await?;
    let shown = (StatusCode::OK, ItemForm::default(), FormErrors::none());
    page(&state, (&session, lang, &user), tx, shown).await
}

pub async fn add(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Form(form): Form<ItemForm>,
) -> AppResult<Response> {
    let mut tx = scope(&state, &user).await?;
    let input = AddChecklistItem {
        platform: form.platform.clone(),
        markets: form.markets.clone(),
        text_zh: form.text_zh.clone(),
        text_en: form.text_en.clone(),
        position: form.position.clone(),
    };
    match actions::add_checklist_item(&mut tx, &Actor::user(&user), input).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "success", "review.item_added").await?;
            Ok(Redirect::to("/admin/checklists").into_response())
        }
        Err(DomainError::Invalid(keys)) => {
            drop(tx);
            let tx = scope(&state, &user).await?;
            let shown = (
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                FormErrors::new(lang, &keys),
            );
            page(&state, (&session, lang, &user), tx, shown).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    /// `on` or `off`.
    pub active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ActiveForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let active = match form.active.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Err(AppError::from(DomainError::field(
                "active",
                "review.error.switch",
            )));
        }
    };
    let mut tx = scope(&state, &user).await?;
    actions::set_checklist_item_active(&mut tx, &Actor::user(&user), id, active).await?;
    tx.commit().await?;
    flash(&session, "success", "review.item_changed").await?;
    Ok(Redirect::to("/admin/checklists").into_response())
}
