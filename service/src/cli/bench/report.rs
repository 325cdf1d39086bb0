//! The benchmark's figures, the performance targets checked against them, and the table.

use std::fmt::Write;

use serde::Serialize;
use sqlx::PgPool;

use super::args::BenchArgs;
use super::lag::Lag;
use super::stats::Figures;

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub machine: Machine,
    pub settings: Settings,
    /// (a) single-event INSERT transactions straight into PostgreSQL.
    pub baseline: Vec<Level>,
    /// (b) public submissions over HTTP spread over many visits, with (d) the lag.
    pub submissions: Vec<Level>,
    /// (c) the crowd on one term.
    pub crowd: Option<Crowd>,
    /// (c2) the sustained load on one term.
    pub one_term: Option<OneTerm>,
    /// (e) rebuilding every read model against reading the rows raw.
    pub rebuild: Option<Rebuild>,
    /// (f) the service's peak memory.
    pub memory: Option<Memory>,
    /// (g) the same submissions on cqrs-es used as it documents itself.
    pub peer: Option<PeerFigures>,
    pub targets: Vec<Target>,
}

/// (g): plain cqrs-es (`postgres_cqrs` with a `GenericQuery` view) in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct PeerFigures {
    /// Submissions spread over the visits, per concurrency.
    pub submissions: Vec<(usize, Figures)>,
    /// The crowd on one term: its successes (`failed` counts the conflicts and errors).
    pub crowd: Figures,
    /// Conflicts the framework returned in the crowd (it does not retry).
    pub crowd_conflicts: u64,
    /// Submissions stored over all of (g).
    pub stored: u64,
    /// Stored submissions the view never counted: read-model updates lost.
    pub lost_view_updates: u64,
    /// Errors the view's query reported (`GenericQuery` drops them without a handler).
    pub query_errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub postgres: String,
    pub synchronous_commit: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub concurrency: Vec<usize>,
    pub seconds_per_level: f64,
    pub visits: usize,
    pub crowd: usize,
    pub events: usize,
    pub service_connections: u32,
}

/// One concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub concurrency: usize,
    #[serde(flatten)]
    pub figures: Figures,
    /// (d), for the submission levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<Lag>,
    /// CPU per operation during the level (where the time went, see `cpu`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<super::cpu::Usage>,
}

impl Level {
    pub fn new(concurrency: usize, figures: Figures) -> Self {
        Self {
            concurrency,
            figures,
            lag: None,
            cpu: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Crowd {
    #[serde(flatten)]
    pub figures: Figures,
    /// Optimistic-concurrency conflicts the pipeline retried during the crowd.
    pub conflicts_retried: u64,
    /// Submissions answered 201 that the store does not hold.
    pub lost: u64,
    /// Submissions answered 201 that the store holds more than once.
    pub doubled: u64,
    /// Submissions stored on the crowd's term without a 201 having reached the client.
    pub stored_without_answer: u64,
    /// The same checks over every submission of (b).
    pub lost_in_submissions: u64,
    pub doubled_in_submissions: u64,
}

/// (c2): the top concurrency submitting to one term for a level's seconds. Where (c) is a
/// burst, this is the same aggregate's queue kept full, long enough for the term to run far
/// past its seats (those submissions are still accepted, to rank at the close).
#[derive(Debug, Clone, Serialize)]
pub struct OneTerm {
    /// Clients submitting at once.
    pub concurrency: usize,
    /// The term's seats.
    pub seats: u32,
    #[serde(flatten)]
    pub figures: Figures,
    /// Optimistic-concurrency conflicts the pipeline retried during the load.
    pub conflicts_retried: u64,
    /// Submissions answered 201 that the store does not hold.
    pub lost: u64,
    /// Submissions answered 201 that the store holds more than once.
    pub doubled: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rebuild {
    /// Events read (and rebuilt from).
    pub events: u64,
    pub raw_seconds: f64,
    pub raw_per_second: f64,
    pub rebuild_seconds: f64,
    pub rebuild_per_second: f64,
    /// Rebuild rate ÷ raw read rate.
    pub ratio: f64,
    /// What `projections rebuild` reported for each read model.
    pub per_projection: Vec<String>,
    /// Events the benchmark wrote in bulk for this, and how long that took.
    pub generated: u64,
    pub generate_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    /// VmHWM of the first service process after (a)–(c2).
    pub peak_rss_mb_after_load: f64,
    /// VmHWM of a service started over all stored events, after serving submissions and
    /// rosters of the largest streams.
    pub peak_rss_mb_with_events: f64,
    pub events_stored: i64,
    /// The submissions served by that process.
    pub traffic: Figures,
}

/// One performance target and whether this run met it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub measured: f64,
    pub target: String,
    pub met: bool,
}

impl Report {
    pub async fn new(pool: &PgPool, args: &BenchArgs) -> anyhow::Result<Self> {
        let postgres: String = sqlx::query_scalar("SELECT version()")
            .fetch_one(pool)
            .await?;
        let synchronous_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(pool)
            .await?;
        Ok(Self {
            started_at: chrono::Utc::now(),
            machine: Machine {
                cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
                postgres,
                synchronous_commit,
            },
            settings: Settings {
                concurrency: args.concurrency.clone(),
                seconds_per_level: args.seconds,
                visits: args.visits,
                crowd: args.crowd,
                events: args.events,
                service_connections: args.service_connections,
            },
            baseline: Vec::new(),
            submissions: Vec::new(),
            crowd: None,
            one_term: None,
            rebuild: None,
            memory: None,
            peer: None,
            targets: Vec::new(),
        })
    }

    pub async fn events_stored(&self, pool: &PgPool) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await?)
    }

    /// Checks the performance targets at the highest concurrency measured.
    pub fn finish(&mut self) {
        let mut t = Vec::new();
        let top = |levels: &[Level]| levels.iter().max_by_key(|l| l.concurrency).cloned();
        if let (Some(a), Some(b)) = (top(&self.baseline), top(&self.submissions)) {
            let ratio = b.figures.per_second / a.figures.per_second.max(1e-9);
            t.push(target(
                &format!("(b)/(a) at {} connections", a.concurrency),
                ratio,
                "≥ 0.3",
                ratio >= 0.3,
            ));
            if let Some(lag) = &b.lag {
                t.push(target(
                    "(d) projection lag p99 ms",
                    lag.p99_ms,
                    "< 250",
                    lag.p99_ms < 250.0 && lag.unreached == 0,
                ));
            }
        }
        if let Some(c) = &self.crowd {
            t.extend(rate_and_p99("(c) crowd", &c.figures, 1000.0, 150.0));
            // Every acknowledged submission of (b), (c) and (c2) is stored exactly once.
            let one_term = self.one_term.as_ref().map_or(0, |o| o.lost + o.doubled);
            let lost =
                (c.lost + c.doubled + c.lost_in_submissions + c.doubled_in_submissions + one_term)
                    as f64;
            t.push(target(
                "(c) lost or doubled",
                lost,
                "0",
                lost == 0.0 && c.figures.failed == 0,
            ));
        }
        if let Some(o) = &self.one_term {
            t.extend(rate_and_p99("(c2) one term", &o.figures, 2000.0, 100.0));
        }
        if let Some(r) = &self.rebuild {
            t.push(target(
                "(e) rebuild ÷ raw read rate",
                r.ratio,
                "≥ 0.5",
                r.ratio >= 0.5,
            ));
        }
        if let Some(m) = &self.memory {
            t.push(target(
                "(f) peak RSS MB",
                m.peak_rss_mb_with_events,
                "< 200",
                m.peak_rss_mb_with_events < 200.0,
            ));
        }
        self.targets = t;
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n{:<44} {:>10} {:>9} {:>9} {:>7}",
            "phase", "per second", "p50 ms", "p99 ms", "failed"
        );
        for l in &self.baseline {
            row(
                &mut s,
                &format!("(a) INSERT tx, {} connections", l.concurrency),
                &l.figures,
            );
        }
        for l in &self.submissions {
            row(
                &mut s,
                &format!("(b) submissions, {} clients", l.concurrency),
                &l.figures,
            );
            if let Some(lag) = &l.lag {
                let _ = writeln!(
                    s,
                    "{:<44} {:>10} {:>9.1} {:>9.1} {:>7}",
                    format!("(d)   projection lag ({} samples)", lag.samples),
                    "",
                    lag.p50_ms,
                    lag.p99_ms,
                    lag.unreached
                );
            }
        }
        if let Some(c) = &self.crowd {
            row(
                &mut s,
                &format!(
                    "(c) crowd of {} on one term",
                    c.figures.ok + c.figures.failed
                ),
                &c.figures,
            );
            let _ = writeln!(s, "    conflicts retried {}, lost {}, doubled {}, stored without answer {}; in (b): lost {}, doubled {}",
                c.conflicts_retried, c.lost, c.doubled, c.stored_without_answer, c.lost_in_submissions, c.doubled_in_submissions);
        }
        if let Some(o) = &self.one_term {
            row(
                &mut s,
                &format!(
                    "(c2) sustained on one term, {} clients, {} s",
                    o.concurrency, self.settings.seconds_per_level
                ),
                &o.figures,
            );
            let _ = writeln!(
                s,
                "     {} seats; conflicts retried {}, lost {}, doubled {}",
                o.seats, o.conflicts_retried, o.lost, o.doubled
            );
        }
        if let Some(r) = &self.rebuild {
            let _ = writeln!(s, "(e) {} events: raw read {:.1} s ({:.0}/s), rebuild all read models {:.1} s ({:.0}/s); generated {} in {:.1} s",
                r.events, r.raw_seconds, r.raw_per_second, r.rebuild_seconds, r.rebuild_per_second, r.generated, r.generate_seconds);
        }
        if let Some(m) = &self.memory {
            let _ = writeln!(s, "(f) peak RSS: {:.1} MB after (a)-(c2); {:.1} MB over {} events after {} submissions",
                m.peak_rss_mb_after_load, m.peak_rss_mb_with_events, m.events_stored, m.traffic.ok);
        }
        if let Some(g) = &self.peer {
            for (c, figures) in &g.submissions {
                row(&mut s, &format!("(g) plain cqrs-es, {c} clients"), figures);
            }
            row(
                &mut s,
                &format!(
                    "(g) plain cqrs-es, crowd of {}",
                    g.crowd.ok + g.crowd.failed
                ),
                &g.crowd,
            );
            let _ = writeln!(s, "    conflicts returned {} (not retried); {} stored, view updates lost {}, query errors {}",
                g.crowd_conflicts, g.stored, g.lost_view_updates, g.query_errors);
        }
        let _ = writeln!(
            s,
            "\n{:<44} {:>10} {:>9} {:>9} {:>7}",
            "CPU per operation (ms)", "PostgreSQL", "service", "load gen", "busy"
        );
        let levels = self
            .baseline
            .iter()
            .map(|l| ("(a)", l))
            .chain(self.submissions.iter().map(|l| ("(b)", l)));
        for (phase, l) in levels {
            if let Some(c) = &l.cpu {
                let _ = writeln!(
                    s,
                    "{:<44} {:>10.3} {:>9.3} {:>9.3} {:>6.0}%",
                    format!("{phase} at {}", l.concurrency),
                    c.postgres_ms,
                    c.service_ms,
                    c.generator_ms,
                    c.machine_busy * 100.0
                );
            }
        }
        let _ = writeln!(
            s,
            "\n{:<36} {:>12} {:>8}  met",
            "target", "measured", "target"
        );
        for t in &self.targets {
            let _ = writeln!(
                s,
                "{:<36} {:>12.2} {:>8}  {}",
                t.name,
                t.measured,
                t.target,
                if t.met { "yes" } else { "NO" }
            );
        }
        s
    }
}

fn target(name: &str, measured: f64, target: &str, met: bool) -> Target {
    Target {
        name: name.to_owned(),
        measured,
        target: target.to_owned(),
        met,
    }
}

/// The two targets of a submission phase: `{phase} submissions/s` at least `per_second`,
/// and `{phase} p99 ms` below `p99_ms`.
fn rate_and_p99(phase: &str, f: &Figures, per_second: f64, p99_ms: f64) -> [Target; 2] {
    [
        target(
            &format!("{phase} submissions/s"),
            f.per_second,
            &format!("≥ {per_second}"),
            f.per_second >= per_second,
        ),
        target(
            &format!("{phase} p99 ms"),
            f.p99_ms,
            &format!("< {p99_ms}"),
            f.p99_ms < p99_ms,
        ),
    ]
}

fn row(s: &mut String, name: &str, f: &Figures) {
    let _ = writeln!(
        s,
        "{:<44} {:>10.0} {:>9.1} {:>9.1} {:>7}",
        name, f.per_second, f.p50_ms, f.p99_ms, f.failed
    );
}
