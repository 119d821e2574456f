//! The click log: the redirect pushes each click into a buffer in memory and answers at once; a
//! writer task moves the buffer to `link_clicks` with one COPY every 250 ms, deciding there which
//! clicks go beyond a visitor's rate (against windows kept in Postgres and locked for the batch,
//! so the limit holds across app servers) and which are unique, and flushes what is left when the
//! server stops. A failed write keeps the clicks for the next round. None of this is on the
//! redirect's path: a redirect only pushes into the buffer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::{Db, SystemScope};
use crate::tracking::links::rules::{RecentClicks, UniqueTracker, VisitorHash, mark_over_rate};

/// SPEC §5: a crash loses at most this much.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// How often the writer forgets the rate windows of idle visitors.
const PRUNE_RATES_EVERY: Duration = Duration::from_secs(60);

/// While the database is away the buffer holds at most this many clicks (about 100 MB); past
/// it new clicks are dropped, loudly.
const MAX_BUFFERED: usize = 1_000_000;

/// One redirect, as logged.
#[derive(Debug, Clone)]
pub struct Click {
    pub tenant_id: Uuid,
    pub collaboration_id: Uuid,
    pub at: OffsetDateTime,
    pub visitor: VisitorHash,
    pub referer_host: Option<String>,
    pub bot: bool,
}

/// What the writer carries from one batch to the next.
#[derive(Default)]
struct Writer {
    unique: Option<UniqueTracker>,
    rates_pruned: Option<Instant>,
}

struct Inner {
    buffer: Mutex<Vec<Click>>,
    /// Held while writing, so two flushes never interleave (and unique clicks stay right).
    writer: tokio::sync::Mutex<Writer>,
    stop: Notify,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    db: Db,
}

/// Cheap to clone; every clone feeds the same buffer.
#[derive(Clone)]
pub struct ClickLog {
    inner: Arc<Inner>,
}

impl ClickLog {
    /// A log whose writer task runs on the current Tokio runtime until [`ClickLog::shutdown`].
    pub fn start(db: Db) -> ClickLog {
        let log = ClickLog {
            inner: Arc::new(Inner {
                buffer: Mutex::new(Vec::with_capacity(4096)),
                writer: tokio::sync::Mutex::new(Writer::default()),
                stop: Notify::new(),
                task: Mutex::new(None),
                db,
            }),
        };
        let worker = log.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if worker.inner.db.pool().is_closed() {
                            break;
                        }
                        if let Err(e) = worker.flush().await {
                            tracing::error!(error = %e, "click log: write failed, will retry");
                        }
                    }
                    _ = worker.inner.stop.notified() => break,
                }
            }
        });
        *log.inner.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        log
    }

    /// Never waits: the click is in memory until the next flush.
    pub fn push(&self, click: Click) {
        let mut buffer = self.inner.buffer.lock().unwrap_or_else(|e| e.into_inner());
        if buffer.len() >= MAX_BUFFERED {
            tracing::error!("click log: buffer full, a click is lost");
            return;
        }
        buffer.push(click);
    }

    /// Clicks waiting in memory.
    pub fn pending(&self) -> usize {
        self.inner
            .buffer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Writes everything buffered so far; returns how many clicks were written.
    pub async fn flush(&self) -> Result<usize, sqlx::Error> {
        let mut writer = self.inner.writer.lock().await;
        if writer.unique.is_none() {
            writer.unique = Some(recent_counted(&self.inner.db).await?);
        }
        let batch =
            std::mem::take(&mut *self.inner.buffer.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return Ok(0);
        }
        let tracker = writer.unique.as_ref().expect("loaded above");
        match write(&self.inner.db, &batch, tracker).await {
            Ok(mut tracker) => {
                tracker.prune(OffsetDateTime::now_utc());
                writer.unique = Some(tracker);
                if writer
                    .rates_pruned
                    .is_none_or(|at| at.elapsed() >= PRUNE_RATES_EVERY)
                {
                    writer.rates_pruned = Some(Instant::now());
                    if let Err(e) = prune_rates(&self.inner.db).await {
                        tracing::warn!(error = %e, "click log: pruning rate windows failed");
                    }
                }
                Ok(batch.len())
            }
            Err(e) => {
                let mut buffer = self.inner.buffer.lock().unwrap_or_else(|e| e.into_inner());
                let newer = std::mem::replace(&mut *buffer, batch);
                buffer.extend(newer);
                Err(e)
            }
        }
    }

    /// Stops the writer and flushes what is left (on SIGTERM, after the last request).
    pub async fn shutdown(&self) -> Result<usize, sqlx::Error> {
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            self.inner.stop.notify_one();
            task.await.ok();
        }
        // A failing database gets a few tries before the process gives up on the rest.
        let mut attempt = 0;
        loop {
            match self.flush().await {
                Ok(n) => return Ok(n),
                Err(e) if attempt >= 4 => return Err(e),
                Err(e) => {
                    tracing::error!(error = %e, "click log: final flush failed, retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

/// The counted clicks of the last 30 minutes, so uniqueness survives a restart.
async fn recent_counted(db: &Db) -> Result<UniqueTracker, sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ClickWriter).await?;
    let rows = super::repo::recent_counted_clicks(&mut tx).await?;
    tx.commit().await?;
    let mut unique = UniqueTracker::default();
    for (link, visitor, at) in rows {
        if let Ok(visitor) = <[u8; 16]>::try_from(visitor.as_slice()) {
            unique.remember(link, VisitorHash(visitor), at);
        }
    }
    Ok(unique)
}

/// The whole batch in one transaction: its visitors' rate windows locked and decided, the
/// unique rule applied (on a copy of the tracker: if the write fails, the clicks go back and are
/// decided again), one COPY. Returns the tracker as it stands after the batch.
async fn write(
    db: &Db,
    batch: &[Click],
    unique: &UniqueTracker,
) -> Result<UniqueTracker, sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ClickWriter).await?;
    let over = over_rate(&mut tx, batch).await?;
    let mut tracker = unique.clone();
    let rows: Vec<(bool, bool)> = batch
        .iter()
        .zip(&over)
        .map(|(c, &over)| {
            let bot = c.bot || over;
            (
                bot,
                tracker.observe(c.collaboration_id, c.visitor, c.at, bot),
            )
        })
        .collect();
    let text = copy_text(batch, &rows, &over)?;
    super::repo::copy_clicks(&mut tx, text.into_bytes()).await?;
    tx.commit().await?;
    Ok(tracker)
}

/// Which clicks of the batch go beyond their visitor's rate, decided against the windows in the
/// database (locked until the batch's transaction ends) and written back there.
async fn over_rate(
    conn: &mut sqlx::PgConnection,
    batch: &[Click],
) -> Result<Vec<bool>, sqlx::Error> {
    let mut keys: Vec<(Uuid, Uuid, Vec<u8>)> = batch
        .iter()
        .filter(|c| !c.bot)
        .map(|c| (c.tenant_id, c.collaboration_id, c.visitor.0.to_vec()))
        .collect();
    if keys.is_empty() {
        return Ok(vec![false; batch.len()]);
    }
    keys.sort_unstable();
    keys.dedup();
    let mut recent: HashMap<(Uuid, VisitorHash), RecentClicks> = HashMap::new();
    for (link, visitor, at) in super::repo::lock_click_rates(conn, &keys).await? {
        if let Ok(visitor) = <[u8; 16]>::try_from(visitor.as_slice()) {
            recent.insert((link, VisitorHash(visitor)), RecentClicks(at));
        }
    }
    let clicks: Vec<_> = batch
        .iter()
        .map(|c| (c.collaboration_id, c.visitor, c.at, c.bot))
        .collect();
    let over = mark_over_rate(&clicks, &mut recent);
    let tenants: HashMap<Uuid, Uuid> = batch
        .iter()
        .map(|c| (c.collaboration_id, c.tenant_id))
        .collect();
    let windows: Vec<(Uuid, Uuid, Vec<u8>, OffsetDateTime)> = recent
        .iter()
        .filter_map(|((link, visitor), window)| Some((*tenants.get(link)?, *link, visitor, window)))
        .flat_map(|(tenant, link, visitor, window)| {
            window
                .0
                .iter()
                .map(move |at| (tenant, link, visitor.0.to_vec(), *at))
        })
        .collect();
    super::repo::save_click_rates(conn, &windows).await?;
    Ok(over)
}

async fn prune_rates(db: &Db) -> Result<(), sqlx::Error> {
    let mut tx = db.system_tx(SystemScope::ClickWriter).await?;
    super::repo::prune_click_rates(&mut tx).await?;
    tx.commit().await
}

/// COPY text of the batch: each click with its (bot, unique) and whether it went over the rate.
fn copy_text(batch: &[Click], rows: &[(bool, bool)], over: &[bool]) -> Result<String, sqlx::Error> {
    use std::fmt::Write;
    let mut text = String::with_capacity(batch.len() * 170);
    for ((c, (bot, unique)), over) in batch.iter().zip(rows).zip(over) {
        let at =
            c.at.format(&Rfc3339)
                .map_err(|e| sqlx::Error::Encode(e.into()))?;
        let _ = write!(
            text,
            "{}\t{}\t{}\t\\\\x",
            c.tenant_id, c.collaboration_id, at
        );
        for b in c.visitor.0 {
            let _ = write!(text, "{b:02x}");
        }
        text.push('\t');
        match &c.referer_host {
            Some(host) => copy_escape(&mut text, host),
            None => text.push_str("\\N"),
        }
        let _ = writeln!(text, "\t{bot}\t{unique}\t{over}");
    }
    Ok(text)
}

/// COPY's text format: backslash, tab, newline and carriage return escaped.
fn copy_escape(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
