//! What the posts' pages share with their neighbours in the room (the dashboard, the KPI
//! sections): the page layout under Campaigns and a post's late flag.

use time::OffsetDateTime;
use tower_sessions::Session;

use super::domain;
use super::repo::CollabFacts;
use super::zone_of;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::web::lang::Lang;
use crate::web::layout::Layout;

/// Ends the page's (read-only) transaction and lays out a tenant page under Campaigns.
pub async fn page_layout(
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

/// The late flag of a post against the collaboration's current terms (`domain::days_late`).
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
