//! The late/no-publish job (SPEC §6): every few minutes, for each collaboration of an active
//! tenant with a publish deadline in its current terms (accepted … tracking) and no automatic
//! record yet, records `no_publish` once nothing was posted by the deadline + the tenant's grace
//! days, or `late_publish` once the first post came after the deadline. Days are the tenant's
//! calendar days. Idempotent: the automatic record is unique per collaboration and kind, so two
//! servers (or two ticks) record it once.

use std::time::Duration;

use time::{Date, OffsetDateTime};
use time_tz::{OffsetDateTimeExt, timezones};

use super::{actions, domain, repo};
use crate::auth::Actor;
use crate::db::{Db, SystemScope};
use crate::tenants::Access;

/// How often the job looks.
pub const EVERY: Duration = Duration::from_secs(5 * 60);
/// How the job is named in audit entries and records.
pub const JOB_NAME: &str = "fulfilment-deadlines";

/// The day `at` falls on in `time_zone` (UTC when the zone is unknown).
fn local_day(at: OffsetDateTime, time_zone: &str) -> Date {
    match timezones::get_by_name(time_zone) {
        Some(tz) => at.to_timezone(tz).date(),
        None => at.date(),
    }
}

/// One pass at `now`: answers how many records it added.
pub async fn tick(db: &Db, now: OffsetDateTime) -> anyhow::Result<usize> {
    // A day past UTC's date covers every zone ahead of UTC; the rule itself decides.
    let by = now.date().next_day().unwrap_or(now.date());
    let candidates = {
        let mut tx = db.system_tx(SystemScope::FulfilmentJob).await?;
        repo::deadline_candidates(&mut tx, by).await?
    };
    let mut added = 0;
    for c in candidates {
        let today = local_day(now, &c.time_zone);
        let first_post = c.first_post.map(|at| local_day(at, &c.time_zone));
        let grace = u32::try_from(c.grace_days).unwrap_or(0);
        let Some(event) = domain::automatic_event(c.deadline, grace, first_post, today, false)
        else {
            continue;
        };
        let Some(tenant) = crate::tenants::repo::tenant_by_slug(db.pool(), &c.tenant_slug).await?
        else {
            continue;
        };
        // The record is added inside the tenant (its policy on), as any action is.
        let mut tx = db.tenant_tx(tenant.id, None).await?;
        let actor = Actor::system(JOB_NAME).within(tenant, Access::Owner);
        match actions::record_automatic_event(&mut tx, &actor, c.collaboration_id, event).await {
            Ok(Some(_)) => {
                tx.commit().await?;
                added += 1;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, collaboration = %c.collaboration_id,
                    "fulfilment job: could not record");
            }
        }
    }
    Ok(added)
}

/// Starts the loop on the current runtime; it ends when the pool closes.
pub fn spawn(db: Db) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if db.pool().is_closed() {
                break;
            }
            if let Err(e) = tick(&db, OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "fulfilment job: tick failed");
            }
        }
    });
}
