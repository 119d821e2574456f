//! The consistency report (SPEC §7) and the calibration stored when a rating completes. The rating
//! flow itself is another part of issue 14, so these tests put ratings and submissions in place
//! directly (as the tables' owner) and check what the report and `calibrate_rating` make of them.

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::*;

/// Fixtures written as the tables' owner: templates, ratings, raters and submissions.
pub mod fixtures {
    use super::*;

    /// A template: `q1`, `q2` subjective (30 each), `conv` objective (40).
    pub async fn template(conn: &mut PgConnection, tenant: Uuid) -> Uuid {
        template_with(
            conn,
            tenant,
            json!([
                {"code": "q1", "weight": 30, "kind": "subjective"},
                {"code": "q2", "weight": 30, "kind": "subjective"},
                {"code": "conv", "weight": 40, "kind": "objective", "formula": "conversion"}
            ]),
        )
        .await
    }

    pub async fn template_with(
        conn: &mut PgConnection,
        tenant: Uuid,
        dimensions: serde_json::Value,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let version: i32 = sqlx::query_scalar(
            "SELECT coalesce(max(version), 0) + 1 FROM scorecard_templates WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO scorecard_templates (tenant_id, id, version, dimensions)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(id)
        .bind(version)
        .bind(dimensions)
        .execute(&mut *conn)
        .await
        .unwrap();
        id
    }

    /// The tenant's collaborations, oldest first: (id, creator, campaign).
    pub async fn collaborations(conn: &mut PgConnection, tenant: Uuid) -> Vec<(Uuid, Uuid, Uuid)> {
        sqlx::query_as(
            "SELECT id, creator_id, campaign_id FROM collaborations WHERE tenant_id = $1
             ORDER BY created_at, id",
        )
        .bind(tenant)
        .fetch_all(conn)
        .await
        .unwrap()
    }

    /// A rating of `collaboration`; completed at `completed_at` when given (with the scores).
    pub async fn rating(
        conn: &mut PgConnection,
        tenant: Uuid,
        collaboration: (Uuid, Uuid, Uuid),
        template: Uuid,
        completed_at: Option<OffsetDateTime>,
        scores: (Option<Decimal>, Option<Decimal>),
    ) -> Uuid {
        let id = Uuid::now_v7();
        let (raw, calibrated) = scores;
        sqlx::query(
            "INSERT INTO ratings (tenant_id, id, collaboration_id, creator_id, campaign_id,
                 template_id, state, opened_by_label, age_from, currency, net_gmv, cost,
                 roi_target, roi_ratio, cost_basis, inputs, raw_score, final_score,
                 calibrated_score, completed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'test', now(), 'USD', 100, 50, 2, 1,
                     'fixed', '{}', $8, $8, $9, $10)",
        )
        .bind(tenant)
        .bind(id)
        .bind(collaboration.0)
        .bind(collaboration.1)
        .bind(collaboration.2)
        .bind(template)
        .bind(if completed_at.is_some() { "completed" } else { "open" })
        .bind(raw)
        .bind(calibrated)
        .bind(completed_at)
        .execute(conn)
        .await
        .unwrap();
        id
    }

    pub async fn assign(conn: &mut PgConnection, tenant: Uuid, rating: Uuid, user: Uuid) {
        sqlx::query("INSERT INTO rating_raters (tenant_id, rating_id, user_id) VALUES ($1, $2, $3)")
            .bind(tenant)
            .bind(rating)
            .bind(user)
            .execute(conn)
            .await
            .unwrap();
    }

    /// A submission; version > 1 corrects the rater's previous version.
    pub async fn submit(
        conn: &mut PgConnection,
        tenant: Uuid,
        rating: Uuid,
        rater: (Uuid, &str),
        version: i32,
        levels: serde_json::Value,
        total: Decimal,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let corrects: Option<Uuid> = if version > 1 {
            sqlx::query_scalar(
                "SELECT id FROM rating_submissions
                  WHERE tenant_id = $1 AND rating_id = $2 AND rater_id = $3 AND version = $4",
            )
            .bind(tenant)
            .bind(rating)
            .bind(rater.0)
            .bind(version - 1)
            .fetch_optional(&mut *conn)
            .await
            .unwrap()
        } else {
            None
        };
        sqlx::query(
            "INSERT INTO rating_submissions (tenant_id, id, rating_id, rater_id, rater_label,
                 version, corrects, correction_reason, levels, total)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(tenant)
        .bind(id)
        .bind(rating)
        .bind(rater.0)
        .bind(rater.1)
        .bind(version)
        .bind(corrects)
        .bind(corrects.map(|_| "typo"))
        .bind(levels)
        .bind(total)
        .execute(conn)
        .await
        .unwrap();
        id
    }
}

use fixtures::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn at(days_ago: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - time::Duration::days(days_ago))
}

const OWNER_LABEL: &str = "林晓 Lin Xiao";
const OPERATOR_LABEL: &str = "陈一鸣 Chen Yiming";

/// Two raters, three completed collaborations (the numbers of the report are worked out by hand in
/// the test below), a correction and an open rating that must not count.
async fn seed_two_raters(app: &TestApp) -> Vec<(Uuid, Uuid, Uuid)> {
    let tenant = app.tenant_id("lumi").await;
    let owner = (app.user_id(OWNER_LUMI.0).await, OWNER_LABEL);
    let operator = (app.user_id(OPERATOR_LUMI.0).await, OPERATOR_LABEL);
    let mut conn = app.owner_conn().await;
    let template = template(&mut conn, tenant).await;
    let collabs = collaborations(&mut conn, tenant).await;
    assert!(collabs.len() >= 4, "the demo has collaborations");
    let scores = (Some(d("65.00")), Some(d("61.25")));
    let r1 = rating(&mut conn, tenant, collabs[0], template, at(30), scores).await;
    let r2 = rating(&mut conn, tenant, collabs[1], template, at(20), scores).await;
    let r3 = rating(&mut conn, tenant, collabs[2], template, at(10), scores).await;
    let open = rating(&mut conn, tenant, collabs[3], template, None, (None, None)).await;
    let lv = |a: u8, b: u8| json!({"q1": a, "q2": b, "conv": 3.5});
    submit(&mut conn, tenant, r1, owner, 1, lv(3, 4), d("60")).await;
    submit(&mut conn, tenant, r1, operator, 1, lv(5, 5), d("70")).await;
    // A correction: statistics keep the first submission.
    submit(&mut conn, tenant, r1, owner, 2, lv(5, 5), d("100")).await;
    submit(&mut conn, tenant, r2, owner, 1, lv(4, 5), d("80")).await;
    submit(&mut conn, tenant, r2, operator, 1, lv(5, 5), d("90")).await;
    submit(&mut conn, tenant, r3, operator, 1, lv(5, 3), d("50")).await;
    // An open rating stays blind: not in the report.
    submit(&mut conn, tenant, open, owner, 1, lv(1, 1), d("0")).await;
    conn.close().await.ok();
    collabs
}

fn cell<'a>(row: &'a str, testid: &str) -> &'a str {
    let marker = format!("data-testid=\"{testid}\">");
    let start = row.find(&marker).unwrap_or_else(|| panic!("{testid} in row")) + marker.len();
    let end = row[start..].find('<').unwrap() + start;
    row[start..end].trim()
}

/// The rows of the raters' table, by rater label.
fn rater_row<'a>(html: &'a str, label: &str) -> &'a str {
    html.split("data-testid=\"rater-row\"")
        .skip(1)
        .find(|r| cell(r, "rater-label") == label)
        .unwrap_or_else(|| panic!("a row for {label}"))
}

#[tokio::test]
async fn the_report_shows_each_raters_numbers_and_alpha_as_computed_by_hand() {
    let app = TestApp::with_demo_campaigns().await;
    let collabs = seed_two_raters(&app).await;
    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let html = app.get_ok(&client, "/t/lumi/ratings/consistency").await;
    assert!(!html.contains("NaN"), "never NaN");

    // Owner: first submissions 60 (r1) and 80 (r2); the correction to 100 is left out.
    //   mean 70.0, population SD sqrt((10² + 10²)/2) = 10.0,
    //   levels 3,4,4,5: one 5 in four = 25%,
    //   deviation: (60 − 70) and (80 − 90) → −10.0.
    let owner = rater_row(&html, OWNER_LABEL);
    assert_eq!(cell(owner, "rater-count"), "2");
    assert_eq!(cell(owner, "rater-mean"), "70.0");
    assert_eq!(cell(owner, "rater-spread"), "10.0");
    assert_eq!(cell(owner, "rater-top"), "25%");
    assert_eq!(cell(owner, "rater-deviation"), "-10.0");
    // Operator: 70, 90, 50 → mean 70.0, SD sqrt((0 + 400 + 400)/3) = 16.33 → 16.3,
    //   levels 5,5,5,5,5,3: five of six = 83%, deviation (+10, +10; r3 unshared) → +10.0.
    let operator = rater_row(&html, OPERATOR_LABEL);
    assert_eq!(cell(operator, "rater-count"), "3");
    assert_eq!(cell(operator, "rater-mean"), "70.0");
    assert_eq!(cell(operator, "rater-spread"), "16.3");
    assert_eq!(cell(operator, "rater-top"), "83%");
    assert_eq!(cell(operator, "rater-deviation"), "+10.0");
    // More than half top levels: left out of the calibration reference.
    assert!(operator.contains("chip"));
    assert!(!owner.contains("chip"));

    // Alpha over units (60, 70) and (80, 90) (r3 has one rater): n = 4,
    //   D_o = (2·10² + 2·10²)/4 = 100; values mean 75, Σ(v − 75)² = 500,
    //   D_e = 2·4·500 / (4·3) = 333.3; α = 1 − 100/333.3 = 0.700.
    assert_eq!(cell(&html, "alpha"), "0.700");
    assert!(cell(&html, "alpha-units").contains('2'));

    // A chart per rater, with its data table.
    assert!(html.contains("data-testid=\"chart-rater-0\""));
    assert!(html.contains("data-testid=\"chart-rater-1\""));
    // Raw beside calibrated for the three completed ratings, each linked to its rating page.
    assert_eq!(html.matches("data-testid=\"score-row\"").count(), 3);
    assert!(html.contains(">65.00<") && html.contains(">61.25<"));
    for c in &collabs[..3] {
        assert!(html.contains(&format!("/t/lumi/collaborations/{}/rating", c.0)));
    }
    assert!(!html.contains(&format!("/t/lumi/collaborations/{}/rating", collabs[3].0)));
    // The tenant nav links the report.
    assert!(html.contains("href=\"/t/lumi/ratings/consistency\""));
}

#[tokio::test]
async fn with_one_shared_collaboration_alpha_is_not_enough_data_never_nan() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let owner = (app.user_id(OWNER_LUMI.0).await, OWNER_LABEL);
    let operator = (app.user_id(OPERATOR_LUMI.0).await, OPERATOR_LABEL);
    let mut conn = app.owner_conn().await;
    let template = template(&mut conn, tenant).await;
    let collabs = collaborations(&mut conn, tenant).await;
    let r1 = rating(&mut conn, tenant, collabs[0], template, at(3), (None, None)).await;
    let r2 = rating(&mut conn, tenant, collabs[1], template, at(2), (None, None)).await;
    let lv = json!({"q1": 3, "q2": 3, "conv": 3});
    submit(&mut conn, tenant, r1, owner, 1, lv.clone(), d("50")).await;
    submit(&mut conn, tenant, r1, operator, 1, lv.clone(), d("50")).await;
    submit(&mut conn, tenant, r2, owner, 1, lv, d("55")).await;
    conn.close().await.ok();

    // A viewer may read the report.
    let client = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let html = app.get_ok(&client, "/t/lumi/ratings/consistency").await;
    assert!(html.contains("data-testid=\"alpha-not-enough\""));
    assert!(!html.contains("data-testid=\"alpha\""));
    assert!(!html.contains("NaN"));
    // Missing scores show a dash, not NaN.
    assert!(cell(&html, "score-raw").contains('—'));
}

#[tokio::test]
async fn an_empty_report_says_so() {
    let app = TestApp::with_demo_campaigns().await;
    let client = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let html = app.get_ok(&client, "/t/lumi/ratings/consistency").await;
    assert!(html.contains("data-testid=\"raters-empty\""));
    assert!(html.contains("data-testid=\"alpha-not-enough\""));
    assert!(html.contains("data-testid=\"scores-empty\""));
}

#[tokio::test]
async fn another_tenant_sees_only_its_own_raters() {
    let app = TestApp::with_demo_campaigns().await;
    let collabs = seed_two_raters(&app).await;
    let client = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let html = app.get_ok(&client, "/t/nordpeak/ratings/consistency").await;
    assert!(!html.contains(OWNER_LABEL) && !html.contains(OPERATOR_LABEL));
    assert!(html.contains("data-testid=\"raters-empty\""));
    for c in &collabs {
        assert!(!html.contains(&c.0.to_string()));
    }
    // Lumi's report is not theirs to open.
    assert_eq!(
        app.status_of(&client, "/t/lumi/ratings/consistency").await,
        reqwest::StatusCode::NOT_FOUND
    );
}

/// History: rating 1 (A 4, B 2) and rating 2 (A 5, B 3) completed before; rating 3 completes with
/// A 5 and B 3 on a one-dimension template (`q`, subjective, weight 100).
///
/// A: m_r = 4.5, s_r = 0.5; B: m_r = 2.5, s_r = 0.5; n = 2 each (w = 2/12).
/// Reference (nobody gave the top level on more than half: A has one 5 in two): levels 4,5,2,3,
/// m_ref = 3.5, s_ref = sqrt((0.25 + 2.25 + 2.25 + 0.25)/4) = sqrt(1.25) = 1.118034.
/// A: cal = 3.5 + (5 − 4.5)·1.118034/0.5 = 4.618034; (1/6)·4.618034 + (5/6)·5 = 4.936339;
///    total = 100·(4.936339 − 1)/4 = 98.41.
/// B: cal = 3.5 + (3 − 2.5)·1.118034/0.5 = 4.618034; (1/6)·4.618034 + (5/6)·3 = 3.269672;
///    total = 100·2.269672/4 = 56.74.
/// Calibrated score = (98.41 + 56.74)/2 = 77.575 → 77.58.
#[tokio::test]
async fn calibration_is_stored_once_with_the_numbers_worked_out_by_hand() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let a = (app.user_id(OWNER_LUMI.0).await, OWNER_LABEL);
    let b = (app.user_id(OPERATOR_LUMI.0).await, OPERATOR_LABEL);
    let mut conn = app.owner_conn().await;
    let template = template_with(
        &mut conn,
        tenant,
        json!([{"code": "q", "weight": 100, "kind": "subjective"}]),
    )
    .await;
    let collabs = collaborations(&mut conn, tenant).await;
    let none = (None, None);
    let r1 = rating(&mut conn, tenant, collabs[0], template, at(20), none).await;
    let r2 = rating(&mut conn, tenant, collabs[1], template, at(10), none).await;
    let r3 = rating(&mut conn, tenant, collabs[2], template, None, none).await;
    submit(&mut conn, tenant, r1, a, 1, json!({"q": 4}), d("75")).await;
    submit(&mut conn, tenant, r1, b, 1, json!({"q": 2}), d("25")).await;
    submit(&mut conn, tenant, r2, a, 1, json!({"q": 5}), d("100")).await;
    submit(&mut conn, tenant, r2, b, 1, json!({"q": 3}), d("50")).await;
    let sa = submit(&mut conn, tenant, r3, a, 1, json!({"q": 5}), d("100")).await;
    let sb = submit(&mut conn, tenant, r3, b, 1, json!({"q": 3}), d("50")).await;
    conn.close().await.ok();

    let actor = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&actor).await;
    let got = sextant::ratings::consistency::actions::calibrate_rating(&mut tx, tenant, r3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut totals: Vec<(Uuid, Decimal)> = got.iter().map(|c| (c.submission_id, c.total)).collect();
    totals.sort();
    let mut expected = vec![(sa, d("98.41")), (sb, d("56.74"))];
    expected.sort();
    assert_eq!(totals, expected);

    let mut conn = app.owner_conn().await;
    let score: Option<Decimal> =
        sqlx::query_scalar("SELECT calibrated_score FROM ratings WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(r3)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(score, Some(d("77.58")));
    let level: serde_json::Value = sqlx::query_scalar(
        "SELECT levels FROM submission_calibrations WHERE tenant_id = $1 AND submission_id = $2",
    )
    .bind(tenant)
    .bind(sa)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(level, json!({"q": 4.9363}));

    // Again (e.g. a retried completion): the stored rows are answered, nothing is added.
    let mut tx = app.tx_for(&actor).await;
    let again = sextant::ratings::consistency::actions::calibrate_rating(&mut tx, tenant, r3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again.len(), 2);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM submission_calibrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn a_first_rating_keeps_its_raw_levels_and_another_tenants_rating_is_not_found() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let a = (app.user_id(OWNER_LUMI.0).await, OWNER_LABEL);
    let mut conn = app.owner_conn().await;
    let template = template(&mut conn, tenant).await;
    let collabs = collaborations(&mut conn, tenant).await;
    let r = rating(&mut conn, tenant, collabs[0], template, None, (None, None)).await;
    // 30·(4−1)/4 + 30·(2−1)/4 + 40·(3.5−1)/4 = 22.5 + 7.5 + 25 = 55.
    let s = submit(
        &mut conn,
        tenant,
        r,
        a,
        1,
        json!({"q1": 4, "q2": 2, "conv": 3.5}),
        d("55"),
    )
    .await;
    conn.close().await.ok();

    let actor = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&actor).await;
    let got = sextant::ratings::consistency::actions::calibrate_rating(&mut tx, tenant, r)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        got,
        vec![sextant::ratings::consistency::actions::CalibratedSubmission {
            submission_id: s,
            total: d("55.00"),
        }]
    );

    // Nordpeak's transaction cannot reach Lumi's rating.
    let theirs = app.actor(OWNER_NORDPEAK.0, "nordpeak").await;
    let mut tx = app.tx_for(&theirs).await;
    let other = app.tenant_id("nordpeak").await;
    let err = sextant::ratings::consistency::actions::calibrate_rating(&mut tx, other, r).await;
    assert!(matches!(err, Err(sextant::error::DomainError::NotFound)));
}
