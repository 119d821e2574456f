//! Tiers (SPEC §8): the refresh and its history, the owner's override, blacklists, the daily job
//! under its advisory lock, the platform tier (staff only), tenant isolation, append-only
//! history, and the SQL aggregate agreeing with `tiers::domain`.

use sextant::auth::Actor;
use sextant::error::DomainError;
use sextant::tiers::actions::{
    BlacklistDecision, DecideBlacklist, OverrideTier, ProposeBlacklist, TierCause,
    decide_blacklist, override_tier, propose_blacklist, refresh_creator,
};
use sextant::tiers::job::{self, Tick};
use sextant::tiers::{domain, repo};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::*;

const SLUG: &str = "lumi";

/// A creator with no collaboration in `tenant` yet (the `n`th one).
pub(crate) async fn fresh_creator(c: &mut PgConnection, tenant: Uuid, n: i64) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM creators cr WHERE NOT EXISTS (SELECT 1 FROM collaborations l \
          WHERE l.tenant_id = $1 AND l.creator_id = cr.id) ORDER BY id OFFSET $2 LIMIT 1",
    )
    .bind(tenant)
    .bind(n)
    .fetch_one(c)
    .await
    .unwrap()
}

/// A completed rating of a new collaboration of `creator` (inserted as the system would):
/// `score`, its last post `days_ago` before `at`, ROI ratio `roi`.
pub(crate) async fn rate(
    c: &mut PgConnection,
    tenant: Uuid,
    creator: Uuid,
    score: f64,
    days_ago: f64,
    roi: f64,
) -> Uuid {
    let campaign: Uuid = sqlx::query_scalar(
        "SELECT id FROM campaigns k WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM \
         collaborations l WHERE l.tenant_id = k.tenant_id AND l.campaign_id = k.id \
         AND l.creator_id = $2) ORDER BY created_at, id LIMIT 1",
    )
    .bind(tenant)
    .bind(creator)
    .fetch_one(&mut *c)
    .await
    .expect("a campaign without this creator");
    rate_in(c, (tenant, campaign), creator, score, days_ago, roi).await
}

/// The tenant's first scorecard template (an empty one made when it has none): what a fixture
/// rating points at.
pub(crate) async fn scorecard_template(c: &mut PgConnection, tenant: Uuid) -> Uuid {
    match sqlx::query_scalar(
        "SELECT id FROM scorecard_templates WHERE tenant_id = $1 ORDER BY version LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *c)
    .await
    .unwrap()
    {
        Some(t) => t,
        None => sqlx::query_scalar(
            "INSERT INTO scorecard_templates (tenant_id, id, version, dimensions) \
             VALUES ($1, gen_random_uuid(), 1, '[]') RETURNING id",
        )
        .bind(tenant)
        .fetch_one(&mut *c)
        .await
        .unwrap(),
    }
}

/// `rate` in a given campaign of the tenant.
pub(crate) async fn rate_in(
    c: &mut PgConnection,
    (tenant, campaign): (Uuid, Uuid),
    creator: Uuid,
    score: f64,
    days_ago: f64,
    roi: f64,
) -> Uuid {
    let collab = Uuid::new_v4();
    let code = format!("T{}", &collab.simple().to_string()[..10]);
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
         link_slug) VALUES ($1, $2, $3, $4, 'rated', $5, $5)",
    )
    .bind(tenant)
    .bind(collab)
    .bind(campaign)
    .bind(creator)
    .bind(&code)
    .execute(&mut *c)
    .await
    .unwrap();
    let template = scorecard_template(c, tenant).await;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ratings (tenant_id, id, collaboration_id, creator_id, campaign_id, template_id, \
         state, opened_by_label, age_from, currency, net_gmv, cost, roi_target, roi_ratio, \
         cost_basis, inputs, final_score, raw_score, completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'completed', 'test', \
                 now() - make_interval(secs => $7 * 86400), 'USD', 0, 0, 1, $8, 'fixed', '{}', \
                 $9, $9, clock_timestamp())",
    )
    .bind(tenant)
    .bind(id)
    .bind(collab)
    .bind(creator)
    .bind(campaign)
    .bind(template)
    .bind(days_ago)
    .bind(rust_decimal::Decimal::try_from(roi).unwrap())
    .bind(rust_decimal::Decimal::try_from(score).unwrap().round_dp(2))
    .execute(&mut *c)
    .await
    .unwrap();
    id
}

async fn tier_row(c: &mut PgConnection, tenant: Uuid, creator: Uuid) -> Option<repo::TierRow> {
    repo::tenant_rows(c, tenant, Some(&[creator]))
        .await
        .unwrap()
        .into_iter()
        .next()
}

async fn history_len(c: &mut PgConnection, tenant: Uuid, creator: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM creator_tier_history WHERE tenant_id = $1 AND creator_id = $2",
    )
    .bind(tenant)
    .bind(creator)
    .fetch_one(c)
    .await
    .unwrap()
}

pub(crate) async fn refresh(app: &TestApp, actor: &Actor, creator: Uuid, cause: TierCause) {
    let mut tx = app.tx_for(actor).await;
    refresh_creator(&mut tx, actor, creator, cause)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_refresh_writes_history_only_when_the_tier_changes() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let owner = app.actor(OWNER_LUMI.0, SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 0).await;

    rate(&mut c, tenant, creator, 85.0, 10.0, 1.2).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    // One collaboration at the S line: at most A.
    assert_eq!(row.tier.as_deref(), Some("A"));
    assert_eq!(history_len(&mut c, tenant, creator).await, 1);

    rate(&mut c, tenant, creator, 90.0, 5.0, 1.5).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    assert_eq!(row.tier.as_deref(), Some("S"));
    assert_eq!(row.recommendation.as_deref(), Some("rebook"));
    assert_eq!(history_len(&mut c, tenant, creator).await, 2);

    // Nothing changed: no new history.
    refresh(&app, &owner, creator, TierCause::Fulfilment).await;
    refresh(&app, &owner, creator, TierCause::Daily).await;
    assert_eq!(history_len(&mut c, tenant, creator).await, 2);

    let (from, to, cause, reason): (Option<String>, Option<String>, String, serde_json::Value) =
        sqlx::query_as(
            "SELECT from_tier::text, to_tier::text, cause, reason FROM creator_tier_history \
              WHERE tenant_id = $1 AND creator_id = $2 ORDER BY at DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(creator)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(
        (from.as_deref(), to.as_deref(), cause.as_str()),
        (Some("A"), Some("S"), "rating")
    );
    assert_eq!(reason["rated"], 2);

    // The seller's page says it in words.
    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let page = app
        .get_ok(&client, &format!("/t/{SLUG}/creators/{creator}"))
        .await;
    assert!(page.contains(r#"data-tier="S""#), "{page}");
    assert!(page.contains("2 次已评价合作，时间加权"));
    assert!(page.contains("180 天内无重大履约事件"));
    assert!(!page.contains("platform-tier"));
    // The list carries the badge and the distribution chart.
    let list = app.get_ok(&client, &format!("/t/{SLUG}/creators")).await;
    assert!(list.contains(r#"data-testid="chart-tiers""#));
}

#[tokio::test]
async fn the_owner_overrides_until_the_next_rating_and_nobody_else_may() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let owner = app.actor(OWNER_LUMI.0, SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 1).await;
    rate(&mut c, tenant, creator, 70.0, 20.0, 1.0).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    assert_eq!(
        tier_row(&mut c, tenant, creator)
            .await
            .unwrap()
            .tier
            .as_deref(),
        Some("A")
    );

    let input = |tier: &str, reason: &str| OverrideTier {
        creator_id: creator,
        tier: tier.into(),
        reason: reason.into(),
    };
    for who in ["operator@lumi-home.example", "am@sextant.example"] {
        let actor = app.actor(who, SLUG).await;
        let mut tx = app.tx_for(&actor).await;
        let err = override_tier(&mut tx, &actor, input("S", "I like them"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Forbidden), "{who}: {err:?}");
    }
    // Bad input: each field says why, nothing stored.
    let mut tx = app.tx_for(&owner).await;
    match override_tier(&mut tx, &owner, input("X", "  ")).await {
        Err(DomainError::Invalid(e)) => {
            assert_eq!(e.get("tier"), Some(&"tiers.error.tier"));
            assert_eq!(e.get("reason"), Some(&"tiers.error.reason_required"));
        }
        other => panic!("{other:?}"),
    }
    drop(tx);

    let mut tx = app.tx_for(&owner).await;
    override_tier(&mut tx, &owner, input("c", "Missed two calls"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    assert_eq!(row.tier.as_deref(), Some("C"));
    assert_eq!(row.computed_tier.as_deref(), Some("A"));
    assert_eq!(row.recommendation.as_deref(), Some("do_not_rebook"));
    assert_eq!(row.override_reason.as_deref(), Some("Missed two calls"));
    assert!(
        app.audit_of(&creator.to_string())
            .await
            .iter()
            .any(|a| a.0 == "tier.override")
    );
    // A daily pass keeps it.
    let mut sys = app
        .db
        .system_tx(sextant::db::SystemScope::TierJob)
        .await
        .unwrap();
    sextant::tiers::actions::recompute_tenant(&mut sys, tenant, OffsetDateTime::now_utc())
        .await
        .unwrap();
    sys.commit().await.unwrap();
    assert_eq!(
        tier_row(&mut c, tenant, creator)
            .await
            .unwrap()
            .tier
            .as_deref(),
        Some("C")
    );

    // The next completed rating ends it.
    rate(&mut c, tenant, creator, 72.0, 1.0, 1.0).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    assert_eq!(row.tier.as_deref(), Some("A"));
    assert_eq!(row.override_tier, None);
    let causes: Vec<String> = sqlx::query_scalar(
        "SELECT cause FROM creator_tier_history WHERE tenant_id = $1 AND creator_id = $2 \
         ORDER BY at",
    )
    .bind(tenant)
    .bind(creator)
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(causes, ["rating", "override", "rating"]);
}

#[tokio::test]
async fn bad_override_input_on_the_page_shows_the_message_and_stores_nothing() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 2).await;
    rate(&mut c, tenant, creator, 50.0, 3.0, 1.0).await;
    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let path = format!("/t/{SLUG}/creators/{creator}/tier");
    let res = app
        .post_form(&client, &path, &[("tier", "Z"), ("reason", "")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains(r#"data-testid="error-tier""#));
    assert!(body.contains("请选择 S、A、B 或 C。"));
    assert!(body.contains(r#"data-testid="error-reason""#));
    assert!(tier_row(&mut c, tenant, creator).await.is_none());

    // A good one redirects back and holds.
    let res = app
        .post_form(
            &client,
            &path,
            &[("tier", "S"), ("reason", "Known for years")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        tier_row(&mut c, tenant, creator)
            .await
            .unwrap()
            .override_tier
            .as_deref(),
        Some("S")
    );
    // An operator gets 403.
    let op = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let res = app
        .post_form(&op, &path, &[("tier", "C"), ("reason", "No")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_confirmed_blacklist_entry_blocks_and_says_do_not_rebook() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let owner = app.actor(OWNER_LUMI.0, SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 3).await;
    rate(&mut c, tenant, creator, 80.0, 3.0, 2.0).await;
    rate(&mut c, tenant, creator, 82.0, 30.0, 2.0).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;

    let system = Actor::system("fulfilment").within(
        owner.tenant().unwrap().clone(),
        sextant::tenants::Access::Operator,
    );
    let mut tx = app.tx_for(&system).await;
    let propose = || ProposeBlacklist {
        creator_id: creator,
        fulfilment_record_id: None,
        reason: "Severe: no publish".into(),
    };
    let entry = propose_blacklist(&mut tx, &system, propose())
        .await
        .unwrap()
        .expect("a new entry");
    // No duplicate open entry.
    assert_eq!(
        propose_blacklist(&mut tx, &system, propose())
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();

    let decide = |decision, reason: &str| DecideBlacklist {
        entry_id: entry,
        decision,
        reason: reason.into(),
    };
    // The operator may not decide; a decision needs a reason; a lift needs a confirmed entry.
    let op = app.actor("operator@lumi-home.example", SLUG).await;
    let mut tx = app.tx_for(&op).await;
    assert!(matches!(
        decide_blacklist(&mut tx, &op, decide(BlacklistDecision::Confirm, "yes")).await,
        Err(DomainError::Forbidden)
    ));
    drop(tx);
    let mut tx = app.tx_for(&owner).await;
    assert!(matches!(
        decide_blacklist(&mut tx, &owner, decide(BlacklistDecision::Confirm, "")).await,
        Err(DomainError::Invalid(_))
    ));
    assert!(matches!(
        decide_blacklist(&mut tx, &owner, decide(BlacklistDecision::Lift, "why")).await,
        Err(DomainError::Refused(_))
    ));
    drop(tx);

    // Confirmed on the page.
    let client = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let res = app
        .post_form(
            &client,
            &format!("/t/{SLUG}/blacklist/{entry}"),
            &[("decision", "confirm"), ("reason", "Evidence is clear")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    assert_eq!(row.recommendation.as_deref(), Some("do_not_rebook"));
    let page = app
        .get_ok(&client, &format!("/t/{SLUG}/creators/{creator}"))
        .await;
    assert!(page.contains("tier-blocked"));
    assert!(page.contains(r#"data-status="confirmed""#));
    let list = app.get_ok(&client, &format!("/t/{SLUG}/creators")).await;
    assert!(list.contains("tier-blocked"));

    // Lifted again: re-book follows the tier.
    let res = app
        .post_form(
            &client,
            &format!("/t/{SLUG}/blacklist/{entry}"),
            &[("decision", "lift"), ("reason", "Settled")],
        )
        .await;
    assert!(res.status().is_redirection());
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    assert_eq!(row.recommendation.as_deref(), Some("rebook"));
}

#[tokio::test]
async fn the_daily_job_runs_once_under_its_advisory_lock() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 4).await;
    rate(&mut c, tenant, creator, 30.0, 1.0, 0.3).await;
    rate(&mut c, tenant, creator, 35.0, 2.0, 0.3).await;
    // A day the background loop will not claim.
    let day = OffsetDateTime::now_utc() + time::Duration::days(3);

    // Another server holds the lock: this one skips.
    let mut holder = PgConnection::connect(&app.database_url).await.unwrap();
    let mut held = holder.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(job::LOCK_KEY)
        .execute(&mut *held)
        .await
        .unwrap();
    assert_eq!(job::tick(&app.db, day).await.unwrap(), Tick::Busy);
    held.rollback().await.unwrap();

    // Two at once: exactly one runs the day's pass.
    let (a, b) = tokio::join!(job::tick(&app.db, day), job::tick(&app.db, day));
    let outcomes = [a.unwrap(), b.unwrap()];
    let ran = outcomes
        .iter()
        .filter(|t| matches!(t, Tick::Ran { daily: true, .. }))
        .count();
    assert_eq!(ran, 1, "{outcomes:?}");
    let row = tier_row(&mut c, tenant, creator).await.unwrap();
    assert_eq!(row.tier.as_deref(), Some("C"));
    assert!(row.low_score_warning);
    let cause: String = sqlx::query_scalar(
        "SELECT cause FROM creator_tier_history WHERE tenant_id = $1 AND creator_id = $2",
    )
    .bind(tenant)
    .bind(creator)
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(cause, "daily");
    // The platform tier came along.
    let platform: Option<String> =
        sqlx::query_scalar("SELECT tier::text FROM platform_tiers WHERE creator_id = $1")
            .bind(creator)
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(platform.as_deref(), Some("C"));
    // The same day again: nothing to do.
    assert_eq!(
        job::tick(&app.db, day).await.unwrap(),
        Tick::Ran {
            daily: false,
            marked: 0
        }
    );
}

#[tokio::test]
async fn the_platform_tier_and_blacklist_are_for_staff_only() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let owner = app.actor(OWNER_LUMI.0, SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 5).await;
    rate(&mut c, tenant, creator, 66.0, 1.0, 1.0).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    // The refresh marked the creator; the job's next tick computes the platform tier.
    match job::tick(
        &app.db,
        OffsetDateTime::now_utc() - time::Duration::days(400),
    )
    .await
    .unwrap()
    {
        Tick::Ran { marked, .. } => assert!(marked >= 1),
        Tick::Busy => panic!("busy"),
    }
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let staff_page = app
        .get_ok(&admin, &format!("/admin/creators/{creator}"))
        .await;
    assert!(staff_page.contains(r#"data-testid="platform-tier""#));
    let seller = app.login(OWNER_LUMI.0, OWNER_LUMI.1).await;
    let seller_page = app
        .get_ok(&seller, &format!("/t/{SLUG}/creators/{creator}"))
        .await;
    assert!(!seller_page.contains("platform-tier"));
    assert!(!seller_page.contains("platform-blacklist"));
    // A seller cannot reach the staff form.
    let path = format!("/admin/creators/{creator}/platform-blacklist");
    let res = app
        .post_form(&seller, &path, &[("action", "add"), ("reason", "x")])
        .await;
    assert!(res.status().is_client_error());

    // Missing reason: the message, nothing stored.
    let res = app
        .post_form(&admin, &path, &[("action", "add"), ("reason", " ")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(r#"data-testid="error-reason""#)
    );
    async fn flag(c: &mut PgConnection, creator: Uuid) -> bool {
        sqlx::query_scalar::<_, bool>("SELECT platform_blacklisted FROM creators WHERE id = $1")
            .bind(creator)
            .fetch_one(c)
            .await
            .unwrap()
    }
    assert!(!flag(&mut c, creator).await);

    let res = app
        .post_form(
            &admin,
            &path,
            &[("action", "add"), ("reason", "Bought followers")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(flag(&mut c, creator).await);
    let res = app
        .post_form(
            &admin,
            &path,
            &[("action", "lift"), ("reason", "Appeal upheld")],
        )
        .await;
    assert!(res.status().is_redirection());
    assert!(!flag(&mut c, creator).await);
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM platform_blacklist_entries WHERE creator_id = $1")
            .bind(creator)
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(statuses, ["lifted"]);
}

#[tokio::test]
async fn another_tenant_gets_404_on_every_tier_route() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let owner = app.actor(OWNER_LUMI.0, SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 6).await;
    rate(&mut c, tenant, creator, 66.0, 1.0, 1.0).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    let entry: Uuid = sqlx::query_scalar(
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, \
         proposed_by_label) VALUES ($1, gen_random_uuid(), $2, 'proposed', 'x', 't') RETURNING id",
    )
    .bind(tenant)
    .bind(creator)
    .fetch_one(&mut c)
    .await
    .unwrap();

    let other = app.login(OWNER_NORDPEAK.0, OWNER_NORDPEAK.1).await;
    for (path, form) in [
        (
            format!("/t/nordpeak/creators/{creator}/tier"),
            [("tier", "S"), ("reason", "mine now")],
        ),
        (
            format!("/t/nordpeak/blacklist/{entry}"),
            [("decision", "confirm"), ("reason", "mine now")],
        ),
    ] {
        let res = app.post_form(&other, &path, &form).await;
        assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM blacklist_entries WHERE id = $1")
        .bind(entry)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(status, "proposed");
}

#[tokio::test]
async fn the_app_role_cannot_change_tier_history() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let owner = app.actor(OWNER_LUMI.0, SLUG).await;
    let mut c = app.owner_conn().await;
    let creator = fresh_creator(&mut c, tenant, 7).await;
    rate(&mut c, tenant, creator, 66.0, 1.0, 1.0).await;
    refresh(&app, &owner, creator, TierCause::Rating).await;
    for sql in [
        "UPDATE creator_tier_history SET to_tier = 'S'",
        "DELETE FROM creator_tier_history",
    ] {
        let mut tx = app.tx_for(&owner).await;
        let err = sqlx::query(sql).execute(&mut *tx).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied")
                || err.to_string().contains("append-only"),
            "{sql}: {err}"
        );
    }
    assert_eq!(history_len(&mut c, tenant, creator).await, 1);
}

/// A small deterministic generator (no extra crate for a test's random data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[tokio::test]
async fn the_sql_aggregate_agrees_with_the_domain_rules() {
    let app = TestApp::with_demo_campaigns().await;
    let tenant = app.tenant_id(SLUG).await;
    let mut c = app.owner_conn().await;
    let campaigns: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut c)
        .await
        .unwrap();
    let mut rng = Lcg(14);
    let mut expected = Vec::new();
    for n in 0..6 {
        let creator = fresh_creator(&mut c, tenant, 10 + n).await;
        let count = 1 + (rng.next() * (campaigns.min(5) as f64)) as usize;
        let mut items = Vec::new();
        // The latest rating's score and ROI ratio (as stored: 6 decimals).
        let mut latest = (f64::INFINITY, 0.0, 0.0);
        for _ in 0..count {
            let score = (rng.next() * 10_000.0).round() / 100.0;
            let days = rng.next() * 900.0;
            let roi = rng.next() * 3.0;
            rate(&mut c, tenant, creator, score, days, roi).await;
            items.push((score, days));
            if days < latest.0 {
                latest = (days, score, (roi * 1e6).round() / 1e6);
            }
        }
        expected.push((
            creator,
            domain::tier_score(&items).unwrap(),
            count,
            latest.1,
            latest.2,
        ));
    }
    let now = OffsetDateTime::now_utc();
    let ids: Vec<Uuid> = expected.iter().map(|e| e.0).collect();
    let got = repo::aggregate(&mut c, Some(tenant), Some(&ids), now)
        .await
        .unwrap();
    for (creator, score, count, latest_score, latest_roi) in expected {
        let row = got.iter().find(|r| r.creator_id == creator).unwrap();
        assert_eq!(row.rated, count as i64);
        assert_eq!(
            row.latest_score,
            Some(latest_score),
            "{creator}: latest score"
        );
        assert!(
            (row.latest_roi.unwrap() - latest_roi).abs() < 1e-9,
            "{creator}: latest ROI {:?} vs {latest_roi}",
            row.latest_roi
        );
        assert!(!row.breached && !row.d14_pending);
        // The test's ages are measured from its own clock: a second apart at most.
        assert!(
            (row.score.unwrap() - score).abs() < 1e-3,
            "{creator}: sql {:?} vs domain {score}",
            row.score
        );
    }
    // The mean does not drift with the clock: a pass a month later reads the same score (the
    // weights all decay together), so a daily pass with nothing changed rewrites nothing.
    let later = repo::aggregate(
        &mut c,
        Some(tenant),
        Some(&ids),
        now + time::Duration::days(30),
    )
    .await
    .unwrap();
    for row in &got {
        let again = later
            .iter()
            .find(|r| r.creator_id == row.creator_id)
            .unwrap();
        assert_eq!(again.score, row.score, "{}", row.creator_id);
    }
}
