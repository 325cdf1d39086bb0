//! Isolation of organizers and roles, for every route the OpenAPI document lists.
//!
//! The routes are read from the running service's own `/api/v1/openapi.json`, not written
//! down here, so a new route is checked the day it is added: it either refuses callers
//! without the right as API.md says, or it is put on the explicit public list below with
//! its reason. Each route is called
//! (a) with no token: 401;
//! (b) with a coordinator of another organizer (`rops-olsztyn`) on resources of `rops-torun`:
//!     404 (existence is not revealed), or 403 on routes restricted to a role whatever the
//!     resource; a route without a resource in its path answers that caller only about its own
//!     organizer, so no `rops-torun` id may appear in its answer;
//! (c) for commands, with an evaluator token: 403.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tests::{expect, nip, spawn, Answer, TestApp};

/// Routes any caller may use, with the reason. A route missing here that answers without a
/// token fails the test.
const PUBLIC: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/health",
        "load balancers probe it; it reveals only that the database answers",
    ),
    (
        "GET",
        "/ready",
        "load balancers probe it; it reveals only read-model names and event counts behind",
    ),
    (
        "GET",
        "/api/v1/openapi.json",
        "the published API description",
    ),
    (
        "GET",
        "/docs",
        "the documentation page built from the OpenAPI document",
    ),
    (
        "POST",
        "/api/v1/study-visits/{id}/terms/{term_id}/applications",
        "the public application form (API.md: no token); rate-limited per client",
    ),
    (
        "GET",
        "/api/v1/applications/{application_id}",
        "the applicant's own status, proven by X-Applicant-Key (a wrong or missing key is 404)",
    ),
    (
        "POST",
        "/api/v1/applications/{application_id}/withdraw",
        "the applicant's own withdrawal, proven by X-Applicant-Key (a wrong or missing key is 404)",
    ),
    (
        "POST",
        "/api/v1/applications/{application_id}/offer/accept",
        "the applicant accepts a seat offered to them, proven by X-Applicant-Key",
    ),
    (
        "POST",
        "/api/v1/applications/{application_id}/offer/decline",
        "the applicant declines a seat offered to them, proven by X-Applicant-Key",
    ),
    (
        "GET",
        "/api/v1/certificates/{code}",
        "anyone holding a certificate checks its code (API.md: public); 80 random bits, initials only",
    ),
];

/// Routes that a coordinator may not use whatever the resource: (b) answers 403, not 404.
/// (The replays `/audit/.../{id}/verify` are not here: they check a resource, and another
/// organizer's one answers 404 like any other.)
const ROLE_RESTRICTED: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/api/v1/audit/integrity",
        "audit checks are for evaluators and admins",
    ),
    (
        "GET",
        "/api/v1/audit/export",
        "exports are for evaluators and admins",
    ),
    (
        "GET",
        "/api/v1/audit/access-log",
        "the access log is for evaluators and admins",
    ),
    (
        "GET",
        "/api/v1/audit/seals/latest",
        "audit checks are for evaluators and admins",
    ),
];

/// Fewer operations than this in the document means routes went missing from it (and the
/// test would prove little).
const MIN_OPERATIONS: usize = 50;

fn listed(list: &[(&str, &str, &str)], method: &str, path: &str) -> bool {
    list.iter().any(|(m, p, _)| *m == method && *p == path)
}

/// Real resources of `rops-torun`, by path parameter name (per resource family).
struct Fixture {
    visit: String,
    term: String,
    application: String,
    applicant_key: String,
    program: String,
    activity: String,
    network: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let (visit, term) = app
        .open_term(None, 25, "2099-06-27", "2099-06-23T11:00:00+02:00")
        .await;
    let applied = expect(
        app.apply(&visit, &term, "jan.nowak@example.org", &nip(1), "JST")
            .await,
        201,
    );
    let program = expect(
        app.post(
            "/api/v1/programs",
            &app.coordinator,
            json!({"title": "Program współpracy", "kind": "cooperation_programme",
                   "period": {"start": "2013-01-01", "end": "2014-12-31"}, "goals": ["g"],
                   "indicators": [], "partner_application_deadline": null}),
        )
        .await,
        201,
    )
    .str("id");
    let activity = expect(
        app.post(
            &format!("/api/v1/programs/{program}/activities"),
            &app.coordinator,
            json!({"kind": "training", "title": "Szkolenie", "planned": {"month": "2013-05"},
                   "location": "Toruń", "co_organizer": null}),
        )
        .await,
        201,
    )
    .str("activity_id");
    let network = expect(
        app.post(
            "/api/v1/networks",
            &app.coordinator,
            json!({"name": "Sieć", "region": "kujawsko-pomorskie",
                   "member_types": ["CIS", "KIS"], "established_on": "2016-12-08"}),
        )
        .await,
        201,
    )
    .str("id");
    Fixture {
        visit,
        term,
        application: applied.str("application_id"),
        applicant_key: applied.str("applicant_key"),
        program,
        activity,
        network,
    }
}

impl Fixture {
    /// The path with every parameter filled: a real `rops-torun` resource where the route
    /// names one, a random id where no real one is needed (the parent already decides).
    fn fill(&self, path: &str) -> String {
        let id = if path.contains("/programs/") || path.contains("/cooperation-programs/") {
            &self.program
        } else if path.contains("/networks/") {
            &self.network
        } else {
            &self.visit
        };
        let random = uuid::Uuid::new_v4().to_string();
        path.replace("{aggregate_type}", "study-visits")
            .replace("{id}", id)
            .replace("{term_id}", &self.term)
            .replace("{application_id}", &self.application)
            .replace("{activity_id}", &self.activity)
            .replace("{code}", "cus_declared")
            .replace("{consultation_id}", &random)
            .replace("{member_id}", &random)
    }

    fn ids(&self) -> [&str; 6] {
        [
            &self.visit,
            &self.term,
            &self.application,
            &self.program,
            &self.activity,
            &self.network,
        ]
    }
}

/// A valid body for each command, so that what refuses it is the caller's right, not the
/// body's validation (which runs first in many handlers and reveals nothing). A new command
/// without an entry here is answered 422 and fails the test until one is added.
fn body_for(method: &str, path: &str) -> Value {
    let inst = json!({"name": "Gmina Przykładowa", "type": "CIS", "nip": nip(7)});
    let random = uuid::Uuid::new_v4().to_string();
    let tail = path.rsplit('/').next().unwrap_or("");
    match (method, path) {
        ("POST", "/api/v1/study-visits") => tests::visit_body(Some(2)),
        ("POST", "/api/v1/programs") => json!({"title": "Program", "kind": "project",
            "period": {"start": "2020-01-01", "end": "2020-12-31"}, "goals": ["g"], "indicators": []}),
        ("POST", "/api/v1/networks") => json!({"name": "Sieć", "region": "r",
            "member_types": ["CIS"], "established_on": "2016-12-08"}),
        ("POST", "/api/v1/study-visits/{id}/terms") => json!({"label": "II termin",
            "starts_on": "2099-07-01", "ends_on": "2099-07-02", "seats": 5,
            "recruitment_deadline": "2099-06-25T11:00:00+02:00"}),
        ("POST", "/api/v1/study-visits/{id}/terms/{term_id}/dates") => json!({
            "starts_on": "2099-07-01", "ends_on": "2099-07-02",
            "recruitment_deadline": "2099-06-25T11:00:00+02:00"}),
        ("PUT", _) if tail == "institutions" => json!({"nips": [nip(8)]}),
        ("PUT", _) if tail == "information-clause" => {
            json!({"version": "2026-02", "text": "Administratorem danych jest organizator."})
        }
        ("POST", "/api/v1/study-visits/{id}/terms/{term_id}/applications") => {
            tests::application_body("ktos@example.org", &nip(9), "JST")
        }
        ("POST", "/api/v1/programs/{id}/activities") => json!({"kind": "training", "title": "t",
            "planned": {"month": "2013-05"}, "location": "l", "co_organizer": null}),
        ("POST", "/api/v1/programs/{id}/activities/{activity_id}/held") => json!({
            "starts_on": "2013-05-10", "ends_on": "2013-05-10", "participants_total": 10,
            "institutions": [], "notes": "n"}),
        ("POST", "/api/v1/programs/{id}/activities/{activity_id}/reschedule") => {
            json!({"planned": {"month": "2013-06"}})
        }
        ("POST", "/api/v1/programs/{id}/consultations") => json!({"subject": "s",
            "opens_on": "2013-03-01", "closes_on": "2013-03-31"}),
        ("POST", "/api/v1/programs/{id}/consultations/{consultation_id}/comments") => {
            json!({"institution": inst, "text": "t", "submitted_on": "2013-03-10"})
        }
        ("POST", "/api/v1/programs/{id}/evaluation") => json!({"verdict": "achieved",
            "summary": "s", "manual_values": {}, "recommendations": []}),
        ("POST", "/api/v1/programs/{id}/feedback") => json!({"channel": "email",
            "received_on": "2013-06-01", "text": "t", "rating": 5, "institution": null}),
        ("POST", "/api/v1/programs/{id}/partners") => {
            json!({"institution": inst, "channel": "email", "sent_on": "2013-01-10"})
        }
        ("POST", "/api/v1/programs/{id}/testing-period") => json!({"ends_on": "2014-04-30"}),
        ("POST", "/api/v1/networks/{id}/meetings") => json!({"title": "t",
            "when": {"day": "2020-02-07"}, "location": "l", "participants_total": 5, "topics": []}),
        ("POST", "/api/v1/networks/{id}/members") => json!({"institution": inst,
            "declaration": {"signed_on": "2017-01-01", "document_ref": "d"}}),
        ("POST", "/api/v1/networks/{id}/members/{member_id}/leave") => {
            json!({"left_on": "2018-01-01", "reason": "r"})
        }
        ("POST", "/api/v1/networks/{id}/officers") => json!({"role": "chair",
            "person": {"first_name": "Anna", "last_name": "Nowak"}, "member_id": random,
            "term_starts_on": "2017-01-01", "term_ends_on": "2019-01-01"}),
        ("POST", "/api/v1/networks/{id}/regulations") => json!({"version": "1.0", "title": "t",
            "adopted_on": "2016-12-08", "document_ref": "d"}),
        ("POST", _) if tail == "attendance" => json!({"attended": true}),
        ("POST", _) if ["cancel", "release-seat", "allocate", "close"].contains(&tail) => {
            json!({"reason": "r"})
        }
        _ => {
            json!({})
        }
    }
}

/// Sends a command: JSON, or the CSV the schedule import takes.
async fn send(app: &TestApp, method: &str, path: &str, url: &str, token: Option<&str>) -> Answer {
    if method == "GET" {
        return app.call(method, url, token, None).await;
    }
    if path.ends_with("/schedule/import") {
        return app
            .call_raw(
                "POST",
                url,
                token,
                "text/csv",
                "date,title,kind,location,co_organizer\n7.02.2020,Forum,forum,Toruń,\n",
            )
            .await;
    }
    app.call(method, url, token, Some(body_for(method, path)))
        .await
}

/// Required query parameters with a plausible value, so a refusal is about who asks, not
/// about a missing parameter.
fn query(op: &Value) -> String {
    let mut q = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "query" && p["required"] == json!(true) {
            let name = p["name"].as_str().unwrap();
            let value = match name {
                "year" => "2020".to_owned(),
                "email" => "jan.nowak@example.org".to_owned(),
                _ if p["schema"]["type"] == "integer" => "0".to_owned(),
                _ => "x".to_owned(),
            };
            q.push(format!("{name}={value}"));
        }
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

#[tokio::test]
async fn every_route_refuses_callers_without_the_right() {
    let app = spawn().await;
    let f = fixture(&app).await;
    let doc = expect(
        app.call("GET", "/api/v1/openapi.json", None, None).await,
        200,
    )
    .body;
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                operations.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    assert!(
        operations.len() >= MIN_OPERATIONS,
        "the OpenAPI document lists only {} operations",
        operations.len()
    );

    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (method, path, op) in &operations {
        let url = format!("{}{}", f.fill(path), query(op));
        let command = method != "GET";
        let body = command.then(|| body_for(method, path));
        if listed(PUBLIC, method, path) {
            *counts.entry("public (allow-listed)").or_default() += 1;
            // The applicant's routes: without the key they answer 404 even with a token.
            if path.starts_with("/api/v1/applications/") {
                for token in [None, Some(app.other_coordinator.as_str())] {
                    let a = app.call(method, &url, token, body.clone()).await;
                    if a.status != 404 {
                        failures.push(format!(
                            "{method} {path} without X-Applicant-Key: {} (want 404)",
                            a.status
                        ));
                    }
                }
                let wrong = app
                    .call_with(
                        method,
                        &url,
                        None,
                        body.clone(),
                        &[("x-applicant-key", "not-the-key")],
                    )
                    .await;
                if wrong.status != 404 {
                    failures.push(format!(
                        "{method} {path} with a wrong key: {} (want 404)",
                        wrong.status
                    ));
                }
            }
            continue;
        }
        *counts.entry("protected").or_default() += 1;
        // (a) no token.
        let a = send(&app, method, path, &url, None).await;
        if a.status != 401 {
            failures.push(format!(
                "{method} {path} without a token: {} (want 401)",
                a.status
            ));
        }
        // (b) another organizer's coordinator.
        let b = send(&app, method, path, &url, Some(&app.other_coordinator)).await;
        let has_resource = path.contains('{');
        if listed(ROLE_RESTRICTED, method, path) {
            if b.status != 403 {
                failures.push(format!(
                    "{method} {path} as another coordinator: {} (want 403)",
                    b.status
                ));
            }
        } else if has_resource {
            if b.status != 404 {
                failures.push(format!(
                    "{method} {path} as another organizer: {} (want 404) {:?}",
                    b.status, b.body
                ));
            }
        } else if !command {
            // A list or search: answered about the caller's own organizer only.
            let text = b.body.to_string();
            if let Some(id) = f.ids().into_iter().find(|id| text.contains(id)) {
                failures.push(format!("{method} {path} as another organizer reveals {id}"));
            }
        }
        // A creation without a resource in its path makes a resource of the caller's own
        // organizer: nothing of another organizer to protect, only (a) and (c) apply.
        // (c) commands with an evaluator's token.
        if command {
            let c = app
                .call(method, &url, Some(&app.evaluator), body.clone())
                .await;
            if c.status != 403 {
                failures.push(format!(
                    "{method} {path} as an evaluator: {} (want 403)",
                    c.status
                ));
            }
            // The role is refused before the body is read: an invalid body does not turn
            // the 403 into a 422 (which would tell a reader what the command expects).
            let c = app
                .call(method, &url, Some(&app.evaluator), Some(json!({"x": 1})))
                .await;
            if c.status != 403 {
                failures.push(format!(
                    "{method} {path} as an evaluator with an invalid body: {} (want 403)",
                    c.status
                ));
            }
        }
    }
    // The fixture is untouched by all of it: the applicant still sees their application.
    let own = app
        .call_with(
            "GET",
            &format!("/api/v1/applications/{}", f.application),
            None,
            None,
            &[("x-applicant-key", &f.applicant_key)],
        )
        .await;
    assert_eq!(own.status, 200, "{own:?}");
    println!(
        "isolation: {} operations from the OpenAPI document covered ({counts:?})",
        operations.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// An applicant's key is their credential for idempotency too: whoever sends the same
/// `Idempotency-Key` without that applicant's key is another caller, never given the stored
/// answer (nor does the withdrawal happen on their behalf).
#[tokio::test]
async fn a_stored_answer_is_given_only_to_the_applicant_who_earned_it() {
    let app = spawn().await;
    let (visit, term) = app
        .open_term(None, 25, "2099-06-27", "2099-06-23T11:00:00+02:00")
        .await;
    let applied = expect(
        app.apply(&visit, &term, "ola.nowak@example.org", &nip(2), "JST")
            .await,
        201,
    );
    let path = format!(
        "/api/v1/applications/{}/withdraw",
        applied.str("application_id")
    );
    let key = applied.str("applicant_key");
    let mine = [
        ("x-applicant-key", key.as_str()),
        ("idempotency-key", "wycofanie-1"),
    ];
    let first = expect(app.call_with("POST", &path, None, None, &mine).await, 200);
    // The same Idempotency-Key without the applicant's key, or with another: not theirs.
    for theirs in [
        vec![("idempotency-key", "wycofanie-1")],
        vec![
            ("x-applicant-key", "nie-ten-klucz"),
            ("idempotency-key", "wycofanie-1"),
        ],
    ] {
        let a = app.call_with("POST", &path, None, None, &theirs).await;
        assert_eq!(a.status, 404, "{a:?}");
        assert!(a.headers.get("idempotent-replayed").is_none(), "{a:?}");
    }
    // The applicant's own repeat is the stored answer.
    let again = expect(app.call_with("POST", &path, None, None, &mine).await, 200);
    assert_eq!(again.position(), first.position());
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
}
