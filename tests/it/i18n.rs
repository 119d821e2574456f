//! zh-CN by default, English on request, and a switch that sticks.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn chinese_by_default_english_with_accept_language() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let zh = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains(r#"<html lang="zh-CN">"#));
    assert!(zh.contains("登录 Sextant"));

    let en = client
        .get(app.url("/login"))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains(r#"<html lang="en">"#));
    assert!(en.contains("Log in to Sextant"));

    let other = client
        .get(app.url("/login"))
        .header("Accept-Language", "fr-FR,de;q=0.8")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        other.contains("登录 Sextant"),
        "unsupported languages fall back to Chinese"
    );
}

#[tokio::test]
async fn the_language_switch_sticks_and_wins_over_accept_language() {
    let app = TestApp::with_demo().await;
    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = client
        .post(app.url("/lang"))
        .form(&[("lang", "en"), ("next", "/t/lumi/shops")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/t/lumi/shops");
    let page = client
        .get(app.url("/t/lumi/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Home · 露米家居 Lumi Home"), "{page}");
    assert!(page.contains("Settlement currency"));
    // Still English on the next page, even when the browser prefers Chinese.
    let page = client
        .get(app.url("/t/lumi/shops"))
        .header("Accept-Language", "zh-CN")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Export date order"));

    // And back to Chinese; a hostile next is ignored.
    let res = client
        .post(app.url("/lang"))
        .form(&[("lang", "zh-CN"), ("next", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/");
    let page = client
        .get(app.url("/t/lumi/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("首页 · 露米家居 Lumi Home"));
}

#[tokio::test]
async fn error_pages_speak_the_visitors_language() {
    let app = TestApp::with_demo().await;
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let res = viewer
        .get(app.url("/t/lumi/members"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("Not allowed"));
    let res = viewer.get(app.url("/t/lumi/members")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("没有权限"));
}
