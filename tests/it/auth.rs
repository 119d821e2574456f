//! Login, logout, throttling, CSRF and `next=`.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_message_and_both_cost_a_hash_check() {
    let app = TestApp::with_demo().await;
    let client = app.client();

    let before = app.state.passwords.checks();
    let wrong = app
        .post_login(&client, OWNER_LUMI.0, "not-the-password", None)
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_body = wrong.text().await.unwrap();
    assert_eq!(app.state.passwords.checks(), before + 1);

    let unknown = app
        .post_login(&client, "nobody@nowhere.example", "whatever-password", None)
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown_body = unknown.text().await.unwrap();
    // The unknown email still ran exactly one hash check (against the dummy hash).
    assert_eq!(app.state.passwords.checks(), before + 2);

    let message = "邮箱或密码不正确。";
    assert!(wrong_body.contains(message), "{wrong_body}");
    assert!(unknown_body.contains(message), "{unknown_body}");
    assert!(
        !client
            .get(app.url("/t/lumi/"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
}

#[tokio::test]
async fn empty_fields_get_a_message_next_to_each_field() {
    let app = TestApp::spawn().await;
    let res = app.post_login(&app.client(), "", "", None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains(r#"id="email-error""#), "{body}");
    assert!(body.contains(r#"id="password-error""#), "{body}");
    assert!(body.contains("请输入有效的邮箱地址。"));
}

#[tokio::test]
async fn repeated_failures_pause_that_account_and_ip_but_not_the_same_account_from_another_ip() {
    let app = TestApp::with_demo().await;
    let attacker = app.client();
    for _ in 0..5 {
        let res = app.post_login(&attacker, OWNER_LUMI.0, "guess", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused from this ip, with how long to wait.
    let res = app
        .post_login(&attacker, OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.unwrap();
    assert!(body.contains("尝试次数过多，请 15 分钟后再试。"), "{body}");

    // The real owner on another ip logs in.
    let owner = app.client_from_ip("127.0.0.2");
    let res = app
        .post_login(&owner, OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let home = owner.get(app.url("/t/lumi/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_ip_spraying_many_accounts_is_paused() {
    let app = TestApp::with_demo().await;
    let mut config = sextant::config::Config::for_tests(app.database_url.clone());
    config.login_max_failures_per_ip = 3;
    let app = TestApp::serve_with(app.db.clone(), app.database_url.clone(), config).await;
    let client = app.client();
    for i in 0..3 {
        let res = app
            .post_login(&client, &format!("user{i}@spray.example"), "guess", None)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post_login(&client, OPERATOR_LUMI.0, OPERATOR_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let res = client
        .post(app.url("/login"))
        .header("Origin", "https://evil.example")
        .form(&[("email", OWNER_LUMI.0), ("password", OWNER_LUMI.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("没有权限"));
    // No session was created by the refused request.
    let res = client.get(app.url("/t/lumi/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // A logged-in person cannot be logged out (or anything else) from another site either.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = owner
        .post(app.url("/logout"))
        .header("Sec-Fetch-Site", "cross-site")
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = owner.get(app.url("/t/lumi/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The same-origin post passes.
    let res = owner
        .post(app.url("/logout"))
        .header("Origin", app.url(""))
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn next_is_followed_only_to_local_paths() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let res = app
        .post_login(
            &client,
            OWNER_LUMI.0,
            OWNER_LUMI.1,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");

    let client = app.client();
    let res = app
        .post_login(
            &client,
            OWNER_LUMI.0,
            OWNER_LUMI.1,
            Some("//evil.example/x"),
        )
        .await;
    assert_eq!(location(&res), "/");

    let client = app.client();
    let res = app
        .post_login(&client, OWNER_LUMI.0, OWNER_LUMI.1, Some("/t/lumi/shops"))
        .await;
    assert_eq!(location(&res), "/t/lumi/shops");

    // A page that needs login sends the visitor to /login with next= and the form carries it.
    let anonymous = app.client();
    let res = anonymous
        .get(app.url("/t/lumi/shops"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/login?next=/t/lumi/shops");
    let form = anonymous
        .get(app.url("/login?next=https://evil.example"))
        .send()
        .await
        .unwrap();
    let body = form.text().await.unwrap();
    assert!(body.contains(r#"name="next" value="""#), "{body}");
}

#[tokio::test]
async fn logout_ends_the_session_and_the_old_cookie_is_worthless() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let res = app
        .post_login(&client, OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    let cookie = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sextant_session="))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(
        res.headers()[reqwest::header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    assert_eq!(
        client
            .get(app.url("/t/lumi/"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let res = client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(location(&res), "/login");
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("你已退出登录。"),
        "the login page says goodbye"
    );
    let res = client.get(app.url("/t/lumi/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Replaying the old cookie does not bring the session back.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(app.url("/t/lumi/"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Login and logout were audited as platform events.
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::Auth)
        .await
        .unwrap();
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE actor_label = $1 ORDER BY at")
            .bind(OWNER_LUMI.0)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert_eq!(actions, vec!["auth.login", "auth.logout"]);
}

#[tokio::test]
async fn the_session_id_is_renewed_at_login() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    // An anonymous session exists first (the logout flash creates one).
    let res = client.post(app.url("/logout")).send().await.unwrap();
    let before = session_cookie(&res).expect("anonymous session");
    let res = app
        .post_login(&client, OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    let after = session_cookie(&res).expect("session at login");
    assert_ne!(before, after);
}

#[tokio::test]
async fn a_deactivated_account_cannot_log_in_and_its_sessions_end() {
    let app = TestApp::with_demo().await;
    let client = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    sqlx::query("UPDATE users SET active = false WHERE email = $1")
        .bind(OPERATOR_LUMI.0)
        .execute(app.db.pool())
        .await
        .unwrap();
    let res = client.get(app.url("/t/lumi/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_login(&app.client(), OPERATOR_LUMI.0, OPERATOR_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sextant_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

/// Getting in (issue 13 item 9): the login page leads a new seller to sign-up, in both
/// languages.
#[tokio::test]
async fn the_login_page_links_to_sign_up() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for (lang, words, heading) in [
        ("zh-CN", "新卖家？", "注册卖家账号"),
        ("en", "New seller?", "Sign up as a seller"),
    ] {
        let login = app.get_ok_in(&client, "/login", lang).await;
        let at = login
            .find("data-testid=\"signup-link\"")
            .expect("a sign-up link");
        let line = &login[at..at + login[at..].find("</p>").unwrap()];
        assert!(line.contains(words), "{line}");
        assert!(line.contains("href=\"/signup\""), "{line}");
        let signup = app.get_ok_in(&client, "/signup", lang).await;
        assert!(signup.contains(heading), "{lang}");
    }
}
