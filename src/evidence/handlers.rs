//! Serving an evidence file back to the tenant's users: the content type found when it was
//! stored, never sniffed by the browser, shown inline only when it is an image, and sandboxed.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

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
    let limit = u64::try_from(file.bytes).unwrap_or_default();
    let body = state
        .storage
        .prefix(&file.storage_key, limit)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let disposition = HeaderValue::from_str(&content_disposition(kind, &file.filename))
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EVIDENCE_CSP),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
