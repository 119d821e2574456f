//! Content review and the campaign report in real Chromium (issue 17): the account manager
//! uploads a video and self-checks it, the owner requests changes, v2 is uploaded and approved,
//! the post is published; then the campaign report is printed to PDF with Chromium's own
//! print-to-PDF and its text (pdftotext) holds the campaign code and every creator's handle.

use std::process::Command;
use std::time::Duration;

use fantoccini::Locator;
use fantoccini::wd::PrintConfiguration;
use uuid::Uuid;

use crate::browser::Browser;
use crate::support::*;

impl Browser {
    /// The element once it exists (the page after a click may still be loading).
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Adds a version of the final video (English) with `file`.
    async fn upload_final_video(&self, file: &std::path::Path) {
        self.element("[data-testid=deliverable-form]").await;
        self.select("#d-kind", "final_video").await;
        self.select("#d-lang", "en").await;
        self.element("input#d-file[type=file]")
            .await
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        self.click("[data-testid=add-deliverable]").await;
    }

    /// Ticks every checklist item of the self-check form and submits it.
    async fn self_check_all(&self) {
        self.element("[data-testid=self-check-form]").await;
        let boxes = self
            .client
            .find_all(Locator::Css(
                "[data-testid=self-check-form] input[name=item]",
            ))
            .await
            .unwrap();
        assert!(boxes.len() >= 5, "the checklist that applies");
        for b in boxes {
            self.click_centred(&b).await;
        }
        let submit = self.element("[data-testid=submit-self-check]").await;
        self.click_centred(&submit).await;
    }

    /// The state of the newest version (its card's `data-state`; "" while the page changes).
    async fn deliverable_state(&self) -> String {
        match self
            .client
            .find(Locator::Css("[data-testid=deliverable]"))
            .await
        {
            Ok(el) => el
                .attr("data-state")
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the first element matching `css` has `part` in its text.
    async fn wait_for_part(&self, css: &str, part: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while std::time::Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = el.text().await
            {
                if text.contains(part) {
                    return;
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: expected {part:?} in it, last saw {last:?}");
    }

    async fn wait_for_state(&self, wanted: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
            if self.deliverable_state().await == wanted {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the deliverable never became {wanted}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_a_video_through_changes_to_approval_publish_and_print_the_campaign_report() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let (collab, campaign, code): (Uuid, Uuid, String) = sqlx::query_as(
        "SELECT c.id, k.id, k.code FROM collaborations c
           JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id
           JOIN tenants t ON t.id = c.tenant_id
          WHERE t.slug = 'lumi' AND c.state = 'accepted' AND k.state = 'running'
          ORDER BY c.created_at LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .expect("an accepted collaboration of a running campaign");
    let handles: Vec<String> = sqlx::query_scalar(
        "SELECT cr.handle FROM collaborations c JOIN creators cr ON cr.id = c.creator_id
          WHERE c.campaign_id = $1 ORDER BY cr.handle",
    )
    .bind(campaign)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("sextant-review-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let video = dir.join("final-cut.mp4");
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    mp4.extend_from_slice(&[0u8; 256]);
    std::fs::write(&video, &mp4).unwrap();
    let collab_path = format!("/t/lumi/collaborations/{collab}");

    let b = Browser::start("zh-CN").await;
    // The owner turns content review on from the collaboration's page.
    b.login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    b.client.goto(&app.url(&collab_path)).await.unwrap();
    let toggle = b.element("[data-testid=toggle-review]").await;
    b.click_centred(&toggle).await;
    let zh = sextant::web::lang::Lang::parse("zh-CN").unwrap();
    b.wait_for_text("[data-testid=review-mode]", &zh.t("review.on"))
        .await;

    // The account manager uploads v1 and self-checks it: the collaboration is in review.
    b.logout_and_login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    b.client.goto(&app.url(&collab_path)).await.unwrap();
    b.upload_final_video(&video).await;
    b.wait_for_state("submitted").await;
    let name = b.text_of("[data-testid=deliverable-name]").await;
    assert!(name.ends_with("_final_video_EN_v1"), "{name}");
    b.self_check_all().await;
    b.wait_for_state("self_checked").await;
    assert!(
        b.client
            .find(Locator::Css("[data-testid=not-you]"))
            .await
            .is_ok(),
        "whoever self-checked cannot cross-review"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM collaborations WHERE id = $1")
        .bind(collab)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(state, "in_review");

    // The owner requests changes.
    b.logout_and_login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    b.client.goto(&app.url(&collab_path)).await.unwrap();
    let form = b.element("[data-testid=cross-review-form]").await;
    let changes = form
        .find(Locator::Css("input[value=request_changes]"))
        .await
        .unwrap();
    b.click_centred(&changes).await;
    form.find(Locator::Css("textarea"))
        .await
        .unwrap()
        .send_keys("前 3 秒先展示产品")
        .await
        .unwrap();
    let submit = b.element("[data-testid=submit-review]").await;
    b.click_centred(&submit).await;
    b.wait_for_state("changes_requested").await;
    b.wait_for_part("[data-testid=review-comment]", "前 3 秒先展示产品")
        .await;

    // The account manager uploads v2 and self-checks it; the owner approves it.
    b.logout_and_login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    b.client.goto(&app.url(&collab_path)).await.unwrap();
    b.upload_final_video(&video).await;
    b.wait_for_part("[data-testid=deliverable-name]", "_final_video_EN_v2")
        .await;
    b.self_check_all().await;
    b.wait_for_state("self_checked").await;
    b.logout_and_login(&app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    b.client.goto(&app.url(&collab_path)).await.unwrap();
    let form = b.element("[data-testid=cross-review-form]").await;
    let approve = form
        .find(Locator::Css("input[value=approve]"))
        .await
        .unwrap();
    b.click_centred(&approve).await;
    let submit = b.element("[data-testid=submit-review]").await;
    b.click_centred(&submit).await;
    b.wait_for_state("approved").await;

    // Published: the post goes in, and no compliance issue is raised.
    b.client
        .goto(&app.url(&format!("{collab_path}/posts/new")))
        .await
        .unwrap();
    b.element("#url").await;
    b.fill(
        "#url",
        "https://www.tiktok.com/@lumi.fan/video/7301234567890124242",
    )
    .await;
    b.set_value("published_at", "2026-11-20T10:00").await;
    b.click("[data-testid=add-post]").await;
    // The post's own page follows.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !b.path().await.starts_with("/t/lumi/posts/") {
        assert!(std::time::Instant::now() < deadline, "the post's page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (state, issues): (String, i64) = sqlx::query_as(
        "SELECT c.state, (SELECT count(*) FROM fulfilment_records f
                           WHERE f.collaboration_id = c.id AND f.kind = 'compliance_issue')
           FROM collaborations c WHERE c.id = $1",
    )
    .bind(collab)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((state.as_str(), issues), ("published", 0));

    // The campaign report, printed to PDF by Chromium (A4), read back with pdftotext.
    b.client
        .goto(&app.url(&format!("/t/lumi/campaigns/{campaign}/report")))
        .await
        .unwrap();
    b.wait_for_part("[data-testid=report-code]", &code).await;
    let pdf = b
        .client
        .print(PrintConfiguration::default())
        .await
        .expect("Chromium prints the page to PDF");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let pdf_path = dir.join("report.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .expect("pdftotext must be installed (apt-get install poppler-utils)");
    assert!(out.status.success(), "pdftotext failed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&code),
        "the campaign code in the PDF:\n{text}"
    );
    for h in &handles {
        assert!(text.contains(&format!("@{h}")), "@{h} in the PDF:\n{text}");
    }
    assert!(
        text.contains("活动报告"),
        "Chinese renders in the PDF:\n{text}"
    );
    assert!(
        !text.contains("下载 XLSX"),
        "the print stylesheet hides the page's buttons"
    );
    b.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
