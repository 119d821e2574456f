//! Settings from the environment (each one documented in `.env.example`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`; when absent the embedded default is used.
    pub database_url: Option<String>,
    /// `SEXTANT_DATA_DIR` (default `./.sextant`): the embedded cluster and the server secret.
    pub data_dir: PathBuf,
    /// `SEXTANT_ADDR` (default `127.0.0.1:8080`), overridden by `serve --addr`.
    pub addr: SocketAddr,
    /// `SEXTANT_SECRET`: keys derived from it (visitor hashes, …). Generated into the data folder
    /// when unset.
    pub secret: String,
    /// `SEXTANT_PUBLIC_URL`: how people reach this server (for links they pass on); else the
    /// request's Host.
    pub public_url: Option<String>,
    /// `SEXTANT_COOKIE_SECURE`: mark cookies Secure (set it when served behind TLS).
    pub cookie_secure: bool,
    /// `SEXTANT_TRUST_PROXY`: take the client ip from the last `X-Forwarded-For` hop.
    pub trust_proxy: bool,
    /// `SEXTANT_DB_POOL` (default 20).
    pub db_pool_size: u32,
    /// `SEXTANT_LOGIN_MAX_FAILURES` (default 5): failures per account + ip before a pause.
    pub login_max_failures: i32,
    /// `SEXTANT_LOGIN_MAX_FAILURES_PER_IP` (default 50): failures per ip, any account.
    pub login_max_failures_per_ip: i32,
    /// `SEXTANT_LOGIN_LOCK_MINUTES` (default 15): the pause, and the window failures count in.
    pub login_lock_minutes: i64,
    /// `SEXTANT_API_REQUESTS_PER_MINUTE` (default 600): requests one API token may make a minute;
    /// past it, 429 with `Retry-After` until the minute is over. Counted in Postgres beside the
    /// login throttle, so several app servers share one count.
    pub api_requests_per_minute: i32,
    /// `SEXTANT_S3_BUCKET` (+ `_ENDPOINT`, `_REGION`, `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`):
    /// keep uploads in an S3-compatible bucket instead of `SEXTANT_DATA_DIR/objects`.
    pub s3: Option<S3Settings>,
    /// `SEXTANT_CLOCK_JOBS` (default on; `0`/`false` turns them off): the jobs that act on the
    /// clock — late/no-publish records, collaborations and campaigns moving on as windows become
    /// final, ratings opening, the daily tiers, webhook deliveries and their retries. Tests leave
    /// them off and call each job's `tick`.
    pub clock_jobs: bool,
    /// `SEXTANT_MAIL`: `smtp://…`, `smtps://…` or `file:///dir` (`crate::mail`); unset, no mail.
    pub mail: Option<String>,
    /// `SEXTANT_MAIL_FROM` (default `Sextant <no-reply@sextant.invalid>`).
    pub mail_from: String,
    /// `SEXTANT_WEBHOOKS_ALLOW_PRIVATE` (default off): let webhook URLs reach loopback, private
    /// and link-local addresses (development against a local receiver; tests).
    pub webhooks_allow_private: bool,
}

/// Who mail comes from unless `SEXTANT_MAIL_FROM` says otherwise.
pub const DEFAULT_MAIL_FROM: &str = "Sextant <no-reply@sextant.invalid>";

/// An S3-compatible bucket for uploads.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    /// For MinIO, R2 and the like; AWS when absent.
    pub endpoint: Option<String>,
    /// `SEXTANT_S3_REGION` (default `us-east-1`).
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl S3Settings {
    /// None unless `SEXTANT_S3_BUCKET` is set.
    pub fn from_env() -> Option<S3Settings> {
        Some(S3Settings {
            bucket: env("SEXTANT_S3_BUCKET")?,
            endpoint: env("SEXTANT_S3_ENDPOINT"),
            region: env("SEXTANT_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: env("SEXTANT_S3_ACCESS_KEY_ID"),
            secret_access_key: env("SEXTANT_S3_SECRET_ACCESS_KEY"),
        })
    }
}

/// The data folder: `SEXTANT_DATA_DIR`, else `.sextant` (uploads live in its `objects/`).
pub fn data_dir_from_env() -> PathBuf {
    PathBuf::from(env("SEXTANT_DATA_DIR").unwrap_or_else(|| ".sextant".into()))
}

impl Config {
    pub fn from_env() -> Result<Self> {
        let data_dir = data_dir_from_env();
        let addr = env("SEXTANT_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("SEXTANT_ADDR must be HOST:PORT")?;
        let secret = match env("SEXTANT_SECRET") {
            Some(s) => s,
            None => load_or_create_secret(&data_dir)?,
        };
        Ok(Config {
            database_url: env("DATABASE_URL"),
            data_dir,
            addr,
            secret,
            public_url: env("SEXTANT_PUBLIC_URL"),
            cookie_secure: flag("SEXTANT_COOKIE_SECURE"),
            trust_proxy: flag("SEXTANT_TRUST_PROXY"),
            db_pool_size: number("SEXTANT_DB_POOL", 20)?,
            login_max_failures: number("SEXTANT_LOGIN_MAX_FAILURES", 5)?,
            login_max_failures_per_ip: number("SEXTANT_LOGIN_MAX_FAILURES_PER_IP", 50)?,
            login_lock_minutes: number("SEXTANT_LOGIN_LOCK_MINUTES", 15)?,
            api_requests_per_minute: number("SEXTANT_API_REQUESTS_PER_MINUTE", 600)?,
            s3: S3Settings::from_env(),
            clock_jobs: !matches!(
                env("SEXTANT_CLOCK_JOBS").as_deref(),
                Some("0" | "false" | "off" | "no")
            ),
            mail: env("SEXTANT_MAIL"),
            mail_from: env("SEXTANT_MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into()),
            webhooks_allow_private: flag("SEXTANT_WEBHOOKS_ALLOW_PRIVATE"),
        })
    }

    /// Settings for tests: everything explicit, nothing read from the environment but the data
    /// folder, which is the one the demo seeder stores its files in ([`data_dir_from_env`]): a
    /// seeded order file's import may be run by the app's own worker as well as by the seeder,
    /// and either must find the file (with the temporary folder here, a worker that claimed the
    /// seeder's job first failed it for a missing file — a rare test failure).
    pub fn for_tests(database_url: String) -> Self {
        Config {
            database_url: Some(database_url),
            data_dir: data_dir_from_env(),
            addr: "127.0.0.1:0".parse().expect("literal address"),
            secret: "test-secret".into(),
            public_url: None,
            cookie_secure: false,
            trust_proxy: false,
            db_pool_size: 5,
            login_max_failures: 5,
            login_max_failures_per_ip: 50,
            login_lock_minutes: 15,
            api_requests_per_minute: 600,
            s3: None,
            clock_jobs: false,
            mail: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            // The tests' receivers listen on 127.0.0.1.
            webhooks_allow_private: true,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn flag(name: &str) -> bool {
    matches!(
        env(name).as_deref().map(str::to_ascii_lowercase).as_deref(),
        Some("1" | "true" | "yes" | "on")
    )
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match env(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} must be a number, got {v:?}")),
    }
}

fn load_or_create_secret(data_dir: &std::path::Path) -> Result<String> {
    use rand::Rng;
    use std::os::unix::fs::PermissionsExt;
    let path = data_dir.join("secret");
    if let Ok(s) = std::fs::read_to_string(&path)
        && !s.trim().is_empty()
    {
        return Ok(s.trim().to_string());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
    std::fs::write(&path, &secret)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(secret)
}
