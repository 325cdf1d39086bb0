//! (e): every read model rebuilt by `koordynator projections rebuild`, against reading
//! the same rows raw in the same order and pages.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use infra::feed::{self, Checkpoint};
use sqlx::PgPool;

use super::report::Rebuild;

pub async fn measure(pool: &PgPool, url: &str) -> anyhow::Result<Rebuild> {
    eprintln!("(e) reading every event raw");
    let started = Instant::now();
    let (mut at, mut events) = (Checkpoint::default(), 0u64);
    loop {
        let page = feed::read_after(pool, at, projections::runner::REBUILD_PAGE).await?;
        let Some(last) = page.last() else { break };
        at = last.checkpoint();
        events += page.len() as u64;
    }
    let raw_seconds = started.elapsed().as_secs_f64();
    eprintln!("(e) rebuilding every read model");
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting koordynator projections rebuild")?;
    let mut per_projection = Vec::new();
    // One line per read model ("name: …"); the one-pass summary line is only echoed.
    let names: Vec<String> = projections::all()
        .iter()
        .map(|p| format!("{}:", p.name()))
        .collect();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[rebuild] {line}");
            if names.iter().any(|n| line.starts_with(n.as_str())) {
                per_projection.push(line);
            }
        }
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "projections rebuild failed: {status}");
    let rebuild_seconds = started.elapsed().as_secs_f64();
    Ok(Rebuild {
        events,
        raw_seconds,
        raw_per_second: events as f64 / raw_seconds.max(1e-9),
        rebuild_seconds,
        rebuild_per_second: events as f64 / rebuild_seconds.max(1e-9),
        ratio: raw_seconds / rebuild_seconds.max(1e-9),
        per_projection,
        generated: 0,
        generate_seconds: 0.0,
    })
}
