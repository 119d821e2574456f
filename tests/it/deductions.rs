//! The deduction-policy editor (issue 15): the owner saves a new version (points and money per
//! kind × severity); records made afterwards count under it while earlier ones keep the worth
//! frozen when they were recorded; bad cells are refused next to themselves with nothing stored;
//! versions never change; only the owner edits; another tenant gets 404.

use reqwest::StatusCode;
use rust_decimal::Decimal;
use sextant::fulfilment::domain::{cell_field, default_rules, policy_fields};
use uuid::Uuid;

use crate::fulfilment::{collaboration_in, event, record_as};
use crate::support::*;

const PAGE: &str = "/t/lumi/settings/deductions";

/// The default policy's form fields with `changes` (field, value) applied.
pub(crate) fn form(based_on: i32, changes: &[(String, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![("based_on".into(), based_on.to_string())];
    for (name, v) in policy_fields(&default_rules()) {
        let v = changes
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(v, |(_, v)| v.to_string());
        out.push((name, v));
    }
    out
}

pub(crate) fn a_change() -> Vec<(String, &'static str)> {
    use sextant::fulfilment::domain::{Kind, Severity};
    vec![
        (
            cell_field(Kind::ScriptDeviation, Severity::Major, "points"),
            "1.5",
        ),
        (
            cell_field(Kind::ScriptDeviation, Severity::Major, "money"),
            "percent",
        ),
        (
            cell_field(Kind::ScriptDeviation, Severity::Major, "percent"),
            "10",
        ),
        (
            cell_field(Kind::NoPublish, Severity::Severe, "money"),
            "amount",
        ),
        (
            cell_field(Kind::NoPublish, Severity::Severe, "amount"),
            "200",
        ),
        (
            cell_field(Kind::NoPublish, Severity::Severe, "currency"),
            "USD",
        ),
    ]
}

async fn versions(app: &TestApp, tenant: Uuid) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM deduction_policies WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(String, String)],
    lang: &str,
) -> reqwest::Response {
    client
        .post(app.url(PAGE))
        .header("accept-language", lang)
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_policy_counts_for_records_from_then_on_and_earlier_records_keep_their_worth() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let collab = collaboration_in(&app, "accepted").await;
    // Recorded under version 1 (SPEC defaults): a major script deviation is 1 point, no money.
    let before = record_as(
        &app,
        OWNER_LUMI.0,
        event(collab, "script_deviation", "major", "v1"),
    )
    .await
    .unwrap();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok_in(&owner, PAGE, "en").await;
    assert!(
        page.contains(r#"name="script_deviation.major.points" value="1""#),
        "the form starts from the policy in force"
    );
    let v = versions(&app, lumi).await;

    let res = post(&app, &owner, &form(v as i32, &a_change()), "en").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(versions(&app, lumi).await, v + 1);
    let page = app.get_ok_in(&owner, PAGE, "en").await;
    assert!(page.contains(r#"name="script_deviation.major.points" value="1.5""#));
    assert!(page.contains(r#"name="no_publish.severe.amount" value="200""#));

    let after = record_as(
        &app,
        OWNER_LUMI.0,
        event(collab, "script_deviation", "major", "v2"),
    )
    .await
    .unwrap();
    let mut c = app.owner_conn().await;
    let worth = |id: Uuid| {
        sqlx::query_as::<_, (i32, Decimal, Option<Decimal>)>(
            "SELECT policy_version, points, money_percent FROM fulfilment_records WHERE id = $1",
        )
        .bind(id)
    };
    let (v1, p1, m1) = worth(before).fetch_one(&mut c).await.unwrap();
    let (v2, p2, m2) = worth(after).fetch_one(&mut c).await.unwrap();
    assert_eq!(
        (v1, p1, m1),
        (v as i32, Decimal::ONE, None),
        "the earlier record keeps its worth"
    );
    assert_eq!(
        (v2, p2, m2),
        (v as i32 + 1, Decimal::new(15, 1), Some(Decimal::TEN)),
        "a record from now on counts under the new version"
    );
    // The versions list counts records per version.
    let page = app.get_ok_in(&owner, PAGE, "en").await;
    let list = &page[page.find(r#"data-testid="policy-versions""#).unwrap()..];
    assert!(list.contains(&format!(r#"data-version="{}""#, v + 1)));
    // Audited.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'deduction_policy.version' AND tenant_id = $1",
    )
    .bind(lumi)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // The same again: unchanged; from the old version: stale. Nothing stored.
    for based_on in [v as i32 + 1, v as i32] {
        let res = post(&app, &owner, &form(based_on, &a_change()), "en").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(r#"data-field="policy""#));
    }
    assert_eq!(versions(&app, lumi).await, v + 1);
}

#[tokio::test]
async fn bad_cells_are_refused_next_to_themselves_and_nothing_is_stored() {
    use sextant::fulfilment::domain::{Kind, Severity};
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    app.get_ok_in(&owner, PAGE, "en").await;
    let v = versions(&app, lumi).await as i32;
    let f = |part: &str| cell_field(Kind::CartLinkMissing, Severity::Minor, part);
    for (changes, field) in [
        (vec![(f("points"), "5")], f("points")),
        (vec![(f("points"), "abc")], f("points")),
        (
            vec![(f("money"), "percent"), (f("percent"), "0")],
            f("percent"),
        ),
        (
            vec![(f("money"), "percent"), (f("percent"), "250")],
            f("percent"),
        ),
        (
            vec![
                (f("money"), "amount"),
                (f("amount"), "12.5"),
                (f("currency"), "JPY"),
            ],
            f("amount"),
        ),
        (
            vec![
                (f("money"), "amount"),
                (f("amount"), "20"),
                (f("currency"), ""),
            ],
            f("currency"),
        ),
        (vec![(f("money"), "bribe")], f("money")),
    ] {
        for lang in ["zh-CN", "en"] {
            let res = post(&app, &owner, &form(v, &changes), lang).await;
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{changes:?}"
            );
            let html = res.text().await.unwrap();
            assert!(
                html.contains(&format!(r#"data-field="{field}""#)),
                "{changes:?}"
            );
            assert!(
                html.contains(&format!(r##"href="#{field}""##)),
                "{changes:?}: summary link"
            );
        }
    }
    assert_eq!(versions(&app, lumi).await as i32, v, "nothing stored");
}

#[tokio::test]
async fn only_the_owner_changes_the_policy_versions_never_change_and_strangers_get_404() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    app.get_ok_in(&owner, PAGE, "en").await;
    let v = versions(&app, lumi).await;
    for (who, pw) in [OPERATOR_LUMI, VIEWER_LUMI] {
        let client = app.login(who, pw).await;
        let page = app.get_ok_in(&client, PAGE, "en").await;
        assert!(
            !page.contains(r#"data-testid="policy-form""#),
            "{who} reads, without a form"
        );
        let res = post(&app, &client, &form(v as i32, &a_change()), "en").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(versions(&app, lumi).await, v);
    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    assert_eq!(app.status_of(&stranger, PAGE).await, StatusCode::NOT_FOUND);
    let res = post(&app, &stranger, &form(v as i32, &a_change()), "en").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(versions(&app, lumi).await, v);
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    for sql in [
        "UPDATE deduction_policies SET rules = '[]'",
        "DELETE FROM deduction_policies",
    ] {
        let mut sp = sqlx::Connection::begin(&mut *tx).await.unwrap();
        assert!(sqlx::query(sql).execute(&mut *sp).await.is_err(), "{sql}");
        sp.rollback().await.unwrap();
    }
}
