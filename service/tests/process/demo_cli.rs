//! The real binary's `demo`: the sign-in token alone on stdout (so `TOKEN=$(koordynator demo)`
//! works), a second run writes nothing and prints a new token, a database with other data is
//! refused with a clear message; `serve --demo` loads an empty database and the printed token
//! reads the API.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use tests::database_url;

use crate::common::{self, free_port, BIN};

fn run(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn demo_prints_only_the_token_on_stdout_and_refuses_other_data() {
    let _alone = common::alone_blocking();
    let db = database_url("kdn_democli");
    let _drop_db = tests::DropDatabase::new(&db);
    let first = run(&db, &["demo"]);
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8(first.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("kdn_"), "{stdout}");
    let stderr = String::from_utf8(first.stderr).unwrap();
    assert!(stderr.contains("demo loaded: 169 events"), "{stderr}");
    // Commands are not logged one by one (the progress line would be buried).
    assert!(!stderr.contains("command committed"), "{stderr}");

    let again = run(&db, &["demo"]);
    assert!(again.status.success(), "{again:?}");
    let token2 = String::from_utf8(again.stdout).unwrap();
    assert!(token2.trim().starts_with("kdn_") && token2.trim() != lines[0]);
    assert!(String::from_utf8(again.stderr)
        .unwrap()
        .contains("already loaded (169 events)"));

    // Another database with something else in it.
    let other = database_url("kdn_democli_other");
    let _drop_other = tests::DropDatabase::new(&other);
    let token = run(&other, &["token", "issue", "--role", "admin"]);
    let token = String::from_utf8(token.stdout).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = free_port();
    let mut server = Command::new(BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &other)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let created = rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http
                .get(format!("http://127.0.0.1:{port}/health"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        http.post(format!("http://127.0.0.1:{port}/api/v1/networks"))
            .bearer_auth(token.trim())
            .json(&serde_json::json!({"organizer": "rops-torun", "name": "Sieć", "region": "kujawsko-pomorskie",
                "member_types": ["CIS"], "established_on": "2020-01-01"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(created.as_u16(), 201);
    let refused = run(&other, &["demo"]);
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty(), "no token for a refused demo");
    let message = String::from_utf8(refused.stderr).unwrap();
    assert!(
        message.contains("not the demo's") && message.contains("empty database"),
        "{message}"
    );
}

#[test]
fn serve_demo_loads_an_empty_database_and_prints_a_working_token() {
    let _alone = common::alone_blocking();
    let db = database_url("kdn_servedemo");
    let _drop_db = tests::DropDatabase::new(&db);
    let port = free_port();
    let mut server = Command::new(BIN)
        .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr to its end on a thread, so the service never writes into a closed pipe.
    let stderr = server.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(t) = line.trim().strip_prefix("sign-in token (read-only): ") {
                let _ = tx.send(t.to_owned());
            }
        }
    });
    let token = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve --demo prints a token");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = rt.block_on(async {
        let http = reqwest::Client::new();
        let mut last = None;
        for _ in 0..200 {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/api/v1/programs"))
                .bearer_auth(&token)
                .send()
                .await
            {
                last = Some((r.status().as_u16(), r.text().await.unwrap()));
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        last.unwrap()
    });
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Liderzy kooperacji"), "{body}");
}
