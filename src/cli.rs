//! The `sextant` command line: serve, migrate, seed-demo, create-admin.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::auth::PlatformRole;
use crate::auth::password::{PasswordService, generate_password};
use crate::config::Config;
use crate::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use crate::db::{self, Db, SystemScope};
use crate::{app, audit, seed};

/// The database of the embedded default cluster.
pub const EMBEDDED_DATABASE: &str = "sextant";

#[derive(Parser, Debug)]
#[command(
    name = "sextant",
    version,
    about = "Creator collaborations, measured end to end"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server (migrates first).
    Serve {
        /// Address to listen on (default: SEXTANT_ADDR or 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Seed the demo data first.
        #[arg(long)]
        demo: bool,
    },
    /// Apply the database migrations.
    Migrate,
    /// Create or refresh the demo accounts, tenants and shops.
    SeedDemo {
        /// Print the demo accounts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make an API token, as the owner's settings page does (the person must be the company's
    /// owner), or with `--staff` an account manager's staff token as "My API tokens" does;
    /// prints the token, once, on stdout.
    ApiToken {
        /// The company's slug (e.g. lumi); not for a staff token.
        #[arg(long, required_unless_present = "staff", conflicts_with = "staff")]
        tenant: Option<String>,
        /// An account manager's staff token (each request names the company).
        #[arg(long)]
        staff: bool,
        /// The owner's (or the account manager's) email.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
        /// read or write.
        #[arg(long, default_value = "read")]
        scope: String,
    },
    /// Create the first admin (asks for a password, or generates one and prints it once).
    CreateAdmin {
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = "Admin")]
        name: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A .env file in the working folder, if any (never overrides the real environment).
    let _ = dotenvy::dotenv();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    // Logs go to stderr, so `seed-demo --json` prints nothing but JSON on stdout.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The database for this process: `DATABASE_URL`, or the embedded default (started here unless
/// it already runs; stopped at the end only if started here).
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    pub async fn open(config: &Config) -> Result<Database> {
        if let Some(url) = &config.database_url {
            return Ok(Database {
                url: url.clone(),
                embedded: None,
            });
        }
        let opts = EmbeddedOptions {
            root: config.data_dir.clone(),
            ephemeral: false,
        };
        let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::ensure(&opts)).await??;
        db::create_database_if_missing(&pg.url("postgres"), EMBEDDED_DATABASE).await?;
        Ok(Database {
            url: pg.url(EMBEDDED_DATABASE),
            embedded: Some(pg),
        })
    }

    pub async fn close(self) -> Result<()> {
        if let Some(pg) = self.embedded {
            tokio::task::spawn_blocking(move || pg.stop()).await??;
        }
        Ok(())
    }
}

async fn run(command: Command) -> Result<()> {
    let config = Config::from_env()?;
    let database = Database::open(&config).await?;
    let result = run_with(command, config, &database).await;
    let closed = database.close().await;
    result.and(closed)
}

async fn run_with(command: Command, mut config: Config, database: &Database) -> Result<()> {
    db::migrate(&database.url).await?;
    match command {
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo { json } => {
            let db = Db::connect(&database.url, 2).await?;
            let report =
                seed::seed_demo_with(&db, &PasswordService::new()?, seed::DemoSize::FULL).await?;
            db.close().await;
            print_demo(&report, json)
        }
        Command::ApiToken {
            tenant,
            staff,
            email,
            name,
            scope,
        } => {
            let db = Db::connect(&database.url, 2).await?;
            let result = match (staff, tenant) {
                (false, Some(tenant)) => {
                    crate::api::actions::token_for(&db, &tenant, &email, name, scope).await
                }
                _ => crate::api::actions::staff_token_for(&db, &email, name, scope).await,
            };
            db.close().await;
            println!("{}", result?);
            Ok(())
        }
        Command::CreateAdmin { email, name } => {
            let db = Db::connect(&database.url, 2).await?;
            let result = create_admin(&db, email, &name).await;
            db.close().await;
            result
        }
        Command::Serve { addr, demo } => {
            if let Some(addr) = addr {
                config.addr = addr;
            }
            let db = Db::connect(&database.url, config.db_pool_size).await?;
            let passwords = PasswordService::new()?;
            if demo {
                let report = seed::seed_demo_with(&db, &passwords, seed::DemoSize::FULL).await?;
                print_demo(&report, false)?;
            }
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.addr))?;
            let local = listener.local_addr()?;
            let state = app::state(db.clone(), config, passwords);
            println!("Sextant is running at http://{local}/ — log in at http://{local}/login");
            tracing::info!(%local, "listening");
            app::serve(listener, app::router(state.clone())).await?;
            // Every click answered before the last request is written before exit.
            match crate::tracking::links::clicks(&state).shutdown().await {
                Ok(n) => tracing::info!(clicks = n, "click log flushed"),
                Err(e) => {
                    tracing::error!(error = %e, "click log: the last clicks could not be written")
                }
            }
            db.close().await;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

fn print_demo(report: &seed::DemoReport, json: bool) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = if json {
        serde_json::to_string_pretty(report)
            .map_err(std::io::Error::other)
            .and_then(|text| writeln!(out, "{text}"))
    } else {
        (|| {
            writeln!(out, "Demo accounts (demo passwords are fixed):")?;
            for u in &report.users {
                writeln!(
                    out,
                    "  {:<30} {:<18} {:<16} {}",
                    u.email,
                    u.password,
                    u.role,
                    u.tenant.as_deref().unwrap_or("(staff)")
                )?;
            }
            Ok(())
        })()
    };
    // A reader that stops early (`| head`) is not an error worth failing for.
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

async fn create_admin(db: &Db, email: Option<String>, name: &str) -> Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let email = match email {
        Some(e) => e,
        None if interactive => {
            eprint!("Admin email: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim().to_string()
        }
        None => bail!("give the admin's email with --email"),
    };
    if !email.contains('@') || email.trim().len() < 3 {
        bail!("{email:?} is not an email address");
    }
    if crate::auth::repo::find_by_email(db.pool(), &email)
        .await?
        .is_some()
    {
        bail!("an account with the email {email} already exists");
    }
    let typed = if interactive {
        rpassword::prompt_password("Password (leave empty to generate one): ")?
    } else {
        String::new()
    };
    let (password, generated) = if typed.is_empty() {
        (generate_password(), true)
    } else if typed.chars().count() < 10 {
        bail!("the password must have at least 10 characters");
    } else {
        (typed, false)
    };
    let hash = PasswordService::new()?.hash(&password).await?;
    let mut tx = db.system_tx(SystemScope::Cli).await?;
    let id =
        crate::auth::repo::upsert(&mut tx, &email, name, &hash, Some(PlatformRole::Admin)).await?;
    audit::record(
        &mut tx,
        audit::Entry::new("staff.create", "user", Some(id.to_string()))
            .actor(None, "sextant create-admin".into())
            .after(serde_json::json!({ "email": email, "platform_role": "admin" })),
    )
    .await?;
    tx.commit().await?;
    println!("Admin created: {email}");
    if generated {
        println!("Password (shown once, keep it safe): {password}");
    }
    Ok(())
}
