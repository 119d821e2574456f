//! The delivery worker: every few seconds it takes the deliveries that are due (any tenant's, in
//! the system scope, `FOR UPDATE SKIP LOCKED` and a lease, so several app servers never send one
//! twice), posts each one — 10 s timeout, no redirects followed, no proxy, only to public
//! addresses unless private ones are allowed — and logs the try; a failure is tried again on the
//! schedule in `domain::RETRY_SCHEDULE`, then marked failed. Tests call `tick(now)` directly.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use time::OffsetDateTime;

use super::domain::{self, Format};
use super::repo::{self, Claimed, TryOutcome};
use crate::db::{Db, SystemScope};
use crate::web::lang::Lang;

/// How often the loop looks for due deliveries.
pub const EVERY: Duration = Duration::from_secs(5);
/// How long one try may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a taken delivery is kept from other workers (well over `TIMEOUT`): a worker that dies
/// mid-send leaves it to be tried again after this.
const LEASE: Duration = Duration::from_secs(120);
/// How many deliveries one pass takes (and sends at once).
const BATCH: i64 = 16;
/// How much of an answer is read (a bot's JSON verdict).
const ANSWER_LIMIT: usize = 64 * 1024;

/// Resolves names to public addresses only (or to any, when private ones are allowed): the check
/// at connect time, so a name that resolved to a public address when the owner entered it cannot
/// later point a delivery at this server's neighbours.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || domain::is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err("the name resolves to no address a webhook may reach".into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The worker's part: the database, its HTTP client and settings.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    client: reqwest::Client,
    allow_private: bool,
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ticked {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl Deliverer {
    pub fn new(db: Db, allow_private: bool) -> anyhow::Result<Deliverer> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .user_agent(concat!("Sextant-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Deliverer {
            db,
            client,
            allow_private,
        })
    }

    /// Sends what is due at `now`, pass after pass until nothing due is left; answers what it did.
    pub async fn tick(&self, now: OffsetDateTime) -> anyhow::Result<Ticked> {
        let mut done = Ticked::default();
        loop {
            let claimed = {
                let mut tx = self.db.system_tx(SystemScope::WebhookWorker).await?;
                let claimed = repo::claim_due(&mut tx, now, now + LEASE, BATCH).await?;
                tx.commit().await?;
                claimed
            };
            if claimed.is_empty() {
                return Ok(done);
            }
            let outcomes = join_all(claimed.into_iter().map(|c| self.attempt(c, now))).await;
            // Each outcome in its own transaction: one that cannot be recorded (its endpoint
            // deleted meanwhile) loses no other's.
            for o in &outcomes {
                let mut tx = self.db.system_tx(SystemScope::WebhookWorker).await?;
                if let Err(e) = repo::record_try(&mut tx, o).await {
                    tracing::warn!(error = %e, delivery = %o.delivery_id,
                        "webhook worker: could not record a try");
                    continue;
                }
                tx.commit().await?;
                match o.state {
                    "delivered" => done.delivered += 1,
                    "failed" => done.failed += 1,
                    _ => done.retrying += 1,
                }
            }
        }
    }

    /// One try of one delivery: what to record.
    async fn attempt(&self, c: Claimed, now: OffsetDateTime) -> TryOutcome {
        let started = Instant::now();
        let result = self.send(&c, now).await;
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let attempt = c.attempts + 1;
        let (status, error) = match result {
            Ok(status) => (Some(status), None),
            Err((status, e)) => (status, Some(e)),
        };
        let (state, next_attempt_at) = if error.is_none() {
            ("delivered", None)
        } else {
            match domain::retry_after(attempt) {
                Some(wait) => ("pending", Some(now + wait)),
                None => ("failed", None),
            }
        };
        TryOutcome {
            tenant_id: c.tenant_id,
            delivery_id: c.id,
            attempt,
            at: now,
            status,
            error,
            duration_ms,
            state,
            next_attempt_at,
        }
    }

    /// Posts the delivery; the status on success, else the status (if any) and what went wrong.
    async fn send(&self, c: &Claimed, now: OffsetDateTime) -> Result<i32, (Option<i32>, String)> {
        let format = Format::parse(&c.format).ok_or((None, "unknown format".to_string()))?;
        let url = url::Url::parse(&c.url).map_err(|e| (None, format!("bad url: {e}")))?;
        // A literal address is not resolved, so the resolver cannot refuse it: checked here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !self.allow_private
            && !domain::is_public(ip)
        {
            return Err((None, "address not allowed (private network)".into()));
        }
        let unix = now.unix_timestamp();
        let unix_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let kind = domain::EventKind::parse(&c.event).unwrap_or(domain::EventKind::Ping);
        let data = c.payload.get("data").cloned().unwrap_or_default();
        let link = data
            .get("url")
            .and_then(|u| u.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| c.link_origin.clone());
        let lang = Lang::parse(&c.lang).unwrap_or(Lang::ZhCn);
        let text = domain::message(lang, kind, &data, &link);
        let body = domain::body(format, &c.payload, &text, c.secret.as_deref(), unix);
        let bytes = serde_json::to_vec(&body).map_err(|e| (None, e.to_string()))?;
        let target = domain::target_url(format, &c.url, c.secret.as_deref(), unix_ms);
        let mut request = self
            .client
            .post(target)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if format == Format::Sextant {
            let delivery = c.id.to_string();
            request = request
                .header("Sextant-Event", &c.event)
                .header("Sextant-Delivery", delivery)
                .header("Sextant-Timestamp", unix.to_string());
            if let Some(secret) = &c.secret {
                request = request.header(
                    "Sextant-Signature",
                    domain::sextant_signature(secret, unix, &bytes),
                );
            }
        }
        let mut response = request
            .body(bytes)
            .send()
            .await
            .map_err(|e| (None, describe(&e)))?;
        let status = response.status().as_u16();
        // A bot's answer is small: past 64 KiB nothing more is read (a receiver cannot make the
        // worker hold a large body).
        let mut answer = Vec::new();
        while answer.len() < ANSWER_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
                _ => break,
            }
        }
        answer.truncate(ANSWER_LIMIT);
        let answer = String::from_utf8_lossy(&answer);
        domain::accepted(format, status, &answer).map_err(|e| (Some(i32::from(status)), e))?;
        Ok(i32::from(status))
    }
}

/// A send error in a few words (the log shows it; no internals beyond what failed).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect not followed"
    } else {
        "request failed"
    };
    let mut text = what.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{what}: {s}");
        source = s.source();
    }
    text.chars().take(500).collect()
}

/// Starts the loop on the current runtime; it ends when the pool closes.
pub fn spawn(deliverer: Deliverer) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if deliverer.db.pool().is_closed() {
                break;
            }
            if let Err(e) = deliverer.tick(OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "webhook worker: tick failed");
            }
        }
    });
}
