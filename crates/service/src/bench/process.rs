//! The service under test: this same binary started as `serve` in a child process, so its
//! memory (VmHWM) is the service's alone and nothing of the load generator runs inside it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

/// The tracing target the pipeline reports each retried conflict on.
const CONFLICT_TARGET: &str = "koordynator_conflicts";

/// A running `koordynator serve` child.
pub struct ServiceProcess {
    child: Child,
    pub base: String,
    conflicts: Arc<AtomicU64>,
}

impl ServiceProcess {
    /// Starts `serve` on a free port over `database_url` and waits until `/health` answers.
    pub async fn start(database_url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let exe = std::env::current_exe().context("finding the koordynator binary")?;
        let mut child = Command::new(exe)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--max-connections",
                &max_connections.to_string(),
                // The load comes from one address; the public form's limit would refuse it.
                "--submission-rate-limit",
                "0",
            ])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", format!("warn,{CONFLICT_TARGET}=debug"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting koordynator serve")?;
        let conflicts = Arc::new(AtomicU64::new(0));
        if let Some(stderr) = child.stderr.take() {
            let conflicts = conflicts.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains(CONFLICT_TARGET) {
                        conflicts.fetch_add(1, Ordering::Relaxed);
                    } else {
                        eprintln!("[serve] {line}");
                    }
                }
            });
        }
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("koordynator serve exited at start: {status}");
            }
            if let Ok(r) = http.get(format!("{base}/health")).send().await {
                if r.status().is_success() {
                    return Ok(Self {
                        child,
                        base,
                        conflicts,
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        anyhow::bail!("koordynator serve did not become healthy in 30 s")
    }

    /// Optimistic-concurrency conflicts the service retried so far.
    pub fn conflicts_retried(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// The process's peak resident memory so far (VmHWM), in kB.
    pub fn peak_rss_kb(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")
    }

    /// Stops the process at once.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
