//! The owner's webhook pages (`/t/{slug}/settings/webhooks`): the endpoints (URL, format, events,
//! state, what waits and what failed), a form to add one — a Sextant endpoint's signing secret
//! shown once on the page that answers — switch off / on, delete, send a test event; and per
//! endpoint its delivery log (the last 50 deliveries, each try).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::actions::{self, CreateEndpoint, Reach};
use super::domain::{self, EventKind, Format};
use super::repo::{self, EndpointRow};
use crate::error::{AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::fmt;
use crate::web::forms::{Choice, Form, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{PublicOrigin, parse_id, render_with};

/// How many deliveries an endpoint's log shows.
const LOG_SIZE: i64 = 50;

pub struct EndpointView {
    pub row: EndpointRow,
    pub format: String,
    pub events: Vec<String>,
    pub lang: String,
    pub created: String,
    pub active: bool,
}

fn endpoint_view(lang: Lang, row: EndpointRow, zone: &str) -> EndpointView {
    EndpointView {
        format: Format::parse(&row.format)
            .map(|f| lang.t(f.label_key()))
            .unwrap_or_else(|| row.format.clone()),
        events: row
            .events
            .iter()
            .filter_map(|e| EventKind::parse(e))
            .map(|k| lang.t(k.label_key()))
            .collect(),
        lang: Lang::parse(&row.lang)
            .unwrap_or(Lang::ZhCn)
            .native_name()
            .to_string(),
        created: fmt::datetime(row.created_at, zone),
        active: row.disabled_at.is_none(),
        row,
    }
}

#[derive(Template)]
#[template(path = "webhooks/index.html")]
struct IndexPage {
    layout: Layout,
    base: String,
    endpoints: Vec<EndpointView>,
    /// A Sextant endpoint's secret just made: shown this once.
    shown: Option<String>,
    formats: Vec<Choice>,
    events: Vec<Choice>,
    form: WebhookForm,
    errors: FormErrors,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookForm {
    pub url: String,
    pub format: String,
    pub events: Vec<String>,
    pub secret: String,
    pub lang: String,
}

fn choices(lang: Lang, form: &WebhookForm) -> (Vec<Choice>, Vec<Choice>) {
    let chosen_format = if form.format.is_empty() {
        "sextant"
    } else {
        form.format.as_str()
    };
    let formats = Format::ALL
        .iter()
        .map(|f| Choice {
            value: f.code().into(),
            label: lang.t(f.label_key()),
            checked: f.code() == chosen_format,
        })
        .collect();
    let events = EventKind::SUBSCRIBABLE
        .iter()
        .map(|k| Choice {
            value: k.code().into(),
            label: lang.t(k.label_key()),
            checked: form.events.iter().any(|e| e == k.code()),
        })
        .collect();
    (formats, events)
}

async fn page(
    state: &AppState,
    (session, lang): (&Session, Lang),
    mut ctx: TenantCtx,
    (status, shown, form, errors): (StatusCode, Option<String>, WebhookForm, FormErrors),
) -> AppResult<Response> {
    let zone = ctx.tenant.time_zone.clone();
    let rows = repo::endpoints(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let base = format!("/t/{}/settings/webhooks", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "webhooks.title",
        &base,
    )
    .await?;
    let (formats, events) = choices(lang, &form);
    render_with(
        status,
        &IndexPage {
            layout,
            base,
            endpoints: rows
                .into_iter()
                .map(|r| endpoint_view(lang, r, &zone))
                .collect(),
            shown,
            formats,
            events,
            form,
            errors,
        },
    )
}

/// `GET /t/{slug}/settings/webhooks` (the owner).
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require(&[Access::Owner])?;
    ctx.require_active()?;
    let form = WebhookForm {
        // Every event ticked to start with.
        events: EventKind::SUBSCRIBABLE
            .iter()
            .map(|k| k.code().to_string())
            .collect(),
        ..WebhookForm::default()
    };
    let shown = (StatusCode::OK, None, form, FormErrors::none());
    page(&state, (&session, lang), ctx, shown).await
}

/// `POST /t/{slug}/settings/webhooks`: a Sextant endpoint's secret is shown once, on the page
/// that answers.
pub async fn create(
    State(state): State<AppState>,
    (session, lang): (Session, Lang),
    origin: PublicOrigin,
    mut ctx: TenantCtx,
    Form(form): Form<WebhookForm>,
) -> AppResult<Response> {
    let input = CreateEndpoint {
        url: form.url.clone(),
        format: form.format.clone(),
        events: form.events.clone(),
        secret: form.secret.clone(),
        lang: form.lang.clone(),
    };
    let reach = Reach {
        allow_private: state.config.webhooks_allow_private,
    };
    match actions::create_endpoint(&mut ctx.tx, &ctx.actor, input, &origin.0, reach).await {
        Ok(created) => {
            ctx.tx.commit().await?;
            ctx.tx = state.db.tenant_tx(ctx.tenant.id, Some(ctx.user.id)).await?;
            let form = WebhookForm {
                events: EventKind::SUBSCRIBABLE
                    .iter()
                    .map(|k| k.code().to_string())
                    .collect(),
                ..WebhookForm::default()
            };
            let shown = (StatusCode::OK, created.secret, form, FormErrors::none());
            page(&state, (&session, lang), ctx, shown).await
        }
        Err(DomainError::Invalid(keys)) => {
            let ctx = ctx.reopen(&state.db).await?;
            // The secret typed is not sent back into the page.
            let form = WebhookForm {
                secret: String::new(),
                ..form
            };
            let shown = (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                FormErrors::new(lang, &keys),
            );
            page(&state, (&session, lang), ctx, shown).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct DeliveryView {
    pub row: repo::DeliveryRow,
    pub event: String,
    pub state_label: String,
    pub created: String,
    pub finished: String,
    pub next: String,
    pub attempts: Vec<AttemptView>,
}

pub struct AttemptView {
    pub attempt: i32,
    pub at: String,
    pub status: String,
    pub error: String,
    pub duration_ms: i32,
}

#[derive(Template)]
#[template(path = "webhooks/show.html")]
struct ShowPage {
    layout: Layout,
    base: String,
    endpoint: EndpointView,
    deliveries: Vec<DeliveryView>,
}

/// `GET /t/{slug}/settings/webhooks/{id}`: the endpoint and its delivery log.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require(&[Access::Owner])?;
    ctx.require_active()?;
    let id = parse_id(&id)?;
    let tenant = ctx.tenant.id;
    let zone = ctx.tenant.time_zone.clone();
    let row = repo::endpoint(&mut ctx.tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let rows = repo::deliveries(&mut ctx.tx, tenant, id, LOG_SIZE).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|d| d.id).collect();
    let mut tries = repo::attempts(&mut ctx.tx, tenant, &ids).await?;
    ctx.tx.commit().await?;
    let base = format!("/t/{}/settings/webhooks", ctx.tenant.slug);
    let deliveries = rows
        .into_iter()
        .map(|d| {
            let mine: Vec<repo::AttemptRow>;
            (mine, tries) = tries.drain(..).partition(|a| a.delivery_id == d.id);
            DeliveryView {
                event: EventKind::parse(&d.event)
                    .map(|k| lang.t(k.label_key()))
                    .unwrap_or_else(|| d.event.clone()),
                state_label: lang.t(domain::state_label_key(&d.state)),
                created: fmt::datetime(d.created_at, &zone),
                finished: d
                    .delivered_at
                    .map(|at| fmt::datetime(at, &zone))
                    .unwrap_or_default(),
                next: match (d.state.as_str(), d.next_attempt_at) {
                    ("pending", Some(at)) => fmt::datetime(at, &zone),
                    _ => String::new(),
                },
                attempts: mine
                    .into_iter()
                    .map(|a| AttemptView {
                        attempt: a.attempt,
                        at: fmt::datetime(a.at, &zone),
                        status: a.status.map(|s| s.to_string()).unwrap_or_default(),
                        error: a.error.unwrap_or_default(),
                        duration_ms: a.duration_ms,
                    })
                    .collect(),
                row: d,
            }
        })
        .collect();
    let path = format!("{base}/{id}");
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "webhooks.log.title",
        &path,
    )
    .await?;
    render_with(
        StatusCode::OK,
        &ShowPage {
            layout,
            base,
            endpoint: endpoint_view(lang, row, &zone),
            deliveries,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    pub active: String,
}

/// `POST /t/{slug}/settings/webhooks/{id}/active` (`active` = `true` or `false`).
pub async fn set_active(
    session: Session,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<ActiveForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let active = match form.active.trim() {
        "true" => true,
        "false" => false,
        _ => {
            let mut errors = FieldErrors::new();
            errors.insert("active".into(), "webhooks.error.active");
            return Err(DomainError::Invalid(errors).into());
        }
    };
    actions::set_active(&mut ctx.tx, &ctx.actor, id, active).await?;
    ctx.tx.commit().await?;
    let key = if active {
        "webhooks.enabled"
    } else {
        "webhooks.disabled"
    };
    flash(&session, "success", key).await?;
    Ok(Redirect::to(&format!("/t/{}/settings/webhooks", ctx.tenant.slug)).into_response())
}

/// `POST /t/{slug}/settings/webhooks/{id}/delete`.
pub async fn delete(
    session: Session,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    actions::delete_endpoint(&mut ctx.tx, &ctx.actor, id).await?;
    ctx.tx.commit().await?;
    flash(&session, "success", "webhooks.deleted").await?;
    Ok(Redirect::to(&format!("/t/{}/settings/webhooks", ctx.tenant.slug)).into_response())
}

/// `POST /t/{slug}/settings/webhooks/{id}/test`: queues a `ping`; the log shows how it went.
pub async fn test(
    session: Session,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    actions::send_test(&mut ctx.tx, &ctx.actor, id).await?;
    ctx.tx.commit().await?;
    flash(&session, "success", "webhooks.test_queued").await?;
    Ok(Redirect::to(&format!("/t/{}/settings/webhooks/{id}", ctx.tenant.slug)).into_response())
}
