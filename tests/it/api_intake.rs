//! The loop's first steps through `/api/v1` (issue 19): a seller's campaign request drafted,
//! edited, submitted and moved; the account manager's ranked candidates and the shortlist sent;
//! the seller's answers — each through the page's action, with the page's refusals, the pages
//! showing the same state and the audit log naming the token's person.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::api::problem;
use super::matching::campaign_in_matching;
use crate::support::*;

/// A token made on a company's token page by its owner (signed in as `owner`).
pub(crate) async fn token_for(
    app: &TestApp,
    owner: &reqwest::Client,
    slug: &str,
    scope: &str,
) -> String {
    let res = app
        .post_form(
            owner,
            &format!("/t/{slug}/settings/api-tokens"),
            &[("name", "Tool"), ("scope", scope)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    shown_token(&res.text().await.unwrap())
}

fn shown_token(page: &str) -> String {
    let marker = "data-testid=\"token-value\">";
    let start = page.find(marker).expect("the token shown") + marker.len();
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

/// The account manager's staff token (write), made on their own token page.
pub(crate) async fn staff_token(app: &TestApp) -> String {
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let res = app
        .post_form(
            &am,
            "/account/api-tokens",
            &[("name", "Agency tools"), ("scope", "write")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    shown_token(&res.text().await.unwrap())
}

/// Who calls: a token, and for a staff token the company it names.
#[derive(Clone, Copy)]
pub(crate) struct Caller<'a> {
    token: &'a str,
    tenant: Option<&'a str>,
}

/// A caller with its token and, for a staff token, the company it names.
pub(crate) fn caller<'a>(token: &'a str, tenant: Option<&'a str>) -> Caller<'a> {
    Caller { token, tenant }
}

pub(crate) fn seller(token: &str) -> Caller<'_> {
    Caller {
        token,
        tenant: None,
    }
}

pub(crate) fn staff(token: &str) -> Caller<'_> {
    Caller {
        token,
        tenant: Some("lumi"),
    }
}

pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    who: Caller<'_>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = app
        .client()
        .request(method, app.url(path))
        .header("Authorization", format!("Bearer {}", who.token));
    if let Some(t) = who.tenant {
        req = req.header("Sextant-Tenant", t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap()
}

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    who: Caller<'_>,
    body: &Value,
) -> reqwest::Response {
    call(app, reqwest::Method::POST, path, who, Some(body)).await
}

pub(crate) async fn put(
    app: &TestApp,
    path: &str,
    who: Caller<'_>,
    body: &Value,
) -> reqwest::Response {
    call(app, reqwest::Method::PUT, path, who, Some(body)).await
}

pub(crate) async fn get(app: &TestApp, path: &str, who: Caller<'_>) -> reqwest::Response {
    call(app, reqwest::Method::GET, path, who, None).await
}

/// The answer's JSON, after checking its status.
pub(crate) async fn ok_json(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// The problem's status, `code` and the fields its `errors` name.
pub(crate) async fn refusal(res: reqwest::Response) -> (StatusCode, Option<String>, Vec<String>) {
    let (status, p) = problem(res).await;
    let fields = p["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (status, p["code"].as_str().map(str::to_string), fields)
}

pub(crate) async fn actor_of(app: &TestApp, action: &str, entity: &str) -> Vec<String> {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT actor_label FROM audit_log WHERE action = $1 AND entity_id = $2 ORDER BY at",
    )
    .bind(action)
    .bind(entity)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

async fn campaign_count(app: &TestApp) -> i64 {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

pub(crate) fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

/// A complete request, as the intake form would send it, in the company's first shop.
pub(crate) async fn complete_request(app: &TestApp, slug: &str, title: &str) -> Value {
    let tenant = app.tenant_id(slug).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let shop = sextant::tenants::repo::shops(&mut tx, tenant)
        .await
        .unwrap()[0]
        .id;
    drop(tx);
    json!({
        "title": title,
        "product_name": "Lumi Air Fryer 5L",
        "sku": "LUMI-AF-5L",
        "product_url": "https://shop.lumi-home.invalid/us/air-fryer",
        "category": "home_kitchen",
        "unit_price": "89.99",
        "unit_currency": "USD",
        "shop_id": shop.to_string(),
        "markets": ["US", "GB"],
        "languages": "en",
        "format": "short_video",
        "creators_wanted": "5",
        "followers_min": "10K",
        "followers_max": "500K",
        "budget_min": "2000",
        "budget_max": "9000",
        "budget_currency": "USD",
        "fee_cap": "1500",
        "fee_cap_currency": "USD",
        "commission_rate": "10",
        "age_buckets": ["25-34"],
        "interests": ["home_decor"],
        "styles": ["real_shot"],
        "script_source": "agency",
        "publish_from": day(10),
        "publish_to": day(40),
        "roi_target": "2",
    })
}

/// A Nordpeak draft, made through the API by Nordpeak's owner: another company's id.
async fn nordpeak_campaign(app: &TestApp) -> String {
    let owner = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let token = token_for(app, &owner, "nordpeak", "write").await;
    let body = json!({ "title": "Nordpeak jackets" });
    let made = ok_json(
        post(app, "/api/v1/campaigns", seller(&token), &body).await,
        StatusCode::CREATED,
    )
    .await;
    made["id"].as_str().unwrap().to_string()
}

const UNKNOWN: &str = "01900000-0000-7000-8000-000000000001";

#[tokio::test]
async fn a_seller_drafts_edits_and_submits_a_campaign_through_the_api_as_the_form_does() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = token_for(&app, &owner, "lumi", "write").await;
    let me = seller(&token);

    // A draft: any field may be left empty; the answer gives its id and state.
    let made = ok_json(
        post(
            &app,
            "/api/v1/campaigns",
            me,
            &json!({"title": "Spring fryer push", "unit_price": "89.99", "unit_currency": "USD"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (made["state"].as_str(), made["code"].as_str()),
        (Some("draft"), None)
    );
    let id = made["id"].as_str().unwrap().to_string();
    let page = app.get_ok(&owner, &format!("/t/lumi/campaigns/{id}")).await;
    assert!(page.contains("Spring fryer push") && page.contains("state-draft"));
    assert_eq!(
        actor_of(&app, "campaign.create", &id).await,
        vec![OWNER_LUMI.0.to_string()]
    );

    // Bad input names each field as the form does (the same parser), and nothing is saved.
    let before = campaign_count(&app).await;
    let (status, _, mut fields) = refusal(
        post(
            &app,
            "/api/v1/campaigns",
            me,
            &json!({"title": "x", "unit_price": "12.345", "unit_currency": "USD",
                    "markets": ["US", "Narnia"], "publish_from": "next week"}),
        )
        .await,
    )
    .await;
    fields.sort();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, vec!["markets", "publish_from", "unit_price"]);
    // A value of the wrong JSON type is named too.
    let (status, _, fields) =
        refusal(post(&app, "/api/v1/campaigns", me, &json!({"unit_price": 12.5})).await).await;
    assert_eq!(
        (status, fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["unit_price".to_string()]
        )
    );
    assert_eq!(campaign_count(&app).await, before);

    // Submitting checks the request is complete, naming what is missing; nothing moves.
    let submit = format!("/api/v1/campaigns/{id}/submit");
    let (status, _, fields) = refusal(post(&app, &submit, me, &json!({})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fields.contains(&"markets".to_string()), "{fields:?}");

    // The draft's fields replaced, as the edit form saves them; then submitted with its code.
    let edited = ok_json(
        put(
            &app,
            &format!("/api/v1/campaigns/{id}"),
            me,
            &complete_request(&app, "lumi", "Air fryer launch").await,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["state"], "draft");
    let done = ok_json(post(&app, &submit, me, &json!({})).await, StatusCode::OK).await;
    assert_eq!(done["state"], "submitted");
    let code = done["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("LUMI-"), "{code}");
    let page = app.get_ok(&owner, &format!("/t/lumi/campaigns/{id}")).await;
    assert!(page.contains("Air fryer launch") && page.contains(&code));
    assert!(page.contains("state-submitted"));
    assert_eq!(
        actor_of(&app, "campaign.update", &id).await,
        vec![OWNER_LUMI.0.to_string(); 2]
    );

    // Only a draft is edited or submitted (403, as its edit page).
    let (status, _, _) = refusal(
        put(
            &app,
            &format!("/api/v1/campaigns/{id}"),
            me,
            &json!({"title": "Late"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = refusal(post(&app, &submit, me, &json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The account manager does not write a seller's request (403, as the form).
    let am = staff_token(&app).await;
    let (status, _, _) = refusal(
        post(
            &app,
            "/api/v1/campaigns",
            staff(&am),
            &json!({"title": "By AM"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another company's draft, or none: 404.
    let theirs = nordpeak_campaign(&app).await;
    for path in [
        format!("/api/v1/campaigns/{theirs}"),
        format!("/api/v1/campaigns/{UNKNOWN}"),
    ] {
        let (status, _, _) = refusal(put(&app, &path, me, &json!({"title": "Mine"})).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _, _) =
            refusal(post(&app, &format!("{path}/submit"), me, &json!({})).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let mut conn = app.owner_conn().await;
    let title: String = sqlx::query_scalar("SELECT title FROM campaigns WHERE id = $1::uuid")
        .bind(&theirs)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(title, "Nordpeak jackets");
}

#[tokio::test]
async fn campaign_moves_through_the_api_follow_the_state_table_with_the_pages_reasons() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = token_for(&app, &owner, "lumi", "write").await;
    let me = seller(&token);
    let am_token = staff_token(&app).await;
    let am = staff(&am_token);
    let made = ok_json(
        post(
            &app,
            "/api/v1/campaigns",
            me,
            &complete_request(&app, "lumi", "Winter lamps").await,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = made["id"].as_str().unwrap().to_string();
    let moves = format!("/api/v1/campaigns/{id}/transitions");
    ok_json(
        post(
            &app,
            &format!("/api/v1/campaigns/{id}/submit"),
            me,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The state table's refusals, with the page's reasons.
    let (status, code, _) =
        refusal(post(&app, &moves, me, &json!({"transition": "start_matching"})).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (
            StatusCode::CONFLICT,
            Some("campaign.transition_error.not_allowed_for")
        )
    );
    let (status, code, _) =
        refusal(post(&app, &moves, me, &json!({"transition": "cancel"})).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (
            StatusCode::CONFLICT,
            Some("campaign.transition_error.reason_required")
        )
    );
    // A system event is no one's move; a move with its own step is not taken here (as the
    // page); a move this does not know names the field.
    let (status, code, _) = refusal(
        post(
            &app,
            &moves,
            am,
            &json!({"transition": "first_contract_accepted"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (
            StatusCode::CONFLICT,
            Some("campaign.transition_error.not_allowed_for")
        )
    );
    let (status, _, _) =
        refusal(post(&app, &moves, am, &json!({"transition": "send_shortlist"})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, fields) =
        refusal(post(&app, &moves, am, &json!({"transition": "open"})).await).await;
    assert_eq!(
        (status, fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["transition".to_string()]
        )
    );
    // The page refuses the same move with the same message.
    let page = app
        .post_form(
            &owner,
            &format!("/t/lumi/campaigns/{id}/transition"),
            &[("transition", "start_matching")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let lang = sextant::web::lang::Lang::ZhCn;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(&lang.t("campaign.transition_error.not_allowed_for"))
    );

    // The account manager starts matching; the page shows it, the log names them.
    let moved = ok_json(
        post(&app, &moves, am, &json!({"transition": "start_matching"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["state"], "matching");
    let page = app.get_ok(&owner, &format!("/t/lumi/campaigns/{id}")).await;
    assert!(page.contains("state-matching"));
    assert_eq!(
        actor_of(&app, "campaign.transition", &id).await,
        vec![OWNER_LUMI.0.to_string(), ACCOUNT_MANAGER.0.to_string()]
    );

    // The seller's owner cancels with a reason; then nothing moves any more.
    let moved = ok_json(
        post(
            &app,
            &moves,
            me,
            &json!({"transition": "cancel", "reason": "Launch moved to next year"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["state"], "cancelled");
    let page = app.get_ok(&owner, &format!("/t/lumi/campaigns/{id}")).await;
    assert!(page.contains("state-cancelled") && page.contains("Launch moved to next year"));
    let (status, code, _) = refusal(
        post(
            &app,
            &moves,
            am,
            &json!({"transition": "cancel", "reason": "Again"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (
            StatusCode::CONFLICT,
            Some("campaign.transition_error.not_allowed_from")
        )
    );

    // Another company's campaign: 404.
    let theirs = nordpeak_campaign(&app).await;
    let (status, _, _) = refusal(
        post(
            &app,
            &format!("/api/v1/campaigns/{theirs}/transitions"),
            me,
            &json!({"transition": "cancel", "reason": "Not mine"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A Lumi campaign in matching (`campaign_in_matching`): its id and path.
async fn matching_campaign(app: &TestApp) -> (String, String) {
    let path = campaign_in_matching(app).await;
    let id = path.rsplit('/').next().unwrap().to_string();
    (id, path)
}

fn pool_app() -> sextant::seed::DemoSize {
    sextant::seed::DemoSize {
        creators: 400,
        campaigns: false,
    }
}

#[tokio::test]
async fn the_account_manager_ranks_candidates_and_sends_a_shortlist_through_the_api() {
    let app = TestApp::with_demo_size(pool_app()).await;
    let (id, path) = matching_campaign(&app).await;
    let am_token = staff_token(&app).await;
    let am = staff(&am_token);

    // The ranking as the matching page ranks it, each with its breakdown.
    let ranked = ok_json(
        get(
            &app,
            &format!("/api/v1/campaigns/{id}/candidates?limit=5"),
            am,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ranked["state"], "matching");
    let candidates = ranked["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 5);
    let am_page = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app.get_ok(&am_page, &format!("{path}/matching")).await;
    let on_page = super::matching::candidate_ids(&page);
    let ids: Vec<String> = candidates
        .iter()
        .map(|c| c["creator_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        on_page[..5].to_vec(),
        "the page's first five, in order"
    );
    for (i, c) in candidates.iter().enumerate() {
        assert_eq!(c["rank"], i + 1);
        let parts = c["breakdown"].as_array().unwrap();
        assert_eq!(parts.len(), 6);
        let points: f64 = parts.iter().map(|p| p["points"].as_f64().unwrap()).sum();
        let total = c["total"].as_f64().unwrap();
        assert!((points - total).abs() < 1e-6, "{points} vs {total}");
        assert!(
            page.contains(&format!("{total:.1}")),
            "the page shows {total:.1}"
        );
    }
    let (status, _, fields) = refusal(
        get(
            &app,
            &format!("/api/v1/campaigns/{id}/candidates?limit=0"),
            am,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, fields),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["limit".to_string()])
    );

    // A seller is refused both, as the matching page refuses them.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let seller_token = token_for(&app, &owner, "lumi", "write").await;
    let (status, _, _) = refusal(
        get(
            &app,
            &format!("/api/v1/campaigns/{id}/candidates"),
            seller(&seller_token),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let send = format!("/api/v1/campaigns/{id}/shortlist");
    let picks = json!({"picks": [{"creator_id": ids[0]}]});
    let (status, _, _) = refusal(post(&app, &send, seller(&seller_token), &picks).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad picks name their field and send nothing.
    for (body, field) in [
        (json!({"picks": []}), "picks"),
        (json!({"picks": [{"creator_id": UNKNOWN}]}), "picks"),
        (
            json!({"picks": [{"creator_id": ids[0]}, {"creator_id": ids[1], "note": "bell\u{7}"}]}),
            "picks[1].note",
        ),
        (
            json!({"picks": [{"creator_id": "nobody"}]}),
            "picks[0].creator_id",
        ),
    ] {
        let (status, _, fields) = refusal(post(&app, &send, am, &body).await).await;
        assert_eq!(
            (status, fields),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_string()]),
            "{body}"
        );
    }
    let mut conn = app.owner_conn().await;
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM shortlist_entries")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(entries, 0);

    // Sent: the seller's shortlist page shows the three with the note; the log names the AM.
    let sent = ok_json(
        post(
            &app,
            &send,
            am,
            &json!({"picks": [
                {"creator_id": ids[0], "note": "Kitchen demos convert well"},
                {"creator_id": ids[1]},
                {"creator_id": ids[2]},
            ]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(sent["round"], 1);
    assert_eq!(sent["creators"].as_array().unwrap().len(), 3);
    let shortlist = app.get_ok(&owner, &format!("{path}/shortlist")).await;
    assert_eq!(shortlist.matches("creator-card").count(), 3);
    assert!(shortlist.contains("Kitchen demos convert well"));
    assert_eq!(
        actor_of(&app, "shortlist.send", &id).await,
        vec![ACCOUNT_MANAGER.0.to_string()]
    );
    // Sent once: the campaign is with the seller now (the page's reason).
    let (status, code, _) =
        refusal(post(&app, &send, am, &json!({"picks": [{"creator_id": ids[3]}]})).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (
            StatusCode::CONFLICT,
            Some("campaign.transition_error.not_allowed_from")
        )
    );

    // Another company's campaign: 404 on both.
    let theirs = nordpeak_campaign(&app).await;
    let (status, _, _) =
        refusal(get(&app, &format!("/api/v1/campaigns/{theirs}/candidates"), am).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = refusal(
        post(
            &app,
            &format!("/api/v1/campaigns/{theirs}/shortlist"),
            am,
            &picks,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn deliveries_of(app: &TestApp, event: &str) -> Vec<Value> {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT payload FROM webhook_deliveries WHERE event = $1 ORDER BY created_at",
    )
    .bind(event)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_seller_answers_a_shortlist_through_the_api_as_on_its_page() {
    let app = TestApp::with_demo_size(pool_app()).await;
    let (id, path) = matching_campaign(&app).await;
    let am_token = staff_token(&app).await;
    let am = staff(&am_token);
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    // The company listens for decisions (the target is never called in this test).
    let res = app
        .post_form(
            &owner,
            "/t/lumi/settings/webhooks",
            &[
                ("url", "http://127.0.0.1:9/hook"),
                ("format", "sextant"),
                ("events", "shortlist.decided"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = token_for(&app, &owner, "lumi", "write").await;
    let me = seller(&token);
    let ranked = ok_json(
        get(
            &app,
            &format!("/api/v1/campaigns/{id}/candidates?limit=4"),
            am,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = ranked["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["creator_id"].as_str().unwrap())
        .collect();
    let send = format!("/api/v1/campaigns/{id}/shortlist");
    let picks: Vec<Value> = ids[..3].iter().map(|c| json!({"creator_id": c})).collect();
    ok_json(
        post(&app, &send, am, &json!({ "picks": picks })).await,
        StatusCode::CREATED,
    )
    .await;

    // What to decide: each entry with its creator and round, none decided.
    let list = ok_json(get(&app, &send, me).await, StatusCode::OK).await;
    assert_eq!(
        (list["state"].as_str(), list["can_decide"].as_bool()),
        (Some("shortlist_sent"), Some(true))
    );
    let entries = list["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 3);
    assert!(
        entries
            .iter()
            .all(|e| e["decision"].is_null() && e["round"] == 1)
    );
    let entry = |i: usize| entries[i]["id"].as_str().unwrap().to_string();
    let handle = |i: usize| entries[i]["handle"].as_str().unwrap().to_string();
    let decide = |i: usize| {
        format!(
            "/api/v1/campaigns/{id}/shortlist/entries/{}/decision",
            entry(i)
        )
    };
    let approve = format!("/api/v1/campaigns/{id}/shortlist/approve");
    let another = format!("/api/v1/campaigns/{id}/shortlist/another-round");

    // Going ahead with no one approved is refused with the page's reason.
    let (status, code, _) = refusal(post(&app, &approve, me, &json!({})).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (StatusCode::CONFLICT, Some("shortlist.error.none_approved"))
    );
    // A rejection without a reason, or no decision at all, names its field; nothing is decided.
    let (status, _, fields) = refusal(
        post(
            &app,
            &decide(2),
            me,
            &json!({"decision": "reject", "reason": "  "}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, fields),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_string()])
    );
    let (status, _, fields) =
        refusal(post(&app, &decide(2), me, &json!({"decision": "maybe"})).await).await;
    assert_eq!(
        (status, fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["decision".to_string()]
        )
    );
    // The account manager does not decide for the seller.
    let (status, _, _) =
        refusal(post(&app, &decide(0), am, &json!({"decision": "approve"})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let list = ok_json(get(&app, &send, me).await, StatusCode::OK).await;
    assert!(
        list["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["decision"].is_null())
    );

    // Approve one, reject one with a reason: the page shows both, the log names the owner, and
    // the company's webhook hears of each.
    let done = ok_json(
        post(&app, &decide(0), me, &json!({"decision": "approve"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["decision"], "approved");
    ok_json(
        post(
            &app,
            &decide(2),
            me,
            &json!({"decision": "reject", "reason": "Audience too young"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let page = app.get_ok(&owner, &format!("{path}/shortlist")).await;
    let card = |h: &str| {
        let at = page.find(&format!(r#"data-creator="{h}""#)).expect("card");
        page[at..at + page[at..].find("</article>").unwrap()].to_string()
    };
    assert!(card(&handle(0)).contains(r#"data-testid="approved""#));
    let rejected = card(&handle(2));
    assert!(
        rejected.contains(r#"data-testid="rejected""#) && rejected.contains("Audience too young")
    );
    assert_eq!(
        actor_of(&app, "shortlist.decide", &entry(0)).await,
        vec![OWNER_LUMI.0.to_string()]
    );
    let decided = deliveries_of(&app, "shortlist.decided").await;
    assert_eq!(decided.len(), 2, "{decided:?}");
    assert_eq!(
        decided[0]["data"]["entry_id"],
        entry(0).as_str(),
        "{}",
        decided[0]
    );
    let list = ok_json(get(&app, &send, me).await, StatusCode::OK).await;
    let by_id = |e: &str| {
        list["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == e)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&entry(2))["reason"], "Audience too young");
    assert_eq!(by_id(&entry(0))["decision"], "approved");

    // Decided once (the page's reason).
    let (status, code, _) = refusal(
        post(
            &app,
            &decide(0),
            me,
            &json!({"decision": "reject", "reason": "No"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (StatusCode::CONFLICT, Some("shortlist.error.closed"))
    );

    // Another round, another shortlist, then going ahead: the page shows contracting.
    let back = ok_json(post(&app, &another, me, &json!({})).await, StatusCode::OK).await;
    assert_eq!(back["state"], "matching");
    ok_json(
        post(&app, &send, am, &json!({"picks": [{"creator_id": ids[3]}]})).await,
        StatusCode::CREATED,
    )
    .await;
    let on = ok_json(post(&app, &approve, me, &json!({})).await, StatusCode::OK).await;
    assert_eq!(on["state"], "contracting");
    let page = app.get_ok(&owner, &path).await;
    assert!(page.contains("state-contracting"));
    assert_eq!(deliveries_of(&app, "shortlist.decided").await.len(), 4);
    let (status, code, _) = refusal(post(&app, &another, me, &json!({})).await).await;
    assert_eq!(
        (status, code.as_deref()),
        (
            StatusCode::CONFLICT,
            Some("campaign.transition_error.not_allowed_from")
        )
    );

    // Another company's campaign, or an entry of none: 404.
    let theirs = nordpeak_campaign(&app).await;
    for path in [
        format!("/api/v1/campaigns/{theirs}/shortlist"),
        format!("/api/v1/campaigns/{theirs}/shortlist/approve"),
        format!("/api/v1/campaigns/{theirs}/shortlist/another-round"),
        format!(
            "/api/v1/campaigns/{theirs}/shortlist/entries/{}/decision",
            entry(1)
        ),
        format!("/api/v1/campaigns/{id}/shortlist/entries/{UNKNOWN}/decision"),
    ] {
        let res = if path.ends_with("/shortlist") {
            get(&app, &path, me).await
        } else {
            post(&app, &path, me, &json!({"decision": "approve"})).await
        };
        let (status, _, _) = refusal(res).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

async fn pool_creator(app: &TestApp, handle: &str) -> Option<(String, i64, Option<String>)> {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT id::text, followers, quote_currency::text FROM creators WHERE handle = $1",
    )
    .bind(handle)
    .fetch_optional(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn agency_staff_upsert_the_creator_pool_in_batches_by_the_imports_rules() {
    let app = TestApp::with_demo_campaigns().await;
    let am_token = staff_token(&app).await;
    let am = staff(&am_token);
    let mut conn = app.owner_conn().await;
    let (known, followers): (String, i64) =
        sqlx::query_as("SELECT handle, followers FROM creators ORDER BY handle LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let batch = json!({"creators": [
        {"handle": "@api_new_one", "display_name": "API New One", "followers": 12000,
         "markets": ["US", "GB"], "languages": "en", "quote_video": "350", "quote_currency": "USD",
         "audience_age": {"18-24": 0.4, "25-34": "35%"}, "active": true},
        {"handle": "api_new_two", "followers": "45K", "categories": "home_kitchen,beauty"},
        {"handle": known, "followers": followers + 1000},
    ]});

    // Created and updated by handle; the pool's page shows them; the log names the person.
    let done = ok_json(
        post(&app, "/api/v1/creators/batch", am, &batch).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done, json!({"created": 2, "updated": 1, "unchanged": 0}));
    let (id, got, currency) = pool_creator(&app, "api_new_one").await.unwrap();
    assert_eq!((got, currency.as_deref()), (12000, Some("USD")));
    assert_eq!(pool_creator(&app, "api_new_two").await.unwrap().1, 45_000);
    assert_eq!(
        pool_creator(&app, &known).await.unwrap().1,
        followers + 1000
    );
    let staff_page = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app
        .get_ok(&staff_page, &format!("/admin/creators/{id}"))
        .await;
    assert!(page.contains("API New One"));
    let labels: Vec<String> = sqlx::query_scalar(
        "SELECT actor_label FROM audit_log WHERE action = 'creators.batch' ORDER BY at",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(labels, vec![ACCOUNT_MANAGER.0.to_string()]);

    // The same batch again changes nothing.
    let again = ok_json(
        post(&app, "/api/v1/creators/batch", am, &batch).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again, json!({"created": 0, "updated": 0, "unchanged": 3}));

    // The import's rules, each problem named by its row and column; nothing written.
    let (status, _, mut fields) = refusal(
        post(
            &app,
            "/api/v1/creators/batch",
            am,
            &json!({"creators": [
                {"handle": "api_new_three", "followers": 5000},
                {"handle": "api_bad", "followers": "lots", "quote_video": "300"},
                {"handle": "API_NEW_THREE", "followers": 7000},
                {},
            ]}),
        )
        .await,
    )
    .await;
    fields.sort();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields,
        vec![
            "creators[1].followers",
            "creators[1].quote_currency",
            "creators[2].handle",
            "creators[3].handle",
        ]
    );
    assert_eq!(pool_creator(&app, "api_new_three").await, None);
    let (status, _, fields) =
        refusal(post(&app, "/api/v1/creators/batch", am, &json!({"creators": []})).await).await;
    assert_eq!(
        (status, fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["creators".to_string()]
        )
    );
    let (status, _, fields) = refusal(
        post(
            &app,
            "/api/v1/creators/batch",
            am,
            &json!({"creators": [{"handle": "x", "followers": [1]}]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["creators[0].followers".to_string()]
        )
    );

    // The pool is the agency's: a seller's token is refused, as the import page refuses them.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = token_for(&app, &owner, "lumi", "write").await;
    let (status, _, _) =
        refusal(post(&app, "/api/v1/creators/batch", seller(&token), &batch).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
