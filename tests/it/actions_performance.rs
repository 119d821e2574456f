//! The performance actions called directly, as the API calls them: no HTTP.

use sextant::auth::Actor;
use sextant::error::{DomainError, DomainResult};
use sextant::tracking::posts::actions::{
    AddSnapshot, CreatePost, DecideSnapshotImport, SnapshotFile, SnapshotImportDecided,
    SnapshotUpload, UploadSnapshots, add_snapshot, cancel_snapshot_import, confirm_snapshot_import,
    create_post, upload_snapshots,
};
use sextant::tracking::posts::domain::{PostInput, SnapshotInput};
use time::macros::format_description;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::*;

/// The running demo campaign of lumi: one collaboration tracking its post, one accepted
/// without a post yet.
struct Running {
    campaign: Uuid,
    accepted: Uuid,
    tracking: Uuid,
}

async fn running(app: &TestApp) -> Running {
    let mut c = app.owner_conn().await;
    let campaign: Uuid = sqlx::query_scalar(
        "SELECT c.id FROM campaigns c JOIN tenants t ON t.id = c.tenant_id \
          WHERE t.slug = 'lumi' AND c.state = 'running' ORDER BY c.created_at LIMIT 1",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    let in_state = |state: &'static str| {
        sqlx::query_scalar::<_, Uuid>(
            "SELECT id FROM collaborations WHERE campaign_id = $1 AND state = $2 LIMIT 1",
        )
        .bind(campaign)
        .bind(state)
    };
    let accepted = in_state("accepted").fetch_one(&mut c).await.unwrap();
    let tracking = in_state("tracking").fetch_one(&mut c).await.unwrap();
    Running {
        campaign,
        accepted,
        tracking,
    }
}

async fn collaboration_state(app: &TestApp, id: Uuid) -> String {
    let mut c = app.owner_conn().await;
    sqlx::query_scalar("SELECT state FROM collaborations WHERE id = $1")
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

fn utc_text(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] +0000"
    ))
    .unwrap()
}

fn a_post(video: &str, published_at: OffsetDateTime) -> PostInput {
    PostInput {
        url: format!("https://www.tiktok.com/@someone/video/{video}"),
        video_id: String::new(),
        published_at: utc_text(published_at),
    }
}

fn field_error<T: std::fmt::Debug>(result: &DomainResult<T>, field: &str) -> &'static str {
    match result {
        Err(DomainError::Invalid(errors)) => errors
            .get(field)
            .copied()
            .unwrap_or_else(|| panic!("no error on {field}: {errors:?}")),
        other => panic!("expected a field error on {field}, got {other:?}"),
    }
}

async fn post(
    app: &TestApp,
    actor: &Actor,
    collaboration_id: Uuid,
    input: PostInput,
) -> DomainResult<Uuid> {
    let mut tx = app.tx_for(actor).await;
    let created = create_post(
        &mut tx,
        actor,
        CreatePost {
            collaboration_id,
            post: input,
        },
    )
    .await;
    if created.is_ok() {
        tx.commit().await.unwrap();
    }
    created
}

#[tokio::test]
async fn adding_a_post_validates_it_refuses_a_duplicate_and_publishes_the_collaboration() {
    let app = TestApp::with_demo_campaigns().await;
    let r = running(&app).await;
    let published_at = (OffsetDateTime::now_utc() - Duration::days(2))
        .replace_nanosecond(0)
        .unwrap();
    let good = a_post("7400000000000000001", published_at);

    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let refused = post(&app, &viewer, r.accepted, good.clone()).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );

    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let bad = post(
        &app,
        &operator,
        r.accepted,
        PostInput {
            url: "ftp://nowhere".into(),
            ..good.clone()
        },
    )
    .await;
    assert_eq!(field_error(&bad, "url"), "performance.error.url_invalid");

    let id = post(&app, &operator, r.accepted, good.clone())
        .await
        .unwrap();
    assert_eq!(collaboration_state(&app, r.accepted).await, "published");
    let audit = app.audit_of(&id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "post.create");
    let after = after.as_ref().unwrap();
    assert_eq!(after["url"], good.url);
    assert_eq!(after["video_id"], "7400000000000000001");
    assert_eq!(after["collaboration"], r.accepted.to_string());
    let moves = app.audit_of(&r.accepted.to_string()).await;
    let (action, _, after) = moves.last().expect("the collaboration's move");
    assert_eq!(action, "collaboration.transition");
    assert_eq!(after.as_ref().unwrap()["event"], "post_added");

    // The same post again, on another collaboration: next to its fields.
    let again = post(&app, &operator, r.tracking, good.clone()).await;
    assert_eq!(field_error(&again, "url"), "performance.error.url_taken");
    assert_eq!(
        field_error(&again, "video_id"),
        "performance.error.video_id_taken"
    );

    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let missing = post(
        &app,
        &stranger,
        r.accepted,
        a_post("7400000000000000009", published_at),
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn two_requests_adding_the_same_post_get_a_field_error_not_a_500() {
    let app = TestApp::with_demo_campaigns().await;
    let r = running(&app).await;
    let published_at = (OffsetDateTime::now_utc() - Duration::days(1))
        .replace_nanosecond(0)
        .unwrap();
    let same = a_post("7400000000000000002", published_at);
    let operator = app.actor("operator@lumi-home.example", "lumi").await;

    let mut first = app.tx_for(&operator).await;
    create_post(
        &mut first,
        &operator,
        CreatePost {
            collaboration_id: r.accepted,
            post: same.clone(),
        },
    )
    .await
    .unwrap();
    // The second request (another collaboration) checks before the first commits, then its
    // insert waits on the first one's row.
    let mut second = app.tx_for(&operator).await;
    let actor = operator.clone();
    let racing = tokio::spawn(async move {
        create_post(
            &mut second,
            &actor,
            CreatePost {
                collaboration_id: r.tracking,
                post: same,
            },
        )
        .await
    });
    let mut c = app.owner_conn().await;
    let mut waited = false;
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
               AND datname = current_database()",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        if waiting > 0 {
            waited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(waited, "the second request never waited on the first");
    first.commit().await.unwrap();
    let result = racing.await.unwrap();
    let field = match &result {
        Err(DomainError::Invalid(errors)) => errors.keys().next().cloned().unwrap_or_default(),
        other => panic!("expected a field error, got {other:?}"),
    };
    assert!(field == "url" || field == "video_id", "{result:?}");
}

#[tokio::test]
async fn a_snapshot_by_hand_is_validated_starts_tracking_and_is_audited() {
    let app = TestApp::with_demo_campaigns().await;
    let r = running(&app).await;
    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let published_at = (OffsetDateTime::now_utc() - Duration::days(3))
        .replace_nanosecond(0)
        .unwrap();
    let post_id = post(
        &app,
        &operator,
        r.accepted,
        a_post("7400000000000000003", published_at),
    )
    .await
    .unwrap();
    let snapshot = |captured_at: OffsetDateTime| AddSnapshot {
        post_id,
        snapshot: SnapshotInput {
            captured_at: utc_text(captured_at),
            views: "12,000".into(),
            likes: "900".into(),
            comments: "40".into(),
            shares: "12".into(),
            avg_watch_seconds: "7.5".into(),
        },
    };

    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let mut tx = app.tx_for(&viewer).await;
    let refused = add_snapshot(&mut tx, &viewer, snapshot(published_at)).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    drop(tx);

    let mut tx = app.tx_for(&operator).await;
    let early = add_snapshot(
        &mut tx,
        &operator,
        snapshot(published_at - Duration::hours(1)),
    )
    .await;
    assert_eq!(
        field_error(&early, "captured_at"),
        "performance.error.captured_before_published"
    );
    drop(tx);

    let mut tx = app.tx_for(&operator).await;
    let added = add_snapshot(
        &mut tx,
        &operator,
        snapshot(published_at + Duration::days(1)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(added.metrics.views, 12_000);
    assert_eq!(collaboration_state(&app, r.accepted).await, "tracking");
    let audit = app.audit_of(&post_id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "snapshot.add");
    let after = after.as_ref().unwrap();
    assert_eq!(after["views"], 12_000);
    assert_eq!(after["source"], "manual");

    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let mut tx = app.tx_for(&stranger).await;
    let missing = add_snapshot(&mut tx, &stranger, snapshot(published_at)).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}

async fn upload(
    app: &TestApp,
    actor: &Actor,
    campaign_id: Uuid,
    file: SnapshotFile,
) -> DomainResult<SnapshotUpload> {
    let mut tx = app.tx_for(actor).await;
    let checked = upload_snapshots(&mut tx, actor, UploadSnapshots { campaign_id, file }).await;
    if matches!(checked, Ok(SnapshotUpload::Checked { .. })) {
        tx.commit().await.unwrap();
    }
    checked
}

fn csv(text: String) -> SnapshotFile {
    SnapshotFile::File {
        name: "snapshots.csv".into(),
        bytes: text.into_bytes(),
    }
}

async fn decide(
    app: &TestApp,
    actor: &Actor,
    import_id: Uuid,
    confirm: bool,
) -> DomainResult<SnapshotImportDecided> {
    let mut tx = app.tx_for(actor).await;
    let input = DecideSnapshotImport { import_id };
    let decided = if confirm {
        confirm_snapshot_import(&mut tx, actor, input).await
    } else {
        cancel_snapshot_import(&mut tx, actor, input).await
    };
    if decided.is_ok() {
        tx.commit().await.unwrap();
    }
    decided
}

#[tokio::test]
async fn a_snapshot_upload_is_checked_then_imported_once_or_cancelled_and_each_step_is_audited() {
    let app = TestApp::with_demo_campaigns().await;
    let r = running(&app).await;
    let operator = app.actor("operator@lumi-home.example", "lumi").await;
    let published_at = (OffsetDateTime::now_utc() - Duration::days(3))
        .replace_nanosecond(0)
        .unwrap();
    post(
        &app,
        &operator,
        r.accepted,
        a_post("7400000000000000004", published_at),
    )
    .await
    .unwrap();
    let text = format!(
        "video_id,captured_at,views,likes,comments,shares\n\
         7400000000000000004,{},5000,300,20,4\n\
         7400000000000000004,{},-1,300,20,4\n",
        utc_text(published_at + Duration::days(1)),
        utc_text(published_at + Duration::days(2)),
    );
    let good_and_bad = || csv(text.clone());

    let viewer = app.actor("viewer@lumi-home.example", "lumi").await;
    let refused = upload(&app, &viewer, r.campaign, good_and_bad()).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );

    // Whole files refused, with what the message names; nothing kept.
    let none = upload(&app, &operator, r.campaign, SnapshotFile::Missing).await;
    assert_eq!(
        none.unwrap(),
        SnapshotUpload::FileRefused {
            key: "performance.import.error.no_file",
            detail: String::new()
        }
    );
    let columns = upload(
        &app,
        &operator,
        r.campaign,
        csv("video_id,captured_at,views\n1,2,3\n".into()),
    )
    .await;
    assert_eq!(
        columns.unwrap(),
        SnapshotUpload::FileRefused {
            key: "performance.import.error.missing_columns",
            detail: "likes, comments, shares".into()
        }
    );

    let Ok(SnapshotUpload::Checked { import_id }) =
        upload(&app, &operator, r.campaign, good_and_bad()).await
    else {
        panic!("the upload is checked");
    };
    let audit = app.audit_of(&import_id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "snapshots.upload");
    let after = after.as_ref().unwrap();
    assert_eq!(after["good_rows"], 1);
    assert_eq!(after["error_rows"], 1);
    assert_eq!(after["file"], "snapshots.csv");

    let refused = decide(&app, &viewer, import_id, true).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    let stranger = app.actor("owner@nordpeak.example", "nordpeak").await;
    let missing = decide(&app, &stranger, import_id, true).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");

    assert_eq!(
        decide(&app, &operator, import_id, true).await.unwrap(),
        SnapshotImportDecided::Imported { rows: 1 }
    );
    assert_eq!(collaboration_state(&app, r.accepted).await, "tracking");
    let audit = app.audit_of(&import_id.to_string()).await;
    let (action, _, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "snapshots.import");
    assert_eq!(after.as_ref().unwrap()["rows"], 1);
    // Once: a second confirmation or a cancellation does nothing.
    assert_eq!(
        decide(&app, &operator, import_id, true).await.unwrap(),
        SnapshotImportDecided::AlreadyDecided
    );
    assert_eq!(
        decide(&app, &operator, import_id, false).await.unwrap(),
        SnapshotImportDecided::AlreadyDecided
    );
    assert_eq!(app.audit_of(&import_id.to_string()).await.len(), 2);

    // Another upload, cancelled.
    let Ok(SnapshotUpload::Checked { import_id }) =
        upload(&app, &operator, r.campaign, good_and_bad()).await
    else {
        panic!("the upload is checked");
    };
    let refused = decide(&app, &viewer, import_id, false).await;
    assert!(
        matches!(refused, Err(DomainError::Forbidden)),
        "{refused:?}"
    );
    assert_eq!(
        decide(&app, &operator, import_id, false).await.unwrap(),
        SnapshotImportDecided::Cancelled
    );
    let audit = app.audit_of(&import_id.to_string()).await;
    let (action, before, after) = audit.last().expect("an audit entry");
    assert_eq!(action, "snapshots.cancel");
    assert_eq!(before.as_ref().unwrap()["status"], "validated");
    assert_eq!(after.as_ref().unwrap()["status"], "cancelled");
    assert_eq!(
        decide(&app, &operator, import_id, true).await.unwrap(),
        SnapshotImportDecided::AlreadyDecided
    );
    let missing = upload(&app, &stranger, r.campaign, SnapshotFile::Missing).await;
    assert!(matches!(missing, Err(DomainError::NotFound)), "{missing:?}");
}
