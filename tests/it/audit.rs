//! The audit trail's pages (SPEC §12): the owner's, filtered by actor, object, action and period,
//! with before/after; the admins' across tenants and the platform; tenant isolation; and the
//! demo writing every campaign state change through the one mechanism.

use reqwest::StatusCode;
use sqlx::Row;

use crate::support::*;

/// The `data-action` of every row of an audit table.
fn actions_of(html: &str) -> Vec<String> {
    html.split("data-action=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// The actor cell of every row.
fn actors_of(html: &str) -> Vec<String> {
    html.split("data-col=\"actor\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_campaign_state_change_of_the_demo_is_in_the_owners_trail_with_before_and_after() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let lumi = app.tenant_id("lumi").await;
    // Each campaign's state changes (what its page shows) and its audit entries: the same count.
    let rows = sqlx::query(
        "SELECT c.id::text AS id,
                (SELECT count(*) FROM campaign_transitions t
                  WHERE t.tenant_id = c.tenant_id AND t.campaign_id = c.id) AS moves,
                (SELECT count(*) FROM audit_log a
                  WHERE a.tenant_id = c.tenant_id AND a.entity_id = c.id::text
                    AND a.action = 'campaign.transition') AS audited
           FROM campaigns c WHERE c.tenant_id = $1",
    )
    .bind(lumi)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(rows.len() >= 5, "the demo's campaigns");
    let mut busiest = (String::new(), 0i64);
    for r in &rows {
        let (id, moves, audited): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
        assert_eq!(
            moves, audited,
            "campaign {id}: state changes vs audit entries"
        );
        if moves > busiest.1 {
            busiest = (id, moves);
        }
    }
    assert!(
        busiest.1 >= 3,
        "a demo campaign went through several states"
    );

    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner, "/t/lumi/audit").await;
    assert!(!page.contains("暂无操作记录"), "the trail is not empty");
    assert!(page.contains("campaign.transition") && page.contains("data-testid=\"pager\""));

    // One campaign's history: exactly its state changes and edits, each with before → after.
    let history = app
        .get_ok(
            &owner,
            &format!(
                "/t/lumi/audit?entity=campaign&entity_id={}&action=campaign.transition",
                busiest.0
            ),
        )
        .await;
    let actions = actions_of(&history);
    assert_eq!(actions.len() as i64, busiest.1, "{actions:?}");
    assert!(actions.iter().all(|a| a == "campaign.transition"));
    assert!(
        history.contains("<td data-col=\"before\"><samp>draft</samp></td>"),
        "before shown"
    );
    assert!(
        history.contains("<td data-col=\"after\"><samp>submitted</samp></td>"),
        "after shown"
    );
    assert!(history.contains("data-testid=\"entity-id\""));
}

#[tokio::test]
async fn the_owner_filters_by_area_actor_and_period_and_bad_filters_are_named() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;

    // An area: every action under it, nothing else.
    let page = app
        .get_ok(&owner, "/t/lumi/audit?action=collaboration")
        .await;
    let actions = actions_of(&page);
    assert!(!actions.is_empty());
    assert!(
        actions.iter().all(|a| a.starts_with("collaboration.")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "collaboration.create"),
        "{actions:?}"
    );
    // One action exactly.
    let page = app
        .get_ok(&owner, "/t/lumi/audit?action=collaboration.create")
        .await;
    let actions = actions_of(&page);
    assert!(!actions.is_empty() && actions.iter().all(|a| a == "collaboration.create"));

    // An actor (part of the email, any case): only that person's entries.
    let page = app.get_ok(&owner, "/t/lumi/audit?actor=AM%40SEXTANT").await;
    let actors = actors_of(&page);
    assert!(!actors.is_empty());
    assert!(
        actors
            .iter()
            .all(|a| a.to_lowercase().contains("am@sextant")),
        "{actors:?}"
    );
    let page = app.get_ok(&owner, "/t/lumi/audit?actor=owner%40lumi").await;
    let actors = actors_of(&page);
    assert!(!actors.is_empty() && actors.iter().all(|a| a.contains("owner@lumi")));

    // A period: everything was done today; tomorrow has nothing; a range ending today has it.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+8))
        .date();
    let tomorrow = today.next_day().unwrap();
    let page = app
        .get_ok(&owner, &format!("/t/lumi/audit?from={tomorrow}"))
        .await;
    assert!(actions_of(&page).is_empty() && page.contains("data-testid=\"audit-empty\""));
    let page = app
        .get_ok(
            &owner,
            &format!(
                "/t/lumi/audit?from={}&to={today}",
                today.previous_day().unwrap()
            ),
        )
        .await;
    assert!(!actions_of(&page).is_empty());

    // Bad filters: the message next to the field, in both languages, no entries shown.
    for (query, field, zh, en) in [
        (
            "from=2026-13-01",
            "from",
            "请按 YYYY-MM-DD 填写日期",
            "Enter a date as YYYY-MM-DD",
        ),
        (
            "to=yesterday",
            "to",
            "请按 YYYY-MM-DD 填写日期",
            "Enter a date as YYYY-MM-DD",
        ),
        (
            "from=2026-11-30&to=2026-11-01",
            "to",
            "结束日期早于开始日期",
            "The end is before the start",
        ),
    ] {
        for (lang, text) in [("zh-CN", zh), ("en", en)] {
            let res = owner
                .get(app.url(&format!("/t/lumi/audit?{query}")))
                .header("Accept-Language", lang)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            let body = res.text().await.unwrap();
            let beside = format!("<p class=\"field-error\" data-field=\"{field}\">{text}");
            assert!(body.contains(&beside), "{query} ({lang})");
            assert!(actions_of(&body).is_empty());
        }
    }
    let long = "x".repeat(201);
    let res = owner
        .get(app.url(&format!("/t/lumi/audit?actor={long}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("data-field=\"actor\""));
}

#[tokio::test]
async fn a_tenants_trail_is_its_own_and_only_its_owner_reads_it() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let nordpeak_campaign: String = sqlx::query_scalar(
        "SELECT c.id::text FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
          WHERE t.slug = 'nordpeak' LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    // Another tenant's object: nothing, whatever the filters ask (a seller cannot pick a tenant).
    let page = app
        .get_ok(
            &owner,
            &format!("/t/lumi/audit?entity_id={nordpeak_campaign}&tenant=nordpeak"),
        )
        .await;
    assert!(actions_of(&page).is_empty());
    let page = app.get_ok(&owner, "/t/lumi/audit?tenant=nordpeak").await;
    assert!(!page.contains("owner@nordpeak.example"));
    // Platform events (staff accounts, scopes) are not a tenant's.
    assert!(!page.contains("scope.open") && !page.contains("staff.create"));

    // Operators, viewers and staff are refused; another tenant's owner gets 404.
    for (who, expected) in [
        (OPERATOR_LUMI, StatusCode::FORBIDDEN),
        (VIEWER_LUMI, StatusCode::FORBIDDEN),
        (OWNER_NORDPEAK, StatusCode::NOT_FOUND),
    ] {
        let client = app.login(who.0, who.1).await;
        assert_eq!(
            app.status_of(&client, "/t/lumi/audit").await,
            expected,
            "{}",
            who.0
        );
    }
    let anonymous = app.client();
    let res = anonymous
        .get(app.url("/t/lumi/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn admins_read_every_tenant_and_the_platform_through_the_audited_scope() {
    let app = TestApp::with_demo_campaigns().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let page = app.get_ok(&admin, "/admin/audit").await;
    assert!(page.contains("data-testid=\"audit-table\""));
    assert!(
        page.contains("href=\"/admin/audit\""),
        "in the admin's navigation"
    );

    // One tenant: only its entries (the tenant column names it).
    let page = app.get_ok(&admin, "/admin/audit?tenant=nordpeak").await;
    assert!(!actions_of(&page).is_empty());
    assert!(page.contains("title=\"nordpeak\"") && !page.contains("title=\"lumi\""));
    // Platform events only: staff accounts and scopes, no tenant's.
    let page = app.get_ok(&admin, "/admin/audit?tenant=platform").await;
    let actions = actions_of(&page);
    assert!(actions.iter().any(|a| a == "scope.open"), "{actions:?}");
    assert!(!page.contains("title=\"lumi\"") && !page.contains("title=\"nordpeak\""));
    // An unknown tenant is named beside the field.
    let res = admin
        .get(app.url("/admin/audit?tenant=nosuch"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<p class=\"field-error\" data-field=\"tenant\">No such tenant.")
    );

    // Reading it opened the audited cross-tenant scope, under the admin's name.
    let mut conn = app.owner_conn().await;
    let scopes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'scope.open'
            AND actor_label LIKE '%admin@sextant.example%' AND entity_id = 'admin_audit'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(scopes >= 3, "each admin read is audited ({scopes})");

    // Nobody else reads the platform's trail.
    for who in [ACCOUNT_MANAGER, FINANCE, OWNER_LUMI] {
        let client = app.login(who.0, who.1).await;
        assert_eq!(
            app.status_of(&client, "/admin/audit").await,
            StatusCode::FORBIDDEN,
            "{}",
            who.0
        );
    }
}

/// The full demo (made through the product's actions) and the owner's trail filtered to one
/// area: entries, only of that area, each naming who did it, of the object type expected, and
/// what they changed.
async fn area_in_the_trail(area: &str, entity: &str) -> (TestApp, reqwest::Client) {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize::FULL).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    if area == "member" {
        // Members: the owner adds one here (the demo's people are seeded as accounts).
        let res = app
            .post_form(
                &owner,
                "/t/lumi/members",
                &[
                    ("name", "审计 Audit"),
                    ("email", "audit.check@lumi-home.example"),
                    ("role", "viewer"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let page = app
        .get_ok(&owner, &format!("/t/lumi/audit?action={area}"))
        .await;
    let actions = actions_of(&page);
    assert!(!actions.is_empty(), "{area}: no entries");
    assert!(
        actions.iter().all(|a| a.starts_with(&format!("{area}."))),
        "{area}: {actions:?}"
    );
    assert!(
        actors_of(&page).iter().all(|a| !a.trim().is_empty()),
        "{area}: an actor each"
    );
    assert!(
        page.contains("data-testid=\"changes\""),
        "{area}: before/after"
    );
    // Its entries name their objects.
    let page = app
        .get_ok(
            &owner,
            &format!("/t/lumi/audit?action={area}&entity={entity}"),
        )
        .await;
    assert!(!actions_of(&page).is_empty(), "{area}: no {entity} entries");
    (app, owner)
}

#[tokio::test]
async fn campaign_changes_are_in_the_trail() {
    area_in_the_trail("campaign", "campaign").await;
}

#[tokio::test]
async fn shortlist_changes_are_in_the_trail() {
    area_in_the_trail("shortlist", "campaign").await;
}

#[tokio::test]
async fn contract_changes_are_in_the_trail() {
    area_in_the_trail("collaboration", "collaboration").await;
}

#[tokio::test]
async fn fulfilment_records_are_in_the_trail() {
    area_in_the_trail("fulfilment", "fulfilment_record").await;
}

#[tokio::test]
async fn ratings_are_in_the_trail() {
    area_in_the_trail("rating", "rating").await;
}

#[tokio::test]
async fn tier_changes_are_in_the_trail_with_their_cause() {
    let (app, owner) = area_in_the_trail("tier", "tier").await;
    let page = app
        .get_ok(&owner, "/t/lumi/audit?action=tier.recompute")
        .await;
    assert!(page.contains("<code>changed</code>") && page.contains("<code>cause</code>"));
}

#[tokio::test]
async fn blacklist_changes_are_in_the_trail() {
    area_in_the_trail("blacklist", "blacklist_entry").await;
}

#[tokio::test]
async fn settlements_are_in_the_trail() {
    area_in_the_trail("settlement", "settlement_draft").await;
}

#[tokio::test]
async fn content_reviews_are_in_the_trail() {
    let (app, owner) = area_in_the_trail("deliverable", "deliverable").await;
    let page = app
        .get_ok(&owner, "/t/lumi/audit?action=deliverable.review")
        .await;
    assert!(page.contains("changes_requested") && page.contains("approved"));
}

#[tokio::test]
async fn member_changes_are_in_the_trail() {
    let (app, owner) = area_in_the_trail("member", "membership").await;
    let page = app.get_ok(&owner, "/t/lumi/audit?action=member.add").await;
    assert!(page.contains("audit.check@lumi-home.example"));
    assert!(actors_of(&page).iter().all(|a| a == OWNER_LUMI.0));
}
