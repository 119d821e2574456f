//! The tier forms: the owner's override and blacklist decisions (on the seller's creator page)
//! and the staff's platform blacklist (on the staff creator page). A success redirects back to
//! the creator's page; bad input shows the section again with the message next to the field
//! (422), nothing stored.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::actions::{self, BlacklistDecision, DecideBlacklist, OverrideTier, PlatformBlacklist};
use super::sections::{self, FormState};
use crate::auth::{Actor, CurrentUser};
use crate::db::SystemScope;
use crate::error::{AppError, AppResult, DomainError};
use crate::state::AppState;
use crate::tenants::{Access, TenantCtx};
use crate::web::forms::Form;
use crate::web::lang::Lang;
use crate::web::layout::{Layout, flash};
use crate::web::{parse_id, section_again};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OverrideForm {
    pub tier: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub decision: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PlatformForm {
    pub action: String,
    pub reason: String,
}

/// The seller's tier section alone, with what failed (422).
async fn seller_again(
    state: &AppState,
    session: &Session,
    lang: Lang,
    ctx: TenantCtx,
    creator: uuid::Uuid,
    form: FormState,
) -> AppResult<Response> {
    let mut ctx = ctx.reopen(&state.db).await?;
    let slug = ctx.tenant.slug.clone();
    let tz = ctx.tenant.time_zone.clone();
    let section = sections::seller_section(
        &mut ctx.tx,
        ctx.tenant.id,
        &slug,
        &tz,
        creator,
        lang,
        ctx.access == Access::Owner,
        form,
    )
    .await?;
    ctx.tx.commit().await?;
    let path = format!("/t/{slug}/creators/{creator}");
    let layout = Layout::for_user(
        state,
        session,
        lang,
        &ctx.user,
        Some((&ctx.tenant, ctx.access)),
        "seller_creators.title",
        &path,
    )
    .await?;
    section_again(layout, path, lang.t("seller_creators.title"), section)
}

/// `POST /t/{tenant_slug}/creators/{id}/tier`: the owner overrides the tier.
pub async fn override_tier(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<OverrideForm>,
) -> AppResult<Response> {
    let creator = parse_id(&id)?;
    let input = OverrideTier {
        creator_id: creator,
        tier: form.tier.clone(),
        reason: form.reason.clone(),
    };
    match actions::override_tier(&mut ctx.tx, &ctx.actor, input).await {
        Ok(()) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "tiers.saved").await?;
            Ok(Redirect::to(&format!("/t/{}/creators/{creator}", ctx.tenant.slug)).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            let form = FormState {
                form: "override".into(),
                tier: form.tier,
                reason: form.reason,
                errors,
            };
            seller_again(&state, &session, lang, ctx, creator, form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /t/{tenant_slug}/blacklist/{id}`: the owner confirms, dismisses or lifts an entry.
pub async fn decide_blacklist(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let entry_id = parse_id(&id)?;
    let Some(decision) = BlacklistDecision::parse(form.decision.trim()) else {
        // A decision no form sends: the entry (404) and the role (403) first, then 404.
        let entry = super::repo::entry(&mut ctx.tx, ctx.tenant.id, entry_id)
            .await?
            .ok_or(AppError::NotFound)?;
        ctx.actor.require(&[Access::Owner])?;
        let _ = entry;
        return Err(AppError::NotFound);
    };
    let input = DecideBlacklist {
        entry_id,
        decision,
        reason: form.reason.clone(),
    };
    match actions::decide_blacklist(&mut ctx.tx, &ctx.actor, input).await {
        Ok(creator) => {
            ctx.tx.commit().await?;
            flash(&session, "ok", "tiers.saved").await?;
            Ok(Redirect::to(&format!("/t/{}/creators/{creator}", ctx.tenant.slug)).into_response())
        }
        Err(DomainError::Invalid(errors)) => {
            let creator = super::repo::entry(&mut ctx.tx, ctx.tenant.id, entry_id)
                .await?
                .ok_or(AppError::NotFound)?
                .creator_id;
            let form = FormState {
                form: entry_id.to_string(),
                tier: String::new(),
                reason: form.reason,
                errors,
            };
            seller_again(&state, &session, lang, ctx, creator, form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/creators/{id}/platform-blacklist`: staff add a creator to the platform
/// blacklist or lift it, with a reason.
pub async fn platform_blacklist(
    State(state): State<AppState>,
    session: Session,
    lang: Lang,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<PlatformForm>,
) -> AppResult<Response> {
    let creator = parse_id(&id)?;
    let actor = Actor::user(&user);
    crate::creators::actions::require_pool_staff(&actor)?;
    let add = match form.action.trim() {
        "add" => true,
        "lift" => false,
        _ => return Err(AppError::NotFound),
    };
    let mut tx = state.db.system_tx(SystemScope::CreatorPool).await?;
    let input = PlatformBlacklist {
        creator_id: creator,
        add,
        reason: form.reason,
    };
    let error = match actions::platform_blacklist(&mut tx, &actor, input).await {
        Ok(()) => {
            tx.commit().await?;
            flash(&session, "ok", "tiers.saved").await?;
            return Ok(Redirect::to(&format!("/admin/creators/{creator}")).into_response());
        }
        Err(e @ (DomainError::Invalid(_) | DomainError::Refused(_))) => e.page_message(),
        Err(e) => return Err(e.into()),
    };
    drop(tx);
    let mut tx = state.db.system_tx(SystemScope::CreatorPool).await?;
    let section = sections::platform_section(&mut tx, creator, lang, error).await?;
    tx.commit().await?;
    let path = format!("/admin/creators/{creator}");
    let layout =
        Layout::for_user(&state, &session, lang, &user, None, "creators.title", &path).await?;
    section_again(layout, path, lang.t("creators.title"), section)
}
