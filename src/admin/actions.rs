//! The admin console's state changes, each one function `(tx, &Actor, input)`: staff accounts
//! (create, update, deactivate or reactivate, reset link) and tenants (approve, suspend or
//! reactivate; assign account managers). They are platform actions: the actor is staff outside
//! any tenant (`Actor::user`), and only an admin (or the system) may act. The caller opens the
//! system scope they run in — `Auth` for staff accounts, a staff cross-tenant scope for tenants —
//! and commits it; the audit entry is written inside.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{domain, repo};
use crate::audit;
use crate::auth::links::{self, IssuedLink, Purpose};
use crate::auth::{Actor, PlatformRole, repo as users};
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::kernel::text::{self, TextRule};
use crate::tenants::domain::{TenantStatus, display_name};

/// A new staff account, as typed (on the staff page, or sent to the API).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CreateStaff {
    pub name: String,
    pub email: String,
    /// `admin`, `account_manager` or `finance`.
    pub role: String,
}

/// The account just created and its invitation link.
#[derive(Clone, Debug)]
pub struct CreatedStaff {
    pub id: Uuid,
    pub email: String,
    pub link: IssuedLink,
}

/// Creates a staff account without a password and issues its invitation link. Wrong fields, or an
/// email that already has an account (also one taken a moment ago), are `Invalid`.
pub async fn create_staff(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreateStaff,
) -> DomainResult<CreatedStaff> {
    actor.require_platform(PlatformRole::Admin)?;
    let name = input.name.trim().to_string();
    let email = input.email.trim().to_string();
    let role = input.role;
    let mut errors = domain::validate_new_staff(&name, &email, &role);
    if !errors.contains_key("email") && users::find_by_email(&mut *tx, &email).await?.is_some() {
        errors.insert("email".into(), "admin.error.email_taken");
    }
    let platform_role = match PlatformRole::parse(&role) {
        Some(r) if errors.is_empty() => r,
        _ => return Err(DomainError::Invalid(errors)),
    };
    let id = users::create_invited(tx, &email, &name, Some(platform_role))
        .await
        .map_err(|e| {
            DomainError::unique_as_field(
                e,
                &[("users_email_key", "email", "admin.error.email_taken")],
            )
        })?;
    let link = links::issue(tx, id, None, Purpose::Invite, actor.user_id).await?;
    audit::record(
        tx,
        actor.audit("staff.create", "user", id).after(json!({
            "email": email, "display_name": name, "platform_role": platform_role.as_str(),
        })),
    )
    .await?;
    Ok(CreatedStaff { id, email, link })
}

async fn staff_member(tx: &mut PgConnection, id: Uuid) -> DomainResult<repo::StaffMember> {
    repo::staff_member(tx, id)
        .await?
        .ok_or(DomainError::NotFound)
}

/// A staff account's new name and role.
#[derive(Clone, Debug)]
pub struct UpdateStaff {
    pub id: Uuid,
    pub name: String,
    pub role: String,
}

/// Renames a staff account and changes its role. An admin cannot change their own role, and the
/// last active admin cannot be demoted (both `Refused`); when a field is also wrong, everything
/// comes back together as `Invalid`, the refusal on `role`, so the form shows it all at once.
pub async fn update_staff(
    tx: &mut PgConnection,
    actor: &Actor,
    input: UpdateStaff,
) -> DomainResult<()> {
    actor.require_platform(PlatformRole::Admin)?;
    let member = staff_member(tx, input.id).await?;
    let name = input.name.trim().to_string();
    let role = input.role;
    let mut errors = FieldErrors::new();
    if let Err(key) = display_name(&name, "members.error.name") {
        errors.insert("name".into(), key);
    }
    let mut refusal = None;
    let parsed = PlatformRole::parse(&role);
    if let Some(new_role) = parsed {
        if new_role != member.platform_role && Some(member.id) == actor.user_id {
            refusal = Some("admin.error.own_role");
        } else if domain::takes_away_an_active_admin(
            member.platform_role,
            member.active,
            new_role == PlatformRole::Admin,
            member.active,
        ) && domain::leaves_no_active_admin(repo::lock_active_admins(tx).await?)
        {
            refusal = Some("admin.error.last_admin");
        }
    } else {
        errors.insert("role".into(), "members.error.role");
    }
    let new_role = match (parsed, errors.is_empty(), refusal) {
        (Some(new_role), true, None) => new_role,
        (_, true, Some(key)) => return Err(DomainError::Refused(key)),
        _ => {
            if let Some(key) = refusal {
                errors.insert("role".into(), key);
            }
            return Err(DomainError::Invalid(errors));
        }
    };
    repo::update_staff(tx, member.id, &name, new_role).await?;
    audit::record(
        tx,
        actor
            .audit("staff.update", "user", member.id)
            .before(json!({
                "display_name": member.display_name,
                "platform_role": member.platform_role.as_str(),
            }))
            .after(json!({ "display_name": name, "platform_role": new_role.as_str() })),
    )
    .await?;
    Ok(())
}

/// Deactivates or reactivates a staff account.
#[derive(Clone, Copy, Debug)]
pub struct SetStaffActive {
    pub id: Uuid,
    pub active: bool,
}

/// Deactivates (their sessions end at once: every request re-reads `active`; their unused links
/// die here) or reactivates a staff account; nothing is written when it is already so. An admin
/// cannot deactivate themselves, nor the last active admin (`Refused`). Returns whether it changed.
pub async fn set_staff_active(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SetStaffActive,
) -> DomainResult<bool> {
    actor.require_platform(PlatformRole::Admin)?;
    let member = staff_member(tx, input.id).await?;
    let activate = input.active;
    if !activate && Some(member.id) == actor.user_id {
        return Err(DomainError::Refused("admin.error.deactivate_self"));
    }
    let is_admin = member.platform_role == PlatformRole::Admin;
    if domain::takes_away_an_active_admin(member.platform_role, member.active, is_admin, activate)
        && domain::leaves_no_active_admin(repo::lock_active_admins(tx).await?)
    {
        return Err(DomainError::Refused("admin.error.last_admin"));
    }
    if activate == member.active {
        return Ok(false);
    }
    repo::set_staff_active(tx, member.id, activate).await?;
    if !activate {
        links::revoke_for(tx, member.id, None).await?;
    }
    let action = if activate {
        "staff.activate"
    } else {
        "staff.deactivate"
    };
    audit::record(
        tx,
        actor
            .audit(action, "user", member.id)
            .before(json!({ "active": member.active }))
            .after(json!({ "active": activate })),
    )
    .await?;
    Ok(true)
}

/// The staff account that gets a new password link.
#[derive(Clone, Copy, Debug)]
pub struct IssueStaffResetLink {
    pub id: Uuid,
}

/// The link issued, and for whom.
#[derive(Clone, Debug)]
pub struct StaffLink {
    pub email: String,
    pub link: IssuedLink,
}

/// Issues a password-reset link (an invitation for someone who never set a password). A
/// deactivated account gets none (`Refused`): reactivate it first.
pub async fn issue_staff_reset_link(
    tx: &mut PgConnection,
    actor: &Actor,
    input: IssueStaffResetLink,
) -> DomainResult<StaffLink> {
    actor.require_platform(PlatformRole::Admin)?;
    let member = staff_member(tx, input.id).await?;
    if !member.active {
        return Err(DomainError::Refused("admin.error.inactive_link"));
    }
    let purpose = Purpose::for_person(member.has_password);
    let link = links::issue(tx, member.id, None, purpose, actor.user_id).await?;
    audit::record(tx, actor.audit("staff.password_link", "user", member.id)).await?;
    Ok(StaffLink {
        email: member.email,
        link,
    })
}

/// A move of a tenant's status.
#[derive(Clone, Debug)]
pub struct ChangeTenantStatus {
    pub tenant_id: Uuid,
    /// `approve`, `suspend` or `reactivate`.
    pub action: String,
    /// Required to suspend; kept with the status otherwise when given.
    pub reason: String,
}

/// Approves, suspends or reactivates a tenant along the status machine (`domain::next_status`);
/// any other move is `Refused`, a suspension without a reason `Invalid` on `reason`. Returns the
/// new status.
pub async fn change_tenant_status(
    tx: &mut PgConnection,
    actor: &Actor,
    input: ChangeTenantStatus,
) -> DomainResult<TenantStatus> {
    actor.require_platform(PlatformRole::Admin)?;
    let tenant = repo::tenant_detail(tx, input.tenant_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let next = domain::next_status(tenant.status, &input.action)
        .ok_or(DomainError::Refused("admin.error.transition"))?;
    let reason = text::check(&input.reason, TextRule::NOTE)
        .map_err(|key| DomainError::field("reason", key))?
        .to_string();
    if domain::needs_reason(next) && reason.is_empty() {
        return Err(DomainError::field("reason", "admin.error.reason_required"));
    }
    repo::set_tenant_status(tx, tenant.id, next, &reason).await?;
    audit::record(
        tx,
        actor
            .audit(
                domain::status_audit_action(&input.action),
                "tenant",
                tenant.id,
            )
            .tenant(Some(tenant.id))
            .before(json!({ "status": tenant.status.as_str(), "reason": tenant.status_reason }))
            .after(json!({
                "status": next.as_str(), "reason": (!reason.is_empty()).then_some(&reason),
            })),
    )
    .await?;
    Ok(next)
}

/// The whole set of a tenant's account managers.
#[derive(Clone, Debug)]
pub struct SetAssignments {
    pub tenant_id: Uuid,
    pub account_managers: Vec<Uuid>,
}

/// Makes the given people the tenant's account managers (others assigned before are unassigned).
/// Anyone who is not an active account manager is `Invalid` on `am`, and nothing changes. The
/// audit entry lists the emails before and after, and is written only when they differ. Returns
/// whether they did.
pub async fn set_assignments(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SetAssignments,
) -> DomainResult<bool> {
    actor.require_platform(PlatformRole::Admin)?;
    let tenant = repo::tenant_detail(tx, input.tenant_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut wanted = input.account_managers;
    wanted.sort();
    wanted.dedup();
    if repo::count_active_account_managers(tx, &wanted).await? != wanted.len() as i64 {
        return Err(DomainError::field("am", "admin.error.not_account_manager"));
    }
    let before = repo::assigned_emails(tx, tenant.id).await?;
    repo::replace_assignments(tx, tenant.id, &wanted).await?;
    let after = repo::assigned_emails(tx, tenant.id).await?;
    if before == after {
        return Ok(false);
    }
    audit::record(
        tx,
        actor
            .audit("tenant.assignments", "tenant", tenant.id)
            .tenant(Some(tenant.id))
            .before(json!({ "account_managers": before }))
            .after(json!({ "account_managers": after })),
    )
    .await?;
    Ok(true)
}
