//! Holding up against an attacker: login throttling under parallel requests, system events no
//! form can post, password hashes no app role can read, one-time links under row-level security,
//! and the cross-site check's scheme.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sextant::campaigns::actions::{MoveCampaign, move_campaign, record_system_event};
use sextant::campaigns::domain::Transition;
use sextant::config::Config;
use sextant::db::{Db, SystemScope};
use sextant::error::DomainError;
use sqlx::PgConnection;

use crate::support::*;

/// The demo on a server with a pool big enough that parallel logins wait on the throttle's rows,
/// not on connections; `configure` adjusts its settings.
async fn demo_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = TestApp::with_demo().await;
    let mut config = Config::for_tests(app.database_url.clone());
    configure(&mut config);
    let db = Db::connect(&app.database_url, 20).await.unwrap();
    TestApp::serve_with(db, app.database_url.clone(), config).await
}

/// Posts one login per `(email, password)` all at once, each from a fresh client on `ip`, and
/// answers the statuses.
async fn parallel_logins(
    app: &TestApp,
    ip: &str,
    attempts: &[(String, String)],
) -> Vec<StatusCode> {
    let posts = attempts.iter().map(|(email, password)| {
        let client = app.client_from_ip(ip);
        async move {
            app.post_login(&client, email, password, None)
                .await
                .status()
        }
    });
    join_all(posts).await
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_for_one_account_get_only_the_limit_checked() {
    let app = demo_with(|_| {}).await;
    let limit = app.state.config.login_max_failures as usize;
    let before = app.state.passwords.checks();
    let guesses: Vec<(String, String)> = (0..50)
        .map(|i| (OWNER_LUMI.0.to_string(), format!("guess-{i}")))
        .collect();
    let statuses = parallel_logins(&app, "127.0.0.1", &guesses).await;

    assert_eq!(
        app.state.passwords.checks() - before,
        limit as u64,
        "passwords checked"
    );
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), limit);
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 50 - limit);
    // Paused now, even with the right password; the owner on another ip is not.
    let res = app
        .post_login(&app.client(), OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = app
        .post_login(
            &app.client_from_ip("127.0.0.2"),
            OWNER_LUMI.0,
            OWNER_LUMI.1,
            None,
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn parallel_guesses_at_many_accounts_from_one_ip_get_only_the_ips_limit_checked() {
    let app = demo_with(|c| c.login_max_failures_per_ip = 10).await;
    let before = app.state.passwords.checks();
    let guesses: Vec<(String, String)> = (0..40)
        .map(|i| (format!("user{i}@spray.example"), "guess".to_string()))
        .collect();
    let statuses = parallel_logins(&app, "127.0.0.3", &guesses).await;
    assert_eq!(app.state.passwords.checks() - before, 10);
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 10);
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 30);
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_ips_allowance() {
    let app = demo_with(|c| c.login_max_failures_per_ip = 3).await;
    // An office behind one address: more people log in than the ip may fail.
    for (email, password) in [OWNER_LUMI, OPERATOR_LUMI, VIEWER_LUMI, OWNER_NORDPEAK] {
        let res = app.post_login(&app.client(), email, password, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email}");
    }
    for _ in 0..3 {
        let res = app
            .post_login(&app.client(), "nobody@spray.example", "guess", None)
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post_login(&app.client(), OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn campaign_state(app: &TestApp, id: uuid::Uuid) -> String {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn moves_of(c: &mut PgConnection, id: uuid::Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM campaign_transitions WHERE campaign_id = $1")
        .bind(id)
        .fetch_one(c)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_forged_post_of_each_system_event_through_the_state_form_is_refused() {
    let app = TestApp::with_demo_campaigns().await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    for (state, event) in [
        ("contracting", "first_contract_accepted"),
        ("running", "all_published_or_ended"),
        ("evaluating", "all_rated_or_ended"),
    ] {
        let id = app.campaign_in("lumi", state).await;
        let audited = app.audit_of(&id.to_string()).await.len();
        let moves = moves_of(&mut app.owner_conn().await, id).await;
        for (who, client) in [("account manager", &am), ("owner", &owner)] {
            let res = app
                .post_form(
                    client,
                    &format!("/t/lumi/campaigns/{id}/transition"),
                    &[("transition", event), ("reason", "")],
                )
                .await;
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{who} posting {event}"
            );
            let body = res.text().await.unwrap();
            assert!(body.contains("您的角色不能执行此操作"), "{who} {event}");
        }
        assert_eq!(campaign_state(&app, id).await, state, "{event}");
        assert_eq!(moves_of(&mut app.owner_conn().await, id).await, moves);
        assert_eq!(app.audit_of(&id.to_string()).await.len(), audited);
    }
}

#[tokio::test]
async fn system_events_are_refused_through_the_persons_action_and_taken_through_the_systems() {
    let app = TestApp::with_demo_campaigns().await;
    let am = app.actor(ACCOUNT_MANAGER.0, "lumi").await;
    let id = app.campaign_in("lumi", "contracting").await;

    let mut tx = app.tx_for(&am).await;
    let refused = move_campaign(
        &mut tx,
        &am,
        MoveCampaign {
            campaign_id: id,
            transition: Transition::FirstContractAccepted,
            reason: String::new(),
        },
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(DomainError::Refused(
                "campaign.transition_error.not_allowed_for"
            ))
        ),
        "{refused:?}"
    );
    // A person's move is not a system event either.
    let refused = record_system_event(&mut tx, &am, id, Transition::Cancel).await;
    assert!(
        matches!(refused, Err(DomainError::Refused(_))),
        "{refused:?}"
    );
    // From the wrong state the system is refused too.
    let refused = record_system_event(&mut tx, &am, id, Transition::AllRatedOrEnded).await;
    assert!(
        matches!(
            refused,
            Err(DomainError::Refused(
                "campaign.transition_error.not_allowed_from"
            ))
        ),
        "{refused:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&am).await;
    let to = record_system_event(&mut tx, &am, id, Transition::FirstContractAccepted)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(to.code(), "running");
    assert_eq!(campaign_state(&app, id).await, "running");
    let audit = app.audit_of(&id.to_string()).await;
    let (action, _, after) = audit.last().unwrap();
    assert_eq!(action, "campaign.transition");
    assert_eq!(
        after.as_ref().unwrap()["transition"],
        "first_contract_accepted"
    );
}

#[tokio::test]
async fn the_app_roles_cannot_read_password_hashes_and_logins_and_password_changes_still_work() {
    let app = TestApp::with_demo().await;
    let lumi = app.tenant_id("lumi").await;
    // As the app role on the pool, in a tenant scope, and in a system scope.
    let refused =
        sqlx::query_scalar::<_, Option<String>>("SELECT password_hash FROM users LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .expect_err("the app role reads no hash");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    assert!(
        sqlx::query("SELECT * FROM users")
            .fetch_all(&mut *tx)
            .await
            .is_err()
    );
    drop(tx);
    let mut tx = app.db.system_tx(SystemScope::Auth).await.unwrap();
    let refused = sqlx::query("SELECT password_hash FROM users")
        .fetch_all(&mut *tx)
        .await
        .expect_err("the system role reads no hash");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    drop(tx);
    // The other columns read as before.
    let (email, has_password): (String, bool) =
        sqlx::query_as("SELECT email, has_password FROM users WHERE lower(email) = $1")
            .bind(OWNER_LUMI.0)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(email, OWNER_LUMI.0);
    assert!(has_password);

    // The one way in is a SECURITY DEFINER function with a fixed search_path.
    let mut owner_conn = app.owner_conn().await;
    let (definer, config): (bool, Option<Vec<String>>) = sqlx::query_as(
        "SELECT prosecdef, proconfig FROM pg_proc WHERE proname = 'auth_login_candidate'",
    )
    .fetch_one(&mut owner_conn)
    .await
    .unwrap();
    assert!(definer);
    assert!(
        config
            .unwrap_or_default()
            .iter()
            .any(|c| c.starts_with("search_path="))
    );

    // Logging in works; so does changing one's password, and logging in with the new one.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = app
        .post_form(
            &owner,
            "/account/password",
            &[
                ("current_password", OWNER_LUMI.1),
                ("password", "a-brand-new-password-1"),
                ("password_confirm", "a-brand-new-password-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let old = app
        .post_login(&app.client(), OWNER_LUMI.0, OWNER_LUMI.1, None)
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    app.login(OWNER_LUMI.0, "a-brand-new-password-1").await;
}

#[tokio::test]
async fn one_time_links_are_seen_only_in_their_tenants_scope_and_still_work() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = app
        .post_form(
            &owner,
            "/t/lumi/members",
            &[
                ("name", "Ma Ke"),
                ("email", "ma.ke@lumi-home.example"),
                ("role", "operator"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let link = shown_link_path(&res.text().await.unwrap());

    // Each tenant's scope sees exactly its own links; outside any scope there are none.
    let mut owner_conn = app.owner_conn().await;
    for slug in ["lumi", "nordpeak"] {
        let tenant = app.tenant_id(slug).await;
        let stored: i64 =
            sqlx::query_scalar("SELECT count(*) FROM one_time_links WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_one(&mut owner_conn)
                .await
                .unwrap();
        let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM one_time_links")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, stored, "{slug}");
        assert!(slug != "lumi" || seen >= 1);
    }
    let outside: i64 = sqlx::query_scalar("SELECT count(*) FROM one_time_links")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(outside, 0, "outside any scope");

    // The visitor with the link (no session, no tenant) still sets a password and logs in.
    let visitor = app.client();
    assert_eq!(app.status_of(&visitor, &link).await, StatusCode::OK);
    let res = app
        .post_form(
            &visitor,
            &link,
            &[
                ("password", "ma-ke-password-1"),
                ("password_confirm", "ma-ke-password-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.login("ma.ke@lumi-home.example", "ma-ke-password-1")
        .await;
}

#[tokio::test]
async fn a_post_whose_origin_has_another_scheme_than_the_server_is_refused() {
    let app = TestApp::with_demo().await;
    let host = app.addr.to_string();
    let login = |origin: &'static str, header: &'static str, scheme: &str| {
        let app = &app;
        let value = format!("{scheme}://{host}{origin}");
        async move {
            app.client()
                .post(app.url("/login"))
                .header(header, value)
                .form(&[("email", OWNER_LUMI.0), ("password", OWNER_LUMI.1)])
                .send()
                .await
                .unwrap()
        }
    };
    // This server is plain http: the same host and port over https is another origin.
    let res = login("", "Origin", "https").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("没有权限"));
    assert_eq!(
        login("/login", "Referer", "https").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        login("", "Origin", "http").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login("/login", "Referer", "http").await.status(),
        StatusCode::SEE_OTHER
    );

    // Served behind TLS (secure cookies), a plain-http origin is the other one.
    let mut config = Config::for_tests(app.database_url.clone());
    config.cookie_secure = true;
    let tls = TestApp::serve_with(app.db.clone(), app.database_url.clone(), config).await;
    let post = |scheme: &str| {
        let tls = &tls;
        let origin = format!("{scheme}://{}", tls.addr);
        async move {
            tls.client()
                .post(tls.url("/login"))
                .header("Origin", origin)
                .form(&[("email", OWNER_LUMI.0), ("password", OWNER_LUMI.1)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(post("http").await, StatusCode::FORBIDDEN);
    assert_eq!(post("https").await, StatusCode::SEE_OTHER);
}
