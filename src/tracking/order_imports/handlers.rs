//! Order import pages: the list and upload form, an import's report (progress, rejected rows,
//! import / cancel / undo), its errors as CSV, and the unattributed orders. Every change goes
//! through `actions`; the upload streams its file into storage first.

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, EDITORS, ExportFile, StoredExport};
use super::domain::{self, FieldsNote, ImportCommand, ImportState, LOCAL_MINUTE};
use super::{ingest, repo};
use crate::auth::{Actor, CurrentUser};
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::storage::{Storage, StoredObject, StreamError};
use crate::tenants::TenantCtx;
use crate::tracking::order_imports::parse::{OrderFormat, shop_zone};
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ERRORS_SHOWN, ErrorLine};
use crate::web::{fmt, render_with};

/// Unattributed order lines shown on one page.
const UNATTRIBUTED_PAGE: i64 = 100;
/// How far the unattributed lines are counted ("more than 1,000" past it).
const UNATTRIBUTED_COUNTED: i64 = 1_000;
/// Rejected rows read per query while the errors CSV streams.
const ERRORS_CSV_PAGE: i64 = 5_000;

pub struct ImportView {
    pub id: Uuid,
    pub shop: String,
    pub filename: String,
    pub format_key: String,
    pub encoding: String,
    pub state: ImportState,
    pub running: bool,
    pub exported_at: String,
    pub created_at: String,
    pub by: String,
    pub rows_total: String,
    pub rows_good: String,
    pub rows_rejected: String,
    pub duplicates: i64,
    pub good_count: i64,
    /// Progress of the validation run in per mille; None while importing (indeterminate).
    pub permille: Option<i64>,
    pub failure: Option<String>,
    /// What the import did line by line (new, changed, unchanged, older): None before it ran.
    pub lines: Option<[String; 4]>,
    /// "Already imported: 0 changed" / "Older than the current export: 0 changed" when the
    /// import changed nothing.
    pub result: Option<String>,
    /// Which kept fields the batch lacks, or that it predates them.
    pub fields_note: Option<String>,
    pub predates_fields: bool,
    /// "Every date read both ways; read as …": the order's message, when it was assumed.
    pub dates_note: Option<String>,
    /// The export time was the latest time in the file (the form left it empty).
    pub exported_at_from_file: bool,
    /// Keys on more than one good row, with their lines (the first ones found), as messages.
    pub repeated: Vec<String>,
    /// What the list of repeated keys means, with how many rows the import leaves out.
    pub repeated_help: String,
}

/// Keys repeated in the file, each as its message: "order 5761… appears on lines 12 and 40;
/// line 40 is kept".
fn repeated_keys(lang: Lang, value: &serde_json::Value) -> Vec<String> {
    let Some(list) = value.as_array() else {
        return Vec::new();
    };
    list.iter()
        .map(|k| {
            let lines: Vec<String> = k["lines"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|n| n.as_i64())
                        .map(|n| n.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let kept = lines.last().cloned().unwrap_or_default();
            let lines = lines.join(", ");
            let order = k["order"].as_str().unwrap_or_default();
            match k["line_key"].as_str().filter(|s| !s.is_empty()) {
                Some(sku) => lang.t_with(
                    "orders.repeated_line",
                    &[
                        ("order", order),
                        ("sku", sku),
                        ("lines", &lines),
                        ("kept", &kept),
                    ],
                ),
                None => lang.t_with(
                    "orders.repeated_order",
                    &[("order", order), ("lines", &lines), ("kept", &kept)],
                ),
            }
        })
        .collect()
}

fn view(lang: Lang, time_zone: &str, row: repo::ImportRow) -> ImportView {
    let running = row.state.is_running();
    let permille = match row.state {
        ImportState::Importing => None,
        _ if row.bytes_total > 0 => {
            Some((row.bytes_done.min(row.bytes_total) * 1000) / row.bytes_total)
        }
        _ => Some(0),
    };
    let format = [OrderFormat::TikTokAffiliate, OrderFormat::Shopify]
        .into_iter()
        .find(|f| row.format.as_deref() == Some(f.code()));
    let note = domain::fields_note(format, row.line_fields.as_deref());
    let counts = (
        row.lines_new,
        row.lines_changed,
        row.lines_unchanged,
        row.lines_older,
    );
    let (lines, result) = match counts {
        (Some(new), Some(changed), Some(unchanged), Some(older)) => (
            Some([new, changed, unchanged, older].map(fmt::number)),
            match (new + changed, unchanged, older) {
                (0, u, 0) if u > 0 => Some(lang.t("orders.result_same")),
                (0, 0, o) if o > 0 => Some(lang.t("orders.result_older")),
                _ => None,
            },
        ),
        _ => (None, None),
    };
    ImportView {
        lines,
        result,
        predates_fields: note == Some(FieldsNote::Predates),
        fields_note: note.map(|n| match n {
            FieldsNote::Predates => lang.t("orders.fields_predates"),
            FieldsNote::Lacks(fields) => lang.t_with(
                "orders.fields_lacks",
                &[(
                    "fields",
                    &fields
                        .iter()
                        .map(|f| lang.t(f.label_key()))
                        .collect::<Vec<_>>()
                        .join(", "),
                )],
            ),
        }),
        id: row.id,
        shop: row.shop_name,
        filename: row.filename,
        format_key: row
            .format
            .map(|f| format!("tracking.orders.format.{f}"))
            .unwrap_or_else(|| "orders.format_unknown".into()),
        encoding: row.encoding.unwrap_or_default(),
        running,
        exported_at: fmt::datetime(row.exported_at, time_zone),
        created_at: fmt::datetime(row.created_at, time_zone),
        by: row.created_by.unwrap_or_default(),
        rows_total: fmt::number(row.rows_total),
        rows_good: fmt::number(row.rows_good),
        rows_rejected: fmt::number(row.rows_rejected),
        duplicates: row.duplicate_rows,
        good_count: row.rows_good,
        permille,
        failure: row.failure.map(|k| {
            ingest::problem_message(lang, &k, row.failure_detail.as_deref().unwrap_or(""))
        }),
        dates_note: row.dates_read_both_ways.map(|order| {
            lang.t_with(
                "orders.dates_both_ways",
                &[("order", &lang.t(&format!("date_order.{order}")))],
            )
        }),
        exported_at_from_file: row.exported_at_from_file,
        repeated: repeated_keys(lang, &row.repeated_keys),
        repeated_help: lang.t_with(
            "orders.repeated_help",
            &[("count", &fmt::number(row.duplicate_rows))],
        ),
        state: row.state,
    }
}

#[derive(Template)]
#[template(path = "orders/index.html")]
struct IndexPage {
    layout: Layout,
    can_edit: bool,
    shops: Vec<repo::ShopOption>,
    imports: Vec<ImportView>,
    shop_id: String,
    exported_at: String,
    /// The latest export time the picker offers (a local minute).
    exported_max: String,
    errors: FormErrors,
}

async fn layout(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: &TenantCtx,
    title: &str,
    path: &str,
) -> AppResult<Layout> {
    Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        title,
        path,
    )
    .await
}

/// What the upload form shows again after a refused upload.
#[derive(Default)]
struct UploadForm {
    shop_id: String,
    /// None: now, in the tenant's zone.
    exported_at: Option<String>,
    errors: FormErrors,
}

async fn index_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    status: StatusCode,
    form: UploadForm,
) -> AppResult<Response> {
    let UploadForm {
        shop_id,
        exported_at,
        errors,
    } = form;
    let shops = repo::shops(&mut ctx.tx).await?;
    let zone = ctx.tenant.time_zone.clone();
    let imports = repo::recent_imports(&mut ctx.tx)
        .await?
        .into_iter()
        .map(|r| view(lang, &zone, r))
        .collect();
    // Empty unless a refused upload is shown again: the file's latest time is the default.
    let exported_at = exported_at.unwrap_or_default();
    // The picker offers nothing later than now (the action refuses it too).
    let now = OffsetDateTime::now_utc() + super::domain::CLOCK_SKEW;
    let exported_max = shop_zone(&zone)
        .map(|z| time_tz::OffsetDateTimeExt::to_timezone(&now, z))
        .unwrap_or(now)
        .format(LOCAL_MINUTE)
        .unwrap_or_default();
    let path = format!("/t/{}/orders/imports", ctx.tenant.slug);
    let layout = layout(state, session, lang, &ctx, "orders.title", &path).await?;
    let can_edit = ctx.actor.require(EDITORS).is_ok();
    ctx.tx.commit().await?;
    render_with(
        status,
        &IndexPage {
            layout,
            can_edit,
            shops,
            imports,
            shop_id,
            exported_at,
            exported_max,
            errors,
        },
    )
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    index_page(
        &state,
        &session,
        lang,
        ctx,
        StatusCode::OK,
        UploadForm::default(),
    )
    .await
}

/// The file arrives last in the form; whatever the order, it is streamed into storage as it
/// comes (never held whole) with no transaction open, its header read, then
/// `actions::queue_order_import` checks the fields and records the import. A refused upload is
/// deleted from storage and nothing is recorded.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    actor: Actor,
    user: CurrentUser,
    mut multipart: Multipart,
) -> AppResult<Response> {
    // Refused before the body streams in: nothing of it is stored.
    actions::require_editor(&actor)?;
    let tenant = actor.tenant()?.clone();
    let upload_id = Uuid::now_v7();
    let key = Storage::key(tenant.id, "orders", upload_id);
    let mut shop_raw = String::new();
    let mut exported_raw = String::new();
    let mut file: Option<(String, Option<String>, StoredObject)> = None;
    let mut not_stored: Option<&'static str> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                not_stored = Some("orders.error.upload_broken");
                break;
            }
        };
        match field.name() {
            Some("shop_id") => shop_raw = field.text().await.unwrap_or_default(),
            Some("exported_at") => exported_raw = field.text().await.unwrap_or_default(),
            Some("file") if file.is_none() => {
                let filename = field
                    .file_name()
                    .map(|n| {
                        n.chars()
                            .filter(|c| !c.is_control())
                            .take(255)
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                let content_type = field.content_type().map(str::to_string);
                // The body limit on the route stops a larger file first (a broken upload).
                let limit = super::MAX_UPLOAD_BYTES as u64;
                match state.storage.store_stream(&key, field, limit).await {
                    Ok(stored) => file = Some((filename, content_type, stored)),
                    Err(StreamError::Broken | StreamError::TooLarge) => {
                        not_stored = Some("orders.error.upload_broken")
                    }
                    Err(StreamError::Storage(_)) => not_stored = Some("orders.error.storage"),
                }
            }
            _ => {}
        }
    }
    let stored_key = file.as_ref().map(|(_, _, stored)| stored.key.clone());
    // What the header says, for the messages too (the format's name, the problem's detail).
    let mut seen: (Option<OrderFormat>, String) = (None, String::new());
    let export = match (not_stored, file) {
        (Some(message_key), _) => ExportFile::NotStored(message_key),
        (None, None) => ExportFile::Missing,
        (None, Some((_, _, stored))) if stored.bytes == 0 => ExportFile::Empty,
        (None, Some((filename, content_type, object))) => {
            // Which export a file is does not depend on the zone: the header has no dates.
            let header =
                ingest::check_header(&state.storage, &object.key, time_tz::timezones::db::UTC)
                    .await?;
            seen = match &header {
                Ok(f) => (Some(*f), String::new()),
                Err(e) => (None, e.detail.clone()),
            };
            ExportFile::Stored(StoredExport {
                upload_id,
                filename,
                content_type,
                object,
                header,
            })
        }
    };
    let shop_id = shop_raw.parse::<Uuid>().ok();
    let input = actions::QueueOrderImport {
        shop_id,
        exported_at: exported_raw.clone(),
        file: export,
    };
    let mut tx = state.db.tenant_tx(tenant.id, actor.user_id).await?;
    let queued = actions::queue_order_import(&mut tx, &actor, input).await;
    let id = match queued {
        Ok(id) => id,
        Err(e) => {
            drop(tx);
            if let Some(key) = &stored_key
                && let Err(e) = state.storage.delete(key).await
            {
                tracing::warn!(error = %e, "order upload: could not delete a refused file");
            }
            let DomainError::Invalid(keys) = e else {
                return Err(e.into());
            };
            if front.is_json() {
                return Err(AppError::Invalid(keys));
            }
            let tx = state.db.tenant_tx(tenant.id, Some(user.id)).await?;
            let access = actor.access().ok_or(AppError::NotFound)?;
            let mut ctx = TenantCtx {
                actor,
                tenant,
                user,
                access,
                tx,
            };
            let shops = repo::shops(&mut ctx.tx).await?;
            let shop_name = shop_id
                .and_then(|id| shops.into_iter().find(|s| s.id == id))
                .map(|s| s.name)
                .unwrap_or_default();
            let errors = upload_messages(lang, &keys, seen, &shop_name);
            return index_page(
                &state,
                &session,
                lang,
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                UploadForm {
                    shop_id: shop_raw,
                    exported_at: Some(exported_raw),
                    errors,
                },
            )
            .await;
        }
    };
    tx.commit().await?;
    super::import_worker(&state).wake();
    Ok(Redirect::to(&format!("/t/{}/orders/imports/{id}", tenant.slug)).into_response())
}

/// The upload form's messages in `lang`: a file's message names the export found and the shop
/// chosen, or carries the header problem's detail.
fn upload_messages(
    lang: Lang,
    keys: &FieldErrors,
    (format, detail): (Option<OrderFormat>, String),
    shop: &str,
) -> FormErrors {
    let format = format.map(|f| lang.t(f.key())).unwrap_or_default();
    let mut errors = FormErrors::none();
    for (field, key) in keys {
        let message = match (field.as_str(), *key) {
            ("file", "orders.error.wrong_shop") => {
                lang.t_with(key, &[("format", &format), ("shop", shop)])
            }
            ("file", _) => ingest::problem_message(lang, key, &detail),
            _ => lang.t(key),
        };
        errors.add(field, message);
    }
    errors
}

async fn load(ctx: &mut TenantCtx, id: &str) -> AppResult<repo::ImportRow> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    repo::import(&mut ctx.tx, id)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "orders/show.html")]
struct ShowPage {
    layout: Layout,
    import: ImportView,
    can_edit: bool,
    errors: Vec<ErrorLine>,
    more_errors: i64,
    /// (rule's name, lines) the import attributed by each rule.
    rules: Vec<(String, String)>,
}

fn error_line(lang: Lang, e: repo::ErrorRow) -> ErrorLine {
    ErrorLine {
        line: e.line,
        column: e.column_name.unwrap_or_default(),
        value: e.value,
        message: ingest::problem_message(lang, &e.problem, &e.detail),
    }
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    ctx.require_active()?;
    let row = load(&mut ctx, &id).await?;
    let shown = repo::errors(&mut ctx.tx, row.id, 0, ERRORS_SHOWN as i64).await?;
    let total = repo::error_count(&mut ctx.tx, row.id).await?;
    let rules = repo::batch_attribution_counts(&mut ctx.tx, row.id)
        .await?
        .into_iter()
        .map(|(rule, n)| {
            (
                lang.t(&format!("performance.attributed_by.{rule}")),
                fmt::number(n),
            )
        })
        .collect();
    let path = format!("/t/{}/orders/imports/{}", ctx.tenant.slug, row.id);
    let layout = layout(&state, &session, lang, &ctx, "orders.import_title", &path).await?;
    let can_edit = ctx.actor.require(EDITORS).is_ok();
    let import = view(lang, &ctx.tenant.time_zone, row);
    ctx.tx.commit().await?;
    render_with(
        StatusCode::OK,
        &ShowPage {
            layout,
            import,
            can_edit,
            rules,
            more_errors: (total - shown.len() as i64).max(0),
            errors: shown.into_iter().map(|e| error_line(lang, e)).collect(),
        },
    )
}

#[derive(Template)]
#[template(path = "orders/_progress.html")]
struct ProgressPartial {
    slug: String,
    import: ImportView,
    layout: Lang,
}

/// The progress bar alone, polled by htmx every second while the job runs; once it has stopped
/// the page reloads itself (HX-Refresh) to show the report.
pub async fn progress(
    lang: Lang,
    headers: HeaderMap,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    ctx.require_active()?;
    let row = load(&mut ctx, &id).await?;
    let import = view(lang, &ctx.tenant.time_zone, row);
    let slug = ctx.tenant.slug.clone();
    ctx.tx.commit().await?;
    let refresh = !import.running && headers.contains_key("hx-request");
    let mut response = render_with(
        StatusCode::OK,
        &ProgressPartial {
            slug,
            import,
            layout: lang,
        },
    )?;
    if refresh {
        response
            .headers_mut()
            .insert("hx-refresh", header::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Every rejected row as CSV (UTF-8 with BOM), streamed a page at a time: constant memory for
/// a file of a million bad rows.
pub async fn errors_csv(
    State(state): State<AppState>,
    lang: Lang,
    mut ctx: TenantCtx,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    ctx.require_active()?;
    let row = load(&mut ctx, &id).await?;
    ctx.tx.commit().await?;
    let header_row = csv_line(&crate::web::rejected_rows_header(lang));
    let mut first = b"\xEF\xBB\xBF".to_vec();
    first.extend_from_slice(&header_row);
    let (db, tenant_id, user_id, import_id) =
        (state.db.clone(), ctx.tenant.id, ctx.user.id, row.id);
    // The state is the seq to read after, None once the last page is out: a short page ends
    // the stream without one more query. The whole body is fused, so a layer that polls again
    // after the end (the compression layer does) gets `None`, not a panic.
    let pages = futures_util::stream::unfold(Some(0i64), move |after| {
        let db = db.clone();
        async move {
            let after = after?;
            let page = async {
                let mut tx = db.tenant_tx(tenant_id, Some(user_id)).await?;
                let rows = repo::errors(&mut tx, import_id, after, ERRORS_CSV_PAGE).await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(rows)
            };
            match page.await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows
                        .last()
                        .map(|r| r.seq)
                        .filter(|_| rows.len() as i64 == ERRORS_CSV_PAGE);
                    let mut out = Vec::new();
                    for e in rows {
                        let e = error_line(lang, e);
                        out.extend(csv_line(&[
                            e.line.to_string(),
                            e.column,
                            e.value,
                            e.message,
                        ]));
                    }
                    Some((Ok::<_, std::io::Error>(out), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            }
        }
    });
    let body = futures_util::StreamExt::fuse(futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }),
        pages,
    ));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"order-import-{}-errors.csv\"",
                    row.id
                ),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

fn csv_line(cells: &[String]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = out.write_record(cells);
    out.into_inner().unwrap_or_default()
}

/// POST `…/imports/{id}/confirm | cancel | undo`: one move of the import's state table. A batch
/// not in the state the move applies to is left alone with a message (problem+json for a
/// program).
pub async fn action(
    State(state): State<AppState>,
    session: Session,
    front: Front,
    mut ctx: TenantCtx,
    Path((_, id, command)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let command = ImportCommand::parse(&command).ok_or(AppError::NotFound)?;
    let Ok(import_id) = id.parse::<Uuid>() else {
        // An unreadable id is unknown, once the person may act here at all.
        actions::require_editor(&ctx.actor)?;
        return Err(AppError::NotFound);
    };
    let input = actions::OrderImportRef { import_id };
    let moved = match command {
        ImportCommand::Confirm => {
            actions::confirm_order_import(&mut ctx.tx, &ctx.actor, input).await
        }
        ImportCommand::Cancel => actions::cancel_order_import(&mut ctx.tx, &ctx.actor, input).await,
        ImportCommand::Undo => actions::undo_order_import(&mut ctx.tx, &ctx.actor, input).await,
    };
    let back = format!("/t/{}/orders/imports/{import_id}", ctx.tenant.slug);
    match moved {
        Ok(to) => {
            ctx.tx.commit().await?;
            if to == ImportState::Importing {
                super::import_worker(&state).wake();
            }
            flash(&session, "ok", &format!("orders.flash.{}", to.code())).await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(DomainError::Refused(key)) if !front.is_json() => {
            flash(&session, "error", key).await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct UnattributedView {
    pub shop_id: Uuid,
    pub shop: String,
    pub order_key: String,
    pub line_key: String,
    pub placed_at: String,
    pub amount: String,
    pub hint: String,
    /// Why no rule attributed it.
    pub reason: String,
    /// The line's checkbox value (`repo::line_ref`).
    pub line_ref: String,
}

#[derive(Template)]
#[template(path = "orders/unattributed.html")]
struct UnattributedPage {
    layout: Layout,
    can_edit: bool,
    rows: Vec<UnattributedView>,
    total: String,
    none: bool,
    page_info: String,
    prev: Option<String>,
    next: Option<String>,
    collaborations: Vec<repo::CollaborationOption>,
}

/// `?page=N` (from 1); anything else is the first page.
fn page_of(query: Option<&str>) -> i64 {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1)
}

pub async fn unattributed(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    RawQuery(query): RawQuery,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let page = page_of(query.as_deref());
    let tenant = ctx.tenant.id;
    // One row more than a page tells whether there is a next one.
    let mut rows = repo::unattributed(
        &mut ctx.tx,
        tenant,
        (page - 1) * UNATTRIBUTED_PAGE,
        UNATTRIBUTED_PAGE + 1,
    )
    .await?;
    let more = rows.len() as i64 > UNATTRIBUTED_PAGE;
    rows.truncate(UNATTRIBUTED_PAGE as usize);
    let counted = repo::unattributed_count(&mut ctx.tx, tenant, UNATTRIBUTED_COUNTED).await?;
    let total = if counted > UNATTRIBUTED_COUNTED {
        lang.t_with(
            "orders.more_than",
            &[("count", &fmt::number(UNATTRIBUTED_COUNTED))],
        )
    } else {
        fmt::number(counted)
    };
    let collaborations = repo::collaborations(&mut ctx.tx).await?;
    let mut handles: Vec<String> = rows
        .iter()
        .filter_map(|r| r.creator_username.clone())
        .collect();
    handles.sort();
    handles.dedup();
    let candidates = repo::candidates_by_handle(&mut ctx.tx, tenant, Some(&handles)).await?;
    let zone = ctx.tenant.time_zone.clone();
    let rows = rows
        .into_iter()
        .map(|r| UnattributedView {
            reason: {
                let why = match &r.creator_username {
                    None => Err(domain::Unattributed::NoCreator),
                    Some(handle) => domain::attribute(
                        r.placed_at,
                        r.content_id.as_deref(),
                        candidates.get(handle).map_or(&[][..], Vec::as_slice),
                    ),
                };
                match why {
                    Err(why) => lang.t_with(why.key(), &[("count", &why.count().to_string())]),
                    // A rule fits now (a collaboration or post added since the import): a
                    // person confirms it here.
                    Ok(_) => lang.t("orders.reason.fits_now"),
                }
            },
            line_ref: repo::line_ref(r.shop_id, &r.order_key, &r.line_key),
            shop_id: r.shop_id,
            shop: r.shop_name,
            placed_at: fmt::datetime(r.placed_at, &zone),
            amount: fmt::money(r.amount, &r.currency),
            hint: [
                r.creator_username.map(|u| format!("@{u}")),
                r.discount_code,
                r.product_name,
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
            order_key: r.order_key,
            line_key: r.line_key,
        })
        .collect();
    let path = format!("/t/{}/orders/unattributed", ctx.tenant.slug);
    let href = |p: i64| {
        if p > 1 {
            format!("{path}?page={p}")
        } else {
            path.clone()
        }
    };
    let prev = (page > 1).then(|| href(page - 1));
    let next = more.then(|| href(page + 1));
    let page_info = lang.t_with("orders.page_info", &[("page", &page.to_string())]);
    let layout = layout(
        &state,
        &session,
        lang,
        &ctx,
        "orders.unattributed_title",
        &path,
    )
    .await?;
    let can_edit = ctx.actor.require(EDITORS).is_ok();
    ctx.tx.commit().await?;
    render_with(
        StatusCode::OK,
        &UnattributedPage {
            layout,
            can_edit,
            rows,
            total,
            none: counted == 0,
            page_info,
            prev,
            next,
            collaborations,
        },
    )
}

/// A person credits one order line to a collaboration of this tenant.
pub async fn attribute(
    session: Session,
    front: Front,
    mut ctx: TenantCtx,
    Form(form): Form<actions::AttributeOrderLineForm>,
) -> AppResult<Response> {
    let Some(input) = form.parse() else {
        // An unreadable line is unknown, once the person may attribute here at all.
        actions::require_editor(&ctx.actor)?;
        return Err(AppError::NotFound);
    };
    let done = actions::attribute_order_line(&mut ctx.tx, &ctx.actor, input)
        .await
        .map(drop);
    back_to_unattributed(session, front, ctx, done, "orders.flash.attributed").await
}

/// A person credits the ticked order lines to one collaboration.
pub async fn attribute_many(
    session: Session,
    front: Front,
    mut ctx: TenantCtx,
    Form(form): Form<actions::AttributeOrderLinesForm>,
) -> AppResult<Response> {
    let Some(input) = form.parse() else {
        actions::require_editor(&ctx.actor)?;
        return Err(AppError::NotFound);
    };
    let done = actions::attribute_order_lines(&mut ctx.tx, &ctx.actor, input)
        .await
        .map(drop);
    back_to_unattributed(session, front, ctx, done, "orders.flash.attributed_many").await
}

/// After an attribution: committed and back to the list with `ok`; a field's problem flashed
/// there for a browser (problem+json for a program).
async fn back_to_unattributed(
    session: Session,
    front: Front,
    ctx: TenantCtx,
    done: Result<(), DomainError>,
    ok: &str,
) -> AppResult<Response> {
    let back = format!("/t/{}/orders/unattributed", ctx.tenant.slug);
    match done {
        Ok(()) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", ok).await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let key = errors
                .values()
                .next()
                .copied()
                .unwrap_or("orders.error.collaboration_unknown");
            flash(&session, "error", key).await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
