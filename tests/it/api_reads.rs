//! The API's reads (issue 18) on the full demo: every list pages with a cursor to exactly the
//! tenant's rows, bad parameters are named, another tenant's ids are 404, raters stay blind,
//! tiers carry their reason in words, settlements are the owner's and the account manager's with
//! exports through the same token; the OpenAPI 3.1 document and its reference page.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use super::api::make_token;
use crate::support::*;

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client()
        .get(app.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let res = get(app, token, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// Every item of a list, page by page with `limit`, with the ids seen (no repeats).
async fn all_pages(app: &TestApp, token: &str, path: &str, limit: usize, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    for _ in 0..10_000 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = get_json(app, token, &url).await;
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit, "{url}");
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(got.len(), limit, "a full page before a cursor");
                assert_eq!(
                    Some(c),
                    got.last()
                        .and_then(|i| i.pointer(key))
                        .and_then(Value::as_str)
                );
                cursor = Some(c.to_string());
            }
            None => break,
        }
    }
    let ids: HashSet<&str> = items
        .iter()
        .map(|i| i.pointer(key).and_then(Value::as_str).unwrap())
        .collect();
    assert_eq!(ids.len(), items.len(), "no item twice in {path}");
    items
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
}

#[tokio::test]
async fn every_list_pages_to_exactly_the_tenants_rows_with_the_pages_meaning() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize::FULL).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = make_token(&app, &owner, "BI", "read").await;
    let lumi = "(SELECT id FROM tenants WHERE slug = 'lumi')";

    let campaigns = all_pages(&app, &token, "/api/v1/campaigns", 3, "/id").await;
    assert_eq!(
        campaigns.len() as i64,
        count(
            &app,
            &format!("SELECT count(*) FROM campaigns WHERE tenant_id = {lumi}")
        )
        .await
    );
    assert!(
        campaigns
            .iter()
            .all(|c| c["code"].as_str().is_none_or(|c| c.starts_with("LUMI-")))
    );

    let collabs = all_pages(&app, &token, "/api/v1/collaborations", 7, "/id").await;
    assert_eq!(
        collabs.len() as i64,
        count(
            &app,
            &format!("SELECT count(*) FROM collaborations WHERE tenant_id = {lumi}")
        )
        .await
    );
    // A filter, and one by id.
    let first = &collabs[0];
    let campaign = first["campaign_id"].as_str().unwrap();
    let of_campaign = all_pages(
        &app,
        &token,
        &format!("/api/v1/collaborations?campaign_id={campaign}"),
        100,
        "/id",
    )
    .await;
    assert!(of_campaign.iter().all(|c| c["campaign_id"] == campaign));
    assert_eq!(
        of_campaign.len(),
        collabs
            .iter()
            .filter(|c| c["campaign_id"] == campaign)
            .count()
    );
    let one = get_json(
        &app,
        &token,
        &format!("/api/v1/collaborations/{}", first["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(&one, first);
    assert!(one["terms"]["version"].as_i64().unwrap() >= 1);

    let shops = all_pages(&app, &token, "/api/v1/shops", 1, "/id").await;
    assert_eq!(
        shops.len() as i64,
        count(
            &app,
            &format!("SELECT count(*) FROM shops WHERE tenant_id = {lumi}")
        )
        .await
    );
    let posts = all_pages(&app, &token, "/api/v1/posts", 4, "/id").await;
    assert_eq!(
        posts.len() as i64,
        count(
            &app,
            &format!("SELECT count(*) FROM posts WHERE tenant_id = {lumi}")
        )
        .await
    );
    let with_snapshots = posts
        .iter()
        .find(|p| p["snapshots"].as_i64() > Some(0))
        .unwrap();
    assert!(
        with_snapshots["last_captured_at"].is_string(),
        "{with_snapshots}"
    );
    let creators = all_pages(&app, &token, "/api/v1/creators", 50, "/id").await;
    assert_eq!(
        creators.len() as i64,
        count(
            &app,
            &format!(
                "SELECT count(*) FROM (SELECT creator_id FROM shortlist_entries WHERE tenant_id = {lumi}
                  UNION SELECT creator_id FROM collaborations WHERE tenant_id = {lumi}) k"
            )
        )
        .await
    );
    // The platform's tier and blacklist are staff's: never in a seller's API.
    let text = serde_json::to_string(&creators).unwrap();
    assert!(!text.contains("platform"), "no platform tier or blacklist");

    let records = all_pages(&app, &token, "/api/v1/fulfilment-records", 5, "/id").await;
    assert!(!records.is_empty(), "the demo has fulfilment records");
    let counting = count(
        &app,
        &format!("SELECT count(*) FROM counting_fulfilment_records WHERE tenant_id = {lumi}"),
    )
    .await;
    assert_eq!(
        records.iter().filter(|r| r["counts"] == true).count() as i64,
        counting,
        "counts means what the page's view means"
    );
    let only_counting = all_pages(
        &app,
        &token,
        "/api/v1/fulfilment-records?counts=true",
        100,
        "/id",
    )
    .await;
    assert_eq!(only_counting.len() as i64, counting);

    let ratings = all_pages(&app, &token, "/api/v1/ratings", 4, "/id").await;
    assert!(!ratings.is_empty(), "the demo has ratings");
    for r in &ratings {
        if r["state"] == "completed" {
            assert!(r["scores"]["final_score"].is_string(), "{r}");
            assert!(
                r["scorecards"].is_array(),
                "a completed rating shows its scorecards"
            );
        } else {
            assert!(r["scores"].is_null(), "{r}");
        }
    }

    let tiers = all_pages(&app, &token, "/api/v1/tiers", 10, "/creator/id").await;
    assert!(!tiers.is_empty(), "the demo has tiers");
    let tiered = tiers.iter().find(|t| t["tier"].is_string()).unwrap();
    assert!(
        !tiered["reason_text"].as_str().unwrap().is_empty(),
        "{tiered}"
    );
    let creator = tiered["creator"]["id"].as_str().unwrap();
    let history = all_pages(
        &app,
        &token,
        &format!("/api/v1/tiers/{creator}/history"),
        2,
        "/id",
    )
    .await;
    assert!(!history.is_empty(), "a tier has its history");
    assert_eq!(
        history.last().unwrap()["to"],
        tiered["tier"],
        "the latest change is the tier"
    );
    let zh = app
        .client()
        .get(app.url("/api/v1/tiers?limit=500"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept-Language", "zh-CN")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let en = app
        .client()
        .get(app.url("/api/v1/tiers?limit=500"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let words = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["creator"]["id"] == creator)
            .unwrap()["reason_text"]
            .clone()
    };
    assert_ne!(
        words(&zh),
        words(&en),
        "the reason in the request's language"
    );

    // Another tenant's ids: 404.
    let nord_collab: Uuid = {
        let mut conn = app.owner_conn().await;
        sqlx::query_scalar(
            "SELECT c.id FROM collaborations c JOIN tenants t ON t.id = c.tenant_id
              WHERE t.slug = 'nordpeak' LIMIT 1",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(
        get(
            &app,
            &token,
            &format!("/api/v1/collaborations/{nord_collab}")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &token, "/api/v1/collaborations/not-an-id")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // A creator only another company knows: its tier history is not found here.
    let theirs: Uuid = {
        let mut conn = app.owner_conn().await;
        sqlx::query_scalar(
            "SELECT t.creator_id FROM creator_tiers t JOIN tenants n ON n.id = t.tenant_id
              WHERE n.slug = 'nordpeak' AND NOT EXISTS (
                    SELECT 1 FROM creator_tiers o JOIN tenants l ON l.id = o.tenant_id
                     WHERE l.slug = 'lumi' AND o.creator_id = t.creator_id)
                AND NOT EXISTS (SELECT 1 FROM collaborations c JOIN tenants l ON l.id = c.tenant_id
                     WHERE l.slug = 'lumi' AND c.creator_id = t.creator_id)
                AND NOT EXISTS (SELECT 1 FROM shortlist_entries e JOIN tenants l ON l.id = e.tenant_id
                     WHERE l.slug = 'lumi' AND e.creator_id = t.creator_id)
              LIMIT 1",
        )
        .fetch_one(&mut conn)
        .await
        .expect("a creator tiered by nordpeak only")
    };
    for id in [theirs, Uuid::now_v7()] {
        let path = format!("/api/v1/tiers/{id}/history");
        assert_eq!(
            get(&app, &token, &path).await.status(),
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = make_token(&app, &owner, "BI", "read").await;
    for (path, field) in [
        ("/api/v1/campaigns?limit=0", "limit"),
        ("/api/v1/campaigns?limit=501", "limit"),
        ("/api/v1/campaigns?limit=ten", "limit"),
        ("/api/v1/campaigns?state=bogus", "state"),
        ("/api/v1/collaborations?cursor=abc", "cursor"),
        ("/api/v1/collaborations?campaign_id=xyz", "campaign_id"),
        ("/api/v1/fulfilment-records?counts=maybe", "counts"),
        ("/api/v1/ratings?state=done", "state"),
        ("/api/v1/tiers?tier=Z", "tier"),
    ] {
        let res = get(&app, &token, path).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], field, "{path}: {p}");
    }
}

/// A read token of someone who cannot make one on the page (an operator): made directly.
async fn token_of(app: &TestApp, email: &str, slug: &str, secret: char) -> String {
    let token = format!("sxt_{}", secret.to_string().repeat(64));
    let mut conn = app.owner_conn().await;
    sqlx::query(
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, scope, token_hash, prefix)
         VALUES ($1, $2, $3, 'direct', 'read', sha256($4::bytea), left($5, 10))",
    )
    .bind(app.tenant_id(slug).await)
    .bind(Uuid::now_v7())
    .bind(app.user_id(email).await)
    .bind(token.as_bytes())
    .bind(&token)
    .execute(&mut conn)
    .await
    .unwrap();
    token
}

#[tokio::test]
async fn raters_stay_blind_in_the_api_as_on_the_rating_page() {
    use sextant::ratings::actions::submit_scorecard;
    let f = super::ratings::fixture().await;
    super::ratings::opened_with_raters(&f).await;
    let app = &f.app;
    let owner_token = token_of(app, OWNER_LUMI.0, "lumi", '2').await;
    let operator_token = token_of(app, OPERATOR_LUMI.0, "lumi", '3').await;
    let rating_of = |page: Value| page["items"][0].clone();
    let path = format!("/api/v1/ratings?collaboration_id={}", f.collab);
    // The operator scores.
    let operator = app.actor(OPERATOR_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    submit_scorecard(
        &mut tx,
        &operator,
        super::ratings::scorecard(f.collab, super::ratings::GOOD, ""),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // The owner, who has not scored, sees that one is in but not what it says.
    let r = rating_of(get_json(app, &owner_token, &path).await);
    assert_eq!(r["state"], "open");
    assert_eq!(r["raters"]["submitted"], 1, "{r}");
    assert!(
        r["scorecards"].is_null() && r["scores"].is_null(),
        "blind: {r}"
    );
    // The operator sees their own.
    let r = rating_of(get_json(app, &operator_token, &path).await);
    assert_eq!(r["scorecards"].as_array().unwrap().len(), 1, "{r}");
    // Once the owner scores, the rating completes and both see both.
    let owner = app.actor(OWNER_LUMI.0, "lumi").await;
    let mut tx = app.tx_for(&owner).await;
    submit_scorecard(
        &mut tx,
        &owner,
        super::ratings::scorecard(f.collab, super::ratings::GOOD, ""),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let r = rating_of(get_json(app, &owner_token, &path).await);
    assert_eq!(r["state"], "completed");
    assert_eq!(r["scorecards"].as_array().unwrap().len(), 2, "{r}");
    assert!(r["scores"]["final_score"].is_string(), "{r}");
}

#[tokio::test]
async fn settlements_are_the_owners_and_exports_come_through_the_same_token() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize::FULL).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = make_token(&app, &owner, "ERP", "read").await;
    let page = get_json(&app, &token, "/api/v1/settlements").await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty(), "the demo has a finalized settlement");
    let s = &items[0];
    assert!(s["period"].as_str().unwrap().len() == 7, "{s}");
    let csv = get(&app, &token, s["links"]["csv"].as_str().unwrap()).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let body = csv.text().await.unwrap();
    assert!(body.lines().count() > 1, "the statement's lines");
    let xlsx = get(&app, &token, s["links"]["xlsx"].as_str().unwrap()).await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"), "a workbook");
    // Compressed for a client that accepts gzip (browsers do): the whole file arrives (the API
    // fuzzer found the stream polled again after its end, which used to panic mid-answer).
    for link in ["csv", "xlsx"] {
        let res = app
            .client()
            .get(app.url(s["links"][link].as_str().unwrap()))
            .header("Authorization", format!("Bearer {token}"))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-encoding"], "gzip", "{link}");
        let zipped = res.bytes().await.expect("the whole body");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut plain)
            .unwrap();
        assert!(plain.len() > 100, "{link}");
    }

    // An operator's token may not see the money; another tenant's statement is not found.
    let op_token = &token_of(&app, OPERATOR_LUMI.0, "lumi", '1').await;
    let mut conn = app.owner_conn().await;
    assert_eq!(
        get(&app, op_token, "/api/v1/settlements").await.status(),
        StatusCode::FORBIDDEN
    );
    let nord: Option<Uuid> = sqlx::query_scalar(
        "SELECT s.id FROM settlements s JOIN tenants t ON t.id = s.tenant_id
          WHERE t.slug = 'nordpeak' LIMIT 1",
    )
    .fetch_optional(&mut conn)
    .await
    .unwrap();
    let foreign = nord.unwrap_or_else(Uuid::now_v7);
    assert_eq!(
        get(
            &app,
            &token,
            &format!("/api/v1/settlements/{foreign}/export.csv")
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_openapi_document_and_its_reference_page_describe_every_route() {
    let app = TestApp::spawn().await;
    let res = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/api/v1/campaigns",
        "/api/v1/collaborations",
        "/api/v1/collaborations/{id}",
        "/api/v1/creators",
        "/api/v1/shops",
        "/api/v1/fulfilment-records",
        "/api/v1/ratings",
        "/api/v1/tiers",
        "/api/v1/tiers/{creator_id}/history",
        "/api/v1/settlements",
        "/api/v1/posts",
        "/api/v1/snapshots",
        "/api/v1/orders",
    ] {
        assert!(paths.iter().any(|x| x.as_str() == p), "{p} in {paths:?}");
    }
    let res = app
        .client()
        .get(app.url("/api/v1/reference"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(page.contains("POST /api/v1/orders") && page.contains("OrderLineRecord"));
    assert!(!page.contains(" style=\""), "no inline styles");
    assert_eq!(
        page.matches("data-testid=\"operation\"").count(),
        doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum::<usize>()
    );
}
