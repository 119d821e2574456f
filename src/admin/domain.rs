//! Pure rules of the admin console: the staff roles and their form's fields, "at least one active
//! admin remains", and the tenant status machine. Nothing here touches the database.

use crate::kernel::FieldErrors;
use crate::tenants::domain::{is_display_name, is_email};

/// The platform roles an admin gives staff accounts.
pub const STAFF_ROLES: &[&str] = &["admin", "account_manager", "finance"];

/// The tenant statuses, in the order the console lists them.
pub const STATUSES: &[&str] = &["pending", "active", "suspended"];

/// A new staff account's fields as typed (the email's uniqueness is checked against the database
/// after).
pub fn validate_new_staff(name: &str, email: &str, role: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if !is_display_name(name) {
        errors.insert("name".into(), "members.error.name");
    }
    if !is_email(email) {
        errors.insert("email".into(), "members.error.email");
    }
    if !STAFF_ROLES.contains(&role) {
        errors.insert("role".into(), "members.error.role");
    }
    errors
}

/// Whether a change takes an active admin away: someone who is an active admin and afterwards is
/// not admin, or not active.
pub fn takes_away_an_active_admin(
    role_before: &str,
    active_before: bool,
    admin_after: bool,
    active_after: bool,
) -> bool {
    role_before == "admin" && active_before && !(admin_after && active_after)
}

/// The platform keeps at least one active admin: taking one away is refused when `active_admins`
/// (counted under lock, so two admins cannot remove each other at once) is all there are.
pub fn leaves_no_active_admin(active_admins: i64) -> bool {
    active_admins <= 1
}

/// The tenant state machine: approve (pending → active), suspend (pending or active →
/// suspended, with a reason), reactivate (suspended → active).
pub fn next_status(current: &str, action: &str) -> Option<&'static str> {
    match (current, action) {
        ("pending", "approve") => Some("active"),
        ("pending" | "active", "suspend") => Some("suspended"),
        ("suspended", "reactivate") => Some("active"),
        _ => None,
    }
}

/// A move into this status needs a reason (the seller sees it on their dashboard).
pub fn needs_reason(status: &str) -> bool {
    status == "suspended"
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
        assert_eq!(next_status("pending", "approve"), Some("active"));
        assert_eq!(next_status("active", "suspend"), Some("suspended"));
        assert_eq!(next_status("pending", "suspend"), Some("suspended"));
        assert_eq!(next_status("suspended", "reactivate"), Some("active"));
        assert_eq!(next_status("active", "approve"), None);
        assert_eq!(next_status("suspended", "approve"), None);
        assert_eq!(next_status("pending", "reactivate"), None);
        assert_eq!(next_status("active", "delete"), None);
    }

    #[test]
    fn only_a_suspension_needs_a_reason() {
        assert!(needs_reason("suspended"));
        assert!(!needs_reason("active"));
    }

    #[test]
    fn an_active_admin_is_taken_away_by_a_demotion_or_a_deactivation() {
        assert!(takes_away_an_active_admin("admin", true, false, true));
        assert!(takes_away_an_active_admin("admin", true, true, false));
        assert!(!takes_away_an_active_admin("admin", true, true, true));
        assert!(!takes_away_an_active_admin("admin", false, false, false));
        assert!(!takes_away_an_active_admin("finance", true, false, false));
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
