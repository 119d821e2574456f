//! Login throttling with its counters in Postgres (app servers are stateless; `repo` holds the
//! SQL). Every attempt is counted before its password is checked, atomically per key, so no
//! number of parallel attempts gets more than the limit checked. Two keys: the account with the
//! ip (so a guesser is paused) and the ip alone (so one ip cannot spray many accounts). A real
//! user on another ip is never locked out by someone else's failures.

use std::net::IpAddr;

use sqlx::PgPool;

use super::repo;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_account_ip: i32,
    pub per_ip: i32,
    pub minutes: i64,
}

impl Limits {
    /// The limits the server is configured with (`SEXTANT_LOGIN_*`).
    pub fn of(config: &crate::config::Config) -> Limits {
        Limits {
            per_account_ip: config.login_max_failures,
            per_ip: config.login_max_failures_per_ip,
            minutes: config.login_lock_minutes,
        }
    }
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

/// Counts this login attempt under both keys, before its password is checked (so parallel
/// attempts cannot all slip under the limit): the minutes left on a pause (rounded up) when either
/// key is paused, or None when the password may be checked. Each key counts in one statement.
pub async fn count_attempt(
    pool: &PgPool,
    keys: &[String; 2],
    limits: Limits,
) -> Result<Option<i64>, sqlx::Error> {
    let mut longest: Option<f64> = None;
    for (key, limit) in [(&keys[0], limits.per_account_ip), (&keys[1], limits.per_ip)] {
        let left = repo::throttle_count_attempt(pool, key, limit, limits.minutes as i32).await?;
        if let Some(seconds) = left {
            longest = Some(longest.map_or(seconds, |l| l.max(seconds)));
        }
    }
    Ok(longest.map(minutes_shown))
}

/// A successful login forgets the account + ip attempts and gives the ip its attempt back (the
/// ip's limit is on failures, not on people logging in).
pub async fn succeeded(pool: &PgPool, keys: &[String; 2]) -> Result<(), sqlx::Error> {
    repo::throttle_clear(pool, &keys[0]).await?;
    repo::throttle_release(pool, &keys[1]).await
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
