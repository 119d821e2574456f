//! Getting in by mail (issue 13 item 9): with `SEXTANT_MAIL` set (here a folder: nothing leaves
//! the machine), links owners and admins issue are mailed instead of shown, and a person who
//! forgot their password gets a link without the page ever saying whether the account exists.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use sextant::config::Config;
use sextant::db::Db;

use crate::support::*;

/// A demo app whose mail goes to a fresh folder.
async fn app_with_mail() -> (TestApp, PathBuf) {
    let url = fresh_database().await;
    let db = Db::connect(&url, 5).await.expect("connect");
    let dir = std::env::temp_dir().join(format!("sextant-outbox-{}", uuid::Uuid::now_v7()));
    let mut config = Config::for_tests(url.clone());
    config.mail = Some(format!("file://{}", dir.display()));
    let app = TestApp::serve_with(db, url, config).await;
    sextant::seed::seed_demo(&app.db, &app.state.passwords)
        .await
        .expect("seed demo data");
    (app, dir)
}

/// The messages in the outbox, oldest first (mail is sent after the answer: wait a little).
async fn outbox(dir: &Path, at_least: usize) -> Vec<String> {
    for _ in 0..100 {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        if files.len() >= at_least {
            files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
            // Each message as its recipient and its decoded text.
            return files
                .iter()
                .map(|p| {
                    let raw = std::fs::read(p).unwrap();
                    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
                    let to = m
                        .to()
                        .and_then(|a| a.first())
                        .and_then(|a| a.address())
                        .unwrap_or_default()
                        .to_string();
                    format!("To: {to}\n{}", m.body_text(0).unwrap_or_default())
                })
                .collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Vec::new()
}

fn link_in(eml: &str) -> String {
    let start = eml.find("/set-password/").expect("a link");
    eml[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '-')
        .collect()
}

#[tokio::test]
async fn a_forgotten_password_is_mailed_and_the_page_never_says_whether_the_account_exists() {
    let (app, dir) = app_with_mail().await;
    let visitor = app.client();
    let login = visitor.get(app.url("/login")).send().await.unwrap();
    assert!(
        login
            .text()
            .await
            .unwrap()
            .contains(r#"href="/forgot-password""#)
    );

    // Bad input: the message next to the field, nothing sent.
    for bad in ["", "not-an-address", "a\u{0}b@x.invalid"] {
        let res = app
            .post_form(&visitor, "/forgot-password", &[("email", bad)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(res.text().await.unwrap().contains(r#"data-field="email""#));
    }

    // An account that exists and one that does not: the same answer.
    let ask = |email: &'static str| {
        let visitor = app.client();
        let url = app.url("/forgot-password");
        async move {
            let res = visitor
                .post(url)
                .header("Accept-Language", "en")
                .form(&[("email", email)])
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (known_status, known) = ask("operator@lumi-home.example").await;
    let (unknown_status, unknown) = ask("nobody@lumi-home.example").await;
    assert_eq!(
        (known_status, unknown_status),
        (StatusCode::OK, StatusCode::OK)
    );
    let sent = |page: &str| {
        let i = page
            .find(r#"data-testid="forgot-sent""#)
            .expect("the sent notice");
        page[i..i + page[i..].find("</p>").unwrap()].to_string()
    };
    assert_eq!(sent(&known), sent(&unknown));

    // Only the real account got mail; its link sets a password that then logs in.
    let mails = outbox(&dir, 1).await;
    assert_eq!(mails.len(), 1, "one message");
    assert!(mails[0].contains("To: operator@lumi-home.example"));
    let link = link_in(&mails[0]);
    let res = app
        .post_form(
            &visitor,
            &link,
            &[
                ("password", "a-brand-new-password-1"),
                ("password_confirm", "a-brand-new-password-1"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let res = app
        .post_login(
            &app.client(),
            OPERATOR_LUMI.0,
            "a-brand-new-password-1",
            None,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the new password logs in"
    );
    // The link works once.
    let again = visitor.get(app.url(&link)).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::GONE);

    // Each request counts with the login's throttle: after the limit, a pause, for any address.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = ask("viewer@lumi-home.example").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn reset_links_owners_and_admins_issue_are_mailed_not_shown_when_mail_is_on() {
    let (app, dir) = app_with_mail().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let viewer = app.user_id(VIEWER_LUMI.0).await;
    let res = app
        .post_form(&owner, &format!("/t/lumi/members/{viewer}/reset-link"), &[])
        .await;
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"data-testid="link-mailed""#), "{page}");
    assert!(!page.contains("/set-password/"), "the link is not shown");
    let mails = outbox(&dir, 1).await;
    assert!(mails[0].contains("To: viewer@lumi-home.example"));
    assert!(mails[0].contains("/set-password/"));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn without_mail_the_forgot_page_says_whom_to_ask_and_issued_links_are_shown() {
    let app = TestApp::with_demo().await;
    let page = app
        .client()
        .get(app.url("/forgot-password"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-testid="forgot-no-mail""#));
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let viewer = app.user_id(VIEWER_LUMI.0).await;
    let page = app
        .post_form(&owner, &format!("/t/lumi/members/{viewer}/reset-link"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-testid="one-time-link-url""#));
}
