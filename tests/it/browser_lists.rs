//! Lists as UX.md asks, in a real Chromium (issue 13 item 4): the campaign list filters and
//! sorts through its URL; the matching page pages through the ranking and counts what is picked
//! across pages.

use std::time::Duration;

use fantoccini::Locator;

use crate::browser::Browser;
use crate::matching::campaign_in_matching;
use crate::support::*;
use sextant::web::lang::Lang;

impl Browser {
    /// The text of every element matching `css`, in page order.
    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(el.text().await.unwrap());
        }
        out
    }

    async fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(el.attr(attr).await.unwrap().unwrap_or_default());
        }
        out
    }

    /// Clicks the element at `css` after scrolling it to the middle of the window.
    async fn click_centred_at(&self, css: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap();
        self.click_centred(&el).await;
    }

    /// Waits until the text at `css` becomes `wanted` (script or a page load changes it).
    async fn wait_until_text(&self, css: &str, wanted: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while std::time::Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = el.text().await
            {
                if t.trim() == wanted {
                    return;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: wanted {wanted:?}, last {last:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_campaign_list_filters_by_status_and_sorts_by_its_columns() {
    let app = TestApp::with_demo_campaigns().await;
    for lang in ["zh-CN", "en"] {
        campaign_list_in(&app, lang).await;
    }
}

/// The campaign list's filter and sorting in one language (words from the catalogue).
async fn campaign_list_in(app: &TestApp, code: &str) {
    let lang = Lang::parse(code).unwrap();
    let info = |total: usize| {
        lang.t_with(
            "listing.page_info",
            &[("page", "1"), ("pages", "1"), ("total", &total.to_string())],
        )
    };
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let running: Vec<String> =
        sqlx::query_scalar("SELECT code FROM campaigns WHERE state = 'running' ORDER BY code")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    assert!(!running.is_empty() && all > running.len() as i64);
    let all = all as usize;

    let b = Browser::start(code).await;
    b.login(app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    b.client.goto(&app.url("/t/lumi/campaigns")).await.unwrap();
    b.wait_until_text("[data-testid=page-info]", &info(all))
        .await;

    // Filter: running only, through the form; the filter lands in the URL.
    b.select("#status", "running").await;
    b.click("[data-testid=apply-filters]").await;
    b.wait_until_text("[data-testid=page-info]", &info(running.len()))
        .await;
    let url = b.client.current_url().await.unwrap();
    assert!(
        url.query().unwrap_or("").contains("status=running"),
        "{url}"
    );
    let states = b
        .texts("[data-testid=campaigns-table] tbody td:nth-child(3) .chip")
        .await;
    let label = lang.t("campaign.state.running");
    assert!(states.iter().all(|s| *s == label), "{states:?}");

    // Sort by code, ascending then descending: the rows follow.
    b.click("th a[data-sort=code]").await;
    b.wait_until_text("th[aria-sort=ascending] a", &lang.t("campaigns.code"))
        .await;
    let codes = b
        .texts("[data-testid=campaigns-table] tbody td:first-child")
        .await;
    assert_eq!(codes, running, "ascending by code");
    b.click("th a[data-sort=code]").await;
    b.wait_until_text("th[aria-sort=descending] a", &lang.t("campaigns.code"))
        .await;
    let codes = b
        .texts("[data-testid=campaigns-table] tbody td:first-child")
        .await;
    let mut reversed = running.clone();
    reversed.reverse();
    assert_eq!(codes, reversed, "descending by code");
    // The filter survived the sorting.
    let url = b.client.current_url().await.unwrap();
    assert!(
        url.query().unwrap_or("").contains("status=running"),
        "{url}"
    );

    // Clear: every campaign again, and sorting by GMV puts the largest first, no-figure last.
    b.click("[data-testid=clear-filters]").await;
    b.wait_until_text("[data-testid=page-info]", &info(all))
        .await;
    b.click("th a[data-sort=gmv]").await;
    b.wait_until_text("th[aria-sort=descending] a", &lang.t("performance.kpi.gmv"))
        .await;
    let gmv = b
        .texts("[data-testid=campaigns-table] td[data-col=gmv]")
        .await;
    let values: Vec<Option<f64>> = gmv
        .iter()
        .map(|t| {
            let first = t.lines().next().unwrap_or("");
            let digits: String = first
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            digits.parse().ok()
        })
        .collect();
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    assert!(!known.is_empty(), "{gmv:?}");
    assert!(
        known.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {known:?}"
    );
    let first_none = values
        .iter()
        .position(Option::is_none)
        .unwrap_or(values.len());
    assert!(
        values[first_none..].iter().all(Option::is_none),
        "campaigns without figures last: {gmv:?}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matching_page_pages_through_the_ranking_and_counts_picks_across_pages() {
    matching_pages_in("zh-CN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matching_page_pages_and_counts_picks_in_english() {
    matching_pages_in("en").await;
}

/// The matching page's paging, picks, note and sort in one language, ending with the send.
async fn matching_pages_in(code: &str) {
    let lang = Lang::parse(code).unwrap();
    // "Page 2 of " / "第 2 / ": the page info up to its page count.
    let page_prefix = |page: &str| {
        let info = lang.t_with("listing.page_info", &[("page", page)]);
        info[..info.find("%{pages}").unwrap()].to_string()
    };
    // A pool large enough for more than one page of candidates.
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 400,
        campaigns: false,
    })
    .await;
    let path = campaign_in_matching(&app).await;
    let b = Browser::start(code).await;
    b.login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    b.client
        .goto(&app.url(&format!("{path}/matching")))
        .await
        .unwrap();
    b.wait_until_text("[data-testid=selected-count]", "0").await;
    let ranks = b.texts("[data-testid=rank]").await;
    assert_eq!(ranks.len(), 25, "a page of 25");
    assert_eq!(ranks.first().map(String::as_str), Some("1"));
    let info = b.text_of("[data-testid=page-info]").await;
    assert!(info.starts_with(&page_prefix("1")), "{info}");

    // Two picks on page 1, one with a note: the footer counts them as they are ticked.
    let page1 = b
        .attrs(
            "[data-testid=candidates] input[type=checkbox][name=pick]",
            "value",
        )
        .await;
    for id in &page1[..2] {
        b.click_centred_at(&format!("input[name=pick][value='{id}']"))
            .await;
    }
    b.wait_until_text("[data-testid=selected-count]", "2").await;
    b.fill(&format!("#note-{}", page1[0]), "Strong kitchen audience")
        .await;

    // Page 2: the ranking goes on, and the two picks are still counted.
    b.click_centred_at("[data-testid=next-page]").await;
    b.wait_until_text("[data-testid=rank]", "26").await;
    assert!(
        b.text_of("[data-testid=page-info]")
            .await
            .starts_with(&page_prefix("2"))
    );
    b.wait_until_text("[data-testid=selected-count]", "2").await;
    let page2 = b
        .attrs(
            "[data-testid=candidates] input[type=checkbox][name=pick]",
            "value",
        )
        .await;
    assert!(page2.iter().all(|id| !page1.contains(id)), "another slice");
    b.click_centred_at(&format!("input[name=pick][value='{}']", page2[0]))
        .await;
    b.wait_until_text("[data-testid=selected-count]", "3").await;

    // Back to page 1: what was ticked there is still ticked, the note still written.
    b.click_centred_at("[data-testid=prev-page]").await;
    b.wait_until_text("[data-testid=rank]", "1").await;
    b.wait_until_text("[data-testid=selected-count]", "3").await;
    for id in &page1[..2] {
        let el = b
            .client
            .find(Locator::Css(&format!("input[name=pick][value='{id}']")))
            .await
            .unwrap();
        assert_eq!(
            el.prop("checked").await.unwrap().as_deref(),
            Some("true"),
            "{id}"
        );
    }
    let note = b
        .client
        .find(Locator::Css(&format!("#note-{}", page1[0])))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(note.as_deref(), Some("Strong kitchen audience"));

    // Sorted by followers, largest first, the picks still held.
    b.click_centred_at("button[data-sort=followers]").await;
    b.wait_until_text(
        "th[aria-sort=descending] button",
        &lang.t("creators.followers"),
    )
    .await;
    b.wait_until_text("[data-testid=selected-count]", "3").await;
    let followers: Vec<i64> = b
        .texts("[data-testid=candidates] tbody td:nth-child(6)")
        .await
        .iter()
        .map(|t| t.replace(',', "").trim().parse().unwrap())
        .collect();
    assert!(followers.windows(2).all(|w| w[0] >= w[1]), "{followers:?}");

    // Send: the shortlist holds the three, the note with its creator.
    b.click_centred_at("[data-testid=send-shortlist]").await;
    b.wait_for_path(&path).await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let campaign: uuid::Uuid = path.rsplit('/').next().unwrap().parse().unwrap();
    let entries: Vec<(uuid::Uuid, Option<String>)> =
        sqlx::query_as("SELECT creator_id, note FROM shortlist_entries WHERE campaign_id = $1")
            .bind(campaign)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let mut ids: Vec<String> = entries.iter().map(|(id, _)| id.to_string()).collect();
    ids.sort();
    let mut expected = vec![page1[0].clone(), page1[1].clone(), page2[0].clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let noted = entries
        .iter()
        .find(|(id, _)| id.to_string() == page1[0])
        .unwrap();
    assert_eq!(noted.1.as_deref(), Some("Strong kitchen audience"));
    b.close().await;
}
