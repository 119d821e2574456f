//! SQL for settlement: what a period's computation reads (contracts, posts, orders by payment
//! time, fulfilment records, what finalized settlements already hold, adjustments, finance's
//! rates), the drafts it writes, and the append-only finalized settlements, lines and payments.
//! Every query names its tenant, so the same functions serve a tenant's own transaction and
//! finance's audited system scope.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::kernel::money::Currency;

/// A period's first day and the instants it starts and ends at in the tenant's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub period: Date,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

/// The instants a month starts and ends at in `zone`.
pub async fn bounds(conn: &mut PgConnection, period: Date, zone: &str) -> sqlx::Result<Bounds> {
    let row = sqlx::query!(
        r#"SELECT ($1::date::timestamp AT TIME ZONE $2) AS "start!",
                  (($1::date + interval '1 month')::timestamp AT TIME ZONE $2) AS "end!""#,
        period,
        zone,
    )
    .fetch_one(conn)
    .await?;
    Ok(Bounds {
        period,
        start: row.start,
        end: row.end,
    })
}

/// What a tenant's settlement pages need to know of it.
#[derive(Debug, Clone)]
pub struct TenantRow {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub time_zone: String,
    pub settlement_currency: Currency,
    pub status: String,
}

pub async fn tenant_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> sqlx::Result<Option<TenantRow>> {
    sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, display_name, time_zone,
                  settlement_currency AS "settlement_currency: Currency", status
             FROM tenants WHERE slug = $1"#,
        slug,
    )
    .fetch_optional(conn)
    .await
}

/// Every tenant, by name (the finance console's list).
pub async fn tenants(conn: &mut PgConnection) -> sqlx::Result<Vec<TenantRow>> {
    sqlx::query_as!(
        TenantRow,
        r#"SELECT id, slug, display_name, time_zone,
                  settlement_currency AS "settlement_currency: Currency", status
             FROM tenants ORDER BY display_name, slug"#,
    )
    .fetch_all(conn)
    .await
}

/// The first month a tenant has anything to settle in: the earliest of its creation, its first
/// accepted-or-later collaboration, its first post and its first paid order (in its zone).
pub async fn first_period(conn: &mut PgConnection, tenant: Uuid, zone: &str) -> sqlx::Result<Date> {
    let row = sqlx::query!(
        r#"SELECT date_trunc('month', (LEAST(
                     (SELECT created_at FROM tenants WHERE id = $1),
                     (SELECT min(created_at) FROM collaborations WHERE tenant_id = $1),
                     (SELECT min(published_at) FROM posts WHERE tenant_id = $1),
                     (SELECT min(paid_at) FROM order_lines WHERE tenant_id = $1)
                  ) AT TIME ZONE $2))::date AS "first!""#,
        tenant,
        zone,
    )
    .fetch_one(conn)
    .await?;
    Ok(row.first)
}

/// The tenant's current month (in its zone).
pub async fn current_period(conn: &mut PgConnection, zone: &str) -> sqlx::Result<Date> {
    let row = sqlx::query!(
        r#"SELECT date_trunc('month', now() AT TIME ZONE $1)::date AS "month!""#,
        zone
    )
    .fetch_one(conn)
    .await?;
    Ok(row.month)
}

/// One collaboration as the computation sees it: its current terms and what names it.
pub struct CollaborationRow {
    pub id: Uuid,
    pub contract_version: i32,
    pub terms: serde_json::Value,
    pub campaign_id: Uuid,
    pub campaign: String,
    pub creator_id: Uuid,
    pub handle: String,
    pub state: String,
    pub sample_shipped_at: Option<OffsetDateTime>,
}

/// The tenant's collaborations past the proposal (a proposal has nothing to settle).
pub async fn collaborations(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> sqlx::Result<Vec<CollaborationRow>> {
    sqlx::query_as!(
        CollaborationRow,
        r#"SELECT c.id, c.current_version AS contract_version, v.terms, c.campaign_id,
                  COALESCE(cp.code, cp.title) AS "campaign!", c.creator_id, cr.handle, c.state,
                  c.sample_shipped_at
             FROM collaborations c
             JOIN contract_versions v ON v.tenant_id = c.tenant_id
                  AND v.collaboration_id = c.id AND v.version = c.current_version
             JOIN campaigns cp ON cp.tenant_id = c.tenant_id AND cp.id = c.campaign_id
             JOIN creators cr ON cr.id = c.creator_id
            WHERE c.tenant_id = $1 AND c.state <> 'proposed'
            ORDER BY 5, cr.handle"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

/// Posts per collaboration: how many were published by the period's end, and the ones in it.
pub struct PostCount {
    pub collaboration_id: Uuid,
    pub by_end: i64,
    pub in_period: Vec<Uuid>,
}

pub async fn post_counts(
    conn: &mut PgConnection,
    tenant: Uuid,
    b: Bounds,
) -> sqlx::Result<Vec<PostCount>> {
    sqlx::query_as!(
        PostCount,
        r#"SELECT collaboration_id, count(*) AS "by_end!",
                  COALESCE(array_agg(id ORDER BY published_at)
                           FILTER (WHERE published_at >= $2), '{}') AS "in_period!"
             FROM posts WHERE tenant_id = $1 AND published_at < $3
            GROUP BY collaboration_id"#,
        tenant,
        b.start,
        b.end,
    )
    .fetch_all(conn)
    .await
}

/// Commission bases of attributed orders paid by the period's end, per collaboration, currency
/// and who pays the commission (TikTok Shop: the platform).
pub struct OrderBase {
    pub collaboration_id: Uuid,
    pub currency: Currency,
    pub platform_paid: bool,
    pub base: Decimal,
    /// Orders paid inside the period, and the import batches they came in.
    pub in_period: i64,
    pub imports: Vec<Uuid>,
}

/// SPEC §9's commission base: TikTok `Actual Commission Base`, else `Est. Commission Base`
/// (nothing for a line fully refunded or cancelled); other orders: line items − discounts −
/// refunds (Shopify's `Subtotal` is after discounts), without shipping and tax. An order belongs
/// to the month of its payment time (Shopify exports without `Paid at`: the creation time of a
/// paid order).
pub async fn order_bases(
    conn: &mut PgConnection,
    tenant: Uuid,
    b: Bounds,
) -> sqlx::Result<Vec<OrderBase>> {
    sqlx::query_as!(
        OrderBase,
        r#"WITH cur AS (
             SELECT DISTINCT ON (l.shop_id, l.order_key, l.line_key)
                    l.shop_id, l.order_key, l.line_key, l.currency, l.import_id, l.amount,
                    l.fully_refunded, l.refunded_amount, l.actual_commission_base,
                    l.est_commission_base, l.subtotal, l.shipping, l.tax, l.paid_at, l.placed_at,
                    l.status, i.format
               FROM order_lines l
               JOIN order_imports i ON i.tenant_id = l.tenant_id AND i.id = l.import_id
                    AND i.state = 'imported'
              WHERE l.tenant_id = $1
              ORDER BY l.shop_id, l.order_key, l.line_key, l.exported_at DESC, i.created_at DESC
           ), o AS (
             SELECT a.collaboration_id, o.currency, o.import_id,
                    o.format = 'tiktok_affiliate' AS platform_paid,
                    CASE WHEN o.format = 'tiktok_affiliate' THEN
                           CASE WHEN o.fully_refunded THEN 0
                                ELSE COALESCE(o.actual_commission_base, o.est_commission_base, o.amount)
                           END
                         ELSE GREATEST(COALESCE(o.subtotal,
                                                o.amount - COALESCE(o.shipping, 0) - COALESCE(o.tax, 0))
                                       - o.refunded_amount, 0)
                    END AS base,
                    COALESCE(o.paid_at,
                             CASE WHEN o.format = 'shopify' AND o.status IN ('paid',
                                       'partially_refunded', 'refunded', 'partially_paid')
                                  THEN o.placed_at END) AS paid_at
               FROM cur o
               JOIN order_attributions a ON a.tenant_id = $1 AND a.shop_id = o.shop_id
                    AND a.order_key = o.order_key AND a.line_key = o.line_key
           )
           SELECT collaboration_id AS "collaboration_id!", currency AS "currency!: Currency",
                  platform_paid AS "platform_paid!", sum(base) AS "base!",
                  count(*) FILTER (WHERE paid_at >= $2) AS "in_period!",
                  COALESCE(array_agg(DISTINCT import_id) FILTER (WHERE paid_at >= $2), '{}')
                      AS "imports!"
             FROM o WHERE paid_at < $3
            GROUP BY 1, 2, 3"#,
        tenant,
        b.start,
        b.end,
    )
    .fetch_all(conn)
    .await
}

/// What earlier finalized settlements hold, per collaboration, component, currency and payer.
pub struct Held {
    pub collaboration_id: Uuid,
    pub component: String,
    pub currency: Currency,
    pub platform_paid: bool,
    pub amount: Decimal,
}

pub async fn held(conn: &mut PgConnection, tenant: Uuid, period: Date) -> sqlx::Result<Vec<Held>> {
    sqlx::query_as!(
        Held,
        r#"SELECT l.collaboration_id, l.component, l.currency AS "currency: Currency",
                  l.platform_paid, sum(l.amount) AS "amount!"
             FROM settlement_lines l
             JOIN settlements s ON s.tenant_id = l.tenant_id AND s.id = l.settlement_id
            WHERE l.tenant_id = $1 AND s.period < $2
            GROUP BY 1, 2, 3, 4"#,
        tenant,
        period,
    )
    .fetch_all(conn)
    .await
}

/// A fulfilment record that counts and carries a money deduction, recorded by the period's end.
pub struct DeductionRecord {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub in_period: bool,
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    pub percent: Option<Decimal>,
}

pub async fn deduction_records(
    conn: &mut PgConnection,
    tenant: Uuid,
    b: Bounds,
) -> sqlx::Result<Vec<DeductionRecord>> {
    sqlx::query_as!(
        DeductionRecord,
        r#"SELECT id AS "id!", collaboration_id AS "collaboration_id!",
                  recorded_at >= $2 AS "in_period!", money_amount AS amount,
                  money_currency AS "currency: Currency", money_percent AS percent
             FROM counting_fulfilment_records
            WHERE tenant_id = $1 AND recorded_at < $3
              AND (money_amount IS NOT NULL OR money_percent > 0)
            ORDER BY recorded_at, id"#,
        tenant,
        b.start,
        b.end,
    )
    .fetch_all(conn)
    .await
}

/// A manual line of an open period.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub currency: Currency,
    pub amount: Decimal,
    pub reason: String,
    pub created_by: Option<Uuid>,
    pub created_by_label: String,
    pub created_at: OffsetDateTime,
}

pub async fn adjustments(
    conn: &mut PgConnection,
    tenant: Uuid,
    period: Date,
) -> sqlx::Result<Vec<Adjustment>> {
    sqlx::query_as!(
        Adjustment,
        r#"SELECT id, collaboration_id, currency AS "currency: Currency", amount, reason,
                  created_by, created_by_label, created_at
             FROM settlement_adjustments WHERE tenant_id = $1 AND period = $2
            ORDER BY created_at, id"#,
        tenant,
        period,
    )
    .fetch_all(conn)
    .await
}

pub struct NewAdjustment<'a> {
    pub period: Date,
    pub collaboration: Uuid,
    pub currency: Currency,
    pub amount: Decimal,
    pub reason: &'a str,
}

pub async fn insert_adjustment(
    conn: &mut PgConnection,
    tenant: Uuid,
    a: &NewAdjustment<'_>,
    by: (Option<Uuid>, &str),
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO settlement_adjustments (tenant_id, id, period, collaboration_id, currency, \
         amount, reason, created_by, created_by_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tenant,
        id,
        a.period,
        a.collaboration,
        a.currency.code(),
        a.amount,
        a.reason,
        by.0,
        by.1,
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Removes an adjustment of an open period; false when there is none with that id.
pub async fn delete_adjustment(
    conn: &mut PgConnection,
    tenant: Uuid,
    period: Date,
    id: Uuid,
) -> sqlx::Result<Option<Adjustment>> {
    sqlx::query_as!(
        Adjustment,
        r#"DELETE FROM settlement_adjustments WHERE tenant_id = $1 AND period = $2 AND id = $3
           RETURNING id, collaboration_id, currency AS "currency: Currency", amount, reason,
                     created_by, created_by_label, created_at"#,
        tenant,
        period,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Finance's rates of a month into `target`: currency → rate.
pub async fn rates(
    conn: &mut PgConnection,
    period: Date,
    target: Currency,
) -> sqlx::Result<BTreeMap<Currency, Decimal>> {
    let rows = sqlx::query!(
        r#"SELECT currency AS "currency: Currency", rate FROM fx_rates
            WHERE period = $1 AND target = $2"#,
        period,
        target.code(),
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.currency, r.rate)).collect())
}

/// One rate of a month as stored, with who entered it.
pub struct RateRow {
    pub currency: Currency,
    pub target: Currency,
    pub rate: Decimal,
    pub entered_by: Option<String>,
    pub entered_at: OffsetDateTime,
}

pub async fn rate_rows(conn: &mut PgConnection, period: Date) -> sqlx::Result<Vec<RateRow>> {
    sqlx::query_as!(
        RateRow,
        r#"SELECT r.currency AS "currency: Currency", r.target AS "target: Currency", r.rate,
                  u.email AS "entered_by?", r.entered_at
             FROM fx_rates r LEFT JOIN users u ON u.id = r.entered_by
            WHERE r.period = $1 ORDER BY r.target, r.currency"#,
        period,
    )
    .fetch_all(conn)
    .await
}

/// Sets a rate of a month; returns the rate it replaced.
pub async fn upsert_rate(
    conn: &mut PgConnection,
    period: Date,
    pair: (Currency, Currency),
    rate: Decimal,
    by: Option<Uuid>,
) -> sqlx::Result<Option<Decimal>> {
    let before = sqlx::query_scalar!(
        "SELECT rate FROM fx_rates WHERE period = $1 AND currency = $2 AND target = $3 FOR UPDATE",
        period,
        pair.0.code(),
        pair.1.code(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO fx_rates (period, currency, target, rate, entered_by) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (period, currency, target) DO UPDATE \
         SET rate = EXCLUDED.rate, entered_by = EXCLUDED.entered_by, entered_at = clock_timestamp()",
        period,
        pair.0.code(),
        pair.1.code(),
        rate,
        by,
    )
    .execute(conn)
    .await?;
    Ok(before)
}

/// Currencies the tenant has money in: its contracts' fees and samples, its orders, its
/// fulfilment records' fixed deductions and its adjustments (the FX page asks for these).
pub async fn currencies_in_use(conn: &mut PgConnection) -> sqlx::Result<Vec<Currency>> {
    let rows = sqlx::query_scalar!(
        r#"SELECT DISTINCT c AS "c!: Currency" FROM (
             SELECT v.terms->>'fixed_fee_currency' AS c FROM contract_versions v
             UNION SELECT v.terms->'sample'->>'cost_currency' FROM contract_versions v
             UNION SELECT DISTINCT currency::text FROM order_lines
             UNION SELECT money_currency::text FROM fulfilment_records
             UNION SELECT currency::text FROM settlement_adjustments
           ) x WHERE c IS NOT NULL ORDER BY 1"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Drafts

/// The open period's draft or review.
#[derive(Debug, Clone)]
pub struct DraftRow {
    pub id: Uuid,
    pub period: Date,
    pub state: String,
    pub settlement_currency: Currency,
    pub total_seller: Option<Decimal>,
    pub total_creators: Option<Decimal>,
    pub missing_rates: Vec<String>,
    pub line_count: i32,
    pub carried: serde_json::Value,
    pub computed_by_label: String,
    pub computed_at: OffsetDateTime,
    pub sent_to_review_by: Option<Uuid>,
    pub sent_to_review_label: Option<String>,
    pub sent_to_review_at: Option<OffsetDateTime>,
}

pub async fn draft(
    conn: &mut PgConnection,
    tenant: Uuid,
    period: Date,
    lock: bool,
) -> sqlx::Result<Option<DraftRow>> {
    let row = sqlx::query_as!(
        DraftRow,
        r#"SELECT d.id, d.period, d.state, d.settlement_currency AS "settlement_currency: Currency",
                  d.total_seller, d.total_creators, d.missing_rates, d.line_count,
                  d.carried, d.computed_by_label, d.computed_at, d.sent_to_review_by,
                  u.email AS "sent_to_review_label?", d.sent_to_review_at
             FROM settlement_drafts d LEFT JOIN users u ON u.id = d.sent_to_review_by
            WHERE d.tenant_id = $1 AND d.period = $2"#,
        tenant,
        period,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if lock && row.is_some() {
        sqlx::query!(
            "SELECT 1 AS one FROM settlement_drafts WHERE tenant_id = $1 AND period = $2 FOR UPDATE",
            tenant,
            period
        )
        .fetch_optional(conn)
        .await?;
    }
    Ok(row)
}

/// Every draft or review of the tenant (the period list).
pub async fn drafts(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Vec<DraftRow>> {
    sqlx::query_as!(
        DraftRow,
        r#"SELECT d.id, d.period, d.state, d.settlement_currency AS "settlement_currency: Currency",
                  d.total_seller, d.total_creators, d.missing_rates, d.line_count,
                  d.carried, d.computed_by_label, d.computed_at, d.sent_to_review_by,
                  u.email AS "sent_to_review_label?", d.sent_to_review_at
             FROM settlement_drafts d LEFT JOIN users u ON u.id = d.sent_to_review_by
            WHERE d.tenant_id = $1 ORDER BY d.period"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

/// A line as stored (draft or finalized; a draft's rate is None while missing).
#[derive(Debug, Clone)]
pub struct LineRow {
    pub id: Uuid,
    pub collaboration_id: Uuid,
    pub contract_version: i32,
    pub component: String,
    pub payer: String,
    pub payee: String,
    pub payable: bool,
    pub platform_paid: bool,
    pub currency: Currency,
    pub amount: Decimal,
    pub rate: Option<Decimal>,
    pub converted: Option<Decimal>,
    pub reason: Option<String>,
    pub origin: serde_json::Value,
}

/// A draft's totals and state as computed now.
pub struct DraftTotals<'a> {
    pub period: Date,
    pub settlement_currency: Currency,
    pub totals: Option<(Decimal, Decimal)>,
    pub missing: &'a [String],
    pub carried: serde_json::Value,
}

/// Writes the period's draft afresh (state `draft`, its lines replaced); returns its id.
pub async fn replace_draft(
    conn: &mut PgConnection,
    tenant: Uuid,
    d: &DraftTotals<'_>,
    lines: &[LineRow],
    by: (Option<Uuid>, &str),
) -> sqlx::Result<Uuid> {
    let id = sqlx::query_scalar!(
        "INSERT INTO settlement_drafts (tenant_id, id, period, state, settlement_currency, \
         total_seller, total_creators, missing_rates, line_count, computed_by, computed_by_label, \
         carried) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id, period) DO UPDATE SET state = 'draft', \
           settlement_currency = EXCLUDED.settlement_currency, \
           total_seller = EXCLUDED.total_seller, total_creators = EXCLUDED.total_creators, \
           missing_rates = EXCLUDED.missing_rates, line_count = EXCLUDED.line_count, \
           carried = EXCLUDED.carried, \
           computed_by = EXCLUDED.computed_by, computed_by_label = EXCLUDED.computed_by_label, \
           computed_at = clock_timestamp(), sent_to_review_by = NULL, sent_to_review_at = NULL \
         RETURNING id",
        tenant,
        Uuid::now_v7(),
        d.period,
        d.settlement_currency.code(),
        d.totals.map(|t| t.0),
        d.totals.map(|t| t.1),
        d.missing,
        lines.len() as i32,
        by.0,
        by.1,
        d.carried,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM settlement_draft_lines WHERE tenant_id = $1 AND draft_id = $2",
        tenant,
        id
    )
    .execute(&mut *conn)
    .await?;
    insert_lines(conn, tenant, Target::Draft(id), lines).await?;
    Ok(id)
}

enum Target {
    Draft(Uuid),
    Settlement(Uuid),
}

/// Inserts lines in one statement per thousand (UNNEST of parallel arrays).
async fn insert_lines(
    conn: &mut PgConnection,
    tenant: Uuid,
    target: Target,
    lines: &[LineRow],
) -> sqlx::Result<()> {
    for chunk in lines.chunks(1_000) {
        let ids: Vec<Uuid> = chunk.iter().map(|l| l.id).collect();
        let collabs: Vec<Uuid> = chunk.iter().map(|l| l.collaboration_id).collect();
        let versions: Vec<i32> = chunk.iter().map(|l| l.contract_version).collect();
        let components: Vec<String> = chunk.iter().map(|l| l.component.clone()).collect();
        let payers: Vec<String> = chunk.iter().map(|l| l.payer.clone()).collect();
        let payees: Vec<String> = chunk.iter().map(|l| l.payee.clone()).collect();
        let payable: Vec<bool> = chunk.iter().map(|l| l.payable).collect();
        let platform: Vec<bool> = chunk.iter().map(|l| l.platform_paid).collect();
        let currencies: Vec<String> = chunk.iter().map(|l| l.currency.code().into()).collect();
        let amounts: Vec<Decimal> = chunk.iter().map(|l| l.amount).collect();
        let rates: Vec<Option<Decimal>> = chunk.iter().map(|l| l.rate).collect();
        let converted: Vec<Option<Decimal>> = chunk.iter().map(|l| l.converted).collect();
        let reasons: Vec<Option<String>> = chunk.iter().map(|l| l.reason.clone()).collect();
        let origins: Vec<serde_json::Value> = chunk.iter().map(|l| l.origin.clone()).collect();
        // One statement for both tables (the macro pastes the table's head before the rest).
        macro_rules! insert {
            ($head:literal, $parent:expr) => {
                sqlx::query!(
                    $head
                        + "id, collaboration_id, \
                     contract_version, component, payer, payee, payable, platform_paid, currency, \
                     amount, rate, converted, reason, origin) \
                     SELECT $1, $2, * FROM UNNEST($3::uuid[], $4::uuid[], $5::int4[], $6::text[], \
                       $7::text[], $8::text[], $9::bool[], $10::bool[], $11::text[], \
                       $12::numeric[], $13::numeric[], $14::numeric[], $15::text[], $16::jsonb[])",
                    tenant,
                    $parent,
                    &ids,
                    &collabs,
                    &versions,
                    &components,
                    &payers,
                    &payees,
                    &payable,
                    &platform,
                    &currencies,
                    &amounts,
                    &rates as &[Option<Decimal>],
                    &converted as &[Option<Decimal>],
                    &reasons as &[Option<String>],
                    &origins,
                )
                .execute(&mut *conn)
                .await?
            };
        }
        match target {
            Target::Draft(draft) => {
                insert!(
                    "INSERT INTO settlement_draft_lines (tenant_id, draft_id, ",
                    draft
                )
            }
            Target::Settlement(settlement) => {
                insert!(
                    "INSERT INTO settlement_lines (tenant_id, settlement_id, ",
                    settlement
                )
            }
        };
    }
    Ok(())
}

/// The period of the draft a draft line belongs to.
pub async fn draft_period_of_line(
    conn: &mut PgConnection,
    tenant: Uuid,
    line: Uuid,
) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar!(
        "SELECT d.period FROM settlement_draft_lines l \
           JOIN settlement_drafts d ON d.tenant_id = l.tenant_id AND d.id = l.draft_id \
          WHERE l.tenant_id = $1 AND l.id = $2",
        tenant,
        line
    )
    .fetch_optional(conn)
    .await
}

pub async fn draft_lines(
    conn: &mut PgConnection,
    tenant: Uuid,
    draft: Uuid,
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as!(
        LineRow,
        r#"SELECT id, collaboration_id, contract_version, component, payer, payee, payable,
                  platform_paid, currency AS "currency: Currency", amount, rate, converted,
                  reason, origin
             FROM settlement_draft_lines WHERE tenant_id = $1 AND draft_id = $2 ORDER BY id"#,
        tenant,
        draft,
    )
    .fetch_all(conn)
    .await
}

/// Moves a draft to review (the maker) or back to draft.
pub async fn set_draft_state(
    conn: &mut PgConnection,
    tenant: Uuid,
    draft: Uuid,
    review_by: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE settlement_drafts SET state = CASE WHEN $3::uuid IS NULL THEN 'draft' ELSE 'review' END, \
         sent_to_review_by = $3, sent_to_review_at = CASE WHEN $3::uuid IS NULL THEN NULL \
         ELSE clock_timestamp() END WHERE tenant_id = $1 AND id = $2",
        tenant,
        draft,
        review_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_draft(conn: &mut PgConnection, tenant: Uuid, draft: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM settlement_drafts WHERE tenant_id = $1 AND id = $2",
        tenant,
        draft
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Finalized

/// A finalized settlement as stored.
#[derive(Debug, Clone)]
pub struct SettlementRow {
    pub id: Uuid,
    pub period: Date,
    pub settlement_currency: Currency,
    pub rates: serde_json::Value,
    pub total_seller: Decimal,
    pub total_creators: Decimal,
    pub line_count: i32,
    pub sent_to_review_by: Uuid,
    pub sent_to_review_label: String,
    pub finalized_by: Uuid,
    pub finalized_by_label: String,
    pub finalized_at: OffsetDateTime,
    pub previous_hash: String,
    pub hash: String,
    /// Sum of the payments against it.
    pub paid: Decimal,
}

pub async fn settlements(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> sqlx::Result<Vec<SettlementRow>> {
    sqlx::query_as!(
        SettlementRow,
        r#"SELECT s.id, s.period, s.settlement_currency AS "settlement_currency: Currency", s.rates,
                  s.total_seller, s.total_creators, s.line_count, s.sent_to_review_by,
                  u.email AS sent_to_review_label, s.finalized_by, s.finalized_by_label,
                  s.finalized_at, s.previous_hash, s.hash,
                  COALESCE((SELECT sum(p.amount) FROM settlement_payments p
                             WHERE p.tenant_id = s.tenant_id AND p.settlement_id = s.id), 0)
                      AS "paid!"
             FROM settlements s JOIN users u ON u.id = s.sent_to_review_by
            WHERE s.tenant_id = $1 ORDER BY s.period"#,
        tenant,
    )
    .fetch_all(conn)
    .await
}

pub async fn settlement(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<SettlementRow>> {
    sqlx::query_as!(
        SettlementRow,
        r#"SELECT s.id, s.period, s.settlement_currency AS "settlement_currency: Currency", s.rates,
                  s.total_seller, s.total_creators, s.line_count, s.sent_to_review_by,
                  u.email AS sent_to_review_label, s.finalized_by, s.finalized_by_label,
                  s.finalized_at, s.previous_hash, s.hash,
                  COALESCE((SELECT sum(p.amount) FROM settlement_payments p
                             WHERE p.tenant_id = s.tenant_id AND p.settlement_id = s.id), 0)
                      AS "paid!"
             FROM settlements s JOIN users u ON u.id = s.sent_to_review_by
            WHERE s.tenant_id = $1 AND s.id = $2"#,
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// The tenant's finalized settlement of a period, if any.
pub async fn settlement_of(
    conn: &mut PgConnection,
    tenant: Uuid,
    period: Date,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM settlements WHERE tenant_id = $1 AND period = $2",
        tenant,
        period
    )
    .fetch_optional(conn)
    .await
}

/// Locks the tenant's row (so two finalizations cannot fork the hash chain) and returns its
/// latest finalized settlement: (period, hash).
pub async fn lock_chain(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> sqlx::Result<Option<(Date, String)>> {
    sqlx::query!("SELECT id FROM tenants WHERE id = $1 FOR UPDATE", tenant)
        .fetch_one(&mut *conn)
        .await?;
    let row = sqlx::query!(
        "SELECT period, hash FROM settlements WHERE tenant_id = $1 ORDER BY period DESC LIMIT 1",
        tenant
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.period, r.hash)))
}

/// Whether a settlement of the tenant was finalized after `since` (a draft computed before it
/// subtracts too little).
pub async fn finalized_since(
    conn: &mut PgConnection,
    tenant: Uuid,
    since: OffsetDateTime,
) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM settlements WHERE tenant_id = $1 AND finalized_at > $2)
               AS "found!""#,
        tenant,
        since
    )
    .fetch_one(conn)
    .await?;
    Ok(found)
}

/// The latest finalized period of each tenant, for the console's list.
pub async fn latest_finalized(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar!(
        r#"SELECT max(period) AS "p" FROM settlements WHERE tenant_id = $1"#,
        tenant
    )
    .fetch_one(conn)
    .await
}

/// The previous finalized settlement's hash before `period` ("" for none).
pub async fn previous_hash(
    conn: &mut PgConnection,
    tenant: Uuid,
    period: Date,
) -> sqlx::Result<String> {
    let hash = sqlx::query_scalar!(
        "SELECT hash FROM settlements WHERE tenant_id = $1 AND period < $2 \
         ORDER BY period DESC LIMIT 1",
        tenant,
        period
    )
    .fetch_optional(conn)
    .await?;
    Ok(hash.unwrap_or_default())
}

pub struct NewSettlement<'a> {
    pub id: Uuid,
    pub period: Date,
    pub settlement_currency: Currency,
    pub rates: serde_json::Value,
    pub totals: (Decimal, Decimal),
    pub sent_to_review_by: Uuid,
    pub finalized_by: (Uuid, &'a str),
    pub finalized_at: OffsetDateTime,
    pub previous_hash: &'a str,
    pub hash: &'a str,
}

/// INSERTs the finalized settlement and its lines (the only way they are ever written).
pub async fn insert_settlement(
    conn: &mut PgConnection,
    tenant: Uuid,
    s: &NewSettlement<'_>,
    lines: &[LineRow],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO settlements (tenant_id, id, period, settlement_currency, rates, total_seller, \
         total_creators, line_count, sent_to_review_by, finalized_by, finalized_by_label, \
         finalized_at, previous_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        tenant,
        s.id,
        s.period,
        s.settlement_currency.code(),
        s.rates,
        s.totals.0,
        s.totals.1,
        lines.len() as i32,
        s.sent_to_review_by,
        s.finalized_by.0,
        s.finalized_by.1,
        s.finalized_at,
        s.previous_hash,
        s.hash,
    )
    .execute(&mut *conn)
    .await?;
    insert_lines(conn, tenant, Target::Settlement(s.id), lines).await
}

pub async fn settlement_lines(
    conn: &mut PgConnection,
    tenant: Uuid,
    settlement: Uuid,
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as!(
        LineRow,
        r#"SELECT id, collaboration_id, contract_version, component, payer, payee, payable,
                  platform_paid, currency AS "currency: Currency", amount,
                  rate AS "rate?", converted AS "converted?",
                  reason, origin
             FROM settlement_lines WHERE tenant_id = $1 AND settlement_id = $2 ORDER BY id"#,
        tenant,
        settlement,
    )
    .fetch_all(conn)
    .await
}

/// One line of a settlement (finalized or draft) with where it belongs.
pub async fn line(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(LineRow, Option<Uuid>)>> {
    let finalized = sqlx::query_as!(
        LineRow,
        r#"SELECT id, collaboration_id, contract_version, component, payer, payee, payable,
                  platform_paid, currency AS "currency: Currency", amount,
                  rate AS "rate?", converted AS "converted?",
                  reason, origin
             FROM settlement_lines WHERE tenant_id = $1 AND id = $2"#,
        tenant,
        id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(l) = finalized {
        let settlement = sqlx::query_scalar!(
            "SELECT settlement_id FROM settlement_lines WHERE tenant_id = $1 AND id = $2",
            tenant,
            id
        )
        .fetch_one(conn)
        .await?;
        return Ok(Some((l, Some(settlement))));
    }
    let draft = sqlx::query_as!(
        LineRow,
        r#"SELECT id, collaboration_id, contract_version, component, payer, payee, payable,
                  platform_paid, currency AS "currency: Currency", amount, rate, converted,
                  reason, origin
             FROM settlement_draft_lines WHERE tenant_id = $1 AND id = $2"#,
        tenant,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(draft.map(|l| (l, None)))
}

/// A payment against a finalized settlement.
pub struct PaymentRow {
    pub id: Uuid,
    pub paid_on: Date,
    pub amount: Decimal,
    pub reference: String,
    pub recorded_by_label: String,
    pub recorded_at: OffsetDateTime,
}

pub async fn payments(
    conn: &mut PgConnection,
    tenant: Uuid,
    settlement: Uuid,
) -> sqlx::Result<Vec<PaymentRow>> {
    sqlx::query_as!(
        PaymentRow,
        "SELECT id, paid_on, amount, reference, recorded_by_label, recorded_at \
           FROM settlement_payments WHERE tenant_id = $1 AND settlement_id = $2 \
          ORDER BY paid_on, recorded_at",
        tenant,
        settlement,
    )
    .fetch_all(conn)
    .await
}

pub struct NewPayment<'a> {
    pub settlement: Uuid,
    pub paid_on: Date,
    pub amount: Decimal,
    pub reference: &'a str,
}

pub async fn insert_payment(
    conn: &mut PgConnection,
    tenant: Uuid,
    p: &NewPayment<'_>,
    by: (Option<Uuid>, &str),
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO settlement_payments (tenant_id, id, settlement_id, paid_on, amount, \
         reference, recorded_by, recorded_by_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant,
        id,
        p.settlement,
        p.paid_on,
        p.amount,
        p.reference,
        by.0,
        by.1,
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// Locks a finalized settlement's payments (two payments racing cannot both pass the "not above
/// what is due" check): the settlement row is read FOR SHARE… of its tenant row.
pub async fn lock_payments(conn: &mut PgConnection, tenant: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
        tenant
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Moves the tenant's rated collaborations with lines in a settlement to `settled`; returns them.
pub async fn rated_in(
    conn: &mut PgConnection,
    tenant: Uuid,
    settlement: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT DISTINCT c.id FROM collaborations c \
           JOIN settlement_lines l ON l.tenant_id = c.tenant_id AND l.collaboration_id = c.id \
          WHERE c.tenant_id = $1 AND l.settlement_id = $2 AND c.state = 'rated'",
        tenant,
        settlement,
    )
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

/// A TikTok Shop order line paid in the period, as reconciliation reads it.
pub struct ReconRow {
    pub order_key: String,
    pub collaboration_id: Option<Uuid>,
    pub handle: Option<String>,
    pub currency: Currency,
    pub base: Decimal,
    pub export_rate: Option<Decimal>,
    pub actual: Option<Decimal>,
    pub fully_refunded: bool,
}

pub async fn reconciliation_rows(
    conn: &mut PgConnection,
    tenant: Uuid,
    b: Bounds,
) -> sqlx::Result<Vec<ReconRow>> {
    sqlx::query_as!(
        ReconRow,
        r#"WITH cur AS (
             SELECT DISTINCT ON (l.shop_id, l.order_key, l.line_key)
                    l.shop_id, l.order_key, l.line_key, l.currency, l.amount, l.fully_refunded,
                    l.actual_commission_base, l.est_commission_base, l.actual_commission,
                    l.commission_rate, l.paid_at
               FROM order_lines l
               JOIN order_imports i ON i.tenant_id = l.tenant_id AND i.id = l.import_id
                    AND i.state = 'imported' AND i.format = 'tiktok_affiliate'
              WHERE l.tenant_id = $1
              ORDER BY l.shop_id, l.order_key, l.line_key, l.exported_at DESC, i.created_at DESC
           )
           SELECT o.order_key, a.collaboration_id AS "collaboration_id?", cr.handle AS "handle?",
                  o.currency AS "currency: Currency",
                  CASE WHEN o.fully_refunded THEN 0
                       ELSE COALESCE(o.actual_commission_base, o.est_commission_base, o.amount)
                  END AS "base!",
                  o.commission_rate AS export_rate, o.actual_commission AS actual,
                  o.fully_refunded
             FROM cur o
             LEFT JOIN order_attributions a ON a.tenant_id = $1 AND a.shop_id = o.shop_id
                  AND a.order_key = o.order_key AND a.line_key = o.line_key
             LEFT JOIN collaborations c ON c.tenant_id = $1 AND c.id = a.collaboration_id
             LEFT JOIN creators cr ON cr.id = c.creator_id
            WHERE o.paid_at >= $2 AND o.paid_at < $3
            ORDER BY o.order_key, o.line_key"#,
        tenant,
        b.start,
        b.end,
    )
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Exports and origins

/// Which lines an export reads.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Settlement(Uuid),
    Draft(Uuid),
}

/// A page of a settlement's or draft's lines after `after` (by id), without their origins.
pub async fn line_page(
    conn: &mut PgConnection,
    tenant: Uuid,
    source: Source,
    after: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<LineRow>> {
    match source {
        Source::Settlement(id) => {
            sqlx::query_as!(
                LineRow,
                r#"SELECT id, collaboration_id, contract_version, component, payer, payee, payable,
                          platform_paid, currency AS "currency: Currency", amount,
                          rate AS "rate?", converted AS "converted?", reason,
                          'null'::jsonb AS "origin!"
                     FROM settlement_lines
                    WHERE tenant_id = $1 AND settlement_id = $2 AND id > $3
                    ORDER BY id LIMIT $4"#,
                tenant,
                id,
                after,
                limit,
            )
            .fetch_all(conn)
            .await
        }
        Source::Draft(id) => {
            sqlx::query_as!(
                LineRow,
                r#"SELECT id, collaboration_id, contract_version, component, payer, payee, payable,
                          platform_paid, currency AS "currency: Currency", amount, rate, converted,
                          reason, 'null'::jsonb AS "origin!"
                     FROM settlement_draft_lines
                    WHERE tenant_id = $1 AND draft_id = $2 AND id > $3
                    ORDER BY id LIMIT $4"#,
                tenant,
                id,
                after,
                limit,
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// A creator's line in a tenant's finalized settlement (what the agency pays the creator).
pub struct CreatorLine {
    pub id: Uuid,
    pub tenant: String,
    pub period: Date,
    pub campaign: String,
    pub handle: String,
    pub component: String,
    pub payer: String,
    pub payee: String,
    pub payable: bool,
    pub currency: Currency,
    pub amount: Decimal,
    pub rate: Decimal,
    pub converted: Decimal,
    pub settlement_currency: Currency,
    pub reason: Option<String>,
    pub hash: String,
    pub total_seller: Decimal,
    pub paid: Decimal,
}

/// A page of a creator's payable lines (fixed fee, commission through the agency, deductions,
/// across every tenant) in the finalized settlements of `period`, after `after` by id.
pub async fn creator_page(
    conn: &mut PgConnection,
    creator: Uuid,
    period: Date,
    after: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<CreatorLine>> {
    sqlx::query_as!(
        CreatorLine,
        r#"SELECT l.id, t.display_name AS tenant, s.period, COALESCE(cp.code, cp.title) AS "campaign!",
                  cr.handle, l.component, l.payer, l.payee, l.payable,
                  l.currency AS "currency: Currency", l.amount, l.rate, l.converted,
                  s.settlement_currency AS "settlement_currency: Currency", l.reason, s.hash,
                  s.total_seller,
                  COALESCE((SELECT sum(p.amount) FROM settlement_payments p
                             WHERE p.tenant_id = s.tenant_id AND p.settlement_id = s.id), 0)
                      AS "paid!"
             FROM settlement_lines l
             JOIN settlements s ON s.tenant_id = l.tenant_id AND s.id = l.settlement_id
             JOIN tenants t ON t.id = l.tenant_id
             JOIN collaborations c ON c.tenant_id = l.tenant_id AND c.id = l.collaboration_id
             JOIN campaigns cp ON cp.tenant_id = c.tenant_id AND cp.id = c.campaign_id
             JOIN creators cr ON cr.id = c.creator_id
            WHERE c.creator_id = $1 AND s.period = $2 AND l.payable
              AND (l.payee = 'creator' OR l.payer = 'creator') AND l.id > $3
            ORDER BY l.id LIMIT $4"#,
        creator,
        period,
        after,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// What the agency owes each creator for a month, per currency, across tenants (finalized
/// settlements only).
pub struct Payout {
    pub creator_id: Uuid,
    pub handle: String,
    pub currency: Currency,
    pub fixed_fee: Decimal,
    pub commission: Decimal,
    pub deductions: Decimal,
    pub total: Decimal,
    pub tenants: i64,
}

pub async fn payouts(conn: &mut PgConnection, period: Date) -> sqlx::Result<Vec<Payout>> {
    sqlx::query_as!(
        Payout,
        r#"SELECT c.creator_id, cr.handle, l.currency AS "currency: Currency",
                  COALESCE(sum(l.amount) FILTER (WHERE l.component = 'fixed_fee'), 0) AS "fixed_fee!",
                  COALESCE(sum(l.amount) FILTER (WHERE l.component = 'commission'), 0) AS "commission!",
                  COALESCE(sum(l.amount) FILTER (WHERE l.component = 'deduction'), 0) AS "deductions!",
                  sum(l.amount) AS "total!", count(DISTINCT l.tenant_id) AS "tenants!"
             FROM settlement_lines l
             JOIN settlements s ON s.tenant_id = l.tenant_id AND s.id = l.settlement_id
             JOIN collaborations c ON c.tenant_id = l.tenant_id AND c.id = l.collaboration_id
             JOIN creators cr ON cr.id = c.creator_id
            WHERE s.period = $1 AND l.payable AND (l.payee = 'creator' OR l.payer = 'creator')
            GROUP BY c.creator_id, cr.handle, l.currency
            ORDER BY cr.handle, 3"#,
        period,
    )
    .fetch_all(conn)
    .await
}

/// A creator by id (the payout export's subject).
pub async fn creator_handle(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT handle FROM creators WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

/// A post a fixed fee line points at.
pub struct OriginPost {
    pub id: Uuid,
    pub url: String,
    pub published_at: OffsetDateTime,
}

/// An import batch a commission line points at.
pub struct OriginImport {
    pub id: Uuid,
    pub filename: String,
    pub format: Option<String>,
    pub exported_at: OffsetDateTime,
    pub state: String,
    pub rows_good: i64,
}

/// A fulfilment record a deduction line points at.
pub struct OriginRecord {
    pub id: Uuid,
    pub kind: String,
    pub severity: String,
    pub note: String,
    pub money_amount: Option<Decimal>,
    pub money_currency: Option<String>,
    pub money_percent: Option<Decimal>,
    pub recorded_by_label: String,
    pub recorded_at: OffsetDateTime,
}

pub async fn origin_posts(
    conn: &mut PgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<OriginPost>> {
    sqlx::query_as!(
        OriginPost,
        "SELECT id, url, published_at FROM posts WHERE tenant_id = $1 AND id = ANY($2) \
          ORDER BY published_at",
        tenant,
        ids,
    )
    .fetch_all(conn)
    .await
}

pub async fn origin_imports(
    conn: &mut PgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<OriginImport>> {
    sqlx::query_as!(
        OriginImport,
        "SELECT i.id, u.filename, i.format, i.exported_at, i.state, i.rows_good \
           FROM order_imports i JOIN uploads u ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
          WHERE i.tenant_id = $1 AND i.id = ANY($2) ORDER BY i.exported_at",
        tenant,
        ids,
    )
    .fetch_all(conn)
    .await
}

pub async fn origin_records(
    conn: &mut PgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<OriginRecord>> {
    sqlx::query_as!(
        OriginRecord,
        "SELECT id, kind, severity, note, money_amount, money_currency::text AS money_currency, \
                money_percent, recorded_by_label, recorded_at \
           FROM fulfilment_records WHERE tenant_id = $1 AND id = ANY($2) ORDER BY recorded_at",
        tenant,
        ids,
    )
    .fetch_all(conn)
    .await
}

/// The contract version a line was computed under.
pub async fn contract_terms(
    conn: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    version: i32,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        "SELECT terms FROM contract_versions WHERE tenant_id = $1 AND collaboration_id = $2 \
            AND version = $3",
        tenant,
        collaboration,
        version,
    )
    .fetch_optional(conn)
    .await
}
