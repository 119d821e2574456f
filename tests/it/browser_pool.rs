//! Creator pool upkeep in a real browser (issue 13 item 10): an account manager deactivates a
//! creator from its page and the creator leaves the matching page.

use fantoccini::Locator;

use crate::browser::Browser;
use crate::matching::campaign_in_matching;
use crate::support::*;
use sextant::web::lang::Lang;

#[tokio::test]
async fn an_account_manager_deactivates_a_creator_and_it_leaves_the_matching_page() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: false,
    })
    .await;
    let path = campaign_in_matching(&app).await;
    let matching = format!("{path}/matching");
    // Once in each language, each time with the first candidate the page then shows.
    for code in ["zh-CN", "en"] {
        deactivate_the_first_candidate(&app, &matching, code).await;
    }
}

async fn deactivate_the_first_candidate(app: &TestApp, matching: &str, code: &str) {
    let lang = Lang::parse(code).unwrap();
    let browser = Browser::start(code).await;
    browser
        .login(app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    browser.client.goto(&app.url(matching)).await.unwrap();
    let creator = browser
        .client
        .wait()
        .for_element(Locator::Css("input[name=pick]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .expect("a candidate's id");
    let pick = format!("input[name=pick][value='{creator}']");

    browser
        .client
        .goto(&app.url(&format!("/admin/creators/{creator}")))
        .await
        .unwrap();
    browser
        .fill("#status-reason", "账号已注销 Account closed")
        .await;
    browser.click("[data-testid=pool-status-submit]").await;
    browser
        .wait_for_text(
            "[data-testid=pool-status-state]",
            &lang.t("creators.inactive"),
        )
        .await;
    let change = browser.text_of("[data-testid=pool-status-change]").await;
    assert!(change.contains("账号已注销 Account closed"), "{change}");

    browser.client.goto(&app.url(matching)).await.unwrap();
    browser.text_of("input[name=pick]").await;
    assert!(
        browser.client.find(Locator::Css(&pick)).await.is_err(),
        "the deactivated creator is no longer a candidate"
    );
    browser.close().await;
}
