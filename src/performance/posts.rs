//! Posts and snapshots by hand: the "add a post" form of a collaboration, a post's page (its
//! windows and snapshots) and the snapshot form on it.
//!
//! Access: owners, operators and the assigned account manager add; viewers read (403 on a
//! change). Another tenant's collaboration or post is unknown (404) before any role check.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::{self, PostInput, SnapshotInput};
use super::repo::{self, CollabFacts, PostRow};
use super::{can_write, parse_id, zone_of};
use crate::audit;
use crate::contracts::domain::{ContractEvent, ContractState, next_state};
use crate::db::unique_violation;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::tenants::domain::FieldErrors;
use crate::tracking::windows::{self, Metrics, Snapshot};
use crate::web::forms::{FormData, FormErrors};
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{fmt, render_with};

/// Ends the page's (read-only) transaction and lays out a tenant page under Campaigns.
pub(super) async fn page_layout(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    title: &str,
) -> AppResult<(Layout, String)> {
    ctx.tx.commit().await?;
    let path = format!("/t/{}/campaigns", ctx.tenant.slug);
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        title,
        &path,
    )
    .await?;
    Ok((layout, ctx.tenant.slug))
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

#[allow(clippy::too_many_arguments)]
async fn post_form_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    collab: &CollabFacts,
    input: PostInput,
    errors: &FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (layout, slug) = page_layout(state, session, lang, ctx, "performance.post.add").await?;
    render_with(
        status,
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
        StatusCode::OK,
    )
    .await
}

/// Moves a collaboration on after an event (a post, a first snapshot), recording the
/// transition; `Ok(false)` when the state refuses the event.
pub async fn apply_event(
    ctx: &mut TenantCtx,
    collab: Uuid,
    from: &str,
    event: ContractEvent,
    event_code: &str,
    sample_needed: bool,
) -> AppResult<bool> {
    let Some(from) = ContractState::parse(from) else {
        return Ok(false);
    };
    let Ok(to) = next_state(from, &event, sample_needed, false) else {
        return Ok(false);
    };
    if to == from {
        return Ok(true);
    }
    sqlx::query(
        "UPDATE collaborations SET state = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(ctx.tenant.id)
    .bind(collab)
    .bind(to.code())
    .execute(&mut *ctx.tx)
    .await?;
    crate::contracts::handlers::record_transition(ctx, collab, from, to, event_code, "").await?;
    Ok(true)
}

fn sample_needed(collab: &CollabFacts) -> bool {
    collab
        .campaign_data
        .get("sample_needed")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// `POST /t/{slug}/collaborations/{id}/posts`: validates, refuses duplicates next to their
/// field, records the post and moves the collaboration to published. Nothing is saved on error.
pub async fn create_post(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let collab = collaboration(&mut ctx, id, true).await?;
    can_write(&ctx)?;
    let input = PostInput {
        url: form.get("url").trim().to_string(),
        video_id: form.get("video_id").trim().to_string(),
        published_at: form.get("published_at").trim().to_string(),
    };
    let zone = zone_of(&collab.zone);
    let now = OffsetDateTime::now_utc();
    let mut errors = FieldErrors::new();
    let from = ContractState::parse(&collab.state).unwrap_or(ContractState::Proposed);
    if next_state(
        from,
        &ContractEvent::PostAdded,
        sample_needed(&collab),
        false,
    )
    .is_err()
    {
        errors.insert("form".into(), "performance.error.state_refuses_post");
    }
    let post = match domain::validate_post(&input, zone, now) {
        Ok(post) => Some(post),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    if let Some(post) = &post {
        let (url_taken, video_taken): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM posts WHERE tenant_id = $1 AND url = $2), \
                    EXISTS (SELECT 1 FROM posts WHERE tenant_id = $1 AND video_id = $3)",
        )
        .bind(ctx.tenant.id)
        .bind(&post.url)
        .bind(&post.video_id)
        .fetch_one(&mut *ctx.tx)
        .await?;
        if url_taken {
            errors.insert("url".into(), "performance.error.url_taken");
        }
        if video_taken {
            errors.insert("video_id".into(), "performance.error.video_id_taken");
        }
    }
    let post = match post {
        Some(post) if errors.is_empty() => post,
        _ => {
            return post_form_page(
                &state,
                &session,
                lang,
                ctx,
                &collab,
                input,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let post_id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ctx.tenant.id)
    .bind(post_id)
    .bind(id)
    .bind(&post.url)
    .bind(&post.video_id)
    .bind(post.published_at)
    .bind(ctx.user.id)
    .execute(&mut *ctx.tx)
    .await;
    if let Err(e) = inserted {
        // Someone added the same post in the meantime: the same message as the check above.
        let field = match unique_violation(&e) {
            Some("posts_tenant_id_video_id_key") => "video_id",
            Some("posts_tenant_id_url_key") => "url",
            _ => return Err(e.into()),
        };
        let mut errors = FieldErrors::new();
        errors.insert(
            field.into(),
            if field == "url" {
                "performance.error.url_taken"
            } else {
                "performance.error.video_id_taken"
            },
        );
        let ctx = ctx.reopen(&state.db).await?;
        return post_form_page(
            &state,
            &session,
            lang,
            ctx,
            &collab,
            input,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    apply_event(
        &mut ctx,
        id,
        &collab.state,
        ContractEvent::PostAdded,
        "post_added",
        sample_needed(&collab),
    )
    .await?;
    audit::record(
        &mut ctx.tx,
        audit::Entry::new("post.create", "post", Some(post_id.to_string()))
            .by(&ctx.user)
            .tenant(Some(ctx.tenant.id))
            .after(json!({
                "collaboration": id,
                "url": post.url,
                "video_id": post.video_id,
                "published_at": post.published_at.to_string(),
            })),
    )
    .await?;
    ctx.tx.commit().await?;
    flash(&session, "ok", "performance.post.added").await?;
    Ok(Redirect::to(&format!("/t/{}/posts/{post_id}", ctx.tenant.slug)).into_response())
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
                    super::kpis::percent(crate::tracking::kpi::ratio(
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

/// The late flag of a post against the collaboration's current terms.
pub fn late_text(lang: Lang, collab: &CollabFacts, published_at: OffsetDateTime) -> Option<String> {
    let terms = collab.terms()?;
    let days = domain::days_late(published_at, terms.publish_deadline, zone_of(&collab.zone))?;
    Some(lang.t_with(
        "performance.post.late",
        &[
            ("days", &days.to_string()),
            ("deadline", &terms.publish_deadline.to_string()),
        ],
    ))
}

#[allow(clippy::too_many_arguments)]
async fn post_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    mut ctx: TenantCtx,
    post: PostRow,
    input: SnapshotInput,
    errors: &FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let collab = collaboration(&mut ctx, post.collaboration_id, false).await?;
    let rows = repo::snapshots_of(&mut ctx.tx, ctx.tenant.id, &[post.id]).await?;
    let zone = collab.zone.clone();
    let now = OffsetDateTime::now_utc();
    let snapshots: Vec<Snapshot> = rows.iter().map(to_snapshot).collect();
    let can_write = can_write(&ctx).is_ok();
    let (layout, slug) = page_layout(state, session, lang, ctx, "performance.post.title").await?;
    let page = PostPage {
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
    render_with(status, &page)
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
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{slug}/posts/{id}/snapshots`: one snapshot by hand; the same moment replaces.
pub async fn add_snapshot(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    form: FormData,
) -> AppResult<Response> {
    let post = load_post(&mut ctx, &id).await?;
    can_write(&ctx)?;
    let collab = collaboration(&mut ctx, post.collaboration_id, true).await?;
    let f = |name: &str| form.get(name).trim().to_string();
    let input = SnapshotInput {
        captured_at: f("captured_at"),
        views: f("views"),
        likes: f("likes"),
        comments: f("comments"),
        shares: f("shares"),
        avg_watch_seconds: f("avg_watch_seconds"),
    };
    let zone = zone_of(&collab.zone);
    let snapshot =
        match domain::validate_snapshot(&input, zone, post.published_at, OffsetDateTime::now_utc())
        {
            Ok(s) => s,
            Err(errors) => {
                return post_page(
                    &state,
                    &session,
                    lang,
                    ctx,
                    post,
                    input,
                    &errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        };
    repo::upsert_snapshots(
        &mut ctx.tx,
        ctx.tenant.id,
        &[(post.id, snapshot)],
        "manual",
        Some(ctx.user.id),
    )
    .await?;
    apply_event(
        &mut ctx,
        collab.id,
        &collab.state,
        ContractEvent::TrackingStarted,
        "tracking_started",
        sample_needed(&collab),
    )
    .await?;
    ctx.tx.commit().await?;
    flash(&session, "ok", "performance.snapshot.added").await?;
    Ok(Redirect::to(&format!("/t/{}/posts/{}", ctx.tenant.slug, post.id)).into_response())
}
