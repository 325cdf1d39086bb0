//! Audit replay for evaluators, through HTTP against PostgreSQL:
//! - `?at=` on a roster, a programme evaluation and a network registry answers exactly what
//!   the live read model showed at that moment (recorded after each command of a realistic
//!   history, then asked for afterwards, once everything had changed);
//! - the state of a study visit, a programme and a network at an instant or a sequence,
//!   scoped to the caller's organizer;
//! - the programme check of the evaluation read model against the events, which finds a row
//!   altered behind the projection's back;
//! - a seat given by hand: validated, refused to evaluators, shown on the roster with its
//!   basis `manual`, and re-derived by the visit's verify.
//!
//! People are invented; institutions are identified by generated NIPs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use tests::{expect, institution, nip, Answer, TestApp};

const T1_DEADLINE: &str = "2022-06-23T11:00:00+02:00";

/// An instant strictly after everything written so far and strictly before anything
/// written next (the sleeps keep it clear of both sides), URL-encoded.
async fn instant_now() -> String {
    tokio::time::sleep(Duration::from_millis(30)).await;
    let at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    tokio::time::sleep(Duration::from_millis(30)).await;
    at
}

/// The answer without the fields that are about "now" rather than about the moment:
/// `position` (the read model's checkpoint live, the last event replayed with `?at=`) and
/// `at` (only on replayed answers).
fn about_the_moment(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("position");
        o.remove("at");
    }
    v
}

/// Live answers recorded during a history: (what happened, the instant right after, the
/// live answer then).
#[derive(Default)]
struct Moments(Vec<(String, String, Value)>);

impl Moments {
    /// Reads the live answer of `path` once its read model has `position`, then takes the
    /// instant right after.
    async fn record(&mut self, app: &TestApp, what: &str, path: &str, position: i64) {
        let live = expect(
            app.get(&format!("{path}?min_position={position}"), &app.coordinator)
                .await,
            200,
        );
        assert!(live.body.get("at").is_none(), "a live answer has no at");
        let at = instant_now().await;
        self.0.push((what.to_owned(), at, live.body));
    }

    /// Asks `path?at=` for every recorded instant: each must equal the live answer then.
    async fn check(&self, app: &TestApp, path: &str) {
        assert!(self.0.len() >= 5, "a realistic history");
        for (what, at, live) in &self.0 {
            let replayed = expect(
                app.get(
                    &format!("{path}?at={}", at.replace('+', "%2B")),
                    &app.coordinator,
                )
                .await,
                200,
            );
            assert_eq!(
                replayed.body["at"].as_str().map(|s| s.get(..19)),
                Some(at.get(..19)),
                "after {what}: the replayed answer says which instant"
            );
            assert!(
                replayed.body["position"].as_i64().unwrap() > 0,
                "after {what}: the position of the last event replayed"
            );
            assert_eq!(
                about_the_moment(replayed.body),
                about_the_moment(live.clone()),
                "{path} at {at}, after {what}"
            );
        }
        // The answers did change along the way (so the equality above means something).
        let first = about_the_moment(self.0[0].2.clone());
        let last = about_the_moment(self.0[self.0.len() - 1].2.clone());
        assert_ne!(first, last);
    }
}

// ------------------------------------------------------------------------------------------
// Study visits
// ------------------------------------------------------------------------------------------

/// The seed's first term (27–28 June 2022, deadline 23 June 11:00 Warsaw), opened.
async fn term1(app: &TestApp, visit: &str, seats: u32) -> (String, i64) {
    let t = expect(
        app.post(
            &format!("/api/v1/study-visits/{visit}/terms"),
            &app.coordinator,
            json!({"label": "I termin", "starts_on": "2022-06-27", "ends_on": "2022-06-28",
                   "seats": seats, "recruitment_deadline": T1_DEADLINE}),
        )
        .await,
        201,
    )
    .str("term_id");
    let p = app.open(visit, &t).await.position();
    (t, p)
}

/// A submitted application: its id and the position written.
async fn submit(app: &TestApp, visit: &str, term: &str, email: &str, inst: u32) -> (String, i64) {
    let a = expect(app.apply(visit, term, email, &nip(inst), "JST").await, 201);
    (a.str("application_id"), a.position())
}

async fn coordinator_post(app: &TestApp, path: &str, body: Value) -> i64 {
    expect(app.post(path, &app.coordinator, body).await, 200).position()
}

fn ids(roster: &Value, list: &str) -> Vec<String> {
    roster[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["application_id"].as_str().unwrap().to_owned())
        .collect()
}

fn allocate_path(visit: &str, application: &str) -> String {
    format!("/api/v1/study-visits/{visit}/applications/{application}/allocate")
}

#[tokio::test]
async fn roster_at_each_moment_equals_the_live_roster_then() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    // At most one seat per institution, so that the close passes some over.
    let visit = app.announce_visit(Some(1)).await;
    let (t, p) = term1(&app, &visit, 3).await;
    let roster = format!("/api/v1/study-visits/{visit}/terms/{t}/roster");
    let mut m = Moments::default();
    m.record(&app, "opened", &roster, p).await;

    let (a1, _) = submit(&app, &visit, &t, "a1@gmina-a.pl", 110).await;
    let (a2, p) = submit(&app, &visit, &t, "a2@gmina-b.pl", 120).await;
    m.record(&app, "two applications", &roster, p).await;
    submit(&app, &visit, &t, "a3@gmina-a.pl", 110).await;
    let (_a4, p) = submit(&app, &visit, &t, "a4@gmina-a.pl", 110).await;
    m.record(&app, "a third from one institution", &roster, p)
        .await;
    let p = expect(
        app.call(
            "PUT",
            &format!("/api/v1/study-visits/{visit}/preferences/cus_declared/institutions"),
            Some(&app.coordinator),
            Some(json!({"nips": [nip(120)]})),
        )
        .await,
        200,
    )
    .position();
    m.record(&app, "a preference list", &roster, p).await;
    let (a5, _) = submit(&app, &visit, &t, "a5@gmina-e.pl", 150).await;
    submit(&app, &visit, &t, "a6@gmina-f.pl", 160).await;
    let (_a7, p) = submit(&app, &visit, &t, "a7@gmina-g.pl", 170).await;
    m.record(&app, "seven candidates for three seats", &roster, p)
        .await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/applications/{a5}/withdraw"),
        json!({}),
    )
    .await;
    m.record(&app, "a withdrawal", &roster, p).await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/terms/{t}/close"),
        json!({}),
    )
    .await;
    m.record(&app, "the close", &roster, p).await;
    let closed = &m.0.last().unwrap().2;
    assert_eq!(closed["status"], "closed");
    assert_eq!(ids(closed, "waitlist").len(), 1, "{closed}");
    assert_eq!(ids(closed, "passed_over").len(), 2, "{closed}");
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/applications/{a1}/release-seat"),
        json!({"reason": "Zmiana kadrowa"}),
    )
    .await;
    m.record(&app, "a release and a promotion", &roster, p)
        .await;
    let still_passed_over = ids(&m.0.last().unwrap().2, "passed_over");
    assert_eq!(still_passed_over.len(), 2);
    let p = coordinator_post(
        &app,
        &allocate_path(&visit, &still_passed_over[0]),
        json!({"reason": "Miejsce zwolnione przez partnera projektu"}),
    )
    .await;
    m.record(&app, "a seat given by hand", &roster, p).await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/applications/{a2}/attendance"),
        json!({"attended": true}),
    )
    .await;
    m.record(&app, "attendance", &roster, p).await;
    let last = &m.0.last().unwrap().2;
    // Three seats, a fourth given by hand.
    assert_eq!(last["allocated"].as_array().unwrap().len(), 4, "{last}");
    assert!(
        last["allocated"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == "manual"),
        "{last}"
    );

    m.check(&app, &roster).await;
    // The CSV export answers `?at=` from the same replay.
    let (_, at, _) = &m.0[1];
    let (status, text) = app
        .get_text(
            &format!("{roster}.csv?at={}", at.replace('+', "%2B")),
            &app.coordinator,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(text.lines().count(), 1 + 2);
}

// ------------------------------------------------------------------------------------------
// Programmes
// ------------------------------------------------------------------------------------------

/// The Toruń programme of seed 001 (2013–2014) with indicators of every measure.
async fn torun_programme(app: &TestApp) -> (String, i64) {
    let a = expect(
        app.post(
            "/api/v1/programs",
            &app.coordinator,
            json!({
                "title": "Program współpracy Gminy Miasta Toruń z podmiotami ekonomii społecznej na 2013-2014",
                "kind": "cooperation_programme",
                "period": {"start": "2013-01-01", "end": "2014-12-31"},
                "goals": ["Poprawa współpracy pomiędzy PES a Urzędem Miasta"],
                "indicators": [
                    {"code": "trainings", "label": "Szkolenia", "target": 3, "measure": "activities_held:training"},
                    {"code": "forum", "label": "Forum Ekonomii Społecznej", "target": 1, "measure": "activities_held:forum"},
                    {"code": "participants", "label": "Uczestnicy", "target": 60, "measure": "participants_total"},
                    {"code": "institutions", "label": "Instytucje", "target": 3, "measure": "distinct_institutions"},
                    {"code": "partners", "label": "Partnerzy", "target": 1, "measure": "partners"},
                    {"code": "opinions", "label": "Opinie i propozycje", "target": 2, "measure": "feedback_received"},
                    {"code": "activities", "label": "Działania", "target": 4, "measure": "activities_held"},
                    {"code": "trust", "label": "Wzajemne zaufanie (1-5)", "target": 4, "measure": "manual"}
                ],
                "partner_application_deadline": null
            }),
        )
        .await,
        201,
    );
    (a.str("id"), a.position())
}

async fn plan(app: &TestApp, program: &str, kind: &str, title: &str, day: &str) -> (String, i64) {
    let a = expect(
        app.post(
            &format!("/api/v1/programs/{program}/activities"),
            &app.coordinator,
            json!({"kind": kind, "title": title, "planned": {"day": day}, "location": "Toruń"}),
        )
        .await,
        201,
    );
    (a.str("activity_id"), a.position())
}

async fn held(
    app: &TestApp,
    program: &str,
    activity: &str,
    day: &str,
    participants: u32,
    seeds: &[u32],
) -> i64 {
    let institutions: Vec<Value> = seeds
        .iter()
        .map(|s| institution("PES", &format!("Spółdzielnia socjalna {s}"), *s))
        .collect();
    coordinator_post(
        app,
        &format!("/api/v1/programs/{program}/activities/{activity}/held"),
        json!({"starts_on": day, "ends_on": day, "participants_total": participants,
               "institutions": institutions, "notes": "lista obecności w aktach"}),
    )
    .await
}

async fn feedback(app: &TestApp, program: &str, rating: Value) -> i64 {
    expect(
        app.post(
            &format!("/api/v1/programs/{program}/feedback"),
            &app.coordinator,
            json!({"channel": "email", "received_on": "2014-02-10",
                   "text": "Szkolenie przydatne, prosimy o kolejne", "rating": rating}),
        )
        .await,
        201,
    )
    .position()
}

#[tokio::test]
async fn programme_evaluation_at_each_moment_equals_the_live_evaluation_then() {
    let app = tests::spawn().await;
    let (program, p) = torun_programme(&app).await;
    let evaluation = format!("/api/v1/programs/{program}/evaluation");
    let mut m = Moments::default();
    m.record(&app, "creation", &evaluation, p).await;

    let (t1, _) = plan(&app, &program, "training", "Szkolenie I", "2013-10-14").await;
    let (forum, _) = plan(&app, &program, "forum", "Toruńskie Forum", "2013-11-20").await;
    let (t2, p) = plan(&app, &program, "training", "Szkolenie II", "2014-02-03").await;
    m.record(&app, "three activities planned", &evaluation, p)
        .await;
    let p = held(&app, &program, &t1, "2013-10-14", 25, &[5010, 5020]).await;
    m.record(&app, "a training held", &evaluation, p).await;
    let p = expect(
        app.post(
            &format!("/api/v1/programs/{program}/partners"),
            &app.coordinator,
            json!({"institution": institution("NGO", "Stowarzyszenie Partnerskie", 5030),
                   "channel": "email", "sent_on": "2013-09-01"}),
        )
        .await,
        201,
    )
    .position();
    m.record(&app, "a partner", &evaluation, p).await;
    let p = held(&app, &program, &forum, "2013-11-20", 40, &[5020, 5040]).await;
    m.record(&app, "the forum held", &evaluation, p).await;
    feedback(&app, &program, json!(5)).await;
    let p = feedback(&app, &program, Value::Null).await;
    m.record(&app, "feedback with and without a rating", &evaluation, p)
        .await;
    let p = feedback(&app, &program, json!(4)).await;
    m.record(&app, "another rating", &evaluation, p).await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/programs/{program}/activities/{t2}/cancel"),
        json!({"reason": "Choroba prowadzącego"}),
    )
    .await;
    m.record(&app, "a cancellation", &evaluation, p).await;
    coordinator_post(
        &app,
        &format!("/api/v1/programs/{program}/testing-period"),
        json!({"ends_on": "2014-04-30"}),
    )
    .await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/programs/{program}/evaluation"),
        json!({"verdict": "partially_achieved", "summary": "Cele częściowo osiągnięte.",
               "manual_values": {"trust": 4}, "recommendations": ["Więcej szkoleń"]}),
    )
    .await;
    m.record(&app, "the evaluation", &evaluation, p).await;
    let last = &m.0.last().unwrap().2;
    assert_eq!(last["verdict"], "partially_achieved", "{last}");
    assert_eq!(last["participants_total"], 65, "{last}");
    assert_eq!(last["distinct_institutions"], 3, "{last}");
    assert_eq!(last["feedback"], json!({"count": 3, "average_rating": 4.5}));

    m.check(&app, &evaluation).await;
}

#[tokio::test]
async fn programme_verify_recomputes_the_indicators_and_finds_an_altered_row() {
    let app = tests::spawn().await;
    let (program, _) = torun_programme(&app).await;
    let (t1, _) = plan(&app, &program, "training", "Szkolenie I", "2013-10-14").await;
    held(&app, &program, &t1, "2013-10-14", 25, &[5010, 5020]).await;
    feedback(&app, &program, json!(5)).await;
    let p = feedback(&app, &program, json!(3)).await;
    let verify = format!("/api/v1/audit/cooperation-programs/{program}/verify");

    // Scoping: no token, another organizer, an unknown programme.
    assert_eq!(app.call("GET", &verify, None, None).await.status, 401);
    expect(app.get(&verify, &app.other_coordinator).await, 404);
    expect(
        app.get(
            &format!(
                "/api/v1/audit/cooperation-programs/{}/verify",
                uuid::Uuid::now_v7()
            ),
            &app.evaluator,
        )
        .await,
        404,
    );

    let v = expect(app.get(&verify, &app.evaluator).await, 200);
    assert_eq!(v.body["consistent"], true, "{v:?}");
    assert_eq!(v.body["discrepancies"], json!([]), "{v:?}");
    // Eight indicators and nine figures, plus one kind of activity.
    assert_eq!(v.body["checked"], 8 + 9 + 1, "{v:?}");
    assert_eq!(v.body["pending"], 0, "{v:?}");
    assert_eq!(v.body["position"], p, "{v:?}");

    // The read model may be changed (only events are immutable): change it behind the
    // projection's back and the check names each value that no longer follows the events.
    let changed = sqlx::query(
        "UPDATE rm_program_activities SET participants_total = participants_total + 100
          WHERE activity_id = $1",
    )
    .bind(uuid::Uuid::parse_str(&t1).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    sqlx::query("DELETE FROM rm_program_feedback WHERE program_id = $1 AND rating = 3")
        .bind(uuid::Uuid::parse_str(&program).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();

    let v = expect(app.get(&verify, &app.admin).await, 200);
    assert_eq!(v.body["consistent"], false, "{v:?}");
    let discrepancies = v.body["discrepancies"].as_array().unwrap();
    let find = |key: &str, name: &str| {
        discrepancies
            .iter()
            .find(|d| d[key] == name)
            .unwrap_or_else(|| panic!("no discrepancy for {name}: {v:?}"))
            .clone()
    };
    let participants = find("indicator", "participants");
    assert_eq!(participants["from_events"], 25);
    assert_eq!(participants["read_model"], 125);
    let opinions = find("indicator", "opinions");
    assert_eq!(opinions["from_events"], 2);
    assert_eq!(opinions["read_model"], 1);
    assert_eq!(find("figure", "participants_total")["read_model"], 125);
    assert_eq!(
        find("figure", "feedback.average_rating")["from_events"],
        4.0
    );
    assert_eq!(find("figure", "feedback.average_rating")["read_model"], 5.0);
    let indicators: Vec<&Value> = discrepancies
        .iter()
        .filter(|d| d.get("indicator").is_some())
        .collect();
    assert_eq!(indicators.len(), 2, "only these indicators differ: {v:?}");

    // The live evaluation shows the altered rows; the replay as of now follows the events.
    let live = expect(
        app.get(
            &format!("/api/v1/programs/{program}/evaluation"),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(live.body["participants_total"], 125);
    let at = instant_now().await.replace('+', "%2B");
    let replayed = expect(
        app.get(
            &format!("/api/v1/programs/{program}/evaluation?at={at}"),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(replayed.body["participants_total"], 25);
    assert_eq!(replayed.body["feedback"]["count"], 2);
}

// ------------------------------------------------------------------------------------------
// Networks
// ------------------------------------------------------------------------------------------

async fn join(app: &TestApp, network: &str, kind: &str, name: &str, seed: u32) -> (String, i64) {
    let a = expect(
        app.post(
            &format!("/api/v1/networks/{network}/members"),
            &app.coordinator,
            json!({"institution": institution(kind, name, seed),
                   "declaration": {"signed_on": "2016-12-08", "document_ref": "deklaracja przystąpienia"}}),
        )
        .await,
        201,
    );
    (a.str("member_id"), a.position())
}

async fn elect(app: &TestApp, network: &str, role: &str, member: &str, starts: &str) -> i64 {
    coordinator_post(
        app,
        &format!("/api/v1/networks/{network}/officers"),
        json!({"role": role, "person": {"first_name": "Teresa", "last_name": "Zawadzka-Nowa"},
               "member_id": member, "term_starts_on": starts, "term_ends_on": null}),
    )
    .await
}

async fn establish(app: &TestApp) -> (String, i64) {
    let a = expect(
        app.post(
            "/api/v1/networks",
            &app.coordinator,
            json!({"name": "Regionalna Platforma Współpracy podmiotów reintegracyjnych",
                   "region": "warmińsko-mazurskie", "member_types": ["CIS", "KIS", "ZAZ", "WTZ"],
                   "established_on": "2016-12-08"}),
        )
        .await,
        201,
    );
    (a.str("id"), a.position())
}

#[tokio::test]
async fn network_registry_at_each_moment_equals_the_live_registry_then() {
    let app = tests::spawn().await;
    let (network, p) = establish(&app).await;
    let registry = format!("/api/v1/networks/{network}/registry");
    let mut m = Moments::default();
    m.record(&app, "establishment", &registry, p).await;

    let p = coordinator_post(
        &app,
        &format!("/api/v1/networks/{network}/regulations"),
        json!({"version": "1.0", "title": "Regulamin Platformy", "adopted_on": "2016-12-08",
               "document_ref": "RPW/1/2016"}),
    )
    .await;
    m.record(&app, "regulations", &registry, p).await;
    let (cis, _) = join(
        &app,
        &network,
        "CIS",
        "Centrum Integracji Społecznej w Ełku",
        6010,
    )
    .await;
    let (kis, _) = join(
        &app,
        &network,
        "KIS",
        "Klub Integracji Społecznej w Iławie",
        6020,
    )
    .await;
    let (zaz, p) = join(
        &app,
        &network,
        "ZAZ",
        "Zakład Aktywności Zawodowej w Biskupcu",
        6030,
    )
    .await;
    m.record(&app, "three members", &registry, p).await;
    let p = elect(&app, &network, "chair", &cis, "2016-12-08").await;
    m.record(&app, "a chair", &registry, p).await;
    // Recorded out of date order: the registry lists meetings by date.
    let p = expect(
        app.post(
            &format!("/api/v1/networks/{network}/meetings"),
            &app.coordinator,
            json!({"title": "Spotkanie jesienne", "when": {"from": "2020-10-29", "to": "2020-10-30"},
                   "location": "Olsztyn", "participants_total": 35, "topics": ["ekonomia społeczna"]}),
        )
        .await,
        201,
    )
    .position();
    m.record(&app, "an autumn meeting", &registry, p).await;
    let p = expect(
        app.post(
            &format!("/api/v1/networks/{network}/meetings"),
            &app.coordinator,
            json!({"title": "Spotkanie wiosenne", "when": {"month": "2020-05", "part": "late"},
                   "location": null, "participants_total": 40, "topics": []}),
        )
        .await,
        201,
    )
    .position();
    m.record(&app, "a spring meeting", &registry, p).await;
    let p = elect(&app, &network, "chair", &kis, "2019-01-01").await;
    m.record(&app, "a new chair", &registry, p).await;
    let p = elect(&app, &network, "vice_chair", &zaz, "2019-01-01").await;
    m.record(&app, "a vice-chair", &registry, p).await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/networks/{network}/members/{zaz}/leave"),
        json!({"left_on": "2020-06-30", "reason": "Likwidacja zakładu"}),
    )
    .await;
    m.record(&app, "a member leaving with its office", &registry, p)
        .await;
    let p = coordinator_post(
        &app,
        &format!("/api/v1/networks/{network}/regulations"),
        json!({"version": "2.0", "title": "Regulamin Platformy (zmiana)", "adopted_on": "2020-05-21",
               "document_ref": "RPW/2/2020"}),
    )
    .await;
    m.record(&app, "new regulations", &registry, p).await;
    let last = &m.0.last().unwrap().2;
    assert_eq!(
        last["members_by_type"],
        json!({"CIS": 1, "KIS": 1}),
        "{last}"
    );
    assert_eq!(last["officer_history"].as_array().unwrap().len(), 3);
    assert_eq!(last["officers"].as_array().unwrap().len(), 1);

    m.check(&app, &registry).await;
    // Before the network existed: 404, said plainly.
    let a = expect(
        app.get(
            &format!("{registry}?at=2016-12-08T12:00:00%2B01:00"),
            &app.coordinator,
        )
        .await,
        404,
    );
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("did not exist yet"),
        "{a:?}"
    );
    expect(
        app.get(&format!("{registry}?at=yesterday"), &app.coordinator)
            .await,
        400,
    );
}

// ------------------------------------------------------------------------------------------
// The state of any aggregate
// ------------------------------------------------------------------------------------------

async fn state(app: &TestApp, path: &str, token: &str) -> Answer {
    app.get(path, token).await
}

#[tokio::test]
async fn state_of_each_aggregate_type_at_an_instant_or_a_sequence() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    // A study visit: announced (1), a term (2), opened (3); an application after the instant.
    let visit = app.announce_visit(Some(2)).await;
    let (t, _) = term1(&app, &visit, 2).await;
    let visit_at = instant_now().await;
    submit(&app, &visit, &t, "s1@gmina-s.pl", 210).await;
    // A programme: created (1); an activity after the instant.
    let (program, _) = torun_programme(&app).await;
    let program_at = instant_now().await;
    plan(&app, &program, "training", "Szkolenie I", "2013-10-14").await;
    // A network: established (1), one member (2); another after the instant.
    let (network, _) = establish(&app).await;
    join(&app, &network, "CIS", "CIS w Ełku", 6110).await;
    let network_at = instant_now().await;
    join(&app, &network, "WTZ", "WTZ w Suszu", 6120).await;

    let enc = |s: &str| s.replace('+', "%2B");
    let url = |kind: &str, id: &str, q: &str| format!("/api/v1/audit/{kind}/{id}/state?{q}");

    // StudyVisit.
    let s = expect(
        state(
            &app,
            &url("StudyVisit", &visit, &format!("at={}", enc(&visit_at))),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["aggregate_type"], "StudyVisit");
    assert_eq!(s.body["aggregate_id"], visit.as_str());
    assert_eq!(s.body["sequence"], 3, "{s:?}");
    assert_eq!(s.body["state"]["terms"][0]["status"], "open", "{s:?}");
    assert_eq!(s.body["state"]["applications"], json!({}), "{s:?}");
    let s = expect(
        state(
            &app,
            &url("StudyVisit", &visit, "sequence=1"),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["sequence"], 1);
    assert_eq!(s.body["state"]["terms"], json!([]));
    assert_eq!(s.body["state"]["details"]["organizer"], "rops-torun");
    let s = expect(
        state(&app, &url("study-visits", &visit, ""), &app.coordinator).await,
        200,
    );
    assert_eq!(s.body["sequence"], 4, "the whole history");
    assert_eq!(
        s.body["state"]["applications"].as_object().unwrap().len(),
        1
    );

    // CooperationProgram.
    let s = expect(
        state(
            &app,
            &url(
                "CooperationProgram",
                &program,
                &format!("at={}", enc(&program_at)),
            ),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["sequence"], 1, "{s:?}");
    assert_eq!(s.body["state"]["activities"], json!({}), "{s:?}");
    assert_eq!(
        s.body["state"]["details"]["indicators"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    let s = expect(
        state(
            &app,
            &url("CooperationProgram", &program, "sequence=2"),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["state"]["activities"].as_object().unwrap().len(), 1);

    // Network.
    let s = expect(
        state(
            &app,
            &url("Network", &network, &format!("at={}", enc(&network_at))),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["sequence"], 2, "{s:?}");
    assert_eq!(s.body["state"]["members"].as_array().unwrap().len(), 1);
    let s = expect(
        state(
            &app,
            &url("Network", &network, "sequence=3"),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["state"]["members"].as_array().unwrap().len(), 2);
    // Both bounds: the events meeting both.
    let s = expect(
        state(
            &app,
            &url(
                "Network",
                &network,
                &format!("sequence=1&at={}", enc(&network_at)),
            ),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(s.body["sequence"], 1);

    for (kind, id) in [
        ("StudyVisit", &visit),
        ("CooperationProgram", &program),
        ("Network", &network),
    ] {
        let path = url(kind, id, "sequence=1");
        // No token, another organizer's coordinator.
        assert_eq!(
            app.call("GET", &path, None, None).await.status,
            401,
            "{kind}"
        );
        expect(state(&app, &path, &app.other_coordinator).await, 404);
        // An evaluator of another organizer, and one of every organizer.
        let (_, other_evaluator) = infra::tokens::issue(
            &app.pool,
            infra::tokens::Role::Evaluator,
            Some("rops-olsztyn"),
            "test",
        )
        .await
        .unwrap();
        expect(state(&app, &path, &other_evaluator).await, 404);
        let (_, any_evaluator) =
            infra::tokens::issue(&app.pool, infra::tokens::Role::Evaluator, None, "test")
                .await
                .unwrap();
        expect(state(&app, &path, &any_evaluator).await, 200);
        // Before the first event: it did not exist yet.
        let a = expect(
            state(
                &app,
                &url(kind, id, "at=2020-01-01T00:00:00Z"),
                &app.evaluator,
            )
            .await,
            404,
        );
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap()
                .contains("did not exist yet"),
            "{a:?}"
        );
        expect(
            state(&app, &url(kind, id, "sequence=0"), &app.evaluator).await,
            404,
        );
        // Bad parameters name themselves.
        let a = expect(
            state(&app, &url(kind, id, "at=not-a-time"), &app.evaluator).await,
            400,
        );
        assert_eq!(a.body["errors"][0]["field"], "at");
        let a = expect(
            state(&app, &url(kind, id, "sequence=-1"), &app.evaluator).await,
            400,
        );
        assert_eq!(a.body["errors"][0]["field"], "sequence");
        expect(
            state(&app, &url(kind, id, "sequence=x"), &app.evaluator).await,
            400,
        );
        // The wrong type for the id, an unknown id.
        let wrong = if kind == "Network" {
            "StudyVisit"
        } else {
            "Network"
        };
        expect(state(&app, &url(wrong, id, ""), &app.evaluator).await, 404);
        expect(
            state(
                &app,
                &url(kind, &uuid::Uuid::now_v7().to_string(), ""),
                &app.evaluator,
            )
            .await,
            404,
        );
        expect(
            state(&app, &url(kind, "not-a-uuid", ""), &app.evaluator).await,
            404,
        );
    }
    let a = expect(
        state(&app, &url("Unicorn", &visit, ""), &app.evaluator).await,
        404,
    );
    assert_eq!(a.headers["content-type"], "application/problem+json");
}

// ------------------------------------------------------------------------------------------
// A seat given by hand
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_seat_given_by_hand_is_validated_shown_and_verified() {
    let (app, _clock) = tests::spawn_at_seed_000().await;
    let visit = app.announce_visit(Some(2)).await;
    let (t, _) = term1(&app, &visit, 2).await;
    let (a1, _) = submit(&app, &visit, &t, "m1@gmina-m.pl", 310).await;
    let (a2, _) = submit(&app, &visit, &t, "m2@gmina-n.pl", 320).await;
    let (a3, _) = submit(&app, &visit, &t, "m3@gmina-o.pl", 330).await;
    let (a4, _) = submit(&app, &visit, &t, "m4@gmina-p.pl", 340).await;

    // Before the close nobody waits: refused.
    let path = allocate_path(&visit, &a4);
    let a = expect(
        app.post(&path, &app.coordinator, json!({"reason": "za wcześnie"}))
            .await,
        409,
    );
    assert_eq!(a.headers["content-type"], "application/problem+json");
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/terms/{t}/close"),
        json!({}),
    )
    .await;
    let closed = app.roster(&visit, &t, p).await.body;
    assert_eq!(ids(&closed, "allocated"), vec![a1.clone(), a2.clone()]);
    assert_eq!(ids(&closed, "waitlist"), vec![a3.clone(), a4.clone()]);

    // Validation: the reason is required, not blank, at most 500 characters (422 naming it,
    // as every parsed-but-invalid field in API.md); a body that is not JSON is 400.
    for body in [
        json!({"reason": ""}),
        json!({"reason": "   "}),
        json!({"reason": "x".repeat(501)}),
        json!({"reason": 7}),
    ] {
        let a = expect(app.post(&path, &app.coordinator, body.clone()).await, 422);
        assert_eq!(a.body["errors"][0]["field"], "reason", "{body}: {a:?}");
    }
    let a = expect(app.post(&path, &app.coordinator, json!({})).await, 422);
    assert!(
        a.body["detail"].as_str().unwrap().contains("reason"),
        "{a:?}"
    );
    let res = app
        .call_raw(
            "POST",
            &path,
            Some(&app.coordinator),
            "application/json",
            "{reason:",
        )
        .await;
    assert_eq!(res.status, 400);
    // Who may: not an evaluator (403, whatever it sent), not without a token, not another
    // organizer (404); nobody already holding a seat (409).
    let ok_body = json!({"reason": "Dodatkowe miejsce w autokarze partnera"});
    expect(app.post(&path, &app.evaluator, ok_body.clone()).await, 403);
    expect(
        app.post(&path, &app.evaluator, json!({"reason": ""})).await,
        403,
    );
    assert_eq!(
        app.call("POST", &path, None, Some(ok_body.clone()))
            .await
            .status,
        401
    );
    expect(
        app.post(&path, &app.other_coordinator, ok_body.clone())
            .await,
        404,
    );
    expect(
        app.post(
            &allocate_path(&visit, &a1),
            &app.coordinator,
            ok_body.clone(),
        )
        .await,
        409,
    );
    expect(
        app.post(
            &allocate_path(&visit, &uuid::Uuid::now_v7().to_string()),
            &app.coordinator,
            ok_body.clone(),
        )
        .await,
        404,
    );

    // The seat by hand, to the second on the waiting list: above the seat count, on purpose.
    let p = expect(
        app.post(&path, &app.coordinator, ok_body.clone()).await,
        200,
    )
    .position();
    let roster = app.roster(&visit, &t, p).await.body;
    assert_eq!(
        ids(&roster, "allocated"),
        vec![a1.clone(), a2.clone(), a4.clone()]
    );
    assert_eq!(ids(&roster, "waitlist"), vec![a3.clone()]);
    assert_eq!(roster["seats_left"], 0);
    let by_hand = &roster["allocated"][2];
    assert_eq!(by_hand["rule"], "manual", "{by_hand}");
    assert_eq!(by_hand["rank"], 4, "keeps its rank: {by_hand}");
    assert_eq!(by_hand["reason"], "Dodatkowe miejsce w autokarze partnera");
    let decided_by = by_hand["decided_by"].as_str().unwrap().to_owned();
    assert!(
        decided_by.starts_with("token:"),
        "an actor id, never a name: {by_hand}"
    );
    assert!(
        by_hand["basis"]
            .as_str()
            .unwrap()
            .contains("seat granted by hand by token:"),
        "{by_hand}"
    );
    // A second time: it holds a seat now.
    expect(
        app.post(&path, &app.coordinator, ok_body.clone()).await,
        409,
    );

    // The event names the rule, the reason and who decided: the actor of its metadata.
    let events = app.all_events().await;
    let manual = events
        .iter()
        .find(|e| {
            e["event_type"] == "SeatAllocated"
                && e["payload"]["SeatAllocated"]["basis"]["rule"] == "manual"
        })
        .unwrap();
    let basis = &manual["payload"]["SeatAllocated"]["basis"];
    assert_eq!(basis["reason"], "Dodatkowe miejsce w autokarze partnera");
    assert_eq!(basis["decided_by"], decided_by.as_str());
    assert_eq!(manual["metadata"]["actor"], decided_by.as_str());
    assert_eq!(manual["metadata"]["command"], "AllocateSeatManually");

    // The applicant sees their seat.
    let status = expect(
        app.get(
            &format!(
                "/api/v1/study-visits/{visit}/terms/{t}/roster?at={}",
                instant_now().await.replace('+', "%2B")
            ),
            &app.evaluator,
        )
        .await,
        200,
    );
    assert_eq!(ids(&status.body, "allocated"), ids(&roster, "allocated"));
    assert!(
        status.body["allocated"][2].get("person").is_none(),
        "evaluators see no people"
    );

    let verify = format!("/api/v1/audit/study-visits/{visit}/verify");
    let v = expect(app.get(&verify, &app.evaluator).await, 200);
    assert_eq!(v.body["consistent"], true, "{v:?}");
    // Four decisions at the close, one by hand.
    assert_eq!(v.body["checked"], 5, "{v:?}");
    assert_eq!(
        v.body["manual_decisions"],
        json!([{"application_id": a4, "term_id": t, "decided_by": decided_by,
                "reason": "Dodatkowe miejsce w autokarze partnera", "recorded_by": decided_by,
                "consistent": true}]),
        "{v:?}"
    );

    // Three holders of two seats: the first seat given back promotes nobody, the next does.
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/applications/{a1}/release-seat"),
        json!({"reason": "Rezygnacja"}),
    )
    .await;
    let roster = app.roster(&visit, &t, p).await.body;
    assert_eq!(ids(&roster, "allocated"), vec![a2.clone(), a4.clone()]);
    assert_eq!(ids(&roster, "waitlist"), vec![a3.clone()]);
    let p = coordinator_post(
        &app,
        &format!("/api/v1/study-visits/{visit}/applications/{a2}/withdraw"),
        json!({}),
    )
    .await;
    let roster = app.roster(&visit, &t, p).await.body;
    assert_eq!(ids(&roster, "allocated"), vec![a3.clone(), a4.clone()]);
    assert_eq!(roster["allocated"][0]["rule"], "promotion_below_cap");
    assert_eq!(roster["allocated"][1]["rule"], "manual");

    let v = expect(app.get(&verify, &app.evaluator).await, 200);
    assert_eq!(v.body["consistent"], true, "{v:?}");
    assert_eq!(v.body["checked"], 7, "{v:?}");
    assert_eq!(v.body["discrepancies"], json!([]));
}
