//! The whole loop through the API alone (issue 19): one collaboration from a seller's campaign
//! draft to a tier change, driven only by the seller's token and an account manager's staff
//! token; the pages show the same state, and the audit log names each token's person.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::api_intake::{
    complete_request, get, ok_json, post, seller, staff, staff_token, token_for,
};
use super::ratings::GOOD;
use crate::support::*;

fn levels(values: &[(&str, &str)]) -> Value {
    values
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The shop's local time a while ago, as the post form takes it (`YYYY-MM-DDTHH:MM`).
fn an_hour_ago() -> String {
    let at = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]Z"
    ))
    .unwrap()
}

#[tokio::test]
async fn one_collaboration_goes_from_a_campaign_draft_to_a_tier_change_through_the_api_alone() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let am_page = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let seller_token = token_for(&app, &owner, "lumi", "write").await;
    let am_token = staff_token(&app).await;
    let (s, a) = (seller(&seller_token), staff(&am_token));
    let mut conn = app.owner_conn().await;
    let started: time::OffsetDateTime = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(&mut conn)
        .await
        .unwrap();

    // The seller drafts the request and submits it.
    let mut body = complete_request(&app, "lumi", "Air fryer, API launch").await;
    body["sample_needed"] = json!("1");
    body["ship_from"] = json!("Shenzhen warehouse, 5–7 days by air, duties paid");
    let made = ok_json(
        post(&app, "/api/v1/campaigns", s, &body).await,
        StatusCode::CREATED,
    )
    .await;
    let campaign = made["id"].as_str().unwrap().to_string();
    let submitted = ok_json(
        post(
            &app,
            &format!("/api/v1/campaigns/{campaign}/submit"),
            s,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(submitted["state"], "submitted");
    let code = submitted["code"].as_str().unwrap().to_string();

    // The account manager starts matching, reads the ranking and sends the best creator.
    let moved = ok_json(
        post(
            &app,
            &format!("/api/v1/campaigns/{campaign}/transitions"),
            a,
            &json!({"transition": "start_matching"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["state"], "matching");
    let ranked = ok_json(
        get(
            &app,
            &format!("/api/v1/campaigns/{campaign}/candidates?limit=5"),
            a,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let best = &ranked["candidates"][0];
    assert!(!best["breakdown"].as_array().unwrap().is_empty(), "{best}");
    let creator = best["creator_id"].as_str().unwrap().to_string();
    let handle = best["handle"].as_str().unwrap().to_string();
    ok_json(
        post(
            &app,
            &format!("/api/v1/campaigns/{campaign}/shortlist"),
            a,
            &json!({"picks": [{"creator_id": creator, "note": "Strong kitchen demos"}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The seller approves the creator and goes ahead.
    let shortlist = ok_json(
        get(&app, &format!("/api/v1/campaigns/{campaign}/shortlist"), s).await,
        StatusCode::OK,
    )
    .await;
    let entry = shortlist["entries"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(shortlist["entries"][0]["creator_id"], creator.as_str());
    ok_json(
        post(
            &app,
            &format!("/api/v1/campaigns/{campaign}/shortlist/entries/{entry}/decision"),
            s,
            &json!({"decision": "approve"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let approved = ok_json(
        post(
            &app,
            &format!("/api/v1/campaigns/{campaign}/shortlist/approve"),
            s,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "contracting");

    // The account manager writes the terms; the creator accepts and gets the sample.
    let collab = ok_json(
        post(
            &app,
            "/api/v1/collaborations",
            a,
            &json!({"campaign_id": campaign, "entry_id": entry, "fixed_fee": "800",
                    "fixed_fee_currency": "USD", "publish_deadline": super::api_intake::day(30)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let collab = collab["id"].as_str().unwrap().to_string();
    let events = format!("/api/v1/collaborations/{collab}/events");
    for event in [
        json!({"kind": "accepted"}),
        json!({"kind": "sample_shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}),
        json!({"kind": "sample_delivered"}),
    ] {
        ok_json(post(&app, &events, a, &event).await, StatusCode::OK).await;
    }

    // The seller's tool records the post and its first numbers; a fulfilment record is kept.
    let posted = ok_json(
        post(
            &app,
            "/api/v1/posts",
            s,
            &json!({"collaboration_id": collab, "url": "https://www.tiktok.com/@lumi.fan/video/7301234567890123456",
                    "published_at": an_hour_ago()}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let post_id = posted["id"].as_str().unwrap().to_string();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    ok_json(
        post(
            &app,
            "/api/v1/snapshots",
            s,
            &json!({"snapshots": [{"post_id": post_id, "captured_at": now, "views": 15230,
                                    "likes": 812, "comments": 40, "shares": 12}]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    ok_json(
        post(
            &app,
            &format!("/api/v1/collaborations/{collab}/fulfilment-records"),
            a,
            &json!({"kind": "slow_response", "severity": "minor", "note": "Replied after two days"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The owner opens the rating early (with the reason the page asks for), asking themself
    // and the account manager; each rates blind through their own token; the second completes it.
    let owner_id = app.user_id(OWNER_LUMI.0).await;
    let am_id = app.user_id(ACCOUNT_MANAGER.0).await;
    let rating = ok_json(
        post(
            &app,
            &format!("/api/v1/collaborations/{collab}/rating"),
            s,
            &json!({"override_reason": "Launch review before the window closes",
                    "raters": [owner_id, am_id]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let rating = rating["id"].as_str().unwrap().to_string();
    let cards = format!("/api/v1/ratings/{rating}/scorecards");
    let first = ok_json(
        post(
            &app,
            &cards,
            s,
            &json!({"levels": levels(GOOD), "comment": "On brief"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["completed"], false);
    let second = ok_json(
        post(
            &app,
            &cards,
            a,
            &json!({"levels": levels(GOOD), "comment": "Clean delivery"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(second["completed"], true, "{second}");

    // The tier changed, with its reason, through the API's reads.
    let history = ok_json(
        get(&app, &format!("/api/v1/tiers/{creator}/history"), s).await,
        StatusCode::OK,
    )
    .await;
    let changes = history["items"].as_array().unwrap();
    let last = changes.last().expect("a tier change");
    assert_eq!(last["cause"], "rating", "{history}");
    let tiers = ok_json(
        get(&app, "/api/v1/tiers?limit=500", s).await,
        StatusCode::OK,
    )
    .await;
    let tier = tiers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["creator"]["id"] == creator.as_str())
        .expect("the creator's tier")
        .clone();
    assert_eq!(tier["tier"], last["to"], "{tier} {last}");

    // The pages show the same state.
    let listed = ok_json(
        get(&app, "/api/v1/campaigns?limit=500", s).await,
        StatusCode::OK,
    )
    .await;
    let campaign_now = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == campaign.as_str())
        .unwrap()
        .clone();
    let page = app
        .get_ok(&owner, &format!("/t/lumi/campaigns/{campaign}"))
        .await;
    let state = campaign_now["state"].as_str().unwrap();
    assert!(
        page.contains(&code) && page.contains(&format!("state-{state}")),
        "{state}"
    );
    let collab_now = ok_json(
        get(&app, &format!("/api/v1/collaborations/{collab}"), s).await,
        StatusCode::OK,
    )
    .await;
    let page = app
        .get_ok(&am_page, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    let state = collab_now["state"].as_str().unwrap();
    assert_eq!(state, "rated");
    assert!(page.contains(&handle) && page.contains(&format!("state-{state}")));
    let page = app
        .get_ok(&owner, &format!("/t/lumi/collaborations/{collab}/rating"))
        .await;
    let outcome = &page[page
        .find("data-testid=\"rating-outcome\"")
        .expect("the outcome")..];
    assert!(outcome.contains("On brief") && outcome.contains("Clean delivery"));
    assert!(outcome.contains(OWNER_LUMI.0) && outcome.contains(ACCOUNT_MANAGER.0));
    let page = app
        .get_ok(&owner, &format!("/t/lumi/creators/{creator}"))
        .await;
    let section = &page[page.find("data-testid=\"tier-section\"").expect("the tier")..];
    assert!(
        section.contains(tier["reason_text"].as_str().unwrap()),
        "the page gives the API's reason"
    );

    // Every entry the loop wrote names the token's person (or the system's own jobs).
    let entries: Vec<(String, String)> =
        sqlx::query_as("SELECT action, actor_label FROM audit_log WHERE at >= $1 ORDER BY at, id")
            .bind(started)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let by = |who: &str| -> Vec<&str> {
        entries
            .iter()
            .filter(|(_, label)| label == who)
            .map(|(action, _)| action.as_str())
            .collect()
    };
    let owners = by(OWNER_LUMI.0);
    let ams = by(ACCOUNT_MANAGER.0);
    for action in [
        "campaign.create",
        "shortlist.decide",
        "post.create",
        "snapshots.ingest",
        "rating.open",
        "rating.submit",
    ] {
        assert!(
            owners.contains(&action),
            "{action} by the seller: {owners:?}"
        );
    }
    for action in [
        "shortlist.send",
        "collaboration.create",
        "fulfilment.record",
        "rating.submit",
        "rating.complete",
    ] {
        assert!(
            ams.contains(&action),
            "{action} by the account manager: {ams:?}"
        );
    }
    for (action, label) in &entries {
        assert!(
            label == OWNER_LUMI.0 || label == ACCOUNT_MANAGER.0 || label.starts_with("system"),
            "{action} by {label}"
        );
    }
}
