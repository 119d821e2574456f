//! A campaign's totals against its targets, computed exactly as its overview computes them: one
//! function for the home's running campaigns and the campaign list.

use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{Kpis, Targets};
use super::figures::{self as kpis, compute_all};
use super::repo::{self as kpis_repo, Scope};
use crate::campaigns::domain::Campaign;
use crate::matching::repo::ReferenceRates;
use crate::tracking::posts::repo as posts_repo;

/// A campaign's figures: totals in its report currency, its targets, and how many
/// collaborations count in them (the creators it works with).
pub struct CampaignFigures {
    pub total: Kpis,
    pub targets: Targets,
    pub creators: usize,
}

/// The campaign's figures; None when it is not the tenant's.
pub async fn figures(
    conn: &mut PgConnection,
    tenant: Uuid,
    zone: &str,
    settlement_currency: &str,
    rates: &ReferenceRates,
    campaign: Uuid,
) -> Result<Option<CampaignFigures>, sqlx::Error> {
    let Some(facts) = posts_repo::campaign(conn, tenant, zone, campaign).await? else {
        return Ok(None);
    };
    let totals = kpis_repo::totals(conn, tenant, Scope::Campaign(campaign)).await?;
    let orders = kpis_repo::order_totals(conn, tenant, Scope::Campaign(campaign)).await?;
    let request: Campaign = serde_json::from_value(facts.data).unwrap_or_default();
    let currency = kpis::report_currency(
        &request,
        facts.shop_currency.as_deref(),
        settlement_currency,
    );
    let targets = kpis::targets(&request, &currency);
    let creators = totals.iter().filter(|t| kpis::counts(t.state)).count();
    let total = compute_all(totals, &orders, &currency, rates).total;
    Ok(Some(CampaignFigures {
        total,
        targets,
        creators,
    }))
}
