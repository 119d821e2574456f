//! Performance's state changes (SPEC §5), each one function `(tx, &Actor, input)` that checks its
//! rule (`domain`, `csv_import`), writes through `repo` and records its audit entry: adding a
//! post, a snapshot by hand, and a snapshot CSV upload with its decision (import the checked rows
//! or cancel). The collaboration moves these facts cause (published, tracking) go through
//! `contracts::actions`. Pages and the API call these.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::csv_import::{self, PostRef, Posts, StoredError, StoredRow};
use super::domain::{self, NewSnapshot, PostInput, SnapshotImportStatus, SnapshotInput};
use super::repo::{self, CollabFacts, NewPostRow, NewSnapshotImport};
use super::zone_of;
use crate::audit;
use crate::auth::Actor;
use crate::contracts::actions::{TransitionCollaboration, transition_collaboration};
use crate::contracts::domain::{ContractEvent, next_state};
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::storage::StoredObject;
use crate::tenants::Access;

/// A post racing another request for the same URL or video id gets the message the check
/// gives, never a 500.
const POST_CONSTRAINTS: &[(&str, &str, &str)] = &[
    (
        "posts_tenant_id_url_key",
        "url",
        "performance.error.url_taken",
    ),
    (
        "posts_tenant_id_video_id_key",
        "video_id",
        "performance.error.video_id_taken",
    ),
];

/// Owners, operators and the assigned account manager record posts and snapshots, in an active
/// tenant; viewers read.
pub fn may_record(actor: &Actor) -> DomainResult<()> {
    actor.require_active()?;
    actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])
}

async fn collaboration(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> DomainResult<CollabFacts> {
    let tenant = actor.tenant()?;
    repo::collaboration(tx, tenant.id, &tenant.time_zone, id, lock)
        .await?
        .ok_or(DomainError::NotFound)
}

fn sample_needed(collab: &CollabFacts) -> bool {
    collab
        .campaign_data
        .get("sample_needed")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// A post of a collaboration, as typed.
#[derive(Clone, Debug)]
pub struct CreatePost {
    pub collaboration_id: Uuid,
    pub post: PostInput,
}

/// Validates the post (times in the campaign shop's zone), refuses a URL or video id already
/// recorded (next to its field) and a collaboration whose state takes no post (`form`), records
/// the post and moves the collaboration to published. Nothing is saved on error.
pub async fn create_post(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreatePost,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant()?.id;
    let id = input.collaboration_id;
    let collab = collaboration(tx, actor, id, true).await?;
    may_record(actor)?;
    let zone = zone_of(&collab.zone);
    let now = OffsetDateTime::now_utc();
    let mut errors = FieldErrors::new();
    if next_state(
        collab.state,
        &ContractEvent::PostAdded,
        sample_needed(&collab),
        false,
    )
    .is_err()
    {
        errors.insert("form".into(), "performance.error.state_refuses_post");
    }
    let post = match domain::validate_post(&input.post, zone, now) {
        Ok(post) => Some(post),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    if let Some(post) = &post {
        let (url_taken, video_taken) =
            repo::post_taken(tx, tenant, &post.url, post.video_id.as_deref()).await?;
        if url_taken {
            errors.insert("url".into(), "performance.error.url_taken");
        }
        if video_taken {
            errors.insert("video_id".into(), "performance.error.video_id_taken");
        }
    }
    let post = match post {
        Some(post) if errors.is_empty() => post,
        _ => return Err(DomainError::Invalid(errors)),
    };
    let post_id = Uuid::now_v7();
    repo::insert_post(
        tx,
        tenant,
        &NewPostRow {
            id: post_id,
            collaboration_id: id,
            url: &post.url,
            video_id: post.video_id.as_deref(),
            published_at: post.published_at,
            created_by: actor.user_id,
        },
    )
    .await
    .map_err(|e| DomainError::unique_as_field(e, POST_CONSTRAINTS))?;
    transition_collaboration(
        tx,
        actor,
        TransitionCollaboration {
            collaboration_id: id,
            event: ContractEvent::PostAdded,
        },
    )
    .await?;
    // Live before its final video was approved: recorded all the same, and said so.
    crate::review::actions::check_post(tx, actor, id, &post.url).await?;
    audit::record(
        tx,
        actor.audit("post.create", "post", post_id).after(json!({
            "collaboration": id,
            "url": post.url,
            "video_id": post.video_id,
            "published_at": post.published_at.to_string(),
        })),
    )
    .await?;
    Ok(post_id)
}

/// One snapshot of a post, typed by hand.
#[derive(Clone, Debug)]
pub struct AddSnapshot {
    pub post_id: Uuid,
    pub snapshot: SnapshotInput,
}

/// Records one snapshot (the same post and moment replaces the stored one); the first one
/// starts the collaboration's tracking.
pub async fn add_snapshot(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AddSnapshot,
) -> DomainResult<NewSnapshot> {
    let tenant = actor.tenant()?.id;
    let post = repo::post(tx, tenant, input.post_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    may_record(actor)?;
    let collab = collaboration(tx, actor, post.collaboration_id, true).await?;
    let zone = zone_of(&collab.zone);
    let snapshot = domain::validate_snapshot(
        &input.snapshot,
        zone,
        post.published_at,
        OffsetDateTime::now_utc(),
    )
    .map_err(DomainError::Invalid)?;
    repo::upsert_snapshots(
        tx,
        tenant,
        &[(post.id, snapshot.clone())],
        "manual",
        actor.user_id,
    )
    .await?;
    transition_collaboration(
        tx,
        actor,
        TransitionCollaboration {
            collaboration_id: collab.id,
            event: ContractEvent::TrackingStarted,
        },
    )
    .await?;
    audit::record(
        tx,
        actor.audit("snapshot.add", "post", post.id).after(json!({
            "captured_at": snapshot.captured_at.to_string(),
            "views": snapshot.metrics.views,
            "likes": snapshot.metrics.likes,
            "comments": snapshot.metrics.comments,
            "shares": snapshot.metrics.shares,
            "avg_watch_seconds": snapshot.avg_watch_seconds,
            "source": "manual",
        })),
    )
    .await?;
    Ok(snapshot)
}

/// Snapshots as a program sends them (the API), up to 10,000 a call.
#[derive(Clone, Debug)]
pub struct IngestSnapshots {
    pub snapshots: Vec<domain::SnapshotRecord>,
    /// What the audit entry names as the source ("api").
    pub source: &'static str,
}

/// What a batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotsIngested {
    pub received: usize,
    /// Distinct post + moment pairs written (a pair sent twice in one call counts once: the
    /// later one wins).
    pub stored: usize,
}

/// Records a batch of snapshots, all or nothing: every record is checked as the form checks
/// one (each problem named by its row, `snapshots[i].field`); the same post and moment replaces
/// the stored snapshot, so sending a batch again changes nothing; published collaborations
/// start tracking. One audit entry for the batch.
pub async fn ingest_snapshots(
    tx: &mut PgConnection,
    actor: &Actor,
    input: IngestSnapshots,
) -> DomainResult<SnapshotsIngested> {
    let tenant = actor.tenant()?.id;
    may_record(actor)?;
    crate::db::without_jit(tx).await?;
    let received = input.snapshots.len();
    if received == 0 || received > domain::MAX_SNAPSHOTS_PER_CALL {
        return Err(DomainError::field("snapshots", "api.error.batch_size"));
    }
    let ids: Vec<Uuid> = input
        .snapshots
        .iter()
        .map(|s| s.post_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let published: std::collections::HashMap<Uuid, OffsetDateTime> =
        repo::published_at_of(tx, tenant, &ids)
            .await?
            .into_iter()
            .collect();
    let now = OffsetDateTime::now_utc();
    let mut errors = FieldErrors::new();
    // The later of two records of the same post and moment wins, as in a file.
    let mut latest: std::collections::HashMap<(Uuid, OffsetDateTime), usize> =
        std::collections::HashMap::with_capacity(received);
    let mut checked = Vec::with_capacity(received);
    for (i, record) in input.snapshots.iter().enumerate() {
        let published_at = published.get(&record.post_id).copied();
        if let Some(snapshot) =
            domain::validate_snapshot_record(i, record, published_at, now, &mut errors)
        {
            latest.insert((record.post_id, snapshot.captured_at), checked.len());
            checked.push((record.post_id, snapshot));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut snapshots: Vec<(Uuid, NewSnapshot)> = checked
        .into_iter()
        .enumerate()
        .filter(|(i, (post, s))| latest.get(&(*post, s.captured_at)) == Some(i))
        .map(|(_, row)| row)
        .collect();
    // Rows locked in one order whatever order they came in: two batches touching the same
    // snapshots wait for each other instead of deadlocking.
    snapshots.sort_by_key(|(post, s)| (*post, s.captured_at));
    repo::upsert_snapshots(tx, tenant, &snapshots, input.source, actor.user_id).await?;
    start_tracking(tx, actor, &ids).await?;
    audit::record(
        tx,
        actor
            .audit("snapshots.ingest", "tenant", tenant)
            .after(json!({
                "source": input.source,
                "received": received,
                "stored": snapshots.len(),
                "posts": ids.len(),
            })),
    )
    .await?;
    Ok(SnapshotsIngested {
        received,
        stored: snapshots.len(),
    })
}

/// Snapshots of these posts are in: their collaborations still `published` start tracking.
async fn start_tracking(tx: &mut PgConnection, actor: &Actor, posts: &[Uuid]) -> DomainResult<()> {
    let tenant = actor.tenant()?.id;
    for collaboration_id in repo::published_collaborations_of(tx, tenant, posts).await? {
        transition_collaboration(
            tx,
            actor,
            TransitionCollaboration {
                collaboration_id,
                event: ContractEvent::TrackingStarted,
            },
        )
        .await?;
    }
    Ok(())
}

/// The file of a snapshot upload as the request brought it.
#[derive(Debug)]
pub enum SnapshotFile {
    /// No file was chosen (or it was empty).
    Missing,
    /// Larger than [`super::MAX_UPLOAD_BYTES`]: nothing of it was kept.
    TooLarge,
    /// The upload broke off, or storage failed (a message key); nothing was kept.
    NotStored(&'static str),
    /// In memory (a program's or a test's file).
    File { name: String, bytes: Vec<u8> },
    /// Streamed into object storage, and `local`, a copy read back from there, to check.
    Stored {
        name: String,
        object: StoredObject,
        local: std::fs::File,
    },
}

/// A snapshot CSV for a campaign, to check.
#[derive(Debug)]
pub struct UploadSnapshots {
    pub campaign_id: Uuid,
    pub file: SnapshotFile,
}

/// What checking an upload made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotUpload {
    /// Checked and kept with its report (good rows and rejected rows), waiting for a decision.
    Checked { import_id: Uuid },
    /// The whole file is refused (a message key and what it names, e.g. the missing columns);
    /// nothing is kept.
    FileRefused { key: &'static str, detail: String },
}

/// Checks a snapshot CSV against the campaign's posts and keeps the report with the validated
/// rows; nothing is imported until [`confirm_snapshot_import`].
pub async fn upload_snapshots(
    tx: &mut PgConnection,
    actor: &Actor,
    input: UploadSnapshots,
) -> DomainResult<SnapshotUpload> {
    let tenant = actor.tenant()?;
    let campaign = repo::campaign(tx, tenant.id, &tenant.time_zone, input.campaign_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    may_record(actor)?;
    let refused =
        |key: &'static str, detail: String| Ok(SnapshotUpload::FileRefused { key, detail });
    let (filename, source, object_key): (String, Box<dyn Read + Send>, Option<String>) =
        match input.file {
            SnapshotFile::File { name, bytes } if !bytes.is_empty() => {
                (name, Box::new(std::io::Cursor::new(bytes)), None)
            }
            SnapshotFile::Stored {
                name,
                object,
                local,
            } if object.bytes > 0 => (
                name,
                Box::new(std::io::BufReader::with_capacity(1 << 16, local)),
                Some(object.key),
            ),
            SnapshotFile::TooLarge => {
                return refused(
                    "performance.import.error.too_large",
                    (super::MAX_UPLOAD_BYTES >> 20).to_string(),
                );
            }
            SnapshotFile::NotStored(key) => return refused(key, String::new()),
            _ => return refused("performance.import.error.no_file", String::new()),
        };
    let mut posts = Posts::default();
    for p in repo::posts_of_campaign(tx, tenant.id, campaign.id).await? {
        let r = PostRef {
            id: p.id,
            published_at: p.published_at,
        };
        if let Some(v) = p.video_id {
            posts.by_video.insert(v, r);
        }
        posts.by_url.insert(p.url, r);
    }
    // Up to MAX_UPLOAD_BYTES of CSV: read off the async workers.
    let zone = zone_of(&campaign.zone);
    let parsed = tokio::task::spawn_blocking(move || {
        csv_import::parse(source, zone, &posts, OffsetDateTime::now_utc())
    })
    .await
    .map_err(anyhow::Error::from)?;
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return refused(e.key, e.detail),
    };
    let rows: Vec<StoredRow> = parsed.rows.iter().map(StoredRow::of).collect();
    let errors: Vec<StoredError> = parsed.errors.iter().map(StoredError::of).collect();
    let error_lines: BTreeSet<usize> = parsed.errors.iter().map(|e| e.line).collect();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let import_id = Uuid::now_v7();
    let filename: String = filename.chars().take(255).collect();
    repo::insert_snapshot_import(
        tx,
        tenant.id,
        &NewSnapshotImport {
            id: import_id,
            campaign_id: campaign.id,
            filename: &filename,
            encoding: parsed.encoding,
            total_rows: count(parsed.total_rows),
            good_rows: count(rows.len()),
            error_rows: count(error_lines.len()),
            rows: json!(rows),
            errors: json!(errors),
            created_by: actor.user_id,
            object_key: object_key.as_deref(),
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("snapshots.upload", "snapshot_import", import_id)
            .after(json!({
                "campaign": campaign.id,
                "file": filename,
                "encoding": parsed.encoding,
                "total_rows": parsed.total_rows,
                "good_rows": rows.len(),
                "error_rows": error_lines.len(),
            })),
    )
    .await?;
    Ok(SnapshotUpload::Checked { import_id })
}

/// A decision on a checked upload.
#[derive(Clone, Copy, Debug)]
pub struct DecideSnapshotImport {
    pub import_id: Uuid,
}

/// What a decision on an upload did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotImportDecided {
    /// The checked rows were written (this many).
    Imported {
        rows: usize,
    },
    Cancelled,
    /// The upload was decided before (imported or cancelled): nothing was done.
    AlreadyDecided,
}

/// The upload to decide on, locked; None when it was decided before (imported or cancelled).
async fn undecided_import(
    tx: &mut PgConnection,
    actor: &Actor,
    import_id: Uuid,
) -> DomainResult<Option<repo::SnapshotImportRow>> {
    let import = repo::snapshot_import(tx, actor.tenant_id()?, import_id, true)
        .await?
        .ok_or(DomainError::NotFound)?;
    may_record(actor)?;
    Ok((import.status == SnapshotImportStatus::Validated).then_some(import))
}

/// Writes an upload's checked rows (the same post and moment replaces the stored snapshot),
/// once; published collaborations start tracking.
pub async fn confirm_snapshot_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: DecideSnapshotImport,
) -> DomainResult<SnapshotImportDecided> {
    let tenant = actor.tenant()?.id;
    let Some(import) = undecided_import(tx, actor, input.import_id).await? else {
        return Ok(SnapshotImportDecided::AlreadyDecided);
    };
    let rows: Vec<StoredRow> =
        serde_json::from_value(repo::snapshot_import_rows(tx, tenant, import.id).await?)
            .map_err(|e| anyhow::anyhow!("stored snapshot rows: {e}"))?;
    let snapshots: Vec<(Uuid, NewSnapshot)> =
        rows.iter().map(|r| (r.post_id, r.snapshot())).collect();
    repo::upsert_snapshots(tx, tenant, &snapshots, "csv", actor.user_id).await?;
    let posts: Vec<Uuid> = rows.iter().map(|r| r.post_id).collect();
    start_tracking(tx, actor, &posts).await?;
    repo::finish_snapshot_import(tx, tenant, import.id, SnapshotImportStatus::Imported).await?;
    audit::record(
        tx,
        actor
            .audit("snapshots.import", "snapshot_import", import.id)
            .after(json!({ "rows": rows.len(), "file": import.filename })),
    )
    .await?;
    Ok(SnapshotImportDecided::Imported { rows: rows.len() })
}

/// Drops a checked upload without importing anything.
pub async fn cancel_snapshot_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: DecideSnapshotImport,
) -> DomainResult<SnapshotImportDecided> {
    let tenant = actor.tenant()?.id;
    let Some(import) = undecided_import(tx, actor, input.import_id).await? else {
        return Ok(SnapshotImportDecided::AlreadyDecided);
    };
    repo::finish_snapshot_import(tx, tenant, import.id, SnapshotImportStatus::Cancelled).await?;
    audit::record(
        tx,
        actor
            .audit("snapshots.cancel", "snapshot_import", import.id)
            .before(json!({ "status": SnapshotImportStatus::Validated.as_str() }))
            .after(json!({
                "status": SnapshotImportStatus::Cancelled.as_str(),
                "file": import.filename,
            })),
    )
    .await?;
    Ok(SnapshotImportDecided::Cancelled)
}
