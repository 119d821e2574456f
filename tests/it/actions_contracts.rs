//! The contracts actions called directly, as the API and the seed call them: no HTTP.

use sextant::auth::Actor;
use sextant::contracts::actions::{
    AmendTerms, CreateCollaboration, RecordCollaborationEvent, TermsChanged,
    TransitionCollaboration, amend_terms, create_collaboration, record_collaboration_event,
    transition_collaboration,
};
use sextant::contracts::domain::{ContractEvent, ContractState, TermsInput};
use sextant::error::{DomainError, DomainResult};
use uuid::Uuid;

use crate::support::*;

/// Approves every entry of the campaign's shortlist that has no collaboration yet; returns them.
async fn free_approved_entries(app: &TestApp, campaign: Uuid) -> Vec<Uuid> {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(
        "UPDATE shortlist_entries e SET decision = 'approved', decided_at = now() \
          WHERE e.campaign_id = $1 AND NOT EXISTS (SELECT 1 FROM collaborations l \
                WHERE l.tenant_id = e.tenant_id AND l.campaign_id = e.campaign_id \
                  AND l.creator_id = e.creator_id) \
          RETURNING e.id",
    )
    .bind(campaign)
    .fetch_all(&mut c)
    .await
    .unwrap()
}

/// The collaborations of a campaign in `state`, oldest first.
async fn collaborations_in(app: &TestApp, campaign: Uuid, state: &str) -> Vec<Uuid> {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(
        "SELECT id FROM collaborations WHERE campaign_id = $1 AND state = $2 ORDER BY created_at, id",
    )
    .bind(campaign)
    .bind(state)
    .fetch_all(&mut c)
    .await
    .unwrap()
}

async fn discount_code_of(app: &TestApp, collaboration: Uuid) -> String {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT discount_code FROM collaborations WHERE id = $1")
        .bind(collaboration)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn state_of(app: &TestApp, table: &str, id: Uuid) -> String {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

fn terms(code: &str) -> TermsInput {
    let deadline = time::OffsetDateTime::now_utc().date() + time::Duration::days(30);
    TermsInput {
        fee_model: "fixed_plus_commission".into(),
        fixed_fee: "800".into(),
        fixed_fee_currency: "USD".into(),
        commission_rate: "10".into(),
        service_fee_rate: "12".into(),
        videos: "2".into(),
        live_sessions: "0".into(),
        publish_deadline: deadline.to_string(),
        min_days_live: "30".into(),
        revisions_included: "2".into(),
        usage_rights: "organic_only".into(),
        sample_sku: "LUMI-DEMO-04".into(),
        sample_qty: "1".into(),
        discount_code: code.into(),
        ..Default::default()
    }
}

fn field_error<T: std::fmt::Debug>(result: &DomainResult<T>, field: &str) -> &'static str {
    match result {
        Err(DomainError::Invalid(errors)) => errors
            .get(field)
            .copied()
            .unwrap_or_else(|| panic!("no error on {field}: {errors:?}")),
        other => panic!("expected a field error on {field}, got {other:?}"),
    }
}

async fn create(
    app: &TestApp,
    actor: &Actor,
    campaign: Uuid,
    entry: Uuid,
    code: &str,
) -> DomainResult<Uuid> {
    let mut tx = app.tx_for(actor).await;
    let created = create_collaboration(
        &mut tx,
        actor,
        CreateCollaboration {
            campaign_id: campaign,
            entry_id: entry,
            terms: terms(code),
        },
    )
    .await;
    if created.is_ok() {
        tx.commit().await.unwrap();
    }
    created
}

/// Waits until a backend of the test cluster waits on a lock (a racing insert blocked on a
/// unique index), so the race is really run.
async fn until_someone_waits_on_a_lock(app: &TestApp) {
    let mut c = app.owner_conn().await;
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
               AND datname = current_database()",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the racing request never waited on the first one");
}

#[tokio::test]
async fn creating_a_collaboration_needs_the_account_manager_valid_terms_and_a_free_code() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "contracting").await;
    let taken =
        discount_code_of(&app, collaborations_in(&app, campaign, "proposed").await[0]).await;
    let am = app.actor("am@sextant.example", "lumi").await;

    // The entry the seller rejected is unknown to the action.
    let mut c = app.owner_conn().await;
    let rejected: Uuid = sqlx::query_scalar(
        "SELECT id FROM shortlist_entries WHERE campaign_id = $1 AND decision = 'rejected' LIMIT 1",
    )
    .bind(campaign)
    .fetch_one(&mut c)
    .await
    .unwrap();
    let unknown = create(&app, &am, campaign, rejected, "NEWCODE1").await;
    assert!(matches!(unknown, Err(DomainError::NotFound)), "{unknown:?}");
    let entry = free_approved_entries(&app, campaign).await[0];
    assert_eq!(entry, rejected);

    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let refused = create(&app, &operator, campaign, entry, "NEWCODE1").await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );

    let mut tx = app.tx_for(&am).await;
    let mut bad = terms("NEWCODE1");
    bad.commission_rate = "85".into();
    let invalid = create_collaboration(
        &mut tx,
        &am,
        CreateCollaboration {
            campaign_id: campaign,
            entry_id: entry,
            terms: bad,
        },
    )
    .await;
    assert_eq!(
        field_error(&invalid, "commission_rate"),
        "contract.error.commission_max"
    );
    drop(tx);

    let clash = create(&app, &am, campaign, entry, &taken).await;
    assert_eq!(
        field_error(&clash, "discount_code"),
        "contracts.error.code_taken"
    );

    let id = create(&app, &am, campaign, entry, "NEWCODE1")
        .await
        .unwrap();
    assert_eq!(state_of(&app, "collaborations", id).await, "proposed");
    let audit = app.audit_of(&id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "collaboration.create");
    let after = after.as_ref().unwrap();
    assert_eq!(after["terms"]["discount_code"], "NEWCODE1");
    assert!(after["creator"].as_str().is_some_and(|h| !h.is_empty()));

    // The same creator again: the discount code's field says the collaboration exists.
    let again = create(&app, &am, campaign, entry, "NEWCODE2").await;
    assert_eq!(
        field_error(&again, "discount_code"),
        "contracts.error.exists"
    );

    // Another tenant's actor finds nothing.
    let other = app.actor("owner@nordpeak.example", "nordpeak").await;
    let missing = create(&app, &other, campaign, entry, "NEWCODE4").await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

/// Two requests of the account manager for (entry, code): the first creates and holds its
/// transaction open; the second checks (seeing nothing yet), then its insert waits on the
/// first's row; the first commits. Answers the second's result.
async fn race(
    app: &TestApp,
    am: &Actor,
    campaign: Uuid,
    first: (Uuid, &str),
    second: (Uuid, &'static str),
) -> DomainResult<Uuid> {
    let mut first_tx = app.tx_for(am).await;
    create_collaboration(
        &mut first_tx,
        am,
        CreateCollaboration {
            campaign_id: campaign,
            entry_id: first.0,
            terms: terms(first.1),
        },
    )
    .await
    .unwrap();
    let mut second_tx = app.tx_for(am).await;
    let actor = am.clone();
    let racing = tokio::spawn(async move {
        create_collaboration(
            &mut second_tx,
            &actor,
            CreateCollaboration {
                campaign_id: campaign,
                entry_id: second.0,
                terms: terms(second.1),
            },
        )
        .await
    });
    until_someone_waits_on_a_lock(app).await;
    first_tx.commit().await.unwrap();
    racing.await.unwrap()
}

#[tokio::test]
async fn two_requests_racing_for_one_discount_code_or_one_creator_get_a_field_error_not_a_500() {
    let app = TestApp::with_demo_campaigns().await;
    // The shortlist-sent campaign's entries are undecided: approve them, none has terms yet.
    let campaign = app.campaign_in("lumi", "shortlist_sent").await;
    let entries = free_approved_entries(&app, campaign).await;
    assert!(entries.len() >= 3, "{entries:?}");
    let am = app.actor("am@sextant.example", "lumi").await;

    // Two creators, one code.
    let second = race(
        &app,
        &am,
        campaign,
        (entries[0], "RACE1"),
        (entries[1], "RACE1"),
    )
    .await;
    assert_eq!(
        field_error(&second, "discount_code"),
        "contracts.error.code_taken"
    );
    // One creator, two codes.
    let second = race(
        &app,
        &am,
        campaign,
        (entries[2], "RACE2"),
        (entries[2], "RACE3"),
    )
    .await;
    assert_eq!(
        field_error(&second, "discount_code"),
        "contracts.error.exists"
    );
}

#[tokio::test]
async fn amending_accepted_terms_needs_a_reason_and_a_free_code_and_writes_a_version() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "running").await;
    // The running demo campaign: one collaboration tracking its post, one accepted.
    let id = collaborations_in(&app, campaign, "accepted").await[0];
    let other = collaborations_in(&app, campaign, "tracking").await[0];
    let other_code = discount_code_of(&app, other).await;
    let amend = |reason: &str, code: &str| AmendTerms {
        collaboration_id: id,
        terms: terms(code),
        reason: reason.into(),
    };

    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    let refused = amend_terms(&mut tx, &operator, amend("more videos", "AMEND1")).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);

    let am = app.actor("am@sextant.example", "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let no_reason = amend_terms(&mut tx, &am, amend("  ", "AMEND1")).await;
    assert_eq!(
        field_error(&no_reason, "reason"),
        "contracts.error.reason_required"
    );
    drop(tx);
    let mut tx = app.tx_for(&am).await;
    let clash = amend_terms(&mut tx, &am, amend("more videos", &other_code)).await;
    assert_eq!(
        field_error(&clash, "discount_code"),
        "contracts.error.code_taken"
    );
    drop(tx);

    let mut tx = app.tx_for(&am).await;
    let changed = amend_terms(&mut tx, &am, amend("  more videos ", "AMEND1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        changed,
        TermsChanged {
            version: 2,
            amendment: true
        }
    );
    assert_eq!(discount_code_of(&app, id).await, "AMEND1");
    let audit = app.audit_of(&id.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "collaboration.amend");
    let (before, after) = (before.as_ref().unwrap(), after.as_ref().unwrap());
    assert_ne!(before["discount_code"], "AMEND1");
    assert_eq!(after["version"], 2);
    assert_eq!(after["reason"], "more videos");
    assert_eq!(after["terms"]["discount_code"], "AMEND1");

    // A cancelled contract's terms stay as they were.
    let mut c = app.owner_conn().await;
    sqlx::query("UPDATE collaborations SET state = 'cancelled' WHERE id = $1")
        .bind(other)
        .execute(&mut c)
        .await
        .unwrap();
    let mut tx = app.tx_for(&am).await;
    let closed = amend_terms(
        &mut tx,
        &am,
        AmendTerms {
            collaboration_id: other,
            terms: terms("AMEND2"),
            reason: "late change".into(),
        },
    )
    .await;
    assert!(matches!(closed, Err(DomainError::Forbidden)), "{closed:?}");
    drop(tx);

    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&stranger).await;
    let missing = amend_terms(&mut tx, &stranger, amend("x", "AMEND3")).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn changing_proposed_terms_is_a_new_version_without_a_reason() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "contracting").await;
    let id = collaborations_in(&app, campaign, "proposed").await[0];
    let am = app.actor("am@sextant.example", "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let changed = amend_terms(
        &mut tx,
        &am,
        AmendTerms {
            collaboration_id: id,
            terms: terms("PROPOSED9"),
            reason: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        changed,
        TermsChanged {
            version: 2,
            amendment: false
        }
    );
    let audit = app.audit_of(&id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "collaboration.terms");
    assert_eq!(after.as_ref().unwrap()["reason"], "");
}

#[tokio::test]
async fn the_creators_acceptance_moves_the_collaboration_and_starts_the_campaign() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "contracting").await;
    let id = collaborations_in(&app, campaign, "proposed").await[0];
    let event = |event: ContractEvent, reason: &str| RecordCollaborationEvent {
        collaboration_id: id,
        event,
        reason: reason.into(),
    };

    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    let refused = record_collaboration_event(
        &mut tx,
        &operator,
        event(ContractEvent::CreatorAccepted, ""),
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);

    // The state table refuses: nothing shipped before the creator agreed; a reason to cancel.
    let am = app.actor("am@sextant.example", "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let early =
        record_collaboration_event(&mut tx, &am, event(ContractEvent::SampleDelivered, "")).await;
    assert!(
        matches!(
            early,
            Err(DomainError::Refused(
                "contract.state_error.not_allowed_from"
            ))
        ),
        "{early:?}"
    );
    drop(tx);
    let mut tx = app.tx_for(&am).await;
    let blank = record_collaboration_event(
        &mut tx,
        &am,
        event(ContractEvent::Cancel { reason: " ".into() }, " "),
    )
    .await;
    assert!(
        matches!(
            blank,
            Err(DomainError::Refused("contract.state_error.reason_required"))
        ),
        "{blank:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&am).await;
    let to = record_collaboration_event(&mut tx, &am, event(ContractEvent::CreatorAccepted, ""))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(to, ContractState::Accepted);
    assert_eq!(state_of(&app, "collaborations", id).await, "accepted");
    let audit = app.audit_of(&id.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "collaboration.transition");
    assert_eq!(before.as_ref().unwrap()["state"], "proposed");
    assert_eq!(after.as_ref().unwrap()["state"], "accepted");
    assert_eq!(after.as_ref().unwrap()["event"], "accepted");
    // The first acceptance starts the campaign, through the campaign's own action.
    assert_eq!(state_of(&app, "campaigns", campaign).await, "running");
    let moves = app.audit_of(&campaign.to_string()).await;
    let (action, _, after) = moves.last().expect("the campaign's move");
    assert_eq!(action, "campaign.transition");
    assert_eq!(
        after.as_ref().unwrap()["transition"],
        "first_contract_accepted"
    );

    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&stranger).await;
    let missing = record_collaboration_event(
        &mut tx,
        &stranger,
        event(
            ContractEvent::Cancel {
                reason: "not ours".into(),
            },
            "not ours",
        ),
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn a_move_that_follows_from_a_post_is_recorded_for_the_operator_but_not_for_a_viewer() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "running").await;
    let id = collaborations_in(&app, campaign, "accepted").await[0];
    let move_on = |event: ContractEvent| TransitionCollaboration {
        collaboration_id: id,
        event,
    };

    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let refused =
        transition_collaboration(&mut tx, &viewer, move_on(ContractEvent::PostAdded)).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);

    // What only the account manager records is not the operator's to record.
    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&operator).await;
    let by_hand = transition_collaboration(
        &mut tx,
        &operator,
        move_on(ContractEvent::Cancel { reason: "x".into() }),
    )
    .await;
    assert!(
        matches!(by_hand, Err(DomainError::Forbidden)),
        "{by_hand:?}"
    );
    drop(tx);

    // An event the state refuses leaves the collaboration where it is and records nothing.
    let mut tx = app.tx_for(&operator).await;
    let stays = transition_collaboration(&mut tx, &operator, move_on(ContractEvent::WindowFinal))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stays, None);
    let before = app.audit_of(&id.to_string()).await.len();

    let mut tx = app.tx_for(&operator).await;
    let to = transition_collaboration(&mut tx, &operator, move_on(ContractEvent::PostAdded))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(to, Some(ContractState::Published));
    assert_eq!(state_of(&app, "collaborations", id).await, "published");
    let audit = app.audit_of(&id.to_string()).await;
    assert_eq!(audit.len(), before + 1);
    let (action, before, after) = audit.last().unwrap();
    assert_eq!(action, "collaboration.transition");
    assert_eq!(before.as_ref().unwrap()["state"], "accepted");
    assert_eq!(after.as_ref().unwrap()["event"], "post_added");

    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&stranger).await;
    let missing =
        transition_collaboration(&mut tx, &stranger, move_on(ContractEvent::TrackingStarted)).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}
