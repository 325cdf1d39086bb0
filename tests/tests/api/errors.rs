//! Every error status of API.md, as RFC 9457 problem documents, and that a refused
//! command writes nothing.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{
    application_body, bad_nip, event_count, instant, nip, spawn, spawn_with, Answer, Options,
    TestApp,
};

const T1_DEADLINE: &str = "2022-06-23T11:00:00+02:00";
const T2_DEADLINE: &str = "2022-06-24T11:00:00+02:00";

async fn term(app: &TestApp, visit: &str, starts: &str, ends: &str, deadline: &str) -> String {
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": "termin", "starts_on": starts, "ends_on": ends, "seats": 3, "recruitment_deadline": deadline}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    a.str("term_id")
}

/// A visit (cap 2) with the seed's first term, opened.
async fn open_visit(app: &TestApp) -> (String, String) {
    let visit = app.announce_visit(Some(2)).await;
    let t = term(app, &visit, "2022-06-27", "2022-06-28", T1_DEADLINE).await;
    app.open(&visit, &t).await;
    (visit, t)
}

fn applications_path(visit: &str, term: &str) -> String {
    format!("/api/v1/study-visits/{visit}/terms/{term}/applications")
}

/// Asserts an answer is a problem document with `status`.
fn assert_problem(a: &Answer, status: u16) {
    assert_eq!(a.status, status, "{a:?}");
    let ct = a.content_type();
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}: {a:?}"
    );
    assert!(
        a.body["type"].as_str().is_some_and(|s| !s.is_empty()),
        "type: {a:?}"
    );
    assert!(
        a.body["title"].as_str().is_some_and(|s| !s.is_empty()),
        "title: {a:?}"
    );
    assert_eq!(a.body["status"], status, "{a:?}");
    assert!(
        a.body["detail"].as_str().is_some_and(|s| !s.is_empty()),
        "detail: {a:?}"
    );
}

/// The fields named in a 422's `errors` (each with a message).
fn error_fields(a: &Answer) -> Vec<String> {
    let errors = a.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array: {a:?}"));
    errors
        .iter()
        .map(|e| {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "message: {e}"
            );
            e["field"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Sends a raw body (for unparsable JSON).
async fn raw(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: &str) -> Answer {
    app.call_raw(method, path, token, "application/json", body.to_owned())
        .await
}

fn body_with(email: &str, nip: &str, kind: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut b = application_body(email, nip, kind);
    edit(&mut b);
    b
}

#[tokio::test]
async fn unparsable_json_is_400() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    let a = raw(
        &app,
        "POST",
        &applications_path(&visit, &t),
        None,
        "{\"person\": {\"first_name\": ",
    )
    .await;
    assert_problem(&a, 400);
    let a = raw(
        &app,
        "POST",
        "/api/v1/study-visits",
        Some(&app.coordinator),
        "to nie jest JSON",
    )
    .await;
    assert_problem(&a, 400);
    let a = raw(
        &app,
        "POST",
        &format!("/api/v1/study-visits/{visit}/terms"),
        Some(&app.coordinator),
        "{\"label\": \"x\",}",
    )
    .await;
    assert_problem(&a, 400);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn invalid_nip_check_digit_is_422_on_institution_nip() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("jan@gmina.pl", &bad_nip(21), "JST")),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["institution.nip"]);
    // Nine digits is no NIP either.
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("jan@gmina.pl", &nip(21)[..9], "JST")),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["institution.nip"]);
    assert_eq!(event_count(&app).await, before);
    // The same form with the right check digit is accepted.
    let ok = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("jan@gmina.pl", &nip(21), "JST")),
        )
        .await;
    assert_eq!(ok.status, 201, "{ok:?}");
}

#[tokio::test]
async fn ineligible_institution_type_is_422_while_kinds_of_pes_are_eligible() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("ola@firma.pl", &nip(22), "OTHER")),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["institution.type"]);
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("ola@firma.pl", &nip(22), "NIEZNANY")),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["institution.type"]);
    assert_eq!(event_count(&app).await, before);
    // CIS is a kind of PES, which the visit admits.
    let ok = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("ola@firma.pl", &nip(22), "CIS")),
        )
        .await;
    assert_eq!(ok.status, 201, "{ok:?}");
}

#[tokio::test]
async fn missing_consent_is_422() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    let without = body_with("ewa@ops.pl", &nip(23), "JOPS", |b| {
        b.as_object_mut().unwrap().remove("consent");
    });
    let a = app
        .call("POST", &applications_path(&visit, &t), None, Some(without))
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["consent"]);
    let refused = body_with("ewa@ops.pl", &nip(23), "JOPS", |b| {
        b["consent"] = json!(false)
    });
    let a = app
        .call("POST", &applications_path(&visit, &t), None, Some(refused))
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["consent"]);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn bad_email_is_422() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    for email in ["bez-malpy.pl", "", "dwie@@malpy.pl"] {
        let a = app
            .call(
                "POST",
                &applications_path(&visit, &t),
                None,
                Some(application_body(email, &nip(24), "JST")),
            )
            .await;
        assert_problem(&a, 422);
        assert_eq!(error_fields(&a), vec!["person.email"], "{email}");
    }
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn several_invalid_fields_are_reported_at_once() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    let body = body_with("zly-adres", &bad_nip(25), "JST", |b| {
        b["consent"] = json!(false);
        b["person"]["first_name"] = json!("");
    });
    let a = app
        .call("POST", &applications_path(&visit, &t), None, Some(body))
        .await;
    assert_problem(&a, 422);
    let mut fields = error_fields(&a);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "consent",
            "institution.nip",
            "person.email",
            "person.first_name"
        ],
        "{a:?}"
    );
    assert_eq!(event_count(&app).await, before);
}

/// A required field left out is named by its own path, wherever it is missing, so a client
/// (and a person reading the error) knows which field to add.
#[tokio::test]
async fn a_missing_required_field_is_named() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let before = event_count(&app).await;
    let visit = json!({"title": "Wizyta", "eligible_institution_types": ["JST"]});
    let a = app
        .call(
            "POST",
            "/api/v1/study-visits",
            Some(&app.coordinator),
            Some(visit),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["destination"], "{a:?}");
    assert_eq!(event_count(&app).await, before);

    let (visit, t) = open_visit(&app).await;
    let before = event_count(&app).await;
    let mut body = body_with("a@przyklad.pl", &tests::nip(7), "JST", |_| {});
    body["person"]
        .as_object_mut()
        .expect("person is an object")
        .remove("last_name");
    let a = app
        .call("POST", &applications_path(&visit, &t), None, Some(body))
        .await;
    assert_problem(&a, 422);
    assert_eq!(error_fields(&a), vec!["person.last_name"], "{a:?}");
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn application_to_a_term_not_open_is_409() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let t = term(&app, &visit, "2022-06-27", "2022-06-28", T1_DEADLINE).await;
    let before = event_count(&app).await;
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("adam@gmina.pl", &nip(26), "JST")),
        )
        .await;
    assert_problem(&a, 409);
    assert_eq!(event_count(&app).await, before);
    // Once opened, the same form is accepted: the refusal kept nothing of it.
    app.open(&visit, &t).await;
    let ok = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("adam@gmina.pl", &nip(26), "JST")),
        )
        .await;
    assert_eq!(ok.status, 201, "{ok:?}");
}

#[tokio::test]
async fn deadline_is_kept_to_the_minute() {
    let (app, clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    // 10:59 Warsaw on the deadline day: still on time.
    clock.set(instant("2022-06-23T10:59:00+02:00"));
    let ok = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("na.czas@gmina.pl", &nip(27), "JST")),
        )
        .await;
    assert_eq!(ok.status, 201, "{ok:?}");
    // 11:00 Warsaw: the deadline has passed.
    clock.set(instant("2022-06-23T11:00:00+02:00"));
    let late = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("za.pozno@gmina.pl", &nip(28), "JST")),
        )
        .await;
    assert_problem(&late, 409);
    // Whatever the watcher did meanwhile, the late application left no trace.
    let submitted: Vec<Value> = app
        .all_events()
        .await
        .into_iter()
        .filter(|e| e["event_type"] == "ApplicationSubmitted")
        .collect();
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    assert_eq!(
        submitted[0]["payload"]["ApplicationSubmitted"]["institution"]["nip"],
        nip(27).as_str()
    );
}

#[tokio::test]
async fn duplicate_live_application_by_the_same_email_is_409_across_terms() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t1) = open_visit(&app).await;
    let t2 = term(&app, &visit, "2022-06-29", "2022-06-30", T2_DEADLINE).await;
    app.open(&visit, &t2).await;
    let first = app
        .call(
            "POST",
            &applications_path(&visit, &t1),
            None,
            Some(application_body(
                "Anna.Nowicka@Gmina-Test.pl",
                &nip(29),
                "JST",
            )),
        )
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    let before = event_count(&app).await;
    let same_term = app
        .call(
            "POST",
            &applications_path(&visit, &t1),
            None,
            Some(application_body(
                "anna.nowicka@gmina-test.pl",
                &nip(29),
                "JST",
            )),
        )
        .await;
    assert_problem(&same_term, 409);
    let other_term = app
        .call(
            "POST",
            &applications_path(&visit, &t2),
            None,
            Some(application_body(
                "ANNA.NOWICKA@GMINA-TEST.PL",
                &nip(30),
                "JST",
            )),
        )
        .await;
    assert_problem(&other_term, 409);
    assert_eq!(event_count(&app).await, before);

    // Another visit is another recruitment.
    let visit2 = app.announce_visit(None).await;
    let t3 = term(&app, &visit2, "2022-06-27", "2022-06-28", T1_DEADLINE).await;
    app.open(&visit2, &t3).await;
    let elsewhere = app
        .call(
            "POST",
            &applications_path(&visit2, &t3),
            None,
            Some(application_body(
                "anna.nowicka@gmina-test.pl",
                &nip(29),
                "JST",
            )),
        )
        .await;
    assert_eq!(elsewhere.status, 201, "{elsewhere:?}");

    // Once withdrawn, the application is no longer live: the person may apply again.
    let id = first.str("application_id");
    let w = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{id}/withdraw"),
            &app.coordinator,
            json!({}),
        )
        .await;
    assert_eq!(w.status, 200, "{w:?}");
    let again = app
        .call(
            "POST",
            &applications_path(&visit, &t2),
            None,
            Some(application_body(
                "anna.nowicka@gmina-test.pl",
                &nip(29),
                "JST",
            )),
        )
        .await;
    assert_eq!(again.status, 201, "{again:?}");
}

#[tokio::test]
async fn reopening_an_open_or_closed_term_is_409() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let open = format!("/api/v1/study-visits/{visit}/terms/{t}/open");
    let close = format!("/api/v1/study-visits/{visit}/terms/{t}/close");
    let again = app.post(&open, &app.coordinator, json!({})).await;
    assert_problem(&again, 409);
    let c = app.post(&close, &app.coordinator, json!({})).await;
    assert_eq!(c.status, 200, "{c:?}");
    let before = event_count(&app).await;
    let reopen = app.post(&open, &app.coordinator, json!({})).await;
    assert_problem(&reopen, 409);
    let reclose = app.post(&close, &app.coordinator, json!({})).await;
    assert_problem(&reclose, 409);
    let apply = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("po@zamknieciu.pl", &nip(31), "JST")),
        )
        .await;
    assert_problem(&apply, 409);
    // Preference lists are frozen once a term has closed.
    let put = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/preferences/cus_declared/institutions"),
            Some(&app.coordinator),
            Some(json!({"nips": [nip(31)]})),
        )
        .await;
    assert_problem(&put, 409);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn release_and_attendance_refusals() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("maria@ops.pl", &nip(32), "JOPS")),
        )
        .await;
    assert_eq!(a.status, 201);
    let id = a.str("application_id");
    let before = event_count(&app).await;
    // Before the close nobody holds a seat.
    let att = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{id}/attendance"),
            &app.coordinator,
            json!({"attended": true}),
        )
        .await;
    assert_problem(&att, 409);
    let rel = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{id}/release-seat"),
            &app.coordinator,
            json!({"reason": "powód"}),
        )
        .await;
    assert_problem(&rel, 409);
    // A release needs a reason.
    let empty = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{id}/release-seat"),
            &app.coordinator,
            json!({"reason": "  "}),
        )
        .await;
    assert_problem(&empty, 422);
    assert_eq!(error_fields(&empty), vec!["reason"]);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn unknown_resources_and_malformed_ids_are_404() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let applied = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("piotr@gmina.pl", &nip(33), "JST")),
        )
        .await;
    assert_eq!(applied.status, 201);
    let key = applied.str("applicant_key");
    let before = event_count(&app).await;
    let unknown = uuid::Uuid::new_v4();
    let tok = &app.coordinator;

    for path in [
        format!("/api/v1/study-visits/{unknown}"),
        format!("/api/v1/study-visits/{unknown}/terms/{t}/roster"),
        format!("/api/v1/study-visits/{visit}/terms/{unknown}/roster"),
        format!("/api/v1/study-visits/{visit}/terms/{unknown}/roster.csv"),
        format!("/api/v1/audit/study-visits/{unknown}/verify"),
        "/api/v1/study-visits/nie-uuid".to_owned(),
        format!("/api/v1/study-visits/{visit}/terms/123/roster"),
        "/api/v1/tego-nie-ma".to_owned(),
    ] {
        let a = app.get(&path, tok).await;
        assert_problem(&a, 404);
    }
    let a = app
        .call(
            "POST",
            &applications_path(&unknown.to_string(), &t),
            None,
            Some(application_body("nowy@gmina.pl", &nip(34), "JST")),
        )
        .await;
    assert_problem(&a, 404);
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &unknown.to_string()),
            None,
            Some(application_body("nowy@gmina.pl", &nip(34), "JST")),
        )
        .await;
    assert_problem(&a, 404);
    let a = app
        .call(
            "POST",
            &applications_path("nie-uuid", "tez-nie"),
            None,
            Some(application_body("nowy@gmina.pl", &nip(34), "JST")),
        )
        .await;
    assert_problem(&a, 404);
    for path in [
        format!("/api/v1/study-visits/{visit}/terms/{unknown}/open"),
        format!("/api/v1/study-visits/{visit}/terms/{unknown}/close"),
        format!("/api/v1/study-visits/{unknown}/terms/{t}/open"),
        format!("/api/v1/study-visits/{visit}/applications/{unknown}/withdraw"),
        format!("/api/v1/study-visits/{visit}/applications/nie-uuid/withdraw"),
    ] {
        let a = app.post(&path, tok, json!({})).await;
        assert_problem(&a, 404);
    }
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{unknown}/release-seat"),
            tok,
            json!({"reason": "x"}),
        )
        .await;
    assert_problem(&a, 404);
    let a = app
        .post(
            &format!("/api/v1/study-visits/{visit}/applications/{unknown}/attendance"),
            tok,
            json!({"attended": true}),
        )
        .await;
    assert_problem(&a, 404);
    let a = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/preferences/nieznana/institutions"),
            Some(tok),
            Some(json!({"nips": []})),
        )
        .await;
    assert_problem(&a, 404);
    // The applicant's endpoints: unknown application, or a known one with a wrong key.
    let a = app
        .call_with(
            "GET",
            &format!("/api/v1/applications/{unknown}"),
            None,
            None,
            &[("X-Applicant-Key", key.as_str())],
        )
        .await;
    assert_problem(&a, 404);
    let a = app
        .call_with(
            "GET",
            "/api/v1/applications/nie-uuid",
            None,
            None,
            &[("X-Applicant-Key", key.as_str())],
        )
        .await;
    assert_problem(&a, 404);
    let id = applied.str("application_id");
    let a = app
        .call_with(
            "POST",
            &format!("/api/v1/applications/{id}/withdraw"),
            None,
            None,
            &[("X-Applicant-Key", "falszywy")],
        )
        .await;
    assert_problem(&a, 404);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn missing_or_bad_token_is_401() {
    let app = spawn().await;
    let visit = app.announce_visit(Some(2)).await;
    let before = event_count(&app).await;
    let roster_path = format!("/api/v1/study-visits/{visit}");
    for token in [None, Some("kdn_niepoprawny"), Some("")] {
        let a = app.call("GET", &roster_path, token, None).await;
        assert_problem(&a, 401);
        let a = app.call("GET", "/api/v1/study-visits", token, None).await;
        assert_problem(&a, 401);
        let a = app
            .call(
                "POST",
                "/api/v1/study-visits",
                token,
                Some(tests::visit_body(Some(2))),
            )
            .await;
        assert_problem(&a, 401);
        let a = app.call("GET", "/api/v1/audit/events", token, None).await;
        assert_problem(&a, 401);
    }
    // A token sent with another scheme is no bearer token.
    let a = app
        .call_with(
            "GET",
            "/api/v1/study-visits",
            None,
            None,
            &[("Authorization", &format!("Basic {}", app.coordinator))],
        )
        .await;
    assert_problem(&a, 401);
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn evaluator_issuing_a_command_is_403() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let (visit, t) = open_visit(&app).await;
    let a = app
        .call(
            "POST",
            &applications_path(&visit, &t),
            None,
            Some(application_body("kasia@gmina.pl", &nip(35), "JST")),
        )
        .await;
    let id = a.str("application_id");
    let applied_at = a.position();
    let before = event_count(&app).await;
    let ev = &app.evaluator;
    let posts = [
        (
            "/api/v1/study-visits".to_owned(),
            tests::visit_body(Some(2)),
        ),
        (
            format!("/api/v1/study-visits/{visit}/terms"),
            json!({"label": "x", "starts_on": "2022-06-29", "ends_on": "2022-06-30", "seats": 3, "recruitment_deadline": T2_DEADLINE}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/terms/{t}/close"),
            json!({}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/terms/{t}/open"),
            json!({}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{id}/withdraw"),
            json!({}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{id}/release-seat"),
            json!({"reason": "x"}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{id}/attendance"),
            json!({"attended": true}),
        ),
    ];
    for (path, body) in posts {
        let a = app.post(&path, ev, body).await;
        assert_problem(&a, 403);
    }
    let a = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/preferences/cus_declared/institutions"),
            Some(ev),
            Some(json!({"nips": []})),
        )
        .await;
    assert_problem(&a, 403);
    assert_eq!(event_count(&app).await, before);
    // Reading is allowed (once the read model has the application).
    let r = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={applied_at}"),
            ev,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn reading_beyond_the_projection_is_503_with_retry_after() {
    let app = spawn_with(Options {
        read_wait: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let visit = app.announce_visit(Some(2)).await;
    let t = app
        .schedule_term(
            &visit,
            "I termin",
            3,
            "2099-06-27",
            "2099-06-23T11:00:00+02:00",
        )
        .await;
    let far = 1_000_000_000;
    for path in [
        format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={far}"),
        format!("/api/v1/study-visits/{visit}?min_position={far}"),
        format!("/api/v1/study-visits?min_position={far}"),
    ] {
        let started = Instant::now();
        let a = app.get(&path, &app.coordinator).await;
        assert_problem(&a, 503);
        let retry = a
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Retry-After: {a:?}"));
        assert!(
            retry.parse::<u64>().is_ok_and(|s| s >= 1),
            "Retry-After {retry}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "waited {:?}",
            started.elapsed()
        );
    }
    // A position already processed answers at once.
    let ok = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position=1"),
            &app.coordinator,
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
}
