//! Settlement actions (SPEC §9), each `(tx, &Actor, input)` as the pages call them today and the
//! JSON API will: finance's rates, computing a period's draft, sending it to review and back,
//! adjustments, finalizing (maker ≠ checker, periods in order, the tenant's row locked while the
//! hash is chained), payments, and verifying a finalized settlement against its hash. Finance
//! works across tenants in the audited system scope its caller opens; each action names the
//! tenant it works on and writes its audit entry there.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::canonical::{self, StoredLine};
use super::domain::{self, CollaborationPeriod, Commission, Component, Line, Money, Rates};
use super::reconcile;
use super::repo::{self, Bounds, LineRow, TenantRow};
use crate::audit;
use crate::auth::PlatformRole;
use crate::auth::actor::Actor;
use crate::contracts::domain::{ContractEvent, Terms};
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::kernel::money::Currency;
use crate::kernel::text::{self, TextRule};
use crate::tenants::Access;

pub const E_FINALIZED: &str = "settlement.error.finalized";
pub const E_NOT_OVER: &str = "settlement.error.period_not_over";
pub const E_FUTURE: &str = "settlement.error.future_period";
pub const E_BEFORE_FIRST: &str = "settlement.error.before_first_period";
pub const E_OUT_OF_ORDER: &str = "settlement.error.out_of_order";
pub const E_NO_DRAFT: &str = "settlement.error.no_draft";
pub const E_NOT_DRAFT: &str = "settlement.error.not_draft";
pub const E_NOT_REVIEW: &str = "settlement.error.not_review";
pub const E_MISSING_RATE: &str = "settlement.error.missing_rate";
pub const E_SAME_PERSON: &str = "settlement.error.same_person";
pub const E_ADJUSTED_BY_CHECKER: &str = "settlement.error.adjusted_by_checker";
pub const E_STALE: &str = "settlement.error.stale";
pub const E_REASON: &str = "settlement.error.reason";
pub const E_AMOUNT: &str = "settlement.error.amount";
pub const E_CURRENCY: &str = "settlement.error.currency";
pub const E_COLLABORATION: &str = "settlement.error.collaboration";
pub const E_PAYMENT_AMOUNT: &str = "settlement.error.payment_amount";
pub const E_PAYMENT_ABOVE_DUE: &str = "settlement.error.payment_above_due";
pub const E_PAYMENT_DATE: &str = "settlement.error.payment_date";
pub const E_REFERENCE: &str = "settlement.error.reference";
pub const E_NOTHING_DUE: &str = "settlement.error.nothing_due";

/// Amounts typed by finance stay below a trillion.
const MAX_AMOUNT: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

fn finance_only(actor: &Actor) -> DomainResult<()> {
    actor.require_platform(PlatformRole::Finance)
}

/// The month after `period`.
pub fn next_month(period: Date) -> Date {
    let (y, m) = (period.year(), u8::from(period.month()));
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Date::from_calendar_date(
        y,
        time::Month::try_from(m).unwrap_or(time::Month::January),
        1,
    )
    .unwrap_or(period)
}

/// The month before `period`.
pub fn previous_month(period: Date) -> Date {
    let (y, m) = (period.year(), u8::from(period.month()));
    let (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    Date::from_calendar_date(
        y,
        time::Month::try_from(m).unwrap_or(time::Month::January),
        1,
    )
    .unwrap_or(period)
}

/// `YYYY-MM` of a period.
pub fn period_code(period: Date) -> String {
    format!("{:04}-{:02}", period.year(), u8::from(period.month()))
}

/// A period from `YYYY-MM` (None for anything else).
pub fn parse_period(raw: &str) -> Option<Date> {
    let (y, m) = raw.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, 1).ok()
}

// ---------------------------------------------------------------------------------------------
// Rates

/// Rates typed for a month: (currency, target, what was typed).
#[derive(Debug, Clone, Default)]
pub struct SetRates {
    pub period: Option<Date>,
    pub rates: Vec<(String, String, String)>,
}

/// The field name of one rate on the FX form.
pub fn rate_field(currency: &str, target: &str) -> String {
    format!("rate.{currency}.{target}")
}

/// Stores a month's rates (empty ones are left as they are); every rate is checked first and
/// nothing is stored unless all are right. Returns how many changed.
pub async fn set_rates(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SetRates,
) -> DomainResult<usize> {
    finance_only(actor)?;
    let period = input
        .period
        .ok_or_else(|| DomainError::field("period", "settlement.error.period"))?;
    let mut errors = FieldErrors::new();
    let mut good = Vec::new();
    for (currency, target, raw) in &input.rates {
        if raw.trim().is_empty() {
            continue;
        }
        let field = rate_field(currency, target);
        let (Ok(c), Ok(t)) = (Currency::parse(currency), Currency::parse(target)) else {
            errors.insert(field, E_CURRENCY);
            continue;
        };
        if c == t || !matches!(t.code(), "CNY" | "USD") {
            errors.insert(field, E_CURRENCY);
            continue;
        }
        match reconcile::check_rate(raw) {
            Ok(rate) => good.push((c, t, rate)),
            Err(key) => {
                errors.insert(field, key);
            }
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut changed = 0;
    for (c, t, rate) in good {
        let before = repo::upsert_rate(tx, period, (c, t), rate, actor.user_id).await?;
        if before == Some(rate) {
            continue;
        }
        changed += 1;
        audit::record(
            tx,
            audit::Entry::new(
                "fx_rate.set",
                "fx_rate",
                Some(format!("{}/{}/{}", period_code(period), c.code(), t.code())),
            )
            .actor(actor.user_id, actor.label.clone())
            .before(json!({ "rate": before.map(|r| r.to_string()) }))
            .after(json!({ "rate": rate.to_string() })),
        )
        .await?;
    }
    Ok(changed)
}

// ---------------------------------------------------------------------------------------------
// Computing a period

/// A collaboration's line with where its amount comes from.
struct Origins {
    contract_version: i32,
    posts: Vec<Uuid>,
    imports: BTreeMap<(Currency, bool), (i64, Vec<Uuid>)>,
    records: Vec<Uuid>,
}

/// What a period's computation found: its lines (as they will be stored), the currencies it
/// has no rate for, its totals when nothing is missing, and what creators carry forward.
pub struct PeriodResult {
    pub lines: Vec<LineRow>,
    pub missing: Vec<String>,
    pub totals: Option<(Decimal, Decimal)>,
    /// (collaboration, currency) → what the creator still owes after the period.
    pub carried_out: BTreeMap<(Uuid, Currency), Decimal>,
}

/// Reads everything the period's lines depend on and computes them (SPEC §9), in the tenant's
/// settlement currency at finance's rates for the month. Writes nothing.
pub async fn compute_period(
    tx: &mut PgConnection,
    tenant: &TenantRow,
    b: Bounds,
) -> DomainResult<PeriodResult> {
    let collaborations = repo::collaborations(tx, tenant.id).await?;
    let posts: BTreeMap<Uuid, repo::PostCount> = repo::post_counts(tx, tenant.id, b)
        .await?
        .into_iter()
        .map(|p| (p.collaboration_id, p))
        .collect();
    let mut orders: BTreeMap<Uuid, Vec<repo::OrderBase>> = BTreeMap::new();
    for o in repo::order_bases(tx, tenant.id, b).await? {
        orders.entry(o.collaboration_id).or_default().push(o);
    }
    let mut held: BTreeMap<Uuid, Vec<repo::Held>> = BTreeMap::new();
    for h in repo::held(tx, tenant.id, b.period).await? {
        held.entry(h.collaboration_id).or_default().push(h);
    }
    let mut records: BTreeMap<Uuid, Vec<repo::DeductionRecord>> = BTreeMap::new();
    for r in repo::deduction_records(tx, tenant.id, b).await? {
        records.entry(r.collaboration_id).or_default().push(r);
    }
    let mut adjustments: BTreeMap<Uuid, Vec<repo::Adjustment>> = BTreeMap::new();
    for a in repo::adjustments(tx, tenant.id, b.period).await? {
        adjustments.entry(a.collaboration_id).or_default().push(a);
    }
    let known = repo::rates(tx, b.period, tenant.settlement_currency).await?;

    let mut inputs = Vec::with_capacity(collaborations.len());
    let mut needed: BTreeSet<Currency> = BTreeSet::new();
    for c in &collaborations {
        let Ok(terms) = serde_json::from_value::<Terms>(c.terms.clone()) else {
            return Err(DomainError::Internal(anyhow::anyhow!(
                "collaboration {} has unreadable terms",
                c.id
            )));
        };
        let held_of = |component: &str| -> BTreeMap<(Currency, bool), Decimal> {
            held.get(&c.id)
                .into_iter()
                .flatten()
                .filter(|h| h.component == component)
                .map(|h| ((h.currency, h.platform_paid), h.amount))
                .collect()
        };
        let fee = terms.fixed_fee_money().map(|m| Money {
            amount: m.amount,
            currency: m.currency,
        });
        let post = posts.get(&c.id);
        let by_end = post.map_or(0, |p| u32::try_from(p.by_end).unwrap_or(u32::MAX));
        let fee_held = fee.map(|f| {
            held_of("fixed_fee")
                .iter()
                .filter(|((cur, _), _)| *cur == f.currency)
                .map(|(_, v)| *v)
                .sum::<Decimal>()
        });
        let mut commission = Commission::default();
        let mut imports = BTreeMap::new();
        for o in orders.get(&c.id).into_iter().flatten() {
            *commission
                .cumulative_base
                .entry((o.currency, o.platform_paid))
                .or_default() += o.base;
            imports.insert(
                (o.currency, o.platform_paid),
                (o.in_period, o.imports.clone()),
            );
        }
        commission.held = held_of("commission");
        // Deductions: the records of earlier months less what settlements took carry in; the
        // period's own records are its deductions.
        let mut carried_in: BTreeMap<Currency, Decimal> = BTreeMap::new();
        for ((currency, _), taken) in held_of("deduction") {
            *carried_in.entry(currency).or_default() += taken;
        }
        let mut deductions = Vec::new();
        let mut record_ids = Vec::new();
        for r in records.get(&c.id).into_iter().flatten() {
            let money = match (r.amount, r.currency, r.percent) {
                (Some(amount), Some(currency), _) => Some(Money { amount, currency }),
                (_, _, Some(percent)) => fee.map(|f| domain::percent_of_fee(f, percent)),
                _ => None,
            };
            let Some(money) = money else { continue };
            if r.in_period {
                deductions.push(money);
                record_ids.push(r.id);
            } else {
                *carried_in.entry(money.currency).or_default() += money.amount;
            }
        }
        carried_in.retain(|_, v| !v.is_zero());
        let sample_held = held_of("sample_cost");
        let sample_cost = terms
            .sample
            .as_ref()
            .filter(|s| s.paid_by_agency)
            .and_then(|s| {
                let shipped = c.sample_shipped_at.is_some_and(|at| at < b.end);
                domain::sample_billed(s.cost_money(), s.shipping_money(), shipped)
            })
            .map(|m| Money {
                amount: m.amount
                    - sample_held
                        .iter()
                        .filter(|((cur, _), _)| *cur == m.currency)
                        .map(|(_, v)| *v)
                        .sum::<Decimal>(),
                currency: m.currency,
            })
            .filter(|m| !m.amount.is_zero());
        let input = CollaborationPeriod {
            collaboration: c.id,
            fixed_fee: fee,
            deliverables: terms.deliverables(),
            first_posted_before: 0,
            first_posted_in: by_end.min(terms.deliverables()),
            fixed_fee_held: fee_held,
            commission_percent: terms.commission_rate * Decimal::ONE_HUNDRED,
            service_fee_percent: terms.service_fee_rate * Decimal::ONE_HUNDRED,
            commission,
            sample_cost,
            deductions,
            carried_in,
            adjustments: adjustments
                .get(&c.id)
                .into_iter()
                .flatten()
                .map(|a| {
                    (
                        Money {
                            amount: a.amount,
                            currency: a.currency,
                        },
                        a.reason.clone(),
                    )
                })
                .collect(),
        };
        needed.extend(domain::currencies(&input));
        let origins = Origins {
            contract_version: c.contract_version,
            posts: post.map(|p| p.in_period.clone()).unwrap_or_default(),
            imports,
            records: record_ids,
        };
        let adjustment_ids: Vec<Uuid> = adjustments
            .get(&c.id)
            .into_iter()
            .flatten()
            .map(|a| a.id)
            .collect();
        inputs.push((input, origins, adjustment_ids));
    }

    let missing: Vec<Currency> = needed
        .iter()
        .copied()
        .filter(|c| *c != tenant.settlement_currency && !known.contains_key(c))
        .collect();
    // With a rate missing the lines are still worked out in their own currency (the page shows
    // them), converted at a placeholder that is never stored.
    let mut to_settlement = known.clone();
    for c in &missing {
        to_settlement.insert(*c, Decimal::ZERO);
    }
    let rates = Rates {
        settlement: tenant.settlement_currency,
        to_settlement,
    };
    let mut lines = Vec::new();
    let mut all = Vec::new();
    let mut carried_out = BTreeMap::new();
    for (input, origins, adjustment_ids) in inputs {
        let computed = domain::compute(&input, &rates)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("{e}")))?;
        for (currency, v) in computed.carried_out {
            carried_out.insert((input.collaboration, currency), v);
        }
        let mut adjustment_ids = adjustment_ids.into_iter();
        for line in computed.lines {
            let origin = match line.component {
                Component::FixedFee => json!({ "posts": origins.posts }),
                Component::Commission => {
                    let (orders, imports) = origins
                        .imports
                        .get(&(line.currency, line.platform_paid))
                        .cloned()
                        .unwrap_or_default();
                    json!({ "orders": orders, "imports": imports })
                }
                Component::Deduction => json!({ "records": origins.records }),
                Component::Adjustment => json!({ "adjustment": adjustment_ids.next() }),
                Component::ServiceFee | Component::SampleCost => json!({}),
            };
            let is_missing = missing.contains(&line.currency);
            lines.push(LineRow {
                id: Uuid::now_v7(),
                collaboration_id: line.collaboration,
                contract_version: origins.contract_version,
                component: line.component.code().into(),
                payer: domain::party_code(line.payer).into(),
                payee: domain::party_code(line.payee).into(),
                payable: line.payable,
                platform_paid: line.platform_paid,
                currency: line.currency,
                amount: line.amount,
                rate: (!is_missing).then_some(line.rate),
                converted: (!is_missing).then_some(line.converted),
                reason: line.reason.clone(),
                origin,
            });
            all.push(line);
        }
    }
    let totals = missing.is_empty().then(|| domain::totals(&all));
    Ok(PeriodResult {
        lines,
        missing: missing.iter().map(|c| c.code().to_string()).collect(),
        totals,
        carried_out,
    })
}

/// Which period of a tenant finance may work on: not before its first, not a future month,
/// not one already finalized.
async fn open_period(
    tx: &mut PgConnection,
    tenant: &TenantRow,
    period: Date,
) -> DomainResult<Bounds> {
    if repo::settlement_of(tx, tenant.id, period).await?.is_some() {
        return Err(DomainError::Refused(E_FINALIZED));
    }
    if period > repo::current_period(tx, &tenant.time_zone).await? {
        return Err(DomainError::Refused(E_FUTURE));
    }
    if period < repo::first_period(tx, tenant.id, &tenant.time_zone).await? {
        return Err(DomainError::Refused(E_BEFORE_FIRST));
    }
    Ok(repo::bounds(tx, period, &tenant.time_zone).await?)
}

async fn write_draft(
    tx: &mut PgConnection,
    actor: &Actor,
    tenant: &TenantRow,
    b: Bounds,
) -> DomainResult<Uuid> {
    let result = compute_period(tx, tenant, b).await?;
    let id = repo::replace_draft(
        tx,
        tenant.id,
        &repo::DraftTotals {
            period: b.period,
            settlement_currency: tenant.settlement_currency,
            totals: result.totals,
            missing: &result.missing,
            carried: json!(
                result
                    .carried_out
                    .iter()
                    .map(|((collaboration, currency), amount)| json!({
                        "collaboration": collaboration, "currency": currency.code(),
                        "amount": amount.to_string(),
                    }))
                    .collect::<Vec<_>>()
            ),
        },
        &result.lines,
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("settlement.compute", "settlement_draft", id)
            .tenant(Some(tenant.id))
            .after(json!({
                "period": period_code(b.period),
                "lines": result.lines.len(),
                "missing_rates": result.missing,
                "total_seller": result.totals.map(|t| t.0.to_string()),
                "total_creators": result.totals.map(|t| t.1.to_string()),
            })),
    )
    .await?;
    Ok(id)
}

/// Which tenant and month an action is about.
#[derive(Debug, Clone)]
pub struct PeriodOf<'a> {
    pub tenant: &'a TenantRow,
    pub period: Date,
}

/// Computes (or recomputes) a period's draft; a period under review goes back to draft.
pub async fn compute_draft(
    tx: &mut PgConnection,
    actor: &Actor,
    input: PeriodOf<'_>,
) -> DomainResult<Uuid> {
    finance_only(actor)?;
    let b = open_period(tx, input.tenant, input.period).await?;
    repo::draft(tx, input.tenant.id, input.period, true).await?;
    write_draft(tx, actor, input.tenant, b).await
}

/// The maker sends a computed draft to review: every rate must be there.
pub async fn send_to_review(
    tx: &mut PgConnection,
    actor: &Actor,
    input: PeriodOf<'_>,
) -> DomainResult<()> {
    finance_only(actor)?;
    let maker = actor.user_id.ok_or(DomainError::Forbidden)?;
    open_period(tx, input.tenant, input.period).await?;
    let draft = repo::draft(tx, input.tenant.id, input.period, true)
        .await?
        .ok_or(DomainError::Refused(E_NO_DRAFT))?;
    if draft.state != "draft" {
        return Err(DomainError::Refused(E_NOT_DRAFT));
    }
    if !draft.missing_rates.is_empty() {
        return Err(DomainError::Refused(E_MISSING_RATE));
    }
    repo::set_draft_state(tx, input.tenant.id, draft.id, Some(maker)).await?;
    audit::record(
        tx,
        actor
            .audit("settlement.send_to_review", "settlement_draft", draft.id)
            .tenant(Some(input.tenant.id))
            .before(json!({ "state": "draft" }))
            .after(json!({ "state": "review", "period": period_code(input.period) })),
    )
    .await?;
    Ok(())
}

/// A period under review goes back to draft (the checker found something).
pub async fn back_to_draft(
    tx: &mut PgConnection,
    actor: &Actor,
    input: PeriodOf<'_>,
) -> DomainResult<()> {
    finance_only(actor)?;
    open_period(tx, input.tenant, input.period).await?;
    let draft = repo::draft(tx, input.tenant.id, input.period, true)
        .await?
        .ok_or(DomainError::Refused(E_NO_DRAFT))?;
    if draft.state != "review" {
        return Err(DomainError::Refused(E_NOT_REVIEW));
    }
    repo::set_draft_state(tx, input.tenant.id, draft.id, None).await?;
    audit::record(
        tx,
        actor
            .audit("settlement.back_to_draft", "settlement_draft", draft.id)
            .tenant(Some(input.tenant.id))
            .before(json!({ "state": "review" }))
            .after(json!({ "state": "draft", "period": period_code(input.period) })),
    )
    .await?;
    Ok(())
}

/// An adjustment as typed.
#[derive(Debug, Clone, Default)]
pub struct AdjustmentInput {
    pub collaboration: String,
    pub currency: String,
    pub amount: String,
    pub reason: String,
}

/// Adds a manual line with a reason to an open period and recomputes its draft (a period under
/// review goes back to draft). Returns the adjustment's id.
pub async fn add_adjustment(
    tx: &mut PgConnection,
    actor: &Actor,
    of: PeriodOf<'_>,
    input: AdjustmentInput,
) -> DomainResult<Uuid> {
    finance_only(actor)?;
    let b = open_period(tx, of.tenant, of.period).await?;
    let mut errors = FieldErrors::new();
    let reason = text::required(&input.reason, TextRule::LINE, E_REASON).unwrap_or_else(|key| {
        errors.insert("reason".into(), key);
        ""
    });
    let currency = Currency::parse(&input.currency).ok();
    if currency.is_none() {
        errors.insert("currency".into(), E_CURRENCY);
    }
    let amount = input.amount.trim().replace(',', "").parse::<Decimal>().ok();
    let amount_ok = match (amount, currency) {
        (Some(a), Some(c)) => !a.is_zero() && c.fits(a) && a.abs() < MAX_AMOUNT,
        // The currency's own message says what is wrong; the amount is judged once it is known.
        (Some(a), None) => !a.is_zero() && a.abs() < MAX_AMOUNT,
        (None, _) => false,
    };
    if !amount_ok {
        errors.insert("amount".into(), E_AMOUNT);
    }
    let collaboration = input.collaboration.trim().parse::<Uuid>().ok();
    let known = match collaboration {
        Some(id) => repo::collaborations(tx, of.tenant.id)
            .await?
            .iter()
            .any(|c| c.id == id),
        None => false,
    };
    if !known {
        errors.insert("collaboration".into(), E_COLLABORATION);
    }
    let (Some(amount), Some(currency), Some(collaboration), true) =
        (amount, currency, collaboration, errors.is_empty())
    else {
        return Err(DomainError::Invalid(errors));
    };
    repo::draft(tx, of.tenant.id, of.period, true).await?;
    let id = repo::insert_adjustment(
        tx,
        of.tenant.id,
        &repo::NewAdjustment {
            period: of.period,
            collaboration,
            currency,
            amount,
            reason,
        },
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("settlement.adjustment_add", "settlement_adjustment", id)
            .tenant(Some(of.tenant.id))
            .after(json!({
                "period": period_code(of.period), "collaboration": collaboration,
                "currency": currency.code(), "amount": amount.to_string(), "reason": reason,
            })),
    )
    .await?;
    write_draft(tx, actor, of.tenant, b).await?;
    Ok(id)
}

/// Removes an adjustment of an open period and recomputes its draft.
pub async fn remove_adjustment(
    tx: &mut PgConnection,
    actor: &Actor,
    of: PeriodOf<'_>,
    id: Uuid,
) -> DomainResult<()> {
    finance_only(actor)?;
    let b = open_period(tx, of.tenant, of.period).await?;
    repo::draft(tx, of.tenant.id, of.period, true).await?;
    let removed = repo::delete_adjustment(tx, of.tenant.id, of.period, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    audit::record(
        tx,
        actor
            .audit("settlement.adjustment_remove", "settlement_adjustment", id)
            .tenant(Some(of.tenant.id))
            .before(json!({
                "currency": removed.currency.code(), "amount": removed.amount.to_string(),
                "reason": removed.reason,
            })),
    )
    .await?;
    write_draft(tx, actor, of.tenant, b).await?;
    Ok(())
}

/// The lines of a stored settlement as the pure functions know them.
pub fn domain_line(l: &LineRow) -> Option<Line> {
    Some(Line {
        collaboration: l.collaboration_id,
        component: domain::component_of(&l.component)?,
        platform_paid: l.platform_paid,
        payer: domain::party_of(&l.payer)?,
        payee: domain::party_of(&l.payee)?,
        payable: l.payable,
        currency: l.currency,
        amount: l.amount,
        rate: l.rate?,
        converted: l.converted?,
        reason: l.reason.clone(),
    })
}

fn rates_json(rates: &BTreeMap<Currency, Decimal>) -> serde_json::Value {
    json!(
        rates
            .iter()
            .map(|(c, r)| (
                c.code().to_string(),
                canonical::at_scale(*r, canonical::RATE_SCALE)
            ))
            .collect::<BTreeMap<_, _>>()
    )
}

/// The finalized settlement in canonical form, from what is stored.
fn canonical_of(
    tenant: Uuid,
    s: &repo::SettlementRow,
    lines: &[LineRow],
) -> Option<canonical::Settlement> {
    Some(canonical::Settlement {
        tenant_id: tenant,
        settlement_id: s.id,
        period: period_code(s.period),
        settlement_currency: s.settlement_currency,
        rates: super::view::stored_rates(&s.rates),
        lines: lines
            .iter()
            .map(|l| {
                Some(StoredLine {
                    id: l.id,
                    line: domain_line(l)?,
                })
            })
            .collect::<Option<Vec<_>>>()?,
        total_seller: s.total_seller,
        total_creators: s.total_creators,
        sent_to_review_by: s.sent_to_review_by,
        finalized_by: s.finalized_by,
        finalized_at: s.finalized_at,
        previous_hash: s.previous_hash.clone(),
    })
}

/// The checker finalizes a period under review: not the person who sent it to review or added
/// an adjustment to it, only once the month is over, in order (the month after the last
/// finalized one, or the tenant's first). INSERTs the settlement and its lines — the reviewed
/// lines exactly — with the hash of canonical form v1 chained to the tenant's previous one
/// (its row locked meanwhile), removes the draft, and moves rated collaborations to settled.
pub async fn finalize(
    tx: &mut PgConnection,
    actor: &Actor,
    input: PeriodOf<'_>,
) -> DomainResult<Uuid> {
    finance_only(actor)?;
    let checker = actor.user_id.ok_or(DomainError::Forbidden)?;
    let tenant = input.tenant;
    let b = open_period(tx, tenant, input.period).await?;
    let last = repo::lock_chain(tx, tenant.id).await?;
    let expected = match &last {
        Some((period, _)) => next_month(*period),
        None => repo::first_period(tx, tenant.id, &tenant.time_zone).await?,
    };
    if input.period != expected {
        return Err(DomainError::Refused(E_OUT_OF_ORDER));
    }
    let draft = repo::draft(tx, tenant.id, input.period, true)
        .await?
        .ok_or(DomainError::Refused(E_NO_DRAFT))?;
    if draft.state != "review" {
        return Err(DomainError::Refused(E_NOT_REVIEW));
    }
    let now = OffsetDateTime::now_utc();
    if b.end > now {
        return Err(DomainError::Refused(E_NOT_OVER));
    }
    let maker = draft
        .sent_to_review_by
        .ok_or(DomainError::Refused(E_NOT_REVIEW))?;
    if maker == checker {
        return Err(DomainError::Refused(E_SAME_PERSON));
    }
    if repo::adjustments(tx, tenant.id, input.period)
        .await?
        .iter()
        .any(|a| a.created_by == Some(checker))
    {
        return Err(DomainError::Refused(E_ADJUSTED_BY_CHECKER));
    }
    if !draft.missing_rates.is_empty() {
        return Err(DomainError::Refused(E_MISSING_RATE));
    }
    // The draft's commission and deductions subtract what earlier settlements hold: one
    // finalized after it was computed makes it stale.
    if last.is_some() && repo::finalized_since(tx, tenant.id, draft.computed_at).await? {
        return Err(DomainError::Refused(E_STALE));
    }
    let draft_lines = repo::draft_lines(tx, tenant.id, draft.id).await?;
    let mut lines = Vec::with_capacity(draft_lines.len());
    let mut domain_lines = Vec::with_capacity(draft_lines.len());
    for l in draft_lines {
        let stored = LineRow {
            id: Uuid::now_v7(),
            ..l
        };
        domain_lines.push(domain_line(&stored).ok_or(DomainError::Refused(E_MISSING_RATE))?);
        lines.push(stored);
    }
    let totals = domain::totals(&domain_lines);
    let rates: BTreeMap<Currency, Decimal> =
        repo::rates(tx, input.period, tenant.settlement_currency)
            .await?
            .into_iter()
            .filter(|(c, _)| lines.iter().any(|l| l.currency == *c))
            .collect();
    let previous_hash = last.map(|(_, h)| h).unwrap_or_default();
    // Microseconds, as Postgres keeps them: the hash covers what is stored.
    let finalized_at = now
        .replace_nanosecond(now.microsecond() * 1_000)
        .unwrap_or(now);
    let id = Uuid::now_v7();
    let row = repo::SettlementRow {
        id,
        period: input.period,
        settlement_currency: tenant.settlement_currency,
        rates: rates_json(&rates),
        total_seller: totals.0,
        total_creators: totals.1,
        line_count: lines.len() as i32,
        sent_to_review_by: maker,
        sent_to_review_label: String::new(),
        finalized_by: checker,
        finalized_by_label: actor.label.clone(),
        finalized_at,
        previous_hash: previous_hash.clone(),
        hash: String::new(),
        paid: Decimal::ZERO,
    };
    let form = canonical_of(tenant.id, &row, &lines).ok_or(DomainError::Refused(E_MISSING_RATE))?;
    let hash = canonical::hash(&form);
    repo::insert_settlement(
        tx,
        tenant.id,
        &repo::NewSettlement {
            id,
            period: input.period,
            settlement_currency: tenant.settlement_currency,
            rates: row.rates.clone(),
            totals,
            sent_to_review_by: maker,
            finalized_by: (checker, &actor.label),
            finalized_at,
            previous_hash: &previous_hash,
            hash: &hash,
        },
        &lines,
    )
    .await?;
    repo::delete_draft(tx, tenant.id, draft.id).await?;
    audit::record(
        tx,
        actor
            .audit("settlement.finalize", "settlement", id)
            .tenant(Some(tenant.id))
            .before(json!({ "state": "review", "sent_to_review_by": maker }))
            .after(json!({
                "state": "finalized", "period": period_code(input.period), "hash": hash,
                "previous_hash": previous_hash, "lines": lines.len(),
                "total_seller": totals.0.to_string(), "total_creators": totals.1.to_string(),
            })),
    )
    .await?;
    crate::webhooks::actions::enqueue(
        tx,
        tenant.id,
        crate::webhooks::actions::Event::SettlementFinalized {
            settlement_id: id,
            period: period_code(input.period),
            total_seller: totals.0.to_string(),
            currency: tenant.settlement_currency.code().to_string(),
        },
    )
    .await?;
    // Rated collaborations with lines in it are settled now.
    let rated = repo::rated_in(tx, tenant.id, id).await?;
    if !rated.is_empty()
        && let Some(t) = crate::tenants::repo::tenant_by_slug(&mut *tx, &tenant.slug).await?
    {
        let within = actor.clone().within(t, Access::Owner);
        for collaboration_id in rated {
            crate::contracts::actions::transition_collaboration(
                tx,
                &within,
                crate::contracts::actions::TransitionCollaboration {
                    collaboration_id,
                    event: ContractEvent::SettlementFinalized,
                },
            )
            .await?;
        }
    }
    Ok(id)
}

/// A payment as typed.
#[derive(Debug, Clone, Default)]
pub struct PaymentInput {
    pub paid_on: String,
    pub amount: String,
    pub reference: String,
}

/// Records a payment of the seller against a finalized settlement (partial payments allowed,
/// never above what is still due).
pub async fn record_payment(
    tx: &mut PgConnection,
    actor: &Actor,
    tenant: &TenantRow,
    settlement: Uuid,
    input: PaymentInput,
) -> DomainResult<Uuid> {
    finance_only(actor)?;
    repo::lock_payments(tx, tenant.id).await?;
    let s = repo::settlement(tx, tenant.id, settlement)
        .await?
        .ok_or(DomainError::NotFound)?;
    let due = s.total_seller - s.paid;
    let mut errors = FieldErrors::new();
    let paid_on = Date::parse(
        input.paid_on.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok();
    if paid_on.is_none() {
        errors.insert("paid_on".into(), E_PAYMENT_DATE);
    }
    let reference =
        text::required(&input.reference, TextRule::LINE, E_REFERENCE).unwrap_or_else(|key| {
            errors.insert("reference".into(), key);
            ""
        });
    let amount = input.amount.trim().replace(',', "").parse::<Decimal>().ok();
    match amount {
        Some(a) if a > Decimal::ZERO && s.settlement_currency.fits(a) => {
            if due <= Decimal::ZERO {
                errors.insert("amount".into(), E_NOTHING_DUE);
            } else if a > due {
                errors.insert("amount".into(), E_PAYMENT_ABOVE_DUE);
            }
        }
        _ => {
            errors.insert("amount".into(), E_PAYMENT_AMOUNT);
        }
    }
    let (Some(paid_on), Some(amount), true) = (paid_on, amount, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let id = repo::insert_payment(
        tx,
        tenant.id,
        &repo::NewPayment {
            settlement,
            paid_on,
            amount,
            reference,
        },
        (actor.user_id, &actor.label),
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("settlement.payment", "settlement_payment", id)
            .tenant(Some(tenant.id))
            .after(json!({
                "settlement": settlement, "paid_on": paid_on.to_string(),
                "amount": amount.to_string(), "reference": reference,
                "paid_before": s.paid.to_string(), "due_before": due.to_string(),
            })),
    )
    .await?;
    Ok(id)
}

/// What the verify button found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The stored hash is still the hash of what is stored.
    pub hash_matches: bool,
    /// The stored previous hash is the previous finalized settlement's stored hash.
    pub chain_matches: bool,
    pub recomputed: String,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.hash_matches && self.chain_matches
    }
}

/// Recomputes a finalized settlement's hash from what is stored now and checks its link to the
/// previous one; the result is audited either way. Anyone who may see the settlement may check it.
pub async fn verify(
    tx: &mut PgConnection,
    actor: &Actor,
    tenant: &TenantRow,
    settlement: Uuid,
) -> DomainResult<Verification> {
    let s = repo::settlement(tx, tenant.id, settlement)
        .await?
        .ok_or(DomainError::NotFound)?;
    let lines = repo::settlement_lines(tx, tenant.id, settlement).await?;
    let recomputed = canonical_of(tenant.id, &s, &lines)
        .map(|form| canonical::hash(&form))
        .unwrap_or_default();
    let previous = repo::previous_hash(tx, tenant.id, s.period).await?;
    let v = Verification {
        hash_matches: recomputed == s.hash,
        chain_matches: previous == s.previous_hash,
        recomputed,
    };
    audit::record(
        tx,
        actor
            .audit("settlement.verify", "settlement", settlement)
            .tenant(Some(tenant.id))
            .after(json!({
                "hash_matches": v.hash_matches, "chain_matches": v.chain_matches,
                "stored": s.hash, "recomputed": v.recomputed,
            })),
    )
    .await?;
    Ok(v)
}

/// Reconciliation of the period's TikTok Shop orders: each order's commission as Sextant
/// computes it (the base × the contract's rate; nothing for an unattributed order) against the
/// export's `Actual Commission Payment`.
pub async fn reconciliation(
    tx: &mut PgConnection,
    tenant: &TenantRow,
    b: Bounds,
) -> DomainResult<(Vec<reconcile::Difference>, reconcile::ByCreator)> {
    let rates: BTreeMap<Uuid, Decimal> = repo::collaborations(tx, tenant.id)
        .await?
        .into_iter()
        .filter_map(|c| {
            let terms: Terms = serde_json::from_value(c.terms).ok()?;
            Some((c.id, terms.commission_rate))
        })
        .collect();
    let orders: Vec<reconcile::OrderCommission> = repo::reconciliation_rows(tx, tenant.id, b)
        .await?
        .into_iter()
        .map(|r| {
            let rate = r.collaboration_id.and_then(|c| rates.get(&c).copied());
            reconcile::OrderCommission {
                order_id: r.order_key,
                creator: r.collaboration_id.and(r.handle),
                currency: r.currency,
                computed: rate.map_or(Decimal::ZERO, |rate| r.base * rate),
                actual: r.actual,
                rate_differs: matches!((rate, r.export_rate), (Some(a), Some(b)) if a != b),
                refunded_after_payment: r.fully_refunded,
            }
        })
        .collect();
    Ok(reconcile::reconcile(&orders))
}

/// Party of a stored code, for pages.
pub fn party_label_key(code: &str) -> String {
    format!("settlement.party.{code}")
}

/// The component label key of a stored code.
pub fn component_label_key(code: &str) -> String {
    format!("settlement.component.{code}")
}
