//! Collaborations: terms from an approved shortlist entry, discount codes and tracked links,
//! the creator's answer, amendments as versions, and isolation.

use reqwest::StatusCode;

use crate::matching::{campaign_in_matching, candidate_ids};
use crate::support::*;

/// A campaign in contracting with two approved creators; returns (campaign path, the
/// set-up-terms paths of both).
async fn approved_two(app: &TestApp) -> (String, Vec<String>) {
    let path = campaign_in_matching(app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let ids = candidate_ids(&app.get_ok(&am, &format!("{path}/matching")).await);
    app.post_form(
        &am,
        &format!("{path}/matching"),
        &[("pick", &ids[0]), ("pick", &ids[1])],
    )
    .await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shortlist = app.get_ok(&operator, &format!("{path}/shortlist")).await;
    let actions: Vec<String> = shortlist
        .match_indices(r#"<form method="post" action="/t/lumi/campaigns/"#)
        .map(|(i, _)| {
            shortlist[i + 28..]
                .chars()
                .take_while(|c| *c != '"')
                .collect::<String>()
        })
        .filter(|a| {
            a.contains("/shortlist/") && !a.ends_with("proceed") && !a.ends_with("another-round")
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for a in actions {
        if seen.insert(a.clone()) {
            let res = app
                .post_form(&operator, &a, &[("decision", "approve")])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
    }
    app.post_form(&operator, &format!("{path}/shortlist/proceed"), &[])
        .await;
    let page = app.get_ok(&am, &format!("{path}/shortlist")).await;
    let set_up: Vec<String> = page
        .match_indices("/collaborations/new?entry=")
        .map(|(i, _)| {
            let start = page[..i].rfind('"').unwrap() + 1;
            page[start..].chars().take_while(|c| *c != '"').collect()
        })
        .collect();
    assert_eq!(set_up.len(), 2);
    (path, set_up)
}

fn terms(deadline: &str, code: &str) -> Vec<(String, String)> {
    [
        ("fee_model", "fixed_plus_commission"),
        ("fixed_fee", "800"),
        ("fixed_fee_currency", "USD"),
        ("commission_rate", "10"),
        ("service_fee_rate", "12"),
        ("videos", "2"),
        ("live_sessions", "0"),
        ("publish_deadline", deadline),
        ("min_days_live", "30"),
        ("revisions_included", "2"),
        ("usage_rights", "organic_only"),
        ("paid_ads_until", ""),
        ("discount_code", code),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

fn entry_of(set_up: &str) -> String {
    set_up.rsplit('=').next().unwrap().to_string()
}

#[tokio::test]
async fn an_approved_creator_becomes_a_collaboration_with_a_discount_code_and_a_tracked_link() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: false,
    })
    .await;
    let (path, set_up) = approved_two(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let form_page = app.get_ok(&am, &set_up[0]).await;
    assert!(form_page.contains(r#"name="discount_code" value=""#));
    let create = format!("{path}/collaborations");

    // Bad terms: a message per field, nothing created.
    let mut bad = terms(&day(-3), "A!");
    bad.iter_mut()
        .find(|(k, _)| k == "commission_rate")
        .unwrap()
        .1 = "85".into();
    bad.push(("entry".into(), entry_of(&set_up[0])));
    let res = am.post(app.url(&create)).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for field in ["commission_rate", "publish_deadline", "discount_code"] {
        assert!(
            page.contains(&format!(r#"data-field="{field}""#)),
            "{field}"
        );
    }
    let lumi = app.tenant_id("lumi").await;
    let count = || async {
        let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM collaborations")
            .fetch_one(&mut *tx)
            .await
            .unwrap()
    };
    assert_eq!(count().await, 0);

    let mut good = terms(&day(30), "lumihana10");
    good.push(("entry".into(), entry_of(&set_up[0])));
    let res = am.post(app.url(&create)).form(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let collab = location(&res);
    let page = app.get_ok(&am, &collab).await;
    assert!(page.contains(r#"data-testid="discount-code">LUMIHANA10<"#));
    let link_at = page.find(r#"data-testid="tracked-link">"#).unwrap();
    let link: String = page[link_at + 26..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    let slug = link.rsplit("/r/").next().unwrap();
    assert!(sextant::contracts::domain::is_link_slug(slug), "{link}");
    assert!(page.contains("请在店铺后台创建同一个专属折扣码"));

    // The same code for the second creator is refused (unique per tenant).
    let mut dup = terms(&day(30), "LUMIHANA10");
    dup.push(("entry".into(), entry_of(&set_up[1])));
    let res = am.post(app.url(&create)).form(&dup).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("这个专属折扣码已被本卖家的其他合作使用")
    );
    assert_eq!(count().await, 1);

    // The creator accepts: the campaign starts running.
    let res = app
        .post_form(&am, &format!("{collab}/event"), &[("event", "accepted")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let campaign = app.get_ok(&am, &path).await;
    assert!(
        campaign.contains(r#"data-testid="campaign-state">执行中"#),
        "running"
    );
    // Sample steps without a sample are refused.
    let res = app
        .post_form(
            &am,
            &format!("{collab}/event"),
            &[("event", "sample_delivered")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // After acceptance a change is an amendment: it needs a reason and makes version 2.
    let mut amended = terms(&day(45), "LUMIHANA10");
    let res = am
        .post(app.url(&format!("{collab}/terms")))
        .form(&amended)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    amended.push(("reason".into(), "Creator travelling; deadline moved".into()));
    let res = am
        .post(app.url(&format!("{collab}/terms")))
        .form(&amended)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&am, &collab).await;
    assert!(page.contains("Creator travelling; deadline moved"));
    assert!(page.contains(&format!("{} → {}", day(30), day(45))));
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM contract_versions")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(versions, 2);
    drop(tx);

    // The seller reads the terms (and can print them) but records nothing.
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let page = app.get_ok(&operator, &collab).await;
    assert!(page.contains("LUMIHANA10") && !page.contains(r#"data-testid="edit-terms""#));
    assert_eq!(
        app.post_form(
            &operator,
            &format!("{collab}/event"),
            &[("event", "cancel"), ("reason", "x")]
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.status_of(&operator, &format!("{collab}/terms")).await,
        StatusCode::FORBIDDEN
    );
    // A reason with a control character is shown on the collaboration's page, nothing recorded.
    let res = app
        .post_form(
            &am,
            &format!("{collab}/event"),
            &[("event", "cancel"), ("reason", "Out\u{1b}of stock")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("data-testid=\"collaboration-heading\""),
        "{body}"
    );
    assert!(body.contains("含有不可见的控制字符"), "{body}");
    // In English too.
    let en = operator
        .get(app.url(&collab))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Create the same discount code in your shop"));

    // Another tenant: 404 on every collaboration route.
    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let theirs = collab.replace("/t/lumi/", "/t/nordpeak/");
    for p in [collab.clone(), theirs.clone(), format!("{theirs}/terms")] {
        assert_eq!(
            app.status_of(&stranger, &p).await,
            StatusCode::NOT_FOUND,
            "{p}"
        );
    }
    let res = app
        .post_form(
            &stranger,
            &format!("{theirs}/event"),
            &[("event", "cancel"), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .post_form(
            &am,
            &format!(
                "{}/collaborations/new",
                path.replace("/t/lumi/", "/t/nordpeak/")
            ),
            &[],
        )
        .await;
    assert!(
        res.status() == StatusCode::NOT_FOUND || res.status() == StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        app.status_of(
            &am,
            &format!(
                "{}?entry={}",
                set_up[1]
                    .replace("/t/lumi/", "/t/nordpeak/")
                    .split('?')
                    .next()
                    .unwrap(),
                entry_of(&set_up[1])
            )
        )
        .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn other_agreed_costs_are_a_versioned_term_checked_like_money_and_shown_on_the_page() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: false,
    })
    .await;
    let (path, set_up) = approved_two(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let form_page = app.get_ok(&am, &set_up[0]).await;
    for field in ["other_costs", "other_costs_currency", "other_costs_label"] {
        assert!(form_page.contains(&format!(r#"name="{field}""#)), "{field}");
    }
    let create = format!("{path}/collaborations");
    let with_costs = |amount: &str, label: &str| {
        let mut t = terms(&day(30), "LUMICOST10");
        t.extend(
            [
                ("other_costs", amount),
                ("other_costs_currency", "USD"),
                ("other_costs_label", label),
                ("entry", &entry_of(&set_up[0])),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        t
    };
    // A negative amount, too many decimals, or an amount without a label: refused at the field.
    for (amount, label, field) in [
        ("-50", "Translator", "other_costs"),
        ("12.345", "Translator", "other_costs"),
        ("300", "", "other_costs_label"),
    ] {
        let res = am
            .post(app.url(&create))
            .form(&with_costs(amount, label))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&format!(r#"data-field="{field}""#)),
            "{amount} {label}"
        );
    }
    let res = am
        .post(app.url(&create))
        .form(&with_costs("300", "Translator"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let collab = location(&res);
    let page = app.get_ok(&am, &collab).await;
    assert!(
        page.contains("<dt>其他约定费用</dt><dd>Translator · USD\u{a0}300.00</dd>"),
        "shown with the terms"
    );
    // After acceptance a changed amount is an amendment, kept as a version with its change.
    app.post_form(&am, &format!("{collab}/event"), &[("event", "accepted")])
        .await;
    let mut amended = with_costs("450", "Translator");
    amended.push(("reason".into(), "Second language added".into()));
    let res = am
        .post(app.url(&format!("{collab}/terms")))
        .form(&amended)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&am, &collab).await;
    assert!(page.contains("<dt>其他约定费用</dt><dd>Translator · USD\u{a0}450.00</dd>"));
    assert!(
        page.contains("Translator · USD\u{a0}300.00 → Translator · USD\u{a0}450.00"),
        "the version's change"
    );
}

#[tokio::test]
async fn the_collaborations_tab_lists_each_creator_with_its_state_terms_and_posts() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "running").await;
    let mut conn = app.owner_conn().await;
    let expected: Vec<(uuid::Uuid, String, String, i64)> = sqlx::query_as(
        "SELECT l.id, c.handle, l.state, (SELECT count(*) FROM posts p WHERE p.collaboration_id = l.id) \
         FROM collaborations l JOIN creators c ON c.id = l.creator_id \
         WHERE l.campaign_id = $1 ORDER BY c.handle",
    )
    .bind(campaign)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        !expected.is_empty(),
        "a running demo campaign has collaborations"
    );

    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let page = app
        .get_ok_in(
            &viewer,
            &format!("/t/lumi/campaigns/{campaign}/collaborations"),
            "en",
        )
        .await;
    let table = &page[page
        .find(r#"data-testid="campaign-collaborations""#)
        .expect("the list")..];
    let rows: Vec<&str> = table.split("<tr data-collaboration=").skip(1).collect();
    assert_eq!(rows.len(), expected.len());
    for (row, (id, handle, state, posts)) in rows.iter().zip(&expected) {
        assert!(
            row.starts_with(&format!("\"{id}\"")),
            "in handle order: {row}"
        );
        assert!(row.contains(&format!(
            r#"href="/t/lumi/collaborations/{id}">@{handle}</a>"#
        )));
        assert!(row.contains(&format!("state-{state}")), "{row}");
        assert!(
            row.contains(&format!(r#"<td class="num">{posts}</td>"#)),
            "{row}"
        );
        assert!(
            row.contains("USD\u{a0}"),
            "the fixed fee with its currency: {row}"
        );
    }
    // A viewer reads the tabs but has no imports tab (it cannot import).
    assert!(page.contains(r#"data-tab="collaborations" aria-current="page""#));
    assert!(!page.contains(r#"data-tab="imports""#));
}

#[tokio::test]
async fn the_collaboration_page_puts_its_actions_first_and_pages_its_orders() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    // The demo collaboration with the most attributed order lines.
    let (collab, lines): (uuid::Uuid, i64) = sqlx::query_as(
        "SELECT collaboration_id, count(*) FROM order_attributions \
         GROUP BY collaboration_id ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    assert!(
        lines > 40,
        "a collaboration with more than two pages of orders: {lines}"
    );
    let path = format!("/t/lumi/collaborations/{collab}");
    let rows = |page: &str| {
        let table = &page[page.find(r#"data-testid="orders""#).unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        table.matches("<tr><td><code>").count()
    };

    // The account manager's actions come before the terms, not after 50 order rows.
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app.get_ok_in(&am, &path, "en").await;
    let actions = page
        .find(r#"data-testid="collaboration-actions""#)
        .expect("actions");
    assert!(actions < page.find(r#"class="facts""#).unwrap());
    assert!(actions < page.find(r#"data-testid="orders""#).unwrap());
    assert_eq!(rows(&page), 20, "a page of 20 lines");
    assert!(page.contains(&format!(r#"href="{path}?orders_page=2#orders""#)));
    assert!(!page.contains(r#"rel="prev""#));

    let second = app
        .get_ok_in(&am, &format!("{path}?orders_page=2"), "en")
        .await;
    assert_eq!(rows(&second), 20);
    assert!(second.contains(&format!(r#"href="{path}?orders_page=1#orders""#)));
    let first_order = |p: &str| {
        let t = &p[p.find(r#"data-testid="orders""#).unwrap()..];
        let start = t.find("<tr><td><code>").unwrap() + "<tr><td><code>".len();
        t[start..start + t[start..].find('<').unwrap()].to_string()
    };
    assert_ne!(first_order(&page), first_order(&second), "another slice");

    // The last page holds the rest and no next link; past the end there are no rows.
    let last = (lines + 19) / 20;
    let end = app
        .get_ok_in(&am, &format!("{path}?orders_page={last}"), "en")
        .await;
    assert_eq!(rows(&end) as i64, lines - (last - 1) * 20);
    assert!(!end.contains(r#"data-testid="orders-next""#));
    // Unreadable page numbers are the first page.
    for garbage in ["abc", "-3", "0", ""] {
        let p = app
            .get_ok_in(&am, &format!("{path}?orders_page={garbage}"), "en")
            .await;
        assert_eq!(first_order(&p), first_order(&page), "{garbage}");
    }
    // A seller's viewer sees the orders, without the actions.
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let seen = app.get_ok_in(&viewer, &path, "en").await;
    assert!(!seen.contains(r#"data-testid="collaboration-actions""#));
    assert_eq!(rows(&seen), 20);
}
