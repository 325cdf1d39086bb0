//! The load: raw INSERTs for the baseline, and public submissions over HTTP.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::stats::Figures;

/// One open term of one visit, where submissions go.
#[derive(Debug, Clone)]
pub struct Target {
    pub visit: String,
    pub term: String,
}

/// An accepted submission: what the store must then hold exactly once.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub application_id: String,
    pub position: i64,
    pub at: Instant,
}

/// An HTTP client of the service under test, with a coordinator token for the set-up.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

/// Numbers people and institutions across every client of a run, so no two submissions
/// share an e-mail or NIP (a duplicate would be refused, not measured).
static NEXT_APPLICANT: AtomicU64 = AtomicU64::new(1);

impl Client {
    pub fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(2048)
                .build()?,
            base: base.to_owned(),
            token: token.to_owned(),
        })
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {body}");
        Ok(body)
    }

    /// Announces a visit, schedules one term with `seats` and opens its recruitment.
    pub async fn open_term(&self, seats: u32) -> anyhow::Result<Target> {
        let visit = self.post("/api/v1/study-visits", visit_body()).await?;
        let visit = visit["id"].as_str().context("visit id")?.to_owned();
        let term = self
            .post(
                &format!("/api/v1/study-visits/{visit}/terms"),
                json!({"label": "I termin", "starts_on": "2031-06-02", "ends_on": "2031-06-03",
                       "seats": seats, "recruitment_deadline": "2031-05-01T10:00:00Z"}),
            )
            .await?;
        let term = term["term_id"].as_str().context("term id")?.to_owned();
        self.post(
            &format!("/api/v1/study-visits/{visit}/terms/{term}/open"),
            json!({}),
        )
        .await?;
        Ok(Target { visit, term })
    }

    /// Submits one application (public form, no token); Some when answered 201.
    pub async fn submit(&self, target: &Target) -> anyhow::Result<Option<Accepted>> {
        let n = NEXT_APPLICANT.fetch_add(1, Ordering::Relaxed);
        let nip = nip(n as u32);
        let body = json!({
            "person": {"first_name": "Zofia", "last_name": "Wiśniewska",
                       "email": format!("osoba{n}@example.org"), "phone": "+48 600 000 000",
                       "job_title": "specjalistka"},
            "institution": {"name": format!("Gmina nr {n}"), "type": "JST", "nip": nip},
            "consent": true
        });
        let res = self
            .http
            .post(format!(
                "{}/api/v1/study-visits/{}/terms/{}/applications",
                self.base, target.visit, target.term
            ))
            .json(&body)
            .send()
            .await?;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status != 201 {
            tracing::warn!(status, %body, "submission refused");
            return Ok(None);
        }
        Ok(Some(Accepted {
            application_id: body["application_id"]
                .as_str()
                .context("application_id")?
                .to_owned(),
            position: body["position"].as_i64().context("position")?,
            at: Instant::now(),
        }))
    }
}

fn visit_body() -> Value {
    json!({
        "title": "Wizyta studyjna: pomiar wydajności",
        "destination": "województwo kujawsko-pomorskie",
        "description": "Wizyta utworzona przez benchmark.",
        "eligible_institution_types": ["JST", "JOPS", "PES", "OWES"],
        "max_per_institution": null,
        "preferences": [],
        "funding": null
    })
}

/// A valid NIP for `seed`, distinct for distinct seeds in the range a benchmark uses (the
/// demo's invented NIPs).
pub use crate::cli::demo::nip;

/// Runs `op` from `workers` concurrent loops for `duration`; returns the figures and what
/// each successful operation returned.
pub async fn run_for<T, F, Fut>(workers: usize, duration: Duration, op: F) -> (Figures, Vec<T>)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Option<T>>> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut out, mut failed) = (Vec::new(), Vec::new(), 0u64);
            let mut i = w;
            while Instant::now() < until {
                let t = Instant::now();
                match op(i).await {
                    Ok(Some(v)) => {
                        lat.push(t.elapsed());
                        out.push(v);
                    }
                    Ok(None) => failed += 1,
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(error = %e, "operation failed");
                    }
                }
                i += workers;
            }
            (lat, out, failed)
        }));
    }
    let (mut lat, mut out, mut failed) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        if let Ok((l, o, f)) = t.await {
            lat.extend(l);
            out.extend(o);
            failed += f;
        }
    }
    (Figures::from(lat, failed, started.elapsed()), out)
}

/// Public submissions from `workers` clients for `duration`, round-robin over `targets`:
/// the figures and every accepted submission (for the lost-or-doubled check).
pub async fn submit_for(
    client: &Client,
    targets: Arc<Vec<Target>>,
    workers: usize,
    duration: Duration,
) -> (Figures, Vec<Accepted>) {
    let client = client.clone();
    run_for(workers, duration, move |i| {
        let (client, targets) = (client.clone(), targets.clone());
        async move { client.submit(&targets[i % targets.len()]).await }
    })
    .await
}

/// The baseline table: the events table's shape without its triggers.
pub async fn create_baseline_table(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE bench_baseline (LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// One single-event INSERT transaction into the baseline table (autocommit: one commit,
/// one WAL flush, like one command of the service).
pub async fn baseline_insert(pool: &PgPool, i: usize, payload: &Value) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO bench_baseline (aggregate_type, aggregate_id, sequence, event_type,
                                     event_version, payload, metadata, prev_hash, hash)
         VALUES ('StudyVisit', $1, 1, 'ApplicationSubmitted', '2', $2, $3, $4, $5)",
    )
    .bind(format!("baseline-{i}-{}", uuid::Uuid::now_v7()))
    .bind(payload)
    .bind(
        json!({"actor": "public", "organizer": "rops-torun", "command": "SubmitApplication",
                 "correlation_id": uuid::Uuid::now_v7(), "causation_id": uuid::Uuid::now_v7()}),
    )
    .bind(vec![0u8; 32])
    .bind(vec![1u8; 32])
    .execute(pool)
    .await?;
    Ok(())
}

impl Client {
    /// Reads a term's roster (the largest read a coordinator makes).
    pub async fn roster(&self, target: &Target) -> anyhow::Result<()> {
        let res = self
            .http
            .get(format!(
                "{}/api/v1/study-visits/{}/terms/{}/roster",
                self.base, target.visit, target.term
            ))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = res.status();
        let _ = res.bytes().await?;
        anyhow::ensure!(status.is_success(), "roster: {status}");
        Ok(())
    }
}
