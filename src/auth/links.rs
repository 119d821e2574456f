//! One-time links (no mail here): an owner or admin gets a link to pass on, which lets one person
//! set a password once, within 72 hours. Only a SHA-256 of the token is stored. A link issued in a
//! tenant works only while that person is still a member of that tenant.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

pub const LINK_LIFETIME: time::Duration = time::Duration::hours(72);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Invite,
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Invite => "invite",
            Purpose::Reset => "reset",
        }
    }
}

/// A link just issued: the path to pass on and when it stops working.
#[derive(Clone, Debug)]
pub struct IssuedLink {
    pub path: String,
    pub expires_at: OffsetDateTime,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Issues a link for `user_id` (in `tenant_id`, or for staff with None).
pub async fn issue(
    conn: &mut PgConnection,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    purpose: Purpose,
    created_by: Option<Uuid>,
) -> Result<IssuedLink, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let expires_at = OffsetDateTime::now_utc() + LINK_LIFETIME;
    sqlx::query(
        "INSERT INTO one_time_links (id, token_hash, user_id, tenant_id, purpose, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(hash(&token))
    .bind(user_id)
    .bind(tenant_id)
    .bind(purpose.as_str())
    .bind(created_by)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(IssuedLink {
        path: format!("/set-password/{token}"),
        expires_at,
    })
}

/// A link that may still be used.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ValidLink {
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub email: String,
}

/// The link behind `token` if it is unused, unexpired, and (for a tenant's link) the person is
/// still a member of that tenant. Runs in a system scope (the visitor has no session).
pub async fn find_valid(
    conn: &mut PgConnection,
    token: &str,
) -> Result<Option<ValidLink>, sqlx::Error> {
    sqlx::query_as::<_, ValidLink>(
        "SELECT l.id, l.user_id, l.tenant_id, u.email FROM one_time_links l \
         JOIN users u ON u.id = l.user_id \
         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() AND u.active \
           AND (l.tenant_id IS NULL OR EXISTS (SELECT 1 FROM memberships m \
                 WHERE m.tenant_id = l.tenant_id AND m.user_id = l.user_id)) \
           AND (l.tenant_id IS NOT NULL OR u.platform_role IS NOT NULL)",
    )
    .bind(hash(token))
    .fetch_optional(conn)
    .await
}

/// Marks the link used; false if someone used it first (two tabs, a replay).
pub async fn consume(conn: &mut PgConnection, link_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE one_time_links SET used_at = now() \
         WHERE id = $1 AND used_at IS NULL AND expires_at > now()",
    )
    .bind(link_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Voids a person's unused links in a tenant (when they are removed from it).
pub async fn revoke_for(
    conn: &mut PgConnection,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE one_time_links SET expires_at = now() \
         WHERE user_id = $1 AND tenant_id IS NOT DISTINCT FROM $2 AND used_at IS NULL \
           AND expires_at > now()",
    )
    .bind(user_id)
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_only_as_hashes() {
        let h = hash("abc");
        assert_eq!(h.len(), 32);
        assert_ne!(h, b"abc".to_vec());
    }
}
