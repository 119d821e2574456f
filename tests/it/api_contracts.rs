//! The contract and fulfilment writes of `/api/v1` (issue 19): terms from an approved entry,
//! changes and amendments, the creator's answer and the sample, fulfilment records and their
//! corrections — each through the page's action, so the page shows what the call did, the audit
//! names the token's person, and the page's refusals come back with the page's codes.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::api::{make_token, problem};
use super::api_intake::{caller, day, ok_json, post, staff_token};
use crate::evidence::PNG;
use crate::fulfilment::collaboration_in;
use crate::support::*;

/// A POST with `token`, naming `tenant` for a staff token.
async fn send(
    app: &TestApp,
    token: &str,
    tenant: Option<&str>,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    post(app, path, caller(token, tenant), body).await
}

fn fields(p: &Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| {
                    (
                        x["field"].as_str().unwrap().to_string(),
                        x["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Approves every entry of the tenant's shortlist-sent demo campaign (none has terms yet);
/// returns the campaign and its entries.
async fn approved_entries(app: &TestApp, slug: &str) -> (Uuid, Vec<Uuid>) {
    let tenant = app.tenant_id(slug).await;
    let mut c = app.owner_conn().await;
    let campaign: Uuid = sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE tenant_id = $1 AND state = 'shortlist_sent' \
         ORDER BY created_at LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut c)
    .await
    .unwrap();
    let entries = sqlx::query_scalar(
        "UPDATE shortlist_entries e SET decision = 'approved', decided_at = now() \
          WHERE e.campaign_id = $1 AND NOT EXISTS (SELECT 1 FROM collaborations l \
                WHERE l.tenant_id = e.tenant_id AND l.campaign_id = e.campaign_id \
                  AND l.creator_id = e.creator_id) \
          RETURNING e.id",
    )
    .bind(campaign)
    .fetch_all(&mut c)
    .await
    .unwrap();
    (campaign, entries)
}

async fn collaborations_of(app: &TestApp, campaign: Uuid) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM collaborations WHERE campaign_id = $1")
        .bind(campaign)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn version_of(app: &TestApp, collaboration: Uuid) -> i32 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT current_version FROM collaborations WHERE id = $1")
        .bind(collaboration)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// Who the audit log says did `action` on the entity (its actor's email).
async fn audited_by(app: &TestApp, entity: Uuid, action: &str) -> Vec<String> {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT u.email FROM audit_log a JOIN users u ON u.id = a.actor_id \
          WHERE a.entity_id = $1 AND a.action = $2 ORDER BY a.at",
    )
    .bind(entity.to_string())
    .bind(action)
    .fetch_all(&mut c)
    .await
    .unwrap()
}

/// The collaboration's state as its page shows it (the chip's class).
fn page_state(page: &str) -> String {
    let at = page.find("data-testid=\"collaboration-state\"").unwrap();
    let chip = &page[..at];
    let class = chip.rfind("state-").unwrap();
    chip[class + 6..]
        .chars()
        .take_while(|c| *c != ' ')
        .collect()
}

/// Terms made through the API for a Lumi entry; answers the collaboration.
async fn proposed(app: &TestApp, token: &str, campaign: Uuid, entry: Uuid, code: &str) -> Value {
    let body = json!({
        "campaign_id": campaign, "entry_id": entry, "fixed_fee": 800, "fixed_fee_currency": "USD",
        "publish_deadline": day(30), "discount_code": code,
    });
    ok_json(
        send(app, token, Some("lumi"), "/api/v1/collaborations", &body).await,
        StatusCode::CREATED,
    )
    .await
}

#[tokio::test]
async fn terms_for_an_approved_entry_make_a_proposed_collaboration_the_page_shows_as_the_account_manager()
 {
    let app = TestApp::with_demo_campaigns().await;
    let token = staff_token(&app).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let seller = make_token(&app, &owner, "ERP", "write").await;
    let (campaign, entries) = approved_entries(&app, "lumi").await;
    let (foreign_campaign, foreign_entries) = approved_entries(&app, "nordpeak").await;
    let before = collaborations_of(&app, campaign).await;

    // Bad terms: each field named with the page's code, nothing created.
    let bad = json!({
        "campaign_id": campaign, "entry_id": entries[0], "commission_rate": "85",
        "publish_deadline": day(-3), "discount_code": "A!", "videos": 0, "live_sessions": "0",
    });
    let (status, p) =
        problem(send(&app, &token, Some("lumi"), "/api/v1/collaborations", &bad).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let named = fields(&p);
    for (field, code) in [
        ("commission_rate", "contract.error.commission_max"),
        ("publish_deadline", "contract.error.deadline_past"),
        ("videos", "contract.error.deliverable_required"),
    ] {
        assert!(
            named.iter().any(|(f, c)| f == field && c == code),
            "{field}: {named:?}"
        );
    }
    assert!(named.iter().any(|(f, _)| f == "discount_code"), "{named:?}");
    // A term of the wrong type, and a misspelt one, are refused too.
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            "/api/v1/collaborations",
            &json!({"campaign_id": campaign, "entry_id": entries[0], "videos": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(fields(&p)[0].0, "videos");
    let res = send(
        &app,
        &token,
        Some("lumi"),
        "/api/v1/collaborations",
        &json!({"campaign_id": campaign, "entry_id": entries[0], "fixed_fees": "1"}),
    )
    .await;
    let (status, p) = problem(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(fields(&p)[0].0, "fixed_fees", "{p}");
    assert!(p["reason"].as_str().unwrap().contains("fixed_fees"), "{p}");
    assert_eq!(collaborations_of(&app, campaign).await, before);

    // Only the account manager sets up terms: the owner's own token is refused as the page.
    let (status, _) = problem(
        send(
            &app,
            &seller,
            None,
            "/api/v1/collaborations",
            &json!({"campaign_id": campaign, "entry_id": entries[0]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another company's campaign and entry: 404, from either side.
    for (tenant, campaign, entry) in [
        ("lumi", foreign_campaign, foreign_entries[0]),
        ("nordpeak", campaign, entries[0]),
    ] {
        let (status, _) = problem(
            send(
                &app,
                &token,
                Some(tenant),
                "/api/v1/collaborations",
                &json!({"campaign_id": campaign, "entry_id": entry, "publish_deadline": day(30)}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{tenant}");
    }
    assert_eq!(collaborations_of(&app, campaign).await, before);

    // The terms left out take what the form pre-fills; the answer is what the next step needs.
    let made = proposed(&app, &token, campaign, entries[0], "apihana10").await;
    assert_eq!(made["state"], "proposed");
    assert_eq!(made["version"], 1);
    assert_eq!(made["discount_code"], "APIHANA10");
    let id: Uuid = made["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(made["page"], format!("/t/lumi/collaborations/{id}"));
    let link = made["tracked_link"].as_str().unwrap();
    assert!(
        sextant::contracts::domain::is_link_slug(link.rsplit("/r/").next().unwrap()),
        "{link}"
    );
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app
        .get_ok(&am, &format!("/t/lumi/collaborations/{id}"))
        .await;
    assert_eq!(page_state(&page), "proposed");
    assert!(page.contains(r#"data-testid="discount-code">APIHANA10<"#));
    assert!(page.contains(&format!(r#"data-testid="tracked-link">{link}<"#)));
    // The form's defaults: one video, the campaign's SKU as the sample, 30 days live.
    let mut c = app.owner_conn().await;
    let terms: Value = sqlx::query_scalar(
        "SELECT terms FROM contract_versions WHERE collaboration_id = $1 AND version = 1",
    )
    .bind(id)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(terms["videos"], 1, "{terms}");
    assert_eq!(terms["min_days_live"], 30, "{terms}");
    let sku: String = sqlx::query_scalar("SELECT data->>'sku' FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(terms["sample"]["sku"], sku.as_str(), "{terms}");
    assert_eq!(
        audited_by(&app, id, "collaboration.create").await,
        vec![ACCOUNT_MANAGER.0.to_string()]
    );

    // The same creator again: the page's message on the discount code.
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            "/api/v1/collaborations",
            &json!({"campaign_id": campaign, "entry_id": entries[0], "discount_code": "OTHER1"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&p),
        vec![(
            "discount_code".to_string(),
            "contracts.error.exists".to_string()
        )]
    );
}

#[tokio::test]
async fn the_creators_answer_the_sample_and_amendments_follow_the_pages_state_table() {
    let app = TestApp::with_demo_campaigns().await;
    let token = staff_token(&app).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let seller = make_token(&app, &owner, "ERP", "write").await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let (campaign, entries) = approved_entries(&app, "lumi").await;
    let id = proposed(&app, &token, campaign, entries[0], "apihana10").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let collab: Uuid = id.parse().unwrap();
    let path = |tail: &str| format!("/api/v1/collaborations/{id}/{tail}");
    let page_path = format!("/t/lumi/collaborations/{id}");

    // While proposed a change is a new version, no reason needed; the rest of the terms stay.
    let changed = ok_json(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("terms"),
            &json!({"fixed_fee": "900"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (changed["version"].as_i64(), changed["amendment"].as_bool()),
        (Some(2), Some(false))
    );
    assert!(
        app.get_ok(&am, &page_path)
            .await
            .contains("USD\u{a0}900.00")
    );

    // Events: a kind the form does not offer is named; the seller may not record them.
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "post_added"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&p)[0].0, "kind");
    let (status, _) = problem(
        send(
            &app,
            &seller,
            None,
            &path("events"),
            &json!({"kind": "accepted"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A sample before the creator accepted: the state table's refusal, with the page's code.
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "sample_shipped", "carrier": "UPS", "tracking_number": "1Z999"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("contract.state_error.not_allowed_from")
        )
    );
    assert_eq!(page_state(&app.get_ok(&am, &page_path).await), "proposed");

    // The creator accepts.
    let accepted = ok_json(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "accepted"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(page_state(&app.get_ok(&am, &page_path).await), "accepted");
    assert_eq!(
        audited_by(&app, collab, "collaboration.transition").await,
        vec![ACCOUNT_MANAGER.0.to_string()]
    );
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "accepted"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("contract.state_error.not_allowed_from")
        )
    );

    // Now a change is an amendment: without its reason nothing is written.
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("terms"),
            &json!({"videos": 3}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&p),
        vec![(
            "reason".to_string(),
            "contracts.error.reason_required".to_string()
        )]
    );
    assert_eq!(version_of(&app, collab).await, 2);
    let amended = ok_json(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("terms"),
            &json!({"videos": 3, "reason": "A third video for the LIVE recap"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (amended["version"].as_i64(), amended["amendment"].as_bool()),
        (Some(3), Some(true))
    );
    assert!(
        app.get_ok(&am, &page_path)
            .await
            .contains("A third video for the LIVE recap")
    );
    assert_eq!(
        audited_by(&app, collab, "collaboration.amend").await,
        vec![ACCOUNT_MANAGER.0.to_string()]
    );

    // The sample: a carrier and tracking number are required, then shown on the page.
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "sample_shipped", "carrier": "UPS"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("contract.state_error.carrier_and_tracking_required")
        )
    );
    let shipped = ok_json(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "sample_shipped", "carrier": "UPS", "tracking_number": "1Z999AA1"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shipped["state"], "sample_shipped");
    let page = app.get_ok(&am, &page_path).await;
    assert_eq!(page_state(&page), "sample_shipped");
    assert!(page.contains("UPS · 1Z999AA1"));
    let delivered = ok_json(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "sample_delivered"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(delivered["state"], "sample_delivered");

    // Another company's collaboration is unknown, from either side.
    let foreign: Uuid = {
        let mut c = app.owner_conn().await;
        sqlx::query_scalar(
            "SELECT l.id FROM collaborations l JOIN tenants t ON t.id = l.tenant_id \
              WHERE t.slug = 'nordpeak' LIMIT 1",
        )
        .fetch_one(&mut c)
        .await
        .unwrap()
    };
    for (tenant, target) in [("lumi", foreign.to_string()), ("nordpeak", id.clone())] {
        for (tail, body) in [
            ("events", json!({"kind": "cancel", "reason": "x"})),
            ("terms", json!({"reason": "x"})),
        ] {
            let res = send(
                &app,
                &token,
                Some(tenant),
                &format!("/api/v1/collaborations/{target}/{tail}"),
                &body,
            )
            .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{tenant} {tail}");
        }
    }

    // Cancelled, with its reason; the terms of a cancelled contract no longer change (403, as
    // the page's amend form).
    let (status, p) = problem(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "cancel"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("contract.state_error.reason_required")
        )
    );
    let cancelled = ok_json(
        send(
            &app,
            &token,
            Some("lumi"),
            &path("events"),
            &json!({"kind": "cancel", "reason": "The product was recalled"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(page_state(&app.get_ok(&am, &page_path).await), "cancelled");
    let res = send(
        &app,
        &token,
        Some("lumi"),
        &path("terms"),
        &json!({"videos": 1, "reason": "too late"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(version_of(&app, collab).await, 3);
}

#[tokio::test]
async fn a_fulfilment_record_and_its_correction_go_through_the_pages_checks_and_show_on_its_page() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let token = make_token(&app, &owner, "ERP", "write").await;
    let collab = collaboration_in(&app, "accepted").await;
    let path = format!("/api/v1/collaborations/{collab}/fulfilment-records");
    let page_path = format!("/t/lumi/collaborations/{collab}");
    let count = || async {
        let mut c = app.owner_conn().await;
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM fulfilment_records WHERE collaboration_id = $1",
        )
        .bind(collab)
        .fetch_one(&mut c)
        .await
        .unwrap()
    };
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);

    // Bad input: each field named with the form's code, nothing stored.
    let (status, p) = problem(
        send(
            &app,
            &token,
            None,
            &path,
            &json!({"kind": "no_publish", "severity": "huge", "occurred_on": day(3)}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut named: Vec<String> = fields(&p).into_iter().map(|(f, _)| f).collect();
    named.sort();
    assert_eq!(named, ["kind", "occurred_on", "severity"]);
    for (evidence, field) in [
        (
            json!([{"filename": "a.png", "content_base64": "not base64!"}]),
            "evidence[0].content_base64",
        ),
        (
            json!([{"filename": "a.png", "content_base64": b64(b"plain text")}]),
            "evidence",
        ),
        (
            json!(vec![
                json!({"filename": "a.png", "content_base64": b64(PNG)});
                6
            ]),
            "evidence",
        ),
    ] {
        let (status, p) = problem(
            send(
                &app,
                &token,
                None,
                &path,
                &json!({"kind": "cart_link_missing", "severity": "minor", "evidence": evidence}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(fields(&p)[0].0, field, "{p}");
    }
    assert_eq!(count().await, 0);

    // Recorded with a screenshot, as the owner; the page lists it with its file.
    let made = ok_json(
        send(&app, &token, None, &path, &json!({
            "kind": "cart_link_missing", "severity": "minor", "note": "No cart link in the first hour",
            "evidence": [{"filename": "cart.png", "content_base64": b64(PNG)}],
        }))
        .await,
        StatusCode::CREATED,
    )
    .await;
    let record: Uuid = made["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(made["collaboration_id"], collab.to_string());
    assert_eq!(made["evidence_files"], 1);
    let page = app.get_ok(&owner, &page_path).await;
    let at = page
        .find(&format!(r#"data-record="{record}" data-counts="true""#))
        .expect("the record on the page, counting");
    assert!(page[at..].contains("No cart link in the first hour"));
    assert!(page[at..].contains("/evidence/"));
    assert_eq!(
        audited_by(&app, record, "fulfilment.record").await,
        vec![OWNER_LUMI.0.to_string()]
    );

    // A collaboration not yet accepted takes no record (the page's code); another company's is
    // unknown.
    let proposed = collaboration_in(&app, "proposed").await;
    let (status, p) = problem(
        send(
            &app,
            &token,
            None,
            &format!("/api/v1/collaborations/{proposed}/fulfilment-records"),
            &json!({"kind": "slow_response", "severity": "minor"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("fulfilment.error.state"))
    );
    let mut c = app.owner_conn().await;
    let (foreign, foreign_record): (Uuid, Uuid) = sqlx::query_as(
        "SELECT r.collaboration_id, r.id FROM fulfilment_records r \
           JOIN tenants t ON t.id = r.tenant_id WHERE t.slug = 'nordpeak' LIMIT 1",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    let res = send(
        &app,
        &token,
        None,
        &format!("/api/v1/collaborations/{foreign}/fulfilment-records"),
        &json!({"kind": "slow_response", "severity": "minor"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = send(
        &app,
        &token,
        None,
        &format!("/api/v1/fulfilment-records/{foreign_record}/correct"),
        &json!({"action": "withdraw", "reason": "x"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A Lumi record through a staff token naming Nordpeak is unknown there too.
    let staff = staff_token(&app).await;
    let res = send(
        &app,
        &staff,
        Some("nordpeak"),
        &format!("/api/v1/fulfilment-records/{record}/correct"),
        &json!({"action": "withdraw", "reason": "x"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A correction needs its reason; then it supersedes the record, which counts no more.
    let correct = format!("/api/v1/fulfilment-records/{record}/correct");
    let (status, p) =
        problem(send(&app, &token, None, &correct, &json!({"action": "withdraw"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&p)[0].0, "reason");
    let (status, p) = problem(
        send(
            &app,
            &token,
            None,
            &correct,
            &json!({"action": "tiny", "reason": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&p)[0].0, "action");
    assert_eq!(count().await, 1);
    // The account manager corrects it through a staff token.
    let corrected = ok_json(
        send(
            &app,
            &staff,
            Some("lumi"),
            &correct,
            &json!({"action": "withdraw", "reason": "The link was there; the scraper missed it"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(corrected["supersedes"], record.to_string());
    assert_eq!(corrected["withdrawn"], true);
    assert_eq!(corrected["collaboration_id"], collab.to_string());
    let correction: Uuid = corrected["id"].as_str().unwrap().parse().unwrap();
    let page = app.get_ok(&owner, &page_path).await;
    assert!(page.contains(&format!(r#"data-record="{record}" data-counts="false""#)));
    assert!(page.contains(r#"data-testid="record-withdrawn""#));
    assert!(page.contains("The link was there; the scraper missed it"));
    assert_eq!(
        audited_by(&app, correction, "fulfilment.correct").await,
        vec![ACCOUNT_MANAGER.0.to_string()]
    );
    // Corrected once: a second correction is refused as the page refuses it.
    let (status, p) = problem(
        send(
            &app,
            &token,
            None,
            &correct,
            &json!({"action": "major", "reason": "again"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&p)[0].0, "reason");
    assert_eq!(count().await, 2);

    // A token acts with its person's role now: the owner made a viewer records nothing, as a
    // viewer on the page.
    sqlx::query(
        "UPDATE memberships SET role = 'viewer' \
          WHERE user_id = (SELECT id FROM users WHERE email = $1)",
    )
    .bind(OWNER_LUMI.0)
    .execute(&mut c)
    .await
    .unwrap();
    let (status, p) = problem(
        send(
            &app,
            &token,
            None,
            &path,
            &json!({"kind": "slow_response", "severity": "minor"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_ne!(
        p["code"], "api.error.read_only",
        "the role refuses, not the token"
    );
    assert_eq!(count().await, 2);
}

#[tokio::test]
async fn the_openapi_document_describes_each_contract_and_fulfilment_write_with_its_terms() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    assert!(
        paths["/api/v1/collaborations"]["get"].is_object(),
        "the read stays"
    );
    for path in [
        "/api/v1/collaborations",
        "/api/v1/collaborations/{id}/terms",
        "/api/v1/collaborations/{id}/events",
        "/api/v1/collaborations/{id}/fulfilment-records",
        "/api/v1/fulfilment-records/{id}/correct",
    ] {
        assert!(paths[path]["post"].is_object(), "{path}");
    }
    let schemas = &doc["components"]["schemas"];
    for (schema, property) in [
        ("NewCollaboration", "entry_id"),
        ("NewCollaboration", "fixed_fee"),
        ("TermsChange", "reason"),
        ("TermsChange", "discount_code"),
        ("CollaborationEvent", "tracking_number"),
        ("NewFulfilmentRecord", "evidence"),
        ("FulfilmentCorrection", "reason"),
    ] {
        assert!(
            schemas[schema]["properties"][property].is_object(),
            "{schema}.{property}"
        );
    }
    let kinds = schemas["CollaborationEventKind"].to_string();
    for kind in [
        "accepted",
        "declined",
        "sample_shipped",
        "sample_delivered",
        "cancel",
        "breach",
    ] {
        assert!(kinds.contains(&format!("\"{kind}\"")), "{kind}: {kinds}");
    }
}
