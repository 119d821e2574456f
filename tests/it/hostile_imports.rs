//! Hostile and mistaken files through both importers (order exports via the upload page and the
//! background job; the creator pool CSV via its page): NUL bytes and control characters in
//! cells, rows cut short, unknown currencies, export times in the future, a header alone, an
//! image, random bytes, an empty file, and workbooks with the same problems. Never a 5xx, always
//! a clear message (per row, with its line, for a row's problem), and nothing stored on refusal.
//! Also the shop's export date order, keys repeated in a file, and a failed COPY.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

use crate::support::*;

const US_SHOP: &str = "Lumi Home US · TikTok Shop";
const UK_SHOP: &str = "Lumi Home UK · TikTok Shop";

const HEADER: &str = "Order ID,SKU ID,Product Name,Payment Amount,Currency,Creator Username,\
    Time Created,Payment time";

/// A message as the pages show it (the test clients send no language: Chinese).
fn zh(key: &str) -> String {
    sextant::web::lang::Lang::ZhCn.t(key)
}

fn csv(lines: &[&str]) -> Vec<u8> {
    lines.join("\r\n").into_bytes()
}

/// A tiny PNG (1×1), as a person might attach a screenshot.
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\
    \0\0\0\rIDATx\x9cc\xf8\x0f\x04\0\x09\xfb\x03\xfd\xe3U\xf2\x9c\0\0\0\0IEND\xaeB`\x82";

/// Bytes with no structure at all (a fixed xorshift stream).
fn random_bytes(n: usize) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 32) as u8
        })
        .collect()
}

async fn shop_id(app: &TestApp, name: &str) -> Uuid {
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let id = sqlx::query_scalar("SELECT id FROM shops WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn post_upload(
    app: &TestApp,
    client: &reqwest::Client,
    shop: Uuid,
    exported_at: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new()
        .text("shop_id", shop.to_string())
        .text("exported_at", exported_at.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()));
    client
        .post(app.url("/t/lumi/orders/imports"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Counts in the owner's view (no RLS): (uploads, order imports, order lines).
async fn stored(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM uploads WHERE purpose = 'orders'), \
           (SELECT count(*) FROM order_imports), (SELECT count(*) FROM order_lines)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// The order lines an import stored.
async fn lines_of(app: &TestApp, id: Uuid) -> i64 {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM order_lines WHERE import_id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

async fn state_of(app: &TestApp, id: Uuid) -> String {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar("SELECT state FROM order_imports WHERE id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Waits until the import is no longer queued or running; its state.
async fn settled(app: &TestApp, id: Uuid) -> String {
    for _ in 0..300 {
        let state = state_of(app, id).await;
        if !matches!(state.as_str(), "queued" | "validating" | "importing") {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} never settled");
}

/// Uploads a file that is accepted; waits for its validation run; (id, final state).
async fn upload_checked(
    app: &TestApp,
    client: &reqwest::Client,
    shop: Uuid,
    exported_at: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (Uuid, String) {
    let res = post_upload(app, client, shop, exported_at, name, bytes).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "upload {name}");
    let id: Uuid = location(&res)
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("redirect to the import");
    (id, settled(app, id).await)
}

async fn report(app: &TestApp, client: &reqwest::Client, id: Uuid) -> String {
    app.get_ok(client, &format!("/t/lumi/orders/imports/{id}"))
        .await
}

async fn import(app: &TestApp, client: &reqwest::Client, id: Uuid) {
    let res = app
        .post_form(client, &format!("/t/lumi/orders/imports/{id}/confirm"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(settled(app, id).await, "imported");
}

/// The recorded problems of an import: (line, column, value, problem key, detail).
async fn problems(app: &TestApp, id: Uuid) -> Vec<(i64, Option<String>, String, String, String)> {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT line, column_name, value, problem, detail FROM order_import_errors \
         WHERE import_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

/// An upload refused on the form: 422, the file's field error, nothing recorded or kept.
async fn assert_refused(
    app: &TestApp,
    client: &reqwest::Client,
    shop: Uuid,
    exported_at: &str,
    (name, bytes): (&str, Vec<u8>),
    field: &str,
    message: &str,
) {
    let before = stored(app).await;
    let res = post_upload(app, client, shop, exported_at, name, bytes).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
    let page = res.text().await.unwrap();
    let error = format!(r#"<p class="field-error" data-field="{field}">{message}</p>"#);
    assert!(page.contains(&error), "{name}: {error}\n{page}");
    assert_eq!(stored(app).await, before, "{name}: nothing recorded");
}

/// (order, placed at) of a shop's stored lines.
async fn placed(app: &TestApp, shop: Uuid) -> Vec<(String, OffsetDateTime)> {
    let mut conn = app.owner_conn().await;
    sqlx::query_as(
        "SELECT order_key, placed_at FROM order_lines WHERE shop_id = $1 \
         AND order_key LIKE 'A_' ORDER BY order_key",
    )
    .bind(shop)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_mdy_shop_and_a_dmy_shop_importing_the_same_orders_written_their_way_land_on_the_same_utc_times()
 {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let (us, uk) = (shop_id(&app, US_SHOP).await, shop_id(&app, UK_SHOP).await);
    // Only the export date order differs: both shops in the same zone.
    let mut conn = app.owner_conn().await;
    sqlx::query("UPDATE shops SET time_zone = 'America/Los_Angeles' WHERE id = $1")
        .bind(uk)
        .execute(&mut conn)
        .await
        .unwrap();
    let month_first = csv(&[
        HEADER,
        "A1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,03/25/2026 14:31:00",
        "A2,S1,Lamp,10.00,USD,sunnykitchen,03/05/2026 09:00:00,/",
        "A3,S1,Lamp,10.00,USD,sunnykitchen,12/01/2026 23:59:59,/",
    ]);
    let day_first = csv(&[
        HEADER,
        "A1,S1,Lamp,10.00,USD,sunnykitchen,25/03/2026 14:30:00,25/03/2026 14:31:00",
        "A2,S1,Lamp,10.00,USD,sunnykitchen,05/03/2026 09:00:00,/",
        "A3,S1,Lamp,10.00,USD,sunnykitchen,01/12/2026 23:59:59,/",
    ]);
    for (shop, bytes) in [(us, month_first), (uk, day_first)] {
        let (id, state) =
            upload_checked(&app, &owner, shop, "2026-12-02T10:00", "orders.csv", bytes).await;
        assert_eq!(state, "validated");
        assert!(problems(&app, id).await.is_empty());
        import(&app, &owner, id).await;
    }
    let expected = vec![
        ("A1".to_string(), datetime!(2026-03-25 21:30 UTC)),
        ("A2".to_string(), datetime!(2026-03-05 17:00 UTC)),
        ("A3".to_string(), datetime!(2026-12-02 07:59:59 UTC)),
    ];
    assert_eq!(placed(&app, us).await, expected);
    assert_eq!(placed(&app, uk).await, expected);
}

#[tokio::test]
async fn a_file_contradicting_the_shops_date_order_is_reported_per_row() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    // A day-first file sent to the month-first shop: the 25th month, 31 April (no date either
    // way), and a row both orders read.
    let bytes = csv(&[
        HEADER,
        "B1,S1,Lamp,10.00,USD,sunnykitchen,25/03/2026 14:30:00,/",
        "B2,S1,Lamp,10.00,USD,sunnykitchen,31/04/2026 14:30:00,/",
        "B3,S1,Lamp,10.00,USD,sunnykitchen,05/03/2026 14:30:00,/",
    ]);
    let (id, state) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "dmy.csv", bytes).await;
    assert_eq!(state, "validated");
    let found = problems(&app, id).await;
    let keys: Vec<(i64, &str, &str)> = found
        .iter()
        .map(|(line, column, _, key, _)| (*line, column.as_deref().unwrap_or(""), key.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            (2, "Time Created", "tracking.orders.error.not_mdy"),
            (3, "Time Created", "tracking.orders.error.bad_date"),
        ]
    );
    let page = report(&app, &owner, id).await;
    assert!(page.contains(r#"data-line="2""#) && page.contains(r#"data-line="3""#));
    assert!(
        page.contains(&zh("tracking.orders.error.not_mdy")),
        "{page}"
    );
    assert!(page.contains(r#"data-testid="good-rows">1<"#));
}

#[tokio::test]
async fn a_file_whose_dates_all_read_both_ways_is_flagged_with_the_order_it_assumed() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let ambiguous = csv(&[
        HEADER,
        "C1,S1,Lamp,10.00,USD,sunnykitchen,03/05/2026 14:30:00,03/05/2026 14:31:00",
        "C2,S1,Lamp,10.00,USD,sunnykitchen,11/12/2026 08:00:00,/",
    ]);
    let (id, _) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "a.csv", ambiguous).await;
    let page = report(&app, &owner, id).await;
    let note = zh("orders.dates_both_ways").replace("%{order}", &zh("date_order.MDY"));
    assert!(
        page.contains(&format!(r#"data-testid="dates-both-ways">{note}<"#)),
        "{page}"
    );
    // One day above 12 settles it: no flag.
    let settled_file = csv(&[
        HEADER,
        "C1,S1,Lamp,10.00,USD,sunnykitchen,03/05/2026 14:30:00,/",
        "C3,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 08:00:00,/",
    ]);
    let (id, _) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "b.csv", settled_file).await;
    assert!(!report(&app, &owner, id).await.contains("dates-both-ways"));
}

#[tokio::test]
async fn unknown_currency_codes_are_rejected_per_row_naming_the_column() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let bytes = csv(&[
        HEADER,
        "D1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
        "D2,S1,Lamp,10.00,XYZ,sunnykitchen,03/25/2026 14:30:00,/",
        "D3,S1,Lamp,10.00,ABC,sunnykitchen,03/25/2026 14:30:00,/",
    ]);
    let (id, _) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "ccy.csv", bytes).await;
    let found = problems(&app, id).await;
    let shown: Vec<(i64, Option<&str>, &str, &str)> = found
        .iter()
        .map(|(line, column, value, key, _)| {
            (*line, column.as_deref(), value.as_str(), key.as_str())
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                3,
                Some("Currency"),
                "XYZ",
                "tracking.orders.error.bad_currency"
            ),
            (
                4,
                Some("Currency"),
                "ABC",
                "tracking.orders.error.bad_currency"
            ),
        ]
    );
    import(&app, &owner, id).await;
    assert_eq!(lines_of(&app, id).await, 1, "only the USD line is stored");
}

#[tokio::test]
async fn an_export_time_in_the_future_is_refused_on_the_upload_form() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let good = csv(&[
        HEADER,
        "E1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
    ]);
    // A year typed wrong: next year.
    let next_year = OffsetDateTime::now_utc().year() + 1;
    let future = format!("{next_year}-03-20T10:00");
    let message = zh("orders.error.exported_at_future");
    assert_refused(
        &app,
        &owner,
        us,
        &future,
        ("orders.csv", good.clone()),
        "exported_at",
        &message,
    )
    .await;
    // The same as a workbook.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.split(',').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (c, v) in "E1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/"
        .split(',')
        .enumerate()
    {
        sheet.write_string(1, c as u16, v).unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    assert_refused(
        &app,
        &owner,
        us,
        &future,
        ("orders.xlsx", xlsx),
        "exported_at",
        &message,
    )
    .await;
    // A minute ago is fine.
    let (_, state) = upload_checked(&app, &owner, us, "2026-12-01T10:00", "ok.csv", good).await;
    assert_eq!(state, "validated");
}

#[tokio::test]
async fn an_empty_export_time_is_taken_from_the_latest_time_in_the_file() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let page = app.get_ok(&owner, "/t/lumi/orders/imports").await;
    assert!(
        page.contains(r#"name="exported_at" type="datetime-local" value="""#),
        "the field starts empty"
    );
    let bytes = csv(&[
        HEADER,
        "F1,S1,Lamp,10.00,USD,sunnykitchen,03/05/2026 14:30:00,03/06/2026 09:00:00",
        "F2,S1,Lamp,10.00,USD,sunnykitchen,03/05/2026 15:30:00,/",
        // A rejected row's time is not the export's.
        "F3,S1,Lamp,ten,USD,sunnykitchen,03/07/2026 15:30:00,/",
    ]);
    let (id, state) = upload_checked(&app, &owner, us, "", "orders.csv", bytes).await;
    assert_eq!(state, "validated");
    let mut conn = app.owner_conn().await;
    let (exported_at, from_file): (OffsetDateTime, bool) = sqlx::query_as(
        "SELECT exported_at, exported_at_from_file FROM order_imports WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    // The latest time of a good row: paid 6 March 09:00 in Los Angeles (PST).
    assert_eq!(
        (exported_at, from_file),
        (datetime!(2026-03-06 17:00 UTC), true)
    );
    let page = report(&app, &owner, id).await;
    assert!(page.contains(r#"data-testid="exported-at-from-file""#));
}

#[tokio::test]
async fn a_truncated_row_is_reported_cut_short_in_both_importers() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let bytes = csv(&[
        HEADER,
        "G1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
        "G2,S1,Lamp",
    ]);
    let (id, _) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "cut.csv", bytes).await;
    let found = problems(&app, id).await;
    assert_eq!(found.len(), 1, "one problem, not a missing value per cell");
    assert_eq!(
        (found[0].0, found[0].3.as_str(), found[0].4.as_str()),
        (3, "tracking.orders.error.cut_short", "3/8")
    );
    let message = zh("tracking.orders.error.cut_short")
        .replace("%{cells}", "3")
        .replace("%{of}", "8");
    assert!(report(&app, &owner, id).await.contains(&message));

    let staff = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let res = upload_creators(
        &app,
        &staff,
        b"handle,followers,country\nmia,10,US\ncut,10\n".to_vec(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&staff, &location(&res)).await;
    let message = zh("creators.import.error.cut_short")
        .replace("%{cells}", "2")
        .replace("%{of}", "3");
    assert!(
        page.contains(r#"data-line="3""#) && page.contains(&message),
        "{page}"
    );
    assert!(!page.contains(r#"data-line="2""#));
}

#[tokio::test]
async fn a_nul_byte_in_a_cell_is_a_row_error_with_its_line_and_column_not_an_internal_error() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    // One NUL near the top, one far past the first block the upload is sniffed from.
    let mut lines = vec![HEADER.to_string()];
    lines.push("H0,S1,La\0mp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/".into());
    for i in 1..1500 {
        lines.push(format!(
            "H{i},S1,Lumi Lamp with a long enough name,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/"
        ));
    }
    lines.push("H9999,S1,Lamp,10.00,US\0D,sunnykitchen,03/25/2026 14:30:00,/".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let bytes = csv(&refs);
    assert!(bytes.len() > 64 * 1024);
    let (id, state) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "nul.csv", bytes).await;
    assert_eq!(state, "validated", "a report, not a failure");
    let found = problems(&app, id).await;
    let control: Vec<(i64, Option<&str>, &str)> = found
        .iter()
        .filter(|p| p.3 == "tracking.orders.error.control_character")
        .map(|(line, column, value, _, _)| (*line, column.as_deref(), value.as_str()))
        .collect();
    assert_eq!(
        control,
        [
            (2, Some("Product Name"), "La\u{2400}mp"),
            (1502, Some("Currency"), "US\u{2400}D"),
        ]
    );
    let page = report(&app, &owner, id).await;
    assert!(page.contains(&zh("tracking.orders.error.control_character")));
    assert!(page.contains(r#"data-testid="good-rows">1,499<"#), "{page}");
    import(&app, &owner, id).await;
    assert_eq!(lines_of(&app, id).await, 1499);

    // The creator import: the row is refused with its line, the rest can be imported.
    let staff = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let res = upload_creators(
        &app,
        &staff,
        b"handle,followers,display_name\nnul.ok,10,Fine\nnul.bad,10,Bad\0name\n".to_vec(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&staff, &location(&res)).await;
    assert!(page.contains(r#"data-line="3""#) && page.contains("Bad\u{2400}name"));
    assert!(page.contains(&zh("creators.import.error.control_character")));
}

#[tokio::test]
async fn a_failed_copy_never_returns_its_connection_to_the_pool() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    // Make the staging COPY fail at the database, whatever the parser lets through.
    let mut conn = app.owner_conn().await;
    sqlx::query(
        "ALTER TABLE order_import_staging ADD CONSTRAINT refuses_boom \
         CHECK (product_name IS DISTINCT FROM 'BOOM')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let bytes = csv(&[
        HEADER,
        "K1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
        "K2,S1,BOOM,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
    ]);
    let (id, state) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "boom.csv", bytes).await;
    assert_eq!(state, "failed");
    let page = report(&app, &owner, id).await;
    assert!(
        page.contains(&format!(
            r#"data-testid="import-failure">{}<"#,
            zh("orders.failure.internal")
        )),
        "{page}"
    );
    let staged: i64 = sqlx::query_scalar("SELECT count(*) FROM order_import_staging")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(staged, 0, "nothing half-written");
    // Every connection the pool holds answers: take them all at once.
    let size = app.db.pool().options().get_max_connections() as usize;
    let mut held = Vec::new();
    for _ in 0..size {
        let mut c = tokio::time::timeout(Duration::from_secs(10), app.db.pool().acquire())
            .await
            .expect("a connection in time")
            .expect("a connection");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(one, 1);
        held.push(c);
    }
    drop(held);
    // And the app goes on: the same file without the poisoned row imports.
    sqlx::query("ALTER TABLE order_import_staging DROP CONSTRAINT refuses_boom")
        .execute(&mut conn)
        .await
        .unwrap();
    let bytes = csv(&[
        HEADER,
        "K1,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
    ]);
    let (id, state) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "ok.csv", bytes).await;
    assert_eq!(state, "validated");
    import(&app, &owner, id).await;
    assert_eq!(lines_of(&app, id).await, 1);
}

#[tokio::test]
async fn keys_repeated_in_a_file_are_listed_with_their_lines_and_the_later_line_wins() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let bytes = csv(&[
        HEADER,
        "576100000000000001,S1,Lamp,10.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
        "576100000000000002,S1,Lamp,20.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
        "576100000000000001,S2,Lamp,30.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
        "576100000000000001,S1,Lamp,40.00,USD,sunnykitchen,03/25/2026 14:30:00,/",
    ]);
    let (id, _) = upload_checked(&app, &owner, us, "2026-12-02T10:00", "rep.csv", bytes).await;
    let page = report(&app, &owner, id).await;
    let line = zh("orders.repeated_line")
        .replace("%{order}", "576100000000000001")
        .replace("%{sku}", "S1")
        .replace("%{lines}", "2, 5")
        .replace("%{kept}", "5");
    assert!(
        page.contains(&format!(
            r#"<ul data-testid="repeated-keys"><li>{line}</li></ul>"#
        )),
        "{page}"
    );
    import(&app, &owner, id).await;
    let mut conn = app.owner_conn().await;
    let amount: rust_decimal::Decimal = sqlx::query_scalar(
        "SELECT amount FROM order_lines WHERE order_key = '576100000000000001' AND line_key = 'S1'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(amount, "40.00".parse().unwrap());
}

#[tokio::test]
async fn files_that_are_no_export_are_refused_on_the_upload_form_with_what_they_are() {
    let app = TestApp::with_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let us = shop_id(&app, US_SHOP).await;
    let header_only = format!("{HEADER}\r\n,,,,,,,\r\n").into_bytes();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.split(',').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    let xlsx_header_only = book.save_to_buffer().unwrap();
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("header.csv", header_only, "tracking.orders.error.no_rows"),
        (
            "header.xlsx",
            xlsx_header_only,
            "tracking.orders.error.no_rows",
        ),
        (
            "screenshot.png",
            PNG.to_vec(),
            "tracking.orders.error.binary",
        ),
        (
            "orders.csv",
            random_bytes(5000),
            "tracking.orders.error.binary",
        ),
        (
            "orders.xlsx",
            b"PK\x03\x04 not really a zip".to_vec(),
            "tracking.orders.error.unreadable",
        ),
        ("empty.csv", Vec::new(), "tracking.orders.error.empty_file"),
    ];
    for (name, bytes, key) in cases {
        let before = stored(&app).await;
        let res = post_upload(&app, &owner, us, "2026-12-02T10:00", name, bytes).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let page = res.text().await.unwrap();
        let message = zh(key);
        let shown = message.split("%{").next().unwrap_or_default();
        assert!(
            page.contains(r#"data-field="file""#) && page.contains(shown),
            "{name}: {message}\n{page}"
        );
        assert_eq!(stored(&app).await, before, "{name}: nothing recorded");
    }
}

async fn upload_creators(
    app: &TestApp,
    client: &reqwest::Client,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name("pool.csv"));
    client
        .post(app.url("/admin/creators/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn hostile_creator_pool_files_get_a_message_and_store_nothing() {
    let app = TestApp::with_demo().await;
    let staff = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let imports = || async {
        let mut conn = app.owner_conn().await;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM creator_imports")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n
    };
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "header only",
            b"handle,followers\r\n".to_vec(),
            "creators.import.error.no_rows",
        ),
        ("png", PNG.to_vec(), "creators.import.error.not_csv"),
        (
            "random",
            random_bytes(5000),
            "creators.import.error.not_csv",
        ),
        ("empty", Vec::new(), "creators.import.error_no_file"),
    ];
    for (what, bytes, key) in cases {
        let before = imports().await;
        let res = upload_creators(&app, &staff, bytes).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&format!(r#"data-testid="form-summary">{}<"#, zh(key))),
            "{what}: {page}"
        );
        assert_eq!(imports().await, before, "{what}: nothing stored");
    }
    // Unknown currencies are the row's problem.
    let res = upload_creators(
        &app,
        &staff,
        b"handle,followers,quote_video,quote_currency\nok.ccy,10,100,USD\nxyz.ccy,10,100,XYZ\n"
            .to_vec(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app.get_ok(&staff, &location(&res)).await;
    assert!(page.contains(r#"data-line="3""#) && page.contains("XYZ"));
    assert!(!page.contains(r#"data-line="2""#));
}
