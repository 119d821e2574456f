//! Settlement in real Chromium (issue 16): finance enters the month's rate, computes the draft
//! and sends it to review; a second finance person finalizes it and exports it; the seller's
//! owner downloads the very same file from the seller's pages.

use serde_json::json;

use crate::browser::Browser;
use crate::settlement::{FINANCE2, Fx, terms};
use crate::support::*;

impl Browser {
    /// Downloads `href` with the browser's own session (as the link would) and answers the
    /// SHA-256 of the bytes in hex and whether they start with a UTF-8 BOM.
    async fn download_digest(&self, css: &str) -> (String, bool) {
        let out = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const href = document.querySelector(arguments[0]).getAttribute('href');
                 fetch(href, {credentials: 'same-origin'})
                   .then(r => r.arrayBuffer())
                   .then(async buf => {
                     const bytes = new Uint8Array(buf);
                     const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
                     done({
                       hex: Array.from(digest).map(b => b.toString(16).padStart(2, '0')).join(''),
                       bom: bytes[0] === 0xEF && bytes[1] === 0xBB && bytes[2] === 0xBF,
                       size: bytes.length,
                     });
                   })
                   .catch(e => done({error: String(e)}));",
                vec![json!(css)],
            )
            .await
            .unwrap();
        assert!(out.get("error").is_none(), "{out}");
        assert!(out["size"].as_u64().unwrap() > 100, "{out}");
        (
            out["hex"].as_str().unwrap().to_string(),
            out["bom"].as_bool().unwrap(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finance_enters_rates_reviews_finalizes_and_exports_and_the_seller_downloads_the_same_file()
{
    let fx = Fx::new().await;
    let app = &fx.app;
    let a = fx
        .collab(
            0,
            "published",
            "2026-09-02T10:00:00+08:00",
            terms(Some(("600.00", "USD")), "0", 1),
        )
        .await;
    fx.post(a, "2026-09-10T12:00:00+08:00").await;
    let zh = sextant::web::lang::Lang::parse("zh-CN").unwrap();
    let period = "/finance/t/lumi/periods/2026-09";

    let b = Browser::start("zh-CN").await;
    b.login(app, FINANCE.0, FINANCE.1).await;
    // The draft says which rate is missing.
    b.client.goto(&app.url(period)).await.unwrap();
    b.click("[data-testid=compute]").await;
    b.wait_for_text(
        "[data-testid=settlement-status]",
        &zh.t("settlement.status.draft"),
    )
    .await;
    assert!(
        b.text_of("[data-testid=missing-rates]")
            .await
            .contains("USD")
    );
    // The month's rate, entered on the FX page.
    b.click("[data-testid=enter-rates]").await;
    b.wait_for_path("/finance/rates").await;
    b.fill("[id='rate.USD.CNY']", "7.1234").await;
    b.click("[data-testid=save-rates]").await;
    b.wait_for_path("/finance/rates").await;
    // Recomputed with the rate: 600 USD fee + 60 service fee = 660 × 7.1234 = 4,701.44 CNY.
    b.client.goto(&app.url(period)).await.unwrap();
    b.click("[data-testid=compute]").await;
    // (WebDriver reads the no-break space between code and amount as a space.)
    b.wait_for_text("[data-testid=total-seller]", "CNY 4,701.44")
        .await;
    b.click("[data-testid=send-to-review]").await;
    b.wait_for_text(
        "[data-testid=settlement-status]",
        &zh.t("settlement.status.review"),
    )
    .await;

    // The checker: a second finance person.
    b.logout_and_login(app, FINANCE2.0, FINANCE2.1).await;
    b.client.goto(&app.url(period)).await.unwrap();
    b.click("[data-testid=finalize]").await;
    b.wait_for_text(
        "[data-testid=settlement-status]",
        &zh.t("settlement.status.finalized"),
    )
    .await;
    let hash = b.text_of("[data-testid=settlement-hash]").await;
    assert_eq!(hash.len(), 64, "{hash}");
    b.click("[data-testid=verify]").await;
    b.wait_for_text(".flash", &zh.t("settlement.verify.ok"))
        .await;
    let (finance_file, bom) = b.download_digest("[data-testid=export-csv]").await;
    assert!(bom, "UTF-8 with BOM");

    // The seller's owner finds it under Settlements and downloads the same bytes.
    b.logout_and_login(app, OWNER_LUMI.0, OWNER_LUMI.1).await;
    b.client
        .goto(&app.url("/t/lumi/settlements"))
        .await
        .unwrap();
    b.click("[data-period='2026-09'] a").await;
    b.wait_for_text("[data-testid=settlement-hash]", &hash)
        .await;
    let (seller_file, _) = b.download_digest("[data-testid=export-csv]").await;
    assert_eq!(
        seller_file, finance_file,
        "the seller downloads finance's file"
    );
    b.close().await;
}
