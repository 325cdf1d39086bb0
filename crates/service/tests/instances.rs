//! Two `serve` processes on one database share the work (issue 7, item 4): commands through
//! either stay consistent, each projection, the deadline watcher and the sealer run in one
//! instance at a time, and when the instance holding them is killed (SIGKILL) the other
//! takes them over: a deadline passing after the kill closes its term exactly once, the read
//! models converge, and no acknowledged submission is lost or doubled.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_koordynator");

/// Every lease an instance takes: one per projection, the deadline watcher, the sealer.
const LEASES: [&str; 7] = [
    "projection.study_visits",
    "projection.applications",
    "projection.programs",
    "projection.networks",
    "projection.schedule",
    "deadline-watcher",
    "sealer",
];

fn database_url() -> String {
    let server = std::env::var("KOORDYNATOR_TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{server}/kdn_instances_{}", uuid::Uuid::new_v4().simple())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &str, port: u16) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--deadline-poll-secs",
            "1",
            "--max-connections",
            "8",
            "--submission-rate-limit",
            "0",
        ])
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("service did not become healthy");
}

fn nip(seed: u32) -> String {
    let mut n = seed;
    loop {
        let digits: Vec<u32> = format!("{:09}", 300_000_000 + n)
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect();
        let sum: u32 = digits
            .iter()
            .zip([6, 5, 7, 2, 3, 4, 5, 6, 7])
            .map(|(d, w)| d * w)
            .sum();
        if sum % 11 < 10 {
            return digits.iter().map(|d| d.to_string()).collect::<String>()
                + &(sum % 11).to_string();
        }
        n += 1;
    }
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// How many of the leases are held right now (by any session on this database).
async fn leases_held(pool: &sqlx::PgPool) -> i64 {
    let names: Vec<String> = LEASES.iter().map(|s| s.to_string()).collect();
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) IN
                (SELECT hashtext('koordynator.lease.' || n)::bigint FROM unnest($1::text[]) n)",
    )
    .bind(&names)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn eventually_leases(pool: &sqlx::PgPool, what: &str) {
    for _ in 0..100 {
        if leases_held(pool).await == LEASES.len() as i64 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{what}: {} of {} leases held",
        leases_held(pool).await,
        LEASES.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_the_work_and_one_takes_over_when_the_other_is_killed() {
    let db = database_url();
    let out = Command::new(BIN)
        .args([
            "token",
            "issue",
            "--role",
            "coordinator",
            "--organizer",
            "rops-torun",
        ])
        .env("DATABASE_URL", &db)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // A first: it takes every lease. Then B, which must wait for them.
    let (port_a, port_b) = (free_port(), free_port());
    let (base_a, base_b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let mut a = serve(&db, port_a);
    wait_healthy(&http, &base_a).await;
    eventually_leases(&pool, "instance A took the leases").await;
    let mut b = serve(&db, port_b);
    wait_healthy(&http, &base_b).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // B tried and failed at least once
    assert_eq!(
        leases_held(&pool).await,
        LEASES.len() as i64,
        "each lease held once, not twice"
    );

    // The visit is announced through A, its term scheduled and opened through B.
    let (s, visit) = post(
        &http,
        format!("{base_a}/api/v1/study-visits"),
        Some(&token),
        json!({
            "title": "Wizyta", "destination": "Toruń", "eligible_institution_types": ["JST", "PES"],
            "max_per_institution": null, "preferences": []
        }),
    )
    .await
    .unwrap();
    assert_eq!(s, 201, "{visit}");
    let visit = visit["id"].as_str().unwrap().to_owned();
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(7);
    let (s, term) = post(
        &http,
        format!("{base_b}/api/v1/study-visits/{visit}/terms"),
        Some(&token),
        json!({
            "label": "I termin", "starts_on": "2030-06-27", "ends_on": "2030-06-28", "seats": 5,
            "recruitment_deadline": deadline.to_rfc3339()
        }),
    )
    .await
    .unwrap();
    assert_eq!(s, 201, "{term}");
    let term = term["term_id"].as_str().unwrap().to_owned();
    let (s, _) = post(
        &http,
        format!("{base_b}/api/v1/study-visits/{visit}/terms/{term}/open"),
        Some(&token),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);

    // 12 clients submit to the same term through both instances (the two race on one
    // aggregate: optimistic concurrency and retries keep it consistent); A dies meanwhile.
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..12u32 {
        let base = if c % 2 == 0 {
            base_a.clone()
        } else {
            base_b.clone()
        };
        let (http, visit, term) = (http.clone(), visit.clone(), term.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let body = json!({
                    "person": {"first_name": "Jan", "last_name": "Testowy", "email": format!("i{c}-{i}@example.org")},
                    "institution": {"name": "Gmina", "type": "JST", "nip": nip(c * 1000 + i)},
                    "consent": true
                });
                match post(&http, format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications"), None, body).await {
                    Ok((201, v)) => {
                        acknowledged.lock().unwrap().insert(v["application_id"].as_str().unwrap().to_owned());
                    }
                    Ok((status, v)) => assert!(status < 500 || status == 503, "unexpected {status}: {v}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await, // A is down
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill().unwrap(); // SIGKILL: A's sessions end, PostgreSQL releases its leases
    a.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await; // B alone keeps serving
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 10,
        "the load ran: {}",
        acknowledged.len()
    );
    assert!(
        chrono::Utc::now() < deadline,
        "the deadline must pass after the kill; the load took too long"
    );

    // B takes over every lease.
    eventually_leases(&pool, "instance B took over the leases").await;

    // Every acknowledged submission is stored, once.
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload -> 'ApplicationSubmitted' ->> 'application_id' FROM events WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let unique: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "no submission doubled");
    assert!(
        acknowledged.is_subset(&unique),
        "lost: {:?}",
        acknowledged.difference(&unique).collect::<Vec<_>>()
    );

    // B's projections converge on the events, and B's watcher closes the term at its
    // deadline, which passes after A died.
    let mut converged = false;
    for _ in 0..300 {
        let (rows, candidates, status): (i64, i32, String) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM rm_applications), candidates, status FROM rm_study_visit_terms WHERE term_id = $1::uuid",
        )
        .bind(&term)
        .fetch_one(&pool)
        .await
        .unwrap();
        if rows == stored.len() as i64 && candidates as usize == stored.len() && status == "closed"
        {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(converged, "read models converge and the term closes");
    tokio::time::sleep(Duration::from_secs(2)).await; // a few more watcher cycles
    let closes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'RecruitmentClosed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(closes, 1, "closed exactly once");
    let allocated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'SeatAllocated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(allocated, 5.min(stored.len() as i64));
    // Every projection's checkpoint stands at the newest event: nothing skipped.
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projection_checkpoints
          WHERE (last_tx_id, last_position) < (SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(behind, 0, "every projection caught up");
    b.kill().unwrap();
    b.wait().unwrap();
}
