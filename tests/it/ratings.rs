//! Ratings (SPEC §7): the automatic moves, opening (and the owner's override), blind raters,
//! bad scorecards, one submission per rater, corrections, completion, tenant isolation.

use std::collections::BTreeMap;

use sextant::error::{DomainError, DomainResult};
use sextant::ratings::actions::{
    AssignRaters, CloseWithOne, CorrectSubmission, OpenRating, SubmitScorecard, assign_raters,
    close_with_one_rater, correct_submission, open_rating, submit_scorecard,
};
use sextant::ratings::jobs;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::*;

const SLUG: &str = "lumi";

/// A collaboration of lumi with posts whose evaluation window is final, the only one of its
/// campaign that is not ended (the others are cancelled for the fixture), in `tracking`.
pub(crate) struct Fixture {
    pub(crate) app: TestApp,
    pub(crate) collab: Uuid,
    pub(crate) campaign: Uuid,
    /// The last post's publish time.
    published: OffsetDateTime,
}

pub(crate) async fn fixture() -> Fixture {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let mut c = app.owner_conn().await;
    let (collab, campaign, published): (Uuid, Uuid, OffsetDateTime) = sqlx::query_as(
        "SELECT l.id, l.campaign_id, max(p.published_at) FROM collaborations l
           JOIN posts p ON p.tenant_id = l.tenant_id AND p.collaboration_id = l.id
           JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id
          WHERE l.tenant_id = $1 AND l.state IN ('published', 'tracking') AND k.state = 'running'
          GROUP BY l.id, l.campaign_id ORDER BY l.id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .expect("a running collaboration with a post");
    last_of_its_campaign(&mut c, collab, campaign).await;
    Fixture {
        app,
        collab,
        campaign,
        published,
    }
}

/// Puts the collaboration in `tracking` and ends (cancels) its siblings, so that it is the last
/// one of its campaign.
pub(crate) async fn last_of_its_campaign(c: &mut sqlx::PgConnection, collab: Uuid, campaign: Uuid) {
    sqlx::query("UPDATE collaborations SET state = 'tracking' WHERE id = $1")
        .bind(collab)
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE collaborations SET state = 'cancelled' WHERE campaign_id = $1 AND id <> $2",
    )
    .bind(campaign)
    .bind(collab)
    .execute(&mut *c)
    .await
    .unwrap();
}

async fn state_of(app: &TestApp, table: &str, id: Uuid) -> String {
    let mut c = app.owner_conn().await;
    // dynamic: the table is one of two fixed names.
    sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str, id: Uuid) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn submissions(app: &TestApp, collab: Uuid) -> i64 {
    count(
        app,
        "SELECT count(*) FROM rating_submissions s JOIN ratings r ON r.id = s.rating_id
          WHERE r.collaboration_id = $1",
        collab,
    )
    .await
}

fn levels(values: &[(&str, &str)]) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn scorecard(
    collab: Uuid,
    values: &[(&str, &str)],
    justification: &str,
) -> SubmitScorecard {
    SubmitScorecard {
        collaboration_id: collab,
        levels: levels(values),
        justification: justification.into(),
        comment: "Solid work".into(),
    }
}

pub(crate) const GOOD: &[(&str, &str)] = &[
    ("content_quality", "4"),
    ("audience_match", "3"),
    ("communication", "4"),
    ("compliance", "3"),
];

fn field_error<T: std::fmt::Debug>(r: &DomainResult<T>, field: &str) -> &'static str {
    match r {
        Err(DomainError::Invalid(e)) => e
            .get(field)
            .copied()
            .unwrap_or_else(|| panic!("no error on {field}: {e:?}")),
        other => panic!("expected a field error on {field}, got {other:?}"),
    }
}

/// Runs an action in the actor's tenant transaction and commits when it succeeds.
macro_rules! act {
    ($app:expr, $actor:expr, $action:ident, $input:expr) => {{
        let mut tx = $app.tx_for(&$actor).await;
        let r = $action(&mut tx, &$actor, $input).await;
        if r.is_ok() {
            tx.commit().await.unwrap();
        }
        r
    }};
}

/// The job has moved the fixture to evaluating and opened its rating; owner and operator asked.
pub(crate) async fn opened_with_raters(f: &Fixture) {
    jobs::tick(&f.app.db, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let owner = f.app.actor(OWNER_LUMI.0, SLUG).await;
    let ids = vec![
        f.app.user_id(OWNER_LUMI.0).await,
        f.app.user_id(OPERATOR_LUMI.0).await,
    ];
    act!(
        f.app,
        owner,
        assign_raters,
        AssignRaters {
            collaboration_id: f.collab,
            user_ids: ids,
        }
    )
    .unwrap();
}

#[tokio::test]
async fn the_job_moves_a_final_collaboration_to_evaluating_and_opens_its_rating_once() {
    let f = fixture().await;
    // Before the window is final nothing moves.
    let early = f.published + Duration::days(3);
    jobs::tick(&f.app.db, early).await.unwrap();
    assert_eq!(
        state_of(&f.app, "collaborations", f.collab).await,
        "tracking"
    );
    let ratings = "SELECT count(*) FROM ratings WHERE collaboration_id = $1";
    assert_eq!(count(&f.app, ratings, f.collab).await, 0);
    let now = OffsetDateTime::now_utc();
    let first = jobs::tick(&f.app.db, now).await.unwrap();
    assert!(first.to_evaluating >= 1, "{first:?}");
    assert!(first.opened >= 1, "{first:?}");
    assert_eq!(
        state_of(&f.app, "collaborations", f.collab).await,
        "evaluating"
    );
    assert_eq!(
        state_of(&f.app, "campaigns", f.campaign).await,
        "evaluating"
    );
    assert_eq!(count(&f.app, ratings, f.collab).await, 1);
    let second = jobs::tick(&f.app.db, now).await.unwrap();
    assert_eq!(second, jobs::Ticked::default());
    assert_eq!(count(&f.app, ratings, f.collab).await, 1);
}

/// SPEC §2 (issue 13 item 3): running → evaluating by the job only when every collaboration is
/// published or ended — one still unpublished keeps the campaign running.
#[tokio::test]
async fn a_campaign_moves_to_evaluating_only_when_no_collaboration_is_left_unpublished() {
    let f = fixture().await;
    let mut c = f.app.owner_conn().await;
    let sibling: Uuid = sqlx::query_scalar(
        "UPDATE collaborations SET state = 'accepted'
          WHERE id = (SELECT id FROM collaborations WHERE campaign_id = $1 AND id <> $2
                       ORDER BY id LIMIT 1)
          RETURNING id",
    )
    .bind(f.campaign)
    .bind(f.collab)
    .fetch_one(&mut c)
    .await
    .expect("a second collaboration in the campaign");
    let now = OffsetDateTime::now_utc();
    jobs::tick(&f.app.db, now).await.unwrap();
    // Its own collaboration moved on; the campaign waits for the unpublished one.
    assert_eq!(
        state_of(&f.app, "collaborations", f.collab).await,
        "evaluating"
    );
    assert_eq!(state_of(&f.app, "campaigns", f.campaign).await, "running");
    let again = jobs::tick(&f.app.db, now).await.unwrap();
    assert_eq!(again.campaigns_evaluating, 0, "{again:?}");
    // Published: now every collaboration is published or ended.
    sqlx::query("UPDATE collaborations SET state = 'published' WHERE id = $1")
        .bind(sibling)
        .execute(&mut c)
        .await
        .unwrap();
    let moved = jobs::tick(&f.app.db, now).await.unwrap();
    assert_eq!(moved.campaigns_evaluating, 1, "{moved:?}");
    assert_eq!(
        state_of(&f.app, "campaigns", f.campaign).await,
        "evaluating"
    );
}

#[tokio::test]
async fn rating_before_the_window_is_final_needs_the_owners_override_with_a_reason() {
    let f = fixture().await;
    let early = f.published + Duration::days(2);
    let open = |reason: &str| OpenRating {
        collaboration_id: f.collab,
        override_reason: reason.into(),
        now: early,
    };
    let operator = f.app.actor(OPERATOR_LUMI.0, SLUG).await;
    let r = act!(f.app, operator, open_rating, open("A reason"));
    assert!(
        matches!(
            r,
            Err(DomainError::Refused("rating.error.window_not_final"))
        ),
        "{r:?}"
    );
    let owner = f.app.actor(OWNER_LUMI.0, SLUG).await;
    let r = act!(f.app, owner, open_rating, open("  "));
    assert_eq!(
        field_error(&r, "override_reason"),
        "rating.error.override_reason_required"
    );
    let ratings = "SELECT count(*) FROM ratings WHERE collaboration_id = $1";
    assert_eq!(count(&f.app, ratings, f.collab).await, 0);
    let id = act!(
        f.app,
        owner,
        open_rating,
        open("Launch review with the brand")
    )
    .expect("the owner's override");
    let audit = f.app.audit_of(&id.to_string()).await;
    assert_eq!(audit[0].0, "rating.open");
    assert_eq!(
        audit[0].2.as_ref().unwrap()["override_reason"],
        "Launch review with the brand"
    );
    // One rating per collaboration.
    let r = act!(f.app, owner, open_rating, open("Again"));
    assert!(matches!(
        r,
        Err(DomainError::Refused("rating.error.exists"))
    ));
}

#[tokio::test]
async fn bad_scorecards_get_field_messages_and_store_nothing() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let owner = f.app.actor(OWNER_LUMI.0, SLUG).await;
    let out_of_range = scorecard(
        f.collab,
        &[
            ("content_quality", "6"),
            ("audience_match", "0"),
            ("communication", "four"),
        ],
        "",
    );
    let r = act!(f.app, owner, submit_scorecard, out_of_range);
    assert_eq!(
        field_error(&r, "level_content_quality"),
        "rating.error.level_range"
    );
    assert_eq!(
        field_error(&r, "level_audience_match"),
        "rating.error.level_range"
    );
    assert_eq!(
        field_error(&r, "level_communication"),
        "rating.error.level_range"
    );
    assert_eq!(
        field_error(&r, "level_compliance"),
        "rating.error.level_missing"
    );
    let all_top = [
        ("content_quality", "5"),
        ("audience_match", "5"),
        ("communication", "5"),
        ("compliance", "5"),
    ];
    let r = act!(
        f.app,
        owner,
        submit_scorecard,
        scorecard(f.collab, &all_top, " ")
    );
    assert_eq!(
        field_error(&r, "justification"),
        "rating.error.justification_required"
    );
    assert_eq!(submissions(&f.app, f.collab).await, 0);
    // Over HTTP: the message next to the field, 422.
    let client = f.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = f
        .app
        .post_form(
            &client,
            &format!("/t/{SLUG}/collaborations/{}/rating/submit", f.collab),
            &[
                ("level_content_quality", "9"),
                ("level_audience_match", "3"),
                ("level_communication", "3"),
                ("level_compliance", "3"),
            ],
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-field="level_content_quality""#));
    assert_eq!(submissions(&f.app, f.collab).await, 0);
    // With a justification the all-top card is accepted.
    act!(
        f.app,
        owner,
        submit_scorecard,
        scorecard(f.collab, &all_top, "Best launch video we have had")
    )
    .unwrap();
    assert_eq!(submissions(&f.app, f.collab).await, 1);
}

#[tokio::test]
async fn raters_are_blind_until_they_submit_and_two_complete_the_rating_and_close_the_campaign() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let operator = f.app.actor(OPERATOR_LUMI.0, SLUG).await;
    let strict = [
        ("content_quality", "2"),
        ("audience_match", "2"),
        ("communication", "3"),
        ("compliance", "2"),
    ];
    let first = act!(
        f.app,
        operator,
        submit_scorecard,
        scorecard(f.collab, &strict, "")
    )
    .unwrap();
    assert!(!first.completed);
    let path = format!("/t/{SLUG}/collaborations/{}/rating", f.collab);
    let owner_client = f.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let before = f.app.get_ok(&owner_client, &path).await;
    assert!(before.contains(r#"data-testid="blind-note""#), "{before}");
    assert!(!before.contains(r#"data-testid="submissions""#));
    assert!(!before.contains(r#"data-testid="submission-total""#));
    let owner = f.app.actor(OWNER_LUMI.0, SLUG).await;
    // One submission per rater: the operator cannot submit again.
    let again = act!(
        f.app,
        operator,
        submit_scorecard,
        scorecard(f.collab, GOOD, "")
    );
    assert!(matches!(
        again,
        Err(DomainError::Refused("rating.error.already_submitted"))
    ));
    let second = act!(
        f.app,
        owner,
        submit_scorecard,
        scorecard(f.collab, GOOD, "")
    )
    .unwrap();
    assert!(second.completed);
    let after = f.app.get_ok(&owner_client, &path).await;
    assert!(after.contains(r#"data-testid="submissions""#));
    assert_eq!(
        after.matches(r#"data-testid="submission-total""#).count(),
        2
    );
    assert_eq!(state_of(&f.app, "collaborations", f.collab).await, "rated");
    assert_eq!(state_of(&f.app, "campaigns", f.campaign).await, "closed");
    let mut c = f.app.owner_conn().await;
    let (raw, final_score): (rust_decimal::Decimal, rust_decimal::Decimal) =
        sqlx::query_as("SELECT raw_score, final_score FROM ratings WHERE collaboration_id = $1")
            .bind(f.collab)
            .fetch_one(&mut c)
            .await
            .unwrap();
    let mean = ((first.total + second.total) / rust_decimal::Decimal::from(2)).round_dp(2);
    assert_eq!(raw, mean);
    assert_eq!(final_score, mean);
}

#[tokio::test]
async fn a_correction_is_a_new_version_and_submissions_cannot_be_changed_in_place() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let owner = f.app.actor(OWNER_LUMI.0, SLUG).await;
    let operator = f.app.actor(OPERATOR_LUMI.0, SLUG).await;
    // No correction before submitting.
    let r = act!(
        f.app,
        owner,
        correct_submission,
        CorrectSubmission {
            scorecard: scorecard(f.collab, GOOD, ""),
            reason: "Oops".into(),
        }
    );
    assert!(matches!(
        r,
        Err(DomainError::Refused("rating.error.not_submitted"))
    ));
    act!(
        f.app,
        owner,
        submit_scorecard,
        scorecard(f.collab, GOOD, "")
    )
    .unwrap();
    act!(
        f.app,
        operator,
        submit_scorecard,
        scorecard(f.collab, GOOD, "")
    )
    .unwrap();
    // A correction needs its reason.
    let r = act!(
        f.app,
        owner,
        correct_submission,
        CorrectSubmission {
            scorecard: scorecard(f.collab, GOOD, ""),
            reason: "".into(),
        }
    );
    assert_eq!(field_error(&r, "reason"), "rating.error.reason_required");
    let lower = [
        ("content_quality", "2"),
        ("audience_match", "2"),
        ("communication", "2"),
        ("compliance", "2"),
    ];
    let corrected = act!(
        f.app,
        owner,
        correct_submission,
        CorrectSubmission {
            scorecard: scorecard(f.collab, &lower, ""),
            reason: "Misread the audience data".into(),
        }
    )
    .unwrap();
    assert_eq!(submissions(&f.app, f.collab).await, 3);
    let mut c = f.app.owner_conn().await;
    let versions: Vec<i32> = sqlx::query_scalar(
        "SELECT s.version FROM rating_submissions s JOIN ratings r ON r.id = s.rating_id
          WHERE r.collaboration_id = $1 AND s.rater_id = $2 ORDER BY s.version",
    )
    .bind(f.collab)
    .bind(owner.user_id.unwrap())
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(versions, vec![1, 2]);
    // The completed rating's score follows the latest versions.
    let (raw, op_total): (rust_decimal::Decimal, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT r.raw_score, s.total FROM ratings r JOIN rating_submissions s ON s.rating_id = r.id
          WHERE r.collaboration_id = $1 AND s.rater_id = $2",
    )
    .bind(f.collab)
    .bind(operator.user_id.unwrap())
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(
        raw,
        ((corrected.total + op_total) / rust_decimal::Decimal::from(2)).round_dp(2)
    );
    // The app's role cannot change or delete a submission, even directly.
    let mut tx = f.app.tx_for(&owner).await;
    let update = sqlx::query("UPDATE rating_submissions SET total = 100")
        .execute(&mut *tx)
        .await;
    assert!(update.is_err(), "UPDATE must be refused");
    drop(tx);
    let mut tx = f.app.tx_for(&owner).await;
    let delete = sqlx::query("DELETE FROM rating_submissions")
        .execute(&mut *tx)
        .await;
    assert!(delete.is_err(), "DELETE must be refused");
}

#[tokio::test]
async fn the_owner_closes_with_one_rater_and_viewers_and_strangers_cannot_rate() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let owner = f.app.actor(OWNER_LUMI.0, SLUG).await;
    let viewer = f.app.actor(VIEWER_LUMI.0, SLUG).await;
    let operator = f.app.actor(OPERATOR_LUMI.0, SLUG).await;
    // A viewer is not a rater and cannot be asked.
    let r = act!(
        f.app,
        viewer,
        submit_scorecard,
        scorecard(f.collab, GOOD, "")
    );
    assert!(matches!(r, Err(DomainError::Forbidden)), "{r:?}");
    let r = act!(
        f.app,
        owner,
        assign_raters,
        AssignRaters {
            collaboration_id: f.collab,
            user_ids: vec![viewer.user_id.unwrap()],
        }
    );
    assert_eq!(field_error(&r, "raters"), "rating.error.not_eligible");
    let stranger = f.app.user_id(OWNER_NORDPEAK.0).await;
    let r = act!(
        f.app,
        owner,
        assign_raters,
        AssignRaters {
            collaboration_id: f.collab,
            user_ids: vec![stranger],
        }
    );
    assert_eq!(field_error(&r, "raters"), "rating.error.not_eligible");
    // Closing with one needs exactly one submission, by the owner only.
    let close = || CloseWithOne {
        collaboration_id: f.collab,
        reason: "The operator is on leave".into(),
    };
    let r = act!(f.app, owner, close_with_one_rater, close());
    assert!(matches!(
        r,
        Err(DomainError::Refused("rating.error.needs_one_submission"))
    ));
    act!(
        f.app,
        operator,
        submit_scorecard,
        scorecard(f.collab, GOOD, "")
    )
    .unwrap();
    let r = act!(f.app, operator, close_with_one_rater, close());
    assert!(matches!(r, Err(DomainError::Forbidden)));
    act!(f.app, owner, close_with_one_rater, close()).unwrap();
    assert_eq!(state_of(&f.app, "collaborations", f.collab).await, "rated");
    let closed: bool = {
        let mut c = f.app.owner_conn().await;
        sqlx::query_scalar("SELECT closed_with_one FROM ratings WHERE collaboration_id = $1")
            .bind(f.collab)
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert!(closed);
}

#[tokio::test]
async fn another_tenant_gets_404_on_every_rating_route() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let client = f.app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let base = format!("/t/nordpeak/collaborations/{}/rating", f.collab);
    assert_eq!(
        f.app.status_of(&client, &base).await,
        reqwest::StatusCode::NOT_FOUND
    );
    for (route, form) in [
        ("open", vec![("override_reason", "x")]),
        (
            "raters",
            vec![("rater", "00000000-0000-0000-0000-000000000000")],
        ),
        (
            "submit",
            vec![
                ("level_content_quality", "3"),
                ("level_audience_match", "3"),
                ("level_communication", "3"),
                ("level_compliance", "3"),
            ],
        ),
        (
            "correct",
            vec![("level_content_quality", "3"), ("reason", "x")],
        ),
        ("close", vec![("reason", "x")]),
    ] {
        let res = f
            .app
            .post_form(&client, &format!("{base}/{route}"), &form)
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND, "{route}");
    }
    assert_eq!(submissions(&f.app, f.collab).await, 0);
}

#[tokio::test]
async fn a_rater_keeps_evidence_with_the_scorecard_and_a_renamed_text_file_stores_nothing() {
    use reqwest::multipart::{Form, Part};
    let f = fixture().await;
    opened_with_raters(&f).await;
    let path = format!("/t/{SLUG}/collaborations/{}/rating", f.collab);
    let submit = format!("{path}/submit");
    let operator = f.app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let card = |file: Part| {
        Form::new()
            .text("level_content_quality", "2")
            .text("level_audience_match", "3")
            .text("level_communication", "2")
            .text("level_compliance", "3")
            .text("comment", "Answered late twice, see the chat")
            .part("evidence", file)
    };
    let page_form = f.app.get_ok(&operator, &path).await;
    assert!(page_form.contains(r#"enctype="multipart/form-data""#));
    assert!(page_form.contains(r#"name="evidence""#));

    // A text file named .png: the message next to the field, and neither the scorecard nor the
    // file is kept.
    let fake = Part::bytes(b"just some text, not a screenshot".to_vec())
        .file_name("chat.png")
        .mime_str("image/png")
        .unwrap();
    let res = operator
        .post(f.app.url(&submit))
        .multipart(card(fake))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-field="evidence""#), "{html}");
    assert_eq!(submissions(&f.app, f.collab).await, 0);
    let files = "SELECT count(*) FROM rating_submission_files f JOIN rating_submissions s \
                 ON s.id = f.submission_id JOIN ratings r ON r.id = s.rating_id \
                 WHERE r.collaboration_id = $1";
    assert_eq!(count(&f.app, files, f.collab).await, 0);

    // A real PNG: the scorecard and its file.
    let png = sextant::seed::fulfilment::demo_png(8, 8);
    let part = Part::bytes(png.clone())
        .file_name("chat.png")
        .mime_str("image/png")
        .unwrap();
    let res = operator
        .post(f.app.url(&submit))
        .multipart(card(part))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(submissions(&f.app, f.collab).await, 1);
    assert_eq!(count(&f.app, files, f.collab).await, 1);

    // The owner, who has not scored yet, sees none of it.
    let owner = f.app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let blind = f.app.get_ok(&owner, &path).await;
    assert!(!blind.contains("submission-file"));
    assert!(!blind.contains("chat.png"));

    // The owner scores (a plain form, no files): the rating completes and the file shows.
    let res = f
        .app
        .post_form(
            &owner,
            &submit,
            &[
                ("level_content_quality", "3"),
                ("level_audience_match", "3"),
                ("level_communication", "3"),
                ("level_compliance", "3"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let done = f.app.get_ok(&owner, &path).await;
    let at = done
        .find(&format!("href=\"/t/{SLUG}/evidence/"))
        .expect("the operator's file is linked");
    let href = &done[at + 6..];
    let href = &href[..href.find('"').unwrap()];
    let file = owner.get(f.app.url(href)).send().await.unwrap();
    assert_eq!(file.status(), reqwest::StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "image/png");
    assert_eq!(file.bytes().await.unwrap().as_ref(), png.as_slice());
    // Another tenant's user: 404 for the file.
    let other = f.app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let res = other.get(f.app.url(href)).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND);
}
