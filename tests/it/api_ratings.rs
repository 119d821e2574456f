//! Ratings, blacklist entries and tier overrides through `/api/v1` (issue 19): each write calls
//! the page's action under the token's person, so the pages show what the API did, the audit log
//! names that person, and the pages' refusals come back as problem+json with the pages' codes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::api::problem;
use super::ratings::{GOOD, fixture, opened_with_raters};
use crate::support::*;

/// A token of `email` in `slug` with `scope`, made directly (the page makes only the owner's
/// own; operators and viewers have none to make).
async fn token_of(app: &TestApp, email: &str, slug: &str, scope: &str) -> String {
    let token = format!("sxt_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut conn = app.owner_conn().await;
    sqlx::query(
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, scope, token_hash, prefix)
         VALUES ($1, $2, $3, 'direct', $4, sha256($5::bytea), left($6, 10))",
    )
    .bind(app.tenant_id(slug).await)
    .bind(Uuid::now_v7())
    .bind(app.user_id(email).await)
    .bind(scope)
    .bind(token.as_bytes())
    .bind(&token)
    .execute(&mut conn)
    .await
    .unwrap();
    token
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client()
        .post(app.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app
        .client()
        .get(app.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.unwrap()
}

/// The answer's status and JSON, whatever its content type.
async fn answer(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A refusal: its status and `code`.
async fn refused(res: reqwest::Response) -> (StatusCode, String) {
    let (status, p) = problem(res).await;
    (status, p["code"].as_str().unwrap_or_default().to_string())
}

/// Each field a 422 names, with its code, sorted.
async fn fields(res: reqwest::Response) -> Vec<(String, String)> {
    let (status, p) = problem(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let mut out: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors in {p}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    out.sort();
    out
}

async fn scalar_i64(app: &TestApp, sql: &str, id: Uuid) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// Audit entries `action` about `entity` made by `email`.
async fn audited_by(app: &TestApp, action: &str, entity: Uuid, email: &str) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.actor_id
          WHERE a.action = $1 AND a.entity_id = $2 AND lower(u.email) = lower($3)
            AND a.actor_label = u.email",
    )
    .bind(action)
    .bind(entity.to_string())
    .bind(email)
    .fetch_one(&mut c)
    .await
    .unwrap()
}

async fn rating_of(app: &TestApp, collab: Uuid) -> Uuid {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT id FROM ratings WHERE collaboration_id = $1")
        .bind(collab)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn submissions(app: &TestApp, rating: Uuid) -> i64 {
    scalar_i64(
        app,
        "SELECT count(*) FROM rating_submissions WHERE rating_id = $1",
        rating,
    )
    .await
}

fn levels(values: &[(&str, &str)]) -> Value {
    Value::Object(
        values
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.parse::<i64>().unwrap())))
            .collect(),
    )
}

fn rating_page(collab: Uuid) -> String {
    format!("/t/lumi/collaborations/{collab}/rating")
}

#[tokio::test]
async fn a_rating_is_opened_and_completed_through_the_api_by_each_raters_own_token() {
    let f = fixture().await;
    let app = &f.app;
    let owner = token_of(app, OWNER_LUMI.0, "lumi", "write").await;
    let operator = token_of(app, OPERATOR_LUMI.0, "lumi", "write").await;
    let viewer = token_of(app, VIEWER_LUMI.0, "lumi", "write").await;
    let raters = json!([
        app.user_id(OWNER_LUMI.0).await,
        app.user_id(OPERATOR_LUMI.0).await
    ]);
    let open = format!("/api/v1/collaborations/{}/rating", f.collab);

    // A viewer may not open a rating, as on the page.
    let res = post(app, &viewer, &open, json!({ "raters": raters })).await;
    assert_eq!(problem(res).await.0, StatusCode::FORBIDDEN);

    // The operator opens it (the window is final) and asks the owner and themself.
    let (status, body) =
        answer(post(app, &operator, &open, json!({ "raters": raters })).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rating: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(rating, rating_of(app, f.collab).await);
    assert_eq!(
        audited_by(app, "rating.open", rating, OPERATOR_LUMI.0).await,
        1
    );
    assert_eq!(
        audited_by(app, "rating.assign_raters", rating, OPERATOR_LUMI.0).await,
        1
    );
    // Opened once only: the page's refusal.
    assert_eq!(
        refused(post(app, &owner, &open, json!({})).await).await,
        (StatusCode::CONFLICT, "rating.error.exists".into())
    );
    let owner_page = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner_page, &rating_page(f.collab)).await;
    assert!(page.contains("data-testid=\"rating-facts\""), "opened");
    assert!(
        page.contains(OPERATOR_LUMI.0),
        "the page names who opened it"
    );

    // The operator's scorecard: the answer is their own only (raters are blind).
    let scorecards = format!("/api/v1/ratings/{rating}/scorecards");
    let card = json!({ "levels": levels(GOOD), "comment": "Clear hook, on brief" });
    let (status, body) = answer(post(app, &operator, &scorecards, card.clone()).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["completed"], false);
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["completed", "id", "total"]);
    assert_eq!(
        audited_by(app, "rating.submit", rating, OPERATOR_LUMI.0).await,
        1
    );
    // Once per rater; a viewer is no rater.
    assert_eq!(
        refused(post(app, &operator, &scorecards, card.clone()).await).await,
        (
            StatusCode::CONFLICT,
            "rating.error.already_submitted".into()
        )
    );
    assert_eq!(
        problem(post(app, &viewer, &scorecards, card.clone()).await)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // The owner, not yet submitted, sees that one came in but not its scores.
    let page = app.get_ok(&owner_page, &rating_page(f.collab)).await;
    assert!(page.contains("data-testid=\"blind-note\""));
    assert!(!page.contains("data-testid=\"submissions\""));

    // The owner's scorecard completes the rating.
    let (status, body) = answer(post(app, &owner, &scorecards, card).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["completed"], true);
    assert_eq!(
        audited_by(app, "rating.complete", rating, OWNER_LUMI.0).await,
        1
    );
    let state: String = {
        let mut c = app.owner_conn().await;
        sqlx::query_scalar("SELECT state::text FROM collaborations WHERE id = $1")
            .bind(f.collab)
            .fetch_one(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(state, "rated");
    let page = app.get_ok(&owner_page, &rating_page(f.collab)).await;
    assert!(page.contains("data-testid=\"rating-outcome\""));
    assert_eq!(page.matches("data-testid=\"submission-total\"").count(), 2);
    // And the rating is complete on the read API too.
    let read = get(
        app,
        &owner,
        &format!("/api/v1/ratings?collaboration_id={}", f.collab),
    )
    .await;
    assert_eq!(read["items"][0]["state"], "completed", "{read}");
}

#[tokio::test]
async fn a_scorecard_names_each_bad_level_and_stores_nothing() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let app = &f.app;
    let operator = token_of(app, OPERATOR_LUMI.0, "lumi", "write").await;
    let rating = rating_of(app, f.collab).await;
    let path = format!("/api/v1/ratings/{rating}/scorecards");

    // Out of range, not a number, missing, computed (objective), not on the template.
    let body = json!({ "levels": {
        "content_quality": 6, "audience_match": "good", "compliance": 3,
        "conversion": 5, "charisma": 2,
    }});
    assert_eq!(
        fields(post(app, &operator, &path, body).await).await,
        pairs(&[
            ("levels.content_quality", "rating.error.level_range"),
            ("levels.audience_match", "rating.error.level_range"),
            ("levels.communication", "rating.error.level_missing"),
            ("levels.conversion", "api.ratings.error.criterion_unknown"),
            ("levels.charisma", "api.ratings.error.criterion_unknown"),
        ])
    );
    // All fives need a justification (the seeds' "avoid all fives").
    let fives = levels(&[
        ("content_quality", "5"),
        ("audience_match", "5"),
        ("communication", "5"),
        ("compliance", "5"),
    ]);
    assert_eq!(
        fields(post(app, &operator, &path, json!({ "levels": fives })).await).await,
        pairs(&[("justification", "rating.error.justification_required")])
    );
    // A fractional level is not a level (the JSON's own type check names it).
    let body = json!({ "levels": { "content_quality": 4.5, "audience_match": 3,
        "communication": 3, "compliance": 3 } });
    assert_eq!(
        fields(post(app, &operator, &path, body).await).await,
        pairs(&[("levels.content_quality", "api.error.field_type")])
    );
    assert_eq!(submissions(app, rating).await, 0, "nothing stored");

    // Levels as the form sends them (text) are the same levels; with a justification all fives
    // are taken.
    let as_text = json!({ "levels": { "content_quality": "5", "audience_match": "5",
        "communication": "5", "compliance": "5" }, "justification": "Best video this year" });
    let (status, body) = answer(post(app, &operator, &path, as_text).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(submissions(app, rating).await, 1);
}

#[tokio::test]
async fn rating_before_the_window_is_final_is_refused_with_the_pages_reason() {
    let f = fixture().await;
    let app = &f.app;
    let mut c = app.owner_conn().await;
    sqlx::query("UPDATE posts SET published_at = $2 WHERE collaboration_id = $1")
        .bind(f.collab)
        .bind(OffsetDateTime::now_utc() - Duration::days(2))
        .execute(&mut c)
        .await
        .unwrap();
    let owner = token_of(app, OWNER_LUMI.0, "lumi", "write").await;
    let operator = token_of(app, OPERATOR_LUMI.0, "lumi", "write").await;
    let path = format!("/api/v1/collaborations/{}/rating", f.collab);
    let ratings = "SELECT count(*) FROM ratings WHERE collaboration_id = $1";

    assert_eq!(
        refused(post(app, &operator, &path, json!({ "override_reason": "Early" })).await).await,
        (StatusCode::CONFLICT, "rating.error.window_not_final".into())
    );
    assert_eq!(
        fields(post(app, &owner, &path, json!({})).await).await,
        pairs(&[("override_reason", "rating.error.override_reason_required")])
    );
    // A viewer is no rater: the raters are refused and the rating is not opened either.
    let viewer = app.user_id(VIEWER_LUMI.0).await;
    let body = json!({ "override_reason": "Launch review", "raters": [viewer] });
    assert_eq!(
        fields(post(app, &owner, &path, body).await).await,
        pairs(&[("raters", "rating.error.not_eligible")])
    );
    // A malformed id in the list is named by the JSON check.
    let body = json!({ "override_reason": "Launch review", "raters": ["someone"] });
    assert_eq!(
        fields(post(app, &owner, &path, body).await).await,
        pairs(&[("raters[0]", "api.error.field_type")])
    );
    assert_eq!(scalar_i64(app, ratings, f.collab).await, 0);

    let body = json!({ "override_reason": "Launch review" });
    let (status, body) = answer(post(app, &owner, &path, body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rating: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let audit = app.audit_of(&rating.to_string()).await;
    assert_eq!(
        audit[0].2.as_ref().unwrap()["override_reason"],
        "Launch review"
    );
    assert_eq!(
        audited_by(app, "rating.open", rating, OWNER_LUMI.0).await,
        1
    );

    // Raters asked afterwards, as the page's second form.
    let raters = format!("/api/v1/ratings/{rating}/raters");
    let ids = json!({ "raters": [app.user_id(OPERATOR_LUMI.0).await] });
    let viewer_token = token_of(app, VIEWER_LUMI.0, "lumi", "write").await;
    assert_eq!(
        problem(post(app, &viewer_token, &raters, ids.clone()).await)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fields(post(app, &owner, &raters, json!({ "raters": [] })).await).await,
        pairs(&[("raters", "rating.error.no_raters")])
    );
    let (status, body) = answer(post(app, &operator, &raters, ids).await).await;
    assert_eq!((status, body["added"].as_u64()), (StatusCode::OK, Some(1)));
    let page = app
        .get_ok(
            &app.login(OWNER_LUMI.0, OWNER_LUMI.1).await,
            &rating_page(f.collab),
        )
        .await;
    let operator_name: String =
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = $1")
            .bind(OPERATOR_LUMI.0)
            .fetch_one(&mut c)
            .await
            .unwrap();
    let raters_list = &page[page.find("data-testid=\"raters\"").unwrap()..];
    assert!(raters_list[..raters_list.find("</ul>").unwrap()].contains(&operator_name));
}

#[tokio::test]
async fn closing_with_one_rater_takes_the_owner_a_reason_and_exactly_one_scorecard() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let app = &f.app;
    let owner = token_of(app, OWNER_LUMI.0, "lumi", "write").await;
    let operator = token_of(app, OPERATOR_LUMI.0, "lumi", "write").await;
    let rating = rating_of(app, f.collab).await;
    let close = format!("/api/v1/ratings/{rating}/close");
    let reason = json!({ "reason": "The second rater left the company" });

    assert_eq!(
        refused(post(app, &owner, &close, reason.clone()).await).await,
        (
            StatusCode::CONFLICT,
            "rating.error.needs_one_submission".into()
        )
    );
    let card = json!({ "levels": levels(GOOD) });
    let res = post(
        app,
        &operator,
        &format!("/api/v1/ratings/{rating}/scorecards"),
        card,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Not the operator's to close; a reason is required.
    assert_eq!(
        problem(post(app, &operator, &close, reason.clone()).await)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fields(post(app, &owner, &close, json!({ "reason": "  " })).await).await,
        pairs(&[("reason", "rating.error.reason_required")])
    );
    let (status, body) = answer(post(app, &owner, &close, reason.clone()).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], rating.to_string());
    assert!(body["final_score"].is_string(), "{body}");
    assert_eq!(
        audited_by(app, "rating.close_with_one", rating, OWNER_LUMI.0).await,
        1
    );
    let page = app
        .get_ok(
            &app.login(OWNER_LUMI.0, OWNER_LUMI.1).await,
            &rating_page(f.collab),
        )
        .await;
    assert!(page.contains("data-testid=\"rating-outcome\""));
    // Closed: closing again is the page's refusal.
    assert_eq!(
        refused(post(app, &owner, &close, reason).await).await,
        (StatusCode::CONFLICT, "rating.error.closed".into())
    );
}

/// A creator the tenant has dealt with, and one only Nordpeak knows.
async fn creators(app: &TestApp) -> (Uuid, Uuid) {
    let mut c = app.owner_conn().await;
    let lumi = app.tenant_id("lumi").await;
    let nordpeak = app.tenant_id("nordpeak").await;
    let ours: Uuid = sqlx::query_scalar(
        "SELECT l.creator_id FROM collaborations l WHERE l.tenant_id = $1
            AND NOT EXISTS (SELECT 1 FROM blacklist_entries b WHERE b.tenant_id = $1
                             AND b.creator_id = l.creator_id)
          ORDER BY l.id LIMIT 1",
    )
    .bind(lumi)
    .fetch_one(&mut c)
    .await
    .unwrap();
    let theirs: Uuid = sqlx::query_scalar(
        "SELECT l.creator_id FROM collaborations l WHERE l.tenant_id = $1
            AND NOT EXISTS (SELECT 1 FROM collaborations o WHERE o.tenant_id = $2
                             AND o.creator_id = l.creator_id)
            AND NOT EXISTS (SELECT 1 FROM shortlist_entries e WHERE e.tenant_id = $2
                             AND e.creator_id = l.creator_id)
            AND NOT EXISTS (SELECT 1 FROM creator_tiers t WHERE t.tenant_id = $2
                             AND t.creator_id = l.creator_id)
          ORDER BY l.id LIMIT 1",
    )
    .bind(nordpeak)
    .bind(lumi)
    .fetch_one(&mut c)
    .await
    .expect("a creator only Nordpeak has dealt with");
    (ours, theirs)
}

#[tokio::test]
async fn the_owner_overrides_a_tier_and_the_tier_reads_and_page_show_it() {
    let app = TestApp::with_demo_campaigns().await;
    let (creator, theirs) = creators(&app).await;
    let owner = token_of(&app, OWNER_LUMI.0, "lumi", "write").await;
    let operator = token_of(&app, OPERATOR_LUMI.0, "lumi", "write").await;
    let path = format!("/api/v1/creators/{creator}/tier-override");
    let body = json!({ "tier": "S", "reason": "Our best seller in the spring launch" });

    // Not an operator's (nor agency staff's) step.
    assert_eq!(
        problem(post(&app, &operator, &path, body.clone()).await)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fields(post(&app, &owner, &path, json!({ "tier": "Z", "reason": "" })).await).await,
        pairs(&[
            ("reason", "tiers.error.reason_required"),
            ("tier", "tiers.error.tier")
        ])
    );
    let history = format!("/api/v1/tiers/{creator}/history");
    let before = get(&app, &owner, &history).await["items"]
        .as_array()
        .unwrap()
        .len();

    let (status, answer_body) = answer(post(&app, &owner, &path, body).await).await;
    assert_eq!(status, StatusCode::OK, "{answer_body}");
    assert_eq!(answer_body["tier"], "S");
    assert_eq!(
        audited_by(&app, "tier.override", creator, OWNER_LUMI.0).await,
        1
    );

    // The tier reads show it: the list and the history.
    let tiers = get(&app, &owner, "/api/v1/tiers?limit=500").await;
    let row = tiers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["creator"]["id"] == creator.to_string())
        .unwrap_or_else(|| panic!("the creator's tier in {tiers}"))
        .clone();
    assert_eq!(row["tier"], "S", "{row}");
    assert!(row["manual_override"].is_object(), "{row}");
    let changes = get(&app, &owner, &history).await["items"]
        .as_array()
        .unwrap()
        .clone();
    let last = changes.last().expect("a change");
    if changes.len() > before {
        assert_eq!(
            (&last["to"], &last["cause"]),
            (&json!("S"), &json!("override"))
        );
    } else {
        // Already S before: no move to record, but the override holds.
        assert_eq!(last["to"], "S");
    }
    // The creator page shows the override.
    let page = app
        .get_ok(
            &app.login(OWNER_LUMI.0, OWNER_LUMI.1).await,
            &format!("/t/lumi/creators/{creator}"),
        )
        .await;
    assert!(page.contains("data-testid=\"tier-override\""));
    assert!(page.contains("Our best seller in the spring launch"));

    // Another company's creator is not found, either way round.
    let res = post(
        &app,
        &owner,
        &format!("/api/v1/creators/{theirs}/tier-override"),
        json!({ "tier": "A", "reason": "x" }),
    )
    .await;
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
    let nordpeak = token_of(&app, OWNER_NORDPEAK.0, "nordpeak", "write").await;
    let res = post(
        &app,
        &nordpeak,
        &path,
        json!({ "tier": "C", "reason": "x" }),
    )
    .await;
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn blacklist_entries_are_proposed_and_decided_by_the_owner_as_on_the_creator_page() {
    let app = TestApp::with_demo_campaigns().await;
    let (creator, theirs) = creators(&app).await;
    let owner = token_of(&app, OWNER_LUMI.0, "lumi", "write").await;
    let operator = token_of(&app, OPERATOR_LUMI.0, "lumi", "write").await;
    let nordpeak = token_of(&app, OWNER_NORDPEAK.0, "nordpeak", "write").await;
    let add = format!("/api/v1/creators/{creator}/blacklist");
    let reason = json!({ "reason": "Took the sample and never posted" });

    assert_eq!(
        problem(post(&app, &operator, &add, reason.clone()).await)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fields(post(&app, &owner, &add, json!({})).await).await,
        pairs(&[("reason", "tiers.error.reason_required")])
    );
    let (status, body) = answer(post(&app, &owner, &add, reason.clone()).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let entry: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        audited_by(&app, "blacklist.propose", entry, OWNER_LUMI.0).await,
        1
    );
    assert_eq!(
        refused(post(&app, &owner, &add, reason.clone()).await).await,
        (
            StatusCode::CONFLICT,
            "api.ratings.error.blacklist_open".into()
        )
    );
    let page_path = format!("/t/lumi/creators/{creator}");
    let owner_page = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner_page, &page_path).await;
    assert!(page.contains("data-status=\"proposed\""));

    let decide = format!("/api/v1/blacklist/{entry}/decision");
    let confirm = json!({ "decision": "confirm", "reason": "Evidence is clear" });
    assert_eq!(
        problem(post(&app, &operator, &decide, confirm.clone()).await)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fields(
            post(
                &app,
                &owner,
                &decide,
                json!({ "decision": "maybe", "reason": "x" })
            )
            .await
        )
        .await,
        pairs(&[("decision", "api.error.field_type")])
    );
    assert_eq!(
        fields(post(&app, &owner, &decide, json!({ "decision": "confirm" })).await).await,
        pairs(&[("reason", "tiers.error.reason_required")])
    );
    // Only a confirmed entry is lifted: the page's refusal.
    assert_eq!(
        refused(
            post(
                &app,
                &owner,
                &decide,
                json!({ "decision": "lift", "reason": "x" })
            )
            .await
        )
        .await,
        (StatusCode::CONFLICT, "tiers.error.blacklist_state".into())
    );
    // Another company's entry, and creator, are not found.
    assert_eq!(
        problem(post(&app, &nordpeak, &decide, confirm.clone()).await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        problem(post(&app, &nordpeak, &add, reason.clone()).await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let theirs_path = format!("/api/v1/creators/{theirs}/blacklist");
    assert_eq!(
        problem(post(&app, &owner, &theirs_path, reason).await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let (status, body) = answer(post(&app, &owner, &decide, confirm).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["creator_id"], creator.to_string());
    assert_eq!(
        audited_by(&app, "blacklist.decide", entry, OWNER_LUMI.0).await,
        1
    );
    let page = app.get_ok(&owner_page, &page_path).await;
    assert!(page.contains("data-status=\"confirmed\""));
    let tiers = get(&app, &owner, "/api/v1/tiers?limit=500").await;
    let row = tiers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["creator"]["id"] == creator.to_string())
        .unwrap_or_else(|| panic!("the creator's tier in {tiers}"))
        .clone();
    assert_eq!(
        (&row["blacklisted"], &row["recommendation"]),
        (&json!(true), &json!("do_not_rebook")),
        "{row}"
    );
}

#[tokio::test]
async fn another_companys_ratings_and_collaborations_are_not_found() {
    let f = fixture().await;
    opened_with_raters(&f).await;
    let app = &f.app;
    let rating = rating_of(app, f.collab).await;
    let nordpeak = token_of(app, OWNER_NORDPEAK.0, "nordpeak", "write").await;
    let card = json!({ "levels": levels(GOOD) });
    for (path, body) in [
        (
            format!("/api/v1/collaborations/{}/rating", f.collab),
            json!({}),
        ),
        (format!("/api/v1/ratings/{rating}/scorecards"), card.clone()),
        (
            format!("/api/v1/ratings/{rating}/raters"),
            json!({ "raters": [] }),
        ),
        (
            format!("/api/v1/ratings/{rating}/close"),
            json!({ "reason": "x" }),
        ),
        (
            "/api/v1/ratings/not-an-id/close".to_string(),
            json!({ "reason": "x" }),
        ),
    ] {
        let (status, p) = problem(post(app, &nordpeak, &path, body).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {p}");
    }
    // And the other way round: a Nordpeak collaboration with a Lumi token.
    let mut c = app.owner_conn().await;
    let theirs: Uuid = sqlx::query_scalar(
        "SELECT l.id FROM collaborations l JOIN tenants t ON t.id = l.tenant_id
          WHERE t.slug = 'nordpeak' ORDER BY l.id LIMIT 1",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    let owner = token_of(app, OWNER_LUMI.0, "lumi", "write").await;
    let res = post(
        app,
        &owner,
        &format!("/api/v1/collaborations/{theirs}/rating"),
        json!({ "override_reason": "x" }),
    )
    .await;
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
    assert_eq!(submissions(app, rating).await, 0);
}
