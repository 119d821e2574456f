//! Matching weights (a platform setting) and the ranked candidates for a campaign.

use reqwest::StatusCode;

use crate::support::*;

async fn weights(app: &TestApp) -> sextant::matching::domain::Weights {
    let mut conn = app.db.pool().acquire().await.unwrap();
    sextant::matching::settings::current(&mut conn)
        .await
        .unwrap()
}

fn form(values: [&'static str; 6]) -> Vec<(&'static str, &'static str)> {
    [
        "audience",
        "engagement",
        "category",
        "style",
        "price",
        "track_record",
    ]
    .into_iter()
    .zip(values)
    .collect()
}

#[tokio::test]
async fn an_admin_changes_the_matching_weights_and_bad_weights_are_refused() {
    let app = TestApp::with_demo().await;
    assert_eq!(
        weights(&app).await,
        sextant::matching::domain::Weights::default()
    );
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let page = app.get_ok(&admin, "/admin/matching-weights").await;
    assert!(page.contains(r#"value="30""#));

    for (values, message) in [
        (
            ["30", "20", "15", "10", "10", "5"],
            "六项权重合计必须等于 100。",
        ),
        (
            ["-10", "40", "15", "10", "10", "35"],
            "请输入不小于 0 的数字。",
        ),
        (
            ["abc", "20", "15", "10", "10", "15"],
            "请输入不小于 0 的数字。",
        ),
    ] {
        let res = app
            .post_form(&admin, "/admin/matching-weights", &form(values))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(
        weights(&app).await,
        sextant::matching::domain::Weights::default()
    );

    let res = app
        .post_form(
            &admin,
            "/admin/matching-weights",
            &form(["40", "20", "10", "10", "5", "15"]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let w = weights(&app).await;
    assert_eq!((w.audience, w.price), (40.0, 5.0));
    let audit = app.audit_of("matching_weights").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1.as_ref().unwrap()["audience"], 30.0);
    assert_eq!(audit[0].2.as_ref().unwrap()["audience"], 40.0);

    for (email, password) in [ACCOUNT_MANAGER, FINANCE, OWNER_LUMI] {
        let client = app.login(email, password).await;
        assert_eq!(
            app.status_of(&client, "/admin/matching-weights").await,
            StatusCode::FORBIDDEN
        );
        let res = app
            .post_form(
                &client,
                "/admin/matching-weights",
                &form(["40", "20", "10", "10", "5", "15"]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}
