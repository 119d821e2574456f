//! The database: the pool, migrations, the embedded default, and the only two ways to touch
//! tenant data — a tenant-scoped transaction, or a named system scope.

pub mod embedded;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

pub type Tx = Transaction<'static, Postgres>;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The role every pooled connection works as: not a superuser, does not own the tables, so
/// row-level security applies to it.
pub const APP_ROLE: &str = "sextant_app";

/// Work that is not one logged-in tenant's. Each use names itself; nothing else bypasses RLS.
#[derive(Clone, Debug)]
pub enum SystemScope {
    /// Login, logout and other platform events of one person (audit rows without a tenant).
    Auth,
    /// The `/r/{slug}` lookup.
    RedirectLookup,
    /// Finding an API token by its hash (the JSON API's front door, before any tenant is known).
    ApiToken,
    /// The buffered click writer.
    ClickWriter,
    /// Background import jobs.
    ImportJob,
    /// The late/no-publish job finding collaborations past their deadline in every tenant.
    FulfilmentJob,
    /// `sextant seed-demo` and `create-admin`.
    Cli,
    /// The tier job: every tenant's tiers once a day, the platform tier (`tiers::job`).
    TierJob,
    /// The rating job (collaborations to evaluating, ratings opened, campaigns moved on).
    RatingJob,
    /// The webhook worker taking due deliveries of every tenant and logging their tries.
    WebhookWorker,
    /// Staff working on the agency's creator pool and its imports (no tenant's data).
    CreatorPool,
    /// A staff member's cross-tenant page (admin console, finance); opening it is audited.
    StaffCrossTenant {
        actor: Uuid,
        actor_label: String,
        page: &'static str,
    },
}

impl SystemScope {
    pub fn name(&self) -> &'static str {
        match self {
            SystemScope::Auth => "auth",
            SystemScope::RedirectLookup => "redirect_lookup",
            SystemScope::ApiToken => "api_token",
            SystemScope::ClickWriter => "click_writer",
            SystemScope::ImportJob => "import_job",
            SystemScope::FulfilmentJob => "fulfilment_job",
            SystemScope::Cli => "cli",
            SystemScope::TierJob => "tier_job",
            SystemScope::CreatorPool => "creator_pool",
            SystemScope::RatingJob => "rating_job",
            SystemScope::WebhookWorker => "webhook_worker",
            SystemScope::StaffCrossTenant { .. } => "staff_cross_tenant",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// A pool whose connections all work as `sextant_app` (SET ROLE on connect), so anything run
    /// outside a scope sees no tenant rows at all.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid URL")?;
        Ok(Db {
            pool: pool_options(max_connections).connect_with(opts).await?,
        })
    }

    /// Like `connect`, but does not touch the database until first used (healthz answers 503
    /// while it is down; the pool recovers by itself when it returns).
    pub fn connect_lazy(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid URL")?;
        Ok(Db {
            pool: pool_options(max_connections).connect_lazy_with(opts),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction that sees only `tenant`'s rows; `user` lets the person see their own
    /// memberships across tenants (the tenant switcher).
    pub async fn tenant_tx(&self, tenant: Uuid, user: Option<Uuid>) -> Result<Tx, sqlx::Error> {
        let tx = self.pool.begin().await?;
        Self::in_tenant(tx, tenant, user).await
    }

    /// A read-only [`Db::tenant_tx`] whose statements all read one snapshot (REPEATABLE READ):
    /// a page of a list and what it names agree, and `pg_current_snapshot()` is the one read.
    pub async fn tenant_snapshot_tx(
        &self,
        tenant: Uuid,
        user: Option<Uuid>,
    ) -> Result<Tx, sqlx::Error> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        Self::in_tenant(tx, tenant, user).await
    }

    async fn in_tenant(mut tx: Tx, tenant: Uuid, user: Option<Uuid>) -> Result<Tx, sqlx::Error> {
        sqlx::query!(
            "SELECT set_config('role', $1, true) AS role, \
             set_config('app.tenant_id', $2, true) AS tenant_id, \
             set_config('app.user_id', $3, true) AS user_id",
            APP_ROLE,
            tenant.to_string(),
            user.map(|u| u.to_string()).unwrap_or_default(),
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(tx)
    }

    /// A transaction for one person's own rows outside any tenant (their memberships).
    pub async fn user_tx(&self, user: Uuid) -> Result<Tx, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query!(
            "SELECT set_config('role', $1, true) AS role, \
             set_config('app.tenant_id', '', true) AS tenant_id, \
             set_config('app.user_id', $2, true) AS user_id",
            APP_ROLE,
            user.to_string(),
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(tx)
    }

    /// A transaction in a named system scope (role `sextant_system`, which bypasses RLS). Opening
    /// a staff cross-tenant scope writes an audit entry in the same transaction.
    pub async fn system_tx(&self, scope: SystemScope) -> Result<Tx, sqlx::Error> {
        let tx = self.pool.begin().await?;
        enter_scope(tx, scope).await
    }

    /// A system-scope transaction on a connection the caller holds: the order import's COPYs,
    /// which close their connection rather than hand it back to the pool when a COPY fails.
    pub async fn system_tx_on(
        conn: &mut PgConnection,
        scope: SystemScope,
    ) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
        let tx = conn.begin().await?;
        enter_scope(tx, scope).await
    }

    /// Whether the database answers (healthz).
    pub async fn ping(&self) -> bool {
        let probe = async {
            let mut conn = self.pool.acquire().await?;
            // dynamic: a bare probe over the simple protocol (nothing prepared, nothing read).
            conn.execute("SELECT 1").await?;
            Ok::<_, sqlx::Error>(())
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), probe).await,
            Ok(Ok(()))
        )
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // dynamic: SET cannot be a prepared statement, which a macro query is.
                conn.execute("SET ROLE sextant_app").await?;
                Ok(())
            })
        })
}

/// Turns off PostgreSQL's JIT for the rest of the transaction: a batch's statements touch a few
/// thousand rows through indexes, and the planner's guess of the arrays' size makes it compile
/// them, which costs several times what running them does (measured: 246 of 330 ms).
pub async fn without_jit(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    // dynamic: SET cannot be a prepared statement, which a macro query is.
    conn.execute("SET LOCAL jit = off").await?;
    Ok(())
}

/// The constraint a unique violation broke, if `e` is one (to answer "already taken" next to the
/// field instead of failing).
pub fn unique_violation(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}

/// Runs the migrations as the connecting user (the tables' owner), on a connection of its own.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(url)
        .await
        .context("cannot connect to the database to migrate it")?;
    MIGRATOR.run(&mut conn).await.context("migration failed")?;
    conn.close().await?;
    Ok(())
}

/// Creates `database` in the cluster behind `server_url` if it does not exist.
pub async fn create_database_if_missing(server_url: &str, database: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(server_url).await?;
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
        database,
    )
    .fetch_one(&mut conn)
    .await?;
    if !exists {
        // dynamic: the database's name is chosen at run time, and an identifier cannot be a
        // parameter.
        let sql = format!("CREATE DATABASE \"{}\"", database.replace('"', "\"\""));
        if let Err(e) = conn.execute(sql.as_str()).await {
            // Another process may have created it in the meantime.
            let still_missing = !sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
                database,
            )
            .fetch_one(&mut conn)
            .await?;
            if still_missing {
                return Err(e.into());
            }
        }
    }
    conn.close().await?;
    Ok(())
}

/// Sets `scope` on a transaction just begun (and audits a staff cross-tenant one in it).
async fn enter_scope(
    mut tx: Transaction<'_, Postgres>,
    scope: SystemScope,
) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
    sqlx::query!(
        "SELECT set_config('role', 'sextant_system', true) AS role, \
         set_config('app.scope', $1, true) AS scope",
        scope.name(),
    )
    .fetch_one(&mut *tx)
    .await?;
    if let SystemScope::StaffCrossTenant {
        actor,
        actor_label,
        page,
    } = &scope
    {
        crate::audit::record(
            &mut tx,
            crate::audit::Entry::new("scope.open", "staff_cross_tenant", Some(page.to_string()))
                .actor(Some(*actor), actor_label.clone()),
        )
        .await?;
    }
    Ok(tx)
}
