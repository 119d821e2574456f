//! The automatic moves of SPEC §2/§4/§7, a tick every few minutes over every active tenant:
//! collaborations tracking → evaluating once the evaluation window is final for every post (and
//! their rating opened), campaigns running → evaluating once every collaboration is published or
//! ended, and evaluating → closed once every one is rated or ended. Each tenant in its own system
//! transaction, acting through the actions as `Actor::system("rating job")`.

use std::time::Duration;

use time::OffsetDateTime;

use super::actions::{self, OpenRating};
use super::repo;
use crate::auth::Actor;
use crate::contracts::actions::{TransitionCollaboration, transition_collaboration};
use crate::contracts::domain::ContractEvent;
use crate::db::{Db, SystemScope};
use crate::error::{DomainError, DomainResult};
use crate::tenants::Access;
use crate::tracking::windows::{self, Window};

const LABEL: &str = "rating job";
const EVERY: Duration = Duration::from_secs(5 * 60);

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ticked {
    pub to_evaluating: usize,
    pub opened: usize,
    pub campaigns_evaluating: usize,
    pub campaigns_closed: usize,
}

/// One pass over every active tenant at `now`. Idempotent: a second tick at the same `now`
/// changes nothing.
pub async fn tick(db: &Db, now: OffsetDateTime) -> anyhow::Result<Ticked> {
    let mut tx = db.system_tx(SystemScope::RatingJob).await?;
    let tenants = repo::active_tenants(&mut tx).await?;
    tx.commit().await?;
    let mut done = Ticked::default();
    for tenant in tenants {
        let mut tx = db.system_tx(SystemScope::RatingJob).await?;
        match tick_tenant(&mut tx, &tenant, now, &mut done).await {
            Ok(()) => tx.commit().await?,
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "rating job: tenant skipped");
                tx.rollback().await?;
            }
        }
    }
    Ok(done)
}

async fn tick_tenant(
    tx: &mut sqlx::PgConnection,
    slug: &str,
    now: OffsetDateTime,
    done: &mut Ticked,
) -> DomainResult<()> {
    let Some(t) = crate::tenants::repo::tenant_by_slug(&mut *tx, slug).await? else {
        return Ok(());
    };
    let tenant = t.id;
    let actor = Actor::system(LABEL).within(t, Access::Operator);
    let window =
        Window::from_code(&repo::evaluation_window(tx, tenant).await?).unwrap_or(Window::D14);
    for collab in repo::tracking_collaborations(tx, tenant).await? {
        if windows::evaluation_final(window, collab.published.iter().copied(), now) {
            let moved = transition_collaboration(
                tx,
                &actor,
                TransitionCollaboration {
                    collaboration_id: collab.id,
                    event: ContractEvent::WindowFinal,
                },
            )
            .await?;
            if moved.is_some() {
                done.to_evaluating += 1;
            }
        }
    }
    for collab in repo::evaluating_unrated(tx, tenant).await? {
        let opened = actions::open_rating(
            tx,
            &actor,
            OpenRating {
                collaboration_id: collab,
                override_reason: String::new(),
                now,
            },
        )
        .await;
        match opened {
            Ok(_) => done.opened += 1,
            // Not ratable yet (no ROI target, window not final): left for a person.
            Err(DomainError::Refused(_) | DomainError::Invalid(_)) => {}
            Err(e) => return Err(e),
        }
    }
    done.campaigns_evaluating += actions::advance_campaigns(tx, &actor).await?;
    done.campaigns_closed += actions::close_finished_campaigns(tx, &actor).await?;
    Ok(())
}

/// Runs the tick every few minutes for the life of the process.
pub fn spawn(db: Db) {
    tokio::spawn(async move {
        // The first pass after one period: a server (or a test) starting up does not race it.
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = tick(&db, OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "rating job failed");
            }
        }
    });
}
