//! "Do the tiers predict?" (issue 15 item 3): the seller's report checked against numbers
//! computed by hand (in both languages), what does not count as a re-booking of a tiered
//! creator, tenant isolation, the staff's platform-tier version (audited, staff only), and the
//! empty state with the count still needed.

use reqwest::StatusCode;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::support::*;
use crate::tiers::scorecard_template;

/// `n` creators with no collaboration in `tenant` yet.
async fn fresh_creators(c: &mut PgConnection, tenant: Uuid, n: i64) -> Vec<Uuid> {
    let found: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM creators cr WHERE NOT EXISTS (SELECT 1 FROM collaborations l \
          WHERE l.tenant_id = $1 AND l.creator_id = cr.id) ORDER BY id LIMIT $2",
    )
    .bind(tenant)
    .bind(n)
    .fetch_all(c)
    .await
    .unwrap();
    assert_eq!(found.len() as i64, n, "enough creators in the demo pool");
    found
}

/// Any campaign of the tenant.
async fn a_campaign(c: &mut PgConnection, tenant: Uuid) -> Uuid {
    sqlx::query_scalar("SELECT id FROM campaigns WHERE tenant_id = $1 ORDER BY created_at LIMIT 1")
        .bind(tenant)
        .fetch_one(c)
        .await
        .unwrap()
}

/// A tier change of `creator` in `tenant`, `days_ago` days ago (to_tier None: no tier).
async fn tiered(
    c: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
    to_tier: Option<&str>,
    days_ago: i32,
) {
    sqlx::query(
        "INSERT INTO creator_tier_history (tenant_id, id, creator_id, to_tier, cause, \
         actor_label, at) VALUES ($1, $2, $3, $4, 'rating', 'test', \
         now() - make_interval(days => $5))",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(creator)
    .bind(to_tier)
    .bind(days_ago)
    .execute(c)
    .await
    .unwrap();
}

/// A platform tier change of `creator`, `days_ago` days ago.
async fn platform_tiered(c: &mut PgConnection, creator: Uuid, to_tier: &str, days_ago: i32) {
    sqlx::query(
        "INSERT INTO platform_tier_history (id, creator_id, to_tier, cause, at) \
         VALUES ($1, $2, $3, 'rating', now() - make_interval(days => $4))",
    )
    .bind(Uuid::now_v7())
    .bind(creator)
    .bind(to_tier)
    .bind(days_ago)
    .execute(c)
    .await
    .unwrap();
}

/// A collaboration of `creator` booked `days_ago` days ago, with a rating (open or completed)
/// whose frozen ROI is `net_gmv / cost` — or none when `rating` is None.
async fn booked(
    c: &mut PgConnection,
    (tenant, campaign): (Uuid, Uuid),
    creator: Uuid,
    days_ago: i32,
    rating: Option<(&str, &str, &str)>,
) -> Uuid {
    let collab = Uuid::new_v4();
    let code = format!("P{}", &collab.simple().to_string()[..10]);
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
         link_slug, created_at) VALUES ($1, $2, $3, $4, 'rated', $5, $5, \
         now() - make_interval(days => $6))",
    )
    .bind(tenant)
    .bind(collab)
    .bind(campaign)
    .bind(creator)
    .bind(&code)
    .bind(days_ago)
    .execute(&mut *c)
    .await
    .unwrap();
    let Some((state, net_gmv, cost)) = rating else {
        return collab;
    };
    let template = scorecard_template(c, tenant).await;
    let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    let completed = state == "completed";
    sqlx::query(
        "INSERT INTO ratings (tenant_id, id, collaboration_id, creator_id, campaign_id, template_id, \
         state, opened_by_label, age_from, currency, net_gmv, cost, roi_target, roi_ratio, \
         cost_basis, inputs, final_score, raw_score, completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'test', now(), 'USD', $8, $9, 1, 0, 'fixed', '{}', \
                 $10, $10, CASE WHEN $11 THEN clock_timestamp() END)",
    )
    .bind(tenant)
    .bind(Uuid::new_v4())
    .bind(collab)
    .bind(creator)
    .bind(campaign)
    .bind(template)
    .bind(state)
    .bind(d(net_gmv))
    .bind(d(cost))
    .bind(completed.then(|| d("70")))
    .bind(completed)
    .execute(&mut *c)
    .await
    .unwrap();
    collab
}

/// A re-booking: `creator` tiered `tier` 10 days ago, booked 5 days ago, rated with ROI
/// `net_gmv / 100`.
async fn rebooking(
    c: &mut PgConnection,
    at: (Uuid, Uuid),
    creator: Uuid,
    tier: &str,
    net_gmv: &str,
) {
    tiered(c, at.0, creator, Some(tier), 10).await;
    booked(c, at, creator, 5, Some(("completed", net_gmv, "100"))).await;
}

/// The hand-computed example in Lumi (see the test below for the numbers).
async fn lumi_example(app: &TestApp) -> Vec<Uuid> {
    let tenant = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    let campaign = a_campaign(&mut c, tenant).await;
    let at = (tenant, campaign);
    let cr = fresh_creators(&mut c, tenant, 16).await;
    // S: 1.0, 1.8, 2.0, 2.4, 3.0, 4.0 (one rating still open: its ROI is frozen already).
    for (i, gmv) in ["100", "180", "200", "240", "300"].iter().enumerate() {
        rebooking(&mut c, at, cr[i], "S", gmv).await;
    }
    tiered(&mut c, tenant, cr[5], Some("S"), 10).await;
    booked(&mut c, at, cr[5], 5, Some(("open", "400", "100"))).await;
    // A: 1.2, 1.9 and 1.5 — the last one's creator became S after the booking: still A.
    rebooking(&mut c, at, cr[6], "A", "120").await;
    rebooking(&mut c, at, cr[7], "A", "190").await;
    rebooking(&mut c, at, cr[8], "A", "150").await;
    tiered(&mut c, tenant, cr[8], Some("S"), 2).await;
    // B: 0.5 and 0.9 (from a cost of 200: 180 / 200).
    rebooking(&mut c, at, cr[9], "B", "50").await;
    tiered(&mut c, tenant, cr[10], Some("B"), 10).await;
    booked(&mut c, at, cr[10], 5, Some(("completed", "180", "200"))).await;
    // Not re-bookings of tiered creators, or no ROI:
    // booked before the creator's first tier,
    booked(&mut c, at, cr[11], 12, Some(("completed", "900", "100"))).await;
    tiered(&mut c, tenant, cr[11], Some("C"), 10).await;
    // the tier taken away (NULL) before the booking,
    tiered(&mut c, tenant, cr[12], Some("C"), 10).await;
    tiered(&mut c, tenant, cr[12], None, 8).await;
    booked(&mut c, at, cr[12], 5, Some(("completed", "900", "100"))).await;
    // no cost,
    tiered(&mut c, tenant, cr[13], Some("C"), 10).await;
    booked(&mut c, at, cr[13], 5, Some(("completed", "900", "0"))).await;
    // no rating yet.
    tiered(&mut c, tenant, cr[14], Some("C"), 10).await;
    booked(&mut c, at, cr[14], 5, None).await;
    c.close().await.ok();
    cr
}

fn cell<'a>(row: &'a str, testid: &str) -> &'a str {
    let marker = format!("data-testid=\"{testid}\">");
    let start = row
        .find(&marker)
        .unwrap_or_else(|| panic!("{testid} in row"))
        + marker.len();
    let end = row[start..].find('<').unwrap() + start;
    row[start..end].trim()
}

/// (count, median, interval) of a tier's row.
fn tier_row<'a>(html: &'a str, tier: &str) -> (&'a str, &'a str, &'a str) {
    let marker = format!("data-testid=\"predict-row\" data-tier=\"{tier}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("a row for {tier}"));
    let row = &html[at..];
    let row = &row[..row.find("</tr>").unwrap()];
    (
        cell(row, "predict-count"),
        cell(row, "predict-median"),
        cell(row, "predict-interval"),
    )
}

#[tokio::test]
async fn the_sellers_report_shows_counts_medians_and_intervals_computed_by_hand() {
    let app = TestApp::with_demo_campaigns().await;
    lumi_example(&app).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;

    // S: six ROIs 1.0 1.8 2.0 2.4 3.0 4.0 → median (2.0 + 2.4) / 2 = 2.20; with n = 6 the largest
    //    k with P(X < k) ≤ 0.025 (X ~ Bin(6, ½)) is 1 (P(X < 1) = 1/64), so [x_(1), x_(6)].
    // A: 1.2 1.5 1.9 → 1.50, no interval (n < 6). B: 0.5 0.9 → 0.70. C: none.
    let html = app.get_ok_in(&owner, "/t/lumi/tiers/predict", "en").await;
    assert!(html.contains("Do the tiers predict?"), "{html}");
    assert!(!html.contains("data-testid=\"predict-empty\""));
    assert_eq!(tier_row(&html, "S"), ("6", "2.20", "1.00 – 4.00"));
    assert_eq!(tier_row(&html, "A"), ("3", "1.50", "—"));
    assert_eq!(tier_row(&html, "B"), ("2", "0.70", "—"));
    assert_eq!(tier_row(&html, "C"), ("0", "—", "—"));
    assert!(
        html.contains("S-tier creators had the highest median ROI on their next collaboration"),
        "the reading says the tiers ordered ROI"
    );
    assert!(html.contains("data-testid=\"predict-interval-note\""));
    assert!(html.contains("with fewer than 6 re-bookings no 95% interval exists"));
    assert!(
        html.contains("data-testid=\"chart-tiers-predict\""),
        "the chart"
    );
    assert!(!html.contains("chart-tiers-predict-empty"));
    assert!(!html.contains("NaN"));

    let zh = app
        .get_ok_in(&owner, "/t/lumi/tiers/predict", "zh-CN")
        .await;
    assert!(zh.contains("达人分级能预测下一次合作吗？"));
    assert!(zh.contains("预订时分级") && zh.contains("ROI 中位数"));
    assert_eq!(tier_row(&zh, "S"), ("6", "2.20", "1.00 – 4.00"));
    assert_eq!(tier_row(&zh, "A"), ("3", "1.50", "—"));
    assert_eq!(tier_row(&zh, "B"), ("2", "0.70", "—"));
    assert_eq!(tier_row(&zh, "C"), ("0", "—", "—"));
    assert!(zh.contains("S 级达人的下一次合作 ROI 中位数最高"));

    // The creators list links to it; every member may read it.
    let list = app.get_ok(&owner, "/t/lumi/creators").await;
    assert!(list.contains("href=\"/t/lumi/tiers/predict\""));
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let seen = app.get_ok_in(&viewer, "/t/lumi/tiers/predict", "en").await;
    assert_eq!(tier_row(&seen, "S"), ("6", "2.20", "1.00 – 4.00"));
}

#[tokio::test]
async fn a_lower_tier_with_the_higher_median_is_said_plainly() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    let campaign = a_campaign(&mut c, tenant).await;
    let cr = fresh_creators(&mut c, tenant, 5).await;
    for (i, (tier, gmv)) in [
        ("S", "100"),
        ("S", "120"),
        ("B", "300"),
        ("B", "250"),
        ("C", "90"),
    ]
    .iter()
    .enumerate()
    {
        rebooking(&mut c, (tenant, campaign), cr[i], tier, gmv).await;
    }
    c.close().await.ok();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let html = app.get_ok_in(&owner, "/t/lumi/tiers/predict", "en").await;
    assert_eq!(tier_row(&html, "S"), ("2", "1.10", "—"));
    assert_eq!(tier_row(&html, "A"), ("0", "—", "—"));
    assert_eq!(tier_row(&html, "B"), ("2", "2.75", "—"));
    assert!(
        html.contains(
            "The tiers did not order ROI this way: B-tier creators had a higher median ROI \
             (2.75) than S-tier creators (1.10)."
        ),
        "{html}"
    );
    assert!(!html.contains("had the highest median ROI"));
}

#[tokio::test]
async fn another_seller_sees_none_of_it_and_staff_see_the_platform_tier_version() {
    let app = TestApp::with_demo_campaigns().await;
    let cr = lumi_example(&app).await;

    // Nordpeak's owner: none of Lumi's re-bookings.
    let nordpeak = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let html = app
        .get_ok_in(&nordpeak, "/t/nordpeak/tiers/predict", "en")
        .await;
    assert!(html.contains("data-testid=\"predict-empty\""));
    assert!(html.contains("5 more re-booking(s) of tiered creators needed"));
    assert!(!html.contains("data-testid=\"predict-row\""));
    assert_eq!(
        app.status_of(&nordpeak, "/t/lumi/tiers/predict").await,
        StatusCode::NOT_FOUND,
        "another tenant's page is unknown"
    );

    // Sellers and finance cannot open the staff page.
    for who in [OWNER_LUMI, VIEWER_LUMI, FINANCE] {
        let client = app.login(who.0, who.1).await;
        assert_eq!(
            app.status_of(&client, "/admin/tiers/predict").await,
            StatusCode::FORBIDDEN,
            "{}",
            who.0
        );
    }

    // The platform tier at booking: Lumi's S creators held platform A, and one Nordpeak
    // re-booking of a platform-C creator (ROI 0.80) joins from the other tenant.
    let mut c = app.owner_conn().await;
    for creator in &cr[..6] {
        platform_tiered(&mut c, *creator, "A", 10).await;
    }
    let nordpeak_id = app.tenant_id("nordpeak").await;
    let campaign = a_campaign(&mut c, nordpeak_id).await;
    let other = fresh_creators(&mut c, nordpeak_id, 20).await;
    let other = *other.iter().find(|o| !cr.contains(o)).unwrap();
    platform_tiered(&mut c, other, "C", 10).await;
    booked(
        &mut c,
        (nordpeak_id, campaign),
        other,
        5,
        Some(("completed", "80", "100")),
    )
    .await;
    c.close().await.ok();

    for who in [ADMIN, ACCOUNT_MANAGER] {
        let staff = app.login(who.0, who.1).await;
        let html = app.get_ok_in(&staff, "/admin/tiers/predict", "en").await;
        assert!(
            html.contains("Do the tiers predict? (platform tier)"),
            "{}",
            who.0
        );
        assert_eq!(tier_row(&html, "S"), ("0", "—", "—"));
        assert_eq!(tier_row(&html, "A"), ("6", "2.20", "1.00 – 4.00"));
        assert_eq!(tier_row(&html, "B"), ("0", "—", "—"));
        assert_eq!(tier_row(&html, "C"), ("1", "0.80", "—"));
        assert!(html.contains("A-tier creators had the highest median ROI"));
        assert!(
            html.contains("href=\"/admin/tiers/predict\""),
            "in the navigation"
        );
    }
    let zh = app
        .get_ok_in(
            &app.login(ADMIN.0, ADMIN.1).await,
            "/admin/tiers/predict",
            "zh-CN",
        )
        .await;
    assert!(zh.contains("达人分级能预测下一次合作吗？（平台分级）"));
    assert!(zh.contains("A 级达人的下一次合作 ROI 中位数最高"));

    // Opening it is a staff cross-tenant access, audited.
    let opened = app.audit_of("tiers_predict").await;
    assert!(
        opened.iter().filter(|(a, _, _)| a == "scope.open").count() >= 3,
        "{opened:?}"
    );
}

#[tokio::test]
async fn the_empty_state_says_how_many_re_bookings_are_still_needed() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let html = app.get_ok_in(&owner, "/t/lumi/tiers/predict", "en").await;
    assert!(
        html.contains("5 more re-booking(s) of tiered creators needed"),
        "{html}"
    );
    assert!(html.contains("data-testid=\"chart-tiers-predict-empty\""));

    let tenant = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    let campaign = a_campaign(&mut c, tenant).await;
    let cr = fresh_creators(&mut c, tenant, 2).await;
    rebooking(&mut c, (tenant, campaign), cr[0], "A", "150").await;
    rebooking(&mut c, (tenant, campaign), cr[1], "B", "90").await;
    c.close().await.ok();

    let html = app.get_ok_in(&owner, "/t/lumi/tiers/predict", "en").await;
    assert!(
        html.contains(
            "3 more re-booking(s) of tiered creators needed before this report shows \
             (it needs at least 5; 2 so far)"
        ),
        "{html}"
    );
    assert!(!html.contains("data-testid=\"predict-table\""));
    assert!(!html.contains("data-testid=\"chart-tiers-predict\""));
    assert!(html.contains("data-testid=\"chart-tiers-predict-empty\""));
    let zh = app
        .get_ok_in(&owner, "/t/lumi/tiers/predict", "zh-CN")
        .await;
    assert!(zh.contains("还需 3 次已分级达人的再次合作"), "{zh}");
    assert!(zh.contains("暂无数据"));
}
