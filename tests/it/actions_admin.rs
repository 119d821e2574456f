//! The admin console's actions called directly, as the API would call them: no HTTP. They run in
//! the system scopes their pages open: `Auth` for staff accounts, a staff cross-tenant scope for
//! tenants.

use std::time::Duration;

use sextant::admin::actions::{
    ChangeTenantStatus, CreateStaff, IssueStaffResetLink, SetAssignments, SetStaffActive,
    UpdateStaff, change_tenant_status, create_staff, issue_staff_reset_link, set_assignments,
    set_staff_active, update_staff,
};
use sextant::auth::{Actor, links};
use sextant::db::{SystemScope, Tx};
use sextant::error::DomainError;
use uuid::Uuid;

use crate::support::*;

fn invalid_field(result: &Result<impl std::fmt::Debug, DomainError>, field: &str) -> String {
    match result {
        Err(DomainError::Invalid(errors)) => errors
            .get(field)
            .unwrap_or_else(|| panic!("no message on {field}: {errors:?}"))
            .to_string(),
        other => panic!("expected Invalid on {field}, got {other:?}"),
    }
}

/// The scope staff accounts are read and changed in.
async fn auth_tx(app: &TestApp) -> Tx {
    app.db.system_tx(SystemScope::Auth).await.unwrap()
}

/// The scope a tenant page of the admin console opens for `actor`.
async fn cross_tenant_tx(app: &TestApp, actor: &Actor) -> Tx {
    app.db
        .system_tx(SystemScope::StaffCrossTenant {
            actor: actor.user_id.unwrap(),
            actor_label: actor.label.clone(),
            page: "admin_tenant_status",
        })
        .await
        .unwrap()
}

fn new_staff(name: &str, email: &str, role: &str) -> CreateStaff {
    CreateStaff {
        name: name.into(),
        email: email.into(),
        role: role.into(),
    }
}

async fn staff_row(app: &TestApp, email: &str) -> (String, String, bool) {
    sqlx::query_as("SELECT display_name, platform_role, active FROM users WHERE lower(email) = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn link_works(app: &TestApp, path: &str) -> bool {
    let token = path.trim_start_matches("/set-password/");
    let mut tx = auth_tx(app).await;
    links::find_valid(&mut tx, token).await.unwrap().is_some()
}

#[tokio::test]
async fn creating_a_staff_account_issues_an_invitation_and_audits_it() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;

    let mut tx = auth_tx(&app).await;
    let wrong = create_staff(&mut tx, &admin, new_staff("", "bad", "cto")).await;
    assert_eq!(invalid_field(&wrong, "name"), "members.error.name");
    assert_eq!(invalid_field(&wrong, "email"), "members.error.email");
    assert_eq!(invalid_field(&wrong, "role"), "members.error.role");
    let taken = create_staff(&mut tx, &admin, new_staff("Dup", OWNER_LUMI.0, "finance")).await;
    assert_eq!(invalid_field(&taken, "email"), "admin.error.email_taken");
    drop(tx);

    let am = app.staff_actor(ACCOUNT_MANAGER.0).await;
    let mut tx = auth_tx(&app).await;
    let forbidden = create_staff(
        &mut tx,
        &am,
        new_staff("Qian", "qian@sextant.example", "admin"),
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = auth_tx(&app).await;
    let created = create_staff(
        &mut tx,
        &admin,
        new_staff(" 钱多多 Qian ", "qian@sextant.example", "account_manager"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(link_works(&app, &created.link.path).await);
    assert_eq!(
        staff_row(&app, "qian@sextant.example").await,
        ("钱多多 Qian".into(), "account_manager".into(), true)
    );
    let audit = app.audit_of(&created.id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "staff.create");
    assert_eq!(after.as_ref().unwrap()["email"], "qian@sextant.example");
    assert_eq!(after.as_ref().unwrap()["platform_role"], "account_manager");
}

#[tokio::test]
async fn two_admins_creating_the_same_email_at_once_give_the_second_a_field_error() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;
    let mut first = auth_tx(&app).await;
    create_staff(
        &mut first,
        &admin,
        new_staff("Qian", "qian@sextant.example", "finance"),
    )
    .await
    .unwrap();
    let second = {
        let mut tx = auth_tx(&app).await;
        let admin = admin.clone();
        tokio::spawn(async move {
            let input = new_staff("Qian again", "QIAN@sextant.example", "finance");
            create_staff(&mut tx, &admin, input).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second create finishes once the first commits")
        .unwrap();
    assert_eq!(invalid_field(&second, "email"), "admin.error.email_taken");
}

#[tokio::test]
async fn updating_staff_refuses_an_admins_own_role_and_audits_name_and_role() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;
    let me = admin.user_id.unwrap();
    let finance = app.user_id(FINANCE.0).await;

    let mut tx = auth_tx(&app).await;
    let own_role = update_staff(
        &mut tx,
        &admin,
        UpdateStaff {
            id: me,
            name: "Admin".into(),
            role: "finance".into(),
        },
    )
    .await;
    assert!(
        matches!(own_role, Err(DomainError::Refused("admin.error.own_role"))),
        "{own_role:?}"
    );
    // With a wrong field too, the form gets everything at once, the refusal on the role.
    let both = update_staff(
        &mut tx,
        &admin,
        UpdateStaff {
            id: me,
            name: " ".into(),
            role: "finance".into(),
        },
    )
    .await;
    assert_eq!(invalid_field(&both, "name"), "members.error.name");
    assert_eq!(invalid_field(&both, "role"), "admin.error.own_role");
    // The only active admin cannot be demoted, not even by the system.
    let last = update_staff(
        &mut tx,
        &Actor::system("test"),
        UpdateStaff {
            id: me,
            name: "Admin".into(),
            role: "finance".into(),
        },
    )
    .await;
    assert!(
        matches!(last, Err(DomainError::Refused("admin.error.last_admin"))),
        "{last:?}"
    );
    // A seller's person is no staff account.
    let seller = update_staff(
        &mut tx,
        &admin,
        UpdateStaff {
            id: app.user_id(OWNER_LUMI.0).await,
            name: "Owner".into(),
            role: "finance".into(),
        },
    )
    .await;
    assert!(matches!(seller, Err(DomainError::NotFound)), "{seller:?}");
    drop(tx);

    let finance_actor = app.staff_actor(FINANCE.0).await;
    let mut tx = auth_tx(&app).await;
    let forbidden = update_staff(
        &mut tx,
        &finance_actor,
        UpdateStaff {
            id: finance,
            name: "Fin".into(),
            role: "admin".into(),
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = auth_tx(&app).await;
    update_staff(
        &mut tx,
        &admin,
        UpdateStaff {
            id: finance,
            name: " Fang Finance ".into(),
            role: "account_manager".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (name, role, _) = staff_row(&app, FINANCE.0).await;
    assert_eq!(
        (name.as_str(), role.as_str()),
        ("Fang Finance", "account_manager")
    );
    let audit = app.audit_of(&finance.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "staff.update");
    assert_eq!(before.as_ref().unwrap()["platform_role"], "finance");
    assert_eq!(after.as_ref().unwrap()["platform_role"], "account_manager");
    assert_eq!(after.as_ref().unwrap()["display_name"], "Fang Finance");
}

#[tokio::test]
async fn deactivating_staff_keeps_an_active_admin_and_voids_their_links() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;
    let me = admin.user_id.unwrap();

    let mut tx = auth_tx(&app).await;
    let created = create_staff(
        &mut tx,
        &admin,
        new_staff("Qian", "qian@sextant.example", "finance"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = auth_tx(&app).await;
    let myself = set_staff_active(
        &mut tx,
        &admin,
        SetStaffActive {
            id: me,
            active: false,
        },
    )
    .await;
    assert!(
        matches!(
            myself,
            Err(DomainError::Refused("admin.error.deactivate_self"))
        ),
        "{myself:?}"
    );
    let last = set_staff_active(
        &mut tx,
        &Actor::system("test"),
        SetStaffActive {
            id: me,
            active: false,
        },
    )
    .await;
    assert!(
        matches!(last, Err(DomainError::Refused("admin.error.last_admin"))),
        "{last:?}"
    );
    drop(tx);

    let am = app.staff_actor(ACCOUNT_MANAGER.0).await;
    let mut tx = auth_tx(&app).await;
    let forbidden = set_staff_active(
        &mut tx,
        &am,
        SetStaffActive {
            id: created.id,
            active: false,
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = auth_tx(&app).await;
    let off = SetStaffActive {
        id: created.id,
        active: false,
    };
    assert!(set_staff_active(&mut tx, &admin, off).await.unwrap());
    tx.commit().await.unwrap();
    assert!(!staff_row(&app, "qian@sextant.example").await.2);
    assert!(!link_works(&app, &created.link.path).await);
    let audit = app.audit_of(&created.id.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "staff.deactivate");
    assert_eq!(before.as_ref().unwrap()["active"], true);
    assert_eq!(after.as_ref().unwrap()["active"], false);

    let mut tx = auth_tx(&app).await;
    let on = SetStaffActive {
        id: created.id,
        active: true,
    };
    assert!(set_staff_active(&mut tx, &admin, on).await.unwrap());
    // Already active: nothing changes.
    assert!(!set_staff_active(&mut tx, &admin, on).await.unwrap());
    tx.commit().await.unwrap();
    let audit = app.audit_of(&created.id.to_string()).await;
    assert_eq!(audit.last().unwrap().0, "staff.activate");
}

#[tokio::test]
async fn a_staff_reset_link_needs_an_active_account() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;
    let am = app.user_id(ACCOUNT_MANAGER.0).await;
    let finance = app.user_id(FINANCE.0).await;

    let mut tx = auth_tx(&app).await;
    let issued = issue_staff_reset_link(&mut tx, &admin, IssueStaffResetLink { id: am })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(issued.email, ACCOUNT_MANAGER.0);
    assert!(link_works(&app, &issued.link.path).await);
    let audit = app.audit_of(&am.to_string()).await;
    assert_eq!(
        audit.last().expect("an audit entry").0,
        "staff.password_link"
    );

    let mut tx = auth_tx(&app).await;
    let off = SetStaffActive {
        id: finance,
        active: false,
    };
    set_staff_active(&mut tx, &admin, off).await.unwrap();
    let inactive =
        issue_staff_reset_link(&mut tx, &admin, IssueStaffResetLink { id: finance }).await;
    assert!(
        matches!(
            inactive,
            Err(DomainError::Refused("admin.error.inactive_link"))
        ),
        "{inactive:?}"
    );
    drop(tx);

    let am_actor = app.staff_actor(ACCOUNT_MANAGER.0).await;
    let mut tx = auth_tx(&app).await;
    let forbidden =
        issue_staff_reset_link(&mut tx, &am_actor, IssueStaffResetLink { id: am }).await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    let unknown =
        issue_staff_reset_link(&mut tx, &admin, IssueStaffResetLink { id: Uuid::now_v7() }).await;
    assert!(matches!(unknown, Err(DomainError::NotFound)), "{unknown:?}");
}

fn status_move(tenant_id: Uuid, action: &str, reason: &str) -> ChangeTenantStatus {
    ChangeTenantStatus {
        tenant_id,
        action: action.into(),
        reason: reason.into(),
    }
}

#[tokio::test]
async fn a_tenant_status_moves_along_its_machine_and_a_suspension_needs_a_reason() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;
    let lumi = app.tenant_id("lumi").await;

    let mut tx = cross_tenant_tx(&app, &admin).await;
    let refused = change_tenant_status(&mut tx, &admin, status_move(lumi, "approve", "")).await;
    assert!(
        matches!(refused, Err(DomainError::Refused("admin.error.transition"))),
        "{refused:?}"
    );
    let no_reason = change_tenant_status(&mut tx, &admin, status_move(lumi, "suspend", "  ")).await;
    assert_eq!(
        invalid_field(&no_reason, "reason"),
        "admin.error.reason_required"
    );
    let unknown =
        change_tenant_status(&mut tx, &admin, status_move(Uuid::now_v7(), "suspend", "x")).await;
    assert!(matches!(unknown, Err(DomainError::NotFound)), "{unknown:?}");
    drop(tx);

    let am = app.staff_actor(ACCOUNT_MANAGER.0).await;
    let mut tx = cross_tenant_tx(&app, &am).await;
    let forbidden = change_tenant_status(&mut tx, &am, status_move(lumi, "suspend", "x")).await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = cross_tenant_tx(&app, &admin).await;
    let to = change_tenant_status(&mut tx, &admin, status_move(lumi, "suspend", " 逾期未付 "))
        .await
        .unwrap();
    assert_eq!(to, "suspended");
    tx.commit().await.unwrap();
    let tenant = sextant::tenants::repo::tenant_by_slug(app.db.pool(), "lumi")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.status, "suspended");
    assert_eq!(tenant.status_reason.as_deref(), Some("逾期未付"));
    let audit = app.audit_of(&lumi.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "tenant.suspend");
    assert_eq!(before.as_ref().unwrap()["status"], "active");
    assert_eq!(after.as_ref().unwrap()["status"], "suspended");
    assert_eq!(after.as_ref().unwrap()["reason"], "逾期未付");
}

async fn assigned(app: &TestApp, slug: &str) -> Vec<String> {
    let tenant = app.tenant_id(slug).await;
    let mut tx = auth_tx(app).await;
    sextant::admin::repo::assigned_emails(&mut tx, tenant)
        .await
        .unwrap()
}

#[tokio::test]
async fn assigning_account_managers_replaces_the_set_and_audits_the_emails() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor(ADMIN.0).await;
    let nordpeak = app.tenant_id("nordpeak").await;
    assert_eq!(assigned(&app, "nordpeak").await, vec![ACCOUNT_MANAGER.0]);

    // Someone who is not an active account manager cannot be assigned; nothing changes.
    let mut tx = cross_tenant_tx(&app, &admin).await;
    let owner = app.user_id(OWNER_LUMI.0).await;
    let wrong = set_assignments(
        &mut tx,
        &admin,
        SetAssignments {
            tenant_id: nordpeak,
            account_managers: vec![owner],
        },
    )
    .await;
    assert_eq!(
        invalid_field(&wrong, "am"),
        "admin.error.not_account_manager"
    );
    drop(tx);

    let finance = app.staff_actor(FINANCE.0).await;
    let mut tx = cross_tenant_tx(&app, &finance).await;
    let forbidden = set_assignments(
        &mut tx,
        &finance,
        SetAssignments {
            tenant_id: nordpeak,
            account_managers: vec![],
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = cross_tenant_tx(&app, &admin).await;
    let changed = set_assignments(
        &mut tx,
        &admin,
        SetAssignments {
            tenant_id: nordpeak,
            account_managers: vec![],
        },
    )
    .await
    .unwrap();
    assert!(changed);
    tx.commit().await.unwrap();
    assert!(assigned(&app, "nordpeak").await.is_empty());
    let audit = app.audit_of(&nordpeak.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "tenant.assignments");
    assert_eq!(
        before.as_ref().unwrap()["account_managers"][0],
        ACCOUNT_MANAGER.0
    );
    assert_eq!(
        after.as_ref().unwrap()["account_managers"],
        serde_json::json!([])
    );

    // The same set again (twice over) changes nothing and writes no entry.
    let am = app.user_id(ACCOUNT_MANAGER.0).await;
    let mut tx = cross_tenant_tx(&app, &admin).await;
    let lumi = app.tenant_id("lumi").await;
    let before_entries = app.audit_of(&lumi.to_string()).await.len();
    let same = SetAssignments {
        tenant_id: lumi,
        account_managers: vec![am, am],
    };
    assert!(!set_assignments(&mut tx, &admin, same).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(assigned(&app, "lumi").await, vec![ACCOUNT_MANAGER.0]);
    assert_eq!(app.audit_of(&lumi.to_string()).await.len(), before_entries);
}
