//! Recording a fulfilment event (a multipart form with evidence files) and correcting a record.
//! Both go through `actions`; a refused form comes back on a page of its own with the records
//! and the message beside the field (422), a success goes back to the collaboration's page.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, CorrectFulfilmentRecord, RecordFulfilmentEvent};
use super::section::{self, CorrectionForm, RecordForm};
use crate::auth::{Actor, CurrentUser};
use crate::error::{AppError, AppResult, DomainError};
use crate::evidence::form::read_evidence_form;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{parse_id, render_with};

#[derive(Template)]
#[template(path = "fulfilment/page.html")]
struct FulfilmentPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    creator: String,
    section: String,
}

/// The records of a collaboration with a refused form (422).
async fn refused_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    id: Uuid,
    form: Option<RecordForm>,
    correction: Option<CorrectionForm>,
) -> AppResult<Response> {
    let row = crate::contracts::repo::collaboration(&mut ctx.tx, ctx.tenant.id, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let section = section::collaboration(&mut ctx, id, lang, form, correction).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "fulfilment.title",
        &path,
    )
    .await?;
    render_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &FulfilmentPage {
            layout,
            slug: ctx.tenant.slug.clone(),
            id,
            creator: format!("@{} · {}", row.handle, row.display_name),
            section,
        },
    )
}

fn back_to(slug: &str, id: Uuid) -> Response {
    Redirect::to(&format!("/t/{slug}/collaborations/{id}#fulfilment")).into_response()
}

/// `POST /t/{tenant_slug}/collaborations/{id}/fulfilment` (multipart: kind, severity, note,
/// occurred_on, evidence files). The role is checked before the body is read.
pub async fn record(
    State(state): State<AppState>,
    (session, lang, front): (Session, Lang, Front),
    Path((_slug, id)): Path<(String, String)>,
    actor: Actor,
    user: CurrentUser,
    multipart: Multipart,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let tenant = actor.tenant()?.clone();
    {
        // Another tenant's collaboration is 404 before a viewer's 403, as in the action.
        let mut tx = state.db.tenant_tx(tenant.id, actor.user_id).await?;
        super::repo::collaboration(&mut tx, tenant.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    actor.require(actions::RECORDERS)?;
    let form = read_evidence_form(multipart, "evidence").await;
    let values = RecordForm {
        kind: form.text("kind").to_string(),
        severity: form.text("severity").to_string(),
        note: form.text("note").to_string(),
        occurred_on: form.text("occurred_on").to_string(),
        errors: FormErrors::none(),
    };
    let result = match form.files_error {
        Some(key) => Err(DomainError::field("evidence", key)),
        None => {
            let input = RecordFulfilmentEvent {
                collaboration_id: id,
                kind: values.kind.clone(),
                severity: values.severity.clone(),
                note: values.note.clone(),
                occurred_on: values.occurred_on.clone(),
                files: form.files,
            };
            let mut tx = state.db.tenant_tx(tenant.id, actor.user_id).await?;
            match actions::record_fulfilment_event(&mut tx, &state.storage, &actor, input).await {
                Ok(_) => {
                    tx.commit().await?;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => {
            flash(&session, "success", "fulfilment.recorded").await?;
            Ok(back_to(&tenant.slug, id))
        }
        Err(DomainError::Invalid(keys)) if !front.is_json() => {
            let tx = state.db.tenant_tx(tenant.id, Some(user.id)).await?;
            let access = actor.access().ok_or(AppError::NotFound)?;
            let ctx = TenantCtx {
                actor,
                tenant,
                user,
                access,
                tx,
            };
            let form = RecordForm {
                errors: FormErrors::new(lang, &keys),
                ..values
            };
            refused_page(&state, &session, lang, ctx, id, Some(form), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct CorrectionInput {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub reason: String,
}

/// `POST /t/{tenant_slug}/fulfilment/{id}/correct`.
pub async fn correct(
    State(state): State<AppState>,
    (session, lang, front): (Session, Lang, Front),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<CorrectionInput>,
) -> AppResult<Response> {
    let record_id = parse_id(&id)?;
    let input = CorrectFulfilmentRecord {
        record_id,
        action: form.action.clone(),
        note: form.note.clone(),
        reason: form.reason.clone(),
    };
    let collaboration = super::repo::target(&mut ctx.tx, ctx.tenant.id, record_id)
        .await?
        .ok_or(AppError::NotFound)?
        .collaboration_id;
    match actions::correct_fulfilment_record(&mut ctx.tx, &ctx.actor, input).await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "success", "fulfilment.corrected").await?;
            Ok(back_to(&ctx.tenant.slug, collaboration))
        }
        Err(DomainError::Invalid(keys)) if !front.is_json() => {
            let ctx = ctx.reopen(&state.db).await?;
            let correction = CorrectionForm {
                record_id,
                action: form.action,
                note: form.note,
                reason: form.reason,
                errors: FormErrors::new(lang, &keys),
            };
            refused_page(
                &state,
                &session,
                lang,
                ctx,
                collaboration,
                None,
                Some(correction),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
