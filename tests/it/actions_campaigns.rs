//! The campaign actions called directly, as the API and the seed call them: no HTTP.

use sextant::campaigns::actions::{
    ApproveShortlist, DecideEntry, MoveCampaign, RequestAnotherRound, SaveCampaign,
    approve_shortlist, decide_entry, move_campaign, request_another_round, save_campaign,
};
use sextant::campaigns::domain::{CampaignInput, CampaignState, Decision, Transition};
use sextant::error::DomainError;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn moving_a_campaign_checks_the_state_table_and_writes_the_move_and_its_audit_entry() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 60,
        campaigns: true,
    })
    .await;
    let id = app.campaign_in("lumi", "submitted").await;

    // The seller's owner may not start matching: the state table refuses, nothing is written.
    let owner = app.actor("owner@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&owner).await;
    let refused = move_campaign(
        &mut tx,
        &owner,
        MoveCampaign {
            campaign_id: id,
            transition: Transition::StartMatching,
            reason: String::new(),
        },
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(DomainError::Refused(
                "campaign.transition_error.not_allowed_for"
            ))
        ),
        "{refused:?}"
    );
    drop(tx);

    // Cancelling needs a reason.
    let mut tx = app.tx_for(&owner).await;
    let refused = move_campaign(
        &mut tx,
        &owner,
        MoveCampaign {
            campaign_id: id,
            transition: Transition::Cancel,
            reason: "  ".into(),
        },
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Refused(_))),
        "{refused:?}"
    );
    drop(tx);

    // The account manager may; the move and its audit entry are written in the caller's
    // transaction.
    let am = app.actor("am@sextant.example", "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let to = move_campaign(
        &mut tx,
        &am,
        MoveCampaign {
            campaign_id: id,
            transition: Transition::StartMatching,
            reason: String::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(to, CampaignState::Matching);
    tx.commit().await.unwrap();

    let audit = app.audit_of(&id.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "campaign.transition");
    assert_eq!(before.as_ref().unwrap()["state"], "submitted");
    assert_eq!(after.as_ref().unwrap()["state"], "matching");
    assert_eq!(after.as_ref().unwrap()["transition"], "start_matching");

    // Another tenant's actor finds nothing.
    let other = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = move_campaign(
        &mut tx,
        &other,
        MoveCampaign {
            campaign_id: id,
            transition: Transition::Cancel,
            reason: "not ours".into(),
        },
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

async fn state_of(app: &TestApp, slug: &str, id: Uuid) -> String {
    let tenant = app.tenant_id(slug).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

/// The shortlist entries of a campaign of `slug` that no one decided on yet, best first.
pub async fn undecided_entries(app: &TestApp, slug: &str, campaign: Uuid) -> Vec<Uuid> {
    let tenant = app.tenant_id(slug).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query_scalar(
        "SELECT id FROM shortlist_entries WHERE campaign_id = $1 AND decision IS NULL \
         ORDER BY score DESC",
    )
    .bind(campaign)
    .fetch_all(&mut *tx)
    .await
    .unwrap()
}

fn in_days(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

/// A request complete enough to submit, in Lumi's first shop.
async fn complete_request(app: &TestApp) -> CampaignInput {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let shop = sextant::tenants::repo::shops(&mut tx, lumi).await.unwrap()[0].id;
    let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    CampaignInput {
        title: "Q1 air fryer launch".into(),
        product_name: "Lumi Air Fryer 5L".into(),
        sku: "LUMI-AF-5L".into(),
        product_url: "https://shop.lumi-home.invalid/us/air-fryer".into(),
        category: "home_kitchen".into(),
        unit_price: "89.99".into(),
        unit_currency: "USD".into(),
        shop_id: shop.to_string(),
        markets: list(&["US", "GB"]),
        languages: list(&["en"]),
        format: "short_video".into(),
        creators_wanted: "5".into(),
        followers_min: "10K".into(),
        followers_max: "500K".into(),
        budget_min: "2000".into(),
        budget_max: "8000".into(),
        budget_currency: "USD".into(),
        fee_cap: "1200".into(),
        fee_cap_currency: "USD".into(),
        commission_rate: "12".into(),
        age_buckets: list(&["25-34"]),
        gender: "female".into(),
        interests: list(&["home_kitchen"]),
        styles: list(&["real_shot"]),
        script_source: "agency".into(),
        publish_from: in_days(10),
        publish_to: in_days(40),
        ship_from: "Shenzhen".into(),
        roi_target: "2".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn saving_a_campaign_keeps_a_draft_checks_a_submission_and_writes_its_audit_entries() {
    let app = TestApp::with_demo().await;
    let operator = app.actor("operator@lumi-home.example", "lumi").await;

    // A half-filled draft is kept.
    let mut tx = app.tx_for(&operator).await;
    let id = save_campaign(
        &mut tx,
        &operator,
        SaveCampaign {
            campaign_id: None,
            input: CampaignInput {
                title: "Spring idea".into(),
                ..Default::default()
            },
            submit: false,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state_of(&app, "lumi", id).await, "draft");
    let audit = app.audit_of(&id.to_string()).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "campaign.create");
    assert_eq!(audit[0].2.as_ref().unwrap()["title"], "Spring idea");

    // Submitting it needs every required field: each missing one is named, nothing changes.
    let mut tx = app.tx_for(&operator).await;
    let invalid = save_campaign(
        &mut tx,
        &operator,
        SaveCampaign {
            campaign_id: Some(id),
            input: CampaignInput {
                title: "Spring idea".into(),
                ..Default::default()
            },
            submit: true,
        },
    )
    .await;
    let Err(DomainError::Invalid(errors)) = invalid else {
        panic!("{invalid:?}")
    };
    for field in [
        "product_name",
        "sku",
        "markets",
        "languages",
        "publish_from",
    ] {
        assert!(errors.contains_key(field), "{field}: {errors:?}");
    }
    drop(tx);

    // Money in a currency without a reference rate cannot be compared with quotes.
    let mut no_rate = complete_request(&app).await;
    no_rate.budget_currency = "JPY".into();
    no_rate.fee_cap_currency = "JPY".into();
    no_rate.budget_min = "200000".into();
    no_rate.budget_max = "800000".into();
    no_rate.fee_cap = "100000".into();
    let mut tx = app.tx_for(&operator).await;
    let invalid = save_campaign(
        &mut tx,
        &operator,
        SaveCampaign {
            campaign_id: Some(id),
            input: no_rate,
            submit: true,
        },
    )
    .await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e)) if e.contains_key("budget_currency")),
        "{invalid:?}"
    );
    drop(tx);

    // A viewer edits nothing.
    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let forbidden = save_campaign(
        &mut tx,
        &viewer,
        SaveCampaign {
            campaign_id: Some(id),
            input: complete_request(&app).await,
            submit: false,
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    // Complete: saved, submitted with a code, both written in the caller's transaction.
    let mut tx = app.tx_for(&operator).await;
    let saved = save_campaign(
        &mut tx,
        &operator,
        SaveCampaign {
            campaign_id: Some(id),
            input: complete_request(&app).await,
            submit: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(saved, id);
    tx.commit().await.unwrap();
    assert_eq!(state_of(&app, "lumi", id).await, "submitted");
    let audit = app.audit_of(&id.to_string()).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["campaign.create", "campaign.update", "campaign.transition"]
    );
    assert_eq!(audit[1].2.as_ref().unwrap()["sku"], "LUMI-AF-5L");
    assert_eq!(audit[2].2.as_ref().unwrap()["state"], "submitted");

    // Only drafts are edited.
    let mut tx = app.tx_for(&operator).await;
    let forbidden = save_campaign(
        &mut tx,
        &operator,
        SaveCampaign {
            campaign_id: Some(id),
            input: complete_request(&app).await,
            submit: false,
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    // Another tenant's actor finds nothing.
    let other = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = save_campaign(
        &mut tx,
        &other,
        SaveCampaign {
            campaign_id: Some(id),
            input: CampaignInput::default(),
            submit: false,
        },
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn a_seller_decides_once_on_each_creator_and_a_rejection_needs_a_reason() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let campaign = app.campaign_in("lumi", "shortlist_sent").await;
    let entries = undecided_entries(&app, "lumi", campaign).await;
    assert!(entries.len() >= 2, "the demo shortlist: {entries:?}");
    let decide = |entry: Uuid, decision: Option<Decision>, reason: &str| DecideEntry {
        campaign_id: campaign,
        entry_id: entry,
        decision,
        reason: reason.to_string(),
    };
    let owner = app.actor("owner@lumi-home.example", "lumi").await;

    // A rejection without a reason, or no known decision: the field is named.
    let mut tx = app.tx_for(&owner).await;
    let invalid = decide_entry(
        &mut tx,
        &owner,
        decide(entries[0], Some(Decision::Reject), "   "),
    )
    .await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e))
            if e.get("reason") == Some(&"shortlist.error.reason_required")),
        "{invalid:?}"
    );
    let invalid = decide_entry(&mut tx, &owner, decide(entries[0], None, "")).await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e)) if e.contains_key("decision")),
        "{invalid:?}"
    );
    drop(tx);

    // Viewers and the account manager do not decide.
    for email in ["viewer@lumi-home.example", "am@sextant.example"] {
        let actor = app.actor(email, "lumi").await;
        let mut tx = app.tx_for(&actor).await;
        let forbidden = decide_entry(
            &mut tx,
            &actor,
            decide(entries[0], Some(Decision::Approve), ""),
        )
        .await;
        assert!(
            matches!(forbidden, Err(DomainError::Forbidden)),
            "{email}: {forbidden:?}"
        );
    }

    // Approve one, reject another with a reason: each written with its audit entry.
    let mut tx = app.tx_for(&owner).await;
    let approved = decide_entry(
        &mut tx,
        &owner,
        decide(entries[0], Some(Decision::Approve), ""),
    )
    .await
    .unwrap();
    assert_eq!(approved, Decision::Approve);
    decide_entry(
        &mut tx,
        &owner,
        decide(entries[1], Some(Decision::Reject), "  Audience too young  "),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let audit = app.audit_of(&entries[0].to_string()).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "shortlist.decide");
    assert_eq!(
        audit[0].1.as_ref().unwrap()["decision"],
        serde_json::Value::Null
    );
    assert_eq!(audit[0].2.as_ref().unwrap()["decision"], "approved");
    let audit = app.audit_of(&entries[1].to_string()).await;
    assert_eq!(audit[0].2.as_ref().unwrap()["decision"], "rejected");
    assert_eq!(audit[0].2.as_ref().unwrap()["reason"], "Audience too young");
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let (decision, reason): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT decision, decision_reason FROM shortlist_entries WHERE id = $1")
            .bind(entries[1])
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    drop(tx);
    assert_eq!(decision.as_deref(), Some("rejected"));
    assert_eq!(reason.as_deref(), Some("Audience too young"));

    // Decided once: a second decision is refused.
    let mut tx = app.tx_for(&owner).await;
    let refused = decide_entry(
        &mut tx,
        &owner,
        decide(entries[0], Some(Decision::Reject), "changed my mind"),
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Refused("shortlist.error.closed"))),
        "{refused:?}"
    );
    drop(tx);

    // Another tenant's actor finds nothing.
    let other = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = decide_entry(
        &mut tx,
        &other,
        decide(entries[0], Some(Decision::Approve), ""),
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn the_seller_goes_ahead_only_with_someone_approved_or_asks_for_another_round() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let lumi = app.campaign_in("lumi", "shortlist_sent").await;
    let owner = app.actor("owner@lumi-home.example", "lumi").await;

    // Nobody approved yet: going ahead is refused.
    let mut tx = app.tx_for(&owner).await;
    let refused = approve_shortlist(&mut tx, &owner, ApproveShortlist { campaign_id: lumi }).await;
    assert!(
        matches!(
            refused,
            Err(DomainError::Refused("shortlist.error.none_approved"))
        ),
        "{refused:?}"
    );
    drop(tx);

    // The account manager answers no shortlist.
    let am = app.actor("am@sextant.example", "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let forbidden =
        request_another_round(&mut tx, &am, RequestAnotherRound { campaign_id: lumi }).await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    // With one approved the seller goes ahead: the campaign is contracting, the move audited.
    let entry = undecided_entries(&app, "lumi", lumi).await[0];
    let mut tx = app.tx_for(&owner).await;
    decide_entry(
        &mut tx,
        &owner,
        DecideEntry {
            campaign_id: lumi,
            entry_id: entry,
            decision: Some(Decision::Approve),
            reason: String::new(),
        },
    )
    .await
    .unwrap();
    let to = approve_shortlist(&mut tx, &owner, ApproveShortlist { campaign_id: lumi })
        .await
        .unwrap();
    assert_eq!(to, CampaignState::Contracting);
    tx.commit().await.unwrap();
    assert_eq!(state_of(&app, "lumi", lumi).await, "contracting");
    let audit = app.audit_of(&lumi.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "campaign.transition");
    assert_eq!(before.as_ref().unwrap()["state"], "shortlist_sent");
    assert_eq!(after.as_ref().unwrap()["transition"], "approve_shortlist");
    // Not from there.
    let mut tx = app.tx_for(&owner).await;
    let refused =
        request_another_round(&mut tx, &owner, RequestAnotherRound { campaign_id: lumi }).await;
    assert!(
        matches!(
            refused,
            Err(DomainError::Refused(
                "campaign.transition_error.not_allowed_from"
            ))
        ),
        "{refused:?}"
    );
    drop(tx);

    // Nordpeak's seller asks for another round: back to matching, the move audited.
    let nordpeak = app.campaign_in("nordpeak", "shortlist_sent").await;
    let theirs = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&theirs).await;
    let to = request_another_round(
        &mut tx,
        &theirs,
        RequestAnotherRound {
            campaign_id: nordpeak,
        },
    )
    .await
    .unwrap();
    assert_eq!(to, CampaignState::Matching);
    tx.commit().await.unwrap();
    let audit = app.audit_of(&nordpeak.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "campaign.transition");
    assert_eq!(
        after.as_ref().unwrap()["transition"],
        "request_another_round"
    );
    assert_eq!(after.as_ref().unwrap()["state"], "matching");

    // Each tenant's campaigns are its own.
    let mut tx = app.tx_for(&theirs).await;
    let missing = approve_shortlist(&mut tx, &theirs, ApproveShortlist { campaign_id: lumi }).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
    let missing =
        request_another_round(&mut tx, &theirs, RequestAnotherRound { campaign_id: lumi }).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}
