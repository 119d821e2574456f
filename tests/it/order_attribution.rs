//! Order lines kept whole, attributed by the rule that fits real sellers, and the import's own
//! account of what it changed (issue 12: 2, 3b, 4): the rejected rows' CSV under compression,
//! the kept settlement fields, attribution of a creator with two collaborations (post window,
//! active period, content id), bulk attribution, undo taking its attributions back, and
//! "already imported" / "older than the current export" results.

use std::io::Read;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::orders::{fixture, import, shop_id, upload_validated};
use crate::support::*;

/// A day-first shop (DMY): the dates below read the same whatever the default.
const UK_SHOP: &str = "Lumi Home UK · TikTok Shop";

fn tiktok_header() -> String {
    let v1 = String::from_utf8(fixture("tiktok_v1.csv")).unwrap();
    format!("{}\n", v1.lines().next().unwrap())
}

/// One affiliate line: order id, creator, content id ("/" for none), created and paid
/// (`DD/MM/YYYY HH:MM:SS`), amount; the commission bases and actual payment are set.
fn tiktok_line(order: u64, creator: &str, content: &str, created: &str, amount: &str) -> String {
    format!(
        "{order},1729001,Lumi Lamp,{amount},GBP,1,No,Completed,{creator},Video,{content},10%,\
         {amount},1.00,{amount},1.00,{created},{created},/\n"
    )
}

#[tokio::test]
async fn the_rejected_rows_csv_downloads_whole_with_gzip_br_or_no_compression() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", UK_SHOP).await;
    // 10,000 bad rows: exactly two pages of the stream, then one good row.
    let mut file = tiktok_header();
    for i in 0..10_000u64 {
        file.push_str(&tiktok_line(
            577_100_000_000_000_000 + i,
            "someone",
            "/",
            "05/03/2026 14:30:00",
            "ten",
        ));
    }
    file.push_str(&tiktok_line(
        577_100_000_000_100_000,
        "someone",
        "/",
        "05/03/2026 14:30:00",
        "10.00",
    ));
    let id = upload_validated(
        &app,
        &owner,
        shop,
        "2026-03-20T10:00",
        "bad.csv",
        file.into_bytes(),
    )
    .await;
    let url = app.url(&format!("/t/lumi/orders/imports/{id}/errors.csv"));
    for accept in [Some("gzip, br"), Some("gzip"), Some("br"), None] {
        let mut request = owner.get(&url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT_ENCODING, accept);
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{accept:?}");
        let encoding = res
            .headers()
            .get(CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_string());
        // The body arrives whole (a cut stream fails here).
        let body = res.bytes().await.expect("the whole body");
        let mut csv = String::new();
        match encoding.as_deref() {
            Some("gzip") => {
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_string(&mut csv)
                    .expect("complete gzip");
            }
            Some("br") => {
                brotli::Decompressor::new(&body[..], 4096)
                    .read_to_string(&mut csv)
                    .expect("complete br");
            }
            None => csv = String::from_utf8(body.to_vec()).unwrap(),
            Some(other) => panic!("unexpected encoding {other}"),
        }
        match accept {
            Some(a) => assert!(
                encoding.as_deref().is_some_and(|e| a.contains(e)),
                "{a}: compressed ({encoding:?})"
            ),
            None => assert_eq!(encoding, None),
        }
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with('\u{feff}'), "BOM then the header");
        // Each bad row has three problems (the amount and both commission bases).
        assert_eq!(lines.len(), 1 + 30_000, "{accept:?}: every rejected row");
        assert!(lines[1].starts_with("2,"), "{}", lines[1]);
        assert!(lines[30_000].starts_with("10001,"), "{}", lines[30_000]);
    }
    // The server task did not panic: the app still answers.
    assert_eq!(
        app.status_of(&owner, &format!("/t/lumi/orders/imports/{id}"))
            .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn payment_times_commission_bases_and_shopify_parts_are_kept_per_line() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let tenant = app.tenant_id("lumi").await;
    let uk = shop_id(&app, "lumi", UK_SHOP).await;
    let file = tiktok_header()
        + "577200000000000001,1729001,Lumi Lamp,100.00,GBP,1,No,Completed,someone,Video,/,10%,\
           90.00,9.00,80.00,8.00,05/03/2026 14:30:00,05/03/2026 14:31:00,/\n"
        + "577200000000000002,1729001,Lumi Lamp,50.00,GBP,1,No,Shipped,someone,Video,/,10%,\
           50.00,5.00,/,/,06/03/2026 09:00:00,/,/\n";
    let id = upload_validated(
        &app,
        &owner,
        uk,
        "2026-03-20T10:00",
        "kept.csv",
        file.into(),
    )
    .await;
    import(&app, &owner, id).await;
    let shopify = shop_id(&app, "lumi", "lumihome.invalid · Shopify").await;
    let file = "Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,\
                Discount Code,Discount Amount,Created at,Refunded Amount,Lineitem quantity,\
                Lineitem name,Lineitem price\n\
                #9001,a@example.invalid,paid,2026-05-01 10:05:00 +0200,USD,100.00,7.50,8.25,\
                105.75,SPRING,10.00,2026-05-01 10:00:00 +0200,0.00,2,Lumi Lamp,50.00\n";
    let sid = upload_validated(
        &app,
        &owner,
        shopify,
        "2026-05-02T10:00",
        "shopify.csv",
        file.into(),
    )
    .await;
    import(&app, &owner, sid).await;

    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    type Kept = (
        String,
        Option<time::OffsetDateTime>,
        Option<Decimal>,
        Option<Decimal>,
        Option<Decimal>,
        Option<Decimal>,
        Option<Decimal>,
        Option<Decimal>,
        Option<Decimal>,
    );
    let rows: Vec<Kept> = sqlx::query_as(
        "SELECT order_key, paid_at, est_commission_base, actual_commission_base, \
           actual_commission, subtotal, discounts, shipping, tax FROM order_lines \
         ORDER BY order_key",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
    let by_key = |k: &str| rows.iter().find(|r| r.0 == k).cloned().unwrap();
    let first = by_key("577200000000000001");
    assert_eq!(
        first.1,
        Some(time::macros::datetime!(2026-03-05 14:31 UTC)),
        "London in March is UTC"
    );
    assert_eq!((first.2, first.3, first.4), (d("90"), d("80"), d("8")));
    let second = by_key("577200000000000002");
    assert_eq!((second.1, second.3, second.4), (None, None, None));
    assert_eq!(second.2, d("50"));
    let order = by_key("#9001");
    assert_eq!(order.1, Some(time::macros::datetime!(2026-05-01 08:05 UTC)));
    assert_eq!(
        (order.5, order.6, order.7, order.8),
        (d("100"), d("10"), d("7.5"), d("8.25"))
    );
    // Every field the exports can carry was there: nothing to say about them.
    for id in [id, sid] {
        let page = app
            .get_ok(&owner, &format!("/t/lumi/orders/imports/{id}"))
            .await;
        assert!(!page.contains("data-testid=\"fields-note\""), "{page}");
    }

    // A batch imported before the fields were kept says so, on its page and in the list.
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query("UPDATE order_imports SET line_fields = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{id}"))
        .await;
    assert!(page.contains("data-testid=\"fields-note\""), "{page}");
    assert!(page.contains("本批次导入时尚未保存付款时间"), "{page}");
    let list = app.get_ok(&owner, "/t/lumi/orders/imports").await;
    assert_eq!(list.matches("data-testid=\"predates-fields\"").count(), 1);

    // The backfill reads its stored file again: the fields are back, once.
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query(
        "UPDATE order_lines SET paid_at = NULL, est_commission_base = NULL, \
           actual_commission_base = NULL, actual_commission = NULL WHERE import_id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let backfill = || {
        sextant::tracking::order_imports::jobs::backfill_line_fields(&app.db, &app.state.storage)
    };
    assert_eq!(backfill().await.unwrap(), 1);
    assert_eq!(backfill().await.unwrap(), 0, "each batch once");
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let back: Vec<Kept> = sqlx::query_as(
        "SELECT order_key, paid_at, est_commission_base, actual_commission_base, \
           actual_commission, subtotal, discounts, shipping, tax FROM order_lines \
         ORDER BY order_key",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(back, rows);
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{id}"))
        .await;
    assert!(!page.contains("data-testid=\"fields-note\""), "{page}");

    // An export without payment times or actual commissions names what it lacked.
    let file = tiktok_header()
        + "577200000000000003,1729001,Lumi Lamp,20.00,GBP,1,No,Shipped,someone,Video,/,10%,\
           20.00,2.00,/,/,07/03/2026 09:00:00,/,/\n";
    let lacking =
        upload_validated(&app, &owner, uk, "2026-03-21T10:00", "l.csv", file.into()).await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{lacking}"))
        .await;
    assert!(
        page.contains("该导出文件没有：付款时间, 实际佣金基数, 实际佣金。"),
        "{page}"
    );
}

/// Two collaborations of one creator with Lumi on its UK shop, written directly (fixtures):
/// spring (accepted 1 Jan, posted video `v-spring` on 1 Feb, settled 15 Mar) and autumn
/// (accepted 20 Mar, no post yet). Returns (spring, autumn).
async fn two_collaborations(app: &TestApp, shop: Uuid) -> (Uuid, Uuid) {
    let tenant = app.tenant_id("lumi").await;
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    // The demo's own batches are taken out of the way (undone): only these lines count.
    sqlx::query("UPDATE order_imports SET state = 'undone' WHERE tenant_id = $1")
        .bind(tenant)
        .execute(&mut c)
        .await
        .unwrap();
    let creator = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, followers) \
         VALUES ($1, 'twice.creator', 'Twice', 1000)",
    )
    .bind(creator)
    .execute(&mut c)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (code, state, accepted, ended) in [
        (
            "SPRING",
            "settled",
            "2026-01-01 00:00Z",
            Some("2026-03-15 00:00Z"),
        ),
        ("AUTUMN", "accepted", "2026-03-20 00:00Z", None),
    ] {
        let (campaign, collaboration) = (Uuid::now_v7(), Uuid::now_v7());
        sqlx::query(
            "INSERT INTO campaigns (tenant_id, id, code, state, title, shop_id, markets, data) \
             VALUES ($1, $2, $3, 'running', $3, $4, '{GB}', '{}')",
        )
        .bind(tenant)
        .bind(campaign)
        .bind(format!("LUMI-{code}"))
        .bind(shop)
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, \
               discount_code, link_slug) VALUES ($1, $2, $3, $4, $5, $6, lower($6))",
        )
        .bind(tenant)
        .bind(collaboration)
        .bind(campaign)
        .bind(creator)
        .bind(state)
        .bind(code)
        .execute(&mut c)
        .await
        .unwrap();
        let mut moves = vec![("proposed", "accepted", accepted)];
        if let Some(ended) = ended {
            moves.push(("rated", "settled", ended));
        }
        for (from, to, at) in moves {
            sqlx::query(
                "INSERT INTO contract_transitions (tenant_id, id, collaboration_id, from_state, \
                   to_state, event, actor_label, at) \
                 VALUES ($1, $2, $3, $4, $5, 'fixture', 'fixture', $6::timestamptz)",
            )
            .bind(tenant)
            .bind(Uuid::now_v7())
            .bind(collaboration)
            .bind(from)
            .bind(to)
            .bind(at)
            .execute(&mut c)
            .await
            .unwrap();
        }
        ids.push(collaboration);
    }
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
         VALUES ($1, $2, $3, 'https://www.tiktok.com/@twice.creator/video/1', 'v-spring', \
           '2026-02-01 12:00Z')",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(ids[0])
    .execute(&mut c)
    .await
    .unwrap();
    (ids[0], ids[1])
}

/// (order key, collaboration, rule) of every attributed current line of Lumi.
async fn attributions(app: &TestApp) -> Vec<(String, Uuid, String)> {
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let rows = sqlx::query_as(
        "SELECT order_key, collaboration_id, attributed_by FROM orders_current \
         WHERE collaboration_id IS NOT NULL ORDER BY order_key",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rows
}

fn twice_export() -> Vec<u8> {
    let lines = [
        // In the 30 days after the spring post.
        (1, "twice.creator", "/", "10/02/2026 12:00:00"),
        // Spring settled on 15 March; autumn accepted on 20 March, not posted yet.
        (2, "twice.creator", "/", "25/03/2026 12:00:00"),
        // Between the two: neither ran.
        (3, "twice.creator", "/", "17/03/2026 12:00:00"),
        // From the spring video, though placed in autumn's period.
        (4, "twice.creator", "v-spring", "25/03/2026 12:00:00"),
        // Spring accepted, not posted yet.
        (5, "twice.creator", "/", "15/01/2026 12:00:00"),
        // No creator: a LIVE sale.
        (6, "/", "/", "25/03/2026 12:00:00"),
    ];
    let mut out = tiktok_header();
    for (n, creator, content, at) in lines {
        out.push_str(&tiktok_line(
            577_300_000_000_000_000 + n,
            creator,
            content,
            at,
            "10.00",
        ));
    }
    out.into_bytes()
}

/// Uploads `twice_export` to `shop` and waits for its report.
async fn twice_validated(
    app: &TestApp,
    owner: &reqwest::Client,
    shop: Uuid,
    exported_at: &str,
    name: &str,
) -> Uuid {
    upload_validated(app, owner, shop, exported_at, name, twice_export()).await
}

fn order(n: u64) -> String {
    (577_300_000_000_000_000 + n).to_string()
}

#[tokio::test]
async fn a_creator_with_two_collaborations_is_credited_by_content_post_window_then_active_period() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", UK_SHOP).await;
    let (spring, autumn) = two_collaborations(&app, shop).await;
    let first = twice_validated(&app, &owner, shop, "2026-04-01T10:00", "twice.csv").await;
    import(&app, &owner, first).await;
    let expected = vec![
        (order(1), spring, "post_window".to_string()),
        (order(2), autumn, "active_period".to_string()),
        (order(4), spring, "content".to_string()),
        (order(5), spring, "active_period".to_string()),
    ];
    assert_eq!(attributions(&app).await, expected);

    // The import says what it did, and by which rule.
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{first}"))
        .await;
    assert!(page.contains(r#"data-testid="lines-new">6<"#), "{page}");
    assert!(page.contains(r#"data-testid="lines-changed">0<"#), "{page}");
    assert!(!page.contains(r#"data-testid="import-result""#), "{page}");
    let rules = page
        .split(r#"data-testid="attributed-rules">"#)
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_else(|| panic!("{page}"));
    // The page speaks the default language (zh-CN).
    for (rule, n) in [("发布窗口", 1), ("合作期内", 2), ("内容 ID", 1)] {
        assert!(
            rules.contains(&format!("{rule} <span class=\"num\">{n}</span>")),
            "{rules}"
        );
    }

    // The unattributed page gives each line's reason.
    let list = app.get_ok(&owner, "/t/lumi/orders/unattributed").await;
    let row = |n: u64| {
        list.split(&format!(r#"<tr data-order="{}">"#, order(n)))
            .nth(1)
            .and_then(|s| s.split("</tr>").next())
            .unwrap_or_else(|| panic!("order {n} listed: {list}"))
            .to_string()
    };
    assert!(
        row(3).contains("下单时该达人的 2 个合作都不在进行中"),
        "{}",
        row(3)
    );
    assert!(
        row(6).contains("没有达人用户名或已知专属折扣码"),
        "{}",
        row(6)
    );
}

#[tokio::test]
async fn a_person_attributes_the_ticked_lines_at_once_audited_once_with_the_count() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", UK_SHOP).await;
    let (_, autumn) = two_collaborations(&app, shop).await;
    let id = twice_validated(&app, &owner, shop, "2026-04-01T10:00", "twice.csv").await;
    import(&app, &owner, id).await;
    let list = app.get_ok(&owner, "/t/lumi/orders/unattributed").await;
    let line_ref = |n: u64| {
        let marker = format!(r#"<tr data-order="{}">"#, order(n));
        let row = list.split(&marker).nth(1).unwrap();
        row.split(r#"name="line" value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string()
    };
    let (three, six) = (line_ref(3), line_ref(6));
    assert!(list.contains(r#"form="bulk-attribute""#));

    // Nothing ticked, or no collaboration chosen: nothing changes.
    let before = attributions(&app).await;
    for form in [
        vec![("collaboration_id", autumn.to_string())],
        vec![("line", three.clone()), ("collaboration_id", String::new())],
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app
            .post_form(&owner, "/t/lumi/orders/attribute-many", &form)
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(attributions(&app).await, before);

    let autumn_id = autumn.to_string();
    let res = app
        .post_form(
            &owner,
            "/t/lumi/orders/attribute-many",
            &[
                ("line", &three),
                ("line", &six),
                ("collaboration_id", &autumn_id),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let now = attributions(&app).await;
    for n in [3, 6] {
        assert!(
            now.contains(&(order(n), autumn, "person".to_string())),
            "{now:?}"
        );
    }
    assert_eq!(now.len(), before.len() + 2);
    let audit = app.audit_of(&autumn.to_string()).await;
    let bulk: Vec<_> = audit
        .iter()
        .filter(|(a, _, _)| a == "orders.attribute_many")
        .collect();
    assert_eq!(bulk.len(), 1, "{audit:?}");
    assert_eq!(bulk[0].2.as_ref().unwrap()["lines"], 2, "{audit:?}");

    // A viewer may not.
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let res = app
        .post_form(
            &viewer,
            "/t/lumi/orders/attribute-many",
            &[("line", &three), ("collaboration_id", &autumn_id)],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn reimports_say_already_imported_or_older_and_undo_takes_back_only_its_own_attributions() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", UK_SHOP).await;
    let (_, autumn) = two_collaborations(&app, shop).await;
    let first = twice_validated(&app, &owner, shop, "2026-04-01T10:00", "twice.csv").await;
    import(&app, &owner, first).await;
    let automatic = attributions(&app).await;
    assert_eq!(automatic.len(), 4);

    // The same file again: nothing changed.
    let again = twice_validated(&app, &owner, shop, "2026-04-01T10:00", "twice.csv").await;
    import(&app, &owner, again).await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{again}"))
        .await;
    assert!(page.contains("已导入过：0 行变更。"), "{page}");
    assert!(
        page.contains(r#"data-testid="lines-unchanged">6<"#),
        "{page}"
    );
    assert!(page.contains(r#"data-testid="lines-new">0<"#), "{page}");

    // An export taken before the current one: it loses every line.
    let older = twice_validated(&app, &owner, shop, "2026-03-30T10:00", "twice-older.csv").await;
    import(&app, &owner, older).await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{older}"))
        .await;
    assert!(page.contains("早于当前导出：0 行变更。"), "{page}");
    assert!(page.contains(r#"data-testid="lines-older">6<"#), "{page}");
    assert_eq!(attributions(&app).await, automatic);

    // A person credits the LIVE line.
    let autumn_id = autumn.to_string();
    let res = app
        .post_form(
            &owner,
            "/t/lumi/orders/attribute",
            &[
                ("shop_id", &shop.to_string()),
                ("order_key", &order(6)),
                ("line_key", "1729001"),
                ("collaboration_id", &autumn_id),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let person = (order(6), autumn, "person".to_string());

    // Undoing the first batch: the other two still hold the lines, so they stay attributed.
    let undo = |id: Uuid| {
        let (app, owner) = (&app, &owner);
        async move {
            let res = app
                .post_form(owner, &format!("/t/lumi/orders/imports/{id}/undo"), &[])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
    };
    undo(first).await;
    let mut with_person = automatic.clone();
    with_person.push(person.clone());
    with_person.sort();
    assert_eq!(attributions(&app).await, with_person);
    undo(again).await;
    assert_eq!(attributions(&app).await, with_person);
    // The last batch holding them goes: its automatic attributions go with it, the person's
    // stays (for an export that brings the line back).
    undo(older).await;
    assert_eq!(attributions(&app).await, vec![]);
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let left: Vec<(String, String)> = sqlx::query_as(
        "SELECT order_key, attributed_by FROM order_attributions \
             WHERE order_key LIKE '5773%' ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(left, vec![(order(6), "person".to_string())]);
    let audit = app.audit_of(&older.to_string()).await;
    assert!(
        audit.iter().any(|(a, _, after)| a == "orders.undo"
            && after
                .as_ref()
                .is_some_and(|x| x["attributions_removed"] == 4)),
        "{audit:?}"
    );
    // Imported again, the rule attributes the lines afresh.
    let back = twice_validated(&app, &owner, shop, "2026-04-01T10:00", "twice.csv").await;
    import(&app, &owner, back).await;
    assert_eq!(attributions(&app).await, with_person);
}
