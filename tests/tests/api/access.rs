//! Roles and organizers kept apart (API.md, Conventions): coordinators act only for their own
//! organizer, evaluators read without personal data and cannot act, the admin sees
//! everything, revoked tokens stop working, and applying needs no token.
#![allow(clippy::unwrap_used)]

use infra::tokens::{self, Role};
use serde_json::{json, Value};
use tests::{application_body, event_count, nip, spawn, visit_body, TestApp};

const DEADLINE: &str = "2099-06-23T11:00:00+02:00";

/// A visit of `rops-torun` with one open term and two applications (one of them allocated
/// after the close, one waiting), read back after the close. Returns (visit, term, ids, position).
async fn torun_visit(app: &TestApp) -> (String, String, Vec<String>, i64) {
    let (visit, t) = app.open_term(Some(2), 1, "2099-06-27", DEADLINE).await;
    let mut ids = Vec::new();
    for (i, email) in ["halina.testowa@gops-a.pl", "marek.przykladowy@gops-b.pl"]
        .iter()
        .enumerate()
    {
        let a = app
            .apply(&visit, &t, email, &nip(60 + i as u32), "JST")
            .await;
        assert_eq!(a.status, 201, "{a:?}");
        ids.push(a.str("application_id"));
    }
    let c = app.close(&visit, &t).await;
    app.roster(&visit, &t, c.position()).await;
    (visit, t, ids, c.position())
}

async fn issue(app: &TestApp, role: Role, organizer: Option<&str>) -> (uuid::Uuid, String) {
    tokens::issue(&app.pool, role, organizer, "test")
        .await
        .unwrap()
}

fn assert_problem_401(a: &tests::Answer) {
    assert_eq!(a.status, 401, "{a:?}");
    let ct = a.content_type();
    assert!(ct.starts_with("application/problem+json"), "{a:?}");
}

fn entries(roster: &Value) -> Vec<&Value> {
    ["allocated", "waitlist", "passed_over"]
        .iter()
        .flat_map(|l| roster[*l].as_array().unwrap())
        .collect()
}

fn listed_ids(list: &Value) -> Vec<String> {
    list["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn another_organizers_coordinator_cannot_see_or_touch_the_visit() {
    let app = spawn().await;
    let (visit, t, ids, pos) = torun_visit(&app).await;
    let own = app
        .post(
            "/api/v1/study-visits",
            &app.other_coordinator,
            visit_body(None),
        )
        .await;
    assert_eq!(own.status, 201, "{own:?}");
    let own_id = own.str("id");
    let other = &app.other_coordinator;

    for path in [
        format!("/api/v1/study-visits/{visit}?min_position={pos}"),
        format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={pos}"),
        format!("/api/v1/study-visits/{visit}/terms/{t}/roster.csv"),
        format!("/api/v1/audit/study-visits/{visit}/verify"),
    ] {
        let a = app.get(&path, other).await;
        assert_eq!(a.status, 404, "{path}: {a:?}");
    }
    let list = app
        .get(
            &format!("/api/v1/study-visits?min_position={}", own.position()),
            other,
        )
        .await;
    assert_eq!(list.status, 200, "{list:?}");
    assert_eq!(listed_ids(&list.body), vec![own_id.clone()]);
    let asked = app
        .get("/api/v1/study-visits?organizer=rops-torun", other)
        .await;
    assert!(listed_ids(&asked.body).is_empty(), "{asked:?}");
    // The audit history of another organizer is not theirs either.
    app.all_events().await;
    let audit = app.get("/api/v1/audit/events?limit=1000", other).await;
    assert_eq!(audit.status, 200, "{audit:?}");
    let events = audit.body["events"].as_array().unwrap();
    assert!(!events.is_empty(), "own visit's events expected");
    assert!(
        events.iter().all(|e| e["aggregate_id"] == own_id.as_str()),
        "{audit:?}"
    );

    let before = event_count(&app).await;
    let a = &ids[0];
    let posts = [
        (
            format!("/api/v1/study-visits/{visit}/terms"),
            json!({"label": "x", "starts_on": "2099-06-29", "ends_on": "2099-06-30", "seats": 3, "recruitment_deadline": DEADLINE}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/terms/{t}/open"),
            json!({}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/terms/{t}/close"),
            json!({}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{a}/withdraw"),
            json!({}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{a}/release-seat"),
            json!({"reason": "x"}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{a}/attendance"),
            json!({"attended": true}),
        ),
    ];
    for (path, body) in posts {
        let r = app.post(&path, other, body).await;
        assert_eq!(r.status, 404, "{path}: {r:?}");
    }
    let put = app
        .call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/preferences/cus_declared/institutions"),
            Some(other),
            Some(json!({"nips": [nip(1)]})),
        )
        .await;
    assert_eq!(put.status, 404, "{put:?}");
    // Announcing for another organizer is not allowed either.
    let mut body = visit_body(None);
    body["organizer"] = json!("rops-torun");
    let foreign = app.post("/api/v1/study-visits", other, body).await;
    assert!(
        foreign.status == 403 || foreign.status == 404,
        "{foreign:?}"
    );
    assert_eq!(event_count(&app).await, before);

    // The owner still sees the seat held.
    let r = app.roster(&visit, &t, pos).await;
    assert_eq!(r.body["allocated"][0]["application_id"], ids[0].as_str());
}

#[tokio::test]
async fn evaluator_reads_rosters_without_people_and_audits_but_cannot_act() {
    let app = spawn().await;
    let (visit, t, ids, pos) = torun_visit(&app).await;
    let ev = &app.evaluator;
    let r = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={pos}"),
            ev,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let all = entries(&r.body);
    assert_eq!(all.len(), 2, "{r:?}");
    assert!(all.iter().all(|e| e.get("person").is_none()), "{r:?}");
    assert!(!r.body.to_string().contains("halina.testowa"), "{r:?}");
    let (status, text) = app
        .get_text(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster.csv"),
            ev,
        )
        .await;
    assert_eq!(status, 200);
    assert!(text.contains(ids[0].as_str()), "{text}");
    assert!(
        !text.contains("halina.testowa") && !text.contains("Wiśniewska"),
        "{text}"
    );

    let settled = app.all_events().await;
    let audit = app.get("/api/v1/audit/events?limit=1000", ev).await;
    assert_eq!(audit.status, 200, "{audit:?}");
    let seen: Vec<&Value> = audit.body["events"].as_array().unwrap().iter().collect();
    assert_eq!(seen.len(), settled.len(), "{audit:?}");
    assert!(
        seen.iter()
            .zip(&settled)
            .all(|(a, b)| a["position"] == b["position"]),
        "{audit:?}"
    );
    let v = app
        .get(&format!("/api/v1/audit/study-visits/{visit}/verify"), ev)
        .await;
    assert_eq!(v.status, 200, "{v:?}");
    assert_eq!(v.body["consistent"], true, "{v:?}");
    let d = app.get(&format!("/api/v1/study-visits/{visit}"), ev).await;
    assert_eq!(d.status, 200, "{d:?}");

    let before = event_count(&app).await;
    let a = &ids[0];
    for (path, body) in [
        (
            format!("/api/v1/study-visits/{visit}/applications/{a}/attendance"),
            json!({"attended": true}),
        ),
        (
            format!("/api/v1/study-visits/{visit}/applications/{a}/release-seat"),
            json!({"reason": "x"}),
        ),
        ("/api/v1/study-visits".to_owned(), visit_body(Some(2))),
    ] {
        let r = app.post(&path, ev, body).await;
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    assert_eq!(event_count(&app).await, before);
}

#[tokio::test]
async fn evaluator_of_another_organizer_gets_404_and_one_without_organizer_reads_all() {
    let app = spawn().await;
    let (visit, t, _ids, pos) = torun_visit(&app).await;
    let (_, olsztyn) = issue(&app, Role::Evaluator, Some("rops-olsztyn")).await;
    for path in [
        format!("/api/v1/study-visits/{visit}?min_position={pos}"),
        format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={pos}"),
        format!("/api/v1/audit/study-visits/{visit}/verify"),
    ] {
        let a = app.get(&path, &olsztyn).await;
        assert_eq!(a.status, 404, "{path}: {a:?}");
    }
    let audit = app.get("/api/v1/audit/events?limit=1000", &olsztyn).await;
    assert_eq!(audit.status, 200, "{audit:?}");
    assert_eq!(audit.body["events"], json!([]), "{audit:?}");

    let (_, everywhere) = issue(&app, Role::Evaluator, None).await;
    let r = app
        .get(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={pos}"),
            &everywhere,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        entries(&r.body).iter().all(|e| e.get("person").is_none()),
        "{r:?}"
    );
    let open = app
        .post(
            &format!("/api/v1/study-visits/{visit}/terms/{t}/open"),
            &everywhere,
            json!({}),
        )
        .await;
    assert_eq!(open.status, 403, "{open:?}");
}

#[tokio::test]
async fn admin_sees_everything_and_coordinators_see_people() {
    let app = spawn().await;
    let (visit, t, ids, pos) = torun_visit(&app).await;
    let other = app
        .post(
            "/api/v1/study-visits",
            &app.other_coordinator,
            visit_body(None),
        )
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    let other_id = other.str("id");

    let list = app
        .get(
            &format!("/api/v1/study-visits?min_position={}", other.position()),
            &app.admin,
        )
        .await;
    assert_eq!(list.status, 200, "{list:?}");
    let mut seen = listed_ids(&list.body);
    seen.sort();
    let mut expected = vec![visit.clone(), other_id.clone()];
    expected.sort();
    assert_eq!(seen, expected);
    let own_list = app.get("/api/v1/study-visits", &app.coordinator).await;
    assert_eq!(listed_ids(&own_list.body), vec![visit.clone()]);
    let d = app
        .get(&format!("/api/v1/study-visits/{other_id}"), &app.admin)
        .await;
    assert_eq!(d.status, 200, "{d:?}");
    assert_eq!(d.body["organizer"], "rops-olsztyn");

    for token in [&app.admin, &app.coordinator] {
        let r = app
            .get(
                &format!("/api/v1/study-visits/{visit}/terms/{t}/roster?min_position={pos}"),
                token,
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        let allocated = &r.body["allocated"][0];
        assert_eq!(allocated["application_id"], ids[0].as_str());
        assert_eq!(
            allocated["person"],
            json!({"first_name": "Zofia", "last_name": "Wiśniewska", "email": "halina.testowa@gops-a.pl"}),
            "{r:?}"
        );
        let waiting = &r.body["waitlist"][0];
        assert_eq!(
            waiting["person"]["email"], "marek.przykladowy@gops-b.pl",
            "{r:?}"
        );
    }
    app.all_events().await;
    let audit = app.get("/api/v1/audit/events?limit=1000", &app.admin).await;
    let aggregates: std::collections::BTreeSet<&str> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["aggregate_id"].as_str().unwrap())
        .collect();
    assert!(
        aggregates.contains(visit.as_str()) && aggregates.contains(other_id.as_str()),
        "{aggregates:?}"
    );

    // The admin may act for any organizer.
    let t2 = app
        .post(
            &format!("/api/v1/study-visits/{other_id}/terms"),
            &app.admin,
            json!({"label": "I termin", "starts_on": "2099-06-27", "ends_on": "2099-06-28", "seats": 2, "recruitment_deadline": DEADLINE}),
        )
        .await;
    assert_eq!(t2.status, 201, "{t2:?}");
}

#[tokio::test]
async fn revoked_tokens_are_refused() {
    let app = spawn().await;
    let announced = app
        .post(
            "/api/v1/study-visits",
            &app.coordinator,
            visit_body(Some(2)),
        )
        .await;
    assert_eq!(announced.status, 201, "{announced:?}");
    let visit = format!(
        "{}?min_position={}",
        announced.str("id"),
        announced.position()
    );
    let (id, token) = issue(&app, Role::Coordinator, Some("rops-torun")).await;
    let ok = app
        .get(&format!("/api/v1/study-visits/{visit}"), &token)
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(tokens::revoke(&app.pool, id).await.unwrap());
    let a = app
        .get(&format!("/api/v1/study-visits/{visit}"), &token)
        .await;
    assert_problem_401(&a);
    let before = event_count(&app).await;
    let a = app
        .post("/api/v1/study-visits", &token, visit_body(Some(2)))
        .await;
    assert_problem_401(&a);
    assert_eq!(event_count(&app).await, before);
    // Other tokens keep working.
    let still = app
        .get(&format!("/api/v1/study-visits/{visit}"), &app.coordinator)
        .await;
    assert_eq!(still.status, 200, "{still:?}");
}

#[tokio::test]
async fn applying_needs_no_token() {
    let app = spawn().await;
    let (visit, t) = app.open_term(Some(2), 3, "2099-06-27", DEADLINE).await;
    let a = app
        .call(
            "POST",
            &format!("/api/v1/study-visits/{visit}/terms/{t}/applications"),
            None,
            Some(application_body("bez.tokenu@gops.pl", &nip(70), "OWES")),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    assert!(!a.str("applicant_key").is_empty());
    let r = app.roster(&visit, &t, a.position()).await;
    assert_eq!(
        r.body["allocated"][0]["application_id"],
        a.str("application_id").as_str()
    );
    // The applicant follows it without a token, with the key only.
    let s = app
        .call_with(
            "GET",
            &format!("/api/v1/applications/{}", a.str("application_id")),
            None,
            None,
            &[("X-Applicant-Key", a.str("applicant_key").as_str())],
        )
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    assert_eq!(s.body["status"], "submitted");
}

#[tokio::test]
async fn an_expired_token_stops_working_by_itself() {
    let app = spawn().await;
    let now = chrono::Utc::now();
    let (_, live) = tokens::issue_until(
        &app.pool,
        Role::Coordinator,
        Some("rops-torun"),
        "na rok",
        Some(now + chrono::Duration::days(365)),
    )
    .await
    .unwrap();
    let (_, ended) = tokens::issue_until(
        &app.pool,
        Role::Coordinator,
        Some("rops-torun"),
        "wczorajszy",
        Some(now - chrono::Duration::days(1)),
    )
    .await
    .unwrap();
    assert_eq!(app.get("/api/v1/study-visits", &live).await.status, 200);
    let refused = app.get("/api/v1/study-visits", &ended).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    let command = app
        .post("/api/v1/study-visits", &ended, visit_body(None))
        .await;
    assert_eq!(command.status, 401, "{command:?}");
    let listed = tokens::list(&app.pool).await.unwrap();
    let ended_info = listed.iter().find(|t| t.name == "wczorajszy").unwrap();
    assert!(ended_info.expires_at.is_some_and(|e| e < now));
}
