//! What only the tests of the real binary share: its path, one test at a time, a free port,
//! starting `serve` and waiting for it, issuing a token through the command line, a load of
//! submitting clients and the checks after it. Fixtures shared with the end-to-end tests
//! (NIPs, application bodies, database names, polling) come from the `tests` crate.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tests::{application_body, eventually, nip};

/// One test of this binary at a time: hold the guard for the whole test. Each of these tests
/// was a test binary of its own, so none ran beside another; their timings assume the
/// machine is theirs (a deadline seconds after a kill, an outage that must not look like a
/// hang, a child's peak memory, a benchmark), which two of them at once on a small runner
/// would falsify. A tokio mutex: it is held across awaits, and has no poisoning to trip over
/// after a failed test.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// [`ALONE`] from an async test.
pub async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    ALONE.lock().await
}

/// [`ALONE`] from a plain `#[test]`, before it starts any runtime of its own.
pub fn alone_blocking() -> tokio::sync::MutexGuard<'static, ()> {
    ALONE.blocking_lock()
}

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_koordynator");

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve` on `port` over `db`, with a 1 s deadline poll and no submission rate limit
/// (the load of a test comes from one address).
pub fn serve(db: &str, port: u16) -> Child {
    serve_with(db, port, &[])
}

/// [`serve`] with more flags.
pub fn serve_with(db: &str, port: u16, flags: &[&str]) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--deadline-poll-secs",
            "1",
            "--submission-rate-limit",
            "0",
        ])
        .args(flags)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A child process killed when dropped, so a failed assertion does not leave a `serve`
/// running after its test (its database gone, retrying forever).
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `/health` answers 200 (15 s at most).
pub async fn wait_healthy(http: &reqwest::Client, base: &str) {
    eventually(Duration::from_secs(15), || async {
        let r = http.get(format!("{base}/health")).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await
    .expect("service did not become healthy");
}

/// Issues a coordinator token of `rops-torun` through the binary (which migrates `db`).
pub fn coordinator_token(db: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "token",
            "issue",
            "--role",
            "coordinator",
            "--organizer",
            "rops-torun",
        ])
        .env("DATABASE_URL", db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "token issue: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `koordynator audit verify` on `db` passes: every event's hash and every seal recomputed.
pub fn audit_verifies(db: &str) {
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .env("DATABASE_URL", db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// POSTs JSON, with a token and extra headers; the status and the JSON answer (or null).
pub async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// Announces a visit of `rops-torun` with one term of `seats` whose recruitment closes at
/// `deadline`, opens it, and returns `(visit, term)`.
pub async fn open_term(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    seats: u32,
    deadline: chrono::DateTime<chrono::Utc>,
) -> (String, String) {
    let (s, visit) = post(http, format!("{base}/api/v1/study-visits"), Some(token), &[], serde_json::json!({
        "title": "Wizyta", "destination": "Poznań", "eligible_institution_types": ["JST", "PES"],
        "max_per_institution": 2, "preferences": []
    })).await.unwrap();
    assert_eq!(s, 201, "{visit}");
    let visit = visit["id"].as_str().unwrap().to_owned();
    let term = open_term_of(http, base, token, &visit, seats, deadline).await;
    (visit, term)
}

/// Schedules a term of `visit` (27–28 June 2030) with `seats` whose recruitment closes at
/// `deadline`, opens it, and returns its id.
pub async fn open_term_of(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    visit: &str,
    seats: u32,
    deadline: chrono::DateTime<chrono::Utc>,
) -> String {
    let (s, term) = post(
        http,
        format!("{base}/api/v1/study-visits/{visit}/terms"),
        Some(token),
        &[],
        serde_json::json!({
            "label": "I termin", "starts_on": "2030-06-27", "ends_on": "2030-06-28", "seats": seats,
            "recruitment_deadline": deadline.to_rfc3339()
        }),
    )
    .await
    .unwrap();
    assert_eq!(s, 201, "{term}");
    let term = term["term_id"].as_str().unwrap().to_owned();
    let (s, _) = post(
        http,
        format!("{base}/api/v1/study-visits/{visit}/terms/{term}/open"),
        Some(token),
        &[],
        serde_json::json!({}),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    term
}

/// Clients submitting applications in a loop until stopped, as a crowd would while a test
/// kills something under them; they keep what was acknowledged.
pub struct Load {
    acknowledged: Arc<Mutex<HashSet<String>>>,
    attempts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `clients` clients; client `c`'s `i`-th submission goes to `url(c, i)`. Any 5xx
    /// other than 503 fails the test; a refused connection (the process is down) is retried.
    pub fn start(
        http: &reqwest::Client,
        clients: u32,
        url: impl Fn(u32, u32) -> String + Send + Sync + 'static,
    ) -> Load {
        let url = Arc::new(url);
        let load = Load {
            acknowledged: Arc::default(),
            attempts: Arc::default(),
            stop: Arc::default(),
            clients: Vec::new(),
        };
        let handles = (0..clients)
            .map(|c| {
                let (http, url) = (http.clone(), url.clone());
                let (acknowledged, attempts, stop) = (
                    load.acknowledged.clone(),
                    load.attempts.clone(),
                    load.stop.clone(),
                );
                tokio::spawn(async move {
                    let mut i = 0u32;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let body = application_body(
                            &format!("k{c}-{i}@example.org"),
                            &nip(c * 1000 + i),
                            "JST",
                        );
                        attempts.fetch_add(1, Ordering::Relaxed);
                        match post(&http, url(c, i), None, &[], body).await {
                            Ok((201, v)) => {
                                let id = v["application_id"].as_str().unwrap().to_owned();
                                acknowledged.lock().unwrap().insert(id);
                            }
                            Ok((status, v)) => {
                                assert!(status < 500 || status == 503, "unexpected {status}: {v}")
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                        }
                    }
                })
            })
            .collect();
        Load {
            clients: handles,
            ..load
        }
    }

    /// Stops the clients; what was acknowledged, and how many requests were sent.
    pub async fn stop(self) -> (HashSet<String>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        for c in self.clients {
            c.await.unwrap();
        }
        let acknowledged = self.acknowledged.lock().unwrap().clone();
        (acknowledged, self.attempts.load(Ordering::Relaxed))
    }
}

/// The stored submissions, after checking that none is stored twice and every acknowledged
/// one is stored.
pub async fn stored_once(pool: &sqlx::PgPool, acknowledged: &HashSet<String>) -> Vec<String> {
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload -> 'ApplicationSubmitted' ->> 'application_id' FROM events WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let unique: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "no submission doubled");
    assert!(
        acknowledged.is_subset(&unique),
        "lost: {:?}",
        acknowledged.difference(&unique).collect::<Vec<_>>()
    );
    stored
}

/// Waits (30 s at most) until the read models hold one row per stored submission, the
/// term's counter matches, and the term is closed; then checks it was closed exactly once.
pub async fn term_converges_and_closes_once(pool: &sqlx::PgPool, term: &str, stored: usize) {
    let converged = eventually(Duration::from_secs(30), || async {
        let (rows, candidates, status): (i64, i32, String) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM rm_applications), candidates, status FROM rm_study_visit_terms WHERE term_id = $1::uuid",
        )
        .bind(term)
        .fetch_one(pool)
        .await
        .unwrap();
        (rows == stored as i64 && candidates as usize == stored && status == "closed").then_some(())
    })
    .await
    .is_some();
    assert!(converged, "read models converge and the term closes");
    tokio::time::sleep(Duration::from_secs(2)).await; // a few more watcher cycles
    let closes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'RecruitmentClosed' AND payload -> 'RecruitmentClosed' ->> 'term_id' = $1",
    )
    .bind(term)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(closes, 1, "closed exactly once");
}
