//! `koordynator personal-data purge-expired`: erases applicants' personal data once the
//! retention period after their visit ended has passed.
//!
//! A visit has ended when every term is closed or cancelled and none is still planned
//! without dates; it ended on the last `ends_on` of its terms. A visit with a planned-only
//! term, a recruitment still open, or no dated term at all has not ended, so its data stay
//! (an erasure on request still works). The events and every decision stay as they are.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Subcommand;
use infra::erasure::{self, Reason};
use projections::study_visits::read::EndedVisit;
use projections::ReadError;
use sqlx::PgPool;
use uuid::Uuid;

/// Default retention: five years after the visit ended, the usual archiving period for
/// documents of projects co-financed by EU funds (README, "Personal data").
pub const DEFAULT_RETENTION_DAYS: u32 = 5 * 365 + 1;

/// Personal data management.
#[derive(Debug, Subcommand)]
pub enum PersonalDataCommand {
    /// Erase applicants' personal data of visits that ended more than the retention period ago.
    PurgeExpired {
        /// Days kept after a visit's last term ended.
        #[arg(long, env = "KOORDYNATOR_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
        retention_days: u32,
        /// Only list what would be erased.
        #[arg(long)]
        dry_run: bool,
    },
}

/// One ended visit whose applicants' personal data expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredVisit {
    pub visit_id: Uuid,
    pub ended_on: NaiveDate,
    /// Applications of the visit still holding personal data.
    pub applications: Vec<Uuid>,
}

/// What a purge found and did.
#[derive(Debug, Default)]
pub struct PurgeReport {
    pub cutoff: Option<NaiveDate>,
    pub visits: Vec<ExpiredVisit>,
    /// Applications whose personal data was erased (0 on a dry run).
    pub erased_applications: u64,
    /// Subjects left without any personal data, whose e-mail hash went with them.
    pub erased_subjects: u64,
}

/// Finds the visits that ended before `now - retention_days` and, unless `dry_run`, erases
/// their applicants' personal data in one transaction.
pub async fn purge_expired(
    pool: &PgPool,
    now: DateTime<Utc>,
    retention_days: u32,
    dry_run: bool,
) -> Result<PurgeReport, ReadError> {
    let cutoff = now.date_naive() - Duration::days(i64::from(retention_days));
    let mut tx = pool.begin().await?;
    let ended = projections::study_visits::read::ended_before(&mut tx, cutoff).await?;
    let mut report = PurgeReport {
        cutoff: Some(cutoff),
        ..PurgeReport::default()
    };
    for EndedVisit { visit_id, ended_on } in ended {
        let applications = erasure::held_applications_of_visit(&mut tx, visit_id).await?;
        if !applications.is_empty() {
            report.visits.push(ExpiredVisit {
                visit_id,
                ended_on,
                applications,
            });
        }
    }
    if dry_run {
        return Ok(report);
    }
    let all: Vec<Uuid> = report
        .visits
        .iter()
        .flat_map(|v| v.applications.iter().copied())
        .collect();
    let erased =
        erasure::erase_applications(&mut tx, &all, Reason::Retention, "cli:purge-expired").await?;
    tx.commit().await?;
    report.erased_applications = erased.applications;
    report.erased_subjects = erased.subjects;
    Ok(report)
}

/// Runs a personal-data command.
pub async fn run(command: PersonalDataCommand, database_url: &str) -> anyhow::Result<()> {
    let pool = infra::connect_and_migrate(database_url, 2).await?;
    // The purge reads the visits' read model; create its tables if the service never ran.
    projections::runner::setup(&pool, &projections::all()).await?;
    match command {
        PersonalDataCommand::PurgeExpired {
            retention_days,
            dry_run,
        } => {
            let report = purge_expired(&pool, Utc::now(), retention_days, dry_run).await?;
            let cutoff = report.cutoff.map(|c| c.to_string()).unwrap_or_default();
            for v in &report.visits {
                println!(
                    "visit {}\tended {}\t{} application(s){}",
                    v.visit_id,
                    v.ended_on,
                    v.applications.len(),
                    if dry_run { "\t(dry run)" } else { "" }
                );
            }
            if dry_run {
                let n: usize = report.visits.iter().map(|v| v.applications.len()).sum();
                eprintln!(
                    "dry run: {n} application(s) of {} visit(s) ended before {cutoff} would be erased",
                    report.visits.len()
                );
            } else {
                eprintln!(
                    "erased the personal data of {} application(s) of {} visit(s) ended before {cutoff}; {} subject(s) no longer held",
                    report.erased_applications,
                    report.visits.len(),
                    report.erased_subjects
                );
            }
            Ok(())
        }
    }
}
