//! The password actions called directly, as the API would call them: no HTTP. They run in the
//! `Auth` system scope their pages open.

use sextant::auth::actions::{
    ChangeOwnPassword, SetPasswordWithLink, change_own_password, set_password_with_link,
};
use sextant::auth::{Actor, repo as users};
use sextant::db::{SystemScope, Tx};
use sextant::error::DomainError;
use sextant::tenants::actions::{AddMember, add_member};

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

async fn auth_tx(app: &TestApp) -> Tx {
    app.db.system_tx(SystemScope::Auth).await.unwrap()
}

/// Whether `password` is now `email`'s password.
async fn password_is(app: &TestApp, email: &str, password: &str) -> bool {
    let candidate = users::login_candidate(app.db.pool(), email).await.unwrap();
    app.state
        .passwords
        .verify(candidate.and_then(|c| c.password_hash), password)
        .await
}

fn with_link(token: &str, password: &str, confirm: &str) -> SetPasswordWithLink {
    SetPasswordWithLink {
        token: token.into(),
        password: password.into(),
        password_confirm: confirm.into(),
        ip: Some("203.0.113.7".parse().unwrap()),
    }
}

#[tokio::test]
async fn setting_a_password_with_a_link_uses_the_link_up_and_audits_it() {
    let app = TestApp::with_demo().await;
    let passwords = &app.state.passwords;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&owner).await;
    let added = add_member(
        &mut tx,
        &owner,
        AddMember {
            name: "Ma Ke".into(),
            email: "ma.ke@lumi-home.example".into(),
            role: "operator".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let path = added.link.unwrap().path;
    let token = path.trim_start_matches("/set-password/");

    let mut tx = auth_tx(&app).await;
    let short =
        set_password_with_link(&mut tx, passwords, with_link(token, "short", "short")).await;
    assert_eq!(
        invalid_field(&short, "password"),
        "password.error.too_short"
    );
    let differ = set_password_with_link(
        &mut tx,
        passwords,
        with_link(token, "ma-ke-password-1", "ma-ke-password-2"),
    )
    .await;
    assert_eq!(
        invalid_field(&differ, "password_confirm"),
        "password.error.mismatch"
    );
    let unknown = set_password_with_link(
        &mut tx,
        passwords,
        with_link("no-such-token", "ma-ke-password-1", "ma-ke-password-1"),
    )
    .await;
    assert!(matches!(unknown, Err(DomainError::NotFound)), "{unknown:?}");
    drop(tx);

    let mut tx = auth_tx(&app).await;
    let set = set_password_with_link(
        &mut tx,
        passwords,
        with_link(token, "ma-ke-password-1", "ma-ke-password-1"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(set.user_id, added.user_id);
    assert!(password_is(&app, "ma.ke@lumi-home.example", "ma-ke-password-1").await);
    let audit = app.audit_of(&added.user_id.to_string()).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, vec!["member.add", "user.password_set"]);

    // The link is spent.
    let mut tx = auth_tx(&app).await;
    let again = set_password_with_link(
        &mut tx,
        passwords,
        with_link(token, "another-password-1", "another-password-1"),
    )
    .await;
    assert!(matches!(again, Err(DomainError::NotFound)), "{again:?}");
    drop(tx);
    assert!(password_is(&app, "ma.ke@lumi-home.example", "ma-ke-password-1").await);
}

fn change(current: &str, new: &str) -> ChangeOwnPassword {
    ChangeOwnPassword {
        current_password: current.into(),
        password: new.into(),
        password_confirm: new.into(),
        ip: None,
    }
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one() {
    let app = TestApp::with_demo().await;
    let passwords = &app.state.passwords;
    let admin = app.staff_actor(ADMIN.0).await;

    let mut tx = auth_tx(&app).await;
    let wrong = change_own_password(
        &mut tx,
        &admin,
        passwords,
        change("not-my-password", "admin-new-password-1"),
    )
    .await;
    assert_eq!(
        invalid_field(&wrong, "current_password"),
        "account.error.current_wrong"
    );
    let short = change_own_password(&mut tx, &admin, passwords, change(ADMIN.1, "short")).await;
    assert_eq!(
        invalid_field(&short, "password"),
        "password.error.too_short"
    );
    // The system has no password of its own.
    let system = change_own_password(
        &mut tx,
        &Actor::system("test"),
        passwords,
        change(ADMIN.1, "admin-new-password-1"),
    )
    .await;
    assert!(matches!(system, Err(DomainError::Forbidden)), "{system:?}");
    drop(tx);

    let mut tx = auth_tx(&app).await;
    change_own_password(
        &mut tx,
        &admin,
        passwords,
        change(ADMIN.1, "admin-new-password-1"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(password_is(&app, ADMIN.0, "admin-new-password-1").await);
    assert!(!password_is(&app, ADMIN.0, ADMIN.1).await);
    let audit = app.audit_of(&admin.user_id.unwrap().to_string()).await;
    let (action, _, _) = audit.last().expect("an audit entry");
    assert_eq!(action, "user.password_change");
}
