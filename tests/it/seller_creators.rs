//! The seller's creators: the list of creators offered to (or working with) a tenant, and a
//! creator's page with the public profile and this tenant's history only.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use uuid::Uuid;

use crate::support::*;

/// A scope that sees every tenant's rows (row-level security hides them from plain connections).
async fn system(app: &TestApp) -> sextant::db::Tx {
    app.db
        .system_tx(sextant::db::SystemScope::Cli)
        .await
        .unwrap()
}

/// The demo with a small pool and campaigns in every state for lumi and nordpeak.
async fn demo() -> TestApp {
    TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: true,
    })
    .await
}

/// Handles of the creators a tenant was offered or works with, read in its own scope.
async fn known_handles(app: &TestApp, slug: &str) -> BTreeSet<String> {
    let tenant = app.tenant_id(slug).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query_scalar(
        "SELECT handle FROM creators WHERE id IN (SELECT creator_id FROM shortlist_entries \
         UNION SELECT creator_id FROM collaborations)",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// The handles of the list's rows, in order.
fn row_handles(page: &str) -> Vec<String> {
    page.split(r#"<tr data-handle=""#)
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| *c != '"').collect())
        .collect()
}

async fn followers_of(app: &TestApp, handles: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for h in handles {
        let n: i64 = sqlx::query_scalar("SELECT followers FROM creators WHERE handle = $1")
            .bind(h)
            .fetch_one(&mut *system(app).await)
            .await
            .unwrap();
        out.push(n);
    }
    out
}

/// Offers `creator` to the tenant in its demo campaign that is being matched (which has no
/// shortlist yet), decided as given.
async fn offer(
    app: &TestApp,
    slug: &str,
    creator: Uuid,
    note: &str,
    decision: Option<&str>,
    reason: Option<&str>,
) {
    let tenant = app.tenant_id(slug).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let campaign: Uuid = sqlx::query_scalar(
        "SELECT id FROM campaigns WHERE tenant_id = $1 AND state = 'matching' LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO shortlist_entries (tenant_id, id, campaign_id, creator_id, round, note, score, \
           breakdown, decision, decision_reason, decided_at) \
         VALUES ($1, $2, $3, $4, 1, $5, 12.34, $6, $7, $8, CASE WHEN $7 IS NULL THEN NULL ELSE now() END)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(campaign)
    .bind(creator)
    .bind(note)
    .bind(serde_json::json!({ "score": { "warnings": ["violation_notes"] } }))
    .bind(decision)
    .bind(reason)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// A creator of the pool nobody was offered.
async fn never_offered(app: &TestApp, skip: i64) -> (Uuid, String) {
    sqlx::query_as(
        "SELECT id, handle FROM creators c WHERE NOT EXISTS (SELECT 1 FROM shortlist_entries e \
         WHERE e.creator_id = c.id) ORDER BY handle OFFSET $1 LIMIT 1",
    )
    .bind(skip)
    .fetch_one(&mut *system(app).await)
    .await
    .unwrap()
}

/// A creator offered to lumi only, and rejected there with a reason.
async fn rejected_by_lumi_only(app: &TestApp) -> (Uuid, String) {
    let (id, handle) = never_offered(app, 0).await;
    offer(
        app,
        "lumi",
        id,
        "LUMI-AM-NOTE: great hooks",
        Some("rejected"),
        Some("LUMI-REASON: audience too young"),
    )
    .await;
    (id, handle)
}

#[tokio::test]
async fn the_list_shows_the_creators_offered_to_the_seller_not_the_pool() {
    let app = demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner, "/t/lumi/creators").await;
    let known = known_handles(&app, "lumi").await;
    assert!(!known.is_empty());
    let shown: BTreeSet<String> = row_handles(&page).into_iter().collect();
    assert_eq!(shown, known, "exactly the creators offered to lumi");
    assert!(page.contains(&format!(
        r#"data-testid="creator-total">达人数： {}<"#,
        known.len()
    )));
    let pool: i64 = sqlx::query_scalar("SELECT count(*) FROM creators")
        .fetch_one(&mut *system(&app).await)
        .await
        .unwrap();
    assert!(pool as usize > known.len());
    // Tiers do not exist yet: a neutral badge; the counts and the last collaboration show.
    assert!(page.contains(r#"class="tier-badge tier-none""#) && page.contains("未分级"));
    assert!(page.contains("LUMI-DEMO-") && page.contains("/t/lumi/collaborations/"));
    assert!(page.contains(r#"<a href="/t/lumi/creators" aria-current="page">达人</a>"#));
    // Nordpeak's own list is its own.
    let nord = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let page = app.get_ok(&nord, "/t/nordpeak/creators").await;
    let shown: BTreeSet<String> = row_handles(&page).into_iter().collect();
    assert_eq!(shown, known_handles(&app, "nordpeak").await);
    assert!(!page.contains("LUMI-DEMO-"));

    // Search by handle (with or without @) and by name.
    let one = known.iter().next().unwrap().clone();
    let page = app
        .get_ok(&owner, &format!("/t/lumi/creators?q=%40{one}"))
        .await;
    assert_eq!(row_handles(&page), vec![one.clone()]);
    let name: String = sqlx::query_scalar("SELECT display_name FROM creators WHERE handle = $1")
        .bind(&one)
        .fetch_one(&mut *system(&app).await)
        .await
        .unwrap();
    let page = app
        .get_ok(
            &owner,
            &format!(
                "/t/lumi/creators?q={}",
                form_urlencoded::byte_serialize(name.to_ascii_uppercase().as_bytes())
                    .collect::<String>()
            ),
        )
        .await;
    assert!(row_handles(&page).contains(&one), "{name}");
    let page = app.get_ok(&owner, "/t/lumi/creators?q=zz%25no_such").await;
    assert!(row_handles(&page).is_empty());
    assert!(page.contains(r#"data-testid="creators-empty""#));

    // Sorting: by followers, biggest first, then the other way round.
    let page = app.get_ok(&owner, "/t/lumi/creators?sort=followers").await;
    let desc = followers_of(&app, &row_handles(&page)).await;
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    let th = page
        .find(r#"aria-sort="descending""#)
        .map(|i| &page[i..i + 120]);
    assert!(
        th.is_some_and(|t| t.contains("sort=followers&#38;dir=asc")),
        "{th:?}"
    );
    let page = app
        .get_ok(&owner, "/t/lumi/creators?sort=followers&dir=asc")
        .await;
    let asc = followers_of(&app, &row_handles(&page)).await;
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    let page = app.get_ok(&owner, "/t/lumi/creators?sort=handle").await;
    let handles = row_handles(&page);
    let mut sorted = handles.clone();
    sorted.sort();
    assert_eq!(handles, sorted);
    let page = app.get_ok(&owner, "/t/lumi/creators?sort=score").await;
    assert_eq!(row_handles(&page).len(), known.len());

    // Pages of 50: offer lumi 60 more creators.
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    sqlx::query(
        "INSERT INTO shortlist_entries (tenant_id, id, campaign_id, creator_id, round, score, breakdown) \
         SELECT $1, gen_random_uuid(), (SELECT id FROM campaigns WHERE state = 'matching'), c.id, 1, 50, '{}' \
         FROM (SELECT id FROM creators c WHERE NOT EXISTS (SELECT 1 FROM shortlist_entries e \
           WHERE e.creator_id = c.id) ORDER BY handle LIMIT 60) c",
    )
    .bind(lumi)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let total = known.len() + 60;
    let first = app.get_ok(&owner, "/t/lumi/creators").await;
    assert_eq!(row_handles(&first).len(), 50);
    assert!(first.contains("第 1 / 2 页") && first.contains(r#"rel="next""#));
    let second = app
        .get_ok(&owner, "/t/lumi/creators?sort=last_offered&dir=desc&page=2")
        .await;
    assert_eq!(row_handles(&second).len(), total - 50);
    assert!(second.contains(r#"rel="prev""#) && !second.contains(r#"rel="next""#));
    let all: BTreeSet<String> = row_handles(&first)
        .into_iter()
        .chain(row_handles(&second))
        .collect();
    assert_eq!(all.len(), total, "no creator on both pages, none left out");
    // Past the last page: the last page.
    let past = app.get_ok(&owner, "/t/lumi/creators?page=7").await;
    assert_eq!(row_handles(&past), row_handles(&second));

    // Bad parameters fall back to the defaults, never an error page.
    for query in [
        "page=-1",
        "page=0",
        "page=abc",
        "page=99999999999999999999",
        "page=9223372036854775807",
        "sort=garbage",
        "sort=followers;DROP%20TABLE%20creators",
        "dir=sideways",
        "q=%25%5C_%27",
        "page=2&page=x&sort=&dir=",
        "q=%FF%FE",
    ] {
        let res = owner
            .get(app.url(&format!("/t/lumi/creators?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{query}");
    }
}

#[tokio::test]
async fn the_creator_page_shows_this_sellers_history_and_never_another_tenants() {
    let app = demo().await;
    let (id, handle) = rejected_by_lumi_only(&app).await;
    // Nordpeak is offered the same creator too, with words of its own, and books it.
    offer(
        &app,
        "nordpeak",
        id,
        "NORDPEAK-SECRET-NOTE",
        Some("rejected"),
        Some("NORDPEAK-SECRET-REASON"),
    )
    .await;
    let nordpeak = app.tenant_id("nordpeak").await;
    let nord_collab = Uuid::now_v7();
    let mut tx = app.db.tenant_tx(nordpeak, None).await.unwrap();
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
           link_slug) SELECT tenant_id, $2, campaign_id, creator_id, 'breached', 'NPSECRETCODE', $3 \
         FROM shortlist_entries WHERE tenant_id = $1 AND creator_id = $4",
    )
    .bind(nordpeak)
    .bind(nord_collab)
    .bind(sextant::contracts::domain::new_link_slug())
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // And the agency knows things a seller must not see.
    let mut tx = system(&app).await;
    sqlx::query(
        "UPDATE creators SET contact = 'secret-contact@agency.invalid', mcn = 'SECRET-MCN-NAME', \
           violation_notes = 'SECRET-VIOLATION-TEXT', platform_blacklisted = true, \
           sample_posting_rate = 0.1234 WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app.get_ok(&owner, &format!("/t/lumi/creators/{id}")).await;
    assert!(page.contains(&format!("@{handle}")));
    // The history with lumi: the campaign, the AM's note, the decision with its reason.
    assert!(page.contains("LUMI-DEMO-03"));
    assert!(page.contains("LUMI-AM-NOTE: great hooks"), "the AM's note");
    assert!(page.contains("已拒绝"));
    assert!(page.contains(r#"data-testid="decision-reason">LUMI-REASON: audience too young<"#));
    assert!(
        page.contains("有违规记录"),
        "the warning frozen on the offer"
    );
    assert!(page.contains("12.3"), "the frozen score");
    assert!(page.contains("/t/lumi/campaigns/"));
    // Nothing of nordpeak's.
    for secret in [
        "NORDPEAK-SECRET-NOTE",
        "NORDPEAK-SECRET-REASON",
        "NPSECRETCODE",
        "NORD-DEMO-",
        "达人违约",
        &nord_collab.to_string(),
    ] {
        assert!(!page.contains(secret), "lumi's page shows {secret}");
    }
    assert!(page.contains(r#"data-testid="no-collaborations""#));
    // Nor what only the agency knows.
    for secret in [
        "secret-contact@agency.invalid",
        "SECRET-MCN-NAME",
        "SECRET-VIOLATION-TEXT",
        "已拉黑",
        "12.34%",
        "0.1234",
        "staff-view",
    ] {
        assert!(!page.contains(secret), "a seller sees {secret}");
    }
    // The public profile is there.
    assert!(page.contains(r#"data-testid="public-profile""#));
    assert!(page.contains("粉丝画像") && page.contains("未分级"));

    // Nordpeak sees its own entry and collaboration, and nothing of lumi's.
    let nord = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let page = app
        .get_ok(&nord, &format!("/t/nordpeak/creators/{id}"))
        .await;
    assert!(page.contains("NORDPEAK-SECRET-NOTE") && page.contains("NORDPEAK-SECRET-REASON"));
    assert!(page.contains("NORD-DEMO-03") && page.contains("达人违约"));
    assert!(page.contains(&format!(
        r#"href="/t/nordpeak/collaborations/{nord_collab}""#
    )));
    assert!(!page.contains("LUMI-") && !page.contains("/t/lumi/"));

    // A creator with a collaboration: its state, fee and a link to it.
    let lumi = app.tenant_id("lumi").await;
    let (collab, creator): (Uuid, Uuid) = sqlx::query_as(
        "SELECT id, creator_id FROM collaborations WHERE tenant_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(lumi)
    .fetch_one(&mut *system(&app).await)
    .await
    .unwrap();
    let page = app
        .get_ok(&owner, &format!("/t/lumi/creators/{creator}"))
        .await;
    assert!(page.contains(&format!(r#"href="/t/lumi/collaborations/{collab}""#)));
    assert!(
        page.contains("USD\u{a0}600.00 + 佣金 12%"),
        "the fee of the terms"
    );
    assert!(page.contains("已通过"));

    // The shortlist card links to the page by handle, which leads to the id's page.
    let shortlist_campaign: Uuid = sqlx::query_scalar(
        "SELECT campaign_id FROM shortlist_entries WHERE tenant_id = $1 AND creator_id = $2 LIMIT 1",
    )
    .bind(lumi)
    .bind(id)
    .fetch_one(&mut *system(&app).await)
    .await
    .unwrap();
    let card = app
        .get_ok(
            &owner,
            &format!("/t/lumi/campaigns/{shortlist_campaign}/shortlist"),
        )
        .await;
    let link = format!("/t/lumi/creators/@{handle}");
    assert!(card.contains(&format!(r#"href="{link}""#)), "{card}");
    let res = owner.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/t/lumi/creators/{id}"));
}

#[tokio::test]
async fn a_creator_never_offered_to_the_seller_is_unknown_there() {
    let app = demo().await;
    let (id, handle) = rejected_by_lumi_only(&app).await;
    let lumi_id = app.tenant_id("lumi").await;
    let never: Uuid = sqlx::query_scalar(
        "SELECT id FROM creators c WHERE NOT EXISTS (SELECT 1 FROM shortlist_entries e \
         WHERE e.creator_id = c.id) ORDER BY handle LIMIT 1",
    )
    .fetch_one(&mut *system(&app).await)
    .await
    .unwrap();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let nord = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    app.get_ok(&owner, &format!("/t/lumi/creators/{id}")).await;

    // Offered to lumi only: nordpeak's own URLs do not know it, lumi's are not nordpeak's.
    for path in [
        format!("/t/nordpeak/creators/{id}"),
        format!("/t/nordpeak/creators/@{handle}"),
        format!("/t/lumi/creators/{id}"),
        format!("/t/lumi/creators/@{handle}"),
        "/t/lumi/creators".to_string(),
    ] {
        assert_eq!(
            app.status_of(&nord, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let page = app.get_ok(&nord, "/t/nordpeak/creators").await;
    assert!(!row_handles(&page).contains(&handle));

    // Never offered, unknown or malformed: 404, never 403 or 500.
    for segment in [
        never.to_string(),
        Uuid::now_v7().to_string(),
        lumi_id.to_string(),
        "not-a-uuid".to_string(),
        "123".to_string(),
        "@".to_string(),
        "@no_such_handle".to_string(),
        "%40%40x".to_string(),
        "%00".to_string(),
        format!("{id}x"),
    ] {
        let path = format!("/t/lumi/creators/{segment}");
        assert_eq!(
            app.status_of(&owner, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_member_reads_strangers_log_in_and_english_is_spoken() {
    let app = demo().await;
    let (id, _) = rejected_by_lumi_only(&app).await;
    let page_path = format!("/t/lumi/creators/{id}");

    // Not logged in: to the login page, and back here after it.
    let anon = app.client();
    for path in ["/t/lumi/creators", page_path.as_str()] {
        let res = anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&res), format!("/login?next={path}"));
    }

    // Every member role and the assigned account manager read both pages.
    for (email, password) in [OWNER_LUMI, OPERATOR_LUMI, VIEWER_LUMI, ACCOUNT_MANAGER] {
        let client = app.login(email, password).await;
        let list = app.get_ok(&client, "/t/lumi/creators").await;
        assert!(list.contains(&format!("/t/lumi/creators/{id}")), "{email}");
        let page = app.get_ok(&client, &page_path).await;
        assert_eq!(
            page.contains(r#"data-testid="staff-view""#),
            email == ACCOUNT_MANAGER.0,
            "only staff get the link to the pool's page"
        );
    }
    // Staff outside the tenant's work do not.
    for (email, password) in [ADMIN, FINANCE] {
        let client = app.login(email, password).await;
        assert_eq!(
            app.status_of(&client, &page_path).await,
            StatusCode::NOT_FOUND
        );
    }
    // A seller not yet approved is sent to its dashboard.
    let pending = app
        .login("owner@dawnlight.example", "owner-demo-2026")
        .await;
    let res = pending
        .get(app.url("/t/dawnlight/creators"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/t/dawnlight/");

    // English on request.
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let expected: [(&str, &[&str], &str); 2] = [
        (
            "/t/lumi/creators",
            &[
                "Creators",
                "Not tiered",
                "Latest score",
                "Last collaboration",
                "Offered",
            ],
            "未分级",
        ),
        (
            &page_path,
            &[
                "Public profile",
                "Audience",
                "Your decision",
                "Rejected",
                "Account manager&#39;s note",
                "No collaboration yet.",
            ],
            "你的决定",
        ),
    ];
    for (path, texts, chinese) in expected {
        let res = viewer
            .get(app.url(path))
            .header("Accept-Language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let page = res.text().await.unwrap();
        assert!(page.contains(r#"<html lang="en">"#));
        for text in texts {
            assert!(page.contains(text), "{path}: {text}");
        }
        assert!(!page.contains(chinese), "{path}");
    }
}
