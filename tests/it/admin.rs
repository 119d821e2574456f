//! The admin console: staff accounts, tenant approval and suspension, account-manager assignment.

use reqwest::StatusCode;

use crate::support::*;

/// An admin creates an account manager through the staff form (200, the invitation shown).
async fn new_account_manager(
    app: &TestApp,
    admin: &reqwest::Client,
    name: &str,
    email: &str,
) -> reqwest::Response {
    let res = app
        .post_form(
            admin,
            "/admin/staff",
            &[
                ("name", name),
                ("email", email),
                ("role", "account_manager"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res
}

#[tokio::test]
async fn an_admin_creates_an_account_manager_who_sets_a_password_and_works_the_queue() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let res = new_account_manager(&app, &admin, "钱多多 Qian", "qian@sextant.example").await;
    let link = shown_link_path(&res.text().await.unwrap());
    let res = app
        .post_form(
            &app.client(),
            &link,
            &[
                ("password", "qian-password-1"),
                ("password_confirm", "qian-password-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let qian = app.login("qian@sextant.example", "qian-password-1").await;
    let queue = app.get_ok(&qian, "/am").await;
    assert!(queue.contains("还没有分配给你的卖家。"));

    // Assigned to Nordpeak, the queue lists it and its pages open; Lumi stays 404.
    let qian_id = app.user_id("qian@sextant.example").await.to_string();
    let nordpeak = app.tenant_id("nordpeak").await;
    let res = app
        .post_form(
            &admin,
            &format!("/admin/tenants/{nordpeak}/assignments"),
            &[("am", qian_id.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let queue = app.get_ok(&qian, "/am").await;
    assert!(queue.contains(r#"href="/t/nordpeak/""#) && !queue.contains("/t/lumi/"));
    assert_eq!(app.status_of(&qian, "/t/nordpeak/").await, StatusCode::OK);
    assert_eq!(
        app.status_of(&qian, "/t/lumi/").await,
        StatusCode::NOT_FOUND
    );
    // The demo account manager was unassigned from Nordpeak by that form (it is the whole set).
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    assert_eq!(
        app.status_of(&am, "/t/nordpeak/").await,
        StatusCode::NOT_FOUND
    );
    let audit = app.audit_of(&nordpeak.to_string()).await;
    let (action, before, after) = audit.last().unwrap();
    assert_eq!(action, "tenant.assignments");
    assert_eq!(
        before.as_ref().unwrap()["account_managers"][0],
        ACCOUNT_MANAGER.0
    );
    assert_eq!(
        after.as_ref().unwrap()["account_managers"][0],
        "qian@sextant.example"
    );
}

#[tokio::test]
async fn a_deactivated_staff_account_cannot_log_in_and_its_sessions_end() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let finance = app.login(FINANCE.0, FINANCE.1).await;
    assert_eq!(app.status_of(&finance, "/finance").await, StatusCode::OK);
    let finance_id = app.user_id(FINANCE.0).await;
    let res = app
        .post_form(
            &admin,
            &format!("/admin/staff/{finance_id}/active"),
            &[("action", "deactivate")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let res = finance.get(app.url("/finance")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the open session ended"
    );
    assert!(location(&res).starts_with("/login"));
    let res = app
        .post_login(&app.client(), FINANCE.0, FINANCE.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // No password link can be issued for it, and an old one stops working.
    let res = app
        .post_form(
            &admin,
            &format!("/admin/staff/{finance_id}/reset-link"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let audit = app.audit_of(&finance_id.to_string()).await;
    let (action, before, after) = audit.last().unwrap();
    assert_eq!(action, "staff.deactivate");
    assert_eq!(before.as_ref().unwrap()["active"], true);
    assert_eq!(after.as_ref().unwrap()["active"], false);

    // Reactivated, the same password works again.
    app.post_form(
        &admin,
        &format!("/admin/staff/{finance_id}/active"),
        &[("action", "activate")],
    )
    .await;
    app.login(FINANCE.0, FINANCE.1).await;
}

#[tokio::test]
async fn a_deactivated_staff_members_unused_link_stops_working() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let am_id = app.user_id(ACCOUNT_MANAGER.0).await;
    let res = app
        .post_form(&admin, &format!("/admin/staff/{am_id}/reset-link"), &[])
        .await;
    let link = shown_link_path(&res.text().await.unwrap());
    app.post_form(
        &admin,
        &format!("/admin/staff/{am_id}/active"),
        &[("action", "deactivate")],
    )
    .await;
    let res = app
        .post_form(
            &app.client(),
            &link,
            &[
                ("password", "sneaky-password"),
                ("password_confirm", "sneaky-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::GONE);
}

#[tokio::test]
async fn admins_cannot_lock_themselves_or_everyone_out() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let me = app.user_id(ADMIN.0).await;
    let res = app
        .post_form(
            &admin,
            &format!("/admin/staff/{me}/active"),
            &[("action", "deactivate")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("不能停用自己的账号。"));
    let res = app
        .post_form(
            &admin,
            &format!("/admin/staff/{me}"),
            &[("name", "Li"), ("role", "finance")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("不能修改自己的角色。"));

    // A second admin may not demote the only other one below one active admin.
    let res = app
        .post_form(
            &admin,
            "/admin/staff",
            &[
                ("name", "Second"),
                ("email", "second@sextant.example"),
                ("role", "admin"),
            ],
        )
        .await;
    let link = shown_link_path(&res.text().await.unwrap());
    app.post_form(
        &app.client(),
        &link,
        &[
            ("password", "second-admin-1"),
            ("password_confirm", "second-admin-1"),
        ],
    )
    .await;
    let second = app.login("second@sextant.example", "second-admin-1").await;
    let res = app
        .post_form(
            &second,
            &format!("/admin/staff/{me}/active"),
            &[("action", "deactivate")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "two admins: one may go"
    );
    let res = app
        .post_form(
            &second,
            "/admin/staff",
            &[
                ("name", "Third"),
                ("email", "third@sextant.example"),
                ("role", "finance"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_forms_with_bad_input_show_messages_and_create_nothing() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let staff_count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users WHERE platform_role IS NOT NULL")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let before = staff_count().await;
    let res = app
        .post_form(
            &admin,
            "/admin/staff",
            &[("name", ""), ("email", "bad"), ("role", "cto")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("请选择角色。"));
    let res = app
        .post_form(
            &admin,
            "/admin/staff",
            &[("name", ""), ("email", "bad"), ("role", "finance")],
        )
        .await;
    let page = res.text().await.unwrap();
    assert!(page.contains("请输入姓名") && page.contains("请输入有效的邮箱地址。"));
    let res = app
        .post_form(
            &admin,
            "/admin/staff",
            &[
                ("name", "Dup"),
                ("email", OWNER_LUMI.0),
                ("role", "finance"),
            ],
        )
        .await;
    assert!(res.text().await.unwrap().contains("这个邮箱已有账号。"));
    assert_eq!(staff_count().await, before);

    // Unknown ids and sellers' ids are not staff: 404.
    let owner_id = app.user_id(OWNER_LUMI.0).await;
    for path in [
        format!("/admin/staff/{owner_id}"),
        "/admin/staff/not-a-uuid".into(),
        format!("/admin/staff/{}", uuid::Uuid::now_v7()),
    ] {
        assert_eq!(
            app.status_of(&admin, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let res = app
        .post_form(&admin, &format!("/admin/staff/{owner_id}/reset-link"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tenant_status_moves_only_along_allowed_paths_and_suspension_needs_a_reason() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let lumi = app.tenant_id("lumi").await;
    let status_path = format!("/admin/tenants/{lumi}/status");
    let res = app
        .post_form(&admin, &status_path, &[("action", "approve")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("当前状态下不能执行这个操作。")
    );
    let res = app
        .post_form(
            &admin,
            &status_path,
            &[("action", "suspend"), ("reason", "  ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("暂停时必须填写原因。"));

    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = app
        .post_form(
            &admin,
            &status_path,
            &[("action", "suspend"), ("reason", "逾期未付服务费")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let home = app.get_ok(&owner, "/t/lumi/").await;
    assert!(home.contains("账号已暂停") && home.contains("逾期未付服务费"));
    assert_eq!(
        app.status_of(&owner, "/t/lumi/shops").await,
        StatusCode::SEE_OTHER
    );

    let res = app
        .post_form(&admin, &status_path, &[("action", "reactivate")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.status_of(&owner, "/t/lumi/shops").await, StatusCode::OK);

    let actions: Vec<(String, String)> = app
        .audit_of(&lumi.to_string())
        .await
        .into_iter()
        .map(|(a, _, after)| {
            (
                a,
                after.unwrap()["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("tenant.suspend".to_string(), "suspended".to_string()),
            ("tenant.reactivate".to_string(), "active".to_string())
        ]
    );

    // A bogus account-manager id is refused.
    let owner_id = app.user_id(OWNER_LUMI.0).await.to_string();
    let res = app
        .post_form(
            &admin,
            &format!("/admin/tenants/{lumi}/assignments"),
            &[("am", owner_id.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.status_of(&admin, &format!("/admin/tenants/{}", uuid::Uuid::now_v7()))
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_admins_open_the_admin_console() {
    let app = TestApp::with_demo().await;
    let lumi = app.tenant_id("lumi").await;
    let am_id = app.user_id(ACCOUNT_MANAGER.0).await;
    for (email, password) in [ACCOUNT_MANAGER, FINANCE, OWNER_LUMI] {
        let client = app.login(email, password).await;
        for path in [
            "/admin".to_string(),
            "/admin/tenants".into(),
            format!("/admin/tenants/{lumi}"),
            "/admin/staff".into(),
            format!("/admin/staff/{am_id}"),
        ] {
            assert_eq!(
                app.status_of(&client, &path).await,
                StatusCode::FORBIDDEN,
                "{email} {path}"
            );
        }
        let res = app
            .post_form(
                &client,
                &format!("/admin/tenants/{lumi}/status"),
                &[("action", "suspend"), ("reason", "x")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{email}");
        let res = app
            .post_form(
                &client,
                "/admin/staff",
                &[("name", "x"), ("email", "x@y.example"), ("role", "admin")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{email}");
    }
}

/// The admin console's home says what needs an admin now (issue 13 item 1): sellers waiting
/// for approval, account managers with no seller, creator pool imports waiting to be confirmed —
/// each linked to where it is done, and each leaving the list once done (the demo's own pending
/// sellers may stay).
#[tokio::test]
async fn the_admin_home_lists_pending_sellers_unassigned_account_managers_and_pool_imports() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    new_account_manager(&app, &admin, "孙小美 Sun", "sun@sextant.example").await;
    let sun = app.user_id("sun@sextant.example").await;
    let admin_id = app.user_id(ADMIN.0).await;
    let pending = uuid::Uuid::now_v7();
    let import = uuid::Uuid::now_v7();
    let mut c = app.owner_conn().await;
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, status) \
         VALUES ($1, 'waiting-co', '等审核 Waiting Co', 'pending')",
    )
    .bind(pending)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO creator_imports (id, uploaded_by, filename, encoding, content, total_rows, \
         good_rows, error_rows) VALUES ($1, $2, 'pool-december.csv', 'utf-8', '\\x', 12, 11, 1)",
    )
    .bind(import)
    .bind(admin_id)
    .execute(&mut c)
    .await
    .unwrap();

    let html = app.get_ok(&admin, "/admin").await;
    let section = |id: &str| {
        let marker = format!("data-testid=\"{id}\"");
        let start = html.find(&marker).unwrap_or_else(|| panic!("no {id}"));
        let end = html[start..]
            .find("</ul>")
            .map_or(html.len(), |e| start + e);
        html[start..end].to_string()
    };
    let tenants = section("needs-pending");
    assert!(
        tenants.contains(&format!("href=\"/admin/tenants/{pending}\"")),
        "{tenants}"
    );
    assert!(!tenants.contains("lumi"), "only sellers waiting: {tenants}");
    let staff = section("needs-unassigned");
    assert!(
        staff.contains(&format!("href=\"/admin/staff/{sun}\"")),
        "{staff}"
    );
    assert!(
        !staff.contains("am@sextant.example"),
        "the demo AM has sellers: {staff}"
    );
    let imports = section("needs-pool-imports");
    assert!(
        imports.contains(&format!("href=\"/admin/creators/import/{import}\"")),
        "{imports}"
    );
    assert!(imports.contains("<span class=\"num\">11</span>/<span class=\"num\">12</span>"));
    for link in [
        format!("/admin/tenants/{pending}"),
        format!("/admin/staff/{sun}"),
        format!("/admin/creators/import/{import}"),
    ] {
        app.get_ok(&admin, &link).await;
    }

    // Done: approved, assigned, cancelled — the lists are empty.
    for sql in [
        "UPDATE tenants SET status = 'active' WHERE id = $1",
        "UPDATE creator_imports SET status = 'cancelled' WHERE id = $1",
    ] {
        let id = if sql.contains("tenants") {
            pending
        } else {
            import
        };
        sqlx::query(sql).bind(id).execute(&mut c).await.unwrap();
    }
    let lumi = app.tenant_id("lumi").await;
    sqlx::query("INSERT INTO am_assignments (tenant_id, user_id) VALUES ($1, $2)")
        .bind(lumi)
        .bind(sun)
        .execute(&mut c)
        .await
        .unwrap();
    let html = app.get_ok(&admin, "/admin").await;
    let needs = &html[..html.find("</section>").expect("the needs section")];
    for id in [pending, sun, import] {
        assert!(!needs.contains(&id.to_string()), "{id} still listed");
    }

    // Only admins see the console.
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    assert_ne!(app.status_of(&am, "/admin").await, StatusCode::OK);
}

/// The account manager's queue collects every kind of item (issue 13 item 1): a request to
/// start matching, a sample to ship, a post overdue, an import that needs attention — each with
/// the link to where it is done (sending a shortlist and setting up terms are in
/// `matching::the_work_queue_lists_what_waits_on_the_account_manager_oldest_first`).
#[tokio::test]
async fn the_account_managers_queue_lists_every_kind_of_item_with_its_link() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    crate::home::clear_deadlines(&mut c, tenant).await;
    let overdue = crate::home::deadline_passed(&mut c, tenant, 2).await;
    let submitted: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE tenant_id = $1 AND state = 'submitted' LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .expect("the demo has a submitted request");
    let sample: uuid::Uuid = sqlx::query_scalar(
        "SELECT l.id FROM collaborations l
           JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
          WHERE l.tenant_id = $1 AND l.state = 'accepted'
            AND coalesce((k.data->>'sample_needed')::boolean, false)
          LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .expect("the demo has an accepted collaboration that needs a sample");
    let import: uuid::Uuid = sqlx::query_scalar(
        "UPDATE order_imports SET state = 'failed', failure = 'bench'
          WHERE (tenant_id, id) = (SELECT tenant_id, id FROM order_imports
                                    WHERE tenant_id = $1 ORDER BY created_at LIMIT 1)
          RETURNING id",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .expect("the demo imports lumi's orders");

    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let queue = app.get_ok(&am, "/am").await;
    // The rows linking to `href` (a collaboration may wait for a sample and be overdue too).
    let rows_of = |href: &str| -> Vec<String> {
        queue
            .match_indices(&format!("href=\"{href}\""))
            .map(|(at, _)| {
                let start = queue[..at].rfind("<tr>").unwrap();
                let end = at + queue[at..].find("</tr>").unwrap();
                queue[start..end].to_string()
            })
            .collect()
    };
    for (href, kind) in [
        (format!("/t/lumi/campaigns/{submitted}"), "开始撮合"),
        (format!("/t/lumi/collaborations/{sample}"), "寄送样品"),
        (format!("/t/lumi/collaborations/{overdue}"), "逾期未发布"),
        (format!("/t/lumi/orders/imports/{import}"), "订单导入待处理"),
    ] {
        let rows = rows_of(&href);
        assert!(rows.iter().any(|r| r.contains(kind)), "{kind}: {rows:?}");
        app.get_ok(&am, &href).await;
    }
}

/// The demo shows the admin home's items without any setup: an account manager with no seller
/// yet and a creator pool file waiting to be confirmed — once, however often it is seeded.
#[tokio::test]
async fn the_demo_admin_home_has_an_unassigned_account_manager_and_a_pool_file_waiting() {
    let app = TestApp::with_demo().await;
    sextant::seed::seed_demo(&app.db, &app.state.passwords)
        .await
        .expect("seeding twice");
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let html = app.get_ok_in(&admin, "/admin", "en").await;
    let wang = app.user_id("am2@sextant.example").await;
    let staff = &html[html.find(r#"data-testid="needs-unassigned""#).unwrap()..];
    let staff = &staff[..staff.find("</ul>").unwrap()];
    assert!(
        staff.contains(&format!("href=\"/admin/staff/{wang}\"")),
        "{staff}"
    );
    assert!(!staff.contains("am@sextant.example"));
    let imports = &html[html.find(r#"data-testid="needs-pool-imports""#).unwrap()..];
    let imports = &imports[..imports.find("</ul>").unwrap()];
    assert_eq!(
        imports.matches("demo-pool-december.csv").count(),
        1,
        "{imports}"
    );
    assert!(
        imports.contains("<span class=\"num\">3</span>/<span class=\"num\">4</span>"),
        "{imports}"
    );
    // The second account manager logs in with the demo password.
    let res = app
        .post_login(&app.client(), "am2@sextant.example", "am2-demo-2026", None)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
