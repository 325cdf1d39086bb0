//! What IT staff rely on: `/metrics` after real traffic (route templates, statuses,
//! latency, commands by outcome, projection lag), `/ready` turning 503 while a read model
//! trails, request and correlation ids on every answer and in the events' metadata.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use tests::{spawn, spawn_with, Options, TestApp};

/// One scrape: series (name with labels, as printed) → value.
async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, BTreeMap<String, f64>) {
    let mut req = app.http.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    if status != 200 {
        return (status, ct, BTreeMap::new());
    }
    let series = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect();
    (status, ct, series)
}

fn value(series: &BTreeMap<String, f64>, name: &str) -> f64 {
    *series
        .get(name)
        .unwrap_or_else(|| panic!("no series {name} in {:#?}", series.keys()))
}

#[tokio::test]
async fn metrics_after_traffic_name_route_templates_outcomes_and_lags() {
    let app = spawn().await;
    let visit = app.announce_visit(Some(2)).await;
    let term = app
        .schedule_term(&visit, "I termin", 5, "2031-06-27", "2031-06-20T12:00:00Z")
        .await;
    let opened = app.open(&visit, &term).await;
    // Opening again is refused by the domain: a rejected command.
    let again = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{term}/open"),
            &app.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(again.status, 409, "{again:?}");
    let detail = app
        .get(
            &format!(
                "/api/v1/study-visits/{visit}?min_position={}",
                opened.position()
            ),
            &app.coordinator,
        )
        .await;
    assert_eq!(detail.status, 200, "{detail:?}");
    let missing = app.get("/no/such/route", &app.coordinator).await;
    assert_eq!(missing.status, 404);

    let (status, ct, series) = scrape(&app, None).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    // Requests by route template and status, never by raw path.
    let detail_route = r#"method="GET",route="/api/v1/study-visits/{id}",status="200""#;
    assert!(
        value(
            &series,
            &format!("koordynator_http_requests_total{{{detail_route}}}")
        ) >= 1.0
    );
    assert!(
        value(
            &series,
            r#"koordynator_http_requests_total{method="POST",route="/api/v1/study-visits/{id}/terms/{term_id}/open",status="409"}"#
        ) >= 1.0
    );
    assert!(
        value(
            &series,
            r#"koordynator_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ) >= 1.0
    );
    assert!(
        series
            .keys()
            .all(|k| !k.contains(&visit) && !k.contains("/no/such")),
        "no raw paths or ids in labels"
    );
    // The latency histogram: count matches the +Inf bucket, buckets never decrease, time spent.
    let count = value(
        &series,
        &format!("koordynator_http_request_duration_seconds_count{{{detail_route}}}"),
    );
    assert!(count >= 1.0);
    let sum = value(
        &series,
        &format!("koordynator_http_request_duration_seconds_sum{{{detail_route}}}"),
    );
    assert!(sum > 0.0 && sum < 60.0 * count, "{sum}");
    let buckets: Vec<f64> = ["0.001", "0.01", "0.1", "1", "10", "+Inf"]
        .iter()
        .map(|le| {
            value(
                &series,
                &format!("koordynator_http_request_duration_seconds_bucket{{{detail_route},le=\"{le}\"}}"),
            )
        })
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets.last().copied(), Some(count));
    // Commands by outcome.
    assert!(
        value(
            &series,
            r#"koordynator_commands_total{aggregate="StudyVisit",outcome="ok"}"#
        ) >= 3.0
    );
    assert!(
        value(
            &series,
            r#"koordynator_commands_total{aggregate="StudyVisit",outcome="rejected"}"#
        ) >= 1.0
    );
    // Each projection's lag, in events and seconds.
    for p in projections::all() {
        for unit in ["events", "seconds"] {
            let v = value(
                &series,
                &format!(
                    "koordynator_projection_lag_{unit}{{projection=\"{}\"}}",
                    p.name()
                ),
            );
            assert!(v.is_finite() && v >= 0.0, "{} {unit}: {v}", p.name());
        }
    }
    assert_eq!(value(&series, "koordynator_database_up"), 1.0);
}

#[tokio::test]
async fn metrics_can_require_a_scrape_token() {
    let app = spawn_with(Options {
        metrics_token: Some("zbieracz-metryk".into()),
        ..Options::default()
    })
    .await;
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("inny")).await.0, 401);
    assert_eq!(
        scrape(&app, Some(&app.admin)).await.0,
        401,
        "an API token is not it"
    );
    let (status, _, series) = scrape(&app, Some("zbieracz-metryk")).await;
    assert_eq!(status, 200);
    assert!(series.contains_key("koordynator_database_up"));
}

#[tokio::test]
async fn ready_is_503_while_a_read_model_trails_and_200_once_it_caught_up() {
    let app = spawn_with(Options {
        ready_max_lag: 0,
        ..Options::default()
    })
    .await;
    let ready = app.call("GET", "/ready", None, None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["database"], "ok");
    let names: Vec<&str> = ready.body["projections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut all: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
    all.sort_unstable();
    assert_eq!(names, all);

    // Hold the study_visits projection's lock: it cannot apply what is written meanwhile.
    let mut hold = app.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('koordynator.projection.' || $1))")
        .bind("study_visits")
        .execute(&mut *hold)
        .await
        .unwrap();
    app.announce_visit(Some(2)).await;
    let trailing = tests::eventually(Duration::from_secs(10), || async {
        let r = app.call("GET", "/ready", None, None).await;
        (r.status == 503).then_some(r)
    })
    .await
    .expect("not ready while study_visits trails");
    assert_eq!(trailing.body["status"], "not_ready");
    let sv = trailing.body["projections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "study_visits")
        .unwrap()
        .clone();
    assert_eq!(sv["caught_up"], false, "{sv}");
    assert!(sv["lag_events"].as_i64().unwrap() >= 1, "{sv}");
    assert!(sv["lag_seconds"].as_f64().unwrap() >= 0.0, "{sv}");
    // /health stays 200: the service is alive, only not ready.
    assert_eq!(app.call("GET", "/health", None, None).await.status, 200);

    hold.rollback().await.unwrap();
    tests::eventually(Duration::from_secs(10), || async {
        let r = app.call("GET", "/ready", None, None).await;
        (r.status == 200).then_some(())
    })
    .await
    .expect("ready again once the projection caught up");
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_a_correlation_id() {
    let app = spawn().await;
    let header = |a: &tests::Answer, name: &str| -> String {
        a.headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing: {a:?}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    // Nothing given: a fresh request id, which is also the correlation id.
    let plain = app.call("GET", "/health", None, None).await;
    let id = header(&plain, "x-request-id");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(header(&plain, "x-correlation-id"), id);
    let next = app.call("GET", "/health", None, None).await;
    assert_ne!(header(&next, "x-request-id"), id, "one id per request");

    // A client's X-Request-Id becomes the correlation id; the request id is always ours.
    let given = app
        .call_with("GET", "/health", None, None, &[("X-Request-Id", "lb-7f3a")])
        .await;
    assert_eq!(header(&given, "x-correlation-id"), "lb-7f3a");
    assert_ne!(header(&given, "x-request-id"), "lb-7f3a");
    // X-Correlation-Id wins over X-Request-Id.
    let both = app
        .call_with(
            "GET",
            "/health",
            None,
            None,
            &[
                ("X-Request-Id", "lb-7f3a"),
                ("X-Correlation-Id", "sprawa-2026/11"),
            ],
        )
        .await;
    assert_eq!(header(&both, "x-correlation-id"), "sprawa-2026/11");
    // A malformed one is not taken (nor logged).
    let bad = app
        .call_with(
            "GET",
            "/health",
            None,
            None,
            &[("X-Correlation-Id", "<script>alert(1)</script>")],
        )
        .await;
    assert_eq!(
        header(&bad, "x-correlation-id"),
        header(&bad, "x-request-id")
    );
    // Errors carry them too.
    let missing = app.call("GET", "/nic-tu-nie-ma", None, None).await;
    assert_eq!(missing.status, 404);
    assert!(!header(&missing, "x-request-id").is_empty());

    // A command's events carry the correlation id in their metadata.
    let a = app
        .call_with(
            "POST",
            "/api/v1/study-visits",
            Some(&app.coordinator),
            Some(tests::visit_body(Some(2))),
            &[("X-Request-Id", "portal-req-42")],
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let request_id = header(&a, "x-request-id");
    let events = app.all_events().await;
    let created = events
        .iter()
        .find(|e| e["aggregate_id"] == a.str("id").as_str())
        .unwrap();
    assert_eq!(
        created["metadata"]["correlation_id"], "portal-req-42",
        "{created}"
    );
    assert_eq!(
        created["metadata"]["causation_id"],
        format!("request:{request_id}").as_str(),
        "{created}"
    );
}
