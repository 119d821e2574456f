//! The seller's home in a real browser (issue 13 item 1): a shortlist waiting for the seller and
//! an overdue post are listed, and their links lead to where each is done.

use crate::browser::Browser;
use crate::home::{clear_deadlines, deadline_passed, waiting_shortlist};
use crate::support::*;
use sextant::web::lang::Lang;

#[tokio::test]
async fn the_sellers_home_lists_a_waiting_shortlist_and_an_overdue_post_and_leads_to_them() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let mut conn = app.owner_conn().await;
    clear_deadlines(&mut conn, tenant).await;
    let overdue = deadline_passed(&mut conn, tenant, 2).await;
    let (campaign, _) = waiting_shortlist(&mut conn, tenant).await;

    for code in ["zh-CN", "en"] {
        let lang = Lang::parse(code).unwrap();
        let browser = Browser::start(code).await;
        browser.login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
        browser.client.goto(&app.url("/t/lumi/")).await.unwrap();
        let chip = browser.text_of("[data-testid=need-overdue] .chip").await;
        assert_eq!(
            chip,
            format!(
                "{} 2 {}",
                lang.t("home.overdue.days_before"),
                lang.t("home.overdue.days_after")
            )
        );

        browser.click("[data-testid=need-shortlist] a").await;
        browser
            .wait_for_path(&format!("/t/lumi/campaigns/{campaign}/shortlist"))
            .await;

        browser.client.goto(&app.url("/t/lumi/")).await.unwrap();
        browser.click("[data-testid=need-overdue] a").await;
        browser
            .wait_for_path(&format!("/t/lumi/collaborations/{overdue}"))
            .await;
        browser.close().await;
    }
}
