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

/// One entry as the trail shows it, with its tenant's slug and name (None: a platform event).
#[derive(Debug, Clone)]
pub struct TrailRow {
    pub id: Uuid,
    pub at: time::OffsetDateTime,
    pub tenant_slug: Option<String>,
    pub tenant_name: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub scope: Option<String>,
    /// How many entries the filters match in all.
    pub total: i64,
}

/// The filters as SQL parameters: the tenant (None: every one the connection may read),
/// platform events only, then actor, entity type, entity id, action (or area), and the first and
/// last day in `zone`.
#[derive(Debug, Clone, Copy)]
pub struct TrailQuery<'a> {
    pub tenant: Option<Uuid>,
    pub platform_only: bool,
    pub filter: &'a super::trail::Filter,
    pub zone: &'a str,
    pub limit: i64,
    pub offset: i64,
}

fn some(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// A page of the entries the filters match, newest first, each with the count of all matches.
pub async fn trail(conn: &mut PgConnection, q: TrailQuery<'_>) -> sqlx::Result<Vec<TrailRow>> {
    sqlx::query_as!(
        TrailRow,
        r#"SELECT a.id, a.at, t.slug AS "tenant_slug?", t.display_name AS "tenant_name?",
                  a.actor_label, a.action, a.entity_type, a.entity_id, a.before, a.after, a.ip,
                  a.scope, count(*) OVER () AS "total!"
             FROM audit_log a
             LEFT JOIN tenants t ON t.id = a.tenant_id
            WHERE ($1::uuid IS NULL OR a.tenant_id = $1)
              AND (NOT $2::bool OR a.tenant_id IS NULL)
              AND ($3::text IS NULL OR strpos(lower(a.actor_label), lower($3)) > 0)
              AND ($4::text IS NULL OR a.entity_type = $4)
              AND ($5::text IS NULL OR a.entity_id = $5)
              AND ($6::text IS NULL OR a.action = $6 OR starts_with(a.action, $6 || '.'))
              AND ($7::date IS NULL OR a.at >= ($7::date::timestamp AT TIME ZONE $9))
              AND ($8::date IS NULL OR a.at < (($8::date + 1)::timestamp AT TIME ZONE $9))
            ORDER BY a.at DESC, a.id DESC
            LIMIT $10 OFFSET $11"#,
        q.tenant,
        q.platform_only,
        some(&q.filter.actor),
        some(&q.filter.entity),
        some(&q.filter.entity_id),
        some(&q.filter.action),
        q.filter.from,
        q.filter.to,
        q.zone,
        q.limit,
        q.offset,
    )
    .fetch_all(conn)
    .await
}

/// The entity types and actions that occur (for the filters' choices), within one tenant or all.
pub async fn kinds(
    conn: &mut PgConnection,
    tenant: Option<Uuid>,
) -> sqlx::Result<(Vec<String>, Vec<String>)> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT entity_type, action FROM audit_log
            WHERE ($1::uuid IS NULL OR tenant_id = $1)"#,
        tenant,
    )
    .fetch_all(conn)
    .await?;
    let mut entities: Vec<String> = rows.iter().map(|r| r.entity_type.clone()).collect();
    let mut actions: Vec<String> = rows.into_iter().map(|r| r.action).collect();
    for v in [&mut entities, &mut actions] {
        v.sort();
        v.dedup();
    }
    Ok((entities, actions))
}
