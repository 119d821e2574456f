//! Demo campaigns: one in every state for each working demo tenant, with shortlists (scores
//! frozen), decisions and collaborations where the state has them. Idempotent: a campaign with
//! the same demo title is left as it is.
//!
//! The closed campaign ([`CLOSED_TITLE`]) is left here in evaluating, its collaborations waiting
//! for their ratings (their posts are old enough for the evaluation window to be final);
//! `seed::ratings` rates them through the rating actions, which close it.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::{Actor, CurrentUser};
use crate::campaigns::actions::{
    self as campaigns, ApproveShortlist, DecideEntry, MoveCampaign, SaveCampaign,
};
use crate::campaigns::domain::{CampaignInput, Decision, Transition};
use crate::campaigns::repo as campaign_repo;
use crate::contracts::actions::{
    self as contracts, CreateCollaboration, RecordCollaborationEvent, TransitionCollaboration,
};
use crate::contracts::domain::{ContractEvent, TermsInput};
use crate::error::DomainError;
use crate::matching::actions::{self as matching_actions, Pick, SendShortlist};
use crate::matching::domain as matching;
use crate::matching::repo::{self as matching_repo, ReferenceRates, ask_of, candidates};
use crate::tenants::{Access, Tenant};

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
    ("closed", CLOSED_TITLE, 2, 2, Some("evaluating")),
    (
        "cancelled",
        "取消的直播专场 / Cancelled LIVE special",
        0,
        0,
        None,
    ),
];

/// The demo campaign that ends closed once `seed::ratings` has rated its collaborations.
pub const CLOSED_TITLE: &str = "去年双十一 / Last 11.11";

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

/// The demo people who act on a tenant's campaigns: its owner, and the account manager (or the
/// owner again where there is none).
pub struct Cast {
    pub owner: Actor,
    pub am: Actor,
}

impl Cast {
    pub async fn of(
        conn: &mut PgConnection,
        tenant_id: Uuid,
        owner: &CurrentUser,
        am: Option<&CurrentUser>,
    ) -> anyhow::Result<Cast> {
        let tenant = sqlx::query_as::<_, Tenant>(
            "SELECT id, slug, display_name, legal_name, status, time_zone, \
             settlement_currency::text AS settlement_currency, profile_completed_at, status_reason \
             FROM tenants WHERE id = $1",
        )
        .bind(tenant_id)
        .fetch_one(&mut *conn)
        .await?;
        Ok(Cast {
            owner: Actor::in_tenant(owner, tenant.clone(), Access::Owner),
            am: match am {
                Some(am) => Actor::in_tenant(am, tenant, Access::AccountManager),
                None => Actor::in_tenant(owner, tenant, Access::Owner),
            },
        })
    }
}

/// A demo step that the product's own rules must accept; a refusal is a bug in the demo plan.
pub(super) fn step<T>(what: &str, r: Result<T, DomainError>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("demo: {what} was refused: {e:?}"))
}

/// The collaboration events that take a new (proposed) collaboration to `target`.
fn events_to(target: &str) -> Vec<ContractEvent> {
    let path = [
        ("accepted", ContractEvent::CreatorAccepted),
        (
            "sample_shipped",
            ContractEvent::SampleShipped {
                carrier: "SF Express".into(),
                tracking_number: "SF1234567890".into(),
            },
        ),
        ("sample_delivered", ContractEvent::SampleDelivered),
        ("published", ContractEvent::PostAdded),
        ("tracking", ContractEvent::TrackingStarted),
        ("evaluating", ContractEvent::WindowFinal),
    ];
    let mut out = Vec::new();
    if target == "proposed" {
        return out;
    }
    for (state, event) in path {
        out.push(event);
        if state == target {
            break;
        }
    }
    out
}

/// Seeds one tenant's demo campaigns through the product's own actions, as its people would:
/// the owner drafts and submits each request, the account manager starts matching and sends the
/// shortlist, the owner decides and goes ahead, the account manager writes terms and records the
/// creators' answers. Every step is checked by the same rules and audited like a person's; only
/// the demo's fixed campaign codes (`LUMI-DEMO-05`) are set before submitting.
pub async fn seed_campaigns(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    tenant_slug: &str,
    cast: &Cast,
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
    let weights = matching_repo::current_weights(&mut *conn).await?;
    let prefix: String = tenant_slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let (owner, am) = (&cast.owner, &cast.am);
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
        let id = step(
            "saving the request",
            campaigns::save_campaign(
                conn,
                owner,
                SaveCampaign {
                    campaign_id: None,
                    input: form,
                    submit: false,
                },
            )
            .await,
        )?;
        if *state == "draft" {
            continue;
        }
        // The demo's codes are fixed (pages and tests name them); submitting keeps a set code.
        let code = format!("{prefix}-DEMO-{:02}", n + 1);
        campaign_repo::set_code(conn, tenant_id, id, &code).await?;
        let submitted = campaigns::save_campaign(
            conn,
            owner,
            SaveCampaign {
                campaign_id: Some(id),
                input: input(tenant_slug, shop, title, markets, n),
                submit: true,
            },
        )
        .await;
        step("submitting the request", submitted)?;
        let move_by = |t: Transition, reason: &str| MoveCampaign {
            campaign_id: id,
            transition: t,
            reason: reason.to_string(),
        };
        if *state == "cancelled" {
            let moved = campaigns::move_campaign(
                conn,
                owner,
                move_by(Transition::Cancel, "产品延期 / Product delayed"),
            )
            .await;
            step("cancelling", moved)?;
            continue;
        }
        if *state == "submitted" {
            continue;
        }
        let moved =
            campaigns::move_campaign(conn, am, move_by(Transition::StartMatching, "")).await;
        step("starting matching", moved)?;
        if *shortlist == 0 {
            continue;
        }
        let row = campaign_repo::get(conn, tenant_id, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo campaign {id} vanished"))?;
        let campaign = row.campaign();
        let ask = ask_of(&campaign);
        let pool = candidates(&mut *conn, tenant_id, id, &ask).await?;
        let ranked = matching::rank(&pool, &ask, &weights, &rates, *shortlist);
        let picks = ranked
            .iter()
            .map(|(creator_id, _)| Pick {
                creator_id: *creator_id,
                note: "受众与品类都很匹配 / Strong audience and category fit".into(),
            })
            .collect();
        let sent = matching_actions::send_shortlist(
            conn,
            am,
            SendShortlist {
                campaign_id: id,
                picks,
            },
        )
        .await;
        let sent = step("sending the shortlist", sent)?;
        if *state == "shortlist_sent" {
            continue;
        }
        let entries: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT id, creator_id FROM shortlist_entries WHERE tenant_id = $1 AND campaign_id = $2",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut approved_entries = Vec::new();
        for (i, creator_id) in sent.creators.iter().enumerate() {
            let Some(&(entry_id, _)) = entries.iter().find(|(_, c)| c == creator_id) else {
                continue;
            };
            let (decision, reason) = if i < *approved {
                approved_entries.push((i, entry_id));
                (Decision::Approve, "")
            } else {
                (Decision::Reject, "受众偏年轻 / Audience too young")
            };
            let decided = campaigns::decide_entry(
                conn,
                owner,
                DecideEntry {
                    campaign_id: id,
                    entry_id,
                    decision: Some(decision),
                    reason: reason.into(),
                },
            )
            .await;
            step("deciding on a creator", decided)?;
        }
        let went_ahead =
            campaigns::approve_shortlist(conn, owner, ApproveShortlist { campaign_id: id }).await;
        step("going ahead with the shortlist", went_ahead)?;
        let Some(collab_state) = collab else {
            continue;
        };
        let deadline = campaign
            .publish_to
            .unwrap_or(time::OffsetDateTime::now_utc().date() + time::Duration::days(40));
        let mut collaborations = Vec::new();
        for (i, entry_id) in approved_entries {
            let terms = TermsInput {
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
            };
            let created = contracts::create_collaboration(
                conn,
                am,
                CreateCollaboration {
                    campaign_id: id,
                    entry_id,
                    terms,
                },
            )
            .await;
            collaborations.push(step("writing terms", created)?);
        }
        for collaboration_id in &collaborations {
            for event in events_to(collab_state) {
                let what = format!("collaboration event {}", event.code());
                if event.is_by_hand() {
                    let recorded = contracts::record_collaboration_event(
                        conn,
                        am,
                        RecordCollaborationEvent {
                            collaboration_id: *collaboration_id,
                            event,
                            reason: String::new(),
                        },
                    )
                    .await;
                    step(&what, recorded)?;
                } else {
                    let moved = contracts::transition_collaboration(
                        conn,
                        am,
                        TransitionCollaboration {
                            collaboration_id: *collaboration_id,
                            event,
                        },
                    )
                    .await;
                    if step(&what, moved)?.is_none() {
                        anyhow::bail!("demo: {what} was refused by the state table");
                    }
                }
            }
        }
        // What the background rules do: every collaboration published moves the campaign on to
        // evaluating. The closed campaign closes when its ratings complete (`seed::ratings`).
        let later: &[Transition] = match *state {
            "evaluating" | "closed" => &[Transition::AllPublishedOrEnded],
            _ => &[],
        };
        for t in later {
            let moved = campaigns::record_system_event(conn, am, id, *t).await;
            step("moving the campaign on", moved)?;
        }
    }
    Ok(())
}
