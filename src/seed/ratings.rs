//! Demo ratings, made through the rating actions: a history of past closed campaigns whose
//! collaborations re-book some of the same creators (two of them the closed demo campaign's), a
//! TikTok export of their orders through the real importer (so ROI differs from one
//! collaboration to the next), and scorecards from two raters with different habits — the
//! operator generous (mostly 5s, with the justification all-top levels need), the owner strict
//! (2s and 3s) — one rating closed by the owner with one rater (its calibrated score counts).
//! Completing the ratings moves the collaborations to rated, closes the campaigns and refreshes
//! every creator's tier, so Lumi ends with creators in every tier S, A, B and C and low-score
//! warnings. Last, the owner confirms the blacklist entry the demo's severe compliance issue
//! proposed.
//!
//! The past campaigns, collaborations, posts, snapshots and contract moves are written directly
//! (they happened long ago); orders go through the importer; ratings, submissions, tiers and the
//! blacklist decision go through their actions. Idempotent: past campaigns are made once, a
//! collaboration with a rating is left alone (unless the rating job opened it and nobody has
//! scored it yet), an export already imported is not imported again,
//! and only proposed blacklist entries are decided.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::campaigns::{CLOSED_TITLE, step};
use super::orders::{TikTokRow, write_tiktok_header, write_tiktok_row_in};
use super::performance::views_at;
use crate::auth::{Actor, CurrentUser};
use crate::campaigns::domain::Campaign;
use crate::contracts::domain::Terms;
use crate::db::Db;
use crate::error::DomainError;
use crate::ratings::actions::{
    self as ratings, AssignRaters, CloseWithOne, OpenRating, SubmitScorecard,
};
use crate::storage::Storage;
use crate::tenants::domain::TenantStatus;
use crate::tenants::{Access, Tenant};
use crate::tiers::actions::{self as tiers, BlacklistDecision, DecideBlacklist};
use crate::tracking::order_imports::ingest;
use crate::tracking::order_imports::parse::DateOrder;

/// A past campaign: its title, code suffix and how long ago its posts went up.
struct Past {
    title: &'static str,
    code: &'static str,
    age_days: i64,
}

/// Which campaign a booking is in: a past one (index into the tenant's pasts) or the closed demo
/// campaign.
#[derive(Clone, Copy, PartialEq, Eq)]
enum In {
    Past(usize),
    Closed,
}

/// Subjective levels in the order content quality, audience match, communication, compliance.
type Levels = [u8; 4];

const SUBJECTIVE: [&str; 4] = [
    "content_quality",
    "audience_match",
    "communication",
    "compliance",
];

/// One rated collaboration: the campaign, the creator (slot 0 and 1: the closed demo campaign's
/// two creators, then fresh creators from the pool), the ROI ratio r its orders give, and the
/// raters' levels (no operator: the owner rates alone and closes with one rater).
struct Booking {
    campaign: In,
    creator: usize,
    r: f64,
    operator: Option<Levels>,
    owner: Levels,
}

struct TenantPlan {
    slug: &'static str,
    pasts: &'static [Past],
    bookings: &'static [Booking],
}

const fn b(
    campaign: In,
    creator: usize,
    r: f64,
    operator: Option<Levels>,
    owner: Levels,
) -> Booking {
    Booking {
        campaign,
        creator,
        r,
        operator,
        owner,
    }
}

const TOP: Option<Levels> = Some([5, 5, 5, 5]);

/// Lumi: creators 0 and 2 end S (r ≈ 2, the operator's 5s, the owner's 3s and 4s), 1 and 3 A
/// (3's second rating closed by the owner alone), 4 B, 5 C (two poor ratings, low ROI: warned),
/// 6 B with a warning (one poor rating: never C on one).
const LUMI: TenantPlan = TenantPlan {
    slug: "lumi",
    pasts: &[
        Past {
            title: "去年春季收纳 / Last spring storage",
            code: "PAST-01",
            age_days: 420,
        },
        Past {
            title: "去年夏季厨房 / Last summer kitchen",
            code: "PAST-02",
            age_days: 300,
        },
        Past {
            title: "去年返校季 / Last back-to-school",
            code: "PAST-03",
            age_days: 200,
        },
    ],
    bookings: &[
        b(In::Past(0), 0, 2.0, TOP, [4, 3, 4, 4]),
        b(In::Past(0), 2, 2.0, TOP, [4, 4, 3, 4]),
        b(In::Past(0), 3, 0.9, Some([5, 4, 5, 4]), [3, 2, 3, 3]),
        b(In::Past(0), 5, 0.1, Some([3, 3, 3, 3]), [2, 1, 2, 2]),
        b(In::Past(1), 0, 1.2, TOP, [3, 3, 4, 3]),
        b(In::Past(1), 1, 0.7, TOP, [3, 3, 3, 3]),
        b(In::Past(1), 4, 0.4, Some([4, 4, 4, 4]), [2, 2, 3, 2]),
        b(In::Past(2), 2, 2.0, TOP, [4, 3, 4, 4]),
        b(In::Past(2), 3, 0.9, None, [3, 3, 3, 3]),
        b(In::Past(2), 4, 0.4, Some([4, 4, 4, 4]), [2, 2, 3, 2]),
        b(In::Past(2), 5, 0.1, Some([3, 3, 3, 3]), [2, 1, 2, 2]),
        b(In::Past(2), 6, 0.15, Some([3, 3, 2, 3]), [2, 2, 1, 2]),
        b(In::Closed, 0, 2.0, TOP, [4, 3, 4, 4]),
        b(In::Closed, 1, 0.7, TOP, [3, 3, 3, 3]),
    ],
};

/// Nordpeak, lighter: one past campaign re-booking the closed demo campaign's two creators.
const NORDPEAK: TenantPlan = TenantPlan {
    slug: "nordpeak",
    pasts: &[Past {
        title: "去年秋季露营 / Last autumn camping",
        code: "PAST-01",
        age_days: 250,
    }],
    bookings: &[
        b(In::Past(0), 0, 1.5, TOP, [4, 3, 3, 4]),
        b(In::Past(0), 1, 0.5, Some([5, 4, 4, 5]), [3, 2, 3, 3]),
        b(In::Past(0), 2, 0.2, Some([3, 3, 3, 3]), [2, 2, 2, 2]),
        b(In::Closed, 0, 1.8, TOP, [4, 4, 3, 4]),
        b(In::Closed, 1, 0.6, TOP, [3, 3, 3, 2]),
    ],
};

const PLANS: [&TenantPlan; 2] = [&LUMI, &NORDPEAK];

const WHY_TOP: &str = "真实厨房场景，评论区大量询问链接，当天回复并主动给了剪辑建议。/ \
                       A real kitchen, many comments asking for the link; answered the same day \
                       and suggested a better cut unasked.";

pub async fn seed_ratings(db: &Db) -> anyhow::Result<()> {
    let storage = Storage::from_env()?;
    for plan in PLANS {
        let Some(tenant) = crate::tenants::repo::tenant_by_slug(db.pool(), plan.slug).await? else {
            continue;
        };
        if tenant.status != TenantStatus::Active {
            continue;
        }
        seed_tenant(db, &storage, &tenant, plan).await?;
    }
    Ok(())
}

fn prefix(slug: &str) -> String {
    slug.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(4)
        .collect::<String>()
        .to_uppercase()
}

/// The discount code that ties a past collaboration to its booking.
fn code_of(prefix: &str, index: usize) -> String {
    format!("{prefix}R{index:02}")
}

/// The tenant's people by role (owner, operator) as actors.
async fn person(
    conn: &mut PgConnection,
    tenant: &Tenant,
    role: &str,
    access: Access,
) -> anyhow::Result<Option<Actor>> {
    let row: Option<(Uuid, String, String)> = sqlx::query_as(
        "SELECT u.id, u.email, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id \
          WHERE m.tenant_id = $1 AND m.role = $2 ORDER BY u.email LIMIT 1",
    )
    .bind(tenant.id)
    .bind(role)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id, email, display_name)| {
        let user = CurrentUser {
            id,
            email,
            display_name,
            platform_role: None,
        };
        Actor::in_tenant(&user, tenant.clone(), access)
    }))
}

/// A collaboration waiting for its demo rating.
#[derive(sqlx::FromRow)]
struct Waiting {
    id: Uuid,
    campaign_id: Uuid,
    discount_code: String,
    handle: String,
    video_id: Option<String>,
    published_at: OffsetDateTime,
    terms: serde_json::Value,
    roi_target: Option<String>,
}

async fn seed_tenant(
    db: &Db,
    storage: &Storage,
    tenant: &Tenant,
    plan: &TenantPlan,
) -> anyhow::Result<()> {
    let prefix = prefix(plan.slug);
    let mut tx = db.tenant_tx(tenant.id, None).await?;
    let Some(owner) = person(&mut tx, tenant, "owner", Access::Owner).await? else {
        return Ok(());
    };
    let Some(operator) = person(&mut tx, tenant, "operator", Access::Operator).await? else {
        return Ok(());
    };
    let closed: Option<(Uuid, serde_json::Value)> =
        sqlx::query_as("SELECT id, data FROM campaigns WHERE tenant_id = $1 AND title = $2")
            .bind(tenant.id)
            .bind(CLOSED_TITLE)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((closed_id, closed_data)) = closed else {
        return Ok(());
    };
    // The closed campaign's collaborations, oldest first: slots 0 and 1.
    let closed_collabs: Vec<(Uuid, Uuid, serde_json::Value)> = sqlx::query_as(
        "SELECT l.id, l.creator_id, v.terms FROM collaborations l \
           JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id \
                AND v.version = l.current_version \
          WHERE l.tenant_id = $1 AND l.campaign_id = $2 ORDER BY l.created_at, l.id",
    )
    .bind(tenant.id)
    .bind(closed_id)
    .fetch_all(&mut *tx)
    .await?;
    if closed_collabs.len() < 2 {
        return Ok(());
    }
    tx.commit().await?;

    // One past campaign at a time, each rated before the next is booked (so a creator booked
    // again was tiered by then: the "do the tiers predict?" report has true re-bookings), then
    // the closed demo campaign. Halfway, the owner reweighs the scorecard.
    let rounds = plan.pasts.len() + 1;
    for round in 0..rounds {
        let past = plan.pasts.get(round);
        if past.is_some() {
            let mut tx = db.tenant_tx(tenant.id, None).await?;
            make_history(
                &mut tx,
                (tenant.id, &prefix, round),
                plan,
                &owner,
                (&closed_data, &closed_collabs),
            )
            .await?;
            tx.commit().await?;
        }
        let only = match past {
            Some(p) => (Uuid::nil(), format!("{prefix}-{}", p.code)),
            None => (closed_id, String::new()),
        };
        let people = (&owner, &operator);
        let reweigh = round == rounds / 2;
        let round = Round {
            plan,
            prefix: &prefix,
            closed: (closed_id, &closed_collabs),
            only,
            reweigh,
        };
        rate_round(db, storage, tenant.id, people, round).await?;
    }

    // The owner confirms what the severe compliance issue proposed.
    let mut tx = db.tenant_tx(tenant.id, None).await?;
    let proposed: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM blacklist_entries WHERE tenant_id = $1 AND status = 'proposed' \
          ORDER BY proposed_at, id",
    )
    .bind(tenant.id)
    .fetch_all(&mut *tx)
    .await?;
    for entry_id in proposed {
        let decided = tiers::decide_blacklist(
            &mut tx,
            &owner,
            DecideBlacklist {
                entry_id,
                decision: BlacklistDecision::Confirm,
                reason: "虚假宣传被平台处罚，不再合作。/ False claims the platform penalised; \
                         we will not work together again."
                    .into(),
            },
        )
        .await;
        step("confirming a blacklist entry", decided)?;
    }
    tx.commit().await?;
    Ok(())
}

/// One round of the rating history: which collaborations it rates.
struct Round<'a> {
    plan: &'a TenantPlan,
    prefix: &'a str,
    /// The closed demo campaign and its collaborations (slots 0 and 1).
    closed: (Uuid, &'a [(Uuid, Uuid, serde_json::Value)]),
    /// (the closed campaign's id, "") or (nil, a past campaign's code): whose collaborations.
    only: (Uuid, String),
    /// Make the second scorecard version before rating.
    reweigh: bool,
}

/// Rates what waits in one campaign of the round: its orders imported, each collaboration
/// rated by the plan's raters, finished campaigns closed.
async fn rate_round(
    db: &Db,
    storage: &Storage,
    tenant: Uuid,
    (owner, operator): (&Actor, &Actor),
    round: Round<'_>,
) -> anyhow::Result<()> {
    let Round {
        plan,
        prefix,
        closed: (closed_id, closed_collabs),
        only,
        reweigh,
    } = round;
    let mut tx = db.tenant_tx(tenant, None).await?;
    let waiting: Vec<Waiting> = sqlx::query_as(
        "SELECT l.id, l.campaign_id, l.discount_code, cr.handle, p.video_id, p.published_at, \
                v.terms, k.data->>'roi_target' AS roi_target \
           FROM collaborations l JOIN campaigns k ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id \
           JOIN creators cr ON cr.id = l.creator_id \
           JOIN contract_versions v ON v.tenant_id = l.tenant_id AND v.collaboration_id = l.id \
                AND v.version = l.current_version \
           JOIN LATERAL (SELECT p.video_id, p.published_at FROM posts p \
                          WHERE p.tenant_id = l.tenant_id AND p.collaboration_id = l.id \
                          ORDER BY p.published_at DESC LIMIT 1) p ON true \
          WHERE l.tenant_id = $1 AND l.state = 'evaluating' \
            AND (k.id = $2 OR k.code = $3) \
            AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.tenant_id = l.tenant_id \
                              AND r.collaboration_id = l.id AND (r.state <> 'open' \
                                   OR EXISTS (SELECT 1 FROM rating_submissions s \
                                               WHERE s.tenant_id = r.tenant_id \
                                                 AND s.rating_id = r.id))) \
          ORDER BY p.published_at, l.id",
    )
    .bind(tenant)
    .bind(only.0)
    .bind(&only.1)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let booking_of = |w: &Waiting| -> Option<&Booking> {
        if w.campaign_id == closed_id {
            let slot = closed_collabs.iter().position(|(id, _, _)| *id == w.id)?;
            plan.bookings
                .iter()
                .find(|b| b.campaign == In::Closed && b.creator == slot)
        } else {
            let index =
                (0..plan.bookings.len()).find(|i| code_of(prefix, *i) == w.discount_code)?;
            plan.bookings.get(index)
        }
    };
    let work: Vec<(&Waiting, &Booking)> = waiting
        .iter()
        .filter_map(|w| booking_of(w).map(|b| (w, b)))
        .collect();
    if work.is_empty() {
        return Ok(());
    }
    import_orders(db, storage, tenant, &work).await?;
    let mut tx = db.tenant_tx(tenant, None).await?;
    if reweigh {
        second_template(&mut tx, owner).await?;
    }
    let now = OffsetDateTime::now_utc();
    for (w, booking) in &work {
        rate(&mut tx, owner, operator, w.id, booking, now).await?;
    }
    step(
        "closing finished campaigns",
        ratings::close_finished_campaigns(&mut tx, owner).await,
    )?;
    tx.commit().await?;
    Ok(())
}

/// The demo's second scorecard version (once): compliance weighs more after the false-claims
/// incident (8 → 12), taken from conversion (40 → 36); the compliance rubric's lowest level
/// names that incident. Same dimensions, so the raters' habits below still apply.
async fn second_template(tx: &mut PgConnection, owner: &Actor) -> anyhow::Result<()> {
    let tenant = owner.tenant_id()?;
    let current = step(
        "reading the scorecard",
        ratings::current_template(tx, tenant).await,
    )?;
    if current.version >= 2 {
        return Ok(());
    }
    let mut rows: Vec<crate::ratings::domain::DraftRow> = current
        .dimensions
        .iter()
        .map(crate::ratings::domain::DraftRow::of)
        .collect();
    for row in &mut rows {
        match row.code.as_str() {
            "conversion" => row.weight = "36".into(),
            "compliance" => {
                row.weight = "12".into();
                row.rubric_zh[0] =
                    "严重违规：虚假或夸大宣传、未标注广告，或被平台处罚；须附证据。".into();
                row.rubric_en[0] = "Serious breach: false or exaggerated claims, an undisclosed \
                                    ad, or a platform penalty; attach the evidence."
                    .into();
            }
            _ => {}
        }
    }
    let made = ratings::create_template_version(
        tx,
        owner,
        ratings::NewTemplateVersion {
            based_on: current.version,
            rows,
        },
    )
    .await;
    step("making the second scorecard version", made)?;
    Ok(())
}

/// Opens the rating (or takes the one the rating job opened), asks both raters, and submits their scorecards (the operator first); a
/// booking without the operator is closed by the owner with one rater.
async fn rate(
    tx: &mut PgConnection,
    owner: &Actor,
    operator: &Actor,
    collaboration_id: Uuid,
    booking: &Booking,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let opened = ratings::open_rating(
        tx,
        operator,
        OpenRating {
            collaboration_id,
            override_reason: String::new(),
            now,
        },
    )
    .await;
    // The rating job of a running server may have opened it already: rate that one.
    if !matches!(opened, Err(DomainError::Refused("rating.error.exists"))) {
        step("opening a rating", opened)?;
    }
    let raters: Vec<Uuid> = [operator, owner]
        .iter()
        .filter(|a| booking.operator.is_some() || a.user_id == owner.user_id)
        .filter_map(|a| a.user_id)
        .collect();
    let assigned = ratings::assign_raters(
        tx,
        operator,
        AssignRaters {
            collaboration_id,
            user_ids: raters,
        },
    )
    .await;
    step("asking raters", assigned)?;
    let card = |levels: Levels, comment: &str| {
        let all_top = levels.iter().all(|l| *l == 5);
        SubmitScorecard {
            collaboration_id,
            levels: SUBJECTIVE
                .iter()
                .zip(levels)
                .map(|(code, level)| (code.to_string(), level.to_string()))
                .collect::<BTreeMap<_, _>>(),
            justification: if all_top {
                WHY_TOP.into()
            } else {
                String::new()
            },
            comment: comment.into(),
        }
    };
    if let Some(levels) = booking.operator {
        let submitted = ratings::submit_scorecard(
            tx,
            operator,
            card(
                levels,
                "合作愉快，推荐续约。/ Great to work with; book again.",
            ),
        )
        .await;
        step("the operator's scorecard", submitted)?;
    }
    let submitted = ratings::submit_scorecard(
        tx,
        owner,
        card(
            booking.owner,
            "按评分标准打分：中规中矩。/ Scored against the rubric: adequate.",
        ),
    )
    .await;
    step("the owner's scorecard", submitted)?;
    if booking.operator.is_none() {
        let closed = ratings::close_with_one_rater(
            tx,
            owner,
            CloseWithOne {
                collaboration_id,
                reason: "运营休假，第二位评分人无法评分。/ The operator is on leave; no second \
                         rater."
                    .into(),
            },
        )
        .await;
        step("closing with one rater", closed)?;
    }
    Ok(())
}

/// Makes the past campaigns (in evaluating), their collaborations (in evaluating, terms from the
/// closed demo campaign's with a smaller fixed fee), one post each with snapshots, and the
/// contract moves that took them there. Once: nothing if the first past campaign exists.
async fn make_history(
    tx: &mut PgConnection,
    (tenant, prefix, only): (Uuid, &str, usize),
    plan: &TenantPlan,
    owner: &Actor,
    (closed_data, closed_collabs): (&serde_json::Value, &[(Uuid, Uuid, serde_json::Value)]),
) -> anyhow::Result<()> {
    let Some(this) = plan.pasts.get(only) else {
        return Ok(());
    };
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND code = $2)",
    )
    .bind(tenant)
    .bind(format!("{prefix}-{}", this.code))
    .fetch_one(&mut *tx)
    .await?;
    if exists {
        return Ok(());
    }
    let fresh_wanted = plan
        .bookings
        .iter()
        .map(|b| b.creator)
        .max()
        .unwrap_or(0)
        .saturating_sub(1);
    // The same creators in every round: none booked by the tenant outside these past campaigns.
    let fresh: Vec<Uuid> = sqlx::query_scalar(
        "SELECT c.id FROM creators c WHERE NOT c.platform_blacklisted \
            AND NOT EXISTS (SELECT 1 FROM collaborations l JOIN campaigns k \
                              ON k.tenant_id = l.tenant_id AND k.id = l.campaign_id \
                             WHERE l.tenant_id = $1 AND l.creator_id = c.id \
                               AND k.code NOT LIKE $3) \
          ORDER BY c.handle LIMIT $2",
    )
    .bind(tenant)
    .bind(fresh_wanted as i64)
    .bind(format!("{prefix}-PAST-%"))
    .fetch_all(&mut *tx)
    .await?;
    let creators: Vec<Uuid> = closed_collabs
        .iter()
        .take(2)
        .map(|(_, creator, _)| *creator)
        .chain(fresh)
        .collect();
    let base: Campaign = serde_json::from_value(closed_data.clone()).unwrap_or_default();
    let terms_base: Terms = serde_json::from_value(closed_collabs[0].2.clone())?;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    for (p, past) in plan.pasts.iter().enumerate().filter(|(p, _)| *p == only) {
        let published = now - Duration::days(past.age_days);
        let mut campaign = base.clone();
        campaign.title = past.title.into();
        campaign.publish_from = Some((published - Duration::days(7)).date());
        campaign.publish_to = Some((published + Duration::days(7)).date());
        let campaign_id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO campaigns (tenant_id, id, code, state, title, shop_id, markets, data, \
                created_by, created_at, submitted_at) \
             VALUES ($1, $2, $3, 'evaluating', $4, $5, $6, $7, $8, now(), $9)",
        )
        .bind(tenant)
        .bind(campaign_id)
        .bind(format!("{prefix}-{}", past.code))
        .bind(past.title)
        .bind(campaign.shop_id)
        .bind(&campaign.markets)
        .bind(serde_json::to_value(&campaign)?)
        .bind(owner.user_id)
        .bind(published - Duration::days(40))
        .execute(&mut *tx)
        .await?;
        for (index, booking) in plan.bookings.iter().enumerate() {
            if booking.campaign != In::Past(p) {
                continue;
            }
            let Some(&creator) = creators.get(booking.creator) else {
                continue;
            };
            let id = Uuid::now_v7();
            // Posts of one campaign a few hours apart.
            let posted = published + Duration::hours(5 * index as i64);
            let discount = code_of(prefix, index);
            let mut terms = terms_base.clone();
            terms.fixed_fee = Some(Decimal::from(500));
            terms.publish_deadline = (published + Duration::days(3)).date();
            terms.discount_code = discount.clone();
            terms.sample = None;
            sqlx::query(
                "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, \
                    discount_code, link_slug, created_by) \
                 VALUES ($1, $2, $3, $4, 'evaluating', $5, $6, $7)",
            )
            .bind(tenant)
            .bind(id)
            .bind(campaign_id)
            .bind(creator)
            .bind(&discount)
            .bind(format!("h{}", &id.simple().to_string()[20..]))
            .bind(owner.user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms, \
                    created_by, created_at) VALUES ($1, $2, 1, $3, $4, $5)",
            )
            .bind(tenant)
            .bind(id)
            .bind(serde_json::to_value(&terms)?)
            .bind(owner.user_id)
            .bind(posted - Duration::days(20))
            .execute(&mut *tx)
            .await?;
            for (from, to, event, at) in [
                (
                    "proposed",
                    "accepted",
                    "accepted",
                    posted - Duration::days(18),
                ),
                ("accepted", "published", "post_added", posted),
                (
                    "published",
                    "tracking",
                    "tracking_started",
                    posted + Duration::hours(2),
                ),
                (
                    "tracking",
                    "evaluating",
                    "window_final",
                    posted + Duration::days(14),
                ),
            ] {
                sqlx::query(
                    "INSERT INTO contract_transitions (tenant_id, id, collaboration_id, \
                        from_state, to_state, event, actor_label, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'sextant seed-demo', $7)",
                )
                .bind(tenant)
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(event)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            add_post(tx, tenant, id, creator, posted, booking.r).await?;
        }
    }
    Ok(())
}

/// One post with a few snapshots over its first two months.
async fn add_post(
    tx: &mut PgConnection,
    tenant: Uuid,
    collaboration: Uuid,
    creator: Uuid,
    published_at: OffsetDateTime,
    r: f64,
) -> anyhow::Result<()> {
    let handle: String = sqlx::query_scalar("SELECT handle FROM creators WHERE id = $1")
        .bind(creator)
        .fetch_one(&mut *tx)
        .await?;
    let video_id = format!(
        "74{:017}",
        collaboration.as_u128() % 100_000_000_000_000_000
    );
    let post_id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant)
    .bind(post_id)
    .bind(collaboration)
    .bind(format!("https://www.tiktok.com/@{handle}/video/{video_id}"))
    .bind(&video_id)
    .bind(published_at)
    .execute(&mut *tx)
    .await?;
    // Better returns come with more views, not always: views follow r loosely.
    let final_views = 30_000.0 + 90_000.0 * r.min(2.5);
    let mut ids = Vec::new();
    let mut at = Vec::new();
    let mut views = Vec::new();
    let mut likes = Vec::new();
    for hours in [2, 12, 24, 48, 72, 7 * 24, 14 * 24, 30 * 24, 60 * 24] {
        let v = views_at(final_views, f64::from(hours) / 24.0);
        ids.push(Uuid::now_v7());
        at.push(published_at + Duration::hours(i64::from(hours)));
        views.push(v);
        likes.push(v / 22);
    }
    sqlx::query(
        "INSERT INTO metric_snapshots (tenant_id, id, post_id, captured_at, views, likes, comments, shares, source) \
         SELECT $1, u.id, $2, u.at, u.views, u.likes, u.likes / 14, u.likes / 23, 'demo' \
           FROM unnest($3::uuid[], $4::timestamptz[], $5::bigint[], $6::bigint[]) AS u(id, at, views, likes)",
    )
    .bind(tenant)
    .bind(post_id)
    .bind(&ids)
    .bind(&at)
    .bind(&views)
    .bind(&likes)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The net GMV that gives ROI ratio `r` under `terms` with one post: cost = (1 + s)(F + c·G),
/// r = G / (target · cost), so G = target(1 + s)F·r / (1 − target(1 + s)c·r).
fn gmv_for(r: f64, terms: &Terms, target: f64) -> f64 {
    let f = terms.fixed_fee.and_then(|d| d.to_f64()).unwrap_or(0.0);
    let c = terms.commission_rate.to_f64().unwrap_or(0.0);
    let s = terms.service_fee_rate.to_f64().unwrap_or(0.0);
    let k = target * (1.0 + s);
    let denominator = 1.0 - k * c * r;
    if denominator <= 0.05 {
        return 0.0;
    }
    (k * f * r / denominator).max(0.0)
}

/// Writes the waiting collaborations' orders (placed in the days after each post, named by the
/// post's content ID) as a TikTok Shop export and imports it through the importer, once.
async fn import_orders(
    db: &Db,
    storage: &Storage,
    tenant: Uuid,
    work: &[(&Waiting, &Booking)],
) -> anyhow::Result<()> {
    let mut tx = db.tenant_tx(tenant, None).await?;
    let shop: Option<(Uuid, String, String)> = sqlx::query_as(
        "SELECT id, currency::text, date_order FROM shops \
          WHERE tenant_id = $1 AND platform = 'tiktok_shop' \
          ORDER BY currency::text = 'USD' DESC, name LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some((shop_id, currency, date_order)) = shop else {
        return Ok(());
    };
    let order = DateOrder::parse(&date_order).unwrap_or_default();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("history.csv");
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(&path)?));
    write_tiktok_header(&mut out)?;
    let mut lines = 0;
    for (w, booking) in work {
        let (Some(video), Ok(terms)) = (
            w.video_id.as_deref().and_then(|v| v.parse::<u64>().ok()),
            serde_json::from_value::<Terms>(w.terms.clone()),
        ) else {
            continue;
        };
        let target = w
            .roi_target
            .as_deref()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(2.5);
        let gmv_cents = (gmv_for(booking.r, &terms, target) * 100.0).round() as i64;
        if gmv_cents <= 0 {
            continue;
        }
        let n = (gmv_cents / 8_000).clamp(1, 40);
        let seed = (w.id.as_u128() % 1_000_000_000) as u64;
        for j in 0..n {
            let amount = if j + 1 == n {
                gmv_cents - (n - 1) * (gmv_cents / n)
            } else {
                gmv_cents / n
            };
            let placed = w.published_at + Duration::days(1 + j % 9) + Duration::hours(j % 13);
            write_tiktok_row_in(
                &mut out,
                &TikTokRow {
                    order_id: 588_000_000_000_000_000 + seed * 100 + j as u64,
                    sku_id: 1_729_000_000,
                    product: "Demo Lamp",
                    amount_cents: amount,
                    currency: &currency,
                    quantity: 1,
                    refunded: false,
                    status: "Completed",
                    creator: &w.handle,
                    content_id: Some(video),
                    rate_percent: (terms.commission_rate * Decimal::from(100))
                        .to_u32()
                        .unwrap_or(12),
                    created: PrimitiveDateTime::new(placed.date(), placed.time()),
                    paid_commission_cents: None,
                },
                order,
            )?;
            lines += 1;
        }
    }
    out.flush()?;
    drop(out);
    if lines == 0 {
        return Ok(());
    }
    let digest = Sha256::digest(std::fs::read(&path)?);
    let sha: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut tx = db.tenant_tx(tenant, None).await?;
    let imported: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM order_imports i JOIN uploads u \
           ON u.tenant_id = i.tenant_id AND u.id = i.upload_id \
         WHERE i.shop_id = $1 AND u.sha256 = $2 AND i.state = 'imported')",
    )
    .bind(shop_id)
    .bind(sha)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if imported {
        return Ok(());
    }
    let exported_at = work
        .iter()
        .map(|(w, _)| w.published_at)
        .max()
        .unwrap_or_else(OffsetDateTime::now_utc)
        + Duration::days(30);
    ingest::import_file(
        db,
        storage,
        tenant,
        shop_id,
        &path,
        "demo-tiktok-history.csv",
        exported_at.min(OffsetDateTime::now_utc()),
        true,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratings::domain::roi_ratio;

    #[test]
    fn the_gmv_for_r_gives_r_back_under_the_terms() {
        let terms: Terms = serde_json::from_value(serde_json::json!({
            "fee_model": "fixed_plus_commission", "fixed_fee": "500", "fixed_fee_currency": "USD",
            "commission_rate": "0.12", "service_fee_rate": "0.10", "videos": 1,
            "live_sessions": 0, "publish_deadline": "2026-01-10", "min_days_live": 30,
            "revisions_included": 1, "usage_rights": "organic_only", "paid_ads_until": null,
            "sample": null, "discount_code": "X"
        }))
        .unwrap();
        for r in [0.1, 0.4, 0.7, 1.2, 2.0] {
            let g = gmv_for(r, &terms, 2.5);
            // cost = (1 + 10%)(500 + 12% of G)
            let cost = 1.1 * (500.0 + 0.12 * g);
            let back = roi_ratio(
                Decimal::try_from(g).unwrap(),
                Decimal::try_from(2.5).unwrap(),
                Decimal::try_from(cost).unwrap(),
            );
            assert!(
                (back.to_f64().unwrap() - r).abs() < 1e-3,
                "{r} → {g} → {back}"
            );
        }
        assert_eq!(gmv_for(0.0, &terms, 2.5), 0.0);
    }
}
