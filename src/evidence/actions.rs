//! Storing an evidence file.

use bytes::Bytes;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain;
use super::repo::{self, NewEvidence};
use crate::audit;
use crate::auth::actor::Actor;
use crate::error::{DomainError, DomainResult};
use crate::storage::Storage;
use crate::tenants::Access;

/// At most this many bytes per file.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// Who may attach evidence: whoever may record a fulfilment event (viewers only look).
pub const UPLOADERS: &[Access] = &[Access::Owner, Access::Operator, Access::AccountManager];

/// One evidence file as a form sent it.
#[derive(Debug, Clone)]
pub struct EvidenceUpload {
    pub filename: String,
    pub bytes: Bytes,
}

/// The file's type, or the field error on `evidence` saying why it is refused (empty, too big,
/// not an image or PDF): for actions that check every field before storing anything.
pub fn check_evidence(file: &EvidenceUpload) -> DomainResult<domain::EvidenceType> {
    domain::check(&file.bytes).map_err(|key| DomainError::field("evidence", key))
}

/// Checks the file by its content (PNG, JPEG, WebP or PDF, ≤ 10 MB), keeps it in object storage
/// and records it in `uploads` (purpose `evidence`) in the caller's transaction; answers the
/// upload's id. A refused file is `Invalid` on the field `evidence`, and nothing is kept.
pub async fn store_evidence(
    tx: &mut PgConnection,
    storage: &Storage,
    actor: &Actor,
    file: EvidenceUpload,
) -> DomainResult<Uuid> {
    actor.tenant_id()?;
    actor.require(UPLOADERS)?;
    actor.require_active()?;
    let kind = check_evidence(&file)?;
    let filename = domain::clean_filename(&file.filename, kind);
    let (id, stored) = store_upload(
        tx,
        storage,
        actor,
        Upload {
            purpose: "evidence",
            filename: &filename,
            content_type: kind.content_type(),
            bytes: &file.bytes,
        },
    )
    .await?;
    audit::record(
        tx,
        actor.audit("evidence.store", "upload", id).after(json!({
            "filename": filename,
            "content_type": kind.content_type(),
            "bytes": stored.bytes,
            "sha256": stored.sha256,
        })),
    )
    .await?;
    Ok(id)
}

/// A checked file to keep: what it is for (`uploads.purpose`), its clean name and type.
pub struct Upload<'a> {
    pub purpose: &'static str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Keeps a file (already checked by its feature) in object storage under the actor's tenant and
/// records it in `uploads` in the caller's transaction; the stored object is deleted again when
/// the row cannot be written. Answers the upload's id and what was stored.
pub async fn store_upload(
    tx: &mut PgConnection,
    storage: &Storage,
    actor: &Actor,
    upload: Upload<'_>,
) -> DomainResult<(Uuid, crate::storage::StoredObject)> {
    let tenant = actor.tenant_id()?;
    let id = Uuid::now_v7();
    let key = Storage::key(tenant, upload.purpose, id);
    let stored = storage
        .put_bytes(&key, upload.bytes)
        .await
        .map_err(|e| DomainError::Internal(e.into()))?;
    let new = NewEvidence {
        tenant_id: tenant,
        id,
        purpose: upload.purpose,
        filename: upload.filename,
        content_type: upload.content_type,
        bytes: stored.bytes as i64,
        sha256: &stored.sha256,
        storage_key: &stored.key,
        uploaded_by: actor.user_id,
    };
    if let Err(e) = repo::insert(tx, &new).await {
        if let Err(e) = storage.delete(&key).await {
            tracing::warn!(error = %e, key, "uploads: could not delete an unrecorded file");
        }
        return Err(e.into());
    }
    Ok((id, stored))
}
