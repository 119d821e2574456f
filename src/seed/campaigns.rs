//! Demo campaigns: one in every state for each working demo tenant, with shortlists (scores
//! frozen), decisions and collaborations where the state has them. Idempotent: a campaign with
//! the same demo title is left as it is.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::campaigns::domain::{CampaignInput, parse_draft};
use crate::contracts::domain::{self as contracts, TermsInput};
use crate::matching::domain::{self as matching, Weights};
use crate::matching::repo::{ReferenceRates, ask_of, candidates};

/// (state, title, how many creators to shortlist, approved, with collaborations (state))
const PLAN: &[(&str, &str, usize, usize, Option<&str>)] = &[
    ("draft", "新品空气炸锅 · 草稿 / Air fryer draft", 0, 0, None),
    ("submitted", "春季收纳节 / Spring storage week", 0, 0, None),
    (
        "matching",
        "厨房小家电夏季推广 / Kitchen summer push",
        0,
        0,
        None,
    ),
    (
        "shortlist_sent",
        "黑五预热 / Black Friday warm-up",
        3,
        0,
        None,
    ),
    (
        "contracting",
        "圣诞礼盒 / Christmas gift box",
        3,
        2,
        Some("proposed"),
    ),
    (
        "running",
        "新年焕新 / New year refresh",
        3,
        2,
        Some("accepted"),
    ),
    (
        "evaluating",
        "情人节限定 / Valentine's edition",
        2,
        2,
        Some("published"),
    ),
    ("closed", "去年双十一 / Last 11.11", 2, 2, Some("rated")),
    (
        "cancelled",
        "取消的直播专场 / Cancelled LIVE special",
        0,
        0,
        None,
    ),
];

fn input(tenant_slug: &str, shop: Uuid, title: &str, markets: &[&str], n: usize) -> CampaignInput {
    let today = time::OffsetDateTime::now_utc().date();
    let from = today + time::Duration::days(14 + n as i64);
    let to = from + time::Duration::days(30);
    CampaignInput {
        title: title.into(),
        product_name: format!("{} demo product {n}", tenant_slug),
        sku: format!("{}-DEMO-{n:02}", tenant_slug.to_uppercase()),
        product_url: format!("https://shop.{tenant_slug}.invalid/p/{n}"),
        category: if tenant_slug == "lumi" {
            "home_kitchen".into()
        } else {
            "outdoor".into()
        },
        unit_price: "49.90".into(),
        unit_currency: "USD".into(),
        shop_id: shop.to_string(),
        markets: markets.iter().map(|m| m.to_string()).collect(),
        languages: vec!["en".into()],
        format: "short_video".into(),
        creators_wanted: "5".into(),
        followers_min: "10K".into(),
        followers_max: "800K".into(),
        budget_min: "3000".into(),
        budget_max: "12000".into(),
        budget_currency: "USD".into(),
        fee_cap: "1500".into(),
        fee_cap_currency: "USD".into(),
        commission_rate: "12".into(),
        age_buckets: vec!["25-34".into(), "35-44".into()],
        gender: String::new(),
        interests: vec![],
        styles: vec!["real_shot".into(), "tutorial".into()],
        script_source: "agency".into(),
        creative_freedom: "1".into(),
        publish_from: from.to_string(),
        publish_to: to.to_string(),
        sample_needed: "1".into(),
        ship_from: "Shenzhen / 深圳".into(),
        roi_target: "2.5".into(),
        gmv_target: "30000".into(),
        views_target: "500K".into(),
        ctr_target: "1.5".into(),
        known_pitfalls:
            "只看首日播放就下结论；达人没挂车。/ Judging on day-one views; missing cart links."
                .into(),
    }
}

/// The states a campaign passes through to reach `target` (SPEC §2's happy path).
fn path_to(target: &str) -> Vec<(&'static str, &'static str, &'static str)> {
    let steps = [
        ("draft", "submitted", "submit"),
        ("submitted", "matching", "start_matching"),
        ("matching", "shortlist_sent", "send_shortlist"),
        ("shortlist_sent", "contracting", "approve_shortlist"),
        ("contracting", "running", "first_contract_accepted"),
        ("running", "evaluating", "all_published_or_ended"),
        ("evaluating", "closed", "all_rated_or_ended"),
    ];
    if target == "cancelled" {
        return vec![
            ("draft", "submitted", "submit"),
            ("submitted", "cancelled", "cancel"),
        ];
    }
    let mut out = Vec::new();
    for s in steps {
        if s.0 == target {
            break;
        }
        out.push(s);
    }
    out
}

pub async fn seed_campaigns(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    tenant_slug: &str,
    owner: Uuid,
    am: Option<Uuid>,
) -> anyhow::Result<()> {
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_id.to_string())
        .execute(&mut *conn)
        .await?;
    let shops: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM shops WHERE tenant_id = $1 ORDER BY name")
            .bind(tenant_id)
            .fetch_all(&mut *conn)
            .await?;
    let Some(&shop) = shops.first() else {
        return Ok(());
    };
    let markets: &[&str] = if tenant_slug == "lumi" {
        &["US", "GB"]
    } else {
        &["US", "DE", "GB"]
    };
    let rates = ReferenceRates::load(&mut *conn).await?;
    let weights = Weights::default();
    let prefix: String = tenant_slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(4)
        .collect::<String>()
        .to_uppercase();
    for (n, (state, title, shortlist, approved, collab)) in PLAN.iter().enumerate() {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND title = $2)",
        )
        .bind(tenant_id)
        .bind(title)
        .fetch_one(&mut *conn)
        .await?;
        if exists {
            continue;
        }
        let form = input(tenant_slug, shop, title, markets, n);
        let campaign = parse_draft(&form, &shops)
            .map_err(|e| anyhow::anyhow!("demo campaign does not parse: {e:?}"))?;
        let id = Uuid::now_v7();
        let code = (*state != "draft").then(|| format!("{prefix}-DEMO-{:02}", n + 1));
        sqlx::query(
            "INSERT INTO campaigns (tenant_id, id, code, state, title, shop_id, markets, data, created_by, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $3 IS NULL THEN NULL ELSE now() END)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&code)
        .bind(state)
        .bind(&campaign.title)
        .bind(campaign.shop_id)
        .bind(&campaign.markets)
        .bind(json!(campaign))
        .bind(owner)
        .execute(&mut *conn)
        .await?;
        for (from, to, transition) in path_to(state) {
            let actor = if matches!(
                transition,
                "start_matching" | "send_shortlist" | "first_contract_accepted"
            ) {
                am.unwrap_or(owner)
            } else {
                owner
            };
            sqlx::query(
                "INSERT INTO campaign_transitions (tenant_id, id, campaign_id, from_state, to_state, transition, actor_id, actor_label, reason) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'sextant seed-demo', $8)",
            )
            .bind(tenant_id)
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(transition)
            .bind(actor)
            .bind((transition == "cancel").then_some("产品延期 / Product delayed"))
            .execute(&mut *conn)
            .await?;
        }
        if *shortlist == 0 {
            continue;
        }
        let ask = ask_of(&campaign);
        let pool = candidates(&mut *conn, tenant_id, id, &ask).await?;
        let ranked = matching::rank(&pool, &ask, &weights, &rates, *shortlist);
        for (i, (creator_id, score)) in ranked.iter().enumerate() {
            let decision = if i < *approved {
                Some("approved")
            } else if *state == "shortlist_sent" {
                None
            } else {
                Some("rejected")
            };
            sqlx::query(
                "INSERT INTO shortlist_entries (tenant_id, id, campaign_id, creator_id, round, note, score, breakdown, \
                   decision, decision_reason, decided_by, decided_at, created_by) \
                 VALUES ($1, $2, $3, $4, 1, $5, $6::numeric, $7, $8, $9, $10, CASE WHEN $8 IS NULL THEN NULL ELSE now() END, $11)",
            )
            .bind(tenant_id)
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(creator_id)
            .bind("受众与品类都很匹配 / Strong audience and category fit")
            .bind(format!("{:.2}", score.total))
            .bind(json!({ "score": score, "weights": weights }))
            .bind(decision)
            .bind((decision == Some("rejected")).then_some("受众偏年轻 / Audience too young"))
            .bind(decision.map(|_| owner))
            .bind(am.unwrap_or(owner))
            .execute(&mut *conn)
            .await?;
            let (Some(collab_state), Some("approved")) = (collab, decision) else {
                continue;
            };
            let handle: String = sqlx::query_scalar("SELECT handle FROM creators WHERE id = $1")
                .bind(creator_id)
                .fetch_one(&mut *conn)
                .await?;
            let deadline = campaign
                .publish_to
                .unwrap_or(time::OffsetDateTime::now_utc().date() + time::Duration::days(40));
            let terms = contracts::validate_terms(
                &TermsInput {
                    fee_model: "fixed_plus_commission".into(),
                    fixed_fee: "600".into(),
                    fixed_fee_currency: "USD".into(),
                    commission_rate: "12".into(),
                    service_fee_rate: "10".into(),
                    videos: "1".into(),
                    live_sessions: "0".into(),
                    publish_deadline: deadline.to_string(),
                    usage_rights: "organic_only".into(),
                    sample_sku: campaign.sku.clone(),
                    sample_qty: "1".into(),
                    discount_code: format!("{}{}", prefix, n * 10 + i),
                    ..Default::default()
                },
                true,
                time::OffsetDateTime::now_utc().date(),
            )
            .map_err(|e| anyhow::anyhow!("demo terms do not validate: {e:?}"))?;
            let collab_id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, link_slug, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant_id)
            .bind(collab_id)
            .bind(id)
            .bind(creator_id)
            .bind(collab_state)
            .bind(&terms.discount_code)
            .bind(contracts::new_link_slug())
            .bind(am.unwrap_or(owner))
            .execute(&mut *conn)
            .await?;
            sqlx::query("INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, created_by) VALUES ($1, $2, 1, $3, $4)")
                .bind(tenant_id)
                .bind(collab_id)
                .bind(json!(terms))
                .bind(am.unwrap_or(owner))
                .execute(&mut *conn)
                .await?;
            let _ = handle;
        }
    }
    Ok(())
}
