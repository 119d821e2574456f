//! Content review's pages: adding a version (multipart: a file or a link), the self-check and
//! the cross-review, the owner's switch, and serving a version's file back to the tenant's users.
//! Each goes through `actions`; a refused form comes back on a page of its own with the section
//! and the message beside the field (422), a success goes back to the collaboration's page.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, AddDeliverable, CrossReview, SelfCheck};
use super::domain::FileType;
use super::section::{self, Refused};
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
#[template(path = "review/page.html")]
struct ReviewPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    section: String,
}

/// The section of a collaboration with a refused form (422), in a fresh transaction (the
/// refused action's is abandoned: nothing it did is kept).
async fn refused_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    collaboration: Uuid,
    refused: Refused,
) -> AppResult<Response> {
    let mut ctx = ctx.reopen(&state.db).await?;
    let section = section::collaboration(&mut ctx, collaboration, lang, Some(refused)).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "review.title",
        &path,
    )
    .await?;
    render_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ReviewPage {
            layout,
            slug: ctx.tenant.slug.clone(),
            id: collaboration,
            section,
        },
    )
}

fn back_to(slug: &str, id: Uuid) -> Response {
    Redirect::to(&format!("/t/{slug}/collaborations/{id}#deliverables")).into_response()
}

/// What became of an action: done (flash, back to the collaboration), refused on fields (the
/// section again with the messages), or an error page.
struct Outcome {
    result: Result<(), DomainError>,
    collaboration: Uuid,
    flash: &'static str,
    refused: Refused,
}

async fn answer(
    state: &AppState,
    (session, lang, front): (&Session, Lang, Front),
    ctx: TenantCtx,
    outcome: Outcome,
) -> AppResult<Response> {
    match outcome.result {
        Ok(()) => {
            ctx.tx.commit().await?;
            flash(session, "success", outcome.flash).await?;
            Ok(back_to(&ctx.tenant.slug, outcome.collaboration))
        }
        Err(DomainError::Invalid(keys)) if !front.is_json() => {
            let refused = Refused {
                errors: FormErrors::new(lang, &keys),
                ..outcome.refused
            };
            refused_page(state, session, lang, ctx, outcome.collaboration, refused).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /t/{tenant_slug}/collaborations/{id}/deliverables` (multipart: kind, lang, file or
/// link, note).
pub async fn add(
    State(state): State<AppState>,
    (session, lang, front): (Session, Lang, Front),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    multipart: Multipart,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    // Another tenant's collaboration is 404 before a viewer's 403, as in the action.
    super::repo::collaboration(&mut ctx.tx, ctx.tenant.id, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.require(actions::REVIEWERS)?;
    let form = read_evidence_form(multipart, "file").await;
    let refused = Refused {
        target: "add".into(),
        kind: form.text("kind").to_string(),
        lang: form.text("lang").to_string(),
        link: form.text("link").to_string(),
        note: form.text("note").to_string(),
        ..Refused::default()
    };
    let result = match form.files_error {
        Some(_) => Err(DomainError::field("file", "review.error.file_too_big")),
        None => {
            let input = AddDeliverable {
                collaboration_id: id,
                kind: refused.kind.clone(),
                lang: refused.lang.clone(),
                link: refused.link.clone(),
                note: refused.note.clone(),
                file: form.files.into_iter().next(),
            };
            actions::add_deliverable(&mut ctx.tx, &state.storage, &ctx.actor, input)
                .await
                .map(|_| ())
        }
    };
    let outcome = Outcome {
        result,
        collaboration: id,
        flash: "review.added",
        refused,
    };
    answer(&state, (&session, lang, front), ctx, outcome).await
}

/// The version named in the path (404 for another tenant's or no version).
async fn version_of(ctx: &mut TenantCtx, id: &str) -> AppResult<super::repo::DeliverableRow> {
    let id = parse_id(id)?;
    super::repo::deliverable(&mut ctx.tx, ctx.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The version's id and its collaboration's.
async fn collaboration_of(ctx: &mut TenantCtx, id: &str) -> AppResult<(Uuid, Uuid)> {
    let d = version_of(ctx, id).await?;
    Ok((d.id, d.collaboration_id))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SelfCheckForm {
    pub item: Vec<String>,
    pub comment: String,
}

/// `POST /t/{tenant_slug}/deliverables/{id}/self-check`.
pub async fn self_check(
    State(state): State<AppState>,
    (session, lang, front): (Session, Lang, Front),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<SelfCheckForm>,
) -> AppResult<Response> {
    let (id, collaboration) = collaboration_of(&mut ctx, &id).await?;
    let input = SelfCheck {
        deliverable_id: id,
        ticked: form.item,
        comment: form.comment.clone(),
    };
    let result = actions::self_check(&mut ctx.tx, &ctx.actor, input).await;
    let outcome = Outcome {
        result,
        collaboration,
        flash: "review.self_checked",
        refused: Refused {
            target: id.to_string(),
            comment: form.comment,
            ..Refused::default()
        },
    };
    answer(&state, (&session, lang, front), ctx, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    pub outcome: String,
    pub comment: String,
}

/// `POST /t/{tenant_slug}/deliverables/{id}/review`.
pub async fn review(
    State(state): State<AppState>,
    (session, lang, front): (Session, Lang, Front),
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<ReviewForm>,
) -> AppResult<Response> {
    let (id, collaboration) = collaboration_of(&mut ctx, &id).await?;
    let input = CrossReview {
        deliverable_id: id,
        outcome: form.outcome.clone(),
        comment: form.comment.clone(),
    };
    let result = actions::cross_review(&mut ctx.tx, &ctx.actor, input).await;
    let outcome = Outcome {
        result,
        collaboration,
        flash: "review.reviewed",
        refused: Refused {
            target: id.to_string(),
            outcome: form.outcome,
            comment: form.comment,
            ..Refused::default()
        },
    };
    answer(&state, (&session, lang, front), ctx, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchForm {
    /// `on` or `off`.
    pub content_review: String,
    /// The collaboration to go back to (else the profile).
    pub back: String,
}

/// `POST /t/{tenant_slug}/settings/content-review` (the owner).
pub async fn switch(
    (session, front): (Session, Front),
    mut ctx: TenantCtx,
    Form(form): Form<SwitchForm>,
) -> AppResult<Response> {
    let on = match form.content_review.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Err(DomainError::field("content_review", "review.error.switch").into());
        }
    };
    actions::set_content_review(&mut ctx.tx, &ctx.actor, on).await?;
    ctx.tx.commit().await?;
    if front.is_json() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    flash(
        &session,
        "success",
        if on {
            "review.turned_on"
        } else {
            "review.turned_off"
        },
    )
    .await?;
    Ok(match form.back.parse::<Uuid>() {
        Ok(id) => back_to(&ctx.tenant.slug, id),
        Err(_) => Redirect::to(&format!("/t/{}/settings/profile", ctx.tenant.slug)).into_response(),
    })
}

/// What a version's file may do when opened on its own: nothing (no script, no plugins, no
/// form, no same-origin access); images and video play.
const FILE_CSP: &str =
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

/// `GET /t/{tenant_slug}/deliverables/{id}/file`: any user of the tenant; another tenant's
/// version, or one that is a link, is 404.
pub async fn file(
    State(state): State<AppState>,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let d = version_of(&mut ctx, &id).await?;
    let upload = d.upload_id.ok_or(AppError::NotFound)?;
    let file = crate::evidence::repo::find_of(&mut ctx.tx, ctx.tenant.id, upload, "deliverable")
        .await?
        .ok_or(AppError::NotFound)?;
    drop(ctx);
    let kind = file
        .content_type
        .as_deref()
        .and_then(FileType::from_content_type)
        .ok_or(AppError::NotFound)?;
    crate::web::stored_file(
        &state.storage,
        &file.storage_key,
        file.bytes,
        kind.content_type(),
        &crate::evidence::domain::disposition(kind.inline(), &file.filename),
        FILE_CSP,
    )
    .await
}
