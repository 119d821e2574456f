//! One-time links (no mail here): an owner or admin gets a link to pass on, which lets one person
//! set a password once, within 72 hours. Only a SHA-256 of the token is stored (`repo` holds the
//! SQL). A link issued in a tenant works only while that person is still a member of that tenant.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::repo;

pub use super::repo::ValidLink;

pub const LINK_LIFETIME: time::Duration = time::Duration::hours(72);

/// What a link is for (column `one_time_links.purpose`, text with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Purpose {
    Invite,
    Reset,
}

impl Purpose {
    /// A person who has a password gets a reset link; one who never set one, a new invitation.
    pub fn for_person(has_password: bool) -> Purpose {
        if has_password {
            Purpose::Reset
        } else {
            Purpose::Invite
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
    repo::insert_link(
        conn,
        &hash(&token),
        user_id,
        tenant_id,
        purpose,
        created_by,
        expires_at,
    )
    .await?;
    Ok(IssuedLink {
        path: format!("/set-password/{token}"),
        expires_at,
    })
}

/// The link behind `token` if it is unused, unexpired, and (for a tenant's link) the person is
/// still a member of that tenant. Runs in a system scope (the visitor has no session).
pub async fn find_valid(
    conn: &mut PgConnection,
    token: &str,
) -> Result<Option<ValidLink>, sqlx::Error> {
    repo::find_valid_link(conn, &hash(token)).await
}

/// Marks the link used; false if someone used it first (two tabs, a replay).
pub async fn consume(conn: &mut PgConnection, link_id: Uuid) -> Result<bool, sqlx::Error> {
    repo::consume_link(conn, link_id).await
}

/// Voids a person's unused links in a tenant (when they are removed from it).
pub async fn revoke_for(
    conn: &mut PgConnection,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    repo::revoke_links(conn, user_id, tenant_id).await
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
