//! The service under test: this same binary started as `serve` in a child process, so its
//! memory (VmHWM) is the service's alone and nothing of the load generator runs inside it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

/// A running `koordynator serve` child.
pub struct ServiceProcess {
    child: Child,
    pub base: String,
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
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting koordynator serve")?;
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("[serve] {line}");
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
                    return Ok(Self { child, base });
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        anyhow::bail!("koordynator serve did not become healthy in 30 s")
    }

    /// Optimistic-concurrency conflicts the service retried so far, read from its own
    /// `/metrics` (`koordynator_command_conflicts_total`, summed over aggregate types).
    pub async fn conflicts_retried(&self) -> anyhow::Result<u64> {
        let text = reqwest::get(format!("{}/metrics", self.base))
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| l.starts_with("koordynator_command_conflicts_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64)
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

    /// The child's process id (for its CPU time in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
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
