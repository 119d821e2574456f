//! The scorecard template editor (issue 15): the owner makes a new version from the one in
//! force (a dimension added, weights moved), previews it, compares versions; bad input is refused
//! field by field with nothing stored; versions never change (also by SQL as the app's role); a
//! rating keeps the version in force when it opened; other roles and tenants cannot edit.

use reqwest::StatusCode;
use sextant::ratings::domain::{DraftRow, default_template, draft_field, draft_pairs};
use uuid::Uuid;

use crate::support::*;

const NEW_LABEL_EN: &str = "After-sales word of mouth";
const NEW_LABEL_ZH: &str = "售后口碑";

/// The form's fields for `rows`, with `intent` and the version they come from.
pub(crate) fn form(rows: &[DraftRow], based_on: i32, intent: &str) -> Vec<(String, String)> {
    let mut out = vec![
        ("based_on".to_string(), based_on.to_string()),
        ("intent".to_string(), intent.to_string()),
    ];
    out.extend(draft_pairs(rows));
    out
}

/// The default template with one more subjective dimension (its weight taken from content
/// quality, so the weights still add up to 100).
pub(crate) fn with_new_dimension() -> Vec<DraftRow> {
    let mut rows: Vec<DraftRow> = default_template().iter().map(DraftRow::of).collect();
    let first: u32 = rows[0].weight.parse().unwrap();
    rows[0].weight = (first - 6).to_string();
    let mut new = DraftRow::blank();
    new.label_zh = NEW_LABEL_ZH.into();
    new.label_en = NEW_LABEL_EN.into();
    new.weight = "6".into();
    new.rubric_zh = std::array::from_fn(|i| format!("售后第 {} 级：买家评价与退货情况", i + 1));
    new.rubric_en =
        std::array::from_fn(|i| format!("After-sales level {}: reviews and returns", i + 1));
    rows.push(new);
    rows
}

async fn versions(app: &TestApp, tenant: Uuid) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM scorecard_templates WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("accept-language", "en")
        .form(fields)
        .send()
        .await
        .unwrap()
}

const NEW: &str = "/t/lumi/settings/scorecard/new";

#[tokio::test]
async fn the_owner_makes_a_version_with_a_new_dimension_previews_and_compares_it() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let form_page = app.get_ok_in(&owner, NEW, "en").await;
    assert!(
        form_page.contains(r#"name="d0_weight" value="16""#),
        "the form starts from the version in force"
    );
    let before = versions(&app, lumi).await;
    assert_eq!(before, 1, "version 1 is stored on first use");

    // One more empty dimension; nothing stored.
    let res = post(&app, &owner, NEW, &form(&with_new_dimension(), 1, "add")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert_eq!(
        html.matches("class=\"form-section dimension-row\"").count(),
        default_template().len() + 2
    );

    // The preview: the scorecard as a rater will see it, nothing stored.
    let res = post(
        &app,
        &owner,
        NEW,
        &form(&with_new_dimension(), 1, "preview"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let preview = &html[html
        .find(r#"data-testid="scorecard-preview""#)
        .expect("a preview")..];
    assert!(
        preview.contains(NEW_LABEL_EN)
            && preview.contains("After-sales level 3: reviews and returns")
    );
    assert_eq!(versions(&app, lumi).await, 1);

    // Saved: version 2, in force, listed, and the comparison says what changed.
    let res = post(&app, &owner, NEW, &form(&with_new_dimension(), 1, "save")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/t/lumi/settings/scorecard/2"
    );
    assert_eq!(versions(&app, lumi).await, 2);
    let shown = app
        .get_ok_in(&owner, "/t/lumi/settings/scorecard/2", "zh-CN")
        .await;
    assert!(shown.contains(NEW_LABEL_ZH) && shown.contains("售后第 5 级"));
    let index = app
        .get_ok_in(&owner, "/t/lumi/settings/scorecard", "en")
        .await;
    let current = &index[index.find(r#"data-testid="current-dimensions""#).unwrap()..];
    assert!(current.contains(NEW_LABEL_EN));
    assert!(index.contains(r#"data-version="2""#) && index.contains(r#"data-version="1""#));
    let diff = app
        .get_ok_in(&owner, "/t/lumi/settings/scorecard/diff?from=1&to=2", "en")
        .await;
    let changes = &diff[diff.find(r#"data-testid="changes""#).unwrap()..];
    assert!(
        changes.contains(&format!("Added: {NEW_LABEL_EN}")),
        "{changes}"
    );
    assert!(
        changes.contains("Content quality weight: 16 → 10"),
        "{changes}"
    );
    let same = app
        .get_ok_in(&owner, "/t/lumi/settings/scorecard/diff?from=2&to=2", "en")
        .await;
    assert!(same.contains(r#"data-testid="no-changes""#));
    // The audit log has it.
    let mut c = app.owner_conn().await;
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'scorecard.version' AND tenant_id = $1",
    )
    .bind(lumi)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The same form again is stale (made from version 1); the same as in force is unchanged.
    let res = post(&app, &owner, NEW, &form(&with_new_dimension(), 1, "save")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(r#"data-field="dimensions""#)
    );
    let res = post(&app, &owner, NEW, &form(&with_new_dimension(), 2, "save")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(versions(&app, lumi).await, 2);
}

#[tokio::test]
async fn bad_templates_are_refused_field_by_field_and_nothing_is_stored() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    app.get_ok_in(&owner, NEW, "en").await;
    let cases: Vec<(&str, Vec<DraftRow>, String)> = vec![
        (
            "weights not adding up to 100",
            {
                let mut rows = with_new_dimension();
                rows[0].weight = "30".into();
                rows
            },
            "weights".into(),
        ),
        (
            "an empty rubric level",
            {
                let mut rows = with_new_dimension();
                let last = rows.len() - 1;
                rows[last].rubric_en[2] = "  ".into();
                rows
            },
            draft_field(default_template().len(), "rubric_en_3"),
        ),
        (
            "a duplicate dimension",
            {
                let mut rows = with_new_dimension();
                let last = rows.len() - 1;
                rows[last].label_en = "Content Quality".into();
                rows[last].code = "content_quality".into();
                rows
            },
            draft_field(default_template().len(), "code"),
        ),
        (
            "a weight that is no number",
            {
                let mut rows = with_new_dimension();
                rows[1].weight = "forty".into();
                rows
            },
            draft_field(1, "weight"),
        ),
        (
            "an objective dimension without a formula",
            {
                let mut rows = with_new_dimension();
                let last = rows.len() - 1;
                rows[last].kind = "objective".into();
                rows[last].formula = "followers".into();
                rows
            },
            draft_field(default_template().len(), "formula"),
        ),
    ];
    for (what, rows, field) in cases {
        for lang in ["zh-CN", "en"] {
            let res = owner
                .post(app.url(NEW))
                .header("accept-language", lang)
                .form(&form(&rows, 1, "save"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
            let html = res.text().await.unwrap();
            assert!(
                html.contains(&format!(r#"data-field="{field}""#)),
                "{what}: {field}"
            );
            assert!(
                html.contains(&format!(r##"href="#{field}""##)),
                "{what}: the summary links {field}"
            );
        }
    }
    assert_eq!(versions(&app, lumi).await, 1, "nothing stored");
}

#[tokio::test]
async fn versions_never_change_and_a_rating_keeps_the_version_it_opened_with() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let mut c = app.owner_conn().await;
    // Two collaborations of the evaluating demo campaign, their windows final.
    let collabs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT l.id FROM collaborations l JOIN campaigns k ON k.tenant_id = l.tenant_id \
           AND k.id = l.campaign_id WHERE l.tenant_id = $1 AND k.state = 'evaluating' \
           AND EXISTS (SELECT 1 FROM posts p WHERE p.collaboration_id = l.id) ORDER BY l.id LIMIT 2",
    )
    .bind(lumi)
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(collabs.len(), 2);
    let open = |id: Uuid| {
        let app = &app;
        async move {
            let actor = app.actor(OWNER_LUMI.0, "lumi").await;
            let mut tx = app.tx_for(&actor).await;
            sextant::ratings::actions::open_rating(
                &mut tx,
                &actor,
                sextant::ratings::actions::OpenRating {
                    collaboration_id: id,
                    override_reason: "test".into(),
                    now: time::OffsetDateTime::now_utc(),
                },
            )
            .await
            .unwrap();
            let me = app.user_id(OWNER_LUMI.0).await;
            sextant::ratings::actions::assign_raters(
                &mut tx,
                &actor,
                sextant::ratings::actions::AssignRaters {
                    collaboration_id: id,
                    user_ids: vec![me],
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
    };
    open(collabs[0]).await;
    let res = post(&app, &owner, NEW, &form(&with_new_dimension(), 1, "save")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    open(collabs[1]).await;

    let first = app
        .get_ok_in(
            &owner,
            &format!("/t/lumi/collaborations/{}/rating", collabs[0]),
            "en",
        )
        .await;
    let second = app
        .get_ok_in(
            &owner,
            &format!("/t/lumi/collaborations/{}/rating", collabs[1]),
            "en",
        )
        .await;
    // The rater's form of each has its own version's dimensions.
    assert!(first.contains("Scorecard · Version 1"));
    assert!(first.contains(r#"data-testid="scorecard""#) && !first.contains(NEW_LABEL_EN));
    assert!(second.contains("Scorecard · Version 2"));
    assert!(
        second.contains(NEW_LABEL_EN)
            && second.contains("After-sales level 4: reviews and returns")
    );
    let index = app
        .get_ok_in(&owner, "/t/lumi/settings/scorecard", "en")
        .await;
    let row = |v: &str| {
        let at = index.find(&format!(r#"data-version="{v}""#)).unwrap();
        index[at..at + index[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(
        row("1").contains(r#"<td class="num">1</td>"#),
        "{}",
        row("1")
    );
    assert!(
        row("2").contains(r#"<td class="num">1</td>"#),
        "{}",
        row("2")
    );

    // As the app's role, a version can be neither changed nor removed.
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    for sql in [
        "UPDATE scorecard_templates SET dimensions = '[]' WHERE version = 1",
        "DELETE FROM scorecard_templates WHERE version = 2",
    ] {
        let mut sp = sqlx::Connection::begin(&mut *tx).await.unwrap();
        assert!(sqlx::query(sql).execute(&mut *sp).await.is_err(), "{sql}");
        sp.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn only_the_owner_edits_and_another_tenant_gets_404() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    assert_eq!(
        post(&app, &owner, NEW, &form(&with_new_dimension(), 1, "save"))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    for (who, pw) in [OPERATOR_LUMI, VIEWER_LUMI] {
        let client = app.login(who, pw).await;
        app.get_ok_in(&client, "/t/lumi/settings/scorecard", "en")
            .await;
        app.get_ok_in(&client, "/t/lumi/settings/scorecard/2", "en")
            .await;
        assert_eq!(
            app.status_of(&client, NEW).await,
            StatusCode::FORBIDDEN,
            "{who}"
        );
        let res = post(&app, &client, NEW, &form(&with_new_dimension(), 2, "save")).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(versions(&app, lumi).await, 2);
    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        "/t/lumi/settings/scorecard",
        "/t/lumi/settings/scorecard/2",
        "/t/lumi/settings/scorecard/diff?from=1&to=2",
        NEW,
    ] {
        assert_eq!(
            app.status_of(&stranger, path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Nordpeak's own scorecard has no version 2: Lumi's is not visible through it.
    app.get_ok_in(&stranger, "/t/nordpeak/settings/scorecard", "en")
        .await;
    for path in [
        "/t/nordpeak/settings/scorecard/2",
        "/t/nordpeak/settings/scorecard/diff?from=1&to=2",
        "/t/nordpeak/settings/scorecard/abc",
    ] {
        assert_eq!(
            app.status_of(&stranger, path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
