//! No `DATABASE_URL`: the binary runs on a private PostgreSQL of its own, started from the
//! installed server programs, as a newcomer's laptop without a running server would.
//! `serve --demo` creates the cluster and serves the demo through a socket in the cluster's
//! folder (no TCP port); a second command joins the running server and leaves it running;
//! SIGTERM stops it; the data stays for the next start; a `serve` killed with SIGKILL, and
//! then the server itself killed, leave a cluster the next command recovers and stops; and
//! with no server programs there is one sentence saying what to install.
//!
//! `KOORDYNATOR_EMBEDDED=true` (`--embedded`) stands for "nothing answers at 127.0.0.1:5432": the
//! machine's own server keeps running for the other tests.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::common::{self, free_port, wait_healthy, BIN};

/// The private cluster's folder for this test; its server killed and the folder removed
/// when dropped, whatever the test did.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("kdn-local-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn cluster(&self) -> PathBuf {
        self.0.join("postgres")
    }

    /// The postmaster's process id, when one runs.
    fn postmaster(&self) -> Option<u32> {
        let pid = std::fs::read_to_string(self.cluster().join("postmaster.pid")).ok()?;
        let pid: u32 = pid.lines().next()?.trim().parse().ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    /// `koordynator` with no DATABASE_URL, on this folder's private PostgreSQL.
    fn koordynator(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_remove("DATABASE_URL")
            .env("KOORDYNATOR_EMBEDDED", "true")
            .env("KOORDYNATOR_DATA_DIR", &self.0)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.koordynator(args).output().unwrap()
    }

    /// `serve` on `port`, its log in `log` (read by [`Folder::log`]).
    fn serve(&self, port: u16, flags: &[&str], log: &str) -> Child {
        let log = std::fs::File::create(self.0.join(log)).unwrap();
        self.koordynator(&["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap_or_default()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if let Some(pid) = self.postmaster() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_database_url_the_service_runs_on_a_private_postgresql() {
    let _alone = common::alone().await;
    let folder = Folder::new();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // 1. `serve --demo` creates the cluster, loads the demo and prints a sign-in token.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut serve = folder.serve(port, &["--demo"], "serve1.log");
    let token = tests::eventually(Duration::from_secs(120), || async {
        let log = folder.log("serve1.log");
        log.lines()
            .find_map(|l| l.trim().strip_prefix("sign-in token (read-only): "))
            .map(str::to_owned)
    })
    .await
    .unwrap_or_else(|| panic!("no token printed: {}", folder.log("serve1.log")));
    wait_healthy(&http, &base).await;
    let log = folder.log("serve1.log");
    assert!(
        log.contains("a private PostgreSQL, created and started"),
        "{log}"
    );
    let programs = |token: &str| {
        let (http, base, token) = (http.clone(), base.clone(), token.to_owned());
        async move {
            let r = http
                .get(format!("{base}/api/v1/programs"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            (status, body)
        }
    };
    let (status, body) = programs(&token).await;
    assert_eq!(status, 200, "{body}");
    let demo_programs = body.to_string();
    assert!(demo_programs.contains("Toru"), "the demo is served: {body}");

    // The server listens on its socket only: no TCP address at all.
    let socket = folder.cluster();
    let url = format!(
        "postgres://postgres@localhost/koordynator?host={}",
        socket.display()
    );
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(listen, "", "no TCP listener");
    pool.close().await;
    let postmaster = folder.postmaster().expect("the private server runs");

    // 2. Another command while `serve` runs joins the server and leaves it running.
    let admin = folder.run(&["token", "issue", "--role", "admin"]);
    assert!(admin.status.success(), "{}", stderr(&admin));
    let admin = String::from_utf8(admin.stdout).unwrap().trim().to_owned();
    assert!(stderr(&folder.run(&["projections", "status"])).contains("already running"));
    assert_eq!(folder.postmaster(), Some(postmaster), "left running");
    assert_eq!(
        programs(&admin).await.0,
        200,
        "serve still has its database"
    );

    // 3. SIGTERM: `serve` was the last user, so the server stops with it.
    sigterm(&serve);
    assert!(serve.wait().unwrap().success());
    assert_eq!(folder.postmaster(), None, "stopped with the service");
    assert!(folder
        .log("serve1.log")
        .contains("the private PostgreSQL stopped"));

    // 4. The data stays: a plain `serve` starts the server again on it. Then `serve` dies
    // without stopping anything, and the server itself is killed, as a power cut would.
    let port = free_port();
    let base2 = format!("http://127.0.0.1:{port}");
    let mut serve = folder.serve(port, &[], "serve2.log");
    wait_healthy(&http, &base2).await;
    let r = http
        .get(format!("{base2}/api/v1/programs"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap().to_string(),
        demo_programs,
        "the same data after a restart"
    );
    let log = folder.log("serve2.log");
    assert!(log.contains("a private PostgreSQL, started"), "{log}");
    serve.kill().unwrap();
    serve.wait().unwrap();
    let orphan = folder
        .postmaster()
        .expect("a killed serve leaves its server");
    let killed = Command::new("kill")
        .args(["-KILL", &orphan.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tests::eventually(Duration::from_secs(10), || async {
        (folder.postmaster().is_none()).then_some(())
    })
    .await
    .expect("the killed server is gone");
    assert!(
        folder.cluster().join("postmaster.pid").exists(),
        "a stale pid file is left, as after a crash"
    );

    // 5. The next command recovers the cluster, finds the history intact, and stops it.
    let verify = folder.run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}\n{}",
        stderr(&verify),
        folder.log("postgres/server.log")
    );
    assert_eq!(folder.postmaster(), None, "stopped again by its last user");
    let server_log = std::fs::read_to_string(folder.cluster().join("server.log")).unwrap();
    assert!(
        server_log.contains("database system was interrupted")
            || server_log.contains("not properly shut down"),
        "the server recovered from the crash: {server_log}"
    );

    // 6. Without PostgreSQL's programs: one sentence on what to install.
    let empty = folder.0.join("no-programs");
    std::fs::create_dir_all(&empty).unwrap();
    let refused = folder
        .koordynator(&["migrate"])
        .env("KOORDYNATOR_POSTGRES_BIN", &empty)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("apt install postgresql") && message.contains("DATABASE_URL"),
        "{message}"
    );
}
