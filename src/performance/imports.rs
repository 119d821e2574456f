//! Snapshot CSV uploads (the creator import's flow): upload → validation report with every
//! rejected row and its line number → import the good rows or cancel. Files are small (the
//! request body limit applies), so they are parsed in the request; the validated rows are kept
//! with the report and the import writes exactly those, in one statement, or nothing.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::csv_import::{self, PostRef, Posts};
use super::domain::NewSnapshot;
use super::posts::apply_event;
use super::{can_write, parse_id, repo, zone_of};
use crate::audit;
use crate::contracts::domain::ContractEvent;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::tracking::windows::Metrics;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

/// At most this many rejected rows are shown.
pub const ERRORS_SHOWN: usize = 1000;

#[derive(Serialize, Deserialize)]
struct StoredRow {
    line: usize,
    post_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    captured_at: OffsetDateTime,
    views: i64,
    likes: i64,
    comments: i64,
    shares: i64,
    avg_watch_seconds: Option<Decimal>,
}

#[derive(Serialize, Deserialize)]
struct StoredError {
    line: usize,
    column: String,
    value: String,
    key: String,
}

#[derive(FromRow)]
struct ImportRow {
    id: Uuid,
    campaign_id: Uuid,
    filename: String,
    encoding: String,
    status: String,
    total_rows: i32,
    good_rows: i32,
    error_rows: i32,
    errors: serde_json::Value,
    created_at: OffsetDateTime,
}

const IMPORT_COLUMNS: &str = "id, campaign_id, filename, encoding, status, total_rows, good_rows, \
     error_rows, errors, created_at";

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
    let rows = sqlx::query_as::<_, ImportRow>(&format!(
        "SELECT {IMPORT_COLUMNS} FROM snapshot_imports WHERE tenant_id = $1 AND campaign_id = $2 \
         ORDER BY created_at DESC LIMIT 20"
    ))
    .bind(ctx.tenant.id)
    .bind(campaign.id)
    .fetch_all(&mut *ctx.tx)
    .await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "performance.import.title",
        &path,
    )
    .await?;
    let tz = ctx.tenant.time_zone.clone();
    render_with(
        status,
        &FormPage {
            layout,
            slug: ctx.tenant.slug.clone(),
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
                    status_key: format!("performance.import.status.{}", r.status),
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

/// `POST /t/{slug}/campaigns/{id}/snapshots/import`: validates and keeps the report.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let campaign = campaign_of(&mut ctx, &id).await?;
    can_write(&ctx)?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("snapshots.csv").to_string();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => too_large = true,
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                too_large = true;
                break;
            }
        }
    }
    let refuse = |key: &str, detail: &str| Some(lang.t_with(key, &[("detail", detail)]));
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let key = if too_large {
            "performance.import.error.too_large"
        } else {
            "performance.import.error.no_file"
        };
        return form_page(
            &state,
            &session,
            lang,
            ctx,
            campaign,
            StatusCode::UNPROCESSABLE_ENTITY,
            refuse(key, ""),
        )
        .await;
    };
    let mut posts = Posts::default();
    for p in repo::posts_of_campaign(&mut ctx.tx, ctx.tenant.id, campaign.id).await? {
        let r = PostRef {
            id: p.id,
            published_at: p.published_at,
        };
        if let Some(v) = p.video_id {
            posts.by_video.insert(v, r);
        }
        posts.by_url.insert(p.url, r);
    }
    let parsed = match csv_import::parse(
        &bytes[..],
        zone_of(&campaign.zone),
        &posts,
        OffsetDateTime::now_utc(),
    ) {
        Ok(p) => p,
        Err(e) => {
            return form_page(
                &state,
                &session,
                lang,
                ctx,
                campaign,
                StatusCode::UNPROCESSABLE_ENTITY,
                refuse(e.key, &e.detail),
            )
            .await;
        }
    };
    let rows: Vec<StoredRow> = parsed
        .rows
        .iter()
        .map(|r| StoredRow {
            line: r.line,
            post_id: r.post_id,
            captured_at: r.snapshot.captured_at,
            views: r.snapshot.metrics.views,
            likes: r.snapshot.metrics.likes,
            comments: r.snapshot.metrics.comments,
            shares: r.snapshot.metrics.shares,
            avg_watch_seconds: r.snapshot.avg_watch_seconds,
        })
        .collect();
    let errors: Vec<StoredError> = parsed
        .errors
        .iter()
        .map(|e| StoredError {
            line: e.line,
            column: e.column.clone(),
            value: e.value.clone(),
            key: e.key.to_string(),
        })
        .collect();
    let error_lines: std::collections::BTreeSet<usize> =
        parsed.errors.iter().map(|e| e.line).collect();
    let import_id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO snapshot_imports (tenant_id, id, campaign_id, filename, encoding, total_rows, \
           good_rows, error_rows, rows, errors, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(ctx.tenant.id)
    .bind(import_id)
    .bind(campaign.id)
    .bind(filename.chars().take(255).collect::<String>())
    .bind(parsed.encoding)
    .bind(i32::try_from(parsed.total_rows).unwrap_or(i32::MAX))
    .bind(i32::try_from(rows.len()).unwrap_or(i32::MAX))
    .bind(i32::try_from(error_lines.len()).unwrap_or(i32::MAX))
    .bind(json!(rows))
    .bind(json!(errors))
    .bind(ctx.user.id)
    .execute(&mut *ctx.tx)
    .await?;
    ctx.tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/t/{}/snapshot-imports/{import_id}",
        ctx.tenant.slug
    ))
    .into_response())
}

pub struct ErrorLine {
    pub line: usize,
    pub column: String,
    pub value: String,
    pub message: String,
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
    status: String,
    status_key: String,
    total_rows: i32,
    good_rows: i32,
    error_rows: i32,
    errors: Vec<ErrorLine>,
    more_errors: usize,
    can_write: bool,
}

async fn load_import(ctx: &mut TenantCtx, id: &str, lock: bool) -> AppResult<ImportRow> {
    let id = parse_id(id)?;
    sqlx::query_as::<_, ImportRow>(&format!(
        "SELECT {IMPORT_COLUMNS} FROM snapshot_imports WHERE tenant_id = $1 AND id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    ))
    .bind(ctx.tenant.id)
    .bind(id)
    .fetch_optional(&mut *ctx.tx)
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
    let import = load_import(&mut ctx, &id, false).await?;
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
        status_key: format!("performance.import.status.{}", import.status),
        status: import.status,
        total_rows: import.total_rows,
        good_rows: import.good_rows,
        error_rows: import.error_rows,
        more_errors: stored.len().saturating_sub(ERRORS_SHOWN),
        errors: stored
            .into_iter()
            .take(ERRORS_SHOWN)
            .map(|e| ErrorLine {
                message: lang.t(&e.key),
                line: e.line,
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
    let import = load_import(&mut ctx, &id, false).await?;
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
    State(_state): State<AppState>,
    session: Session,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let import = load_import(&mut ctx, &id, true).await?;
    can_write(&ctx)?;
    let target = format!("/t/{}/snapshot-imports/{}", ctx.tenant.slug, import.id);
    if import.status != "validated" {
        return Ok(Redirect::to(&target).into_response());
    }
    let rows_json: serde_json::Value =
        sqlx::query_scalar("SELECT rows FROM snapshot_imports WHERE tenant_id = $1 AND id = $2")
            .bind(ctx.tenant.id)
            .bind(import.id)
            .fetch_one(&mut *ctx.tx)
            .await?;
    let rows: Vec<StoredRow> = serde_json::from_value(rows_json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored snapshot rows: {e}")))?;
    let snapshots: Vec<(Uuid, NewSnapshot)> = rows
        .iter()
        .map(|r| {
            (
                r.post_id,
                NewSnapshot {
                    captured_at: r.captured_at,
                    metrics: Metrics {
                        views: r.views,
                        likes: r.likes,
                        comments: r.comments,
                        shares: r.shares,
                    },
                    avg_watch_seconds: r.avg_watch_seconds,
                },
            )
        })
        .collect();
    repo::upsert_snapshots(
        &mut ctx.tx,
        ctx.tenant.id,
        &snapshots,
        "csv",
        Some(ctx.user.id),
    )
    .await?;
    let posts: Vec<Uuid> = rows.iter().map(|r| r.post_id).collect();
    let published: Vec<(Uuid, String, Option<bool>)> = sqlx::query_as(
        "SELECT DISTINCT l.id, l.state, (k.data->>'sample_needed')::boolean \
           FROM posts p JOIN collaborations l ON l.tenant_id = p.tenant_id AND l.id = p.collaboration_id \
           JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id \
          WHERE p.tenant_id = $1 AND p.id = ANY($2) AND l.state = 'published'",
    )
    .bind(ctx.tenant.id)
    .bind(&posts)
    .fetch_all(&mut *ctx.tx)
    .await?;
    for (collab, state, sample) in published {
        apply_event(
            &mut ctx,
            collab,
            &state,
            ContractEvent::TrackingStarted,
            "tracking_started",
            sample.unwrap_or(false),
        )
        .await?;
    }
    finish(&mut ctx, import.id, "imported").await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            "snapshots.import",
            "snapshot_import",
            Some(import.id.to_string()),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id))
        .after(json!({ "rows": rows.len(), "file": import.filename })),
    )
    .await?;
    ctx.tx.commit().await?;
    flash(&session, "ok", "performance.import.imported").await?;
    Ok(Redirect::to(&target).into_response())
}

async fn finish(ctx: &mut TenantCtx, id: Uuid, status: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE snapshot_imports SET status = $3, finished_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(ctx.tenant.id)
    .bind(id)
    .bind(status)
    .execute(&mut *ctx.tx)
    .await?;
    Ok(())
}

/// `POST /t/{slug}/snapshot-imports/{id}/cancel`
pub async fn cancel(
    Path((_slug, id)): Path<(String, String)>,
    session: Session,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let import = load_import(&mut ctx, &id, true).await?;
    can_write(&ctx)?;
    if import.status == "validated" {
        finish(&mut ctx, import.id, "cancelled").await?;
        ctx.tx.commit().await?;
        flash(&session, "ok", "performance.import.cancelled").await?;
    }
    Ok(Redirect::to(&format!(
        "/t/{}/campaigns/{}/snapshots/import",
        ctx.tenant.slug, import.campaign_id
    ))
    .into_response())
}
