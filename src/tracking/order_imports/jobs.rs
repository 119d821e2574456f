//! Order imports as background jobs, with their state in Postgres (`order_imports`).
//!
//! Phases: `queued` → **validation run** (`validating`: the stored file is parsed whole; good
//! rows go to `order_import_staging`, every problem of a rejected row to `order_import_errors`,
//! progress in bytes) → `validated` (the person reads the report, then imports or cancels) →
//! **import** (`importing`: one transaction moves the staged rows into `order_lines`, attributes
//! them and marks the batch `imported`; it lands whole or not at all).
//!
//! A worker claims a job with `FOR UPDATE SKIP LOCKED` and keeps a heartbeat on it. A job whose
//! heartbeat is older than [`STALE_AFTER`] belonged to a process that died: it is claimed again
//! and its phase restarts from the beginning (validation first clears what the dead run staged;
//! an import's transaction never committed, so nothing of it is there). After [`MAX_ATTEMPTS`]
//! claims of one phase the job fails with a message instead of looping.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use super::domain::{self, ImportState, LineField};
use super::repo::{self, JobClaim as Claim};
use super::{stream, xlsx};
use crate::db::{Db, SystemScope};
use crate::storage::Storage;
use crate::tracking::order_imports::parse::{
    DateOrder, Entry, FileError, Order, OrderFormat, OrderReader, Problem, RowError, shop_zone,
};

/// A heartbeat older than this means the worker died.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// Claims of one phase before the job fails for good.
pub const MAX_ATTEMPTS: i32 = 3;
/// How often an idle worker looks for work it was not woken for (another server's uploads).
const IDLE_POLL: Duration = Duration::from_secs(2);
/// COPY data is sent in blocks of about this size.
const COPY_BLOCK: usize = 1 << 20;
/// Progress is written at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Repeated keys listed in the validation report (all are counted).
const REPEATED_LISTED: usize = 100;
/// Lines listed for one repeated key.
const REPEATED_LINES: usize = 20;

/// Failure message keys (the `failure` column; `failure_detail` holds the argument).
pub const FAILED_GAVE_UP: &str = "orders.failure.gave_up";
pub const FAILED_INTERNAL: &str = "orders.failure.internal";
pub const FAILED_MISSING_FILE: &str = "orders.failure.missing_file";
pub const FAILED_UNKNOWN_ZONE: &str = "orders.failure.unknown_zone";

/// The background worker: wake it after queueing work; it also polls.
#[derive(Clone)]
pub struct ImportWorker {
    wake: Arc<Notify>,
}

impl ImportWorker {
    /// Spawns the worker loop on the current runtime.
    pub fn start(db: Db, storage: Storage) -> ImportWorker {
        let wake = Arc::new(Notify::new());
        let worker = ImportWorker { wake: wake.clone() };
        let id = format!("{}-{}", std::process::id(), Uuid::now_v7());
        tokio::spawn(async move {
            // Once per start: batches imported before the kept fields were get them now.
            match backfill_line_fields(&db, &storage).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(batches = n, "order imports: kept fields backfilled"),
                Err(e) => tracing::warn!(error = %e, "order imports: backfill stopped"),
            }
            loop {
                if db.pool().is_closed() {
                    break;
                }
                match run_next(&db, &storage, &id).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "order import worker"),
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        });
        worker
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

async fn claim(
    db: &Db,
    worker: &str,
    only: Option<(Uuid, Uuid)>,
) -> Result<Option<Claim>, sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let claim = repo::claim_job(&mut tx, worker, STALE_AFTER.as_secs_f64(), only).await?;
    tx.commit().await?;
    Ok(claim)
}

/// Claims the oldest runnable job and runs its phase; false when there was none.
pub async fn run_next(db: &Db, storage: &Storage, worker: &str) -> anyhow::Result<bool> {
    match claim(db, worker, None).await? {
        Some(job) => {
            run_claimed(db, storage, worker, job).await;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Runs the pending phase of one job now, in this task (the demo seeder and the benchmark use
/// this instead of waiting for the worker). Returns the job's state afterwards.
pub async fn run_now(
    db: &Db,
    storage: &Storage,
    tenant_id: Uuid,
    import_id: Uuid,
) -> anyhow::Result<ImportState> {
    let worker = format!("inline-{}", Uuid::now_v7());
    let mut last_error = None;
    loop {
        if let Some(job) = claim(db, &worker, Some((tenant_id, import_id))).await? {
            last_error = run_claimed(db, storage, &worker, job).await.or(last_error);
        }
        let mut tx = db.system_tx(SystemScope::ImportJob).await?;
        let state = repo::job_state(&mut tx, tenant_id, import_id).await?;
        tx.commit().await?;
        if !state.is_running() {
            // The caller (the seeder, a benchmark) hears why a run failed, not only that it did.
            return match (state, last_error) {
                (ImportState::Failed, Some(e)) => Err(e.context("order import failed")),
                (state, _) => Ok(state),
            };
        }
        // A background worker has it: wait for it to finish.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the claimed job's phase. A transient database failure (a deadlock, a serialization
/// failure) gives the job back to be claimed again (attempts are counted); any other failure
/// fails the job with its message. Returns the error of a run that failed for another reason
/// than its file.
async fn run_claimed(
    db: &Db,
    storage: &Storage,
    worker: &str,
    job: Claim,
) -> Option<anyhow::Error> {
    if job.job_attempts > MAX_ATTEMPTS {
        let _ = fail(db, &job, worker, FAILED_GAVE_UP, "").await;
        return None;
    }
    let heartbeat = spawn_heartbeat(db.clone(), job.tenant_id, job.id, worker.to_string());
    let outcome = match job.state {
        ImportState::Validating => validate(db, storage, &job, worker).await,
        ImportState::Importing => import(db, &job, worker).await,
        _ => Ok(()),
    };
    heartbeat.abort();
    let Err(e) = outcome else {
        return None;
    };
    if is_transient(&e) {
        tracing::warn!(error = ?e, import = %job.id, "order import: transient failure, retrying");
        if let Err(released) = release(db, &job, worker).await {
            tracing::error!(error = %released, import = %job.id, "order import: could not release");
        }
        return Some(e.context("transient database failure (the job was given back)"));
    }
    // A problem of the file is the run's result (its report says it); anything else is an error.
    let (key, detail, error) = match e.downcast_ref::<FileError>() {
        Some(file) => (file.problem.key(), file.detail.clone(), None),
        None => {
            tracing::error!(error = ?e, import = %job.id, "order import failed");
            match e.downcast_ref::<crate::storage::StorageError>() {
                Some(_) => (FAILED_MISSING_FILE, String::new(), Some(e)),
                None => (FAILED_INTERNAL, String::new(), Some(e)),
            }
        }
    };
    if let Err(e) = fail(db, &job, worker, key, &detail).await {
        tracing::error!(error = %e, import = %job.id, "order import: could not record failure");
    }
    error
}

/// A deadlock, a serialization failure or a lock timeout: the same run may well pass again.
fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("40001" | "40P01" | "55P03"))
        )
    })
}

/// Gives a claimed job back (its staged rows dropped) so the next claim runs its phase again.
async fn release(db: &Db, job: &Claim, worker: &str) -> anyhow::Result<()> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    repo::release_job(&mut tx, job, worker).await?;
    if job.state == ImportState::Validating {
        repo::clear_staging(&mut tx, job.tenant_id, job.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn spawn_heartbeat(
    db: Db,
    tenant_id: Uuid,
    id: Uuid,
    worker: String,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let beat = async {
                let mut tx = db.system_tx(SystemScope::ImportJob).await?;
                repo::heartbeat(&mut tx, tenant_id, id, &worker).await?;
                tx.commit().await
            };
            if let Err(e) = beat.await {
                tracing::warn!(error = %e, "order import: heartbeat failed");
            }
        }
    })
}

async fn fail(db: &Db, job: &Claim, worker: &str, key: &str, detail: &str) -> anyhow::Result<()> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    repo::fail_job(&mut tx, job, worker, key, detail).await?;
    repo::clear_staging(&mut tx, job.tenant_id, job.id).await?;
    tx.commit().await?;
    Ok(())
}

/// What the parsing thread sends to the writers.
enum Block {
    Staging(Vec<u8>),
    Errors(Vec<u8>),
}

#[derive(Debug, Default)]
struct Summary {
    format: Option<OrderFormat>,
    encoding: &'static str,
    rows: usize,
    good: usize,
    rejected: usize,
    /// The kept fields some good row had a value for (`LineField::bit`s).
    line_fields: u8,
    /// Every slash date read both ways: the order assumed.
    dates_read_both_ways: Option<DateOrder>,
    /// The first keys found on more than one good row.
    repeated: Vec<RepeatedKey>,
    /// Good rows whose key a later good row has (the import keeps the later one).
    duplicate_rows: usize,
    /// The latest time of any good row (created, paid, commission paid), not after the run's
    /// clock allowance: what the export time defaults to.
    latest: Option<OffsetDateTime>,
}

/// A key found on more than one good row, with those rows' lines.
#[derive(Debug)]
struct RepeatedKey {
    order: String,
    line_key: Option<String>,
    lines: Vec<usize>,
}

/// How the validation run reads the shop's times.
#[derive(Clone, Copy)]
struct Clock {
    zone: &'static time_tz::Tz,
    order: DateOrder,
    /// Times after this are not taken as the export time.
    not_after: OffsetDateTime,
}

async fn validate(db: &Db, storage: &Storage, job: &Claim, worker: &str) -> anyhow::Result<()> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let file = repo::job_file(&mut tx, job).await?;
    // A restarted run starts from a clean slate.
    repo::reset_validation(&mut tx, job, file.bytes).await?;
    tx.commit().await?;
    let Some(zone) = shop_zone(&file.time_zone) else {
        return fail(db, job, worker, FAILED_UNKNOWN_ZONE, &file.time_zone).await;
    };
    let clock = Clock {
        zone,
        order: DateOrder::parse(&file.date_order).unwrap_or_default(),
        not_after: OffsetDateTime::now_utc() + super::domain::CLOCK_SKEW,
    };
    let spool = storage.spool(&file.storage_key).await?;

    // Each COPY runs on a connection of its own that goes back to the pool only after a
    // clean commit: when anything fails while a COPY is open, the connection is closed, never
    // handed to the next caller in the middle of a COPY.
    let mut staging_conn = db.pool().acquire().await?;
    let mut errors_conn = db.pool().acquire().await?;
    let copied = copy_validation(
        db,
        job,
        spool.reopen()?,
        clock,
        &mut staging_conn,
        &mut errors_conn,
    )
    .await;
    let summary = match copied {
        Ok(summary) => summary,
        Err(e) => {
            drop(staging_conn.detach());
            drop(errors_conn.detach());
            return Err(e);
        }
    };
    drop((staging_conn, errors_conn));

    let repeated: Vec<serde_json::Value> = summary
        .repeated
        .iter()
        .map(|r| serde_json::json!({ "order": r.order, "line_key": r.line_key, "lines": r.lines }))
        .collect();
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    repo::finish_validation(
        &mut tx,
        job,
        worker,
        &repo::ValidationSummary {
            format: summary.format.map(OrderFormat::code),
            encoding: summary.encoding,
            rows: summary.rows as i64,
            good: summary.good as i64,
            rejected: summary.rejected as i64,
            line_fields: LineField::codes(summary.line_fields),
            dates_read_both_ways: summary.dates_read_both_ways.map(DateOrder::code),
            repeated_keys: serde_json::Value::Array(repeated),
            duplicate_rows: summary.duplicate_rows as i64,
            exported_at: summary.latest.filter(|_| file.exported_at_from_file),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The validation run's COPYs: good rows into staging, problems into errors, each in a
/// transaction on the connection given; committed only when both COPYs finished.
async fn copy_validation(
    db: &Db,
    job: &Claim,
    file: std::fs::File,
    clock: Clock,
    staging_conn: &mut sqlx::PgConnection,
    errors_conn: &mut sqlx::PgConnection,
) -> anyhow::Result<Summary> {
    let mut staging_tx = Db::system_tx_on(staging_conn, SystemScope::ImportJob).await?;
    let mut errors_tx = Db::system_tx_on(errors_conn, SystemScope::ImportJob).await?;
    repo::clear_staging(&mut staging_tx, job.tenant_id, job.id).await?;
    repo::clear_errors(&mut errors_tx, job.tenant_id, job.id).await?;

    let read_bytes = Arc::new(AtomicU64::new(0));
    let (send, mut receive) = mpsc::channel::<Block>(4);
    let parser = {
        let read_bytes = read_bytes.clone();
        let (tenant_id, import_id) = (job.tenant_id, job.id);
        tokio::task::spawn_blocking(move || {
            let counted = Counted {
                inner: std::io::BufReader::with_capacity(1 << 16, file),
                read: read_bytes,
            };
            parse_to_blocks(counted, clock, tenant_id, import_id, &send)
        })
    };

    let mut staging = repo::copy_in_staging(&mut staging_tx).await?;
    let mut errors = repo::copy_in_errors(&mut errors_tx).await?;
    let mut last_progress = std::time::Instant::now();
    while let Some(block) = receive.recv().await {
        match block {
            Block::Staging(b) => staging.send(b).await?,
            Block::Errors(b) => errors.send(b).await?,
        };
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = std::time::Instant::now();
            progress(db, job, read_bytes.load(Ordering::Relaxed)).await?;
        }
    }
    let summary = parser.await??;
    staging.finish().await?;
    errors.finish().await?;
    staging_tx.commit().await?;
    errors_tx.commit().await?;
    Ok(summary)
}

async fn progress(db: &Db, job: &Claim, bytes: u64) -> Result<(), sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    repo::progress(&mut tx, job, bytes as i64).await?;
    tx.commit().await
}

/// A reader that counts what it has read (the progress bar's measure).
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Whether stored bytes start like a workbook (a zip).
pub fn is_workbook(prefix: &[u8]) -> bool {
    prefix.starts_with(b"PK\x03\x04")
}

/// Runs in a blocking thread: reads the whole file and sends COPY blocks.
fn parse_to_blocks<R: Read + Seek>(
    mut file: Counted<R>,
    clock: Clock,
    tenant_id: Uuid,
    import_id: Uuid,
    send: &mpsc::Sender<Block>,
) -> anyhow::Result<Summary> {
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut out = CopyOut::new(tenant_id, import_id, clock.not_after, send);
    let summary = if is_workbook(&magic[..n]) {
        let mut book = xlsx::open_workbook(file)?;
        let mut reader = xlsx::XlsxOrderReader::new(&mut book, clock.zone)?.date_order(clock.order);
        let format = reader.format();
        for entry in reader.by_ref() {
            out.entry(entry?)?;
        }
        Summary {
            format: Some(format),
            encoding: "XLSX",
            rows: reader.rows_read(),
            dates_read_both_ways: reader.dates_read_both_ways(),
            ..Summary::default()
        }
    } else {
        let encoding = stream::detect_encoding(&mut file)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        file.read.store(0, Ordering::Relaxed);
        let mut reader =
            OrderReader::with_encoding(file, clock.zone, Some(encoding))?.date_order(clock.order);
        let format = reader.format();
        let label = reader.encoding();
        for entry in reader.by_ref() {
            out.entry(entry?)?;
        }
        Summary {
            format: Some(format),
            encoding: label,
            rows: reader.rows_read(),
            dates_read_both_ways: reader.dates_read_both_ways(),
            ..Summary::default()
        }
    };
    if summary.rows == 0 {
        return Err(FileError::new(Problem::NoRows, "").into());
    }
    out.finish(summary)
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct KeyHash(u64);

impl Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The keys of the good rows seen, as 64-bit hashes (a million keys in about 16 MB; two keys
/// sharing a hash, about one chance in 10^7 for a million rows, would list a key as repeated
/// that is not), with the line each was first seen on.
type SeenKeys = HashMap<u64, u32, BuildHasherDefault<KeyHash>>;

/// Buffers staging rows and errors as COPY text and sends them in blocks.
struct CopyOut<'a> {
    prefix: String,
    staging: Vec<u8>,
    errors: Vec<u8>,
    send: &'a mpsc::Sender<Block>,
    good: usize,
    rejected_lines: HashSet<usize>,
    error_seq: u64,
    line_fields: u8,
    hasher: RandomState,
    seen: SeenKeys,
    /// Hash → index in `repeated`, for the listed keys.
    listed: HashMap<u64, usize, BuildHasherDefault<KeyHash>>,
    repeated: Vec<RepeatedKey>,
    duplicate_rows: usize,
    not_after: OffsetDateTime,
    latest: Option<OffsetDateTime>,
}

impl<'a> CopyOut<'a> {
    fn new(
        tenant_id: Uuid,
        import_id: Uuid,
        not_after: OffsetDateTime,
        send: &'a mpsc::Sender<Block>,
    ) -> Self {
        CopyOut {
            prefix: format!("{tenant_id}\t{import_id}\t"),
            staging: Vec::with_capacity(COPY_BLOCK + 4096),
            errors: Vec::new(),
            send,
            good: 0,
            rejected_lines: HashSet::new(),
            error_seq: 0,
            line_fields: 0,
            hasher: RandomState::new(),
            seen: SeenKeys::default(),
            listed: HashMap::default(),
            repeated: Vec::new(),
            duplicate_rows: 0,
            not_after,
            latest: None,
        }
    }

    /// Notes the order's key (a key seen before is a repeat, the later line wins, as the
    /// import's merge does) and its times.
    fn track(&mut self, order: &Order) {
        let (order_key, line_key) = order.key();
        let line = order.line();
        let hash = self.hasher.hash_one((order_key, line_key));
        let first = *self
            .seen
            .entry(hash)
            .or_insert(u32::try_from(line).unwrap_or(u32::MAX));
        if first as usize != line {
            self.duplicate_rows += 1;
            match self.listed.get(&hash) {
                Some(&i) if self.repeated[i].lines.len() < REPEATED_LINES => {
                    self.repeated[i].lines.push(line);
                }
                Some(_) => {}
                None if self.repeated.len() < REPEATED_LISTED => {
                    self.listed.insert(hash, self.repeated.len());
                    self.repeated.push(RepeatedKey {
                        order: order_key.to_string(),
                        line_key: line_key.map(str::to_string),
                        lines: vec![first as usize, line],
                    });
                }
                None => {}
            }
        }
        let times = match order {
            Order::TikTok(o) => [Some(o.created_at), o.paid_at, o.commission_paid_at],
            Order::Shopify(o) => [Some(o.created_at), o.paid_at, None],
        };
        for at in times.into_iter().flatten() {
            if at <= self.not_after && self.latest.is_none_or(|l| at > l) {
                self.latest = Some(at);
            }
        }
    }

    fn entry(&mut self, entry: Entry) -> anyhow::Result<()> {
        match entry {
            Entry::Order(order) => {
                self.good += 1;
                self.track(&order);
                self.staging.extend_from_slice(self.prefix.as_bytes());
                self.line_fields |= staging_row(&mut self.staging, &order);
                if self.staging.len() >= COPY_BLOCK {
                    let block =
                        std::mem::replace(&mut self.staging, Vec::with_capacity(COPY_BLOCK + 4096));
                    self.send_block(Block::Staging(block))?;
                }
            }
            Entry::Rejected(error) => {
                self.rejected_lines.insert(error.line);
                self.error_seq += 1;
                self.errors.extend_from_slice(self.prefix.as_bytes());
                error_row(&mut self.errors, self.error_seq, &error);
                if self.errors.len() >= COPY_BLOCK {
                    let block = std::mem::take(&mut self.errors);
                    self.send_block(Block::Errors(block))?;
                }
            }
        }
        Ok(())
    }

    fn send_block(&self, block: Block) -> anyhow::Result<()> {
        self.send
            .blocking_send(block)
            .map_err(|_| anyhow::anyhow!("the import writer stopped"))
    }

    fn finish(mut self, summary: Summary) -> anyhow::Result<Summary> {
        if !self.staging.is_empty() {
            let block = std::mem::take(&mut self.staging);
            self.send_block(Block::Staging(block))?;
        }
        if !self.errors.is_empty() {
            let block = std::mem::take(&mut self.errors);
            self.send_block(Block::Errors(block))?;
        }
        Ok(Summary {
            good: self.good,
            rejected: self.rejected_lines.len(),
            line_fields: self.line_fields,
            repeated: self.repeated,
            duplicate_rows: self.duplicate_rows,
            latest: self.latest,
            ..summary
        })
    }
}

/// COPY's text format: backslash, tab, newline and carriage return escaped.
fn text(out: &mut Vec<u8>, value: &str) {
    for b in value.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            // No text Postgres stores holds a NUL; the parser rejects such rows, this is a guard.
            b'\0' => {}
            _ => out.push(b),
        }
    }
}

fn opt(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => text(out, v),
        None => out.extend_from_slice(b"\\N"),
    }
}

fn field(out: &mut Vec<u8>, value: &str) {
    text(out, value);
    out.push(b'\t');
}

fn opt_field(out: &mut Vec<u8>, value: Option<&str>) {
    opt(out, value);
    out.push(b'\t');
}

fn time_text(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn decimal_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// One staging row (after the tenant and import columns); returns the kept fields it has a
/// value for (`LineField::bit`s).
fn staging_row(out: &mut Vec<u8>, order: &Order) -> u8 {
    let (order_key, line_key) = order.key();
    field(out, &order.line().to_string());
    field(out, order_key);
    field(out, line_key.unwrap_or(""));
    field(out, &time_text(order.created_at()));
    // The kept fields, in the column order of `repo::copy_in_staging` after `product_name`.
    let kept: [(LineField, Option<String>); 8] = match order {
        Order::TikTok(o) => {
            opt_field(out, o.status.as_deref());
            field(out, &o.currency);
            field(out, &o.payment_amount.to_string());
            field(out, &o.quantity.min(i32::MAX as u32).to_string());
            field(out, &order.refunds().to_string());
            field(out, if o.fully_refunded { "t" } else { "f" });
            opt_field(out, o.creator_username.as_deref());
            opt_field(out, o.content_id.as_deref());
            opt_field(out, None);
            opt_field(out, decimal_text(o.commission_rate).as_deref());
            opt_field(
                out,
                decimal_text(o.actual_commission.or(o.est_commission)).as_deref(),
            );
            opt_field(out, o.product_name.as_deref());
            [
                (LineField::PaidAt, o.paid_at.map(time_text)),
                (
                    LineField::EstCommissionBase,
                    decimal_text(o.est_commission_base),
                ),
                (
                    LineField::ActualCommissionBase,
                    decimal_text(o.actual_commission_base),
                ),
                (
                    LineField::ActualCommission,
                    decimal_text(o.actual_commission),
                ),
                (LineField::Subtotal, None),
                (LineField::Discounts, None),
                (LineField::Shipping, None),
                (LineField::Tax, None),
            ]
        }
        Order::Shopify(o) => {
            let refunds = order.refunds();
            let quantity: u64 = o.items.iter().map(|i| u64::from(i.quantity)).sum();
            let names: Vec<&str> = o.items.iter().filter_map(|i| i.name.as_deref()).collect();
            let codes = o.discount_codes.join(",");
            opt_field(out, o.financial_status.as_deref());
            field(out, &o.currency);
            field(out, &o.total.to_string());
            field(out, &quantity.min(i32::MAX as u64).to_string());
            field(out, &refunds.to_string());
            field(
                out,
                if o.total > Decimal::ZERO && refunds >= o.total {
                    "t"
                } else {
                    "f"
                },
            );
            opt_field(out, None);
            opt_field(out, None);
            opt_field(out, (!codes.is_empty()).then_some(codes.as_str()));
            opt_field(out, None);
            opt_field(out, None);
            let joined: String = names.join("; ").chars().take(1_000).collect();
            opt_field(out, (!joined.is_empty()).then_some(joined.as_str()));
            [
                (LineField::PaidAt, o.paid_at.map(time_text)),
                (LineField::EstCommissionBase, None),
                (LineField::ActualCommissionBase, None),
                (LineField::ActualCommission, None),
                (LineField::Subtotal, decimal_text(o.subtotal)),
                (LineField::Discounts, Some(o.discount_amount.to_string())),
                (LineField::Shipping, decimal_text(o.shipping)),
                (LineField::Tax, decimal_text(o.taxes)),
            ]
        }
    };
    let mut present = 0;
    for (i, (f, value)) in kept.iter().enumerate() {
        if value.is_some() {
            present |= f.bit();
        }
        opt(out, value.as_deref());
        out.push(if i + 1 == kept.len() { b'\n' } else { b'\t' });
    }
    present
}

/// One error row (after the tenant and import columns).
fn error_row(out: &mut Vec<u8>, seq: u64, error: &RowError) {
    field(out, &seq.to_string());
    field(out, &error.line.to_string());
    opt_field(out, error.column.map(|c| c.header()));
    field(out, &error.value);
    field(out, error.problem.key());
    let detail = match error.problem {
        Problem::OrderRejected { line } => line.to_string(),
        Problem::CutShort { cells, of } => format!("{cells}/{of}"),
        _ => String::new(),
    };
    text(out, &detail);
    out.push(b'\n');
}

/// The import phase: one transaction, all or nothing.
async fn import(db: &Db, job: &Claim, worker: &str) -> anyhow::Result<()> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let (shop_id, exported_at, rows_good) = repo::lock_importing(&mut tx, job).await?;
    if rows_good > 0 && !repo::has_staged_rows(&mut tx, job).await? {
        // The staged rows were lost (the database crashed: the table is unlogged). Validate
        // the stored file again; the person imports once the report is back.
        repo::requeue(&mut tx, job).await?;
        tx.commit().await?;
        return Ok(());
    }
    import_staged(
        &mut tx,
        job,
        worker,
        (shop_id, exported_at),
        (rows_good, None),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Merges a batch's staged rows into the order lines, counts what they did, attributes them,
/// and marks the batch imported — the import phase's work, shared by the job and the API's
/// orders call (which stages and imports in its own transaction).
pub(crate) async fn import_staged(
    conn: &mut sqlx::PgConnection,
    job: &Claim,
    worker: &str,
    (shop_id, exported_at): (Uuid, OffsetDateTime),
    (rows_good, handles): (i64, Option<&[String]>),
) -> sqlx::Result<repo::LineCounts> {
    let inserted = repo::insert_order_lines(conn, job, shop_id, exported_at).await?;
    repo::clear_staging(conn, job.tenant_id, job.id).await?;
    let duplicates = rows_good - inserted as i64;
    finish_merged(
        conn,
        (job, worker),
        (shop_id, exported_at),
        (duplicates, handles),
    )
    .await
}

/// What follows the merge of a batch's lines into `order_lines`, wherever they came from (the
/// staging table, or an API call's scratch table): each line counted against the current ones,
/// the lines attributed, the batch marked imported.
pub(crate) async fn finish_merged(
    conn: &mut sqlx::PgConnection,
    (job, worker): (&Claim, &str),
    (shop_id, exported_at): (Uuid, OffsetDateTime),
    (duplicates, handles): (i64, Option<&[String]>),
) -> sqlx::Result<repo::LineCounts> {
    let counts = repo::line_counts(conn, job, shop_id, exported_at).await?;
    attribute_batch(conn, (job.tenant_id, job.id), handles).await?;
    repo::finish_import(conn, job, worker, duplicates, &counts).await?;
    Ok(counts)
}

/// A checked API line as a staging row (all columns, in `repo::copy_in_staging`'s order).
pub(crate) fn api_staging_row(
    out: &mut Vec<u8>,
    prefix: &str,
    line: usize,
    l: &super::domain::OrderLineRecord,
) {
    out.extend_from_slice(prefix.as_bytes());
    field(out, &line.to_string());
    field(out, &l.order_key);
    field(out, &l.line_key);
    field(out, &time_text(l.placed_at));
    opt_field(out, l.status.as_deref());
    field(out, &l.currency);
    field(out, &l.amount.to_string());
    opt_field(out, l.quantity.map(|q| q.to_string()).as_deref());
    field(out, &l.refunded_amount.unwrap_or_default().to_string());
    field(out, if l.fully_refunded { "t" } else { "f" });
    opt_field(out, l.creator_username.as_deref());
    opt_field(out, l.content_id.as_deref());
    opt_field(out, l.discount_code.as_deref());
    opt_field(out, decimal_text(l.commission_rate).as_deref());
    opt_field(out, decimal_text(l.commission).as_deref());
    opt_field(out, l.product_name.as_deref());
    opt_field(out, l.paid_at.map(time_text).as_deref());
    opt_field(out, decimal_text(l.est_commission_base).as_deref());
    opt_field(out, decimal_text(l.actual_commission_base).as_deref());
    opt_field(out, decimal_text(l.actual_commission).as_deref());
    opt_field(out, decimal_text(l.subtotal).as_deref());
    opt_field(out, decimal_text(l.discounts).as_deref());
    opt_field(out, decimal_text(l.shipping).as_deref());
    opt(out, decimal_text(l.tax).as_deref());
    out.push(b'\n');
}

/// Automatic attributions recorded per statement.
const ATTRIBUTIONS_PER_INSERT: usize = 20_000;

/// Attributes the batch's lines nobody is credited with yet (an existing attribution, automatic
/// or a person's, is kept: it is keyed by the line, so it survives newer exports). A line naming
/// a creator goes by `domain::attribute` over the creator's collaborations; a Shopify order by
/// its discount codes. What no rule settles stays for a person.
/// `handles`, when the caller knows them, are every creator the batch names (only their
/// collaborations are read).
async fn attribute_batch(
    conn: &mut sqlx::PgConnection,
    (tenant_id, import_id): (Uuid, Uuid),
    handles: Option<&[String]>,
) -> sqlx::Result<()> {
    let candidates = repo::candidates_by_handle(conn, tenant_id, handles).await?;
    if !candidates.is_empty() {
        let handles: Vec<String> = candidates.keys().cloned().collect();
        let lines = repo::lines_to_attribute(conn, tenant_id, import_id, &handles).await?;
        for chunk in lines.chunks(ATTRIBUTIONS_PER_INSERT) {
            let mut new = repo::NewAttributions::default();
            for line in chunk {
                let of_creator = candidates
                    .get(&line.creator_username)
                    .map_or(&[][..], Vec::as_slice);
                if let Ok((collaboration, rule)) =
                    domain::attribute(line.placed_at, line.content_id.as_deref(), of_creator)
                {
                    new.shop_ids.push(line.shop_id);
                    new.order_keys.push(line.order_key.clone());
                    new.line_keys.push(line.line_key.clone());
                    new.collaboration_ids.push(collaboration);
                    new.rules.push(rule.code().to_string());
                }
            }
            if !new.shop_ids.is_empty() {
                repo::insert_attributions(conn, tenant_id, import_id, &new).await?;
            }
        }
    }
    repo::attribute_discount_codes(conn, tenant_id, import_id).await
}

/// Fills the kept fields (`LineField`) of the lines of batches imported before they were kept,
/// from each batch's stored file, one batch per transaction; a batch done records which fields
/// its file carried, so it is never read again (the backfill is idempotent, and several
/// servers share the work). Returns how many batches it filled.
pub async fn backfill_line_fields(db: &Db, storage: &Storage) -> anyhow::Result<usize> {
    let mut filled = 0;
    loop {
        let mut tx = db.system_tx(SystemScope::ImportJob).await?;
        let Some(batch) = repo::next_batch_without_fields(&mut tx).await? else {
            tx.commit().await?;
            return Ok(filled);
        };
        let fields = match reread_into_staging(&mut tx, storage, &batch).await {
            Ok(fields) => {
                repo::fill_line_fields(&mut tx, batch.tenant_id, batch.id).await?;
                repo::clear_staging(&mut tx, batch.tenant_id, batch.id).await?;
                fields
            }
            Err(e) => {
                // A file gone or unreadable gives nothing: the batch then says it lacks them.
                // What the attempt staged goes with its transaction.
                tracing::warn!(error = %e, import = %batch.id, "order import backfill: file unreadable");
                tx.rollback().await?;
                tx = db.system_tx(SystemScope::ImportJob).await?;
                Vec::new()
            }
        };
        repo::set_line_fields(&mut tx, batch.tenant_id, batch.id, &fields).await?;
        tx.commit().await?;
        filled += 1;
    }
}

/// Parses a batch's stored file again into staging (its good rows, as the validation run
/// stages them); returns the kept fields the file carried.
async fn reread_into_staging(
    tx: &mut sqlx::PgConnection,
    storage: &Storage,
    batch: &repo::BatchWithoutFields,
) -> anyhow::Result<Vec<String>> {
    let zone = shop_zone(&batch.time_zone)
        .ok_or_else(|| anyhow::anyhow!("unknown time zone {}", batch.time_zone))?;
    let clock = Clock {
        zone,
        order: DateOrder::parse(&batch.date_order).unwrap_or_default(),
        not_after: OffsetDateTime::now_utc() + super::domain::CLOCK_SKEW,
    };
    let spool = storage.spool(&batch.storage_key).await?;
    let file = spool.reopen()?;
    let (send, mut receive) = mpsc::channel::<Block>(4);
    let (tenant_id, import_id) = (batch.tenant_id, batch.id);
    let parser = tokio::task::spawn_blocking(move || {
        let counted = Counted {
            inner: std::io::BufReader::with_capacity(1 << 16, file),
            read: Arc::new(AtomicU64::new(0)),
        };
        parse_to_blocks(counted, clock, tenant_id, import_id, &send)
    });
    let mut staging = repo::copy_in_staging(tx).await?;
    let mut sent: Result<(), sqlx::Error> = Ok(());
    while let Some(block) = receive.recv().await {
        // The rejected rows were reported when the batch was validated.
        if let (Block::Staging(b), Ok(())) = (block, &sent) {
            sent = staging.send(b).await.map(drop);
        }
    }
    let parsed = parser.await;
    let summary = sent
        .map_err(anyhow::Error::from)
        .and_then(|()| parsed.map_err(anyhow::Error::from).and_then(|r| r));
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            // A COPY left open would poison the connection: end it before anything else.
            staging.abort("order import backfill stopped").await.ok();
            return Err(e);
        }
    };
    staging.finish().await?;
    Ok(LineField::codes(summary.line_fields))
}
