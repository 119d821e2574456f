//! Tracked links (SPEC §5): `GET /r/{slug}` answers 302 to the product with its UTM parameters
//! from a table in memory and logs the click without waiting on the database. `table` (the
//! slug table) and `clicks` (the click log) read and write through `repo`; `rules` holds the
//! pure click rules (bots, visitor hash, referer, the unique rule). No action here: a
//! redirect changes no one's state but the click log's.

pub mod clicks;
pub mod repo;
pub mod rules;
pub mod table;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use time::OffsetDateTime;

use crate::config::Config;
use crate::contracts::domain::is_link_slug;
use crate::db::Db;
use crate::state::{AppState, Runtime};
use crate::tracking::links::rules::DailyKey;
use crate::tracking::links::rules::{is_bot, referer_host};
use crate::web::lang::Lang;
use crate::web::{self, ClientIp};
use clicks::ClickLog;
use table::LinkTable;

/// How often the slug table checks whether the links changed.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The redirect, outside the session, CSRF, compression and tracing layers of the pages: it
/// needs none of them and answers thousands of times a second.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/r/{slug}", get(redirect))
        .layer(middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// The redirect's running parts: the slug table, the click buffer and today's visitor key.
#[derive(Clone)]
pub struct Links {
    pub table: Arc<LinkTable>,
    pub clicks: ClickLog,
    pub visitor_key: Arc<DailyKey>,
}

/// Starts the click writer and the slug table's refresher, and registers them.
pub fn start(db: &Db, config: &Config, runtime: &mut Runtime) {
    let links = Links {
        table: Default::default(),
        clicks: ClickLog::start(db.clone()),
        visitor_key: Arc::new(DailyKey::new(config.secret.as_bytes())),
    };
    spawn_refresher(links.table.clone(), db.clone());
    runtime.insert(links);
}

/// The click buffer (to flush it in tests, or to shut it down when the server stops).
pub fn clicks(state: &AppState) -> &ClickLog {
    &state.part::<Links>().clicks
}

/// Keeps the slug table current until the runtime ends.
fn spawn_refresher(links: Arc<LinkTable>, db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if db.pool().is_closed() {
                break;
            }
            if let Err(e) = links.refresh(&db).await {
                tracing::warn!(error = %e, "tracked links: refresh failed");
            }
        }
    });
}

async fn redirect(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    // The language matters only for the rare page; a redirect does not parse it.
    let lang = || Lang::from_headers(&headers);
    let links = state.part::<Links>();
    let target = match links.table.get(&slug) {
        Some(t) => t,
        None if is_link_slug(&slug) => match links.table.get_or_refresh(&state.db, &slug).await {
            Ok(Some(t)) => t,
            Ok(None) => return not_found(&state, lang(), &slug),
            Err(e) => {
                tracing::error!(error = %e, "tracked links: lookup failed");
                return web::error_page(
                    &state,
                    lang(),
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("/r/{slug}"),
                );
            }
        },
        None => return not_found(&state, lang(), &slug),
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let now = OffsetDateTime::now_utc();
    let ip = ip.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    links.clicks.push(clicks::Click {
        tenant_id: target.tenant_id,
        collaboration_id: target.collaboration_id,
        at: now,
        visitor: links
            .visitor_key
            .visitor_hash(now, ip, user_agent.unwrap_or("")),
        referer_host: headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(referer_host),
        bot: is_bot(user_agent),
    });
    match HeaderValue::from_str(&target.location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => not_found(&state, lang(), &slug),
    }
}

fn not_found(state: &AppState, lang: Lang, slug: &str) -> Response {
    web::message_page(
        state,
        lang,
        StatusCode::NOT_FOUND,
        &format!("/r/{slug}"),
        "links.not_found",
    )
}
