//! Recording and correcting fulfilment records (SPEC §6), each one function
//! `(tx, [storage,] &Actor, input)` that checks its rule (`domain`), writes through `repo`, keeps
//! the evidence through `evidence::actions`, records its audit entry, and recomputes the
//! creator's tier (a severe record that counts proposes a blacklist entry).

use serde_json::json;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::domain::{
    self, AutomaticEvent, CorrectionAction, Kind, MoneyRule, Policy, Rule, Severity, Target, Worth,
};
use super::repo::{self, NewRecord};
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::evidence::actions::{EvidenceUpload, UPLOADERS, check_evidence, store_evidence};
use crate::evidence::form::MAX_EVIDENCE_FILES;
use crate::kernel::FieldErrors;
use crate::kernel::text::{self, TextRule};
use crate::storage::Storage;
use crate::tenants::Access;
use crate::tiers::actions::{ProposeBlacklist, TierCause, propose_blacklist, refresh_creator};

/// Who records and corrects events: the owner, operators and the account manager.
pub const RECORDERS: &[Access] = UPLOADERS;

/// Refused on a collaboration not yet accepted, or cancelled.
pub const E_STATE: &str = "fulfilment.error.state";

/// The tenant's current deduction policy; version 1 (SPEC §6's defaults) is added on first use.
pub async fn current_policy(tx: &mut PgConnection, tenant: Uuid) -> DomainResult<Policy> {
    if let Some(policy) = stored_policy(tx, tenant).await? {
        return Ok(policy);
    }
    let rules = serde_json::to_value(domain::default_rules())
        .map_err(|e| DomainError::Internal(e.into()))?;
    repo::insert_first_policy(tx, tenant, &rules).await?;
    stored_policy(tx, tenant)
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no deduction policy after insert")))
}

/// A new version of the tenant's deduction policy, from the editor (owner).
#[derive(Debug, Clone)]
pub struct NewPolicyVersion {
    /// The version the form was made from: a version made meanwhile refuses this one.
    pub based_on: i32,
    pub cells: Vec<(Kind, Severity, domain::CellDraft)>,
}

/// Adds a version of the deduction policy (issue 15), checked by `domain::check_policy`, each
/// problem its field's, nothing stored unless all is well. Records made from now on count under
/// it; a record keeps the worth frozen when it was recorded. Returns the version.
pub async fn create_policy_version(
    tx: &mut PgConnection,
    actor: &Actor,
    input: NewPolicyVersion,
) -> DomainResult<i32> {
    let tenant = actor.tenant_id()?;
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    let current = current_policy(tx, tenant).await?;
    let rules = domain::check_policy(&input.cells).map_err(DomainError::Invalid)?;
    if input.based_on != current.version {
        return Err(DomainError::field("policy", "deductions.error.stale"));
    }
    if rules == domain::full_rules(&current) {
        return Err(DomainError::field("policy", domain::E_POLICY_UNCHANGED));
    }
    let version = current.version + 1;
    let json = serde_json::to_value(&rules).map_err(|e| DomainError::Internal(e.into()))?;
    if !repo::insert_policy_version(tx, tenant, (version, &json), actor.user_id).await? {
        return Err(DomainError::field("policy", "deductions.error.stale"));
    }
    audit::record(
        tx,
        actor
            .audit("deduction_policy.version", "deduction_policy", version)
            .before(serde_json::json!({ "version": current.version }))
            .after(serde_json::json!({ "version": version, "rules": json })),
    )
    .await?;
    Ok(version)
}

async fn stored_policy(tx: &mut PgConnection, tenant: Uuid) -> DomainResult<Option<Policy>> {
    let Some((version, rules)) = repo::latest_policy(tx, tenant).await? else {
        return Ok(None);
    };
    let rules: Vec<Rule> =
        serde_json::from_value(rules).map_err(|e| DomainError::Internal(e.into()))?;
    Ok(Some(Policy { version, rules }))
}

/// A record's money columns from its frozen worth.
fn money_columns(
    worth: &Worth,
) -> (
    Option<rust_decimal::Decimal>,
    Option<&str>,
    Option<rust_decimal::Decimal>,
) {
    match &worth.money {
        None => (None, None, None),
        Some(MoneyRule::Amount { amount, currency }) => (Some(*amount), Some(currency), None),
        Some(MoneyRule::PercentOfFixedFee {
            percent_of_fixed_fee,
        }) => (None, None, Some(*percent_of_fixed_fee)),
    }
}

/// An event a person records.
#[derive(Debug, Clone, Default)]
pub struct RecordFulfilmentEvent {
    pub collaboration_id: Uuid,
    pub kind: String,
    pub severity: String,
    pub note: String,
    /// `YYYY-MM-DD`; empty: today.
    pub occurred_on: String,
    pub files: Vec<EvidenceUpload>,
}

/// The collaboration must be the tenant's (404), past `proposed` and not cancelled.
async fn collaboration_for_records(
    tx: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> DomainResult<repo::CollaborationFacts> {
    let facts = repo::collaboration(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(facts)
}

fn open_for_records(facts: &repo::CollaborationFacts) -> DomainResult<()> {
    if matches!(facts.state.as_str(), "proposed" | "cancelled") {
        return Err(DomainError::Refused(E_STATE));
    }
    Ok(())
}

/// The moment a day stands for: its noon, UTC (a date shown in any zone stays that date).
fn moment_of(day: Date) -> OffsetDateTime {
    day.with_time(time::macros::time!(12:00)).assume_utc()
}

/// Records the event with its worth under the current policy (frozen), stores its evidence
/// files, recomputes the creator's tier and, when severe, proposes a blacklist entry. Every
/// field is checked before anything is stored.
pub async fn record_fulfilment_event(
    tx: &mut PgConnection,
    storage: &Storage,
    actor: &Actor,
    input: RecordFulfilmentEvent,
) -> DomainResult<Uuid> {
    record(tx, Some(storage), actor, input).await
}

/// A record that follows from the person's own action elsewhere (a change request past the
/// contract's included revisions, a post before the final video was approved): `kind` at minor
/// severity, today, with `note`, under the current policy, no files; the tier follows as for any
/// record.
pub async fn record_consequence(
    tx: &mut PgConnection,
    actor: &Actor,
    collaboration_id: Uuid,
    kind: Kind,
    note: &str,
) -> DomainResult<Uuid> {
    let input = RecordFulfilmentEvent {
        collaboration_id,
        kind: kind.code().to_string(),
        severity: Severity::Minor.code().to_string(),
        note: note.chars().take(500).collect(),
        occurred_on: String::new(),
        files: Vec::new(),
    };
    record(tx, None, actor, input).await
}

async fn record(
    tx: &mut PgConnection,
    storage: Option<&Storage>,
    actor: &Actor,
    input: RecordFulfilmentEvent,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    let facts = collaboration_for_records(tx, tenant, input.collaboration_id).await?;
    actor.require(RECORDERS)?;
    actor.require_active()?;
    open_for_records(&facts)?;
    let today = OffsetDateTime::now_utc().date();
    let mut errors = FieldErrors::new();
    let kind = domain::kind_by_hand(&input.kind).map_err(|k| errors.insert("kind".into(), k));
    let severity =
        domain::severity(&input.severity).map_err(|k| errors.insert("severity".into(), k));
    let note =
        text::check(&input.note, TextRule::NOTE).map_err(|k| errors.insert("note".into(), k));
    let day = domain::occurred_on(&input.occurred_on, today)
        .map_err(|k| errors.insert("occurred_on".into(), k));
    // The form stops reading files past the limit; a call that sends more is refused the same.
    if input.files.len() > MAX_EVIDENCE_FILES {
        errors.insert("evidence".into(), "evidence.error.too_many");
    }
    for file in &input.files {
        if let Err(DomainError::Invalid(e)) = check_evidence(file) {
            errors.extend(e);
            break;
        }
    }
    let (Ok(kind), Ok(severity), Ok(note), Ok(day)) = (kind, severity, note, day) else {
        return Err(DomainError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let occurred_at = if input.occurred_on.trim().is_empty() {
        OffsetDateTime::now_utc()
    } else {
        moment_of(day)
    };
    let policy = current_policy(tx, tenant).await?;
    let worth = policy.worth(kind, severity);
    let (money_amount, money_currency, money_percent) = money_columns(&worth);
    let id = Uuid::now_v7();
    let new = NewRecord {
        tenant_id: tenant,
        id,
        collaboration_id: input.collaboration_id,
        creator_id: facts.creator_id,
        kind,
        severity,
        note,
        days_late: None,
        occurred_at,
        automatic: false,
        supersedes: None,
        withdrawn: false,
        correction_reason: None,
        policy_version: worth.policy_version,
        points: worth.points,
        money_amount,
        money_currency,
        money_percent,
        recorded_by: actor.user_id,
        recorded_by_label: &actor.label,
    };
    repo::insert_record(tx, &new).await?;
    let mut files = Vec::new();
    for file in input.files {
        let Some(storage) = storage else { break };
        let upload = store_evidence(tx, storage, actor, file).await?;
        repo::attach_file(tx, tenant, id, upload).await?;
        files.push(upload);
    }
    audit::record(
        tx,
        actor
            .audit("fulfilment.record", "fulfilment_record", id)
            .after(json!({
                "collaboration": input.collaboration_id,
                "kind": kind,
                "severity": severity,
                "note": note,
                "occurred_at": occurred_at.unix_timestamp(),
                "points": worth.points,
                "policy_version": worth.policy_version,
                "files": files,
            })),
    )
    .await?;
    after_change(tx, actor, facts.creator_id, id, kind, severity, note).await?;
    Ok(id)
}

/// The tier follows every change; a severe record that counts proposes a blacklist entry.
async fn after_change(
    tx: &mut PgConnection,
    actor: &Actor,
    creator_id: Uuid,
    record_id: Uuid,
    kind: Kind,
    severity: Severity,
    note: &str,
) -> DomainResult<()> {
    refresh_creator(tx, actor, creator_id, TierCause::Fulfilment).await?;
    if severity == Severity::Severe {
        let reason = if note.is_empty() {
            kind.code().to_string()
        } else {
            format!("{}: {note}", kind.code())
        };
        propose_blacklist(
            tx,
            actor,
            ProposeBlacklist {
                creator_id,
                fulfilment_record_id: Some(record_id),
                reason,
            },
        )
        .await?;
    }
    Ok(())
}

/// A correction of a record that counts: withdraw it, or replace it (same kind) at a severity
/// with a new note.
#[derive(Debug, Clone, Default)]
pub struct CorrectFulfilmentRecord {
    pub record_id: Uuid,
    /// `withdraw`, or the new severity's code.
    pub action: String,
    /// The replacement's note (empty: the corrected record's note is kept).
    pub note: String,
    pub reason: String,
}

/// Adds the correcting record, which supersedes the target; answers its id.
pub async fn correct_fulfilment_record(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CorrectFulfilmentRecord,
) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    let target = repo::target(tx, tenant, input.record_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(RECORDERS)?;
    actor.require_active()?;
    let mut errors = FieldErrors::new();
    let action =
        domain::correction_action(&input.action).map_err(|k| errors.insert("action".into(), k));
    let note =
        text::check(&input.note, TextRule::NOTE).map_err(|k| errors.insert("note".into(), k));
    let reason =
        text::check(&input.reason, TextRule::NOTE).map_err(|k| errors.insert("reason".into(), k));
    if let Ok(reason) = reason
        && let Err((field, key)) = domain::may_correct(
            Target {
                superseded: target.superseded,
                withdrawn: target.withdrawn,
            },
            reason,
        )
    {
        errors.insert(field.into(), key);
    }
    let (Ok(action), Ok(note), Ok(reason)) = (action, note, reason) else {
        return Err(DomainError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let kind = Kind::parse(&target.kind)
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("unknown kind {}", target.kind)))?;
    let old_severity = Severity::parse(&target.severity).ok_or_else(|| {
        DomainError::Internal(anyhow::anyhow!("unknown severity {}", target.severity))
    })?;
    let (severity, withdrawn) = match action {
        CorrectionAction::Withdraw => (old_severity, true),
        CorrectionAction::Replace(s) => (s, false),
    };
    let note = if note.is_empty() {
        target.note.as_str()
    } else {
        note
    };
    let policy = current_policy(tx, tenant).await?;
    let worth = if withdrawn {
        Worth {
            policy_version: policy.version,
            points: rust_decimal::Decimal::ZERO,
            money: None,
        }
    } else {
        policy.worth(kind, severity)
    };
    let (money_amount, money_currency, money_percent) = money_columns(&worth);
    let id = Uuid::now_v7();
    let new = NewRecord {
        tenant_id: tenant,
        id,
        collaboration_id: target.collaboration_id,
        creator_id: target.creator_id,
        kind,
        severity,
        note,
        days_late: target.days_late,
        occurred_at: target.occurred_at,
        automatic: false,
        supersedes: Some(input.record_id),
        withdrawn,
        correction_reason: Some(reason),
        policy_version: worth.policy_version,
        points: worth.points,
        money_amount,
        money_currency,
        money_percent,
        recorded_by: actor.user_id,
        recorded_by_label: &actor.label,
    };
    if let Err(e) = repo::insert_record(tx, &new).await {
        // Two corrections racing for the same record: the second is told it was corrected.
        return Err(DomainError::unique_as_field(
            e,
            &[(
                "fulfilment_records_tenant_id_supersedes_key",
                "reason",
                domain::E_ALREADY_CORRECTED,
            )],
        ));
    }
    audit::record(
        tx,
        actor
            .audit("fulfilment.correct", "fulfilment_record", id)
            .before(json!({
                "record": input.record_id,
                "severity": target.severity,
                "note": target.note,
            }))
            .after(json!({
                "withdrawn": withdrawn,
                "severity": severity,
                "note": note,
                "reason": reason,
                "points": worth.points,
            })),
    )
    .await?;
    if withdrawn {
        refresh_creator(tx, actor, target.creator_id, TierCause::Fulfilment).await?;
    } else {
        after_change(tx, actor, target.creator_id, id, kind, severity, note).await?;
    }
    Ok(id)
}

/// What the late/no-publish job records (as a system actor in the collaboration's tenant):
/// answers the record's id, or None when the collaboration already has this automatic record.
pub async fn record_automatic_event(
    tx: &mut PgConnection,
    actor: &Actor,
    collaboration_id: Uuid,
    event: AutomaticEvent,
) -> DomainResult<Option<Uuid>> {
    if actor.user_id.is_some() {
        return Err(DomainError::Forbidden);
    }
    let tenant = actor.tenant_id()?;
    let facts = collaboration_for_records(tx, tenant, collaboration_id).await?;
    let (kind, severity) = (event.kind(), event.severity());
    let (occurred_at, days_late) = match event {
        AutomaticEvent::NoPublish { deadline } => (moment_of(deadline), None),
        AutomaticEvent::LatePublish {
            days_late, posted, ..
        } => (
            moment_of(posted),
            Some(i32::try_from(days_late).unwrap_or(i32::MAX)),
        ),
    };
    let policy = current_policy(tx, tenant).await?;
    let worth = policy.worth(kind, severity);
    let (money_amount, money_currency, money_percent) = money_columns(&worth);
    let id = Uuid::now_v7();
    let new = NewRecord {
        tenant_id: tenant,
        id,
        collaboration_id,
        creator_id: facts.creator_id,
        kind,
        severity,
        note: "",
        days_late,
        occurred_at,
        automatic: true,
        supersedes: None,
        withdrawn: false,
        correction_reason: None,
        policy_version: worth.policy_version,
        points: worth.points,
        money_amount,
        money_currency,
        money_percent,
        recorded_by: None,
        recorded_by_label: &actor.label,
    };
    if !repo::insert_record(tx, &new).await? {
        return Ok(None);
    }
    audit::record(
        tx,
        actor
            .audit("fulfilment.record", "fulfilment_record", id)
            .after(json!({
                "collaboration": collaboration_id,
                "kind": kind,
                "severity": severity,
                "days_late": days_late,
                "automatic": true,
                "points": worth.points,
                "policy_version": worth.policy_version,
            })),
    )
    .await?;
    after_change(tx, actor, facts.creator_id, id, kind, severity, "").await?;
    crate::webhooks::actions::enqueue(
        tx,
        tenant,
        crate::webhooks::actions::Event::PostLate {
            collaboration_id,
            record_id: id,
            kind: kind.code(),
            days_late,
        },
    )
    .await?;
    Ok(Some(id))
}
