//! The campaign report (SPEC §11): targets against results, the per-creator table with final
//! scores, tiers and recommendations, charts, the best content with its deliverable names,
//! lessons learned, the XLSX download; roles and tenant isolation.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::support::*;

/// A closed demo campaign of Lumi with rated collaborations: its id and, per collaboration,
/// (id, handle, final score, tier).
async fn closed_campaign(
    conn: &mut PgConnection,
) -> (Uuid, Vec<(Uuid, String, Option<Decimal>, Option<String>)>) {
    let id: Uuid = sqlx::query_scalar(
        "SELECT k.id FROM campaigns k JOIN tenants t ON t.id = k.tenant_id
          WHERE t.slug = 'lumi' AND k.code = 'LUMI-PAST-03'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let rows = sqlx::query_as(
        "SELECT c.id, cr.handle, r.final_score, COALESCE(t.override_tier, t.tier)::text
           FROM collaborations c JOIN creators cr ON cr.id = c.creator_id
           LEFT JOIN ratings r ON r.collaboration_id = c.id AND r.state = 'completed'
           LEFT JOIN creator_tiers t ON t.tenant_id = c.tenant_id AND t.creator_id = c.creator_id
          WHERE c.campaign_id = $1 ORDER BY cr.handle",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    (id, rows)
}

#[tokio::test]
async fn the_report_shows_targets_creators_scores_tiers_best_content_and_downloads_as_xlsx() {
    let app = TestApp::with_demo_size(sextant::seed::DemoSize::FULL).await;
    let mut conn = app.owner_conn().await;
    let (campaign, collabs) = closed_campaign(&mut conn).await;
    assert!(collabs.len() >= 3);
    // The best collaboration's approved final video names the post in "best content".
    let owner = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app
        .get_ok(&owner, &format!("/t/lumi/campaigns/{campaign}/report"))
        .await;
    assert!(page.contains("data-testid=\"report-code\">LUMI-PAST-03</span>"));
    assert!(page.contains("data-testid=\"headlines\""));
    assert_eq!(
        page.matches("<svg").count(),
        3,
        "three server-rendered charts"
    );
    let article = &page[page.find("data-testid=\"campaign-report\"").unwrap()..];
    let article = &article[..article.find("</article>").unwrap()];
    assert!(!article.contains("<script"), "no chart needs JavaScript");
    for (_, handle, score, tier) in &collabs {
        let row_start = page
            .find(&format!("<tr data-handle=\"{handle}\">"))
            .unwrap_or_else(|| panic!("{handle} in the table"));
        let row = &page[row_start..row_start + page[row_start..].find("</tr>").unwrap()];
        let score = score.expect("rated").round_dp(1).to_string();
        assert!(
            row.contains(&format!("data-col=\"score\">{score}</td>")),
            "{handle}: {row}"
        );
        if let Some(t) = tier {
            assert!(row.contains(&format!(">{t}</span>")), "{handle}: tier {t}");
        }
    }
    let best = &page[page
        .find("data-testid=\"best-posts\"")
        .expect("best content")..];
    let best = &best[..best.find("</ol>").unwrap()];
    assert_eq!(best.matches("<li>").count(), 3, "the top 3 posts");
    // Each collaboration's approved final video names its post in "best content".
    let lumi = app.tenant_id("lumi").await;
    let (am_id, owner_id) = (
        app.user_id(ACCOUNT_MANAGER.0).await,
        app.user_id(OWNER_LUMI.0).await,
    );
    for (i, (collab, ..)) in collabs.iter().enumerate() {
        let video: Uuid = sqlx::query_scalar(
            "INSERT INTO deliverables (tenant_id, id, collaboration_id, kind, lang, version, name,
                link, created_by_label)
             VALUES ($1, gen_random_uuid(), $2, 'final_video', 'en', 1, $3,
                     'https://drive.example.invalid/v/1', 'test') RETURNING id",
        )
        .bind(lumi)
        .bind(collab)
        .bind(format!("LUMI-PAST-03-{i}_final_video_EN_v1"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO deliverable_reviews (tenant_id, id, deliverable_id, stage, outcome,
                reviewer_id, reviewer_label, self_checker_id)
             VALUES ($1, gen_random_uuid(), $2, 'self_check', 'passed', $3, 'am', NULL),
                    ($1, gen_random_uuid(), $2, 'cross_review', 'approved', $4, 'owner', $3)",
        )
        .bind(lumi)
        .bind(video)
        .bind(am_id)
        .bind(owner_id)
        .execute(&mut conn)
        .await
        .unwrap();
    }

    // Lessons learned: bad input beside the field and nothing kept; then written and audited.
    let path = format!("/t/lumi/campaigns/{campaign}/report/lessons");
    let res = app
        .post_form(&owner, &path, &[("lessons", &"长".repeat(5001))])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("data-field=\"lessons\""));
    let res = app
        .post_form(
            &owner,
            &path,
            &[(
                "lessons",
                "开场 3 秒展示产品效果的视频转化最好。\nPrice claims need the shop's own wording.",
            )],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_ok(&owner, &format!("/t/lumi/campaigns/{campaign}/report"))
        .await;
    assert!(page.contains("<p>开场 3 秒展示产品效果的视频转化最好。</p>"));
    let best = &page[page.find("data-testid=\"best-posts\"").unwrap()..];
    let best = &best[..best.find("</ol>").unwrap()];
    assert_eq!(
        best.matches("_final_video_EN_v1</code>").count(),
        3,
        "{best}"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'campaign.lessons' AND entity_id = $1",
    )
    .bind(campaign.to_string())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The workbook: summary, creators, best content, lessons.
    let res = owner
        .get(app.url(&format!("/t/lumi/campaigns/{campaign}/report.xlsx")))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("sextant-report-LUMI-PAST-03.xlsx")
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["Summary", "Creators", "Best content", "Lessons"]
    );
    let creators = book.worksheet_range("Creators").unwrap();
    let handles: Vec<String> = creators.rows().skip(1).map(|r| r[0].to_string()).collect();
    let expected: Vec<String> = collabs.iter().map(|c| format!("@{}", c.1)).collect();
    assert_eq!(handles, expected);
    let summary = book.worksheet_range("Summary").unwrap();
    assert!(summary.rows().any(|r| r[1] == "LUMI-PAST-03"));
    let best = book.worksheet_range("Best content").unwrap();
    assert_eq!(best.rows().count(), 4, "header and the top 3");
    assert!(
        best.rows()
            .skip(1)
            .all(|r| r[2].to_string().ends_with("_final_video_EN_v1"))
    );
    let lessons = book.worksheet_range("Lessons").unwrap();
    assert!(
        lessons
            .rows()
            .any(|r| r[0].to_string().contains("Price claims"))
    );
}

#[tokio::test]
async fn every_member_reads_the_report_writers_keep_the_lessons_and_other_tenants_get_404() {
    let app = TestApp::with_demo_campaigns().await;
    let campaign = app.campaign_in("lumi", "running").await;
    let report = format!("/t/lumi/campaigns/{campaign}/report");
    let viewer = app.login(VIEWER_LUMI.0, VIEWER_LUMI.1).await;
    let page = app.get_ok(&viewer, &report).await;
    assert!(
        !page.contains("data-testid=\"lessons-form\""),
        "a viewer only reads"
    );
    assert!(
        page.contains("aria-current") && page.contains("/report\""),
        "the report tab"
    );
    let res = app
        .post_form(&viewer, &format!("{report}/lessons"), &[("lessons", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app.get_ok(&am, &report).await;
    assert!(page.contains("data-testid=\"lessons-form\""));

    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for path in [
        report.clone(),
        format!("{report}.xlsx"),
        format!("/t/nordpeak/campaigns/{campaign}/report"),
        format!("/t/nordpeak/campaigns/{campaign}/report.xlsx"),
    ] {
        assert_eq!(
            app.status_of(&other, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let res = app
        .post_form(
            &other,
            &format!("/t/nordpeak/campaigns/{campaign}/report/lessons"),
            &[("lessons", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
