//! (g) The peer: the same submission handled the way cqrs-es 0.5 documents it, so the table
//! shows what this service's design buys over the card's stack used plainly.
//!
//! `postgres_es::postgres_cqrs` — a `CqrsFramework` over `PostgresEventRepository` (the plain
//! event store; STACK.md: its snapshot and aggregate stores double-apply events) — with one
//! `GenericQuery` view over `PostgresViewRepository` counting each visit's applications, in a
//! database of its own created with postgres-es's documented tables. Every command loads the
//! whole stream, inserts its events one statement each, and runs the query after the commit;
//! a conflict on the stream is returned, not retried (that is the framework's contract).
//!
//! It runs in the benchmark's own process and skips what a submission to the service also
//! does (HTTP, the personal data and its hashes, the idempotency key, the hash chain, the
//! rate limit): its figures are an upper bound of the plain stack, not a like-for-like cost.
//! What it measures: successes per second, conflicts, and the read-model updates lost (the
//! view's count against the events stored, after the load).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::persist::{GenericQuery, ViewRepository};
use cqrs_es::{AggregateError, EventEnvelope, View};
use domain::services::StudyVisitServices;
use domain::study_visit::{
    ConsentRecord, LegalBasis, StudyVisit, StudyVisitCommand, StudyVisitEvent, TermDates,
    TermSchedule,
};
use domain::values::{Institution, InstitutionType, Nip, NonEmptyText, OrganizerId};
use postgres_es::{PostgresCqrs, PostgresViewRepository};
use serde::{Deserialize, Serialize};
use sqlx::migrate::MigrateDatabase;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use super::report::PeerFigures;
use super::stats::Figures;
use crate::http::state::SystemClock;

/// The view a `GenericQuery` keeps per visit: applications submitted, as the query saw them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Counted {
    applications: u64,
}

impl View<StudyVisit> for Counted {
    fn update(&mut self, event: &EventEnvelope<StudyVisit>) {
        if matches!(event.payload, StudyVisitEvent::ApplicationSubmitted { .. }) {
            self.applications += 1;
        }
    }
}

type Views = PostgresViewRepository<Counted, StudyVisit>;

/// The plain stack over its own database.
pub struct Peer {
    cqrs: Arc<PostgresCqrs<StudyVisit>>,
    views: Arc<Views>,
    pool: PgPool,
    /// Errors the query reported (dropped by `GenericQuery` unless a handler counts them).
    query_errors: Arc<AtomicU64>,
    url: String,
}

/// A visit with one open term, on the peer.
#[derive(Debug, Clone)]
pub struct PeerTarget {
    visit: String,
    term: Uuid,
}

/// postgres-es's documented tables (its `db/init.sql` without the test row), and the view.
const TABLES: &[&str] = &[
    "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL,
        sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL,
        event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
    "CREATE TABLE snapshots (aggregate_type text NOT NULL, aggregate_id text NOT NULL,
        last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
        current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL, payload json NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))",
    "CREATE TABLE counted (view_id text NOT NULL, version bigint CHECK (version >= 0) NOT NULL,
        payload json NOT NULL, PRIMARY KEY (view_id))",
];

impl Peer {
    /// Creates the peer's database at `url` with its tables and the framework over it.
    pub async fn start(url: &str, connections: u32) -> anyhow::Result<Peer> {
        Postgres::create_database(url).await?;
        // The service's connection options (TLS off on loopback), so both pay the same.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(infra::db::connect_options(url)?)
            .await?;
        for ddl in TABLES {
            sqlx::query(ddl).execute(&pool).await?;
        }
        let views = Arc::new(Views::new("counted", pool.clone()));
        let mut query = GenericQuery::new(views.clone());
        let query_errors = Arc::new(AtomicU64::new(0));
        let counter = query_errors.clone();
        query.use_error_handler(Box::new(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
        let services = StudyVisitServices::new(Arc::new(SystemClock));
        let cqrs = postgres_es::postgres_cqrs(pool.clone(), vec![Box::new(query)], services);
        Ok(Peer {
            cqrs: Arc::new(cqrs),
            views,
            pool,
            query_errors,
            url: url.to_owned(),
        })
    }

    /// Announces a visit of `seats` in one open term whose recruitment ends tomorrow.
    pub async fn open_term(&self, seats: u32) -> anyhow::Result<PeerTarget> {
        let (visit, term) = (Uuid::now_v7(), Uuid::now_v7());
        let text = |s: &str| NonEmptyText::parse(s).map_err(|e| anyhow::anyhow!("{e:?}"));
        let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
        let day = tomorrow.date_naive() + chrono::Duration::days(30);
        let commands = [
            StudyVisitCommand::Announce {
                visit_id: visit,
                organizer: OrganizerId::parse("rops-torun")
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?,
                title: text("Wizyta")?,
                destination: text("Poznań")?,
                description: String::new(),
                eligible_institution_types: vec![InstitutionType::JST, InstitutionType::PES],
                max_per_institution: None,
                preferences: Vec::new(),
                funding: None,
            },
            StudyVisitCommand::ScheduleTerm {
                term_id: term,
                label: text("I termin")?,
                seats,
                schedule: TermSchedule::Dated(TermDates {
                    starts_on: day,
                    ends_on: day,
                    recruitment_deadline: tomorrow,
                }),
            },
            StudyVisitCommand::OpenRecruitment { term_id: term },
        ];
        for command in commands {
            self.cqrs
                .execute(&visit.to_string(), command)
                .await
                .map_err(|e| anyhow::anyhow!("peer set-up: {e}"))?;
        }
        Ok(PeerTarget {
            visit: visit.to_string(),
            term,
        })
    }

    /// One submission, numbered `n` (its institution's NIP): `Ok(Some)` when committed,
    /// `Ok(None)` on a conflict (returned by the framework, not retried).
    pub async fn submit(&self, target: &PeerTarget, n: u32) -> anyhow::Result<Option<()>> {
        let nip = Nip::parse(&crate::cli::demo::nip(n)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let command = StudyVisitCommand::SubmitApplication {
            application_id: Uuid::now_v7(),
            term_id: target.term,
            subject_id: Uuid::new_v4(),
            institution: Institution {
                name: NonEmptyText::parse(&format!("Gmina nr {n}"))
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?,
                kind: InstitutionType::JST,
                nip,
                regon: None,
            },
            consent: Some(ConsentRecord {
                information_clause: NonEmptyText::parse("2026-01")
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?,
                legal_basis: LegalBasis::Consent,
            }),
        };
        match self.cqrs.execute(&target.visit, command).await {
            Ok(()) => Ok(Some(())),
            Err(AggregateError::AggregateConflict) => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    }

    /// What the view lost: submissions stored for `targets` minus those the view counted.
    pub async fn lost_updates(&self, targets: &[PeerTarget]) -> anyhow::Result<(u64, u64)> {
        let (mut stored_all, mut counted_all) = (0u64, 0u64);
        for t in targets {
            let stored: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'ApplicationSubmitted'",
            )
            .bind(&t.visit)
            .fetch_one(&self.pool)
            .await?;
            let counted = self
                .views
                .load(&t.visit)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .map_or(0, |v| v.applications);
            stored_all += stored.max(0) as u64;
            counted_all += counted;
        }
        Ok((stored_all, stored_all.saturating_sub(counted_all)))
    }

    /// Drops the peer's database.
    pub async fn drop_database(self) {
        self.pool.close().await;
        if let Err(e) = Postgres::force_drop_database(&self.url).await {
            eprintln!("could not drop the peer's database {}: {e}", self.url);
        }
    }
}

/// (g): the peer at each concurrency over `visits` visits, then a crowd of `crowd` on one term.
pub async fn measure(
    url: &str,
    concurrency: &[usize],
    duration: Duration,
    visits: usize,
    crowd: usize,
) -> anyhow::Result<PeerFigures> {
    let top = concurrency.iter().copied().max().unwrap_or(1) as u32;
    let peer = Arc::new(Peer::start(url, top + 8).await?);
    let outcome = async {
        let mut targets = Vec::new();
        for _ in 0..visits.max(1) {
            targets.push(peer.open_term(10_000).await?);
        }
        let targets = Arc::new(targets);
        let mut levels = Vec::new();
        for &c in concurrency {
            eprintln!("(g) plain cqrs-es submissions at {c} clients");
            let (peer, targets) = (peer.clone(), targets.clone());
            let (figures, _) = super::load::run_for(c, duration, move |i| {
                let (peer, targets) = (peer.clone(), targets.clone());
                async move {
                    let target = &targets[i % targets.len()];
                    peer.submit(target, i as u32 + 1).await
                }
            })
            .await;
            levels.push((c, figures));
        }
        eprintln!("(g) plain cqrs-es: a crowd of {crowd} on one term");
        let one = peer.open_term(10_000).await?;
        let released = {
            let (peer, one) = (peer.clone(), one.clone());
            super::together::released(crowd, move |n| {
                let (peer, one) = (peer.clone(), one.clone());
                async move { peer.submit(&one, n as u32 + 1).await }
            })
            .await
        };
        let (mut latencies, mut conflicts, mut failed) = (Vec::new(), 0u64, 0u64);
        for answer in released.answers {
            match answer {
                Some((took, Ok(Some(())))) => latencies.push(took),
                Some((_, Ok(None))) => conflicts += 1,
                _ => failed += 1,
            }
        }
        // Latencies of the successes only: the crowd's few winners.
        let crowd_figures = Figures::from(latencies, conflicts + failed, released.wall);
        // The view is written after each commit: give the last dispatches a moment.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut all: Vec<PeerTarget> = targets.iter().cloned().collect();
        all.push(one);
        let (stored, lost) = peer.lost_updates(&all).await?;
        Ok::<_, anyhow::Error>(PeerFigures {
            submissions: levels,
            crowd: crowd_figures,
            crowd_conflicts: conflicts,
            stored,
            lost_view_updates: lost,
            query_errors: peer.query_errors.load(Ordering::Relaxed),
        })
    }
    .await;
    if let Ok(peer) = Arc::try_unwrap(peer) {
        peer.drop_database().await;
    }
    outcome
}
