//! The embedded default: `sextant serve` with no DATABASE_URL makes, starts and stops its own
//! private PostgreSQL, and a second `serve` on the same folder reuses it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;

fn sextant(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sextant"));
    cmd.env_remove("DATABASE_URL")
        .env("SEXTANT_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_healthy(port: u16, child: &mut Child) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("serve exited early: {status}");
        }
        let res = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        if res.is_ok_and(|r| r.status() == StatusCode::OK) {
            return;
        }
        assert!(Instant::now() < deadline, "no 200 from /healthz in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn terminate(mut child: Child) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn cluster_running(data_dir: &Path) -> bool {
    let pid_file = data_dir.join("pg/data/postmaster.pid");
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return false;
    };
    let pid: i32 = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    pid > 0 && kill(Pid::from_raw(pid), None).is_ok()
}

#[tokio::test]
async fn serve_without_database_url_runs_and_stops_its_own_postgres_and_a_second_serve_reuses_it() {
    // Under /tmp with mode 755, so the postgres system user can reach it when tests run as root.
    let data_dir = PathBuf::from(format!("/tmp/sextant-embedded-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();

    let port = free_port();
    let mut serve = sextant(&data_dir)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port, &mut serve).await;
    assert!(cluster_running(&data_dir));

    // seed-demo while serve runs: it reuses the running cluster and leaves it running.
    let out = sextant(&data_dir)
        .args(["seed-demo", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let users = report["users"].as_array().unwrap();
    assert!(users.len() >= 9);
    let staff = users.iter().find(|u| u["role"] == "admin").unwrap();
    assert!(staff["tenant"].is_null() && staff["tenant_slug"].is_null());
    assert!(
        cluster_running(&data_dir),
        "seed-demo must not stop serve's cluster"
    );
    let res = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    terminate(serve).await;
    assert!(
        !cluster_running(&data_dir),
        "serve stops the cluster it started"
    );

    // Second serve on the same folder: same data, nothing corrupted.
    let port = free_port();
    let mut serve = sextant(&data_dir)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port, &mut serve).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let owner = users
        .iter()
        .find(|u| u["tenant_slug"] == "lumi" && u["role"] == "owner")
        .unwrap();
    let res = client
        .post(format!("http://127.0.0.1:{port}/login"))
        .form(&[
            ("email", owner["email"].as_str().unwrap()),
            ("password", owner["password"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the demo password printed earlier still works"
    );
    terminate(serve).await;
    assert!(!cluster_running(&data_dir));
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test]
async fn seed_demo_twice_neither_fails_nor_duplicates() {
    let data_dir = PathBuf::from(format!("/tmp/sextant-seed-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    let first = sextant(&data_dir)
        .args(["seed-demo", "--json"])
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = sextant(&data_dir)
        .args(["seed-demo", "--json"])
        .output()
        .unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        first.stdout, second.stdout,
        "same accounts, same fixed passwords"
    );
    assert!(
        !cluster_running(&data_dir),
        "a command stops the cluster it started"
    );

    // Count rows directly: start the cluster through the same code and look.
    let pg =
        sextant::db::embedded::EmbeddedPostgres::ensure(&sextant::db::embedded::EmbeddedOptions {
            root: data_dir.clone(),
            ephemeral: false,
        })
        .unwrap();
    let db = sextant::db::Db::connect(&pg.url("sextant"), 1)
        .await
        .unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let mut tx = db.system_tx(sextant::db::SystemScope::Cli).await.unwrap();
    let shops: i64 = sqlx::query_scalar("SELECT count(*) FROM shops")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    db.close().await;
    pg.stop().unwrap();
    // 5 staff (two account managers, two finance people) and 8 members of 4 sellers.
    assert_eq!((users, tenants, shops, members), (13, 4, 8, 8));
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn create_admin_generates_a_password_and_prints_it_once() {
    let data_dir = PathBuf::from(format!("/tmp/sextant-admin-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    let out = sextant(&data_dir)
        .args(["create-admin", "--email", "boss@agency.example"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Admin created: boss@agency.example"));
    assert_eq!(text.matches("Password (shown once").count(), 1);
    // The same email again is refused, not silently overwritten.
    let again = sextant(&data_dir)
        .args(["create-admin", "--email", "boss@agency.example"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn a_data_folder_the_cluster_cannot_use_is_refused_with_a_message_saying_what_to_do() {
    // /root is mode 700: as root the cluster runs as `postgres`, which cannot reach it; as anyone
    // else the folder cannot even be made. Either way: a clear message, no half-made cluster.
    let data_dir = PathBuf::from(format!("/root/sextant-unreachable-{}", std::process::id()));
    let out = sextant(&data_dir)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SEXTANT_DATA_DIR"), "{stderr}");
    assert!(stderr.contains(&data_dir.display().to_string()), "{stderr}");
    assert!(!cluster_running(&data_dir));
    let _ = std::fs::remove_dir_all(&data_dir);
}
