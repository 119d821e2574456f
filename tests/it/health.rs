//! `/healthz`, and friendly pages when the database is away.

use reqwest::StatusCode;
use sextant::db::Db;

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
