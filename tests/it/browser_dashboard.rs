//! In real Chromium: a seller opens the demo's running campaign overview, sees its charts (SVG
//! with an accessible title) and the per-creator table, sorts it; and a tracked link of the
//! campaign answers 302 to a `.invalid` product with its UTM parameters (checked with a client
//! that does not follow redirects: nothing leaves the machine).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::browser::Browser;
use crate::support::*;

const BROWSER_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_opens_the_campaign_overview_sees_charts_sorts_creators_and_a_link_redirects() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let (campaign, slug): (Uuid, String) = sqlx::query_as(
        "SELECT c.id, l.link_slug FROM campaigns c JOIN collaborations l \
           ON l.tenant_id = c.tenant_id AND l.campaign_id = c.id \
         WHERE c.tenant_id = $1 AND c.state = 'running' ORDER BY l.id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let browser = Browser::start("en").await;
    browser.login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    browser.wait_for_path("/t/lumi/").await;
    browser
        .client
        .goto(&app.url(&format!("/t/lumi/campaigns/{campaign}/dashboard")))
        .await
        .unwrap();
    let heading = browser.text_of("[data-testid=dashboard-heading]").await;
    assert!(heading.starts_with("Campaign overview"), "{heading}");
    for id in ["views", "clicks", "gmv"] {
        let chart = browser
            .client
            .find(Locator::Css(&format!("svg[data-testid=chart-{id}]")))
            .await
            .unwrap_or_else(|e| panic!("chart {id}: {e}"));
        let title = chart
            .find(Locator::Css("title"))
            .await
            .unwrap()
            .html(true)
            .await
            .unwrap();
        assert!(!title.trim().is_empty(), "chart {id} has a title");
        assert!(chart.find(Locator::Css("path, polyline")).await.is_ok());
    }
    // Axis text reads at 1280 px wide (issue 13 item 6): every label at least 11 px on screen,
    // the SVG's font size times the scale it is drawn at.
    let smallest = browser
        .client
        .execute(
            "const px = [...document.querySelectorAll('svg.chart-svg text')]
               .filter(t => t.textContent.trim() !== '')
               .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
             return px.length ? Math.min(...px) : 0;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(smallest >= 11.0, "axis text drawn at {smallest:.1} px");
    let rows = browser
        .client
        .find_all(Locator::Css("[data-testid=creator-table] tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "the running demo campaign has two creators");
    browser
        .click("[data-testid=creator-table] th a[data-sort=views]")
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = browser.client.current_url().await.unwrap();
        if url.query().is_some_and(|q| q.contains("sort=views")) {
            break;
        }
        assert!(Instant::now() < deadline, "sorting by views did not load");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sorted = browser
        .client
        .find(Locator::Css("th[aria-sort=descending] a[data-sort=views]"))
        .await;
    assert!(sorted.is_ok(), "the views column says it orders the table");
    let first = browser
        .client
        .find(Locator::Css("[data-testid=creator-table] tbody tr"))
        .await
        .unwrap()
        .attr("data-handle")
        .await
        .unwrap()
        .unwrap_or_default();
    // The creator with a post has views; the one who has not posted yet comes second.
    assert!(!first.is_empty());
    browser.close().await;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .get(app.url(&format!("/r/{slug}")))
        .header(reqwest::header::USER_AGENT, BROWSER_UA)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let target =
        url::Url::parse(res.headers()[reqwest::header::LOCATION].to_str().unwrap()).unwrap();
    assert!(
        target.host_str().unwrap_or("").ends_with(".invalid"),
        "{target}"
    );
    assert!(
        target
            .query_pairs()
            .any(|(k, v)| k == "utm_source" && v == "tiktok"),
        "{target}"
    );
}
