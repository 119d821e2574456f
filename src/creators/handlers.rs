//! Staff pages for the creator pool: the list (search, filters, sort, pages), a creator's page,
//! the CSV import (validate first, then import the good rows or cancel), and reference rates.
//! Changes go through `actions`, in the system scope these pages open.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, CreatorImportRef};
use super::import;
use super::repo::{self, CreatorFilter, PAGE_SIZE};
use crate::auth::{Actor, CurrentUser, PlatformRole};
use crate::db::{SystemScope, Tx};
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::kernel::markets::{CATEGORIES, MARKETS};
use crate::kernel::tier::TierBadge;
use crate::state::AppState;
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::labels::{List, label, labels};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{ERRORS_SHOWN, ErrorLine, fmt, render_with};

pub use crate::kernel::STYLES;

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

/// The creator pool is the agency's, not a tenant's: admins and account managers work with it
/// in its own system scope (no tenant data is read there, so opening it is not audited).
async fn pool_scope(state: &AppState, user: &CurrentUser) -> AppResult<Tx> {
    actions::require_pool_staff(&Actor::user(user))?;
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
    /// The platform tier (staff only).
    pub badge: TierBadge,
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
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let badges = crate::matching::repo::platform_tier_badges(&mut tx, &ids).await?;
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
            markets: labels(lang, List::Market, &r.markets),
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
            badge: badges.get(&r.id).copied().unwrap_or_default(),
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
    /// Country, markets, languages, categories and styles in words.
    country: String,
    lists: [String; 4],
    averages: String,
    shares: Vec<(String, Vec<(String, String)>)>,
    quote_video: String,
    quote_live: String,
    refreshed: String,
    /// The platform tier and blacklist (`tiers::sections::platform_section`), rendered.
    platform_tier: String,
    /// Active or not, the form to change it, and its history (`status_section`), rendered.
    status: String,
    /// The creator's edits: (when, who, what changed), newest first.
    edits: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "creators/_status.html")]
struct StatusSection {
    layout: Lang,
    creator: Uuid,
    active: bool,
    reason: String,
    error: Option<String>,
    reason_error: Option<String>,
    /// (when, who, activated/deactivated, reason), newest first.
    history: Vec<(String, String, String, String)>,
}

/// What went wrong with a status change, for the section.
#[derive(Default)]
struct StatusProblem {
    reason: String,
    error: Option<String>,
    reason_error: Option<String>,
}

/// The creator's pool status section: active or not, the form to change it with a reason, and
/// the history of changes.
async fn status_section(
    conn: &mut sqlx::PgConnection,
    creator: Uuid,
    active: bool,
    lang: Lang,
    problem: StatusProblem,
) -> AppResult<String> {
    let history = repo::status_changes(conn, creator)
        .await?
        .into_iter()
        .map(|h| {
            (
                fmt::datetime(h.at, crate::kernel::STAFF_TIME_ZONE),
                h.actor_label,
                lang.t(if h.active {
                    "creators.status.reactivated"
                } else {
                    "creators.status.deactivated"
                }),
                h.reason,
            )
        })
        .collect();
    Ok(StatusSection {
        layout: lang,
        creator,
        active,
        reason: problem.reason,
        error: problem.error,
        reason_error: problem.reason_error,
        history,
    }
    .render()
    .map_err(anyhow::Error::from)?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    action: String,
    reason: String,
}

/// `POST /admin/creators/{id}/status`: staff deactivate a creator (it leaves matching) or
/// reactivate it, with a reason.
pub async fn set_status(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let creator: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let actor = Actor::user(&user);
    actions::require_pool_staff(&actor)?;
    let active = match form.action.trim() {
        "deactivate" => false,
        "reactivate" => true,
        _ => return Err(AppError::NotFound),
    };
    let mut tx = pool_scope(&state, &user).await?;
    let input = actions::SetCreatorActive {
        creator_id: creator,
        active,
        reason: form.reason.clone(),
    };
    let mut problem = StatusProblem {
        reason: form.reason,
        ..Default::default()
    };
    match actions::set_creator_active(&mut tx, &actor, input).await {
        Ok(()) => {
            tx.commit().await?;
            flash(&session, "ok", "creators.status.saved").await?;
            return Ok(Redirect::to(&format!("/admin/creators/{creator}")).into_response());
        }
        Err(DomainError::Invalid(errors)) => {
            problem.reason_error = errors.get("reason").map(|k| lang.t(k));
        }
        Err(e @ DomainError::Refused(_)) => problem.error = e.page_message().map(|k| lang.t(k)),
        Err(e) => return Err(e.into()),
    }
    drop(tx);
    let mut tx = pool_scope(&state, &user).await?;
    let now_active = repo::is_active(&mut tx, creator)
        .await?
        .ok_or(AppError::NotFound)?;
    let section = status_section(&mut tx, creator, now_active, lang, problem).await?;
    tx.commit().await?;
    let path = format!("/admin/creators/{creator}");
    let layout =
        Layout::for_user(&state, &session, lang, &user, None, "creators.title", &path).await?;
    crate::web::section_again(layout, path, lang.t("creators.title"), section)
}

/// Audience shares (`{"18-24": 0.42, …}`) as percentages, largest first, with genders and
/// markets in words.
pub(super) fn audience_shares(lang: Lang, shares: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(&String, f64)> = shares
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.as_f64().unwrap_or(0.0)))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    out.into_iter()
        .map(|(k, v)| {
            let label = match k.as_str() {
                "female" | "male" => lang.t(&format!("campaign.gender.{k}")),
                m => label(lang, List::Market, m),
            };
            (label, format!("{:.0}%", v * 100.0))
        })
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
    let platform_tier = crate::tiers::sections::platform_section(&mut tx, id, lang, None).await?;
    let status = status_section(&mut tx, id, c.active, lang, StatusProblem::default()).await?;
    let edits = repo::edits_of(&mut tx, id)
        .await?
        .into_iter()
        .map(|e| {
            (
                fmt::datetime(e.at, crate::kernel::STAFF_TIME_ZONE),
                e.actor_label,
                edit_changes_text(lang, &e.changes),
            )
        })
        .collect();
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
        country: c
            .country
            .as_deref()
            .map_or_else(|| "—".into(), |v| label(lang, List::Market, v)),
        lists: [
            labels(lang, List::Market, &c.markets),
            labels(lang, List::Language, &c.languages),
            labels(lang, List::Category, &c.categories),
            labels(lang, List::Style, &c.styles),
        ],
        averages: [c.avg_views, c.avg_likes, c.avg_comments, c.avg_shares]
            .map(fmt::number)
            .join(" / "),
        shares: vec![
            (
                lang.t("creators.audience_age"),
                audience_shares(lang, &c.audience_age),
            ),
            (
                lang.t("creators.audience_gender"),
                audience_shares(lang, &c.audience_gender),
            ),
            (
                lang.t("creators.audience_countries"),
                audience_shares(lang, &c.audience_countries),
            ),
        ],
        quote_video: money(c.quote_video),
        quote_live: money(c.quote_live),
        refreshed: c
            .last_refreshed_at
            .map(|t| fmt::datetime(t, crate::kernel::STAFF_TIME_ZONE))
            .unwrap_or_else(|| "—".into()),
        platform_tier,
        status,
        edits,
        c,
    };
    render_with(StatusCode::OK, &page)
}

pub struct ImportSummary {
    pub id: Uuid,
    pub filename: String,
    pub status_key: &'static str,
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
            status_key: i.status.label_key(),
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
/// then `actions::upload_creator_import` validates it and keeps it until someone imports it or
/// cancels.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let name: String = field
                .file_name()
                .unwrap_or("upload.csv")
                .chars()
                .filter(|c| !c.is_control())
                .take(255)
                .collect();
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
    let (filename, content) = file.unwrap_or_else(|| ("upload.csv".into(), Vec::new()));
    let input = actions::UploadCreatorImport { filename, content };
    match actions::upload_creator_import(&mut tx, &Actor::user(&user), input).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/admin/creators/import/{id}")).into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let key = errors.get("file").copied();
            import_form_page(
                &state,
                &session,
                lang,
                &user,
                tx,
                StatusCode::UNPROCESSABLE_ENTITY,
                key,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "creators/import_report.html")]
struct ImportReportPage {
    layout: Layout,
    import: repo::ImportRow,
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
                    message: lang.t_with(
                        e["key"].as_str().unwrap_or("creators.import.error.unknown"),
                        &[
                            ("cells", &e["cells"].to_string()),
                            ("of", &e["of"].to_string()),
                        ],
                    ),
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

/// An import's id in the path (an unreadable one is unknown).
fn import_ref(id: &str) -> AppResult<CreatorImportRef> {
    let import_id = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(CreatorImportRef { import_id })
}

/// Imports the good rows of a validated upload in one transaction: all of them or none.
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    front: Front,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let input = import_ref(&id)?;
    let back = format!("/admin/creators/import/{}", input.import_id);
    match actions::confirm_creator_import(&mut tx, &Actor::user(&user), input).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "creators.import.done").await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(DomainError::Refused(key)) if !front.is_json() => {
            flash(&session, "error", key).await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    front: Front,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut tx = pool_scope(&state, &user).await?;
    let input = import_ref(&id)?;
    let key = match actions::cancel_creator_import(&mut tx, &Actor::user(&user), input).await {
        Ok(()) => {
            tx.commit().await?;
            "creators.import.cancelled"
        }
        // Already decided: said as news, not as an error (someone else was quicker).
        Err(DomainError::Refused(key)) if !front.is_json() => key,
        Err(e) => return Err(e.into()),
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

/// The rates form as typed, with its errors (message keys).
struct RatesForm {
    input: actions::AddReferenceRate,
    errors: FieldErrors,
}

async fn rates_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    mut tx: Tx,
    status: StatusCode,
    form: RatesForm,
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
    let actions::AddReferenceRate {
        date,
        from,
        to,
        rate,
    } = form.input;
    render_with(
        status,
        &RatesPage {
            layout,
            rates,
            date,
            from,
            to,
            rate,
            errors: FormErrors::new(lang, &form.errors),
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
    let blank = RatesForm {
        input: actions::AddReferenceRate {
            date: time::OffsetDateTime::now_utc().date().to_string(),
            from: "USD".into(),
            to: "CNY".into(),
            rate: String::new(),
        },
        errors: FieldErrors::new(),
    };
    rates_page(&state, &session, lang, &user, tx, StatusCode::OK, blank).await
}

pub async fn rates_add(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    user: CurrentUser,
    Form(form): Form<actions::AddReferenceRate>,
) -> AppResult<Response> {
    let mut tx = rates_scope(&state, &user).await?;
    let input = form.tidied();
    match actions::add_reference_rate(&mut tx, &Actor::user(&user), input.clone()).await {
        Ok(_) => {
            tx.commit().await?;
            flash(&session, "ok", "rates.saved").await?;
            Ok(Redirect::to("/admin/rates").into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let form = RatesForm { input, errors };
            rates_page(
                &state,
                &session,
                lang,
                &user,
                tx,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A text field of the edit form.
struct EditField {
    name: &'static str,
    label: String,
    value: String,
    /// A text area (links one per line, notes).
    multiline: bool,
}

/// A group of text fields (numbers are short).
struct EditSection {
    legend: String,
    short: bool,
    fields: Vec<EditField>,
}

/// A group of checkboxes (markets, languages, categories, styles).
struct CheckGroup {
    name: &'static str,
    legend: String,
    choices: Vec<crate::web::forms::Choice>,
}

#[derive(Template)]
#[template(path = "creators/edit.html")]
struct EditPage {
    layout: Layout,
    id: Uuid,
    handle: String,
    sections: Vec<EditSection>,
    checks: Vec<CheckGroup>,
    errors: FormErrors,
}

async fn edit_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    user: &CurrentUser,
    (id, handle): (Uuid, String),
    edit: super::domain::CreatorEdit,
    errors: FormErrors,
) -> AppResult<Response> {
    let path = format!("/admin/creators/{id}/edit");
    let layout = Layout::for_user(
        state,
        session,
        lang,
        user,
        None,
        "creators.edit.title",
        &path,
    )
    .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let values: std::collections::HashMap<&str, String> = edit.fields().into_iter().collect();
    let label = |name: &str| lang.t(&format!("creators.edit.field.{name}"));
    let section = |legend: String, short: bool, names: &[&'static str]| EditSection {
        legend,
        short,
        fields: names
            .iter()
            .map(|n| EditField {
                name: n,
                label: label(n),
                value: values.get(n).cloned().unwrap_or_default(),
                multiline: matches!(*n, "recent_videos" | "violation_notes"),
            })
            .collect(),
    };
    let sections = vec![
        section(
            lang.t("creators.edit.title"),
            false,
            &["display_name", "profile_url", "country", "recent_videos"],
        ),
        section(
            lang.t("creators.averages"),
            true,
            &[
                "followers",
                "avg_views",
                "avg_likes",
                "avg_comments",
                "avg_shares",
            ],
        ),
        section(
            label("quote_video"),
            true,
            &["quote_currency", "quote_video", "quote_live"],
        ),
        section(
            label("contact"),
            false,
            &["mcn", "contact", "violation_notes"],
        ),
    ];
    let group = |name: &'static str, codes: &[&str], prefix: &str, chosen: &[String]| CheckGroup {
        name,
        legend: label(name),
        choices: crate::web::forms::choices(lang, codes, prefix, chosen),
    };
    let checks = vec![
        group("markets", MARKETS, "market", &edit.markets),
        group(
            "languages",
            crate::kernel::markets::LANGUAGES,
            "language",
            &edit.languages,
        ),
        group("categories", CATEGORIES, "category", &edit.categories),
        group("styles", STYLES, "style", &edit.styles),
    ];
    let page = EditPage {
        layout,
        id,
        handle,
        sections,
        checks,
        errors,
    };
    render_with(status, &page)
}

/// An edit's changes in words: "粉丝数：12,000 → 15,000；市场：美国 → 美国、英国".
fn edit_changes_text(lang: Lang, changes: &serde_json::Value) -> String {
    let value = |field: &str, v: &str| {
        let list = match field {
            "markets" => Some(List::Market),
            "languages" => Some(List::Language),
            "categories" => Some(List::Category),
            "styles" => Some(List::Style),
            _ => None,
        };
        match list {
            _ if v.is_empty() => "—".to_string(),
            _ if field == "recent_videos" => v.split_whitespace().collect::<Vec<_>>().join(" "),
            Some(list) => labels(lang, list, &v.split(',').collect::<Vec<_>>()),
            None => v.parse::<i64>().map_or_else(|_| v.to_string(), fmt::number),
        }
    };
    changes
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let field = c["field"].as_str().unwrap_or_default();
            format!(
                "{}: {} → {}",
                lang.t(&format!("creators.edit.field.{field}")),
                value(field, c["before"].as_str().unwrap_or_default()),
                value(field, c["after"].as_str().unwrap_or_default()),
            )
        })
        .collect::<Vec<_>>()
        .join(lang.t("seller_creators.list_separator").as_str())
}

/// `GET /admin/creators/{id}/edit`: one creator's facts in a form (staff).
pub async fn edit(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    actions::require_pool_staff(&Actor::user(&user))?;
    let mut tx = pool_scope(&state, &user).await?;
    let c = repo::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let edit = repo::edit_of(&c);
    edit_page(
        &state,
        &session,
        lang,
        &user,
        (id, c.handle),
        edit,
        FormErrors::none(),
    )
    .await
}

/// `POST /admin/creators/{id}/edit`: saves the edit (`actions::edit_creator`); bad input comes
/// back with each message next to its field and nothing stored.
pub async fn save_edit(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(edit): Form<super::domain::CreatorEdit>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let actor = Actor::user(&user);
    let mut tx = pool_scope(&state, &user).await?;
    let input = actions::EditCreator {
        creator_id: id,
        edit: edit.clone(),
    };
    match actions::edit_creator(&mut tx, &actor, input).await {
        Ok(changed) => {
            tx.commit().await?;
            let key = if changed.is_empty() {
                "creators.edit.unchanged"
            } else {
                "creators.edit.saved"
            };
            flash(&session, "ok", key).await?;
            Ok(Redirect::to(&format!("/admin/creators/{id}")).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            let handle = repo::get(&mut tx, id)
                .await?
                .ok_or(AppError::NotFound)?
                .handle;
            drop(tx);
            let errors = FormErrors::new(lang, &errors);
            edit_page(&state, &session, lang, &user, (id, handle), edit, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
