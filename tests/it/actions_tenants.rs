//! The tenant actions called directly, as the API would call them: no HTTP (but for one program
//! that gets problem+json from the members page).

use std::time::Duration;

use sextant::auth::links;
use sextant::db::SystemScope;
use sextant::error::DomainError;
use sextant::tenants::actions::{
    AddMember, ChangeMemberRole, IssueMemberResetLink, RemoveMember, SignUp, add_member,
    change_member_role, issue_member_reset_link, remove_member, save_profile, sign_up,
};
use sextant::tenants::domain::{ProfileInput, ShopInput};
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

fn new_member(name: &str, email: &str, role: &str) -> AddMember {
    AddMember {
        name: name.into(),
        email: email.into(),
        role: role.into(),
    }
}

/// Whether the one-time link at `path` still works.
async fn link_works(app: &TestApp, path: &str) -> bool {
    let token = path.trim_start_matches("/set-password/");
    let mut tx = app.db.system_tx(SystemScope::Auth).await.unwrap();
    links::find_valid(&mut tx, token).await.unwrap().is_some()
}

async fn role_in(app: &TestApp, slug: &str, email: &str) -> Option<String> {
    let tenant = app.tenant_id(slug).await;
    let user = app.user_id(email).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sextant::tenants::repo::membership_role(&mut tx, tenant, user)
        .await
        .unwrap()
        .map(|role| role.as_str().to_string())
}

#[tokio::test]
async fn adding_a_member_creates_the_person_with_an_invitation_and_audits_it() {
    let app = TestApp::with_demo().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;

    // Wrong fields are named, and nothing is written.
    let mut tx = app.tx_for(&owner).await;
    let wrong = add_member(&mut tx, &owner, new_member(" ", "nope", "admin")).await;
    assert_eq!(invalid_field(&wrong, "name"), "members.error.name");
    assert_eq!(invalid_field(&wrong, "email"), "members.error.email");
    assert_eq!(invalid_field(&wrong, "role"), "members.error.role");
    let twice = add_member(&mut tx, &owner, new_member("Op", OPERATOR_LUMI.0, "viewer")).await;
    assert_eq!(
        invalid_field(&twice, "email"),
        "members.error.already_member"
    );
    let staff = add_member(&mut tx, &owner, new_member("Ad", ADMIN.0, "viewer")).await;
    assert_eq!(invalid_field(&staff, "email"), "members.error.staff");
    drop(tx);

    // Only the owner adds members.
    let operator = app.actor(OPERATOR_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    let refused = add_member(
        &mut tx,
        &operator,
        new_member("Ma Ke", "ma.ke@lumi-home.example", "operator"),
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&owner).await;
    let added = add_member(
        &mut tx,
        &owner,
        new_member(" Ma Ke ", " ma.ke@lumi-home.example ", "operator"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(added.email, "ma.ke@lumi-home.example");
    let link = added.link.expect("a new person gets an invitation link");
    assert!(link_works(&app, &link.path).await);
    assert_eq!(
        role_in(&app, "lumi", "ma.ke@lumi-home.example").await,
        Some("operator".into())
    );
    let audit = app.audit_of(&added.user_id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "member.add");
    assert_eq!(after.as_ref().unwrap()["email"], "ma.ke@lumi-home.example");
    assert_eq!(after.as_ref().unwrap()["role"], "operator");

    // Someone with an account elsewhere joins with their password: no link.
    let nordpeak_owner = app.actor(OWNER_NORDPEAK.0, "nordpeak").await;
    let mut tx = app.tx_for(&nordpeak_owner).await;
    let joined = add_member(
        &mut tx,
        &nordpeak_owner,
        new_member("Lumi's owner", OWNER_LUMI.0, "viewer"),
    )
    .await
    .unwrap();
    assert!(joined.link.is_none());
}

#[tokio::test]
async fn changing_a_members_role_keeps_an_owner_and_writes_the_change() {
    let app = TestApp::with_demo().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let operator_id = app.user_id(OPERATOR_LUMI.0).await;
    let owner_id = app.user_id(OWNER_LUMI.0).await;

    let mut tx = app.tx_for(&owner).await;
    let unknown_role = change_member_role(
        &mut tx,
        &owner,
        ChangeMemberRole {
            user_id: operator_id,
            role: "admin".into(),
        },
    )
    .await;
    assert_eq!(
        invalid_field(&unknown_role, &format!("role-{operator_id}")),
        "members.error.role"
    );
    // The only owner cannot step down.
    let last_owner = change_member_role(
        &mut tx,
        &owner,
        ChangeMemberRole {
            user_id: owner_id,
            role: "operator".into(),
        },
    )
    .await;
    assert!(
        matches!(
            last_owner,
            Err(DomainError::Refused("members.error.last_owner"))
        ),
        "{last_owner:?}"
    );
    drop(tx);

    let viewer = app.actor(VIEWER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let forbidden = change_member_role(
        &mut tx,
        &viewer,
        ChangeMemberRole {
            user_id: operator_id,
            role: "viewer".into(),
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&owner).await;
    let changed = change_member_role(
        &mut tx,
        &owner,
        ChangeMemberRole {
            user_id: operator_id,
            role: "viewer".into(),
        },
    )
    .await
    .unwrap();
    assert!(changed);
    tx.commit().await.unwrap();
    assert_eq!(
        role_in(&app, "lumi", OPERATOR_LUMI.0).await,
        Some("viewer".into())
    );
    let audit = app.audit_of(&operator_id.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "member.role_change");
    assert_eq!(before.as_ref().unwrap()["role"], "operator");
    assert_eq!(after.as_ref().unwrap()["role"], "viewer");

    // The same role again changes nothing and writes no entry.
    let mut tx = app.tx_for(&owner).await;
    let same = ChangeMemberRole {
        user_id: operator_id,
        role: "viewer".into(),
    };
    assert!(!change_member_role(&mut tx, &owner, same).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        app.audit_of(&operator_id.to_string()).await.len(),
        audit.len()
    );

    // Another tenant's owner finds no such member.
    let other = app.actor(OWNER_NORDPEAK.0, "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = change_member_role(
        &mut tx,
        &other,
        ChangeMemberRole {
            user_id: operator_id,
            role: "owner".into(),
        },
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn removing_a_member_voids_their_links_here_and_never_removes_the_last_owner() {
    let app = TestApp::with_demo().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&owner).await;
    let added = add_member(
        &mut tx,
        &owner,
        new_member("Gone", "gone@lumi-home.example", "viewer"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let link = added.link.unwrap();

    let operator = app.actor(OPERATOR_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    let forbidden = remove_member(
        &mut tx,
        &operator,
        RemoveMember {
            user_id: added.user_id,
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let other = app.actor(OWNER_NORDPEAK.0, "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = remove_member(
        &mut tx,
        &other,
        RemoveMember {
            user_id: added.user_id,
        },
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
    drop(tx);

    let mut tx = app.tx_for(&owner).await;
    let last_owner = remove_member(
        &mut tx,
        &owner,
        RemoveMember {
            user_id: owner.user_id.unwrap(),
        },
    )
    .await;
    assert!(
        matches!(
            last_owner,
            Err(DomainError::Refused("members.error.last_owner"))
        ),
        "{last_owner:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&owner).await;
    remove_member(
        &mut tx,
        &owner,
        RemoveMember {
            user_id: added.user_id,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(role_in(&app, "lumi", "gone@lumi-home.example").await, None);
    assert!(!link_works(&app, &link.path).await);
    let audit = app.audit_of(&added.user_id.to_string()).await;
    let (action, before, _) = audit.last().expect("an audit entry");
    assert_eq!(action, "member.remove");
    assert_eq!(before.as_ref().unwrap()["role"], "viewer");
}

#[tokio::test]
async fn a_reset_link_is_issued_only_for_people_of_this_seller_alone() {
    let app = TestApp::with_demo().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let operator_id = app.user_id(OPERATOR_LUMI.0).await;

    let mut tx = app.tx_for(&owner).await;
    let issued = issue_member_reset_link(
        &mut tx,
        &owner,
        &app.db,
        IssueMemberResetLink {
            user_id: operator_id,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(issued.email, OPERATOR_LUMI.0);
    assert!(link_works(&app, &issued.link.path).await);
    let audit = app.audit_of(&operator_id.to_string()).await;
    assert_eq!(
        audit.last().expect("an audit entry").0,
        "member.password_link"
    );

    // Nordpeak's owner also belongs to Lumi now: Lumi's owner may not reset their password.
    let mut tx = app.tx_for(&owner).await;
    let joined = add_member(
        &mut tx,
        &owner,
        new_member("Nordpeak's owner", OWNER_NORDPEAK.0, "viewer"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = app.tx_for(&owner).await;
    let elsewhere = issue_member_reset_link(
        &mut tx,
        &owner,
        &app.db,
        IssueMemberResetLink {
            user_id: joined.user_id,
        },
    )
    .await;
    assert!(
        matches!(
            elsewhere,
            Err(DomainError::Refused("members.error.reset_elsewhere"))
        ),
        "{elsewhere:?}"
    );
    drop(tx);

    let viewer = app.actor(VIEWER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let forbidden = issue_member_reset_link(
        &mut tx,
        &viewer,
        &app.db,
        IssueMemberResetLink {
            user_id: operator_id,
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let other = app.actor(OWNER_NORDPEAK.0, "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = issue_member_reset_link(
        &mut tx,
        &other,
        &app.db,
        IssueMemberResetLink {
            user_id: operator_id,
        },
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

/// A complete profile whose only shop row is a new shop named `shop`.
fn profile_with_new_shop(shop: &str) -> ProfileInput {
    ProfileInput {
        legal_name: "深圳市露米家居科技有限公司".into(),
        licence: "91440300MA5G8K2X7Q".into(),
        categories: vec!["home_kitchen".into()],
        markets: vec!["US".into(), "GB".into()],
        fee_model: "fixed_plus_commission".into(),
        service_fee_percent: "12".into(),
        settlement_currency: "CNY".into(),
        time_zone: "Asia/Shanghai".into(),
        shops: vec![ShopInput {
            name: shop.into(),
            platform: "shopify".into(),
            url: "https://race.lumi.invalid/".into(),
            time_zone: "Europe/Berlin".into(),
            date_order: "DMY".into(),
            currency: "EUR".into(),
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn saving_the_profile_checks_every_field_and_audits_it_before_and_after() {
    let app = TestApp::with_demo().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let lumi = owner.tenant_id().unwrap();

    let mut tx = app.tx_for(&owner).await;
    let mut wrong = profile_with_new_shop("Lumi DE · Shopify");
    wrong.legal_name = " ".into();
    wrong.shops[0].url = "not a url".into();
    let wrong = save_profile(&mut tx, &owner, wrong).await;
    assert_eq!(
        invalid_field(&wrong, "legal_name"),
        "profile.error.legal_name"
    );
    assert_eq!(
        invalid_field(&wrong, "shop-0-url"),
        "profile.error.shop_url"
    );
    drop(tx);

    let operator = app.actor(OPERATOR_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    let forbidden = save_profile(&mut tx, &operator, profile_with_new_shop("X Shop")).await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&owner).await;
    save_profile(&mut tx, &owner, profile_with_new_shop("Lumi DE · Shopify"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let audit = app.audit_of(&lumi.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "tenant.profile_update");
    let shop_names = |v: &serde_json::Value| -> Vec<String> {
        v["shops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!shop_names(before.as_ref().unwrap()).contains(&"Lumi DE · Shopify".to_string()));
    assert!(shop_names(after.as_ref().unwrap()).contains(&"Lumi DE · Shopify".to_string()));
    assert_eq!(after.as_ref().unwrap()["service_fee_rate"], "0.12");

    // Another tenant's shop id is unknown here.
    let lumi_shop: Uuid = {
        let mut tx = app.tx_for(&owner).await;
        sextant::tenants::repo::shops(&mut tx, lumi).await.unwrap()[0].id
    };
    let other = app.actor(OWNER_NORDPEAK.0, "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let mut theirs = profile_with_new_shop("Taken over");
    theirs.shops[0].id = lumi_shop.to_string();
    let missing = save_profile(&mut tx, &other, theirs).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn two_saves_adding_the_same_shop_name_at_once_give_the_second_a_field_error() {
    let app = TestApp::with_demo().await;
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;

    let mut first = app.tx_for(&owner).await;
    save_profile(&mut first, &owner, profile_with_new_shop("Race Shop"))
        .await
        .unwrap();
    // The second save cannot see the first's shop yet; it waits on the first's locks.
    let second = {
        let mut tx = app.tx_for(&owner).await;
        let owner = owner.clone();
        tokio::spawn(async move {
            save_profile(&mut tx, &owner, profile_with_new_shop("Race Shop")).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second save finishes once the first commits")
        .unwrap();
    assert_eq!(
        invalid_field(&second, "shop-0-name"),
        "profile.error.shop_duplicate"
    );
}

fn signup(tenant_id: Uuid, slug: &str, email: &str) -> SignUp {
    SignUp {
        tenant_id,
        company: "艾可家居 Acme Home".into(),
        slug: slug.into(),
        name: "李娜 Li Na".into(),
        email: email.into(),
        password: "acme-owner-2026".into(),
        password_confirm: "acme-owner-2026".into(),
        ip: None,
    }
}

#[tokio::test]
async fn signing_up_creates_a_pending_tenant_with_its_owner_and_taken_names_are_field_errors() {
    let app = TestApp::with_demo().await;
    let passwords = &app.state.passwords;

    // Taken slug and email, each named.
    let id = Uuid::now_v7();
    let mut tx = app.db.tenant_tx(id, None).await.unwrap();
    let taken = sign_up(&mut tx, passwords, signup(id, "lumi", OWNER_LUMI.0)).await;
    assert_eq!(invalid_field(&taken, "slug"), "signup.error.slug_taken");
    assert_eq!(invalid_field(&taken, "email"), "signup.error.email_taken");
    let mut short = signup(id, "acme", "li.na@acme.example");
    short.password_confirm = "something-else".into();
    let short = sign_up(&mut tx, passwords, short).await;
    assert_eq!(
        invalid_field(&short, "password_confirm"),
        "password.error.mismatch"
    );
    drop(tx);

    let mut tx = app.db.tenant_tx(id, None).await.unwrap();
    let done = sign_up(
        &mut tx,
        passwords,
        signup(id, " Acme ", "li.na@acme.example"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(done.slug, "acme");
    let tenant = sextant::tenants::repo::tenant_by_slug(app.db.pool(), "acme")
        .await
        .unwrap()
        .expect("the new tenant");
    assert_eq!((tenant.id, tenant.status.as_str()), (id, "pending"));
    assert_eq!(
        role_in(&app, "acme", "li.na@acme.example").await,
        Some("owner".into())
    );
    let audit = app.audit_of(&id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "tenant.signup");
    assert_eq!(after.as_ref().unwrap()["owner"], "li.na@acme.example");
    assert_eq!(after.as_ref().unwrap()["status"], "pending");
}

#[tokio::test]
async fn two_sign_ups_racing_for_one_slug_give_the_second_a_field_error() {
    let app = TestApp::with_demo().await;
    let first_id = Uuid::now_v7();
    let mut first = app.db.tenant_tx(first_id, None).await.unwrap();
    sign_up(
        &mut first,
        &app.state.passwords,
        signup(first_id, "racer", "one@racer.example"),
    )
    .await
    .unwrap();
    let second = {
        let second_id = Uuid::now_v7();
        let mut tx = app.db.tenant_tx(second_id, None).await.unwrap();
        let state = app.state.clone();
        tokio::spawn(async move {
            let input = signup(second_id, "racer", "two@racer.example");
            sign_up(&mut tx, &state.passwords, input).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second sign-up finishes once the first commits")
        .unwrap();
    assert_eq!(invalid_field(&second, "slug"), "signup.error.slug_taken");
}

#[tokio::test]
async fn a_program_adding_a_member_with_bad_input_gets_problem_json_naming_the_field() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = owner
        .post(app.url("/t/lumi/members"))
        .header("accept", "application/json")
        .form(&[
            ("name", "Ma Ke"),
            ("email", "not-an-email"),
            ("role", "operator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "email");
    assert_eq!(body["errors"][0]["code"], "members.error.email");

    // The last owner's removal is a refusal (409) for a program.
    let me = app.user_id(OWNER_LUMI.0).await;
    let res = owner
        .post(app.url(&format!("/t/lumi/members/{me}/remove")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CONFLICT);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "members.error.last_owner");
}
