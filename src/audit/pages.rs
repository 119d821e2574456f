//! The audit trail's pages: an owner's at `/t/{slug}/audit` (the tenant's entries; RLS shows
//! nothing else) and the admins' at `/admin/audit` (every tenant's and the platform's, through the
//! audited staff scope). Both filter by actor, object, action (or area) and period, newest first,
//! 50 to a page, each entry with what it changed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;
use uuid::Uuid;

use super::repo::{self, TrailQuery, TrailRow};
use super::trail::{self, Change, Filter, TenantFilter};
use crate::auth::{CurrentUser, PlatformRole};
use crate::db::SystemScope;
use crate::error::AppResult;
use crate::kernel::FieldErrors;
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::fmt;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::listing::{Listing, Pager};
use crate::web::render_with;

const PAGE_SIZE: usize = 50;
/// The agency's zone: the admins' page reads and shows days in it.
const AGENCY_ZONE: &str = "Asia/Shanghai";

/// One entry as shown.
pub struct EntryView {
    pub at: String,
    pub tenant: Option<(String, String)>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// A link to this object's whole history.
    pub history: String,
    pub changes: Vec<Change>,
    /// "3 changed".
    pub summary: String,
    pub scope: String,
    pub ip: String,
}

/// A choice in a filter's select: value, label, selected.
pub type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "audit/trail.html")]
struct TrailPage {
    layout: Layout,
    t: Trail,
}

/// The page's content.
struct Trail {
    path: String,
    admin: bool,
    filter: Filter,
    from: String,
    to: String,
    errors: Vec<(String, String)>,
    tenants: Vec<Choice>,
    entities: Vec<Choice>,
    /// Areas (`campaign`: every `campaign.…`), each with its actions.
    areas: Vec<(Choice, Vec<Choice>)>,
    entries: Vec<EntryView>,
    pager: Option<Pager>,
}

impl Trail {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// What a request asked for and who may see what.
struct Asked {
    path: String,
    zone: String,
    /// The tenant the viewer is limited to (the owner's), or None for an admin.
    tenant: Option<Uuid>,
    query: Vec<(String, String)>,
}

/// The owner's page: the tenant's entries only.
pub async fn tenant_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
    Query(query): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    ctx.require(&[Access::Owner])?;
    ctx.require_active()?;
    let asked = Asked {
        path: format!("/t/{}/audit", ctx.tenant.slug),
        zone: ctx.tenant.time_zone.clone(),
        tenant: Some(ctx.tenant.id),
        query,
    };
    let (page, status) = build(&mut ctx.tx, lang, asked, Vec::new()).await?;
    ctx.tx.commit().await?;
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "audit.title",
        &page.path,
    )
    .await?;
    render_with(status, &TrailPage { layout, t: page })
}

/// The admins' page: every tenant's entries and the platform's own.
pub async fn admin_page(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Query(query): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    user.require(PlatformRole::Admin)?;
    let mut tx = state
        .db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: user.id,
            actor_label: user.label(),
            page: "admin_audit",
        })
        .await?;
    let tenants: Vec<(String, String, Uuid)> = crate::admin::repo::tenant_list(&mut tx, None)
        .await?
        .into_iter()
        .map(|t| (t.slug, t.display_name, t.id))
        .collect();
    let asked = Asked {
        path: "/admin/audit".into(),
        zone: AGENCY_ZONE.into(),
        tenant: None,
        query,
    };
    let (page, status) = build(&mut tx, lang, asked, tenants).await?;
    tx.commit().await?;
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &user,
        None,
        "audit.title",
        &page.path,
    )
    .await?;
    render_with(status, &TrailPage { layout, t: page })
}

/// The page without its layout: filters checked, then the entries they match.
async fn build(
    conn: &mut sqlx::PgConnection,
    lang: Lang,
    asked: Asked,
    tenant_names: Vec<(String, String, Uuid)>,
) -> AppResult<(Trail, StatusCode)> {
    let admin = asked.tenant.is_none();
    let parsed = Filter::parse(&asked.query, admin).and_then(|f| {
        // An admin's tenant: one that exists.
        match &f.tenant {
            TenantFilter::Slug(s) if !tenant_names.iter().any(|(slug, _, _)| slug == s) => Err(
                FieldErrors::from([("tenant".to_string(), "audit.filter.no_tenant")]),
            ),
            _ => Ok(f),
        }
    });
    let raw = |k: &str| {
        asked
            .query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.chars().take(200).collect::<String>())
            .unwrap_or_default()
    };
    let (from, to) = (raw("from"), raw("to"));
    let (filter, errors, status) = match parsed {
        Ok(f) => (f, Vec::new(), StatusCode::OK),
        Err(e) => (
            Filter::default(),
            e.into_iter()
                .map(|(k, m)| (k, lang.t(m)))
                .collect::<Vec<_>>(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let tenant = match (&asked.tenant, &filter.tenant) {
        (Some(id), _) => Some(*id),
        (None, TenantFilter::Slug(s)) => tenant_names.iter().find(|t| &t.0 == s).map(|t| t.2),
        _ => None,
    };
    let (entities, actions) = repo::kinds(conn, tenant).await?;
    let listing = Listing::new(
        asked.path.clone(),
        filter.pairs(),
        &asked.query,
        &[("at", true)],
    );
    let (rows, pager) = if errors.is_empty() {
        // A page past the end (only a hand-made link goes there) shows nothing.
        let rows = repo::trail(
            conn,
            TrailQuery {
                tenant,
                platform_only: filter.tenant == TenantFilter::Platform,
                filter: &filter,
                zone: &asked.zone,
                limit: PAGE_SIZE as i64,
                offset: (listing.page - 1) * PAGE_SIZE as i64,
            },
        )
        .await?;
        let total = rows.first().map_or(0, |r| r.total as usize);
        let (_, pager) = listing.pager(lang, total, PAGE_SIZE);
        (rows, (total > 0).then_some(pager))
    } else {
        (Vec::new(), None)
    };
    let choose = |values: Vec<String>, current: &str| -> Vec<Choice> {
        values
            .into_iter()
            .map(|v| (v.clone(), v.clone(), v == current))
            .collect()
    };
    let mut areas: Vec<(Choice, Vec<Choice>)> = Vec::new();
    for action in actions {
        let area = action.split('.').next().unwrap_or_default().to_string();
        if areas.last().is_none_or(|(a, _)| a.0 != area) {
            let selected = filter.action == area;
            areas.push(((area.clone(), area, selected), Vec::new()));
        }
        if let Some((_, list)) = areas.last_mut() {
            let selected = filter.action == action;
            list.push((action.clone(), action, selected));
        }
    }
    let current_tenant = match &filter.tenant {
        TenantFilter::Slug(s) => s.as_str(),
        TenantFilter::Platform => "platform",
        TenantFilter::All => "",
    };
    let tenants = tenant_names
        .into_iter()
        .map(|(slug, name, _)| (slug.clone(), name, slug == current_tenant))
        .collect();
    let entries = rows
        .into_iter()
        .map(|r| entry_view(r, lang, &asked.path, &asked.zone))
        .collect();
    let page = Trail {
        entities: choose(entities, &filter.entity),
        path: asked.path,
        admin,
        filter,
        from,
        to,
        errors,
        tenants,
        areas,
        entries,
        pager,
    };
    Ok((page, status))
}

fn entry_view(r: TrailRow, lang: Lang, path: &str, zone: &str) -> EntryView {
    let changes = trail::changes(r.before.as_ref(), r.after.as_ref());
    let entity_id = r.entity_id.unwrap_or_default();
    let history = if entity_id.is_empty() {
        format!(
            "{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("entity", &r.entity_type)
                .finish()
        )
    } else {
        format!(
            "{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("entity", &r.entity_type)
                .append_pair("entity_id", &entity_id)
                .finish()
        )
    };
    EntryView {
        at: fmt::datetime(r.at, zone),
        tenant: r.tenant_slug.zip(r.tenant_name),
        actor: r.actor_label,
        action: r.action,
        entity_type: r.entity_type,
        entity_id,
        history,
        summary: lang.t_with(
            "audit.changed",
            &[(
                "n",
                &changes.iter().filter(|c| c.changed).count().to_string(),
            )],
        ),
        changes,
        scope: r.scope.unwrap_or_default(),
        ip: r.ip.unwrap_or_default(),
    }
}
