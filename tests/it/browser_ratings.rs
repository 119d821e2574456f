//! In real Chromium (issue 14): the owner records a fulfilment event with an evidence image on a
//! collaboration's page and sees it listed with its evidence; the collaboration's rating opens
//! from its page once the evaluation window is final; the owner asks two raters (owner and
//! operator); each rates blind in their own browser session, the running total following the
//! levels picked and the justification box appearing when every subjective level is the top one
//! (and the server still refusing all-top without one); after the second submission the rating
//! is complete; the creator's tier section shows the new badge and recommendation, and the
//! creator moves up in the matching ranking of another campaign.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use uuid::Uuid;

use crate::browser::Browser;
use crate::support::*;

const SLUG: &str = "lumi";

/// The subjective dimensions of the default template with their weights (SPEC §7).
const SUBJECTIVE: &[(&str, f64)] = &[
    ("content_quality", 16.0),
    ("audience_match", 12.0),
    ("communication", 8.0),
    ("compliance", 8.0),
];

struct Fixture {
    collab: Uuid,
    creator: Uuid,
    /// A creator who fits the campaign in matching exactly as well, tiered A by Lumi.
    rival: Uuid,
    /// The demo campaign in matching (another campaign than the rated one).
    matching: Uuid,
}

/// A collaboration of Lumi's running demo campaign with a post (the demo's window is final),
/// moved to `tracking` with its siblings cancelled (so completing its rating closes the
/// campaign). Its creator, not tiered yet, leads the candidates of the demo campaign in
/// matching; a rival that fits that campaign exactly as well (a copy of the creator's profile)
/// and that Lumi has already tiered A goes ahead of it there.
async fn fixture(app: &TestApp) -> Fixture {
    let tenant = app.tenant_id(SLUG).await;
    let matching = app.campaign_in(SLUG, "matching").await;
    let mut c = app.owner_conn().await;
    let (collab, campaign, creator): (Uuid, Uuid, Uuid) = sqlx::query_as(
        "SELECT l.id, l.campaign_id, l.creator_id FROM collaborations l
           JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
          WHERE l.tenant_id = $1 AND l.state IN ('published', 'tracking') AND k.state = 'running'
            AND EXISTS (SELECT 1 FROM posts p
                         WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id)
          ORDER BY l.id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .expect("a running demo collaboration with a post");
    crate::ratings::last_of_its_campaign(&mut c, collab, campaign).await;
    let rival = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO creators SELECT (jsonb_populate_record(NULL::creators, to_jsonb(c) || \
           jsonb_build_object('id', $2::uuid, 'handle', 'rival.twin', 'display_name', 'Rival twin'))).* \
         FROM creators c WHERE c.id = $1",
    )
    .bind(creator)
    .bind(rival)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO creator_tiers (tenant_id, creator_id, tier, computed_tier, rated_count) \
         VALUES ($1, $2, 'A', 'A', 2)",
    )
    .bind(tenant)
    .bind(rival)
    .execute(&mut c)
    .await
    .unwrap();
    Fixture {
        collab,
        creator,
        rival,
        matching,
    }
}

impl Browser {
    /// Waits until the element exists (a page loaded after a click).
    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until an element matching `css` has `wanted` in its text, on the page that follows a
    /// click: an element of the page being left goes stale under the reader, so it reads again.
    async fn wait_for_containing(&self, css: &str, wanted: &str) -> fantoccini::elements::Element {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while std::time::Instant::now() < deadline {
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await {
                for el in found {
                    match el.text().await {
                        Ok(text) if text.contains(wanted) => return el,
                        Ok(text) => last = text,
                        Err(_) => {}
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {css} with {wanted:?}; last saw {last:?}");
    }

    async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    async fn displayed(&self, css: &str) -> bool {
        self.wait_for(css).await.is_displayed().await.unwrap()
    }

    /// The running total as the page shows it.
    async fn running_total(&self) -> f64 {
        let text = self.text_of("[data-testid=running-total]").await;
        text.parse()
            .unwrap_or_else(|_| panic!("running total {text:?}"))
    }

    /// The creator's place (0 = first) among the candidates of the matching page now shown.
    async fn rank_of(&self, creator: Uuid) -> Option<usize> {
        self.wait_for("[data-testid=candidates]").await;
        let ids = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll(\
                   '[data-testid=candidates] input[name=pick]')).map(e => e.value);",
                vec![],
            )
            .await
            .unwrap();
        let ids: Vec<String> = serde_json::from_value(ids).unwrap();
        ids.iter().position(|id| *id == creator.to_string())
    }

    /// The tier badge of the creator's tier section: (letter, label).
    async fn tier_badge(&self) -> (String, String) {
        let badge = self
            .wait_for("[data-testid=tier-section] [data-testid=tier-badge]")
            .await;
        let letter = badge.attr("data-tier").await.unwrap().unwrap_or_default();
        let label = badge
            .find(Locator::Css(".tier-label"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (letter, label)
    }
}

/// A letter's worth in matching's track-record component (ungraded in the middle).
fn worth(letter: &str) -> f64 {
    match letter {
        "S" => 1.0,
        "A" => 0.8,
        "B" => 0.5,
        "C" => 0.2,
        _ => 0.5,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_two_blind_raters_and_the_creator_moves_up_in_tier_and_in_matching() {
    let app = TestApp::with_demo_campaigns().await;
    let f = fixture(&app).await;
    let collab_path = format!("/t/{SLUG}/collaborations/{}", f.collab);
    let rating_path = format!("{collab_path}/rating");
    let creator_path = format!("/t/{SLUG}/creators/{}", f.creator);
    let matching_path = format!("/t/{SLUG}/campaigns/{}/matching", f.matching);

    // 0. Before: the creator's place in another campaign's matching (as the account manager),
    //    and its tier (as the owner). This browser is the owner's session from here on, and the
    //    account manager's again at the end.
    let owner = Browser::start("en").await;
    owner
        .login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    owner.client.goto(&app.url(&matching_path)).await.unwrap();
    let rank_before = owner
        .rank_of(f.creator)
        .await
        .expect("the creator is a candidate of the campaign in matching");
    let rival_before = owner.rank_of(f.rival).await.expect("the rival too");
    assert!(
        rival_before < rank_before,
        "the rival tiered A is ahead: {rival_before} vs {rank_before}"
    );
    owner
        .logout_and_login(&app, OWNER_LUMI.0, OWNER_LUMI.1)
        .await;
    owner.client.goto(&app.url(&creator_path)).await.unwrap();
    let (tier_before, label_before) = owner.tier_badge().await;
    assert_eq!(
        (tier_before.as_str(), label_before.as_str()),
        ("–", "Not tiered yet")
    );
    let recommendation_before = owner.text_of("[data-testid=tier-recommendation]").await;

    // 1. A fulfilment event with an evidence PNG, through the collaboration page's form.
    owner.client.goto(&app.url(&collab_path)).await.unwrap();
    owner.wait_for("[data-testid=fulfilment-form]").await;
    owner.select("#kind", "slow_response").await;
    owner.select("#severity", "minor").await;
    owner
        .fill("#note", "Answered the brief after four days")
        .await;
    let dir = std::env::temp_dir().join(format!("sextant-evidence-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("chat-screenshot.png");
    std::fs::write(&png, crate::evidence::PNG).unwrap();
    owner
        .wait_for("input#evidence[type=file]")
        .await
        .send_keys(png.to_str().unwrap())
        .await
        .unwrap();
    owner.click("[data-testid=record-fulfilment]").await;
    let record = owner
        .wait_for_containing(
            "[data-testid=fulfilment-record]",
            "Answered the brief after four days",
        )
        .await;
    let link = record
        .find(Locator::Css(&format!("a[href^='/t/{SLUG}/evidence/']")))
        .await
        .expect("the record links its evidence");
    let href = link.attr("href").await.unwrap().unwrap();
    let img = link
        .find(Locator::Css("img"))
        .await
        .expect("an image is shown as a thumbnail");
    assert_eq!(
        img.attr("alt").await.unwrap().as_deref(),
        Some("chat-screenshot.png")
    );
    // The link serves the image back to this tenant's user.
    let fetched = owner
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then(r => r.arrayBuffer().then(b => \
               done([r.status, r.headers.get('content-type'), b.byteLength]))) \
             .catch(e => done(String(e)));",
            vec![json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(
        fetched,
        json!([200, "image/png", crate::evidence::PNG.len()]),
        "{href}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    // 2. The window is final: the rating opens from its page; the owner asks owner + operator.
    owner.click("[data-testid=rating-link]").await;
    owner.wait_for_path(&rating_path).await;
    owner.click("[data-testid=open-rating]").await;
    owner.wait_for("form[action$='/rating/raters']").await;
    let deductions = owner.text_of("[data-testid=deductions]").await;
    assert!(
        deductions.contains("Answered the brief after four days"),
        "the record is listed among the deductions, for everyone on the page: {deductions}"
    );
    let owner_id = app.user_id(OWNER_LUMI.0).await;
    let operator_id = app.user_id(OPERATOR_LUMI.0).await;
    for id in [owner_id, operator_id] {
        owner
            .click(&format!("input[name=rater][value='{id}']"))
            .await;
    }
    owner.click("[data-testid=assign-raters]").await;
    owner.wait_for("[data-testid=scorecard]").await;
    let raters = owner.text_of("[data-testid=raters]").await;
    assert_eq!(raters.lines().count(), 2, "{raters}");

    // 3. The owner rates: the total follows the levels picked, the justification box appears
    //    only at all-top.
    let js_loaded = owner
        .client
        .execute(
            "return Array.from(document.scripts).some(s => s.src.includes('/static/js/rating.js'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(js_loaded, json!(true));
    let base = owner.running_total().await;
    assert!(
        !owner.displayed("#justification").await,
        "no justification box before every level is top"
    );
    owner
        .click("input[name=level_content_quality][value='3']")
        .await;
    let after_one = owner.running_total().await;
    assert!(
        (after_one - base - 16.0 * 0.5).abs() < 0.011,
        "a 3 on a weight of 16 adds 8 points: {base} → {after_one}"
    );
    for (code, _) in SUBJECTIVE {
        owner
            .click(&format!("input[name=level_{code}][value='5']"))
            .await;
    }
    let all_top = owner.running_total().await;
    let weights: f64 = SUBJECTIVE.iter().map(|(_, w)| w).sum();
    assert!(
        (all_top - base - weights).abs() < 0.011,
        "every subjective level top adds their weights: {base} → {all_top}"
    );
    assert!(
        owner.displayed("#justification").await,
        "all top: the box appears"
    );
    owner.click("input[name=level_compliance][value='4']").await;
    assert!(
        !owner.displayed("#justification").await,
        "a 4 hides it again"
    );
    owner.click("input[name=level_compliance][value='5']").await;
    assert!(owner.displayed("#justification").await);
    owner
        .fill(
            "#justification",
            "The review video became our best ad; buyers asked for the link in the comments.",
        )
        .await;
    owner
        .fill("#comment", "Re-book for the autumn launch")
        .await;
    owner.click("[data-testid=submit-scorecard]").await;
    owner.wait_for("[data-testid=submissions]").await;
    let totals = owner
        .client
        .find_all(Locator::Css("[data-testid=submission-total]"))
        .await
        .unwrap();
    assert_eq!(totals.len(), 1, "only my own score so far");
    let stored: f64 = totals[0].text().await.unwrap().parse().unwrap();
    assert!(
        (stored - all_top).abs() < 0.006,
        "the server's total is the one the page showed: {stored} vs {all_top}"
    );

    // 4. The operator, in their own session: the owner's scores are hidden until they submit.
    let operator = Browser::start("en").await;
    operator.login(&app, OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    operator.client.goto(&app.url(&rating_path)).await.unwrap();
    operator.wait_for("[data-testid=scorecard]").await;
    let note = operator.text_of("[data-testid=blind-note]").await;
    assert!(note.contains("(1)"), "{note}");
    assert!(
        !operator.has("[data-testid=submissions]").await,
        "no other rater's scores before I submit"
    );
    let source = operator.client.source().await.unwrap();
    assert!(
        !source.contains("The review video became our best ad"),
        "nor the owner's justification anywhere in the page"
    );
    let operator_base = operator.running_total().await;
    assert!(
        (operator_base - base).abs() < 0.011,
        "the same objective part"
    );
    for (code, _) in SUBJECTIVE {
        operator
            .click(&format!("input[name=level_{code}][value='5']"))
            .await;
    }
    assert!((operator.running_total().await - all_top).abs() < 0.011);
    assert!(operator.displayed("#justification").await);
    // The server still asks for the justification (here: sent empty).
    operator.click("[data-testid=submit-scorecard]").await;
    let error = operator
        .text_of("p.field-error[data-field=justification]")
        .await;
    assert_eq!(error, "Every level is the top one; write why.");
    assert!(
        operator.displayed("#justification").await,
        "the box stays shown with its message"
    );
    assert!(
        (operator.running_total().await - all_top).abs() < 0.011,
        "the levels picked came back"
    );
    assert!(!operator.has("[data-testid=submissions]").await);
    operator
        .fill(
            "#justification",
            "Fast, precise, and the audience was exactly our buyers.",
        )
        .await;
    operator.click("[data-testid=submit-scorecard]").await;
    operator.wait_for("[data-testid=rating-outcome]").await;
    let flash = operator.text_of(".flash").await;
    assert_eq!(flash, "The rating is complete.");
    let heading = operator.text_of("[data-testid=rating-heading] .chip").await;
    assert_eq!(heading, "Rated", "the collaboration is rated");
    let totals = operator
        .client
        .find_all(Locator::Css("[data-testid=submission-total]"))
        .await
        .unwrap();
    assert_eq!(totals.len(), 2, "both scores shown once submitted");
    operator.close().await;

    // 5. The creator's tier section: the new badge (letter and label) and recommendation.
    owner.client.goto(&app.url(&creator_path)).await.unwrap();
    // One rated collaboration gives at most A (SPEC §8); all top with a minor event makes it A.
    let (tier_after, label_after) = owner.tier_badge().await;
    assert_eq!(
        (tier_after.as_str(), label_after.as_str()),
        ("A", "A · re-book")
    );
    assert!(worth(&tier_after) > worth(&tier_before));
    let recommendation_after = owner.text_of("[data-testid=tier-recommendation]").await;
    assert!(
        recommendation_after.starts_with("Re-book")
            && recommendation_after != recommendation_before,
        "{recommendation_before} → {recommendation_after}"
    );
    let reason = owner.text_of("[data-testid=tier-reason]").await;
    assert!(reason.contains("rated collaboration"), "{reason}");

    // 6. …and it moves up in the other campaign's matching ranking.
    owner
        .logout_and_login(&app, ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1)
        .await;
    owner.client.goto(&app.url(&matching_path)).await.unwrap();
    let rank_after = owner.rank_of(f.creator).await.expect("still a candidate");
    let rival_after = owner.rank_of(f.rival).await.expect("the rival too");
    assert!(
        rank_after < rank_before && rank_after < rival_after,
        "the creator moves up, ahead of the rival: {rank_before} → {rank_after} (rival {rival_after})"
    );
    owner.close().await;
}
