//! The `uploads` rows of evidence files.

use sqlx::PgConnection;
use uuid::Uuid;

/// A stored evidence file's row.
pub struct NewEvidence<'a> {
    pub tenant_id: Uuid,
    pub id: Uuid,
    /// `evidence`, `deliverable`, …
    pub purpose: &'a str,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: i64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    pub uploaded_by: Option<Uuid>,
}

pub async fn insert(conn: &mut PgConnection, new: &NewEvidence<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, content_type, bytes, sha256, \
           storage_key, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        new.tenant_id,
        new.id,
        new.purpose,
        new.filename,
        new.content_type,
        new.bytes,
        new.sha256,
        new.storage_key,
        new.uploaded_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What serving an evidence file needs.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub id: Uuid,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: i64,
    pub storage_key: String,
}

/// The tenant's evidence upload `id`; None for another purpose's upload (or none).
pub async fn find(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<EvidenceFile>> {
    find_of(conn, tenant_id, id, "evidence").await
}

/// The tenant's upload `id` kept for `purpose`; None for another purpose's upload (or none).
pub async fn find_of(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    id: Uuid,
    purpose: &str,
) -> sqlx::Result<Option<EvidenceFile>> {
    sqlx::query_as!(
        EvidenceFile,
        "SELECT id, filename, content_type, bytes, storage_key FROM uploads \
          WHERE tenant_id = $1 AND id = $2 AND purpose = $3",
        tenant_id,
        id,
        purpose,
    )
    .fetch_optional(conn)
    .await
}
