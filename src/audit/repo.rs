//! The audit log's one write.

use sqlx::PgConnection;
use uuid::Uuid;

use super::Entry;

#[tracing::instrument(skip_all, fields(action = entry.action), err)]
pub async fn insert(conn: &mut PgConnection, entry: Entry) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_log (id, tenant_id, actor_id, actor_label, action, entity_type, \
         entity_id, before, after, ip, scope) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 NULLIF(current_setting('app.scope', true), ''))",
        Uuid::now_v7(),
        entry.tenant_id,
        entry.actor_id,
        entry.actor_label,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.before,
        entry.after,
        entry.ip,
    )
    .execute(conn)
    .await?;
    Ok(())
}
