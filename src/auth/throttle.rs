//! Login throttling with its counters in Postgres (app servers are stateless). Two keys: the
//! account with the ip (so a guesser is paused) and the ip alone (so one ip cannot spray many
//! accounts). A real user on another ip is never locked out by someone else's failures.

use std::net::IpAddr;

use sqlx::PgPool;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_account_ip: i32,
    pub per_ip: i32,
    pub minutes: i64,
}

pub fn keys(email: &str, ip: Option<IpAddr>) -> [String; 2] {
    let ip = ip
        .map(|i| i.to_string())
        .unwrap_or_else(|| "unknown".into());
    [
        format!("acct:{}|{ip}", email.trim().to_lowercase()),
        format!("ip:{ip}"),
    ]
}

/// Minutes left on a pause for any of the keys (rounded up), or None when login may be tried.
pub async fn minutes_locked(pool: &PgPool, keys: &[String; 2]) -> Result<Option<i64>, sqlx::Error> {
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT max(extract(epoch FROM locked_until - now()))::float8 FROM login_throttle \
         WHERE key = ANY($1) AND locked_until > now()",
    )
    .bind(&keys[..])
    .fetch_one(pool)
    .await?;
    Ok(seconds.map(|s| ((s / 60.0).ceil() as i64).max(1)))
}

/// Counts a failure under both keys; a key that reaches its limit within the window is paused.
pub async fn record_failure(
    pool: &PgPool,
    keys: &[String; 2],
    limits: Limits,
) -> Result<(), sqlx::Error> {
    for (key, limit) in [(&keys[0], limits.per_account_ip), (&keys[1], limits.per_ip)] {
        sqlx::query(
            "INSERT INTO login_throttle AS t (key, failures, window_started_at) \
             VALUES ($1, 1, now()) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN t.window_started_at < now() - make_interval(mins => $2::int) \
                               THEN 1 ELSE t.failures + 1 END, \
               window_started_at = CASE WHEN t.window_started_at < now() - make_interval(mins => $2::int) \
                               THEN now() ELSE t.window_started_at END",
        )
        .bind(key)
        .bind(limits.minutes as i32)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE login_throttle SET locked_until = now() + make_interval(mins => $3::int), \
             failures = 0, window_started_at = now() \
             WHERE key = $1 AND failures >= $2",
        )
        .bind(key)
        .bind(limit)
        .bind(limits.minutes as i32)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// A successful login forgets the account + ip failures (not the ip's).
pub async fn clear_account(pool: &PgPool, keys: &[String; 2]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(&keys[0])
        .execute(pool)
        .await?;
    Ok(())
}
