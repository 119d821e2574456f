//! Benchmarks that need a database, each on a scratch database (a private cluster in a temporary
//! folder, or TEST_DATABASE_URL's server):
//! - `sextant-bench matching --creators N [--runs R]`: fills it with N demo creators, then times
//!   ranking them for the benchmark campaign against the bare SQL filter query alone, and
//!   reports medians and the process's peak resident memory.
//! - `sextant-bench redirect [--seconds S] [--connections C]`: runs the real `sextant serve`
//!   (the binary next to this one) on demo data and loads one tracked link with `wrk` (which
//!   does not follow redirects) and a browser User-Agent; then loads it again and sends SIGTERM
//!   halfway, and compares the 302s received with the clicks logged.
//! - `sextant-bench dashboard [--collaborations N] [--days D] [--other-orders O] [--runs R]`: a
//!   campaign with N collaborations, one post each with D days of daily snapshots, clicks and
//!   attributed orders, in a tenant that also holds O order lines nobody is credited with (all
//!   inserted directly); then times `GET /t/{slug}/campaigns/{id}/dashboard` through the app's
//!   router (`tower::ServiceExt::oneshot`, a session logged in through `POST /login`) and
//!   reports the median.
//! - `sextant-bench tiers [--creators N] [--ratings M] [--runs R]`: one tenant whose N creators
//!   have M completed ratings between them (ages over two years, scores around a per-creator
//!   level, one creator in 100 with a breached collaboration, one in 50 with a major or severe
//!   fulfilment record, one in 500 blacklisted, one in 100 with the owner's override; inserted
//!   directly), then times `tiers::actions::recompute_tenant` in the tier job's system
//!   transaction: R runs each rolled back (every tier written), then one committed and one more
//!   with nothing changed, which must write no history rows.
//! - `sextant-bench rating-page [--runs R]`: a collaboration of the demo tenant with 3 posts × 90
//!   daily snapshots and 500 attributed order lines, its rating opened with the real action, 3
//!   raters assigned and 2 scorecards submitted; then times
//!   `GET /t/{slug}/collaborations/{id}/rating` like `dashboard` times its page.
//! - `sextant-bench import [--rows N] [--xlsx-rows M]`: writes an N-row TikTok affiliate orders
//!   CSV in /tmp, then stores, validates and imports it exactly as the upload page does (the
//!   storage layer, the job's validation run, the one-transaction import) and reports rows/s end
//!   to end and the process's peak resident memory; imports the same file again and reports how
//!   many current orders that added (0); then the same for an M-row XLSX.
//! - `sextant-bench settlement [--collaborations N] [--orders M] [--runs R]`: one tenant with N
//!   fixed fee + commission collaborations and M order lines paid last month (TikTok Shop and
//!   Shopify, inserted directly), then times computing that month's settlement draft
//!   (`settlement::actions::compute_draft`) and reports the median.
//! - `sextant-bench settlement-export [--lines L]`: a finalized settlement of L lines, then its
//!   CSV and XLSX downloads through the app's router (bodies read as they stream) beside raw
//!   `COPY … TO STDOUT` of the same rows, with lines/s and the process's peak resident memory.
//! - `sextant-bench api-ingest [--snapshots N] [--posts P] [--orders M] [--batch B]
//!   [--connections C]`: the app served on a loopback port (real HTTP/1.1, keep-alive), a write
//!   token made with the real action; N metric snapshots POSTed to `/api/v1/snapshots` as a
//!   scraper sends them — P tracked posts captured in hourly rounds, each batch B posts of one
//!   round — and M order lines to `/api/v1/orders`, in batches of B over C connections (bodies
//!   built before the clock starts), every row checked stored afterwards; then raw
//!   `COPY … FROM STDIN` of the same rows into the same tables, and the ratio of the two rates.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use sextant::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use sextant::matching::domain::{AgeBucket, CampaignAsk, Format, Weights};
use sextant::matching::pool::{self, PoolCache};
use sextant::matching::repo::ReferenceRates;
use sqlx::{Connection, Executor, PgConnection};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A figure in KiB from /proc/self/status ("VmHWM", "VmRSS").
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The benchmark campaign of issue 4: US + GB, 10k–500k followers, one language, a fee cap.
fn benchmark_ask() -> CampaignAsk {
    CampaignAsk {
        markets: vec!["US".into(), "GB".into()],
        languages: vec!["en".into()],
        format: Format::ShortVideo,
        followers_min: 10_000,
        followers_max: 500_000,
        fee_cap: Some(("1200".parse().expect("literal"), "USD".into())),
        categories: vec!["home_kitchen".into(), "home_decor".into()],
        styles: vec!["real_shot".into(), "tutorial".into()],
        age_buckets: vec![AgeBucket::A25_34, AgeBucket::A35_44],
        gender: None,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    // The served app's own errors (a 500's cause) on stderr.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("error"))
        .with_writer(std::io::stderr)
        .try_init();
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: sextant-bench matching --creators N [--runs R] | \
                 redirect [--seconds S] [--connections C] | \
                 dashboard [--collaborations N] [--days D] [--other-orders O] [--runs R] | \
                 import [--rows N] [--xlsx-rows M] | \
                 tiers [--creators N] [--ratings M] [--runs R] | rating-page [--runs R] | \
                 settlement [--collaborations N] [--orders M] [--runs R] | \
                 settlement-export [--lines L] | \
                 api-ingest [--snapshots N] [--posts P] [--orders M] [--batch B] [--connections C]";
    let command = args.get(1).cloned().unwrap_or_default();
    if !matches!(
        command.as_str(),
        "matching"
            | "redirect"
            | "dashboard"
            | "import"
            | "tiers"
            | "rating-page"
            | "settlement"
            | "settlement-export"
            | "api-ingest"
    ) {
        bail!(usage);
    }
    let number = |name: &str, default: &str| -> Result<usize> {
        arg(&args, name)
            .unwrap_or_else(|| default.into())
            .parse()
            .with_context(|| format!("{name} takes a whole number"))
    };

    // A scratch database: never the real one.
    let (server_url, _cluster) = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let root =
                std::path::PathBuf::from(format!("/tmp/sextant-bench-{}", std::process::id()));
            std::fs::create_dir_all(&root)?;
            let pg = EmbeddedPostgres::ensure(&EmbeddedOptions {
                root: root.clone(),
                ephemeral: true,
            })?;
            (pg.url("postgres"), Some((pg, root)))
        }
    };
    let db_name = format!("sextant_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(&server_url).await?;
    admin
        .execute(format!("CREATE DATABASE {db_name}").as_str())
        .await?;
    let url = match server_url.split_once('?') {
        Some((base, q)) => format!(
            "{}/{db_name}?{q}",
            base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base)
        ),
        None => format!(
            "{}/{db_name}",
            server_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&server_url)
        ),
    };
    let result = match command.as_str() {
        "matching" => {
            matching(
                &url,
                number("--creators", "100000")?,
                number("--runs", "7")?,
            )
            .await
        }
        "import" => {
            import(
                &url,
                number("--rows", "1000000")?,
                number("--xlsx-rows", "100000")?,
            )
            .await
        }
        "dashboard" => {
            dashboard(
                &url,
                number("--collaborations", "200")?,
                number("--days", "90")?,
                number("--other-orders", "300000")?,
                number("--runs", "21")?,
            )
            .await
        }
        "tiers" => {
            tiers(
                &url,
                number("--creators", "100000")?,
                number("--ratings", "1000000")?,
                number("--runs", "5")?,
            )
            .await
        }
        "rating-page" => rating_page(&url, number("--runs", "21")?).await,
        "settlement" => {
            settlement(
                &url,
                number("--collaborations", "2000")?,
                number("--orders", "1000000")?,
                number("--runs", "3")?,
            )
            .await
        }
        "settlement-export" => settlement_export(&url, number("--lines", "1000000")?).await,
        "api-ingest" => {
            api_ingest(
                &url,
                (
                    number("--snapshots", "500000")?,
                    number("--posts", "10000")?,
                ),
                number("--orders", "500000")?,
                (number("--batch", "5000")?, number("--connections", "2")?),
            )
            .await
        }
        _ => {
            redirect(
                &url,
                number("--seconds", "10")?,
                number("--connections", "64")?,
            )
            .await
        }
    };
    // SEXTANT_BENCH_KEEP=1 keeps the filled database for EXPLAIN (with TEST_DATABASE_URL).
    if std::env::var_os("SEXTANT_BENCH_KEEP").is_some() {
        eprintln!("kept: {url}");
    } else {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)").as_str())
            .await
            .ok();
    }
    if let Some((pg, root)) = _cluster {
        pg.stop().ok();
        std::fs::remove_dir_all(root).ok();
    }
    result
}

async fn matching(url: &str, creators: usize, runs: usize) -> Result<()> {
    sextant::db::migrate(url).await?;
    let mut conn = PgConnection::connect(url).await.context("bench database")?;
    let fill = Instant::now();
    let batch = 20_000;
    let mut start = 0;
    while start < creators {
        let n = batch.min(creators - start);
        let mut tx = conn.begin().await?;
        sextant::seed::creators::insert_creators(&mut tx, start, n).await?;
        tx.commit().await?;
        start += n;
    }
    for (from, to, rate) in [
        ("GBP", "USD", "1.27"),
        ("EUR", "USD", "1.085"),
        ("USD", "CNY", "7.12"),
    ] {
        sqlx::query("INSERT INTO reference_rates (id, rate_date, from_ccy, to_ccy, rate) VALUES ($1, current_date, $2, $3, $4::numeric)")
            .bind(uuid::Uuid::now_v7())
            .bind(from)
            .bind(to)
            .bind(rate)
            .execute(&mut conn)
            .await?;
    }
    // Tiers and blacklists in the score (issue 14): the benchmark tenant has tiered one creator
    // in ten (S/A/B/C evenly) and blacklisted one in 200; the platform has tiered one in five
    // and blacklisted one in 500.
    let tenant = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, status) VALUES ($1, 'bench-tiers', 'Bench', 'active')",
    )
    .bind(tenant)
    .execute(&mut conn)
    .await?;
    for sql in [
        "INSERT INTO creator_tiers (tenant_id, creator_id, tier, computed_tier, rated_count, low_score_warning) \
         SELECT $1, id, (ARRAY['S','A','B','C'])[1 + abs(hashtext(id::text || 't')) % 4], \
                (ARRAY['S','A','B','C'])[1 + abs(hashtext(id::text || 't')) % 4], 2, \
                abs(hashtext(id::text || 'w')) % 10 = 0 \
           FROM creators WHERE abs(hashtext(id::text)) % 10 = 0",
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, proposed_by_label) \
         SELECT $1, gen_random_uuid(), id, 'confirmed', 'bench', 'bench' \
           FROM creators WHERE abs(hashtext(id::text || 'b')) % 200 = 0",
    ] {
        sqlx::query(sql).bind(tenant).execute(&mut conn).await?;
    }
    conn.execute(
        "INSERT INTO platform_tiers (creator_id, tier, rated_count) \
         SELECT id, (ARRAY['S','A','B','C'])[1 + abs(hashtext(id::text || 'p')) % 4], 3 \
           FROM creators WHERE abs(hashtext(id::text || 'q')) % 5 = 0",
    )
    .await?;
    conn.execute(
        "UPDATE creators SET platform_blacklisted = true WHERE abs(hashtext(id::text || 'x')) % 500 = 0",
    )
    .await?;
    conn.execute("ANALYZE creators").await?;
    conn.execute("ANALYZE creator_tiers").await?;
    conn.execute("ANALYZE platform_tiers").await?;
    conn.execute("ANALYZE blacklist_entries").await?;
    let filled = fill.elapsed().as_secs_f64();

    // The ranking runs like the page does: through the app's pool (role sextant_app), inside a
    // tenant scope, from the in-memory projection, which the first ranking loads.
    conn.execute("SET ROLE sextant_app").await?;
    let db = sextant::db::Db::connect(url, 4).await?;
    let cache = PoolCache::default();
    let ask = benchmark_ask();
    let weights = Weights::default();
    let campaign = uuid::Uuid::now_v7();
    let rates = ReferenceRates::load(&mut conn).await?;
    let markets = ask.markets.clone();
    let t = Instant::now();
    let first = {
        let mut tx = db.tenant_tx(tenant, None).await?;
        pool::rank(
            &cache, &db, &mut tx, tenant, campaign, &ask, &weights, &rates, 50,
        )
        .await?
        .0
    };
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let projection = cache.at_least(&db, 0).await?;
    let projection_mib = projection.heap_bytes() as f64 / (1024.0 * 1024.0);
    let projected = projection.len();
    drop(projection);
    let (mut sql_ms, mut rank_ms) = (Vec::new(), Vec::new());
    let mut candidates_n = 0;
    let mut returned = 0;
    let mut trace = pool::RankTrace::default();
    let mut traces = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let rows: Vec<(uuid::Uuid,)> = sqlx::query_as(
            "SELECT c.id FROM creators c WHERE c.active AND NOT c.platform_blacklisted \
             AND c.markets && $1 AND c.followers BETWEEN $2 AND $3",
        )
        .bind(&markets)
        .bind(ask.followers_min)
        .bind(ask.followers_max)
        .fetch_all(&mut conn)
        .await?;
        sql_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        candidates_n = rows.len();

        let t = Instant::now();
        let mut tx = db.tenant_tx(tenant, None).await?;
        let (ranked, traced) = pool::rank(
            &cache, &db, &mut tx, tenant, campaign, &ask, &weights, &rates, 50,
        )
        .await?;
        trace = traced;
        tx.commit().await?;
        rank_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        traces.push(trace);
        if ranked != first {
            bail!("two rankings of the same pool differ");
        }
        returned = ranked.len();
    }
    println!("creators={creators} runs={runs} fill_s={filled:.1}");
    println!("candidates_after_sql_filter={candidates_n} returned={returned}");
    println!("bare_sql_filter_median_ms={:.1}", median(sql_ms));
    println!("ranking_top50_median_ms={:.1}", median(rank_ms));
    let part = |f: fn(&pool::RankTrace) -> std::time::Duration| {
        median(traces.iter().map(|t| f(t).as_secs_f64() * 1000.0).collect())
    };
    println!(
        "  phases (medians): cache_ms={:.1} offered_ms={:.1} in_memory_ms={:.1} facts_ms={:.1} \
         exact_ms={:.1} shortlisted={}",
        part(|t| t.cache),
        part(|t| t.offered),
        part(|t| t.in_memory),
        part(|t| t.facts),
        part(|t| t.exact),
        trace.shortlisted
    );
    println!(
        "first_ranking_with_projection_load_ms={load_ms:.0} projection_rows={projected} projection_heap_mib={projection_mib:.1}"
    );
    println!("vm_hwm_mib={:.1}", status_kib("VmHWM") as f64 / 1024.0);
    Ok(())
}

const BROWSER_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// What wrk printed, as numbers.
#[derive(Debug, Default)]
struct WrkReport {
    /// Responses received.
    completed: u64,
    /// Responses other than 2xx/3xx.
    non_3xx: u64,
    socket_errors: u64,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn wrk_millis(s: &str) -> Option<f64> {
    let (n, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| s.split_at(i))?;
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> WrkReport {
    let mut r = WrkReport::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", ..] => r.completed = n.parse().unwrap_or(0),
            ["Requests/sec:", n] => r.requests_per_s = n.parse().unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => r.non_3xx = n.parse().unwrap_or(0),
            ["50%", v] => r.p50_ms = wrk_millis(v).unwrap_or(0.0),
            ["99%", v] => r.p99_ms = wrk_millis(v).unwrap_or(0.0),
            ["Socket", "errors:", rest @ ..] => {
                r.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum()
            }
            _ => {}
        }
    }
    r
}

fn wrk(url: &str, seconds: usize, connections: usize) -> Result<std::process::Child> {
    std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
            &format!("User-Agent: {BROWSER_UA}"),
            url,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .context("wrk is needed for this benchmark (apt-get install wrk)")
}

fn wrk_output(child: std::process::Child) -> Result<WrkReport> {
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("wrk failed: {text}");
    }
    Ok(parse_wrk(&text))
}

/// The real server on the bench database, with its port.
async fn start_server(url: &str, data_dir: &std::path::Path) -> Result<(std::process::Child, u16)> {
    let exe = std::env::current_exe()?
        .parent()
        .context("the bench binary has a folder")?
        .join("sextant");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = std::process::Command::new(&exe)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("SEXTANT_DATA_DIR", data_dir)
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("sextant serve exited early: {status}");
        }
        if healthy(port).await {
            return Ok((child, port));
        }
        if Instant::now() > deadline {
            child.kill().ok();
            bail!("sextant serve did not answer /healthz");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Whether `GET /healthz` answers 200 (HTTP/1.0 by hand: the bench has no HTTP client).
async fn healthy(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head.ends_with(b"200"))
    };
    matches!(probe.await, Ok(true))
}

async fn clicks_logged(conn: &mut PgConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM link_clicks")
        .fetch_one(conn)
        .await?)
}

async fn redirect(url: &str, seconds: usize, connections: usize) -> Result<()> {
    sextant::db::migrate(url).await?;
    let db = sextant::db::Db::connect(url, 4).await?;
    let passwords = sextant::auth::password::PasswordService::new()?;
    sextant::seed::seed_demo_with(
        &db,
        &passwords,
        sextant::seed::DemoSize {
            creators: 300,
            campaigns: true,
        },
    )
    .await?;
    db.close().await;
    let mut conn = PgConnection::connect(url).await.context("bench database")?;
    let slug: String = sqlx::query_scalar("SELECT link_slug FROM collaborations LIMIT 1")
        .fetch_one(&mut conn)
        .await
        .context("the demo has a collaboration")?;
    let data_dir =
        std::path::PathBuf::from(format!("/tmp/sextant-bench-data-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;

    // 1. Throughput and latency.
    let (mut server, port) = start_server(url, &data_dir).await?;
    let target = format!("http://127.0.0.1:{port}/r/{slug}");
    let load = wrk_output(wrk(&target, seconds, connections)?)?;
    println!(
        "redirect: connections={connections} seconds={seconds} requests={} requests_per_s={:.0} \
         p50_ms={:.2} p99_ms={:.2} non_3xx={} socket_errors={}",
        load.completed,
        load.requests_per_s,
        load.p50_ms,
        load.p99_ms,
        load.non_3xx,
        load.socket_errors
    );

    // 2. SIGTERM halfway through a second run: every 302 received must be logged.
    let before = {
        // The first run's clicks are all written within a few flush intervals.
        let mut last = -1;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
            let n = clicks_logged(&mut conn).await?;
            if n == last {
                break n;
            }
            last = n;
        }
    };
    let loader = wrk(&target, seconds.max(2), connections)?;
    tokio::time::sleep(std::time::Duration::from_millis(
        seconds.max(2) as u64 * 500,
    ))
    .await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )?;
    let status = tokio::task::spawn_blocking(move || server.wait()).await??;
    let during = wrk_output(loader)?;
    let logged = clicks_logged(&mut conn).await? - before;
    let received = during.completed.saturating_sub(during.non_3xx);
    // wrk does not pipeline: at most one request per connection is unanswered at the end.
    let sent_at_most = during.completed + connections as u64;
    println!(
        "sigterm: server_exit={status} redirects_302_received={received} clicks_logged={logged} \
         requests_sent_at_most={sent_at_most} gap_logged_minus_received={}",
        logged - received as i64
    );
    std::fs::remove_dir_all(&data_dir).ok();
    if !status.success() {
        bail!("the server did not stop cleanly on SIGTERM");
    }
    if (logged as u64) < received || logged as u64 > sent_at_most {
        bail!("302s received ≤ clicks logged ≤ requests sent does not hold");
    }
    if load.completed == 0 || load.non_3xx > 0 {
        bail!("the load run got no redirects or errors");
    }
    Ok(())
}

/// What `fill_campaign` puts in a campaign of the demo tenant.
struct CampaignFill {
    collaborations: usize,
    /// Posts per collaboration (post p published `days + p` days ago).
    posts: usize,
    /// Daily snapshots per post, and days of clicks (5 a day) per collaboration.
    days: usize,
    /// Attributed order lines per collaboration.
    orders: usize,
    /// Order lines of the tenant nobody is credited with.
    other_orders: usize,
}

/// Fills a campaign of the demo tenant `lumi` with `collaborations` creators in `tracking`, each
/// with `posts` posts of `days` daily snapshots, clicks (one in ten a bot) and `orders`
/// attributed order lines (one in five in GBP, one in five fully refunded).
async fn fill_campaign(conn: &mut PgConnection, fill: &CampaignFill) -> Result<uuid::Uuid> {
    let CampaignFill {
        collaborations,
        posts,
        days,
        orders,
        other_orders,
    } = *fill;
    let (tenant, shop): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT t.id, s.id FROM tenants t JOIN shops s ON s.tenant_id = t.id \
         WHERE t.slug = 'lumi' ORDER BY s.name LIMIT 1",
    )
    .fetch_one(&mut *conn)
    .await?;
    let campaign = uuid::Uuid::now_v7();
    let data = serde_json::json!({
        "title": "Dashboard benchmark", "unit_currency": "USD", "shop_id": shop,
        "markets": ["US"], "roi_target": "2", "gmv_target": "100000",
        "views_target": 5_000_000, "ctr_target": "0.01", "sample_needed": true
    });
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, id, code, state, title, shop_id, markets, data) \
         VALUES ($1, $2, 'LUMI-BENCH-01', 'running', 'Dashboard benchmark', $3, '{US}', $4)",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(shop)
    .bind(&data)
    .execute(&mut *conn)
    .await?;
    let upload = uuid::Uuid::now_v7();
    let import = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, bytes, sha256, storage_key) \
         VALUES ($1, $2, 'orders', 'bench.csv', 0, '', $3)",
    )
    .bind(tenant)
    .bind(upload)
    .bind(format!("bench/{upload}"))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, format, exported_at, state) \
         VALUES ($1, $2, $3, $4, 'tiktok_affiliate', now(), 'imported')",
    )
    .bind(tenant)
    .bind(import)
    .bind(shop)
    .bind(upload)
    .execute(&mut *conn)
    .await?;
    let terms = |i: usize| {
        serde_json::json!({
            "fee_model": "fixed_plus_commission", "fixed_fee": "500", "fixed_fee_currency": "USD",
            "commission_rate": "0.1", "service_fee_rate": "0.1", "videos": posts, "live_sessions": 0,
            "publish_deadline": "2030-01-01", "min_days_live": 30, "revisions_included": 2,
            "usage_rights": "organic_only", "paid_ads_until": null,
            "sample": { "sku": "BENCH", "qty": 1, "cost": "20", "cost_currency": "USD" },
            "discount_code": format!("BENCH{i}")
        })
    };
    for i in 0..collaborations {
        let creator = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO creators (id, handle, display_name, followers) VALUES ($1, $2, $2, 100000)",
        )
        .bind(creator)
        .bind(format!("bench.creator{i:04}"))
        .execute(&mut *conn)
        .await?;
        let collab = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
               link_slug, sample_shipped_at) VALUES ($1, $2, $3, $4, 'tracking', $5, $6, now())",
        )
        .bind(tenant)
        .bind(collab)
        .bind(campaign)
        .bind(creator)
        .bind(format!("BENCH{i}"))
        .bind(format!("bench{i:05}"))
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms) VALUES ($1, $2, 1, $3)",
        )
        .bind(tenant)
        .bind(collab)
        .bind(terms(i))
        .execute(&mut *conn)
        .await?;
        for p in 0..posts {
            let post = uuid::Uuid::now_v7();
            let video = 7_300_000_000_000_000_000u64 + (i * posts + p) as u64;
            sqlx::query(
                "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
                 VALUES ($1, $2, $3, $4, $5, now() - make_interval(days => $6))",
            )
            .bind(tenant)
            .bind(post)
            .bind(collab)
            .bind(format!("https://www.tiktok.com/@bench/video/{video}"))
            .bind(format!("{video}"))
            .bind((days + p) as i32)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO metric_snapshots (tenant_id, id, post_id, captured_at, views, likes, comments, shares, source) \
                 SELECT $1, gen_random_uuid(), $2, p.published_at + make_interval(days => d), \
                        (1000 * d + 50000 * (1 - exp(-d / 3.0)))::bigint, 40 * d, 3 * d, d, 'demo' \
                   FROM posts p, generate_series(1, $3) AS d WHERE p.tenant_id = $1 AND p.id = $2",
            )
            .bind(tenant)
            .bind(post)
            .bind(days as i32)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(
            "INSERT INTO link_clicks (tenant_id, collaboration_id, at, visitor, bot, unique_click) \
             SELECT $1, $2, now() - make_interval(hours => g), decode(md5(g::text), 'hex'), \
                    g % 10 = 0, g % 3 = 0 FROM generate_series(1, $3) AS g",
        )
        .bind(tenant)
        .bind(collab)
        .bind((days * 5) as i32)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, exported_at, \
               placed_at, currency, amount, fully_refunded) \
             SELECT $1, $2, $3, $4 || n, 'S', now(), now() - make_interval(days => n * 7 % $5), \
                    CASE WHEN n % 5 = 4 THEN 'GBP' ELSE 'USD' END, 49.90, n % 5 = 3 \
               FROM generate_series(0, $6 - 1) AS n",
        )
        .bind(tenant)
        .bind(import)
        .bind(shop)
        .bind(format!("B{i}-"))
        .bind(days.max(1) as i32)
        .bind(orders as i32)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, collaboration_id, attributed_by) \
             SELECT $1, $2, $3 || n, 'S', $4, 'creator' FROM generate_series(0, $5 - 1) AS n",
        )
        .bind(tenant)
        .bind(shop)
        .bind(format!("B{i}-"))
        .bind(collab)
        .bind(orders as i32)
        .execute(&mut *conn)
        .await?;
    }
    // The rest of the shop's sales: the dashboard must not have to look at them.
    sqlx::query(
        "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, exported_at, \
           placed_at, currency, amount) \
         SELECT $1, $2, $3, 'O' || g, 'S', now(), now() - make_interval(hours => g % 2000), 'USD', 19.90 \
           FROM generate_series(1, $4) AS g",
    )
    .bind(tenant)
    .bind(import)
    .bind(shop)
    .bind(other_orders as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO reference_rates (id, rate_date, from_ccy, to_ccy, rate) \
         VALUES ($1, current_date, 'GBP', 'USD', 1.27) ON CONFLICT DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7())
    .execute(&mut *conn)
    .await?;
    // A database in steady state: autovacuum has set the visibility map and the statistics, and
    // the fill's dirty pages are written out rather than flushed during the timed runs.
    conn.execute("VACUUM ANALYZE").await?;
    conn.execute("CHECKPOINT").await?;
    Ok(campaign)
}

async fn dashboard(
    url: &str,
    collaborations: usize,
    days: usize,
    other_orders: usize,
    runs: usize,
) -> Result<()> {
    let (db, passwords, mut conn) = demo_people(url).await?;
    let fill = Instant::now();
    let campaign = fill_campaign(
        &mut conn,
        &CampaignFill {
            collaborations,
            posts: 1,
            days,
            orders: 5,
            other_orders,
        },
    )
    .await?;
    let snapshots: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_snapshots")
        .fetch_one(&mut conn)
        .await?;
    let filled = fill.elapsed().as_secs_f64();
    // Where the time goes: each of the page's queries alone, in the tenant's scope.
    {
        use sextant::tracking::dashboards::repo::daily;
        use sextant::tracking::kpis::repo::{self, Scope};
        let tenant: uuid::Uuid =
            sqlx::query_scalar("SELECT tenant_id FROM campaigns WHERE id = $1")
                .bind(campaign)
                .fetch_one(&mut conn)
                .await?;
        let mut tx = db.tenant_tx(tenant, None).await?;
        let mut parts = Vec::new();
        for _ in 0..3 {
            parts.clear();
            let t = Instant::now();
            repo::totals(&mut tx, tenant, Scope::Campaign(campaign)).await?;
            parts.push(("totals", t.elapsed()));
            let t = Instant::now();
            repo::order_totals(&mut tx, tenant, Scope::Campaign(campaign)).await?;
            parts.push(("orders", t.elapsed()));
            let t = Instant::now();
            repo::window_candidates(&mut tx, tenant, Scope::Campaign(campaign)).await?;
            parts.push(("windows", t.elapsed()));
            let t = Instant::now();
            daily(&mut tx, tenant, campaign, "Asia/Shanghai").await?;
            parts.push(("daily", t.elapsed()));
        }
        tx.commit().await?;
        let shown: Vec<String> = parts
            .iter()
            .map(|(name, d)| format!("{name}_ms={:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        println!("queries: {}", shown.join(" "));
    }

    let page = PageClient::new(url, &db, passwords).await?;
    let path = format!("/t/lumi/campaigns/{campaign}/dashboard?sort=roi&dir=desc");
    let (times, bytes) = page.time(&path, runs).await?;
    let (min, max) = min_max(&times);
    println!(
        "dashboard: collaborations={collaborations} days={days} other_orders={other_orders} snapshots={snapshots} fill_s={filled:.1} runs={}",
        times.len()
    );
    println!(
        "dashboard_median_ms={:.1} min_ms={min:.1} max_ms={max:.1} page_bytes={bytes}",
        median(times),
    );
    db.close().await;
    page.finish();
    Ok(())
}

fn min_max(v: &[f64]) -> (f64, f64) {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.is_empty() { (0.0, 0.0) } else { (min, max) }
}

/// The app's router on the bench database with the demo owner of `lumi` logged in: pages are
/// requested through it (`tower::ServiceExt::oneshot`) end to end.
struct PageClient {
    app: axum::Router,
    cookie: String,
    data_dir: std::path::PathBuf,
}

impl PageClient {
    async fn new(
        url: &str,
        db: &sextant::db::Db,
        passwords: sextant::auth::password::PasswordService,
    ) -> Result<PageClient> {
        use axum::body::Body;
        use axum::http::{Request, header};
        use tower::ServiceExt;

        let mut config = sextant::config::Config::for_tests(url.to_string());
        let data_dir =
            std::path::PathBuf::from(format!("/tmp/sextant-bench-data-{}", std::process::id()));
        std::fs::create_dir_all(&data_dir)?;
        config.data_dir = data_dir.clone();
        let state = sextant::app::state(db.clone(), config, passwords);
        let app = sextant::app::router(state);
        let login = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "email=owner%40lumi-home.example&password=owner-demo-2026",
            ))?;
        let res = app.clone().oneshot(login).await?;
        let cookie = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(sextant::app::SESSION_COOKIE))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
            .context("logging in gave no session cookie")?;
        Ok(PageClient {
            app,
            cookie,
            data_dir,
        })
    }

    /// `GET path` once to warm up (connections, templates, rates), then `runs` times, each timed
    /// until the whole body is read; answers the times in ms and the page's size.
    async fn time(&self, path: &str, runs: usize) -> Result<(Vec<f64>, usize)> {
        use axum::body::Body;
        use axum::http::{Request, StatusCode, header};
        use tower::ServiceExt;

        let mut times = Vec::new();
        let mut bytes = 0;
        for run in 0..=runs.max(1) {
            let request = Request::get(path)
                .header(header::COOKIE, &self.cookie)
                .header(header::ACCEPT_LANGUAGE, "zh-CN")
                .body(Body::empty())?;
            let t = Instant::now();
            let res = self.app.clone().oneshot(request).await?;
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if status != StatusCode::OK {
                bail!("{path} answered {status}");
            }
            bytes = body.len();
            if run > 0 {
                times.push(ms);
            }
        }
        Ok((times, bytes))
    }

    /// `GET path` once, reading the body as it streams (never held whole): seconds and bytes.
    async fn download(&self, path: &str) -> Result<(f64, usize)> {
        use axum::body::Body;
        use axum::http::{Request, StatusCode, header};
        use tower::ServiceExt;

        let request = Request::get(path)
            .header(header::COOKIE, &self.cookie)
            .header(header::ACCEPT_LANGUAGE, "zh-CN")
            .body(Body::empty())?;
        let t = Instant::now();
        let res = self.app.clone().oneshot(request).await?;
        if res.status() != StatusCode::OK {
            bail!("{path} answered {}", res.status());
        }
        let mut body = res.into_body().into_data_stream();
        let mut bytes = 0;
        while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
            bytes += chunk?.len();
        }
        Ok((t.elapsed().as_secs_f64(), bytes))
    }

    fn finish(self) {
        std::fs::remove_dir_all(&self.data_dir).ok();
    }
}

/// Fills one tenant for the tier pass: `creators` creators with `ratings` completed ratings
/// between them (see the module's comment); answers the tenant.
async fn fill_tiers(
    conn: &mut PgConnection,
    creators: usize,
    ratings: usize,
) -> Result<uuid::Uuid> {
    if creators < 2 || ratings < creators {
        bail!("tiers needs at least 2 creators and as many ratings as creators");
    }
    let tenant = uuid::Uuid::now_v7();
    // Seeding only: foreign keys are not checked while the rows go in (the rows are consistent
    // by construction), which halves the fill.
    conn.execute("SET session_replication_role = replica")
        .await?;
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, status) VALUES ($1, 'bench-tiers', 'Bench', 'active')",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await?;
    let (n, mean) = (creators as i32, (ratings / creators) as i32);
    let extra = (ratings - creators * (ratings / creators)) as i32;
    // Creator g: id md5('tc' || g); creators 2p and 2p+1 have mean ± d ratings (d < mean, so
    // at least one each), the first `extra` one more: exactly `ratings` in all. Rating j of a
    // creator is its collaboration in campaign j. A creator's scores scatter ±15 around its own
    // level (30–89); ages spread over two years.
    let statements = [
        "INSERT INTO creators (id, handle, display_name, followers) \
         SELECT md5('tc' || g)::uuid, 'tiers.c' || g, 'Tier bench ' || g, 10000 + g \
           FROM generate_series(0, $2 - 1) AS g",
        "CREATE TEMP TABLE bench_rated AS \
         SELECT c.g, md5('tc' || c.g)::uuid AS creator_id, j, \
                md5('tl' || c.g || '-' || j)::uuid AS collab_id, \
                abs(hashtext(c.g || '-' || j)) AS h \
           FROM (SELECT g, $3 + CASE WHEN g = $2 - 1 AND $2 % 2 = 1 THEN 0 \
                                     WHEN g % 2 = 0 THEN abs(hashtext('d' || g / 2)) % $3 \
                                     ELSE -(abs(hashtext('d' || g / 2)) % $3) END \
                           + CASE WHEN g < $4 THEN 1 ELSE 0 END AS cnt \
                   FROM generate_series(0, $2 - 1) AS g) c, \
                generate_series(0, c.cnt - 1) AS j",
        "INSERT INTO campaigns (tenant_id, id, code, state, title, data) \
         SELECT $1, md5('tk' || j)::uuid, 'TIERS-' || j, 'closed', 'Tier bench ' || j, '{}' \
           FROM generate_series(0, 2 * $3 + 1) AS j",
        "INSERT INTO scorecard_templates (tenant_id, id, version, dimensions) \
         VALUES ($1, md5('tt')::uuid, 1, '[]')",
        "INSERT INTO deduction_policies (tenant_id, id, version, rules) \
         VALUES ($1, md5('td')::uuid, 1, '[]')",
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, link_slug) \
         SELECT $1, collab_id, md5('tk' || j)::uuid, creator_id, 'rated', 'T' || g || '-' || j, \
                'tier' || g || '-' || j FROM bench_rated",
        "INSERT INTO ratings (tenant_id, id, collaboration_id, creator_id, campaign_id, template_id, \
                state, opened_at, opened_by_label, window_final_at, d14_final_at, age_from, currency, \
                net_gmv, cost, roi_target, roi_ratio, cost_basis, inputs, raw_score, final_score, \
                completed_at) \
         SELECT $1, md5('tr' || g || '-' || j)::uuid, collab_id, creator_id, md5('tk' || j)::uuid, \
                md5('tt')::uuid, 'completed', a - interval '1 day', 'bench', a + interval '14 days', \
                a + interval '14 days', a, 'USD', 2 * 500 * roi, 500, 2, roi, 'fixed', '{}', s, s, \
                least(a + interval '20 days', now() - interval '1 hour') \
           FROM (SELECT *, now() - make_interval(days => h % 730, hours => h % 24) AS a, \
                        greatest(0, least(100, 30 + abs(hashtext('lv' || g)) % 60 + h % 31 - 15))::numeric(5,2) AS s, \
                        ((h / 7) % 300 / 100.0)::numeric(12,6) AS roi \
                   FROM bench_rated) x",
        // One creator in 100: a breached collaboration (score 0, age from its deadline).
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, link_slug) \
         SELECT $1, md5('tb' || g)::uuid, md5('tk' || (2 * $3 + 1))::uuid, md5('tc' || g)::uuid, \
                'breached', 'TB' || g, 'tierb' || g FROM generate_series(0, $2 - 1) AS g WHERE g % 100 = 7",
        "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms) \
         SELECT $1, md5('tb' || g)::uuid, 1, \
                jsonb_build_object('publish_deadline', (current_date - (g % 400))::text) \
           FROM generate_series(0, $2 - 1) AS g WHERE g % 100 = 7",
        // One in 50: a major or severe fulfilment record within the last year (one in five of
        // them corrected away by a later record).
        "INSERT INTO fulfilment_records (tenant_id, id, collaboration_id, creator_id, kind, severity, \
                occurred_at, policy_version, points, recorded_by_label) \
         SELECT $1, md5('tf' || g)::uuid, md5('tl' || g || '-0')::uuid, md5('tc' || g)::uuid, \
                'script_deviation', CASE WHEN g % 3 = 0 THEN 'severe' ELSE 'major' END, \
                now() - make_interval(days => g % 360), 1, 10, 'bench' \
           FROM generate_series(0, $2 - 1) AS g WHERE g % 50 = 3",
        "INSERT INTO fulfilment_records (tenant_id, id, collaboration_id, creator_id, kind, severity, \
                occurred_at, policy_version, points, recorded_by_label, supersedes, withdrawn, \
                correction_reason) \
         SELECT $1, md5('tg' || g)::uuid, md5('tl' || g || '-0')::uuid, md5('tc' || g)::uuid, \
                'script_deviation', 'minor', now() - make_interval(days => g % 360), 1, 0, 'bench', \
                md5('tf' || g)::uuid, true, 'bench' \
           FROM generate_series(0, $2 - 1) AS g WHERE g % 250 = 3",
        // One in 500: on the tenant's blacklist.
        "INSERT INTO blacklist_entries (tenant_id, id, creator_id, status, reason, proposed_by_label) \
         SELECT $1, md5('tx' || g)::uuid, md5('tc' || g)::uuid, 'confirmed', 'bench', 'bench' \
           FROM generate_series(0, $2 - 1) AS g WHERE g % 500 = 11",
        // One in 100: the owner's override, set yesterday.
        "INSERT INTO creator_tiers (tenant_id, creator_id, override_tier, override_reason, override_at) \
         SELECT $1, md5('tc' || g)::uuid, 'S', 'bench', now() - interval '1 day' \
           FROM generate_series(0, $2 - 1) AS g WHERE g % 100 = 13",
    ];
    for sql in statements {
        sqlx::query(sql)
            .bind(tenant)
            .bind(n)
            .bind(mean)
            .bind(extra)
            .execute(&mut *conn)
            .await
            .with_context(|| sql.chars().take(60).collect::<String>())?;
    }
    conn.execute("DROP TABLE bench_rated").await?;
    conn.execute("SET session_replication_role = DEFAULT")
        .await?;
    conn.execute("VACUUM ANALYZE").await?;
    conn.execute("CHECKPOINT").await?;
    Ok(tenant)
}

async fn tiers(url: &str, creators: usize, ratings: usize, runs: usize) -> Result<()> {
    use sextant::db::SystemScope;
    use sextant::tiers::actions::recompute_tenant;
    use time::OffsetDateTime;

    sextant::db::migrate(url).await?;
    let mut conn = PgConnection::connect(url).await.context("bench database")?;
    let fill = Instant::now();
    let tenant = fill_tiers(&mut conn, creators, ratings).await?;
    let filled = fill.elapsed().as_secs_f64();
    let count = |sql: &'static str| {
        let url = url.to_string();
        async move {
            let mut c = PgConnection::connect(&url).await?;
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut c).await?;
            Ok::<_, anyhow::Error>(n)
        }
    };
    let rated = count("SELECT count(*) FROM ratings WHERE state = 'completed'").await?;
    let breached = count("SELECT count(*) FROM collaborations WHERE state = 'breached'").await?;
    let records = count("SELECT count(*) FROM counting_fulfilment_records").await?;
    println!(
        "tiers: creators={creators} completed_ratings={rated} breached={breached} \
         counting_major_records={records} fill_s={filled:.1}"
    );

    let db = sextant::db::Db::connect(url, 4).await?;
    // The pass's aggregate query alone (where most of the time goes), as the job runs it.
    let mut agg_ms = Vec::new();
    for _ in 0..3 {
        let mut tx = db.system_tx(SystemScope::TierJob).await?;
        let t = Instant::now();
        let rows =
            sextant::tiers::repo::aggregate(&mut tx, Some(tenant), None, OffsetDateTime::now_utc())
                .await?;
        agg_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if rows.len() != creators {
            bail!(
                "the aggregate has {} rows for {creators} creators",
                rows.len()
            );
        }
    }
    println!("aggregate_query_median_ms={:.0}", median(agg_ms));

    // Every tier written: each run rolled back, so each starts from the same state.
    let mut times = Vec::new();
    let mut summary = None;
    for _ in 0..runs.max(1) {
        let mut tx = db.system_tx(SystemScope::TierJob).await?;
        let t = Instant::now();
        let s = recompute_tenant(&mut tx, tenant, OffsetDateTime::now_utc()).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        tx.rollback().await?;
        summary = Some(s);
    }
    let s = summary.unwrap_or_default();
    let (min, max) = min_max(&times);
    println!(
        "recompute_all_written: runs={} median_ms={:.0} min_ms={min:.0} max_ms={max:.0} \
         creators={} rows_written={} history_rows={}",
        times.len(),
        median(times),
        s.creators,
        s.written,
        s.changed_tier
    );
    println!("  last run's phases: {}", phases(&s.timings));

    // Committed once, then again with nothing changed.
    let history = "SELECT count(*) FROM creator_tier_history";
    let mut added_last = 0;
    for round in ["first_commit", "nothing_changed"] {
        let before = count(history).await?;
        let mut tx = db.system_tx(SystemScope::TierJob).await?;
        let t = Instant::now();
        let s = recompute_tenant(&mut tx, tenant, OffsetDateTime::now_utc()).await?;
        tx.commit().await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let added = count(history).await? - before;
        println!(
            "recompute_{round}: ms={ms:.0} (with commit) rows_written={} history_rows_added={added}",
            s.written
        );
        println!("  phases: {}", phases(&s.timings));
        added_last = added;
    }
    // Where a pass's reads go (after the commit: every creator has a stored row); the rest of a
    // pass is the decision in Rust and the writes.
    {
        use sextant::tiers::repo;
        let mut tx = db.system_tx(SystemScope::TierJob).await?;
        let now = OffsetDateTime::now_utc();
        let mut parts = Vec::new();
        let t = Instant::now();
        repo::aggregate(&mut tx, Some(tenant), None, now).await?;
        parts.push(("aggregate", t.elapsed()));
        let t = Instant::now();
        repo::major_events(&mut tx, Some(tenant), None, now).await?;
        parts.push(("major_events", t.elapsed()));
        let t = Instant::now();
        repo::blacklisted(&mut tx, tenant, None).await?;
        parts.push(("blacklisted", t.elapsed()));
        let t = Instant::now();
        repo::tenant_rows(&mut tx, tenant, None).await?;
        parts.push(("stored_rows", t.elapsed()));
        tx.rollback().await?;
        let shown: Vec<String> = parts
            .iter()
            .map(|(name, d)| format!("{name}_ms={:.0}", d.as_secs_f64() * 1000.0))
            .collect();
        println!("pass reads: {}", shown.join(" "));
    }
    let tiers: Vec<(Option<String>, i64)> =
        sqlx::query_as("SELECT tier::text, count(*) FROM creator_tiers GROUP BY 1 ORDER BY 1")
            .fetch_all(&mut conn)
            .await?;
    let shown: Vec<String> = tiers
        .iter()
        .map(|(t, n)| format!("{}={n}", t.as_deref().unwrap_or("none")))
        .collect();
    println!("tiers_after: {}", shown.join(" "));
    db.close().await;
    if added_last != 0 {
        bail!("a pass with nothing changed added {added_last} history rows");
    }
    Ok(())
}

/// The scratch database migrated with the demo's people and tenants (no campaigns): the app's
/// pool, the password service they were hashed with, and a connection of its own for filling.
async fn demo_people(
    url: &str,
) -> Result<(
    sextant::db::Db,
    sextant::auth::password::PasswordService,
    PgConnection,
)> {
    sextant::db::migrate(url).await?;
    let db = sextant::db::Db::connect(url, 20).await?;
    let passwords = sextant::auth::password::PasswordService::fast_for_tests()?;
    sextant::seed::seed_demo_with(&db, &passwords, sextant::seed::DemoSize::PEOPLE).await?;
    let conn = PgConnection::connect(url).await.context("bench database")?;
    Ok((db, passwords, conn))
}

/// A tier pass's phases in milliseconds.
fn phases(t: &sextant::tiers::actions::PassTimings) -> String {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    format!(
        "aggregate_ms={:.0} other_reads_ms={:.0} decide_ms={:.0} upsert_ms={:.0} history_ms={:.0}",
        ms(t.aggregate),
        ms(t.other_reads),
        ms(t.decide),
        ms(t.upsert),
        ms(t.history)
    )
}

/// A demo person acting in a tenant (owner, operator, or the assigned account manager).
async fn actor_for(db: &sextant::db::Db, email: &str, slug: &str) -> Result<sextant::auth::Actor> {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(db.pool())
        .await
        .with_context(|| format!("user {email}"))?;
    let user = sextant::auth::repo::find_active_by_id(db.pool(), id)
        .await?
        .with_context(|| format!("active user {email}"))?;
    let found = sextant::tenants::repo::tenant_access(db.pool(), slug, id)
        .await?
        .with_context(|| format!("{email} in {slug}"))?;
    let access = match (user.platform_role, found.member_role) {
        (Some(sextant::auth::PlatformRole::AccountManager), _) if found.assigned => {
            sextant::tenants::Access::AccountManager
        }
        (None, Some(role)) => role.access(),
        _ => bail!("{email} has no access to {slug}"),
    };
    Ok(sextant::auth::Actor::in_tenant(&user, found.tenant, access))
}

async fn rating_page(url: &str, runs: usize) -> Result<()> {
    use sextant::ratings::actions::{
        AssignRaters, OpenRating, SubmitScorecard, assign_raters, open_rating, submit_scorecard,
    };
    use sextant::ratings::domain::{Kind, default_template};

    let (db, passwords, mut conn) = demo_people(url).await?;
    let fill = Instant::now();
    let campaign = fill_campaign(
        &mut conn,
        &CampaignFill {
            collaborations: 1,
            posts: 3,
            days: 90,
            orders: 500,
            other_orders: 0,
        },
    )
    .await?;
    let collab: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM collaborations WHERE campaign_id = $1")
            .bind(campaign)
            .fetch_one(&mut conn)
            .await?;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM posts WHERE collaboration_id = $1), \
                (SELECT count(*) FROM metric_snapshots s JOIN posts p ON p.id = s.post_id \
                  WHERE p.collaboration_id = $1), \
                (SELECT count(*) FROM order_attributions WHERE collaboration_id = $1)",
    )
    .bind(collab)
    .fetch_one(&mut conn)
    .await?;
    let filled = fill.elapsed().as_secs_f64();

    // The rating, through the real actions: opened by the owner (inputs frozen from the posts and
    // orders), three raters asked, two scorecards in (the second completes it).
    let owner = actor_for(&db, "owner@lumi-home.example", "lumi").await?;
    let operator = actor_for(&db, "operator@lumi-home.example", "lumi").await?;
    let tenant = owner.tenant_id()?;
    let mut tx = db.tenant_tx(tenant, owner.user_id).await?;
    let eligible = sextant::ratings::repo::eligible_raters(&mut tx, tenant).await?;
    let third = eligible
        .iter()
        .map(|e| e.user_id)
        .find(|u| Some(*u) != owner.user_id && Some(*u) != operator.user_id)
        .context("the demo tenant has a third person who may rate")?;
    let t = Instant::now();
    open_rating(
        &mut tx,
        &owner,
        OpenRating {
            collaboration_id: collab,
            override_reason: String::new(),
            now: time::OffsetDateTime::now_utc(),
        },
    )
    .await?;
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    assign_raters(
        &mut tx,
        &owner,
        AssignRaters {
            collaboration_id: collab,
            user_ids: [owner.user_id, operator.user_id, Some(third)]
                .into_iter()
                .flatten()
                .collect(),
        },
    )
    .await?;
    tx.commit().await?;
    for (actor, level) in [(&operator, "3"), (&owner, "4")] {
        let levels = default_template()
            .into_iter()
            .filter(|d| d.kind == Kind::Subjective)
            .map(|d| (d.code, level.to_string()))
            .collect();
        let mut tx = db.tenant_tx(tenant, actor.user_id).await?;
        submit_scorecard(
            &mut tx,
            actor,
            SubmitScorecard {
                collaboration_id: collab,
                levels,
                justification: String::new(),
                comment: "Bench: clear hook, product shown late.".into(),
            },
        )
        .await?;
        tx.commit().await?;
    }
    conn.execute("VACUUM ANALYZE").await?;

    let page = PageClient::new(url, &db, passwords).await?;
    let path = format!("/t/lumi/collaborations/{collab}/rating");
    let (times, bytes) = page.time(&path, runs).await?;
    let (min, max) = min_max(&times);
    println!(
        "rating_page: posts={} snapshots={} orders_attributed={} raters=3 submitted=2 fill_s={filled:.1} open_rating_ms={open_ms:.1} runs={}",
        counts.0,
        counts.1,
        counts.2,
        times.len()
    );
    println!(
        "rating_page_median_ms={:.1} min_ms={min:.1} max_ms={max:.1} page_bytes={bytes}",
        median(times)
    );
    db.close().await;
    page.finish();
    Ok(())
}

/// A deterministic affiliate export of `rows` lines (about 250 bytes each).
fn write_bench_orders(path: &std::path::Path, rows: usize, xlsx: bool) -> Result<()> {
    use sextant::seed::orders::{TikTokRow, write_tiktok_header, write_tiktok_row};
    let start = time::macros::datetime!(2026-01-01 00:00);
    let creators: Vec<String> = (0..500).map(|i| format!("bench.creator{i}")).collect();
    let row = |i: usize| TikTokRow {
        order_id: 577_000_000_000_000_000 + (i / 2) as u64,
        sku_id: 1_729_000_000 + (i % 2) as u64,
        product: "Bench Lamp",
        amount_cents: 1_000 + (i % 200_000) as i64,
        currency: "USD",
        quantity: 1 + (i % 3) as u32,
        refunded: i.is_multiple_of(17),
        status: "Completed",
        creator: if i.is_multiple_of(10) {
            ""
        } else {
            &creators[i % creators.len()]
        },
        content_id: Some(7_300_000_000_000_000_000 + (i % 5_000) as u64),
        rate_percent: 10 + (i % 3) as u32 * 5,
        created: start + time::Duration::seconds((i * 7) as i64),
        paid_commission_cents: None,
    };
    if xlsx {
        sextant::seed::orders::write_tiktok_xlsx(path, (0..rows).map(row))?;
        return Ok(());
    }
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut out = csv::Writer::from_writer(file);
    write_tiktok_header(&mut out)?;
    for i in 0..rows {
        write_tiktok_row(&mut out, &row(i))?;
    }
    out.flush()?;
    Ok(())
}

async fn current_orders(db: &sextant::db::Db, tenant: uuid::Uuid) -> Result<i64> {
    let mut tx = db.tenant_tx(tenant, None).await?;
    let n = sqlx::query_scalar("SELECT count(*) FROM orders_current")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

async fn import(url: &str, rows: usize, xlsx_rows: usize) -> Result<()> {
    use sextant::tracking::order_imports::ingest::{import_file, import_validated};
    sextant::db::migrate(url).await?;
    let db = sextant::db::Db::connect(url, 8).await?;
    let passwords = sextant::auth::password::PasswordService::fast_for_tests()?;
    sextant::seed::seed_demo(&db, &passwords).await?;
    let tenant = sextant::tenants::repo::tenant_by_slug(db.pool(), "lumi")
        .await?
        .context("demo tenant")?
        .id;
    let mut tx = db.tenant_tx(tenant, None).await?;
    let shop: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM shops WHERE platform = 'tiktok_shop' ORDER BY name")
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    let scratch = tempfile::tempdir_in("/tmp")?;
    let storage = sextant::storage::Storage::local(&scratch.path().join("objects"))?;
    let csv_path = scratch.path().join("affiliate-orders.csv");
    let written = Instant::now();
    write_bench_orders(&csv_path, rows, false)?;
    let bytes = std::fs::metadata(&csv_path)?.len();
    println!(
        "import: generated {rows} rows ({:.1} MB) in {:.1} s",
        bytes as f64 / 1e6,
        written.elapsed().as_secs_f64()
    );
    let exported = time::OffsetDateTime::now_utc();
    let timer = Instant::now();
    let id = import_file(
        &db,
        &storage,
        tenant,
        shop,
        &csv_path,
        "bench.csv",
        exported,
        false,
    )
    .await?;
    let validated = timer.elapsed().as_secs_f64();
    import_validated(&db, &storage, tenant, id, "bench.csv").await?;
    let seconds = timer.elapsed().as_secs_f64();
    let current = current_orders(&db, tenant).await?;
    println!(
        "import CSV: {rows} rows stored + validated + imported in {seconds:.2} s = {:.0} rows/s end to end; {current} current order lines",
        rows as f64 / seconds
    );
    println!(
        "import CSV phases: stored + validated {validated:.2} s, imported {:.2} s",
        seconds - validated
    );
    println!("import: peak RSS (VmHWM) {} MB", status_kib("VmHWM") / 1024);
    let timer = Instant::now();
    import_file(
        &db,
        &storage,
        tenant,
        shop,
        &csv_path,
        "bench-again.csv",
        exported,
        true,
    )
    .await?;
    let again = current_orders(&db, tenant).await?;
    println!(
        "import CSV again: {:.2} s; current order lines {current} -> {again} ({} added)",
        timer.elapsed().as_secs_f64(),
        again - current
    );
    std::fs::remove_file(&csv_path).ok();
    if xlsx_rows > 0 {
        let xlsx_path = scratch.path().join("affiliate-orders.xlsx");
        write_bench_orders(&xlsx_path, xlsx_rows, true)?;
        let timer = Instant::now();
        import_file(
            &db,
            &storage,
            tenant,
            shop,
            &xlsx_path,
            "bench.xlsx",
            exported,
            true,
        )
        .await?;
        let seconds = timer.elapsed().as_secs_f64();
        println!(
            "import XLSX: {xlsx_rows} rows ({:.1} MB) in {seconds:.2} s = {:.0} rows/s end to end",
            std::fs::metadata(&xlsx_path)?.len() as f64 / 1e6,
            xlsx_rows as f64 / seconds
        );
    }
    println!(
        "import: peak RSS (VmHWM) at the end {} MB",
        status_kib("VmHWM") / 1024
    );
    db.close().await;
    Ok(())
}

/// Last month in Asia/Shanghai (the demo tenant's zone): the month the settlement benchmarks
/// fill and settle.
fn bench_period() -> time::Date {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    let first = now.date().replace_day(1).expect("day 1");
    let prev = first - time::Duration::days(1);
    prev.replace_day(1).expect("day 1")
}

/// Fills the demo tenant for a month's settlement: `collaborations` creators each with a fixed
/// fee + commission contract (USD), one post in the month, and `orders` order lines between them
/// (two thirds TikTok Shop with actual commission bases, one third Shopify), all paid in the
/// month and attributed (inserted directly, as an import would leave them); finance's USD rate.
async fn fill_settlement(
    conn: &mut PgConnection,
    collaborations: usize,
    orders: usize,
) -> Result<(uuid::Uuid, time::Date)> {
    let period = bench_period();
    let tenant: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'lumi'")
        .fetch_one(&mut *conn)
        .await?;
    let campaign = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, id, code, state, title, data) \
         VALUES ($1, $2, 'LUMI-BENCH-S', 'running', 'Settlement benchmark', '{}')",
    )
    .bind(tenant)
    .bind(campaign)
    .execute(&mut *conn)
    .await?;
    let start = format!("{period} 00:00:00+08");
    // Creators, collaborations, contracts and posts, set-wise.
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, followers) \
         SELECT md5('settle' || g)::uuid, 'settle.creator' || g, 'Settle ' || g, 100000 \
           FROM generate_series(1, $1) g",
    )
    .bind(collaborations as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
           link_slug, created_at) \
         SELECT $1, md5('collab' || g)::uuid, $2, md5('settle' || g)::uuid, 'tracking', \
                'SETTLE' || g, 'settle' || g, $3::timestamptz FROM generate_series(1, $4) g",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(&start)
    .bind(collaborations as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO contract_versions (tenant_id, collaboration_id, version, terms) \
         SELECT $1, md5('collab' || g)::uuid, 1, jsonb_build_object(
           'fee_model', 'fixed_plus_commission', 'fixed_fee', '500.00', 'fixed_fee_currency', 'USD',
           'commission_rate', '0.1', 'service_fee_rate', '0.1', 'videos', 1, 'live_sessions', 0,
           'publish_deadline', '2030-01-01', 'min_days_live', 30, 'revisions_included', 2,
           'usage_rights', 'organic_only', 'paid_ads_until', null, 'sample', null,
           'discount_code', 'SETTLE' || g) FROM generate_series(1, $2) g",
    )
    .bind(tenant)
    .bind(collaborations as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
         SELECT $1, md5('post' || g)::uuid, md5('collab' || g)::uuid, \
                'https://www.tiktok.invalid/@s/video/' || g, 'settle-video-' || g, \
                $2::timestamptz + interval '2 days' FROM generate_series(1, $3) g",
    )
    .bind(tenant)
    .bind(&start)
    .bind(collaborations as i32)
    .execute(&mut *conn)
    .await?;
    // One import batch per shop kind.
    let mut imports = Vec::new();
    for (platform, format) in [("tiktok_shop", "tiktok_affiliate"), ("shopify", "shopify")] {
        let shop: uuid::Uuid = sqlx::query_scalar(
            "SELECT id FROM shops WHERE tenant_id = $1 AND platform = $2 ORDER BY name LIMIT 1",
        )
        .bind(tenant)
        .bind(platform)
        .fetch_one(&mut *conn)
        .await?;
        let upload = uuid::Uuid::now_v7();
        let import = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO uploads (tenant_id, id, purpose, filename, bytes, sha256, storage_key) \
             VALUES ($1, $2, 'orders', 'bench.csv', 0, '', $3)",
        )
        .bind(tenant)
        .bind(upload)
        .bind(format!("bench/{upload}"))
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, format, exported_at, \
             state) VALUES ($1, $2, $3, $4, $5, now(), 'imported')",
        )
        .bind(tenant)
        .bind(import)
        .bind(shop)
        .bind(upload)
        .bind(format)
        .execute(&mut *conn)
        .await?;
        imports.push((shop, import, format));
    }
    for (i, (shop, import, format)) in imports.iter().enumerate() {
        // Two thirds of the lines TikTok's, one third Shopify's.
        let (from, to) = if i == 0 {
            (0, orders * 2 / 3)
        } else {
            (orders * 2 / 3, orders)
        };
        let tiktok = *format == "tiktok_affiliate";
        sqlx::query(
            "INSERT INTO order_lines (tenant_id, import_id, shop_id, order_key, line_key, exported_at, \
               placed_at, paid_at, status, currency, amount, fully_refunded, commission_rate, \
               actual_commission_base, actual_commission, subtotal) \
             SELECT $1, $2, $3, 'S' || n, CASE WHEN $4 THEN 'sku' ELSE '' END, now(), \
                    $5::timestamptz + make_interval(mins => (n % 40000)::int), \
                    $5::timestamptz + make_interval(mins => (n % 40000)::int + 1), 'completed', 'USD', \
                    19.90 + n % 50, n % 23 = 0, 0.1, \
                    CASE WHEN $4 THEN 19.90 + n % 50 END, \
                    CASE WHEN $4 THEN round((19.90 + n % 50) * 0.1, 2) END, \
                    CASE WHEN $4 THEN NULL ELSE 19.90 + n % 50 END \
               FROM generate_series($6, $7 - 1) n",
        )
        .bind(tenant)
        .bind(import)
        .bind(shop)
        .bind(tiktok)
        .bind(&start)
        .bind(from as i64)
        .bind(to as i64)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO order_attributions (tenant_id, shop_id, order_key, line_key, \
               collaboration_id, attributed_by) \
             SELECT $1, $2, 'S' || n, CASE WHEN $3 THEN 'sku' ELSE '' END, \
                    md5('collab' || (1 + n % $4))::uuid, 'content' \
               FROM generate_series($5, $6 - 1) n",
        )
        .bind(tenant)
        .bind(shop)
        .bind(tiktok)
        .bind(collaborations as i64)
        .bind(from as i64)
        .bind(to as i64)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO fx_rates (period, currency, target, rate) VALUES ($1, 'USD', 'CNY', 7.1234)",
    )
    .bind(period)
    .execute(&mut *conn)
    .await?;
    conn.execute("VACUUM ANALYZE").await?;
    conn.execute("CHECKPOINT").await?;
    Ok((tenant, period))
}

/// `settlement`: times computing the month's draft (`settlement::actions::compute_draft`: every
/// read, the computation and writing the draft's lines) for the filled tenant, `runs` times.
async fn settlement(url: &str, collaborations: usize, orders: usize, runs: usize) -> Result<()> {
    use sextant::settlement::{actions, repo};
    let (db, _passwords, mut conn) = demo_people(url).await?;
    let fill = Instant::now();
    let (_, period) = fill_settlement(&mut conn, collaborations, orders).await?;
    let filled = fill.elapsed().as_secs_f64();
    let actor = {
        let id: uuid::Uuid =
            sqlx::query_scalar("SELECT id FROM users WHERE email = 'finance@sextant.example'")
                .fetch_one(&mut conn)
                .await?;
        let user = sextant::auth::repo::find_active_by_id(db.pool(), id)
            .await?
            .context("finance user")?;
        sextant::auth::Actor::user(&user)
    };
    let mut times = Vec::new();
    let mut lines = 0;
    for run in 0..=runs.max(1) {
        let mut tx = db.system_tx(sextant::db::SystemScope::Cli).await?;
        let tenant = repo::tenant_by_slug(&mut tx, "lumi")
            .await?
            .context("lumi")?;
        let t = Instant::now();
        actions::compute_draft(
            &mut tx,
            &actor,
            actions::PeriodOf {
                tenant: &tenant,
                period,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("compute: {e:?}"))?;
        let s = t.elapsed().as_secs_f64();
        let draft = repo::draft(&mut tx, tenant.id, period, false)
            .await?
            .context("draft")?;
        lines = draft.line_count;
        if !draft.missing_rates.is_empty() {
            bail!("rates missing: {:?}", draft.missing_rates);
        }
        tx.commit().await?;
        if run > 0 {
            times.push(s);
        }
    }
    let (min, max) = min_max(&times);
    println!(
        "settlement: collaborations={collaborations} order_lines={orders} period={period} lines={lines} fill_s={filled:.1} runs={}",
        times.len()
    );
    println!(
        "settlement_compute_median_s={:.2} min_s={min:.2} max_s={max:.2} peak_rss_mib={}",
        median(times),
        status_kib("VmHWM") / 1024
    );
    db.close().await;
    Ok(())
}

/// `settlement-export`: a finalized settlement of `lines` lines (inserted directly), then its
/// CSV and XLSX exports requested through the app's router as the seller's owner downloads them,
/// each body read to the end; raw `COPY (SELECT …) TO STDOUT` of the same rows beside the CSV;
/// the process's peak resident memory after each.
async fn settlement_export(url: &str, lines: usize) -> Result<()> {
    let (db, passwords, mut conn) = demo_people(url).await?;
    let period = bench_period();
    let tenant: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'lumi'")
        .fetch_one(&mut conn)
        .await?;
    let fill = Instant::now();
    let campaign = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, id, code, state, title, data) \
         VALUES ($1, $2, 'LUMI-BENCH-X', 'running', 'Export benchmark', '{}')",
    )
    .bind(tenant)
    .bind(campaign)
    .execute(&mut conn)
    .await?;
    let collaborations = 2_000;
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, followers) \
         SELECT md5('export' || g)::uuid, 'export.creator' || g, 'Export ' || g, 100000 \
           FROM generate_series(1, $1) g",
    )
    .bind(collaborations)
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
           link_slug) SELECT $1, md5('xcollab' || g)::uuid, $2, md5('export' || g)::uuid, 'tracking', \
           'EXPORT' || g, 'export' || g FROM generate_series(1, $3) g",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(collaborations)
    .execute(&mut conn)
    .await?;
    let users: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM users WHERE email IN ('finance@sextant.example', 'finance2@sextant.example') ORDER BY email",
    )
    .fetch_all(&mut conn)
    .await?;
    let settlement = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO settlements (tenant_id, id, period, settlement_currency, rates, total_seller, \
           total_creators, line_count, sent_to_review_by, finalized_by, finalized_by_label, \
           finalized_at, previous_hash, hash) \
         VALUES ($1, $2, $3, 'CNY', '{\"USD\": \"7.12340000\"}', 0, 0, $4, $5, $6, 'bench', now(), '', \
                 repeat('ab', 32))",
    )
    .bind(tenant)
    .bind(settlement)
    .bind(period)
    .bind(lines as i32)
    .bind(users[0])
    .bind(users[1])
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO settlement_lines (tenant_id, settlement_id, id, collaboration_id, \
           contract_version, component, payer, payee, payable, platform_paid, currency, amount, \
           rate, converted, reason) \
         SELECT $1, $2, md5('line' || g)::uuid, md5('xcollab' || (1 + g % $3))::uuid, 1, \
                (ARRAY['fixed_fee','commission','service_fee','deduction'])[1 + g % 4], \
                'seller', 'creator', true, false, 'USD', (g % 100000) / 100.0, 7.1234, \
                round((g % 100000) / 100.0 * 7.1234, 2), NULL \
           FROM generate_series(1, $4) g",
    )
    .bind(tenant)
    .bind(settlement)
    .bind(collaborations)
    .bind(lines as i64)
    .execute(&mut conn)
    .await?;
    conn.execute("VACUUM ANALYZE").await?;
    conn.execute("CHECKPOINT").await?;
    let filled = fill.elapsed().as_secs_f64();
    println!("settlement-export: lines={lines} fill_s={filled:.1}");

    // Raw COPY of the same rows (what Postgres alone takes to hand them over as CSV).
    let t = Instant::now();
    let mut copy = conn
        .copy_out_raw(
            format!(
                "COPY (SELECT id, collaboration_id, component, payer, payee, payable, currency, \
                 amount, rate, converted, reason FROM settlement_lines \
                 WHERE tenant_id = '{tenant}' AND settlement_id = '{settlement}' ORDER BY id) \
                 TO STDOUT WITH (FORMAT csv, HEADER)"
            )
            .as_str(),
        )
        .await?;
    let mut copied = 0usize;
    while let Some(chunk) = futures_util::StreamExt::next(&mut copy).await {
        copied += chunk?.len();
    }
    let copy_s = t.elapsed().as_secs_f64();
    let page = PageClient::new(url, &db, passwords).await?;
    let base = format!("/t/lumi/settlements/{settlement}");
    let rss_before = status_kib("VmHWM");
    let (csv_s, csv_bytes) = page.download(&format!("{base}/export.csv")).await?;
    let rss_csv = status_kib("VmHWM");
    let (xlsx_s, xlsx_bytes) = page.download(&format!("{base}/export.xlsx")).await?;
    let rss_xlsx = status_kib("VmHWM");
    let rate = |s: f64| lines as f64 / s.max(1e-9);
    println!(
        "copy_s={copy_s:.2} copy_lines_per_s={:.0} copy_bytes={copied}",
        rate(copy_s)
    );
    println!(
        "csv_s={csv_s:.2} csv_lines_per_s={:.0} csv_bytes={csv_bytes} csv_vs_copy={:.2}",
        rate(csv_s),
        rate(csv_s) / rate(copy_s)
    );
    println!(
        "xlsx_s={xlsx_s:.2} xlsx_lines_per_s={:.0} xlsx_bytes={xlsx_bytes}",
        rate(xlsx_s)
    );
    println!(
        "peak_rss_mib: before={} after_csv={} after_xlsx={}",
        rss_before / 1024,
        rss_csv / 1024,
        rss_xlsx / 1024
    );
    page.finish();
    db.close().await;
    Ok(())
}

/// One HTTP/1.1 request on a kept-alive connection: (status, body). The benchmark's own client,
/// so that what is timed is the server (no redirects are followed: none is sent).
async fn http_post(
    stream: &mut tokio::io::BufStream<tokio::net::TcpStream>,
    path: &str,
    token: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        stream.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse()?;
        }
    }
    let mut out = vec![0u8; length];
    stream.read_exact(&mut out).await?;
    Ok((status, out))
}

/// POSTs every body to `path` over `connections` kept-alive connections; the seconds it took.
async fn post_all(
    addr: std::net::SocketAddr,
    path: &'static str,
    token: &str,
    bodies: Vec<Vec<u8>>,
    connections: usize,
) -> Result<f64> {
    // Sent in the order given (a scraper's rounds go forward in time).
    let queue = std::sync::Arc::new(std::sync::Mutex::new(
        bodies
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let queue = queue.clone();
        let token = token.to_string();
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let mut stream = tokio::io::BufStream::new(tcp);
            loop {
                let next = queue.lock().expect("queue").pop_front();
                let Some(body) = next else {
                    return Ok::<_, anyhow::Error>(());
                };
                let (status, answer) = http_post(&mut stream, path, &token, &body).await?;
                if !(200..300).contains(&status) {
                    bail!("{path}: {status} {}", String::from_utf8_lossy(&answer));
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(t.elapsed().as_secs_f64())
}

async fn api_ingest(
    url: &str,
    (snapshots, posts): (usize, usize),
    orders: usize,
    (batch, connections): (usize, usize),
) -> Result<()> {
    use std::fmt::Write as _;
    let (db, passwords, mut conn) = demo_people(url).await?;
    let tenant: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'lumi'")
        .fetch_one(&mut conn)
        .await?;
    let shop: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM shops WHERE tenant_id = $1 AND platform = 'tiktok_shop' ORDER BY created_at LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(&mut conn)
    .await?;
    // P tracking collaborations, one post each, published 60 days ago.
    let posts = posts.max(1) as i64;
    let campaign = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, id, code, state, title, data) \
         VALUES ($1, $2, 'LUMI-BENCH-API', 'running', 'API benchmark', '{}')",
    )
    .bind(tenant)
    .bind(campaign)
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO creators (id, handle, display_name, followers) \
         SELECT md5('api' || g)::uuid, 'api.creator' || g, 'API ' || g, 100000 \
           FROM generate_series(1, $1) g",
    )
    .bind(posts)
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO collaborations (tenant_id, id, campaign_id, creator_id, state, discount_code, \
           link_slug) SELECT $1, md5('acollab' || g)::uuid, $2, md5('api' || g)::uuid, 'tracking', \
           'APIB' || g, 'apib' || g FROM generate_series(1, $3) g",
    )
    .bind(tenant)
    .bind(campaign)
    .bind(posts)
    .execute(&mut conn)
    .await?;
    let published: time::OffsetDateTime =
        time::OffsetDateTime::now_utc().replace_nanosecond(0)? - time::Duration::days(60);
    sqlx::query(
        "INSERT INTO posts (tenant_id, id, collaboration_id, url, video_id, published_at) \
         SELECT $1, md5('apost' || g)::uuid, md5('acollab' || g)::uuid, \
                'https://www.tiktok.com/@api.creator' || g || '/video/' || (7300000000000000000 + g), \
                (7300000000000000000 + g)::text, $3 FROM generate_series(1, $2) g",
    )
    .bind(tenant)
    .bind(posts)
    .bind(published)
    .execute(&mut conn)
    .await?;
    let post_ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM posts WHERE tenant_id = $1 AND url LIKE '%api.creator%' ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(&mut conn)
    .await?;
    conn.execute("VACUUM ANALYZE").await?;
    let token = sextant::api::actions::token_for(
        &db,
        "lumi",
        "owner@lumi-home.example",
        "benchmark".into(),
        "write".into(),
    )
    .await?;
    let mut config = sextant::config::Config::for_tests(url.to_string());
    let data_dir =
        std::path::PathBuf::from(format!("/tmp/sextant-bench-data-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    config.data_dir = data_dir;
    config.api_requests_per_minute = i32::MAX;
    let state = sextant::app::state(db.clone(), config, passwords);
    let app = sextant::app::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let rfc = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    // Snapshot i: post i % P in capture round i / P, rounds an hour apart from publishing.
    let snapshot_at = |i: usize| published + time::Duration::hours((i / posts as usize) as i64 + 1);
    let mut bodies = Vec::new();
    for start in (0..snapshots).step_by(batch.max(1)) {
        let mut body = String::from("{\"snapshots\":[");
        for i in start..(start + batch).min(snapshots) {
            if i > start {
                body.push(',');
            }
            write!(
                body,
                "{{\"post_id\":\"{}\",\"captured_at\":\"{}\",\"views\":{},\"likes\":{},\"comments\":{},\"shares\":{},\"avg_watch_seconds\":\"7.25\"}}",
                post_ids[i % post_ids.len()],
                rfc(snapshot_at(i)),
                1000 + i,
                i % 97,
                i % 13,
                i % 7
            )?;
        }
        body.push_str("]}");
        bodies.push(body.into_bytes());
    }
    let snapshot_bytes: usize = bodies.iter().map(Vec::len).sum();
    let api_s = post_all(addr, "/api/v1/snapshots", &token, bodies, connections).await?;
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM metric_snapshots WHERE tenant_id = $1 AND source = 'api'",
    )
    .bind(tenant)
    .fetch_one(&mut conn)
    .await?;
    if stored != snapshots as i64 {
        bail!("snapshots: {stored} stored of {snapshots} sent");
    }
    // Raw COPY of the same rows (half a second later each, so none collides).
    let mut copy_text = String::new();
    for i in 0..snapshots {
        writeln!(
            copy_text,
            "{tenant}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t7.25\tapi",
            uuid::Uuid::now_v7(),
            post_ids[i % post_ids.len()],
            rfc(snapshot_at(i) + time::Duration::milliseconds(500)),
            1000 + i,
            i % 97,
            i % 13,
            i % 7
        )?;
    }
    let t = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY metric_snapshots (tenant_id, id, post_id, captured_at, views, likes, comments, \
             shares, avg_watch_seconds, source) FROM STDIN",
        )
        .await?;
    copy.send(copy_text.into_bytes()).await?;
    copy.finish().await?;
    let copy_s = t.elapsed().as_secs_f64();
    let api_rate = snapshots as f64 / api_s;
    let copy_rate = snapshots as f64 / copy_s;
    println!(
        "api-ingest snapshots: rows={snapshots} batch={batch} connections={connections} \
         body_mb={:.1} api_s={api_s:.2} api_rows_per_s={api_rate:.0} copy_s={copy_s:.2} \
         copy_rows_per_s={copy_rate:.0} ratio={:.2}",
        snapshot_bytes as f64 / 1e6,
        api_rate / copy_rate
    );

    // Orders: lines of distinct orders, a tenth of them naming a benchmark creator.
    let as_of =
        rfc(time::OffsetDateTime::now_utc().replace_nanosecond(0)? - time::Duration::hours(1));
    let placed = |i: usize| published + time::Duration::seconds(i as i64 % 86_400 + 60);
    let line_json = |i: usize| {
        let creator = if i.is_multiple_of(10) {
            format!(
                ",\"creator_username\":\"api.creator{}\"",
                1 + i % posts as usize
            )
        } else {
            String::new()
        };
        format!(
            "{{\"order_key\":\"API{i:09}\",\"line_key\":\"SKU{}\",\"placed_at\":\"{}\",\
             \"status\":\"completed\",\"currency\":\"USD\",\"amount\":\"{}.{:02}\",\"quantity\":1,\
             \"commission_rate\":\"0.1\",\"product_name\":\"Desk lamp\"{creator}}}",
            i % 3,
            rfc(placed(i)),
            10 + i % 90,
            i % 100
        )
    };
    let mut bodies = Vec::new();
    for start in (0..orders).step_by(batch.max(1)) {
        let mut body = format!("{{\"shop_id\":\"{shop}\",\"as_of\":\"{as_of}\",\"lines\":[");
        for i in start..(start + batch).min(orders) {
            if i > start {
                body.push(',');
            }
            body.push_str(&line_json(i));
        }
        body.push_str("]}");
        bodies.push(body.into_bytes());
    }
    let order_bytes: usize = bodies.iter().map(Vec::len).sum();
    let api_s = post_all(addr, "/api/v1/orders", &token, bodies, connections).await?;
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_lines l JOIN order_imports i ON i.tenant_id = l.tenant_id \
           AND i.id = l.import_id WHERE l.tenant_id = $1 AND i.source = 'api' AND i.state = 'imported'",
    )
    .bind(tenant)
    .fetch_one(&mut conn)
    .await?;
    if stored != orders as i64 {
        bail!("orders: {stored} lines stored of {orders} sent");
    }
    // Raw COPY of the same lines into order_lines, under a batch of their own.
    let upload = uuid::Uuid::now_v7();
    let import = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO uploads (tenant_id, id, purpose, filename, bytes, sha256, storage_key) \
         VALUES ($1, $2, 'orders', 'copy', 0, '', 'copy-' || $2)",
    )
    .bind(tenant)
    .bind(upload)
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO order_imports (tenant_id, id, shop_id, upload_id, exported_at, state) \
         VALUES ($1, $2, $3, $4, now(), 'imported')",
    )
    .bind(tenant)
    .bind(import)
    .bind(shop)
    .bind(upload)
    .execute(&mut conn)
    .await?;
    let mut copy_text = String::new();
    for i in 0..orders {
        let creator = if i.is_multiple_of(10) {
            format!("api.creator{}", 1 + i % posts as usize)
        } else {
            "\\N".into()
        };
        writeln!(
            copy_text,
            "{tenant}\t{import}\t{shop}\tAPI{i:09}\tSKU{}\t{as_of}\t{}\tcompleted\tUSD\t{}.{:02}\t1\t0\tf\t{creator}\t0.1\tDesk lamp",
            i % 3,
            rfc(placed(i)),
            10 + i % 90,
            i % 100
        )?;
    }
    let t = Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY order_lines (tenant_id, import_id, shop_id, order_key, line_key, exported_at, \
             placed_at, status, currency, amount, quantity, refunded_amount, fully_refunded, \
             creator_username, commission_rate, product_name) FROM STDIN",
        )
        .await?;
    copy.send(copy_text.into_bytes()).await?;
    copy.finish().await?;
    let copy_s = t.elapsed().as_secs_f64();
    let api_rate = orders as f64 / api_s;
    let copy_rate = orders as f64 / copy_s;
    println!(
        "api-ingest orders: lines={orders} batch={batch} connections={connections} \
         body_mb={:.1} api_s={api_s:.2} api_lines_per_s={api_rate:.0} copy_s={copy_s:.2} \
         copy_lines_per_s={copy_rate:.0} ratio={:.2} peak_rss_mib={}",
        order_bytes as f64 / 1e6,
        api_rate / copy_rate,
        status_kib("VmHWM") / 1024
    );
    Ok(())
}
