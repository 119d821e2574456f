//! The API's ingest (issue 18): snapshot and order batches through the pages' rules, all or
//! nothing, each problem named by its row; an orders call is an import batch (source `api`) the
//! pages show and undo; and the limits in front of every route — `Idempotency-Key` replays, a
//! reused key with another body refused, a duplicate still running refused with 409, the rate per
//! token shared by every app server (429 + Retry-After), the body size limit.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::{make_token, problem};
use crate::support::*;

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = app
        .client()
        .post(app.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

pub(crate) fn fields(p: &Value) -> Vec<String> {
    p["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A post of the tenant with when it was published (RFC 3339), and the tenant's writer tokens.
async fn post_of(app: &TestApp, slug: &str) -> (Uuid, time::OffsetDateTime) {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT p.id, p.published_at FROM posts p JOIN tenants t ON t.id = p.tenant_id
          WHERE t.slug = $1 ORDER BY p.published_at LIMIT 1",
    )
    .bind(slug)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn snapshot_count(app: &TestApp, post: Uuid) -> i64 {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM metric_snapshots WHERE post_id = $1")
        .bind(post)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_snapshot_batch_is_checked_per_row_stored_all_or_nothing_and_idempotent() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let write = make_token(&app, &owner, "Scraper", "write").await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let (post_id, published) = post_of(&app, "lumi").await;
    let (foreign, _) = post_of(&app, "nordpeak").await;
    let before = snapshot_count(&app, post_id).await;
    // Moments the demo's own snapshots do not use (17 s past the hour).
    let at = |hours: i64| rfc3339(published + time::Duration::seconds(hours * 3600 + 17));
    let row = |hours: i64, views: i64| {
        json!({"post_id": post_id, "captured_at": at(hours), "views": views, "likes": 5,
               "comments": 1, "shares": 0, "avg_watch_seconds": "7.25"})
    };
    let good = json!({ "snapshots": [row(1, 100), row(2, 250), row(2, 260)] });

    // A read token may not write.
    let (status, p) = problem(post(&app, "/api/v1/snapshots", &read, None, &good).await).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("api.error.read_only"))
    );
    // Bad rows: every problem named by its row; nothing stored.
    let mut early = row(3, 10);
    early["captured_at"] = json!(rfc3339(published - time::Duration::hours(1)));
    let bad = json!({ "snapshots": [row(1, 100), row(2, -5), early] });
    let (status, p) = problem(post(&app, "/api/v1/snapshots", &write, None, &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&p),
        ["snapshots[1].views", "snapshots[2].captured_at"],
        "{p}"
    );
    assert_eq!(
        p["errors"][1]["code"],
        "performance.error.captured_before_published"
    );
    // The wrong type names its field too; an empty batch names the batch.
    let mut typed = row(1, 1);
    typed["likes"] = json!("many");
    let (status, p) = problem(
        post(
            &app,
            "/api/v1/snapshots",
            &write,
            None,
            &json!({ "snapshots": [row(1, 1), typed] }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, fields(&p)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["snapshots[1].likes".to_string()]
        )
    );
    let (status, p) = problem(
        post(
            &app,
            "/api/v1/snapshots",
            &write,
            None,
            &json!({ "snapshots": [] }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, fields(&p)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["snapshots".to_string()]
        )
    );
    // Another tenant's post is not found, and named.
    let mut theirs = row(1, 1);
    theirs["post_id"] = json!(foreign);
    let (status, p) = problem(
        post(
            &app,
            "/api/v1/snapshots",
            &write,
            None,
            &json!({ "snapshots": [row(1, 1), theirs] }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, fields(&p)),
        (
            StatusCode::NOT_FOUND,
            vec!["snapshots[1].post_id".to_string()]
        )
    );
    assert_eq!(
        snapshot_count(&app, post_id).await,
        before,
        "nothing stored"
    );

    // The good batch: two moments (the later of two rows of one moment wins).
    let res = post(&app, "/api/v1/snapshots", &write, None, &good).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["received"].as_i64(), body["stored"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(snapshot_count(&app, post_id).await, before + 2);
    let mut conn = app.owner_conn().await;
    let (views, source, by): (i64, String, String) = sqlx::query_as(
        "SELECT s.views, s.source, u.email FROM metric_snapshots s JOIN users u ON u.id = s.created_by
          WHERE s.post_id = $1 AND s.captured_at = $2",
    )
    .bind(post_id)
    .bind(published + time::Duration::seconds(2 * 3600 + 17))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (views, source.as_str(), by.as_str()),
        (260, "api", OWNER_LUMI.0)
    );
    // Sent again: nothing new.
    let res = post(&app, "/api/v1/snapshots", &write, None, &good).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(snapshot_count(&app, post_id).await, before + 2);
    // Two records of one moment as the database keeps it (a tenth of a microsecond apart) are
    // one snapshot, the later winning: never an error.
    let base = published + time::Duration::seconds(5 * 3600 + 17);
    let micro = |ns: i64, views: i64| {
        json!({"post_id": post_id, "captured_at": rfc3339(base + time::Duration::nanoseconds(ns)),
               "views": views, "likes": 0, "comments": 0, "shares": 0})
    };
    let res = post(
        &app,
        "/api/v1/snapshots",
        &write,
        None,
        &json!({ "snapshots": [micro(100, 1), micro(200, 2)] }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["stored"], 1, "{body}");
    assert_eq!(snapshot_count(&app, post_id).await, before + 3);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'snapshots.ingest' AND actor_label = $1",
    )
    .bind(OWNER_LUMI.0)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(audited, 3);
}

/// The first TikTok shop of a tenant.
pub(crate) async fn shop_of(app: &TestApp, slug: &str) -> Uuid {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT s.id FROM shops s JOIN tenants t ON t.id = s.tenant_id
          WHERE t.slug = $1 ORDER BY s.created_at LIMIT 1",
    )
    .bind(slug)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

pub(crate) fn order_line(key: &str, amount: &str, status: &str) -> Value {
    json!({
        "order_key": key, "line_key": "SKU-1", "placed_at": "2026-11-02T10:00:00+08:00",
        "status": status, "currency": "usd", "amount": amount, "quantity": 1,
        "creator_username": "@Lumi.Fan", "commission_rate": "0.1", "commission": "2.50",
        "product_name": "Desk lamp", "paid_at": "2026-11-02T10:05:00+08:00"
    })
}

async fn current_line(app: &TestApp, key: &str) -> Option<(String, String, String)> {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT amount::text, status, creator_username FROM orders_current WHERE order_key = $1",
    )
    .bind(key)
    .fetch_optional(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_orders_call_is_an_import_batch_the_pages_show_and_undo() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let write = make_token(&app, &owner, "ERP", "write").await;
    let read = make_token(&app, &owner, "BI", "read").await;
    let shop = shop_of(&app, "lumi").await;
    let foreign_shop = shop_of(&app, "nordpeak").await;
    let batch =
        |as_of: &str, lines: Vec<Value>| json!({ "shop_id": shop, "as_of": as_of, "lines": lines });
    let first = batch(
        "2026-11-03T00:00:00Z",
        vec![
            order_line("API-1001", "25.90", "shipped"),
            order_line("API-1002", "10", "shipped"),
            order_line("API-1002", "12.00", "completed"),
        ],
    );

    let (status, _) = problem(post(&app, "/api/v1/orders", &read, None, &first).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Bad lines are named; nothing of the call is kept.
    let mut bad_currency = order_line("API-2", "1.00", "x");
    bad_currency["currency"] = json!("dollars");
    let mut cents = order_line("API-3", "1.005", "x");
    cents["commission_rate"] = json!("1.5");
    let mut fine_rate = order_line("API-4", "1.00", "x");
    fine_rate["commission_rate"] = json!("0.12345");
    let bad = batch(
        "2026-11-03T00:00:00Z",
        vec![
            order_line("API-1", "1", "x"),
            bad_currency,
            cents,
            fine_rate,
        ],
    );
    let (status, p) = problem(post(&app, "/api/v1/orders", &write, None, &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&p),
        [
            "lines[1].currency",
            "lines[2].amount",
            "lines[2].commission_rate",
            "lines[3].commission_rate"
        ],
        "{p}"
    );
    let future = batch("2099-01-01T00:00:00Z", vec![order_line("API-1", "1", "x")]);
    let (status, p) = problem(post(&app, "/api/v1/orders", &write, None, &future).await).await;
    assert_eq!(
        (status, fields(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["as_of".to_string()])
    );
    let mut theirs = first.clone();
    theirs["shop_id"] = json!(foreign_shop);
    let (status, p) = problem(post(&app, "/api/v1/orders", &write, None, &theirs).await).await;
    assert_eq!(
        (status, fields(&p)),
        (StatusCode::NOT_FOUND, vec!["shop_id".to_string()])
    );
    let mut conn = app.owner_conn().await;
    let api_batches = || async {
        let mut conn = app.owner_conn().await;
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM order_imports WHERE source = 'api'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(api_batches().await, 0);

    // The call: one batch, imported; the later line of a key wins; the handle and currency
    // normalized as the file importer does.
    let res = post(&app, "/api/v1/orders", &write, None, &first).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (
            body["lines"].as_i64(),
            body["duplicate_lines"].as_i64(),
            body["new"].as_i64()
        ),
        (Some(3), Some(1), Some(2)),
        "{body}"
    );
    let import_id: Uuid = body["import_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(location, format!("/t/lumi/orders/imports/{import_id}"));
    assert_eq!(
        current_line(&app, "API-1002").await,
        Some(("12.00".into(), "completed".into(), "lumi.fan".into()))
    );
    let (state, source, by): (String, String, String) = sqlx::query_as(
        "SELECT i.state, i.source, u.email FROM order_imports i JOIN users u ON u.id = i.created_by
          WHERE i.id = $1",
    )
    .bind(import_id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), source.as_str(), by.as_str()),
        ("imported", "api", OWNER_LUMI.0)
    );
    // The pages list it and show it like an upload.
    let list = app.get_ok(&owner, "/t/lumi/orders/imports").await;
    assert!(
        list.contains(&import_id.to_string()),
        "listed on the imports page"
    );
    let page = app.get_ok(&owner, &location).await;
    assert!(
        page.contains("Sent through the API") || page.contains("通过 API 发送"),
        "{page}"
    );

    // Sent again: nothing changes. An older version loses; a later one wins.
    let res = post(&app, "/api/v1/orders", &write, None, &first).await;
    let again: Value = res.json().await.unwrap();
    assert_eq!(
        (again["new"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(2)),
        "{again}"
    );
    let older = batch(
        "2026-11-01T00:00:00Z",
        vec![order_line("API-1002", "99.00", "cancelled")],
    );
    let res = post(&app, "/api/v1/orders", &write, None, &older).await;
    let older_body: Value = res.json().await.unwrap();
    assert_eq!(older_body["older"].as_i64(), Some(1));
    assert_eq!(current_line(&app, "API-1002").await.unwrap().0, "12.00");
    let later = batch(
        "2026-11-05T00:00:00Z",
        vec![order_line("API-1002", "0", "refunded")],
    );
    let res = post(&app, "/api/v1/orders", &write, None, &later).await;
    let later_body: Value = res.json().await.unwrap();
    assert_eq!(later_body["changed"].as_i64(), Some(1));
    assert_eq!(current_line(&app, "API-1002").await.unwrap().1, "refunded");

    // Undone on the page, as an upload is: the earlier version counts again.
    let later_id = later_body["import_id"].as_str().unwrap();
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/orders/imports/{later_id}/undo"),
            &[],
        )
        .await;
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "{}",
        res.status()
    );
    assert_eq!(current_line(&app, "API-1002").await.unwrap().1, "completed");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'orders.api_import'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(audited, 4);
    assert_eq!(api_batches().await, 4);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_reuse_and_duplicates() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let write = make_token(&app, &owner, "ERP", "write").await;
    let shop = shop_of(&app, "lumi").await;
    let body = json!({ "shop_id": shop, "as_of": "2026-11-03T00:00:00Z",
                       "lines": [order_line("IDEM-1", "5.00", "shipped")] });
    let key = Uuid::now_v7().to_string();
    let first = post(&app, "/api/v1/orders", &write, Some(&key), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_location = first.headers()["location"].clone();
    let first_body = first.text().await.unwrap();
    // The same request again: the first answer, not a second batch.
    let replay = post(&app, "/api/v1/orders", &write, Some(&key), &body).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.headers()["location"], first_location);
    assert_eq!(replay.text().await.unwrap(), first_body);
    let mut conn = app.owner_conn().await;
    let batches: i64 =
        sqlx::query_scalar("SELECT count(*) FROM order_imports WHERE source = 'api'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(batches, 1);
    // A refusal is an answer too: replayed the same.
    let bad = json!({ "snapshots": [] });
    let bad_key = "bad-batch-1";
    let a = post(&app, "/api/v1/snapshots", &write, Some(bad_key), &bad).await;
    assert_eq!(a.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b = post(&app, "/api/v1/snapshots", &write, Some(bad_key), &bad).await;
    assert_eq!(b.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(b.headers()["idempotent-replayed"], "true");
    // The same key with another body is refused, and does nothing.
    let mut other = body.clone();
    other["lines"][0]["amount"] = json!("6.00");
    let (status, p) = problem(post(&app, "/api/v1/orders", &write, Some(&key), &other).await).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("api.error.idempotency_reused")
        )
    );
    // A duplicate that arrives while the first is still running gets 409. Two requests racing:
    // the second finds the key claimed by the first, which has not answered yet.
    let racing = "racing-1";
    let token_id: Uuid =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE token_hash = sha256($1::bytea)")
            .bind(write.as_bytes())
            .fetch_one(&mut conn)
            .await
            .unwrap();
    // The request's fingerprint as the front door takes it: method, path, company, content type,
    // body.
    let fingerprint = {
        use sha2::Digest;
        let target = format!(
            "/api/v1/orders {} application/json",
            app.tenant_id("lumi").await
        );
        let bytes = serde_json::to_vec(&body).unwrap();
        let mut h = sha2::Sha256::new();
        h.update(b"POST");
        h.update([0]);
        h.update(target.as_bytes());
        h.update([0]);
        h.update(&bytes);
        h.finalize().to_vec()
    };
    sqlx::query(
        "INSERT INTO api_idempotency (token_id, key, request_hash, state) VALUES ($1, $2, $3, 'running')",
    )
    .bind(token_id)
    .bind(racing)
    .bind(&fingerprint)
    .execute(&mut conn)
    .await
    .unwrap();
    let (status, p) =
        problem(post(&app, "/api/v1/orders", &write, Some(racing), &body).await).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("api.error.idempotency_running"))
    );
    // And truly concurrent: of two identical calls at once, one runs and the other waits its
    // turn (409) or replays the first answer; never two batches.
    let key2 = Uuid::now_v7().to_string();
    let mut body2 = body.clone();
    body2["lines"][0]["order_key"] = json!("IDEM-2");
    let (x, y) = tokio::join!(
        post(&app, "/api/v1/orders", &write, Some(&key2), &body2),
        post(&app, "/api/v1/orders", &write, Some(&key2), &body2)
    );
    let mut statuses = [x.status().as_u16(), y.status().as_u16()];
    statuses.sort();
    assert!(
        statuses == [201, 201] || statuses == [201, 409],
        "{statuses:?}"
    );
    let batches: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT i.id) FROM order_imports i JOIN order_lines l ON l.import_id = i.id
          WHERE l.order_key = 'IDEM-2'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(batches, 1);
    // An answer that may change on a retry (here: a shop this company does not have) is not
    // kept: the same request again is answered afresh, not replayed.
    let mut elsewhere = body.clone();
    elsewhere["shop_id"] = json!(shop_of(&app, "nordpeak").await);
    for _ in 0..2 {
        let res = post(&app, "/api/v1/orders", &write, Some("not-kept"), &elsewhere).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
    // A key that is no key is named.
    let res = post(&app, "/api/v1/orders", &write, Some("has space"), &body).await;
    let (status, p) = problem(res).await;
    assert_eq!(
        (status, fields(&p)),
        (StatusCode::BAD_REQUEST, vec!["Idempotency-Key".to_string()])
    );
}

#[tokio::test]
async fn the_rate_per_token_is_shared_by_every_app_server_and_bodies_are_limited() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = make_token(&app, &owner, "Poller", "read").await;
    let other = make_token(&app, &owner, "Other", "read").await;
    // Two app servers on one database, each allowing 3 requests a minute per token.
    let mut config = sextant::config::Config::for_tests(app.database_url.clone());
    config.api_requests_per_minute = 3;
    let a = TestApp::serve_with(app.db.clone(), app.database_url.clone(), config.clone()).await;
    let b = TestApp::serve_with(app.db.clone(), app.database_url.clone(), config).await;
    let get = |server: &TestApp, t: &str| {
        server
            .client()
            .get(server.url("/api/v1/campaigns"))
            .header("Authorization", format!("Bearer {t}"))
            .send()
    };
    assert_eq!(get(&a, &token).await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(&b, &token).await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(&a, &token).await.unwrap().status(), StatusCode::OK);
    let res = get(&b, &token).await.unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let (status, p) = problem(res).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("api.error.rate"))
    );
    // Another token has its own count.
    assert_eq!(get(&a, &other).await.unwrap().status(), StatusCode::OK);

    // A body over the limit is refused before it is read whole, and says so.
    let write = make_token(&app, &owner, "Big", "write").await;
    let big = format!("{{\"snapshots\": [{}]}}", "0,".repeat(5 * 1024 * 1024));
    let res = app
        .client()
        .post(app.url("/api/v1/snapshots"))
        .header("Authorization", format!("Bearer {write}"))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("api.error.too_large"))
    );
    // Not JSON: 415.
    let res = app
        .client()
        .post(app.url("/api/v1/snapshots"))
        .header("Authorization", format!("Bearer {write}"))
        .header("Content-Type", "text/csv")
        .body("a,b")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// A scraper's rounds through the API — every post of the tenant one reading later than its
/// newest, round after round, and one round sent again — keep each post's days as the rule
/// counts them from the stored readings (the database takes its short way for such rounds).
#[tokio::test]
async fn rounds_of_readings_through_the_api_keep_every_posts_daily_views() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let write = make_token(&app, &owner, "Scraper", "write").await;
    let mut conn = app.owner_conn().await;
    let (zone, posts): (String, Vec<(Uuid, time::OffsetDateTime)>) = (
        sqlx::query_scalar("SELECT time_zone FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        sqlx::query_as(
            "SELECT p.id, greatest(p.published_at, coalesce(max(m.captured_at), p.published_at)) \
               FROM posts p LEFT JOIN metric_snapshots m ON m.tenant_id = p.tenant_id \
                AND m.post_id = p.id WHERE p.tenant_id = $1 GROUP BY p.id, p.published_at ORDER BY p.id",
        )
        .bind(tenant)
        .fetch_all(&mut conn)
        .await
        .unwrap(),
    );
    assert!(posts.len() >= 3, "the demo has posts: {posts:?}");
    let now = time::OffsetDateTime::now_utc();
    let round = |r: i64| {
        let rows: Vec<Value> = posts
            .iter()
            .filter_map(|(id, newest)| {
                let at = *newest + time::Duration::minutes(97 * r);
                (at < now).then(|| {
                    json!({"post_id": id, "captured_at": rfc3339(at), "views": 1_000_000 + 1_000 * r,
                           "likes": 1, "comments": 0, "shares": 0})
                })
            })
            .collect();
        json!({ "snapshots": rows })
    };
    for r in [1, 2, 3, 3, 4, 12, 30] {
        let body = round(r);
        if body["snapshots"].as_array().unwrap().is_empty() {
            continue;
        }
        let res = post(&app, "/api/v1/snapshots", &write, None, &body).await;
        assert_eq!(res.status(), StatusCode::OK, "round {r}");
        let readings: Vec<(Uuid, time::OffsetDateTime, i64)> = sqlx::query_as(
            "SELECT post_id, captured_at, views FROM metric_snapshots WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let stored: Vec<(Uuid, time::Date, i64, i64, time::OffsetDateTime)> = sqlx::query_as(
            "SELECT post_id, day, views, added, last_at FROM post_view_days WHERE tenant_id = $1 \
             ORDER BY post_id, day",
        )
        .bind(tenant)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            stored,
            super::performance::post_days(&readings, &zone),
            "each post's days after round {r}"
        );
    }
}
