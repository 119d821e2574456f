//! The tier job: a loop started with the server that calls [`tick`] every minute. A tick, under
//! a transaction-scoped Postgres advisory lock (several app servers: one works, the others skip):
//! - recomputes the platform tier of the creators a tenant's refresh marked;
//! - once a day (the first tick of a UTC day claims it), recomputes every tenant's tiers (rules
//!   depend on time: weights decay, major events age out, D14 windows become final) and every
//!   creator's platform tier.

use std::time::Duration;

use time::OffsetDateTime;

use super::actions::{recompute_platform, recompute_tenant};
use super::repo;
use crate::db::{Db, SystemScope};

/// The advisory lock's key ("tiers" in ASCII).
pub const LOCK_KEY: i64 = 0x74_69_65_72_73;
const DAILY: &str = "tiers_daily";

/// What a tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Another server holds the lock.
    Busy,
    /// It worked: the daily pass ran (or had already run today), and how many marked
    /// creators' platform tiers it recomputed.
    Ran { daily: bool, marked: usize },
}

/// One round of the job as of `now`, in one system transaction.
pub async fn tick(db: &Db, now: OffsetDateTime) -> anyhow::Result<Tick> {
    let mut tx = db.system_tx(SystemScope::TierJob).await?;
    if !repo::try_job_lock(&mut tx, LOCK_KEY).await? {
        return Ok(Tick::Busy);
    }
    let marked = repo::take_platform_dirty(&mut tx).await?;
    let daily = repo::claim_day(&mut tx, DAILY, now.date()).await?;
    if daily {
        for tenant in repo::tenant_ids(&mut tx).await? {
            let s = recompute_tenant(&mut tx, tenant, now).await?;
            tracing::info!(%tenant, creators = s.creators, written = s.written,
                changed = s.changed_tier, timings = ?s.timings, "tiers: daily pass");
        }
        let s = recompute_platform(&mut tx, None, now, "daily").await?;
        tracing::info!(creators = s.creators, written = s.written, changed = s.changed_tier,
            timings = ?s.timings, "platform tiers: daily pass");
    } else if !marked.is_empty() {
        recompute_platform(&mut tx, Some(&marked), now, "refresh").await?;
    }
    tx.commit().await?;
    Ok(Tick::Ran {
        daily,
        marked: marked.len(),
    })
}

/// Starts the loop (first round a minute after startup, then every minute).
pub fn spawn(db: Db) {
    tokio::spawn(async move {
        let period = Duration::from_secs(60);
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if db.pool().is_closed() {
                break;
            }
            if let Err(e) = tick(&db, OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "tier job failed");
            }
        }
    });
}
