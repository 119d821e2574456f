//! Taking an export in: the header check every upload gets before it is queued, and the whole
//! path (store → check → queue → validate → import) for files already on disk (demo seeder,
//! benchmark), so they go through exactly what the upload page does.

use std::io::Cursor;

use time::OffsetDateTime;
use time_tz::Tz;
use uuid::Uuid;

use super::domain::ImportState;
use super::{jobs, repo};
use crate::db::{Db, SystemScope};
use crate::storage::{Storage, StoredObject};
use crate::tracking::order_imports::parse::{FileError, OrderFormat, OrderReader, Problem};
use crate::tracking::order_imports::xlsx;

/// How much of a CSV is read to check its header.
const HEADER_PREFIX: u64 = 256 * 1024;

/// Reads just the header of a stored export and sees a row under it: which export it is, or
/// why it is none (a header alone is `NoRows`).
pub async fn check_header(
    storage: &Storage,
    key: &str,
    zone: &'static Tz,
) -> anyhow::Result<Result<OrderFormat, FileError>> {
    let prefix = storage.prefix(key, HEADER_PREFIX).await?;
    if jobs::is_workbook(&prefix) {
        // A workbook's directory is at its end: read it from a spooled copy.
        let spool = storage.spool(key).await?;
        let file = spool.reopen()?;
        return Ok(tokio::task::spawn_blocking(move || {
            let mut book = xlsx::open_workbook(std::io::BufReader::new(file))?;
            let mut reader = xlsx::XlsxOrderReader::new(&mut book, zone)?;
            let format = reader.format();
            match reader.next() {
                None => Err(FileError::new(Problem::NoRows, "")),
                Some(_) => Ok(format),
            }
        })
        .await?);
    }
    // The first rows of the prefix: one entry (an order, a rejection, even a row cut off where
    // the prefix ends) shows the file has rows.
    Ok(
        OrderReader::new(Cursor::new(prefix), zone).and_then(|mut reader| {
            let format = reader.format();
            match reader.next() {
                None => Err(FileError::new(Problem::NoRows, "")),
                Some(_) => Ok(format),
            }
        }),
    )
}

/// Stores a local file as an order export of `shop_id`, checks its header, queues it, runs the
/// validation and (when `import` is set) the import, all as the app does. Returns the import id.
#[allow(clippy::too_many_arguments)]
pub async fn import_file(
    db: &Db,
    storage: &Storage,
    tenant_id: Uuid,
    shop_id: Uuid,
    path: &std::path::Path,
    filename: &str,
    exported_at: OffsetDateTime,
    import: bool,
) -> anyhow::Result<Uuid> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let clock = repo::shop_clock(&mut tx, tenant_id, shop_id).await?;
    tx.commit().await?;
    let zone = crate::tracking::order_imports::parse::shop_zone(&clock.time_zone)
        .ok_or_else(|| anyhow::anyhow!("shop time zone {} unknown", clock.time_zone))?;
    let upload_id = Uuid::now_v7();
    let stored: StoredObject = storage
        .put_file(&Storage::key(tenant_id, "orders", upload_id), path)
        .await?;
    let format = match check_header(storage, &stored.key, zone).await? {
        Ok(format) => format,
        Err(e) => {
            storage.delete(&stored.key).await.ok();
            anyhow::bail!("{filename}: {e}");
        }
    };
    let mut tx = db.tenant_tx(tenant_id, None).await?;
    let id = repo::create_import(
        &mut tx,
        &repo::NewImport {
            tenant_id,
            upload_id,
            shop_id,
            filename,
            content_type: None,
            stored: &stored,
            format: format.code(),
            exported_at,
            exported_at_from_file: false,
            by: None,
        },
    )
    .await?;
    tx.commit().await?;
    let state = jobs::run_now(db, storage, tenant_id, id).await?;
    if state != ImportState::Validated {
        // Say why (the failure's message key and its detail), so a refused demo or benchmark
        // file can be told from a broken run.
        let mut tx = db.tenant_tx(tenant_id, None).await?;
        let row = repo::import(&mut tx, id).await?;
        tx.commit().await?;
        let (failure, detail) = row
            .map(|r| {
                (
                    r.failure.unwrap_or_default(),
                    r.failure_detail.unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        anyhow::bail!(
            "{filename}: validation ended in state {} ({failure} {detail})",
            state.code()
        );
    }
    if import {
        import_validated(db, storage, tenant_id, id, filename).await?;
    }
    Ok(id)
}

/// Imports a validated batch as the import button does (the benchmark times it apart from the
/// validation run).
pub async fn import_validated(
    db: &Db,
    storage: &Storage,
    tenant_id: Uuid,
    id: Uuid,
    filename: &str,
) -> anyhow::Result<()> {
    let mut tx = db.tenant_tx(tenant_id, None).await?;
    repo::transition(
        &mut tx,
        tenant_id,
        id,
        ImportState::Validated,
        ImportState::Importing,
    )
    .await?;
    tx.commit().await?;
    let state = jobs::run_now(db, storage, tenant_id, id).await?;
    if state != ImportState::Imported {
        anyhow::bail!("{filename}: import ended in state {}", state.code());
    }
    Ok(())
}

/// A problem's message in `lang`, its detail filling whichever argument the message has.
pub fn problem_message(lang: crate::web::lang::Lang, key: &str, detail: &str) -> String {
    // A row cut short carries "cells/of".
    let (cells, of) = detail.split_once('/').unwrap_or((detail, ""));
    lang.t_with(
        key,
        &[
            ("missing", detail),
            ("columns", detail),
            ("detail", detail),
            ("line", detail),
            ("cells", cells),
            ("of", of),
        ],
    )
}
