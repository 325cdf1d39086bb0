//! A large audit log (100,000 events) exported by the real binary in bounded memory, then
//! re-imported into an empty database to the same hashes, verified, and checked offline.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use infra::store::{self, Head, NewEvent};
use serde_json::json;
use tests::database_url;

use crate::common::{self, BIN};

const STREAMS: usize = 1_000;
const PER_STREAM: usize = 100;

/// Writes STREAMS × PER_STREAM events through the same append (and hash chain) the service uses.
async fn fill(pool: &sqlx::PgPool) {
    let recorded_at = chrono::Utc::now();
    for s in 0..STREAMS {
        let id = uuid::Uuid::new_v4().to_string();
        let events: Vec<NewEvent> = (0..PER_STREAM)
            .map(|i| NewEvent {
                event_type: "ApplicationSubmitted".into(),
                event_version: "1".into(),
                payload: json!({"ApplicationSubmitted": {
                    "application_id": uuid::Uuid::new_v4(),
                    "term_id": uuid::Uuid::new_v4(),
                    "subject_id": uuid::Uuid::new_v4(),
                    "institution": {"name": format!("Gmina Łódź-Śródmieście nr {s}/{i}"), "type": "JST",
                                    "nip": "7251801126", "regon": null},
                    "consent": true,
                    "submitted_at": "2022-06-20T10:00:00Z"
                }}),
                metadata: json!({"actor": "token:bench", "organizer": "rops-torun",
                                 "correlation_id": uuid::Uuid::new_v4(), "causation_id": "load",
                                 "command": "SubmitApplication"}),
            })
            .collect();
        store::append(pool, "StudyVisit", &id, Head::EMPTY, &events, recorded_at)
            .await
            .unwrap();
    }
}

/// Runs the binary to completion and returns (success, peak resident memory in kB).
fn run_measured(args: &[&str], db: &str) -> (bool, u64) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.success(), peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

async fn fingerprint(db: &str) -> (i64, Option<String>) {
    let pool = infra::connect(db, 2).await.unwrap();
    sqlx::query_as(
        "SELECT count(*), md5(string_agg(position || ':' || encode(hash, 'hex'), ',' ORDER BY position))
           FROM events",
    )
    .fetch_one(&pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_log_exports_in_bounded_memory_and_reimports_to_the_same_hashes() {
    let _alone = common::alone().await;
    let source = database_url("kdn_export");
    let _drop_source = tests::DropDatabase::new(&source);
    let pool = infra::connect_and_migrate(&source, 4).await.unwrap();
    fill(&pool).await;
    let first: String = sqlx::query_scalar("SELECT aggregate_id FROM events LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("kdn-export-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("one.jsonl");
    let full = dir.join("all.jsonl");

    // The same binary exporting 100 events and 100,000: memory must not follow the size.
    let (ok, small_peak) = run_measured(
        &[
            "audit",
            "export",
            "--aggregate-type",
            "StudyVisit",
            "--aggregate-id",
            &first,
            "--output",
            small.to_str().unwrap(),
        ],
        &source,
    );
    assert!(ok);
    let (ok, full_peak) = run_measured(
        &["audit", "export", "--output", full.to_str().unwrap()],
        &source,
    );
    assert!(ok);
    let size = std::fs::metadata(&full).unwrap().len();
    eprintln!(
        "export of {} events: {} MB written, peak RSS {} kB (100 events: {} kB)",
        STREAMS * PER_STREAM,
        size / 1_000_000,
        full_peak,
        small_peak
    );
    assert!(size > 50_000_000, "the log is large: {size} bytes");
    assert!(
        full_peak < small_peak + 16 * 1024,
        "memory grew with the export: {small_peak} kB for 100 events, {full_peak} kB for 100,000"
    );

    // Offline check (no database), then import into an empty database.
    let (ok, _) = run_measured(
        &["audit", "check", full.to_str().unwrap()],
        "postgres://nowhere/x",
    );
    assert!(ok, "the offline check passes");
    let target = database_url("kdn_export");
    let _drop_target = tests::DropDatabase::new(&target);
    let (ok, import_peak) = run_measured(&["audit", "import", full.to_str().unwrap()], &target);
    assert!(ok, "the import succeeds");
    assert!(
        import_peak < small_peak + 32 * 1024,
        "import memory: {import_peak} kB"
    );
    assert_eq!(fingerprint(&source).await, fingerprint(&target).await);
    let (count, _) = fingerprint(&target).await;
    assert_eq!(count as usize, STREAMS * PER_STREAM);
    let (ok, _) = run_measured(&["audit", "verify"], &target);
    assert!(ok, "the imported store verifies intact");

    // An import into a store that already holds events is refused, and so is a cut file.
    let (ok, _) = run_measured(&["audit", "import", full.to_str().unwrap()], &target);
    assert!(!ok);
    let cut = dir.join("cut.jsonl");
    let text = std::fs::read_to_string(&small).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n")).unwrap();
    let empty = database_url("kdn_export");
    let _drop_empty = tests::DropDatabase::new(&empty);
    let (ok, _) = run_measured(&["audit", "import", cut.to_str().unwrap()], &empty);
    assert!(!ok, "a file without its trailer is refused");
    let (n, _) = fingerprint(&empty).await;
    assert_eq!(n, 0, "nothing half-imported");
    std::fs::remove_dir_all(&dir).ok();
}
