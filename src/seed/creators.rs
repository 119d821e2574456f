//! Demo creators: a believable pool, the same every run (a fixed random seed). Followers are
//! log-normal between 5k and 5M, markets lean to the US, GB and South-East Asia, and audience,
//! engagement and quotes follow the follower count the way real pools do.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgConnection;

const FIRST: &[&str] = &[
    "sunny", "hana", "lina", "mia", "zoe", "ava", "leo", "max", "kai", "nora", "ella", "ivy",
    "jade", "luna", "ruby", "theo", "finn", "rosa", "maya", "noah", "aria", "cleo", "dina", "eli",
    "gia", "hugo", "isla", "june", "kira", "lola", "mira", "nina", "otis", "pia",
];
const TOPIC: &[(&str, &str)] = &[
    ("kitchen", "home_kitchen"),
    ("home", "home_decor"),
    ("glow", "beauty"),
    ("style", "fashion"),
    ("tech", "electronics"),
    ("trail", "outdoor"),
    ("fit", "sports"),
    ("paws", "pets"),
    ("mama", "baby"),
    ("eats", "food"),
    ("well", "health"),
    ("toys", "toys"),
    ("garage", "automotive"),
];
const STYLES: &[&str] = &[
    "talking_head",
    "real_shot",
    "unboxing",
    "tutorial",
    "before_after",
    "storytelling",
    "live_selling",
];
/// (market, weight, language, currency of quotes).
const MARKETS: &[(&str, u32, &str, &str)] = &[
    ("US", 30, "en", "USD"),
    ("GB", 14, "en", "GBP"),
    ("ID", 8, "id", "USD"),
    ("TH", 7, "th", "USD"),
    ("VN", 6, "vi", "USD"),
    ("MY", 6, "ms", "USD"),
    ("PH", 6, "en", "USD"),
    ("SG", 4, "en", "USD"),
    ("DE", 5, "de", "EUR"),
    ("FR", 3, "fr", "EUR"),
    ("ES", 2, "es", "EUR"),
    ("IT", 2, "it", "EUR"),
    ("MX", 3, "es", "USD"),
    ("BR", 2, "pt", "USD"),
    ("SA", 1, "ar", "USD"),
    ("AE", 1, "en", "USD"),
];
const AGES: &[&str] = &["13-17", "18-24", "25-34", "35-44", "45-54", "55+"];

fn normal(rng: &mut StdRng) -> f64 {
    // Box–Muller: two uniforms make one standard normal.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn pick_market(rng: &mut StdRng) -> &'static (&'static str, u32, &'static str, &'static str) {
    let total: u32 = MARKETS.iter().map(|m| m.1).sum();
    let mut n = rng.random_range(0..total);
    for m in MARKETS {
        if n < m.1 {
            return m;
        }
        n -= m.1;
    }
    &MARKETS[0]
}

/// Shares that add up to 1, leaning on the `peak` index.
fn shares(rng: &mut StdRng, n: usize, peak: usize) -> Vec<f64> {
    let raw: Vec<f64> = (0..n)
        .map(|i| {
            let base: f64 = rng.random_range(0.02..0.2);
            if i == peak {
                base + 0.5
            } else if i + 1 == peak || i == peak + 1 {
                base + 0.15
            } else {
                base
            }
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter()
        .map(|v| (v / sum * 100.0).round() / 100.0)
        .collect()
}

fn json_shares(keys: &[&str], values: &[f64]) -> String {
    let pairs: Vec<String> = keys
        .iter()
        .zip(values)
        .filter(|(_, v)| **v > 0.0)
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Inserts (or refreshes) `count` demo creators in one statement. Profile URLs point at hosts
/// under `.invalid`, so nothing in the demo can reach the outside.
pub async fn seed_creators(conn: &mut PgConnection, count: usize) -> Result<u64, sqlx::Error> {
    insert_creators(conn, 0, count).await
}

/// Inserts creators number `start` to `start + count` (each batch has its own seed, so large
/// pools are made in batches of bounded memory and stay the same every run).
pub async fn insert_creators(
    conn: &mut PgConnection,
    start: usize,
    count: usize,
) -> Result<u64, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(20261122 + start as u64);
    let mut cols: Vec<Vec<String>> = (0..22).map(|_| Vec::with_capacity(count)).collect();
    let ids: Vec<uuid::Uuid> = (0..count).map(|_| uuid::Uuid::now_v7()).collect();
    for i in start..start + count {
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let (topic, category) = TOPIC[rng.random_range(0..TOPIC.len())];
        let handle = format!("{first}.{topic}{i:04}");
        let followers = (60_000f64.ln() + 1.25 * normal(&mut rng))
            .exp()
            .clamp(5_000.0, 5_000_000.0) as i64;
        let home = pick_market(&mut rng);
        let mut markets = vec![home.0];
        if rng.random_bool(0.35) {
            let extra = pick_market(&mut rng).0;
            if extra != home.0 {
                markets.push(extra);
            }
        }
        let languages = if home.2 == "en" {
            "en".to_string()
        } else {
            format!("{},en", home.2)
        };
        // Bigger accounts reach a smaller share of followers per video and engage less.
        let reach = rng.random_range(0.08..0.6) * (1.0 - (followers as f64).log10() / 12.0);
        let views = ((followers as f64) * reach).max(300.0) as i64;
        let er = (0.09 - 0.01 * (followers as f64).log10()).max(0.01) * rng.random_range(0.4..1.8);
        let likes = (views as f64 * er * 0.82) as i64;
        let comments = (views as f64 * er * 0.1) as i64;
        let shares_n = (views as f64 * er * 0.08) as i64;
        let second_category = TOPIC[rng.random_range(0..TOPIC.len())].1;
        let categories = if second_category == category {
            category.to_string()
        } else {
            format!("{category},{second_category}")
        };
        let style_a = STYLES[rng.random_range(0..STYLES.len())];
        let style_b = STYLES[rng.random_range(0..STYLES.len())];
        let styles = if style_a == style_b {
            style_a.to_string()
        } else {
            format!("{style_a},{style_b}")
        };
        let age_peak = if category == "toys" || category == "fashion" {
            1
        } else {
            rng.random_range(1..4)
        };
        let ages = shares(&mut rng, AGES.len(), age_peak);
        let female: f64 = match category {
            "beauty" | "fashion" | "baby" | "home_decor" => rng.random_range(0.65..0.92),
            "automotive" | "electronics" | "outdoor" => rng.random_range(0.15..0.45),
            _ => rng.random_range(0.4..0.7),
        };
        let female = (female * 100.0).round() / 100.0;
        let home_share: f64 = (rng.random_range(0.55..0.85) * 100.0f64).round() / 100.0;
        let other = if home.0 == "US" { "GB" } else { "US" };
        let countries = format!(
            "{{\"{}\": {home_share}, \"{other}\": {}}}",
            home.0,
            ((1.0 - home_share) * 50.0).round() / 100.0
        );
        // Quotes scale with reach: roughly 10–40 USD per 1,000 average views, at least 50.
        let per_video = ((views as f64 / 1000.0) * rng.random_range(10.0..40.0))
            .max(50.0)
            .round();
        let currency = home.3;
        let fx = match currency {
            "GBP" => 0.79,
            "EUR" => 0.92,
            _ => 1.0,
        };
        let quote_video = (per_video * fx).round();
        let quote_live = (quote_video * rng.random_range(1.5..3.0)).round();
        let posting_rate: f64 = (rng.random_range(0.55..1.0) * 100.0f64).round() / 100.0;
        let violation = if rng.random_bool(0.03) {
            "2025 曾发布未标注的广告 / undisclosed ad in 2025"
        } else {
            ""
        };
        let row = [
            handle.clone(),
            format!("{} {}", capitalized(first), capitalized(topic)),
            format!("https://www.tiktok.invalid/@{handle}"),
            home.0.to_string(),
            markets.join(","),
            languages,
            followers.to_string(),
            views.to_string(),
            likes.to_string(),
            comments.to_string(),
            shares_n.to_string(),
            categories,
            styles,
            json_shares(AGES, &ages),
            format!(
                "{{\"female\": {female}, \"male\": {}}}",
                ((1.0 - female) * 100.0).round() / 100.0
            ),
            countries,
            format!("{quote_video:.2}"),
            format!("{quote_live:.2}"),
            currency.to_string(),
            format!("{posting_rate}"),
            violation.to_string(),
            // Three recent videos, newest first (ids grow with time, as TikTok's do).
            (0..3u64)
                .map(|k| {
                    let video = 7_440_000_000_000_000_000u64 - (i as u64) * 1_000 - k * 97;
                    format!("https://www.tiktok.invalid/@{handle}/video/{video}")
                })
                .collect::<Vec<_>>()
                .join(","),
        ];
        for (col, value) in cols.iter_mut().zip(row) {
            col.push(value);
        }
    }
    let done = sqlx::query(
        "INSERT INTO creators (id, handle, display_name, profile_url, country, markets, languages, \
           followers, avg_views, avg_likes, avg_comments, avg_shares, categories, styles, audience_age, \
           audience_gender, audience_countries, quote_video, quote_live, quote_currency, \
           sample_posting_rate, violation_notes, mcn, last_refreshed_at, recent_videos) \
         SELECT id, h, dn, url, c, string_to_array(m, ','), string_to_array(l, ','), \
           f::bigint, v::bigint, lk::bigint, cm::bigint, sh::bigint, string_to_array(cat, ','), \
           string_to_array(st, ','), aa::jsonb, ag::jsonb, ac::jsonb, qv::numeric, ql::numeric, qc, \
           pr::numeric, NULLIF(vn, ''), 'Demo MCN', now(), string_to_array(rv, ',') \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], \
           $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], \
           $22::text[], $23::uuid[]) \
           AS t(h, dn, url, c, m, l, f, v, lk, cm, sh, cat, st, aa, ag, ac, qv, ql, qc, pr, vn, rv, id) \
         ON CONFLICT (handle) DO UPDATE SET followers = EXCLUDED.followers, avg_views = EXCLUDED.avg_views, \
           avg_likes = EXCLUDED.avg_likes, avg_comments = EXCLUDED.avg_comments, \
           avg_shares = EXCLUDED.avg_shares, recent_videos = EXCLUDED.recent_videos, \
           last_refreshed_at = now(), updated_at = now()",
    )
    .bind(&cols[0]).bind(&cols[1]).bind(&cols[2]).bind(&cols[3]).bind(&cols[4]).bind(&cols[5])
    .bind(&cols[6]).bind(&cols[7]).bind(&cols[8]).bind(&cols[9]).bind(&cols[10]).bind(&cols[11])
    .bind(&cols[12]).bind(&cols[13]).bind(&cols[14]).bind(&cols[15]).bind(&cols[16]).bind(&cols[17])
    .bind(&cols[18]).bind(&cols[19]).bind(&cols[20]).bind(&cols[21]).bind(&ids)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// `isla` → `Isla` (names in the demo are ASCII).
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}
