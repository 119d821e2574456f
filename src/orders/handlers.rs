//! Order import pages: the list and upload form, an import's report (progress, rejected rows,
//! import / cancel / undo), its errors as CSV, and the unattributed orders.

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{ingest, repo};
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::{ObjectWriter, Storage};
use crate::tenants::{Access, TenantCtx};
use crate::tracking::orders::{local_to_utc, shop_zone};
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ERRORS_SHOWN, ErrorLine};
use crate::web::{fmt, render_with};

/// Who may upload, import, cancel, undo and attribute (viewers may look).
const EDITORS: &[Access] = &[Access::Owner, Access::Operator, Access::AccountManager];
/// Unattributed order lines shown on one page.
const UNATTRIBUTED_PAGE: i64 = 100;
/// How far the unattributed lines are counted ("more than 1,000" past it).
const UNATTRIBUTED_COUNTED: i64 = 1_000;

const LOCAL_MINUTE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]");

pub struct ImportView {
    pub id: Uuid,
    pub shop: String,
    pub filename: String,
    pub format_key: String,
    pub encoding: String,
    pub state: String,
    pub state_key: String,
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
}

fn view(lang: Lang, time_zone: &str, row: repo::ImportRow) -> ImportView {
    let running = matches!(row.state.as_str(), "queued" | "validating" | "importing");
    let permille = match row.state.as_str() {
        "importing" => None,
        _ if row.bytes_total > 0 => {
            Some((row.bytes_done.min(row.bytes_total) * 1000) / row.bytes_total)
        }
        _ => Some(0),
    };
    ImportView {
        id: row.id,
        shop: row.shop_name,
        filename: row.filename,
        format_key: row
            .format
            .map(|f| format!("tracking.orders.format.{f}"))
            .unwrap_or_else(|| "orders.format_unknown".into()),
        encoding: row.encoding.unwrap_or_default(),
        state_key: format!("orders.state.{}", row.state),
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
    let exported_at = exported_at.unwrap_or_else(|| {
        let now = OffsetDateTime::now_utc();
        shop_zone(&zone)
            .map(|z| time_tz::OffsetDateTimeExt::to_timezone(&now, z))
            .unwrap_or(now)
            .format(LOCAL_MINUTE)
            .unwrap_or_default()
    });
    let path = format!("/t/{}/orders/imports", ctx.tenant.slug);
    let layout = layout(state, session, lang, &ctx, "orders.title", &path).await?;
    let can_edit = ctx.require(EDITORS).is_ok();
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
/// comes (never held whole), then the other fields and the header are checked. A refused upload
/// is deleted from storage and nothing is recorded.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    ctx: TenantCtx,
    mut multipart: Multipart,
) -> AppResult<Response> {
    ctx.require_active()?;
    ctx.require(EDITORS)?;
    let TenantCtx {
        actor,
        tenant,
        user,
        access,
        tx,
    } = ctx;
    // No transaction stays open while the body streams in.
    drop(tx);
    let upload_id = Uuid::now_v7();
    let key = Storage::key(tenant.id, "orders", upload_id);
    let mut shop_raw = String::new();
    let mut exported_raw = String::new();
    let mut file: Option<(String, Option<String>, crate::storage::StoredObject)> = None;
    let mut errors = FormErrors::none();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                errors.add("file", lang.t("orders.error.upload_broken"));
                break;
            }
        };
        match field.name() {
            Some("shop_id") => shop_raw = field.text().await.unwrap_or_default(),
            Some("exported_at") => exported_raw = field.text().await.unwrap_or_default(),
            Some("file") if file.is_none() => {
                let filename = field
                    .file_name()
                    .map(|n| n.chars().take(255).collect::<String>())
                    .unwrap_or_default();
                let content_type = field.content_type().map(str::to_string);
                let writer = state
                    .storage
                    .writer(&key)
                    .await
                    .map_err(anyhow::Error::from)?;
                match stream_field(field, writer).await {
                    Ok(stored) => file = Some((filename, content_type, stored)),
                    Err(message_key) => errors.add("file", lang.t(message_key)),
                }
            }
            _ => {}
        }
    }
    let mut tx = state.db.tenant_tx(tenant.id, Some(user.id)).await?;
    let shops = repo::shops(&mut tx).await?;
    let shop = shop_raw
        .parse::<Uuid>()
        .ok()
        .and_then(|id| shops.iter().find(|s| s.id == id));
    if shop.is_none() {
        errors.add("shop_id", lang.t("orders.error.shop_unknown"));
    }
    let exported_at = match (
        PrimitiveDateTime::parse(exported_raw.trim(), LOCAL_MINUTE),
        shop_zone(&tenant.time_zone),
    ) {
        (Ok(local), Some(zone)) => Some(local_to_utc(local, zone)),
        _ => {
            errors.add("exported_at", lang.t("orders.error.exported_at_format"));
            None
        }
    };
    let mut format = None;
    match (&file, shop) {
        (None, _) if !errors.has("file") => {
            errors.add("file", lang.t("orders.error.no_file"));
        }
        (Some((_, _, stored)), _) if stored.bytes == 0 => {
            errors.add("file", lang.t("tracking.orders.error.empty_file"));
        }
        (Some((_, _, stored)), Some(shop)) => {
            let zone = shop_zone(&shop.time_zone).unwrap_or(time_tz::timezones::db::UTC);
            match ingest::check_header(&state.storage, &stored.key, zone).await? {
                Ok(f) if ingest::fits_shop(f, &shop.platform) => format = Some(f),
                Ok(f) => errors.add(
                    "file",
                    lang.t_with(
                        "orders.error.wrong_shop",
                        &[("format", &lang.t(f.key())), ("shop", &shop.name)],
                    ),
                ),
                Err(e) => errors.add(
                    "file",
                    ingest::problem_message(lang, e.problem.key(), &e.detail),
                ),
            }
        }
        _ => {}
    }
    let (Some((filename, content_type, stored)), Some(shop), Some(exported_at), Some(format), true) =
        (&file, shop, exported_at, format, errors.is_empty())
    else {
        if let Some((_, _, stored)) = &file
            && let Err(e) = state.storage.delete(&stored.key).await
        {
            tracing::warn!(error = %e, "order upload: could not delete a refused file");
        }
        let ctx = TenantCtx {
            actor,
            tenant,
            user,
            access,
            tx,
        };
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
    };
    let id = repo::create_import(
        &mut tx,
        &repo::NewImport {
            tenant_id: tenant.id,
            upload_id,
            shop_id: shop.id,
            filename: if filename.is_empty() {
                "orders"
            } else {
                filename
            },
            content_type: content_type.as_deref(),
            stored,
            format: format.code(),
            exported_at,
            by: Some(user.id),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        audit::Entry::new("orders.upload", "order_import", Some(id.to_string()))
            .by(&user)
            .tenant(Some(tenant.id))
            .after(json!({ "filename": filename, "shop": shop.name, "bytes": stored.bytes, "sha256": stored.sha256 })),
    )
    .await?;
    tx.commit().await?;
    super::import_worker(&state).wake();
    Ok(Redirect::to(&format!("/t/{}/orders/imports/{id}", tenant.slug)).into_response())
}

/// Streams one multipart field into storage; on failure the partial object is removed and the
/// message key says why.
async fn stream_field(
    mut field: axum::extract::multipart::Field<'_>,
    mut writer: ObjectWriter,
) -> Result<crate::storage::StoredObject, &'static str> {
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if writer.write(&chunk).await.is_err() {
                    writer.abort().await;
                    return Err("orders.error.storage");
                }
            }
            Ok(None) => break,
            Err(_) => {
                writer.abort().await;
                return Err("orders.error.upload_broken");
            }
        }
    }
    writer.finish().await.map_err(|_| "orders.error.storage")
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
    let path = format!("/t/{}/orders/imports/{}", ctx.tenant.slug, row.id);
    let layout = layout(&state, &session, lang, &ctx, "orders.import_title", &path).await?;
    let can_edit = ctx.require(EDITORS).is_ok();
    let import = view(lang, &ctx.tenant.time_zone, row);
    ctx.tx.commit().await?;
    render_with(
        StatusCode::OK,
        &ShowPage {
            layout,
            import,
            can_edit,
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
    let pages = futures_util::stream::unfold(Some(0i64), move |after| {
        let db = db.clone();
        async move {
            let after = after?;
            let page = async {
                let mut tx = db.tenant_tx(tenant_id, Some(user_id)).await?;
                let rows = repo::errors(&mut tx, import_id, after, 5_000).await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(rows)
            };
            match page.await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = rows.last().map(|r| r.seq);
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
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }),
        pages,
    );
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

/// Moves a batch from one state to another, audited; a batch not in `from` is left alone with
/// a message.
async fn act(
    state: &AppState,
    session: &Session,
    mut ctx: TenantCtx,
    id: &str,
    from: &str,
    to: &str,
    action: &'static str,
) -> AppResult<Response> {
    ctx.require_active()?;
    ctx.require(EDITORS)?;
    let row = load(&mut ctx, id).await?;
    let moved = repo::transition(&mut ctx.tx, row.id, from, to).await?;
    if moved {
        if to == "cancelled" {
            repo::clear_staging(&mut ctx.tx, row.id).await?;
        }
        audit::record(
            &mut ctx.tx,
            audit::Entry::new(action, "order_import", Some(row.id.to_string()))
                .by(&ctx.user)
                .tenant(Some(ctx.tenant.id))
                .before(json!({ "state": from }))
                .after(
                    json!({ "state": to, "filename": row.filename, "rows_good": row.rows_good }),
                ),
        )
        .await?;
    }
    ctx.tx.commit().await?;
    if moved && to == "importing" {
        super::import_worker(state).wake();
    }
    let key = if moved {
        format!("orders.flash.{to}")
    } else {
        "orders.flash.not_allowed".to_string()
    };
    flash(session, if moved { "ok" } else { "error" }, &key).await?;
    Ok(Redirect::to(&format!("/t/{}/orders/imports/{}", ctx.tenant.slug, row.id)).into_response())
}

/// POST `…/imports/{id}/confirm | cancel | undo`.
pub async fn action(
    State(state): State<AppState>,
    session: Session,
    ctx: TenantCtx,
    Path((_, id, action)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let (from, to, audit_action) = match action.as_str() {
        "confirm" => ("validated", "importing", "orders.confirm"),
        "cancel" => ("validated", "cancelled", "orders.cancel"),
        "undo" => ("imported", "undone", "orders.undo"),
        _ => return Err(AppError::NotFound),
    };
    act(&state, &session, ctx, &id, from, to, audit_action).await
}

pub struct UnattributedView {
    pub shop_id: Uuid,
    pub shop: String,
    pub order_key: String,
    pub line_key: String,
    pub placed_at: String,
    pub amount: String,
    pub hint: String,
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
    let zone = ctx.tenant.time_zone.clone();
    let rows = rows
        .into_iter()
        .map(|r| UnattributedView {
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
    let can_edit = ctx.require(EDITORS).is_ok();
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
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    ctx.require_active()?;
    ctx.require(EDITORS)?;
    let shop_id: Uuid = form
        .get("shop_id")
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let (order_key, line_key) = (form.get("order_key"), form.get("line_key"));
    if !repo::order_exists(&mut ctx.tx, shop_id, order_key, line_key).await? {
        return Err(AppError::NotFound);
    }
    let back = format!("/t/{}/orders/unattributed", ctx.tenant.slug);
    let collaboration = form.get("collaboration_id").parse::<Uuid>().ok();
    let known = repo::collaborations(&mut ctx.tx).await?;
    let Some(collaboration) = collaboration.filter(|c| known.iter().any(|k| k.id == *c)) else {
        flash(&session, "error", "orders.error.collaboration_unknown").await?;
        return Ok(Redirect::to(&back).into_response());
    };
    let before = repo::attribute_by_person(
        &mut ctx.tx,
        ctx.tenant.id,
        shop_id,
        order_key,
        line_key,
        collaboration,
        ctx.user.id,
    )
    .await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new(
            "orders.attribute",
            "order_line",
            Some(format!("{shop_id}/{order_key}/{line_key}")),
        )
        .by(&ctx.user)
        .tenant(Some(ctx.tenant.id))
        .before(json!({ "collaboration_id": before }))
        .after(json!({ "collaboration_id": collaboration, "attributed_by": "person" })),
    )
    .await?;
    ctx.tx.commit().await?;
    flash(&session, "ok", "orders.flash.attributed").await?;
    Ok(Redirect::to(&back).into_response())
}
