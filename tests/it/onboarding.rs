//! Seller sign-up, the agency's approval, and the company profile (onboarding).

use reqwest::StatusCode;

use crate::support::*;

const SIGNUP: &[(&str, &str)] = &[
    ("company", "艾可家居 Acme Home"),
    ("slug", "acme"),
    ("name", "李娜 Li Na"),
    ("email", "li.na@acme.example"),
    ("password", "acme-owner-2026"),
    ("password_confirm", "acme-owner-2026"),
];

/// A complete, valid profile with one shop (row 0) and an empty "add a shop" row (row 1).
fn good_profile() -> Vec<(&'static str, &'static str)> {
    vec![
        ("legal_name", "深圳市艾可家居有限公司"),
        ("licence", "91440300MA5G8K2X7Q"),
        ("categories", "home_kitchen"),
        ("categories", "home_decor"),
        ("markets", "US"),
        ("markets", "GB"),
        ("fee_model", "commission_only"),
        ("service_fee", "12.5"),
        ("settlement_currency", "USD"),
        ("time_zone", "Asia/Shanghai"),
        ("shop-0-id", ""),
        ("shop-0-name", "Acme US · TikTok Shop"),
        ("shop-0-platform", "tiktok_shop"),
        ("shop-0-url", "https://shop.acme.invalid/us"),
        ("shop-0-time_zone", "America/Los_Angeles"),
        ("shop-0-date_order", "MDY"),
        ("shop-0-currency", "USD"),
        ("shop-1-id", ""),
        ("shop-1-name", ""),
        ("shop-1-platform", ""),
        ("shop-1-url", ""),
        ("shop-1-time_zone", "Asia/Shanghai"),
        ("shop-1-date_order", "DMY"),
        ("shop-1-currency", "USD"),
        ("action", "save"),
    ]
}

fn with<'a>(
    base: &[(&'a str, &'a str)],
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .map(|(k, v)| {
            changes
                .iter()
                .find(|(ck, _)| ck == k)
                .map(|(ck, cv)| (*ck, *cv))
                .unwrap_or((*k, *v))
        })
        .collect()
}

async fn tenant_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_up_then_approval_then_onboarding_then_dashboard() {
    let app = TestApp::with_demo().await;
    let owner = app.client();
    assert!(app.get_ok(&owner, "/signup").await.contains("注册卖家账号"));
    let res = app.post_form(&owner, "/signup", SIGNUP).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/t/acme/settings/profile");

    // Pending: the dashboard says so, and only the profile opens.
    let home = app.get_ok(&owner, "/t/acme/").await;
    assert!(home.contains(r#"data-testid="pending-notice""#), "{home}");
    assert!(home.contains("等待服务商审核"));
    for path in ["/t/acme/shops", "/t/acme/members", "/t/acme/audit"] {
        let res = owner.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), "/t/acme/");
    }
    let profile = app.get_ok(&owner, "/t/acme/settings/profile").await;
    assert!(profile.contains("公司资料"));

    // The agency approves.
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let pending = app.get_ok(&admin, "/admin/tenants?status=pending").await;
    assert!(pending.contains(r#"data-slug="acme""#));
    assert!(!pending.contains(r#"data-slug="lumi""#));
    let acme = app.tenant_id("acme").await;
    let res = app
        .post_form(
            &admin,
            &format!("/admin/tenants/{acme}/status"),
            &[("action", "approve")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The owner completes the profile and lands on the dashboard.
    let res = app
        .post_form(&owner, "/t/acme/settings/profile", &good_profile())
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/t/acme/");
    let home = app.get_ok(&owner, "/t/acme/").await;
    assert!(!home.contains("pending-notice"));
    assert!(home.contains("公司资料已保存。"));
    assert!(home.contains("首页 · 艾可家居 Acme Home"));
    let shops = app.get_ok(&owner, "/t/acme/shops").await;
    assert!(shops.contains("Acme US · TikTok Shop") && shops.contains("America/Los_Angeles"));

    let stored: (String, rust_decimal::Decimal, String, Vec<String>) = sqlx::query_as(
        "SELECT fee_model, service_fee_rate, settlement_currency::text, target_markets FROM tenants WHERE slug = 'acme'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(stored.0, "commission_only");
    assert_eq!(stored.1, "0.125".parse().unwrap());
    assert_eq!(stored.2, "USD");
    assert_eq!(stored.3, vec!["US", "GB"]);

    // Every step is in the tenant's audit trail, which the owner can read.
    let actions: Vec<String> = app
        .audit_of(&acme.to_string())
        .await
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(
        actions,
        vec!["tenant.signup", "tenant.approve", "tenant.profile_update"]
    );
    let audit = app.get_ok(&owner, "/t/acme/audit").await;
    assert!(audit.contains("tenant.approve") && audit.contains(ADMIN.0));
}

#[tokio::test]
async fn sign_up_with_bad_input_shows_each_message_and_creates_nothing() {
    let app = TestApp::with_demo().await;
    let before = tenant_count(&app).await;
    let client = app.client();
    let res = app
        .post_form(
            &client,
            "/signup",
            &[
                ("company", ""),
                ("slug", "A b"),
                ("name", ""),
                ("email", "x"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for message in [
        "请输入 2–80 个字符的公司名称。",
        "标识需为 3–40 个小写字母、数字或连字符",
        "请输入你的姓名",
        "请输入有效的邮箱地址。",
        "密码至少需要 10 个字符。",
    ] {
        assert!(page.contains(message), "{message}");
    }

    let taken_slug = with(SIGNUP, &[("slug", "lumi")]);
    let page = app
        .post_form(&client, "/signup", &taken_slug)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("这个标识已被使用"));
    let reserved = with(SIGNUP, &[("slug", "admin")]);
    let page = app
        .post_form(&client, "/signup", &reserved)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("这个标识已被使用"));
    let taken_email = with(SIGNUP, &[("email", OWNER_LUMI.0)]);
    let page = app
        .post_form(&client, "/signup", &taken_email)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("这个邮箱已经注册过了"));
    let mismatch = with(SIGNUP, &[("password_confirm", "something-else")]);
    let page = app
        .post_form(&client, "/signup", &mismatch)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("两次输入的密码不一致。"));
    // What was typed is kept (except passwords).
    assert!(page.contains(r#"value="艾可家居 Acme Home""#));

    assert_eq!(tenant_count(&app).await, before);
    assert_eq!(
        app.status_of(&client, "/t/acme/").await,
        StatusCode::SEE_OTHER,
        "no session was created"
    );
}

async fn profile_snapshot(app: &TestApp, slug: &str) -> (Option<String>, String, String, i64) {
    let id = app.tenant_id(slug).await;
    let (legal, fee, tz): (Option<String>, String, String) = sqlx::query_as(
        "SELECT legal_name, service_fee_rate::text, time_zone FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let mut tx = app.db.tenant_tx(id, None).await.unwrap();
    let shops: i64 = sqlx::query_scalar("SELECT count(*) FROM shops WHERE tenant_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    (legal, fee, tz, shops)
}

#[tokio::test]
async fn onboarding_with_bad_input_shows_each_message_next_to_its_field_and_saves_nothing() {
    let app = TestApp::with_demo().await;
    let owner = app.client();
    app.post_form(&owner, "/signup", SIGNUP).await;
    let before = profile_snapshot(&app, "acme").await;

    let bad = with(
        &good_profile(),
        &[
            ("legal_name", ""),
            ("licence", ""),
            ("service_fee", "35"),
            ("shop-0-url", "htp:/shop acme"),
            ("time_zone", "Mars/Olympus_Mons"),
        ],
    );
    let res = app
        .post_form(&owner, "/t/acme/settings/profile", &bad)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"data-testid="form-summary""#));
    for (field, message) in [
        ("legal_name", "请输入公司法定名称"),
        ("licence", "请输入营业执照号。"),
        ("service_fee", "服务费率必须在 5% 到 20% 之间。"),
        ("shop-0-url", "请输入完整的店铺链接"),
        ("time_zone", "无法识别这个时区"),
    ] {
        let marker = format!(r#"data-field="{field}">"#);
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("no message next to {field}"));
        assert!(
            page[at..].starts_with(&format!("{marker}{message}")),
            "{field}"
        );
    }
    // The form keeps what was typed.
    assert!(page.contains(r#"value="htp:/shop acme""#) && page.contains(r#"value="35""#));
    assert_eq!(
        profile_snapshot(&app, "acme").await,
        before,
        "nothing saved"
    );

    // In English too.
    let res = owner
        .post(app.url("/t/acme/settings/profile"))
        .header("Accept-Language", "en")
        .form(&bad)
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("The service fee rate must be between 5% and 20%."));
    assert!(page.contains("Unknown time zone"));

    // No shop at all, and a shop with an unknown platform and currency.
    let no_shop = with(
        &good_profile(),
        &[
            ("shop-0-name", ""),
            ("shop-0-url", ""),
            ("shop-0-platform", ""),
        ],
    );
    let page = app
        .post_form(&owner, "/t/acme/settings/profile", &no_shop)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("请至少添加一个店铺。"));
    let odd_shop = with(
        &good_profile(),
        &[("shop-0-platform", "ebay"), ("shop-0-currency", "XXX")],
    );
    let page = app
        .post_form(&owner, "/t/acme/settings/profile", &odd_shop)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("请选择平台。") && page.contains("请选择币种。"));
    assert_eq!(
        profile_snapshot(&app, "acme").await,
        before,
        "still nothing saved"
    );
}

#[tokio::test]
async fn add_a_shop_shows_another_row_without_saving() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let before = profile_snapshot(&app, "lumi").await;
    let page = app.get_ok(&owner, "/t/lumi/settings/profile").await;
    let rows = page.matches(r#"data-testid="shop-row""#).count();
    assert_eq!(rows, 4, "three shops and an empty row");
    let mut form = with(&good_profile(), &[("action", "add_shop")]);
    form.retain(|(k, _)| !k.starts_with("shop-1-"));
    let page = app
        .post_form(&owner, "/t/lumi/settings/profile", &form)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches(r#"data-testid="shop-row""#).count(), 2);
    assert_eq!(profile_snapshot(&app, "lumi").await, before);
}

#[tokio::test]
async fn only_the_owner_saves_the_profile_and_another_tenants_shop_cannot_be_edited() {
    let app = TestApp::with_demo().await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let page = app.get_ok(&operator, "/t/lumi/settings/profile").await;
    assert!(
        page.contains("<fieldset disabled>"),
        "read-only for an operator"
    );
    let res = app
        .post_form(&operator, "/t/lumi/settings/profile", &good_profile())
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Posting Nordpeak's shop id into Lumi's profile form: 404, nothing saved anywhere.
    let nordpeak = app.tenant_id("nordpeak").await;
    let mut tx = app.db.tenant_tx(nordpeak, None).await.unwrap();
    let their_shop = sextant::tenants::repo::shops(&mut tx, nordpeak)
        .await
        .unwrap()[0]
        .clone();
    drop(tx);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let before = profile_snapshot(&app, "lumi").await;
    let id = their_shop.id.to_string();
    let hijack = with(
        &good_profile(),
        &[("shop-0-id", id.as_str()), ("shop-0-name", "Hijacked")],
    );
    let res = app
        .post_form(&owner, "/t/lumi/settings/profile", &hijack)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(profile_snapshot(&app, "lumi").await, before);
    let mut tx = app.db.tenant_tx(nordpeak, None).await.unwrap();
    let still = sextant::tenants::repo::shop(&mut tx, nordpeak, their_shop.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.name, their_shop.name);
    let removal = with(
        &good_profile(),
        &[("shop-1-id", id.as_str()), ("shop-1-name", "x")],
    );
    let mut removal = removal;
    removal.push(("shop-1-remove", "1"));
    let res = app
        .post_form(&owner, "/t/lumi/settings/profile", &removal)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_demo_has_a_tenant_awaiting_approval_and_a_suspended_one() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let page = app.get_ok(&admin, "/admin/tenants").await;
    for status in ["待审核", "已启用", "已暂停"] {
        assert!(page.contains(status), "{status}");
    }
    let suspended_owner = app.login("owner@toyfort.example", "owner-demo-2026").await;
    let home = app.get_ok(&suspended_owner, "/t/toyfort/").await;
    assert!(
        home.contains(r#"data-testid="suspended-notice""#) && home.contains("服务协议到期未续签")
    );
    assert_eq!(
        app.status_of(&suspended_owner, "/t/toyfort/shops").await,
        StatusCode::SEE_OTHER
    );
    let res = app
        .post_form(
            &suspended_owner,
            "/t/toyfort/settings/profile",
            &good_profile(),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a suspended tenant cannot edit"
    );
}
