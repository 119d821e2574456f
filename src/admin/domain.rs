//! Pure rules of the admin console: the staff roles and their form's fields, "at least one active
//! admin remains", and the tenant status machine. Nothing here touches the database.

use crate::auth::PlatformRole;
use crate::kernel::FieldErrors;
use crate::tenants::domain::{TenantStatus, display_name, email_address};

/// A new staff account's fields as typed (the email's uniqueness is checked against the database
/// after).
pub fn validate_new_staff(name: &str, email: &str, role: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Err(key) = display_name(name, "members.error.name") {
        errors.insert("name".into(), key);
    }
    if let Err(key) = email_address(email, "members.error.email") {
        errors.insert("email".into(), key);
    }
    if PlatformRole::parse(role).is_none() {
        errors.insert("role".into(), "members.error.role");
    }
    errors
}

/// Whether a change takes an active admin away: someone who is an active admin and afterwards is
/// not admin, or not active.
pub fn takes_away_an_active_admin(
    role_before: PlatformRole,
    active_before: bool,
    admin_after: bool,
    active_after: bool,
) -> bool {
    role_before == PlatformRole::Admin && active_before && !(admin_after && active_after)
}

/// The platform keeps at least one active admin: taking one away is refused when `active_admins`
/// (counted under lock, so two admins cannot remove each other at once) is all there are.
pub fn leaves_no_active_admin(active_admins: i64) -> bool {
    active_admins <= 1
}

/// The tenant state machine: approve (pending → active), suspend (pending or active →
/// suspended, with a reason), reactivate (suspended → active).
pub fn next_status(current: TenantStatus, action: &str) -> Option<TenantStatus> {
    use TenantStatus::{Active, Pending, Suspended};
    match (current, action) {
        (Pending, "approve") => Some(Active),
        (Pending | Active, "suspend") => Some(Suspended),
        (Suspended, "reactivate") => Some(Active),
        _ => None,
    }
}

/// A move into this status needs a reason (the seller sees it on their dashboard).
pub fn needs_reason(status: TenantStatus) -> bool {
    status == TenantStatus::Suspended
}

/// The audit action of a status move `next_status` allowed.
pub fn status_audit_action(action: &str) -> &'static str {
    match action {
        "approve" => "tenant.approve",
        "suspend" => "tenant.suspend",
        _ => "tenant.reactivate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_status_moves_only_along_the_allowed_paths() {
        assert_eq!(
            next_status(TenantStatus::Pending, "approve"),
            Some(TenantStatus::Active)
        );
        assert_eq!(
            next_status(TenantStatus::Active, "suspend"),
            Some(TenantStatus::Suspended)
        );
        assert_eq!(
            next_status(TenantStatus::Pending, "suspend"),
            Some(TenantStatus::Suspended)
        );
        assert_eq!(
            next_status(TenantStatus::Suspended, "reactivate"),
            Some(TenantStatus::Active)
        );
        assert_eq!(next_status(TenantStatus::Active, "approve"), None);
        assert_eq!(next_status(TenantStatus::Suspended, "approve"), None);
        assert_eq!(next_status(TenantStatus::Pending, "reactivate"), None);
        assert_eq!(next_status(TenantStatus::Active, "delete"), None);
    }

    #[test]
    fn only_a_suspension_needs_a_reason() {
        assert!(needs_reason(TenantStatus::Suspended));
        assert!(!needs_reason(TenantStatus::Active));
    }

    #[test]
    fn an_active_admin_is_taken_away_by_a_demotion_or_a_deactivation() {
        assert!(takes_away_an_active_admin(
            PlatformRole::Admin,
            true,
            false,
            true
        ));
        assert!(takes_away_an_active_admin(
            PlatformRole::Admin,
            true,
            true,
            false
        ));
        assert!(!takes_away_an_active_admin(
            PlatformRole::Admin,
            true,
            true,
            true
        ));
        assert!(!takes_away_an_active_admin(
            PlatformRole::Admin,
            false,
            false,
            false
        ));
        assert!(!takes_away_an_active_admin(
            PlatformRole::Finance,
            true,
            false,
            false
        ));
        assert!(leaves_no_active_admin(1) && leaves_no_active_admin(0));
        assert!(!leaves_no_active_admin(2));
    }

    #[test]
    fn a_new_staff_account_needs_a_name_an_email_and_a_staff_role() {
        assert!(validate_new_staff("Qian", "qian@sextant.example", "finance").is_empty());
        let errors = validate_new_staff("", "bad", "cto");
        assert_eq!(errors["name"], "members.error.name");
        assert_eq!(errors["email"], "members.error.email");
        assert_eq!(errors["role"], "members.error.role");
    }
}
