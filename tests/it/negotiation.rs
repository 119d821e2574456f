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
