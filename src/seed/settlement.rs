//! Demo settlements (issue 16): finance's rates for every month the demo has money in, Lumi's
//! months finalized in order through the real actions (one finance person sends each to review,
//! the other finalizes), the seller's payments against them — all paid but the latest, which is
//! partly paid — and last month left as a draft whose reconciliation shows TikTok Shop paying a
//! different commission on some orders. A second seeding finalizes only months not yet
//! finalized and records no payment twice.

use rust_decimal::Decimal;
use time::Date;

use crate::auth::Actor;
use crate::db::{Db, SystemScope};
use crate::settlement::actions::{self, PaymentInput, PeriodOf, SetRates};
use crate::settlement::domain::payment_status;
use crate::settlement::repo;

/// Demo rates into CNY and USD (1 unit of the first = the rate of the second), nudged per month.
const RATES: &[(&str, &str, &str)] = &[
    ("USD", "CNY", "7.12"),
    ("GBP", "CNY", "9.05"),
    ("EUR", "CNY", "7.74"),
    ("JPY", "CNY", "0.0478"),
    ("CNY", "USD", "0.1404"),
    ("GBP", "USD", "1.2710"),
    ("EUR", "USD", "1.0870"),
];

async fn finance_actor(db: &Db, email: &str) -> anyhow::Result<Actor> {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(db.pool())
        .await?;
    let user = crate::auth::repo::find_active_by_id(db.pool(), id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{email} is not active"))?;
    Ok(Actor::user(&user))
}

/// Runs one finance action in the seeding's system scope, committing when it succeeds.
async fn run<T>(
    db: &Db,
    what: &str,
    f: impl AsyncFnOnce(&mut sqlx::PgConnection) -> Result<T, crate::error::DomainError>,
) -> anyhow::Result<T> {
    let mut tx = db.system_tx(SystemScope::Cli).await?;
    let out = f(&mut tx)
        .await
        .map_err(|e| anyhow::anyhow!("demo settlement, {what}: {e:?}"))?;
    tx.commit().await?;
    Ok(out)
}

pub async fn seed_settlements(db: &Db) -> anyhow::Result<()> {
    let maker = finance_actor(db, "finance@sextant.example").await?;
    let checker = finance_actor(db, "finance2@sextant.example").await?;
    let mut tx = db.system_tx(SystemScope::Cli).await?;
    let Some(tenant) = repo::tenant_by_slug(&mut tx, "lumi").await? else {
        return Ok(());
    };
    let first = repo::first_period(&mut tx, tenant.id, &tenant.time_zone).await?;
    let current = repo::current_period(&mut tx, &tenant.time_zone).await?;
    let done: Vec<Date> = repo::settlements(&mut tx, tenant.id)
        .await?
        .iter()
        .map(|s| s.period)
        .collect();
    tx.commit().await?;

    // Rates for every month from the first to this one.
    let mut month = first;
    let mut n = 0i64;
    while month <= current {
        let rates = RATES
            .iter()
            .map(|(from, to, rate)| {
                let base: Decimal = rate.parse().unwrap_or(Decimal::ONE);
                let nudged = base * (Decimal::ONE + Decimal::new(n % 5, 3));
                (
                    from.to_string(),
                    to.to_string(),
                    nudged.round_dp(6).to_string(),
                )
            })
            .collect();
        run(db, "rates", async |tx| {
            actions::set_rates(
                tx,
                &maker,
                SetRates {
                    period: Some(month),
                    rates,
                },
            )
            .await
        })
        .await?;
        month = actions::next_month(month);
        n += 1;
    }

    // Every month before last month finalized in order; last month a draft.
    let last_month = {
        let mut p = first;
        while actions::next_month(p) < current {
            p = actions::next_month(p);
        }
        p
    };
    let mut month = first;
    while month < last_month {
        if !done.contains(&month) {
            let of = PeriodOf {
                tenant: &tenant,
                period: month,
            };
            run(db, "compute", async |tx| {
                actions::compute_draft(tx, &maker, of.clone()).await
            })
            .await?;
            run(db, "review", async |tx| {
                actions::send_to_review(tx, &maker, of.clone()).await
            })
            .await?;
            run(db, "finalize", async |tx| {
                actions::finalize(tx, &checker, of.clone()).await
            })
            .await?;
        }
        month = actions::next_month(month);
    }
    if last_month < current && !done.contains(&last_month) {
        let of = PeriodOf {
            tenant: &tenant,
            period: last_month,
        };
        run(db, "draft", async |tx| {
            actions::compute_draft(tx, &maker, of.clone()).await
        })
        .await?;
    }

    // The seller paid every finalized settlement but the latest, which it paid half of.
    let mut tx = db.system_tx(SystemScope::Cli).await?;
    let settlements = repo::settlements(&mut tx, tenant.id).await?;
    tx.commit().await?;
    let latest = settlements.last().map(|s| s.id);
    for s in &settlements {
        if payment_status(s.total_seller, s.paid) == "paid" || s.total_seller <= Decimal::ZERO {
            continue;
        }
        let due = s.total_seller - s.paid;
        let amount = if Some(s.id) == latest {
            if s.paid > Decimal::ZERO {
                continue;
            }
            s.settlement_currency.round(due / Decimal::TWO)
        } else {
            due
        };
        if amount <= Decimal::ZERO {
            continue;
        }
        let paid_on = actions::next_month(s.period) + time::Duration::days(9);
        run(db, "payment", async |tx| {
            actions::record_payment(
                tx,
                &maker,
                &tenant,
                s.id,
                PaymentInput {
                    paid_on: paid_on.to_string(),
                    amount: amount.to_string(),
                    reference: format!("CMB-{}", actions::period_code(s.period).replace('-', "")),
                },
            )
            .await
        })
        .await?;
    }
    Ok(())
}
