//! Login throttling with its counters in Postgres (app servers are stateless; `repo` holds the
//! SQL). Two keys: the account with the ip (so a guesser is paused) and the ip alone (so one ip
//! cannot spray many accounts). A real user on another ip is never locked out by someone else's
//! failures.

use std::net::IpAddr;

use sqlx::PgPool;

use super::repo;

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

/// Seconds of a pause as the minutes shown to the person: rounded up, at least one.
pub fn minutes_shown(seconds: f64) -> i64 {
    ((seconds / 60.0).ceil() as i64).max(1)
}

/// Minutes left on a pause for any of the keys (rounded up), or None when login may be tried.
pub async fn minutes_locked(pool: &PgPool, keys: &[String; 2]) -> Result<Option<i64>, sqlx::Error> {
    let seconds = repo::throttle_seconds_left(pool, &keys[..]).await?;
    Ok(seconds.map(minutes_shown))
}

/// Counts a failure under both keys; a key that reaches its limit within the window is paused.
pub async fn record_failure(
    pool: &PgPool,
    keys: &[String; 2],
    limits: Limits,
) -> Result<(), sqlx::Error> {
    for (key, limit) in [(&keys[0], limits.per_account_ip), (&keys[1], limits.per_ip)] {
        repo::throttle_count_failure(pool, key, limit, limits.minutes as i32).await?;
    }
    Ok(())
}

/// A successful login forgets the account + ip failures (not the ip's).
pub async fn clear_account(pool: &PgPool, keys: &[String; 2]) -> Result<(), sqlx::Error> {
    repo::throttle_clear(pool, &keys[0]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_shows_whole_minutes_rounded_up_and_never_zero() {
        assert_eq!(minutes_shown(1.0), 1);
        assert_eq!(minutes_shown(60.0), 1);
        assert_eq!(minutes_shown(61.0), 2);
        assert_eq!(minutes_shown(899.5), 15);
    }
}
