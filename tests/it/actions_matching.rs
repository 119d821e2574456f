//! The matching actions called directly, as the API and the seed call them: no HTTP.

use sextant::error::DomainError;
use sextant::matching::actions::{
    Pick, SendShortlist, SentShortlist, save_matching_weights, send_shortlist,
};
use sextant::matching::domain::{self, Weights, WeightsInput};
use sextant::matching::repo;
use uuid::Uuid;

use crate::support::*;

/// Creators who can be sent for the campaign now (they pass its hard filters and were never
/// offered for it), best first.
async fn candidates_for(app: &TestApp, campaign: Uuid) -> Vec<Uuid> {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let row = sextant::campaigns::repo::get(&mut tx, lumi, campaign)
        .await
        .unwrap()
        .unwrap();
    let ask = repo::ask_of(&row.campaign());
    let rates = repo::ReferenceRates::load(&mut tx).await.unwrap();
    let pool = repo::candidates(&mut tx, lumi, campaign, &ask)
        .await
        .unwrap();
    domain::rank(&pool, &ask, &Weights::default(), &rates, 10)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn picks(ids: &[Uuid]) -> Vec<Pick> {
    ids.iter()
        .map(|id| Pick {
            creator_id: *id,
            note: String::new(),
        })
        .collect()
}

#[tokio::test]
async fn sending_a_shortlist_freezes_each_score_moves_the_campaign_and_writes_its_audit_entry() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let campaign = app.campaign_in("lumi", "matching").await;
    let candidates = candidates_for(&app, campaign).await;
    assert!(candidates.len() >= 2, "candidates: {candidates:?}");
    let send = |picks: Vec<Pick>| SendShortlist {
        campaign_id: campaign,
        picks,
    };

    // Sellers do not send shortlists.
    let owner = app.actor("owner@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&owner).await;
    let forbidden = send_shortlist(&mut tx, &owner, send(picks(&candidates[..1]))).await;
    assert!(
        matches!(forbidden, Err(DomainError::Forbidden)),
        "{forbidden:?}"
    );
    drop(tx);

    // Nothing picked, or someone who is not a candidate: the field is named, nothing is sent.
    let am = app.actor("am@sextant.example", "lumi").await;
    let mut tx = app.tx_for(&am).await;
    let invalid = send_shortlist(&mut tx, &am, send(Vec::new())).await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e))
            if e.get("pick") == Some(&"matching.error.nothing_picked")),
        "{invalid:?}"
    );
    let stranger = Uuid::now_v7();
    let invalid = send_shortlist(&mut tx, &am, send(picks(&[candidates[0], stranger]))).await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e))
            if e.get("pick") == Some(&"matching.error.not_a_candidate")),
        "{invalid:?}"
    );
    drop(tx);

    // Two candidates (one picked twice, with a note): one round, each entry with its frozen
    // score, the campaign with the seller, the move and the sending audited.
    let mut tx = app.tx_for(&am).await;
    let mut chosen = picks(&candidates[..2]);
    chosen[0].note = "  Kitchen demos convert well  ".into();
    chosen.push(chosen[1].clone());
    let sent = send_shortlist(&mut tx, &am, send(chosen)).await.unwrap();
    assert_eq!(
        sent,
        SentShortlist {
            round: 1,
            creators: candidates[..2].to_vec(),
        }
    );
    tx.commit().await.unwrap();
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let entries: Vec<(Uuid, i32, String, rust_decimal::Decimal, serde_json::Value)> =
        sqlx::query_as(
            "SELECT creator_id, round, note, score, breakdown FROM shortlist_entries \
             WHERE campaign_id = $1 ORDER BY score DESC",
        )
        .bind(campaign)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(state, "shortlist_sent");
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.1 == 1));
    let first = entries.iter().find(|e| e.0 == candidates[0]).unwrap();
    assert_eq!(first.2, "Kitchen demos convert well");
    assert!(first.3 > rust_decimal::Decimal::ZERO);
    assert_eq!(first.4["weights"]["audience"], 30.0);
    assert!(first.4["score"]["total"].as_f64().is_some());
    // The demo's own moves (it goes through the actions too) come first; the send adds two.
    let all = app.audit_of(&campaign.to_string()).await;
    let audit = &all[all.len() - 2..];
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["campaign.transition", "shortlist.send"]);
    assert_eq!(audit[0].2.as_ref().unwrap()["state"], "shortlist_sent");
    let after = audit[1].2.as_ref().unwrap();
    assert_eq!(after["round"], 1);
    assert_eq!(
        after["creators"],
        serde_json::json!([candidates[0].to_string(), candidates[1].to_string()])
    );

    // The shortlist is with the seller now: nothing more is sent.
    let mut tx = app.tx_for(&am).await;
    let refused = send_shortlist(&mut tx, &am, send(picks(&candidates[..1]))).await;
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

    // Another tenant's actor finds nothing.
    let other = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&other).await;
    let missing = send_shortlist(&mut tx, &other, send(picks(&candidates[..1]))).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

async fn weights_now(app: &TestApp) -> Weights {
    let mut conn = app.db.pool().acquire().await.unwrap();
    repo::current_weights(&mut conn).await.unwrap()
}

/// What the settings page opens for a platform setting.
async fn system_tx(app: &TestApp) -> sextant::db::Tx {
    app.db
        .system_tx(sextant::db::SystemScope::Auth)
        .await
        .unwrap()
}

fn typed(values: [&str; 6]) -> WeightsInput {
    WeightsInput {
        audience: values[0].into(),
        engagement: values[1].into(),
        category: values[2].into(),
        style: values[3].into(),
        price: values[4].into(),
        track_record: values[5].into(),
    }
}

#[tokio::test]
async fn only_an_admin_changes_the_matching_weights_and_they_must_sum_to_a_hundred() {
    let app = TestApp::with_demo().await;

    // Staff other than admins, and sellers, may not.
    for email in [
        "am@sextant.example",
        "finance@sextant.example",
        "owner@lumi-home.example",
    ] {
        let actor = app.staff_actor(email).await;
        let mut tx = system_tx(&app).await;
        let forbidden =
            save_matching_weights(&mut tx, &actor, typed(["40", "20", "10", "10", "5", "15"]))
                .await;
        assert!(
            matches!(forbidden, Err(DomainError::Forbidden)),
            "{email}: {forbidden:?}"
        );
    }

    // Bad weights: each wrong field named, or the sum.
    let admin = app.staff_actor("admin@sextant.example").await;
    let mut tx = system_tx(&app).await;
    let invalid = save_matching_weights(
        &mut tx,
        &admin,
        typed(["-10", "abc", "15", "10", "10", "15"]),
    )
    .await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e))
            if e.contains_key("audience") && e.contains_key("engagement") && e.len() == 2),
        "{invalid:?}"
    );
    let invalid =
        save_matching_weights(&mut tx, &admin, typed(["30", "20", "15", "10", "10", "5"])).await;
    assert!(
        matches!(&invalid, Err(DomainError::Invalid(e))
            if e.get("sum") == Some(&"matching.error.weights_sum")),
        "{invalid:?}"
    );
    drop(tx);
    assert_eq!(weights_now(&app).await, Weights::default());

    // An admin's weights are in force, the change audited with before and after.
    let mut tx = system_tx(&app).await;
    let saved = save_matching_weights(&mut tx, &admin, typed(["40", "20", "10", "10", "5", "15"]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((saved.audience, saved.price), (40.0, 5.0));
    assert_eq!(weights_now(&app).await, saved);
    let audit = app.audit_of("matching_weights").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "settings.matching_weights");
    assert_eq!(audit[0].1.as_ref().unwrap()["audience"], 30.0);
    assert_eq!(audit[0].2.as_ref().unwrap()["audience"], 40.0);
}
