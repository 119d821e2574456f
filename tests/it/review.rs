//! Content review (SPEC §10): versioned deliverables named `{SKU}_{type}_{lang}_v{n}`, the
//! self-check against the checklist and the cross-review by someone else, change requests past
//! the included revisions, posts before the final video's approval, the checklist as data, the
//! files served only to the tenant, and the audit entries.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::support::*;

/// A tiny MP4 (its `ftyp` box is what the check reads).
fn mp4() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    v.extend_from_slice(&[0u8; 64]);
    v
}

/// Lumi's oldest accepted collaboration, with its creator and current terms' revisions.
async fn accepted(conn: &mut PgConnection) -> (Uuid, i32) {
    sqlx::query_as(
        "SELECT c.id, (v.terms->>'revisions_included')::int FROM collaborations c
           JOIN tenants t ON t.id = c.tenant_id
           JOIN contract_versions v ON v.tenant_id = c.tenant_id AND v.collaboration_id = c.id
                AND v.version = c.current_version
          WHERE t.slug = 'lumi' AND c.state = 'accepted' ORDER BY c.created_at LIMIT 1",
    )
    .fetch_one(conn)
    .await
    .expect("an accepted demo collaboration")
}

async fn add_file(
    app: &TestApp,
    client: &reqwest::Client,
    collab: Uuid,
    (kind, lang): (&str, &str),
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new()
        .text("kind", kind.to_string())
        .text("lang", lang.to_string())
        .text("link", "")
        .text("note", "")
        .part("file", Part::bytes(bytes).file_name("cut.mp4"));
    client
        .post(app.url(&format!("/t/lumi/collaborations/{collab}/deliverables")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn add_link(
    app: &TestApp,
    client: &reqwest::Client,
    collab: Uuid,
    (kind, lang): (&str, &str),
    link: &str,
) -> reqwest::Response {
    let form = Form::new()
        .text("kind", kind.to_string())
        .text("lang", lang.to_string())
        .text("link", link.to_string())
        .text("note", "v from the creator");
    client
        .post(app.url(&format!("/t/lumi/collaborations/{collab}/deliverables")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The versions of a collaboration: (id, name), oldest first.
async fn versions(conn: &mut PgConnection, collab: Uuid) -> Vec<(Uuid, String)> {
    sqlx::query_as(
        "SELECT id, name FROM deliverables WHERE collaboration_id = $1 ORDER BY created_at",
    )
    .bind(collab)
    .fetch_all(conn)
    .await
    .unwrap()
}

/// The checklist items the self-check form of the page offers.
fn offered_items(html: &str) -> Vec<String> {
    html.split("name=\"item\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

async fn self_check(
    app: &TestApp,
    client: &reqwest::Client,
    id: Uuid,
    items: &[String],
) -> reqwest::Response {
    let mut fields: Vec<(&str, &str)> = items.iter().map(|i| ("item", i.as_str())).collect();
    fields.push(("comment", "Checked against the brief"));
    app.post_form(
        client,
        &format!("/t/lumi/deliverables/{id}/self-check"),
        &fields,
    )
    .await
}

async fn cross_review(
    app: &TestApp,
    client: &reqwest::Client,
    id: Uuid,
    outcome: &str,
    comment: &str,
) -> reqwest::Response {
    app.post_form(
        client,
        &format!("/t/lumi/deliverables/{id}/review"),
        &[("outcome", outcome), ("comment", comment)],
    )
    .await
}

async fn state_of(conn: &mut PgConnection, collab: Uuid) -> String {
    sqlx::query_scalar("SELECT state FROM collaborations WHERE id = $1")
        .bind(collab)
        .fetch_one(conn)
        .await
        .unwrap()
}

async fn count(conn: &mut PgConnection, sql: &str, id: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn versions_are_numbered_per_type_and_language_and_named_by_the_convention() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let (collab, _) = accepted(&mut conn).await;
    let sku: String = sqlx::query_scalar(
        "SELECT COALESCE(v.terms->'sample'->>'sku', k.code) FROM collaborations c
           JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id
           JOIN contract_versions v ON v.tenant_id = c.tenant_id AND v.collaboration_id = c.id
                AND v.version = c.current_version WHERE c.id = $1",
    )
    .bind(collab)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    for res in [
        add_file(&app, &am, collab, ("draft_video", "en"), mp4()).await,
        add_file(&app, &am, collab, ("draft_video", "en"), mp4()).await,
        add_link(
            &app,
            &am,
            collab,
            ("draft_video", "de"),
            "https://drive.example.invalid/v/9",
        )
        .await,
        add_link(
            &app,
            &am,
            collab,
            ("script", "en"),
            "https://docs.example.invalid/s/1",
        )
        .await,
    ] {
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let names: Vec<String> = versions(&mut conn, collab)
        .await
        .into_iter()
        .map(|v| v.1)
        .collect();
    assert_eq!(
        names,
        vec![
            format!("{sku}_draft_video_EN_v1"),
            format!("{sku}_draft_video_EN_v2"),
            format!("{sku}_draft_video_DE_v1"),
            format!("{sku}_script_EN_v1"),
        ]
    );

    // The page: each deliverable with its history, newest first.
    let page = app
        .get_ok(&am, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    let v2 = page.find(&format!("{sku}_draft_video_EN_v2")).unwrap();
    let v1 = page.find(&format!("{sku}_draft_video_EN_v1")).unwrap();
    assert!(v2 < v1, "the newest version first");
    assert!(page.contains(
        "href=\"https://drive.example.invalid/v/9\" rel=\"noopener noreferrer nofollow\""
    ));

    // The file comes back to the tenant's users only, as a download that is never sniffed.
    let (v1_id, _) = versions(&mut conn, collab).await[0].clone();
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let res = viewer
        .get(app.url(&format!("/t/lumi/deliverables/{v1_id}/file")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "video/mp4");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with(&format!(
            "attachment; filename=\"{sku}_draft_video_EN_v1.mp4\""
        )),
        "{disposition}"
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), mp4());
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        format!("/t/lumi/deliverables/{v1_id}/file"),
        format!("/t/nordpeak/deliverables/{v1_id}/file"),
    ] {
        let status = app.status_of(&other, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // A link version has no file.
    let (link_id, _) = versions(&mut conn, collab).await[2].clone();
    assert_eq!(
        app.status_of(&am, &format!("/t/lumi/deliverables/{link_id}/file"))
            .await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_versions_are_refused_beside_the_field_and_nothing_is_kept() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let (collab, _) = accepted(&mut conn).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let uploads_before = count(
        &mut conn,
        "SELECT count(*) FROM uploads WHERE purpose = 'deliverable' AND $1::uuid IS NOT NULL",
        collab,
    )
    .await;
    let cases: Vec<(&str, reqwest::Response)> = vec![
        (
            "file",
            add_file(
                &app,
                &am,
                collab,
                ("draft_video", "en"),
                b"MZ\x90\x00binary".to_vec(),
            )
            .await,
        ),
        (
            "file",
            add_file(
                &app,
                &am,
                collab,
                ("draft_video", "en"),
                vec![b'a'; 10 * 1024 * 1024 + 1],
            )
            .await,
        ),
        (
            "lang",
            add_link(
                &app,
                &am,
                collab,
                ("draft_video", "klingon"),
                "https://x.example.invalid/a",
            )
            .await,
        ),
        (
            "kind",
            add_link(
                &app,
                &am,
                collab,
                ("trailer", "en"),
                "https://x.example.invalid/a",
            )
            .await,
        ),
        (
            "link",
            add_link(&app, &am, collab, ("script", "en"), "javascript:alert(1)").await,
        ),
        (
            "file",
            add_link(&app, &am, collab, ("script", "en"), "").await,
        ),
    ];
    for (field, res) in cases {
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!("<p class=\"field-error\" data-field=\"{field}\">")),
            "{field}: {body}"
        );
    }
    assert!(versions(&mut conn, collab).await.is_empty());
    let uploads_after = count(
        &mut conn,
        "SELECT count(*) FROM uploads WHERE purpose = 'deliverable' AND $1::uuid IS NOT NULL",
        collab,
    )
    .await;
    assert_eq!(uploads_before, uploads_after);

    // Viewers look but do not add; another tenant's collaboration is not found.
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let res = add_link(
        &app,
        &viewer,
        collab,
        ("script", "en"),
        "https://x.example.invalid/a",
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let res = add_link(
        &app,
        &other,
        collab,
        ("script", "en"),
        "https://x.example.invalid/a",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn self_check_then_cross_review_by_someone_else_and_one_event_per_request_past_the_limit() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let (collab, included) = accepted(&mut conn).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let records = "SELECT count(*) FROM fulfilment_records \
                   WHERE collaboration_id = $1 AND kind = 'revision_limit_exceeded'";

    let mut requests = 0;
    for round in 1..=(included + 2) {
        let res = add_file(&app, &am, collab, ("final_video", "en"), mp4()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (id, name) = versions(&mut conn, collab).await.last().unwrap().clone();
        assert!(name.ends_with(&format!("_final_video_EN_v{round}")));

        // The self-check needs every item that applies to the campaign.
        let page = app
            .get_ok(&am, &format!("/t/lumi/collaborations/{collab}"))
            .await;
        let items = offered_items(&page);
        assert!(
            items.len() >= 5,
            "the checklist for TikTok Shop, US/GB: {items:?}"
        );
        if round == 1 {
            let res = self_check(&app, &am, id, &items[1..]).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("data-field=\"checklist\"")
            );
            // Cross-review before the self-check is refused.
            let res = cross_review(&app, &owner, id, "approve", "").await;
            assert_eq!(res.status(), StatusCode::CONFLICT);
        }
        let res = self_check(&app, &am, id, &items).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        if round == 1 {
            // The same person cannot cross-review what they self-checked.
            let page = app
                .get_ok(&am, &format!("/t/lumi/collaborations/{collab}"))
                .await;
            assert!(page.contains("data-testid=\"not-you\""));
            let res = cross_review(&app, &am, id, "approve", "").await;
            assert_eq!(res.status(), StatusCode::CONFLICT);
            assert!(res.text().await.unwrap().contains("自检人以外"));
            // Changes need a comment.
            let res = cross_review(&app, &owner, id, "request_changes", " ").await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(res.text().await.unwrap().contains("data-field=\"comment\""));
            let res = cross_review(&app, &owner, id, "maybe", "x").await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let res = cross_review(
            &app,
            &owner,
            id,
            "request_changes",
            "Show the basket earlier",
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        requests += 1;
        // One event per change request past the contract's included revisions.
        let expected = i64::from((requests - included).max(0));
        assert_eq!(
            count(&mut conn, records, collab).await,
            expected,
            "after request {requests}"
        );
        // A version already reviewed is not reviewed again.
        let res = cross_review(&app, &owner, id, "approve", "").await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
    }
    let page = app
        .get_ok(&owner, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(page.contains(&format!(
        "已要求修改：{} 次 · 合同含修改：{included} 次",
        included + 2
    )));
    assert!(page.contains("Show the basket earlier"));

    // A new version is approved; an older one can no longer be reviewed.
    let res = add_file(&app, &am, collab, ("final_video", "en"), mp4()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = versions(&mut conn, collab).await;
    let (newest, _) = all.last().unwrap().clone();
    let (older, _) = all[0].clone();
    let page = app
        .get_ok(&am, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    let res = self_check(&app, &am, newest, &offered_items(&page)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = cross_review(&app, &owner, newest, "approve", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let state: String = sqlx::query_scalar(
        "SELECT outcome FROM deliverable_reviews WHERE deliverable_id = $1 AND stage = 'cross_review'",
    )
    .bind(newest)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(state, "approved");
    let res = self_check(&app, &am, older, &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Every step is in the audit trail under its person.
    for (action, who) in [
        ("deliverable.add", ACCOUNT_MANAGER.0),
        ("deliverable.self_check", ACCOUNT_MANAGER.0),
        ("deliverable.review", OWNER_LUMI.0),
    ] {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action = $1 AND actor_label = $2",
        )
        .bind(action)
        .bind(who)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert!(n >= 1, "{action} by {who}");
    }
    // Reviews are never changed, even by the tables' owner.
    let err = sqlx::query("UPDATE deliverable_reviews SET outcome = 'approved'")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sqlx::query("DELETE FROM deliverables")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");

    // Another tenant cannot review Lumi's versions.
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        format!("/t/nordpeak/deliverables/{newest}/self-check"),
        format!("/t/nordpeak/deliverables/{newest}/review"),
        format!("/t/lumi/deliverables/{newest}/review"),
    ] {
        let res = app
            .post_form(&other, &path, &[("outcome", "approve"), ("comment", "")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn with_review_on_a_draft_moves_to_in_review_and_an_early_post_is_a_compliance_issue() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let (collab, _) = accepted(&mut conn).await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    // Review off (the default): a draft keeps the collaboration where it is.
    let res = add_file(&app, &am, collab, ("draft_video", "en"), mp4()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&mut conn, collab).await, "accepted");

    // Only the owner switches it.
    let res = app
        .post_form(
            &am,
            "/t/lumi/settings/content-review",
            &[("content_review", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_form(
            &owner,
            "/t/lumi/settings/content-review",
            &[("content_review", "on"), ("back", &collab.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = add_file(&app, &am, collab, ("draft_video", "en"), mp4()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(state_of(&mut conn, collab).await, "in_review");

    // A post before the final video is approved: recorded all the same, and said so.
    let compliance = "SELECT count(*) FROM fulfilment_records \
                      WHERE collaboration_id = $1 AND kind = 'compliance_issue'";
    let res = app
        .post_form(
            &am,
            &format!("/t/lumi/collaborations/{collab}/posts"),
            &[
                (
                    "url",
                    "https://www.tiktok.com/@demo/video/7400000000000000999",
                ),
                ("video_id", ""),
                ("published_at", "2026-11-20T10:00"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(state_of(&mut conn, collab).await, "published");
    assert_eq!(count(&mut conn, compliance, collab).await, 1);
    let page = app
        .get_ok(&owner, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(page.contains("终版视频审核通过前已发布"));

    // The switch is audited with before and after.
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'tenant.content_review'
            AND before->>'content_review' = 'false' AND after->>'content_review' = 'true'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn admins_keep_the_checklist_per_platform_and_market() {
    let app = TestApp::with_demo_campaigns().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let page = app.get_ok(&admin, "/admin/checklists").await;
    for text in [
        "前 3 秒有吸引人的开场",
        "Modest dress (Middle East)",
        "Licensed music and fonts only",
    ] {
        assert!(page.contains(text), "{text}");
    }
    // Bad input beside each field, nothing stored.
    let mut conn = app.owner_conn().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM checklist_items")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let res = app
        .post_form(
            &admin,
            "/admin/checklists",
            &[
                ("platform", "myspace"),
                ("markets", "USA, 12"),
                ("text_zh", ""),
                ("text_en", "x"),
                ("position", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    for field in ["platform", "markets", "text_zh", "position"] {
        assert!(body.contains(&format!("data-field=\"{field}\"")), "{field}");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM checklist_items")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(before, after);

    // A new item for Lumi's markets shows on the self-check; a retired one no longer does.
    let res = app
        .post_form(
            &admin,
            "/admin/checklists",
            &[
                ("platform", ""),
                ("markets", "us, gb"),
                ("text_zh", "价格与店铺一致"),
                ("text_en", "Price matches the shop"),
                ("position", "15"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (collab, _) = accepted(&mut conn).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    add_file(&app, &am, collab, ("draft_video", "en"), mp4()).await;
    let page = app
        .get_ok(&am, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(page.contains("价格与店铺一致"));
    assert!(
        !page.contains("着装得体保守"),
        "the Middle East item is not for US/GB"
    );
    let item: Uuid = sqlx::query_scalar(
        "SELECT id FROM checklist_items WHERE text_en = 'Price matches the shop'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let res = app
        .post_form(
            &admin,
            &format!("/admin/checklists/{item}/active"),
            &[("active", "off")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_ok(&am, &format!("/t/lumi/collaborations/{collab}"))
        .await;
    assert!(!page.contains("价格与店铺一致"));
    // Only admins keep it.
    for who in [ACCOUNT_MANAGER, OWNER_LUMI] {
        let client = app.login(who.0, who.1).await;
        assert_eq!(
            app.status_of(&client, "/admin/checklists").await,
            StatusCode::FORBIDDEN
        );
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action IN ('checklist.add', 'checklist.active')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(n, 2);
}

async fn review_on(conn: &mut PgConnection) -> bool {
    sqlx::query_scalar("SELECT content_review FROM tenants WHERE slug = 'lumi'")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_review_switch_refuses_a_bad_value_and_another_tenants_owner() {
    let app = TestApp::with_demo_campaigns().await;
    let mut conn = app.owner_conn().await;
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = app
        .post_form(
            &owner,
            "/t/lumi/settings/content-review",
            &[("content_review", "maybe")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!review_on(&mut conn).await);
    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    let res = app
        .post_form(
            &other,
            "/t/lumi/settings/content-review",
            &[("content_review", "on")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!review_on(&mut conn).await, "nothing changed");
}
