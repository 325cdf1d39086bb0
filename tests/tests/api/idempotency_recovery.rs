//! An `Idempotency-Key` reservation left behind by a request that never stored its answer
//! (the process was killed, or the database went away after the command committed): a repeat
//! waits while the request could still be running, then is either carried out (nothing was
//! written) or told that it was carried out — never carried out twice.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use sha2::{Digest, Sha256};
use tests::{application_body, nip, spawn, TestApp};

async fn submissions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'ApplicationSubmitted'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn submit(app: &TestApp, path: &str, key: &str, body: &Value) -> tests::Answer {
    app.call_with(
        "POST",
        path,
        None,
        Some(body.clone()),
        &[("idempotency-key", key)],
    )
    .await
}

/// A service with one open term; the path of its public form.
async fn open_term() -> (TestApp, String) {
    let app = spawn().await;
    let visit = app.announce_visit(None).await;
    let term = app
        .schedule_term(&visit, "I", 5, "2030-06-27", "2030-06-01T12:00:00Z")
        .await;
    app.open(&visit, &term).await;
    let path = format!("/api/v1/study-visits/{visit}/terms/{term}/applications");
    (app, path)
}

/// Makes the reservation of `key` look like one whose process died `age_secs` ago before it
/// stored an answer.
async fn abandon(app: &TestApp, key: &str, age_secs: i64) {
    let n = sqlx::query(
        "UPDATE idempotency_keys SET status = NULL, response = NULL, completed_at = NULL, \
         created_at = now() - make_interval(secs => $2) WHERE key = $1",
    )
    .bind(key)
    .bind(age_secs as f64)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(n.rows_affected(), 1);
}

#[tokio::test]
async fn a_lost_answer_is_never_carried_out_twice() {
    let (app, path) = open_term().await;
    let body = application_body("anna@example.org", &nip(1), "JST");

    let first = submit(&app, &path, "key-1", &body).await;
    assert_eq!(first.status, 201, "{first:?}");
    let position = first.position();

    // The command committed, then the answer was lost. While the request could still be
    // running (younger than the lease) a repeat is asked to wait.
    abandon(&app, "key-1", 5).await;
    let waiting = submit(&app, &path, "key-1", &body).await;
    assert_eq!(waiting.status, 409, "{waiting:?}");
    assert_eq!(waiting.body["type"], "/problems/idempotency_in_progress");

    // Past the lease the repeat is told it was carried out, at the position it wrote, and
    // nothing is written again — also for every later repeat.
    abandon(&app, "key-1", infra::idempotency::LEASE_SECS + 10).await;
    for _ in 0..2 {
        let repeat = submit(&app, &path, "key-1", &body).await;
        assert_eq!(repeat.status, 409, "{repeat:?}");
        assert_eq!(repeat.body["type"], "/problems/idempotency_answer_lost");
        assert_eq!(repeat.body["position"], position);
        assert_eq!(repeat.headers["idempotent-replayed"], "true");
    }
    assert_eq!(submissions(&app).await, 1);
}

#[tokio::test]
async fn a_reservation_that_wrote_nothing_is_taken_over_once() {
    let (app, path) = open_term().await;
    let body = application_body("jan@example.org", &nip(2), "PES");

    // A reservation made by a process that died before its command committed.
    let scope = format!("POST {path} public");
    let hash = Sha256::digest(serde_json::to_vec(&body).unwrap()).to_vec();
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) \
         VALUES ($1, 'key-2', $2, now() - interval '1 hour')",
    )
    .bind(&scope)
    .bind(&hash)
    .execute(&app.pool)
    .await
    .unwrap();

    // Eight repeats at once: exactly one carries it out; the others wait or get its answer.
    let answers =
        futures::future::join_all((0..8).map(|_| submit(&app, &path, "key-2", &body))).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert!(created >= 1, "{answers:?}");
    for a in &answers {
        assert!(
            a.status == 201
                || (a.status == 409 && a.body["type"] == "/problems/idempotency_in_progress"),
            "{a:?}"
        );
    }
    assert_eq!(submissions(&app).await, 1, "carried out once");
    let again = submit(&app, &path, "key-2", &body).await;
    assert_eq!(again.status, 201, "{again:?}");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.str("application_id"))
        .chain([again.str("application_id")])
        .collect();
    assert_eq!(ids.len(), 1, "every 201 names the same application");
}

#[tokio::test]
async fn a_request_frees_only_its_own_reservation() {
    use infra::idempotency::{release, reserve, Reservation};
    let app = spawn().await;
    let (scope, hash) = ("POST /x public", b"body".as_slice());
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    assert!(matches!(
        reserve(&app.pool, scope, "k", hash, first).await.unwrap(),
        Reservation::Fresh
    ));
    // A request that never learned whether its reservation was stored frees by its own id:
    // it must not free the reservation another request holds.
    release(&app.pool, scope, "k", second).await.unwrap();
    assert!(matches!(
        reserve(&app.pool, scope, "k", hash, second).await.unwrap(),
        Reservation::InProgress
    ));
    release(&app.pool, scope, "k", first).await.unwrap();
    assert!(matches!(
        reserve(&app.pool, scope, "k", hash, second).await.unwrap(),
        Reservation::Fresh
    ));
}
