//! The embedded default: a private PostgreSQL cluster made from the machine's own binaries, used
//! when `DATABASE_URL` is not set. It listens only on a unix socket in a short private directory.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, anyhow, bail};
use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Uid, User};
use sha2::{Digest, Sha256};

/// The message for a machine with neither `DATABASE_URL` nor PostgreSQL binaries.
pub const NO_POSTGRES_HELP: &str = "Sextant needs PostgreSQL and found none. Either set DATABASE_URL \
to a PostgreSQL 14+ database, or install the `postgresql` package (Debian/Ubuntu: `apt-get install \
postgresql`) so Sextant can run its own private cluster, or start one with `docker compose up`.";

/// Options for a private cluster.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// The cluster lives in `<root>/pg`.
    pub root: PathBuf,
    /// Turn off fsync (tests only: a crash may lose the data).
    pub ephemeral: bool,
}

/// A private cluster that is running. `stop` stops it only when this process started it.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<User>,
    started_here: bool,
    stopped: std::sync::atomic::AtomicBool,
}

impl EmbeddedPostgres {
    /// Finds the binaries, creates the cluster on first use, and starts it unless a cluster for
    /// this data folder is already running (then it is reused and left running).
    pub fn ensure(opts: &EmbeddedOptions) -> Result<Self> {
        let bin_dir = find_bin_dir().ok_or_else(|| anyhow!(NO_POSTGRES_HELP))?;
        fs::create_dir_all(&opts.root).with_context(|| {
            format!(
                "cannot create the data folder {}: set SEXTANT_DATA_DIR to a folder you can \
                 write, or set DATABASE_URL",
                opts.root.display()
            )
        })?;
        let root = opts.root.canonicalize()?;
        let pg_root = root.join("pg");
        let data_dir = pg_root.join("data");
        let socket_dir = socket_dir_for(&data_dir);

        // initdb and pg_ctl refuse to run as root: as root, the cluster belongs to `postgres`.
        let run_as = if Uid::effective().is_root() {
            let user = User::from_name("postgres")?.ok_or_else(|| {
                anyhow!(
                    "running as root, Sextant runs its private PostgreSQL as the `postgres` system \
                     user, and there is none. Run as an ordinary user or set DATABASE_URL."
                )
            })?;
            Some(user)
        } else {
            None
        };

        fs::create_dir_all(&pg_root)?;
        // One process at a time creates or starts the cluster (serve and seed-demo may race).
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("pg.lock"))?;
        let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
            .map_err(|(_, e)| anyhow!("cannot lock {}: {e}", root.display()))?;

        prepare_dir(&pg_root, run_as.as_ref(), 0o700)?;
        prepare_dir(&socket_dir, run_as.as_ref(), 0o700)?;
        if let Some(user) = &run_as {
            check_reachable(&pg_root, user)?;
        }

        let mut pg = EmbeddedPostgres {
            bin_dir,
            data_dir,
            socket_dir,
            run_as,
            started_here: false,
            stopped: std::sync::atomic::AtomicBool::new(false),
        };
        if !pg.data_dir.join("PG_VERSION").exists() {
            pg.initdb(opts.ephemeral)?;
        }
        if !pg.is_running()? {
            pg.start(opts.ephemeral)?;
            pg.started_here = true;
        }
        Ok(pg)
    }

    /// The connection URL of a database in this cluster (over the unix socket).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost/{database}?host={}",
            self.socket_dir.display()
        )
    }

    pub fn started_here(&self) -> bool {
        self.started_here
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the cluster if this process started it; a reused cluster keeps running.
    pub fn stop(&self) -> Result<()> {
        if !self.started_here || self.stopped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let out = self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"])?;
        if !out.status.success() && self.is_running()? {
            bail!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Leave nothing behind in /tmp: the postmaster may still be unlinking its socket files
        // for a moment after pg_ctl returns, so try a few times.
        for _ in 0..40 {
            if fs::remove_dir(&self.socket_dir).is_ok() || !self.socket_dir.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(())
    }

    fn initdb(&self, ephemeral: bool) -> Result<()> {
        let mut args = vec![
            "-D".to_string(),
            self.data_dir.display().to_string(),
            "-U".into(),
            "postgres".into(),
            "--auth=trust".into(),
            "--encoding=UTF8".into(),
            "--no-locale".into(),
        ];
        if ephemeral {
            args.push("--no-sync".into());
        }
        let out = self.command("initdb").args(&args).output()?;
        if !out.status.success() {
            bail!(
                "initdb failed for {}: {}",
                self.data_dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn start(&self, ephemeral: bool) -> Result<()> {
        let mut opts = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections=200",
            self.socket_dir.display()
        );
        if ephemeral {
            opts.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self
            .data_dir
            .parent()
            .unwrap_or(&self.data_dir)
            .join("server.log");
        let out = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            &log.display().to_string(),
            "-o",
            &opts,
        ])?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            bail!(
                "could not start the private PostgreSQL in {}: {}\n{}",
                self.data_dir.display(),
                String::from_utf8_lossy(&out.stderr),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }

    fn is_running(&self) -> Result<bool> {
        // pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        let out = self.pg_ctl(&["status"])?;
        Ok(out.status.success() && self.socket_dir.join(".s.PGSQL.5432").exists())
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(&self.data_dir).args(args);
        Ok(cmd.output()?)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.env_remove("PGDATA").env("LC_ALL", "C");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            cmd.env("HOME", &user.dir).current_dir("/");
        }
        cmd
    }
}

impl Drop for EmbeddedPostgres {
    /// A command that fails or panics half-way still stops the cluster it started.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The newest installed PostgreSQL: `pg_config --bindir` if it has `initdb`, else the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let version = entry
                .file_name()
                .to_string_lossy()
                .parse::<u32>()
                .unwrap_or(0);
            let bin = entry.path().join("bin");
            if bin.join("initdb").exists() && bin.join("pg_ctl").exists() {
                candidates.push((version, bin));
            }
        }
    }
    candidates.sort();
    if let Some((_, newest)) = candidates.pop() {
        return Some(newest);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (dir.join("initdb").exists() && dir.join("pg_ctl").exists()).then_some(dir)
}

/// A short socket directory derived from the data folder: unix socket paths over 107 bytes are
/// refused, and data folders can be deep.
pub fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    PathBuf::from(format!("/tmp/sextant-{hex}"))
}

fn prepare_dir(dir: &Path, owner: Option<&User>, mode: u32) -> Result<()> {
    fs::create_dir_all(dir)?;
    if let Some(user) = owner {
        chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
            .with_context(|| format!("cannot hand {} to the postgres user", dir.display()))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// As root the cluster runs as `postgres`, which must be able to reach the data folder: a folder
/// under /root (mode 700) is out of its reach.
fn check_reachable(dir: &Path, user: &User) -> Result<()> {
    let ok = Command::new("/bin/sh")
        .arg("-c")
        .arg("test -w \"$1\" && test -x \"$1\"")
        .arg("sh")
        .arg(dir)
        .uid(user.uid.as_raw())
        .gid(user.gid.as_raw())
        .current_dir("/")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!(
            "running as root, Sextant runs its private PostgreSQL as the `postgres` system user, \
             which cannot reach {}. Set SEXTANT_DATA_DIR to a folder that user can reach (for \
             example /var/lib/sextant), or set DATABASE_URL.",
            dir.display()
        );
    }
    Ok(())
}
