//! Matching weights (a platform setting) and the ranked candidates for a campaign.

use reqwest::StatusCode;

use crate::support::*;

async fn weights(app: &TestApp) -> sextant::matching::domain::Weights {
    let mut conn = app.db.pool().acquire().await.unwrap();
    sextant::matching::repo::current_weights(&mut conn)
        .await
        .unwrap()
}

fn form(values: [&'static str; 6]) -> Vec<(&'static str, &'static str)> {
    [
        "audience",
        "engagement",
        "category",
        "style",
        "price",
        "track_record",
    ]
    .into_iter()
    .zip(values)
    .collect()
}

#[tokio::test]
async fn an_admin_changes_the_matching_weights_and_bad_weights_are_refused() {
    let app = TestApp::with_demo().await;
    assert_eq!(
        weights(&app).await,
        sextant::matching::domain::Weights::default()
    );
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let page = app.get_ok(&admin, "/admin/matching-weights").await;
    assert!(page.contains(r#"value="30""#));

    for (values, message) in [
        (
            ["30", "20", "15", "10", "10", "5"],
            "六项权重合计必须等于 100。",
        ),
        (
            ["-10", "40", "15", "10", "10", "35"],
            "请输入不小于 0 的数字。",
        ),
        (
            ["abc", "20", "15", "10", "10", "15"],
            "请输入不小于 0 的数字。",
        ),
    ] {
        let res = app
            .post_form(&admin, "/admin/matching-weights", &form(values))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(
        weights(&app).await,
        sextant::matching::domain::Weights::default()
    );

    let res = app
        .post_form(
            &admin,
            "/admin/matching-weights",
            &form(["40", "20", "10", "10", "5", "15"]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let w = weights(&app).await;
    assert_eq!((w.audience, w.price), (40.0, 5.0));
    let audit = app.audit_of("matching_weights").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1.as_ref().unwrap()["audience"], 30.0);
    assert_eq!(audit[0].2.as_ref().unwrap()["audience"], 40.0);

    for (email, password) in [ACCOUNT_MANAGER, FINANCE, OWNER_LUMI] {
        let client = app.login(email, password).await;
        assert_eq!(
            app.status_of(&client, "/admin/matching-weights").await,
            StatusCode::FORBIDDEN
        );
        let res = app
            .post_form(
                &client,
                "/admin/matching-weights",
                &form(["40", "20", "10", "10", "5", "15"]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

/// A submitted Lumi campaign (US + GB, 10K–500K followers, English, fee cap USD 1,500), moved
/// to matching by the account manager. Returns its path.
pub(crate) async fn campaign_in_matching(app: &TestApp) -> String {
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let shop = sextant::tenants::repo::shops(&mut tx, lumi).await.unwrap()[0]
        .id
        .to_string();
    drop(tx);
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let (from, to) = (day(10), day(40));
    let form: Vec<(&str, &str)> = vec![
        ("title", "Air fryer launch"),
        ("product_name", "Lumi Air Fryer 5L"),
        ("sku", "LUMI-AF-5L"),
        ("product_url", "https://shop.lumi-home.invalid/us/air-fryer"),
        ("category", "home_kitchen"),
        ("unit_price", "89.99"),
        ("unit_currency", "USD"),
        ("shop_id", &shop),
        ("markets", "US"),
        ("markets", "GB"),
        ("languages", "en"),
        ("format", "short_video"),
        ("creators_wanted", "5"),
        ("followers_min", "10K"),
        ("followers_max", "500K"),
        ("budget_min", "2000"),
        ("budget_max", "9000"),
        ("budget_currency", "USD"),
        ("fee_cap", "1500"),
        ("fee_cap_currency", "USD"),
        ("commission_rate", "10"),
        ("age_buckets", "25-34"),
        ("interests", "home_decor"),
        ("styles", "real_shot"),
        ("script_source", "agency"),
        ("publish_from", &from),
        ("publish_to", &to),
        ("roi_target", "2"),
        ("action", "submit"),
    ];
    let res = app.post_form(&operator, "/t/lumi/campaigns", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = location(&res);
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let res = app
        .post_form(
            &am,
            &format!("{path}/transition"),
            &[("transition", "start_matching")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    path
}

pub(crate) fn candidate_ids(page: &str) -> Vec<String> {
    page.match_indices(r#"name="pick" value=""#)
        .map(|(i, m)| page[i + m.len()..i + m.len() + 36].to_string())
        .collect()
}

pub(crate) fn entry_forms(page: &str, handle_attr: &str) -> String {
    // The action of the approve/reject forms inside one creator's card.
    let card = page
        .find(&format!(r#"data-creator="{handle_attr}""#))
        .expect("card");
    let rest = &page[card..];
    let start = rest.find(r#"action="/t/"#).expect("decide form") + r#"action=""#.len();
    rest[start..].chars().take_while(|c| *c != '"').collect()
}

#[tokio::test]
async fn the_account_manager_sends_a_ranked_shortlist_and_the_seller_decides_on_it() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 400,
        campaigns: false,
    })
    .await;
    let path = campaign_in_matching(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app.get_ok(&am, &format!("{path}/matching")).await;
    let ids = candidate_ids(&page);
    assert!(ids.len() >= 4, "candidates ranked: {}", ids.len());
    assert!(
        page.contains("受众匹配") && page.contains("参考汇率"),
        "breakdown and reference-rate label"
    );

    // Nothing picked: refused with a message.
    let res = app.post_form(&am, &format!("{path}/matching"), &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let note0 = format!("note-{}", ids[0]);
    let res = app
        .post_form(
            &am,
            &format!("{path}/matching"),
            &[
                ("pick", &ids[0]),
                (&note0, "Kitchen demos convert well"),
                ("pick", &ids[1]),
                ("pick", &ids[2]),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shortlist = app.get_ok(&operator, &format!("{path}/shortlist")).await;
    assert_eq!(shortlist.matches("creator-card").count(), 3);
    assert!(shortlist.contains("Kitchen demos convert well"));
    let handles: Vec<String> = shortlist
        .match_indices(r#"data-creator=""#)
        .map(|(i, m)| {
            shortlist[i + m.len()..]
                .chars()
                .take_while(|c| *c != '"')
                .collect()
        })
        .collect();
    let approve = |h: &str| entry_forms(&shortlist, h);
    for h in &handles[..2] {
        let res = app
            .post_form(&operator, &approve(h), &[("decision", "approve")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // A rejection needs a reason.
    let res = app
        .post_form(
            &operator,
            &approve(&handles[2]),
            &[("decision", "reject"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &operator,
            &approve(&handles[2]),
            &[("decision", "reject"), ("reason", "Audience too young")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Decided once: a second decision is refused.
    let res = app
        .post_form(&operator, &approve(&handles[2]), &[("decision", "approve")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Another round: the three offered creators never come back.
    let res = app
        .post_form(&operator, &format!("{path}/shortlist/another-round"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&am, &format!("{path}/matching")).await;
    let again = candidate_ids(&page);
    for offered in &ids[..3] {
        assert!(
            !again.contains(offered),
            "an offered creator is not proposed again"
        );
    }
    let res = app
        .post_form(&am, &format!("{path}/matching"), &[("pick", &again[0])])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .post_form(&operator, &format!("{path}/shortlist/proceed"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&operator, &path).await;
    assert!(
        page.contains(r#"data-testid="campaign-state">签约中"#),
        "contracting"
    );

    // The frozen score survives a change of weights.
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let scores: Vec<rust_decimal::Decimal> =
        sqlx::query_scalar("SELECT score FROM shortlist_entries ORDER BY sent_at, score")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    drop(tx);
    assert_eq!(scores.len(), 4);
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    app.post_form(
        &admin,
        "/admin/matching-weights",
        &form(["10", "10", "10", "10", "10", "50"]),
    )
    .await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let after: Vec<rust_decimal::Decimal> =
        sqlx::query_scalar("SELECT score FROM shortlist_entries ORDER BY sent_at, score")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert_eq!(scores, after);
}

#[tokio::test]
async fn the_fast_path_agrees_with_the_reference_score() {
    use sextant::matching::{domain, pool, repo};
    let cache = pool::PoolCache::default();
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 600,
        campaigns: false,
    })
    .await;
    let lumi = app.tenant_id("lumi").await;
    let mut conn = app.db.tenant_tx(lumi, None).await.unwrap();
    let rates = repo::ReferenceRates::load(&mut conn).await.unwrap();
    let all = repo::all_facts(&mut conn, lumi).await.unwrap();
    drop(conn);
    let weights = domain::Weights::default();
    let asks = [
        (
            vec!["US", "GB"],
            10_000,
            500_000,
            Some(("1200", "USD")),
            vec!["en"],
        ),
        (
            vec!["DE"],
            5_000,
            5_000_000,
            Some(("800", "EUR")),
            vec!["de", "en"],
        ),
        (
            vec!["ID", "TH", "VN", "MY", "PH"],
            50_000,
            2_000_000,
            None,
            vec![],
        ),
        (
            vec!["GB"],
            100_000,
            300_000,
            Some(("300", "GBP")),
            vec!["en"],
        ),
    ];
    for (markets, min, max, cap, languages) in asks {
        let ask = domain::CampaignAsk {
            markets: markets.iter().map(|m| m.to_string()).collect(),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            format: domain::Format::ShortVideo,
            followers_min: min,
            followers_max: max,
            fee_cap: cap.map(|(a, c)| (a.parse().unwrap(), c.to_string())),
            categories: vec!["home_kitchen".into(), "beauty".into()],
            styles: vec!["real_shot".into()],
            age_buckets: vec![domain::AgeBucket::A25_34],
            gender: Some(domain::Gender::Female),
        };
        let reference = domain::rank(&all, &ask, &weights, &rates, 100);
        let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
        let pool = repo::candidates(&mut tx, lumi, uuid::Uuid::now_v7(), &ask)
            .await
            .unwrap();
        drop(tx);
        let fast = domain::rank(&pool, &ask, &weights, &rates, 100);
        assert!(!reference.is_empty(), "the ask {markets:?} finds someone");
        assert_eq!(
            fast, reference,
            "fast path and reference disagree for {markets:?}"
        );
        // The in-memory ranker the page uses (approximate pass, then the reference on the few
        // who could make the cut), at a limit small enough that the cut really happens.
        for limit in [1, 5, 100] {
            let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
            let ranked = pool::rank(
                &cache,
                &app.db,
                &mut tx,
                lumi,
                uuid::Uuid::now_v7(),
                &ask,
                &weights,
                &rates,
                limit,
            )
            .await
            .unwrap()
            .0;
            drop(tx);
            let reference = domain::rank(&all, &ask, &weights, &rates, limit);
            assert_eq!(
                ranked, reference,
                "in-memory ranker disagrees for {markets:?} at {limit}"
            );
        }
    }
}

#[tokio::test]
async fn shortlists_are_the_tenants_own_and_each_side_has_its_own_actions() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: false,
    })
    .await;
    let path = campaign_in_matching(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app.get_ok(&am, &format!("{path}/matching")).await;
    let ids = candidate_ids(&page);
    app.post_form(&am, &format!("{path}/matching"), &[("pick", &ids[0])])
        .await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shortlist = app.get_ok(&operator, &format!("{path}/shortlist")).await;
    let handle: String = shortlist[shortlist.find(r#"data-creator=""#).unwrap() + 14..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let decide = entry_forms(&shortlist, &handle);

    // Sellers do not open the matching page; viewers do not decide.
    assert_eq!(
        app.status_of(&operator, &format!("{path}/matching")).await,
        StatusCode::FORBIDDEN
    );
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    assert_eq!(
        app.post_form(&viewer, &decide, &[("decision", "approve")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Another tenant: 404 everywhere, with Lumi's ids under its own slug too.
    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let theirs = path.replace("/t/lumi/", "/t/nordpeak/");
    for p in [format!("{path}/shortlist"), format!("{theirs}/shortlist")] {
        assert_eq!(
            app.status_of(&stranger, &p).await,
            StatusCode::NOT_FOUND,
            "{p}"
        );
    }
    let their_decide = decide.replace("/t/lumi/", "/t/nordpeak/");
    for p in [
        decide.clone(),
        their_decide,
        format!("{theirs}/shortlist/another-round"),
        format!("{theirs}/shortlist/proceed"),
    ] {
        let res = app
            .post_form(&stranger, &p, &[("decision", "approve")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{p}");
    }
    let nordpeak_am_page = format!("{theirs}/matching");
    assert_eq!(
        app.status_of(&am, &nordpeak_am_page).await,
        StatusCode::NOT_FOUND
    );
    // Nothing was decided by any of that.
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let decided: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shortlist_entries WHERE decision IS NOT NULL")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(decided, 0);
}

#[tokio::test]
async fn the_work_queue_lists_what_waits_on_the_account_manager_oldest_first() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: false,
    })
    .await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    assert!(
        app.get_ok(&am, "/am")
            .await
            .contains(r#"data-testid="queue-empty""#)
    );
    let path = campaign_in_matching(&app).await;
    let queue = app.get_ok(&am, "/am").await;
    assert!(queue.contains("发送推荐名单") && queue.contains(&format!("{path}/matching")));
    let ids = candidate_ids(&app.get_ok(&am, &format!("{path}/matching")).await);
    app.post_form(&am, &format!("{path}/matching"), &[("pick", &ids[0])])
        .await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shortlist = app.get_ok(&operator, &format!("{path}/shortlist")).await;
    let handle: String = shortlist[shortlist.find(r#"data-creator=""#).unwrap() + 14..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    app.post_form(
        &operator,
        &entry_forms(&shortlist, &handle),
        &[("decision", "approve")],
    )
    .await;
    // A second, newer request waits too: the older item comes first.
    let second = campaign_in_matching(&app).await;
    let queue = app.get_ok(&am, "/am").await;
    let set_up = queue.find("设置合作条款").expect("terms to set up");
    let newer = queue
        .find(&format!("{second}/matching"))
        .expect("the newer request");
    assert!(set_up < newer, "oldest first");
    // Another AM's queue does not show Lumi's work.
    let finance = app.login(FINANCE.0, FINANCE.1).await;
    assert_eq!(app.status_of(&finance, "/am").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_inline_decision_answers_with_just_the_card() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: false,
    })
    .await;
    let path = campaign_in_matching(&app).await;
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
    let handles: Vec<String> = shortlist
        .match_indices(r#"data-creator=""#)
        .map(|(i, m)| {
            shortlist[i + m.len()..]
                .chars()
                .take_while(|c| *c != '"')
                .collect()
        })
        .collect();
    let htmx = |action: String, form: Vec<(&'static str, &'static str)>| {
        let client = operator.clone();
        let url = app.url(&action);
        async move {
            client
                .post(url)
                .header("HX-Request", "true")
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    // A rejection without a reason: the card comes back with the message, nothing decided.
    let res = htmx(
        entry_forms(&shortlist, &handles[0]),
        vec![("decision", "reject"), ("reason", "")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let card = res.text().await.unwrap();
    assert!(card.trim_start().starts_with("<article") && !card.contains("<html"));
    assert!(card.contains(r#"data-testid="card-error""#) && card.contains("拒绝时请写明原因"));
    let res = htmx(
        entry_forms(&shortlist, &handles[0]),
        vec![("decision", "approve")],
    )
    .await;
    let card = res.text().await.unwrap();
    assert!(card.contains(r#"data-testid="approved""#) && !card.contains("<html"));
    // The page without JavaScript shows the same decision.
    let page = app.get_ok(&operator, &format!("{path}/shortlist")).await;
    assert_eq!(page.matches(r#"data-testid="approved""#).count(), 1);
}

#[tokio::test]
async fn the_in_memory_pool_follows_every_change_to_the_creators() {
    use sextant::db::SystemScope;
    use sextant::matching::{domain, pool, repo};
    let cache = pool::PoolCache::default();
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: false,
    })
    .await;
    let lumi = app.tenant_id("lumi").await;
    let weights = domain::Weights::default();
    let ask = domain::CampaignAsk {
        markets: vec!["US".into(), "GB".into()],
        languages: vec![],
        format: domain::Format::ShortVideo,
        followers_min: 0,
        followers_max: i64::MAX,
        fee_cap: None,
        categories: vec!["home_kitchen".into()],
        styles: vec![],
        age_buckets: vec![],
        gender: None,
    };
    let rank = |campaign: uuid::Uuid| {
        let (cache, db, ask) = (&cache, &app.db, &ask);
        async move {
            let mut tx = db.tenant_tx(lumi, None).await.unwrap();
            let rates = repo::ReferenceRates::load(&mut tx).await.unwrap();
            pool::rank(
                cache, db, &mut tx, lumi, campaign, ask, &weights, &rates, 10,
            )
            .await
            .unwrap()
            .0
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
        }
    };
    let campaign = uuid::Uuid::now_v7();
    let before = rank(campaign).await;
    assert_eq!(before.len(), 10);
    let loaded = cache.at_least(&app.db, 0).await.unwrap().version();

    // The best one leaves the pool: the next ranking loads the new version and drops them.
    let mut tx = app.db.system_tx(SystemScope::CreatorPool).await.unwrap();
    sqlx::query("UPDATE creators SET active = false WHERE id = $1")
        .bind(before[0])
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after = rank(campaign).await;
    assert!(!after.contains(&before[0]), "an inactive creator is ranked");
    assert_eq!(after[..9], before[1..], "the rest keep their order");
    assert!(cache.at_least(&app.db, 0).await.unwrap().version() > loaded);

    // A creator who fits perfectly appears at the top at once.
    let mut tx = app.db.system_tx(SystemScope::CreatorPool).await.unwrap();
    let newcomer = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, markets, languages, followers, avg_views, \
           avg_likes, avg_comments, avg_shares, categories, audience_countries) \
         VALUES ($1, 'perfect.fit', 'Perfect Fit', '{US}', '{en}', 80000, 10000, 900, 100, 50, \
           '{home_kitchen}', '{\"US\": 1.0}')",
    )
    .bind(newcomer)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rank(campaign).await[0], newcomer);
}

#[tokio::test]
async fn the_matching_page_ignores_a_view_it_does_not_know_and_keeps_real_picks() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 300,
        campaigns: false,
    })
    .await;
    let path = campaign_in_matching(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let first = app.get_ok(&am, &format!("{path}/matching")).await;
    let ids = candidate_ids(&first);
    assert!(!ids.is_empty());
    for garbage in [
        "?go=sort%3Dnope%26page%3D-1&tier=Z".to_string(),
        "?page=abc&dir=sideways&pick=not-a-uuid&note-xyz=hello".to_string(),
        format!(
            "?pick={}&pick={}&note-{}=%3Cscript%3E",
            ids[0], ids[0], ids[0]
        ),
    ] {
        let page = app.get_ok(&am, &format!("{path}/matching{garbage}")).await;
        assert_eq!(
            candidate_ids(&page),
            ids,
            "{garbage}: the first page, ranked"
        );
    }
    // The repeated pick counts once; its note comes back escaped, never as markup.
    let page = app
        .get_ok(
            &am,
            &format!(
                "{path}/matching?pick={}&pick={}&note-{}=%3Cscript%3E",
                ids[0], ids[0], ids[0]
            ),
        )
        .await;
    assert!(page.contains(r#"data-testid="selected-count">1<"#));
    let field = &page[page.find(&format!(r#"id="note-{}""#, ids[0])).unwrap()..];
    let value = &field[field.find("value=\"").unwrap() + 7..];
    let value = &value[..value.find('"').unwrap()];
    assert!(
        value.starts_with('&') && value.contains("script"),
        "escaped: {value}"
    );
    // Another tenant's account manager view: 404 for a campaign id that is not its tenant's.
    let id = path.rsplit('/').next().unwrap();
    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    assert_eq!(
        app.status_of(
            &stranger,
            &format!("/t/nordpeak/campaigns/{id}/matching?page=2")
        )
        .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn shortlist_cards_link_the_profile_and_show_the_audience_in_the_targets_and_the_quote_converted()
 {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "shortlist_sent").await;
    let lumi = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let data: serde_json::Value = sqlx::query_scalar("SELECT data FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    type Row = (
        String,
        Option<String>,
        Option<String>,
        serde_json::Value,
        serde_json::Value,
        serde_json::Value,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.handle, c.profile_url, c.quote_currency::text, c.audience_age, c.audience_gender, \
         c.audience_countries FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id \
         WHERE e.campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    assert!(!rows.is_empty());
    let target: sextant::campaigns::domain::Campaign = serde_json::from_value(data).unwrap();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app
        .get_ok_in(
            &owner,
            &format!("/t/lumi/campaigns/{campaign}/shortlist"),
            "en",
        )
        .await;
    let mut converted = 0;
    for (handle, url, currency, ages, genders, countries) in &rows {
        let card = &page[page.find(&format!(r#"data-creator="{handle}""#)).unwrap()..];
        let card = &card[..card.find("</article>").unwrap()];
        if let Some(url) = url {
            assert!(
                card.contains(&format!(
                    r#"href="{url}" rel="noopener noreferrer nofollow""#
                )),
                "{card}"
            );
        }
        let m = sextant::campaigns::domain::audience_match(&target, ages, genders, countries);
        for (label, share) in [
            ("Audience in the target ages", m.ages),
            ("Audience of the target gender", m.gender),
            ("Audience in the target markets", m.markets),
        ] {
            match share {
                Some(v) => assert!(
                    card.contains(&format!(
                        "<dt>{label}</dt><dd class=\"num\">{:.0}%</dd>",
                        v * 100.0
                    )),
                    "{label} {v}: {card}"
                ),
                None => assert!(!card.contains(label), "{label}: {card}"),
            }
        }
        let other = currency.is_some() && currency.as_deref() != target.budget_currency.as_deref();
        assert_eq!(
            card.contains(r#"data-testid="quote-converted""#),
            other,
            "{card}"
        );
        if other {
            converted += 1;
            let to = target.budget_currency.as_deref().unwrap();
            assert!(card.contains(&format!("≈ {to}\u{a0}")), "{card}");
        }
    }
    assert!(
        page.contains(r#"data-testid="audience-match""#),
        "the demo campaign sets targets, so cards show matches"
    );
    eprintln!("{converted} of {} quotes converted", rows.len());
}

#[tokio::test]
async fn shortlist_cards_link_recent_videos_and_show_the_creators_record_with_this_seller() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "shortlist_sent").await;
    let lumi = app.tenant_id("lumi").await;
    let mut conn = app.owner_conn().await;
    // One offered creator was booked by Lumi twice before (rated 80 and 85) and breached once.
    let rated: uuid::Uuid = sqlx::query_scalar(
        "SELECT creator_id FROM shortlist_entries WHERE campaign_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(campaign)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let others: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM campaigns k WHERE tenant_id = $1 AND id <> $2 AND NOT EXISTS (SELECT 1          FROM collaborations l WHERE l.tenant_id = k.tenant_id AND l.campaign_id = k.id          AND l.creator_id = $3) ORDER BY created_at, id LIMIT 3",
    )
    .bind(lumi)
    .bind(campaign)
    .bind(rated)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    crate::tiers::rate_in(&mut conn, (lumi, others[0]), rated, 80.0, 60.0, 1.0).await;
    crate::tiers::rate_in(&mut conn, (lumi, others[1]), rated, 85.0, 20.0, 1.2).await;
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
         link_slug) VALUES ($1, gen_random_uuid(), $2, $3, 'breached', 'TBREACH1', 'tbreach1')",
    )
    .bind(lumi)
    .bind(others[2])
    .bind(rated)
    .execute(&mut conn)
    .await
    .unwrap();

    type Row = (
        String,
        Vec<String>,
        i64,
        i64,
        i64,
        Option<rust_decimal::Decimal>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.handle, c.recent_videos, \
           (SELECT count(*) FROM collaborations l WHERE l.tenant_id = e.tenant_id \
              AND l.creator_id = e.creator_id AND l.campaign_id <> e.campaign_id), \
           (SELECT count(*) FROM collaborations l WHERE l.tenant_id = e.tenant_id \
              AND l.creator_id = e.creator_id AND l.campaign_id <> e.campaign_id AND l.state = 'breached'), \
           (SELECT count(*) FROM ratings r WHERE r.tenant_id = e.tenant_id AND r.state = 'completed' \
              AND r.creator_id = e.creator_id AND r.campaign_id <> e.campaign_id), \
           (SELECT round(avg(r.final_score), 1) FROM ratings r WHERE r.tenant_id = e.tenant_id \
              AND r.state = 'completed' AND r.creator_id = e.creator_id AND r.campaign_id <> e.campaign_id) \
         FROM shortlist_entries e JOIN creators c ON c.id = e.creator_id WHERE e.campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let (last_campaign, last_code): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT p.id, p.code FROM ratings r JOIN campaigns p ON p.id = r.campaign_id \
         WHERE r.tenant_id = $1 AND r.creator_id = $2 AND r.state = 'completed' \
         ORDER BY r.completed_at DESC LIMIT 1",
    )
    .bind(lumi)
    .bind(rated)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let rated_handle: String = sqlx::query_scalar("SELECT handle FROM creators WHERE id = $1")
        .bind(rated)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        rows.iter().any(|r| r.2 == 0),
        "someone new to Lumi is offered"
    );
    assert_eq!(last_campaign, others[1], "the latest rating");
    let mine = rows.iter().find(|r| r.0 == rated_handle).unwrap();
    assert!(mine.2 >= 3 && mine.3 >= 1, "{mine:?}");
    assert_eq!(
        (mine.4, mine.5.map(|d| d.normalize().to_string())),
        (2, Some("82.5".to_string()))
    );

    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    for code in ["zh-CN", "en"] {
        let lang = sextant::web::lang::Lang::parse(code).unwrap();
        let page = app
            .get_ok_in(
                &owner,
                &format!("/t/lumi/campaigns/{campaign}/shortlist"),
                code,
            )
            .await;
        for (handle, videos, booked, breached, ratings, mean) in &rows {
            let card = &page[page.find(&format!(r#"data-creator="{handle}""#)).unwrap()..];
            let card = &card[..card.find("</article>").unwrap()];
            // Recent videos: links the browser opens, never fetched by the server.
            for url in videos {
                assert!(
                    card.contains(&format!(
                        r#"href="{url}" rel="noopener noreferrer nofollow" target="_blank""#
                    )),
                    "{url}: {card}"
                );
            }
            assert_eq!(
                card.contains(r#"data-testid="recent-videos""#),
                !videos.is_empty()
            );
            let past = &card[card.find(r#"data-testid="past-record""#).unwrap()..];
            let past = &past[..past.find("</p>").unwrap()];
            if *booked == 0 {
                assert!(past.contains(&lang.t("shortlist.past.first")), "{past}");
                continue;
            }
            let n = booked.to_string();
            assert!(
                past.contains(&lang.t_with("shortlist.past.booked", &[("n", &n)])),
                "{past}"
            );
            let b = breached.to_string();
            assert_eq!(
                past.contains(&lang.t_with("shortlist.past.breached", &[("n", &b)])),
                *breached > 0,
                "{past}"
            );
            if let Some(mean) = mean {
                let text = lang.t_with(
                    "shortlist.past.rated",
                    &[
                        ("n", &ratings.to_string()),
                        ("score", &mean.normalize().to_string()),
                    ],
                );
                assert!(past.contains(&text), "{text}: {past}");
            }
            if handle == &rated_handle {
                assert!(
                    past.contains(&format!(r#"href="/t/lumi/campaigns/{last_campaign}""#))
                        && past.contains(&last_code),
                    "the latest rating's campaign: {past}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_creator_blacklisted_after_the_shortlist_was_sent_can_be_rejected_but_not_approved() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "shortlist_sent").await;
    let lumi = app.tenant_id("lumi").await;
    let mut conn = app.owner_conn().await;
    let entries: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "SELECT id, creator_id FROM shortlist_entries WHERE campaign_id = $1 \
         AND decision IS NULL ORDER BY id LIMIT 2",
    )
    .bind(campaign)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let (blocked_entry, blocked_creator) = entries[0];
    sqlx::query(
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, proposed_by_label) \
         VALUES ($1, gen_random_uuid(), $2, 'confirmed', 'false claims', 'test') \
         ON CONFLICT (tenant_id, creator_id) WHERE status IN ('proposed', 'confirmed') \
         DO UPDATE SET status = 'confirmed'",
    )
    .bind(lumi)
    .bind(blocked_creator)
    .execute(&mut conn)
    .await
    .unwrap();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let decide = |entry: uuid::Uuid| format!("/t/lumi/campaigns/{campaign}/shortlist/{entry}");
    let res = owner
        .post(app.url(&decide(blocked_entry)))
        .header("accept-language", "en")
        .form(&[("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This creator has been blacklisted since the shortlist was sent")
    );
    let decision = |entry: uuid::Uuid| {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT decision FROM shortlist_entries WHERE id = $1",
        )
        .bind(entry)
    };
    assert_eq!(
        decision(blocked_entry).fetch_one(&mut conn).await.unwrap(),
        None
    );
    // Rejecting it works; another creator is still approved as before.
    let res = app
        .post_form(
            &owner,
            &decide(blocked_entry),
            &[
                ("decision", "reject"),
                ("reason", "Blacklisted for false claims"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        decision(blocked_entry)
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .as_deref(),
        Some("rejected")
    );
    let res = app
        .post_form(&owner, &decide(entries[1].0), &[("decision", "approve")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
