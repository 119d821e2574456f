//! The tenant's pages. Handlers are thin: check access, read in the tenant's transaction, render.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::domain::TenantStatus;
use super::home::{HomeOf, Needs};
use super::{Access, TenantCtx, repo};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::fmt;
use crate::web::lang::Lang;
use crate::web::layout::Layout;
use crate::web::render;

pub async fn redirect_to_dashboard(Path(slug): Path<String>) -> Redirect {
    Redirect::permanent(&format!("/t/{slug}/"))
}

#[derive(Template)]
#[template(path = "tenants/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    tenant_name: String,
    status_key: String,
    time_zone: String,
    local_now: String,
    currency: String,
    shop_count: usize,
    member_count: usize,
    is_staff: bool,
    is_owner: bool,
    status: TenantStatus,
    status_reason: String,
    profile_complete: bool,
    /// What needs the person now; None until the tenant is active.
    needs: Option<Needs>,
}

pub async fn dashboard(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    let shops = repo::shops(&mut ctx.tx, ctx.tenant.id).await?;
    let members = repo::members(&mut ctx.tx, ctx.tenant.id).await?;
    let now = time::OffsetDateTime::now_utc();
    let needs = if ctx.tenant.status.is_active() {
        let of = HomeOf {
            tenant: ctx.tenant.id,
            zone: &ctx.tenant.time_zone,
            settlement_currency: &ctx.tenant.settlement_currency,
            user: ctx.user.id,
            access: ctx.access,
            lang,
        };
        Some(Needs::load(&mut ctx.tx, of, now).await?)
    } else {
        None
    };
    ctx.tx.commit().await?;
    let path = format!("/t/{}/", ctx.tenant.slug);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "dashboard.title",
        &path,
    )
    .await?;
    render(&DashboardPage {
        layout,
        tenant_name: ctx.tenant.display_name.clone(),
        status_key: ctx.tenant.status.label_key().to_string(),
        time_zone: ctx.tenant.time_zone.clone(),
        local_now: fmt::datetime(now, &ctx.tenant.time_zone),
        currency: ctx.tenant.settlement_currency.clone(),
        shop_count: shops.len(),
        member_count: members.len(),
        is_staff: ctx.access == Access::AccountManager,
        is_owner: ctx.access == Access::Owner,
        status: ctx.tenant.status,
        status_reason: ctx.tenant.status_reason.clone().unwrap_or_default(),
        profile_complete: ctx.tenant.profile_completed_at.is_some(),
        needs,
    })
}

#[derive(Template)]
#[template(path = "tenants/shops.html")]
struct ShopsPage {
    layout: Layout,
    slug: String,
    shops: Vec<repo::Shop>,
}

pub async fn shops(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let shops = repo::shops(&mut ctx.tx, ctx.tenant.id).await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/shops", ctx.tenant.slug);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "shops.title",
        &path,
    )
    .await?;
    render(&ShopsPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        shops,
    })
}

#[derive(Template)]
#[template(path = "tenants/shop.html")]
struct ShopPage {
    layout: Layout,
    slug: String,
    shop: repo::Shop,
}

pub async fn shop(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, shop_id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    // A malformed id is as unknown as another tenant's.
    let shop_id: Uuid = shop_id.parse().map_err(|_| AppError::NotFound)?;
    ctx.require_active()?;
    let shop = repo::shop(&mut ctx.tx, ctx.tenant.id, shop_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.tx.commit().await?;
    let path = format!("/t/{}/shops", ctx.tenant.slug);
    let layout = Layout::for_user(
        &state,
        &session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "shops.title",
        &path,
    )
    .await?;
    render(&ShopPage {
        layout,
        slug: ctx.tenant.slug.clone(),
        shop,
    })
}
