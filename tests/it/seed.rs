//! The demo is made through the product's own actions, so what it did is on the record.

use crate::support::*;

#[tokio::test]
async fn the_demos_changes_appear_on_the_tenants_audit_page() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: true,
    })
    .await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    // Every move of every demo campaign has its audit entry, by the person who made it.
    let (moves, audited): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM campaign_transitions), \
                (SELECT count(*) FROM audit_log WHERE action = 'campaign.transition')",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(moves >= 20, "{moves} demo moves");
    assert_eq!(moves, audited, "each move is audited");
    let unnamed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaign_transitions t \
          WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_id = t.campaign_id::text \
                              AND a.action = 'campaign.transition' AND a.actor_label = t.actor_label)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(unnamed, 0, "the audit names whoever made each move");
    let running: String =
        sqlx::query_scalar("SELECT id::text FROM campaigns WHERE code = 'LUMI-DEMO-06'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    drop(tx);

    // The owner's audit page shows them.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner, "/t/lumi/audit").await;
    for action in [
        "campaign.transition",
        "shortlist.send",
        "shortlist.decide",
        "collaboration.create",
    ] {
        assert!(page.contains(action), "the audit page shows {action}");
    }
    assert!(page.contains(&format!("campaign {running}")));
    assert!(page.contains("am@sextant.example") && page.contains(OWNER_LUMI.0));
}
