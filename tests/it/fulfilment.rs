//! Fulfilment records: recording with evidence, corrections that supersede, the deduction
//! policy's frozen worth, bad input beside its field with nothing stored, tenant isolation,
//! append-only storage, and the late/no-publish job.

use reqwest::multipart::{Form, Part};
use rust_decimal::Decimal;
use sextant::error::DomainError;
use sextant::evidence::actions::MAX_EVIDENCE_BYTES;
use sextant::evidence::form::upload;
use sextant::fulfilment::actions::{
    CorrectFulfilmentRecord, RecordFulfilmentEvent, correct_fulfilment_record,
    record_fulfilment_event,
};
use sextant::fulfilment::jobs;
use sextant::fulfilment::repo::counting_for_collaboration;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::evidence::{PNG, evidence_objects};
use crate::support::*;

/// A Lumi collaboration in `state` with no fulfilment record yet.
pub(crate) async fn collaboration_in(app: &TestApp, state: &str) -> Uuid {
    let tenant = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT l.id FROM collaborations l WHERE l.tenant_id = $1 AND l.state = $2 \
           AND NOT EXISTS (SELECT 1 FROM fulfilment_records r WHERE r.collaboration_id = l.id) \
         ORDER BY l.created_at, l.id LIMIT 1",
    )
    .bind(tenant)
    .bind(state)
    .fetch_one(&mut c)
    .await
    .unwrap_or_else(|e| panic!("a lumi collaboration in {state}: {e}"))
}

async fn records_of(app: &TestApp, collaboration: Uuid) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM fulfilment_records WHERE collaboration_id = $1")
        .bind(collaboration)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

pub(crate) fn event(
    collaboration: Uuid,
    kind: &str,
    severity: &str,
    note: &str,
) -> RecordFulfilmentEvent {
    RecordFulfilmentEvent {
        collaboration_id: collaboration,
        kind: kind.into(),
        severity: severity.into(),
        note: note.into(),
        occurred_on: String::new(),
        files: Vec::new(),
    }
}

pub(crate) async fn record_as(
    app: &TestApp,
    email: &str,
    input: RecordFulfilmentEvent,
) -> Result<Uuid, DomainError> {
    let actor = app.actor(email, "lumi").await;
    let mut tx = app.tx_for(&actor).await;
    let done = record_fulfilment_event(&mut tx, &app.state.storage, &actor, input).await;
    if done.is_ok() {
        tx.commit().await.unwrap();
    }
    done
}

async fn correct_as(
    app: &TestApp,
    email: &str,
    input: CorrectFulfilmentRecord,
) -> Result<Uuid, DomainError> {
    let actor = app.actor(email, "lumi").await;
    let mut tx = app.tx_for(&actor).await;
    let done = correct_fulfilment_record(&mut tx, &actor, input).await;
    if done.is_ok() {
        tx.commit().await.unwrap();
    }
    done
}

async fn counting(
    app: &TestApp,
    collaboration: Uuid,
) -> Vec<sextant::fulfilment::repo::CountingRecord> {
    let actor = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&actor).await;
    counting_for_collaboration(&mut tx, actor.tenant_id().unwrap(), collaboration)
        .await
        .unwrap()
}

fn field_error(result: Result<Uuid, DomainError>, field: &str, key: &str) {
    match result {
        Err(DomainError::Invalid(errors)) => {
            assert_eq!(errors.get(field).copied(), Some(key), "{errors:?}")
        }
        other => panic!("expected {field}: {key}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_record_with_evidence_is_worth_the_default_points_and_its_file_is_served() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let mut input = event(
        collab,
        "cart_link_missing",
        "major",
        "没有挂车 / no cart link",
    );
    input.files = vec![upload("screenshot.png", PNG.to_vec())];
    let id = record_as(&app, OPERATOR_LUMI.0, input).await.unwrap();
    let rows = counting(&app, collab).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
    assert_eq!(rows[0].kind, "cart_link_missing");
    assert_eq!(rows[0].points, Decimal::ONE);
    assert_eq!(rows[0].money_amount, None);
    let mut c = app.owner_conn().await;
    let (version, upload_id): (i32, Uuid) = sqlx::query_as(
        "SELECT r.policy_version, f.upload_id FROM fulfilment_records r \
           JOIN fulfilment_record_files f ON f.record_id = r.id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(version, 1);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(page.contains("data-testid=\"fulfilment-section\""));
    assert!(page.contains("no cart link"));
    assert!(page.contains(&format!("/t/lumi/evidence/{upload_id}")));
    let file = owner
        .get(app.url(&format!("/t/lumi/evidence/{upload_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().as_ref(), PNG);
    let audit = app.audit_of(&id.to_string()).await;
    assert_eq!(audit[0].0, "fulfilment.record");
}

#[tokio::test]
async fn a_correction_supersedes_and_only_the_latest_counts_and_a_withdrawal_counts_nothing() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let first = record_as(
        &app,
        OWNER_LUMI.0,
        event(collab, "slow_response", "minor", "two days"),
    )
    .await
    .unwrap();
    let correction = CorrectFulfilmentRecord {
        record_id: first,
        action: "major".into(),
        note: "a week, in fact".into(),
        reason: "checked the chat log".into(),
    };
    let second = correct_as(&app, OPERATOR_LUMI.0, correction.clone())
        .await
        .unwrap();
    let rows = counting(&app, collab).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, second);
    assert_eq!(rows[0].severity, "major");
    assert_eq!(rows[0].points, Decimal::ONE);
    assert_eq!(rows[0].note, "a week, in fact");
    // The superseded record cannot be corrected again; nothing is added.
    field_error(
        correct_as(&app, OWNER_LUMI.0, correction).await,
        "reason",
        "fulfilment.error.already_corrected",
    );
    // A reason is required.
    field_error(
        correct_as(
            &app,
            OWNER_LUMI.0,
            CorrectFulfilmentRecord {
                record_id: second,
                action: "withdraw".into(),
                note: String::new(),
                reason: "  ".into(),
            },
        )
        .await,
        "reason",
        "fulfilment.error.reason_required",
    );
    assert_eq!(records_of(&app, collab).await, 2);
    let withdrawal = correct_as(
        &app,
        OWNER_LUMI.0,
        CorrectFulfilmentRecord {
            record_id: second,
            action: "withdraw".into(),
            note: String::new(),
            reason: "the creator was ill; agreed".into(),
        },
    )
    .await
    .unwrap();
    assert!(counting(&app, collab).await.is_empty());
    // A withdrawal is not itself corrected.
    field_error(
        correct_as(
            &app,
            OWNER_LUMI.0,
            CorrectFulfilmentRecord {
                record_id: withdrawal,
                action: "minor".into(),
                note: String::new(),
                reason: "undo".into(),
            },
        )
        .await,
        "reason",
        "fulfilment.error.not_counting",
    );
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(page.contains("data-testid=\"record-withdrawn\""));
    assert!(page.contains("data-testid=\"record-corrected\""));
}

#[tokio::test]
async fn bad_input_in_each_field_is_refused_with_its_message_and_nothing_is_stored() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    // The demo's own evidence files (seeded for other collaborations) stay as they are.
    let objects_before = evidence_objects(&app, "lumi").await;
    let mut too_big = b"%PDF-".to_vec();
    too_big.resize(MAX_EVIDENCE_BYTES + 1, b' ');
    let cases: Vec<(RecordFulfilmentEvent, &str, &str)> = vec![
        (
            event(collab, "bogus", "minor", ""),
            "kind",
            "fulfilment.error.kind",
        ),
        (
            event(collab, "no_publish", "severe", ""),
            "kind",
            "fulfilment.error.kind_automatic",
        ),
        (
            event(collab, "slow_response", "awful", ""),
            "severity",
            "fulfilment.error.severity",
        ),
        (
            event(collab, "slow_response", "minor", &"x".repeat(5001)),
            "note",
            "error.text.at_most_5000",
        ),
        (
            event(collab, "slow_response", "minor", "bell\u{7}"),
            "note",
            "error.text.control",
        ),
        (
            RecordFulfilmentEvent {
                occurred_on: "2026-13-40".into(),
                ..event(collab, "slow_response", "minor", "")
            },
            "occurred_on",
            "fulfilment.error.occurred_at",
        ),
        (
            RecordFulfilmentEvent {
                files: vec![upload("proof.png", b"plain text, renamed".to_vec())],
                ..event(collab, "slow_response", "minor", "")
            },
            "evidence",
            "evidence.error.unsupported_type",
        ),
        (
            RecordFulfilmentEvent {
                files: vec![upload("big.pdf", too_big)],
                ..event(collab, "slow_response", "minor", "")
            },
            "evidence",
            "evidence.error.too_big",
        ),
    ];
    for (input, field, key) in cases {
        field_error(record_as(&app, OWNER_LUMI.0, input).await, field, key);
    }
    assert_eq!(records_of(&app, collab).await, 0);
    assert_eq!(evidence_objects(&app, "lumi").await, objects_before);
}

async fn post_record(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = file {
        form = form.part("evidence", Part::bytes(bytes).file_name(name.to_string()));
    }
    client
        .post(app.url(path))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_form_shows_the_message_beside_the_field_and_a_too_big_file_gets_an_answer() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let path = format!("/t/lumi/collaborations/{collab}/fulfilment");
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let fields = [
        ("kind", "script_deviation"),
        ("severity", "minor"),
        ("note", "kept this note"),
    ];
    let res = post_record(
        &app,
        &owner,
        &path,
        &fields,
        Some(("x.png", b"<html>".to_vec())),
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-field=\"evidence\""), "{html}");
    assert!(html.contains("kept this note"));
    let mut big = PNG.to_vec();
    big.resize(MAX_EVIDENCE_BYTES + 1, 0);
    let res = post_record(&app, &owner, &path, &fields, Some(("big.png", big))).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("data-field=\"evidence\"")
    );
    assert_eq!(records_of(&app, collab).await, 0);
    // And a good one goes back to the collaboration.
    let res = post_record(&app, &owner, &path, &fields, Some(("ok.png", PNG.to_vec()))).await;
    assert_eq!(res.status(), 303);
    assert_eq!(records_of(&app, collab).await, 1);
}

#[tokio::test]
async fn other_tenants_get_404_and_viewers_403_and_a_proposed_collaboration_is_refused() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let record = record_as(
        &app,
        OWNER_LUMI.0,
        event(collab, "slow_response", "minor", ""),
    )
    .await
    .unwrap();
    let fields = [("kind", "slow_response"), ("severity", "minor")];
    let nordpeak = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        format!("/t/lumi/collaborations/{collab}/fulfilment"),
        format!("/t/nordpeak/collaborations/{collab}/fulfilment"),
    ] {
        let res = post_record(&app, &nordpeak, &path, &fields, None).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    for path in [
        format!("/t/lumi/fulfilment/{record}/correct"),
        format!("/t/nordpeak/fulfilment/{record}/correct"),
    ] {
        let res = app
            .post_form(
                &nordpeak,
                &path,
                &[("action", "withdraw"), ("reason", "mine")],
            )
            .await;
        assert_eq!(res.status(), 404, "{path}");
    }
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let res = post_record(
        &app,
        &viewer,
        &format!("/t/lumi/collaborations/{collab}/fulfilment"),
        &fields,
        None,
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = app
        .post_form(
            &viewer,
            &format!("/t/lumi/fulfilment/{record}/correct"),
            &[("action", "withdraw"), ("reason", "no")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let page = app
        .get_ok(&viewer, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(page.contains("data-testid=\"fulfilment-record\""));
    assert!(!page.contains("data-testid=\"fulfilment-form\""));
    assert_eq!(records_of(&app, collab).await, 1);
    let proposed = collaboration_in(&app, "proposed").await;
    let refused = record_as(
        &app,
        OWNER_LUMI.0,
        event(proposed, "slow_response", "minor", ""),
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Refused("fulfilment.error.state"))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_app_role_cannot_update_or_delete_a_record() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let id = record_as(
        &app,
        OWNER_LUMI.0,
        event(collab, "compliance_issue", "severe", "claims"),
    )
    .await
    .unwrap();
    let tenant = app.tenant_id("lumi").await;
    for sql in [
        "UPDATE fulfilment_records SET points = 0 WHERE id = $1",
        "DELETE FROM fulfilment_records WHERE id = $1",
    ] {
        let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
        let err = sqlx::query(sql).bind(id).execute(&mut *tx).await;
        assert!(err.is_err(), "{sql} must fail for the app role");
    }
    let mut c = app.owner_conn().await;
    let err = sqlx::query("DELETE FROM fulfilment_records WHERE id = $1")
        .bind(id)
        .execute(&mut c)
        .await;
    assert!(err.is_err(), "even the owner cannot delete");
    assert_eq!(counting(&app, collab).await.len(), 1);
}

/// The current terms' publish deadline of a collaboration.
pub(crate) async fn deadline_of(app: &TestApp, collab: Uuid) -> Date {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT (v.terms->>'publish_deadline')::date FROM contract_versions v \
           JOIN collaborations l ON l.id = v.collaboration_id AND v.version = l.current_version \
          WHERE l.id = $1",
    )
    .bind(collab)
    .fetch_one(&mut c)
    .await
    .unwrap()
}

async fn automatic_of(app: &TestApp, collab: Uuid) -> Vec<(String, String, Option<i32>)> {
    let mut c = app.owner_conn().await;
    sqlx::query_as(
        "SELECT kind, severity, days_late FROM fulfilment_records \
          WHERE collaboration_id = $1 AND automatic ORDER BY recorded_at",
    )
    .bind(collab)
    .fetch_all(&mut c)
    .await
    .unwrap()
}

pub(crate) fn noon(day: Date) -> OffsetDateTime {
    day.with_time(time::macros::time!(12:00)).assume_utc()
}

#[tokio::test]
async fn the_job_records_no_publish_once_after_the_grace_days() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let deadline = deadline_of(&app, collab).await;
    // Lumi's time zone is ahead of UTC: stay clear of the day's edges.
    jobs::tick(&app.db, noon(deadline + time::Duration::days(2)))
        .await
        .unwrap();
    assert!(
        automatic_of(&app, collab).await.is_empty(),
        "within the grace days"
    );
    let after = noon(deadline + time::Duration::days(5));
    jobs::tick(&app.db, after).await.unwrap();
    jobs::tick(&app.db, after).await.unwrap();
    assert_eq!(
        automatic_of(&app, collab).await,
        vec![("no_publish".into(), "severe".into(), None)]
    );
}

#[tokio::test]
async fn the_job_records_late_publish_with_the_days_late() {
    let app = TestApp::with_demo_campaigns().await;
    let collab = collaboration_in(&app, "accepted").await;
    let deadline = deadline_of(&app, collab).await;
    let tenant = app.tenant_id("lumi").await;
    let mut c = app.owner_conn().await;
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, published_at) \
         VALUES ($1, $2, $3, 'https://www.tiktok.com/@late/video/1', $4)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(collab)
    .bind(noon(deadline + time::Duration::days(2)))
    .execute(&mut c)
    .await
    .unwrap();
    let later = noon(deadline + time::Duration::days(10));
    jobs::tick(&app.db, later).await.unwrap();
    jobs::tick(&app.db, later).await.unwrap();
    assert_eq!(
        automatic_of(&app, collab).await,
        vec![("late_publish".into(), "minor".into(), Some(2))]
    );
}
