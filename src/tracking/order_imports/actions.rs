//! The order imports' state changes (SPEC §5), each one function `(tx, &Actor, input)`: queueing
//! an uploaded export, importing, cancelling or undoing a batch (the import's state table is
//! `domain::next_state`), and a person crediting an order line to a collaboration. Each checks
//! who may, writes through `repo` and records its audit entry in the caller's tenant-scoped
//! transaction. Streaming the file into storage and reading its header are the caller's (they
//! are I/O on the upload, before any transaction); the background job (`jobs`) does the rest.

use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{self, ImportCommand, ImportState, NOT_ALLOWED};
use super::repo;
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::storage::StoredObject;
use crate::tenants::Access;
use crate::tracking::order_imports::parse::{FileError, OrderFormat};

/// Who may upload, import, cancel, undo and attribute (viewers may look).
pub const EDITORS: &[Access] = &[Access::Owner, Access::Operator, Access::AccountManager];

/// The tenant is active and the actor may change its orders. The actions check it themselves;
/// the upload page checks it before the body streams in, so a refused upload is not stored.
pub fn require_editor(actor: &Actor) -> DomainResult<()> {
    actor.require_active()?;
    actor.require(EDITORS)
}

/// An order export as the upload form sent it.
#[derive(Debug)]
pub struct QueueOrderImport {
    /// The shop chosen; None when the form named none readable.
    pub shop_id: Option<Uuid>,
    /// When the export was taken: a local minute (`2026-03-20T10:00`) in the tenant's zone;
    /// empty to take the latest time in the file.
    pub exported_at: String,
    pub file: ExportFile,
}

/// What became of the form's file.
#[derive(Debug)]
pub enum ExportFile {
    /// The form carried none.
    Missing,
    /// The upload broke off or could not be stored: why (a message key). Nothing is kept.
    NotStored(&'static str),
    /// It came, empty.
    Empty,
    Stored(StoredExport),
}

/// An export streamed into storage, with what its header says.
#[derive(Debug)]
pub struct StoredExport {
    /// The id its storage key was made with (`Storage::key(tenant, "orders", upload_id)`).
    pub upload_id: Uuid,
    /// As the browser named it ("" for none).
    pub filename: String,
    pub content_type: Option<String>,
    pub object: StoredObject,
    /// `ingest::check_header`'s answer: which export it is, or why it is none.
    pub header: Result<OrderFormat, FileError>,
}

/// Checks the form (a shop of this tenant, a readable export time not in the future, an export
/// that fits the shop) and records the upload and its import, queued for the validation run;
/// returns the import's id. An empty export time is taken from the file: the validation run
/// sets it to the latest time any good row carries (created, paid, commission paid), a time
/// the export was certainly taken after; until then it is the upload's time. Every field's problem comes back at once (`Invalid`), and nothing is recorded;
/// the caller then deletes the stored file and, after committing a success, wakes the worker.
pub async fn queue_order_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: QueueOrderImport,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant()?;
    require_editor(actor)?;
    let mut errors = FieldErrors::new();
    let shops = repo::shops(tx).await?;
    let shop = input
        .shop_id
        .and_then(|id| shops.iter().find(|s| s.id == id));
    if shop.is_none() {
        errors.insert("shop_id".into(), "orders.error.shop_unknown");
    }
    let now = OffsetDateTime::now_utc();
    let from_file = input.exported_at.trim().is_empty();
    let exported_at = if from_file {
        Some(now)
    } else {
        domain::exported_at(&input.exported_at, &tenant.time_zone)
    };
    match exported_at {
        None => {
            errors.insert("exported_at".into(), "orders.error.exported_at_format");
        }
        Some(at) if at > now + domain::CLOCK_SKEW => {
            errors.insert("exported_at".into(), "orders.error.exported_at_future");
        }
        Some(_) => {}
    }
    let mut format = None;
    match (&input.file, shop) {
        (ExportFile::Missing, _) => {
            errors.insert("file".into(), "orders.error.no_file");
        }
        (ExportFile::NotStored(key), _) => {
            errors.insert("file".into(), key);
        }
        (ExportFile::Empty, _) => {
            errors.insert("file".into(), "tracking.orders.error.empty_file");
        }
        // Which export fits is known only once the shop is.
        (ExportFile::Stored(file), Some(shop)) => match &file.header {
            Ok(f) if domain::fits_shop(*f, &shop.platform) => format = Some(*f),
            Ok(_) => {
                errors.insert("file".into(), "orders.error.wrong_shop");
            }
            Err(e) => {
                errors.insert("file".into(), e.problem.key());
            }
        },
        (ExportFile::Stored(_), None) => {}
    }
    let (ExportFile::Stored(file), Some(shop), Some(exported_at), Some(format), true) =
        (&input.file, shop, exported_at, format, errors.is_empty())
    else {
        return Err(DomainError::Invalid(errors));
    };
    let stored = &file.object;
    let id = repo::create_import(
        tx,
        &repo::NewImport {
            tenant_id: tenant.id,
            upload_id: file.upload_id,
            shop_id: shop.id,
            filename: if file.filename.is_empty() {
                "orders"
            } else {
                &file.filename
            },
            content_type: file.content_type.as_deref(),
            stored,
            format: format.code(),
            exported_at,
            exported_at_from_file: from_file,
            by: actor.user_id,
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("orders.upload", "order_import", id)
            .after(json!({
                "filename": file.filename,
                "shop": shop.name,
                "bytes": stored.bytes,
                "sha256": stored.sha256,
            })),
    )
    .await?;
    Ok(id)
}

/// An orders call of the API: the importers' normalized lines of one shop, as of one moment.
#[derive(Debug)]
pub struct IngestOrders {
    pub shop_id: Uuid,
    /// When the lines were true (as an export's time: the later version of a line wins).
    pub as_of: OffsetDateTime,
    pub lines: Vec<domain::OrderLineRecord>,
    /// The call as sent, kept as the batch's file.
    pub document: bytes::Bytes,
    /// The token that sent it (its person is the actor).
    pub token_id: Uuid,
}

/// What an orders call did: its import batch, and each line against what was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrdersIngested {
    pub import_id: Uuid,
    pub lines: usize,
    /// Lines sent more than once in the call (the later one counted).
    pub duplicate_lines: i64,
    pub counts: repo::LineCounts,
}

/// Takes an orders call in as one import batch (source `api`), all or nothing: every line is
/// checked as the file importer checks a row (each problem named by its line, `lines[i].field`),
/// then the batch is merged and counted in this transaction exactly as an uploaded export's
/// import is — the later `as_of` of a line wins, sending the same call again changes nothing,
/// attribution runs, and the batch appears on the imports page, where it can be undone.
pub async fn ingest_orders(
    tx: &mut PgConnection,
    storage: &crate::storage::Storage,
    actor: &Actor,
    input: IngestOrders,
) -> DomainResult<OrdersIngested> {
    let tenant = actor.tenant()?;
    require_editor(actor)?;
    crate::db::without_jit(tx).await?;
    let mut errors = FieldErrors::new();
    let shops = repo::shops(tx).await?;
    let shop = shops.iter().find(|s| s.id == input.shop_id);
    if shop.is_none() {
        errors.insert("shop_id".into(), "orders.error.shop_unknown");
    }
    if input.as_of > OffsetDateTime::now_utc() + domain::CLOCK_SKEW {
        errors.insert("as_of".into(), "orders.error.exported_at_future");
    }
    let count = input.lines.len();
    if count == 0 || count > domain::MAX_LINES_PER_CALL {
        errors.insert("lines".into(), "api.error.batch_size");
    }
    let mut fields = 0u8;
    let mut staging = Vec::with_capacity(count * 160);
    let mut checked = Vec::with_capacity(count);
    for (i, line) in input.lines.into_iter().enumerate() {
        if let Some(line) = domain::check_order_line(i, line, &mut errors) {
            fields |= line.fields;
            checked.push(line.record);
        }
    }
    let (Some(shop), true) = (shop, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let upload_id = Uuid::now_v7();
    let key = crate::storage::Storage::key(tenant.id, "orders", upload_id);
    let stored = storage
        .put_bytes(&key, &input.document)
        .await
        .map_err(|e| DomainError::Internal(e.into()))?;
    let worker = format!("api-{}", input.token_id);
    let result = async {
        let id = repo::create_api_import(
            tx,
            &repo::NewApiImport {
                tenant_id: tenant.id,
                upload_id,
                shop_id: shop.id,
                filename: &format!("api-{}.json", input.as_of.unix_timestamp()),
                stored: &stored,
                exported_at: input.as_of,
                rows: count as i64,
                line_fields: domain::LineField::codes(fields),
                by: actor.user_id,
                token_id: input.token_id,
                worker: &worker,
            },
        )
        .await?;
        let prefix = format!("{}\t{id}\t", tenant.id);
        for (i, line) in checked.iter().enumerate() {
            super::jobs::api_staging_row(&mut staging, &prefix, i + 1, line);
        }
        let mut copy = repo::copy_in_scratch(tx).await?;
        copy.send(staging).await?;
        copy.finish().await?;
        let inserted = repo::insert_order_lines_from_scratch(tx, shop.id, input.as_of).await?;
        let job = repo::JobClaim {
            tenant_id: tenant.id,
            id,
            state: ImportState::Importing,
            job_attempts: 1,
        };
        let handles: Vec<String> = checked
            .iter()
            .filter_map(|l| l.creator_username.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let counts = super::jobs::finish_merged(
            tx,
            (&job, &worker),
            (shop.id, input.as_of),
            (count as i64 - inserted as i64, Some(&handles)),
        )
        .await?;
        Ok::<_, sqlx::Error>((id, counts))
    }
    .await;
    let (id, counts) = match result {
        Ok(done) => done,
        Err(e) => {
            if let Err(e) = storage.delete(&key).await {
                tracing::warn!(error = %e, key, "orders api: could not delete an unrecorded file");
            }
            return Err(e.into());
        }
    };
    let duplicate_lines =
        count as i64 - (counts.new + counts.changed + counts.unchanged + counts.older);
    audit::record(
        tx,
        actor
            .audit("orders.api_import", "order_import", id)
            .after(json!({
                "shop": shop.name,
                "as_of": input.as_of.unix_timestamp(),
                "lines": count,
                "new": counts.new,
                "changed": counts.changed,
                "unchanged": counts.unchanged,
                "older": counts.older,
                "token": input.token_id,
            })),
    )
    .await?;
    Ok(OrdersIngested {
        import_id: id,
        lines: count,
        duplicate_lines,
        counts,
    })
}

/// One order import of the actor's tenant.
#[derive(Clone, Copy, Debug)]
pub struct OrderImportRef {
    pub import_id: Uuid,
}

/// Imports the good rows of a validated batch: it moves to `importing` and the job takes it
/// (the caller wakes the worker after committing).
pub async fn confirm_order_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: OrderImportRef,
) -> DomainResult<ImportState> {
    move_import(tx, actor, input.import_id, ImportCommand::Confirm).await
}

/// Drops a validated batch without importing it; its staged rows go.
pub async fn cancel_order_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: OrderImportRef,
) -> DomainResult<ImportState> {
    move_import(tx, actor, input.import_id, ImportCommand::Cancel).await
}

/// Takes an imported batch back: its lines stop counting, the previous export's count again.
pub async fn undo_order_import(
    tx: &mut PgConnection,
    actor: &Actor,
    input: OrderImportRef,
) -> DomainResult<ImportState> {
    move_import(tx, actor, input.import_id, ImportCommand::Undo).await
}

/// One move of the state table; a batch not in the state the command applies to (or moved by
/// someone else a moment ago) is `Refused`, and nothing changes.
async fn move_import(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    command: ImportCommand,
) -> DomainResult<ImportState> {
    let tenant = actor.tenant()?;
    require_editor(actor)?;
    let row = repo::import_for_move(tx, tenant.id, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let from = row.state;
    let to = domain::next_state(from, command).ok_or(DomainError::Refused(NOT_ALLOWED))?;
    // The UPDATE checks the state again: of two racing requests, one moves it.
    if !repo::transition(tx, tenant.id, id, from, to).await? {
        return Err(DomainError::Refused(NOT_ALLOWED));
    }
    if to == ImportState::Cancelled {
        repo::clear_staging(tx, tenant.id, id).await?;
    }
    let mut after = json!({
        "state": to.code(),
        "filename": row.filename,
        "rows_good": row.rows_good,
    });
    if to == ImportState::Undone {
        // What the batch attributed by itself goes with it; a person's attributions stay.
        let removed = repo::remove_batch_attributions(tx, tenant.id, id).await?;
        after["attributions_removed"] = json!(removed);
    }
    audit::record(
        tx,
        actor
            .audit(command.audit_action(), "order_import", id)
            .before(json!({ "state": from.code() }))
            .after(after),
    )
    .await?;
    Ok(to)
}

/// A person credits one order line to a collaboration of the tenant.
#[derive(Clone, Debug)]
pub struct AttributeOrderLine {
    pub shop_id: Uuid,
    pub order_key: String,
    pub line_key: String,
    /// None when the form named none readable.
    pub collaboration_id: Option<Uuid>,
}

/// The attribution form as posted (the unattributed page's row form; the API's body).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AttributeOrderLineForm {
    pub shop_id: String,
    pub order_key: String,
    pub line_key: String,
    pub collaboration_id: String,
}

impl AttributeOrderLineForm {
    /// The action's input; None when the shop is unreadable or a key holds a NUL (no stored line
    /// can have one: PostgreSQL keeps none in text), so the line cannot be known.
    pub fn parse(self) -> Option<AttributeOrderLine> {
        if self.order_key.contains('\0') || self.line_key.contains('\0') {
            return None;
        }
        Some(AttributeOrderLine {
            shop_id: self.shop_id.parse().ok()?,
            order_key: self.order_key,
            line_key: self.line_key,
            collaboration_id: self.collaboration_id.parse().ok(),
        })
    }
}

/// Credits a current order line of the tenant to one of its collaborations (not proposed or
/// cancelled), replacing any earlier attribution, automatic or by a person. An unknown line is
/// `NotFound`; an unknown collaboration is the field's error. Returns the collaboration the line
/// was credited to before.
pub async fn attribute_order_line(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AttributeOrderLine,
) -> DomainResult<Option<Uuid>> {
    let tenant = actor.tenant()?;
    require_editor(actor)?;
    let AttributeOrderLine {
        shop_id,
        order_key,
        line_key,
        collaboration_id,
    } = input;
    if !repo::order_exists(tx, shop_id, &order_key, &line_key).await? {
        return Err(DomainError::NotFound);
    }
    let known = repo::collaborations(tx).await?;
    let Some(collaboration) = collaboration_id.filter(|c| known.iter().any(|k| k.id == *c)) else {
        return Err(DomainError::field(
            "collaboration_id",
            "orders.error.collaboration_unknown",
        ));
    };
    let before = repo::attribute_by_person(
        tx,
        tenant.id,
        shop_id,
        &order_key,
        &line_key,
        collaboration,
        actor.user_id,
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit(
                "orders.attribute",
                "order_line",
                format!("{shop_id}/{order_key}/{line_key}"),
            )
            .before(json!({ "collaboration_id": before }))
            .after(json!({ "collaboration_id": collaboration, "attributed_by": "person" })),
    )
    .await?;
    Ok(before)
}

/// A person credits several order lines at once to one collaboration (the unattributed page's
/// checkboxes).
#[derive(Clone, Debug)]
pub struct AttributeOrderLines {
    /// (shop, order key, line key) of each line chosen.
    pub lines: Vec<(Uuid, String, String)>,
    /// None when the form named none readable.
    pub collaboration_id: Option<Uuid>,
}

/// The bulk attribution form: `line` once per ticked box (`repo::line_ref`), one collaboration.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AttributeOrderLinesForm {
    pub line: Vec<String>,
    pub collaboration_id: String,
}

impl AttributeOrderLinesForm {
    /// The action's input; None when a line reference is unreadable.
    pub fn parse(self) -> Option<AttributeOrderLines> {
        Some(AttributeOrderLines {
            lines: self
                .line
                .iter()
                .map(|l| repo::parse_line_ref(l))
                .collect::<Option<Vec<_>>>()?,
            collaboration_id: self.collaboration_id.parse().ok(),
        })
    }
}

/// The most lines one bulk attribution takes (a page of the unattributed list is 100).
pub const MAX_BULK_LINES: usize = 1_000;

/// Credits every chosen line (current lines of the tenant) to one of its collaborations, like
/// `attribute_order_line` for each, audited once with the count. No line chosen, or too many,
/// is the `line` field's error; an unknown collaboration the `collaboration_id` field's; an
/// unknown line is `NotFound` and nothing changes. Returns how many lines were credited.
pub async fn attribute_order_lines(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AttributeOrderLines,
) -> DomainResult<usize> {
    let tenant = actor.tenant()?;
    require_editor(actor)?;
    let mut errors = FieldErrors::new();
    if input.lines.is_empty() {
        errors.insert("line".into(), "orders.error.no_lines");
    } else if input.lines.len() > MAX_BULK_LINES {
        errors.insert("line".into(), "orders.error.too_many_lines");
    }
    let known = repo::collaborations(tx).await?;
    let collaboration = input
        .collaboration_id
        .filter(|c| known.iter().any(|k| k.id == *c));
    if collaboration.is_none() {
        errors.insert(
            "collaboration_id".into(),
            "orders.error.collaboration_unknown",
        );
    }
    let (Some(collaboration), true) = (collaboration, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut lines = input.lines;
    lines.sort();
    lines.dedup();
    for (shop_id, order_key, line_key) in &lines {
        if !repo::order_exists(tx, *shop_id, order_key, line_key).await? {
            return Err(DomainError::NotFound);
        }
        repo::attribute_by_person(
            tx,
            tenant.id,
            *shop_id,
            order_key,
            line_key,
            collaboration,
            actor.user_id,
        )
        .await?;
    }
    audit::record(
        tx,
        actor
            .audit("orders.attribute_many", "collaboration", collaboration)
            .after(json!({
                "lines": lines.len(),
                "attributed_by": "person",
            })),
    )
    .await?;
    Ok(lines.len())
}
