//! Order imports (SPEC §5): upload → validation run → import or cancel, the later export wins,
//! undo, rejected rows with their lines, tenant isolation, roles, bad input, interrupted jobs.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::support::*;

pub(crate) const US_SHOP: &str = "Lumi Home US · TikTok Shop";
const SHOPIFY_SHOP: &str = "lumihome.invalid · Shopify";

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/orders/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) async fn shop_id(app: &TestApp, slug: &str, name: &str) -> Uuid {
    let tenant = app.tenant_id(slug).await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let id = sqlx::query_scalar("SELECT id FROM shops WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

pub(crate) async fn post_upload(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    shop: &str,
    exported_at: &str,
    file: Option<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let mut form = Form::new()
        .text("shop_id", shop.to_string())
        .text("exported_at", exported_at.to_string());
    if let Some((name, bytes)) = file {
        form = form.part("file", Part::bytes(bytes).file_name(name.to_string()));
    }
    client
        .post(app.url(&format!("/t/{slug}/orders/imports")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn state_of(app: &TestApp, id: Uuid) -> String {
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::ImportJob)
        .await
        .unwrap();
    let state = sqlx::query_scalar("SELECT state FROM order_imports WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    state
}

pub(crate) async fn wait_for(app: &TestApp, id: Uuid, wanted: &str) {
    for _ in 0..200 {
        let state = state_of(app, id).await;
        if state == wanted {
            return;
        }
        assert!(
            !matches!(state.as_str(), "failed" | "cancelled") || state == wanted,
            "import {id} ended {state}, wanted {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "import {id} never reached {wanted} (is {})",
        state_of(app, id).await
    );
}

/// Uploads a file and waits for its validation run; returns the import id.
pub(crate) async fn upload_validated(
    app: &TestApp,
    client: &reqwest::Client,
    shop: Uuid,
    exported_at: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Uuid {
    let res = post_upload(
        app,
        client,
        "lumi",
        &shop.to_string(),
        exported_at,
        Some((name, bytes)),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "upload {name}");
    let id: Uuid = location(&res)
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("redirect to the import");
    wait_for(app, id, "validated").await;
    id
}

async fn upload_fixture(
    app: &TestApp,
    client: &reqwest::Client,
    shop: Uuid,
    exported_at: &str,
    name: &str,
) -> Uuid {
    upload_validated(app, client, shop, exported_at, name, fixture(name)).await
}

pub(crate) async fn import(app: &TestApp, client: &reqwest::Client, id: Uuid) {
    let res = app
        .post_form(client, &format!("/t/lumi/orders/imports/{id}/confirm"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    wait_for(app, id, "imported").await;
}

/// (lines, Σ amount, Σ refunds) of the tenant's current orders.
async fn totals(app: &TestApp) -> (i64, Decimal, Decimal) {
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let row = sqlx::query_as(
        "SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(refunded_amount), 0) \
         FROM orders_current",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row
}

/// Leaves a job as a worker that died would: in `state`, claimed long ago, `attempts` claims.
async fn simulate_dead_worker(app: &TestApp, id: Uuid, state: &str, attempts: i32) {
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::ImportJob)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE order_imports SET state = $2, job_worker = 'dead', \
           job_heartbeat_at = now() - interval '10 minutes', job_attempts = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(attempts)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sextant::tracking::order_imports::import_worker(&app.state).wake();
}

/// The answers to confirm, cancel and undo of one import, posted in the tenant `slug`.
async fn post_actions(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    id: Uuid,
) -> Vec<StatusCode> {
    let mut answers = Vec::new();
    for action in ["confirm", "cancel", "undo"] {
        let path = format!("/t/{slug}/orders/imports/{id}/{action}");
        answers.push(app.post_form(client, &path, &[]).await.status());
    }
    answers
}

/// (file name, bytes)
type UploadFile<'a> = (&'a str, Vec<u8>);

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[tokio::test]
async fn an_export_is_validated_then_imported_and_the_same_file_twice_changes_nothing() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;

    let page = app.get_ok(&owner, "/t/lumi/orders/imports").await;
    assert!(page.contains(r#"name="exported_at""#) && page.contains(US_SHOP));

    let first = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;
    let report = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{first}"))
        .await;
    assert!(report.contains(r#"data-testid="good-rows">3<"#), "{report}");
    assert!(report.contains(r#"data-testid="bad-rows">0<"#));
    assert_eq!(totals(&app).await.0, 0, "nothing lands before the import");

    import(&app, &owner, first).await;
    // 1,234.50 + 25.00 + 99.90; nothing refunded yet.
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("0")));

    // The US shop writes month first, in its zone: 03/05/2026 14:30 Los Angeles = 22:30 UTC.
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let (placed, rate): (time::OffsetDateTime, Option<Decimal>) = sqlx::query_as(
        "SELECT placed_at, commission_rate FROM orders_current WHERE order_key = '577001234567890001'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(placed, time::macros::datetime!(2026-03-05 22:30 UTC));
    assert_eq!(rate, Some(dec("0.15")));

    let again = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;
    import(&app, &owner, again).await;
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("0")));

    let list = app.get_ok(&owner, "/t/lumi/orders/imports").await;
    assert_eq!(list.matches("v1.csv").count(), 2);
}

#[tokio::test]
async fn a_newer_export_updates_refunds_an_older_one_loses_and_undo_brings_back_the_previous() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;

    let v1 = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;
    import(&app, &owner, v1).await;
    let v2 = upload_fixture(&app, &owner, shop, "2026-03-25T10:00", "tiktok_v2.csv").await;
    import(&app, &owner, v2).await;
    // Order 1 came back fully refunded in the newer export.
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("1234.50")));

    // An older export imported later still loses.
    let old = upload_fixture(&app, &owner, shop, "2026-03-10T10:00", "tiktok_v1.csv").await;
    import(&app, &owner, old).await;
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("1234.50")));

    // Undo the newer batch: the refund disappears, the earlier values return.
    let res = app
        .post_form(&owner, &format!("/t/lumi/orders/imports/{v2}/undo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, v2).await, "undone");
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("0")));
    let audit = app.audit_of(&v2.to_string()).await;
    assert!(
        audit.iter().any(|(a, _, _)| a == "orders.undo"),
        "{audit:?}"
    );
    // Undo twice is refused politely.
    app.post_form(&owner, &format!("/t/lumi/orders/imports/{v2}/undo"), &[])
        .await;
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("0")));
}

#[tokio::test]
async fn bad_rows_are_reported_with_their_lines_and_all_are_in_the_errors_csv() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let id = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_bad.csv").await;
    let report = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{id}"))
        .await;
    assert!(report.contains(r#"data-testid="good-rows">2<"#), "{report}");
    assert!(report.contains(r#"data-testid="bad-rows">3<"#));
    for line in [3, 4, 6] {
        assert!(
            report.contains(&format!(r#"data-line="{line}""#)),
            "line {line}"
        );
    }
    for line in [2, 5] {
        assert!(
            !report.contains(&format!(r#"data-line="{line}""#)),
            "line {line}"
        );
    }
    let res = owner
        .get(app.url(&format!("/t/lumi/orders/imports/{id}/errors.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("3,") && lines[1].starts_with("4,") && lines[2].starts_with("6,"));

    import(&app, &owner, id).await;
    assert_eq!(totals(&app).await, (2, dec("22.00"), dec("0")));
}

#[tokio::test]
async fn gb18030_and_shopify_exports_import_and_a_cancelled_one_leaves_nothing() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let cancelled =
        upload_fixture(&app, &owner, shop, "2026-04-05T10:00", "tiktok_gb18030.csv").await;
    let report = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{cancelled}"))
        .await;
    assert!(report.contains("GB18030"), "{report}");
    let res = app
        .post_form(
            &owner,
            &format!("/t/lumi/orders/imports/{cancelled}/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, cancelled).await, "cancelled");
    // Cancelled: nothing imported, nothing staged, and it cannot be imported any more.
    app.post_form(
        &owner,
        &format!("/t/lumi/orders/imports/{cancelled}/confirm"),
        &[],
    )
    .await;
    assert_eq!(state_of(&app, cancelled).await, "cancelled");
    assert_eq!(totals(&app).await.0, 0);
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::ImportJob)
        .await
        .unwrap();
    let staged: i64 = sqlx::query_scalar("SELECT count(*) FROM order_import_staging")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(staged, 0);

    let gb = upload_fixture(&app, &owner, shop, "2026-04-05T10:00", "tiktok_gb18030.csv").await;
    import(&app, &owner, gb).await;
    // The cancelled line (已取消) refunds its whole payment.
    assert_eq!(totals(&app).await, (2, dec("1107.90"), dec("19.90")));

    let shopify = shop_id(&app, "lumi", SHOPIFY_SHOP).await;
    let id = upload_fixture(&app, &owner, shopify, "2026-05-05T10:00", "shopify.csv").await;
    import(&app, &owner, id).await;
    // Three orders (the second row of #1001 is its line item); refunds 50 + 30.
    assert_eq!(totals(&app).await, (5, dec("2307.90"), dec("99.90")));
    let unattributed = app.get_ok(&owner, "/t/lumi/orders/unattributed").await;
    assert!(unattributed.contains("#1002") && unattributed.contains("577001234567890021"));
}

#[tokio::test]
async fn bad_input_gets_a_message_next_to_the_field_and_nothing_is_saved() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await.to_string();
    let shopify = shop_id(&app, "lumi", SHOPIFY_SHOP).await.to_string();
    let other = shop_id(&app, "nordpeak", "Nordpeak US · TikTok Shop")
        .await
        .to_string();
    // (shop, exported at, file, the field whose message is expected)
    let cases: Vec<(&str, &str, Option<UploadFile>, &str)> = vec![
        (&shop, "2026-03-20T10:00", None, "file"),
        (
            &other,
            "2026-03-20T10:00",
            Some(("v1.csv", fixture("tiktok_v1.csv"))),
            "shop_id",
        ),
        (
            &shop,
            "2026-03-20T10:00",
            Some(("notes.csv", b"hello,world\n1,2\n".to_vec())),
            "file",
        ),
        (
            &shop,
            "2026-03-20T10:00",
            Some(("empty.csv", Vec::new())),
            "file",
        ),
        (
            &shop,
            "yesterday",
            Some(("v1.csv", fixture("tiktok_v1.csv"))),
            "exported_at",
        ),
        (
            &shopify,
            "2026-03-20T10:00",
            Some(("v1.csv", fixture("tiktok_v1.csv"))),
            "file",
        ),
    ];
    for (shop, at, file, field) in cases {
        let res = post_upload(&app, &owner, "lumi", shop, at, file).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&format!(r#"class="field-error" data-field="{field}""#)),
            "{field}: {page}"
        );
    }
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let (imports, uploads): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM order_imports), (SELECT count(*) FROM uploads)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((imports, uploads), (0, 0));
}

#[tokio::test]
async fn a_viewer_may_look_but_not_import_and_another_tenant_gets_404_on_every_id_route() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let id = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_bad.csv").await;

    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let page = app
        .get_ok(&viewer, &format!("/t/lumi/orders/imports/{id}"))
        .await;
    assert!(!page.contains("confirm-import"));
    let res = post_upload(
        &app,
        &viewer,
        "lumi",
        &shop.to_string(),
        "2026-03-20T10:00",
        Some(("v1.csv", fixture("tiktok_v1.csv"))),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        post_actions(&app, &viewer, "lumi", id).await,
        [StatusCode::FORBIDDEN; 3]
    );
    assert_eq!(state_of(&app, id).await, "validated");

    // Nordpeak's owner, in Nordpeak's own pages, asking for Lumi's import.
    let stranger = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        format!("/t/nordpeak/orders/imports/{id}"),
        format!("/t/nordpeak/orders/imports/{id}/progress"),
        format!("/t/nordpeak/orders/imports/{id}/errors.csv"),
        format!("/t/lumi/orders/imports/{id}"),
        "/t/lumi/orders/imports".to_string(),
    ] {
        assert_eq!(
            app.status_of(&stranger, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        post_actions(&app, &stranger, "nordpeak", id).await,
        [StatusCode::NOT_FOUND; 3]
    );
    let res = app
        .post_form(
            &stranger,
            "/t/nordpeak/orders/attribute",
            &[
                ("shop_id", &shop.to_string()),
                ("order_key", "577001234567890011"),
                ("line_key", "1729001"),
                ("collaboration_id", &Uuid::now_v7().to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(state_of(&app, id).await, "validated");
}

#[tokio::test]
async fn a_job_left_by_a_dead_worker_is_resumed_from_the_start_of_its_phase() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let id = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;

    // A dead validation run: state validating, part of its rows staged, heartbeat long gone.
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::ImportJob)
        .await
        .unwrap();
    sqlx::query(
        "DELETE FROM order_import_staging WHERE import_id = $1 AND order_key <> '577001234567890001'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    simulate_dead_worker(&app, id, "validating", 1).await;
    wait_for(&app, id, "validated").await;

    // A dead import: its transaction never committed, so it simply runs again.
    simulate_dead_worker(&app, id, "importing", 1).await;
    wait_for(&app, id, "imported").await;
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("0")));

    // A job that keeps dying is failed with a message, not retried for ever.
    let again = upload_fixture(&app, &owner, shop, "2026-03-21T10:00", "tiktok_v2.csv").await;
    simulate_dead_worker(
        &app,
        again,
        "importing",
        sextant::tracking::order_imports::jobs::MAX_ATTEMPTS,
    )
    .await;
    wait_for(&app, again, "failed").await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{again}"))
        .await;
    assert!(page.contains(r#"data-testid="import-failure""#));
    assert_eq!(totals(&app).await, (3, dec("1359.40"), dec("0")));
}

#[tokio::test]
async fn an_xlsx_export_built_here_imports_like_a_csv() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "Order ID",
        "SKU ID",
        "Product Name",
        "Payment Amount",
        "Currency",
        "Quantity",
        "Fully returned or refunded",
        "Order Status",
        "Creator Username",
        "Content Type",
        "Content ID",
        "Standard commission rate",
        "Time Created",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows: [(&str, &str, f64, &str, &str); 3] = [
        (
            "577009000000000001",
            "1729001",
            1234.5,
            "No",
            "03/05/2026 14:30:00",
        ),
        (
            "577009000000000002",
            "1729002",
            25.0,
            "Yes",
            "03/06/2026 09:00:00",
        ),
        (
            "577009000000000003",
            "1729001",
            -3.0,
            "No",
            "03/06/2026 09:00:00",
        ),
    ];
    for (r, (order, sku, amount, refunded, at)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *order).unwrap();
        sheet.write_string(r, 1, *sku).unwrap();
        sheet.write_string(r, 2, "Lumi Lamp").unwrap();
        sheet.write_number(r, 3, *amount).unwrap();
        sheet.write_string(r, 4, "USD").unwrap();
        sheet.write_number(r, 5, 1).unwrap();
        sheet.write_string(r, 6, *refunded).unwrap();
        sheet.write_string(r, 7, "Completed").unwrap();
        sheet.write_string(r, 8, "sunnykitchen").unwrap();
        sheet.write_string(r, 9, "Video").unwrap();
        sheet.write_string(r, 10, "/").unwrap();
        sheet.write_string(r, 11, "15%").unwrap();
        sheet.write_string(r, 12, *at).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let id = upload_validated(&app, &owner, shop, "2026-03-20T10:00", "orders.xlsx", bytes).await;
    let report = app
        .get_ok(&owner, &format!("/t/lumi/orders/imports/{id}"))
        .await;
    assert!(report.contains(r#"data-testid="good-rows">2<"#), "{report}");
    assert!(
        report.contains(r#"data-line="4""#),
        "the negative amount's row"
    );
    import(&app, &owner, id).await;
    assert_eq!(totals(&app).await, (2, dec("1259.50"), dec("25.00")));
}

#[tokio::test]
async fn demo_orders_are_imported_and_attributed_and_a_person_attributes_the_rest() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await;
    let tenant = app.tenant_id("lumi").await;
    let counts = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let mut tx = db.tenant_tx(tenant, None).await.unwrap();
            let row: (i64, i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM order_imports WHERE state = 'imported'), \
                   (SELECT count(*) FROM orders_current), \
                   (SELECT count(*) FROM orders_current WHERE attributed_by IN ('content', 'single_collaboration', 'post_window', 'active_period')), \
                   (SELECT count(*) FROM orders_current WHERE attributed_by = 'discount_code')",
            )
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
            row
        }
    };
    let (imports, lines, by_creator, by_code) = counts(&app).await;
    assert!(
        imports >= 1 && lines > 0,
        "{imports} imports, {lines} lines"
    );
    assert!(
        by_creator > 0,
        "TikTok orders attributed by creator username / content id"
    );
    let has_shopify: bool = {
        let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM order_imports WHERE format = 'shopify'")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        n > 0
    };
    if has_shopify {
        assert!(by_code > 0, "Shopify orders attributed by discount code");
    }

    // Seeding again changes nothing.
    sextant::seed::seed_demo_with(
        &app.db,
        &app.state.passwords,
        sextant::seed::DemoSize {
            creators: 200,
            campaigns: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(counts(&app).await, (imports, lines, by_creator, by_code));

    // A person attributes an unattributed line; it is recorded and audited.
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let page = app.get_ok(&operator, "/t/lumi/orders/unattributed").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let (shop, order_key, line_key): (Uuid, String, String) = sqlx::query_as(
        "SELECT shop_id, order_key, line_key FROM orders_current WHERE collaboration_id IS NULL \
         ORDER BY placed_at DESC, order_key LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let collaboration: Uuid = sqlx::query_scalar(
        "SELECT id FROM collaborations WHERE state NOT IN ('proposed', 'cancelled') LIMIT 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(page.contains(&order_key), "the line is listed");
    let res = app
        .post_form(
            &operator,
            "/t/lumi/orders/attribute",
            &[
                ("shop_id", &shop.to_string()),
                ("order_key", &order_key),
                ("line_key", &line_key),
                ("collaboration_id", &collaboration.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let (by, target): (String, Uuid) = sqlx::query_as(
        "SELECT attributed_by, collaboration_id FROM orders_current \
         WHERE shop_id = $1 AND order_key = $2 AND line_key = $3",
    )
    .bind(shop)
    .bind(&order_key)
    .bind(&line_key)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((by.as_str(), target), ("person", collaboration));
    let audit = app
        .audit_of(&format!("{shop}/{order_key}/{line_key}"))
        .await;
    assert!(audit.iter().any(|(a, _, _)| a == "orders.attribute"));
}

/// The attributed lines as the dashboards read them (`orders_attributed`, looked up from the
/// attributions) and as `orders_current` ranks every line: they must be the same rows.
async fn attributed_both_ways(
    app: &TestApp,
) -> Vec<(String, String, Uuid, String, Decimal, Decimal)> {
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let mut out = Vec::new();
    for view in ["orders_attributed", "orders_current"] {
        let rows: Vec<(String, String, Uuid, String, Decimal, Decimal)> = sqlx::query_as(&format!(
            "SELECT order_key, line_key, collaboration_id, attributed_by, amount, refunded_amount \
               FROM {view} WHERE collaboration_id IS NOT NULL ORDER BY order_key, line_key"
        ))
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        out.push(rows);
    }
    tx.commit().await.unwrap();
    let current = out.pop().unwrap();
    let attributed = out.pop().unwrap();
    assert_eq!(
        attributed, current,
        "orders_attributed = attributed orders_current"
    );
    attributed
}

#[tokio::test]
async fn a_persons_attribution_survives_newer_exports_and_undo() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let tenant = app.tenant_id("lumi").await;
    let v1 = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;
    import(&app, &owner, v1).await;
    // Order 3 is a LIVE sale without a creator username: nobody is credited automatically.
    let order = "577001234567890003";
    assert!(
        !attributed_both_ways(&app)
            .await
            .iter()
            .any(|r| r.0 == order)
    );
    // A running campaign of the shop with one collaboration (written directly: fixtures only).
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let (campaign, creator, collaboration) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, id, code, state, title, shop_id, markets, data) \
         VALUES ($1, $2, 'LUMI-LIVE-01', 'running', 'Live sale', $3, '{US}', '{}')",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(shop)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, followers) VALUES ($1, 'live.host', 'Live', 1000)",
    )
    .bind(creator)
    .execute(&mut c)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, link_slug) \
         VALUES ($1, $2, $3, $4, 'tracking', 'LIVE10', 'livehost')",
    )
    .bind(tenant)
    .bind(collaboration)
    .bind(campaign)
    .bind(creator)
    .execute(&mut c)
    .await
    .unwrap();
    let res = app
        .post_form(
            &owner,
            "/t/lumi/orders/attribute",
            &[
                ("shop_id", &shop.to_string()),
                ("order_key", order),
                ("line_key", "1729001"),
                ("collaboration_id", &collaboration.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let credited = |rows: &[(String, String, Uuid, String, Decimal, Decimal)]| {
        rows.iter()
            .find(|r| r.0 == order)
            .map(|r| (r.2, r.3.clone()))
    };
    let person = Some((collaboration, "person".to_string()));
    assert_eq!(credited(&attributed_both_ways(&app).await), person);

    // A newer export, the same file again and an undo: the person's choice stays.
    let v2 = upload_fixture(&app, &owner, shop, "2026-03-25T10:00", "tiktok_v2.csv").await;
    import(&app, &owner, v2).await;
    assert_eq!(credited(&attributed_both_ways(&app).await), person);
    let again = upload_fixture(&app, &owner, shop, "2026-03-25T10:00", "tiktok_v2.csv").await;
    import(&app, &owner, again).await;
    assert_eq!(credited(&attributed_both_ways(&app).await), person);
    for id in [again, v2] {
        let res = app
            .post_form(&owner, &format!("/t/lumi/orders/imports/{id}/undo"), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let rows = attributed_both_ways(&app).await;
    assert_eq!(credited(&rows), person);
    // With every batch undone the line is gone from both views, its attribution kept for when
    // an export brings it back.
    let res = app
        .post_form(&owner, &format!("/t/lumi/orders/imports/{v1}/undo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(credited(&attributed_both_ways(&app).await), None);
    let v1_again = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;
    import(&app, &owner, v1_again).await;
    assert_eq!(credited(&attributed_both_ways(&app).await), person);
}

/// A TikTok affiliate export of `n` LIVE lines without a creator (nobody is credited), order
/// keys from `first`, amounts `amount`.
fn live_export(first: u64, n: u64, amount: &str) -> Vec<u8> {
    let v1 = String::from_utf8(fixture("tiktok_v1.csv")).unwrap();
    let mut out = v1.lines().next().unwrap().to_string();
    out.push('\n');
    for i in 0..n {
        out.push_str(&format!(
            "{},1729001,Lumi Lamp,{amount},USD,1,No,Completed,,LIVE,/,15%,{amount},1.50,/,/,\
             04/{:02}/2026 {:02}:{:02}:00,/,/\n",
            first + i,
            1 + i % 28,
            i % 24,
            (i * 7) % 60
        ));
    }
    out.into_bytes()
}

fn listed_orders(html: &str) -> Vec<String> {
    html.split(r#"<tr data-order=""#)
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn the_unattributed_list_pages_through_exactly_the_current_unattributed_lines() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let tenant = app.tenant_id("lumi").await;
    let first = upload_validated(
        &app,
        &owner,
        shop,
        "2026-04-20T10:00",
        "live.csv",
        live_export(900_000, 230, "10.00"),
    )
    .await;
    import(&app, &owner, first).await;
    // A newer export of 40 of them (new amounts), and an older one of 20 that loses.
    let newer = upload_validated(
        &app,
        &owner,
        shop,
        "2026-04-25T10:00",
        "live2.csv",
        live_export(900_000, 40, "12.00"),
    )
    .await;
    import(&app, &owner, newer).await;
    let older = upload_validated(
        &app,
        &owner,
        shop,
        "2026-04-10T10:00",
        "live0.csv",
        live_export(900_100, 20, "9.00"),
    )
    .await;
    import(&app, &owner, older).await;

    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let reference: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT order_key, amount FROM orders_current WHERE collaboration_id IS NULL \
         ORDER BY placed_at DESC, order_key, line_key",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(reference.len(), 230);
    assert_eq!(
        reference.iter().filter(|r| r.1 == dec("12.00")).count(),
        40,
        "the newer export's values are the current ones"
    );

    let mut listed = Vec::new();
    let mut path = "/t/lumi/orders/unattributed".to_string();
    let mut pages = 0;
    loop {
        let html = app.get_ok(&owner, &path).await;
        pages += 1;
        assert!(html.contains(r#"data-testid="unattributed-total">230<"#));
        let rows = listed_orders(&html);
        assert!(rows.len() <= 100);
        listed.extend(rows);
        let pager = &html[html.find(r#"data-testid="pager""#).unwrap()..];
        match pager
            .split(r#"rel="next""#)
            .next()
            .and_then(|s| s.rsplit("href=\"").next())
        {
            Some(href) if pager.contains(r#"rel="next""#) => {
                path = href[..href.find('"').unwrap()].replace("&amp;", "&");
            }
            _ => break,
        }
        assert!(pages < 10, "the pager never ends");
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = reference.iter().map(|r| r.0.clone()).collect();
    assert_eq!(listed, expected, "every line once, newest first");

    // Garbage and out-of-range pages: the first page, or an empty one with a way back.
    for bad in ["?page=abc", "?page=0", "?page=-3", "?page=99999999999"] {
        let html = app
            .get_ok(&owner, &format!("/t/lumi/orders/unattributed{bad}"))
            .await;
        assert_eq!(listed_orders(&html), expected[..100].to_vec(), "{bad}");
    }
    let past = app
        .get_ok(&owner, "/t/lumi/orders/unattributed?page=7")
        .await;
    assert!(listed_orders(&past).is_empty() && past.contains(r#"rel="prev""#));

    // Undoing the first batch leaves only the older export's 20 lines (it is the latest left for
    // them) and the newer one's 40.
    let res = app
        .post_form(&owner, &format!("/t/lumi/orders/imports/{first}/undo"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get_ok(&owner, "/t/lumi/orders/unattributed").await;
    assert!(
        html.contains(r#"data-testid="unattributed-total">60<"#),
        "{html}"
    );
    assert_eq!(listed_orders(&html).len(), 60);
}

/// The import checks once per statement, not once per line, that its lines name a batch
/// (migration 20261204000019): a line of no batch is still refused, and a batch that has lines
/// still cannot be deleted, both as the foreign key refused them (23503).
#[tokio::test]
async fn an_order_line_needs_its_batch_and_a_batch_with_lines_cannot_be_deleted() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let shop = shop_id(&app, "lumi", US_SHOP).await;
    let batch = upload_fixture(&app, &owner, shop, "2026-03-20T10:00", "tiktok_v1.csv").await;
    import(&app, &owner, batch).await;
    let tenant = app.tenant_id("lumi").await;
    let fk_violation = |e: sqlx::Error| {
        e.as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned())
    };

    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let orphan = sqlx::query(
        "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, exported_at, \
           placed_at, currency, amount) \
         VALUES ($1, $2, $3, 'no-batch', now(), now(), 'USD', 1)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(shop)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(fk_violation(orphan).as_deref(), Some("23503"));
    tx.rollback().await.unwrap();
    // One statement naming its batch and one that does not exist, or another company's batch
    // (which this company's session cannot see): refused all the same.
    let theirs: Uuid = sqlx::query_scalar(
        "SELECT i.id FROM order_imports i JOIN tenants t ON t.id = i.tenant_id \
          WHERE t.slug <> 'lumi' LIMIT 1",
    )
    .fetch_optional(&mut app.owner_conn().await)
    .await
    .unwrap()
    .unwrap_or_else(Uuid::now_v7);
    for other in [Uuid::now_v7(), theirs] {
        let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
        let mixed = sqlx::query(
            "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, exported_at, \
               placed_at, currency, amount) \
             SELECT $1, b, $3, 'mixed-' || b, now(), now(), 'USD', 1 FROM unnest($2::uuid[]) b",
        )
        .bind(tenant)
        .bind([batch, other])
        .bind(shop)
        .execute(&mut *tx)
        .await
        .unwrap_err();
        assert_eq!(fk_violation(mixed).as_deref(), Some("23503"));
        tx.rollback().await.unwrap();
    }

    let mut conn = app.owner_conn().await;
    let delete = sqlx::query("DELETE FROM order_imports WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(batch)
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(fk_violation(delete).as_deref(), Some("23503"));
    assert_eq!(
        totals(&app).await.0,
        3,
        "the batch's lines are all still there"
    );
}
