//! Benchmarks that need a database: `sextant-bench matching --creators N [--runs R]`.
//! Fills a scratch database (a private cluster in a temporary folder, or TEST_DATABASE_URL's
//! server) with N demo creators, then times ranking them for the benchmark campaign against the
//! bare SQL filter query alone, and reports medians and the process's peak resident memory.

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
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some("matching") {
        bail!("usage: sextant-bench matching --creators N [--runs R]");
    }
    let creators: usize = arg(&args, "--creators")
        .unwrap_or_else(|| "100000".into())
        .parse()?;
    let runs: usize = arg(&args, "--runs").unwrap_or_else(|| "7".into()).parse()?;

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
    let result = run(&url, creators, runs).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)").as_str())
        .await
        .ok();
    if let Some((pg, root)) = _cluster {
        pg.stop().ok();
        std::fs::remove_dir_all(root).ok();
    }
    result
}

async fn run(url: &str, creators: usize, runs: usize) -> Result<()> {
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
    conn.execute("ANALYZE creators").await?;
    let filled = fill.elapsed().as_secs_f64();

    // The ranking runs like the page does: through the app's pool (role sextant_app), inside a
    // tenant scope, from the in-memory projection, which the first ranking loads.
    conn.execute("SET ROLE sextant_app").await?;
    let db = sextant::db::Db::connect(url, 4).await?;
    let cache = PoolCache::default();
    let ask = benchmark_ask();
    let weights = Weights::default();
    let tenant = uuid::Uuid::now_v7();
    let campaign = uuid::Uuid::now_v7();
    let rates = ReferenceRates::load(&mut conn).await?;
    let markets = ask.markets.clone();
    let rss_before_load = status_kib("VmRSS");
    let t = Instant::now();
    let first = {
        let mut tx = db.tenant_tx(tenant, None).await?;
        pool::rank(
            &cache, &db, &mut tx, tenant, campaign, &ask, &weights, &rates, 50,
        )
        .await?
    };
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let projection_mib = (status_kib("VmRSS").saturating_sub(rss_before_load)) as f64 / 1024.0;
    let (mut sql_ms, mut rank_ms) = (Vec::new(), Vec::new());
    let mut candidates_n = 0;
    let mut returned = 0;
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
        let ranked = pool::rank(
            &cache, &db, &mut tx, tenant, campaign, &ask, &weights, &rates, 50,
        )
        .await?;
        tx.commit().await?;
        rank_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if ranked != first {
            bail!("two rankings of the same pool differ");
        }
        returned = ranked.len();
    }
    println!("creators={creators} runs={runs} fill_s={filled:.1}");
    println!("candidates_after_sql_filter={candidates_n} returned={returned}");
    println!("bare_sql_filter_median_ms={:.1}", median(sql_ms));
    println!("ranking_top50_median_ms={:.1}", median(rank_ms));
    println!(
        "first_ranking_with_projection_load_ms={load_ms:.0} projection_rss_mib={projection_mib:.1}"
    );
    println!("vm_hwm_mib={:.1}", status_kib("VmHWM") as f64 / 1024.0);
    Ok(())
}
