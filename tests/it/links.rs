//! Tracked links: `/r/{slug}` answers 302 with the UTM parameters from memory, every redirect is
//! logged in batches (bots flagged and not counted, unique clicks per 30 minutes), and the
//! clicks answered before SIGTERM are all written.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, REFERER, USER_AGENT};
use uuid::Uuid;

use crate::support::*;

const BROWSER: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const PREVIEW_BOT: &str =
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";

async fn with_collaborations() -> TestApp {
    TestApp::with_demo_size(sextant::seed::DemoSize {
        creators: 200,
        campaigns: true,
    })
    .await
}

struct Link {
    slug: String,
    tenant_id: Uuid,
    collaboration_id: Uuid,
    campaign_code: String,
    handle: String,
}

/// A demo collaboration of `tenant` with its slug and what its target should carry.
async fn a_link(app: &TestApp, tenant: &str) -> Link {
    let tenant_id = app.tenant_id(tenant).await;
    let mut tx = app.db.tenant_tx(tenant_id, None).await.unwrap();
    let (slug, collaboration_id, campaign_code, handle): (String, Uuid, String, String) =
        sqlx::query_as(
            "SELECT l.link_slug, l.id, c.code, cr.handle FROM collaborations l \
             JOIN campaigns c ON c.tenant_id = l.tenant_id AND c.id = l.campaign_id \
             JOIN creators cr ON cr.id = l.creator_id \
             WHERE l.tenant_id = $1 ORDER BY l.created_at LIMIT 1",
        )
        .bind(tenant_id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    Link {
        slug,
        tenant_id,
        collaboration_id,
        campaign_code,
        handle,
    }
}

async fn click(client: &reqwest::Client, app: &TestApp, slug: &str, ua: &str) -> reqwest::Response {
    client
        .get(app.url(&format!("/r/{slug}")))
        .header(USER_AGENT, ua)
        .header(REFERER, "https://www.tiktok.com/@someone/video/1?lang=en")
        .send()
        .await
        .unwrap()
}

/// (bot, unique_click, referer_host, visitor length) of every logged click of a link, oldest first.
async fn logged(app: &TestApp, link: &Link) -> Vec<(bool, bool, Option<String>, usize)> {
    let mut tx = app.db.tenant_tx(link.tenant_id, None).await.unwrap();
    sqlx::query_as::<_, (bool, bool, Option<String>, i32)>(
        "SELECT bot, unique_click, referer_host, length(visitor) FROM link_clicks \
         WHERE collaboration_id = $1 ORDER BY at, id",
    )
    .bind(link.collaboration_id)
    .fetch_all(&mut *tx)
    .await
    .unwrap()
    .into_iter()
    .map(|(b, u, r, n)| (b, u, r, n as usize))
    .collect()
}

#[tokio::test]
async fn a_tracked_link_redirects_to_the_product_with_its_utm_parameters() {
    let app = with_collaborations().await;
    let link = a_link(&app, "lumi").await;
    let res = click(&app.client(), &app, &link.slug, BROWSER).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let location = url::Url::parse(res.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(
        location.host_str().unwrap().ends_with(".invalid"),
        "demo products never leave the machine: {location}"
    );
    let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    for (k, v) in [
        ("utm_source", "tiktok"),
        ("utm_medium", "creator"),
        ("utm_campaign", link.campaign_code.as_str()),
        ("utm_content", link.handle.as_str()),
    ] {
        assert!(
            query.contains(&(k.to_string(), v.to_string())),
            "{k}={v} missing from {location}"
        );
    }
}

#[tokio::test]
async fn an_unknown_slug_gets_a_friendly_404_in_either_language() {
    let app = TestApp::with_demo().await;
    for (slug, lang, text) in [
        ("zzzzzzzz", "zh-CN", "链接不存在"),
        ("zzzzzzzz", "en", "Link not found"),
        ("not-a-slug!", "en", "Link not found"),
        ("%E2%80%AE", "en", "Link not found"),
    ] {
        let res = app
            .client()
            .get(app.url(&format!("/r/{slug}")))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{slug}");
        assert!(res.headers().get(LOCATION).is_none());
        assert!(res.text().await.unwrap().contains(text), "{slug} {lang}");
    }
    // Nothing logged for a link that does not exist.
    let mut conn = app
        .db
        .system_tx(sextant::db::SystemScope::ClickWriter)
        .await
        .unwrap();
    sextant::tracking::links::clicks(&app.state)
        .flush()
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM link_clicks")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn clicks_are_logged_bots_flagged_and_unique_per_visitor_within_30_minutes() {
    let app = with_collaborations().await;
    let link = a_link(&app, "lumi").await;
    let (alice, bob) = (
        app.client_from_ip("127.0.0.2"),
        app.client_from_ip("127.0.0.3"),
    );
    for (client, ua) in [
        (&alice, BROWSER),
        (&alice, BROWSER),
        (&alice, PREVIEW_BOT),
        (&bob, BROWSER),
        (&alice, BROWSER),
    ] {
        assert_eq!(
            click(client, &app, &link.slug, ua).await.status(),
            StatusCode::FOUND
        );
    }
    // Written by the writer on its own, within a few flush intervals.
    let deadline = Instant::now() + Duration::from_secs(10);
    let rows = loop {
        let rows = logged(&app, &link).await;
        if rows.len() >= 5 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rows.len(), 5, "every redirect is logged, the bot's too");
    let bots = rows.iter().filter(|r| r.0).count();
    assert_eq!(bots, 1, "the preview bot is flagged");
    assert!(
        rows.iter().all(|r| !(r.0 && r.1)),
        "a bot is never a unique click"
    );
    let unique = rows.iter().filter(|r| r.1).count();
    assert_eq!(
        unique, 2,
        "alice once and bob once within 30 minutes: {rows:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.2.as_deref() == Some("www.tiktok.com"))
    );
    assert!(
        rows.iter().all(|r| r.3 == 16),
        "a 16-byte visitor hash, never the ip"
    );

    // Another tenant sees none of these clicks.
    let nordpeak = app.tenant_id("nordpeak").await;
    let mut tx = app.db.tenant_tx(nordpeak, None).await.unwrap();
    let seen: i64 =
        sqlx::query_scalar("SELECT count(*) FROM link_clicks WHERE collaboration_id = $1")
            .bind(link.collaboration_id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(seen, 0);
}

#[tokio::test]
async fn a_changed_slug_works_at_once_and_the_old_one_stops() {
    let app = with_collaborations().await;
    let link = a_link(&app, "nordpeak").await;
    assert_eq!(
        click(&app.client(), &app, &link.slug, BROWSER)
            .await
            .status(),
        StatusCode::FOUND
    );
    let fresh = "qrstuvwx";
    let mut tx = app.db.tenant_tx(link.tenant_id, None).await.unwrap();
    sqlx::query("UPDATE collaborations SET link_slug = $1 WHERE id = $2")
        .bind(fresh)
        .bind(link.collaboration_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        click(&app.client(), &app, fresh, BROWSER).await.status(),
        StatusCode::FOUND,
        "a slug memory has not seen yet is looked up"
    );
    assert_eq!(
        click(&app.client(), &app, &link.slug, BROWSER)
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "the table was reloaded"
    );
}

/// `sextant serve` on `database_url`, its port.
fn serve(database_url: &str, data_dir: &std::path::Path) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", database_url)
        .env("SEXTANT_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    (child, port)
}

#[tokio::test]
async fn sigterm_writes_every_click_that_was_answered() {
    let app = with_collaborations().await;
    let link = a_link(&app, "lumi").await;
    let data_dir = std::env::temp_dir().join(format!("sextant-links-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let (mut child, port) = serve(&app.database_url, &data_dir);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
    {
        assert!(Instant::now() < deadline, "serve did not come up");
        assert!(child.try_wait().unwrap().is_none(), "serve exited early");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let n = 300;
    for _ in 0..n {
        let res = client
            .get(format!("http://127.0.0.1:{port}/r/{}", link.slug))
            .header(USER_AGENT, BROWSER)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
    }
    // At once: most of the last batch is still in memory.
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "serve exited with {status}");
    std::fs::remove_dir_all(&data_dir).ok();
    assert_eq!(logged(&app, &link).await.len(), n);
}

#[tokio::test]
async fn clicks_per_local_day_follow_the_log_and_the_tenants_time_zone() {
    let app = with_collaborations().await;
    let link = a_link(&app, "lumi").await;
    // 23:30 and 00:30 UTC on one UTC day: one Shanghai day (+8), two days in UTC.
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::ClickWriter)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO link_clicks (tenant_id, collaboration_id, at, visitor, bot, unique_click) VALUES \
         ($1, $2, '2026-05-01 00:30:00+00', '\\x00', false, true), \
         ($1, $2, '2026-05-01 23:30:00+00', '\\x01', false, true), \
         ($1, $2, '2026-05-01 23:40:00+00', '\\x02', true, false)",
    )
    .bind(link.tenant_id)
    .bind(link.collaboration_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let days = |zone: &'static str| {
        let (db, link) = (&app.db, &link);
        async move {
            let mut tx = db.tenant_tx(link.tenant_id, None).await.unwrap();
            sqlx::query_as::<_, (String, time::Date, i64, i64, i64, i64)>(
                "SELECT zone, day, total, clicks, unique_clicks, bots FROM link_click_days \
                 WHERE collaboration_id = $1 AND zone = $2 \
                   AND day BETWEEN '2026-04-30' AND '2026-05-03' ORDER BY day",
            )
            .bind(link.collaboration_id)
            .bind(zone)
            .fetch_all(&mut *tx)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, d, t, c, u, b)| (d.to_string(), t, c, u, b))
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        days("Asia/Shanghai").await,
        vec![
            ("2026-05-01".to_string(), 1, 1, 1, 0),
            ("2026-05-02".to_string(), 2, 1, 1, 1)
        ]
    );
    let mut tx = app
        .db
        .system_tx(sextant::db::SystemScope::Cli)
        .await
        .unwrap();
    sqlx::query("UPDATE tenants SET time_zone = 'UTC' WHERE id = $1")
        .bind(link.tenant_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(days("Asia/Shanghai").await, vec![]);
    assert_eq!(
        days("UTC").await,
        vec![("2026-05-01".to_string(), 3, 2, 2, 1)]
    );
}

/// (visitor, bot, over_rate) of every logged click of a link, after the writer's flush.
async fn logged_rates(app: &TestApp, link: &Link) -> Vec<(Vec<u8>, bool, bool)> {
    sextant::tracking::links::clicks(&app.state)
        .flush()
        .await
        .unwrap();
    let mut tx = app.db.tenant_tx(link.tenant_id, None).await.unwrap();
    sqlx::query_as(
        "SELECT visitor, bot, over_rate FROM link_clicks WHERE collaboration_id = $1 ORDER BY at, id",
    )
    .bind(link.collaboration_id)
    .fetch_all(&mut *tx)
    .await
    .unwrap()
}

/// (counted, flagged over the rate) per visitor, in order of their first click.
fn per_visitor(rows: &[(Vec<u8>, bool, bool)]) -> Vec<(usize, usize)> {
    let mut visitors: Vec<(&[u8], usize, usize)> = Vec::new();
    for (visitor, bot, over) in rows {
        let at = match visitors.iter().position(|v| v.0 == visitor.as_slice()) {
            Some(at) => at,
            None => {
                visitors.push((visitor, 0, 0));
                visitors.len() - 1
            }
        };
        assert!(
            !*over || *bot,
            "a click over the rate is flagged like a bot"
        );
        visitors[at].1 += usize::from(!bot);
        visitors[at].2 += usize::from(*over);
    }
    visitors.into_iter().map(|v| (v.1, v.2)).collect()
}

#[tokio::test]
async fn fifteen_quick_clicks_from_one_visitor_redirect_all_count_ten_and_flag_five() {
    let app = with_collaborations().await;
    let link = a_link(&app, "lumi").await;
    let (fast, calm) = (
        app.client_from_ip("127.0.0.4"),
        app.client_from_ip("127.0.0.5"),
    );
    for _ in 0..15 {
        let res = click(&fast, &app, &link.slug, BROWSER).await;
        assert_eq!(res.status(), StatusCode::FOUND, "still redirected");
    }
    for _ in 0..2 {
        let res = click(&calm, &app, &link.slug, BROWSER).await;
        assert_eq!(res.status(), StatusCode::FOUND);
    }
    let rows = logged_rates(&app, &link).await;
    assert_eq!(rows.len(), 17, "every redirect is logged");
    assert_eq!(per_visitor(&rows), [(10, 5), (2, 0)]);
    // The counts that leave bots out leave these out too.
    let mut tx = app.db.tenant_tx(link.tenant_id, None).await.unwrap();
    let (total, clicks, bots): (i64, i64, i64) = sqlx::query_as(
        "SELECT sum(total)::bigint, sum(clicks)::bigint, sum(bots)::bigint FROM link_click_days \
         WHERE collaboration_id = $1",
    )
    .bind(link.collaboration_id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((total, clicks, bots), (17, 12, 5));
}

#[tokio::test]
async fn two_app_servers_over_one_database_still_count_at_most_ten_a_minute_per_visitor() {
    let app = with_collaborations().await;
    let link = a_link(&app, "lumi").await;
    let db = sextant::db::Db::connect(&app.database_url, 5)
        .await
        .unwrap();
    let second = TestApp::serve_with(
        db,
        app.database_url.clone(),
        sextant::config::Config::for_tests(app.database_url.clone()),
    )
    .await;
    // The second server is up once it redirects (its slug table loads on the first miss).
    let visitor = app.client_from_ip("127.0.0.6");
    for round in 0..8 {
        for server in [&app, &second] {
            let res = click(&visitor, server, &link.slug, BROWSER).await;
            assert_eq!(res.status(), StatusCode::FOUND, "round {round}");
        }
    }
    // Both writers flush at once; their own timers may have written some batches already.
    let (a, b) = tokio::join!(
        sextant::tracking::links::clicks(&app.state).flush(),
        sextant::tracking::links::clicks(&second.state).flush(),
    );
    a.unwrap();
    b.unwrap();
    let rows = logged_rates(&app, &link).await;
    assert_eq!(rows.len(), 16);
    assert_eq!(per_visitor(&rows), [(10, 6)]);
}
