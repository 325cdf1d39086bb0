//! `serve --read-database-url`: reads from a real streaming replica (`pg_basebackup -R` of the
//! test's own primary, on a port of its own), with read-your-writes. A write is read back at
//! once with `?min_position=`; while the replica's replay is paused the same read waits and
//! answers 503 although the primary has the write (so reads really go to the replica), and
//! answers 200 as soon as replay resumes; the audit history waits alike. A replica that dies
//! sends reads to the primary (counted in `/metrics`) without a 5xx; one that comes back
//! takes them again.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;
use tests::{application_body, eventually, nip};

use crate::cluster::Cluster;
use crate::common::{
    self, coordinator_token, open_term, post, serve_with, wait_healthy, KillOnDrop,
};

/// The value of an unlabelled metric in `/metrics`, when present.
async fn metric(http: &reqwest::Client, base: &str, name: &str) -> Option<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Waits until `koordynator_read_replica_up` is `up`.
async fn replica_up(http: &reqwest::Client, base: &str, up: f64) {
    eventually(Duration::from_secs(20), || async {
        (metric(http, base, "koordynator_read_replica_up").await == Some(up)).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("koordynator_read_replica_up never became {up}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_go_to_a_streaming_replica_with_read_your_writes() {
    let _alone = common::alone().await;
    let primary = Cluster::create();
    primary.start();
    let token = coordinator_token(&primary.url()); // creates and migrates `koordynator`
    let replica = Cluster::replica_of(&primary);
    replica.start();
    assert_eq!(replica.psql("SELECT pg_is_in_recovery()"), "t");

    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let _service = KillOnDrop(serve_with(
        &primary.url(),
        port,
        &["--read-database-url", &replica.url()],
    ));
    wait_healthy(&http, &base).await;
    replica_up(&http, &base, 1.0).await;

    let deadline = chrono::Utc::now() + chrono::Duration::days(1);
    let (visit, term) = open_term(&http, &base, &token, 10, deadline).await;
    let submit_url = format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications");
    let submit = |i: u32| {
        let (http, url) = (http.clone(), submit_url.clone());
        async move {
            let body = application_body(&format!("r{i}@example.org"), &nip(i), "JST");
            let (s, v) = post(&http, url, None, &[], body).await.unwrap();
            assert_eq!(s, 201, "{v}");
            (
                v["application_id"].as_str().unwrap().to_owned(),
                v["position"].as_i64().unwrap(),
            )
        }
    };
    let roster = |position: i64| {
        let http = http.clone();
        let url = format!(
            "{base}/api/v1/study-visits/{visit}/terms/{term}/roster?min_position={position}"
        );
        let token = token.clone();
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            let status = r.status().as_u16();
            let retry_after = r.headers().contains_key("retry-after");
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, retry_after, body.to_string())
        }
    };
    let audit = |position: i64| {
        let http = http.clone();
        let url = format!("{base}/api/v1/audit/events?min_position={position}&limit=1000");
        let token = token.clone();
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // 1. Read your writes through the replica.
    let (first, position) = submit(1).await;
    let (status, _, body) = roster(position).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&first),
        "the new application is on the roster: {body}"
    );
    assert_eq!(audit(position).await.0, 200);

    // 2. Replay paused: the primary has the next write, the replica does not, and the read
    // that must see it waits, then answers 503 with Retry-After. It reads the replica.
    assert_eq!(replica.psql("SELECT pg_wal_replay_pause()"), "");
    eventually(Duration::from_secs(10), || async {
        (replica.psql("SELECT pg_get_wal_replay_pause_state()") == "paused").then_some(())
    })
    .await
    .expect("replay pauses");
    let (second, position) = submit(2).await;
    let (status, retry_after, body) = roster(position).await;
    assert_eq!(status, 503, "{body}");
    assert!(retry_after);
    assert_eq!(audit(position).await.0, 503, "the audit history waits too");
    // Without min_position the replica's older state is served at once.
    let (status, _, body) = roster(0).await;
    assert_eq!(status, 200);
    assert!(body.contains(&first) && !body.contains(&second), "{body}");
    assert_eq!(
        metric(&http, &base, "koordynator_read_replica_up").await,
        Some(1.0),
        "a lagging replica that answers keeps the reads"
    );
    assert_eq!(replica.psql("SELECT pg_wal_replay_resume()"), "");
    let (status, _, body) = roster(position).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&second), "{body}");

    // 3. The replica dies: reads go to the primary, counted, with no 5xx once it is noticed.
    replica.crash();
    replica_up(&http, &base, 0.0).await;
    let (third, position) = submit(3).await;
    let (status, _, body) = roster(position).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&third), "{body}");
    let (status, text) = audit(position).await;
    assert_eq!(status, 200, "{text}");
    let fallbacks = metric(&http, &base, "koordynator_read_replica_fallbacks_total")
        .await
        .unwrap_or(0.0);
    assert!(fallbacks >= 2.0, "fallbacks counted: {fallbacks}");

    // 4. It comes back, catches up (the third write happened while it was down), and takes
    // the reads again.
    replica.start();
    replica_up(&http, &base, 1.0).await;
    let (status, _, body) = roster(position).await;
    assert_eq!(status, 200);
    assert!(body.contains(&third), "{body}");
    let (fourth, position) = submit(4).await;
    let (status, _, body) = roster(position).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&fourth), "{body}");
    let counted = metric(&http, &base, "koordynator_read_replica_fallbacks_total")
        .await
        .unwrap_or(0.0);
    let (status, _, _) = roster(position).await;
    assert_eq!(status, 200);
    assert_eq!(
        metric(&http, &base, "koordynator_read_replica_fallbacks_total")
            .await
            .unwrap_or(0.0),
        counted,
        "reads are on the replica again, not counted as fallbacks"
    );
}
