//! The scorecard editor in real Chromium (issue 15): the owner adds a dimension to a new version
//! (previewed first), a rater sees it on the next rating, and a rating opened before still shows
//! its own version.

use std::time::Duration;

use fantoccini::Locator;
use uuid::Uuid;

use crate::browser::Browser;
use crate::support::*;

impl Browser {
    async fn click_at(&self, css: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing at {css}: {e}"));
        self.click_centred(&el).await;
    }

    async fn present(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    async fn wait_present(&self, css: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
            if self.present(css).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never appeared");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_adds_a_dimension_and_the_next_rating_has_it_while_the_earlier_keeps_its_version()
{
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    let collabs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT l.id FROM collaborations l JOIN campaigns k ON k.tenant_id = l.tenant_id \
           AND k.id = l.campaign_id WHERE l.tenant_id = $1 AND k.state = 'evaluating' \
           AND EXISTS (SELECT 1 FROM posts p WHERE p.collaboration_id = l.id) ORDER BY l.id LIMIT 2",
    )
    .bind(lumi)
    .fetch_all(&mut c)
    .await
    .unwrap();
    let (earlier, next) = (collabs[0], collabs[1]);
    let rating = |id: Uuid| format!("/t/lumi/collaborations/{id}/rating");

    let b = Browser::start("zh-CN").await;
    b.login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    // A rating opened under version 1, the owner asked to rate it.
    b.client.goto(&app.url(&rating(earlier))).await.unwrap();
    b.click_at("[data-testid=open-rating]").await;
    b.wait_present("[data-testid=assign-raters]").await;
    let me = app.user_id(OWNER_LUMI.0).await;
    b.click_at(&format!("input[name=rater][value='{me}']"))
        .await;
    b.click_at("[data-testid=assign-raters]").await;
    b.wait_present("[data-testid=scorecard]").await;
    assert!(
        b.text_of("[data-testid=template-version]")
            .await
            .ends_with('1')
    );

    // The owner makes version 2: one more dimension, its weight taken from content quality.
    b.client
        .goto(&app.url("/t/lumi/settings/scorecard"))
        .await
        .unwrap();
    b.click_at("[data-testid=new-version]").await;
    b.wait_present("[data-testid=scorecard-form]").await;
    let rows = b
        .client
        .find_all(Locator::Css(".dimension-row"))
        .await
        .unwrap()
        .len();
    b.click_at("[data-testid=add-dimension]").await;
    let new = rows; // the new row's index
    b.wait_present(&format!("#d{new}_label_zh")).await;
    b.fill(&format!("#d{new}_label_zh"), "售后口碑").await;
    b.fill(&format!("#d{new}_label_en"), "After-sales word of mouth")
        .await;
    b.fill(&format!("#d{new}_weight"), "6").await;
    b.fill("#d0_weight", "10").await;
    for level in 1..=5 {
        b.fill(
            &format!("#d{new}_rubric_zh_{level}"),
            &format!("售后第 {level} 级：差评与退货"),
        )
        .await;
        b.fill(
            &format!("#d{new}_rubric_en_{level}"),
            &format!("After-sales level {level}: reviews and returns"),
        )
        .await;
    }
    b.click_at("[data-testid=preview]").await;
    b.wait_present("[data-testid=scorecard-preview]").await;
    let preview = b.text_of("[data-testid=scorecard-preview]").await;
    assert!(
        preview.contains("售后口碑") && preview.contains("售后第 3 级：差评与退货"),
        "{preview}"
    );
    b.click_at("[data-testid=save-version]").await;
    b.wait_for_path("/t/lumi/settings/scorecard/2").await;

    // The next rating uses version 2: the rater's form has the new dimension.
    b.client.goto(&app.url(&rating(next))).await.unwrap();
    b.click_at("[data-testid=open-rating]").await;
    b.wait_present("[data-testid=assign-raters]").await;
    b.click_at(&format!("input[name=rater][value='{me}']"))
        .await;
    b.click_at("[data-testid=assign-raters]").await;
    b.wait_present("[data-testid=scorecard]").await;
    assert!(
        b.text_of("[data-testid=template-version]")
            .await
            .ends_with('2')
    );
    let row = "[data-testid=scorecard] tr[data-dimension=after_sales_word_of_mouth]";
    assert!(
        b.present(row).await,
        "the new dimension is on the next rating"
    );
    assert!(b.text_of(row).await.contains("售后第 5 级：差评与退货"));

    // The earlier rating still shows its own version, without it.
    b.client.goto(&app.url(&rating(earlier))).await.unwrap();
    b.wait_present("[data-testid=scorecard]").await;
    assert!(
        b.text_of("[data-testid=template-version]")
            .await
            .ends_with('1')
    );
    assert!(!b.present(row).await, "the earlier rating keeps version 1");
    b.close().await;
}
