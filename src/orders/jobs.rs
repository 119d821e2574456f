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

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use crate::db::{Db, SystemScope};
use crate::storage::Storage;
use crate::tracking::orders::{
    Entry, FileError, Order, OrderFormat, OrderReader, Problem, RowError, shop_zone,
};
use crate::tracking::{stream, xlsx};

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

/// A claimed job.
#[derive(Debug, sqlx::FromRow)]
struct Claim {
    tenant_id: Uuid,
    id: Uuid,
    state: String,
    job_attempts: i32,
}

const CLAIM_SQL: &str = "WITH next AS ( \
       SELECT tenant_id, id FROM order_imports \
       WHERE state IN ('queued', 'validating', 'importing') \
         AND (job_heartbeat_at IS NULL OR job_heartbeat_at < now() - make_interval(secs => $2)) \
         AND ($3::uuid IS NULL OR (tenant_id = $3 AND id = $4)) \
       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
     UPDATE order_imports o SET \
       state = CASE WHEN o.state = 'queued' THEN 'validating' ELSE o.state END, \
       job_worker = $1, job_heartbeat_at = now(), job_attempts = o.job_attempts + 1, \
       updated_at = now() \
     FROM next WHERE o.tenant_id = next.tenant_id AND o.id = next.id \
     RETURNING o.tenant_id, o.id, o.state, o.job_attempts";

async fn claim(
    db: &Db,
    worker: &str,
    only: Option<(Uuid, Uuid)>,
) -> Result<Option<Claim>, sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let claim = sqlx::query_as::<_, Claim>(CLAIM_SQL)
        .bind(worker)
        .bind(STALE_AFTER.as_secs_f64())
        .bind(only.map(|o| o.0))
        .bind(only.map(|o| o.1))
        .fetch_optional(&mut *tx)
        .await?;
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
) -> anyhow::Result<String> {
    let worker = format!("inline-{}", Uuid::now_v7());
    loop {
        if let Some(job) = claim(db, &worker, Some((tenant_id, import_id))).await? {
            run_claimed(db, storage, &worker, job).await;
        }
        let mut tx = db.system_tx(SystemScope::ImportJob).await?;
        let state: String =
            sqlx::query_scalar("SELECT state FROM order_imports WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id)
                .bind(import_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        if !matches!(state.as_str(), "queued" | "validating" | "importing") {
            return Ok(state);
        }
        // A background worker has it: wait for it to finish.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run_claimed(db: &Db, storage: &Storage, worker: &str, job: Claim) {
    if job.job_attempts > MAX_ATTEMPTS {
        let _ = fail(db, &job, worker, FAILED_GAVE_UP, "").await;
        return;
    }
    let heartbeat = spawn_heartbeat(db.clone(), job.tenant_id, job.id, worker.to_string());
    let outcome = match job.state.as_str() {
        "validating" => validate(db, storage, &job, worker).await,
        "importing" => import(db, &job, worker).await,
        _ => Ok(()),
    };
    heartbeat.abort();
    if let Err(e) = outcome {
        let (key, detail) = match e.downcast_ref::<FileError>() {
            Some(file) => (file.problem.key(), file.detail.clone()),
            None => {
                tracing::error!(error = ?e, import = %job.id, "order import failed");
                match e.downcast_ref::<crate::storage::StorageError>() {
                    Some(_) => (FAILED_MISSING_FILE, String::new()),
                    None => (FAILED_INTERNAL, String::new()),
                }
            }
        };
        if let Err(e) = fail(db, &job, worker, key, &detail).await {
            tracing::error!(error = %e, import = %job.id, "order import: could not record failure");
        }
    }
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
                sqlx::query(
                    "UPDATE order_imports SET job_heartbeat_at = now() \
                     WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
                )
                .bind(tenant_id)
                .bind(id)
                .bind(&worker)
                .execute(&mut *tx)
                .await?;
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
    sqlx::query(
        "UPDATE order_imports SET state = 'failed', failure = $4, failure_detail = $5, \
           job_worker = NULL, job_heartbeat_at = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .bind(worker)
    .bind(key)
    .bind(detail)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM order_import_staging WHERE tenant_id = $1 AND import_id = $2")
        .bind(job.tenant_id)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct JobFile {
    storage_key: String,
    bytes: i64,
    time_zone: String,
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
}

async fn validate(db: &Db, storage: &Storage, job: &Claim, worker: &str) -> anyhow::Result<()> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let file: JobFile = sqlx::query_as(
        "SELECT u.storage_key, u.bytes, s.time_zone FROM order_imports i \
         JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
         JOIN shops s ON s.tenant_id = i.tenant_id AND s.id = i.shop_id \
         WHERE i.tenant_id = $1 AND i.id = $2",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .fetch_one(&mut *tx)
    .await?;
    // A restarted run starts from a clean slate.
    sqlx::query(
        "UPDATE order_imports SET rows_total = 0, rows_done = 0, rows_good = 0, \
           rows_rejected = 0, bytes_done = 0, bytes_total = $3, failure = NULL, \
           failure_detail = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .bind(file.bytes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(zone) = shop_zone(&file.time_zone) else {
        return fail(db, job, worker, FAILED_UNKNOWN_ZONE, &file.time_zone).await;
    };
    let spool = storage.spool(&file.storage_key).await?;

    let mut staging_tx = db.system_tx(SystemScope::ImportJob).await?;
    let mut errors_tx = db.system_tx(SystemScope::ImportJob).await?;
    for (tx, table) in [
        (&mut staging_tx, "order_import_staging"),
        (&mut errors_tx, "order_import_errors"),
    ] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND import_id = $2"
        ))
        .bind(job.tenant_id)
        .bind(job.id)
        .execute(&mut **tx)
        .await?;
    }

    let read_bytes = Arc::new(AtomicU64::new(0));
    let (send, mut receive) = mpsc::channel::<Block>(4);
    let parser = {
        let read_bytes = read_bytes.clone();
        let file = spool.reopen()?;
        let (tenant_id, import_id) = (job.tenant_id, job.id);
        tokio::task::spawn_blocking(move || {
            let counted = Counted {
                inner: std::io::BufReader::with_capacity(1 << 16, file),
                read: read_bytes,
            };
            parse_to_blocks(counted, zone, tenant_id, import_id, &send)
        })
    };

    let mut staging = staging_tx
        .copy_in_raw(
            "COPY order_import_staging (tenant_id, import_id, line, order_key, line_key, \
             placed_at, status, currency, amount, quantity, refunded_amount, fully_refunded, \
             creator_username, content_id, discount_code, commission_rate, commission, \
             product_name) FROM STDIN",
        )
        .await?;
    let mut errors = errors_tx
        .copy_in_raw(
            "COPY order_import_errors (tenant_id, import_id, seq, line, column_name, value, \
             problem, detail) FROM STDIN",
        )
        .await?;
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

    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    sqlx::query(
        "UPDATE order_imports SET state = 'validated', format = $4, encoding = $5, \
           rows_total = $6, rows_done = $6, rows_good = $7, rows_rejected = $8, \
           bytes_done = bytes_total, job_worker = NULL, job_heartbeat_at = NULL, \
           job_attempts = 0, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3 AND state = 'validating'",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .bind(worker)
    .bind(summary.format.map(OrderFormat::code))
    .bind(summary.encoding)
    .bind(summary.rows as i64)
    .bind(summary.good as i64)
    .bind(summary.rejected as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn progress(db: &Db, job: &Claim, bytes: u64) -> Result<(), sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    sqlx::query(
        "UPDATE order_imports SET bytes_done = $3, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .bind(bytes as i64)
    .execute(&mut *tx)
    .await?;
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
    zone: &'static time_tz::Tz,
    tenant_id: Uuid,
    import_id: Uuid,
    send: &mpsc::Sender<Block>,
) -> anyhow::Result<Summary> {
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut out = CopyOut::new(tenant_id, import_id, send);
    if is_workbook(&magic[..n]) {
        let mut book = xlsx::open_workbook(file)?;
        let mut reader = xlsx::XlsxOrderReader::new(&mut book, zone)?;
        let format = reader.format();
        for entry in reader.by_ref() {
            out.entry(entry?)?;
        }
        let rows = reader.rows_read();
        out.finish(Summary {
            format: Some(format),
            encoding: "XLSX",
            rows,
            ..Summary::default()
        })
    } else {
        let encoding = stream::detect_encoding(&mut file)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        file.read.store(0, Ordering::Relaxed);
        let mut reader = OrderReader::with_encoding(file, zone, Some(encoding))?;
        let format = reader.format();
        let label = reader.encoding();
        for entry in reader.by_ref() {
            out.entry(entry?)?;
        }
        let rows = reader.rows_read();
        out.finish(Summary {
            format: Some(format),
            encoding: label,
            rows,
            ..Summary::default()
        })
    }
}

/// Buffers staging rows and errors as COPY text and sends them in blocks.
struct CopyOut<'a> {
    prefix: String,
    staging: Vec<u8>,
    errors: Vec<u8>,
    send: &'a mpsc::Sender<Block>,
    good: usize,
    rejected_lines: HashSet<usize>,
    error_seq: u64,
}

impl<'a> CopyOut<'a> {
    fn new(tenant_id: Uuid, import_id: Uuid, send: &'a mpsc::Sender<Block>) -> Self {
        CopyOut {
            prefix: format!("{tenant_id}\t{import_id}\t"),
            staging: Vec::with_capacity(COPY_BLOCK + 4096),
            errors: Vec::new(),
            send,
            good: 0,
            rejected_lines: HashSet::new(),
            error_seq: 0,
        }
    }

    fn entry(&mut self, entry: Entry) -> anyhow::Result<()> {
        match entry {
            Entry::Order(order) => {
                self.good += 1;
                self.staging.extend_from_slice(self.prefix.as_bytes());
                staging_row(&mut self.staging, &order);
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

/// One staging row (after the tenant and import columns).
fn staging_row(out: &mut Vec<u8>, order: &Order) {
    let (order_key, line_key) = order.key();
    field(out, &order.line().to_string());
    field(out, order_key);
    field(out, line_key.unwrap_or(""));
    field(out, &time_text(order.created_at()));
    match order {
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
            opt(out, o.product_name.as_deref());
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
            opt(out, (!joined.is_empty()).then_some(joined.as_str()));
        }
    }
    out.push(b'\n');
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
        _ => String::new(),
    };
    text(out, &detail);
    out.push(b'\n');
}

/// The import phase: one transaction, all or nothing.
async fn import(db: &Db, job: &Claim, worker: &str) -> anyhow::Result<()> {
    let mut tx = db.system_tx(SystemScope::ImportJob).await?;
    let (shop_id, exported_at, rows_good): (Uuid, OffsetDateTime, i64) = sqlx::query_as(
        "SELECT shop_id, exported_at, rows_good FROM order_imports \
         WHERE tenant_id = $1 AND id = $2 AND state = 'importing' FOR UPDATE",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .fetch_one(&mut *tx)
    .await?;
    let staged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_import_staging WHERE tenant_id = $1 AND import_id = $2",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .fetch_one(&mut *tx)
    .await?;
    if staged != rows_good {
        // The staged rows were lost (the database crashed: the table is unlogged). Validate
        // the stored file again; the person imports once the report is back.
        sqlx::query(
            "UPDATE order_imports SET state = 'queued', job_worker = NULL, \
               job_heartbeat_at = NULL, job_attempts = 0, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(job.tenant_id)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    let inserted = sqlx::query(
        "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, \
           exported_at, placed_at, status, currency, amount, quantity, refunded_amount, \
           fully_refunded, creator_username, content_id, discount_code, commission_rate, \
           commission, product_name) \
         SELECT DISTINCT ON (s.order_key, s.line_key) s.tenant_id, s.import_id, $3, \
           s.order_key, s.line_key, $4, s.placed_at, s.status, s.currency, s.amount, \
           s.quantity, s.refunded_amount, s.fully_refunded, s.creator_username, s.content_id, \
           s.discount_code, s.commission_rate, s.commission, s.product_name \
         FROM order_import_staging s WHERE s.tenant_id = $1 AND s.import_id = $2 \
         ORDER BY s.order_key, s.line_key, s.line DESC",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .bind(shop_id)
    .bind(exported_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    attribute(&mut tx, job.tenant_id, job.id).await?;
    sqlx::query("DELETE FROM order_import_staging WHERE tenant_id = $1 AND import_id = $2")
        .bind(job.tenant_id)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE order_imports SET state = 'imported', imported_at = now(), \
           duplicate_rows = $4, job_worker = NULL, job_heartbeat_at = NULL, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND job_worker = $3",
    )
    .bind(job.tenant_id)
    .bind(job.id)
    .bind(worker)
    .bind(staged - inserted as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Attributes the batch's lines that have no attribution yet (an existing one, automatic or by
/// a person, is kept: it is keyed by the line, so it survives newer exports).
/// - TikTok: `Content ID` = a post's video id of the creator (`content`); else the creator's
///   only collaboration in this tenant, or, when there are several, the only live one (of a
///   running or evaluating campaign, not ended) (`creator`). Anything still ambiguous stays
///   unattributed for a person to decide.
/// - Shopify: any of the order's discount codes = a collaboration's code, case-insensitive.
async fn attribute(tx: &mut crate::db::Tx, tenant_id: Uuid, import_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "WITH cc AS ( \
           SELECT cr.handle, array_agg(c.id) AS ids, \
             array_agg(c.id) FILTER (WHERE k.state IN ('running', 'evaluating') \
               AND c.state NOT IN ('proposed', 'breached', 'rated', 'settled')) AS live \
           FROM collaborations c JOIN creators cr ON cr.id = c.creator_id \
           JOIN campaigns k ON k.tenant_id = c.tenant_id AND k.id = c.campaign_id \
           WHERE c.tenant_id = $1 AND c.state <> 'cancelled' GROUP BY cr.handle), \
         pv AS ( \
           SELECT p.video_id, p.collaboration_id, cr.handle FROM posts p \
           JOIN collaborations c ON c.tenant_id = p.tenant_id AND c.id = p.collaboration_id \
           JOIN creators cr ON cr.id = c.creator_id \
           WHERE p.tenant_id = $1 AND p.video_id IS NOT NULL) \
         INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by) \
         SELECT l.tenant_id, l.shop_id, l.order_key, l.line_key, \
           coalesce(pv.collaboration_id, \
             CASE WHEN cardinality(cc.ids) = 1 THEN cc.ids[1] ELSE cc.live[1] END), \
           CASE WHEN pv.collaboration_id IS NOT NULL THEN 'content' ELSE 'creator' END \
         FROM order_lines l \
         JOIN cc ON cc.handle = l.creator_username \
         LEFT JOIN pv ON pv.video_id = l.content_id AND pv.handle = l.creator_username \
         WHERE l.tenant_id = $1 AND l.import_id = $2 \
           AND (pv.collaboration_id IS NOT NULL OR cardinality(cc.ids) = 1 \
             OR coalesce(cardinality(cc.live), 0) = 1) \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(import_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
           collaboration_id, attributed_by) \
         SELECT DISTINCT ON (l.order_key, l.line_key) l.tenant_id, l.shop_id, l.order_key, \
           l.line_key, c.id, 'discount_code' \
         FROM order_lines l \
         JOIN collaborations c ON c.tenant_id = l.tenant_id \
           AND lower(c.discount_code) = ANY (string_to_array(lower(l.discount_code), ',')) \
         WHERE l.tenant_id = $1 AND l.import_id = $2 AND l.discount_code IS NOT NULL \
           AND c.state <> 'cancelled' \
         ORDER BY l.order_key, l.line_key, c.created_at \
         ON CONFLICT (tenant_id, shop_id, order_key, line_key) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(import_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
