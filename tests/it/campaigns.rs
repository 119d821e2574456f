//! Intake: the campaign request form (draft or submit), the state table, and isolation.

use reqwest::StatusCode;

use crate::support::*;

async fn lumi_shop(app: &TestApp) -> String {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    sextant::tenants::repo::shops(&mut tx, lumi).await.unwrap()[0]
        .id
        .to_string()
}

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

fn valid(shop: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let pairs: Vec<(&str, &str)> = vec![
        ("title", "Q1 air fryer launch"),
        ("product_name", "Lumi Air Fryer 5L"),
        ("sku", "LUMI-AF-5L"),
        ("product_url", "https://shop.lumi-home.invalid/us/air-fryer"),
        ("category", "home_kitchen"),
        ("unit_price", "89.99"),
        ("unit_currency", "USD"),
        ("shop_id", shop),
        ("markets", "US"),
        ("markets", "GB"),
        ("languages", "en"),
        ("format", "short_video"),
        ("creators_wanted", "5"),
        ("followers_min", "10K"),
        ("followers_max", "500K"),
        ("budget_min", "2000"),
        ("budget_max", "8000"),
        ("budget_currency", "USD"),
        ("fee_cap", "1200"),
        ("fee_cap_currency", "USD"),
        ("commission_rate", "12"),
        ("age_buckets", "25-34"),
        ("age_buckets", "35-44"),
        ("gender", "female"),
        ("interests", "home_kitchen"),
        ("styles", "real_shot"),
        ("script_source", "agency"),
        ("publish_from", from),
        ("publish_to", to),
        ("ship_from", "Shenzhen"),
        ("roi_target", "2"),
        (
            "known_pitfalls",
            "Creators who never showed the basket size.",
        ),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn with(base: &[(String, String)], changes: &[(&str, &str)]) -> Vec<(String, String)> {
    base.iter()
        .map(|(k, v)| {
            let v = changes
                .iter()
                .find(|(ck, _)| ck == k)
                .map(|(_, cv)| cv.to_string())
                .unwrap_or_else(|| v.clone());
            (k.clone(), v)
        })
        .collect()
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(String, String)],
    action: &str,
) -> reqwest::Response {
    let mut form = form.to_vec();
    form.push(("action".into(), action.into()));
    client.post(app.url(path)).form(&form).send().await.unwrap()
}

async fn campaign_count(app: &TestApp) -> i64 {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

async fn state_of(app: &TestApp, id: &str) -> String {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_draft_is_saved_half_filled_and_submitting_it_needs_every_required_field() {
    let app = TestApp::with_demo().await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let form = vec![("title".to_string(), "Spring idea".to_string())];
    let res = post(&app, &operator, "/t/lumi/campaigns", &form, "draft").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page_path = location(&res);
    let id = page_path.rsplit('/').next().unwrap().to_string();
    assert_eq!(state_of(&app, &id).await, "draft");

    let res = post(&app, &operator, &page_path, &form, "submit").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for field in [
        "product_name",
        "sku",
        "product_url",
        "markets",
        "languages",
        "roi_target",
        "publish_from",
    ] {
        assert!(
            page.contains(&format!(r#"data-field="{field}""#)),
            "{field} has a message"
        );
    }
    assert!(page.contains("提交前请设定大于 0 的 ROI 目标") || page.contains("提交前请填写此项。"));
    assert_eq!(state_of(&app, &id).await, "draft");
}

#[tokio::test]
async fn submitting_a_complete_request_assigns_a_code_and_records_who_and_when() {
    let app = TestApp::with_demo().await;
    let shop = lumi_shop(&app).await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let res = post(
        &app,
        &operator,
        "/t/lumi/campaigns",
        &valid(&shop, &day(10), &day(40)),
        "submit",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = location(&res);
    let page = app.get_ok(&operator, &path).await;
    let today = time::OffsetDateTime::now_utc().date();
    let code = format!(
        "LUMI-{:02}{:02}-01",
        today.year() % 100,
        u8::from(today.month())
    );
    assert!(page.contains(&code), "code {code} in:\n{page}");
    assert!(page.contains("已提交") && page.contains(OPERATOR_LUMI.0));
    // A second request in the month takes the next number.
    let res = post(
        &app,
        &operator,
        "/t/lumi/campaigns",
        &valid(&shop, &day(10), &day(40)),
        "submit",
    )
    .await;
    let page = app.get_ok(&operator, &location(&res)).await;
    assert!(page.contains(&code.replace("-01", "-02")));
}

#[tokio::test]
async fn bad_input_gets_a_message_per_field_and_nothing_is_saved() {
    let app = TestApp::with_demo().await;
    let shop = lumi_shop(&app).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let before = campaign_count(&app).await;
    let base = valid(&shop, &day(10), &day(40));
    for (changes, field, action) in [
        (vec![("followers_min", "600K")], "followers_min", "submit"),
        (vec![("budget_min", "9000")], "budget_min", "submit"),
        (
            vec![("publish_from", &*day(-5)), ("publish_to", &*day(-1))],
            "publish_from",
            "submit",
        ),
        (vec![("unit_currency", "ZZZ")], "unit_currency", "draft"),
        (vec![("commission_rate", "90")], "commission_rate", "submit"),
        (
            vec![
                ("budget_currency", "JPY"),
                ("fee_cap_currency", "JPY"),
                ("budget_min", "200000"),
                ("budget_max", "800000"),
                ("fee_cap", "100000"),
            ],
            "budget_currency",
            "submit",
        ),
        (vec![("product_url", "not a url")], "product_url", "draft"),
        (
            vec![("shop_id", "0191f3a0-0000-7000-8000-000000000000")],
            "shop_id",
            "draft",
        ),
        (vec![("roi_target", "0")], "roi_target", "submit"),
    ] {
        let form = with(&base, &changes);
        let res = post(&app, &owner, "/t/lumi/campaigns", &form, action).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{changes:?}"
        );
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&format!(r#"data-field="{field}""#)),
            "{field}: {changes:?}"
        );
    }
    assert_eq!(campaign_count(&app).await, before, "nothing saved");
}

#[tokio::test]
async fn the_state_table_is_enforced_and_every_move_is_recorded() {
    let app = TestApp::with_demo().await;
    let shop = lumi_shop(&app).await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let res = post(
        &app,
        &operator,
        "/t/lumi/campaigns",
        &valid(&shop, &day(10), &day(40)),
        "submit",
    )
    .await;
    let path = location(&res);
    let id = path.rsplit('/').next().unwrap().to_string();
    let move_to = |client: reqwest::Client, t: &'static str, reason: &'static str| {
        let app = &app;
        let path = path.clone();
        async move {
            app.post_form(
                &client,
                &format!("{path}/transition"),
                &[("transition", t), ("reason", reason)],
            )
            .await
        }
    };

    // Only the account manager starts matching.
    let res = move_to(operator.clone(), "start_matching", "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("您的角色不能执行此操作"));
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    assert_eq!(
        move_to(am.clone(), "start_matching", "").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(state_of(&app, &id).await, "matching");
    // Not again from matching.
    assert_eq!(
        move_to(am.clone(), "start_matching", "").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Moves with their own pages are not taken here.
    assert_eq!(
        move_to(am.clone(), "send_shortlist", "").await.status(),
        StatusCode::FORBIDDEN
    );

    // Cancelling needs the owner (or the AM) and a reason.
    assert_eq!(
        move_to(operator.clone(), "cancel", "changed plans")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = move_to(owner.clone(), "cancel", "  ").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("取消需求时请填写原因。"));
    // A reason with a control character is shown on the campaign's page, beside its moves.
    let res = move_to(owner.clone(), "cancel", "Product\u{0}delayed").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("data-testid=\"campaign-heading\""), "{body}");
    assert!(body.contains("含有不可见的控制字符"), "{body}");
    assert_ne!(state_of(&app, &id).await, "cancelled");
    assert_eq!(
        move_to(owner.clone(), "cancel", "Product delayed")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(state_of(&app, &id).await, "cancelled");
    assert_eq!(
        move_to(am.clone(), "start_matching", "").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let moves: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT from_state, to_state, actor_label, reason FROM campaign_transitions WHERE campaign_id = $1::uuid ORDER BY at",
    )
    .bind(&id)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert_eq!(
        moves,
        vec![
            (
                "draft".into(),
                "submitted".into(),
                OPERATOR_LUMI.0.into(),
                None
            ),
            (
                "submitted".into(),
                "matching".into(),
                ACCOUNT_MANAGER.0.into(),
                None
            ),
            (
                "matching".into(),
                "cancelled".into(),
                OWNER_LUMI.0.into(),
                Some("Product delayed".into())
            ),
        ]
    );
}

#[tokio::test]
async fn another_tenant_gets_404_on_every_campaign_route_and_viewers_only_read() {
    let app = TestApp::with_demo().await;
    let shop = lumi_shop(&app).await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let res = post(
        &app,
        &operator,
        "/t/lumi/campaigns",
        &valid(&shop, &day(10), &day(40)),
        "draft",
    )
    .await;
    let path = location(&res);
    let id = path.rsplit('/').next().unwrap().to_string();

    // Every tab of the campaign opens already for a draft (tabs in every state, not buttons
    // that depend on it), each page with the strip and its own tab marked.
    let page = app.get_ok(&operator, &path).await;
    let strip = &page[page
        .find(r#"data-testid="campaign-tabs""#)
        .expect("the tabs")..];
    let strip = &strip[..strip.find("</nav>").unwrap()];
    let tabs: Vec<String> = strip
        .split(r#"href=""#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect();
    assert_eq!(
        tabs,
        [
            "/dashboard",
            "",
            "/shortlist",
            "/collaborations",
            "/snapshots/import",
            "/report"
        ]
        .map(|tail| format!("{path}{tail}")),
        "an operator's tabs"
    );
    for tab in &tabs {
        let body = app.get_ok(&operator, tab).await;
        assert!(
            body.contains(&format!(r#"href="{tab}" data-tab="#))
                && body.contains(r#"aria-current="page">"#),
            "{tab} shows the tabs"
        );
    }
    let collaborations = app
        .get_ok(&operator, &format!("{path}/collaborations"))
        .await;
    assert!(collaborations.contains(r#"data-testid="empty-state""#));

    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for p in [
        path.clone(),
        format!("{path}/edit"),
        format!("{path}/collaborations"),
        format!("{path}/report"),
        format!("/t/nordpeak/campaigns/{id}"),
        format!("/t/nordpeak/campaigns/{id}/edit"),
        format!("/t/nordpeak/campaigns/{id}/collaborations"),
        format!(
            "/t/nordpeak/campaigns/{}/collaborations",
            uuid::Uuid::now_v7()
        ),
    ] {
        assert_eq!(
            app.status_of(&stranger, &p).await,
            StatusCode::NOT_FOUND,
            "{p}"
        );
    }
    let res = app
        .post_form(
            &stranger,
            &format!("/t/nordpeak/campaigns/{id}/transition"),
            &[("transition", "cancel"), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = post(
        &app,
        &stranger,
        &format!("/t/nordpeak/campaigns/{id}"),
        &valid(&shop, &day(10), &day(40)),
        "draft",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Lumi's shop is unknown to Nordpeak's form.
    let res = post(
        &app,
        &stranger,
        "/t/nordpeak/campaigns",
        &valid(&shop, &day(10), &day(40)),
        "draft",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    assert_eq!(app.status_of(&viewer, &path).await, StatusCode::OK);
    assert_eq!(
        app.status_of(&viewer, "/t/lumi/campaigns/new").await,
        StatusCode::FORBIDDEN
    );
    let res = post(
        &app,
        &viewer,
        "/t/lumi/campaigns",
        &valid(&shop, &day(10), &day(40)),
        "draft",
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_demo_has_campaigns_in_every_state_for_each_working_tenant_and_reseeding_does_not_duplicate()
 {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize::FULL).await;
    sextant::seed::seed_demo_with(&app.db, &app.state.passwords, sextant::seed::DemoSize::FULL)
        .await
        .unwrap();
    for slug in ["lumi", "nordpeak"] {
        let id = app.tenant_id(slug).await;
        let mut tx = app.db.tenant_tx(id, None).await.unwrap();
        // The demo's own campaigns (drafts have no code yet); the rating history's past
        // campaigns (`-PAST-`) come on top.
        let states: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, count(*) FROM campaigns WHERE code IS NULL OR code LIKE '%-DEMO-%' \
              GROUP BY state ORDER BY state",
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        assert_eq!(states.len(), 9, "{slug}: {states:?}");
        assert!(
            states.iter().all(|(_, n)| *n == 1),
            "{slug}: one each, no duplicates: {states:?}"
        );
        let approved: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM shortlist_entries WHERE decision = 'approved'",
        )
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        let collaborations: i64 = sqlx::query_scalar("SELECT count(*) FROM collaborations")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert!(
            approved >= 8 && collaborations >= 8,
            "{slug}: {approved} approved, {collaborations} collaborations"
        );
    }
    // The demo pages open with that data.
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let list = app.get_ok(&owner, "/t/lumi/campaigns").await;
    assert!(list.contains("LUMI-DEMO-05") && list.contains("签约中"));
    let creators: i64 = sqlx::query_scalar("SELECT count(*) FROM creators")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(creators, 2000);
    let (min, max): (i64, i64) =
        sqlx::query_as("SELECT min(followers), max(followers) FROM creators")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(
        min >= 5_000 && max <= 5_000_000 && max > 1_000_000,
        "log-normal spread {min}..{max}"
    );
    let bad_urls: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM creators WHERE profile_url NOT LIKE 'https://%.invalid/%'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(bad_urls, 0, "demo URLs never leave the machine");
}

#[tokio::test]
async fn the_campaign_list_ignores_filters_and_sorts_it_does_not_know_and_pages_stay_in_range() {
    let app = TestApp::with_demo_campaigns().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let rows = |page: &str| page.matches("<tr data-id=").count();
    let everything = rows(&app.get_ok_in(&owner, "/t/lumi/campaigns", "en").await);
    assert!(everything > 1);
    for garbage in [
        "?status=exploded&market=XX&period=forever",
        "?sort=%27%3Bdrop&dir=up&page=-4",
        "?page=999999",
        "?status=&market=&period=&sort=&dir=&page=",
    ] {
        let page = app
            .get_ok_in(&owner, &format!("/t/lumi/campaigns{garbage}"), "en")
            .await;
        assert_eq!(rows(&page), everything, "{garbage}");
    }
    // A known filter narrows; one that matches nothing says so and offers to clear.
    let running = app
        .get_ok_in(&owner, "/t/lumi/campaigns?status=running", "en")
        .await;
    assert!(rows(&running) >= 1 && rows(&running) < everything);
    let none = app
        .get_ok_in(&owner, "/t/lumi/campaigns?market=JP&status=draft", "en")
        .await;
    assert_eq!(rows(&none), 0);
    assert!(none.contains(r#"data-testid="no-match""#));
    // Another tenant's list holds none of Lumi's campaigns.
    let nordpeak = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let theirs = app
        .get_ok_in(&nordpeak, "/t/nordpeak/campaigns", "en")
        .await;
    assert!(!theirs.contains("LUMI-"), "only Nordpeak's campaigns");
}

#[tokio::test]
async fn the_request_form_pairs_ranges_puts_currencies_beside_amounts_and_links_each_error() {
    let app = TestApp::with_demo().await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let settlement: String =
        sqlx::query_scalar("SELECT settlement_currency::text FROM tenants WHERE id = $1")
            .bind(lumi)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    drop(tx);
    let form = app
        .get_ok_in(&operator, "/t/lumi/campaigns/new", "en")
        .await;
    // Each currency starts at the seller's settlement currency.
    for select in ["unit_currency", "budget_currency", "fee_cap_currency"] {
        let at = &form[form.find(&format!(r#"<select id="{select}""#)).unwrap()..];
        let at = &at[..at.find("</select>").unwrap()];
        assert!(
            at.contains(&format!(r#"value="{settlement}" selected"#)),
            "{select} defaults to {settlement}"
        );
    }
    // Ranges side by side, amounts with their currency; no example that reads like a value.
    let pair_of = |first: &str| {
        let i = form.find(&format!(r#"id="{first}""#)).unwrap();
        form[..i].rfind(r#"<div class="pair"#).unwrap()
    };
    assert_eq!(pair_of("followers_min"), pair_of("followers_max"));
    assert_eq!(pair_of("budget_min"), pair_of("budget_currency"));
    assert_eq!(pair_of("unit_price"), pair_of("unit_currency"));
    assert!(!form.contains(r#"placeholder="10K""#) && !form.contains(r#"placeholder="2""#));

    // Submitting with mistakes: the summary at the top lists each failing field and links it.
    let res = app
        .post_form(
            &operator,
            "/t/lumi/campaigns",
            &[
                ("title", ""),
                ("followers_min", "lots"),
                ("budget_min", "-5"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    let summary = &page[page.find(r#"data-testid="form-summary""#).unwrap()..];
    let summary = &summary[..summary.find("</div>").unwrap()];
    for field in ["followers_min", "budget_min"] {
        assert!(
            summary.contains(&format!(r##"href="#{field}""##)),
            "{field} in the summary: {summary}"
        );
        assert!(
            page.contains(&format!(r#"id="{field}""#)),
            "the link's target exists"
        );
    }
}
