//! Webhooks' actions: the owner adds an endpoint (a Sextant one's secret shown once), switches
//! one off or on, deletes one, sends it a test event; and `enqueue`, which the loop's actions
//! call inside their own transaction so an event is queued exactly when what caused it commits.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{self, EventKind, Format};
use super::repo::{self, NewDelivery, NewEndpoint};
use crate::audit;
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;
use crate::tenants::Access;

/// Something that happened in the loop, with the ids a receiver needs.
#[derive(Debug, Clone)]
pub enum Event {
    /// The account manager sent a shortlist round to the seller.
    ShortlistSent {
        campaign_id: Uuid,
        round: i32,
        creators: Vec<Uuid>,
    },
    /// The seller answered: one creator approved or rejected, another round asked for, or the
    /// approved ones taken on to contracting (`domain::DECISIONS`).
    ShortlistDecided {
        campaign_id: Uuid,
        decision: &'static str,
        entry_id: Option<Uuid>,
        reason: Option<String>,
    },
    /// The late/no-publish job recorded a post as late, or as missing.
    PostLate {
        collaboration_id: Uuid,
        record_id: Uuid,
        kind: &'static str,
        days_late: Option<i32>,
    },
    /// A rating was opened: its raters have a scorecard to fill in.
    RatingDue {
        rating_id: Uuid,
        collaboration_id: Uuid,
    },
    /// A creator's tier with the tenant changed.
    TierChanged {
        creator_id: Uuid,
        from: Option<String>,
        to: Option<String>,
        cause: String,
    },
    /// Finance finalized a month's settlement.
    SettlementFinalized {
        settlement_id: Uuid,
        period: String,
        total_seller: String,
        currency: String,
    },
    /// The settings page's test.
    Ping,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::ShortlistSent { .. } => EventKind::ShortlistSent,
            Event::ShortlistDecided { .. } => EventKind::ShortlistDecided,
            Event::PostLate { .. } => EventKind::PostLate,
            Event::RatingDue { .. } => EventKind::RatingDue,
            Event::TierChanged { .. } => EventKind::TierChanged,
            Event::SettlementFinalized { .. } => EventKind::SettlementFinalized,
            Event::Ping => EventKind::Ping,
        }
    }
}

/// The event's `data`: its ids and facts, with the names a chat message shows.
async fn data_of(conn: &mut PgConnection, tenant: Uuid, event: &Event) -> DomainResult<Value> {
    async fn title(conn: &mut PgConnection, tenant: Uuid, id: Uuid) -> DomainResult<String> {
        Ok(repo::campaign_title(conn, tenant, id)
            .await?
            .unwrap_or_default())
    }
    async fn handle(conn: &mut PgConnection, id: Option<Uuid>) -> DomainResult<Option<String>> {
        let Some(id) = id else { return Ok(None) };
        Ok(repo::creator_handles(conn, &[id])
            .await?
            .into_iter()
            .next()
            .map(|(_, h)| h))
    }
    /// A collaboration's campaign (id and title) and creator.
    async fn collaboration_facts(
        conn: &mut PgConnection,
        tenant: Uuid,
        collaboration: Uuid,
    ) -> DomainResult<(Option<Uuid>, String, Option<Uuid>)> {
        let (campaign, creator) = repo::collaboration_parts(conn, tenant, collaboration)
            .await?
            .unzip();
        let campaign_title = match campaign {
            Some(c) => title(conn, tenant, c).await?,
            None => String::new(),
        };
        Ok((campaign, campaign_title, creator))
    }
    Ok(match event {
        Event::ShortlistSent {
            campaign_id,
            round,
            creators,
        } => json!({
            "campaign_id": campaign_id,
            "campaign_title": title(conn, tenant, *campaign_id).await?,
            "round": round,
            "creators": creators,
        }),
        Event::ShortlistDecided {
            campaign_id,
            decision,
            entry_id,
            reason,
        } => {
            let creator = match entry_id {
                Some(entry) => repo::entry_creator(conn, tenant, *entry).await?,
                None => None,
            };
            json!({
                "campaign_id": campaign_id,
                "campaign_title": title(conn, tenant, *campaign_id).await?,
                "decision": decision,
                "entry_id": entry_id,
                "creator_id": creator,
                "creator_handle": handle(conn, creator).await?,
                "reason": reason,
            })
        }
        Event::PostLate {
            collaboration_id,
            record_id,
            kind,
            days_late,
        } => {
            let (campaign, campaign_title, creator) =
                collaboration_facts(conn, tenant, *collaboration_id).await?;
            json!({
                "collaboration_id": collaboration_id,
                "record_id": record_id,
                "kind": kind,
                "days_late": days_late,
                "campaign_id": campaign,
                "campaign_title": campaign_title,
                "creator_id": creator,
                "creator_handle": handle(conn, creator).await?,
            })
        }
        Event::RatingDue {
            rating_id,
            collaboration_id,
        } => {
            let (campaign, campaign_title, creator) =
                collaboration_facts(conn, tenant, *collaboration_id).await?;
            json!({
                "rating_id": rating_id,
                "collaboration_id": collaboration_id,
                "campaign_id": campaign,
                "campaign_title": campaign_title,
                "creator_id": creator,
                "creator_handle": handle(conn, creator).await?,
            })
        }
        Event::TierChanged {
            creator_id,
            from,
            to,
            cause,
        } => json!({
            "creator_id": creator_id,
            "creator_handle": handle(conn, Some(*creator_id)).await?,
            "from": from,
            "to": to,
            "cause": cause,
        }),
        Event::SettlementFinalized {
            settlement_id,
            period,
            total_seller,
            currency,
        } => json!({
            "settlement_id": settlement_id,
            "period": period,
            "total_seller": total_seller,
            "currency": currency,
        }),
        Event::Ping => json!({}),
    })
}

/// Queues `event` for each of the tenant's switched-on endpoints that want it, in the caller's
/// transaction (so it is sent only if what caused it commits, and always then). Nothing — one
/// indexed read — when no endpoint wants it. Answers how many deliveries were queued.
pub async fn enqueue(conn: &mut PgConnection, tenant: Uuid, event: Event) -> DomainResult<usize> {
    enqueue_to(conn, tenant, event, None).await
}

/// Like [`enqueue`], for several events (a tier pass's moves): a kind no endpoint wants is asked
/// about once, so a pass of thousands of moves costs one read when nobody listens.
pub async fn enqueue_all(
    conn: &mut PgConnection,
    tenant: Uuid,
    events: Vec<Event>,
) -> DomainResult<usize> {
    let mut unwanted: Vec<EventKind> = Vec::new();
    let mut queued = 0;
    for event in events {
        let kind = event.kind();
        if unwanted.contains(&kind) {
            continue;
        }
        match enqueue(conn, tenant, event).await? {
            0 => unwanted.push(kind),
            n => queued += n,
        }
    }
    Ok(queued)
}

async fn enqueue_to(
    conn: &mut PgConnection,
    tenant: Uuid,
    event: Event,
    only: Option<Uuid>,
) -> DomainResult<usize> {
    let kind = event.kind();
    let subscribers = repo::subscribers(conn, tenant, kind.code(), only).await?;
    if subscribers.is_empty() {
        return Ok(0);
    }
    let slug = repo::tenant_slug(conn, tenant)
        .await?
        .ok_or(DomainError::NotFound)?;
    let data = data_of(conn, tenant, &event).await?;
    let event_id = Uuid::now_v7();
    let created_at = OffsetDateTime::now_utc();
    let path = domain::page_path(kind, &slug, &data);
    for sub in &subscribers {
        let mut data = data.clone();
        data["url"] = json!(format!("{}{path}", sub.link_origin));
        let payload = domain::payload(event_id, kind, created_at, &slug, data);
        repo::insert_delivery(
            conn,
            &NewDelivery {
                tenant_id: tenant,
                id: Uuid::now_v7(),
                endpoint_id: sub.id,
                event: kind.code(),
                event_id,
                payload: &payload,
            },
        )
        .await?;
    }
    Ok(subscribers.len())
}

fn owner_only(actor: &Actor) -> DomainResult<Uuid> {
    let tenant = actor.tenant_id()?;
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    Ok(tenant)
}

/// The form's fields.
#[derive(Debug, Clone, Default)]
pub struct CreateEndpoint {
    pub url: String,
    /// `sextant`, `feishu`, `dingtalk` or `wecom`.
    pub format: String,
    pub events: Vec<String>,
    /// A Feishu or DingTalk bot's own signing secret (optional).
    pub secret: String,
    /// The chat messages' language (`zh-CN` or `en`).
    pub lang: String,
}

/// Where deliveries may go: `SEXTANT_WEBHOOKS_ALLOW_PRIVATE` lets an endpoint on this machine or
/// its network in (tests, development).
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    pub allow_private: bool,
}

/// An endpoint just added: its id, and the signing secret to show once (Sextant's format).
pub struct CreatedEndpoint {
    pub id: Uuid,
    pub secret: Option<String>,
}

/// Whether the URL's host may be reached: with private addresses allowed, anything; else an
/// address written in the URL must be public, and a name must resolve, to public addresses only.
/// (The worker checks again as it connects: a name may resolve differently later.)
pub async fn check_reach(url: &url::Url, reach: Reach) -> Result<(), &'static str> {
    if reach.allow_private {
        return Ok(());
    }
    let host = match url.host() {
        Some(url::Host::Ipv4(ip)) => return public_or(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => return public_or(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => d.to_string(),
        None => return Err("webhooks.error.url_invalid"),
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    let addrs: Vec<_> = match tokio::time::timeout(Duration::from_secs(3), lookup).await {
        Ok(Ok(addrs)) => addrs.collect(),
        _ => return Err("webhooks.error.url_unresolvable"),
    };
    if addrs.is_empty() {
        return Err("webhooks.error.url_unresolvable");
    }
    if addrs.iter().all(|a| domain::is_public(a.ip())) {
        Ok(())
    } else {
        Err("webhooks.error.url_private")
    }
}

fn public_or(ip: IpAddr) -> Result<(), &'static str> {
    if domain::is_public(ip) {
        Ok(())
    } else {
        Err("webhooks.error.url_private")
    }
}

/// Adds an endpoint (the owner). Every field is checked before anything is written; each fault
/// is named on its field. `link_origin` is how the owner reached this server (the messages'
/// links).
pub async fn create_endpoint(
    tx: &mut PgConnection,
    actor: &Actor,
    input: CreateEndpoint,
    link_origin: &str,
    reach: Reach,
) -> DomainResult<CreatedEndpoint> {
    let tenant = owner_only(actor)?;
    let mut errors = FieldErrors::new();
    let format = Format::parse(&input.format);
    if format.is_none() {
        errors.insert("format".into(), "webhooks.error.format");
    }
    let url = match domain::check_url(&input.url) {
        Ok(url) => match check_reach(&url, reach).await {
            Ok(()) => Some(url),
            Err(k) => {
                errors.insert("url".into(), k);
                None
            }
        },
        Err(k) => {
            errors.insert("url".into(), k);
            None
        }
    };
    let events = domain::check_events(&input.events).map_err(|k| errors.insert("events".into(), k));
    let lang = match input.lang.trim() {
        "" | "zh-CN" => Some("zh-CN"),
        "en" => Some("en"),
        _ => {
            errors.insert("lang".into(), "webhooks.error.lang");
            None
        }
    };
    let bot_secret = format.map(|f| {
        domain::check_bot_secret(f, &input.secret).map_err(|k| errors.insert("secret".into(), k))
    });
    let (Some(format), Some(url), Ok(events), Some(lang), Some(Ok(bot_secret))) =
        (format, url, events, lang, bot_secret)
    else {
        return Err(DomainError::Invalid(errors));
    };
    let shown = (format == Format::Sextant).then(domain::generate_secret);
    let secret = shown.clone().or(bot_secret);
    let id = Uuid::now_v7();
    let events: Vec<String> = events.iter().map(|k| k.code().to_string()).collect();
    repo::insert_endpoint(
        tx,
        &NewEndpoint {
            tenant_id: tenant,
            id,
            url: url.as_str(),
            format: format.code(),
            secret: secret.as_deref(),
            events: events.clone(),
            lang,
            link_origin: link_origin.trim_end_matches('/'),
            created_by: actor.user_id,
        },
    )
    .await?;
    audit::record(
        tx,
        actor
            .audit("webhook.create", "webhook_endpoint", id)
            .after(json!({
                "url": url.as_str(),
                "format": format.code(),
                "events": events,
                "lang": lang,
                "signed": secret.is_some(),
            })),
    )
    .await?;
    Ok(CreatedEndpoint { id, secret: shown })
}

/// Switches an endpoint off (what waits for it fails) or on again (the owner); another tenant's,
/// or one already so: not found.
pub async fn set_active(
    tx: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    active: bool,
) -> DomainResult<()> {
    let tenant = owner_only(actor)?;
    if !repo::set_active(tx, tenant, id, active).await? {
        return Err(DomainError::NotFound);
    }
    let action = if active {
        "webhook.enable"
    } else {
        "webhook.disable"
    };
    audit::record(
        tx,
        actor
            .audit(action, "webhook_endpoint", id)
            .before(json!({ "active": !active }))
            .after(json!({ "active": active })),
    )
    .await?;
    Ok(())
}

/// Deletes an endpoint and its delivery log (the owner); another tenant's: not found.
pub async fn delete_endpoint(tx: &mut PgConnection, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let tenant = owner_only(actor)?;
    let row = repo::endpoint(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    repo::delete_endpoint(tx, tenant, id).await?;
    audit::record(
        tx,
        actor
            .audit("webhook.delete", "webhook_endpoint", id)
            .before(json!({ "url": row.url, "format": row.format, "events": row.events })),
    )
    .await?;
    Ok(())
}

/// Queues a `ping` for one switched-on endpoint (the owner's "send a test event").
pub async fn send_test(tx: &mut PgConnection, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let tenant = owner_only(actor)?;
    let row = repo::endpoint(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound)?;
    if row.disabled_at.is_some() {
        return Err(DomainError::Refused("webhooks.error.disabled"));
    }
    enqueue_to(tx, tenant, Event::Ping, Some(id)).await?;
    audit::record(
        tx,
        actor
            .audit("webhook.test", "webhook_endpoint", id)
            .after(json!({ "event": "ping" })),
    )
    .await?;
    Ok(())
}
