//! Staff pages for the creator pool: the list (search, filters, sort, pages), a creator's page,
//! the CSV import (validate first, then import the good rows or cancel), and reference rates.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::import;
use super::repo::{self, CreatorFilter, PAGE_SIZE};
use crate::audit;
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::domain::{CATEGORIES, FieldErrors, MARKETS};
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ERRORS_SHOWN, ErrorLine, fmt, render_with};

pub use crate::kernel::STYLES;

/// The creator pool is the agency's, not a tenant's: admins and account managers work with it
/// in its own system scope (no tenant data is read there, so opening it is not audited).
/// A creator's 30-day engagement as the pages show it (staff and seller alike).
pub(crate) struct Engagement {
    pub er: String,
    pub like_view: String,
    /// Likes per view under the seeds' threshold (the matching warning's rule).
    pub low_like_view: bool,
}

impl Engagement {
    pub(crate) fn of(views: i64, likes: i64, comments: i64, shares: i64) -> Engagement {
        let views = views.max(0) as f64;
        let ratio = |n: i64| if views > 0.0 { n as f64 / views } else { 0.0 };
        let er = ratio(likes + comments + shares);
        let like_view = ratio(likes);
        Engagement {
            er: format!("{:.1}%", er * 100.0),
            like_view: format!("{:.1}%", like_view * 100.0),
            low_like_view: views > 0.0 && like_view < crate::matching::domain::LOW_LIKE_VIEW_RATIO,
        }
    }
}

/// A quote with its currency, or a dash.
pub(crate) fn quote_text(quote: Option<Decimal>, currency: Option<&str>) -> String {
    match (quote, currency) {
        (Some(q), Some(ccy)) => fmt::money(q, ccy),
        _ => "—".into(),
    }
}

async fn pool_scope(state: &AppState, user: &CurrentUser) -> AppResult<Tx> {
    if !matches!(
        user.platform_role,
        Some(PlatformRole::Admin | PlatformRole::AccountManager)
    ) {
        return Err(AppError::Forbidden);
    }
    Ok(state.db.system_tx(SystemScope::CreatorPool).await?)
}

pub struct ListRow {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub markets: String,
    pub followers: String,
    pub avg_views: String,
    pub er: String,
    pub quote: String,
    pub active: bool,
    pub blocked: bool,
    pub refreshed: String,
}

/// A link that keeps the current filters and changes one thing (sort or page).
pub struct SortLink {
    pub label: String,
    pub href: String,
    pub current: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "creators/index.html")]
struct ListPage {
    layout: Layout,
    filter: CreatorFilter,
    markets: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    styles: Vec<(String, String)>,
    rows: Vec<ListRow>,
    total: String,
    columns: Vec<SortLink>,
    prev: Option<String>,
    next: Option<String>,
    page_info: String,
}

fn query_string(f: &CreatorFilter, sort: &str, dir: &str, page: i64) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", f.q.as_str()),
        ("market", f.market.as_str()),
        ("category", f.category.as_str()),
        ("style", f.style.as_str()),
        ("followers_min", f.followers_min.as_str()),
        ("followers_max", f.followers_max.as_str()),
        ("er_min", f.er_min.as_str()),
        ("sort", sort),
        ("dir", dir),
    ] {
        if !v.is_empty() {
            pairs.append_pair(k, v);
        }
    }
    if page > 1 {
        pairs.append_pair("page", &page.to_string());
    }
    format!("/admin/creators?{}", pairs.finish())
}

pub async fn index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Query(filter): Query<CreatorFilter>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let (rows, total) = repo::list(&mut tx, &filter).await?;
    tx.commit().await?;
    let sort = if filter.sort.is_empty() {
        "followers"
    } else {
        filter.sort.as_str()
    };
    let dir = if filter.dir == "asc" { "asc" } else { "desc" };
    let columns = [
        ("handle", "creators.handle"),
        ("followers", "creators.followers"),
        ("views", "creators.avg_views"),
        ("er", "creators.er"),
        ("refreshed", "creators.refreshed"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let current = (sort == key).then_some(if dir == "asc" {
            "ascending"
        } else {
            "descending"
        });
        let next_dir = if sort == key && dir == "desc" {
            "asc"
        } else {
            "desc"
        };
        SortLink {
            label: lang.t(label),
            href: query_string(&filter, key, next_dir, 1),
            current,
        }
    })
    .collect();
    let page = filter.page();
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let rows = rows
        .into_iter()
        .map(|r| ListRow {
            id: r.id,
            markets: r.markets.join(" "),
            followers: fmt::number(r.followers),
            avg_views: fmt::number(r.avg_views),
            er: format!("{:.1}%", r.er * 100.0),
            quote: match (r.quote_video, r.quote_currency) {
                (Some(q), Some(c)) => fmt::money(q, &c),
                _ => "—".into(),
            },
            refreshed: r
                .last_refreshed_at
                .map(|t| fmt::datetime(t, crate::kernel::STAFF_TIME_ZONE))
                .unwrap_or_else(|| "—".into()),
            active: r.active,
            blocked: r.platform_blacklisted,
            handle: r.handle,
            display_name: r.display_name,
        })
        .collect();
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "creators.title",
        "/admin/creators",
    )
    .await?;
    let page = ListPage {
        layout,
        markets: MARKETS
            .iter()
            .map(|m| ((*m).into(), lang.t(&format!("market.{m}"))))
            .collect(),
        categories: CATEGORIES
            .iter()
            .map(|c| ((*c).into(), lang.t(&format!("category.{c}"))))
            .collect(),
        styles: STYLES
            .iter()
            .map(|s| ((*s).into(), lang.t(&format!("style.{s}"))))
            .collect(),
        rows,
        total: fmt::number(total),
        columns,
        prev: (page > 1).then(|| query_string(&filter, sort, dir, page - 1)),
        next: (page < pages).then(|| query_string(&filter, sort, dir, page + 1)),
        page_info: lang.t_with(
            "creators.page_info",
            &[("page", &page.to_string()), ("pages", &pages.to_string())],
        ),
        filter,
    };
    render_with(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "creators/show.html")]
struct CreatorPage {
    layout: Layout,
    c: repo::CreatorDetail,
    er: String,
    like_view: String,
    low_like_view: bool,
    followers: String,
    shares: Vec<(String, Vec<(String, String)>)>,
    quote_video: String,
    quote_live: String,
    refreshed: String,
}

fn share_list(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, f64)> = v
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.into_iter()
        .map(|(k, v)| (k, format!("{:.0}%", v * 100.0)))
        .collect()
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let mut tx = pool_scope(&state, &user).await?;
    let c = repo::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let engagement = Engagement::of(c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares);
    let money = |q: Option<Decimal>| quote_text(q, c.quote_currency.as_deref());
    let path = format!("/admin/creators/{id}");
    let layout =
        Layout::for_user(&state, &session, lang, &user, None, "creators.title", &path).await?;
    let page = CreatorPage {
        layout,
        er: engagement.er,
        like_view: engagement.like_view,
        low_like_view: engagement.low_like_view,
        followers: fmt::number(c.followers),
        shares: vec![
            (lang.t("creators.audience_age"), share_list(&c.audience_age)),
            (
                lang.t("creators.audience_gender"),
                share_list(&c.audience_gender),
            ),
            (
                lang.t("creators.audience_countries"),
                share_list(&c.audience_countries),
            ),
        ],
        quote_video: money(c.quote_video),
        quote_live: money(c.quote_live),
        refreshed: c
            .last_refreshed_at
            .map(|t| fmt::datetime(t, crate::kernel::STAFF_TIME_ZONE))
            .unwrap_or_else(|| "—".into()),
        c,
    };
    render_with(StatusCode::OK, &page)
}

pub struct ImportSummary {
    pub id: Uuid,
    pub filename: String,
    pub status_key: String,
    pub counts: String,
    pub at: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "creators/import.html")]
struct ImportFormPage {
    layout: Layout,
    imports: Vec<ImportSummary>,
    columns: Vec<(String, String)>,
    error: Option<String>,
}

async fn import_form_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    status: StatusCode,
    error: Option<&str>,
) -> AppResult<Response> {
    let imports = repo::recent_imports(&mut tx)
        .await?
        .into_iter()
        .map(|i| ImportSummary {
            id: i.id,
            filename: i.filename,
            status_key: format!("creators.import.status.{}", i.status),
            counts: lang.t_with(
                "creators.import.counts",
                &[
                    ("good", &i.good_rows.to_string()),
                    ("bad", &i.error_rows.to_string()),
                ],
            ),
            at: fmt::datetime(i.created_at, crate::kernel::STAFF_TIME_ZONE),
            by: i.uploader,
        })
        .collect();
    tx.commit().await?;
    let layout = Layout::for_user(
        state,
        session,
        lang,
        user,
        None,
        "creators.import.title",
        "/admin/creators/import",
    )
    .await?;
    let columns = import::COLUMNS
        .iter()
        .map(|(name, aliases)| ((*name).to_string(), aliases.join(", ")))
        .collect();
    render_with(
        status,
        &ImportFormPage {
            layout,
            imports,
            columns,
            error: error.map(|k| lang.t(k)),
        },
    )
}

pub async fn import_form(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    let tx = pool_scope(&state, &user).await?;
    import_form_page(&state, &session, lang, &user, tx, StatusCode::OK, None).await
}

/// Creator files are small (tens of thousands of rows at most), so the upload is read whole,
/// validated at once, and kept until someone imports it or cancels.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.csv").to_string();
            let bytes = field.bytes().await.map_err(|_| AppError::Forbidden);
            match bytes {
                Ok(b) => file = Some((name, b.to_vec())),
                Err(_) => {
                    return import_form_page(
                        &state,
                        &session,
                        lang,
                        &user,
                        tx,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        Some("creators.import.error_too_large"),
                    )
                    .await;
                }
            }
        }
    }
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return import_form_page(
            &state,
            &session,
            lang,
            &user,
            tx,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("creators.import.error_no_file"),
        )
        .await;
    };
    let parsed = match import::parse(&bytes) {
        Ok(p) => p,
        Err(e) => {
            return import_form_page(
                &state,
                &session,
                lang,
                &user,
                tx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.problem.key()),
            )
            .await;
        }
    };
    let errors: Vec<serde_json::Value> = parsed
        .errors
        .iter()
        .map(|e| json!({ "line": e.line, "column": e.column, "value": e.value, "key": e.problem.key() }))
        .collect();
    let error_lines: std::collections::BTreeSet<usize> =
        parsed.errors.iter().map(|e| e.line).collect();
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO creator_imports (id, uploaded_by, filename, encoding, content, total_rows, \
         good_rows, error_rows, errors) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(user.id)
    .bind(&filename)
    .bind(parsed.encoding)
    .bind(&bytes)
    .bind(parsed.total_rows as i32)
    .bind(parsed.records.len() as i32)
    .bind(error_lines.len() as i32)
    .bind(serde_json::Value::Array(errors))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/creators/import/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "creators/import_report.html")]
struct ImportReportPage {
    layout: Layout,
    import: repo::ImportRow,
    status_key: String,
    errors: Vec<ErrorLine>,
    more_errors: usize,
}

async fn load_import(tx: &mut Tx, id: &str) -> AppResult<repo::ImportRow> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    repo::import(tx, id).await?.ok_or(AppError::NotFound)
}

fn error_lines(lang: Lang, errors: &serde_json::Value, limit: usize) -> Vec<ErrorLine> {
    errors
        .as_array()
        .map(|list| {
            list.iter()
                .take(limit)
                .map(|e| ErrorLine {
                    line: e["line"].as_i64().unwrap_or(0),
                    column: e["column"].as_str().unwrap_or("").to_string(),
                    value: e["value"].as_str().unwrap_or("").to_string(),
                    message: lang.t(e["key"].as_str().unwrap_or("creators.import.error.unknown")),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn report(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let import = load_import(&mut tx, &id).await?;
    tx.commit().await?;
    let total_errors = import.errors.as_array().map_or(0, Vec::len);
    let path = format!("/admin/creators/import/{}", import.id);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "creators.import.title",
        &path,
    )
    .await?;
    let page = ImportReportPage {
        layout,
        status_key: format!("creators.import.status.{}", import.status),
        errors: error_lines(lang, &import.errors, ERRORS_SHOWN),
        more_errors: total_errors.saturating_sub(ERRORS_SHOWN),
        import,
    };
    render_with(StatusCode::OK, &page)
}

/// Every rejected row as CSV (UTF-8 with BOM, so Excel opens it), in the reader's language.
pub async fn errors_csv(
    State(state): State<AppState>,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let import = load_import(&mut tx, &id).await?;
    tx.commit().await?;
    crate::web::rejected_rows_csv(
        lang,
        &format!("creator-import-{}-errors.csv", import.id),
        error_lines(lang, &import.errors, usize::MAX)
            .into_iter()
            .map(|e| (e.line, e.column, e.value, e.message)),
    )
}

/// Imports the good rows of a validated upload in one transaction: all of them or none.
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let import = load_import(&mut tx, &id).await?;
    let Some(content) = repo::pending_content(&mut tx, import.id).await? else {
        flash(&session, "error", "creators.import.already_done").await?;
        return Ok(Redirect::to(&format!("/admin/creators/import/{}", import.id)).into_response());
    };
    let parsed = import::parse(&content)
        .map_err(|e| anyhow::anyhow!("stored import no longer parses: {}", e.detail))?;
    let (mut created, mut updated) = (0i32, 0i32);
    for record in &parsed.records {
        if repo::upsert(&mut tx, record).await? {
            created += 1;
        } else {
            updated += 1;
        }
    }
    sqlx::query(
        "UPDATE creator_imports SET status = 'imported', created = $2, updated = $3, finished_at = now() \
         WHERE id = $1",
    )
    .bind(import.id)
    .bind(created)
    .bind(updated)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        audit::Entry::new("creators.import", "creator_import", Some(import.id.to_string()))
            .by(&user)
            .after(json!({ "filename": import.filename, "created": created, "updated": updated, "rejected": import.error_rows })),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "creators.import.done").await?;
    Ok(Redirect::to(&format!("/admin/creators/import/{}", import.id)).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let import = load_import(&mut tx, &id).await?;
    let done = sqlx::query(
        "UPDATE creator_imports SET status = 'cancelled', finished_at = now(), content = ''::bytea \
         WHERE id = $1 AND status = 'validated'",
    )
    .bind(import.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let key = if done.rows_affected() == 1 {
        "creators.import.cancelled"
    } else {
        "creators.import.already_done"
    };
    flash(&session, "ok", key).await?;
    Ok(Redirect::to("/admin/creators/import").into_response())
}

pub struct RateLine {
    pub date: String,
    pub pair: String,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "creators/rates.html")]
struct RatesPage {
    layout: Layout,
    rates: Vec<RateLine>,
    date: String,
    from: String,
    to: String,
    rate: String,
    errors: FormErrors,
}

#[allow(clippy::too_many_arguments)]
async fn rates_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    status: StatusCode,
    form: (String, String, String, String),
    errors: FieldErrors,
) -> AppResult<Response> {
    let rates = repo::rates(&mut tx)
        .await?
        .into_iter()
        .map(|r| RateLine {
            date: r.rate_date.to_string(),
            pair: format!("{} → {}", r.from_ccy, r.to_ccy),
            rate: r.rate.normalize().to_string(),
        })
        .collect();
    tx.commit().await?;
    let layout = Layout::for_user(
        state,
        session,
        lang,
        user,
        None,
        "rates.title",
        "/admin/rates",
    )
    .await?;
    render_with(
        status,
        &RatesPage {
            layout,
            rates,
            date: form.0,
            from: form.1,
            to: form.2,
            rate: form.3,
            errors: FormErrors::new(lang, &errors),
        },
    )
}

async fn rates_scope(state: &AppState, user: &CurrentUser) -> AppResult<Tx> {
    user.require(PlatformRole::Admin)?;
    Ok(state.db.system_tx(SystemScope::Auth).await?)
}

pub async fn rates_index(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
) -> AppResult<Response> {
    let tx = rates_scope(&state, &user).await?;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let blank = (today, "USD".into(), "CNY".into(), String::new());
    rates_page(
        &state,
        &session,
        lang,
        &user,
        tx,
        StatusCode::OK,
        blank,
        FieldErrors::new(),
    )
    .await
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())
}

pub async fn rates_add(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    form: FormData,
) -> AppResult<Response> {
    let mut tx = rates_scope(&state, &user).await?;
    let date_text = form.get("date").trim().to_string();
    let from = form.get("from").trim().to_uppercase();
    let to = form.get("to").trim().to_uppercase();
    let rate_text = form.get("rate").trim().to_string();
    let mut errors = FieldErrors::new();
    let date = time::Date::parse(
        &date_text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok();
    if date.is_none() {
        errors.insert("date".into(), "rates.error.date");
    }
    if !is_currency(&from) {
        errors.insert("from".into(), "rates.error.currency");
    }
    if !is_currency(&to) {
        errors.insert("to".into(), "rates.error.currency");
    } else if to == from {
        errors.insert("to".into(), "rates.error.same_currency");
    }
    let rate = rate_text
        .replace(',', "")
        .parse::<Decimal>()
        .ok()
        .filter(|r| *r > Decimal::ZERO && r.scale() <= 8);
    if rate.is_none() {
        errors.insert("rate".into(), "rates.error.rate");
    }
    let (Some(date), Some(rate), true) = (date, rate, errors.is_empty()) else {
        return rates_page(
            &state,
            &session,
            lang,
            &user,
            tx,
            StatusCode::UNPROCESSABLE_ENTITY,
            (date_text, from, to, rate_text),
            errors,
        )
        .await;
    };
    let before: Option<Decimal> = sqlx::query_scalar(
        "SELECT rate FROM reference_rates WHERE rate_date = $1 AND from_ccy = $2 AND to_ccy = $3",
    )
    .bind(date)
    .bind(&from)
    .bind(&to)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO reference_rates (id, rate_date, from_ccy, to_ccy, rate, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (rate_date, from_ccy, to_ccy) DO UPDATE SET rate = EXCLUDED.rate, created_by = EXCLUDED.created_by",
    )
    .bind(Uuid::now_v7())
    .bind(date)
    .bind(&from)
    .bind(&to)
    .bind(rate)
    .bind(user.id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        audit::Entry::new(
            "reference_rate.set",
            "reference_rate",
            Some(format!("{date} {from}/{to}")),
        )
        .by(&user)
        .before(json!({ "rate": before.map(|r| r.to_string()) }))
        .after(json!({ "rate": rate.to_string() })),
    )
    .await?;
    tx.commit().await?;
    flash(&session, "ok", "rates.saved").await?;
    Ok(Redirect::to("/admin/rates").into_response())
}
