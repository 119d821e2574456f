//! Members, one-time links, roles and the last owner; changing one's own password.

use reqwest::StatusCode;

use crate::support::*;

async fn add_member(
    app: &TestApp,
    owner: &reqwest::Client,
    slug: &str,
    name: &str,
    email: &str,
    role: &str,
) -> String {
    let res = app
        .post_form(
            owner,
            &format!("/t/{slug}/members"),
            &[("name", name), ("email", email), ("role", role)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "adding {email}");
    shown_link_path(&res.text().await.unwrap())
}

async fn set_password(app: &TestApp, link: &str, password: &str) -> reqwest::Response {
    app.post_form(
        &app.client(),
        link,
        &[("password", password), ("password_confirm", password)],
    )
    .await
}

#[tokio::test]
async fn an_added_operator_sets_a_password_through_the_link_and_logs_in() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let link = add_member(
        &app,
        &owner,
        "lumi",
        "马可 Ma Ke",
        "ma.ke@lumi-home.example",
        "operator",
    )
    .await;
    let members = app.get_ok(&owner, "/t/lumi/members").await;
    assert!(members.contains("ma.ke@lumi-home.example") && members.contains("未设置密码"));

    // Before the password is set, the account cannot log in.
    let res = app
        .post_login(
            &app.client(),
            "ma.ke@lumi-home.example",
            "anything-at-all",
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let page = app.get_ok(&app.client(), &link).await;
    assert!(page.contains("ma.ke@lumi-home.example"));
    let res = set_password(&app, &link, "ma-ke-password-1").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");

    let operator = app
        .login("ma.ke@lumi-home.example", "ma-ke-password-1")
        .await;
    let home = app.get_ok(&operator, "/t/lumi/").await;
    assert!(home.contains("运营"));
    assert_eq!(
        app.status_of(&operator, "/t/lumi/members").await,
        StatusCode::FORBIDDEN
    );

    // The same link a second time is refused.
    let res = app.client().get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("链接已失效"));
    let res = set_password(&app, &link, "takeover-password").await;
    assert_eq!(res.status(), StatusCode::GONE);
    app.login("ma.ke@lumi-home.example", "ma-ke-password-1")
        .await;

    let id = app.user_id("ma.ke@lumi-home.example").await.to_string();
    let actions: Vec<String> = app
        .audit_of(&id)
        .await
        .into_iter()
        .map(|a| a.0)
        .filter(|a| !a.starts_with("auth."))
        .collect();
    assert_eq!(actions, vec!["member.add", "user.password_set"]);
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let link = add_member(
        &app,
        &owner,
        "lumi",
        "Late Larry",
        "larry@lumi-home.example",
        "viewer",
    )
    .await;
    // As the tables' owner: the app role sees no link outside a scope (row-level security).
    sqlx::query("UPDATE one_time_links SET expires_at = now() - interval '1 minute'")
        .execute(&mut app.owner_conn().await)
        .await
        .unwrap();
    assert_eq!(
        app.client()
            .get(app.url(&link))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::GONE
    );
    assert_eq!(
        set_password(&app, &link, "larry-password-1").await.status(),
        StatusCode::GONE
    );
    let res = app
        .post_login(
            &app.client(),
            "larry@lumi-home.example",
            "larry-password-1",
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A link that never existed is refused the same way.
    let fake = format!("/set-password/{}", "ab".repeat(32));
    assert_eq!(
        app.client()
            .get(app.url(&fake))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::GONE
    );
}

#[tokio::test]
async fn a_link_for_one_tenant_cannot_add_someone_to_another() {
    let app = TestApp::with_demo().await;
    let lumi_owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let link = add_member(
        &app,
        &lumi_owner,
        "lumi",
        "Xu",
        "xu@lumi-home.example",
        "operator",
    )
    .await;
    set_password(&app, &link, "xu-password-123").await;
    let xu = app.login("xu@lumi-home.example", "xu-password-123").await;
    assert_eq!(app.status_of(&xu, "/t/lumi/").await, StatusCode::OK);
    assert_eq!(
        app.status_of(&xu, "/t/nordpeak/").await,
        StatusCode::NOT_FOUND
    );

    // Nordpeak's owner cannot issue links for (or change) Lumi's member.
    let xu_id = app.user_id("xu@lumi-home.example").await;
    let nordpeak_owner = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for action in ["reset-link", "remove"] {
        let res = app
            .post_form(
                &nordpeak_owner,
                &format!("/t/nordpeak/members/{xu_id}/{action}"),
                &[],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let res = app
        .post_form(
            &nordpeak_owner,
            &format!("/t/nordpeak/members/{xu_id}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // An invitation stops working once the person is no longer a member of its tenant.
    let link = add_member(
        &app,
        &lumi_owner,
        "lumi",
        "Gone",
        "gone@lumi-home.example",
        "viewer",
    )
    .await;
    let gone = app.user_id("gone@lumi-home.example").await;
    let res = app
        .post_form(&lumi_owner, &format!("/t/lumi/members/{gone}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        set_password(&app, &link, "gone-password-1").await.status(),
        StatusCode::GONE
    );
}

#[tokio::test]
async fn the_last_owner_cannot_be_removed_or_demoted() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let me = app.user_id(OWNER_LUMI.0).await;
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/members/{me}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("不能移除或降级最后一位所有者")
    );
    let res = app
        .post_form(&owner, &format!("/t/lumi/members/{me}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let role: String = sqlx::query_scalar("SELECT role FROM memberships WHERE user_id = $1")
        .bind(me)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(role, "owner");

    // With a second owner, the first may step down; the change is audited before/after.
    let operator = app.user_id(OPERATOR_LUMI.0).await;
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/members/{operator}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/members/{me}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let audit = app.audit_of(&operator.to_string()).await;
    let (action, before, after) = audit.last().unwrap();
    assert_eq!(action, "member.role_change");
    assert_eq!(before.as_ref().unwrap()["role"], "operator");
    assert_eq!(after.as_ref().unwrap()["role"], "owner");
    // The former owner is now a viewer: the members page is closed to them.
    assert_eq!(
        app.status_of(&owner, "/t/lumi/members").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn adding_a_member_with_bad_input_shows_messages_and_adds_nobody() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let count = || async {
        let id = app.tenant_id("lumi").await;
        let mut tx = app.db.tenant_tx(id, None).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM memberships")
            .fetch_one(&mut *tx)
            .await
            .unwrap()
    };
    let before = count().await;
    let res = app
        .post_form(
            &owner,
            "/t/lumi/members",
            &[("name", ""), ("email", "nope"), ("role", "king")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("请输入姓名")
            && page.contains("请输入有效的邮箱地址。")
            && page.contains("请选择角色。")
    );
    for (email, message) in [
        (ADMIN.0, "服务商员工的邮箱"),
        (VIEWER_LUMI.0, "此人已经是成员了。"),
    ] {
        let page = app
            .post_form(
                &owner,
                "/t/lumi/members",
                &[("name", "X"), ("email", email), ("role", "viewer")],
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(message), "{email}");
    }
    assert_eq!(count().await, before);

    // Someone who already has an account elsewhere is added without a link.
    let res = app
        .post_form(
            &owner,
            "/t/lumi/members",
            &[
                ("name", "Zhao"),
                ("email", OWNER_NORDPEAK.0),
                ("role", "viewer"),
            ],
        )
        .await;
    let page = res.text().await.unwrap();
    assert!(!page.contains("one-time-link-url") && page.contains("对方已有账号"));
    assert_eq!(count().await, before + 1);
    // …and since that person belongs to Nordpeak too, Lumi's owner cannot reset their password.
    let zhao = app.user_id(OWNER_NORDPEAK.0).await;
    let res = app
        .post_form(&owner, &format!("/t/lumi/members/{zhao}/reset-link"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("此人还属于其他卖家"));
}

#[tokio::test]
async fn a_reset_link_replaces_a_members_password() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let viewer = app.user_id(VIEWER_LUMI.0).await;
    let res = app
        .post_form(&owner, &format!("/t/lumi/members/{viewer}/reset-link"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let link = shown_link_path(&res.text().await.unwrap());
    assert!(
        set_password(&app, &link, "fresh-viewer-pass")
            .await
            .status()
            .is_redirection()
    );
    let res = app
        .post_login(&app.client(), VIEWER_LUMI.0, VIEWER_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.login(VIEWER_LUMI.0, "fresh-viewer-pass").await;
}

#[tokio::test]
async fn only_owners_manage_members_and_ids_of_other_tenants_are_404() {
    let app = TestApp::with_demo().await;
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let operator_id = app.user_id(OPERATOR_LUMI.0).await;
    let res = app
        .post_form(
            &viewer,
            "/t/lumi/members",
            &[("name", "A"), ("email", "a@b.example"), ("role", "owner")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_form(
            &viewer,
            &format!("/t/lumi/members/{operator_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let res = app
        .post_form(&am, &format!("/t/lumi/members/{operator_id}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let theirs = app
        .user_id(OPERATOR_LUMI.0.replace("lumi-home", "nordpeak").as_str())
        .await;
    for action in ["remove", "reset-link"] {
        let res = app
            .post_form(&owner, &format!("/t/lumi/members/{theirs}/{action}"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/members/{theirs}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post_form(&owner, "/t/lumi/members/not-a-uuid/remove", &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A stranger to the tenant: 404 on the members routes.
    let res = app
        .post_form(&owner, &format!("/t/nordpeak/members/{theirs}/remove"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_person_changes_their_own_password() {
    let app = TestApp::with_demo().await;
    let client = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    assert!(
        app.get_ok(&client, "/account/password")
            .await
            .contains("修改密码")
    );
    let res = app
        .post_form(
            &client,
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("password", "new-password-1"),
                ("password_confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("当前密码不正确。"));
    let res = app
        .post_form(
            &client,
            "/account/password",
            &[
                ("current_password", OPERATOR_LUMI.1),
                ("password", "new-password-1"),
                ("password_confirm", "other"),
            ],
        )
        .await;
    assert!(res.text().await.unwrap().contains("两次输入的密码不一致。"));
    let res = app
        .post_form(
            &client,
            "/account/password",
            &[
                ("current_password", OPERATOR_LUMI.1),
                ("password", "new-password-1"),
                ("password_confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.post_login(&app.client(), OPERATOR_LUMI.0, OPERATOR_LUMI.1, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.login(OPERATOR_LUMI.0, "new-password-1").await;
}
