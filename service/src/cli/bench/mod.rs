//! `koordynator bench`: the performance benchmark, in one run (targets in docs/benchmarks.md).
//!
//! It creates a fresh database, starts this same binary as `serve` in a child process (so
//! the service's peak memory is its own), and measures against raw PostgreSQL in the same
//! run: (a) single-event INSERT transactions, (b) public submissions over HTTP spread over
//! many visits, (c) a crowd on one term, (c2) a sustained load on one term, (d) projection
//! lag during (b), (e) rebuilding every read model from a million events against reading
//! them raw, (f) the service's peak memory with those events stored, and (g) the same
//! submissions on plain cqrs-es (`CqrsFramework` over `PostgresEventRepository` with a
//! `GenericQuery` view). It prints a table and writes the figures as JSON.
//!
//! A subcommand rather than a separate crate: `current_exe()` is then exactly the release
//! binary being measured, and one `cargo run --release` builds and runs everything.

mod args;
mod bulk;
mod cpu;
mod lag;
mod load;
mod peer;
mod process;
mod rebuild;
mod report;
mod stats;
mod together;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use infra::tokens::{self, Role};
use sqlx::migrate::MigrateDatabase;
use sqlx::Postgres;

pub use args::BenchArgs;
use load::{Accepted, Client, Target};
use process::ServiceProcess;
use report::{Crowd, Level, Memory, OneTerm, Report};
use stats::Figures;

/// Seats of the term under (c2)'s sustained load: an ordinary term's size, so that most of
/// the load is submissions past the seats, still accepted (201) to rank at the close.
const ONE_TERM_SEATS: u32 = 100;

/// Runs the whole benchmark, prints the table and writes the JSON report.
pub async fn run(args: BenchArgs) -> anyhow::Result<Report> {
    let url = format!(
        "{}/kdn_bench_{}",
        args.server.trim_end_matches('/'),
        uuid::Uuid::new_v4().simple()
    );
    let result = measure(&args, &url).await;
    if !args.keep_database {
        if let Err(e) = Postgres::force_drop_database(&url).await {
            eprintln!("could not drop the benchmark database {url}: {e}");
        }
    }
    let report = result?;
    print!("{}", report.table());
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.output, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("report written to {}", args.output.display());
    Ok(report)
}

async fn measure(args: &BenchArgs, url: &str) -> anyhow::Result<Report> {
    let top = args.concurrency.iter().copied().max().unwrap_or(1) as u32;
    let pool = infra::connect_and_migrate(url, top + 4).await?;
    let mut report = Report::new(&pool, args).await?;
    let (_, token) = tokens::issue(&pool, Role::Coordinator, Some("rops-torun"), "bench").await?;
    let duration = Duration::from_secs_f64(args.seconds);

    let service = ServiceProcess::start(url, args.service_connections).await?;
    let client = Client::new(&service.base, &token)?;
    eprintln!("setting up {} visits", args.visits);
    let mut targets = Vec::new();
    for _ in 0..args.visits.max(1) {
        targets.push(client.open_term(100).await?);
    }
    let targets = Arc::new(targets);

    // (a) the baseline
    load::create_baseline_table(&pool).await?;
    let payload = serde_json::json!({"ApplicationSubmitted": {
        "application_id": uuid::Uuid::now_v7(), "term_id": uuid::Uuid::now_v7(),
        "subject_id": uuid::Uuid::new_v4(),
        "institution": {"name": "Gmina nr 1", "type": "JST", "nip": "7251801126", "regon": null},
        "consent": {"information_clause": "2026-01", "legal_basis": "consent"},
        "submitted_at": "2026-01-10T10:00:00Z"}});
    let payload = Arc::new(payload);
    for &c in &args.concurrency {
        eprintln!("(a) baseline INSERTs at {c} connections");
        let (pool, payload) = (pool.clone(), payload.clone());
        let cpu_before = cpu::Sample::now(service.pid());
        let (figures, _) = load::run_for(c, duration, move |i| {
            let (pool, payload) = (pool.clone(), payload.clone());
            async move {
                load::baseline_insert(&pool, i, &payload).await?;
                Ok(Some(()))
            }
        })
        .await;
        let mut level = Level::new(c, figures);
        level.cpu = Some(cpu_before.usage(&cpu::Sample::now(service.pid()), level.figures.ok));
        report.baseline.push(level);
    }

    // (b) submissions spread over the visits, with (d) the projection lag observed meanwhile
    let mut accepted: Vec<Accepted> = Vec::new();
    for &c in &args.concurrency {
        eprintln!("(b) submissions at {c} clients, (d) projection lag");
        let observer = lag::Observer::start(pool.clone());
        let (client, targets, pending) = (client.clone(), targets.clone(), observer.pending());
        let cpu_before = cpu::Sample::now(service.pid());
        let (figures, done) = load::run_for(c, duration, move |i| {
            let (client, targets, pending) = (client.clone(), targets.clone(), pending.clone());
            async move {
                let target = &targets[i % targets.len()];
                let a = client.submit(target).await?;
                if let Some(a) = &a {
                    lag::push(&pending, a);
                }
                Ok(a)
            }
        })
        .await;
        // Taken before the lag's wait, so the projections' catching up after the load is
        // not counted; their share during the load is.
        let cpu_after = cpu::Sample::now(service.pid());
        let lag = observer.finish(Duration::from_secs(30)).await?;
        accepted.extend(done);
        let mut level = Level::new(c, figures);
        level.cpu = Some(cpu_before.usage(&cpu_after, level.figures.ok));
        level.lag = Some(lag);
        report.submissions.push(level);
    }

    // (c) the crowd on one term
    eprintln!("(c) {} concurrent submissions to one term", args.crowd);
    let crowd_target = client.open_term(args.crowd as u32).await?;
    let conflicts_before = service.conflicts_retried().await?;
    let (figures, crowd_accepted) = crowd(&client, &crowd_target, args.crowd).await;
    let stored = stored_submissions(&pool).await?;
    let (lost, doubled) = check(&crowd_accepted, &stored);
    let in_crowd_stream: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'ApplicationSubmitted'",
    )
    .bind(&crowd_target.visit)
    .fetch_one(&pool)
    .await?;
    let (lost_b, doubled_b) = check(&accepted, &stored);
    report.crowd = Some(Crowd {
        figures,
        conflicts_retried: service.conflicts_retried().await? - conflicts_before,
        lost,
        doubled,
        stored_without_answer: (in_crowd_stream - crowd_accepted.len() as i64).max(0) as u64,
        lost_in_submissions: lost_b,
        doubled_in_submissions: doubled_b,
    });

    // (c2) one term under a sustained load: what a popular term sees for longer than a
    // crowd's burst, its submissions running past the seats onto the waiting list
    let clients = top as usize;
    eprintln!(
        "(c2) {clients} clients submitting to one term for {} s",
        args.seconds
    );
    let one_term = Arc::new(vec![client.open_term(ONE_TERM_SEATS).await?]);
    let conflicts_before = service.conflicts_retried().await?;
    let (figures, one_term_accepted) = load::submit_for(&client, one_term, clients, duration).await;
    let conflicts_retried = service.conflicts_retried().await? - conflicts_before;
    let (lost, doubled) = check(&one_term_accepted, &stored_submissions(&pool).await?);
    report.one_term = Some(OneTerm {
        concurrency: clients,
        seats: ONE_TERM_SEATS,
        figures,
        conflicts_retried,
        lost,
        doubled,
    });
    let peak_after_load = service.peak_rss_kb()?;

    // (e) a million events, rebuilt and read raw
    let bulk_streams = args.events.div_ceil(10_000).max(1);
    eprintln!("(e) setting up {bulk_streams} visits for the bulk events");
    let mut bulk_targets = Vec::new();
    for _ in 0..bulk_streams {
        bulk_targets.push(client.open_term(100).await?);
    }
    service.stop();
    let stored_now: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    let to_write = args.events.saturating_sub(stored_now as usize);
    eprintln!("(e) writing {to_write} events");
    let template = bulk::template(&pool).await?;
    let started = Instant::now();
    let written = bulk::fill(&pool, &bulk_targets, &template, to_write, 4).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    let mut rebuild = rebuild::measure(&pool, url).await?;
    rebuild.generated = written as u64;
    rebuild.generate_seconds = fill_seconds;
    report.rebuild = Some(rebuild);

    // (f) the service's memory with the events stored, after serving traffic
    eprintln!(
        "(f) serving traffic over {} stored events",
        report.events_stored(&pool).await?
    );
    let service = ServiceProcess::start(url, args.service_connections).await?;
    let client = Client::new(&service.base, &token)?;
    let all: Arc<Vec<Target>> =
        Arc::new(bulk_targets.iter().chain(targets.iter()).cloned().collect());
    let (traffic, _) = load::submit_for(&client, all, 8, duration).await;
    for t in bulk_targets.iter().take(5) {
        client.roster(t).await?;
    }
    report.memory = Some(Memory {
        peak_rss_mb_after_load: peak_after_load as f64 / 1024.0,
        peak_rss_mb_with_events: service.peak_rss_kb()? as f64 / 1024.0,
        events_stored: report.events_stored(&pool).await?,
        traffic,
    });
    service.stop();

    // (g) the peer: the same submissions on cqrs-es used plainly, in a database of its own
    let peer_url = format!("{url}_peer");
    report.peer = Some(
        peer::measure(
            &peer_url,
            &args.concurrency,
            duration,
            args.visits,
            args.crowd,
        )
        .await?,
    );
    report.finish();
    Ok(report)
}

/// `crowd` submissions to `target` released at the same instant.
async fn crowd(client: &Client, target: &Target, crowd: usize) -> (Figures, Vec<Accepted>) {
    let (client, target) = (client.clone(), target.clone());
    let released = together::released(crowd, move |_| {
        let (client, target) = (client.clone(), target.clone());
        async move { client.submit(&target).await }
    })
    .await;
    let (mut lat, mut ok, mut failed) = (Vec::new(), Vec::new(), 0);
    for answer in released.answers {
        match answer {
            Some((d, Ok(Some(a)))) => {
                lat.push(d);
                ok.push(a);
            }
            Some((_, Err(e))) => {
                eprintln!("crowd submission failed: {e}");
                failed += 1;
            }
            // Refused (not 201), or the task did not finish.
            _ => failed += 1,
        }
    }
    (Figures::from(lat, failed, released.wall), ok)
}

/// How often each application id occurs in the stored submissions.
async fn stored_submissions(pool: &sqlx::PgPool) -> anyhow::Result<HashMap<String, i64>> {
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT payload -> 'ApplicationSubmitted' ->> 'application_id', count(*) FROM events
          WHERE event_type = 'ApplicationSubmitted' GROUP BY 1",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect())
}

/// (lost, doubled): acknowledged submissions missing from the store, or stored twice.
fn check(accepted: &[Accepted], stored: &HashMap<String, i64>) -> (u64, u64) {
    let mut lost = 0;
    let mut doubled = 0;
    for a in accepted {
        match stored.get(&a.application_id).copied().unwrap_or(0) {
            0 => lost += 1,
            1 => {}
            _ => doubled += 1,
        }
    }
    (lost, doubled)
}
