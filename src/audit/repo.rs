//! The audit log's one write.

use sqlx::PgConnection;
use uuid::Uuid;

use super::Entry;

#[tracing::instrument(skip_all, fields(action = entry.action), err)]
pub async fn insert(conn: &mut PgConnection, entry: Entry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_id, actor_label, action, entity_type, \
         entity_id, before, after, ip, scope) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 NULLIF(current_setting('app.scope', true), ''))",
    )
    .bind(Uuid::now_v7())
    .bind(entry.tenant_id)
    .bind(entry.actor_id)
    .bind(entry.actor_label)
    .bind(entry.action)
    .bind(entry.entity_type)
    .bind(entry.entity_id)
    .bind(entry.before)
    .bind(entry.after)
    .bind(entry.ip)
    .execute(conn)
    .await?;
    Ok(())
}
