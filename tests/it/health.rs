//! `/healthz`, and friendly pages when the database is away (with or without a session).

use std::path::PathBuf;

use reqwest::StatusCode;
use sextant::db::Db;
use sextant::db::embedded::{EmbeddedOptions, EmbeddedPostgres};

use crate::support::*;

#[tokio::test]
async fn healthz_is_200_with_the_database_and_503_without() {
    let app = TestApp::spawn().await;
    let res = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A pool whose database is not there (nothing listens on that socket folder).
    let dead = Db::connect_lazy(
        "postgres://postgres@localhost/none?host=/nonexistent-sextant",
        1,
    )
    .unwrap();
    let down = TestApp::serve(dead, "postgres://unused".into()).await;
    let res = down
        .client()
        .get(down.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    // A page that needs the database answers with the friendly 503 page, not a crash.
    let res = down
        .client()
        .post(down.url("/login"))
        .header("Accept-Language", "en")
        .form(&[("email", "a@b.example"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Temporarily unavailable")
    );
}

#[tokio::test]
async fn responses_carry_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.client().get(app.url("/login")).send().await.unwrap();
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.contains_key("x-request-id"));
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("<script>") && !body.contains("style=\""),
        "no inline script or style"
    );
}

#[tokio::test]
async fn static_files_are_served_with_long_cache_headers() {
    let app = TestApp::spawn().await;
    let page = app
        .client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page
        .find("/static/css/sextant.css?v=")
        .expect("stylesheet link");
    let href: String = page[start..].chars().take_while(|c| *c != '"').collect();
    let res = app
        .client()
        .get(app.url(&href))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

/// Starts (or starts again) the private cluster in `root`, off the async runtime.
async fn start_cluster(root: &std::path::Path) -> EmbeddedPostgres {
    let opts = EmbeddedOptions {
        root: root.to_path_buf(),
        ephemeral: true,
    };
    tokio::task::spawn_blocking(move || EmbeddedPostgres::ensure(&opts))
        .await
        .unwrap()
        .expect("start the test's own cluster")
}

#[tokio::test]
async fn a_logged_in_session_gets_the_friendly_503_while_the_database_is_stopped_and_recovers_without_a_restart()
 {
    // A cluster of this test's own (the shared one serves every other test), under /tmp so the
    // postgres system user can reach it when tests run as root.
    let root = PathBuf::from(format!("/tmp/sextant-outage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let pg = start_cluster(&root).await;
    let url = pg.url("sextant");
    sextant::db::create_database_if_missing(&pg.url("postgres"), "sextant")
        .await
        .unwrap();
    sextant::db::migrate(&url).await.unwrap();
    let app = TestApp::serve(Db::connect(&url, 5).await.unwrap(), url).await;
    sextant::seed::seed_demo(&app.db, &app.state.passwords)
        .await
        .unwrap();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    assert_eq!(
        app.status_of(&owner, "/t/lumi/campaigns").await,
        StatusCode::OK
    );

    // The database goes away under the logged-in session.
    let pg = tokio::task::spawn_blocking(move || {
        pg.stop().expect("stop the cluster");
        pg
    })
    .await
    .unwrap();
    for path in [
        "/t/lumi/campaigns",
        "/t/lumi/",
        "/t/lumi/campaigns/new",
        "/",
        "/account/password",
        "/login",
    ] {
        let res = owner
            .get(app.url(path))
            .header("Accept-Language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "GET {path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Temporarily unavailable"),
            "GET {path}: {body}"
        );
    }
    let res = owner
        .post(app.url("/logout"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "POST /logout"
    );
    let res = owner
        .get(app.url("/t/lumi/campaigns"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    // The database comes back; the same server and the same session work again.
    let pg_again = start_cluster(&root).await;
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..150 {
        status = app.status_of(&owner, "/t/lumi/campaigns").await;
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(status, StatusCode::OK, "the session works again");

    app.db.close().await;
    drop(pg);
    tokio::task::spawn_blocking(move || drop(pg_again))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&root);
}
