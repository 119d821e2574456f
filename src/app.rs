//! Assembling the application: state, routes, middleware, and `serve` with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::auth::password::PasswordService;
use crate::config::Config;
use crate::db::Db;
use crate::state::{AppState, Runtime};
use crate::tracking::{self, links, order_imports};
use crate::{
    admin, auth, campaigns, contracts, creators, evidence, fulfilment, matching, ratings, tenants,
    web,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const SESSION_COOKIE: &str = "sextant_session";

/// The shared state. Each feature with running parts starts them on the current runtime and
/// registers them: the click writer and tracked-link refresher (`links`), the creator pool
/// projection (`matching`), the order import worker (`order_imports`), the late/no-publish job (`fulfilment`), the webhook
/// delivery worker (`webhooks`, its loop with the clock jobs). Stop the click writer with
/// `links::clicks(&state).shutdown()`, which flushes.
pub fn state(db: Db, config: Config, passwords: PasswordService) -> AppState {
    let static_dir = web::static_dir();
    // Without somewhere to keep uploads the server cannot do its job: stop at startup.
    let storage = crate::storage::Storage::open(&config.data_dir, config.s3.as_ref())
        .unwrap_or_else(|e| panic!("cannot open object storage: {e}"));
    let mut runtime = Runtime::default();
    // A mail setting that cannot work stops the server at startup, like storage.
    let mailer = crate::mail::Mailer::from_settings(config.mail.as_deref(), &config.mail_from)
        .unwrap_or_else(|e| panic!("cannot set up mail: {e}"));
    runtime.insert(mailer);
    links::start(&db, &config, &mut runtime);
    matching::start(&db, &mut runtime);
    order_imports::start(&db, &storage, &mut runtime);
    if config.clock_jobs {
        fulfilment::start(&db);
        crate::tiers::job::spawn(db.clone());
        crate::ratings::start(&db);
    }
    crate::webhooks::start(&db, &config, &mut runtime);
    AppState::new(
        db,
        Arc::new(config),
        Arc::new(passwords),
        web::asset_version(&static_dir),
        storage,
        runtime,
    )
}

/// Every route is listed here or in a feature's `router()` merged here.
pub fn router(state: AppState) -> Router {
    let store = PostgresStore::new(state.db.pool().clone());
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));

    Router::new()
        .route("/", get(auth::handlers::home))
        .route("/healthz", get(healthz))
        .route(
            "/login",
            get(auth::handlers::login_form).post(auth::handlers::login),
        )
        .route("/logout", post(auth::handlers::logout))
        .route(
            "/forgot-password",
            get(auth::forgot::form).post(auth::forgot::request),
        )
        .route(
            "/set-password/{token}",
            get(auth::password_pages::set_password_form).post(auth::password_pages::set_password),
        )
        .route(
            "/account/password",
            get(auth::password_pages::account_password_form)
                .post(auth::password_pages::account_password),
        )
        .route("/lang", post(web::set_lang))
        .merge(tenants::router())
        .merge(campaigns::router())
        .merge(contracts::router())
        .merge(crate::ratings::router())
        .merge(admin::router())
        .merge(creators::router())
        .merge(matching::router())
        .merge(tracking::posts::router())
        .merge(tracking::dashboards::router())
        .merge(ratings::consistency::router())
        .merge(order_imports::router())
        .merge(evidence::router())
        .merge(fulfilment::router())
        .merge(crate::tiers::router())
        .merge(crate::settlement::router())
        .merge(crate::audit::router())
        .merge(crate::review::router())
        .merge(crate::api::router())
        .merge(crate::webhooks::router())
        .nest("/static", web::static_files(web::static_dir()))
        .fallback(web::not_found)
        .layer(sessions)
        .layer(CsrfLayer::new())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            web::same_scheme,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            web::render_error_pages,
        ))
        .layer(middleware::from_fn(web::security_headers))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state.clone())
        .merge(crate::api::v1_router(state.clone()))
        .merge(links::router(state))
}

/// 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Serves until SIGTERM or SIGINT, then stops taking connections and drains the requests in
/// flight before returning.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining requests");
}
