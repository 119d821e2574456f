//! Actions on tiers and blacklists: the refresh of one creator (in the caller's transaction), the
//! pass over a whole tenant or the platform (the daily job), the owner's override, the tenant's
//! blacklist (proposed, confirmed, dismissed, lifted) and the platform's (staff).
//!
//! The pass is one aggregate query per scope (`repo::aggregate`: weights and means computed in
//! SQL, one row per creator) whose rows `domain::decide` turns into tiers; changed rows go back in
//! one UNNEST upsert, with history rows only for creators whose effective tier changed.
//!
//! The platform tier is system-scope only, so a tenant's refresh marks the creator
//! (`platform_tier_dirty`) and the tier job recomputes the marked creators' platform tier within
//! a minute (and every creator's once a day).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{self, Recommendation, Standing, Thresholds};
use super::repo::{self, Aggregate, Columns, HistoryColumns, TierRow};
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::kernel::text::{self, TextRule};
use crate::kernel::tier::Tier;
use crate::tenants::Access;

/// What made a tier be computed again (kept in the tier's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierCause {
    Rating,
    Fulfilment,
    Blacklist,
    Daily,
    Override,
}

impl TierCause {
    pub fn code(self) -> &'static str {
        match self {
            TierCause::Rating => "rating",
            TierCause::Fulfilment => "fulfilment",
            TierCause::Blacklist => "blacklist",
            TierCause::Daily => "daily",
            TierCause::Override => "override",
        }
    }
}

/// Which tiers a pass computes.
#[derive(Debug, Clone, Copy)]
enum Scope {
    Tenant(Uuid),
    Platform,
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub creators: usize,
    pub written: usize,
    pub changed_tier: usize,
    /// Where the pass's time went (the tier job logs it; the benchmark prints it).
    pub timings: PassTimings,
}

/// The phases of a pass: the reads (the aggregate and the rest), the decision in Rust, the tier
/// rows' upsert, the history rows' insert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassTimings {
    pub aggregate: Duration,
    pub other_reads: Duration,
    pub decide: Duration,
    pub upsert: Duration,
    pub history: Duration,
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn score_decimal(x: f64) -> Option<Decimal> {
    Decimal::from_f64(x).map(|d| d.round_dp(2))
}

async fn thresholds(conn: &mut PgConnection, scope: Scope) -> DomainResult<Thresholds> {
    Ok(match scope {
        Scope::Tenant(t) => {
            let (s, a, b) = repo::thresholds(conn, t).await?;
            Thresholds {
                s: to_f64(s),
                a: to_f64(a),
                b: to_f64(b),
            }
        }
        Scope::Platform => {
            let d = Thresholds::default();
            let v = repo::platform_thresholds(conn).await?.unwrap_or_default();
            let get = |k: &str, dflt: f64| v.get(k).and_then(|x| x.as_f64()).unwrap_or(dflt);
            Thresholds {
                s: get("s", d.s),
                a: get("a", d.a),
                b: get("b", d.b),
            }
        }
    })
}

/// The row a creator's tier should have now (`old`: what is stored).
fn compute_row(
    creator_id: Uuid,
    agg: Option<&Aggregate>,
    major: Option<OffsetDateTime>,
    blacklisted: bool,
    old: Option<&TierRow>,
    th: &Thresholds,
    scope: Scope,
) -> TierRow {
    let standing = Standing {
        rated_count: agg.map_or(0, |a| a.rated),
        score: agg.and_then(|a| a.score),
        any_breached: agg.is_some_and(|a| a.breached),
        d14_pending: agg.is_some_and(|a| a.d14_pending),
        latest_score: agg.and_then(|a| a.latest_score),
        latest_roi: agg.and_then(|a| a.latest_roi),
        major_event_on: major.map(|t| t.date()),
        blacklisted,
    };
    let outcome = domain::decide(&standing, th);
    let computed = outcome.tier.map(|t| t.code().to_string());
    let score = standing.score.and_then(score_decimal);
    let reason = serde_json::to_value(&outcome.reason).unwrap_or_else(|_| json!({}));
    let rated_count = i32::try_from(standing.rated_count).unwrap_or(i32::MAX);
    match scope {
        Scope::Platform => TierRow {
            creator_id,
            tier: computed.clone(),
            computed_tier: computed,
            score,
            rated_count,
            reason,
            low_score_warning: false,
            recommendation: None,
            override_tier: None,
            override_reason: None,
            override_by: None,
            override_at: None,
        },
        Scope::Tenant(_) => {
            let holding = old.filter(|o| {
                o.override_tier.is_some()
                    && domain::override_holds(o.override_at, agg.and_then(|a| a.last_completed_at))
            });
            let effective = match holding {
                Some(o) => o.override_tier.as_deref().and_then(Tier::parse),
                None => outcome.tier,
            };
            TierRow {
                creator_id,
                tier: effective.map(|t| t.code().to_string()),
                computed_tier: computed,
                score,
                rated_count,
                reason,
                low_score_warning: outcome.low_score_warning,
                recommendation: domain::recommend(effective, standing.latest_roi, blacklisted)
                    .map(|r| r.code().to_string()),
                override_tier: holding.and_then(|o| o.override_tier.clone()),
                override_reason: holding.and_then(|o| o.override_reason.clone()),
                override_by: holding.and_then(|o| o.override_by),
                override_at: holding.and_then(|o| o.override_at),
            }
        }
    }
}

/// Recomputes the tiers of `scope` (all creators, or `only` these) as of `now`.
async fn pass(
    conn: &mut PgConnection,
    scope: Scope,
    only: Option<&[Uuid]>,
    now: OffsetDateTime,
    cause: &str,
    actor: (Option<Uuid>, &str),
) -> DomainResult<PassSummary> {
    let mut timings = PassTimings::default();
    let mut clock = Instant::now();
    let mut lap = move || {
        let now = Instant::now();
        let d = now - clock;
        clock = now;
        d
    };
    let th = thresholds(conn, scope).await?;
    let tenant = match scope {
        Scope::Tenant(t) => Some(t),
        Scope::Platform => None,
    };
    let aggregates = repo::aggregate(conn, tenant, only, now).await?;
    timings.aggregate = lap();
    let majors: HashMap<Uuid, OffsetDateTime> = repo::major_events(conn, tenant, only, now)
        .await?
        .into_iter()
        .collect();
    let blacklisted: BTreeSet<Uuid> = match scope {
        Scope::Tenant(t) => repo::blacklisted(conn, t, only).await?,
        Scope::Platform => repo::platform_blacklisted(conn, only).await?,
    }
    .into_iter()
    .collect();
    let old: HashMap<Uuid, TierRow> = match scope {
        Scope::Tenant(t) => repo::tenant_rows(conn, t, only).await?,
        Scope::Platform => repo::platform_rows(conn, only).await?,
    }
    .into_iter()
    .map(|r| (r.creator_id, r))
    .collect();
    timings.other_reads = lap();
    let aggregates: HashMap<Uuid, Aggregate> =
        aggregates.into_iter().map(|a| (a.creator_id, a)).collect();

    let mut ids: Vec<Uuid> = aggregates.keys().copied().collect();
    ids.extend(old.keys().filter(|k| !aggregates.contains_key(k)));
    ids.extend(
        blacklisted
            .iter()
            .filter(|k| !aggregates.contains_key(k) && !old.contains_key(k)),
    );

    let mut summary = PassSummary {
        creators: ids.len(),
        ..Default::default()
    };
    let mut columns = Columns::default();
    let mut history = HistoryColumns::default();
    for id in ids {
        let prev = old.get(&id);
        let row = compute_row(
            id,
            aggregates.get(&id),
            majors.get(&id).copied(),
            blacklisted.contains(&id),
            prev,
            &th,
            scope,
        );
        if prev == Some(&row) {
            continue;
        }
        let from = prev.and_then(|p| p.tier.clone());
        if from != row.tier {
            history.id.push(Uuid::now_v7());
            history.creator.push(id);
            history.from.push(from);
            history.to.push(row.tier.clone());
            history.score.push(row.score);
            history.reason.push(row.reason.clone());
        }
        columns.push(row);
    }
    summary.written = columns.creator.len();
    summary.changed_tier = history.id.len();
    timings.decide = lap();
    if !columns.is_empty() {
        match scope {
            Scope::Tenant(t) => repo::upsert_tenant(conn, t, &columns, now).await?,
            Scope::Platform => repo::upsert_platform(conn, &columns, now).await?,
        }
    }
    timings.upsert = lap();
    if !history.is_empty() {
        match scope {
            Scope::Tenant(t) => {
                repo::insert_tenant_history(conn, t, &history, cause, actor, now).await?;
                // The tenant's webhooks hear of each move, in the pass's transaction.
                let moves = history
                    .creator
                    .iter()
                    .zip(history.from.iter().zip(&history.to))
                    .map(
                        |(c, (from, to))| crate::webhooks::actions::Event::TierChanged {
                            creator_id: *c,
                            from: from.clone(),
                            to: to.clone(),
                            cause: cause.to_string(),
                        },
                    )
                    .collect();
                crate::webhooks::actions::enqueue_all(conn, t, moves).await?;
            }
            Scope::Platform => repo::insert_platform_history(conn, &history, cause, now).await?,
        }
        // The audit trail gets one entry per pass (the tier history holds every creator's move):
        // how many tiers moved, why, and the first moves.
        let tenant = match scope {
            Scope::Tenant(t) => Some(t),
            Scope::Platform => None,
        };
        let moves: Vec<serde_json::Value> = history
            .creator
            .iter()
            .zip(history.from.iter().zip(&history.to))
            .take(20)
            .map(|(c, (f, t))| json!({ "creator": c, "from": f, "to": t }))
            .collect();
        audit::record(
            conn,
            audit::Entry::new(
                "tier.recompute",
                "tier",
                Some(tenant.map_or_else(|| "platform".to_string(), |t| t.to_string())),
            )
            .actor(actor.0, actor.1.to_string())
            .tenant(tenant)
            .after(json!({ "cause": cause, "changed": history.id.len(), "moves": moves })),
        )
        .await?;
    }
    timings.history = lap();
    summary.timings = timings;
    Ok(summary)
}

/// Computes the creator's tier in the actor's tenant again, in the caller's transaction, after
/// a change that affects it (a rating completed, a fulfilment record, a blacklist entry). A
/// rating completed after the owner's override ends it. The creator's platform tier is marked
/// for the tier job.
pub async fn refresh_creator(
    tx: &mut PgConnection,
    actor: &Actor,
    creator_id: Uuid,
    cause: TierCause,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    let now = OffsetDateTime::now_utc();
    pass(
        tx,
        Scope::Tenant(tenant),
        Some(&[creator_id]),
        now,
        cause.code(),
        (actor.user_id, &actor.label),
    )
    .await?;
    repo::mark_platform_dirty(tx, creator_id).await?;
    Ok(())
}

/// Every creator's tier in `tenant` as of `now` (the daily job; system scope or the tenant's
/// own transaction).
pub async fn recompute_tenant(
    conn: &mut PgConnection,
    tenant: Uuid,
    now: OffsetDateTime,
) -> DomainResult<PassSummary> {
    pass(
        conn,
        Scope::Tenant(tenant),
        None,
        now,
        TierCause::Daily.code(),
        (None, JOB_LABEL),
    )
    .await
}

/// The platform tier over every tenant's ratings, of all creators or `only` these (system scope).
pub async fn recompute_platform(
    conn: &mut PgConnection,
    only: Option<&[Uuid]>,
    now: OffsetDateTime,
    cause: &str,
) -> DomainResult<PassSummary> {
    pass(conn, Scope::Platform, only, now, cause, (None, JOB_LABEL)).await
}

/// How the tier job names itself in history and audit.
pub const JOB_LABEL: &str = "tier job";

// ---------------------------------------------------------------------------------------------
// The owner's override.

/// The owner's override of a creator's tier, as typed.
#[derive(Debug, Clone, Default)]
pub struct OverrideTier {
    pub creator_id: Uuid,
    pub tier: String,
    pub reason: String,
}

fn owner_only(actor: &Actor) -> DomainResult<()> {
    actor.require(&[Access::Owner])?;
    actor.require_active()
}

/// Required text under `rule`, or the field's message.
fn required(errors: &mut FieldErrors, field: &str, raw: &str, rule: TextRule) -> String {
    match text::check(raw, rule) {
        Ok("") => {
            errors.insert(field.to_string(), "tiers.error.reason_required");
            String::new()
        }
        Ok(s) => s.to_string(),
        Err(key) => {
            errors.insert(field.to_string(), key);
            String::new()
        }
    }
}

/// Sets the creator's tier by hand (owner only: not operators, not agency staff), with a
/// reason; it holds until a rating completes after it. Audited; history says "override".
pub async fn override_tier(
    tx: &mut PgConnection,
    actor: &Actor,
    input: OverrideTier,
) -> DomainResult<()> {
    let tenant = actor.tenant_id()?;
    if !repo::known_in_tenant(tx, tenant, input.creator_id).await? {
        return Err(DomainError::NotFound);
    }
    owner_only(actor)?;
    let mut errors = FieldErrors::new();
    let tier = Tier::parse(&input.tier);
    if tier.is_none() {
        errors.insert("tier".into(), "tiers.error.tier");
    }
    let reason = required(&mut errors, "reason", &input.reason, TextRule::NOTE);
    let Some(tier) = tier.filter(|_| errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let now = OffsetDateTime::now_utc();
    let before = repo::tenant_rows(tx, tenant, Some(&[input.creator_id])).await?;
    repo::set_override(
        tx,
        tenant,
        input.creator_id,
        tier.code(),
        &reason,
        actor.user_id,
        now,
    )
    .await?;
    pass(
        tx,
        Scope::Tenant(tenant),
        Some(&[input.creator_id]),
        now,
        TierCause::Override.code(),
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("tier.override", "creator", input.creator_id)
            .before(json!({ "tier": before.first().and_then(|r| r.tier.clone()) }))
            .after(json!({ "tier": tier.code(), "reason": reason })),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tenant's blacklist.

/// A severe fulfilment record proposes a blacklist entry for the owner to confirm.
#[derive(Debug, Clone)]
pub struct ProposeBlacklist {
    pub creator_id: Uuid,
    pub fulfilment_record_id: Option<Uuid>,
    pub reason: String,
}

/// Proposes the entry unless the creator already has an open (proposed or confirmed) one;
/// answers the new entry's id.
pub async fn propose_blacklist(
    tx: &mut PgConnection,
    actor: &Actor,
    input: ProposeBlacklist,
) -> DomainResult<Option<Uuid>> {
    let tenant = actor.tenant_id()?;
    actor.require(&[Access::Owner, Access::Operator, Access::AccountManager])?;
    let mut errors = FieldErrors::new();
    let reason = required(&mut errors, "reason", &input.reason, TextRule::NOTE);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let id = repo::propose(
        tx,
        tenant,
        input.creator_id,
        input.fulfilment_record_id,
        &reason,
        (actor.user_id, &actor.label),
    )
    .await?;
    if let Some(id) = id {
        audit::record(
            tx,
            actor
                .audit("blacklist.propose", "blacklist_entry", id)
                .after(json!({
                    "creator": input.creator_id,
                    "fulfilment_record": input.fulfilment_record_id,
                    "reason": reason,
                })),
        )
        .await?;
    }
    Ok(id)
}

/// The owner's own blacklist entry for a creator the company has dealt with (issue 19: the API's
/// `POST /api/v1/creators/{id}/blacklist`), with a reason.
#[derive(Debug, Clone, Default)]
pub struct AddBlacklistEntry {
    pub creator_id: Uuid,
    pub reason: String,
}

/// Proposes an entry as a severe record does, but by the owner (who then confirms it, as any
/// proposal): a creator unknown to the company is not found; an open entry refuses a second one.
pub async fn add_blacklist_entry(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AddBlacklistEntry,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    if !repo::known_in_tenant(tx, tenant, input.creator_id).await? {
        return Err(DomainError::NotFound);
    }
    owner_only(actor)?;
    propose_blacklist(
        tx,
        actor,
        ProposeBlacklist {
            creator_id: input.creator_id,
            fulfilment_record_id: None,
            reason: input.reason,
        },
    )
    .await?
    .ok_or(DomainError::Refused(E_BLACKLIST_OPEN))
}

/// The creator already has an open (proposed or confirmed) entry.
pub const E_BLACKLIST_OPEN: &str = "api.ratings.error.blacklist_open";

/// The owner's decision on an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistDecision {
    Confirm,
    Dismiss,
    Lift,
}

impl BlacklistDecision {
    pub fn parse(s: &str) -> Option<BlacklistDecision> {
        match s {
            "confirm" => Some(BlacklistDecision::Confirm),
            "dismiss" => Some(BlacklistDecision::Dismiss),
            "lift" => Some(BlacklistDecision::Lift),
            _ => None,
        }
    }

    /// (the status it needs, the status it leaves)
    fn moves(self) -> (&'static str, &'static str) {
        match self {
            BlacklistDecision::Confirm => ("proposed", "confirmed"),
            BlacklistDecision::Dismiss => ("proposed", "dismissed"),
            BlacklistDecision::Lift => ("confirmed", "lifted"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DecideBlacklist {
    pub entry_id: Uuid,
    pub decision: BlacklistDecision,
    pub reason: String,
}

/// Confirms or dismisses a proposed entry, or lifts a confirmed one (owner only, with a
/// reason); the creator's tier is refreshed (blocked, or not any more). Answers the creator.
pub async fn decide_blacklist(
    tx: &mut PgConnection,
    actor: &Actor,
    input: DecideBlacklist,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    let entry = repo::entry(tx, tenant, input.entry_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    owner_only(actor)?;
    let mut errors = FieldErrors::new();
    let reason = required(&mut errors, "reason", &input.reason, TextRule::NOTE);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let (from, to) = input.decision.moves();
    if entry.status != from {
        return Err(DomainError::Refused("tiers.error.blacklist_state"));
    }
    repo::decide_entry(tx, tenant, entry.id, to, &reason, actor.user_id).await?;
    audit::record(
        tx,
        actor
            .audit("blacklist.decide", "blacklist_entry", entry.id)
            .before(json!({ "status": from }))
            .after(json!({ "status": to, "reason": reason })),
    )
    .await?;
    refresh_creator(tx, actor, entry.creator_id, TierCause::Blacklist).await?;
    Ok(entry.creator_id)
}

// ---------------------------------------------------------------------------------------------
// The platform blacklist (staff: admins and account managers, who keep the creator pool).

#[derive(Debug, Clone, Default)]
pub struct PlatformBlacklist {
    pub creator_id: Uuid,
    /// true: add; false: lift.
    pub add: bool,
    pub reason: String,
}

/// Adds the creator to the platform blacklist or lifts it, with a reason; keeps
/// `creators.platform_blacklisted` in step and recomputes the platform tier. System scope.
pub async fn platform_blacklist(
    conn: &mut PgConnection,
    actor: &Actor,
    input: PlatformBlacklist,
) -> DomainResult<()> {
    crate::creators::actions::require_pool_staff(actor)?;
    if !repo::creator_exists(conn, input.creator_id).await? {
        return Err(DomainError::NotFound);
    }
    let mut errors = FieldErrors::new();
    let reason = required(&mut errors, "reason", &input.reason, TextRule::NOTE);
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let id = if input.add {
        repo::add_platform_entry(
            conn,
            input.creator_id,
            &reason,
            (actor.user_id, &actor.label),
        )
        .await?
    } else {
        repo::lift_platform_entry(conn, input.creator_id, &reason, actor.user_id).await?
    };
    let Some(id) = id else {
        return Err(DomainError::Refused(if input.add {
            "tiers.error.platform_already"
        } else {
            "tiers.error.platform_not_listed"
        }));
    };
    audit::record(
        conn,
        actor
            .audit(
                if input.add {
                    "platform_blacklist.add"
                } else {
                    "platform_blacklist.lift"
                },
                "creator",
                input.creator_id,
            )
            .after(json!({ "entry": id, "reason": reason })),
    )
    .await?;
    recompute_platform(
        conn,
        Some(&[input.creator_id]),
        OffsetDateTime::now_utc(),
        TierCause::Blacklist.code(),
    )
    .await?;
    Ok(())
}

/// The recommendation stored on a row, typed.
pub fn recommendation_of(row: &TierRow) -> Option<Recommendation> {
    row.recommendation
        .as_deref()
        .and_then(Recommendation::parse)
}
