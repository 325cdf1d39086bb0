//! The real binary gets SIGTERM while requests are in flight: it stops accepting new
//! connections, answers the requests it had started (their commands are stored), and exits
//! 0. Run with `--log-format json`, every log line is a JSON object, request lines carry a
//! request id and a correlation id, and no line carries a query string's personal data.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use tests::database_url;

use crate::common::{self, coordinator_token, free_port, BIN};

fn visit_body(n: usize) -> String {
    json!({
        "title": format!("Wizyta studyjna nr {n}: dobre praktyki ekonomii społecznej"),
        "destination": "województwo wielkopolskie",
        "description": "Prezentacja dobrych praktyk współpracy JST z PES.",
        "eligible_institution_types": ["JST", "PES"],
        "max_per_institution": 2,
        "preferences": [],
        "funding": {"project": "Koordynacja", "programme": "RPO WK-P 2014-2020",
                    "priority_axis": "9", "measure": "9.4", "sub_measure": "9.4.2"}
    })
    .to_string()
}

/// Waits for the child's exit for at most `limit`.
fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the service did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_zero() {
    let _alone = common::alone_blocking();
    let db = database_url("kdn_term");
    let _drop_db = tests::DropDatabase::new(&db);
    let token = coordinator_token(&db);

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let log_path = std::env::temp_dir().join(format!("kdn-term-{}.log", uuid::Uuid::new_v4()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", &addr, "--shutdown-grace-secs", "20"])
        .env("DATABASE_URL", &db)
        .env("KOORDYNATOR_LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "service did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A query string with personal data: the log must show the path only.
    let mut probe = TcpStream::connect(&addr).unwrap();
    write!(
        probe,
        "GET /api/v1/personal-data?email=halina.tajna%40example.org HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // Three requests in flight: headers and half the body sent, the rest after SIGTERM.
    let mut open: Vec<(TcpStream, String)> = (0..3)
        .map(|n| {
            let body = visit_body(n);
            let mut s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            write!(
                s,
                "POST /api/v1/study-visits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            let half = body.len() / 2;
            s.write_all(&body.as_bytes()[..half]).unwrap();
            s.flush().unwrap();
            (s, body[half..].to_owned())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());

    // No new connections once shutdown began.
    let refused_by = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(&addr).is_ok() {
        assert!(Instant::now() < refused_by, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "it waits for the requests in flight"
    );

    let mut ids = Vec::new();
    for (s, rest) in &mut open {
        s.write_all(rest.as_bytes()).unwrap();
        s.flush().unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
        let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");

    // The answered commands are stored.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stored: i64 = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&db).await.unwrap();
        let n = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE aggregate_type = 'StudyVisit' AND aggregate_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        n
    });
    assert_eq!(stored, 3);

    // JSON logs: one object a line; request lines carry both ids; no personal data.
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(
        !logs.contains("halina"),
        "a query string reached the log:\n{logs}"
    );
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "finished processing request")
        .collect();
    assert_eq!(answered.len(), 4, "{logs}");
    for l in &answered {
        let span = &l["spans"][0];
        assert_eq!(span["name"], "request", "{l}");
        assert!(
            uuid::Uuid::parse_str(span["request_id"].as_str().unwrap()).is_ok(),
            "{l}"
        );
        assert!(!span["correlation_id"].as_str().unwrap().is_empty(), "{l}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "stopped" && l["fields"]["clean"] == true),
        "{logs}"
    );
}
