//! Tiers and blacklists back into matching (issue 14 item 7, SPEC §3 and §8): the track-record
//! component from the tenant's and the platform's tier, blacklisted creators out of the
//! candidates, the overlay following changes without a restart, warnings and tier badges on the
//! pages where creators appear, and one tenant's tiers never moving another's ranking.

use reqwest::StatusCode;
use sextant::db::SystemScope;
use sextant::matching::domain::{self, CampaignAsk, MatchScore, Tier, Weights};
use sextant::matching::{pool, repo};
use uuid::Uuid;

use crate::matching::{campaign_in_matching, candidate_ids};
use crate::support::*;

/// A creator who fits the Lumi test campaign (and [`ask`]) as well as anyone can: every
/// component but track record is full. Twins differ only in id and handle.
async fn perfect_creator(app: &TestApp, handle: &str) -> Uuid {
    let id = Uuid::now_v7();
    let mut tx = app.db.system_tx(SystemScope::CreatorPool).await.unwrap();
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, markets, languages, followers, avg_views, \
           avg_likes, avg_comments, avg_shares, categories, styles, audience_age, audience_countries, \
           quote_video, quote_currency) \
         VALUES ($1, $2, $2, '{US}', '{en}', 80000, 10000, 900, 100, 50, \
           '{home_kitchen,home_decor}', '{real_shot}', '{\"25-34\": 1.0}', '{\"US\": 1.0}', 500, 'USD')",
    )
    .bind(id)
    .bind(handle)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// What the Lumi test campaign asks, as matching reads it.
fn ask() -> CampaignAsk {
    CampaignAsk {
        markets: vec!["US".into(), "GB".into()],
        languages: vec!["en".into()],
        format: domain::Format::ShortVideo,
        followers_min: 10_000,
        followers_max: 500_000,
        fee_cap: Some(("1500".parse().unwrap(), "USD".into())),
        categories: vec!["home_kitchen".into(), "home_decor".into()],
        styles: vec!["real_shot".into()],
        age_buckets: vec![domain::AgeBucket::A25_34],
        gender: None,
    }
}

/// The tenant's effective tier for a creator (what helper T's actions write), as the system.
async fn set_tier(app: &TestApp, tenant: Uuid, creator: Uuid, tier: Option<&str>, warn: bool) {
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query(
        "INSERT INTO creator_tiers (tenant_id, creator_id, tier, computed_tier, rated_count, low_score_warning) \
         VALUES ($1, $2, $3, $3, 2, $4) \
         ON CONFLICT (tenant_id, creator_id) DO UPDATE SET tier = $3, computed_tier = $3, \
           low_score_warning = $4",
    )
    .bind(tenant)
    .bind(creator)
    .bind(tier)
    .bind(warn)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn blacklist(app: &TestApp, tenant: Uuid, creator: Uuid, status: &str) {
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    sqlx::query(
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, proposed_by_label) \
         VALUES ($1, $2, $3, $4, 'Deleted the post after two days', 'test')",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(creator)
    .bind(status)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn set_platform_tier(app: &TestApp, creator: Uuid, tier: &str) {
    let mut conn = app.owner_conn().await;
    sqlx::query(
        "INSERT INTO platform_tiers (creator_id, tier, rated_count) VALUES ($1, $2, 3) \
         ON CONFLICT (creator_id) DO UPDATE SET tier = $2",
    )
    .bind(creator)
    .bind(tier)
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn platform_blacklist(app: &TestApp, creator: Uuid) {
    let mut tx = app.db.system_tx(SystemScope::CreatorPool).await.unwrap();
    sqlx::query("UPDATE creators SET platform_blacklisted = true WHERE id = $1")
        .bind(creator)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The top `limit` for a tenant through the in-memory ranker the page uses, checked against the
/// reference function over the whole pool as the tenant sees it.
async fn ranked(
    app: &TestApp,
    cache: &pool::PoolCache,
    tenant: Uuid,
    limit: usize,
) -> Vec<(Uuid, MatchScore)> {
    let weights = Weights::default();
    let mut tx = app.db.tenant_tx(tenant, None).await.unwrap();
    let rates = repo::ReferenceRates::load(&mut tx).await.unwrap();
    let campaign = Uuid::now_v7();
    let fast = pool::rank(
        cache,
        &app.db,
        &mut tx,
        tenant,
        campaign,
        &ask(),
        &weights,
        &rates,
        limit,
    )
    .await
    .unwrap()
    .0;
    let all = repo::all_facts(&mut tx, tenant).await.unwrap();
    assert_eq!(
        fast,
        domain::rank(&all, &ask(), &weights, &rates, limit),
        "the in-memory ranking is the reference ranking"
    );
    fast
}

fn position(ranking: &[(Uuid, MatchScore)], id: Uuid) -> Option<usize> {
    ranking.iter().position(|(c, _)| *c == id)
}

fn score_of(ranking: &[(Uuid, MatchScore)], id: Uuid) -> &MatchScore {
    &ranking[position(ranking, id).expect("ranked")].1
}

async fn overlay_version(app: &TestApp) -> i64 {
    let mut conn = app.owner_conn().await;
    sqlx::query_scalar("SELECT version FROM cache_versions WHERE name = 'tenant_overlay'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn small_demo() -> sextant::seed::DemoSize {
    sextant::seed::DemoSize {
        creators: 200,
        campaigns: false,
    }
}

#[tokio::test]
async fn a_tenant_tier_moves_a_creator_and_the_track_record_term_averages_both_tiers() {
    let app = TestApp::with_demo_size(small_demo()).await;
    let lumi = app.tenant_id("lumi").await;
    let cache = pool::PoolCache::default();
    let c_twin = perfect_creator(&app, "twin.c").await;
    let s_twin = perfect_creator(&app, "twin.s").await;

    // Untiered twins tie on score; the older id comes first.
    let before = ranked(&app, &cache, lumi, 10).await;
    assert_eq!(
        (position(&before, c_twin), position(&before, s_twin)),
        (Some(0), Some(1))
    );
    assert_eq!(
        score_of(&before, c_twin).total,
        score_of(&before, s_twin).total
    );

    // The tenant tiers them, and the same cache (no restart) follows the overlay's version.
    let v = overlay_version(&app).await;
    set_tier(&app, lumi, c_twin, Some("C"), false).await;
    set_tier(&app, lumi, s_twin, Some("S"), false).await;
    assert!(
        overlay_version(&app).await > v,
        "a tier change moves the overlay's version"
    );
    let after = ranked(&app, &cache, lumi, 10).await;
    assert_eq!(
        (position(&after, s_twin), position(&after, c_twin)),
        (Some(0), Some(1))
    );
    let s = score_of(&after, s_twin);
    let c = score_of(&after, c_twin);
    // (tenant + platform) / 2, the platform tier not set yet (the middle, 0.5).
    assert_eq!(s.breakdown.components.track_record, (1.0 + 0.5) / 2.0);
    assert_eq!(c.breakdown.components.track_record, (0.2 + 0.5) / 2.0);
    let w = Weights::default().track_record;
    assert!((s.total - c.total - w * (0.75 - 0.35)).abs() < 1e-9);

    // The platform tier lives in the pool's projection: it moves the term too.
    set_platform_tier(&app, c_twin, "S").await;
    set_platform_tier(&app, s_twin, "C").await;
    let platform = ranked(&app, &cache, lumi, 10).await;
    assert_eq!(
        score_of(&platform, c_twin)
            .breakdown
            .components
            .track_record,
        (Tier::C.value() + Tier::S.value()) / 2.0
    );
    assert_eq!(
        score_of(&platform, s_twin)
            .breakdown
            .components
            .track_record,
        (Tier::S.value() + Tier::C.value()) / 2.0
    );
    // Equal now on every component: the tie breaks on id again.
    assert_eq!(position(&platform, c_twin), Some(0));
}

#[tokio::test]
async fn a_blacklisted_creator_leaves_the_tenants_candidates_or_everyones() {
    let app = TestApp::with_demo_size(small_demo()).await;
    let lumi = app.tenant_id("lumi").await;
    let nordpeak = app.tenant_id("nordpeak").await;
    let cache = pool::PoolCache::default();
    let blocked_by_lumi = perfect_creator(&app, "blocked.lumi").await;
    let proposed = perfect_creator(&app, "proposed.only").await;
    let blocked_everywhere = perfect_creator(&app, "blocked.platform").await;
    for tenant in [lumi, nordpeak] {
        let r = ranked(&app, &cache, tenant, 10).await;
        for id in [blocked_by_lumi, proposed, blocked_everywhere] {
            assert!(position(&r, id).is_some());
        }
    }

    blacklist(&app, lumi, blocked_by_lumi, "confirmed").await;
    // A proposal is not a block until the owner confirms it.
    blacklist(&app, lumi, proposed, "proposed").await;
    let r = ranked(&app, &cache, lumi, 10).await;
    assert_eq!(position(&r, blocked_by_lumi), None);
    assert!(position(&r, proposed).is_some());
    let r = ranked(&app, &cache, nordpeak, 10).await;
    assert!(
        position(&r, blocked_by_lumi).is_some(),
        "another tenant's blacklist"
    );

    platform_blacklist(&app, blocked_everywhere).await;
    for tenant in [lumi, nordpeak] {
        let r = ranked(&app, &cache, tenant, 10).await;
        assert_eq!(position(&r, blocked_everywhere), None);
    }
    // The SQL path agrees.
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let pool = repo::candidates(&mut tx, lumi, Uuid::now_v7(), &ask())
        .await
        .unwrap();
    assert!(
        !pool
            .iter()
            .any(|f| f.id == blocked_by_lumi || f.id == blocked_everywhere)
    );
    assert!(pool.iter().any(|f| f.id == proposed));
}

#[tokio::test]
async fn another_tenants_tiers_never_move_this_tenants_ranking() {
    let app = TestApp::with_demo_size(small_demo()).await;
    let lumi = app.tenant_id("lumi").await;
    let nordpeak = app.tenant_id("nordpeak").await;
    let cache = pool::PoolCache::default();
    let a = perfect_creator(&app, "twin.a").await;
    let b = perfect_creator(&app, "twin.b").await;
    let before = ranked(&app, &cache, lumi, 30).await;
    // Nordpeak tiers every creator Lumi sees: the best C, the rest S, and blacklists one.
    for (i, (id, _)) in before.iter().enumerate() {
        set_tier(
            &app,
            nordpeak,
            *id,
            Some(if i < 2 { "C" } else { "S" }),
            true,
        )
        .await;
    }
    blacklist(&app, nordpeak, before[5].0, "confirmed").await;
    let after = ranked(&app, &cache, lumi, 30).await;
    assert_eq!(
        after, before,
        "Lumi's ranking, scores and warnings unchanged"
    );
    let theirs = ranked(&app, &cache, nordpeak, 30).await;
    assert_ne!(theirs, before, "Nordpeak's own tiers do move its ranking");
    assert_eq!(
        score_of(&theirs, a).breakdown.components.track_record,
        (0.2 + 0.5) / 2.0
    );
    assert!(position(&theirs, b).is_some());
    assert_eq!(position(&theirs, before[5].0), None);
    assert!(
        score_of(&theirs, a)
            .warnings
            .contains(&domain::Warning::OpenLowScoreWarning)
    );
    assert!(
        !score_of(&after, a)
            .warnings
            .contains(&domain::Warning::OpenLowScoreWarning)
    );
}

/// The slice of `page` from the element marked `marker` to the next `</tr>` or `</article>`.
fn row<'a>(page: &'a str, marker: &str) -> &'a str {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} on the page"));
    let rest = &page[at..];
    let end = ["</tr>", "</article>"]
        .iter()
        .filter_map(|e| rest.find(e))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test]
async fn badges_and_warnings_show_on_the_matching_page_and_the_shortlist_and_the_seller_sees_its_own_tier_alone()
 {
    let app = TestApp::with_demo_size(small_demo()).await;
    let lumi = app.tenant_id("lumi").await;
    let starred = perfect_creator(&app, "starred.one").await;
    let noted = perfect_creator(&app, "noted.one").await;
    set_tier(&app, lumi, starred, Some("S"), true).await;
    set_platform_tier(&app, starred, "C").await;
    let mut tx = app.db.system_tx(SystemScope::CreatorPool).await.unwrap();
    sqlx::query("UPDATE creators SET violation_notes = 'Missed a deadline in 2025' WHERE id = $1")
        .bind(noted)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let path = campaign_in_matching(&app).await;
    let am = app.login(ACCOUNT_MANAGER.0, ACCOUNT_MANAGER.1).await;
    let page = app.get_ok(&am, &format!("{path}/matching")).await;
    let ids = candidate_ids(&page);
    assert_eq!(ids[0], starred.to_string());
    let starred_row = row(&page, r#"data-creator="starred.one""#);
    assert!(starred_row.contains(r#"data-testid="tier-badge" data-tier="S""#));
    assert!(starred_row.contains("S · 优先复投"), "letter and label");
    assert!(starred_row.contains("有未关闭的低分预警"));
    let noted_row = row(&page, r#"data-creator="noted.one""#);
    assert!(noted_row.contains(r#"data-tier="–""#) && noted_row.contains("未分级"));
    assert!(noted_row.contains("有违规记录"));
    // Every candidate row has a badge.
    assert_eq!(
        page.matches(r#"data-testid="tier-badge""#).count(),
        ids.len()
    );

    let res = app
        .post_form(
            &am,
            &format!("{path}/matching"),
            &[("pick", &starred.to_string()), ("pick", &noted.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Frozen: the full score (platform C: (1.0 + 0.2) / 2) and the seller's (S alone: 1.0).
    let w = Weights::default();
    let full = 100.0 - w.track_record + w.track_record * 0.6;
    let seller = 100.0;
    let staff_cards = app.get_ok(&am, &format!("{path}/shortlist")).await;
    let card = row(&staff_cards, r#"data-creator="starred.one""#);
    assert!(card.contains(r#"data-tier="S""#));
    assert!(card.contains(&format!("{full:.1}")), "{card}");
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let seller_cards = app.get_ok(&operator, &format!("{path}/shortlist")).await;
    let card = row(&seller_cards, r#"data-creator="starred.one""#);
    assert!(card.contains(r#"data-testid="tier-badge" data-tier="S""#));
    assert!(card.contains(&format!("{seller:.1}")), "{card}");
    assert!(!card.contains(&format!("{full:.1}")), "{card}");
    let card = row(&seller_cards, r#"data-creator="noted.one""#);
    assert!(card.contains(r#"data-tier="–""#));

    // The platform tier shows on the staff creator list, and only there.
    let admin = app.login(ADMIN.0, ADMIN.1).await;
    let list = app.get_ok(&admin, "/admin/creators?q=starred.one").await;
    let line = row(&list, r#"data-handle="starred.one""#);
    assert!(line.contains(r#"data-tier="C""#), "{line}");
}

#[tokio::test]
async fn the_campaign_dashboard_badges_each_creator_with_the_tenants_tier() {
    let app = TestApp::with_demo_campaigns().await;
    let lumi = app.tenant_id("lumi").await;
    let campaign = app.campaign_in("lumi", "running").await;
    let mut tx = app.db.tenant_tx(lumi, None).await.unwrap();
    let (creator, handle): (Uuid, String) = sqlx::query_as(
        "SELECT l.creator_id, c.handle FROM collaborations l JOIN creators c ON c.id = l.creator_id \
          WHERE l.campaign_id = $1 AND NOT EXISTS (SELECT 1 FROM blacklist_entries b \
            WHERE b.tenant_id = l.tenant_id AND b.creator_id = l.creator_id) \
          ORDER BY c.handle LIMIT 1",
    )
    .bind(campaign)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    set_tier(&app, lumi, creator, Some("B"), false).await;
    let operator = app.login(OPERATOR_LUMI.0, OPERATOR_LUMI.1).await;
    let page = app
        .get_ok(
            &operator,
            &format!("/t/lumi/campaigns/{campaign}/dashboard"),
        )
        .await;
    let line = row(&page, &format!(r#"data-handle="{handle}""#));
    assert!(
        line.contains(r#"data-testid="tier-badge" data-tier="B""#),
        "{line}"
    );
    blacklist(&app, lumi, creator, "confirmed").await;
    let page = app
        .get_ok(
            &operator,
            &format!("/t/lumi/campaigns/{campaign}/dashboard"),
        )
        .await;
    let line = row(&page, &format!(r#"data-handle="{handle}""#));
    assert!(
        line.contains("tier-blocked") && line.contains("已拉黑"),
        "{line}"
    );
}
