//! The test harness: one private PostgreSQL cluster per test run (or `TEST_DATABASE_URL`), a
//! template database migrated once, a fresh database per test, and the app served on port 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sextant::auth::password::PasswordService;
use sextant::config::Config;
use sextant::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use sextant::db::{self, Db};
use sextant::state::AppState;
use sqlx::{Connection, Executor, PgConnection};

struct Cluster {
    /// A URL to the cluster's maintenance database, where test databases are created.
    server_url: String,
    template: String,
    embedded: Option<(EmbeddedPostgres, PathBuf)>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

extern "C" fn stop_cluster_at_exit() {
    if let Some(Cluster {
        embedded: Some((pg, root)),
        ..
    }) = CLUSTER.get()
    {
        let _ = pg.stop();
        let _ = std::fs::remove_dir_all(root);
    }
}

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        // Set up on a thread of its own: the callers are inside async runtimes.
        std::thread::spawn(start_cluster)
            .join()
            .expect("test cluster setup panicked")
    })
}

fn start_cluster() -> Cluster {
    let pid = std::process::id();
    let (server_url, embedded) = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => (url, None),
        _ => {
            // A short path the postgres system user can reach (tests may run as root).
            let root = PathBuf::from(format!("/tmp/sextant-it-{pid}"));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(&root).expect("create test cluster folder");
            let pg = EmbeddedPostgres::ensure(&EmbeddedOptions {
                root: root.clone(),
                ephemeral: true,
            })
            .expect("start the private test cluster");
            let url = pg.url("postgres");
            // SAFETY: registering a plain extern "C" function with no captured state.
            unsafe {
                libc::atexit(stop_cluster_at_exit);
            }
            (url, Some((pg, root)))
        }
    };
    let template = format!("sextant_it_tpl_{pid}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut conn = PgConnection::connect(&server_url)
            .await
            .expect("connect to the test cluster");
        conn.execute(format!("DROP DATABASE IF EXISTS {template}").as_str())
            .await
            .expect("drop old template");
        conn.execute(format!("CREATE DATABASE {template}").as_str())
            .await
            .expect("create template");
        db::migrate(&database_url(&server_url, &template))
            .await
            .expect("migrate the template");
        conn.close().await.ok();
    });
    Cluster {
        server_url,
        template,
        embedded,
    }
}

/// `server_url` with its database name replaced.
pub fn database_url(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// A fresh database for one test, made from the migrated template.
pub async fn fresh_database() -> String {
    let cluster = cluster();
    let name = format!(
        "sextant_it_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = PgConnection::connect(&cluster.server_url)
        .await
        .expect("connect to the test cluster");
    conn.execute(format!("CREATE DATABASE {name} TEMPLATE {}", cluster.template).as_str())
        .await
        .expect("create a test database");
    conn.close().await.ok();
    database_url(&cluster.server_url, &name)
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Db,
    pub state: AppState,
    pub database_url: String,
}

impl TestApp {
    /// A fresh database and the app serving it on 127.0.0.1 (any port).
    pub async fn spawn() -> TestApp {
        let url = fresh_database().await;
        let db = Db::connect(&url, 5).await.expect("connect");
        Self::serve(db, url).await
    }

    /// Like `spawn`, with the demo people and as many demo creators as asked.
    pub async fn with_demo_size(size: sextant::seed::DemoSize) -> TestApp {
        let app = Self::spawn().await;
        sextant::seed::seed_demo_with(&app.db, &app.state.passwords, size)
            .await
            .expect("seed demo data");
        app
    }

    /// Like `spawn`, with the demo data seeded.
    pub async fn with_demo() -> TestApp {
        let app = Self::spawn().await;
        sextant::seed::seed_demo(&app.db, &app.state.passwords)
            .await
            .expect("seed demo data");
        app
    }

    pub async fn serve(db: Db, database_url: String) -> TestApp {
        let config = Config::for_tests(database_url.clone());
        Self::serve_with(db, database_url, config).await
    }

    /// Serves `db` with the given settings (a second server on the same database is fine).
    pub async fn serve_with(db: Db, database_url: String, config: Config) -> TestApp {
        let state = sextant::app::state(
            db.clone(),
            config,
            PasswordService::fast_for_tests().expect("password service"),
        );
        let router = sextant::app::router(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        TestApp {
            addr,
            db,
            state,
            database_url,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client with its own cookie jar that does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        client_from(None)
    }

    /// A client whose connections come from another loopback address (another "ip").
    pub fn client_from_ip(&self, ip: &str) -> reqwest::Client {
        client_from(Some(ip.parse().expect("ip")))
    }

    /// Logs in with a fresh client; panics unless the login succeeds.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Client {
        let client = self.client();
        let res = self.post_login(&client, email, password, None).await;
        assert_eq!(
            res.status(),
            reqwest::StatusCode::SEE_OTHER,
            "login as {email} should redirect"
        );
        client
    }

    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
        next: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![("email", email), ("password", password)];
        if let Some(next) = next {
            form.push(("next", next));
        }
        client
            .post(self.url("/login"))
            .form(&form)
            .send()
            .await
            .expect("POST /login")
    }
}

fn client_from(ip: Option<std::net::IpAddr>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ip) = ip {
        builder = builder.local_address(ip);
    }
    builder.build().expect("client")
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The demo passwords (fixed, as `seed-demo` prints them).
pub const OWNER_LUMI: (&str, &str) = ("owner@lumi-home.example", "owner-demo-2026");
pub const OPERATOR_LUMI: (&str, &str) = ("operator@lumi-home.example", "operator-demo-2026");
pub const VIEWER_LUMI: (&str, &str) = ("viewer@lumi-home.example", "viewer-demo-2026");
pub const OWNER_NORDPEAK: (&str, &str) = ("owner@nordpeak.example", "owner-demo-2026");
pub const ADMIN: (&str, &str) = ("admin@sextant.example", "admin-demo-2026");
pub const ACCOUNT_MANAGER: (&str, &str) = ("am@sextant.example", "am-demo-2026");
pub const FINANCE: (&str, &str) = ("finance@sextant.example", "finance-demo-2026");

/// The one-time link shown on a page (`data-testid="one-time-link-url"`), as a path.
pub fn shown_link_path(html: &str) -> String {
    let marker = r#"data-testid="one-time-link-url">"#;
    let start = html.find(marker).expect("a one-time link on the page") + marker.len();
    let url: String = html[start..].chars().take_while(|c| *c != '<').collect();
    let path_start = url.find("/set-password/").expect("a set-password link");
    url[path_start..].to_string()
}

impl TestApp {
    pub async fn get_ok(&self, client: &reqwest::Client, path: &str) -> String {
        let res = client.get(self.url(path)).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
        res.text().await.unwrap()
    }

    /// `get_ok` with the browser asking for `lang` (Accept-Language).
    pub async fn get_ok_in(&self, client: &reqwest::Client, path: &str, lang: &str) -> String {
        let res = client
            .get(self.url(path))
            .header("Accept-Language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path} ({lang})");
        res.text().await.unwrap()
    }

    pub async fn status_of(&self, client: &reqwest::Client, path: &str) -> reqwest::StatusCode {
        client.get(self.url(path)).send().await.unwrap().status()
    }

    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client.post(self.url(path)).form(form).send().await.unwrap()
    }

    pub async fn tenant_id(&self, slug: &str) -> uuid::Uuid {
        sextant::tenants::repo::tenant_by_slug(self.db.pool(), slug)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("tenant {slug}"))
            .id
    }

    pub async fn user_id(&self, email: &str) -> uuid::Uuid {
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Like `spawn`, with the demo people and a small pool, and the demo campaigns in every
    /// state (what the action tests start from).
    pub async fn with_demo_campaigns() -> TestApp {
        Self::with_demo_size(sextant::seed::DemoSize {
            creators: 60,
            campaigns: true,
        })
        .await
    }

    /// A direct connection as the tables' owner (no RLS): for fixtures and checks only.
    pub async fn owner_conn(&self) -> PgConnection {
        PgConnection::connect(&self.database_url).await.unwrap()
    }

    /// The oldest demo campaign of tenant `slug` in `state`.
    pub async fn campaign_in(&self, slug: &str, state: &str) -> uuid::Uuid {
        let tenant = self.tenant_id(slug).await;
        let mut tx = self.db.tenant_tx(tenant, None).await.unwrap();
        sqlx::query_scalar("SELECT id FROM campaigns WHERE state = $1 ORDER BY created_at LIMIT 1")
            .bind(state)
            .fetch_one(&mut *tx)
            .await
            .unwrap()
    }

    /// The signed-in person `email` as actions see them, outside any tenant (staff work).
    pub async fn staff_actor(&self, email: &str) -> sextant::auth::Actor {
        let id = self.user_id(email).await;
        let user = sextant::auth::repo::find_active_by_id(self.db.pool(), id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("active user {email}"));
        sextant::auth::Actor::user(&user)
    }

    /// The person `email` acting inside tenant `slug`, with the access the page extractor would
    /// give them (membership role, or an account manager's assignment); panics if they have none.
    pub async fn actor(&self, email: &str, slug: &str) -> sextant::auth::Actor {
        let id = self.user_id(email).await;
        let user = sextant::auth::repo::find_active_by_id(self.db.pool(), id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("active user {email}"));
        let found = sextant::tenants::repo::tenant_access(self.db.pool(), slug, id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("tenant {slug}"));
        let access = match user.platform_role {
            Some(sextant::auth::PlatformRole::AccountManager) if found.assigned => {
                sextant::tenants::Access::AccountManager
            }
            None => found
                .member_role
                .map(|r| r.access())
                .unwrap_or_else(|| panic!("{email} has no access to {slug}")),
            _ => panic!("{email} has no access to {slug}"),
        };
        sextant::auth::Actor::in_tenant(&user, found.tenant, access)
    }

    /// A tenant-scoped transaction for `actor`'s tenant (what a handler opens for an action).
    pub async fn tx_for(&self, actor: &sextant::auth::Actor) -> sextant::db::Tx {
        self.db
            .tenant_tx(actor.tenant_id().unwrap(), actor.user_id)
            .await
            .unwrap()
    }

    /// Audit entries (action, before, after) about an entity, oldest first, read from a system
    /// scope.
    pub async fn audit_of(
        &self,
        entity_id: &str,
    ) -> Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>)> {
        let mut tx = self
            .db
            .system_tx(sextant::db::SystemScope::Auth)
            .await
            .unwrap();
        sqlx::query_as(
            "SELECT action, before, after FROM audit_log WHERE entity_id = $1 ORDER BY at",
        )
        .bind(entity_id)
        .fetch_all(&mut *tx)
        .await
        .unwrap()
    }
}
