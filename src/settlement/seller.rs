//! The seller's settlements (`/t/{slug}/settlements`): its finalized settlements only — the
//! owner's, and the assigned account manager's to view — each with its lines and their origins,
//! payments, hash (re-verifiable) and the same CSV and XLSX finance exports.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions;
use super::export::{self, Job};
use super::repo::{self, TenantRow};
use super::{domain, sheet};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::{Access, Tenant, TenantCtx};
use crate::web::fmt;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::render;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant_slug}/settlements", get(index))
        .route("/t/{tenant_slug}/settlements/{id}", get(show))
        .route("/t/{tenant_slug}/settlements/{id}/export.csv", get(csv))
        .route("/t/{tenant_slug}/settlements/{id}/export.xlsx", get(xlsx))
        .route("/t/{tenant_slug}/settlements/{id}/verify", post(verify))
        .route("/t/{tenant_slug}/settlements/{id}/lines/{line}", get(line))
}

pub use super::domain::READERS;

fn readable(ctx: &TenantCtx) -> AppResult<TenantRow> {
    ctx.require_active()?;
    ctx.actor.require(READERS)?;
    export::tenant_row(&ctx.tenant).map_err(AppError::Internal)
}

/// The page frame of a seller's settlement page.
async fn layout(
    state: &AppState,
    session: &Session,
    lang: Lang,
    (user, tenant, access): (&CurrentUser, &Tenant, Access),
    (title, path): (&str, &str),
) -> AppResult<Layout> {
    Layout::for_user(
        state,
        session,
        lang,
        user,
        Some((tenant, access)),
        title,
        path,
    )
    .await
}

fn id_of(raw: &str) -> AppResult<Uuid> {
    raw.parse().map_err(|_| AppError::NotFound)
}

pub struct Item {
    pub id: Uuid,
    pub period: String,
    pub status: String,
    pub status_label: String,
    pub total_seller: String,
    pub paid: String,
    pub hash: String,
}

#[derive(Template)]
#[template(path = "settlement/seller_list.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    items: Vec<Item>,
}

/// `GET /t/{slug}/settlements`: the finalized settlements, newest first.
pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let tenant = readable(&ctx)?;
    let cur = tenant.settlement_currency.code();
    let mut items: Vec<Item> = repo::settlements(&mut ctx.tx, tenant.id)
        .await?
        .into_iter()
        .map(|s| {
            let status = domain::payment_status(s.total_seller, s.paid);
            Item {
                id: s.id,
                period: actions::period_code(s.period),
                status: status.into(),
                status_label: lang.t(&format!("settlement.status.{status}")),
                total_seller: fmt::money(s.total_seller, cur),
                paid: fmt::money(s.paid, cur),
                hash: s.hash.chars().take(12).collect(),
            }
        })
        .collect();
    items.reverse();
    ctx.tx.commit().await?;
    let path = format!("/t/{}/settlements", tenant.slug);
    let layout = layout(
        &state,
        &session,
        lang,
        (&ctx.user, &ctx.tenant, ctx.access),
        ("settlement.seller_title", &path),
    )
    .await?;
    render(&ListPage {
        layout,
        slug: tenant.slug,
        items,
    })
}

#[derive(Template)]
#[template(path = "settlement/seller_settlement.html")]
struct ShowPage {
    layout: Layout,
    base: String,
    sheet: sheet::Sheet,
}

/// `GET /t/{slug}/settlements/{id}`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let tenant = readable(&ctx)?;
    let id = id_of(&id)?;
    let base = format!("/t/{}/settlements/{id}", tenant.slug);
    let lines = format!("{base}/lines");
    let sheet =
        sheet::load_settlement(&mut ctx.tx, lang, &tenant, id, &|l| format!("{lines}/{l}")).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/settlements", tenant.slug);
    let layout = layout(
        &state,
        &session,
        lang,
        (&ctx.user, &ctx.tenant, ctx.access),
        ("settlement.seller_title", &path),
    )
    .await?;
    render(&ShowPage {
        layout,
        base,
        sheet,
    })
}

async fn job_of(
    state: &AppState,
    lang: Lang,
    ctx: &mut TenantCtx,
    id: &str,
) -> AppResult<(Job, String, TenantRow)> {
    let tenant = readable(ctx)?;
    let id = id_of(id)?;
    let (job, status) = export::seller_job(&state.db, lang, &mut ctx.tx, &tenant, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((job, status, tenant))
}

/// `GET …/export.csv`: the same file finance downloads.
pub async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (job, status, tenant) = job_of(&state, lang, &mut ctx, &id).await?;
    ctx.tx.commit().await?;
    let name = export::file_name(&tenant.slug, &job.head.period, &status, "csv");
    Ok(export::download(
        export::CSV_TYPE,
        &name,
        export::csv_body(job),
    ))
}

pub async fn xlsx(
    State(state): State<AppState>,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let (job, status, tenant) = job_of(&state, lang, &mut ctx, &id).await?;
    ctx.tx.commit().await?;
    let name = export::file_name(&tenant.slug, &job.head.period, &status, "xlsx");
    let file = export::xlsx_file(job).await?;
    Ok(export::download(
        export::XLSX_TYPE,
        &name,
        export::file_body(file),
    ))
}

/// `POST …/verify`: the hash recomputed from what is stored (audited).
pub async fn verify(
    session: Session,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let tenant = readable(&ctx)?;
    let id = id_of(&id)?;
    let v = actions::verify(&mut ctx.tx, &ctx.actor, &tenant, id).await?;
    ctx.tx.commit().await?;
    let (kind, key) = if v.ok() {
        ("ok", "settlement.verify.ok")
    } else {
        ("error", "settlement.verify.broken")
    };
    flash(&session, kind, key).await?;
    Ok(Redirect::to(&format!("/t/{}/settlements/{id}", tenant.slug)).into_response())
}

/// `GET …/lines/{line}`: a finalized line and where its amount comes from.
pub async fn line(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, id, line)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let tenant = readable(&ctx)?;
    let (id, line_id) = (id_of(&id)?, id_of(&line)?);
    // Only a finalized line of this settlement: a draft's lines are finance's.
    match repo::line(&mut ctx.tx, tenant.id, line_id).await? {
        Some((_, Some(s))) if s == id => {}
        _ => return Err(AppError::NotFound),
    }
    let (line, _, title, origin) = sheet::line(&mut ctx.tx, lang, &tenant, line_id).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/settlements", tenant.slug);
    let layout = layout(
        &state,
        &session,
        lang,
        (&ctx.user, &ctx.tenant, ctx.access),
        ("settlement.line_title", &path),
    )
    .await?;
    render(&sheet::LinePage {
        layout,
        back: format!("/t/{}/settlements/{id}", tenant.slug),
        title,
        line,
        origin,
    })
}
