//! The creator pool's actions called directly, as staff would through any front door: no HTTP.
//! The pool is the agency's (no tenant): a seller's people are refused, never shown it.

use sextant::auth::Actor;
use sextant::creators::actions::{
    ALREADY_DONE, AddReferenceRate, CreatorImportDone, CreatorImportRef, UploadCreatorImport,
    add_reference_rate, cancel_creator_import, confirm_creator_import, upload_creator_import,
};
use sextant::db::{SystemScope, Tx};
use sextant::error::DomainError;
use uuid::Uuid;

use crate::support::*;

const CREATORS_CSV: &str = "username,nickname,follower_count,markets,languages\n\
@Fresh.Face,Fresh Face,12K,US,en\n\
second.face,Second Face,3.5K,GB,en\n\
,No Handle,10K,US,en\n";

async fn pool(app: &TestApp) -> Tx {
    app.db.system_tx(SystemScope::CreatorPool).await.unwrap()
}

fn upload_of(content: &str) -> UploadCreatorImport {
    UploadCreatorImport {
        filename: "creators.csv".into(),
        content: content.as_bytes().to_vec(),
    }
}

async fn creators_named(app: &TestApp, handles: &[&str]) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM creators WHERE handle = ANY($1)")
        .bind(handles)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    let mut tx = pool(app).await;
    sqlx::query_scalar("SELECT status FROM creator_imports WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
}

/// Uploads the file as `actor` and commits; returns the import's id.
async fn uploaded(app: &TestApp, actor: &Actor, content: &str) -> Uuid {
    let mut tx = pool(app).await;
    let id = upload_creator_import(&mut tx, actor, upload_of(content))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn uploading_a_creator_file_keeps_it_with_its_report_and_refuses_what_is_no_creator_file() {
    let app = TestApp::with_demo().await;
    let am = app.staff_actor("am@sextant.example").await;

    let mut tx = pool(&app).await;
    let id = upload_creator_import(&mut tx, &am, upload_of(CREATORS_CSV))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = pool(&app).await;
    let (status, good, bad, errors): (String, i32, i32, serde_json::Value) = sqlx::query_as(
        "SELECT status, good_rows, error_rows, errors FROM creator_imports WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    assert_eq!((status.as_str(), good, bad), ("validated", 2, 1));
    assert_eq!(errors[0]["line"], 4);
    assert_eq!(
        creators_named(&app, &["fresh.face", "second.face"]).await,
        0,
        "nothing imported before the decision"
    );
    // The upload itself changes no creator: it is not audited (its import is).
    assert!(app.audit_of(&id.to_string()).await.is_empty());

    // An empty file, and a file without a handle column: the `file` field says why.
    for (content, key) in [
        ("", "creators.import.error_no_file"),
        (
            "nickname,follower_count\nx,1\n",
            "creators.import.error.missing_handle_column",
        ),
    ] {
        let mut tx = pool(&app).await;
        let refused = upload_creator_import(&mut tx, &am, upload_of(content)).await;
        let Err(DomainError::Invalid(errors)) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(errors.get("file"), Some(&key), "{content:?}");
    }

    // A seller's owner and finance staff are not the pool's people.
    for actor in [
        app.actor("owner@lumi-home.example", "lumi").await,
        app.staff_actor("finance@sextant.example").await,
    ] {
        let mut tx = pool(&app).await;
        let refused = upload_creator_import(&mut tx, &actor, upload_of(CREATORS_CSV)).await;
        assert!(
            matches!(refused, Err(DomainError::Forbidden)),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn confirming_a_creator_import_imports_the_good_rows_once_and_audits_the_counts() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor("admin@sextant.example").await;
    let id = uploaded(&app, &admin, CREATORS_CSV).await;

    // Not the pool's people; an unknown import.
    let owner = app.actor("owner@lumi-home.example", "lumi").await;
    let mut tx = pool(&app).await;
    let refused = confirm_creator_import(&mut tx, &owner, CreatorImportRef { import_id: id }).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    let missing = confirm_creator_import(
        &mut tx,
        &admin,
        CreatorImportRef {
            import_id: Uuid::now_v7(),
        },
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
    drop(tx);

    let mut tx = pool(&app).await;
    let done = confirm_creator_import(&mut tx, &admin, CreatorImportRef { import_id: id })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        done,
        CreatorImportDone {
            created: 2,
            updated: 0
        }
    );
    assert_eq!(
        creators_named(&app, &["fresh.face", "second.face"]).await,
        2
    );
    assert_eq!(status_of(&app, id).await, "imported");
    let audit = app.audit_of(&id.to_string()).await;
    assert_eq!(audit.len(), 1);
    let (action, _, after) = &audit[0];
    assert_eq!(action, "creators.import");
    let after = after.as_ref().unwrap();
    assert_eq!(after["filename"], "creators.csv");
    assert_eq!(after["created"], 2);
    assert_eq!(after["updated"], 0);
    assert_eq!(after["rejected"], 1);

    // A second confirmation is refused and imports nothing more.
    let mut tx = pool(&app).await;
    let refused = confirm_creator_import(&mut tx, &admin, CreatorImportRef { import_id: id }).await;
    assert!(
        matches!(refused, Err(DomainError::Refused(ALREADY_DONE))),
        "{refused:?}"
    );
    drop(tx);
    assert_eq!(app.audit_of(&id.to_string()).await.len(), 1);
}

#[tokio::test]
async fn cancelling_a_creator_import_drops_it_once_and_then_it_cannot_be_imported() {
    let app = TestApp::with_demo().await;
    let am = app.staff_actor("am@sextant.example").await;
    let id = uploaded(&app, &am, CREATORS_CSV).await;

    let finance = app.staff_actor("finance@sextant.example").await;
    let mut tx = pool(&app).await;
    let refused =
        cancel_creator_import(&mut tx, &finance, CreatorImportRef { import_id: id }).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);
    assert_eq!(status_of(&app, id).await, "validated");

    let mut tx = pool(&app).await;
    cancel_creator_import(&mut tx, &am, CreatorImportRef { import_id: id })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(status_of(&app, id).await, "cancelled");
    // Cancelling changes no creator and is not audited, as on the page.
    assert!(app.audit_of(&id.to_string()).await.is_empty());

    // Decided once: neither cancelling again nor importing it is possible.
    let mut tx = pool(&app).await;
    let again = cancel_creator_import(&mut tx, &am, CreatorImportRef { import_id: id }).await;
    assert!(
        matches!(again, Err(DomainError::Refused(ALREADY_DONE))),
        "{again:?}"
    );
    let confirm = confirm_creator_import(&mut tx, &am, CreatorImportRef { import_id: id }).await;
    assert!(
        matches!(confirm, Err(DomainError::Refused(ALREADY_DONE))),
        "{confirm:?}"
    );
    drop(tx);
    assert_eq!(
        creators_named(&app, &["fresh.face", "second.face"]).await,
        0
    );
}

#[tokio::test]
async fn a_reference_rate_is_the_admins_names_each_wrong_field_and_audits_the_rate_it_replaced() {
    let app = TestApp::with_demo().await;
    let admin = app.staff_actor("admin@sextant.example").await;
    let rate = |date: &str, from: &str, to: &str, rate: &str| AddReferenceRate {
        date: date.into(),
        from: from.into(),
        to: to.into(),
        rate: rate.into(),
    };
    let auth = || async { app.db.system_tx(SystemScope::Auth).await.unwrap() };

    let mut tx = auth().await;
    let refused = add_reference_rate(&mut tx, &admin, rate("22/11/2026", "USD", "usd", "0")).await;
    let Err(DomainError::Invalid(errors)) = refused else {
        panic!("{refused:?}");
    };
    assert_eq!(errors.get("date"), Some(&"rates.error.date"));
    assert_eq!(errors.get("to"), Some(&"rates.error.same_currency"));
    assert_eq!(errors.get("rate"), Some(&"rates.error.rate"));
    assert!(!errors.contains_key("from"));
    drop(tx);

    // The account manager works with the pool, but the rates are the admin's.
    let am = app.staff_actor("am@sextant.example").await;
    let mut tx = auth().await;
    let refused = add_reference_rate(&mut tx, &am, rate("2026-11-22", "USD", "CNY", "7.1")).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);
    assert!(app.audit_of("2026-11-22 USD/CNY").await.is_empty());

    for value in ["7.1", "7.1234"] {
        let mut tx = auth().await;
        let saved = add_reference_rate(&mut tx, &admin, rate("2026-11-22", "usd", "cny", value))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((saved.from.as_str(), saved.to.as_str()), ("USD", "CNY"));
    }
    let mut tx = pool(&app).await;
    let stored = sextant::creators::repo::rate_on(
        &mut tx,
        "USD",
        "CNY",
        time::macros::date!(2026 - 11 - 22),
    )
    .await
    .unwrap();
    drop(tx);
    assert_eq!(stored, Some("7.1234".parse().unwrap()));
    let audit = app.audit_of("2026-11-22 USD/CNY").await;
    assert_eq!(audit.len(), 2);
    let (action, before, after) = &audit[1];
    assert_eq!(action, "reference_rate.set");
    let before: rust_decimal::Decimal = before.as_ref().unwrap()["rate"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(before, "7.1".parse().unwrap());
    assert_eq!(after.as_ref().unwrap()["rate"], "7.1234");
    assert!(audit[0].1.as_ref().unwrap()["rate"].is_null());
}

#[tokio::test]
async fn a_program_posting_a_wrong_rate_gets_problem_json_naming_the_fields_and_htmx_the_form() {
    let app = TestApp::with_demo().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let form = [
        ("date", "2026-11-22"),
        ("from", "USD"),
        ("to", "usd"),
        ("rate", "7.1"),
    ];
    let res = admin
        .post(app.url("/admin/rates"))
        .header("accept", "application/json")
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "to");
    assert_eq!(body["errors"][0]["code"], "rates.error.same_currency");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);

    let res = admin
        .post(app.url("/admin/rates"))
        .header("hx-request", "true")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("不能相同"));
}
