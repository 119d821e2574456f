//! The demo is made through the product's own actions, so what it did is on the record.

use crate::support::*;

#[tokio::test]
async fn the_demos_changes_appear_on_the_tenants_audit_page() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: true,
    })
    .await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    // Every move of every demo campaign has its audit entry, by the person who made it.
    let (moves, audited): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM campaign_transitions), \
                (SELECT count(*) FROM audit_log WHERE action = 'campaign.transition')",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(moves >= 20, "{moves} demo moves");
    assert_eq!(moves, audited, "each move is audited");
    let unnamed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaign_transitions t \
          WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_id = t.campaign_id::text \
                              AND a.action = 'campaign.transition' AND a.actor_label = t.actor_label)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(unnamed, 0, "the audit names whoever made each move");
    let running: String =
        sqlx::query_scalar("SELECT id::text FROM campaigns WHERE code = 'LUMI-DEMO-06'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    drop(tx);

    // The owner's audit page shows them.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner, "/t/lumi/audit").await;
    for action in [
        "campaign.transition",
        "shortlist.send",
        "shortlist.decide",
        "collaboration.create",
    ] {
        assert!(page.contains(action), "the audit page shows {action}");
    }
    assert!(page.contains("am@sextant.example") && page.contains(OWNER_LUMI.0));
    // The running campaign's own history: its moves, each naming its object.
    let page = app
        .get_ok(
            &owner,
            &format!("/t/lumi/audit?entity=campaign&entity_id={running}"),
        )
        .await;
    assert!(page.contains(&format!("<code class=\"small\">{running}</code>")));
    assert!(page.contains("campaign.transition"));
}

/// What the demo's rating history added: rows that a second run must not add to.
/// (finalized settlements, paid ones, rates, drafts) of the demo.
async fn settlement_rows(app: &TestApp) -> (i64, i64, i64, i64) {
    let mut c = app.owner_conn().await;
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM settlements), \
                (SELECT count(*) FROM settlements s WHERE s.total_seller > 0 AND s.total_seller <= \
                   (SELECT COALESCE(sum(amount), 0) FROM settlement_payments p \
                     WHERE p.settlement_id = s.id)), \
                (SELECT count(*) FROM fx_rates), (SELECT count(*) FROM settlement_drafts)",
    )
    .fetch_one(&mut c)
    .await
    .unwrap()
}

async fn rating_rows(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    let mut c = app.owner_conn().await;
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM ratings), (SELECT count(*) FROM rating_submissions), \
                (SELECT count(*) FROM creator_tier_history), (SELECT count(*) FROM campaigns), \
                (SELECT count(*) FROM order_imports)",
    )
    .fetch_one(&mut c)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_full_demo_is_rated_through_the_actions_into_every_tier_once() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize::FULL).await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();

    // Creators in every tier, and some warned.
    let tiers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tier::text FROM creator_tiers WHERE tier IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(tiers, ["A", "B", "C", "S"], "lumi has every tier");
    let warned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM creator_tiers WHERE low_score_warning")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert!(warned >= 1, "some creators carry a low-score warning");

    // The severe compliance issue's proposal, confirmed by the owner.
    let confirmed: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT u.email FROM blacklist_entries b LEFT JOIN users u ON u.id = b.decided_by \
          WHERE b.status = 'confirmed'",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(!confirmed.is_empty(), "a confirmed blacklist entry");
    assert!(confirmed.iter().all(|e| e.as_deref() == Some(OWNER_LUMI.0)));

    // Two raters with different habits: the generous operator, the strict owner (first
    // submissions, as the consistency report counts them).
    let raters: Vec<(String, f64, i64)> = sqlx::query_as(
        "SELECT rater_label, avg(total)::float8, count(*) FROM rating_submissions \
          WHERE version = 1 GROUP BY rater_label ORDER BY rater_label",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let mean_of = |who: &str| {
        raters
            .iter()
            .find(|(label, _, _)| label == who)
            .unwrap_or_else(|| panic!("{who} rated: {raters:?}"))
    };
    let (generous, strict) = (mean_of(OPERATOR_LUMI.0), mean_of(OWNER_LUMI.0));
    assert!(generous.2 >= 5 && strict.2 >= 5, "{raters:?}");
    assert!(
        generous.1 - strict.1 >= 15.0,
        "means differ clearly: {raters:?}"
    );
    let all_top_justified: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rating_submissions WHERE justification IS NOT NULL",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(all_top_justified >= 1, "the operator's all-5 cards say why");

    // Two scorecard versions: the earlier ratings under 1, the later under 2 (issue 15).
    let by_version: Vec<(i32, i64, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT t.version, count(*), min(r.opened_at) FROM ratings r \
           JOIN scorecard_templates t ON t.tenant_id = r.tenant_id AND t.id = r.template_id \
          GROUP BY t.version ORDER BY t.version",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        by_version.iter().map(|v| v.0).collect::<Vec<_>>(),
        [1, 2],
        "{by_version:?}"
    );
    assert!(by_version.iter().all(|v| v.1 >= 2), "{by_version:?}");
    assert!(by_version[0].2 < by_version[1].2, "version 2 came later");
    drop(tx);

    // Each past campaign was rated before the next was booked, so "do the tiers predict?" has
    // true re-bookings of tiered creators to show (issue 15).
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let report = app.get_ok_in(&owner, "/t/lumi/tiers/predict", "en").await;
    assert!(
        !report.contains(r#"data-testid="predict-empty""#),
        "the report shows"
    );
    let counts: i64 = report
        .match_indices(r#"data-testid="predict-count">"#)
        .map(|(at, m)| {
            let rest = &report[at + m.len()..];
            rest[..rest.find('<').unwrap()]
                .trim()
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert!(
        counts >= sextant::tiers::predict::domain::MIN_REBOOKINGS as i64,
        "{counts} re-bookings"
    );
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();

    // Re-bookings: a creator rated two or three times, at different ages; ROI differs.
    let (most, spread_days): (i64, f64) = sqlx::query_as(
        "SELECT count(*), extract(epoch FROM max(age_from) - min(age_from))::float8 / 86400 \
           FROM ratings WHERE state = 'completed' GROUP BY creator_id ORDER BY 1 DESC, 2 DESC \
          LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(
        most >= 2 && spread_days > 60.0,
        "{most} ratings over {spread_days} days"
    );
    let rois: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT round(roi_ratio, 1)) FROM ratings WHERE state = 'completed'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(rois >= 4, "ROI differs between collaborations: {rois}");

    // One rating closed by the owner with one rater: its calibrated score counts.
    let (one_final, one_calibrated): (rust_decimal::Decimal, Option<rust_decimal::Decimal>) =
        sqlx::query_as(
            "SELECT final_score, calibrated_score FROM ratings \
              WHERE state = 'completed' AND closed_with_one",
        )
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(Some(one_final), one_calibrated);

    // The demo's closed campaign is closed, each collaboration rated with a completed rating
    // (and settled once a finalized settlement holds its money).
    let (state, collabs, rated): (String, i64, i64) = sqlx::query_as(
        "SELECT k.state, count(l.id), count(r.id) FILTER (WHERE l.state IN ('rated', 'settled')) \
           FROM campaigns k JOIN collaborations l ON l.tenant_id = k.tenant_id AND l.campaign_id = k.id \
           LEFT JOIN ratings r ON r.tenant_id = l.tenant_id AND r.collaboration_id = l.id \
                AND r.state = 'completed' \
          WHERE k.code = 'LUMI-DEMO-08' GROUP BY k.state",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), rated),
        ("closed", collabs),
        "{collabs} collaborations"
    );
    assert!(collabs >= 2);
    // Every past campaign closed too; nothing waits for a rating among them.
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaigns WHERE code LIKE 'LUMI-PAST-%' AND state <> 'closed'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(open, 0);
    drop(tx);

    // Nordpeak, lighter, rated too.
    let nordpeak = app.tenant_id("nordpeak").await;
    let mut tx = app.db.tenant_tx(nordpeak, None).await.unwrap();
    let (closed, tiered): (String, i64) = sqlx::query_as(
        "SELECT (SELECT state FROM campaigns WHERE code = 'NORD-DEMO-08'), \
                (SELECT count(*) FROM creator_tiers WHERE tier IS NOT NULL)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(closed, "closed");
    assert!(tiered >= 3, "{tiered}");
    drop(tx);

    // The pages open on that data: a past campaign, its collaboration and rating, the
    // creator it rated (with the tier), the creators list.
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let (campaign, collaboration, creator): (uuid::Uuid, uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT k.id, l.id, l.creator_id FROM campaigns k JOIN collaborations l \
             ON l.tenant_id = k.tenant_id AND l.campaign_id = k.id \
          WHERE k.code = 'LUMI-PAST-01' ORDER BY l.created_at LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    for path in [
        format!("/t/lumi/campaigns/{campaign}"),
        format!("/t/lumi/collaborations/{collaboration}"),
        format!("/t/lumi/collaborations/{collaboration}/rating"),
        format!("/t/lumi/creators/{creator}"),
        "/t/lumi/creators".to_string(),
        "/t/lumi/".to_string(),
    ] {
        app.get_ok(&owner, &path).await;
    }

    // Settlements: finance's rates, Lumi's months finalized in order (paid, the latest partly),
    // last month a draft whose reconciliation shows TikTok Shop paying a different commission.
    let settlements = settlement_rows(&app).await;
    let (finalized, paid, rates, drafts) = settlements;
    assert!(
        finalized >= 1 && paid >= 1 && rates >= 7 && drafts == 1,
        "{settlements:?}"
    );
    let finance = app.login(FINANCE.0, FINANCE.1).await;
    let draft_period: String = {
        let mut c = app.owner_conn().await;
        sqlx::query_scalar("SELECT to_char(period, 'YYYY-MM') FROM settlement_drafts")
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    let page = app
        .get_ok(&finance, &format!("/finance/t/lumi/periods/{draft_period}"))
        .await;
    assert!(
        page.contains("data-testid=\"difference\""),
        "a reconciliation difference"
    );
    let seller = app.get_ok(&owner, "/t/lumi/settlements").await;
    assert!(
        seller.contains("data-period=")
            && !seller.contains(&format!("data-period=\"{draft_period}\"")),
        "the seller sees the finalized months, not the draft"
    );

    // Seeding again adds no rating, submission, tier change, campaign, import, settlement or
    // payment.
    let before = rating_rows(&app).await;
    sextant::seed::seed_demo_with(&app.db, &app.state.passwords, sextant::seed::DemoSize::FULL)
        .await
        .unwrap();
    assert_eq!(rating_rows(&app).await, before, "a second run adds nothing");
    assert_eq!(settlement_rows(&app).await, settlements, "nor settlements");
    // The passwords still work.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner, "/t/lumi/ratings/consistency").await;
    // Enough collaborations with two raters for the report's agreement figure.
    assert!(page.contains("data-testid=\"alpha\"") && !page.contains("NaN"));
}
