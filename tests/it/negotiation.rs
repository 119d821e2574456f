//! Errors answer each front door in its own form: a page, an htmx partial, or problem+json.

use crate::support::*;

#[tokio::test]
async fn an_error_is_a_page_for_a_browser_a_partial_for_htmx_and_problem_json_for_a_program() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let page = client
        .get(app.url("/no/such/page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<html") && html.contains("error-code"),
        "{html}"
    );

    let partial = client
        .get(app.url("/no/such/page"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), 404);
    let html = partial.text().await.unwrap();
    assert!(
        !html.contains("<html") && html.contains("data-testid=\"problem\""),
        "{html}"
    );

    let json = client
        .get(app.url("/no/such/page"))
        .header("accept", "application/json")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 404);
    assert_eq!(
        json.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert_eq!(body["title"], "Page not found");
}

#[tokio::test]
async fn a_json_request_to_a_failing_form_gets_problem_json_with_the_field_named_and_htmx_the_partial()
 {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let campaign = app.campaign_in("lumi", "shortlist_sent").await;
    let entry = crate::actions_campaigns::undecided_entries(&app, "lumi", campaign).await[0];
    let path = format!("/t/lumi/campaigns/{campaign}/shortlist/{entry}");
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let reject = [("decision", "reject"), ("reason", "")];

    // A program: 422 problem+json naming the field and why.
    let res = owner
        .post(app.url(&path))
        .header("accept", "application/json")
        .header("accept-language", "en")
        .form(&reject)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], 422);
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"], "reason");
    assert_eq!(errors[0]["code"], "shortlist.error.reason_required");
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Say why you reject")),
        "{body}"
    );

    // htmx: just the card, with the message in it.
    let res = owner
        .post(app.url(&path))
        .header("hx-request", "true")
        .form(&reject)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let card = res.text().await.unwrap();
    assert!(
        !card.contains("<html") && card.contains(r#"data-testid="card-error""#),
        "{card}"
    );
    assert!(card.contains("拒绝时请写明原因"), "{card}");

    // A browser without script: the whole page again, 422, with the message.
    let res = owner
        .post(app.url(&path))
        .form(&reject)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<html") && page.contains("拒绝时请写明原因"),
        "the page"
    );

    // Nothing was decided by any of that.
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let decision: Option<String> =
        sqlx::query_scalar("SELECT decision FROM shortlist_entries WHERE id = $1")
            .bind(entry)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(decision, None);
}
