//! Roles, navigation, 403 versus 404, and tenant isolation on every id route.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::support::*;

async fn status(client: &reqwest::Client, app: &TestApp, path: &str) -> StatusCode {
    client.get(app.url(path)).send().await.unwrap().status()
}

async fn body(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.text().await.unwrap()
}

/// A third tenant no demo person belongs to and no account manager is assigned to.
async fn add_unassigned_tenant(app: &TestApp) -> Uuid {
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::Cli)
        .await
        .unwrap();
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO tenants (id, slug, display_name, status) VALUES ($1, 'solo', 'Solo Shop', 'active')")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn a_shop_of(app: &TestApp, slug: &str) -> Uuid {
    let tenant = sextant::tenants::repo::tenant_by_slug(app.db.pool(), slug)
        .await
        .unwrap()
        .unwrap();
    let mut tx = app.db.tenant_tx(tenant.id, None).await.unwrap();
    let shops = sextant::tenants::repo::shops(&mut tx, tenant.id)
        .await
        .unwrap();
    shops[0].id
}

#[tokio::test]
async fn each_seller_role_sees_its_own_navigation() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = body(&owner, &app, "/t/lumi/").await;
    assert!(page.contains(r#"href="/t/lumi/members""#));
    assert!(page.contains(r#"href="/t/lumi/audit""#));
    assert!(page.contains(r#"href="/t/lumi/shops""#));
    assert!(!page.contains(r#"href="/admin""#));

    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let page = body(&viewer, &app, "/t/lumi/").await;
    assert!(page.contains(r#"href="/t/lumi/shops""#));
    assert!(!page.contains(r#"href="/t/lumi/members""#));
    assert!(page.contains("只读"), "the viewer's role is shown");
}

#[tokio::test]
async fn a_role_too_low_gets_403_and_another_tenant_gets_404() {
    let app = TestApp::with_demo().await;
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    assert_eq!(
        status(&viewer, &app, "/t/lumi/members").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(&viewer, &app, "/t/lumi/audit").await,
        StatusCode::FORBIDDEN
    );
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    assert_eq!(
        status(&operator, &app, "/t/lumi/members").await,
        StatusCode::FORBIDDEN
    );
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    assert_eq!(
        status(&owner, &app, "/t/lumi/members").await,
        StatusCode::OK
    );

    // Another tenant, a tenant that does not exist: 404, never 403.
    for path in [
        "/t/nordpeak/",
        "/t/nordpeak/shops",
        "/t/nordpeak/members",
        "/t/nope/",
    ] {
        assert_eq!(
            status(&owner, &app, path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            status(&viewer, &app, path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn another_tenants_object_is_404_under_your_own_slug() {
    let app = TestApp::with_demo().await;
    let lumi_shop = a_shop_of(&app, "lumi").await;
    let nordpeak_shop = a_shop_of(&app, "nordpeak").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;

    let page = body(&owner, &app, &format!("/t/lumi/shops/{lumi_shop}")).await;
    assert!(page.contains("Lumi Home"));
    assert_eq!(
        status(&owner, &app, &format!("/t/lumi/shops/{nordpeak_shop}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&owner, &app, &format!("/t/nordpeak/shops/{nordpeak_shop}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&owner, &app, "/t/lumi/shops/not-a-uuid").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_account_manager_works_only_in_assigned_tenants() {
    let app = TestApp::with_demo().await;
    add_unassigned_tenant(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;

    let queue = body(&am, &app, "/am").await;
    assert!(queue.contains(r#"href="/t/lumi/""#));
    assert!(queue.contains(r#"href="/t/nordpeak/""#));
    assert!(!queue.contains("/t/solo/"));

    let page = body(&am, &app, "/t/lumi/").await;
    assert!(page.contains("客户经理"));
    // The tenant switcher lists both assigned tenants.
    assert!(page.contains(r#"href="/t/nordpeak/""#));
    assert!(!page.contains(r#"href="/t/lumi/members""#));
    assert_eq!(
        status(&am, &app, "/t/lumi/members").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(&am, &app, "/t/solo/").await, StatusCode::NOT_FOUND);
    assert_eq!(
        status(&am, &app, "/t/solo/shops").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status(&am, &app, "/admin").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn staff_consoles_open_for_their_role_only_and_cross_tenant_pages_are_audited() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let page = body(&admin, &app, "/admin").await;
    assert!(page.contains("露米家居 Lumi Home") && page.contains("北峰户外 Nordpeak Outdoor"));
    assert!(page.contains(r#"href="/admin""#));
    assert_eq!(
        status(&admin, &app, "/finance").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(&admin, &app, "/am").await, StatusCode::FORBIDDEN);
    // Staff are not tenant members: a tenant page is 404 for an admin.
    assert_eq!(
        status(&admin, &app, "/t/lumi/").await,
        StatusCode::NOT_FOUND
    );

    let finance = app.login(FINANCE.0, FINANCE.1).await;
    let page = body(&finance, &app, "/finance").await;
    assert!(page.contains(r#"href="/finance""#) && page.contains("USD"));
    assert_eq!(
        status(&finance, &app, "/admin").await,
        StatusCode::FORBIDDEN
    );

    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    assert_eq!(status(&owner, &app, "/admin").await, StatusCode::FORBIDDEN);
    assert_eq!(
        status(&owner, &app, "/finance").await,
        StatusCode::FORBIDDEN
    );

    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::Auth)
        .await
        .unwrap();
    let opened: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT actor_label, entity_id, scope FROM audit_log WHERE action = 'scope.open' ORDER BY at",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        opened,
        vec![
            (
                ADMIN.0.to_string(),
                Some("admin_console".into()),
                Some("staff_cross_tenant".into())
            ),
            (
                FINANCE.0.to_string(),
                Some("finance_home".into()),
                Some("staff_cross_tenant".into())
            ),
        ]
    );
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_and_unknown_pages_are_a_friendly_404() {
    let app = TestApp::with_demo().await;
    let anon = app.client();
    for path in ["/", "/admin", "/am", "/finance", "/t/lumi/"] {
        let res = anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login"), "{path}");
    }
    let res = anon.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let page = res.text().await.unwrap();
    assert!(page.contains("页面不存在") && page.contains("<!doctype html>"));
}

#[tokio::test]
async fn a_member_of_several_tenants_gets_a_switcher() {
    let app = TestApp::with_demo().await;
    let nordpeak = sextant::tenants::repo::tenant_by_slug(app.db.pool(), "nordpeak")
        .await
        .unwrap()
        .unwrap();
    let operator_id: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(OPERATOR_LUMI.0)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let mut tx = app.db.tenant_tx(nordpeak.id, None).await.unwrap();
    sqlx::query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'viewer')")
        .bind(nordpeak.id)
        .bind(operator_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let page = body(&operator, &app, "/t/lumi/").await;
    assert!(page.contains(r#"<a href="/t/nordpeak/">"#), "{page}");
    // In Nordpeak the same person is only a viewer.
    let page = body(&operator, &app, "/t/nordpeak/").await;
    assert!(page.contains("只读"));
}
