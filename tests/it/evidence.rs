//! Evidence files: checked by content, kept in object storage with an `uploads` row, served back
//! only to the same tenant's users with safe headers.

use sextant::error::DomainError;
use sextant::evidence::actions::{EvidenceUpload, MAX_EVIDENCE_BYTES, store_evidence};
use sextant::evidence::form::upload;
use uuid::Uuid;

use crate::support::*;

pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xD9";
const WEBP: &[u8] =
    b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

async fn small_demo() -> TestApp {
    TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 10,
        campaigns: false,
    })
    .await
}

/// Stores `file` as `email` in Lumi and commits; the id or the refusal.
async fn store_as(app: &TestApp, email: &str, file: EvidenceUpload) -> Result<Uuid, DomainError> {
    let actor = app.actor(email, "lumi").await;
    let mut tx = app.tx_for(&actor).await;
    let stored = store_evidence(&mut tx, &app.state.storage, &actor, file).await;
    if stored.is_ok() {
        tx.commit().await.unwrap();
    }
    stored
}

async fn evidence_rows(app: &TestApp) -> i64 {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT count(*) FROM uploads WHERE purpose = 'evidence'")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// Files under the tenant's evidence folder in object storage.
pub(crate) async fn evidence_objects(app: &TestApp, slug: &str) -> usize {
    let tenant = app.tenant_id(slug).await;
    let dir = app
        .state
        .config
        .data_dir
        .join("objects")
        .join(format!("tenants/{tenant}/evidence"));
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn refused_with(result: Result<Uuid, DomainError>, key: &str) {
    match result {
        Err(DomainError::Invalid(errors)) => {
            assert_eq!(errors.get("evidence").copied(), Some(key), "{errors:?}")
        }
        other => panic!("expected {key}, got {other:?}"),
    }
}

#[tokio::test]
async fn each_accepted_type_comes_back_byte_exact_with_safe_headers() {
    let app = small_demo().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    for (name, bytes, content_type, disposition) in [
        ("截图 1.png", PNG, "image/png", "inline"),
        ("photo.jpg", JPEG, "image/jpeg", "inline"),
        ("frame.webp", WEBP, "image/webp", "inline"),
        (
            "contract \"final\".pdf",
            PDF,
            "application/pdf",
            "attachment",
        ),
    ] {
        let id = store_as(&app, OPERATOR_LUMI.0, upload(name, bytes.to_vec()))
            .await
            .unwrap();
        let res = owner
            .get(app.url(&format!("/t/lumi/evidence/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{name}");
        let h = res.headers().clone();
        assert_eq!(h["content-type"], content_type);
        assert_eq!(h["x-content-type-options"], "nosniff");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("sandbox"), "{csp}");
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with(disposition), "{cd}");
        assert!(cd.contains("filename*=UTF-8''"), "{cd}");
        assert!(
            !cd.contains("\"final\""),
            "quotes are gone from the name: {cd}"
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes, "{name}");
    }
    let mut c = app.owner_conn().await;
    let (content_type, size, sha): (String, i64, String) = sqlx::query_as(
        "SELECT content_type, bytes, sha256 FROM uploads WHERE filename = '截图 1.png'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(content_type, "image/png");
    assert_eq!(size, PNG.len() as i64);
    assert_eq!(sha.len(), 64);
    assert_eq!(evidence_objects(&app, "lumi").await, 4);
}

#[tokio::test]
async fn a_renamed_text_html_an_empty_and_a_too_big_file_are_refused_and_nothing_is_kept() {
    let app = small_demo().await;
    let mut big = PDF.to_vec();
    big.resize(MAX_EVIDENCE_BYTES + 1, b' ');
    for (file, key) in [
        (
            upload("receipt.png", b"this is only text".to_vec()),
            "evidence.error.unsupported_type",
        ),
        (
            upload(
                "page.png",
                b"<html><script>alert(1)</script></html>".to_vec(),
            ),
            "evidence.error.unsupported_type",
        ),
        (
            upload(
                "drawing.png",
                b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            ),
            "evidence.error.unsupported_type",
        ),
        (upload("empty.png", Vec::new()), "evidence.error.empty"),
        (upload("huge.pdf", big), "evidence.error.too_big"),
    ] {
        refused_with(store_as(&app, OWNER_LUMI.0, file).await, key);
    }
    assert_eq!(evidence_rows(&app).await, 0);
    assert_eq!(evidence_objects(&app, "lumi").await, 0);
    // Exactly at the limit is fine.
    let mut at_limit = PDF.to_vec();
    at_limit.resize(MAX_EVIDENCE_BYTES, b' ');
    store_as(&app, OWNER_LUMI.0, upload("limit.pdf", at_limit))
        .await
        .unwrap();
    assert_eq!(evidence_rows(&app).await, 1);
}

#[tokio::test]
async fn another_tenants_user_and_a_non_evidence_upload_get_404() {
    let app = small_demo().await;
    let id = store_as(&app, OWNER_LUMI.0, upload("a.png", PNG.to_vec()))
        .await
        .unwrap();
    let path = format!("/t/lumi/evidence/{id}");
    let nordpeak = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    assert_eq!(app.status_of(&nordpeak, &path).await, 404);
    // Through their own tenant's URL the id is unknown too.
    assert_eq!(
        app.status_of(&nordpeak, &format!("/t/nordpeak/evidence/{id}"))
            .await,
        404
    );
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    assert_eq!(app.status_of(&owner, &path).await, 200);
    assert_eq!(
        app.status_of(&owner, "/t/lumi/evidence/not-a-uuid").await,
        404
    );
    assert_eq!(
        app.status_of(&owner, &format!("/t/lumi/evidence/{}", Uuid::now_v7()))
            .await,
        404
    );
    // An order export is an upload too, but not evidence.
    let tenant = app.tenant_id("lumi").await;
    let other = Uuid::now_v7();
    let mut c = app.owner_conn().await;
    sqlx::query(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, content_type, bytes, sha256, \
           storage_key) VALUES ($1, $2, 'orders', 'o.csv', 'text/csv', 1, 'x', $3)",
    )
    .bind(tenant)
    .bind(other)
    .bind(format!("tenants/{tenant}/orders/{other}"))
    .execute(&mut c)
    .await
    .unwrap();
    assert_eq!(
        app.status_of(&owner, &format!("/t/lumi/evidence/{other}"))
            .await,
        404
    );
    let anonymous = app.client();
    assert_ne!(app.status_of(&anonymous, &path).await, 200);
}

#[tokio::test]
async fn a_viewer_may_read_evidence_but_not_store_it() {
    let app = small_demo().await;
    let refused = store_as(&app, VIEWER_LUMI.0, upload("v.png", PNG.to_vec())).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    assert_eq!(evidence_rows(&app).await, 0);
    let id = store_as(&app, ACCOUNT_MANAGER.0, upload("am.png", PNG.to_vec()))
        .await
        .unwrap();
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let res = viewer
        .get(app.url(&format!("/t/lumi/evidence/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
}
