//! `koordynator audit …`: verify the store, seal it, export it, import an export, and check
//! an export offline — what an evaluator runs, also without access to the service.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use domain::study_visit::{verify_with_actors, StudyVisitEvent, VerifyReport};
use infra::export::{parse_line, ExportFilter, Exporter, Line, LineChecker, Trailer};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::cli::progress::Progress;

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-compute every hash and seal; exit status 1 when anything was altered, removed or inserted.
    Verify,
    /// Seal what was committed since the last seal and print the seal's hash.
    Seal,
    /// Write events as JSON Lines with hashes and a trailer (to a file, or stdout).
    Export {
        /// File to write (default: stdout).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Events recorded at or after this instant (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Events recorded before this instant (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// Only this organizer's events.
        #[arg(long)]
        organizer: Option<String>,
        /// Only this aggregate type (StudyVisit, CooperationProgram, Network).
        #[arg(long)]
        aggregate_type: Option<String>,
        /// Only this aggregate (needs --aggregate-type).
        #[arg(long, requires = "aggregate_type")]
        aggregate_id: Option<String>,
    },
    /// Load an export into an empty database, re-computing every hash on the way.
    Import { file: PathBuf },
    /// Remove access-log entries older than the retention period (the purge is itself logged).
    PurgeAccessLog {
        /// Keep this many days of the access log.
        #[arg(
            long,
            env = "KOORDYNATOR_ACCESS_LOG_RETENTION_DAYS",
            default_value_t = 730
        )]
        retention_days: u32,
    },
    /// Check an export offline (no database): every hash, each stream's chain, the trailer,
    /// and every allocation decision of each complete study visit in it.
    Check { file: PathBuf },
}

fn instant(flag: &str, v: Option<String>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    v.map(|s| {
        crate::http::validate::instant(&s).map_err(|e| anyhow::anyhow!("--{flag}: {}", e.message))
    })
    .transpose()
}

/// Who ran a command-line purge, for the access log: the operating-system user.
fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// Runs an audit command; `check` never touches the database.
pub async fn run(command: AuditCommand, database_url: &str) -> anyhow::Result<()> {
    let connect = || infra::connect_and_migrate(database_url, 4);
    match command {
        AuditCommand::Check { file } => check(file).await,
        AuditCommand::Verify => verify_store(&connect().await?).await,
        AuditCommand::PurgeAccessLog { retention_days } => {
            let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(retention_days));
            let actor = format!("cli:{}", whoami());
            let removed =
                infra::access_log::purge_before(&connect().await?, cutoff, &actor).await?;
            eprintln!(
                "removed {removed} access-log entries recorded before {}",
                cutoff.to_rfc3339()
            );
            Ok(())
        }
        AuditCommand::Seal => {
            match infra::seal::seal_now(&connect().await?, chrono::Utc::now()).await? {
                Some(s) => println!(
                    "seal {}\t{} events\t{}",
                    s.seal_no,
                    s.events_total,
                    infra::chain::to_hex(&s.seal_hash)
                ),
                None => eprintln!("nothing to seal: the store is empty"),
            }
            Ok(())
        }
        AuditCommand::Export {
            output,
            from,
            to,
            organizer,
            aggregate_type,
            aggregate_id,
        } => {
            let filter = ExportFilter {
                organizer,
                aggregate_type,
                aggregate_id,
                from: instant("from", from)?,
                to: instant("to", to)?,
            };
            export(&connect().await?, filter, output).await
        }
        AuditCommand::Import { file } => {
            let input = tokio::fs::File::open(&file)
                .await
                .with_context(|| format!("opening {}", file.display()))?;
            let mut progress = Progress::new("import", None);
            let trailer =
                infra::import::import(&connect().await?, BufReader::new(input), &mut |n| {
                    progress.update(n)
                })
                .await?;
            progress.finish();
            eprintln!(
                "imported {} events in {:.1?}; every hash re-computed and matching",
                trailer.events,
                progress.elapsed()
            );
            Ok(())
        }
    }
}

async fn verify_store(pool: &PgPool) -> anyhow::Result<()> {
    let total: i64 = infra::feed::count(pool).await?;
    let mut progress = Progress::new("verify", Some(total as u64));
    let report = infra::integrity::verify(pool, &mut |n| progress.update(n)).await?;
    progress.finish();
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.intact {
        eprintln!(
            "intact: {} events and {} seals re-computed in {:.1?}",
            report.verified,
            report.seals_verified,
            progress.elapsed()
        );
        Ok(())
    } else {
        anyhow::bail!(
            "NOT intact: {} problem(s); the first is listed as first_broken",
            report.problem_count
        )
    }
}

async fn export(
    pool: &PgPool,
    filter: ExportFilter,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &output {
        Some(path) => Box::new(tokio::io::BufWriter::new(
            tokio::fs::File::create(path)
                .await
                .with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(tokio::io::BufWriter::new(tokio::io::stdout())),
    };
    let mut exporter = Exporter::start(pool.clone(), filter, chrono::Utc::now()).await?;
    // The total (for the time left) costs a counting scan: only when a terminal shows it.
    let total = if Progress::shown() {
        Some(exporter.total().await?)
    } else {
        None
    };
    let mut progress = Progress::new("export", total);
    while let Some(chunk) = exporter.next_chunk().await? {
        out.write_all(chunk.as_bytes()).await?;
        progress.update(exporter.exported());
    }
    out.flush().await?;
    progress.finish();
    eprintln!(
        "exported {} events in {:.1?}",
        exporter.exported(),
        progress.elapsed()
    );
    Ok(())
}

async fn check(file: PathBuf) -> anyhow::Result<()> {
    let input = tokio::fs::File::open(&file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let mut progress = Progress::new("check", None);
    let summary = check_export(BufReader::new(input), &mut |n| progress.update(n)).await?;
    progress.finish();
    let trailer = &summary.trailer;
    println!(
        "{} events: every hash re-computed, every stream chained, trailer complete (digest {})",
        trailer.events, trailer.digest
    );
    if let Some(seal) = &trailer.seal {
        println!(
            "cut at seal {} with hash {}",
            seal["seal_no"], seal["seal_hash"]
        );
    }
    let mut inconsistent = 0;
    for (id, report) in &summary.visits {
        let verdict = if report.consistent() {
            "consistent"
        } else {
            inconsistent += 1;
            "INCONSISTENT"
        };
        println!(
            "study visit {id}: {} decisions re-derived, {verdict}",
            report.checked
        );
        for d in &report.discrepancies {
            println!(
                "  term {}: application {:?}: expected {}, recorded {}{}",
                d.term_id,
                d.application_id,
                d.expected,
                d.recorded,
                d.problem
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            );
        }
    }
    if inconsistent > 0 {
        anyhow::bail!("{inconsistent} study visit(s) with decisions that do not follow the rules");
    }
    Ok(())
}

/// What an offline check of an export found.
#[derive(Debug)]
pub struct CheckSummary {
    /// The export's trailer, checked against its lines.
    pub trailer: Trailer,
    /// Every study visit whose whole history is in the export, with its decisions re-derived.
    pub visits: Vec<(String, VerifyReport)>,
}

/// Checks an export with no database: every line's hash, each stream's chain, the trailer,
/// and the allocation decisions of each study visit whose history starts in the file. An
/// altered, reordered or cut file is an error naming the line.
pub async fn check_export(
    input: impl tokio::io::AsyncBufRead + Unpin,
    progress: &mut (dyn FnMut(u64) + Send),
) -> anyhow::Result<CheckSummary> {
    let mut lines = input.lines();
    let mut checker = LineChecker::default();
    // Study visits whose whole history is in the file (from sequence 1); a visit first
    // seen mid-way (a period export) cannot be re-derived and is left out.
    let mut visits: BTreeMap<String, Vec<(StudyVisitEvent, Option<String>)>> = BTreeMap::new();
    let mut n = 0u64;
    while let Some(text) = lines.next_line().await? {
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(&text).map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))? {
            Line::Event(e) => {
                checker.event(&e).map_err(anyhow::Error::msg)?;
                if e.aggregate_type == "StudyVisit"
                    && (e.sequence == 1 || visits.contains_key(&e.aggregate_id))
                {
                    let event: StudyVisitEvent = domain::upcasting::decode(
                        &e.aggregate_type,
                        &e.event_type,
                        &e.event_version,
                        e.payload.clone(),
                    )
                    .with_context(|| format!("position {}: unreadable event", e.position))?;
                    let actor = e.metadata["actor"].as_str().map(str::to_owned);
                    visits
                        .entry(e.aggregate_id.clone())
                        .or_default()
                        .push((event, actor));
                }
            }
            Line::Trailer(t) => checker.trailer(*t).map_err(anyhow::Error::msg)?,
        }
        n += 1;
        if n.is_multiple_of(1000) {
            progress(n);
        }
    }
    let trailer = checker.finish().map_err(anyhow::Error::msg)?;
    let visits = visits
        .into_iter()
        .map(|(id, events)| (id, verify_with_actors(&events)))
        .collect();
    Ok(CheckSummary { trailer, visits })
}
