//! Snapshot CSV uploads as pages (the creator import's flow): upload → validation report with
//! every rejected row and its line number → import the good rows or cancel. A file is streamed
//! into object storage as it arrives (never held whole, no transaction open; up to
//! [`super::MAX_UPLOAD_BYTES`], a clear message above it), read back from there and checked by
//! `actions::upload_snapshots`; the validated rows are kept with the report and
//! `actions::confirm_snapshot_import` writes exactly those, in one statement, or nothing.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{
    self, DecideSnapshotImport, SnapshotFile, SnapshotImportDecided, SnapshotUpload,
    UploadSnapshots,
};
use super::csv_import::{self, StoredError};
use super::domain::SnapshotImportStatus;
use super::repo::SnapshotImportRow;
use super::views::page_layout;
use super::{can_write, parse_id, repo};
use crate::auth::{Actor, CurrentUser};
use crate::error::{AppError, AppResult, DomainError};
use crate::state::AppState;
use crate::storage::{Storage, StreamError};
use crate::tenants::TenantCtx;
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ERRORS_SHOWN, ErrorLine, fmt, render_with};

pub struct RecentImport {
    pub id: Uuid,
    pub filename: String,
    pub status_key: String,
    pub counts: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "performance/import.html")]
struct FormPage {
    layout: Layout,
    /// The campaign's tabs, rendered (`campaigns::tabs`).
    tabs: String,
    slug: String,
    campaign_id: Uuid,
    campaign: String,
    zone: String,
    columns: Vec<(String, String)>,
    recent: Vec<RecentImport>,
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    campaign: repo::CampaignFacts,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<Response> {
    let rows = repo::recent_snapshot_imports(&mut ctx.tx, ctx.tenant.id, campaign.id).await?;
    let tz = ctx.tenant.time_zone.clone();
    let tabs = crate::campaigns::tabs::render(
        lang,
        &ctx.tenant.slug,
        campaign.id,
        ctx.access,
        crate::campaigns::tabs::Tab::Imports,
    );
    let (layout, slug) = page_layout(state, session, lang, ctx, "performance.import.title").await?;
    render_with(
        status,
        &FormPage {
            layout,
            tabs,
            slug,
            campaign_id: campaign.id,
            campaign: format!(
                "{} {}",
                campaign.code.clone().unwrap_or_default(),
                campaign.title
            ),
            zone: campaign.zone.clone(),
            columns: csv_import::COLUMNS
                .iter()
                .map(|(name, aliases)| ((*name).to_string(), aliases.join(", ")))
                .collect(),
            recent: rows
                .into_iter()
                .map(|r| RecentImport {
                    id: r.id,
                    filename: r.filename,
                    status_key: r.status.label_key().to_string(),
                    counts: lang.t_with(
                        "performance.import.counts",
                        &[
                            ("good", &r.good_rows.to_string()),
                            ("bad", &r.error_rows.to_string()),
                        ],
                    ),
                    at: fmt::datetime(r.created_at, &tz),
                })
                .collect(),
            error,
        },
    )
}

async fn campaign_of(ctx: &mut TenantCtx, id: &str) -> AppResult<repo::CampaignFacts> {
    let id = parse_id(id)?;
    repo::campaign(&mut ctx.tx, ctx.tenant.id, &ctx.tenant.time_zone, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /t/{slug}/campaigns/{id}/snapshots/import`
pub async fn form(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let campaign = campaign_of(&mut ctx, &id).await?;
    can_write(&ctx)?;
    form_page(&state, &session, lang, ctx, campaign, StatusCode::OK, None).await
}

/// `POST /t/{slug}/campaigns/{id}/snapshots/import`: streams the file into object storage,
/// then validates it from there and keeps the report. A refused file is deleted from storage.
/// Who acts comes without a transaction (`TenantCtx` would hold one open while the file
/// streams in); it is opened once the file is stored.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    (actor, user): (Actor, CurrentUser),
    Path((_slug, id)): Path<(String, String)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let campaign_id = parse_id(&id)?;
    // Refused before the body streams in: nothing of it is stored.
    actions::may_record(&actor)?;
    let tenant = actor.tenant()?.clone();
    let key = Storage::key(tenant.id, "snapshots", Uuid::now_v7());
    let file = receive(&state, &key, multipart).await?;
    let stored_key = match &file {
        SnapshotFile::Stored { object, .. } => Some(object.key.clone()),
        _ => None,
    };
    let tx = state.db.tenant_tx(tenant.id, Some(user.id)).await?;
    let access = actor.access().ok_or(AppError::NotFound)?;
    let mut ctx = TenantCtx {
        actor,
        tenant,
        user,
        access,
        tx,
    };
    let input = UploadSnapshots { campaign_id, file };
    let checked = actions::upload_snapshots(&mut ctx.tx, &ctx.actor, input).await;
    if !matches!(checked, Ok(SnapshotUpload::Checked { .. }))
        && let Some(key) = &stored_key
        && let Err(e) = state.storage.delete(key).await
    {
        tracing::warn!(error = %e, "snapshot upload: could not delete a refused file");
    }
    match checked? {
        SnapshotUpload::Checked { import_id } => {
            ctx.tx.commit().await?;
            Ok(Redirect::to(&format!(
                "/t/{}/snapshot-imports/{import_id}",
                ctx.tenant.slug
            ))
            .into_response())
        }
        SnapshotUpload::FileRefused { key, .. } if front.is_json() => {
            Err(DomainError::field("file", key).into())
        }
        SnapshotUpload::FileRefused { key, detail } => {
            let message = lang.t_with(key, &[("detail", &detail)]);
            let campaign = campaign_of(&mut ctx, &id).await?;
            form_page(
                &state,
                &session,
                lang,
                ctx,
                campaign,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
            )
            .await
        }
    }
}

/// The form's file, streamed into storage under `key` and read back into a local copy to check.
async fn receive(state: &AppState, key: &str, mut multipart: Multipart) -> AppResult<SnapshotFile> {
    let mut file = SnapshotFile::Missing;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            // Past the read limit, or a broken body.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Ok(SnapshotFile::TooLarge);
            }
            Err(_) => {
                return Ok(SnapshotFile::NotStored(
                    "performance.import.error.upload_broken",
                ));
            }
        };
        if field.name() != Some("file") || !matches!(file, SnapshotFile::Missing) {
            continue;
        }
        let name = field.file_name().unwrap_or("snapshots.csv").to_string();
        file = match state
            .storage
            .store_stream(key, field, super::MAX_UPLOAD_BYTES)
            .await
        {
            Ok(object) => {
                let spool = state
                    .storage
                    .spool(&object.key)
                    .await
                    .map_err(anyhow::Error::from)?;
                // The open handle reads the copy after the temporary file's name is gone.
                let local = spool.reopen().map_err(anyhow::Error::from)?;
                SnapshotFile::Stored {
                    name,
                    object,
                    local,
                }
            }
            Err(StreamError::TooLarge) => SnapshotFile::TooLarge,
            Err(StreamError::Broken) => {
                SnapshotFile::NotStored("performance.import.error.upload_broken")
            }
            Err(StreamError::Storage(e)) => {
                tracing::error!(error = %e, "snapshot upload: storage failed");
                SnapshotFile::NotStored("performance.import.error.storage")
            }
        };
    }
    Ok(file)
}

#[derive(Template)]
#[template(path = "performance/import_report.html")]
struct ReportPage {
    layout: Layout,
    slug: String,
    id: Uuid,
    campaign_id: Uuid,
    filename: String,
    encoding: String,
    status_key: String,
    /// Checked and waiting for a decision (confirm or cancel).
    undecided: bool,
    total_rows: i32,
    good_rows: i32,
    error_rows: i32,
    errors: Vec<ErrorLine>,
    more_errors: usize,
    can_write: bool,
}

async fn load_import(ctx: &mut TenantCtx, id: &str) -> AppResult<SnapshotImportRow> {
    let id = parse_id(id)?;
    repo::snapshot_import(&mut ctx.tx, ctx.tenant.id, id, false)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /t/{slug}/snapshot-imports/{id}`
pub async fn report(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let import = load_import(&mut ctx, &id).await?;
    let can_write = can_write(&ctx).is_ok();
    ctx.tx.commit().await?;
    let stored: Vec<StoredError> =
        serde_json::from_value(import.errors.clone()).unwrap_or_default();
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "performance.import.title",
        &path,
    )
    .await?;
    let page = ReportPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        id: import.id,
        campaign_id: import.campaign_id,
        filename: import.filename,
        encoding: import.encoding,
        status_key: import.status.label_key().to_string(),
        undecided: import.status == SnapshotImportStatus::Validated,
        total_rows: import.total_rows,
        good_rows: import.good_rows,
        error_rows: import.error_rows,
        more_errors: stored.len().saturating_sub(ERRORS_SHOWN),
        errors: stored
            .into_iter()
            .take(ERRORS_SHOWN)
            .map(|e| ErrorLine {
                message: lang.t(&e.key),
                line: e.line as i64,
                column: e.column,
                value: e.value,
            })
            .collect(),
        can_write,
    };
    render_with(StatusCode::OK, &page)
}

/// `GET /t/{slug}/snapshot-imports/{id}/errors.csv`: every rejected row, in the reader's
/// language.
pub async fn errors_csv(
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let import = load_import(&mut ctx, &id).await?;
    ctx.tx.commit().await?;
    let stored: Vec<StoredError> = serde_json::from_value(import.errors).unwrap_or_default();
    crate::web::rejected_rows_csv(
        lang,
        &format!("snapshot-import-{}-errors.csv", import.id),
        stored
            .into_iter()
            .map(|e| (e.line as i64, e.column, e.value, lang.t(&e.key))),
    )
}

/// `POST /t/{slug}/snapshot-imports/{id}/confirm`: writes the validated rows (the same post
/// and moment replaces), once.
pub async fn confirm(
    session: Session,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let import_id = parse_id(&id)?;
    let target = format!("/t/{}/snapshot-imports/{import_id}", ctx.tenant.slug);
    let decided = actions::confirm_snapshot_import(
        &mut ctx.tx,
        &ctx.actor,
        DecideSnapshotImport { import_id },
    )
    .await?;
    if let SnapshotImportDecided::Imported { .. } = decided {
        ctx.tx.commit().await?;
        flash(&session, "ok", "performance.import.imported").await?;
    }
    Ok(Redirect::to(&target).into_response())
}

/// `POST /t/{slug}/snapshot-imports/{id}/cancel`
pub async fn cancel(
    Path((_slug, id)): Path<(String, String)>,
    session: Session,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let import_id = parse_id(&id)?;
    let import = load_import(&mut ctx, &id).await?;
    let decided = actions::cancel_snapshot_import(
        &mut ctx.tx,
        &ctx.actor,
        DecideSnapshotImport { import_id },
    )
    .await?;
    if decided == SnapshotImportDecided::Cancelled {
        ctx.tx.commit().await?;
        flash(&session, "ok", "performance.import.cancelled").await?;
    }
    Ok(Redirect::to(&format!(
        "/t/{}/campaigns/{}/snapshots/import",
        ctx.tenant.slug, import.campaign_id
    ))
    .into_response())
}
