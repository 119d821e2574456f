//! API tokens and the Bearer-only front door (issue 18, begun): the owner makes a token (shown
//! once, kept hashed), the token reads its tenant's campaigns, and is refused when revoked, when
//! its person leaves, when it is not a Bearer token, or when only the session cookie comes.

use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::*;

/// Makes a token on the owner's page; answers the token shown.
pub(crate) async fn make_token(
    app: &TestApp,
    owner: &reqwest::Client,
    name: &str,
    scope: &str,
) -> String {
    let res = app
        .post_form(
            owner,
            "/t/lumi/settings/api-tokens",
            &[("name", name), ("scope", scope)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let start = page
        .find("data-testid=\"token-value\">")
        .expect("the token shown")
        + 26;
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

async fn get_campaigns(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client().get(app.url("/api/v1/campaigns"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap()
}

pub(crate) async fn problem(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "errors are problem+json"
    );
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn a_token_is_shown_once_kept_hashed_and_reads_only_its_tenant() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = make_token(&app, &owner, "ERP sync", "read").await;
    assert!(token.starts_with("sxt_") && token.len() == 68, "{token}");

    // Only its hash is stored; the page lists it without the token.
    let mut conn = app.owner_conn().await;
    let (hash, prefix): (Vec<u8>, String) =
        sqlx::query_as("SELECT token_hash, prefix FROM api_tokens WHERE name = 'ERP sync'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec());
    assert!(token.starts_with(&prefix));
    let page = app.get_ok(&owner, "/t/lumi/settings/api-tokens").await;
    assert!(page.contains("ERP sync") && !page.contains(&token));

    // It reads Lumi's campaigns and nothing of Nordpeak's.
    let res = get_campaigns(&app, Some(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let codes: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert!(codes.iter().any(|c| c.starts_with("LUMI-")), "{codes:?}");
    assert!(!codes.iter().any(|c| c.starts_with("NORD")), "{codes:?}");
    let used: bool = sqlx::query_scalar(
        "SELECT last_used_at IS NOT NULL FROM api_tokens WHERE name = 'ERP sync'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(used, "the last-used time is kept");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'api_token.create' AND actor_label = $1",
    )
    .bind(OWNER_LUMI.0)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn no_token_a_wrong_one_a_session_cookie_a_revoked_one_and_a_departed_person_are_refused() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;

    // The session cookie alone does not open the API.
    let res = owner
        .get(app.url("/api/v1/campaigns"))
        .send()
        .await
        .unwrap();
    let (status, body) = problem(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "api.error.no_token");
    for (token, code) in [
        (None, "api.error.no_token"),
        (
            Some("sxt_0000000000000000000000000000000000000000000000000000000000000000"),
            "api.error.bad_token",
        ),
        (Some("not-a-token"), "api.error.no_token"),
    ] {
        let res = get_campaigns(&app, token).await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{token:?}");
        let (status, body) = problem(res).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(code))
        );
    }

    // Revoked: refused from then on.
    let token = make_token(&app, &owner, "BI export", "write").await;
    assert_eq!(
        get_campaigns(&app, Some(&token)).await.status(),
        StatusCode::OK
    );
    let mut conn = app.owner_conn().await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'BI export'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    // Another tenant's owner cannot revoke it; the owner can.
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let res = app
        .post_form(
            &other,
            &format!("/t/nordpeak/settings/api-tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get_campaigns(&app, Some(&token)).await.status(),
        StatusCode::OK
    );
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/settings/api-tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, body) = problem(get_campaigns(&app, Some(&token)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("api.error.revoked"))
    );

    // A token of a person who left the company stops working.
    let res = app
        .post_form(
            &owner,
            "/t/lumi/members",
            &[
                ("name", "Ops Bot"),
                ("email", "ops.bot@lumi-home.example"),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let link = shown_link_path(&res.text().await.unwrap());
    app.post_form(
        &app.client(),
        &link,
        &[
            ("password", "ops-bot-password-1"),
            ("password_confirm", "ops-bot-password-1"),
        ],
    )
    .await;
    let bot = app
        .login("ops.bot@lumi-home.example", "ops-bot-password-1")
        .await;
    let token = make_token(&app, &bot, "Ops", "read").await;
    assert_eq!(
        get_campaigns(&app, Some(&token)).await.status(),
        StatusCode::OK
    );
    let bot_id = app.user_id("ops.bot@lumi-home.example").await;
    let res = app
        .post_form(&owner, &format!("/t/lumi/members/{bot_id}/remove"), &[])
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let (status, body) = problem(get_campaigns(&app, Some(&token)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("api.error.not_member"))
    );
}

#[tokio::test]
async fn only_the_owner_makes_tokens_and_bad_input_is_named_beside_the_field() {
    let app = TestApp::with_demo_campaigns().await;
    for who in [OPERATOR_LUMI, VIEWER_LUMI] {
        let client = app.login(who.0, who.1).await;
        assert_eq!(
            app.status_of(&client, "/t/lumi/settings/api-tokens").await,
            StatusCode::FORBIDDEN
        );
        let res = app
            .post_form(
                &client,
                "/t/lumi/settings/api-tokens",
                &[("name", "x"), ("scope", "read")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = app
        .post_form(
            &owner,
            "/t/lumi/settings/api-tokens",
            &[("name", " "), ("scope", "admin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("data-field=\"name\"") && page.contains("data-field=\"scope\""));
    assert!(!page.contains("data-testid=\"token-value\""));
    let mut conn = app.owner_conn().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing stored");
}

async fn post_json(app: &TestApp, token: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = app
        .client()
        .post(app.url("/api/v1/posts"))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_write_token_records_a_post_through_the_pages_action_with_the_same_refusals() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let write = make_token(&app, &owner, "Scraper", "write").await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let mut conn = app.owner_conn().await;
    let collab: uuid::Uuid = sqlx::query_scalar(
        "SELECT c.id FROM collaborations c JOIN tenants t ON t.id = c.tenant_id
          WHERE t.slug = 'lumi' AND c.state = 'accepted' ORDER BY c.created_at LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let foreign: uuid::Uuid = sqlx::query_scalar(
        "SELECT c.id FROM collaborations c JOIN tenants t ON t.id = c.tenant_id
          WHERE t.slug = 'nordpeak' AND c.state = 'accepted' LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let body = |id: uuid::Uuid, url: &str| {
        serde_json::json!({
            "collaboration_id": id,
            "url": url,
            "published_at": "2026-11-20T10:00",
        })
        .to_string()
    };
    let url = "https://www.tiktok.com/@lumi.fan/video/7301234567890125555";

    // A read token may not write; the session cookie alone opens nothing.
    let (status, p) = problem(post_json(&app, Some(&read), &body(collab, url)).await).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("api.error.read_only"))
    );
    let res = owner
        .post(app.url("/api/v1/posts"))
        .header("Content-Type", "application/json")
        .body(body(collab, url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Bad input names its field; a body that is not the shape is a 400; another tenant's
    // collaboration is not found.
    let (status, p) =
        problem(post_json(&app, Some(&write), &body(collab, "not a url")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "url", "{p}");
    let (status, p) =
        problem(post_json(&app, Some(&write), "{\"collaboration_id\": 5}").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "collaboration_id", "{p}");
    let (status, p) = problem(post_json(&app, Some(&write), "{\"url\": \"x\"").await).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("api.error.bad_json"))
    );
    let (status, _) = problem(post_json(&app, Some(&write), &body(foreign, url)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let posts: i64 = sqlx::query_scalar("SELECT count(*) FROM posts WHERE url = $1")
        .bind(url)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(posts, 0, "nothing stored by the refusals");

    // The write: the post, the collaboration published, the audit under the token's person.
    let res = post_json(&app, Some(&write), &body(collab, url)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let (state, actor): (String, String) = sqlx::query_as(
        "SELECT c.state, a.actor_label FROM posts p
           JOIN collaborations c ON c.id = p.collaboration_id
           JOIN audit_log a ON a.entity_id = p.id::text AND a.action = 'post.create'
          WHERE p.id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), actor.as_str()),
        ("published", OWNER_LUMI.0)
    );
    let page = app
        .get_ok(&owner, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(
        page.contains("7301234567890125555"),
        "the page shows the same post"
    );
    // The same URL again: the page's refusal, beside the same field.
    let (status, p) = problem(post_json(&app, Some(&write), &body(collab, url)).await).await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("url"))
    );
}

async fn get_as(app: &TestApp, token: &str, tenant: Option<&str>, path: &str) -> reqwest::Response {
    let mut req = app
        .client()
        .get(app.url(path))
        .header("Authorization", format!("Bearer {token}"));
    if let Some(t) = tenant {
        req = req.header("Sextant-Tenant", t);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_staff_token_reaches_only_the_companies_its_account_manager_is_assigned_to_now() {
    let app = TestApp::with_demo_campaigns().await;
    // Only account managers make staff tokens; sellers and other staff are refused.
    for (email, password) in [
        (OWNER_LUMI.0, OWNER_LUMI.1),
        ("admin@sextant.example", "admin-demo-2026"),
        ("finance@sextant.example", "finance-demo-2026"),
    ] {
        let client = app.login(email, password).await;
        assert_eq!(
            app.status_of(&client, "/account/api-tokens").await,
            StatusCode::FORBIDDEN,
            "{email}"
        );
    }
    let am = app.login("am@sextant.example", "am-demo-2026").await;
    let res = app
        .post_form(&am, "/account/api-tokens", &[("name", " "), ("scope", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &am,
            "/account/api-tokens",
            &[("name", "Agency BI"), ("scope", "write")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let start = page.find("data-testid=\"token-value\">").unwrap() + 26;
    let token = page[start..start + page[start..].find('<').unwrap()].to_string();
    // No company's owner sees it.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let owners = app.get_ok(&owner, "/t/lumi/settings/api-tokens").await;
    assert!(!owners.contains("Agency BI"));
    assert!(
        app.get_ok(&am, "/account/api-tokens")
            .await
            .contains("Agency BI")
    );

    // Each request names the company.
    let (status, p) = problem(get_as(&app, &token, None, "/api/v1/campaigns").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["field"], "Sextant-Tenant", "{p}");
    let body: Value = get_as(&app, &token, Some("lumi"), "/api/v1/campaigns")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["code"].as_str().is_none_or(|c| c.starts_with("LUMI-")))
    );
    assert_eq!(
        get_as(&app, &token, Some("nordpeak"), "/api/v1/campaigns")
            .await
            .status(),
        StatusCode::OK
    );
    // Writes go through the same actions, as the account manager.
    let mut conn = app.owner_conn().await;
    let (post, published): (uuid::Uuid, time::OffsetDateTime) = sqlx::query_as(
        "SELECT p.id, p.published_at FROM posts p JOIN tenants t ON t.id = p.tenant_id
          WHERE t.slug = 'lumi' LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let at = (published + time::Duration::seconds(31))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let res = app
        .client()
        .post(app.url("/api/v1/snapshots"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Sextant-Tenant", "lumi")
        .json(
            &serde_json::json!({"snapshots": [{"post_id": post, "captured_at": at,
              "views": 10, "likes": 1, "comments": 0, "shares": 0}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let by: String = sqlx::query_scalar(
        "SELECT u.email FROM metric_snapshots s JOIN users u ON u.id = s.created_by
          WHERE s.post_id = $1 AND s.captured_at = $2",
    )
    .bind(post)
    .bind(published + time::Duration::seconds(31))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(by, "am@sextant.example");

    // A company the person is no longer assigned to, or never was, is not found.
    sqlx::query(
        "DELETE FROM am_assignments WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'nordpeak')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for slug in ["nordpeak", "no-such-company"] {
        let (status, _) =
            problem(get_as(&app, &token, Some(slug), "/api/v1/campaigns").await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{slug}");
    }
    // A company token naming another company is not found either.
    let own = make_token(&app, &owner, "ERP", "read").await;
    assert_eq!(
        get_as(&app, &own, Some("nordpeak"), "/api/v1/campaigns")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_as(&app, &own, Some("lumi"), "/api/v1/campaigns")
            .await
            .status(),
        StatusCode::OK
    );
    // Revoked by its person (nobody else's revoke reaches it): refused from then on.
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'Agency BI'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let am2 = app.login("am2@sextant.example", "am2-demo-2026").await;
    let res = app
        .post_form(&am2, &format!("/account/api-tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post_form(&am, &format!("/account/api-tokens/{id}/revoke"), &[])
        .await;
    assert!(res.status().is_redirection());
    let (status, p) = problem(get_as(&app, &token, Some("lumi"), "/api/v1/campaigns").await).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("api.error.revoked"))
    );
}

/// Every route of /api/v1 that takes a token, with a body for the writes.
const READS: &[&str] = &[
    "/api/v1/campaigns",
    "/api/v1/collaborations",
    "/api/v1/collaborations/01900000-0000-7000-8000-000000000001",
    "/api/v1/creators",
    "/api/v1/shops",
    "/api/v1/posts",
    "/api/v1/fulfilment-records",
    "/api/v1/ratings",
    "/api/v1/tiers",
    "/api/v1/tiers/01900000-0000-7000-8000-000000000001/history",
    "/api/v1/settlements",
    "/api/v1/settlements/01900000-0000-7000-8000-000000000001/export.csv",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/candidates",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/shortlist",
];
const WRITES: &[&str] = &[
    "/api/v1/posts",
    "/api/v1/snapshots",
    "/api/v1/orders",
    "/api/v1/campaigns",
    "/api/v1/creators/batch",
    "PUT /api/v1/campaigns/01900000-0000-7000-8000-000000000001",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/submit",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/transitions",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/shortlist",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/shortlist/entries/01900000-0000-7000-8000-000000000001/decision",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/shortlist/another-round",
    "/api/v1/campaigns/01900000-0000-7000-8000-000000000001/shortlist/approve",
    "/api/v1/collaborations",
    "/api/v1/collaborations/01900000-0000-7000-8000-000000000001/terms",
    "/api/v1/collaborations/01900000-0000-7000-8000-000000000001/events",
    "/api/v1/collaborations/01900000-0000-7000-8000-000000000001/fulfilment-records",
    "/api/v1/fulfilment-records/01900000-0000-7000-8000-000000000001/correct",
    "/api/v1/collaborations/01900000-0000-7000-8000-000000000001/rating",
    "/api/v1/ratings/01900000-0000-7000-8000-000000000001/raters",
    "/api/v1/ratings/01900000-0000-7000-8000-000000000001/scorecards",
    "/api/v1/ratings/01900000-0000-7000-8000-000000000001/close",
    "/api/v1/creators/01900000-0000-7000-8000-000000000001/blacklist",
    "/api/v1/blacklist/01900000-0000-7000-8000-000000000001/decision",
    "/api/v1/creators/01900000-0000-7000-8000-000000000001/tier-override",
];

#[tokio::test]
async fn every_route_refuses_a_session_cookie_a_revoked_token_and_a_read_token_on_writes() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let revoked = make_token(&app, &owner, "Old", "write").await;
    let mut conn = app.owner_conn().await;
    sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE name = 'Old'")
        .execute(&mut conn)
        .await
        .unwrap();
    let body = serde_json::json!({});
    for path in READS {
        // The signed-in owner's cookie opens nothing here.
        let res = owner.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let (status, p) = problem(get_as(&app, &revoked, None, path).await).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("api.error.revoked")),
            "{path}"
        );
        let status = get_as(&app, &read, None, path).await.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
    }
    // A company that is not active (suspended by the agency) answers nothing but that.
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE slug = 'lumi'")
        .execute(&mut conn)
        .await
        .unwrap();
    for path in READS {
        let (status, p) = problem(get_as(&app, &read, None, path).await).await;
        assert_eq!(
            (status, p["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("api.error.tenant_not_active")),
            "{path}"
        );
    }
    sqlx::query("UPDATE tenants SET status = 'active' WHERE slug = 'lumi'")
        .execute(&mut conn)
        .await
        .unwrap();
    for write in WRITES {
        // "PUT /path" for a write that is not a POST.
        let (method, path) = match write.split_once(' ') {
            Some((method, path)) => (method.parse().unwrap(), path),
            None => (reqwest::Method::POST, *write),
        };
        let res = owner
            .request(method.clone(), app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        for (token, status, code) in [
            (&revoked, StatusCode::UNAUTHORIZED, "api.error.revoked"),
            (&read, StatusCode::FORBIDDEN, "api.error.read_only"),
        ] {
            let res = app
                .client()
                .request(method.clone(), app.url(path))
                .header("Authorization", format!("Bearer {token}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let (got, p) = problem(res).await;
            assert_eq!((got, p["code"].as_str()), (status, Some(code)), "{path}");
        }
    }
}
