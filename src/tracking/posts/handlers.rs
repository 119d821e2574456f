//! Posts and snapshots by hand: the "add a post" form of a collaboration, a post's page (its
//! windows and snapshots) and the snapshot form on it.
//!
//! Access: owners, operators and the assigned account manager add; viewers read (403 on a
//! change). Another tenant's collaboration or post is unknown (404) before any role check.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::actions::{self, AddSnapshot, CreatePost};
use super::domain::{PostInput, SnapshotInput};
use super::repo::{self, CollabFacts, PostRow};
use super::views::{late_text, page_layout};
use super::{can_write, parse_id};
use crate::error::{AppError, AppResult, DomainError};
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::tracking::windows::{self, Metrics, Snapshot};
use crate::web::forms::{Form, FormErrors};
use crate::web::front::Front;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

/// A form shown again with what is wrong answers 422.
fn status_of(errors: &FieldErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

async fn collaboration(ctx: &mut TenantCtx, id: Uuid, lock: bool) -> AppResult<CollabFacts> {
    repo::collaboration(&mut ctx.tx, ctx.tenant.id, &ctx.tenant.time_zone, id, lock)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "performance/post_form.html")]
struct PostFormPage {
    layout: Layout,
    slug: String,
    collaboration_id: Uuid,
    heading: String,
    zone: String,
    input: PostInput,
    errors: FormErrors,
    summary: Option<String>,
}

/// The post form; with errors it comes back with 422.
async fn post_form_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    collab: &CollabFacts,
    input: PostInput,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let (layout, slug) = page_layout(state, session, lang, ctx, "performance.post.add").await?;
    render_with(
        status_of(errors),
        &PostFormPage {
            layout,
            slug,
            collaboration_id: collab.id,
            heading: format!("@{} · {}", collab.handle, collab.campaign_title),
            zone: collab.zone.clone(),
            input,
            summary: errors.get("form").map(|k| lang.t(k)),
            errors: FormErrors::new(lang, errors),
        },
    )
}

/// `GET /t/{slug}/collaborations/{id}/posts/new`
pub async fn new_post(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let collab = collaboration(&mut ctx, id, false).await?;
    can_write(&ctx)?;
    post_form_page(
        &state,
        &session,
        lang,
        ctx,
        &collab,
        PostInput::default(),
        &FieldErrors::new(),
    )
    .await
}

/// `POST /t/{slug}/collaborations/{id}/posts`: validates, refuses duplicates next to their
/// field, records the post and moves the collaboration to published. Nothing is saved on error.
pub async fn create_post(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(input): Form<PostInput>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let input = input.trimmed();
    let create = CreatePost {
        collaboration_id: id,
        post: input.clone(),
    };
    match actions::create_post(&mut ctx.tx, &ctx.actor, create).await {
        Ok(post_id) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "performance.post.added").await?;
            Ok(Redirect::to(&format!("/t/{}/posts/{post_id}", ctx.tenant.slug)).into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            // Nothing of the refused post is kept: the form is shown from a fresh transaction.
            let mut ctx = ctx.reopen(&state.db).await?;
            let collab = collaboration(&mut ctx, id, false).await?;
            post_form_page(&state, &session, lang, ctx, &collab, input, &errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One window of a post as shown.
pub struct WindowView {
    pub label: String,
    pub boundary: String,
    pub views: String,
    pub likes: String,
    pub comments: String,
    pub shares: String,
    pub er: String,
    pub captured: String,
    pub is_final: bool,
    pub has_value: bool,
}

pub fn window_views(
    lang: Lang,
    published_at: OffsetDateTime,
    snapshots: &[Snapshot],
    now: OffsetDateTime,
    zone: &str,
) -> Vec<WindowView> {
    windows::all_windows(published_at, snapshots, now)
        .iter()
        .map(|w| {
            let m = w.snapshot.map(|s| s.metrics);
            let n = |f: fn(&Metrics) -> i64| m.as_ref().map_or("—".into(), |m| fmt::number(f(m)));
            WindowView {
                label: lang.t(w.window.key()),
                boundary: fmt::datetime(w.boundary, zone),
                views: n(|m| m.views),
                likes: n(|m| m.likes),
                comments: n(|m| m.comments),
                shares: n(|m| m.shares),
                er: m.map_or("—".into(), |m| {
                    crate::tracking::kpis::figures::percent(crate::tracking::kpis::domain::ratio(
                        m.engagements().into(),
                        m.views.into(),
                    ))
                }),
                captured: w
                    .snapshot
                    .map(|s| fmt::datetime(s.captured_at, zone))
                    .unwrap_or_default(),
                is_final: w.is_final,
                has_value: w.snapshot.is_some(),
            }
        })
        .collect()
}

pub struct SnapshotView {
    pub captured: String,
    pub views: String,
    pub likes: String,
    pub comments: String,
    pub shares: String,
    pub watch: String,
    pub source_key: String,
}

#[derive(Template)]
#[template(path = "performance/post.html")]
struct PostPage {
    layout: Layout,
    slug: String,
    post: PostRow,
    video_id: String,
    heading: String,
    collaboration_id: Uuid,
    published: String,
    late: Option<String>,
    zone: String,
    windows: Vec<WindowView>,
    snapshots: Vec<SnapshotView>,
    /// Views by day (the day's last snapshot) as an SVG line; empty without snapshots.
    chart: String,
    can_write: bool,
    input: SnapshotInput,
    fields: Vec<(&'static str, String, String)>,
    errors: FormErrors,
}

/// The snapshot form's number fields: (name, label, value as typed).
fn snapshot_fields(lang: Lang, i: &SnapshotInput) -> Vec<(&'static str, String, String)> {
    [
        ("views", "performance.snapshot.views", &i.views),
        ("likes", "performance.snapshot.likes", &i.likes),
        ("comments", "performance.snapshot.comments", &i.comments),
        ("shares", "performance.snapshot.shares", &i.shares),
        (
            "avg_watch_seconds",
            "performance.snapshot.avg_watch_seconds",
            &i.avg_watch_seconds,
        ),
    ]
    .into_iter()
    .map(|(name, key, value)| (name, lang.t(key), value.clone()))
    .collect()
}

pub(super) fn to_snapshot(r: &repo::SnapshotRow) -> Snapshot {
    Snapshot {
        captured_at: r.captured_at,
        metrics: Metrics {
            views: r.views,
            likes: r.likes,
            comments: r.comments,
            shares: r.shares,
        },
        avg_watch_seconds: r.avg_watch_seconds,
    }
}

/// The post's views by day in the shop's zone, each day's last snapshot, as a line chart.
fn views_chart(lang: Lang, rows: &[repo::SnapshotRow], zone: &str) -> String {
    use time_tz::OffsetDateTimeExt;
    let tz = super::zone_of(zone);
    let mut by_day: std::collections::BTreeMap<time::Date, (OffsetDateTime, f64)> =
        std::collections::BTreeMap::new();
    for r in rows {
        let day = r.captured_at.to_timezone(tz).date();
        let entry = by_day.entry(day).or_insert((r.captured_at, r.views as f64));
        if r.captured_at >= entry.0 {
            *entry = (r.captured_at, r.views as f64);
        }
    }
    if by_day.is_empty() {
        return String::new();
    }
    let points: Vec<(time::Date, f64)> = by_day.into_iter().map(|(d, (_, v))| (d, v)).collect();
    let title = lang.t("performance.post.chart_title");
    crate::tracking::dashboards::charts::daily_line("post-views", &title, &title, &points)
}

/// A post's page; with snapshot errors it comes back with 422.
async fn post_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    post: PostRow,
    input: SnapshotInput,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let collab = collaboration(&mut ctx, post.collaboration_id, false).await?;
    let rows = repo::snapshots_of(&mut ctx.tx, ctx.tenant.id, &[post.id]).await?;
    let zone = collab.zone.clone();
    let now = OffsetDateTime::now_utc();
    let snapshots: Vec<Snapshot> = rows.iter().map(to_snapshot).collect();
    let can_write = can_write(&ctx).is_ok();
    let chart = views_chart(lang, &rows, &zone);
    let (layout, slug) = page_layout(state, session, lang, ctx, "performance.post.title").await?;
    let page = PostPage {
        chart,
        layout,
        slug,
        heading: format!("@{} · {}", collab.handle, collab.campaign_title),
        collaboration_id: collab.id,
        published: fmt::datetime(post.published_at, &zone),
        late: late_text(lang, &collab, post.published_at),
        windows: window_views(lang, post.published_at, &snapshots, now, &zone),
        snapshots: rows
            .iter()
            .rev()
            .map(|r| SnapshotView {
                captured: fmt::datetime(r.captured_at, &zone),
                views: fmt::number(r.views),
                likes: fmt::number(r.likes),
                comments: fmt::number(r.comments),
                shares: fmt::number(r.shares),
                watch: r
                    .avg_watch_seconds
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "—".into()),
                source_key: format!("performance.source.{}", r.source),
            })
            .collect(),
        can_write,
        video_id: post.video_id.clone().unwrap_or_else(|| "—".into()),
        post,
        zone,
        fields: snapshot_fields(lang, &input),
        input,
        errors: FormErrors::new(lang, errors),
    };
    render_with(status_of(errors), &page)
}

async fn load_post(ctx: &mut TenantCtx, id: &str) -> AppResult<PostRow> {
    let id = parse_id(id)?;
    repo::post(&mut ctx.tx, ctx.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /t/{slug}/posts/{id}`
pub async fn show_post(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let post = load_post(&mut ctx, &id).await?;
    post_page(
        &state,
        &session,
        lang,
        ctx,
        post,
        SnapshotInput::default(),
        &FieldErrors::new(),
    )
    .await
}

/// `POST /t/{slug}/posts/{id}/snapshots`: one snapshot by hand; the same moment replaces.
pub async fn add_snapshot(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    front: Front,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(input): Form<SnapshotInput>,
) -> AppResult<Response> {
    let post_id = parse_id(&id)?;
    let input = input.trimmed();
    let add = AddSnapshot {
        post_id,
        snapshot: input.clone(),
    };
    match actions::add_snapshot(&mut ctx.tx, &ctx.actor, add).await {
        Ok(_) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "performance.snapshot.added").await?;
            Ok(Redirect::to(&format!("/t/{}/posts/{post_id}", ctx.tenant.slug)).into_response())
        }
        Err(DomainError::Invalid(errors)) if !front.is_json() => {
            let mut ctx = ctx.reopen(&state.db).await?;
            let post = load_post(&mut ctx, &id).await?;
            post_page(&state, &session, lang, ctx, post, input, &errors).await
        }
        Err(e) => Err(e.into()),
    }
}
