//! What needs me now on the tenant's home: shortlists waiting for the seller, posts overdue,
//! imports that need attention (issue 13 item 1); ratings due, ratings waiting for my score, open
//! ratings short of raters, blacklist proposals and low-score warnings (issue 14 item 8) — each
//! with the link to where it is done, by role, and never another tenant's.

use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::consistency::fixtures::*;
use crate::support::*;

struct Seeded {
    tracking: Uuid,
    evaluating: Uuid,
    lacking: Uuid,
    both_assigned: Uuid,
    proposed_creator: Uuid,
    warned_creator: Uuid,
}

async fn set_state(conn: &mut PgConnection, collaboration: Uuid, state: &str) {
    sqlx::query("UPDATE collaborations SET state = $2 WHERE id = $1")
        .bind(collaboration)
        .bind(state)
        .execute(conn)
        .await
        .unwrap();
}

async fn seed(app: &TestApp) -> Seeded {
    let tenant = app.tenant_id("lumi").await;
    let owner = app.user_id(OWNER_LUMI.0).await;
    let operator = app.user_id(OPERATOR_LUMI.0).await;
    let mut conn = app.owner_conn().await;
    // Only the collaborations this test puts in place are due.
    sqlx::query(
        "UPDATE collaborations SET state = 'rated'
          WHERE tenant_id = $1 AND state IN ('tracking', 'evaluating')",
    )
    .bind(tenant)
    .execute(&mut conn)
    .await
    .unwrap();
    // The demo's posts would decide when windows are final: this test places its own.
    for sql in [
        "DELETE FROM post_view_days WHERE tenant_id = $1",
        "DELETE FROM metric_snapshots WHERE tenant_id = $1",
        "DELETE FROM posts WHERE tenant_id = $1",
        // Nor the demo's blacklist proposal and tiers: this test places its own.
        "DELETE FROM blacklist_entries WHERE tenant_id = $1",
        "DELETE FROM creator_tiers WHERE tenant_id = $1",
    ] {
        sqlx::query(sql)
            .bind(tenant)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let without_posts: Vec<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, creator_id, campaign_id FROM collaborations l WHERE tenant_id = $1
            AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = l.tenant_id
                                                   AND p.collaboration_id = l.id)
          ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(without_posts.len() >= 4);
    // Tracking, its one post published 10 days ago: the D14 window is final in 4 days.
    let tracking = without_posts[0];
    set_state(&mut conn, tracking.0, "tracking").await;
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, published_at)
         VALUES ($1, $2, $3, $4, now() - interval '10 days')",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(tracking.0)
    .bind(format!(
        "https://www.tiktok.com/@x/video/{}",
        tracking.0.as_u128() % 1_000_000_007
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let evaluating = without_posts[1];
    set_state(&mut conn, evaluating.0, "evaluating").await;

    let template = template(&mut conn, tenant).await;
    // An open rating with only the operator asked: short of raters; waiting for the operator.
    let lacking = without_posts[2];
    let r1 = rating(&mut conn, tenant, lacking, template, None, (None, None)).await;
    assign(&mut conn, tenant, r1, operator).await;
    // Both asked, the owner has submitted: waiting for the operator only.
    let both = without_posts[3];
    let r2 = rating(&mut conn, tenant, both, template, None, (None, None)).await;
    assign(&mut conn, tenant, r2, owner).await;
    assign(&mut conn, tenant, r2, operator).await;
    submit(
        &mut conn,
        tenant,
        r2,
        (owner, "林晓 Lin Xiao"),
        1,
        json!({"q1": 3, "q2": 3, "conv": 3}),
        "50".parse().unwrap(),
    )
    .await;

    let proposed_creator = tracking.1;
    sqlx::query(
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, proposed_by_label)
         VALUES ($1, $2, $3, 'proposed', 'Nothing posted by the deadline', 'system')",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(proposed_creator)
    .execute(&mut conn)
    .await
    .unwrap();
    let warned_creator = evaluating.1;
    sqlx::query(
        "INSERT INTO creator_tiers (tenant_id, creator_id, tier, computed_tier, score, rated_count,
             low_score_warning)
         VALUES ($1, $2, 'B', 'B', 41.50, 1, true)",
    )
    .bind(tenant)
    .bind(warned_creator)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    Seeded {
        tracking: tracking.0,
        evaluating: evaluating.0,
        lacking: lacking.0,
        both_assigned: both.0,
        proposed_creator,
        warned_creator,
    }
}

/// The `<ul>` of one section (by its data-testid), or "" when it is not on the page.
fn section<'a>(html: &'a str, testid: &str) -> &'a str {
    let marker = format!("data-testid=\"{testid}\"");
    match html.find(&marker) {
        Some(start) => {
            let end = html[start..]
                .find("</ul>")
                .map_or(html.len(), |e| start + e);
            &html[start..end]
        }
        None => "",
    }
}

#[tokio::test]
async fn the_owner_sees_every_kind_of_item_with_its_link() {
    let app = TestApp::with_demo_campaigns().await;
    let s = seed(&app).await;
    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let html = app.get_ok(&client, "/t/lumi/").await;

    let due = section(&html, "needs-due");
    assert_eq!(due.matches("data-testid=\"need-due\"").count(), 2, "{due}");
    // Evaluating: the window is final, the link opens the rating.
    assert!(due.contains(&format!(
        "href=\"/t/lumi/collaborations/{}/rating\"",
        s.evaluating
    )));
    // Tracking: the days until the window is final, the link to the collaboration.
    assert!(due.contains(&format!("href=\"/t/lumi/collaborations/{}\"", s.tracking)));
    assert!(due.contains(">4</span> 天后截止"), "{due}");

    // The owner is not asked to rate r1, and has submitted r2.
    assert!(html.contains("data-testid=\"needs-mine-empty\""));
    let lacking = section(&html, "needs-lacking");
    assert!(lacking.contains(&format!(
        "href=\"/t/lumi/collaborations/{}/rating\"",
        s.lacking
    )));
    assert!(lacking.contains("1/2"));
    assert!(!lacking.contains(&s.both_assigned.to_string()));

    let proposals = section(&html, "needs-proposals");
    assert!(proposals.contains(&format!("href=\"/t/lumi/creators/{}\"", s.proposed_creator)));
    assert!(proposals.contains("Nothing posted by the deadline"));
    let warnings = section(&html, "needs-warnings");
    assert!(warnings.contains(&format!("href=\"/t/lumi/creators/{}\"", s.warned_creator)));
    assert!(warnings.contains("data-tier=\"B\""));
    assert!(warnings.contains("41.50"));
}

#[tokio::test]
async fn a_rater_sees_what_waits_for_their_score_and_a_viewer_sees_without_being_asked() {
    let app = TestApp::with_demo_campaigns().await;
    let s = seed(&app).await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let html = app.get_ok(&operator, "/t/lumi/").await;
    let mine = section(&html, "needs-mine");
    assert_eq!(mine.matches("data-testid=\"need-mine\"").count(), 2);
    for c in [s.lacking, s.both_assigned] {
        assert!(mine.contains(&format!("href=\"/t/lumi/collaborations/{c}/rating\"")));
    }
    // Operators assign raters, so they see the short one too.
    assert!(section(&html, "needs-lacking").contains(&s.lacking.to_string()));

    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let html = app.get_ok(&viewer, "/t/lumi/").await;
    assert!(
        !html.contains("needs-mine"),
        "a viewer is not asked for a score"
    );
    assert!(!html.contains("needs-lacking"));
    assert!(section(&html, "needs-due").contains(&s.tracking.to_string()));
    assert!(section(&html, "needs-proposals").contains(&s.proposed_creator.to_string()));
    assert!(section(&html, "needs-warnings").contains(&s.warned_creator.to_string()));
}

#[tokio::test]
async fn another_tenants_home_shows_none_of_it() {
    let app = TestApp::with_demo_campaigns().await;
    let s = seed(&app).await;
    let client = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let html = app.get_ok(&client, "/t/nordpeak/").await;
    for id in [
        s.tracking,
        s.evaluating,
        s.lacking,
        s.both_assigned,
        s.proposed_creator,
        s.warned_creator,
    ] {
        assert!(!html.contains(&id.to_string()));
    }
    assert!(html.contains("data-testid=\"needs-warnings-empty\""));
    assert!(html.contains("data-testid=\"needs-lacking-empty\""));
    assert!(html.contains("data-testid=\"needs-mine-empty\""));
}

/// No collaboration of the tenant has a publishing deadline (tests then set their own).
pub async fn clear_deadlines(conn: &mut PgConnection, tenant: Uuid) {
    sqlx::query(
        "UPDATE contract_versions SET terms = terms - 'publish_deadline' WHERE tenant_id = $1",
    )
    .bind(tenant)
    .execute(conn)
    .await
    .unwrap();
}

/// The demo's shortlist waiting longest for the seller: its campaign and undecided creators.
pub async fn waiting_shortlist(conn: &mut PgConnection, tenant: Uuid) -> (Uuid, i64) {
    sqlx::query_as(
        "SELECT e.campaign_id, count(*) FROM shortlist_entries e
           JOIN campaigns c ON c.tenant_id = e.tenant_id AND c.id = e.campaign_id
          WHERE e.tenant_id = $1 AND e.decision IS NULL AND c.state = 'shortlist_sent'
          GROUP BY e.campaign_id ORDER BY min(e.sent_at) LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await
    .expect("the demo sends lumi a shortlist")
}

/// A collaboration of lumi's not yet published and without posts, its current terms' publishing
/// deadline set `days_ago` days before today in its shop's time zone (else the tenant's: the
/// zone a deadline day ends in).
pub async fn deadline_passed(conn: &mut PgConnection, tenant: Uuid, days_ago: i32) -> Uuid {
    let id: Uuid = sqlx::query_scalar(
        "SELECT l.id FROM collaborations l WHERE l.tenant_id = $1
            AND l.state IN ('accepted', 'sample_shipped', 'sample_delivered', 'in_review')
            AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = l.tenant_id
                                                   AND p.collaboration_id = l.id)
          ORDER BY l.created_at, l.id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut *conn)
    .await
    .expect("a demo collaboration before publishing");
    sqlx::query(
        "UPDATE contract_versions v
            SET terms = jsonb_set(v.terms, '{publish_deadline}',
                  to_jsonb(((now() AT TIME ZONE z.zone)::date - $3)::text))
           FROM (SELECT l.tenant_id, l.id, l.current_version,
                        coalesce(s.time_zone, t.time_zone) AS zone
                   FROM collaborations l JOIN tenants t ON t.id = l.tenant_id
                   JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id
                   LEFT JOIN shops s ON s.tenant_id = c.tenant_id AND s.id = c.shop_id
                  WHERE l.tenant_id = $1 AND l.id = $2) z
          WHERE v.tenant_id = z.tenant_id AND v.collaboration_id = z.id
            AND v.version = z.current_version",
    )
    .bind(tenant)
    .bind(id)
    .bind(days_ago)
    .execute(&mut *conn)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn the_seller_sees_shortlists_to_decide_overdue_posts_and_imports_that_need_them() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let mut conn = app.owner_conn().await;
    // Only what this test puts in place is overdue.
    clear_deadlines(&mut conn, tenant).await;
    let overdue = deadline_passed(&mut conn, tenant, 3).await;
    let (campaign, waiting) = waiting_shortlist(&mut conn, tenant).await;
    let validated: Uuid = sqlx::query_scalar(
        "UPDATE order_imports SET state = 'validated'
          WHERE (tenant_id, id) = (SELECT tenant_id, id FROM order_imports
                                    WHERE tenant_id = $1 AND state = 'imported'
                                    ORDER BY created_at LIMIT 1)
          RETURNING id",
    )
    .bind(tenant)
    .fetch_one(&mut conn)
    .await
    .expect("the demo imports lumi's orders");
    let unattributed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders_current WHERE tenant_id = $1 AND collaboration_id IS NULL",
    )
    .bind(tenant)
    .fetch_one(&mut conn)
    .await
    .unwrap();

    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let html = app.get_ok(&client, "/t/lumi/").await;

    let shortlists = section(&html, "needs-shortlists");
    assert_eq!(
        shortlists.matches("data-testid=\"need-shortlist\"").count(),
        1,
        "{shortlists}"
    );
    let link = format!("/t/lumi/campaigns/{campaign}/shortlist");
    assert!(
        shortlists.contains(&format!("href=\"{link}\"")),
        "{shortlists}"
    );
    assert!(
        shortlists.contains(&format!(
            "待决定 <span class=\"num\">{waiting}</span> 位达人"
        )),
        "{shortlists}"
    );
    // The link leads to the shortlist the seller decides on.
    let page = app.get_ok(&client, &link).await;
    assert!(page.contains("推荐名单"), "{page}");

    let posts = section(&html, "needs-overdue");
    assert_eq!(
        posts.matches("data-testid=\"need-overdue\"").count(),
        1,
        "{posts}"
    );
    let link = format!("/t/lumi/collaborations/{overdue}");
    assert!(posts.contains(&format!("href=\"{link}\"")), "{posts}");
    assert!(
        posts.contains("已逾期 <span class=\"num\">3</span> 天"),
        "{posts}"
    );
    app.get_ok(&client, &link).await;

    let imports = section(&html, "needs-imports");
    let link = format!("/t/lumi/orders/imports/{validated}");
    assert!(imports.contains(&format!("href=\"{link}\"")), "{imports}");
    assert!(imports.contains("已校验——请确认导入或取消"), "{imports}");
    app.get_ok(&client, &link).await;
    if unattributed > 0 {
        assert!(
            imports.contains(&format!(
                "href=\"/t/lumi/orders/unattributed\"><span class=\"num\">{unattributed}</span>"
            )),
            "{imports}"
        );
    } else {
        assert!(!imports.contains("need-unattributed"));
    }

    // In English too.
    let html = app.get_ok_in(&client, "/t/lumi/", "en").await;
    assert!(html.contains("Shortlists waiting for your decision"));
    assert!(section(&html, "needs-overdue").contains("Overdue by <span class=\"num\">3</span>"));

    // Another tenant's home shows none of it.
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let html = app.get_ok(&other, "/t/nordpeak/").await;
    for id in [campaign, overdue, validated] {
        assert!(!html.contains(&id.to_string()));
    }
}

#[tokio::test]
async fn a_post_is_overdue_only_after_its_deadline_day_and_only_until_something_is_published() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let mut conn = app.owner_conn().await;
    clear_deadlines(&mut conn, tenant).await;
    // Due today (in the tenant's time zone): not overdue yet.
    let due_today = deadline_passed(&mut conn, tenant, 0).await;
    let client = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let html = app.get_ok(&client, "/t/lumi/").await;
    assert!(
        html.contains("data-testid=\"needs-overdue-empty\""),
        "{html}"
    );
    // A day later it is.
    deadline_passed(&mut conn, tenant, 1).await;
    let html = app.get_ok(&client, "/t/lumi/").await;
    let posts = section(&html, "needs-overdue");
    assert!(posts.contains(&due_today.to_string()), "{posts}");
    assert!(
        posts.contains("已逾期 <span class=\"num\">1</span> 天"),
        "{posts}"
    );
    // Once a post is in, it leaves the list.
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, published_at)
         VALUES ($1, $2, $3, 'https://www.tiktok.com/@x/video/7', now())",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(due_today)
    .execute(&mut conn)
    .await
    .unwrap();
    let html = app.get_ok(&client, "/t/lumi/").await;
    assert!(
        html.contains("data-testid=\"needs-overdue-empty\""),
        "{html}"
    );
}

/// The text of the `n`-th (0-based) element opening with `open` after `from` in `html`.
fn nth_text(html: &str, from: usize, open: &str, n: usize) -> String {
    let mut at = from;
    for _ in 0..=n {
        at += html[at..].find(open).expect(open) + open.len();
    }
    let start = at + html[at..].find('>').unwrap() + 1;
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn running_campaigns_show_roi_against_target_as_their_overview_does() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id("lumi").await;
    let mut conn = app.owner_conn().await;
    let running: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM campaigns WHERE tenant_id = $1 AND state = 'running' ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(!running.is_empty(), "the demo runs a campaign for lumi");
    let client = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let home = app.get_ok(&client, "/t/lumi/").await;
    let table = section(&home, "running-campaigns");
    assert_eq!(
        table.matches("data-testid=\"running-campaign\"").count(),
        running.len(),
        "{table}"
    );
    for (id,) in running {
        let link = format!("/t/lumi/campaigns/{id}/dashboard");
        let at = table
            .find(&format!("href=\"{link}\""))
            .unwrap_or_else(|| panic!("{link} in {table}"));
        let row = &table[table[..at].rfind("<tr").unwrap()..];
        // ROI, its target and the GMV, exactly as the overview's big numbers show them.
        let (roi, target, gmv) = (
            nth_text(row, 0, "<td class=\"num\"", 0),
            nth_text(row, 0, "<td class=\"num\"", 1),
            nth_text(row, 0, "<td class=\"num\"", 2),
        );
        let overview = app.get_ok(&client, &link).await;
        let big = overview.find("data-testid=\"headlines\"").unwrap();
        assert_eq!(gmv, nth_text(&overview, big, "stat-value num", 0));
        assert_eq!(roi, nth_text(&overview, big, "stat-value num", 1));
        // The ROI box (the second big number) says the same target.
        let boxes: Vec<&str> = overview[big..]
            .split("<div class=\"stat headline")
            .collect();
        let roi_box = &boxes[2][..boxes[2].find("</div>").unwrap()];
        assert!(
            roi_box.contains(&format!(": {target}</span>")),
            "{target} vs {roi_box}"
        );
    }
    // Another tenant's home lists none of lumi's.
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let html = app.get_ok(&other, "/t/nordpeak/").await;
    assert!(!html.contains("/t/lumi/campaigns/"));
}
