//! Abuse of the public form and of the API: the per-client submission limit (429 with
//! Retry-After), oversized bodies (413 problem+json), deeply nested JSON (400 naming the
//! reason), and answers to a duplicate e-mail that reveal nothing about other recruitments.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use tests::{application_body, nip, spawn, spawn_with, Answer, Options, TestApp};

fn is_problem(a: &Answer) -> bool {
    a.content_type().starts_with("application/problem+json")
}

/// A visit with one open term far in the future; returns (visit, term).
async fn open_term(app: &TestApp) -> (String, String) {
    app.open_term(None, 25, "2099-06-27", "2099-06-23T11:00:00+02:00")
        .await
}

/// Sends `body` as raw bytes with a JSON content type.
async fn post_raw(app: &TestApp, path: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
    app.call_raw("POST", path, token, "application/json", body)
        .await
}

#[tokio::test]
async fn submissions_over_the_limit_are_429_with_retry_after() {
    let app = spawn_with(Options {
        submission_rate_limit: 2,
        submission_burst: 3,
        ..Options::default()
    })
    .await;
    let (visit, term) = open_term(&app).await;
    let mut position = 0;
    for i in 0..3 {
        let a = app
            .apply(
                &visit,
                &term,
                &format!("osoba{i}@example.org"),
                &nip(i),
                "JST",
            )
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        position = a.position();
    }
    let a = app
        .apply(&visit, &term, "osoba9@example.org", &nip(9), "JST")
        .await;
    assert_eq!(a.status, 429, "{a:?}");
    assert!(is_problem(&a), "{a:?}");
    assert_eq!(a.body["status"], json!(429));
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    // 2 a minute: the next one is allowed within 30 s.
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    // Nothing was recorded for the refused one, and other routes are not limited.
    let roster = app.roster(&visit, &term, position).await;
    let listed = ["allocated", "waitlist", "passed_over"]
        .iter()
        .map(|k| roster.body[k].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    assert_eq!(listed, 3, "{roster:?}");
    println!("429 after 3 submissions, Retry-After: {retry} s");
}

#[tokio::test]
async fn huge_bodies_are_413_problems() {
    let app = spawn().await;
    let (visit, term) = open_term(&app).await;
    let mut body = application_body("duzy@example.org", &nip(1), "JST");
    body["person"]["job_title"] = json!("x".repeat(300 * 1024));
    let bytes = serde_json::to_vec(&body).unwrap();
    // The public form (JSON extractor).
    let a = post_raw(
        &app,
        &format!("/api/v1/study-visits/{visit}/terms/{term}/applications"),
        None,
        bytes.clone(),
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert!(is_problem(&a), "{a:?}");
    assert_eq!(a.body["type"], json!("/problems/payload_too_large"));
    // A route that takes the raw body (the schedule CSV) answers the same way.
    let p = app
        .post(
            "/api/v1/programs",
            &app.coordinator,
            json!({"title": "Program", "kind": "project", "period": {"start": "2020-01-01", "end": "2020-12-31"},
                   "goals": ["g"], "indicators": []}),
        )
        .await;
    assert_eq!(p.status, 201, "{p:?}");
    let res = app
        .call_raw(
            "POST",
            &format!("/api/v1/programs/{}/schedule/import?year=2020", p.str("id")),
            Some(&app.coordinator),
            "text/csv",
            "a".repeat(300 * 1024),
        )
        .await;
    assert_eq!(res.status, 413);
    assert_eq!(
        res.headers["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
}

#[tokio::test]
async fn deeply_nested_json_is_400_naming_the_reason() {
    let app = spawn().await;
    let (visit, term) = open_term(&app).await;
    let mut body = application_body("gleboki@example.org", &nip(2), "JST");
    // serde_json's own recursion limit is 128, so the deep text is spliced in by hand.
    body["person"]["job_title"] = json!("PLACEHOLDER");
    let text = serde_json::to_string(&body).unwrap().replace(
        "\"PLACEHOLDER\"",
        &format!("{}{}", "[".repeat(100), "]".repeat(100)),
    );
    let a = post_raw(
        &app,
        &format!("/api/v1/study-visits/{visit}/terms/{term}/applications"),
        None,
        text.into_bytes(),
    )
    .await;
    assert_eq!(a.status, 400, "{a:?}");
    assert!(is_problem(&a), "{a:?}");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("nested too deeply"),
        "{a:?}"
    );
    // Even far past any parser's recursion limit, the answer is the same.
    let a = post_raw(
        &app,
        "/api/v1/study-visits",
        Some(&app.coordinator),
        "[".repeat(200_000).into_bytes(),
    )
    .await;
    assert_eq!(a.status, 400, "{a:?}");
    assert!(is_problem(&a), "{a:?}");
}

/// The keys of an answer's body, sorted: the shape a client sees.
fn shape(a: &Answer) -> Vec<String> {
    let mut keys: Vec<String> = a
        .body
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_duplicate_email_reveals_no_other_recruitment() {
    let app = spawn().await;
    let (visit_a, term_a) = open_term(&app).await;
    let term_a2 = app
        .schedule_term(
            &visit_a,
            "II termin",
            25,
            "2099-09-27",
            "2099-09-23T11:00:00+02:00",
        )
        .await;
    app.open(&visit_a, &term_a2).await;
    let (visit_b, term_b) = open_term(&app).await;
    let email = "anna.kowalska@example.org";

    let first = app.apply(&visit_a, &term_a, email, &nip(10), "JST").await;
    assert_eq!(first.status, 201, "{first:?}");
    // The same person applying to another visit is answered exactly like a newcomer.
    let elsewhere = app.apply(&visit_b, &term_b, email, &nip(10), "JST").await;
    let newcomer = app
        .apply(&visit_b, &term_b, "nowa.osoba@example.org", &nip(11), "JST")
        .await;
    assert_eq!(elsewhere.status, 201, "{elsewhere:?}");
    assert_eq!(newcomer.status, 201, "{newcomer:?}");
    assert_eq!(shape(&elsewhere), shape(&newcomer));

    // A duplicate within the visit (the same term, or its other term) is refused with one
    // neutral message that names no visit, term, application or other e-mail.
    let same_term = app.apply(&visit_a, &term_a, email, &nip(12), "JST").await;
    let other_term = app.apply(&visit_a, &term_a2, email, &nip(12), "JST").await;
    for a in [&same_term, &other_term] {
        assert_eq!(a.status, 409, "{a:?}");
        assert_eq!(a.body["type"], json!("/problems/duplicate_application"));
        let text = a.body.to_string();
        for secret in [
            visit_a.as_str(),
            visit_b.as_str(),
            term_a.as_str(),
            term_a2.as_str(),
            term_b.as_str(),
            &first.str("application_id"),
            email,
        ] {
            assert!(!text.contains(secret), "{secret} revealed in {text}");
        }
    }
    assert_eq!(same_term.body, other_term.body);
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(Options {
        header_read_timeout: std::time::Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    // Slowloris: the start of a request, then one header byte now and then, never the end.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if slow.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(std::time::Duration::from_millis(1), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            // hyper may answer 408 before closing; either way the connection ends.
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
    }
    let took = started.elapsed();
    assert!(closed, "the connection stayed open for {took:?}");
    assert!(
        took < std::time::Duration::from_secs(3),
        "cut after {took:?}, want about 1 s"
    );
    // Everyone else is served as usual.
    let health = app.call("GET", "/health", None, None).await;
    assert_eq!(health.status, 200);
}
