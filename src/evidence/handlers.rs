//! Serving an evidence file back to the tenant's users: the content type found when it was
//! stored, never sniffed by the browser, shown inline only when it is an image, and sandboxed.

use axum::extract::{Path, State};

use axum::response::Response;

use super::domain::{EvidenceType, content_disposition};
use super::repo;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenants::TenantCtx;
use crate::web::parse_id;

/// What an evidence response may do when opened on its own: nothing (no script, no plugins, no
/// form, no same-origin access), images load.
const EVIDENCE_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

/// `GET /t/{tenant_slug}/evidence/{id}`: any user of the tenant; another tenant's file, or an
/// upload that is not evidence, is 404.
pub async fn show(
    State(state): State<AppState>,
    Path((_slug, id)): Path<(String, String)>,
    mut ctx: TenantCtx,
) -> AppResult<Response> {
    ctx.require_active()?;
    let id = parse_id(&id)?;
    let file = repo::find(&mut ctx.tx, ctx.tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(ctx);
    let kind = file
        .content_type
        .as_deref()
        .and_then(EvidenceType::from_content_type)
        .ok_or(AppError::NotFound)?;
    crate::web::stored_file(
        &state.storage,
        &file.storage_key,
        file.bytes,
        kind.content_type(),
        &content_disposition(kind, &file.filename),
        EVIDENCE_CSP,
    )
    .await
}
