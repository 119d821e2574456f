//! The order import actions called directly, as the API would call them: no HTTP.

use sextant::auth::Actor;
use sextant::error::DomainError;
use sextant::storage::Storage;
use sextant::tracking::order_imports::actions::{
    AttributeOrderLine, ExportFile, OrderImportRef, QueueOrderImport, StoredExport,
    attribute_order_line, cancel_order_import, confirm_order_import, queue_order_import,
    undo_order_import,
};
use sextant::tracking::order_imports::domain::{ImportState, NOT_ALLOWED};
use sextant::tracking::order_imports::ingest;
use uuid::Uuid;

use crate::support::*;

const US_SHOP: &str = "Lumi Home US · TikTok Shop";
const SHOPIFY_SHOP: &str = "lumihome.invalid · Shopify";

fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/orders")
        .join(name)
}

async fn shop_id(app: &TestApp, name: &str) -> Uuid {
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query_scalar("SELECT id FROM shops WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

/// A fixture stored as the upload page stores it, with its header read.
async fn stored_export(app: &TestApp, name: &str) -> StoredExport {
    let tenant = app.tenant_id("lumi").await;
    let upload_id = Uuid::now_v7();
    let object = app
        .state
        .storage
        .put_file(
            &Storage::key(tenant, "orders", upload_id),
            &fixture_path(name),
        )
        .await
        .unwrap();
    let header = ingest::check_header(&app.state.storage, &object.key, time_tz::timezones::db::UTC)
        .await
        .unwrap();
    StoredExport {
        upload_id,
        filename: name.to_string(),
        content_type: Some("text/csv".into()),
        object,
        header,
    }
}

/// A fixture taken through storage and the validation run (and the import when `import`).
async fn lumi_import(app: &TestApp, name: &str, import: bool) -> Uuid {
    let tenant = app.tenant_id("lumi").await;
    let shop = shop_id(app, US_SHOP).await;
    ingest::import_file(
        &app.db,
        &app.state.storage,
        tenant,
        shop,
        &fixture_path(name),
        name,
        time::macros::datetime!(2026-03-20 10:00 UTC),
        import,
    )
    .await
    .unwrap()
}

async fn imports_of_lumi(app: &TestApp) -> i64 {
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM order_imports")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

async fn staged_rows(app: &TestApp, import: Uuid) -> i64 {
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::ImportJob)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT count(*) FROM order_import_staging WHERE import_id = $1")
        .bind(import)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

/// Runs one move in its own transaction, committed when it succeeds.
async fn run_move(
    app: &TestApp,
    actor: &Actor,
    import_id: Uuid,
    command: &str,
) -> Result<ImportState, DomainError> {
    let mut tx = app.tx_for(actor).await;
    let input = OrderImportRef { import_id };
    let moved = match command {
        "confirm" => confirm_order_import(&mut tx, actor, input).await,
        "cancel" => cancel_order_import(&mut tx, actor, input).await,
        "undo" => undo_order_import(&mut tx, actor, input).await,
        other => panic!("no move {other}"),
    };
    if moved.is_ok() {
        tx.commit().await.unwrap();
    }
    moved
}

#[tokio::test]
async fn queueing_an_upload_names_every_wrong_field_then_records_the_import_and_audits_it() {
    let app = TestApp::with_demo().await;
    let us_shop = shop_id(&app, US_SHOP).await;
    let shopify = shop_id(&app, SHOPIFY_SHOP).await;
    let owner = app.actor("owner@lumi-home.example", "lumi").await;

    // A TikTok export for the Shopify shop, with an unreadable time: both fields are named.
    let mut tx = app.tx_for(&owner).await;
    let refused = queue_order_import(
        &mut tx,
        &owner,
        QueueOrderImport {
            shop_id: Some(shopify),
            exported_at: "yesterday".into(),
            file: ExportFile::Stored(stored_export(&app, "tiktok_v1.csv").await),
        },
    )
    .await;
    let Err(DomainError::Invalid(errors)) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors.get("file"), Some(&"orders.error.wrong_shop"));
    assert_eq!(
        errors.get("exported_at"),
        Some(&"orders.error.exported_at_format")
    );
    assert!(!errors.contains_key("shop_id"), "{errors:?}");
    drop(tx);

    // No file, no shop: each said.
    let mut tx = app.tx_for(&owner).await;
    let refused = queue_order_import(
        &mut tx,
        &owner,
        QueueOrderImport {
            shop_id: None,
            exported_at: "2026-03-20T10:00".into(),
            file: ExportFile::Missing,
        },
    )
    .await;
    let Err(DomainError::Invalid(errors)) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors.get("file"), Some(&"orders.error.no_file"));
    assert_eq!(errors.get("shop_id"), Some(&"orders.error.shop_unknown"));
    drop(tx);
    assert_eq!(imports_of_lumi(&app).await, 0, "nothing is recorded");

    // A viewer may not upload.
    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let refused = queue_order_import(
        &mut tx,
        &viewer,
        QueueOrderImport {
            shop_id: Some(us_shop),
            exported_at: "2026-03-20T10:00".into(),
            file: ExportFile::Stored(stored_export(&app, "tiktok_v1.csv").await),
        },
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);

    // Another tenant does not know Lumi's shop.
    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&stranger).await;
    let refused = queue_order_import(
        &mut tx,
        &stranger,
        QueueOrderImport {
            shop_id: Some(us_shop),
            exported_at: "2026-03-20T10:00".into(),
            file: ExportFile::Stored(stored_export(&app, "tiktok_v1.csv").await),
        },
    )
    .await;
    let Err(DomainError::Invalid(errors)) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors.get("shop_id"), Some(&"orders.error.shop_unknown"));
    drop(tx);

    // The owner's upload is recorded and queued, with its audit entry.
    let export = stored_export(&app, "tiktok_v1.csv").await;
    let (bytes, sha256) = (export.object.bytes, export.object.sha256.clone());
    let mut tx = app.tx_for(&owner).await;
    let id = queue_order_import(
        &mut tx,
        &owner,
        QueueOrderImport {
            shop_id: Some(us_shop),
            exported_at: "2026-03-20T10:00".into(),
            file: ExportFile::Stored(export),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(imports_of_lumi(&app).await, 1);
    let audit = app.audit_of(&id.to_string()).await;
    let (action, before, after) = audit.first().expect("an audit entry");
    assert_eq!(action, "orders.upload");
    assert!(before.is_none());
    let after = after.as_ref().unwrap();
    assert_eq!(after["filename"], "tiktok_v1.csv");
    assert_eq!(after["shop"], US_SHOP);
    assert_eq!(after["bytes"], bytes);
    assert_eq!(after["sha256"], sha256.as_str());
}

#[tokio::test]
async fn confirming_and_cancelling_follow_the_import_state_table_and_are_audited() {
    let app = TestApp::with_demo().await;
    let to_import = lumi_import(&app, "tiktok_v1.csv", false).await;
    let to_cancel = lumi_import(&app, "tiktok_v2.csv", false).await;
    assert!(staged_rows(&app, to_cancel).await > 0);

    // A viewer may look, not import.
    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let refused = run_move(&app, &viewer, to_import, "confirm").await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );

    // Another tenant's owner finds neither.
    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    for (id, command) in [(to_import, "confirm"), (to_cancel, "cancel")] {
        let missing = run_move(&app, &stranger, id, command).await;
        assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
    }

    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    assert_eq!(
        run_move(&app, &operator, to_import, "confirm")
            .await
            .unwrap(),
        ImportState::Importing
    );
    let audit = app.audit_of(&to_import.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "orders.confirm");
    assert_eq!(before.as_ref().unwrap()["state"], "validated");
    let after = after.as_ref().unwrap();
    assert_eq!(after["state"], "importing");
    assert_eq!(after["filename"], "tiktok_v1.csv");
    assert_eq!(after["rows_good"], 3);
    // Once it left `validated`, neither importing again nor cancelling is possible.
    for command in ["confirm", "cancel"] {
        let refused = run_move(&app, &operator, to_import, command).await;
        assert!(
            matches!(refused, Err(DomainError::Refused(NOT_ALLOWED))),
            "{command}: {refused:?}"
        );
    }

    assert_eq!(
        run_move(&app, &operator, to_cancel, "cancel")
            .await
            .unwrap(),
        ImportState::Cancelled
    );
    assert_eq!(staged_rows(&app, to_cancel).await, 0, "its staged rows go");
    let audit = app.audit_of(&to_cancel.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "orders.cancel");
    assert_eq!(before.as_ref().unwrap()["state"], "validated");
    assert_eq!(after.as_ref().unwrap()["state"], "cancelled");
    let refused = run_move(&app, &operator, to_cancel, "confirm").await;
    assert!(
        matches!(refused, Err(DomainError::Refused(NOT_ALLOWED))),
        "{refused:?}"
    );
    // Refused moves wrote nothing more.
    assert_eq!(
        app.audit_of(&to_cancel.to_string()).await.len(),
        audit.len()
    );
}

#[tokio::test]
async fn undoing_takes_an_imported_batch_back_once_and_is_audited() {
    let app = TestApp::with_demo().await;
    let imported = lumi_import(&app, "tiktok_v1.csv", true).await;
    let owner = app.actor("owner@lumi-home.example", "lumi").await;

    // An imported batch cannot be cancelled; a viewer cannot undo; a stranger finds nothing.
    let refused = run_move(&app, &owner, imported, "cancel").await;
    assert!(
        matches!(refused, Err(DomainError::Refused(NOT_ALLOWED))),
        "{refused:?}"
    );
    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let refused = run_move(&app, &viewer, imported, "undo").await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let missing = run_move(&app, &stranger, imported, "undo").await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");

    assert_eq!(
        run_move(&app, &owner, imported, "undo").await.unwrap(),
        ImportState::Undone
    );
    let audit = app.audit_of(&imported.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "orders.undo");
    assert_eq!(before.as_ref().unwrap()["state"], "imported");
    assert_eq!(after.as_ref().unwrap()["state"], "undone");
    let refused = run_move(&app, &owner, imported, "undo").await;
    assert!(
        matches!(refused, Err(DomainError::Refused(NOT_ALLOWED))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn attributing_an_order_line_credits_the_collaboration_and_audits_what_it_replaced() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 60,
        campaigns: true,
    })
    .await;
    lumi_import(&app, "tiktok_v1.csv", true).await;
    let shop = shop_id(&app, US_SHOP).await;
    let (order_key, line_key) = ("577001234567890002", "1729002");
    let tenant = app.tenant_id("lumi").await;
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let current: Option<Uuid> = sqlx::query_scalar(
        "SELECT collaboration_id FROM orders_current WHERE shop_id = $1 AND order_key = $2 \
           AND line_key = $3",
    )
    .bind(shop)
    .bind(order_key)
    .bind(line_key)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let collaboration: Uuid = sqlx::query_scalar(
        "SELECT id FROM collaborations WHERE state NOT IN ('proposed', 'cancelled') \
           AND id IS DISTINCT FROM $1 ORDER BY id LIMIT 1",
    )
    .bind(current)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    let input = |collaboration_id| AttributeOrderLine {
        shop_id: shop,
        order_key: order_key.into(),
        line_key: line_key.into(),
        collaboration_id,
    };
    let entity = format!("{shop}/{order_key}/{line_key}");

    // No collaboration, or one this tenant does not have: the field is named.
    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    for unknown in [None, Some(Uuid::now_v7())] {
        let mut tx = app.tx_for(&operator).await;
        let refused = attribute_order_line(&mut tx, &operator, input(unknown)).await;
        let Err(DomainError::Invalid(errors)) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(
            errors.get("collaboration_id"),
            Some(&"orders.error.collaboration_unknown")
        );
    }
    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let refused = attribute_order_line(&mut tx, &viewer, input(Some(collaboration))).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);
    // Another tenant does not see the line.
    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&stranger).await;
    let missing = attribute_order_line(&mut tx, &stranger, input(Some(collaboration))).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
    drop(tx);
    assert!(app.audit_of(&entity).await.is_empty());

    let mut tx = app.tx_for(&operator).await;
    let before = attribute_order_line(&mut tx, &operator, input(Some(collaboration)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(before, current);
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let (by, now): (String, Uuid) = sqlx::query_as(
        "SELECT attributed_by, collaboration_id FROM orders_current WHERE shop_id = $1 \
           AND order_key = $2 AND line_key = $3",
    )
    .bind(shop)
    .bind(order_key)
    .bind(line_key)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    assert_eq!((by.as_str(), now), ("person", collaboration));
    let audit = app.audit_of(&entity).await;
    assert_eq!(audit.len(), 1);
    let (action, before, after) = &audit[0];
    assert_eq!(action, "orders.attribute");
    assert_eq!(
        before.as_ref().unwrap()["collaboration_id"],
        serde_json::json!(current)
    );
    let after = after.as_ref().unwrap();
    assert_eq!(after["collaboration_id"], collaboration.to_string());
    assert_eq!(after["attributed_by"], "person");
}

#[tokio::test]
async fn a_program_gets_problem_json_for_a_refused_move_and_a_wrong_field_and_a_browser_its_page() {
    let app = TestApp::with_demo().await;
    let imported = lumi_import(&app, "tiktok_v1.csv", true).await;
    let shop = shop_id(&app, US_SHOP).await.to_string();
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let cancel = format!("/t/lumi/orders/imports/{imported}/cancel");

    let res = owner
        .post(app.url(&cancel))
        .header("accept", "application/json")
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CONFLICT);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], NOT_ALLOWED);

    // A browser is sent back to the import with the message, as before.
    let res = app.post_form(&owner, &cancel, &[]).await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/t/lumi/orders/imports/{imported}"));

    // An upload without a file, from a program: every wrong field, as problem+json.
    let upload = reqwest::multipart::Form::new()
        .text("shop_id", shop.clone())
        .text("exported_at", "yesterday");
    let res = owner
        .post(app.url("/t/lumi/orders/imports"))
        .header("accept", "application/json")
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["exported_at", "file"]);
    assert_eq!(
        imports_of_lumi(&app).await,
        1,
        "only the batch imported above"
    );

    let form = [
        ("shop_id", shop.as_str()),
        ("order_key", "577001234567890002"),
        ("line_key", "1729002"),
        ("collaboration_id", "not-a-collaboration"),
    ];
    let res = owner
        .post(app.url("/t/lumi/orders/attribute"))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "collaboration_id");
    assert_eq!(
        body["errors"][0]["code"],
        "orders.error.collaboration_unknown"
    );
    let res = app
        .post_form(&owner, "/t/lumi/orders/attribute", &form)
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/t/lumi/orders/unattributed");
}
