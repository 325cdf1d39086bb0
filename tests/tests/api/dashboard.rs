//! The dashboard page at `/` and `koordynator demo`: the page and its assets are served by
//! the binary without a token; the demo loads the source documents' data through the API's
//! command path into an empty database (live recruitment, a closed roster, programmes,
//! schedule, networks), refuses a database with other data, and on a second run only
//! issues a new sign-in token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use tests::{fresh_database_url, spawn, spawn_with, Options};

#[tokio::test]
async fn the_page_and_its_assets_are_served() {
    let app = spawn().await;
    let get = |path: &'static str| {
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        async move { http.get(url).send().await.expect("answer") }
    };
    let page = get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"pl\">"), "{html}");
    assert!(html.contains("Logowanie"));
    for (path, kind, needle) in [
        ("/assets/app.js", "text/javascript", "/api/v1/study-visits"),
        ("/assets/style.css", "text/css", "progress"),
    ] {
        assert!(html.contains(path), "the page links {path}");
        let a = get(path).await;
        assert_eq!(a.status(), 200, "{path}");
        assert!(a.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert!(a.text().await.unwrap().contains(needle), "{path}");
    }
    // Not a catch-all: an unknown asset is still a 404 problem.
    assert_eq!(get("/assets/nothing.js").await.status(), 404);
}

#[tokio::test]
async fn demo_loads_the_documents_once_and_refuses_other_data() {
    let url = fresh_database_url();
    let _database = tests::DropDatabase::new(&url);
    let pool = infra::connect_and_migrate(&url, 4).await.unwrap();
    let now = chrono::Utc::now();
    let first = service::cli::demo::run(&pool, now).await.unwrap();
    assert!(first.loaded);
    assert_eq!(
        u64::try_from(first.events).unwrap(),
        service::cli::demo::EXPECTED_EVENTS,
        "EXPECTED_EVENTS (the progress line's total) matches what the demo writes"
    );
    // Every event is an ordinary one: hash-chained and with the command's metadata.
    let unsigned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE metadata->>'actor' IS NULL OR metadata->>'correlation_id' IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unsigned, 0);

    // Run again: nothing written, a new token.
    let again = service::cli::demo::run(&pool, now).await.unwrap();
    assert!(!again.loaded);
    assert_eq!(again.events, first.events);
    assert_ne!(again.sign_in_token, first.sign_in_token);

    let app = spawn_with(Options {
        database_url: Some(url),
        ..Options::default()
    })
    .await;
    let token = first.sign_in_token.as_str();
    let integrity = app.get("/api/v1/audit/integrity", token).await;
    assert_eq!(integrity.body["intact"], true, "{integrity:?}");

    // Study visit: term I closed with a roster, term II open with its deadline ahead.
    let visits = app.get("/api/v1/study-visits", token).await;
    let visit = &visits.body["visits"][0];
    let terms = visit["terms"].as_array().unwrap();
    let status: Vec<&str> = terms
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["closed", "open", "planned"]);
    let deadline =
        chrono::DateTime::parse_from_rfc3339(terms[1]["recruitment_deadline"].as_str().unwrap())
            .unwrap();
    assert!(deadline > now + chrono::Duration::days(1));
    assert!(terms[1]["candidates"].as_i64().unwrap() > 0);
    let vid = visit["id"].as_str().unwrap();
    let tid = terms[0]["term_id"].as_str().unwrap();
    let roster = app
        .get(
            &format!("/api/v1/study-visits/{vid}/terms/{tid}/roster"),
            token,
        )
        .await;
    assert_eq!(roster.status, 200, "{roster:?}");
    let len = |k: &str| roster.body[k].as_array().unwrap().len();
    assert_eq!(
        (len("allocated"), roster.body["provisional"].clone()),
        (25, Value::Bool(false))
    );
    assert!(len("waitlist") > 0 && len("passed_over") > 0, "{roster:?}");
    let verify = app
        .get(&format!("/api/v1/audit/study-visits/{vid}/verify"), token)
        .await;
    assert_eq!(verify.body["consistent"], true, "{verify:?}");

    // Programmes with indicators, the 2020 schedule, the networks' registry.
    let programs = app.get("/api/v1/programs", token).await;
    let titles: Vec<&str> = programs.body["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    for p in programs.body["programs"].as_array().unwrap() {
        let e = app
            .get(
                &format!("/api/v1/programs/{}/evaluation", p["id"].as_str().unwrap()),
                token,
            )
            .await;
        assert!(
            e.body["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["actual"].as_f64().unwrap_or(0.0) > 0.0),
            "every programme shows progress: {e:?}"
        );
    }
    let schedule = app.get("/api/v1/schedule?year=2020", token).await;
    let entries: usize = schedule.body["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entries"].as_array().unwrap().len())
        .sum();
    assert!(entries >= 27, "{schedule:?}");
    let networks = app.get("/api/v1/networks", token).await;
    let platform = networks.body["networks"][0]["id"].as_str().unwrap();
    let registry = app
        .get(&format!("/api/v1/networks/{platform}/registry"), token)
        .await;
    assert_eq!(registry.body["members"].as_array().unwrap().len(), 9);
    assert_eq!(registry.body["officers"].as_array().unwrap().len(), 2);

    // A database with other data is refused, and nothing is written to it.
    let other = spawn().await;
    other.announce_visit(Some(2)).await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&other.pool)
        .await
        .unwrap();
    let err = service::cli::demo::run(&other.pool, now).await.unwrap_err();
    assert!(err.to_string().contains("empty database"), "{err}");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&other.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}
