//! The creator pool's state changes, done by agency staff (`Actor::user`, no tenant) in the
//! system scope their caller opens (`CreatorPool` for the pool and its imports, `Auth` for the
//! reference rates): storing an uploaded creator file with its report, importing its good rows
//! or cancelling it, and entering a reference rate. Each checks the platform role, writes
//! through `repo` and records the audit entry the pages always recorded.

use std::collections::BTreeSet;

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::ReferenceRate;
use super::{import, repo};
use crate::audit;
use crate::auth::{Actor, PlatformRole};
use crate::error::{DomainError, DomainResult};

/// The creator pool is the agency's: admins and account managers work with it (and the system).
/// The upload page checks it before reading the body.
pub fn require_pool_staff(actor: &Actor) -> DomainResult<()> {
    match actor.platform_role {
        Some(PlatformRole::Admin | PlatformRole::AccountManager) => Ok(()),
        None if actor.user_id.is_none() => Ok(()),
        _ => Err(DomainError::Forbidden),
    }
}

/// A creator file as uploaded (read whole: such files are small).
#[derive(Clone, Debug)]
pub struct UploadCreatorImport {
    pub filename: String,
    /// Empty when the form carried no file, or an empty one.
    pub content: Vec<u8>,
}

/// Validates an uploaded creator file and keeps it with its report (every rejected row with its
/// line) until someone imports it or cancels; returns the import's id. A missing or empty file,
/// or one that is no creator file at all, is the `file` field's error and nothing is kept. The
/// upload is not audited (it changes no creator); its import is.
pub async fn upload_creator_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: UploadCreatorImport,
) -> DomainResult<Uuid> {
    require_pool_staff(actor)?;
    let uploaded_by = actor.user_id.ok_or(DomainError::Forbidden)?;
    if input.content.is_empty() {
        return Err(DomainError::field("file", "creators.import.error_no_file"));
    }
    let parsed =
        import::parse(&input.content).map_err(|e| DomainError::field("file", e.problem.key()))?;
    let errors: Vec<serde_json::Value> = parsed
        .errors
        .iter()
        .map(|e| {
            let mut error = json!({ "line": e.line, "column": e.column, "value": e.value, "key": e.problem.key() });
            if let import::Problem::CutShort { cells, of } = e.problem {
                error["cells"] = json!(cells);
                error["of"] = json!(of);
            }
            error
        })
        .collect();
    let error_lines: BTreeSet<usize> = parsed.errors.iter().map(|e| e.line).collect();
    let id = Uuid::now_v7();
    repo::insert_import(
        tx,
        &repo::NewCreatorImport {
            id,
            uploaded_by,
            filename: &input.filename,
            encoding: parsed.encoding,
            content: &input.content,
            total_rows: parsed.total_rows as i32,
            good_rows: parsed.records.len() as i32,
            error_rows: error_lines.len() as i32,
            errors: serde_json::Value::Array(errors),
        },
    )
    .await?;
    Ok(id)
}

/// One creator import.
#[derive(Clone, Copy, Debug)]
pub struct CreatorImportRef {
    pub import_id: Uuid,
}

/// What an import did to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatorImportDone {
    pub created: i32,
    pub updated: i32,
}

/// The message key of an import already imported or cancelled.
pub const ALREADY_DONE: &str = "creators.import.already_done";

/// Imports the good rows of a validated upload in the caller's transaction: all of them or none
/// (a creator with the same handle is updated in the columns the file carries). An import
/// already imported or cancelled is `Refused`; the row is locked against a second click.
pub async fn confirm_creator_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreatorImportRef,
) -> DomainResult<CreatorImportDone> {
    require_pool_staff(actor)?;
    let found = repo::import(tx, input.import_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let content = repo::pending_content(tx, found.id)
        .await?
        .ok_or(DomainError::Refused(ALREADY_DONE))?;
    let parsed = import::parse(&content)
        .map_err(|e| anyhow::anyhow!("stored import no longer parses: {}", e.detail))?;
    let mut done = CreatorImportDone {
        created: 0,
        updated: 0,
    };
    for record in &parsed.records {
        if repo::upsert(tx, record).await? {
            done.created += 1;
        } else {
            done.updated += 1;
        }
    }
    repo::mark_imported(tx, found.id, done.created, done.updated).await?;
    audit::record(
        tx,
        actor
            .audit("creators.import", "creator_import", found.id)
            .after(json!({
                "filename": found.filename,
                "created": done.created,
                "updated": done.updated,
                "rejected": found.error_rows,
            })),
    )
    .await?;
    Ok(done)
}

/// The most creators one batch carries (`POST /api/v1/creators/batch`): enough for a day's
/// changes from an agency's own tool, few enough that the batch — read, checked and written in
/// one transaction — holds the pool's rows for about a second and its problem report stays
/// readable (a bigger file goes through the import page).
pub const MAX_BATCH: usize = 1_000;

/// Creators sent by a program, each as the pool import's cells (column, text); see
/// [`import::parse_cells`].
#[derive(Clone, Debug, Default)]
pub struct UpsertCreators {
    pub rows: Vec<Vec<(&'static str, String)>>,
}

/// What a batch did to the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreatorBatchDone {
    pub created: i32,
    pub updated: i32,
    /// Sent with the facts the pool already held: not written.
    pub unchanged: i32,
}

/// Creates or updates (same handle) the pool's creators from a batch, by the import's rules and
/// as its confirmation writes them (a column not given keeps what the pool holds): all of them,
/// or — when any row has a problem — none, each problem its row's field's error
/// (`creators[3].followers`). 1 to [`MAX_BATCH`] rows, else `Invalid` on `creators`. A creator
/// sent as the pool already holds it is not written (its `updated_at` stays, so a sync does not
/// see it as changed). Pool staff only, as the import; one audit entry with the counts.
pub async fn upsert_creator_batch(
    tx: &mut PgConnection,
    actor: &Actor,
    input: UpsertCreators,
) -> DomainResult<CreatorBatchDone> {
    require_pool_staff(actor)?;
    if input.rows.is_empty() || input.rows.len() > MAX_BATCH {
        return Err(DomainError::field("creators", "api.intake.batch_size"));
    }
    let records = import::parse_cells(&input.rows).map_err(|problems| {
        let mut errors = crate::kernel::FieldErrors::new();
        for (index, e) in problems {
            let field = match e.column {
                Some(column) => format!("creators[{index}].{column}"),
                None => format!("creators[{index}]"),
            };
            errors.entry(field).or_insert(e.problem.key());
        }
        DomainError::Invalid(errors)
    })?;
    let handles: Vec<String> = records.iter().map(|r| r.handle.clone()).collect();
    let current: std::collections::HashMap<String, repo::CreatorDetail> =
        repo::by_handles(tx, &handles)
            .await?
            .into_iter()
            .map(|c| (c.handle.clone(), c))
            .collect();
    let mut done = CreatorBatchDone::default();
    for record in &records {
        if current
            .get(&record.handle)
            .is_some_and(|c| repo::upsert_changes_nothing(c, record))
        {
            done.unchanged += 1;
        } else if repo::upsert(tx, record).await? {
            done.created += 1;
        } else {
            done.updated += 1;
        }
    }
    audit::record(
        tx,
        actor
            .audit("creators.batch", "creator_batch", Uuid::now_v7())
            .after(json!({
                "created": done.created,
                "updated": done.updated,
                "unchanged": done.unchanged,
            })),
    )
    .await?;
    Ok(done)
}

/// Cancels an upload still waiting for a decision: nothing is imported and its bytes go. One
/// already imported or cancelled is `Refused`. Not audited (nothing in the pool changes).
pub async fn cancel_creator_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreatorImportRef,
) -> DomainResult<()> {
    require_pool_staff(actor)?;
    let found = repo::import(tx, input.import_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    if repo::cancel_import(tx, found.id).await? {
        Ok(())
    } else {
        Err(DomainError::Refused(ALREADY_DONE))
    }
}

/// A reference rate as the form sent it (read by `ReferenceRate::parse`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AddReferenceRate {
    pub date: String,
    pub from: String,
    pub to: String,
    pub rate: String,
}

impl AddReferenceRate {
    /// As the form shows it again: spaces around gone, currency codes in upper case.
    pub fn tidied(self) -> AddReferenceRate {
        AddReferenceRate {
            date: self.date.trim().to_string(),
            from: self.from.trim().to_uppercase(),
            to: self.to.trim().to_uppercase(),
            rate: self.rate.trim().to_string(),
        }
    }
}

/// Enters the reference rate of a day and currency pair (replacing the one entered before for
/// the same day and pair), for the admin; every wrong field is named (`Invalid`).
pub async fn add_reference_rate(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AddReferenceRate,
) -> DomainResult<ReferenceRate> {
    actor.require_platform(PlatformRole::Admin)?;
    let rate = ReferenceRate::parse(&input.date, &input.from, &input.to, &input.rate)
        .map_err(DomainError::Invalid)?;
    let before = repo::rate_for(tx, rate.date, &rate.from, &rate.to).await?;
    repo::set_rate(
        tx,
        rate.date,
        &rate.from,
        &rate.to,
        rate.rate,
        actor.user_id,
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("reference_rate.set", "reference_rate", rate.entity_id())
            .before(json!({ "rate": before.map(|r| r.to_string()) }))
            .after(json!({ "rate": rate.rate.to_string() })),
    )
    .await?;
    Ok(rate)
}

// ---------------------------------------------------------------------------------------------
// Pool upkeep: deactivating and reactivating a creator (staff).

#[derive(Debug, Clone, Default)]
pub struct SetCreatorActive {
    pub creator_id: Uuid,
    /// false: deactivate (the creator leaves matching; its history stays); true: reactivate.
    pub active: bool,
    pub reason: String,
}

/// Deactivates or reactivates a creator of the pool, with a reason: a row of its status
/// history and an audit entry. Refused when it is already so. System scope (the pool).
pub async fn set_creator_active(
    conn: &mut PgConnection,
    actor: &Actor,
    input: SetCreatorActive,
) -> DomainResult<()> {
    require_pool_staff(actor)?;
    let Some(was_active) = repo::is_active(conn, input.creator_id).await? else {
        return Err(DomainError::NotFound);
    };
    let reason =
        match crate::kernel::text::check(&input.reason, crate::kernel::text::TextRule::NOTE) {
            Ok("") => Err("creators.error.reason_required"),
            Ok(s) => Ok(s.to_string()),
            Err(key) => Err(key),
        };
    let reason = reason.map_err(|key| {
        let mut errors = crate::kernel::FieldErrors::new();
        errors.insert("reason".to_string(), key);
        DomainError::Invalid(errors)
    })?;
    if was_active == input.active {
        return Err(DomainError::Refused(if input.active {
            "creators.error.already_active"
        } else {
            "creators.error.already_inactive"
        }));
    }
    repo::set_active(
        conn,
        input.creator_id,
        input.active,
        &reason,
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        conn,
        actor
            .audit(
                if input.active {
                    "creator.reactivate"
                } else {
                    "creator.deactivate"
                },
                "creator",
                input.creator_id,
            )
            .before(json!({ "active": was_active }))
            .after(json!({ "active": input.active, "reason": reason })),
    )
    .await?;
    Ok(())
}

/// A staff edit of one pool creator.
#[derive(Clone, Debug)]
pub struct EditCreator {
    pub creator_id: Uuid,
    pub edit: super::domain::CreatorEdit,
}

/// Saves a staff edit of one creator, checked by the pool import's rules (each problem is its
/// field's error, nothing stored); appends what changed to the creator's edit history and the
/// audit log. An edit that changes nothing stores nothing. Returns the changed fields.
pub async fn edit_creator(
    conn: &mut PgConnection,
    actor: &Actor,
    input: EditCreator,
) -> DomainResult<Vec<&'static str>> {
    require_pool_staff(actor)?;
    let Some(current) = repo::get(conn, input.creator_id).await? else {
        return Err(DomainError::NotFound);
    };
    let record = input
        .edit
        .to_record(&current.handle)
        .map_err(DomainError::Invalid)?;
    let before = repo::edit_of(&current);
    let after = super::domain::CreatorEdit::of_record(&record);
    let changes = before.changes(&after);
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    repo::upsert(conn, &record).await?;
    let listed: Vec<serde_json::Value> = changes
        .iter()
        .map(|(field, a, b)| json!({"field": field, "before": a, "after": b}))
        .collect();
    repo::record_edit(
        conn,
        input.creator_id,
        &serde_json::Value::Array(listed.clone()),
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        conn,
        actor
            .audit("creator.edit", "creator", input.creator_id)
            .after(json!({ "changes": listed })),
    )
    .await?;
    Ok(changes.into_iter().map(|(f, _, _)| f).collect())
}
