//! The campaign actions called directly, as the API and the seed call them: no HTTP.

use sextant::campaigns::actions::{MoveCampaign, move_campaign};
use sextant::campaigns::domain::{CampaignState, Transition};
use sextant::error::DomainError;
use uuid::Uuid;

use crate::support::*;

/// The demo campaign of `lumi` in `state`.
pub async fn lumi_campaign_in(app: &TestApp, state: &str) -> Uuid {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    sqlx::query_scalar("SELECT id FROM campaigns WHERE state = $1 ORDER BY created_at LIMIT 1")
        .bind(state)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

#[tokio::test]
async fn moving_a_campaign_checks_the_state_table_and_writes_the_move_and_its_audit_entry() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 60,
        campaigns: true,
    })
    .await;
    let id = lumi_campaign_in(&app, "submitted").await;

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
