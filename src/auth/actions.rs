//! The auth feature's state changes: setting a password through a one-time link, and a person
//! changing their own. Each checks its rule, writes through `repo` and records its audit entry in
//! the caller's transaction (a system `Auth` scope: people are platform rows).
//!
//! Hashing and checking passwords costs real time, so these actions take the app's
//! `PasswordService` beside their input. Setting a password through a link takes no `Actor`:
//! the visitor has no session, and the link's token is what names the person acting.

use std::net::IpAddr;

use sqlx::PgConnection;
use uuid::Uuid;

use super::password::PasswordService;
use super::{Actor, links, repo};
use crate::audit;
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::tenants::domain::validate_new_password;

/// A password chosen through a one-time link.
#[derive(Clone, Debug)]
pub struct SetPasswordWithLink {
    /// The token from the link's path.
    pub token: String,
    pub password: String,
    pub password_confirm: String,
    /// Where the request came from (kept in the audit entry).
    pub ip: Option<IpAddr>,
}

/// The person whose password was set.
#[derive(Clone, Debug)]
pub struct PasswordSet {
    pub user_id: Uuid,
    pub email: String,
}

/// Sets the password of the link's person and uses the link up, in one transaction: a second use
/// (two tabs, a replay) finds it spent. A link that is unknown, used, expired or withdrawn is
/// `NotFound`; a password that breaks the rules is `Invalid` (`password`, `password_confirm`).
pub async fn set_password_with_link(
    tx: &mut PgConnection,
    passwords: &PasswordService,
    input: SetPasswordWithLink,
) -> DomainResult<PasswordSet> {
    let link = links::find_valid(tx, &input.token)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut errors = FieldErrors::new();
    validate_new_password(&input.password, &input.password_confirm, &mut errors);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let hash = passwords.hash(&input.password).await?;
    if !links::consume(tx, link.id).await? {
        return Err(DomainError::NotFound);
    }
    repo::set_password(tx, link.user_id, &hash).await?;
    audit::record(
        tx,
        audit::Entry::new("user.password_set", "user", Some(link.user_id.to_string()))
            .actor(Some(link.user_id), link.email.clone())
            .tenant(link.tenant_id)
            .ip(input.ip.map(|i| i.to_string())),
    )
    .await?;
    Ok(PasswordSet {
        user_id: link.user_id,
        email: link.email,
    })
}

/// A signed-in person's new password, with the current one as proof.
#[derive(Clone, Debug)]
pub struct ChangeOwnPassword {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
    pub ip: Option<IpAddr>,
}

/// Changes the acting person's own password. A wrong current password is `Invalid` on
/// `current_password` (reported together with any rule the new one breaks); the system has no
/// password of its own (`Forbidden`).
pub async fn change_own_password(
    tx: &mut PgConnection,
    actor: &Actor,
    passwords: &PasswordService,
    input: ChangeOwnPassword,
) -> DomainResult<()> {
    let user_id = actor.user_id.ok_or(DomainError::Forbidden)?;
    let stored = repo::password_hash_of(tx, user_id).await?;
    let mut errors = FieldErrors::new();
    if !passwords.verify(stored, &input.current_password).await {
        errors.insert("current_password".into(), "account.error.current_wrong");
    }
    validate_new_password(&input.password, &input.password_confirm, &mut errors);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let hash = passwords.hash(&input.password).await?;
    repo::set_password(tx, user_id, &hash).await?;
    audit::record(
        tx,
        actor
            .audit("user.password_change", "user", user_id)
            .ip(input.ip.map(|i| i.to_string())),
    )
    .await?;
    Ok(())
}
